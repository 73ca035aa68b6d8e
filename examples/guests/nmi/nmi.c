/* nmi: maskable vs non-maskable. A hardware interrupt (the local APIC timer) runs its handler
 * with IF = 0: further maskable interrupts wait. An NMI does not: it arrives while that
 * handler runs and preempts it. While the NMI handler runs, the processor blocks further NMIs
 * until the next IRET: a second NMI raised inside it waits (one is remembered) and runs right
 * after the first one's IRET, before the interrupted handler resumes (SDM Vol. 3 6.7.1). */
#include "kernel.h"

#define LAPIC_BASE 0xFEE00000u
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }
static void send_self_nmi(void) { lapic_write(0x300, 0x00040400); } /* ICR: NMI, to self */

static volatile int in_timer, in_nmi, nmi_count, nested, timer_done;

static void on_nmi(struct trap_frame *f)
{
    nmi_count++;
    if (in_nmi)
        nested++;
    in_nmi = 1;
    printf("  NMI #%d: entered at EIP 0x%08x (%s), IF was %s\n", nmi_count, f->eip,
           in_timer ? "inside the timer handler" : "outside any handler",
           (f->eflags & 0x200) ? "1" : "0: NMIs ignore IF");
    if (nmi_count == 1) {
        printf("  NMI #1: sending a second NMI to myself: blocked until my IRET\n");
        send_self_nmi();
        printf("  NMI #1: still running, not preempted; returning (IRET ends the blocking)\n");
    }
    in_nmi = 0;
}

static void on_timer(struct trap_frame *f)
{
    (void)f;
    in_timer = 1;
    printf("  timer interrupt (vector 0x40): a maskable hardware interrupt, IF = 0 in here\n");
    printf("  timer handler: an NMI arrives now (a watchdog, a hardware error...)\n");
    send_self_nmi();
    /* here the NMI comes at the next instruction boundary; hardware may take a few more */
    for (int spin = 0; nmi_count < 2 && spin < 1000000; spin++)
        __asm__ volatile("pause");
    printf("  timer handler: resumed after %d NMIs; EOI to the local APIC\n", nmi_count);
    lapic_write(0xB0, 0);
    in_timer = 0;
    timer_done = 1;
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_handler(2, on_nmi, 0x8E, 0);
    trap_set_handler(0x40, on_timer, 0x8E, 0);
    printf("nmi: the local APIC timer fires once (one-shot, vector 0x40)\n");
    lapic_write(0xF0, 0x1FF);        /* SVR: APIC software-enabled */
    lapic_write(0x3E0, 0xB);         /* divide by 1 */
    lapic_write(0x320, 0x40);        /* LVT timer: one-shot, vector 0x40 */
    lapic_write(0x380, 100000);      /* in 100000 bus clocks */
    __asm__ volatile("sti");
    while (!timer_done)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    printf("nmi: %d NMIs handled, %d nested (NMIs never nest: blocked until IRET)\n", nmi_count,
           nested);
    return nmi_count == 2 && nested == 0 ? 0 : 1;
}
