/* legacy-pic: the same kind of timer as a 1990s PC delivers it. The PIT's IRQ0 goes to the
 * 8259A master; the 8259's INT output reaches the core through the local APIC's LINT0 in
 * virtual-wire mode (delivery mode ExtINT), and the core's interrupt acknowledge (INTA) cycle
 * goes back out to the 8259, which answers with the vector: its base (remapped to 0x20, away
 * from the exception vectors where the BIOS leaves it) plus the IRQ number. The handler must
 * end the interrupt at the 8259 (non-specific EOI to port 0x20), not at the local APIC. */
#include "kernel.h"

#define TICKS 10
static volatile unsigned jiffies;
static volatile uint64_t stamps[TICKS + 1];
static volatile uint8_t isr_seen;

static inline uint8_t in8(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void on_irq0(struct trap_frame *f)
{
    (void)f;
    if (jiffies <= TICKS)
        stamps[jiffies] = rdtsc();
    if (jiffies == 0) {
        outb(0x20, 0x0B);        /* OCW3: read ISR */
        isr_seen = in8(0x20);
    }
    jiffies++;
    outb(0x20, 0x20);            /* OCW2: non-specific EOI */
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();               /* masks both 8259s */
    trap_set_handler(0x20, on_irq0, 0x8E, 0);
    printf("legacy-pic: remap the 8259s: master vectors 0x20-0x27, slave 0x28-0x2F\n");
    outb(0x20, 0x11); outb(0xA0, 0x11);  /* ICW1: edge, cascade, ICW4 follows */
    outb(0x21, 0x20); outb(0xA1, 0x28);  /* ICW2: vector bases */
    outb(0x21, 0x04); outb(0xA1, 0x02);  /* ICW3: slave on IR2 */
    outb(0x21, 0x01); outb(0xA1, 0x01);  /* ICW4: 8086 mode */
    outb(0x21, 0xFE); outb(0xA1, 0xFF);  /* OCW1: only IRQ0 */
    printf("legacy-pic: PIT channel 0 at 100 Hz (mode 2, count 11932); IRQ0 -> 8259 -> LINT0 "
           "(ExtINT) -> core -> INTA -> vector 0x20\n");
    outb(0x43, 0x34);
    outb(0x40, 11932 & 0xFF);
    outb(0x40, 11932 >> 8);
    __asm__ volatile("sti");
    while (jiffies <= TICKS)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    outb(0x21, 0xFF);
    uint64_t interval = (stamps[TICKS] - stamps[0]) / TICKS;
    printf("legacy-pic: in the first handler the 8259's ISR was 0x%02x (IRQ0 in service until "
           "the EOI)\n", isr_seen);
    printf("legacy-pic: %u ticks, one every %u cycles (11932 * 1e9 / 1193182 = 10000150.9)\n",
           jiffies - 1, (uint32_t)interval);
    return isr_seen == 0x01 && interval >= 9999000 && interval <= 10001000 ? 0 : 1;
}
