/* Fuzz target for the decoder: any bytes, all three modes. Checks the decoder's own promises:
 * it never reads past `available`, a decoded length is 1-15 and within what was given, and a
 * truncated answer only comes when fewer than 15 bytes were given.
 *   clang -fsanitize=fuzzer,address -DX86IRQ_LIBFUZZER ... (docs/decoder.md), or the plain
 *   driver (fuzz_main.c) that meson test runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t start = 0; start < size; start += 1 + start / 8) {
        size_t available = size - start;
        /* a private copy of exactly `available` bytes: ASan catches any over-read */
        uint8_t *copy = malloc(available ? available : 1);
        if (!copy)
            return 0;
        memcpy(copy, data + start, available);
        for (int mode = 0; mode < 3; mode++) {
            struct x86_insn insn;
            enum x86_decode_status s = x86_decode(copy, available, (enum x86_mode)mode, &insn);
            if (s == X86_DECODE_OK && (insn.length == 0 || insn.length > 15 || insn.length > available))
                abort();
            if (s == X86_DECODE_TRUNCATED && available >= 15)
                abort();
            if (s == X86_DECODE_OK && insn.mnemonic >= X86_MN_COUNT)
                abort();
        }
        free(copy);
    }
    return 0;
}
