/* SSE2's non-temporal stores that are not moves between XMM registers and memory (simd.def's
 * cache-control section): movnti and maskmovdqu. The non-temporal hint changes nothing here
 * (there is no cache to bypass); the stores are ordinary, and precise. */
#include "cpu/simd.h"

/* movnti m32/m64, r32/r64 (0F C3, memory only): a general-register store, so not an SSE-state
 * instruction: #UD only without SSE2 (SDM Vol. 2 MOVNTI: no CR0.EM, TS or CR4.OSFXSR
 * conditions) */
X86_HANDLER(x86_exec_simd_movnti)
{
    if (!(cpu->simd & X86_SIMD_SSE2))
        x86_raise_ud(cpu);
    unsigned size = (insn->prefixes & X86_PFX_REX_W) && insn->mode == X86_MODE_64 ? 8 : 4;
    union x86_xmm v = { .q = { cpu->gpr[insn->reg], 0 } };
    x86_simd_write(cpu, insn, &v, size, false);
}

/* maskmovdqu xmm1, xmm2 (66 0F F7, registers only): the bytes of xmm1 whose byte in xmm2 has
 * its top bit set go to DS:[DI/EDI/RDI] (a segment override applies; the address size picks
 * the register). The 16 bytes are checked for writing first, so a fault writes none; with an
 * all-zero mask nothing is accessed (the SDM lets an implementation signal or not: we do not,
 * as no byte is written). */
X86_HANDLER(x86_exec_simd_maskmovdqu)
{
    x86_simd_enter(cpu, insn);
    const union x86_xmm *data = x86_xmm_reg(cpu, insn), *mask = x86_xmm_rm(cpu, insn);
    if (!(mask->q[0] & 0x8080808080808080ull) && !(mask->q[1] & 0x8080808080808080ull))
        return;
    uint64_t di = cpu->gpr[X86_EDI];
    di = insn->addrsize == 2 ? (di & 0xFFFF) : insn->addrsize == 4 ? (uint32_t)di : di;
    uint64_t at;
    if (insn->mode == X86_MODE_64)
        at = x86_linear64(cpu, insn->seg, di, 16, true);
    else
        at = x86_linear(cpu, insn->seg, (uint32_t)di, 16, X86_ACCESS_WRITE);
    if (insn->mode != X86_MODE_64 && at + 16 > 0x100000000ull) {
        x86_check_write_linear(cpu, at, (unsigned)(0x100000000ull - at));
        x86_check_write_linear(cpu, 0, (unsigned)(at + 16 - 0x100000000ull));
    } else {
        x86_check_write_linear(cpu, at, 16);
    }
    for (unsigned i = 0; i < 16; i++)
        if (mask->b[i] & 0x80)
            x86_write_linear(cpu, x86_simd_next(insn, at, i), 1, data->b[i]);
}
