/* Fuzz target for serial input (x86irq_serial_input, the UART's host queue and receive path,
 * what x86irq-run's --serial-input and --console give the guest), through the public API: the
 * bundled uart guest in its echo mode (tests/guests/uart.c: it prints every byte it receives
 * as "[xx]" and exits at a 'q') gets the input's bytes in chunks, each queued after a run of a
 * length the input chooses (before the guest has enabled its receiver, while it is receiving,
 * between characters). Properties: every byte arrives, once, in order, up to the first 'q'
 * (the UART's flow control waits for the guest; nothing is lost or invented); the guest then
 * exits, or without a 'q' is still waiting at the budget; two runs of an input are alike to
 * the cycle.
 *
 * Input: a byte N (1-4 chunks), then per chunk a 16-bit run length (in units of 20,000 cycles)
 * and a byte count, then the bytes (at most 64 in all: the guest's buffer holds more). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <x86irq/x86irq.h>

#ifndef UART_ELF
#error "UART_ELF: the path of the uart guest (tests/guests/uart.c), set by meson"
#endif

#define MAX_BYTES 64
#define CHARACTER_CYCLES 86806u /* 10 bits at 115200 baud at 1 GHz, as the guest sets the line */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct output {
    char text[4096];
    size_t n;
};

static void collect(void *opaque, uint8_t byte)
{
    struct output *o = opaque;
    if (o->n < sizeof(o->text) - 1)
        o->text[o->n++] = (char)byte;
}

struct chunk {
    uint64_t run;
    const uint8_t *bytes;
    size_t n;
};

struct result {
    struct output out;
    x86irq_stop_reason reason;
    uint64_t cycles, instructions;
};

static void run_once(const struct chunk *chunks, unsigned count, size_t total, struct result *r)
{
    memset(r, 0, sizeof(*r));
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 4u << 20;
    x86irq_machine *m = NULL;
    if (x86irq_machine_create(&c, &m) != X86IRQ_OK)
        abort();
    x86irq_set_serial_output(m, collect, &r->out);
    if (x86irq_load_elf(m, UART_ELF, "echo") != X86IRQ_OK) {
        fprintf(stderr, "fuzz-serial: %s: %s\n", UART_ELF, x86irq_last_error(m));
        abort();
    }
    r->reason = X86IRQ_STOP_BUDGET;
    for (unsigned i = 0; i < count; i++) {
        if (r->reason == X86IRQ_STOP_BUDGET && chunks[i].run &&
            x86irq_run(m, chunks[i].run, &r->reason) != X86IRQ_OK)
            abort();
        if (chunks[i].n && x86irq_serial_input(m, chunks[i].bytes, chunks[i].n) != X86IRQ_OK &&
            r->reason == X86IRQ_STOP_BUDGET)
            abort(); /* refused while the guest still runs */
    }
    /* then long enough for every byte at the line rate, and the guest's printing */
    if (r->reason == X86IRQ_STOP_BUDGET &&
        x86irq_run(m, 50000000ull + (total + 2) * 4 * CHARACTER_CYCLES, &r->reason) != X86IRQ_OK)
        abort();
    r->cycles = x86irq_cycles(m);
    r->instructions = x86irq_instructions(m);
    x86irq_machine_destroy(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned count = 1 + data[0] % 4;
    size_t at = 1;
    struct chunk chunks[4];
    size_t total = 0;
    uint8_t all[MAX_BYTES];
    for (unsigned i = 0; i < count; i++) {
        if (at + 3 > size)
            return 0;
        chunks[i].run = (uint64_t)(data[at] | data[at + 1] << 8) * 20000u;
        size_t n = data[at + 2];
        at += 3;
        if (n > size - at)
            n = size - at;
        if (n > MAX_BYTES - total)
            n = MAX_BYTES - total;
        chunks[i].bytes = data + at;
        chunks[i].n = n;
        memcpy(all + total, data + at, n);
        total += n;
        at += n;
    }
    struct result a, b;
    run_once(chunks, count, total, &a);
    run_once(chunks, count, total, &b);
    if (a.reason != b.reason || a.cycles != b.cycles || a.instructions != b.instructions ||
        a.out.n != b.out.n || memcmp(a.out.text, b.out.text, a.out.n) != 0)
        abort(); /* two runs of one input differ */

    /* what the guest must have printed: "echo: ready", then each byte up to the first 'q' */
    char expected[4096];
    size_t e = (size_t)snprintf(expected, sizeof(expected), "echo: ready\n");
    bool quit = false;
    for (size_t i = 0; i < total && !quit; i++) {
        e += (size_t)snprintf(expected + e, sizeof(expected) - e, "[%02x]\n", all[i]);
        quit = all[i] == 'q';
    }
    /* the guest's output begins with its own banner lines: compare from "echo: ready" */
    a.out.text[a.out.n] = '\0';
    const char *from = strstr(a.out.text, "echo: ready\n");
    if (!from || strlen(from) != e || memcmp(from, expected, e) != 0) {
        fprintf(stderr, "fuzz-serial: the guest printed\n%s\nexpected\n%.*s\n", a.out.text,
                (int)e, expected);
        abort(); /* a byte lost, duplicated, reordered or invented */
    }
    if (quit ? a.reason != X86IRQ_STOP_DEBUG_EXIT : a.reason != X86IRQ_STOP_BUDGET)
        abort(); /* a 'q' ends the guest; without one it waits */
    return 0;
}
