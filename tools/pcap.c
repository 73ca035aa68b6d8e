/* pcap reader and writer (see pcap.h). Format: the libpcap file format, "tcpdump" classic. */
#include "pcap.h"

#include <string.h>

#define MAGIC 0xA1B2C3D4u
#define MAGIC_SWAPPED 0xD4C3B2A1u
#define LINKTYPE_ETHERNET 1u

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static uint32_t get32(const uint8_t *p, bool swapped)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return swapped ? __builtin_bswap32(v) : v;
}
static uint32_t get16(const uint8_t *p, bool swapped)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    return swapped ? (uint32_t)__builtin_bswap16((uint16_t)v) : v;
}

bool pcap_write_header(FILE *out)
{
    uint8_t h[24];
    put32(h, MAGIC);
    put16(h + 4, 2);          /* version 2.4 */
    put16(h + 6, 4);
    put32(h + 8, 0);          /* GMT offset */
    put32(h + 12, 0);         /* timestamp accuracy */
    put32(h + 16, PCAP_MAX_FRAME);
    put32(h + 20, LINKTYPE_ETHERNET);
    return fwrite(h, 1, sizeof(h), out) == sizeof(h);
}

bool pcap_write_frame(FILE *out, uint64_t microseconds, const uint8_t *frame, size_t length)
{
    uint8_t r[16];
    put32(r, (uint32_t)(microseconds / 1000000u));
    put32(r + 4, (uint32_t)(microseconds % 1000000u));
    put32(r + 8, (uint32_t)length);
    put32(r + 12, (uint32_t)length);
    return fwrite(r, 1, sizeof(r), out) == sizeof(r) && fwrite(frame, 1, length, out) == length;
}

bool pcap_read_header(FILE *in, bool *swapped, const char **error)
{
    uint8_t h[24];
    if (fread(h, 1, sizeof(h), in) != sizeof(h)) {
        *error = "too short for a pcap header";
        return false;
    }
    uint32_t magic = get32(h, false);
    if (magic != MAGIC && magic != MAGIC_SWAPPED) {
        *error = "not a pcap file (nanosecond and pcapng files are not read)";
        return false;
    }
    *swapped = magic == MAGIC_SWAPPED;
    if (get32(h + 20, *swapped) != LINKTYPE_ETHERNET) {
        *error = "not an Ethernet capture (link type 1)";
        return false;
    }
    (void)get16;
    return true;
}

bool pcap_read_frame(FILE *in, bool swapped, uint64_t *microseconds, uint8_t *frame,
                     size_t *length, const char **error)
{
    uint8_t r[16];
    size_t n = fread(r, 1, sizeof(r), in);
    *error = NULL;
    if (n == 0)
        return false; /* the end */
    if (n != sizeof(r)) {
        *error = "a truncated record header";
        return false;
    }
    uint32_t seconds = get32(r, swapped), micro = get32(r + 4, swapped);
    uint32_t captured = get32(r + 8, swapped);
    if (captured > PCAP_MAX_FRAME || micro >= 1000000u) {
        *error = "a record larger than 16384 bytes or with a bad timestamp";
        return false;
    }
    if (fread(frame, 1, captured, in) != captured) {
        *error = "a truncated frame";
        return false;
    }
    *microseconds = (uint64_t)seconds * 1000000u + micro;
    *length = captured;
    return true;
}
