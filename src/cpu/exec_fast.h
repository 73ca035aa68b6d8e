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
    if (!count)
        return;
    uint32_t a = x86_gpr32(cpu, d), r, cf, of = 0;
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

#endif
