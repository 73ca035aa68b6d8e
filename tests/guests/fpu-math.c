/* Guest test: the x87's one-operand group and fcmovcc (SDM Vol. 2: FLDPI and the other
 * constants, FXAM, FTST, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1, F2XM1, FYL2X, FPTAN,
 * FPATAN, FSIN, FCOS, FSINCOS, FINCSTP, FDECSTP, FCMOVcc, FBLD, FBSTP). The exact ones are checked bit for
 * bit; the transcendentals (the host's libm here) to within a few units in the last place. */
#include "kernel.h"

static uint64_t mantissa(const uint8_t bytes[10]) { uint64_t m; memcpy(&m, bytes, 8); return m; }

#define ST0_EXTENDED(asm_text, out) __asm__ volatile("fninit\n" asm_text "\n fstpt %0" : "=m"(out) : : "memory")

static uint16_t status_word(void)
{
    uint16_t sw;
    __asm__ volatile("fnstsw %0" : "=a"(sw));
    return sw;
}

static double st0_double(void)
{
    double d;
    __asm__ volatile("fstpl %0" : "=m"(d) : : "memory");
    return d;
}
/* pop ST(0) and then ST(1) in one statement, so nothing can reorder the two */
static void pop_two(double *first, double *second)
{
    __asm__ volatile("fstpl %0\n fstpl %1" : "=m"(*first), "=m"(*second) : : "memory");
}

static int close_to(double got, double want)
{
    double diff = got > want ? got - want : want - got;
    double scale = want < 0 ? -want : want;
    return diff <= (scale > 1 ? scale : 1) * 1e-15;
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(24);
    __asm__ volatile("mov %%cr0, %%eax\n and $~0xC, %%eax\n or $0x22, %%eax\n mov %%eax, %%cr0"
                     ::: "eax");
    uint8_t e[10];

    /* the constants, as round-to-nearest gives them */
    ST0_EXTENDED("fldpi", e);
    is_u64(mantissa(e), 0xC90FDAA22168C235ull, "fldpi: mantissa C90FDAA22168C235");
    ST0_EXTENDED("fldl2e", e);
    is_u64(mantissa(e), 0xB8AA3B295C17F0BCull, "fldl2e");
    ST0_EXTENDED("fldl2t", e);
    is_u64(mantissa(e), 0xD49A784BCD1B8AFEull, "fldl2t");
    ST0_EXTENDED("fldlg2", e);
    is_u64(mantissa(e), 0x9A209A84FBCFF799ull, "fldlg2");
    ST0_EXTENDED("fldln2", e);
    is_u64(mantissa(e), 0xB17217F7D1CF79ACull, "fldln2");

    /* exact operations */
    double two = 2.0, ten_and_half = 10.5, three = 3.0, minus_two_and_half = -2.5, value;
    __asm__ volatile("fninit\n fldl %0\n fsqrt\n fstpt %1" : : "m"(two), "m"(e) : "memory");
    is_u64(mantissa(e), 0xB504F333F9DE6484ull, "fsqrt(2), correctly rounded");
    __asm__ volatile("fninit\n fldl %0\n frndint" : : "m"(minus_two_and_half));
    ok(st0_double() == -2.0, "frndint(-2.5) to nearest even: -2");
    __asm__ volatile("fninit\n fldl %0\n fldl %1\n fscale\n fstp %%st(1)" : : "m"(three), "m"(ten_and_half));
    ok(st0_double() == 84.0, "fscale: 10.5 * 2^3 = 84");
    __asm__ volatile("fninit\n fldl %0\n fxtract" : : "m"(ten_and_half));
    double significand, exponent;
    pop_two(&significand, &exponent);
    ok(significand == 1.3125 && exponent == 3.0, "fxtract(10.5): 1.3125 and exponent 3");
    __asm__ volatile("fninit\n fldl %0\n fldl %1\n fprem" : : "m"(three), "m"(ten_and_half));
    uint16_t sw = status_word();
    value = st0_double();
    ok(value == 1.5 && !(sw & 0x0400) && (sw & 0x4200) == 0x4200 && !(sw & 0x0100),
       "fprem: 10.5 rem 3 = 1.5, quotient 3 in C3 C1 (status %x)", sw);
    __asm__ volatile("fninit\n fldl %0\n fldl %1\n fprem1" : : "m"(three), "m"(ten_and_half));
    value = st0_double();
    ok(value == -1.5, "fprem1: 10.5 - 4 * 3 = -1.5 (IEEE remainder)");

    /* classification */
    __asm__ volatile("fninit\n fldz\n fchs\n fxam");
    is_u32(status_word() & 0x4700, 0x4200, "fxam -0: zero (C3) and negative (C1)");
    __asm__ volatile("fninit\n fxam");
    is_u32(status_word() & 0x4500, 0x4100, "fxam of an empty register: C3 C0");
    __asm__ volatile("fninit\n fld1\n fxam");
    is_u32(status_word() & 0x4500, 0x0400, "fxam 1.0: normal (C2)");
    __asm__ volatile("fninit\n fld1\n fchs\n ftst");
    is_u32(status_word() & 0x4500, 0x0100, "ftst -1: below zero (C0)");

    /* the transcendentals */
    double half = 0.5, one = 1.0, eight = 8.0, angle = 0.5;
    __asm__ volatile("fninit\n fldl %0\n f2xm1" : : "m"(half));
    ok(close_to(st0_double(), 0.41421356237309504880), "f2xm1(0.5) = sqrt(2) - 1");
    __asm__ volatile("fninit\n fldl %0\n fldl %1\n fyl2x" : : "m"(three), "m"(eight));
    ok(close_to(st0_double(), 9.0), "fyl2x: 3 * log2(8) = 9");
    __asm__ volatile("fninit\n fldl %0\n fldl %0\n fpatan" : : "m"(one));
    ok(close_to(st0_double(), 0.78539816339744830962), "fpatan(1, 1) = pi / 4");
    __asm__ volatile("fninit\n fldl %0\n fptan" : : "m"(angle));
    double pushed_one, tangent;
    pop_two(&pushed_one, &tangent);
    ok(pushed_one == 1.0 && close_to(tangent, 0.54630248984379051326),
       "fptan(0.5) and the 1.0 it pushes");
    __asm__ volatile("fninit\n fldl %0\n fsincos" : : "m"(angle));
    double cosine, sine;
    pop_two(&cosine, &sine);
    ok(close_to(sine, 0.47942553860420300027) && close_to(cosine, 0.87758256189037271612),
       "fsincos(0.5)");

    /* fcmovcc after a comparison into EFLAGS, and the stack pointer alone */
    double picked;
    __asm__ volatile("fninit\n fldl %1\n fldl %2\n fcomi %%st(1), %%st\n"
                     " fcmovb %%st(1), %%st\n fstpl %0\n fstp %%st(0)"
                     : "=m"(picked) : "m"(eight), "m"(three) : "cc", "memory");
    ok(picked == 8.0, "fcmovb: 3 < 8, so ST(0) takes 8");
    __asm__ volatile("fninit\n fld1\n fincstp\n fdecstp");
    ok(st0_double() == 1.0, "fincstp then fdecstp: the same register again");

    /* packed BCD */
    static const uint8_t bcd_in[10] = { 0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80 };
    int64_t loaded;
    __asm__ volatile("fninit\n fbld %1\n fistpll %0" : "=m"(loaded) : "m"(bcd_in) : "memory");
    ok(loaded == -123456789012345678ll, "fbld: -123456789012345678");
    uint8_t bcd_out[10];
    double to_store = -42.5;
    __asm__ volatile("fninit\n fldl %1\n fbstp %0" : "=m"(bcd_out) : "m"(to_store) : "memory");
    ok(bcd_out[0] == 0x42 && bcd_out[1] == 0 && bcd_out[9] == 0x80,
       "fbstp of -42.5: rounds to even, stores 42 with the sign bit");
    tap_done();
}
