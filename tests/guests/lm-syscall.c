/* Long-mode guest test: SYSCALL, SYSRET and SWAPGS (SDM Vol. 2 SYSCALL, SYSRET, SWAPGS; Vol. 3
 * 5.8.8). SYSCALL from 64-bit ring 3 saves RIP in RCX and RFLAGS in R11, clears the SFMASK
 * bits, loads CS and SS from STAR[47:32] and RIP from LSTAR; SYSRET returns to STAR[63:48]+16
 * (64-bit) or STAR[63:48] (compatibility mode) with RFLAGS from R11. SWAPGS exchanges GS.base
 * and IA32_KERNEL_GS_BASE, so the entry finds its per-CPU data. Faults: SYSCALL or SYSRET
 * with EFER.SCE=0 is #UD; SYSRET outside ring 0 is #GP(0); SYSRET with a non-canonical RCX is
 * #GP(0) in ring 0 on Intel processors (AMD's, and QEMU, fault after the switch to ring 3). */
#include "kernel64.h"

#define SFMASK (RFLAGS_IF | RFLAGS_DF | RFLAGS_AC)

struct percpu { uint64_t self, user_rsp, kernel_rsp; };
static struct percpu percpu;
static uint64_t syscall_stack[512] __attribute__((aligned(16)));
static uint64_t user_gs_area[2] = { 0x5E5E5E5E00000001ull, 0 };  /* the user's GS.base */
static uint64_t fs_area[2] = { 0xF5F5F5F500000002ull, 0 };

/* what the entry saw */
uint64_t sc_rcx, sc_r11, sc_rflags, sc_cs, sc_ss, sc_rax, sc_gs_self, sc_user_rsp, sc_count;
void syscall_entry(void);
__asm__(".text\n"
        "syscall_entry:\n"
        "  swapgs\n"                        /* GS.base = &percpu */
        "  mov %rsp, %gs:8\n"
        "  mov %gs:16, %rsp\n"
        "  pushfq\n"
        "  popq sc_rflags(%rip)\n"
        "  mov %rcx, sc_rcx(%rip)\n"
        "  mov %r11, sc_r11(%rip)\n"
        "  mov %rax, sc_rax(%rip)\n"
        "  mov %cs, %eax\n  mov %rax, sc_cs(%rip)\n"
        "  mov %ss, %eax\n  mov %rax, sc_ss(%rip)\n"
        "  mov %gs:0, %rax\n  mov %rax, sc_gs_self(%rip)\n"
        "  mov %gs:8, %rax\n  mov %rax, sc_user_rsp(%rip)\n"
        "  incq sc_count(%rip)\n"
        "  mov %gs:8, %rsp\n"
        "  swapgs\n"                        /* back to the user's GS.base */
        "  mov $0x5A5A, %eax\n"
        "  sysretq\n");

/* ring 3 */
static volatile uint64_t u_rip, u_flags, u_rsp, u_rax, u_flags_after, u_cs, u_ss, u_gs;
static volatile struct fault_record user_fault;
static void user_syscall(uint64_t arg)
{
    (void)arg;
    uint64_t rax;
    __asm__ volatile("pushfq\n orq $0x40000, (%%rsp)\n popfq\n"   /* AC (ring 3 may set it) */
                     "std\n"
                     "lea 1f(%%rip), %%rdx\n mov %%rdx, u_rip(%%rip)\n"
                     "pushfq\n popq u_flags(%%rip)\n"
                     "mov %%rsp, u_rsp(%%rip)\n"
                     "mov $7, %%eax\n"
                     "syscall\n"
                     "1: pushfq\n popq u_flags_after(%%rip)\n"
                     "cld\n pushfq\n andq $~0x40000, (%%rsp)\n popfq\n"
                     : "=a"(rax) : : "rcx", "rdx", "r11", "memory");
    u_rax = rax;
    u_cs = read_cs();
    u_ss = read_ss();
    __asm__ volatile("mov %%gs:0, %0" : "=r"(u_gs));
    /* SWAPGS and SYSRET are ring-0 instructions */
    fault_reset();
    __asm__ volatile(CATCH("swapgs") ::: "r11", "memory");
    user_fault = last_fault;
    user_return();
}
static void user_sysret(uint64_t arg)
{
    (void)arg;
    fault_reset();
    __asm__ volatile(CATCH("sysretq") ::: "rcx", "r11", "memory");
    user_fault = last_fault;
    user_return();
}

/* SYSRET to compatibility mode lands here (ring 3, CS = STAR[63:48] | 3) */
void compat_landing(void);
__asm__(".text\n .code32\n"
        "compat_landing:\n"
        "  int $0x65\n"
        "  .code64\n");

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    catch_exceptions();
    trap_set_handler(0x65, fault_catch, GATE_INTERRUPT, 3, 0);
    tap_plan(28);
    ok(cpuid_ext_edx() & CPUID_EXT_SYSCALL, "CPUID 0x80000001 EDX.SYSCALL");

    /* #UD without EFER.SCE */
    wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_SCE);
    fault_reset();
    __asm__ volatile(CATCH("syscall") ::: "rcx", "r11", "memory");
    ok(last_fault.count == 1 && last_fault.vector == 6, "SYSCALL with EFER.SCE=0: #UD (vector %ld)",
       (long)last_fault.vector);
    fault_reset();
    __asm__ volatile(CATCH("sysretq") ::: "rcx", "r11", "memory");
    ok(last_fault.count == 1 && last_fault.vector == 6, "SYSRET with EFER.SCE=0: #UD (vector %ld)",
       (long)last_fault.vector);

    percpu = (struct percpu){ (uint64_t)(uintptr_t)&percpu, 0,
                              (uint64_t)(uintptr_t)(syscall_stack + 512) };
    syscall_setup(syscall_entry, SFMASK);
    ok(rdmsr(MSR_EFER) & EFER_SCE, "EFER.SCE set");
    is_u64(rdmsr(MSR_STAR) >> 32, ((uint64_t)0x18 << 16) | KERNEL_CS, "STAR[63:32] = 0x0018:0x0008");

    /* SWAPGS (ring 0) */
    wrmsr(MSR_GS_BASE, 0x1111000ull);
    wrmsr(MSR_KERNEL_GS_BASE, 0x2222000ull);
    __asm__ volatile("swapgs" ::: "memory");
    ok(rdmsr(MSR_GS_BASE) == 0x2222000ull && rdmsr(MSR_KERNEL_GS_BASE) == 0x1111000ull,
       "SWAPGS exchanges GS.base and KERNEL_GS_BASE");
    __asm__ volatile("swapgs" ::: "memory");
    wrmsr(MSR_FS_BASE, (uint64_t)(uintptr_t)fs_area - 0x1000);
    uint64_t v;
    __asm__ volatile("mov %%fs:0x1000, %0" : "=r"(v));
    is_u64(v, fs_area[0], "FS.base from IA32_FS_BASE applies to %fs: accesses");
    wrmsr(MSR_FS_BASE, 0);

    /* SYSCALL / SYSRET round trip from ring 3 */
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)user_gs_area);
    wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)(uintptr_t)&percpu);
    run_in_user_mode(user_syscall, 0);
    is_u64(sc_count, 1, "SYSCALL reached LSTAR's entry");
    is_u64(sc_rax, 7, "RAX passed through");
    is_u64(sc_rcx, u_rip, "RCX = the address after SYSCALL");
    is_u64(sc_r11, u_flags, "R11 = the ring-3 RFLAGS");
    ok((u_flags & SFMASK) == (RFLAGS_IF | RFLAGS_DF | RFLAGS_AC), "... which had IF, DF and AC set");
    is_u64(sc_rflags & SFMASK, 0, "SFMASK cleared IF, DF and AC in the entry");
    ok(sc_rflags & 2, "RFLAGS bit 1 stays set");
    is_u64(sc_cs, KERNEL_CS, "CS = STAR[47:32]");
    is_u64(sc_ss, KERNEL_DS, "SS = STAR[47:32] + 8");
    is_u64(sc_gs_self, (uint64_t)(uintptr_t)&percpu, "after SWAPGS %gs:0 is the per-CPU block");
    is_u64(sc_user_rsp, u_rsp, "SYSCALL leaves RSP alone (the entry saved the user's)");
    is_u64(u_rax, 0x5A5A, "SYSRET back in ring 3 with the entry's RAX");
    ok(u_cs == USER_CS && u_ss == USER_DS, "CS = STAR[63:48]+16, SS = STAR[63:48]+8, RPL 3 (0x%lx, 0x%lx)",
       u_cs, u_ss);
    is_u64(u_flags_after, u_flags, "RFLAGS restored from R11");
    is_u64(u_gs, user_gs_area[0], "the user's GS.base is back (%gs:0)");
    ok(user_fault.vector == 13 && user_fault.error_code == 0, "SWAPGS in ring 3: #GP(0) (vector %ld)",
       (long)user_fault.vector);
    is_u64(rdmsr(MSR_KERNEL_GS_BASE), (uint64_t)(uintptr_t)&percpu, "KERNEL_GS_BASE is the kernel's again");

    run_in_user_mode(user_sysret, 0);
    ok(user_fault.vector == 13 && user_fault.error_code == 0, "SYSRET in ring 3: #GP(0) (vector %ld)",
       (long)user_fault.vector);

    /* SYSRET to compatibility mode (operand size 32) */
    fault_reset();
    __asm__ volatile(CATCH("mov %0, %%ecx\n mov $2, %%r11d\n sysretl")
                     : : "r"((uint32_t)(uintptr_t)compat_landing) : "rcx", "r11", "memory");
    ok(last_fault.vector == 0x65 && last_fault.cs == USER32_CS && last_fault.rip == (uint64_t)(uintptr_t)compat_landing + 2,
       "32-bit SYSRET: compatibility-mode ring 3 at ECX, CS = STAR[63:48] | 3 (CS 0x%lx)", last_fault.cs);

    /* SYSRET with a non-canonical RCX */
    uint64_t at;
    fault_reset();
    __asm__ volatile(CATCH("mov %1, %%rcx\n mov $2, %%r11d\n lea 2f(%%rip), %0\n 2: sysretq")
                     : "=&r"(at) : "r"(0x0000800000000000ull) : "rcx", "r11", "memory");
    ok(last_fault.count == 1 && last_fault.vector == 13 && last_fault.error_code == 0,
       "SYSRET to a non-canonical RCX: #GP(0) (vector %ld)", (long)last_fault.vector);
    sdm_ok(last_fault.cs == KERNEL_CS && last_fault.rip == at,
           "QEMU switches to ring 3 first (AMD's behaviour): #GP there at the target",
           "... in ring 0 at the SYSRET (Intel; CS 0x%lx, RIP 0x%lx)", last_fault.cs, last_fault.rip);
    tap_done();
}
