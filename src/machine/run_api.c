/* Running the machine: the cores' rounds (docs/cycle-model.md), stops, the embedder's events,
 * breakpoints and the instruction hook. */
#include "machine/machine.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/mmu.h"
#include "cpu/run.h"

void x86_machine_stop(x86irq_machine *machine, x86irq_stop_reason reason)
{
    if (machine->pending_stop == X86IRQ_STOP_NONE)
        machine->pending_stop = reason;
    struct x86_cpu *cpu = &machine->current->cpu;
    cpu->stop_pending = 1;
    x86_request_exit(cpu);
}

void x86_machine_stop_on(x86irq_machine *machine, x86irq_stop_reason reason, unsigned cpu)
{
    if (machine->pending_stop == X86IRQ_STOP_NONE)
        machine->stop_cpu = (int)cpu;
    x86_machine_stop(machine, reason);
}

void x86irq_request_stop(x86irq_machine *machine)
{
    if (machine)
        x86_machine_stop(machine, X86IRQ_STOP_REQUESTED);
}

uint64_t x86_machine_schedule(x86irq_machine *m, uint64_t cycle, x86_event_fn fn, void *opaque)
{
    return x86_events_schedule(&m->events, cycle, fn, opaque);
}

/* The round ends at `cycle` at the latest: the running core's slice and the cores after it in
 * this round */
static void cut_round(x86irq_machine *m, uint64_t cycle, bool at_event)
{
    if (cycle < m->window_end) {
        m->window_end = cycle;
        m->window_at_event = at_event;
    }
    struct x86_cpu *cpu = &m->current->cpu;
    if (cycle < cpu->slice_end)
        cpu->slice_end = cycle;
    if (cycle < cpu->cycle_limit)
        cpu->cycle_limit = cycle;
}

/* An event due before the round ends cuts it there */
void x86_machine_event_scheduled(void *context, uint64_t cycle)
{
    cut_round(context, cycle, true);
}

void x86_machine_bound_round(x86irq_machine *m, uint64_t time)
{
    if (m->core_count > 1)
        cut_round(m, time + m->quantum < time ? UINT64_MAX : time + m->quantum, false);
}

/* ------------------------------------------------------------------ the rounds */

/* The machine's clock: the furthest any core has run */
static uint64_t machine_now(const x86irq_machine *m)
{
    uint64_t now = 0;
    for (unsigned i = 0; i < m->core_count; i++)
        if (m->cores[i]->cpu.cycles > now)
            now = m->cores[i]->cpu.cycles;
    return now;
}

static bool embedder_events_pending(const x86irq_machine *m)
{
    for (size_t i = 0; i < m->external_event_count; i++)
        if (m->external_events[i].fn || m->external_events[i].unbound)
            return true;
    return false;
}

/* Will the core run in this round: awake, or asleep with an interrupt it takes now or a
 * message on its way? */
static bool runnable(const struct x86_core *core)
{
    const struct x86_cpu *cpu = &core->cpu;
    return !cpu->shutdown &&
           (!cpu->halted || x86_cpu_event_deliverable(cpu) || core->lapic.pending_count);
}

/* Could anything wake this sleeping core later? An interrupt it can take (IF = 1) from a
 * device's event; with IF = 0 an NMI or INIT, which only the IOAPIC (a pin in NMI or INIT
 * mode) or the embedder's own events can send. A core waiting for SIPI: only another core. */
static bool can_wake(const x86irq_machine *m, const struct x86_core *core, bool events)
{
    const struct x86_cpu *cpu = &core->cpu;
    if (cpu->shutdown)
        return false;
    if (embedder_events_pending(m))
        return true;
    if (!events || cpu->wait_for_sipi)
        return false;
    return (cpu->eflags & X86_FLAG_IF) ||
           (m->has_chipset && x86_ioapic_sends_nmi_or_init(&m->ioapic));
}

/* Run one core to the round's end (which events scheduled meanwhile may pull in), taking the
 * interrupt messages that reach it on the way; a sleeping core's time jumps. The run's budget
 * ends the core's slice without ending the round: the next run goes on with the round from
 * this core (x86irq_run), so where runs are cut changes nothing (docs/cycle-model.md). */
static void run_core(x86irq_machine *m, struct x86_core *core)
{
    struct x86_cpu *cpu = &core->cpu;
    m->current = core;
    m->trace.running = cpu;
    cpu->stop_pending = 0;
    for (;;) {
        uint64_t end = m->window_end < m->run_end ? m->window_end : m->run_end;
        uint64_t message = core->lapic.pending_count ? x86_lapic_deliver_due(&core->lapic)
                                                     : UINT64_MAX;
        if (cpu->cycles >= m->window_end || m->pending_stop != X86IRQ_STOP_NONE)
            return;
        if (cpu->cycles >= end) { /* the budget, inside the round */
            x86_machine_stop(m, X86IRQ_STOP_BUDGET);
            return;
        }
        if (cpu->shutdown || (cpu->halted && !x86_cpu_event_deliverable(cpu))) {
            /* asleep: to the next message, at no cost; asleep for the whole round, its time
             * jumps to the end. A core that fell asleep in this round stays where it is: the
             * machine's loop decides whether anything can wake it. */
            if (message < end && !cpu->shutdown) {
                cpu->cycles = message;
                continue;
            }
            /* the only core awake, fallen asleep until the event ending the round, which can
             * wake it: it may sleep through to it now (the next round would jump there; no
             * other core runs before it that could send it something) */
            if (!core->ran ||
                (m->round_awake == 1 && m->window_at_event && can_wake(m, core, true))) {
                cpu->cycles = end;
                continue; /* at the round's end, or at the budget: a stop inside the round */
            }
            return;
        }
        cpu->slice_end = message < end ? message : end;
        cpu->cycle_limit = cpu->slice_end;
        cpu->exit_request = 0;
        m->executing = core;
        x86_cpu_execute(cpu); /* takes pending NMI / INTR at its first boundary */
        m->executing = NULL;
        if (core->eip_pending) {
            /* the embedder's EIP from a callback: the core is at a boundary now */
            core->eip_pending = false;
            cpu->rip = core->pending_eip;
            cpu->stop_pending = m->pending_stop != X86IRQ_STOP_NONE;
        }
        core->ran = true;
    }
}

/* Run the round's cores from where it stands: the awake ones in core order, then the sleeping
 * ones. A stop (a breakpoint, a step, the budget...) leaves the round open at the core it
 * came from, which goes on with its slice when the machine runs again. */
static void run_round(x86irq_machine *m)
{
    for (; m->round_pass < 2; m->round_pass++, m->round_index = 0)
        for (; m->round_index < m->core_count; m->round_index++) {
            struct x86_core *core = m->cores[m->round_index];
            if (core->awake != (m->round_pass == 0))
                continue;
            run_core(m, core);
            if (m->pending_stop != X86IRQ_STOP_NONE)
                return;
        }
    m->round_open = false;
    x86_code_cache_collect(&m->code);
}

x86irq_status x86irq_run(x86irq_machine *machine, uint64_t max_cycles,
                         x86irq_stop_reason *reason)
{
    if (machine && machine->replay && !x86_machine_in_callback(machine))
        return x86_machine_replay_run(machine, max_cycles, reason);
    return x86_machine_run(machine, max_cycles, reason);
}

x86irq_status x86_machine_run(x86irq_machine *machine, uint64_t max_cycles,
                              x86irq_stop_reason *reason)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    /* a nested run would reset the state the outer one's loop holds (its decoded block) */
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_run");
    if (refused != X86IRQ_OK)
        return refused;
    if (machine->finished)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "the machine has stopped (%s) and cannot run again",
                                 x86irq_stop_reason_string(machine->stop_reason));
    if (!machine->loaded)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "x86irq_run: nothing to run: load a guest, or write its code "
                                 "and registers (x86irq_write_physical, x86irq_set_register)");
    if (machine->unbound_events) {
        uint64_t id = 0, cycle = 0;
        x86irq_unbound_event(machine, 0, &id, &cycle);
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "x86irq_run: event %llu (cycle %llu), restored from a snapshot, "
                                 "has no function: x86irq_rebind_event, or cancel it",
                                 (unsigned long long)id, (unsigned long long)cycle);
    }
    x86irq_machine *m = machine;
    uint64_t start = machine_now(m);
    uint64_t end = start + max_cycles < start ? UINT64_MAX : start + max_cycles;
    x86irq_stop_reason stop = X86IRQ_STOP_NONE;
    m->pending_stop = X86IRQ_STOP_NONE;
    m->stop_cpu = -1;
    m->running = true;
    m->run_end = end;
    for (;;) {
        if (m->round_open) {
            /* the round a stop left open: its cores go on from where they stopped */
            run_round(m);
            if (m->pending_stop != X86IRQ_STOP_NONE) {
                stop = m->pending_stop;
                break;
            }
        }
        uint64_t now = machine_now(m);
        if (now > m->clock)
            m->clock = now;
        x86_events_run_due(&m->events, m->clock);
        if (m->pending_stop != X86IRQ_STOP_NONE) {
            stop = m->pending_stop;
            break;
        }
        if (now >= end) {
            stop = X86IRQ_STOP_BUDGET;
            break;
        }
        uint64_t next_event = x86_events_next_cycle(&m->events);
        unsigned awake = 0;
        for (unsigned i = 0; i < m->core_count; i++) {
            m->cores[i]->awake = runnable(m->cores[i]);
            m->cores[i]->ran = false;
            awake += m->cores[i]->awake;
        }
        bool wakeable = awake > 0;
        for (unsigned i = 0; i < m->core_count && !wakeable; i++)
            wakeable = can_wake(m, m->cores[i], next_event != UINT64_MAX);
        if (!wakeable) {
            /* every core asleep and nothing can wake one */
            const struct x86_cpu *bsp = &m->cores[0]->cpu;
            if (!bsp->shutdown && !(bsp->eflags & X86_FLAG_IF) && X86_UNLIKELY(m->trace.mask)) {
                m->trace.running = &m->cores[0]->cpu;
                x86_trace_rule(&m->trace, X86IRQ_RULE_HLT_HANG,
                               "HLT with IF = 0 and nothing that can raise an NMI: a hang");
            }
            stop = X86IRQ_STOP_HALTED;
            break;
        }
        /* the round: with several cores running, a quantum at most; with one, to the next
         * event (or until it sends another core something: x86_machine_bound_round), so the
         * cores that exist but sleep cost nothing; an idle machine jumps to its next event.
         * The cores awake run first, in core order, then the sleeping ones, which take the
         * messages of the round at their cycles or jump to its end. The budget is not a
         * round's end: it stops the core that reaches it inside the round (run_core). */
        uint64_t round_end = next_event;
        m->window_at_event = next_event != UINT64_MAX;
        if (awake > 1 && now + m->quantum < round_end) {
            round_end = now + m->quantum;
            m->window_at_event = false;
        }
        m->window_end = round_end;
        m->round_awake = awake;
        m->round_open = true;
        m->round_pass = 0;
        m->round_index = 0;
        run_round(m);
        if (m->pending_stop != X86IRQ_STOP_NONE) {
            stop = m->pending_stop;
            break;
        }
    }
    m->running = false;
    m->has_run = true;
    m->stop_reason = stop;
    /* HALTED is not final: the embedder may raise NMI or INTR and run again */
    if (stop == X86IRQ_STOP_DEBUG_EXIT || stop == X86IRQ_STOP_SHUTDOWN ||
        stop == X86IRQ_STOP_POWEROFF || stop == X86IRQ_STOP_RESET)
        m->finished = true;
    if (reason)
        *reason = stop;
    return X86IRQ_OK;
}

x86irq_stop_reason x86irq_stop_reason_of(const x86irq_machine *machine)
{
    return machine ? machine->stop_reason : X86IRQ_STOP_NONE;
}

int x86irq_stop_cpu(const x86irq_machine *machine)
{
    return machine ? machine->stop_cpu : -1;
}

/* ------------------------------------------------------------------ events */

/* Embedder events live in a slot table of the machine (reused, freed with it): the queue's
 * opaque is the slot index. */
void x86_machine_external_event(void *context, void *opaque)
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
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!fn)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_schedule_event: no function");
    size_t index = 0;
    while (index < machine->external_event_count &&
           (machine->external_events[index].fn || machine->external_events[index].unbound))
        index++;
    if (index == machine->external_event_count) {
        size_t n = machine->external_event_count ? machine->external_event_count * 2 : 8;
        struct x86_external_event *bigger =
            realloc(machine->external_events, n * sizeof(*bigger));
        if (!bigger)
            return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "out of memory for events");
        memset(bigger + machine->external_event_count, 0,
               (n - machine->external_event_count) * sizeof(*bigger));
        machine->external_events = bigger;
        machine->external_event_count = n;
    }
    uint64_t handle = x86_machine_schedule(machine, cycle, x86_machine_external_event,
                                           (void *)(uintptr_t)index);
    if (handle == 0)
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "out of memory for events");
    machine->external_events[index] = (struct x86_external_event){ fn, opaque, handle, false };
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
    for (size_t i = 0; i < machine->external_event_count; i++) {
        struct x86_external_event *e = &machine->external_events[i];
        if ((e->fn || e->unbound) && e->id == id) {
            machine->unbound_events -= e->unbound;
            *e = (struct x86_external_event){ 0 };
        }
    }
    return X86IRQ_OK;
}

x86irq_status x86irq_unbound_event(const x86irq_machine *machine, size_t index, uint64_t *id,
                                   uint64_t *cycle)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < machine->external_event_count; i++) {
        const struct x86_external_event *e = &machine->external_events[i];
        if (!e->unbound || index--)
            continue;
        if (id)
            *id = e->id;
        if (cycle) {
            *cycle = UINT64_MAX;
            for (size_t k = 0; k < machine->events.count; k++)
                if (machine->events.heap[k].id == e->id)
                    *cycle = machine->events.heap[k].cycle;
        }
        return X86IRQ_OK;
    }
    return X86IRQ_ERR_RANGE;
}

x86irq_status x86irq_rebind_event(x86irq_machine *machine, uint64_t id, x86irq_event_fn fn,
                                  void *opaque)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!fn)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_rebind_event: no function");
    for (size_t i = 0; i < machine->external_event_count; i++) {
        struct x86_external_event *e = &machine->external_events[i];
        if (e->unbound && e->id == id) {
            *e = (struct x86_external_event){ fn, opaque, id, false };
            machine->unbound_events--;
            return X86IRQ_OK;
        }
    }
    return x86_machine_error(machine, X86IRQ_ERR_STATE,
                             "x86irq_rebind_event: event %llu is not an unbound restored event",
                             (unsigned long long)id);
}


/* ------------------------------------------------------------------ breakpoints, hook */

void x86_machine_hooks_changed(x86irq_machine *m)
{
    /* data hooks as watchpoints: each access is checked, in the per-instruction loop */
    bool hooked = m->instruction_hook || m->breakpoint_count || m->watchpoint_count ||
                  m->step_cpu >= 0 || m->until_cpu >= 0 || m->hooks.data_access;
    for (unsigned i = 0; i < m->core_count; i++) {
        m->cores[i]->cpu.hooked = hooked;
        x86_debug_platform_watch(&m->cores[i]->cpu,
                                 m->watchpoint_count > 0 || m->hooks.data_access);
        x86_request_exit(&m->cores[i]->cpu);
    }
}

x86irq_status x86irq_add_breakpoint(x86irq_machine *machine, uint64_t address)
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
    x86_machine_hooks_changed(machine);
    return X86IRQ_OK;
}

x86irq_status x86irq_remove_breakpoint(x86irq_machine *machine, uint64_t address)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    for (unsigned i = 0; i < machine->breakpoint_count; i++)
        if (machine->breakpoints[i] == address) {
            machine->breakpoints[i] = machine->breakpoints[--machine->breakpoint_count];
            x86_machine_hooks_changed(machine);
            return X86IRQ_OK;
        }
    return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                             "no breakpoint at 0x%08llx", (unsigned long long)address);
}

void x86irq_set_instruction_hook(x86irq_machine *machine, x86irq_instruction_fn fn, void *opaque)
{
    if (!machine)
        return;
    machine->instruction_hook = fn;
    machine->instruction_hook_opaque = opaque;
    x86_machine_hooks_changed(machine);
}

bool x86_machine_before_instruction(x86irq_machine *m, struct x86_core *core,
                                    const struct x86_insn *insn)
{
    struct x86_cpu *cpu = &core->cpu;
    if (m->step_cpu == (int)cpu->index && x86_machine_step_done(m, core))
        return false;
    if (X86_UNLIKELY(m->until_cpu == (int)cpu->index) &&
        cpu->instructions >= m->until_instructions) {
        /* before the breakpoint check: a breakpoint here is where the replay is going */
        core->resuming_at_breakpoint = true;
        x86_machine_stop_on(m, X86IRQ_STOP_STEP, cpu->index);
        return false;
    }
    if (m->breakpoint_count) {
        uint64_t linear = x86_code_linear(cpu, cpu->rip);
        /* the core that stopped before an instruction (a breakpoint, a step) executes it when
         * it runs again; so does the core that steps from there */
        bool resuming = core->resuming_at_breakpoint || m->step_cpu == (int)cpu->index;
        core->resuming_at_breakpoint = false;
        for (unsigned i = 0; i < m->breakpoint_count && !resuming; i++)
            if (m->breakpoints[i] == linear) {
                core->resuming_at_breakpoint = true;
                x86_machine_stop_on(m, X86IRQ_STOP_BREAKPOINT, cpu->index);
                return false;
            }
    }
    bool hooks = cpu->code_ranges &&
                 x86_machine_hooks_want_instruction(m, cpu, x86_code_linear(cpu, cpu->rip),
                                                    insn->length);
    if (!m->instruction_hook && !hooks)
        return true;
    x86irq_instruction_info info;
    memset(&info, 0, sizeof(info));
    info.size = sizeof(info);
    info.cycle = cpu->cycles;
    /* RIP in full in 64-bit code: a 64-bit kernel's, cut to 32 bits, would name (and below,
     * read the bytes of) another address */
    info.eip = cpu->mode == X86_MODE_64 ? cpu->rip : x86_eip(cpu);
    info.linear = x86_code_linear(cpu, cpu->rip);
    info.cs = cpu->seg[X86_SEG_CS].selector;
    info.length = insn->length;
    info.mode_bits = cpu->mode == X86_MODE_16 ? 16 : cpu->mode == X86_MODE_32 ? 32 : 64;
    info.cpu = (uint8_t)cpu->index;
    for (unsigned i = 0; i < insn->length && i < sizeof(info.bytes); i++) {
        uint64_t phys;
        bool w;
        /* the bytes were fetched a moment ago: this cannot fault; read them again for the hook */
        x86_translate(cpu, x86_code_linear(cpu, cpu->rip + i), X86_ACCESS_EXECUTE, cpu->cpl == 3,
                      &phys, &w);
        info.bytes[i] = (uint8_t)x86_phys_read(cpu, phys, 1);
    }
    uint64_t rip = cpu->rip, cs_base = cpu->seg[X86_SEG_CS].base;
    uint8_t mode = cpu->mode;
    m->hooked_core = core; /* an EIP the hook sets applies at once (x86irq_set_cpu_register) */
    if (m->instruction_hook)
        m->instruction_hook(m->instruction_hook_opaque, &info);
    if (hooks && cpu->rip == rip && cpu->seg[X86_SEG_CS].base == cs_base && cpu->mode == mode)
        x86_machine_hooks_instruction(m, core, &info);
    m->hooked_core = NULL;
    /* the hook moved the core: the instruction decoded here is not the one to run; the loop
     * goes on from the new CS:EIP (and calls the hook there) */
    return cpu->rip == rip && cpu->seg[X86_SEG_CS].base == cs_base && cpu->mode == mode;
}
