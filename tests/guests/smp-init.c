/* Guest test smp-init: INIT and SIPI on a running AP (SDM Vol. 3 8.4.1, 10.4.7.1, 10.6.1; MP
 * spec 1.4 B.4). AP 1 runs (a heartbeat counter) after setting its LDR and TPR; a targeted INIT
 * stops it (the heartbeat stands still); a SIPI with vector 0x09 restarts it in real mode at
 * 0900:0000 (the trampoline copied to page 0x9000 counts it; page 0x8000 sees nothing); INIT
 * reset its LAPIC (LDR 0, TPR 0, SVR 0xFF, DFR 0xFFFFFFFF) but kept its APIC ID (10.4.7.1); a
 * SIPI to an AP that is running is ignored (MP spec B.4.2: a STARTUP IPI acts only once after
 * RESET or INIT, on a processor in that halted state); a full INIT-SIPI-SIPI restarts it once
 * more, exactly once (the second SIPI, if sent, finds it running).
 * Needs 2 CPUs (-smp 2; other APs halt).
 * QEMU 7.2: agrees on everything checked here. */
#include "smp.h"

#define PLAN 9
#define PAGE2 0x9000u

static volatile uint32_t beat1, beat2, beat3, ldr_set, tpr_set;

static void ap_first(unsigned cpu)
{
    if (cpu != 1)
        return;                     /* other APs (-smp 4) halt */
    lapic_write(LAPIC_LDR, 0x02000000u);
    lapic_write(LAPIC_TPR, 0x20);
    ldr_set = lapic_read(LAPIC_LDR);
    tpr_set = lapic_read(LAPIC_TPR);
    for (;;)
        beat1++;
}
static void ap_second(unsigned cpu) { (void)cpu; for (;;) beat2++; }
static void ap_third(unsigned cpu) { (void)cpu; for (;;) beat3++; }

/* does *beat move within 5 ms? */
static int beating(volatile uint32_t *beat)
{
    uint32_t b = *beat;
    return SMP_WAIT(*beat != b, 5);
}

int kmain(void)
{
    kernel_init();
    smp_init();
    if (smp_cpu_count() < 2)
        tap_skip_all("needs 2 CPUs");
    tap_plan(PLAN);
    smp_start_aps(ap_first);
    uint8_t ap1 = smp_apic_id(1);
    struct smp_trampoline_state *t1 = smp_trampoline_state(SMP_TRAMPOLINE);
    struct smp_trampoline_state *t2 = smp_trampoline_state(PAGE2);
    struct smp_ap_info first = *smp_info(1);

    SMP_WAIT(ldr_set != 0, 50);
    ok(beating(&beat1) && ldr_set == 0x02000000u && tpr_set == 0x20,
       "AP 1 (APIC ID %u) runs, with LDR 0x%x and TPR 0x%x set", ap1, ldr_set, tpr_set);

    smp_send_init(ap1);
    smp_delay_us(10000);
    uint32_t stopped_at = beat1;
    ok(!beating(&beat1), "a targeted INIT stopped AP 1 (heartbeat stands at %u)", stopped_at);

    smp_trampoline_install(PAGE2);
    unsigned arrivals1 = t1->arrivals;
    smp_send_sipi(ap1, PAGE2);
    int cpu = smp_accept_ap(ap_second, 100);
    ok(cpu >= 0 && t2->arrivals == 1 && t2->mark == SMP_TRAMPOLINE_MARK && t1->arrivals == arrivals1,
       "one SIPI with vector 0x%02x restarted it: %u arrival(s) in page 0x%x (mark 0x%x), %u new in page 0x%x",
       PAGE2 >> 12, t2->arrivals, PAGE2, t2->mark, t1->arrivals - arrivals1, SMP_TRAMPOLINE);
    const struct smp_ap_info *r = smp_info(1);
    ok(cpu >= 0 && r->entry_cs == (PAGE2 >> 4) && !(r->entry_msw & 1) && !r->entry_ds && !r->entry_ss &&
       r->entry_edx == r->cpuid_signature,
       "it began in real mode at 0x%x:0000 (MSW 0x%x, DS 0x%x, SS 0x%x, EDX 0x%x)",
       r->entry_cs, r->entry_msw, r->entry_ds, r->entry_ss, r->entry_edx);
    ok(cpu == 1 && r->apic_id == ap1 && r->slot != first.slot,
       "INIT kept its APIC ID %u (CPU %d), it took a new stack (slot %u, was %u)", r->apic_id, cpu,
       r->slot, first.slot);
    ok(r->ldr == 0 && r->tpr == 0 && (r->svr & 0x1FF) == 0xFF && r->dfr == 0xFFFFFFFFu,
       "INIT reset its LAPIC: LDR 0x%x, TPR 0x%x, SVR 0x%x, DFR 0x%x", r->ldr, r->tpr, r->svr, r->dfr);
    ok(beating(&beat2) && !beating(&beat1), "it runs the new function (the old one stays stopped)");

    smp_send_sipi(ap1, SMP_TRAMPOLINE);
    smp_delay_us(5000);
    ok(t1->arrivals == arrivals1 && t2->arrivals == 1 && beating(&beat2) &&
       smp_accept_ap(ap_third, 5) < 0,
       "a SIPI to the running AP is ignored (arrivals %u and %u, it keeps running)",
       t1->arrivals - arrivals1, t2->arrivals);

    unsigned sipis = smp_boot_stats()->sipis;
    cpu = smp_start_ap(ap1, SMP_TRAMPOLINE, ap_third);
    ok(cpu == 1 && t1->arrivals == 1 && beating(&beat3) && !beating(&beat2),
       "INIT-SIPI-SIPI again: it ran page 0x%x's trampoline %u time(s) (%u SIPI(s) sent), now the third function",
       SMP_TRAMPOLINE, t1->arrivals, smp_boot_stats()->sipis - sipis);
    tap_done();
}
