/* Benchmark guest: the system-call storm of syscall-storm.c in IA-32e mode, with the same
 * mechanism: a 64-bit ring-3 loop calls int 0x80 through a DPL-3 64-bit trap gate whose
 * handler counts in kernel memory and returns with IRETQ, touching user memory between calls.
 * Every event is a privilege change both ways, the 64-bit TSS's RSP0, the 64-bit frame (SS:RSP
 * pushed, a null SS loaded) and IRETQ to ring 3. syscall-storm64.c does the same with
 * SYSCALL/SYSRET. The guest checks both counts and exits 1 when they are off. */
#include "kernel64.h"

#define ROUNDS 2000000u

volatile uint64_t kernel_calls;
static volatile uint64_t user_counter;

extern void int80_entry(void);
__asm__(".text\n"
        "int80_entry:\n"
        "  incq kernel_calls(%rip)\n"
        "  iretq\n");

static void user_loop(uint64_t rounds)
{
    while (rounds--) {
        user_counter++;
        __asm__ volatile("int $0x80" ::: "memory");
    }
    user_return();
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    idt_set_gate(0x80, (uint64_t)(uintptr_t)int80_entry, KERNEL_CS, GATE_TRAP | 3 << 5, 0);
    run_in_user_mode(user_loop, ROUNDS);
    printf("int80-storm64: events %lu (int 0x80 from 64-bit ring 3, %lu user iterations)\n",
           kernel_calls, user_counter);
    return kernel_calls == ROUNDS && user_counter == ROUNDS ? 0 : 1;
}
