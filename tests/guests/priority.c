/* Guest test: events that meet at one instruction boundary are taken in the SDM's priority
 * order (Vol. 3 6.9, Table 6-2). With EFLAGS.TF set, one `outw` raises two pc-testdev lines:
 * line 5, routed by the IOAPIC as an NMI, and line 6, a fixed interrupt (vector 0x40). At the
 * boundary after the outw three events are pending: the single-step trap of the outw, the NMI
 * and the INTR. The trap is delivered first; the NMI is taken before the #DB handler's first
 * instruction (so its saved EIP is that instruction, and its handler runs first); the INTR
 * waits until the #DB handler's IRET sets IF again. The expectation is the SDM's; QEMU cannot
 * check it: its pc-testdev raises no line for a word-sized write, so only the #DB happens
 * there. */
#include "kernel.h"

#define IOAPIC_BASE 0xFEC00000u
static void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static volatile uint32_t order[8], saved_eip[8];
static volatile unsigned count;
static void note(uint32_t vector, uint32_t eip)
{
    if (count < 8) {
        order[count] = vector;
        saved_eip[count] = eip;
    }
    count++;
}

static void on_debug(struct trap_frame *f)
{
    note(1, f->eip);
    f->eflags &= ~0x100u; /* single-step once */
}
static void on_nmi(struct trap_frame *f) { note(2, f->eip); }
static void on_intr(struct trap_frame *f)
{
    note(f->vector, f->eip);
    outb(0x2006, 0);
    *(volatile uint32_t *)0xFEE000B0u = 0;
}

extern char after_out[];

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(7);
    trap_set_handler(1, on_debug, 0x8E, 0);
    trap_set_handler(2, on_nmi, 0x8E, 0);
    trap_set_handler(0x40, on_intr, 0x8E, 0);
    ioapic_write(0x10 + 2 * 5 + 1, 0);
    ioapic_write(0x10 + 2 * 5, 0x400);         /* line 5: NMI delivery mode, edge */
    ioapic_write(0x10 + 2 * 6 + 1, 0);
    ioapic_write(0x10 + 2 * 6, 0x40);          /* line 6: fixed, vector 0x40, edge */
    __asm__ volatile("sti\n"
                     "pushf\n"
                     "orl $0x100, (%%esp)\n"
                     "popf\n"                   /* TF: the next instruction traps */
                     "outw %%ax, %%dx\n"        /* lines 5 and 6 up */
                     "after_out: nop\n"
                     "cli\n"
                     : : "a"(0x0101), "d"(0x2005) : "memory");
    outb(0x2005, 0);
    is_u32(count, 3, "three events");
    is_u32(order[0], 2, "the NMI handler ran first ...");
    is_u32(order[1], 1, "... inside the #DB delivery: the trap was delivered before it");
    ok(saved_eip[0] != (uint32_t)after_out, "the NMI's saved EIP is in the #DB handler (0x%08x), not the program",
       saved_eip[0]);
    is_u32(saved_eip[1], (uint32_t)after_out, "#DB is a trap: its saved EIP is the instruction after the outw");
    is_u32(order[2], 0x40, "INTR last, once the #DB handler's IRET set IF again");
    is_u32(saved_eip[2], (uint32_t)after_out, "and it interrupted the program at the same place");
    tap_done();
}
