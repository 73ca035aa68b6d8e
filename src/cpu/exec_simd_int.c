/* SSE-family integer and bitwise operations (simd.def): logic on 128 bits, SSE2's lane
 * arithmetic, compares, saturation, multiplies, averages, sums of differences, unpacks and
 * packs, shifts, shuffles and word inserts/extracts (SDM Vol. 2, each instruction's
 * "Operation"). The 128-bit forms take xmm/m128 sources aligned to 16 bytes (#GP(0)
 * otherwise: the legacy SSE forms require it). */
#include "cpu/simd.h"

static union x86_xmm source128(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return x86_simd_source(cpu, insn, 16, true);
}

X86_HANDLER(x86_exec_simd_logic)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = source128(cpu, insn), *a = x86_xmm_reg(cpu, insn);
    for (unsigned i = 0; i < 2; i++) {
        switch (insn->opcode) {
        case 0x54: case 0xDB: a->q[i] &= b.q[i]; break;
        case 0x55: case 0xDF: a->q[i] = ~a->q[i] & b.q[i]; break;
        case 0x56: case 0xEB: a->q[i] |= b.q[i]; break;
        default: a->q[i] ^= b.q[i]; break; /* 57, EF */
        }
    }
}

/* ------------------------------------------------------------------ lanes */

static int32_t sat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static int32_t sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
static uint32_t usat8(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : (uint32_t)v; }
static uint32_t usat16(int32_t v) { return v < 0 ? 0 : v > 65535 ? 65535 : (uint32_t)v; }

/* a shift count from the source's low quadword: counts past the element width give 0 (logical)
 * or the sign (arithmetic) */
static void shift_lanes(union x86_xmm *a, uint64_t count, unsigned width, int kind)
{
    unsigned lanes = 128 / width;
    for (unsigned i = 0; i < lanes; i++) {
        uint64_t v = width == 16 ? a->w[i] : width == 32 ? a->d[i] : a->q[i];
        uint64_t r;
        if (kind == 0) {                        /* logical right */
            r = count >= width ? 0 : v >> count;
        } else if (kind == 1) {                 /* arithmetic right */
            int64_t s = width == 16 ? (int16_t)v : width == 32 ? (int32_t)v : (int64_t)v;
            r = (uint64_t)(s >> (count >= width ? width - 1 : count));
        } else {                                /* left */
            r = count >= width ? 0 : v << count;
        }
        if (width == 16)
            a->w[i] = (uint16_t)r;
        else if (width == 32)
            a->d[i] = (uint32_t)r;
        else
            a->q[i] = r;
    }
}

static void pack(union x86_xmm *a, const union x86_xmm *b, uint8_t opcode)
{
    union x86_xmm r;
    if (opcode == 0x6B) { /* packssdw: dwords to signed-saturated words */
        for (unsigned i = 0; i < 4; i++) {
            r.w[i] = (uint16_t)sat16((int32_t)a->d[i]);
            r.w[i + 4] = (uint16_t)sat16((int32_t)b->d[i]);
        }
    } else {              /* packsswb (63), packuswb (67): words to bytes */
        for (unsigned i = 0; i < 8; i++) {
            int32_t x = (int16_t)a->w[i], y = (int16_t)b->w[i];
            r.b[i] = (uint8_t)(opcode == 0x63 ? (uint32_t)sat8(x) : usat8(x));
            r.b[i + 8] = (uint8_t)(opcode == 0x63 ? (uint32_t)sat8(y) : usat8(y));
        }
    }
    *a = r;
}

/* punpckl* / punpckh*: interleave the low or high halves' elements of size bytes */
static void unpack(union x86_xmm *a, const union x86_xmm *b, unsigned size, bool high)
{
    union x86_xmm r;
    unsigned n = 8 / size, from = high ? 8 : 0;
    for (unsigned i = 0; i < n; i++) {
        memcpy(r.b + 2 * i * size, a->b + from + i * size, size);
        memcpy(r.b + (2 * i + 1) * size, b->b + from + i * size, size);
    }
    *a = r;
}

X86_HANDLER(x86_exec_simd_lanes)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = source128(cpu, insn), *a = x86_xmm_reg(cpu, insn);
    switch (insn->opcode) {
    /* wrapping add and subtract */
    case 0xFC: for (unsigned i = 0; i < 16; i++) a->b[i] = (uint8_t)(a->b[i] + b.b[i]); break;
    case 0xFD: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)(a->w[i] + b.w[i]); break;
    case 0xFE: for (unsigned i = 0; i < 4; i++) a->d[i] += b.d[i]; break;
    case 0xD4: for (unsigned i = 0; i < 2; i++) a->q[i] += b.q[i]; break;
    case 0xF8: for (unsigned i = 0; i < 16; i++) a->b[i] = (uint8_t)(a->b[i] - b.b[i]); break;
    case 0xF9: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)(a->w[i] - b.w[i]); break;
    case 0xFA: for (unsigned i = 0; i < 4; i++) a->d[i] -= b.d[i]; break;
    case 0xFB: for (unsigned i = 0; i < 2; i++) a->q[i] -= b.q[i]; break;
    /* saturating */
    case 0xEC: for (unsigned i = 0; i < 16; i++) a->b[i] = (uint8_t)sat8((int8_t)a->b[i] + (int8_t)b.b[i]); break;
    case 0xED: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)sat16((int16_t)a->w[i] + (int16_t)b.w[i]); break;
    case 0xDC: for (unsigned i = 0; i < 16; i++) a->b[i] = (uint8_t)usat8(a->b[i] + b.b[i]); break;
    case 0xDD: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)usat16(a->w[i] + b.w[i]); break;
    case 0xE8: for (unsigned i = 0; i < 16; i++) a->b[i] = (uint8_t)sat8((int8_t)a->b[i] - (int8_t)b.b[i]); break;
    case 0xE9: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)sat16((int16_t)a->w[i] - (int16_t)b.w[i]); break;
    case 0xD8: for (unsigned i = 0; i < 16; i++) a->b[i] = (uint8_t)usat8(a->b[i] - b.b[i]); break;
    case 0xD9: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)usat16(a->w[i] - b.w[i]); break;
    /* compares: all ones where true */
    case 0x74: for (unsigned i = 0; i < 16; i++) a->b[i] = a->b[i] == b.b[i] ? 0xFF : 0; break;
    case 0x75: for (unsigned i = 0; i < 8; i++) a->w[i] = a->w[i] == b.w[i] ? 0xFFFF : 0; break;
    case 0x76: for (unsigned i = 0; i < 4; i++) a->d[i] = a->d[i] == b.d[i] ? ~0u : 0; break;
    case 0x64: for (unsigned i = 0; i < 16; i++) a->b[i] = (int8_t)a->b[i] > (int8_t)b.b[i] ? 0xFF : 0; break;
    case 0x65: for (unsigned i = 0; i < 8; i++) a->w[i] = (int16_t)a->w[i] > (int16_t)b.w[i] ? 0xFFFF : 0; break;
    case 0x66: for (unsigned i = 0; i < 4; i++) a->d[i] = (int32_t)a->d[i] > (int32_t)b.d[i] ? ~0u : 0; break;
    /* minimum, maximum, average (rounded up) */
    case 0xDA: for (unsigned i = 0; i < 16; i++) a->b[i] = a->b[i] < b.b[i] ? a->b[i] : b.b[i]; break;
    case 0xDE: for (unsigned i = 0; i < 16; i++) a->b[i] = a->b[i] > b.b[i] ? a->b[i] : b.b[i]; break;
    case 0xEA: for (unsigned i = 0; i < 8; i++) a->w[i] = (int16_t)a->w[i] < (int16_t)b.w[i] ? a->w[i] : b.w[i]; break;
    case 0xEE: for (unsigned i = 0; i < 8; i++) a->w[i] = (int16_t)a->w[i] > (int16_t)b.w[i] ? a->w[i] : b.w[i]; break;
    case 0xE0: for (unsigned i = 0; i < 16; i++) a->b[i] = (uint8_t)((a->b[i] + b.b[i] + 1) >> 1); break;
    case 0xE3: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)((a->w[i] + b.w[i] + 1) >> 1); break;
    /* multiplies */
    case 0xD5: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)(a->w[i] * b.w[i]); break;
    case 0xE5: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)(((int32_t)(int16_t)a->w[i] * (int16_t)b.w[i]) >> 16); break;
    case 0xE4: for (unsigned i = 0; i < 8; i++) a->w[i] = (uint16_t)(((uint32_t)a->w[i] * b.w[i]) >> 16); break;
    case 0xF4: for (unsigned i = 0; i < 2; i++) a->q[i] = (uint64_t)a->d[2 * i] * b.d[2 * i]; break;
    case 0xF5: /* pmaddwd: pairs of signed products summed (wrapping only for 0x8000 x4) */
        for (unsigned i = 0; i < 4; i++)
            a->d[i] = (uint32_t)((int32_t)(int16_t)a->w[2 * i] * (int16_t)b.w[2 * i] +
                                 (uint32_t)((int32_t)(int16_t)a->w[2 * i + 1] * (int16_t)b.w[2 * i + 1]));
        break;
    case 0xF6: /* psadbw: per quadword, the sum of absolute byte differences */
        for (unsigned i = 0; i < 2; i++) {
            uint32_t sum = 0;
            for (unsigned j = 0; j < 8; j++) {
                int d = a->b[8 * i + j] - b.b[8 * i + j];
                sum += (uint32_t)(d < 0 ? -d : d);
            }
            a->q[i] = sum;
        }
        break;
    /* unpacks and packs */
    case 0x60: unpack(a, &b, 1, false); break;
    case 0x61: unpack(a, &b, 2, false); break;
    case 0x62: unpack(a, &b, 4, false); break;
    case 0x6C: unpack(a, &b, 8, false); break;
    case 0x68: unpack(a, &b, 1, true); break;
    case 0x69: unpack(a, &b, 2, true); break;
    case 0x6A: unpack(a, &b, 4, true); break;
    case 0x6D: unpack(a, &b, 8, true); break;
    case 0x63: case 0x67: case 0x6B: pack(a, &b, insn->opcode); break;
    /* shifts by the source's low quadword */
    case 0xD1: shift_lanes(a, b.q[0], 16, 0); break;
    case 0xD2: shift_lanes(a, b.q[0], 32, 0); break;
    case 0xD3: shift_lanes(a, b.q[0], 64, 0); break;
    case 0xE1: shift_lanes(a, b.q[0], 16, 1); break;
    case 0xE2: shift_lanes(a, b.q[0], 32, 1); break;
    case 0xF1: shift_lanes(a, b.q[0], 16, 2); break;
    case 0xF2: shift_lanes(a, b.q[0], 32, 2); break;
    case 0xF3: shift_lanes(a, b.q[0], 64, 2); break;
    default: x86_raise_ud(cpu); /* simd.def names no other opcode for this handler */
    }
}

/* 66 0F 71-73 /r ib on the r/m register: /2 logical right, /4 arithmetic right, /6 left of
 * words (71), dwords (72), quadwords (73, no /4); 73 /3 psrldq and /7 pslldq shift the whole
 * register by bytes */
X86_HANDLER(x86_exec_simd_shift_imm)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm *a = x86_xmm_rm(cpu, insn);
    unsigned count = (uint8_t)insn->imm, op = insn->reg & 7;
    if (insn->opcode == 0x73 && (op == 3 || op == 7)) {
        union x86_xmm r = { .q = { 0, 0 } };
        for (unsigned i = 0; i < 16; i++) {
            int from = op == 3 ? (int)(i + count) : (int)i - (int)count;
            if (count < 16 && from >= 0 && from < 16)
                r.b[i] = a->b[from];
        }
        *a = r;
        return;
    }
    unsigned width = insn->opcode == 0x71 ? 16 : insn->opcode == 0x72 ? 32 : 64;
    shift_lanes(a, count, width, op == 2 ? 0 : op == 4 ? 1 : 2);
}

/* pshufd / pshufhw / pshuflw (xmm/m128, imm8 selects), shufps / shufpd (two from the
 * destination, two from the source), unpck{l,h}{ps,pd} */
X86_HANDLER(x86_exec_simd_shuffle)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = source128(cpu, insn), *a = x86_xmm_reg(cpu, insn), r;
    unsigned imm = (uint8_t)insn->imm;
    switch (insn->mnemonic) {
    case X86_MN_PSHUFD:
        for (unsigned i = 0; i < 4; i++)
            r.d[i] = b.d[(imm >> (2 * i)) & 3];
        break;
    case X86_MN_PSHUFHW:
        r.q[0] = b.q[0];
        for (unsigned i = 0; i < 4; i++)
            r.w[4 + i] = b.w[4 + ((imm >> (2 * i)) & 3)];
        break;
    case X86_MN_PSHUFLW:
        r.q[1] = b.q[1];
        for (unsigned i = 0; i < 4; i++)
            r.w[i] = b.w[(imm >> (2 * i)) & 3];
        break;
    case X86_MN_SHUFPS:
        r.d[0] = a->d[imm & 3];
        r.d[1] = a->d[(imm >> 2) & 3];
        r.d[2] = b.d[(imm >> 4) & 3];
        r.d[3] = b.d[(imm >> 6) & 3];
        break;
    case X86_MN_SHUFPD:
        r.q[0] = a->q[imm & 1];
        r.q[1] = b.q[(imm >> 1) & 1];
        break;
    case X86_MN_UNPCKLPS:
        r.d[0] = a->d[0]; r.d[1] = b.d[0]; r.d[2] = a->d[1]; r.d[3] = b.d[1];
        break;
    case X86_MN_UNPCKHPS:
        r.d[0] = a->d[2]; r.d[1] = b.d[2]; r.d[2] = a->d[3]; r.d[3] = b.d[3];
        break;
    case X86_MN_UNPCKLPD:
        r.q[0] = a->q[0]; r.q[1] = b.q[0];
        break;
    default: /* UNPCKHPD */
        r.q[0] = a->q[1]; r.q[1] = b.q[1];
        break;
    }
    *a = r;
}

/* pinsrw xmm, r32/m16, imm8: the word at imm8 & 7 */
X86_HANDLER(x86_exec_simd_pinsrw)
{
    x86_simd_enter(cpu, insn);
    uint16_t v = insn->mod == 3 ? (uint16_t)cpu->gpr[insn->rm]
                                : (uint16_t)x86_read_linear(cpu, x86_simd_linear(cpu, insn, 2,
                                                                                  false, false), 2);
    x86_xmm_reg(cpu, insn)->w[insn->imm & 7] = v;
}

/* pextrw r32/64, xmm, imm8: the word at imm8 & 7, zero-extended */
X86_HANDLER(x86_exec_simd_pextrw)
{
    x86_simd_enter(cpu, insn);
    cpu->gpr[insn->reg] = x86_xmm_rm(cpu, insn)->w[insn->imm & 7];
}
