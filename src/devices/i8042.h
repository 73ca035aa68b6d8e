/* The PC keyboard controller, an Intel 8042 (as in QEMU's pckbd.c and the IBM PC/AT technical
 * reference): data port 0x60, status/command port 0x64, the controller command byte, self
 * tests, the keyboard and auxiliary (mouse) ports with their interrupts (IRQ 1 and IRQ 12),
 * the output port (0xD1: bit 0 resets the system, bit 1 A20) and the pulse command 0xFE that
 * resets the system. A PS/2 keyboard is attached (it answers reset, identify and the commands
 * Linux's atkbd sends, so Linux probes it cleanly); no mouse: the auxiliary port reports time
 * outs as an empty port does.
 */
#ifndef X86IRQ_DEVICES_I8042_H
#define X86IRQ_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"

#define X86_I8042_DATA_PORT 0x60u
#define X86_I8042_COMMAND_PORT 0x64u

struct x86_i8042 {
    struct x86_irq_wire kbd_irq;   /* ISA IRQ 1 */
    struct x86_irq_wire aux_irq;   /* ISA IRQ 12 */
    void (*reset)(void *opaque);   /* the system reset line (command 0xFE, output port bit 0) */
    void *opaque;
    /* the implementation's private state follows */
};

void x86_i8042_init(struct x86_i8042 *kbc);
/* Ports 0x60 and 0x64. */
x86irq_status x86_i8042_attach(struct x86_i8042 *kbc, struct x86_bus *bus);

#endif
