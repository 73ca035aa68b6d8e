/* Benchmark guest: an IPI ping-pong between two CPUs (run with --smp=2, or qemu -smp 2). The
 * BSP sends a fixed IPI to CPU 1, whose handler answers with one back; the BSP's handler counts
 * the round trip and sends the next ping. Both cores sleep in HLT between interrupts, so the run
 * is all cross-core delivery: ICR write, the message on the APIC bus, the target's wake-up,
 * acceptance, IDT delivery, EOI and IRET, twice per round trip. bench/run.sh divides the events
 * (IPIs) by host time. */
#include "smp.h"

#define ROUND_TRIPS 200000u
#define V_PING 0x40
#define V_PONG 0x41

static volatile uint32_t round_trips;
static uint8_t bsp_id, ap_id;

static void send(uint8_t dest, uint32_t vector)
{
    lapic_write(LAPIC_ICR_HIGH, (uint32_t)dest << 24);
    lapic_write(LAPIC_ICR_LOW, ICR_FIXED | ICR_ASSERT | vector);
}
static void on_ping(struct trap_frame *f)
{
    (void)f;
    lapic_eoi();
    send(bsp_id, V_PONG);
}
static void on_pong(struct trap_frame *f)
{
    (void)f;
    lapic_eoi();
    if (++round_trips < ROUND_TRIPS)
        send(ap_id, V_PING);
}
/* CPU 1 (and any further AP) sleeps with interrupts on and answers pings */
static void serve(unsigned cpu)
{
    (void)cpu;
    __asm__ volatile("sti");
    for (;;)
        __asm__ volatile("hlt");
}

int kmain(void)
{
    kernel_init();
    smp_init();
    if (smp_cpu_count() < 2) {
        printf("ipi-pingpong: needs 2 CPUs (--smp=2)\n");
        return 1;
    }
    trap_set_handler(V_PING, on_ping, 0x8E, 0);
    trap_set_handler(V_PONG, on_pong, 0x8E, 0);
    smp_start_aps(serve);
    bsp_id = smp_apic_id(0);
    ap_id = smp_apic_id(1);
    __asm__ volatile("sti");
    send(ap_id, V_PING);
    while (round_trips < ROUND_TRIPS)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    printf("ipi-pingpong: events %u (IPIs: %u round trips between CPU 0 and CPU 1)\n",
           2 * round_trips, round_trips);
    return round_trips == ROUND_TRIPS ? 0 : 1;
}
