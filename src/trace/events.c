/* Trace events and the nesting tracker (see events.h). */
#include "trace/events.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/mmu.h"
#include "loader/loader.h"

bool x86_trace_init(struct x86_trace *t, struct x86_cpu *const *cores, unsigned core_count)
{
    /* one unnamed thread to begin with on each core */
    unsigned capacity = core_count < 4 ? 4 : core_count;
    t->threads = calloc(capacity, sizeof(*t->threads));
    if (!t->threads)
        return false;
    t->thread_capacity = capacity;
    t->thread_count = core_count;
    for (unsigned i = 0; i < core_count; i++)
        t->current[i] = i;
    t->cores = cores;
    t->core_count = core_count;
    t->running = cores[0];
    return true;
}

void x86_trace_finish(struct x86_trace *t)
{
    free(t->threads);
    free(t->probes);
    free(t->probe_addresses);
    t->threads = NULL;
    t->probes = NULL;
    t->probe_addresses = NULL;
}

struct x86_trace_thread *x86_trace_running(const struct x86_trace *t)
{
    return &t->threads[t->current[t->running->index]];
}

uint8_t x86_trace_phase(const struct x86_trace *t)
{
    const struct x86_trace_thread *th = x86_trace_running(t);
    return th->phase_depth ? th->phases[th->phase_depth - 1].phase : th->phase;
}

/* The instruction pointer an event reports: RIP in 64-bit mode (a 64-bit kernel runs above
 * 4 GiB), else EIP, so a 32-bit guest's events are what they always were */
static uint64_t trace_ip(const struct x86_cpu *cpu)
{
    return cpu->mode == X86_MODE_64 ? cpu->rip : x86_eip(cpu);
}

/* A register likewise (the stack pointer, a switch rule's thread ID): in full in 64-bit mode,
 * where stacks and task pointers are above 4 GiB, else its low half */
static uint64_t trace_register(const struct x86_cpu *cpu, unsigned reg)
{
    return cpu->mode == X86_MODE_64 ? cpu->gpr[reg] : x86_gpr32(cpu, reg);
}

void x86_trace_emit(struct x86_trace *t, x86irq_trace_event *e)
{
    const struct x86_cpu *cpu = t->running;
    e->size = sizeof(*e);
    if (!e->cycle)
        e->cycle = cpu->cycles;
    if (!e->cs)
        e->cs = cpu->seg[X86_SEG_CS].selector;
    if (!e->eip)
        e->eip = trace_ip(cpu);
    e->cpl = cpu->cpl;
    e->core = (uint8_t)cpu->index;
    e->code_bits = cpu->mode == X86_MODE_64 ? 64 : cpu->mode == X86_MODE_32 ? 32 : 16;
    unsigned depth = x86_trace_running(t)->depth;
    e->depth = (uint8_t)(depth > 255 ? 255 : depth);
    if (t->fn && x86_trace_on(t, e->kind)) {
        /* both halves in the hash: a 64-bit kernel's EIPs share their upper one */
        uint32_t folded = (uint32_t)(e->eip ^ (e->eip >> 32));
        struct x86_trace_symbol *c = &t->symbol_cache[(folded * 2654435761u) >> 26];
        if (!c->valid || c->eip != e->eip) {
            x86_symbols_describe(t->symbols, e->eip, c->text, sizeof(c->text));
            c->eip = e->eip;
            c->valid = true;
        }
        _Static_assert(sizeof(c->text) == sizeof(e->symbol), "the cache holds a whole symbol");
        memcpy(e->symbol, c->text, sizeof(e->symbol));
        t->fn(t->opaque, e);
    }
}

void x86_trace_emit_on(struct x86_trace *t, struct x86_cpu *cpu, x86irq_trace_event *e)
{
    struct x86_cpu *running = t->running;
    t->running = cpu;
    x86_trace_emit(t, e);
    t->running = running;
}

/* A NESTING event for rule, naming the innermost event in service; error_code carries what the
 * rule adds (user-access-in-irq: the address); eip/cs (0: the core's) where it happened. */
static void emit_rule(struct x86_trace *t, x86irq_nesting_rule rule, const char *detail,
                      uint32_t error_code, uint64_t eip, uint16_t cs)
{
    if (!((t->rules >> rule) & 1) || !x86_trace_on(t, X86IRQ_TRACE_NESTING))
        return;
    x86irq_trace_event e = { .kind = X86IRQ_TRACE_NESTING, .rule = rule, .detail = detail,
                             .error_code = error_code, .eip = eip, .cs = cs };
    const struct x86_trace_thread *th = x86_trace_running(t);
    if (th->depth) {
        const struct x86_nesting_entry *top =
            &th->stack[(th->depth < X86_NESTING_MAX ? th->depth : X86_NESTING_MAX) - 1];
        e.vector = top->vector;
        e.origin = top->origin;
    }
    x86_trace_emit(t, &e);
}

void x86_trace_rule(struct x86_trace *t, x86irq_nesting_rule rule, const char *detail)
{
    emit_rule(t, rule, detail, 0, 0, 0);
}

/* Whether an event of one of these origins (a mask of 1 << x86irq_event_origin) is in service
 * in the running thread */
static bool in_service(const struct x86_trace *t, unsigned origins)
{
    const struct x86_trace_thread *th = x86_trace_running(t);
    unsigned n = th->depth < X86_NESTING_MAX ? th->depth : X86_NESTING_MAX;
    for (unsigned i = 0; i < n; i++)
        if ((origins >> th->stack[i].origin) & 1)
            return true;
    return false;
}
#define HARDWARE (1u << X86IRQ_ORIGIN_HARDWARE)
#define INTERRUPT_CONTEXT ((1u << X86IRQ_ORIGIN_HARDWARE) | (1u << X86IRQ_ORIGIN_NMI))

/* Is the running thread in interrupt context, as far as the rules can tell? An interrupt in
 * service, and, when phases are known, one of the interrupt's own phases: the handler's, or
 * deferred work in interrupt context (a softirq, a tasklet); not what follows the handler in
 * the interrupted thread's context (a reschedule, the way back to user mode). */
static bool in_interrupt_context(const struct x86_trace *t)
{
    if (!in_service(t, INTERRUPT_CONTEXT))
        return false;
    uint8_t phase = x86_trace_phase(t);
    return !t->phases_known || (phase != X86IRQ_PHASE_PROCESS && phase != X86IRQ_PHASE_WORKQUEUE);
}

void x86_trace_update_user_watch(struct x86_trace *t)
{
    bool watch = t->fn && ((t->rules >> X86IRQ_RULE_USER_ACCESS_IN_IRQ) & 1) &&
                 x86_trace_on(t, X86IRQ_TRACE_NESTING) && in_interrupt_context(t);
    struct x86_cpu *cpu = t->running;
    if (watch && !cpu->irq_user_watch && (cpu->cr0 & X86_CR0_PG))
        x86_tlb_flush(cpu); /* user pages cached before must be walked again */
    cpu->irq_user_watch = watch;
}

void x86_trace_user_access(struct x86_trace *t, uint32_t linear)
{
    emit_rule(t, X86IRQ_RULE_USER_ACCESS_IN_IRQ,
              "a user page accessed in interrupt context (Linux: no user memory access from an "
              "interrupt handler)", linear, 0, 0);
}

/* ------------------------------------------------------------------ phases */

/* The core reports a block entry at the running thread's innermost return address */
static void arm_return_watch(struct x86_trace *t)
{
    const struct x86_trace_thread *th = x86_trace_running(t);
    struct x86_cpu *cpu = t->running;
    cpu->watch.return_armed = th->phase_depth != 0;
    cpu->watch.return_eip = th->phase_depth ? th->phases[th->phase_depth - 1].return_eip : 0;
}

/* After anything that may change the running thread's phase: report a change */
static void phase_changed_from(struct x86_trace *t, uint8_t before)
{
    uint8_t now = x86_trace_phase(t);
    if (now == before)
        return;
    x86_trace_update_user_watch(t); /* interrupt context may have begun or ended */
    if (x86_trace_on(t, X86IRQ_TRACE_PHASE)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_PHASE, .line = now };
        x86_trace_emit(t, &e);
    }
}

void x86_trace_mark_phase(struct x86_trace *t, uint8_t phase)
{
    uint8_t before = x86_trace_phase(t);
    t->phases_known = true;
    x86_trace_running(t)->phase = phase;
    /* the marker always reports, even when a phase function's phase hides it */
    if (x86_trace_phase(t) == before && x86_trace_on(t, X86IRQ_TRACE_PHASE)) {
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_PHASE, .line = phase };
        x86_trace_emit(t, &e);
    } else {
        phase_changed_from(t, before);
    }
}

static const struct x86_probe *find_probe(const struct x86_trace *t, uint64_t address)
{
    size_t lo = 0, hi = t->probe_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->probes[mid].address == address)
            return &t->probes[mid];
        if (t->probes[mid].address < address)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The thread with this ID, created (empty, process context) when it is new */
static unsigned thread_index(struct x86_trace *t, uint64_t id)
{
    for (unsigned i = 0; i < t->thread_count; i++)
        if (t->threads[i].id == id)
            return i;
    if (t->thread_count == t->thread_capacity) {
        unsigned capacity = t->thread_capacity * 2;
        struct x86_trace_thread *bigger = realloc(t->threads, capacity * sizeof(*bigger));
        if (!bigger)
            return t->current[t->running->index]; /* out of memory: the thread goes on as
                                                   * the one before */
        t->threads = bigger;
        t->thread_capacity = capacity;
    }
    struct x86_trace_thread *th = &t->threads[t->thread_count];
    memset(th, 0, sizeof(*th));
    th->id = id;
    return t->thread_count++;
}

void x86_trace_switch(struct x86_trace *t, uint64_t thread)
{
    uint64_t previous = x86_trace_running(t)->id;
    if (previous == thread)
        return;
    uint8_t before = x86_trace_phase(t);
    t->current[t->running->index] = thread_index(t, thread);
    if (x86_trace_on(t, X86IRQ_TRACE_SWITCH)) {
        /* line and error_code keep the low halves, as before 64-bit IDs */
        x86irq_trace_event e = { .kind = X86IRQ_TRACE_SWITCH, .line = (uint32_t)thread,
                                 .error_code = (uint32_t)previous, .thread = thread,
                                 .previous_thread = previous };
        x86_trace_emit(t, &e);
    }
    x86_trace_update_user_watch(t);
    arm_return_watch(t);
    phase_changed_from(t, before);
}

void x86_trace_code_watch(void *opaque, uint64_t linear, bool probe)
{
    struct x86_trace *t = opaque;
    struct x86_cpu *cpu = t->running;
    struct x86_trace_thread *th = x86_trace_running(t);
    uint8_t before = x86_trace_phase(t);
    /* 64-bit code calls with an 8-byte return address at RSP (SS's base is 0 there); other
     * code with a 4-byte one at SS:ESP */
    bool code64 = cpu->mode == X86_MODE_64;
    uint64_t esp = trace_register(cpu, X86_ESP);
    unsigned slot = code64 ? 8 : 4;
    uint64_t esp_after_return = code64 ? esp + 8 : (uint32_t)(esp + 4); /* wraps at 4 GiB */
    /* returns: the innermost phase functions that came back here (a tail call shares its
     * caller's return) */
    while (th->phase_depth && th->phases[th->phase_depth - 1].return_eip == linear &&
           th->phases[th->phase_depth - 1].return_esp == esp)
        th->phase_depth--;
    const struct x86_probe *p = probe ? find_probe(t, linear) : NULL;
    if (p && p->kind == X86_PROBE_PHASE) {
        uint64_t return_eip;
        /* a jump back to the function's own first instruction is no new activation (a tail
         * call into another phase function is one: it returns with its caller) */
        bool entered_again = th->phase_depth &&
                             th->phases[th->phase_depth - 1].function == linear &&
                             th->phases[th->phase_depth - 1].return_esp == esp_after_return;
        /* the return address the call pushed */
        if (!entered_again &&
            x86_peek(cpu, code64 ? esp : cpu->seg[X86_SEG_SS].base + esp, slot, &return_eip)) {
            if (th->phase_depth == X86_PHASE_STACK_MAX) {
                /* missed returns (a longjmp, an unwound stack): forget the outermost */
                memmove(th->phases, th->phases + 1, sizeof(th->phases[0]) * (X86_PHASE_STACK_MAX - 1));
                th->phase_depth--;
            }
            th->phases[th->phase_depth++] = (struct x86_phase_frame){
                linear, return_eip, esp_after_return, p->phase };
        }
    }
    if (p && p->kind == X86_PROBE_SWITCH) {
        unsigned next = code64 ? p->next_register64 : p->next_register;
        unsigned previous = code64 ? p->previous_register64 : p->previous_register;
        /* the first thread has no name until it switches away: it is the previous one */
        if (th->id == 0 && t->current[cpu->index] == cpu->index)
            th->id = trace_register(cpu, previous);
        arm_return_watch(t);
        phase_changed_from(t, before);
        x86_trace_switch(t, trace_register(cpu, next));
        return;
    }
    arm_return_watch(t);
    phase_changed_from(t, before);
}

/* ------------------------------------------------------------------ delivery and IRET */

void x86_trace_delivered(struct x86_trace *t, uint8_t vector, uint8_t origin, uint8_t from_cpl,
                         bool has_error_code, uint32_t error_code)
{
    struct x86_trace_thread *th = x86_trace_running(t);
    /* the rules look at what was in service before this event (the seed notes' Linux rules).
     * Deferred work (a softirq, a tasklet) and whatever follows an interrupt's handler in its
     * thread (a reschedule before its IRET) run with IF = 1: an interrupt nesting there is
     * how Linux works, not a bug. Without phases, anything in service counts. */
    uint8_t phase = x86_trace_phase(t);
    bool deferred = t->phases_known && phase != X86IRQ_PHASE_CRITICAL &&
                    phase != X86IRQ_PHASE_IMMEDIATE;
    if (in_service(t, HARDWARE) && !deferred) {
        /* the handler the gate led to, where the core is now: one the kernel runs in any
         * context (X86_PROBE_ANY_CONTEXT) takes an exception anywhere */
        const struct x86_cpu *cpu = t->running;
        uint64_t handler = cpu->mode == X86_MODE_64
                               ? cpu->rip
                               : (uint32_t)(cpu->seg[X86_SEG_CS].base + x86_eip(cpu));
        const struct x86_probe *p = t->probe_count ? find_probe(t, handler) : NULL;
        bool any_context = p && p->kind == X86_PROBE_ANY_CONTEXT;
        if (origin == X86IRQ_ORIGIN_HARDWARE)
            emit_rule(t, X86IRQ_RULE_IRQ_IN_IRQ,
                      "a hardware interrupt nested inside another one", 0, t->raising_eip,
                      t->raising_cs);
        else if (origin != X86IRQ_ORIGIN_NMI && !any_context)
            emit_rule(t, X86IRQ_RULE_EXCEPTION_IN_IRQ,
                      "an exception raised while a hardware interrupt is serviced", 0,
                      t->raising_eip, t->raising_cs);
    }
    if (th->depth < X86_NESTING_MAX)
        th->stack[th->depth] = (struct x86_nesting_entry){ t->running->cycles, vector, origin,
                                                           (uint8_t)th->phase_depth };
    th->depth++;
    if (th->depth > t->max_depth)
        t->max_depth = th->depth;
    if (origin == X86IRQ_ORIGIN_HARDWARE || origin == X86IRQ_ORIGIN_NMI)
        t->running->irq_user_reported = 0; /* the rule reports once per interrupt */
    x86_trace_update_user_watch(t);
    x86irq_trace_event e = { .kind = X86IRQ_TRACE_DELIVER, .vector = vector, .origin = origin,
                             .from_cpl = from_cpl, .has_error_code = has_error_code,
                             .error_code = error_code, .gate = t->running->last_gate_type,
                             .esp = trace_register(t->running, X86_ESP),
                             .ss = t->running->seg[X86_SEG_SS].selector };
    x86_trace_emit(t, &e);
    t->handler_pending[t->running->index] = true;
}

void x86_trace_iret(struct x86_trace *t, bool outer, bool to_next)
{
    struct x86_trace_thread *th = x86_trace_running(t);
    uint8_t vector = 0, origin = 0;
    /* an IRET to the next instruction returns from no event: it serializes (SDM Vol. 3 8.3;
     * Linux's 32-bit sync_core()), and is no trace event */
    if (to_next)
        return;
    if (th->depth == 0) {
        /* an IRET to an outer level with nothing in service is how kernels enter user mode */
        if (!outer)
            x86_trace_rule(t, X86IRQ_RULE_IRET_UNMATCHED, "IRET with nothing in service");
    } else {
        th->depth--;
        if (th->depth < X86_NESTING_MAX) {
            vector = th->stack[th->depth].vector;
            origin = th->stack[th->depth].origin;
            /* phase functions entered inside the event are over with it */
            uint8_t before = x86_trace_phase(t);
            if (th->phase_depth > th->stack[th->depth].phase_depth) {
                th->phase_depth = th->stack[th->depth].phase_depth;
                arm_return_watch(t);
            }
            x86irq_trace_event e = { .kind = X86IRQ_TRACE_IRET, .vector = vector,
                                     .origin = origin };
            x86_trace_emit(t, &e);
            phase_changed_from(t, before);
            x86_trace_update_user_watch(t);
            return;
        }
        x86_trace_update_user_watch(t);
    }
    x86irq_trace_event e = { .kind = X86IRQ_TRACE_IRET, .vector = vector, .origin = origin };
    x86_trace_emit(t, &e);
}

/* ------------------------------------------------------------------ the machine's calls */

void x86_trace_set_hook(struct x86_trace *t, uint32_t mask, x86irq_trace_fn fn, void *opaque)
{
    t->fn = fn;
    t->opaque = opaque;
    t->mask = fn ? (mask & X86IRQ_TRACE_ALL) : 0;
    /* what was in service is forgotten: a listener sees events from now on */
    for (unsigned i = 0; i < t->thread_count; i++) {
        t->threads[i].depth = 0;
        t->threads[i].phase_depth = 0;
    }
    x86_trace_refresh_cores(t);
}

void x86_trace_set_mask(struct x86_trace *t, uint32_t mask)
{
    t->mask = t->fn ? (mask & X86IRQ_TRACE_ALL) : 0;
    x86_trace_refresh_cores(t);
}

void x86_trace_set_rules(struct x86_trace *t, uint32_t rules)
{
    t->rules = rules;
    x86_trace_refresh_cores(t);
}

void x86_trace_refresh_cores(struct x86_trace *t)
{
    struct x86_cpu *running = t->running;
    for (unsigned i = 0; i < t->core_count; i++) {
        t->running = t->cores[i];
        arm_return_watch(t);
        x86_trace_update_user_watch(t);
    }
    t->running = running;
}
