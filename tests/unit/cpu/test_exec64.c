/* Unit tests of 64-bit mode execution (src/cpu/exec64.c, mnemonics64.def): the core is put
 * straight into 64-bit mode (flat, paging off; long-mode entry is not tested here). REX
 * registers, RIP-relative addressing, 128-bit multiply and divide, the encodings invalid in
 * 64-bit mode (#UD), what is not implemented yet (#UD), canonical addresses (#GP(0), #SS(0))
 * with precise state, and that no 32-bit fast form is chosen for 64-bit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/exec.h"
#include "cpu/run.h"
#include "core_fixture.h"

#define CODE 0x1000u

struct fixture {
    struct test_core *m;
    struct x86_cpu *cpu;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = test_core_create(4u << 20, 1);
    f->cpu = f->m->cpu;
    f->cpu->gpr[X86_ESP] = 0x8000;
    f->cpu->cycle_limit = UINT64_MAX;
    f->cpu->exit_request = 0;
    f->cpu->seg[X86_SEG_CS].attributes =
        (uint16_t)((f->cpu->seg[X86_SEG_CS].attributes | X86_SEG_ATTR_L) & ~X86_SEG_ATTR_DB);
    f->cpu->mode = X86_MODE_64;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_core_destroy(f->m);
    free(f);
    return 0;
}

static int exec(struct fixture *f, const uint8_t *bytes, size_t n)
{
    return test_exec_bytes(f->m, CODE, bytes, n);
}
#define EXEC(f, ...) ({ const uint8_t code_[] = { __VA_ARGS__ }; exec(f, code_, sizeof(code_)); })
#define R(f, r) ((f)->cpu->gpr[r])
static uint32_t flags(struct fixture *f) { return x86_get_eflags(f->cpu) & X86_FLAGS_ARITH; }

static void test_registers(void **state)
{
    struct fixture *f = *state;
    R(f, 0) = 0x1111111111111111ull;
    R(f, 8) = 0;
    /* mov r8, imm64; add r8, rax; mov sil, 0x7f (REX: SIL, not DH); mov ah, 1 (no REX) */
    assert_int_equal(EXEC(f, 0x49, 0xB8, 1, 2, 3, 4, 5, 6, 7, 0x80, 0x49, 0x01, 0xC0,
                          0x40, 0xB6, 0x7F, 0xB4, 0x01), -1);
    assert_int_equal(R(f, 8), 0x8007060504030201ull + 0x1111111111111111ull);
    assert_int_equal(R(f, 6) & 0xFF, 0x7F);
    assert_int_equal(R(f, 0), 0x1111111111110111ull);
    /* mov r9d, -1 zero-extends; mov r9w, 0 merges */
    R(f, 9) = 0x123456789ull << 20;
    assert_int_equal(EXEC(f, 0x41, 0xB9, 0xFF, 0xFF, 0xFF, 0xFF), -1);
    assert_int_equal(R(f, 9), 0xFFFFFFFFull);
    assert_int_equal(EXEC(f, 0x66, 0x41, 0xB9, 0x00, 0x00), -1);
    assert_int_equal(R(f, 9), 0xFFFF0000ull);
    /* cdqe, cqo */
    R(f, 0) = 0x80000000u;
    assert_int_equal(EXEC(f, 0x48, 0x98, 0x48, 0x99), -1);
    assert_int_equal(R(f, 0), 0xFFFFFFFF80000000ull);
    assert_int_equal(R(f, 2), ~0ull);
}

static void test_rip_relative_and_stack(void **state)
{
    struct fixture *f = *state;
    uint64_t v = 0x0123456789ABCDEFull;
    test_write_physical(f->m, 0x2000, &v, 8);
    /* mov rax, [rip + (0x2000 - 0x1007)]; call +0; pop rcx */
    assert_int_equal(EXEC(f, 0x48, 0x8B, 0x05, 0xF9, 0x0F, 0x00, 0x00, 0xE8, 0, 0, 0, 0, 0x59), -1);
    assert_int_equal(R(f, 0), v);
    assert_int_equal(R(f, 1), 0x100C);
    assert_int_equal(R(f, 4), 0x8000);
}

static void test_mul_div_128(void **state)
{
    struct fixture *f = *state;
    R(f, 0) = ~0ull;
    R(f, 3) = ~0ull;
    assert_int_equal(EXEC(f, 0x48, 0xF7, 0xE3), -1); /* mul rbx */
    assert_int_equal(R(f, 0), 1);
    assert_int_equal(R(f, 2), ~0ull - 1);
    assert_int_equal(flags(f) & (X86_FLAG_CF | X86_FLAG_OF), X86_FLAG_CF | X86_FLAG_OF);
    assert_int_equal(EXEC(f, 0x48, 0xF7, 0xF3), -1); /* div rbx: back */
    assert_int_equal(R(f, 0), ~0ull);
    assert_int_equal(R(f, 2), 0);
    R(f, 2) = 5;
    R(f, 3) = 5;
    assert_int_equal(EXEC(f, 0x48, 0xF7, 0xF3), X86_VEC_DE); /* quotient too big */
    assert_int_equal(R(f, 2), 5);
    /* shl rax, 63 masks to 6 bits: shl rax, 0x7f = shl rax, 63 */
    R(f, 0) = 1;
    assert_int_equal(EXEC(f, 0x48, 0xC1, 0xE0, 0x7F), -1);
    assert_int_equal(R(f, 0), 1ull << 63);
}

/* Encodings invalid in 64-bit mode (SDM Vol. 2 Appendix A, "i64") */
static void test_invalid_in_64bit_mode(void **state)
{
    struct fixture *f = *state;
    static const uint8_t invalid[][3] = {
        { 0x06 }, { 0x07 }, { 0x0E }, { 0x16 }, { 0x17 }, { 0x1E }, { 0x1F }, /* push/pop sreg */
        { 0x60 }, { 0x61 },                                           /* pusha popa */
        { 0x27 }, { 0x2F }, { 0x37 }, { 0x3F }, { 0xD4, 0x0A }, { 0xD5, 0x0A }, /* BCD */
        { 0x62, 0x00 }, { 0xCE }, { 0xD6 },                          /* bound into salc */
        { 0xC4, 0x00 }, { 0xC5, 0x00 },                              /* les lds (VEX) */
        { 0xEA, 0, 0 }, { 0x9A, 0, 0 },                              /* far direct */
        { 0x82, 0xC0, 0 },
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        R(f, 4) = 0x8000;
        assert_int_equal(exec(f, invalid[i], 3), X86_VEC_UD);
        assert_int_equal(f->cpu->rip, CODE);
        assert_int_equal(R(f, 4), 0x8000);
    }
    /* 63 is movsxd, not arpl */
    R(f, 1) = 0x80000000u;
    assert_int_equal(EXEC(f, 0x48, 0x63, 0xC1), -1);
    assert_int_equal(R(f, 0), 0xFFFFFFFF80000000ull);
}

/* Not implemented in 64-bit mode yet: #UD, never half-right (docs/isa.md); what is, runs */
static void test_not_yet_in_64bit_mode(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(EXEC(f, 0x0F, 0x05), X86_VEC_UD);       /* syscall without EFER.SCE */
    assert_int_equal(EXEC(f, 0x9C), -1);                     /* pushfq: 8 bytes */
    assert_int_equal(R(f, 4), 0x8000 - 8);
    assert_int_equal(test_get32(f->m, 0x8000 - 8), x86_get_eflags(f->cpu));
    assert_int_equal(test_get32(f->m, 0x8000 - 4), 0);
    assert_true(x86_exec_in_64bit_mode(X86_MN_PUSHF));
    assert_true(x86_exec_in_64bit_mode(X86_MN_ADD));
}

/* The x87 in 64-bit mode: memory operands by 64-bit addresses (REX registers, canonical
 * checks), fxsave's alignment */
static void test_x87_in_64bit_mode(void **state)
{
    struct fixture *f = *state;
    assert_true(x86_exec_in_64bit_mode(X86_MN_X87));
    double in = 2.5, out = 0;
    assert_int_equal(test_write_physical(f->m, 0x3000, &in, 8), X86IRQ_OK);
    R(f, 9) = 0x3000;
    assert_int_equal(EXEC(f, 0x41, 0xDD, 0x01,              /* fld qword [r9] */
                          0xD9, 0xE8,                       /* fld1 */
                          0xDE, 0xC1,                       /* faddp */
                          0x41, 0xDD, 0x59, 0x08), -1);     /* fstp qword [r9 + 8] */
    assert_int_equal(test_read_physical(f->m, 0x3008, &out, 8), X86IRQ_OK);
    assert_true(out == 3.5);
    R(f, 9) = 0x0000800000000000ull;
    assert_int_equal(EXEC(f, 0x41, 0xDD, 0x01), X86_VEC_GP); /* not canonical */
    R(f, 9) = 0x3008;
    assert_int_equal(EXEC(f, 0x41, 0x0F, 0xAE, 0x01), X86_VEC_GP); /* fxsave [r9]: misaligned */
    R(f, 9) = 0x3100;
    assert_int_equal(EXEC(f, 0x49, 0x0F, 0xAE, 0x01), -1);         /* fxsave64 [r9] */
    assert_int_equal(test_get32(f->m, 0x3100) & 0xFFFF, f->cpu->fpu.control);
}

/* enter, rep ins, lss with a null SS (ring 0, RPL 0), lmsw in 64-bit mode */
static void test_more_in_64bit_mode(void **state)
{
    struct fixture *f = *state;
    R(f, 5) = 0x1234;
    assert_int_equal(EXEC(f, 0xC8, 0x10, 0x00, 0x00), -1);          /* enter 16, 0 */
    assert_int_equal(test_get32(f->m, 0x7FF8), 0x1234);
    assert_int_equal(R(f, 5), 0x7FF8);
    assert_int_equal(R(f, 4), 0x7FF8 - 0x10);
    R(f, 4) = 0x8000;
    R(f, 5) = 0x6000;
    test_put32(f->m, 0x5FF8, 0xAB);
    assert_int_equal(EXEC(f, 0xC8, 0x08, 0x00, 0x02), -1);          /* enter 8, 2 */
    assert_int_equal(test_get32(f->m, 0x7FF8), 0x6000);
    assert_int_equal(test_get32(f->m, 0x7FF0), 0xAB);
    assert_int_equal(test_get32(f->m, 0x7FE8), 0x7FF8);
    assert_int_equal(R(f, 5), 0x7FF8);
    assert_int_equal(R(f, 4), 0x7FE8 - 8);
    /* rep insb from the open bus: all ones, RDI and RCX by the address size */
    R(f, 7) = 0x5000;
    R(f, 1) = 4;
    R(f, 2) = 0x80;
    assert_int_equal(EXEC(f, 0xF3, 0x6C), -1);
    assert_int_equal(test_get32(f->m, 0x5000), 0xFFFFFFFFu);
    assert_int_equal(R(f, 7), 0x5004);
    assert_int_equal(R(f, 1), 0);
    /* lss rax, [rbx] (m16:64): a null selector is allowed with RPL = CPL below ring 3 */
    uint64_t pointer[2] = { 0x1122334455667788ull, 0 };
    assert_int_equal(test_write_physical(f->m, 0x5100, pointer, 16), X86IRQ_OK);
    R(f, 3) = 0x5100;
    assert_int_equal(EXEC(f, 0x48, 0x0F, 0xB2, 0x03), -1);
    assert_int_equal(R(f, 0), 0x1122334455667788ull);
    assert_int_equal(f->cpu->seg[X86_SEG_SS].selector, 0);
    pointer[1] = 3;
    assert_int_equal(test_write_physical(f->m, 0x5100, pointer, 16), X86IRQ_OK);
    assert_int_equal(EXEC(f, 0x48, 0x0F, 0xB2, 0x03), X86_VEC_GP); /* RPL 3 at CPL 0 */
    /* lmsw ax sets TS */
    R(f, 0) = X86_CR0_TS;
    assert_int_equal(EXEC(f, 0x0F, 0x01, 0xF0), -1);
    assert_true(f->cpu->cr0 & X86_CR0_TS);
}

/* Canonical checks: #GP(0) for data, #SS(0) for stack references, nothing committed */
static void test_canonical(void **state)
{
    struct fixture *f = *state;
    R(f, 0) = 7;
    R(f, 3) = 0x0000800000000000ull;
    assert_int_equal(EXEC(f, 0x48, 0x8B, 0x03), X86_VEC_GP);  /* mov rax, [rbx] */
    assert_int_equal(R(f, 0), 7);
    assert_int_equal(EXEC(f, 0x48, 0x89, 0x43, 0x10), X86_VEC_GP); /* mov [rbx+16], rax */
    R(f, 5) = 0x0000800000000000ull;
    assert_int_equal(EXEC(f, 0x48, 0x8B, 0x45, 0x00), X86_VEC_SS); /* mov rax, [rbp] */
    R(f, 4) = 0x0000800000000004ull;
    assert_int_equal(EXEC(f, 0x50), X86_VEC_SS);                    /* push rax */
    assert_int_equal(R(f, 4), 0x0000800000000004ull);
    R(f, 4) = 0x8000;
    R(f, 0) = 0xFFFF800000000000ull - 0x10;                          /* jmp rax: not canonical */
    assert_int_equal(EXEC(f, 0xFF, 0xE0), X86_VEC_GP);
    assert_int_equal(f->cpu->rip, CODE);
}

/* Which fast forms 64-bit code gets (exec_table.c): the register-only 32-bit forms and its
 * own; never a 32-bit form that computes an address, uses the stack or branches, nor a legacy
 * byte form (REX changes what registers 4-7 name) */
static void test_fast_forms_in_64bit_mode(void **state)
{
    (void)state;
    struct x86_insn insn;
    static const uint8_t add[] = { 0x01, 0xC8 };          /* add eax, ecx */
    assert_int_equal(x86_decode(add, 2, X86_MODE_64, &insn), X86_DECODE_OK);
    assert_int_equal(x86_exec_fast_op(&insn), X86_FAST_ADD_RR32);
    static const uint8_t load[] = { 0x8B, 0x03 };         /* mov eax, [rbx] */
    assert_int_equal(x86_decode(load, 2, X86_MODE_32, &insn), X86_DECODE_OK);
    assert_int_equal(x86_exec_fast_op(&insn), X86_FAST_MOV_LOAD32);
    assert_int_equal(x86_decode(load, 2, X86_MODE_64, &insn), X86_DECODE_OK);
    assert_int_equal(x86_exec_fast_op(&insn), X86_FAST_MOV_LOAD32L);
    static const uint8_t cmp8[] = { 0x40, 0x80, 0xFC, 0x01 }; /* cmp spl, 1 */
    assert_int_equal(x86_decode(cmp8, 4, X86_MODE_64, &insn), X86_DECODE_OK);
    assert_int_equal(x86_exec_fast_op(&insn), X86_FAST_CMP_RI8L); /* its own, REX-aware */
    static const uint8_t mov8[] = { 0x40, 0x88, 0xE0 };       /* mov al, spl */
    assert_int_equal(x86_decode(mov8, 3, X86_MODE_64, &insn), X86_DECODE_OK);
    assert_int_equal(x86_exec_fast_op(&insn), X86_FAST_NONE);
    static const uint8_t push[] = { 0x53 };               /* push rbx */
    assert_int_equal(x86_decode(push, 1, X86_MODE_64, &insn), X86_DECODE_OK);
    assert_int_equal(x86_exec_fast_op(&insn), X86_FAST_PUSH_R64);
}

/* 64-bit strings cost the string class per iteration, as elsewhere, and a rep cut between
 * iterations by the cycle limit or an exit request is free (it once ran 4,096 iterations
 * for one instruction's cost: a 64-bit rep took the same time for any count; found by
 * fuzz_machine, where a rep lods through MMIO ran 4 million iterations in 20,000 cycles) */
static void test_string_cycles(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    struct x86_fault fault;
    const uint8_t rep_stosq[] = { 0xF3, 0x48, 0xAB };
    assert_int_equal(test_write_physical(f->m, CODE, rep_stosq, sizeof(rep_stosq)), X86IRQ_OK);
    uint64_t per_count[2];
    for (unsigned k = 0; k < 2; k++) {
        R(f, X86_EDI) = 0x3000;
        R(f, X86_ECX) = k ? 1000 : 10;
        cpu->rip = CODE;
        uint64_t cycles = cpu->cycles;
        assert_true(x86_cpu_step(cpu, &fault));
        assert_int_equal(R(f, X86_ECX), 0);
        per_count[k] = cpu->cycles - cycles;
    }
    assert_int_equal(per_count[1] - per_count[0], 990 * cpu->cost[X86_COST_STRING]);
    /* cut: by the cycle limit twice, then by an exit request */
    R(f, X86_EDI) = 0x3000;
    R(f, X86_ECX) = 1000;
    cpu->rip = CODE;
    uint64_t cycles = cpu->cycles, instructions = cpu->instructions;
    unsigned cuts = 0;
    for (unsigned round = 0; R(f, X86_ECX) != 0; round++) {
        assert_true(round < 8);
        cpu->cycle_limit = round < 2 ? cpu->cycles + 100 : UINT64_MAX;
        cpu->exit_request = round == 2;
        uint64_t before = R(f, X86_ECX);
        assert_true(x86_cpu_step(cpu, &fault));
        if (R(f, X86_ECX) != 0) {
            cuts++;
            assert_int_equal(cpu->rip, CODE);
            assert_true(R(f, X86_ECX) < before);
        }
    }
    cpu->exit_request = 0;
    cpu->cycle_limit = UINT64_MAX;
    assert_int_equal(cuts, 3);
    assert_int_equal(cpu->cycles - cycles, per_count[1]);
    assert_int_equal(cpu->instructions - instructions, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_registers), T(test_rip_relative_and_stack), T(test_mul_div_128),
        T(test_invalid_in_64bit_mode), T(test_not_yet_in_64bit_mode), T(test_canonical),
        T(test_x87_in_64bit_mode), T(test_more_in_64bit_mode), T(test_string_cycles),
        cmocka_unit_test(test_fast_forms_in_64bit_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
