/* Fuzz target for x86irq-run's record files (tools/record.c, --replay): any bytes. A file that
 * parses has its records in cycle order with the end record last, and written out again it
 * is the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct recording r;
    char error[200] = "";
    if (!record_parse(data, size, &r, error, sizeof(error))) {
        if (!error[0] || r.entries || r.count)
            abort();
        return 0;
    }
    if (r.count == 0 || r.entries[r.count - 1].kind != RECORD_END)
        abort();
    char *copy = NULL;
    size_t copy_size = 0;
    FILE *f = open_memstream(&copy, &copy_size);
    if (!f)
        abort();
    bool ok = record_write_header(f, r.fingerprint, r.slice);
    for (size_t i = 0; i < r.count; i++) {
        const struct record_entry *e = &r.entries[i];
        if (i && e->cycle < r.entries[i - 1].cycle)
            abort();
        ok &= record_write(f, e->kind, e->cycle, e->data, e->length);
    }
    fclose(f);
    if (!ok || copy_size != size || memcmp(copy, data, size) != 0)
        abort();
    free(copy);
    record_free(&r);
    return 0;
}
