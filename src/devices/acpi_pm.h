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

#include "machine/bus.h"
#include "machine/events.h"
#include "machine/irq.h"

#define X86_ACPI_PM_BASE 0x600u   /* PM1a_EVT_BLK (4 bytes), PM1a_CNT_BLK at +4 (2), PM_TMR at +8 (4) */
#define X86_ACPI_GPE0_BASE 0xAFE0u /* GPE0_BLK, 4 bytes: status then enable */
#define X86_ACPI_SCI_IRQ 9u
/* The SLP_TYP of \_S5 in our DSDT (src/board): writing it with SLP_EN powers off */
#define X86_ACPI_SLP_TYP_S5 0u
#define X86_ACPI_PM_TIMER_NUMERATOR 315000000ull /* Hz = numerator / denominator */
#define X86_ACPI_PM_TIMER_DENOMINATOR 88ull

struct x86_acpi_pm {
    struct x86_irq_wire sci;          /* ISA IRQ 9 */
    void (*sleep)(void *opaque, unsigned slp_typ); /* SLP_EN written */
    void *opaque;
    struct x86_event_queue *events;
    const uint64_t *cycles;
    uint64_t cpu_hz;
    /* the implementation's private state follows */
};

void x86_acpi_pm_init(struct x86_acpi_pm *pm, struct x86_event_queue *events,
                      const uint64_t *cycles, uint64_t cpu_hz);
/* The PM block at pm_base (12 bytes) and GPE0 at gpe0_base (4 bytes). */
x86irq_status x86_acpi_pm_attach(struct x86_acpi_pm *pm, struct x86_bus *bus, uint16_t pm_base,
                                 uint16_t gpe0_base);
/* The PM timer's value now (24 bits). */
uint32_t x86_acpi_pm_timer(const struct x86_acpi_pm *pm);

#endif
