/* The guests' tiny kernel (see kernel.h). */
#include "kernel.h"

struct descriptor { uint16_t limit_low, base_low; uint8_t base_mid, access, flags_limit, base_high; } __attribute__((packed));
struct gate { uint16_t offset_low, selector; uint8_t zero, type; uint16_t offset_high; } __attribute__((packed));
struct table_register { uint16_t limit; uint32_t base; } __attribute__((packed));

static struct descriptor gdt[7];
static struct gate idt[256];
static struct tss tss;
static struct tss handler_tss;  /* the task a task gate switches to */
static trap_handler handlers[256];
/* Stacks on pages of their own, as real kernels keep them: a page that also holds the IDT or
 * GDT sends every store to it through the emulator's check for writes into decoded tables. */
static uint8_t kernel_stack[16384] __attribute__((aligned(4096)));
static uint8_t user_stack[16384] __attribute__((aligned(4096)));
static uint32_t saved_kernel_esp;

/* Entry stubs, one per vector, 12 bytes each: push a 0 error code where the CPU pushes none
 * (two NOPs where it does), push the vector, join trap_common, which saves the registers,
 * loads kernel data segments and calls trap_dispatch(frame). */
extern const uint8_t trap_stubs[];
__asm__(
    ".text\n"
    "trap_common:\n"
    "  push %ds\n"
    "  push %es\n"
    "  pusha\n"
    "  mov $0x10, %ax\n"
    "  mov %ax, %ds\n"
    "  mov %ax, %es\n"
    "  push %esp\n"
    "  call trap_dispatch\n"
    "  add $4, %esp\n"
    "  popa\n"
    "  pop %es\n"   /* the interrupted code's data segments: IRET to ring 3 would null ours */
    "  pop %ds\n"
    "  add $8, %esp\n"
    "  iret\n"
    "  .align 16\n"
    "  .globl trap_stubs\n"
    "trap_stubs:\n"
    "  .set vec, 0\n"
    "  .rept 256\n"
    "  .if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21\n"
    "  nop\n  nop\n"
    "  .else\n"
    "  .byte 0x6A, 0x00\n"
    "  .endif\n"
    "  .byte 0x68\n  .long vec\n"
    "  .byte 0xE9\n  .long trap_common - . - 4\n"
    "  .set vec, vec + 1\n"
    "  .endr\n");
static uint32_t trap_stub_address(unsigned vector) { return (uint32_t)trap_stubs + 12 * vector; }

void trap_dispatch(struct trap_frame *frame);
void trap_dispatch(struct trap_frame *frame)
{
    trap_handler h = handlers[frame->vector & 0xFF];
    if (h) {
        h(frame);
        return;
    }
    printf("unexpected %s (vector %u, error code 0x%x) at %04x:%08x\n",
           exception_name(frame->vector), frame->vector, frame->error_code, frame->cs, frame->eip);
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

static void set_descriptor(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[i] = (struct descriptor){ (uint16_t)limit, (uint16_t)base, (uint8_t)(base >> 16), access,
                                  (uint8_t)((flags << 4) | ((limit >> 16) & 0xF)), (uint8_t)(base >> 24) };
}

void trap_set_handler(unsigned vector, trap_handler handler, uint8_t gate_type, uint8_t dpl)
{
    handlers[vector] = handler;
    uint32_t a = trap_stub_address(vector);
    idt[vector] = (struct gate){ (uint16_t)a, KERNEL_CS, 0, (uint8_t)(gate_type | (dpl << 5)),
                                 (uint16_t)(a >> 16) };
}

void trap_set_gate(unsigned vector, void (*entry)(void), uint8_t gate_type, uint8_t dpl)
{
    uint32_t a = (uint32_t)entry;
    idt[vector] = (struct gate){ (uint16_t)a, KERNEL_CS, 0, (uint8_t)(gate_type | (dpl << 5)),
                                 (uint16_t)(a >> 16) };
}

void trap_set_task(unsigned vector, void (*entry)(void), void *stack_top)
{
    uint32_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    handler_tss = (struct tss){ .cr3 = cr3, .eip = (uint32_t)entry, .eflags = 0x2,
                                .esp = (uint32_t)stack_top, .es = KERNEL_DS, .cs = KERNEL_CS,
                                .ss = KERNEL_DS, .ds = KERNEL_DS, .fs = KERNEL_DS,
                                .gs = KERNEL_DS, .iomap_base = sizeof(struct tss) };
    /* a task gate (type 5) names the TSS; its offset fields are unused */
    idt[vector] = (struct gate){ 0, HANDLER_TSS_SELECTOR, 0, 0x85, 0 };
}

struct tss *kernel_task(void) { return &tss; }
struct tss *handler_task(void) { return &handler_tss; }

static void user_return_handler(struct trap_frame *frame)
{
    (void)frame;
    /* back to run_in_user_mode's caller: restore its kernel stack and return there */
    __asm__ volatile("mov %0, %%esp\n"
                     "popa\n"
                     "ret\n" : : "r"(saved_kernel_esp));
    __builtin_unreachable();
}

void kernel_init(void)
{
    set_descriptor(0, 0, 0, 0, 0);
    set_descriptor(1, 0, 0xFFFFF, 0x9A, 0xC);   /* 0x08 ring-0 code */
    set_descriptor(2, 0, 0xFFFFF, 0x92, 0xC);   /* 0x10 ring-0 data */
    set_descriptor(3, 0, 0xFFFFF, 0xFA, 0xC);   /* 0x18 ring-3 code */
    set_descriptor(4, 0, 0xFFFFF, 0xF2, 0xC);   /* 0x20 ring-3 data */
    set_descriptor(5, (uint32_t)&tss, sizeof(tss) - 1, 0x89, 0x0); /* 0x28 32-bit TSS */
    set_descriptor(6, (uint32_t)&handler_tss, sizeof(handler_tss) - 1, 0x89, 0x0); /* 0x30 */
    struct table_register gdtr = { sizeof(gdt) - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n"
                     "ljmp $0x08, $1f\n"
                     "1: mov $0x10, %%ax\n"
                     "mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n"
                     "mov %%ax, %%fs\n mov %%ax, %%gs\n" : : "m"(gdtr) : "eax", "memory");
    tss.ss0 = KERNEL_DS;
    tss.esp0 = (uint32_t)(kernel_stack + sizeof(kernel_stack));
    tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 has no port access */
    __asm__ volatile("ltr %w0" : : "r"(TSS_SELECTOR));
    /* the firmware leaves the 8259s delivering IRQ0 (its timer tick) as vector 8, on top of
     * the exceptions: mask them all, as every OS does before it opens IF */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    for (unsigned v = 0; v < 256; v++)
        trap_set_handler(v, NULL, 0x8E, 0);
    trap_set_handler(0x7F, user_return_handler, 0x8E, 3);
    struct table_register idtr = { sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void run_in_user_mode(void (*fn)(uint32_t), uint32_t arg)
{
    uint32_t *stack = (uint32_t *)(user_stack + sizeof(user_stack));
    *--stack = arg;
    *--stack = 0; /* fn must not return: it calls user_return() */
    /* save the kernel context, then IRET to ring 3 with a frame: EIP CS EFLAGS ESP SS */
    __asm__ volatile("pusha\n"
                     "mov %%esp, %0\n"
                     "mov $0x23, %%ax\n"
                     "mov %%ax, %%ds\n mov %%ax, %%es\n"
                     "push $0x23\n"
                     "push %2\n"
                     "push $0x202\n"
                     "push $0x1B\n"
                     "push %1\n"
                     "iret\n"
                     : "=m"(saved_kernel_esp) : "r"(fn), "r"(stack) : "eax", "memory");
    /* user_return_handler resumes here (after popa, ret) */
    __asm__ volatile("mov $0x10, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es" : : : "eax");
}

/* run_in_vm86(cs, ip, ss, sp, eflags): IRET into virtual-8086 mode with DS = ES = FS = GS = ss
 * (the frame of SDM Vol. 2 IRET, RETURN-TO-VIRTUAL-8086-MODE); returns when the 8086 code runs
 * int 0x7F (which needs IOPL 3 there). Assembly, so nothing sits between pusha and the return
 * address that user_return_handler's popa; ret comes back to. */
__asm__(".text\n"
        ".globl run_in_vm86\n"
        "run_in_vm86:\n"
        "  pusha\n"
        "  mov %esp, saved_kernel_esp\n"
        "  mov 44(%esp), %eax\n"          /* ss: the data segments too */
        "  push %eax\n"                   /* GS */
        "  push %eax\n"                   /* FS */
        "  push %eax\n"                   /* DS */
        "  push %eax\n"                   /* ES */
        "  push %eax\n"                   /* SS */
        /* after pusha the arguments are at 36 (cs), 40 (ip), 44 (ss), 48 (sp), 52 (eflags),
         * each further push moving them 4 up */
        "  pushl 68(%esp)\n"              /* SP: 48 + 5 pushes */
        "  mov 76(%esp), %eax\n"          /* eflags: 52 + 6 pushes */
        "  or $0x20002, %eax\n"           /* VM and the fixed bit 1 */
        "  push %eax\n"
        "  pushl 64(%esp)\n"              /* CS: 36 + 7 pushes */
        "  pushl 72(%esp)\n"              /* IP: 40 + 8 pushes */
        "  iret\n");

void user_return(void)
{
    __asm__ volatile("int $0x7F");
    __builtin_unreachable();
}
