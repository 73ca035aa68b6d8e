/* Capstone-backed disassembly (disasm.c). Kept apart from the core's headers: Capstone's
 * x86.h declares names (enum x86_insn) that clash with the core's. */
#ifndef X86IRQ_TRACE_DISASM_H
#define X86IRQ_TRACE_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct x86_disassembler;

/* Disassemble one instruction into buffer ("mov eax, 1", or "(bad)"). *handle is created on
 * first use; free it with x86_disassembler_destroy(). */
size_t x86_disassemble(struct x86_disassembler **handle, const uint8_t *bytes, size_t length,
                       uint64_t address, unsigned mode_bits, char *buffer, size_t size);
void x86_disassembler_destroy(struct x86_disassembler *d);

#endif
