/* Guest test smp-tsc: the time-stamp counter is one clock for the whole machine (SDM Vol. 3
 * 17.17: the invariant TSC runs at a constant rate and is synchronised across the package's
 * processors). Linux checks exactly this before it trusts the TSC as its clocksource
 * (arch/x86/kernel/tsc_sync.c, check_tsc_warp): every core, under one spinlock, reads the TSC
 * and compares it with the last value any core read; a smaller one is a "warp", and one warp
 * makes Linux mark the TSC unstable. Here every core does the same with RDTSC, RDTSCP and RDMSR
 * IA32_TIME_STAMP_COUNTER in turn, and also through memory without a lock (a reader that sees
 * another core's published value must not read a smaller TSC afterwards).
 * Caught: each core read its own cycle counter, so a core behind the others in its quantum
 * (docs/cycle-model.md) read up to a quantum less than the value the one ahead had stored:
 * Debian's 6.1 kernel on --smp=2 said "Measured 887 cycles TSC warp between CPUs, turning off
 * TSC clock" and fell back to the HPET.
 * Run with -smp 2 and 4, and the argument "strict" (meson gives it): QEMU 7.2 (TCG) has no warp
 * with RDTSC and RDTSCP, but its RDMSR IA32_TIME_STAMP_COUNTER reads 0 (the last value written),
 * against SDM Vol. 3 17.17 (RDMSR 10H reads the TSC): without "strict"
 * (tests/qemu/smp-on-qemu.sh) the loops leave RDMSR out and its check is a skip. */
#include "smp.h"

#define PLAN 6
#define ITERATIONS 20000u

static unsigned n;
static spinlock_t lock __attribute__((aligned(64)));
static volatile uint64_t last_tsc;
static volatile uint32_t warps, largest_warp, aux_wrong, own_backwards;
static volatile uint32_t published_warps;
static volatile uint64_t published __attribute__((aligned(64)));
static volatile uint32_t done;
static int has_rdtscp; /* CPUID.80000001H:EDX[27] (QEMU's default qemu32 has none) */
static int strict;

static inline uint64_t rdtscp(uint32_t *aux)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* the three ways to read the TSC, in turn (RDMSR in strict runs only) */
static uint64_t read_tsc(unsigned cpu, uint32_t i)
{
    uint32_t aux;
    uint64_t t;
    switch (i % (strict ? 3 : 2)) {
    case 0: return rdtsc();
    case 1:
        if (!has_rdtscp)
            return rdtsc();
        t = rdtscp(&aux);
        if (aux != cpu + 100)
            atomic_fetch_add(&aux_wrong, 1);
        return t;
    default: return rdmsr(0x10);
    }
}

static void skip_ok(int condition, const char *skip_reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vok(condition, skip_reason, fmt, ap);
    va_end(ap);
}

static void work(unsigned cpu)
{
    if (has_rdtscp)
        wrmsr(0xC0000103u, cpu + 100); /* IA32_TSC_AUX: what RDTSCP returns in ECX */
    smp_barrier(n);
    uint64_t mine = 0;
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        spin_lock(&lock);
        uint64_t prev = last_tsc;
        uint64_t now = read_tsc(cpu, i);
        last_tsc = now;
        spin_unlock(&lock);
        if (now < prev) {
            atomic_fetch_add(&warps, 1);
            if (prev - now > largest_warp)
                largest_warp = (uint32_t)(prev - now);
        }
        if (now < mine)
            atomic_fetch_add(&own_backwards, 1);
        mine = now;
    }
    smp_barrier(n);
    /* without a lock: publish a TSC (each core in turn writes its latest), read another
     * core's, then the TSC: it is never below what was read */
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        uint64_t seen = published;
        uint64_t now = read_tsc(cpu, i);
        if (now < seen)
            atomic_fetch_add(&published_warps, 1);
        if ((i & 7) == cpu % 8)
            published = now; /* aligned 64-bit store: one access (SDM 8.1.1) */
    }
    smp_barrier(n);
    atomic_fetch_add(&done, 1);
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    strict = info && (info->flags & MB_INFO_CMDLINE) &&
             strstr((const char *)info->cmdline, " strict");
    kernel_init();
    smp_init();
    n = smp_cpu_count();
    uint32_t a, b, c, d;
    cpuid(0x80000000u, &a, &b, &c, &d);
    if (a >= 0x80000001u) {
        cpuid(0x80000001u, &a, &b, &c, &d);
        has_rdtscp = (d >> 27) & 1;
    }
    tap_plan(PLAN);
    smp_start_aps(work);
    n = smp_running();
    work(0);
    SMP_WAIT(done == n, 100);
    uint64_t before = rdtsc(), msr = rdmsr(0x10), after = rdtsc();
    skip_ok((before <= msr && msr <= after) || !strict,
            before <= msr && msr <= after ? NULL : "QEMU's RDMSR 10H is not RDTSC's clock",
            "RDMSR IA32_TIME_STAMP_COUNTER reads the TSC: %llu <= %llu <= %llu",
            (unsigned long long)before, (unsigned long long)msr, (unsigned long long)after);
    ok(done == n, "%u cores read the TSC %u times each under one lock", done, ITERATIONS);
    ok(warps == 0, "no TSC warp between cores (check_tsc_warp): %u warps, the largest %u cycles",
       warps, largest_warp);
    ok(own_backwards == 0, "each core's TSC never goes back: %u", own_backwards);
    skip_ok(aux_wrong == 0, has_rdtscp ? NULL : "no RDTSCP (CPUID.80000001H:EDX[27])", "RDTSCP returns this core's IA32_TSC_AUX: %u wrong", aux_wrong);
    ok(published_warps == 0,
       "a TSC read after seeing another core's value is never below it: %u below", published_warps);
    tap_done();
}
