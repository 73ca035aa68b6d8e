/* Fuzz target for the GDB remote stub (src/gdb): a session on a small running guest, fed
 * from the input. The first byte chooses how the rest is read: raw bytes to the protocol's
 * parser (framing, checksums, acks, interrupts), or lines that become well-framed packets
 * with good checksums (so the commands behind the framing are reached). Invariants: every
 * byte the stub writes is an acknowledgement or a well-formed packet, nothing crashes, the
 * session ends when the input does, and the machine can run afterwards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdb/gdb.h"

struct feed {
    const uint8_t *data;
    size_t size, at;
};

static long feed_read(void *opaque, uint8_t *buffer, size_t size, bool wait)
{
    (void)wait;
    struct feed *f = opaque;
    if (f->at >= f->size)
        return -1; /* the connection closes when the input ends */
    size_t n = f->size - f->at < size ? f->size - f->at : size;
    if (n > 64)
        n = 64; /* small pieces: packets split across reads */
    memcpy(buffer, f->data + f->at, n);
    f->at += n;
    return (long)n;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* what the stub writes: '+', '-', or $payload#cc with the right checksum */
static bool checked_write(void *opaque, const char *bytes, size_t size)
{
    (void)opaque;
    if (size == 1 && (bytes[0] == '+' || bytes[0] == '-'))
        return true;
    if (size < 4 || bytes[0] != '$' || bytes[size - 3] != '#')
        abort();
    uint8_t sum = 0;
    for (size_t i = 1; i < size - 3; i++) {
        if (bytes[i] == '$' || bytes[i] == '#')
            abort(); /* unescaped inside a packet */
        sum = (uint8_t)(sum + (uint8_t)bytes[i]);
    }
    int hi = hex_value(bytes[size - 2]), lo = hex_value(bytes[size - 1]);
    if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != sum)
        abort();
    return true;
}

/* lines -> $line#cc */
static uint8_t *frame_lines(const uint8_t *data, size_t size, size_t *out_size)
{
    /* every byte once, plus "$#cc" per line: up to size + 1 lines (all of them empty) */
    uint8_t *out = malloc(size + 4 * (size + 1));
    if (!out)
        return NULL;
    size_t n = 0, start = 0;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        uint8_t sum = 0;
        out[n++] = '$';
        for (size_t k = start; k < i; k++) {
            out[n++] = data[k];
            sum = (uint8_t)(sum + data[k]);
        }
        out[n++] = '#';
        out[n++] = (uint8_t)hex[sum >> 4];
        out[n++] = (uint8_t)hex[sum & 15];
        start = i + 1;
    }
    *out_size = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    c.cpus = 1 + (data[0] >> 7);
    x86irq_machine *m = NULL;
    if (x86irq_machine_create(&c, &m) != X86IRQ_OK)
        abort();
    /* inc eax; mov [0x2000], eax; jmp back: memory to read and write, a loop to run */
    static const uint8_t code[] = { 0x40, 0xA3, 0x00, 0x20, 0x00, 0x00, 0xEB, 0xF8 };
    x86irq_write_physical(m, 0x10000, code, sizeof(code));
    x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000);
    uint8_t *framed = NULL;
    struct feed f = { data + 1, size - 1, 0 };
    if (data[0] & 1) {
        size_t n;
        framed = frame_lines(data + 1, size - 1, &n);
        if (!framed)
            abort();
        f = (struct feed){ framed, n, 0 };
    }
    struct x86_gdb *g = malloc(sizeof(*g));
    if (!g)
        abort();
    struct x86_gdb_io io = { feed_read, checked_write, &f };
    x86irq_gdb_options options;
    x86irq_gdb_options_init(&options);
    options.poll_cycles = 2000;
    options.arch = (data[0] & 2) ? X86IRQ_GDB_ARCH_X86_64 : X86IRQ_GDB_ARCH_I386;
    x86_gdb_init(g, m, &io, &options);
    x86_gdb_run(g);
    /* the session ends with its input, or before it at gdb's detach or kill */
    if (!g->done || (g->end == X86IRQ_GDB_DISCONNECTED && f.at < f.size))
        abort();
    x86_gdb_finish(g);
    free(g);
    free(framed);
    x86irq_stop_reason reason;
    x86irq_status s = x86irq_run(m, 1000, &reason);
    if (s != X86IRQ_OK && s != X86IRQ_ERR_STATE)
        abort();
    x86irq_machine_destroy(m);
    return 0;
}
