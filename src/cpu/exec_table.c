/* Handler selection, done once per decoded instruction at predecode time.
 *
 * handlers[] gives each mnemonic its general handler; specialised[] optionally names a
 * function that picks a faster form for the common operand shapes (32-bit register and
 * immediate operands, plain 32-bit loads and stores). Anything without a handler raises #UD.
 */
#include "cpu/exec.h"
#include "cpu/exec_handlers.h"

#define H(mn, fn) [X86_MN_##mn] = x86_exec_##fn,
static const x86_exec_fn handlers[X86_MN_COUNT] = {
    H(MOV, mov) H(MOVZX, movzx) H(MOVSX, movsx) H(LEA, lea) H(XCHG, xchg)
    H(CMPXCHG, cmpxchg) H(CMPXCHG8B, cmpxchg8b) H(XADD, xadd) H(BSWAP, bswap)
    H(PUSH, push) H(POP, pop) H(PUSHA, pusha) H(POPA, popa) H(PUSHF, pushf) H(POPF, popf)
    H(LAHF, lahf) H(SAHF, sahf) H(CMOVCC, cmovcc) H(SETCC, setcc) H(CBW, cbw) H(CWD, cwd)
    H(ENTER, enter) H(LEAVE, leave) H(XLAT, xlat)
    H(LDS, load_far_pointer) H(LES, load_far_pointer) H(LFS, load_far_pointer)
    H(LGS, load_far_pointer) H(LSS, load_far_pointer)
    H(ADD, add) H(ADC, adc) H(SUB, sub) H(SBB, sbb) H(CMP, cmp) H(AND, and) H(OR, or)
    H(XOR, xor) H(TEST, test) H(INC, inc) H(DEC, dec) H(NEG, neg) H(NOT, not)
    H(MUL, mul) H(IMUL, imul) H(DIV, div) H(IDIV, idiv)
    H(ROL, rol) H(ROR, ror) H(RCL, rcl) H(RCR, rcr) H(SHL, shl) H(SHR, shr) H(SAR, sar)
    H(SHLD, shld) H(SHRD, shrd) H(BT, bt) H(BTS, bts) H(BTR, btr) H(BTC, btc)
    H(BSF, bsf) H(BSR, bsr) H(DAA, daa) H(DAS, das) H(AAA, aaa) H(AAS, aas) H(AAM, aam)
    H(AAD, aad) H(SALC, salc)
    H(JMP, jmp) H(JMP_FAR, jmp_far) H(CALL, call) H(CALL_FAR, call_far) H(RET, ret)
    H(RET_FAR, ret_far) H(JCC, jcc) H(JCXZ, jcxz) H(LOOP, loop) H(LOOPE, loope)
    H(LOOPNE, loopne) H(INT3, int3) H(INT, int) H(INTO, into) H(INT1, int1) H(IRET, iret)
    H(BOUND, bound)
    H(MOVS, movs) H(STOS, stos) H(LODS, lods) H(CMPS, cmps) H(SCAS, scas) H(INS, ins)
    H(OUTS, outs)
    H(CLC, clc) H(STC, stc) H(CMC, cmc) H(CLD, cld) H(STD, std) H(CLI, cli) H(STI, sti)
    H(IN, in) H(OUT, out) H(HLT, hlt) H(NOP, nop) H(PAUSE, nop) H(CPUID, cpuid)
    H(RDTSC, rdtsc) H(RDTSCP, rdtscp) H(RDMSR, rdmsr) H(WRMSR, wrmsr) H(RDPMC, rdpmc)
    H(SYSENTER, sysenter) H(SYSEXIT, sysexit) H(CLAC, clac_stac) H(STAC, clac_stac)
    H(LGDT, lgdt_lidt) H(LIDT, lgdt_lidt) H(SGDT, sgdt_sidt) H(SIDT, sgdt_sidt)
    H(LLDT, lldt) H(SLDT, sldt) H(LTR, ltr) H(STR, str) H(LMSW, lmsw) H(SMSW, smsw)
    H(LAR, lar_lsl) H(LSL, lar_lsl) H(VERR, verr_verw) H(VERW, verr_verw) H(ARPL, arpl)
    H(MOV_CR, mov_cr) H(MOV_DR, mov_dr) H(CLTS, clts) H(INVLPG, invlpg)
    H(WBINVD, cache_control) H(INVD, cache_control)
    H(UD0, ud) H(UD1, ud) H(UD2, ud)
    H(X87, x87) H(FWAIT, fwait) H(FXSAVE, fxsave) H(FXRSTOR, fxrstor)
    /* not implemented, raise #UD (docs/isa.md): UNIMPLEMENTED (SSE/MMX/AVX space, TSX, SMX,
     * VMX...), SYSCALL/SYSRET/SWAPGS/MOVSXD (64-bit mode),
     * RSM (no SMM) */
};
#undef H

static bool register_or_immediate_32(const struct x86_insn *insn)
{
    if (insn->opsize != 4)
        return false;
    for (unsigned i = 0; i < 2; i++) {
        uint8_t k = insn->operand[i];
        if (k == X86_OPK_RM && insn->mod != 3)
            return false;
        if (k != X86_OPK_REG && k != X86_OPK_RM && k != X86_OPK_IMM && k != X86_OPK_ACC)
            return false;
    }
    return insn->operand[0] != X86_OPK_IMM;
}

static x86_exec_fn choose_alu(const struct x86_insn *insn, x86_exec_fn rr, x86_exec_fn ri)
{
    if (!register_or_immediate_32(insn) || (insn->prefixes & X86_PFX_LOCK))
        return NULL;
    return insn->operand[1] == X86_OPK_IMM ? ri : rr;
}

static x86_exec_fn specialise(const struct x86_insn *insn)
{
    switch (insn->mnemonic) {
    case X86_MN_ADD: return choose_alu(insn, x86_exec_add_rr32, x86_exec_add_ri32);
    case X86_MN_SUB: return choose_alu(insn, x86_exec_sub_rr32, x86_exec_sub_ri32);
    case X86_MN_CMP: return choose_alu(insn, x86_exec_cmp_rr32, x86_exec_cmp_ri32);
    case X86_MN_AND: return choose_alu(insn, x86_exec_and_rr32, x86_exec_and_ri32);
    case X86_MN_OR: return choose_alu(insn, x86_exec_or_rr32, x86_exec_or_ri32);
    case X86_MN_XOR: return choose_alu(insn, x86_exec_xor_rr32, x86_exec_xor_ri32);
    case X86_MN_TEST: return choose_alu(insn, x86_exec_test_rr32, x86_exec_test_ri32);
    case X86_MN_MOV:
        if (insn->opsize != 4 || insn->operand[0] == X86_OPK_SREG || insn->operand[1] == X86_OPK_SREG)
            return NULL;
        if (register_or_immediate_32(insn))
            return insn->operand[1] == X86_OPK_IMM ? x86_exec_mov_ri32 : x86_exec_mov_rr32;
        if (insn->operand[0] == X86_OPK_REG && insn->operand[1] == X86_OPK_RM)
            return x86_exec_mov_load32;
        if (insn->operand[0] == X86_OPK_RM && insn->operand[1] == X86_OPK_REG)
            return x86_exec_mov_store32;
        return NULL;
    case X86_MN_PUSH:
        return insn->opsize == 4 && insn->operand[0] == X86_OPK_REG ? x86_exec_push_r32 : NULL;
    case X86_MN_POP:
        return insn->opsize == 4 && insn->operand[0] == X86_OPK_REG ? x86_exec_pop_r32 : NULL;
    case X86_MN_JMP:
        return insn->opsize == 4 && insn->operand[0] == X86_OPK_REL ? x86_exec_jmp_rel32 : NULL;
    default:
        return NULL;
    }
}

x86_exec_fn x86_exec_lookup(const struct x86_insn *insn)
{
    /* only 16- and 32-bit code executes; long mode comes later (docs/isa.md) */
    if (insn->mode == X86_MODE_64 || insn->mnemonic >= X86_MN_COUNT)
        return x86_exec_ud;
    x86_exec_fn fast = specialise(insn);
    if (fast)
        return fast;
    x86_exec_fn fn = handlers[insn->mnemonic];
    return fn ? fn : x86_exec_ud;
}

/* The inline forms the run loop may use instead of insn->exec (same semantics as the
 * handlers x86_exec_lookup picks; run.c implements them). */
uint8_t x86_exec_fast_op(const struct x86_insn *insn)
{
    if (insn->mode == X86_MODE_64)
        return X86_FAST_NONE;
    x86_exec_fn fn = x86_exec_lookup(insn);
    static const struct { x86_exec_fn fn; uint8_t op; } forms[] = {
        { x86_exec_mov_rr32, X86_FAST_MOV_RR32 }, { x86_exec_mov_ri32, X86_FAST_MOV_RI32 },
        { x86_exec_mov_load32, X86_FAST_MOV_LOAD32 }, { x86_exec_mov_store32, X86_FAST_MOV_STORE32 },
        { x86_exec_add_rr32, X86_FAST_ADD_RR32 }, { x86_exec_add_ri32, X86_FAST_ADD_RI32 },
        { x86_exec_sub_rr32, X86_FAST_SUB_RR32 }, { x86_exec_sub_ri32, X86_FAST_SUB_RI32 },
        { x86_exec_cmp_rr32, X86_FAST_CMP_RR32 }, { x86_exec_cmp_ri32, X86_FAST_CMP_RI32 },
        { x86_exec_and_rr32, X86_FAST_AND_RR32 }, { x86_exec_and_ri32, X86_FAST_AND_RI32 },
        { x86_exec_or_rr32, X86_FAST_OR_RR32 }, { x86_exec_or_ri32, X86_FAST_OR_RI32 },
        { x86_exec_xor_rr32, X86_FAST_XOR_RR32 }, { x86_exec_xor_ri32, X86_FAST_XOR_RI32 },
        { x86_exec_test_rr32, X86_FAST_TEST_RR32 }, { x86_exec_test_ri32, X86_FAST_TEST_RI32 },
        { x86_exec_push_r32, X86_FAST_PUSH_R32 }, { x86_exec_pop_r32, X86_FAST_POP_R32 },
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (forms[i].fn == fn)
            return forms[i].op;
    bool plain32 = insn->opsize == 4 && insn->addrsize == 4 && !(insn->prefixes & X86_PFX_LOCK);
    bool memory0 = insn->operand[0] == X86_OPK_RM && insn->mod != 3;
    bool memory1 = insn->operand[1] == X86_OPK_RM && insn->mod != 3;
    bool mr = plain32 && memory0 && insn->operand[1] == X86_OPK_REG;
    bool rm = plain32 && memory1 && insn->operand[0] == X86_OPK_REG;
    bool register0 = insn->operand[0] == X86_OPK_REG || (insn->operand[0] == X86_OPK_RM && insn->mod == 3);
    static const struct { uint16_t mnemonic; uint8_t mr, rm; } alu_memory_forms[] = {
        { X86_MN_ADD, X86_FAST_ADD_MR32, X86_FAST_ADD_RM32 },
        { X86_MN_SUB, X86_FAST_SUB_MR32, X86_FAST_SUB_RM32 },
        { X86_MN_AND, X86_FAST_AND_MR32, X86_FAST_AND_RM32 },
        { X86_MN_OR, X86_FAST_OR_MR32, X86_FAST_OR_RM32 },
        { X86_MN_XOR, X86_FAST_XOR_MR32, X86_FAST_XOR_RM32 },
        { X86_MN_CMP, X86_FAST_CMP_MR32, X86_FAST_CMP_RM32 },
        { X86_MN_TEST, X86_FAST_TEST_MR32, X86_FAST_NONE },
    };
    for (size_t i = 0; i < sizeof(alu_memory_forms) / sizeof(alu_memory_forms[0]); i++)
        if (alu_memory_forms[i].mnemonic == insn->mnemonic && (mr || rm))
            return mr ? alu_memory_forms[i].mr : alu_memory_forms[i].rm;
    bool register_imm = register0 && (insn->operand[1] == X86_OPK_IMM || insn->operand[1] == X86_OPK_ONE);
    if (insn->opsize == 4 && register_imm) {
        if (insn->mnemonic == X86_MN_SHL)
            return X86_FAST_SHL_RI32;
        if (insn->mnemonic == X86_MN_SHR)
            return X86_FAST_SHR_RI32;
        if (insn->mnemonic == X86_MN_SAR)
            return X86_FAST_SAR_RI32;
    }
    if (insn->opsize == 1 && register_imm && insn->operand[1] == X86_OPK_IMM) {
        if (insn->mnemonic == X86_MN_TEST)
            return X86_FAST_TEST_RI8;
        if (insn->mnemonic == X86_MN_CMP)
            return X86_FAST_CMP_RI8;
    }
    switch (insn->mnemonic) {
    case X86_MN_INC:
        return insn->opsize == 4 && register0 ? X86_FAST_INC_R32 : X86_FAST_NONE;
    case X86_MN_DEC:
        return insn->opsize == 4 && register0 ? X86_FAST_DEC_R32 : X86_FAST_NONE;
    case X86_MN_JCC:
        return insn->opsize == 4 ? X86_FAST_JCC : X86_FAST_NONE;
    case X86_MN_JMP:
        return insn->opsize == 4 && insn->operand[0] == X86_OPK_REL ? X86_FAST_JMP_REL : X86_FAST_NONE;
    case X86_MN_CALL:
        return insn->opsize == 4 && insn->operand[0] == X86_OPK_REL ? X86_FAST_CALL_REL32 : X86_FAST_NONE;
    case X86_MN_RET:
        return insn->opsize == 4 && insn->operand[0] == X86_OPK_NONE ? X86_FAST_RET : X86_FAST_NONE;
    case X86_MN_LEA:
        return insn->opsize == 4 && insn->addrsize == 4 ? X86_FAST_LEA32 : X86_FAST_NONE;
    default:
        return X86_FAST_NONE;
    }
}
