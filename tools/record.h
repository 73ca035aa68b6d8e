/* x86irq-run --record / --replay: the host's input to a run, stamped with the machine's
 * cycle, in a file (docs/cli.md, "Record and replay"). The interactive console is the one input
 * of a run that a file does not already fix; recorded, a session typed by hand replays
 * bit-identically. The file names the run it belongs to by a fingerprint of the guest files
 * and the options that change what the machine does; another run refuses it.
 *
 * Format (little-endian): the 14 bytes "x86irq-record\n", u32 version (1), u64 fingerprint,
 * u64 slice (the console's slice, in cycles); then records: u8 kind, u64 cycle, u32 length,
 * the payload. Kinds: 1 serial bytes for COM1, 2 the user quit (no payload), 3 the end (u64
 * cycles, u64 instructions, u32 stop reason, u32 quit), last. */
#ifndef X86IRQ_TOOLS_RECORD_H
#define X86IRQ_TOOLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RECORD_VERSION 1u
#define RECORD_MAX_PAYLOAD (1u << 20)

enum record_kind { RECORD_SERIAL = 1, RECORD_QUIT = 2, RECORD_END = 3 };

struct record_entry {
    uint8_t kind;
    uint64_t cycle;
    uint32_t length;
    uint8_t *data;
};

struct recording {
    uint64_t fingerprint, slice;
    struct record_entry *entries;
    size_t count;
    /* the END record's payload */
    uint64_t end_cycles, end_instructions;
    uint32_t end_reason, end_quit;
};

/* FNV-1a, 64-bit: the fingerprint's hash, h = 0 to start */
uint64_t record_hash(uint64_t h, const void *data, size_t size);

/* Parse a whole file's bytes: false with a message for anything malformed (a bad magic or
 * version, a truncated record, an unknown kind, records out of cycle order, no END or data
 * after it) */
bool record_parse(const uint8_t *data, size_t size, struct recording *out, char *error,
                  size_t error_size);
/* ...of a file; *unreadable: it could not be opened or read (not malformed) */
bool record_load(const char *path, struct recording *out, char *error, size_t error_size,
                 bool *unreadable);
void record_free(struct recording *r);

/* Writing: the header, then records in cycle order */
bool record_write_header(FILE *f, uint64_t fingerprint, uint64_t slice);
bool record_write(FILE *f, uint8_t kind, uint64_t cycle, const void *payload, uint32_t length);

#endif
