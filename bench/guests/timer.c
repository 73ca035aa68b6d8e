/* Benchmark guest: timer ticks per second of host time. The local APIC timer in periodic mode
 * every 1000 cycles (a 1 MHz tick on the 1 GHz core, far faster than any kernel's HZ), the core
 * asleep in HLT between ticks: the run is all event scheduling, acceptance, delivery, EOI. */
#include "kernel.h"

#define TICKS 1000000u

volatile uint32_t ticks;
extern void tick_entry(void);
__asm__(".text\n"
        "tick_entry:\n"
        "  incl ticks\n"
        "  movl $0, 0xFEE000B0\n"   /* EOI */
        "  iret\n");

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_gate(0x40, tick_entry, 0x8E, 0);
    volatile uint32_t *lapic = (volatile uint32_t *)0xFEE00000u;
    lapic[0xF0 / 4] = 0x1FF;
    lapic[0x3E0 / 4] = 0xB;          /* divide by 1 */
    lapic[0x320 / 4] = 0x20040;      /* periodic, vector 0x40 */
    lapic[0x380 / 4] = 1000;
    __asm__ volatile("sti");
    while (ticks < TICKS)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    lapic[0x380 / 4] = 0;
    printf("timer: events %u (local APIC timer ticks, the core halted in between)\n", ticks);
    return 0;
}
