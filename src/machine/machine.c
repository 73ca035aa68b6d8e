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
        [X86IRQ_STOP_POWEROFF] = "poweroff",
        [X86IRQ_STOP_RESET] = "reset",
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

/* ------------------------------------------------------------------ create / destroy */

static void event_scheduled(void *context, uint64_t cycle);

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
    m->cpu.watch.fn = x86_trace_code_watch;
    m->cpu.watch.opaque = m;
    if (!x86_trace_init(&m->trace) || !x86_bus_init(&m->bus, config->ram_size) ||
        !x86_code_cache_init(&m->code, config->ram_size)) {
        x86irq_machine_destroy(m);
        return X86IRQ_ERR_NO_MEMORY;
    }
    x86_cpu_reset(&m->cpu);
    x86_cpu_enter_flat32(&m->cpu);
    x86_board_firmware_cpu_state(&m->cpu, config->cpu_hz);

    if (!x86_board_create_devices(m)) {
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
    x86_uart_finish(&machine->uart);
    if (machine->net_peer)
        x86_net_peer_finish(machine->net_peer);
    free(machine->net_peer);
    x86_events_finish(&machine->events);
    x86_bus_finish(&machine->bus);
    free(machine->external_events);
    x86_trace_finish(&machine->trace);
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
    if (stop == X86IRQ_STOP_DEBUG_EXIT || stop == X86IRQ_STOP_SHUTDOWN ||
        stop == X86IRQ_STOP_POWEROFF || stop == X86IRQ_STOP_RESET)
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
