/* breakpoint: int3 is a TRAP. The exception is reported after the instruction completes, so
 * the saved EIP is the NEXT instruction: returning simply continues. Compare divide-error. */
#include "kernel.h"

extern char the_int3[], after_int3[];
static volatile int hits;

static void on_breakpoint(struct trap_frame *f)
{
    hits++;
    printf("  #BP handler: vector %u; the int3 is at 0x%08x (1 byte, CC), the saved EIP is "
           "0x%08x, the instruction after it (%s)\n", f->vector, (uint32_t)the_int3, f->eip,
           f->eip == (uint32_t)after_int3 ? "a trap reports the next instruction" : "WRONG");
    printf("  #BP handler: a debugger that planted this int3 subtracts 1 from the saved EIP "
           "to find its breakpoint, puts the original byte back and returns there\n");
    printf("  #BP handler: a debugger would inspect the program here; EAX = 0x%08x\n", f->eax);
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    /* a trap gate (type 0x8F) with DPL 3, as debuggers use for int3 */
    trap_set_handler(3, on_breakpoint, 0x8F, 3);
    printf("breakpoint: int3 is a programmed exception (like int n) and a trap.\n");
    __asm__ volatile("mov $0xC0FFEE, %%eax\n"
                     "the_int3: int3\n"
                     "after_int3:\n" : : : "eax");
    printf("breakpoint: continued after the breakpoint (%d hit)\n", hits);
    return hits == 1 ? 0 : 1;
}
