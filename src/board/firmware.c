/* The firmware tables (see firmware.h): checking the layout, placing the tables in the BIOS
 * region, and what the ACPI and MP builders share. Nothing is written until everything has been
 * checked and is known to fit, so a rejected layout leaves guest RAM as it was. */
#include "board/firmware_tables.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The DSDT's PCI window starts here (src/board/dsdt.asl): RAM must end below it */
#define RAM_LIMIT 0xC0000000ull
#define MAX_CPUS 255u        /* APIC ID 0xFF is the xAPIC broadcast */
#define MIN_IOAPIC_PINS 16u  /* the ISA IRQs are identity-mapped onto GSIs 0-15 */
#define MAX_IOAPIC_PINS 240u /* vectors 16-255 */
#define MAX_IOAPIC_ID 15u    /* the IOAPIC's ID register has 4 bits (src/apic/ioapic.c) */
#define PCI_DEVICES 32u
#define PCI_PINS 4u
#define PM_BLOCK_SIZE 12u    /* PM1a_EVT (4), PM1a_CNT at +4 (2), PM_TMR at +8 (4) */
#define GPE0_BLOCK_SIZE 4u
#define PAGE_MASK 0xFFFu

uint8_t x86_fw_sum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

void x86_fw_set_checksum(uint8_t *p, size_t n, size_t at)
{
    p[at] = 0;
    p[at] = (uint8_t)(0x100u - x86_fw_sum(p, n));
}

bool x86_fw_fail(char *error, size_t error_size, const char *format, ...)
{
    if (error != NULL && error_size > 0) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(error, error_size, format, ap);
        va_end(ap);
    }
    return false;
}

unsigned x86_firmware_pci_gsi(unsigned device, unsigned pin)
{
    /* PIRQ = (device + pin - 1) mod 4, computed without going negative for device 0 */
    unsigned pirq = ((device % PCI_DEVICES) + (pin % PCI_PINS) + PCI_PINS - 1u) % PCI_PINS;
    return pirq < 2u ? 10u : 11u;
}

uint32_t x86_fw_pci_gsi_mask(void)
{
    uint32_t mask = 0;
    for (unsigned device = 0; device < PCI_DEVICES; device++)
        for (unsigned pin = 0; pin < PCI_PINS; pin++)
            mask |= 1u << x86_firmware_pci_gsi(device, pin);
    return mask;
}

static bool ranges_overlap(uint32_t a, uint32_t a_size, uint32_t b, uint32_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

static bool check_pci_irqs(const struct x86_firmware_layout *l, char *error, size_t error_size)
{
    if (l->pci_irq_count > X86_FIRMWARE_MAX_PCI_IRQS)
        return x86_fw_fail(error, error_size, "firmware: %u PCI interrupts (at most %u)",
                           l->pci_irq_count, (unsigned)X86_FIRMWARE_MAX_PCI_IRQS);
    for (unsigned i = 0; i < l->pci_irq_count; i++) {
        unsigned device = l->pci_irqs[i].device, pin = l->pci_irqs[i].pin;
        if (device >= PCI_DEVICES || pin >= PCI_PINS)
            return x86_fw_fail(error, error_size,
                               "firmware: PCI interrupt %u: device %u pin %u (devices 0-31, pins 0-3)",
                               i, device, pin);
        if (l->pci_irqs[i].gsi != x86_firmware_pci_gsi(device, pin))
            return x86_fw_fail(error, error_size,
                               "firmware: PCI interrupt %u: device %u INT%c to GSI %u, but the "
                               "DSDT routes it to GSI %u", i, device, 'A' + (int)pin,
                               (unsigned)l->pci_irqs[i].gsi, x86_firmware_pci_gsi(device, pin));
        for (unsigned j = 0; j < i; j++)
            if (l->pci_irqs[j].device == device && l->pci_irqs[j].pin == pin)
                return x86_fw_fail(error, error_size,
                                   "firmware: PCI interrupt %u: device %u INT%c listed twice", i,
                                   device, 'A' + (int)pin);
    }
    return true;
}

static bool check_layout(const struct x86_firmware_layout *l, char *error, size_t error_size)
{
    if (l->cpu_count < 1 || l->cpu_count > MAX_CPUS)
        return x86_fw_fail(error, error_size, "firmware: %u processors (1-%u)", l->cpu_count,
                           MAX_CPUS);
    if (l->lapic_base == 0 || (l->lapic_base & PAGE_MASK) != 0)
        return x86_fw_fail(error, error_size,
                           "firmware: local APIC base 0x%08x is not a non-zero 4 KiB boundary",
                           (unsigned)l->lapic_base);
    if (l->ioapic_id > MAX_IOAPIC_ID)
        return x86_fw_fail(error, error_size, "firmware: IOAPIC ID %u (the ID register has 4 bits)",
                           (unsigned)l->ioapic_id);
    if (l->ioapic_base == 0 || (l->ioapic_base & PAGE_MASK) != 0)
        return x86_fw_fail(error, error_size,
                           "firmware: IOAPIC base 0x%08x is not a non-zero 4 KiB boundary",
                           (unsigned)l->ioapic_base);
    if (l->ioapic_pins < MIN_IOAPIC_PINS || l->ioapic_pins > MAX_IOAPIC_PINS)
        return x86_fw_fail(error, error_size, "firmware: %u IOAPIC pins (%u-%u)", l->ioapic_pins,
                           MIN_IOAPIC_PINS, MAX_IOAPIC_PINS);
    if (l->pm_base == 0 || l->pm_base + PM_BLOCK_SIZE > 0x10000u)
        return x86_fw_fail(error, error_size, "firmware: PM block at port 0x%x (12 bytes, non-zero)",
                           (unsigned)l->pm_base);
    if (l->gpe0_base == 0 || l->gpe0_base + GPE0_BLOCK_SIZE > 0x10000u ||
        ranges_overlap(l->pm_base, PM_BLOCK_SIZE, l->gpe0_base, GPE0_BLOCK_SIZE))
        return x86_fw_fail(error, error_size,
                           "firmware: GPE0 block at port 0x%x (4 bytes, non-zero, apart from the PM block)",
                           (unsigned)l->gpe0_base);
    /* IRQ 0 is overridden to GSI 2, IRQ 2 is the cascade, and a PCI GSI is level active-low,
     * which the SCI (level active-high) cannot share */
    if (l->sci_irq == 0 || l->sci_irq == 2 || l->sci_irq >= X86_FW_ISA_IRQS ||
        (x86_fw_pci_gsi_mask() & (1u << l->sci_irq)) != 0)
        return x86_fw_fail(error, error_size,
                           "firmware: SCI on IRQ %u (an ISA IRQ 1-15 but 2, not a PCI one)",
                           (unsigned)l->sci_irq);
    if (l->reset_port == 0)
        return x86_fw_fail(error, error_size, "firmware: no reset port");
    if ((l->hpet_base & PAGE_MASK) != 0)
        return x86_fw_fail(error, error_size, "firmware: HPET base 0x%08x is not a 4 KiB boundary",
                           (unsigned)l->hpet_base);
    return check_pci_irqs(l, error, error_size);
}

bool x86_firmware_build(uint8_t *ram, uint64_t ram_size, const struct x86_firmware_layout *layout,
                        char *error, size_t error_size)
{
    if (ram == NULL || layout == NULL)
        return x86_fw_fail(error, error_size, "firmware: no RAM or no layout");
    if (ram_size < X86_FW_REGION_END)
        return x86_fw_fail(error, error_size,
                           "firmware: %llu bytes of RAM do not hold the BIOS region 0x%x-0x%x",
                           (unsigned long long)ram_size, (unsigned)X86_FIRMWARE_REGION_BASE,
                           (unsigned)X86_FW_REGION_END - 1u);
    if (ram_size > RAM_LIMIT)
        return x86_fw_fail(error, error_size,
                           "firmware: %llu bytes of RAM overlap the PCI window at 3 GiB",
                           (unsigned long long)ram_size);
    if (!check_layout(layout, error, error_size) || !x86_acpi_check(error, error_size))
        return false;
    uint32_t acpi_size = x86_acpi_area_size(layout);
    if (acpi_size > X86_FW_F_SEGMENT - X86_FW_ACPI_AREA)
        return x86_fw_fail(error, error_size, "firmware: the ACPI tables take %u bytes (at most %u)",
                           (unsigned)acpi_size, (unsigned)(X86_FW_F_SEGMENT - X86_FW_ACPI_AREA));
    uint32_t mp_size = x86_mp_config_size(layout);
    if (mp_size > X86_FW_REGION_END - X86_FW_MP_CONFIG)
        return x86_fw_fail(error, error_size, "firmware: the MP table takes %u bytes (at most %u)",
                           (unsigned)mp_size, (unsigned)(X86_FW_REGION_END - X86_FW_MP_CONFIG));

    memset(ram + X86_FIRMWARE_REGION_BASE, 0, X86_FIRMWARE_REGION_SIZE);
    x86_acpi_write(ram, layout);
    x86_mp_write(ram, layout);
    return true;
}
