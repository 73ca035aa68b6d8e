/* Differential test of the SSE family against the host CPU (64-bit mode).
 *
 *   differential-simd NATIVE_RUNNER_SIMD [CASES]      (default 100,000 sequences)
 *
 * Sequences of 1-5 SSE-family instructions drawn from the table below (what src/cpu/simd.def
 * executes), on random XMM0-15 (the special patterns often), random general registers and a
 * random MXCSR (rounding control, DAZ, FZ and flags random; in every other sequence some
 * exceptions unmasked, so it may stop with #XM: the native runner catches it and the state at
 * the fault and the faulting instruction are compared too), register operands by REX (XMM8-15, R8-R15) and memory operands [rbx + disp8]
 * inside the buffer (aligned to 16 for the aligned forms). The native runner executes them on
 * the host; all sixteen XMM registers, MXCSR, the general registers, the arithmetic flags and
 * the buffer are compared. A family joins the table once it is implemented.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/run.h"
#include "differential.h"
#include "harness.h"
#include "machine/machine.h"

#define ALL_FLAGS 0x8D5u /* CF PF AF ZF SF OF */
#define BUFFER_BASE (DIFF_BUFFER_ADDRESS + 0x40) /* RBX: disp8 reaches the whole buffer */

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t rnd64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static uint32_t pick(uint32_t n) { return (uint32_t)(rnd64() % n); }

/* Operand forms */
enum form {
    XX_A,       /* xmm, xmm/m128 (aligned) */
    XX_U,       /* xmm, xmm/m128 (unaligned) */
    XX_A_IB,    /* xmm, xmm/m128 (aligned), imm8 */
    X_M64,      /* xmm, xmm/m64 */
    X_M32,      /* xmm, xmm/m32 */
    ST_A,       /* xmm/m128 (aligned), xmm */
    MST_A,      /* m128 (aligned, memory only), xmm: the non-temporal stores */
    ST_U,       /* xmm/m128 (unaligned), xmm */
    ST_M64,     /* xmm/m64, xmm */
    ST_M32,     /* xmm/m32, xmm */
    M64_LOAD,   /* xmm, m64 (memory only) */
    M64_STORE,  /* m64, xmm (memory only) */
    XX_R,       /* xmm, xmm (register only) */
    SHIFT_IB,   /* group 12-14: xmm (rm), imm8, with a fixed ModRM.reg */
    GX,         /* r32, xmm (register only) */
    GX_IB,      /* r32, xmm, imm8 (register only) */
    XG,         /* xmm, r/m32 (REX.W: r/m64) */
    XG_IB,      /* xmm, r32/m16, imm8 */
    GST,        /* r/m32 (REX.W: r/m64), xmm */
    X_M32_IB,   /* xmm, xmm/m32, imm8 */
    X_M64_IB,   /* xmm, xmm/m64, imm8 */
    GXM32,      /* r32 (REX.W: r64), xmm/m32 */
    GXM64,      /* r32 (REX.W: r64), xmm/m64 */
    MG,         /* m32 (REX.W: m64), r32/r64 (memory only): movnti */
    M128_U,     /* xmm, m128 (unaligned, memory only): lddqu */
    M128_A,     /* xmm, m128 (aligned, memory only): movntdqa */
    XX_U_IB,    /* xmm, xmm/m128 (unaligned), imm8: the string compares */
    X_M16,      /* xmm, xmm/m16: pmovsxbq/zxbq */
    GSTN_IB,    /* r/m(reg bytes; 4 may take REX.W: 8), xmm, imm8: pextrb/w/d/q, extractps */
    XGN_IB,     /* xmm, r/m(reg bytes; 4 may take REX.W), imm8: pinsrb/d/q */
    GE,         /* r32/r64, r/m(reg bytes; 4 may take REX.W): crc32, popcnt */
};

struct template {
    const char *name;
    uint8_t prefix;   /* 0, 0x66, 0xF3, 0xF2 */
    uint8_t opcode;   /* in the 0F map */
    uint8_t form;
    uint8_t reg;      /* SHIFT_IB's ModRM.reg; GSTN_IB, XGN_IB, GE: the r/m size */
};

static const struct template templates[] = {
    /* moves */
    { "movups", 0, 0x10, XX_U, 0 }, { "movups st", 0, 0x11, ST_U, 0 },
    { "movupd", 0x66, 0x10, XX_U, 0 }, { "movupd st", 0x66, 0x11, ST_U, 0 },
    { "movdqu", 0xF3, 0x6F, XX_U, 0 }, { "movdqu st", 0xF3, 0x7F, ST_U, 0 },
    { "movaps", 0, 0x28, XX_A, 0 }, { "movaps st", 0, 0x29, ST_A, 0 },
    { "movapd", 0x66, 0x28, XX_A, 0 }, { "movdqa", 0x66, 0x6F, XX_A, 0 },
    { "movdqa st", 0x66, 0x7F, ST_A, 0 }, { "movntdq", 0x66, 0xE7, MST_A, 0 },
    { "movss", 0xF3, 0x10, X_M32, 0 }, { "movss st", 0xF3, 0x11, ST_M32, 0 },
    { "movsd", 0xF2, 0x10, X_M64, 0 }, { "movsd st", 0xF2, 0x11, ST_M64, 0 },
    { "movq", 0xF3, 0x7E, X_M64, 0 }, { "movq st", 0x66, 0xD6, ST_M64, 0 },
    { "movd/q", 0x66, 0x6E, XG, 0 }, { "movd/q st", 0x66, 0x7E, GST, 0 },
    { "movlps", 0, 0x12, X_M64, 0 }, { "movlps st", 0, 0x13, M64_STORE, 0 },
    { "movhps", 0, 0x16, X_M64, 0 }, { "movhps st", 0, 0x17, M64_STORE, 0 },
    { "movlpd", 0x66, 0x12, M64_LOAD, 0 }, { "movhpd", 0x66, 0x16, M64_LOAD, 0 },
    { "movhpd st", 0x66, 0x17, M64_STORE, 0 },
    { "movmskps", 0, 0x50, GX, 0 }, { "movmskpd", 0x66, 0x50, GX, 0 },
    { "pmovmskb", 0x66, 0xD7, GX, 0 },
    /* logic */
    { "andps", 0, 0x54, XX_A, 0 }, { "andnps", 0, 0x55, XX_A, 0 }, { "orps", 0, 0x56, XX_A, 0 },
    { "xorps", 0, 0x57, XX_A, 0 }, { "andpd", 0x66, 0x54, XX_A, 0 },
    { "andnpd", 0x66, 0x55, XX_A, 0 }, { "orpd", 0x66, 0x56, XX_A, 0 },
    { "xorpd", 0x66, 0x57, XX_A, 0 }, { "pand", 0x66, 0xDB, XX_A, 0 },
    { "pandn", 0x66, 0xDF, XX_A, 0 }, { "por", 0x66, 0xEB, XX_A, 0 }, { "pxor", 0x66, 0xEF, XX_A, 0 },
    /* SSE2 integer */
#define I(name, op) { name, 0x66, op, XX_A, 0 }
    I("paddb", 0xFC), I("paddw", 0xFD), I("paddd", 0xFE), I("paddq", 0xD4), I("psubb", 0xF8),
    I("psubw", 0xF9), I("psubd", 0xFA), I("psubq", 0xFB), I("paddsb", 0xEC), I("paddsw", 0xED),
    I("paddusb", 0xDC), I("paddusw", 0xDD), I("psubsb", 0xE8), I("psubsw", 0xE9),
    I("psubusb", 0xD8), I("psubusw", 0xD9), I("pcmpeqb", 0x74), I("pcmpeqw", 0x75),
    I("pcmpeqd", 0x76), I("pcmpgtb", 0x64), I("pcmpgtw", 0x65), I("pcmpgtd", 0x66),
    I("pminub", 0xDA), I("pmaxub", 0xDE), I("pminsw", 0xEA), I("pmaxsw", 0xEE),
    I("pavgb", 0xE0), I("pavgw", 0xE3), I("pmullw", 0xD5), I("pmulhw", 0xE5),
    I("pmulhuw", 0xE4), I("pmuludq", 0xF4), I("pmaddwd", 0xF5), I("psadbw", 0xF6),
    I("punpcklbw", 0x60), I("punpcklwd", 0x61), I("punpckldq", 0x62), I("punpcklqdq", 0x6C),
    I("punpckhbw", 0x68), I("punpckhwd", 0x69), I("punpckhdq", 0x6A), I("punpckhqdq", 0x6D),
    I("packsswb", 0x63), I("packuswb", 0x67), I("packssdw", 0x6B),
    I("psrlw", 0xD1), I("psrld", 0xD2), I("psrlq", 0xD3), I("psraw", 0xE1), I("psrad", 0xE2),
    I("psllw", 0xF1), I("pslld", 0xF2), I("psllq", 0xF3),
#undef I
    { "psrlw i", 0x66, 0x71, SHIFT_IB, 2 }, { "psraw i", 0x66, 0x71, SHIFT_IB, 4 },
    { "psllw i", 0x66, 0x71, SHIFT_IB, 6 }, { "psrld i", 0x66, 0x72, SHIFT_IB, 2 },
    { "psrad i", 0x66, 0x72, SHIFT_IB, 4 }, { "pslld i", 0x66, 0x72, SHIFT_IB, 6 },
    { "psrlq i", 0x66, 0x73, SHIFT_IB, 2 }, { "psrldq", 0x66, 0x73, SHIFT_IB, 3 },
    { "psllq i", 0x66, 0x73, SHIFT_IB, 6 }, { "pslldq", 0x66, 0x73, SHIFT_IB, 7 },
    /* shuffles */
    { "pshufd", 0x66, 0x70, XX_A_IB, 0 }, { "pshufhw", 0xF3, 0x70, XX_A_IB, 0 },
    { "pshuflw", 0xF2, 0x70, XX_A_IB, 0 }, { "shufps", 0, 0xC6, XX_A_IB, 0 },
    { "shufpd", 0x66, 0xC6, XX_A_IB, 0 }, { "unpcklps", 0, 0x14, XX_A, 0 },
    { "unpckhps", 0, 0x15, XX_A, 0 }, { "unpcklpd", 0x66, 0x14, XX_A, 0 },
    { "unpckhpd", 0x66, 0x15, XX_A, 0 }, { "pinsrw", 0x66, 0xC4, XG_IB, 0 },
    { "pextrw", 0x66, 0xC5, GX_IB, 0 },
    /* floating point (exec_simd_float.c): ps, pd, ss, sd forms */
#define FP4(name, op) { name "ps", 0, op, XX_A, 0 }, { name "pd", 0x66, op, XX_A, 0 }, \
                      { name "ss", 0xF3, op, X_M32, 0 }, { name "sd", 0xF2, op, X_M64, 0 }
    FP4("add", 0x58), FP4("mul", 0x59), FP4("sub", 0x5C), FP4("min", 0x5D), FP4("div", 0x5E),
    FP4("max", 0x5F), FP4("sqrt", 0x51),
#undef FP4
    { "cmpps", 0, 0xC2, XX_A_IB, 0 }, { "cmppd", 0x66, 0xC2, XX_A_IB, 0 },
    { "cmpss", 0xF3, 0xC2, X_M32_IB, 0 }, { "cmpsd", 0xF2, 0xC2, X_M64_IB, 0 },
    { "comiss", 0, 0x2F, X_M32, 0 }, { "comisd", 0x66, 0x2F, X_M64, 0 },
    { "ucomiss", 0, 0x2E, X_M32, 0 }, { "ucomisd", 0x66, 0x2E, X_M64, 0 },
    /* conversions */
    { "cvtps2pd", 0, 0x5A, X_M64, 0 }, { "cvtpd2ps", 0x66, 0x5A, XX_A, 0 },
    { "cvtss2sd", 0xF3, 0x5A, X_M32, 0 }, { "cvtsd2ss", 0xF2, 0x5A, X_M64, 0 },
    { "cvtdq2ps", 0, 0x5B, XX_A, 0 }, { "cvtps2dq", 0x66, 0x5B, XX_A, 0 },
    { "cvttps2dq", 0xF3, 0x5B, XX_A, 0 }, { "cvtdq2pd", 0xF3, 0xE6, X_M64, 0 },
    { "cvtpd2dq", 0xF2, 0xE6, XX_A, 0 }, { "cvttpd2dq", 0x66, 0xE6, XX_A, 0 },
    { "cvtsi2ss", 0xF3, 0x2A, XG, 0 }, { "cvtsi2sd", 0xF2, 0x2A, XG, 0 },
    { "cvttss2si", 0xF3, 0x2C, GXM32, 0 }, { "cvttsd2si", 0xF2, 0x2C, GXM64, 0 },
    { "cvtss2si", 0xF3, 0x2D, GXM32, 0 }, { "cvtsd2si", 0xF2, 0x2D, GXM64, 0 },
    { "movnti", 0, 0xC3, MG, 0 },
};
#define TEMPLATE_COUNT (sizeof(templates) / sizeof(templates[0]))

/* SSE3, SSSE3, SSE4.1, SSE4.2 (exec_simd_sse3.c, exec_simd_sse4.c): with their map (0 the 0F
 * map, 0x38 / 0x3A the three-byte maps) */
static const struct {
    struct template t;
    uint8_t map;
} templates_int2[] = {
    /* SSE3 moves (exec_simd_sse3.c) */
    { { "lddqu", 0xF2, 0xF0, M128_U, 0 }, 0 }, { { "movddup", 0xF2, 0x12, X_M64, 0 }, 0 },
    { { "movshdup", 0xF3, 0x16, XX_A, 0 }, 0 }, { { "movsldup", 0xF3, 0x12, XX_A, 0 }, 0 },
    /* SSSE3, SSE4.1, SSE4.2 (66 0F 38 / 66 0F 3A) */
#define M38(name, op) { { name, 0x66, op, XX_A, 0 }, 0x38 }
    M38("pshufb", 0x00), M38("phaddw", 0x01), M38("phaddd", 0x02), M38("phaddsw", 0x03),
    M38("pmaddubsw", 0x04), M38("phsubw", 0x05), M38("phsubd", 0x06), M38("phsubsw", 0x07),
    M38("psignb", 0x08), M38("psignw", 0x09), M38("psignd", 0x0A), M38("pmulhrsw", 0x0B),
    M38("pabsb", 0x1C), M38("pabsw", 0x1D), M38("pabsd", 0x1E),
    M38("pblendvb", 0x10), M38("blendvps", 0x14), M38("blendvpd", 0x15), M38("ptest", 0x17),
    M38("pmuldq", 0x28), M38("pcmpeqq", 0x29), M38("packusdw", 0x2B), M38("pcmpgtq", 0x37),
    M38("pminsb", 0x38), M38("pminsd", 0x39), M38("pminuw", 0x3A), M38("pminud", 0x3B),
    M38("pmaxsb", 0x3C), M38("pmaxsd", 0x3D), M38("pmaxuw", 0x3E), M38("pmaxud", 0x3F),
    M38("pmulld", 0x40), M38("phminposuw", 0x41),
#undef M38
    { { "pmovsxbw", 0x66, 0x20, X_M64, 0 }, 0x38 }, { { "pmovsxbd", 0x66, 0x21, X_M32, 0 }, 0x38 },
    { { "pmovsxbq", 0x66, 0x22, X_M16, 0 }, 0x38 }, { { "pmovsxwd", 0x66, 0x23, X_M64, 0 }, 0x38 },
    { { "pmovsxwq", 0x66, 0x24, X_M32, 0 }, 0x38 }, { { "pmovsxdq", 0x66, 0x25, X_M64, 0 }, 0x38 },
    { { "pmovzxbw", 0x66, 0x30, X_M64, 0 }, 0x38 }, { { "pmovzxbd", 0x66, 0x31, X_M32, 0 }, 0x38 },
    { { "pmovzxbq", 0x66, 0x32, X_M16, 0 }, 0x38 }, { { "pmovzxwd", 0x66, 0x33, X_M64, 0 }, 0x38 },
    { { "pmovzxwq", 0x66, 0x34, X_M32, 0 }, 0x38 }, { { "pmovzxdq", 0x66, 0x35, X_M64, 0 }, 0x38 },
    { { "movntdqa", 0x66, 0x2A, M128_A, 0 }, 0x38 },
    { { "palignr", 0x66, 0x0F, XX_A_IB, 0 }, 0x3A }, { { "blendps", 0x66, 0x0C, XX_A_IB, 0 }, 0x3A },
    { { "blendpd", 0x66, 0x0D, XX_A_IB, 0 }, 0x3A }, { { "pblendw", 0x66, 0x0E, XX_A_IB, 0 }, 0x3A },
    { { "mpsadbw", 0x66, 0x42, XX_A_IB, 0 }, 0x3A }, { { "insertps", 0x66, 0x21, X_M32_IB, 0 }, 0x3A },
    { { "pextrb", 0x66, 0x14, GSTN_IB, 1 }, 0x3A }, { { "pextrw m", 0x66, 0x15, GSTN_IB, 2 }, 0x3A },
    { { "pextrd/q", 0x66, 0x16, GSTN_IB, 4 }, 0x3A }, { { "extractps", 0x66, 0x17, GSTN_IB, 4 }, 0x3A },
    { { "pinsrb", 0x66, 0x20, XGN_IB, 1 }, 0x3A }, { { "pinsrd/q", 0x66, 0x22, XGN_IB, 4 }, 0x3A },
    { { "pcmpestrm", 0x66, 0x60, XX_U_IB, 0 }, 0x3A }, { { "pcmpestri", 0x66, 0x61, XX_U_IB, 0 }, 0x3A },
    { { "pcmpistrm", 0x66, 0x62, XX_U_IB, 0 }, 0x3A }, { { "pcmpistri", 0x66, 0x63, XX_U_IB, 0 }, 0x3A },
    /* general-register instructions of SSE4.2 */
    { { "crc32 r/m8", 0xF2, 0xF0, GE, 1 }, 0x38 }, { { "crc32", 0xF2, 0xF1, GE, 4 }, 0x38 },
    { { "popcnt", 0xF3, 0xB8, GE, 4 }, 0 },
};
#define TEMPLATE_INT2_COUNT (sizeof(templates_int2) / sizeof(templates_int2[0]))

/* a general register a result may go to: not RSP, not RBX (the buffer pointer) */
static unsigned gpr_dest(void)
{
    unsigned r;
    do
        r = pick(16);
    while (r == 4 || r == 3);
    return r;
}

static void emit(struct diff_simd_case *c, uint8_t v) { c->code[c->code_length++] = v; }

static void emit_template(struct diff_simd_case *c, const struct template *t, uint8_t map)
{
    bool mem_ok, reg_ok, aligned = false;
    unsigned size = 16;
    switch (t->form) {
    case XX_A: case XX_A_IB: case ST_A: aligned = true; mem_ok = reg_ok = true; break;
    case M64_LOAD: case M64_STORE: mem_ok = true; reg_ok = false; size = 8; break;
    case MST_A: aligned = true; mem_ok = true; reg_ok = false; break;
    case MG: mem_ok = true; reg_ok = false; size = 4; break;
    case XX_R: case SHIFT_IB: case GX: case GX_IB: mem_ok = false; reg_ok = true; break;
    case X_M64: case ST_M64: case X_M64_IB: case GXM64: size = 8; mem_ok = reg_ok = true; break;
    case X_M32: case ST_M32: case XG: case GST: case X_M32_IB: case GXM32:
        size = 4; mem_ok = reg_ok = true; break;
    case XG_IB: size = 2; mem_ok = reg_ok = true; break;
    case M128_U: mem_ok = true; reg_ok = false; break;
    case M128_A: aligned = true; mem_ok = true; reg_ok = false; break;
    case X_M16: size = 2; mem_ok = reg_ok = true; break;
    case GSTN_IB: case XGN_IB: case GE: size = t->reg; mem_ok = reg_ok = true; break;
    default: mem_ok = reg_ok = true; break;
    }
    bool memory = mem_ok && (!reg_ok || pick(3) == 0);
    bool wide = (t->form == XG || t->form == GST || t->form == GXM32 || t->form == GXM64 ||
                 t->form == MG ||
                 ((t->form == GSTN_IB || t->form == XGN_IB || t->form == GE) && t->reg == 4)) &&
                pick(2);
    if (wide && (t->form == XG || t->form == MG) && memory)
        size = 8;
    if (wide && (t->form == GSTN_IB || t->form == XGN_IB || t->form == GE))
        size = 8;
    unsigned reg = t->form == SHIFT_IB ? t->reg
                 : (t->form == GX || t->form == GX_IB || t->form == GXM32 || t->form == GXM64 ||
                    t->form == MG || t->form == GE)
                     ? gpr_dest() : pick(16);
    unsigned rm = memory ? 3 : ((t->form == GST || t->form == GSTN_IB) ? gpr_dest() : pick(16));
    if ((t->form == XG || t->form == XG_IB || t->form == XGN_IB || t->form == GE) && !memory &&
        rm == 4)
        rm = 5; /* not RSP (or SPL) as a source: it differs between the two worlds */
    if (t->prefix)
        emit(c, t->prefix);
    uint8_t rex = (uint8_t)(0x40 | (wide ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0));
    if (rex != 0x40 || pick(8) == 0)
        emit(c, rex);
    emit(c, 0x0F);
    if (map)
        emit(c, map);
    emit(c, t->opcode);
    if (memory) {
        int disp = -64 + (int)pick(192 - size);
        if (aligned)
            disp &= ~15;
        if (disp > 127)
            disp = 112;
        emit(c, (uint8_t)(0x40 | ((reg & 7) << 3) | 3)); /* [rbx + disp8] */
        emit(c, (uint8_t)disp);
    } else {
        emit(c, (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7)));
    }
    if (t->form == XX_A_IB || t->form == SHIFT_IB || t->form == GX_IB || t->form == XG_IB ||
        t->form == X_M32_IB || t->form == X_M64_IB || t->form == XX_U_IB || t->form == GSTN_IB ||
        t->form == XGN_IB)
        emit(c, pick(4) == 0 ? (uint8_t)pick(20) : (uint8_t)rnd64());
}

/* XMM values: random bits, integer patterns, and the floating-point values that make the
 * exceptions happen (denormals, NaNs, infinities, the largest and smallest normals, values
 * whose products overflow or underflow), as singles in 32-bit lanes or doubles in 64-bit ones */
static void random_xmm(uint8_t *v)
{
    static const uint64_t special[] = { 0, ~0ull, 0x8000800080008000ull, 0x7F7F7F7F7F7F7F7Full,
                                        0x8000000080000000ull, 0x0001000100010001ull,
                                        0x3FF0000000000000ull, 0x7FF8000000000000ull,
                                        0x0000000000000001ull, 0x000FFFFFFFFFFFFFull,
                                        0x0010000000000000ull, 0x7FEFFFFFFFFFFFFFull,
                                        0x7FF0000000000000ull, 0xFFF0000000000000ull,
                                        0x7FF0000000000001ull, 0x8000000000000000ull,
                                        0x2000000000000000ull, 0x5FF0000000000001ull,
                                        0x4330000000000000ull, 0x43E0000000000000ull };
    static const uint32_t special32[] = { 0, 0x80000000u, 0x00000001u, 0x007FFFFFu,
                                          0x00800000u, 0x7F7FFFFFu, 0x7F800000u, 0xFF800000u,
                                          0x7FC00000u, 0x7F800001u, 0x3F800000u, 0x40400000u,
                                          0x1F800000u, 0x5F800001u, 0x4F000000u, 0xCF000000u,
                                          0x0C000000u, 0x3EAAAAABu };
    for (unsigned i = 0; i < 2; i++) {
        uint64_t x;
        switch (pick(4)) {
        case 0: x = special[pick(sizeof(special) / sizeof(special[0]))]; break;
        case 1:
            x = special32[pick(sizeof(special32) / sizeof(special32[0]))] |
                (uint64_t)special32[pick(sizeof(special32) / sizeof(special32[0]))] << 32;
            break;
        case 2: { /* floats of moderate exponent: sums and products stay in range */
            uint32_t lo = (uint32_t)rnd64(), hi = (uint32_t)rnd64();
            lo = (lo & 0x807FFFFFu) | (0x38000000u + ((lo >> 8) & 0x0F800000u));
            hi = (hi & 0x807FFFFFu) | (0x38000000u + ((hi >> 8) & 0x0F800000u));
            x = lo | (uint64_t)hi << 32;
            break;
        }
        default: x = rnd64(); break;
        }
        memcpy(v + 8 * i, &x, 8);
    }
}

static void make_case(struct diff_simd_case *c, unsigned long index)
{
    memset(c, 0, sizeof(*c));
    unsigned count = 1 + pick(5);
    for (unsigned i = 0; i < count && c->code_length < DIFF_CODE_MAX - 12; i++)
    {
        uint32_t k = pick(TEMPLATE_COUNT + TEMPLATE_INT2_COUNT);
        if (k < TEMPLATE_COUNT)
            emit_template(c, &templates[k], 0);
        else
            emit_template(c, &templates_int2[k - TEMPLATE_COUNT].t, templates_int2[k - TEMPLATE_COUNT].map);
    }
    for (int r = 0; r < 16; r++)
        c->regs[r] = rnd64();
    c->regs[3] = BUFFER_BASE;
    if (pick(2)) { /* pcmpestri/m's lengths: small (negative too) often */
        c->regs[0] = (uint64_t)((int64_t)pick(41) - 20);
        c->regs[2] = (uint64_t)((int64_t)pick(41) - 20);
    }
    c->rflags = 0x202u | (rnd64() & ALL_FLAGS);
    for (unsigned i = 0; i < 16; i++)
        random_xmm(c->xmm[i]);
    /* rounding, DAZ, FZ and the flags random; in odd cases (which our side single-steps, so it
     * sees the fault as the host does) each exception unmasked one time in three */
    c->mxcsr = 0x1F80u | (uint32_t)(rnd64() & (0x6000u | 0x8000u | 0x40u | 0x3Fu));
    if (index % 2)
        for (unsigned bit = 7; bit <= 12; bit++)
            if (pick(3) == 0)
                c->mxcsr &= ~(1u << bit);
}

/* ------------------------------------------------------------------ our side */

static void run_ours(x86irq_machine *m, const struct diff_simd_case *c,
                     struct diff_simd_result *r, uint32_t seed, bool *faulted)
{
    struct x86_cpu *cpu = x86_machine_cpu(m);
    uint8_t buffer[DIFF_BUFFER_SIZE];
    diff_fill_buffer(buffer, seed);
    x86irq_write_physical(m, DIFF_BUFFER_ADDRESS, buffer, sizeof(buffer));
    x86irq_write_physical(m, DIFF_SIMD_CODE_ADDRESS, c->code, c->code_length);
    /* flat 64-bit code, no paging (differential64.c), SSE offered and enabled */
    cpu->seg[X86_SEG_CS].attributes = (uint16_t)((cpu->seg[X86_SEG_CS].attributes |
                                                  X86_SEG_ATTR_L) & ~X86_SEG_ATTR_DB);
    cpu->mode = X86_MODE_64;
    cpu->simd = X86_SIMD_SSE | X86_SIMD_SSE2 | X86_SIMD_SSE3 | X86_SIMD_SSSE3 | X86_SIMD_SSE41 |
                X86_SIMD_SSE42;
    cpu->cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    for (int i = 0; i < 16; i++)
        cpu->gpr[i] = c->regs[i];
    cpu->gpr[X86_ESP] = 0x8000;
    memcpy(cpu->sse.xmm, c->xmm, sizeof(c->xmm));
    cpu->sse.mxcsr = c->mxcsr;
    x86_set_eflags(cpu, (uint32_t)c->rflags, ~0u);
    cpu->rip = DIFF_SIMD_CODE_ADDRESS;
    uint64_t end = DIFF_SIMD_CODE_ADDRESS + c->code_length;
    *faulted = false;
    r->vector = r->fault_offset = r->pad = 0;
    if (seed % 2) {
        cpu->cycle_limit = UINT64_MAX;
        for (int steps = 0; cpu->rip < end && steps < 10000; steps++) {
            struct x86_fault f;
            if (!x86_cpu_step(cpu, &f) || cpu->mode != X86_MODE_64) {
                if (f.vector == X86_VEC_XM && cpu->mode == X86_MODE_64) {
                    r->vector = X86_VEC_XM;
                    r->fault_offset = (uint32_t)(f.return_eip - DIFF_SIMD_CODE_ADDRESS);
                } else {
                    *faulted = true;
                }
                break;
            }
        }
    } else {
        const uint8_t exit_bytes[2] = { 0xE6, 0xF4 }; /* out 0xF4, al: the debug exit */
        x86irq_write_physical(m, end, exit_bytes, 2);
        cpu->cycle_limit = cpu->cycles + 10000000;
        cpu->slice_end = cpu->cycle_limit;
        cpu->exit_request = 0;
        cpu->stop_pending = 0;
        m->pending_stop = X86IRQ_STOP_NONE;
        x86_cpu_execute(cpu);
        *faulted = m->pending_stop != X86IRQ_STOP_DEBUG_EXIT || cpu->rip != end + 2;
        m->pending_stop = X86IRQ_STOP_NONE;
    }
    for (int i = 0; i < 16; i++)
        r->regs[i] = cpu->gpr[i];
    r->rflags = x86_get_eflags(cpu);
    r->mxcsr = cpu->sse.mxcsr;
    memcpy(r->xmm, cpu->sse.xmm, sizeof(r->xmm));
    x86irq_read_physical(m, DIFF_BUFFER_ADDRESS, r->buffer, sizeof(r->buffer));
}

static void print_xmm(const char *who, const struct diff_simd_result *r)
{
    printf("#   %s mxcsr %04x flags %03x vector %u at +%u\n", who, r->mxcsr,
           (unsigned)(r->rflags & 0xFFF), r->vector, r->fault_offset);
    for (int i = 0; i < 16; i++) {
        uint64_t lo, hi;
        memcpy(&lo, r->xmm[i], 8);
        memcpy(&hi, r->xmm[i] + 8, 8);
        printf("#     xmm%-2d %016llx%016llx r%-2d %016llx\n", i, (unsigned long long)hi,
               (unsigned long long)lo, i, (unsigned long long)r->regs[i]);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: differential-simd NATIVE_RUNNER_SIMD [CASES]\n");
        return 2;
    }
    unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 0) : 100000;
    struct diff_simd_case *cases = calloc(count, sizeof(*cases));
    if (!cases) {
        printf("Bail out! out of memory\n");
        return 1;
    }
    for (unsigned long i = 0; i < count; i++)
        make_case(&cases[i], i);
    FILE *rf = NULL;
    switch (diff_run_native(argv[1], cases, sizeof(*cases), count, &rf)) {
    case DIFF_NATIVE_OK: break;
    case DIFF_NATIVE_SKIP:
        printf("1..0 # SKIP the native runner cannot map its code or buffer here\n");
        free(cases);
        return 0;
    default: free(cases); return 1;
    }
    x86irq_config config;
    x86irq_config_init(&config);
    config.ram_size = 4u << 20;
    x86irq_machine *m;
    if (x86irq_machine_create(&config, &m) != X86IRQ_OK) {
        printf("Bail out! setup failed\n");
        return 1;
    }
    unsigned long mismatches = 0, compared = 0, stopped = 0;
    for (unsigned long i = 0; i < count; i++) {
        struct diff_simd_result native, ours;
        if (fread(&native, sizeof(native), 1, rf) != 1)
            break;
        bool faulted;
        run_ours(m, &cases[i], &ours, (uint32_t)i, &faulted);
        bool same = !faulted && (native.rflags & ALL_FLAGS) == (ours.rflags & ALL_FLAGS) &&
                    native.mxcsr == ours.mxcsr && native.vector == ours.vector &&
                    native.fault_offset == ours.fault_offset &&
                    memcmp(native.xmm, ours.xmm, sizeof(native.xmm)) == 0 &&
                    memcmp(native.buffer, ours.buffer, DIFF_BUFFER_SIZE) == 0;
        for (int r = 0; r < 16; r++)
            if (r != 4 && native.regs[r] != ours.regs[r])
                same = false;
        compared++;
        stopped += native.vector != 0;
        if (!same && mismatches++ < 5) {
            printf("# mismatch in case %lu%s; bytes:", i, faulted ? " (we raised an exception)" : "");
            for (uint32_t k = 0; k < cases[i].code_length; k++)
                printf(" %02x", cases[i].code[k]);
            printf("\n");
            print_xmm("cpu", &native);
            print_xmm("us ", &ours);
            for (unsigned k = 0; k < DIFF_BUFFER_SIZE; k++)
                if (native.buffer[k] != ours.buffer[k]) {
                    printf("#   buffer differs from byte %u\n", k);
                    break;
                }
        }
    }
    fclose(rf);
    x86irq_machine_destroy(m);
    free(cases);
    printf("1..1\n%s 1 - %lu SSE sequences agree with the host CPU, %lu of them stopped by vector 19"
           " (%lu mismatches)\n",
           mismatches || compared != count ? "not ok" : "ok", compared, stopped, mismatches);
    return mismatches || compared != count ? 1 : 0;
}
