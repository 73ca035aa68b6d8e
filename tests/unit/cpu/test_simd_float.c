/* Unit tests of SSE floating point (src/cpu/simd_fp.c, exec_simd_float.c): #XM against #UD by
 * CR4.OSXMMEXCPT, the precise rule (an unmasked exception changes no lane), the pre- before
 * post-computation order, the aligned forms' #GP(0), the entry conditions, SSE3's and SSE4.1's
 * floating point against the host's own instructions on random operands and MXCSR values (32-
 * and 64-bit mode), the reciprocal approximations against the SDM's bound, and conversions to
 * general registers in 32-bit mode, and SSE2's movnti and maskmovdqu. The host differential test (tests/differential) covers the
 * SSE/SSE2 forms with unmasked exceptions too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include <emmintrin.h>

#include "simd_fixture.h"
#include "cpu/simd_fp.h"

static int setup(void **state)
{
    simd_fixture_create(state, X86_SIMD_SSE | X86_SIMD_SSE2 | X86_SIMD_SSE3 | X86_SIMD_SSSE3 |
                                   X86_SIMD_SSE41 | X86_SIMD_SSE42);
    return 0;
}

static int setup64(void **state)
{
    setup(state);
    simd_fixture_long64(*state);
    return 0;
}

static uint32_t fbits(float v) { uint32_t b; memcpy(&b, &v, 4); return b; }
static float bitsf(uint32_t b) { float v; memcpy(&v, &b, 4); return v; }
static union x86_xmm vec4(float a, float b, float c, float d)
{
    union x86_xmm v = { .s = { a, b, c, d } };
    return v;
}
#define assert_same_xmm(x, y) assert_memory_equal((x).b, (y).b, 16)

/* ------------------------------------------------------------------ exceptions */

/* divss by zero with ZM clear: #XM with CR4.OSXMMEXCPT, #UD without; ZE set, the destination
 * unchanged either way; masked, the infinity and ZE (SDM Vol. 1 11.5.2.3, Vol. 3 6.15) */
static void test_xm_or_ud(void **state)
{
    struct fixture *f = *state;
    union x86_xmm one = vec4(1.0f, 2.0f, 3.0f, 4.0f), zero = vec4(0.0f, 5.0f, 6.0f, 7.0f);
    for (int os = 1; os >= 0; os--) {
        f->cpu->cr4 = os ? f->cpu->cr4 | X86_CR4_OSXMMEXCPT : f->cpu->cr4 & ~X86_CR4_OSXMMEXCPT;
        XMM(f, 1) = one;
        XMM(f, 2) = zero;
        f->cpu->sse.mxcsr = X86_MXCSR_RESET & ~(X86_MXCSR_ZE << X86_MXCSR_MASKS_SHIFT);
        assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x5E, 0xCA), os ? X86_VEC_XM : X86_VEC_UD);
        assert_same_xmm(XMM(f, 1), one);
        assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS, X86_MXCSR_ZE);
        assert_int_equal(f->cpu->rip, CODE); /* a fault: at the instruction */
    }
    f->cpu->sse.mxcsr = X86_MXCSR_RESET;
    XMM(f, 1) = one;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x5E, 0xCA), -1);
    assert_true(isinf(XMM(f, 1).s[0]));
    assert_true(XMM(f, 1).s[1] == 2.0f);
    assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS, X86_MXCSR_ZE);
}

/* A packed operation stops for one lane's unmasked condition with no lane written. An unmasked
 * pre-computation condition (invalid, from an SNaN in lane 3) stops it before the post-
 * computation ones are looked at: only the pre flags are set, though lane 0 overflows. With
 * only overflow unmasked, the masked denormal of lane 1 and lane 0's overflow response (OE with
 * PE: 3e38 * 10 is inexact) are set. */
static void test_packed_precise_and_order(void **state)
{
    struct fixture *f = *state;
    union x86_xmm a = vec4(3e38f, bitsf(0x00000010), 1.0f, bitsf(0x7F800001)),
                  b = vec4(10.0f, 1.0f, 1.0f, 1.0f);
    XMM(f, 1) = a;
    XMM(f, 2) = b;
    f->cpu->sse.mxcsr = X86_MXCSR_RESET & ~((X86_MXCSR_IE | X86_MXCSR_OE) << X86_MXCSR_MASKS_SHIFT);
    assert_int_equal(EXEC(f, 0x0F, 0x59, 0xCA), X86_VEC_XM); /* mulps xmm1, xmm2 */
    assert_same_xmm(XMM(f, 1), a);
    assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS, X86_MXCSR_IE | X86_MXCSR_DE);

    a.d[3] = fbits(1.0f); /* no SNaN: the overflow is what stops it */
    XMM(f, 1) = a;
    f->cpu->sse.mxcsr = X86_MXCSR_RESET & ~(X86_MXCSR_OE << X86_MXCSR_MASKS_SHIFT);
    assert_int_equal(EXEC(f, 0x0F, 0x59, 0xCA), X86_VEC_XM);
    assert_same_xmm(XMM(f, 1), a);
    assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS,
                     X86_MXCSR_DE | X86_MXCSR_OE | X86_MXCSR_PE);

    /* an exact tiny result with underflow unmasked: UE without PE (masked: no flag at all) */
    union x86_xmm tiny = vec4(0x1p-126f, 0, 0, 0), half = vec4(0.5f, 0, 0, 0);
    XMM(f, 1) = tiny;
    XMM(f, 2) = half;
    f->cpu->sse.mxcsr = X86_MXCSR_RESET & ~(X86_MXCSR_UE << X86_MXCSR_MASKS_SHIFT);
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x59, 0xCA), X86_VEC_XM); /* mulss */
    assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS, X86_MXCSR_UE);
    f->cpu->sse.mxcsr = X86_MXCSR_RESET;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x59, 0xCA), -1);
    assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS, 0);
    assert_true(XMM(f, 1).s[0] == 0x1p-127f);
}

/* The packed forms' m128 must be aligned (#GP(0)); the scalar forms' m32/m64 need not be */
static void test_alignment(void **state)
{
    struct fixture *f = *state;
    float v[4] = { 1.0f, 2.0f, 3.0f, 4.0f };
    assert_int_equal(test_write_physical(f->m, DATA + 4, v, sizeof(v)), X86IRQ_OK);
    XMM(f, 0) = vec4(1.0f, 1.0f, 1.0f, 1.0f);
    /* addps xmm0, [DATA+4] */
    assert_int_equal(EXEC(f, 0x0F, 0x58, 0x05, 0x04, 0x30, 0x00, 0x00), X86_VEC_GP);
    assert_true(XMM(f, 0).s[0] == 1.0f);
    /* addss xmm0, [DATA+4]; addsd xmm1, [DATA+4] */
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x58, 0x05, 0x04, 0x30, 0x00, 0x00), -1);
    assert_true(XMM(f, 0).s[0] == 2.0f && XMM(f, 0).s[1] == 1.0f);
    assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x58, 0x0D, 0x04, 0x30, 0x00, 0x00), -1);
    /* haddps and dpps take aligned m128 too */
    assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x7C, 0x05, 0x04, 0x30, 0x00, 0x00), X86_VEC_GP);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x3A, 0x40, 0x05, 0x04, 0x30, 0x00, 0x00, 0xFF),
                     X86_VEC_GP);
}

/* #UD without the extension (CPUID), CR4.OSFXSR clear or CR0.EM set; #NM with CR0.TS */
static void test_entry(void **state)
{
    struct fixture *f = *state;
    f->cpu->simd = X86_SIMD_SSE | X86_SIMD_SSE2;
    assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x7C, 0xCA), X86_VEC_UD);             /* haddps */
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x3A, 0x0A, 0xCA, 0x00), X86_VEC_UD); /* roundss */
    f->cpu->simd = X86_SIMD_SSE;
    assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x58, 0xCA), X86_VEC_UD);             /* addsd */
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x58, 0xCA), -1);                     /* addss */
    f->cpu->cr0 |= X86_CR0_TS;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x58, 0xCA), X86_VEC_NM);
    f->cpu->cr0 = (f->cpu->cr0 & ~X86_CR0_TS) | X86_CR0_EM;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x58, 0xCA), X86_VEC_UD);
    f->cpu->cr0 &= ~X86_CR0_EM;
    f->cpu->cr4 &= ~X86_CR4_OSFXSR;
    assert_int_equal(EXEC(f, 0x0F, 0x2F, 0xCA), X86_VEC_UD);                   /* comiss */
}

/* ------------------------------------------------------------------ SSE3, SSE4.1: the host */

/* the host's instruction on (a, b) under csr (every exception masked): the result and MXCSR */
#define HOST(name, text)                                                                    \
    static uint32_t name(__m128i *a, __m128i b, uint32_t csr)                               \
    {                                                                                       \
        uint32_t saved = 0, after;                                                          \
        __asm__ volatile("stmxcsr %[s]\n\tldmxcsr %[c]\n\t" text " %[b], %[a]\n\t"          \
                         "stmxcsr %[o]\n\tldmxcsr %[s]"                                     \
                         : [a] "+x"(*a), [s] "+m"(saved), [o] "=m"(after)                   \
                         : [b] "x"(b), [c] "m"(csr));                                       \
        return after;                                                                       \
    }
HOST(h_addsubps, "addsubps") HOST(h_addsubpd, "addsubpd") HOST(h_haddps, "haddps")
HOST(h_haddpd, "haddpd") HOST(h_hsubps, "hsubps") HOST(h_hsubpd, "hsubpd")
HOST(h_roundps1, "roundps $1,") HOST(h_roundps4, "roundps $4,") HOST(h_roundps10, "roundps $10,")
HOST(h_roundpd3, "roundpd $3,") HOST(h_roundpd12, "roundpd $12,")
HOST(h_roundss0, "roundss $0,") HOST(h_roundss9, "roundss $9,")
HOST(h_roundsd2, "roundsd $2,") HOST(h_roundsd15, "roundsd $15,")
HOST(h_dpps_ff, "dpps $0xFF,") HOST(h_dpps_71, "dpps $0x71,") HOST(h_dpps_b6, "dpps $0xB6,")
HOST(h_dpps_0f, "dpps $0x0F,") HOST(h_dppd_33, "dppd $0x33,") HOST(h_dppd_12, "dppd $0x12,")

static const struct host_case {
    const char *name;
    uint8_t prefix, map3a, opcode, imm; /* map3a: 0F 3A opcode imm8, else 0F opcode */
    uint32_t (*host)(__m128i *, __m128i, uint32_t);
} host_cases[] = {
    { "addsubps", 0xF2, 0, 0xD0, 0, h_addsubps }, { "addsubpd", 0x66, 0, 0xD0, 0, h_addsubpd },
    { "haddps", 0xF2, 0, 0x7C, 0, h_haddps },     { "haddpd", 0x66, 0, 0x7C, 0, h_haddpd },
    { "hsubps", 0xF2, 0, 0x7D, 0, h_hsubps },     { "hsubpd", 0x66, 0, 0x7D, 0, h_hsubpd },
    { "roundps 1", 0x66, 1, 0x08, 1, h_roundps1 }, { "roundps 4", 0x66, 1, 0x08, 4, h_roundps4 },
    { "roundps 10", 0x66, 1, 0x08, 10, h_roundps10 },
    { "roundpd 3", 0x66, 1, 0x09, 3, h_roundpd3 }, { "roundpd 12", 0x66, 1, 0x09, 12, h_roundpd12 },
    { "roundss 0", 0x66, 1, 0x0A, 0, h_roundss0 }, { "roundss 9", 0x66, 1, 0x0A, 9, h_roundss9 },
    { "roundsd 2", 0x66, 1, 0x0B, 2, h_roundsd2 }, { "roundsd 15", 0x66, 1, 0x0B, 15, h_roundsd15 },
    { "dpps ff", 0x66, 1, 0x40, 0xFF, h_dpps_ff }, { "dpps 71", 0x66, 1, 0x40, 0x71, h_dpps_71 },
    { "dpps b6", 0x66, 1, 0x40, 0xB6, h_dpps_b6 }, { "dpps 0f", 0x66, 1, 0x40, 0x0F, h_dpps_0f },
    { "dppd 33", 0x66, 1, 0x41, 0x33, h_dppd_33 }, { "dppd 12", 0x66, 1, 0x41, 0x12, h_dppd_12 },
};

/* lanes that make the flags happen: denormals, NaNs, infinities, zeros, huge and tiny values */
static uint32_t random_single(void)
{
    static const uint32_t special[] = { 0, 0x80000000u, 0x00000001u, 0x007FFFFFu, 0x00800000u,
                                        0x7F7FFFFFu, 0x7F800000u, 0xFF800000u, 0x7FC00000u,
                                        0x7F800001u, 0x3F800000u, 0x3FC00000u, 0xBF000000u,
                                        0x1F800000u, 0x5F800001u, 0x0C000000u };
    uint64_t r = rng();
    if ((r & 3) == 0)
        return special[(r >> 2) % 16];
    if ((r & 3) == 1)
        return (uint32_t)(r >> 32);
    return (uint32_t)((r >> 32) & 0x807FFFFFu) | (0x3C000000u + (uint32_t)((r >> 8) & 0x07800000u));
}
static uint64_t random_double(void)
{
    static const uint64_t special[] = { 0, 0x8000000000000000ull, 1, 0x000FFFFFFFFFFFFFull,
                                        0x0010000000000000ull, 0x7FEFFFFFFFFFFFFFull,
                                        0x7FF0000000000000ull, 0x7FF8000000000000ull,
                                        0x7FF0000000000001ull, 0x3FF0000000000000ull,
                                        0x3FF8000000000000ull, 0x2000000000000000ull };
    uint64_t r = rng();
    if ((r & 3) == 0)
        return special[(r >> 2) % 12];
    if ((r & 3) == 1)
        return rng();
    return (rng() & 0x800FFFFFFFFFFFFFull) | ((0x3C0ull + ((r >> 8) & 0x7F)) << 52);
}

/* The host is an Intel processor (the differential tests' reference, with the SDM)? */
static bool host_is_intel(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    return b == 0x756E6547u && d == 0x49656E69u && c == 0x6C65746Eu; /* GenuineIntel */
}

static bool has_nan(const union x86_xmm *x, bool dbl)
{
    for (unsigned i = 0; i < (dbl ? 2u : 4u); i++)
        if (dbl ? (x->q[i] & 0x7FF0000000000000ull) == 0x7FF0000000000000ull &&
                      (x->q[i] & 0x000FFFFFFFFFFFFFull)
                : (x->d[i] & 0x7F800000u) == 0x7F800000u && (x->d[i] & 0x007FFFFFu))
            return true;
    return false;
}

static void against_host(struct fixture *f, bool rex)
{
    bool intel = host_is_intel();
    for (size_t c = 0; c < sizeof(host_cases) / sizeof(host_cases[0]); c++) {
        const struct host_case *hc = &host_cases[c];
        bool dbl = hc->prefix == 0x66 && (hc->map3a ? (hc->opcode & 1) : 1);
        for (unsigned n = 0; n < 3000; n++) {
            union x86_xmm a, b;
            for (unsigned i = 0; i < 2; i++) {
                if (dbl) {
                    a.q[i] = random_double();
                    b.q[i] = random_double();
                } else {
                    a.d[2 * i] = random_single(), a.d[2 * i + 1] = random_single();
                    b.d[2 * i] = random_single(), b.d[2 * i + 1] = random_single();
                }
            }
            /* Which of several NaNs a dot product's sums pass on is the vendor's: this model
             * follows Intel's (the SDM's DP_primitive order); an AMD host picks others */
            if (!intel && hc->map3a && (hc->opcode == 0x40 || hc->opcode == 0x41) &&
                (has_nan(&a, dbl) || has_nan(&b, dbl)))
                continue;
            /* rounding, DAZ, FZ random; every exception masked; the flags clear */
            uint32_t csr = 0x1F80u | (uint32_t)(rng() & 0xE040u);
            __m128i ha, hb;
            memcpy(&ha, a.b, 16);
            memcpy(&hb, b.b, 16);
            uint32_t want_csr = hc->host(&ha, hb, csr);
            union x86_xmm want;
            memcpy(want.b, &ha, 16);
            unsigned d = rex ? 9 : 1, s = rex ? 12 : 2;
            XMM(f, d) = a;
            XMM(f, s) = b;
            f->cpu->sse.mxcsr = csr;
            uint8_t code[16];
            size_t len = 0;
            code[len++] = hc->prefix;
            if (rex)
                code[len++] = 0x45; /* REX.R REX.B: xmm9, xmm12 */
            code[len++] = 0x0F;
            if (hc->map3a)
                code[len++] = 0x3A;
            code[len++] = hc->opcode;
            code[len++] = (uint8_t)(0xC0 | ((d & 7) << 3) | (s & 7));
            if (hc->map3a)
                code[len++] = hc->imm;
            int v = exec(f, CODE, code, len);
            if (v != -1 || memcmp(XMM(f, d).b, want.b, 16) != 0 || f->cpu->sse.mxcsr != want_csr)
                fail_msg("%s case %u: vector %d, mxcsr %04x (host %04x), a %016llx%016llx b "
                         "%016llx%016llx: %016llx%016llx, host %016llx%016llx",
                         hc->name, n, v, f->cpu->sse.mxcsr, want_csr,
                         (unsigned long long)a.q[1], (unsigned long long)a.q[0],
                         (unsigned long long)b.q[1], (unsigned long long)b.q[0],
                         (unsigned long long)XMM(f, d).q[1], (unsigned long long)XMM(f, d).q[0],
                         (unsigned long long)want.q[1], (unsigned long long)want.q[0]);
        }
    }
}
static void test_sse3_sse41_against_host(void **state) { against_host(*state, false); }
static void test_sse3_sse41_against_host64(void **state) { against_host(*state, true); }

/* ------------------------------------------------------------------ approximations */

/* rcpps/rsqrtps within the SDM's relative error of 1.5 * 2^-12, the special cases as the SDM
 * lists them, no flags, the same whatever MXCSR.RC says */
static void test_reciprocals(void **state)
{
    struct fixture *f = *state;
    for (unsigned n = 0; n < 20000; n++) {
        uint32_t x = (uint32_t)rng();
        if (n % 4 == 0)
            x &= 0x7FFFFFFFu;
        union x86_xmm v = { .d = { x, x ^ 0x80000000u, x >> 1, x | 0x3F000000u } };
        for (int rsqrt = 0; rsqrt < 2; rsqrt++) {
            XMM(f, 2) = v;
            f->cpu->sse.mxcsr = 0x1F80u | (uint32_t)(rng() & 0x6000u);
            assert_int_equal(EXEC(f, 0x0F, rsqrt ? 0x52 : 0x53, 0xCA), -1);
            assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS, 0);
            for (unsigned i = 0; i < 4; i++) {
                float in = v.s[i], out = XMM(f, 1).s[i];
                uint32_t m = v.d[i] & 0x7FFFFFFFu;
                if (isnan(in)) {
                    assert_int_equal(XMM(f, 1).d[i], v.d[i] | 0x00400000u);
                } else if (m < 0x00800000u) {
                    assert_true(isinf(out) && signbit(out) == signbit(in));
                } else if (rsqrt && signbit(in)) {
                    assert_int_equal(XMM(f, 1).d[i], 0xFFC00000u);
                } else {
                    double exact = rsqrt ? 1.0 / sqrt((double)in) : 1.0 / (double)in;
                    if (fabs(exact) < 0x1p-126)
                        assert_true(out == 0.0f);
                    else if (!isinf(in))
                        assert_true(fabs((out - exact) / exact) <= 1.5 * 0x1p-12);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------ conversions, 32-bit */

static void test_conversions32(void **state)
{
    struct fixture *f = *state;
    f->cpu->gpr[X86_EAX] = (uint32_t)-7;
    XMM(f, 1) = vec4(9.0f, 8.0f, 7.0f, 6.0f);
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x2A, 0xC8), -1); /* cvtsi2ss xmm1, eax */
    assert_true(XMM(f, 1).s[0] == -7.0f && XMM(f, 1).s[1] == 8.0f);
    XMM(f, 2) = vec4(3e9f, 0, 0, 0);
    f->cpu->sse.mxcsr = X86_MXCSR_RESET;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x2C, 0xC2), -1); /* cvttss2si eax, xmm2 */
    assert_int_equal(f->cpu->gpr[X86_EAX], 0x80000000u);   /* the integer indefinite */
    assert_int_equal(f->cpu->sse.mxcsr & X86_MXCSR_FLAGS, X86_MXCSR_IE);
    /* unmasked: #XM and EAX kept */
    f->cpu->gpr[X86_EAX] = 1234;
    f->cpu->sse.mxcsr = X86_MXCSR_RESET & ~(X86_MXCSR_IE << X86_MXCSR_MASKS_SHIFT);
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x2D, 0xC2), X86_VEC_XM); /* cvtss2si eax, xmm2 */
    assert_int_equal(f->cpu->gpr[X86_EAX], 1234);
    /* rounding by MXCSR.RC: 2.5 to nearest even is 2, up is 3 */
    XMM(f, 2) = vec4(2.5f, 0, 0, 0);
    f->cpu->sse.mxcsr = X86_MXCSR_RESET;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x2D, 0xC2), -1);
    assert_int_equal(f->cpu->gpr[X86_EAX], 2);
    f->cpu->sse.mxcsr = X86_MXCSR_RESET | 0x4000u;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0x2D, 0xC2), -1);
    assert_int_equal(f->cpu->gpr[X86_EAX], 3);
    /* cvtpd2ps clears the upper half */
    union x86_xmm d = { .d64 = { 1.5, -2.25 } };
    XMM(f, 2) = d;
    XMM(f, 1) = vec4(1, 2, 3, 4);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0x5A, 0xCA), -1);
    assert_true(XMM(f, 1).s[0] == 1.5f && XMM(f, 1).s[1] == -2.25f);
    assert_int_equal(XMM(f, 1).q[1], 0);
}

/* ------------------------------------------------------------------ movnti, maskmovdqu */

static void test_nontemporal_stores(void **state)
{
    struct fixture *f = *state;
    /* movnti [DATA], eax: a general-register store, no CR4.OSFXSR needed; #UD without SSE2 */
    f->cpu->gpr[X86_EAX] = 0xCAFEF00Du;
    f->cpu->cr4 &= ~X86_CR4_OSFXSR;
    assert_int_equal(EXEC(f, 0x0F, 0xC3, 0x05, 0x00, 0x30, 0x00, 0x00), -1);
    uint32_t v = 0;
    assert_int_equal(test_read_physical(f->m, DATA, &v, 4), X86IRQ_OK);
    assert_int_equal(v, 0xCAFEF00Du);
    f->cpu->simd = X86_SIMD_SSE;
    assert_int_equal(EXEC(f, 0x0F, 0xC3, 0x05, 0x00, 0x30, 0x00, 0x00), X86_VEC_UD);
    f->cpu->simd |= X86_SIMD_SSE2;
    f->cpu->cr4 |= X86_CR4_OSFXSR;
    /* maskmovdqu xmm1, xmm2: bytes 0, 5 and 15 of xmm1 to DS:[EDI] */
    uint8_t zero[16] = { 0 }, got[16];
    assert_int_equal(test_write_physical(f->m, DATA + 0x100, zero, 16), X86IRQ_OK);
    for (unsigned i = 0; i < 16; i++) {
        XMM(f, 1).b[i] = (uint8_t)(0xA0 + i);
        XMM(f, 2).b[i] = (i == 0 || i == 5 || i == 15) ? 0x80 : 0x7F;
    }
    f->cpu->gpr[X86_EDI] = DATA + 0x100;
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xF7, 0xCA), -1);
    assert_int_equal(test_read_physical(f->m, DATA + 0x100, got, 16), X86IRQ_OK);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(got[i], (i == 0 || i == 5 || i == 15) ? 0xA0 + i : 0);
    /* a memory form does not exist (#UD); 16 bytes past the segment limit: #GP, nothing
     * written */
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xF7, 0x0D, 0x00, 0x30, 0x00, 0x00), X86_VEC_UD);
    f->cpu->seg[X86_SEG_DS].limit = DATA + 0x108;
    x86_segment_refresh(f->cpu, X86_SEG_DS);
    assert_int_equal(test_write_physical(f->m, DATA + 0x100, zero, 16), X86IRQ_OK);
    assert_int_equal(EXEC(f, 0x66, 0x0F, 0xF7, 0xCA), X86_VEC_GP);
    assert_int_equal(test_read_physical(f->m, DATA + 0x100, got, 16), X86IRQ_OK);
    assert_memory_equal(got, zero, 16);
}

/* fisttp (SSE3's x87 instruction): truncates whatever FCW.RC says, pops; #UD without SSE3 */
static void test_fisttp(void **state)
{
    struct fixture *f = *state;
    float v = -2.75f;
    assert_int_equal(test_write_physical(f->m, DATA, &v, 4), X86IRQ_OK);
    /* fninit; fld dword [DATA]; fisttp dword [DATA+4] */
    assert_int_equal(EXEC(f, 0xDB, 0xE3), -1);
    assert_int_equal(EXEC(f, 0xD9, 0x05, 0x00, 0x30, 0x00, 0x00), -1);
    uint16_t top = (f->cpu->fpu.status >> 11) & 7;
    assert_int_equal(EXEC(f, 0xDB, 0x0D, 0x04, 0x30, 0x00, 0x00), -1);
    int32_t got = 0;
    assert_int_equal(test_read_physical(f->m, DATA + 4, &got, 4), X86IRQ_OK);
    assert_int_equal(got, -2); /* fistp would give -3 (to nearest) */
    assert_int_equal((f->cpu->fpu.status >> 11) & 7, (top + 1) & 7); /* popped */
    assert_int_equal(f->cpu->fpu.control & 0x0C00, 0); /* RC as it was */
    /* the 16- and 64-bit forms */
    assert_int_equal(EXEC(f, 0xD9, 0x05, 0x00, 0x30, 0x00, 0x00), -1);
    assert_int_equal(EXEC(f, 0xDF, 0x0D, 0x08, 0x30, 0x00, 0x00), -1);  /* fisttp word */
    int16_t w = 0;
    assert_int_equal(test_read_physical(f->m, DATA + 8, &w, 2), X86IRQ_OK);
    assert_int_equal(w, -2);
    assert_int_equal(EXEC(f, 0xD9, 0x05, 0x00, 0x30, 0x00, 0x00), -1);
    assert_int_equal(EXEC(f, 0xDD, 0x0D, 0x10, 0x30, 0x00, 0x00), -1);  /* fisttp qword */
    int64_t q = 0;
    assert_int_equal(test_read_physical(f->m, DATA + 0x10, &q, 8), X86IRQ_OK);
    assert_int_equal(q, -2);
    f->cpu->simd = X86_SIMD_SSE | X86_SIMD_SSE2;
    assert_int_equal(EXEC(f, 0xDB, 0x0D, 0x04, 0x30, 0x00, 0x00), X86_VEC_UD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xm_or_ud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packed_precise_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse3_sse41_against_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse3_sse41_against_host64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_reciprocals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversions32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nontemporal_stores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fisttp, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
