/* Fuzz target for the nm-format symbol parser (src/loader/symbols.c: System.map, kallsyms):
 * any bytes. An accepted list is sorted and every lookup lands on a listed symbol. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct x86_symbol_table t;
    char error[256] = "";
    if (!x86_symbols_parse_nm((const char *)data, size, &t, error, sizeof(error))) {
        if (!error[0] || t.count != 0 || t.symbols)
            abort();
        return 0;
    }
    for (size_t i = 1; i < t.count; i++)
        if (t.symbols[i - 1].address > t.symbols[i].address)
            abort();
    for (size_t i = 0; i < t.count; i++) {
        const struct x86_symbol *s = x86_symbols_lookup(&t, t.symbols[i].address);
        if (!s || s->address != t.symbols[i].address || strlen(s->name) == 0 ||
            x86_symbols_find(&t, s->name) == NULL)
            abort();
    }
    x86_symbols_free(&t);
    return 0;
}
