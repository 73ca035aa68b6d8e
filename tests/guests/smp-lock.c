/* Guest test smp-lock: atomicity across cores (SDM Vol. 3 8.1.2 bus locking, 8.1.2.2 software
 * locks). Every core, started together at a barrier, adds 1 to shared counters ITERATIONS times:
 *  - with lock xadd: the total is exact, and the old values it returned are each handed out
 *    once (their sum is T(T-1)/2 for T increments, their maximum T-1);
 *  - with lock cmpxchg in a retry loop: exact;
 *  - a plain counter under an xchg spinlock: exact, and no two cores were ever inside at once;
 *  - a plain add without lock: nothing crashes and the total is at most the sum; how many
 *    updates are lost is not asserted (libx86irq runs cores in quanta, QEMU TCG threads
 *    otherwise, hardware otherwise again); exact with one CPU.
 * Run with -smp 1, 2 and 4.
 * QEMU 7.2: agrees on everything checked here. */
#include "smp.h"

#define PLAN 7
#define ITERATIONS 200000u

static unsigned n;
static volatile uint32_t xadd_counter __attribute__((aligned(64)));
static volatile uint32_t cmpxchg_counter __attribute__((aligned(64)));
static spinlock_t lock __attribute__((aligned(64)));
static volatile uint32_t locked_counter __attribute__((aligned(64)));
static volatile uint32_t inside, overlaps;
static volatile uint32_t plain_counter __attribute__((aligned(64)));
static uint64_t old_sum[SMP_MAX_CPUS];
static uint32_t old_max[SMP_MAX_CPUS];
static volatile uint32_t done;

static void work(unsigned cpu)
{
    smp_barrier(n);
    uint64_t sum = 0;
    uint32_t max = 0;
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        uint32_t old = atomic_fetch_add(&xadd_counter, 1);
        sum += old;
        if (old > max)
            max = old;
    }
    old_sum[cpu] = sum;
    old_max[cpu] = max;
    smp_barrier(n);
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        uint32_t seen = cmpxchg_counter, was;
        for (;;) {
            __asm__ volatile("lock cmpxchgl %2, %1"
                             : "=a"(was), "+m"(cmpxchg_counter) : "r"(seen + 1), "0"(seen) : "memory");
            if (was == seen)
                break;
            seen = was;
        }
    }
    smp_barrier(n);
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        spin_lock(&lock);
        if (inside++)
            overlaps++;
        locked_counter = locked_counter + 1;
        inside--;
        spin_unlock(&lock);
    }
    smp_barrier(n);
    for (uint32_t i = 0; i < ITERATIONS; i++)
        __asm__ volatile("addl $1, %0" : "+m"(plain_counter));
    smp_barrier(n);
    atomic_fetch_add(&done, 1);
}

int kmain(void)
{
    kernel_init();
    smp_init();
    n = smp_cpu_count();
    tap_plan(PLAN);
    smp_start_aps(work);
    n = smp_running();
    uint64_t start = rdtsc();
    work(0);
    uint64_t cycles = rdtsc() - start;
    SMP_WAIT(done == n, 100);
    uint32_t t = n * ITERATIONS;
    ok(done == n, "%u cores ran %u iterations of each loop (%u TSC ticks on the BSP)", done,
       ITERATIONS, (uint32_t)(cycles > 0xFFFFFFFFu ? 0xFFFFFFFFu : cycles));
    ok(xadd_counter == t, "lock xadd: %u (expected %u)", xadd_counter, t);
    uint64_t sum = 0;
    uint32_t max = 0;
    for (unsigned i = 0; i < n; i++) {
        sum += old_sum[i];
        if (old_max[i] > max)
            max = old_max[i];
    }
    ok(sum == (uint64_t)t * (t - 1) / 2 && max == t - 1,
       "lock xadd handed out each value once: the old values sum to %llu, the largest %u",
       (unsigned long long)sum, max);
    ok(cmpxchg_counter == t, "lock cmpxchg retry loop: %u (expected %u)", cmpxchg_counter, t);
    ok(locked_counter == t, "plain increments under an xchg spinlock: %u (expected %u)", locked_counter, t);
    ok(overlaps == 0 && inside == 0 && lock.locked == 0, "the spinlock excluded: %u overlaps", overlaps);
    if (n == 1)
        ok(plain_counter == t, "add without lock on one CPU: %u (exact)", plain_counter);
    else
        ok(plain_counter <= t && plain_counter >= 1,
           "add without lock: %u of %u (%u lost updates, not asserted), nothing crashed",
           plain_counter, t, t - plain_counter);
    tap_done();
}
