/* isa-debug-exit (see debug_exit.h). One port (QEMU's default iosize 1 at 0xF4); 2- and 4-byte
 * writes give their whole value. Reads give all ones. */
#include "devices/debug_exit.h"

void x86_debug_exit_init(struct x86_debug_exit *d, void (*on_exit)(void *context, uint32_t value),
                         void *context)
{
    d->on_exit = on_exit;
    d->context = context;
}

void x86_debug_exit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_debug_exit *d = opaque;
    (void)offset;
    (void)size;
    if (d->on_exit)
        d->on_exit(d->context, (uint32_t)value);
}

x86irq_status x86_debug_exit_attach(struct x86_debug_exit *d, struct x86_bus *bus, uint16_t port)
{
    return x86_bus_add_ports(bus, port, 1, NULL, x86_debug_exit_write, d, "isa-debug-exit");
}
