/* Guest test: virtual-8086 mode (SDM Vol. 3 chapter 20). IRET at CPL 0 with VM set in the
 * popped EFLAGS enters it (the frame also holds SS:ESP and ES, DS, FS, GS as real-mode
 * selectors); the 8086 code addresses memory as selector * 16 + offset at CPL 3. With IOPL 3,
 * int n goes through the IDT to a ring-0 handler whose frame holds GS, FS, DS, ES, SS, ESP,
 * EFLAGS (VM set), CS, EIP, and which runs with the data segments null; its IRET returns to
 * the 8086 code; an IRET inside it pops an 8086 frame; a gate to code that is not ring 0 is
 * #GP(code selector). With IOPL below 3, cli, int n, pushf and (without a TSS I/O bitmap) in are
 * #GP(0) for the monitor to emulate; hlt is #GP(0) at any IOPL (CPL 3). A task switch to a
 * TSS whose EFLAGS has VM set also enters it. */
#include "kernel.h"

#define CODE_SEGMENT 0x2000u   /* the 8086 code and data at linear 0x20000 */
#define STACK_TOP 0xFFF0u

extern const uint8_t vm86_code[], vm86_code_end[], vm86_value[], vm86_result1[],
    vm86_result2[], vm86_result3[], vm86_result4[], vm86_task_entry[];

/* vector 0x43, from the virtual-8086 task: IRET with NT set goes back through the TSS
 * back-link to the task that called it */
extern void vm86_task_exit(void);
__asm__(".text\n"
        "vm86_task_exit:\n"
        "  pushf\n"
        "  orl $0x4000, (%esp)\n"
        "  popf\n"
        "  iret\n");
static uint8_t task_ring0_stack[1024] __attribute__((aligned(16)));
__asm__(".section .rodata\n"
        "vm86_code:\n"
        ".code16\n"
        "  mov $0x1234, %ax\n"
        "  int $0x40\n"                                   /* IOPL 3: through the IDT */
        "  mov %ax, (vm86_result1 - vm86_code)\n"
        "  mov (vm86_value - vm86_code), %bx\n"
        "  mov %bx, (vm86_result2 - vm86_code)\n"
        "  cli\n"                                         /* IOPL 3: allowed */
        "  sti\n"
        "  pushf\n"                                       /* an 8086 IRET frame: FLAGS, */
        "  push %cs\n"                                    /* CS and IP */
        "  push $(vm86_after_iret - vm86_code)\n"
        "  iret\n"                                        /* IOPL 3: IRET stays in VM86 */
        "  movw $0xDEAD, (vm86_result3 - vm86_code)\n"    /* skipped */
        "vm86_after_iret:\n"
        "  incw (vm86_result3 - vm86_code)\n"
        "  int $0x42\n"                                   /* a gate to ring-3 code: #GP(0x18) */
        "  hlt\n"                                         /* #GP: the monitor makes IOPL 0 */
        "  cli\n"                                         /* IOPL 0: #GP */
        "  int $0x41\n"                                   /* #GP */
        "  pushf\n"                                       /* #GP */
        "  inb $0x80, %al\n"                              /* #GP: no I/O bitmap */
        "  hlt\n"                                         /* #GP: the monitor makes IOPL 3 */
        "  int $0x7F\n"                                   /* back to the kernel */
        "vm86_task_entry:\n"                             /* a virtual-8086 task starts here */
        "  movb $0x77, (vm86_result4 - vm86_code)\n"
        "  int $0x43\n"                                   /* its ring-0 handler returns by IRET+NT */
        "vm86_value: .word 0xBEEF\n"
        "vm86_result1: .word 0\n"
        "vm86_result2: .word 0\n"
        "vm86_result3: .word 0\n"
        "vm86_result4: .word 0\n"
        ".code32\n"
        "vm86_code_end:\n"
        ".text\n");

static volatile uint32_t int_eflags, int_cs, int_eip, int_esp, int_ss, int_segments[4],
    int_handler_ds, int_count;
static volatile uint8_t gp_opcodes[8];
static volatile uint32_t gp_count, gp_errors_nonzero, gp_without_vm, first_gp_error;

static void on_int40(struct trap_frame *f)
{
    int_count++;
    int_eflags = f->eflags;
    int_cs = f->cs;
    int_eip = f->eip;
    int_esp = f->user_esp;
    int_ss = f->user_ss;
    const uint32_t *beyond = (const uint32_t *)&f->user_ss + 1; /* ES, DS, FS, GS */
    for (unsigned i = 0; i < 4; i++)
        int_segments[i] = beyond[i];
    int_handler_ds = f->ds; /* what DS held when the stub saved it: null */
    f->eax = (f->eax & 0xFFFF0000u) | 0x5678;
}

/* the monitor: emulate by skipping, and switch IOPL at each hlt */
static void on_general_protection(struct trap_frame *f)
{
    if (!(f->eflags & 0x20000u)) {
        gp_without_vm++;
        return;
    }
    uint8_t opcode = *(const uint8_t *)((f->cs << 4) + f->eip);
    if (gp_count < sizeof(gp_opcodes))
        gp_opcodes[gp_count] = opcode;
    gp_count++;
    if (gp_count == 1)
        first_gp_error = f->error_code;
    if (f->error_code)
        gp_errors_nonzero++;
    switch (opcode) {
    case 0xF4: f->eflags ^= 0x3000u; f->eip += 1; break;   /* hlt: IOPL 3 <-> 0 */
    case 0xCD: case 0xE4: f->eip += 2; break;               /* int n, in al, imm8 */
    default: f->eip += 1; break;                            /* cli, pushf */
    }
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(15);
    trap_set_handler(0x40, on_int40, 0x8E, 3);
    trap_set_handler(13, on_general_protection, 0x8E, 0);
    /* vector 0x42: a DPL-3 interrupt gate to ring-3 code, which virtual-8086 mode may not use */
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    uint32_t *gate = (uint32_t *)(idtr.base + 0x42 * 8);
    gate[0] = ((uint32_t)USER_CS << 16) | 0x1000;
    gate[1] = 0x0000EE00u;
    uint8_t *low = (uint8_t *)(CODE_SEGMENT << 4);
    memcpy(low, vm86_code, (size_t)(vm86_code_end - vm86_code));

    run_in_vm86(CODE_SEGMENT, 0, CODE_SEGMENT, STACK_TOP, 0x3000u /* IOPL 3 */);
    __asm__ volatile("mov %0, %%fs\n mov %0, %%gs" : : "r"(KERNEL_DS));

    is_u32(int_count, 1, "int 0x40 from virtual-8086 mode (IOPL 3) reached the ring-0 handler");
    ok(int_eflags & 0x20000u, "its frame's EFLAGS has VM set");
    ok(int_cs == CODE_SEGMENT && int_eip == 5, "frame CS:EIP %x:%x, after the int", int_cs, int_eip);
    ok(int_ss == CODE_SEGMENT && int_esp == STACK_TOP, "frame SS:ESP %x:%x", int_ss, int_esp);
    ok(int_segments[0] == CODE_SEGMENT && int_segments[1] == CODE_SEGMENT &&
       int_segments[2] == CODE_SEGMENT && int_segments[3] == CODE_SEGMENT,
       "the frame holds ES, DS, FS, GS (%x %x %x %x)", int_segments[0], int_segments[1],
       int_segments[2], int_segments[3]);
    is_u32(int_handler_ds, 0, "the handler started with DS null");
    uint16_t result1, result2;
    memcpy(&result1, low + (vm86_result1 - vm86_code), 2);
    memcpy(&result2, low + (vm86_result2 - vm86_code), 2);
    is_u32(result1, 0x5678, "IRET went back to the 8086 code with the handler's AX");
    is_u32(result2, 0xBEEF, "the 8086 code read DS:offset = 0x20000 + offset");
    uint16_t result3;
    memcpy(&result3, low + (vm86_result3 - vm86_code), 2);
    is_u32(result3, 1, "an IRET inside virtual-8086 mode (IOPL 3) went to its 8086 frame's CS:IP");
    ok(gp_opcodes[0] == 0xCD && first_gp_error == (USER_CS & 0xFFFC),
       "int n to a gate whose code is not ring 0: #GP(code selector %x)", first_gp_error);
    is_u32(gp_count, 7, "seven #GP for the monitor");
    ok(gp_opcodes[1] == 0xF4 && gp_opcodes[2] == 0xFA && gp_opcodes[3] == 0xCD &&
       gp_opcodes[4] == 0x9C && gp_opcodes[5] == 0xE4 && gp_opcodes[6] == 0xF4 &&
       gp_errors_nonzero == 1 && gp_without_vm == 0,
       "hlt, then with IOPL 0 cli, int 0x41, pushf, in, each #GP(0); then hlt (%x %x %x %x %x %x)",
       gp_opcodes[1], gp_opcodes[2], gp_opcodes[3], gp_opcodes[4], gp_opcodes[5], gp_opcodes[6]);
    ok(1, "int 0x7F with IOPL 3 came back to the kernel");

    /* a task switch into a virtual-8086 task: VM in the TSS's EFLAGS, real-mode selectors */
    trap_set_gate(0x43, vm86_task_exit, 0x8E, 3);
    struct tss *task = handler_task();
    memset(task, 0, sizeof(*task));
    task->eflags = 0x00023002u;                       /* VM, IOPL 3, bit 1 */
    task->eip = (uint32_t)(vm86_task_entry - vm86_code);
    task->cs = task->ss = task->ds = task->es = task->fs = task->gs = CODE_SEGMENT;
    task->esp = 0xF000;
    task->ss0 = KERNEL_DS;
    task->esp0 = (uint32_t)(task_ring0_stack + sizeof(task_ring0_stack));
    task->iomap_base = sizeof(struct tss);
    __asm__ volatile("lcall $0x30, $0" ::: "memory");
    __asm__ volatile("mov %0, %%fs\n mov %0, %%gs" : : "r"(KERNEL_DS));
    uint16_t result4;
    memcpy(&result4, low + (vm86_result4 - vm86_code), 2);
    is_u32(result4, 0x77, "a far CALL to a TSS with VM set ran its 8086 code");
    uint32_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    is_u32(tr, TSS_SELECTOR, "and IRET with NT from its ring-0 handler came back to the caller");
    tap_done();
}
