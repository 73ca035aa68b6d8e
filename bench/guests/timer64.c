/* Benchmark guest: timer ticks per second of host time in IA-32e mode, the counterpart of
 * timer.c. The local APIC timer in periodic mode every 1000 cycles (a 1 MHz tick on the 1 GHz
 * core), the core asleep in HLT between ticks, each tick through a 64-bit interrupt gate to a
 * handler that counts, sends the EOI and returns with IRETQ. The guest checks that the count
 * reached its target and exits 1 otherwise. */
#include "kernel64.h"

#define TICKS 1000000u

volatile uint64_t ticks;
extern void tick_entry(void);
__asm__(".text\n"
        "tick_entry:\n"
        "  push %rax\n"
        "  mov $0xFEE00000, %eax\n"
        "  incq ticks(%rip)\n"
        "  movl $0, 0xB0(%rax)\n"   /* EOI */
        "  pop %rax\n"
        "  iretq\n");

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    idt_set_gate(0x40, (uint64_t)(uintptr_t)tick_entry, KERNEL_CS, GATE_INTERRUPT, 0);
    lapic_write(LAPIC_SVR, 0x1FF);
    lapic_write(0x3E0, 0xB);          /* divide by 1 */
    lapic_write(0x320, 0x20040);      /* periodic, vector 0x40 */
    lapic_write(0x380, 1000);         /* initial count */
    for (;;) {
        cli();
        if (ticks >= TICKS)
            break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    lapic_write(0x380, 0);
    uint64_t n = ticks;
    printf("timer64: events %lu (local APIC timer ticks, the core halted in between)\n", n);
    return n >= TICKS && n < TICKS + 16 ? 0 : 1;
}
