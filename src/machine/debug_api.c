/* What a debugger needs of the machine besides breakpoints (run_api.c): stepping one CPU to its
 * next instruction boundary, watchpoints exact to the byte, and memory by linear address.
 * The GDB remote stub (src/gdb) is built on these. */
#include "machine/machine.h"

#include <string.h>

#include "cpu/mmu.h"

/* ------------------------------------------------------------------ stepping */

bool x86_machine_step_done(x86irq_machine *m, struct x86_core *core)
{
    const struct x86_cpu *cpu = &core->cpu;
    /* the boundary the step started from (the same instruction, not executed yet, or a rep
     * string instruction between iterations) does not end it; a retired instruction or a
     * delivery (the handler's first instruction) does */
    if (cpu->instructions == m->step_instructions && cpu->rip == m->step_rip &&
        cpu->seg[X86_SEG_CS].base == m->step_cs_base)
        return false;
    core->resuming_at_breakpoint = true; /* the next run executes this instruction */
    x86_machine_stop_on(m, X86IRQ_STOP_STEP, cpu->index);
    return true;
}

x86irq_status x86irq_step(x86irq_machine *machine, unsigned cpu, uint64_t max_cycles,
                          x86irq_stop_reason *reason)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_step");
    if (refused != X86IRQ_OK)
        return refused;
    if (machine->replay)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "x86irq_step: a recording is being replayed (x86irq_run "
                                 "replays it)");
    if (cpu >= machine->core_count)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", cpu,
                                 machine->core_count);
    struct x86_core *core = machine->cores[cpu];
    machine->step_cpu = (int)cpu;
    machine->step_instructions = core->cpu.instructions;
    machine->step_rip = core->cpu.rip;
    machine->step_cs_base = core->cpu.seg[X86_SEG_CS].base;
    x86_machine_hooks_changed(machine);
    x86irq_status status = x86_machine_run(machine, max_cycles, reason);
    machine->step_cpu = -1;
    x86_machine_hooks_changed(machine);
    return status;
}

x86irq_status x86_machine_run_until(x86irq_machine *machine, unsigned cpu, uint64_t instructions,
                                    uint64_t max_cycles, x86irq_stop_reason *reason)
{
    if (cpu >= machine->core_count)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT, "CPU %u does not exist",
                                 cpu);
    machine->until_cpu = (int)cpu;
    machine->until_instructions = instructions;
    x86_machine_hooks_changed(machine);
    x86irq_status status = x86_machine_run(machine, max_cycles, reason);
    machine->until_cpu = -1;
    x86_machine_hooks_changed(machine);
    return status;
}

/* ------------------------------------------------------------------ watchpoints */

static bool valid_kind(x86irq_watch_kind kind)
{
    return kind == X86IRQ_WATCH_WRITE || kind == X86IRQ_WATCH_READ || kind == X86IRQ_WATCH_ACCESS;
}

static x86irq_status check_range(x86irq_machine *m, uint64_t address, uint64_t length,
                                 x86irq_watch_kind kind, const char *call)
{
    if (!valid_kind(kind))
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT, "%s: kind %d is not a watch kind",
                                 call, (int)kind);
    if (length == 0 || address + length - 1 < address)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "%s: %llu bytes at 0x%llx is not a range", call,
                                 (unsigned long long)length, (unsigned long long)address);
    return X86IRQ_OK;
}

static int find_watchpoint(const x86irq_machine *m, uint64_t address, uint64_t length,
                           x86irq_watch_kind kind)
{
    for (unsigned i = 0; i < m->watchpoint_count; i++)
        if (m->watchpoints[i].address == address && m->watchpoints[i].length == length &&
            m->watchpoints[i].kind == (uint8_t)kind)
            return (int)i;
    return -1;
}

x86irq_status x86irq_add_watchpoint(x86irq_machine *machine, uint64_t address, uint64_t length,
                                    x86irq_watch_kind kind)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status bad = check_range(machine, address, length, kind, "x86irq_add_watchpoint");
    if (bad != X86IRQ_OK)
        return bad;
    if (find_watchpoint(machine, address, length, kind) >= 0)
        return X86IRQ_OK;
    if (machine->watchpoint_count == X86_MAX_WATCHPOINTS)
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "more than %d watchpoints",
                                 X86_MAX_WATCHPOINTS);
    machine->watchpoints[machine->watchpoint_count++] =
        (struct x86_watchpoint){ address, length, (uint8_t)kind };
    x86_machine_hooks_changed(machine);
    return X86IRQ_OK;
}

x86irq_status x86irq_remove_watchpoint(x86irq_machine *machine, uint64_t address,
                                       uint64_t length, x86irq_watch_kind kind)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    int i = find_watchpoint(machine, address, length, kind);
    if (i < 0)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "no watchpoint of %llu bytes at 0x%llx of that kind",
                                 (unsigned long long)length, (unsigned long long)address);
    machine->watchpoints[i] = machine->watchpoints[--machine->watchpoint_count];
    x86_machine_hooks_changed(machine);
    return X86IRQ_OK;
}

void x86_machine_watch(x86irq_machine *m, struct x86_core *core, uint64_t linear, unsigned size,
                       bool write)
{
    x86_machine_hooks_memory(m, core, linear, size, write);
    if (!m->watchpoint_count || m->pending_stop != X86IRQ_STOP_NONE)
        return; /* one stop at a time: the first access that hit */
    uint8_t wanted = write ? X86IRQ_WATCH_WRITE : X86IRQ_WATCH_READ;
    uint64_t last = linear + size - 1;
    for (unsigned i = 0; i < m->watchpoint_count; i++) {
        const struct x86_watchpoint *w = &m->watchpoints[i];
        if (!(w->kind & wanted) || last < w->address || linear > w->address + w->length - 1)
            continue;
        m->watch_hit = (struct x86_watch_hit){ .valid = true, .write = write, .kind = w->kind,
                                               .size = size, .watch_address = w->address,
                                               .access_address = linear };
        /* the stop comes at the next boundary: the instruction completes first */
        x86_machine_stop_on(m, X86IRQ_STOP_WATCHPOINT, core->cpu.index);
        return;
    }
}

x86irq_status x86irq_watchpoint_hit(const x86irq_machine *machine, uint64_t *watch_address,
                                    x86irq_watch_kind *kind, uint64_t *access_address,
                                    unsigned *access_size, int *write)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_machine *m = (x86irq_machine *)machine; /* for the message only */
    if (machine->stop_reason != X86IRQ_STOP_WATCHPOINT || !machine->watch_hit.valid)
        return x86_machine_error(m, X86IRQ_ERR_STATE, "the last stop was not a watchpoint's");
    const struct x86_watch_hit *h = &machine->watch_hit;
    if (watch_address)
        *watch_address = h->watch_address;
    if (kind)
        *kind = (x86irq_watch_kind)h->kind;
    if (access_address)
        *access_address = h->access_address;
    if (access_size)
        *access_size = h->size;
    if (write)
        *write = h->write;
    return X86IRQ_OK;
}

/* ------------------------------------------------------------------ linear memory */

static x86irq_status linear_cpu(const x86irq_machine *m, unsigned index, struct x86_cpu **out)
{
    if (!m)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (index >= m->core_count)
        return x86_machine_error((x86irq_machine *)m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "CPU %u does not exist (the machine has %u)", index,
                                 m->core_count);
    *out = &m->cores[index]->cpu;
    return X86IRQ_OK;
}

x86irq_status x86irq_translate_linear(const x86irq_machine *machine, unsigned cpu,
                                      uint64_t linear, uint64_t *physical)
{
    if (!machine || !physical)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    struct x86_cpu *c = NULL;
    x86irq_status bad = linear_cpu(machine, cpu, &c);
    if (bad != X86IRQ_OK)
        return bad;
    if (!x86_peek_translate(c, linear, physical))
        return x86_machine_error((x86irq_machine *)machine, X86IRQ_ERR_RANGE,
                                 "linear address 0x%llx is not mapped on CPU %u",
                                 (unsigned long long)linear, cpu);
    return X86IRQ_OK;
}

x86irq_status x86irq_write_linear(x86irq_machine *machine, unsigned cpu, uint64_t address,
                                  const void *buffer, size_t size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!buffer && size)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_write_linear: no buffer for %zu bytes", size);
    struct x86_cpu *c = NULL;
    x86irq_status bad = linear_cpu(machine, cpu, &c);
    if (bad != X86IRQ_OK)
        return bad;
    /* every page translated and checked before a byte is written */
    const uint8_t *in = buffer;
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t done = 0; done < size;) {
            uint64_t at = address + done, phys = 0;
            uint64_t chunk = 0x1000 - (at & 0xFFF);
            if (chunk > size - done)
                chunk = size - done;
            if (pass == 0 && (!x86_peek_translate(c, at, &phys) ||
                              !x86_bus_ram(&machine->bus, phys, (size_t)chunk)))
                return x86_machine_error(machine, X86IRQ_ERR_RANGE,
                                         "linear address 0x%llx is not mapped to RAM on CPU %u",
                                         (unsigned long long)at, cpu);
            if (pass == 1) {
                x86_peek_translate(c, at, &phys);
                x86irq_write_physical(machine, phys, in + done, (size_t)chunk);
            }
            done += chunk;
        }
    return X86IRQ_OK;
}

/* ------------------------------------------------------------------ descriptor caches, MSRs */

/* The setters of state an instruction or a delivery may be using (MSRs, the FPU): between
 * runs or from a scheduled event only */
static x86irq_status at_boundary(x86irq_machine *m, const char *call)
{
    if (!m->executing)
        return X86IRQ_OK;
    return x86_machine_error(m, X86IRQ_ERR_STATE,
                             "%s: called while CPU %u is inside an instruction or a delivery "
                             "(between runs or from a scheduled event only)",
                             call, m->executing->cpu.index);
}

x86irq_status x86irq_get_segment(const x86irq_machine *machine, unsigned cpu,
                                 x86irq_segment_register seg, x86irq_segment *out)
{
    struct x86_cpu *c = NULL;
    x86irq_status bad = linear_cpu(machine, cpu, &c);
    if (bad != X86IRQ_OK)
        return bad;
    if ((unsigned)seg >= X86IRQ_SEG_COUNT || !out || out->size < sizeof(*out))
        return x86_machine_error((x86irq_machine *)machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_get_segment: %s",
                                 !out ? "no place for the result"
                                 : out->size < sizeof(*out) ? "size below sizeof(x86irq_segment)"
                                                             : "no such segment register");
    _Static_assert((int)X86IRQ_SEG_GS == (int)X86_SEG_GS && (int)X86IRQ_SEG_LDTR == (int)X86_SEG_COUNT,
                   "the segment registers in the same order");
    const struct x86_segment *s = seg == X86IRQ_SEG_LDTR ? &c->ldtr
                                  : seg == X86IRQ_SEG_TR ? &c->tr
                                                         : &c->seg[seg];
    *out = (x86irq_segment){ out->size, s->base, s->limit, s->selector, s->attributes };
    return X86IRQ_OK;
}

x86irq_status x86irq_get_msr(x86irq_machine *machine, unsigned cpu, uint32_t index,
                             uint64_t *value)
{
    struct x86_cpu *c = NULL;
    x86irq_status bad = linear_cpu(machine, cpu, &c);
    if (bad != X86IRQ_OK)
        return bad;
    if (!value)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_get_msr: no place for the value");
    if (!x86_read_msr(c, index, value))
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "MSR 0x%x does not exist on this model (rdmsr: #GP)", index);
    return X86IRQ_OK;
}

x86irq_status x86irq_set_msr(x86irq_machine *machine, unsigned cpu, uint32_t index,
                             uint64_t value)
{
    struct x86_cpu *c = NULL;
    x86irq_status bad = linear_cpu(machine, cpu, &c);
    if (bad != X86IRQ_OK)
        return bad;
    bad = at_boundary(machine, "x86irq_set_msr");
    if (bad != X86IRQ_OK)
        return bad;
    uint64_t old;
    if (!x86_read_msr(c, index, &old))
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "MSR 0x%x does not exist on this model (wrmsr: #GP)", index);
    if (!x86_write_msr(c, index, value))
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "MSR 0x%x: wrmsr of 0x%llx raises #GP (a reserved bit or value)",
                                 index, (unsigned long long)value);
    x86_request_exit(c); /* the mode may have changed: the loop looks again */
    return X86IRQ_OK;
}

x86irq_status x86irq_get_fpu_state(const x86irq_machine *machine, unsigned cpu,
                                   x86irq_fpu_state *state)
{
    struct x86_cpu *c = NULL;
    x86irq_status bad = linear_cpu(machine, cpu, &c);
    if (bad != X86IRQ_OK)
        return bad;
    if (!state || state->size < sizeof(*state))
        return x86_machine_error((x86irq_machine *)machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_get_fpu_state: %s",
                                 state ? "size below sizeof(x86irq_fpu_state) (set it)"
                                       : "no place for the state");
    /* a newer caller's longer struct: the members this library knows */
    size_t size = state->size;
    memset(state, 0, sizeof(*state));
    state->size = size;
    state->control = c->fpu.control;
    state->status = c->fpu.status;
    state->tag = c->fpu.tag;
    unsigned top = (c->fpu.status >> 11) & 7;
    _Static_assert(sizeof(long double) >= 10, "the host's long double holds the 80-bit format");
    for (unsigned i = 0; i < 8; i++)
        memcpy(state->st[i], &c->fpu.st[(top + i) & 7], 10);
    state->mxcsr = c->sse.mxcsr;
    for (unsigned i = 0; i < 16; i++)
        memcpy(state->xmm[i], c->sse.xmm[i].b, 16);
    return X86IRQ_OK;
}

x86irq_status x86irq_set_fpu_state(x86irq_machine *machine, unsigned cpu,
                                   const x86irq_fpu_state *state)
{
    struct x86_cpu *c = NULL;
    x86irq_status bad = linear_cpu(machine, cpu, &c);
    if (bad != X86IRQ_OK)
        return bad;
    if (!state || state->size < sizeof(*state))
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_set_fpu_state: %s",
                                 state ? "size below sizeof(x86irq_fpu_state) (set it)"
                                       : "no state");
    if (state->mxcsr & ~X86_MXCSR_MASK)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_set_fpu_state: MXCSR 0x%x has reserved bits set "
                                 "(FXRSTOR: #GP)", state->mxcsr);
    bad = at_boundary(machine, "x86irq_set_fpu_state");
    if (bad != X86IRQ_OK)
        return bad;
    c->fpu.control = state->control;
    c->fpu.status = state->status;
    c->fpu.tag = state->tag;
    unsigned top = (state->status >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        long double v = 0;
        memcpy(&v, state->st[i], 10); /* the upper bytes of the host's long double stay 0 */
        c->fpu.st[(top + i) & 7] = v;
    }
    c->sse.mxcsr = state->mxcsr;
    for (unsigned i = 0; i < 16; i++)
        memcpy(c->sse.xmm[i].b, state->xmm[i], 16);
    return X86IRQ_OK;
}
