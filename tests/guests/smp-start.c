/* Guest test smp-start: MP initialization (SDM Vol. 3 8.4, MP spec 1.4 B.4). INIT-SIPI-SIPI
 * starts every AP (targeted, per MADT entry, as Linux does; with the argument "broadcast" the
 * SDM 8.4.4.1 broadcast sequence); N CPUs report in with distinct APIC IDs; each AP's CPUID.1
 * EBX[31:24] is its LAPIC ID; the AP began in real mode at VV00:0000 of the SIPI vector's page
 * (the trampoline's real-mode mark, CS, MSW.PE = 0, DS = SS = 0, EDX = the processor signature:
 * SDM Table 9-1); the BSP flag of IA32_APIC_BASE is set on the BSP only; an AP's LAPIC is as
 * INIT leaves it (SVR 0xFF: software-disabled, LDR 0, DFR flat, LVTs masked, SDM 10.4.7.1);
 * each AP uses the shared IDT and its own stack. Run with -smp 2 and 4; with one CPU only the
 * BSP's checks run (the others are TAP skips).
 * QEMU 7.2: agrees on everything checked here. */
#include "smp.h"

#define PLAN 19

static volatile uint32_t ran[SMP_MAX_CPUS], ran_if[SMP_MAX_CPUS], int_hits[SMP_MAX_CPUS];

static void on_int41(struct trap_frame *f)
{
    (void)f;
    int_hits[smp_this_cpu()]++;
}

/* "0 1 2 3": the CPUs' APIC IDs in CPU order */
static const char *id_list(unsigned n)
{
    static char buf[4 * SMP_MAX_CPUS + 1];
    char *p = buf;
    for (unsigned i = 0; i < n; i++) {
        unsigned v = smp_apic_id(i);
        if (i)
            *p++ = ' ';
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
    }
    *p = 0;
    return buf;
}

static void ap_main(unsigned cpu)
{
    ran_if[cpu] = read_eflags() & 0x200;
    ran[cpu]++;
    __asm__ volatile("int $0x41");  /* through the shared IDT */
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    kernel_init();
    smp_init();
    int broadcast = (info->flags & MB_INFO_CMDLINE) && strstr((const char *)info->cmdline, " broadcast");
    smp_use_broadcast(broadcast);
    trap_set_handler(0x41, on_int41, 0x8E, 0);
    tap_plan(PLAN);

    unsigned n = smp_cpu_count();
    unsigned fw = smp_fw_cfg_cpu_count();
    ok(fw >= 1 && fw <= SMP_MAX_CPUS, "fw_cfg NB_CPUS (key 0x05): %u CPUs", fw);
    uint8_t ids[SMP_MAX_CPUS];
    unsigned madt = smp_madt_apic_ids(ids, SMP_MAX_CPUS);
    int bsp_listed = 0;
    for (unsigned i = 0; i < madt; i++)
        bsp_listed |= ids[i] == lapic_id();
    ok(madt == n && bsp_listed, "the MADT lists %u enabled processors, the BSP (APIC ID %u) among them",
       madt, lapic_id());
    uint64_t base = rdmsr(0x1B);
    ok((base & 0x100) && (base & 0x800) && (base & 0xFFFFF000u) == LAPIC_BASE,
       "BSP: IA32_APIC_BASE 0x%x: BSP flag, enabled, at 0xfee00000", (uint32_t)base);
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    ok(b >> 24 == lapic_id(), "BSP: CPUID.1:EBX[31:24] %u = LAPIC ID %u", b >> 24, lapic_id());
    if (n < 2) {
        for (int i = 4; i < PLAN; i++)
            ok(1, "# SKIP needs 2 CPUs");
        tap_done();
    }

    unsigned running = smp_start_aps(ap_main);
    const struct smp_boot_stats *st = smp_boot_stats();
    SMP_WAIT(smp_finished() >= n - 1, 100);
    ok(st->early_arrivals == 0, "no AP ran before its SIPI (%u early arrivals after %u INITs)",
       st->early_arrivals, st->inits);
    ok(running == n && st->reported == n - 1, "%s INIT-SIPI-SIPI: %u of %u APs reported in, %u CPUs",
       st->broadcast ? "broadcast" : "targeted", st->reported, n - 1, running);
    struct smp_trampoline_state *ts = smp_trampoline_state(SMP_TRAMPOLINE);
    ok(ts->arrivals == n - 1, "each AP ran the trampoline once: %u arrivals (%u SIPIs sent, %u resent)",
       ts->arrivals, st->sipis, st->second_sipis);
    ok(ts->mark == SMP_TRAMPOLINE_MARK, "the real-mode mark in page 0x%x: 0x%x", SMP_TRAMPOLINE, ts->mark);

    int cs_ok = 1, segs_ok = 1, distinct = 1, in_madt = 1, cpuid_ok = 1, bsp_flag_ok = 1, lapic_ok = 1;
    int order_ok = 1, tables_ok = 1, stacks_ok = 1;
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr, idtr;
    __asm__ volatile("sgdt %0\n sidt %1" : "=m"(gdtr), "=m"(idtr));
    for (unsigned cpu = 1; cpu < running; cpu++) {
        const struct smp_ap_info *r = smp_info(cpu);
        if (!r)
            continue;
        if (r->entry_cs != (SMP_TRAMPOLINE >> 4) || (r->entry_msw & 1)) {
            cs_ok = 0;
            printf("# cpu %u: CS 0x%x MSW 0x%x at entry\n", cpu, r->entry_cs, r->entry_msw);
        }
        if (r->entry_ds || r->entry_ss || r->entry_edx != r->cpuid_signature) {
            segs_ok = 0;
            printf("# cpu %u: DS 0x%x SS 0x%x EDX 0x%x (signature 0x%x)\n", cpu, r->entry_ds,
                   r->entry_ss, r->entry_edx, r->cpuid_signature);
        }
        for (unsigned o = 0; o < cpu; o++)
            if (smp_apic_id(o) == r->apic_id)
                distinct = 0;
        int listed = 0;
        for (unsigned i = 0; i < madt; i++)
            listed |= ids[i] == r->apic_id;
        in_madt &= listed;
        if (r->cpuid_apic_id != r->apic_id) {
            cpuid_ok = 0;
            printf("# cpu %u: CPUID initial APIC ID %u, LAPIC ID %u\n", cpu, r->cpuid_apic_id, r->apic_id);
        }
        if ((r->apic_base & 0x100) || !(r->apic_base & 0x800) || (r->apic_base & 0xFFFFF000u) != LAPIC_BASE) {
            bsp_flag_ok = 0;
            printf("# cpu %u: IA32_APIC_BASE 0x%x\n", cpu, (uint32_t)r->apic_base);
        }
        if ((r->svr & 0x1FF) != 0xFF || r->tpr || r->ldr || r->dfr != 0xFFFFFFFFu ||
            !(r->lvt_timer & 0x10000) || !(r->lvt_lint0 & 0x10000) || !(r->lvt_lint1 & 0x10000)) {
            lapic_ok = 0;
            printf("# cpu %u: SVR 0x%x TPR 0x%x LDR 0x%x DFR 0x%x LVT timer 0x%x LINT0 0x%x LINT1 0x%x\n",
                   cpu, r->svr, r->tpr, r->ldr, r->dfr, r->lvt_timer, r->lvt_lint0, r->lvt_lint1);
        }
        if (ran[cpu] != 1 || ran_if[cpu] || r->apic_id <= smp_apic_id(cpu - 1))
            order_ok = 0;
        if (r->gdtr_base != gdtr.base || r->idtr_base != idtr.base || int_hits[cpu] != 1)
            tables_ok = 0;
        uint32_t lo = (uint32_t)smp_stacks[r->slot], hi = lo + SMP_STACK_SIZE;
        if (r->esp <= lo || r->esp > hi)
            stacks_ok = 0;
        for (unsigned o = 1; o < cpu; o++)
            if (smp_info(o) && smp_info(o)->slot == r->slot)
                stacks_ok = 0;
    }
    ok(cs_ok, "every AP began in real mode at CS:IP 0x%x:0000 (MSW.PE = 0)", SMP_TRAMPOLINE >> 4);
    ok(segs_ok, "at the SIPI entry DS = SS = 0 and EDX = CPUID.1:EAX (0x%x)",
       smp_info(1) ? smp_info(1)->cpuid_signature : 0);
    ok(distinct, "APIC IDs distinct: %s", id_list(running));
    ok(in_madt, "each AP's APIC ID is one the MADT lists");
    ok(cpuid_ok, "each AP's CPUID.1:EBX[31:24] equals its LAPIC ID");
    ok(bsp_flag_ok, "IA32_APIC_BASE on each AP: BSP flag clear, enabled, at 0xfee00000 (AP 1: 0x%x)",
       smp_info(1) ? (uint32_t)smp_info(1)->apic_base : 0);
    ok(lapic_ok, "each AP's LAPIC as INIT leaves it: SVR 0x%x, LDR 0, DFR 0xffffffff, TPR 0, LVTs masked",
       smp_info(1) ? smp_info(1)->svr : 0);
    ok(order_ok, "ap_main ran once on CPUs 1-%u with IF = 0, numbered in APIC ID order", running - 1);
    ok(tables_ok, "each AP loaded the kernel's GDT and IDT: int 0x41 reached the shared handler on it");
    ok(stacks_ok, "each AP ran on its own stack slot");
    ok(smp_finished() == n - 1, "%u APs returned from ap_main", smp_finished());
    tap_done();
}
