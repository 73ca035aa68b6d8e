/* A guest for the gdb stub's test (tests/cli/gdb-test.sh), run under real gdb: a local APIC
 * timer ticks every 100,000 cycles and its handler counts `ticks` (a variable an interrupt
 * handler changes, for a watchpoint); the main loop spins, counting `spins`, until gdb writes
 * `release`, and the guest then exits with `exit_code` (which gdb may also write) plus the
 * value marker() returned. A function per phase to break at. */
#include "kernel.h"

#define LAPIC_BASE 0xFEE00000u

volatile unsigned ticks;
volatile unsigned spins;
volatile unsigned release;
volatile unsigned exit_code = 7;

static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }

void on_tick(struct trap_frame *f)
{
    (void)f;
    ticks++;
    lapic_write(0xB0, 0); /* EOI */
}

/* noinline: a place for a breakpoint and a frame to finish from */
__attribute__((noinline)) unsigned marker(unsigned n)
{
    __asm__ volatile("" ::: "memory");
    return n * 2;
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic, (void)info;
    kernel_init();
    trap_set_handler(0x31, on_tick, 0x8E, 0);
    lapic_write(0xF0, 0x1FF);
    lapic_write(0x3E0, 0xB);     /* divide by 1 */
    lapic_write(0x320, 0x20031); /* periodic, vector 0x31 */
    lapic_write(0x380, 100000);
    __asm__ volatile("sti");
    unsigned m = marker(1);
    printf("gdb-target: spinning until gdb sets release\n");
    while (!release)
        spins++;
    __asm__ volatile("cli");
    lapic_write(0x380, 0);
    printf("gdb-target: released after %u ticks, exit code %u\n", ticks, exit_code);
    return (int)(exit_code + marker(m) - 4); /* marker(2) = 4 */
}
