/* The GDB Remote Serial Protocol's framing (gdb's manual, "Overview" of the remote protocol):
 * `$payload#cc` packets with a modulo-256 checksum, `+`/`-` acknowledgements, the interrupt
 * byte 0x03, and the binary escape `}` (byte ^ 0x20). No I/O here: bytes go in, events come
 * out, so the parser is fuzzed on its own (tests/fuzz/fuzz_gdb.c). */
#ifndef X86IRQ_GDB_RSP_H
#define X86IRQ_GDB_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload taken (what qSupported announces as PacketSize) */
#define X86_RSP_MAX_PACKET 16384

enum x86_rsp_event {
    X86_RSP_NONE = 0,    /* the byte was consumed, nothing complete yet */
    X86_RSP_PACKET,      /* a packet with a good checksum: payload and length in the parser */
    X86_RSP_BAD_PACKET,  /* a bad checksum, or a packet too long: answer '-' */
    X86_RSP_INTERRUPT,   /* 0x03 outside a packet: gdb's Ctrl-C */
    X86_RSP_ACK,         /* '+' */
    X86_RSP_NACK,        /* '-': send the last packet again */
};

struct x86_rsp_parser {
    enum { RSP_IDLE, RSP_DATA, RSP_CHECK1, RSP_CHECK2 } state;
    bool overflow;
    uint8_t sum, check;
    size_t length;
    char payload[X86_RSP_MAX_PACKET + 1]; /* NUL-terminated (binary payloads may hold NULs) */
};

void x86_rsp_init(struct x86_rsp_parser *p);
/* Feed one byte; what it completed */
enum x86_rsp_event x86_rsp_feed(struct x86_rsp_parser *p, uint8_t byte);

/* Frame payload (len bytes) as $...#cc into out (room: 2 * len + 4), escaping '$', '#', '}'
 * and '*' (a reply with binary data, qXfer's, may hold them). Returns the framed length. */
size_t x86_rsp_frame(char *out, const char *payload, size_t len);

/* Undo the binary escape in place (an X packet's data); returns the new length */
size_t x86_rsp_unescape(char *data, size_t len);

/* Hex helpers: a number (up to 16 digits) at *s, advancing it; false on no digit or overflow.
 * Bytes from hex pairs (false on a bad digit or odd length); bytes to hex. */
bool x86_rsp_parse_hex(const char **s, uint64_t *value);
bool x86_rsp_hex_to_bytes(const char *hex, size_t hex_len, uint8_t *out);
void x86_rsp_bytes_to_hex(const uint8_t *bytes, size_t n, char *out);

#endif
