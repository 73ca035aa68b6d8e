/* Interrupt trace events and the nesting tracker (the library side of observability).
 *
 * Every stage of an interrupt's way reports an x86irq_trace_event to the embedder's hook when
 * its kind is in the subscription mask. While anybody listens, the machine also keeps, for each
 * guest thread, the stack of events in service (pushed on delivery, popped on IRET) and the
 * phase of interrupt handling it is in, and checks the nesting rules against them. Nobody
 * listening costs one mask test per site.
 *
 * Threads: a kernel switches threads inside interrupt handlers (preemption, a scheduler tick),
 * so what is in service belongs to a thread, not to the core. The guest names the thread it
 * switches to through the thread marker port (X86IRQ_THREAD_PORT), or a switch symbol names it
 * from a register (Linux: __switch_to_asm's next task); without either, the core has one
 * thread. Phases come from the phase marker port or from phase symbols: functions whose
 * execution is a phase, from their entry to their return (x86irq_set_phase_symbols). */
#ifndef X86IRQ_TRACE_EVENTS_H
#define X86IRQ_TRACE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86irq/x86irq.h"
#include "cpu/limits.h"

#define X86_NESTING_MAX 64
#define X86_PHASE_STACK_MAX 16

struct x86_nesting_entry {
    uint64_t cycle;
    uint8_t vector;
    uint8_t origin;        /* x86irq_event_origin */
    uint8_t phase_depth;   /* the thread's phase stack when it was delivered (IRET restores) */
};

/* A phase function in progress: entered at a probe, left when a block starts at its return
 * address with the stack pointer just above its return address. 64-bit: a 64-bit kernel's
 * functions, return addresses and stacks are all above 4 GiB. */
struct x86_phase_frame {
    uint64_t function;     /* the probe's address */
    uint64_t return_eip;   /* RIP in 64-bit code */
    uint64_t return_esp;   /* the stack pointer after the return: the entry's + 4 (+ 8 in
                              64-bit code) */
    uint8_t phase;
};

/* One guest thread as the tracker sees it */
struct x86_trace_thread {
    uint64_t id;                 /* the guest's name for it (0: the first, unnamed); 64-bit,
                                    since a 64-bit kernel names threads by task pointers */
    uint8_t phase;               /* the phase the marker port last set */
    unsigned depth;              /* events in service (deeper nesting is counted, not stored) */
    struct x86_nesting_entry stack[X86_NESTING_MAX];
    unsigned phase_depth;
    struct x86_phase_frame phases[X86_PHASE_STACK_MAX];
};

/* What a probe of the phase symbols does */
enum x86_probe_kind {
    X86_PROBE_PHASE = 0,         /* the function's execution is the probe's phase */
    X86_PROBE_SWITCH,            /* a thread switch: the next thread's ID in a register */
    /* an exception handler the kernel runs safely in any context (Linux's int3 and debug
     * entries: text patching, kprobes, breakpoints): an exception whose gate leads there is
     * no exception-in-irq */
    X86_PROBE_ANY_CONTEXT,
};

struct x86_probe {
    uint64_t address;            /* linear */
    uint8_t kind;                /* enum x86_probe_kind */
    uint8_t phase;               /* X86_PROBE_PHASE */
    /* X86_PROBE_SWITCH: the registers (enum x86_gpr) of the next and the previous thread's
     * IDs, read as 32 bits outside 64-bit mode; and those of 64-bit code, read in full (a
     * function whose calling convention differs by mode: Linux's __switch_to_asm takes them
     * in EDX, EAX on i386 and in RSI, RDI on x86-64) */
    uint8_t next_register;
    uint8_t previous_register;
    uint8_t next_register64;
    uint8_t previous_register64;
};

struct x86_cpu;
struct x86_symbol_table;

struct x86_trace {
    uint32_t mask;
    x86irq_trace_fn fn;
    void *opaque;
    uint32_t rules;      /* nesting rules that report */
    struct x86_cpu *running;          /* the core that runs: its state fills the events */
    struct x86_cpu *const *cores;     /* every core, index order */
    unsigned core_count;
    const struct x86_symbol_table *symbols; /* for the events' symbol field */
    struct x86_trace_thread *threads; /* threads[current[core]] runs on the core */
    unsigned thread_count, thread_capacity;
    unsigned current[X86_MAX_CORES];
    bool phases_known;   /* the guest marked a phase or phase symbols are set: the rules use
                            the phase (an interrupt in a softirq is no violation...) */
    unsigned max_depth;
    /* a delivery completed on the core: its next instruction is the handler's */
    bool handler_pending[X86_MAX_CORES];
    uint64_t raising_eip; /* the instruction that raised the event being delivered (RIP)... */
    uint16_t raising_cs;  /* ...in this code segment */
    struct x86_probe *probes;         /* sorted by address */
    uint64_t *probe_addresses;        /* the same addresses, for the core */
    unsigned probe_count;
    /* EIP -> "symbol+offset" for the events' symbol field: storms repeat a few EIPs, and
     * formatting each anew was most of a listener's cost. Emptied when symbols change. */
    struct x86_trace_symbol {
        uint64_t eip;             /* RIP in 64-bit code */
        bool valid;
        char text[64];
    } symbol_cache[64];
};

struct x86irq_machine;

static inline bool x86_trace_on(const struct x86_trace *t, unsigned kind)
{
    return (t->mask >> kind) & 1;
}

/* The state of the thread the running core runs */
struct x86_trace_thread *x86_trace_running(const struct x86_trace *t);

/* The phase the running thread is in: its innermost phase function, else its marked phase */
uint8_t x86_trace_phase(const struct x86_trace *t);

/* Create the tracker's state for the cores (an unnamed thread on each; core 0 runs); false when
 * out of memory. */
bool x86_trace_init(struct x86_trace *t, struct x86_cpu *const *cores, unsigned core_count);
void x86_trace_finish(struct x86_trace *t);

/* Fill cycle, CS, EIP and CPL from the running core where the caller left them 0, and report
 * it; _on: from this core (a LAPIC's event while another core runs). */
void x86_trace_emit(struct x86_trace *trace, x86irq_trace_event *event);
void x86_trace_emit_on(struct x86_trace *trace, struct x86_cpu *cpu, x86irq_trace_event *event);
/* A delivery completed (DELIVER, push, the rules). origin: x86irq_event_origin. */
void x86_trace_delivered(struct x86_trace *trace, uint8_t vector, uint8_t origin,
                         uint8_t from_cpl, bool has_error_code, uint32_t error_code);
/* An IRET completed; outer: it returned to an outer privilege level; to_next: to the instruction
 * after itself, at the same level (an IRET used to serialize, not to return from an event). */
void x86_trace_iret(struct x86_trace *trace, bool outer, bool to_next);
/* The user-access-in-irq rule fired for the linear address. */
void x86_trace_user_access(struct x86_trace *trace, uint32_t linear);
/* Recompute whether the user-access-in-irq rule watches (after the stack or the rules
 * changed); starting to watch empties the TLB so user pages are walked again. */
void x86_trace_update_user_watch(struct x86_trace *trace);
/* A nesting rule fired. */
void x86_trace_rule(struct x86_trace *trace, x86irq_nesting_rule rule, const char *detail);
/* The guest marked a phase (the phase marker port) or named the thread it switched to (the
 * thread marker port). */
void x86_trace_mark_phase(struct x86_trace *trace, uint8_t phase);
void x86_trace_switch(struct x86_trace *trace, uint64_t thread);
/* The core reached a probe or the watched return address (a block entry at linear). */
void x86_trace_code_watch(void *trace, uint64_t linear, bool probe);
/* Subscribe (the machine's x86irq_set_trace_hook), choose the rules; recompute what each core's
 * watches need (its return watch, the user-access rule) */
void x86_trace_set_hook(struct x86_trace *t, uint32_t mask, x86irq_trace_fn fn, void *opaque);
/* Another mask for the same listener: what is in service is kept. */
void x86_trace_set_mask(struct x86_trace *t, uint32_t mask);
void x86_trace_set_rules(struct x86_trace *t, uint32_t rules);
void x86_trace_refresh_cores(struct x86_trace *t);
/* Resolve a phase-symbol list (x86irq_set_phase_symbols) against the symbols into t's probes;
 * false with one line in error */
bool x86_trace_set_phase_symbols(struct x86_trace *t, const char *list, char *error,
                                 size_t error_size);

#endif
