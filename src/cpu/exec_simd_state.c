/* The SSE control and status register: LDMXCSR and STMXCSR (SDM Vol. 2; Vol. 1 10.2.3). The
 * rest of the SSE state is saved and restored by FXSAVE/FXRSTOR (x87.c). */
#include "cpu/simd.h"

/* ldmxcsr m32: bits the processor does not implement (MXCSR_MASK clear) are #GP(0) */
X86_HANDLER(x86_exec_ldmxcsr)
{
    x86_simd_enter_feature(cpu, X86_SIMD_SSE);
    uint32_t v = (uint32_t)x86_read_linear(cpu, x86_simd_linear(cpu, insn, 4, false, false), 4);
    if (v & ~X86_MXCSR_MASK)
        x86_raise_gp0(cpu);
    cpu->sse.mxcsr = v;
}

X86_HANDLER(x86_exec_stmxcsr)
{
    x86_simd_enter_feature(cpu, X86_SIMD_SSE);
    union x86_xmm v = { .d = { cpu->sse.mxcsr, 0, 0, 0 } };
    x86_simd_write(cpu, insn, &v, 4, false);
}
