/* The guest of examples/embed/sensor: the host's "sensor" device (MMIO 0xFE001000) raises
 * interrupt line 5 when it has a sample. The guest routes line 5 through the IOAPIC
 * (level-triggered, vector 0x45), sleeps in HLT, and in the handler reads the sample (which
 * lowers the line, as a device's status read does) and sends the EOI. Exits 0 after five. */
#include "kernel.h"

#define SENSOR ((volatile uint32_t *)0xFE001000u)
#define IOAPIC_BASE 0xFEC00000u

static volatile uint32_t samples[8];
static volatile uint64_t when[8];
static volatile unsigned count;

static void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static void on_sensor(struct trap_frame *f)
{
    (void)f;
    if (count < 8) {
        when[count] = rdtsc();
        samples[count] = SENSOR[0];  /* reading the sample acknowledges the device */
    }
    count++;
    *(volatile uint32_t *)0xFEE000B0u = 0; /* EOI */
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_handler(0x45, on_sensor, 0x8E, 0);
    ioapic_write(0x10 + 2 * 5 + 1, 0);          /* destination APIC 0 */
    ioapic_write(0x10 + 2 * 5, 0x8045);         /* level-triggered, vector 0x45, unmasked */
    __asm__ volatile("sti");
    while (count < 5)
        __asm__ volatile("hlt");                /* sleep until the next interrupt */
    __asm__ volatile("cli");
    for (unsigned i = 0; i < 5; i++)
        printf("sensor-guest: interrupt %u at cycle %u: sample %u\n", i + 1, (uint32_t)when[i],
               samples[i]);
    return count == 5 && samples[4] == 50 ? 0 : 1;
}
