/* /bin/x86irq-vdso of the libx86irq Linux kit (scripts/get-linux.sh): the vDSO's clock and CPU
 * number, read in user mode without entering the kernel.
 *
 * The kernel maps its vDSO into every process and names it in the auxiliary vector
 * (AT_SYSINFO_EHDR). With the TSC as clocksource (synchronised across the CPUs:
 * docs/cycle-model.md), __vdso_clock_gettime reads the TSC in ring 3 (RDTSCP, or LFENCE;RDTSC,
 * by the kernel's alternatives) and scales it with the kernel's vvar page; otherwise it makes
 * the system call itself. __vdso_getcpu reads the CPU number from the limit of a per-CPU GDT
 * descriptor (LSL) or with RDPID. This program finds both in the vDSO's dynamic symbol table
 * and checks, on each CPU it can run on (pinned in turn):
 *  - clock_gettime(CLOCK_MONOTONIC) through the vDSO, many times: it never goes back, and
 *    every value lies between the system call's just before and just after it;
 *  - getcpu through the vDSO says the CPU the system call says.
 * On x86-64, with the argument "vsyscall", also the legacy vsyscall page's gettimeofday
 * (0xffffffffff600000), which a kernel booted with vsyscall=xonly emulates from the
 * instruction fetch's page fault.
 * Prints: x86irq-vdso: clock_gettime N calls on CPUs a b ..., monotonic, within the system
 * call's; getcpu agrees[; vsyscall gettimeofday agrees]   (or what failed)
 *
 * Freestanding like x86irq-threads (the same flags): no libc, raw system calls. Built twice by
 * get-linux.sh: -m32 as /bin/x86irq-vdso (the 32-bit vDSO, every kit) and -m64 as
 * /bin/x86irq-vdso64 (the amd64 kit: the 64-bit vDSO, whose __vdso_getcpu reads the CPU number
 * with LSL from the per-CPU GDT descriptor, RDPID not being offered). */

#include "freestanding.h"

#ifdef __x86_64__
#define SYS_sched_setaffinity 203
#define SYS_sched_getaffinity 204
#define SYS_clock_gettime 228
#define SYS_getcpu 309
#define NAME "x86irq-vdso64"
#else
#define SYS_sched_setaffinity 241
#define SYS_sched_getaffinity 242
#define SYS_clock_gettime 265
#define SYS_getcpu 318
#define NAME "x86irq-vdso"
#endif

#define CLOCK_MONOTONIC 1
#define AT_SYSINFO_EHDR 33
#define CALLS 2000
#define MASK_BYTES 128
#define MAX_CPUS 8

/* the timespec of the program's own ABI (32-bit fields on i386, 64-bit on x86-64) */
struct timespec_native {
    long tv_sec;
    long tv_nsec;
};

/* The vDSO's ELF structures (the System V gABI): ELF32 for i386 programs, ELF64 for x86-64 */
#ifdef __x86_64__
struct ehdr {
    unsigned char ident[16];
    unsigned short type, machine;
    unsigned version;
    unsigned long entry, phoff, shoff;
    unsigned flags;
    unsigned short ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
    unsigned type, flags;
    unsigned long offset, vaddr, paddr, filesz, memsz, align;
};
struct sym {
    unsigned name;
    unsigned char info, other;
    unsigned short shndx;
    unsigned long value, size;
};
#else
struct ehdr {
    unsigned char ident[16];
    unsigned short type, machine;
    unsigned version, entry, phoff, shoff, flags;
    unsigned short ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
    unsigned type, offset, vaddr, paddr, filesz, memsz, flags, align;
};
struct sym {
    unsigned name, value, size;
    unsigned char info, other;
    unsigned short shndx;
};
#endif
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define DT_NULL 0
#define DT_HASH 4
#define DT_STRTAB 5
#define DT_SYMTAB 6

typedef int (*clock_gettime_fn)(int clock, struct timespec_native *ts);
typedef int (*getcpu_fn)(unsigned *cpu, unsigned *node, void *unused);

static int same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* a function of the vDSO by name, 0 if absent: through PT_DYNAMIC's hash (its nchain is the
 * number of symbols), symbol and string tables, relative to where the vDSO is mapped */
static unsigned long vdso_symbol(unsigned long base, const char *name)
{
    const struct ehdr *e = (const struct ehdr *)base;
    const struct phdr *ph = (const struct phdr *)(base + e->phoff);
    unsigned long load = 0, dynamic = 0;
    int have_load = 0;
    for (unsigned i = 0; i < e->phnum; i++) {
        if (ph[i].type == PT_LOAD && !have_load) {
            load = base - ph[i].vaddr + ph[i].offset; /* the bias: vaddr -> address */
            have_load = 1;
        }
        if (ph[i].type == PT_DYNAMIC)
            dynamic = ph[i].vaddr;
    }
    if (!have_load || !dynamic)
        return 0;
    const unsigned *hash = 0;
    const struct sym *syms = 0;
    const char *strings = 0;
    for (const long *d = (const long *)(load + dynamic); d[0] != DT_NULL; d += 2) {
        if (d[0] == DT_HASH)
            hash = (const unsigned *)(load + d[1]);
        else if (d[0] == DT_SYMTAB)
            syms = (const struct sym *)(load + d[1]);
        else if (d[0] == DT_STRTAB)
            strings = (const char *)(load + d[1]);
    }
    if (!hash || !syms || !strings)
        return 0;
    for (unsigned i = 0; i < hash[1]; i++)
        if (syms[i].shndx != 0 && same(strings + syms[i].name, name))
            return load + syms[i].value;
    return 0;
}

static long long ns(const struct timespec_native *t) { return (long long)t->tv_sec * 1000000000 + t->tv_nsec; }

static int pin(int cpu)
{
    unsigned mask[MASK_BYTES / 4]; /* 32-bit words: the kernel's bitmap of longs, little-endian */
    for (unsigned i = 0; i < sizeof mask / sizeof mask[0]; i++)
        mask[i] = 0;
    mask[cpu / 32] = 1u << (cpu % 32);
    return sys3(SYS_sched_setaffinity, 0, sizeof mask, (long)mask) == 0;
}

static int __attribute__((used)) vdso_main(unsigned long *stack)
{
    /* the initial stack: argc, argv[], 0, envp[], 0, then the auxiliary vector's pairs */
    int vsyscall = stack[0] > 1 && same((const char *)stack[2], "vsyscall");
    (void)vsyscall;
    unsigned long *p = stack + 1 + stack[0] + 1;
    while (*p)
        p++;
    unsigned long base = 0;
    for (p++; p[0] != 0; p += 2)
        if (p[0] == AT_SYSINFO_EHDR)
            base = p[1];
    if (!base) {
        say(NAME ": no vDSO (no AT_SYSINFO_EHDR)\n");
        return 1;
    }
    clock_gettime_fn vclock = (clock_gettime_fn)vdso_symbol(base, "__vdso_clock_gettime");
    getcpu_fn vgetcpu = (getcpu_fn)vdso_symbol(base, "__vdso_getcpu");
    if (!vclock) {
        say(NAME ": the vDSO has no __vdso_clock_gettime\n");
        return 1;
    }
    unsigned mask[MASK_BYTES / 4];
    for (unsigned i = 0; i < sizeof mask / sizeof mask[0]; i++)
        mask[i] = 0;
    long got = sys3(SYS_sched_getaffinity, 0, sizeof mask, (long)mask);
    int cpus[MAX_CPUS], ncpus = 0;
    for (long i = 0; got > 0 && i < got * 8 && ncpus < MAX_CPUS; i++)
        if (mask[i / 32] & (1u << (i % 32)))
            cpus[ncpus++] = (int)i;

    int backwards = 0, outside = 0, getcpu_wrong = 0, failed = 0;
    for (int c = 0; c < ncpus; c++) {
        if (ncpus > 1 && !pin(cpus[c]))
            failed++;
        struct timespec_native before, t, after;
        long long last = 0;
        for (int i = 0; i < CALLS; i++) {
            int check = i % 100 == 0; /* the system call around every hundredth */
            if (check && sys3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&before, 0) != 0)
                failed++;
            if (vclock(CLOCK_MONOTONIC, &t) != 0)
                failed++;
            if (check && sys3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&after, 0) != 0)
                failed++;
            if (ns(&t) < last)
                backwards++;
            last = ns(&t);
            if (check && (ns(&t) < ns(&before) || ns(&t) > ns(&after)))
                outside++;
        }
        if (vgetcpu) {
            unsigned vcpu = ~0u, scpu = ~1u;
            if (vgetcpu(&vcpu, 0, 0) != 0 || sys3(SYS_getcpu, (long)&scpu, 0, 0) != 0)
                failed++;
            if (vcpu != scpu || (ncpus > 1 && (int)scpu != cpus[c]))
                getcpu_wrong++;
        }
    }
    char line[200];
    char *q = put_str(line, NAME ": clock_gettime ");
    q = put_int(q, CALLS);
    q = put_str(q, " calls on CPUs");
    for (int c = 0; c < ncpus; c++) {
        q = put_str(q, " ");
        q = put_int(q, cpus[c]);
    }
    int good = !backwards && !outside && !failed && ncpus > 0;
    if (good) {
        q = put_str(q, ", monotonic, within the system call's");
    } else {
        q = put_str(q, ": ");
        q = put_int(q, backwards);
        q = put_str(q, " went back, ");
        q = put_int(q, outside);
        q = put_str(q, " outside the system call's, ");
        q = put_int(q, failed);
        q = put_str(q, " calls failed");
    }
    if (!vgetcpu) {
        q = put_str(q, "; no __vdso_getcpu");
    } else if (getcpu_wrong) {
        q = put_str(q, "; getcpu wrong on ");
        q = put_int(q, getcpu_wrong);
        q = put_str(q, " CPUs");
        good = 0;
    } else {
        q = put_str(q, "; getcpu agrees");
    }
#ifdef __x86_64__
    /* with the argument "vsyscall" (the kernel booted with vsyscall=xonly; Debian's default is
     * none, where the call is a SIGSEGV): the legacy vsyscall page's gettimeofday at its fixed
     * address. The call's instruction fetch faults (a user fetch from a page that is not mapped
     * for it) and the page-fault handler emulates the call (emulate_vsyscall) */
    if (vsyscall) {
        struct timeval_native {
            long tv_sec, tv_usec;
        } tv = { 0, 0 };
        struct timespec_native now;
        long (*vsyscall_gettimeofday)(struct timeval_native *, void *) =
            (long (*)(struct timeval_native *, void *))0xffffffffff600000ul;
        long r = vsyscall_gettimeofday(&tv, 0);
        int realtime = sys3(SYS_clock_gettime, 0 /* CLOCK_REALTIME */, (long)&now, 0) == 0;
        if (r == 0 && realtime && tv.tv_sec <= now.tv_sec && tv.tv_sec + 2 >= now.tv_sec &&
            tv.tv_usec >= 0 && tv.tv_usec < 1000000) {
            q = put_str(q, "; vsyscall gettimeofday agrees");
        } else {
            q = put_str(q, "; vsyscall gettimeofday wrong");
            good = 0;
        }
    }
#endif
    *q++ = '\n';
    sys3(SYS_write, 1, (long)line, q - line);
    return good ? 0 : 1;
}

/* the process's entry: vdso_main(the initial stack), exit_group with its status */
#ifdef __x86_64__
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n\t"
        "xor %ebp, %ebp\n\t"
        "mov %rsp, %rdi\n\t"
        "and $-16, %rsp\n\t"
        "call vdso_main\n\t"
        "mov %eax, %edi\n\t"
        "mov $231, %eax\n\t" /* SYS_exit_group */
        "syscall\n\t"
        "hlt\n");
#else
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n\t"
        "xor %ebp, %ebp\n\t"
        "mov %esp, %eax\n\t"
        "and $-16, %esp\n\t"
        "sub $12, %esp\n\t"
        "push %eax\n\t"
        "call vdso_main\n\t"
        "mov %eax, %ebx\n\t"
        "mov $252, %eax\n\t" /* SYS_exit_group */
        "int $0x80\n\t"
        "hlt\n");
#endif
