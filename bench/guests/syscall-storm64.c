/* Benchmark guest: a SYSCALL/SYSRET storm from 64-bit ring 3, the long-mode way into the
 * kernel (int80-storm64.c is the same loop with int 0x80, the 32-bit syscall-storm's
 * mechanism). A ring-3 loop touches user memory and executes SYSCALL (RCX and R11 saved by
 * the processor, CS/SS from STAR, RIP from LSTAR, the SFMASK bits cleared); the entry does
 * what a kernel's does around its work: SWAPGS to its per-CPU block, saves the user's RSP there
 * and loads the kernel stack, counts, puts the user's RSP back, SWAPGS again and SYSRETQ. So
 * every event is two privilege changes without the IDT, the TSS or a stack frame. Same count
 * as the 32-bit storm (2 M); the guest checks the counts (and that GS.base was the user's
 * again in ring 3) and exits 1 when they are off. */
#include "kernel64.h"

#define ROUNDS 2000000u

struct percpu { uint64_t calls, user_rsp, kernel_rsp; };
static struct percpu percpu;
static uint64_t syscall_stack[512] __attribute__((aligned(4096)));
static uint64_t user_gs_area[2] = { 0x5E5E5E5E00000001ull, 0 };
static volatile uint64_t user_counter, user_gs;

void syscall_entry(void);
__asm__(".text\n"
        "syscall_entry:\n"
        "  swapgs\n"                 /* GS.base = &percpu */
        "  mov %rsp, %gs:8\n"        /* the user's RSP */
        "  mov %gs:16, %rsp\n"       /* the kernel stack */
        "  incq %gs:0\n"
        "  mov %gs:8, %rsp\n"
        "  swapgs\n"                 /* the user's GS.base again */
        "  sysretq\n");

static void user_loop(uint64_t rounds)
{
    while (rounds--) {
        user_counter++;
        __asm__ volatile("syscall" ::: "rcx", "r11", "memory");
    }
    uint64_t gs;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(gs));
    user_gs = gs;
    user_return();
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    percpu = (struct percpu){ 0, 0, (uint64_t)(uintptr_t)(syscall_stack + 512) };
    syscall_setup(syscall_entry, RFLAGS_IF | RFLAGS_DF | RFLAGS_AC | RFLAGS_TF);
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)user_gs_area);
    wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)(uintptr_t)&percpu);
    run_in_user_mode(user_loop, ROUNDS);
    printf("syscall-storm64: events %lu (SYSCALL/SYSRET from 64-bit ring 3, %lu user iterations)\n",
           percpu.calls, user_counter);
    return percpu.calls == ROUNDS && user_counter == ROUNDS && user_gs == user_gs_area[0] ? 0 : 1;
}
