/* The opcode database's vocabulary: operand specifications and row flags, used by the
 * opcodes_*.def tables and decode.c. A row is
 *   OP(opcode, MNEMONIC, operand1, operand2, operand3, flags, cost class)
 * with operands in Intel order as "kind + size" specs (Eb, Gv, Iz...), following the SDM's
 * opcode-map notation (Vol. 2 Appendix A.2).
 */
#ifndef X86IRQ_CPU_OPCODES_H
#define X86IRQ_CPU_OPCODES_H

#include <stdint.h>

/* operand kinds of the table (decode.c maps them to enum x86_operand_kind) */
enum opcode_operand_kind {
    K_NONE = 0,
    K_E,    /* ModRM r/m, register or memory */
    K_M,    /* ModRM r/m, memory only */
    K_R,    /* ModRM r/m, register only (mov CRn and friends ignore mod) */
    K_G,    /* ModRM reg, general register */
    K_S,    /* ModRM reg, segment register */
    K_C,    /* ModRM reg, control register */
    K_D,    /* ModRM reg, debug register */
    K_I,    /* immediate of the operand's size */
    K_IS,   /* imm8 sign-extended to the operand size */
    K_I2,   /* a second immediate (enter's imm8) */
    K_J,    /* relative branch displacement */
    K_A,    /* direct far pointer (ptr16:16/32) */
    K_O,    /* moffs: offset of the address size */
    K_ACC,  /* AL / eAX */
    K_CL,
    K_ONE,
    K_DX,
    K_X,    /* string source DS:eSI */
    K_Y,    /* string destination ES:eDI */
    K_Z,    /* general register in the opcode's low three bits */
    K_ST0,
    K_STI,
};

enum opcode_operand_size {
    Z_NONE = 0,
    Z_B,    /* byte */
    Z_W,    /* word */
    Z_D,    /* doubleword */
    Z_V,    /* word, doubleword or quadword by operand size */
    Z_Z,    /* word or doubleword (imm32 even with a 64-bit operand size) */
    Z_P,    /* far pointer: 32 or 48 bits */
};

#define SPEC(kind, size) ((uint8_t)((kind) | ((size) << 5)))
#define SPEC_KIND(spec) ((spec) & 0x1F)
#define SPEC_SIZE(spec) ((spec) >> 5)

#define ____ 0
#define Eb SPEC(K_E, Z_B)
#define Ew SPEC(K_E, Z_W)
#define Ed SPEC(K_E, Z_D)
#define Ev SPEC(K_E, Z_V)
#define M_ SPEC(K_M, Z_NONE)
#define Mw SPEC(K_M, Z_W)
#define Mv SPEC(K_M, Z_V)
#define Mp SPEC(K_M, Z_P)
#define Rd SPEC(K_R, Z_D)
#define Gb SPEC(K_G, Z_B)
#define Gw SPEC(K_G, Z_W)
#define Gv SPEC(K_G, Z_V)
#define Sw SPEC(K_S, Z_W)
#define Cd SPEC(K_C, Z_D)
#define Dd SPEC(K_D, Z_D)
#define Ib SPEC(K_I, Z_B)
#define Iw SPEC(K_I, Z_W)
#define Iz SPEC(K_I, Z_Z)
#define Iv SPEC(K_I, Z_V)
#define IbS SPEC(K_IS, Z_V)
#define Ib2 SPEC(K_I2, Z_B)
#define Jb SPEC(K_J, Z_B)
#define Jz SPEC(K_J, Z_Z)
#define Ap SPEC(K_A, Z_P)
#define Ob SPEC(K_O, Z_B)
#define Ov SPEC(K_O, Z_V)
#define AL SPEC(K_ACC, Z_B)
#define AX SPEC(K_ACC, Z_W)
#define eAX SPEC(K_ACC, Z_V)
#define CL SPEC(K_CL, Z_B)
#define ONE SPEC(K_ONE, Z_B)
#define DX SPEC(K_DX, Z_W)
#define Xb SPEC(K_X, Z_B)
#define Xv SPEC(K_X, Z_V)
#define Yb SPEC(K_Y, Z_B)
#define Yv SPEC(K_Y, Z_V)
#define Zb SPEC(K_Z, Z_B)
#define Zv SPEC(K_Z, Z_V)
#define ST0 SPEC(K_ST0, Z_NONE)
#define STi SPEC(K_STI, Z_NONE)

/* row flags */
#define F_MODRM   0x0001u /* has a ModRM byte (implied by E/M/R/G/S/C/D operands) */
#define F_LOCK    0x0002u /* LOCK allowed (with a memory destination) */
#define F_I64     0x0004u /* invalid in 64-bit mode */
#define F_O64     0x0008u /* valid only in 64-bit mode */
#define F_D64     0x0010u /* default operand size 64 in 64-bit mode */
#define F_F64     0x0020u /* operand size forced to 64 in 64-bit mode */
#define F_GROUP   0x0040u /* ModRM.reg selects a row of sub-table `group` */
#define F_COND    0x0080u /* condition code in the opcode's low four bits */
#define F_INVALID 0x0100u /* no instruction here: #UD */
#define F_REG3    0x0200u /* with F_GROUP: mod == 3 uses sub-table `group` + 1 indexed by rm */
#define F_IMM8    0x0400u /* an imm8 follows the ModRM bytes (SSE forms named UNIMPLEMENTED) */
#define F_X87     0x0800u /* x87 escape: ModRM, any form */
#define F_MEMONLY 0x1000u /* ModRM.mod must not be 3 */
#define F_REGONLY 0x2000u /* ModRM.mod must be 3 */
#define F_OPSZ_BYTE 0x4000u /* operand size is one byte (string/in/out forms without E/G) */

struct opcode_row {
    uint16_t mnemonic;    /* enum x86_mnemonic */
    uint8_t operand[3];   /* SPEC(kind, size) */
    uint16_t flags;
    uint8_t cost;         /* enum x86_cost_class */
    uint8_t group;        /* sub-table index when F_GROUP */
};

#endif
