/* Benchmark guest: a system-call storm. A ring-3 loop calls int 0x80 through a DPL-3 trap gate
 * (the handler counts in kernel memory and returns), touching user memory between calls: every
 * event is a privilege change both ways, the TSS ring-0 stack, and IRET to ring 3.
 * bench/run.sh divides the events by host time. */
#include "kernel.h"

#define ROUNDS 2000000u

volatile uint32_t kernel_calls;
static volatile uint32_t user_counter;

extern void syscall_entry(void);
__asm__(".text\n"
        "syscall_entry:\n"
        "  incl kernel_calls\n"
        "  iret\n");

static void user_loop(uint32_t rounds)
{
    while (rounds--) {
        user_counter++;
        __asm__ volatile("int $0x80" ::: "memory");
    }
    user_return();
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_gate(0x80, syscall_entry, 0x8F, 3);
    run_in_user_mode(user_loop, ROUNDS);
    printf("syscall-storm: events %u (int 0x80 from ring 3, %u user iterations)\n", kernel_calls,
           user_counter);
    return kernel_calls == ROUNDS && user_counter == ROUNDS ? 0 : 1;
}
