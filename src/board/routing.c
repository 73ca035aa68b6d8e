/* Interrupt routing on the PC board: ISA lines and GSIs to the 8259 pair and the IOAPIC, the
 * core's INTR from the LAPIC or LINT0, the INTA cycle, EOI broadcast, MSI, INIT. */
#include "board/board.h"

#include "machine/machine.h"

void x86_machine_update_intr(x86irq_machine *m)
{
    bool level = x86_lapic_enabled(&m->lapic) ? x86_lapic_intr(&m->lapic)
                                              : m->lapic.lint_level[0] != 0;
    if (level && !m->cpu.intr_line)
        x86_request_exit(&m->cpu); /* sampled at the next instruction boundary */
    m->cpu.intr_line = level;
}

void x86_machine_lint0_changed(x86irq_machine *m)
{
    /* LINT0 is the wired OR of the 8259's INT output and the embedder's INTR */
    int level = m->embedder_intr || (m->has_chipset && x86_pic_output(&m->pic));
    x86_lapic_set_lint(&m->lapic, 0, level);
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

int x86_machine_acknowledge_intr(x86irq_machine *m)
{
    m->accept_source = 0;
    int vector = x86_lapic_enabled(&m->lapic) ? x86_lapic_acknowledge(&m->lapic)
                                              : x86_machine_extint_acknowledge(m);
    if (vector >= 0 && X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_ACCEPT, .vector = (uint32_t)vector,
                                 .origin = X86IRQ_ORIGIN_HARDWARE, .line = m->accept_source };
        x86_trace_emit(m, &e);
    }
    return vector;
}

void x86_machine_eoi_broadcast(x86irq_machine *m, uint8_t vector)
{
    if (m->has_chipset)
        x86_ioapic_eoi(&m->ioapic, vector);
}

void x86_machine_move_lapic(x86irq_machine *m, uint32_t base)
{
    (void)base;
    x86_bus_remove_mmio(&m->bus, &m->lapic, "lapic");
    if (x86_lapic_attach(&m->lapic) != X86IRQ_OK) {
        /* the new window overlaps RAM or a device: the LAPIC is reachable through MSRs only,
         * as when hardware leaves it behind memory */
    }
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
    if (changed && X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_LINE, .line = gsi, .level = level != 0 };
        x86_trace_emit(m, &e);
    }
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

/* An MSI write reaching the local APIC (SDM Vol. 3 10.11): the LAPIC accepts the message when
 * the destination names it */
void x86_board_send_msi(void *context, const struct x86_msi_message *msg)
{
    x86irq_machine *m = context;
    if (!x86_lapic_matches(&m->lapic, msg->destination, msg->logical))
        return;
    if (X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_ROUTE, .vector = msg->vector,
                                 .line = 0xFFFF, .level = msg->level };
        x86_trace_emit(m, &e);
    }
    x86_lapic_accept(&m->lapic, msg->vector, (enum x86_delivery_mode)msg->delivery_mode,
                     msg->level);
}

void x86_machine_init_signal(x86irq_machine *m)
{
    x86_cpu_init_signal(&m->cpu);
    x86_lapic_init_signal(&m->lapic);
    x86_machine_lint0_changed(m);
}

