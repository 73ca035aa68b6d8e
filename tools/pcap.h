/* A small pcap (libpcap file format) reader and writer for the NIC's frames: the classic
 * format (magic 0xA1B2C3D4, microsecond timestamps, link type 1 = Ethernet), little-endian
 * when written, either byte order when read. Why not libpcap: it would be one more dependency
 * for 24 + 16 bytes of headers; docs/cli.md says so. */
#ifndef X86IRQ_TOOLS_PCAP_H
#define X86IRQ_TOOLS_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAP_MAX_FRAME 16384

/* Writing: the global header, then one record per frame. */
bool pcap_write_header(FILE *out);
bool pcap_write_frame(FILE *out, uint64_t microseconds, const uint8_t *frame, size_t length);

/* Reading: the global header (false: not a pcap file, or not Ethernet; *swapped is the byte
 * order), then records until false (end of file, or a truncated / oversized record: *error). */
bool pcap_read_header(FILE *in, bool *swapped, const char **error);
bool pcap_read_frame(FILE *in, bool swapped, uint64_t *microseconds, uint8_t *frame,
                     size_t *length, const char **error);

#endif
