/* High Precision Event Timer (see hpet.h; IA-PC HPET Specification 1.0a, "the spec").
 *
 * Time. The main counter is not stepped: while it runs it is counter_base plus the ticks
 * since start_cycle, ticks(c) = floor((c - start_cycle) * 1e8 / cpu_hz), and tick k falls at
 * the first cycle at or after start_cycle + k * cpu_hz / 1e8, both exact (128-bit products of
 * a reduced fraction, from absolute counts: nothing drifts). Halting stores the count in
 * counter_base; starting again takes a new start_cycle.
 *
 * Matches. A comparator matches when the counter arrives at its value, on the tick that
 * increments the counter to it (all 64 bits, or the low 32 in Tn_32MODE_CNF): the spec's
 * comparison is an equality, so a comparator already behind the counter (or equal to it)
 * matches only after the counter wraps, 2^64 ticks (never) or 2^32 ticks later. Each timer
 * keeps the tick of its next match. Matches are an arithmetic sequence: a one-shot timer
 * matches again every 2^32 ticks in 32-bit mode (never in 64-bit mode); a periodic one every
 * "last value written" ticks, its comparator advancing by that value each time (spec
 * 2.3.9.2.2). So any later tick can be evaluated directly: "settling" folds the matches up to
 * now into the comparator and the level-mode status bits at once. Every access settles first;
 * events are scheduled only for matches that make an interrupt, and their callback settles.
 * Status bits of level timers whose interrupt is disabled or unrouted are thus computed when
 * read, with no events.
 *
 * Interrupt outputs. Each timer drives one line (a "destination"): in legacy replacement mode
 * timers 0 and 1 the ISA IRQs 0 and 8, otherwise the IOAPIC pin of Tn_INT_ROUTE_CNF. A level
 * timer's line is its status bit while Tn_INT_ENB_CNF and ENABLE_CNF are set; timers sharing a
 * line are OR-ed. An edge timer pulses its line (1 then 0) on each match, unless another timer
 * holds that line high.
 */
#include "devices/hpet.h"

#include <string.h>

#define NEVER UINT64_MAX

/* Register offsets (spec 2.3.1, Table 2) */
#define REG_CAPABILITIES 0x000u
#define REG_CONFIG 0x010u
#define REG_STATUS 0x020u
#define REG_COUNTER 0x0F0u
#define REG_TIMER_BASE 0x100u
#define REG_TIMER_STRIDE 0x20u
#define TIMER_CONFIG 0x00u
#define TIMER_COMPARATOR 0x08u
#define TIMER_FSB_ROUTE 0x10u

/* General Capabilities and ID (spec 2.3.4): REV_ID 1, NUM_TIM_CAP = timers - 1,
 * COUNT_SIZE_CAP (64-bit counter), LEG_RT_CAP, VENDOR_ID 8086h; COUNTER_CLK_PERIOD above */
#define CAP_REV_ID 0x01u
#define CAP_NUM_TIM_SHIFT 8
#define CAP_COUNT_SIZE 0x2000u
#define CAP_LEG_RT 0x8000u
#define CAP_VENDOR_SHIFT 16
#define CAP_VENDOR_INTEL 0x8086u
#define CAPABILITIES                                                                             \
    ((uint64_t)X86_HPET_PERIOD_FS << 32 | (uint64_t)CAP_VENDOR_INTEL << CAP_VENDOR_SHIFT |       \
     CAP_LEG_RT | CAP_COUNT_SIZE | (uint64_t)(X86_HPET_TIMERS - 1) << CAP_NUM_TIM_SHIFT |        \
     CAP_REV_ID)

/* General Configuration (spec 2.3.5) */
#define CFG_ENABLE 0x1u
#define CFG_LEGACY 0x2u
#define CFG_WRITABLE (CFG_ENABLE | CFG_LEGACY)

/* Timer N Configuration and Capabilities (spec 2.3.8) */
#define TN_INT_TYPE_LEVEL 0x0002u
#define TN_INT_ENB 0x0004u
#define TN_TYPE_PERIODIC 0x0008u
#define TN_PER_INT_CAP 0x0010u
#define TN_SIZE_CAP 0x0020u
#define TN_VAL_SET 0x0040u
#define TN_32MODE 0x0100u
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE_MASK (0x1Fu << TN_ROUTE_SHIFT)
/* Tn_FSB_EN_CNF (bit 14) and Tn_FSB_INT_DEL_CAP (bit 15) read 0: no FSB delivery */
#define TN_WRITABLE (TN_INT_TYPE_LEVEL | TN_INT_ENB | TN_32MODE | TN_ROUTE_MASK)
#define TN_WRITABLE_PERIODIC (TN_TYPE_PERIODIC | TN_VAL_SET)
/* Tn_INT_ROUTE_CAP: IOAPIC inputs 2, 8 and 16-23 */
#define ROUTE_CAPABILITY 0x00FF0104u
#define PERIODIC_TIMER 0u /* the one timer with Tn_PER_INT_CAP */

/* Destinations: an IOAPIC pin p is p, ISA IRQ n is DEST_ISA | n */
#define DEST_NONE (-1)
#define DEST_ISA 0x100
#define LEGACY_TIMER0_IRQ 0
#define LEGACY_TIMER1_IRQ 8

#define LOW_HALF 0x00000000FFFFFFFFull
#define HIGH_HALF 0xFFFFFFFF00000000ull

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

/* a * b / divisor, rounded down or up; NEVER when it does not fit in 64 bits */
static uint64_t multiply_divide(uint64_t a, uint64_t b, uint64_t divisor, bool round_up)
{
    uint64_t high, low;
    multiply_wide(a, b, &high, &low);
    if (high >= divisor)
        return NEVER;
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
    if (round_up && partial != 0) {
        if (quotient == NEVER)
            return NEVER;
        quotient++;
    }
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

static bool running(const struct x86_hpet *hpet)
{
    return (hpet->config & CFG_ENABLE) != 0;
}

/* Ticks since start_cycle at the current cycle (the counter running) */
static uint64_t elapsed_now(const struct x86_hpet *hpet)
{
    uint64_t now = *hpet->cycles;
    if (now <= hpet->start_cycle)
        return 0;
    return multiply_divide(now - hpet->start_cycle, hpet->tick_numerator,
                           hpet->tick_denominator, false);
}

/* The first cycle at or after tick (since start_cycle); NEVER beyond the representable */
static uint64_t cycle_of_tick(const struct x86_hpet *hpet, uint64_t tick)
{
    uint64_t offset =
        multiply_divide(tick, hpet->tick_denominator, hpet->tick_numerator, true);
    if (offset == NEVER || offset > NEVER - 1 - hpet->start_cycle)
        return NEVER;
    return hpet->start_cycle + offset;
}

uint64_t x86_hpet_counter(const struct x86_hpet *hpet)
{
    if (!running(hpet))
        return hpet->counter_base;
    return hpet->counter_base + elapsed_now(hpet);
}

/* ------------------------------------------------------------------ timers */

static bool timer_32bit(const struct x86_hpet_timer *t)
{
    return (t->config & TN_32MODE) != 0;
}

static bool timer_periodic(const struct x86_hpet_timer *t)
{
    return (t->config & TN_TYPE_PERIODIC) != 0;
}

static bool timer_level(const struct x86_hpet_timer *t)
{
    return (t->config & TN_INT_TYPE_LEVEL) != 0;
}

/* The comparator's width: the counter's low 32 bits are compared in 32-bit mode */
static uint64_t timer_mask(const struct x86_hpet_timer *t)
{
    return timer_32bit(t) ? LOW_HALF : UINT64_MAX;
}

/* Ticks from one match to the next: the period (mod the width) when periodic, else a full
 * wrap; 0 means never again (a 64-bit wrap) */
static uint64_t match_spacing(const struct x86_hpet_timer *t)
{
    uint64_t step = timer_periodic(t) ? t->period & timer_mask(t) : 0;
    if (step)
        return step;
    return timer_32bit(t) ? LOW_HALF + 1 : 0;
}

/* The tick of the first match after tick now, the counter being counter there */
static uint64_t first_match(const struct x86_hpet_timer *t, uint64_t now, uint64_t counter)
{
    uint64_t distance = (t->comparator - counter) & timer_mask(t);
    if (distance == 0) {
        /* equal now: the counter arrives at it again only after a full wrap */
        if (!timer_32bit(t))
            return NEVER;
        distance = LOW_HALF + 1;
    }
    if (distance > NEVER - 1 - now)
        return NEVER;
    return now + distance;
}

/* Recompute every timer's next match from the counter (after a start, a counter write, or a
 * change of comparator or mode) */
static void rederive_timer(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    if (!running(hpet)) {
        t->next_match = NEVER;
        return;
    }
    uint64_t now = elapsed_now(hpet);
    t->next_match = first_match(t, now, hpet->counter_base + now);
}

/* Fold the matches up to tick now into the comparator; returns how many there were */
static uint64_t advance_timer(struct x86_hpet_timer *t, uint64_t now)
{
    if (t->next_match == NEVER || t->next_match > now)
        return 0;
    uint64_t spacing = match_spacing(t);
    uint64_t matches;
    if (spacing == 0) {
        matches = 1;
        t->next_match = NEVER;
    } else {
        uint64_t more = (now - t->next_match) / spacing;
        uint64_t last = t->next_match + more * spacing; /* <= now: no overflow */
        matches = more + 1;
        t->next_match = spacing > NEVER - 1 - last ? NEVER : last + spacing;
    }
    /* periodic: "the value in this register is increased by the value last written" on each
     * match, wrapping at the comparator's width (spec 2.3.9.2.2) */
    if (timer_periodic(t))
        t->comparator = (t->comparator + matches * t->period) & timer_mask(t);
    return matches;
}

/* ------------------------------------------------------------------ interrupt outputs */

static int destination_of(const struct x86_hpet *hpet, const struct x86_hpet_timer *t)
{
    /* LEG_RT_CNF: timer 0 to IRQ0, timer 1 to IRQ8, Tn_INT_ROUTE_CNF ignored (spec 2.3.5) */
    if ((hpet->config & CFG_LEGACY) && t->index < 2)
        return DEST_ISA | (t->index == 0 ? LEGACY_TIMER0_IRQ : LEGACY_TIMER1_IRQ);
    unsigned route = (t->config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
    if (!((ROUTE_CAPABILITY >> route) & 1u))
        return DEST_NONE; /* the power-on route 0 is not one of the pins offered */
    return (int)route;
}

static bool status_set(const struct x86_hpet *hpet, const struct x86_hpet_timer *t)
{
    return (hpet->status >> t->index) & 1u;
}

/* The level a timer gives its line: a level timer's status, while interrupts are enabled */
static int level_of(const struct x86_hpet *hpet, const struct x86_hpet_timer *t)
{
    return running(hpet) && (t->config & TN_INT_ENB) && timer_level(t) && status_set(hpet, t);
}

static void drive(struct x86_hpet *hpet, int destination, int level)
{
    if (destination & DEST_ISA) {
        if (hpet->set_isa_irq)
            hpet->set_isa_irq(hpet->opaque, (unsigned)(destination & 0xFF), level);
    } else if (hpet->set_ioapic_pin) {
        hpet->set_ioapic_pin(hpet->opaque, (unsigned)destination, level);
    }
}

/* The OR of the levels the timers give destination, as last driven */
static int line_level(const struct x86_hpet *hpet, int destination)
{
    int level = 0;
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++)
        if (hpet->timer[i].destination == destination)
            level |= hpet->timer[i].level;
    return level;
}

/* Bring every line to the level the timers now give it, after routing, mode, enable or
 * status changes; a line that changes destination is released first */
static void refresh_outputs(struct x86_hpet *hpet)
{
    int old_destination[X86_HPET_TIMERS], old_level[X86_HPET_TIMERS];
    int lines[2 * X86_HPET_TIMERS];
    unsigned line_count = 0;
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++) {
        struct x86_hpet_timer *t = &hpet->timer[i];
        old_destination[i] = t->destination;
        old_level[i] = t->level;
        t->destination = destination_of(hpet, t);
        t->level = t->destination == DEST_NONE ? 0 : level_of(hpet, t);
        int touched[2] = { old_destination[i], t->destination };
        for (unsigned k = 0; k < 2; k++) {
            bool known = touched[k] == DEST_NONE;
            for (unsigned j = 0; j < line_count && !known; j++)
                known = lines[j] == touched[k];
            if (!known)
                lines[line_count++] = touched[k];
        }
    }
    for (unsigned j = 0; j < line_count; j++) {
        int before = 0;
        for (unsigned i = 0; i < X86_HPET_TIMERS; i++)
            if (old_destination[i] == lines[j])
                before |= old_level[i];
        int after = line_level(hpet, lines[j]);
        if (before != after)
            drive(hpet, lines[j], after);
    }
}

/* An edge timer's match: a pulse, invisible on a line another timer holds high */
static void pulse(struct x86_hpet *hpet, const struct x86_hpet_timer *t)
{
    int destination = destination_of(hpet, t);
    if (destination == DEST_NONE || line_level(hpet, destination))
        return;
    drive(hpet, destination, 1);
    drive(hpet, destination, 0);
}

/* Apply every match up to now: comparators advance, level timers set their status bit (spec
 * 2.3.6: also with the interrupt disabled), edge timers with the interrupt enabled pulse. */
static void settle(struct x86_hpet *hpet)
{
    if (!running(hpet))
        return;
    uint64_t now = elapsed_now(hpet);
    bool level_changed = false;
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++) {
        struct x86_hpet_timer *t = &hpet->timer[i];
        if (!advance_timer(t, now))
            continue;
        if (timer_level(t)) {
            level_changed |= !status_set(hpet, t);
            hpet->status |= 1u << i;
        } else if (t->config & TN_INT_ENB) {
            pulse(hpet, t);
        }
    }
    if (level_changed)
        refresh_outputs(hpet);
}

/* ------------------------------------------------------------------ events */

void x86_hpet_timer_event(void *context, void *opaque);

/* Does the timer's next match make an interrupt? (Level timers with their status already set
 * hold their line: further matches change nothing until the bit is cleared.) */
static bool interrupt_pending(const struct x86_hpet *hpet, const struct x86_hpet_timer *t)
{
    return running(hpet) && (t->config & TN_INT_ENB) && t->next_match != NEVER &&
           destination_of(hpet, t) != DEST_NONE && !(timer_level(t) && status_set(hpet, t));
}

static void reschedule(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    if (!hpet->events)
        return;
    uint64_t cycle = interrupt_pending(hpet, t) ? cycle_of_tick(hpet, t->next_match) : NEVER;
    if (t->event_id && t->event_cycle == cycle)
        return; /* already scheduled */
    if (t->event_id)
        x86_events_cancel(hpet->events, t->event_id); /* reprogrammed: the old match is void */
    t->event_id = 0;
    if (cycle == NEVER)
        return;
    t->event_cycle = cycle;
    t->event_id = x86_events_schedule(hpet->events, cycle, x86_hpet_timer_event, t);
}

static void reschedule_all(struct x86_hpet *hpet)
{
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++)
        reschedule(hpet, &hpet->timer[i]);
}

void x86_hpet_timer_event(void *context, void *opaque)
{
    (void)context;
    struct x86_hpet_timer *t = opaque;
    struct x86_hpet *hpet = t->owner;
    t->event_id = 0;
    settle(hpet);
    reschedule_all(hpet);
}

/* ------------------------------------------------------------------ registers */

static uint64_t merge(uint64_t old, uint64_t value, uint64_t mask)
{
    return (old & ~mask) | (value & mask);
}

static uint64_t read_capabilities(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    (void)hpet;
    (void)t;
    return CAPABILITIES;
}

static uint64_t read_config(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    (void)t;
    return hpet->config;
}

static void write_config(struct x86_hpet *hpet, struct x86_hpet_timer *t, uint64_t value,
                         uint64_t mask)
{
    (void)t;
    uint64_t old = hpet->config;
    uint64_t config = merge(old, value, mask) & CFG_WRITABLE;
    uint64_t changed = old ^ config;
    if (changed & CFG_ENABLE) {
        if (config & CFG_ENABLE) {
            /* counting resumes from the held value at this cycle */
            hpet->start_cycle = *hpet->cycles;
        } else {
            /* "halt main count and disable all timer interrupts": the count is held */
            hpet->counter_base = x86_hpet_counter(hpet);
        }
    }
    bool legacy_on = (changed & CFG_LEGACY) && (config & CFG_LEGACY);
    bool legacy_off = (changed & CFG_LEGACY) && !(config & CFG_LEGACY);
    /* legacy on: the board cuts off the PIT and RTC lines before the HPET takes them */
    if (legacy_on && hpet->legacy_changed)
        hpet->legacy_changed(hpet->opaque, true);
    hpet->config = config;
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++)
        rederive_timer(hpet, &hpet->timer[i]);
    refresh_outputs(hpet);
    /* legacy off: the HPET has released IRQ0 and IRQ8 before the board gives them back */
    if (legacy_off && hpet->legacy_changed)
        hpet->legacy_changed(hpet->opaque, false);
}

static uint64_t read_status(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    (void)t;
    return hpet->status;
}

static void write_status(struct x86_hpet *hpet, struct x86_hpet_timer *t, uint64_t value,
                         uint64_t mask)
{
    (void)t;
    /* writing 1 clears a level timer's bit; 0 has no effect (spec 2.3.6) */
    hpet->status &= ~(value & mask & ((1u << X86_HPET_TIMERS) - 1u));
    refresh_outputs(hpet);
}

static uint64_t read_counter(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    (void)t;
    return x86_hpet_counter(hpet);
}

/* Software "should" write the counter only while halted (spec 2.3.7); a write while it runs
 * takes effect at once here and counting continues from the written value. */
static void write_counter(struct x86_hpet *hpet, struct x86_hpet_timer *t, uint64_t value,
                          uint64_t mask)
{
    (void)t;
    uint64_t counter = merge(x86_hpet_counter(hpet), value, mask);
    hpet->counter_base = running(hpet) ? counter - elapsed_now(hpet) : counter;
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++)
        rederive_timer(hpet, &hpet->timer[i]);
}

static uint64_t read_timer_config(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    (void)hpet;
    uint64_t value = t->config | TN_SIZE_CAP | (uint64_t)ROUTE_CAPABILITY << 32;
    if (t->index == PERIODIC_TIMER)
        value |= TN_PER_INT_CAP;
    return value;
}

static void write_timer_config(struct x86_hpet *hpet, struct x86_hpet_timer *t, uint64_t value,
                               uint64_t mask)
{
    uint32_t writable = TN_WRITABLE;
    if (t->index == PERIODIC_TIMER)
        writable |= TN_WRITABLE_PERIODIC;
    uint32_t config = (uint32_t)merge(t->config, value, mask) & writable;
    /* "If the value is not supported by this particular timer, then the value read back will
     * not match what is written" (spec 2.3.8, Tn_INT_ROUTE_CNF): the route is kept */
    unsigned route = (config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
    if (!((ROUTE_CAPABILITY >> route) & 1u))
        config = (config & ~TN_ROUTE_MASK) | (t->config & TN_ROUTE_MASK);
    if ((config & TN_32MODE) && !(t->config & TN_32MODE)) {
        /* a 32-bit timer: the comparator's and the period's upper halves are gone */
        t->comparator &= LOW_HALF;
        t->period &= LOW_HALF;
    }
    t->config = config;
    rederive_timer(hpet, t);
    refresh_outputs(hpet);
}

static uint64_t read_comparator(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    (void)hpet;
    return t->comparator;
}

/* Spec 2.3.9 and Tn_VAL_SET_CNF: one-shot, a write sets the comparator; periodic, a write sets
 * the period (the "last value written") and, with Tn_VAL_SET_CNF, also the comparator (the
 * accumulator). Linux's periodic setup relies on that: comparator = now + delta with VAL_SET,
 * then delta alone. VAL_SET clears itself on each write, half or whole. */
static void write_comparator(struct x86_hpet *hpet, struct x86_hpet_timer *t, uint64_t value,
                             uint64_t mask)
{
    if (timer_32bit(t))
        mask &= LOW_HALF; /* the upper half of a 32-bit comparator is read-only 0 */
    if (!mask)
        return;
    if (!timer_periodic(t) || (t->config & TN_VAL_SET))
        t->comparator = merge(t->comparator, value, mask);
    t->period = merge(t->period, value, mask);
    t->config &= ~TN_VAL_SET;
    rederive_timer(hpet, t);
}

static uint64_t read_zero(struct x86_hpet *hpet, struct x86_hpet_timer *t)
{
    (void)hpet;
    (void)t;
    return 0;
}

typedef uint64_t (*register_read_fn)(struct x86_hpet *hpet, struct x86_hpet_timer *t);
/* value and mask: the bits written (a 32-bit access writes one half) */
typedef void (*register_write_fn)(struct x86_hpet *hpet, struct x86_hpet_timer *t,
                                  uint64_t value, uint64_t mask);

struct hpet_register {
    uint32_t offset;          /* from the block's base, or from the timer's base */
    register_read_fn read;
    register_write_fn write;  /* NULL: read-only */
};

static const struct hpet_register general_registers[] = {
    { REG_CAPABILITIES, read_capabilities, NULL },
    { REG_CONFIG, read_config, write_config },
    { REG_STATUS, read_status, write_status },
    { REG_COUNTER, read_counter, write_counter },
};

static const struct hpet_register timer_registers[] = {
    { TIMER_CONFIG, read_timer_config, write_timer_config },
    { TIMER_COMPARATOR, read_comparator, write_comparator },
    { TIMER_FSB_ROUTE, read_zero, NULL }, /* no FSB delivery: Tn_FSB_INT_ROUTE reads 0 */
};

/* The 64-bit register at an 8-byte aligned offset, NULL if none (reserved space reads 0) */
static const struct hpet_register *find_register(struct x86_hpet *hpet, uint64_t offset,
                                                 struct x86_hpet_timer **timer)
{
    const struct hpet_register *table = general_registers;
    size_t count = sizeof(general_registers) / sizeof(general_registers[0]);
    *timer = NULL;
    if (offset >= REG_TIMER_BASE) {
        uint64_t index = (offset - REG_TIMER_BASE) / REG_TIMER_STRIDE;
        if (index >= X86_HPET_TIMERS)
            return NULL;
        *timer = &hpet->timer[index];
        offset = (offset - REG_TIMER_BASE) % REG_TIMER_STRIDE;
        table = timer_registers;
        count = sizeof(timer_registers) / sizeof(timer_registers[0]);
    }
    for (size_t i = 0; i < count; i++)
        if (table[i].offset == offset)
            return &table[i];
    return NULL;
}

static uint64_t read_register(struct x86_hpet *hpet, uint64_t offset)
{
    struct x86_hpet_timer *t;
    const struct hpet_register *reg = find_register(hpet, offset, &t);
    return reg ? reg->read(hpet, t) : 0;
}

static void write_register(struct x86_hpet *hpet, uint64_t offset, uint64_t value, uint64_t mask)
{
    struct x86_hpet_timer *t;
    const struct hpet_register *reg = find_register(hpet, offset, &t);
    if (reg && reg->write)
        reg->write(hpet, t, value, mask);
}

/* Accesses the spec allows: 32 bits at a 4-byte boundary, 64 bits at an 8-byte boundary. A
 * 64-bit access at a 4-byte boundary is taken as its two 32-bit halves (QEMU rejects it).
 * Other sizes and alignments read 0 and write nothing, as in QEMU. */
static bool valid_access(uint64_t offset, unsigned size)
{
    return (size == 4 || size == 8) && (offset & 3u) == 0 && offset < X86_HPET_SIZE;
}

uint64_t x86_hpet_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_hpet *hpet = opaque;
    if (!valid_access(offset, size))
        return 0;
    settle(hpet);
    reschedule_all(hpet);
    uint64_t value = read_register(hpet, offset & ~7ull);
    if (size == 8 && !(offset & 4u))
        return value; /* one read: the counter's halves are consistent */
    uint32_t low = (uint32_t)(value >> (8 * (offset & 4u)));
    if (size == 4)
        return low;
    return low | (uint64_t)(uint32_t)read_register(hpet, offset + 4) << 32;
}

void x86_hpet_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_hpet *hpet = opaque;
    if (!valid_access(offset, size))
        return;
    settle(hpet);
    if (size == 8 && !(offset & 4u)) {
        write_register(hpet, offset, value, UINT64_MAX);
    } else {
        write_register(hpet, offset & ~7ull, value << (8 * (offset & 4u)),
                       (offset & 4u) ? HIGH_HALF : LOW_HALF);
        if (size == 8)
            write_register(hpet, offset + 4, value >> 32, LOW_HALF);
    }
    reschedule_all(hpet);
}

/* ------------------------------------------------------------------ setup */

void x86_hpet_init(struct x86_hpet *hpet, struct x86_event_queue *events, const uint64_t *cycles,
                   uint64_t cpu_hz)
{
    memset(hpet, 0, sizeof(*hpet));
    hpet->events = events;
    hpet->cycles = cycles;
    if (cpu_hz == 0)
        cpu_hz = 1000000000ull;
    hpet->cpu_hz = cpu_hz;
    /* ticks per cycle = 1e15 fs/s / period / cpu_hz, reduced */
    uint64_t numerator = 1000000000000000ull / X86_HPET_PERIOD_FS;
    uint64_t common = greatest_common_divisor(numerator, cpu_hz);
    hpet->tick_numerator = numerator / common;
    hpet->tick_denominator = cpu_hz / common;
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++) {
        struct x86_hpet_timer *t = &hpet->timer[i];
        t->owner = hpet;
        t->index = i;
        t->comparator = UINT64_MAX; /* all ones, as QEMU resets it */
        t->next_match = NEVER;
        t->destination = DEST_NONE;
    }
}

x86irq_status x86_hpet_attach(struct x86_hpet *hpet, struct x86_bus *bus)
{
    return x86_bus_add_mmio(bus, X86_HPET_BASE, X86_HPET_SIZE, x86_hpet_read, x86_hpet_write,
                            hpet, "hpet");
}
