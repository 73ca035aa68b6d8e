/* Guest test smp-nmi: NMIs sent as IPIs (delivery mode 100, SDM Vol. 3 10.6.1) to AP 1.
 * Its NMI handler (an interrupt gate) runs on AP 1 with IF = 0; an NMI is taken with IF = 0
 * too; NMI blocking (SDM 6.7.1): NMIs sent while the handler runs wait for its IRET, one is
 * kept pending and a further one is lost, and the handler never nests; a software-disabled
 * LAPIC still accepts an NMI (SDM 10.4.7.2); the all-excluding-self shorthand sends one to every
 * other core only. Needs 2 CPUs (-smp 2).
 * QEMU 7.2: agrees on everything checked here. */
#include "smp.h"

#define PLAN 8

static volatile uint32_t runs[SMP_MAX_CPUS], nested, in_nmi;
static volatile uint32_t if_inside[8], if_before[8];
static volatile uint32_t hold_run, holding, release_hold;

static void on_nmi(struct trap_frame *f)
{
    unsigned cpu = smp_this_cpu();
    if (in_nmi)
        nested++;
    in_nmi = 1;
    uint32_t run = ++runs[cpu];
    if (cpu == 1 && run < 8) {
        if_inside[run] = read_eflags() & 0x200;
        if_before[run] = f->eflags & 0x200;
    }
    if (cpu == 1 && run == hold_run) {
        holding = 1;
        while (!release_hold)
            cpu_relax();
    }
    in_nmi = 0;
}

static void nothing(unsigned cpu) { (void)cpu; }
static void do_cli(unsigned cpu) { (void)cpu; __asm__ volatile("cli"); }
static void do_sti(unsigned cpu) { (void)cpu; __asm__ volatile("sti"); }
static void lapic_off(unsigned cpu) { (void)cpu; lapic_write(LAPIC_SVR, 0x0FF); }
static void lapic_on(unsigned cpu) { (void)cpu; lapic_write(LAPIC_SVR, 0x1FF); }

int kmain(void)
{
    kernel_init();
    smp_init();
    if (smp_cpu_count() < 2)
        tap_skip_all("needs 2 CPUs");
    tap_plan(PLAN);
    trap_set_handler(2, on_nmi, 0x8E, 0);
    smp_start_aps(smp_serve);
    uint8_t ap1 = smp_apic_id(1);
    smp_call(1, nothing, 100);        /* AP 1 is in smp_serve, IF = 1 */

    ipi_send(ap1, ICR_NMI | ICR_ASSERT);
    SMP_WAIT(runs[1] == 1, 50);
    ok(runs[1] == 1 && runs[0] == 0, "an NMI IPI to APIC ID %u ran the handler on AP 1 (AP 1: %u, BSP: %u)",
       ap1, runs[1], runs[0]);
    ok(runs[1] == 1 && !if_inside[1] && if_before[1],
       "the handler ran with IF = 0 (EFLAGS.IF %u), the interrupted code had IF = 1 (%u)",
       if_inside[1] >> 9, if_before[1] >> 9);

    smp_call(1, do_cli, 100);
    ipi_send(ap1, ICR_NMI | ICR_ASSERT);
    SMP_WAIT(runs[1] == 2, 50);
    ok(runs[1] == 2 && !if_before[2], "an NMI is taken while IF = 0 (runs %u, IF before %u)", runs[1],
       if_before[2] >> 9);
    smp_call(1, do_sti, 100);

    /* blocking: two more while the handler of the third holds */
    hold_run = 3;
    ipi_send(ap1, ICR_NMI | ICR_ASSERT);
    SMP_WAIT(holding, 50);
    ipi_send(ap1, ICR_NMI | ICR_ASSERT);
    ipi_send(ap1, ICR_NMI | ICR_ASSERT);
    smp_delay_us(5000);
    uint32_t during = runs[1];
    ok(holding && during == 3, "NMIs sent while the handler runs wait (runs %u after 5 ms)", during);
    release_hold = 1;
    SMP_WAIT(runs[1] >= 4, 50);
    ok(runs[1] >= 4 && nested == 0, "one ran after the handler's IRET, none nested (runs %u, nested %u)",
       runs[1], nested);
    smp_delay_us(5000);
    ok(runs[1] == 4, "of the two sent during the handler one was kept, one lost (runs %u)", runs[1]);

    smp_call(1, lapic_off, 100);
    ipi_send(ap1, ICR_NMI | ICR_ASSERT);
    SMP_WAIT(runs[1] == 5, 50);
    ok(runs[1] == 5, "a software-disabled LAPIC (SVR 0x0FF) accepts an NMI (runs %u)", runs[1]);
    smp_call(1, lapic_on, 100);

    ipi_send(0, ICR_OTHERS | ICR_NMI | ICR_ASSERT);
    SMP_WAIT(runs[1] == 6, 50);
    smp_delay_us(2000);
    ok(runs[1] == 6 && runs[0] == 0 && nested == 0,
       "all-excluding-self NMI: AP 1 took it (runs %u), the BSP none (%u)", runs[1], runs[0]);
    tap_done();
}
