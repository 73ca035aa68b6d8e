/* Unit tests of src/board (firmware.c, acpi.c, mptable.c): the ACPI and MP tables, read back
 * the way an OS reads them. The RSDP is found by scanning 0xE0000-0xFFFFF in 16-byte steps
 * (ACPICA's AcpiFindRootPointer), the MP floating pointer by scanning 0xF0000-0xFFFFF (Linux's
 * smp_scan_config); every table is then reached through the pointers and checked field by
 * field against the layout, with this file's own parsers (including a small AML reader for
 * the DSDT's _PRT and _S5), so a wrong offset, size or checksum fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apic/ioapic.h"
#include "board/firmware.h"
#include "devices/acpi_pm.h"
#include "devices/hpet.h"
#include "devices/system_control.h"

#define MIB 0x100000u
#define RAM_SIZE (MIB + 0x10000u) /* a little more than the region needs */
#define REGION_END (X86_FIRMWARE_REGION_BASE + X86_FIRMWARE_REGION_SIZE)
#define FILL 0xA5u

/* ------------------------------------------------------------------ reading memory */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | ((uint32_t)rd16(p + 2) << 16); }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n-- > 0)
        s = (uint8_t)(s + *p++);
    return s;
}

static uint8_t *new_ram(void)
{
    uint8_t *ram = malloc(RAM_SIZE);
    assert_non_null(ram);
    memset(ram, FILL, RAM_SIZE);
    return ram;
}

/* The machine the board builds: the constants of the devices' headers */
static struct x86_firmware_layout typical(unsigned cpus)
{
    struct x86_firmware_layout l = {
        .cpu_count = cpus, .lapic_base = 0xFEE00000u, .ioapic_id = 9,
        .ioapic_base = X86_IOAPIC_BASE, .ioapic_pins = X86_IOAPIC_PINS,
        .pm_base = X86_ACPI_PM_BASE, .gpe0_base = X86_ACPI_GPE0_BASE, .sci_irq = X86_ACPI_SCI_IRQ,
        .reset_port = X86_RESET_CONTROL_PORT, .hpet_base = X86_HPET_BASE,
        .cpu_signature = 0x000006F1u, .cpu_features = 0x0100AB7Fu,
    };
    /* the e1000 (slot 3 INTA), a four-function device in slot 5, slot 31 INTD */
    static const uint8_t devices[][2] = { { 3, 0 }, { 5, 0 }, { 5, 1 }, { 5, 2 }, { 5, 3 }, { 31, 3 } };
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        l.pci_irqs[i].device = devices[i][0];
        l.pci_irqs[i].pin = devices[i][1];
        l.pci_irqs[i].gsi = (uint8_t)x86_firmware_pci_gsi(devices[i][0], devices[i][1]);
    }
    l.pci_irq_count = sizeof(devices) / sizeof(devices[0]);
    return l;
}

static void build_ok(uint8_t *ram, const struct x86_firmware_layout *l)
{
    char error[200] = "";
    bool ok = x86_firmware_build(ram, RAM_SIZE, l, error, sizeof(error));
    if (!ok)
        fail_msg("build failed: %s", error);
}

/* ------------------------------------------------------------------ finding the ACPI tables */

/* An OS's scan for the RSDP: 16-byte steps, "RSD PTR ", the 20-byte checksum, and for
 * revision 2 the extended one */
static uint32_t scan_rsdp(const uint8_t *ram)
{
    for (uint32_t at = 0xE0000u; at < REGION_END; at += 16)
        if (memcmp(ram + at, "RSD PTR ", 8) == 0 && sum(ram + at, 20) == 0 &&
            (ram[at + 15] < 2 || sum(ram + at, rd32(ram + at + 20)) == 0))
            return at;
    return 0;
}

/* A table: the signature, a length inside the region, the checksum, our OEM identification */
static const uint8_t *table_at(const uint8_t *ram, uint64_t address, const char *signature)
{
    assert_true(address >= X86_FIRMWARE_REGION_BASE && address + 36 <= REGION_END);
    const uint8_t *t = ram + address;
    assert_memory_equal(t, signature, 4);
    uint32_t length = rd32(t + 4);
    assert_true(length >= 36 && address + length <= REGION_END);
    assert_int_equal(sum(t, length), 0);
    assert_memory_equal(t + 10, "X86IRQ", 6);
    assert_memory_equal(t + 16, "LIBX86IQ", 8);
    return t;
}

struct tables {
    uint32_t rsdp_at;
    const uint8_t *rsdp, *rsdt, *xsdt, *fadt, *facs, *dsdt, *madt, *hpet;
    uint32_t facs_at, dsdt_at;
};

static void find_tables(const uint8_t *ram, struct tables *f)
{
    memset(f, 0, sizeof(*f));
    f->rsdp_at = scan_rsdp(ram);
    assert_int_not_equal(f->rsdp_at, 0);
    assert_int_equal(x86_firmware_rsdp_address(ram, RAM_SIZE), f->rsdp_at);
    assert_int_equal(f->rsdp_at % 16, 0);
    f->rsdp = ram + f->rsdp_at;
    assert_int_equal(f->rsdp[15], 2);          /* revision */
    assert_int_equal(rd32(f->rsdp + 20), 36);  /* length */
    assert_memory_equal(f->rsdp + 9, "X86IRQ", 6);

    f->rsdt = table_at(ram, rd32(f->rsdp + 16), "RSDT");
    f->xsdt = table_at(ram, rd64(f->rsdp + 24), "XSDT");
    uint32_t rsdt_length = rd32(f->rsdt + 4), xsdt_length = rd32(f->xsdt + 4);
    assert_int_equal((rsdt_length - 36) % 4, 0);
    assert_int_equal((xsdt_length - 36) % 8, 0);
    unsigned n = (rsdt_length - 36) / 4;
    assert_int_equal((xsdt_length - 36) / 8, n);
    for (unsigned i = 0; i < n; i++) {
        uint32_t at = rd32(f->rsdt + 36 + 4 * i);
        assert_int_equal(rd64(f->xsdt + 36 + 8 * i), at); /* the same tables, the same order */
        const uint8_t *t = ram + at;
        const uint8_t **slot = memcmp(t, "FACP", 4) == 0 ? &f->fadt
                             : memcmp(t, "APIC", 4) == 0 ? &f->madt
                             : memcmp(t, "HPET", 4) == 0 ? &f->hpet : NULL;
        if (slot == NULL)
            fail_msg("unexpected table %.4s", (const char *)t);
        assert_null(*slot); /* listed once */
        char signature[5] = { (char)t[0], (char)t[1], (char)t[2], (char)t[3], 0 };
        *slot = table_at(ram, at, signature);
    }
    assert_non_null(f->fadt);
    assert_non_null(f->madt);

    f->dsdt_at = rd32(f->fadt + 40);
    assert_int_equal(rd64(f->fadt + 140), f->dsdt_at); /* X_DSDT */
    f->dsdt = table_at(ram, f->dsdt_at, "DSDT");
    f->facs_at = rd32(f->fadt + 36);
    assert_int_equal(rd64(f->fadt + 132), f->facs_at); /* X_FIRMWARE_CTRL */
    assert_int_equal(f->facs_at % 64, 0);
    assert_true(f->facs_at >= X86_FIRMWARE_REGION_BASE && f->facs_at + 64 <= REGION_END);
    f->facs = ram + f->facs_at;
}

/* ------------------------------------------------------------------ the ACPI tables' contents */

static void check_gas(const uint8_t *g, uint8_t space, uint8_t bits, uint8_t access, uint64_t address)
{
    assert_int_equal(g[0], space);
    assert_int_equal(g[1], bits);
    assert_int_equal(g[2], 0);
    assert_int_equal(g[3], access);
    assert_int_equal(rd64(g + 4), address);
}

static void check_fadt(const struct tables *f, const struct x86_firmware_layout *l)
{
    const uint8_t *t = f->fadt;
    assert_int_equal(rd32(t + 4), 276);
    assert_int_equal(t[8], 6);
    assert_int_equal(t[131], 4); /* minor version: 6.4 */
    assert_int_equal(rd16(t + 46), l->sci_irq);
    assert_int_equal(rd32(t + 48), 0); /* SMI_CMD: always in ACPI mode */
    assert_int_equal(t[52], 0);
    assert_int_equal(t[53], 0);
    /* PM1a_EVT, PM1b_EVT, PM1a_CNT, PM1b_CNT, PM2_CNT, PM_TMR, GPE0, GPE1 */
    assert_int_equal(rd32(t + 56), l->pm_base);
    assert_int_equal(rd32(t + 60), 0);
    assert_int_equal(rd32(t + 64), l->pm_base + 4u);
    assert_int_equal(rd32(t + 68), 0);
    assert_int_equal(rd32(t + 72), 0);
    assert_int_equal(rd32(t + 76), l->pm_base + 8u);
    assert_int_equal(rd32(t + 80), l->gpe0_base);
    assert_int_equal(rd32(t + 84), 0);
    assert_int_equal(t[88], 4);  /* PM1_EVT_LEN */
    assert_int_equal(t[89], 2);  /* PM1_CNT_LEN */
    assert_int_equal(t[90], 0);
    assert_int_equal(t[91], 4);  /* PM_TMR_LEN */
    assert_int_equal(t[92], 4);  /* GPE0_BLK_LEN */
    assert_int_equal(t[93], 0);
    assert_true(rd16(t + 96) > 100);  /* no C2 */
    assert_true(rd16(t + 98) > 1000); /* no C3 */
    assert_int_equal(t[108], 0x32);   /* CENTURY */
    assert_int_equal(rd16(t + 109), 0x0003); /* LEGACY_DEVICES | 8042 */
    uint32_t flags = rd32(t + 112);
    assert_true(flags & (1u << 0));     /* WBINVD */
    assert_true(flags & (1u << 2));     /* PROC_C1 */
    assert_false(flags & (1u << 3));    /* P_LVL2_UP */
    assert_true(flags & (1u << 4));     /* PWR_BUTTON: none in fixed hardware */
    assert_true(flags & (1u << 5));     /* SLP_BUTTON: likewise */
    assert_false(flags & (1u << 8));    /* TMR_VAL_EXT: a 24-bit timer */
    assert_true(flags & (1u << 10));    /* RESET_REG_SUP */
    assert_false(flags & (1u << 20));   /* not HW_REDUCED_ACPI */
    check_gas(t + 116, 1, 8, 1, l->reset_port);
    assert_int_equal(t[128], 0x06);
    /* the X_ blocks agree with the 1.0 ones, bit widths 8 * lengths */
    check_gas(t + 148, 1, 32, 2, l->pm_base);
    check_gas(t + 160, 0, 0, 0, 0);
    check_gas(t + 172, 1, 16, 2, l->pm_base + 4u);
    check_gas(t + 184, 0, 0, 0, 0);
    check_gas(t + 196, 0, 0, 0, 0);
    check_gas(t + 208, 1, 32, 3, l->pm_base + 8u);
    check_gas(t + 220, 1, 32, 1, l->gpe0_base);
    check_gas(t + 232, 0, 0, 0, 0);

    const uint8_t *facs = f->facs;
    assert_memory_equal(facs, "FACS", 4);
    assert_int_equal(rd32(facs + 4), 64);
    assert_int_equal(rd32(facs + 12), 0); /* no waking vector */
    assert_int_equal(rd32(facs + 16), 0); /* global lock free */
    assert_int_equal(facs[32], 2);        /* version */
}

struct madt_view {
    unsigned cpus, ioapics, overrides, nmis;
    uint8_t uid[256], apic_id[256];
    uint32_t cpu_flags[256];
    uint8_t ioapic_id;
    uint32_t ioapic_address, ioapic_gsi_base;
    struct { uint8_t bus, irq; uint32_t gsi; uint16_t flags; } override[4];
    struct { uint8_t uid, lint; uint16_t flags; } nmi[4];
};

static void parse_madt(const uint8_t *t, struct madt_view *v)
{
    memset(v, 0, sizeof(*v));
    uint32_t length = rd32(t + 4);
    for (uint32_t at = 44; at < length;) {
        const uint8_t *e = t + at;
        assert_true(e[1] >= 2 && at + e[1] <= length);
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], 8);
            assert_true(v->cpus < 256);
            v->uid[v->cpus] = e[2];
            v->apic_id[v->cpus] = e[3];
            v->cpu_flags[v->cpus++] = rd32(e + 4);
            break;
        case 1:
            assert_int_equal(e[1], 12);
            v->ioapics++;
            v->ioapic_id = e[2];
            v->ioapic_address = rd32(e + 4);
            v->ioapic_gsi_base = rd32(e + 8);
            break;
        case 2:
            assert_int_equal(e[1], 10);
            assert_true(v->overrides < 4);
            v->override[v->overrides].bus = e[2];
            v->override[v->overrides].irq = e[3];
            v->override[v->overrides].gsi = rd32(e + 4);
            v->override[v->overrides++].flags = rd16(e + 8);
            break;
        case 4:
            assert_int_equal(e[1], 6);
            assert_true(v->nmis < 4);
            v->nmi[v->nmis].uid = e[2];
            v->nmi[v->nmis].flags = rd16(e + 3);
            v->nmi[v->nmis++].lint = e[5];
            break;
        default:
            fail_msg("unexpected MADT entry type %u", e[0]);
        }
        at += e[1];
    }
}

static void check_madt(const struct tables *f, const struct x86_firmware_layout *l)
{
    const uint8_t *t = f->madt;
    assert_int_equal(rd32(t + 36), l->lapic_base);
    assert_int_equal(rd32(t + 40), 1); /* PCAT_COMPAT */
    struct madt_view v;
    parse_madt(t, &v);
    assert_int_equal(v.cpus, l->cpu_count);
    for (unsigned n = 0; n < v.cpus; n++) {
        assert_int_equal(v.uid[n], n);
        assert_int_equal(v.apic_id[n], n);
        assert_int_equal(v.cpu_flags[n], 1); /* enabled */
    }
    assert_int_equal(v.ioapics, 1);
    assert_int_equal(v.ioapic_id, l->ioapic_id);
    assert_int_equal(v.ioapic_address, l->ioapic_base);
    assert_int_equal(v.ioapic_gsi_base, 0);
    assert_int_equal(v.overrides, 2);
    assert_int_equal(v.override[0].bus, 0);
    assert_int_equal(v.override[0].irq, 0);
    assert_int_equal(v.override[0].gsi, 2);
    assert_int_equal(v.override[0].flags, 0); /* conforms: edge, active high */
    assert_int_equal(v.override[1].bus, 0);
    assert_int_equal(v.override[1].irq, l->sci_irq);
    assert_int_equal(v.override[1].gsi, l->sci_irq);
    assert_int_equal(v.override[1].flags, 0x000D); /* level, active high */
    assert_int_equal(v.nmis, 1);
    assert_int_equal(v.nmi[0].uid, 0xFF); /* every processor */
    assert_int_equal(v.nmi[0].lint, 1);
}

static void check_hpet(const struct tables *f, const struct x86_firmware_layout *l)
{
    if (l->hpet_base == 0) {
        assert_null(f->hpet);
        return;
    }
    const uint8_t *t = f->hpet;
    assert_non_null(t);
    assert_int_equal(rd32(t + 4), 56);
    assert_int_equal(t[8], 1);
    assert_int_equal(rd32(t + 36), 0x8086A201u);
    /* as the capabilities register says it: vendor 8086h, legacy capable, 64-bit, 3 timers */
    assert_int_equal(rd32(t + 36) >> 16, 0x8086);
    assert_true(rd32(t + 36) & (1u << 15));
    assert_true(rd32(t + 36) & (1u << 13));
    assert_int_equal(((rd32(t + 36) >> 8) & 0x1F) + 1, X86_HPET_TIMERS);
    check_gas(t + 40, 0, 64, 0, l->hpet_base);
    assert_int_equal(t[52], 0);        /* HPET number */
    assert_int_equal(rd16(t + 53), 128); /* minimum tick */
    assert_int_equal(t[55], 0);
}

/* ------------------------------------------------------------------ reading AML */

static size_t aml_pkglength(const uint8_t *p, size_t *length)
{
    unsigned follow = p[0] >> 6;
    if (follow == 0) {
        *length = p[0] & 0x3F;
        return 1;
    }
    size_t v = p[0] & 0x0F;
    for (unsigned i = 1; i <= follow; i++)
        v |= (size_t)p[i] << (4 + 8 * (i - 1));
    *length = v;
    return 1 + follow;
}

static uint64_t aml_integer(const uint8_t **p)
{
    const uint8_t *q = *p;
    switch (q[0]) {
    case 0x00: *p = q + 1; return 0;
    case 0x01: *p = q + 1; return 1;
    case 0x0A: *p = q + 2; return q[1];
    case 0x0B: *p = q + 3; return rd16(q + 1);
    case 0x0C: *p = q + 5; return rd32(q + 1);
    case 0x0E: *p = q + 9; return rd64(q + 1);
    default: fail_msg("not an AML integer: opcode 0x%02x", q[0]);
    }
    return 0;
}

/* Name (NAME, Package) at the root or in a device: the package's elements start at *elements */
static unsigned aml_named_package(const uint8_t *aml, size_t length, const char *name,
                                  const uint8_t **elements)
{
    for (size_t at = 36; at + 8 < length; at++) {
        if (aml[at] != 0x08 || memcmp(aml + at + 1, name, 4) != 0 || aml[at + 5] != 0x12)
            continue;
        size_t pkg;
        size_t n = aml_pkglength(aml + at + 6, &pkg);
        assert_true(at + 6 + pkg <= length);
        *elements = aml + at + 6 + n + 1;
        return aml[at + 6 + n]; /* NumElements */
    }
    fail_msg("no Name (%s, Package) in the DSDT", name);
    return 0;
}

static void check_dsdt(const struct tables *f, const struct x86_firmware_layout *l)
{
    const uint8_t *aml = f->dsdt;
    size_t length = rd32(aml + 4);
    assert_int_equal(aml[8], 2); /* revision 2: 64-bit integers */
    /* the patched integers */
    assert_memory_equal(aml + 36, "\x08HPTB\x0C", 6);
    assert_int_equal(rd32(aml + 42), l->hpet_base);
    assert_memory_equal(aml + 46, "\x08PMBS\x0B", 6);
    assert_int_equal(rd16(aml + 52), l->pm_base);
    assert_memory_equal(aml + 54, "\x08GPBS\x0B", 6);
    assert_int_equal(rd16(aml + 60), l->gpe0_base);

    /* \_S5: SLP_TYPa and SLP_TYPb, what the PM device powers off with */
    const uint8_t *p;
    assert_int_equal(aml_named_package(aml, length, "_S5_", &p), 4);
    assert_int_equal(aml_integer(&p), X86_ACPI_SLP_TYP_S5);
    assert_int_equal(aml_integer(&p), X86_ACPI_SLP_TYP_S5);

    /* \_SB.PCI0._PRT: every device 0-31, every pin, in order, by the rule */
    assert_int_equal(aml_named_package(aml, length, "_PRT", &p), 128);
    for (unsigned device = 0; device < 32; device++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            assert_int_equal(p[0], 0x12); /* PackageOp */
            size_t pkg;
            p += 1 + aml_pkglength(p + 1, &pkg);
            assert_int_equal(*p++, 4);
            assert_int_equal(aml_integer(&p), (device << 16) | 0xFFFFu);
            assert_int_equal(aml_integer(&p), pin);
            assert_int_equal(aml_integer(&p), 0); /* no link device: a GSI */
            assert_int_equal(aml_integer(&p), x86_firmware_pci_gsi(device, pin));
        }
    }
    /* the methods and devices a kernel looks up by name */
    static const char *const names[] = { "_PIC", "PCI0", "_CRS", "_BBN", "KBD_", "COM1", "RTC_",
                                         "TIMR", "PIC_", "SPKR", "HPET", "SYSR", "_STA" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        bool found = false;
        for (size_t at = 36; at + 4 <= length && !found; at++)
            found = memcmp(aml + at, names[i], 4) == 0;
        if (!found)
            fail_msg("%s not in the DSDT", names[i]);
    }
}

/* ------------------------------------------------------------------ the MP tables */

static uint32_t scan_mp(const uint8_t *ram)
{
    for (uint32_t at = 0xF0000u; at < REGION_END; at += 16)
        if (memcmp(ram + at, "_MP_", 4) == 0 && ram[at + 8] == 1 && sum(ram + at, 16) == 0)
            return at;
    return 0;
}

static void check_mp(const uint8_t *ram, const struct x86_firmware_layout *l)
{
    uint32_t fp_at = scan_mp(ram);
    assert_int_not_equal(fp_at, 0);
    assert_int_equal(x86_firmware_mp_floating_address(ram, RAM_SIZE), fp_at);
    const uint8_t *fp = ram + fp_at;
    assert_int_equal(fp[9], 4);  /* revision 1.4 */
    assert_int_equal(fp[11], 0); /* a configuration table follows, no default configuration */
    assert_int_equal(fp[12], 0); /* no IMCR: virtual wire mode */
    uint32_t at = rd32(fp + 4);
    assert_true(at >= X86_FIRMWARE_REGION_BASE && at + 44 <= REGION_END);
    const uint8_t *t = ram + at;
    assert_memory_equal(t, "PCMP", 4);
    uint16_t length = rd16(t + 4);
    assert_true(at + length <= REGION_END);
    assert_int_equal(t[6], 4);
    assert_int_equal(sum(t, length), 0);
    assert_memory_equal(t + 8, "X86IRQ  ", 8);
    assert_int_equal(rd32(t + 28), 0); /* no OEM table */
    assert_int_equal(rd32(t + 36), l->lapic_base);
    assert_int_equal(rd16(t + 40), 0); /* no extended table */
    assert_int_equal(t[42], 0);

    /* walk the entries: sorted by type, sizes as the specification's */
    unsigned count = rd16(t + 34), seen = 0, cpus = 0, buses = 0, ioapics = 0, ios = 0, locals = 0;
    int last_type = -1, isa_bus = -1, pci_bus = -1;
    const uint8_t *io[64], *local[4];
    uint32_t pos = 44;
    while (pos < length) {
        const uint8_t *e = t + pos;
        assert_true(e[0] <= 4);
        assert_true(e[0] >= last_type);
        last_type = e[0];
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], cpus); /* APIC IDs 0.. */
            assert_int_equal(e[2], 0x14);
            assert_int_equal(e[3], cpus == 0 ? 3 : 1); /* enabled, the BSP first */
            assert_int_equal(rd32(e + 4), l->cpu_signature);
            assert_int_equal(rd32(e + 8), l->cpu_features);
            cpus++;
            pos += 20;
            break;
        case 1:
            assert_int_equal(e[1], buses); /* bus IDs in order from 0 */
            if (memcmp(e + 2, "ISA   ", 6) == 0)
                isa_bus = e[1];
            else if (memcmp(e + 2, "PCI   ", 6) == 0)
                pci_bus = e[1];
            else
                fail_msg("bus type %.6s", (const char *)e + 2);
            buses++;
            pos += 8;
            break;
        case 2:
            assert_int_equal(e[1], l->ioapic_id);
            assert_int_equal(e[2], 0x20);
            assert_int_equal(e[3], 1); /* enabled */
            assert_int_equal(rd32(e + 4), l->ioapic_base);
            ioapics++;
            pos += 8;
            break;
        case 3:
            assert_true(ios < 64);
            io[ios++] = e;
            pos += 8;
            break;
        case 4:
            assert_true(locals < 4);
            local[locals++] = e;
            pos += 8;
            break;
        }
        seen++;
    }
    assert_int_equal(pos, length);
    assert_int_equal(seen, count);
    assert_int_equal(cpus, l->cpu_count);
    assert_int_equal(buses, 2);
    assert_int_equal(pci_bus, 0);
    assert_int_equal(isa_bus, 1);
    assert_int_equal(ioapics, 1);

    /* the I/O interrupts, one by one: ISA IRQs but 2 (cascade) and 10/11 (PCI), IRQ 0 on pin
     * 2, the SCI level/high; then the layout's PCI INTx, level/low */
    unsigned k = 0;
    for (unsigned irq = 0; irq < 16; irq++) {
        if (irq == 2 || irq == 10 || irq == 11)
            continue;
        assert_true(k < ios);
        const uint8_t *e = io[k++];
        assert_int_equal(e[1], 0); /* INT */
        assert_int_equal(rd16(e + 2), irq == l->sci_irq ? 0x000D : 0);
        assert_int_equal(e[4], isa_bus);
        assert_int_equal(e[5], irq);
        assert_int_equal(e[6], l->ioapic_id);
        assert_int_equal(e[7], irq == 0 ? 2 : irq);
    }
    for (unsigned i = 0; i < l->pci_irq_count; i++) {
        assert_true(k < ios);
        const uint8_t *e = io[k++];
        assert_int_equal(e[1], 0);
        assert_int_equal(rd16(e + 2), 0x000F); /* level, active low */
        assert_int_equal(e[4], pci_bus);
        assert_int_equal(e[5], (l->pci_irqs[i].device << 2) | l->pci_irqs[i].pin);
        assert_int_equal(e[6], l->ioapic_id);
        assert_int_equal(e[7], x86_firmware_pci_gsi(l->pci_irqs[i].device, l->pci_irqs[i].pin));
    }
    assert_int_equal(k, ios);
    assert_int_equal(locals, 2);
    assert_int_equal(local[0][1], 3); /* ExtINT */
    assert_int_equal(local[0][4], isa_bus);
    assert_int_equal(local[0][6], 0xFF);
    assert_int_equal(local[0][7], 0); /* LINT0 */
    assert_int_equal(local[1][1], 1); /* NMI */
    assert_int_equal(local[1][6], 0xFF);
    assert_int_equal(local[1][7], 1); /* LINT1 */
}

/* ------------------------------------------------------------------ whole builds */

static void check_all(const uint8_t *ram, const struct x86_firmware_layout *l)
{
    struct tables f;
    find_tables(ram, &f);
    check_fadt(&f, l);
    check_madt(&f, l);
    check_hpet(&f, l);
    check_dsdt(&f, l);
    check_mp(ram, l);
    /* nothing outside the region was written */
    for (uint32_t a = 0; a < RAM_SIZE; a++)
        if (a < X86_FIRMWARE_REGION_BASE || a >= REGION_END)
            if (ram[a] != FILL)
                fail_msg("byte 0x%x outside the region written", (unsigned)a);
}

static void build_and_check(unsigned cpus)
{
    uint8_t *ram = new_ram();
    struct x86_firmware_layout l = typical(cpus);
    build_ok(ram, &l);
    check_all(ram, &l);
    free(ram);
}

static void test_one_cpu(void **state) { (void)state; build_and_check(1); }
static void test_two_cpus(void **state) { (void)state; build_and_check(2); }
static void test_four_cpus(void **state) { (void)state; build_and_check(4); }
static void test_64_cpus(void **state) { (void)state; build_and_check(64); }
static void test_255_cpus(void **state) { (void)state; build_and_check(255); }

/* Every layout field reaches the tables: none of the defaults is baked in */
static void test_other_layout(void **state)
{
    (void)state;
    uint8_t *ram = new_ram();
    struct x86_firmware_layout l = typical(3);
    l.lapic_base = 0xFEE01000u;
    l.ioapic_id = 0;
    l.ioapic_base = 0xFEC01000u;
    l.ioapic_pins = 48;
    l.pm_base = 0xB000;
    l.gpe0_base = 0xB010;
    l.sci_irq = 5;
    l.reset_port = 0x0092;
    l.hpet_base = 0xFED01000u;
    l.cpu_signature = 0x000306A9u;
    l.cpu_features = 0xBFEBFBFFu;
    l.pci_irq_count = 0;
    build_ok(ram, &l);
    check_all(ram, &l);
    free(ram);
}

/* No HPET: no HPET table, and the DSDT's HPET device says it is absent (HPTB 0) */
static void test_no_hpet(void **state)
{
    (void)state;
    uint8_t *ram = new_ram();
    struct x86_firmware_layout l = typical(2);
    l.hpet_base = 0;
    build_ok(ram, &l);
    check_all(ram, &l);
    struct tables f;
    find_tables(ram, &f);
    assert_int_equal(rd32(f.rsdt + 4), 36 + 2 * 4);
    free(ram);
}

/* The region is cleared first: stale bytes (an earlier, bigger build) do not survive, and
 * building twice gives the same bytes */
static void test_region_cleared_and_deterministic(void **state)
{
    (void)state;
    uint8_t *ram = new_ram();
    struct x86_firmware_layout l = typical(64);
    build_ok(ram, &l);
    uint8_t *first = malloc(RAM_SIZE);
    assert_non_null(first);
    memcpy(first, ram, RAM_SIZE);
    l = typical(1);
    build_ok(ram, &l);
    check_all(ram, &l);
    assert_int_equal(ram[REGION_END - 1], 0);
    assert_int_equal(ram[0xEFFF0], 0);
    l = typical(64);
    build_ok(ram, &l);
    assert_memory_equal(ram, first, RAM_SIZE);
    free(first);
    free(ram);
}

/* The board's routing rule: the PIIX3 swizzle onto SeaBIOS's link IRQs */
static void test_pci_gsi_rule(void **state)
{
    (void)state;
    assert_int_equal(x86_firmware_pci_gsi(3, 0), 11); /* the e1000 */
    assert_int_equal(x86_firmware_pci_gsi(3, 1), 11);
    assert_int_equal(x86_firmware_pci_gsi(3, 2), 10);
    assert_int_equal(x86_firmware_pci_gsi(3, 3), 10);
    assert_int_equal(x86_firmware_pci_gsi(1, 0), 10); /* PIRQA */
    assert_int_equal(x86_firmware_pci_gsi(2, 0), 10); /* PIRQB */
    assert_int_equal(x86_firmware_pci_gsi(4, 0), 11); /* PIRQD */
    assert_int_equal(x86_firmware_pci_gsi(5, 0), 10); /* PIRQA again */
    assert_int_equal(x86_firmware_pci_gsi(0, 0), 11); /* PIRQD */
    assert_int_equal(x86_firmware_pci_gsi(31, 3), 10);
    for (unsigned d = 0; d < 32; d++)
        for (unsigned p = 0; p < 4; p++)
            assert_int_equal(x86_firmware_pci_gsi(d, p), ((d + p + 3) % 4) < 2 ? 10 : 11);
}

/* Each bad layout is refused with one line naming the problem, and RAM is left as it was */
static void test_bad_layouts(void **state)
{
    (void)state;
    uint8_t *ram = new_ram();
    uint8_t *copy = malloc(RAM_SIZE);
    assert_non_null(copy);
    memcpy(copy, ram, RAM_SIZE);
    for (int which = 0;; which++) {
        struct x86_firmware_layout l = typical(4);
        const char *expect;
        switch (which) {
        case 0: l.cpu_count = 0; expect = "processors"; break;
        case 1: l.cpu_count = 256; expect = "processors"; break;
        case 2: l.ioapic_pins = 15; expect = "IOAPIC pins"; break;
        case 3: l.ioapic_pins = 241; expect = "IOAPIC pins"; break;
        case 4: l.ioapic_pins = 0; expect = "IOAPIC pins"; break;
        case 5: l.hpet_base = 0xFED00800u; expect = "HPET"; break;
        case 6: l.pci_irq_count = X86_FIRMWARE_MAX_PCI_IRQS + 1; expect = "PCI interrupts"; break;
        case 7: l.pci_irqs[1].device = 32; expect = "device 32"; break;
        case 8: l.pci_irqs[1].pin = 4; expect = "pin 4"; break;
        case 9: l.pci_irqs[0].gsi = 10; expect = "DSDT routes it to GSI 11"; break;
        case 10: l.pci_irqs[2] = l.pci_irqs[1]; expect = "twice"; break;
        case 11: l.sci_irq = 0; expect = "SCI"; break;
        case 12: l.sci_irq = 2; expect = "SCI"; break;
        case 13: l.sci_irq = 11; expect = "SCI"; break;
        case 14: l.sci_irq = 16; expect = "SCI"; break;
        case 15: l.ioapic_id = 16; expect = "IOAPIC ID"; break;
        case 16: l.lapic_base = 0; expect = "local APIC"; break;
        case 17: l.lapic_base = 0xFEE00400u; expect = "local APIC"; break;
        case 18: l.ioapic_base = 0xFEC00010u; expect = "IOAPIC base"; break;
        case 19: l.pm_base = 0; expect = "PM block"; break;
        case 20: l.pm_base = 0xFFF8; expect = "PM block"; break;
        case 21: l.gpe0_base = (uint16_t)(l.pm_base + 8); expect = "GPE0"; break;
        case 22: l.gpe0_base = 0; expect = "GPE0"; break;
        case 23: l.reset_port = 0; expect = "reset"; break;
        default: expect = NULL; break;
        }
        if (expect == NULL)
            break;
        char error[200] = "";
        assert_false(x86_firmware_build(ram, RAM_SIZE, &l, error, sizeof(error)));
        if (strstr(error, expect) == NULL)
            fail_msg("case %d: \"%s\" does not say \"%s\"", which, error, expect);
        assert_null(strchr(error, '\n'));
        assert_memory_equal(ram, copy, RAM_SIZE);
    }
    /* no error buffer at all is fine */
    struct x86_firmware_layout l = typical(4);
    l.cpu_count = 0;
    assert_false(x86_firmware_build(ram, RAM_SIZE, &l, NULL, 0));
    assert_false(x86_firmware_build(ram, RAM_SIZE, NULL, NULL, 0));
    assert_false(x86_firmware_build(NULL, RAM_SIZE, &l, NULL, 0));
    /* a short error buffer is truncated, not overrun */
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    assert_false(x86_firmware_build(ram, RAM_SIZE, &l, tiny, 4));
    assert_int_equal(tiny[3], '\0');
    assert_int_equal(tiny[4], 'x');
    assert_memory_equal(ram, copy, RAM_SIZE);
    free(copy);
    free(ram);
}

/* RAM that ends inside the region, or reaches into the PCI window, is refused untouched */
static void test_ram_size(void **state)
{
    (void)state;
    uint8_t *ram = new_ram();
    uint8_t *copy = malloc(RAM_SIZE);
    assert_non_null(copy);
    memcpy(copy, ram, RAM_SIZE);
    struct x86_firmware_layout l = typical(1);
    char error[200];
    assert_false(x86_firmware_build(ram, MIB - 1, &l, error, sizeof(error)));
    assert_non_null(strstr(error, "RAM"));
    assert_false(x86_firmware_build(ram, 0xE0000u, &l, error, sizeof(error)));
    assert_false(x86_firmware_build(ram, 0, &l, error, sizeof(error)));
    /* (only the size is looked at: nothing is written when it is refused) */
    assert_false(x86_firmware_build(ram, 0xC0000001ull, &l, error, sizeof(error)));
    assert_non_null(strstr(error, "3 GiB"));
    assert_memory_equal(ram, copy, RAM_SIZE);
    /* exactly 1 MiB is enough */
    assert_true(x86_firmware_build(ram, MIB, &l, error, sizeof(error)));
    free(copy);
    free(ram);
}

/* The finders say 0 when there is nothing to find */
static void test_finders_on_empty_ram(void **state)
{
    (void)state;
    uint8_t *ram = calloc(1, RAM_SIZE);
    assert_non_null(ram);
    assert_int_equal(x86_firmware_rsdp_address(ram, RAM_SIZE), 0);
    assert_int_equal(x86_firmware_mp_floating_address(ram, RAM_SIZE), 0);
    struct x86_firmware_layout l = typical(2);
    build_ok(ram, &l);
    assert_int_equal(x86_firmware_rsdp_address(ram, MIB - 1), 0);
    assert_int_equal(x86_firmware_mp_floating_address(ram, MIB - 1), 0);
    assert_int_equal(x86_firmware_rsdp_address(NULL, RAM_SIZE), 0);
    /* a corrupted RSDP checksum makes it invisible, as to an OS */
    uint32_t at = x86_firmware_rsdp_address(ram, RAM_SIZE);
    ram[at + 24] ^= 1; /* the XSDT address: in the extended part only */
    assert_int_equal(x86_firmware_rsdp_address(ram, RAM_SIZE), 0);
    at = x86_firmware_mp_floating_address(ram, RAM_SIZE);
    ram[at + 4] ^= 1;
    assert_int_equal(x86_firmware_mp_floating_address(ram, RAM_SIZE), 0);
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_cpu),
        cmocka_unit_test(test_two_cpus),
        cmocka_unit_test(test_four_cpus),
        cmocka_unit_test(test_64_cpus),
        cmocka_unit_test(test_255_cpus),
        cmocka_unit_test(test_other_layout),
        cmocka_unit_test(test_no_hpet),
        cmocka_unit_test(test_region_cleared_and_deterministic),
        cmocka_unit_test(test_pci_gsi_rule),
        cmocka_unit_test(test_bad_layouts),
        cmocka_unit_test(test_ram_size),
        cmocka_unit_test(test_finders_on_empty_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
