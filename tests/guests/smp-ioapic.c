/* Guest test smp-ioapic: IOAPIC interrupts to other cores (82093AA datasheet 3.2.4; SDM Vol. 3
 * 10.6.2 destinations), raised through pc-testdev (a byte to port 0x2000 + n sets ISA line n;
 * QEMU needs -device pc-testdev). The BSP raises every line; the deliveries are counted per CPU.
 *  - edge, logical destination 0x02 with LDR 0x02 on AP 1 only: AP 1 takes each edge, the BSP
 *    none; a logical mask of two cores (fixed delivery): both take each edge;
 *  - edge, physical destination: the APIC ID of CPU 2 (CPU 1 with -smp 2);
 *  - level, physical destination AP 1: with the line still high at AP 1's EOI the entry
 *    interrupts again (Remote IRR, set while the handler runs, cleared by that EOI, 82093AA
 *    3.2.4); the handler lowers the line the second time; Remote IRR ends clear, the BSP sent
 *    no EOI and took nothing.
 * Run with -smp 2 and 4 (skipped without pc-testdev, e.g. on hardware).
 * QEMU 7.2: agrees on everything checked here. */
#include "smp.h"

#define PLAN 7
#define V_EDGE 0x60
#define V_LEVEL 0x61
#define EDGE_LINE 10
#define LEVEL_LINE 5

static unsigned n;
static volatile uint32_t edge_hits[SMP_MAX_CPUS], level_hits[SMP_MAX_CPUS];
static volatile uint32_t remote_irr_in_handler[4];
static uint32_t ldr_want[SMP_MAX_CPUS];

static void line(unsigned l, int level) { outb((uint16_t)(0x2000 + l), (uint8_t)level); }
static uint32_t rte_low(unsigned pin) { return ioapic_read(0x10 + 2 * pin); }

static void on_edge(struct trap_frame *f) { (void)f; edge_hits[smp_this_cpu()]++; lapic_eoi(); }
static void on_level(struct trap_frame *f)
{
    (void)f;
    unsigned cpu = smp_this_cpu();
    uint32_t k = level_hits[cpu]++;
    if (k < 4)
        remote_irr_in_handler[k] = rte_low(LEVEL_LINE) & 0x4000;
    if (k == 1)
        line(LEVEL_LINE, 0);   /* the device is serviced: its line drops before the EOI */
    lapic_eoi();
}
static void set_ldr(unsigned cpu)
{
    lapic_write(LAPIC_DFR, 0xFFFFFFFFu);
    lapic_write(LAPIC_LDR, ldr_want[cpu]);
}
static void ldrs(uint32_t l0, uint32_t l1, uint32_t l2)
{
    for (unsigned i = 0; i < n; i++)
        ldr_want[i] = 0;
    ldr_want[0] = l0;
    ldr_want[1] = l1;
    if (n > 2)
        ldr_want[2] = l2;
    uint32_t f = irq_save();
    set_ldr(0);
    irq_restore(f);
    smp_call(SMP_ALL_APS, set_ldr, 100);
}
static uint32_t total(volatile uint32_t *h)
{
    uint32_t t = 0;
    for (unsigned i = 0; i < n; i++)
        t += h[i];
    return t;
}
/* edges on the edge line, each waited for; the per-CPU counts as digits */
static const char *edges(unsigned count, unsigned per_edge)
{
    static char got[SMP_MAX_CPUS + 1];
    for (unsigned i = 0; i < n; i++)
        edge_hits[i] = 0;
    for (unsigned e = 1; e <= count; e++) {
        line(EDGE_LINE, 1);
        SMP_WAIT(total(edge_hits) >= e * per_edge, 50);
        line(EDGE_LINE, 0);
    }
    smp_delay_us(2000);
    for (unsigned i = 0; i < n; i++)
        got[i] = (char)(edge_hits[i] < 10 ? '0' + edge_hits[i] : '+');
    got[n] = 0;
    return got;
}
static int only(unsigned cpu_mask, unsigned count)
{
    for (unsigned i = 0; i < n; i++)
        if (edge_hits[i] != ((cpu_mask >> i) & 1 ? count : 0))
            return 0;
    return 1;
}

int kmain(void)
{
    kernel_init();
    smp_init();
    n = smp_cpu_count();
    if (n < 2)
        tap_skip_all("needs 2 CPUs");
    outl(0xE0, 0x5A5AA5A5u);                /* pc-testdev's scratch register */
    if (inl(0xE0) != 0x5A5AA5A5u)
        tap_skip_all("needs pc-testdev (QEMU: -device pc-testdev)");
    tap_plan(PLAN);
    trap_set_handler(V_EDGE, on_edge, 0x8E, 0);
    trap_set_handler(V_LEVEL, on_level, 0x8E, 0);
    smp_start_aps(smp_serve);
    n = smp_running();
    line(EDGE_LINE, 0);
    line(LEVEL_LINE, 0);
    __asm__ volatile("sti");

    ldrs(0, 0x02000000u, 0);
    ioapic_route(EDGE_LINE, 0x800 | V_EDGE, 0x02);            /* fixed, logical, edge */
    const char *got = edges(3, 1);
    ok(only(0x2, 3), "edge, logical destination 0x02 (LDR 0x02 on AP 1 only): per-CPU %s, AP 1 took all 3", got);

    uint32_t pair = n > 2 ? 0x6 : 0x3;
    if (n > 2)
        ldrs(0, 0x02000000u, 0x04000000u);
    else
        ldrs(0x01000000u, 0x02000000u, 0);
    ioapic_route(EDGE_LINE, 0x800 | V_EDGE, (uint8_t)pair);
    got = edges(2, 2);
    ok(only(pair, 2), "edge, logical mask 0x%x (two cores' LDRs): both took each edge, per-CPU %s", pair, got);
    ldrs(0, 0, 0);

    unsigned target = n > 2 ? 2 : 1;
    ioapic_route(EDGE_LINE, V_EDGE, smp_apic_id(target));     /* fixed, physical, edge */
    got = edges(3, 1);
    ok(only(1u << target, 3), "edge, physical destination APIC ID %u: per-CPU %s, CPU %u took all 3",
       smp_apic_id(target), got, target);
    ioapic_route(EDGE_LINE, 0x10000 | V_EDGE, 0);

    /* level, physical AP 1 */
    ioapic_route(LEVEL_LINE, 0x8000 | V_LEVEL, smp_apic_id(1));
    line(LEVEL_LINE, 1);
    SMP_WAIT(level_hits[1] >= 2, 50);
    smp_delay_us(2000);
    ok(level_hits[1] == 2, "level, physical AP 1: the line still high at AP 1's EOI interrupted again, then it dropped: %u deliveries",
       level_hits[1]);
    ok(remote_irr_in_handler[0] && remote_irr_in_handler[1],
       "Remote IRR was set while AP 1's handler ran (%u, %u)", remote_irr_in_handler[0] >> 14,
       remote_irr_in_handler[1] >> 14);
    uint32_t low = rte_low(LEVEL_LINE);
    ok(!(low & 0x4000), "AP 1's EOI cleared Remote IRR (entry 0x%x)", low);
    ok(level_hits[0] == 0 && total(level_hits) == 2, "the BSP took none of the level interrupts (%u)", level_hits[0]);
    ioapic_route(LEVEL_LINE, 0x10000 | V_LEVEL, 0);
    __asm__ volatile("cli");
    tap_done();
}
