/* Differential test against the host CPU.
 *
 *   differential NATIVE_RUNNER [CASES]      (default 100,000 sequences)
 *
 * Generates deterministic sequences of 1-5 instructions (ALU, shifts, rotates, multiply and
 * divide, bit operations, BCD, conversions, conditional moves and sets, strings with rep, flag
 * instructions, short forward branches) with random registers and flags, and in one case of
 * four a sequence of x87 instructions on doubles from the buffer (make_x87_case), runs them natively in
 * 32-bit mode (the native runner, built with gcc -m32) and through our interpreter, and
 * compares the general registers (not ESP), the arithmetic flags the SDM defines after the
 * sequence, DF, and the 256-byte buffer string instructions work on. Flags an instruction
 * leaves undefined are tracked per sequence: they are not compared, and no later instruction
 * of the sequence may read them. Prints the first mismatches with bytes, inputs and outputs.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/run.h"
#include "differential.h"
#include "harness.h"
#include "machine/machine.h"

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define DF 0x400u
#define ALL (CF | PF | AF | ZF | SF | OF)

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}
static uint32_t pick(uint32_t n) { return rnd() % n; }

/* general registers usable as operands: never ESP */
static uint8_t reg32(void)
{
    static const uint8_t regs[7] = { 0, 1, 2, 3, 5, 6, 7 };
    return regs[pick(7)];
}
static uint8_t modrm_rr(uint8_t reg, uint8_t rm) { return (uint8_t)(0xC0 | (reg << 3) | rm); }

struct emitter {
    uint8_t *code;
    uint32_t length;
    uint32_t undefined; /* flags left undefined so far */
    bool strings;
};
static void b(struct emitter *e, uint8_t v) { e->code[e->length++] = v; }
static void imm32(struct emitter *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b(e, (uint8_t)(v >> (8 * i)));
}

/* A template emits one instruction (or a short fixed group) and says which flags it reads,
 * writes and leaves undefined. */
struct template {
    const char *name;
    uint32_t uses;
    void (*emit)(struct emitter *e, uint32_t *writes, uint32_t *undef);
};

static void t_alu_rr(struct emitter *e, uint32_t *w, uint32_t *u)
{
    static const uint8_t ops[8] = { 0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38 };
    uint8_t op = ops[pick(8)];
    unsigned form = pick(3); /* 8, 16, 32 bits */
    if (form == 1)
        b(e, 0x66);
    b(e, (uint8_t)(op | (form == 0 ? 0 : 1) | (pick(2) << 1)));
    b(e, form == 0 ? modrm_rr((uint8_t)pick(8), (uint8_t)pick(8)) : modrm_rr(reg32(), reg32()));
    *w = ALL;
    *u = (op == 0x08 || op == 0x20 || op == 0x30) ? AF : 0;
}
static void t_alu_mem(struct emitter *e, uint32_t *w, uint32_t *u)
{
    /* mov esi, buffer + offset; then op [esi], r32 or op r32, [esi] (32-bit memory forms) */
    static const uint8_t ops[8] = { 0x01, 0x03, 0x29, 0x2B, 0x21, 0x09, 0x31, 0x39 };
    uint8_t op = ops[pick(8)];
    b(e, 0xBE);
    imm32(e, DIFF_BUFFER_ADDRESS + pick(DIFF_BUFFER_SIZE - 4));
    b(e, op);
    b(e, (uint8_t)((reg32() << 3) | 6));
    e->strings = true; /* the buffer is compared */
    *w = ALL;
    *u = (op == 0x21 || op == 0x09 || op == 0x31) ? AF : 0;
}
static void t_alu_imm(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint8_t ext = (uint8_t)pick(8);
    switch (pick(3)) {
    case 0: b(e, 0x80); b(e, modrm_rr(ext, (uint8_t)pick(8))); b(e, (uint8_t)rnd()); break;
    case 1: b(e, 0x83); b(e, modrm_rr(ext, reg32())); b(e, (uint8_t)rnd()); break;
    default: b(e, 0x81); b(e, modrm_rr(ext, reg32())); imm32(e, rnd()); break;
    }
    *w = ALL;
    *u = (ext == 1 || ext == 4 || ext == 6) ? AF : 0;
}
static void t_inc_dec(struct emitter *e, uint32_t *w, uint32_t *u)
{
    if (pick(2))
        b(e, (uint8_t)((pick(2) ? 0x40 : 0x48) | reg32()));
    else {
        b(e, 0xFE);
        b(e, modrm_rr((uint8_t)pick(2), (uint8_t)pick(8)));
    }
    *w = ALL & ~CF;
    *u = 0;
}
static void t_neg_not(struct emitter *e, uint32_t *w, uint32_t *u)
{
    bool neg = pick(2);
    b(e, pick(2) ? 0xF7 : 0xF6);
    b(e, modrm_rr(neg ? 3 : 2, reg32()));
    *w = neg ? ALL : 0;
    *u = 0;
}
static void t_mul(struct emitter *e, uint32_t *w, uint32_t *u)
{
    unsigned kind = pick(4);
    if (kind == 0) { b(e, 0xF7); b(e, modrm_rr((uint8_t)(4 + pick(2)), reg32())); }
    else if (kind == 1) { b(e, 0x0F); b(e, 0xAF); b(e, modrm_rr(reg32(), reg32())); }
    else if (kind == 2) { b(e, 0x6B); b(e, modrm_rr(reg32(), reg32())); b(e, (uint8_t)rnd()); }
    else { b(e, 0xF6); b(e, modrm_rr((uint8_t)(4 + pick(2)), (uint8_t)pick(8))); }
    *w = CF | OF;
    *u = SF | ZF | AF | PF;
}
static void t_div(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint32_t divisor = rnd() | 1;
    switch (pick(3)) {
    case 0: /* xor edx, edx; mov ebx, d; div ebx */
        b(e, 0x31); b(e, 0xD2); b(e, 0xBB); imm32(e, divisor); b(e, 0xF7); b(e, 0xF3);
        break;
    case 1: /* mov eax, n; cdq; mov ebx, d; idiv ebx */
        b(e, 0xB8); imm32(e, rnd() & 0x7FFFFFFFu); b(e, 0x99);
        b(e, 0xBB); imm32(e, pick(2) ? divisor : (uint32_t)-(int32_t)(divisor & 0xFFFF));
        b(e, 0xF7); b(e, 0xFB);
        break;
    default: /* movzx eax, al; mov bl, d8; div bl */
        b(e, 0x0F); b(e, 0xB6); b(e, 0xC0); b(e, 0xB3); b(e, (uint8_t)(divisor | 1));
        b(e, 0xF6); b(e, 0xF3);
        break;
    }
    *w = 0;
    *u = ALL;
}
static void t_shift(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint8_t ext = (uint8_t)pick(8);
    unsigned form = pick(4);
    unsigned width = 32;
    unsigned count = 32; /* unknown (CL) */
    if (form == 0) { b(e, 0xC1); b(e, modrm_rr(ext, reg32())); count = pick(32); b(e, (uint8_t)count); }
    else if (form == 1) { b(e, 0xC0); b(e, modrm_rr(ext, (uint8_t)pick(8))); count = pick(32); b(e, (uint8_t)count); width = 8; }
    else if (form == 2) { b(e, 0x66); b(e, 0xD1); b(e, modrm_rr(ext, reg32())); count = 1; width = 16; }
    else { b(e, 0xD3); b(e, modrm_rr(ext, reg32())); }
    bool rotate = ext < 4;
    if (count == 0) {
        *w = 0;
        *u = 0;
        return;
    }
    if (rotate) {
        *w = CF | OF;
        *u = count == 1 ? 0 : OF;
        if (count == 32)
            *u |= CF; /* CL may be 0 mod width: then nothing changes */
        if (ext >= 2 && (width != 32 || count == 32))
            *u |= CF | OF;
    } else {
        *w = ALL;
        *u = AF | (count == 1 ? 0 : OF) | (count >= width ? CF : 0);
        if (count == 32)
            *u = ALL; /* CL: count unknown here, may even be 0 */
    }
}
static void t_double_shift(struct emitter *e, uint32_t *w, uint32_t *u)
{
    bool wide = pick(2);
    unsigned count = wide ? pick(32) : pick(17);
    if (!wide)
        b(e, 0x66);
    b(e, 0x0F);
    b(e, pick(2) ? 0xA4 : 0xAC);
    b(e, modrm_rr(reg32(), reg32()));
    b(e, (uint8_t)count);
    *w = count ? ALL : 0;
    *u = count == 0 ? 0 : (AF | (count == 1 ? 0 : OF));
}
static void t_bits(struct emitter *e, uint32_t *w, uint32_t *u)
{
    switch (pick(3)) {
    case 0: { static const uint8_t ops[4] = { 0xA3, 0xAB, 0xB3, 0xBB };
              b(e, 0x0F); b(e, ops[pick(4)]); b(e, modrm_rr(reg32(), reg32())); break; }
    case 1: b(e, 0x0F); b(e, 0xBA); b(e, modrm_rr((uint8_t)(4 + pick(4)), reg32())); b(e, (uint8_t)rnd()); break;
    default:
        b(e, 0x0F); b(e, pick(2) ? 0xBC : 0xBD); b(e, modrm_rr(reg32(), reg32()));
        *w = ZF;
        *u = CF | OF | SF | AF | PF;
        return;
    }
    *w = CF;
    *u = OF | SF | AF | PF | ZF; /* ZF: unchanged on Intel, undefined on others */
}
static void t_bcd(struct emitter *e, uint32_t *w, uint32_t *u)
{
    switch (pick(6)) {
    case 0: b(e, 0x27); *w = ALL; *u = OF; break;                  /* daa */
    case 1: b(e, 0x2F); *w = ALL; *u = OF; break;                  /* das */
    case 2: b(e, 0x37); *w = AF | CF; *u = OF | SF | ZF | PF; break; /* aaa */
    case 3: b(e, 0x3F); *w = AF | CF; *u = OF | SF | ZF | PF; break; /* aas */
    case 4: b(e, 0xD4); b(e, (uint8_t)(pick(255) + 1)); *w = SF | ZF | PF; *u = OF | AF | CF; break;
    default: b(e, 0xD5); b(e, (uint8_t)rnd()); *w = SF | ZF | PF; *u = OF | AF | CF; break;
    }
}
static void t_convert(struct emitter *e, uint32_t *w, uint32_t *u)
{
    switch (pick(5)) {
    case 0: if (pick(2)) b(e, 0x66); b(e, 0x98); break;                 /* cbw / cwde */
    case 1: if (pick(2)) b(e, 0x66); b(e, 0x99); break;                 /* cwd / cdq */
    case 2: b(e, 0x0F); b(e, (uint8_t)(0xC8 | reg32())); break;         /* bswap */
    case 3: b(e, 0x0F); b(e, (uint8_t)(0xB6 + pick(2) + 8 * pick(2)));  /* movzx/movsx */
            b(e, modrm_rr(reg32(), reg32())); break; /* never SP as a 16-bit source */
    default: b(e, 0x8D); b(e, 0x44 | (reg32() << 3)); /* lea r, [base + index*s + disp8] */
             b(e, (uint8_t)((pick(4) << 6) | (reg32() << 3) | reg32())); b(e, (uint8_t)rnd()); break;
    }
    *w = 0;
    *u = 0;
}
static void t_exchange(struct emitter *e, uint32_t *w, uint32_t *u)
{
    switch (pick(3)) {
    case 0: b(e, 0x87); b(e, modrm_rr(reg32(), reg32())); *w = 0; break;
    case 1: b(e, 0x0F); b(e, 0xC1); b(e, modrm_rr(reg32(), reg32())); *w = ALL; break;
    default: b(e, 0x0F); b(e, 0xB1); b(e, modrm_rr(reg32(), reg32())); *w = ALL; break;
    }
    *u = 0;
}
static void t_condition(struct emitter *e, uint32_t *w, uint32_t *u)
{
    if (pick(2)) {
        b(e, 0x0F); b(e, (uint8_t)(0x40 | pick(16))); b(e, modrm_rr(reg32(), reg32()));
    } else {
        b(e, 0x0F); b(e, (uint8_t)(0x90 | pick(16))); b(e, modrm_rr(0, (uint8_t)pick(8)));
    }
    *w = 0;
    *u = 0;
}
static void t_flag_ops(struct emitter *e, uint32_t *w, uint32_t *u)
{
    static const uint8_t ops[5] = { 0xF8, 0xF9, 0xF5, 0x9F, 0x9E }; /* clc stc cmc lahf sahf */
    uint8_t op = ops[pick(5)];
    b(e, op);
    *w = op == 0x9E ? (SF | ZF | AF | PF | CF) : op == 0x9F ? 0 : CF;
    *u = 0;
}
static void t_branch(struct emitter *e, uint32_t *w, uint32_t *u)
{
    /* jcc over a 2-byte mov, or loop/jecxz over it */
    switch (pick(3)) {
    case 0: b(e, (uint8_t)(0x70 | pick(16))); break;
    case 1: b(e, 0xE3); break;
    default: b(e, 0xE2); break;
    }
    b(e, 0x02);
    b(e, 0x89);
    b(e, modrm_rr(reg32(), reg32()));
    *w = 0;
    *u = 0;
}
static void t_string(struct emitter *e, uint32_t *w, uint32_t *u)
{
    static const uint8_t ops[7][2] = { { 0xF3, 0xA4 }, { 0xF3, 0xA5 }, { 0xF3, 0xAA }, { 0xF3, 0xAB },
                                       { 0xF3, 0xAC }, { 0xF3, 0xA6 }, { 0xF2, 0xAE } };
    bool down = pick(4) == 0;
    uint32_t base = DIFF_BUFFER_ADDRESS;
    uint32_t src = down ? base + 130 + pick(100) : base + pick(100);
    uint32_t dst = down ? base + 130 + pick(100) : base + pick(100);
    unsigned k = pick(7);
    uint32_t count = pick(30);
    bool repeated = pick(5) != 0;        /* mostly with a repeat prefix */
    b(e, 0xBE); imm32(e, src);           /* mov esi, src */
    b(e, 0xBF); imm32(e, dst);           /* mov edi, dst */
    b(e, 0xB9); imm32(e, count);         /* mov ecx, count */
    if (down)
        b(e, 0xFD);                      /* std */
    if (repeated)
        b(e, ops[k][0]);
    b(e, ops[k][1]);
    if (down)
        b(e, 0xFC);                      /* cld */
    e->strings = true;
    /* cmps/scas set the flags, unless a repeat with ECX = 0 runs no iteration */
    *w = k >= 5 && (!repeated || count != 0) ? ALL : 0;
    *u = 0;
}

static const struct template templates[] = {
    { "alu", CF, t_alu_rr },       { "alu-imm", CF, t_alu_imm },  /* may be adc/sbb */
    { "alu-memory", 0, t_alu_mem },
    { "adc-sbb", CF, t_alu_rr },   { "inc-dec", 0, t_inc_dec },
    { "neg-not", 0, t_neg_not },   { "mul", 0, t_mul },
    { "div", 0, t_div },           { "shift", CF, t_shift },
    { "shld-shrd", 0, t_double_shift }, { "bits", 0, t_bits },
    { "bcd", AF | CF, t_bcd },     { "convert", 0, t_convert },
    { "exchange", 0, t_exchange }, { "condition", ALL, t_condition },
    { "flag-ops", ALL, t_flag_ops }, { "branch", ALL, t_branch },
    { "string", 0, t_string },
};
#define TEMPLATE_COUNT (sizeof(templates) / sizeof(templates[0]))

/* Build a case: 1-5 instructions, none reading a flag an earlier one left undefined. */
static uint32_t make_case(struct diff_case *c)
{
    memset(c, 0, sizeof(*c));
    struct emitter e = { c->code, 0, 0, false };
    unsigned count = 1 + pick(5);
    for (unsigned i = 0; i < count && e.length < DIFF_CODE_MAX - 24; i++) {
        const struct template *t;
        do {
            t = &templates[pick(TEMPLATE_COUNT)];
        } while (t->uses & e.undefined);
        /* templates that may read flags (adc/sbb, rotates through carry, jcc, setcc...) say
         * so in `uses`, conservatively for every form they might emit */
        uint32_t writes = 0, undef = 0;
        t->emit(&e, &writes, &undef);
        e.undefined = (e.undefined & ~writes) | undef;
    }
    c->code_length = e.length;
    for (int r = 0; r < 8; r++)
        c->regs[r] = rnd();
    c->eflags = 0x202u | (rnd() & ALL);
    return e.undefined;
}

/* ------------------------------------------------------------------ x87 cases */

/* A case of x87 register-form instructions on doubles from the buffer: fninit, 1-4 loads, 1-5
 * operations (arithmetic in both directions and with pop, fxch, fld st(i), fstp st(i), fchs,
 * fabs, fsqrt, frndint, fscale, fxtract) and possibly a comparison last (fcom, fcomp, fucom,
 * ftst, fxam, fcomi, fucomi, fucomip) and arithmetic with m32, m64, m32int and m16int operands,
 * then fnstsw ax and four fstp m80 into the buffer. The
 * host's own x87 runs it natively. Returns the status-word bits to compare: never DE (we do
 * not raise it, docs/isa.md) and C0-C3 only after a comparison (after arithmetic C1 reports
 * rounding up, which we do not model, and the others are undefined). fprem and the
 * transcendentals are left out: the hardware's partial remainders and its last bits differ by
 * design (the fpu-math guest test covers them). */
#define X87_STORE_AREA 128u
static uint32_t make_x87_case(struct diff_case *c)
{
    memset(c, 0, sizeof(*c));
    struct emitter e = { c->code, 0, 0, true };
    b(&e, 0xDB); b(&e, 0xE3);                                  /* fninit */
    unsigned depth = 1 + pick(4);
    if (pick(2)) {
        /* a control word with a random rounding control and precision control (24, 53 or 64
         * bits), exceptions masked: push imm32; fldcw [esp]; lea esp, [esp + 4] */
        static const uint32_t precisions[3] = { 0x000, 0x200, 0x300 };
        uint32_t cw = 0x007Fu | precisions[pick(3)] | (pick(4) << 10);
        b(&e, 0x68); imm32(&e, cw);
        b(&e, 0xD9); b(&e, 0x2C); b(&e, 0x24);
        b(&e, 0x8D); b(&e, 0x64); b(&e, 0x24); b(&e, 0x04);
        if (depth > 3)
            depth = 3; /* the case's 64 bytes */
    }
    for (unsigned k = 0; k < depth; k++) {
        b(&e, 0xDD); b(&e, 0x05);                              /* fld qword [buffer + 8n] */
        imm32(&e, DIFF_BUFFER_ADDRESS + 8 * pick(X87_STORE_AREA / 8));
    }
    static const uint8_t arithmetic[][2] = {
        { 0xD8, 0xC0 }, { 0xD8, 0xC8 }, { 0xD8, 0xE0 }, { 0xD8, 0xE8 }, { 0xD8, 0xF0 },
        { 0xD8, 0xF8 }, { 0xDC, 0xC0 }, { 0xDC, 0xC8 }, { 0xDC, 0xE0 }, { 0xDC, 0xE8 },
        { 0xDC, 0xF0 }, { 0xDC, 0xF8 }, { 0xDE, 0xC0 }, { 0xDE, 0xC8 }, { 0xDE, 0xE8 },
        { 0xDE, 0xF8 }, { 0xD9, 0xC8 }, { 0xD9, 0xC0 }, { 0xDD, 0xD8 },
    };
    static const uint8_t one_operand[] = { 0xE0, 0xE1, 0xFA, 0xFC, 0xFD, 0xF4 };
    unsigned operations = 1 + pick(5);
    static const uint8_t memory_escapes[4] = { 0xD8, 0xDC, 0xDA, 0xDE }; /* m32, m64, m32int, m16int */
    static const uint8_t memory_operations[6] = { 0, 1, 4, 5, 6, 7 };      /* add mul sub subr div divr */
    const uint32_t tail = 2 + 2 + 4 * 6; /* a comparison, fnstsw ax, the four stores */
    for (unsigned k = 0; k < operations && e.length + 2 + tail <= DIFF_CODE_MAX; k++) {
        unsigned kind = pick(4);
        if (kind == 1 && e.length + 6 + tail > DIFF_CODE_MAX)
            kind = 2; /* no room for a memory operand */
        if (kind == 0) {
            b(&e, 0xD9);
            b(&e, one_operand[pick(sizeof(one_operand))]);
        } else if (kind == 1) {                                /* op st(0), [buffer + 4n] */
            b(&e, memory_escapes[pick(4)]);
            b(&e, (uint8_t)((memory_operations[pick(6)] << 3) | 5));
            imm32(&e, DIFF_BUFFER_ADDRESS + 4 * pick(X87_STORE_AREA / 4 - 2));
        } else {
            const uint8_t *op = arithmetic[pick(sizeof(arithmetic) / sizeof(arithmetic[0]))];
            b(&e, op[0]);
            b(&e, (uint8_t)(op[1] + pick(4)));
        }
    }
    uint32_t status_mask = 0xFFFF & ~0x4700u;                 /* not C0-C3 */
    static const uint8_t comparisons[][2] = {
        { 0xD8, 0xD0 }, { 0xD8, 0xD8 }, { 0xDD, 0xE0 }, { 0xD9, 0xE4 }, { 0xD9, 0xE5 },
        { 0xDB, 0xF0 }, { 0xDB, 0xE8 }, { 0xDF, 0xE8 },
    };
    if (pick(2)) {
        unsigned k = pick(sizeof(comparisons) / sizeof(comparisons[0]));
        bool one_register = comparisons[k][0] == 0xD9;
        b(&e, comparisons[k][0]);
        b(&e, (uint8_t)(comparisons[k][1] + (one_register ? 0 : pick(4))));
        /* into the status word: C0 C2 C3, and C1 (cleared, or fxam's sign); into EFLAGS
         * (fcomi...): the status word's C0 C2 C3 stay as they were, and C1 is left out: the SDM
         * clears it, the AMD hosts we run on leave it */
        if (comparisons[k][0] == 0xD9 || comparisons[k][0] == 0xD8 || comparisons[k][0] == 0xDD)
            status_mask |= 0x4700u;
    }
    b(&e, 0xDF); b(&e, 0xE0);                                  /* fnstsw ax */
    for (unsigned k = 0; k < 4; k++) {
        b(&e, 0xDB); b(&e, 0x3D);                              /* fstp tbyte [area + 10k] */
        imm32(&e, DIFF_BUFFER_ADDRESS + X87_STORE_AREA + 10 * k);
    }
    c->code_length = e.length;
    for (int r = 0; r < 8; r++)
        c->regs[r] = rnd();
    c->eflags = 0x202u | (rnd() & ALL);
    return status_mask;
}

/* ------------------------------------------------------------------ our side */

static void run_ours(x86irq_machine *m, const struct diff_case *c, struct diff_result *r,
                     uint32_t seed, bool *faulted)
{
    struct x86_cpu *cpu = x86_machine_cpu(m);
    uint8_t buffer[DIFF_BUFFER_SIZE];
    diff_fill_buffer(buffer, seed);
    x86irq_write_physical(m, DIFF_BUFFER_ADDRESS, buffer, sizeof(buffer));
    x86irq_write_physical(m, 0x1000, c->code, c->code_length);
    static const uint8_t popad_order[8] = { X86_EDI, X86_ESI, X86_EBP, X86_ESP, X86_EBX, X86_EDX,
                                            X86_ECX, X86_EAX };
    for (int i = 0; i < 8; i++)
        cpu->gpr[popad_order[i]] = c->regs[i];
    cpu->gpr[X86_ESP] = 0x8000;
    x86_set_eflags(cpu, c->eflags, ~0u);
    cpu->rip = 0x1000;
    *faulted = false;
    if (seed % 2) {
        /* odd cases: one instruction at a time, decoded uncached, through the handlers */
        cpu->cycle_limit = UINT64_MAX;
        for (int steps = 0; cpu->rip < 0x1000 + c->code_length && steps < 10000; steps++) {
            struct x86_fault f;
            if (!x86_cpu_step(cpu, &f)) {
                *faulted = true;
                break;
            }
        }
    } else {
        /* even cases: through the run loop's decoded blocks and inline forms, ending at an
         * `out 0xf4, al` (the debug exit) placed after the sequence */
        const uint8_t exit_bytes[2] = { 0xE6, 0xF4 };
        x86irq_write_physical(m, 0x1000 + c->code_length, exit_bytes, 2);
        cpu->cycle_limit = cpu->cycles + 10000000;
        cpu->slice_end = cpu->cycle_limit;
        cpu->exit_request = 0;
        cpu->stop_pending = 0;
        m->pending_stop = X86IRQ_STOP_NONE;
        x86_cpu_execute(cpu);
        *faulted = m->pending_stop != X86IRQ_STOP_DEBUG_EXIT ||
                   cpu->rip != 0x1000 + c->code_length + 2;
        m->pending_stop = X86IRQ_STOP_NONE;
    }
    for (int i = 0; i < 8; i++)
        r->regs[i] = cpu->gpr[popad_order[i]];
    r->eflags = x86_get_eflags(cpu);
    x86irq_read_physical(m, DIFF_BUFFER_ADDRESS, r->buffer, sizeof(r->buffer));
}

static void print_case(const struct diff_case *c, const struct diff_result *native,
                       const struct diff_result *ours, uint32_t mask)
{
    printf("# bytes:");
    for (uint32_t i = 0; i < c->code_length; i++)
        printf(" %02x", c->code[i]);
    printf("\n#   in  edi %08x esi %08x ebp %08x ebx %08x edx %08x ecx %08x eax %08x flags %03x\n",
           c->regs[0], c->regs[1], c->regs[2], c->regs[4], c->regs[5], c->regs[6], c->regs[7], c->eflags & 0xFFF);
    const struct diff_result *rs[2] = { native, ours };
    const char *names[2] = { "cpu", "us " };
    for (int k = 0; k < 2; k++)
        printf("#   %s edi %08x esi %08x ebp %08x ebx %08x edx %08x ecx %08x eax %08x flags %03x (compared %03x)\n",
               names[k], rs[k]->regs[0], rs[k]->regs[1], rs[k]->regs[2], rs[k]->regs[4],
               rs[k]->regs[5], rs[k]->regs[6], rs[k]->regs[7], rs[k]->eflags & 0xFFF, mask);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: differential NATIVE_RUNNER [CASES]\n");
        return 2;
    }
    unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 0) : 100000;
    struct diff_case *cases = calloc(count, sizeof(*cases));
    uint32_t *undefined = calloc(count, sizeof(*undefined));
    if (!cases || !undefined) {
        printf("Bail out! out of memory\n");
        return 1;
    }
    uint32_t *x87_status = calloc(count, sizeof(*x87_status));
    if (!x87_status) {
        printf("Bail out! out of memory\n");
        return 1;
    }
    /* one case in four exercises the x87 */
    for (unsigned long i = 0; i < count; i++) {
        if (i % 4 == 3)
            x87_status[i] = make_x87_case(&cases[i]);
        else
            undefined[i] = make_case(&cases[i]);
    }
    FILE *rf = NULL;
    switch (diff_run_native(argv[1], cases, sizeof(*cases), count, &rf)) {
    case DIFF_NATIVE_OK: break;
    case DIFF_NATIVE_SKIP:
        printf("1..0 # SKIP the native runner cannot map its code or buffer here\n");
        return 0;
    default: return 1;
    }
    x86irq_config config;
    x86irq_config_init(&config);
    config.ram_size = 4u << 20;
    x86irq_machine *m;
    if (x86irq_machine_create(&config, &m) != X86IRQ_OK) {
        printf("Bail out! setup failed\n");
        return 1;
    }
    /* the run loop's exceptions go through an IDT of not-present gates: a fault ends in a
     * triple-fault shutdown, reported as a mismatch */
    unsigned long mismatches = 0, compared = 0;
    for (unsigned long i = 0; i < count; i++) {
        struct diff_result native, ours;
        if (fread(&native, sizeof(native), 1, rf) != 1)
            break;
        bool faulted;
        run_ours(m, &cases[i], &ours, (uint32_t)i, &faulted);
        uint32_t mask = (ALL & ~undefined[i]) | DF;
        bool same = !faulted && (native.eflags & mask) == (ours.eflags & mask);
        for (int r = 0; r < 8; r++) {
            /* EAX of an x87 case: the status word (fnstsw ax) under its mask */
            uint32_t register_mask = r == 7 && x87_status[i] ? 0xFFFF0000u | x87_status[i]
                                                              : 0xFFFFFFFFu;
            if (r != 3 && (native.regs[r] & register_mask) != (ours.regs[r] & register_mask))
                same = false;
        }
        if (memcmp(native.buffer, ours.buffer, DIFF_BUFFER_SIZE) != 0)
            same = false;
        compared++;
        if (!same && mismatches++ < 10) {
            printf("# mismatch in case %lu%s\n", i, faulted ? " (we raised an exception)" : "");
            print_case(&cases[i], &native, &ours, mask);
            for (unsigned k = 0; k < DIFF_BUFFER_SIZE; k++) {
                if (native.buffer[k] != ours.buffer[k]) {
                    printf("#   buffer differs from byte %u: cpu", k);
                    for (unsigned j = k; j < k + 10 && j < DIFF_BUFFER_SIZE; j++)
                        printf(" %02x", native.buffer[j]);
                    printf(", us");
                    for (unsigned j = k; j < k + 10 && j < DIFF_BUFFER_SIZE; j++)
                        printf(" %02x", ours.buffer[j]);
                    printf("\n");
                    break;
                }
            }
        }
    }
    fclose(rf);
    x86irq_machine_destroy(m);
    free(cases);
    free(undefined);
    free(x87_status);
    printf("1..1\n%s 1 - %lu sequences agree with the host CPU (%lu mismatches)\n",
           mismatches || compared != count ? "not ok" : "ok", compared, mismatches);
    return mismatches || compared != count ? 1 : 0;
}
