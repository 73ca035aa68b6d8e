/* The public calls of tracing: the hook, the nesting rules, phase symbols (the tracker is
 * src/trace; here it meets the machine's cores and decoded code). */
#include "machine/machine.h"

#include <string.h>

#include "trace/disasm.h"
#include "trace/events.h"

/* The hook also runs outside a run (a line raised between runs): the depth marks it as a
 * callback there, so calls that must not nest (run, load, destroy) are refused. */
static void trace_trampoline(void *opaque, const x86irq_trace_event *event)
{
    x86irq_machine *m = opaque;
    if (m->trace_fn && (m->trace_fn_mask & X86IRQ_TRACE_BIT(event->kind))) {
        m->callback_depth++;
        m->trace_fn(m->trace_opaque, event);
        m->callback_depth--;
    }
    x86_machine_hooks_trace(m, event);
}

/* One subscription for the trace hook's slot and the hooks: a change of the union of their
 * masks keeps what is in service (only the first subscriber starts the nesting afresh) */
void x86_machine_trace_subscribe(x86irq_machine *m)
{
    uint32_t mask = (m->trace_fn ? m->trace_fn_mask : 0) | x86_machine_hooks_trace_mask(m);
    mask &= X86IRQ_TRACE_ALL;
    if (!mask)
        x86_trace_set_hook(&m->trace, 0, NULL, NULL);
    else if (m->trace.fn == trace_trampoline)
        x86_trace_set_mask(&m->trace, mask);
    else
        x86_trace_set_hook(&m->trace, mask, trace_trampoline, m);
}

void x86irq_set_trace_hook(x86irq_machine *machine, uint32_t mask, x86irq_trace_fn fn,
                           void *opaque)
{
    if (!machine)
        return;
    machine->trace_fn = fn;
    machine->trace_opaque = opaque;
    machine->trace_fn_mask = fn ? mask & X86IRQ_TRACE_ALL : 0;
    /* a new listener in the slot sees events from now on (as when it was the only one) */
    if (machine->trace.fn == trace_trampoline && fn)
        x86_trace_set_hook(&machine->trace, machine->trace.mask, trace_trampoline, machine);
    x86_machine_trace_subscribe(machine);
}

void x86irq_set_nesting_rules(x86irq_machine *machine, uint32_t rules)
{
    if (machine)
        x86_trace_set_rules(&machine->trace, rules);
}

unsigned x86irq_nesting_max_depth(const x86irq_machine *machine)
{
    return machine ? machine->trace.max_depth : 0;
}

x86irq_status x86irq_set_phase_symbols(x86irq_machine *machine, const char *list)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_set_phase_symbols");
    if (refused != X86IRQ_OK)
        return refused;
    char error[256];
    if (!x86_trace_set_phase_symbols(&machine->trace, list, error, sizeof(error)))
        return x86_machine_error(machine, strstr(error, "memory") ? X86IRQ_ERR_NO_MEMORY
                                                                  : X86IRQ_ERR_INVALID_ARGUMENT,
                                 "%s", error);
    for (unsigned i = 0; i < machine->core_count; i++) {
        struct x86_cpu *cpu = machine->cpus[i];
        cpu->watch.probes = machine->trace.probe_addresses;
        cpu->watch.probe_count = machine->trace.probe_count;
        x86_request_exit(cpu);
    }
    /* blocks end before probed instructions: decode again */
    x86_code_cache_flush(&machine->code);
    return X86IRQ_OK;
}

size_t x86irq_disassemble(x86irq_machine *machine, const uint8_t *bytes, size_t length,
                          uint64_t address, unsigned mode_bits, char *buffer, size_t size)
{
    if (!machine) {
        if (buffer && size)
            buffer[0] = '\0';
        return 0;
    }
    return x86_disassemble(&machine->disassembler, bytes, length, address, mode_bits, buffer,
                           size);
}
