/* /bin/x86irq-threads of the libx86irq Linux kit (scripts/get-linux.sh): TLB shootdowns.
 *
 * Busybox has no threads, so on its own no two CPUs ever run one mm and /proc/interrupts'
 * TLB row stays at 0. This program runs one thread per CPU (up to MAX_THREADS; clone with
 * CLONE_VM: one mm), each pinned to its CPU, and every thread maps, touches and unmaps a few
 * pages, ROUNDS times, then keeps touching memory in user mode until all are done, so that
 * the mm stays live (not lazy) on every CPU meanwhile. Each munmap of present pages ends in
 * flush_tlb_mm_range(), which finds the other CPUs in the mm's cpumask and sends them a
 * function-call IPI; flush_tlb_func() there counts it in irq_tlb_count, the TLB row of
 * /proc/interrupts (and NR_TLB_REMOTE_FLUSH_RECEIVED): every CPU both sends and receives
 * shootdowns. With one CPU two threads share it and every flush is local: no IPIs.
 *
 * Freestanding i386: no libc, raw int $0x80 system calls, its own _start. Built by
 * get-linux.sh with the host's gcc (no 32-bit libraries needed):
 *   gcc -m32 -march=i686 -static -nostdlib -ffreestanding -fno-pic -no-pie
 *       -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -s -Wl,--build-id=none
 * Prints: x86irq-threads: N threads on CPUs a b ..., R munmaps each
 */

#include "freestanding.h"

#define SYS_exit 1
#define SYS_munmap 91
#define SYS_clone 120
#define SYS_sched_yield 158
#define SYS_mmap2 192
#define SYS_sched_setaffinity 241
#define SYS_sched_getaffinity 242
#define SYS_exit_group 252
#define SYS_getcpu 318

#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_THREAD 0x00010000
#define CLONE_SYSVSEM 0x00040000

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20

#define ROUNDS 200      /* mmap, touch, munmap */
#define PAGES 4         /* pages per mapping */
#define PAGE_SIZE 4096
#define MASK_BYTES 128  /* room for 1024 CPUs */
#define MAX_THREADS 8

/* mmap2 with its sixth argument, the page offset, 0 in %ebp (saved around the call) */
static inline long sys_mmap2(long addr, long len, long prot, long flags, long fd)
{
    long r;
    __asm__ volatile("push %%ebp\n\txor %%ebp, %%ebp\n\tint $0x80\n\tpop %%ebp"
                     : "=a"(r)
                     : "0"(SYS_mmap2), "b"(addr), "c"(len), "d"(prot), "S"(flags), "D"(fd)
                     : "memory");
    return r;
}

static unsigned char stacks[MAX_THREADS][16384] __attribute__((aligned(16)));
static unsigned char scratch[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static int cpus[MAX_THREADS];          /* where each thread is pinned */
static volatile int ran_on[MAX_THREADS]; /* where each found itself (getcpu) */
static volatile int rounds_done[MAX_THREADS];
static volatile unsigned next_index = 1, started, finished, exited;
static int nthreads, ncpus;

static unsigned atomic_add(volatile unsigned *p, unsigned v)
{
    __asm__ volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
}

static int this_cpu(void)
{
    unsigned cpu = 0;
    if (sys3(SYS_getcpu, (long)&cpu, 0, 0) < 0)
        return -1;
    return (int)cpu;
}

/* pin the calling thread to one CPU */
static void pin(int cpu)
{
    unsigned long mask[MASK_BYTES / sizeof(unsigned long)];
    for (unsigned i = 0; i < sizeof mask / sizeof mask[0]; i++)
        mask[i] = 0;
    mask[cpu / 32] = 1ul << (cpu % 32);
    sys3(SYS_sched_setaffinity, 0, sizeof mask, (long)mask);
}

/* wait in user mode, touching memory (the mm stays live on this CPU); with one CPU, yield */
static void spin_until(volatile unsigned *counter, unsigned value)
{
    unsigned n = 0;
    while (*counter < value) {
        ((volatile unsigned char *)scratch)[(n * 64) % PAGE_SIZE] = (unsigned char)n;
        n++;
        if (ncpus < 2 && n % 4096 == 0)
            sys1(SYS_sched_yield, 0);
    }
}

/* every thread: on its CPU, once all run: map, touch, unmap; then stay until all are done */
static void work(int index)
{
    if (ncpus > 1)
        pin(cpus[index]);
    ran_on[index] = this_cpu();
    atomic_add(&started, 1);
    spin_until(&started, (unsigned)nthreads);
    int rounds = 0;
    for (int i = 0; i < ROUNDS; i++) {
        long p = sys_mmap2(0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1);
        if (p < 0 && p > -4096)
            break;
        for (int k = 0; k < PAGES; k++)
            ((volatile unsigned char *)p)[k * PAGE_SIZE] = (unsigned char)i;
        if (sys3(SYS_munmap, p, PAGES * PAGE_SIZE, 0) < 0)
            break;
        rounds++;
    }
    rounds_done[index] = rounds;
    atomic_add(&finished, 1);
    spin_until(&finished, (unsigned)nthreads);
}

/* a thread: takes the next index, works, exits (this thread only) */
static void __attribute__((noreturn, used)) thread_main(void)
{
    work((int)atomic_add(&next_index, 1));
    atomic_add(&exited, 1);
    for (;;)
        sys1(SYS_exit, 0);
}

/* clone onto a stack of its own: the child comes back from int $0x80 with %eax 0 on the new
 * stack and calls thread_main; the parent gets the thread's id */
static long start_thread(unsigned char *stack_top)
{
    long r;
    long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    __asm__ volatile("int $0x80\n\t"
                     "test %%eax, %%eax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call thread_main\n"
                     "1:"
                     : "=a"(r)
                     : "0"(SYS_clone), "b"(flags), "c"(stack_top), "d"(0), "S"(0), "D"(0)
                     : "memory");
    return r;
}

static int __attribute__((used)) threads_main(void)
{
    /* the CPUs this process may use: a thread on each (two threads on one CPU) */
    unsigned long mask[MASK_BYTES / sizeof(unsigned long)];
    for (unsigned i = 0; i < sizeof mask / sizeof mask[0]; i++)
        mask[i] = 0;
    long got = sys3(SYS_sched_getaffinity, 0, sizeof mask, (long)mask);
    ncpus = 0;
    for (long i = 0; got > 0 && i < got * 8; i++)
        if (mask[i / 32] & (1ul << (i % 32))) {
            if (ncpus < MAX_THREADS)
                cpus[ncpus] = (int)i;
            ncpus++;
        }
    nthreads = ncpus < 2 ? 2 : ncpus > MAX_THREADS ? MAX_THREADS : ncpus;
    if (ncpus < 2)
        cpus[0] = cpus[1] = 0;

    for (int t = 1; t < nthreads; t++)
        if (start_thread(stacks[t] + sizeof stacks[t]) < 0) {
            say("x86irq-threads: clone failed\n");
            return 1;
        }
    work(0);
    spin_until(&exited, (unsigned)nthreads - 1);

    char line[160];
    char *q = put_str(line, "x86irq-threads: ");
    q = put_int(q, nthreads);
    q = put_str(q, " threads on CPUs");
    int all = 1;
    for (int t = 0; t < nthreads; t++) {
        q = put_str(q, " ");
        q = put_int(q, ran_on[t]);
        all &= rounds_done[t] == ROUNDS;
    }
    q = put_str(q, ", ");
    q = put_int(q, all ? ROUNDS : -1);
    q = put_str(q, " munmaps each");
    if (ncpus < 2)
        q = put_str(q, " (one CPU: no TLB shootdowns)");
    *q++ = '\n';
    sys3(SYS_write, 1, (long)line, q - line);
    return all ? 0 : 1;
}

/* the process's entry: align the stack, run threads_main, exit_group with its status */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n\t"
        "xor %ebp, %ebp\n\t"
        "and $-16, %esp\n\t"
        "call threads_main\n\t"
        "mov %eax, %ebx\n\t"
        "mov $252, %eax\n\t" /* SYS_exit_group */
        "int $0x80\n\t"
        "hlt\n");
