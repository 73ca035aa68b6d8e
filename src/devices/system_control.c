/* System Control Port A (0x92) and the Reset Control Register (0xCF9) (see system_control.h).
 *
 * Port 0x92 (Intel ICH "PORT92—Init Register", the PS/2's System Control Port A): bit 0
 * INIT_NOW, bit 1 ALT_A20_GATE, both read/write; bits 7:2 reserved, read 0. A 0 -> 1
 * transition of bit 0 resets the processor.
 *
 * Port 0xCF9 (PIIX "RC", ICH "RST_CNT"): bit 1 SYS_RST (hard reset when set, else soft), bit 2
 * RST_CPU, bit 3 FULL_RST, read/write; bits 0 and 7:4 reserved, read 0. A 0 -> 1 transition of
 * RST_CPU starts the reset SYS_RST selects; a write that leaves RST_CPU at 1 does nothing
 * (Linux's "reboot=pci" writes SYS_RST first, then SYS_RST | RST_CPU; ACPI's RESET_REG value
 * 0x06 does both at once). Which reset either register causes is the board's: both call
 * reset(). The register is a byte register: a wider access uses its low byte, the other bytes
 * belong to other ports.
 */
#include "devices/system_control.h"

#include <string.h>

#define PORT_A_BITS (X86_PORT_A_FAST_RESET | X86_PORT_A_A20)
#define RESET_CONTROL_BITS \
    (X86_RESET_CONTROL_SYS_RST | X86_RESET_CONTROL_RST_CPU | X86_RESET_CONTROL_FULL_RST)

static void do_reset(struct x86_system_control *sc)
{
    if (sc->reset)
        sc->reset(sc->opaque);
}

static uint64_t upper_ones(unsigned size)
{
    return size >= 8 ? ~0xFFull : (((1ull << (8 * size)) - 1) & ~0xFFull);
}

static uint64_t port_a_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct x86_system_control *sc = opaque;
    if (offset != 0)
        return ~0ull;
    return sc->port_a | upper_ones(size);
}

static void port_a_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_system_control *sc = opaque;
    (void)size;
    if (offset != 0)
        return;
    uint8_t old = sc->port_a;
    sc->port_a = (uint8_t)(value & PORT_A_BITS); /* A20 is always on in this machine */
    if ((sc->port_a & X86_PORT_A_FAST_RESET) && !(old & X86_PORT_A_FAST_RESET))
        do_reset(sc); /* last: the board may reinitialise this device */
}

uint8_t x86_system_control_cf9_read(const struct x86_system_control *sc)
{
    return sc->reset_control;
}

void x86_system_control_cf9_write(struct x86_system_control *sc, uint8_t value)
{
    uint8_t old = sc->reset_control;
    sc->reset_control = (uint8_t)(value & RESET_CONTROL_BITS);
    if ((sc->reset_control & X86_RESET_CONTROL_RST_CPU) && !(old & X86_RESET_CONTROL_RST_CPU))
        do_reset(sc);
}

static uint64_t reset_control_read(void *opaque, uint64_t offset, unsigned size)
{
    if (offset != 0)
        return ~0ull;
    return x86_system_control_cf9_read(opaque) | upper_ones(size);
}

static void reset_control_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    if (offset == 0)
        x86_system_control_cf9_write(opaque, (uint8_t)value);
}

void x86_system_control_init(struct x86_system_control *sc)
{
    memset(sc, 0, sizeof(*sc));
}

void x86_system_control_reset(struct x86_system_control *sc)
{
    sc->port_a = 0;
    sc->reset_control = 0;
}

x86irq_status x86_system_control_attach_port_a(struct x86_system_control *sc,
                                               struct x86_bus *bus)
{
    return x86_bus_add_ports(bus, X86_PORT_A, 1, port_a_read, port_a_write, sc, "port92");
}

x86irq_status x86_system_control_attach(struct x86_system_control *sc, struct x86_bus *bus)
{
    x86irq_status status = x86_system_control_attach_port_a(sc, bus);
    if (status != X86IRQ_OK)
        return status;
    return x86_bus_add_ports(bus, X86_RESET_CONTROL_PORT, 1, reset_control_read,
                             reset_control_write, sc, "reset-control");
}
