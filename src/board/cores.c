/* The processors of the PC board: each core with its local APIC on the APIC bus, what a core
 * reaches outside itself (struct x86_platform: INTA, the LAPIC's MSRs, INIT, shutdown, the
 * per-instruction check), the LAPICs' MMIO windows, MSI and the EOI broadcast. */
#include "board/board.h"

#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "trace/emit.h"

/* struct x86_cpu is the first member of struct x86_core */
static struct x86_core *core_of(struct x86_cpu *cpu) { return (struct x86_core *)(void *)cpu; }

/* ------------------------------------------------------------------ the platform interface */

static int acknowledge(void *opaque, struct x86_cpu *cpu)
{
    x86irq_machine *m = opaque;
    m->accept_source = 0; /* the LAPIC's, unless the INTA goes on to the 8259 */
    int vector = x86_lapic_acknowledge(&core_of(cpu)->lapic);
    if (vector >= 0)
        x86_trace_accept(&m->trace, (uint8_t)vector, (enum x86_accept_source)m->accept_source);
    return vector;
}

static bool read_msr(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t *value)
{
    (void)opaque;
    return x86_lapic_read_msr(&core_of(cpu)->lapic, msr, value);
}

static bool write_msr(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t value)
{
    (void)opaque;
    return x86_lapic_write_msr(&core_of(cpu)->lapic, msr, value);
}

/* INIT reached the processor: its LAPIC follows the core (SDM Vol. 3 10.4.7.3); an AP waits
 * for a start-up IPI, the BSP starts at the reset vector (8.4.1) */
static void core_init(x86irq_machine *m, struct x86_core *core)
{
    x86_lapic_init_signal(&core->lapic);
    bool bsp = core->lapic.apic_base & 0x100u;
    core->cpu.wait_for_sipi = !bsp;
    core->cpu.halted = !bsp;
    x86_lapic_set_lint(&core->lapic, 0, m->lint0_level);
}

static uint8_t read_cr8(void *opaque, struct x86_cpu *cpu)
{
    (void)opaque;
    return x86_lapic_cr8(&core_of(cpu)->lapic);
}

static void write_cr8(void *opaque, struct x86_cpu *cpu, uint8_t value)
{
    (void)opaque;
    x86_lapic_set_cr8(&core_of(cpu)->lapic, value);
}

static void platform_init(void *opaque, struct x86_cpu *cpu)
{
    core_init(opaque, core_of(cpu));
}

void x86_machine_init_signal(x86irq_machine *m, struct x86_core *core)
{
    x86_cpu_init_signal(&core->cpu);
    core_init(m, core);
}

static void shutdown(void *opaque, struct x86_cpu *cpu)
{
    x86_machine_stop_on(opaque, X86IRQ_STOP_SHUTDOWN, cpu->index);
}

static bool before_instruction(void *opaque, struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return x86_machine_before_instruction(opaque, core_of(cpu), insn);
}

static void watch(void *opaque, struct x86_cpu *cpu, uint64_t linear, unsigned size, bool write)
{
    x86_machine_watch(opaque, core_of(cpu), linear, size, write);
}

static void port_access(void *opaque, struct x86_cpu *cpu, uint16_t port, unsigned size,
                        uint32_t value, bool write)
{
    x86_machine_hooks_port(opaque, core_of(cpu), port, size, value, write);
}

/* ------------------------------------------------------------------ LAPIC MMIO windows */

/* Each core reaches its own LAPIC at its window (IA32_APIC_BASE): one bus range per base in
 * use; the running core's LAPIC answers if its window is that one */
static struct x86_lapic *window_lapic(const struct x86_lapic_window *w)
{
    struct x86_lapic *l = &w->machine->current->lapic;
    return x86_lapic_window(l) == w->base ? l : NULL;
}

static uint64_t window_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_lapic *l = window_lapic(opaque);
    if (!l)
        return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; /* nothing answers: open bus */
    return x86_lapic_mmio_read(l, offset, size);
}

static void window_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_lapic *l = window_lapic(opaque);
    if (l)
        x86_lapic_mmio_write(l, offset, size, value);
}

/* Map a range at every base a LAPIC has its window at. A base over RAM or another device is
 * not mapped: that LAPIC is reachable through its MSRs only, as when hardware leaves it behind
 * memory. */
static void map_lapic_windows(x86irq_machine *m)
{
    for (unsigned i = 0; i < m->lapic_window_count; i++)
        x86_bus_remove_mmio(&m->bus, &m->lapic_windows[i], "lapic");
    m->lapic_window_count = 0;
    for (unsigned c = 0; c < m->core_count; c++) {
        uint32_t base = x86_lapic_window(&m->cores[c]->lapic);
        bool known = base == 0;
        for (unsigned i = 0; i < m->lapic_window_count && !known; i++)
            known = m->lapic_windows[i].base == base;
        if (known)
            continue;
        struct x86_lapic_window *w = &m->lapic_windows[m->lapic_window_count];
        *w = (struct x86_lapic_window){ m, base };
        if (x86_bus_add_mmio(&m->bus, base, 0x1000, window_read, window_write, w, "lapic") ==
            X86IRQ_OK)
            m->lapic_window_count++;
    }
}

static void lapic_base_changed(void *opaque, struct x86_lapic *lapic)
{
    (void)lapic;
    map_lapic_windows(opaque);
}

static int lapic_extint_acknowledge(void *opaque)
{
    return x86_machine_extint_acknowledge(opaque);
}

/* ------------------------------------------------------------------ the APIC bus */

static void eoi_broadcast(void *opaque, uint8_t vector)
{
    x86irq_machine *m = opaque;
    if (m->has_chipset)
        x86_ioapic_eoi(&m->ioapic, vector);
}

/* An MSI write reaching the processors' bus (SDM Vol. 3 10.11): a message like an IOAPIC's,
 * at the devices' present cycle */
void x86_board_send_msi(void *context, const struct x86_msi_message *msg)
{
    x86irq_machine *m = context;
    x86_trace_route_msi(&m->trace, msg->vector, msg->level);
    struct x86_apic_message am = {
        .destination = msg->destination, .vector = msg->vector,
        .delivery_mode = msg->delivery_mode, .logical = msg->logical,
        .level = msg->level && msg->delivery_mode <= X86_DELIVERY_LOWEST, .source = -1,
    };
    x86_apic_bus_send(&m->apic_bus, &am, m->clock);
}

/* A message reached another core than the one running: the round ends a quantum after it at
 * the latest, so the target (if it sleeps, and takes it at its cycle) and the sender stay
 * within the quantum of each other (docs/cycle-model.md). A round with one core running has
 * no quantum until this happens. */
static void message_delivered(void *opaque, unsigned index, uint64_t time)
{
    x86irq_machine *m = opaque;
    if (m->running && m->cores[index] != m->current)
        x86_machine_bound_round(m, time);
}

/* ------------------------------------------------------------------ creation */

bool x86_board_create_cores(x86irq_machine *m, unsigned count)
{
    m->platform = (struct x86_platform){
        .opaque = m, .acknowledge = acknowledge, .read_msr = read_msr, .write_msr = write_msr,
        .read_cr8 = read_cr8, .write_cr8 = write_cr8,
        .init = platform_init, .shutdown = shutdown, .before_instruction = before_instruction,
        .watch = watch, .port_access = port_access,
    };
    m->apic_bus.eoi_broadcast = eoi_broadcast;
    m->apic_bus.delivered = message_delivered;
    m->apic_bus.opaque = m;
    for (unsigned i = 0; i < count; i++) {
        struct x86_core *core = aligned_alloc(64, (sizeof(*core) + 63) & ~(size_t)63);
        if (!core)
            return false;
        memset(core, 0, sizeof(*core));
        m->cores[i] = core;
        m->cpus[i] = &core->cpu;
        m->core_count = i + 1;
        core->machine = m;
        struct x86_cpu *cpu = &core->cpu;
        cpu->cost = m->cost;
        cpu->bus = &m->bus;
        cpu->clock = &m->clock;
        cpu->jump_cache = core->jump_cache;
        cpu->gates = &core->gates;
        cpu->trace = &m->trace;
        cpu->platform = &m->platform;
        cpu->index = i;
        cpu->simd = m->config.isa;
        cpu->watch.fn = x86_trace_code_watch;
        cpu->watch.opaque = &m->trace;
        if (!x86_code_cache_add_core(&m->code, cpu))
            return false;
        x86_cpu_reset(cpu);
        x86_board_firmware_cpu_state(cpu, m->config.cpu_hz);
        struct x86_lapic *l = &core->lapic;
        x86_lapic_init(l, cpu, i);
        l->apic_bus = &m->apic_bus;
        l->events = &m->events;
        l->trace = &m->trace;
        l->extint_acknowledge = lapic_extint_acknowledge;
        l->base_changed = lapic_base_changed;
        l->opaque = m;
        m->apic_bus.lapics[i] = l;
        m->apic_bus.count = i + 1;
        if (i == 0) {
            /* the BSP: at the loader's entry, its LAPIC as the firmware leaves it (SeaBIOS
             * under QEMU: software enabled, LINT0 ExtINT from the 8259, LINT1 NMI) */
            x86_cpu_enter_flat32(cpu);
            x86_lapic_virtual_wire(l);
        } else {
            /* an AP after reset: waiting for SIPI, its LAPIC in the power-on state */
            cpu->wait_for_sipi = 1;
            cpu->halted = 1;
        }
    }
    m->current = m->cores[0];
    map_lapic_windows(m);
    return true;
}

void x86_board_destroy_cores(x86irq_machine *m)
{
    for (unsigned i = 0; i < m->core_count; i++)
        free(m->cores[i]);
    m->core_count = 0;
}
