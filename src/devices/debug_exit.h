/* QEMU's isa-debug-exit: a write of value v to the port ends the run with status v
 * (QEMU itself exits with (v << 1) | 1; x86irq-run --qemu-exit-codes does the same). */
#ifndef X86IRQ_DEVICES_DEBUG_EXIT_H
#define X86IRQ_DEVICES_DEBUG_EXIT_H

#include <stdint.h>

#include "platform/bus.h"

struct x86_debug_exit {
    void (*on_exit)(void *context, uint32_t value);
    void *context;
};

void x86_debug_exit_init(struct x86_debug_exit *d, void (*on_exit)(void *context, uint32_t value),
                         void *context);
x86irq_status x86_debug_exit_attach(struct x86_debug_exit *d, struct x86_bus *bus, uint16_t port);
void x86_debug_exit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

#endif
