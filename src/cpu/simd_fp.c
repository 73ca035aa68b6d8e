/* The SIMD floating-point engine (simd_fp.h): host kernels, one per lane operation and
 * precision, and the SDM's exception rules (Vol. 1 11.5.1-11.5.3). */
#include "cpu/simd_fp.h"

#include <emmintrin.h>
#include <string.h>

/* ------------------------------------------------------------------ host kernels */

/* A kernel runs one host instruction on lane 0 (a the destination register's low quadword, b
 * the source's) under csr and returns the MXCSR the host has after it; the host's own MXCSR is
 * put back in the same asm statement, so no compiler-scheduled floating point sees the guest's.
 * out: the destination's low quadword (or the integer result, or the EFLAGS of a compare). */
typedef uint32_t (*fp_kernel)(uint64_t a, uint64_t b, uint32_t csr, uint64_t *out);

#define MXCSR_ENTER "stmxcsr %[saved]\n\tldmxcsr %[csr]\n\t"
#define MXCSR_LEAVE "\n\tstmxcsr %[after]\n\tldmxcsr %[saved]"

/* xmm, xmm forms: addss %xmm1, %xmm0 ... */
#define KERNEL_XX(name, text)                                                             \
    static uint32_t name(uint64_t a, uint64_t b, uint32_t csr, uint64_t *out)             \
    {                                                                                     \
        __m128i x = _mm_cvtsi64_si128((long long)a), y = _mm_cvtsi64_si128((long long)b); \
        uint32_t saved = 0, after;                                                        \
        __asm__ volatile(MXCSR_ENTER text " %[y], %[x]" MXCSR_LEAVE                       \
                         : [x] "+x"(x), [saved] "+m"(saved), [after] "=m"(after)          \
                         : [y] "x"(y), [csr] "m"(csr));                                   \
        *out = (uint64_t)_mm_cvtsi128_si64(x);                                            \
        return after;                                                                     \
    }
/* integer source: cvtsi2ss %eax, %xmm0 (a 32-bit register name by %k) */
#define KERNEL_RX(name, text, reg)                                               \
    static uint32_t name(uint64_t a, uint64_t b, uint32_t csr, uint64_t *out)    \
    {                                                                            \
        __m128i x = _mm_cvtsi64_si128((long long)a);                             \
        uint32_t saved = 0, after;                                               \
        __asm__ volatile(MXCSR_ENTER text " %" reg "[y], %[x]" MXCSR_LEAVE       \
                         : [x] "+x"(x), [saved] "+m"(saved), [after] "=m"(after) \
                         : [y] "r"(b), [csr] "m"(csr));                          \
        *out = (uint64_t)_mm_cvtsi128_si64(x);                                   \
        return after;                                                            \
    }
/* integer destination: cvtss2si %xmm0, %eax; a 32-bit result is zero-extended */
#define KERNEL_XR(name, text, reg)                                                       \
    static uint32_t name(uint64_t a, uint64_t b, uint32_t csr, uint64_t *out)            \
    {                                                                                    \
        (void)a;                                                                         \
        __m128i y = _mm_cvtsi64_si128((long long)b);                                     \
        uint64_t r = 0;                                                                  \
        uint32_t saved = 0, after;                                                       \
        __asm__ volatile(MXCSR_ENTER text " %[y], %" reg "[r]" MXCSR_LEAVE               \
                         : [r] "+r"(r), [saved] "+m"(saved), [after] "=m"(after)         \
                         : [y] "x"(y), [csr] "m"(csr));                                  \
        *out = r;                                                                        \
        return after;                                                                    \
    }
/* comiss/ucomiss: ZF, PF and CF as the host sets them */
#define KERNEL_COMI(name, text)                                                           \
    static uint32_t name(uint64_t a, uint64_t b, uint32_t csr, uint64_t *out)             \
    {                                                                                     \
        __m128i x = _mm_cvtsi64_si128((long long)a), y = _mm_cvtsi64_si128((long long)b); \
        uint8_t z, p, c;                                                                  \
        uint32_t saved = 0, after;                                                        \
        __asm__ volatile(MXCSR_ENTER text " %[y], %[x]\n\tsetz %[z]\n\tsetp %[p]\n\t"     \
                                          "setc %[c]" MXCSR_LEAVE                         \
                         : [z] "=q"(z), [p] "=q"(p), [c] "=q"(c), [saved] "+m"(saved),    \
                           [after] "=m"(after)                                            \
                         : [x] "x"(x), [y] "x"(y), [csr] "m"(csr)                         \
                         : "cc");                                                         \
        *out = (z ? X86_FLAG_ZF : 0) | (p ? X86_FLAG_PF : 0) | (c ? X86_FLAG_CF : 0);     \
        return after;                                                                     \
    }

#define PAIR(op, insn) KERNEL_XX(k_##op##ss, insn "ss") KERNEL_XX(k_##op##sd, insn "sd")
PAIR(add, "add") PAIR(sub, "sub") PAIR(mul, "mul") PAIR(div, "div") PAIR(min, "min")
PAIR(max, "max") PAIR(sqrt, "sqrt")
#define CMP(n) KERNEL_XX(k_cmp##n##ss, "cmpss $" #n ",") KERNEL_XX(k_cmp##n##sd, "cmpsd $" #n ",")
CMP(0) CMP(1) CMP(2) CMP(3) CMP(4) CMP(5) CMP(6) CMP(7)
KERNEL_COMI(k_comiss, "comiss") KERNEL_COMI(k_comisd, "comisd")
KERNEL_COMI(k_ucomiss, "ucomiss") KERNEL_COMI(k_ucomisd, "ucomisd")
/* roundss/roundsd (SSE4.1; the host has it: meson.build checks) */
#define ROUND(n) KERNEL_XX(k_round##n##ss, "roundss $" #n ",") KERNEL_XX(k_round##n##sd, "roundsd $" #n ",")
ROUND(0) ROUND(1) ROUND(2) ROUND(3) ROUND(4) ROUND(5) ROUND(6) ROUND(7)
ROUND(8) ROUND(9) ROUND(10) ROUND(11) ROUND(12) ROUND(13) ROUND(14) ROUND(15)
KERNEL_XX(k_cvtss2sd, "cvtss2sd") KERNEL_XX(k_cvtsd2ss, "cvtsd2ss")
KERNEL_RX(k_cvtsi2ssl, "cvtsi2ssl", "k") KERNEL_RX(k_cvtsi2sdl, "cvtsi2sdl", "k")
KERNEL_RX(k_cvtsi2ssq, "cvtsi2ssq", "q") KERNEL_RX(k_cvtsi2sdq, "cvtsi2sdq", "q")
KERNEL_XR(k_cvtss2sil, "cvtss2si", "k") KERNEL_XR(k_cvtsd2sil, "cvtsd2si", "k")
KERNEL_XR(k_cvtss2siq, "cvtss2si", "q") KERNEL_XR(k_cvtsd2siq, "cvtsd2si", "q")
KERNEL_XR(k_cvttss2sil, "cvttss2si", "k") KERNEL_XR(k_cvttsd2sil, "cvttsd2si", "k")
KERNEL_XR(k_cvttss2siq, "cvttss2si", "q") KERNEL_XR(k_cvttsd2siq, "cvttsd2si", "q")

/* Packed kernels (the whole register at once): for instructions whose exceptions are all masked,
 * where the packed instruction's result and flags are its lanes' (the flags ORed) */
typedef uint32_t (*fp_packed_kernel)(void *a, const void *b, uint32_t csr);
#define PACKED(name, text)                                                           \
    static uint32_t name(void *a, const void *b, uint32_t csr)                       \
    {                                                                                \
        __m128i x = _mm_loadu_si128(a), y = _mm_loadu_si128(b);                      \
        uint32_t saved = 0, after;                                                   \
        __asm__ volatile(MXCSR_ENTER text " %[y], %[x]" MXCSR_LEAVE                  \
                         : [x] "+x"(x), [saved] "+m"(saved), [after] "=m"(after)     \
                         : [y] "x"(y), [csr] "m"(csr));                              \
        _mm_storeu_si128(a, x);                                                      \
        return after;                                                                \
    }
#define PACKED_PAIR(op, insn) PACKED(p_##op##ps, insn "ps") PACKED(p_##op##pd, insn "pd")
PACKED_PAIR(add, "add") PACKED_PAIR(sub, "sub") PACKED_PAIR(mul, "mul") PACKED_PAIR(div, "div")
PACKED_PAIR(min, "min") PACKED_PAIR(max, "max") PACKED_PAIR(sqrt, "sqrt")
#define PCMP(n) PACKED(p_cmp##n##ps, "cmpps $" #n ",") PACKED(p_cmp##n##pd, "cmppd $" #n ",")
PCMP(0) PCMP(1) PCMP(2) PCMP(3) PCMP(4) PCMP(5) PCMP(6) PCMP(7)
static const fp_packed_kernel packed_kernels[X86_FP_COMI][2] = {
    [X86_FP_ADD] = { p_addps, p_addpd }, [X86_FP_SUB] = { p_subps, p_subpd },
    [X86_FP_MUL] = { p_mulps, p_mulpd }, [X86_FP_DIV] = { p_divps, p_divpd },
    [X86_FP_MIN] = { p_minps, p_minpd }, [X86_FP_MAX] = { p_maxps, p_maxpd },
    [X86_FP_SQRT] = { p_sqrtps, p_sqrtpd },
    [X86_FP_CMP + 0] = { p_cmp0ps, p_cmp0pd }, [X86_FP_CMP + 1] = { p_cmp1ps, p_cmp1pd },
    [X86_FP_CMP + 2] = { p_cmp2ps, p_cmp2pd }, [X86_FP_CMP + 3] = { p_cmp3ps, p_cmp3pd },
    [X86_FP_CMP + 4] = { p_cmp4ps, p_cmp4pd }, [X86_FP_CMP + 5] = { p_cmp5ps, p_cmp5pd },
    [X86_FP_CMP + 6] = { p_cmp6ps, p_cmp6pd }, [X86_FP_CMP + 7] = { p_cmp7ps, p_cmp7pd },
};

bool x86_fp_packed(struct x86_cpu *cpu, unsigned op, bool double_precision,
                   union x86_xmm *destination, const union x86_xmm *source)
{
    uint32_t mxcsr = cpu->sse.mxcsr;
    if ((mxcsr & 0x1F80u) != 0x1F80u || op >= X86_FP_COMI || !packed_kernels[op][0])
        return false;
    uint32_t csr = (mxcsr & (X86_MXCSR_DAZ | X86_MXCSR_FZ | 0x6000u)) | 0x1F80u;
    cpu->sse.mxcsr |=
        packed_kernels[op][double_precision](destination->b, source->b, csr) & X86_MXCSR_FLAGS;
    return true;
}

/* the x87 operation giving an operation's exact result (for the unmasked responses' PE);
 * X87_NONE: the operation cannot overflow or underflow, X87_LOAD: the source itself */
enum { X87_NONE, X87_ADD, X87_SUB, X87_MUL, X87_DIV, X87_SQRT, X87_LOAD };

static const struct fp_lane_op {
    fp_kernel kernel[2]; /* single, double */
    uint8_t x87;
    uint8_t result_double[2]; /* the result's precision (for the conversions it changes) */
} lane_ops[X86_FP_OP_COUNT] = {
#define OPS(op, name, x87op) [X86_FP_##op] = { { k_##name##ss, k_##name##sd }, x87op, { 0, 1 } }
    OPS(ADD, add, X87_ADD), OPS(SUB, sub, X87_SUB), OPS(MUL, mul, X87_MUL),
    OPS(DIV, div, X87_DIV), OPS(MIN, min, X87_NONE), OPS(MAX, max, X87_NONE),
    OPS(SQRT, sqrt, X87_SQRT),
    OPS(CMP + 0, cmp0, X87_NONE), OPS(CMP + 1, cmp1, X87_NONE), OPS(CMP + 2, cmp2, X87_NONE),
    OPS(CMP + 3, cmp3, X87_NONE), OPS(CMP + 4, cmp4, X87_NONE), OPS(CMP + 5, cmp5, X87_NONE),
    OPS(CMP + 6, cmp6, X87_NONE), OPS(CMP + 7, cmp7, X87_NONE),
    OPS(COMI, comi, X87_NONE), OPS(UCOMI, ucomi, X87_NONE),
#define ROUNDS(n) OPS(ROUND + n, round##n, X87_NONE)
    ROUNDS(0), ROUNDS(1), ROUNDS(2), ROUNDS(3), ROUNDS(4), ROUNDS(5), ROUNDS(6), ROUNDS(7),
    ROUNDS(8), ROUNDS(9), ROUNDS(10), ROUNDS(11), ROUNDS(12), ROUNDS(13), ROUNDS(14),
    ROUNDS(15),
#undef ROUNDS
#undef OPS
    [X86_FP_CVT_F2F] = { { k_cvtss2sd, k_cvtsd2ss }, X87_LOAD, { 1, 0 } },
    [X86_FP_CVT_I32] = { { k_cvtsi2ssl, k_cvtsi2sdl }, X87_NONE, { 0, 1 } },
    [X86_FP_CVT_I64] = { { k_cvtsi2ssq, k_cvtsi2sdq }, X87_NONE, { 0, 1 } },
    [X86_FP_CVT_2I32] = { { k_cvtss2sil, k_cvtsd2sil }, X87_NONE, { 0, 1 } },
    [X86_FP_CVT_2I64] = { { k_cvtss2siq, k_cvtsd2siq }, X87_NONE, { 0, 1 } },
    [X86_FP_CVTT_2I32] = { { k_cvttss2sil, k_cvttsd2sil }, X87_NONE, { 0, 1 } },
    [X86_FP_CVTT_2I64] = { { k_cvttss2siq, k_cvttsd2siq }, X87_NONE, { 0, 1 } },
};

/* ------------------------------------------------------------------ the unmasked responses */

/* An operand as a double, with DAZ applied as the operation applied it (Vol. 1 10.2.3.4) */
static double operand(uint64_t bits, bool double_precision, uint32_t mxcsr)
{
    double v;
    if (double_precision) {
        memcpy(&v, &bits, 8);
    } else {
        float f;
        uint32_t s = (uint32_t)bits;
        memcpy(&f, &s, 4);
        v = f; /* exact */
    }
    if ((mxcsr & X86_MXCSR_DAZ) && v != 0 && __builtin_fabs(v) < (double_precision
                                                                      ? 0x1p-1022 : 0x1p-126))
        v = __builtin_copysign(0.0, v);
    return v;
}

/* Is the exact result of the operation inexact in the destination's precision with an
 * unbounded exponent (the PE of an unmasked overflow or underflow response, Vol. 1 11.5.2.4,
 * 11.5.2.5)? The x87 computes it in 64 significant bits with a 15-bit exponent: a result that
 * fits the destination's 24 or 53 bits fits there exactly (no x87 PE), so it is exact there iff
 * the extended significand has nothing below the destination's last bit. */
static bool inexact_unbounded(unsigned x87, double a, double b, bool result_double)
{
    uint16_t saved_cw = 0, cw = 0x037F, sw; /* all masked, 64-bit precision, to nearest */
    long double r;
    /* one x87 instruction on a (st0) and b (the m64 operand), or on b alone (fsqrt), between
     * the host's control word and status put back */
#define X87(text)                                                                         \
    __asm__ volatile("fnstcw %[s]\n\tfldcw %[cw]\n\tfnclex\n\t" text "\n\tfstpt %[r]\n\t"     \
                     "fnstsw %[sw]\n\tfnclex\n\tfldcw %[s]"                                  \
                     : [r] "=m"(r), [sw] "=m"(sw), [s] "+m"(saved_cw)                         \
                     : [a] "m"(a), [b] "m"(b), [cw] "m"(cw))
    switch (x87) {
    case X87_ADD: X87("fldl %[a]\n\tfaddl %[b]"); break;
    case X87_SUB: X87("fldl %[a]\n\tfsubl %[b]"); break;
    case X87_MUL: X87("fldl %[a]\n\tfmull %[b]"); break;
    case X87_DIV: X87("fldl %[a]\n\tfdivl %[b]"); break;
    case X87_SQRT: X87("fldl %[b]\n\tfsqrt"); break;
    default: r = b; sw = 0; break; /* a conversion: the source, exactly */
    }
#undef X87
    if (sw & 0x20)
        return true;
    uint64_t significand;
    memcpy(&significand, &r, 8);
    unsigned bits = result_double ? 53 : 24;
    return (significand << bits) != 0;
}

X86_NORETURN void x86_fp_raise(struct x86_cpu *cpu, uint32_t flags)
{
    cpu->sse.mxcsr |= flags;
    if (!(cpu->cr4 & X86_CR4_OSXMMEXCPT))
        x86_raise_ud(cpu);
    x86_raise(cpu, X86_VEC_XM, 0);
}

#define PRE_FLAGS (X86_MXCSR_IE | X86_MXCSR_DE | X86_MXCSR_ZE)
#define POST_FLAGS (X86_MXCSR_OE | X86_MXCSR_UE | X86_MXCSR_PE)

uint32_t x86_fp_lanes_ops(struct x86_cpu *cpu, const uint8_t *ops, bool double_precision,
                          unsigned n, const uint64_t *a, const uint64_t *b, uint64_t *out)
{
    uint32_t mxcsr = cpu->sse.mxcsr;
    /* the guest's rounding control, DAZ and FZ; every exception masked, no flags */
    uint32_t csr = (mxcsr & (X86_MXCSR_DAZ | X86_MXCSR_FZ | 0x6000u)) | 0x1F80u;
    uint32_t lane_flags[4], pre = 0;
    for (unsigned i = 0; i < n; i++) {
        fp_kernel k = lane_ops[ops[i]].kernel[double_precision];
        lane_flags[i] = k(a[i], b[i], csr, &out[i]) & X86_MXCSR_FLAGS;
        pre |= lane_flags[i] & PRE_FLAGS;
    }
    /* every masked: the masked responses are the host's (the common case) */
    uint32_t masks = (mxcsr >> X86_MXCSR_MASKS_SHIFT) & X86_MXCSR_FLAGS;
    if (masks == X86_MXCSR_FLAGS) {
        uint32_t all = pre;
        for (unsigned i = 0; i < n; i++)
            all |= lane_flags[i];
        return all;
    }
    /* an unmasked pre-computation condition in any lane stops the instruction before any
     * computation: only the pre-computation flags are set (Vol. 1 11.5.3) */
    if (pre & ~masks)
        x86_fp_raise(cpu, pre);
    uint32_t post = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct fp_lane_op *o = &lane_ops[ops[i]];
        fp_kernel k = o->kernel[double_precision];
        uint32_t f = lane_flags[i] & POST_FLAGS;
        bool overflow = (f & X86_MXCSR_OE) && !(masks & X86_MXCSR_OE);
        bool underflow = false;
        if (!overflow && !(masks & X86_MXCSR_UE) && o->x87 != X87_NONE &&
            !(lane_flags[i] & (X86_MXCSR_IE | X86_MXCSR_ZE))) {
            /* tininess, exact results included: a flush-to-zero run reports UE for each */
            uint64_t ignored;
            underflow = (f & X86_MXCSR_UE) ||
                        (k(a[i], b[i], csr | X86_MXCSR_FZ, &ignored) & X86_MXCSR_UE);
        }
        if (overflow || underflow) {
            /* the unmasked response: OE or UE, and PE if the result rounded to the
             * destination's precision with an unbounded exponent is inexact */
            bool rd = o->result_double[double_precision];
            f = (overflow ? X86_MXCSR_OE : X86_MXCSR_UE) |
                (inexact_unbounded(o->x87, operand(a[i], double_precision, mxcsr),
                                   operand(b[i], double_precision, mxcsr), rd)
                     ? X86_MXCSR_PE : 0);
        }
        post |= f;
    }
    if (post & ~masks)
        x86_fp_raise(cpu, pre | post);
    return pre | post;
}

uint32_t x86_fp_lanes(struct x86_cpu *cpu, unsigned op, bool double_precision, unsigned n,
                      const uint64_t *a, const uint64_t *b, uint64_t *out)
{
    const uint8_t ops[4] = { (uint8_t)op, (uint8_t)op, (uint8_t)op, (uint8_t)op };
    return x86_fp_lanes_ops(cpu, ops, double_precision, n, a, b, out);
}
