/* The semantics of the fast forms (fast_forms.def), defined once: exec_table.c wraps each in a
 * handler and the fast loop (run.c) inlines each as a threaded-dispatch form, so the two
 * cannot drift apart. Each is exactly the general handler's behaviour for the operand shapes
 * its row admits (exec_table.c checks the shape; nothing here checks it again). */
#ifndef X86IRQ_CPU_EXEC_FAST_H
#define X86IRQ_CPU_EXEC_FAST_H

#include "cpu/exec.h"

/* The destination register of a two-operand register form (reg, rm or EAX), its source */
static X86_ALWAYS_INLINE unsigned x86_fast_dst(const struct x86_insn *insn)
{
    return insn->operand[0] == X86_OPK_REG ? insn->reg
         : insn->operand[0] == X86_OPK_ACC ? X86_EAX : insn->rm;
}
static X86_ALWAYS_INLINE unsigned x86_fast_src(const struct x86_insn *insn)
{
    return insn->operand[1] == X86_OPK_REG ? insn->reg : insn->rm;
}
/* The register of a one-operand form (reg or a register rm) */
static X86_ALWAYS_INLINE unsigned x86_fast_reg0(const struct x86_insn *insn)
{
    return insn->operand[0] == X86_OPK_REG ? insn->reg : insn->rm;
}

/* A near branch target must lie within CS (#GP(0) on the branch itself). */
static X86_ALWAYS_INLINE void x86_fast_branch(struct x86_cpu *cpu, uint32_t target)
{
    if (X86_UNLIKELY(target > cpu->seg[X86_SEG_CS].limit))
        x86_raise_gp0(cpu);
    cpu->next_rip = target;
}

/* ------------------------------------------------------------------ moves */

static X86_ALWAYS_INLINE void x86_fast_mov_rr32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_set_gpr32(cpu, x86_fast_dst(insn), x86_gpr32(cpu, x86_fast_src(insn)));
}
static X86_ALWAYS_INLINE void x86_fast_mov_ri32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_set_gpr32(cpu, x86_fast_dst(insn), (uint32_t)insn->imm);
}
static X86_ALWAYS_INLINE void x86_fast_mov_load32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_set_gpr32(cpu, insn->reg, x86_read(cpu, insn->seg, x86_effective_address(cpu, insn), 4));
}
static X86_ALWAYS_INLINE void x86_fast_mov_store32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_write(cpu, insn->seg, x86_effective_address(cpu, insn), 4, x86_gpr32(cpu, insn->reg));
}

/* ------------------------------------------------------------------ two-operand ALU
 *
 * One line per operation gives its result, its lazy-flags record and whether it writes the
 * destination; each line makes the operation's four shapes: rr32 and ri32 (register
 * destination, register or immediate source), mr32 (memory destination: read, which may
 * fault, compute, write back, which may fault, then the flags) and rm32 (memory source). */
#define X86_FAST_ALU(name, expr, lazy_op, writes) \
    static X86_ALWAYS_INLINE void x86_fast_##name##_rr32(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        unsigned d = x86_fast_dst(insn); \
        uint32_t a = x86_gpr32(cpu, d), b = x86_gpr32(cpu, x86_fast_src(insn)), r = (expr); \
        if (writes) \
            x86_set_gpr32(cpu, d, r); \
        x86_set_lazy(cpu, lazy_op, 4, a, b, r); \
    } \
    static X86_ALWAYS_INLINE void x86_fast_##name##_ri32(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        unsigned d = x86_fast_dst(insn); \
        uint32_t a = x86_gpr32(cpu, d), b = (uint32_t)insn->imm, r = (expr); \
        if (writes) \
            x86_set_gpr32(cpu, d, r); \
        x86_set_lazy(cpu, lazy_op, 4, a, b, r); \
    } \
    static X86_ALWAYS_INLINE void x86_fast_##name##_mr32(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        uint32_t ea = x86_effective_address(cpu, insn); \
        uint32_t a = x86_read(cpu, insn->seg, ea, 4), b = x86_gpr32(cpu, insn->reg), r = (expr); \
        if (writes) \
            x86_write(cpu, insn->seg, ea, 4, r); \
        x86_set_lazy(cpu, lazy_op, 4, a, b, r); \
    } \
    static X86_ALWAYS_INLINE void x86_fast_##name##_rm32(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        uint32_t a = x86_gpr32(cpu, insn->reg); \
        uint32_t b = x86_read(cpu, insn->seg, x86_effective_address(cpu, insn), 4), r = (expr); \
        if (writes) \
            x86_set_gpr32(cpu, insn->reg, r); \
        x86_set_lazy(cpu, lazy_op, 4, a, b, r); \
    }
X86_FAST_ALU(add, a + b, LAZY_ADD, 1)
X86_FAST_ALU(sub, a - b, LAZY_SUB, 1)
X86_FAST_ALU(cmp, a - b, LAZY_SUB, 0)
X86_FAST_ALU(and, a & b, LAZY_LOGIC, 1)
X86_FAST_ALU(or, a | b, LAZY_LOGIC, 1)
X86_FAST_ALU(xor, a ^ b, LAZY_LOGIC, 1)
X86_FAST_ALU(test, a & b, LAZY_LOGIC, 0)
#undef X86_FAST_ALU

/* test / cmp of a byte register with an immediate */
static X86_ALWAYS_INLINE void x86_fast_alu_ri8(struct x86_cpu *cpu, const struct x86_insn *insn,
                                               bool test)
{
    uint32_t a = x86_reg_get(cpu, x86_fast_dst(insn), 1);
    uint32_t b = (uint32_t)insn->imm & 0xFF;
    x86_set_lazy(cpu, test ? LAZY_LOGIC : LAZY_SUB, 1, a, b, (test ? a & b : a - b) & 0xFF);
}
static X86_ALWAYS_INLINE void x86_fast_test_ri8(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_alu_ri8(cpu, insn, true);
}
static X86_ALWAYS_INLINE void x86_fast_cmp_ri8(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_alu_ri8(cpu, insn, false);
}

/* ------------------------------------------------------------------ one-operand, shifts, lea */

/* inc and dec keep CF: record it with the operation */
static X86_ALWAYS_INLINE void x86_fast_inc_dec_r32(struct x86_cpu *cpu,
                                                   const struct x86_insn *insn, bool inc)
{
    unsigned d = x86_fast_reg0(insn);
    uint32_t cf = x86_cf(cpu) ? X86_FLAG_CF : 0;
    uint32_t a = x86_gpr32(cpu, d);
    uint32_t r = inc ? a + 1 : a - 1;
    x86_set_gpr32(cpu, d, r);
    x86_set_lazy(cpu, inc ? LAZY_INC : LAZY_DEC, 4, a, 1, r);
    cpu->lazy.aux = cf;
}
static X86_ALWAYS_INLINE void x86_fast_inc_r32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_inc_dec_r32(cpu, insn, true);
}
static X86_ALWAYS_INLINE void x86_fast_dec_r32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_inc_dec_r32(cpu, insn, false);
}

/* SDM Vol. 2 SAL/SAR/SHL/SHR: count masked to 5 bits; 0 changes nothing; all six flags are
 * set (AF 0, OF as for a count of 1: docs/isa.md), so the old ones need no materialising */
enum x86_fast_shift { X86_FAST_SHIFT_SHL, X86_FAST_SHIFT_SHR, X86_FAST_SHIFT_SAR };
static X86_ALWAYS_INLINE void x86_fast_shift_ri32(struct x86_cpu *cpu, const struct x86_insn *insn,
                                                  enum x86_fast_shift op)
{
    unsigned d = x86_fast_reg0(insn);
    unsigned count = (insn->operand[1] == X86_OPK_ONE ? 1 : (unsigned)insn->imm) & 31;
    uint32_t a = x86_gpr32(cpu, d), r, cf, of = 0;
    if (!count) {
        /* nothing changes, but the 32-bit register is written: in 64-bit mode that clears
         * bits 63:32 (as the host does; outside it they are 0 already) */
        x86_set_gpr32(cpu, d, a);
        return;
    }
    if (op == X86_FAST_SHIFT_SHL) {
        r = a << count;
        cf = (a >> (32 - count)) & 1;
        of = (r >> 31) ^ cf;
    } else if (op == X86_FAST_SHIFT_SHR) {
        r = a >> count;
        cf = (a >> (count - 1)) & 1;
        of = count == 1 ? a >> 31 : 0;
    } else {
        r = (uint32_t)((int32_t)a >> count);
        cf = (uint32_t)((int32_t)a >> (count - 1)) & 1;
    }
    x86_set_gpr32(cpu, d, r);
    cpu->lazy.op = LAZY_NONE;
    cpu->eflags = (cpu->eflags & ~X86_FLAGS_ARITH) | x86_szp_flags(r, 4) |
                  (cf ? X86_FLAG_CF : 0) | (of ? X86_FLAG_OF : 0);
}
static X86_ALWAYS_INLINE void x86_fast_shl_ri32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_shift_ri32(cpu, insn, X86_FAST_SHIFT_SHL);
}
static X86_ALWAYS_INLINE void x86_fast_shr_ri32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_shift_ri32(cpu, insn, X86_FAST_SHIFT_SHR);
}
static X86_ALWAYS_INLINE void x86_fast_sar_ri32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_shift_ri32(cpu, insn, X86_FAST_SHIFT_SAR);
}

static X86_ALWAYS_INLINE void x86_fast_lea32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_set_gpr32(cpu, insn->reg, x86_effective_address(cpu, insn));
}

/* ------------------------------------------------------------------ stack and near branches */

static X86_ALWAYS_INLINE void x86_fast_push_r32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_push(cpu, 4, x86_gpr32(cpu, insn->reg));
}
static X86_ALWAYS_INLINE void x86_fast_pop_r32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    uint32_t v = x86_stack_peek(cpu, 0, 4);
    x86_stack_adjust(cpu, 4);
    x86_set_gpr32(cpu, insn->reg, v); /* pop esp: the popped value wins */
}
static X86_ALWAYS_INLINE void x86_fast_jcc(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    if (x86_condition_fast(cpu, insn->cond))
        x86_fast_branch(cpu, x86_next_eip(cpu) + (uint32_t)insn->imm);
}
static X86_ALWAYS_INLINE void x86_fast_jmp_rel(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_branch(cpu, x86_next_eip(cpu) + (uint32_t)insn->imm);
}
/* the target is checked before the push: a #GP leaves the stack as it was */
static X86_ALWAYS_INLINE void x86_fast_call_rel32(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    uint32_t target = x86_next_eip(cpu) + (uint32_t)insn->imm;
    if (X86_UNLIKELY(target > cpu->seg[X86_SEG_CS].limit))
        x86_raise_gp0(cpu);
    x86_push(cpu, 4, x86_next_eip(cpu));
    cpu->next_rip = target;
}
static X86_ALWAYS_INLINE void x86_fast_ret(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    (void)insn;
    uint32_t target = x86_stack_peek(cpu, 0, 4);
    x86_fast_branch(cpu, target);
    x86_stack_adjust(cpu, 4);
}

/* ------------------------------------------------------------------ 64-bit mode
 *
 * The same operations at 64-bit operand size with 64-bit addresses (exec.h's x86_ea64 and
 * x86_linear64, which exec64.c's handlers use too). */
static X86_ALWAYS_INLINE uint64_t x86_fast_load64(struct x86_cpu *cpu, const struct x86_insn *insn,
                                                  unsigned size)
{
    return x86_read_linear(cpu, x86_linear64(cpu, insn->seg, x86_ea64(cpu, insn), size,
                                                  false), size);
}
static X86_ALWAYS_INLINE void x86_fast_branch64(struct x86_cpu *cpu, uint64_t target)
{
    if (X86_UNLIKELY(!x86_canonical(target)))
        x86_raise_gp0(cpu);
    cpu->next_rip = target;
}

static X86_ALWAYS_INLINE void x86_fast_mov_rr64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    cpu->gpr[x86_fast_dst(insn)] = cpu->gpr[x86_fast_src(insn)];
}
static X86_ALWAYS_INLINE void x86_fast_mov_ri64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    cpu->gpr[x86_fast_dst(insn)] = (uint64_t)insn->imm;
}
static X86_ALWAYS_INLINE void x86_fast_mov_load64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    cpu->gpr[insn->reg] = x86_fast_load64(cpu, insn, 8);
}
static X86_ALWAYS_INLINE void x86_fast_mov_store64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    uint64_t at = x86_linear64(cpu, insn->seg, x86_ea64(cpu, insn), 8, true);
    x86_write_linear(cpu, at, 8, cpu->gpr[insn->reg]);
}
static X86_ALWAYS_INLINE void x86_fast_mov_load32l(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    cpu->gpr[insn->reg] = (uint32_t)x86_fast_load64(cpu, insn, 4); /* zero-extended */
}
static X86_ALWAYS_INLINE void x86_fast_mov_store32l(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    uint64_t at = x86_linear64(cpu, insn->seg, x86_ea64(cpu, insn), 4, true);
    x86_write_linear(cpu, at, 4, (uint32_t)cpu->gpr[insn->reg]);
}

#define X86_FAST_ALU64(name, expr, lazy_op, writes) \
    static X86_ALWAYS_INLINE void x86_fast_##name##_rr64(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        unsigned d = x86_fast_dst(insn); \
        uint64_t a = cpu->gpr[d], b = cpu->gpr[x86_fast_src(insn)], r = (expr); \
        if (writes) \
            cpu->gpr[d] = r; \
        x86_set_lazy64(cpu, lazy_op, 8, a, b, r); \
    } \
    static X86_ALWAYS_INLINE void x86_fast_##name##_ri64(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        unsigned d = x86_fast_dst(insn); \
        uint64_t a = cpu->gpr[d], b = (uint64_t)insn->imm, r = (expr); \
        if (writes) \
            cpu->gpr[d] = r; \
        x86_set_lazy64(cpu, lazy_op, 8, a, b, r); \
    } \
    static X86_ALWAYS_INLINE void x86_fast_##name##_mr64(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        uint64_t at = x86_linear64(cpu, insn->seg, x86_ea64(cpu, insn), 8, writes); \
        uint64_t a = x86_read_linear(cpu, at, 8), b = cpu->gpr[insn->reg], r = (expr); \
        if (writes) \
            x86_write_linear(cpu, at, 8, r); \
        x86_set_lazy64(cpu, lazy_op, 8, a, b, r); \
    } \
    static X86_ALWAYS_INLINE void x86_fast_##name##_rm64(struct x86_cpu *cpu, \
                                                         const struct x86_insn *insn) \
    { \
        uint64_t a = cpu->gpr[insn->reg], b = x86_fast_load64(cpu, insn, 8), r = (expr); \
        if (writes) \
            cpu->gpr[insn->reg] = r; \
        x86_set_lazy64(cpu, lazy_op, 8, a, b, r); \
    }
/* 32-bit operands with 64-bit addresses (a 32-bit register write zero-extends) */
#define X86_FAST_ALU32L(name, expr, lazy_op, writes) \
    static X86_ALWAYS_INLINE void x86_fast_##name##_mr32l(struct x86_cpu *cpu, \
                                                          const struct x86_insn *insn) \
    { \
        uint64_t at = x86_linear64(cpu, insn->seg, x86_ea64(cpu, insn), 4, writes); \
        uint32_t a = (uint32_t)x86_read_linear(cpu, at, 4), b = x86_gpr32(cpu, insn->reg); \
        uint32_t r = (expr); \
        if (writes) \
            x86_write_linear(cpu, at, 4, r); \
        x86_set_lazy(cpu, lazy_op, 4, a, b, r); \
    } \
    static X86_ALWAYS_INLINE void x86_fast_##name##_rm32l(struct x86_cpu *cpu, \
                                                          const struct x86_insn *insn) \
    { \
        uint32_t a = x86_gpr32(cpu, insn->reg), b = (uint32_t)x86_fast_load64(cpu, insn, 4); \
        uint32_t r = (expr); \
        if (writes) \
            x86_set_gpr32(cpu, insn->reg, r); \
        x86_set_lazy(cpu, lazy_op, 4, a, b, r); \
    }
X86_FAST_ALU32L(add, a + b, LAZY_ADD, 1)
X86_FAST_ALU32L(sub, a - b, LAZY_SUB, 1)
X86_FAST_ALU32L(cmp, a - b, LAZY_SUB, 0)
X86_FAST_ALU32L(and, a & b, LAZY_LOGIC, 1)
X86_FAST_ALU32L(or, a | b, LAZY_LOGIC, 1)
X86_FAST_ALU32L(xor, a ^ b, LAZY_LOGIC, 1)
X86_FAST_ALU32L(test, a & b, LAZY_LOGIC, 0)
#undef X86_FAST_ALU32L

/* test / cmp r8, imm8 in 64-bit mode: with any REX, registers 4-7 are SPL BPL SIL DIL (and
 * 8-15 exist); without, AH CH DH BH (SDM Vol. 1 3.4.1.1) */
static X86_ALWAYS_INLINE void x86_fast_alu_ri8l(struct x86_cpu *cpu, const struct x86_insn *insn,
                                                bool test)
{
    unsigned reg = x86_fast_dst(insn);
    uint32_t a = (insn->prefixes & X86_PFX_REX) || reg < 4 || reg >= 8
                     ? (uint32_t)(cpu->gpr[reg] & 0xFF)
                     : (uint32_t)((cpu->gpr[reg - 4] >> 8) & 0xFF);
    uint32_t b = (uint32_t)insn->imm & 0xFF;
    x86_set_lazy(cpu, test ? LAZY_LOGIC : LAZY_SUB, 1, a, b, (test ? a & b : a - b) & 0xFF);
}
static X86_ALWAYS_INLINE void x86_fast_test_ri8l(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_alu_ri8l(cpu, insn, true);
}
static X86_ALWAYS_INLINE void x86_fast_cmp_ri8l(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_alu_ri8l(cpu, insn, false);
}

X86_FAST_ALU64(add, a + b, LAZY_ADD, 1)
X86_FAST_ALU64(sub, a - b, LAZY_SUB, 1)
X86_FAST_ALU64(cmp, a - b, LAZY_SUB, 0)
X86_FAST_ALU64(and, a & b, LAZY_LOGIC, 1)
X86_FAST_ALU64(or, a | b, LAZY_LOGIC, 1)
X86_FAST_ALU64(xor, a ^ b, LAZY_LOGIC, 1)
X86_FAST_ALU64(test, a & b, LAZY_LOGIC, 0)
#undef X86_FAST_ALU64

static X86_ALWAYS_INLINE void x86_fast_inc_dec_r64(struct x86_cpu *cpu,
                                                   const struct x86_insn *insn, bool inc)
{
    unsigned d = x86_fast_reg0(insn);
    uint32_t cf = x86_cf(cpu) ? X86_FLAG_CF : 0;
    uint64_t a = cpu->gpr[d], r = inc ? a + 1 : a - 1;
    cpu->gpr[d] = r;
    x86_set_lazy64(cpu, inc ? LAZY_INC : LAZY_DEC, 8, a, 1, r);
    cpu->lazy.aux = cf;
}
static X86_ALWAYS_INLINE void x86_fast_inc_r64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_inc_dec_r64(cpu, insn, true);
}
static X86_ALWAYS_INLINE void x86_fast_dec_r64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_inc_dec_r64(cpu, insn, false);
}

/* count masked to 6 bits for 64-bit operands; flags as x86_fast_shift_ri32 */
static X86_ALWAYS_INLINE void x86_fast_shift_ri64(struct x86_cpu *cpu, const struct x86_insn *insn,
                                                  enum x86_fast_shift op)
{
    unsigned d = x86_fast_reg0(insn);
    unsigned count = (insn->operand[1] == X86_OPK_ONE ? 1 : (unsigned)insn->imm) & 63;
    if (!count)
        return;
    uint64_t a = cpu->gpr[d], r;
    uint32_t cf, of = 0;
    if (op == X86_FAST_SHIFT_SHL) {
        r = a << count;
        cf = (uint32_t)(a >> (64 - count)) & 1;
        of = (uint32_t)(r >> 63) ^ cf;
    } else if (op == X86_FAST_SHIFT_SHR) {
        r = a >> count;
        cf = (uint32_t)(a >> (count - 1)) & 1;
        of = count == 1 ? (uint32_t)(a >> 63) : 0;
    } else {
        r = (uint64_t)((int64_t)a >> count);
        cf = (uint32_t)((uint64_t)((int64_t)a >> (count - 1)) & 1);
    }
    cpu->gpr[d] = r;
    uint32_t f = (r == 0 ? X86_FLAG_ZF : 0) | ((r >> 63) ? X86_FLAG_SF : 0) |
                 (x86_parity((uint32_t)(r & 0xFF)) ? X86_FLAG_PF : 0);
    cpu->lazy.op = LAZY_NONE;
    cpu->eflags = (cpu->eflags & ~X86_FLAGS_ARITH) | f | (cf ? X86_FLAG_CF : 0) |
                  (of ? X86_FLAG_OF : 0);
}
static X86_ALWAYS_INLINE void x86_fast_shl_ri64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_shift_ri64(cpu, insn, X86_FAST_SHIFT_SHL);
}
static X86_ALWAYS_INLINE void x86_fast_shr_ri64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_shift_ri64(cpu, insn, X86_FAST_SHIFT_SHR);
}
static X86_ALWAYS_INLINE void x86_fast_sar_ri64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_shift_ri64(cpu, insn, X86_FAST_SHIFT_SAR);
}

static X86_ALWAYS_INLINE void x86_fast_lea64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    cpu->gpr[insn->reg] = x86_ea64(cpu, insn);
}
static X86_ALWAYS_INLINE void x86_fast_lea32l(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    cpu->gpr[insn->reg] = (uint32_t)x86_ea64(cpu, insn);
}

/* the stack is RSP, 8 bytes a slot; the store comes before RSP changes */
static X86_ALWAYS_INLINE void x86_fast_push64(struct x86_cpu *cpu, uint64_t v)
{
    uint64_t sp = cpu->gpr[X86_ESP] - 8;
    x86_write_linear(cpu, x86_linear64(cpu, X86_SEG_SS, sp, 8, true), 8, v);
    cpu->gpr[X86_ESP] = sp;
}
static X86_ALWAYS_INLINE uint64_t x86_fast_peek64(struct x86_cpu *cpu)
{
    return x86_read_linear(cpu, x86_linear64(cpu, X86_SEG_SS, cpu->gpr[X86_ESP], 8, false), 8);
}
static X86_ALWAYS_INLINE void x86_fast_push_r64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_push64(cpu, cpu->gpr[insn->reg]); /* push rsp pushes the old value */
}
static X86_ALWAYS_INLINE void x86_fast_pop_r64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    uint64_t v = x86_fast_peek64(cpu);
    cpu->gpr[X86_ESP] += 8;
    cpu->gpr[insn->reg] = v; /* pop rsp: the popped value wins */
}
static X86_ALWAYS_INLINE void x86_fast_jcc64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    if (x86_condition_fast(cpu, insn->cond))
        x86_fast_branch64(cpu, cpu->next_rip + (uint64_t)insn->imm);
}
static X86_ALWAYS_INLINE void x86_fast_jmp_rel64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_fast_branch64(cpu, cpu->next_rip + (uint64_t)insn->imm);
}
static X86_ALWAYS_INLINE void x86_fast_call_rel64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    uint64_t target = cpu->next_rip + (uint64_t)insn->imm;
    if (X86_UNLIKELY(!x86_canonical(target)))
        x86_raise_gp0(cpu);
    x86_fast_push64(cpu, cpu->next_rip);
    cpu->next_rip = target;
}
static X86_ALWAYS_INLINE void x86_fast_ret64(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    (void)insn;
    uint64_t target = x86_fast_peek64(cpu);
    x86_fast_branch64(cpu, target);
    cpu->gpr[X86_ESP] += 8;
}

#endif
