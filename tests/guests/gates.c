/* Guest test: protected-mode delivery in detail (SDM Vol. 3 6.12-6.15, 7.3, 17.3.1.4).
 * Stack frames with and without an error code and with and without a privilege change, 16-
 * and 32-bit gates, IF and TF after interrupt and trap gates, IRET to ring 3 (data segments
 * nulled), #NP and #GP for bad gates with the IDT/EXT error-code bits, a task gate and the
 * return through the back-link, a task switch to a busy task, #DF made of two contributory
 * faults, and single-step traps (with the MOV SS delay).
 * Where QEMU differs from the SDM (the EXT bit for a fault while delivering an exception) the
 * expectation follows the SDM and says so. */
#include "guest.h"

struct descriptor { uint16_t limit_low, base_low; uint8_t base_mid, access, flags_limit, base_high; } __attribute__((packed));
struct gate { uint16_t offset_low, selector; uint8_t zero, type; uint16_t offset_high; } __attribute__((packed));
struct table_register { uint16_t limit; uint32_t base; } __attribute__((packed));
struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
} __attribute__((packed));

#define CODE0 0x08
#define DATA0 0x10
#define CODE3 0x1B
#define DATA3 0x23
#define MAIN_TSS 0x28
#define TASK_TSS 0x30
#define CODE16_BASED 0x38   /* 32-bit code segment based at gate16_block (16-bit gate target) */
#define CODE_ABSENT 0x40    /* a code segment that is not present */

static struct descriptor gdt[9];
static struct gate idt[256];
static struct tss main_tss, task_tss;
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t ring3_stack[8192] __attribute__((aligned(16)));
static uint8_t task_stack[8192] __attribute__((aligned(16)));

/* what the recording handlers saw: the six dwords at ESP on entry, ESP, EFLAGS inside */
volatile uint32_t rec[6], rec_esp, rec_flags, rec_vec, resume_at, kernel_esp;
volatile uint32_t rec16[3], rec16_esp;
volatile uint32_t task_runs, task_tr, task_flags, task_link, ring3_ds;
volatile uint32_t step_eips[8], step_count, step_dr6, step_flags;

extern char h_int_gate[], h_trap_gate[], h_resume_error[], h_resume[], h_double_fault[], h_gate16[], gate16_block[],
    h_back_to_ring0[], h_step[], task_entry[], ring3_code[];

__asm__(
    ".text\n"
    ".macro RECORD vec\n"
    "  mov %esp, %ss:rec_esp\n"
    "  push %eax\n"
    "  pushf\n  pop %eax\n  mov %eax, %ss:rec_flags\n"
    "  mov 4(%esp), %eax\n  mov %eax, %ss:rec\n"
    "  mov 8(%esp), %eax\n  mov %eax, %ss:rec+4\n"
    "  mov 12(%esp), %eax\n  mov %eax, %ss:rec+8\n"
    "  mov 16(%esp), %eax\n  mov %eax, %ss:rec+12\n"
    "  mov 20(%esp), %eax\n  mov %eax, %ss:rec+16\n"
    "  mov 24(%esp), %eax\n  mov %eax, %ss:rec+20\n"
    "  movl $\\vec, %ss:rec_vec\n"
    "  pop %eax\n"
    ".endm\n"
    /* handlers address memory through SS: DS may be null (IRET to ring 3 nulls it) */
    "h_int_gate: RECORD 0x40\n  iret\n"
    "h_trap_gate: RECORD 0x41\n  iret\n"
    /* an exception with an error code: record, drop the code, resume at resume_at */
    "h_resume_error: RECORD 0xEE\n"
    "  add $4, %esp\n"
    "  push %eax\n  mov %ss:resume_at, %eax\n  mov %eax, 4(%esp)\n  pop %eax\n"
    "  iret\n"
    "h_double_fault: RECORD 8\n"
    "  add $4, %esp\n"
    "  push %eax\n  mov %ss:resume_at, %eax\n  mov %eax, 4(%esp)\n  pop %eax\n"
    "  iret\n"
    "h_resume: RECORD 0xEF\n"
    "  push %eax\n  mov %ss:resume_at, %eax\n  mov %eax, 4(%esp)\n  pop %eax\n"
    "  iret\n"
    /* ring 3 comes back to the kernel: drop the frame, continue after run_ring3's iret */
    "h_back_to_ring0:\n"
    "  mov %ss:kernel_esp, %esp\n" /* DS is null here: IRET to ring 3 nulled it */
    "  mov $0x10, %ax\n  mov %ax, %ds\n  mov %ax, %es\n"
    "  jmp ring3_return\n"
    /* the single-step handler: log the saved EIP and DR6, clear DR6 */
    "h_step:\n"
    "  push %eax\n  push %ebx\n"
    "  mov step_count, %ebx\n"
    "  mov 8(%esp), %eax\n  mov %eax, step_eips(,%ebx,4)\n"
    "  inc %ebx\n  mov %ebx, step_count\n"
    "  mov %dr6, %eax\n  mov %eax, step_dr6\n  xor %eax, %eax\n  mov %eax, %dr6\n"
    "  pushf\n  pop %eax\n  mov %eax, step_flags\n"
    "  pop %ebx\n  pop %eax\n"
    "  iret\n"
    /* the task behind the task gate: one run per switch, IRET returns to the caller task */
    "task_entry:\n"
    "  incl task_runs\n"
    "  str %eax\n  mov %eax, task_tr\n"
    "  pushf\n  pop %eax\n  mov %eax, task_flags\n"
    "  mov task_tss, %eax\n  mov %eax, task_link\n"
    "  iret\n"
    "  jmp task_entry\n"
    /* ring 3: int 0x40 (privilege change), note DS, then back to ring 0 */
    "ring3_code:\n"
    "  int $0x40\n"
    "  mov %ds, %eax\n"
    "  mov %eax, %ss:ring3_ds\n"
    "  int $0x43\n"
    /* the 16-bit gate test: runs in CODE16_BASED, whose base is gate16_block; offsets are
     * below 64 KiB so the 16-bit frame holds them */
    "gate16_block:\n"
    "  int $0x42\n"
    "  ljmp $0x08, $gate16_return\n"
    "h_gate16:\n"
    "  mov %esp, rec16_esp\n"
    "  push %eax\n"
    "  movzwl 4(%esp), %eax\n  mov %eax, rec16\n"
    "  movzwl 6(%esp), %eax\n  mov %eax, rec16+4\n"
    "  movzwl 8(%esp), %eax\n  mov %eax, rec16+8\n"
    "  pop %eax\n"
    "  iretw\n");

static void set_descriptor(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[i] = (struct descriptor){ (uint16_t)limit, (uint16_t)base, (uint8_t)(base >> 16), access,
                                  (uint8_t)((flags << 4) | ((limit >> 16) & 0xF)), (uint8_t)(base >> 24) };
}

static void set_gate(int v, uint32_t offset, uint16_t selector, uint8_t type)
{
    idt[v] = (struct gate){ (uint16_t)offset, selector, 0, type, (uint16_t)(offset >> 16) };
}

static void load_idt(uint16_t limit)
{
    struct table_register idtr = { limit, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static void setup(void)
{
    set_descriptor(0, 0, 0, 0, 0);
    set_descriptor(1, 0, 0xFFFFF, 0x9A, 0xC);
    set_descriptor(2, 0, 0xFFFFF, 0x92, 0xC);
    set_descriptor(3, 0, 0xFFFFF, 0xFA, 0xC);
    set_descriptor(4, 0, 0xFFFFF, 0xF2, 0xC);
    set_descriptor(5, (uint32_t)&main_tss, sizeof(struct tss) - 1, 0x89, 0);
    set_descriptor(6, (uint32_t)&task_tss, sizeof(struct tss) - 1, 0x89, 0);
    set_descriptor(7, (uint32_t)gate16_block, 0xFFFF, 0x9A, 0x4);
    set_descriptor(8, 0, 0xFFFFF, 0x1A, 0xC); /* code, not present */
    struct table_register gdtr = { sizeof(gdt) - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n ljmp $0x08, $1f\n 1: mov $0x10, %%ax\n mov %%ax, %%ds\n"
                     "mov %%ax, %%es\n mov %%ax, %%ss\n mov %%ax, %%fs\n mov %%ax, %%gs"
                     : : "m"(gdtr) : "eax", "memory");
    main_tss.ss0 = DATA0;
    main_tss.esp0 = (uint32_t)(ring0_stack + sizeof(ring0_stack));
    main_tss.iomap_base = sizeof(struct tss);
    __asm__ volatile("ltr %w0" : : "r"(MAIN_TSS));
    task_tss = (struct tss){ .eip = (uint32_t)task_entry, .eflags = 0x2,
                             .esp = (uint32_t)(task_stack + sizeof(task_stack)), .es = DATA0,
                             .cs = CODE0, .ss = DATA0, .ds = DATA0, .fs = DATA0, .gs = DATA0,
                             .iomap_base = sizeof(struct tss) };
    for (int v = 0; v < 256; v++)
        set_gate(v, (uint32_t)h_resume, CODE0, 0x8E);
    for (int v = 8; v <= 17; v++)
        if (v == 8 || (v >= 10 && v <= 14) || v == 17)
            set_gate(v, (uint32_t)h_resume_error, CODE0, 0x8E);
    set_gate(1, (uint32_t)h_step, CODE0, 0x8E);
    set_gate(8, (uint32_t)h_double_fault, CODE0, 0x8E);
    set_gate(0x40, (uint32_t)h_int_gate, CODE0, 0xEE);     /* 32-bit interrupt gate, DPL 3 */
    set_gate(0x41, (uint32_t)h_trap_gate, CODE0, 0xEF);    /* 32-bit trap gate, DPL 3 */
    set_gate(0x42, (uint32_t)(h_gate16 - gate16_block), CODE16_BASED, 0x86); /* 16-bit int gate */
    set_gate(0x43, (uint32_t)h_back_to_ring0, CODE0, 0xEE);
    set_gate(0x44, 0, TASK_TSS, 0x85);                     /* task gate */
    set_gate(0x45, (uint32_t)h_int_gate, CODE0, 0x0E);     /* not present */
    set_gate(0x46, (uint32_t)h_int_gate, CODE0, 0x8C);     /* a call gate: not allowed */
    set_gate(0x48, (uint32_t)h_int_gate, CODE_ABSENT, 0x8E); /* code segment not present */
    load_idt(sizeof(idt) - 1);
}

static uint8_t descriptor_type(uint16_t selector) { return gdt[selector >> 3].access & 0x0F; }

extern char after_int40[], after_int41[], gp_insn[], gate16_return[], after_int_ring3[];
extern char np_resume[], gp_resume[], r46[], r47[], r48[], r_ud[], step_nop1[], step_mov_read[], step_mov_ss[], step_nop2[],
    step_popf[], step_end[], df_insn[], df_resume[], busy_resume[];

static void frames_and_flags(void)
{
    uint32_t esp_before;
    __asm__ volatile("sti\n mov %%esp, %0\n int $0x40\n after_int40: cli" : "=r"(esp_before) : : "memory");
    is_u32(rec[0], (uint32_t)after_int40, "int gate frame: EIP (the next instruction: int n is a trap)");
    is_u32(rec[1], CODE0, "int gate frame: CS");
    ok(rec[2] & 0x200, "int gate frame: the saved EFLAGS has IF set");
    is_u32(esp_before - rec_esp, 12, "same privilege, no error code: 12 bytes (EIP, CS, EFLAGS)");
    is_u32(rec_flags & 0x200, 0, "an interrupt gate clears IF");

    __asm__ volatile("sti\n int $0x41\n after_int41: cli" : : : "memory");
    is_u32(rec[0], (uint32_t)after_int41, "trap gate frame: EIP");
    is_u32(rec_flags & 0x200, 0x200, "a trap gate keeps IF");

    /* #GP with an error code: loading DS with a selector beyond the GDT */
    resume_at = (uint32_t)gp_resume;
    __asm__ volatile("mov %%esp, %0\n mov $0x1238, %%ax\n gp_insn: mov %%ax, %%ds\n gp_resume:"
                     : "=r"(esp_before) : : "eax", "memory");
    is_u32(rec[0], 0x1238 & 0xFFFC, "#GP error code: the selector (RPL bits clear)");
    is_u32(rec[1], (uint32_t)gp_insn, "#GP is a fault: the saved EIP is the mov");
    is_u32(esp_before - rec_esp, 16, "with an error code: 16 bytes");
}

static void sixteen_bit_gate(void)
{
    uint32_t moved;
    __asm__ volatile("mov %%esp, %0\n ljmp $0x38, $0\n gate16_return: sub %%esp, %0"
                     : "=r"(moved) : : "memory");
    is_u32(rec16[0], 2, "16-bit gate frame: IP is the 16-bit offset after int 0x42 in its segment");
    is_u32(rec16[1], CODE16_BASED, "16-bit gate frame: CS");
    ok((rec16[2] & 0x0002) && !(rec16[2] & 0xFFFF0000u), "16-bit gate frame: FLAGS is 16 bits");
    is_u32(moved, 0, "iretw popped the 6-byte frame (ESP as before)");
}

static void ring3(void)
{
    __asm__ volatile("pusha\n"
                     "mov %%esp, kernel_esp\n"
                     "push $0x23\n push %1\n push $0x202\n push $0x1B\n push %0\n"
                     "iret\n"
                     "ring3_return: popa\n"
                     : : "r"(ring3_code), "r"(ring3_stack + sizeof(ring3_stack)) : "memory");
    is_u32(rec[1], CODE3, "from ring 3: the frame's CS is the ring-3 code segment");
    is_u32(rec[3], (uint32_t)(ring3_stack + sizeof(ring3_stack)), "from ring 3: the frame holds the old ESP");
    is_u32(rec[4], DATA3, "from ring 3: the frame holds the old SS");
    is_u32(rec_esp, main_tss.esp0 - 20, "the handler runs on the TSS ring-0 stack (ESP0 - 20)");
    is_u32(ring3_ds, 0, "IRET to ring 3 nulled DS (a DPL-0 data segment)");
}

static void bad_gates(void)
{
    resume_at = (uint32_t)np_resume;
    __asm__ volatile("int $0x45\n np_resume:" : : : "memory");
    is_u32(rec[0], 0x45 * 8 + 2, "not-present gate: #NP, error code = vector*8 + IDT bit (no EXT for int n)");

    resume_at = (uint32_t)r46;
    __asm__ volatile("int $0x46\n r46:" : : : "memory");
    is_u32(rec[0], 0x46 * 8 + 2, "a call gate in the IDT: #GP with the IDT bit");

    resume_at = (uint32_t)r48;
    __asm__ volatile("int $0x48\n r48:" : : : "memory");
    is_u32(rec[0], CODE_ABSENT, "gate to a code segment not present: #NP(selector)");

    load_idt(0x47 * 8 - 1);
    resume_at = (uint32_t)r47;
    __asm__ volatile("int $0x47\n r47:" : : : "memory");
    is_u32(rec[0], 0x47 * 8 + 2, "vector beyond the IDT limit: #GP with the IDT bit");
    load_idt(sizeof(idt) - 1);

    /* an exception (external to the program) finding a bad gate: EXT set (SDM Vol. 3 6.13;
     * QEMU leaves EXT clear here) */
    set_gate(6, (uint32_t)h_resume, CODE0, 0x0E);
    resume_at = (uint32_t)r_ud;
    __asm__ volatile("ud2\n r_ud:" : : : "memory");
    is_u32(rec[0], 6 * 8 + 2 + 1, "#UD through a not-present gate: #NP with IDT and EXT bits");
    set_gate(6, (uint32_t)h_resume, CODE0, 0x8E);

    /* #GP while delivering #GP (the #GP gate is not present... #NP is contributory too) */
    set_gate(13, (uint32_t)h_resume_error, CODE0, 0x0E);
    resume_at = (uint32_t)df_resume;
    __asm__ volatile("mov $0x1238, %%ax\n df_insn: mov %%ax, %%ds\n df_resume:" : : : "eax", "memory");
    is_u32(rec_vec, 8, "#NP while delivering #GP (contributory twice): #DF was delivered");
    is_u32(rec[0], 0, "#DF pushes error code 0");
    set_gate(13, (uint32_t)h_resume_error, CODE0, 0x8E);
}

static void task_gate(void)
{
    uint32_t flags, tr;
    __asm__ volatile("int $0x44" : : : "memory");
    __asm__ volatile("pushf\n pop %0\n str %1" : "=r"(flags), "=r"(tr));
    is_u32(task_runs, 1, "int 0x44 through a task gate ran the task");
    is_u32(task_tr, TASK_TSS, "inside the task TR is its TSS");
    ok(task_flags & 0x4000, "inside the task NT is set (nested)");
    is_u32(task_link, MAIN_TSS, "the task's back-link names the interrupted task");
    is_u32(tr, MAIN_TSS, "IRET with NT returned to the interrupted task");
    is_u32(flags & 0x4000, 0, "and the interrupted task's NT is clear");
    is_u32(descriptor_type(TASK_TSS), 0x9, "the returned-from task is available again");
    is_u32(descriptor_type(MAIN_TSS), 0xB, "the current task is busy");
    __asm__ volatile("int $0x44" : : : "memory");
    is_u32(task_runs, 2, "a second switch resumes the task after its IRET");

    /* a switch to a busy task faults: #GP(TSS selector) */
    gdt[TASK_TSS >> 3].access |= 0x02;
    resume_at = (uint32_t)busy_resume;
    __asm__ volatile("int $0x44\n busy_resume:" : : : "memory");
    is_u32(rec[0], TASK_TSS, "a task gate to a busy TSS: #GP(TSS selector)");
    is_u32(task_runs, 2, "and the busy task did not run");
    gdt[TASK_TSS >> 3].access &= (uint8_t)~0x02;

    __asm__ volatile("lcall $0x30, $0" : : : "memory");
    is_u32(task_runs, 3, "a far CALL to the TSS ran the task, IRET came back");
}

static void single_step(void)
{
    step_count = 0;
    __asm__ volatile("pushf\n"
                     "orl $0x100, (%%esp)\n"
                     "popf\n"
                     "step_nop1: nop\n"
                     "step_mov_read: mov %%ss, %%ax\n"
                     "step_mov_ss: mov %%ax, %%ss\n"
                     "step_nop2: nop\n"
                     "pushf\n"
                     "andl $~0x100, (%%esp)\n"
                     "step_popf: popf\n"
                     "step_end:\n" : : : "eax", "memory");
    is_u32(step_eips[0], (uint32_t)step_mov_read, "TF: the first trap follows the first instruction after popf");
    is_u32(step_eips[1], (uint32_t)step_mov_ss, "TF: a trap after each instruction (saved EIP = next)");
    is_u32(step_eips[2], (uint32_t)step_nop2 + 1, "TF: mov ss delays the trap past the next instruction");
    is_u32(step_eips[step_count - 1], (uint32_t)step_end, "TF: the popf that clears TF still traps");
    is_u32(step_count, 6, "TF: six single-step traps in all");
    ok(step_dr6 & 0x4000, "DR6.BS is set for a single-step trap");
    is_u32(step_flags & 0x100, 0, "the #DB handler runs with TF clear");
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(45);
    setup();
    frames_and_flags();
    sixteen_bit_gate();
    ring3();
    bad_gates();
    task_gate();
    single_step();
    tap_done();
}
