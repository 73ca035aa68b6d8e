/* The processor state FXSAVE/FXRSTOR and the XSAVE family save and restore, by component (SDM
 * Vol. 1 13.4.1, Vol. 2 FXSAVE Table 3-53): the 512-byte legacy region's x87 part (bytes 0-23
 * and the registers at 32-159), MXCSR and MXCSR_MASK (24-31), and the XMM registers (160-287,
 * or 160-415 with all 16). x87.c has them; FXSAVE/FXRSTOR (x87.c) and XSAVE/XRSTOR
 * (exec_simd_state.c) are built from them. Offsets are within insn->seg (the memory operand's
 * effective address plus a displacement); stores must have been checked (x86_xstate_check). */
#ifndef X86IRQ_CPU_XSTATE_H
#define X86IRQ_CPU_XSTATE_H

#include "cpu/exec.h"

/* the memory operand's effective address (its offset in insn->seg) */
uint64_t x86_xstate_ea(struct x86_cpu *cpu, const struct x86_insn *insn);
/* the area's linear address is a multiple of align (16: FXSAVE, 64: XSAVE): else #GP(0) */
uint64_t x86_xstate_area(struct x86_cpu *cpu, const struct x86_insn *insn, unsigned align);
/* size (1, 2, 4) bytes at offset */
uint32_t x86_xstate_read(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                         unsigned size);
void x86_xstate_write(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                      unsigned size, uint32_t value);
/* bytes [offset, offset + size) can be stored (segment, canonical form, pages; size <= 4096) */
void x86_xstate_check(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                      unsigned size);

/* x87: FCW, FSW, the abridged tag, FOP/FIP/FDP (0 here), ST(0)-ST(7) */
void x86_xstate_save_x87(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base);
void x86_xstate_load_x87(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                         struct x86_fpu *out);
/* is the x87 state its initial configuration (FCW 037F, FSW 0, all empty, registers 0: SDM
 * Vol. 1 13.6)? XINUSE[0] is its negation */
bool x86_xstate_x87_init(const struct x86_cpu *cpu);

/* MXCSR and MXCSR_MASK (mask: the value stored, 0 from FXSAVE without SSE) */
void x86_xstate_save_mxcsr(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                           uint32_t mxcsr, uint32_t mask);
/* XMM0..count-1 at 160 */
void x86_xstate_save_xmm(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                         unsigned count);
void x86_xstate_load_xmm(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                         unsigned count, union x86_xmm *out);
/* the XMM registers the SSE component has: 16 in 64-bit mode, 8 outside it (SDM Vol. 1
 * 13.5.2) */
static inline unsigned x86_xstate_xmm_count(const struct x86_insn *insn)
{
    return insn->mode == X86_MODE_64 ? 16 : 8;
}

#endif
