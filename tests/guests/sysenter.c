/* Guest test: sysenter and sysexit, the fast system call (SDM Vol. 2 SYSENTER, SYSEXIT).
 * Unlike int 0x80 there is no IDT gate, no TSS stack and no frame: CS and SS come flat from
 * IA32_SYSENTER_CS (kernel CS, SS = CS + 8; user CS = CS + 16, SS = CS + 24, the layout of
 * the kernel library's GDT), ESP and EIP from the other two MSRs, IF is cleared; sysexit
 * returns to EDX with ESP = ECX at CPL 3. #GP(0) for sysexit outside ring 0 and for either
 * with IA32_SYSENTER_CS null. */
#include "kernel.h"

static uint8_t entry_stack[1024] __attribute__((aligned(16)));
volatile uint32_t seen_cs, seen_ss, seen_esp, seen_eflags, sysenter_count;
static volatile uint32_t user_cs, user_ss, esp_before, esp_after, returned_eax;
static volatile uint32_t gp_count, gp_error, gp_eip;

extern void sysenter_entry(void);
__asm__(".text\n"
        "sysenter_entry:\n"
        "  movw %cs, seen_cs\n"
        "  movw %ss, seen_ss\n"
        "  movl %esp, seen_esp\n"
        "  pushf\n"
        "  popl seen_eflags\n"
        "  incl sysenter_count\n"
        "  movl $42, %eax\n"        /* the system call's result */
        "  sysexit\n");

static void on_general_protection(struct trap_frame *f)
{
    gp_count++;
    gp_error = f->error_code;
    gp_eip = f->eip;
    f->eip += 2; /* skip the sysenter / sysexit */
}

static void write_msr(uint32_t msr, uint32_t value)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"(value), "d"(0) : "memory");
}

extern char user_sysexit[], kernel_sysenter[];

static void user_program(uint32_t arg)
{
    (void)arg;
    uint32_t eax;
    __asm__ volatile("movl %%esp, esp_before\n"
                     "movl $1f, %%edx\n"
                     "movl %%esp, %%ecx\n"
                     "sysenter\n"
                     "1: movl %%esp, esp_after\n"
                     "movw %%cs, user_cs\n"
                     "movw %%ss, user_ss\n"
                     : "=a"(eax) : : "ecx", "edx", "memory");
    returned_eax = eax;
    __asm__ volatile("user_sysexit: sysexit" ::: "memory"); /* not in ring 3: #GP(0) */
    user_return();
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(10);
    trap_set_handler(13, on_general_protection, 0x8E, 0);
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1));
    ok(d & (1u << 11), "CPUID.1:EDX.SEP");

    write_msr(0x174, KERNEL_CS);
    write_msr(0x175, (uint32_t)(entry_stack + sizeof(entry_stack)));
    write_msr(0x176, (uint32_t)sysenter_entry);
    run_in_user_mode(user_program, 0);
    is_u32(sysenter_count, 1, "sysenter from ring 3 reached the entry point");
    ok(seen_cs == KERNEL_CS && seen_ss == KERNEL_DS, "in ring 0 with CS %x and SS %x (CS + 8)",
       seen_cs, seen_ss);
    is_u32(seen_esp, (uint32_t)(entry_stack + sizeof(entry_stack)), "ESP from IA32_SYSENTER_ESP");
    is_u32(seen_eflags & 0x200, 0, "IF cleared");
    ok(user_cs == USER_CS && user_ss == USER_DS, "sysexit: back in ring 3, CS %x (CS + 16), SS %x",
       user_cs, user_ss);
    ok(esp_after == esp_before && returned_eax == 42, "ESP from ECX, EIP from EDX, EAX as left");
    ok(gp_count == 1 && gp_error == 0 && gp_eip == (uint32_t)user_sysexit,
       "sysexit in ring 3: #GP(0) at the instruction");

    write_msr(0x174, 0);
    __asm__ volatile("kernel_sysenter: sysenter" ::: "memory");
    ok(gp_count == 2 && gp_error == 0 && gp_eip == (uint32_t)kernel_sysenter,
       "sysenter with IA32_SYSENTER_CS null: #GP(0)");
    uint32_t low, high;
    __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(0x176));
    is_u32(low, (uint32_t)sysenter_entry, "rdmsr reads IA32_SYSENTER_EIP back");
    tap_done();
}
