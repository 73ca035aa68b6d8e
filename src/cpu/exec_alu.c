/* Arithmetic and logic: add adc sub sbb cmp and or xor test, inc dec neg not, mul imul div
 * idiv, shifts and rotates, shld shrd, bit tests and scans, BCD, conversions, setcc cmovcc,
 * xadd cmpxchg cmpxchg8b bswap, lahf sahf and the flag instructions.
 * Each handler reads (and may fault) before it writes anything (precise faults). */
#include "cpu/exec.h"
#include "cpu/exec_handlers.h"

/* ------------------------------------------------------------------ two-operand ALU */

enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP, ALU_TEST };

static X86_ALWAYS_INLINE void alu(struct x86_cpu *cpu, const struct x86_insn *insn, enum alu_op op)
{
    unsigned size = insn->opsize;
    uint32_t mask = x86_size_mask(size);
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    uint32_t a = x86_location_read(cpu, &d, size);
    uint32_t b = x86_operand_read(cpu, insn, 1, size) & mask;
    uint32_t carry = 0, r;
    uint8_t lazy;
    switch (op) {
    case ALU_ADD: r = a + b; lazy = LAZY_ADD; break;
    case ALU_ADC: carry = x86_cf(cpu); r = a + b + carry; lazy = LAZY_ADC; break;
    case ALU_SBB: carry = x86_cf(cpu); r = a - b - carry; lazy = LAZY_SBB; break;
    case ALU_SUB: case ALU_CMP: r = a - b; lazy = LAZY_SUB; break;
    case ALU_AND: case ALU_TEST: r = a & b; lazy = LAZY_LOGIC; break;
    case ALU_OR: r = a | b; lazy = LAZY_LOGIC; break;
    default: r = a ^ b; lazy = LAZY_LOGIC; break;
    }
    r &= mask;
    if (op != ALU_CMP && op != ALU_TEST)
        x86_location_write(cpu, &d, size, r);
    x86_set_lazy(cpu, lazy, size, a, b, r);
    cpu->lazy.aux = carry;
}

X86_HANDLER(x86_exec_add) { alu(cpu, insn, ALU_ADD); }
X86_HANDLER(x86_exec_or) { alu(cpu, insn, ALU_OR); }
X86_HANDLER(x86_exec_adc) { alu(cpu, insn, ALU_ADC); }
X86_HANDLER(x86_exec_sbb) { alu(cpu, insn, ALU_SBB); }
X86_HANDLER(x86_exec_and) { alu(cpu, insn, ALU_AND); }
X86_HANDLER(x86_exec_sub) { alu(cpu, insn, ALU_SUB); }
X86_HANDLER(x86_exec_xor) { alu(cpu, insn, ALU_XOR); }
X86_HANDLER(x86_exec_cmp) { alu(cpu, insn, ALU_CMP); }
X86_HANDLER(x86_exec_test) { alu(cpu, insn, ALU_TEST); }

/* ------------------------------------------------------------------ one-operand */

X86_HANDLER(x86_exec_inc)
{
    unsigned size = insn->opsize;
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    uint32_t a = x86_location_read(cpu, &d, size);
    uint32_t r = (a + 1) & x86_size_mask(size);
    uint32_t cf = x86_cf(cpu) ? X86_FLAG_CF : 0;
    x86_location_write(cpu, &d, size, r);
    x86_set_lazy(cpu, LAZY_INC, size, a, 1, r);
    cpu->lazy.aux = cf;
}

X86_HANDLER(x86_exec_dec)
{
    unsigned size = insn->opsize;
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    uint32_t a = x86_location_read(cpu, &d, size);
    uint32_t r = (a - 1) & x86_size_mask(size);
    uint32_t cf = x86_cf(cpu) ? X86_FLAG_CF : 0;
    x86_location_write(cpu, &d, size, r);
    x86_set_lazy(cpu, LAZY_DEC, size, a, 1, r);
    cpu->lazy.aux = cf;
}

X86_HANDLER(x86_exec_neg)
{
    unsigned size = insn->opsize;
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    uint32_t a = x86_location_read(cpu, &d, size);
    uint32_t r = (0 - a) & x86_size_mask(size);
    x86_location_write(cpu, &d, size, r);
    x86_set_lazy(cpu, LAZY_SUB, size, 0, a, r); /* CF = (a != 0), as 0 - a */
}

X86_HANDLER(x86_exec_not)
{
    unsigned size = insn->opsize;
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    uint32_t a = x86_location_read(cpu, &d, size);
    x86_location_write(cpu, &d, size, ~a & x86_size_mask(size)); /* no flags */
}

/* ------------------------------------------------------------------ multiply and divide */

X86_HANDLER(x86_exec_mul)
{
    unsigned size = insn->opsize;
    uint32_t src = x86_operand_read(cpu, insn, 0, size);
    uint64_t r;
    bool high;
    switch (size) {
    case 1:
        r = (uint64_t)(x86_gpr32(cpu, X86_EAX) & 0xFF) * src;
        x86_reg_set(cpu, X86_EAX, 2, (uint32_t)r);
        high = (r >> 8) != 0;
        break;
    case 2:
        r = (uint64_t)(x86_gpr32(cpu, X86_EAX) & 0xFFFF) * src;
        x86_reg_set(cpu, X86_EAX, 2, (uint32_t)r);
        x86_reg_set(cpu, X86_EDX, 2, (uint32_t)(r >> 16));
        high = (r >> 16) != 0;
        break;
    default:
        r = (uint64_t)x86_gpr32(cpu, X86_EAX) * src;
        x86_set_gpr32(cpu, X86_EAX, (uint32_t)r);
        x86_set_gpr32(cpu, X86_EDX, (uint32_t)(r >> 32));
        high = (r >> 32) != 0;
        break;
    }
    /* CF = OF = upper half non-zero; SF, ZF, AF, PF undefined: from the low half, AF 0 */
    x86_set_arith_flags(cpu, (high ? X86_FLAG_CF | X86_FLAG_OF : 0) | x86_szp_flags((uint32_t)r, size));
}

static void imul_flags(struct x86_cpu *cpu, int64_t full, unsigned size)
{
    int64_t truncated = x86_sign_extend((uint32_t)full, size);
    bool overflow = truncated != full;
    x86_set_arith_flags(cpu, (overflow ? X86_FLAG_CF | X86_FLAG_OF : 0) |
                                 x86_szp_flags((uint32_t)full, size));
}

X86_HANDLER(x86_exec_imul)
{
    unsigned size = insn->opsize;
    if (insn->operand[1] == X86_OPK_NONE) {
        /* one operand: edx:eax = eax * r/m */
        int64_t src = x86_sign_extend(x86_operand_read(cpu, insn, 0, size), size);
        int64_t acc = x86_sign_extend(x86_reg_get(cpu, X86_EAX, size), size);
        int64_t r = acc * src;
        if (size == 1) {
            x86_reg_set(cpu, X86_EAX, 2, (uint32_t)r);
        } else if (size == 2) {
            x86_reg_set(cpu, X86_EAX, 2, (uint32_t)r);
            x86_reg_set(cpu, X86_EDX, 2, (uint32_t)((uint64_t)r >> 16));
        } else {
            x86_set_gpr32(cpu, X86_EAX, (uint32_t)r);
            x86_set_gpr32(cpu, X86_EDX, (uint32_t)((uint64_t)r >> 32));
        }
        imul_flags(cpu, r, size);
        return;
    }
    /* two or three operands: reg = src1 * src2 (truncated) */
    int64_t a, b;
    if (insn->operand[2] == X86_OPK_NONE) {
        a = x86_sign_extend(x86_reg_get(cpu, insn->reg, size), size);
        b = x86_sign_extend(x86_operand_read(cpu, insn, 1, size), size);
    } else {
        a = x86_sign_extend(x86_operand_read(cpu, insn, 1, size), size);
        b = x86_sign_extend((uint32_t)insn->imm & x86_size_mask(size), size);
    }
    int64_t r = a * b;
    x86_reg_set(cpu, insn->reg, size, (uint32_t)r);
    imul_flags(cpu, r, size);
}

X86_HANDLER(x86_exec_div)
{
    unsigned size = insn->opsize;
    uint32_t divisor = x86_operand_read(cpu, insn, 0, size);
    if (divisor == 0)
        x86_raise(cpu, X86_VEC_DE, 0);
    uint64_t dividend;
    switch (size) {
    case 1: dividend = x86_gpr32(cpu, X86_EAX) & 0xFFFF; break;
    case 2: dividend = ((x86_gpr32(cpu, X86_EDX) & 0xFFFF) << 16) | (x86_gpr32(cpu, X86_EAX) & 0xFFFF); break;
    default: dividend = ((uint64_t)x86_gpr32(cpu, X86_EDX) << 32) | x86_gpr32(cpu, X86_EAX); break;
    }
    uint64_t q = dividend / divisor, rem = dividend % divisor;
    if (q > x86_size_mask(size))
        x86_raise(cpu, X86_VEC_DE, 0); /* quotient too large (SDM Vol. 2 DIV) */
    if (size == 1) {
        x86_reg_set(cpu, X86_EAX, 2, (uint32_t)(q | (rem << 8)));
    } else {
        x86_reg_set(cpu, X86_EAX, size, (uint32_t)q);
        x86_reg_set(cpu, X86_EDX, size, (uint32_t)rem);
    }
    /* flags undefined: left as they were */
}

X86_HANDLER(x86_exec_idiv)
{
    unsigned size = insn->opsize;
    int64_t divisor = x86_sign_extend(x86_operand_read(cpu, insn, 0, size), size);
    if (divisor == 0)
        x86_raise(cpu, X86_VEC_DE, 0);
    int64_t dividend;
    switch (size) {
    case 1: dividend = (int16_t)(x86_gpr32(cpu, X86_EAX) & 0xFFFF); break;
    case 2: dividend = (int32_t)(((x86_gpr32(cpu, X86_EDX) & 0xFFFF) << 16) | (x86_gpr32(cpu, X86_EAX) & 0xFFFF)); break;
    default: dividend = (int64_t)(((uint64_t)x86_gpr32(cpu, X86_EDX) << 32) | x86_gpr32(cpu, X86_EAX)); break;
    }
    if (size == 4 && dividend == INT64_MIN && divisor == -1)
        x86_raise(cpu, X86_VEC_DE, 0);
    int64_t q = dividend / divisor, rem = dividend % divisor;
    int64_t max = (int64_t)(x86_sign_bit(size) - 1), min = -max - 1;
    if (q > max || q < min)
        x86_raise(cpu, X86_VEC_DE, 0);
    if (size == 1) {
        x86_reg_set(cpu, X86_EAX, 2, (uint32_t)((q & 0xFF) | ((rem & 0xFF) << 8)));
    } else {
        x86_reg_set(cpu, X86_EAX, size, (uint32_t)q);
        x86_reg_set(cpu, X86_EDX, size, (uint32_t)rem);
    }
}

/* ------------------------------------------------------------------ shifts and rotates */

enum shift_op { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAR };

static X86_ALWAYS_INLINE void shift(struct x86_cpu *cpu, const struct x86_insn *insn,
                                    enum shift_op op)
{
    unsigned size = insn->opsize, width = 8 * size;
    uint32_t mask = x86_size_mask(size), sign = x86_sign_bit(size);
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    uint32_t a = x86_location_read(cpu, &d, size);
    unsigned count = x86_operand_read(cpu, insn, 1, 1) & 0x1F; /* SDM: masked to 5 bits */
    if (count == 0) {
        x86_location_write(cpu, &d, size, a); /* a write still happens (and may fault) */
        return;
    }
    /* rotates change only CF and OF, so they need the other flags; shifts set all six */
    bool rotate = op <= SH_RCR;
    uint32_t old = rotate ? x86_get_eflags(cpu) : 0;
    uint32_t cf = old & X86_FLAG_CF;
    uint32_t flags = old & X86_FLAGS_ARITH;
    uint32_t r;
    bool of;
    switch (op) {
    case SH_ROL: {
        unsigned c = count % width;
        r = c ? ((a << c) | (a >> (width - c))) & mask : a;
        cf = r & 1;
        of = ((r & sign) != 0) != (cf != 0);
        flags = (flags & ~(X86_FLAG_CF | X86_FLAG_OF)) | cf | (of ? X86_FLAG_OF : 0);
        break;
    }
    case SH_ROR: {
        unsigned c = count % width;
        r = c ? ((a >> c) | (a << (width - c))) & mask : a;
        cf = (r & sign) ? X86_FLAG_CF : 0;
        of = ((r & sign) != 0) != ((r & (sign >> 1)) != 0);
        flags = (flags & ~(X86_FLAG_CF | X86_FLAG_OF)) | cf | (of ? X86_FLAG_OF : 0);
        break;
    }
    case SH_RCL: case SH_RCR: {
        /* rotate through CF: width + 1 bits (SDM: count mod 9 / 17 for 8 / 16 bits) */
        unsigned c = size == 4 ? count : count % (width + 1);
        r = a;
        uint32_t carry = cf ? 1 : 0;
        bool of_rcr = ((a & sign) != 0) != (carry != 0);
        for (unsigned i = 0; i < c; i++) {
            if (op == SH_RCL) {
                uint32_t out = (r & sign) ? 1 : 0;
                r = ((r << 1) | carry) & mask;
                carry = out;
            } else {
                uint32_t out = r & 1;
                r = (r >> 1) | (carry ? sign : 0);
                carry = out;
            }
        }
        of = op == SH_RCL ? (((r & sign) != 0) != (carry != 0)) : of_rcr;
        flags = (flags & ~(X86_FLAG_CF | X86_FLAG_OF)) | (carry ? X86_FLAG_CF : 0) |
                (of ? X86_FLAG_OF : 0);
        break;
    }
    case SH_SHL:
        r = count < width ? (a << count) & mask : 0;
        cf = count <= width ? ((a >> (width - count)) & 1) : 0;
        of = ((r & sign) != 0) != (cf != 0);
        flags = x86_szp_flags(r, size) | (cf ? X86_FLAG_CF : 0) | (of ? X86_FLAG_OF : 0);
        break;
    case SH_SHR:
        r = count < width ? a >> count : 0;
        cf = count <= width ? ((a >> (count - 1)) & 1) : 0;
        of = count == 1 ? (a & sign) != 0 : false;
        flags = x86_szp_flags(r, size) | (cf ? X86_FLAG_CF : 0) | (of ? X86_FLAG_OF : 0);
        break;
    default: { /* SAR */
        int32_t s = x86_sign_extend(a, size);
        unsigned c = count < width ? count : width - 1;
        r = (uint32_t)(s >> c) & mask;
        cf = count < width ? ((uint32_t)(s >> (count - 1)) & 1) : ((a & sign) ? 1 : 0);
        flags = x86_szp_flags(r, size) | (cf ? X86_FLAG_CF : 0);
        break;
    }
    }
    x86_location_write(cpu, &d, size, r);
    if (rotate) {
        x86_set_arith_flags(cpu, flags);
    } else {
        cpu->lazy.op = LAZY_NONE; /* all six flags are new: nothing to materialise */
        cpu->eflags = (cpu->eflags & ~X86_FLAGS_ARITH) | flags;
    }
}

X86_HANDLER(x86_exec_rol) { shift(cpu, insn, SH_ROL); }
X86_HANDLER(x86_exec_ror) { shift(cpu, insn, SH_ROR); }
X86_HANDLER(x86_exec_rcl) { shift(cpu, insn, SH_RCL); }
X86_HANDLER(x86_exec_rcr) { shift(cpu, insn, SH_RCR); }
X86_HANDLER(x86_exec_shl) { shift(cpu, insn, SH_SHL); }
X86_HANDLER(x86_exec_shr) { shift(cpu, insn, SH_SHR); }
X86_HANDLER(x86_exec_sar) { shift(cpu, insn, SH_SAR); }

static X86_ALWAYS_INLINE void double_shift(struct x86_cpu *cpu, const struct x86_insn *insn,
                                           bool left)
{
    unsigned size = insn->opsize;
    uint32_t mask = x86_size_mask(size), sign = x86_sign_bit(size);
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    uint32_t a = x86_location_read(cpu, &d, size);
    uint32_t b = x86_reg_get(cpu, insn->reg, size);
    unsigned count = x86_operand_read(cpu, insn, 2, 1) & 0x1F;
    if (count == 0) {
        x86_location_write(cpu, &d, size, a);
        return;
    }
    uint32_t r, cf;
    if (size == 4) {
        if (left) {
            r = (a << count) | (b >> (32 - count));
            cf = (a >> (32 - count)) & 1;
        } else {
            r = (a >> count) | (b << (32 - count));
            cf = (a >> (count - 1)) & 1;
        }
    } else {
        /* 16-bit with counts above 16 has undefined results; Intel processors shift the
         * 48-bit concatenation a:b:a (left) or b:a with a above (right), which this does */
        if (left) {
            uint64_t x = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            r = (uint32_t)(x >> (32 - count));
            cf = (uint32_t)(x >> (48 - count)) & 1;
        } else {
            uint64_t y = (uint64_t)a | ((uint64_t)b << 16) | ((uint64_t)a << 32);
            r = (uint32_t)(y >> count);
            cf = (uint32_t)(y >> (count - 1)) & 1;
        }
    }
    r &= mask;
    bool of = ((r ^ a) & sign) != 0; /* defined for count 1: sign changed */
    x86_location_write(cpu, &d, size, r);
    x86_set_arith_flags(cpu, x86_szp_flags(r, size) | (cf ? X86_FLAG_CF : 0) |
                                 (of ? X86_FLAG_OF : 0));
}

X86_HANDLER(x86_exec_shld) { double_shift(cpu, insn, true); }
X86_HANDLER(x86_exec_shrd) { double_shift(cpu, insn, false); }

/* ------------------------------------------------------------------ bits */

enum bit_op { BIT_TEST, BIT_SET, BIT_RESET, BIT_COMPLEMENT };

static X86_ALWAYS_INLINE void bit_test(struct x86_cpu *cpu, const struct x86_insn *insn,
                                       enum bit_op op)
{
    unsigned size = insn->opsize, width = 8 * size;
    struct x86_location d = x86_rm_location(cpu, insn);
    uint32_t offset = x86_operand_read(cpu, insn, 1, size);
    unsigned bit;
    if (insn->operand[1] == X86_OPK_IMM) {
        bit = offset & (width - 1);
    } else if (d.memory) {
        /* a register bit offset addresses memory beyond the operand: signed, in operand-size
         * units (SDM Vol. 2 BT) */
        int32_t s = x86_sign_extend(offset, size);
        int32_t unit = s >= 0 ? s / (int32_t)width : -((-(s + 1)) / (int32_t)width) - 1;
        d.offset += (uint32_t)(unit * (int32_t)size);
        if (insn->addrsize == 2)
            d.offset &= 0xFFFF;
        bit = (unsigned)(s - unit * (int32_t)width);
    } else {
        bit = offset & (width - 1);
    }
    uint32_t v = x86_location_read(cpu, &d, size);
    uint32_t cf = (v >> bit) & 1;
    uint32_t m = 1u << bit;
    if (op != BIT_TEST) {
        uint32_t r = op == BIT_SET ? v | m : op == BIT_RESET ? v & ~m : v ^ m;
        x86_location_write(cpu, &d, size, r);
    }
    /* only CF is defined; ZF is unchanged, the others undefined (left unchanged) */
    uint32_t old = x86_get_eflags(cpu) & X86_FLAGS_ARITH;
    x86_set_arith_flags(cpu, (old & ~X86_FLAG_CF) | cf);
}

X86_HANDLER(x86_exec_bt) { bit_test(cpu, insn, BIT_TEST); }
X86_HANDLER(x86_exec_bts) { bit_test(cpu, insn, BIT_SET); }
X86_HANDLER(x86_exec_btr) { bit_test(cpu, insn, BIT_RESET); }
X86_HANDLER(x86_exec_btc) { bit_test(cpu, insn, BIT_COMPLEMENT); }

static void bit_scan(struct x86_cpu *cpu, const struct x86_insn *insn, bool reverse)
{
    unsigned size = insn->opsize;
    uint32_t src = x86_operand_read(cpu, insn, 1, size);
    uint32_t old = x86_get_eflags(cpu) & X86_FLAGS_ARITH;
    if (src == 0) {
        /* the destination is unchanged (as Intel processors do; SDM: undefined) */
        x86_set_arith_flags(cpu, old | X86_FLAG_ZF);
        return;
    }
    unsigned index = reverse ? 31u - (unsigned)__builtin_clz(src) : (unsigned)__builtin_ctz(src);
    x86_reg_set(cpu, insn->reg, size, index);
    x86_set_arith_flags(cpu, old & ~X86_FLAG_ZF);
}

X86_HANDLER(x86_exec_bsf) { bit_scan(cpu, insn, false); }
X86_HANDLER(x86_exec_bsr) { bit_scan(cpu, insn, true); }

X86_HANDLER(x86_exec_bswap)
{
    uint32_t v = x86_gpr32(cpu, insn->reg);
    if (insn->opsize == 2)
        x86_reg_set(cpu, insn->reg, 2, 0); /* 16-bit: undefined; Intel processors give 0 */
    else
        x86_set_gpr32(cpu, insn->reg, __builtin_bswap32(v));
}

/* ------------------------------------------------------------------ BCD (SDM Vol. 2 DAA...) */

X86_HANDLER(x86_exec_daa)
{
    (void)insn;
    uint32_t f = x86_get_eflags(cpu);
    uint8_t al = (uint8_t)x86_gpr32(cpu, X86_EAX), old_al = al;
    bool old_cf = f & X86_FLAG_CF, cf = false, af = false;
    if ((al & 0xF) > 9 || (f & X86_FLAG_AF)) {
        cf = old_cf || al > 0xF9;
        al = (uint8_t)(al + 6);
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (uint8_t)(al + 0x60);
        cf = true;
    }
    x86_reg_set(cpu, X86_EAX, 1, al);
    x86_set_arith_flags(cpu, x86_szp_flags(al, 1) | (cf ? X86_FLAG_CF : 0) | (af ? X86_FLAG_AF : 0));
}

X86_HANDLER(x86_exec_das)
{
    (void)insn;
    uint32_t f = x86_get_eflags(cpu);
    uint8_t al = (uint8_t)x86_gpr32(cpu, X86_EAX), old_al = al;
    bool old_cf = f & X86_FLAG_CF, cf = false, af = false;
    if ((al & 0xF) > 9 || (f & X86_FLAG_AF)) {
        cf = old_cf || al < 6;
        al = (uint8_t)(al - 6);
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (uint8_t)(al - 0x60);
        cf = true;
    }
    x86_reg_set(cpu, X86_EAX, 1, al);
    x86_set_arith_flags(cpu, x86_szp_flags(al, 1) | (cf ? X86_FLAG_CF : 0) | (af ? X86_FLAG_AF : 0));
}

static void ascii_adjust(struct x86_cpu *cpu, bool subtract)
{
    uint32_t f = x86_get_eflags(cpu);
    uint32_t ax = x86_gpr32(cpu, X86_EAX) & 0xFFFF;
    bool adjust = (ax & 0xF) > 9 || (f & X86_FLAG_AF);
    /* SDM Vol. 2 AAA: AX <- AX + 106H; AAS: AX <- AX - 6, then AH <- AH - 1 (the borrow of the
     * first step reaches AH too) */
    if (adjust)
        ax = subtract ? ((ax - 6) - 0x100) & 0xFFFF : (ax + 0x106) & 0xFFFF;
    ax = (ax & 0xFF0F);
    x86_reg_set(cpu, X86_EAX, 2, ax);
    /* OF, SF, ZF, PF undefined: from AL, OF 0 */
    x86_set_arith_flags(cpu, x86_szp_flags(ax, 1) |
                                 (adjust ? X86_FLAG_AF | X86_FLAG_CF : 0));
}

X86_HANDLER(x86_exec_aaa) { (void)insn; ascii_adjust(cpu, false); }
X86_HANDLER(x86_exec_aas) { (void)insn; ascii_adjust(cpu, true); }

X86_HANDLER(x86_exec_aam)
{
    uint8_t base = (uint8_t)insn->imm;
    if (base == 0)
        x86_raise(cpu, X86_VEC_DE, 0);
    uint8_t al = (uint8_t)x86_gpr32(cpu, X86_EAX);
    uint32_t ax = ((uint32_t)(al / base) << 8) | (al % base);
    x86_reg_set(cpu, X86_EAX, 2, ax);
    x86_set_arith_flags(cpu, x86_szp_flags(ax, 1));
}

X86_HANDLER(x86_exec_aad)
{
    uint8_t base = (uint8_t)insn->imm;
    uint32_t ax = x86_gpr32(cpu, X86_EAX);
    uint8_t al = (uint8_t)((ax & 0xFF) + ((ax >> 8) & 0xFF) * base);
    x86_reg_set(cpu, X86_EAX, 2, al);
    x86_set_arith_flags(cpu, x86_szp_flags(al, 1));
}

X86_HANDLER(x86_exec_salc)
{
    (void)insn;
    x86_reg_set(cpu, X86_EAX, 1, x86_cf(cpu) ? 0xFF : 0);
}

/* ------------------------------------------------------------------ conversions, conditions */

X86_HANDLER(x86_exec_cbw)
{
    if (insn->opsize == 2)
        x86_reg_set(cpu, X86_EAX, 2, (uint32_t)(int32_t)(int8_t)x86_gpr32(cpu, X86_EAX));
    else
        x86_set_gpr32(cpu, X86_EAX, (uint32_t)(int32_t)(int16_t)x86_gpr32(cpu, X86_EAX));
}

X86_HANDLER(x86_exec_cwd)
{
    if (insn->opsize == 2)
        x86_reg_set(cpu, X86_EDX, 2, (x86_gpr32(cpu, X86_EAX) & 0x8000) ? 0xFFFF : 0);
    else
        x86_set_gpr32(cpu, X86_EDX, (x86_gpr32(cpu, X86_EAX) & 0x80000000u) ? 0xFFFFFFFFu : 0);
}

X86_HANDLER(x86_exec_setcc)
{
    struct x86_location d = x86_rm_location(cpu, insn);
    x86_location_write(cpu, &d, 1, x86_condition_fast(cpu, insn->cond) ? 1 : 0);
}

X86_HANDLER(x86_exec_cmovcc)
{
    unsigned size = insn->opsize;
    uint32_t v = x86_operand_read(cpu, insn, 1, size); /* read (and fault) even when false */
    if (x86_condition_fast(cpu, insn->cond))
        x86_reg_set(cpu, insn->reg, size, v);
}

/* ------------------------------------------------------------------ exchange and compare */

X86_HANDLER(x86_exec_xadd)
{
    unsigned size = insn->opsize;
    struct x86_location d = x86_rm_location(cpu, insn);
    uint32_t a = x86_location_read(cpu, &d, size);
    uint32_t b = x86_reg_get(cpu, insn->reg, size);
    uint32_t r = (a + b) & x86_size_mask(size);
    x86_location_write(cpu, &d, size, r);
    x86_reg_set(cpu, insn->reg, size, a);
    if (!d.memory && d.reg == insn->reg)
        x86_reg_set(cpu, insn->reg, size, r); /* xadd r, r: the sum wins */
    x86_set_lazy(cpu, LAZY_ADD, size, a, b, r);
}

X86_HANDLER(x86_exec_cmpxchg)
{
    unsigned size = insn->opsize;
    struct x86_location d = x86_rm_location(cpu, insn);
    uint32_t dest = x86_location_read(cpu, &d, size);
    uint32_t acc = x86_reg_get(cpu, X86_EAX, size);
    if (acc == dest) {
        x86_location_write(cpu, &d, size, x86_reg_get(cpu, insn->reg, size));
    } else {
        x86_location_write(cpu, &d, size, dest); /* the processor always writes back */
        x86_reg_set(cpu, X86_EAX, size, dest);
    }
    x86_set_lazy(cpu, LAZY_SUB, size, acc, dest, (acc - dest) & x86_size_mask(size));
}

X86_HANDLER(x86_exec_cmpxchg8b)
{
    uint32_t ea = x86_effective_address(cpu, insn);
    uint64_t m = x86_read64(cpu, insn->seg, ea);
    uint64_t edx_eax = ((uint64_t)x86_gpr32(cpu, X86_EDX) << 32) | x86_gpr32(cpu, X86_EAX);
    uint32_t f = x86_get_eflags(cpu) & X86_FLAGS_ARITH;
    if (m == edx_eax) {
        x86_write(cpu, insn->seg, ea, 8, ((uint64_t)x86_gpr32(cpu, X86_ECX) << 32) | x86_gpr32(cpu, X86_EBX));
        x86_set_arith_flags(cpu, f | X86_FLAG_ZF);
    } else {
        x86_write(cpu, insn->seg, ea, 8, m);
        x86_set_gpr32(cpu, X86_EAX, (uint32_t)m);
        x86_set_gpr32(cpu, X86_EDX, (uint32_t)(m >> 32));
        x86_set_arith_flags(cpu, f & ~X86_FLAG_ZF);
    }
}

X86_HANDLER(x86_exec_xchg)
{
    unsigned size = insn->opsize;
    struct x86_location a = x86_operand_location(cpu, insn, 0);
    struct x86_location b = x86_operand_location(cpu, insn, 1);
    uint32_t va = x86_location_read(cpu, &a, size);
    uint32_t vb = x86_location_read(cpu, &b, size);
    if (a.memory) {
        x86_location_write(cpu, &a, size, vb);
        x86_location_write(cpu, &b, size, va);
    } else {
        x86_location_write(cpu, &b, size, va);
        x86_location_write(cpu, &a, size, vb);
    }
}

/* ------------------------------------------------------------------ flag instructions */

X86_HANDLER(x86_exec_lahf)
{
    (void)insn;
    x86_reg_set(cpu, 4, 1, x86_get_eflags(cpu) & 0xD7); /* AH = SF ZF 0 AF 0 PF 1 CF */
}

X86_HANDLER(x86_exec_sahf)
{
    (void)insn;
    uint32_t ah = (x86_gpr32(cpu, X86_EAX) >> 8) & 0xFF;
    x86_set_eflags(cpu, ah, X86_FLAG_SF | X86_FLAG_ZF | X86_FLAG_AF | X86_FLAG_PF | X86_FLAG_CF);
}

X86_HANDLER(x86_exec_clc) { (void)insn; x86_set_eflags(cpu, 0, X86_FLAG_CF); }
X86_HANDLER(x86_exec_stc) { (void)insn; x86_set_eflags(cpu, X86_FLAG_CF, X86_FLAG_CF); }
X86_HANDLER(x86_exec_cmc) { (void)insn; x86_set_eflags(cpu, ~x86_get_eflags(cpu), X86_FLAG_CF); }
X86_HANDLER(x86_exec_cld) { (void)insn; cpu->eflags &= ~X86_FLAG_DF; }
X86_HANDLER(x86_exec_std) { (void)insn; cpu->eflags |= X86_FLAG_DF; }
