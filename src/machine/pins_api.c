/* The public calls of the interrupt lines and pins: platform GSIs, the embedder's INTR (on
 * LINT0), NMI and INIT on a CPU. */
#include "machine/machine.h"

#include "trace/emit.h"

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
    x86irq_status s = x86_machine_host_input(machine, X86_INPUT_IRQ_LINE, gsi, level != 0, NULL, 0);
    if (s != X86IRQ_OK)
        return s;
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
    x86irq_status s = x86_machine_host_input(machine, X86_INPUT_INTR, 0, level != 0, NULL, 0);
    if (s != X86IRQ_OK)
        return s;
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

static x86irq_status cpu_index(x86irq_machine *machine, unsigned cpu)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (cpu >= machine->core_count)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", cpu,
                                 machine->core_count);
    return X86IRQ_OK;
}

x86irq_status x86irq_raise_cpu_init(x86irq_machine *machine, unsigned cpu)
{
    x86irq_status s = cpu_index(machine, cpu);
    if (s != X86IRQ_OK)
        return s;
    if (machine->finished)
        /* run would refuse anyway: an INIT cannot bring a stopped machine back */
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "INIT: the machine has stopped (%s) and cannot run again; load "
                                 "a guest to start over", x86irq_stop_reason_string(machine->stop_reason));
    s = x86_machine_host_input(machine, X86_INPUT_INIT, cpu, 0, NULL, 0);
    if (s != X86IRQ_OK)
        return s;
    struct x86_core *core = machine->cores[cpu];
    if (!machine->running) {
        /* between runs the core is at an instruction boundary: INIT takes effect now, so the
         * embedder can load the state it wants before the next run */
        x86_machine_init_signal(machine, core);
        return X86IRQ_OK;
    }
    core->cpu.init_latched = 1;
    core->cpu.halted = 0; /* INIT ends HLT too */
    x86_request_exit(&core->cpu);
    x86_machine_bound_round(machine, machine->clock);
    return X86IRQ_OK;
}

x86irq_status x86irq_raise_init(x86irq_machine *machine)
{
    return x86irq_raise_cpu_init(machine, 0);
}

x86irq_status x86irq_raise_cpu_nmi(x86irq_machine *machine, unsigned cpu)
{
    x86irq_status s = cpu_index(machine, cpu);
    if (s != X86IRQ_OK)
        return s;
    s = x86_machine_host_input(machine, X86_INPUT_NMI, cpu, 0, NULL, 0);
    if (s != X86IRQ_OK)
        return s;
    struct x86_cpu *c = &machine->cores[cpu]->cpu;
    x86_trace_nmi(&machine->trace, c, X86_NMI_INPUT, c->nmi_blocked, c->nmi_latched);
    c->nmi_latched = 1; /* an edge: one more is remembered while NMIs are blocked */
    x86_request_exit(c);
    if (machine->running)
        x86_machine_bound_round(machine, machine->clock);
    return X86IRQ_OK;
}

x86irq_status x86irq_raise_nmi(x86irq_machine *machine)
{
    return x86irq_raise_cpu_nmi(machine, 0);
}
