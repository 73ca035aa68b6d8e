/* Guest test: the integer ISA as gcc -O2 uses it, and hand-written instructions whose
 * results and flags are known. Inputs come through volatile variables so the compiler cannot
 * fold the work away. */
#include <stdbool.h>

#include "guest.h"

static volatile uint32_t v_zero = 0, v_one = 1, v_dead = 0xDEADBEEFu;
static volatile uint64_t v_big = 0x123456789ABCDEF0ull;
static volatile int64_t v_neg = -1234567890123ll;

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define ARITH (CF | PF | AF | ZF | SF | OF)

/* run "op src, dst" on 32-bit a, b: returns the result and the arithmetic flags */
#define FLAGS_OF(insn, a, b, result, flags) \
    __asm__ volatile("push $0\n\tpopf\n\t" insn " %2, %0\n\tpushf\n\tpop %1" \
                     : "=r"(result), "=r"(flags) : "r"(b), "0"(a) : "cc")

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static int classify(int x)
{
    switch (x) { /* a jump table at -O2 */
    case 0: return 10;
    case 1: return 21;
    case 2: return 32;
    case 3: return 43;
    case 4: return 54;
    case 5: return 65;
    case 6: return 76;
    default: return -1;
    }
}

static uint32_t twice(uint32_t x) { return 2 * x; }
static uint32_t square(uint32_t x) { return x * x; }

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(32);
    uint32_t r, f;

    /* add / sub / logic flags */
    FLAGS_OF("addl", 0xFFFFFFFFu, 1u, r, f);
    ok(r == 0 && (f & ARITH) == (CF | PF | AF | ZF), "add 0xffffffff+1: zero, carry (flags 0x%03x)", f & ARITH);
    FLAGS_OF("addl", 0x7FFFFFFFu, 1u, r, f);
    ok(r == 0x80000000u && (f & ARITH) == (OF | SF | AF | PF), "add overflow to the sign (0x%03x)", f & ARITH);
    FLAGS_OF("subl", 1u, 2u, r, f);
    ok(r == 0xFFFFFFFFu && (f & ARITH) == (CF | SF | AF | PF), "sub 1-2 borrows (0x%03x)", f & ARITH);
    FLAGS_OF("andl", 0xF0F0F0F0u, 0x0F0F0F0Fu, r, f);
    ok(r == 0 && (f & ARITH) == (ZF | PF), "and to zero: ZF PF, CF OF clear (0x%03x)", f & ARITH);
    FLAGS_OF("xorl", 0x80000001u, 0x00000000u, r, f);
    ok((f & ARITH) == SF, "xor keeps the sign, odd parity of the low byte (0x%03x)", f & ARITH);

    /* shifts and rotates */
    uint32_t x = v_dead;
    is_u32((x << 13) | (x >> 19), 0xB7DDFBD5u, "rotate left by 13 (rol)");
    uint32_t sar;
    __asm__ volatile("sarl $31, %0" : "=r"(sar) : "0"(v_dead));
    is_u32(sar, 0xFFFFFFFFu, "sar 31 fills with the sign");
    uint32_t cnt0 = v_dead;
    __asm__ volatile("push $0\n\tpopf\n\tmov $0, %%cl\n\tshll %%cl, %0\n\tpushf\n\tpop %1"
                     : "+r"(cnt0), "=r"(f) : : "ecx", "cc");
    ok(cnt0 == 0xDEADBEEFu && (f & ARITH) == 0, "shift by 0 changes nothing, not even flags");
    uint32_t shld_r = 0x12345678u;
    __asm__ volatile("shldl $8, %2, %0" : "=r"(shld_r) : "0"(shld_r), "r"(0xABCDEF01u) : "cc");
    is_u32(shld_r, 0x345678ABu, "shld 8");

    /* multiply and divide, 32 and 64 bits (libgcc's __udivdi3/__divdi3) */
    uint64_t prod = (uint64_t)(v_dead ^ 0xCC99C8DEu) * 0x9ABCDEF1u; /* 0x12345631 * ... */
    ok(prod != 0, "64-bit product");
    uint64_t big = v_big;
    is_u64(big / 0x12345, 0x100005B00205ull, "64-bit unsigned division");
    is_u64(big % 0x12345, 0xA497ull, "64-bit unsigned remainder");
    int64_t neg = v_neg;
    ok(neg / 98765 == -12500054 && neg % 98765 == -56813, "64-bit signed division truncates toward zero");
    uint32_t hi, lo;
    __asm__ volatile("mull %3" : "=a"(lo), "=d"(hi) : "a"(0xFFFFFFFFu), "r"(0xFFFFFFFFu) : "cc");
    ok(hi == 0xFFFFFFFEu && lo == 1, "mul gives edx:eax");
    int32_t iq;
    __asm__ volatile("cdq\n\tidivl %2" : "=a"(iq) : "a"(-100), "r"(7) : "edx", "cc");
    is_u32((uint32_t)iq, (uint32_t)-14, "idiv truncates: -100 / 7 = -14");

    /* bit operations */
    is_u32((uint32_t)__builtin_ctz(0x00100000u | v_zero), 20, "bsf (ctz)");
    is_u32((uint32_t)(31 - __builtin_clz(0x00100000u | v_zero)), 20, "bsr (clz)");
    is_u32((uint32_t)__builtin_popcount(v_dead), 24, "popcount in software");
    is_u32(__builtin_bswap32(v_dead), 0xEFBEADDEu, "bswap");
    uint32_t bt_cf;
    __asm__ volatile("btl $5, %1\n\tsetc %b0\n\tmovzbl %b0, %0" : "=q"(bt_cf) : "r"(0x20u) : "cc");
    is_u32(bt_cf, 1, "bt sets CF from the bit");

    /* conditional moves and sets */
    uint32_t cm = 5;
    __asm__ volatile("cmpl $3, %1\n\tcmovgl %2, %0" : "+r"(cm) : "r"(v_one), "r"(99u) : "cc");
    is_u32(cm, 5, "cmovg not taken: 1 > 3 is false");
    uint32_t setl;
    __asm__ volatile("cmpl $3, %1\n\tsetl %b0\n\tmovzbl %b0, %0" : "=q"(setl) : "r"(v_one) : "cc");
    is_u32(setl, 1, "setl: 1 < 3");

    /* BCD */
    uint32_t daa_r;
    __asm__ volatile("movb $0x79, %%al\n\taddb $0x35, %%al\n\tdaa\n\tmovzbl %%al, %0"
                     : "=r"(daa_r) : : "eax", "cc");
    is_u32(daa_r, 0x14, "daa: 79 + 35 = 114 (AL 0x14, CF set)");
    uint32_t aam_r;
    __asm__ volatile("movl $47, %%eax\n\taam\n\tmovzwl %%ax, %0" : "=r"(aam_r) : : "eax", "cc");
    is_u32(aam_r, 0x0407, "aam: 47 -> AH 4, AL 7");

    /* control flow */
    is_u32((uint32_t)fib(20), 6765, "recursion: fib(20)");
    int table_sum = 0;
    for (int i = -1; i < 8; i++)
        table_sum += classify(i + (int)v_zero);
    is_u32((uint32_t)table_sum, 10 + 21 + 32 + 43 + 54 + 65 + 76 - 2, "switch jump table");
    uint32_t (*ops[2])(uint32_t) = { twice, square };
    is_u32(ops[v_one](7) + ops[v_zero](7), 49 + 14, "calls through function pointers");

    /* strings */
    char a[64], b[64];
    memset(a, 'x', sizeof(a));
    memcpy(b, a, sizeof(b));
    ok(memcmp(a, b, sizeof(a)) == 0, "rep movsb / rep stosb");
    uint32_t words[8] = { 0 };
    uint32_t *dst = words;
    uint32_t count = 8;
    __asm__ volatile("rep stosl" : "+D"(dst), "+c"(count) : "a"(0x5A5A5A5Au) : "memory");
    ok(words[0] == 0x5A5A5A5Au && words[7] == 0x5A5A5A5Au && count == 0, "rep stosd");
    const char *hay = "interrupt descriptor table";
    uint32_t left = 27;
    const char *scan = hay;
    __asm__ volatile("repne scasb" : "+D"(scan), "+c"(left) : "a"('d') : "cc");
    is_u32((uint32_t)(scan - hay), 11, "repne scasb stops after the match");

    /* cpuid identity */
    uint32_t ebx, ecx, edx, eax;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0));
    ok(ebx == 0x756E6547u && edx == 0x49656E69u && ecx == 0x6C65746Eu, "cpuid: GenuineIntel");
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0x80000002u));
    bool ours = eax == 0x7862696Cu; /* "libx" of the brand string */
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1));
    if (ours)
        ok(((eax >> 8) & 0xF) == 6 && (edx & (1u << 4)) && (edx & 1u) && (edx & (1u << 6)),
           "cpuid: family 6, TSC, FPU, PAE (libx86irq's identity)");
    else
        ok(1, "# SKIP cpuid identity: not running on libx86irq");
    tap_done();
}
