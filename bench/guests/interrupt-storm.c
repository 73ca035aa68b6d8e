/* Benchmark guest: an interrupt storm. Self IPIs through the local APIC's ICR (fixed, vector
 * 0x40): the handler counts, sends the EOI and re-arms the next IPI, so every interrupt is a
 * full acceptance (IRR -> ISR), delivery through the IDT, EOI and IRET. The handler is a few
 * instructions of assembly, so the figure measures the interrupt path. bench/run.sh divides the
 * events by host time: delivered interrupts per second. */
#include "kernel.h"

#define STORM 2000000u

volatile uint32_t storm_count;
extern void storm_entry(void);
__asm__(".text\n"
        "storm_entry:\n"
        "  incl storm_count\n"
        "  movl $0, 0xFEE000B0\n"              /* EOI */
        "  cmpl $2000000, storm_count\n"
        "  jae 1f\n"
        "  movl $0x00040040, 0xFEE00300\n"     /* ICR: self, fixed, vector 0x40 */
        "1: iret\n");

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_gate(0x40, storm_entry, 0x8E, 0);
    *(volatile uint32_t *)0xFEE000F0u = 0x1FF;      /* SVR: software-enabled */
    __asm__ volatile("sti");
    *(volatile uint32_t *)0xFEE00300u = 0x00040040; /* the first IPI */
    while (storm_count < STORM)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    printf("interrupt-storm: events %u (self IPIs through the local APIC)\n", storm_count);
    return storm_count == STORM ? 0 : 1;
}
