/* Unit tests of src/devices/pci.c: configuration mechanism #1 through the port bus, the host
 * bridge, BAR sizing and relocation, read-only and write-1-to-clear fields, the capability list
 * and MSI, INTx with interrupt disable and the status bit, MSI decoding, slot conflicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pci.h"

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC
#define ENABLE 0x80000000u

/* What the device model and the machine saw */
struct observer {
    unsigned bar_moves;
    unsigned last_bar;
    uint64_t last_base;
    unsigned command_changes;
    uint16_t last_old_command;
    unsigned intx_changes;
    int intx_level;
    unsigned messages;
    struct x86_msi_message message;
};

static void on_bar_moved(struct x86_pci_function *function, unsigned bar, uint64_t base)
{
    struct observer *o = function->owner;
    o->bar_moves++;
    o->last_bar = bar;
    o->last_base = base;
}

static void on_command_changed(struct x86_pci_function *function, uint16_t old_command)
{
    struct observer *o = function->owner;
    o->command_changes++;
    o->last_old_command = old_command;
}

static const struct x86_pci_ops observer_ops = { on_bar_moved, on_command_changed };

static void on_intx(void *opaque, int line, int level)
{
    struct observer *o = opaque;
    assert_int_equal(line, 11);
    o->intx_changes++;
    o->intx_level = level;
}

static void on_msi(void *context, const struct x86_msi_message *message)
{
    struct observer *o = context;
    o->messages++;
    o->message = *message;
}

/* A machine: the port bus, the PCI bus on it and one function at 00:03.0 with a 128 KiB memory
 * BAR 0, a 64-byte I/O BAR 1 and MSI, as an e1000 would be. */
struct rig {
    struct x86_bus bus;
    struct x86_pci_bus pci;
    struct x86_pci_function function;
    struct observer seen;
};

static int rig_setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));
    if (!r || !x86_bus_init(&r->bus, 1 << 20))
        return -1;
    x86_pci_bus_init(&r->pci);
    if (x86_pci_bus_attach(&r->pci, &r->bus) != X86IRQ_OK)
        return -1;
    x86_pci_function_init(&r->function, 0x8086, 0x100E, 0x02, 0x00, 0x00, 1, true);
    x86_pci_set_bar(&r->function, 0, 0x20000, false);
    x86_pci_set_bar(&r->function, 1, 0x40, true);
    r->function.device = 3;
    r->function.function = 0;
    r->function.ops = &observer_ops;
    r->function.owner = &r->seen;
    r->function.intx = (struct x86_irq_wire){ on_intx, &r->seen, 11 };
    r->function.send_msi = on_msi;
    r->function.msi_context = &r->seen;
    if (x86_pci_add_function(&r->pci, &r->function) != X86IRQ_OK)
        return -1;
    *state = r;
    return 0;
}

static int rig_teardown(void **state)
{
    struct rig *r = *state;
    x86_bus_finish(&r->bus);
    free(r);
    return 0;
}

static uint32_t address_of(unsigned device, unsigned function, unsigned offset)
{
    return ENABLE | device << 11 | function << 8 | (offset & 0xFC);
}

/* software's configuration access: select the dword, then use the data port's lane */
static uint32_t config_in(struct rig *r, unsigned device, unsigned offset, unsigned size)
{
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 4, address_of(device, 0, offset));
    return x86_bus_port_read(&r->bus, (uint16_t)(CONFIG_DATA + (offset & 3)), size);
}

static void config_out(struct rig *r, unsigned device, unsigned offset, unsigned size,
                       uint32_t value)
{
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 4, address_of(device, 0, offset));
    x86_bus_port_write(&r->bus, (uint16_t)(CONFIG_DATA + (offset & 3)), size, value);
}

static void test_mechanism_one(void **state)
{
    struct rig *r = *state;
    /* CONFIG_ADDRESS keeps enable, bus, device, function, register; reserved bits read 0 */
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 4, 0xFFFFFFFF);
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_ADDRESS, 4), 0x80FFFFFC);
    /* byte and word accesses at 0xCF8-0xCFB are ordinary ports: nothing there */
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_ADDRESS, 1), 0xFF);
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_ADDRESS + 2, 2), 0xFFFF);
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 1, 0);
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_ADDRESS, 4), 0x80FFFFFC);

    /* enable clear: the data port reads all ones and writes nothing */
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 4, address_of(3, 0, 0x3C) & ~ENABLE);
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_DATA, 4), 0xFFFFFFFF);
    x86_bus_port_write(&r->bus, CONFIG_DATA, 1, 0x0A);
    assert_int_equal(r->function.config[X86_PCI_INTERRUPT_LINE], 0xFF);

    /* dword, word and byte reads at each lane of the identity dword */
    assert_int_equal(config_in(r, 3, 0, 4), 0x100E8086);
    assert_int_equal(config_in(r, 3, 0, 2), 0x8086);
    assert_int_equal(config_in(r, 3, 2, 2), 0x100E);
    assert_int_equal(config_in(r, 3, 0, 1), 0x86);
    assert_int_equal(config_in(r, 3, 1, 1), 0x80);
    assert_int_equal(config_in(r, 3, 3, 1), 0x10);
    /* a word at 0xCFF reaches past the data port: the upper byte is open bus */
    assert_int_equal(config_in(r, 3, 3, 2), 0xFF10);

    /* a byte write at lane 0 of dword 0x3C: the interrupt line */
    config_out(r, 3, 0x3C, 1, 0x0B);
    assert_int_equal(config_in(r, 3, 0x3C, 4) & 0xFFFF, 0x010B); /* pin INTA, line 11 */
    assert_int_equal(r->function.config[X86_PCI_INTERRUPT_LINE], 0x0B);

    /* absent devices and functions, and other buses, read all ones */
    assert_int_equal(config_in(r, 4, 0, 4), 0xFFFFFFFF);
    assert_int_equal(config_in(r, 31, 0, 2), 0xFFFF);
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 4, address_of(3, 1, 0));
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_DATA, 4), 0xFFFFFFFF);
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 4, address_of(3, 0, 0) | 1u << 16);
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_DATA, 4), 0xFFFFFFFF);
    x86_bus_port_write(&r->bus, CONFIG_DATA, 4, 0);
    assert_int_equal(x86_pci_config_read(&r->pci, 1, 3, 0, 0, 4), 0xFFFFFFFF);
    assert_int_equal(x86_pci_config_read(&r->pci, 0, 3, 0, 0, 4), 0x100E8086);
}

static void test_host_bridge(void **state)
{
    struct rig *r = *state;
    assert_int_equal(config_in(r, 0, X86_PCI_VENDOR_ID, 2), 0x8086);
    assert_int_equal(config_in(r, 0, X86_PCI_DEVICE_ID, 2), 0x1237);
    assert_int_equal(config_in(r, 0, X86_PCI_REVISION, 4), 0x06000000); /* 06/00/00, rev 0 */
    assert_int_equal(config_in(r, 0, X86_PCI_HEADER_TYPE, 1), 0x00);
    for (unsigned bar = 0; bar < X86_PCI_BARS; bar++) {
        config_out(r, 0, X86_PCI_BAR0 + 4 * bar, 4, 0xFFFFFFFF);
        assert_int_equal(config_in(r, 0, X86_PCI_BAR0 + 4 * bar, 4), 0); /* no BARs */
    }
    assert_int_equal(config_in(r, 0, X86_PCI_INTERRUPT_PIN, 1), 0);       /* no interrupt */
    assert_int_equal(config_in(r, 0, X86_PCI_STATUS, 2) & X86_PCI_STATUS_CAPABILITIES, 0);
}

static void test_memory_bar_sizing(void **state)
{
    struct rig *r = *state;
    struct observer *seen = &r->seen;
    unsigned bar0 = X86_PCI_BAR0;
    assert_int_equal(config_in(r, 3, bar0, 4), 0); /* memory, 32-bit, not prefetchable, base 0 */
    config_out(r, 3, bar0, 4, 0xFFFFFFFF);
    assert_int_equal(config_in(r, 3, bar0, 4), 0xFFFE0000); /* 128 KiB */
    assert_int_equal(seen->bar_moves, 0); /* memory space still disabled */
    config_out(r, 3, bar0, 4, 0xFEBC1234);
    assert_int_equal(config_in(r, 3, bar0, 4), 0xFEBC0000); /* the low bits stay 0 */
    assert_int_equal(x86_pci_bar_base(&r->function, 0), 0);  /* not decoded yet */

    config_out(r, 3, X86_PCI_COMMAND, 2, X86_PCI_COMMAND_MEMORY);
    assert_int_equal(seen->bar_moves, 1);
    assert_int_equal(seen->last_bar, 0);
    assert_int_equal(seen->last_base, 0xFEBC0000);
    assert_int_equal(x86_pci_bar_base(&r->function, 0), 0xFEBC0000);
    assert_int_equal(seen->command_changes, 1);
    assert_int_equal(seen->last_old_command, 0);

    /* moving an enabled BAR (a word write to its upper half) */
    config_out(r, 3, bar0 + 2, 2, 0xFEA0);
    assert_int_equal(seen->bar_moves, 2);
    assert_int_equal(seen->last_base, 0xFEA00000);
    /* the same base again: nothing to tell */
    config_out(r, 3, bar0, 4, 0xFEA00000);
    assert_int_equal(seen->bar_moves, 2);

    /* disabling memory space unmaps it */
    config_out(r, 3, X86_PCI_COMMAND, 2, 0);
    assert_int_equal(seen->bar_moves, 3);
    assert_int_equal(seen->last_base, 0);
    assert_int_equal(x86_pci_bar_base(&r->function, 0), 0);
    assert_int_equal(seen->command_changes, 2);
    assert_int_equal(seen->last_old_command, X86_PCI_COMMAND_MEMORY);
    assert_int_equal(config_in(r, 3, bar0, 4), 0xFEA00000); /* the register keeps its value */

    /* unimplemented BARs read 0 and ignore writes */
    for (unsigned bar = 2; bar < X86_PCI_BARS; bar++) {
        config_out(r, 3, X86_PCI_BAR0 + 4 * bar, 4, 0xFFFFFFFF);
        assert_int_equal(config_in(r, 3, X86_PCI_BAR0 + 4 * bar, 4), 0);
    }
}

static void test_io_bar_sizing(void **state)
{
    struct rig *r = *state;
    struct observer *seen = &r->seen;
    unsigned bar1 = X86_PCI_BAR0 + 4;
    assert_int_equal(config_in(r, 3, bar1, 4), 0x1); /* I/O space indicator */
    config_out(r, 3, bar1, 4, 0xFFFFFFFF);
    assert_int_equal(config_in(r, 3, bar1, 4), 0xFFFFFFC1); /* 64 ports */
    config_out(r, 3, bar1, 4, 0xC03F);
    assert_int_equal(config_in(r, 3, bar1, 4), 0xC001);
    /* memory space alone does not decode an I/O BAR */
    config_out(r, 3, X86_PCI_COMMAND, 2, X86_PCI_COMMAND_MEMORY);
    assert_int_equal(x86_pci_bar_base(&r->function, 1), 0);
    unsigned moves = seen->bar_moves;
    config_out(r, 3, X86_PCI_COMMAND, 2, X86_PCI_COMMAND_MEMORY | X86_PCI_COMMAND_IO);
    assert_int_equal(seen->bar_moves, moves + 1);
    assert_int_equal(seen->last_bar, 1);
    assert_int_equal(seen->last_base, 0xC000);
    assert_int_equal(x86_pci_bar_base(&r->function, 1), 0xC000);
    config_out(r, 3, bar1, 1, 0x80); /* a byte write moves it to 0xC080 */
    assert_int_equal(seen->last_base, 0xC080);
    config_out(r, 3, X86_PCI_COMMAND, 2, X86_PCI_COMMAND_MEMORY);
    assert_int_equal(seen->last_bar, 1);
    assert_int_equal(seen->last_base, 0);
    assert_int_equal(x86_pci_bar_base(&r->function, 1), 0);
}

static void test_read_only_fields(void **state)
{
    struct rig *r = *state;
    config_out(r, 3, X86_PCI_VENDOR_ID, 4, 0x12345678);
    assert_int_equal(config_in(r, 3, X86_PCI_VENDOR_ID, 4), 0x100E8086);
    config_out(r, 3, X86_PCI_REVISION, 4, 0xFFFFFFFF);
    assert_int_equal(config_in(r, 3, X86_PCI_REVISION, 4), 0x02000000);
    config_out(r, 3, X86_PCI_HEADER_TYPE, 1, 0xFF);
    assert_int_equal(config_in(r, 3, X86_PCI_HEADER_TYPE, 1), 0x00);
    config_out(r, 3, X86_PCI_CAPABILITIES, 1, 0x80);
    assert_int_equal(config_in(r, 3, X86_PCI_CAPABILITIES, 1), 0x40);
    config_out(r, 3, X86_PCI_INTERRUPT_LINE, 2, 0xFF05);
    assert_int_equal(config_in(r, 3, X86_PCI_INTERRUPT_LINE, 2), 0x0105); /* pin stays INTA */
    /* the command register keeps only the bits it implements */
    config_out(r, 3, X86_PCI_COMMAND, 2, 0xFFFF);
    assert_int_equal(config_in(r, 3, X86_PCI_COMMAND, 2), 0x0547);
    assert_true(x86_pci_bus_master(&r->function));
    config_out(r, 3, X86_PCI_COMMAND, 2, 0);
    assert_false(x86_pci_bus_master(&r->function));
    /* the MSI capability's ID, next pointer and capability bits stay */
    config_out(r, 3, 0x40, 4, 0xFFFFFFFF);
    assert_int_equal(config_in(r, 3, 0x40, 4), 0x00010005); /* only the enable bit took */
    config_out(r, 3, 0x40, 4, 0);
    /* the message address keeps bits 1:0 at 0, the data is 16 bits */
    config_out(r, 3, 0x44, 4, 0xFFFFFFFF);
    assert_int_equal(config_in(r, 3, 0x44, 4), 0xFFFFFFFC);
    config_out(r, 3, 0x48, 4, 0xFFFFFFFF);
    assert_int_equal(config_in(r, 3, 0x48, 4), 0x0000FFFF);
}

static void test_status_write_one_to_clear(void **state)
{
    struct rig *r = *state;
    /* the device records errors (as a master abort on DMA would) */
    r->function.config[X86_PCI_STATUS + 1] = 0xF9;
    assert_int_equal(config_in(r, 3, X86_PCI_STATUS, 2), 0xF910);
    config_out(r, 3, X86_PCI_STATUS, 2, 0x2000); /* clear received master abort only */
    assert_int_equal(config_in(r, 3, X86_PCI_STATUS, 2), 0xD910);
    config_out(r, 3, X86_PCI_STATUS, 2, 0);      /* zeros change nothing */
    assert_int_equal(config_in(r, 3, X86_PCI_STATUS, 2), 0xD910);
    /* clearing everything leaves the read-only capabilities and interrupt bits */
    x86_pci_set_interrupt(&r->function, true);
    config_out(r, 3, X86_PCI_STATUS, 2, 0xFFFF);
    assert_int_equal(config_in(r, 3, X86_PCI_STATUS, 2), 0x0018);
    /* a dword write to 0x04 writes command and clears status in one go */
    r->function.config[X86_PCI_STATUS + 1] = 0x20;
    config_out(r, 3, X86_PCI_COMMAND, 4, 0x20000004);
    assert_int_equal(config_in(r, 3, X86_PCI_COMMAND, 4), 0x00180004);
}

static void test_capability_walk(void **state)
{
    struct rig *r = *state;
    assert_true(config_in(r, 3, X86_PCI_STATUS, 2) & X86_PCI_STATUS_CAPABILITIES);
    unsigned pointer = config_in(r, 3, X86_PCI_CAPABILITIES, 1) & 0xFC;
    unsigned msi = 0, steps = 0;
    while (pointer && steps++ < 48) {
        if (config_in(r, 3, pointer, 1) == 0x05)
            msi = pointer;
        pointer = config_in(r, 3, pointer + 1, 1) & 0xFC;
    }
    assert_int_equal(msi, 0x40);
    assert_int_equal(steps, 1); /* MSI is the only capability */
    /* message control: 32-bit only, one message capable, disabled */
    assert_int_equal(config_in(r, 3, msi + 2, 2), 0x0000);
    /* the host bridge has no list */
    assert_int_equal(config_in(r, 0, X86_PCI_CAPABILITIES, 1), 0);
    /* a function without MSI has none either */
    struct x86_pci_function plain;
    memset(&plain, 0, sizeof(plain));
    x86_pci_function_init(&plain, 0x1234, 0x5678, 0x01, 0x01, 0x80, 0, false);
    assert_int_equal(plain.config[X86_PCI_CAPABILITIES], 0);
    assert_int_equal(plain.config[X86_PCI_STATUS] & X86_PCI_STATUS_CAPABILITIES, 0);
    assert_false(x86_pci_msi_enabled(&plain));
}

static void test_msi(void **state)
{
    struct rig *r = *state;
    struct observer *seen = &r->seen;
    /* software programs: destination APIC 2, physical, vector 0x41, fixed, edge */
    config_out(r, 3, 0x44, 4, 0xFEE02000);
    config_out(r, 3, 0x48, 2, 0x0041);
    config_out(r, 3, X86_PCI_COMMAND, 2, X86_PCI_COMMAND_BUS_MASTER);
    assert_false(x86_pci_msi_enabled(&r->function));
    config_out(r, 3, 0x42, 2, 0x0001);
    assert_true(x86_pci_msi_enabled(&r->function));

    x86_pci_set_interrupt(&r->function, true);
    assert_int_equal(seen->messages, 1);
    assert_int_equal(seen->message.destination, 2);
    assert_false(seen->message.logical);
    assert_int_equal(seen->message.vector, 0x41);
    assert_int_equal(seen->message.delivery_mode, 0);
    assert_false(seen->message.level);
    assert_int_equal(seen->intx_changes, 0);                 /* INTx stays quiet */
    assert_int_equal(config_in(r, 3, X86_PCI_STATUS, 2) & X86_PCI_STATUS_INTERRUPT, 0);
    x86_pci_set_interrupt(&r->function, true);               /* no new edge */
    assert_int_equal(seen->messages, 1);
    x86_pci_set_interrupt(&r->function, false);              /* falling: nothing */
    assert_int_equal(seen->messages, 1);
    x86_pci_set_interrupt(&r->function, true);
    assert_int_equal(seen->messages, 2);
    x86_pci_set_interrupt(&r->function, false);

    /* logical destination mode, lowest priority, level assert */
    config_out(r, 3, 0x44, 4, 0xFEE0F00C);
    config_out(r, 3, 0x48, 2, 0xC1B2);
    x86_pci_set_interrupt(&r->function, true);
    assert_int_equal(seen->messages, 3);
    assert_int_equal(seen->message.destination, 0x0F);
    assert_true(seen->message.logical);
    assert_int_equal(seen->message.vector, 0xB2);
    assert_int_equal(seen->message.delivery_mode, 1);
    assert_true(seen->message.level);
    assert_true(seen->message.assert);
    x86_pci_set_interrupt(&r->function, false);

    /* an address outside the APIC range reaches nobody */
    config_out(r, 3, 0x44, 4, 0x12345678);
    x86_pci_set_interrupt(&r->function, true);
    assert_int_equal(seen->messages, 3);
    x86_pci_set_interrupt(&r->function, false);
}

static void test_intx(void **state)
{
    struct rig *r = *state;
    struct observer *seen = &r->seen;
    x86_pci_set_interrupt(&r->function, true);
    assert_int_equal(seen->intx_changes, 1);
    assert_int_equal(seen->intx_level, 1);
    assert_true(config_in(r, 3, X86_PCI_STATUS, 2) & X86_PCI_STATUS_INTERRUPT);
    x86_pci_set_interrupt(&r->function, true); /* unchanged: the wire is not toggled */
    assert_int_equal(seen->intx_changes, 1);
    x86_pci_set_interrupt(&r->function, false);
    assert_int_equal(seen->intx_changes, 2);
    assert_int_equal(seen->intx_level, 0);
    assert_false(config_in(r, 3, X86_PCI_STATUS, 2) & X86_PCI_STATUS_INTERRUPT);
    assert_int_equal(seen->messages, 0);
}

static void test_intx_disable(void **state)
{
    struct rig *r = *state;
    struct observer *seen = &r->seen;
    x86_pci_set_interrupt(&r->function, true);
    assert_int_equal(seen->intx_level, 1);
    /* interrupt disable lowers the pin, the status bit still shows the request */
    config_out(r, 3, X86_PCI_COMMAND, 2, X86_PCI_COMMAND_INTX_DISABLE);
    assert_int_equal(seen->intx_level, 0);
    assert_int_equal(seen->intx_changes, 2);
    assert_true(config_in(r, 3, X86_PCI_STATUS, 2) & X86_PCI_STATUS_INTERRUPT);
    x86_pci_set_interrupt(&r->function, false);
    x86_pci_set_interrupt(&r->function, true);
    assert_int_equal(seen->intx_changes, 2); /* disabled: the pin stays low */
    /* re-enabling raises the pin for the standing request */
    config_out(r, 3, X86_PCI_COMMAND, 2, 0);
    assert_int_equal(seen->intx_level, 1);
    assert_int_equal(seen->intx_changes, 3);

    /* enabling MSI while INTx is asserted lowers it; disabling MSI gives it back */
    config_out(r, 3, 0x42, 2, 0x0001);
    assert_int_equal(seen->intx_level, 0);
    assert_false(config_in(r, 3, X86_PCI_STATUS, 2) & X86_PCI_STATUS_INTERRUPT);
    assert_int_equal(seen->messages, 0); /* enabling is not an interrupt edge */
    config_out(r, 3, 0x42, 2, 0x0000);
    assert_int_equal(seen->intx_level, 1);
}

static void test_msi_decode(void **state)
{
    (void)state;
    struct x86_msi_message m;
    assert_true(x86_msi_decode(0xFEE01000, 0x0030, &m));
    assert_int_equal(m.destination, 1);
    assert_false(m.logical);
    assert_int_equal(m.vector, 0x30);
    assert_int_equal(m.delivery_mode, 0);
    assert_false(m.level);
    assert_false(m.assert);
    assert_true(x86_msi_decode(0xFEEFF004, 0x04FE, &m)); /* broadcast, logical, NMI */
    assert_int_equal(m.destination, 0xFF);
    assert_true(m.logical);
    assert_int_equal(m.vector, 0xFE);
    assert_int_equal(m.delivery_mode, 4);
    assert_true(x86_msi_decode(0xFEE00000, 0x8700, &m)); /* ExtINT, level, deassert */
    assert_int_equal(m.delivery_mode, 7);
    assert_true(m.level);
    assert_false(m.assert);
    assert_false(x86_msi_decode(0xFED00000, 0x30, &m));
    assert_false(x86_msi_decode(0xFEF00000, 0x30, &m));
    assert_false(x86_msi_decode(0x00000000, 0x30, &m));
}

static void test_add_function(void **state)
{
    struct rig *r = *state;
    struct x86_pci_function same, bridge_slot, sibling, bad;
    memset(&same, 0, sizeof(same));
    x86_pci_function_init(&same, 0x1234, 0x0001, 0xFF, 0, 0, 0, false);
    same.device = 3;
    assert_int_equal(x86_pci_add_function(&r->pci, &same), X86IRQ_ERR_CONFLICT);
    bridge_slot = same;
    bridge_slot.device = 0;
    assert_int_equal(x86_pci_add_function(&r->pci, &bridge_slot), X86IRQ_ERR_CONFLICT);
    bad = same;
    bad.device = 32;
    assert_int_equal(x86_pci_add_function(&r->pci, &bad), X86IRQ_ERR_INVALID_ARGUMENT);
    /* a second function of device 3 makes function 0 multi-function */
    sibling = same;
    sibling.function = 1;
    assert_int_equal(x86_pci_add_function(&r->pci, &sibling), X86IRQ_OK);
    assert_int_equal(config_in(r, 3, X86_PCI_HEADER_TYPE, 1), 0x80);
    x86_bus_port_write(&r->bus, CONFIG_ADDRESS, 4, address_of(3, 1, 0));
    assert_int_equal(x86_bus_port_read(&r->bus, CONFIG_DATA, 4), 0x00011234);
    /* the port range is taken once */
    assert_int_equal(x86_pci_bus_attach(&r->pci, &r->bus), X86IRQ_ERR_CONFLICT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mechanism_one, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_host_bridge, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_memory_bar_sizing, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_io_bar_sizing, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_fields, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_status_write_one_to_clear, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_capability_walk, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_msi, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_intx, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_intx_disable, rig_setup, rig_teardown),
        cmocka_unit_test(test_msi_decode),
        cmocka_unit_test_setup_teardown(test_add_function, rig_setup, rig_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
