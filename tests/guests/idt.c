/* Guest test: exceptions and software interrupts through a 32-bit IDT at CPL 0: #DE is a fault
 * (the handler sees the faulting instruction and may fix and re-execute it), int3 is a trap
 * (the handler sees the next instruction), int n through a trap gate keeps IF, #UD from ud2. */
#include "guest.h"

struct gate { uint16_t offset_low, selector; uint8_t zero, type; uint16_t offset_high; } __attribute__((packed));
struct frame { uint32_t vector, error, eip, cs, eflags; };

static struct gate idt[256];
static volatile struct frame last;
static volatile uint32_t divisor;

/* handler stubs: push the vector (and a dummy error code where the CPU pushes none) */
extern char stub_de[], stub_bp[], stub_ud[], stub_80[];
__asm__(".text\n"
        "stub_de: push $0; push $0; jmp common\n"
        "stub_bp: push $0; push $3; jmp common\n"
        "stub_ud: push $0; push $6; jmp common\n"
        "stub_80: push $0; push $0x80; jmp common\n"
        "common: pusha\n"
        "  push %esp\n"
        "  call handler\n"
        "  add $4, %esp\n"
        "  popa\n"
        "  add $8, %esp\n"
        "  iret\n");

struct regs { uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax; struct frame f; };

void handler(struct regs *r);
void handler(struct regs *r)
{
    last.vector = r->f.vector;
    last.eip = r->f.eip;
    last.cs = r->f.cs;
    last.eflags = r->f.eflags;
    if (r->f.vector == 0)
        divisor = 7;          /* fix the cause: the div re-executes with the new divisor */
    if (r->f.vector == 6)
        r->f.eip += 2;        /* skip ud2 */
    if (r->f.vector == 0x80)
        r->eax = 0x1234;      /* a "system call" result */
}

static void set_gate(int v, void *fn, uint8_t type)
{
    uint32_t a = (uint32_t)fn;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[v] = (struct gate){ (uint16_t)a, cs, 0, type, (uint16_t)(a >> 16) };
}

extern char div_insn[], int3_after[], ud2_insn[];

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(8);
    set_gate(0, stub_de, 0x8E);
    set_gate(3, stub_bp, 0x8F);
    set_gate(6, stub_ud, 0x8E);
    set_gate(0x80, stub_80, 0xEF);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));

    divisor = 0;
    uint32_t q;
    __asm__ volatile("xor %%edx, %%edx\n"
                     "div_insn: divl %1" : "=a"(q) : "m"(divisor), "a"(700) : "edx", "cc");
    is_u32(last.vector, 0, "divide by zero raised #DE");
    is_u32(last.eip, (uint32_t)div_insn, "#DE is a fault: saved EIP is the div");
    is_u32(q, 100, "the handler fixed the divisor and the div re-executed: 700 / 7");

    __asm__ volatile("int3\nint3_after:");
    is_u32(last.vector, 3, "int3 raised #BP");
    is_u32(last.eip, (uint32_t)int3_after, "#BP is a trap: saved EIP is the next instruction");

    __asm__ volatile("ud2_insn: ud2");
    is_u32(last.vector, 6, "ud2 raised #UD (saved EIP was the ud2: the handler skipped it)");

    uint32_t result;
    __asm__ volatile("sti\n\tint $0x80\n\tcli" : "=a"(result) : "a"(0));
    is_u32(result, 0x1234, "int 0x80 returns the handler's EAX");
    ok(last.eflags & 0x200, "the interrupted EFLAGS had IF set (trap gate frame)");
    tap_done();
}
