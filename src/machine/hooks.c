/* The embedder's hooks (x86irq_hook_add): any number of listeners per kind, each with its
 * filter, called in the order added. The cores see only what the hooks need: the trace's
 * subscription is the union of the trace masks, instruction and fetch hooks become code
 * ranges (blocks outside them stay in the fast loop), data hooks turn on the cores' data
 * watch, port hooks their port callback. A hook may add and remove hooks (itself too): a
 * removal during a call only marks the entry, and the list is compacted when no call is
 * under way. */
#include "machine/machine.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/mmu.h"

#define INTERRUPT_KINDS                                                                    \
    (X86IRQ_TRACE_BIT(X86IRQ_TRACE_EXCEPTION) | X86IRQ_TRACE_BIT(X86IRQ_TRACE_ACCEPT) |   \
     X86IRQ_TRACE_BIT(X86IRQ_TRACE_DELIVER))
#define MEMORY_ACCESS                                                                      \
    (X86IRQ_ACCESS_READ | X86IRQ_ACCESS_WRITE | X86IRQ_ACCESS_FETCH | X86IRQ_ACCESS_PHYSICAL)
#define PORT_ACCESS (X86IRQ_ACCESS_READ | X86IRQ_ACCESS_WRITE)

void x86irq_hook_filter_init(x86irq_hook_filter *filter)
{
    if (!filter)
        return;
    memset(filter, 0, sizeof(*filter)); /* first 0, access 0: every kind */
    filter->size = sizeof(*filter);
    filter->last = UINT64_MAX;
    filter->trace_mask = X86IRQ_TRACE_ALL;
}

/* ------------------------------------------------------------------ what the cores see */

static bool overlaps(uint64_t first, uint64_t length, const x86irq_hook_filter *f)
{
    uint64_t last = first + (length ? length - 1 : 0);
    if (last < first)
        last = UINT64_MAX;
    return first <= f->last && f->first <= last;
}

static bool fetch_hook(const struct x86_hook *h)
{
    return h->kind == X86IRQ_HOOK_MEMORY && (h->filter.access & X86IRQ_ACCESS_FETCH);
}

/* Rebuild what the cores see from the live hooks. Out of memory for the code ranges: false,
 * and the previous ranges stay (after a removal they are wider than needed, which is safe:
 * the hooks check each instruction themselves). */
static bool refresh(x86irq_machine *m)
{
    struct x86_hooks *hs = &m->hooks;
    memset(hs->live, 0, sizeof(hs->live));
    hs->data_access = false;
    size_t ranges = 0;
    for (size_t i = 0; i < hs->count; i++) {
        const struct x86_hook *h = &hs->list[i];
        if (!h->handle)
            continue;
        hs->live[h->kind]++;
        if (h->kind == X86IRQ_HOOK_MEMORY &&
            (h->filter.access & (X86IRQ_ACCESS_READ | X86IRQ_ACCESS_WRITE)))
            hs->data_access = true;
        if (h->kind == X86IRQ_HOOK_INSTRUCTION || fetch_hook(h))
            ranges++;
    }
    bool fitted = true;
    struct x86_code_ranges *code = NULL;
    if (ranges) {
        code = malloc(sizeof(*code) + ranges * sizeof(code->range[0]));
        if (code) {
            code->count = 0;
            for (size_t i = 0; i < hs->count; i++) {
                const struct x86_hook *h = &hs->list[i];
                if (h->handle && (h->kind == X86IRQ_HOOK_INSTRUCTION || fetch_hook(h)))
                    code->range[code->count++] = (struct x86_code_range){
                        h->filter.first, h->filter.last,
                        fetch_hook(h) && (h->filter.access & X86IRQ_ACCESS_PHYSICAL),
                    };
            }
        } else {
            fitted = false;
        }
    }
    if (fitted) {
        /* no core is inside its range check now (hooks run from instructions, events and
         * the trace, between those checks): the old ranges can go */
        for (unsigned i = 0; i < m->core_count; i++) {
            m->cpus[i]->code_ranges = code;
            x86_cpu_renew(m->cpus[i]); /* the blocks' answers for the old ranges are stale */
        }
        free(hs->code);
        hs->code = code;
    }
    for (unsigned i = 0; i < m->core_count; i++)
        m->cpus[i]->port_hooked = hs->live[X86IRQ_HOOK_PORT] > 0;
    x86_machine_trace_subscribe(m);
    x86_machine_hooks_changed(m); /* the data watch, and every core leaves its loop */
    return fitted;
}

static void compact(struct x86_hooks *hs)
{
    size_t kept = 0;
    for (size_t i = 0; i < hs->count; i++)
        if (hs->list[i].handle)
            hs->list[kept++] = hs->list[i];
    hs->count = kept;
}

uint32_t x86_machine_hooks_trace_mask(const x86irq_machine *m)
{
    uint32_t mask = 0;
    for (size_t i = 0; i < m->hooks.count; i++) {
        const struct x86_hook *h = &m->hooks.list[i];
        if (h->handle && h->kind == X86IRQ_HOOK_TRACE)
            mask |= h->filter.trace_mask;
        else if (h->handle && h->kind == X86IRQ_HOOK_INTERRUPT)
            mask |= h->filter.trace_mask & INTERRUPT_KINDS;
    }
    return mask;
}

/* ------------------------------------------------------------------ add, remove */

static x86irq_status check_filter(x86irq_machine *m, x86irq_hook_kind kind,
                                  x86irq_hook_filter *f)
{
    if (f->first > f->last)
        return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_hook_add: the range's first (0x%llx) is above its "
                                 "last (0x%llx)",
                                 (unsigned long long)f->first, (unsigned long long)f->last);
    switch (kind) {
    case X86IRQ_HOOK_TRACE:
        if (!(f->trace_mask & X86IRQ_TRACE_ALL) || (f->trace_mask & ~X86IRQ_TRACE_ALL))
            return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                     "x86irq_hook_add: trace mask 0x%x names no trace kind or "
                                     "an unknown one",
                                     f->trace_mask);
        return X86IRQ_OK;
    case X86IRQ_HOOK_INTERRUPT:
        if (!(f->trace_mask & INTERRUPT_KINDS))
            return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                     "x86irq_hook_add: an interrupt hook's trace mask must "
                                     "name EXCEPTION, ACCEPT or DELIVER");
        f->trace_mask &= INTERRUPT_KINDS;
        return X86IRQ_OK;
    case X86IRQ_HOOK_MEMORY:
    case X86IRQ_HOOK_PORT: {
        uint32_t allowed = kind == X86IRQ_HOOK_MEMORY ? MEMORY_ACCESS : PORT_ACCESS;
        if (f->access & ~allowed)
            return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                     "x86irq_hook_add: access bits 0x%x are not for a %s hook",
                                     f->access & ~allowed,
                                     kind == X86IRQ_HOOK_MEMORY ? "memory" : "port");
        uint32_t kinds = X86IRQ_ACCESS_READ | X86IRQ_ACCESS_WRITE |
                         (kind == X86IRQ_HOOK_MEMORY ? X86IRQ_ACCESS_FETCH : 0);
        if (!(f->access & kinds))
            f->access |= kinds; /* no kind named: every kind */
        return X86IRQ_OK;
    }
    case X86IRQ_HOOK_INSTRUCTION:
    default:
        return X86IRQ_OK;
    }
}

x86irq_status x86irq_hook_add(x86irq_machine *machine, x86irq_hook_kind kind,
                              const x86irq_hook_filter *filter, x86irq_hook_fn fn,
                              void *user_data, x86irq_hook_handle *handle)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if ((unsigned)kind >= X86IRQ_HOOK_KIND_COUNT)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_hook_add: %d is not a hook kind", (int)kind);
    if (!fn)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_hook_add: no function");
    x86irq_hook_filter f;
    x86irq_hook_filter_init(&f);
    if (filter) {
        /* a newer caller's filter may be longer: the fields this library knows are used */
        if (filter->size < sizeof(f))
            return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                     "x86irq_hook_add: filter size %zu is smaller than %zu "
                                     "(set it with x86irq_hook_filter_init)",
                                     filter->size, sizeof(f));
        memcpy(&f, filter, sizeof(f));
        f.size = sizeof(f);
    }
    x86irq_status bad = check_filter(machine, kind, &f);
    if (bad != X86IRQ_OK)
        return bad;
    struct x86_hooks *hs = &machine->hooks;
    if (hs->count == hs->capacity) {
        size_t capacity = hs->capacity ? 2 * hs->capacity : 8;
        struct x86_hook *list = realloc(hs->list, capacity * sizeof(*list));
        if (!list)
            return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY,
                                     "x86irq_hook_add: out of memory");
        hs->list = list;
        hs->capacity = capacity;
    }
    x86irq_hook_handle h = ++hs->next_handle;
    hs->list[hs->count++] = (struct x86_hook){ h, kind, f, fn, user_data };
    if (!refresh(machine)) {
        hs->count--;
        refresh(machine); /* as it was: its ranges are the ones kept */
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "x86irq_hook_add: out of memory");
    }
    if (handle)
        *handle = h;
    return X86IRQ_OK;
}

x86irq_status x86irq_hook_remove(x86irq_machine *machine, x86irq_hook_handle handle)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    struct x86_hooks *hs = &machine->hooks;
    for (size_t i = 0; i < hs->count; i++) {
        if (!handle || hs->list[i].handle != handle)
            continue;
        hs->list[i].handle = 0;
        if (!hs->calling)
            compact(hs);
        refresh(machine); /* out of memory: the old, wider code ranges stay */
        return X86IRQ_OK;
    }
    return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                             "x86irq_hook_remove: no hook %llu", (unsigned long long)handle);
}

void x86_machine_hooks_free(x86irq_machine *m)
{
    free(m->hooks.list);
    free(m->hooks.code);
    m->hooks = (struct x86_hooks){ 0 };
}

/* ------------------------------------------------------------------ calls */

typedef bool (*hook_match)(const struct x86_hook *h, const x86irq_hook_event *event);

/* Call every live hook of the event's kind that match accepts. The list may grow (realloc)
 * or lose entries during a call: each entry is read afresh, and hooks added during the call
 * are not called for this event. */
static void call_hooks(x86irq_machine *m, x86irq_hook_event *event, hook_match match)
{
    struct x86_hooks *hs = &m->hooks;
    size_t count = hs->count;
    hs->calling++;
    m->callback_depth++; /* the contract: no run, load or destroy from here */
    for (size_t i = 0; i < count && i < hs->count; i++) {
        struct x86_hook h = hs->list[i];
        if (!h.handle || h.kind != (x86irq_hook_kind)event->kind || !match(&h, event))
            continue;
        h.fn(m, event, h.user_data);
    }
    m->callback_depth--;
    if (--hs->calling == 0)
        compact(hs);
}

static x86irq_hook_event new_event(x86irq_hook_kind kind, unsigned cpu, uint64_t cycle)
{
    x86irq_hook_event e;
    memset(&e, 0, sizeof(e));
    e.size = sizeof(e);
    e.kind = kind;
    e.cpu = cpu;
    e.cycle = cycle;
    e.physical = UINT64_MAX;
    return e;
}

static bool match_trace(const struct x86_hook *h, const x86irq_hook_event *e)
{
    return (h->filter.trace_mask & X86IRQ_TRACE_BIT(e->trace->kind)) != 0;
}

static bool match_interrupt(const struct x86_hook *h, const x86irq_hook_event *e)
{
    return match_trace(h, e) && e->trace->vector >= h->filter.first &&
           e->trace->vector <= h->filter.last;
}

void x86_machine_hooks_trace(x86irq_machine *m, const x86irq_trace_event *event)
{
    if (m->hooks.live[X86IRQ_HOOK_TRACE]) {
        x86irq_hook_event e = new_event(X86IRQ_HOOK_TRACE, event->core, event->cycle);
        e.trace = event;
        call_hooks(m, &e, match_trace);
    }
    if (m->hooks.live[X86IRQ_HOOK_INTERRUPT] && (X86IRQ_TRACE_BIT(event->kind) & INTERRUPT_KINDS)) {
        x86irq_hook_event e = new_event(X86IRQ_HOOK_INTERRUPT, event->core, event->cycle);
        e.trace = event;
        call_hooks(m, &e, match_interrupt);
    }
}

static bool match_instruction(const struct x86_hook *h, const x86irq_hook_event *e)
{
    return e->instruction->linear >= h->filter.first && e->instruction->linear <= h->filter.last;
}

static bool match_access(const struct x86_hook *h, const x86irq_hook_event *e)
{
    if (!(h->filter.access & e->access))
        return false;
    if (h->kind == X86IRQ_HOOK_PORT)
        return e->address >= h->filter.first && e->address <= h->filter.last;
    if (h->filter.access & X86IRQ_ACCESS_PHYSICAL)
        return e->physical != UINT64_MAX && overlaps(e->physical, e->length, &h->filter);
    return overlaps(e->address, e->length, &h->filter);
}

bool x86_machine_hooks_want_instruction(const x86irq_machine *m, const struct x86_cpu *cpu,
                                        uint64_t linear, unsigned length)
{
    uint64_t physical = UINT64_MAX;
    bool translated = false; /* only for a physical fetch range, once */
    for (size_t i = 0; i < m->hooks.count; i++) {
        const struct x86_hook *h = &m->hooks.list[i];
        if (!h->handle)
            continue;
        if (h->kind == X86IRQ_HOOK_INSTRUCTION && linear >= h->filter.first &&
            linear <= h->filter.last)
            return true;
        if (fetch_hook(h)) {
            bool physical_range = h->filter.access & X86IRQ_ACCESS_PHYSICAL;
            if (physical_range && !translated) {
                if (!x86_peek_translate(cpu, linear, &physical))
                    physical = UINT64_MAX;
                translated = true;
            }
            if (physical_range ? physical != UINT64_MAX && overlaps(physical, length, &h->filter)
                               : overlaps(linear, length, &h->filter))
                return true;
        }
    }
    return false;
}

void x86_machine_hooks_instruction(x86irq_machine *m, struct x86_core *core,
                                   const x86irq_instruction_info *info)
{
    struct x86_cpu *cpu = &core->cpu;
    if (m->hooks.live[X86IRQ_HOOK_INSTRUCTION]) {
        x86irq_hook_event e = new_event(X86IRQ_HOOK_INSTRUCTION, cpu->index, cpu->cycles);
        e.instruction = info;
        call_hooks(m, &e, match_instruction);
    }
    if (m->hooks.live[X86IRQ_HOOK_MEMORY] && m->hooks.code) {
        x86irq_hook_event e = new_event(X86IRQ_HOOK_MEMORY, cpu->index, cpu->cycles);
        e.instruction = info;
        e.address = info->linear;
        e.length = info->length;
        e.access = X86IRQ_ACCESS_FETCH;
        uint64_t physical;
        if (x86_peek_translate(cpu, info->linear, &physical))
            e.physical = physical;
        call_hooks(m, &e, match_access);
    }
}

void x86_machine_hooks_memory(x86irq_machine *m, struct x86_core *core, uint64_t linear,
                              unsigned size, bool write)
{
    if (!m->hooks.data_access)
        return;
    struct x86_cpu *cpu = &core->cpu;
    x86irq_hook_event e = new_event(X86IRQ_HOOK_MEMORY, cpu->index, cpu->cycles);
    e.address = linear;
    e.length = size;
    e.access = write ? X86IRQ_ACCESS_WRITE : X86IRQ_ACCESS_READ;
    uint64_t physical;
    if (x86_peek_translate(cpu, linear, &physical))
        e.physical = physical;
    call_hooks(m, &e, match_access);
}

void x86_machine_hooks_port(x86irq_machine *m, struct x86_core *core, uint16_t port,
                            unsigned size, uint32_t value, bool write)
{
    struct x86_cpu *cpu = &core->cpu;
    x86irq_hook_event e = new_event(X86IRQ_HOOK_PORT, cpu->index, cpu->cycles);
    e.address = port;
    e.length = size;
    e.value = value;
    e.access = write ? X86IRQ_ACCESS_WRITE : X86IRQ_ACCESS_READ;
    call_hooks(m, &e, match_access);
}
