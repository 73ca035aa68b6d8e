/* Unit tests of SSE3's moves, SSSE3, SSE4.1, SSE4.2 (integer, blends, inserts/extracts,
 * ptest, the string compares), crc32 and popcnt (src/cpu/exec_simd_sse3.c, exec_simd_sse4.c):
 * every instruction is run on the emulator and, with the same bytes, on the host processor (a
 * stub in executable memory loads XMM0-2, RAX RCX RDX RBX, runs the instruction and saves
 * them with RFLAGS), on random and special operands, register and memory forms, in 32-bit and
 * 64-bit mode (XMM8-15 by REX), the flags of ptest/pcmpXstrX/popcnt/crc32 included; the
 * alignment rules (#GP(0) for the aligned legacy forms, none for the others), #UD without the
 * CPUID feature, and crc32/popcnt's independence of CR0.TS/EM and CR4.OSFXSR. The host must
 * have SSE4.2 (the test is skipped otherwise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <cpuid.h>

#include "simd_fixture.h"

static int setup(void **state)
{
    simd_fixture_create(state, X86_SIMD_ALL);
    return 0;
}

/* 64-bit mode (simd_fixture_long64: 2-4 MiB not present, for the precise stores) */
static int setup64(void **state)
{
    setup(state);
    simd_fixture_long64(*state);
    return 0;
}

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

/* ------------------------------------------------------------------ the host stub */

/* what the stub loads and saves (offsets fixed in the stub's code) */
struct hstate {
    union x86_xmm x[3];          /* XMM0, XMM1, XMM2: 0, 16, 32 */
    uint64_t rax, rcx, rdx, rbx; /* 48, 56, 64, 72 */
    uint64_t rflags;             /* 80 */
};
static const uint8_t stub_head[] = {
    0x53,                                     /* push rbx */
    0x49, 0x89, 0xFB,                         /* mov r11, rdi */
    0xF3, 0x41, 0x0F, 0x6F, 0x03,             /* movdqu xmm0, [r11] */
    0xF3, 0x41, 0x0F, 0x6F, 0x4B, 0x10,       /* movdqu xmm1, [r11+16] */
    0xF3, 0x41, 0x0F, 0x6F, 0x53, 0x20,       /* movdqu xmm2, [r11+32] */
    0x49, 0x8B, 0x43, 0x30,                   /* mov rax, [r11+48] */
    0x49, 0x8B, 0x4B, 0x38,                   /* mov rcx, [r11+56] */
    0x49, 0x8B, 0x53, 0x40,                   /* mov rdx, [r11+64] */
    0x49, 0x8B, 0x5B, 0x48,                   /* mov rbx, [r11+72] */
};
static const uint8_t stub_tail[] = {
    0x9C, 0x5E,                               /* pushfq; pop rsi */
    0x49, 0x89, 0x73, 0x50,                   /* mov [r11+80], rsi */
    0xF3, 0x41, 0x0F, 0x7F, 0x03,             /* movdqu [r11], xmm0 */
    0xF3, 0x41, 0x0F, 0x7F, 0x4B, 0x10,       /* movdqu [r11+16], xmm1 */
    0xF3, 0x41, 0x0F, 0x7F, 0x53, 0x20,       /* movdqu [r11+32], xmm2 */
    0x49, 0x89, 0x43, 0x30,                   /* mov [r11+48], rax */
    0x49, 0x89, 0x4B, 0x38,                   /* mov [r11+56], rcx */
    0x49, 0x89, 0x53, 0x40,                   /* mov [r11+64], rdx */
    0x49, 0x89, 0x5B, 0x48,                   /* mov [r11+72], rbx */
    0x5B, 0xC3,                               /* pop rbx; ret */
};
static uint8_t *stub_page;

static void host_run(const uint8_t *insn, size_t n, struct hstate *s)
{
    uint8_t *p = stub_page;
    memcpy(p, stub_head, sizeof(stub_head));
    p += sizeof(stub_head);
    memcpy(p, insn, n);
    p += n;
    memcpy(p, stub_tail, sizeof(stub_tail));
    __builtin___clear_cache((char *)stub_page, (char *)p + sizeof(stub_tail));
    ((void (*)(struct hstate *))(void *)stub_page)(s);
}

static bool host_has_sse42(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 20)) && (c & (1u << 23)) &&
           (c & (1u << 19)) && (c & (1u << 9)) && (c & 1);
}

/* ------------------------------------------------------------------ the instruction table */

enum {
    T_IMM = 1 << 0,     /* an imm8 follows the ModRM (random) */
    T_MEMONLY = 1 << 1, /* no register form */
    T_ALIGN = 1 << 2,   /* the m128 must be 16-byte aligned */
    T_FLAGS = 1 << 3,   /* compare the arithmetic flags */
    T_GPR = 1 << 4,     /* ModRM names general registers: no XMM8-15 variant */
    T_X64 = 1 << 5,     /* 64-bit mode only (REX.W) */
    T_REGONLY = 1 << 6, /* no memory form */
    T_LEN = 1 << 7,     /* EAX/EDX are explicit lengths: small values mostly */
    T_ZEROS = 1 << 8,   /* zero elements often (the implicit-length string compares) */
};
struct tinsn {
    const char *name;
    uint8_t op[6];  /* prefixes and opcode, without the ModRM */
    uint8_t n;
    uint8_t modrm;  /* the register form's ModRM (0: CA = reg 1, rm 2) */
    uint16_t kind;
    uint32_t feature;
};
#define O(...) { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })
#define S3 X86_SIMD_SSE3
#define SS3 X86_SIMD_SSSE3
#define S41 X86_SIMD_SSE41
#define S42 X86_SIMD_SSE42
#define SSSE3_OP(name, o) { name, O(0x66, 0x0F, 0x38, o), 0, T_ALIGN, SS3 }
#define SSE41_OP(name, o) { name, O(0x66, 0x0F, 0x38, o), 0, T_ALIGN, S41 }
static const struct tinsn tinsns[] = {
    { "lddqu", O(0xF2, 0x0F, 0xF0), 0, T_MEMONLY, S3 },
    { "movddup", O(0xF2, 0x0F, 0x12), 0, 0, S3 },
    { "movshdup", O(0xF3, 0x0F, 0x16), 0, T_ALIGN, S3 },
    { "movsldup", O(0xF3, 0x0F, 0x12), 0, T_ALIGN, S3 },
    SSSE3_OP("pshufb", 0x00), SSSE3_OP("phaddw", 0x01), SSSE3_OP("phaddd", 0x02),
    SSSE3_OP("phaddsw", 0x03), SSSE3_OP("pmaddubsw", 0x04), SSSE3_OP("phsubw", 0x05),
    SSSE3_OP("phsubd", 0x06), SSSE3_OP("phsubsw", 0x07), SSSE3_OP("psignb", 0x08),
    SSSE3_OP("psignw", 0x09), SSSE3_OP("psignd", 0x0A), SSSE3_OP("pmulhrsw", 0x0B),
    SSSE3_OP("pabsb", 0x1C), SSSE3_OP("pabsw", 0x1D), SSSE3_OP("pabsd", 0x1E),
    { "palignr", O(0x66, 0x0F, 0x3A, 0x0F), 0, T_ALIGN | T_IMM, SS3 },
    SSE41_OP("pblendvb", 0x10), SSE41_OP("blendvps", 0x14), SSE41_OP("blendvpd", 0x15),
    SSE41_OP("pmuldq", 0x28), SSE41_OP("pcmpeqq", 0x29), SSE41_OP("packusdw", 0x2B),
    SSE41_OP("pminsb", 0x38), SSE41_OP("pminsd", 0x39), SSE41_OP("pminuw", 0x3A),
    SSE41_OP("pminud", 0x3B), SSE41_OP("pmaxsb", 0x3C), SSE41_OP("pmaxsd", 0x3D),
    SSE41_OP("pmaxuw", 0x3E), SSE41_OP("pmaxud", 0x3F), SSE41_OP("pmulld", 0x40),
    SSE41_OP("phminposuw", 0x41),
    { "ptest", O(0x66, 0x0F, 0x38, 0x17), 0, T_ALIGN | T_FLAGS, S41 },
    { "movntdqa", O(0x66, 0x0F, 0x38, 0x2A), 0, T_ALIGN | T_MEMONLY, S41 },
    { "pcmpgtq", O(0x66, 0x0F, 0x38, 0x37), 0, T_ALIGN, S42 },
    { "pmovsxbw", O(0x66, 0x0F, 0x38, 0x20), 0, 0, S41 },
    { "pmovsxbd", O(0x66, 0x0F, 0x38, 0x21), 0, 0, S41 },
    { "pmovsxbq", O(0x66, 0x0F, 0x38, 0x22), 0, 0, S41 },
    { "pmovsxwd", O(0x66, 0x0F, 0x38, 0x23), 0, 0, S41 },
    { "pmovsxwq", O(0x66, 0x0F, 0x38, 0x24), 0, 0, S41 },
    { "pmovsxdq", O(0x66, 0x0F, 0x38, 0x25), 0, 0, S41 },
    { "pmovzxbw", O(0x66, 0x0F, 0x38, 0x30), 0, 0, S41 },
    { "pmovzxbd", O(0x66, 0x0F, 0x38, 0x31), 0, 0, S41 },
    { "pmovzxbq", O(0x66, 0x0F, 0x38, 0x32), 0, 0, S41 },
    { "pmovzxwd", O(0x66, 0x0F, 0x38, 0x33), 0, 0, S41 },
    { "pmovzxwq", O(0x66, 0x0F, 0x38, 0x34), 0, 0, S41 },
    { "pmovzxdq", O(0x66, 0x0F, 0x38, 0x35), 0, 0, S41 },
    { "blendps", O(0x66, 0x0F, 0x3A, 0x0C), 0, T_ALIGN | T_IMM, S41 },
    { "blendpd", O(0x66, 0x0F, 0x3A, 0x0D), 0, T_ALIGN | T_IMM, S41 },
    { "pblendw", O(0x66, 0x0F, 0x3A, 0x0E), 0, T_ALIGN | T_IMM, S41 },
    { "mpsadbw", O(0x66, 0x0F, 0x3A, 0x42), 0, T_ALIGN | T_IMM, S41 },
    { "insertps", O(0x66, 0x0F, 0x3A, 0x21), 0, T_IMM, S41 },
    /* general-register operands: ModRM CA = (xmm1 or ecx), (edx or xmm2) */
    { "pextrb", O(0x66, 0x0F, 0x3A, 0x14), 0, T_IMM | T_GPR, S41 },
    { "pextrw", O(0x66, 0x0F, 0x3A, 0x15), 0, T_IMM | T_GPR, S41 },
    { "pextrd", O(0x66, 0x0F, 0x3A, 0x16), 0, T_IMM | T_GPR, S41 },
    { "pextrq", O(0x66, 0x48, 0x0F, 0x3A, 0x16), 0, T_IMM | T_GPR | T_X64, S41 },
    { "extractps", O(0x66, 0x0F, 0x3A, 0x17), 0, T_IMM | T_GPR, S41 },
    { "pinsrb", O(0x66, 0x0F, 0x3A, 0x20), 0, T_IMM | T_GPR, S41 },
    { "pinsrd", O(0x66, 0x0F, 0x3A, 0x22), 0, T_IMM | T_GPR, S41 },
    { "pinsrq", O(0x66, 0x48, 0x0F, 0x3A, 0x22), 0, T_IMM | T_GPR | T_X64, S41 },
    /* the string compares (unaligned m128) */
    { "pcmpestrm", O(0x66, 0x0F, 0x3A, 0x60), 0, T_IMM | T_FLAGS | T_LEN, S42 },
    { "pcmpestri", O(0x66, 0x0F, 0x3A, 0x61), 0, T_IMM | T_FLAGS | T_LEN, S42 },
    { "pcmpistrm", O(0x66, 0x0F, 0x3A, 0x62), 0, T_IMM | T_FLAGS | T_ZEROS, S42 },
    { "pcmpistri", O(0x66, 0x0F, 0x3A, 0x63), 0, T_IMM | T_FLAGS | T_ZEROS, S42 },
    { "pcmpestrm64", O(0x66, 0x48, 0x0F, 0x3A, 0x60), 0, T_IMM | T_FLAGS | T_LEN | T_X64, S42 },
    { "pcmpestri64", O(0x66, 0x48, 0x0F, 0x3A, 0x61), 0, T_IMM | T_FLAGS | T_LEN | T_X64, S42 },
    /* crc32 ecx, r/m (flags unaffected); popcnt ecx, r/m */
    { "crc32 r/m8", O(0xF2, 0x0F, 0x38, 0xF0), 0, T_GPR, S42 },
    { "crc32 ah", O(0xF2, 0x0F, 0x38, 0xF0), 0xCC, T_GPR | T_REGONLY, S42 },
    { "crc32 r/m16", O(0x66, 0xF2, 0x0F, 0x38, 0xF1), 0, T_GPR, S42 },
    { "crc32 r/m32", O(0xF2, 0x0F, 0x38, 0xF1), 0, T_GPR, S42 },
    { "crc32 r64, r/m64", O(0xF2, 0x48, 0x0F, 0x38, 0xF1), 0, T_GPR | T_X64, S42 },
    { "crc32 r64, r/m8", O(0xF2, 0x48, 0x0F, 0x38, 0xF0), 0, T_GPR | T_X64, S42 },
    { "popcnt16", O(0x66, 0xF3, 0x0F, 0xB8), 0, T_GPR | T_FLAGS, S42 },
    { "popcnt32", O(0xF3, 0x0F, 0xB8), 0, T_GPR | T_FLAGS, S42 },
    { "popcnt64", O(0xF3, 0x48, 0x0F, 0xB8), 0, T_GPR | T_FLAGS | T_X64, S42 },
};
#define NTINSNS (sizeof(tinsns) / sizeof(tinsns[0]))

static uint64_t random_gpr(const struct tinsn *t)
{
    uint64_t r = rng();
    if (t->kind & T_LEN) {
        static const uint64_t big[] = { 0x80000000ull, 0x7FFFFFFFull, 0x8000000000000000ull,
                                        0xFFFFFFFF00000004ull, 0x100000003ull, 16, 17, 8, 9 };
        if ((r & 7) == 0)
            return big[(r >> 3) % (sizeof(big) / sizeof(big[0]))];
        return (uint64_t)((int64_t)((r >> 8) % 41) - 20);
    }
    if ((r & 15) == 0)
        return (r & 16) ? 0 : ~0ull;
    return rng();
}
/* the implicit-length compares: a zero element somewhere, often */
static void sprinkle_zeros(union x86_xmm *v)
{
    uint64_t r = rng();
    if (r & 1)
        return;
    unsigned at = (unsigned)(r >> 8) & 15;
    v->b[at] = 0;
    if (r & 2)
        v->b[at ^ 1] = 0;
}
/* few distinct values, so that the compares find matches */
static void narrow(union x86_xmm *v)
{
    uint64_t r = rng();
    if ((r & 3) == 0)
        for (unsigned i = 0; i < 16; i++)
            v->b[i] = (uint8_t)("abcA\x80\xff\x01z"[(rng() >> 5) & 7]);
}

#define FLAGS_ARITH (X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF | X86_FLAG_OF)

static void fail_case(const struct tinsn *t, const char *form, const char *what,
                      const struct hstate *in, uint64_t got_lo, uint64_t got_hi,
                      uint64_t want_lo, uint64_t want_hi, unsigned imm)
{
    fail_msg("%s (%s) imm %02x: %s got %016llx%016llx host %016llx%016llx; xmm1 %016llx%016llx "
             "xmm2 %016llx%016llx xmm0 %016llx%016llx rax %llx rcx %llx rdx %llx", t->name, form,
             imm, what, (unsigned long long)got_hi, (unsigned long long)got_lo,
             (unsigned long long)want_hi, (unsigned long long)want_lo,
             (unsigned long long)in->x[1].q[1], (unsigned long long)in->x[1].q[0],
             (unsigned long long)in->x[2].q[1], (unsigned long long)in->x[2].q[0],
             (unsigned long long)in->x[0].q[1], (unsigned long long)in->x[0].q[0],
             (unsigned long long)in->rax, (unsigned long long)in->rcx, (unsigned long long)in->rdx);
}

static unsigned long long cases_run;

/* One case: the same bytes on the host and the emulator. mem: the ModRM names [rbx] (ebx in
 * 32-bit mode) at offset off from a 16-byte boundary; rex: the XMM8-15 variant (the emulator's
 * xmm9/xmm10 stand for the host's xmm1/xmm2). */
static bool mode16; /* the emulator runs 16-bit code: [bx] for the host's [rbx] */
static void run_case(struct fixture *f, const struct tinsn *t, bool mem, unsigned off, bool rex,
                     bool mode64)
{
    struct x86_cpu *cpu = f->cpu;
    struct hstate in, out;
    memset(&in, 0, sizeof(in));
    for (unsigned i = 0; i < 3; i++) {
        in.x[i] = random_vec();
        narrow(&in.x[i]);
        if (t->kind & T_ZEROS)
            sprinkle_zeros(&in.x[i]);
    }
    in.rax = random_gpr(t);
    in.rcx = random_gpr(t);
    in.rdx = random_gpr(t);
    if (!mode64) {
        in.rax = (uint32_t)in.rax;
        in.rcx = (uint32_t)in.rcx;
        in.rdx = (uint32_t)in.rdx;
    }
    unsigned imm = (unsigned)rng() & 0xFF;
    _Alignas(16) uint8_t hmem[64];
    union x86_xmm memv = random_vec(), memv2 = random_vec();
    if (t->kind & T_ZEROS)
        sprinkle_zeros(&memv);
    memcpy(hmem + off, memv.b, 16);
    memcpy(hmem + off + 16, memv2.b, 16);
    in.rbx = (uint64_t)(uintptr_t)(hmem + off);

    uint8_t code[16];
    size_t n = 0;
    /* the emulator's bytes: a REX (45: R and B) after the legacy prefixes for the XMM8-15 form */
    unsigned np = 0;
    while (np < t->n && (t->op[np] == 0x66 || t->op[np] == 0xF2 || t->op[np] == 0xF3))
        np++;
    uint8_t modrm = mem ? 0x0B : t->modrm ? t->modrm : 0xCA;
    out = in;
    memcpy(code, t->op, t->n);
    n = t->n;
    code[n++] = modrm;
    if (t->kind & T_IMM)
        code[n++] = (uint8_t)imm;
    host_run(code, n, &out);

    uint8_t ecode[16];
    size_t en = 0;
    memcpy(ecode, t->op, np);
    en = np;
    memcpy(ecode + en, code + np, n - np);
    if (rex) { /* one REX: merged with the form's own REX.W */
        if ((code[np] & 0xF0) == 0x40) {
            ecode[en] |= 0x45;
        } else {
            memmove(ecode + en + 1, ecode + en, n - np);
            ecode[en] = 0x45;
            en++;
        }
    }
    en += n - np;
    if (mode16 && mem)
        ecode[en - ((t->kind & T_IMM) ? 2 : 1)] = 0x0F; /* [bx] */
    unsigned x1 = rex ? 9 : 1, x2 = rex ? 10 : 2;
    XMM(f, 0) = in.x[0];
    XMM(f, x1) = in.x[1];
    XMM(f, x2) = in.x[2];
    cpu->gpr[X86_EAX] = in.rax;
    cpu->gpr[X86_ECX] = in.rcx;
    cpu->gpr[X86_EDX] = in.rdx;
    cpu->gpr[X86_EBX] = DATA + off;
    put128(f, DATA + off, memv);
    put128(f, DATA + off + 16, memv2);
    int r = exec(f, CODE, ecode, en);
    cases_run++;
    const char *form = mem ? (off ? "m128 misaligned" : "mem") : rex ? "reg, xmm9/xmm10" : "reg";
    if (r != -1)
        fail_msg("%s (%s, %s): exception %d", t->name, form, mode64 ? "64-bit" : "32-bit", r);
    union x86_xmm e[3] = { XMM(f, 0), XMM(f, x1), XMM(f, x2) };
    static const char *const xn[3] = { "xmm0", "xmm1", "xmm2" };
    for (unsigned i = 0; i < 3; i++)
        if (e[i].q[0] != out.x[i].q[0] || e[i].q[1] != out.x[i].q[1])
            fail_case(t, form, xn[i], &in, e[i].q[0], e[i].q[1], out.x[i].q[0], out.x[i].q[1], imm);
    uint64_t mask = mode64 ? ~0ull : 0xFFFFFFFFull;
    const uint64_t got[3] = { cpu->gpr[X86_EAX], cpu->gpr[X86_ECX], cpu->gpr[X86_EDX] };
    const uint64_t want[3] = { out.rax, out.rcx, out.rdx };
    static const char *const gn[3] = { "rax", "rcx", "rdx" };
    for (unsigned i = 0; i < 3; i++)
        if ((got[i] & mask) != (want[i] & mask))
            fail_case(t, form, gn[i], &in, got[i], 0, want[i], 0, imm);
    if (t->kind & T_FLAGS) {
        x86_flags_materialize(cpu);
        if ((cpu->eflags & FLAGS_ARITH) != (out.rflags & FLAGS_ARITH))
            fail_case(t, form, "flags", &in, cpu->eflags & FLAGS_ARITH, 0,
                      out.rflags & FLAGS_ARITH, 0, imm);
    }
    if (mem) {
        union x86_xmm g0 = get128(f, DATA + off), g1 = get128(f, DATA + off + 16), w0, w1;
        memcpy(w0.b, hmem + off, 16);
        memcpy(w1.b, hmem + off + 16, 16);
        if (g0.q[0] != w0.q[0] || g0.q[1] != w0.q[1] || g1.q[0] != w1.q[0] || g1.q[1] != w1.q[1])
            fail_case(t, form, "memory", &in, g0.q[0], g0.q[1], w0.q[0], w0.q[1], imm);
    }
}

/* A misaligned m128 of an aligned form: #GP(0), nothing changed */
static void check_misaligned_gp(struct fixture *f, const struct tinsn *t)
{
    uint8_t code[16];
    memcpy(code, t->op, t->n);
    size_t n = t->n;
    code[n++] = 0x0B;
    if (t->kind & T_IMM)
        code[n++] = 0;
    union x86_xmm before = XMM(f, 1);
    f->cpu->gpr[X86_EBX] = DATA + 8;
    int r = exec(f, CODE, code, n);
    if (r != X86_VEC_GP || f->cpu->fault.error_code != 0 || XMM(f, 1).q[0] != before.q[0] ||
        XMM(f, 1).q[1] != before.q[1])
        fail_msg("%s: a misaligned m128 gives %d, not #GP(0)", t->name, r);
}

#define CASES 2000
static void run_all(struct fixture *f, bool mode64)
{
    if (!stub_page) {
        stub_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(stub_page != MAP_FAILED);
    }
    for (size_t k = 0; k < NTINSNS; k++) {
        const struct tinsn *t = &tinsns[k];
        if ((t->kind & T_X64) && !mode64)
            continue;
        for (unsigned i = 0; i < CASES; i++) {
            if (!(t->kind & T_MEMONLY))
                run_case(f, t, false, 0, false, mode64);
            if (mode64 && !(t->kind & (T_GPR | T_MEMONLY)) && (i & 1))
                run_case(f, t, false, 0, true, mode64);
            if (!(t->kind & T_REGONLY) && (i & 1)) {
                /* unaligned forms also at an odd offset (the host agrees or faults) */
                unsigned off = (t->kind & T_ALIGN) || (i & 2) ? 0 : 1 + (unsigned)(rng() % 15);
                run_case(f, t, true, off, false, mode64);
            }
        }
        if ((t->kind & T_ALIGN) && !(t->kind & T_REGONLY))
            check_misaligned_gp(f, t);
    }
}

static void test_against_host32(void **state)
{
    if (!host_has_sse42())
        skip();
    cases_run = 0;
    run_all(*state, false);
    print_message("32-bit mode: %llu cases compared with the host\n", cases_run);
}
static void test_against_host64(void **state)
{
    if (!host_has_sse42())
        skip();
    cases_run = 0;
    run_all(*state, true);
    print_message("64-bit mode: %llu cases compared with the host\n", cases_run);
}

/* 16-bit code (a 16-bit code segment in protected mode): the SSE forms as in 32-bit mode with
 * [bx] operands; crc32 and popcnt take 16-bit operands without 66 and 32-bit ones with it */
static void test_against_host16(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    if (!host_has_sse42())
        skip();
    if (!stub_page) {
        stub_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(stub_page != MAP_FAILED);
    }
    cpu->seg[X86_SEG_CS].attributes &= (uint16_t)~X86_SEG_ATTR_DB;
    cpu->mode = X86_MODE_16;
    mode16 = true;
    cases_run = 0;
    for (size_t k = 0; k < NTINSNS; k++) {
        const struct tinsn *t = &tinsns[k];
        if (t->kind & (T_X64 | T_GPR))
            continue;
        for (unsigned i = 0; i < 200; i++) {
            if (!(t->kind & T_MEMONLY))
                run_case(f, t, false, 0, false, false);
            if (!(t->kind & T_REGONLY))
                run_case(f, t, true, 0, false, false);
        }
    }
    mode16 = false;
    for (unsigned i = 0; i < 2000; i++) {
        uint32_t c = (uint32_t)rng(), v = (uint32_t)rng(), w, p;
        if (i % 16 == 0)
            v = i & 16 ? 0 : ~0u;
        cpu->gpr[X86_ECX] = c;
        cpu->gpr[X86_EDX] = v;
        assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x38, 0xF1, 0xCA), -1); /* crc32 ecx, dx */
        w = c;
        __asm__("crc32w %1, %0" : "+r"(w) : "r"((uint16_t)v));
        assert_int_equal(cpu->gpr[X86_ECX], w);
        cpu->gpr[X86_ECX] = c;
        assert_int_equal(EXEC(f, 0x66, 0xF2, 0x0F, 0x38, 0xF1, 0xCA), -1); /* crc32 ecx, edx */
        w = c;
        __asm__("crc32l %1, %0" : "+r"(w) : "r"(v));
        assert_int_equal(cpu->gpr[X86_ECX], w);
        cpu->gpr[X86_ECX] = c;
        assert_int_equal(EXEC(f, 0xF3, 0x0F, 0xB8, 0xCA), -1);       /* popcnt cx, dx */
        p = (uint32_t)__builtin_popcount((uint16_t)v);
        assert_int_equal(cpu->gpr[X86_ECX], (c & 0xFFFF0000u) | p);
        x86_flags_materialize(cpu);
        assert_int_equal(cpu->eflags & FLAGS_ARITH, (uint16_t)v ? 0 : X86_FLAG_ZF);
        assert_int_equal(EXEC(f, 0x66, 0xF3, 0x0F, 0xB8, 0xCA), -1); /* popcnt ecx, edx */
        assert_int_equal(cpu->gpr[X86_ECX], (uint32_t)__builtin_popcount(v));
        /* memory: crc32 ecx, word [bx] */
        cpu->gpr[X86_EBX] = DATA;
        test_put32(f->m, DATA, v);
        cpu->gpr[X86_ECX] = c;
        assert_int_equal(EXEC(f, 0xF2, 0x0F, 0x38, 0xF1, 0x0F), -1);
        w = c;
        __asm__("crc32w %1, %0" : "+r"(w) : "r"((uint16_t)v));
        assert_int_equal(cpu->gpr[X86_ECX], w);
        cases_run += 5;
    }
    print_message("16-bit code: %llu cases compared with the host\n", cases_run);
}

/* #UD without the feature, for each instruction; crc32 and popcnt ignore CR0.TS/EM and
 * CR4.OSFXSR; the SSE ones take #NM with TS */
static void test_features(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    for (size_t k = 0; k < NTINSNS; k++) {
        const struct tinsn *t = &tinsns[k];
        if (t->kind & T_X64)
            continue;
        uint8_t code[16];
        memcpy(code, t->op, t->n);
        size_t n = t->n;
        code[n++] = (t->kind & T_MEMONLY) ? 0x0B : 0xCA;
        if (t->kind & T_IMM)
            code[n++] = 0;
        cpu->gpr[X86_EBX] = DATA;
        cpu->simd = X86_SIMD_ALL & ~t->feature;
        if (exec(f, CODE, code, n) != X86_VEC_UD)
            fail_msg("%s: no #UD without its feature", t->name);
        cpu->simd = X86_SIMD_ALL;
        assert_int_equal(exec(f, CODE, code, n), -1);
        bool general = !strncmp(t->name, "crc32", 5) || !strncmp(t->name, "popcnt", 6);
        cpu->cr0 |= X86_CR0_TS;
        int r = exec(f, CODE, code, n);
        if (r != (general && !(t->kind & T_MEMONLY) ? -1 : X86_VEC_NM) &&
            !(general && r == -1))
            fail_msg("%s: CR0.TS gives %d", t->name, r);
        cpu->cr0 &= ~X86_CR0_TS;
        cpu->cr4 &= ~X86_CR4_OSFXSR;
        r = exec(f, CODE, code, n);
        if (r != (general ? -1 : X86_VEC_UD))
            fail_msg("%s: CR4.OSFXSR = 0 gives %d", t->name, r);
        cpu->cr4 |= X86_CR4_OSFXSR;
        cpu->cr0 |= X86_CR0_EM;
        r = exec(f, CODE, code, n);
        if (r != (general ? -1 : X86_VEC_UD))
            fail_msg("%s: CR0.EM = 1 gives %d", t->name, r);
        cpu->cr0 &= ~X86_CR0_EM;
    }
    /* CPUID.1:ECX: SSE3 0, SSSE3 9, SSE4.1 19, SSE4.2 20, POPCNT 23; MONITOR (3) stays 0 */
    cpu->gpr[X86_EAX] = 1;
    assert_int_equal(EXEC(f, 0x0F, 0xA2), -1);
    assert_int_equal(cpu->gpr[X86_ECX] & 0x980209u, 0x980201u);
    cpu->simd = X86_SIMD_SSE | X86_SIMD_SSE2 | X86_SIMD_SSE3 | X86_SIMD_SSSE3 | X86_SIMD_SSE41;
    cpu->gpr[X86_EAX] = 1;
    assert_int_equal(EXEC(f, 0x0F, 0xA2), -1);
    assert_int_equal(cpu->gpr[X86_ECX] & (1u << 23), 0);
    /* 0F B8 without F3 (jmpe) and F2 0F B8 stay #UD; F3 0F BC/BD stay bsf/bsr */
    cpu->simd = X86_SIMD_ALL;
    assert_int_equal(EXEC(f, 0x0F, 0xB8, 0xCA), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF2, 0x0F, 0xB8, 0xCA), X86_VEC_UD);
    cpu->gpr[X86_EDX] = 0x100;
    assert_int_equal(EXEC(f, 0xF3, 0x0F, 0xBC, 0xCA), -1);       /* bsf ecx, edx */
    assert_int_equal(cpu->gpr[X86_ECX], 8);
    /* LOCK is #UD on all of them */
    cpu->gpr[X86_EBX] = DATA;
    assert_int_equal(EXEC(f, 0xF0, 0x66, 0x0F, 0x38, 0x00, 0x0B), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF0, 0xF2, 0x0F, 0x38, 0xF1, 0x0B), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF0, 0xF3, 0x0F, 0xB8, 0x0B), X86_VEC_UD);
    assert_int_equal(EXEC(f, 0xF0, 0x66, 0x0F, 0x3A, 0x16, 0x0B, 0x00), X86_VEC_UD);
    /* the SSSE3 MMX forms are not offered */
    assert_int_equal(EXEC(f, 0x0F, 0x38, 0x00, 0xCA), X86_VEC_UD);
}

/* pcmpestri's lengths in 16-bit code, crc32's 16-bit form by default there, and stores that
 * fault change nothing */
static void test_stores_fault(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    /* 2 MiB - 4 GiB is not present in setup64: pextrq to [rbx] at 0x1FFFFC faults whole */
    XMM(f, 1) = vec(0x1122334455667788ull, 0x99AABBCCDDEEFF00ull);
    put128(f, 0x1FFFF0, vec(0, 0));
    cpu->gpr[X86_EBX] = 0x1FFFFC;
    assert_int_equal(EXEC(f, 0x66, 0x48, 0x0F, 0x3A, 0x16, 0x0B, 0x00), X86_VEC_PF);
    assert_int_equal(test_get32(f->m, 0x1FFFFC), 0);
    cpu->gpr[X86_EBX] = 0x1FFFF8;
    assert_int_equal(EXEC(f, 0x66, 0x48, 0x0F, 0x3A, 0x16, 0x0B, 0x00), -1);
    assert_int_equal(test_get32(f->m, 0x1FFFFC), 0x11223344u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stores_fault, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_against_host32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_against_host64, setup64, teardown),
        cmocka_unit_test_setup_teardown(test_against_host16, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
