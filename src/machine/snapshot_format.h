/* The snapshot container (docs/debugging.md, "Snapshot format"): a fixed header that names the
 * format version, the library, the state layout and the machine's configuration, with
 * checksums, then tagged sections. What the sections hold is snapshot_state.c's business; this
 * file only writes and reads the container, and compresses RAM. */
#ifndef X86IRQ_MACHINE_SNAPSHOT_FORMAT_H
#define X86IRQ_MACHINE_SNAPSHOT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X86_SNAPSHOT_MAGIC "x86irqSN"
#define X86_SNAPSHOT_VERSION 1u
#define X86_SNAPSHOT_HEADER_SIZE 128u

/* What the header says about the machine: a restore compares it with the machine's own */
struct x86_snapshot_header {
    uint32_t version;
    char library[32];          /* x86irq_version() of the build that saved it */
    uint64_t layout;           /* fingerprint of the state layout (snapshot_state.c) */
    uint64_t ram_size, cpu_hz;
    uint32_t cpus, isa;
    uint32_t devices;          /* bit 0 no_default_devices, 1 nic_msi, 2 nic_peer */
    uint32_t linux_entry;
    int64_t rtc_epoch;
    uint64_t quantum;
    uint64_t symbols;          /* fingerprint of the symbols loaded (0: none) */
    uint64_t payload_size;
    uint32_t payload_crc;
};

/* A growing output buffer */
struct x86_snapshot_writer {
    uint8_t *data;
    size_t size, capacity;
    bool failed;               /* out of memory: every later write is dropped */
};

void x86_snapshot_put(struct x86_snapshot_writer *w, const void *bytes, size_t size);
void x86_snapshot_put_u32(struct x86_snapshot_writer *w, uint32_t value);
void x86_snapshot_put_u64(struct x86_snapshot_writer *w, uint64_t value);
/* Start a section (tag: four characters, index: which core...); returns the offset of its length
 * field, which x86_snapshot_end_section fills in. */
size_t x86_snapshot_begin_section(struct x86_snapshot_writer *w, const char tag[4], uint32_t index);
void x86_snapshot_end_section(struct x86_snapshot_writer *w, size_t at);
/* RAM: a bitmap of the 4 KiB pages that differ from base's (base NULL: the non-zero pages),
 * then those pages deflated (zlib). */
void x86_snapshot_put_ram(struct x86_snapshot_writer *w, const uint8_t *ram, uint64_t size,
                          const uint8_t *base);
/* Put the header before the sections written so far (it is the first X86_SNAPSHOT_HEADER_SIZE
 * bytes, reserved by x86_snapshot_writer_start), with the payload's size and CRC. */
void x86_snapshot_writer_start(struct x86_snapshot_writer *w);
void x86_snapshot_finish(struct x86_snapshot_writer *w, const struct x86_snapshot_header *h);

/* Reading: a cursor over the bytes, bounds-checked */
struct x86_snapshot_reader {
    const uint8_t *data;
    size_t size, at;
    bool failed;               /* read past the end: every later read gives zeros */
};

bool x86_snapshot_get(struct x86_snapshot_reader *r, void *out, size_t size);
uint32_t x86_snapshot_get_u32(struct x86_snapshot_reader *r);
uint64_t x86_snapshot_get_u64(struct x86_snapshot_reader *r);

/* Parse and check the header (magic, version, header CRC, payload size and CRC): false with a
 * message in error. On success *payload covers the sections. */
bool x86_snapshot_open(const void *data, size_t size, struct x86_snapshot_header *h,
                       struct x86_snapshot_reader *payload, char *error, size_t error_size);

/* A section of the payload: tag, index and its bytes. false at the end (or, with r->failed,
 * a section that overruns the payload). */
struct x86_snapshot_section {
    char tag[5];
    uint32_t index;
    struct x86_snapshot_reader body;
};
bool x86_snapshot_next_section(struct x86_snapshot_reader *r, struct x86_snapshot_section *s);

/* Inflate a RAM section into ram (size bytes, zeroed by the caller, or a delta's base RAM: the
 * pages the bitmap names are replaced); false: damaged. */
bool x86_snapshot_get_ram(struct x86_snapshot_reader *r, uint8_t *ram, uint64_t size);

/* FNV-1a, for the fingerprints */
uint64_t x86_snapshot_hash(uint64_t hash, const void *bytes, size_t size);
#define X86_SNAPSHOT_HASH_INIT 0xcbf29ce484222325ull

#endif
