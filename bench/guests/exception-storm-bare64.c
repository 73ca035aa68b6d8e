/* Benchmark guest: the exception storm with bare handlers in IA-32e mode, the counterpart of
 * exception-storm-bare.c: int 0x80 through a DPL-3 64-bit trap gate whose handler is a lone
 * IRETQ, and ud2 faults through an interrupt gate whose handler adds 2 to the saved RIP and
 * returns. Per event: the trigger, the 16-byte gate, the 64-bit frame (SS:RSP always pushed,
 * RSP aligned to 16), one or two handler instructions and IRETQ. The handlers count too (one
 * instruction each, the one difference from the 32-bit guest), so the guest can check that every
 * event arrived: it exits 1 otherwise. The counters have a page of their own: beside the IDT
 * and GDT (where the linker would put them) every store to them would take the emulator's
 * checked path for watched descriptor-table pages. */
#include "kernel64.h"

#define ROUNDS 5000000u

/* bare_counts[0]: int 0x80, [1]: #UD */
volatile uint64_t bare_counts[2] __attribute__((aligned(4096)));
extern void bare_syscall_entry(void), bare_invalid_opcode_entry(void);
__asm__(".text\n"
        "bare_syscall_entry:\n"
        "  incq bare_counts(%rip)\n"
        "  iretq\n"
        "bare_invalid_opcode_entry:\n"
        "  incq bare_counts+8(%rip)\n"
        "  addq $2, (%rsp)\n"          /* a fault's saved RIP is the ud2 itself */
        "  iretq\n");

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    idt_set_gate(0x80, (uint64_t)(uintptr_t)bare_syscall_entry, KERNEL_CS, GATE_TRAP | 3 << 5, 0);
    idt_set_gate(6, (uint64_t)(uintptr_t)bare_invalid_opcode_entry, KERNEL_CS, GATE_INTERRUPT, 0);
    uint64_t rounds = ROUNDS;
    __asm__ volatile("1: int $0x80\n"
                     "   ud2\n"
                     "   dec %0\n"
                     "   jnz 1b" : "+r"(rounds) : : "memory", "cc");
    uint64_t syscalls = bare_counts[0], faults = bare_counts[1];
    printf("exception-storm-bare64: events %lu (int 0x80 %lu, #UD %lu)\n", syscalls + faults,
           syscalls, faults);
    return rounds == 0 && syscalls == ROUNDS && faults == ROUNDS ? 0 : 1;
}
