/* QEMU's pc-testdev, the subset interrupt tests use: port 0xE0 is a 32-bit scratch register
 * (guests probe for the device by writing and reading it back); a byte written to port
 * 0x2000 + n sets the level of interrupt line n (GSI 0-23), so a guest can raise and lower
 * device interrupts at will. Tests written for QEMU's pc-testdev run unchanged. */
#ifndef X86IRQ_DEVICES_TESTDEV_H
#define X86IRQ_DEVICES_TESTDEV_H

#include <stdint.h>

#include "platform/bus.h"

#define X86_TESTDEV_SCRATCH_PORT 0xE0u
#define X86_TESTDEV_IRQ_PORT 0x2000u
#define X86_TESTDEV_IRQ_LINES 24u

struct x86_testdev {
    uint32_t scratch;
    void (*set_line)(void *context, unsigned line, int level);
    void *context;
};

void x86_testdev_init(struct x86_testdev *t, void (*set_line)(void *context, unsigned line, int level),
                      void *context);
x86irq_status x86_testdev_attach(struct x86_testdev *t, struct x86_bus *bus);

#endif
