/* The Intel MultiProcessor Specification 1.4 tables of the PC board (chapter 4): the floating
 * pointer structure and the configuration table with its processor, bus, I/O APIC, I/O
 * interrupt assignment and local interrupt assignment entries, in the order the specification
 * requires (by entry type). Linux reads them when it boots without ACPI (acpi=off).
 *
 * The interrupt assignments say what the ACPI tables say: ISA IRQ 0 on IOAPIC pin 2, the others
 * identity-mapped; the SCI level-triggered active high; PCI INTx (the layout's entries, which
 * follow x86_firmware_pci_gsi) level-triggered active low; the 8259's output on LINT0 (ExtINT)
 * and NMI on LINT1 of every processor.
 */
#include "board/firmware_tables.h"

#include <string.h>

#define FLOATING_SIZE 16u
#define HEADER_SIZE 44u
#define PROCESSOR_SIZE 20u
#define ENTRY_SIZE 8u /* every other entry type */
#define SPEC_REVISION 4u /* 1.4 */
#define MP_OEM_ID "X86IRQ  "         /* 8 characters */
#define MP_PRODUCT_ID "LIBX86IRQ   " /* 12 */

enum { ENTRY_PROCESSOR = 0, ENTRY_BUS = 1, ENTRY_IOAPIC = 2, ENTRY_IO_INTERRUPT = 3,
       ENTRY_LOCAL_INTERRUPT = 4 };
enum { INT_INT = 0, INT_NMI = 1, INT_EXTINT = 3 }; /* interrupt types (Table 4-10) */
#define CPU_ENABLED 1u
#define CPU_BOOTSTRAP 2u
#define IOAPIC_ENABLED 1u
/* Interrupt flags (Table 4-11): PO bits 1:0, EL bits 3:2; 0 = conforms to the bus */
#define FLAGS_CONFORMS 0x0u
#define FLAGS_ACTIVE_HIGH 0x1u
#define FLAGS_ACTIVE_LOW 0x3u
#define FLAGS_EDGE (0x1u << 2)
#define FLAGS_LEVEL (0x3u << 2)
#define BUS_PCI 0u
#define BUS_ISA 1u
#define ALL_LAPICS 0xFFu
#define TIMER_PIN 2u

/* The ISA IRQs with an I/O interrupt entry: all but IRQ 2 (the cascade: the 8259's output
 * reaches the processors' LINT0, not an IOAPIC pin, and pin 2 carries IRQ 0, as QEMU wires it)
 * and those whose pins carry PCI interrupts (10 and 11; SeaBIOS leaves them out too). */
static bool isa_listed(unsigned irq)
{
    return irq != 2 && (x86_fw_pci_gsi_mask() & (1u << irq)) == 0;
}

static unsigned io_interrupt_count(const struct x86_firmware_layout *l)
{
    unsigned n = l->pci_irq_count;
    for (unsigned irq = 0; irq < X86_FW_ISA_IRQS; irq++)
        n += isa_listed(irq);
    return n;
}

static unsigned entry_count(const struct x86_firmware_layout *l)
{
    return l->cpu_count + 2u /* buses */ + 1u /* IOAPIC */ + io_interrupt_count(l) +
           2u /* local interrupts */;
}

uint32_t x86_mp_config_size(const struct x86_firmware_layout *layout)
{
    return HEADER_SIZE + layout->cpu_count * PROCESSOR_SIZE +
           (entry_count(layout) - layout->cpu_count) * ENTRY_SIZE;
}

static uint8_t *interrupt(uint8_t *e, uint8_t entry, uint8_t type, uint16_t flags, uint8_t bus,
                          uint8_t bus_irq, uint8_t destination, uint8_t pin)
{
    e[0] = entry;
    e[1] = type;
    x86_fw_put16(e + 2, flags);
    e[4] = bus;
    e[5] = bus_irq;
    e[6] = destination;
    e[7] = pin;
    return e + ENTRY_SIZE;
}

static uint8_t *bus(uint8_t *e, uint8_t id, const char type[7])
{
    e[0] = ENTRY_BUS;
    e[1] = id;
    memcpy(e + 2, type, 6);
    return e + ENTRY_SIZE;
}

void x86_mp_write(uint8_t *ram, const struct x86_firmware_layout *l)
{
    uint8_t *t = ram + X86_FW_MP_CONFIG;
    uint32_t length = x86_mp_config_size(l);
    memcpy(t, "PCMP", 4);
    x86_fw_put16(t + 4, (uint16_t)length);
    t[6] = SPEC_REVISION;
    memcpy(t + 8, MP_OEM_ID, 8);
    memcpy(t + 16, MP_PRODUCT_ID, 12);
    /* no OEM table (28, 32); no extended entries (40, 42: length and checksum 0) */
    x86_fw_put16(t + 34, (uint16_t)entry_count(l));
    x86_fw_put32(t + 36, l->lapic_base);

    uint8_t *e = t + HEADER_SIZE;
    for (unsigned n = 0; n < l->cpu_count; n++, e += PROCESSOR_SIZE) {
        e[0] = ENTRY_PROCESSOR;
        e[1] = (uint8_t)n; /* local APIC ID */
        e[2] = X86_FW_LAPIC_VERSION;
        e[3] = (uint8_t)(CPU_ENABLED | (n == 0 ? CPU_BOOTSTRAP : 0u));
        x86_fw_put32(e + 4, l->cpu_signature);
        x86_fw_put32(e + 8, l->cpu_features);
    }
    /* bus IDs in increasing order; type strings are 6 characters, blank-padded */
    e = bus(e, BUS_PCI, "PCI   ");
    e = bus(e, BUS_ISA, "ISA   ");
    e[0] = ENTRY_IOAPIC;
    e[1] = l->ioapic_id;
    e[2] = X86_FW_IOAPIC_VERSION;
    e[3] = IOAPIC_ENABLED;
    x86_fw_put32(e + 4, l->ioapic_base);
    e += ENTRY_SIZE;

    for (unsigned irq = 0; irq < X86_FW_ISA_IRQS; irq++) {
        if (!isa_listed(irq))
            continue;
        uint16_t flags = irq == l->sci_irq ? FLAGS_ACTIVE_HIGH | FLAGS_LEVEL : FLAGS_CONFORMS;
        e = interrupt(e, ENTRY_IO_INTERRUPT, INT_INT, flags, BUS_ISA, (uint8_t)irq, l->ioapic_id,
                      (uint8_t)(irq == 0 ? TIMER_PIN : irq));
    }
    /* a PCI bus IRQ is (device << 2) | pin (chapter D.3) */
    for (unsigned i = 0; i < l->pci_irq_count; i++)
        e = interrupt(e, ENTRY_IO_INTERRUPT, INT_INT, FLAGS_ACTIVE_LOW | FLAGS_LEVEL, BUS_PCI,
                      (uint8_t)((l->pci_irqs[i].device << 2) | l->pci_irqs[i].pin), l->ioapic_id,
                      l->pci_irqs[i].gsi);
    e = interrupt(e, ENTRY_LOCAL_INTERRUPT, INT_EXTINT, FLAGS_CONFORMS, BUS_ISA, 0, ALL_LAPICS, 0);
    interrupt(e, ENTRY_LOCAL_INTERRUPT, INT_NMI, FLAGS_CONFORMS, BUS_ISA, 0, ALL_LAPICS, 1);
    x86_fw_set_checksum(t, length, 7);

    /* The floating pointer (chapter 4.1): configuration table present (feature byte 1 = 0), no
     * IMCR (feature byte 2 bit 7 clear: virtual wire mode) */
    uint8_t *f = ram + X86_FW_MP_FLOATING;
    memcpy(f, "_MP_", 4);
    x86_fw_put32(f + 4, X86_FW_MP_CONFIG);
    f[8] = 1; /* length in 16-byte paragraphs */
    f[9] = SPEC_REVISION;
    x86_fw_set_checksum(f, FLOATING_SIZE, 10);
}

uint32_t x86_firmware_mp_floating_address(const uint8_t *ram, uint64_t ram_size)
{
    if (ram == NULL || ram_size < X86_FW_REGION_END)
        return 0;
    /* as Linux's smp_scan_config checks a candidate: signature, length 1, checksum, and a
     * revision it knows (1.1 or 1.4) */
    for (uint32_t at = X86_FW_F_SEGMENT; at + FLOATING_SIZE <= X86_FW_REGION_END; at += 16u) {
        const uint8_t *f = ram + at;
        if (memcmp(f, "_MP_", 4) == 0 && f[8] == 1 && x86_fw_sum(f, FLOATING_SIZE) == 0 &&
            (f[9] == 1 || f[9] == 4))
            return at;
    }
    return 0;
}
