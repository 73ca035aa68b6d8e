/* The APIC bus: one path for every interrupt message (SDM Vol. 3 10.6, 10.11; the 82093AA
 * datasheet): an IOAPIC redirection entry, a PCI MSI and a local APIC's IPI all become a
 * message (destination, destination mode, delivery mode, vector, trigger) that the bus
 * resolves to the local APICs it names and delivers to each.
 *
 * Time: the cores of a machine run one after another (docs/cycle-model.md), so a message is
 * stamped with its sender's cycle. A target core still behind that cycle takes it when it gets
 * there (the LAPIC keeps it pending); a core already past it takes it at once, at its next
 * instruction boundary: late by at most the quantum the cores interleave by. */
#ifndef X86IRQ_APIC_APIC_BUS_H
#define X86IRQ_APIC_APIC_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/limits.h"

struct x86_lapic;
struct x86_trace;

/* Destination shorthands of the ICR (SDM Vol. 3 Figure 10-12) */
enum x86_apic_shorthand { X86_SHORTHAND_NONE = 0, X86_SHORTHAND_SELF = 1,
                          X86_SHORTHAND_ALL = 2, X86_SHORTHAND_OTHERS = 3 };

struct x86_apic_message {
    uint32_t destination;    /* an APIC ID or a logical destination: 8 bits in xAPIC form,
                                32 in x2APIC form */
    uint8_t vector;
    uint8_t delivery_mode;   /* enum x86_delivery_mode (lapic.h) */
    uint8_t logical;         /* the destination mode */
    uint8_t level;           /* level-triggered (fixed, lowest priority) */
    uint8_t shorthand;       /* enum x86_apic_shorthand (IPIs only) */
    uint8_t x2apic;          /* 32-bit destination semantics (an x2APIC sender's IPI) */
    int8_t source;           /* the sending LAPIC's index; -1 a device (IOAPIC, MSI) */
};

struct x86_apic_bus {
    struct x86_lapic *lapics[X86_MAX_CORES]; /* index order: APIC ID i is lapics[i] at reset */
    unsigned count;
    /* an EOI for a level-triggered vector, broadcast to the IOAPICs (10.8.5) */
    void (*eoi_broadcast)(void *opaque, uint8_t vector);
    /* a message sent at `time` reached lapics[index] (the board bounds the round there:
     * docs/cycle-model.md); may be NULL */
    void (*delivered)(void *opaque, unsigned index, uint64_t time);
    void *opaque;
};

/* Deliver a message sent at cycle `time` to every LAPIC it names (lowest priority: to one of
 * them, the lowest processor priority, ties to the lowest APIC ID: deterministic). Returns the
 * number of LAPICs that took it. */
unsigned x86_apic_bus_send(struct x86_apic_bus *bus, const struct x86_apic_message *message,
                           uint64_t time);
/* A level-triggered vector's EOI from a LAPIC */
void x86_apic_bus_eoi(struct x86_apic_bus *bus, uint8_t vector);

#endif
