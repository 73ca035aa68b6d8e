/* Trace events and the nesting tracker (see events.h). */
#include "trace/events.h"

#include <string.h>

#include "machine/machine.h"

void x86_trace_emit(x86irq_machine *m, x86irq_trace_event *e)
{
    struct x86_cpu *cpu = &m->cpu;
    if (!e->cycle)
        e->cycle = cpu->cycles;
    if (!e->cs)
        e->cs = cpu->seg[X86_SEG_CS].selector;
    if (!e->eip)
        e->eip = cpu->eip;
    e->cpl = cpu->cpl;
    e->depth = (uint8_t)(m->trace.depth > 255 ? 255 : m->trace.depth);
    if (m->trace.fn && x86_trace_on(&m->trace, e->kind)) {
        struct x86_trace_symbol *c = &m->trace.symbol_cache[(e->eip * 2654435761u) >> 26];
        if (!c->valid || c->eip != e->eip) {
            x86irq_symbolize(m, e->eip, c->text, sizeof(c->text));
            c->eip = e->eip;
            c->valid = true;
        }
        _Static_assert(sizeof(c->text) == sizeof(e->symbol), "the cache holds a whole symbol");
        memcpy(e->symbol, c->text, sizeof(e->symbol));
        m->trace.fn(m->trace.opaque, e);
    }
}

/* A NESTING event for rule, naming the innermost event in service; error_code carries what the
 * rule adds (user-access-in-irq: the address). */
static void emit_rule(x86irq_machine *m, x86irq_nesting_rule rule, const char *detail,
                      uint32_t error_code)
{
    if (!((m->trace.rules >> rule) & 1) || !x86_trace_on(&m->trace, X86IRQ_TRACE_NESTING))
        return;
    x86irq_trace_event e = { .kind = X86IRQ_TRACE_NESTING, .rule = rule, .detail = detail,
                             .error_code = error_code };
    if (m->trace.depth) {
        const struct x86_nesting_entry *top =
            &m->trace.stack[(m->trace.depth < X86_NESTING_MAX ? m->trace.depth : X86_NESTING_MAX) - 1];
        e.vector = top->vector;
        e.origin = top->origin;
    }
    x86_trace_emit(m, &e);
}

void x86_trace_rule(x86irq_machine *m, x86irq_nesting_rule rule, const char *detail)
{
    emit_rule(m, rule, detail, 0);
}

/* Whether an event of one of these origins (a mask of 1 << x86irq_event_origin) is in service */
static bool in_service(const struct x86_trace *t, unsigned origins)
{
    unsigned n = t->depth < X86_NESTING_MAX ? t->depth : X86_NESTING_MAX;
    for (unsigned i = 0; i < n; i++)
        if ((origins >> t->stack[i].origin) & 1)
            return true;
    return false;
}
#define HARDWARE (1u << X86IRQ_ORIGIN_HARDWARE)
#define INTERRUPT_CONTEXT ((1u << X86IRQ_ORIGIN_HARDWARE) | (1u << X86IRQ_ORIGIN_NMI))

void x86_trace_update_user_watch(x86irq_machine *m)
{
    const struct x86_trace *t = &m->trace;
    bool watch = t->fn && ((t->rules >> X86IRQ_RULE_USER_ACCESS_IN_IRQ) & 1) &&
                 x86_trace_on(t, X86IRQ_TRACE_NESTING) && in_service(t, INTERRUPT_CONTEXT);
    struct x86_cpu *cpu = &m->cpu;
    if (watch && !cpu->irq_user_watch && (cpu->cr0 & X86_CR0_PG))
        x86_tlb_flush(cpu); /* user pages cached before must be walked again */
    cpu->irq_user_watch = watch;
}

void x86_trace_user_access(x86irq_machine *m, uint32_t linear)
{
    emit_rule(m, X86IRQ_RULE_USER_ACCESS_IN_IRQ,
              "a user page accessed in interrupt context (Linux: no user memory access from an "
              "interrupt handler)", linear);
}

void x86_trace_delivered(x86irq_machine *m, uint8_t vector, uint8_t origin, uint8_t from_cpl,
                         bool has_error_code, uint32_t error_code)
{
    struct x86_trace *t = &m->trace;
    /* the rules look at what was in service before this event (the seed notes' Linux rules) */
    /* a softirq or a tasklet runs with IF = 1 before the final IRET: an interrupt nesting
     * there is how Linux works, not a bug */
    bool deferred = m->phase == X86IRQ_PHASE_SOFTIRQ || m->phase == X86IRQ_PHASE_TASKLET;
    if (in_service(t, HARDWARE) && !deferred) {
        if (origin == X86IRQ_ORIGIN_HARDWARE)
            x86_trace_rule(m, X86IRQ_RULE_IRQ_IN_IRQ,
                           "a hardware interrupt nested inside another one");
        else if (origin != X86IRQ_ORIGIN_NMI)
            x86_trace_rule(m, X86IRQ_RULE_EXCEPTION_IN_IRQ,
                           "an exception raised while a hardware interrupt is serviced");
    }
    if (t->depth < X86_NESTING_MAX)
        t->stack[t->depth] = (struct x86_nesting_entry){ m->cpu.cycles, vector, origin };
    t->depth++;
    if (t->depth > t->max_depth)
        t->max_depth = t->depth;
    if (origin == X86IRQ_ORIGIN_HARDWARE || origin == X86IRQ_ORIGIN_NMI)
        m->cpu.irq_user_reported = 0; /* the rule reports once per interrupt */
    x86_trace_update_user_watch(m);
    x86irq_trace_event e = { .kind = X86IRQ_TRACE_DELIVER, .vector = vector, .origin = origin,
                             .from_cpl = from_cpl, .has_error_code = has_error_code,
                             .error_code = error_code, .gate = m->cpu.last_gate_type,
                             .esp = m->cpu.gpr[X86_ESP],
                             .ss = m->cpu.seg[X86_SEG_SS].selector };
    x86_trace_emit(m, &e);
    t->handler_pending = true;
}

void x86_trace_iret(x86irq_machine *m, bool outer)
{
    struct x86_trace *t = &m->trace;
    uint8_t vector = 0, origin = 0;
    if (t->depth == 0) {
        /* an IRET to an outer level with nothing in service is how kernels enter user mode */
        if (!outer)
            x86_trace_rule(m, X86IRQ_RULE_IRET_UNMATCHED, "IRET with nothing in service");
    } else {
        t->depth--;
        if (t->depth < X86_NESTING_MAX) {
            vector = t->stack[t->depth].vector;
            origin = t->stack[t->depth].origin;
        }
        x86_trace_update_user_watch(m);
    }
    x86irq_trace_event e = { .kind = X86IRQ_TRACE_IRET, .vector = vector, .origin = origin };
    x86_trace_emit(m, &e);
}

void x86irq_set_trace_hook(x86irq_machine *machine, uint32_t mask, x86irq_trace_fn fn,
                           void *opaque)
{
    if (!machine)
        return;
    machine->trace.fn = fn;
    machine->trace.opaque = opaque;
    machine->trace.mask = fn ? (mask & X86IRQ_TRACE_ALL) : 0;
    machine->trace.depth = 0;
    x86_trace_update_user_watch(machine);
}

void x86irq_set_nesting_rules(x86irq_machine *machine, uint32_t rules)
{
    if (machine) {
        machine->trace.rules = rules;
        x86_trace_update_user_watch(machine);
    }
}

unsigned x86irq_nesting_max_depth(const x86irq_machine *machine)
{
    return machine ? machine->trace.max_depth : 0;
}
