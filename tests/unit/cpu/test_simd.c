/* Unit tests of the SSE family (src/cpu/simd.def, simd.h, exec_simd_*.c, the SSE part of
 * FXSAVE/FXRSTOR): the entry conditions (#UD by CPUID, CR0.EM and CR4.OSFXSR; #NM by CR0.TS),
 * the moves with their alignment #GP and precise stores, MXCSR, and every integer operation
 * compared with the host's own SSE2 (the host is x86-64: <emmintrin.h>) on random operands,
 * in 32-bit and in 64-bit mode (XMM8-15, RIP-relative operands). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <emmintrin.h>

#include "simd_fixture.h"

static int setup(void **state)
{
    simd_fixture_create(state, X86_SIMD_SSE | X86_SIMD_SSE2);
    return 0;
}

/* 64-bit mode (simd_fixture_long64: 2-4 MiB not present, for the precise stores) */
static int setup64(void **state)
{
    setup(state);
    simd_fixture_long64(*state);
    return 0;
}

/* ------------------------------------------------------------------ entry conditions */

static void test_entry_conditions(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xEF, 0xC0), -1);     /* pxor xmm0, xmm0 */
    cpu->simd = X86_SIMD_SSE;                                   /* SSE without SSE2 */
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xEF, 0xC0), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0x0F, 0x57, 0xC0), -1);           /* xorps: SSE */
    cpu->simd = 0;
    assert_int_equal(EXEC(f, 0x0F, 0x57, 0xC0), X86_VEC_UD);
    cpu->simd = X86_SIMD_SSE | X86_SIMD_SSE2;
    cpu->cr4 &= ~X86_CR4_OSFXSR;
    assert_int_equal(EXEC(f, 0x0F, 0x57, 0xC0), X86_VEC_UD);   /* OSFXSR clear */
    cpu->cr4 |= X86_CR4_OSFXSR;
    cpu->cr0 |= X86_CR0_EM;
    assert_int_equal(EXEC(f, 0x0F, 0x57, 0xC0), X86_VEC_UD);   /* EM: #UD before #NM */
    cpu->cr0 |= X86_CR0_TS;
    assert_int_equal(EXEC(f, 0x0F, 0x57, 0xC0), X86_VEC_UD);
    cpu->cr0 &= ~X86_CR0_EM;
    assert_int_equal(EXEC(f, 0x0F, 0x57, 0xC0), X86_VEC_NM);   /* TS: lazy switching */
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x1D, 0x00, 0x30, 0x00, 0x00), X86_VEC_NM); /* stmxcsr */
    cpu->cr0 &= ~X86_CR0_TS;
    /* CPUID.1 reports what cpu->simd offers: EDX 25 SSE, 26 SSE2 */
    cpu->gpr[X86_EAX] = 1;
    assert_int_equal(EXEC(f, 0x0F, 0xA2), -1);
    assert_int_equal((cpu->gpr[X86_EDX] >> 25) & 3, 3);
    assert_int_equal(cpu->gpr[X86_ECX] & ((1u << 0) | (1u << 9) | (1u << 19) | (1u << 20)), 0);
    cpu->simd = 0;
    cpu->gpr[X86_EAX] = 1;
    assert_int_equal(EXEC(f, 0x0F, 0xA2), -1);
    assert_int_equal((cpu->gpr[X86_EDX] >> 25) & 3, 0);
    /* CR4.OSXMMEXCPT is reserved without SSE: #GP */
    cpu->gpr[X86_EAX] = cpu->cr4 | X86_CR4_OSXMMEXCPT;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xE0), X86_VEC_GP);   /* mov cr4, eax */
    cpu->simd = X86_SIMD_SSE;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xE0), -1);
    /* an MMX form (no prefix in the integer space) is not offered */
    cpu->simd = X86_SIMD_SSE | X86_SIMD_SSE2;
    assert_int_equal(EXEC(f, 0x0F, 0xEF, 0xC0), X86_VEC_UD);   /* pxor mm0, mm0 */
}

/* ------------------------------------------------------------------ moves */

static void test_moves(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put128(f, DATA, vec(0x0706050403020100ull, 0x0F0E0D0C0B0A0908ull));
    put128(f, DATA + 0x10, vec(0x1716151413121110ull, 0x1F1E1D1C1B1A1918ull));
    cpu->gpr[X86_EBX] = DATA;
    assert_int_equal(EXEC(f, 0x0F, 0x10, 0x43, 0x01), -1);      /* movups xmm0, [ebx+1] */
    assert_xmm(XMM(f, 0), 0x0807060504030201ull, 0x100F0E0D0C0B0A09ull);
    assert_int_equal(EXEC(f, 0x0F, 0x28, 0x43, 0x01), X86_VEC_GP); /* movaps: misaligned */
    assert_int_equal(cpu->fault.error_code, 0);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x6F, 0x4B, 0x10), -1); /* movdqa xmm1, [ebx+16] */
    assert_xmm(XMM(f, 1), 0x1716151413121110ull, 0x1F1E1D1C1B1A1918ull);
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x7F, 0x4B, 0x23), -1); /* movdqu [ebx+0x23], xmm1 */
    assert_xmm(get128(f, DATA + 0x23), 0x1716151413121110ull, 0x1F1E1D1C1B1A1918ull);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xE7, 0x4B, 0x28), X86_VEC_GP); /* movntdq: aligned */
    assert_int_equal(EXEC(f, 0x0F, 0x28, 0xD1), -1);             /* movaps xmm2, xmm1 */
    assert_xmm(XMM(f, 2), 0x1716151413121110ull, 0x1F1E1D1C1B1A1918ull);
    /* movss: register to register merges, a load zeroes the rest, a store writes 4 bytes */
    XMM(f, 3) = vec(0xAAAAAAAAAAAAAAAAull, 0xBBBBBBBBBBBBBBBBull);
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x10, 0xDA), -1);       /* movss xmm3, xmm2 */
    assert_xmm(XMM(f, 3), 0xAAAAAAAA13121110ull, 0xBBBBBBBBBBBBBBBBull);
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x10, 0x1B), -1);       /* movss xmm3, [ebx] */
    assert_xmm(XMM(f, 3), 0x03020100ull, 0);
    assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x10, 0x1B), -1);       /* movsd xmm3, [ebx] */
    assert_xmm(XMM(f, 3), 0x0706050403020100ull, 0);
    assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x11, 0x53, 0x40), -1); /* movsd [ebx+0x40], xmm2 */
    assert_int_equal(test_get32(f->m, DATA + 0x40), 0x13121110u);
    assert_int_equal(test_get32(f->m, DATA + 0x44), 0x17161514u);
    assert_int_equal(test_get32(f->m, DATA + 0x48), 0);
    /* movd / movq with general registers and memory */
    cpu->gpr[X86_ECX] = 0xDEADBEEF;
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x6E, 0xE1), -1);       /* movd xmm4, ecx */
    assert_xmm(XMM(f, 4), 0xDEADBEEFull, 0);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x7E, 0xD2), -1);       /* movd edx, xmm2 */
    assert_int_equal(cpu->gpr[X86_EDX], 0x13121110u);
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x7E, 0x63, 0x10), -1); /* movq xmm4, [ebx+16] */
    assert_xmm(XMM(f, 4), 0x1716151413121110ull, 0);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xD6, 0xD4), -1);       /* movq xmm4, xmm2 */
    assert_xmm(XMM(f, 4), 0x1716151413121110ull, 0);
    /* the halves */
    XMM(f, 5) = vec(1, 2);
    assert_int_equal(EXEC(f, 0x0F, 0x16, 0x2B), -1);             /* movhps xmm5, [ebx] */
    assert_xmm(XMM(f, 5), 1, 0x0706050403020100ull);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x12, 0x6B, 0x10), -1); /* movlpd xmm5, [ebx+16] */
    assert_xmm(XMM(f, 5), 0x1716151413121110ull, 0x0706050403020100ull);
    XMM(f, 6) = vec(3, 4);
    assert_int_equal(EXEC(f, 0x0F, 0x12, 0xF5), -1);             /* movhlps xmm6, xmm5 */
    assert_xmm(XMM(f, 6), 0x0706050403020100ull, 4);
    assert_int_equal(EXEC(f, 0x0F, 0x16, 0xF5), -1);             /* movlhps xmm6, xmm5 */
    assert_xmm(XMM(f, 6), 0x0706050403020100ull, 0x1716151413121110ull);
    assert_int_equal(EXEC(f, 0x0F, 0x17, 0x73, 0x50), -1);       /* movhps [ebx+0x50], xmm6 */
    assert_int_equal(test_get32(f->m, DATA + 0x50), 0x13121110u);
    /* sign masks */
    XMM(f, 7) = vec(0x8000000000000001ull, 0x0080FF0000000080ull);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xD7, 0xC7), -1);       /* pmovmskb eax, xmm7 */
    assert_int_equal(cpu->gpr[X86_EAX], 0x6180);
    assert_int_equal(EXEC(f, 0x0F, 0x50, 0xC7), -1);             /* movmskps eax, xmm7 */
    assert_int_equal(cpu->gpr[X86_EAX], 0x2);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x50, 0xC7), -1);       /* movmskpd eax, xmm7 */
    assert_int_equal(cpu->gpr[X86_EAX], 0x1);
}

/* 64-bit mode: XMM8-15 by REX, RIP-relative operands, movq with REX.W, precise stores */
static void test_moves64(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put128(f, DATA, vec(0x1111111111111111ull, 0x2222222222222222ull));
    /* movdqa xmm9, [rip + (DATA - next)]: at CODE, 9 bytes long */
    int32_t rel = (int32_t)(DATA - (CODE + 9));
    assert_int_equal(EXEC(f, 0x66, 0x44, 0x0F, 0x6F, 0x0D, (uint8_t)rel, (uint8_t)(rel >> 8),
                          (uint8_t)(rel >> 16), (uint8_t)(rel >> 24)), -1);
    assert_xmm(XMM(f, 9), 0x1111111111111111ull, 0x2222222222222222ull);
    cpu->gpr[X86_R10] = 0x8877665544332211ull;
    assert_int_equal(EXEC(f, 0x66, 0x4D, 0x0F, 0x6E, 0xFA), -1); /* movq xmm15, r10 */
    assert_xmm(XMM(f, 15), 0x8877665544332211ull, 0);
    assert_int_equal(EXEC(f, 0x66, 0x4C, 0x0F, 0x7E, 0xC8), -1); /* movq rax, xmm9 */
    assert_int_equal(cpu->gpr[X86_EAX], 0x1111111111111111ull);
    cpu->gpr[X86_EAX] = ~0ull;
    assert_int_equal(EXEC(f, 0x66, 0x41, 0x0F, 0x7E, 0xC7), -1); /* movd r15d, xmm0 */
    assert_int_equal(EXEC(f, 0x66, 0x44, 0x0F, 0x7E, 0xC8), -1); /* movd eax, xmm9 */
    assert_int_equal(cpu->gpr[X86_EAX], 0x11111111ull);          /* zero-extended */
    /* a store across into the not-present page: #PF, and the present half unchanged */
    put128(f, 0x1FFFF8, vec(0x5555555555555555ull, 0));
    cpu->gpr[X86_EBX] = 0x1FFFF8;
    assert_int_equal(EXEC(f, 0xF3, 0x44, 0x0F, 0x7F, 0x0B), X86_VEC_PF); /* movdqu [rbx], xmm9 */
    assert_int_equal(cpu->cr2, 0x200000);
    uint64_t v;
    assert_int_equal(test_read_physical(f->m, 0x1FFFF8, &v, 8), X86IRQ_OK);
    assert_int_equal(v, 0x5555555555555555ull);
    /* a non-canonical operand: #GP(0) */
    cpu->gpr[X86_EBX] = 0x0000800000000000ull;
    assert_int_equal(EXEC(f, 0x0F, 0x10, 0x03), X86_VEC_GP);     /* movups xmm0, [rbx] */
}

/* ------------------------------------------------------------------ MXCSR and FXSAVE */

static void test_mxcsr_fxsave(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    assert_int_equal(cpu->sse.mxcsr, X86_MXCSR_RESET);
    test_put32(f->m, DATA, 0x7F80 | 0x40);                       /* masks, RC, DAZ */
    cpu->gpr[X86_EBX] = DATA;
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x13), -1);             /* ldmxcsr [ebx] */
    assert_int_equal(cpu->sse.mxcsr, 0x7FC0);
    test_put32(f->m, DATA, 0x10000);
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x13), X86_VEC_GP);     /* reserved bit */
    assert_int_equal(cpu->sse.mxcsr, 0x7FC0);
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x5B, 0x04), -1);       /* stmxcsr [ebx+4] */
    assert_int_equal(test_get32(f->m, DATA + 4), 0x7FC0);
    /* fxsave: MXCSR, MXCSR_MASK, XMM0-7 at 160 */
    for (unsigned i = 0; i < 16; i++)
        XMM(f, i) = vec(0x0101010101010101ull * i, ~0ull - i);
    cpu->gpr[X86_EBX] = 0x4000;
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x03), -1);             /* fxsave [ebx] */
    assert_int_equal(test_get32(f->m, 0x4000 + 24), 0x7FC0);
    assert_int_equal(test_get32(f->m, 0x4000 + 28), 0xFFFF);
    assert_xmm(get128(f, 0x4000 + 160 + 16 * 7), 0x0707070707070707ull, ~0ull - 7);
    assert_xmm(get128(f, 0x4000 + 160 + 16 * 8), 0, 0);          /* XMM8: 64-bit mode only */
    for (unsigned i = 0; i < 8; i++)
        XMM(f, i) = vec(0, 0);
    cpu->sse.mxcsr = X86_MXCSR_RESET;
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x0B), -1);             /* fxrstor [ebx] */
    assert_int_equal(cpu->sse.mxcsr, 0x7FC0);
    assert_xmm(XMM(f, 5), 0x0505050505050505ull, ~0ull - 5);
    /* a reserved MXCSR bit in the image: #GP(0), nothing restored */
    test_put32(f->m, 0x4000 + 24, 0x80000);
    XMM(f, 5) = vec(9, 9);
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x0B), X86_VEC_GP);
    assert_xmm(XMM(f, 5), 9, 9);
    /* OSFXSR clear: the image has no SSE part, FXRSTOR leaves it */
    cpu->cr4 &= ~X86_CR4_OSFXSR;
    cpu->gpr[X86_EBX] = 0x5000;
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x03), -1);
    assert_int_equal(test_get32(f->m, 0x5000 + 28), 0);
    assert_xmm(get128(f, 0x5000 + 160 + 16 * 5), 0, 0);
}

static void test_fxsave64(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < 16; i++)
        XMM(f, i) = vec(i, 100 + i);
    f->cpu->gpr[X86_EBX] = 0x4000;
    assert_int_equal(EXEC(f, 0x48, 0x0F, 0xAE, 0x03), -1);       /* fxsave64 [rbx] */
    assert_xmm(get128(f, 0x4000 + 160 + 16 * 15), 15, 115);
    for (unsigned i = 0; i < 16; i++)
        XMM(f, i) = vec(0, 0);
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x0B), -1);             /* fxrstor [rbx] */
    assert_xmm(XMM(f, 12), 12, 112);
}

/* ------------------------------------------------------------------ against the host */

/* operands with the interesting values often: 0, all ones, the sign bits, small numbers */
static union x86_xmm random_vec(void)
{
    static const uint64_t special[] = { 0, ~0ull, 0x8000800080008000ull, 0x7F7F7F7F7F7F7F7Full,
                                        0x8000000080000000ull, 0x0001000100010001ull };
    union x86_xmm v;
    for (unsigned i = 0; i < 2; i++) {
        uint64_t r = rng();
        v.q[i] = (r & 7) < 6 && (r & 0x30) == 0 ? special[r & 7] : rng();
    }
    return v;
}

static __m128i to_host(union x86_xmm v) { return _mm_loadu_si128((const __m128i *)v.b); }
static union x86_xmm from_host(__m128i h)
{
    union x86_xmm v;
    _mm_storeu_si128((__m128i *)v.b, h);
    return v;
}

struct host_op {
    uint8_t opcode;
    const char *name;
    __m128i (*fn)(__m128i, __m128i);
    bool shift; /* the source is a shift count (small values) */
};
#define H(op, name, expr) \
    static __m128i host_##name(__m128i a, __m128i b) { return expr; }
H(0xFC, paddb, _mm_add_epi8(a, b)) H(0xFD, paddw, _mm_add_epi16(a, b))
H(0xFE, paddd, _mm_add_epi32(a, b)) H(0xD4, paddq, _mm_add_epi64(a, b))
H(0xF8, psubb, _mm_sub_epi8(a, b)) H(0xF9, psubw, _mm_sub_epi16(a, b))
H(0xFA, psubd, _mm_sub_epi32(a, b)) H(0xFB, psubq, _mm_sub_epi64(a, b))
H(0xEC, paddsb, _mm_adds_epi8(a, b)) H(0xED, paddsw, _mm_adds_epi16(a, b))
H(0xDC, paddusb, _mm_adds_epu8(a, b)) H(0xDD, paddusw, _mm_adds_epu16(a, b))
H(0xE8, psubsb, _mm_subs_epi8(a, b)) H(0xE9, psubsw, _mm_subs_epi16(a, b))
H(0xD8, psubusb, _mm_subs_epu8(a, b)) H(0xD9, psubusw, _mm_subs_epu16(a, b))
H(0x74, pcmpeqb, _mm_cmpeq_epi8(a, b)) H(0x75, pcmpeqw, _mm_cmpeq_epi16(a, b))
H(0x76, pcmpeqd, _mm_cmpeq_epi32(a, b)) H(0x64, pcmpgtb, _mm_cmpgt_epi8(a, b))
H(0x65, pcmpgtw, _mm_cmpgt_epi16(a, b)) H(0x66, pcmpgtd, _mm_cmpgt_epi32(a, b))
H(0xDA, pminub, _mm_min_epu8(a, b)) H(0xDE, pmaxub, _mm_max_epu8(a, b))
H(0xEA, pminsw, _mm_min_epi16(a, b)) H(0xEE, pmaxsw, _mm_max_epi16(a, b))
H(0xE0, pavgb, _mm_avg_epu8(a, b)) H(0xE3, pavgw, _mm_avg_epu16(a, b))
H(0xD5, pmullw, _mm_mullo_epi16(a, b)) H(0xE5, pmulhw, _mm_mulhi_epi16(a, b))
H(0xE4, pmulhuw, _mm_mulhi_epu16(a, b)) H(0xF4, pmuludq, _mm_mul_epu32(a, b))
H(0xF5, pmaddwd, _mm_madd_epi16(a, b)) H(0xF6, psadbw, _mm_sad_epu8(a, b))
H(0x60, punpcklbw, _mm_unpacklo_epi8(a, b)) H(0x61, punpcklwd, _mm_unpacklo_epi16(a, b))
H(0x62, punpckldq, _mm_unpacklo_epi32(a, b)) H(0x6C, punpcklqdq, _mm_unpacklo_epi64(a, b))
H(0x68, punpckhbw, _mm_unpackhi_epi8(a, b)) H(0x69, punpckhwd, _mm_unpackhi_epi16(a, b))
H(0x6A, punpckhdq, _mm_unpackhi_epi32(a, b)) H(0x6D, punpckhqdq, _mm_unpackhi_epi64(a, b))
H(0x63, packsswb, _mm_packs_epi16(a, b)) H(0x67, packuswb, _mm_packus_epi16(a, b))
H(0x6B, packssdw, _mm_packs_epi32(a, b))
H(0xD1, psrlw, _mm_srl_epi16(a, b)) H(0xD2, psrld, _mm_srl_epi32(a, b))
H(0xD3, psrlq, _mm_srl_epi64(a, b)) H(0xE1, psraw, _mm_sra_epi16(a, b))
H(0xE2, psrad, _mm_sra_epi32(a, b)) H(0xF1, psllw, _mm_sll_epi16(a, b))
H(0xF2, pslld, _mm_sll_epi32(a, b)) H(0xF3, psllq, _mm_sll_epi64(a, b))
H(0xDB, pand, _mm_and_si128(a, b)) H(0xDF, pandn, _mm_andnot_si128(a, b))
H(0xEB, por, _mm_or_si128(a, b)) H(0xEF, pxor, _mm_xor_si128(a, b))
#undef H
#define R(op, name) { op, #name, host_##name, false }
#define S(op, name) { op, #name, host_##name, true }
static const struct host_op host_ops[] = {
    R(0xFC, paddb), R(0xFD, paddw), R(0xFE, paddd), R(0xD4, paddq), R(0xF8, psubb),
    R(0xF9, psubw), R(0xFA, psubd), R(0xFB, psubq), R(0xEC, paddsb), R(0xED, paddsw),
    R(0xDC, paddusb), R(0xDD, paddusw), R(0xE8, psubsb), R(0xE9, psubsw), R(0xD8, psubusb),
    R(0xD9, psubusw), R(0x74, pcmpeqb), R(0x75, pcmpeqw), R(0x76, pcmpeqd), R(0x64, pcmpgtb),
    R(0x65, pcmpgtw), R(0x66, pcmpgtd), R(0xDA, pminub), R(0xDE, pmaxub), R(0xEA, pminsw),
    R(0xEE, pmaxsw), R(0xE0, pavgb), R(0xE3, pavgw), R(0xD5, pmullw), R(0xE5, pmulhw),
    R(0xE4, pmulhuw), R(0xF4, pmuludq), R(0xF5, pmaddwd), R(0xF6, psadbw), R(0x60, punpcklbw),
    R(0x61, punpcklwd), R(0x62, punpckldq), R(0x6C, punpcklqdq), R(0x68, punpckhbw),
    R(0x69, punpckhwd), R(0x6A, punpckhdq), R(0x6D, punpckhqdq), R(0x63, packsswb),
    R(0x67, packuswb), R(0x6B, packssdw), S(0xD1, psrlw), S(0xD2, psrld), S(0xD3, psrlq),
    S(0xE1, psraw), S(0xE2, psrad), S(0xF1, psllw), S(0xF2, pslld), S(0xF3, psllq),
    R(0xDB, pand), R(0xDF, pandn), R(0xEB, por), R(0xEF, pxor),
};

/* Every op, 2000 random operand pairs each: register form (66 0F op /r, xmm1 <- xmm2) and
 * memory form (an aligned m128), compared with the host's instruction */
static void run_against_host(struct fixture *f, bool rex)
{
    f->cpu->gpr[X86_EBX] = DATA;
    for (size_t k = 0; k < sizeof(host_ops) / sizeof(host_ops[0]); k++) {
        const struct host_op *op = &host_ops[k];
        for (unsigned n = 0; n < 2000; n++) {
            union x86_xmm a = random_vec(), b = random_vec();
            if (op->shift)
                b = vec(rng() % 72, rng());
            union x86_xmm want = from_host(op->fn(to_host(a), to_host(b)));
            unsigned d = rex ? 9 : 1, s = rex ? 12 : 2;
            XMM(f, d) = a;
            XMM(f, s) = b;
            int r = rex ? EXEC(f, 0x66, 0x45, 0x0F, op->opcode, 0xCC)  /* xmm9, xmm12 */
                        : EXEC(f, 0x66, 0x0F, op->opcode, 0xCA);       /* xmm1, xmm2 */
            if (r != -1 || XMM(f, d).q[0] != want.q[0] || XMM(f, d).q[1] != want.q[1])
                fail_msg("%s (reg) a %016llx%016llx b %016llx%016llx: got %016llx%016llx, "
                         "host %016llx%016llx (vector %d)", op->name,
                         (unsigned long long)a.q[1], (unsigned long long)a.q[0],
                         (unsigned long long)b.q[1], (unsigned long long)b.q[0],
                         (unsigned long long)XMM(f, d).q[1], (unsigned long long)XMM(f, d).q[0],
                         (unsigned long long)want.q[1], (unsigned long long)want.q[0], r);
            if (n % 8)
                continue;
            /* the memory form, xmm1 <- [ebx] / [rbx] */
            XMM(f, 1) = a;
            put128(f, DATA, b);
            r = EXEC(f, 0x66, 0x0F, op->opcode, 0x0B);
            if (r != -1 || XMM(f, 1).q[0] != want.q[0] || XMM(f, 1).q[1] != want.q[1])
                fail_msg("%s (m128): got %016llx%016llx, host %016llx%016llx (vector %d)",
                         op->name, (unsigned long long)XMM(f, 1).q[1],
                         (unsigned long long)XMM(f, 1).q[0], (unsigned long long)want.q[1],
                         (unsigned long long)want.q[0], r);
            /* the aligned form: a misaligned m128 is #GP(0) and changes nothing */
            f->cpu->gpr[X86_EBX] = DATA + 8;
            XMM(f, 1) = a;
            if (EXEC(f, 0x66, 0x0F, op->opcode, 0x0B) != X86_VEC_GP || XMM(f, 1).q[0] != a.q[0])
                fail_msg("%s: a misaligned m128 is not #GP(0)", op->name);
            f->cpu->gpr[X86_EBX] = DATA;
        }
    }
}

static void test_integer_against_host(void **state) { run_against_host(*state, false); }
static void test_integer_against_host64(void **state) { run_against_host(*state, true); }

/* shifts by imm8 and shuffles, against the host for a set of immediates */
#define IMMS(X) X(0x00) X(0x01) X(0x07) X(0x0F) X(0x10) X(0x1B) X(0x1F) X(0x20) X(0x39) \
    X(0x3F) X(0x40) X(0x4E) X(0x80) X(0xE4) X(0xFF)
static void test_shift_and_shuffle_imm(void **state)
{
    struct fixture *f = *state;
    for (unsigned n = 0; n < 400; n++) {
        union x86_xmm a = random_vec(), b = random_vec();
        __m128i ha = to_host(a), hb = to_host(b);
#define CHECK(bytes_, expect_, what_) do { \
        XMM(f, 3) = a; XMM(f, 4) = b; \
        const uint8_t code_[] = bytes_; \
        assert_int_equal(exec(f, CODE, code_, sizeof(code_)), -1); \
        union x86_xmm want_ = from_host(expect_); \
        if (XMM(f, 3).q[0] != want_.q[0] || XMM(f, 3).q[1] != want_.q[1]) \
            fail_msg("%s imm 0x%02x: got %016llx%016llx, host %016llx%016llx", what_, imm, \
                     (unsigned long long)XMM(f, 3).q[1], (unsigned long long)XMM(f, 3).q[0], \
                     (unsigned long long)want_.q[1], (unsigned long long)want_.q[0]); \
    } while (0)
#define B(...) { __VA_ARGS__ }
#define ONE(i) { const unsigned imm = i; \
        CHECK(B(0x66, 0x0F, 0x71, 0xD3, i), _mm_srli_epi16(ha, i), "psrlw"); \
        CHECK(B(0x66, 0x0F, 0x71, 0xE3, i), _mm_srai_epi16(ha, i), "psraw"); \
        CHECK(B(0x66, 0x0F, 0x71, 0xF3, i), _mm_slli_epi16(ha, i), "psllw"); \
        CHECK(B(0x66, 0x0F, 0x72, 0xD3, i), _mm_srli_epi32(ha, i), "psrld"); \
        CHECK(B(0x66, 0x0F, 0x72, 0xE3, i), _mm_srai_epi32(ha, i), "psrad"); \
        CHECK(B(0x66, 0x0F, 0x72, 0xF3, i), _mm_slli_epi32(ha, i), "pslld"); \
        CHECK(B(0x66, 0x0F, 0x73, 0xD3, i), _mm_srli_epi64(ha, i), "psrlq"); \
        CHECK(B(0x66, 0x0F, 0x73, 0xF3, i), _mm_slli_epi64(ha, i), "psllq"); \
        CHECK(B(0x66, 0x0F, 0x73, 0xDB, i), _mm_srli_si128(ha, i), "psrldq"); \
        CHECK(B(0x66, 0x0F, 0x73, 0xFB, i), _mm_slli_si128(ha, i), "pslldq"); \
        CHECK(B(0x66, 0x0F, 0x70, 0xDC, i), _mm_shuffle_epi32(hb, i), "pshufd"); \
        CHECK(B(0xF3, 0x0F, 0x70, 0xDC, i), _mm_shufflehi_epi16(hb, i), "pshufhw"); \
        CHECK(B(0xF2, 0x0F, 0x70, 0xDC, i), _mm_shufflelo_epi16(hb, i), "pshuflw"); \
        CHECK(B(0x0F, 0xC6, 0xDC, i), _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(ha), \
              _mm_castsi128_ps(hb), i)), "shufps"); \
        CHECK(B(0x66, 0x0F, 0xC6, 0xDC, i), _mm_castpd_si128(_mm_shuffle_pd(_mm_castsi128_pd(ha), \
              _mm_castsi128_pd(hb), (i) & 3)), "shufpd"); \
        CHECK(B(0x66, 0x0F, 0xC4, 0xD8, i), _mm_insert_epi16(ha, 0x1234, (i) & 7), "pinsrw"); }
        f->cpu->gpr[X86_EAX] = 0x1234;
        IMMS(ONE)
#undef ONE
        const unsigned imm = 0;
        CHECK(B(0x0F, 0x14, 0xDC), _mm_castps_si128(_mm_unpacklo_ps(_mm_castsi128_ps(ha), _mm_castsi128_ps(hb))), "unpcklps");
        CHECK(B(0x0F, 0x15, 0xDC), _mm_castps_si128(_mm_unpackhi_ps(_mm_castsi128_ps(ha), _mm_castsi128_ps(hb))), "unpckhps");
        CHECK(B(0x66, 0x0F, 0x14, 0xDC), _mm_unpacklo_epi64(ha, hb), "unpcklpd");
        CHECK(B(0x66, 0x0F, 0x15, 0xDC), _mm_unpackhi_epi64(ha, hb), "unpckhpd");
        CHECK(B(0x0F, 0x54, 0xDC), _mm_and_si128(ha, hb), "andps");
        CHECK(B(0x66, 0x0F, 0x55, 0xDC), _mm_andnot_si128(ha, hb), "andnpd");
        CHECK(B(0x0F, 0x56, 0xDC), _mm_or_si128(ha, hb), "orps");
        CHECK(B(0x66, 0x0F, 0x57, 0xDC), _mm_xor_si128(ha, hb), "xorpd");
        /* pextrw: the word, zero-extended */
        XMM(f, 4) = b;
        assert_int_equal(EXEC(f, 0x66, 0x0F, 0xC5, 0xC4, 0x05), -1); /* pextrw eax, xmm4, 5 */
        assert_int_equal(f->cpu->gpr[X86_EAX], (uint64_t)_mm_extract_epi16(hb, 5));
#undef CHECK
#undef B
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entry_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moves64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_mxcsr_fxsave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fxsave64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_integer_against_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integer_against_host64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_shift_and_shuffle_imm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
