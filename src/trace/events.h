/* Interrupt trace events and the nesting tracker (the library side of observability).
 *
 * Every stage of an interrupt's way reports an x86irq_trace_event to the embedder's hook when
 * its kind is in the subscription mask. While anybody listens, the machine also keeps the stack
 * of events in service (pushed on delivery, popped on IRET) and checks the nesting rules
 * against it. Nobody listening costs one mask test per site. */
#ifndef X86IRQ_TRACE_EVENTS_H
#define X86IRQ_TRACE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "x86irq/x86irq.h"

#define X86_NESTING_MAX 64

struct x86_nesting_entry {
    uint64_t cycle;
    uint8_t vector;
    uint8_t origin;      /* x86irq_event_origin */
};

struct x86_trace {
    uint32_t mask;
    x86irq_trace_fn fn;
    void *opaque;
    uint32_t rules;      /* nesting rules that report */
    struct x86_nesting_entry stack[X86_NESTING_MAX];
    unsigned depth;      /* entries in use (deeper nesting is counted, not stored) */
    unsigned max_depth;
    bool handler_pending; /* a delivery completed: the next instruction is the handler's */
    /* EIP -> "symbol+offset" for the events' symbol field: storms repeat a few EIPs, and
     * formatting each anew was most of a listener's cost. Emptied when symbols change. */
    struct x86_trace_symbol {
        uint32_t eip;
        bool valid;
        char text[64];
    } symbol_cache[64];
};

struct x86irq_machine;

static inline bool x86_trace_on(const struct x86_trace *t, unsigned kind)
{
    return (t->mask >> kind) & 1;
}

/* Fill cycle, CS, EIP and CPL from the core where the caller left them 0, and report it. */
void x86_trace_emit(struct x86irq_machine *machine, x86irq_trace_event *event);
/* A delivery completed (DELIVER, push, the rules). origin: x86irq_event_origin. */
void x86_trace_delivered(struct x86irq_machine *machine, uint8_t vector, uint8_t origin,
                         uint8_t from_cpl, bool has_error_code, uint32_t error_code);
/* An IRET completed; outer: it returned to an outer privilege level. */
void x86_trace_iret(struct x86irq_machine *machine, bool outer);
/* The user-access-in-irq rule fired for the linear address. */
void x86_trace_user_access(struct x86irq_machine *machine, uint32_t linear);
/* Recompute whether the user-access-in-irq rule watches (after the stack or the rules
 * changed); starting to watch empties the TLB so user pages are walked again. */
void x86_trace_update_user_watch(struct x86irq_machine *machine);
/* A nesting rule fired. */
void x86_trace_rule(struct x86irq_machine *machine, x86irq_nesting_rule rule, const char *detail);

#endif
