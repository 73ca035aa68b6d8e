/* divide-error: #DE is a FAULT. A synchronous exception, detected by the processor while it
 * executes an instruction: the saved EIP points at the faulting div itself, so the handler can
 * fix the cause and return to run the division again. */
#include "kernel.h"

static volatile uint32_t divisor;
extern char the_div[];

static void on_divide_error(struct trap_frame *f)
{
    printf("  #DE handler: vector %u, saved EIP 0x%08x (the div is at 0x%08x: %s)\n", f->vector,
           f->eip, (uint32_t)the_div, f->eip == (uint32_t)the_div ? "same" : "DIFFERENT");
    printf("  #DE handler: a fault is restartable; fixing the divisor to 7 and returning\n");
    divisor = 7;
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_handler(0, on_divide_error, 0x8E, 0);
    printf("divide-error: an exception is synchronous: the instruction itself raises it.\n");
    printf("divide-error: dividing 700 by a divisor of 0...\n");
    divisor = 0;
    uint32_t quotient;
    __asm__ volatile("xor %%edx, %%edx\n"
                     "the_div: divl %1" : "=a"(quotient) : "m"(divisor), "a"(700) : "edx", "cc");
    printf("divide-error: back after IRET, the div ran again: 700 / 7 = %u\n", quotient);
    return quotient == 100 ? 0 : 1;
}
