/* Guest test: the debug registers (SDM Vol. 3 17.2-17.3). An instruction breakpoint is a
 * fault: the #DB handler sees the instruction's address, sets RF in the saved EFLAGS and the
 * instruction runs once. Data breakpoints (write; read or write) and an I/O breakpoint (with
 * CR4.DE) are traps: the saved EIP is the next instruction. DR6 names the breakpoint (B0-B3),
 * BS a single step that came with it, BD a debug-register access with DR7.GD set; RF in the
 * frames (1 for faults but an instruction breakpoint's #DB). QEMU 7.2 leaves RF clear in a
 * #UD frame (it sets it for the #GP here); the SDM's rule is the expectation. The rep-string
 * case needs the timer to fire inside the string, which our cycle clock guarantees; QEMU's
 * LAPIC timer runs on host time and fires after it there. QEMU differs
 * in two places, where the expectations follow the SDM: it reports a single step and a data
 * breakpoint of one instruction as two #DB, and it does not implement DR7.GD. */
#include "kernel.h"

static volatile uint32_t db_count, db_dr6[8], db_eip[8], db_eflags[8];
static volatile uint32_t gp_count, gp_eflags, ud_eflags, int_eflags;
static volatile uint32_t watched_write, watched_rw, plain;

static inline uint32_t read_dr6(void) { uint32_t v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static void on_debug(struct trap_frame *f)
{
    if (db_count < 8) {
        db_dr6[db_count] = read_dr6();
        db_eip[db_count] = f->eip;
        db_eflags[db_count] = f->eflags;
    }
    db_count++;
    __asm__ volatile("mov %0, %%dr6" : : "r"(0u));      /* the handler clears DR6 */
    f->eflags |= 0x10000u;                              /* RF: resume past a fault */
    f->eflags &= ~0x100u;                               /* and single-step only once */
}

/* #GP from a segment load: the handler makes EAX a good selector, the mov runs again */
static void on_general_protection(struct trap_frame *f)
{
    gp_count++;
    gp_eflags = f->eflags;
    f->eax = KERNEL_DS;
}
static void on_invalid_opcode(struct trap_frame *f)
{
    ud_eflags = f->eflags;
    f->eip += 2;
}
static void on_software_interrupt(struct trap_frame *f) { int_eflags = f->eflags; }

/* A LAPIC timer interrupt in the middle of a rep stosb: the frame's EIP is the rep instruction,
 * ECX holds what is left, and RF = 1 (SDM Vol. 3 17.3.1.1) */
static volatile uint32_t timer_eip, timer_eflags, timer_ecx, timer_count;
static void on_timer(struct trap_frame *f)
{
    timer_count++;
    timer_eip = f->eip;
    timer_eflags = f->eflags;
    timer_ecx = f->ecx;
    *(volatile uint32_t *)0xFEE000B0u = 0; /* EOI */
}
static uint8_t string_target[1 << 20];

/* the instruction under the breakpoint: one copy, reached twice */
__attribute__((noinline)) static void touch(void)
{
    __asm__ volatile("bp_insn: incl plain" ::: "memory");
}

static void set_dr7(uint32_t v) { __asm__ volatile("mov %0, %%dr7" : : "r"(v)); }
extern char bp_insn[], after_write[], after_read[], after_out[], gd_insn[], after_step_write[],
    bp_fault_insn[], rep_insn[];

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(25);
    trap_set_handler(1, on_debug, 0x8E, 0);

    /* instruction breakpoint on bp_insn, reached twice */
    __asm__ volatile("mov %0, %%dr0" : : "r"(bp_insn));
    set_dr7(0x00000001);                                /* L0, execute, 1 byte */
    touch();
    touch();
    set_dr7(0);
    is_u32(db_count, 2, "instruction breakpoint: one #DB each time it is reached");
    is_u32(db_eip[0], (uint32_t)bp_insn, "a fault: the saved EIP is the instruction");
    is_u32(db_dr6[0] & 0xF, 0x1, "DR6.B0");
    is_u32(plain, 2, "with RF set the instruction ran once per pass");

    /* data write breakpoint, 4 bytes */
    db_count = 0;
    __asm__ volatile("mov %0, %%dr1" : : "r"(&watched_write));
    set_dr7(0x00D00004);                                /* L1, write, 4 bytes */
    uint32_t v = watched_write;                         /* a read: no trap */
    __asm__ volatile("movl $5, watched_write\n after_write: nop" ::: "memory");
    set_dr7(0);
    is_u32(db_count, 1, "a write breakpoint: the read did not trap, the write did");
    is_u32(db_eip[0], (uint32_t)after_write, "a trap: the saved EIP is the next instruction");
    is_u32(db_dr6[0] & 0xF, 0x2, "DR6.B1");

    /* read-or-write breakpoint, 2 bytes in the middle of a doubleword */
    db_count = 0;
    __asm__ volatile("mov %0, %%dr2" : : "r"((uint8_t *)&watched_rw + 2));
    set_dr7(0x07300010);                                /* L2, read/write, 2 bytes */
    __asm__ volatile("movl watched_rw, %%eax\n after_read: nop" : : : "eax", "memory");
    set_dr7(0);
    is_u32(db_count, 1, "a read/write breakpoint traps on a doubleword read covering it");
    is_u32(db_eip[0], (uint32_t)after_read, "after the read");

    /* I/O breakpoint on port 0x80 (CR4.DE) */
    db_count = 0;
    __asm__ volatile("mov %%cr4, %%eax\n or $0x8, %%eax\n mov %%eax, %%cr4" ::: "eax");
    __asm__ volatile("mov %0, %%dr3" : : "r"(0x80));
    set_dr7(0x20000040);                                /* L3, I/O, 1 byte */
    __asm__ volatile("outb %%al, $0x80\n after_out: nop" : : "a"(0) : "memory");
    set_dr7(0);
    is_u32(db_count, 1, "an I/O breakpoint traps on outb 0x80");
    is_u32(db_dr6[0] & 0xF, 0x8, "DR6.B3");

    /* a single step and a data breakpoint in one #DB */
    db_count = 0;
    set_dr7(0x00D00004);
    __asm__ volatile("pushf\n orl $0x100, (%%esp)\n popf\n"
                     "movl $6, watched_write\n after_step_write: nop" ::: "memory");
    set_dr7(0);
    is_u32(db_count, 1, "single step and the write breakpoint: one #DB");
    is_u32(db_dr6[0] & 0x400F, 0x4002, "DR6: BS and B1 together");

    /* general detect */
    db_count = 0;
    set_dr7(0x2000);                                    /* GD */
    uint32_t dr0;
    __asm__ volatile("gd_insn: mov %%dr0, %0" : "=r"(dr0));
    is_u32(db_count, 1, "DR7.GD: a debug-register access faults");
    ok((db_dr6[0] & 0x2000) && db_eip[0] == (uint32_t)gd_insn, "with DR6.BD, at the mov");
    ok(db_eflags[0] & 0x10000, "a general-detect #DB is a fault: RF = 1 in its frame");

    /* RF in the frame (SDM Vol. 3 17.3.1.1): 1 for faults except an instruction breakpoint's
     * #DB, 0 for int n. A breakpoint on an instruction that then faults fires once: the
     * fault's frame carries RF = 1, so the restarted instruction is not stopped again. */
    trap_set_handler(13, on_general_protection, 0x8E, 0);
    trap_set_handler(6, on_invalid_opcode, 0x8E, 0);
    trap_set_handler(0x81, on_software_interrupt, 0x8E, 0);
    db_count = 0;
    __asm__ volatile("mov %0, %%dr0" : : "r"(bp_fault_insn));
    set_dr7(0x00000001);
    __asm__ volatile("mov $0x1230, %%eax\n"
                     "bp_fault_insn: mov %%ax, %%ds\n" /* beyond the GDT limit: #GP(0x1230) */
                     "mov %%ax, %%es" ::: "eax", "memory");
    set_dr7(0);
    is_u32(db_count, 1, "a breakpoint on an instruction that faults: one #DB");
    is_u32(db_eflags[0] & 0x10000, 0, "the instruction breakpoint's frame has RF = 0");
    is_u32(gp_count, 1, "then the #GP, fixed by its handler");
    ok(gp_eflags & 0x10000, "the #GP's frame has RF = 1, so the restart skips the breakpoint");
    __asm__ volatile("ud2" ::: "memory");
    ok(ud_eflags & 0x10000, "#UD (a fault): RF = 1 in the frame");
    __asm__ volatile("int $0x81" ::: "memory");
    is_u32(int_eflags & 0x10000, 0, "int n: RF = 0 in the frame");

    trap_set_handler(0x40, on_timer, 0x8E, 0);
    *(volatile uint32_t *)0xFEE000F0u = 0x1FF;       /* SVR: software enable */
    *(volatile uint32_t *)0xFEE003E0u = 0xB;         /* divide by 1 */
    *(volatile uint32_t *)0xFEE00320u = 0x40;        /* LVT timer: one-shot, vector 0x40 */
    *(volatile uint32_t *)0xFEE00380u = 2000;        /* fires well inside the string */
    uint32_t left = sizeof(string_target);
    __asm__ volatile("sti\n"
                     "rep_insn: rep stosb\n"
                     "cli" : "+c"(left) : "D"(string_target), "a"(0x5A) : "memory");
    ok(timer_count == 1 && timer_eip == (uint32_t)rep_insn,
       "a timer interrupt during rep stosb: the saved EIP is the rep instruction");
    ok(timer_ecx > 0 && timer_ecx < sizeof(string_target) && left == 0,
       "with ECX part-way (%u left), and the string finished after IRET", timer_ecx);
    ok(timer_eflags & 0x10000, "an interrupt between iterations of a rep string: RF = 1");
    (void)v;
    tap_done();
}
