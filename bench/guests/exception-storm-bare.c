/* Benchmark guest: the exception storm with bare handlers, to measure delivery itself.
 * int 0x80 through a DPL-3 trap gate whose handler is a lone iret, and ud2 faults (an
 * interrupt gate) whose handler advances the saved EIP past the ud2 and returns: per event,
 * the trigger, the IDT lookup, the frame, one or two handler instructions and IRET.
 * bench/run.sh divides the events by host time. */
#include "kernel.h"

#define ROUNDS 5000000u

extern void syscall_entry(void), invalid_opcode_entry(void);
__asm__(".text\n"
        "syscall_entry:\n"
        "  iret\n"
        "invalid_opcode_entry:\n"
        "  addl $2, (%esp)\n"          /* a fault's saved EIP is the ud2 itself */
        "  iret\n");

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_gate(0x80, syscall_entry, 0x8F, 3);
    trap_set_gate(6, invalid_opcode_entry, 0x8E, 0);
    uint32_t rounds = ROUNDS;
    __asm__ volatile("1: int $0x80\n"
                     "   ud2\n"
                     "   dec %0\n"
                     "   jnz 1b" : "+r"(rounds) : : "memory", "cc");
    printf("exception-storm-bare: events %u (int 0x80 and #UD, %u each)\n", 2 * ROUNDS, ROUNDS);
    return rounds == 0 ? 0 : 1;
}
