/* Handler selection, done once per decoded instruction at predecode time.
 *
 * Both tables come from the instruction database: handlers[] and x86_mnemonic_properties[]
 * from mnemonics.def (one row per mnemonic), the fast forms from fast_forms.def (one row per
 * mnemonic and operand shape). A fast form's handler wraps the same inline definition
 * (exec_fast.h) the run loop executes, so the per-instruction loop and the fast loop run the
 * same code for it.
 */
#include "cpu/exec.h"
#include "cpu/exec_fast.h"
#include "cpu/exec_handlers.h"
#include "cpu/simd.h"

static const x86_exec_fn handlers[X86_MN_COUNT] = {
#define X(name, text, handler, properties) [X86_MN_##name] = x86_exec_##handler,
#include "mnemonics.def"
#undef X
};

/* the property names of mnemonics.def's last column */
#define ENDS_BLOCK X86_MNP_ENDS_BLOCK
const uint8_t x86_mnemonic_properties[X86_MN_COUNT] = {
#define X(name, text, handler, properties) [X86_MN_##name] = (properties),
#include "mnemonics.def"
#undef X
};
#undef ENDS_BLOCK

/* the SIMD extension of each SIMD mnemonic (simd.def), for x86_simd_enter's #UD */
#define SSE X86_SIMD_SSE
#define SSE2 X86_SIMD_SSE2
#define SSE3 X86_SIMD_SSE3
#define SSSE3 X86_SIMD_SSSE3
#define SSE41 X86_SIMD_SSE41
#define SSE42 X86_SIMD_SSE42
const uint8_t x86_mnemonic_simd[X86_MN_COUNT] = {
#define SIMD_MN(name, text, handler, feature) [X86_MN_##name] = (feature),
#include "simd.def"
};
#undef SSE
#undef SSE2
#undef SSE3
#undef SSSE3
#undef SSE41
#undef SSE42

/* ------------------------------------------------------------------ fast forms */

/* Operand shapes. Each operand's kind is one bit of a set; a ModRM r/m operand counts as a
 * register (RM) when mod == 3 and as memory (MEM_RM) otherwise. */
#define KIND(k) (1u << X86_OPK_##k)
#define MEM_RM (1u << X86_OPK_COUNT)
#define REGISTER (KIND(REG) | KIND(RM))  /* a general register by ModRM.reg or ModRM.rm */
_Static_assert(X86_OPK_COUNT < 32, "operand kinds fit an operand set");

struct shape {
    uint8_t modes;      /* the decoding modes it applies in: MODES_LEGACY, MODES_ALL, MODE_LONG */
    uint8_t opsize;     /* required operand size, 0 for any */
    uint8_t addrsize;   /* required address size, 0 for any */
    bool no_lock;       /* not with a LOCK prefix */
    uint32_t operand0;  /* the kinds operand 0 may have (0: any) */
    uint32_t operand1;  /* the kinds operand 1 may have (0: any) */
};

/* the shapes fast_forms.def names. The 32-bit forms that touch no memory, no stack and no
 * EIP apply in 64-bit mode too (a 32-bit register write zero-extends there as everywhere);
 * those with addresses, the stack or branches are 16/32-bit only, and 64-bit mode has its own
 * (64-bit operands, addresses and RIP). Byte forms stay legacy: REX changes what registers
 * 4-7 name. */
#define MODES_LEGACY ((1u << X86_MODE_16) | (1u << X86_MODE_32))
#define MODES_ALL (MODES_LEGACY | (1u << X86_MODE_64))
#define MODE_LONG (1u << X86_MODE_64)
#define SHAPE_RR32 { MODES_ALL, 4, 0, true, REGISTER | KIND(ACC), REGISTER }
#define SHAPE_RI32 { MODES_ALL, 4, 0, true, REGISTER | KIND(ACC), KIND(IMM) }
#define SHAPE_LOAD32 { MODES_LEGACY, 4, 0, false, KIND(REG), MEM_RM }
#define SHAPE_STORE32 { MODES_LEGACY, 4, 0, false, MEM_RM, KIND(REG) }
#define SHAPE_MR32 { MODES_LEGACY, 4, 4, true, MEM_RM, KIND(REG) }
#define SHAPE_RM32 { MODES_LEGACY, 4, 4, true, KIND(REG), MEM_RM }
#define SHAPE_RI8 { MODES_LEGACY, 1, 0, false, REGISTER, KIND(IMM) }
#define SHAPE_REG32 { MODES_ALL, 4, 0, false, REGISTER, 0 }
#define SHAPE_SHIFT32 { MODES_ALL, 4, 0, false, REGISTER, KIND(IMM) | KIND(ONE) }
#define SHAPE_ADDR32 { MODES_LEGACY, 4, 4, false, 0, 0 }
#define SHAPE_R32 { MODES_LEGACY, 4, 0, false, KIND(REG), 0 }
#define SHAPE_OPSIZE32 { MODES_LEGACY, 4, 0, false, 0, 0 }
#define SHAPE_REL32 { MODES_LEGACY, 4, 0, false, KIND(REL), 0 }
#define SHAPE_NEAR_RET32 { MODES_LEGACY, 4, 0, false, KIND(NONE), 0 }
/* 64-bit mode: 64-bit operands, 64-bit addresses (67 keeps the general handler) */
#define SHAPE_RR64 { MODE_LONG, 8, 0, true, REGISTER | KIND(ACC), REGISTER }
#define SHAPE_RI64 { MODE_LONG, 8, 0, true, REGISTER | KIND(ACC), KIND(IMM) }
#define SHAPE_LOAD64 { MODE_LONG, 8, 8, false, KIND(REG), MEM_RM }
#define SHAPE_STORE64 { MODE_LONG, 8, 8, false, MEM_RM, KIND(REG) }
#define SHAPE_LOAD32L { MODE_LONG, 4, 8, false, KIND(REG), MEM_RM }
#define SHAPE_STORE32L { MODE_LONG, 4, 8, false, MEM_RM, KIND(REG) }
#define SHAPE_MR64 { MODE_LONG, 8, 8, true, MEM_RM, KIND(REG) }
#define SHAPE_MR32L { MODE_LONG, 4, 8, true, MEM_RM, KIND(REG) }
#define SHAPE_RM32L { MODE_LONG, 4, 8, true, KIND(REG), MEM_RM }
#define SHAPE_RI8L { MODE_LONG, 1, 0, false, REGISTER, KIND(IMM) }
#define SHAPE_RM64 { MODE_LONG, 8, 8, true, KIND(REG), MEM_RM }
#define SHAPE_REG64 { MODE_LONG, 8, 0, false, REGISTER, 0 }
#define SHAPE_SHIFT64 { MODE_LONG, 8, 0, false, REGISTER, KIND(IMM) | KIND(ONE) }
#define SHAPE_ADDR64 { MODE_LONG, 8, 8, false, 0, 0 }
#define SHAPE_ADDR32L { MODE_LONG, 4, 8, false, 0, 0 }
#define SHAPE_R64 { MODE_LONG, 8, 0, false, KIND(REG), 0 }
#define SHAPE_OPSIZE64 { MODE_LONG, 8, 0, false, 0, 0 }
#define SHAPE_REL64 { MODE_LONG, 8, 0, false, KIND(REL), 0 }
#define SHAPE_NEAR_RET64 { MODE_LONG, 8, 0, false, KIND(NONE), 0 }

static const struct fast_rule {
    uint16_t mnemonic;
    uint8_t form;
    struct shape shape;
} fast_rules[] = {
#define FAST(NAME, name, mnemonic, shape) { X86_MN_##mnemonic, X86_FAST_##NAME, SHAPE_##shape },
#include "fast_forms.def"
#undef FAST
};

static uint32_t operand_kind(const struct x86_insn *insn, unsigned i)
{
    uint8_t k = insn->operand[i];
    return k == X86_OPK_RM && insn->mod != 3 ? MEM_RM : 1u << k;
}

static bool has_shape(const struct x86_insn *insn, const struct shape *s)
{
    return ((s->modes >> insn->mode) & 1) && (!s->opsize || insn->opsize == s->opsize) &&
           (!s->addrsize || insn->addrsize == s->addrsize) &&
           (!s->no_lock || !(insn->prefixes & X86_PFX_LOCK)) &&
           (!s->operand0 || (operand_kind(insn, 0) & s->operand0)) &&
           (!s->operand1 || (operand_kind(insn, 1) & s->operand1));
}

/* The fast form for this instruction: the first row of its mnemonic whose shape it has */
uint8_t x86_exec_fast_op(const struct x86_insn *insn)
{
    for (size_t i = 0; i < sizeof(fast_rules) / sizeof(fast_rules[0]); i++)
        if (fast_rules[i].mnemonic == insn->mnemonic && has_shape(insn, &fast_rules[i].shape))
            return fast_rules[i].form;
    return X86_FAST_NONE;
}

/* each fast form as a handler */
#define FAST(NAME, name, mnemonic, shape) \
    static X86_HANDLER(fast_##name) { x86_fast_##name(cpu, insn); }
#include "fast_forms.def"
#undef FAST

static const x86_exec_fn fast_handlers[X86_FAST_COUNT] = {
#define FAST(NAME, name, mnemonic, shape) [X86_FAST_##NAME] = fast_##name,
#include "fast_forms.def"
#undef FAST
};

/* 64-bit mode's handlers (mnemonics64.def); #UD for every mnemonic it does not list */
#define E64(name, handler) void x86_exec64_##handler(struct x86_cpu *cpu, const struct x86_insn *insn);
#define SAME(name, handler)
#include "mnemonics64.def"
#undef E64
#undef SAME
static const x86_exec_fn handlers64[X86_MN_COUNT] = {
#define E64(name, handler) [X86_MN_##name] = x86_exec64_##handler,
#define SAME(name, handler) [X86_MN_##name] = x86_exec_##handler,
#include "mnemonics64.def"
#undef E64
#undef SAME
    /* the SIMD handlers work in every mode (simd.h computes their addresses) */
#define SIMD_MN(name, text, handler, feature) [X86_MN_##name] = x86_exec_##handler,
#include "simd.def"
};

bool x86_exec_in_64bit_mode(unsigned mnemonic)
{
    return mnemonic < X86_MN_COUNT && handlers64[mnemonic] != NULL;
}

x86_exec_fn x86_exec_lookup(const struct x86_insn *insn)
{
    if (insn->mnemonic >= X86_MN_COUNT)
        return x86_exec_ud;
    uint8_t fast = x86_exec_fast_op(insn);
    if (fast)
        return fast_handlers[fast];
    /* 64-bit mode: its own handlers (mnemonics64.def), #UD for the rest */
    if (insn->mode == X86_MODE_64)
        return handlers64[insn->mnemonic] ? handlers64[insn->mnemonic] : x86_exec_ud;
    return handlers[insn->mnemonic];
}
