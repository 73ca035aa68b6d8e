/* ACPI fixed hardware of a PC chipset (ACPI Specification 6.4, chapter 4.8): the PM1a event
 * block (PM1_STS/PM1_EN), the PM1a control block (SCI_EN, SLP_TYPx, SLP_EN), the power
 * management timer and the GPE0 block, at I/O addresses the FADT names. The SCI is ISA IRQ 9,
 * level-triggered, active high (as the MADT's override says).
 *
 * The PM timer runs at 3.579545 MHz (exactly 315/88 MHz) from the machine's cycles, 24 bits
 * (FADT TMR_VAL_EXT clear); TMR_STS is set when bit 23 changes and, with TMR_EN, raises the
 * SCI (an event on the machine's queue at the exact cycle). SCI_EN reads 1: the machine is
 * always in ACPI mode (the FADT has no SMI_CMD). Writing SLP_EN with a SLP_TYP calls sleep().
 */
#ifndef X86IRQ_DEVICES_ACPI_PM_H
#define X86IRQ_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/bus.h"
#include "platform/events.h"
#include "platform/irq.h"

#define X86_ACPI_PM_BASE 0x600u   /* PM1a_EVT_BLK (4 bytes), PM1a_CNT_BLK at +4 (2), PM_TMR at +8 (4) */
#define X86_ACPI_GPE0_BASE 0xAFE0u /* GPE0_BLK, 4 bytes: status then enable */
#define X86_ACPI_SCI_IRQ 9u
/* The SLP_TYP of \_S5 in our DSDT (src/board): writing it with SLP_EN powers off */
#define X86_ACPI_SLP_TYP_S5 0u
#define X86_ACPI_PM_TIMER_NUMERATOR 315000000ull /* Hz = numerator / denominator */
#define X86_ACPI_PM_TIMER_DENOMINATOR 88ull

/* PM1_STS bits (ACPI 6.4 table 4.16); PM1_EN has the enables of the first five at the same
 * positions (table 4.17). WAK_STS and BM_STS have no enable and raise no SCI. */
#define X86_ACPI_PM1_TMR 0x0001u
#define X86_ACPI_PM1_BM_STS 0x0010u
#define X86_ACPI_PM1_GBL 0x0020u
#define X86_ACPI_PM1_PWRBTN 0x0100u
#define X86_ACPI_PM1_SLPBTN 0x0200u
#define X86_ACPI_PM1_RTC 0x0400u
#define X86_ACPI_PM1_WAK_STS 0x8000u
/* PM1_CNT bits (table 4.18) */
#define X86_ACPI_PM1_SCI_EN 0x0001u
#define X86_ACPI_PM1_BM_RLD 0x0002u
#define X86_ACPI_PM1_GBL_RLS 0x0004u
#define X86_ACPI_PM1_SLP_TYP_SHIFT 10
#define X86_ACPI_PM1_SLP_TYP_MASK 0x1C00u
#define X86_ACPI_PM1_SLP_EN 0x2000u
#define X86_ACPI_GPE0_COUNT 16u /* GPE0_BLK_LEN 4: 16 status bits, 16 enable bits */

struct x86_acpi_pm {
    struct x86_irq_wire sci;          /* ISA IRQ 9 */
    void (*sleep)(void *opaque, unsigned slp_typ); /* SLP_EN written */
    void *opaque;
    struct x86_event_queue *events;
    const uint64_t *cycles;
    uint64_t cpu_hz;
    /* the implementation's private state follows */
    /* timer ticks per cycle as a reduced fraction: ticks(c) = floor(c * numerator / denominator) */
    uint64_t clock_numerator, clock_denominator;
    uint16_t pm1_status;        /* PM1_STS bits other than TMR_STS */
    uint16_t pm1_enable;
    uint16_t pm1_control;       /* BM_RLD and SLP_TYP as written */
    uint64_t timer_period;      /* ticks >> 23 (bit-23 toggles) at the last TMR_STS clear */
    bool timer_status_latched;  /* the toggle event has run (TMR_STS set) */
    uint16_t gpe0_status, gpe0_enable;
    uint64_t event_id;          /* the pending TMR_STS event, 0: none */
    uint64_t event_period;      /* the timer_period it was scheduled for */
    int sci_level;              /* the level last given to sci */
};

/* events: the machine's queue (NULL: no events; the SCI then follows TMR_STS only on
 * accesses); cycles: the CPU's cycle counter ("now"); cpu_hz: cycles per second (0 means 1e9;
 * values above UINT64_MAX / 11 are clamped). Clears the whole struct: set sci, sleep and
 * opaque after it. Power-on state: every status, enable and control bit 0 (SCI_EN reads 1). */
void x86_acpi_pm_init(struct x86_acpi_pm *pm, struct x86_event_queue *events,
                      const uint64_t *cycles, uint64_t cpu_hz);
/* A system reset: registers to their power-on state, the pending event cancelled, the wiring
 * (sci, sleep, opaque, events, cycles, cpu_hz) kept. The timer keeps counting (it runs from
 * the machine's cycle 0). */
void x86_acpi_pm_reset(struct x86_acpi_pm *pm);
/* The PM block at pm_base (12 bytes) and GPE0 at gpe0_base (4 bytes). */
x86irq_status x86_acpi_pm_attach(struct x86_acpi_pm *pm, struct x86_bus *bus, uint16_t pm_base,
                                 uint16_t gpe0_base);
/* The PM timer's value now (24 bits). */
uint32_t x86_acpi_pm_timer(const struct x86_acpi_pm *pm);
/* Timer ticks seen by cycle (floor) and the first cycle at or after tick (saturates at
 * UINT64_MAX). */
uint64_t x86_acpi_pm_tick_at_cycle(const struct x86_acpi_pm *pm, uint64_t cycle);
uint64_t x86_acpi_pm_cycle_at_tick(const struct x86_acpi_pm *pm, uint64_t tick);
/* Fixed hardware events of the board (a power button press: X86_ACPI_PM1_PWRBTN; a wake:
 * X86_ACPI_PM1_WAK_STS; ...): sets those PM1_STS bits (TMR_STS excluded) and updates the SCI. */
void x86_acpi_pm_raise(struct x86_acpi_pm *pm, uint16_t pm1_status_bits);
/* A general-purpose event: sets GPE0_STS bit gpe (0..15; others ignored). */
void x86_acpi_pm_raise_gpe(struct x86_acpi_pm *pm, unsigned gpe);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_acpi_pm_timer_event(void *context, void *opaque);

#endif
