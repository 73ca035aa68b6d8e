/* Guest test: the virtual-8086 mode extensions and protected-mode virtual interrupts (SDM
 * Vol. 3 20.3 and 20.4; CR4.VME, CR4.PVI). With VME, 8086 code below IOPL 3 runs cli and sti
 * on the virtual interrupt flag VIF instead of faulting; 16-bit pushf shows VIF as IF (and
 * IOPL 3); int n whose bit is clear in the TSS's interrupt redirection bitmap goes straight to
 * the 8086 handler in the IVT at linear 0, whose 16-bit iret comes back; a set bit still goes
 * to the monitor (#GP below IOPL 3); sti with VIP set is #GP for the monitor to deliver the
 * pending interrupt. With PVI, cli and sti at CPL 3 below IOPL change VIF. QEMU's TCG does not
 * implement VME or PVI (its CPUID says so, even with -cpu ...,+vme): the expectations are the
 * SDM's (Vol. 2 CLI, STI, PUSHF, POPF, IRET, INT n). */
#include "kernel.h"

#define CODE_SEGMENT 0x2000u

extern const uint8_t vme_code[], vme_code_end[], vme_flags_after_cli[], vme_flags_after_sti[],
    vme_ax_after_int[], vme_flags_in_handler[], vme_flags_after_iret[], vme_handler[];
__asm__(".section .rodata\n"
        "vme_code:\n"
        ".code16\n"
        "  cli\n"                                           /* IOPL 0: VIF = 0, no #GP */
        "  pushf\n"
        "  pop %ax\n"
        "  mov %ax, (vme_flags_after_cli - vme_code)\n"
        "  sti\n"                                           /* VIF = 1 */
        "  pushf\n"
        "  pop %ax\n"
        "  mov %ax, (vme_flags_after_sti - vme_code)\n"
        "  int $0x21\n"                                     /* redirected: the IVT's handler */
        "  mov %ax, (vme_ax_after_int - vme_code)\n"
        "  pushf\n"
        "  pop %ax\n"
        "  mov %ax, (vme_flags_after_iret - vme_code)\n"
        "  int $0x22\n"                                     /* bit set: #GP to the monitor */
        "  hlt\n"                                           /* #GP: the monitor sets VIP */
        "  sti\n"                                           /* VIP: #GP, the monitor clears it */
        "  hlt\n"                                           /* #GP: the monitor makes IOPL 3 */
        "  int $0x7F\n"                                     /* back to the kernel */
        "vme_handler:\n"                                    /* the 8086 program's int 0x21 */
        "  pushf\n"
        "  pop %bx\n"
        "  mov %bx, (vme_flags_in_handler - vme_code)\n"
        "  mov $0x2121, %ax\n"
        "  iret\n"
        "vme_flags_after_cli: .word 0\n"
        "vme_flags_after_sti: .word 0\n"
        "vme_ax_after_int: .word 0\n"
        "vme_flags_in_handler: .word 0\n"
        "vme_flags_after_iret: .word 0\n"
        ".code32\n"
        "vme_code_end:\n"
        ".text\n");

/* the kernel's TSS followed by the interrupt redirection bitmap and an empty I/O bitmap */
static struct {
    struct tss tss;
    uint8_t redirect[32];
    uint8_t io_end;
} __attribute__((packed)) vme_task;

static volatile uint8_t gp_opcodes[8];
static volatile uint32_t gp_count, gp_errors_nonzero, gp_vif[8];

static void on_general_protection(struct trap_frame *f)
{
    const uint8_t *code = (f->eflags & 0x20000u) ? (const uint8_t *)((f->cs << 4) + f->eip)
                                                : (const uint8_t *)f->eip;
    uint8_t opcode = *code;
    if (gp_count < 8) {
        gp_opcodes[gp_count] = opcode;
        gp_vif[gp_count] = f->eflags & 0x80000u;
    }
    gp_count++;
    if (f->error_code)
        gp_errors_nonzero++;
    if (opcode == 0xF4 && (f->eflags & 0x20000u)) {
        /* the monitor: the first hlt raises VIP, the second makes IOPL 3 */
        if (!(f->eflags & 0x100000u) && gp_count == 2)
            f->eflags |= 0x100000u;
        else
            f->eflags |= 0x3000u;
    }
    if (opcode == 0xFB)
        f->eflags &= ~0x100000u; /* sti with VIP: "deliver" it, clear VIP */
    f->eip += opcode == 0xCD ? 2 : 1;
}

static uint32_t read_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static void write_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v)); }

/* PVI at CPL 3: cli and sti below IOPL change VIF; a hlt's #GP frame shows it */
static void pvi_program(uint32_t arg)
{
    (void)arg;
    __asm__ volatile("cli\n hlt\n sti\n hlt" ::: "memory");
    user_return();
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(12);
    trap_set_handler(13, on_general_protection, 0x8E, 0);
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1));
    ok(d & 2, "CPUID.1:EDX.VME");

    /* a TSS with the redirection bitmap: int 0x21 redirected (bit clear), the rest not */
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    uint8_t *descriptor = (uint8_t *)gdtr.base + TSS_SELECTOR;
    uint32_t base = (uint32_t)&vme_task, limit = sizeof(vme_task) - 1;
    descriptor[0] = (uint8_t)limit;
    descriptor[1] = (uint8_t)(limit >> 8);
    descriptor[2] = (uint8_t)base;
    descriptor[3] = (uint8_t)(base >> 8);
    descriptor[4] = (uint8_t)(base >> 16);
    descriptor[5] = 0x89;
    descriptor[6] = 0;
    descriptor[7] = (uint8_t)(base >> 24);
    vme_task.tss = *kernel_task();
    vme_task.tss.iomap_base = (uint16_t)__builtin_offsetof(__typeof__(vme_task), io_end);
    memset(vme_task.redirect, 0xFF, sizeof(vme_task.redirect));
    vme_task.redirect[0x21 / 8] &= (uint8_t)~(1u << (0x21 % 8));
    vme_task.io_end = 0xFF;
    __asm__ volatile("ltr %w0" : : "r"(TSS_SELECTOR) : "memory");

    uint8_t *low = (uint8_t *)(CODE_SEGMENT << 4);
    memcpy(low, vme_code, (size_t)(vme_code_end - vme_code));
    uint16_t *ivt;
    __asm__("" : "=r"(ivt) : "0"(0)); /* the IVT at linear 0 (hidden from gcc's null checks) */
    ivt[0x21 * 2] = (uint16_t)(vme_handler - vme_code);
    ivt[0x21 * 2 + 1] = CODE_SEGMENT;

    write_cr4(read_cr4() | 1); /* VME */
    run_in_vm86(CODE_SEGMENT, 0, CODE_SEGMENT, 0xFFF0, 0x0000 /* IOPL 0 */);
    __asm__ volatile("mov %0, %%fs\n mov %0, %%gs" : : "r"(KERNEL_DS));
    write_cr4(read_cr4() & ~1u);

    uint16_t after_cli, after_sti, ax, in_handler, after_iret;
    memcpy(&after_cli, low + (vme_flags_after_cli - vme_code), 2);
    memcpy(&after_sti, low + (vme_flags_after_sti - vme_code), 2);
    memcpy(&ax, low + (vme_ax_after_int - vme_code), 2);
    memcpy(&in_handler, low + (vme_flags_in_handler - vme_code), 2);
    memcpy(&after_iret, low + (vme_flags_after_iret - vme_code), 2);
    ok((after_cli & 0x3200) == 0x3000, "cli below IOPL: no #GP; pushf shows IF = VIF = 0, IOPL 3 "
       "(%x)", after_cli);
    ok((after_sti & 0x3200) == 0x3200, "sti: pushf shows IF = VIF = 1 (%x)", after_sti);
    is_u32(ax, 0x2121, "int 0x21 (redirection bit clear) ran the IVT's 8086 handler");
    is_u32(in_handler & 0x200, 0, "which started with VIF clear");
    is_u32(after_iret & 0x200, 0x200, "and its 16-bit iret gave VIF back");
    is_u32(gp_count, 4, "four #GP for the monitor: int 0x22, hlt, sti with VIP, hlt");
    ok(gp_opcodes[0] == 0xCD && gp_opcodes[1] == 0xF4 && gp_opcodes[2] == 0xFB &&
       gp_opcodes[3] == 0xF4 && gp_errors_nonzero == 0,
       "int 0x22 (redirection bit set) and sti with VIP set are #GP(0) (%x %x %x %x)",
       gp_opcodes[0], gp_opcodes[1], gp_opcodes[2], gp_opcodes[3]);

    /* PVI */
    gp_count = 0;
    write_cr4(read_cr4() | 2);
    run_in_user_mode(pvi_program, 0);
    write_cr4(read_cr4() & ~2u);
    is_u32(gp_count, 2, "PVI: cli and sti at CPL 3 below IOPL do not fault (only the hlts)");
    is_u32(gp_vif[0], 0, "after cli: VIF clear");
    is_u32(gp_vif[1], 0x80000u, "after sti: VIF set");
    ok(gp_opcodes[0] == 0xF4 && gp_opcodes[1] == 0xF4, "the two #GP were the hlts");
    tap_done();
}
