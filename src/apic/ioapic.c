/* The I/O APIC (see ioapic.h). Register and bit definitions: 82093AA datasheet 3.2. */
#include "apic/ioapic.h"

#include <string.h>

#include "apic/lapic.h"
#include "cpu/cpu.h"
#include "platform/bus.h"
#include "trace/emit.h"

/* redirection entry bits */
#define RTE_VECTOR 0xFFull
#define RTE_DELIVERY_MODE_SHIFT 8
#define RTE_LOGICAL (1ull << 11)
#define RTE_DELIVERY_STATUS (1ull << 12)
#define RTE_ACTIVE_LOW (1ull << 13)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASK (1ull << 16)
#define RTE_DESTINATION_SHIFT 56
/* what software may write: everything but delivery status and Remote IRR */
#define RTE_WRITABLE (~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR) & 0xFF0000000001FFFFull)

#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARBITRATION 0x02
#define REG_REDIRECTION 0x10
#define IOAPIC_VERSION (0x20u | ((X86_IOAPIC_PINS - 1u) << 16))

static bool line_active(const struct x86_ioapic *io, unsigned pin)
{
    bool level = (io->line_level >> pin) & 1;
    return level != ((io->redirection[pin] & RTE_ACTIVE_LOW) != 0);
}

/* Send the entry's message on the APIC bus (82093AA 3.2.4). A level-triggered entry sets
 * Remote IRR until the EOI of its vector; NMI, INIT and ExtINT are edge-triggered whatever the
 * trigger bit says (the datasheet: those modes ignore it), so they set none. */
static void deliver(struct x86_ioapic *io, unsigned pin)
{
    uint64_t rte = io->redirection[pin];
    enum x86_delivery_mode mode = (enum x86_delivery_mode)((rte >> RTE_DELIVERY_MODE_SHIFT) & 7);
    bool fixed = mode == X86_DELIVERY_FIXED || mode == X86_DELIVERY_LOWEST;
    bool level = fixed && (rte & RTE_LEVEL);
    if (level) {
        if (rte & RTE_REMOTE_IRR)
            return; /* still in service: the EOI will deliver again if the line stays up */
        io->redirection[pin] |= RTE_REMOTE_IRR;
    }
    if (mode == X86_DELIVERY_SMI || mode == 3 || mode == X86_DELIVERY_STARTUP)
        return; /* no SMM; 3 and start-up are reserved in a redirection entry */
    struct x86_apic_message m = {
        .destination = (uint32_t)(rte >> RTE_DESTINATION_SHIFT), .vector = (uint8_t)rte,
        .delivery_mode = (uint8_t)mode, .logical = (rte & RTE_LOGICAL) != 0, .level = level,
        .source = -1,
    };
    x86_trace_route_pin(io->trace, pin, (uint8_t)rte, level);
    if (x86_apic_bus_send(io->apic_bus, &m, *io->clock) == 0)
        io->redirection[pin] &= ~RTE_REMOTE_IRR; /* nobody accepted it */
}

void x86_ioapic_set_pin(struct x86_ioapic *io, unsigned pin, int level)
{
    if (pin >= X86_IOAPIC_PINS)
        return;
    bool was_active = line_active(io, pin);
    if (level)
        io->line_level |= 1u << pin;
    else
        io->line_level &= ~(1u << pin);
    bool active = line_active(io, pin);
    uint64_t rte = io->redirection[pin];
    if (rte & RTE_MASK)
        return; /* a masked entry ignores the line: an edge meanwhile is lost (82093AA 3.2.4) */
    if (rte & RTE_LEVEL) {
        if (active)
            deliver(io, pin);
    } else if (active && !was_active) {
        deliver(io, pin);
    }
}

void x86_ioapic_eoi(struct x86_ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < X86_IOAPIC_PINS; pin++) {
        uint64_t rte = io->redirection[pin];
        if ((rte & RTE_LEVEL) && (rte & RTE_REMOTE_IRR) && (uint8_t)(rte & RTE_VECTOR) == vector) {
            io->redirection[pin] &= ~RTE_REMOTE_IRR;
            if (!(rte & RTE_MASK) && line_active(io, pin))
                deliver(io, pin); /* the line is still asserted: the interrupt comes again */
        }
    }
}

bool x86_ioapic_sends_nmi_or_init(const struct x86_ioapic *io)
{
    for (unsigned pin = 0; pin < X86_IOAPIC_PINS; pin++) {
        uint64_t rte = io->redirection[pin];
        unsigned mode = (unsigned)(rte >> RTE_DELIVERY_MODE_SHIFT) & 7;
        if (!(rte & RTE_MASK) && (mode == X86_DELIVERY_NMI || mode == X86_DELIVERY_INIT))
            return true;
    }
    return false;
}

static uint32_t register_read(const struct x86_ioapic *io, uint8_t reg)
{
    if (reg == REG_ID)
        return (io->id & 0xF) << 24;
    if (reg == REG_VERSION)
        return IOAPIC_VERSION;
    if (reg == REG_ARBITRATION)
        return (io->id & 0xF) << 24;
    if (reg >= REG_REDIRECTION && reg < REG_REDIRECTION + 2 * X86_IOAPIC_PINS) {
        uint64_t rte = io->redirection[(reg - REG_REDIRECTION) / 2];
        return (reg & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    return 0;
}

static void register_write(struct x86_ioapic *io, uint8_t reg, uint32_t value)
{
    if (reg == REG_ID) {
        io->id = (value >> 24) & 0xF;
        return;
    }
    if (reg < REG_REDIRECTION || reg >= REG_REDIRECTION + 2 * X86_IOAPIC_PINS)
        return; /* version and arbitration are read-only */
    unsigned pin = (reg - REG_REDIRECTION) / 2;
    uint64_t old = io->redirection[pin];
    uint64_t half = (reg & 1) ? ((uint64_t)value << 32) : value;
    uint64_t keep_half = (reg & 1) ? 0x00000000FFFFFFFFull : 0xFFFFFFFF00000000ull;
    uint64_t rte = (old & keep_half) | (half & ~keep_half);
    rte = (rte & RTE_WRITABLE) | (old & (RTE_DELIVERY_STATUS | RTE_REMOTE_IRR));
    if (!(rte & RTE_LEVEL))
        rte &= ~RTE_REMOTE_IRR;
    io->redirection[pin] = rte;
    /* unmasking a level entry whose line is asserted delivers it now */
    if ((old & RTE_MASK) && !(rte & RTE_MASK) && (rte & RTE_LEVEL) && line_active(io, pin))
        deliver(io, pin);
}

uint64_t x86_ioapic_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_ioapic *io = opaque;
    (void)size;
    if (offset == 0x00)
        return io->select;
    if (offset == 0x10)
        return register_read(io, io->select);
    return 0;
}

void x86_ioapic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_ioapic *io = opaque;
    (void)size;
    if (offset == 0x00)
        io->select = (uint8_t)value;
    else if (offset == 0x10)
        register_write(io, io->select, (uint32_t)value);
    else if (offset == 0x40)
        x86_ioapic_eoi(io, (uint8_t)value); /* the version 0x20 EOI register */
}

void x86_ioapic_init(struct x86_ioapic *io, struct x86_apic_bus *apic_bus,
                     const uint64_t *clock, struct x86_trace *trace)
{
    memset(io, 0, sizeof(*io));
    io->apic_bus = apic_bus;
    io->clock = clock;
    io->trace = trace;
    for (unsigned pin = 0; pin < X86_IOAPIC_PINS; pin++)
        io->redirection[pin] = RTE_MASK; /* reset: every entry masked */
}

x86irq_status x86_ioapic_attach(struct x86_ioapic *io, struct x86_bus *bus)
{
    return x86_bus_add_mmio(bus, X86_IOAPIC_BASE, 0x1000, x86_ioapic_read, x86_ioapic_write, io,
                            "ioapic");
}
