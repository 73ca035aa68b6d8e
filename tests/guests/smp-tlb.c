/* Guest test smp-tlb: a TLB shootdown as Linux does it (SDM Vol. 3 4.10.4 invalidation,
 * 4.10.5 propagation to other processors: "software must ... use an IPI"). Both cores run
 * with the same 32-bit page tables: 4 MiB pages (CR4.PSE) identity-map the RAM and the APIC
 * window (uncached), a 4 KiB table the first 4 MiB, where page V = 0x3FF000 is mapped to
 * frame A or B.
 *  - AP 1 reads V (frame A; its page walk sets the PTE's Accessed bit, SDM 4.8);
 *  - the BSP points the PTE at B, invlpg's locally and reads B, sends an IPI; AP 1's handler
 *    runs invlpg and acks; then AP 1 reads B;
 *  - without the shootdown AP 1 may or may not still see A (its TLB may keep the old entry,
 *    SDM 4.10.2.4): reported, not asserted; after one it reads B;
 *  - the PTE cleared (not present) and shot down: AP 1's read faults there (#PF with
 *    CR2 = V and error code 0), its handler maps A and the read gives A.
 * Needs 2 CPUs (-smp 2).
 * QEMU 7.2: agrees on everything checked here (without the shootdown its AP kept the old
 * translation). */
#include "smp.h"

#define PLAN 8
#define V_FLUSH 0x70
#define PAGE_V 0x3FF000u
#define FRAME_A 0x3FD000u
#define FRAME_B 0x3FE000u
#define VALUE_A 0xAAAA1111u
#define VALUE_B 0xBBBB2222u

extern char _end[];
static uint32_t directory[1024] __attribute__((aligned(4096)));
static uint32_t table0[1024] __attribute__((aligned(4096)));
static volatile uint32_t *const pte_v = &table0[PAGE_V >> 12];
static volatile uint32_t ap_value, flush_acks, flush_cpu, pf_count, pf_cpu, pf_cr2, pf_error;

static void invlpg(uint32_t address) { __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory"); }
static uint32_t read_v(void)
{
    const volatile uint32_t *p = (const volatile uint32_t *)PAGE_V;
    __asm__("" : "+r"(p));
    return *p;
}
static void write_phys(uint32_t address, uint32_t v)
{
    volatile uint32_t *p = (volatile uint32_t *)address;
    __asm__("" : "+r"(p));
    *p = v;
}

static void paging_on(unsigned cpu)
{
    (void)cpu;
    uint32_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 0x10));          /* PSE */
    __asm__ volatile("mov %0, %%cr3" : : "r"(directory) : "memory");
    __asm__ volatile("mov %0, %%cr0" : : "r"(read_cr0() | 0x80000000u) : "memory");
}
static void ap_read(unsigned cpu)
{
    (void)cpu;
    uint32_t v = 0;
    for (int i = 0; i < 100; i++)   /* keep the translation in use */
        v = read_v();
    ap_value = v;
}
static void on_flush(struct trap_frame *f)
{
    (void)f;
    invlpg(PAGE_V);
    flush_cpu = smp_this_cpu();
    flush_acks++;
    lapic_eoi();
}
static void on_page_fault(struct trap_frame *f)
{
    pf_count++;
    pf_cpu = smp_this_cpu();
    pf_cr2 = read_cr2();
    pf_error = f->error_code;
    *pte_v = FRAME_A | 0x3;         /* map it; the read runs again */
    invlpg(PAGE_V);
}
/* the BSP's half of a shootdown: IPI AP 1 and wait for its ack */
static int shootdown(void)
{
    uint32_t before = flush_acks;
    invlpg(PAGE_V);
    ipi_send(smp_apic_id(1), ICR_ASSERT | V_FLUSH);
    return SMP_WAIT(flush_acks == before + 1, 50);
}

int kmain(void)
{
    kernel_init();
    smp_init();
    if (smp_cpu_count() < 2)
        tap_skip_all("needs 2 CPUs");
    if ((uint32_t)_end > 0x300000u) {
        printf("Bail out! the image reaches 0x%x, over the test frames\n", (uint32_t)_end);
        exit(1);
    }
    tap_plan(PLAN);
    trap_set_handler(V_FLUSH, on_flush, 0x8E, 0);
    trap_set_handler(14, on_page_fault, 0x8E, 0);
    smp_start_aps(smp_serve);

    for (unsigned i = 0; i < 1024; i++)
        table0[i] = i << 12 | 0x3;
    directory[0] = (uint32_t)table0 | 0x3;
    for (unsigned i = 1; i < 16; i++)                      /* 4-64 MiB */
        directory[i] = i << 22 | 0x83;
    directory[LAPIC_BASE >> 22] = (IOAPIC_BASE & 0xFFC00000u) | 0x9B; /* PS, PCD, PWT: the APICs */
    write_phys(FRAME_A, VALUE_A);
    write_phys(FRAME_B, VALUE_B);
    *pte_v = FRAME_A | 0x3;
    paging_on(0);
    smp_call(1, paging_on, 100);
    __asm__ volatile("sti");

    smp_call(1, ap_read, 100);
    ok(ap_value == VALUE_A && (*pte_v & 0x20),
       "AP 1 with paging on reads V = 0x%x (frame A), its walk set the PTE's Accessed bit (PTE 0x%x)",
       ap_value, *pte_v);

    *pte_v = FRAME_B | 0x3;
    invlpg(PAGE_V);
    uint32_t bsp_value = read_v();
    ok(bsp_value == VALUE_B, "the BSP remapped V to frame B, invlpg, reads 0x%x", bsp_value);
    int acked = shootdown();
    ok(acked && flush_cpu == 1, "shootdown IPI: AP 1's handler ran invlpg and acked (%u acks, on CPU %u)",
       flush_acks, flush_cpu);
    smp_call(1, ap_read, 100);
    ok(ap_value == VALUE_B, "after the shootdown AP 1 reads 0x%x (frame B)", ap_value);

    /* no shootdown: not asserted */
    *pte_v = FRAME_A | 0x3;
    shootdown();
    smp_call(1, ap_read, 100);
    uint32_t warm = ap_value;
    *pte_v = FRAME_B | 0x3;
    smp_call(1, ap_read, 100);
    uint32_t stale = ap_value;
    shootdown();
    smp_call(1, ap_read, 100);
    ok(warm == VALUE_A && ap_value == VALUE_B,
       "without a shootdown AP 1 saw %s (0x%x, not asserted); after one, frame B (0x%x)",
       stale == VALUE_A ? "the old frame A" : stale == VALUE_B ? "the new frame B" : "neither frame",
       stale, ap_value);

    /* not present */
    *pte_v = 0;
    shootdown();
    smp_call(1, ap_read, 100);
    ok(pf_count == 1 && pf_cpu == 1, "the unmapped V faulted once, on AP 1 (%u faults, CPU %u)", pf_count, pf_cpu);
    ok(pf_cr2 == PAGE_V && pf_error == 0, "#PF on AP 1: CR2 0x%x, error code 0x%x (not present, read, supervisor)",
       pf_cr2, pf_error);
    ok(ap_value == VALUE_A, "the handler mapped frame A, the read ran again: 0x%x", ap_value);
    __asm__ volatile("cli");
    tap_done();
}
