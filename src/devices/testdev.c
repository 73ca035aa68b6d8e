/* pc-testdev (see testdev.h). */
#include "devices/testdev.h"

#include <string.h>

void x86_testdev_init(struct x86_testdev *t, void (*set_line)(void *context, unsigned line, int level),
                      void *context)
{
    t->scratch = 0;
    memset(t->iomem, 0, sizeof(t->iomem));
    t->set_line = set_line;
    t->context = context;
}

/* the scratch register: any access size, little-endian bytes of one 32-bit value */
static uint64_t scratch_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct x86_testdev *t = opaque;
    uint64_t v = t->scratch >> (8 * offset);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void scratch_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_testdev *t = opaque;
    for (unsigned i = 0; i < size && offset + i < 4; i++) {
        unsigned shift = 8 * (unsigned)(offset + i);
        t->scratch = (t->scratch & ~(0xFFu << shift)) | ((uint32_t)((value >> (8 * i)) & 0xFF) << shift);
    }
}

/* byte ports: a wider write sets consecutive lines, one byte each (QEMU splits it alike), so
 * one instruction can raise several lines at the same boundary */
static void line_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_testdev *t = opaque;
    for (unsigned i = 0; i < size && offset + i < X86_TESTDEV_IRQ_LINES; i++)
        if (t->set_line)
            t->set_line(t->context, (unsigned)(offset + i), ((value >> (8 * i)) & 0xFF) != 0);
}

/* port 0xE4: the page is named and nothing in the guest changes (see testdev.h) */
static void flush_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)opaque, (void)offset, (void)size, (void)value;
}

/* the iomem window: little-endian bytes; an access running past the window's end takes only
 * the bytes inside it (the rest read 0) */
static uint64_t iomem_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct x86_testdev *t = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && offset + i < X86_TESTDEV_IOMEM_SIZE; i++)
        v |= (uint64_t)t->iomem[offset + i] << (8 * i);
    return v;
}

static void iomem_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_testdev *t = opaque;
    for (unsigned i = 0; i < size && offset + i < X86_TESTDEV_IOMEM_SIZE; i++)
        t->iomem[offset + i] = (uint8_t)(value >> (8 * i));
}

x86irq_status x86_testdev_attach(struct x86_testdev *t, struct x86_bus *bus)
{
    x86irq_status s = x86_bus_add_ports(bus, X86_TESTDEV_SCRATCH_PORT, 4, scratch_read,
                                        scratch_write, t, "pc-testdev");
    if (s != X86IRQ_OK)
        return s;
    s = x86_bus_add_ports(bus, X86_TESTDEV_FLUSH_PORT, 4, NULL, flush_write, t,
                          "pc-testdev-flush-page");
    if (s != X86IRQ_OK)
        return s;
    s = x86_bus_add_ports(bus, X86_TESTDEV_IRQ_PORT, X86_TESTDEV_IRQ_LINES, NULL, line_write, t,
                          "pc-testdev-irq");
    if (s != X86IRQ_OK)
        return s;
    return x86_bus_add_mmio(bus, X86_TESTDEV_IOMEM_BASE, X86_TESTDEV_IOMEM_SIZE, iomem_read,
                            iomem_write, t, "pc-testdev-iomem");
}
