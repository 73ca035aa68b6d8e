/* Event delivery through the IVT (real mode) or the IDT (protected mode), IRET, and the
 * exception table (SDM Vol. 3 6.3, 6.12-6.15).
 */
#ifndef X86IRQ_IDT_IDT_H
#define X86IRQ_IDT_IDT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Where an event comes from: decides the gate DPL check, the EXT bit and the saved EIP. */
enum x86_event_source {
    X86_EVENT_EXCEPTION = 0,  /* detected by the processor */
    X86_EVENT_HARDWARE,       /* INTR / NMI pin */
    X86_EVENT_SOFTWARE,       /* int n */
    X86_EVENT_INT3,           /* int3 (CC): gate DPL checked */
    X86_EVENT_INTO,           /* into: gate DPL checked */
    X86_EVENT_INT1,           /* int1 / icebp (F1): no DPL check (SDM Vol. 3 6.12.1.1) */
};

enum x86_exception_class { X86_CLASS_FAULT, X86_CLASS_TRAP, X86_CLASS_ABORT, X86_CLASS_INTERRUPT,
                           X86_CLASS_RESERVED };
/* Double-fault classes, SDM Vol. 3 6.15 Table 6-4/6-5 */
enum x86_double_fault_class { X86_DF_BENIGN, X86_DF_CONTRIBUTORY, X86_DF_PAGE_FAULT };

struct x86_exception_info {
    const char *mnemonic;     /* "#DE" */
    const char *name;         /* "divide error" */
    uint8_t class_;           /* enum x86_exception_class */
    uint8_t has_error_code;
    uint8_t double_fault_class;
};

/* The dispatch table: vector -> decoded gate (and the handler's code segment), valid while
 * epoch == cpu->table_epoch. Filled on first delivery through a vector; the bytes it was decoded
 * from are watched (x86_table_watch), so delivery does not parse the gate or the code-segment
 * descriptor again until LIDT/LGDT/LLDT, a paging change or a store into them. */
struct x86_gate_entry {
    uint32_t epoch;
    uint8_t type;            /* descriptor bits 40-44: S and type (0x05, 0x06, 0x07, 0x0E, 0x0F) */
    uint8_t dpl;
    uint8_t present;
    uint8_t target_epoch_ok; /* target holds the checked code segment for this epoch */
    uint16_t selector;       /* the code segment (or, for a task gate, the TSS) */
    uint8_t ist;             /* IA-32e mode: the interrupt stack table slot (0: none) */
    uint64_t offset;         /* the handler's RIP (16-bit gates: 16 bits) */
    uint32_t target_epoch;
    struct x86_segment target; /* the handler's code segment: code, present, selector not null */
};
/* The ring stacks a privilege change loads: SS descriptor cache per new CPL, keyed by the SS
 * selector the TSS gave (the TSS itself is read every time: kernels rewrite ESP0). */
struct x86_stack_entry {
    uint32_t epoch;
    uint16_t selector;
    struct x86_segment ss;
};
/* The code segment the last protected-mode IRET returned to, checked, keyed by its selector
 * (RPL included: the checks depend on it); a handler returns to the same place again and again. */
struct x86_return_entry {
    uint32_t epoch;
    uint16_t selector;
    struct x86_segment cs;
};
/* Data and stack segment loads (mov/pop to DS, ES, FS, GS, SS): the checked descriptor cache,
 * keyed by selector (RPL included), the CPL and whether SS was loaded (its checks differ).
 * Kernel entry and exit paths load the same few selectors again and again. */
struct x86_segment_load_entry {
    uint32_t epoch;
    uint16_t selector;
    uint8_t cpl;
    uint8_t stack;
    struct x86_segment segment;
};
#define X86_SEGMENT_LOAD_CACHE 8
struct x86_gate_cache {
    struct x86_gate_entry gates[256];
    struct x86_stack_entry stacks[3];
    struct x86_return_entry iret;
    struct x86_segment_load_entry loads[X86_SEGMENT_LOAD_CACHE];
};

/* Vectors 0-31. */
extern const struct x86_exception_info x86_exception_table[32];

/* Deliver event `vector` with return address return_eip: pushes the frame, loads CS:EIP from
 * the gate, sets cpu->rip (not next_rip: it is called between instructions). Faults found
 * during delivery are raised with x86_raise (the run loop applies the double-fault rules). */
void x86_deliver_event(struct x86_cpu *cpu, uint8_t vector, enum x86_event_source source,
                       bool has_error_code, uint32_t error_code, uint64_t return_eip);
/* The same in IA-32e mode, and IRET in 64-bit mode (deliver64.c) */
void x86_deliver_long_mode(struct x86_cpu *cpu, uint8_t vector, enum x86_event_source source,
                           bool has_error_code, uint32_t error_code, uint64_t return_rip);
void x86_iret_long_mode(struct x86_cpu *cpu, unsigned opsize);

/* Why a task switch happens: decides busy bits, NT and the back-link (SDM Vol. 3 7.3). */
enum x86_task_switch_reason {
    X86_TASK_SWITCH_JMP,
    X86_TASK_SWITCH_CALL,
    X86_TASK_SWITCH_IRET,
    X86_TASK_SWITCH_INTERRUPT,   /* through a task gate in the IDT */
};

/* Switch to the task whose TSS descriptor `selector` names (task.c). The caller has done the
 * privilege checks of its own path (gate DPL...). return_eip is saved in the old TSS. An
 * exception's error code is pushed on the new task's stack. Sets cpu->rip and next_rip. */
void x86_task_switch(struct x86_cpu *cpu, uint16_t selector, enum x86_task_switch_reason reason,
                     uint32_t return_eip, bool has_error_code, uint32_t error_code);
/* IRET with EFLAGS.NT set: return to the task named by the current TSS's back-link. */
void x86_task_return(struct x86_cpu *cpu);
/* far JMP / CALL (kind: enum x86_far_kind) to a TSS descriptor or a task gate */
void x86_task_far_transfer(struct x86_cpu *cpu, uint16_t selector, uint64_t descriptor, int kind);

#endif
