/* The firmware tables of the PC board, as a BIOS (SeaBIOS under QEMU) leaves them in memory:
 * ACPI (RSDP, RSDT, XSDT, FADT, FACS, DSDT, MADT, HPET; ACPI Specification 6.4) and an Intel
 * MultiProcessor Specification 1.4 table (floating pointer and configuration table), so a
 * kernel finds its processors, interrupt controllers, interrupt routing, timers and power
 * control with ACPI or with acpi=off.
 *
 * Everything goes into one region of guest RAM that the memory map reports reserved (the BIOS
 * area 0xE0000-0xFFFFF); the RSDP and the MP floating pointer are on 16-byte boundaries there,
 * where the specifications tell an OS to search.
 */
#ifndef X86IRQ_BOARD_FIRMWARE_H
#define X86IRQ_BOARD_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X86_FIRMWARE_REGION_BASE 0xE0000u
#define X86_FIRMWARE_REGION_SIZE 0x20000u
#define X86_FIRMWARE_MAX_PCI_IRQS 32

/* What the tables describe. */
struct x86_firmware_layout {
    unsigned cpu_count;          /* processors, local APIC IDs 0..cpu_count-1, CPU 0 the BSP */
    uint32_t lapic_base;         /* 0xFEE00000 */
    uint8_t ioapic_id;           /* the IOAPIC's ID register */
    uint32_t ioapic_base;        /* 0xFEC00000 */
    unsigned ioapic_pins;        /* 24, GSI base 0 */
    uint16_t pm_base;            /* PM1a_EVT_BLK; PM1a_CNT_BLK = +4, PM_TMR_BLK = +8 */
    uint16_t gpe0_base;          /* GPE0_BLK, 4 bytes */
    uint8_t sci_irq;             /* 9 */
    uint16_t reset_port;         /* the FADT's RESET_REG (0xCF9, value 0x06) */
    uint32_t hpet_base;          /* 0: no HPET */
    /* PCI INTx routing on bus 0: device's pin (0 INTA .. 3 INTD) reaches IOAPIC pin gsi,
     * level-triggered, active low (an ACPI _PRT entry with a GSI; an MP I/O interrupt entry) */
    struct { uint8_t device, pin, gsi; } pci_irqs[X86_FIRMWARE_MAX_PCI_IRQS];
    unsigned pci_irq_count;
    /* added with the implementation: the processors' CPUID leaf 1 EAX (signature) and EDX
     * (feature flags), for the MP table's processor entries (0 is accepted: Linux reads
     * neither) */
    uint32_t cpu_signature, cpu_features;
};

/* The board's fixed PCI INTx routing (bus 0): the IOAPIC input (GSI) that device's pin
 * (0 INTA .. 3 INTD) reaches. It is the PIIX3 PIRQ swizzle PIRQ = (device + pin - 1) mod 4 with
 * SeaBIOS's link IRQs (PIRQA/PIRQB -> 10, PIRQC/PIRQD -> 11), as under QEMU: device 3 INTA
 * (the e1000) -> 11. The DSDT's _PRT lists exactly this for devices 0-31, so a layout's
 * pci_irqs must follow it (x86_firmware_build rejects any other GSI). Arguments are taken
 * modulo 32 and 4. */
unsigned x86_firmware_pci_gsi(unsigned device, unsigned pin);

/* Build every table into ram (ram_size bytes of guest RAM from physical 0) inside
 * [X86_FIRMWARE_REGION_BASE, +X86_FIRMWARE_REGION_SIZE), which must lie in RAM. Returns false
 * with one line in error when it does not fit or the layout is invalid (nothing is trusted:
 * cpu_count 1..255, pins 16..240, ...; docs/firmware.md lists every check), and then RAM is
 * untouched. RAM must end at or below 3 GiB (the DSDT's PCI window starts there). The region
 * is cleared first. */
bool x86_firmware_build(uint8_t *ram, uint64_t ram_size, const struct x86_firmware_layout *layout,
                        char *error, size_t error_size);

/* Where the tables went (for tests and the trace): physical addresses, found as an OS finds
 * them (the first valid RSDP on a 16-byte boundary in 0xE0000-0xFFFFF; the first valid MP
 * floating pointer in 0xF0000-0xFFFFF); 0 when there is none. */
uint32_t x86_firmware_rsdp_address(const uint8_t *ram, uint64_t ram_size);
uint32_t x86_firmware_mp_floating_address(const uint8_t *ram, uint64_t ram_size);

#endif
