/* Interrupt routing on the PC board: ISA lines and GSIs to the 8259 pair and the IOAPIC, LINT0
 * from the 8259 and the embedder's INTR, the INTA cycle on the external bus. */
#include "board/board.h"

#include "machine/machine.h"
#include "trace/emit.h"

void x86_machine_lint0_changed(x86irq_machine *m)
{
    /* LINT0 of every LAPIC is the wired OR of the 8259's INT output and the embedder's INTR
     * (the MP specification's virtual wire mode; the APs' LINT0 is masked until their OS
     * programs it) */
    int level = m->embedder_intr || (m->has_chipset && x86_pic_output(&m->pic));
    m->lint0_level = level;
    for (unsigned i = 0; i < m->core_count; i++)
        x86_lapic_set_lint(&m->cores[i]->lapic, 0, level);
}

int x86_machine_extint_acknowledge(x86irq_machine *m)
{
    /* the INTA cycle on the external bus: the 8259 answers when its INT is up */
    m->accept_source = 1;
    if (m->has_chipset && x86_pic_output(&m->pic))
        return x86_pic_acknowledge(&m->pic);
    m->accept_source = 2;
    if (m->embedder_intr && m->intr_acknowledge)
        return m->intr_acknowledge(m->intr_acknowledge_opaque);
    return -1;
}

/* The electrical level at IOAPIC input `pin`: the line wired there (ISA IRQ 0 on pin 2, the
 * others on their own number) OR'ed with the HPET's routed timers. A PCI INTx# wire is
 * active low (PCI Local Bus 2.3, 2.2.6), so the IOAPIC sees it inverted and is programmed
 * active low for it, as the MP table and the ACPI _PRT tell the OS. */
static void update_ioapic_pin(x86irq_machine *m, unsigned pin)
{
    unsigned line = pin == 2 ? 0 : pin;
    bool asserted = pin != 0 && ((m->gsi_level >> line) & 1);
    if ((m->pci_gsi_mask >> line) & 1) {
        x86_ioapic_set_pin(&m->ioapic, pin, !asserted);
        return;
    }
    asserted |= (m->hpet_pin_level >> pin) & 1;
    x86_ioapic_set_pin(&m->ioapic, pin, asserted);
}

void x86_machine_set_gsi(x86irq_machine *m, unsigned gsi, int level)
{
    if (!m->has_chipset || gsi >= X86_IOAPIC_PINS)
        return;
    bool changed = ((m->gsi_level >> gsi) & 1) != (level != 0);
    if (level)
        m->gsi_level |= 1u << gsi;
    else
        m->gsi_level &= ~(1u << gsi);
    if (changed)
        x86_trace_line(&m->trace, gsi, level != 0);
    /* the 8259s see positive levels (the PIRQ router inverts PCI's INTx# for them); IRQ2 is
     * the cascade, not an ISA line */
    if (gsi < 16 && gsi != 2)
        x86_pic_set_irq(&m->pic, gsi, level);
    if (gsi != 2)
        update_ioapic_pin(m, gsi == 0 ? 2 : gsi); /* ISA IRQ0 (the PIT) is on IOAPIC pin 2 */
}

void x86_board_set_ioapic_pin_source(x86irq_machine *m, unsigned pin, int level)
{
    if (!m->has_chipset || pin >= X86_IOAPIC_PINS)
        return;
    if (level)
        m->hpet_pin_level |= 1u << pin;
    else
        m->hpet_pin_level &= ~(1u << pin);
    update_ioapic_pin(m, pin);
}
