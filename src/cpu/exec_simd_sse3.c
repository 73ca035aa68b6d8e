/* SSE3's integer and move instructions (lddqu, movddup, movshdup, movsldup) and SSSE3's
 * 128-bit forms (66 0F 38 00-0B, 1C-1E; 66 0F 3A 0F), simd.def "SSE3 and SSSE3" (SDM Vol. 2,
 * each instruction's "Operation"). The m128 sources of the legacy forms must be 16-byte aligned
 * (#GP(0), SDM Vol. 2 2.4 / each instruction's "Protected Mode Exceptions"), except lddqu
 * (unaligned by definition) and movddup's m64. */
#include "cpu/simd.h"

static int32_t sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }

/* F2 0F F0 lddqu xmm, m128 (no alignment); F2 0F 12 movddup xmm, xmm/m64; F3 0F 16 movshdup,
 * F3 0F 12 movsldup xmm, xmm/m128 */
X86_HANDLER(x86_exec_simd_sse3_move)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm *a = x86_xmm_reg(cpu, insn), b, r;
    switch (insn->mnemonic) {
    case X86_MN_LDDQU:
        *a = x86_simd_read(cpu, insn, 16, false);
        return;
    case X86_MN_MOVDDUP:
        b = x86_simd_source(cpu, insn, 8, false);
        r.q[0] = r.q[1] = b.q[0];
        break;
    case X86_MN_MOVSHDUP:
        b = x86_simd_source(cpu, insn, 16, true);
        r.d[0] = r.d[1] = b.d[1];
        r.d[2] = r.d[3] = b.d[3];
        break;
    default: /* MOVSLDUP */
        b = x86_simd_source(cpu, insn, 16, true);
        r.d[0] = r.d[1] = b.d[0];
        r.d[2] = r.d[3] = b.d[2];
        break;
    }
    *a = r;
}

/* The SSSE3 operations on xmm1 (a) and xmm2/m128 (b), by 0F 38 opcode */
X86_HANDLER(x86_exec_simd_ssse3)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = x86_simd_source(cpu, insn, 16, true), *a = x86_xmm_reg(cpu, insn), r;
    switch (insn->opcode) {
    case 0x00: /* pshufb: a source byte's bit 7 zeroes, else its low 4 bits select */
        for (unsigned i = 0; i < 16; i++)
            r.b[i] = (b.b[i] & 0x80) ? 0 : a->b[b.b[i] & 15];
        break;
    case 0x01: case 0x03: case 0x05: case 0x07: /* phaddw, phaddsw, phsubw, phsubsw */
        for (unsigned i = 0; i < 8; i++) {
            const union x86_xmm *s = i < 4 ? a : &b;
            unsigned j = 2 * (i & 3);
            int32_t x = (int16_t)s->w[j], y = (int16_t)s->w[j + 1];
            int32_t v = insn->opcode <= 0x03 ? x + y : x - y;
            r.w[i] = (uint16_t)(insn->opcode & 2 ? sat16(v) : v);
        }
        break;
    case 0x02: case 0x06: /* phaddd, phsubd (wrapping) */
        for (unsigned i = 0; i < 4; i++) {
            const union x86_xmm *s = i < 2 ? a : &b;
            unsigned j = 2 * (i & 1);
            r.d[i] = insn->opcode == 0x02 ? s->d[j] + s->d[j + 1] : s->d[j] - s->d[j + 1];
        }
        break;
    case 0x04: /* pmaddubsw: unsigned bytes of xmm1 times signed bytes of xmm2, pairs summed
                * with signed saturation */
        for (unsigned i = 0; i < 8; i++)
            r.w[i] = (uint16_t)sat16(a->b[2 * i] * (int8_t)b.b[2 * i] +
                                     a->b[2 * i + 1] * (int8_t)b.b[2 * i + 1]);
        break;
    case 0x08: /* psignb/w/d: negate, zero or keep by the source's sign */
        for (unsigned i = 0; i < 16; i++)
            r.b[i] = (int8_t)b.b[i] < 0 ? (uint8_t)-a->b[i] : b.b[i] ? a->b[i] : 0;
        break;
    case 0x09:
        for (unsigned i = 0; i < 8; i++)
            r.w[i] = (int16_t)b.w[i] < 0 ? (uint16_t)-a->w[i] : b.w[i] ? a->w[i] : 0;
        break;
    case 0x0A:
        for (unsigned i = 0; i < 4; i++)
            r.d[i] = (int32_t)b.d[i] < 0 ? -a->d[i] : b.d[i] ? a->d[i] : 0;
        break;
    case 0x0B: /* pmulhrsw: (product >> 14) + 1, >> 1 */
        for (unsigned i = 0; i < 8; i++)
            r.w[i] = (uint16_t)((((int32_t)(int16_t)a->w[i] * (int16_t)b.w[i] >> 14) + 1) >> 1);
        break;
    case 0x1C: /* pabsb/w/d of the source (the most negative value stays 0x80..) */
        for (unsigned i = 0; i < 16; i++)
            r.b[i] = (int8_t)b.b[i] < 0 ? (uint8_t)-b.b[i] : b.b[i];
        break;
    case 0x1D:
        for (unsigned i = 0; i < 8; i++)
            r.w[i] = (int16_t)b.w[i] < 0 ? (uint16_t)-b.w[i] : b.w[i];
        break;
    case 0x1E:
        for (unsigned i = 0; i < 4; i++)
            r.d[i] = (int32_t)b.d[i] < 0 ? -b.d[i] : b.d[i];
        break;
    default:
        x86_raise_ud(cpu); /* simd.def names no other opcode for this handler */
    }
    *a = r;
}

/* 66 0F 3A 0F palignr xmm1, xmm2/m128, imm8: xmm1:xmm2 (32 bytes) shifted right by imm8
 * bytes, the low 16 kept (zeros shifted in: imm8 >= 32 gives 0) */
X86_HANDLER(x86_exec_simd_palignr)
{
    x86_simd_enter(cpu, insn);
    union x86_xmm b = x86_simd_source(cpu, insn, 16, true), *a = x86_xmm_reg(cpu, insn), r;
    unsigned n = insn->imm & 0xFF;
    for (unsigned i = 0; i < 16; i++) {
        unsigned k = i + n;
        r.b[i] = k < 16 ? b.b[k] : k < 32 ? a->b[k - 16] : 0;
    }
    *a = r;
}
