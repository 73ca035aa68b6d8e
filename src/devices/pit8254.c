/* Intel 8254 programmable interval timer (see pit8254.h).
 *
 * Conventions. A "tick" is a PIT clock edge, numbered from cycle 0; edges 1..k have happened by
 * any cycle c with x86_pit_tick_at_cycle(c) == k. Something written at cycle c takes effect on
 * "the next CLK pulse", edge tick(c) + 1, as the datasheet says of count loads and triggers
 * ("Operation": the CE is loaded on the next CLK pulse after the count is written; GATE is
 * sampled on the rising edge of CLK). A counter's state is a description of its sequence
 * from an edge, not a value updated per clock, so any edge can be evaluated directly.
 */
#include "devices/pit8254.h"

#include <string.h>

#define NO_TICK UINT64_MAX
#define CONTROL_PORT 3

/* Control word (datasheet "Control Word Format"): SC1 SC0 RW1 RW0 M2 M1 M0 BCD */
#define CONTROL_SELECT(word) ((unsigned)(word) >> 6)
#define CONTROL_ACCESS(word) (((unsigned)(word) >> 4) & 3u)
#define CONTROL_MODE(word) (((unsigned)(word) >> 1) & 7u)
#define CONTROL_BCD 0x01u
#define SELECT_READ_BACK 3u
#define ACCESS_LATCH 0u
#define ACCESS_LOW 1u
#define ACCESS_HIGH 2u
#define ACCESS_LOW_HIGH 3u
/* Read-back command (datasheet "Read-Back Command"): 1 1 /COUNT /STATUS CNT2 CNT1 CNT0 0 */
#define READ_BACK_NO_COUNT 0x20u
#define READ_BACK_NO_STATUS 0x10u
#define READ_BACK_COUNTER(n) (0x02u << (n))
/* Status byte (datasheet "Status Byte"): OUTPUT NULL-COUNT RW1 RW0 M2 M1 M0 BCD */
#define STATUS_OUTPUT 0x80u
#define STATUS_NULL_COUNT 0x40u

/* Port 0x61 (PC/AT technical reference, system control port B) */
#define PORT_B_GATE2 0x01u
#define PORT_B_SPEAKER 0x02u
#define PORT_B_WRITABLE 0x0Fu
#define PORT_B_REFRESH 0x10u
#define PORT_B_OUT2 0x20u

/* ------------------------------------------------------------------ modes as data */

/* What GATE does (datasheet "Gate Pin Operations Summary") */
enum gate_role {
    GATE_ENABLES,             /* modes 0, 4: low disables counting, high enables it */
    GATE_TRIGGERS,            /* modes 1, 5: a rising edge (re)loads the count; level ignored */
    GATE_ENABLES_AND_RELOADS, /* modes 2, 3: low stops counting and sets OUT high, rising reloads */
};

/* What a whole count written to CR does */
enum count_write {
    WRITE_LOADS_NEXT_CLOCK,   /* modes 0, 4: loaded on the next CLK pulse, counting restarts */
    WRITE_WAITS_FOR_TRIGGER,  /* modes 1, 5: used by the next GATE trigger */
    WRITE_LOADS_AT_CYCLE_END, /* modes 2, 3: the current period (half-cycle in mode 3) ends first */
};

/* The shape of OUT */
enum out_shape {
    OUT_HIGH_AT_TERMINAL,     /* mode 0: low from the count write until the CE reaches 0 */
    OUT_LOW_UNTIL_TERMINAL,   /* mode 1: low from the load after a trigger until the CE reaches 0 */
    OUT_RATE,                 /* mode 2: low for one clock when the CE reaches 1, period N */
    OUT_SQUARE,               /* mode 3: high ceil(N/2) clocks, low floor(N/2) clocks */
    OUT_STROBE_AT_TERMINAL,   /* modes 4, 5: low for the one clock at which the CE reaches 0 */
};

struct mode_behaviour {
    bool out_high_after_control_word; /* "OUT will be initially high/low" in each mode's text */
    enum gate_role gate;
    enum count_write write;
    enum out_shape out;
    bool periodic;                    /* the CE reloads itself from CR (modes 2, 3) */
};

static const struct mode_behaviour mode_table[6] = {
    [0] = { false, GATE_ENABLES, WRITE_LOADS_NEXT_CLOCK, OUT_HIGH_AT_TERMINAL, false },
    [1] = { true, GATE_TRIGGERS, WRITE_WAITS_FOR_TRIGGER, OUT_LOW_UNTIL_TERMINAL, false },
    [2] = { true, GATE_ENABLES_AND_RELOADS, WRITE_LOADS_AT_CYCLE_END, OUT_RATE, true },
    [3] = { true, GATE_ENABLES_AND_RELOADS, WRITE_LOADS_AT_CYCLE_END, OUT_SQUARE, true },
    [4] = { true, GATE_ENABLES, WRITE_LOADS_NEXT_CLOCK, OUT_STROBE_AT_TERMINAL, false },
    [5] = { true, GATE_TRIGGERS, WRITE_WAITS_FOR_TRIGGER, OUT_STROBE_AT_TERMINAL, false },
};

static const struct mode_behaviour *behaviour(const struct x86_pit_channel *ch)
{
    return &mode_table[ch->mode];
}

/* ------------------------------------------------------------------ exact time conversion */

/* a * b as a 128-bit number in two 64-bit halves */
static void multiply_wide(uint64_t a, uint64_t b, uint64_t *high, uint64_t *low)
{
    uint64_t a_low = (uint32_t)a, a_high = a >> 32;
    uint64_t b_low = (uint32_t)b, b_high = b >> 32;
    uint64_t low_low = a_low * b_low, low_high = a_low * b_high;
    uint64_t high_low = a_high * b_low, high_high = a_high * b_high;
    uint64_t middle = (low_low >> 32) + (uint32_t)low_high + (uint32_t)high_low;
    *low = (middle << 32) | (uint32_t)low_low;
    *high = high_high + (low_high >> 32) + (high_low >> 32) + (middle >> 32);
}

/* floor((high:low) / divisor) with its remainder; UINT64_MAX when the quotient does not fit */
static uint64_t divide_wide(uint64_t high, uint64_t low, uint64_t divisor, uint64_t *remainder)
{
    if (high == 0) {
        *remainder = low % divisor;
        return low / divisor;
    }
    if (high >= divisor) {
        *remainder = 0;
        return UINT64_MAX;
    }
    /* restoring division, a bit at a time; the partial remainder stays below 2 * divisor, so
     * the bit shifted out of it (carry) means "at least divisor" */
    uint64_t partial = high, quotient = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t carry = partial >> 63;
        partial = (partial << 1) | ((low >> bit) & 1u);
        quotient <<= 1;
        if (carry || partial >= divisor) {
            partial -= divisor;
            quotient |= 1;
        }
    }
    *remainder = partial;
    return quotient;
}

static uint64_t greatest_common_divisor(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

uint64_t x86_pit_tick_at_cycle(const struct x86_pit *pit, uint64_t cycle)
{
    uint64_t high, low, remainder;
    multiply_wide(cycle, pit->clock_numerator, &high, &low);
    return divide_wide(high, low, pit->clock_denominator, &remainder);
}

uint64_t x86_pit_cycle_at_tick(const struct x86_pit *pit, uint64_t tick)
{
    uint64_t high, low, remainder;
    multiply_wide(tick, pit->clock_denominator, &high, &low);
    uint64_t cycle = divide_wide(high, low, pit->clock_numerator, &remainder);
    if (cycle == UINT64_MAX)
        return UINT64_MAX;
    return cycle + (remainder != 0); /* the first cycle at or after the edge */
}

static uint64_t now_tick(const struct x86_pit *pit)
{
    return x86_pit_tick_at_cycle(pit, *pit->cycles);
}

/* ------------------------------------------------------------------ count encodings */

static uint32_t modulus(const struct x86_pit_channel *ch)
{
    return ch->bcd ? 10000u : 65536u;
}

/* Register encoding -> ordinal. Invalid BCD digits (undefined on the chip) count at their
 * binary nibble value, reduced modulo 10000. */
static uint32_t ordinal_from_register(const struct x86_pit_channel *ch, uint16_t value)
{
    if (!ch->bcd)
        return value;
    uint32_t ordinal = (uint32_t)(value >> 12) * 1000u + ((value >> 8) & 15u) * 100u +
                       ((value >> 4) & 15u) * 10u + (value & 15u);
    return ordinal % 10000u;
}

static uint16_t register_from_ordinal(const struct x86_pit_channel *ch, uint32_t ordinal)
{
    ordinal %= modulus(ch);
    if (!ch->bcd)
        return (uint16_t)ordinal;
    return (uint16_t)(((ordinal / 1000u) << 12) | (((ordinal / 100u) % 10u) << 8) |
                      (((ordinal / 10u) % 10u) << 4) | (ordinal % 10u));
}

/* The count CR holds as a number of clocks: 0 is the maximum, 65536 (10000 in BCD)
 * (datasheet "Minimum and Maximum Initial Counts") */
static uint32_t initial_count(const struct x86_pit_channel *ch)
{
    uint32_t count = ordinal_from_register(ch, ch->count_register);
    return count ? count : modulus(ch);
}

/* Mode 3 splits N clocks into a high half of ceil(N/2) and a low half of floor(N/2): for odd
 * N the datasheet's "(N+1)/2 counts high, (N-1)/2 counts low". */
static uint32_t square_high_clocks(uint32_t period)
{
    return period - period / 2;
}

/* ------------------------------------------------------------------ a counter at an edge */

/* The CE as an ordinal at edge tick (the counter is settled to tick, tick >= base_tick) */
static uint32_t counting_element_ordinal(const struct x86_pit_channel *ch, uint64_t tick)
{
    if (!ch->counting)
        return ordinal_from_register(ch, ch->held_count);
    uint64_t elapsed = tick - ch->base_tick;
    uint32_t mod = modulus(ch);
    switch (behaviour(ch)->out) {
    case OUT_RATE:
        /* N, N-1, ..., 1, then N again (datasheet "Mode 2") */
        return (ch->period - (uint32_t)(elapsed % ch->period)) % mod;
    case OUT_SQUARE: {
        /* each half-cycle starts at N rounded down to even and steps down by 2 (datasheet
         * "Mode 3": odd counts load N-1) */
        uint32_t position = (uint32_t)((elapsed + ch->phase) % ch->period);
        uint32_t high_clocks = square_high_clocks(ch->period);
        uint32_t step = position < high_clocks ? position : position - high_clocks;
        return ((ch->period & ~1u) - 2u * step) % mod;
    }
    default:
        /* one-shot modes keep counting down and wrap after the terminal count */
        return (ch->base_value + mod - (uint32_t)(elapsed % mod)) % mod;
    }
}

static bool output_at(const struct x86_pit_channel *ch, uint64_t tick)
{
    const struct mode_behaviour *b = behaviour(ch);
    if (!b->periodic)
        return !(ch->out_low_from <= tick && tick < ch->out_high_at);
    if (!ch->counting)
        return true; /* modes 2, 3: OUT high after the control word and while GATE is low */
    uint64_t elapsed = tick - ch->base_tick;
    if (b->out == OUT_RATE) {
        /* count 1 is illegal in mode 2; mechanically OUT then stays low while counting */
        return ch->period != 1 && elapsed % ch->period != ch->period - 1;
    }
    return (elapsed + ch->phase) % ch->period < square_high_clocks(ch->period);
}

/* The first edge after tick at which OUT changes on the current sequence, ignoring a pending
 * CR -> CE transfer; NO_TICK when it never will */
static uint64_t next_change_in_sequence(const struct x86_pit_channel *ch, uint64_t tick)
{
    const struct mode_behaviour *b = behaviour(ch);
    if (!b->periodic) {
        if (ch->out_low_from > tick && ch->out_low_from < ch->out_high_at)
            return ch->out_low_from;
        if (ch->out_high_at > tick)
            return ch->out_high_at;
        return NO_TICK;
    }
    if (!ch->counting || ch->period == 1)
        return NO_TICK;
    uint64_t elapsed = tick - ch->base_tick;
    uint32_t period = ch->period;
    if (b->out == OUT_RATE) {
        uint32_t position = (uint32_t)(elapsed % period);
        return position < period - 1 ? tick + (period - 1 - position) : tick + 1;
    }
    uint32_t position = (uint32_t)((elapsed + ch->phase) % period);
    uint32_t high_clocks = square_high_clocks(period);
    return tick + (position < high_clocks ? high_clocks - position : period - position);
}

static void apply_load(struct x86_pit_channel *ch);

/* The first edge after tick at which OUT changes, NO_TICK when it never will without another
 * access. A pending transfer is followed on a copy of the counter, so the edge is exact. */
static uint64_t next_output_change(const struct x86_pit_channel *ch, uint64_t tick)
{
    uint64_t next = next_change_in_sequence(ch, tick);
    if (!ch->load_pending || ch->load_tick == NO_TICK || ch->load_tick <= tick ||
        next < ch->load_tick)
        return next;
    struct x86_pit_channel loaded = *ch;
    apply_load(&loaded);
    if (output_at(&loaded, ch->load_tick) != output_at(ch, ch->load_tick - 1))
        return ch->load_tick;
    return next_change_in_sequence(&loaded, ch->load_tick);
}

/* ------------------------------------------------------------------ state changes */

/* OUT around a terminal count at edge terminal, for the one-shot modes */
static void set_output_for_terminal(struct x86_pit_channel *ch, uint64_t load_tick,
                                    uint64_t terminal)
{
    switch (behaviour(ch)->out) {
    case OUT_HIGH_AT_TERMINAL:
        ch->out_low_from = 0;
        ch->out_high_at = terminal;
        break;
    case OUT_LOW_UNTIL_TERMINAL:
        /* low from the load; a retrigger during the pulse only moves its end (datasheet
         * "Mode 1": retriggerable), as the edges before the load are never evaluated again */
        ch->out_low_from = load_tick;
        ch->out_high_at = terminal;
        break;
    default:
        ch->out_low_from = terminal;
        ch->out_high_at = terminal + 1;
        break;
    }
}

/* Modes 0 and 4 when counting stops before the terminal count: OUT waits with it */
static void postpone_terminal(struct x86_pit_channel *ch, uint64_t tick)
{
    if (behaviour(ch)->out == OUT_HIGH_AT_TERMINAL) {
        ch->out_low_from = 0;
        ch->out_high_at = NO_TICK;
    } else if (ch->out_low_from > tick) {
        ch->out_low_from = NO_TICK; /* a strobe already under way finishes on time */
        ch->out_high_at = NO_TICK;
    }
    ch->terminal_tick = NO_TICK;
}

/* Stop the CE at its value at tick */
static void hold(struct x86_pit_channel *ch, uint64_t tick)
{
    ch->held_count = register_from_ordinal(ch, counting_element_ordinal(ch, tick));
    ch->counting = false;
}

/* The CR -> CE transfer at load_tick */
static void apply_load(struct x86_pit_channel *ch)
{
    const struct mode_behaviour *b = behaviour(ch);
    uint64_t tick = ch->load_tick;
    uint32_t count = initial_count(ch);
    ch->load_pending = false;
    ch->null_count = false;
    ch->loaded = true;
    ch->base_tick = tick;
    if (b->periodic) {
        ch->period = count;
        ch->phase = ch->load_starts_low ? square_high_clocks(count) : 0;
        ch->counting = true;
        if (!ch->gate)
            hold(ch, tick); /* loaded with GATE low: holds the count until a trigger */
        return;
    }
    ch->base_value = count;
    if (b->gate == GATE_ENABLES && !ch->gate) {
        /* modes 0, 4: loaded, but counting waits for GATE (datasheet "Mode 0") */
        ch->counting = false;
        ch->held_count = register_from_ordinal(ch, count);
        ch->remaining = count;
        postpone_terminal(ch, tick);
        return;
    }
    ch->counting = true;
    ch->terminal_tick = tick + count;
    set_output_for_terminal(ch, tick, ch->terminal_tick);
}

/* Bring a counter up to edge tick: apply a transfer that is due. Time never runs backwards for
 * a counter: an edge earlier than one it was already brought to (an event the machine runs
 * after a port access past its cycle) is taken as that later edge. Returns the edge used. */
static uint64_t settle(struct x86_pit_channel *ch, uint64_t tick)
{
    if (tick < ch->latest_tick)
        tick = ch->latest_tick;
    ch->latest_tick = tick;
    if (ch->load_pending && ch->load_tick <= tick)
        apply_load(ch);
    return tick;
}

/* The counter as it is at edge tick, without changing it. Reads use this: only writes, GATE
 * edges and IRQ0 events move a counter's state, and each of those reschedules channel 0's
 * event, so a pending event never finds its counter already moved past its edge. */
static struct x86_pit_channel view_at(const struct x86_pit_channel *ch, uint64_t *tick)
{
    struct x86_pit_channel view = *ch;
    if (*tick < view.latest_tick)
        *tick = view.latest_tick;
    if (view.load_pending && view.load_tick <= *tick)
        apply_load(&view);
    return view;
}

static uint16_t count_now(const struct x86_pit_channel *ch, uint64_t tick)
{
    struct x86_pit_channel view = view_at(ch, &tick);
    return register_from_ordinal(&view, counting_element_ordinal(&view, tick));
}

static bool output_now(const struct x86_pit_channel *ch, uint64_t tick)
{
    struct x86_pit_channel view = view_at(ch, &tick);
    return output_at(&view, tick);
}

static void schedule_load(struct x86_pit_channel *ch, uint64_t tick, bool starts_low)
{
    ch->load_pending = true;
    ch->load_tick = tick;
    ch->load_starts_low = starts_low;
}

/* ------------------------------------------------------------------ channel 0 and IRQ0 */

void x86_pit_channel0_event(void *context, void *opaque);

/* Give irq0 OUT's level at tick and keep one event at OUT's next change */
static void update_irq0(struct x86_pit *pit, uint64_t tick)
{
    struct x86_pit_channel *ch = &pit->channel[0];
    tick = settle(ch, tick);
    int level = output_at(ch, tick) ? 1 : 0;
    if (level != pit->irq0_level) {
        pit->irq0_level = level;
        x86_irq_wire_set(&pit->irq0, level);
    }
    if (!pit->events)
        return;
    uint64_t next = next_output_change(ch, tick);
    if (pit->event_id && pit->event_tick == next)
        return; /* already scheduled */
    if (pit->event_id)
        x86_events_cancel(pit->events, pit->event_id); /* reprogrammed: the old change is void */
    pit->event_id = 0;
    if (next == NO_TICK)
        return;
    uint64_t cycle = x86_pit_cycle_at_tick(pit, next);
    if (cycle == UINT64_MAX)
        return; /* beyond the representable future */
    pit->event_tick = next;
    pit->event_id = x86_events_schedule(pit->events, cycle, x86_pit_channel0_event, pit);
}

void x86_pit_channel0_event(void *context, void *opaque)
{
    (void)context;
    struct x86_pit *pit = opaque;
    pit->event_id = 0;
    /* the event's own edge, not the CPU's counter: the queue may run it a little late */
    update_irq0(pit, pit->event_tick);
    uint64_t now = now_tick(pit);
    if (!pit->event_id || pit->event_tick > now)
        return;
    /* Late by two changes or more (a snapshot whose clock is far ahead of its PIT, or a long
     * stall): the changes in between all happen at this one instant, so they are given at
     * once, not replayed one event each (2 billion of them for a year's jump). What the
     * interrupt controllers can tell apart is kept: OUT ends at its level now, and when it
     * would end where it is, the pulse the skipped changes made is given as one. */
    struct x86_pit_channel *ch = &pit->channel[0];
    uint64_t at = settle(ch, now);
    int level = output_at(ch, at) ? 1 : 0;
    if (level == pit->irq0_level)
        x86_irq_wire_set(&pit->irq0, !level);
    pit->irq0_level = !level;
    update_irq0(pit, now);
}

static void changed(struct x86_pit *pit, unsigned index, uint64_t tick)
{
    if (index == 0)
        update_irq0(pit, tick);
}

/* ------------------------------------------------------------------ programming */

/* A control word that selects a mode (datasheet "Write Operations": all control logic is
 * reset, OUT goes to its initial state, and counting waits for a count) */
static void program_channel(struct x86_pit_channel *ch, unsigned word, uint64_t tick)
{
    tick = settle(ch, tick);
    uint16_t current = register_from_ordinal(ch, counting_element_ordinal(ch, tick));
    ch->mode_bits = (uint8_t)CONTROL_MODE(word);
    ch->mode = (uint8_t)(ch->mode_bits > 5 ? ch->mode_bits - 4 : ch->mode_bits);
    ch->access = (uint8_t)CONTROL_ACCESS(word);
    ch->bcd = (word & CONTROL_BCD) != 0;
    ch->held_count = current;
    ch->counting = false;
    ch->loaded = false;
    ch->load_pending = false;
    ch->count_written = false;
    ch->null_count = true;
    ch->write_high_next = false;
    ch->read_high_next = false;
    ch->count_latched = false;
    ch->status_latched = false;
    ch->terminal_tick = NO_TICK;
    ch->remaining = 0;
    ch->out_high_at = NO_TICK;
    ch->out_low_from = behaviour(ch)->out_high_after_control_word ? NO_TICK : 0;
}

static uint8_t status_byte(const struct x86_pit_channel *ch, uint64_t tick)
{
    struct x86_pit_channel view = view_at(ch, &tick);
    return (uint8_t)((output_at(&view, tick) ? STATUS_OUTPUT : 0) |
                     (view.null_count ? STATUS_NULL_COUNT : 0) | (view.access << 4) |
                     (view.mode_bits << 1) | (view.bcd ? CONTROL_BCD : 0));
}

/* Counter latch command: the first latch holds until read; later ones are ignored
 * (datasheet "Counter Latch Command") */
static void latch_count(struct x86_pit_channel *ch, uint64_t tick)
{
    if (ch->count_latched)
        return;
    ch->latched_count = count_now(ch, tick);
    ch->count_latched = true;
}

static void read_back(struct x86_pit *pit, unsigned word, uint64_t tick)
{
    for (unsigned index = 0; index < X86_PIT_CHANNELS; index++) {
        if (!(word & READ_BACK_COUNTER(index)))
            continue;
        struct x86_pit_channel *ch = &pit->channel[index];
        if (!(word & READ_BACK_NO_COUNT))
            latch_count(ch, tick);
        if (!(word & READ_BACK_NO_STATUS) && !ch->status_latched) {
            ch->latched_status = status_byte(ch, tick);
            ch->status_latched = true;
        }
    }
}

static void write_control(struct x86_pit *pit, unsigned word, uint64_t tick)
{
    unsigned select = CONTROL_SELECT(word);
    if (select == SELECT_READ_BACK) {
        read_back(pit, word, tick);
        return;
    }
    struct x86_pit_channel *ch = &pit->channel[select];
    if (CONTROL_ACCESS(word) == ACCESS_LATCH) {
        latch_count(ch, tick);
        return;
    }
    program_channel(ch, word, tick);
    changed(pit, select, tick);
}

/* A whole count is in CR */
static void count_complete(struct x86_pit_channel *ch, uint64_t tick)
{
    const struct mode_behaviour *b = behaviour(ch);
    ch->count_written = true;
    switch (b->write) {
    case WRITE_LOADS_NEXT_CLOCK:
        /* modes 0, 4: "loaded on the next CLK pulse and counting continues from the new
         * count"; mode 0 sets OUT low, mode 4 cancels a strobe that has not begun */
        if (ch->counting)
            hold(ch, tick);
        ch->loaded = false;
        postpone_terminal(ch, tick);
        schedule_load(ch, tick + 1, false);
        break;
    case WRITE_WAITS_FOR_TRIGGER:
        break; /* modes 1, 5: "does not affect the one-shot pulse until the next trigger" */
    case WRITE_LOADS_AT_CYCLE_END:
        if (ch->load_pending)
            break; /* the transfer already due takes the newest CR */
        if (!ch->counting) {
            schedule_load(ch, tick + 1, false);
        } else if (b->out == OUT_RATE) {
            /* mode 2: the new count is loaded when the CE would reload (after it reaches 1) */
            uint32_t position = (uint32_t)((tick - ch->base_tick) % ch->period);
            schedule_load(ch, tick + (ch->period - position), false);
        } else {
            /* mode 3: at the end of the current half-cycle; the next half-cycle is the other
             * one, so a count loaded at the end of a high half starts low */
            uint32_t position = (uint32_t)((tick - ch->base_tick + ch->phase) % ch->period);
            uint32_t high_clocks = square_high_clocks(ch->period);
            if (position < high_clocks)
                schedule_load(ch, tick + (high_clocks - position), true);
            else
                schedule_load(ch, tick + (ch->period - position), false);
        }
        break;
    }
}

static void write_count_byte(struct x86_pit_channel *ch, uint8_t byte, uint64_t tick)
{
    tick = settle(ch, tick);
    ch->null_count = true; /* any write to CR (datasheet "Status Byte": null count) */
    switch (ch->access) {
    case ACCESS_LOW:
        ch->count_register = byte;
        count_complete(ch, tick);
        break;
    case ACCESS_HIGH:
        ch->count_register = (uint16_t)(byte << 8);
        count_complete(ch, tick);
        break;
    default:
        if (!ch->write_high_next) {
            ch->count_low_byte = byte;
            ch->write_high_next = true;
            if (ch->mode == 0) {
                /* "Writing the first byte disables counting. OUT is set low immediately" */
                if (ch->counting)
                    hold(ch, tick);
                ch->loaded = false;
                ch->load_pending = false;
                postpone_terminal(ch, tick);
            }
        } else {
            ch->count_register = (uint16_t)(ch->count_low_byte | (byte << 8));
            ch->write_high_next = false;
            count_complete(ch, tick);
        }
        break;
    }
}

static uint8_t read_count_byte(struct x86_pit_channel *ch, uint64_t tick)
{
    /* a latched status is read first, whichever was latched first (datasheet "Read-Back
     * Command") */
    if (ch->status_latched) {
        ch->status_latched = false;
        return ch->latched_status;
    }
    uint16_t value = ch->count_latched ? ch->latched_count : count_now(ch, tick);
    bool high;
    bool last_byte = true;
    switch (ch->access) {
    case ACCESS_LOW: high = false; break;
    case ACCESS_HIGH: high = true; break;
    default:
        high = ch->read_high_next;
        last_byte = high;
        ch->read_high_next = !ch->read_high_next;
        break;
    }
    if (last_byte)
        ch->count_latched = false; /* the OL follows the CE again once fully read */
    return (uint8_t)(high ? value >> 8 : value);
}

/* ------------------------------------------------------------------ GATE */

static void gate_edge(struct x86_pit_channel *ch, bool level, uint64_t tick)
{
    const struct mode_behaviour *b = behaviour(ch);
    tick = settle(ch, tick);
    if (ch->gate == level)
        return;
    ch->gate = level;
    switch (b->gate) {
    case GATE_ENABLES:
        if (!level) {
            if (ch->counting) {
                uint64_t terminal = ch->terminal_tick;
                bool before_terminal = terminal != NO_TICK && terminal > tick;
                ch->remaining = before_terminal ? (uint32_t)(terminal - tick) : 0;
                hold(ch, tick);
                if (ch->remaining)
                    postpone_terminal(ch, tick);
            }
        } else if (ch->loaded && !ch->counting) {
            /* counting resumes on the edges after this one, from the held count */
            ch->base_tick = tick;
            ch->base_value = ordinal_from_register(ch, ch->held_count);
            ch->counting = true;
            if (ch->remaining) {
                ch->terminal_tick = tick + ch->remaining;
                set_output_for_terminal(ch, tick, ch->terminal_tick);
            }
        }
        break;
    case GATE_TRIGGERS:
        if (level && ch->count_written)
            schedule_load(ch, tick + 1, false);
        break;
    case GATE_ENABLES_AND_RELOADS:
        if (!level) {
            if (ch->counting)
                hold(ch, tick); /* OUT goes high at once: output_at sees !counting */
            if (ch->load_pending)
                ch->load_tick = NO_TICK; /* the period never ends; the next trigger loads */
        } else if (ch->count_written) {
            schedule_load(ch, tick + 1, false);
        }
        break;
    }
}

void x86_pit_set_gate(struct x86_pit *pit, unsigned channel, bool level)
{
    if (channel >= X86_PIT_CHANNELS)
        return;
    uint64_t tick = now_tick(pit);
    gate_edge(&pit->channel[channel], level, tick);
    changed(pit, channel, tick);
}

bool x86_pit_output(struct x86_pit *pit, unsigned channel)
{
    if (channel >= X86_PIT_CHANNELS)
        return false;
    return output_now(&pit->channel[channel], now_tick(pit));
}

/* ------------------------------------------------------------------ ports */

static uint8_t read_port(struct x86_pit *pit, uint64_t port)
{
    if (port >= CONTROL_PORT)
        return 0xFF; /* reading A1 A0 = 11 is a no-operation: the data bus floats */
    return read_count_byte(&pit->channel[port], now_tick(pit));
}

static void write_port(struct x86_pit *pit, uint64_t port, uint8_t value)
{
    uint64_t tick = now_tick(pit);
    if (port == CONTROL_PORT) {
        write_control(pit, value, tick);
    } else if (port < CONTROL_PORT) {
        write_count_byte(&pit->channel[port], value, tick);
        changed(pit, (unsigned)port, tick);
    }
}

uint64_t x86_pit_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_pit *pit = opaque;
    uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        value |= (uint64_t)read_port(pit, offset + i) << (8 * i);
    return value;
}

void x86_pit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_pit *pit = opaque;
    for (unsigned i = 0; i < size && i < 8 && offset + i <= CONTROL_PORT; i++)
        write_port(pit, offset + i, (uint8_t)(value >> (8 * i)));
}

uint64_t x86_pit_port61_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_pit *pit = opaque;
    uint64_t tick = now_tick(pit);
    uint8_t value = pit->port_b;
    if ((tick / X86_PIT_REFRESH_CLOCKS) & 1u)
        value |= PORT_B_REFRESH;
    if (output_now(&pit->channel[2], tick))
        value |= PORT_B_OUT2;
    uint64_t result = offset == 0 ? value : 0xFF;
    for (unsigned i = 1; i < size && i < 8; i++)
        result |= (uint64_t)0xFF << (8 * i); /* nothing at the following ports */
    return result;
}

void x86_pit_port61_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_pit *pit = opaque;
    (void)size;
    if (offset != 0)
        return;
    pit->port_b = (uint8_t)(value & PORT_B_WRITABLE);
    x86_pit_set_gate(pit, 2, (value & PORT_B_GATE2) != 0);
}

/* ------------------------------------------------------------------ setup */

void x86_pit_init(struct x86_pit *pit, struct x86_event_queue *events, const uint64_t *cycles,
                  uint64_t cpu_hz)
{
    memset(pit, 0, sizeof(*pit));
    pit->events = events;
    pit->cycles = cycles;
    if (cpu_hz == 0)
        cpu_hz = 1000000000ull;
    if (cpu_hz > UINT64_MAX / 11) /* 88 / gcd(105e6, 88) = 11 must fit in the denominator */
        cpu_hz = UINT64_MAX / 11;
    pit->cpu_hz = cpu_hz;
    /* edges per cycle = 105e6 / (88 * cpu_hz), reduced so the products stay small */
    uint64_t numerator = X86_PIT_CLOCK_NUMERATOR;
    uint64_t denominator_factor = X86_PIT_CLOCK_DENOMINATOR;
    uint64_t common = greatest_common_divisor(numerator, denominator_factor);
    numerator /= common;
    denominator_factor /= common;
    common = greatest_common_divisor(numerator, cpu_hz);
    pit->clock_numerator = numerator / common;
    pit->clock_denominator = denominator_factor * (cpu_hz / common);
    for (unsigned index = 0; index < X86_PIT_CHANNELS; index++) {
        struct x86_pit_channel *ch = &pit->channel[index];
        program_channel(ch, (index << 6) | (ACCESS_LOW_HIGH << 4), 0);
        ch->gate = index != 2; /* GATE 0 and 1 are tied high; GATE 2 is port 0x61 bit 0 */
    }
}

x86irq_status x86_pit_attach(struct x86_pit *pit, struct x86_bus *bus)
{
    x86irq_status status = x86_bus_add_ports(bus, X86_PIT_PORT_BASE, 4, x86_pit_read,
                                             x86_pit_write, pit, "pit8254");
    if (status != X86IRQ_OK)
        return status;
    return x86_bus_add_ports(bus, X86_PIT_PORT_B, 1, x86_pit_port61_read, x86_pit_port61_write,
                             pit, "port61");
}
