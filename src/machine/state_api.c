/* The public calls of the machine's state: its CPUs (state, cycles, registers), guest memory,
 * the record of a triple fault. */
#include "machine/machine.h"

#include <string.h>

#include "cpu/mmu.h"

unsigned x86irq_cpu_count(const x86irq_machine *machine)
{
    return machine ? machine->core_count : 0;
}

x86irq_cpu_state x86irq_get_cpu_state(const x86irq_machine *machine, unsigned index)
{
    if (!machine || index >= machine->core_count)
        return X86IRQ_CPU_SHUTDOWN;
    const struct x86_cpu *cpu = &machine->cores[index]->cpu;
    if (cpu->shutdown)
        return X86IRQ_CPU_SHUTDOWN;
    if (cpu->wait_for_sipi)
        return X86IRQ_CPU_WAITING_FOR_SIPI;
    return cpu->halted ? X86IRQ_CPU_HALTED : X86IRQ_CPU_RUNNING;
}

const char *x86irq_cpu_state_string(x86irq_cpu_state state)
{
    static const char *const names[] = {
        [X86IRQ_CPU_RUNNING] = "running", [X86IRQ_CPU_HALTED] = "halted",
        [X86IRQ_CPU_WAITING_FOR_SIPI] = "wait-for-sipi", [X86IRQ_CPU_SHUTDOWN] = "shutdown",
    };
    return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

uint64_t x86irq_cpu_cycles(const x86irq_machine *machine, unsigned index)
{
    return machine && index < machine->core_count ? machine->cores[index]->cpu.cycles : 0;
}

uint64_t x86irq_cpu_instructions(const x86irq_machine *machine, unsigned index)
{
    return machine && index < machine->core_count ? machine->cores[index]->cpu.instructions : 0;
}

uint64_t x86irq_cycles(const x86irq_machine *machine)
{
    uint64_t now = 0;
    for (unsigned i = 0; machine && i < machine->core_count; i++)
        if (machine->cores[i]->cpu.cycles > now)
            now = machine->cores[i]->cpu.cycles;
    return now;
}

uint64_t x86irq_instructions(const x86irq_machine *machine)
{
    uint64_t n = 0;
    for (unsigned i = 0; machine && i < machine->core_count; i++)
        n += machine->cores[i]->cpu.instructions;
    return n;
}

uint32_t x86irq_exit_value(const x86irq_machine *machine)
{
    return machine ? machine->exit_value : 0;
}

size_t x86irq_shutdown_events(const x86irq_machine *machine, x86irq_event_record *records,
                              size_t max)
{
    if (!machine)
        return 0;
    /* the core whose triple fault stopped the machine */
    int c = machine->stop_cpu;
    for (unsigned i = 0; c < 0 && i < machine->core_count; i++)
        if (machine->cores[i]->cpu.shutdown)
            c = (int)i;
    return c < 0 ? 0 : x86_cpu_shutdown_events(&machine->cores[c]->cpu, records, max);
}

/* ------------------------------------------------------------------ registers */


const char *x86irq_register_name(x86irq_register reg)
{
    return x86_register_name(reg);
}

x86irq_status x86irq_get_cpu_register(const x86irq_machine *machine, unsigned index,
                                      x86irq_register reg, uint32_t *value)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    /* the message is not the machine's state: writing it through a const handle is fine */
    x86irq_machine *m = (x86irq_machine *)machine;
    if (!value)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT, "x86irq_get_register: no result "
                                 "pointer");
    if ((unsigned)reg >= X86IRQ_REG_COUNT)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "register %u does not exist", (unsigned)reg);
    if (index >= machine->core_count)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", index,
                                 machine->core_count);
    const struct x86_core *core = machine->cores[index];
    if (reg == X86IRQ_REG_EIP && core->eip_pending) {
        *value = core->pending_eip; /* what the embedder set, due at the next boundary */
        return X86IRQ_OK;
    }
    /* reading EFLAGS computes the lazy flags: not a change of state */
    *value = x86_cpu_get_register((struct x86_cpu *)&core->cpu, reg);
    return X86IRQ_OK;
}

x86irq_status x86irq_set_cpu_register(x86irq_machine *machine, unsigned index,
                                      x86irq_register reg, uint32_t value)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if ((unsigned)reg >= X86IRQ_REG_COUNT)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "register %u does not exist", (unsigned)reg);
    if (index >= machine->core_count)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", index,
                                 machine->core_count);
    struct x86_core *core = machine->cores[index];
    struct x86_cpu *cpu = &core->cpu;
    if (reg == X86IRQ_REG_EIP && machine->executing == core && machine->hooked_core != core) {
        /* a callback from inside an instruction or a delivery: what is in progress would
         * overwrite EIP, so it is set when the core leaves it (run_core, at the boundary) */
        core->eip_pending = true;
        core->pending_eip = value;
        cpu->stop_pending = 1;
        x86_request_exit(cpu);
        machine->loaded = true;
        return X86IRQ_OK;
    }
    if (!x86_cpu_set_register(cpu, reg, value))
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "%s: value 0x%08x is not allowed", x86_register_name(reg),
                                 value);
    if (reg == X86IRQ_REG_EIP)
        core->eip_pending = false; /* a later write wins */
    /* mode, flags (TF, IF) or breakpoints may have changed under the running loop: it looks
     * again at the next boundary */
    if (machine->running && reg > X86IRQ_REG_EDI)
        x86_request_exit(cpu);
    machine->loaded = true;
    return X86IRQ_OK;
}

const char *x86irq_register64_name(x86irq_register64 reg)
{
    return x86_register64_name(reg);
}

x86irq_status x86irq_get_cpu_register64(const x86irq_machine *machine, unsigned index,
                                        x86irq_register64 reg, uint64_t *value)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_machine *m = (x86irq_machine *)machine; /* for the message only */
    if (!value)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_get_cpu_register64: no result pointer");
    if ((unsigned)reg >= X86IRQ_REG64_COUNT)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "64-bit register %u does not exist", (unsigned)reg);
    if (index >= machine->core_count)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", index,
                                 machine->core_count);
    const struct x86_core *core = machine->cores[index];
    if (reg == X86IRQ_REG64_RIP && core->eip_pending) {
        *value = core->pending_eip;
        return X86IRQ_OK;
    }
    *value = x86_cpu_get_register64((struct x86_cpu *)&core->cpu, reg);
    return X86IRQ_OK;
}

x86irq_status x86irq_set_cpu_register64(x86irq_machine *machine, unsigned index,
                                        x86irq_register64 reg, uint64_t value)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if ((unsigned)reg >= X86IRQ_REG64_COUNT)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "64-bit register %u does not exist", (unsigned)reg);
    if (index >= machine->core_count)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", index,
                                 machine->core_count);
    struct x86_core *core = machine->cores[index];
    struct x86_cpu *cpu = &core->cpu;
    if (reg == X86IRQ_REG64_RIP && machine->executing == core && machine->hooked_core != core) {
        /* as EIP: set at the boundary after what is in progress (x86irq_set_cpu_register) */
        core->eip_pending = true;
        core->pending_eip = value;
        cpu->stop_pending = 1;
        x86_request_exit(cpu);
        machine->loaded = true;
        return X86IRQ_OK;
    }
    if (!x86_cpu_set_register64(cpu, reg, value))
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "%s: value 0x%016llx is not allowed", x86_register64_name(reg),
                                 (unsigned long long)value);
    if (reg == X86IRQ_REG64_RIP)
        core->eip_pending = false;
    if (machine->running && reg > X86IRQ_REG64_R15)
        x86_request_exit(cpu);
    machine->loaded = true;
    return X86IRQ_OK;
}

x86irq_status x86irq_get_register(const x86irq_machine *machine, x86irq_register reg,
                                  uint32_t *value)
{
    return x86irq_get_cpu_register(machine, 0, reg, value);
}

x86irq_status x86irq_set_register(x86irq_machine *machine, x86irq_register reg, uint32_t value)
{
    return x86irq_set_cpu_register(machine, 0, reg, value);
}

/* ------------------------------------------------------------------ memory */

x86irq_status x86irq_read_physical(const x86irq_machine *machine, uint64_t address,
                                   void *buffer, size_t size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_machine *m = (x86irq_machine *)machine; /* for the message only */
    if (!buffer && size)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_read_physical: no buffer for %zu bytes", size);
    const uint8_t *p = x86_bus_ram(&machine->bus, address, size);
    if (!p)
        return x86_machine_error(m, X86IRQ_ERR_RANGE,
                                 "read of %zu bytes at 0x%llx is outside RAM", size,
                                 (unsigned long long)address);
    if (size) /* memcpy must not see a NULL buffer, even for 0 bytes */
        memcpy(buffer, p, size);
    return X86IRQ_OK;
}

x86irq_status x86irq_read_linear(const x86irq_machine *machine, unsigned index,
                                 uint64_t address, void *buffer, size_t size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_machine *m = (x86irq_machine *)machine; /* for the message only */
    if (!buffer && size)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_read_linear: no buffer for %zu bytes", size);
    if (index >= machine->core_count)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", index,
                                 machine->core_count);
    struct x86_cpu *cpu = (struct x86_cpu *)&machine->cores[index]->cpu;
    /* every page checked before a byte is copied */
    for (uint64_t done = 0; done < size; done += 0x1000 - ((address + done) & 0xFFF)) {
        uint64_t v;
        if (!x86_peek(cpu, address + done, 1, &v))
            return x86_machine_error(m, X86IRQ_ERR_RANGE,
                                     "linear address 0x%llx is not mapped to RAM on CPU %u",
                                     (unsigned long long)(address + done), index);
    }
    uint8_t *out = buffer;
    for (size_t i = 0; i < size; i++) {
        uint64_t v = 0;
        x86_peek(cpu, address + i, 1, &v);
        out[i] = (uint8_t)v;
    }
    return X86IRQ_OK;
}

x86irq_status x86irq_write_physical(x86irq_machine *machine, uint64_t address,
                                    const void *buffer, size_t size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!buffer && size)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_write_physical: no buffer for %zu bytes", size);
    uint8_t *p = x86_bus_ram(&machine->bus, address, size);
    if (!p)
        return x86_machine_error(machine, X86IRQ_ERR_RANGE,
                                 "write of %zu bytes at 0x%llx is outside RAM", size,
                                 (unsigned long long)address);
    if (size == 0)
        return X86IRQ_OK; /* in range, nothing to copy (memcpy must not see a NULL buffer) */
    machine->loaded = true;
    for (unsigned i = 0; i < machine->core_count; i++)
        x86_tables_changed(&machine->cores[i]->cpu); /* the embedder may have rewritten an IDT
                                                        or a GDT */
    if (x86_code_cache_write(&machine->code, address, size))
        for (unsigned i = 0; i < machine->core_count; i++)
            x86_request_exit(&machine->cores[i]->cpu);
    memcpy(p, buffer, size);
    return X86IRQ_OK;
}

