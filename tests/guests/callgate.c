/* Guest test: far calls through call gates (SDM Vol. 3 5.8.3-5.8.6). Ring 3 calls a DPL-3
 * 32-bit call gate to a ring-0 routine with two parameters: the stack switches to the TSS's
 * ring-0 stack, which receives the caller's SS:ESP, the two parameters copied in order, and
 * CS:EIP; `lret $8` returns to ring 3, releasing the parameters on both stacks and nulling
 * DS/ES that ring 3 may not use. A same-privilege call through a gate pushes only CS:EIP; a
 * gate of too low DPL gives #GP(gate selector), a gate not present #NP(gate selector). */
#include "guest.h"

struct descriptor { uint16_t limit_low, base_low; uint8_t base_mid, access, flags_limit, base_high; } __attribute__((packed));
struct gate { uint16_t offset_low, selector; uint8_t params, type; uint16_t offset_high; } __attribute__((packed));
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
#define TSS_SEL 0x28
#define GATE3 0x33     /* DPL 3 call gate -> ring-0 routine, 2 parameters (RPL 3 selector) */
#define GATE0 0x38     /* DPL 0 call gate: ring 3 may not use it */
#define GATE_NP 0x43   /* DPL 3 call gate, not present */
#define GATE_SAME 0x48 /* DPL 0 gate to ring-0 code, used from ring 0 */

static struct descriptor gdt[10];
static struct gate idt[256];
static struct tss tss;
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t ring3_stack[8192] __attribute__((aligned(16)));

volatile uint32_t kernel_esp, resume_at, fault_count, fault_errors[4];
volatile uint32_t seen_cs, seen_ss, seen_esp, seen_param0, seen_param1, seen_old_esp, seen_old_ss;
volatile uint32_t seen_ret_cs, after_ret_ds, after_ret_esp, ring3_esp_before, same_frame_cs;
volatile uint32_t same_esp_delta, same_cs;

extern char ring3_code[], gate_routine[], same_routine[], h_fault[], h_back[], ring3_after_call[];
extern char r_gp[], r_np[];

__asm__(
    ".text\n"
    /* the ring-0 routine behind GATE3: record what the gate built, return releasing 8 bytes */
    "gate_routine:\n"
    "  mov %cs, %eax\n  mov %eax, %ss:seen_cs\n"
    "  mov %ss, %eax\n  mov %eax, %ss:seen_ss\n"
    "  mov %esp, %ss:seen_esp\n"
    "  mov 4(%esp), %eax\n  mov %eax, %ss:seen_ret_cs\n"
    "  mov 8(%esp), %eax\n  mov %eax, %ss:seen_param0\n"
    "  mov 12(%esp), %eax\n  mov %eax, %ss:seen_param1\n"
    "  mov 16(%esp), %eax\n  mov %eax, %ss:seen_old_esp\n"
    "  mov 20(%esp), %eax\n  mov %eax, %ss:seen_old_ss\n"
    "  mov $0x10, %ax\n  mov %ax, %ds\n"     /* a ring-0 data segment in DS on the way back */
    "  lret $8\n"
    /* ring 3 */
    "ring3_code:\n"
    "  mov %esp, %ss:ring3_esp_before\n"
    "  push $0x2222\n"                      /* parameter 1 (pushed first: the deeper one) */
    "  push $0x1111\n"                      /* parameter 0 */
    "  lcall $0x33, $0\n"
    "ring3_after_call:\n"
    "  mov %ds, %eax\n  mov %eax, %ss:after_ret_ds\n"
    "  mov %esp, %ss:after_ret_esp\n"
    "  movl $r_gp, %ss:resume_at\n"
    "  lcall $0x38, $0\n"                   /* DPL-0 gate from ring 3: #GP(0x38) */
    "r_gp:\n"
    "  movl $r_np, %ss:resume_at\n"
    "  lcall $0x43, $0\n"                   /* not present: #NP(0x40) */
    "r_np:\n"
    "  int $0x43\n"                         /* back to the kernel */
    /* a same-privilege gate target */
    "same_routine:\n"
    "  mov 4(%esp), %eax\n  mov %eax, same_frame_cs\n"
    "  mov %cs, %eax\n  mov %eax, same_cs\n"
    "  lret\n"
    /* #GP / #NP from ring 3: note it, resume at resume_at (still ring 3) */
    "h_fault:\n"
    "  push %eax\n  push %ebx\n"
    "  mov %ss:fault_count, %eax\n"
    "  mov 8(%esp), %ebx\n  mov %ebx, %ss:fault_errors(,%eax,4)\n"   /* the error code */
    "  incl %ss:fault_count\n"
    "  mov %ss:resume_at, %ebx\n  mov %ebx, 12(%esp)\n"              /* resume there */
    "  pop %ebx\n  pop %eax\n"
    "  add $4, %esp\n"
    "  iret\n"
    "h_back:\n"
    "  mov %ss:kernel_esp, %esp\n"
    "  mov $0x10, %ax\n  mov %ax, %ds\n  mov %ax, %es\n"
    "  jmp ring3_return\n");

static void set_descriptor(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[i] = (struct descriptor){ (uint16_t)limit, (uint16_t)base, (uint8_t)(base >> 16), access,
                                  (uint8_t)((flags << 4) | ((limit >> 16) & 0xF)), (uint8_t)(base >> 24) };
}
static void set_call_gate(int i, void *target, uint16_t selector, uint8_t params, uint8_t access)
{
    uint32_t a = (uint32_t)target;
    *(struct gate *)&gdt[i] = (struct gate){ (uint16_t)a, selector, params, access, (uint16_t)(a >> 16) };
}
static void set_idt(int v, void *handler, uint8_t type)
{
    uint32_t a = (uint32_t)handler;
    idt[v] = (struct gate){ (uint16_t)a, CODE0, 0, type, (uint16_t)(a >> 16) };
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(16);
    set_descriptor(0, 0, 0, 0, 0);
    set_descriptor(1, 0, 0xFFFFF, 0x9A, 0xC);
    set_descriptor(2, 0, 0xFFFFF, 0x92, 0xC);
    set_descriptor(3, 0, 0xFFFFF, 0xFA, 0xC);
    set_descriptor(4, 0, 0xFFFFF, 0xF2, 0xC);
    set_descriptor(5, (uint32_t)&tss, sizeof(tss) - 1, 0x89, 0);
    set_call_gate(6, gate_routine, CODE0, 2, 0xEC);      /* 0x30: DPL 3, 32-bit, present */
    set_call_gate(7, gate_routine, CODE0, 2, 0x8C);      /* 0x38: DPL 0 */
    set_call_gate(8, gate_routine, CODE0, 2, 0x6C);      /* 0x40: DPL 3, not present */
    set_call_gate(9, same_routine, CODE0, 0, 0x8C);      /* 0x48: DPL 0 */
    struct table_register gdtr = { sizeof(gdt) - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n ljmp $0x08, $1f\n 1: mov $0x10, %%ax\n mov %%ax, %%ds\n"
                     "mov %%ax, %%es\n mov %%ax, %%ss" : : "m"(gdtr) : "eax", "memory");
    tss.ss0 = DATA0;
    tss.esp0 = (uint32_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap_base = sizeof(tss);
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
    set_idt(13, h_fault, 0x8E);
    set_idt(11, h_fault, 0x8E);
    set_idt(0x43, h_back, 0xEE);
    struct table_register idtr = { sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));

    /* same privilege first: only CS:EIP pushed, CS's RPL stays 0 */
    uint32_t esp_before, esp_inside;
    __asm__ volatile("mov %%esp, %0\n lcall $0x48, $0\n mov %%esp, %1"
                     : "=&r"(esp_before), "=r"(esp_inside) : : "eax", "memory");
    is_u32(same_frame_cs, CODE0, "same-privilege gate call: the frame's CS");
    is_u32(same_cs, CODE0, "and the routine runs in ring 0 code");
    is_u32(esp_before, esp_inside, "lret popped the 8-byte frame");

    __asm__ volatile("pusha\n"
                     "mov %%esp, kernel_esp\n"
                     "mov $0x23, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n"
                     "push $0x23\n push %1\n push $0x202\n push $0x1B\n push %0\n"
                     "iret\n"
                     "ring3_return: popa\n"
                     : : "r"(ring3_code), "r"(ring3_stack + sizeof(ring3_stack)) : "eax", "memory");
    is_u32(seen_cs & 3, 0, "through the DPL-3 gate the routine runs at CPL 0");
    is_u32(seen_ss, DATA0, "on the TSS's ring-0 stack segment");
    is_u32(seen_esp, tss.esp0 - 24, "24 bytes below ESP0: SS, ESP, two parameters, CS, EIP");
    is_u32(seen_ret_cs, CODE3, "the frame's CS is the ring-3 caller's");
    is_u32(seen_param0, 0x1111, "parameter 0 copied");
    is_u32(seen_param1, 0x2222, "parameter 1 copied, in order");
    is_u32(seen_old_ss, DATA3, "the caller's SS saved");
    is_u32(seen_old_esp, ring3_esp_before - 8, "the caller's ESP (after its pushes) saved");
    is_u32(after_ret_esp, ring3_esp_before, "lret $8 released the parameters on the caller's stack");
    is_u32(after_ret_ds, 0, "the return to ring 3 nulled DS (a ring-0 data segment)");
    is_u32(fault_count, 2, "two faults from ring 3");
    is_u32(fault_errors[0], 0x38, "a DPL-0 gate from ring 3: #GP(gate selector)");
    is_u32(fault_errors[1], 0x40, "a gate not present: #NP(gate selector)");
    tap_done();
}
