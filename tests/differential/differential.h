/* Shared between the native runner (32-bit, runs sequences on the host CPU) and the comparer
 * (links libx86irq): the record formats of the differential test. */
#ifndef DIFFERENTIAL_H
#define DIFFERENTIAL_H

#include <stdint.h>

#define DIFF_CODE_MAX 64
#define DIFF_BUFFER_ADDRESS 0x00300000u /* string operations work here, in both worlds */
#define DIFF_BUFFER_SIZE 256u

/* registers in popad order: EDI ESI EBP (ESP) EBX EDX ECX EAX */
struct diff_case {
    uint8_t code[DIFF_CODE_MAX];
    uint32_t code_length;
    uint32_t instructions;
    uint32_t regs[8];
    uint32_t eflags;
};

struct diff_result {
    uint32_t regs[8];
    uint32_t eflags;
    uint8_t buffer[DIFF_BUFFER_SIZE];
};

/* the buffer's contents before each case */
static inline void diff_fill_buffer(uint8_t *buffer, uint32_t seed)
{
    for (uint32_t i = 0; i < DIFF_BUFFER_SIZE; i++)
        buffer[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 3));
}

/* 64-bit mode (differential64.c, native_runner64.c): the case's code runs at a fixed address
 * in both worlds, so RIP-relative operands reach the buffer alike */
#define DIFF64_CODE_ADDRESS 0x00310000u

/* registers by number: RAX RCX RDX RBX (RSP) RBP RSI RDI R8-R15 */
struct diff64_case {
    uint8_t code[DIFF_CODE_MAX];
    uint32_t code_length;
    uint32_t pad;
    uint64_t regs[16];
    uint64_t rflags;
};

struct diff64_result {
    uint64_t regs[16];
    uint64_t rflags;
    uint8_t buffer[DIFF_BUFFER_SIZE];
};

/* The SIMD variant (differential_simd.c, native_runner_simd.c): 64-bit mode, the sixteen XMM
 * registers and MXCSR in and out besides the general registers; code at its own address */
#define DIFF_SIMD_CODE_ADDRESS 0x00320000u

struct diff_simd_case {
    uint8_t code[DIFF_CODE_MAX];
    uint32_t code_length;
    uint32_t mxcsr;
    uint64_t regs[16];
    uint64_t rflags;
    uint8_t xmm[16][16];
};

struct diff_simd_result {
    uint64_t regs[16];
    uint64_t rflags;
    uint32_t mxcsr;
    uint32_t vector;       /* 0, or 19: the sequence stopped with #XM */
    uint32_t fault_offset; /* with a vector: the faulting instruction's offset in the code */
    uint32_t pad;
    uint8_t xmm[16][16];
    uint8_t buffer[DIFF_BUFFER_SIZE];
};

#endif
