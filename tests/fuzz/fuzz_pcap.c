/* Fuzz target for the CLI's pcap reader (tools/pcap.c): any bytes as a capture file. Reading
 * must end with a message or at the end of the data, every frame within PCAP_MAX_FRAME, and
 * a frame written back must read back the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)data, size, "rb");
    if (!in)
        return 0;
    bool swapped = false;
    const char *error = NULL;
    static uint8_t frame[PCAP_MAX_FRAME];
    if (pcap_read_header(in, &swapped, &error)) {
        uint64_t us;
        size_t length;
        unsigned frames = 0;
        error = NULL;
        while (pcap_read_frame(in, swapped, &us, frame, &length, &error)) {
            if (length > PCAP_MAX_FRAME)
                abort();
            if (++frames > size)
                abort(); /* each record takes at least its 16-byte header */
        }
    } else if (!error || !error[0]) {
        abort(); /* a refused header says why */
    }
    fclose(in);

    /* the writer and reader agree on whatever frame the input holds (first bytes as a frame) */
    size_t n = size < 1514 ? size : 1514;
    char *buffer = NULL;
    size_t buffer_size = 0;
    FILE *out = open_memstream(&buffer, &buffer_size);
    if (!out)
        return 0;
    bool written = pcap_write_header(out) && pcap_write_frame(out, size, data, n);
    fclose(out);
    if (written) {
        FILE *back = fmemopen(buffer, buffer_size, "rb");
        uint64_t us = 0;
        size_t length = 0;
        if (!back || !pcap_read_header(back, &swapped, &error) ||
            !pcap_read_frame(back, swapped, &us, frame, &length, &error) || length != n ||
            us != size || memcmp(frame, data, n) != 0)
            abort();
        fclose(back);
    }
    free(buffer);
    return 0;
}
