/* EFLAGS with lazy arithmetic flags.
 *
 * The common flag-setting operations (add, adc, sub, sbb, cmp, neg, logic, inc, dec) only
 * record their inputs and result in cpu->lazy; CF, PF, AF, ZF, SF and OF are computed when
 * something reads them (a jcc, pushf, lahf, an interrupt frame). Operations with more
 * complicated flags (shifts, rotates, multiply, BCD) compute them at once and store them in
 * cpu->eflags with lazy.op = LAZY_NONE. Flag definitions: SDM Vol. 1 3.4.3 and each
 * instruction's "Flags Affected" in Vol. 2.
 */
#include "cpu/exec.h"

static const uint8_t parity_table[256] = {
#define P2(n) n, n ^ 1, n ^ 1, n
#define P4(n) P2(n), P2(n ^ 1), P2(n ^ 1), P2(n)
#define P6(n) P4(n), P4(n ^ 1), P4(n ^ 1), P4(n)
    P6(1), P6(0), P6(0), P6(1)
#undef P2
#undef P4
#undef P6
};

/* by operand size: 1, 2, 4 or 8 bytes */
const uint64_t x86_lazy_masks[9] = {
    [1] = 0xFFu, [2] = 0xFFFFu, [4] = 0xFFFFFFFFu, [8] = ~(uint64_t)0,
};

bool x86_parity(uint32_t value)
{
    return parity_table[value & 0xFF];
}

/* The arithmetic flags of the recorded operation */
static uint32_t lazy_arith_flags(const struct x86_lazy_flags *l)
{
    unsigned size = l->size;
    uint64_t mask = x86_lazy_mask(size);
    uint64_t sign = x86_lazy_sign(size);
    uint64_t r = l->result & mask, a = l->src1 & mask, b = l->src2 & mask;
    uint32_t f = 0;
    switch (l->op) {
    case LAZY_ADD:
        if (r < a)
            f |= X86_FLAG_CF;
        if ((a ^ r) & (b ^ r) & sign)
            f |= X86_FLAG_OF;
        f |= (uint32_t)((a ^ b ^ r) & X86_FLAG_AF);
        break;
    case LAZY_ADC:
        if (l->aux ? r <= a : r < a)
            f |= X86_FLAG_CF;
        if ((a ^ r) & (b ^ r) & sign)
            f |= X86_FLAG_OF;
        f |= (uint32_t)((a ^ b ^ r) & X86_FLAG_AF);
        break;
    case LAZY_SUB:
        if (a < b)
            f |= X86_FLAG_CF;
        if ((a ^ b) & (a ^ r) & sign)
            f |= X86_FLAG_OF;
        f |= (uint32_t)((a ^ b ^ r) & X86_FLAG_AF);
        break;
    case LAZY_SBB:
        if (a < b || (l->aux && a == b))
            f |= X86_FLAG_CF;
        if ((a ^ b) & (a ^ r) & sign)
            f |= X86_FLAG_OF;
        f |= (uint32_t)((a ^ b ^ r) & X86_FLAG_AF);
        break;
    case LAZY_LOGIC:
        /* CF = OF = 0; AF is undefined: 0, as Intel processors leave it */
        break;
    case LAZY_INC:
        f |= l->aux & X86_FLAG_CF; /* INC and DEC keep CF */
        if (r == sign)
            f |= X86_FLAG_OF;
        if ((r & 0xF) == 0)
            f |= X86_FLAG_AF;
        break;
    case LAZY_DEC:
        f |= l->aux & X86_FLAG_CF;
        if (r == sign - 1)
            f |= X86_FLAG_OF;
        if ((r & 0xF) == 0xF)
            f |= X86_FLAG_AF;
        break;
    default:
        break;
    }
    if (r == 0)
        f |= X86_FLAG_ZF;
    if (r & sign)
        f |= X86_FLAG_SF;
    if (parity_table[r & 0xFF])
        f |= X86_FLAG_PF;
    return f;
}

void x86_flags_materialize(struct x86_cpu *cpu)
{
    if (cpu->lazy.op != LAZY_NONE) {
        cpu->eflags = (cpu->eflags & ~X86_FLAGS_ARITH) | lazy_arith_flags(&cpu->lazy);
        cpu->lazy.op = LAZY_NONE;
    }
}

uint32_t x86_get_eflags(struct x86_cpu *cpu)
{
    x86_flags_materialize(cpu);
    return cpu->eflags | X86_FLAG_FIXED1;
}

/* bits that exist in EFLAGS on this processor (no VME: VIF/VIP are kept but unused) */
#define EFLAGS_DEFINED (X86_FLAGS_ARITH | X86_FLAG_TF | X86_FLAG_IF | X86_FLAG_DF | \
                        X86_FLAG_IOPL | X86_FLAG_NT | X86_FLAG_RF | X86_FLAG_VM | X86_FLAG_AC | \
                        X86_FLAG_VIF | X86_FLAG_VIP | X86_FLAG_ID)

void x86_set_eflags(struct x86_cpu *cpu, uint32_t value, uint32_t mask)
{
    x86_flags_materialize(cpu);
    mask &= EFLAGS_DEFINED;
    uint32_t old = cpu->eflags;
    cpu->eflags = ((old & ~mask) | (value & mask)) | X86_FLAG_FIXED1;
    /* IRET or a task switch setting RF: the next instruction runs in the per-instruction loop,
     * which clears RF as it starts (the fast loop never runs with RF set) */
    if (((old ^ cpu->eflags) & (X86_FLAG_IF | X86_FLAG_TF | X86_FLAG_VM | X86_FLAG_AC)) ||
        (cpu->eflags & ~old & X86_FLAG_RF))
        x86_request_exit(cpu);
    if ((old ^ cpu->eflags) & X86_FLAG_AC)
        x86_update_alignment_check(cpu);
}

bool x86_condition(struct x86_cpu *cpu, unsigned cond)
{
    uint32_t f;
    /* the common case, a jcc right after cmp/sub/test: answer from the recorded operands */
    if (cpu->lazy.op == LAZY_SUB) {
        uint64_t mask = x86_lazy_mask(cpu->lazy.size);
        uint64_t a = cpu->lazy.src1 & mask, b = cpu->lazy.src2 & mask;
        unsigned shift = 64 - 8 * cpu->lazy.size; /* sign-extend from the operand size */
        int64_t sa = (int64_t)(a << shift) >> shift, sb = (int64_t)(b << shift) >> shift;
        switch (cond) {
        case 2: return a < b;                   /* B */
        case 3: return a >= b;                  /* AE */
        case 4: return a == b;                  /* E */
        case 5: return a != b;                  /* NE */
        case 6: return a <= b;                  /* BE */
        case 7: return a > b;                   /* A */
        case 12: return sa < sb;                /* L */
        case 13: return sa >= sb;               /* GE */
        case 14: return sa <= sb;               /* LE */
        case 15: return sa > sb;                /* G */
        default: break;
        }
    } else if (cpu->lazy.op >= LAZY_ADD && cond >= 4 && cond <= 9 && cond != 6 && cond != 7) {
        /* E, NE, S, NS after any recorded operation: ZF and SF come from the result alone */
        uint64_t r = cpu->lazy.result & x86_lazy_mask(cpu->lazy.size);
        switch (cond) {
        case 4: return r == 0;
        case 5: return r != 0;
        case 8: return (r & x86_lazy_sign(cpu->lazy.size)) != 0;
        default: return (r & x86_lazy_sign(cpu->lazy.size)) == 0;
        }
    }
    if (cpu->lazy.op == LAZY_LOGIC) {
        uint64_t r = cpu->lazy.result & x86_lazy_mask(cpu->lazy.size);
        bool sf = r & x86_lazy_sign(cpu->lazy.size);
        switch (cond) {
        case 4: return r == 0;
        case 5: return r != 0;
        case 8: return sf;
        case 9: return !sf;
        case 12: return sf;                     /* L: SF != OF, OF = 0 */
        case 13: return !sf;
        case 14: return r == 0 || sf;
        case 15: return r != 0 && !sf;
        default: break;
        }
    }
    f = x86_get_eflags(cpu);
    bool result;
    switch (cond >> 1) {
    case 0: result = f & X86_FLAG_OF; break;
    case 1: result = f & X86_FLAG_CF; break;
    case 2: result = f & X86_FLAG_ZF; break;
    case 3: result = f & (X86_FLAG_CF | X86_FLAG_ZF); break;
    case 4: result = f & X86_FLAG_SF; break;
    case 5: result = f & X86_FLAG_PF; break;
    case 6: result = !(f & X86_FLAG_SF) != !(f & X86_FLAG_OF); break;
    default: result = (f & X86_FLAG_ZF) || (!(f & X86_FLAG_SF) != !(f & X86_FLAG_OF)); break;
    }
    return (cond & 1) ? !result : result;
}
