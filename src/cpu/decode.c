/* The table-driven decoder: prefixes, opcode maps (opcodes_primary.def, opcodes_0f.def,
 * groups.def), ModRM/SIB/displacement, immediates, in 16-, 32- and 64-bit modes
 * (SDM Vol. 2 chapter 2 and Appendix A). Pure: no machine state.
 */
#include <stdbool.h>
#include <string.h>

#include "cpu/insn.h"
#include "cpu/opcodes.h"

/* ------------------------------------------------------------------ mnemonics */

static const char *const mnemonic_names[X86_MN_COUNT] = {
#define X(name, text, handler, properties) [X86_MN_##name] = text,
#include "mnemonics.def"
#undef X
};

const char *x86_mnemonic_name(unsigned mnemonic)
{
    return mnemonic < X86_MN_COUNT ? mnemonic_names[mnemonic] : "?";
}

/* ------------------------------------------------------------------ the tables */

enum opcode_group {
#define GROUP(name) GRP_##name,
#define ROW(...)
#define END
#define GROUP_R(name)
#define RROW(...)
#define END_R
#include "groups.def"
#undef GROUP
#undef ROW
#undef END
#undef GROUP_R
#undef RROW
#undef END_R
    GROUP_COUNT
};

#define ROW_OF(mn, a, b, c, fl, cost) { X86_MN_##mn, { a, b, c }, (fl), X86_COST_##cost, 0 }

static const struct opcode_row group_rows[GROUP_COUNT][8] = {
#define GROUP(name) [GRP_##name] = {
#define ROW(mn, a, b, c, fl, cost) ROW_OF(mn, a, b, c, fl, cost),
#define END },
#define GROUP_R(name)
#define RROW(...)
#define END_R
#include "groups.def"
#undef GROUP
#undef ROW
#undef END
#undef GROUP_R
#undef RROW
#undef END_R
};

static const struct opcode_row group_register_rows[GROUP_COUNT][64] = {
#define GROUP(name)
#define ROW(...)
#define END
#define GROUP_R(name) [GRP_##name] = {
#define RROW(i, mn, a, fl, cost) [i] = ROW_OF(mn, a, ____, ____, fl, cost),
#define END_R },
#include "groups.def"
#undef GROUP
#undef ROW
#undef END
#undef GROUP_R
#undef RROW
#undef END_R
};

#define OP(code, mn, a, b, c, fl, cost) [code] = ROW_OF(mn, a, b, c, fl, cost),
#define GRP(code, g, fl) [code] = { X86_MN_INVALID, { 0, 0, 0 }, (fl) | F_GROUP | F_MODRM, \
                                    X86_COST_SIMPLE, GRP_##g },
#define EIGHT0F(base, MN, a, b, fl, cost) \
    OP(base + 0, MN, a, b, ____, fl, cost) OP(base + 1, MN, a, b, ____, fl, cost) \
    OP(base + 2, MN, a, b, ____, fl, cost) OP(base + 3, MN, a, b, ____, fl, cost) \
    OP(base + 4, MN, a, b, ____, fl, cost) OP(base + 5, MN, a, b, ____, fl, cost) \
    OP(base + 6, MN, a, b, ____, fl, cost) OP(base + 7, MN, a, b, ____, fl, cost)
static const struct opcode_row primary_map[256] = {
#include "opcodes_primary.def"
};
static const struct opcode_row map_0f[256] = {
#include "opcodes_0f.def"
};
#undef OP
#undef GRP
#undef EIGHT0F

/* SSE-space encodings: which mandatory prefix (none, 66, F3, F2) makes an instruction, and
 * whether its ModRM may name memory, a register, or both (SDM Vol. 2 Tables ). Two
 * bits per prefix: bit 2p = valid with a memory operand, bit 2p+1 = valid with a register.
 * The table gives the decoder their lengths and validity; simd.def says which of them execute
 * (the rest, and any of an extension config.isa does not offer, are #UD). A zero entry: not an
 * SSE-space opcode (the opcode table decides). */
#define P_N 0x03u  /* no prefix */
#define P_NM 0x01u
#define P_NR 0x02u
#define P_O 0x0Cu  /* 66 */
#define P_OM 0x04u
#define P_OR 0x08u
#define P_S 0x30u  /* F3 */
#define P_SR 0x20u
#define P_D 0xC0u  /* F2 */
#define P_DM 0x40u
#define P_DR 0x80u
#define P_ALL (P_N | P_O | P_S | P_D)
#define P_RANGE(first, last, v) [first ... last] = (v)
static const uint8_t sse_0f[256] = {
    [0x10] = P_ALL, [0x11] = P_ALL, [0x12] = P_N | P_OM | P_S | P_D, [0x13] = P_NM | P_OM,
    [0x14] = P_N | P_O, [0x15] = P_N | P_O, [0x16] = P_N | P_OM | P_S, [0x17] = P_NM | P_OM,
    [0x28] = P_N | P_O, [0x29] = P_N | P_O, [0x2A] = P_ALL, [0x2B] = P_NM | P_OM,
    [0x2C] = P_ALL, [0x2D] = P_ALL, [0x2E] = P_N | P_O, [0x2F] = P_N | P_O,
    [0x50] = P_NR | P_OR, [0x51] = P_ALL, [0x52] = P_N | P_S, [0x53] = P_N | P_S,
    P_RANGE(0x54, 0x57, P_N | P_O), P_RANGE(0x58, 0x5A, P_ALL), [0x5B] = P_N | P_O | P_S,
    P_RANGE(0x5C, 0x5F, P_ALL), P_RANGE(0x60, 0x6B, P_N | P_O), [0x6C] = P_O, [0x6D] = P_O,
    [0x6E] = P_N | P_O, [0x6F] = P_N | P_O | P_S, [0x70] = P_ALL,
    P_RANGE(0x71, 0x73, P_NR | P_OR), P_RANGE(0x74, 0x76, P_N | P_O),
    [0x78] = P_N, [0x79] = P_N, /* vmread/vmwrite */
    [0x7C] = P_O | P_D, [0x7D] = P_O | P_D, [0x7E] = P_N | P_O | P_S, [0x7F] = P_N | P_O | P_S,
    [0xB8] = P_S, /* popcnt (F3 only; without a prefix jmpe, refused above) */
    [0xC2] = P_ALL, [0xC3] = P_NM, [0xC4] = P_N | P_O, [0xC5] = P_NR | P_OR, [0xC6] = P_N | P_O,
    [0xD0] = P_O | P_D, P_RANGE(0xD1, 0xD5, P_N | P_O), [0xD6] = P_O | P_SR | P_DR,
    [0xD7] = P_NR | P_OR, P_RANGE(0xD8, 0xDF, P_N | P_O), P_RANGE(0xE0, 0xE5, P_N | P_O),
    [0xE6] = P_O | P_S | P_D, [0xE7] = P_NM | P_OM, P_RANGE(0xE8, 0xEF, P_N | P_O),
    [0xF0] = P_DM, P_RANGE(0xF1, 0xF6, P_N | P_O), [0xF7] = P_NR | P_OR,
    P_RANGE(0xF8, 0xFE, P_N | P_O),
};
/* 0F 38 xx (ModRM) and 0F 3A xx (ModRM, imm8): zero means no such instruction */
static const uint8_t sse_0f38[256] = {
    P_RANGE(0x00, 0x0B, P_N | P_O), [0x10] = P_O, [0x14] = P_O, [0x15] = P_O, [0x17] = P_O,
    P_RANGE(0x1C, 0x1E, P_N | P_O), P_RANGE(0x20, 0x25, P_O), [0x28] = P_O, [0x29] = P_O,
    [0x2A] = P_OM, [0x2B] = P_O, P_RANGE(0x30, 0x35, P_O), P_RANGE(0x37, 0x41, P_O),
    P_RANGE(0x80, 0x82, P_OM), P_RANGE(0xC8, 0xCD, P_N), P_RANGE(0xDB, 0xDF, P_O),
    [0xF0] = P_NM | P_OM | P_D, [0xF1] = P_NM | P_OM | P_D, [0xF6] = P_O | P_S,
};
static const uint8_t sse_0f3a[256] = {
    P_RANGE(0x08, 0x0E, P_O), [0x0F] = P_N | P_O, P_RANGE(0x14, 0x17, P_O),
    P_RANGE(0x20, 0x22, P_O), P_RANGE(0x40, 0x42, P_O), [0x44] = P_O, P_RANGE(0x60, 0x63, P_O),
    [0xCC] = P_N, [0xDF] = P_O,
};

/* Is an SSE-space encoding valid with these prefixes and this ModRM? The mandatory prefix is
 * the last F2/F3 if the opcode has a form for it, else 66, else none (SDM Vol. 2 2.1.2): an F2
 * or F3 the opcode does not use is ignored, as processors (and Capstone) do. */
static unsigned sse_prefix(uint8_t mask, uint16_t prefixes)
{
    unsigned p = (prefixes & X86_PFX_OPSIZE) ? 1 : 0;
    /* a 66 the opcode has no form for is ignored too (66 0F 78/79 are AMD's SSE4a extrq and
     * insertq; on GenuineIntel they are vmread/vmwrite) */
    if (p == 1 && !((mask >> 2) & 3))
        p = 0;
    unsigned rep = (prefixes & X86_PFX_REP) ? 2 : (prefixes & X86_PFX_REPNE) ? 3 : 0;
    if (rep && ((mask >> (2 * rep)) & 3))
        p = rep;
    return p;
}
static bool sse_form_valid(uint8_t mask, uint16_t prefixes, unsigned mod)
{
    return (mask >> (2 * sse_prefix(mask, prefixes) + (mod == 3 ? 1 : 0))) & 1;
}

/* The SIMD instructions executed (simd.def): by map (0F, 0F 38, 0F 3A), opcode and mandatory
 * prefix (sse_prefix: 0 none, 1 66, 2 F3, 3 F2); 0 (X86_MN_INVALID) where simd.def has none,
 * which stays UNIMPLEMENTED (#UD) */
enum { SIMD_MAP_0F, SIMD_MAP_0F38, SIMD_MAP_0F3A };
enum { SIMD_PFX_NP, SIMD_PFX_P66, SIMD_PFX_PF3, SIMD_PFX_PF2 };
static const uint16_t simd_mnemonics[3][256][4] = {
#define SIMD_OP(name, map, opcode, prefix) [SIMD_MAP_##map][opcode][SIMD_PFX_##prefix] = X86_MN_##name,
#include "simd.def"
};
_Static_assert(X86_MN_INVALID == 0, "0 means no SIMD row");

/* x87 escapes D8-DF (SDM Vol. 2 Tables ): which ModRM.mod == 3 bytes C0-FF and
 * which memory forms /0-/7 are instructions. The register-form aliases real processors accept
 * (D9 D8-DF fstp1, DD C8-CF fxch4, DE D0-D7 fcomp5, DF C8-DF fxch7/fstp8/fstp9) count as valid. */
static const uint64_t x87_register_forms[8] = {
    0xFFFFFFFFFFFFFFFFull, 0xFFFF7F33FF01FFFFull, 0x00000200FFFFFFFFull, 0x00FFFF1FFFFFFFFFull,
    0xFFFFFFFFFFFFFFFFull, 0x0000FFFFFFFFFFFFull, 0xFFFFFFFF02FFFFFFull, 0x00FFFF01FFFFFFFFull,
};
static const uint8_t x87_memory_forms[8] = { 0xFF, 0xFD, 0xFF, 0xAF, 0xFF, 0xDF, 0xFF, 0xFF };

/* ------------------------------------------------------------------ decoding */

struct cursor {
    const uint8_t *bytes;
    size_t available;
    size_t at;
    bool truncated;
};

static uint8_t next_byte(struct cursor *c)
{
    if (c->at >= c->available) {
        c->truncated = true;
        c->at++;
        return 0;
    }
    return c->bytes[c->at++];
}

static uint64_t next_le(struct cursor *c, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)next_byte(c) << (8 * i);
    return v;
}

static int64_t sign_extend(uint64_t v, unsigned size)
{
    unsigned shift = 64 - 8 * size;
    return (int64_t)(v << shift) >> shift;
}

/* ModRM addressing (SDM Vol. 2 Tables 2-1 to 2-3): fills base/index/scale/disp/seg. */
static void decode_memory_operand(struct cursor *c, struct x86_insn *insn, unsigned rex)
{
    unsigned mod = insn->mod, rm = insn->rm & 7;
    insn->base = X86_REG_NONE;
    insn->index = X86_REG_NONE;
    insn->scale = 0;
    insn->disp = 0;
    uint8_t default_seg = X86_SEG_DS;
    if (insn->addrsize == 2) {
        /* 16-bit forms: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 when mod 0), BX */
        static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
        static const uint8_t index16[8] = { 6, 7, 6, 7, X86_REG_NONE, X86_REG_NONE,
                                            X86_REG_NONE, X86_REG_NONE };
        if (mod == 0 && rm == 6) {
            insn->disp = (int32_t)(uint16_t)next_le(c, 2);
        } else {
            insn->base = base16[rm];
            insn->index = index16[rm];
            if (rm == 2 || rm == 3 || rm == 6)
                default_seg = X86_SEG_SS;
            if (mod == 1)
                insn->disp = (int32_t)sign_extend(next_byte(c), 1);
            else if (mod == 2)
                insn->disp = (int32_t)(uint16_t)next_le(c, 2);
        }
    } else {
        unsigned base_reg;
        if (rm == 4) {
            uint8_t sib = next_byte(c);
            unsigned index = ((sib >> 3) & 7) | ((rex & 2) << 2);
            base_reg = (sib & 7) | ((rex & 1) << 3);
            insn->scale = sib >> 6;
            if (index != 4)
                insn->index = (uint8_t)index;
            if ((sib & 7) == 5 && mod == 0) {
                insn->disp = (int32_t)next_le(c, 4);
            } else {
                insn->base = (uint8_t)base_reg;
            }
        } else if (rm == 5 && mod == 0) {
            insn->disp = (int32_t)next_le(c, 4);
            if (insn->mode == X86_MODE_64)
                insn->rip_relative = 1;
        } else {
            insn->base = (uint8_t)(rm | ((rex & 1) << 3));
        }
        if (insn->base == 4 || insn->base == 5)
            default_seg = X86_SEG_SS; /* ESP/EBP-based (not R12/R13) */
        if (mod == 1)
            insn->disp = (int32_t)sign_extend(next_byte(c), 1);
        else if (mod == 2)
            insn->disp = (int32_t)next_le(c, 4);
    }
    if (!(insn->prefixes & X86_PFX_SEG))
        insn->seg = default_seg;
}

static unsigned operand_size_of(uint8_t spec, unsigned opsize)
{
    switch (SPEC_SIZE(spec)) {
    case Z_B: return 1;
    case Z_W: return 2;
    case Z_D: return 4;
    case Z_Z: return opsize == 2 ? 2 : 4;
    case Z_V: return opsize;
    default: return 0;
    }
}

static bool needs_modrm(const struct opcode_row *row)
{
    if (row->flags & (F_MODRM | F_X87))
        return true;
    for (unsigned i = 0; i < 3; i++) {
        switch (SPEC_KIND(row->operand[i])) {
        case K_E: case K_M: case K_R: case K_G: case K_S: case K_C: case K_D:
            return true;
        default:
            break;
        }
    }
    return false;
}

enum x86_decode_status x86_decode(const uint8_t *bytes, size_t available, enum x86_mode mode,
                                  struct x86_insn *out)
{
    struct x86_insn insn;
    memset(&insn, 0, sizeof(insn));
    insn.mode = (uint8_t)mode;
    insn.seg = X86_SEG_DS;
    insn.base = insn.index = X86_REG_NONE;
    struct cursor c = { bytes, available, 0, false };
    unsigned rex = 0;
    enum x86_decode_status status = X86_DECODE_OK;

    /* prefixes: any order, any number, until the 15-byte limit */
    uint8_t b;
    for (;;) {
        if (c.at == X86_MAX_INSN_LENGTH)
            goto too_long; /* prefixes alone reach the 15-byte limit */
        b = next_byte(&c);
        if (c.truncated)
            goto truncated;
        switch (b) {
        /* a REX prefix counts only right before the opcode: any legacy prefix cancels it */
        case 0xF0: insn.prefixes |= X86_PFX_LOCK; rex = 0; continue;
        /* F2 and F3: the last one wins (SDM Vol. 2 2.1.1, group 1) */
        case 0xF2: insn.prefixes = (insn.prefixes & ~X86_PFX_REP) | X86_PFX_REPNE; rex = 0; continue;
        case 0xF3: insn.prefixes = (insn.prefixes & ~X86_PFX_REPNE) | X86_PFX_REP; rex = 0; continue;
        case 0x66: insn.prefixes |= X86_PFX_OPSIZE; rex = 0; continue;
        case 0x67: insn.prefixes |= X86_PFX_ADDRSIZE; rex = 0; continue;
        case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65: {
            /* in 64-bit mode ES/CS/SS/DS overrides are ignored (SDM Vol. 1 3.3.7.1) */
            static const uint8_t seg_of[] = { [0x26 & 0x3F] = X86_SEG_ES, [0x2E & 0x3F] = X86_SEG_CS,
                                              [0x36 & 0x3F] = X86_SEG_SS, [0x3E & 0x3F] = X86_SEG_DS,
                                              [0x64 & 0x3F] = X86_SEG_FS, [0x65 & 0x3F] = X86_SEG_GS };
            if (mode != X86_MODE_64 || b == 0x64 || b == 0x65) {
                insn.seg = seg_of[b & 0x3F];
                insn.prefixes |= X86_PFX_SEG;
            }
            rex = 0;
            continue;
        }
        default:
            break;
        }
        if (mode == X86_MODE_64 && (b & 0xF0) == 0x40) {
            rex = b; /* only effective if it is the last prefix */
            continue;
        }
        break;
    }
    if (rex) {
        insn.prefixes |= X86_PFX_REX;
        if (rex & 8)
            insn.prefixes |= X86_PFX_REX_W;
    }

    /* operand and address size (SDM Vol. 1 3.6, Vol. 2 2.2.1.2) */
    unsigned opsize, addrsize;
    bool p66 = insn.prefixes & X86_PFX_OPSIZE, p67 = insn.prefixes & X86_PFX_ADDRSIZE;
    if (mode == X86_MODE_16) {
        opsize = p66 ? 4 : 2;
        addrsize = p67 ? 4 : 2;
    } else if (mode == X86_MODE_32) {
        opsize = p66 ? 2 : 4;
        addrsize = p67 ? 2 : 4;
    } else {
        opsize = p66 ? 2 : 4;
        addrsize = p67 ? 4 : 8;
    }

    /* opcode */
    const struct opcode_row *row;
    struct opcode_row synthetic;
    uint8_t opcode = b;
    insn.map = X86_MAP_PRIMARY;
    if (b == 0x0F) {
        opcode = next_byte(&c);
        if (c.truncated)
            goto truncated;
        if (opcode == 0x38 || opcode == 0x3A) {
            insn.map = opcode == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            uint8_t op3 = next_byte(&c);
            if (c.truncated)
                goto truncated;
            bool ok = (insn.map == X86_MAP_0F38 ? sse_0f38 : sse_0f3a)[op3] != 0;
            memset(&synthetic, 0, sizeof(synthetic));
            synthetic.mnemonic = ok ? X86_MN_UNIMPLEMENTED : X86_MN_INVALID;
            synthetic.flags = F_MODRM | (insn.map == X86_MAP_0F3A ? F_IMM8 : 0);
            synthetic.cost = X86_COST_SIMPLE;
            row = &synthetic;
            opcode = op3;
        } else {
            insn.map = X86_MAP_0F;
            row = &map_0f[opcode];
        }
    } else {
        row = &primary_map[opcode];
    }
    insn.opcode = opcode;

    /* opcodes whose meaning depends on the mode or on a prefix */
    if (insn.map == X86_MAP_PRIMARY) {
        if (mode == X86_MODE_64 && opcode == 0x63) {
            static const struct opcode_row movsxd = ROW_OF(MOVSXD, Gv, Ed, ____, 0, SIMPLE);
            row = &movsxd;
        } else if ((opcode == 0xC4 || opcode == 0xC5 || opcode == 0x62) &&
                   (mode == X86_MODE_64 || (c.at < available && (bytes[c.at] & 0xC0) == 0xC0))) {
            /* VEX (C4/C5) and EVEX (62) prefixes: AVX is not implemented (docs/isa.md) */
            insn.length = (uint8_t)c.at;
            status = X86_DECODE_INVALID;
            goto done_invalid;
        } else if (opcode == 0x90 && (insn.prefixes & X86_PFX_REP)) {
            static const struct opcode_row pause = ROW_OF(PAUSE, ____, ____, ____, 0, SIMPLE);
            row = &pause;
        } else if (opcode == 0x90 && (rex & 1)) {
            static const struct opcode_row xchg_r8 = ROW_OF(XCHG, Zv, eAX, ____, 0, SIMPLE);
            row = &xchg_r8;
        }
    } else if (insn.map == X86_MAP_0F && opcode == 0xB8 && !(insn.prefixes & X86_PFX_REP)) {
        insn.length = (uint8_t)c.at;
        status = X86_DECODE_INVALID; /* jmpe (IA-64 only) */
        goto done_invalid;
    }

    /* ModRM, group selection */
    if (needs_modrm(row) || (row->flags & F_GROUP)) {
        uint8_t modrm = next_byte(&c);
        if (c.truncated)
            goto truncated;
        insn.has_modrm = 1;
        insn.mod = modrm >> 6;
        insn.reg = (uint8_t)(((modrm >> 3) & 7) | ((rex & 4) << 1));
        insn.rm = (uint8_t)((modrm & 7) | ((rex & 1) << 3));
        if (insn.map == X86_MAP_PRIMARY && (opcode == 0xC6 || opcode == 0xC7) && modrm == 0xF8) {
            /* xabort imm8 / xbegin rel (RTM): not implemented, decoded for their length */
            static const struct opcode_row xabort = ROW_OF(UNIMPLEMENTED, Ib, ____, ____, 0, SYSTEM);
            static const struct opcode_row xbegin = ROW_OF(UNIMPLEMENTED, Jz, ____, ____, 0, SYSTEM);
            row = opcode == 0xC6 ? &xabort : &xbegin;
        } else if (row->flags & F_GROUP) {
            unsigned g = row->group;
            uint16_t map_flags = row->flags;
            if ((map_flags & F_REG3) && insn.mod == 3)
                row = &group_register_rows[g][((modrm >> 3) & 7) * 8 + (modrm & 7)];
            else
                row = &group_rows[g][(modrm >> 3) & 7];
            if (map_flags & F_I64)
                synthetic = *row, synthetic.flags |= F_I64, row = &synthetic;
            /* the XSAVE family is NP 0F AE /4-/6 and NP 0F C7 /4 (SDM Vol. 2 XSAVE...): with
             * 66, F3 or F2 these are other instructions (66 0F AE /6 clwb, F3 0F AE /4
             * ptwrite, ...), not executed */
            if (insn.map == X86_MAP_0F && (row->mnemonic == X86_MN_XSAVE ||
                                           row->mnemonic == X86_MN_XRSTOR ||
                                           row->mnemonic == X86_MN_XSAVEOPT ||
                                           row->mnemonic == X86_MN_XSAVEC) &&
                (insn.prefixes & (X86_PFX_OPSIZE | X86_PFX_REP | X86_PFX_REPNE)))
                synthetic = *row, synthetic.mnemonic = X86_MN_UNIMPLEMENTED, row = &synthetic;
        }
    }
    if (row->mnemonic == X86_MN_INVALID || (row->flags & F_INVALID))
        goto invalid_after_modrm;
    if (insn.has_modrm && insn.map != X86_MAP_PRIMARY) {
        uint8_t mask = insn.map == X86_MAP_0F ? sse_0f[opcode]
                     : insn.map == X86_MAP_0F38 ? sse_0f38[opcode] : sse_0f3a[opcode];
        if (mask && !sse_form_valid(mask, insn.prefixes, insn.mod))
            goto invalid_after_modrm;
        if (mask && row->mnemonic == X86_MN_UNIMPLEMENTED) {
            uint16_t simd = simd_mnemonics[insn.map - X86_MAP_0F][opcode]
                                          [sse_prefix(mask, insn.prefixes)];
            if (simd) {
                /* one encoding, two names: REX.W makes pextrd/pinsrd the quadword forms */
                if ((rex & 8) && simd == X86_MN_PEXTRD)
                    simd = X86_MN_PEXTRQ;
                else if ((rex & 8) && simd == X86_MN_PINSRD)
                    simd = X86_MN_PINSRQ;
                synthetic = *row;
                synthetic.mnemonic = simd;
                row = &synthetic;
            }
        }
        if (insn.map == X86_MAP_0F && opcode >= 0x71 && opcode <= 0x73) {
            /* groups 12-14: shifts by imm8; /2 /4 /6 (0F 71, 72), /2 /6 and 66-only /3 /7
             * (0F 73) */
            unsigned r = insn.reg & 7;
            bool ok = opcode == 0x73 ? (r == 2 || r == 6 || ((r == 3 || r == 7) &&
                                                             (insn.prefixes & X86_PFX_OPSIZE)))
                                     : (r == 2 || r == 4 || r == 6);
            if (!ok)
                goto invalid_after_modrm;
        }
    }
    if (row->flags & F_X87) {
        unsigned escape = opcode - 0xD8;
        bool valid = insn.mod == 3
                         ? (x87_register_forms[escape] >> ((insn.reg & 7) * 8 + (insn.rm & 7))) & 1
                         : (x87_memory_forms[escape] >> (insn.reg & 7)) & 1;
        if (!valid)
            goto invalid_after_modrm;
    }
    if (mode == X86_MODE_64 && (row->flags & F_I64))
        goto invalid_after_modrm;
    if (mode != X86_MODE_64 && (row->flags & F_O64))
        goto invalid_after_modrm;
    if (mode == X86_MODE_64) {
        if (rex & 8)
            opsize = 8;
        else if (row->flags & F_F64)
            opsize = 8;
        else if ((row->flags & F_D64) && !p66)
            opsize = 8;
    }
    insn.opsize = (uint8_t)opsize;
    insn.addrsize = (uint8_t)addrsize;
    insn.mnemonic = row->mnemonic;
    insn.cost_class = row->cost;
    if (row->flags & F_COND)
        insn.cond = opcode & 0xF;

    /* memory operand */
    bool memory_form = insn.has_modrm && insn.mod != 3;
    bool register_only_rm = false;
    for (unsigned i = 0; i < 3; i++)
        if (SPEC_KIND(row->operand[i]) == K_R)
            register_only_rm = true;
    if (register_only_rm) {
        insn.mod = 3; /* mov to/from CRn/DRn: the mod bits are ignored (SDM Vol. 2 MOV CR) */
        memory_form = false;
    }
    if (memory_form)
        decode_memory_operand(&c, &insn, rex);
    else if (!(insn.prefixes & X86_PFX_SEG))
        insn.seg = X86_SEG_DS;
    if (c.truncated)
        goto truncated;
    for (unsigned i = 0; i < 3; i++) {
        unsigned k = SPEC_KIND(row->operand[i]);
        if (k == K_M && !memory_form)
            goto invalid_after_modrm;
    }
    if ((row->flags & F_MEMONLY) && !memory_form)
        goto invalid_after_modrm;
    if (row->mnemonic == X86_MN_LEA && !memory_form)
        goto invalid_after_modrm;

    /* operands and immediates, in encoding order */
    unsigned opsize_v = opsize;
    bool byte_op = false, sized = false;
    for (unsigned i = 0; i < 3; i++) {
        uint8_t spec = row->operand[i];
        unsigned k = SPEC_KIND(spec);
        unsigned size = operand_size_of(spec, opsize_v);
        uint8_t kind = X86_OPK_NONE;
        switch (k) {
        case K_NONE: break;
        case K_E: kind = X86_OPK_RM; break;
        case K_R: kind = X86_OPK_RM; break;
        case K_M: kind = X86_OPK_MEM; break;
        case K_G: kind = X86_OPK_REG; break;
        case K_S:
            kind = X86_OPK_SREG;
            if (insn.reg > 5) /* ES..GS only; with REX.R the field names none either */
                goto invalid_after_modrm;
            break;
        case K_C: kind = X86_OPK_CREG; break;
        case K_D: kind = X86_OPK_DREG; break;
        case K_I:
            kind = X86_OPK_IMM;
            if (SPEC_SIZE(spec) == Z_V && opsize_v == 8 && insn.map == X86_MAP_PRIMARY &&
                (opcode & 0xF8) == 0xB8) {
                insn.imm = next_le(&c, 8); /* mov r64, imm64 */
                insn.imm_size = 8;
            } else {
                unsigned n = SPEC_SIZE(spec) == Z_V ? (opsize_v == 2 ? 2 : 4) : size;
                insn.imm = next_le(&c, n);
                insn.imm_size = (uint8_t)n;
                if (n == 4 && opsize_v == 8)
                    insn.imm = (uint64_t)sign_extend(insn.imm, 4);
            }
            break;
        case K_IS:
            kind = X86_OPK_IMM;
            insn.imm = (uint64_t)sign_extend(next_byte(&c), 1);
            insn.imm_size = 1;
            break;
        case K_I2:
            kind = X86_OPK_IMM2;
            insn.imm2 = next_byte(&c);
            break;
        case K_J: {
            kind = X86_OPK_REL;
            unsigned n = SPEC_SIZE(spec) == Z_B ? 1 : (opsize_v == 2 ? 2 : 4);
            insn.imm = (uint64_t)sign_extend(next_le(&c, n), n);
            insn.imm_size = (uint8_t)n;
            break;
        }
        case K_A: {
            kind = X86_OPK_FARPTR;
            unsigned n = opsize_v == 2 ? 2 : 4;
            insn.imm = next_le(&c, n);
            insn.imm2 = (uint16_t)next_le(&c, 2);
            insn.imm_size = (uint8_t)n;
            break;
        }
        case K_O: {
            kind = X86_OPK_MOFFS;
            uint64_t offset = next_le(&c, addrsize);
            insn.disp = (int32_t)(uint32_t)offset;
            insn.imm = offset;
            break;
        }
        case K_ACC: kind = X86_OPK_ACC; break;
        case K_CL: kind = X86_OPK_CL; break;
        case K_ONE: kind = X86_OPK_ONE; break;
        case K_DX: kind = X86_OPK_DX; break;
        case K_X: kind = X86_OPK_STR_SRC; break;
        case K_Y: kind = X86_OPK_STR_DST; break;
        case K_Z:
            kind = X86_OPK_REG;
            insn.reg = (uint8_t)((opcode & 7) | ((rex & 1) << 3));
            break;
        case K_ST0: kind = X86_OPK_ST0; break;
        case K_STI: kind = X86_OPK_STI; break;
        }
        insn.operand[i] = kind;
        if (k == K_NONE || k == K_I || k == K_IS || k == K_I2 || k == K_J || k == K_ONE ||
            k == K_CL || k == K_DX)
            continue;
        /* the operand size is the first sized operand's: byte forms are 1 */
        if (!sized) {
            unsigned z = SPEC_SIZE(spec);
            if (z == Z_B) {
                byte_op = true;
                sized = true;
            } else if (z == Z_V || z == Z_Z) {
                sized = true;
            } else if (z == Z_W) {
                insn.opsize = 2;
                sized = true;
            } else if (z == Z_D && k != K_R) {
                insn.opsize = 4;
                sized = true;
            }
        }
    }
    if (byte_op)
        insn.opsize = 1;
    if (row->flags & F_IMM8) {
        insn.imm = next_byte(&c);
        insn.imm_size = 1;
    }
    /* operand-less push/pop of segment registers: the register is in the opcode */
    if ((insn.mnemonic == X86_MN_PUSH || insn.mnemonic == X86_MN_POP) &&
        insn.operand[0] == X86_OPK_NONE) {
        insn.operand[0] = X86_OPK_SREG;
        insn.reg = insn.map == X86_MAP_0F ? (opcode == 0xA0 || opcode == 0xA1 ? X86_SEG_FS : X86_SEG_GS)
                                          : (uint8_t)((opcode >> 3) & 3);
    }
    if (c.truncated)
        goto truncated;
    if (c.at > X86_MAX_INSN_LENGTH)
        goto too_long;

    /* LOCK: only with a lockable instruction and a memory destination (SDM Vol. 2 LOCK) */
    if ((insn.prefixes & X86_PFX_LOCK) && (!(row->flags & F_LOCK) || !memory_form))
        goto invalid_after_modrm;

    insn.length = (uint8_t)c.at;
    *out = insn;
    return X86_DECODE_OK;

invalid_after_modrm:
    insn.length = (uint8_t)(c.at > X86_MAX_INSN_LENGTH ? X86_MAX_INSN_LENGTH : c.at);
    status = X86_DECODE_INVALID;
done_invalid:
    if (c.at > X86_MAX_INSN_LENGTH)
        goto too_long;
    insn.mnemonic = X86_MN_INVALID;
    *out = insn;
    return status;
truncated:
    if (c.at > X86_MAX_INSN_LENGTH)
        goto too_long;
    insn.length = (uint8_t)(available > 15 ? 15 : available);
    *out = insn;
    return X86_DECODE_TRUNCATED;
too_long:
    insn.length = 15;
    insn.mnemonic = X86_MN_INVALID;
    *out = insn;
    return X86_DECODE_TOO_LONG;
}
