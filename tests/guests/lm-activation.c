/* Long-mode guest test: IA-32e mode activation (SDM Vol. 3 9.8.5, 2.2.1 EFER, 5.2.1 CS.L).
 * crt0_64.S switched with CR4.PAE, CR3, EFER.LME, CR0.PG and recorded EFER on the way: LMA
 * is clear until paging turns on. Then from 64-bit mode: CS.L, REX.W, CPUID's long-mode
 * bits, the control-register writes that must #GP while IA-32e mode is active, and leaving
 * IA-32e mode the legal way (9.8.5.4: from compatibility mode, CR0.PG=0) and coming back.
 * Checks QEMU lacks run only with the guest argument "strict" (see sdm_ok). */
#include "kernel64.h"

uint64_t deact_efer, deact_cr0, react_efer; /* written by leave_and_reenter */

/* SDM Vol. 3 9.8.5.4: far return to the 32-bit ring-0 segment (compatibility mode), clear
 * CR0.PG (the processor clears EFER.LMA: plain protected mode), set it again (LMA again) and
 * far jump back to 64-bit code. Interrupts are off throughout; everything is below 4 GiB. */
void leave_and_reenter(void);
__asm__(".text\n"
        "leave_and_reenter:\n"
        "  push %rbx\n"
        "  pushq $0x30\n"
        "  lea 1f(%rip), %rax\n"
        "  pushq %rax\n"
        "  lretq\n"
        "  .code32\n"
        "1: mov %cr0, %eax\n"
        "  and $0x7FFFFFFF, %eax\n"
        "  mov %eax, %cr0\n"
        "  mov %eax, deact_cr0\n"
        "  mov $0xC0000080, %ecx\n"
        "  rdmsr\n"
        "  mov %eax, deact_efer\n"
        "  mov %cr0, %eax\n"
        "  or $0x80000000, %eax\n"
        "  mov %eax, %cr0\n"
        "  rdmsr\n"
        "  mov %eax, react_efer\n"
        "  ljmp $0x08, $2f\n"
        "  .code64\n"
        "2: pop %rbx\n"
        "  ret\n");

int kmain(uint32_t magic, uint32_t info)
{
    (void)info;
    kernel_init();
    catch_exceptions();
    tap_plan(28);
    is_u32(magic, MULTIBOOT_BOOTLOADER_MAGIC, "entered through Multiboot");

    /* crt0_64.S's records of the activation sequence */
    ok(!(boot_cr0_before & CR0_PG), "paging was off at entry (CR0 0x%lx)", boot_cr0_before);
    is_u64(boot_efer_before & (EFER_LME | EFER_LMA), 0, "EFER at entry: LME and LMA clear");
    is_u64(boot_efer_lme & (EFER_LME | EFER_LMA), EFER_LME,
           "after WRMSR EFER.LME=1 with paging off: LME set, LMA still clear");
    is_u64(boot_efer_after & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA,
           "after CR0.PG=1: the processor set EFER.LMA");

    uint64_t efer = rdmsr(MSR_EFER);
    ok((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "EFER.LME and LMA now (0x%lx)", efer);
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    ok((cr0 & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE), "CR0.PG and PE set (0x%lx)", cr0);
    ok(cr4 & CR4_PAE, "CR4.PAE set (0x%lx)", cr4);
    is_u64(read_cr3() & ~0xFFFull, (uint64_t)(uintptr_t)boot_pml4, "CR3 holds the PML4");

    /* 64-bit mode: CS.L=1, D=0 (SDM Vol. 3 5.2.1); LAR returns the attribute bits 23:8 */
    is_u32(read_cs(), KERNEL_CS, "CS is the kernel's 64-bit code segment");
    uint64_t ar = 0;
    __asm__ volatile("lar %1, %0" : "=r"(ar) : "r"((uint64_t)read_cs()));
    ok((ar >> 21 & 1) == 1 && (ar >> 22 & 1) == 0, "CS.L=1, CS.D=0 (LAR 0x%lx)", ar);
    uint64_t r = 0xFFFFFFFFull;
    __asm__ volatile(".byte 0x48, 0xFF, 0xC0" : "+a"(r)); /* REX.W inc rax (dec eax; inc eax in
                                                           * compatibility mode) */
    is_u64(r, 0x100000000ull, "0x48 is REX.W: a 64-bit increment carries into bit 32");
    uint64_t before = read_rsp(), after;
    __asm__ volatile("push %%rax\n mov %%rsp, %0\n pop %%rax" : "=r"(after) : : "rax");
    is_u64(before - after, 8, "a push moves RSP by 8");

    /* CPUID 0x80000001 EDX (SDM Vol. 2 CPUID) */
    uint32_t ext = cpuid_ext_edx();
    ok(ext & CPUID_EXT_LM, "CPUID 0x80000001 EDX.LM (bit 29) set (0x%08x)", ext);
    ok(ext & CPUID_EXT_NX, "CPUID 0x80000001 EDX.NX (bit 20) set");
    ok(ext & CPUID_EXT_SYSCALL, "CPUID 0x80000001 EDX.SYSCALL (bit 11) set in 64-bit mode");

    /* SDM Vol. 3 2.5 / Vol. 2 MOV CR: CR4.PAE=0 while EFER.LMA=1 is #GP(0). Where a CPU lets it
     * through paging changes under our feet, so only in strict runs. */
    if (strict_mode()) {
        fault_reset();
        uint64_t bad4 = cr4 & ~(uint64_t)CR4_PAE;
        __asm__ volatile(CATCH("mov %0, %%cr4") : : "r"(bad4) : "r11", "memory");
        ok(last_fault.vector == 13 && last_fault.error_code == 0,
           "MOV CR4 with PAE=0 in IA-32e mode: #GP(0) (vector %ld, error 0x%lx)",
           (long)last_fault.vector, last_fault.error_code);
        ok(read_cr4() & CR4_PAE, "CR4.PAE still set");
    } else {
        skip("QEMU accepts it and loses its page walk; run with 'strict'",
             "MOV CR4 with PAE=0 in IA-32e mode: #GP(0)");
        skip("QEMU accepts it and loses its page walk; run with 'strict'", "CR4.PAE still set");
    }

    /* Vol. 3 9.8.5 / Vol. 4 IA32_EFER: changing LME while CR0.PG=1 is #GP(0); writing the same
     * value is fine */
    fault_reset();
    wrmsr(MSR_EFER, efer);
    is_u64(last_fault.count, 0, "WRMSR EFER with LME unchanged: no fault");
    fault_reset();
    uint64_t no_lme = efer & ~(uint64_t)EFER_LME;
    __asm__ volatile(CATCH("wrmsr") : : "c"(MSR_EFER), "a"((uint32_t)no_lme),
                     "d"((uint32_t)(no_lme >> 32)) : "r11", "memory");
    sdm_ok(last_fault.vector == 13 && last_fault.error_code == 0,
           "QEMU lets WRMSR change EFER.LME with paging on",
           "WRMSR EFER.LME=0 with paging on: #GP(0) (vector %ld)", (long)last_fault.vector);
    if (!(rdmsr(MSR_EFER) & EFER_LME))
        wrmsr(MSR_EFER, efer); /* put it back where a CPU took it */
    ok(rdmsr(MSR_EFER) & EFER_LMA, "still in IA-32e mode");

    /* Vol. 2 MOV CR: clearing CR0.PG in 64-bit mode (CS.L=1) is #GP(0); only compatibility
     * mode may leave IA-32e mode. Fatal where a CPU lets it through, so only in strict runs. */
    if (strict_mode()) {
        fault_reset();
        uint64_t nopg = cr0 & ~(uint64_t)CR0_PG;
        __asm__ volatile(CATCH("mov %0, %%cr0") : : "r"(nopg) : "r11", "memory");
        ok(last_fault.vector == 13 && last_fault.error_code == 0,
           "MOV CR0 with PG=0 in 64-bit mode: #GP(0) (vector %ld)", (long)last_fault.vector);
    } else {
        skip("leaving IA-32e mode from 64-bit code kills the guest where the CPU allows it; "
             "run with 'strict'", "MOV CR0 with PG=0 in 64-bit mode: #GP(0)");
    }

    /* SDM Vol. 3 9.8.5.4: from compatibility mode, PG=0 leaves IA-32e mode; PG=1 re-enters */
    fault_reset();
    leave_and_reenter();
    is_u64(last_fault.count, 0, "leaving from compatibility mode: no fault");
    ok(!(deact_cr0 & CR0_PG), "CR0.PG cleared in compatibility mode");
    is_u64(deact_efer & (EFER_LME | EFER_LMA), EFER_LME,
           "with paging off EFER.LMA is clear (LME stays)");
    is_u64(react_efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA, "CR0.PG=1 again: LMA set again");
    is_u32(read_cs(), KERNEL_CS, "back in 64-bit mode through the far jump");
    ok(rdmsr(MSR_EFER) & EFER_LMA, "and IA-32e mode is active");
    tap_done();
}
