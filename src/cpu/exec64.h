/* 64-bit mode's operand access, shared by exec64.c (integer instructions) and
 * exec64_system.c (system instructions): registers by the REX rules, 64-bit effective and
 * linear addresses with the canonical checks, the 64-bit stack. */
#ifndef X86IRQ_CPU_EXEC64_H
#define X86IRQ_CPU_EXEC64_H

#include "cpu/exec.h"

typedef uint64_t u64;
__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 s128;

#define CF X86_FLAG_CF
#define PF X86_FLAG_PF
#define AF X86_FLAG_AF
#define ZF X86_FLAG_ZF
#define SF X86_FLAG_SF
#define OF X86_FLAG_OF

static inline u64 mask_of(unsigned size) { return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; }
static inline u64 sign_of(unsigned size) { return 1ull << (8 * size - 1); }
static inline u64 sext(u64 v, unsigned size)
{
    unsigned s = 64 - 8 * size;
    return (u64)((int64_t)(v << s) >> s);
}

/* ------------------------------------------------------------------ registers */

/* Byte registers: without REX 4-7 are AH CH DH BH; with any REX they are SPL BPL SIL DIL */
static inline bool high_byte(const struct x86_insn *insn, unsigned reg, unsigned size)
{
    return size == 1 && reg >= 4 && reg < 8 && !(insn->prefixes & X86_PFX_REX);
}
static inline u64 rget(const struct x86_cpu *cpu, const struct x86_insn *insn, unsigned reg,
                       unsigned size)
{
    if (high_byte(insn, reg, size))
        return (cpu->gpr[reg - 4] >> 8) & 0xFF;
    return cpu->gpr[reg] & mask_of(size);
}
/* 32-bit writes zero-extend; 8- and 16-bit writes keep the other bits (SDM Vol. 1 3.4.1.1) */
static inline void rset(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned reg,
                        unsigned size, u64 v)
{
    switch (size) {
    case 8: cpu->gpr[reg] = v; return;
    case 4: cpu->gpr[reg] = (uint32_t)v; return;
    case 2: cpu->gpr[reg] = (cpu->gpr[reg] & ~0xFFFFull) | (v & 0xFFFF); return;
    default:
        if (high_byte(insn, reg, size))
            cpu->gpr[reg - 4] = (cpu->gpr[reg - 4] & ~0xFF00ull) | ((v & 0xFF) << 8);
        else
            cpu->gpr[reg] = (cpu->gpr[reg] & ~0xFFull) | (v & 0xFF);
    }
}
/* a register by address size (RSI/RDI/RCX of strings, loop): 8 or 4 bytes */
static inline u64 aget(const struct x86_cpu *cpu, const struct x86_insn *insn, unsigned reg)
{
    return insn->addrsize == 8 ? cpu->gpr[reg] : (uint32_t)cpu->gpr[reg];
}
static inline void aset(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned reg, u64 v)
{
    cpu->gpr[reg] = insn->addrsize == 8 ? v : (uint32_t)v;
}

/* ------------------------------------------------------------------ memory */

static inline u64 linear(struct x86_cpu *cpu, unsigned seg, u64 offset, unsigned size,
                         bool write)
{
    return x86_linear64(cpu, seg, offset, size, write);
}
static inline u64 mread(struct x86_cpu *cpu, unsigned seg, u64 offset, unsigned size)
{
    return x86_read_linear(cpu, linear(cpu, seg, offset, size, false), size);
}
static inline void mwrite(struct x86_cpu *cpu, unsigned seg, u64 offset, unsigned size, u64 v)
{
    x86_write_linear(cpu, linear(cpu, seg, offset, size, true), size, v);
}

/* ModRM effective address: disp + base + index << scale, or next RIP + disp32 */
static inline u64 effective_address(const struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return x86_ea64(cpu, insn);
}

struct loc {
    bool memory;
    uint8_t reg;
    uint8_t seg;
    u64 offset;
};

static inline struct loc rm_loc(const struct x86_cpu *cpu, const struct x86_insn *insn)
{
    struct loc l = { false, insn->rm, 0, 0 };
    if (insn->mod != 3) {
        l.memory = true;
        l.seg = insn->seg;
        l.offset = effective_address(cpu, insn);
    }
    return l;
}
static inline struct loc op_loc(const struct x86_cpu *cpu, const struct x86_insn *insn, unsigned i)
{
    struct loc l = { false, 0, 0, 0 };
    switch (insn->operand[i]) {
    case X86_OPK_REG: l.reg = insn->reg; return l;
    case X86_OPK_ACC: l.reg = X86_EAX; return l;
    case X86_OPK_MOFFS:
        l.memory = true;
        l.seg = insn->seg;
        l.offset = insn->addrsize == 8 ? insn->imm : (uint32_t)insn->imm;
        return l;
    default: return rm_loc(cpu, insn);
    }
}
static inline u64 lread(struct x86_cpu *cpu, const struct x86_insn *insn, const struct loc *l,
                        unsigned size)
{
    return l->memory ? mread(cpu, l->seg, l->offset, size) : rget(cpu, insn, l->reg, size);
}
static inline void lwrite(struct x86_cpu *cpu, const struct x86_insn *insn, const struct loc *l,
                          unsigned size, u64 v)
{
    if (l->memory)
        mwrite(cpu, l->seg, l->offset, size, v);
    else
        rset(cpu, insn, l->reg, size, v);
}
static inline u64 oread(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned i, unsigned size)
{
    switch (insn->operand[i]) {
    case X86_OPK_IMM: return insn->imm & mask_of(size);
    case X86_OPK_ONE: return 1;
    case X86_OPK_CL: return cpu->gpr[X86_ECX] & 0xFF;
    case X86_OPK_SREG: return cpu->seg[insn->reg].selector;
    default: {
        struct loc l = op_loc(cpu, insn, i);
        return lread(cpu, insn, &l, size);
    }
    }
}

/* ------------------------------------------------------------------ stack (RSP, 64-bit) */

static inline void push(struct x86_cpu *cpu, unsigned size, u64 v)
{
    u64 sp = cpu->gpr[X86_ESP] - size;
    mwrite(cpu, X86_SEG_SS, sp, size, v);
    cpu->gpr[X86_ESP] = sp;
}
static inline u64 peek(struct x86_cpu *cpu, u64 depth, unsigned size)
{
    return mread(cpu, X86_SEG_SS, cpu->gpr[X86_ESP] + depth, size);
}
static inline unsigned stack_size(const struct x86_insn *insn)
{
    return insn->opsize == 2 ? 2 : 8; /* 64 by default, 16 with 66 (SDM Vol. 1 6.2.5) */
}

/* segment register loads in 64-bit mode (exec64_system.c), for mov and pop */
void x86_exec64_mov_sreg(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec64_pop_sreg(struct x86_cpu *cpu, const struct x86_insn *insn);
/* a segment register load with 64-bit mode's rules (a null SS below ring 3) */
void x86_exec64_load_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector);

#endif
