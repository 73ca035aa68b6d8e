/* Unit tests of src/devices/system_control.c: port 0x92 and the reset control register at
 * 0xCF9, through the port bus. A reset happens only on a 0 -> 1 transition of the reset bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/system_control.h"
#include "platform/bus.h"

struct rig {
    struct x86_bus bus;
    struct x86_system_control sc;
    unsigned resets;
    uint32_t pci_address; /* the fake PCI host's CONFIG_ADDRESS */
};

static void count_reset(void *opaque)
{
    struct rig *r = opaque;
    r->resets++;
}

static struct rig *rig_create(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_true(x86_bus_init(&r->bus, 4096));
    x86_system_control_init(&r->sc);
    r->sc.reset = count_reset;
    r->sc.opaque = r;
    assert_int_equal(x86_system_control_attach(&r->sc, &r->bus), X86IRQ_OK);
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_bus_finish(&r->bus);
    free(r);
}

static void out8(struct rig *r, uint16_t port, uint8_t value)
{
    x86_bus_port_write(&r->bus, port, 1, value);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
    return (uint8_t)x86_bus_port_read(&r->bus, port, 1);
}

static void test_port_a(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    assert_int_equal(in8(r, 0x92), 0x00);
    /* A20 alone: stored, no reset */
    out8(r, 0x92, 0x02);
    assert_int_equal(in8(r, 0x92), 0x02);
    assert_int_equal(r->resets, 0);
    /* bit 0 from 0 to 1: one reset; the bit reads back */
    out8(r, 0x92, 0x03);
    assert_int_equal(r->resets, 1);
    assert_int_equal(in8(r, 0x92), 0x03);
    /* 1 -> 1: nothing */
    out8(r, 0x92, 0x03);
    out8(r, 0x92, 0x01);
    assert_int_equal(r->resets, 1);
    assert_int_equal(in8(r, 0x92), 0x01);
    /* back to 0, then 0 -> 1 again */
    out8(r, 0x92, 0x00);
    assert_int_equal(r->resets, 1);
    out8(r, 0x92, 0x01);
    assert_int_equal(r->resets, 2);
    /* reserved bits 7:2 read 0 */
    out8(r, 0x92, 0xFC);
    assert_int_equal(in8(r, 0x92), 0x00);
    assert_int_equal(r->resets, 2);
    /* the sequence of Linux's boot A20 code: read, set bit 1, clear bit 0 */
    uint8_t port_a = in8(r, 0x92);
    out8(r, 0x92, (uint8_t)((port_a | 0x02) & ~0x01));
    assert_int_equal(in8(r, 0x92), 0x02);
    assert_int_equal(r->resets, 2);
    /* a word read: the byte at 0x93 is nobody's */
    assert_int_equal(x86_bus_port_read(&r->bus, 0x92, 2), 0xFF02);
    rig_destroy(r);
}

static void test_reset_control(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    assert_int_equal(in8(r, 0xCF9), 0x00);
    /* SYS_RST alone: stored */
    out8(r, 0xCF9, 0x02);
    assert_int_equal(in8(r, 0xCF9), 0x02);
    assert_int_equal(r->resets, 0);
    /* RST_CPU 0 -> 1 */
    out8(r, 0xCF9, 0x06);
    assert_int_equal(r->resets, 1);
    assert_int_equal(in8(r, 0xCF9), 0x06);
    /* RST_CPU stays 1: no reset, FULL_RST stored */
    out8(r, 0xCF9, 0x0E);
    assert_int_equal(r->resets, 1);
    assert_int_equal(in8(r, 0xCF9), 0x0E);
    /* reserved bits 0 and 7:4 read 0; clearing RST_CPU does nothing */
    out8(r, 0xCF9, 0xF1);
    assert_int_equal(in8(r, 0xCF9), 0x00);
    assert_int_equal(r->resets, 1);
    rig_destroy(r);
}

/* Linux arch/x86/kernel/reboot.c, BOOT_CF9_FORCE: cf9 = inb(0xcf9) & ~code; outb(cf9|2);
 * outb(cf9|code) with code 0x06 (warm) or 0x0E (cold); and ACPI's RESET_REG write of 0x06 */
static void test_linux_reboot_sequences(void **state)
{
    (void)state;
    static const uint8_t codes[] = { 0x06, 0x0E };
    for (unsigned i = 0; i < 2; i++) {
        struct rig *r = rig_create();
        uint8_t cf9 = (uint8_t)(in8(r, 0xCF9) & ~codes[i]);
        out8(r, 0xCF9, (uint8_t)(cf9 | 0x02));
        assert_int_equal(r->resets, 0);
        out8(r, 0xCF9, (uint8_t)(cf9 | codes[i]));
        assert_int_equal(r->resets, 1);
        /* the board resets the chipset: the next attempt resets again */
        x86_system_control_reset(&r->sc);
        assert_int_equal(in8(r, 0xCF9), 0x00);
        assert_ptr_equal(r->sc.opaque, r);
        out8(r, 0xCF9, 0x06); /* acpi_reboot(): the FADT's RESET_VALUE */
        assert_int_equal(r->resets, 2);
        rig_destroy(r);
    }
}

/* 0xCF9 is a byte register inside the PCI configuration range: a wider write uses the low
 * byte, a wider read gives all ones above it */
static void test_wide_accesses(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    x86_bus_port_write(&r->bus, 0xCF9, 2, 0xFF06);
    assert_int_equal(r->resets, 1);
    assert_int_equal(x86_bus_port_read(&r->bus, 0xCF9, 2), 0xFF06);
    assert_int_equal(x86_bus_port_read(&r->bus, 0xCF9, 4), 0xFFFFFF06u);
    x86_bus_port_write(&r->bus, 0x92, 4, 0xFFFFFF03u);
    assert_int_equal(r->resets, 2);
    assert_int_equal(in8(r, 0x92), 0x03);
    rig_destroy(r);
}

/* A PCI host that claims 0xCF8-0xCFF (as src/devices/pci.c does) leaves 0xCF9 to its handler:
 * attach then conflicts; attach_port_a plus forwarding works */
static uint64_t fake_pci_read(void *opaque, uint64_t offset, unsigned size)
{
    struct rig *r = opaque;
    if (offset == 1 && size == 1)
        return x86_system_control_cf9_read(&r->sc);
    if (offset == 0 && size == 4)
        return r->pci_address;
    return ~0ull;
}

static void fake_pci_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct rig *r = opaque;
    if (offset == 1 && size == 1)
        x86_system_control_cf9_write(&r->sc, (uint8_t)value);
    else if (offset == 0 && size == 4)
        r->pci_address = (uint32_t)value;
}

static void test_forwarding_from_pci_ports(void **state)
{
    (void)state;
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_true(x86_bus_init(&r->bus, 4096));
    x86_system_control_init(&r->sc);
    r->sc.reset = count_reset;
    r->sc.opaque = r;
    assert_int_equal(x86_bus_add_ports(&r->bus, 0xCF8, 8, fake_pci_read, fake_pci_write, r,
                                       "pci-config"),
                     X86IRQ_OK);
    assert_int_equal(x86_system_control_attach(&r->sc, &r->bus), X86IRQ_ERR_CONFLICT);
    x86_bus_finish(&r->bus);
    assert_true(x86_bus_init(&r->bus, 4096));
    assert_int_equal(x86_bus_add_ports(&r->bus, 0xCF8, 8, fake_pci_read, fake_pci_write, r,
                                       "pci-config"),
                     X86IRQ_OK);
    assert_int_equal(x86_system_control_attach_port_a(&r->sc, &r->bus), X86IRQ_OK);
    x86_bus_port_write(&r->bus, 0xCF8, 4, 0x80000000u);
    assert_int_equal(r->resets, 0);
    assert_int_equal(in8(r, 0xCF9), 0x00);
    out8(r, 0xCF9, 0x06);
    assert_int_equal(r->resets, 1);
    assert_int_equal(in8(r, 0xCF9), 0x06);
    assert_int_equal(x86_bus_port_read(&r->bus, 0xCF8, 4), 0x80000000u);
    out8(r, 0x92, 0x01);
    assert_int_equal(r->resets, 2);
    rig_destroy(r);
}

static void test_no_reset_callback(void **state)
{
    (void)state;
    struct x86_system_control sc;
    x86_system_control_init(&sc);
    x86_system_control_cf9_write(&sc, 0x06); /* nothing wired: no crash */
    assert_int_equal(x86_system_control_cf9_read(&sc), 0x06);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_a),
        cmocka_unit_test(test_reset_control),
        cmocka_unit_test(test_linux_reboot_sequences),
        cmocka_unit_test(test_wide_accesses),
        cmocka_unit_test(test_forwarding_from_pci_ports),
        cmocka_unit_test(test_no_reset_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
