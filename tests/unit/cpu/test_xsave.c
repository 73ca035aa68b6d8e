/* Unit tests of XSAVE (src/cpu/exec_simd_state.c, xstate.h, the legacy-region components in
 * x87.c, CPUID leaf 0xD in exec_system.c, CR4.OSXSAVE in control.c): the entry conditions
 * (#UD by CPUID and CR4.OSXSAVE, #NM by CR0.TS, #GP(0) for a misaligned area), XGETBV/XSETBV
 * and their #GP rules, CPUID's values, the image byte by byte against the HOST's own xsave64 /
 * xsavec64 on the same random state (the host is x86-64 with XSAVE and XSAVEC), XRSTOR against
 * the host's xrstor64 on random images, round trips and
 * partial requested-feature bitmaps in 32- and 64-bit mode, XRSTOR's init-state restore and
 * #GP rules (a faulting XRSTOR changes nothing), a faulting XSAVE writes nothing, XINUSE, and
 * XCR0 at reset and INIT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cpuid.h>

#include "simd_fixture.h"
#include "cpu/segment.h"

#define AREA 0x4000u   /* the XSAVE area (64-byte aligned) */

/* the instructions, with the area at [edi] / [rdi] */
#define XSAVE 0x0F, 0xAE, 0x27
#define XRSTOR 0x0F, 0xAE, 0x2F
#define XSAVEOPT 0x0F, 0xAE, 0x37
#define XSAVEC 0x0F, 0xC7, 0x27
#define XGETBV 0x0F, 0x01, 0xD0
#define XSETBV 0x0F, 0x01, 0xD1

static int setup(void **state)
{
    struct fixture *f = simd_fixture_create(state, X86_SIMD_ALL);
    f->cpu->cr4 |= X86_CR4_OSXSAVE;
    f->cpu->xcr0 = 3;
    f->cpu->gpr[X86_EDI] = AREA;
    return 0;
}

/* 64-bit mode (simd_fixture_long64: 2-4 MiB not present, for the precise stores) */
static int setup64(void **state)
{
    setup(state);
    simd_fixture_long64(*state);
    return 0;
}

/* ------------------------------------------------------------------ a random state */

struct state {
    union x86_xmm xmm[16];
    uint32_t mxcsr;
    uint16_t fcw;
    uint8_t x87[3][16];  /* three m80 operands (normal numbers), 16 bytes apart */
    unsigned loads;      /* how many of them are loaded (0-3) */
};

static void random_state(struct state *s)
{
    for (unsigned i = 0; i < 16; i++) {
        s->xmm[i].q[0] = rng();
        s->xmm[i].q[1] = (rng() & 7) == 0 ? 0 : rng();
    }
    s->mxcsr = (uint32_t)rng() & X86_MXCSR_MASK;
    s->fcw = (uint16_t)((rng() & 0x0F3F) | 0x0040);
    memset(s->x87, 0, sizeof(s->x87));
    for (unsigned i = 0; i < 3; i++) {
        uint64_t mantissa = rng() | (1ull << 63);
        uint16_t exponent = (uint16_t)(1 + rng() % 0x7FFE) | (uint16_t)(rng() & 0x8000);
        memcpy(s->x87[i], &mantissa, 8);
        memcpy(s->x87[i] + 8, &exponent, 2);
    }
    s->loads = 1 + (unsigned)(rng() % 3);
}

/* The emulated processor in state s: XMM and MXCSR directly, the x87 by fninit, fldcw and the
 * loads (as the host does it) */
static void enter_state(struct fixture *f, const struct state *s)
{
    memcpy(f->cpu->sse.xmm, s->xmm, sizeof(s->xmm));
    f->cpu->sse.mxcsr = s->mxcsr;
    assert_int_equal(test_write_physical(f->m, DATA, s->x87, sizeof(s->x87)), X86IRQ_OK);
    assert_int_equal(test_write_physical(f->m, DATA + 48, &s->fcw, 2), X86IRQ_OK);
    f->cpu->gpr[X86_EBX] = DATA;
    assert_int_equal(EXEC(f, 0xDB, 0xE3, 0xD9, 0x6B, 0x30), -1);   /* fninit; fldcw [ebx+48] */
    for (unsigned i = 0; i < s->loads; i++)
        assert_int_equal(EXEC(f, 0xDB, 0x6B, (uint8_t)(16 * i)), -1); /* fld tword [ebx+16i] */
}

/* The host's xsave64 (compact: xsavec64) of the same state with EDX:EAX = 0:rfbm, into area
 * (64-byte aligned, prefilled by the caller); the host's x87, XMM and MXCSR are left clean */
static _Alignas(64) uint8_t init_image[576];
static void host_xsave(const struct state *s, uint8_t *area, uint32_t rfbm, bool compact)
{
    uint32_t mxcsr = s->mxcsr, clean = X86_MXCSR_RESET;
    /* XMM registers all 0: the host's SSE put in its initial configuration by an XRSTOR with
     * XSTATE_BV[1] = 0, so that its XINUSE[1] (which it tracks by history) is 0 as ours is */
    bool sse_init = true;
    for (unsigned i = 0; i < 16; i++)
        if (s->xmm[i].q[0] | s->xmm[i].q[1])
            sse_init = false;
    memset(init_image, 0, sizeof(init_image));
    memcpy(init_image + 24, &mxcsr, 4); /* (the host's LDMXCSR sets its XINUSE[1]) */
    uint16_t fcw = s->fcw;
    unsigned loads = s->loads;
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n"
        "movdqu 48(%0), %%xmm3\n movdqu 64(%0), %%xmm4\n movdqu 80(%0), %%xmm5\n"
        "movdqu 96(%0), %%xmm6\n movdqu 112(%0), %%xmm7\n movdqu 128(%0), %%xmm8\n"
        "movdqu 144(%0), %%xmm9\n movdqu 160(%0), %%xmm10\n movdqu 176(%0), %%xmm11\n"
        "movdqu 192(%0), %%xmm12\n movdqu 208(%0), %%xmm13\n movdqu 224(%0), %%xmm14\n"
        "movdqu 240(%0), %%xmm15\n"
        "ldmxcsr %2\n"
        "cmpl $0, %9\n je 4f\n movl $2, %%eax\n xorl %%edx, %%edx\n xrstor64 (%10)\n4:\n"
        "fninit\n fldcw %3\n"
        "cmpl $1, %6\n jb 1f\n fldt 0(%1)\n"
        "cmpl $2, %6\n jb 1f\n fldt 16(%1)\n"
        "cmpl $3, %6\n jb 1f\n fldt 32(%1)\n"
        "1:\n xorl %%edx, %%edx\n movl %5, %%eax\n"
        "cmpl $0, %7\n jne 2f\n xsave64 (%4)\n jmp 3f\n2:\n xsavec64 (%4)\n3:\n"
        "fninit\n ldmxcsr %8\n"
        "pxor %%xmm0, %%xmm0\n"
        :
        : "r"(s->xmm), "r"(s->x87), "m"(mxcsr), "m"(fcw), "r"(area), "r"(rfbm), "r"(loads),
          "r"((unsigned)compact), "m"(clean), "r"((unsigned)sse_init), "r"(init_image)
        : "rax", "rdx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

/* bytes 6-23 (FOP, FIP, FDP: the host's are its last x87 instruction's; 0 here, docs/isa.md)
 * are not compared */
static void compare_images(const uint8_t *ours, const uint8_t *host, unsigned size,
                           bool xmm8_15, unsigned loads)
{
    for (unsigned i = 0; i < size; i++) {
        if (i >= 6 && i < 24)
            continue;
        /* an empty register's slot holds what the physical register had before (FNINIT leaves
         * the contents): the host's are from earlier code */
        if (i >= 32 + 16 * loads && i < 160)
            continue;
        if (!xmm8_15 && i >= 288 && i < 416)
            continue;
        /* MXCSR_MASK's bits above 15 are not Intel's: an AMD host sets bit 17 (MM, its
         * misaligned-exception mask, AMD APM Vol. 4 FXSAVE); ours is Intel's 0x0000FFFF */
        if (i == 30 && ours[i] == 0 && host[i] == 0x02)
            continue;
        if (ours[i] != host[i])
            fail_msg("byte %u: ours %02x, the host's %02x", i, ours[i], host[i]);
    }
}

static bool host_has(unsigned leaf, unsigned sub, unsigned reg, unsigned bit)
{
    unsigned r[4];
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    return (r[reg] >> bit) & 1;
}

/* ------------------------------------------------------------------ CPUID, CR4, entry */

static void cpuid(struct fixture *f, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    f->cpu->gpr[X86_EAX] = leaf;
    f->cpu->gpr[X86_ECX] = sub;
    assert_int_equal(EXEC(f, 0x0F, 0xA2), -1);
    out[0] = (uint32_t)f->cpu->gpr[X86_EAX];
    out[1] = (uint32_t)f->cpu->gpr[X86_EBX];
    out[2] = (uint32_t)f->cpu->gpr[X86_ECX];
    out[3] = (uint32_t)f->cpu->gpr[X86_EDX];
}

static void test_cpuid_cr4(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    uint32_t r[4];
    cpuid(f, 0, 0, r);
    assert_int_equal(r[0], 0xD);
    cpuid(f, 1, 0, r);
    assert_true(r[2] & (1u << 26));
    assert_true(r[2] & (1u << 27));                 /* OSXSAVE = CR4.OSXSAVE */
    cpuid(f, 0xD, 0, r);
    assert_int_equal(r[0], 3);
    assert_int_equal(r[1], 576);
    assert_int_equal(r[2], 576);
    assert_int_equal(r[3], 0);
    cpuid(f, 0xD, 1, r);
    assert_int_equal(r[0], 7);                      /* XSAVEOPT, XSAVEC, XGETBV ECX=1 */
    assert_int_equal(r[2], 0);
    assert_int_equal(r[3], 0);
    for (uint32_t sub = 2; sub < 64; sub += 7) {
        cpuid(f, 0xD, sub, r);
        assert_true(!r[0] && !r[1] && !r[2] && !r[3]);
    }
    cpuid(f, 0xB, 0, r);
    assert_true(!r[0] && !r[1] && !r[2] && !r[3]);  /* no topology leaf */
    cpuid(f, 0xC, 0, r);
    assert_true(!r[0] && !r[1] && !r[2] && !r[3]);
    /* CR4.OSXSAVE: clear, CPUID.1:ECX[27] follows */
    cpu->gpr[X86_EAX] = cpu->cr4 & ~X86_CR4_OSXSAVE;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xE0), -1);              /* mov cr4, eax */
    cpuid(f, 1, 0, r);
    assert_true(r[2] & (1u << 26));
    assert_false(r[2] & (1u << 27));
    /* without XSAVE: no bit 26, leaf 0xD zero, CR4.OSXSAVE reserved (#GP) */
    cpu->simd = X86_SIMD_ALL & ~X86_SIMD_XSAVE;
    cpuid(f, 1, 0, r);
    assert_false(r[2] & (1u << 26));
    cpuid(f, 0, 0, r);
    assert_int_equal(r[0], 0xA);                    /* the maximum basic leaf as before */
    cpu->gpr[X86_EAX] = cpu->cr4 | X86_CR4_OSXSAVE;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xE0), X86_VEC_GP);
    assert_false(cpu->cr4 & X86_CR4_OSXSAVE);
    cpu->simd = X86_SIMD_ALL;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xE0), -1);
    assert_true(cpu->cr4 & X86_CR4_OSXSAVE);
}

static void test_entry_conditions(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    assert_int_equal(EXEC(f, XSAVE), -1);
    assert_int_equal(EXEC(f, XSAVEC), -1);
    assert_int_equal(EXEC(f, XSAVEOPT), -1);
    assert_int_equal(EXEC(f, XSAVE), -1);
    assert_int_equal(EXEC(f, XRSTOR), -1);
    /* CR0.TS: #NM; CR0.EM is not looked at */
    cpu->cr0 |= X86_CR0_TS;
    assert_int_equal(EXEC(f, XSAVE), X86_VEC_NM);
    assert_int_equal(EXEC(f, XRSTOR), X86_VEC_NM);
    assert_int_equal(EXEC(f, XSAVEC), X86_VEC_NM);
    assert_int_equal(EXEC(f, XSAVEOPT), X86_VEC_NM);
    assert_int_equal(EXEC(f, XGETBV), -1);                        /* no #NM */
    cpu->cr0 &= ~X86_CR0_TS;
    cpu->cr0 |= X86_CR0_EM;
    assert_int_equal(EXEC(f, XSAVE), -1);
    assert_int_equal(EXEC(f, XRSTOR), -1);
    cpu->cr0 &= ~X86_CR0_EM;
    /* a 16-byte but not 64-byte aligned area: #GP(0) */
    cpu->gpr[X86_EDI] = AREA + 16;
    assert_int_equal(EXEC(f, XSAVE), X86_VEC_GP);
    assert_int_equal(EXEC(f, XRSTOR), X86_VEC_GP);
    assert_int_equal(EXEC(f, XSAVEC), X86_VEC_GP);
    assert_int_equal(EXEC(f, XSAVEOPT), X86_VEC_GP);
    cpu->gpr[X86_EDI] = AREA + 32;                                /* the segment base counts */
    cpu->seg[X86_SEG_ES].base = 32;
    assert_int_equal(EXEC(f, 0x26, XSAVE), -1);
    cpu->seg[X86_SEG_ES].base = 0;
    cpu->gpr[X86_EDI] = AREA;
    /* CR4.OSXSAVE clear: #UD, before #NM */
    cpu->cr4 &= ~X86_CR4_OSXSAVE;
    cpu->cr0 |= X86_CR0_TS;
    assert_int_equal(EXEC(f, XSAVE), X86_VEC_UD);
    assert_int_equal(EXEC(f, XRSTOR), X86_VEC_UD);
    assert_int_equal(EXEC(f, XSAVEC), X86_VEC_UD);
    assert_int_equal(EXEC(f, XSAVEOPT), X86_VEC_UD);
    assert_int_equal(EXEC(f, XGETBV), X86_VEC_UD);
    assert_int_equal(EXEC(f, XSETBV), X86_VEC_UD);
    cpu->cr0 &= ~X86_CR0_TS;
    cpu->cr4 |= X86_CR4_OSXSAVE;
    /* the NP forms only: 66/F3/F2 make other instructions (clwb, ptwrite...), LOCK is #UD */
    assert_int_equal(EXEC(f, 0x66, XSAVEOPT), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0x66, XSAVE), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF3, XSAVE), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF2, XRSTOR), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0x66, XSAVEC), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF0, XSAVE), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF0, XSETBV), X86_VEC_UD);
    /* 0F C7 /4 with a register operand is not xsavec */
    assert_int_equal(EXEC(f, 0x0F, 0xC7, 0xE0), X86_VEC_UD);
}

/* ------------------------------------------------------------------ XGETBV / XSETBV */

static int xsetbv(struct fixture *f, uint32_t ecx, uint64_t v)
{
    f->cpu->gpr[X86_ECX] = ecx;
    f->cpu->gpr[X86_EAX] = (uint32_t)v;
    f->cpu->gpr[X86_EDX] = (uint32_t)(v >> 32);
    return EXEC(f, XSETBV);
}
static uint64_t xgetbv(struct fixture *f, uint32_t ecx, int expect)
{
    f->cpu->gpr[X86_ECX] = ecx;
    f->cpu->gpr[X86_EAX] = f->cpu->gpr[X86_EDX] = 0xDEADBEEFDEADBEEFull;
    assert_int_equal(EXEC(f, XGETBV), expect);
    return f->cpu->gpr[X86_EAX] | (f->cpu->gpr[X86_EDX] << 32);
}

static void test_xsetbv_xgetbv(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    assert_int_equal(xsetbv(f, 0, 1), -1);
    assert_int_equal(xgetbv(f, 0, -1), 1);
    assert_int_equal(xsetbv(f, 0, 3), -1);
    assert_int_equal(xgetbv(f, 0, -1), 3);
    /* #GP(0) and XCR0 unchanged: bit 0 clear, AVX without SSE, AVX (not offered), any other
     * bit, ECX not 0 */
    static const uint64_t bad[] = { 0, 2, 5, 7, 8, 1ull << 32, 1ull << 63, 0x201, 0xE3 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(xsetbv(f, 0, bad[i]), X86_VEC_GP);
        assert_int_equal(cpu->xcr0, 3);
    }
    assert_int_equal(xsetbv(f, 1, 3), X86_VEC_GP);
    assert_int_equal(xsetbv(f, 0x80000000u, 1), X86_VEC_GP);
    assert_int_equal(cpu->xcr0, 3);
    /* CPL 3 (protected mode, paging off): #GP(0); XGETBV runs at any CPL */
    assert_true(cpu->cr0 & X86_CR0_PE);
    cpu->cpl = 3;
    assert_int_equal(xsetbv(f, 0, 1), X86_VEC_GP);
    assert_int_equal(xgetbv(f, 0, -1), 3);
    cpu->cpl = 0;
    /* XGETBV: ECX 1 is XCR0 AND XINUSE, others #GP(0) */
    memset(cpu->sse.xmm, 0, sizeof(cpu->sse.xmm));
    assert_int_equal(EXEC(f, 0xDB, 0xE3), -1);                    /* fninit */
    memset(cpu->fpu.st, 0, sizeof(cpu->fpu.st));
    assert_int_equal(xgetbv(f, 1, -1), 0);
    XMM(f, 9).q[1] = 1;
    assert_int_equal(xgetbv(f, 1, -1), 2);
    cpu->fpu.control = 0x27F;
    assert_int_equal(xgetbv(f, 1, -1), 3);
    cpu->xcr0 = 1;
    assert_int_equal(xgetbv(f, 1, -1), 1);
    assert_int_equal(xgetbv(f, 2, X86_VEC_GP), 0xDEADBEEFDEADBEEFull);
    assert_int_equal(xgetbv(f, 0xFFFFFFFFu, X86_VEC_GP), 0xDEADBEEFDEADBEEFull);
    /* the host's XGETBV(1) is not comparable (it tracks XINUSE by history); its XCR0 has
     * bits 0 and 1 set as ours may */
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    assert_int_equal(lo & 3, 3);
}

static void test_xsetbv64_and_reset(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    cpu->gpr[X86_ECX] = 0xFFFFFFFF00000000ull;                  /* ECX is 0: RCX's high half */
    cpu->gpr[X86_EAX] = 0xFFFFFFFF00000001ull;                  /* ignored */
    cpu->gpr[X86_EDX] = 0xFFFFFFFF00000000ull;
    assert_int_equal(EXEC(f, XSETBV), -1);
    assert_int_equal(cpu->xcr0, 1);
    cpu->gpr[X86_ECX] = 0;
    assert_int_equal(EXEC(f, XGETBV), -1);
    assert_int_equal(cpu->gpr[X86_EAX], 1);                     /* zero-extended */
    assert_int_equal(cpu->gpr[X86_EDX], 0);
    assert_int_equal(EXEC(f, 0x48, XSETBV), -1);                /* REX.W: the same */
    /* INIT leaves XCR0 (SDM Vol. 3 Table 9-1), reset makes it 1 */
    cpu->xcr0 = 3;
    x86_cpu_init_signal(cpu);
    assert_int_equal(cpu->xcr0, 3);
    assert_false(cpu->cr4 & X86_CR4_OSXSAVE);
    x86_cpu_reset(cpu);
    assert_int_equal(cpu->xcr0, 1);
}

/* ------------------------------------------------------------------ images against the host */

#define IMAGE 4096
static _Alignas(64) uint8_t host_area[IMAGE];

static void prefill(struct fixture *f, uint8_t *host, uint64_t header_bv)
{
    uint8_t fill[IMAGE];
    for (unsigned i = 0; i < IMAGE; i++)
        fill[i] = (uint8_t)(0xA5 ^ i);
    memset(fill + 512, 0, 64);
    memcpy(fill + 512, &header_bv, 8);
    memcpy(host, fill, IMAGE);
    assert_int_equal(test_write_physical(f->m, AREA, fill, IMAGE), X86IRQ_OK);
}

static void against_host(struct fixture *f, bool compact, unsigned cases)
{
    bool sixty_four = f->cpu->mode == X86_MODE_64;
    for (unsigned n = 0; n < cases; n++) {
        struct state s;
        random_state(&s);
        if ((n & 3) == 1) {
            /* the init optimization: SSE in its initial configuration */
            memset(s.xmm, 0, sizeof(s.xmm));
            if (n & 4)
                s.mxcsr = X86_MXCSR_RESET;
        }
        uint32_t rfbm = n < 8 ? 3 : (uint32_t)(1 + rng() % 3);
        /* the old XSTATE_BV: bits beyond RFBM stay (standard form) */
        uint64_t old_bv = compact ? 0 : (rng() & 3);
        prefill(f, host_area, old_bv);
        enter_state(f, &s);
        f->cpu->gpr[X86_EAX] = rfbm | 0xFFFFFFF0u;                 /* XCR0 masks the rest */
        f->cpu->gpr[X86_EDX] = 0xFFFFFFFFu;
        if (compact)
            assert_int_equal(sixty_four ? EXEC(f, 0x48, XSAVEC) : EXEC(f, XSAVEC), -1);
        else
            assert_int_equal(sixty_four ? EXEC(f, 0x48, XSAVE) : EXEC(f, XSAVE), -1);
        uint8_t ours[IMAGE];
        assert_int_equal(test_read_physical(f->m, AREA, ours, IMAGE), X86IRQ_OK);
        host_xsave(&s, host_area, rfbm, compact);
        if (!sixty_four) {
            /* outside 64-bit mode XMM8-15 are not part of the image */
            for (unsigned i = 288; i < 416; i++)
                assert_int_equal(ours[i], (uint8_t)(0xA5 ^ i));
        }
        compare_images(ours, host_area, IMAGE, sixty_four, s.loads);
    }
}

/* the host's XSAVE enabled by its kernel: CPUID.1:ECX.OSXSAVE */
static bool host_xsave_ok(void)
{
    return host_has(1, 0, 2, 27);
}
static void test_xsave_against_host64(void **state)
{
    if (!host_xsave_ok())
        skip();
    against_host(*state, false, 300);
}
static void test_xsave_against_host32(void **state)
{
    if (!host_xsave_ok())
        skip();
    against_host(*state, false, 100);
}
static void test_xsavec_against_host64(void **state)
{
    if (!host_xsave_ok() || !host_has(0xD, 1, 0, 1))
        skip();
    against_host(*state, true, 300);
}
static void test_xsavec_against_host32(void **state)
{
    if (!host_xsave_ok() || !host_has(0xD, 1, 0, 1))
        skip();
    against_host(*state, true, 100);
}

/* XRSTOR against the host: from a random state B, xrstor64 of a random valid image (standard
 * or compacted, random XSTATE_BV and RFBM), then the whole state read back with xsave64 (RFBM
 * 3) and compared: FCW, FSW, the abridged tag, MXCSR, XMM0-15, and the registers when RFBM[0]
 * (otherwise the empty registers keep what each processor had) */
static void host_xrstor(const struct state *s, const uint8_t *image, uint32_t rfbm, uint8_t *out)
{
    uint32_t mxcsr = s->mxcsr, clean = X86_MXCSR_RESET;
    uint16_t fcw = s->fcw;
    unsigned loads = s->loads;
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n"
        "movdqu 48(%0), %%xmm3\n movdqu 64(%0), %%xmm4\n movdqu 80(%0), %%xmm5\n"
        "movdqu 96(%0), %%xmm6\n movdqu 112(%0), %%xmm7\n movdqu 128(%0), %%xmm8\n"
        "movdqu 144(%0), %%xmm9\n movdqu 160(%0), %%xmm10\n movdqu 176(%0), %%xmm11\n"
        "movdqu 192(%0), %%xmm12\n movdqu 208(%0), %%xmm13\n movdqu 224(%0), %%xmm14\n"
        "movdqu 240(%0), %%xmm15\n"
        "ldmxcsr %2\n fninit\n fldcw %3\n"
        "cmpl $1, %6\n jb 1f\n fldt 0(%1)\n"
        "cmpl $2, %6\n jb 1f\n fldt 16(%1)\n"
        "cmpl $3, %6\n jb 1f\n fldt 32(%1)\n"
        "1:\n xorl %%edx, %%edx\n movl %5, %%eax\n xrstor64 (%7)\n"
        "xorl %%edx, %%edx\n movl $3, %%eax\n xsave64 (%4)\n"
        "fninit\n ldmxcsr %8\n pxor %%xmm0, %%xmm0\n"
        :
        : "r"(s->xmm), "r"(s->x87), "m"(mxcsr), "m"(fcw), "r"(out), "r"(rfbm), "r"(loads),
          "r"(image), "m"(clean)
        : "rax", "rdx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

static _Alignas(64) uint8_t image_area[IMAGE];
static _Alignas(64) uint8_t host_out[IMAGE];

static void test_xrstor_against_host64(void **state)
{
    struct fixture *f = *state;
    if (!host_xsave_ok())
        skip();
    for (unsigned n = 0; n < 400; n++) {
        /* a valid image: the host's xsave64 of a random state, then a random header */
        struct state img_state, b;
        random_state(&img_state);
        if ((n & 7) == 3)
            memset(img_state.xmm, 0, sizeof(img_state.xmm));
        memset(image_area, 0, IMAGE);
        host_xsave(&img_state, image_area, 3, false);
        uint64_t xstate_bv = rng() & 3, xcomp_bv = 0;
        if (n & 1)
            xcomp_bv = (1ull << 63) | xstate_bv | (rng() & 3);
        memcpy(image_area + 512, &xstate_bv, 8);
        memcpy(image_area + 520, &xcomp_bv, 8);
        uint32_t rfbm = (uint32_t)(rng() & 3);
        random_state(&b);
        memset(host_out, 0, IMAGE);
        host_xrstor(&b, image_area, rfbm, host_out);
        /* ours */
        enter_state(f, &b);
        assert_int_equal(test_write_physical(f->m, AREA, image_area, IMAGE), X86IRQ_OK);
        f->cpu->gpr[X86_EAX] = rfbm;
        f->cpu->gpr[X86_EDX] = 0;
        assert_int_equal(EXEC(f, 0x48, XRSTOR), -1);
        uint8_t zero[IMAGE] = { 0 };
        assert_int_equal(test_write_physical(f->m, AREA, zero, IMAGE), X86IRQ_OK);
        f->cpu->gpr[X86_EAX] = 3;
        assert_int_equal(EXEC(f, 0x48, XSAVE), -1);
        uint8_t ours[IMAGE];
        assert_int_equal(test_read_physical(f->m, AREA, ours, IMAGE), X86IRQ_OK);
        for (unsigned i = 0; i < 416; i++) {
            if (i >= 6 && i < 24)
                continue;
            if (i >= 32 && i < 160 && !(rfbm & 1))
                continue;
            if (i == 30 && ours[i] == 0 && host_out[i] == 0x02)
                continue; /* MXCSR_MASK bit 17: the host's vendor's (compare_images) */
            if (ours[i] != host_out[i])
                fail_msg("case %u (XSTATE_BV %x, XCOMP_BV %llx, RFBM %x): byte %u ours %02x, the "
                         "host's %02x", n, (unsigned)xstate_bv, (unsigned long long)xcomp_bv,
                         rfbm, i, ours[i], host_out[i]);
        }
    }
}

/* ------------------------------------------------------------------ layout and round trips */

static void test_layout(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    struct state s;
    random_state(&s);
    s.loads = 3;
    prefill(f, host_area, 0xF0);                                  /* XSTATE_BV bits 4-7 */
    enter_state(f, &s);
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    assert_int_equal(EXEC(f, XSAVE), -1);
    uint8_t img[IMAGE];
    assert_int_equal(test_read_physical(f->m, AREA, img, IMAGE), X86IRQ_OK);
    uint16_t fcw, fsw;
    memcpy(&fcw, img, 2);
    memcpy(&fsw, img + 2, 2);
    assert_int_equal(fcw, s.fcw);
    assert_int_equal((fsw >> 11) & 7, 5);                         /* TOP after three loads */
    assert_int_equal(img[4], 0xE0);                               /* R5-R7 in use */
    for (unsigned i = 6; i < 24; i++)
        assert_int_equal(img[i], 0);
    uint32_t word;
    memcpy(&word, img + 24, 4);
    assert_int_equal(word, s.mxcsr);
    memcpy(&word, img + 28, 4);
    assert_int_equal(word, X86_MXCSR_MASK);
    for (unsigned i = 0; i < 3; i++) {                            /* ST(0) the last loaded */
        assert_memory_equal(img + 32 + 16 * i, s.x87[2 - i], 10);
        for (unsigned b = 10; b < 16; b++)
            assert_int_equal(img[32 + 16 * i + b], 0);
    }
    for (unsigned i = 0; i < 8; i++)
        assert_memory_equal(img + 160 + 16 * i, s.xmm[i].b, 16);
    for (unsigned i = 288; i < 512; i++)                          /* XMM8-15, reserved: left */
        assert_int_equal(img[i], (uint8_t)(0xA5 ^ i));
    assert_int_equal(get64(f, AREA + 512), 0xF3);                 /* old bits 4-7 stay */
    for (unsigned i = 520; i < 576; i++)
        assert_int_equal(img[i], 0);
    /* RFBM 1: the x87 only: MXCSR and XMM are not written */
    prefill(f, host_area, 0);
    cpu->gpr[X86_EAX] = 1;
    assert_int_equal(EXEC(f, XSAVE), -1);
    assert_int_equal(test_read_physical(f->m, AREA, img, IMAGE), X86IRQ_OK);
    assert_int_equal(img[24], (uint8_t)(0xA5 ^ 24));
    assert_int_equal(img[160], (uint8_t)(0xA5 ^ 160));
    assert_int_equal(get64(f, AREA + 512), 1);
    /* RFBM 2: MXCSR and XMM, no x87 */
    prefill(f, host_area, 0);
    cpu->gpr[X86_EAX] = 2;
    assert_int_equal(EXEC(f, XSAVE), -1);
    assert_int_equal(test_read_physical(f->m, AREA, img, IMAGE), X86IRQ_OK);
    assert_int_equal(img[0], (uint8_t)(0xA5 ^ 0));
    assert_int_equal(img[32], (uint8_t)(0xA5 ^ 32));
    memcpy(&word, img + 24, 4);
    assert_int_equal(word, s.mxcsr);
    assert_memory_equal(img + 160, s.xmm[0].b, 16);
    assert_int_equal(get64(f, AREA + 512), 2);
    /* XCR0 = 1: EAX 3 requests the x87 only */
    cpu->xcr0 = 1;
    prefill(f, host_area, 0);
    cpu->gpr[X86_EAX] = 3;
    assert_int_equal(EXEC(f, XSAVE), -1);
    assert_int_equal(get64(f, AREA + 512), 1);
    assert_int_equal(test_read_physical(f->m, AREA, img, IMAGE), X86IRQ_OK);
    assert_int_equal(img[160], (uint8_t)(0xA5 ^ 160));
    /* XSAVEC: XCOMP_BV = RFBM | bit 63 */
    cpu->xcr0 = 3;
    assert_int_equal(EXEC(f, XSAVEC), -1);
    assert_int_equal(get64(f, AREA + 512), 3);
    assert_int_equal(get64(f, AREA + 520), 0x8000000000000003ull);
}

static void snapshot(struct fixture *f, struct x86_fpu *fpu, struct x86_sse *sse)
{
    *fpu = f->cpu->fpu;
    *sse = f->cpu->sse;
}
static void assert_same_state(struct fixture *f, const struct x86_fpu *fpu,
                              const struct x86_sse *sse, unsigned xmm_count)
{
    assert_int_equal(f->cpu->fpu.control, fpu->control);
    assert_int_equal(f->cpu->fpu.status, fpu->status);
    assert_int_equal(f->cpu->fpu.tag, fpu->tag);
    for (unsigned i = 0; i < 8; i++)
        assert_memory_equal(&f->cpu->fpu.st[i], &fpu->st[i], 10);
    assert_int_equal(f->cpu->sse.mxcsr, sse->mxcsr);
    assert_memory_equal(f->cpu->sse.xmm, sse->xmm, xmm_count * 16);
}
static void clobber(struct fixture *f)
{
    for (unsigned i = 0; i < 16; i++)
        XMM(f, i).q[0] = XMM(f, i).q[1] = rng();
    f->cpu->sse.mxcsr = 0x1F80 ^ 0x6000;
    assert_int_equal(EXEC(f, 0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEB), -1); /* fninit fld1 fldpi */
}

static void round_trips(struct fixture *f, const uint8_t *rex)
{
    bool sixty_four = f->cpu->mode == X86_MODE_64;
    unsigned count = sixty_four ? 16 : 8;
    for (unsigned n = 0; n < 200; n++) {
        struct state s;
        random_state(&s);
        enter_state(f, &s);
        struct x86_fpu fpu;
        struct x86_sse sse;
        snapshot(f, &fpu, &sse);
        f->cpu->gpr[X86_EAX] = 3;
        f->cpu->gpr[X86_EDX] = 0;
        const uint8_t saves[3][4] = { { rex[0], XSAVE }, { rex[0], XSAVEC }, { rex[0], XSAVEOPT } };
        const uint8_t restore[4] = { rex[0], XRSTOR };
        unsigned skip = rex[0] ? 0 : 1;
        assert_int_equal(exec(f, CODE, saves[n % 3] + skip, 4 - skip), -1);
        union x86_xmm high[8];
        memcpy(high, f->cpu->sse.xmm + 8, sizeof(high));
        clobber(f);
        if (!sixty_four)
            memcpy(f->cpu->sse.xmm + 8, high, sizeof(high)); /* not part of the state here */
        assert_int_equal(exec(f, CODE, restore + skip, 4 - skip), -1);
        assert_same_state(f, &fpu, &sse, 16);
        (void)count;
    }
}
static void test_round_trips32(void **state)
{
    static const uint8_t none[1] = { 0 };
    round_trips(*state, none);
}
static void test_round_trips64(void **state)
{
    static const uint8_t w[1] = { 0x48 };
    round_trips(*state, w);
    static const uint8_t plain[1] = { 0 };
    round_trips(*state, plain);
}

/* partial RFBM on XRSTOR: the components not requested stay as they are */
static void test_partial_restore(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    struct state s;
    random_state(&s);
    enter_state(f, &s);
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    assert_int_equal(EXEC(f, XSAVE), -1);
    struct x86_fpu saved_fpu;
    struct x86_sse saved_sse;
    snapshot(f, &saved_fpu, &saved_sse);
    clobber(f);
    struct x86_fpu fpu;
    struct x86_sse sse;
    snapshot(f, &fpu, &sse);
    cpu->gpr[X86_EAX] = 1;                                        /* x87 only */
    assert_int_equal(EXEC(f, XRSTOR), -1);
    assert_same_state(f, &saved_fpu, &sse, 16);
    clobber(f);
    snapshot(f, &fpu, &sse);
    cpu->gpr[X86_EAX] = 2;                                        /* SSE (and MXCSR) only */
    assert_int_equal(EXEC(f, XRSTOR), -1);
    sse.mxcsr = saved_sse.mxcsr;
    memcpy(sse.xmm, saved_sse.xmm, 8 * 16);
    assert_same_state(f, &fpu, &sse, 16);
    clobber(f);
    snapshot(f, &fpu, &sse);
    cpu->gpr[X86_EAX] = 0;                                        /* nothing */
    assert_int_equal(EXEC(f, XRSTOR), -1);
    assert_same_state(f, &fpu, &sse, 16);
}

/* XSTATE_BV[i] = 0: the component's initial configuration; MXCSR from the image (standard
 * form), or 1F80H (compacted form, XSTATE_BV[1] = 0) */
static void test_init_restore(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    struct state s;
    random_state(&s);
    enter_state(f, &s);
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    cpu->sse.mxcsr = 0x7FC0;
    assert_int_equal(EXEC(f, XSAVE), -1);
    put64(f, AREA + 512, 0);                                      /* XSTATE_BV 0 */
    clobber(f);
    XMM(f, 12).q[0] = 77;                                         /* 32-bit mode: not SSE state */
    assert_int_equal(EXEC(f, XRSTOR), -1);
    assert_int_equal(cpu->fpu.control, 0x37F);
    assert_int_equal(cpu->fpu.status, 0);
    assert_int_equal(cpu->fpu.tag, 0xFFFF);
    for (unsigned i = 0; i < 8; i++) {
        uint8_t zero[10] = { 0 };
        assert_memory_equal(&cpu->fpu.st[i], zero, 10);
    }
    for (unsigned i = 0; i < 8; i++)
        assert_true(XMM(f, i).q[0] == 0 && XMM(f, i).q[1] == 0);
    assert_int_equal(XMM(f, 12).q[0], 77);
    assert_int_equal(cpu->sse.mxcsr, 0x7FC0);                     /* from the image */
    cpu->gpr[X86_ECX] = 1;
    assert_int_equal(EXEC(f, XGETBV), -1);
    assert_int_equal(cpu->gpr[X86_EAX], 2);                       /* XMM12 is not 0 */
    XMM(f, 12).q[0] = 0;
    memset(cpu->sse.xmm + 8, 0, 8 * sizeof(cpu->sse.xmm[0]));
    assert_int_equal(EXEC(f, XGETBV), -1);
    assert_int_equal(cpu->gpr[X86_EAX], 0);
    /* the compacted form with XSTATE_BV 0: MXCSR 1F80H */
    cpu->gpr[X86_EAX] = 3;
    put64(f, AREA + 520, 0x8000000000000003ull);
    clobber(f);
    assert_int_equal(EXEC(f, XRSTOR), -1);
    assert_int_equal(cpu->sse.mxcsr, X86_MXCSR_RESET);
    assert_int_equal(cpu->fpu.tag, 0xFFFF);
    assert_int_equal(XMM(f, 3).q[1], 0);
    /* compacted, XSTATE_BV 1 (x87 loaded): MXCSR 1F80H too; XSTATE_BV 2: from the image */
    put64(f, AREA + 512, 2);
    cpu->sse.mxcsr = 0;
    assert_int_equal(EXEC(f, XRSTOR), -1);
    assert_int_equal(cpu->sse.mxcsr, 0x7FC0);
    /* XSAVEC in the initial configuration: nothing of it written, XSTATE_BV 0 */
    memset(cpu->sse.xmm, 0, sizeof(cpu->sse.xmm));
    cpu->sse.mxcsr = X86_MXCSR_RESET;
    assert_int_equal(EXEC(f, 0xDB, 0xE3), -1);
    memset(cpu->fpu.st, 0, sizeof(cpu->fpu.st));
    prefill(f, host_area, 0);
    assert_int_equal(EXEC(f, XSAVEC), -1);
    uint8_t img[IMAGE];
    assert_int_equal(test_read_physical(f->m, AREA, img, IMAGE), X86IRQ_OK);
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(img[i], (uint8_t)(0xA5 ^ i));
    assert_int_equal(get64(f, AREA + 512), 0);
    assert_int_equal(get64(f, AREA + 520), 0x8000000000000003ull);
    /* MXCSR not 1F80H: the SSE component is saved (XMM and MXCSR) */
    cpu->sse.mxcsr = 0x1F81;
    assert_int_equal(EXEC(f, XSAVEC), -1);
    assert_int_equal(get64(f, AREA + 512), 2);
    assert_int_equal(test_get32(f->m, AREA + 24), 0x1F81);
    assert_int_equal(get64(f, AREA + 160), 0);
    /* XSAVE (standard) writes every requested component whatever XINUSE says */
    prefill(f, host_area, 0);
    assert_int_equal(EXEC(f, XSAVE), -1);
    assert_int_equal(get64(f, AREA + 512), 0);
    assert_int_equal(test_get32(f->m, AREA + 0), 0x037F);
    assert_int_equal(get64(f, AREA + 160), 0);
}

/* XRSTOR's #GP(0) rules; state unchanged after each */
static void test_xrstor_faults(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    struct state s;
    random_state(&s);
    enter_state(f, &s);
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    assert_int_equal(EXEC(f, XSAVE), -1);
    clobber(f);
    struct x86_fpu fpu;
    struct x86_sse sse;
    snapshot(f, &fpu, &sse);
    struct { uint64_t bv, comp, third; unsigned at; uint64_t extra; uint32_t mxcsr; } bad[] = {
        { 4, 0, 0, 0, 0, 0 },                       /* XSTATE_BV bit not in XCR0 */
        { 3ull | (1ull << 63), 0, 0, 0, 0, 0 },
        { 3, 1, 0, 0, 0, 0 },                       /* XCOMP_BV not 0 (standard form) */
        { 3, 0, 1ull << 40, 0, 0, 0 },              /* bytes 16-23 not 0 */
        { 3, 0x8000000000000004ull, 0, 0, 0, 0 },   /* compacted: XCOMP_BV bit not in XCR0 */
        { 3, 0x8000000000000001ull, 0, 0, 0, 0 },   /* XSTATE_BV bit not in XCOMP_BV */
        { 3, 0x8000000000000003ull, 1, 0, 0, 0 },   /* compacted: bytes 16-63 not 0 */
        { 3, 0x8000000000000003ull, 0, 568, 0x100, 0 },
        { 3, 0, 0, 0, 0, 0x10000 },                 /* MXCSR reserved bit */
        { 2, 0x8000000000000003ull, 0, 0, 0, 0x80000000u },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t mxcsr = test_get32(f->m, AREA + 24);
        put64(f, AREA + 512, bad[i].bv);
        put64(f, AREA + 520, bad[i].comp);
        put64(f, AREA + 528, bad[i].third);
        if (bad[i].at)
            put64(f, AREA + bad[i].at, bad[i].extra);
        if (bad[i].mxcsr)
            test_put32(f->m, AREA + 24, bad[i].mxcsr);
        assert_int_equal(EXEC(f, XRSTOR), X86_VEC_GP);
        assert_same_state(f, &fpu, &sse, 16);
        if (bad[i].at)
            put64(f, AREA + bad[i].at, 0);
        test_put32(f->m, AREA + 24, mxcsr);
    }
    /* an MXCSR reserved bit with RFBM[1] = 0: not loaded, no fault */
    test_put32(f->m, AREA + 24, 0x10000);
    put64(f, AREA + 512, 3);
    put64(f, AREA + 520, 0);
    put64(f, AREA + 528, 0);
    cpu->gpr[X86_EAX] = 1;
    assert_int_equal(EXEC(f, XRSTOR), -1);
    assert_int_equal(cpu->sse.mxcsr, sse.mxcsr);
    /* bytes 24-63 of the header are not checked in the standard form */
    put64(f, AREA + 560, ~0ull);
    test_put32(f->m, AREA + 24, 0x1F80);
    cpu->gpr[X86_EAX] = 3;
    assert_int_equal(EXEC(f, XRSTOR), -1);
}

/* A faulting XSAVE writes nothing; a faulting XRSTOR changes nothing (64-bit mode: 2 MiB up is
 * not present) */
static void test_precise64(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    struct state s;
    random_state(&s);
    enter_state(f, &s);
    uint64_t at = 0x200000 - 512;                               /* the header on the next page */
    uint8_t fill[512];
    memset(fill, 0x5A, sizeof(fill));
    assert_int_equal(test_write_physical(f->m, at, fill, 512), X86IRQ_OK);
    cpu->gpr[X86_EDI] = at;
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    assert_int_equal(EXEC(f, 0x48, XSAVE), X86_VEC_PF);
    assert_int_equal(EXEC(f, XSAVEC), X86_VEC_PF);
    assert_int_equal(EXEC(f, XSAVEOPT), X86_VEC_PF);
    uint8_t after[512];
    assert_int_equal(test_read_physical(f->m, at, after, 512), X86IRQ_OK);
    assert_memory_equal(after, fill, 512);
    struct x86_fpu fpu;
    struct x86_sse sse;
    snapshot(f, &fpu, &sse);
    assert_int_equal(EXEC(f, 0x48, XRSTOR), X86_VEC_PF);
    assert_same_state(f, &fpu, &sse, 16);
    /* non-canonical: #GP(0) */
    cpu->gpr[X86_EDI] = 0x0000800000000000ull;
    assert_int_equal(EXEC(f, XSAVE), X86_VEC_GP);
    cpu->gpr[X86_EDI] = AREA;
}

/* 32-bit mode: the segment limit (the area's last byte beyond it is #GP(0), nothing written) */
static void test_precise32(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    cpu->seg[X86_SEG_ES].limit = AREA + 575 - 1;
    x86_segment_refresh(cpu, X86_SEG_ES);
    prefill(f, host_area, 0);
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    assert_int_equal(EXEC(f, 0x26, XSAVE), X86_VEC_GP);
    uint8_t img[IMAGE];
    assert_int_equal(test_read_physical(f->m, AREA, img, IMAGE), X86IRQ_OK);
    for (unsigned i = 0; i < 576; i++)
        assert_int_equal(img[i], i >= 512 ? 0 : (uint8_t)(0xA5 ^ i));
    cpu->seg[X86_SEG_ES].limit = AREA + 575;
    x86_segment_refresh(cpu, X86_SEG_ES);
    assert_int_equal(EXEC(f, 0x26, XSAVE), -1);
}

/* real-address mode: XSETBV is allowed (CPL 0), XSAVE/XRSTOR with 16-bit addressing */
static void test_real_mode(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    x86_cpu_reset(cpu);
    cpu->seg[X86_SEG_CS].base = 0;
    cpu->seg[X86_SEG_CS].selector = 0;
    x86_segment_refresh(cpu, X86_SEG_CS);
    assert_int_equal(cpu->mode, X86_MODE_16);
    assert_int_equal(cpu->xcr0, 1);
    cpu->cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXSAVE;
    assert_int_equal(xsetbv(f, 0, 3), -1);
    assert_int_equal(cpu->xcr0, 3);
    XMM(f, 3).q[0] = 0x1234;
    cpu->sse.mxcsr = 0x1F81;
    prefill(f, host_area, 0);
    cpu->gpr[X86_EDI] = AREA;
    cpu->gpr[X86_EAX] = 3;
    cpu->gpr[X86_EDX] = 0;
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x25), -1);              /* xsave [di] */
    assert_int_equal(get64(f, AREA + 512), 3);      /* FCW 0040 at power-up: not the x87's init */
    assert_int_equal(get64(f, AREA + 160 + 48), 0x1234);
    assert_int_equal(test_get32(f->m, AREA + 24), 0x1F81);
    assert_int_equal(test_get32(f->m, AREA) & 0xFFFF, 0x0040);    /* FCW after reset */
    XMM(f, 3).q[0] = 0;
    cpu->sse.mxcsr = X86_MXCSR_RESET;
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x2D), -1);              /* xrstor [di] */
    assert_int_equal(XMM(f, 3).q[0], 0x1234);
    assert_int_equal(cpu->sse.mxcsr, 0x1F81);
    assert_int_equal(cpu->fpu.control, 0x0040);
    cpu->gpr[X86_EDI] = AREA + 16;
    assert_int_equal(EXEC(f, 0x0F, 0xAE, 0x25), X86_VEC_GP);      /* alignment */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cpuid_cr4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xsetbv_xgetbv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xsetbv64_and_reset, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_xsave_against_host64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_xsave_against_host32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xsavec_against_host64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_xsavec_against_host32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xrstor_against_host64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trips32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trips64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_partial_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xrstor_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precise64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_precise32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_mode, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
