/* Benchmark guest: the interrupt storm in IA-32e mode, the counterpart of interrupt-storm.c.
 * Self IPIs through the local APIC's ICR (fixed, vector 0x40) delivered through a 64-bit
 * interrupt gate: the handler counts, sends the EOI and re-arms the next IPI, so every
 * interrupt is a full acceptance (IRR -> ISR), delivery through the 16-byte gate, EOI and
 * IRETQ. The handler is a few instructions of assembly (the LAPIC lies at 0xFEE00000, above
 * what a sign-extended 32-bit displacement reaches in 64-bit mode, so it goes through RAX,
 * saved and restored: two instructions more than the 32-bit handler). The guest checks the
 * count and exits 1 when it is off. */
#include "kernel64.h"

#define STORM 2000000u

volatile uint64_t storm_count;
extern void storm_entry(void);
__asm__(".text\n"
        "storm_entry:\n"
        "  push %rax\n"
        "  mov $0xFEE00000, %eax\n"
        "  incq storm_count(%rip)\n"
        "  movl $0, 0xB0(%rax)\n"              /* EOI */
        "  cmpq $2000000, storm_count(%rip)\n"
        "  jae 1f\n"
        "  movl $0x00040040, 0x300(%rax)\n"    /* ICR: self, fixed, vector 0x40 */
        "1: pop %rax\n"
        "  iretq\n");

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    idt_set_gate(0x40, (uint64_t)(uintptr_t)storm_entry, KERNEL_CS, GATE_INTERRUPT, 0);
    lapic_write(LAPIC_SVR, 0x1FF);            /* software-enabled */
    lapic_write(LAPIC_ICR_LOW, 0x00040040);   /* the first IPI (taken at the STI below) */
    /* sleep until the storm is over; STI's one-instruction shadow keeps the last IPI from
     * landing between the check and HLT */
    for (;;) {
        cli();
        if (storm_count >= STORM)
            break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    printf("interrupt-storm64: events %lu (self IPIs through the local APIC)\n", storm_count);
    return storm_count == STORM ? 0 : 1;
}
