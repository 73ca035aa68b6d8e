/* The snapshot container: header, sections, compressed RAM (snapshot_format.h). Integers are
 * little-endian; checksums are CRC-32 (zlib's, the ISO 3309 polynomial). */
#include "machine/snapshot_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PAGE 4096u

/* ------------------------------------------------------------------ writing */

static bool reserve(struct x86_snapshot_writer *w, size_t more)
{
    if (w->failed)
        return false;
    if (more <= w->capacity - w->size)
        return true;
    size_t capacity = w->capacity ? w->capacity : 1u << 16;
    while (capacity - w->size < more) {
        if (capacity > SIZE_MAX / 2) {
            w->failed = true;
            return false;
        }
        capacity *= 2;
    }
    uint8_t *bigger = realloc(w->data, capacity);
    if (!bigger) {
        w->failed = true;
        return false;
    }
    w->data = bigger;
    w->capacity = capacity;
    return true;
}

void x86_snapshot_put(struct x86_snapshot_writer *w, const void *bytes, size_t size)
{
    if (size && reserve(w, size)) {
        memcpy(w->data + w->size, bytes, size);
        w->size += size;
    }
}

static void store_u32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void store_u64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t load_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t load_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void x86_snapshot_put_u32(struct x86_snapshot_writer *w, uint32_t value)
{
    uint8_t b[4];
    store_u32(b, value);
    x86_snapshot_put(w, b, 4);
}
void x86_snapshot_put_u64(struct x86_snapshot_writer *w, uint64_t value)
{
    uint8_t b[8];
    store_u64(b, value);
    x86_snapshot_put(w, b, 8);
}

size_t x86_snapshot_begin_section(struct x86_snapshot_writer *w, const char tag[4], uint32_t index)
{
    x86_snapshot_put(w, tag, 4);
    x86_snapshot_put_u32(w, index);
    size_t at = w->size;
    x86_snapshot_put_u64(w, 0);
    return at;
}

void x86_snapshot_end_section(struct x86_snapshot_writer *w, size_t at)
{
    if (!w->failed)
        store_u64(w->data + at, w->size - at - 8);
}

void x86_snapshot_writer_start(struct x86_snapshot_writer *w)
{
    uint8_t zero[X86_SNAPSHOT_HEADER_SIZE] = { 0 };
    x86_snapshot_put(w, zero, sizeof(zero));
}

void x86_snapshot_put_ram(struct x86_snapshot_writer *w, const uint8_t *ram, uint64_t size,
                          const uint8_t *base)
{
    uint64_t pages = (size + PAGE - 1) / PAGE;
    x86_snapshot_put_u64(w, size);
    size_t bitmap_at = w->size;
    if (!reserve(w, (size_t)((pages + 7) / 8)))
        return;
    memset(w->data + bitmap_at, 0, (size_t)((pages + 7) / 8));
    w->size += (size_t)((pages + 7) / 8);
    for (uint64_t p = 0; p < pages; p++) {
        uint64_t length = size - p * PAGE < PAGE ? size - p * PAGE : PAGE;
        const uint8_t *page = ram + p * PAGE;
        bool same = base ? memcmp(page, base + p * PAGE, (size_t)length) == 0
                         : page[0] == 0 && memcmp(page, page + 1, (size_t)length - 1) == 0;
        if (!same)
            w->data[bitmap_at + p / 8] |= (uint8_t)(1u << (p % 8));
    }
    size_t length_at = w->size;
    x86_snapshot_put_u64(w, 0);
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (w->failed || deflateInit(&z, Z_BEST_SPEED) != Z_OK) {
        w->failed = true;
        return;
    }
    size_t start = w->size;
    for (uint64_t p = 0; p <= pages; p++) {
        bool last = p == pages;
        if (!last && !(w->data[bitmap_at + p / 8] & (1u << (p % 8))))
            continue;
        z.next_in = last ? NULL : (Bytef *)(ram + p * PAGE);
        z.avail_in = last ? 0 : (uInt)(size - p * PAGE < PAGE ? size - p * PAGE : PAGE);
        int flush = last ? Z_FINISH : Z_NO_FLUSH;
        int status;
        do {
            if (!reserve(w, PAGE * 4)) {
                deflateEnd(&z);
                return;
            }
            z.next_out = w->data + w->size;
            z.avail_out = PAGE * 4;
            status = deflate(&z, flush);
            w->size += PAGE * 4 - z.avail_out;
        } while (status == Z_OK && (z.avail_in || (last && status != Z_STREAM_END)));
        if (status == Z_STREAM_ERROR) {
            w->failed = true;
            break;
        }
    }
    deflateEnd(&z);
    if (!w->failed)
        store_u64(w->data + length_at, w->size - start);
}

void x86_snapshot_finish(struct x86_snapshot_writer *w, const struct x86_snapshot_header *h)
{
    if (w->failed || w->size < X86_SNAPSHOT_HEADER_SIZE)
        return;
    uint8_t *p = w->data;
    memset(p, 0, X86_SNAPSHOT_HEADER_SIZE);
    memcpy(p, X86_SNAPSHOT_MAGIC, 8);
    store_u32(p + 8, h->version);
    store_u32(p + 12, X86_SNAPSHOT_HEADER_SIZE);
    memcpy(p + 16, h->library, sizeof(h->library));
    store_u64(p + 48, h->layout);
    store_u64(p + 56, h->ram_size);
    store_u64(p + 64, h->cpu_hz);
    store_u32(p + 72, h->cpus);
    store_u32(p + 76, h->isa);
    store_u32(p + 80, h->devices);
    store_u32(p + 84, h->linux_entry);
    store_u64(p + 88, (uint64_t)h->rtc_epoch);
    store_u64(p + 96, h->quantum);
    store_u64(p + 104, h->symbols);
    uint64_t payload = w->size - X86_SNAPSHOT_HEADER_SIZE;
    store_u64(p + 112, payload);
    /* crc32 takes a uInt length: feed the payload in pieces */
    uLong crc = crc32(0, Z_NULL, 0);
    for (uint64_t at = 0; at < payload;) {
        uInt n = payload - at > (1u << 30) ? 1u << 30 : (uInt)(payload - at);
        crc = crc32(crc, p + X86_SNAPSHOT_HEADER_SIZE + at, n);
        at += n;
    }
    store_u32(p + 120, (uint32_t)crc);
    store_u32(p + 124, (uint32_t)crc32(crc32(0, Z_NULL, 0), p, 124));
}

/* ------------------------------------------------------------------ reading */

bool x86_snapshot_get(struct x86_snapshot_reader *r, void *out, size_t size)
{
    if (r->failed || size > r->size - r->at) {
        r->failed = true;
        if (out && size)
            memset(out, 0, size);
        return false;
    }
    if (size)
        memcpy(out, r->data + r->at, size);
    r->at += size;
    return true;
}

uint32_t x86_snapshot_get_u32(struct x86_snapshot_reader *r)
{
    uint8_t b[4];
    return x86_snapshot_get(r, b, 4) ? load_u32(b) : 0;
}
uint64_t x86_snapshot_get_u64(struct x86_snapshot_reader *r)
{
    uint8_t b[8];
    return x86_snapshot_get(r, b, 8) ? load_u64(b) : 0;
}

bool x86_snapshot_open(const void *data, size_t size, struct x86_snapshot_header *h,
                       struct x86_snapshot_reader *payload, char *error, size_t error_size)
{
    const uint8_t *p = data;
    memset(h, 0, sizeof(*h));
    if (!data || size < 16 || memcmp(p, X86_SNAPSHOT_MAGIC, 8) != 0) {
        snprintf(error, error_size, "not an x86irq snapshot (no \"%s\" magic)",
                 X86_SNAPSHOT_MAGIC);
        return false;
    }
    h->version = load_u32(p + 8);
    if (h->version != X86_SNAPSHOT_VERSION) {
        snprintf(error, error_size, "snapshot format version %u; this library reads version %u",
                 h->version, X86_SNAPSHOT_VERSION);
        return false;
    }
    if (size < X86_SNAPSHOT_HEADER_SIZE || load_u32(p + 12) != X86_SNAPSHOT_HEADER_SIZE) {
        snprintf(error, error_size, "snapshot truncated or damaged: its header is incomplete");
        return false;
    }
    if (load_u32(p + 124) != (uint32_t)crc32(crc32(0, Z_NULL, 0), p, 124)) {
        snprintf(error, error_size, "snapshot damaged: its header's checksum does not match");
        return false;
    }
    memcpy(h->library, p + 16, sizeof(h->library));
    h->library[sizeof(h->library) - 1] = 0;
    h->layout = load_u64(p + 48);
    h->ram_size = load_u64(p + 56);
    h->cpu_hz = load_u64(p + 64);
    h->cpus = load_u32(p + 72);
    h->isa = load_u32(p + 76);
    h->devices = load_u32(p + 80);
    h->linux_entry = load_u32(p + 84);
    h->rtc_epoch = (int64_t)load_u64(p + 88);
    h->quantum = load_u64(p + 96);
    h->symbols = load_u64(p + 104);
    h->payload_size = load_u64(p + 112);
    h->payload_crc = load_u32(p + 120);
    if (h->payload_size != size - X86_SNAPSHOT_HEADER_SIZE) {
        snprintf(error, error_size,
                 "snapshot truncated or damaged: %zu bytes of sections, the header says %llu",
                 size - X86_SNAPSHOT_HEADER_SIZE, (unsigned long long)h->payload_size);
        return false;
    }
    uLong crc = crc32(0, Z_NULL, 0);
    for (uint64_t at = 0; at < h->payload_size;) {
        uInt n = h->payload_size - at > (1u << 30) ? 1u << 30 : (uInt)(h->payload_size - at);
        crc = crc32(crc, p + X86_SNAPSHOT_HEADER_SIZE + at, n);
        at += n;
    }
    if ((uint32_t)crc != h->payload_crc) {
        snprintf(error, error_size, "snapshot damaged: its contents' checksum does not match");
        return false;
    }
    *payload = (struct x86_snapshot_reader){ p + X86_SNAPSHOT_HEADER_SIZE,
                                             (size_t)h->payload_size, 0, false };
    return true;
}

bool x86_snapshot_next_section(struct x86_snapshot_reader *r, struct x86_snapshot_section *s)
{
    if (r->failed || r->at == r->size)
        return false;
    memset(s, 0, sizeof(*s));
    x86_snapshot_get(r, s->tag, 4);
    s->index = x86_snapshot_get_u32(r);
    uint64_t length = x86_snapshot_get_u64(r);
    if (r->failed || length > r->size - r->at) {
        r->failed = true;
        return false;
    }
    s->body = (struct x86_snapshot_reader){ r->data + r->at, (size_t)length, 0, false };
    r->at += (size_t)length;
    return true;
}

bool x86_snapshot_get_ram(struct x86_snapshot_reader *r, uint8_t *ram, uint64_t size)
{
    if (x86_snapshot_get_u64(r) != size)
        return false;
    uint64_t pages = (size + PAGE - 1) / PAGE;
    size_t bitmap_size = (size_t)((pages + 7) / 8);
    if (r->failed || bitmap_size > r->size - r->at)
        return false;
    const uint8_t *bitmap = r->data + r->at;
    r->at += bitmap_size;
    uint64_t length = x86_snapshot_get_u64(r);
    if (r->failed || length > r->size - r->at || length > UINT32_MAX)
        return false;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK)
        return false;
    z.next_in = (Bytef *)(r->data + r->at);
    z.avail_in = (uInt)length;
    bool ok = true;
    int status = Z_OK;
    for (uint64_t p = 0; p < pages && ok; p++) {
        if (!(bitmap[p / 8] & (1u << (p % 8))))
            continue;
        z.next_out = ram + p * PAGE;
        z.avail_out = (uInt)(size - p * PAGE < PAGE ? size - p * PAGE : PAGE);
        while (z.avail_out && ok) {
            status = inflate(&z, Z_NO_FLUSH);
            ok = status == Z_OK || (status == Z_STREAM_END && z.avail_out == 0);
        }
    }
    if (ok && status != Z_STREAM_END) {
        /* the pages are all there: the stream must end now, with nothing after it */
        uint8_t spare;
        z.next_out = &spare;
        z.avail_out = 1;
        status = inflate(&z, Z_FINISH);
        ok = status == Z_STREAM_END && z.avail_out == 1;
    }
    ok = ok && z.avail_in == 0;
    inflateEnd(&z);
    r->at += (size_t)length;
    return ok;
}

uint64_t x86_snapshot_hash(uint64_t hash, const void *bytes, size_t size)
{
    const uint8_t *p = bytes;
    for (size_t i = 0; i < size; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}
