/* Guest test: delivery in real-address mode through the IVT (SDM Vol. 3 20.1.4). The guest
 * copies a 16-bit blob below 1 MiB, leaves protected mode for real mode, and there: int n
 * through an IVT entry (the 6-byte frame FLAGS, CS, IP; IF and TF cleared in the handler;
 * CS:IP loaded from the entry, whatever segment it names), #DE as a fault (the saved IP is
 * the div), iret; then it returns to protected mode and checks what the blob recorded. */
#include "guest.h"

#define BLOB_LINEAR 0x7000u
#define BLOB_SEGMENT 0x0700u

struct descriptor { uint16_t limit_low, base_low; uint8_t base_mid, access, flags_limit, base_high; } __attribute__((packed));
struct table_register { uint16_t limit; uint32_t base; } __attribute__((packed));

static struct descriptor gdt[5];
uint32_t saved_esp;
struct table_register saved_idtr;
extern char blob_start[], blob_end[], blob_pm16[], blob_back32[];
extern char r_frame[], r_inside_flags[], r_sp_before[], r_sp_inside[], r_de_ip[], r_div[],
    r_quotient[], r_int31_cs[], r_after_int30[], r_done[];

/* The blob: offsets are from blob_start, which runs at 0x0700:0000 (real mode) and as the base
 * of the 16-bit protected-mode code segment 0x18. */
#define OFF(label) "(" #label " - blob_start)"
__asm__(
    ".text\n"
    ".code16\n"
    "blob_start:\n"
    "blob_pm16:\n"                              /* 16-bit protected mode, CS = 0x18 */
    "  mov $0x20, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n"
    "  mov %cr0, %eax\n  and $0xFFFFFFFE, %eax\n  mov %eax, %cr0\n"
    "  ljmp $0x0700, $" OFF(real) "\n"
    "real:\n"                                   /* real mode */
    "  mov $0x0700, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n"
    "  mov $0x0F00, %sp\n"
    "  lidt " OFF(real_idtr) "\n"
    /* IVT: 0x30 -> 0700:h30, 0 -> 0700:h_de, 0x31 -> 0600:(h31 + 0x1000) (same bytes) */
    "  xor %ax, %ax\n  mov %ax, %fs\n"
    "  movw $" OFF(h30) ", %fs:0xC0\n  movw $0x0700, %fs:0xC2\n"
    "  movw $" OFF(h_de) ", %fs:0x00\n  movw $0x0700, %fs:0x02\n"
    "  movw $(" OFF(h31) " + 0x1000), %fs:0xC4\n  movw $0x0600, %fs:0xC6\n"
    "  sti\n"
    "  mov %sp, " OFF(r_sp_before) "\n"
    "  int $0x30\n"
    "r_after_int30_label:\n"
    "  cli\n"
    "  xor %dx, %dx\n  mov $700, %ax\n  xor %bx, %bx\n"
    "r_div_label:\n"
    "  div %bx\n"                               /* #DE: the handler sets BX = 7 and returns */
    "  mov %ax, " OFF(r_quotient) "\n"
    "  int $0x31\n"
    "  movw $1, " OFF(r_done) "\n"
    /* back to protected mode (blob_back32 reloads the protected-mode IDTR) */
    "  mov %cr0, %eax\n  or $1, %eax\n  mov %eax, %cr0\n"
    "  .byte 0x66, 0xEA\n  .long blob_back32\n  .word 0x08\n"
    "h30:\n"
    "  mov %sp, " OFF(r_sp_inside) "\n"
    "  push %bp\n  mov %sp, %bp\n"
    "  mov 2(%bp), %ax\n  mov %ax, " OFF(r_frame) "\n"       /* IP */
    "  mov 4(%bp), %ax\n  mov %ax, " OFF(r_frame) "+2\n"     /* CS */
    "  mov 6(%bp), %ax\n  mov %ax, " OFF(r_frame) "+4\n"     /* FLAGS */
    "  pushf\n  pop %ax\n  mov %ax, " OFF(r_inside_flags) "\n"
    "  pop %bp\n"
    "  iret\n"
    "h_de:\n"
    "  push %ax\n  push %bp\n  mov %sp, %bp\n"
    "  mov 4(%bp), %ax\n  mov %ax, " OFF(r_de_ip) "\n"
    "  pop %bp\n  pop %ax\n"
    "  mov $7, %bx\n"                           /* fix the cause: the div runs again */
    "  iret\n"
    "h31:\n"
    "  mov %cs, %ax\n  mov %ax, %cs:(" OFF(r_int31_cs) " + 0x1000)\n"
    "  iret\n"
    "  .p2align 2\n"
    "real_idtr: .word 0x3FF\n  .long 0\n"
    "r_frame: .word 0, 0, 0\n"
    "r_inside_flags: .word 0\n"
    "r_sp_before: .word 0\n"
    "r_sp_inside: .word 0\n"
    "r_de_ip: .word 0\n"
    "r_quotient: .word 0\n"
    "r_int31_cs: .word 0\n"
    "r_done: .word 0\n"
    "r_div: .word (r_div_label - blob_start)\n"
    "r_after_int30: .word (r_after_int30_label - blob_start)\n"
    "blob_end:\n"
    ".code32\n"
    "blob_back32:\n"
    "  mov $0x10, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n  mov %ax, %fs\n  mov %ax, %gs\n"
    "  mov saved_esp, %esp\n"
    "  lidt saved_idtr\n"
    "  ret\n");

static void set_descriptor(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[i] = (struct descriptor){ (uint16_t)limit, (uint16_t)base, (uint8_t)(base >> 16), access,
                                  (uint8_t)((flags << 4) | ((limit >> 16) & 0xF)), (uint8_t)(base >> 24) };
}

static uint16_t blob_word(const char *label)
{
    return *(volatile uint16_t *)(BLOB_LINEAR + (uint32_t)(label - blob_start));
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(11);
    set_descriptor(0, 0, 0, 0, 0);
    set_descriptor(1, 0, 0xFFFFF, 0x9A, 0xC);            /* 0x08 flat 32-bit code */
    set_descriptor(2, 0, 0xFFFFF, 0x92, 0xC);            /* 0x10 flat data */
    set_descriptor(3, BLOB_LINEAR, 0xFFFF, 0x9A, 0x0);   /* 0x18 16-bit code at the blob */
    set_descriptor(4, 0, 0xFFFF, 0x92, 0x0);             /* 0x20 16-bit data, real-mode limits */
    struct table_register gdtr = { sizeof(gdt) - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n ljmp $0x08, $1f\n 1: mov $0x10, %%ax\n mov %%ax, %%ds\n"
                     "mov %%ax, %%es\n mov %%ax, %%ss" : : "m"(gdtr) : "eax", "memory");
    memcpy((void *)BLOB_LINEAR, blob_start, (size_t)(blob_end - blob_start));
    __asm__ volatile("sidt %0" : "=m"(saved_idtr));
    outb(0x21, 0xFF); /* the firmware's timer tick (IRQ0) would find no IVT entry of ours */
    outb(0xA1, 0xFF);
    __asm__ volatile("pusha\n"
                     "push $1f\n"                /* blob_back32 returns here */
                     "mov %%esp, saved_esp\n"
                     "ljmp $0x18, $0\n"          /* blob_pm16 is at offset 0 */
                     "1: popa\n" : : : "memory");
    is_u32(blob_word(r_done), 1, "the blob ran in real mode and came back");
    is_u32(blob_word(r_frame), blob_word(r_after_int30), "int 0x30 frame: IP of the next instruction");
    is_u32(blob_word(r_frame + 2), BLOB_SEGMENT, "int 0x30 frame: CS");
    ok(blob_word(r_frame + 4) & 0x200, "int 0x30 frame: FLAGS with IF set (as before the int)");
    is_u32(blob_word(r_sp_before) - blob_word(r_sp_inside), 6, "the real-mode frame is 6 bytes");
    is_u32(blob_word(r_inside_flags) & 0x300, 0, "in the handler IF and TF are clear");
    is_u32(blob_word(r_de_ip), blob_word(r_div), "#DE in real mode is a fault: saved IP is the div");
    is_u32(blob_word(r_quotient), 100, "the handler fixed the divisor: 700 / 7");
    is_u32(blob_word(r_int31_cs), 0x0600, "the IVT entry's segment becomes CS");
    uint32_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    ok(cr0 & 1, "back in protected mode");
    struct table_register idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    is_u32(idtr.base, saved_idtr.base, "with the protected-mode IDTR back");
    tap_done();
}
