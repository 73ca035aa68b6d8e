/* Long-mode guest test: CR8, the task-priority register (SDM Vol. 3 2.5 CR8, 11.8.6). In 64-bit
 * mode CR8[3:0] is the local APIC's TPR[7:4]: a write to either shows in the other. An
 * interrupt whose priority class (vector[7:4]) is not above it stays pending in the IRR until
 * CR8 drops (11.8.3.1). CR8 is a ring-0 register with bits 63:4 reserved (#GP(0)). */
#include "kernel64.h"

static volatile uint64_t count[256];
static void on_ipi(struct trap_frame *f)
{
    count[f->vector & 0xFF]++;
    lapic_write(LAPIC_EOI, 0);
}

static void self_ipi(uint8_t vector)
{
    lapic_write(LAPIC_ICR_LOW, 0x00040000u | vector);  /* fixed, edge, shorthand self */
    for (int i = 0; i < 10000; i++)
        __asm__ volatile("pause");
}
static int irr(uint8_t vector) { return lapic_read(LAPIC_IRR + 0x10 * (vector >> 5)) >> (vector & 31) & 1; }

static volatile struct fault_record user_fault[2];
static void user_cr8(uint64_t arg)
{
    (void)arg;
    fault_reset();
    __asm__ volatile(CATCH("mov %%cr8, %%rax") ::: "rax", "r11", "memory");
    user_fault[0] = last_fault;
    fault_reset();
    __asm__ volatile(CATCH("mov %%rax, %%cr8") : : "a"(0ull) : "r11", "memory");
    user_fault[1] = last_fault;
    user_return();
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    catch_exceptions();
    tap_plan(19);
    lapic_write(LAPIC_SVR, 0x1FF);  /* software enable, spurious vector 0xFF */
    lapic_write(LAPIC_TPR, 0);
    is_u64(read_cr8(), 0, "CR8 is 0 with TPR 0");

    /* CR8 -> TPR */
    write_cr8(5);
    is_u32(lapic_read(LAPIC_TPR) & 0xFF, 0x50, "CR8 = 5: TPR = 0x50");
    is_u32(lapic_read(LAPIC_PPR) & 0xFF, 0x50, "... and PPR = 0x50 (nothing in service)");
    write_cr8(15);
    is_u32(lapic_read(LAPIC_TPR) & 0xFF, 0xF0, "CR8 = 15: TPR = 0xF0");
    write_cr8(0);
    is_u32(lapic_read(LAPIC_TPR) & 0xFF, 0, "CR8 = 0: TPR = 0");
    /* TPR -> CR8 */
    lapic_write(LAPIC_TPR, 0x70);
    is_u64(read_cr8(), 7, "TPR = 0x70: CR8 = 7");
    lapic_write(LAPIC_TPR, 0x8F);
    is_u64(read_cr8(), 8, "TPR = 0x8F: CR8 = 8 (TPR[3:0] is not in CR8)");
    lapic_write(LAPIC_TPR, 0);
    is_u64(read_cr8(), 0, "TPR = 0: CR8 = 0");

    /* reserved bits and privilege */
    fault_reset();
    __asm__ volatile(CATCH("mov %0, %%cr8") : : "r"(0x10ull) : "r11", "memory");
    sdm_ok(last_fault.vector == 13 && last_fault.error_code == 0, "QEMU ignores CR8 bits 63:4",
           "MOV CR8 with bit 4 set: #GP(0) (vector %ld)", (long)last_fault.vector);
    write_cr8(0);
    run_in_user_mode(user_cr8, 0);
    ok(user_fault[0].vector == 13 && user_fault[0].error_code == 0, "MOV from CR8 in ring 3: #GP(0)");
    ok(user_fault[1].vector == 13 && user_fault[1].error_code == 0, "MOV to CR8 in ring 3: #GP(0)");

    /* CR8 holds back the interrupts of its priority class and below */
    trap_set_handler(0x55, on_ipi, GATE_INTERRUPT, 0, 0);
    trap_set_handler(0x5F, on_ipi, GATE_INTERRUPT, 0, 0);
    trap_set_handler(0x65, on_ipi, GATE_INTERRUPT, 0, 0);
    write_cr8(5);
    sti();
    self_ipi(0x55);
    self_ipi(0x5F);
    is_u64(count[0x55] + count[0x5F], 0, "CR8 = 5: self-IPIs 0x55 and 0x5F (class 5) held");
    ok(irr(0x55) && irr(0x5F), "both pending in the IRR");
    self_ipi(0x65);
    is_u64(count[0x65], 1, "vector 0x65 (class 6) delivered at once");
    ok(count[0x55] + count[0x5F] == 0 && irr(0x55), "0x55 still held");
    write_cr8(4);
    for (int i = 0; i < 10000; i++)
        __asm__ volatile("pause");
    ok(count[0x55] == 1 && count[0x5F] == 1, "CR8 = 4: both delivered (0x55 %lu, 0x5F %lu)",
       count[0x55], count[0x5F]);
    ok(!irr(0x55) && !irr(0x5F), "and gone from the IRR");
    cli();
    write_cr8(0);
    /* masking by CR8 with IF clear: nothing delivered until STI */
    self_ipi(0x65);
    is_u64(count[0x65], 1, "IF=0: vector 0x65 waits");
    sti();
    for (int i = 0; i < 10000; i++)
        __asm__ volatile("pause");
    cli();
    is_u64(count[0x65], 2, "STI with CR8 = 0: delivered");
    tap_done();
}
