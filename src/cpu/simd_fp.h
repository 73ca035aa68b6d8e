/* The SIMD floating-point engine: every SSE floating-point operation, one lane at a time, on
 * the host's own SSE unit under the guest's MXCSR (rounding control, DAZ, FTZ), so results and
 * flags are the hardware's bit for bit; and the SDM's exception rules on top (Vol. 1 11.5):
 * the pre-computation conditions (invalid, denormal operand, divide-by-zero) of every lane
 * first, an unmasked one stopping the instruction before any result; then the post-computation
 * ones (overflow, underflow, inexact) with the unmasked responses' flags; #XM, or #UD when
 * CR4.OSXMMEXCPT = 0 (Vol. 3 6.15, interrupt 19), and nothing written to the destination.
 *
 * The host runs every operation with all exceptions masked (the library takes no signals); the
 * unmasked responses are derived from it: overflow from the masked OE flag, tininess from a
 * flush-to-zero run (which reports UE for every tiny result, exact or not, as an unmasked
 * underflow does), and the inexact flag of an unmasked overflow or underflow (the result rounded
 * to the destination's precision with an unbounded exponent) from the exact x87 extended result.
 * The host must be x86-64 (meson.build checks). */
#ifndef X86IRQ_CPU_SIMD_FP_H
#define X86IRQ_CPU_SIMD_FP_H

#include <stdint.h>

#include "cpu/cpu.h"

/* The lane operations (each with a single- and a double-precision kernel: simd_fp.c). A lane's
 * a is the destination's element (what the scalar form keeps above lane 0), b the source's. */
enum x86_fp_op {
    X86_FP_ADD, X86_FP_SUB, X86_FP_MUL, X86_FP_DIV, X86_FP_MIN, X86_FP_MAX, X86_FP_SQRT,
    X86_FP_CMP,                   /* 8 predicates: X86_FP_CMP + imm8[2:0]: all ones or zero */
    X86_FP_COMI = X86_FP_CMP + 8, /* comis: the result is X86_FLAG_ZF/PF/CF */
    X86_FP_UCOMI,
    X86_FP_ROUND,                 /* 16 forms: X86_FP_ROUND + imm8[3:0] (roundss/sd) */
    X86_FP_CVT_F2F = X86_FP_ROUND + 16, /* single: ss2sd; double: sd2ss */
    X86_FP_CVT_I32,               /* b a signed 32-bit integer: cvtsi2ss/sd */
    X86_FP_CVT_I64,               /* b a signed 64-bit integer */
    X86_FP_CVT_2I32,              /* to a 32-bit integer, rounded by MXCSR.RC: cvtss2si... */
    X86_FP_CVT_2I64,
    X86_FP_CVTT_2I32,             /* truncated: cvttss2si... */
    X86_FP_CVTT_2I64,
    X86_FP_OP_COUNT
};

/* MXCSR (Vol. 1 10.2.3) */
#define X86_MXCSR_IE 0x01u
#define X86_MXCSR_DE 0x02u
#define X86_MXCSR_ZE 0x04u
#define X86_MXCSR_OE 0x08u
#define X86_MXCSR_UE 0x10u
#define X86_MXCSR_PE 0x20u
#define X86_MXCSR_FLAGS 0x3Fu
#define X86_MXCSR_DAZ 0x40u
#define X86_MXCSR_MASKS_SHIFT 7
#define X86_MXCSR_FZ 0x8000u

/* Run op on n lanes (a[i], b[i]) of single (double = false) or double precision. Returns the
 * MXCSR flags the instruction sets (the caller ORs them in with x86_fp_commit once it has
 * written the results); on an unmasked exception it sets them itself and raises #XM or #UD,
 * out[] unused. */
uint32_t x86_fp_lanes(struct x86_cpu *cpu, unsigned op, bool double_precision, unsigned n,
                      const uint64_t *a, const uint64_t *b, uint64_t *out);
/* The same with an operation per lane (addsubps: subtract and add in alternate lanes) */
uint32_t x86_fp_lanes_ops(struct x86_cpu *cpu, const uint8_t *ops, bool double_precision,
                          unsigned n, const uint64_t *a, const uint64_t *b, uint64_t *out);

/* A packed instruction in one host instruction when MXCSR masks every exception (the common
 * case; the lanes' results and flags are the same): false if it does not, or op has no packed
 * kernel (the caller goes lane by lane) */
bool x86_fp_packed(struct x86_cpu *cpu, unsigned op, bool double_precision,
                   union x86_xmm *destination, const union x86_xmm *source);

/* Stop the instruction for an unmasked SIMD floating-point exception after setting flags:
 * #XM with CR4.OSXMMEXCPT, #UD without (SDM Vol. 3 6.15) */
X86_NORETURN void x86_fp_raise(struct x86_cpu *cpu, uint32_t flags);

/* The flags of an instruction that completed */
static inline void x86_fp_commit(struct x86_cpu *cpu, uint32_t flags)
{
    cpu->sse.mxcsr |= flags;
}

/* The flags of x86_fp_lanes that stop an instruction: those whose mask bit is clear */
static inline uint32_t x86_fp_unmasked(const struct x86_cpu *cpu, uint32_t flags)
{
    return flags & ~(cpu->sse.mxcsr >> X86_MXCSR_MASKS_SHIFT) & X86_MXCSR_FLAGS;
}

#endif
