/* SSE4.1's integer, blend, insert/extract and test instructions, SSE4.2's pcmpgtq and string
 * compares (pcmpestri/m, pcmpistri/m), and the general-register instructions that come with
 * SSE4.2: crc32 (F2 0F 38 F0/F1) and popcnt (F3 0F B8); simd.def "SSE4.1 and SSE4.2" (SDM
 * Vol. 2, each instruction's "Operation"; the string compares: Vol. 2 4.1 "Imm8 control byte
 * operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM").
 *
 * Alignment: the legacy SSE4.1 m128 operands must be 16-byte aligned (#GP(0)); the pmovsx/zx
 * sources (m16/m32/m64), the inserts' and extracts' m8..m64 and the SSE4.2 string compares'
 * m128 do not (SDM Vol. 1 12.10.3 "SSE4.2 ... do not require memory operands to be aligned"). */
#include "cpu/simd.h"
#include "cpu/exec64.h"

static union x86_xmm source128(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return x86_simd_source(cpu, insn, 16, true);
}

/* a general-purpose memory or register operand of size bytes (the inserts, crc32, popcnt) */
static uint64_t gp_read(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned size)
{
    if (insn->mod == 3)
        return rget(cpu, insn, insn->rm, size);
    return x86_read_linear(cpu, x86_simd_linear(cpu, insn, size, false, false), size);
}

/* the extracts' r/m destination: a register takes the value zero-extended to 32 bits (64 with
 * REX.W in 64-bit mode: SDM PEXTRB/W/D/Q "zero-extended"), memory takes size bytes */
static void extract_store(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned size,
                          uint64_t v)
{
    if (insn->mod == 3) {
        cpu->gpr[insn->rm] = size == 8 ? v : (uint32_t)v;
        return;
    }
    uint64_t at = x86_simd_linear(cpu, insn, size, true, false);
    if (insn->mode != X86_MODE_64 && at + size > 0x100000000ull) {
        /* wraps at 4 GiB (as x86_simd_write): both parts checked, then byte by byte */
        x86_check_write_linear(cpu, at, (unsigned)(0x100000000ull - at));
        x86_check_write_linear(cpu, 0, (unsigned)(at + size - 0x100000000ull));
        for (unsigned i = 0; i < size; i++)
            x86_write_linear(cpu, x86_simd_next(insn, at, i), 1, v >> (8 * i) & 0xFF);
        return;
    }
    x86_check_write_linear(cpu, at, size);
    x86_write_linear(cpu, at, size, v);
}

/* ------------------------------------------------------------------ lanes (66 0F 38) */

static uint32_t usat16(int32_t v) { return v < 0 ? 0 : v > 65535 ? 65535 : (uint32_t)v; }

X86_HANDLER(x86_exec_simd_sse41_lanes)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = source128(cpu, insn), *a = x86_xmm_reg(cpu, insn), r = *a;
    const union x86_xmm *m = &cpu->sse.xmm[0];
    switch (insn->opcode) {
    case 0x10: /* pblendvb: XMM0's byte sign bits pick the source */
        for (unsigned i = 0; i < 16; i++)
            if (m->b[i] & 0x80)
                r.b[i] = b.b[i];
        break;
    case 0x14: /* blendvps */
        for (unsigned i = 0; i < 4; i++)
            if (m->d[i] >> 31)
                r.d[i] = b.d[i];
        break;
    case 0x15: /* blendvpd */
        for (unsigned i = 0; i < 2; i++)
            if (m->q[i] >> 63)
                r.q[i] = b.q[i];
        break;
    case 0x28: /* pmuldq: signed low dwords of each quadword */
        for (unsigned i = 0; i < 2; i++)
            r.q[i] = (uint64_t)((int64_t)(int32_t)a->d[2 * i] * (int32_t)b.d[2 * i]);
        break;
    case 0x29: for (unsigned i = 0; i < 2; i++) r.q[i] = a->q[i] == b.q[i] ? ~0ull : 0; break;
    case 0x37: /* pcmpgtq (SSE4.2) */
        for (unsigned i = 0; i < 2; i++) r.q[i] = (int64_t)a->q[i] > (int64_t)b.q[i] ? ~0ull : 0;
        break;
    case 0x2B: /* packusdw: signed dwords to unsigned-saturated words */
        for (unsigned i = 0; i < 4; i++) {
            r.w[i] = (uint16_t)usat16((int32_t)a->d[i]);
            r.w[i + 4] = (uint16_t)usat16((int32_t)b.d[i]);
        }
        break;
    case 0x38: for (unsigned i = 0; i < 16; i++) r.b[i] = (int8_t)a->b[i] < (int8_t)b.b[i] ? a->b[i] : b.b[i]; break;
    case 0x39: for (unsigned i = 0; i < 4; i++) r.d[i] = (int32_t)a->d[i] < (int32_t)b.d[i] ? a->d[i] : b.d[i]; break;
    case 0x3A: for (unsigned i = 0; i < 8; i++) r.w[i] = a->w[i] < b.w[i] ? a->w[i] : b.w[i]; break;
    case 0x3B: for (unsigned i = 0; i < 4; i++) r.d[i] = a->d[i] < b.d[i] ? a->d[i] : b.d[i]; break;
    case 0x3C: for (unsigned i = 0; i < 16; i++) r.b[i] = (int8_t)a->b[i] > (int8_t)b.b[i] ? a->b[i] : b.b[i]; break;
    case 0x3D: for (unsigned i = 0; i < 4; i++) r.d[i] = (int32_t)a->d[i] > (int32_t)b.d[i] ? a->d[i] : b.d[i]; break;
    case 0x3E: for (unsigned i = 0; i < 8; i++) r.w[i] = a->w[i] > b.w[i] ? a->w[i] : b.w[i]; break;
    case 0x3F: for (unsigned i = 0; i < 4; i++) r.d[i] = a->d[i] > b.d[i] ? a->d[i] : b.d[i]; break;
    case 0x40: for (unsigned i = 0; i < 4; i++) r.d[i] = a->d[i] * b.d[i]; break; /* pmulld */
    case 0x41: { /* phminposuw: the least unsigned word and its (first) index */
        unsigned at = 0;
        for (unsigned i = 1; i < 8; i++)
            if (b.w[i] < b.w[at])
                at = i;
        r.q[0] = b.w[at] | (uint64_t)at << 16;
        r.q[1] = 0;
        break;
    }
    default:
        x86_raise_ud(cpu); /* simd.def names no other opcode for this handler */
    }
    *a = r;
}

/* 66 0F 38 20-25 pmovsx*, 30-35 pmovzx*: the low elements of xmm2/m widened; the memory
 * operand is only as large as what is read (bw/wd/dq m64, bd/wq m32, bq m16: SDM PMOVSX) */
X86_HANDLER(x86_exec_simd_pmovx)
{
    x86_simd_enter(cpu, insn);
    static const uint8_t from[6] = { 1, 1, 1, 2, 2, 4 }, to[6] = { 2, 4, 8, 4, 8, 8 };
    unsigned k = insn->opcode & 7;
    if (k > 5)
        x86_raise_ud(cpu);
    bool sign = insn->opcode < 0x30;
    unsigned n = 16 / to[k], size = n * from[k];
    union x86_xmm b = { .q = { 0, 0 } }, r;
    if (insn->mod == 3)
        b = *x86_xmm_rm(cpu, insn);
    else if (size == 2)
        b.w[0] = (uint16_t)x86_read_linear(cpu, x86_simd_linear(cpu, insn, 2, false, false), 2);
    else
        b = x86_simd_read(cpu, insn, size, false);
    for (unsigned i = 0; i < n; i++) {
        uint64_t v = 0;
        memcpy(&v, b.b + i * from[k], from[k]);
        if (sign)
            v = sext(v, from[k]);
        memcpy(r.b + i * to[k], &v, to[k]);
    }
    *x86_xmm_reg(cpu, insn) = r;
}

/* 66 0F 38 17 ptest: ZF = (xmm1 AND src) == 0, CF = (NOT xmm1 AND src) == 0; AF OF PF SF 0 */
X86_HANDLER(x86_exec_simd_ptest)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = source128(cpu, insn), *a = x86_xmm_reg(cpu, insn);
    uint32_t f = 0;
    if (!((a->q[0] & b.q[0]) | (a->q[1] & b.q[1])))
        f |= ZF;
    if (!((~a->q[0] & b.q[0]) | (~a->q[1] & b.q[1])))
        f |= CF;
    x86_set_arith_flags(cpu, f);
}

/* 66 0F 38 2A movntdqa xmm, m128 (aligned; the non-temporal hint has no effect here) */
X86_HANDLER(x86_exec_simd_movntdqa)
{
    x86_simd_enter(cpu, insn);
    *x86_xmm_reg(cpu, insn) = x86_simd_read(cpu, insn, 16, true);
}

/* ------------------------------------------------------------------ imm8 forms (66 0F 3A) */

/* 0C blendps, 0D blendpd, 0E pblendw: imm8 bits pick the source's elements */
X86_HANDLER(x86_exec_simd_blend)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = source128(cpu, insn), *a = x86_xmm_reg(cpu, insn);
    unsigned imm = insn->imm & 0xFF;
    if (insn->opcode == 0x0C) {
        for (unsigned i = 0; i < 4; i++)
            if (imm >> i & 1)
                a->d[i] = b.d[i];
    } else if (insn->opcode == 0x0D) {
        for (unsigned i = 0; i < 2; i++)
            if (imm >> i & 1)
                a->q[i] = b.q[i];
    } else {
        for (unsigned i = 0; i < 8; i++)
            if (imm >> i & 1)
                a->w[i] = b.w[i];
    }
}

/* 42 mpsadbw: eight sums of absolute differences of 4-byte groups, xmm1 from byte
 * 4 * imm8[2] + i, xmm2/m128 from byte 4 * imm8[1:0] */
X86_HANDLER(x86_exec_simd_mpsadbw)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = source128(cpu, insn), *a = x86_xmm_reg(cpu, insn), r;
    unsigned ao = (insn->imm >> 2 & 1) * 4, bo = (insn->imm & 3) * 4;
    for (unsigned i = 0; i < 8; i++) {
        unsigned s = 0;
        for (unsigned k = 0; k < 4; k++) {
            int d = a->b[ao + i + k] - b.b[bo + k];
            s += (unsigned)(d < 0 ? -d : d);
        }
        r.w[i] = (uint16_t)s;
    }
    *a = r;
}

/* 14 pextrb, 15 pextrw, 16 pextrd/q (REX.W), 17 extractps: r/m <- xmm element */
X86_HANDLER(x86_exec_simd_pextr)
{
    x86_simd_enter(cpu, insn);
    const union x86_xmm *x = x86_xmm_reg(cpu, insn);
    unsigned imm = insn->imm & 0xFF;
    switch (insn->opcode) {
    case 0x14: extract_store(cpu, insn, 1, x->b[imm & 15]); break;
    case 0x15: extract_store(cpu, insn, 2, x->w[imm & 7]); break;
    case 0x16:
        if (insn->opsize == 8)
            extract_store(cpu, insn, 8, x->q[imm & 1]);
        else
            extract_store(cpu, insn, 4, x->d[imm & 3]);
        break;
    default: extract_store(cpu, insn, 4, x->d[imm & 3]); break; /* extractps */
    }
}

/* 20 pinsrb (r32 low byte or m8), 22 pinsrd/q (r/m32, REX.W r/m64) */
X86_HANDLER(x86_exec_simd_pinsr)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm *x = x86_xmm_reg(cpu, insn);
    unsigned imm = insn->imm & 0xFF;
    if (insn->opcode == 0x20) {
        /* a register source is r32: its low byte, never AH..BH (SDM PINSRB "r32/m8") */
        x->b[imm & 15] = (uint8_t)(insn->mod == 3 ? cpu->gpr[insn->rm] : gp_read(cpu, insn, 1));
    } else if (insn->opsize == 8) {
        x->q[imm & 1] = gp_read(cpu, insn, 8);
    } else {
        x->d[imm & 3] = (uint32_t)gp_read(cpu, insn, 4);
    }
}

/* 21 insertps xmm1, xmm2/m32, imm8: the source dword (imm8[7:6] of a register, the m32) into
 * element imm8[5:4], then the elements of the zero mask imm8[3:0] cleared */
X86_HANDLER(x86_exec_simd_insertps)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm *x = x86_xmm_reg(cpu, insn);
    unsigned imm = insn->imm & 0xFF;
    uint32_t v = insn->mod == 3 ? x86_xmm_rm(cpu, insn)->d[imm >> 6]
                                : x86_simd_read(cpu, insn, 4, false).d[0];
    x->d[(imm >> 4) & 3] = v;
    for (unsigned i = 0; i < 4; i++)
        if (imm >> i & 1)
            x->d[i] = 0;
}

/* ------------------------------------------------------------------ string compares */

/* 60 pcmpestrm, 61 pcmpestri, 62 pcmpistrm, 63 pcmpistri (SDM Vol. 2 4.1): xmm1 (a, "Reg")
 * against xmm2/m128 (b, "Reg/Mem"), unaligned */
static int64_t explicit_length(uint64_t reg, bool wide, unsigned n)
{
    int64_t v = wide ? (int64_t)reg : (int64_t)(int32_t)reg;
    /* the absolute value, saturated to the element count (SDM 4.1.2); |INT64_MIN| saturates */
    if (v < 0)
        v = v == INT64_MIN ? (int64_t)n : -v;
    return v > (int64_t)n ? (int64_t)n : v;
}

X86_HANDLER(x86_exec_simd_pcmpstr)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = x86_simd_source(cpu, insn, 16, false), a = *x86_xmm_reg(cpu, insn);
    unsigned imm = insn->imm & 0xFF;
    bool words = imm & 1, sign = imm & 2;
    unsigned n = words ? 8 : 16, agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
    int64_t e[2][16]; /* the elements of a and b, as the signedness says */
    for (unsigned i = 0; i < n; i++) {
        if (words) {
            e[0][i] = sign ? (int16_t)a.w[i] : a.w[i];
            e[1][i] = sign ? (int16_t)b.w[i] : b.w[i];
        } else {
            e[0][i] = sign ? (int8_t)a.b[i] : a.b[i];
            e[1][i] = sign ? (int8_t)b.b[i] : b.b[i];
        }
    }
    int64_t la, lb;
    if (insn->opcode <= 0x61) { /* explicit lengths: EAX/EDX, RAX/RDX with REX.W */
        bool wide = insn->mode == X86_MODE_64 && (insn->opsize == 8);
        la = explicit_length(cpu->gpr[X86_EAX], wide, n);
        lb = explicit_length(cpu->gpr[X86_EDX], wide, n);
    } else { /* implicit: up to the first zero element */
        la = lb = n;
        for (unsigned i = n; i-- > 0;) {
            if (e[0][i] == 0) la = i;
            if (e[1][i] == 0) lb = i;
        }
    }
    uint32_t res1 = 0;
    for (unsigned i = 0; i < n; i++) {
        bool bv = (int64_t)i < lb, bit = false;
        switch (agg) {
        case 0: /* equal any: b[i] is one of a's valid elements */
            for (int64_t j = 0; bv && j < la; j++)
                bit |= e[0][j] == e[1][i];
            break;
        case 1: /* ranges: a[j] <= b[i] <= a[j+1] for an even j (both ends valid) */
            for (int64_t j = 0; bv && j + 1 < la; j += 2)
                bit |= e[0][j] <= e[1][i] && e[1][i] <= e[0][j + 1];
            break;
        case 2: { /* equal each: both invalid is true, one invalid false */
            bool av = (int64_t)i < la;
            bit = av && bv ? e[0][i] == e[1][i] : !av && !bv;
            break;
        }
        default: /* equal ordered: a (the substring) matches b from i; a's invalid elements
                  * match anything, b's invalid elements match nothing valid */
            bit = true;
            for (unsigned k = 0; i + k < n && bit; k++) {
                if ((int64_t)k >= la)
                    break;
                bit = (int64_t)(i + k) < lb && e[0][k] == e[1][i + k];
            }
            break;
        }
        res1 |= (uint32_t)bit << i;
    }
    uint32_t all = (1u << n) - 1, validb = lb >= 64 ? all : (uint32_t)((1ull << lb) - 1) & all;
    uint32_t res2 = pol == 1 ? ~res1 & all : pol == 3 ? res1 ^ validb : res1;
    uint32_t f = 0;
    if (res2)
        f |= CF;
    if (lb < (int64_t)n)
        f |= ZF;
    if (la < (int64_t)n)
        f |= SF;
    if (res2 & 1)
        f |= OF;
    if (insn->opcode & 1) { /* index into ECX (a 32-bit write: RCX zero-extended) */
        uint32_t idx = n;
        if (res2)
            idx = (imm & 0x40) ? 31u - (uint32_t)__builtin_clz(res2) : (uint32_t)__builtin_ctz(res2);
        cpu->gpr[X86_ECX] = idx;
    } else { /* mask into XMM0: bits, or elements of all ones (imm8[6]) */
        union x86_xmm m = { .q = { 0, 0 } };
        if (imm & 0x40) {
            for (unsigned i = 0; i < n; i++)
                if (res2 >> i & 1) {
                    if (words) m.w[i] = 0xFFFF;
                    else m.b[i] = 0xFF;
                }
        } else {
            m.d[0] = res2;
        }
        cpu->sse.xmm[0] = m;
    }
    x86_set_arith_flags(cpu, f);
}

/* ------------------------------------------------------------------ crc32, popcnt */

/* F2 0F 38 F0 crc32 r32/r64, r/m8; F1 r32/r64, r/m16/32/64 (66: 16, REX.W: 64): CRC-32C
 * (polynomial 11EDC6F41h, bit-reflected), the source's bytes in memory order. Not an SSE-state
 * instruction: only CPUID.1:ECX.SSE4_2 = 0 makes it #UD (SDM CRC32 "Exceptions": no CR0.EM/TS,
 * CR4.OSFXSR conditions). Flags unaffected. */
X86_HANDLER(x86_exec_crc32)
{
    if (!(cpu->simd & X86_SIMD_SSE42))
        x86_raise_ud(cpu);
    unsigned size = insn->opcode == 0xF0 ? 1 : insn->opsize;
    uint64_t v = gp_read(cpu, insn, size);
    uint32_t crc = (uint32_t)cpu->gpr[insn->reg];
    for (unsigned i = 0; i < size * 8; i++) {
        crc ^= (uint32_t)(v >> i) & 1;
        crc = (crc >> 1) ^ (crc & 1 ? 0x82F63B78u : 0);
    }
    /* the destination is r32 (zero-extended to 64 bits in 64-bit mode) or r64 (REX.W) */
    cpu->gpr[insn->reg] = crc;
}

/* F3 0F B8 popcnt r, r/m (16/32/64): ZF = source is 0; CF OF SF AF PF cleared (SDM POPCNT).
 * #UD only without CPUID.1:ECX.POPCNT (offered with SSE4.2). */
X86_HANDLER(x86_exec_popcnt)
{
    if (!(cpu->simd & X86_SIMD_SSE42))
        x86_raise_ud(cpu);
    unsigned size = insn->opsize;
    uint64_t v = gp_read(cpu, insn, size);
    rset(cpu, insn, insn->reg, size, (uint64_t)__builtin_popcountll(v));
    x86_set_arith_flags(cpu, v ? 0 : ZF);
}
