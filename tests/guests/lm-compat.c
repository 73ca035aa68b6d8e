/* Long-mode guest test: compatibility mode (SDM Vol. 3 5.2.1 CS.L/D, 2.2 IA-32e sub-modes;
 * Vol. 2 Appendix A opcode map, "i64" entries). Ring-3 code in a CS with L=0, D=1 runs as 32-bit
 * protected-mode code under 4-level paging: the opcodes 64-bit mode removes (PUSH/POP ES, CS,
 * SS, DS; DAA, DAS, AAA, AAS, AAM, AAD; PUSHA/POPA; INTO; far CALL/JMP with a pointer; 0x82)
 * work there and raise #UD in 64-bit mode, and 0x40-0x4F are INC/DEC rather than REX. An
 * interrupt from compatibility mode is delivered in 64-bit mode (6.14: IA-32e gates lead to
 * 64-bit code) with the 32-bit CS:EIP and SS:ESP in its frame; IRETQ goes back. */
#include "kernel64.h"

/* results from the compatibility-mode code */
uint32_t c_cs, c_es, c_daa, c_das, c_aaa, c_aam, c_aad, c_popa, c_dec, c_inc, c_pushcs, c_esp_int,
    c_after_iret, c_82, c_into_none;
void compat_user(void);
void compat_after_int(void);
__asm__(".text\n .code32\n"
        "compat_user:\n"
        "  mov %cs, %eax\n  mov %eax, c_cs\n"
        "  push %es\n  pop %es\n"                      /* 0x06, 0x07 */
        "  mov %es, %eax\n  mov %eax, c_es\n"
        "  mov $0x09, %al\n  add $0x08, %al\n  daa\n"  /* 0x11 with AF -> 0x17 */
        "  movzbl %al, %eax\n  mov %eax, c_daa\n"
        "  mov $0x23, %al\n  sub $0x05, %al\n  das\n"  /* 0x1E with AF -> 0x18 */
        "  movzbl %al, %eax\n  mov %eax, c_das\n"
        "  mov $0x0009, %ax\n  add $0x05, %al\n  aaa\n" /* 9 + 5: AH 1, AL 4 */
        "  movzwl %ax, %eax\n  mov %eax, c_aaa\n"
        "  mov $79, %eax\n  aam\n"                     /* AH 7, AL 9 */
        "  mov %eax, c_aam\n"
        "  mov $0x0703, %eax\n  aad\n"                 /* 73 */
        "  mov %eax, c_aad\n"
        "  mov $0x11111111, %ebx\n  pusha\n  xor %ebx, %ebx\n  popa\n"
        "  mov %ebx, c_popa\n"
        "  mov $5, %eax\n  .byte 0x48\n  nop\n"        /* dec %eax; nop */
        "  mov %eax, c_dec\n"
        "  mov $5, %eax\n  .byte 0x40\n  nop\n"        /* inc %eax; nop */
        "  mov %eax, c_inc\n"
        "  push %cs\n  pop %eax\n  mov %eax, c_pushcs\n"  /* 0x0E */
        "  mov $1, %al\n  .byte 0x82, 0xC0, 0x02\n"    /* add $2, %al (0x82 alias) */
        "  movzbl %al, %eax\n  mov %eax, c_82\n"
        "  xor %eax, %eax\n  into\n"                   /* OF=0: nothing */
        "  movl $1, c_into_none\n"
        "  mov %esp, c_esp_int\n"
        "  int $0x42\n"
        "compat_after_int:\n"
        "  mov $5, %eax\n  .byte 0x48, 0x90\n"         /* still 32-bit after IRETQ: dec */
        "  mov %eax, c_after_iret\n"
        "  mov $0x7FFFFFFF, %eax\n  add $1, %eax\n  into\n"  /* OF=1: #OF */
        "  int $0x7F\n"
        ".code64\n");

static volatile uint64_t h_cs, h_lar, h_count;
static volatile struct trap_frame h_frame;
static void on_compat_int(struct trap_frame *f)
{
    h_count++;
    h_cs = read_cs();
    uint64_t ar;
    __asm__ volatile("lar %1, %0" : "=r"(ar) : "r"((uint64_t)read_cs()));
    h_lar = ar;
    h_frame = *f;
}

#define UD64(bytes, what)                                                                        \
    do {                                                                                         \
        fault_reset();                                                                           \
        __asm__ volatile(CATCH(".byte " bytes) ::: "r11", "memory");                             \
        ok(last_fault.count == 1 && last_fault.vector == 6, "64-bit mode: %s (%s) is #UD",       \
           what, bytes);                                                                         \
    } while (0)

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    catch_exceptions();
    trap_set_handler(0x42, on_compat_int, GATE_INTERRUPT, 3, 0);
    trap_set_handler(4, fault_catch, GATE_TRAP, 3, 0);  /* INTO from ring 3 */
    tap_plan(40);

    /* the compatibility-mode segment */
    uint64_t d = gdt_get(USER32_CS >> 3);
    ok(!(d >> 53 & 1) && (d >> 54 & 1) && (d >> 45 & 3) == 3, "GDT 0x18: L=0, D=1, DPL 3");

    fault_reset();
    run_in_user_cs((void (*)(uint64_t))compat_user, 0, USER32_CS);
    is_u32(c_cs, USER32_CS, "compatibility-mode code runs with CS 0x1B");
    is_u32(c_es, USER_DS, "PUSH ES / POP ES (0x06, 0x07)");
    is_u32(c_daa, 0x17, "DAA (0x27)");
    is_u32(c_das, 0x18, "DAS (0x2F)");
    is_u32(c_aaa, 0x0104, "AAA (0x37)");
    is_u32(c_aam, 0x0709, "AAM (0xD4 0x0A)");
    is_u32(c_aad, 73, "AAD (0xD5 0x0A)");
    is_u32(c_popa, 0x11111111, "PUSHA / POPA (0x60, 0x61)");
    is_u32(c_dec, 4, "0x48 is DEC EAX");
    is_u32(c_inc, 6, "0x40 is INC EAX");
    is_u32(c_pushcs, USER32_CS, "PUSH CS (0x0E)");
    is_u32(c_82, 3, "0x82 /0 is ADD r/m8, imm8");
    is_u32(c_into_none, 1, "INTO with OF=0 does nothing");

    /* the interrupt from compatibility mode */
    is_u64(h_count, 1, "INT 0x42 from compatibility mode delivered");
    is_u64(h_cs, KERNEL_CS, "the handler runs in the 64-bit kernel CS");
    ok(h_lar >> 21 & 1, "... with CS.L=1 (LAR 0x%lx)", h_lar);
    is_u64(h_frame.cs, USER32_CS, "frame CS = the compatibility-mode selector");
    is_u64(h_frame.rip, (uint64_t)(uintptr_t)compat_after_int, "frame RIP = the 32-bit EIP after the INT");
    is_u64(h_frame.rsp, c_esp_int, "frame RSP = ESP, zero-extended");
    is_u64(h_frame.ss, USER_DS, "frame SS = the ring-3 SS");
    is_u32(c_after_iret, 4, "IRETQ went back to compatibility mode (0x48 still DEC)");
    ok(last_fault.vector == 4 && last_fault.cs == USER32_CS, "INTO with OF=1 in compatibility mode: #OF (vector %ld)",
       (long)last_fault.vector);

    /* the same opcodes in 64-bit mode (ring 0) */
    UD64("0x06", "PUSH ES");
    UD64("0x07", "POP ES");
    UD64("0x0E", "PUSH CS");
    UD64("0x16", "PUSH SS");
    UD64("0x1F", "POP DS");
    UD64("0x27", "DAA");
    UD64("0x2F", "DAS");
    UD64("0x37", "AAA");
    UD64("0x3F", "AAS");
    UD64("0x60", "PUSHA");
    UD64("0x61", "POPA");
    UD64("0xD4, 0x0A", "AAM");
    UD64("0xD5, 0x0A", "AAD");
    UD64("0xCE", "INTO");
    UD64("0x82, 0xC0, 0x02", "0x82 group 1");
    UD64("0x9A, 0, 0, 0, 0, 0x08, 0", "far CALL ptr16:32");
    UD64("0xEA, 0, 0, 0, 0, 0x08, 0", "far JMP ptr16:32");
    tap_done();
}
