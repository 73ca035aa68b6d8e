/* The I/O APIC (Intel 82093AA datasheet; version 0x20 as in ICH-era chipsets, with the EOI
 * register): 24 redirection entries that turn interrupt lines (GSIs) into messages for the
 * local APIC. MMIO at 0xFEC00000: IOREGSEL (0x00), IOWIN (0x10), EOI (0x40).
 */
#ifndef X86IRQ_APIC_IOAPIC_H
#define X86IRQ_APIC_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "x86irq/x86irq.h"

struct x86_apic_bus;
struct x86_bus;
struct x86_trace;

#define X86_IOAPIC_BASE 0xFEC00000u
#define X86_IOAPIC_PINS 24

struct x86_ioapic {
    struct x86_apic_bus *apic_bus; /* where its messages go */
    const uint64_t *clock;        /* the machine's "now": the messages' send cycle */
    struct x86_trace *trace;
    uint32_t id;                  /* register 0, bits 27:24 */
    uint8_t select;               /* IOREGSEL */
    uint64_t redirection[X86_IOAPIC_PINS];
    uint32_t line_level;          /* input levels as driven (before polarity) */
};

void x86_ioapic_init(struct x86_ioapic *ioapic, struct x86_apic_bus *apic_bus,
                     const uint64_t *clock, struct x86_trace *trace);
x86irq_status x86_ioapic_attach(struct x86_ioapic *ioapic, struct x86_bus *bus);
/* An input line's level changed (pin 0-23). */
void x86_ioapic_set_pin(struct x86_ioapic *ioapic, unsigned pin, int level);
/* An EOI for vector (broadcast by the LAPIC or written to the EOI register): clears Remote IRR
 * of the level-triggered entries with that vector; a line still asserted delivers again. */
void x86_ioapic_eoi(struct x86_ioapic *ioapic, uint8_t vector);
/* Is an unmasked entry in NMI or INIT mode (a device's line can wake a core with IF = 0)? */
bool x86_ioapic_sends_nmi_or_init(const struct x86_ioapic *ioapic);
uint64_t x86_ioapic_read(void *opaque, uint64_t offset, unsigned size);
void x86_ioapic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

#endif
