/* The GDB remote protocol's framing: see rsp.h. */
#include "gdb/rsp.h"

#include <string.h>

void x86_rsp_init(struct x86_rsp_parser *p)
{
    p->state = RSP_IDLE;
    p->overflow = false;
    p->length = 0;
    p->sum = 0;
    p->payload[0] = '\0';
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum x86_rsp_event x86_rsp_feed(struct x86_rsp_parser *p, uint8_t byte)
{
    switch (p->state) {
    case RSP_IDLE:
        if (byte == '$') {
            p->state = RSP_DATA;
            p->length = 0;
            p->sum = 0;
            p->overflow = false;
            return X86_RSP_NONE;
        }
        if (byte == 0x03)
            return X86_RSP_INTERRUPT;
        if (byte == '+')
            return X86_RSP_ACK;
        if (byte == '-')
            return X86_RSP_NACK;
        return X86_RSP_NONE; /* noise between packets */
    case RSP_DATA:
        if (byte == '#') {
            p->state = RSP_CHECK1;
            return X86_RSP_NONE;
        }
        if (byte == '$') { /* a packet restarted: the first was lost */
            p->length = 0;
            p->sum = 0;
            p->overflow = false;
            return X86_RSP_NONE;
        }
        p->sum = (uint8_t)(p->sum + byte);
        if (p->length < X86_RSP_MAX_PACKET)
            p->payload[p->length++] = (char)byte;
        else
            p->overflow = true;
        return X86_RSP_NONE;
    case RSP_CHECK1: {
        int d = hex_digit(byte);
        p->check = (uint8_t)((d < 0 ? 0 : d) << 4);
        p->state = d < 0 ? RSP_IDLE : RSP_CHECK2;
        return d < 0 ? X86_RSP_BAD_PACKET : X86_RSP_NONE;
    }
    case RSP_CHECK2: {
        int d = hex_digit(byte);
        p->state = RSP_IDLE;
        p->payload[p->length] = '\0';
        if (d < 0 || (uint8_t)(p->check | d) != p->sum || p->overflow)
            return X86_RSP_BAD_PACKET;
        return X86_RSP_PACKET;
    }
    }
    return X86_RSP_NONE;
}

static const char hex[] = "0123456789abcdef";

size_t x86_rsp_frame(char *out, const char *payload, size_t len)
{
    size_t n = 0;
    uint8_t sum = 0;
    out[n++] = '$';
    for (size_t i = 0; i < len; i++) {
        char c = payload[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            out[n++] = '}';
            sum = (uint8_t)(sum + '}');
            c = (char)(c ^ 0x20);
        }
        out[n++] = c;
        sum = (uint8_t)(sum + (uint8_t)c);
    }
    out[n++] = '#';
    out[n++] = hex[sum >> 4];
    out[n++] = hex[sum & 15];
    return n;
}

size_t x86_rsp_unescape(char *data, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '}' && i + 1 < len)
            data[n++] = (char)(data[++i] ^ 0x20);
        else
            data[n++] = data[i];
    }
    return n;
}

bool x86_rsp_parse_hex(const char **s, uint64_t *value)
{
    uint64_t v = 0;
    unsigned digits = 0;
    int d;
    while ((d = hex_digit((uint8_t)**s)) >= 0) {
        if (++digits > 16)
            return false;
        v = v << 4 | (uint64_t)d;
        (*s)++;
    }
    *value = v;
    return digits > 0;
}

bool x86_rsp_hex_to_bytes(const char *text, size_t hex_len, uint8_t *out)
{
    if (hex_len % 2)
        return false;
    for (size_t i = 0; i < hex_len; i += 2) {
        int hi = hex_digit((uint8_t)text[i]), lo = hex_digit((uint8_t)text[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void x86_rsp_bytes_to_hex(const uint8_t *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}
