/* The decoded form of one instruction: the contract between the decoder (decode.c) and the
 * interpreter (exec_*.c). Fixed-size and self-contained, so it can be cached (predecoded) and
 * executed later without the instruction bytes: the hot loop is insn->exec(cpu, insn).
 */
#ifndef X86IRQ_CPU_INSN_H
#define X86IRQ_CPU_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_mnemonic {
#define X(name, text, handler, properties) X86_MN_##name,
#include "mnemonics.def"
#undef X
    X86_MN_COUNT
};

/* The mnemonic's text ("add"). */
const char *x86_mnemonic_name(unsigned mnemonic);

/* Per-mnemonic properties, the last column of mnemonics.def (exec_table.c) */
enum x86_mnemonic_property {
    X86_MNP_ENDS_BLOCK = 1u << 0, /* a decoded block ends after it */
};
extern const uint8_t x86_mnemonic_properties[X86_MN_COUNT];

/* The processor mode an instruction is decoded in: what the defaults of operand and address
 * size are (CS.D, or long mode's 64-bit sub-mode). */
enum x86_mode { X86_MODE_16 = 0, X86_MODE_32 = 1, X86_MODE_64 = 2 };

/* the architecture's longest instruction (SDM Vol. 2 2.3.11) */
#define X86_MAX_INSN_LENGTH 15

/* Register numbers: general registers 0-7 (EAX ECX EDX EBX ESP EBP ESI EDI), 8-15 with REX.
 * For byte operands without REX, 4-7 name AH CH DH BH (see X86_INSN_REX). */
#define X86_REG_NONE 0xFF

/* Segment registers, in their encoding order (ModRM.reg of mov Sreg). */
enum x86_segment_register {
    X86_SEG_ES = 0, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
    X86_SEG_COUNT
};

/* What an operand is. Operands are listed in Intel order: destination first. */
enum x86_operand_kind {
    X86_OPK_NONE = 0,
    X86_OPK_REG,      /* general register insn->reg (ModRM.reg, or opcode bits 0-2 + REX.B) */
    X86_OPK_RM,       /* ModRM r/m: register insn->rm when insn->mod == 3, else memory at the EA */
    X86_OPK_MEM,      /* ModRM r/m that must be memory (lea, lgdt, cmpxchg8b...) */
    X86_OPK_IMM,      /* insn->imm */
    X86_OPK_IMM2,     /* insn->imm2 (enter's nesting level) */
    X86_OPK_ACC,      /* AL / AX / EAX / RAX by operand size */
    X86_OPK_CL,       /* CL (shift counts) */
    X86_OPK_ONE,      /* the constant 1 (shift by one) */
    X86_OPK_DX,       /* DX as an I/O port */
    X86_OPK_SREG,     /* segment register insn->reg */
    X86_OPK_CREG,     /* control register insn->reg */
    X86_OPK_DREG,     /* debug register insn->reg */
    X86_OPK_MOFFS,    /* memory at offset insn->disp in segment insn->seg (a0-a3) */
    X86_OPK_REL,      /* branch target: next EIP + (int32_t)insn->imm */
    X86_OPK_FARPTR,   /* direct far pointer: offset insn->imm, selector insn->imm2 */
    X86_OPK_STR_SRC,  /* string source DS:(E)SI, segment insn->seg */
    X86_OPK_STR_DST,  /* string destination ES:(E)DI */
    X86_OPK_ST0,      /* x87 ST(0) */
    X86_OPK_STI,      /* x87 ST(i), i = insn->rm */
    X86_OPK_COUNT
};

/* insn->prefixes bits */
#define X86_PFX_LOCK     0x0001u
#define X86_PFX_REP      0x0002u /* F3: rep / repe */
#define X86_PFX_REPNE    0x0004u /* F2: repne */
#define X86_PFX_OPSIZE   0x0008u /* 66 */
#define X86_PFX_ADDRSIZE 0x0010u /* 67 */
#define X86_PFX_SEG      0x0020u /* a segment override is present (insn->seg has it) */
#define X86_PFX_REX      0x0040u /* a REX prefix is present (64-bit mode) */
#define X86_PFX_REX_W    0x0080u

/* Opcode maps */
enum x86_opcode_map { X86_MAP_PRIMARY = 0, X86_MAP_0F, X86_MAP_0F38, X86_MAP_0F3A };

struct x86_cpu;
struct x86_insn;
typedef void (*x86_exec_fn)(struct x86_cpu *cpu, const struct x86_insn *insn);

struct x86_insn {
    x86_exec_fn exec;     /* the handler, chosen once by x86_exec_lookup() at predecode */
    uint64_t imm;         /* first immediate, sign- or zero-extended as the form says; for
                             X86_OPK_REL the displacement (sign-extended) */
    int32_t disp;         /* ModRM/SIB displacement or moffs offset (sign-extended) */
    uint16_t imm2;        /* second immediate: enter's level, a far pointer's selector */
    uint16_t mnemonic;    /* enum x86_mnemonic */
    uint16_t prefixes;    /* X86_PFX_* */
    uint8_t length;       /* total bytes, 1-15 */
    uint8_t map;          /* enum x86_opcode_map */
    uint8_t opcode;       /* the opcode byte within its map */
    uint8_t opsize;       /* operand size in bytes: 1, 2, 4 or 8 */
    uint8_t addrsize;     /* address size in bytes: 2, 4 or 8 */
    uint8_t mode;         /* enum x86_mode it was decoded in */
    uint8_t has_modrm;
    uint8_t mod;          /* ModRM.mod; 3 means r/m names a register */
    uint8_t reg;          /* ModRM.reg (+REX.R), or the register in the opcode's low bits */
    uint8_t rm;           /* ModRM.rm (+REX.B) */
    uint8_t seg;          /* segment of the memory operand: the override, else the default
                             (SS when the base is (E)BP or (E)SP, else DS) */
    uint8_t base;         /* EA base register, or X86_REG_NONE */
    uint8_t index;        /* EA index register, or X86_REG_NONE */
    uint8_t scale;        /* EA index scale as a shift: 0-3 */
    uint8_t rip_relative; /* 64-bit mode: EA = next RIP + disp */
    uint8_t cond;         /* condition code 0-15 of jcc / setcc / cmovcc */
    uint8_t operand[3];   /* enum x86_operand_kind, destination first */
    uint8_t cost_class;   /* enum x86_cost_class (cycle model) */
    uint8_t imm_size;     /* bytes of the first immediate as encoded (0 if none) */
    uint16_t cycles;      /* modelled cost, filled at predecode from the cost profile */
    uint8_t fast;         /* enum x86_fast_op: an inline form of the run loop, or 0 */
};

/* The fast forms (fast_forms.def): specialised handlers for the commonest operand shapes, which
 * the run loop also executes inline (threaded dispatch, src/cpu/run.c); 0 for anything else,
 * which goes through insn->exec. Chosen at predecode by x86_exec_fast_op(). */
enum x86_fast_op {
    X86_FAST_NONE = 0,
#define FAST(NAME, name, mnemonic, shape) X86_FAST_##NAME,
#include "fast_forms.def"
#undef FAST
    X86_FAST_COUNT
};
uint8_t x86_exec_fast_op(const struct x86_insn *insn);

/* Result of x86_decode() */
enum x86_decode_status {
    X86_DECODE_OK = 0,
    X86_DECODE_INVALID,    /* not a valid encoding in this mode: #UD */
    X86_DECODE_TOO_LONG,   /* longer than X86_MAX_INSN_LENGTH bytes: #GP(0) */
    X86_DECODE_TRUNCATED,  /* ran out of the available bytes: fetch more (or #PF/#GP on fetch) */
};

/* Decode one instruction from bytes[0..available). Pure: no machine state. On X86_DECODE_OK
 * *out is complete except out->exec. On X86_DECODE_INVALID, out->length is the number of
 * bytes examined. */
enum x86_decode_status x86_decode(const uint8_t *bytes, size_t available, enum x86_mode mode,
                                  struct x86_insn *out);

/* Interpreter: the handler for a decoded instruction (never NULL: a handler raising #UD for
 * what is not implemented). */
x86_exec_fn x86_exec_lookup(const struct x86_insn *insn);
/* Does the mnemonic execute in 64-bit mode (mnemonics64.def)? Else it raises #UD there. */
bool x86_exec_in_64bit_mode(unsigned mnemonic);

/* Cycle-cost classes of the opcode table; the machine's cost profile gives each a cost. */
enum x86_cost_class {
    X86_COST_SIMPLE = 0,   /* mov, alu reg-reg, lea, flags ops */
    X86_COST_MEMORY,       /* extra for a memory operand (added at predecode) */
    X86_COST_BRANCH,       /* jmp, jcc, call, ret, loop */
    X86_COST_MUL,
    X86_COST_DIV,
    X86_COST_STRING,       /* per iteration of a string instruction */
    X86_COST_IO,           /* in/out */
    X86_COST_SYSTEM,       /* lgdt, mov cr, cpuid, wrmsr... */
    X86_COST_SEGMENT,      /* far jmp/call/ret, segment loads */
    X86_COST_X87,
    X86_COST_DELIVERY,     /* delivering an exception or interrupt (not in the opcode table) */
    X86_COST_PRIVILEGE,    /* extra for a privilege change on delivery or return */
    X86_COST_IRET,         /* iret (replaces the instruction's class cost) */
    X86_COST_TASK_SWITCH,  /* a task switch (task gate, far jmp/call to a TSS, IRET with NT) */
    X86_COST_CLASS_COUNT
};

#endif
