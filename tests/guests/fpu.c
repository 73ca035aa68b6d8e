/* Guest test: the x87 FPU as kernels meet it (SDM Vol. 1 chapter 8; Vol. 3 #NM, #MF): fninit's
 * control word, arithmetic and conversions, extended reals stored exactly, comparisons through
 * fnstsw ax, masked exceptions (stack overflow, division by zero), the deferred rule (an
 * unmasked exception raises #MF at the next waiting x87 instruction, with CR0.NE), lazy FPU
 * switching (CR0.TS: #NM, the handler does clts and the instruction runs again), fnsave and
 * frstor, fxsave and fxrstor, integer stores by the rounding control, the reversed and sign
 * instructions and fxch, fcomi/fucomi into EFLAGS, unordered compares (fucom is quiet on a
 * QNaN, fcom is not) and stack underflow; fnstenv/fldenv and the 16-bit fnsave/frstor image. */
#include "kernel.h"

static volatile unsigned nm_count, mf_count;
static volatile uint32_t mf_eip;

static void on_nm(struct trap_frame *f)
{
    (void)f;
    nm_count++;
    __asm__ volatile("clts"); /* a kernel would restore this task's FPU state here */
}
static void on_mf(struct trap_frame *f)
{
    mf_count++;
    mf_eip = f->eip;
    __asm__ volatile("fnclex");
}

static uint16_t status_word(void)
{
    uint16_t sw;
    __asm__ volatile("fnstsw %0" : "=a"(sw));
    return sw;
}

extern char mf_insn[];

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(27);
    trap_set_handler(7, on_nm, 0x8E, 0);
    trap_set_handler(16, on_mf, 0x8E, 0);
    __asm__ volatile("mov %%cr0, %%eax\n and $~0xC, %%eax\n or $0x22, %%eax\n mov %%eax, %%cr0"
                     ::: "eax"); /* EM = TS = 0, MP = NE = 1 */
    uint16_t cw;
    __asm__ volatile("fninit\n fnstcw %0" : "=m"(cw));
    is_u32(cw, 0x037F, "fninit: control word 037F");

    double a = 1.5, b = 2.25, r;
    int32_t four = 4, three = 3, result;
    __asm__ volatile("fldl %2\n faddl %3\n fimull %4\n fidivl %5\n fstl %0\n fistpl %1"
                     : "=m"(r), "=m"(result) : "m"(a), "m"(b), "m"(four), "m"(three));
    uint64_t bits;
    memcpy(&bits, &r, 8);
    is_u64(bits, 0x4014000000000000ull, "(1.5 + 2.25) * 4 / 3 = 5.0");
    is_u32((uint32_t)result, 5, "fistp stores the integer 5");

    uint8_t in80[10] = { 0x35, 0xC2, 0x68, 0x21, 0xA2, 0xDA, 0x0F, 0xC9, 0x00, 0x40 }; /* ~pi */
    uint8_t out80[10];
    __asm__ volatile("fldt %1\n fstpt %0" : "=m"(out80) : "m"(in80));
    ok(memcmp(in80, out80, 10) == 0, "an extended real loads and stores bit for bit");

    double one = 1.0, two = 2.0;
    __asm__ volatile("fldl %0\n fcompl %1" : : "m"(one), "m"(two));
    is_u32(status_word() & 0x4500, 0x0100, "fcom 1 < 2: C0");
    __asm__ volatile("fldl %0\n fcompl %0" : : "m"(two));
    is_u32(status_word() & 0x4500, 0x4000, "fcom 2 = 2: C3");

    /* masked exceptions: nine pushes overflow the stack; 1 / 0 */
    __asm__ volatile("fninit");
    for (int i = 0; i < 9; i++)
        __asm__ volatile("fld1");
    /* QEMU (TCG) does not detect x87 stack faults; the SDM's expectation */
    is_u32(status_word() & 0x0041, 0x0041, "a ninth push: stack fault, IE and SF (masked)");
    __asm__ volatile("fninit\n fld1\n fldz\n fdivrp" ::: "memory");
    is_u32(status_word() & 0x0004, 0x0004, "1 / 0 masked: ZE set, no exception");
    __asm__ volatile("fstp %%st(0)" ::: "memory");

    /* unmasked division by zero: #MF waits for the next waiting x87 instruction */
    uint16_t unmask = 0x037B;
    __asm__ volatile("fninit\n fldcw %0\n fld1\n fldz\n fdivrp" : : "m"(unmask) : "memory");
    is_u32(mf_count, 0, "the faulting division itself does not raise #MF");
    ok(status_word() & 0x0080, "but sets ES");
    /* SDM Vol. 1 8.6: the pending exception is taken at the next waiting x87 instruction;
     * QEMU (TCG) takes it only at fwait */
    __asm__ volatile("mf_insn: fld1\n fstp %%st(0)" ::: "memory");
    ok(mf_count == 1 && mf_eip == (uint32_t)mf_insn, "#MF at the next waiting instruction (%u)",
       mf_count);

    /* lazy FPU switching */
    __asm__ volatile("fninit\n mov %%cr0, %%eax\n or $8, %%eax\n mov %%eax, %%cr0" ::: "eax");
    __asm__ volatile("fld1\n fstp %%st(0)" ::: "memory");
    is_u32(nm_count, 1, "CR0.TS: the first x87 instruction raised #NM, the handler did clts");

    /* fnsave / frstor */
    uint8_t image[108];
    double seven = 7.0, restored;
    __asm__ volatile("fninit\n fldl %1\n fnsave %0" : "=m"(image) : "m"(seven) : "memory");
    __asm__ volatile("frstor %1\n fstpl %0" : "=m"(restored) : "m"(image) : "memory");
    memcpy(&bits, &restored, 8);
    is_u64(bits, 0x401C000000000000ull, "fnsave, then frstor gives the stack back (7.0)");

    /* fxsave / fxrstor: the 512-byte image */
    static uint8_t fx[512] __attribute__((aligned(16)));
    double nine = 9.0;
    __asm__ volatile("fninit\n fldl %1\n fxsave %0\n fninit" : "=m"(fx) : "m"(nine) : "memory");
    ok(fx[0] == 0x7F && fx[1] == 0x03 && fx[4] == 0x80, "fxsave: FCW 037F, abridged tag: R7 in use");
    __asm__ volatile("fxrstor %1\n fstpl %0" : "=m"(restored) : "m"(fx) : "memory");
    memcpy(&bits, &restored, 8);
    is_u64(bits, 0x4022000000000000ull, "fxrstor gives ST(0) back (9.0)");

    /* rounding control for integer stores: 2.5 rounds to 2 (nearest even), 3 (up) */
    double two_and_half = 2.5;
    int32_t nearest, up;
    uint16_t round_up = 0x0B7F;
    __asm__ volatile("fninit\n fldl %2\n fistpl %0\n fldcw %3\n fldl %2\n fistpl %1"
                     : "=m"(nearest), "=m"(up) : "m"(two_and_half), "m"(round_up));
    ok(nearest == 2 && up == 3, "fistp of 2.5: %d to nearest, %d rounding up", nearest, up);

    /* reversed forms, sign and exchange: (2 - 6) -> |.| = 4 -> -4 -> 8 / -4 = -2 */
    double six = 6.0, eight = 8.0, first, second;
    __asm__ volatile("fninit\n fldl %1\n fsubrl %2\n fabs\n fchs\n fdivrl %3\n fstpl %0"
                     : "=m"(r) : "m"(six), "m"(two), "m"(eight));
    memcpy(&bits, &r, 8);
    is_u64(bits, 0xC000000000000000ull, "fsubr, fabs, fchs, fdivr: 8 / -|2 - 6| = -2");
    __asm__ volatile("fldl %2\n fldl %3\n fxch\n fstpl %0\n fstpl %1"
                     : "=m"(first), "=m"(second) : "m"(one), "m"(two));
    ok(first == 1.0 && second == 2.0, "fxch swaps ST(0) and ST(1)");

    /* fcomi / fucomi set ZF, PF, CF directly (P6 and later) */
    uint8_t below, equal;
    __asm__ volatile("fldl %2\n fldl %3\n fcomip %%st(1), %%st\n setb %0\n fstp %%st(0)\n"
                     " fldl %2\n fldl %2\n fucomip %%st(1), %%st\n sete %1\n fstp %%st(0)"
                     : "=q"(below), "=q"(equal) : "m"(two), "m"(one) : "cc", "memory");
    ok(below == 1 && equal == 1, "fcomip 1 < 2 sets CF, fucomip 2 = 2 sets ZF");

    /* unordered: a quiet NaN; fucom stays quiet, fcom raises IE (masked here) */
    uint64_t qnan_bits = 0x7FF8000000000000ull;
    double qnan;
    memcpy(&qnan, &qnan_bits, 8);
    __asm__ volatile("fninit\n fldl %0\n fldl %0\n fucom %%st(1)" : : "m"(qnan));
    uint16_t sw = status_word();
    ok((sw & 0x4500) == 0x4500 && !(sw & 0x0001), "fucom with a QNaN: unordered (C3 C2 C0), no IE");
    __asm__ volatile("fninit\n fldl %0\n fldl %0\n fcom %%st(1)" : : "m"(qnan));
    sw = status_word();
    ok((sw & 0x4500) == 0x4500 && (sw & 0x0001), "fcom with a QNaN: unordered and IE");

    /* popping an empty register: stack underflow is IE + SF with C1 = 0 (SDM Vol. 1 8.5.1.1);
     * QEMU (TCG) does not detect it, as with overflow above */
    __asm__ volatile("fninit\n fstp %%st(0)" ::: "memory");
    is_u32(status_word() & 0x0241, 0x0041, "fstp of an empty stack: underflow (IE, SF, C1 = 0)");
    __asm__ volatile("fninit");

    /* fnstenv: FCW, FSW (with TOP) and FTW in dword slots; then every exception is masked
     * (SDM Vol. 2 FSTENV; QEMU 7.2 leaves the control word as it was) */
    uint32_t env[7];
    uint16_t unmasked = 0x0360, cw_after;
    __asm__ volatile("fninit\n fldcw %2\n fld1\n fnstenv %0\n fnstcw %1"
                     : "=m"(env), "=m"(cw_after) : "m"(unmasked) : "memory");
    ok((env[0] & 0xFFFF) == 0x0360 && ((env[1] >> 11) & 7) == 7 && (env[2] & 0xFFFF) == 0x3FFF,
       "fnstenv: FCW 0360, TOP 7, FTW 3FFF (got %x %x %x)", env[0] & 0xFFFF, env[1] & 0xFFFF,
       env[2] & 0xFFFF);
    is_u32(cw_after & 0x3F, 0x3F, "fnstenv then masks every exception");
    __asm__ volatile("fldenv %1\n fnstcw %0" : "=m"(cw_after) : "m"(env) : "memory");
    is_u32(cw_after, 0x0360, "fldenv gives the control word back");
    __asm__ volatile("fninit");

    /* the 16-bit image: a 14-byte environment in word slots, the registers from byte 14 */
    uint8_t image16[94];
    __asm__ volatile("fninit\n fldl %1\n data16 fnsave %0" : "=m"(image16) : "m"(seven) : "memory");
    uint16_t exponent16;
    memcpy(&exponent16, image16 + 14 + 8, 2);
    ok(image16[0] == 0x7F && image16[1] == 0x03 && exponent16 == 0x4001,
       "16-bit fnsave: FCW at 0, ST(0) = 7.0 at byte 14 (exponent %x)", exponent16);
    __asm__ volatile("data16 frstor %1\n fstpl %0" : "=m"(restored) : "m"(image16) : "memory");
    memcpy(&bits, &restored, 8);
    is_u64(bits, 0x401C000000000000ull, "16-bit frstor gives 7.0 back");
    tap_done();
}
