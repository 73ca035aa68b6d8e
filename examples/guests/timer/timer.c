/* timer: asynchronous, maskable interrupts from two clocks, counted as jiffies.
 *   1. The PIT (8254) at 1000 Hz: channel 0's OUT is ISA IRQ0, wired to IOAPIC pin 2; the
 *      IOAPIC sends vector 0x30 to the local APIC, which interrupts the core.
 *   2. The local APIC's own timer in periodic mode, vector 0x31: no external wire at all.
 * The core sleeps in HLT between ticks; each handler runs in interrupt context (IF = 0, no
 * process of its own), counts a jiffy, notes the time stamp counter and sends the EOI. The
 * measured interval between ticks is printed in cycles (1 GHz core: 1 cycle = 1 ns). */
#include "kernel.h"

#define LAPIC_BASE 0xFEE00000u
#define IOAPIC_BASE 0xFEC00000u
#define TICKS 10

static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }
static void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static volatile unsigned jiffies;
static volatile uint64_t stamps[TICKS + 1];

static int planted_bug; /* "bug" on the command line: see below */
static int planted_user_access; /* "user-bug": see below */

/* For "user-bug": paging with the kernel and the APICs on supervisor pages and one user page,
 * as a process's memory would be */
#define USER_PAGE 0x40000000u
static uint32_t page_directory[1024] __attribute__((aligned(4096)));
static uint32_t user_table[1024] __attribute__((aligned(4096)));
static uint8_t user_frame[4096] __attribute__((aligned(4096)));

static void enable_paging_with_a_user_page(void)
{
    page_directory[0] = 0x00000083u;                         /* 0-4 MiB: kernel, supervisor */
    page_directory[0xFEC00000u >> 22] = 0xFEC00083u;         /* IOAPIC and LAPIC, supervisor */
    page_directory[USER_PAGE >> 22] = (uint32_t)user_table | 0x7;
    user_table[0] = (uint32_t)user_frame | 0x7;              /* user, writable */
    __asm__ volatile("mov %0, %%cr3\n"
                     "mov %%cr4, %%eax\n or $0x10, %%eax\n mov %%eax, %%cr4\n"
                     "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0"
                     : : "r"(page_directory) : "eax", "memory");
}

static void on_breakpoint(struct trap_frame *f) { (void)f; }

static void on_tick(struct trap_frame *f)
{
    (void)f;
    /* A deliberate bug for x86irq-run --check-nesting to find: an exception (int3 here; a page
     * fault or a system call alike) raised in interrupt context breaks the Linux rule that
     * exceptions never preempt interrupts. */
    if (planted_bug && jiffies == 3)
        __asm__ volatile("int3");
    /* The other planted bug: reading a process's (user) memory from the interrupt handler, as
     * a copy_from_user() in interrupt context would: the seed notes' "no user memory access". */
    if (planted_user_access && jiffies == 5)
        (void)*(volatile uint32_t *)USER_PAGE;
    if (jiffies <= TICKS)
        stamps[jiffies] = rdtsc();
    jiffies++;
    lapic_write(0xB0, 0); /* EOI */
}

static uint64_t run_ticks(void)
{
    jiffies = 0;
    __asm__ volatile("sti");
    while (jiffies <= TICKS)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    return (stamps[TICKS] - stamps[0]) / TICKS;
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    kernel_init();
    if ((info->flags & MB_INFO_CMDLINE) && strstr((const char *)info->cmdline, " bug")) {
        planted_bug = 1;
        printf("timer: planting a bug: int3 inside the third timer interrupt\n");
    }
    if ((info->flags & MB_INFO_CMDLINE) && strstr((const char *)info->cmdline, " user-bug")) {
        planted_user_access = 1;
        enable_paging_with_a_user_page();
        *(volatile uint32_t *)USER_PAGE = 1; /* in process context: allowed */
        printf("timer: planting a bug: a read of user memory inside the fifth timer interrupt\n");
    }
    trap_set_handler(3, on_breakpoint, 0x8F, 0);
    trap_set_handler(0x30, on_tick, 0x8E, 0);
    trap_set_handler(0x31, on_tick, 0x8E, 0);
    lapic_write(0xF0, 0x1FF);

    printf("timer: PIT channel 0, mode 2, count 1193 (1193182 Hz / 1193 = about 1000 Hz)\n");
    printf("       IRQ0 -> IOAPIC pin 2 (edge) -> vector 0x30 -> local APIC -> core\n");
    ioapic_write(0x10 + 2 * 2 + 1, 0);
    ioapic_write(0x10 + 2 * 2, 0x30);
    outb(0x43, 0x34);            /* channel 0, LSB then MSB, mode 2, binary */
    outb(0x40, 1193 & 0xFF);
    outb(0x40, 1193 >> 8);
    uint64_t pit_interval = run_ticks();
    ioapic_write(0x10 + 2 * 2, 0x10030); /* mask it again */
    printf("timer: %u interrupts, jiffies 0 to %u: the first starts the clock, the %u intervals "
           "after it are timed\n", jiffies, jiffies - 1, jiffies - 1);
    printf("timer: one tick every %u cycles (exactly 1193 * 1e9 / 1193182 = 999847.6)\n",
           (uint32_t)pit_interval);

    printf("timer: local APIC timer, periodic, divide by 16, initial count 62500 (1 ms)\n");
    lapic_write(0x3E0, 0x3);     /* divide by 16 */
    lapic_write(0x320, 0x20031); /* periodic, vector 0x31 */
    lapic_write(0x380, 62500);
    uint64_t apic_interval = run_ticks();
    lapic_write(0x380, 0);
    printf("timer: %u interrupts again, %u timed intervals; one tick every %u cycles "
           "(16 * 62500 = 1000000)\n", jiffies, jiffies - 1, (uint32_t)apic_interval);
    int pit_ok = pit_interval >= 999000 && pit_interval <= 1000700;
    int apic_ok = apic_interval == 1000000;
    return pit_ok && apic_ok ? 0 : 1;
}
