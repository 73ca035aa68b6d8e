/* Disassembly without Capstone (meson setup -Dcapstone=disabled, or Capstone not installed):
 * the library's own decoder names the instruction and its length, and the text is the
 * mnemonic and the instruction's bytes, "mov [8b 45 08]", without operands. */
#include <stdio.h>
#include <stdlib.h>

#include "cpu/insn.h"
#include "trace/disasm.h"

struct x86_disassembler {
    int unused; /* nothing to keep: no handles */
};

void x86_disassembler_destroy(struct x86_disassembler *d)
{
    free(d);
}

size_t x86_disassemble(struct x86_disassembler **handle, const uint8_t *bytes, size_t length,
                       uint64_t address, unsigned mode_bits, char *buffer, size_t size)
{
    (void)handle;
    (void)address;
    if (!buffer || size == 0)
        return 0;
    buffer[0] = '\0';
    if (!bytes)
        return 0;
    enum x86_mode mode = mode_bits == 16 ? X86_MODE_16 : mode_bits == 64 ? X86_MODE_64
                                                                           : X86_MODE_32;
    struct x86_insn insn;
    int n;
    if (x86_decode(bytes, length, mode, &insn) == X86_DECODE_OK) {
        n = snprintf(buffer, size, "%s [", x86_mnemonic_name(insn.mnemonic));
        for (unsigned i = 0; i < insn.length && n >= 0 && (size_t)n < size; i++)
            n += snprintf(buffer + n, size - (size_t)n, i ? " %02x" : "%02x", bytes[i]);
        if (n >= 0 && (size_t)n < size)
            n += snprintf(buffer + n, size - (size_t)n, "]");
    } else {
        n = snprintf(buffer, size, "(bad)");
    }
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}
