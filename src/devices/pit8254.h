/* Intel 8254 programmable interval timer (Intel 8254 datasheet, order number 231164) as wired
 * in the PC: three counters at ports 0x40-0x42, the control word register at 0x43, and the
 * PC/AT system control port B at 0x61 (channel 2's GATE, the speaker data enable, channel 2's
 * OUT and the refresh toggle).
 *
 * Time is not simulated clock by clock. Each counter remembers the PIT clock edge at which its
 * counting element (CE) was loaded and computes its count and OUT at any later edge from that
 * edge, so a value read at cycle c is exactly the chip's value at c. The PIT clock is
 * 105/88 MHz (1,193,181.818... Hz): edge k happens at cycle ceil(k * 88 * cpu_hz / 105e6), and
 * the edges seen by cycle c number floor(c * 105e6 / (88 * cpu_hz)), both computed exactly from
 * absolute counts (no floating point, nothing accumulated per period, so nothing drifts).
 *
 * Channel 0's OUT drives IRQ0: every OUT transition is an event on the machine's queue at the
 * first cycle at or after its clock edge, and irq0 is set on each change. Channels 1 and 2 are
 * computed when they are read (port 0x61 bit 5 shows channel 2's OUT).
 */
#ifndef X86IRQ_DEVICES_PIT8254_H
#define X86IRQ_DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/bus.h"
#include "platform/events.h"
#include "platform/irq.h"

#define X86_PIT_CHANNELS 3
#define X86_PIT_PORT_BASE 0x40       /* counters 0-2 at 0x40-0x42, control word at 0x43 */
#define X86_PIT_PORT_B 0x61          /* PC/AT system control port B */
/* The PIT clock as the exact rational 105,000,000 / 88 Hz (the PC's 14.31818 MHz / 12) */
#define X86_PIT_CLOCK_NUMERATOR 105000000ull
#define X86_PIT_CLOCK_DENOMINATOR 88ull
/* Port 0x61 bit 4 toggles with each DRAM refresh request: on the PC/AT that is channel 1 in
 * mode 2 with count 18 as the BIOS programs it, every 18 PIT clocks (15.085 us). It is
 * modelled as a function of time, independent of how channel 1 is programmed. */
#define X86_PIT_REFRESH_CLOCKS 18u

/* One counter. Counts are kept as ordinals (0..modulus-1, modulus 65536 in binary and 10000 in
 * BCD) and converted to the register encoding when read. */
struct x86_pit_channel {
    /* the control word (datasheet "Control Word Format") */
    uint8_t mode_bits;        /* M2 M1 M0 as written: the status byte returns them */
    uint8_t mode;             /* the mode it behaves as: 6 and 7 are 2 and 3 */
    uint8_t access;           /* RW1 RW0: 1 LSB only, 2 MSB only, 3 LSB then MSB */
    bool bcd;

    /* the count register (CR) and byte-wide writes */
    uint16_t count_register;
    uint8_t count_low_byte;   /* first byte of a two-byte count, until the second arrives */
    bool write_high_next;     /* the write flip-flop */
    bool count_written;       /* a whole count has been written since the control word */
    bool null_count;          /* CR written but not yet transferred to the CE */

    /* the output latch (OL), the status latch and the read flip-flop */
    bool read_high_next;
    bool count_latched;
    uint16_t latched_count;
    bool status_latched;
    uint8_t latched_status;

    /* the CR -> CE transfer */
    bool load_pending;
    uint64_t load_tick;       /* clock edge of the transfer; UINT64_MAX: waits for GATE */
    bool load_starts_low;     /* mode 3: the new count begins with the low half-cycle */

    /* the counting element */
    bool loaded;              /* the CE holds a count since the control word */
    bool counting;            /* the CE follows its mode's sequence from base_tick */
    uint16_t held_count;      /* the CE (register encoding) while not counting */
    uint64_t base_tick;       /* edge at which the sequence starts */
    uint32_t base_value;      /* modes 0, 1, 4, 5: CE ordinal at base_tick (modulo modulus) */
    uint32_t period;          /* modes 2, 3: the count N (1..modulus) */
    uint32_t phase;           /* mode 3: clocks into the square wave at base_tick */
    uint64_t terminal_tick;   /* modes 0, 1, 4, 5: edge at which the CE reaches 0 */
    uint32_t remaining;       /* modes 0, 4 held by GATE: clocks to the terminal count (0: past) */

    /* OUT in modes 0, 1, 4, 5: low on the edges [out_low_from, out_high_at) */
    uint64_t out_low_from, out_high_at;

    bool gate;
    uint64_t latest_tick;     /* the latest edge the counter has been evaluated at */
};

struct x86_pit {
    struct x86_pit_channel channel[X86_PIT_CHANNELS];
    struct x86_irq_wire irq0;   /* channel 0's OUT; set_level NULL: nothing connected */
    int irq0_level;             /* the level last given to irq0 */

    struct x86_event_queue *events;  /* NULL: no events (IRQ0 follows OUT only on accesses) */
    const uint64_t *cycles;          /* the CPU's cycle counter: "now" */
    uint64_t cpu_hz;
    /* PIT edges per cycle as a reduced fraction: edges(c) = floor(c * numerator / denominator) */
    uint64_t clock_numerator, clock_denominator;

    uint64_t event_id;          /* channel 0's pending OUT event, 0: none */
    uint64_t event_tick;        /* its clock edge */

    uint8_t port_b;             /* port 0x61 bits 0-3 as written */
};

/* events: the machine's queue (may be NULL); cycles: the CPU's cycle counter, read for "now";
 * cpu_hz: cycles per second (0 means the default 1e9; values above UINT64_MAX / 11 are clamped).
 * Power-on state (undefined on the chip): every counter as after a mode 0, LSB-then-MSB,
 * binary control word with no count written (OUT low, null count set); GATE 0 and 1 high,
 * GATE 2 low. */
void x86_pit_init(struct x86_pit *pit, struct x86_event_queue *events, const uint64_t *cycles,
                  uint64_t cpu_hz);
/* Register ports 0x40-0x43 and 0x61. */
x86irq_status x86_pit_attach(struct x86_pit *pit, struct x86_bus *bus);

/* Ports 0x40-0x43 (offset 0-3). Wider accesses are split into byte accesses at consecutive
 * ports, as the ISA bus does; bytes past 0x43 read as all ones. */
uint64_t x86_pit_read(void *opaque, uint64_t offset, unsigned size);
void x86_pit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);
/* Port 0x61 (offset 0): bit 0 GATE 2, bit 1 speaker data, bits 2-3 stored (parity and I/O
 * check enables); reads add bit 4 refresh toggle and bit 5 channel 2 OUT (bits 6-7 read 0). */
uint64_t x86_pit_port61_read(void *opaque, uint64_t offset, unsigned size);
void x86_pit_port61_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

/* Drive a counter's GATE input now (port 0x61 does it for channel 2). */
void x86_pit_set_gate(struct x86_pit *pit, unsigned channel, bool level);
/* A counter's OUT now. */
bool x86_pit_output(struct x86_pit *pit, unsigned channel);
/* PIT clock edges seen by cycle (floor), and the first cycle at or after edge tick (saturates
 * at UINT64_MAX). */
uint64_t x86_pit_tick_at_cycle(const struct x86_pit *pit, uint64_t cycle);
uint64_t x86_pit_cycle_at_tick(const struct x86_pit *pit, uint64_t tick);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_pit_channel0_event(void *context, void *opaque);

#endif
