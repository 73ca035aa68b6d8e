/* SSE-family data movement (simd.def "moves"): whole registers, scalars, halves, GPR <-> XMM
 * and the sign masks. Each handler serves a load form and its store form, told apart by the
 * opcode (SDM Vol. 2 MOVUPS, MOVAPS, MOVSS, MOVSD, MOVD/MOVQ, MOVLPS...). */
#include "cpu/simd.h"

/* The store forms of the load/store pairs: 0F 11 (movups, movss...), 29 (movaps), 7F (movdqa,
 * movdqu), 13 and 17 (movlps, movhps...), 7E and D6 in their 66 forms, and the non-temporal
 * stores 2B and E7 */
static bool is_store(const struct x86_insn *insn)
{
    switch (insn->opcode) {
    case 0x11: case 0x29: case 0x7F: case 0x13: case 0x17: case 0x2B: case 0xE7: case 0xD6:
        return true;
    default:
        return false;
    }
}

/* 16 bytes, xmm <- xmm/m128 or m128/xmm <- xmm */
static void move128(struct x86_cpu *cpu, const struct x86_insn *insn, bool align16)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm *reg = x86_xmm_reg(cpu, insn);
    if (!is_store(insn))
        *reg = x86_simd_source(cpu, insn, 16, align16);
    else if (insn->mod == 3)
        *x86_xmm_rm(cpu, insn) = *reg;
    else
        x86_simd_write(cpu, insn, reg, 16, align16);
}

X86_HANDLER(x86_exec_simd_movu) { move128(cpu, insn, false); }
X86_HANDLER(x86_exec_simd_mova) { move128(cpu, insn, true); } /* and movnt*: the cache hint is
                                                                  all they add */

/* movss / movsd: register to register merges the low element; a load zeroes the rest */
X86_HANDLER(x86_exec_simd_movs)
{
    x86_simd_enter(cpu, insn);
    unsigned size = insn->mnemonic == X86_MN_MOVSS ? 4 : 8;
    union x86_xmm *reg = x86_xmm_reg(cpu, insn);
    if (insn->mod == 3) {
        union x86_xmm *rm = x86_xmm_rm(cpu, insn);
        union x86_xmm *to = is_store(insn) ? rm : reg, *from = is_store(insn) ? reg : rm;
        memcpy(to->b, from->b, size);
    } else if (is_store(insn)) {
        x86_simd_write(cpu, insn, reg, size, false);
    } else {
        *reg = x86_simd_read(cpu, insn, size, false);
    }
}

/* 66 0F 6E: movd/movq xmm, r/m32/64 (zero-extended to 128 bits); 66 0F 7E: r/m32/64 <- xmm's
 * low element. REX.W makes them 64-bit (movq). */
X86_HANDLER(x86_exec_simd_movd)
{
    x86_simd_enter(cpu, insn);
    unsigned size = (insn->prefixes & X86_PFX_REX_W) && insn->mode == X86_MODE_64 ? 8 : 4;
    union x86_xmm *reg = x86_xmm_reg(cpu, insn);
    if (insn->opcode == 0x6E) {
        union x86_xmm v = { .q = { 0, 0 } };
        if (insn->mod == 3)
            v.q[0] = size == 8 ? cpu->gpr[insn->rm] : (uint32_t)cpu->gpr[insn->rm];
        else
            v = x86_simd_read(cpu, insn, size, false);
        *reg = v;
    } else if (insn->mod == 3) {
        cpu->gpr[insn->rm] = size == 8 ? reg->q[0] : reg->d[0]; /* 32-bit writes zero-extend */
    } else {
        x86_simd_write(cpu, insn, reg, size, false);
    }
}

/* F3 0F 7E: movq xmm, xmm/m64 (the upper quadword cleared); 66 0F D6: movq xmm/m64, xmm (a
 * register destination's upper quadword cleared too) */
X86_HANDLER(x86_exec_simd_movq)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm *reg = x86_xmm_reg(cpu, insn);
    if (insn->opcode == 0x7E) {
        union x86_xmm v = x86_simd_source(cpu, insn, 8, false);
        v.q[1] = 0;
        *reg = v;
    } else if (insn->mod == 3) {
        union x86_xmm *rm = x86_xmm_rm(cpu, insn);
        rm->q[0] = reg->q[0];
        rm->q[1] = 0;
    } else {
        x86_simd_write(cpu, insn, reg, 8, false);
    }
}

/* The 64-bit halves (0F 12/13 low, 16/17 high): loads from m64 keep the other half; the
 * register forms of 0F 12 and 16 without a prefix are movhlps (high of rm to low) and movlhps
 * (low of rm to high). The stores (13, 17) take memory only. */
X86_HANDLER(x86_exec_simd_movlh)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm *reg = x86_xmm_reg(cpu, insn);
    bool high = insn->opcode == 0x16 || insn->opcode == 0x17;
    if (is_store(insn)) {
        union x86_xmm v = { .q = { reg->q[high], 0 } };
        x86_simd_write(cpu, insn, &v, 8, false);
    } else if (insn->mod == 3) {
        const union x86_xmm *rm = x86_xmm_rm(cpu, insn);
        reg->q[high] = rm->q[!high]; /* movhlps: low <- high; movlhps: high <- low */
    } else {
        reg->q[high] = x86_simd_read(cpu, insn, 8, false).q[0];
    }
}

/* movmskps / movmskpd / pmovmskb r32/64, xmm: the elements' sign bits into a general register
 * (zero-extended: the destination is the full register in 64-bit mode) */
X86_HANDLER(x86_exec_simd_movmsk)
{
    x86_simd_enter(cpu, insn);
    const union x86_xmm *rm = x86_xmm_rm(cpu, insn);
    uint32_t mask = 0;
    if (insn->mnemonic == X86_MN_PMOVMSKB) {
        for (unsigned i = 0; i < 16; i++)
            mask |= (uint32_t)(rm->b[i] >> 7) << i;
    } else if (insn->mnemonic == X86_MN_MOVMSKPS) {
        for (unsigned i = 0; i < 4; i++)
            mask |= (rm->d[i] >> 31) << i;
    } else {
        for (unsigned i = 0; i < 2; i++)
            mask |= (uint32_t)(rm->q[i] >> 63) << i;
    }
    cpu->gpr[insn->reg] = mask;
}
