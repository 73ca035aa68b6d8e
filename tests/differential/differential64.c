/* Differential test against the host CPU in 64-bit mode.
 *
 *   differential64 NATIVE_RUNNER64 [CASES]      (default 100,000 sequences)
 *
 * As differential.c, with the core put straight into 64-bit mode (flat, paging off: no long-mode
 * entry, which is not ours to test here): sequences of 1-5 instructions with REX.W operands,
 * R8-R15 and the REX byte registers, 64-bit immediates, RIP-relative and moffs64 operands on
 * the buffer, 64-bit multiply/divide/shifts, conversions, exchanges, conditional moves, push,
 * pop, call, branches and strings. The native runner (an x86-64 host program) runs them at the
 * same address as we do; all sixteen registers but RSP, the defined arithmetic flags, DF and
 * the buffer are compared.
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

static uint64_t rng = 0x13198A2E03707344ull;
static uint64_t rnd64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static uint32_t rnd(void) { return (uint32_t)rnd64(); }
static uint32_t pick(uint32_t n) { return rnd() % n; }

/* any register but RSP */
static uint8_t reg64(void)
{
    uint8_t r;
    do
        r = (uint8_t)pick(16);
    while (r == 4);
    return r;
}

struct emitter {
    uint8_t *code;
    uint32_t length;
    uint32_t undefined;
};
static void b(struct emitter *e, uint8_t v) { e->code[e->length++] = v; }
static void imm32(struct emitter *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b(e, (uint8_t)(v >> (8 * i)));
}
static void imm64(struct emitter *e, uint64_t v)
{
    imm32(e, (uint32_t)v);
    imm32(e, (uint32_t)(v >> 32));
}
/* REX (if needed) + opcode bytes + ModRM register-register, with w the operand size 64 */
static void rr(struct emitter *e, bool w, bool force, const uint8_t *op, unsigned n,
               uint8_t reg, uint8_t rm)
{
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0));
    if (rex != 0x40 || force)
        b(e, rex);
    for (unsigned i = 0; i < n; i++)
        b(e, op[i]);
    b(e, (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7)));
}
/* an operand size: 0 = 8 (with REX or legacy byte registers), 1 = 16, 2 = 32, 3 = 64 */
struct sized {
    unsigned form;
    uint8_t reg, rm;
    bool force_rex;
};
static struct sized sized_regs(void)
{
    struct sized s = { pick(4), reg64(), reg64(), false };
    if (s.form == 0 && pick(2)) {
        s.reg = (uint8_t)pick(8); /* legacy AL..BH, no REX */
        s.rm = (uint8_t)pick(8);
    } else if (s.form == 0) {
        s.force_rex = true; /* SPL/BPL/SIL/DIL, R8B-R15B (never SPL: reg64 skips 4) */
    }
    return s;
}
static void sized_rr(struct emitter *e, struct sized s, uint8_t opcode_byte_form)
{
    if (s.form == 1)
        b(e, 0x66);
    uint8_t op = (uint8_t)(opcode_byte_form | (s.form == 0 ? 0 : 1));
    rr(e, s.form == 3, s.force_rex, &op, 1, s.reg, s.rm);
}
static void rip_modrm(struct emitter *e, uint8_t reg, uint32_t target, unsigned tail)
{
    /* [rip + disp32]: counted from the end of the instruction (tail = immediate bytes after) */
    b(e, (uint8_t)(((reg & 7) << 3) | 5));
    uint32_t next = DIFF64_CODE_ADDRESS + e->length + 4 + tail;
    imm32(e, target - next);
}

struct template {
    const char *name;
    uint32_t uses;
    void (*emit)(struct emitter *e, uint32_t *writes, uint32_t *undef);
};

static void t_alu_rr(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint8_t op = (uint8_t)(pick(8) << 3);
    struct sized s = sized_regs();
    sized_rr(e, s, (uint8_t)(op | (pick(2) << 1)));
    *w = ALL;
    *u = (op == 0x08 || op == 0x20 || op == 0x30) ? AF : 0;
}
static void t_alu_imm(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint8_t ext = (uint8_t)pick(8), r = reg64();
    uint8_t rex = (uint8_t)(0x48 | ((r & 8) ? 1 : 0));
    switch (pick(4)) {
    case 0: b(e, rex); b(e, 0x83); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); b(e, (uint8_t)rnd()); break;
    case 1: b(e, rex); b(e, 0x81); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); imm32(e, rnd()); break;
    case 2: b(e, 0x48); b(e, 0x05 | (uint8_t)(ext << 3)); imm32(e, rnd()); break; /* op rax, imm32 */
    default: b(e, (uint8_t)(0x40 | ((r & 8) ? 1 : 0))); /* byte form with REX: SIL, R9B... */
             b(e, 0x80); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); b(e, (uint8_t)rnd()); break;
    }
    *w = ALL;
    *u = (ext == 1 || ext == 4 || ext == 6) ? AF : 0;
}
static void t_alu_mem(struct emitter *e, uint32_t *w, uint32_t *u)
{
    static const uint8_t ops[8] = { 0x01, 0x03, 0x29, 0x2B, 0x21, 0x09, 0x31, 0x39 };
    uint8_t op = ops[pick(8)], r = reg64();
    uint32_t target = DIFF_BUFFER_ADDRESS + pick(DIFF_BUFFER_SIZE - 8);
    bool wide = pick(4) != 0;
    if (pick(2)) {
        /* op [rip + disp32], r / op r, [rip + disp32] */
        b(e, (uint8_t)(0x40 | (wide ? 8 : 0) | ((r & 8) ? 4 : 0)));
        b(e, op);
        rip_modrm(e, r, target, 0);
    } else {
        /* mov r13 or rsi, buffer (sign-extended imm32); op [base], r */
        uint8_t base = pick(2) ? 6 : 13;
        b(e, base & 8 ? 0x49 : 0x48); b(e, 0xC7); b(e, (uint8_t)(0xC0 | (base & 7))); imm32(e, target);
        if (r == base)
            r = 0;
        b(e, (uint8_t)(0x40 | (wide ? 8 : 0) | ((r & 8) ? 4 : 0) | ((base & 8) ? 1 : 0)));
        b(e, op);
        if ((base & 7) == 5) {
            b(e, (uint8_t)(0x40 | ((r & 7) << 3) | 5)); b(e, 0); /* [r13 + 0] */
        } else {
            b(e, (uint8_t)(((r & 7) << 3) | 6));
        }
    }
    *w = ALL;
    *u = (op == 0x21 || op == 0x09 || op == 0x31) ? AF : 0;
}
static void t_inc_dec(struct emitter *e, uint32_t *w, uint32_t *u)
{
    struct sized s = sized_regs();
    if (s.form == 1)
        b(e, 0x66);
    uint8_t op = s.form == 0 ? 0xFE : 0xFF;
    rr(e, s.form == 3, s.force_rex, &op, 1, (uint8_t)pick(2), s.rm);
    *w = ALL & ~CF;
    *u = 0;
}
static void t_neg_not(struct emitter *e, uint32_t *w, uint32_t *u)
{
    bool neg = pick(2);
    struct sized s = sized_regs();
    if (s.form == 1)
        b(e, 0x66);
    uint8_t op = s.form == 0 ? 0xF6 : 0xF7;
    rr(e, s.form == 3, s.force_rex, &op, 1, neg ? 3 : 2, s.rm);
    *w = neg ? ALL : 0;
    *u = 0;
}
static void t_mul(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint8_t r = reg64(), m = reg64();
    bool wide = pick(4) != 0;
    switch (pick(4)) {
    case 0: { uint8_t op = 0xF7; rr(e, wide, false, &op, 1, (uint8_t)(4 + pick(2)), m); break; }
    case 1: { static const uint8_t op[2] = { 0x0F, 0xAF }; rr(e, wide, false, op, 2, r, m); break; }
    case 2: { uint8_t op = 0x6B; rr(e, wide, false, &op, 1, r, m); b(e, (uint8_t)rnd()); break; }
    default: { uint8_t op = 0x69; rr(e, wide, false, &op, 1, r, m); imm32(e, rnd()); break; }
    }
    *w = CF | OF;
    *u = SF | ZF | AF | PF;
}
static void t_div(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint64_t divisor = rnd64() >> pick(64);
    divisor |= 1;
    switch (pick(3)) {
    case 0: /* xor edx, edx; mov rbx, d; div rbx */
        b(e, 0x31); b(e, 0xD2); b(e, 0x48); b(e, 0xBB); imm64(e, divisor);
        b(e, 0x48); b(e, 0xF7); b(e, 0xF3);
        break;
    case 1: /* mov rax, n; cqo; mov r9, d; idiv r9 (n >= 0, so no overflow) */
        b(e, 0x48); b(e, 0xB8); imm64(e, rnd64() >> 1); b(e, 0x48); b(e, 0x99);
        b(e, 0x49); b(e, 0xB9); imm64(e, pick(2) ? divisor : (uint64_t)-(int64_t)(divisor >> 1 | 1));
        b(e, 0x49); b(e, 0xF7); b(e, 0xF9);
        break;
    default: /* 32-bit in 64-bit mode: xor edx, edx; mov ecx, d; div ecx (zero-extends) */
        b(e, 0x31); b(e, 0xD2); b(e, 0xB9); imm32(e, (uint32_t)divisor | 1); b(e, 0xF7); b(e, 0xF1);
        break;
    }
    *w = 0;
    *u = ALL;
}
static void t_shift(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint8_t ext = (uint8_t)pick(8), r = reg64();
    unsigned form = pick(5), width = 64, count = 64; /* 64: unknown (CL) */
    uint8_t rex = (uint8_t)(0x48 | ((r & 8) ? 1 : 0));
    if (form == 0) { b(e, rex); b(e, 0xC1); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); count = pick(64); b(e, (uint8_t)count); }
    else if (form == 1) { b(e, rex); b(e, 0xD1); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); count = 1; }
    else if (form == 2) { b(e, rex); b(e, 0xD3); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); }
    else if (form == 3) { /* 32-bit, count 0-31 */
        if (r & 8) b(e, 0x41);
        b(e, 0xC1); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); count = pick(32); b(e, (uint8_t)count); width = 32;
    } else { /* byte with REX */
        b(e, (uint8_t)(0x40 | ((r & 8) ? 1 : 0)));
        b(e, 0xC0); b(e, (uint8_t)(0xC0 | (ext << 3) | (r & 7))); count = pick(32); b(e, (uint8_t)count); width = 8;
    }
    bool rotate = ext < 4;
    if (count == 0) {
        *w = 0;
        *u = 0;
        return;
    }
    if (rotate) {
        *w = CF | OF;
        *u = count == 1 ? 0 : OF;
        if (count == 64)
            *u |= CF;
        if (ext >= 2 && (width == 8 || count == 64))
            *u |= CF | OF;
    } else {
        *w = ALL;
        *u = AF | (count == 1 ? 0 : OF) | (count >= width ? CF : 0);
        if (count == 64)
            *u = ALL;
    }
}
static void t_double_shift(struct emitter *e, uint32_t *w, uint32_t *u)
{
    bool wide = pick(3) != 0;
    unsigned count = wide ? pick(64) : pick(32);
    uint8_t op[2] = { 0x0F, pick(2) ? 0xA4 : 0xAC };
    rr(e, wide, false, op, 2, reg64(), reg64());
    b(e, (uint8_t)count);
    *w = count ? ALL : 0;
    *u = count == 0 ? 0 : (AF | (count == 1 ? 0 : OF));
}
static void t_bits(struct emitter *e, uint32_t *w, uint32_t *u)
{
    bool wide = pick(4) != 0;
    switch (pick(3)) {
    case 0: { static const uint8_t ops[4] = { 0xA3, 0xAB, 0xB3, 0xBB };
              uint8_t op[2] = { 0x0F, ops[pick(4)] }; rr(e, wide, false, op, 2, reg64(), reg64()); break; }
    case 1: { static const uint8_t op[2] = { 0x0F, 0xBA };
              rr(e, wide, false, op, 2, (uint8_t)(4 + pick(4)), reg64()); b(e, (uint8_t)rnd()); break; }
    default: {
        uint8_t op[2] = { 0x0F, pick(2) ? 0xBC : 0xBD };
        rr(e, wide, false, op, 2, reg64(), reg64());
        *w = ZF;
        *u = CF | OF | SF | AF | PF;
        return;
    }
    }
    *w = CF;
    *u = OF | SF | AF | PF | ZF;
}
static void t_convert(struct emitter *e, uint32_t *w, uint32_t *u)
{
    switch (pick(8)) {
    case 0: if (pick(2)) b(e, 0x48); b(e, 0x98); break;                /* cdqe / cwde */
    case 1: if (pick(2)) b(e, 0x48); b(e, 0x99); break;                /* cqo / cdq */
    case 2: { uint8_t r = reg64(); b(e, (uint8_t)(0x48 | ((r & 8) ? 1 : 0))); b(e, 0x0F);
              b(e, (uint8_t)(0xC8 | (r & 7))); break; }                 /* bswap r64 */
    case 3: { uint8_t op[2] = { 0x0F, (uint8_t)(0xB6 + pick(2) + 8 * pick(2)) };
              rr(e, pick(2), true, op, 2, reg64(), reg64()); break; }   /* movzx/movsx, REX */
    case 4: { uint8_t op = 0x63; rr(e, true, false, &op, 1, reg64(), reg64()); break; } /* movsxd */
    case 5: { /* lea r64, [base + index*s + disp8] with REX.X/B */
        uint8_t r = reg64(), base = reg64(), index = reg64();
        b(e, (uint8_t)(0x48 | ((r & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0)));
        b(e, 0x8D); b(e, (uint8_t)(0x44 | ((r & 7) << 3)));
        b(e, (uint8_t)((pick(4) << 6) | ((index & 7) << 3) | (base & 7))); b(e, (uint8_t)rnd());
        break;
    }
    case 6: { uint8_t r = reg64();                                      /* mov r64, imm64 */
              b(e, (uint8_t)(0x48 | ((r & 8) ? 1 : 0))); b(e, (uint8_t)(0xB8 | (r & 7))); imm64(e, rnd64()); break; }
    default: {                                                          /* lea r, [rip + d] */
        uint8_t r = reg64();
        b(e, (uint8_t)(0x48 | ((r & 8) ? 4 : 0))); b(e, 0x8D); rip_modrm(e, r, rnd(), 0);
        break;
    }
    }
    *w = 0;
    *u = 0;
}
static void t_load(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint32_t target = DIFF_BUFFER_ADDRESS + pick(DIFF_BUFFER_SIZE - 8);
    uint8_t r = reg64();
    switch (pick(4)) {
    case 0: b(e, (uint8_t)(0x48 | ((r & 8) ? 4 : 0))); b(e, 0x8B); rip_modrm(e, r, target, 0); break;
    case 1: b(e, (uint8_t)(0x48 | ((r & 8) ? 4 : 0))); b(e, 0x89); rip_modrm(e, r, target, 0); break;
    case 2: b(e, 0x48); b(e, pick(2) ? 0xA1 : 0xA3); imm64(e, target); break; /* moffs64 */
    default: b(e, 0x48); b(e, 0xC7); rip_modrm(e, 0, target, 4); imm32(e, rnd()); break;
    }
    *w = 0;
    *u = 0;
}
static void t_exchange(struct emitter *e, uint32_t *w, uint32_t *u)
{
    bool wide = pick(4) != 0;
    switch (pick(3)) {
    case 0: { uint8_t op = 0x87; rr(e, wide, false, &op, 1, reg64(), reg64()); *w = 0; break; }
    case 1: { static const uint8_t op[2] = { 0x0F, 0xC1 }; rr(e, wide, false, op, 2, reg64(), reg64()); *w = ALL; break; }
    default: { static const uint8_t op[2] = { 0x0F, 0xB1 }; rr(e, wide, false, op, 2, reg64(), reg64()); *w = ALL; break; }
    }
    *u = 0;
}
static void t_condition(struct emitter *e, uint32_t *w, uint32_t *u)
{
    if (pick(2)) {
        uint8_t op[2] = { 0x0F, (uint8_t)(0x40 | pick(16)) };
        rr(e, pick(2), false, op, 2, reg64(), reg64());
    } else {
        uint8_t op[2] = { 0x0F, (uint8_t)(0x90 | pick(16)) };
        rr(e, false, true, op, 2, 0, reg64());
    }
    *w = 0;
    *u = 0;
}
static void t_stack(struct emitter *e, uint32_t *w, uint32_t *u)
{
    uint8_t a = reg64(), c = reg64();
    switch (pick(4)) {
    case 0: /* push a; pop c */
        if (a & 8) b(e, 0x41);
        b(e, (uint8_t)(0x50 | (a & 7)));
        if (c & 8) b(e, 0x41);
        b(e, (uint8_t)(0x58 | (c & 7)));
        break;
    case 1: /* push imm32 (sign-extended); pop c */
        b(e, 0x68); imm32(e, rnd());
        if (c & 8) b(e, 0x41);
        b(e, (uint8_t)(0x58 | (c & 7)));
        break;
    case 2: /* call +0; pop c: the 64-bit return address */
        b(e, 0xE8); imm32(e, 0);
        if (c & 8) b(e, 0x41);
        b(e, (uint8_t)(0x58 | (c & 7)));
        break;
    default: /* 16-bit push and pop (66) */
        b(e, 0x66); if (a & 8) b(e, 0x41); b(e, (uint8_t)(0x50 | (a & 7)));        /* push a16 */
        b(e, 0x66); if (c & 8) b(e, 0x41); b(e, (uint8_t)(0x58 | (c & 7)));        /* pop c16 */
        break;
    }
    *w = 0;
    *u = 0;
}
static void t_flag_ops(struct emitter *e, uint32_t *w, uint32_t *u)
{
    static const uint8_t ops[5] = { 0xF8, 0xF9, 0xF5, 0x9F, 0x9E };
    uint8_t op = ops[pick(5)];
    b(e, op);
    *w = op == 0x9E ? (SF | ZF | AF | PF | CF) : op == 0x9F ? 0 : CF;
    *u = 0;
}
static void t_branch(struct emitter *e, uint32_t *w, uint32_t *u)
{
    switch (pick(3)) {
    case 0: b(e, (uint8_t)(0x70 | pick(16))); break;
    case 1: b(e, 0xE3); break; /* jrcxz */
    default: b(e, 0xE2); break; /* loop (RCX) */
    }
    b(e, 0x03);
    uint8_t op = 0x89;
    rr(e, true, true, &op, 1, reg64(), reg64()); /* 3 bytes */
    *w = 0;
    *u = 0;
}
static void t_string(struct emitter *e, uint32_t *w, uint32_t *u)
{
    static const uint8_t ops[7][2] = { { 0xF3, 0xA4 }, { 0xF3, 0xA5 }, { 0xF3, 0xAA }, { 0xF3, 0xAB },
                                       { 0xF3, 0xAC }, { 0xF3, 0xA7 }, { 0xF2, 0xAF } };
    unsigned k = pick(7);
    bool wide = (ops[k][1] & 1) && pick(2);
    unsigned element = (ops[k][1] & 1) ? (wide ? 8 : 4) : 1;
    bool down = pick(4) == 0;
    uint32_t count = element == 8 ? pick(12) : element == 4 ? pick(20) : pick(30);
    uint32_t base = DIFF_BUFFER_ADDRESS;
    uint32_t src = down ? base + 130 + pick(100) : base + pick(100);
    uint32_t dst = down ? base + 130 + pick(100) : base + pick(100);
    b(e, 0xBE); imm32(e, src);           /* mov esi, src (zero-extends) */
    b(e, 0x48); b(e, 0xC7); b(e, 0xC7); imm32(e, dst); /* mov rdi, dst */
    b(e, 0xB9); imm32(e, count);         /* mov ecx, count */
    if (down)
        b(e, 0xFD);
    bool repeated = pick(5) != 0;
    if (repeated)
        b(e, ops[k][0]);
    if (wide)
        b(e, 0x48);
    b(e, ops[k][1]);
    if (down)
        b(e, 0xFC);
    *w = k >= 5 && (!repeated || count != 0) ? ALL : 0;
    *u = 0;
}

static const struct template templates[] = {
    { "alu", CF, t_alu_rr },       { "alu-imm", CF, t_alu_imm },
    { "alu-memory", CF, t_alu_mem }, { "inc-dec", 0, t_inc_dec },
    { "neg-not", 0, t_neg_not },   { "mul", 0, t_mul },
    { "div", 0, t_div },           { "shift", CF, t_shift },
    { "shld-shrd", 0, t_double_shift }, { "bits", 0, t_bits },
    { "convert", 0, t_convert },   { "load-store", 0, t_load },
    { "exchange", 0, t_exchange }, { "condition", ALL, t_condition },
    { "stack", 0, t_stack },       { "flag-ops", ALL, t_flag_ops },
    { "branch", ALL, t_branch },   { "string", 0, t_string },
};
#define TEMPLATE_COUNT (sizeof(templates) / sizeof(templates[0]))

static uint32_t make_case(struct diff64_case *c)
{
    memset(c, 0, sizeof(*c));
    struct emitter e = { c->code, 0, 0 };
    unsigned count = 1 + pick(5);
    for (unsigned i = 0; i < count && e.length < DIFF_CODE_MAX - 30; i++) {
        const struct template *t;
        do
            t = &templates[pick(TEMPLATE_COUNT)];
        while (t->uses & e.undefined);
        uint32_t writes = 0, undef = 0;
        t->emit(&e, &writes, &undef);
        e.undefined = (e.undefined & ~writes) | undef;
    }
    c->code_length = e.length;
    for (int r = 0; r < 16; r++) {
        uint64_t v = rnd64();
        c->regs[r] = pick(4) == 0 ? (uint32_t)v : pick(8) == 0 ? (uint64_t)(int64_t)(int32_t)v : v;
    }
    c->rflags = 0x202u | (rnd() & ALL);
    return e.undefined;
}

/* ------------------------------------------------------------------ our side */

static void enter_64(struct x86_cpu *cpu)
{
    /* flat 64-bit code: CS.L, no paging (long-mode entry is not what this test checks) */
    cpu->seg[X86_SEG_CS].attributes = (uint16_t)((cpu->seg[X86_SEG_CS].attributes | X86_SEG_ATTR_L) &
                                                 ~X86_SEG_ATTR_DB);
    cpu->mode = X86_MODE_64;
}

static void run_ours(x86irq_machine *m, const struct diff64_case *c, struct diff64_result *r,
                     uint32_t seed, bool *faulted)
{
    struct x86_cpu *cpu = x86_machine_cpu(m);
    uint8_t buffer[DIFF_BUFFER_SIZE];
    diff_fill_buffer(buffer, seed);
    x86irq_write_physical(m, DIFF_BUFFER_ADDRESS, buffer, sizeof(buffer));
    x86irq_write_physical(m, DIFF64_CODE_ADDRESS, c->code, c->code_length);
    enter_64(cpu);
    for (int i = 0; i < 16; i++)
        cpu->gpr[i] = c->regs[i];
    cpu->gpr[X86_ESP] = 0x8000;
    x86_set_eflags(cpu, (uint32_t)c->rflags, ~0u);
    cpu->rip = DIFF64_CODE_ADDRESS;
    uint64_t end = DIFF64_CODE_ADDRESS + c->code_length;
    *faulted = false;
    if (seed % 2) {
        cpu->cycle_limit = UINT64_MAX;
        for (int steps = 0; cpu->rip < end && steps < 10000; steps++) {
            struct x86_fault f;
            if (!x86_cpu_step(cpu, &f) || cpu->mode != X86_MODE_64) {
                *faulted = true;
                break;
            }
        }
    } else {
        const uint8_t exit_bytes[2] = { 0xE6, 0xF4 };
        x86irq_write_physical(m, end, exit_bytes, 2);
        cpu->cycle_limit = cpu->cycles + 10000000;
        cpu->slice_end = cpu->cycle_limit;
        cpu->exit_request = 0;
        cpu->stop_pending = 0;
        m->pending_stop = X86IRQ_STOP_NONE;
        x86_cpu_execute(cpu);
        *faulted = m->pending_stop != X86IRQ_STOP_DEBUG_EXIT || cpu->rip != end + 2;
        m->pending_stop = X86IRQ_STOP_NONE;
    }
    for (int i = 0; i < 16; i++)
        r->regs[i] = cpu->gpr[i];
    r->rflags = x86_get_eflags(cpu);
    x86irq_read_physical(m, DIFF_BUFFER_ADDRESS, r->buffer, sizeof(r->buffer));
}

static void print_case(const struct diff64_case *c, const struct diff64_result *native,
                       const struct diff64_result *ours, uint32_t mask)
{
    printf("# bytes:");
    for (uint32_t i = 0; i < c->code_length; i++)
        printf(" %02x", c->code[i]);
    printf("\n#   in  flags %03x:", (unsigned)(c->rflags & 0xFFF));
    for (int i = 0; i < 16; i++)
        if (i != 4)
            printf(" r%d=%016llx", i, (unsigned long long)c->regs[i]);
    printf("\n");
    const struct diff64_result *rs[2] = { native, ours };
    const char *names[2] = { "cpu", "us " };
    for (int k = 0; k < 2; k++) {
        printf("#   %s flags %03x (compared %03x):", names[k], (unsigned)(rs[k]->rflags & 0xFFF), mask);
        for (int i = 0; i < 16; i++)
            if (i != 4)
                printf(" r%d=%016llx", i, (unsigned long long)rs[k]->regs[i]);
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: differential64 NATIVE_RUNNER64 [CASES]\n");
        return 2;
    }
    unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 0) : 100000;
    struct diff64_case *cases = calloc(count, sizeof(*cases));
    uint32_t *undefined = calloc(count, sizeof(*undefined));
    if (!cases || !undefined) {
        printf("Bail out! out of memory\n");
        return 1;
    }
    for (unsigned long i = 0; i < count; i++)
        undefined[i] = make_case(&cases[i]);
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
    unsigned long mismatches = 0, compared = 0;
    for (unsigned long i = 0; i < count; i++) {
        struct diff64_result native, ours;
        if (fread(&native, sizeof(native), 1, rf) != 1)
            break;
        bool faulted;
        run_ours(m, &cases[i], &ours, (uint32_t)i, &faulted);
        uint32_t mask = (ALL & ~undefined[i]) | DF;
        bool same = !faulted && (native.rflags & mask) == (ours.rflags & mask);
        for (int r = 0; r < 16; r++)
            if (r != 4 && native.regs[r] != ours.regs[r])
                same = false;
        if (memcmp(native.buffer, ours.buffer, DIFF_BUFFER_SIZE) != 0)
            same = false;
        compared++;
        if (!same && mismatches++ < 10) {
            printf("# mismatch in case %lu%s\n", i, faulted ? " (we raised an exception)" : "");
            print_case(&cases[i], &native, &ours, mask);
            for (unsigned k = 0; k < DIFF_BUFFER_SIZE; k++)
                if (native.buffer[k] != ours.buffer[k]) {
                    printf("#   buffer differs from byte %u\n", k);
                    break;
                }
        }
    }
    fclose(rf);
    x86irq_machine_destroy(m);
    free(cases);
    free(undefined);
    printf("1..1\n%s 1 - %lu sequences agree with the host CPU in 64-bit mode (%lu mismatches)\n",
           mismatches || compared != count ? "not ok" : "ok", compared, mismatches);
    return mismatches || compared != count ? 1 : 0;
}
