/* The two reset registers of a PC chipset besides the keyboard controller's: System Control
 * Port A at 0x92 (bit 0 fast reset on a 0 -> 1 transition, bit 1 A20 gate, as the PS/2 and
 * every chipset since) and the PIIX/ICH Reset Control Register at 0xCF9 (bit 2 RST_CPU
 * 0 -> 1 resets; bit 1 SYS_RST selects a hard reset; the FADT's RESET_REG names it with value
 * 0x06). Both only call reset(); what a reset does is the board's. A20 is always enabled in
 * this machine (the bit reads back as written; documented).
 */
#ifndef X86IRQ_DEVICES_SYSTEM_CONTROL_H
#define X86IRQ_DEVICES_SYSTEM_CONTROL_H

#include <stdint.h>

#include "machine/bus.h"

#define X86_PORT_A 0x92u
#define X86_RESET_CONTROL_PORT 0xCF9u

struct x86_system_control {
    uint8_t port_a;
    uint8_t reset_control;
    void (*reset)(void *opaque);
    void *opaque;
};

void x86_system_control_init(struct x86_system_control *sc);
x86irq_status x86_system_control_attach(struct x86_system_control *sc, struct x86_bus *bus);

#endif
