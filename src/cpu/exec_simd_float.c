/* SSE floating point (simd.def's float and conversion sections): arithmetic, min/max, sqrt,
 * compares, comis, the reciprocal approximations, conversions, SSE3's horizontal and
 * alternating forms, SSE4.1's rounds and dot products. Every lane goes through the engine
 * (simd_fp.c: the host's SSE under the guest's MXCSR, the SDM's exception rules); a handler
 * gathers the lanes, and writes the destination only after the engine returned (an unmasked
 * exception leaves it as it was). The packed forms' m128 sources are aligned (#GP(0)); the
 * scalar ones read 4 or 8 bytes, unaligned. */
#include "cpu/simd.h"
#include "cpu/simd_fp.h"

#include <math.h>
#include <string.h>

enum fp_form { FORM_NONE, FORM_PS, FORM_PD, FORM_SS, FORM_SD };

/* simd.def's SIMD_FP rows, by mnemonic */
static const struct fp_row {
    uint8_t op;   /* enum x86_fp_op */
    uint8_t form; /* enum fp_form */
} fp_rows[X86_MN_COUNT] = {
#define SIMD_FP(name, op, form) [X86_MN_##name] = { X86_FP_##op, FORM_##form },
#include "cpu/simd.def"
};

static bool form_double(unsigned form) { return form == FORM_PD || form == FORM_SD; }
static bool form_packed(unsigned form) { return form == FORM_PS || form == FORM_PD; }

/* lane i of v as the engine takes it: 32-bit lanes for single precision */
static uint64_t lane(const union x86_xmm *v, bool dbl, unsigned i)
{
    return dbl ? v->q[i] : v->d[i];
}
static void set_lane(union x86_xmm *v, bool dbl, unsigned i, uint64_t bits)
{
    if (dbl)
        v->q[i] = bits;
    else
        v->d[i] = (uint32_t)bits;
}

/* The source operand of a form: the register, m128 (aligned) or m32/m64 */
static union x86_xmm form_source(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned form)
{
    unsigned size = form_packed(form) ? 16 : form == FORM_SD ? 8 : 4;
    return x86_simd_source(cpu, insn, size, size == 16);
}

/* add, sub, mul, div, min, max, sqrt, cmp: lane by lane, the scalar forms on lane 0 */
X86_HANDLER(x86_exec_simd_fp)
{
    x86_simd_enter(cpu, insn);
    const struct fp_row *row = &fp_rows[insn->mnemonic];
    bool dbl = form_double(row->form);
    unsigned n = form_packed(row->form) ? (dbl ? 2 : 4) : 1;
    unsigned op = row->op == X86_FP_CMP ? X86_FP_CMP + (unsigned)(insn->imm & 7) : row->op;
    union x86_xmm b = form_source(cpu, insn, row->form), *d = x86_xmm_reg(cpu, insn);
    if (n > 1 && x86_fp_packed(cpu, op, dbl, d, &b))
        return;
    uint64_t av[4], bv[4], out[4];
    for (unsigned i = 0; i < n; i++) {
        av[i] = lane(d, dbl, i);
        bv[i] = lane(&b, dbl, i);
    }
    uint32_t flags = x86_fp_lanes(cpu, op, dbl, n, av, bv, out);
    for (unsigned i = 0; i < n; i++)
        set_lane(d, dbl, i, out[i]);
    x86_fp_commit(cpu, flags);
}

/* comiss/ucomiss/comisd/ucomisd: ZF PF CF from the compare, OF SF AF cleared (SDM Vol. 2
 * COMISS); comis signals invalid for any NaN, ucomis for a signalling one (the host's rule) */
X86_HANDLER(x86_exec_simd_comi)
{
    x86_simd_enter(cpu, insn);
    bool dbl = insn->mnemonic == X86_MN_COMISD || insn->mnemonic == X86_MN_UCOMISD;
    bool quiet = insn->mnemonic == X86_MN_UCOMISS || insn->mnemonic == X86_MN_UCOMISD;
    union x86_xmm b = x86_simd_source(cpu, insn, dbl ? 8 : 4, false);
    uint64_t av = lane(x86_xmm_reg(cpu, insn), dbl, 0), bv = lane(&b, dbl, 0), eflags;
    uint32_t flags =
        x86_fp_lanes(cpu, quiet ? X86_FP_UCOMI : X86_FP_COMI, dbl, 1, &av, &bv, &eflags);
    x86_set_eflags(cpu, (uint32_t)eflags, X86_FLAGS_ARITH);
    x86_fp_commit(cpu, flags);
}

/* ------------------------------------------------------------------ reciprocal approximations */

/* rcpps/rsqrtps: the SDM bounds the relative error by 1.5 * 2^-12 and leaves the bits to the
 * implementation (Intel's and AMD's tables differ). Ours is the correctly rounded single of
 * 1/x or 1/sqrt(x) (well within the bound), the same on every host, so runs stay
 * deterministic; the special cases are the SDM's: a zero or denormal source gives an infinity
 * of its sign, a tiny result is flushed to a zero, NaNs are quieted, a negative source of
 * rsqrt gives the default NaN, no flags and no exceptions, MXCSR.RC ignored. */
static uint32_t approximate(uint32_t x, bool rsqrt)
{
    uint32_t sign = x & 0x80000000u, magnitude = x & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u)
        return x | 0x00400000u; /* NaN: quieted */
    if (magnitude < 0x00800000u)
        return sign | 0x7F800000u; /* zero or denormal: infinity */
    if (rsqrt && sign)
        return 0xFFC00000u; /* the default NaN */
    if (magnitude == 0x7F800000u)
        return sign; /* 1/inf */
    float f;
    memcpy(&f, &x, 4);
    double r = rsqrt ? 1.0 / sqrt((double)f) : 1.0 / (double)f;
    float rounded = (float)r; /* the C default: round to nearest */
    uint32_t bits;
    memcpy(&bits, &rounded, 4);
    if ((bits & 0x7FFFFFFFu) < 0x00800000u)
        return bits & 0x80000000u; /* tiny: flushed */
    return bits;
}

X86_HANDLER(x86_exec_simd_rcp)
{
    x86_simd_enter(cpu, insn);
    bool packed = insn->mnemonic == X86_MN_RCPPS || insn->mnemonic == X86_MN_RSQRTPS;
    bool rsqrt = insn->mnemonic == X86_MN_RSQRTPS || insn->mnemonic == X86_MN_RSQRTSS;
    union x86_xmm b = x86_simd_source(cpu, insn, packed ? 16 : 4, packed);
    union x86_xmm *d = x86_xmm_reg(cpu, insn);
    for (unsigned i = 0; i < (packed ? 4u : 1u); i++)
        d->d[i] = approximate(b.d[i], rsqrt);
}

/* ------------------------------------------------------------------ conversions */

/* The xmm-to-xmm conversions. Float to float: cvtps2pd reads two singles (m64), cvtpd2ps
 * writes two and clears the upper half; cvtss2sd/cvtsd2ss convert lane 0 and keep the rest.
 * Integer lanes: cvtdq2ps and cvtps2dq/cvttps2dq four lanes; cvtdq2pd reads two integers
 * (m64); cvtpd2dq/cvttpd2dq write two and clear the upper half. */
X86_HANDLER(x86_exec_simd_cvt)
{
    x86_simd_enter(cpu, insn);
    const struct fp_row *row = &fp_rows[insn->mnemonic];
    unsigned op = row->op, form = row->form;
    /* the engine's precision is the source's for float sources, the result's for
     * integer-to-float ones */
    bool widening = (op == X86_FP_CVT_F2F && form == FORM_PS) ||
                    (op == X86_FP_CVT_I32 && form == FORM_PD);
    bool dbl = op == X86_FP_CVT_I32 ? form == FORM_PD : form == FORM_PD || form == FORM_SD;
    unsigned n = form == FORM_SS || form == FORM_SD ? 1 : dbl || widening ? 2 : 4;
    unsigned size = form == FORM_SS ? 4 : form == FORM_SD || widening ? 8 : 16;
    union x86_xmm b = x86_simd_source(cpu, insn, size, size == 16), *d = x86_xmm_reg(cpu, insn);
    /* source lanes: 32-bit for singles and integers, 64-bit for doubles */
    bool source64 = (op == X86_FP_CVT_F2F && (form == FORM_PD || form == FORM_SD)) ||
                    ((op == X86_FP_CVT_2I32 || op == X86_FP_CVTT_2I32) && form == FORM_PD);
    uint64_t av[4], bv[4], out[4];
    for (unsigned i = 0; i < n; i++) {
        av[i] = 0; /* the kernels' destination: the lanes written below are the results alone */
        bv[i] = source64 ? b.q[i] : (op == X86_FP_CVT_I32 ? (uint64_t)(int64_t)(int32_t)b.d[i]
                                                            : b.d[i]);
    }
    uint32_t flags = x86_fp_lanes(cpu, op, dbl, n, av, bv, out);
    /* results: doubles in 64-bit lanes, singles and integers in 32-bit ones */
    bool result64 = (op == X86_FP_CVT_F2F && (form == FORM_PS || form == FORM_SS)) ||
                    (op == X86_FP_CVT_I32 && form == FORM_PD);
    if (form == FORM_SS || form == FORM_SD) {
        if (result64)
            d->q[0] = out[0];
        else
            d->d[0] = (uint32_t)out[0];
    } else {
        union x86_xmm r = { .q = { 0, 0 } };
        for (unsigned i = 0; i < n; i++) {
            if (result64)
                r.q[i] = out[i];
            else
                r.d[i] = (uint32_t)out[i];
        }
        *d = r;
    }
    x86_fp_commit(cpu, flags);
}

/* With a general register: cvtsi2ss/sd xmm, r/m32|64 (lane 0, the rest kept); cvt(t)ss2si and
 * cvt(t)sd2si r32|64, xmm/m32|64 (an out-of-range or NaN source gives the integer indefinite,
 * 0x80000000 or 0x8000000000000000, with IE). REX.W makes the integer 64-bit (64-bit mode). */
X86_HANDLER(x86_exec_simd_cvt_gpr)
{
    x86_simd_enter(cpu, insn);
    bool wide = (insn->prefixes & X86_PFX_REX_W) && insn->mode == X86_MODE_64;
    unsigned m = insn->mnemonic;
    bool dbl = m == X86_MN_CVTSI2SD || m == X86_MN_CVTTSD2SI || m == X86_MN_CVTSD2SI;
    uint64_t a = 0, b, out;
    if (m == X86_MN_CVTSI2SS || m == X86_MN_CVTSI2SD) {
        union x86_xmm *d = x86_xmm_reg(cpu, insn);
        if (insn->mod == 3)
            b = cpu->gpr[insn->rm];
        else
            b = x86_simd_read(cpu, insn, wide ? 8 : 4, false).q[0];
        if (!wide)
            b = (uint64_t)(int64_t)(int32_t)b;
        a = dbl ? d->q[0] : d->d[0];
        uint32_t flags =
            x86_fp_lanes(cpu, wide ? X86_FP_CVT_I64 : X86_FP_CVT_I32, dbl, 1, &a, &b, &out);
        set_lane(d, dbl, 0, out);
        x86_fp_commit(cpu, flags);
        return;
    }
    bool truncate = m == X86_MN_CVTTSS2SI || m == X86_MN_CVTTSD2SI;
    union x86_xmm s = x86_simd_source(cpu, insn, dbl ? 8 : 4, false);
    b = lane(&s, dbl, 0);
    unsigned op = truncate ? (wide ? X86_FP_CVTT_2I64 : X86_FP_CVTT_2I32)
                           : (wide ? X86_FP_CVT_2I64 : X86_FP_CVT_2I32);
    uint32_t flags = x86_fp_lanes(cpu, op, dbl, 1, &a, &b, &out);
    cpu->gpr[insn->reg] = wide ? out : (uint32_t)out; /* 32-bit writes zero-extend */
    x86_fp_commit(cpu, flags);
}

/* ------------------------------------------------------------------ SSE3 */

/* addsubps/pd: subtract in the even lanes, add in the odd ones; haddps/pd, hsubps/pd: the
 * adjacent pairs of the destination, then of the source (SDM Vol. 2 HADDPS) */
X86_HANDLER(x86_exec_simd_fp_pairs)
{
    x86_simd_enter(cpu, insn);
    unsigned m = insn->mnemonic;
    bool dbl = m == X86_MN_ADDSUBPD || m == X86_MN_HADDPD || m == X86_MN_HSUBPD;
    unsigned n = dbl ? 2 : 4;
    union x86_xmm b = x86_simd_source(cpu, insn, 16, true), *d = x86_xmm_reg(cpu, insn);
    uint64_t av[4], bv[4], out[4];
    uint8_t ops[4];
    for (unsigned i = 0; i < n; i++) {
        if (m == X86_MN_ADDSUBPS || m == X86_MN_ADDSUBPD) {
            av[i] = lane(d, dbl, i);
            bv[i] = lane(&b, dbl, i);
            ops[i] = i % 2 ? X86_FP_ADD : X86_FP_SUB;
        } else {
            const union x86_xmm *from = i < n / 2 ? d : &b;
            unsigned pair = 2 * (i % (n / 2));
            av[i] = lane(from, dbl, pair);
            bv[i] = lane(from, dbl, pair + 1);
            ops[i] = m == X86_MN_HADDPS || m == X86_MN_HADDPD ? X86_FP_ADD : X86_FP_SUB;
        }
    }
    uint32_t flags = x86_fp_lanes_ops(cpu, ops, dbl, n, av, bv, out);
    for (unsigned i = 0; i < n; i++)
        set_lane(d, dbl, i, out[i]);
    x86_fp_commit(cpu, flags);
}

/* ------------------------------------------------------------------ SSE4.1 */

/* roundps/pd/ss/sd xmm, xmm/m, imm8: the scalar forms round the source's lane 0 into the
 * destination's, keeping the rest of the destination */
X86_HANDLER(x86_exec_simd_fp_round)
{
    x86_simd_enter(cpu, insn);
    const struct fp_row *row = &fp_rows[insn->mnemonic];
    bool dbl = form_double(row->form);
    unsigned n = form_packed(row->form) ? (dbl ? 2 : 4) : 1;
    union x86_xmm b = form_source(cpu, insn, row->form), *d = x86_xmm_reg(cpu, insn);
    uint64_t av[4], bv[4], out[4];
    for (unsigned i = 0; i < n; i++) {
        av[i] = lane(d, dbl, i);
        bv[i] = lane(&b, dbl, i);
    }
    uint32_t flags =
        x86_fp_lanes(cpu, X86_FP_ROUND + (unsigned)(insn->imm & 15), dbl, n, av, bv, out);
    for (unsigned i = 0; i < n; i++)
        set_lane(d, dbl, i, out[i]);
    x86_fp_commit(cpu, flags);
}

/* dpps/dppd xmm, xmm/m128, imm8: the products of the lanes imm8[7:4] selects (the others +0.0),
 * summed, the sum into the lanes imm8[3:0] selects (+0.0 in the others). The SDM: "exceptions
 * are determined separately for each add and multiply operation, in the order of their
 * execution": the multiplies, then each level of adds, each stage's flags set before the next
 * runs, the destination written at the end. The sums are formed per destination lane as Intel
 * processors form them (measured: the SDM's pseudocode sums once and broadcasts, which gives the
 * same value but can pick another NaN when two lanes are NaNs): lane i adds the pairs
 * t[i] = p[i^1] + p[i], then t[i] + t[i^2] (dppd: p[i] + p[i^1]). */
X86_HANDLER(x86_exec_simd_fp_dot)
{
    x86_simd_enter(cpu, insn);
    bool dbl = insn->mnemonic == X86_MN_DPPD;
    unsigned n = dbl ? 2 : 4, imm = (unsigned)insn->imm;
    union x86_xmm b = x86_simd_source(cpu, insn, 16, true), *d = x86_xmm_reg(cpu, insn);
    uint64_t av[4], bv[4], products[4] = { 0, 0, 0, 0 }, out[4];
    unsigned selected = 0, which[4];
    for (unsigned i = 0; i < n; i++)
        if (imm & (0x10u << i)) {
            av[selected] = lane(d, dbl, i);
            bv[selected] = lane(&b, dbl, i);
            which[selected++] = i;
        }
    if (selected)
        x86_fp_commit(cpu, x86_fp_lanes(cpu, X86_FP_MUL, dbl, selected, av, bv, out));
    for (unsigned k = 0; k < selected; k++)
        products[which[k]] = out[k];
    uint64_t left[4], pairs[4], sums[4];
    for (unsigned i = 0; i < n; i++)
        left[i] = products[i ^ 1];
    x86_fp_commit(cpu, dbl ? x86_fp_lanes(cpu, X86_FP_ADD, true, n, products, left, pairs)
                           : x86_fp_lanes(cpu, X86_FP_ADD, false, n, left, products, pairs));
    if (dbl) {
        memcpy(sums, pairs, sizeof(sums));
    } else {
        for (unsigned i = 0; i < n; i++)
            left[i] = pairs[i ^ 2];
        x86_fp_commit(cpu, x86_fp_lanes(cpu, X86_FP_ADD, false, n, pairs, left, sums));
    }
    union x86_xmm r = { .q = { 0, 0 } };
    for (unsigned i = 0; i < n; i++)
        if (imm & (1u << i))
            set_lane(&r, dbl, i, sums[i]);
    *d = r;
}
