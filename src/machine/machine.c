/* The public API: the machine's creation and destruction, errors, names, the cost profile.
 * The other areas: run_api.c (running, events, breakpoints, hooks), state_api.c (CPUs,
 * registers, memory), pins_api.c (interrupt lines and pins), devices_api.c (the embedder's
 * devices, COM1 and the NIC), loading.c, trace_api.c, serial_api.c. */
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

unsigned x86irq_cost_class_count(void) { return X86_COST_CLASS_COUNT; }

const char *x86irq_cost_class_name(unsigned index)
{
    return x86_cost_class_name(index);
}

x86irq_status x86irq_set_cost(x86irq_machine *machine, const char *class_name, unsigned cycles)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_machine_outside_callbacks(machine, "x86irq_set_cost");
    if (s != X86IRQ_OK)
        return s;
    int i = x86_cost_class_index(class_name);
    if (i < 0 || cycles > 0xFFFF)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "cost class '%s' with %u cycles: no such class, or above 65535",
                                 class_name ? class_name : "(null)", cycles);
    machine->cost[i] = (uint16_t)cycles;
    /* decoded instructions carry their cost: decode again (the flush renews every core's
     * generation: no jump-cache entry or link survives) */
    x86_code_cache_flush(&machine->code);
    return X86IRQ_OK;
}

x86irq_status x86irq_get_cost(const x86irq_machine *machine, const char *class_name,
                              unsigned *cycles)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    int i = x86_cost_class_index(class_name);
    if (!cycles || i < 0)
        /* the message is not the machine's state: writing it through a const handle is fine */
        return x86_machine_error((x86irq_machine *)machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_get_cost: %s", !cycles ? "no result pointer"
                                 : "no such cost class");
    *cycles = machine->cost[i];
    return X86IRQ_OK;
}

#define X86IRQ_STRING(x) #x
#define X86IRQ_VERSION_TEXT(major, minor, patch) \
    X86IRQ_STRING(major) "." X86IRQ_STRING(minor) "." X86IRQ_STRING(patch)
const char *x86irq_version(void)
{
    return X86IRQ_VERSION_TEXT(X86IRQ_VERSION_MAJOR, X86IRQ_VERSION_MINOR, X86IRQ_VERSION_PATCH);
}
unsigned x86irq_version_number(void) { return X86IRQ_VERSION; }

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
        [X86IRQ_ERR_BAD_SNAPSHOT] = "bad snapshot",
        [X86IRQ_ERR_BAD_RECORDING] = "bad recording",
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
        [X86IRQ_STOP_STEP] = "step",
        [X86IRQ_STOP_WATCHPOINT] = "watchpoint",
    };
    if ((unsigned)reason < sizeof(names) / sizeof(names[0]) && names[reason])
        return names[reason];
    return "unknown";
}

x86irq_status x86_machine_outside_callbacks(x86irq_machine *machine, const char *call)
{
    if (!x86_machine_in_callback(machine))
        return X86IRQ_OK;
    return x86_machine_error(machine, X86IRQ_ERR_STATE,
                             machine->running
                                 ? "%s: called from a callback while the machine is running"
                                 : "%s: called from a callback of the machine",
                             call);
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

void x86irq_config_init(x86irq_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof(*config));
    config->size = sizeof(*config);
    config->ram_size = 128ull << 20;
    config->cpu_hz = 1000000000ull;
    config->isa = X86IRQ_ISA_DEFAULT;
}

/* An extension set a processor can have: each SSE level has the ones before it, XSAVE has SSE
 * (its SSE component) */
static bool isa_valid(uint32_t isa)
{
    if (isa & ~(uint32_t)X86IRQ_ISA_ALL)
        return false;
    for (uint32_t bit = X86IRQ_ISA_SSE2; bit <= X86IRQ_ISA_SSE42; bit <<= 1)
        if ((isa & bit) && !(isa & (bit >> 1)))
            return false;
    return !(isa & X86IRQ_ISA_XSAVE) || (isa & X86IRQ_ISA_SSE);
}

/* ------------------------------------------------------------------ create / destroy */

/* with several cores, each runs this long before the next (docs/cycle-model.md) */
#define X86_DEFAULT_QUANTUM 1000u

x86irq_status x86irq_machine_create(const x86irq_config *config, x86irq_machine **out)
{
    if (!out)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_config known; /* the caller's, in this library's layout */
    x86irq_config_init(&known);
    if (config) {
        if (config->size < sizeof(known))
            return X86IRQ_ERR_INVALID_ARGUMENT; /* not from x86irq_config_init */
        /* a newer caller's members past ours: only their defaults (zero) can be honoured */
        const unsigned char *tail = (const unsigned char *)config + sizeof(known);
        for (size_t i = 0; i < config->size - sizeof(known); i++)
            if (tail[i])
                return X86IRQ_ERR_INVALID_ARGUMENT;
        memcpy(&known, config, sizeof(known));
        known.size = sizeof(known);
    }
    config = &known;
    unsigned cpus = config->cpus ? config->cpus : 1;
    if (config->ram_size < (1ull << 20) || config->ram_size > (3ull << 30) ||
        config->cpu_hz < X86IRQ_CPU_HZ_MIN || config->cpu_hz > X86IRQ_CPU_HZ_MAX ||
        cpus > X86IRQ_MAX_CPUS ||
        (config->linux_entry != 0 && config->linux_entry != 32 && config->linux_entry != 64) ||
        !isa_valid(config->isa))
        return X86IRQ_ERR_INVALID_ARGUMENT;
    _Static_assert(X86IRQ_MAX_CPUS == X86_MAX_CORES, "one limit");
    _Static_assert(X86IRQ_ISA_ALL == X86_SIMD_ALL && X86IRQ_ISA_SSE42 == X86_SIMD_SSE42 &&
                       X86IRQ_ISA_XSAVE == X86_SIMD_XSAVE, "the same bits");

    x86irq_machine *m = calloc(1, sizeof(*m));
    if (!m)
        return X86IRQ_ERR_NO_MEMORY;
    m->config = *config;
    m->config.cpus = cpus;
    m->quantum = cpus == 1 ? UINT64_MAX
                 : config->smp_quantum ? config->smp_quantum : X86_DEFAULT_QUANTUM;
    m->stop_cpu = -1;
    m->step_cpu = -1;
    m->until_cpu = -1;
    memcpy(m->cost, x86_default_cost_profile, sizeof(m->cost));
    x86_events_init(&m->events, m);
    m->events.on_schedule = x86_machine_event_scheduled;
    m->trace.rules = (1u << X86IRQ_RULE_COUNT) - 1;
    m->trace.symbols = &m->symbols;
    if (!x86_bus_init(&m->bus, config->ram_size) ||
        !x86_code_cache_init(&m->code, config->ram_size) || !x86_board_create_cores(m, cpus) ||
        !x86_trace_init(&m->trace, m->cpus, cpus) || !x86_board_create_devices(m)) {
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
    if (x86_machine_in_callback(machine)) {
        /* the run on the stack still uses it: refused (it cannot return a status) */
        x86_machine_outside_callbacks(machine, "x86irq_machine_destroy");
        return;
    }
    x86_disassembler_destroy(machine->disassembler);
    x86_machine_inputs_free(machine);
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
    x86_machine_hooks_free(machine);
    free(machine->nic);
    x86_board_destroy_cores(machine);
    free(machine);
}

void x86irq_free(void *data)
{
    free(data);
}

const char *x86irq_last_error(const x86irq_machine *machine)
{
    return machine ? machine->error : "no machine";
}

