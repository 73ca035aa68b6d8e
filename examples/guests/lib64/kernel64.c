/* The long-mode guests' tiny kernel (see kernel64.h). */
#include "kernel64.h"

/* A 16-byte IA-32e gate (SDM Vol. 3 6.14.1, Figure 6-8) */
struct gate64 {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
} __attribute__((packed));
struct table_register64 { uint16_t limit; uint64_t base; } __attribute__((packed));

static uint64_t gdt[GDT_SLOTS];
static struct gate64 idt[256] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static trap_handler handlers[256];
/* Stacks on pages of their own (a store next to the IDT or GDT would go through the emulator's
 * check for writes into decoded tables). */
static uint8_t kernel_stack[16384] __attribute__((aligned(4096)));
static uint8_t user_stack[16384] __attribute__((aligned(4096)));
static uint8_t ist_stacks[7][8192] __attribute__((aligned(4096)));
uint64_t saved_kernel_rsp;

volatile struct fault_record last_fault;
volatile uint64_t fault_resume, fault_resume_rsp, fault_resume_cs, fault_resume_ss;

/* Entry stubs, one per vector, 12 bytes each: push a 0 error code where the CPU pushes none
 * (two NOPs where it does), push the vector, join trap_common, which saves the general
 * registers and calls trap_dispatch(frame) on a 16-byte aligned stack (the CPU has already
 * aligned RSP before pushing its frame, SDM Vol. 3 6.14.2, but a raw gate might not lead here
 * from the CPU). */
extern const uint8_t trap_stubs[];
__asm__(
    ".text\n"
    "trap_common:\n"
    "  push %r15\n push %r14\n push %r13\n push %r12\n push %r11\n push %r10\n push %r9\n"
    "  push %r8\n push %rbp\n push %rdi\n push %rsi\n push %rdx\n push %rcx\n push %rbx\n"
    "  push %rax\n"
    "  mov %rsp, %rdi\n"
    "  mov %rsp, %rbx\n"
    "  and $-16, %rsp\n"
    "  cld\n"
    "  call trap_dispatch\n"
    "  mov %rbx, %rsp\n"
    "  pop %rax\n pop %rbx\n pop %rcx\n pop %rdx\n pop %rsi\n pop %rdi\n pop %rbp\n pop %r8\n"
    "  pop %r9\n pop %r10\n pop %r11\n pop %r12\n pop %r13\n pop %r14\n pop %r15\n"
    "  add $16, %rsp\n"   /* vector, error code */
    "  iretq\n"
    "  .align 16\n"
    "  .globl trap_stubs\n"
    "trap_stubs:\n"
    "  .set vec, 0\n"
    "  .rept 256\n"
    "  .if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21\n"
    "  nop\n  nop\n"
    "  .else\n"
    "  .byte 0x6A, 0x00\n"               /* push $0 (8 bytes in 64-bit mode) */
    "  .endif\n"
    "  .byte 0x68\n  .long vec\n"        /* push $vec */
    "  .byte 0xE9\n  .long trap_common - . - 4\n"
    "  .set vec, vec + 1\n"
    "  .endr\n");

uint64_t trap_stub_address(unsigned vector) { return (uint64_t)(uintptr_t)trap_stubs + 12 * vector; }

void trap_dispatch(struct trap_frame *frame);
void trap_dispatch(struct trap_frame *frame)
{
    trap_handler h = handlers[frame->vector & 0xFF];
    if (h) {
        h(frame);
        return;
    }
    printf("unexpected %s (vector %lu, error code 0x%lx) at %04lx:%016lx\n",
           exception_name((unsigned)frame->vector), frame->vector, frame->error_code, frame->cs,
           frame->rip);
    exit(100 + (int)frame->vector);
}

static const char *const names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR BOUND range exceeded", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack-segment fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

const char *exception_name(unsigned vector)
{
    if (vector < 32)
        return names[vector] ? names[vector] : "reserved";
    return "interrupt";
}

void idt_set_gate(unsigned vector, uint64_t offset, uint16_t selector, uint8_t type_attr,
                  unsigned ist)
{
    idt[vector] = (struct gate64){ (uint16_t)offset, selector, (uint8_t)(ist & 7), type_attr,
                                   (uint16_t)(offset >> 16), (uint32_t)(offset >> 32), 0 };
}

void trap_set_handler(unsigned vector, trap_handler handler, uint8_t gate_type, uint8_t dpl,
                      unsigned ist)
{
    handlers[vector] = handler;
    idt_set_gate(vector, trap_stub_address(vector), KERNEL_CS,
                 (uint8_t)((gate_type & 0x9F) | (dpl << 5)), ist);
}

void gdt_set(unsigned slot, uint64_t descriptor) { gdt[slot] = descriptor; }
uint64_t gdt_get(unsigned slot) { return gdt[slot]; }
struct tss64 *kernel_tss(void) { return &tss; }
uint64_t ist_stack_bottom(unsigned ist) { return (uint64_t)(uintptr_t)ist_stacks[ist - 1]; }
uint64_t ist_stack_top(unsigned ist) { return ist_stack_bottom(ist) + sizeof(ist_stacks[0]); }
uint64_t kernel_stack_top(void) { return (uint64_t)(uintptr_t)(kernel_stack + sizeof(kernel_stack)); }
uint64_t user_stack_top(void) { return (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack)); }

/* run_user(fn, arg, cs, rsp): save the callee-saved registers and RSP, then IRETQ to cs:fn with
 * SS:RSP = USER_DS:rsp, RFLAGS.IF=1 and the argument in RDI; user_return_handler comes back to
 * run_user_resume. DS and ES = USER_DS: compatibility-mode code uses them (a null DS would
 * fault there), 64-bit code ignores them. */
void run_user(void (*fn)(uint64_t), uint64_t arg, uint64_t cs, uint64_t rsp);
__asm__(".text\n"
        "run_user:\n"
        "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "  mov %rsp, saved_kernel_rsp(%rip)\n"
        "  mov $0x23, %eax\n"
        "  mov %eax, %ds\n mov %eax, %es\n"
        "  pushq $0x23\n"
        "  push %rcx\n"
        "  pushq $0x202\n"
        "  push %rdx\n"
        "  push %rdi\n"
        "  mov %rsi, %rdi\n"
        "  iretq\n"
        "run_user_resume:\n"
        "  mov $0x10, %eax\n"   /* SS too: the interrupt from ring 3 left it null (6.14.4) */
        "  mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n"
        "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
        "  ret\n");

static void user_return_handler(struct trap_frame *frame)
{
    (void)frame;
    __asm__ volatile("mov saved_kernel_rsp(%rip), %rsp\n"
                     "jmp run_user_resume\n");
    __builtin_unreachable();
}

void run_in_user_cs(void (*fn)(uint64_t), uint64_t arg, uint16_t cs)
{
    /* as if fn had been called: RSP = 8 mod 16 with a (never used) 0 return address */
    uint64_t *stack = (uint64_t *)(uintptr_t)user_stack_top();
    *--stack = 0;
    run_user(fn, arg, cs, (uint64_t)(uintptr_t)stack);
}

void run_in_user_mode(void (*fn)(uint64_t), uint64_t arg) { run_in_user_cs(fn, arg, USER_CS); }

void user_return(void)
{
    __asm__ volatile("int $0x7F");
    __builtin_unreachable();
}

void syscall_setup(void (*entry)(void), uint64_t sfmask)
{
    /* SYSCALL: CS = STAR[47:32], SS = +8; SYSRET (64-bit): CS = STAR[63:48] + 16, SS = +8 */
    wrmsr(MSR_STAR, ((uint64_t)(USER32_CS & ~3) << 48) | ((uint64_t)KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)entry);
    wrmsr(MSR_SFMASK, sfmask);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

void fault_reset(void)
{
    last_fault.count = 0;
    last_fault.vector = ~0ull;
    last_fault.error_code = ~0ull;
}

void fault_catch(struct trap_frame *f)
{
    last_fault.count++;
    last_fault.vector = f->vector;
    last_fault.error_code = f->error_code;
    last_fault.rip = f->rip;
    last_fault.cs = f->cs;
    last_fault.rflags = f->rflags;
    last_fault.rsp = f->rsp;
    last_fault.ss = f->ss;
    last_fault.cr2 = read_cr2();
    last_fault.frame = (uint64_t)(uintptr_t)&f->rip;
    last_fault.handler_rsp = read_rsp();
    last_fault.handler_rflags = read_rflags();
    if (fault_resume) {
        f->rip = fault_resume;
        f->rsp = fault_resume_rsp;
        f->cs = fault_resume_cs;
        f->ss = fault_resume_ss;
        fault_resume = 0;
        return;
    }
    /* a fault nobody armed for would only repeat */
    if (f->vector < 32 && f->vector != 1 && f->vector != 3 && f->vector != 4) {
        printf("# unexpected %s (error code 0x%lx) at %04lx:%016lx\n",
               exception_name((unsigned)f->vector), f->error_code, f->cs, f->rip);
        exit(100 + (int)f->vector);
    }
}

void catch_exceptions(void)
{
    for (unsigned v = 0; v < 32; v++)
        if (v != 2)
            trap_set_handler(v, fault_catch, GATE_INTERRUPT, 0, 0);
}

int strict_mode(void)
{
    /* a word "strict" among the guest arguments */
    const char *s = boot_cmdline();
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        if (s - w == 6 && memcmp(w, "strict", 6) == 0)
            return 1;
    }
    return 0;
}

int sdm_ok(int condition, const char *qemu_differs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = condition || strict_mode() ? vok(condition, NULL, fmt, ap)
                                       : vok(1, qemu_differs, fmt, ap);
    va_end(ap);
    return r;
}

void skip(const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vok(1, reason, fmt, ap);
    va_end(ap);
}

void kernel_init(void)
{
    gdt[0] = 0;
    gdt[1] = 0x00AF9A000000FFFFull;   /* 0x08 ring-0 code, 64-bit (L=1, D=0) */
    gdt[2] = 0x00CF92000000FFFFull;   /* 0x10 ring-0 data */
    gdt[3] = 0x00CFFA000000FFFFull;   /* 0x18 ring-3 code, compatibility mode (L=0, D=1) */
    gdt[4] = 0x00CFF2000000FFFFull;   /* 0x20 ring-3 data */
    gdt[5] = 0x00AFFA000000FFFFull;   /* 0x28 ring-3 code, 64-bit */
    gdt[6] = 0x00CF9A000000FFFFull;   /* 0x30 ring-0 code, compatibility mode */
    /* 0x38: the 64-bit TSS descriptor takes two slots (SDM Vol. 3 8.2.3), type 9 available */
    uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
    gdt[7] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
             ((limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
    gdt[8] = base >> 32;
    struct table_register64 gdtr = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
    /* CS through a far return (there is no far jump with an immediate in 64-bit mode) */
    __asm__ volatile("lgdt %0\n"
                     "pushq $0x08\n"
                     "lea 1f(%%rip), %%rax\n"
                     "pushq %%rax\n"
                     "lretq\n"
                     "1: mov $0x10, %%eax\n"
                     "mov %%eax, %%ds\n mov %%eax, %%es\n mov %%eax, %%ss\n"
                     "mov %%eax, %%fs\n mov %%eax, %%gs\n" : : "m"(gdtr) : "rax", "memory");
    tss.rsp[0] = kernel_stack_top();
    for (unsigned i = 1; i <= 7; i++)
        tss.ist[i - 1] = ist_stack_top(i);
    tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 has no port access */
    __asm__ volatile("ltr %w0" : : "r"(TSS_SELECTOR));
    /* the firmware leaves the 8259s delivering IRQ0 as vector 8: mask them all */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    for (unsigned v = 0; v < 256; v++)
        trap_set_handler(v, NULL, GATE_INTERRUPT, 0, 0);
    trap_set_handler(0x7F, user_return_handler, GATE_INTERRUPT, 3, 0);
    struct table_register64 idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
