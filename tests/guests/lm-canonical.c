/* Long-mode guest test: canonical addresses (SDM Vol. 3 3.3.7.1, 6.14.4; Vol. 1 3.3.7.1).
 * With 48-bit linear addresses bits 63:47 must all equal bit 47. A non-canonical data access
 * is #GP(0), or #SS(0) where the address is formed from RSP or RBP (the SS segment); a near
 * jump, call or return to a non-canonical target faults on that instruction (#GP(0) with RIP
 * at it: the target is checked before RIP changes). Canonical but unmapped addresses page
 * fault instead. #SS and #GP use IST1 here: with a non-canonical RSP the processor could not
 * push their frames on the current stack. */
#include "kernel64.h"

#define NONCANON_LOW 0x0000800000000000ull   /* the first address above the lower half */
#define NONCANON_HIGH 0xFFFF7FFFFFFFFFF0ull  /* just below the upper half */
#define CANON_TOP_LOW 0x00007FFFFFFFF000ull  /* canonical, not mapped */
#define CANON_BOTTOM_HIGH 0xFFFF800000000000ull

static uint64_t at; /* the address of the instruction expected to fault */

#define EXPECT(vec, err, what)                                                                  \
    ok(last_fault.count == 1 && last_fault.vector == (vec) && last_fault.error_code == (err),  \
       "%s: vector %ld, error 0x%lx", what, (long)last_fault.vector, last_fault.error_code)

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    catch_exceptions();
    trap_set_handler(12, fault_catch, GATE_INTERRUPT, 0, 1);
    trap_set_handler(13, fault_catch, GATE_INTERRUPT, 0, 1);
    tap_plan(23);
    uint64_t v;

    /* data accesses */
    fault_reset();
    __asm__ volatile(CATCH("lea 2f(%%rip), %1\n 2: mov (%2), %0") : "=&r"(v), "=&r"(at)
                     : "r"(NONCANON_LOW) : "r11", "memory");
    EXPECT(13, 0, "read at 0x0000800000000000: #GP(0)");
    is_u64(last_fault.rip, at, "the saved RIP is the faulting read");
    fault_reset();
    __asm__ volatile(CATCH("movq $1, (%0)") : : "r"(NONCANON_HIGH) : "r11", "memory");
    EXPECT(13, 0, "write at 0xFFFF7FFFFFFFFFF0: #GP(0)");
    fault_reset();
    __asm__ volatile(CATCH("mov 8(%1), %0") : "=&r"(v) : "r"(NONCANON_LOW - 8) : "r11", "memory");
    EXPECT(13, 0, "canonical base + displacement beyond the lower half: #GP(0)");
    fault_reset();
    __asm__ volatile("lea 8(%1), %0\n mov %0, %%rax\n lea (%%rax, %%rax), %0"
                     : "=&r"(v) : "r"(NONCANON_LOW - 8) : "rax");
    is_u64(last_fault.count, 0, "LEA may compute non-canonical addresses");
    fault_reset();
    __asm__ volatile(CATCH("invlpg (%0)") : : "r"(NONCANON_LOW) : "r11", "memory");
    sdm_ok(last_fault.count == 0, "QEMU faults INVLPG of a non-canonical address",
           "INVLPG of a non-canonical address is a no-op (SDM Vol. 2 INVLPG), vector %ld",
           (long)last_fault.vector);

    /* the stack segment: RBP- and RSP-based addresses are SS references */
    fault_reset();
    __asm__ volatile("mov %%rbp, %%r12\n mov %1, %%rbp\n"
                     CATCH("mov (%%rbp), %0")
                     "mov %%r12, %%rbp" : "=&r"(v) : "r"(NONCANON_LOW) : "r11", "r12", "memory");
    sdm_ok(last_fault.vector == 12 && last_fault.error_code == 0,
           "QEMU raises #GP(0) for every non-canonical access, SS ones too",
           "read at a non-canonical (%%rbp): #SS(0) (vector %ld)", (long)last_fault.vector);
    ok(last_fault.count == 1 && last_fault.error_code == 0, "read at (%%rbp): one fault, error 0");
    fault_reset();
    __asm__ volatile("mov %%rsp, %%r12\n"
                     CATCH("mov %1, %%rsp\n lea 2f(%%rip), %0\n 2: push %%rax")
                     "mov %%r12, %%rsp" : "=&r"(at) : "r"(NONCANON_LOW + 0x100)
                     : "r11", "r12", "memory");
    sdm_ok(last_fault.vector == 12 && last_fault.error_code == 0,
           "QEMU raises #GP(0) for every non-canonical access, SS ones too",
           "push with a non-canonical RSP: #SS(0) (vector %ld)", (long)last_fault.vector);
    is_u64(last_fault.rip, at, "the saved RIP is the push");
    is_u64(last_fault.rsp, NONCANON_LOW + 0x100, "the saved RSP is the non-canonical one");
    ok(last_fault.handler_rsp >= ist_stack_bottom(1) && last_fault.handler_rsp < ist_stack_top(1),
       "the handler ran on IST1 (RSP 0x%lx)", last_fault.handler_rsp);

    /* canonical but unmapped: #PF with the full address in CR2 */
    fault_reset();
    __asm__ volatile(CATCH("mov (%1), %0") : "=&r"(v) : "r"(CANON_TOP_LOW) : "r11", "memory");
    EXPECT(14, 0, "read at 0x00007FFFFFFFF000 (canonical, not mapped): #PF, not present");
    is_u64(last_fault.cr2, CANON_TOP_LOW, "CR2 = 0x00007FFFFFFFF000");
    fault_reset();
    __asm__ volatile(CATCH("mov (%1), %0") : "=&r"(v) : "r"(CANON_BOTTOM_HIGH) : "r11", "memory");
    EXPECT(14, 0, "read at 0xFFFF800000000000 (canonical, not mapped): #PF, not present");
    is_u64(last_fault.cr2, CANON_BOTTOM_HIGH, "CR2 = 0xFFFF800000000000");

    /* control transfers: SDM Vol. 2 JMP, CALL, RET check the target before changing RIP */
    fault_reset();
    __asm__ volatile(CATCH("lea 2f(%%rip), %0\n 2: jmp *%1") : "=&r"(at) : "r"(NONCANON_LOW)
                     : "r11", "memory");
    EXPECT(13, 0, "jmp to 0x0000800000000000: #GP(0)");
    sdm_ok(last_fault.rip == at, "QEMU jumps and faults on the fetch: RIP is the target",
           "... with RIP at the jmp (0x%lx)", last_fault.rip);
    fault_reset();
    uint64_t rsp_before;
    __asm__ volatile(CATCH("mov %%rsp, %1\n lea 2f(%%rip), %0\n 2: call *%2")
                     : "=&r"(at), "=&r"(rsp_before) : "r"(NONCANON_HIGH) : "r11", "memory");
    EXPECT(13, 0, "call to 0xFFFF7FFFFFFFFFF0: #GP(0)");
    sdm_ok(last_fault.rip == at && last_fault.rsp == rsp_before,
           "QEMU calls and faults on the fetch: RIP is the target, the return address pushed",
           "... at the call, nothing pushed (RIP 0x%lx, RSP moved by %ld)", last_fault.rip,
           (long)(rsp_before - last_fault.rsp));
    fault_reset();
    __asm__ volatile(CATCH("push %1\n lea 2f(%%rip), %0\n 2: ret") : "=&r"(at) : "r"(NONCANON_LOW)
                     : "r11", "memory");
    EXPECT(13, 0, "ret to 0x0000800000000000: #GP(0)");
    sdm_ok(last_fault.rip == at, "QEMU returns and faults on the fetch: RIP is the target",
           "... with RIP at the ret (0x%lx)", last_fault.rip);

    /* segment bases: a non-canonical FS base is refused (SDM Vol. 2 WRMSR) */
    fault_reset();
    __asm__ volatile(CATCH("wrmsr") : : "c"(MSR_FS_BASE), "a"(0), "d"(0x00008000u) : "r11", "memory");
    sdm_ok(last_fault.vector == 13 && last_fault.error_code == 0,
           "QEMU takes a non-canonical FS base",
           "WRMSR FS_BASE = 0x0000800000000000: #GP(0) (vector %ld)", (long)last_fault.vector);
    wrmsr(MSR_FS_BASE, 0);
    tap_done();
}
