/* The High Precision Event Timer (IA-PC HPET Specification 1.0a) as a PC chipset has it: one
 * block of 3 comparators at MMIO 0xFED00000 (1 KiB), a 64-bit main counter at 100 MHz (period
 * 10,000,000 fs, as QEMU's), 64-bit comparators, timer 0 periodic-capable, legacy replacement
 * routing (LEG_RT_CNF: timer 0 -> ISA IRQ 0, timer 1 -> ISA IRQ 8, and the PIT and RTC
 * interrupts are cut off), otherwise Tn_INT_ROUTE_CNF selects an IOAPIC pin from
 * Tn_INT_ROUTE_CAP (pins 2, 8 and 16-23, as QEMU's pc machine), edge or level (Tn_INT_TYPE_CNF
 * with the General Interrupt Status register). No FSB (MSI) delivery.
 *
 * Time comes from the machine's cycles: the main counter is computed from the cycle it last
 * started at (exact rational conversion, no drift); comparator matches are events on the
 * machine's queue at the first cycle at or after the counter reaches them.
 */
#ifndef X86IRQ_DEVICES_HPET_H
#define X86IRQ_DEVICES_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/bus.h"
#include "platform/events.h"

#define X86_HPET_BASE 0xFED00000u
#define X86_HPET_SIZE 0x400u
#define X86_HPET_TIMERS 3
#define X86_HPET_PERIOD_FS 10000000u /* femtoseconds per tick: 100 MHz */

struct x86_hpet {
    /* interrupt outputs, wired by the board */
    void *opaque;
    /* a timer's line to an IOAPIC input pin (not in legacy replacement mode) */
    void (*set_ioapic_pin)(void *opaque, unsigned pin, int level);
    /* legacy replacement: timer 0 drives ISA IRQ 0, timer 1 ISA IRQ 8 */
    void (*set_isa_irq)(void *opaque, unsigned irq, int level);
    /* LEG_RT_CNF changed: the board disconnects (on) or reconnects (off) the PIT's IRQ 0 and
     * the RTC's IRQ 8 */
    void (*legacy_changed)(void *opaque, bool on);

    struct x86_event_queue *events;
    const uint64_t *cycles;
    uint64_t cpu_hz;
    /* the implementation's private state follows */

    /* main counter ticks per cycle as a reduced fraction: ticks(c) = floor(c * num / den) */
    uint64_t tick_numerator, tick_denominator;
    uint64_t config;        /* General Configuration: ENABLE_CNF, LEG_RT_CNF */
    uint64_t status;        /* General Interrupt Status: level-mode Tn_INT_STS */
    /* The main counter: while running, counter_base + ticks since start_cycle; while halted,
     * counter_base itself. */
    uint64_t counter_base;
    uint64_t start_cycle;
    struct x86_hpet_timer {
        struct x86_hpet *owner;
        unsigned index;
        uint32_t config;        /* the writable Tn_CONFIG bits (capabilities added on reads) */
        uint64_t comparator;    /* Tn_COMPARATOR as of the last settle */
        uint64_t period;        /* the last value written to the comparator */
        uint64_t next_match;    /* tick (since start_cycle) of the next match; UINT64_MAX: none */
        uint64_t event_id;      /* the pending match event, 0: none */
        uint64_t event_cycle;
        int destination;        /* the line it drives now (see hpet.c), -1: none */
        int level;              /* the level it contributes there */
    } timer[X86_HPET_TIMERS];
};

/* Power-on state: counter halted at 0, legacy routing off, every timer disabled, one-shot,
 * edge, route 0, comparator all ones. Clears the whole struct: wire opaque and the callbacks
 * after it (any of them may stay NULL). events may be NULL (no events: interrupts are then
 * delivered only when the HPET is accessed); cpu_hz 0 means 1e9. */
void x86_hpet_init(struct x86_hpet *hpet, struct x86_event_queue *events, const uint64_t *cycles,
                   uint64_t cpu_hz);
/* MMIO [X86_HPET_BASE, +X86_HPET_SIZE); 32- and 64-bit accesses as the specification allows. */
x86irq_status x86_hpet_attach(struct x86_hpet *hpet, struct x86_bus *bus);
uint64_t x86_hpet_read(void *opaque, uint64_t offset, unsigned size);
void x86_hpet_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);
/* The main counter now (what offset 0xF0 reads), without side effects. */
uint64_t x86_hpet_counter(const struct x86_hpet *hpet);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_hpet_timer_event(void *context, void *opaque);

#endif
