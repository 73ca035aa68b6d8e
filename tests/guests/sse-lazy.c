/* Guest test: a lazy-FPU-switching kernel (SDM Vol. 3 13.4, 2.5 CR0.TS; Vol. 1 13.7-13.8): two
 * threads switched by the LAPIC timer (periodic), each loading its own values into XMM0-7,
 * MXCSR and the x87 stack and checking them after at least one round trip through the other
 * thread. Every switch sets CR0.TS; the first SSE or x87 instruction after it is #NM, whose
 * handler saves the owner's state with xsave (with XCR0 = 3) when CPUID offers XSAVE, else
 * with fxsave, restores the new thread's with xrstor / fxrstor, clears TS and makes it the
 * owner. Run both ways (meson: sse-lazy with --isa=sse4.2,xsave, sse-lazy-fxsave without). */
#include "kernel.h"

#define LAPIC_BASE 0xFEE00000u
enum { SVR = 0xF0, EOI = 0xB0, LVT_TIMER = 0x320, TIMER_INITIAL = 0x380, TIMER_DIVIDE = 0x3E0 };
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }

#define ITERATIONS 40

struct thread {
    uint32_t esp;
    uint8_t area[1024] __attribute__((aligned(64)));
};
static struct thread threads[2];
static uint32_t thread1_stack[4096] __attribute__((aligned(16)));
static volatile unsigned current, owner;
static volatile unsigned switches, nm_count, saves, errors[2], done[2], same_owner;
static int use_xsave;

/* switch_to(&save_esp, new_esp): the callee-saved registers on the old stack, esp saved, the
 * new stack's popped (a new thread's stack starts with zeros and its entry) */
void switch_to(uint32_t *save_esp, uint32_t new_esp);
__asm__(".text\n .globl switch_to\nswitch_to:\n"
        "  mov 4(%esp), %eax\n mov 8(%esp), %ecx\n"
        "  push %ebp\n push %ebx\n push %esi\n push %edi\n"
        "  mov %esp, (%eax)\n mov %ecx, %esp\n"
        "  pop %edi\n pop %esi\n pop %ebx\n pop %ebp\n ret\n");

static void set_ts(void)
{
    __asm__ volatile("mov %%cr0, %%eax\n or $8, %%eax\n mov %%eax, %%cr0" ::: "eax");
}

static void on_timer(struct trap_frame *f)
{
    (void)f;
    lapic_write(EOI, 0);
    switches++;
    set_ts();                       /* the next FPU/SSE instruction is #NM */
    unsigned from = current, to = 1 - from;
    current = to;
    switch_to(&threads[from].esp, threads[to].esp);
}

static void save_state(struct thread *t)
{
    if (use_xsave)
        __asm__ volatile("xsave (%0)" : : "r"(t->area), "a"(3), "d"(0) : "memory");
    else
        __asm__ volatile("fxsave (%0)" : : "r"(t->area) : "memory");
    saves++;
}
static void restore_state(struct thread *t)
{
    if (use_xsave)
        __asm__ volatile("xrstor (%0)" : : "r"(t->area), "a"(3), "d"(0) : "memory");
    else
        __asm__ volatile("fxrstor (%0)" : : "r"(t->area) : "memory");
}

static void on_nm(struct trap_frame *f)
{
    (void)f;
    nm_count++;
    __asm__ volatile("clts");
    if (owner == current) {
        same_owner++;               /* switched away and back without using the FPU between */
        return;
    }
    save_state(&threads[owner]);
    restore_state(&threads[current]);
    owner = current;
}

static void work(unsigned id)
{
    static uint32_t want[2][8][4] __attribute__((aligned(16)));
    static uint32_t got[2][8][4] __attribute__((aligned(16)));
    for (unsigned it = 0; it < ITERATIONS; it++) {
        for (unsigned i = 0; i < 8; i++)
            for (unsigned j = 0; j < 4; j++)
                want[id][i][j] = (id + 1) * 0x10000000u + it * 0x10000u + i * 0x100u + j;
        uint32_t mxcsr = id ? 0x7F80 : 0x1F80 | 0x2000, mxcsr_after = 0;
        int32_t value = (int32_t)(id * 1000000 + it), value2 = -(int32_t)it, back = 0, back2 = 0;
        __asm__ volatile("ldmxcsr %1\n"
                         "movdqa 0(%0), %%xmm0\n movdqa 16(%0), %%xmm1\n movdqa 32(%0), %%xmm2\n"
                         "movdqa 48(%0), %%xmm3\n movdqa 64(%0), %%xmm4\n movdqa 80(%0), %%xmm5\n"
                         "movdqa 96(%0), %%xmm6\n movdqa 112(%0), %%xmm7\n"
                         "fninit\n fildl %2\n fildl %3\n"
                         : : "r"(want[id]), "m"(mxcsr), "m"(value), "m"(value2) : "memory");
        /* at least two switches: away to the other thread and back */
        unsigned start = switches;
        while (switches - start < 2)
            __asm__ volatile("pause");
        __asm__ volatile("movdqa %%xmm0, 0(%0)\n movdqa %%xmm1, 16(%0)\n movdqa %%xmm2, 32(%0)\n"
                         "movdqa %%xmm3, 48(%0)\n movdqa %%xmm4, 64(%0)\n movdqa %%xmm5, 80(%0)\n"
                         "movdqa %%xmm6, 96(%0)\n movdqa %%xmm7, 112(%0)\n"
                         "stmxcsr %1\n fistpl %2\n fistpl %3\n"
                         : : "r"(got[id]), "m"(mxcsr_after), "m"(back2), "m"(back) : "memory");
        if (memcmp(want[id], got[id], sizeof(got[id])) || mxcsr_after != mxcsr ||
            back != value || back2 != value2) {
            if (errors[id]++ < 3)
                printf("# thread %u iteration %u: state lost (MXCSR %x, ST %d %d)\n", id, it,
                       mxcsr_after, (int)back, (int)back2);
        }
    }
    done[id] = 1;
}

static void thread1_main(void)
{
    __asm__ volatile("sti");        /* entered from the timer handler's interrupt gate */
    work(1);
    for (;;)
        __asm__ volatile("hlt");
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(6);
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    use_xsave = (c >> 26) & 1;
    /* SSE on (OSFXSR, OSXMMEXCPT), and OSXSAVE with XCR0 = x87 | SSE when offered */
    uint32_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= 0x600u | (use_xsave ? 0x40000u : 0);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
    __asm__ volatile("mov %%cr0, %%eax\n and $~0xC, %%eax\n or $0x22, %%eax\n mov %%eax, %%cr0"
                     ::: "eax");
    if (use_xsave)
        __asm__ volatile("xsetbv" : : "c"(0), "a"(3), "d"(0));
    printf("# saving with %s\n", use_xsave ? "xsave/xrstor" : "fxsave/fxrstor");
    /* both threads' areas start as the initial state */
    __asm__ volatile("fninit\n pxor %%xmm0, %%xmm0\n pxor %%xmm1, %%xmm1\n pxor %%xmm2, %%xmm2\n"
                     "pxor %%xmm3, %%xmm3\n pxor %%xmm4, %%xmm4\n pxor %%xmm5, %%xmm5\n"
                     "pxor %%xmm6, %%xmm6\n pxor %%xmm7, %%xmm7\n" ::: "memory");
    save_state(&threads[0]);
    save_state(&threads[1]);
    saves = 0;
    owner = 0;
    current = 0;
    /* thread 1's stack: edi, esi, ebx, ebp (0) and its entry for switch_to's ret */
    uint32_t *sp = thread1_stack + 4096;
    *--sp = (uint32_t)thread1_main;
    for (int i = 0; i < 4; i++)
        *--sp = 0;
    threads[1].esp = (uint32_t)sp;

    trap_set_handler(7, on_nm, 0x8E, 0);
    trap_set_handler(0x60, on_timer, 0x8E, 0);
    lapic_write(SVR, 0x1FF);
    lapic_write(TIMER_DIVIDE, 0xB);                 /* divide by 1 */
    lapic_write(LVT_TIMER, 0x20060);                /* periodic, vector 0x60 */
    lapic_write(TIMER_INITIAL, 100000);
    __asm__ volatile("sti");
    work(0);
    while (!done[1])
        __asm__ volatile("pause");
    __asm__ volatile("cli");
    lapic_write(TIMER_INITIAL, 0);
    lapic_write(LVT_TIMER, 0x10060);                /* masked */
    printf("# %u switches, %u #NM, %u saves, %u #NM without a change of owner\n", switches,
           nm_count, saves, same_owner);
    /* each iteration of a thread spans two switches (the threads' iterations overlap) */
    ok(switches >= 2 * ITERATIONS, "at least %u timer switches (%u)", 2 * ITERATIONS, switches);
    ok(nm_count >= ITERATIONS, "lazy switching: #NM after switches (%u)", nm_count);
    ok(saves >= ITERATIONS && saves <= nm_count, "the #NM handler saved the owner's state "
       "(%u times, with %s)", saves, use_xsave ? "xsave" : "fxsave");
    is_u32(errors[0], 0, "thread 0: XMM0-7, MXCSR and the x87 stack survive every switch");
    is_u32(errors[1], 0, "thread 1: XMM0-7, MXCSR and the x87 stack survive every switch");
    ok(done[0] && done[1], "both threads finished %u iterations", ITERATIONS);
    return 0;
}
