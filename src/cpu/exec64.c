/* 64-bit mode: the integer instructions (docs/isa.md, "64-bit mode: what executes").
 *
 * In 64-bit mode exec_table.c takes every handler from mnemonics64.def: these, whatever the
 * operand size (1, 2, 4 or 8), so the 16/32-bit handlers and their lazy-flag hot paths stay as
 * they are. Values are 64-bit; registers follow the REX rules (SDM Vol. 1 3.4.1.1, Vol. 2
 * 2.2.1); addresses are 64-bit (32 with 67), RIP-relative forms count from the next
 * instruction, segment bases are 0 but FS/GS's and every linear address must be canonical
 * (Vol. 1 3.3.7.1, Vol. 3 5.3.1). The ALU operations record their flags lazily (the record
 * is 64-bit); shifts, multiplies and the rest compute them here. As everywhere, nothing is
 * committed before what can fault.
 */
#include "cpu/exec64.h"
#include "cpu/exec_handlers.h"
#include "cpu/mmu.h"

/* ------------------------------------------------------------------ flags */

static uint32_t szp(u64 r, unsigned size)
{
    r &= mask_of(size);
    uint32_t f = 0;
    if (r == 0)
        f |= ZF;
    if (r & sign_of(size))
        f |= SF;
    if (x86_parity((uint32_t)(r & 0xFF)))
        f |= PF;
    return f;
}
static inline void set_flags(struct x86_cpu *cpu, uint32_t f, uint32_t which)
{
    x86_flags_materialize(cpu);
    cpu->eflags = (cpu->eflags & ~which) | (f & which);
}

enum alu_op { A_ADD, A_OR, A_ADC, A_SBB, A_AND, A_SUB, A_XOR, A_CMP, A_TEST };

/* The result and the six arithmetic flags of a two-operand ALU operation */
static u64 alu(struct x86_cpu *cpu, unsigned op, unsigned size, u64 a, u64 b, uint32_t *flags)
{
    u64 m = mask_of(size), s = sign_of(size), r;
    unsigned c;
    uint32_t f = 0;
    a &= m;
    b &= m;
    switch (op) {
    case A_ADD: case A_ADC:
        c = op == A_ADC && x86_cf(cpu);
        r = (a + b + c) & m;
        if (r < a || (c && r == a))
            f |= CF;
        if ((a ^ r) & (b ^ r) & s)
            f |= OF;
        f |= (uint32_t)((a ^ b ^ r) & AF);
        break;
    case A_SUB: case A_SBB: case A_CMP:
        c = op == A_SBB && x86_cf(cpu);
        r = (a - b - c) & m;
        if (a < b || (c && a == b))
            f |= CF;
        if ((a ^ b) & (a ^ r) & s)
            f |= OF;
        f |= (uint32_t)((a ^ b ^ r) & AF);
        break;
    case A_OR: r = a | b; break;
    case A_XOR: r = a ^ b; break;
    default: r = a & b; break; /* and, test: CF = OF = 0, AF undefined (0) */
    }
    *flags = f | szp(r, size);
    return r;
}

/* add adc sub sbb cmp and or xor test: the lazy record (flags.c computes the flags when read,
 * from 64-bit operands as from narrower ones) */
X86_HANDLER(x86_exec64_alu)
{
    static const uint8_t ops[X86_MN_COUNT] = {
        [X86_MN_ADD] = A_ADD, [X86_MN_OR] = A_OR, [X86_MN_ADC] = A_ADC, [X86_MN_SBB] = A_SBB,
        [X86_MN_AND] = A_AND, [X86_MN_SUB] = A_SUB, [X86_MN_XOR] = A_XOR, [X86_MN_CMP] = A_CMP,
        [X86_MN_TEST] = A_TEST,
    };
    unsigned size = insn->opsize, op = ops[insn->mnemonic];
    u64 m = mask_of(size);
    struct loc d = op_loc(cpu, insn, 0);
    u64 a = lread(cpu, insn, &d, size) & m;
    u64 b = oread(cpu, insn, 1, size) & m;
    u64 r;
    uint32_t carry = 0;
    uint8_t lazy;
    switch (op) {
    case A_ADD: r = a + b; lazy = LAZY_ADD; break;
    case A_ADC: carry = x86_cf(cpu); r = a + b + carry; lazy = LAZY_ADC; break;
    case A_SUB: case A_CMP: r = a - b; lazy = LAZY_SUB; break;
    case A_SBB: carry = x86_cf(cpu); r = a - b - carry; lazy = LAZY_SBB; break;
    case A_OR: r = a | b; lazy = LAZY_LOGIC; break;
    case A_XOR: r = a ^ b; lazy = LAZY_LOGIC; break;
    default: r = a & b; lazy = LAZY_LOGIC; break; /* and, test */
    }
    r &= m;
    if (op != A_CMP && op != A_TEST)
        lwrite(cpu, insn, &d, size, r);
    x86_set_lazy64(cpu, lazy, size, a, b, r);
    cpu->lazy.aux = carry;
}

X86_HANDLER(x86_exec64_incdec)
{
    unsigned size = insn->opsize;
    struct loc d = op_loc(cpu, insn, 0);
    u64 a = lread(cpu, insn, &d, size) & mask_of(size);
    bool inc = insn->mnemonic == X86_MN_INC;
    u64 r = (inc ? a + 1 : a - 1) & mask_of(size);
    uint32_t cf = x86_cf(cpu) ? CF : 0; /* INC and DEC keep CF */
    lwrite(cpu, insn, &d, size, r);
    x86_set_lazy64(cpu, inc ? LAZY_INC : LAZY_DEC, size, a, 1, r);
    cpu->lazy.aux = cf;
}

X86_HANDLER(x86_exec64_neg)
{
    unsigned size = insn->opsize;
    struct loc d = op_loc(cpu, insn, 0);
    u64 a = lread(cpu, insn, &d, size) & mask_of(size);
    u64 r = (0 - a) & mask_of(size);
    lwrite(cpu, insn, &d, size, r);
    x86_set_lazy64(cpu, LAZY_SUB, size, 0, a, r); /* CF = (a != 0), as 0 - a */
}

X86_HANDLER(x86_exec64_not)
{
    unsigned size = insn->opsize;
    struct loc d = op_loc(cpu, insn, 0);
    lwrite(cpu, insn, &d, size, ~lread(cpu, insn, &d, size));
}

/* ------------------------------------------------------------------ multiply, divide */

/* one operand: AX = AL * r/m8, DX:AX, EDX:EAX, RDX:RAX = (R)AX * r/m; CF = OF = the high
 * half is significant. SF ZF AF PF undefined: from the low half. */
X86_HANDLER(x86_exec64_mul)
{
    unsigned size = insn->opsize, bits = 8 * size;
    u64 b = oread(cpu, insn, 0, size), a = cpu->gpr[X86_EAX] & mask_of(size);
    u128 p = (u128)a * b;
    u64 lo = (u64)p & mask_of(size), hi = size == 8 ? (u64)(p >> 64) : (u64)(p >> bits);
    if (size == 1)
        rset(cpu, insn, X86_EAX, 2, (u64)p);
    else {
        rset(cpu, insn, X86_EAX, size, lo);
        rset(cpu, insn, X86_EDX, size, hi);
    }
    set_flags(cpu, (hi ? CF | OF : 0) | szp(lo, size), X86_FLAGS_ARITH);
}

X86_HANDLER(x86_exec64_imul)
{
    unsigned size = insn->opsize, bits = 8 * size;
    if (insn->operand[1] == X86_OPK_NONE) {
        s128 a = (int64_t)sext(cpu->gpr[X86_EAX], size), b = (int64_t)sext(oread(cpu, insn, 0, size), size);
        s128 p = a * b;
        u64 lo = (u64)p & mask_of(size);
        bool overflow = p != (s128)(int64_t)sext(lo, size);
        if (size == 1)
            rset(cpu, insn, X86_EAX, 2, (u64)p);
        else {
            rset(cpu, insn, X86_EAX, size, lo);
            rset(cpu, insn, X86_EDX, size, size == 8 ? (u64)((u128)p >> 64) : (u64)((u128)p >> bits));
        }
        set_flags(cpu, (overflow ? CF | OF : 0) | szp(lo, size), X86_FLAGS_ARITH);
        return;
    }
    /* two and three operands: reg = r/m * (reg or imm), truncated */
    u64 a = oread(cpu, insn, 1, size);
    u64 b = insn->operand[2] == X86_OPK_IMM ? insn->imm : rget(cpu, insn, insn->reg, size);
    s128 p = (s128)(int64_t)sext(a, size) * (int64_t)sext(b, size);
    u64 lo = (u64)p & mask_of(size);
    bool overflow = p != (s128)(int64_t)sext(lo, size);
    rset(cpu, insn, insn->reg, size, lo);
    set_flags(cpu, (overflow ? CF | OF : 0) | szp(lo, size), X86_FLAGS_ARITH);
}

/* div/idiv: (R)DX:(R)AX (AX for bytes) by r/m; #DE on a zero divisor or a quotient that does
 * not fit (SDM Vol. 2 DIV, IDIV). The flags are undefined: left as they are. */
X86_HANDLER(x86_exec64_div)
{
    unsigned size = insn->opsize, bits = 8 * size;
    bool is_signed = insn->mnemonic == X86_MN_IDIV;
    u64 d = oread(cpu, insn, 0, size), m = mask_of(size);
    if (d == 0)
        x86_raise(cpu, X86_VEC_DE, 0);
    u128 n = size == 1 ? cpu->gpr[X86_EAX] & 0xFFFF
                       : ((u128)(cpu->gpr[X86_EDX] & m) << bits) | (cpu->gpr[X86_EAX] & m);
    u64 q, r;
    if (is_signed) {
        /* sign-extend the 2*bits dividend */
        unsigned shift = 128 - 2 * bits;
        s128 sn = (s128)(n << shift) >> shift;
        s128 sd = (int64_t)sext(d, size);
        /* the most negative dividend over -1 overflows even the 128-bit division: its
         * quotient is out of range anyway (#DE); the minimum is formed without a signed
         * shift into the sign bit */
        s128 most_negative = -(s128)(((u128)1 << (2 * bits - 1)) - 1) - 1;
        if (sd == -1 && sn == most_negative)
            x86_raise(cpu, X86_VEC_DE, 0);
        s128 sq = sn / sd, sr = sn % sd;
        s128 lim = (s128)1 << (bits - 1);
        if (sq >= lim || sq < -lim)
            x86_raise(cpu, X86_VEC_DE, 0);
        q = (u64)sq & m;
        r = (u64)sr & m;
    } else {
        u128 uq = n / d;
        if (uq > m)
            x86_raise(cpu, X86_VEC_DE, 0);
        q = (u64)uq;
        r = (u64)(n % d);
    }
    if (size == 1) {
        rset(cpu, insn, X86_EAX, 2, q | (r << 8));
    } else {
        rset(cpu, insn, X86_EAX, size, q);
        rset(cpu, insn, X86_EDX, size, r);
    }
}

/* ------------------------------------------------------------------ shifts and rotates */

/* The count is masked to 6 bits for 64-bit operands, else 5 (SDM Vol. 2 SAL/SAR/SHL/SHR,
 * RCL/RCR/ROL/ROR); a masked count of 0 changes nothing, flags included. OF is defined for a
 * count of 1 only; we compute it from the last step as the 32-bit handlers do for all counts. */
X86_HANDLER(x86_exec64_shift)
{
    unsigned size = insn->opsize, bits = 8 * size;
    struct loc d = op_loc(cpu, insn, 0);
    u64 a = lread(cpu, insn, &d, size), m = mask_of(size), s = sign_of(size);
    unsigned count = (unsigned)oread(cpu, insn, 1, 1) & (size == 8 ? 0x3F : 0x1F);
    if (count == 0) {
        lwrite(cpu, insn, &d, size, a); /* a memory operand is still written (checked) */
        return;
    }
    uint32_t old = x86_get_eflags(cpu), f = old & X86_FLAGS_ARITH;
    u64 r;
    bool cf;
    switch (insn->mnemonic) {
    case X86_MN_ROL: {
        unsigned c = count % bits;
        r = c ? ((a << c) | (a >> (bits - c))) & m : a;
        cf = r & 1;
        f = (f & ~(CF | OF)) | (cf ? CF : 0) | (((r & s) != 0) != cf ? OF : 0);
        break;
    }
    case X86_MN_ROR: {
        unsigned c = count % bits;
        r = c ? ((a >> c) | (a << (bits - c))) & m : a;
        cf = (r & s) != 0;
        f = (f & ~(CF | OF)) | (cf ? CF : 0) | ((((r << 1) ^ r) & s) ? OF : 0);
        break;
    }
    case X86_MN_RCL: case X86_MN_RCR: {
        unsigned c = size < 4 ? count % (bits + 1) : count;
        bool carry = old & CF;
        r = a;
        for (unsigned i = 0; i < c; i++) {
            if (insn->mnemonic == X86_MN_RCL) {
                bool out = (r & s) != 0;
                r = ((r << 1) | carry) & m;
                carry = out;
            } else {
                bool out = r & 1;
                r = (r >> 1) | (carry ? s : 0);
                carry = out;
            }
        }
        bool of = insn->mnemonic == X86_MN_RCL ? (((r & s) != 0) != carry)
                                               : ((((r << 1) ^ r) & s) != 0);
        if (c == 0)
            return; /* 8/16-bit counts that are multiples of 9/17: nothing changes */
        f = (f & ~(CF | OF)) | (carry ? CF : 0) | (of ? OF : 0);
        break;
    }
    case X86_MN_SHL:
        r = count < 64 ? (a << count) & m : 0;
        cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
        f = szp(r, size) | (cf ? CF : 0) | ((((r & s) != 0) != cf) ? OF : 0);
        break;
    case X86_MN_SHR:
        r = a >> count;
        cf = (a >> (count - 1)) & 1;
        f = szp(r, size) | (cf ? CF : 0) | (count == 1 && (a & s) ? OF : 0);
        break;
    default: { /* SAR */
        int64_t sa = (int64_t)sext(a, size);
        unsigned c = count < bits ? count : bits - 1;
        r = (u64)(sa >> c) & m;
        cf = (u64)(sa >> (count <= bits ? count - 1 : bits - 1)) & 1;
        f = szp(r, size) | (cf ? CF : 0);
        break;
    }
    }
    lwrite(cpu, insn, &d, size, r);
    set_flags(cpu, f, X86_FLAGS_ARITH);
}

/* shld/shrd r/m, reg, imm8/CL (count masked like the shifts; 16-bit counts above 16 are
 * undefined) */
X86_HANDLER(x86_exec64_double_shift)
{
    unsigned size = insn->opsize, bits = 8 * size;
    struct loc d = op_loc(cpu, insn, 0);
    u64 a = lread(cpu, insn, &d, size), b = rget(cpu, insn, insn->reg, size);
    u64 m = mask_of(size), s = sign_of(size);
    unsigned count = (unsigned)oread(cpu, insn, 2, 1) & (size == 8 ? 0x3F : 0x1F);
    if (count == 0) {
        lwrite(cpu, insn, &d, size, a);
        return;
    }
    u64 r;
    bool cf;
    if (insn->mnemonic == X86_MN_SHLD) {
        u128 wide = ((u128)a << bits) | b;
        r = (u64)(wide >> (bits - count)) & m;
        cf = (u64)(wide >> (2 * bits - count)) & 1;
    } else {
        u128 wide = ((u128)b << bits) | a;
        r = (u64)(wide >> count) & m;
        cf = (u64)(wide >> (count - 1)) & 1;
    }
    uint32_t f = szp(r, size) | (cf ? CF : 0) | (((a ^ r) & s) ? OF : 0);
    lwrite(cpu, insn, &d, size, r);
    set_flags(cpu, f, X86_FLAGS_ARITH);
}

/* ------------------------------------------------------------------ bits */

/* bt/bts/btr/btc: a register bit offset addresses memory beyond the operand (signed, in
 * operand-size units: SDM Vol. 2 BT); an immediate is taken modulo the operand width. */
X86_HANDLER(x86_exec64_bit)
{
    unsigned size = insn->opsize, bits = 8 * size;
    struct loc d = rm_loc(cpu, insn);
    u64 offset;
    if (insn->operand[1] == X86_OPK_IMM) {
        offset = insn->imm & (bits - 1);
    } else {
        u64 raw = rget(cpu, insn, insn->reg, size);
        offset = raw & (bits - 1);
        if (d.memory) {
            int64_t units = (int64_t)sext(raw, size) >> (size == 8 ? 6 : size == 4 ? 5 : 4);
            d.offset += (u64)(units * (int64_t)size);
            if (insn->addrsize == 4)
                d.offset = (uint32_t)d.offset;
        }
    }
    u64 v = lread(cpu, insn, &d, size), bit = 1ull << offset;
    bool was = (v & bit) != 0;
    switch (insn->mnemonic) {
    case X86_MN_BTS: lwrite(cpu, insn, &d, size, v | bit); break;
    case X86_MN_BTR: lwrite(cpu, insn, &d, size, v & ~bit); break;
    case X86_MN_BTC: lwrite(cpu, insn, &d, size, v ^ bit); break;
    default: break;
    }
    set_flags(cpu, was ? CF : 0, CF);
}

/* bsf/bsr: ZF = source is 0 (the destination is then kept, as processors do) */
X86_HANDLER(x86_exec64_bit_scan)
{
    unsigned size = insn->opsize;
    u64 v = oread(cpu, insn, 1, size);
    if (v == 0) {
        set_flags(cpu, ZF, ZF);
        return;
    }
    unsigned n = insn->mnemonic == X86_MN_BSF ? (unsigned)__builtin_ctzll(v)
                                              : 63u - (unsigned)__builtin_clzll(v);
    rset(cpu, insn, insn->reg, size, n);
    set_flags(cpu, 0, ZF);
}

/* ------------------------------------------------------------------ data movement */

X86_HANDLER(x86_exec64_mov)
{
    if (insn->operand[0] == X86_OPK_SREG) {
        x86_exec64_mov_sreg(cpu, insn); /* a segment load (exec64_system.c) */
        return;
    }
    unsigned size = insn->opsize;
    struct loc d = op_loc(cpu, insn, 0);
    if (insn->operand[1] == X86_OPK_SREG) {
        /* mov r/m, Sreg: a register gets the selector zero-extended, memory 16 bits */
        lwrite(cpu, insn, &d, d.memory ? 2 : size, cpu->seg[insn->reg].selector);
        return;
    }
    lwrite(cpu, insn, &d, size, oread(cpu, insn, 1, size));
}

/* movzx/movsx (source byte or word by the opcode) and movsxd (source dword) */
X86_HANDLER(x86_exec64_movx)
{
    unsigned size = insn->opsize;
    unsigned from = insn->mnemonic == X86_MN_MOVSXD ? 4 : (insn->opcode & 1) ? 2 : 1;
    if (from > size)
        from = size; /* movsxd without REX.W is a plain move */
    u64 v = oread(cpu, insn, 1, from);
    if (insn->mnemonic != X86_MN_MOVZX)
        v = sext(v, from);
    rset(cpu, insn, insn->reg, size, v & mask_of(size));
}

X86_HANDLER(x86_exec64_lea)
{
    rset(cpu, insn, insn->reg, insn->opsize, effective_address(cpu, insn));
}

X86_HANDLER(x86_exec64_xchg)
{
    unsigned size = insn->opsize;
    struct loc a = op_loc(cpu, insn, 0), b = op_loc(cpu, insn, 1);
    u64 va = lread(cpu, insn, &a, size), vb = lread(cpu, insn, &b, size);
    lwrite(cpu, insn, &a, size, vb); /* memory (if any) is operand 0: written first */
    lwrite(cpu, insn, &b, size, va);
}

/* cmpxchg r/m, reg: compare the accumulator with r/m (flags of cmp); equal: r/m = reg, else
 * accumulator = r/m. The destination is written either way when it is memory (SDM Vol. 2). */
X86_HANDLER(x86_exec64_cmpxchg)
{
    unsigned size = insn->opsize;
    struct loc d = rm_loc(cpu, insn);
    u64 v = lread(cpu, insn, &d, size), acc = rget(cpu, insn, X86_EAX, size);
    uint32_t f;
    alu(cpu, A_CMP, size, acc, v, &f);
    if (f & ZF) {
        lwrite(cpu, insn, &d, size, rget(cpu, insn, insn->reg, size));
    } else {
        if (d.memory)
            lwrite(cpu, insn, &d, size, v);
        rset(cpu, insn, X86_EAX, size, v);
    }
    set_flags(cpu, f, X86_FLAGS_ARITH);
}

X86_HANDLER(x86_exec64_xadd)
{
    unsigned size = insn->opsize;
    struct loc d = rm_loc(cpu, insn);
    u64 a = lread(cpu, insn, &d, size), b = rget(cpu, insn, insn->reg, size);
    uint32_t f;
    u64 r = alu(cpu, A_ADD, size, a, b, &f);
    if (d.memory) {
        lwrite(cpu, insn, &d, size, r);
        rset(cpu, insn, insn->reg, size, a);
    } else {
        rset(cpu, insn, insn->reg, size, a); /* then the destination: xadd r, r gives the sum */
        lwrite(cpu, insn, &d, size, r);
    }
    set_flags(cpu, f, X86_FLAGS_ARITH);
}

X86_HANDLER(x86_exec64_bswap)
{
    unsigned size = insn->opsize;
    u64 v = cpu->gpr[insn->reg];
    if (size == 8)
        cpu->gpr[insn->reg] = __builtin_bswap64(v);
    else if (size == 4)
        cpu->gpr[insn->reg] = __builtin_bswap32((uint32_t)v);
    else
        rset(cpu, insn, insn->reg, 2, 0); /* 16-bit: undefined; 0 as processors give */
}

/* cmovcc: the source is read (and may fault) whatever the condition; a 32-bit destination is
 * zero-extended even when the condition is false (SDM Vol. 2 CMOVcc) */
X86_HANDLER(x86_exec64_cmovcc)
{
    unsigned size = insn->opsize;
    u64 v = oread(cpu, insn, 1, size);
    if (x86_condition(cpu, insn->cond))
        rset(cpu, insn, insn->reg, size, v);
    else if (size == 4)
        cpu->gpr[insn->reg] = (uint32_t)cpu->gpr[insn->reg];
}

X86_HANDLER(x86_exec64_setcc)
{
    struct loc d = rm_loc(cpu, insn);
    lwrite(cpu, insn, &d, 1, x86_condition(cpu, insn->cond) ? 1 : 0);
}

/* cbw / cwde / cdqe and cwd / cdq / cqo by operand size */
X86_HANDLER(x86_exec64_cbw)
{
    unsigned size = insn->opsize;
    rset(cpu, insn, X86_EAX, size, sext(cpu->gpr[X86_EAX], size / 2));
}
X86_HANDLER(x86_exec64_cwd)
{
    unsigned size = insn->opsize;
    bool negative = (cpu->gpr[X86_EAX] & sign_of(size)) != 0;
    rset(cpu, insn, X86_EDX, size, negative ? ~0ull : 0);
}

X86_HANDLER(x86_exec64_push)
{
    unsigned size = stack_size(insn);
    if (insn->operand[0] == X86_OPK_SREG) {
        if (insn->reg != X86_SEG_FS && insn->reg != X86_SEG_GS)
            x86_raise_ud(cpu);
        push(cpu, size, cpu->seg[insn->reg].selector);
        return;
    }
    /* push rsp pushes the value before the push; imm8/imm32 are sign-extended */
    u64 v = insn->operand[0] == X86_OPK_IMM ? insn->imm : oread(cpu, insn, 0, size);
    push(cpu, size, v);
}

X86_HANDLER(x86_exec64_pop)
{
    if (insn->operand[0] == X86_OPK_SREG) {
        x86_exec64_pop_sreg(cpu, insn); /* pop fs / pop gs (exec64_system.c) */
        return;
    }
    unsigned size = stack_size(insn);
    u64 v = peek(cpu, 0, size);
    u64 sp = cpu->gpr[X86_ESP] + size;
    struct loc d = op_loc(cpu, insn, 0);
    if (d.memory && insn->base == X86_ESP)
        d.offset += size; /* pop [rsp + x] addresses with RSP already incremented (SDM POP) */
    if (d.memory) {
        lwrite(cpu, insn, &d, size, v);
        cpu->gpr[X86_ESP] = sp;
    } else {
        cpu->gpr[X86_ESP] = sp;
        rset(cpu, insn, d.reg, size, v); /* pop rsp: the popped value wins */
    }
}

X86_HANDLER(x86_exec64_leave)
{
    unsigned size = stack_size(insn);
    u64 v = mread(cpu, X86_SEG_SS, cpu->gpr[X86_EBP], size);
    cpu->gpr[X86_ESP] = cpu->gpr[X86_EBP] + size;
    rset(cpu, insn, X86_EBP, size, v);
}

/* enter imm16, imm8: the frame pointer chain at 64 bits (16 with 66), all of it read and the
 * stores checked before anything is written (SDM Vol. 2 ENTER) */
X86_HANDLER(x86_exec64_enter)
{
    unsigned size = stack_size(insn);
    u64 frame_size = insn->imm & 0xFFFF;
    unsigned level = insn->imm2 % 32;
    u64 rsp = cpu->gpr[X86_ESP], rbp = cpu->gpr[X86_EBP];
    u64 values[33];
    unsigned count = 0;
    values[count++] = rget(cpu, insn, X86_EBP, size);
    u64 frame_temp = rsp - size;
    for (unsigned i = 1; i < level; i++)
        values[count++] = mread(cpu, X86_SEG_SS, rbp - i * size, size);
    if (level > 0)
        values[count++] = frame_temp;
    u64 lowest = linear(cpu, X86_SEG_SS, rsp - count * size, size, true);
    u64 highest = linear(cpu, X86_SEG_SS, rsp - size, size, true), phys;
    bool w;
    x86_translate(cpu, lowest, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
    x86_translate(cpu, highest + size - 1, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
    for (unsigned i = 0; i < count; i++)
        mwrite(cpu, X86_SEG_SS, rsp - (i + 1) * size, size, values[i]);
    cpu->gpr[X86_ESP] = rsp - count * size - frame_size;
    rset(cpu, insn, X86_EBP, size == 2 ? 2 : 8, frame_temp);
}

/* lfs / lgs / lss r, m16:16/32/64 (lds and les do not exist in 64-bit mode) */
X86_HANDLER(x86_exec64_load_far_pointer)
{
    static const uint8_t seg_of[X86_MN_COUNT] = {
        [X86_MN_LFS] = X86_SEG_FS, [X86_MN_LGS] = X86_SEG_GS, [X86_MN_LSS] = X86_SEG_SS,
    };
    unsigned size = insn->opsize;
    u64 ea = effective_address(cpu, insn);
    u64 offset = mread(cpu, insn->seg, ea, size);
    uint16_t selector = (uint16_t)mread(cpu, insn->seg, ea + size, 2);
    x86_exec64_load_segment(cpu, seg_of[insn->mnemonic], selector);
    rset(cpu, insn, insn->reg, size, offset);
}

X86_HANDLER(x86_exec64_xlat)
{
    u64 a = aget(cpu, insn, X86_EBX) + (cpu->gpr[X86_EAX] & 0xFF);
    if (insn->addrsize == 4)
        a = (uint32_t)a;
    rset(cpu, insn, X86_EAX, 1, mread(cpu, insn->seg, a, 1));
}

/* ------------------------------------------------------------------ control transfer */

/* A near target must be canonical (#GP(0), SDM Vol. 2 JMP); the operand size of near branches
 * is 64 in 64-bit mode whatever 66 says (Intel). */
static void branch(struct x86_cpu *cpu, u64 target)
{
    if (!x86_canonical(target))
        x86_raise_gp0(cpu);
    cpu->next_rip = target;
}

X86_HANDLER(x86_exec64_jmp)
{
    branch(cpu, insn->operand[0] == X86_OPK_REL ? cpu->next_rip + insn->imm
                                                : oread(cpu, insn, 0, 8));
}

X86_HANDLER(x86_exec64_call)
{
    u64 target = insn->operand[0] == X86_OPK_REL ? cpu->next_rip + insn->imm
                                                 : oread(cpu, insn, 0, 8);
    if (!x86_canonical(target))
        x86_raise_gp0(cpu);
    push(cpu, 8, cpu->next_rip);
    cpu->next_rip = target;
}

X86_HANDLER(x86_exec64_ret)
{
    u64 target = peek(cpu, 0, 8);
    branch(cpu, target);
    u64 release = insn->operand[0] == X86_OPK_IMM ? (insn->imm & 0xFFFF) : 0;
    cpu->gpr[X86_ESP] += 8 + release;
}

X86_HANDLER(x86_exec64_jcc)
{
    if (x86_condition_fast(cpu, insn->cond))
        branch(cpu, cpu->next_rip + insn->imm);
}

/* loop/loope/loopne/jrcxz: RCX or ECX by address size */
X86_HANDLER(x86_exec64_loop)
{
    bool taken;
    if (insn->mnemonic == X86_MN_JCXZ) {
        taken = aget(cpu, insn, X86_ECX) == 0;
    } else {
        u64 count = aget(cpu, insn, X86_ECX) - 1;
        if (insn->addrsize == 4)
            count = (uint32_t)count;
        taken = count != 0;
        if (insn->mnemonic == X86_MN_LOOPE)
            taken = taken && x86_condition(cpu, 4);
        else if (insn->mnemonic == X86_MN_LOOPNE)
            taken = taken && !x86_condition(cpu, 4);
        if (taken)
            branch(cpu, cpu->next_rip + insn->imm); /* before RCX: a #GP leaves it */
        aset(cpu, insn, X86_ECX, count);
        return;
    }
    if (taken)
        branch(cpu, cpu->next_rip + insn->imm);
}

/* ------------------------------------------------------------------ strings */

/* movs/stos/lods/cmps/scas with RSI/RDI/RCX by address size. Each iteration commits before
 * the next and costs the string class, as outside 64-bit mode (exec_control.c, string_op);
 * rep is cut between iterations when the cycle limit is reached or an exit is requested, and
 * the instruction resumes at the next boundary (SDM Vol. 1 7.3.9.2), the cut free in cycles
 * and instructions. (It once ran slices of 4,096 iterations for the instruction's one cost:
 * a 64-bit rep took the same time for any count, and fuzz_machine's rep lods through MMIO
 * ran 4 million iterations in a 20,000-cycle run.) */
X86_HANDLER(x86_exec64_string)
{
    unsigned size = insn->opsize, mn = insn->mnemonic;
    if ((mn == X86_MN_INS || mn == X86_MN_OUTS) && size == 8)
        size = 4; /* ins/outs move at most a doubleword: REX.W is ignored */
    bool rep = (insn->prefixes & (X86_PFX_REP | X86_PFX_REPNE)) != 0;
    bool compares = mn == X86_MN_CMPS || mn == X86_MN_SCAS;
    int64_t step = (cpu->eflags & X86_FLAG_DF) ? -(int64_t)size : (int64_t)size;
    if (rep && aget(cpu, insn, X86_ECX) == 0)
        return;
    for (;;) {
        u64 si = aget(cpu, insn, X86_ESI), di = aget(cpu, insn, X86_EDI);
        uint32_t f = 0;
        switch (mn) {
        case X86_MN_MOVS:
            mwrite(cpu, X86_SEG_ES, di, size, mread(cpu, insn->seg, si, size));
            aset(cpu, insn, X86_ESI, si + (u64)step);
            aset(cpu, insn, X86_EDI, di + (u64)step);
            break;
        case X86_MN_STOS:
            mwrite(cpu, X86_SEG_ES, di, size, cpu->gpr[X86_EAX]);
            aset(cpu, insn, X86_EDI, di + (u64)step);
            break;
        case X86_MN_LODS:
            rset(cpu, insn, X86_EAX, size, mread(cpu, insn->seg, si, size));
            aset(cpu, insn, X86_ESI, si + (u64)step);
            break;
        case X86_MN_INS: {
            /* the store is checked before the port is read: a fault reads nothing */
            u64 at = linear(cpu, X86_SEG_ES, di, size, true), phys;
            bool w;
            x86_translate(cpu, at, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
            x86_translate(cpu, at + size - 1, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
            uint32_t v = x86_port_in(cpu, (uint16_t)cpu->gpr[X86_EDX], size);
            x86_write_linear(cpu, at, size, v);
            aset(cpu, insn, X86_EDI, di + (u64)step);
            break;
        }
        case X86_MN_OUTS:
            x86_port_out(cpu, (uint16_t)cpu->gpr[X86_EDX], size,
                         (uint32_t)mread(cpu, insn->seg, si, size));
            aset(cpu, insn, X86_ESI, si + (u64)step);
            break;
        case X86_MN_CMPS: {
            u64 a = mread(cpu, insn->seg, si, size), b = mread(cpu, X86_SEG_ES, di, size);
            alu(cpu, A_CMP, size, a, b, &f);
            aset(cpu, insn, X86_ESI, si + (u64)step);
            aset(cpu, insn, X86_EDI, di + (u64)step);
            break;
        }
        default: { /* SCAS */
            u64 b = mread(cpu, X86_SEG_ES, di, size);
            alu(cpu, A_CMP, size, cpu->gpr[X86_EAX], b, &f);
            aset(cpu, insn, X86_EDI, di + (u64)step);
            break;
        }
        }
        if (compares)
            set_flags(cpu, f, X86_FLAGS_ARITH);
        cpu->cycles += cpu->cost[X86_COST_STRING];
        if (!rep)
            return;
        aset(cpu, insn, X86_ECX, aget(cpu, insn, X86_ECX) - 1);
        if (compares && ((insn->prefixes & X86_PFX_REP) ? !(f & ZF) : (f & ZF)))
            return;
        if (aget(cpu, insn, X86_ECX) == 0)
            return;
        if (cpu->cycles >= cpu->cycle_limit || cpu->exit_request) {
            /* as string_op: the instruction's own cost and retirement come once, at its end */
            cpu->next_rip = cpu->rip;
            cpu->string_interrupted = 1;
            cpu->cycles -= insn->cycles;
            cpu->instructions--;
            return;
        }
    }
}
