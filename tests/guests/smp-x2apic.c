/* Guest test smp-x2apic: the local APIC's x2APIC mode, its MSR interface, on every core (SDM
 * Vol. 3 10.12). Every CPU switches its LAPIC to x2APIC mode (IA32_APIC_BASE EN and EXTD) and
 * then uses MSRs only:
 *  - the x2APIC ID (MSR 802H) is the 32-bit initial APIC ID of CPUID.1:EBX[31:24]; the LDR
 *    (80DH) is derived from it, cluster (ID[19:4]) in bits 31:16 and 1 << ID[3:0] below
 *    (10.12.10.2); ID and LDR are read-only, EOI (80BH) and SELF IPI (83FH) write-only, the
 *    DFR (80EH) and the ICR's high half (831H) gone: each access the other way is #GP(0)
 *    (10.12.1.2, Table 10-6);
 *  - IPIs through the one 64-bit ICR (830H: the destination in bits 63:32) to each AP by its
 *    x2APIC ID, to a logical cluster mask, to the broadcast ID FFFFFFFFH and with the
 *    all-excluding-self shorthand; the SELF IPI register (10.12.11);
 *  - the TPR (808H) holding a self IPI in the IRR (820H-827H) until it is lowered, the PPR,
 *    the ISR (810H-817H) empty after the EOI;
 *  - the timer through MSRs: one-shot (832H, 838H, 839H, 83EH) and TSC-deadline (IA32_TSC_DEADLINE
 *    6E0H: one interrupt at or after the deadline, the MSR cleared then, SDM 10.5.4.1);
 *  - leaving: x2APIC straight to xAPIC is #GP(0); through the disabled state the LAPIC comes
 *    back in xAPIC mode, its MMIO ID register the APIC ID again (10.12.5.1).
 * Run with -smp 2 and 4. QEMU 7.2's TCG offers no x2APIC (CPUID.1:ECX[21] clear): a skip there. */
#include "smp.h"

#define PLAN 13
#define V_COUNT 0x50
#define V_HELD 0x61   /* class 6: TPR 0x70 (class 7) holds it */
#define V_TIMER 0x52
#define V_WAKE 0x53

#define MSR_APIC_BASE 0x1Bu
#define APIC_BASE_EN (1u << 11)
#define APIC_BASE_EXTD (1u << 10)
#define X2_ID 0x802u
#define X2_VERSION 0x803u
#define X2_TPR 0x808u
#define X2_PPR 0x80Au
#define X2_EOI 0x80Bu
#define X2_LDR 0x80Du
#define X2_DFR 0x80Eu
#define X2_SVR 0x80Fu
#define X2_ISR 0x810u
#define X2_IRR 0x820u
#define X2_ICR 0x830u
#define X2_ICR_HIGH 0x831u
#define X2_LVT_TIMER 0x832u
#define X2_TIMER_INITIAL 0x838u
#define X2_TIMER_CURRENT 0x839u
#define X2_TIMER_DIVIDE 0x83Eu
#define X2_SELF_IPI 0x83Fu
#define MSR_TSC_DEADLINE 0x6E0u

static unsigned n;
static volatile uint32_t ready, leave, left, gp_faults;
static volatile uint32_t hits[SMP_MAX_CPUS], timer_hits;
static volatile uint64_t timer_tsc;
static uint32_t apic_base[SMP_MAX_CPUS], x2_id[SMP_MAX_CPUS], initial_id[SMP_MAX_CPUS];
static uint32_t ldr[SMP_MAX_CPUS], version[SMP_MAX_CPUS], xapic_version[SMP_MAX_CPUS];
static uint32_t back_id[SMP_MAX_CPUS], back_base[SMP_MAX_CPUS], straight_gp[SMP_MAX_CPUS];

static inline void wrmsr64(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* #GP(0) from rdmsr/wrmsr: counted, the two-byte instruction skipped */
static void on_gp(struct trap_frame *f)
{
    gp_faults++;
    f->eip += 2;
}
/* an access that must fault: 1 if it did */
static int rdmsr_faults(uint32_t msr)
{
    uint32_t before = gp_faults;
    (void)rdmsr(msr);
    return gp_faults == before + 1;
}
static int wrmsr_faults(uint32_t msr, uint64_t v)
{
    uint32_t before = gp_faults;
    wrmsr64(msr, v);
    return gp_faults == before + 1;
}

static unsigned cpu_of_x2_id(uint32_t id)
{
    for (unsigned i = 0; i < n; i++)
        if (x2_id[i] == id)
            return i;
    return 0;
}
static void on_count(struct trap_frame *f)
{
    (void)f;
    hits[cpu_of_x2_id((uint32_t)rdmsr(X2_ID))]++;
    wrmsr64(X2_EOI, 0);
}
static void on_timer(struct trap_frame *f)
{
    (void)f;
    timer_tsc = rdtsc();
    timer_hits++;
    wrmsr64(X2_EOI, 0);
}
static void on_wake(struct trap_frame *f) { (void)f; wrmsr64(X2_EOI, 0); }

static uint32_t cpuid_initial_id(void)
{
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    return b >> 24;
}

/* xAPIC -> x2APIC (10.12.5: EN=1 to EN=1, EXTD=1), then the registers as this core sees them */
static void enter_x2apic(unsigned cpu)
{
    xapic_version[cpu] = lapic_read(LAPIC_VERSION);
    initial_id[cpu] = cpuid_initial_id();
    wrmsr64(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
    apic_base[cpu] = (uint32_t)rdmsr(MSR_APIC_BASE);
    x2_id[cpu] = (uint32_t)rdmsr(X2_ID);
    ldr[cpu] = (uint32_t)rdmsr(X2_LDR);
    version[cpu] = (uint32_t)rdmsr(X2_VERSION);
    wrmsr64(X2_SVR, 0x1FF); /* software enabled, spurious vector 0xFF */
    wrmsr64(X2_TPR, 0);
}

/* x2APIC -> xAPIC: straight is invalid (#GP); through disabled (EN=0, EXTD=0) it is a reset
 * into xAPIC mode */
static void leave_x2apic(unsigned cpu)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    straight_gp[cpu] = (uint32_t)wrmsr_faults(MSR_APIC_BASE, base & ~(uint64_t)APIC_BASE_EXTD);
    wrmsr64(MSR_APIC_BASE, base & ~(uint64_t)(APIC_BASE_EXTD | APIC_BASE_EN));
    wrmsr64(MSR_APIC_BASE, (base & ~(uint64_t)APIC_BASE_EXTD) | APIC_BASE_EN);
    back_base[cpu] = (uint32_t)rdmsr(MSR_APIC_BASE);
    back_id[cpu] = lapic_read(LAPIC_ID);
    lapic_write(LAPIC_SVR, 0x1FF);
}

static void ap_main(unsigned cpu)
{
    enter_x2apic(cpu);
    atomic_fetch_add(&ready, 1);
    while (!leave)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    leave_x2apic(cpu);
    atomic_fetch_add(&left, 1);
}

static uint32_t total_hits(void)
{
    uint32_t t = 0;
    for (unsigned i = 0; i < n; i++)
        t += hits[i];
    return t;
}
/* send, wait for the deliveries, compare with the CPUs in mask */
static void expect_ipi(uint64_t icr, uint32_t mask, const char *what)
{
    for (unsigned i = 0; i < n; i++)
        hits[i] = 0;
    wrmsr64(X2_ICR, icr);
    unsigned want = 0;
    for (uint32_t m = mask; m; m &= m - 1)
        want++;
    SMP_WAIT(total_hits() >= want, 50);
    smp_delay_us(500);
    int good = 1;
    char got[SMP_MAX_CPUS + 1];
    for (unsigned i = 0; i < n; i++) {
        good &= hits[i] == ((mask >> i) & 1);
        got[i] = (char)(hits[i] < 10 ? '0' + hits[i] : '+');
    }
    got[n] = 0;
    ok(good, "%s: per-CPU deliveries %s", what, got);
}

static int all_cpus(uint32_t (*fn)(unsigned))
{
    for (unsigned i = 0; i < n; i++)
        if (!fn(i))
            return 0;
    return 1;
}
static uint32_t entered_ok(unsigned i)
{
    return (apic_base[i] & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD) &&
           x2_id[i] == initial_id[i] && version[i] == xapic_version[i];
}
static uint32_t ldr_ok(unsigned i)
{
    return ldr[i] == ((x2_id[i] >> 4) << 16 | 1u << (x2_id[i] & 15));
}
static uint32_t left_ok(unsigned i)
{
    return straight_gp[i] && (back_base[i] & (APIC_BASE_EN | APIC_BASE_EXTD)) == APIC_BASE_EN &&
           back_id[i] >> 24 == initial_id[i];
}

int kmain(void)
{
    kernel_init();
    smp_init();
    n = smp_cpu_count();
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    if (!(c & (1u << 21)))
        tap_skip_all("no x2APIC (CPUID.1:ECX[21] clear)");
    if (n < 2)
        tap_skip_all("needs 2 CPUs");
    tap_plan(PLAN);
    trap_set_handler(13, on_gp, 0x8E, 0);
    trap_set_handler(V_COUNT, on_count, 0x8E, 0);
    trap_set_handler(V_HELD, on_count, 0x8E, 0);
    trap_set_handler(V_TIMER, on_timer, 0x8E, 0);
    trap_set_handler(V_WAKE, on_wake, 0x8E, 0);
    smp_start_aps(ap_main);
    n = smp_running();
    enter_x2apic(0);
    SMP_WAIT(ready == n - 1, 100);
    __asm__ volatile("sti");

    ok(ready == n - 1 && all_cpus(entered_ok),
       "%u CPUs in x2APIC mode: IA32_APIC_BASE EN|EXTD, the x2APIC ID the initial APIC ID "
       "(CPU 1: 0x%x), the version register as in xAPIC mode (0x%x)", n, x2_id[1], version[0]);
    ok(all_cpus(ldr_ok), "the LDR derived from the ID on every CPU (CPU 1: 0x%x)", ldr[1]);
    int ro = wrmsr_faults(X2_ID, 5) && wrmsr_faults(X2_LDR, 0x10001) && wrmsr_faults(X2_PPR, 0) &&
             wrmsr_faults(X2_ICR_HIGH, 0);
    int wo = rdmsr_faults(X2_EOI) && rdmsr_faults(X2_SELF_IPI) && rdmsr_faults(X2_DFR) &&
             rdmsr_faults(X2_ICR_HIGH);
    ok(ro && wo, "#GP(0): writes of ID, LDR, PPR, reads of EOI, SELF IPI; the DFR and ICR high gone");
    ok(wrmsr_faults(X2_EOI, 1), "a non-zero EOI write is #GP(0) (10.12.1.2)");

    /* IPIs */
    for (unsigned i = 0; i < n; i++)
        hits[i] = 0;
    wrmsr64(X2_SELF_IPI, V_COUNT);
    SMP_WAIT(hits[0] == 1, 50);
    ok(hits[0] == 1 && total_hits() == 1, "SELF IPI register: the BSP took vector 0x%x once", V_COUNT);
    int each = 1;
    for (unsigned k = 1; k < n; k++) {
        for (unsigned i = 0; i < n; i++)
            hits[i] = 0;
        wrmsr64(X2_ICR, (uint64_t)x2_id[k] << 32 | 0x4000u | V_COUNT);
        SMP_WAIT(hits[k] == 1, 50);
        smp_delay_us(300);
        each &= hits[k] == 1 && total_hits() == 1;
    }
    ok(each, "ICR 830H, physical: each of the %u APs took the IPI sent to its x2APIC ID", n - 1);
    /* logical: cluster 0, members = the bits of CPUs 1 and n-1 (the IDs here are below 16) */
    uint32_t members = 1u << (x2_id[1] & 15) | 1u << (x2_id[n - 1] & 15);
    expect_ipi((uint64_t)members << 32 | 0x800u | 0x4000u | V_COUNT, 1u << 1 | 1u << (n - 1),
               "ICR logical, cluster 0 with CPUs 1 and last as members");
    expect_ipi(0xFFFFFFFFull << 32 | 0x4000u | V_COUNT, (1u << n) - 1,
               "ICR physical destination FFFFFFFFH: broadcast");
    expect_ipi(0xC0000u | 0x4000u | V_COUNT, ((1u << n) - 1) & ~1u,
               "ICR shorthand all-excluding-self");

    /* TPR holds a class-6 vector: IRR set, not in service; lowered, it is taken */
    for (unsigned i = 0; i < n; i++)
        hits[i] = 0;
    wrmsr64(X2_TPR, 0x70);
    wrmsr64(X2_SELF_IPI, V_HELD);
    smp_delay_us(200);
    uint32_t irr = (uint32_t)rdmsr(X2_IRR + V_HELD / 32);
    uint32_t ppr = (uint32_t)rdmsr(X2_PPR);
    uint32_t held = hits[0];
    wrmsr64(X2_TPR, 0);
    SMP_WAIT(hits[0] == 1, 50);
    uint32_t isr = 0;
    for (unsigned r = 0; r < 8; r++)
        isr |= (uint32_t)rdmsr(X2_ISR + r);
    ok(held == 0 && (irr >> (V_HELD % 32) & 1) && ppr == 0x70 && hits[0] == 1 && isr == 0,
       "TPR 0x70 holds vector 0x%x in the IRR (PPR 0x%x), TPR 0 lets it in, the ISR is empty after "
       "its EOI", V_HELD, ppr);

    /* the timer through MSRs: one-shot, then TSC-deadline */
    wrmsr64(X2_TIMER_DIVIDE, 0xB); /* divide by 1 */
    wrmsr64(X2_LVT_TIMER, V_TIMER);
    wrmsr64(X2_TIMER_INITIAL, 200000);
    uint32_t current = (uint32_t)rdmsr(X2_TIMER_CURRENT);
    SMP_WAIT(timer_hits == 1, 50);
    smp_delay_us(500);
    ok(current > 0 && current < 200000 && timer_hits == 1,
       "one-shot timer through MSRs: current count %u of 200000, one interrupt", current);
    timer_hits = 0;
    wrmsr64(X2_LVT_TIMER, 2u << 17 | V_TIMER);
    uint64_t deadline = rdtsc() + 300000;
    wrmsr64(MSR_TSC_DEADLINE, deadline);
    SMP_WAIT(timer_hits == 1, 50);
    smp_delay_us(500);
    uint64_t after = rdmsr(MSR_TSC_DEADLINE);
    ok(timer_hits == 1 && timer_tsc >= deadline && after == 0,
       "TSC-deadline: one interrupt %llu cycles after the deadline, IA32_TSC_DEADLINE then 0",
       (unsigned long long)(timer_tsc - deadline));
    wrmsr64(X2_LVT_TIMER, 1u << 16); /* masked */

    /* leave x2APIC mode everywhere */
    leave = 1;
    wrmsr64(X2_ICR, 0xC0000u | 0x4000u | V_WAKE);
    __asm__ volatile("cli");
    leave_x2apic(0);
    SMP_WAIT(left == n - 1, 100);
    ok(left == n - 1 && all_cpus(left_ok),
       "x2APIC -> xAPIC directly is #GP(0); through disabled, xAPIC mode with the MMIO ID "
       "register 0x%x again (CPU 1)", back_id[1]);
    tap_done();
}
