/* Snapshots of the whole machine (x86irq_snapshot_save / _restore).
 *
 * The machine's state lives in plain C structs: the machine with its embedded devices, each
 * core (CPU, LAPIC), the NIC and the network peer. A snapshot holds an image of each struct,
 * so nothing is forgotten when a device gains a field. What is not state but wiring (pointers
 * between the parts, callbacks, the embedder's hooks, caches of decoded code) is listed below
 * as "kept": a restore keeps the live machine's values there, and the saved image has zeros
 * (no host address leaves the process; the same run saves the same bytes). Pointers that are
 * state are translated: the events' callbacks by name, their data by (part, offset), the
 * running core by index, the TLB's host addresses relative to RAM. Heap arrays (the event
 * queue, the trace's threads, the UART's host queue, the embedder's events) and RAM have
 * sections of their own.
 *
 * A restore reads and checks everything, and allocates what it needs, before it changes the
 * machine: a bad snapshot leaves the machine as it was. Then it cannot fail.
 * tests/unit/machine/test_snapshot.c checks that no pointer of the saving machine survives in
 * the restored one (a missing "kept" entry), and the round trip property.
 */
#include "machine/machine.h"
#include "machine/snapshot_format.h"
#include "cpu/mmu.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ what is not state */

struct kept {
    size_t offset, size;
};
#define KEEP(type, member) { offsetof(type, member), sizeof(((type *)0)->member) }
#define KEEP_M(member) KEEP(x86irq_machine, member)
#define KEEP_C(member) KEEP(struct x86_core, member)

static const struct kept machine_kept[] = {
    KEEP_M(cores), KEEP_M(cpus), KEEP_M(core_count),
    KEEP_M(current),                       /* translated: MFIX */
    KEEP_M(platform), KEEP_M(apic_bus), KEEP_M(lapic_windows), KEEP_M(lapic_window_count),
    KEEP_M(code), KEEP_M(bus), KEEP_M(events), KEEP_M(config), KEEP_M(symbols),
    KEEP_M(quantum),                       /* configuration: the header says it, checked */
    KEEP_M(uart.irq), KEEP_M(uart.output), KEEP_M(uart.output_opaque), KEEP_M(uart.events),
    KEEP_M(uart.cycles), KEEP_M(uart.host), KEEP_M(uart.host_capacity),
    KEEP_M(debug_exit.on_exit), KEEP_M(debug_exit.context),
    KEEP_M(ioapic.apic_bus), KEEP_M(ioapic.clock), KEEP_M(ioapic.trace),
    KEEP_M(testdev.set_line), KEEP_M(testdev.context),
    KEEP_M(pic.output), KEEP_M(pic.on_eoi), KEEP_M(pic.eoi_opaque),
    KEEP_M(pit.irq0), KEEP_M(pit.events), KEEP_M(pit.cycles),
    KEEP_M(hpet.opaque), KEEP_M(hpet.set_ioapic_pin), KEEP_M(hpet.set_isa_irq),
    KEEP_M(hpet.legacy_changed), KEEP_M(hpet.events), KEEP_M(hpet.cycles),
    KEEP_M(hpet.timer[0].owner), KEEP_M(hpet.timer[1].owner), KEEP_M(hpet.timer[2].owner),
    KEEP_M(rtc.irq), KEEP_M(rtc.events), KEEP_M(rtc.cycles),
    KEEP_M(acpi_pm.sci), KEEP_M(acpi_pm.sleep), KEEP_M(acpi_pm.opaque), KEEP_M(acpi_pm.events),
    KEEP_M(acpi_pm.cycles),
    /* the devices' clocks come from the configuration's cpu_hz (the header's, checked): an
     * image cannot make the PIT tick a billion times a cycle */
    KEEP_M(uart.cpu_hz), KEEP_M(pit.cpu_hz), KEEP_M(pit.clock_numerator),
    KEEP_M(pit.clock_denominator), KEEP_M(hpet.cpu_hz), KEEP_M(hpet.tick_numerator),
    KEEP_M(hpet.tick_denominator), KEEP_M(rtc.cpu_hz), KEEP_M(rtc.tick_numerator),
    KEEP_M(rtc.tick_denominator), KEEP_M(acpi_pm.cpu_hz), KEEP_M(acpi_pm.clock_numerator),
    KEEP_M(acpi_pm.clock_denominator),
    KEEP_M(i8042.kbd_irq), KEEP_M(i8042.aux_irq), KEEP_M(i8042.reset), KEEP_M(i8042.opaque),
    KEEP_M(system_control.reset), KEEP_M(system_control.opaque),
    KEEP_M(pci.host_bridge.intx), KEEP_M(pci.host_bridge.send_msi),
    KEEP_M(pci.host_bridge.msi_context), KEEP_M(pci.host_bridge.ops),
    KEEP_M(pci.host_bridge.owner), KEEP_M(pci.functions), KEEP_M(pci.function_count),
    KEEP_M(nic), KEEP_M(net_peer), KEEP_M(nic_transmit), KEEP_M(nic_transmit_opaque),
    KEEP_M(has_chipset),
    KEEP_M(trace.mask), KEEP_M(trace.fn), KEEP_M(trace.opaque), KEEP_M(trace.rules),
    KEEP_M(trace.running),                 /* translated: MFIX */
    KEEP_M(trace.cores), KEEP_M(trace.core_count), KEEP_M(trace.symbols),
    KEEP_M(trace.threads), KEEP_M(trace.thread_capacity), /* THRD */
    KEEP_M(trace.probes), KEEP_M(trace.probe_addresses), KEEP_M(trace.probe_count),
    KEEP_M(trace.symbol_cache),
    KEEP_M(serial_fn), KEEP_M(serial_opaque),
    KEEP_M(external_events), KEEP_M(external_event_count), KEEP_M(unbound_events), /* XEVT */
    /* the debugger's and the embedder's, not the machine's */
    KEEP_M(breakpoints), KEEP_M(breakpoint_count), KEEP_M(watchpoints),
    KEEP_M(watchpoint_count), KEEP_M(watch_hit), KEEP_M(step_cpu), KEEP_M(step_instructions),
    KEEP_M(step_rip), KEEP_M(step_cs_base), KEEP_M(until_cpu), KEEP_M(until_instructions),
    KEEP_M(host_inputs), KEEP_M(recording), KEEP_M(replay), KEEP_M(replay_applying),
    KEEP_M(has_run), KEEP_M(intr_acknowledge),
    KEEP_M(intr_acknowledge_opaque), KEEP_M(instruction_hook), KEEP_M(instruction_hook_opaque),
    KEEP_M(running), KEEP_M(callback_depth), KEEP_M(executing), KEEP_M(hooked_core),
    KEEP_M(trace_fn), KEEP_M(trace_opaque), KEEP_M(trace_fn_mask), KEEP_M(hooks),
    KEEP_M(disassembler), KEEP_M(error),
};

static const struct kept core_kept[] = {
    KEEP_C(cpu.tlb),                       /* translated: CFIX */
    KEEP_C(cpu.current_block), KEEP_C(cpu.fault_jump),
    KEEP_C(cpu.watch.probes), KEEP_C(cpu.watch.probe_count), KEEP_C(cpu.watch.fn),
    KEEP_C(cpu.watch.opaque),
    KEEP_C(cpu.cost), KEEP_C(cpu.bus), KEEP_C(cpu.clock), KEEP_C(cpu.code),
    KEEP_C(cpu.jump_cache), KEEP_C(cpu.gates), KEEP_C(cpu.trace), KEEP_C(cpu.platform),
    KEEP_C(cpu.index), KEEP_C(cpu.code_slot), KEEP_C(cpu.generation), KEEP_C(cpu.jump_cs_limit),
    KEEP_C(cpu.hooked), KEEP_C(cpu.stop_pending), KEEP_C(cpu.exit_request),
    KEEP_C(cpu.code_ranges), KEEP_C(cpu.in_hooked_code), KEEP_C(cpu.port_hooked),
    /* the IDT dispatch table's bookkeeping: a restore empties that table */
    KEEP_C(cpu.table_epoch), KEEP_C(cpu.table_watch_count), KEEP_C(cpu.table_watch),
    KEEP_C(jump_cache), KEEP_C(gates),
    KEEP_C(lapic.cpu), KEEP_C(lapic.apic_bus), KEEP_C(lapic.events), KEEP_C(lapic.trace),
    KEEP_C(lapic.extint_acknowledge), KEEP_C(lapic.base_changed), KEEP_C(lapic.opaque),
    KEEP_C(machine),
};

static const struct kept nic_kept[] = {
    KEEP(struct x86_e1000, pci.intx), KEEP(struct x86_e1000, pci.send_msi),
    KEEP(struct x86_e1000, pci.msi_context), KEEP(struct x86_e1000, pci.ops),
    KEEP(struct x86_e1000, pci.owner), KEEP(struct x86_e1000, bus),
    KEEP(struct x86_e1000, events), KEEP(struct x86_e1000, cycles),
    KEEP(struct x86_e1000, transmit), KEEP(struct x86_e1000, transmit_opaque),
    KEEP(struct x86_e1000, cpu_hz), /* configuration */
};

static const struct kept peer_kept[] = {
    KEEP(struct x86_net_peer, deliver), KEEP(struct x86_net_peer, opaque),
    KEEP(struct x86_net_peer, events), KEEP(struct x86_net_peer, cycles),
    KEEP(struct x86_net_peer, cpu_hz), /* configuration */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The parts a struct image covers: the machine, each core, the NIC, the peer */
enum part_kind { PART_MACHINE, PART_CORE, PART_NIC, PART_PEER };
static const struct part_layout {
    const char tag[5];
    size_t size;
    const struct kept *kept;
    size_t kept_count;
} part_layouts[] = {
    [PART_MACHINE] = { "MACH", sizeof(x86irq_machine), machine_kept, COUNT(machine_kept) },
    [PART_CORE] = { "CORE", sizeof(struct x86_core), core_kept, COUNT(core_kept) },
    [PART_NIC] = { "NIC ", sizeof(struct x86_e1000), nic_kept, COUNT(nic_kept) },
    [PART_PEER] = { "PEER", sizeof(struct x86_net_peer), peer_kept, COUNT(peer_kept) },
};

/* The machine's event callbacks by name; `slot`: the opaque is the embedder event's slot */
static const struct event_kind {
    const char *name;
    x86_event_fn fn;
    bool slot;
} event_kinds[] = {
    { "lapic-timer", x86_lapic_timer_event, false },
    { "uart-timeout", x86_uart_timeout_event, false },
    { "uart-receive", x86_uart_receive_event, false },
    { "rtc", x86_rtc_event, false },
    { "e1000-throttle", x86_e1000_throttle_event, false },
    { "e1000-rdtr", x86_e1000_rdtr_event, false },
    { "e1000-radv", x86_e1000_radv_event, false },
    { "e1000-tidv", x86_e1000_tidv_event, false },
    { "e1000-tadv", x86_e1000_tadv_event, false },
    { "hpet-timer", x86_hpet_timer_event, false },
    { "net-peer-reply", x86_net_peer_reply_event, false },
    { "acpi-pm-timer", x86_acpi_pm_timer_event, false },
    { "pit-channel0", x86_pit_channel0_event, false },
    { "embedder", x86_machine_external_event, true },
};

/* What a snapshot's images mean depends on this build's struct layouts: their sizes, the
 * kept lists and the event names make the fingerprint in the header. */
static uint64_t layout_fingerprint(void)
{
    uint64_t h = X86_SNAPSHOT_HASH_INIT;
    for (size_t i = 0; i < COUNT(part_layouts); i++) {
        const struct part_layout *p = &part_layouts[i];
        h = x86_snapshot_hash(h, p->tag, 4);
        h = x86_snapshot_hash(h, &p->size, sizeof(p->size));
        h = x86_snapshot_hash(h, p->kept, p->kept_count * sizeof(*p->kept));
    }
    for (size_t i = 0; i < COUNT(event_kinds); i++)
        h = x86_snapshot_hash(h, event_kinds[i].name, strlen(event_kinds[i].name) + 1);
    size_t sizes[] = { sizeof(struct x86_trace_thread), sizeof(struct x86_event) };
    h = x86_snapshot_hash(h, sizes, sizeof(sizes));
    return x86_snapshot_hash(h, x86irq_version(), strlen(x86irq_version()));
}

static uint64_t symbols_fingerprint(const struct x86_symbol_table *t)
{
    if (t->count == 0)
        return 0;
    uint64_t h = X86_SNAPSHOT_HASH_INIT;
    for (size_t i = 0; i < t->count; i++) {
        h = x86_snapshot_hash(h, &t->symbols[i].address, 8);
        h = x86_snapshot_hash(h, &t->symbols[i].size, 8);
        h = x86_snapshot_hash(h, t->symbols[i].name, strlen(t->symbols[i].name) + 1);
    }
    return h ? h : 1;
}

void x86_snapshot_describe(const x86irq_machine *m, struct x86_snapshot_header *h)
{
    memset(h, 0, sizeof(*h));
    h->version = X86_SNAPSHOT_VERSION;
    snprintf(h->library, sizeof(h->library), "%s", x86irq_version());
    h->layout = layout_fingerprint();
    h->ram_size = m->config.ram_size;
    h->cpu_hz = m->config.cpu_hz;
    h->cpus = m->core_count;
    h->isa = m->config.isa;
    h->devices = (m->config.no_default_devices ? 1u : 0) | (m->config.nic_msi ? 2u : 0) |
                 (m->config.nic_peer ? 4u : 0);
    h->linux_entry = m->config.linux_entry;
    h->rtc_epoch = m->config.rtc_epoch;
    h->quantum = m->quantum;
    h->symbols = symbols_fingerprint(&m->symbols);
}

/* ------------------------------------------------------------------ parts and pointers */

struct part {
    enum part_kind kind;
    uint32_t index;
    void *base;
};

static unsigned machine_parts(x86irq_machine *m, struct part *parts)
{
    unsigned n = 0;
    parts[n++] = (struct part){ PART_MACHINE, 0, m };
    for (unsigned i = 0; i < m->core_count; i++)
        parts[n++] = (struct part){ PART_CORE, i, m->cores[i] };
    if (m->nic)
        parts[n++] = (struct part){ PART_NIC, 0, m->nic };
    if (m->net_peer)
        parts[n++] = (struct part){ PART_PEER, 0, m->net_peer };
    return n;
}
#define MAX_PARTS (X86_MAX_CORES + 3)

/* An event's data pointer as (part number, offset in it) */
static bool encode_pointer(const struct part *parts, unsigned count, const void *pointer,
                           uint32_t *part, uint64_t *offset)
{
    for (unsigned i = 0; i < count; i++) {
        uintptr_t base = (uintptr_t)parts[i].base, p = (uintptr_t)pointer;
        if (p >= base && p - base < part_layouts[parts[i].kind].size) {
            *part = i;
            *offset = p - base;
            return true;
        }
    }
    return false;
}

static void zero_kept(uint8_t *image, enum part_kind kind)
{
    const struct part_layout *l = &part_layouts[kind];
    for (size_t i = 0; i < l->kept_count; i++)
        memset(image + l->kept[i].offset, 0, l->kept[i].size);
}

/* Put the live values of the kept ranges (from `live`, a copy taken before) back */
static void restore_kept(uint8_t *target, const uint8_t *live, enum part_kind kind)
{
    const struct part_layout *l = &part_layouts[kind];
    for (size_t i = 0; i < l->kept_count; i++)
        memcpy(target + l->kept[i].offset, live + l->kept[i].offset, l->kept[i].size);
}

static bool tlb_entry_valid(const struct x86_tlb_entry *e)
{
    return e->read_tag != X86_TLB_INVALID || e->write_tag != X86_TLB_INVALID ||
           e->checked_write_tag != X86_TLB_INVALID;
}

/* ------------------------------------------------------------------ save */

static void put_image(struct x86_snapshot_writer *w, x86irq_machine *m, const struct part *p)
{
    const struct part_layout *l = &part_layouts[p->kind];
    uint8_t *image = malloc(l->size);
    if (!image) {
        w->failed = true;
        return;
    }
    memcpy(image, p->base, l->size);
    zero_kept(image, p->kind);
    if (p->kind == PART_CORE) {
        struct x86_cpu *cpu = &((struct x86_core *)(void *)image)->cpu;
        uintptr_t ram = (uintptr_t)m->bus.ram;
        for (unsigned i = 0; i < 2 * X86_TLB_ENTRIES; i++) {
            struct x86_tlb_entry *e = &cpu->tlb_sets[i];
            /* a host address is RAM + an offset: keep the offset (unsigned arithmetic wraps) */
            e->host_minus_linear = tlb_entry_valid(e) ? e->host_minus_linear - ram : 0;
        }
    }
    size_t at = x86_snapshot_begin_section(w, l->tag, p->index);
    x86_snapshot_put(w, image, l->size);
    x86_snapshot_end_section(w, at);
    free(image);
}

static void put_fixes(struct x86_snapshot_writer *w, x86irq_machine *m)
{
    size_t at = x86_snapshot_begin_section(w, "MFIX", 0);
    unsigned current = 0, running = 0;
    for (unsigned i = 0; i < m->core_count; i++) {
        if (m->current == m->cores[i])
            current = i;
        if (m->trace.running == &m->cores[i]->cpu)
            running = i + 1;
    }
    x86_snapshot_put_u32(w, current);
    x86_snapshot_put_u32(w, running);
    x86_snapshot_end_section(w, at);
    for (unsigned i = 0; i < m->core_count; i++) {
        const struct x86_cpu *cpu = &m->cores[i]->cpu;
        at = x86_snapshot_begin_section(w, "CFIX", i);
        x86_snapshot_put_u32(w, cpu->tlb == cpu->tlb_sets ? 0 : 1);
        x86_snapshot_end_section(w, at);
    }
}

static bool put_events(struct x86_snapshot_writer *w, x86irq_machine *m, const struct part *parts,
                       unsigned part_count, char *why, size_t why_size)
{
    struct x86_event *list;
    size_t count;
    if (!x86_events_list(&m->events, &list, &count)) {
        w->failed = true;
        return true;
    }
    size_t at = x86_snapshot_begin_section(w, "EVNT", 0);
    x86_snapshot_put_u64(w, m->events.next_sequence);
    x86_snapshot_put_u64(w, count);
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        size_t kind = 0;
        while (kind < COUNT(event_kinds) && event_kinds[kind].fn != list[i].fn)
            kind++;
        uint32_t part = 0;
        uint64_t offset = 0;
        if (kind == COUNT(event_kinds)) {
            snprintf(why, why_size, "an event of an unnamed kind is pending (cycle %llu)",
                     (unsigned long long)list[i].cycle);
            ok = false;
        } else if (event_kinds[kind].slot) {
            offset = (uint64_t)(uintptr_t)list[i].opaque;
        } else if (!encode_pointer(parts, part_count, list[i].opaque, &part, &offset)) {
            snprintf(why, why_size, "a %s event's data is outside the machine",
                     event_kinds[kind].name);
            ok = false;
        }
        x86_snapshot_put_u64(w, list[i].cycle);
        x86_snapshot_put_u64(w, list[i].sequence);
        x86_snapshot_put_u64(w, list[i].id);
        x86_snapshot_put_u32(w, (uint32_t)kind);
        x86_snapshot_put_u32(w, part);
        x86_snapshot_put_u64(w, offset);
    }
    x86_snapshot_end_section(w, at);
    free(list);
    return ok;
}

/* ------------------------------------------------------------------ a delta's base */

/* A delta snapshot holds the pages of RAM that differ from a base snapshot's, and names the
 * base by its checksums: the base is a whole snapshot of a machine configured alike. */
struct snapshot_base {
    uint8_t *ram;               /* the base's RAM, inflated */
    uint32_t header_crc, payload_crc;
    uint64_t payload_size;
};

static x86irq_status bad(x86irq_machine *m, const char *format, const char *detail);
static x86irq_status compare_header(x86irq_machine *m, const struct x86_snapshot_header *h);

static x86irq_status open_base(x86irq_machine *m, const void *data, size_t size,
                               struct snapshot_base *b)
{
    memset(b, 0, sizeof(*b));
    struct x86_snapshot_header h;
    struct x86_snapshot_reader payload;
    char why[200];
    if (!x86_snapshot_open(data, size, &h, &payload, why, sizeof(why)))
        return bad(m, "the base snapshot: %s", why);
    x86irq_status s = compare_header(m, &h);
    if (s != X86IRQ_OK)
        return s;
    struct x86_snapshot_section sec;
    while (x86_snapshot_next_section(&payload, &sec)) {
        if (!memcmp(sec.tag, "RAMD", 4))
            return bad(m, "the base snapshot: %s", "it is a delta itself (a base is whole)");
        if (memcmp(sec.tag, "RAM ", 4) != 0 || b->ram)
            continue;
        b->ram = calloc(1, m->bus.ram_size ? (size_t)m->bus.ram_size : 1);
        if (!b->ram)
            return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
        if (!x86_snapshot_get_ram(&sec.body, b->ram, m->bus.ram_size)) {
            free(b->ram);
            b->ram = NULL;
            return bad(m, "the base snapshot: %s", "its RAM does not decompress");
        }
    }
    if (!b->ram)
        return bad(m, "the base snapshot: %s", "it has no RAM section");
    const uint8_t *p = data;
    b->header_crc = (uint32_t)p[124] | (uint32_t)p[125] << 8 | (uint32_t)p[126] << 16 |
                    (uint32_t)p[127] << 24;
    b->payload_crc = h.payload_crc;
    b->payload_size = h.payload_size;
    return X86IRQ_OK;
}

static void put_heaps(struct x86_snapshot_writer *w, x86irq_machine *m,
                      const struct snapshot_base *base)
{
    /* the embedder's events: their slots and ids (their functions are the embedder's) */
    size_t at = x86_snapshot_begin_section(w, "XEVT", 0);
    x86_snapshot_put_u64(w, m->external_event_count);
    for (size_t i = 0; i < m->external_event_count; i++) {
        const struct x86_external_event *e = &m->external_events[i];
        x86_snapshot_put_u64(w, e->fn || e->unbound ? e->id : 0);
    }
    x86_snapshot_end_section(w, at);

    at = x86_snapshot_begin_section(w, "THRD", 0);
    x86_snapshot_put_u32(w, m->trace.thread_count);
    x86_snapshot_put(w, m->trace.threads, m->trace.thread_count * sizeof(*m->trace.threads));
    x86_snapshot_end_section(w, at);

    at = x86_snapshot_begin_section(w, "UHST", 0);
    const struct x86_uart *u = &m->uart;
    for (size_t i = 0; i < u->host_count; i++)
        x86_snapshot_put(w, &u->host[(u->host_head + i) % u->host_capacity], 1);
    x86_snapshot_end_section(w, at);

    if (base) {
        at = x86_snapshot_begin_section(w, "RAMD", 0);
        x86_snapshot_put_u32(w, base->header_crc);
        x86_snapshot_put_u32(w, base->payload_crc);
        x86_snapshot_put_u64(w, base->payload_size);
        x86_snapshot_put_ram(w, m->bus.ram, m->bus.ram_size, base->ram);
    } else {
        at = x86_snapshot_begin_section(w, "RAM ", 0);
        x86_snapshot_put_ram(w, m->bus.ram, m->bus.ram_size, NULL);
    }
    x86_snapshot_end_section(w, at);
}

/* Save into a new buffer: whole, or (base) a delta against it */
static x86irq_status save(x86irq_machine *machine, const char *name, const void *base_data,
                          size_t base_size, bool delta, void **data, size_t *size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!data || !size)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "%s: no place for the snapshot", name);
    *data = NULL;
    *size = 0;
    x86irq_status s = x86_machine_outside_callbacks(machine, name);
    if (s != X86IRQ_OK)
        return s;
    x86irq_machine *m = machine;
    struct snapshot_base base;
    if (delta) {
        s = open_base(m, base_data, base_size, &base);
        if (s != X86IRQ_OK)
            return s;
    }
    struct part parts[MAX_PARTS];
    unsigned part_count = machine_parts(m, parts);
    struct x86_snapshot_writer w = { 0 };
    x86_snapshot_writer_start(&w);
    for (unsigned i = 0; i < part_count; i++)
        put_image(&w, m, &parts[i]);
    put_fixes(&w, m);
    char why[160] = "";
    bool named = put_events(&w, m, parts, part_count, why, sizeof(why));
    put_heaps(&w, m, delta ? &base : NULL);
    if (delta)
        free(base.ram);
    struct x86_snapshot_header h;
    x86_snapshot_describe(m, &h);
    x86_snapshot_finish(&w, &h);
    if (!named) {
        free(w.data);
        return x86_machine_error(m, X86IRQ_ERR_STATE, "%s: %s", name, why);
    }
    if (w.failed) {
        free(w.data);
        return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
    }
    *data = w.data;
    *size = w.size;
    return X86IRQ_OK;
}

x86irq_status x86irq_snapshot_save(x86irq_machine *machine, void **data, size_t *size)
{
    return save(machine, "x86irq_snapshot_save", NULL, 0, false, data, size);
}

x86irq_status x86irq_snapshot_save_delta(x86irq_machine *machine, const void *base,
                                         size_t base_size, void **data, size_t *size)
{
    return save(machine, "x86irq_snapshot_save_delta", base, base_size, true, data, size);
}

void x86irq_snapshot_free(void *data)
{
    free(data);
}

/* Write a saved snapshot to path and free it */
static x86irq_status write_file(x86irq_machine *machine, void *data, size_t size,
                                const char *path)
{
    x86irq_status s = X86IRQ_OK;
    FILE *f = fopen(path, "wb");
    if (!f) {
        s = x86_machine_error(machine, X86IRQ_ERR_IO, "%s: %s", path, strerror(errno));
    } else {
        bool written = fwrite(data, 1, size, f) == size;
        int saved = errno;
        if (fclose(f) != 0 && written) {
            written = false;
            saved = errno;
        }
        if (!written)
            s = x86_machine_error(machine, X86IRQ_ERR_IO, "%s: %s", path, strerror(saved));
    }
    free(data);
    return s;
}

x86irq_status x86irq_snapshot_save_file(x86irq_machine *machine, const char *path)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!path)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_snapshot_save_file: no path");
    void *data;
    size_t size;
    x86irq_status s = x86irq_snapshot_save(machine, &data, &size);
    return s != X86IRQ_OK ? s : write_file(machine, data, size, path);
}

x86irq_status x86irq_snapshot_save_delta_file(x86irq_machine *machine, const char *base_path,
                                              const char *path)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!base_path || !path)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_snapshot_save_delta_file: no path");
    x86irq_status s = x86_machine_outside_callbacks(machine, "x86irq_snapshot_save_delta_file");
    if (s != X86IRQ_OK)
        return s;
    uint8_t *base;
    size_t base_size;
    s = x86_machine_read_file(machine, base_path, &base, &base_size);
    if (s != X86IRQ_OK)
        return s;
    void *data;
    size_t size;
    s = x86irq_snapshot_save_delta(machine, base, base_size, &data, &size);
    free(base);
    return s != X86IRQ_OK ? s : write_file(machine, data, size, path);
}

/* ------------------------------------------------------------------ restore */

/* Everything a restore will put in place, read and checked before the machine changes */
struct restore_plan {
    const uint8_t *images[MAX_PARTS]; /* aligned copies of the sections (image_copy) */
    uint8_t *image_copy[MAX_PARTS];
    const uint8_t *cfix[X86_MAX_CORES];
    bool have_mfix;
    uint32_t current, running;
    uint8_t *ram;
    struct x86_event *events;
    size_t event_count, event_capacity;
    uint64_t next_sequence;
    struct x86_external_event *external;
    size_t external_count, unbound;
    struct x86_trace_thread *threads;
    unsigned thread_count, thread_capacity;
    uint8_t *host;
    size_t host_count;
    uint8_t *live[MAX_PARTS]; /* copies of the live parts, for the kept ranges */
    bool have_events, have_external, have_threads, have_host, have_ram;
};

static void plan_free(struct restore_plan *p)
{
    for (unsigned i = 0; i < MAX_PARTS; i++)
        free(p->image_copy[i]);
    free(p->ram);
    free(p->events);
    free(p->external);
    free(p->threads);
    free(p->host);
    for (unsigned i = 0; i < MAX_PARTS; i++)
        free(p->live[i]);
}

static x86irq_status bad(x86irq_machine *m, const char *format, const char *detail)
{
    return x86_machine_error(m, X86IRQ_ERR_BAD_SNAPSHOT, format, detail);
}

static x86irq_status compare_header(x86irq_machine *m, const struct x86_snapshot_header *h)
{
    struct x86_snapshot_header own;
    x86_snapshot_describe(m, &own);
    char what[200];
    if (h->layout != own.layout) {
        snprintf(what, sizeof(what), "it was saved by library %s with another state layout "
                 "(this is %s): restore it with the build that saved it", h->library,
                 own.library);
        return bad(m, "snapshot: %s", what);
    }
#define SAME(field, text)                                                                       \
    if (h->field != own.field) {                                                              \
        snprintf(what, sizeof(what), text ": the snapshot's %llu, this machine's %llu",         \
                 (unsigned long long)h->field, (unsigned long long)own.field);                 \
        return bad(m, "snapshot of another machine: %s", what);                               \
    }
    SAME(ram_size, "RAM size")
    SAME(cpus, "CPUs")
    SAME(cpu_hz, "clock (Hz)")
    SAME(isa, "ISA extensions (mask)")
    SAME(devices, "devices (no_default_devices, nic_msi, nic_peer bits)")
    SAME(linux_entry, "Linux entry")
    SAME(rtc_epoch, "RTC epoch")
    SAME(quantum, "SMP quantum")
#undef SAME
    if (own.symbols && h->symbols != own.symbols)
        return bad(m, "snapshot: %s", "the machine that saved it had other symbols (another "
                   "guest file?): give the same guest file");
    return X86IRQ_OK;
}

/* The saved struct images, as the kinds they are */
static const x86irq_machine *machine_image(const struct restore_plan *p)
{
    return (const x86irq_machine *)(const void *)p->images[0];
}

/* The bool members of the images (kept ones aside): a byte that is neither 0 nor 1 is not a
 * bool (C11 6.2.6.1), so a snapshot carrying one is refused rather than read. count elements
 * stride bytes apart for the members of arrays. */
struct bool_field {
    enum part_kind kind;
    size_t offset;
    unsigned count;
    size_t stride;
};
#define BOOLS(kind, type, member) { kind, offsetof(type, member), 1, 0 }
#define BOOL_M(member) BOOLS(PART_MACHINE, x86irq_machine, member)
#define BOOL_C(member) BOOLS(PART_CORE, struct x86_core, member)
#define BOOL_N(member) BOOLS(PART_NIC, struct x86_e1000, member)
#define BOOL_ARRAY(kind, type, array, n, member) \
    { kind, offsetof(type, array[0].member), n, sizeof(((type *)0)->array[0]) }
#define PIC_BOOL(member) BOOL_ARRAY(PART_MACHINE, x86irq_machine, pic.chip, 2, member)
#define PIT_BOOL(member) \
    BOOL_ARRAY(PART_MACHINE, x86irq_machine, pit.channel, X86_PIT_CHANNELS, member)
static const struct bool_field bool_fields[] = {
    BOOL_M(window_at_event), BOOL_M(round_open), BOOL_M(loaded), BOOL_M(hpet_legacy),
    BOOL_M(embedder_intr), BOOL_M(finished),
    BOOL_M(uart.timeout_pending), BOOL_M(uart.thr_interrupt),
    BOOL_M(pic.output_level), BOOL_M(pic.ir2_driven),
    PIC_BOOL(read_isr), PIC_BOOL(poll), PIC_BOOL(special_mask), PIC_BOOL(rotate_in_auto_eoi),
    PIT_BOOL(bcd), PIT_BOOL(write_high_next), PIT_BOOL(count_written), PIT_BOOL(null_count),
    PIT_BOOL(read_high_next), PIT_BOOL(count_latched), PIT_BOOL(status_latched),
    PIT_BOOL(load_pending), PIT_BOOL(load_starts_low), PIT_BOOL(loaded), PIT_BOOL(counting),
    PIT_BOOL(gate),
    BOOL_M(rtc.nmi_masked), BOOL_M(rtc.alarm_known), BOOL_M(acpi_pm.timer_status_latched),
    BOOL_M(i8042.output_full), BOOL_M(i8042.output_aux), BOOL_M(i8042.timeout),
    BOOL_M(i8042.last_write_command), BOOL_M(i8042.translate_break), BOOL_M(i8042.kbd_scanning),
    BOOL_M(pci.host_bridge.intx_level), BOOL_M(trace.phases_known),
    BOOL_C(resuming_at_breakpoint), BOOL_C(awake), BOOL_C(ran), BOOL_C(eip_pending),
    BOOL_N(pci.intx_level), BOOL_N(eeprom_wire.data_out), BOOL_N(context.segmentation),
    BOOL_N(msi_capable), BOOL_N(link_up), BOOL_N(interrupt_asserted),
    BOOL_N(transmit_frame_bad), BOOL_N(transmit_first), BOOL_N(transmitting),
    BOOL_N(mmio_mapped), BOOL_N(io_mapped),
    BOOL_ARRAY(PART_PEER, struct x86_net_peer, neighbours, X86_NET_PEER_ARP_ENTRIES, valid),
    BOOL_ARRAY(PART_PEER, struct x86_net_peer, queue, X86_NET_PEER_QUEUE, arp),
    BOOLS(PART_PEER, struct x86_net_peer, delivering),
};

static bool bools_valid(const uint8_t *image, enum part_kind kind)
{
    for (size_t i = 0; i < COUNT(bool_fields); i++) {
        const struct bool_field *f = &bool_fields[i];
        if (f->kind != kind)
            continue;
        for (unsigned k = 0; k < f->count; k++)
            if (image[f->offset + k * f->stride] > 1)
                return false;
    }
    return true;
}

/* Indices inside the images that the code uses to index arrays: checked, so that a snapshot
 * with a right checksum but wrong contents cannot make the library reach outside them. */
static const char *check_images(const x86irq_machine *m, const struct restore_plan *p,
                                const unsigned *part_index)
{
    const x86irq_machine *mi = machine_image(p);
    bool flags = bools_valid((const uint8_t *)mi, PART_MACHINE);
    for (unsigned i = 0; i < m->core_count; i++)
        flags = flags && bools_valid(p->images[part_index[PART_CORE] + i], PART_CORE);
    if (m->nic)
        flags = flags && bools_valid(p->images[part_index[PART_NIC]], PART_NIC);
    if (m->net_peer)
        flags = flags && bools_valid(p->images[part_index[PART_PEER]], PART_PEER);
    if (!flags)
        return "a flag is neither true nor false";
    if (mi->trace.thread_count != p->thread_count)
        return "the trace's thread count disagrees with its threads";
    for (unsigned i = 0; i < m->core_count; i++)
        if (mi->trace.current[i] >= p->thread_count)
            return "a core runs a thread that does not exist";
    /* each thread's phase stack and nesting stack: depths index them, phases index tables */
    for (unsigned i = 0; i < p->thread_count; i++) {
        const struct x86_trace_thread *th = &p->threads[i];
        if (th->phase_depth > X86_PHASE_STACK_MAX || th->phase >= X86IRQ_PHASE_COUNT)
            return "a trace thread's phases are out of range";
        for (unsigned k = 0; k < th->phase_depth; k++)
            if (th->phases[k].phase >= X86IRQ_PHASE_COUNT)
                return "a trace thread's phases are out of range";
        unsigned stored = th->depth < X86_NESTING_MAX ? th->depth : X86_NESTING_MAX;
        for (unsigned k = 0; k < stored; k++)
            if (th->stack[k].phase_depth > X86_PHASE_STACK_MAX)
                return "a trace thread's nesting is out of range";
    }
    const struct x86_uart *u = &mi->uart;
    if (u->host_count != p->host_count || u->rx_head >= X86_UART_RX_FIFO ||
        u->rx_count > X86_UART_RX_FIFO)
        return "the UART's queues are out of range";
    if (p->current >= m->core_count || p->running > m->core_count)
        return "the running core is out of range";
    /* the devices' own indices: array positions, shift counts, a chip's place in its pair */
    if (mi->rtc.index >= X86_RTC_CMOS_SIZE)
        return "the RTC's index is out of range";
    if (mi->pic.chip[0].index != X86_PIC_MASTER || mi->pic.chip[1].index != X86_PIC_SLAVE)
        return "the 8259s are out of place";
    for (unsigned i = 0; i < X86_HPET_TIMERS; i++)
        if (mi->hpet.timer[i].index != i)
            return "an HPET timer is out of place";
    const struct x86_i8042 *k = &mi->i8042;
    if (k->controller_head >= X86_I8042_CONTROLLER_QUEUE_SIZE ||
        k->controller_count > X86_I8042_CONTROLLER_QUEUE_SIZE ||
        k->kbd_head >= X86_I8042_QUEUE_SIZE || k->kbd_count > X86_I8042_QUEUE_SIZE)
        return "the keyboard controller's queues are out of range";
    for (unsigned i = 0; i < m->core_count; i++) {
        const struct x86_core *c = (const void *)p->images[part_index[PART_CORE] + i];
        if (c->cpu.table_watch_count > X86_TABLE_WATCH_MAX ||
            c->cpu.event_chain_length > X86_EVENT_CHAIN_MAX)
            return "a core's bookkeeping is out of range";
        if (c->lapic.pending_count > X86_LAPIC_PENDING)
            return "a local APIC's pending messages are out of range";
        /* the TLBs hold RAM offsets (put_image): every tag that can match must reach a whole
         * page of RAM, or a patched offset would make a guest store land anywhere in the host */
        for (unsigned k = 0; k < 2 * X86_TLB_ENTRIES; k++) {
            const struct x86_tlb_entry *e = &c->cpu.tlb_sets[k];
            const uint64_t tags[3] = { e->read_tag, e->write_tag, e->checked_write_tag };
            for (unsigned t = 0; t < 3; t++) {
                if (tags[t] & 0xFFF)
                    continue; /* X86_TLB_INVALID or another unaligned tag: never matches */
                uint64_t offset = (uint64_t)(e->host_minus_linear + (uintptr_t)tags[t]);
                if ((offset & 0xFFF) || offset > m->bus.ram_size - 4096)
                    return "a TLB entry points outside RAM";
            }
        }
    }
    if (m->nic) {
        const struct x86_e1000 *n = (const void *)p->images[part_index[PART_NIC]];
        if (n->transmit_length > X86_E1000_MAX_FRAME)
            return "the NIC's frame in progress is out of range";
        if (n->eeprom_wire.address >= X86_E1000_EEPROM_WORDS)
            return "the NIC's EEPROM address is out of range";
    }
    if (m->net_peer) {
        const struct x86_net_peer *q = (const void *)p->images[part_index[PART_PEER]];
        if (q->queue_head >= X86_NET_PEER_QUEUE || q->queue_count > X86_NET_PEER_QUEUE)
            return "the network peer's queue is out of range";
        for (unsigned i = 0; i < X86_NET_PEER_QUEUE; i++)
            if (q->queue[i].length > X86_NET_PEER_MAX_FRAME)
                return "a network peer's reply is out of range";
    }
    return NULL;
}

static x86irq_status read_events(x86irq_machine *m, struct x86_snapshot_reader *r,
                                 struct restore_plan *p, const struct part *parts,
                                 unsigned part_count)
{
    p->next_sequence = x86_snapshot_get_u64(r);
    uint64_t count = x86_snapshot_get_u64(r);
    if (r->failed || count > (r->size - r->at) / 40)
        return bad(m, "snapshot damaged: %s", "its event list is truncated");
    p->event_capacity = count > 16 ? (size_t)count : 16;
    p->events = calloc(p->event_capacity, sizeof(*p->events));
    if (!p->events)
        return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
    for (size_t i = 0; i < count; i++) {
        struct x86_event *e = &p->events[i];
        e->cycle = x86_snapshot_get_u64(r);
        e->sequence = x86_snapshot_get_u64(r);
        e->id = x86_snapshot_get_u64(r);
        uint32_t kind = x86_snapshot_get_u32(r);
        uint32_t part = x86_snapshot_get_u32(r);
        uint64_t offset = x86_snapshot_get_u64(r);
        if (kind >= COUNT(event_kinds) || e->id == 0 || e->id >= p->next_sequence)
            return bad(m, "snapshot damaged: %s", "an event of an unknown kind or id");
        e->fn = event_kinds[kind].fn;
        if (event_kinds[kind].slot) {
            if (offset >= p->external_count || p->external[offset].id != e->id)
                return bad(m, "snapshot damaged: %s", "an embedder event without its slot");
            e->opaque = (void *)(uintptr_t)offset;
        } else {
            if (part >= part_count || offset >= part_layouts[parts[part].kind].size)
                return bad(m, "snapshot damaged: %s", "an event's data is outside the machine");
            e->opaque = (uint8_t *)parts[part].base + offset;
        }
    }
    p->event_count = (size_t)count;
    return X86IRQ_OK;
}

static x86irq_status read_plan(x86irq_machine *m, struct x86_snapshot_reader *payload,
                               struct restore_plan *p, const struct snapshot_base *base)
{
    struct part parts[MAX_PARTS];
    unsigned part_count = machine_parts(m, parts);
    unsigned part_index[4] = { 0 };
    for (unsigned i = part_count; i-- > 0;)
        part_index[parts[i].kind] = i;
    struct x86_snapshot_section s;
    struct x86_snapshot_reader events_body = { 0 };
    char what[96];
    while (x86_snapshot_next_section(payload, &s)) {
        bool known = false;
        for (unsigned i = 0; i < part_count; i++) {
            const struct part_layout *l = &part_layouts[parts[i].kind];
            if (memcmp(s.tag, l->tag, 4) != 0 || s.index != parts[i].index)
                continue;
            known = true;
            if (p->images[i] || s.body.size != l->size) {
                snprintf(what, sizeof(what), "its %s section %u is repeated or of the wrong size",
                         l->tag, s.index);
                return bad(m, "snapshot damaged: %s", what);
            }
            /* the section's bytes sit anywhere in the buffer: the struct is read from a copy
             * aligned as the struct is (a core wants 64 bytes) */
            size_t rounded = (l->size + 63) / 64 * 64;
            p->image_copy[i] = aligned_alloc(64, rounded ? rounded : 64);
            if (!p->image_copy[i])
                return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
            memcpy(p->image_copy[i], s.body.data, l->size);
            p->images[i] = p->image_copy[i];
        }
        if (known)
            continue;
        if (!memcmp(s.tag, "MFIX", 4) && !p->have_mfix) {
            p->current = x86_snapshot_get_u32(&s.body);
            p->running = x86_snapshot_get_u32(&s.body);
            p->have_mfix = !s.body.failed;
        } else if (!memcmp(s.tag, "CFIX", 4) && s.index < m->core_count && !p->cfix[s.index] &&
                   s.body.size == 4) {
            p->cfix[s.index] = s.body.data;
        } else if (!memcmp(s.tag, "EVNT", 4) && !p->have_events) {
            events_body = s.body; /* read once the embedder's slots are known */
            p->have_events = true;
        } else if (!memcmp(s.tag, "XEVT", 4) && !p->have_external) {
            uint64_t n = x86_snapshot_get_u64(&s.body);
            if (s.body.failed || n != (s.body.size - 8) / 8 || (s.body.size - 8) % 8)
                return bad(m, "snapshot damaged: %s", "its embedder events are truncated");
            p->external_count = (size_t)n;
            p->external = calloc(n ? (size_t)n : 1, sizeof(*p->external));
            if (!p->external)
                return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
            for (size_t i = 0; i < n; i++) {
                p->external[i].id = x86_snapshot_get_u64(&s.body);
                p->external[i].unbound = p->external[i].id != 0;
                p->unbound += p->external[i].unbound;
            }
            p->have_external = true;
        } else if (!memcmp(s.tag, "THRD", 4) && !p->have_threads) {
            uint32_t n = x86_snapshot_get_u32(&s.body);
            if (s.body.failed || n == 0 || (uint64_t)n * sizeof(*p->threads) != s.body.size - 4)
                return bad(m, "snapshot damaged: %s", "its trace threads are truncated");
            p->thread_count = n;
            p->thread_capacity = n > 4 ? n : 4;
            p->threads = calloc(p->thread_capacity, sizeof(*p->threads));
            if (!p->threads)
                return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
            x86_snapshot_get(&s.body, p->threads, n * sizeof(*p->threads));
            p->have_threads = true;
        } else if (!memcmp(s.tag, "UHST", 4) && !p->have_host) {
            p->host_count = s.body.size;
            if (p->host_count > X86_UART_HOST_QUEUE_LIMIT)
                return bad(m, "snapshot damaged: %s", "its serial input queue is too long");
            if (p->host_count) {
                p->host = malloc(p->host_count);
                if (!p->host)
                    return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY,
                                             "out of memory for the snapshot");
                memcpy(p->host, s.body.data, p->host_count);
            }
            p->have_host = true;
        } else if (!memcmp(s.tag, "RAM ", 4) && !p->have_ram) {
            p->ram = calloc(1, m->bus.ram_size ? (size_t)m->bus.ram_size : 1);
            if (!p->ram)
                return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
            if (!x86_snapshot_get_ram(&s.body, p->ram, m->bus.ram_size))
                return bad(m, "snapshot damaged: %s", "its RAM does not decompress");
            p->have_ram = true;
        } else if (!memcmp(s.tag, "RAMD", 4) && !p->have_ram) {
            if (!base)
                return bad(m, "snapshot: %s", "it is a delta: restore it with its base "
                           "snapshot (x86irq_snapshot_restore_delta)");
            uint32_t header_crc = x86_snapshot_get_u32(&s.body);
            uint32_t payload_crc = x86_snapshot_get_u32(&s.body);
            uint64_t payload_size = x86_snapshot_get_u64(&s.body);
            if (s.body.failed)
                return bad(m, "snapshot damaged: %s", "its RAM delta is truncated");
            if (header_crc != base->header_crc || payload_crc != base->payload_crc ||
                payload_size != base->payload_size)
                return bad(m, "snapshot: %s", "the delta was saved against another base "
                           "snapshot");
            p->ram = malloc(m->bus.ram_size ? (size_t)m->bus.ram_size : 1);
            if (!p->ram)
                return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
            memcpy(p->ram, base->ram, (size_t)m->bus.ram_size);
            if (!x86_snapshot_get_ram(&s.body, p->ram, m->bus.ram_size))
                return bad(m, "snapshot damaged: %s", "its RAM delta does not decompress");
            p->have_ram = true;
        } else {
            snprintf(what, sizeof(what), "an unexpected or repeated section \"%.4s\" %u", s.tag,
                     s.index);
            return bad(m, "snapshot damaged: %s", what);
        }
    }
    if (payload->failed)
        return bad(m, "snapshot damaged: %s", "a section runs past its end");
    for (unsigned i = 0; i < part_count; i++)
        if (!p->images[i]) {
            snprintf(what, sizeof(what), "%s %u", part_layouts[parts[i].kind].tag,
                     parts[i].index);
            return bad(m, "snapshot incomplete: no %s section", what);
        }
    for (unsigned i = 0; i < m->core_count; i++)
        if (!p->cfix[i])
            return bad(m, "snapshot incomplete: %s", "a core's CFIX section is missing");
    if (!p->have_mfix || !p->have_events || !p->have_external || !p->have_threads ||
        !p->have_host || !p->have_ram)
        return bad(m, "snapshot incomplete: %s", "a section is missing");
    x86irq_status s2 = read_events(m, &events_body, p, parts, part_count);
    if (s2 != X86IRQ_OK)
        return s2;
    const char *wrong = check_images(m, p, part_index);
    if (wrong)
        return bad(m, "snapshot damaged: %s", wrong);
    for (unsigned i = 0; i < part_count; i++) {
        size_t size = part_layouts[parts[i].kind].size;
        p->live[i] = malloc(size);
        if (!p->live[i])
            return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the snapshot");
    }
    return X86IRQ_OK;
}

/* A PCI function's BARs: unmapped before the images go in, mapped where they say after */
static void unmap_bars(x86irq_machine *m)
{
    for (unsigned f = 0; f < m->pci.function_count; f++) {
        struct x86_pci_function *fn = m->pci.functions[f];
        for (unsigned bar = 0; bar < X86_PCI_BARS; bar++)
            if (fn->bar_size[bar] && fn->ops && fn->ops->bar_moved)
                fn->ops->bar_moved(fn, bar, 0);
    }
}
static void map_bars(x86irq_machine *m)
{
    for (unsigned f = 0; f < m->pci.function_count; f++) {
        struct x86_pci_function *fn = m->pci.functions[f];
        for (unsigned bar = 0; bar < X86_PCI_BARS; bar++)
            if (fn->bar_size[bar] && fn->ops && fn->ops->bar_moved)
                fn->ops->bar_moved(fn, bar, x86_pci_bar_base(fn, bar));
    }
}

static void commit(x86irq_machine *m, struct restore_plan *p)
{
    struct part parts[MAX_PARTS];
    unsigned part_count = machine_parts(m, parts);
    if (m->has_chipset)
        unmap_bars(m);
    for (unsigned i = 0; i < part_count; i++) {
        size_t size = part_layouts[parts[i].kind].size;
        memcpy(p->live[i], parts[i].base, size);
        memcpy(parts[i].base, p->images[i], size);
        restore_kept(parts[i].base, p->live[i], parts[i].kind);
    }

    /* the heaps */
    uint8_t *old_ram = m->bus.ram;
    m->bus.ram = p->ram;
    p->ram = old_ram; /* freed with the plan */
    x86_events_replace(&m->events, p->events, p->event_count, p->event_capacity,
                       p->next_sequence);
    p->events = NULL;
    free(m->external_events);
    m->external_events = p->external;
    m->external_event_count = p->external_count;
    m->unbound_events = p->unbound;
    p->external = NULL;
    free(m->trace.threads);
    m->trace.threads = p->threads;
    m->trace.thread_capacity = p->thread_capacity;
    p->threads = NULL;
    free(m->uart.host);
    m->uart.host = p->host;
    m->uart.host_capacity = p->host_count;
    m->uart.host_head = 0;
    p->host = NULL;

    /* the translated pointers, the caches */
    m->current = m->cores[p->current];
    m->trace.running = p->running ? &m->cores[p->running - 1]->cpu : NULL;
    uintptr_t ram = (uintptr_t)m->bus.ram;
    for (unsigned i = 0; i < m->core_count; i++) {
        struct x86_cpu *cpu = &m->cores[i]->cpu;
        uint32_t half = p->cfix[i][0] & 1;
        cpu->tlb = &cpu->tlb_sets[half ? X86_TLB_ENTRIES : 0];
        for (unsigned k = 0; k < 2 * X86_TLB_ENTRIES; k++) {
            struct x86_tlb_entry *e = &cpu->tlb_sets[k];
            e->host_minus_linear = tlb_entry_valid(e) ? e->host_minus_linear + ram : 0;
        }
        cpu->current_block = NULL;
        /* the IDT dispatch table was decoded from other tables: forget it; the epoch moves on,
         * so no entry made before matches */
        memset(cpu->gates, 0, sizeof(*cpu->gates));
        x86_tables_changed(cpu);
        x86_cpu_renew(cpu);
    }
    x86_code_cache_flush(&m->code);
    if (m->has_chipset)
        map_bars(m);
    if (m->core_count && m->cores[0]->lapic.base_changed)
        m->cores[0]->lapic.base_changed(m->cores[0]->lapic.opaque, &m->cores[0]->lapic);
    x86_trace_refresh_cores(&m->trace); /* the cores' watches as this machine's rules say */
    x86_machine_hooks_changed(m);
}

/* Restore a snapshot; a delta needs its base (base_data, or NULL) */
static x86irq_status restore(x86irq_machine *machine, const char *name, const void *base_data,
                             size_t base_size, const void *data, size_t size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_machine_outside_callbacks(machine, name);
    if (s != X86IRQ_OK)
        return s;
    x86irq_machine *m = machine;
    struct x86_snapshot_header h;
    struct x86_snapshot_reader payload;
    char why[200];
    if (!x86_snapshot_open(data, size, &h, &payload, why, sizeof(why)))
        return bad(m, "%s", why);
    s = compare_header(m, &h);
    if (s != X86IRQ_OK)
        return s;
    struct snapshot_base base = { 0 };
    if (base_data) {
        s = open_base(m, base_data, base_size, &base);
        if (s != X86IRQ_OK)
            return s;
    }
    struct restore_plan plan;
    memset(&plan, 0, sizeof(plan));
    s = read_plan(m, &payload, &plan, base_data ? &base : NULL);
    if (s == X86IRQ_OK)
        commit(m, &plan);
    plan_free(&plan);
    free(base.ram);
    return s;
}

x86irq_status x86irq_snapshot_restore(x86irq_machine *machine, const void *data, size_t size)
{
    return restore(machine, "x86irq_snapshot_restore", NULL, 0, data, size);
}

x86irq_status x86irq_snapshot_restore_delta(x86irq_machine *machine, const void *base,
                                            size_t base_size, const void *data, size_t size)
{
    if (machine && !base)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_snapshot_restore_delta: no base snapshot");
    return restore(machine, "x86irq_snapshot_restore_delta", base, base_size, data, size);
}

/* Read path (and base_path, if any) and restore */
static x86irq_status restore_files(x86irq_machine *machine, const char *name,
                                   const char *base_path, const char *path)
{
    x86irq_status s = x86_machine_outside_callbacks(machine, name);
    if (s != X86IRQ_OK)
        return s;
    uint8_t *data, *base = NULL;
    size_t size, base_size = 0;
    s = x86_machine_read_file(machine, path, &data, &size);
    if (s != X86IRQ_OK)
        return s;
    if (base_path)
        s = x86_machine_read_file(machine, base_path, &base, &base_size);
    if (s == X86IRQ_OK)
        s = restore(machine, name, base, base_size, data, size);
    free(base);
    free(data);
    return s;
}

x86irq_status x86irq_snapshot_restore_file(x86irq_machine *machine, const char *path)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!path)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_snapshot_restore_file: no path");
    return restore_files(machine, "x86irq_snapshot_restore_file", NULL, path);
}

x86irq_status x86irq_snapshot_restore_delta_file(x86irq_machine *machine, const char *base_path,
                                                 const char *path)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!base_path || !path)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_snapshot_restore_delta_file: no path");
    return restore_files(machine, "x86irq_snapshot_restore_delta_file", base_path, path);
}
