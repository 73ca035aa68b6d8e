/* Unit tests of the interpreter (src/cpu/exec_*.c, flags.c): results and flags at edge values
 * per instruction family, exceptions with precise state, interruptible strings, system
 * instructions. Each case writes instruction bytes to RAM and executes them with
 * x86_cpu_step(), which reports an exception instead of delivering it. */
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
    f->cpu->exit_request = 0; /* the platform's start (PIT, 8259) may have asked for one */
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

/* Execute the instructions in bytes; returns -1, or the vector of the exception one raised. */
static int exec(struct fixture *f, const uint8_t *bytes, size_t n)
{
    return test_exec_bytes(f->m, CODE, bytes, n);
}
#define EXEC(f, ...) ({ const uint8_t code_[] = { __VA_ARGS__ }; exec(f, code_, sizeof(code_)); })

static uint32_t flags(struct fixture *f) { return x86_get_eflags(f->cpu) & X86_FLAGS_ARITH; }
static void set_flags(struct fixture *f, uint32_t v) { x86_set_eflags(f->cpu, v, X86_FLAGS_ARITH); }
#define R(f, r) ((f)->cpu->gpr[X86_##r])

/* The 64-bit register file outside 64-bit mode (docs/isa.md): a 32-bit write zero-extends into
 * bits 63:32, 8- and 16-bit writes keep the other bits, registers not written keep all 64 */
static void test_upper_halves(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    cpu->gpr[X86_EAX] = 0x1111111122222222ull;
    cpu->gpr[X86_ECX] = 0x0000000100000001ull;
    cpu->gpr[X86_R8] = 0xAAAAAAAABBBBBBBBull;
    cpu->gpr[X86_R15] = 0xCCCCCCCCDDDDDDDDull;
    EXEC(f, 0x66, 0xB8, 0x55, 0x55);                           /* mov ax, 0x5555 */
    assert_true(cpu->gpr[X86_EAX] == 0x1111111122225555ull);
    EXEC(f, 0xB0, 0x77, 0xB4, 0x88);                           /* mov al, 0x77; mov ah, 0x88 */
    assert_true(cpu->gpr[X86_EAX] == 0x1111111122228877ull);
    EXEC(f, 0x01, 0xC0);                                       /* add eax, eax */
    assert_true(cpu->gpr[X86_EAX] == 0x444510EEull);
    EXEC(f, 0x49);                                             /* dec ecx */
    assert_true(cpu->gpr[X86_ECX] == 0);
    EXEC(f, 0x50, 0x5B);                                       /* push eax; pop ebx */
    assert_true(cpu->gpr[X86_EBX] == 0x444510EEull);
    assert_true(cpu->gpr[X86_R8] == 0xAAAAAAAABBBBBBBBull);
    assert_true(cpu->gpr[X86_R15] == 0xCCCCCCCCDDDDDDDDull);
}

static void test_add_sub_flags(void **state)
{
    struct fixture *f = *state;
    R(f, EAX) = 0x7FFFFFFF; R(f, EBX) = 1;
    assert_int_equal(EXEC(f, 0x01, 0xD8), -1);                 /* add eax, ebx */
    assert_int_equal(R(f, EAX), 0x80000000u);
    assert_int_equal(flags(f), X86_FLAG_OF | X86_FLAG_SF | X86_FLAG_AF | X86_FLAG_PF);
    R(f, EAX) = 0xFFFFFFFF;
    EXEC(f, 0x01, 0xD8);
    assert_int_equal(R(f, EAX), 0);
    assert_int_equal(flags(f), X86_FLAG_CF | X86_FLAG_ZF | X86_FLAG_AF | X86_FLAG_PF);
    R(f, EAX) = 0x80;                                          /* add al, al: 0x80 + 0x80 */
    EXEC(f, 0x00, 0xC0);
    assert_int_equal(R(f, EAX), 0);
    assert_int_equal(flags(f), X86_FLAG_CF | X86_FLAG_OF | X86_FLAG_ZF | X86_FLAG_PF);
    set_flags(f, X86_FLAG_CF);                                 /* adc with carry in */
    R(f, EAX) = 0xFFFFFFFF; R(f, EBX) = 0;
    EXEC(f, 0x11, 0xD8);
    assert_int_equal(R(f, EAX), 0);
    assert_true(flags(f) & X86_FLAG_CF);
    set_flags(f, X86_FLAG_CF);                                 /* sbb 0 - 0 - 1 */
    R(f, EAX) = 0; R(f, EBX) = 0;
    EXEC(f, 0x19, 0xD8);
    assert_int_equal(R(f, EAX), 0xFFFFFFFFu);
    assert_int_equal(flags(f), X86_FLAG_CF | X86_FLAG_SF | X86_FLAG_AF | X86_FLAG_PF);
    R(f, EAX) = 5;                                             /* cmp eax, 7: borrow, no write */
    EXEC(f, 0x83, 0xF8, 0x07);
    assert_int_equal(R(f, EAX), 5);
    assert_true(flags(f) & X86_FLAG_CF);
    assert_true(flags(f) & X86_FLAG_SF);
}

static void test_inc_dec_neg_logic(void **state)
{
    struct fixture *f = *state;
    set_flags(f, X86_FLAG_CF);
    R(f, ECX) = 0x7FFFFFFF;
    EXEC(f, 0x41);                                             /* inc ecx keeps CF */
    assert_int_equal(R(f, ECX), 0x80000000u);
    assert_int_equal(flags(f), X86_FLAG_CF | X86_FLAG_OF | X86_FLAG_SF | X86_FLAG_AF | X86_FLAG_PF);
    R(f, EDX) = 0;
    EXEC(f, 0x4A);                                             /* dec edx */
    assert_int_equal(R(f, EDX), 0xFFFFFFFFu);
    assert_true(flags(f) & X86_FLAG_AF);
    R(f, EAX) = 0;
    EXEC(f, 0xF7, 0xD8);                                       /* neg eax: 0 -> CF 0 */
    assert_false(flags(f) & X86_FLAG_CF);
    assert_true(flags(f) & X86_FLAG_ZF);
    R(f, EAX) = 1;
    EXEC(f, 0xF7, 0xD8);
    assert_int_equal(R(f, EAX), 0xFFFFFFFFu);
    assert_true(flags(f) & X86_FLAG_CF);
    set_flags(f, X86_FLAG_CF | X86_FLAG_OF);
    R(f, EAX) = 0xF0; R(f, EBX) = 0x0F;
    EXEC(f, 0x20, 0xD8);                                       /* and al, bl: CF OF cleared */
    assert_int_equal(flags(f), X86_FLAG_ZF | X86_FLAG_PF);
}

static void test_shifts_and_rotates(void **state)
{
    struct fixture *f = *state;
    set_flags(f, X86_FLAG_CF | X86_FLAG_ZF);
    R(f, EAX) = 0x12345678; R(f, ECX) = 0;
    EXEC(f, 0xD3, 0xE0);                                       /* shl eax, cl with cl = 0 */
    assert_int_equal(R(f, EAX), 0x12345678);
    assert_int_equal(flags(f), X86_FLAG_CF | X86_FLAG_ZF);     /* no flag changes */
    R(f, EAX) = 0x80000001;
    EXEC(f, 0xD1, 0xE0);                                       /* shl eax, 1 */
    assert_int_equal(R(f, EAX), 2);
    assert_true(flags(f) & X86_FLAG_CF);
    assert_true(flags(f) & X86_FLAG_OF);                       /* MSB(result) xor CF */
    R(f, EAX) = 3;
    EXEC(f, 0xC1, 0xE0, 31);                                   /* shl eax, 31 */
    assert_int_equal(R(f, EAX), 0x80000000u);
    assert_true(flags(f) & X86_FLAG_CF);                       /* bit 1 went out last */
    R(f, EAX) = 0x81;
    EXEC(f, 0xC0, 0xE0, 8);                                    /* shl al, 8: width */
    assert_int_equal(R(f, EAX) & 0xFF, 0);
    assert_true(flags(f) & X86_FLAG_CF);                       /* bit 0 went out last */
    R(f, EAX) = 0x80;
    EXEC(f, 0xC0, 0xF8, 40);                                   /* sar al, 40 = sar al, 8 */
    assert_int_equal(R(f, EAX) & 0xFF, 0xFF);
    R(f, EAX) = 0x80000000;
    EXEC(f, 0xD1, 0xE8);                                       /* shr eax, 1 */
    assert_int_equal(R(f, EAX), 0x40000000);
    assert_true(flags(f) & X86_FLAG_OF);                       /* the original MSB */
    R(f, EAX) = 0x81;
    EXEC(f, 0xD0, 0xC0);                                       /* rol al, 1 */
    assert_int_equal(R(f, EAX) & 0xFF, 0x03);
    assert_true(flags(f) & X86_FLAG_CF);
    set_flags(f, 0);
    R(f, EAX) = 0x55;
    EXEC(f, 0xC0, 0xD0, 9);                                    /* rcl al, 9: a full turn */
    assert_int_equal(R(f, EAX) & 0xFF, 0x55);
    assert_false(flags(f) & X86_FLAG_CF);
    set_flags(f, X86_FLAG_CF);
    R(f, EAX) = 0x01;
    EXEC(f, 0xD0, 0xD8);                                       /* rcr al, 1 with CF in */
    assert_int_equal(R(f, EAX) & 0xFF, 0x80);
    assert_true(flags(f) & X86_FLAG_CF);
    R(f, EAX) = 0x12345678; R(f, EBX) = 0x9ABCDEF0;
    EXEC(f, 0x0F, 0xAC, 0xD8, 8);                              /* shrd eax, ebx, 8 */
    assert_int_equal(R(f, EAX), 0xF0123456u);
}

static void test_multiply_divide(void **state)
{
    struct fixture *f = *state;
    R(f, EAX) = 0x10000; R(f, EBX) = 0x10000;
    EXEC(f, 0xF7, 0xE3);                                       /* mul ebx */
    assert_int_equal(R(f, EAX), 0);
    assert_int_equal(R(f, EDX), 1);
    assert_true(flags(f) & X86_FLAG_CF);
    R(f, EAX) = (uint32_t)-3; R(f, EBX) = 5;
    EXEC(f, 0x0F, 0xAF, 0xC3);                                 /* imul eax, ebx */
    assert_int_equal(R(f, EAX), (uint32_t)-15);
    assert_false(flags(f) & X86_FLAG_OF);
    R(f, EAX) = 0x40000000;
    EXEC(f, 0x6B, 0xC0, 0x04);                                 /* imul eax, eax, 4: overflow */
    assert_int_equal(R(f, EAX), 0);
    assert_true(flags(f) & (X86_FLAG_OF | X86_FLAG_CF));
    /* #DE leaves everything as it was */
    R(f, EAX) = 100; R(f, EDX) = 0; R(f, EBX) = 0;
    assert_int_equal(EXEC(f, 0xF7, 0xF3), X86_VEC_DE);         /* div ebx, ebx = 0 */
    assert_int_equal(R(f, EAX), 100);
    assert_int_equal(f->cpu->rip, CODE);                       /* a fault: EIP at the div */
    R(f, EDX) = 5; R(f, EBX) = 2;                              /* quotient overflow */
    assert_int_equal(EXEC(f, 0xF7, 0xF3), X86_VEC_DE);
    R(f, EAX) = 0x80000000; R(f, EDX) = 0xFFFFFFFF; R(f, EBX) = 0xFFFFFFFF;
    assert_int_equal(EXEC(f, 0xF7, 0xFB), X86_VEC_DE);         /* idiv: INT_MIN / -1 */
    R(f, EAX) = (uint32_t)-7; R(f, EDX) = 0xFFFFFFFF; R(f, EBX) = 2;
    assert_int_equal(EXEC(f, 0xF7, 0xFB), -1);
    assert_int_equal(R(f, EAX), (uint32_t)-3);                 /* truncates toward zero */
    assert_int_equal(R(f, EDX), (uint32_t)-1);
    R(f, EAX) = 47;
    assert_int_equal(EXEC(f, 0xD4, 0x00), X86_VEC_DE);         /* aam 0 */
}

static void test_bits_and_bcd(void **state)
{
    struct fixture *f = *state;
    /* bt [0x2000], ecx with ecx = -1: the bit is bit 7 of the byte at 0x1FFF */
    uint8_t byte = 0x80;
    test_write_physical(f->m, 0x1FFF, &byte, 1);
    R(f, ECX) = 0xFFFFFFFF;
    set_flags(f, 0);
    EXEC(f, 0x0F, 0xA3, 0x0D, 0x00, 0x20, 0x00, 0x00);
    assert_true(flags(f) & X86_FLAG_CF);
    R(f, EBX) = 0; R(f, EAX) = 0x1234;
    EXEC(f, 0x0F, 0xBC, 0xC3);                                 /* bsf eax, ebx (zero) */
    assert_int_equal(R(f, EAX), 0x1234);                       /* destination kept */
    assert_true(flags(f) & X86_FLAG_ZF);
    R(f, EBX) = 0x00F00000;
    EXEC(f, 0x0F, 0xBD, 0xC3);                                 /* bsr */
    assert_int_equal(R(f, EAX), 23);
    assert_false(flags(f) & X86_FLAG_ZF);
    R(f, EAX) = 0x79 + 0x35;                                   /* daa after 79 + 35 */
    set_flags(f, 0);
    EXEC(f, 0x27);
    assert_int_equal(R(f, EAX) & 0xFF, 0x14);
    assert_true(flags(f) & X86_FLAG_CF);
    R(f, EAX) = 0x9D05;                                        /* aas with AF: AX - 6, AH - 1 */
    set_flags(f, X86_FLAG_AF);
    EXEC(f, 0x3F);
    assert_int_equal(R(f, EAX) & 0xFFFF, 0x9B0F);
}

static void test_precise_stack_fault(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    cpu->seg[X86_SEG_SS].limit = 0xFFF;
    x86_segment_refresh(cpu, X86_SEG_SS);
    R(f, ESP) = 0x2;
    R(f, EAX) = 0xAAAA;
    assert_int_equal(EXEC(f, 0x60), X86_VEC_SS);               /* pusha: 32 bytes don't fit */
    assert_int_equal(R(f, ESP), 0x2);
    R(f, ESP) = 0x1002;                                        /* call: the push crosses the limit */
    assert_int_equal(EXEC(f, 0xE8, 0x00, 0x00, 0x00, 0x00), X86_VEC_SS);
    assert_int_equal(R(f, ESP), 0x1002);
    assert_int_equal(f->cpu->rip, CODE);
}

static void test_strings(void **state)
{
    struct fixture *f = *state;
    const char text[] = "interrupt";
    test_write_physical(f->m, 0x3000, text, sizeof(text));
    R(f, ESI) = 0x3000; R(f, EDI) = 0x4000; R(f, ECX) = sizeof(text);
    EXEC(f, 0xF3, 0xA4);                                       /* rep movsb */
    char copy[sizeof(text)];
    test_read_physical(f->m, 0x4000, copy, sizeof(copy));
    assert_string_equal(copy, text);
    assert_int_equal(R(f, ECX), 0);
    assert_int_equal(R(f, ESI), 0x3000 + sizeof(text));
    /* interruptible: with the cycle limit near, it stops and stays at the instruction */
    R(f, ESI) = 0x3000; R(f, EDI) = 0x5000; R(f, ECX) = 8;
    f->cpu->cycle_limit = f->cpu->cycles + 3;
    const uint8_t rep[] = { 0xF3, 0xA4 };
    test_write_physical(f->m, CODE, rep, 2);
    f->cpu->rip = CODE;
    struct x86_fault fault;
    assert_true(x86_cpu_step(f->cpu, &fault));
    assert_int_equal(f->cpu->rip, CODE);                       /* to be resumed */
    assert_true(R(f, ECX) > 0 && R(f, ECX) < 8);
    assert_int_equal(R(f, ESI) - 0x3000, 8 - R(f, ECX));       /* registers consistent */
    f->cpu->cycle_limit = UINT64_MAX;
    assert_true(x86_cpu_step(f->cpu, &fault));
    assert_int_equal(R(f, ECX), 0);
    /* repne scasb finds the 'r' */
    R(f, EDI) = 0x3000; R(f, ECX) = 20; R(f, EAX) = 'r';
    EXEC(f, 0xF2, 0xAE);
    assert_int_equal(R(f, EDI), 0x3000 + 5);                   /* just past "inter" 'r' */
    assert_true(flags(f) & X86_FLAG_ZF);
    /* std: movsd goes down */
    R(f, ESI) = 0x3004; R(f, EDI) = 0x6004; R(f, ECX) = 2;
    EXEC(f, 0xFD, 0xF3, 0xA5, 0xFC);
    assert_int_equal(R(f, EDI), 0x6004 - 8);
}

/* A rep string cut between iterations (an event due, or an exit request that is not the
 * guest's: a decoded block written over, the per-instruction loop clearing RF) costs nothing:
 * the cut and resumed instruction takes the cycles and counts as the one instruction the uncut
 * one does, so the guest's time does not depend on the code cache, a trace hook or a snapshot
 * restore (found by the Linux snapshot test: a restored boot drifted by a few cycles) */
static void test_string_cut_is_free(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    const uint8_t rep[] = { 0xF3, 0xAB };                      /* rep stosd */
    test_write_physical(f->m, CODE, rep, 2);
    struct x86_fault fault;
    /* uncut */
    R(f, EDI) = 0x3000; R(f, ECX) = 40; cpu->rip = CODE;
    uint64_t cycles = cpu->cycles, instructions = cpu->instructions;
    assert_true(x86_cpu_step(cpu, &fault));
    assert_int_equal(R(f, ECX), 0);
    uint64_t whole_cycles = cpu->cycles - cycles, whole_instructions = cpu->instructions - instructions;
    assert_int_equal(whole_instructions, 1);
    assert_true(whole_cycles >= 40);
    /* cut three times: by the cycle limit twice and by an exit request */
    R(f, EDI) = 0x3000; R(f, ECX) = 40; cpu->rip = CODE;
    cycles = cpu->cycles; instructions = cpu->instructions;
    unsigned cuts = 0;
    for (unsigned round = 0; R(f, ECX) != 0; round++) {
        assert_true(round < 8);
        if (round < 2) {
            cpu->cycle_limit = cpu->cycles + 5;
        } else if (round == 2) {
            cpu->cycle_limit = UINT64_MAX;
            cpu->exit_request = 1;                             /* as x86_request_exit, limit kept */
        } else {
            cpu->cycle_limit = UINT64_MAX;
            cpu->exit_request = 0;
        }
        uint32_t before = (uint32_t)R(f, ECX);
        assert_true(x86_cpu_step(cpu, &fault));
        if (R(f, ECX) != 0) {
            cuts++;
            assert_int_equal(cpu->rip, CODE);                  /* to be resumed */
            assert_true(cpu->string_interrupted);
            assert_true(R(f, ECX) < before);                   /* an iteration at least */
        }
    }
    cpu->exit_request = 0;
    assert_int_equal(cuts, 3);
    assert_int_equal(cpu->cycles - cycles, whole_cycles);
    assert_int_equal(cpu->instructions - instructions, whole_instructions);
}

static void test_stack_and_frames(void **state)
{
    struct fixture *f = *state;
    R(f, EBP) = 0x1234;
    uint32_t esp = R(f, ESP);
    EXEC(f, 0xC8, 0x10, 0x00, 0x00, 0xC9);                     /* enter 16, 0; leave */
    assert_int_equal(R(f, ESP), esp);
    assert_int_equal(R(f, EBP), 0x1234);
    EXEC(f, 0x54, 0x58);                                       /* push esp; pop eax */
    assert_int_equal(R(f, EAX), esp);                          /* the value before the push */
    set_flags(f, X86_FLAG_CF);
    EXEC(f, 0x9C, 0x5B);                                       /* pushf; pop ebx */
    assert_int_equal(R(f, EBX) & 0xFFF, 0x003);
    R(f, EAX) = 0x3000 | X86_FLAG_IF;                          /* popf at CPL 0 sets IOPL, IF */
    EXEC(f, 0x50, 0x9D);
    assert_int_equal(f->cpu->eflags & (X86_FLAG_IOPL | X86_FLAG_IF), 0x3000 | X86_FLAG_IF);
}

static void test_system_instructions(void **state)
{
    struct fixture *f = *state;
    R(f, EAX) = 0;
    EXEC(f, 0x0F, 0xA2);                                       /* cpuid */
    assert_int_equal(R(f, EBX), 0x756E6547);                   /* "Genu" */
    uint64_t before = f->cpu->cycles;
    EXEC(f, 0x0F, 0x31);                                       /* rdtsc */
    assert_true(((uint64_t)R(f, EDX) << 32 | R(f, EAX)) >= before);
    R(f, EAX) = 0x8000;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xE0), X86_VEC_GP);  /* mov cr4, eax: bit 15 reserved */
    R(f, ECX) = 0x1B;                                          /* IA32_APIC_BASE */
    assert_int_equal(EXEC(f, 0x0F, 0x32), -1);
    assert_int_equal(R(f, EAX), 0xFEE00900);                   /* base, EN, BSP */
    R(f, ECX) = 0x12345;                                       /* an unknown MSR */
    assert_int_equal(EXEC(f, 0x0F, 0x32), X86_VEC_GP);
    assert_int_equal(EXEC(f, 0xCC), X86_VEC_BP);               /* int3: reported, a trap */
    assert_int_equal(f->cpu->fault.return_eip, CODE + 1);
    set_flags(f, 0);
    assert_int_equal(EXEC(f, 0xCE), -1);                       /* into without OF */
    assert_int_equal(EXEC(f, 0x0F, 0x0B), X86_VEC_UD);         /* ud2 */
    assert_int_equal(EXEC(f, 0xD9, 0xE8), -1);                 /* fld1 */
    assert_int_equal(EXEC(f, 0xD9, 0xF0), -1);                 /* f2xm1 */
    assert_int_equal(EXEC(f, 0xD9, 0xD1), X86_VEC_UD);         /* a reserved D9 form */
    f->cpu->cr0 |= X86_CR0_TS;
    assert_int_equal(EXEC(f, 0xD9, 0xE8), X86_VEC_NM);         /* ... but #NM with CR0.TS */
    f->cpu->cr0 &= ~X86_CR0_TS;
    f->cpu->cpl = 3;
    assert_int_equal(EXEC(f, 0xF4), X86_VEC_GP);               /* hlt at CPL 3 */
    assert_int_equal(EXEC(f, 0xFA), X86_VEC_GP);               /* cli at CPL 3 > IOPL */
    f->cpu->cpl = 0;
    /* lgdt / sgdt */
    const uint8_t gdtr[6] = { 0xFF, 0x00, 0x00, 0x50, 0x00, 0x00 };
    test_write_physical(f->m, 0x2000, gdtr, 6);
    EXEC(f, 0x0F, 0x01, 0x15, 0x00, 0x20, 0x00, 0x00);         /* lgdt [0x2000] */
    assert_int_equal(f->cpu->gdtr.base, 0x5000);
    assert_int_equal(f->cpu->gdtr.limit, 0xFF);
    EXEC(f, 0x0F, 0x01, 0x05, 0x10, 0x20, 0x00, 0x00);         /* sgdt [0x2010] */
    uint8_t back[6];
    test_read_physical(f->m, 0x2010, back, 6);
    assert_memory_equal(back, gdtr, 6);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_upper_halves), T(test_add_sub_flags), T(test_inc_dec_neg_logic), T(test_shifts_and_rotates),
        T(test_multiply_divide), T(test_bits_and_bcd), T(test_precise_stack_fault),
        T(test_strings), T(test_string_cut_is_free), T(test_stack_and_frames),
        T(test_system_instructions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
