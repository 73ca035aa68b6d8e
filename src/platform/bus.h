/* Guest physical memory and the two device maps: I/O ports and MMIO.
 *
 * RAM is one host buffer from physical 0. A physical access that hits neither RAM nor a
 * registered device reads as open bus (all ones) and writes nowhere. Devices register
 * read/write callbacks (opaque, offset from the range's base, size) as TinyEMU and QEMU do.
 */
#ifndef X86IRQ_PLATFORM_BUS_H
#define X86IRQ_PLATFORM_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86irq/x86irq.h"

struct x86_io_region {
    uint64_t base;
    uint64_t size;
    x86irq_device_read_fn read;   /* NULL: reads all ones */
    x86irq_device_write_fn write; /* NULL: writes dropped */
    void *opaque;
    const char *name;             /* static string, for messages and traces */
};

struct x86_bus {
    uint8_t *ram;
    uint64_t ram_size;
    struct x86_io_region *ports;  /* registered port ranges */
    size_t port_count, port_capacity;
    uint16_t *port_slot;          /* 65536 entries: 0 = none, else index+1 into ports */
    struct x86_io_region *mmio;   /* registered MMIO ranges, sorted by base */
    size_t mmio_count, mmio_capacity;
};

/* Allocate ram_size bytes of zeroed RAM and empty maps. false on allocation failure. */
bool x86_bus_init(struct x86_bus *bus, uint64_t ram_size);
void x86_bus_finish(struct x86_bus *bus);

/* Register a port range [base, base+count). X86IRQ_ERR_CONFLICT on overlap,
 * X86IRQ_ERR_INVALID_ARGUMENT on an empty range or one past port 0xFFFF. */
x86irq_status x86_bus_add_ports(struct x86_bus *bus, uint16_t base, uint32_t count,
                                x86irq_device_read_fn read, x86irq_device_write_fn write,
                                void *opaque, const char *name);
/* Register an MMIO range. X86IRQ_ERR_RANGE if it overlaps RAM or wraps, CONFLICT on overlap. */
x86irq_status x86_bus_add_mmio(struct x86_bus *bus, uint64_t base, uint64_t size,
                               x86irq_device_read_fn read, x86irq_device_write_fn write,
                               void *opaque, const char *name);

/* Remove the MMIO region registered with this opaque and name (a relocatable device). */
x86irq_status x86_bus_remove_mmio(struct x86_bus *bus, void *opaque, const char *name);
/* Remove the port range registered with this opaque and name (a relocatable PCI I/O BAR).
 * X86IRQ_ERR_INVALID_ARGUMENT if there is none. */
x86irq_status x86_bus_remove_ports(struct x86_bus *bus, void *opaque, const char *name);
/* Port I/O of 1, 2 or 4 bytes; unclaimed ports read all ones. */
uint32_t x86_bus_port_read(struct x86_bus *bus, uint16_t port, unsigned size);
void x86_bus_port_write(struct x86_bus *bus, uint16_t port, unsigned size, uint32_t value);

/* The MMIO region containing addr, or NULL. */
const struct x86_io_region *x86_bus_find_mmio(const struct x86_bus *bus, uint64_t addr);
/* Physical access outside RAM (MMIO or open bus), size 1, 2, 4 or 8. */
uint64_t x86_bus_mmio_read(struct x86_bus *bus, uint64_t addr, unsigned size);
void x86_bus_mmio_write(struct x86_bus *bus, uint64_t addr, unsigned size, uint64_t value);

/* Host pointer to RAM [addr, addr+len), or NULL if any of it lies outside RAM (DMA and loader
 * bounds check). */
static inline uint8_t *x86_bus_ram(const struct x86_bus *bus, uint64_t addr, uint64_t len)
{
    if (addr > bus->ram_size || len > bus->ram_size - addr)
        return NULL;
    return bus->ram + addr;
}

#endif
