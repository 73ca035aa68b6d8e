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

#include "platform/bus.h"
#include "platform/irq.h"

#define X86_I8042_DATA_PORT 0x60u
#define X86_I8042_COMMAND_PORT 0x64u
#define X86_I8042_QUEUE_SIZE 16u   /* the keyboard's output buffer (PS/2: 16 bytes) */
#define X86_I8042_CONTROLLER_QUEUE_SIZE 8u

struct x86_i8042 {
    struct x86_irq_wire kbd_irq;   /* ISA IRQ 1 */
    struct x86_irq_wire aux_irq;   /* ISA IRQ 12 */
    void (*reset)(void *opaque);   /* the system reset line (command 0xFE, output port bit 0) */
    void *opaque;
    /* the implementation's private state follows */
    uint8_t ram[32];               /* the 8042's RAM: byte 0 is the controller command byte */
    uint8_t output;                /* the output buffer (port 0x60 reads it) */
    bool output_full;              /* status OBF */
    bool output_aux;               /* status AUXB: the byte came from the auxiliary port */
    bool timeout;                  /* status TIMEOUT: the transfer of that byte timed out */
    bool last_write_command;       /* status bit 3: the last write went to port 0x64 */
    uint8_t pending_command;       /* a command waiting for its data byte at port 0x60, 0: none */
    uint8_t output_port;           /* 0xD1's output port (bits 4-5 are the OBF lines) */
    /* bytes waiting for the output buffer: the controller's own first (command results,
     * loopback, time-outs), then the keyboard's */
    struct { uint8_t byte, flags; } controller_queue[X86_I8042_CONTROLLER_QUEUE_SIZE];
    unsigned controller_head, controller_count;
    bool translate_break;          /* the set 2 -> set 1 translator swallowed an 0xF0 prefix */
    /* the PS/2 keyboard */
    uint8_t kbd_queue[X86_I8042_QUEUE_SIZE];
    unsigned kbd_head, kbd_count;
    uint8_t kbd_last_sent;         /* for its resend command 0xFE */
    uint8_t kbd_command;           /* a command waiting for its argument (0xED, 0xF0, 0xF3) */
    bool kbd_scanning;             /* enabled (0xF4) or disabled (0xF5) */
    uint8_t kbd_leds, kbd_typematic, kbd_scancode_set;
    int kbd_irq_level, aux_irq_level; /* the levels last given to the wires */
};

/* Power-on state as a PC BIOS leaves the controller after POST: command byte 0x65 (keyboard
 * interrupt on, system flag set, auxiliary port disabled, translation on), output buffer empty,
 * the keyboard enabled in scan code set 2. Clears the whole struct: set the wires, reset and
 * opaque after it. */
void x86_i8042_init(struct x86_i8042 *kbc);
/* Ports 0x60 and 0x64. */
x86irq_status x86_i8042_attach(struct x86_i8042 *kbc, struct x86_bus *bus);
/* A system reset: the power-on state again, the wiring (wires, reset, opaque) kept. */
void x86_i8042_reset(struct x86_i8042 *kbc);
/* The keyboard sends one byte of a scan code (scan code set 2 as a keyboard sends it; the
 * controller translates to set 1 when the command byte says so). Dropped, returning false,
 * while the keyboard is disabled (0xF5) or its 16-byte buffer is full. */
bool x86_i8042_key(struct x86_i8042 *kbc, uint8_t byte);

#endif
