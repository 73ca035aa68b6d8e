/* The SSE control and status register (LDMXCSR, STMXCSR: SDM Vol. 2; Vol. 1 10.2.3), and XSAVE
 * (SDM Vol. 1 ch. 13, Vol. 2 XSAVE ... XSETBV): XCR0 by XGETBV/XSETBV, and the XSAVE area
 * (the 512-byte legacy region of FXSAVE, then the 64-byte XSAVE header) saved and restored by
 * XSAVE, XSAVEOPT, XSAVEC and XRSTOR, component by component (xstate.h; x87.c has the legacy
 * region's parts, which FXSAVE/FXRSTOR use too). Only the x87 (XCR0 bit 0) and SSE (bit 1)
 * components exist here: both live in the legacy region, so the standard and compacted forms
 * place them alike and the area is 576 bytes (CPUID.0xD, exec_system.c). */
#include <string.h>

#include "cpu/simd.h"
#include "cpu/xstate.h"

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

/* ------------------------------------------------------------------ XSAVE */

/* XINUSE (SDM Vol. 1 13.6): which components are not in their initial configuration. It is
 * computed from the state itself rather than tracked: XINUSE[i] = 0 exactly when component i
 * is in its initial configuration, which the SDM allows (a component in its initial
 * configuration may have XINUSE[i] either way; one that is not must have 1). x87: FCW 037F,
 * FSW 0, all registers empty and 0 (FOP, FIP, FDP are always 0 here). SSE: the XMM registers
 * 0 (MXCSR is not considered); all 16 are looked at in every mode, conservatively (a 1 where
 * XMM8-15 are not 0 outside 64-bit mode is allowed). */
static uint64_t xinuse(const struct x86_cpu *cpu)
{
    uint64_t in_use = x86_xstate_x87_init(cpu) ? 0 : X86_XCR0_X87;
    for (unsigned i = 0; i < 16; i++)
        if (cpu->sse.xmm[i].q[0] | cpu->sse.xmm[i].q[1])
            in_use |= X86_XCR0_SSE;
    return in_use;
}

/* The XSAVE family's entry conditions (SDM Vol. 2 XSAVE, "Protected Mode Exceptions"): #UD if
 * XSAVE is not offered or CR4.OSXSAVE = 0 (LOCK: the decoder); #NM if CR0.TS = 1. CR0.EM is
 * not looked at. The area must be 64-byte aligned: #GP(0). */
static uint64_t xsave_enter(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    if (!(cpu->simd & X86_SIMD_XSAVE) || !(cpu->cr4 & X86_CR4_OSXSAVE))
        x86_raise_ud(cpu);
    if (cpu->cr0 & X86_CR0_TS)
        x86_raise(cpu, X86_VEC_NM, 0);
    return x86_xstate_area(cpu, insn, 64);
}

/* the requested-feature bitmap: EDX:EAX AND XCR0 */
static uint64_t rfbm_of(const struct x86_cpu *cpu)
{
    return (((uint64_t)x86_gpr32(cpu, X86_EDX) << 32) | x86_gpr32(cpu, X86_EAX)) & cpu->xcr0;
}

static uint64_t read64(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset)
{
    return x86_xstate_read(cpu, insn, offset, 4) |
           ((uint64_t)x86_xstate_read(cpu, insn, offset + 4, 4) << 32);
}
static void write64(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t offset,
                    uint64_t value)
{
    x86_xstate_write(cpu, insn, offset, 4, (uint32_t)value);
    x86_xstate_write(cpu, insn, offset + 4, 4, (uint32_t)(value >> 32));
}

/* Store the components of save (x87: bit 0, XMM: bit 1) and MXCSR/MXCSR_MASK when
 * with_mxcsr; the area has been checked for writing whole */
static void save_components(struct x86_cpu *cpu, const struct x86_insn *insn, uint64_t base,
                            uint64_t save, bool with_mxcsr)
{
    if (save & X86_XCR0_X87)
        x86_xstate_save_x87(cpu, insn, base);
    if (with_mxcsr)
        x86_xstate_save_mxcsr(cpu, insn, base, cpu->sse.mxcsr, X86_MXCSR_MASK);
    if (save & X86_XCR0_SSE)
        x86_xstate_save_xmm(cpu, insn, base, x86_xstate_xmm_count(insn));
}

/* xsave / xsave64 (0F AE /4) and xsaveopt / xsaveopt64 (0F AE /6): the standard form (SDM Vol. 1
 * 13.7). Component i is saved if RFBM[i]; MXCSR and MXCSR_MASK if RFBM[1] or RFBM[2]; the
 * header's XSTATE_BV becomes (old AND NOT RFBM) OR (XINUSE AND RFBM), the rest of the header is
 * not written. XSAVEOPT's init and modified optimizations (13.9) only let it skip storing
 * components; it is executed as XSAVE, which the SDM allows (the image is the same as far as
 * XRSTOR is concerned). The whole area is checked before the first store: a faulting XSAVE
 * writes nothing. REX.W changes only the x87 FIP/FDP format, which are 0 here. */
X86_HANDLER(x86_exec_xsave)
{
    uint64_t base = xsave_enter(cpu, insn);
    x86_xstate_check(cpu, insn, base, X86_XSAVE_AREA_SIZE);
    uint64_t rfbm = rfbm_of(cpu);
    uint64_t old_bv = read64(cpu, insn, base + 512);
    save_components(cpu, insn, base, rfbm, (rfbm & 6) != 0);
    write64(cpu, insn, base + 512, (old_bv & ~rfbm) | (xinuse(cpu) & rfbm));
}

/* xsavec / xsavec64 (0F C7 /4): the compacted form (SDM Vol. 1 13.10) with the init
 * optimization: component i is saved if RFBM[i] and XINUSE[i], the SSE component also when
 * MXCSR is not 1F80H (RFBM[1]); MXCSR with it; XSTATE_BV = what was saved, XCOMP_BV = RFBM with
 * bit 63 set. x87 and SSE are in the legacy region in the compacted form too. */
X86_HANDLER(x86_exec_xsavec)
{
    uint64_t base = xsave_enter(cpu, insn);
    x86_xstate_check(cpu, insn, base, X86_XSAVE_AREA_SIZE);
    uint64_t rfbm = rfbm_of(cpu);
    uint64_t save = rfbm & xinuse(cpu);
    if ((rfbm & X86_XCR0_SSE) && cpu->sse.mxcsr != X86_MXCSR_RESET)
        save |= X86_XCR0_SSE;
    save_components(cpu, insn, base, save, (save & 6) != 0);
    write64(cpu, insn, base + 512, save);
    write64(cpu, insn, base + 520, rfbm | (1ull << 63));
}

/* xrstor / xrstor64 (0F AE /5), SDM Vol. 1 13.8, Vol. 2 XRSTOR. The header decides the form:
 * XCOMP_BV[63] = 0 the standard form: #GP(0) if XSTATE_BV has a bit not in XCR0 or header bytes
 * 8-23 are not 0; XCOMP_BV[63] = 1 the compacted form (XSAVEC is offered): #GP(0) if XCOMP_BV
 * has a bit (below 63) not in XCR0, XSTATE_BV one not in XCOMP_BV, or bytes 16-63 are not 0.
 * Then for each component with RFBM[i]: XSTATE_BV[i] = 1 loads it, 0 puts it in its initial
 * configuration (x87: as FNINIT with the registers 0; SSE: XMM registers 0). MXCSR is loaded
 * when RFBM[1] or RFBM[2] (#GP(0) for a reserved bit), in the compacted form only if XSTATE_BV[1]
 * or [2], else it becomes 1F80H. Everything is read and checked before anything changes: a
 * faulting XRSTOR changes no state. */
X86_HANDLER(x86_exec_xrstor)
{
    uint64_t base = xsave_enter(cpu, insn);
    uint64_t rfbm = rfbm_of(cpu);
    uint64_t xstate_bv = read64(cpu, insn, base + 512);
    uint64_t xcomp_bv = read64(cpu, insn, base + 520);
    bool compacted = (xcomp_bv >> 63) != 0;
    if (!compacted) {
        if ((xstate_bv & ~cpu->xcr0) || xcomp_bv || read64(cpu, insn, base + 528))
            x86_raise_gp0(cpu);
    } else {
        if ((xcomp_bv & ~(1ull << 63) & ~cpu->xcr0) || (xstate_bv & ~xcomp_bv) ||
            (xstate_bv >> 63))
            x86_raise_gp0(cpu);
        for (unsigned o = 528; o < 576; o += 8)
            if (read64(cpu, insn, base + o))
                x86_raise_gp0(cpu);
    }
    uint32_t mxcsr = cpu->sse.mxcsr;
    if (rfbm & 6) {
        if (!compacted || (xstate_bv & 6))
            mxcsr = x86_xstate_read(cpu, insn, base + 24, 4);
        else
            mxcsr = X86_MXCSR_RESET;
        if (mxcsr & ~X86_MXCSR_MASK)
            x86_raise_gp0(cpu);
    }
    struct x86_fpu f;
    bool load_x87 = (rfbm & xstate_bv & X86_XCR0_X87) != 0;
    if (load_x87)
        x86_xstate_load_x87(cpu, insn, base, &f);
    unsigned count = x86_xstate_xmm_count(insn);
    union x86_xmm xmm[16];
    memset(xmm, 0, sizeof(xmm));
    if (rfbm & xstate_bv & X86_XCR0_SSE)
        x86_xstate_load_xmm(cpu, insn, base, count, xmm);
    /* every read and check done: commit */
    if (rfbm & X86_XCR0_X87) {
        if (load_x87)
            cpu->fpu = f;
        else
            x86_fpu_init(cpu);
    }
    if (rfbm & X86_XCR0_SSE)
        memcpy(cpu->sse.xmm, xmm, count * sizeof(xmm[0]));
    cpu->sse.mxcsr = mxcsr;
}

/* xgetbv (0F 01 D0): any privilege level; #UD if CR4.OSXSAVE = 0; ECX 0 reads XCR0, ECX 1
 * XCR0 AND XINUSE (CPUID.(0xD,1):EAX[2] is 1); any other ECX #GP(0). EDX:EAX (RAX and RDX
 * zero-extended in 64-bit mode). */
X86_HANDLER(x86_exec_xgetbv)
{
    (void)insn;
    if (!(cpu->simd & X86_SIMD_XSAVE) || !(cpu->cr4 & X86_CR4_OSXSAVE))
        x86_raise_ud(cpu);
    uint64_t v;
    switch (x86_gpr32(cpu, X86_ECX)) {
    case 0: v = cpu->xcr0; break;
    case 1: v = cpu->xcr0 & xinuse(cpu); break;
    default: x86_raise_gp0(cpu);
    }
    x86_set_gpr32(cpu, X86_EAX, (uint32_t)v);
    x86_set_gpr32(cpu, X86_EDX, (uint32_t)(v >> 32));
}

/* xsetbv (0F 01 D1): #UD if CR4.OSXSAVE = 0; #GP(0) at CPL > 0 (virtual-8086 mode included),
 * for ECX other than 0, and for a value XCR0 cannot take: bit 0 (x87) clear, bit 2 (AVX) set
 * without bit 1 (SSE), any bit not offered (only bits 0 and 1 are) */
X86_HANDLER(x86_exec_xsetbv)
{
    (void)insn;
    if (!(cpu->simd & X86_SIMD_XSAVE) || !(cpu->cr4 & X86_CR4_OSXSAVE))
        x86_raise_ud(cpu);
    x86_require_cpl0(cpu);
    uint64_t v = ((uint64_t)x86_gpr32(cpu, X86_EDX) << 32) | x86_gpr32(cpu, X86_EAX);
    if (x86_gpr32(cpu, X86_ECX) != 0 || !(v & X86_XCR0_X87) || ((v & 4) && !(v & X86_XCR0_SSE)) ||
        (v & ~(uint64_t)X86_XCR0_SUPPORTED))
        x86_raise_gp0(cpu);
    cpu->xcr0 = v;
}
