/* x86irq-run's serial input: --serial-input=FILE and the interactive --console
 * (docs/cli.md). */
#ifndef X86IRQ_TOOLS_CONSOLE_H
#define X86IRQ_TOOLS_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <x86irq/x86irq.h>

/* The exit status of a run ended with the console's escape (Ctrl-A x) */
#define CONSOLE_EXIT_QUIT 121

/* Queue the file's bytes for COM1's receive line. false (a message on stderr) when it cannot be
 * read; bytes over the library's queue limit are dropped with a warning. */
bool console_queue_file(x86irq_machine *machine, const char *path);

struct recording;

/* --record and --replay (record.h): out, the file the console's input goes to (its header
 * written); in, a recording to replay instead of reading stdin (no terminal, no pacing) */
struct console_record {
    FILE *out;
    struct recording *in;
    size_t next;         /* the next record to replay */
    bool write_failed;
    char error[200];     /* why a replay stopped: it diverged */
};

/* The console's slice, in cycles, at cpu_hz (1 ms of guest time) */
uint64_t console_slice(uint64_t cpu_hz);

/* Run the machine in slices of 1 ms of guest time, forwarding stdin to COM1 between slices
 * (raw mode and the Ctrl-A escapes when stdin is a terminal) and pacing guest time to the
 * host's clock. Returns like x86irq_run; *quit is set when the user quit with Ctrl-A x
 * (*reason is then X86IRQ_STOP_REQUESTED). */
x86irq_status console_run(x86irq_machine *machine, uint64_t max_cycles, uint64_t cpu_hz,
                          x86irq_stop_reason *reason, bool *quit, struct console_record *record);

#endif
