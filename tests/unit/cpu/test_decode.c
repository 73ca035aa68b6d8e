/* Unit tests of the decoder (src/cpu/decode.c): the decoded fields of hand-written encodings
 * in each mode, prefixes, the 15-byte limit, LOCK rules, truncation at every length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/insn.h"

static struct x86_insn decode_ok(const uint8_t *bytes, size_t n, enum x86_mode mode)
{
    struct x86_insn insn;
    enum x86_decode_status s = x86_decode(bytes, n, mode, &insn);
    if (s != X86_DECODE_OK)
        fail_msg("status %d for %02x %02x %02x", s, bytes[0], n > 1 ? bytes[1] : 0, n > 2 ? bytes[2] : 0);
    assert_int_equal(insn.length, n);
    return insn;
}

static void test_alu_forms(void **state)
{
    (void)state;
    const uint8_t add_rm_r[] = { 0x01, 0xD8 };           /* add eax, ebx */
    struct x86_insn i = decode_ok(add_rm_r, 2, X86_MODE_32);
    assert_int_equal(i.mnemonic, X86_MN_ADD);
    assert_int_equal(i.operand[0], X86_OPK_RM);
    assert_int_equal(i.operand[1], X86_OPK_REG);
    assert_int_equal(i.mod, 3);
    assert_int_equal(i.rm, 0);
    assert_int_equal(i.reg, 3);
    assert_int_equal(i.opsize, 4);
    const uint8_t sub_imm8[] = { 0x83, 0xE9, 0xFF };     /* sub ecx, -1 */
    i = decode_ok(sub_imm8, 3, X86_MODE_32);
    assert_int_equal(i.mnemonic, X86_MN_SUB);
    assert_int_equal(i.operand[1], X86_OPK_IMM);
    assert_int_equal((uint32_t)i.imm, 0xFFFFFFFFu);      /* sign-extended */
    const uint8_t and_al[] = { 0x24, 0x0F };             /* and al, 0x0f */
    i = decode_ok(and_al, 2, X86_MODE_32);
    assert_int_equal(i.opsize, 1);
    assert_int_equal(i.operand[0], X86_OPK_ACC);
    const uint8_t add16[] = { 0x66, 0x05, 0x34, 0x12 }; /* add ax, 0x1234 */
    i = decode_ok(add16, 4, X86_MODE_32);
    assert_int_equal(i.opsize, 2);
    assert_int_equal(i.imm, 0x1234);
    assert_true(i.prefixes & X86_PFX_OPSIZE);
    const uint8_t add32_in16[] = { 0x66, 0x05, 0x78, 0x56, 0x34, 0x12 };
    i = decode_ok(add32_in16, 6, X86_MODE_16);           /* 66 means 32 bits in 16-bit code */
    assert_int_equal(i.opsize, 4);
    assert_int_equal(i.imm, 0x12345678);
}

static void test_addressing(void **state)
{
    (void)state;
    /* mov eax, [ebx + esi*4 + 0x10] */
    const uint8_t sib[] = { 0x8B, 0x44, 0xB3, 0x10 };
    struct x86_insn i = decode_ok(sib, 4, X86_MODE_32);
    assert_int_equal(i.base, 3);
    assert_int_equal(i.index, 6);
    assert_int_equal(i.scale, 2);
    assert_int_equal(i.disp, 0x10);
    assert_int_equal(i.seg, X86_SEG_DS);
    /* mov eax, [ebp - 8]: SS by default */
    const uint8_t ebp[] = { 0x8B, 0x45, 0xF8 };
    i = decode_ok(ebp, 3, X86_MODE_32);
    assert_int_equal(i.base, 5);
    assert_int_equal(i.disp, -8);
    assert_int_equal(i.seg, X86_SEG_SS);
    /* mov eax, fs:[0x1234]: disp32 without base */
    const uint8_t abs[] = { 0x64, 0x8B, 0x05, 0x34, 0x12, 0x00, 0x00 };
    i = decode_ok(abs, 7, X86_MODE_32);
    assert_int_equal(i.base, X86_REG_NONE);
    assert_int_equal(i.index, X86_REG_NONE);
    assert_int_equal(i.disp, 0x1234);
    assert_int_equal(i.seg, X86_SEG_FS);
    /* SIB with no base: [esi*8 + disp32] */
    const uint8_t nobase[] = { 0x8B, 0x04, 0xF5, 0x00, 0x10, 0x00, 0x00 };
    i = decode_ok(nobase, 7, X86_MODE_32);
    assert_int_equal(i.base, X86_REG_NONE);
    assert_int_equal(i.index, 6);
    assert_int_equal(i.scale, 3);
    /* 16-bit: mov ax, [bp+di+5] defaults to SS; [bx+si] to DS */
    const uint8_t bpdi[] = { 0x8B, 0x43, 0x05 };
    i = decode_ok(bpdi, 3, X86_MODE_16);
    assert_int_equal(i.addrsize, 2);
    assert_int_equal(i.base, 5);
    assert_int_equal(i.index, 7);
    assert_int_equal(i.seg, X86_SEG_SS);
    const uint8_t bxsi[] = { 0x8B, 0x00 };
    i = decode_ok(bxsi, 2, X86_MODE_16);
    assert_int_equal(i.base, 3);
    assert_int_equal(i.index, 6);
    assert_int_equal(i.seg, X86_SEG_DS);
    const uint8_t direct16[] = { 0x8B, 0x06, 0x34, 0x12 };
    i = decode_ok(direct16, 4, X86_MODE_16);
    assert_int_equal(i.base, X86_REG_NONE);
    assert_int_equal(i.disp, 0x1234);
    /* 64-bit: RIP-relative and REX */
    const uint8_t rip[] = { 0x48, 0x8B, 0x05, 0x10, 0x00, 0x00, 0x00 };
    i = decode_ok(rip, 7, X86_MODE_64);
    assert_true(i.rip_relative);
    assert_int_equal(i.opsize, 8);
    const uint8_t rex_r[] = { 0x4C, 0x89, 0xC0 };        /* mov rax, r8 */
    i = decode_ok(rex_r, 3, X86_MODE_64);
    assert_int_equal(i.reg, 8);
    const uint8_t movabs[] = { 0x48, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8 };
    i = decode_ok(movabs, 10, X86_MODE_64);
    assert_int_equal(i.imm, 0x0807060504030201ull);
}

static void test_control_and_system(void **state)
{
    (void)state;
    const uint8_t jcc[] = { 0x0F, 0x84, 0xFC, 0xFF, 0xFF, 0xFF }; /* je -4 (rel32) */
    struct x86_insn i = decode_ok(jcc, 6, X86_MODE_32);
    assert_int_equal(i.mnemonic, X86_MN_JCC);
    assert_int_equal(i.cond, 4);
    assert_int_equal((int64_t)i.imm, -4);
    const uint8_t far[] = { 0xEA, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00 };
    i = decode_ok(far, 7, X86_MODE_32);
    assert_int_equal(i.mnemonic, X86_MN_JMP_FAR);
    assert_int_equal(i.imm, 0x12345678);
    assert_int_equal(i.imm2, 0x0008);
    const uint8_t enter[] = { 0xC8, 0x10, 0x00, 0x03 };
    i = decode_ok(enter, 4, X86_MODE_32);
    assert_int_equal(i.imm, 0x10);
    assert_int_equal(i.imm2, 3);
    const uint8_t mov_cr[] = { 0x0F, 0x22, 0x18 };        /* mov cr3, eax (mod bits ignored) */
    i = decode_ok(mov_cr, 3, X86_MODE_32);
    assert_int_equal(i.mnemonic, X86_MN_MOV_CR);
    assert_int_equal(i.operand[0], X86_OPK_CREG);
    assert_int_equal(i.reg, 3);
    assert_int_equal(i.mod, 3);
    const uint8_t push_fs[] = { 0x0F, 0xA0 };
    i = decode_ok(push_fs, 2, X86_MODE_32);
    assert_int_equal(i.operand[0], X86_OPK_SREG);
    assert_int_equal(i.reg, X86_SEG_FS);
    const uint8_t pause[] = { 0xF3, 0x90 };
    assert_int_equal(decode_ok(pause, 2, X86_MODE_32).mnemonic, X86_MN_PAUSE);
    const uint8_t rep_movsd[] = { 0xF3, 0xA5 };
    i = decode_ok(rep_movsd, 2, X86_MODE_32);
    assert_int_equal(i.mnemonic, X86_MN_MOVS);
    assert_true(i.prefixes & X86_PFX_REP);
    const uint8_t x87[] = { 0xD9, 0x45, 0x08 };           /* fld dword [ebp+8] */
    i = decode_ok(x87, 3, X86_MODE_32);
    assert_int_equal(i.mnemonic, X86_MN_X87);
    const uint8_t arpl_movsxd[] = { 0x63, 0xC1 };
    assert_int_equal(decode_ok(arpl_movsxd, 2, X86_MODE_32).mnemonic, X86_MN_ARPL);
    assert_int_equal(decode_ok(arpl_movsxd, 2, X86_MODE_64).mnemonic, X86_MN_MOVSXD);
    /* one SSE4.1 encoding, two names by REX.W: pextrd/pextrq, pinsrd/pinsrq */
    const uint8_t pextrq[] = { 0x66, 0x48, 0x0F, 0x3A, 0x16, 0xC0, 0x01 };
    assert_int_equal(decode_ok(pextrq, 7, X86_MODE_64).mnemonic, X86_MN_PEXTRQ);
    const uint8_t pextrd[] = { 0x66, 0x0F, 0x3A, 0x16, 0xC0, 0x01 };
    assert_int_equal(decode_ok(pextrd, 6, X86_MODE_64).mnemonic, X86_MN_PEXTRD);
    const uint8_t pinsrq[] = { 0x66, 0x48, 0x0F, 0x3A, 0x22, 0xC0, 0x01 };
    assert_int_equal(decode_ok(pinsrq, 7, X86_MODE_64).mnemonic, X86_MN_PINSRQ);
    const uint8_t pinsrd[] = { 0x66, 0x0F, 0x3A, 0x22, 0xC0, 0x01 };
    assert_int_equal(decode_ok(pinsrd, 6, X86_MODE_64).mnemonic, X86_MN_PINSRD);
    assert_int_equal(decode_ok(pinsrd, 6, X86_MODE_32).mnemonic, X86_MN_PINSRD);
}

static enum x86_decode_status status_of(const uint8_t *bytes, size_t n, enum x86_mode mode)
{
    struct x86_insn insn;
    return x86_decode(bytes, n, mode, &insn);
}

static void test_invalid_and_limits(void **state)
{
    (void)state;
    const uint8_t lock_reg[] = { 0xF0, 0x01, 0xD8 };       /* lock add eax, ebx: #UD */
    assert_int_equal(status_of(lock_reg, 3, X86_MODE_32), X86_DECODE_INVALID);
    const uint8_t lock_mem[] = { 0xF0, 0x01, 0x18 };       /* lock add [eax], ebx */
    assert_int_equal(status_of(lock_mem, 3, X86_MODE_32), X86_DECODE_OK);
    const uint8_t lock_mov[] = { 0xF0, 0x89, 0x18 };       /* mov is not lockable */
    assert_int_equal(status_of(lock_mov, 3, X86_MODE_32), X86_DECODE_INVALID);
    const uint8_t lea_reg[] = { 0x8D, 0xC0 };
    assert_int_equal(status_of(lea_reg, 2, X86_MODE_32), X86_DECODE_INVALID);
    const uint8_t mov_sreg7[] = { 0x8E, 0xF8 };
    assert_int_equal(status_of(mov_sreg7, 2, X86_MODE_32), X86_DECODE_INVALID);
    const uint8_t inc_in64[] = { 0x40 };                   /* a lone REX prefix */
    assert_int_equal(status_of(inc_in64, 1, X86_MODE_64), X86_DECODE_TRUNCATED);
    const uint8_t aaa64[] = { 0x37 };
    assert_int_equal(status_of(aaa64, 1, X86_MODE_64), X86_DECODE_INVALID);
    /* 14 prefixes + a 2-byte instruction = 16 bytes: too long; 13 + 2 = 15: fine */
    uint8_t many[16];
    memset(many, 0x66, sizeof(many));
    many[14] = 0x01;
    many[15] = 0xD8;
    assert_int_equal(status_of(many, 16, X86_MODE_32), X86_DECODE_TOO_LONG);
    assert_int_equal(status_of(many + 1, 15, X86_MODE_32), X86_DECODE_OK);
    uint8_t prefixes_only[16];
    memset(prefixes_only, 0x2E, sizeof(prefixes_only));
    assert_int_equal(status_of(prefixes_only, 16, X86_MODE_32), X86_DECODE_TOO_LONG);
}

static void test_truncation_at_every_length(void **state)
{
    (void)state;
    const uint8_t long_insn[] = { 0x66, 0x81, 0x84, 0xB3, 0x78, 0x56, 0x34, 0x12, 0xCD, 0xAB };
    size_t n = sizeof(long_insn);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(status_of(long_insn, k, X86_MODE_32), X86_DECODE_TRUNCATED);
    assert_int_equal(status_of(long_insn, n, X86_MODE_32), X86_DECODE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alu_forms),
        cmocka_unit_test(test_addressing),
        cmocka_unit_test(test_control_and_system),
        cmocka_unit_test(test_invalid_and_limits),
        cmocka_unit_test(test_truncation_at_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
