/* Long-mode guest test: the interrupt stack table (SDM Vol. 3 6.14.5, 8.7). A gate with a
 * non-zero IST field switches to TSS.IST[n] unconditionally: with or without a privilege
 * change, and again when already on that stack (so a nested event on the same IST overwrites
 * the outer frame). Here an NMI (a self-NMI through the local APIC ICR, Vol. 3 11.6.1) arrives
 * on IST2; a double fault (6.15, interrupt 8) on IST1 both from a kernel stack overflow and
 * from a contributory fault while delivering another; the frame starts at the IST pointer
 * aligned down to 16 (6.14.2). */
#include "kernel64.h"

static volatile uint64_t rec_count, rec_rsp, rec_frame, rec_cs, rec_vector;
static void on_record(struct trap_frame *f)
{
    rec_count++;
    rec_rsp = read_rsp();
    rec_frame = (uint64_t)(uintptr_t)&f->rip;
    rec_cs = f->cs;
    rec_vector = f->vector;
}

static int on_ist(uint64_t rsp, unsigned ist)
{
    return rsp >= ist_stack_bottom(ist) && rsp < ist_stack_top(ist);
}

/* Nested events on one IST (IST4): the outer handler keeps a copy of its frame, raises the
 * inner one, notes what the inner one left where its frame was, restores and returns. */
uint64_t nest_outer_rsp, nest_inner_rsp, nest_inner_frame_rsp, nest_saved[5], nest_after[5];
void nest_outer(void);
void nest_inner(void);
__asm__(".text\n"
        "nest_outer:\n"
        "  mov %rsp, nest_outer_rsp(%rip)\n"
        "  .irp i, 0, 8, 16, 24, 32\n"
        "  mov \\i(%rsp), %rax\n  mov %rax, nest_saved+\\i(%rip)\n"
        "  .endr\n"
        "  int $0x62\n"
        "  .irp i, 0, 8, 16, 24, 32\n"
        "  mov \\i(%rsp), %rax\n  mov %rax, nest_after+\\i(%rip)\n"
        "  mov nest_saved+\\i(%rip), %rax\n  mov %rax, \\i(%rsp)\n"
        "  .endr\n"
        "  iretq\n"
        "nest_inner:\n"
        "  mov %rsp, nest_inner_rsp(%rip)\n"
        "  mov 24(%rsp), %rax\n"
        "  mov %rax, nest_inner_frame_rsp(%rip)\n"
        "  iretq\n");

static volatile uint64_t user_rsp;
static void user_int(uint64_t arg)
{
    (void)arg;
    user_rsp = read_rsp();
    __asm__ volatile("int $0x60" ::: "memory");
    user_return();
}

static uint8_t alt_stack[4096] __attribute__((aligned(4096)));

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    catch_exceptions();
    tap_plan(23);
    struct tss64 *tss = kernel_tss();
    ok(tss->ist[0] == ist_stack_top(1) && tss->ist[1] == ist_stack_top(2),
       "TSS.IST1 and IST2 hold the stacks' tops (0x%lx, 0x%lx)", tss->ist[0], tss->ist[1]);

    /* NMI on IST2: a self-NMI by physical destination (the self shorthand is for fixed
     * interrupts only, SDM Vol. 3 Table 11-3) */
    trap_set_handler(2, on_record, GATE_INTERRUPT, 0, 2);
    lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x1FF);
    lapic_write(LAPIC_ICR_HIGH, lapic_read(LAPIC_ID) & 0xFF000000u);
    lapic_write(LAPIC_ICR_LOW, 0x00004400u);  /* NMI, level assert, physical, no shorthand */
    for (int i = 0; i < 1000000 && !rec_count; i++)
        __asm__ volatile("pause");
    ok(rec_count == 1 && rec_vector == 2, "the self-NMI arrived (vector %ld)", (long)rec_vector);
    ok(on_ist(rec_rsp, 2), "the NMI handler ran on IST2 (RSP 0x%lx)", rec_rsp);
    is_u64(rec_frame, ist_stack_top(2) - 40, "its frame is the top five quadwords of IST2");
    is_u64(rec_cs, KERNEL_CS, "and names the interrupted kernel code");

    /* IST from ring 3: the IST beats TSS.RSP0 */
    trap_set_handler(0x60, on_record, GATE_INTERRUPT, 3, 3);
    rec_count = 0;
    run_in_user_mode(user_int, 0);
    ok(rec_count == 1 && rec_cs == USER_CS, "INT 0x60 from ring 3 delivered (CS 0x%lx)", rec_cs);
    ok(on_ist(rec_rsp, 3), "on IST3 rather than the RSP0 stack (RSP 0x%lx)", rec_rsp);
    is_u64(rec_frame, ist_stack_top(3) - 40, "the frame at the top of IST3");

    /* IST 0: the current stack */
    trap_set_handler(0x63, on_record, GATE_INTERRUPT, 0, 0);
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %%r12\n and $-16, %%rsp\n mov %%rsp, %0\n int $0x63\n mov %%r12, %%rsp"
                     : "=&r"(rsp) : : "r12", "memory");
    is_u64(rec_frame, rsp - 40, "IST 0: the frame goes on the current stack");

    /* the processor reads the IST pointer at each delivery and aligns it down to 16 */
    trap_set_handler(0x64, on_record, GATE_INTERRUPT, 0, 5);
    uint64_t alt_top = (uint64_t)(uintptr_t)(alt_stack + sizeof(alt_stack));
    tss->ist[4] = alt_top;
    __asm__ volatile("int $0x64" ::: "memory");
    is_u64(rec_frame, alt_top - 40, "a changed TSS.IST5 is used at the next delivery");
    tss->ist[4] = alt_top - 8;
    __asm__ volatile("int $0x64" ::: "memory");
    is_u64(rec_frame, alt_top - 16 - 40, "an IST pointer of 8 mod 16 is aligned down first");
    tss->ist[4] = ist_stack_top(5);

    /* #DF on IST1 (SDM Vol. 3 6.15 interrupt 8, Table 6-5) */
    trap_set_handler(8, fault_catch, GATE_INTERRUPT, 0, 1);
    /* a kernel stack overflow: the push faults (#PF), and so does pushing the #PF frame on the
     * same unmapped stack: a page fault while delivering a page fault is a double fault */
    fault_reset();
    __asm__ volatile("mov %%rsp, %%r12\n"
                     CATCH("mov %0, %%rsp\n push %%rax")
                     "mov %%r12, %%rsp" : : "r"(0x00007F0000001000ull) : "r11", "r12", "memory");
    ok(last_fault.count == 1 && last_fault.vector == 8, "stack overflow into an unmapped page: #DF (vector %ld)",
       (long)last_fault.vector);
    is_u64(last_fault.error_code, 0, "#DF's error code is 0");
    ok(on_ist(last_fault.handler_rsp, 1), "the #DF handler ran on IST1 (RSP 0x%lx)", last_fault.handler_rsp);
    is_u64(last_fault.frame, ist_stack_top(1) - 40, "its RIP..SS frame tops IST1 (the error code below)");
    is_u64(last_fault.cr2, 0x00007F0000000FF8ull, "CR2 = the first push that failed");
    /* a contributory fault while delivering one: #GP whose gate is not present (#NP) */
    idt_set_gate(13, trap_stub_address(13), KERNEL_CS, GATE_INTERRUPT & 0x7F, 0);
    fault_reset();
    __asm__ volatile(CATCH("mov (%0), %%rax") : : "r"(0x0000800000000000ull) : "rax", "r11", "memory");
    trap_set_handler(13, fault_catch, GATE_INTERRUPT, 0, 0);
    ok(last_fault.count == 1 && last_fault.vector == 8 && last_fault.error_code == 0,
       "#GP with a not-present #GP gate (so #NP): #DF(0) (vector %ld)", (long)last_fault.vector);
    ok(on_ist(last_fault.handler_rsp, 1), "on IST1 again");

    /* nested events on the same IST (SDM Vol. 3 6.14.5: no check whether already on it) */
    idt_set_gate(0x61, (uint64_t)(uintptr_t)nest_outer, KERNEL_CS, GATE_INTERRUPT, 4);
    idt_set_gate(0x62, (uint64_t)(uintptr_t)nest_inner, KERNEL_CS, GATE_INTERRUPT, 4);
    uint64_t after_rsp, before_rsp = read_rsp();
    __asm__ volatile("int $0x61\n mov %%rsp, %0" : "=r"(after_rsp) : : "rax", "memory");
    is_u64(nest_outer_rsp, ist_stack_top(4) - 40, "outer event: frame at the top of IST4");
    is_u64(nest_inner_rsp, ist_stack_top(4) - 40, "inner event on IST4: the same place again");
    is_u64(nest_inner_frame_rsp, ist_stack_top(4) - 40, "the inner frame's RSP is the outer handler's");
    ok(nest_after[0] != nest_saved[0] && nest_after[1] == KERNEL_CS,
       "the outer frame was overwritten (RIP 0x%lx, was 0x%lx)", nest_after[0], nest_saved[0]);
    is_u64(after_rsp, before_rsp, "with the frame put back the outer IRETQ returns here");
    tap_done();
}
