/* Test helper: build the firmware tables for a typical machine (4 processors, the e1000 in slot
 * 3, an HPET) and write each ACPI table to DIR/<signature>.dat (as acpidump -b names them) and
 * the MP region to DIR/mp.bin, for check_tables.sh to hand to iasl -d and acpiexec.
 * Usage: dump_tables DIR [hpet|no-hpet] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board/firmware.h"

#define RAM_SIZE (2u << 20)

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int write_file(const char *dir, const char *name, const uint8_t *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size) {
        perror(path);
        if (f != NULL)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static int write_table(const char *dir, const uint8_t *ram, uint32_t address)
{
    char name[16];
    const uint8_t *t = ram + address;
    uint32_t length = get32(t + 4);
    if (address == 0 || address + (uint64_t)length > RAM_SIZE)
        return 1;
    snprintf(name, sizeof(name), "%c%c%c%c.dat", t[0] | 0x20, t[1] | 0x20, t[2] | 0x20, t[3] | 0x20);
    return write_file(dir, name, t, length);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "hpet") != 0 &&
                                 strcmp(argv[2], "no-hpet") != 0)) {
        fprintf(stderr, "usage: %s DIR [hpet|no-hpet]\n", argv[0]);
        return 2;
    }
    struct x86_firmware_layout l = {
        .cpu_count = 4, .lapic_base = 0xFEE00000u, .ioapic_id = 4, .ioapic_base = 0xFEC00000u,
        .ioapic_pins = 24, .pm_base = 0x600, .gpe0_base = 0xAFE0, .sci_irq = 9,
        .reset_port = 0xCF9, .hpet_base = 0xFED00000u, .cpu_signature = 0x6F1,
        .cpu_features = 0x0183AB7Fu,
    };
    l.pci_irqs[0].device = 3; /* the e1000, INTA */
    l.pci_irqs[0].gsi = (uint8_t)x86_firmware_pci_gsi(3, 0);
    l.pci_irq_count = 1;
    if (argc == 3 && strcmp(argv[2], "no-hpet") == 0)
        l.hpet_base = 0;
    uint8_t *ram = calloc(1, RAM_SIZE);
    char error[200];
    if (ram == NULL || !x86_firmware_build(ram, RAM_SIZE, &l, error, sizeof(error))) {
        fprintf(stderr, "dump_tables: %s\n", ram == NULL ? "out of memory" : error);
        return 1;
    }
    uint32_t rsdp = x86_firmware_rsdp_address(ram, RAM_SIZE);
    if (rsdp == 0)
        return 1;
    int failed = write_file(argv[1], "rsdp.dat", ram + rsdp, 36);
    uint32_t rsdt = get32(ram + rsdp + 16), xsdt = get32(ram + rsdp + 24);
    failed |= write_table(argv[1], ram, rsdt) | write_table(argv[1], ram, xsdt);
    for (uint32_t at = 36; at < get32(ram + rsdt + 4); at += 4) {
        uint32_t table = get32(ram + rsdt + at);
        failed |= write_table(argv[1], ram, table);
        if (memcmp(ram + table, "FACP", 4) == 0) {
            failed |= write_table(argv[1], ram, get32(ram + table + 40)); /* DSDT */
            failed |= write_file(argv[1], "facs.dat", ram + get32(ram + table + 36), 64);
        }
    }
    failed |= write_file(argv[1], "mp.bin", ram + 0xF0000, 0x10000);
    free(ram);
    return failed;
}
