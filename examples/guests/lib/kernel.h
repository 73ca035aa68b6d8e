/* A tiny protected-mode kernel for the bundled guests: a GDT with ring-0 and ring-3 flat
 * segments and a TSS, an IDT whose 256 gates all lead to one C dispatcher with a trap frame,
 * and helpers to enter ring 3. Enough to show faults, traps, int n, privilege changes and
 * demand paging on libx86irq. */
#ifndef KERNEL_H
#define KERNEL_H

#include "guest.h"

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_CS (0x18 | 3)
#define USER_DS (0x20 | 3)
#define TSS_SELECTOR 0x28
#define HANDLER_TSS_SELECTOR 0x30  /* the task behind trap_set_task's task gate */

/* A 32-bit task-state segment (SDM Vol. 3 7.2.1) */
struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
} __attribute__((packed));

/* What the entry stubs and the CPU leave on the stack, lowest address first */
struct trap_frame {
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax; /* pusha */
    uint32_t es, ds;               /* the interrupted code's data segments */
    uint32_t vector, error_code;   /* the stub pushes the vector (and 0 for no error code) */
    uint32_t eip, cs, eflags;      /* pushed by the CPU */
    uint32_t user_esp, user_ss;    /* pushed by the CPU only on a privilege change */
};

typedef void (*trap_handler)(struct trap_frame *frame);

/* Build and load the GDT, the TSS (ring-0 stack), the IDT; all vectors go to the default
 * handler until trap_set_handler. */
void kernel_init(void);
/* Install a C handler for a vector; gate: 0x8E interrupt gate, 0x8F trap gate; dpl 0 or 3. */
void trap_set_handler(unsigned vector, trap_handler handler, uint8_t gate_type, uint8_t dpl);
/* Point vector's gate straight at an assembly entry (no C dispatcher, no trap frame). */
void trap_set_gate(unsigned vector, void (*entry)(void), uint8_t gate_type, uint8_t dpl);
/* Make vector a task gate: the event switches to a separate task that starts at entry on its
 * own stack, with the current CR3 (call after paging is set up). One such task. */
void trap_set_task(unsigned vector, void (*entry)(void), void *stack_top);
/* The kernel's task (TR = TSS_SELECTOR) and the task behind the task gate */
struct tss *kernel_task(void);
struct tss *handler_task(void);
/* Call fn(arg) in ring 3 on its own stack; returns when it calls user_return() (int 0x7F). */
void run_in_user_mode(void (*fn)(uint32_t), uint32_t arg);
void user_return(void) __attribute__((noreturn));
/* IRET into virtual-8086 mode at cs:ip with the stack ss:sp (DS, ES, FS, GS = ss) and the given
 * EFLAGS (VM is added); returns when the 8086 code runs int 0x7F (with IOPL 3). */
void run_in_vm86(uint32_t cs, uint32_t ip, uint32_t ss, uint32_t sp, uint32_t eflags);

/* the exception's name from its vector */
const char *exception_name(unsigned vector);

static inline uint32_t read_cr2(void) { uint32_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t read_esp(void) { uint32_t v; __asm__ volatile("mov %%esp, %0" : "=r"(v)); return v; }

#endif
