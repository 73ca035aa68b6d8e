/* Guest test: the SSE state as a kernel enables and saves it (SDM Vol. 3 13.1-13.5, Vol. 1
 * ch. 13): #UD for an SSE instruction with CR4.OSFXSR clear, SSE enabled by OSFXSR and
 * OSXMMEXCPT, #NM with CR0.TS (the handler does clts and the instruction runs again), #GP(0)
 * for movaps on a misaligned address, the fxsave image (MXCSR, MXCSR_MASK, XMM0-7) and an
 * fxrstor round trip; then, when CPUID offers XSAVE: #UD for xgetbv/xsave with CR4.OSXSAVE
 * clear, CPUID.1:ECX.OSXSAVE following CR4, XCR0 = 1 after reset, XSETBV's #GP(0) cases (bit 0
 * clear, AVX without SSE, a bit CPUID.0xD does not offer, ECX not 0, CPL 3, virtual-8086
 * mode), CPUID.0xD's sizes, the xsave image (header, legacy region) and an xrstor round trip,
 * xrstor of the initial state, and the 64-byte alignment #GP. */
#include "kernel.h"

static volatile unsigned fault_vector, fault_count, nm_count;
static volatile uint32_t fault_error, skip;

/* a fault the test expects: recorded, and the instruction (skip bytes long) stepped over */
static void on_fault(struct trap_frame *f)
{
    fault_vector = f->vector;
    fault_error = f->error_code;
    fault_count++;
    f->eip += skip;
}
static void on_nm(struct trap_frame *f)
{
    (void)f;
    nm_count++;
    __asm__ volatile("clts");
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static uint32_t read_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static void write_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v)); }

/* run one faulting instruction: the vector seen (0 for none) */
#define EXPECT(len, ...) ({ fault_vector = 0; fault_count = 0; skip = (len); \
    __asm__ volatile(__VA_ARGS__); fault_count ? fault_vector : 0u; })

static int xsetbv(uint32_t ecx, uint32_t eax, uint32_t edx)
{
    fault_vector = 0;
    fault_count = 0;
    skip = 3;
    __asm__ volatile("xsetbv" : : "c"(ecx), "a"(eax), "d"(edx) : "memory");
    return fault_count ? (int)fault_vector : -1;
}
static uint64_t xgetbv(uint32_t ecx)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(ecx));
    return ((uint64_t)hi << 32) | lo;
}

static volatile int user_vector;
static void user_xsetbv(uint32_t arg)
{
    (void)arg;
    user_vector = xsetbv(0, 3, 0);
    user_return();
}

static uint8_t fx[512] __attribute__((aligned(16)));
static uint8_t xs[1024 + 64] __attribute__((aligned(64)));
static uint32_t pattern[8][4] __attribute__((aligned(16)));
static uint32_t back[8][4] __attribute__((aligned(16)));
static uint8_t misaligned[64] __attribute__((aligned(16)));

static void load_xmm(void)
{
    __asm__ volatile("movdqa 0(%0), %%xmm0\n movdqa 16(%0), %%xmm1\n movdqa 32(%0), %%xmm2\n"
                     "movdqa 48(%0), %%xmm3\n movdqa 64(%0), %%xmm4\n movdqa 80(%0), %%xmm5\n"
                     "movdqa 96(%0), %%xmm6\n movdqa 112(%0), %%xmm7\n"
                     : : "r"(pattern) : "memory");
}
static void store_xmm(void)
{
    __asm__ volatile("movdqa %%xmm0, 0(%0)\n movdqa %%xmm1, 16(%0)\n movdqa %%xmm2, 32(%0)\n"
                     "movdqa %%xmm3, 48(%0)\n movdqa %%xmm4, 64(%0)\n movdqa %%xmm5, 80(%0)\n"
                     "movdqa %%xmm6, 96(%0)\n movdqa %%xmm7, 112(%0)\n"
                     : : "r"(back) : "memory");
}
static void clobber_xmm(void)
{
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n pcmpeqd %%xmm1, %%xmm1\n pxor %%xmm2, %%xmm2\n"
                     "pxor %%xmm3, %%xmm3\n pxor %%xmm4, %%xmm4\n pxor %%xmm5, %%xmm5\n"
                     "pxor %%xmm6, %%xmm6\n pcmpeqd %%xmm7, %%xmm7\n" : : : "memory");
}
static uint32_t stmxcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}
static void ldmxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(33);
    trap_set_handler(6, on_fault, 0x8E, 0);
    trap_set_handler(13, on_fault, 0x8E, 0);
    trap_set_handler(7, on_nm, 0x8E, 0);
    uint32_t r[4];
    cpuid(1, 0, r);
    int xsave = (r[2] >> 26) & 1;
    ok((r[3] >> 25) & 1, "CPUID.1:EDX.SSE");
    for (unsigned i = 0; i < 8; i++)
        for (unsigned j = 0; j < 4; j++)
            pattern[i][j] = 0x01010101u * (i + 1) ^ (j << 28) ^ 0x00C0FFEEu;

    /* SSE off: #UD */
    __asm__ volatile("mov %%cr0, %%eax\n and $~0xC, %%eax\n or $0x22, %%eax\n mov %%eax, %%cr0"
                     ::: "eax"); /* EM = TS = 0, MP = NE = 1 */
    write_cr4(read_cr4() & ~0x40600u);
    is_u32(EXPECT(3, "xorps %%xmm0, %%xmm0" ::: "memory"), 6, "OSFXSR clear: xorps is #UD");
    write_cr4(read_cr4() | 0x600u);
    is_u32(EXPECT(3, "xorps %%xmm0, %%xmm0" ::: "memory"), 0, "OSFXSR, OSXMMEXCPT set: xorps runs");

    /* CR0.TS: #NM, clts in the handler, the instruction runs again */
    nm_count = 0;
    __asm__ volatile("mov %%cr0, %%eax\n or $8, %%eax\n mov %%eax, %%cr0" ::: "eax");
    uint32_t seven = 7, got = 0;
    __asm__ volatile("movd %1, %%xmm1\n movd %%xmm1, %0" : "=r"(got) : "r"(seven));
    is_u32(nm_count, 1, "CR0.TS: the first SSE instruction is #NM (once)");
    is_u32(got, 7, "and runs after clts");

    /* movaps from a misaligned address: #GP(0) */
    uint32_t vector = EXPECT(4, "movaps 8(%0), %%xmm2" : : "r"(misaligned) : "memory");
    is_u32(vector, 13, "movaps [misaligned]: #GP");
    is_u32(fault_error, 0, "error code 0");
    is_u32(EXPECT(4, "movups 8(%0), %%xmm2" : : "r"(misaligned) : "memory"), 0, "movups: no fault");

    /* fxsave / fxrstor */
    ldmxcsr(0x1F80 | 0x6000 | 0x40);                  /* RC toward zero, DAZ */
    load_xmm();
    memset(fx, 0, sizeof(fx));
    __asm__ volatile("fninit\n fld1\n fxsave %0" : "=m"(fx) : : "memory");
    is_u32(get32(fx + 24), 0x7FC0, "fxsave: MXCSR at 24");
    is_u32(get32(fx + 28), 0xFFFF, "fxsave: MXCSR_MASK 0xFFFF");
    ok(memcmp(fx + 160, pattern, 128) == 0, "fxsave: XMM0-7 at 160");
    is_u32(fx[4], 0x80, "fxsave: abridged tag, R7 in use");
    clobber_xmm();
    ldmxcsr(0x1F80);
    __asm__ volatile("fxrstor %0\n fninit" : : "m"(fx) : "memory");
    store_xmm();
    ok(memcmp(back, pattern, 128) == 0, "fxrstor: XMM0-7 back");
    is_u32(stmxcsr(), 0x7FC0, "fxrstor: MXCSR back");
    ldmxcsr(0x1F80);

    if (!xsave) {
        for (int i = 0; i < 19; i++)
            ok(1, "# SKIP XSAVE not offered");
        return 0;
    }
    /* CR4.OSXSAVE clear: #UD */
    cpuid(1, 0, r);
    ok(!((r[2] >> 27) & 1), "CPUID.1:ECX.OSXSAVE clear with CR4.OSXSAVE clear");
    is_u32(EXPECT(3, "xgetbv" : : "c"(0) : "eax", "edx"), 6, "xgetbv with OSXSAVE clear: #UD");
    is_u32(EXPECT(3, "xsave (%0)" : : "r"(xs), "a"(3), "d"(0) : "memory"), 6,
           "xsave with OSXSAVE clear: #UD");
    write_cr4(read_cr4() | 0x40000u);
    cpuid(1, 0, r);
    ok((r[2] >> 27) & 1, "CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE");
    is_u64(xgetbv(0), 1, "XCR0 after reset: 1 (x87)");

    /* XSETBV's #GP(0) cases */
    cpuid(0xD, 0, r);
    uint32_t offered = r[0];
    ok((offered & 3) == 3, "CPUID.0xD:EAX: x87 and SSE");
    uint32_t not_offered = 0;
    for (unsigned b = 2; b < 32 && !not_offered; b++)
        if (!((offered >> b) & 1) && b != 2)
            not_offered = 1u << b;
    is_u32(xsetbv(0, 2, 0), 13, "xsetbv: bit 0 clear is #GP");
    is_u32(xsetbv(0, 5, 0), 13, "xsetbv: AVX without SSE is #GP");
    is_u32(xsetbv(0, 3 | not_offered, 0), 13, "xsetbv: a bit CPUID.0xD does not offer is #GP");
    is_u32(xsetbv(1, 3, 0), 13, "xsetbv: ECX 1 is #GP");
    run_in_user_mode(user_xsetbv, 0);
    is_u32((uint32_t)user_vector, 13, "xsetbv at CPL 3 is #GP");
    /* virtual-8086 mode: xor ecx, ecx; mov eax, 3; xor edx, edx; xsetbv; int 0x7F */
    static const uint8_t v86_code[] = { 0x66, 0x31, 0xC9, 0x66, 0xB8, 3, 0, 0, 0, 0x66, 0x31,
                                        0xD2, 0x0F, 0x01, 0xD1, 0xCD, 0x7F };
    memcpy((void *)0x20000, v86_code, sizeof(v86_code));
    fault_vector = 0;
    fault_count = 0;
    skip = 3;
    run_in_vm86(0x2000, 0, 0x2000, 0xFFF0, 0x3000u /* IOPL 3 */);
    __asm__ volatile("mov %0, %%fs\n mov %0, %%gs" : : "r"(KERNEL_DS));
    ok(fault_count == 1 && fault_vector == 13 && xgetbv(0) == 1,
       "xsetbv in virtual-8086 mode is #GP, XCR0 unchanged");
    is_u32((uint32_t)xsetbv(0, 3, 0), (uint32_t)-1, "xsetbv 3 (x87, SSE)");
    is_u64(xgetbv(0), 3, "xgetbv: XCR0 = 3");
    cpuid(0xD, 0, r);
    ok(r[1] == 576 && r[2] >= 576, "CPUID.0xD: 576 bytes for XCR0 = 3 (EBX %u, ECX %u)", r[1], r[2]);

    /* xsave / xrstor */
    ldmxcsr(0x1F80 | 0x2000);
    load_xmm();
    memset(xs, 0, sizeof(xs));
    double two = 2.0;
    __asm__ volatile("fninit\n fldl %1\n xsave (%0)\n fninit"
                     : : "r"(xs), "m"(two), "a"(3), "d"(0) : "memory");
    ok(get64(xs + 512) == 3 && get64(xs + 520) == 0 && get32(xs + 24) == 0x3F80 &&
       get32(xs + 28) == 0xFFFF && memcmp(xs + 160, pattern, 128) == 0 &&
       (get32(xs) & 0xFFFF) == 0x037F && xs[4] == 0x80,
       "xsave: XSTATE_BV 3, XCOMP_BV 0, MXCSR, MXCSR_MASK, FCW, tag, XMM0-7 (BV %x, MXCSR %x "
       "mask %x, FCW %x, tag %x, XMM %d)", (unsigned)get64(xs + 512), get32(xs + 24),
       get32(xs + 28), get32(xs) & 0xFFFF, xs[4], memcmp(xs + 160, pattern, 128));
    clobber_xmm();
    ldmxcsr(0x1F80);
    double out = 0;
    __asm__ volatile("xrstor (%1)\n fstpl %0" : "=m"(out) : "r"(xs), "a"(3), "d"(0) : "memory");
    store_xmm();
    ok(memcmp(back, pattern, 128) == 0 && stmxcsr() == 0x3F80 && out == 2.0,
       "xrstor: XMM0-7, MXCSR and ST(0) back");
    /* XSTATE_BV 0: the initial state (MXCSR from the image) */
    xs[512] = 0;
    __asm__ volatile("xrstor (%0)" : : "r"(xs), "a"(3), "d"(0) : "memory");
    store_xmm();
    uint16_t fcw;
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    static const uint32_t zero[8][4];
    ok(memcmp(back, zero, 128) == 0 && fcw == 0x037F && stmxcsr() == 0x3F80,
       "xrstor with XSTATE_BV 0: XMM 0, FCW 037F, MXCSR from the image");
    ldmxcsr(0x1F80);
    is_u32(EXPECT(3, "xsave (%0)" : : "r"(xs + 16), "a"(3), "d"(0) : "memory"), 13,
           "xsave on a 16- but not 64-byte boundary: #GP");
    return 0;
}
