/* Capstone-backed disassembly for traces. Capstone lives only here: the core never calls it.
 * Handles are opened on first use, one per mode, and kept with the machine. */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/disasm.h"

struct x86_disassembler {
    csh handle[3];   /* 16, 32, 64-bit */
    bool open[3];
    bool failed[3];
};

void x86_disassembler_destroy(struct x86_disassembler *d)
{
    if (!d)
        return;
    for (unsigned i = 0; i < 3; i++)
        if (d->open[i])
            cs_close(&d->handle[i]);
    free(d);
}

size_t x86_disassemble(struct x86_disassembler **handle, const uint8_t *bytes, size_t length,
                       uint64_t address, unsigned mode_bits, char *buffer, size_t size)
{
    if (!buffer || size == 0)
        return 0;
    buffer[0] = '\0';
    if (!bytes)
        return 0;
    unsigned index = mode_bits == 16 ? 0 : mode_bits == 64 ? 2 : 1;
    if (!*handle) {
        *handle = calloc(1, sizeof(**handle));
        if (!*handle)
            return 0;
    }
    struct x86_disassembler *d = *handle;
    if (!d->open[index] && !d->failed[index]) {
        static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
        if (cs_open(CS_ARCH_X86, modes[index], &d->handle[index]) == CS_ERR_OK)
            d->open[index] = true;
        else
            d->failed[index] = true;
    }
    int n;
    cs_insn *insn = NULL;
    if (d->open[index] && cs_disasm(d->handle[index], bytes, length, address, 1, &insn) == 1) {
        n = snprintf(buffer, size, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
                     insn->op_str);
        cs_free(insn, 1);
    } else {
        n = snprintf(buffer, size, "(bad)");
    }
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}
