/* x86irq-run's record files: see record.h. */
#include "record.h"

#include "files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char magic[14] = { 'x', '8', '6', 'i', 'r', 'q', '-', 'r', 'e', 'c', 'o', 'r', 'd', '\n' };

uint64_t record_hash(uint64_t h, const void *data, size_t size)
{
    if (h == 0)
        h = 0xcbf29ce484222325ull;
    const uint8_t *p = data;
    for (size_t i = 0; i < size; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void record_free(struct recording *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->entries[i].data);
    free(r->entries);
    memset(r, 0, sizeof(*r));
}

bool record_parse(const uint8_t *data, size_t size, struct recording *out, char *error,
                  size_t error_size)
{
    memset(out, 0, sizeof(*out));
#define FAIL(...)                                     \
    do {                                              \
        snprintf(error, error_size, __VA_ARGS__);     \
        record_free(out);                             \
        return false;                                 \
    } while (0)
    if (size < 34 || memcmp(data, magic, sizeof(magic)) != 0)
        FAIL("not an x86irq-run record file");
    uint32_t version = (uint32_t)le(data + 14, 4);
    if (version != RECORD_VERSION)
        FAIL("record format version %u (this runner reads version %u)", version, RECORD_VERSION);
    out->fingerprint = le(data + 18, 8);
    out->slice = le(data + 26, 8);
    if (out->slice == 0)
        FAIL("a console slice of 0 cycles");
    size_t at = 34, capacity = 0;
    bool ended = false;
    uint64_t last_cycle = 0;
    while (at < size) {
        if (ended)
            FAIL("data after the end record at byte %zu", at);
        if (size - at < 13)
            FAIL("a record cut short at byte %zu", at);
        uint8_t kind = data[at];
        uint64_t cycle = le(data + at + 1, 8);
        uint32_t length = (uint32_t)le(data + at + 9, 4);
        at += 13;
        if (kind < RECORD_SERIAL || kind > RECORD_END)
            FAIL("unknown record kind %u at byte %zu", kind, at - 13);
        if (length > RECORD_MAX_PAYLOAD || length > size - at)
            FAIL("a record of %u bytes at byte %zu runs past the file's end", length, at - 13);
        if ((kind == RECORD_SERIAL && length == 0) || (kind == RECORD_QUIT && length != 0) ||
            (kind == RECORD_END && length != 24))
            FAIL("a kind %u record of %u bytes at byte %zu", kind, length, at - 13);
        if (cycle < last_cycle)
            FAIL("records out of cycle order at byte %zu", at - 13);
        last_cycle = cycle;
        if (kind == RECORD_END) {
            out->end_cycles = le(data + at, 8);
            out->end_instructions = le(data + at + 8, 8);
            out->end_reason = (uint32_t)le(data + at + 16, 4);
            out->end_quit = (uint32_t)le(data + at + 20, 4);
            ended = true;
        }
        if (out->count == capacity) {
            size_t n = capacity ? capacity * 2 : 64;
            struct record_entry *bigger = realloc(out->entries, n * sizeof(*bigger));
            if (!bigger)
                FAIL("out of memory");
            out->entries = bigger;
            capacity = n;
        }
        struct record_entry *e = &out->entries[out->count];
        *e = (struct record_entry){ kind, cycle, length, NULL };
        if (length) {
            e->data = malloc(length);
            if (!e->data)
                FAIL("out of memory");
            memcpy(e->data, data + at, length);
        }
        out->count++;
        at += length;
    }
    if (!ended)
        FAIL("no end record: the recording was cut short");
#undef FAIL
    return true;
}

bool record_load(const char *path, struct recording *out, char *error, size_t error_size,
                 bool *unreadable)
{
    memset(out, 0, sizeof(*out));
    *unreadable = false;
    FILE *f = open_input(path, "rb");
    if (!f) {
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        *unreadable = true;
        return false;
    }
    size_t capacity = 1 << 16, size = 0;
    uint8_t *data = malloc(capacity);
    while (data) {
        size += fread(data + size, 1, capacity - size, f);
        if (size < capacity)
            break;
        if (capacity >= (1u << 30)) {
            free(data);
            data = NULL;
            break;
        }
        uint8_t *bigger = realloc(data, capacity * 2);
        if (!bigger) {
            free(data);
            data = NULL;
            break;
        }
        data = bigger;
        capacity *= 2;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (!data || failed) {
        *unreadable = failed;
        snprintf(error, error_size, "%s: %s", path, !data ? "too large or out of memory"
                                                          : "read error");
        free(data);
        return false;
    }
    char message[160];
    bool ok = record_parse(data, size, out, message, sizeof(message));
    free(data);
    if (!ok)
        snprintf(error, error_size, "%s: %s", path, message);
    return ok;
}

static bool put_le(FILE *f, uint64_t v, unsigned n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fwrite(b, 1, n, f) == n;
}

bool record_write_header(FILE *f, uint64_t fingerprint, uint64_t slice)
{
    return fwrite(magic, 1, sizeof(magic), f) == sizeof(magic) && put_le(f, RECORD_VERSION, 4) &&
           put_le(f, fingerprint, 8) && put_le(f, slice, 8);
}

bool record_write(FILE *f, uint8_t kind, uint64_t cycle, const void *payload, uint32_t length)
{
    return put_le(f, kind, 1) && put_le(f, cycle, 8) && put_le(f, length, 4) &&
           (!length || fwrite(payload, 1, length, f) == length);
}
