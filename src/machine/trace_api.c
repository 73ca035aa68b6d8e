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
    m->callback_depth++;
    m->trace_fn(m->trace_opaque, event);
    m->callback_depth--;
}

void x86irq_set_trace_hook(x86irq_machine *machine, uint32_t mask, x86irq_trace_fn fn,
                           void *opaque)
{
    if (!machine)
        return;
    machine->trace_fn = fn;
    machine->trace_opaque = opaque;
    x86_trace_set_hook(&machine->trace, mask, fn ? trace_trampoline : NULL, machine);
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
