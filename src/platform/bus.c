/* Guest physical memory, the port map and the MMIO map (see bus.h). */
#include "platform/bus.h"

#include <stdlib.h>
#include <string.h>

#define PORT_COUNT 0x10000u

bool x86_bus_init(struct x86_bus *bus, uint64_t ram_size)
{
    memset(bus, 0, sizeof(*bus));
    bus->ram = calloc(1, ram_size ? ram_size : 1);
    bus->port_slot = calloc(PORT_COUNT, sizeof(*bus->port_slot));
    if (!bus->ram || !bus->port_slot) {
        x86_bus_finish(bus);
        return false;
    }
    bus->ram_size = ram_size;
    return true;
}

void x86_bus_finish(struct x86_bus *bus)
{
    free(bus->ram);
    free(bus->port_slot);
    free(bus->ports);
    free(bus->mmio);
    memset(bus, 0, sizeof(*bus));
}

static bool grow(void **array, size_t *capacity, size_t count, size_t element)
{
    if (count < *capacity)
        return true;
    size_t n = *capacity ? *capacity * 2 : 8;
    void *bigger = realloc(*array, n * element);
    if (!bigger)
        return false;
    *array = bigger;
    *capacity = n;
    return true;
}

x86irq_status x86_bus_add_ports(struct x86_bus *bus, uint16_t base, uint32_t count,
                                x86irq_device_read_fn read, x86irq_device_write_fn write,
                                void *opaque, const char *name)
{
    if (count == 0 || count > PORT_COUNT - (uint32_t)base) /* base + count could wrap */
        return X86IRQ_ERR_INVALID_ARGUMENT;
    for (uint32_t p = base; p < (uint32_t)base + count; p++)
        if (bus->port_slot[p])
            return X86IRQ_ERR_CONFLICT;
    /* slot numbers are 16-bit: index + 1 must fit */
    if (bus->port_count >= 0xFFFF)
        return X86IRQ_ERR_NO_MEMORY;
    if (!grow((void **)&bus->ports, &bus->port_capacity, bus->port_count, sizeof(*bus->ports)))
        return X86IRQ_ERR_NO_MEMORY;
    bus->ports[bus->port_count] = (struct x86_io_region){ base, count, read, write, opaque, name };
    bus->port_count++;
    for (uint32_t p = base; p < (uint32_t)base + count; p++)
        bus->port_slot[p] = (uint16_t)bus->port_count;
    return X86IRQ_OK;
}

x86irq_status x86_bus_add_mmio(struct x86_bus *bus, uint64_t base, uint64_t size,
                               x86irq_device_read_fn read, x86irq_device_write_fn write,
                               void *opaque, const char *name)
{
    if (size == 0 || base + size < base || base + size > (1ull << 32))
        return X86IRQ_ERR_RANGE;
    if (base < bus->ram_size)
        return X86IRQ_ERR_RANGE; /* over RAM */
    size_t at = 0;
    while (at < bus->mmio_count && bus->mmio[at].base < base)
        at++;
    if (at > 0 && bus->mmio[at - 1].base + bus->mmio[at - 1].size > base)
        return X86IRQ_ERR_CONFLICT;
    if (at < bus->mmio_count && base + size > bus->mmio[at].base)
        return X86IRQ_ERR_CONFLICT;
    if (!grow((void **)&bus->mmio, &bus->mmio_capacity, bus->mmio_count, sizeof(*bus->mmio)))
        return X86IRQ_ERR_NO_MEMORY;
    memmove(&bus->mmio[at + 1], &bus->mmio[at], (bus->mmio_count - at) * sizeof(*bus->mmio));
    bus->mmio[at] = (struct x86_io_region){ base, size, read, write, opaque, name };
    bus->mmio_count++;
    return X86IRQ_OK;
}

x86irq_status x86_bus_remove_mmio(struct x86_bus *bus, void *opaque, const char *name)
{
    for (size_t i = 0; i < bus->mmio_count; i++)
        if (bus->mmio[i].opaque == opaque && strcmp(bus->mmio[i].name, name) == 0) {
            memmove(&bus->mmio[i], &bus->mmio[i + 1],
                    (bus->mmio_count - i - 1) * sizeof(*bus->mmio));
            bus->mmio_count--;
            return X86IRQ_OK;
        }
    return X86IRQ_ERR_INVALID_ARGUMENT;
}

x86irq_status x86_bus_remove_ports(struct x86_bus *bus, void *opaque, const char *name)
{
    for (size_t i = 0; i < bus->port_count; i++) {
        struct x86_io_region *r = &bus->ports[i];
        if (r->size == 0 || r->opaque != opaque || !r->name || strcmp(r->name, name) != 0)
            continue;
        /* the slot numbers of the other ranges index this array, so the entry stays as a
         * tombstone (size 0, no callbacks) and only its ports are released */
        for (uint64_t p = r->base; p < r->base + r->size; p++)
            bus->port_slot[p] = 0;
        *r = (struct x86_io_region){ 0, 0, NULL, NULL, NULL, NULL };
        return X86IRQ_OK;
    }
    return X86IRQ_ERR_INVALID_ARGUMENT;
}

static uint64_t all_ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint32_t x86_bus_port_read(struct x86_bus *bus, uint16_t port, unsigned size)
{
    uint16_t slot = bus->port_slot[port];
    if (slot) {
        const struct x86_io_region *r = &bus->ports[slot - 1];
        if (r->read)
            return (uint32_t)(r->read(r->opaque, port - r->base, size) & all_ones(size));
    }
    return (uint32_t)all_ones(size);
}

void x86_bus_port_write(struct x86_bus *bus, uint16_t port, unsigned size, uint32_t value)
{
    uint16_t slot = bus->port_slot[port];
    if (slot) {
        const struct x86_io_region *r = &bus->ports[slot - 1];
        if (r->write)
            r->write(r->opaque, port - r->base, size, value & all_ones(size));
    }
}

const struct x86_io_region *x86_bus_find_mmio(const struct x86_bus *bus, uint64_t addr)
{
    size_t lo = 0, hi = bus->mmio_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct x86_io_region *r = &bus->mmio[mid];
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->size)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

uint64_t x86_bus_mmio_read(struct x86_bus *bus, uint64_t addr, unsigned size)
{
    const struct x86_io_region *r = x86_bus_find_mmio(bus, addr);
    if (r && r->read)
        return r->read(r->opaque, addr - r->base, size) & all_ones(size);
    return all_ones(size);
}

void x86_bus_mmio_write(struct x86_bus *bus, uint64_t addr, unsigned size, uint64_t value)
{
    const struct x86_io_region *r = x86_bus_find_mmio(bus, addr);
    if (r && r->write)
        r->write(r->opaque, addr - r->base, size, value & all_ones(size));
}
