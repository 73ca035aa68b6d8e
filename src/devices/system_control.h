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

#include "platform/bus.h"

#define X86_PORT_A 0x92u
#define X86_RESET_CONTROL_PORT 0xCF9u
#define X86_PORT_A_FAST_RESET 0x01u   /* INIT_NOW: 0 -> 1 resets */
#define X86_PORT_A_A20 0x02u          /* ALT_A20_GATE */
#define X86_RESET_CONTROL_SYS_RST 0x02u
#define X86_RESET_CONTROL_RST_CPU 0x04u /* 0 -> 1 resets */
#define X86_RESET_CONTROL_FULL_RST 0x08u

struct x86_system_control {
    uint8_t port_a;
    uint8_t reset_control;
    void (*reset)(void *opaque);
    void *opaque;
};

/* Both registers 0 (their reset default). Clears the whole struct: set reset and opaque after
 * it. */
void x86_system_control_init(struct x86_system_control *sc);
/* The registers to their reset default, reset and opaque kept (a hard reset clears RST_CPU and
 * INIT_NOW, so the next 0 -> 1 transition resets again). */
void x86_system_control_reset(struct x86_system_control *sc);
/* Port 0x92 and port 0xCF9, each its own one-byte port range. */
x86irq_status x86_system_control_attach(struct x86_system_control *sc, struct x86_bus *bus);
/* Port 0x92 alone, for a board whose PCI configuration ports claim all of 0xCF8-0xCFF (as
 * src/devices/pci.c does): its port handler then forwards byte accesses at 0xCF9 to the two
 * functions below. */
x86irq_status x86_system_control_attach_port_a(struct x86_system_control *sc,
                                               struct x86_bus *bus);
/* The Reset Control Register as a byte access at 0xCF9 sees it. */
uint8_t x86_system_control_cf9_read(const struct x86_system_control *sc);
void x86_system_control_cf9_write(struct x86_system_control *sc, uint8_t value);

#endif
