/* The x87 FPU, as much as its exceptions and kernels' lazy FPU switching need (SDM Vol. 1
 * chapter 8; Vol. 3 2.5, 6.15 #NM and #MF): the register stack, control/status/tag words, the
 * loads and stores of single, double and extended reals and of 16/32/64-bit integers, the basic
 * arithmetic, comparisons, fcmovcc, the D9 one-operand group (constants, fxam, ftst, fsqrt,
 * frndint, fscale, fxtract, fprem/fprem1, the transcendentals through the host's libm),
 * fnstsw/fnstcw/fldcw/fnclex/fninit, fnstenv/fldenv, fnsave/frstor, and the exception flags with their masks: an unmasked exception sets ES and,
 * with CR0.NE, raises #MF at the next waiting x87 instruction (the deferred rule).
 *
 * The host's long double carries the arithmetic: on an x86 host it is the same 80-bit extended
 * format, so loads and stores of m80 are exact and the results are the hardware's (the
 * differential test's host assumption). The host's x87 runs each operation under the guest's
 * rounding control, and its precision control where the hardware applies it (compute_with).
 *
 * The instructions are a table: for each escape D8-DF and ModRM.reg, the memory form and the
 * register form (register forms that depend on ModRM.rm have their own small table). */
#include <fenv.h>
#include <math.h>
#include <string.h>

#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "cpu/exec_handlers.h"
#include "cpu/xstate.h"

/* status word bits (SDM Vol. 1 8.1.3) */
#define SW_IE 0x0001u
#define SW_DE 0x0002u
#define SW_ZE 0x0004u
#define SW_OE 0x0008u
#define SW_UE 0x0010u
#define SW_PE 0x0020u
#define SW_SF 0x0040u
#define SW_ES 0x0080u
#define SW_C0 0x0100u
#define SW_C1 0x0200u
#define SW_C2 0x0400u
#define SW_C3 0x4000u
#define SW_B 0x8000u
#define SW_EXCEPTIONS 0x003Fu
#define TAG_EMPTY 3u

static struct x86_fpu *fpu(struct x86_cpu *cpu) { return &cpu->fpu; }
static unsigned top(const struct x86_cpu *cpu) { return (cpu->fpu.status >> 11) & 7; }
static void set_top(struct x86_cpu *cpu, unsigned t)
{
    cpu->fpu.status = (uint16_t)((cpu->fpu.status & ~0x3800u) | ((t & 7) << 11));
}
static unsigned physical(const struct x86_cpu *cpu, unsigned i) { return (top(cpu) + i) & 7; }
static bool empty(const struct x86_cpu *cpu, unsigned i)
{
    return ((cpu->fpu.tag >> (2 * physical(cpu, i))) & 3) == TAG_EMPTY;
}
static void set_tag(struct x86_cpu *cpu, unsigned physical_register, unsigned tag)
{
    cpu->fpu.tag = (uint16_t)((cpu->fpu.tag & ~(3u << (2 * physical_register))) |
                              (tag << (2 * physical_register)));
}
static unsigned tag_of(long double v)
{
    if (v == 0)
        return 1;                                     /* zero */
    return isnormal(v) ? 0 : 2;                       /* valid : special */
}

/* FNINIT (SDM Vol. 1 8.1.10): control 037F (all exceptions masked, extended precision, round
 * to nearest), status 0, all registers empty; their contents stay (FXAM still shows the sign) */
static void fninit(struct x86_cpu *cpu)
{
    struct x86_fpu *f = fpu(cpu);
    f->control = 0x037F;
    f->status = 0;
    f->tag = 0xFFFF;
}

void x86_fpu_init(struct x86_cpu *cpu)
{
    /* power-up and reset: as FNINIT, and the registers +0.0 (SDM Vol. 3 Table 9-1) */
    memset(fpu(cpu), 0, sizeof(struct x86_fpu));
    fninit(cpu);
}

/* Record exceptions; unmasked ones set ES and B: #MF comes at the next waiting instruction */
static void signal(struct x86_cpu *cpu, uint16_t flags)
{
    struct x86_fpu *f = fpu(cpu);
    f->status |= flags;
    if (flags & SW_EXCEPTIONS & ~f->control)
        f->status |= SW_ES | SW_B;
}

/* an invalid operation's masked response: the QNaN "real indefinite", negative, mantissa
 * C000000000000000 (SDM Vol. 1 4.8.3.7), built from its bits: -NAN's sign does not survive
 * every conversion to long double */
static long double indefinite(void)
{
    static const uint8_t bits[10] = { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF };
    long double v = 0;
    memcpy(&v, bits, sizeof(bits));
    return v;
}

static long double st(struct x86_cpu *cpu, unsigned i)
{
    if (empty(cpu, i)) {
        signal(cpu, SW_IE | SW_SF); /* stack underflow (C1 = 0) */
        cpu->fpu.status &= (uint16_t)~SW_C1;
        cpu->fpu.stack_fault = 1;
        return indefinite();
    }
    return cpu->fpu.st[physical(cpu, i)];
}
/* a result; after a stack underflow in the same instruction the masked response is the
 * indefinite, whatever the arithmetic on the operands gave (SDM Vol. 1 8.5.1.1) */
static void set_st(struct x86_cpu *cpu, unsigned i, long double v)
{
    unsigned p = physical(cpu, i);
    cpu->fpu.st[p] = cpu->fpu.stack_fault ? indefinite() : v;
    set_tag(cpu, p, tag_of(cpu->fpu.st[p]));
}
/* fxch: an empty register reads as the indefinite (with the underflow) and the two are
 * exchanged as they are, so a valid value survives (SDM Vol. 2 FXCH) */
static void exchange(struct x86_cpu *cpu, unsigned i)
{
    long double a = st(cpu, 0), b = st(cpu, i);
    unsigned p0 = physical(cpu, 0), pi = physical(cpu, i);
    cpu->fpu.st[p0] = b;
    set_tag(cpu, p0, tag_of(b));
    cpu->fpu.st[pi] = a;
    set_tag(cpu, pi, tag_of(a));
    cpu->fpu.status &= (uint16_t)~SW_C1;
}
static void push(struct x86_cpu *cpu, long double v)
{
    unsigned t = (top(cpu) - 1) & 7;
    if (((cpu->fpu.tag >> (2 * t)) & 3) != TAG_EMPTY) {
        signal(cpu, SW_IE | SW_SF | SW_C1);           /* stack overflow */
        v = indefinite();
    }
    set_top(cpu, t);
    set_st(cpu, 0, v);
}
static void pop(struct x86_cpu *cpu)
{
    set_tag(cpu, top(cpu), TAG_EMPTY);
    set_top(cpu, top(cpu) + 1);
}

/* ------------------------------------------------------------------ host arithmetic */

static const int rounding_modes[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };

typedef long double (*arith_fn)(long double a, long double b);
static long double op_add(long double a, long double b) { return a + b; }
static long double op_mul(long double a, long double b) { return a * b; }
static long double op_sub(long double a, long double b) { return a - b; }
static long double op_subr(long double a, long double b) { return b - a; }
static long double op_div(long double a, long double b) { return a / b; }
static long double op_divr(long double a, long double b) { return b / a; }

static long double narrow_to_single(long double a, long double b) { (void)b; return (float)a; }
static long double narrow_to_double(long double a, long double b) { (void)b; return (double)a; }

/* the denormal-operand exception: below a stack fault and a NaN operand in priority (SDM
 * Vol. 1 8.7), so it is decided once the operands are known */
static void note_operands(struct x86_cpu *cpu, long double a, long double b)
{
    if (isnan(a) || isnan(b))
        cpu->fpu.nan_operand = 1;
    else if (fpclassify(a) == FP_SUBNORMAL || fpclassify(b) == FP_SUBNORMAL)
        cpu->fpu.denormal_load = 1;
}

/* Run an operation and collect its exception flags (DE is decided by the caller, see above).
 * The host's x87 runs it: on an x86 host its control word takes the guest's rounding control,
 * and for the operations precision control applies to (fadd, fsub, fmul, fdiv, fsqrt: SDM
 * Vol. 1 8.1.5.2) the guest's precision too, so the result is rounded once, as the hardware
 * rounds it; everything else runs at extended precision. Elsewhere only the rounding mode
 * carries over (precision control is then ignored: docs/isa.md). */
static long double compute_with(struct x86_cpu *cpu, arith_fn fn, long double a, long double b,
                                bool precision_controlled)
{
    note_operands(cpu, a, b);
#if defined(__i386__) || defined(__x86_64__)
    uint16_t saved, cw;
    __asm__ volatile("fnstcw %0" : "=m"(saved));
    uint16_t precision = precision_controlled ? (cpu->fpu.control & 0x0300) : 0x0300;
    cw = (uint16_t)((saved & ~0x0F00u) | (cpu->fpu.control & 0x0C00) | precision);
    __asm__ volatile("fldcw %0" : : "m"(cw));
#else
    (void)precision_controlled;
    int saved = fegetround();
    fesetround(rounding_modes[(cpu->fpu.control >> 10) & 3]);
#endif
    feclearexcept(FE_ALL_EXCEPT);
    volatile long double r = fn(a, b);
    int raised = fetestexcept(FE_ALL_EXCEPT);
#if defined(__i386__) || defined(__x86_64__)
    __asm__ volatile("fldcw %0" : : "m"(saved));
#else
    fesetround(saved);
#endif
    uint16_t flags = 0;
    if (raised & FE_INVALID)
        flags |= SW_IE;
    if (raised & FE_DIVBYZERO)
        flags |= SW_ZE;
    if (raised & FE_OVERFLOW)
        flags |= SW_OE;
    if (raised & FE_UNDERFLOW)
        flags |= SW_UE;
    if (raised & FE_INEXACT)
        flags |= SW_PE;
    if (flags)
        signal(cpu, flags);
    return r;
}

static long double compute(struct x86_cpu *cpu, arith_fn fn, long double a, long double b)
{
    return compute_with(cpu, fn, a, b, false);
}
/* fadd, fsub(r), fmul, fdiv(r), fsqrt: rounded to the precision control's 24, 53 or 64 bits */
static long double compute_basic(struct x86_cpu *cpu, arith_fn fn, long double a, long double b)
{
    return compute_with(cpu, fn, a, b, true);
}

/* ------------------------------------------------------------------ memory operands */

/* The memory operand's offset and accesses at offsets from it: 64-bit addresses in 64-bit
 * mode (exec.h's x86_ea64 and x86_linear64), the segment's checks elsewhere */
static uint64_t ea(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return insn->mode == X86_MODE_64 ? x86_ea64(cpu, insn) : x86_effective_address(cpu, insn);
}
static uint32_t mrd(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                    unsigned size)
{
    if (insn->mode == X86_MODE_64)
        return (uint32_t)x86_read_linear(cpu, x86_linear64(cpu, insn->seg, offset, size, false),
                                         size);
    return x86_read(cpu, insn->seg, (uint32_t)offset, size);
}
static void mwr(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset, unsigned size,
                uint32_t value)
{
    if (insn->mode == X86_MODE_64)
        x86_write_linear(cpu, x86_linear64(cpu, insn->seg, offset, size, true), size, value);
    else
        x86_write(cpu, insn->seg, (uint32_t)offset, size, value);
}
/* a store of size bytes at offset would succeed (segment, canonical form, page) */
static void mchk(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset, unsigned size)
{
    if (insn->mode != X86_MODE_64) {
        x86_check_write(cpu, insn->seg, (uint32_t)offset, size);
        return;
    }
    x86_check_write_linear(cpu, x86_linear64(cpu, insn->seg, offset, size, true), size);
}
static uint64_t read64(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset)
{
    uint64_t base = ea(cpu, insn);
    return (uint64_t)mrd(cpu, insn, base + offset, 4) |
           (uint64_t)mrd(cpu, insn, base + offset + 4, 4) << 32;
}
static void check_write(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned size)
{
    mchk(cpu, insn, ea(cpu, insn), 1);
    mchk(cpu, insn, ea(cpu, insn) + size - 1, 1);
}
static void write64(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset, uint64_t v)
{
    uint64_t base = ea(cpu, insn);
    mwr(cpu, insn, base + offset, 4, (uint32_t)v);
    mwr(cpu, insn, base + offset + 4, 4, (uint32_t)(v >> 32));
}

enum memory_type { M32REAL, M64REAL, M80REAL, M16INT, M32INT, M64INT };

static long double load(struct x86_cpu *cpu, const struct x86_insn *insn, enum memory_type type)
{
    switch (type) {
    /* single and double reals: an SNaN is invalid (and becomes the QNaN), a denormal sets DE */
    case M32REAL: {
        uint32_t v = mrd(cpu, insn, ea(cpu, insn), 4);
        float f;
        memcpy(&f, &v, 4);
        if (issignaling(f))
            signal(cpu, SW_IE);
        else if (fpclassify(f) == FP_SUBNORMAL)
            cpu->fpu.denormal_load = 1;
        return f;
    }
    case M64REAL: {
        uint64_t v = read64(cpu, insn, 0);
        double d;
        memcpy(&d, &v, 8);
        if (issignaling(d))
            signal(cpu, SW_IE);
        else if (fpclassify(d) == FP_SUBNORMAL)
            cpu->fpu.denormal_load = 1;
        return d;
    }
    case M80REAL: {
        uint8_t bytes[16] = { 0 };
        uint64_t low = read64(cpu, insn, 0);
        uint16_t high = (uint16_t)mrd(cpu, insn, ea(cpu, insn) + 8, 2);
        memcpy(bytes, &low, 8);
        memcpy(bytes + 8, &high, 2);
        long double v;
        memcpy(&v, bytes, sizeof(v) < 16 ? sizeof(v) : 16);
        return v;
    }
    case M16INT: return (int16_t)mrd(cpu, insn, ea(cpu, insn), 2);
    case M32INT: return (int32_t)mrd(cpu, insn, ea(cpu, insn), 4);
    case M64INT: return (int64_t)read64(cpu, insn, 0);
    }
    return 0;
}

static const unsigned memory_size[] = { [M32REAL] = 4, [M64REAL] = 8, [M80REAL] = 10,
                                        [M16INT] = 2, [M32INT] = 4, [M64INT] = 8 };

static void store(struct x86_cpu *cpu, const struct x86_insn *insn, enum memory_type type,
                  long double v)
{
    check_write(cpu, insn, memory_size[type]);
    switch (type) {
    /* narrowing rounds by RC and raises what it raises (overflow, underflow, precision, an
     * SNaN's invalid), as compute() collects it */
    case M32REAL: {
        float f = (float)compute(cpu, narrow_to_single, v, 0.0L);
        uint32_t u;
        memcpy(&u, &f, 4);
        mwr(cpu, insn, ea(cpu, insn), 4, u);
        break;
    }
    case M64REAL: {
        double d = (double)compute(cpu, narrow_to_double, v, 0.0L);
        uint64_t u;
        memcpy(&u, &d, 8);
        write64(cpu, insn, 0, u);
        break;
    }
    case M80REAL: {
        uint8_t bytes[16] = { 0 };
        memcpy(bytes, &v, sizeof(v) < 16 ? sizeof(v) : 16);
        uint64_t low;
        uint16_t high;
        memcpy(&low, bytes, 8);
        memcpy(&high, bytes + 8, 2);
        write64(cpu, insn, 0, low);
        mwr(cpu, insn, ea(cpu, insn) + 8, 2, high);
        break;
    }
    default: {
        /* integer stores round by RC; out of range or NaN: IE, the integer indefinite */
        static const long double limits[] = { [M16INT] = 32768.0L, [M32INT] = 2147483648.0L,
                                              [M64INT] = 9223372036854775808.0L };
        int saved = fegetround();
        fesetround(rounding_modes[(cpu->fpu.control >> 10) & 3]);
        long double r = nearbyintl(v);
        fesetround(saved);
        int64_t i;
        if (isnan(v) || r >= limits[type] || r < -limits[type]) {
            signal(cpu, SW_IE);
            i = type == M16INT ? INT16_MIN : type == M32INT ? INT32_MIN : INT64_MIN;
        } else {
            if (r != v)
                signal(cpu, SW_PE);
            i = (int64_t)r;
        }
        if (type == M64INT)
            write64(cpu, insn, 0, (uint64_t)i);
        else
            mwr(cpu, insn, ea(cpu, insn), memory_size[type], (uint32_t)i);
        break;
    }
    }
}

/* ------------------------------------------------------------------ comparisons */

static void compare(struct x86_cpu *cpu, long double a, long double b, bool unordered_quiet)
{
    uint16_t c = 0;
    note_operands(cpu, a, b);
    if (isnan(a) || isnan(b)) {
        c = SW_C3 | SW_C2 | SW_C0;
        if (!unordered_quiet || issignaling(a) || issignaling(b))
            signal(cpu, SW_IE);
    } else if (a < b) {
        c = SW_C0;
    } else if (a == b) {
        c = SW_C3;
    }
    cpu->fpu.status = (uint16_t)((cpu->fpu.status & ~(SW_C3 | SW_C2 | SW_C0 | SW_C1)) | c);
}

/* ------------------------------------------------------------------ the instruction table */

typedef void (*x87_fn)(struct x86_cpu *cpu, const struct x86_insn *insn);

static const arith_fn arithmetic[8] = { op_add, op_mul, NULL, NULL, op_sub, op_subr, op_div,
                                        op_divr };

/* D8 / DC / DA / DE memory: ST(0) op= m32real / m64real / m32int / m16int */
static void arith_memory(struct x86_cpu *cpu, const struct x86_insn *insn, enum memory_type type)
{
    unsigned r = insn->reg & 7;
    long double m = load(cpu, insn, type);
    long double a = st(cpu, 0);
    if (r == 2 || r == 3) {                        /* fcom, fcomp */
        compare(cpu, a, m, false);
        if (r == 3)
            pop(cpu);
        return;
    }
    set_st(cpu, 0, compute_basic(cpu, arithmetic[r], a, m));
}
static void x87_d8_memory(struct x86_cpu *c, const struct x86_insn *i) { arith_memory(c, i, M32REAL); }
static void x87_dc_memory(struct x86_cpu *c, const struct x86_insn *i) { arith_memory(c, i, M64REAL); }
static void x87_da_memory(struct x86_cpu *c, const struct x86_insn *i) { arith_memory(c, i, M32INT); }
static void x87_de_memory(struct x86_cpu *c, const struct x86_insn *i) { arith_memory(c, i, M16INT); }

/* D8 register: ST(0) op= ST(i); DC: ST(i) op= ST(0) (sub/div reversed); DE: the same and pop */
static void arith_register(struct x86_cpu *cpu, const struct x86_insn *insn, bool to_st_i,
                           bool pop_after)
{
    unsigned r = insn->reg & 7, i = insn->rm & 7;
    long double a = st(cpu, 0), b = st(cpu, i);
    if (r == 2 || r == 3) {
        compare(cpu, a, b, false);
        if (r == 3 || pop_after) /* DE D0-D7 is the fcomp5 alias */
            pop(cpu);
        return;
    }
    if (to_st_i) {
        /* DC/DE: the destination is ST(i), the operation on (ST(0), ST(i)) the same as D8's
         * for the same reg: DC E0+i is FSUBR ST(i), ST(0) = ST(0) - ST(i), DC E8+i is FSUB
         * ST(i), ST(0) = ST(i) - ST(0) (SDM Vol. 2 FSUB, FDIV) */
        set_st(cpu, i, compute_basic(cpu, arithmetic[r], a, b));
        if (pop_after)
            pop(cpu);
    } else {
        set_st(cpu, 0, compute_basic(cpu, arithmetic[r], a, b));
    }
}
static void x87_d8_register(struct x86_cpu *c, const struct x86_insn *i) { arith_register(c, i, false, false); }
static void x87_dc_register(struct x86_cpu *c, const struct x86_insn *i) { arith_register(c, i, true, false); }
static void x87_de_register(struct x86_cpu *c, const struct x86_insn *i)
{
    if ((i->reg & 7) == 3) {                       /* DE D9: fcompp */
        compare(c, st(c, 0), st(c, 1), false);
        pop(c);
        pop(c);
        return;
    }
    arith_register(c, i, true, true);
}

/* loads and stores by (escape, reg) */
static void fld_m32(struct x86_cpu *c, const struct x86_insn *i) { push(c, load(c, i, M32REAL)); }
static void fld_m64(struct x86_cpu *c, const struct x86_insn *i) { push(c, load(c, i, M64REAL)); }
static void fld_m80(struct x86_cpu *c, const struct x86_insn *i) { push(c, load(c, i, M80REAL)); }
static void fild_m16(struct x86_cpu *c, const struct x86_insn *i) { push(c, load(c, i, M16INT)); }
static void fild_m32(struct x86_cpu *c, const struct x86_insn *i) { push(c, load(c, i, M32INT)); }
static void fild_m64(struct x86_cpu *c, const struct x86_insn *i) { push(c, load(c, i, M64INT)); }
#define STORE(name, type, popping) \
    static void name(struct x86_cpu *c, const struct x86_insn *i) \
    { \
        store(c, i, type, st(c, 0)); \
        if (popping) \
            pop(c); \
    }
STORE(fst_m32, M32REAL, false)
STORE(fstp_m32, M32REAL, true)
STORE(fst_m64, M64REAL, false)
STORE(fstp_m64, M64REAL, true)
STORE(fstp_m80, M80REAL, true)
STORE(fist_m16, M16INT, false)
STORE(fistp_m16, M16INT, true)
STORE(fist_m32, M32INT, false)
STORE(fistp_m32, M32INT, true)
STORE(fistp_m64, M64INT, true)
/* fisttp (SSE3, DF /1, DB /1, DD /1): fistp truncating whatever FCW.RC says; #UD without SSE3
 * (SDM Vol. 2 FISTTP). The page is checked before RC changes, so a fault leaves FCW alone. */
static void fisttp(struct x86_cpu *c, const struct x86_insn *i, enum memory_type type)
{
    if (!(c->simd & X86_SIMD_SSE3))
        x86_raise_ud(c);
    check_write(c, i, memory_size[type]);
    uint16_t control = c->fpu.control;
    c->fpu.control |= 0x0C00; /* RC = toward zero */
    store(c, i, type, st(c, 0));
    c->fpu.control = control;
    pop(c);
}
static void fisttp_m16(struct x86_cpu *c, const struct x86_insn *i) { fisttp(c, i, M16INT); }
static void fisttp_m32(struct x86_cpu *c, const struct x86_insn *i) { fisttp(c, i, M32INT); }
static void fisttp_m64(struct x86_cpu *c, const struct x86_insn *i) { fisttp(c, i, M64INT); }

static void fnstcw(struct x86_cpu *c, const struct x86_insn *i)
{
    mwr(c, i, ea(c, i), 2, c->fpu.control);
}
static void fldcw(struct x86_cpu *c, const struct x86_insn *i)
{
    c->fpu.control = (uint16_t)(mrd(c, i, ea(c, i), 2) | 0x0040);
    /* unmasking a pending exception makes it pending for #MF (SDM Vol. 1 8.7) */
    if (c->fpu.status & SW_EXCEPTIONS & ~c->fpu.control)
        c->fpu.status |= SW_ES | SW_B;
    else
        c->fpu.status &= (uint16_t)~(SW_ES | SW_B);
}
static void fnstsw_memory(struct x86_cpu *c, const struct x86_insn *i)
{
    mwr(c, i, ea(c, i), 2, c->fpu.status);
}

/* The x87 environment (SDM Vol. 1 8.1.10, Figures 8-9 to 8-12): FCW, FSW and FTW, then the
 * last instruction and operand pointers, which we keep as 0 (docs/isa.md). 28 bytes in dword
 * slots with a 32-bit operand size, 14 in word slots with a 16-bit one; with zero pointers the
 * real-mode and protected-mode layouts are the same. Returns the environment's size. */
static unsigned environment_size(const struct x86_insn *i) { return i->opsize == 2 ? 14 : 28; }

static unsigned store_environment(struct x86_cpu *c, const struct x86_insn *i, uint64_t base)
{
    unsigned slot = i->opsize == 2 ? 2 : 4;
    uint32_t fill = slot == 4 ? 0xFFFF0000u : 0; /* the reserved high words read as ones */
    mwr(c, i, base + 0 * slot, slot, fill | c->fpu.control);
    mwr(c, i, base + 1 * slot, slot, fill | c->fpu.status);
    mwr(c, i, base + 2 * slot, slot, fill | c->fpu.tag);
    for (unsigned k = 3; k < 7; k++)
        mwr(c, i, base + k * slot, slot, 0);  /* FIP, FCS/FOP, FDP, FDS */
    return environment_size(i);
}

static unsigned load_environment(struct x86_cpu *c, const struct x86_insn *i, uint64_t base,
                                 struct x86_fpu *f)
{
    unsigned slot = i->opsize == 2 ? 2 : 4;
    f->control = (uint16_t)(mrd(c, i, base + 0 * slot, 2) | 0x0040);
    f->status = (uint16_t)mrd(c, i, base + 1 * slot, 2);
    f->tag = (uint16_t)mrd(c, i, base + 2 * slot, 2);
    return environment_size(i);
}

/* fnstenv / fldenv: the environment alone; fnstenv then masks every exception (SDM Vol. 2
 * FSTENV) */
static void fnstenv(struct x86_cpu *c, const struct x86_insn *i)
{
    check_write(c, i, environment_size(i));
    store_environment(c, i, ea(c, i));
    c->fpu.control |= 0x003F;
}
static void fldenv(struct x86_cpu *c, const struct x86_insn *i)
{
    struct x86_fpu f = c->fpu;
    load_environment(c, i, ea(c, i), &f); /* all read before any is changed */
    c->fpu.control = f.control;
    c->fpu.status = f.status;
    c->fpu.tag = f.tag;
}

/* fnsave / frstor: the environment and the eight registers, ST(0) first, 10 bytes each: 108
 * bytes (32-bit operand size) or 94 (16-bit) */
static void fnsave(struct x86_cpu *c, const struct x86_insn *i)
{
    check_write(c, i, environment_size(i) + 80);
    uint64_t base = ea(c, i);
    uint64_t registers = base + store_environment(c, i, base);
    for (unsigned r = 0; r < 8; r++) {
        uint8_t bytes[16] = { 0 };
        memcpy(bytes, &c->fpu.st[physical(c, r)], sizeof(long double) < 16 ? sizeof(long double) : 16);
        for (unsigned b = 0; b < 10; b++)
            mwr(c, i, registers + 10 * r + b, 1, bytes[b]);
    }
    fninit(c); /* fnsave then initialises, as fninit */
}
static void frstor(struct x86_cpu *c, const struct x86_insn *i)
{
    uint64_t base = ea(c, i);
    struct x86_fpu f;
    memset(&f, 0, sizeof(f));
    uint64_t registers = base + load_environment(c, i, base, &f);
    unsigned t = (f.status >> 11) & 7;
    for (unsigned r = 0; r < 8; r++) {
        uint8_t bytes[16] = { 0 };
        for (unsigned b = 0; b < 10; b++)
            bytes[b] = (uint8_t)mrd(c, i, registers + 10 * r + b, 1);
        memcpy(&f.st[(t + r) & 7], bytes, sizeof(long double) < 16 ? sizeof(long double) : 16);
    }
    c->fpu = f;
}

/* fcomi / fucomi (P6): the comparison in ZF, PF, CF (SDM Vol. 2 FCOMI) */
static void compare_to_eflags(struct x86_cpu *cpu, unsigned i, bool quiet, bool pop_after)
{
    long double a = st(cpu, 0), b = st(cpu, i);
    uint32_t flags = 0;
    note_operands(cpu, a, b);
    if (isnan(a) || isnan(b)) {
        flags = X86_FLAG_ZF | X86_FLAG_PF | X86_FLAG_CF;
        if (!quiet || issignaling(a) || issignaling(b))
            signal(cpu, SW_IE);
    } else if (a < b) {
        flags = X86_FLAG_CF;
    } else if (a == b) {
        flags = X86_FLAG_ZF;
    }
    x86_set_eflags(cpu, flags, X86_FLAGS_ARITH);
    if (pop_after)
        pop(cpu);
}

/* register forms of D9 and DB/DD/DF that depend on ModRM.rm (SDM Vol. 2 Table A-9 ff.) */
/* ------------------------------------------------------------------ D9 E0-FF: one operand or
 * none (SDM Vol. 2 each instruction; Vol. 1 8.3) */

/* C2 (and C0, C1, C3) are set by some of these; most clear C1 and C2 */
static void set_condition(struct x86_cpu *c, uint16_t bits, uint16_t mask)
{
    c->fpu.status = (uint16_t)((c->fpu.status & ~mask) | (bits & mask));
}

static long double unary_sqrt(long double a, long double b) { (void)b; return sqrtl(a); }
static long double unary_round(long double a, long double b) { (void)b; return rintl(a); }
static long double unary_sin(long double a, long double b) { (void)b; return sinl(a); }
static long double unary_cos(long double a, long double b) { (void)b; return cosl(a); }
static long double unary_tan(long double a, long double b) { (void)b; return tanl(a); }
static long double unary_exp2m1(long double a, long double b) { (void)b; return expm1l(a * 0.693147180559945309417232121458176568L); }
static long double binary_atan(long double y, long double x) { return atan2l(y, x); }
static long double binary_ylog2x(long double x, long double y) { return y * log2l(x); }
static long double binary_ylog2xp1(long double x, long double y) { return y * (log1pl(x) / 0.693147180559945309417232121458176568L); }
/* fscale (SDM Vol. 2 FSCALE, Table 3-43): NaNs propagate; an infinite scale makes infinities
 * or zeros, and 0 * 2^+inf or inf * 2^-inf is invalid; otherwise a * 2^trunc(b), clamped well
 * outside the extended range so the host raises overflow or underflow */
static long double binary_scale(long double a, long double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (isinf(b)) {
        if ((b > 0 && a == 0) || (b < 0 && isinf(a)))
            return (a - a) * b; /* invalid (0 * inf, inf - inf): the host makes the indefinite */
        return b > 0 ? a * INFINITY : a * 0;
    }
    int e = b > 65536.0L ? 65536 : b < -65536.0L ? -65536 : (int)b; /* b: already truncated */
    return scalbnl(a, e);
}

static void x87_fchs(struct x86_cpu *c) { set_st(c, 0, -st(c, 0)); set_condition(c, 0, SW_C1); }
static void x87_fabs(struct x86_cpu *c) { set_st(c, 0, fabsl(st(c, 0))); set_condition(c, 0, SW_C1); }
static void x87_ftst(struct x86_cpu *c) { compare(c, st(c, 0), 0.0L, false); }

/* x87_fxam: the class of ST(0) in C3 C2 C0, its sign in C1; no exception, even when empty */
static void x87_fxam(struct x86_cpu *c)
{
    uint16_t bits;
    /* C1 is the sign of the register's contents, empty or not */
    long double v = c->fpu.st[physical(c, 0)];
    if (empty(c, 0)) {
        bits = SW_C3 | SW_C0;
    } else {
        switch (fpclassify(v)) {
        case FP_NAN: bits = SW_C0; break;
        case FP_INFINITE: bits = SW_C2 | SW_C0; break;
        case FP_ZERO: bits = SW_C3; break;
        case FP_SUBNORMAL: bits = SW_C3 | SW_C2; break;
        default: bits = SW_C2; break;
        }
    }
    if (signbit(v))
        bits |= SW_C1;
    set_condition(c, bits, SW_C3 | SW_C2 | SW_C1 | SW_C0);
}

/* the constants, as round-to-nearest gives them (the rounding control is not applied) */
static void x87_fld1(struct x86_cpu *c) { push(c, 1.0L); }
static void x87_fldl2t(struct x86_cpu *c) { push(c, 3.32192809488736234787031942948939018L); }
static void x87_fldl2e(struct x86_cpu *c) { push(c, 1.44269504088896340735992468100189214L); }
static void x87_fldpi(struct x86_cpu *c) { push(c, 3.14159265358979323846264338327950288L); }
static void x87_fldlg2(struct x86_cpu *c) { push(c, 0.301029995663981195213738894724493027L); }
static void x87_fldln2(struct x86_cpu *c) { push(c, 0.693147180559945309417232121458176568L); }
static void x87_fldz(struct x86_cpu *c) { push(c, 0.0L); }

/* ST(0) <- f(ST(0)) under the guest's rounding mode, with the exception flags */
static void unary(struct x86_cpu *c, arith_fn fn)
{
    set_st(c, 0, compute(c, fn, st(c, 0), 0.0L));
    set_condition(c, 0, SW_C1 | SW_C2);
}
/* ST(1) <- f(ST(0), ST(1)), then pop */
static void binary_pop(struct x86_cpu *c, arith_fn fn)
{
    long double x = st(c, 0), y = st(c, 1);
    set_st(c, 1, compute(c, fn, x, y));
    pop(c);
    set_condition(c, 0, SW_C1 | SW_C2);
}

/* the trigonometric instructions leave an operand of 2^63 or more alone with C2 = 1 */
static bool trig_in_range(struct x86_cpu *c)
{
    bool in_range = !(fabsl(st(c, 0)) >= 9223372036854775808.0L);
    set_condition(c, in_range ? 0 : SW_C2, SW_C1 | SW_C2);
    return in_range;
}

static void x87_f2xm1(struct x86_cpu *c) { unary(c, unary_exp2m1); }
static void x87_fyl2x(struct x86_cpu *c) { binary_pop(c, binary_ylog2x); }
static void x87_fyl2xp1(struct x86_cpu *c) { binary_pop(c, binary_ylog2xp1); }
static void x87_fpatan(struct x86_cpu *c)
{
    long double x = st(c, 0), y = st(c, 1);
    set_st(c, 1, compute(c, binary_atan, y, x));
    pop(c);
    set_condition(c, 0, SW_C1 | SW_C2);
}
static void x87_fptan(struct x86_cpu *c)
{
    if (!trig_in_range(c))
        return;
    set_st(c, 0, compute(c, unary_tan, st(c, 0), 0.0L));
    push(c, 1.0L);
}
static void x87_fsin(struct x86_cpu *c) { if (trig_in_range(c)) set_st(c, 0, compute(c, unary_sin, st(c, 0), 0.0L)); }
static void x87_fcos(struct x86_cpu *c) { if (trig_in_range(c)) set_st(c, 0, compute(c, unary_cos, st(c, 0), 0.0L)); }
static void x87_fsincos(struct x86_cpu *c)
{
    if (!trig_in_range(c))
        return;
    long double x = st(c, 0);
    set_st(c, 0, compute(c, unary_sin, x, 0.0L));
    push(c, compute(c, unary_cos, x, 0.0L));
}
static void x87_fsqrt(struct x86_cpu *c)
{
    set_st(c, 0, compute_basic(c, unary_sqrt, st(c, 0), 0.0L));
    set_condition(c, 0, SW_C1 | SW_C2);
}
static void x87_frndint(struct x86_cpu *c) { unary(c, unary_round); }
static void x87_fscale(struct x86_cpu *c)
{
    long double a = st(c, 0), b = st(c, 1);
    note_operands(c, a, b); /* a denormal scale counts, though truncating makes it 0 */
    /* truncate the scale outside compute(): truncl's own inexact flag is not the result's */
    set_st(c, 0, compute(c, binary_scale, a, isfinite(b) ? truncl(b) : b));
    set_condition(c, 0, SW_C1 | SW_C2);
}

/* x87_fxtract: ST(0) = exponent, then push the significand (1 <= |s| < 2) */
static void x87_fxtract(struct x86_cpu *c)
{
    long double x = st(c, 0);
    note_operands(c, x, 0.0L);
    if (x == 0) {
        signal(c, SW_ZE);
        set_st(c, 0, -INFINITY);
        push(c, x);
        return;
    }
    if (isinf(x) || isnan(x)) {
        set_st(c, 0, isnan(x) ? x : INFINITY);
        push(c, x);
        return;
    }
    int e = ilogbl(x);
    set_st(c, 0, (long double)e);
    push(c, scalbnl(x, -e));
}

/* x87_fprem (truncating) and x87_fprem1 (IEEE): the remainder in one step (C2 = 0, complete) with the
 * quotient's low bits in C0 (Q2), C3 (Q1), C1 (Q0) */
static void partial_remainder(struct x86_cpu *c, bool ieee)
{
    long double a = st(c, 0), b = st(c, 1);
    if (isnan(a) || isnan(b) || isinf(a) || b == 0) {
        signal(c, SW_IE);
        set_st(c, 0, indefinite());
        set_condition(c, 0, SW_C2);
        return;
    }
    long double r;
    long long q_low;
    if (ieee) {
        int q;
        r = remquol(a, b, &q);
        q_low = q < 0 ? -q : q;
    } else {
        r = fmodl(a, b);
        q_low = (long long)fmodl(truncl(fabsl((a - r) / b)), 8.0L);
    }
    set_st(c, 0, r);
    uint16_t bits = (uint16_t)(((q_low & 4) ? SW_C0 : 0) | ((q_low & 2) ? SW_C3 : 0) |
                               ((q_low & 1) ? SW_C1 : 0));
    set_condition(c, bits, SW_C0 | SW_C1 | SW_C2 | SW_C3);
}
static void x87_fprem(struct x86_cpu *c) { partial_remainder(c, false); }
static void x87_fprem1(struct x86_cpu *c) { partial_remainder(c, true); }
static void x87_fdecstp(struct x86_cpu *c) { set_top(c, top(c) - 1); set_condition(c, 0, SW_C1); }
static void x87_fincstp(struct x86_cpu *c) { set_top(c, top(c) + 1); set_condition(c, 0, SW_C1); }

/* fbld / fbstp: the 10-byte packed BCD integer, 18 digits (two a byte, low digit in the low
 * nibble) and the sign in bit 79 (SDM Vol. 1 4.7) */
static void fbld(struct x86_cpu *c, const struct x86_insn *i)
{
    uint64_t base = ea(c, i);
    uint8_t bytes[10];
    for (unsigned b = 0; b < 10; b++)
        bytes[b] = (uint8_t)mrd(c, i, base + b, 1);
    long double v = 0;
    for (int b = 8; b >= 0; b--)
        v = v * 100 + (bytes[b] >> 4) * 10 + (bytes[b] & 0xF);
    push(c, (bytes[9] & 0x80) ? -v : v);
}
static void fbstp(struct x86_cpu *c, const struct x86_insn *i)
{
    check_write(c, i, 10);
    uint8_t bytes[10] = { 0 };
    long double v = compute(c, unary_round, st(c, 0), 0.0L);
    if (isnan(v) || fabsl(v) > 999999999999999999.0L) {
        signal(c, SW_IE);
        if (!(c->fpu.control & SW_IE))
            return; /* unmasked: nothing stored, nothing popped */
        bytes[9] = 0xFF; /* the packed BCD indefinite */
        bytes[8] = 0xFF;
        bytes[7] = 0xC0;
    } else {
        unsigned long long n = (unsigned long long)fabsl(v);
        for (unsigned b = 0; b < 9; b++, n /= 100)
            bytes[b] = (uint8_t)((n % 10) | ((n / 10 % 10) << 4));
        bytes[9] = signbit(v) ? 0x80 : 0;
    }
    uint64_t base = ea(c, i);
    for (unsigned b = 0; b < 10; b++)
        mwr(c, i, base + b, 1, bytes[b]);
    pop(c);
}

typedef void (*x87_control_fn)(struct x86_cpu *cpu);
/* D9 E0-FF by the low five bits of the ModRM byte; NULL: #UD */
static const x87_control_fn d9_controls[32] = {
    [0x00] = x87_fchs, [0x01] = x87_fabs, [0x04] = x87_ftst, [0x05] = x87_fxam,
    [0x08] = x87_fld1, [0x09] = x87_fldl2t, [0x0A] = x87_fldl2e, [0x0B] = x87_fldpi,
    [0x0C] = x87_fldlg2, [0x0D] = x87_fldln2, [0x0E] = x87_fldz,
    [0x10] = x87_f2xm1, [0x11] = x87_fyl2x, [0x12] = x87_fptan, [0x13] = x87_fpatan,
    [0x14] = x87_fxtract, [0x15] = x87_fprem1, [0x16] = x87_fdecstp, [0x17] = x87_fincstp,
    [0x18] = x87_fprem, [0x19] = x87_fyl2xp1, [0x1A] = x87_fsqrt, [0x1B] = x87_fsincos,
    [0x1C] = x87_frndint, [0x1D] = x87_fscale, [0x1E] = x87_fsin, [0x1F] = x87_fcos,
};

static void d9_register(struct x86_cpu *c, const struct x86_insn *insn)
{
    unsigned r = insn->reg & 7, i = insn->rm & 7;
    switch (r) {
    case 0: push(c, st(c, i)); return;                               /* fld st(i) */
    case 1: exchange(c, i); return;                                   /* fxch st(i) */
    case 2:
        if (i == 0)
            return;                                                   /* fnop */
        break;
    case 3: set_st(c, i, st(c, 0)); pop(c); return;                   /* fstp1: fstp st(i) */
    default: {
        x87_control_fn fn = r >= 4 ? d9_controls[(r - 4) * 8 + i] : NULL;
        if (fn) {
            fn(c);
            return;
        }
        break;
    }
    }
    x86_raise_ud(c); /* the reserved D9 forms */
}

/* fcmovcc (DA/DB C0-DF): ST(0) <- ST(i) when the EFLAGS condition holds; the conditions are
 * those of jcc's encoding: DA b, e, be, u; DB the negations */
static const uint8_t fcmov_conditions[2][4] = { { 0x2, 0x4, 0x6, 0xA }, { 0x3, 0x5, 0x7, 0xB } };
static void fcmov(struct x86_cpu *c, const struct x86_insn *insn, unsigned negated)
{
    long double v = st(c, insn->rm & 7);
    if (x86_condition(c, fcmov_conditions[negated][insn->reg & 3]))
        set_st(c, 0, v);
    set_condition(c, 0, SW_C1);
}

static void db_register(struct x86_cpu *c, const struct x86_insn *insn)
{
    if ((insn->reg & 7) == 4 && (insn->rm & 7) == 2) {                /* fnclex */
        c->fpu.status &= (uint16_t)~(SW_EXCEPTIONS | SW_SF | SW_ES | SW_B);
        return;
    }
    if ((insn->reg & 7) == 4 && (insn->rm & 7) == 3) {                /* fninit */
        fninit(c);
        return;
    }
    if ((insn->reg & 7) == 5 || (insn->reg & 7) == 6) {               /* fucomi, fcomi */
        compare_to_eflags(c, insn->rm & 7, (insn->reg & 7) == 5, false);
        return;
    }
    if ((insn->reg & 7) < 4) {                                        /* fcmovnb ... fcmovnu */
        fcmov(c, insn, 1);
        return;
    }
    x86_raise_ud(c);
}
static void dd_register(struct x86_cpu *c, const struct x86_insn *insn)
{
    unsigned r = insn->reg & 7, i = insn->rm & 7;
    switch (r) {
    case 0: set_tag(c, physical(c, i), TAG_EMPTY); return;            /* ffree */
    case 1: exchange(c, i); return;                                    /* fxch4: fxch st(i) */
    case 2: set_st(c, i, st(c, 0)); return;                           /* fst st(i) */
    case 3: set_st(c, i, st(c, 0)); pop(c); return;                   /* fstp st(i) */
    case 4: compare(c, st(c, 0), st(c, i), true); return;             /* fucom */
    case 5: compare(c, st(c, 0), st(c, i), true); pop(c); return;     /* fucomp */
    default: break;
    }
    x86_raise_ud(c);
}
static void da_register(struct x86_cpu *c, const struct x86_insn *insn)
{
    if ((insn->reg & 7) == 5 && (insn->rm & 7) == 1) {                /* fucompp */
        compare(c, st(c, 0), st(c, 1), true);
        pop(c);
        pop(c);
        return;
    }
    if ((insn->reg & 7) < 4) {                                        /* fcmovb ... fcmovu */
        fcmov(c, insn, 0);
        return;
    }
    x86_raise_ud(c);
}
static void df_register(struct x86_cpu *c, const struct x86_insn *insn)
{
    if ((insn->reg & 7) == 4 && (insn->rm & 7) == 0) {                /* fnstsw ax */
        x86_set_gpr16(c, X86_EAX, c->fpu.status);
        return;
    }
    if ((insn->reg & 7) == 5 || (insn->reg & 7) == 6) {               /* fucomip, fcomip */
        compare_to_eflags(c, insn->rm & 7, (insn->reg & 7) == 5, true);
        return;
    }
    /* the aliases real processors accept (SDM Vol. 2 Table A-22 leaves them out) */
    unsigned i = insn->rm & 7;
    switch (insn->reg & 7) {
    case 0: set_tag(c, physical(c, i), TAG_EMPTY); pop(c); return;     /* ffreep */
    case 1: exchange(c, i); return;                                    /* fxch7 */
    case 2: case 3: set_st(c, i, st(c, 0)); pop(c); return;           /* fstp8, fstp9 */
    default: break;
    }
    x86_raise_ud(c);
}

/* [escape][reg]: memory forms, NULL = not implemented (#UD) */
static const x87_fn memory_forms[8][8] = {
    /* D8 */ { x87_d8_memory, x87_d8_memory, x87_d8_memory, x87_d8_memory, x87_d8_memory, x87_d8_memory, x87_d8_memory, x87_d8_memory },
    /* D9 */ { fld_m32, NULL, fst_m32, fstp_m32, fldenv, fldcw, fnstenv, fnstcw },
    /* DA */ { x87_da_memory, x87_da_memory, x87_da_memory, x87_da_memory, x87_da_memory, x87_da_memory, x87_da_memory, x87_da_memory },
    /* DB */ { fild_m32, fisttp_m32, fist_m32, fistp_m32, NULL, fld_m80, NULL, fstp_m80 },
    /* DC */ { x87_dc_memory, x87_dc_memory, x87_dc_memory, x87_dc_memory, x87_dc_memory, x87_dc_memory, x87_dc_memory, x87_dc_memory },
    /* DD */ { fld_m64, fisttp_m64, fst_m64, fstp_m64, frstor, NULL, fnsave, fnstsw_memory },
    /* DE */ { x87_de_memory, x87_de_memory, x87_de_memory, x87_de_memory, x87_de_memory, x87_de_memory, x87_de_memory, x87_de_memory },
    /* DF */ { fild_m16, fisttp_m16, fist_m16, fistp_m16, fbld, fild_m64, fbstp, fistp_m64 },
};
static const x87_fn register_forms[8] = {
    x87_d8_register, d9_register, da_register, db_register,
    x87_dc_register, dd_register, x87_de_register, df_register,
};

/* the control instructions that do not wait (no #MF check): fnstcw, fnstenv, fnstsw, fnclex,
 * fninit, fnsave (SDM Vol. 1 8.3.11) */
static bool no_wait(unsigned escape, const struct x86_insn *insn)
{
    unsigned r = insn->reg & 7;
    if (insn->mod == 3)
        return (escape == 3 && r == 4 && ((insn->rm & 7) == 2 || (insn->rm & 7) == 3)) ||
               (escape == 7 && r == 4 && (insn->rm & 7) == 0);
    return (escape == 1 && (r == 6 || r == 7)) || (escape == 5 && (r == 6 || r == 7));
}

X86_HANDLER(x86_exec_x87)
{
    /* SDM Vol. 3 2.5, Table 2-2: EM or TS makes every x87 instruction #NM */
    if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS))
        x86_raise(cpu, X86_VEC_NM, 0);
    unsigned escape = insn->opcode & 7;
    /* the deferred rule: a pending unmasked exception is #MF at the next waiting instruction
     * (CR0.NE; without it the PC's FERR#/IRQ13 path is not modelled: docs/isa.md) */
    if ((cpu->fpu.status & SW_ES) && (cpu->cr0 & X86_CR0_NE) && !no_wait(escape, insn))
        x86_raise(cpu, X86_VEC_MF, 0);
    x87_fn fn = insn->mod == 3 ? register_forms[escape] : memory_forms[escape][insn->reg & 7];
    if (!fn)
        x86_raise_ud(cpu);
    cpu->fpu.stack_fault = 0;
    cpu->fpu.denormal_load = 0;
    cpu->fpu.nan_operand = 0;
    uint16_t before = cpu->fpu.status;
    fn(cpu, insn);
    /* a denormal operand is reported unless something of higher priority happened: a stack
     * fault, a NaN operand, an invalid operation or a division by zero (SDM Vol. 1 8.7) */
    bool higher = cpu->fpu.stack_fault || cpu->fpu.nan_operand ||
                  (cpu->fpu.status & ~before & (SW_IE | SW_ZE));
    if (cpu->fpu.denormal_load && !higher)
        signal(cpu, SW_DE);
}

X86_HANDLER(x86_exec_fwait)
{
    (void)insn;
    if ((cpu->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS))
        x86_raise(cpu, X86_VEC_NM, 0);
    if ((cpu->fpu.status & SW_ES) && (cpu->cr0 & X86_CR0_NE))
        x86_raise(cpu, X86_VEC_MF, 0);
}

/* ------------------------------------------------------------------ fxsave / fxrstor */

/* The 512-byte image (SDM Vol. 2 FXSAVE, Table 3-53): FCW, FSW, the abridged tag (a bit per
 * physical register: not empty), FOP/FIP/FDP as 0, MXCSR and MXCSR_MASK, ST(0)-ST(7) in 16-byte
 * slots, XMM0-7 (XMM0-15 in 64-bit mode). The area must be 16-byte aligned (#GP(0)). The SSE
 * part (MXCSR and the XMM registers) is saved and restored when the processor has SSE and
 * CR4.OSFXSR is set, as QEMU does (the SDM leaves it to the implementation with OSFXSR clear);
 * otherwise the image shows MXCSR at its reset value and MXCSR_MASK 0. The parts are the XSAVE
 * family's components too (xstate.h, exec_simd_state.c). */
static bool sse_image(const struct x86_cpu *cpu)
{
    return (cpu->simd & X86_SIMD_SSE) && (cpu->cr4 & X86_CR4_OSFXSR);
}

uint64_t x86_xstate_ea(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return ea(cpu, insn);
}
uint32_t x86_xstate_read(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                         unsigned size)
{
    return mrd(cpu, insn, offset, size);
}
void x86_xstate_write(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                      unsigned size, uint32_t value)
{
    mwr(cpu, insn, offset, size, value);
}
void x86_xstate_check(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                      unsigned size)
{
    /* the first and the last byte: the segment is contiguous and the area spans two pages at
     * most */
    mchk(cpu, insn, offset, 1);
    mchk(cpu, insn, offset + size - 1, 1);
}

uint64_t x86_xstate_area(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned align)
{
    uint64_t base = ea(cpu, insn);
    uint64_t segment_base = insn->mode != X86_MODE_64 || insn->seg == X86_SEG_FS ||
                            insn->seg == X86_SEG_GS ? cpu->seg[insn->seg].base : 0;
    if ((segment_base + base) & (align - 1))
        x86_raise_gp0(cpu);
    return base;
}

void x86_xstate_save_x87(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base)
{
    uint8_t abridged = 0;
    for (unsigned r = 0; r < 8; r++)
        if (((cpu->fpu.tag >> (2 * r)) & 3) != TAG_EMPTY)
            abridged |= (uint8_t)(1u << r);
    mwr(cpu, insn, base + 0, 2, cpu->fpu.control);
    mwr(cpu, insn, base + 2, 2, cpu->fpu.status);
    mwr(cpu, insn, base + 4, 2, abridged);
    for (unsigned o = 6; o < 24; o += 2)
        mwr(cpu, insn, base + o, 2, 0);
    for (unsigned i = 0; i < 8; i++) {
        uint8_t bytes[16] = { 0 };
        memcpy(bytes, &cpu->fpu.st[physical(cpu, i)], sizeof(long double) < 10 ? sizeof(long double) : 10);
        for (unsigned b = 0; b < 16; b += 4) {
            uint32_t word;
            memcpy(&word, bytes + b, 4);
            mwr(cpu, insn, base + 32 + 16 * i + b, 4, b < 12 ? word : 0);
        }
    }
}

void x86_xstate_load_x87(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                         struct x86_fpu *out)
{
    struct x86_fpu f;
    memset(&f, 0, sizeof(f));
    f.control = (uint16_t)mrd(cpu, insn, base + 0, 2);
    f.status = (uint16_t)mrd(cpu, insn, base + 2, 2);
    uint8_t abridged = (uint8_t)mrd(cpu, insn, base + 4, 1);
    unsigned t = (f.status >> 11) & 7;
    f.tag = 0xFFFF;
    for (unsigned i = 0; i < 8; i++) {
        uint8_t bytes[16] = { 0 };
        for (unsigned b = 0; b < 10; b++)
            bytes[b] = (uint8_t)mrd(cpu, insn, base + 32 + 16 * i + b, 1);
        unsigned p = (t + i) & 7;
        memcpy(&f.st[p], bytes, sizeof(long double) < 16 ? sizeof(long double) : 16);
        if (abridged & (1u << p))
            f.tag = (uint16_t)((f.tag & ~(3u << (2 * p))) | (tag_of(f.st[p]) << (2 * p)));
    }
    *out = f;
}

bool x86_xstate_x87_init(const struct x86_cpu *cpu)
{
    const struct x86_fpu *f = &cpu->fpu;
    if (f->control != 0x037F || f->status != 0 || f->tag != 0xFFFF)
        return false;
    for (unsigned i = 0; i < 8; i++) {
        uint8_t bytes[16] = { 0 };
        memcpy(bytes, &f->st[i], sizeof(long double) < 10 ? sizeof(long double) : 10);
        for (unsigned b = 0; b < 10; b++)
            if (bytes[b])
                return false;
    }
    return true;
}

void x86_xstate_save_mxcsr(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                           uint32_t mxcsr, uint32_t mask)
{
    mwr(cpu, insn, base + 24, 4, mxcsr);
    mwr(cpu, insn, base + 28, 4, mask);
}

/* XMM0-7 at 160, XMM8-15 after them in 64-bit mode (SDM Vol. 2 FXSAVE Tables 3-53, 3-56) */
void x86_xstate_save_xmm(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                         unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        for (unsigned d = 0; d < 4; d++)
            mwr(cpu, insn, base + 160 + 16 * i + 4 * d, 4, cpu->sse.xmm[i].d[d]);
}
void x86_xstate_load_xmm(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                         unsigned count, union x86_xmm *out)
{
    for (unsigned i = 0; i < count; i++)
        for (unsigned d = 0; d < 4; d++)
            out[i].d[d] = mrd(cpu, insn, base + 160 + 16 * i + 4 * d, 4);
}

static uint64_t fx_area(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS))
        x86_raise(cpu, X86_VEC_NM, 0);
    return x86_xstate_area(cpu, insn, 16);
}

X86_HANDLER(x86_exec_fxsave)
{
    uint64_t base = fx_area(cpu, insn);
    x86_xstate_check(cpu, insn, base, 512);
    x86_xstate_save_x87(cpu, insn, base);
    bool sse = sse_image(cpu);
    /* MXCSR_MASK: 0 without SSE */
    x86_xstate_save_mxcsr(cpu, insn, base, sse ? cpu->sse.mxcsr : X86_MXCSR_RESET,
                          sse ? X86_MXCSR_MASK : 0);
    if (sse)
        x86_xstate_save_xmm(cpu, insn, base, x86_xstate_xmm_count(insn));
}

X86_HANDLER(x86_exec_fxrstor)
{
    uint64_t base = fx_area(cpu, insn);
    /* MXCSR first: a reserved bit set is #GP(0), nothing restored */
    bool sse = sse_image(cpu);
    uint32_t mxcsr = sse ? mrd(cpu, insn, base + 24, 4) : 0;
    if (mxcsr & ~X86_MXCSR_MASK)
        x86_raise_gp0(cpu);
    struct x86_fpu f;
    x86_xstate_load_x87(cpu, insn, base, &f);
    union x86_xmm xmm[16];
    unsigned count = sse ? x86_xstate_xmm_count(insn) : 0;
    x86_xstate_load_xmm(cpu, insn, base, count, xmm);
    /* every read done: commit */
    cpu->fpu = f;
    if (sse) {
        cpu->sse.mxcsr = mxcsr;
        memcpy(cpu->sse.xmm, xmm, count * sizeof(xmm[0]));
    }
}
