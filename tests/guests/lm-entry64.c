/* Long-mode guest test: an ELF64 executable without a Multiboot header is entered in 64-bit
 * mode (docs/guest-contract.md, "Entry"): the loader's identity map of the first 4 GiB with
 * 1 GiB pages at CR3 = 0x1000, PAE, EFER.LME and LMA, a boot GDT at 0x9FC00 with 64-bit code
 * at 0x08 and flat data at 0x10, RSP = 0x6F08, RFLAGS = 0x2, the other registers 0. _start
 * records the registers before anything changes them. Linked as ELF64 (no objcopy) with no
 * crt0: this file is the whole guest with lib/guest.c. libx86irq only (QEMU's -kernel takes no
 * ELF64 file). */
#include <stdint.h>

#include "guest.h"

uint32_t boot_magic, boot_info, boot_esp; /* guest.h's: no Multiboot here */
uint64_t entry_regs[16], entry_rflags, entry_rsp;
uint16_t entry_cs, entry_ds, entry_ss;
static uint8_t stack[16384] __attribute__((aligned(16)));
uint8_t *stack_top = stack + sizeof(stack);

int kmain(void);
/* the registers as the loader left them, in the order RAX..R15 (RSP's slot: the entry RSP) */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov %rax, entry_regs + 0\n"
        "  mov %rcx, entry_regs + 8\n"
        "  mov %rdx, entry_regs + 16\n"
        "  mov %rbx, entry_regs + 24\n"
        "  mov %rsp, entry_regs + 32\n"
        "  mov %rbp, entry_regs + 40\n"
        "  mov %rsi, entry_regs + 48\n"
        "  mov %rdi, entry_regs + 56\n"
        "  mov %r8, entry_regs + 64\n"
        "  mov %r9, entry_regs + 72\n"
        "  mov %r10, entry_regs + 80\n"
        "  mov %r11, entry_regs + 88\n"
        "  mov %r12, entry_regs + 96\n"
        "  mov %r13, entry_regs + 104\n"
        "  mov %r14, entry_regs + 112\n"
        "  mov %r15, entry_regs + 120\n"
        "  pushfq\n"                      /* on the loader's stack: it must be RAM */
        "  popq entry_rflags\n"
        "  mov %cs, entry_cs\n"
        "  mov %ds, entry_ds\n"
        "  mov %ss, entry_ss\n"
        "  mov stack_top, %rsp\n"
        "  call kmain\n"
        "  mov %eax, %edi\n"
        "  call exit\n");

static uint64_t read_cr(int n)
{
    uint64_t v = 0;
    switch (n) {
    case 0: __asm__ volatile("mov %%cr0, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%cr3, %0" : "=r"(v)); break;
    case 4: __asm__ volatile("mov %%cr4, %0" : "=r"(v)); break;
    }
    return v;
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

int kmain(void)
{
    tap_plan(17);
    is_u64(entry_regs[4], 0x6F08, "RSP at entry: 0x6F08 (the boot stack)");
    uint64_t others = 0;
    for (int i = 0; i < 16; i++)
        if (i != 4)
            others |= entry_regs[i];
    is_u64(others, 0, "the other general registers are 0 (no Multiboot registers)");
    is_u64(entry_rflags, 0x2, "RFLAGS = 0x2: IF clear");
    is_u32(entry_cs, 0x08, "CS = 0x08");
    ok(entry_ds == 0x10 && entry_ss == 0x10, "DS = SS = 0x10 (DS %x, SS %x)", entry_ds, entry_ss);
    uint64_t cr0 = read_cr(0), cr3 = read_cr(3), cr4 = read_cr(4);
    is_u64(cr0 & 0x80000001u, 0x80000001u, "CR0.PG and PE");
    is_u64(cr3, 0x1000, "CR3 = 0x1000, the loader's PML4");
    is_u64(cr4 & 0x20, 0x20, "CR4.PAE");
    is_u64(rdmsr(0xC0000080u) & 0x500, 0x500, "EFER.LME and LMA");
    /* the boot GDT */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    is_u64(gdtr.base, 0x9FC00, "GDTR.base = 0x9FC00");
    is_u32(gdtr.limit, 23, "GDTR.limit: three descriptors");
    const volatile uint64_t *gdt = (const volatile uint64_t *)0x9FC00;
    is_u64(gdt[1], 0x00AF9B000000FFFFull, "0x08: 64-bit code (L = 1, D = 0)");
    /* the identity map: 1 GiB pages, four of them */
    const volatile uint64_t *pml4 = (const volatile uint64_t *)cr3;
    const volatile uint64_t *pdpt = (const volatile uint64_t *)(pml4[0] & ~0xFFFull);
    ok((pdpt[0] & 0x81) == 0x81 && (pdpt[3] & ~0xFFFull) == 0xC0000000u,
       "PDPT: 1 GiB pages (PDPTE0 0x%lx, PDPTE3 0x%lx)", (unsigned long)pdpt[0],
       (unsigned long)pdpt[3]);
    ok(pdpt[3] & 0x18, "the top GiB uncached (PCD/PWT: 0x%lx)", (unsigned long)pdpt[3]);
    is_u64(pml4[1], 0, "nothing above 512 GiB");
    /* the local APIC at 0xFEE00000 through the map: its version register */
    uint32_t version = *(const volatile uint32_t *)0xFEE00030u;
    is_u32(version & 0xFF, 0x14, "the local APIC's version through the identity map");
    /* where this code runs: the file's p_paddr, identity-mapped */
    extern char _start[];
    ok((uint64_t)(uintptr_t)_start >= 0x100000 && (uint64_t)(uintptr_t)_start < 0x200000,
       "running at the load address (_start 0x%lx)", (unsigned long)(uintptr_t)_start);
    tap_done();
}
