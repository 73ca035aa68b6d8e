/* The APIC bus (see apic_bus.h): destination resolution and lowest-priority arbitration. */
#include "apic/apic_bus.h"

#include "apic/lapic.h"

/* Does the message name this LAPIC? Shorthands first (they ignore the destination field:
 * SDM Vol. 3 10.6.1), then the destination in the sender's form. */
static bool names(const struct x86_apic_message *m, unsigned index, const struct x86_lapic *l)
{
    switch (m->shorthand) {
    case X86_SHORTHAND_SELF: return (int)index == m->source;
    case X86_SHORTHAND_ALL: return true;
    case X86_SHORTHAND_OTHERS: return (int)index != m->source;
    default: return x86_lapic_matches(l, m->destination, m->logical, m->x2apic);
    }
}

unsigned x86_apic_bus_send(struct x86_apic_bus *bus, const struct x86_apic_message *m,
                           uint64_t time)
{
    if (m->shorthand == X86_SHORTHAND_SELF) { /* the storms' case: no scan of the LAPICs */
        if (m->source < 0 || (unsigned)m->source >= bus->count)
            return 0;
        x86_lapic_receive(bus->lapics[m->source], m, time);
        return 1; /* to the sender itself: no other core to bound the round for */
    }
    if (m->delivery_mode == X86_DELIVERY_LOWEST) {
        /* one of the named LAPICs takes it: the lowest arbitration priority (10.6.2.4, the APR
         * of 10.8.3.1, as the P6 family's APIC bus arbitrates; no focus processor). A tie goes to
         * the lowest APIC ID (hardware breaks it by the arbitration ID, which after reset
         * follows the APIC ID): deterministic. Software-disabled LAPICs take no part. */
        struct x86_lapic *chosen = NULL;
        unsigned chosen_index = 0;
        uint32_t best = 0;
        for (unsigned i = 0; i < bus->count; i++) {
            struct x86_lapic *l = bus->lapics[i];
            if (!names(m, i, l) || !x86_lapic_accepts_fixed(l))
                continue;
            uint32_t p = x86_lapic_arbitration_priority(l);
            if (!chosen || p < best || (p == best && l->id < chosen->id)) {
                chosen = l;
                chosen_index = i;
                best = p;
            }
        }
        if (!chosen)
            return 0;
        x86_lapic_receive(chosen, m, time);
        if (bus->delivered)
            bus->delivered(bus->opaque, chosen_index, time);
        return 1;
    }
    unsigned taken = 0;
    for (unsigned i = 0; i < bus->count; i++)
        if (names(m, i, bus->lapics[i])) {
            x86_lapic_receive(bus->lapics[i], m, time);
            if (bus->delivered)
                bus->delivered(bus->opaque, i, time);
            taken++;
        }
    return taken;
}

void x86_apic_bus_eoi(struct x86_apic_bus *bus, uint8_t vector)
{
    if (bus->eoi_broadcast)
        bus->eoi_broadcast(bus->opaque, vector);
}
