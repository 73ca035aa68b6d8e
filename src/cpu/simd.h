/* What the SIMD handlers (exec_simd_*.c, simd.def) share: the entry checks every SSE-family
 * instruction makes, and its operands in every mode: XMM registers by ModRM, memory through the
 * segment (16/32-bit modes) or the canonical check (64-bit mode), 16-byte alignment for the
 * aligned forms, stores checked whole before the first byte is written (a faulting instruction
 * changes nothing). */
#ifndef X86IRQ_CPU_SIMD_H
#define X86IRQ_CPU_SIMD_H

#include "cpu/exec.h"
#include "cpu/mmu.h"

/* the extension of each SIMD mnemonic (simd.def), 0 for the others (exec_table.c) */
extern const uint8_t x86_mnemonic_simd[X86_MN_COUNT];

/* The exception conditions of legacy SIMD instructions (SDM Vol. 2 2.5, Vol. 3 13.1): #UD if
 * the extension is not offered, CR0.EM = 1 or CR4.OSFXSR = 0; then #NM if CR0.TS = 1 (lazy FPU
 * switching covers the SSE state as it covers the x87's). */
static inline void x86_simd_enter_feature(struct x86_cpu *cpu, uint32_t feature)
{
    if (!(cpu->simd & feature) || (cpu->cr0 & X86_CR0_EM) || !(cpu->cr4 & X86_CR4_OSFXSR))
        x86_raise_ud(cpu);
    if (cpu->cr0 & X86_CR0_TS)
        x86_raise(cpu, X86_VEC_NM, 0);
}
static inline void x86_simd_enter(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    x86_simd_enter_feature(cpu, x86_mnemonic_simd[insn->mnemonic]);
}

/* The ModRM registers: XMM by reg and by rm (REX.R and REX.B give 8-15 in 64-bit mode) */
static inline union x86_xmm *x86_xmm_reg(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return &cpu->sse.xmm[insn->reg & 15];
}
static inline union x86_xmm *x86_xmm_rm(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return &cpu->sse.xmm[insn->rm & 15];
}

/* The memory operand's linear address, checked for size bytes (segment or canonical form);
 * align16: the aligned forms' #GP(0) for an address not on a 16-byte boundary (SDM Vol. 2
 * MOVAPS...) */
static inline uint64_t x86_simd_linear(struct x86_cpu *cpu, const struct x86_insn *insn,
                                       unsigned size, bool write, bool align16)
{
    uint64_t at;
    if (insn->mode == X86_MODE_64)
        at = x86_linear64(cpu, insn->seg, x86_ea64(cpu, insn), size, write);
    else
        at = x86_linear(cpu, insn->seg, x86_effective_address(cpu, insn), size,
                        write ? X86_ACCESS_WRITE : X86_ACCESS_READ);
    if (align16 && (at & 15))
        x86_raise_gp0(cpu);
    return at;
}

/* the next linear address of an access: 32-bit linear addresses wrap at 4 GiB */
static inline uint64_t x86_simd_next(const struct x86_insn *insn, uint64_t at, unsigned by)
{
    return insn->mode == X86_MODE_64 ? at + by : (uint32_t)(at + by);
}

/* size (4, 8 or 16) bytes of memory into the low lanes of v; the rest of v is zero */
static inline union x86_xmm x86_simd_read(struct x86_cpu *cpu, const struct x86_insn *insn,
                                          unsigned size, bool align16)
{
    union x86_xmm v = { .q = { 0, 0 } };
    uint64_t at = x86_simd_linear(cpu, insn, size, false, align16);
    if (size == 4) {
        v.d[0] = (uint32_t)x86_read_linear(cpu, at, 4);
    } else {
        v.q[0] = x86_read_linear(cpu, at, 8);
        if (size == 16)
            v.q[1] = x86_read_linear(cpu, x86_simd_next(insn, at, 8), 8);
    }
    return v;
}

/* The r/m source: the XMM register, or size bytes of memory (zero-extended) */
static inline union x86_xmm x86_simd_source(struct x86_cpu *cpu, const struct x86_insn *insn,
                                            unsigned size, bool align16)
{
    if (insn->mod == 3)
        return *x86_xmm_rm(cpu, insn);
    return x86_simd_read(cpu, insn, size, align16);
}

/* Store the low size (4, 8 or 16) bytes of v at the memory operand: every page checked for
 * writing first, so a fault leaves memory as it was */
static inline void x86_simd_write(struct x86_cpu *cpu, const struct x86_insn *insn,
                                  const union x86_xmm *v, unsigned size, bool align16)
{
    uint64_t at = x86_simd_linear(cpu, insn, size, true, align16);
    if (insn->mode != X86_MODE_64 && at + size > 0x100000000ull) {
        /* wraps at 4 GiB: each part checked */
        x86_check_write_linear(cpu, at, (unsigned)(0x100000000ull - at));
        x86_check_write_linear(cpu, 0, (unsigned)(at + size - 0x100000000ull));
    } else {
        x86_check_write_linear(cpu, at, size);
    }
    if (size == 4) {
        x86_write_linear(cpu, at, 4, v->d[0]);
    } else {
        x86_write_linear(cpu, at, 8, v->q[0]);
        if (size == 16)
            x86_write_linear(cpu, x86_simd_next(insn, at, 8), 8, v->q[1]);
    }
}

#endif
