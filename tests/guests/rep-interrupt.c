/* Guest test: a long rep movsb under a fast periodic LAPIC timer. The interrupts land between
 * iterations; each comes back (IRET) to the same rep, which goes on where it stopped: the copy
 * is whole, ECX ends at 0, and the frames of the interrupts taken mid-instruction point at the
 * rep with RF set (SDM Vol. 3 17.3.1.1: RF in the image of an interrupt between iterations of
 * a repeated string instruction, so an instruction breakpoint there does not fire again).
 * smp-determinism runs it with the traced loop too: the per-instruction loop clears that RF
 * with an exit that cut the rep once more, which used to cost the guest cycles. */
#include "kernel.h"

#define LAPIC_BASE 0xFEE00000u
enum { SVR = 0xF0, EOI = 0xB0, LVT_TIMER = 0x320, TIMER_INITIAL = 0x380, TIMER_DIVIDE = 0x3E0 };
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }

#define SIZE (192u * 1024u)
static uint8_t source[SIZE], copy[SIZE];

extern char the_rep[];
static volatile unsigned ticks, mid_rep, mid_rep_with_rf;

static void on_timer(struct trap_frame *f)
{
    ticks++;
    if (f->eip == (uint32_t)the_rep) {
        mid_rep++;
        if (f->eflags & (1u << 16))
            mid_rep_with_rf++;
    }
    lapic_write(EOI, 0);
}

static int on_qemu(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000002u));
    return a != 0x7862696C; /* "libx" */
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(5);
    for (uint32_t i = 0; i < SIZE; i++)
        source[i] = (uint8_t)(i * 7 + (i >> 9));
    trap_set_handler(0x40, on_timer, 0x8E, 0);
    lapic_write(SVR, 0x1FF);
    lapic_write(TIMER_DIVIDE, 0xB);                /* divide by 1 */
    lapic_write(LVT_TIMER, 0x20040);               /* periodic, vector 0x40 */
    lapic_write(TIMER_INITIAL, 4000);
    __asm__ volatile("sti");
    uint32_t left = SIZE;
    const uint8_t *from = source;
    uint8_t *to = copy;
    __asm__ volatile(".globl the_rep\n"
                     "the_rep: rep movsb"
                     : "+S"(from), "+D"(to), "+c"(left)
                     :
                     : "memory");
    __asm__ volatile("cli");
    lapic_write(TIMER_INITIAL, 0);
    unsigned whole = 1;
    for (uint32_t i = 0; i < SIZE; i++)
        whole &= copy[i] == source[i];
    ok(whole && left == 0, "the interrupted rep movsb copied all %u bytes (ECX %u)", SIZE, left);
    ok(from == source + SIZE && to == copy + SIZE, "ESI and EDI end past the buffers");
    ok(ticks >= 5, "the timer interrupted it (%u ticks)", ticks);
    ok(mid_rep > 0, "interrupts were taken between its iterations (%u)", mid_rep);
    if (!on_qemu())
        is_u32(mid_rep_with_rf, mid_rep, "each such frame has RF set");
    else
        ok(1, "RF in the frames: QEMU does not set it (the SDM does; %u of %u)", mid_rep_with_rf,
           mid_rep);
    tap_done();
}
