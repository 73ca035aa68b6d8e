/* The ACPI tables of the PC board (ACPI Specification 6.4, chapter 5.2): RSDP, RSDT and XSDT,
 * FADT (revision 6) with its FACS and DSDT, MADT, and the HPET table (IA-PC HPET Specification
 * 1.0a, chapter 3.2.4). Field offsets are the specification's tables'; every table is written
 * whole into the cleared region, then its checksum is set. */
#include "board/firmware_tables.h"

#include <string.h>

#define HEADER_SIZE 36u
#define ALIGN(x, a) (((x) + (a) - 1u) & ~((a) - 1u))

/* Generic Address Structure (chapter 5.2.3.2) */
enum { GAS_MEMORY = 0, GAS_IO = 1 };
enum { ACCESS_UNDEFINED = 0, ACCESS_BYTE = 1, ACCESS_WORD = 2, ACCESS_DWORD = 3 };
#define GAS_SIZE 12u

/* Table sizes */
#define RSDP_SIZE 36u
#define FACS_SIZE 64u
#define FADT_SIZE 276u /* revision 6: up to the hypervisor vendor identity */
#define HPET_SIZE 56u
#define MADT_FIXED 44u
#define MADT_LAPIC_SIZE 8u
#define MADT_IOAPIC_SIZE 12u
#define MADT_OVERRIDE_SIZE 10u
#define MADT_LAPIC_NMI_SIZE 6u

/* FADT fields (Table 5.9) */
enum {
    FADT_FIRMWARE_CTRL = 36, FADT_DSDT = 40, FADT_SCI_INT = 46, FADT_SMI_CMD = 48,
    FADT_PM1A_EVT_BLK = 56, FADT_PM1A_CNT_BLK = 64, FADT_PM_TMR_BLK = 76, FADT_GPE0_BLK = 80,
    FADT_PM1_EVT_LEN = 88, FADT_PM1_CNT_LEN = 89, FADT_PM_TMR_LEN = 91, FADT_GPE0_BLK_LEN = 92,
    FADT_P_LVL2_LAT = 96, FADT_P_LVL3_LAT = 98, FADT_CENTURY = 108, FADT_IAPC_BOOT_ARCH = 109,
    FADT_FLAGS = 112, FADT_RESET_REG = 116, FADT_RESET_VALUE = 128, FADT_MINOR_VERSION = 131,
    FADT_X_FIRMWARE_CTRL = 132, FADT_X_DSDT = 140, FADT_X_PM1A_EVT_BLK = 148,
    FADT_X_PM1A_CNT_BLK = 172, FADT_X_PM_TMR_BLK = 208, FADT_X_GPE0_BLK = 220,
};
#define FADT_REVISION 6u
#define FADT_MINOR 4u        /* ACPI 6.4 */
#define PM1_EVT_LEN 4u
#define PM1_CNT_LEN 2u
#define PM_TMR_LEN 4u
#define GPE0_BLK_LEN 4u
#define PM1_CNT_OFFSET 4u    /* from pm_base, as src/devices/acpi_pm.h */
#define PM_TMR_OFFSET 8u
#define NO_C2_LATENCY 0x0FFFu /* > 100 us: no C2 (and > 1000: no C3), as QEMU's */
#define CMOS_CENTURY 0x32u
#define RESET_VALUE 0x06u    /* 0xCF9: RST_CPU | SYS_RST, a hard reset */
/* IAPC_BOOT_ARCH (Table 5.11): ISA devices the OS cannot enumerate, and an 8042 */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042 (1u << 1)
/* Fixed feature flags (Table 5.10). PWR_BUTTON and SLP_BUTTON set mean "a control-method button
 * or none": the machine has no button at all, and no button device is in the DSDT. */
#define FLAG_WBINVD (1u << 0)
#define FLAG_PROC_C1 (1u << 2)
#define FLAG_PWR_BUTTON (1u << 4)
#define FLAG_SLP_BUTTON (1u << 5)
#define FLAG_RESET_REG_SUP (1u << 10)

/* MADT (chapter 5.2.12) */
#define MADT_REVISION 5u
#define MADT_PCAT_COMPAT 1u          /* dual 8259s present */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_LAPIC_NMI = 4 };
#define MADT_ENABLED 1u
#define MADT_ALL_PROCESSORS 0xFFu
#define MPS_CONFORMS 0x0000u
#define MPS_LEVEL_ACTIVE_HIGH 0x000Du /* polarity 01 active high, trigger 11 level (Table 5.50) */
#define TIMER_GSI 2u                  /* ISA IRQ 0 reaches IOAPIC pin 2 */

/* HPET table */
#define HPET_BLOCK_ID 0x8086A201u /* the block's capabilities register, low half: vendor 8086h,
                                   * LEG_RT_CAP, COUNT_SIZE_CAP (64-bit), NUM_TIM_CAP 2 (three
                                   * timers), revision 1 (src/devices/hpet.h) */
/* Main counter minimum clock tick in periodic mode: 128 ticks (1.28 us at 100 MHz), as real
 * Intel chipsets report; QEMU says 0. Linux does not read it. */
#define HPET_MIN_TICK 128u

/* The DSDT's patchable integers: Name (NAME, constant) as the first objects of the table, in
 * this order (src/board/dsdt.asl) */
#define AML_NAME_OP 0x08u
#define AML_WORD_PREFIX 0x0Bu
#define AML_DWORD_PREFIX 0x0Cu
enum { PATCH_HPET_BASE, PATCH_PM_BASE, PATCH_GPE0_BASE, PATCH_COUNT };
static const struct { char name[5]; uint8_t prefix; unsigned width; } dsdt_patches[PATCH_COUNT] = {
    [PATCH_HPET_BASE] = { "HPTB", AML_DWORD_PREFIX, 4 },
    [PATCH_PM_BASE] = { "PMBS", AML_WORD_PREFIX, 2 },
    [PATCH_GPE0_BASE] = { "GPBS", AML_WORD_PREFIX, 2 },
};

/* Where each table goes, from X86_FW_ACPI_AREA */
struct placement {
    uint32_t facs, dsdt, fadt, madt, hpet, rsdt, xsdt, end;
    unsigned entries; /* of the RSDT and XSDT: FADT, MADT and (if any) HPET */
};

static uint32_t madt_size(const struct x86_firmware_layout *l)
{
    return MADT_FIXED + l->cpu_count * MADT_LAPIC_SIZE + MADT_IOAPIC_SIZE +
           2u * MADT_OVERRIDE_SIZE + MADT_LAPIC_NMI_SIZE;
}

static void place(const struct x86_firmware_layout *l, struct placement *p)
{
    uint32_t at = X86_FW_ACPI_AREA;
    p->facs = at; /* 64-byte aligned (chapter 5.2.10): the area starts on a page */
    at += FACS_SIZE;
    p->dsdt = at;
    at = ALIGN(at + (uint32_t)x86_dsdt_aml_size, 16u);
    p->fadt = at;
    at = ALIGN(at + FADT_SIZE, 16u);
    p->madt = at;
    at = ALIGN(at + madt_size(l), 16u);
    p->entries = 2;
    p->hpet = 0;
    if (l->hpet_base != 0) {
        p->hpet = at;
        at = ALIGN(at + HPET_SIZE, 16u);
        p->entries++;
    }
    p->rsdt = at;
    at = ALIGN(at + HEADER_SIZE + 4u * p->entries, 16u);
    p->xsdt = at;
    at = ALIGN(at + HEADER_SIZE + 8u * p->entries, 16u);
    p->end = at;
}

uint32_t x86_acpi_area_size(const struct x86_firmware_layout *layout)
{
    struct placement p;
    place(layout, &p);
    return p.end - X86_FW_ACPI_AREA;
}

bool x86_acpi_check(char *error, size_t error_size)
{
    const unsigned char *aml = x86_dsdt_aml;
    if (x86_dsdt_aml_size < HEADER_SIZE || memcmp(aml, "DSDT", 4) != 0 ||
        x86_fw_get32(aml + 4) != x86_dsdt_aml_size || x86_fw_sum(aml, x86_dsdt_aml_size) != 0)
        return x86_fw_fail(error, error_size, "firmware: the compiled DSDT is not a valid table");
    size_t at = HEADER_SIZE;
    for (unsigned i = 0; i < PATCH_COUNT; i++) {
        if (at + 6 + dsdt_patches[i].width > x86_dsdt_aml_size || aml[at] != AML_NAME_OP ||
            memcmp(aml + at + 1, dsdt_patches[i].name, 4) != 0 || aml[at + 5] != dsdt_patches[i].prefix)
            return x86_fw_fail(error, error_size,
                               "firmware: the DSDT's object %u is not Name (%s) as acpi.c expects",
                               i, dsdt_patches[i].name);
        at += 6 + dsdt_patches[i].width;
    }
    return true;
}

static void header(uint8_t *t, const char *signature, uint32_t length, uint8_t revision)
{
    memcpy(t, signature, 4);
    x86_fw_put32(t + 4, length);
    t[8] = revision;
    memcpy(t + 10, X86_FW_OEM_ID, 6);
    memcpy(t + 16, X86_FW_OEM_TABLE_ID, 8);
    x86_fw_put32(t + 24, X86_FW_OEM_REVISION);
    memcpy(t + 28, X86_FW_CREATOR_ID, 4);
    x86_fw_put32(t + 32, X86_FW_CREATOR_REVISION);
}

static void finish(uint8_t *t)
{
    x86_fw_set_checksum(t, x86_fw_get32(t + 4), 9);
}

static void gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access_size, uint64_t address)
{
    p[0] = space;
    p[1] = bit_width;
    p[2] = 0; /* bit offset */
    p[3] = access_size;
    x86_fw_put64(p + 4, address);
}

static void write_dsdt(uint8_t *t, const struct x86_firmware_layout *l)
{
    memcpy(t, x86_dsdt_aml, x86_dsdt_aml_size);
    const uint32_t values[PATCH_COUNT] = {
        [PATCH_HPET_BASE] = l->hpet_base,
        [PATCH_PM_BASE] = l->pm_base,
        [PATCH_GPE0_BASE] = l->gpe0_base,
    };
    size_t at = HEADER_SIZE;
    for (unsigned i = 0; i < PATCH_COUNT; i++) {
        uint8_t *value = t + at + 6; /* after NameOp, the name and the prefix */
        if (dsdt_patches[i].width == 4)
            x86_fw_put32(value, values[i]);
        else
            x86_fw_put16(value, (uint16_t)values[i]); /* ports: 16 bits */
        at += 6 + dsdt_patches[i].width;
    }
    finish(t);
}

static void write_facs(uint8_t *t)
{
    /* Table 5.14: no checksum; hardware signature, waking vectors, global lock and flags 0 */
    memcpy(t, "FACS", 4);
    x86_fw_put32(t + 4, FACS_SIZE);
    t[32] = 2; /* version */
}

static void write_fadt(uint8_t *t, const struct x86_firmware_layout *l, const struct placement *p)
{
    header(t, "FACP", FADT_SIZE, FADT_REVISION);
    /* both the 32-bit and the 64-bit pointers, equal: an ACPI 1.0 OS reads the first, ACPICA
     * checks that they agree */
    x86_fw_put32(t + FADT_FIRMWARE_CTRL, p->facs);
    x86_fw_put32(t + FADT_DSDT, p->dsdt);
    x86_fw_put64(t + FADT_X_FIRMWARE_CTRL, p->facs);
    x86_fw_put64(t + FADT_X_DSDT, p->dsdt);
    x86_fw_put16(t + FADT_SCI_INT, l->sci_irq);
    x86_fw_put32(t + FADT_SMI_CMD, 0); /* always in ACPI mode: no SMI command port */

    /* The fixed hardware blocks, in the 1.0 fields and as System I/O GAS, with matching bit
     * widths (ACPICA warns when a 64-bit block's width is not 8 * its 1.0 length) */
    static const struct { unsigned block, len_field, xblock; uint8_t len, access; uint32_t offset; }
        blocks[] = {
            { FADT_PM1A_EVT_BLK, FADT_PM1_EVT_LEN, FADT_X_PM1A_EVT_BLK, PM1_EVT_LEN, ACCESS_WORD, 0 },
            { FADT_PM1A_CNT_BLK, FADT_PM1_CNT_LEN, FADT_X_PM1A_CNT_BLK, PM1_CNT_LEN, ACCESS_WORD,
              PM1_CNT_OFFSET },
            { FADT_PM_TMR_BLK, FADT_PM_TMR_LEN, FADT_X_PM_TMR_BLK, PM_TMR_LEN, ACCESS_DWORD,
              PM_TMR_OFFSET },
            { FADT_GPE0_BLK, FADT_GPE0_BLK_LEN, FADT_X_GPE0_BLK, GPE0_BLK_LEN, ACCESS_BYTE, 0 },
        };
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
        uint32_t port = (blocks[i].block == FADT_GPE0_BLK ? l->gpe0_base : l->pm_base) +
                        blocks[i].offset;
        x86_fw_put32(t + blocks[i].block, port);
        t[blocks[i].len_field] = blocks[i].len;
        gas(t + blocks[i].xblock, GAS_IO, (uint8_t)(8u * blocks[i].len), blocks[i].access, port);
    }

    x86_fw_put16(t + FADT_P_LVL2_LAT, NO_C2_LATENCY);
    x86_fw_put16(t + FADT_P_LVL3_LAT, NO_C2_LATENCY);
    t[FADT_CENTURY] = CMOS_CENTURY;
    x86_fw_put16(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
    /* TMR_VAL_EXT (bit 8) clear: the PM timer has 24 bits */
    x86_fw_put32(t + FADT_FLAGS, FLAG_WBINVD | FLAG_PROC_C1 | FLAG_PWR_BUTTON | FLAG_SLP_BUTTON |
                                     FLAG_RESET_REG_SUP);
    gas(t + FADT_RESET_REG, GAS_IO, 8, ACCESS_BYTE, l->reset_port);
    t[FADT_RESET_VALUE] = RESET_VALUE;
    t[FADT_MINOR_VERSION] = FADT_MINOR;
    finish(t);
}

static uint8_t *madt_override(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    e[0] = MADT_OVERRIDE;
    e[1] = MADT_OVERRIDE_SIZE;
    e[2] = 0; /* bus: ISA */
    e[3] = irq;
    x86_fw_put32(e + 4, gsi);
    x86_fw_put16(e + 8, flags);
    return e + MADT_OVERRIDE_SIZE;
}

static void write_madt(uint8_t *t, const struct x86_firmware_layout *l)
{
    header(t, "APIC", madt_size(l), MADT_REVISION);
    x86_fw_put32(t + 36, l->lapic_base);
    x86_fw_put32(t + 40, MADT_PCAT_COMPAT);
    uint8_t *e = t + MADT_FIXED;
    for (unsigned n = 0; n < l->cpu_count; n++, e += MADT_LAPIC_SIZE) {
        e[0] = MADT_LAPIC;
        e[1] = MADT_LAPIC_SIZE;
        e[2] = (uint8_t)n; /* ACPI processor UID */
        e[3] = (uint8_t)n; /* APIC ID */
        x86_fw_put32(e + 4, MADT_ENABLED);
    }
    e[0] = MADT_IOAPIC;
    e[1] = MADT_IOAPIC_SIZE;
    e[2] = l->ioapic_id;
    x86_fw_put32(e + 4, l->ioapic_base);
    x86_fw_put32(e + 8, 0); /* GSI base */
    e += MADT_IOAPIC_SIZE;
    /* ISA IRQ n is GSI n (edge, active high, the ISA default) but for these two */
    e = madt_override(e, 0, TIMER_GSI, MPS_CONFORMS);
    e = madt_override(e, l->sci_irq, l->sci_irq, MPS_LEVEL_ACTIVE_HIGH);
    /* LINT1 is NMI on every processor (LINT0, ExtINT from the 8259, needs no entry: it is the
     * power-on default the OS sets up in PCAT_COMPAT systems) */
    e[0] = MADT_LAPIC_NMI;
    e[1] = MADT_LAPIC_NMI_SIZE;
    e[2] = MADT_ALL_PROCESSORS;
    x86_fw_put16(e + 3, MPS_CONFORMS);
    e[5] = 1; /* LINT1 */
    finish(t);
}

static void write_hpet(uint8_t *t, const struct x86_firmware_layout *l)
{
    header(t, "HPET", HPET_SIZE, 1);
    x86_fw_put32(t + 36, HPET_BLOCK_ID);
    gas(t + 40, GAS_MEMORY, 64, ACCESS_UNDEFINED, l->hpet_base);
    t[52] = 0; /* HPET number */
    x86_fw_put16(t + 53, HPET_MIN_TICK);
    t[55] = 0; /* page protection: none guaranteed */
    finish(t);
}

void x86_acpi_write(uint8_t *ram, const struct x86_firmware_layout *layout)
{
    struct placement p;
    place(layout, &p);
    write_facs(ram + p.facs);
    write_dsdt(ram + p.dsdt, layout);
    write_fadt(ram + p.fadt, layout, &p);
    write_madt(ram + p.madt, layout);
    if (p.hpet != 0)
        write_hpet(ram + p.hpet, layout);

    const uint32_t tables[] = { p.fadt, p.madt, p.hpet };
    uint8_t *rsdt = ram + p.rsdt, *xsdt = ram + p.xsdt;
    header(rsdt, "RSDT", HEADER_SIZE + 4u * p.entries, 1);
    header(xsdt, "XSDT", HEADER_SIZE + 8u * p.entries, 1);
    for (unsigned i = 0; i < p.entries; i++) {
        x86_fw_put32(rsdt + HEADER_SIZE + 4u * i, tables[i]);
        x86_fw_put64(xsdt + HEADER_SIZE + 8u * i, tables[i]);
    }
    finish(rsdt);
    finish(xsdt);

    /* RSDP (chapter 5.2.5.3): revision 2, with both the RSDT (for ACPI 1.0 OSes) and the XSDT;
     * the first checksum covers the 20 bytes of the 1.0 structure, the second all 36 */
    uint8_t *r = ram + X86_FW_RSDP;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, X86_FW_OEM_ID, 6);
    r[15] = 2;
    x86_fw_put32(r + 16, p.rsdt);
    x86_fw_put32(r + 20, RSDP_SIZE);
    x86_fw_put64(r + 24, p.xsdt);
    x86_fw_set_checksum(r, 20, 8);
    x86_fw_set_checksum(r, RSDP_SIZE, 32);
}

uint32_t x86_firmware_rsdp_address(const uint8_t *ram, uint64_t ram_size)
{
    if (ram == NULL || ram_size < X86_FW_REGION_END)
        return 0;
    /* as ACPICA's AcpiFindRootPointer scans the BIOS area: 16-byte steps, the 1.0 checksum,
     * and for revision 2 the extended one */
    for (uint32_t at = X86_FIRMWARE_REGION_BASE; at + 20u <= X86_FW_REGION_END; at += 16u) {
        const uint8_t *r = ram + at;
        if (memcmp(r, "RSD PTR ", 8) != 0 || x86_fw_sum(r, 20) != 0)
            continue;
        if (r[15] >= 2) {
            uint32_t length = x86_fw_get32(r + 20);
            if (length < RSDP_SIZE || length > X86_FW_REGION_END - at || x86_fw_sum(r, length) != 0)
                continue;
        }
        return at;
    }
    return 0;
}
