/* Interpreter internals shared by exec_*.c and flags.c: operand access, lazy-flag recording. */
#ifndef X86IRQ_CPU_EXEC_H
#define X86IRQ_CPU_EXEC_H

#include "cpu/cpu.h"

enum x86_lazy_op {
    LAZY_NONE = 0, LAZY_ADD, LAZY_ADC, LAZY_SUB, LAZY_SBB, LAZY_LOGIC, LAZY_INC, LAZY_DEC,
};

static X86_ALWAYS_INLINE uint32_t x86_size_mask(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}
static X86_ALWAYS_INLINE uint32_t x86_sign_bit(unsigned size) { return 1u << (8 * size - 1); }
static X86_ALWAYS_INLINE int32_t x86_sign_extend(uint32_t v, unsigned size)
{
    return size == 1 ? (int32_t)(int8_t)v : size == 2 ? (int32_t)(int16_t)v : (int32_t)v;
}

/* The lazy record's sizes go up to 8 bytes (64-bit operands) */
extern const uint64_t x86_lazy_masks[9];
static X86_ALWAYS_INLINE uint64_t x86_lazy_mask(unsigned size)
{
    return x86_lazy_masks[size]; /* one load: the hot jcc's test; size is 1, 2, 4 or 8 */
}
static X86_ALWAYS_INLINE uint64_t x86_lazy_sign(unsigned size)
{
    return (uint64_t)1 << (8 * size - 1);
}

bool x86_parity(uint32_t value);
void x86_flags_materialize(struct x86_cpu *cpu);

static X86_ALWAYS_INLINE void x86_set_lazy(struct x86_cpu *cpu, uint8_t op, unsigned size,
                                           uint32_t src1, uint32_t src2, uint32_t result)
{
    cpu->lazy.op = op;
    cpu->lazy.size = (uint8_t)size;
    cpu->lazy.src1 = src1;
    cpu->lazy.src2 = src2;
    cpu->lazy.result = result;
}

/* 64-bit mode's record (exec64.c): the same operations, operands of up to 64 bits */
static X86_ALWAYS_INLINE void x86_set_lazy64(struct x86_cpu *cpu, uint8_t op, unsigned size,
                                             uint64_t src1, uint64_t src2, uint64_t result)
{
    cpu->lazy.op = op;
    cpu->lazy.size = (uint8_t)size;
    cpu->lazy.src1 = src1;
    cpu->lazy.src2 = src2;
    cpu->lazy.result = result;
}

/* Store computed arithmetic flags directly (for shifts, multiply, BCD...). */
static X86_ALWAYS_INLINE void x86_set_arith_flags(struct x86_cpu *cpu, uint32_t flags)
{
    x86_flags_materialize(cpu);
    cpu->eflags = (cpu->eflags & ~X86_FLAGS_ARITH) | (flags & X86_FLAGS_ARITH);
}

/* ZF, SF and PF of a result */
static X86_ALWAYS_INLINE uint32_t x86_szp_flags(uint32_t result, unsigned size)
{
    uint32_t r = result & x86_size_mask(size);
    uint32_t f = 0;
    if (r == 0)
        f |= X86_FLAG_ZF;
    if (r & x86_sign_bit(size))
        f |= X86_FLAG_SF;
    if (x86_parity(r))
        f |= X86_FLAG_PF;
    return f;
}

/* CF alone, without materialising the other flags (inc/dec keep it, adc/sbb read it) */
static X86_ALWAYS_INLINE bool x86_cf(struct x86_cpu *cpu)
{
    const struct x86_lazy_flags *l = &cpu->lazy;
    uint64_t mask = x86_lazy_mask(l->size);
    uint64_t a = l->src1 & mask, b = l->src2 & mask, r = l->result & mask;
    switch (l->op) {
    case LAZY_ADD: return r < a;
    case LAZY_ADC: return l->aux ? r <= a : r < a;
    case LAZY_SUB: return a < b;
    case LAZY_SBB: return a < b || (l->aux && a == b);
    case LAZY_LOGIC: return false;
    case LAZY_INC: case LAZY_DEC: return l->aux & X86_FLAG_CF;
    default: return cpu->eflags & X86_FLAG_CF;
    }
}

/* Conditions for jcc/setcc/cmovcc: the commonest cases inline, the rest in flags.c */
static X86_ALWAYS_INLINE bool x86_condition_fast(struct x86_cpu *cpu, unsigned cond)
{
    if ((cond == 4 || cond == 5) && cpu->lazy.op >= LAZY_ADD) {
        bool zero = (cpu->lazy.result & x86_lazy_mask(cpu->lazy.size)) == 0;
        return cond == 4 ? zero : !zero;
    }
    return x86_condition(cpu, cond);
}

/* ---------------------------------------------------------------- 64-bit mode's addresses */

/* A ModRM memory operand's effective address in 64-bit mode (RIP-relative from the next
 * instruction, REX registers; 32 bits with 67), and the linear address of seg:offset there:
 * only FS and GS have a base, a non-canonical address is #SS(0) for SS references and #GP(0)
 * otherwise (SDM Vol. 3 5.3.1, Vol. 1 3.3.7.1), alignment (#AC) and data breakpoints are
 * checked */
static X86_ALWAYS_INLINE uint64_t x86_ea64(const struct x86_cpu *cpu,
                                                const struct x86_insn *insn)
{
    uint64_t a = (uint64_t)(int64_t)insn->disp;
    if (insn->rip_relative)
        a += cpu->next_rip;
    if (insn->base != X86_REG_NONE)
        a += cpu->gpr[insn->base];
    if (insn->index != X86_REG_NONE)
        a += cpu->gpr[insn->index] << insn->scale;
    return insn->addrsize == 8 ? a : (uint32_t)a; /* 67: 32-bit addresses */
}
static X86_ALWAYS_INLINE uint64_t x86_linear64(struct x86_cpu *cpu, unsigned seg,
                                                    uint64_t offset, unsigned size, bool write)
{
    uint64_t at = offset;
    if (seg == X86_SEG_FS || seg == X86_SEG_GS)
        at += cpu->seg[seg].base;
    if (X86_UNLIKELY(!x86_canonical(at) || !x86_canonical(at + size - 1)))
        x86_raise(cpu, seg == X86_SEG_SS ? X86_VEC_SS : X86_VEC_GP, 0);
    if (X86_UNLIKELY(cpu->alignment_check | cpu->data_breakpoints))
        x86_checked_access(cpu, at, size, write);
    return at;
}
/* ---------------------------------------------------------------- operand locations */

/* Where an operand lives: a general register, or memory seg:offset (resolved once, so
 * read-modify-write instructions compute the address once). */
struct x86_location {
    bool memory;
    uint8_t reg;
    uint8_t seg;
    uint32_t offset;
};

static X86_ALWAYS_INLINE uint32_t x86_moffs(const struct x86_insn *insn)
{
    return insn->addrsize == 2 ? ((uint32_t)insn->disp & 0xFFFF) : (uint32_t)insn->disp;
}

/* The r/m operand's location (register when mod == 3) */
static X86_ALWAYS_INLINE struct x86_location x86_rm_location(const struct x86_cpu *cpu,
                                                            const struct x86_insn *insn)
{
    struct x86_location l;
    if (insn->mod == 3) {
        l.memory = false;
        l.reg = insn->rm;
        l.seg = 0;
        l.offset = 0;
    } else {
        l.memory = true;
        l.reg = 0;
        l.seg = insn->seg;
        l.offset = x86_effective_address(cpu, insn);
    }
    return l;
}

static X86_ALWAYS_INLINE uint32_t x86_location_read(struct x86_cpu *cpu,
                                                    const struct x86_location *l, unsigned size)
{
    return l->memory ? x86_read(cpu, l->seg, l->offset, size) : x86_reg_get(cpu, l->reg, size);
}

static X86_ALWAYS_INLINE void x86_location_write(struct x86_cpu *cpu,
                                                 const struct x86_location *l, unsigned size,
                                                 uint32_t value)
{
    if (l->memory)
        x86_write(cpu, l->seg, l->offset, size, value);
    else
        x86_reg_set(cpu, l->reg, size, value);
}

/* Location of operand i (REG, RM, MEM, ACC, MOFFS); other kinds are not locations. */
static X86_ALWAYS_INLINE struct x86_location x86_operand_location(const struct x86_cpu *cpu,
                                                                 const struct x86_insn *insn,
                                                                 unsigned i)
{
    struct x86_location l = { false, 0, 0, 0 };
    switch (insn->operand[i]) {
    case X86_OPK_REG:
        l.reg = insn->reg;
        break;
    case X86_OPK_ACC:
        l.reg = X86_EAX;
        break;
    case X86_OPK_MOFFS:
        l.memory = true;
        l.seg = insn->seg;
        l.offset = x86_moffs(insn);
        break;
    default:
        return x86_rm_location(cpu, insn);
    }
    return l;
}

/* Value of a source operand i of the given size */
static X86_ALWAYS_INLINE uint32_t x86_operand_read(struct x86_cpu *cpu, const struct x86_insn *insn,
                                                   unsigned i, unsigned size)
{
    switch (insn->operand[i]) {
    case X86_OPK_IMM:
        return (uint32_t)insn->imm & x86_size_mask(size);
    case X86_OPK_ONE:
        return 1;
    case X86_OPK_CL:
        return x86_gpr32(cpu, X86_ECX) & 0xFF;
    case X86_OPK_DX:
        return x86_gpr32(cpu, X86_EDX) & 0xFFFF;
    case X86_OPK_SREG:
        return cpu->seg[insn->reg].selector;
    default: {
        struct x86_location l = x86_operand_location(cpu, insn, i);
        return x86_location_read(cpu, &l, size);
    }
    }
}

/* The privilege checks many system instructions share */
static X86_ALWAYS_INLINE bool x86_protected(const struct x86_cpu *cpu)
{
    return (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_FLAG_VM);
}
static X86_ALWAYS_INLINE void x86_require_cpl0(struct x86_cpu *cpu)
{
    if ((cpu->cr0 & X86_CR0_PE) && (cpu->cpl != 0 || (cpu->eflags & X86_FLAG_VM)))
        x86_raise_gp0(cpu);
}
/* popf/iret in virtual-8086 mode with CR4.VME below IOPL 3: FLAGS from value, IF into VIF,
 * IOPL kept; #GP(0) if that would enable a pending virtual interrupt or set TF. */
void x86_load_virtual_flags(struct x86_cpu *cpu, uint32_t value);

static X86_ALWAYS_INLINE unsigned x86_iopl(const struct x86_cpu *cpu)
{
    return (cpu->eflags & X86_FLAG_IOPL) >> 12;
}

/* Branch to target (masked to 16 bits with a 16-bit operand size) */
static X86_ALWAYS_INLINE void x86_branch(struct x86_cpu *cpu, const struct x86_insn *insn,
                                         uint32_t target)
{
    cpu->next_rip = insn->opsize == 2 ? (target & 0xFFFF) : target;
}

/* Handlers of each family, for the dispatch table (exec_table.c) */
#define X86_HANDLER(name) void name(struct x86_cpu *cpu, const struct x86_insn *insn)

#endif
