/* The public API: machine creation, loading, running, registers, memory, devices, events. */
#include "machine/machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/mmu.h"
#include "cpu/run.h"
#include "cpu/segment.h"
#include "idt/idt.h"
#include "trace/disasm.h"
#include "board/board.h"

/* The default cycle-cost profile (docs/cycle-model.md explains the numbers). */
const uint16_t x86_default_cost_profile[X86_COST_CLASS_COUNT] = {
    [X86_COST_SIMPLE] = 1,
    [X86_COST_MEMORY] = 1,
    [X86_COST_BRANCH] = 2,
    [X86_COST_MUL] = 3,
    [X86_COST_DIV] = 24,
    [X86_COST_STRING] = 1,
    [X86_COST_IO] = 60,
    [X86_COST_SYSTEM] = 20,
    [X86_COST_SEGMENT] = 8,
    [X86_COST_X87] = 4,
    [X86_COST_DELIVERY] = 60,
    [X86_COST_PRIVILEGE] = 40,
    [X86_COST_IRET] = 40,
    [X86_COST_TASK_SWITCH] = 250,
};

/* names of enum x86_cost_class, in order: the text form of a cost profile */
static const char *const cost_class_names[X86_COST_CLASS_COUNT] = {
    [X86_COST_SIMPLE] = "simple", [X86_COST_MEMORY] = "memory", [X86_COST_BRANCH] = "branch",
    [X86_COST_MUL] = "mul", [X86_COST_DIV] = "div", [X86_COST_STRING] = "string",
    [X86_COST_IO] = "io", [X86_COST_SYSTEM] = "system", [X86_COST_SEGMENT] = "segment",
    [X86_COST_X87] = "x87", [X86_COST_DELIVERY] = "delivery", [X86_COST_PRIVILEGE] = "privilege",
    [X86_COST_IRET] = "iret", [X86_COST_TASK_SWITCH] = "task-switch",
};

unsigned x86irq_cost_class_count(void) { return X86_COST_CLASS_COUNT; }

const char *x86irq_cost_class_name(unsigned index)
{
    return index < X86_COST_CLASS_COUNT ? cost_class_names[index] : NULL;
}

static int cost_class_index(const char *name)
{
    for (unsigned i = 0; name && i < X86_COST_CLASS_COUNT; i++)
        if (strcmp(name, cost_class_names[i]) == 0)
            return (int)i;
    return -1;
}

x86irq_status x86irq_set_cost(x86irq_machine *machine, const char *class_name, unsigned cycles)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    int i = cost_class_index(class_name);
    if (i < 0 || cycles > 0xFFFF)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "cost class '%s' with %u cycles: no such class, or above 65535",
                                 class_name ? class_name : "(null)", cycles);
    if (machine->running)
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "costs change between runs only");
    machine->cost[i] = (uint16_t)cycles;
    /* decoded instructions carry their cost: decode again */
    x86_code_cache_flush(&machine->code);
    machine->code.generation++;
    return X86IRQ_OK;
}

x86irq_status x86irq_get_cost(const x86irq_machine *machine, const char *class_name,
                              unsigned *cycles)
{
    int i = cost_class_index(class_name);
    if (!machine || !cycles || i < 0)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    *cycles = machine->cost[i];
    return X86IRQ_OK;
}

const char *x86irq_version(void) { return "0.1.0"; }

const char *x86irq_status_string(x86irq_status status)
{
    static const char *const names[] = {
        [X86IRQ_OK] = "ok",
        [X86IRQ_ERR_INVALID_ARGUMENT] = "invalid argument",
        [X86IRQ_ERR_NO_MEMORY] = "out of memory",
        [X86IRQ_ERR_IO] = "I/O error",
        [X86IRQ_ERR_BAD_IMAGE] = "bad guest image",
        [X86IRQ_ERR_RANGE] = "address range error",
        [X86IRQ_ERR_CONFLICT] = "conflicting device range",
        [X86IRQ_ERR_STATE] = "not allowed in this state",
    };
    if ((unsigned)status < sizeof(names) / sizeof(names[0]) && names[status])
        return names[status];
    return "unknown status";
}

const char *x86irq_stop_reason_string(x86irq_stop_reason reason)
{
    static const char *const names[] = {
        [X86IRQ_STOP_NONE] = "none",
        [X86IRQ_STOP_BUDGET] = "cycle-budget",
        [X86IRQ_STOP_DEBUG_EXIT] = "debug-exit",
        [X86IRQ_STOP_SHUTDOWN] = "shutdown",
        [X86IRQ_STOP_HALTED] = "halted",
        [X86IRQ_STOP_REQUESTED] = "requested",
        [X86IRQ_STOP_BREAKPOINT] = "breakpoint",
    };
    if ((unsigned)reason < sizeof(names) / sizeof(names[0]) && names[reason])
        return names[reason];
    return "unknown";
}

x86irq_status x86_machine_error(x86irq_machine *machine, x86irq_status status,
                                const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(machine->error, sizeof(machine->error), format, ap);
    va_end(ap);
    return status;
}

void x86_machine_stop(x86irq_machine *machine, x86irq_stop_reason reason)
{
    if (machine->pending_stop == X86IRQ_STOP_NONE)
        machine->pending_stop = reason;
    x86_request_exit(&machine->cpu);
}

void x86irq_config_init(x86irq_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof(*config));
    config->ram_size = 128ull << 20;
    config->cpu_hz = 1000000000ull;
}

/* ------------------------------------------------------------------ devices of the machine */

static void serial_out(void *opaque, uint8_t byte)
{
    x86irq_machine *m = opaque;
    if (m->serial_fn)
        m->serial_fn(m->serial_opaque, byte);
}

static void debug_exit(void *opaque, uint32_t value)
{
    x86irq_machine *m = opaque;
    m->exit_value = value;
    x86_machine_stop(m, X86IRQ_STOP_DEBUG_EXIT);
}

/* ------------------------------------------------------------------ create / destroy */

static void event_scheduled(void *context, uint64_t cycle);

static void pic_output_changed(void *opaque, int line, int level)
{
    x86irq_machine *m = opaque;
    (void)line;
    if (level && X86_UNLIKELY(m->trace.mask)) {
        /* the 8259 raised INT: the request is the lowest-numbered IRQ in IRR (fully nested
         * priority without rotation; the vector comes with the INTA) */
        uint16_t irr = (uint16_t)(x86_pic_irr(&m->pic, 0) | (x86_pic_irr(&m->pic, 1) << 8));
        irr &= (uint16_t)~0x0004; /* IR2 is the cascade */
        unsigned irq = irr ? (unsigned)__builtin_ctz(irr) : 2;
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_ROUTE, .line = irq, .level = 1 };
        x86_trace_emit(m, &e);
    }
    x86_machine_lint0_changed(m);
}

static void pic_eoi(void *opaque, uint8_t vector)
{
    x86irq_machine *m = opaque;
    if (X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_EOI, .vector = vector, .line = 1 };
        x86_trace_emit(m, &e);
    }
}

/* The 8259s as SeaBIOS leaves them for a kernel QEMU boots: vector bases 0x08 (master) and 0x70
 * (slave), cascade on IR2, 8086 mode, every input masked but the cascade and IRQ0 (the BIOS
 * timer tick). A kernel remaps and masks them before it sets IF. */
static void firmware_program_pic(x86irq_machine *m)
{
    static const struct { uint8_t chip, port, value; } sequence[] = {
        { 0, 0, 0x11 }, { 0, 1, 0x08 }, { 0, 1, 0x04 }, { 0, 1, 0x01 },  /* ICW1-4, master */
        { 1, 0, 0x11 }, { 1, 1, 0x70 }, { 1, 1, 0x02 }, { 1, 1, 0x01 },  /* ICW1-4, slave */
        { 0, 1, 0xFA }, { 1, 1, 0xFF },                                  /* OCW1: masks */
    };
    for (size_t i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++)
        x86_pic_write(&m->pic.chip[sequence[i].chip], sequence[i].port, 1, sequence[i].value);
    /* the PCI interrupt (the NIC's INTA on IRQ 11) is level-triggered: the ELCR says so, as
     * SeaBIOS sets it for the PCI IRQs */
    x86_pic_elcr_write(&m->pic, 1, 1, 0x08);
}

static void device_line_changed(void *opaque, int line, int level)
{
    x86_machine_set_gsi(opaque, (unsigned)line, level);
}

/* The phase marker port (X86IRQ_PHASE_PORT): the guest names the phase of interrupt handling
 * it enters; trace events and the nesting rules use it. */
static void phase_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    x86irq_machine *m = opaque;
    (void)offset;
    (void)size;
    if ((value & 0xFF) >= X86IRQ_PHASE_COUNT)
        return;
    m->phase = (uint8_t)value;
    if (X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_PHASE, .line = m->phase };
        x86_trace_emit(m, &e);
    }
}

static void nic_transmitted(void *opaque, const uint8_t *frame, size_t length, uint64_t cycle)
{
    x86irq_machine *m = opaque;
    if (m->net_peer)
        x86_net_peer_transmit(m->net_peer, frame, length, cycle);
    if (m->nic_transmit)
        m->nic_transmit(m->nic_transmit_opaque, frame, length, cycle);
}

/* the peer's frames reach the NIC as frames from the wire do, traced the same way */
static int peer_deliver(void *opaque, const uint8_t *frame, size_t length)
{
    return x86irq_nic_receive(opaque, frame, length) == X86IRQ_OK;
}

/* The NIC as QEMU's pc machine has it: an e1000 at 00:03.0, QEMU's default MAC, INTA routed to
 * GSI 11 (docs/devices.md) */
static bool attach_nic(x86irq_machine *m)
{
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    m->nic = calloc(1, sizeof(*m->nic));
    if (!m->nic)
        return false;
    x86_e1000_init_flags(m->nic, &m->bus, &m->events, &m->cpu.cycles, m->config.cpu_hz, mac,
                         m->config.nic_msi ? X86_E1000_MSI_CAPABLE : 0);
    m->nic->pci.device = 3;
    m->nic->pci.function = 0;
    m->nic->transmit = nic_transmitted;
    m->nic->transmit_opaque = m;
    if (m->config.nic_peer) {
        m->net_peer = calloc(1, sizeof(*m->net_peer));
        if (!m->net_peer)
            return false;
        x86_net_peer_init(m->net_peer, &m->events, &m->cpu.cycles, m->config.cpu_hz,
                          peer_deliver, m);
    }
    return x86_machine_add_pci_function(m, &m->nic->pci, 11) == X86IRQ_OK;
}

x86irq_status x86irq_nic_receive(x86irq_machine *machine, const void *frame, size_t length)
{
    if (!machine || (!frame && length))
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!machine->nic)
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "the machine has no NIC");
    if (length < 14 || length > X86_E1000_MAX_FRAME)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "a frame of %zu bytes (14 to %u)", length, X86_E1000_MAX_FRAME);
    if (X86_UNLIKELY(machine->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_DEVICE, .line = (uint32_t)length,
                                 .detail = "NIC: a frame arrived" };
        x86_trace_emit(machine, &e);
    }
    if (!x86_e1000_receive(machine->nic, frame, length))
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "the NIC dropped the frame");
    return X86IRQ_OK;
}

void x86irq_set_nic_transmit(x86irq_machine *machine, x86irq_nic_transmit_fn fn, void *opaque)
{
    if (!machine)
        return;
    machine->nic_transmit = fn;
    machine->nic_transmit_opaque = opaque;
}

static void testdev_set_line(void *context, unsigned line, int level)
{
    x86_machine_set_gsi(context, line, level);
}

x86irq_status x86irq_machine_create(const x86irq_config *config, x86irq_machine **out)
{
    if (!out)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_config defaults;
    if (!config) {
        x86irq_config_init(&defaults);
        config = &defaults;
    }
    if (config->ram_size < (1ull << 20) || config->ram_size > (3ull << 30) ||
        config->cpu_hz == 0)
        return X86IRQ_ERR_INVALID_ARGUMENT;

    x86irq_machine *m = calloc(1, sizeof(*m));
    if (!m)
        return X86IRQ_ERR_NO_MEMORY;
    m->config = *config;
    memcpy(m->cost, x86_default_cost_profile, sizeof(m->cost));
    m->cpu.machine = m;
    m->cpu.cost = m->cost;
    x86_events_init(&m->events, m);
    m->events.on_schedule = event_scheduled;
    m->trace.rules = (1u << X86IRQ_RULE_COUNT) - 1;
    if (!x86_bus_init(&m->bus, config->ram_size) ||
        !x86_code_cache_init(&m->code, config->ram_size)) {
        x86irq_machine_destroy(m);
        return X86IRQ_ERR_NO_MEMORY;
    }
    x86_cpu_reset(&m->cpu);
    x86_cpu_enter_flat32(&m->cpu);
    x86_board_firmware_cpu_state(&m->cpu, config->cpu_hz);

    if (!config->no_default_devices) {
        x86_uart_init(&m->uart, serial_out, m);
        x86_debug_exit_init(&m->debug_exit, debug_exit, m);
        if (x86_uart_attach(&m->uart, &m->bus, 0x3F8) != X86IRQ_OK ||
            x86_debug_exit_attach(&m->debug_exit, &m->bus, 0xF4) != X86IRQ_OK ||
            x86_bus_add_ports(&m->bus, X86IRQ_PHASE_PORT, 1, NULL, phase_write, m,
                              "phase-marker") != X86IRQ_OK) {
            x86irq_machine_destroy(m);
            return X86IRQ_ERR_NO_MEMORY;
        }
    }
    /* the platform as the firmware leaves it (SeaBIOS under QEMU): the LAPIC in virtual-wire
     * mode, the IOAPIC's entries masked */
    x86_lapic_init(&m->lapic, m);
    if (x86_lapic_attach(&m->lapic) != X86IRQ_OK) {
        x86irq_machine_destroy(m);
        return X86IRQ_ERR_NO_MEMORY;
    }
    x86_lapic_virtual_wire(&m->lapic);
    if (!config->no_default_devices) {
        m->has_chipset = true;
        x86_ioapic_init(&m->ioapic, &m->lapic);
        x86_testdev_init(&m->testdev, testdev_set_line, m);
        x86_pic_init(&m->pic);
        m->pic.output = (struct x86_irq_wire){ pic_output_changed, m, 0 };
        m->pic.on_eoi = pic_eoi;
        m->pic.eoi_opaque = m;
        x86_pit_init(&m->pit, &m->events, &m->cpu.cycles, config->cpu_hz);
        x86_pci_bus_init(&m->pci);
        m->pit.irq0 = (struct x86_irq_wire){ device_line_changed, m, 0 };
        /* COM1's interrupt is ISA IRQ4 (MCR.OUT2 gates it onto the bus, as on a PC) */
        m->uart.irq = (struct x86_irq_wire){ device_line_changed, m, 4 };
        if (x86_ioapic_attach(&m->ioapic, &m->bus) != X86IRQ_OK ||
            x86_testdev_attach(&m->testdev, &m->bus) != X86IRQ_OK ||
            x86_pic_attach(&m->pic, &m->bus) != X86IRQ_OK ||
            x86_pit_attach(&m->pit, &m->bus) != X86IRQ_OK ||
            x86_pci_bus_attach(&m->pci, &m->bus) != X86IRQ_OK) {
            x86irq_machine_destroy(m);
            return X86IRQ_ERR_NO_MEMORY;
        }
    }
    if (m->has_chipset && !attach_nic(m)) {
        x86irq_machine_destroy(m);
        return X86IRQ_ERR_NO_MEMORY;
    }
    if (m->has_chipset) {
        /* SeaBIOS's timer: channel 0 in mode 3 with count 65536, IRQ0 at 18.2 Hz. Programmed
         * before the 8259s, whose initialisation forgets the edge of OUT going high: as under
         * QEMU, a kernel finds no IRQ0 pending at entry, and the first tick comes after one
         * period (about 55 ms) */
        x86_pit_write(&m->pit, 3, 1, 0x36);
        x86_pit_write(&m->pit, 0, 1, 0x00);
        x86_pit_write(&m->pit, 0, 1, 0x00);
        firmware_program_pic(m);
    }
    x86_fw_cfg_init(&m->fw_cfg, config->ram_size, 1);
    if (x86_fw_cfg_attach(&m->fw_cfg, &m->bus, 0x510) != X86IRQ_OK) {
        x86irq_machine_destroy(m);
        return X86IRQ_ERR_NO_MEMORY;
    }
    *out = m;
    return X86IRQ_OK;
}

void x86irq_machine_destroy(x86irq_machine *machine)
{
    if (!machine)
        return;
    x86_disassembler_destroy(machine->disassembler);
    x86_symbols_free(&machine->symbols);
    x86_code_cache_finish(&machine->code);
    if (machine->net_peer)
        x86_net_peer_finish(machine->net_peer);
    free(machine->net_peer);
    x86_events_finish(&machine->events);
    x86_bus_finish(&machine->bus);
    free(machine->external_events);
    free(machine->nic);
    free(machine);
}

const char *x86irq_last_error(const x86irq_machine *machine)
{
    return machine ? machine->error : "no machine";
}

/* ------------------------------------------------------------------ running */

uint64_t x86_machine_schedule(x86irq_machine *m, uint64_t cycle, x86_event_fn fn, void *opaque)
{
    return x86_events_schedule(&m->events, cycle, fn, opaque);
}

/* an event due before the running slice ends must cut it short */
static void event_scheduled(void *context, uint64_t cycle)
{
    x86irq_machine *m = context;
    if (cycle < m->cpu.slice_end)
        m->cpu.slice_end = cycle;
    if (cycle < m->cpu.cycle_limit)
        m->cpu.cycle_limit = cycle;
}

/* ------------------------------------------------------------------ interrupt routing */

void x86_machine_update_intr(x86irq_machine *m)
{
    bool level = x86_lapic_enabled(&m->lapic) ? x86_lapic_intr(&m->lapic)
                                              : m->lapic.lint_level[0] != 0;
    if (level && !m->cpu.intr_line)
        x86_request_exit(&m->cpu); /* sampled at the next instruction boundary */
    m->cpu.intr_line = level;
}

void x86_machine_lint0_changed(x86irq_machine *m)
{
    /* LINT0 is the wired OR of the 8259's INT output and the embedder's INTR */
    int level = m->embedder_intr || (m->has_chipset && x86_pic_output(&m->pic));
    x86_lapic_set_lint(&m->lapic, 0, level);
}

int x86_machine_extint_acknowledge(x86irq_machine *m)
{
    /* the INTA cycle on the external bus: the 8259 answers when its INT is up */
    m->accept_source = 1;
    if (m->has_chipset && x86_pic_output(&m->pic))
        return x86_pic_acknowledge(&m->pic);
    m->accept_source = 2;
    if (m->embedder_intr && m->intr_acknowledge)
        return m->intr_acknowledge(m->intr_acknowledge_opaque);
    return -1;
}

int x86_machine_acknowledge_intr(x86irq_machine *m)
{
    m->accept_source = 0;
    int vector = x86_lapic_enabled(&m->lapic) ? x86_lapic_acknowledge(&m->lapic)
                                              : x86_machine_extint_acknowledge(m);
    if (vector >= 0 && X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_ACCEPT, .vector = (uint32_t)vector,
                                 .origin = X86IRQ_ORIGIN_HARDWARE, .line = m->accept_source };
        x86_trace_emit(m, &e);
    }
    return vector;
}

void x86_machine_eoi_broadcast(x86irq_machine *m, uint8_t vector)
{
    if (m->has_chipset)
        x86_ioapic_eoi(&m->ioapic, vector);
}

void x86_machine_move_lapic(x86irq_machine *m, uint32_t base)
{
    (void)base;
    x86_bus_remove_mmio(&m->bus, &m->lapic, "lapic");
    if (x86_lapic_attach(&m->lapic) != X86IRQ_OK) {
        /* the new window overlaps RAM or a device: the LAPIC is reachable through MSRs only,
         * as when hardware leaves it behind memory */
    }
}

void x86_machine_set_gsi(x86irq_machine *m, unsigned gsi, int level)
{
    if (!m->has_chipset || gsi >= X86_IOAPIC_PINS)
        return;
    bool changed = ((m->gsi_level >> gsi) & 1) != (level != 0);
    if (level)
        m->gsi_level |= 1u << gsi;
    else
        m->gsi_level &= ~(1u << gsi);
    if (changed && X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_LINE, .line = gsi, .level = level != 0 };
        x86_trace_emit(m, &e);
    }
    if (gsi < 16 && gsi != 2)
        x86_pic_set_irq(&m->pic, gsi, level); /* IRQ2 is the cascade, not an ISA line */
    unsigned pin = gsi == 0 ? 2 : gsi; /* ISA IRQ0 (the PIT) is on IOAPIC pin 2 */
    if (gsi != 2 && pin < X86_IOAPIC_PINS)
        x86_ioapic_set_pin(&m->ioapic, pin, level);
}

/* An MSI write reaching the local APIC (SDM Vol. 3 10.11): the LAPIC accepts the message when
 * the destination names it */
static void send_msi(void *context, const struct x86_msi_message *msg)
{
    x86irq_machine *m = context;
    if (!x86_lapic_matches(&m->lapic, msg->destination, msg->logical))
        return;
    if (X86_UNLIKELY(m->trace.mask)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_ROUTE, .vector = msg->vector,
                                 .line = 0xFFFF, .level = msg->level };
        x86_trace_emit(m, &e);
    }
    x86_lapic_accept(&m->lapic, msg->vector, (enum x86_delivery_mode)msg->delivery_mode,
                     msg->level);
}

x86irq_status x86_machine_add_pci_function(x86irq_machine *m, struct x86_pci_function *function,
                                           unsigned gsi)
{
    if (!m->has_chipset)
        return X86IRQ_ERR_STATE;
    function->intx = (struct x86_irq_wire){ device_line_changed, m, (int)gsi };
    function->send_msi = send_msi;
    function->msi_context = m;
    x86irq_status s = x86_pci_add_function(&m->pci, function);
    if (s == X86IRQ_OK)
        function->config[X86_PCI_INTERRUPT_LINE] = (uint8_t)gsi; /* as the firmware routes it */
    return s;
}

x86irq_status x86irq_set_irq_line(x86irq_machine *machine, unsigned gsi, int level)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (gsi >= X86_IOAPIC_PINS)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "interrupt line %u does not exist (GSI 0-23)", gsi);
    if (!machine->has_chipset)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "the machine has no interrupt controllers (no_default_devices)");
    x86_machine_set_gsi(machine, gsi, level != 0);
    return X86IRQ_OK;
}

x86irq_status x86irq_pulse_irq_line(x86irq_machine *machine, unsigned gsi)
{
    x86irq_status s = x86irq_set_irq_line(machine, gsi, 1);
    if (s == X86IRQ_OK)
        s = x86irq_set_irq_line(machine, gsi, 0);
    return s;
}

x86irq_status x86irq_set_intr(x86irq_machine *machine, int level)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (level && !machine->intr_acknowledge)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "INTR asserted without an acknowledge callback to name the "
                                 "vector (x86irq_set_intr_acknowledge)");
    machine->embedder_intr = level != 0;
    x86_machine_lint0_changed(machine);
    return X86IRQ_OK;
}

void x86irq_set_intr_acknowledge(x86irq_machine *machine, x86irq_intr_acknowledge_fn fn,
                                 void *opaque)
{
    if (!machine)
        return;
    machine->intr_acknowledge = fn;
    machine->intr_acknowledge_opaque = opaque;
}

void x86_machine_init_signal(x86irq_machine *m)
{
    x86_cpu_init_signal(&m->cpu);
    x86_lapic_init_signal(&m->lapic);
    x86_machine_lint0_changed(m);
}

x86irq_status x86irq_raise_init(x86irq_machine *machine)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!machine->running) {
        /* between runs the core is at an instruction boundary: INIT takes effect now, so the
         * embedder can load the state it wants before the next run */
        x86_machine_init_signal(machine);
        return X86IRQ_OK;
    }
    machine->cpu.init_latched = 1;
    machine->cpu.halted = 0; /* INIT ends HLT too */
    x86_request_exit(&machine->cpu);
    return X86IRQ_OK;
}

x86irq_status x86irq_raise_nmi(x86irq_machine *machine)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    machine->cpu.nmi_latched = 1; /* an edge: one more is remembered while NMIs are blocked */
    x86_request_exit(&machine->cpu);
    return X86IRQ_OK;
}

void x86irq_request_stop(x86irq_machine *machine)
{
    if (machine)
        x86_machine_stop(machine, X86IRQ_STOP_REQUESTED);
}

static bool embedder_events_pending(const x86irq_machine *m)
{
    for (size_t i = 0; i < m->external_event_count; i++)
        if (m->external_events[i].fn)
            return true;
    return false;
}

x86irq_status x86irq_run(x86irq_machine *machine, uint64_t max_cycles,
                         x86irq_stop_reason *reason)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (machine->finished)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "the machine has stopped (%s) and cannot run again",
                                 x86irq_stop_reason_string(machine->stop_reason));
    struct x86_cpu *cpu = &machine->cpu;
    uint64_t end = cpu->cycles + max_cycles < cpu->cycles ? UINT64_MAX : cpu->cycles + max_cycles;
    x86irq_stop_reason stop = X86IRQ_STOP_NONE;
    machine->pending_stop = X86IRQ_STOP_NONE;
    machine->running = true;
    for (;;) {
        x86_events_run_due(&machine->events, cpu->cycles);
        if (machine->pending_stop != X86IRQ_STOP_NONE) {
            stop = machine->pending_stop;
            break;
        }
        if (cpu->cycles >= end) {
            stop = X86IRQ_STOP_BUDGET;
            break;
        }
        uint64_t next_event = x86_events_next_cycle(&machine->events);
        if (cpu->halted && !x86_cpu_event_deliverable(cpu)) {
            /* HLT: time jumps to the next event. With IF = 0 only an NMI wakes the core, and
             * the platform's devices (PIT, LAPIC timer) raise none: only the embedder's own
             * events may (docs/api.md). */
            bool can_wake = (cpu->eflags & X86_FLAG_IF) ? next_event != UINT64_MAX
                                                        : embedder_events_pending(machine);
            if (!can_wake) {
                if (!(cpu->eflags & X86_FLAG_IF) && X86_UNLIKELY(machine->trace.mask))
                    x86_trace_rule(machine, X86IRQ_RULE_HLT_HANG,
                                   "HLT with IF = 0 and nothing that can raise an NMI: a hang");
                stop = X86IRQ_STOP_HALTED;
                break;
            }
            cpu->cycles = next_event < end ? next_event : end;
            continue;
        }
        cpu->slice_end = next_event < end ? next_event : end;
        cpu->cycle_limit = cpu->slice_end;
        cpu->exit_request = 0;
        x86_cpu_execute(machine); /* takes pending NMI / INTR at its first boundary */
        x86_code_cache_collect(&machine->code);
    }
    machine->running = false;
    machine->stop_reason = stop;
    /* HALTED is not final: the embedder may raise NMI or INTR and run again */
    if (stop == X86IRQ_STOP_DEBUG_EXIT || stop == X86IRQ_STOP_SHUTDOWN)
        machine->finished = true;
    if (reason)
        *reason = stop;
    return X86IRQ_OK;
}

x86irq_stop_reason x86irq_stop_reason_of(const x86irq_machine *machine)
{
    return machine ? machine->stop_reason : X86IRQ_STOP_NONE;
}

size_t x86irq_shutdown_events(const x86irq_machine *machine, x86irq_event_record *records,
                              size_t max)
{
    if (!machine || !machine->cpu.shutdown)
        return 0;
    const struct x86_cpu *cpu = &machine->cpu;
    size_t count = cpu->event_chain_length;
    for (size_t i = 0; i < count && i < max && records; i++) {
        const struct x86_chain_entry *e = &cpu->event_chain[i];
        x86irq_event_record *r = &records[i];
        memset(r, 0, sizeof(*r));
        r->cycle = e->cycle;
        r->eip = e->event.return_eip;
        r->error_code = e->event.error_code;
        r->cs = e->cs;
        r->vector = e->event.vector;
        r->has_error_code = e->event.has_error_code;
        switch (e->event.source) {
        case X86_EVENT_EXCEPTION: r->origin = X86IRQ_ORIGIN_EXCEPTION; break;
        case X86_EVENT_HARDWARE: r->origin = X86IRQ_ORIGIN_HARDWARE; break;
        default: r->origin = X86IRQ_ORIGIN_SOFTWARE; break;
        }
        if (e->generated)
            r->origin = X86IRQ_ORIGIN_DOUBLE_FAULT;
    }
    return count;
}

uint32_t x86irq_exit_value(const x86irq_machine *machine)
{
    return machine ? machine->exit_value : 0;
}

uint64_t x86irq_cycles(const x86irq_machine *machine)
{
    return machine ? machine->cpu.cycles : 0;
}

uint64_t x86irq_instructions(const x86irq_machine *machine)
{
    return machine ? machine->cpu.instructions : 0;
}

/* ------------------------------------------------------------------ registers */

static const char *const register_names[X86IRQ_REG_COUNT] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
    "es", "cs", "ss", "ds", "fs", "gs", "cr0", "cr2", "cr3", "cr4",
    "dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
};

const char *x86irq_register_name(x86irq_register reg)
{
    return (unsigned)reg < X86IRQ_REG_COUNT ? register_names[reg] : "?";
}

static const uint8_t debug_register_number[] = { 0, 1, 2, 3, 6, 7 };

x86irq_status x86irq_get_register(const x86irq_machine *machine, x86irq_register reg,
                                  uint32_t *value)
{
    if (!machine || !value || (unsigned)reg >= X86IRQ_REG_COUNT)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    struct x86_cpu *cpu = (struct x86_cpu *)&machine->cpu;
    if (reg <= X86IRQ_REG_EDI)
        *value = cpu->gpr[reg];
    else if (reg == X86IRQ_REG_EIP)
        *value = cpu->eip;
    else if (reg == X86IRQ_REG_EFLAGS)
        *value = x86_get_eflags(cpu);
    else if (reg <= X86IRQ_REG_GS)
        *value = cpu->seg[reg - X86IRQ_REG_ES].selector;
    else if (reg == X86IRQ_REG_CR0)
        *value = cpu->cr0;
    else if (reg == X86IRQ_REG_CR2)
        *value = cpu->cr2;
    else if (reg == X86IRQ_REG_CR3)
        *value = cpu->cr3;
    else if (reg == X86IRQ_REG_CR4)
        *value = cpu->cr4;
    else
        *value = cpu->dr[debug_register_number[reg - X86IRQ_REG_DR0]];
    return X86IRQ_OK;
}

x86irq_status x86irq_set_register(x86irq_machine *machine, x86irq_register reg, uint32_t value)
{
    if (!machine || (unsigned)reg >= X86IRQ_REG_COUNT)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    struct x86_cpu *cpu = &machine->cpu;
    if (reg <= X86IRQ_REG_EDI) {
        cpu->gpr[reg] = value;
    } else if (reg == X86IRQ_REG_EIP) {
        cpu->eip = value;
    } else if (reg == X86IRQ_REG_EFLAGS) {
        x86_set_eflags(cpu, value, ~0u);
    } else if (reg <= X86IRQ_REG_GS) {
        unsigned seg = reg - X86IRQ_REG_ES;
        struct x86_segment *s = &cpu->seg[seg];
        s->selector = (uint16_t)value;
        if (x86_protected_mode(cpu)) {
            s->base = 0;
            s->limit = 0xFFFFFFFFu;
            s->attributes = (uint16_t)((seg == X86_SEG_CS ? 0x9B : 0x93) | X86_SEG_ATTR_DB |
                                       X86_SEG_ATTR_G | ((value & 3) << 5));
            if (seg == X86_SEG_CS)
                x86_set_cpl(cpu, value & 3);
        } else {
            s->base = (value & 0xFFFF) << 4;
        }
        x86_segment_refresh(cpu, seg);
        if (seg == X86_SEG_CS)
            cpu->mode = (s->attributes & X86_SEG_ATTR_DB) ? X86_MODE_32 : X86_MODE_16;
    } else if (reg == X86IRQ_REG_CR0 || reg == X86IRQ_REG_CR2 || reg == X86IRQ_REG_CR3 ||
               reg == X86IRQ_REG_CR4) {
        /* the embedder's write follows the architectural checks: a bad value is refused */
        unsigned n = reg == X86IRQ_REG_CR0 ? 0 : reg == X86IRQ_REG_CR2 ? 2
                     : reg == X86IRQ_REG_CR3 ? 3 : 4;
        struct x86_fault raised;
        jmp_buf saved;
        memcpy(saved, cpu->fault_jump, sizeof(saved));
        bool ok = true;
        if (setjmp(cpu->fault_jump) == 0)
            x86_write_control_register(cpu, n, value);
        else
            ok = false;
        raised = cpu->fault;
        (void)raised;
        memcpy(cpu->fault_jump, saved, sizeof(saved));
        if (!ok)
            return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                     "%s: value 0x%08x is not allowed", register_names[reg], value);
    } else {
        cpu->dr[debug_register_number[reg - X86IRQ_REG_DR0]] = value;
        x86_debug_registers_changed(cpu);
    }
    return X86IRQ_OK;
}

/* ------------------------------------------------------------------ memory */

x86irq_status x86irq_read_physical(const x86irq_machine *machine, uint64_t address,
                                   void *buffer, size_t size)
{
    if (!machine || (!buffer && size))
        return X86IRQ_ERR_INVALID_ARGUMENT;
    const uint8_t *p = x86_bus_ram(&machine->bus, address, size);
    if (!p)
        return X86IRQ_ERR_RANGE;
    memcpy(buffer, p, size);
    return X86IRQ_OK;
}

x86irq_status x86irq_write_physical(x86irq_machine *machine, uint64_t address,
                                    const void *buffer, size_t size)
{
    if (!machine || (!buffer && size))
        return X86IRQ_ERR_INVALID_ARGUMENT;
    uint8_t *p = x86_bus_ram(&machine->bus, address, size);
    if (!p)
        return x86_machine_error(machine, X86IRQ_ERR_RANGE,
                                 "write of %zu bytes at 0x%llx is outside RAM", size,
                                 (unsigned long long)address);
    if (x86_code_cache_write(&machine->code, address, size))
        x86_request_exit(&machine->cpu);
    x86_tables_changed(&machine->cpu); /* the embedder may have rewritten the IDT or GDT */
    memcpy(p, buffer, size);
    return X86IRQ_OK;
}

/* ------------------------------------------------------------------ embedder devices */

x86irq_status x86irq_add_port_device(x86irq_machine *machine, uint16_t base, uint32_t count,
                                     x86irq_device_read_fn read, x86irq_device_write_fn write,
                                     void *opaque)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_bus_add_ports(&machine->bus, base, count, read, write, opaque,
                                        "external");
    if (s != X86IRQ_OK)
        return x86_machine_error(machine, s, "ports 0x%x+%u: %s", base, count,
                                 x86irq_status_string(s));
    return X86IRQ_OK;
}

x86irq_status x86irq_add_mmio_device(x86irq_machine *machine, uint64_t base, uint64_t size,
                                     x86irq_device_read_fn read, x86irq_device_write_fn write,
                                     void *opaque)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_bus_add_mmio(&machine->bus, base, size, read, write, opaque,
                                       "external");
    if (s != X86IRQ_OK)
        return x86_machine_error(machine, s, "MMIO 0x%llx+0x%llx: %s",
                                 (unsigned long long)base, (unsigned long long)size,
                                 x86irq_status_string(s));
    /* the TLB never caches MMIO, but a stale RAM mapping cannot exist there either */
    x86_tlb_flush(&machine->cpu);
    return X86IRQ_OK;
}

void x86irq_set_serial_output(x86irq_machine *machine, x86irq_serial_fn fn, void *opaque)
{
    if (!machine)
        return;
    machine->serial_fn = fn;
    machine->serial_opaque = opaque;
}

x86irq_status x86irq_add_breakpoint(x86irq_machine *machine, uint32_t address)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    for (unsigned i = 0; i < machine->breakpoint_count; i++)
        if (machine->breakpoints[i] == address)
            return X86IRQ_OK;
    if (machine->breakpoint_count == X86_MAX_BREAKPOINTS)
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "more than %d breakpoints",
                                 X86_MAX_BREAKPOINTS);
    machine->breakpoints[machine->breakpoint_count++] = address;
    x86_request_exit(&machine->cpu);
    return X86IRQ_OK;
}

x86irq_status x86irq_remove_breakpoint(x86irq_machine *machine, uint32_t address)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    for (unsigned i = 0; i < machine->breakpoint_count; i++)
        if (machine->breakpoints[i] == address) {
            machine->breakpoints[i] = machine->breakpoints[--machine->breakpoint_count];
            return X86IRQ_OK;
        }
    return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                             "no breakpoint at 0x%08x", address);
}

void x86irq_set_instruction_hook(x86irq_machine *machine, x86irq_instruction_fn fn, void *opaque)
{
    if (!machine)
        return;
    machine->instruction_hook = fn;
    machine->instruction_hook_opaque = opaque;
    x86_request_exit(&machine->cpu);
}

/* ------------------------------------------------------------------ events */

/* Embedder events live in a slot table of the machine (reused, freed with it): the queue's
 * opaque is the slot index. */
static void run_external_event(void *context, void *opaque)
{
    x86irq_machine *m = context;
    size_t index = (size_t)(uintptr_t)opaque;
    struct x86_external_event e = m->external_events[index];
    m->external_events[index].fn = NULL;
    e.fn(m, e.opaque);
}

x86irq_status x86irq_schedule_event(x86irq_machine *machine, uint64_t cycle, x86irq_event_fn fn,
                                    void *opaque, uint64_t *id)
{
    if (!machine || !fn)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    size_t index = 0;
    while (index < machine->external_event_count && machine->external_events[index].fn)
        index++;
    if (index == machine->external_event_count) {
        size_t n = machine->external_event_count ? machine->external_event_count * 2 : 8;
        struct x86_external_event *bigger =
            realloc(machine->external_events, n * sizeof(*bigger));
        if (!bigger)
            return X86IRQ_ERR_NO_MEMORY;
        memset(bigger + machine->external_event_count, 0,
               (n - machine->external_event_count) * sizeof(*bigger));
        machine->external_events = bigger;
        machine->external_event_count = n;
    }
    uint64_t handle = x86_machine_schedule(machine, cycle, run_external_event,
                                           (void *)(uintptr_t)index);
    if (handle == 0)
        return X86IRQ_ERR_NO_MEMORY;
    machine->external_events[index] = (struct x86_external_event){ fn, opaque, handle };
    if (id)
        *id = handle;
    return X86IRQ_OK;
}

x86irq_status x86irq_cancel_event(x86irq_machine *machine, uint64_t id)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!x86_events_cancel(&machine->events, id))
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "event %llu is not pending",
                                 (unsigned long long)id);
    for (size_t i = 0; i < machine->external_event_count; i++)
        if (machine->external_events[i].fn && machine->external_events[i].id == id)
            machine->external_events[i].fn = NULL;
    return X86IRQ_OK;
}

size_t x86irq_disassemble(x86irq_machine *machine, const uint8_t *bytes, size_t length,
                          uint32_t address, unsigned mode_bits, char *buffer, size_t size)
{
    if (!machine) {
        if (buffer && size)
            buffer[0] = '\0';
        return 0;
    }
    return x86_disassemble(&machine->disassembler, bytes, length, address, mode_bits, buffer,
                           size);
}
