/* A tiny IA-32e kernel for the long-mode guests: a GDT with 64-bit and compatibility-mode
 * segments and a 64-bit TSS, an IDT of 16-byte gates (SDM Vol. 3 6.14.1) that all lead to one
 * C dispatcher with a 64-bit trap frame, IST stacks (6.14.5), ring 3 in 64-bit or
 * compatibility mode, SYSCALL/SYSRET and SWAPGS set-up, and a way to catch a fault and resume
 * after the faulting instruction. */
#ifndef KERNEL64_H
#define KERNEL64_H

#include "guest64.h"

/* GDT selectors. The order is the one SYSCALL/SYSRET imply (SDM Vol. 2 SYSRET): STAR[47:32] =
 * KERNEL_CS (SS = +8), STAR[63:48] = USER32_CS (SYSRET to 64-bit: CS = +16, SS = +8). */
#define KERNEL_CS 0x08     /* 64-bit code, DPL 0 (L=1, D=0) */
#define KERNEL_DS 0x10     /* data, DPL 0 */
#define USER32_CS 0x1B     /* compatibility-mode code, DPL 3 (L=0, D=1) */
#define USER_DS 0x23       /* data, DPL 3 */
#define USER_CS 0x2B       /* 64-bit code, DPL 3 */
#define KERNEL32_CS 0x30   /* compatibility-mode code, DPL 0 */
#define TSS_SELECTOR 0x38  /* 16-byte 64-bit TSS descriptor (slots 7 and 8) */
#define GDT_FREE 9         /* first slot tests may fill with gdt_set */
#define GDT_SLOTS 16

#define GATE_INTERRUPT 0x8E  /* P=1, type 0xE: 64-bit interrupt gate */
#define GATE_TRAP 0x8F       /* P=1, type 0xF: 64-bit trap gate */

/* The 64-bit TSS (SDM Vol. 3 8.7): stack pointers for rings 0-2 and the seven IST stacks */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];   /* ist[0] is IST1 */
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

/* What the entry stubs and the CPU leave on the stack, lowest address first */
struct trap_frame {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t vector, error_code;  /* the stub pushes the vector (and 0 for no error code) */
    uint64_t rip, cs, rflags;     /* pushed by the CPU ... */
    uint64_t rsp, ss;             /* ... always, in 64-bit mode (SDM Vol. 3 6.14.2) */
};

typedef void (*trap_handler)(struct trap_frame *frame);

/* Build and load the GDT, the TSS (RSP0 and IST1-7 stacks), the IDT; all vectors go to the
 * default handler (which reports and exits 100 + vector) until trap_set_handler. */
void kernel_init(void);
/* A C handler for a vector: gate_type GATE_INTERRUPT or GATE_TRAP, dpl 0-3, ist 0-7. */
void trap_set_handler(unsigned vector, trap_handler handler, uint8_t gate_type, uint8_t dpl,
                      unsigned ist);
/* A raw gate: any offset, selector, type/attribute byte (P, DPL, type) and IST index */
void idt_set_gate(unsigned vector, uint64_t offset, uint16_t selector, uint8_t type_attr,
                  unsigned ist);
/* The vector's entry stub (which joins the C dispatcher) */
uint64_t trap_stub_address(unsigned vector);
/* A GDT descriptor (8 bytes) */
void gdt_set(unsigned slot, uint64_t descriptor);
uint64_t gdt_get(unsigned slot);
struct tss64 *kernel_tss(void);
/* The IST stacks (1-7, 8 KiB each) and the ring-0 stack (RSP0) */
uint64_t ist_stack_top(unsigned ist);
uint64_t ist_stack_bottom(unsigned ist);
uint64_t kernel_stack_top(void);

/* Run fn(arg) in ring 3, 64-bit mode (CS = USER_CS), on its own stack, with RFLAGS.IF=1;
 * returns when it calls user_return() (int 0x7F). */
void run_in_user_mode(void (*fn)(uint64_t), uint64_t arg);
/* The same with any code selector (USER32_CS: fn is .code32, the argument in EDI) */
void run_in_user_cs(void (*fn)(uint64_t), uint64_t arg, uint16_t cs);
void user_return(void) __attribute__((noreturn));
uint64_t user_stack_top(void);

/* SYSCALL/SYSRET (SDM Vol. 2 SYSCALL): EFER.SCE=1, STAR with the selectors above, LSTAR =
 * entry, SFMASK = the RFLAGS bits SYSCALL clears. */
void syscall_setup(void (*entry)(void), uint64_t sfmask);

/* Faults a test provokes: fault_catch records the frame in last_fault and, when armed with
 * CATCH(), resumes at the end of the CATCH'ed instructions with the RSP, CS and SS that were
 * current when it was armed. Install it with catch_exceptions() or trap_set_handler. */
struct fault_record {
    uint64_t count, vector, error_code, rip, cs, rflags, rsp, ss;
    uint64_t cr2;         /* read in the handler */
    uint64_t frame;       /* address of the CPU-pushed RIP: where the frame lies */
    uint64_t handler_rsp; /* RSP inside the handler (the dispatcher's C stack) */
    uint64_t handler_rflags;
};
extern volatile struct fault_record last_fault;
extern volatile uint64_t fault_resume, fault_resume_rsp, fault_resume_cs, fault_resume_ss;
void fault_catch(struct trap_frame *frame);
/* fault_catch on vectors 0-31 except NMI (interrupt gates, DPL 0, no IST) */
void catch_exceptions(void);
void fault_reset(void);  /* last_fault.count = 0, vector = ~0 */

/* Inline assembly around instructions that may fault (extended asm: write registers as %%);
 * after a fault execution continues at label 9 below them. The caller's clobbers must include
 * "r11" and "memory". */
#define CATCH(insns)                                                                              \
    "lea 9f(%%rip), %%r11\n\t"                                                                     \
    "mov %%r11, fault_resume(%%rip)\n\t"                                                           \
    "mov %%rsp, fault_resume_rsp(%%rip)\n\t"                                                       \
    "mov %%cs, %%r11\n\t"                                                                          \
    "mov %%r11, fault_resume_cs(%%rip)\n\t"                                                        \
    "mov %%ss, %%r11\n\t"                                                                          \
    "mov %%r11, fault_resume_ss(%%rip)\n\t"                                                        \
    insns "\n"                                                                                     \
    "9:\n\t"                                                                                       \
    "movq $0, fault_resume(%%rip)\n\t"

/* the exception's name from its vector */
const char *exception_name(unsigned vector);

/* SDM behaviour QEMU does not have: ok() when it holds; otherwise, unless the guest runs
 * with the argument "strict" (the emulator's runs), a TAP skip naming the difference. */
int sdm_ok(int condition, const char *qemu_differs, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int strict_mode(void);
void skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
