/* QEMU's pc-testdev (hw/misc/pc-testdev.c's map): port 0xE0 is a 32-bit scratch register
 * (guests probe for the device by writing and reading it back); port 0xE4 takes the address
 * of a page to "flush" (QEMU remaps the host page under a running guest, to test KVM's
 * faulting-in; nothing a guest can see: here writes are taken and do nothing, reads see an
 * unclaimed port); a byte written to port 0x2000 + n sets the level of interrupt line n
 * (GSI 0-23), so a guest can raise and lower device interrupts at will; 64 KiB of plain
 * memory behind MMIO at 0xFF000000 (reads and writes of any size; guests test MMIO
 * emulation with it: instructions that touch memory, run against a device). Tests written
 * for QEMU's pc-testdev run unchanged. */
#ifndef X86IRQ_DEVICES_TESTDEV_H
#define X86IRQ_DEVICES_TESTDEV_H

#include <stdint.h>

#include "platform/bus.h"

#define X86_TESTDEV_SCRATCH_PORT 0xE0u
#define X86_TESTDEV_IRQ_PORT 0x2000u
#define X86_TESTDEV_IRQ_LINES 24u
#define X86_TESTDEV_FLUSH_PORT 0xE4u
#define X86_TESTDEV_IOMEM_BASE 0xFF000000u
#define X86_TESTDEV_IOMEM_SIZE 0x10000u

struct x86_testdev {
    uint32_t scratch;
    uint8_t iomem[X86_TESTDEV_IOMEM_SIZE];    /* the MMIO window's bytes, zero at power-on */
    void (*set_line)(void *context, unsigned line, int level);
    void *context;
};

void x86_testdev_init(struct x86_testdev *t, void (*set_line)(void *context, unsigned line, int level),
                      void *context);
x86irq_status x86_testdev_attach(struct x86_testdev *t, struct x86_bus *bus);

#endif
