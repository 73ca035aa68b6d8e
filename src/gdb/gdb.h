/* The GDB remote stub's parts (src/gdb): the session (stub.c), the registers and the target
 * description made from one table (regs.c), the monitor commands (monitor.c). Internal. */
#ifndef X86IRQ_GDB_GDB_H
#define X86IRQ_GDB_GDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86irq/gdb.h"
#include "gdb/rsp.h"
#include "machine/machine.h"

/* Where the session's bytes come from and go: a file descriptor (stub.c), or memory for the
 * fuzzer. read: bytes read, 0 at the end of the connection, -1 on an error; wait false: only
 * what is there now (0 when nothing). write: false when the connection failed. */
struct x86_gdb_io {
    long (*read)(void *opaque, uint8_t *buffer, size_t size, bool wait);
    bool (*write)(void *opaque, const char *bytes, size_t size);
    void *opaque;
};

/* One register as gdb sees it */
struct x86_gdb_reg {
    const char *name;
    uint8_t bits;          /* 32, 64, 80 or 128 */
    uint8_t feature;       /* enum x86_gdb_feature */
    const char *type;      /* the target description's type */
    const char *group;     /* NULL: gdb's default for the type */
    /* the value's bytes, little-endian (bits / 8 of them); set: false when refused */
    void (*get)(x86irq_machine *m, unsigned cpu, unsigned arg, uint8_t *out);
    bool (*set)(x86irq_machine *m, unsigned cpu, unsigned arg, const uint8_t *in);
    unsigned arg;          /* which one (a register index, an ST slot) */
};

enum x86_gdb_feature {
    X86_GDB_CORE, X86_GDB_SSE, X86_GDB_SEGMENTS, X86_GDB_SYSTEM, X86_GDB_FEATURE_COUNT
};

#define X86_GDB_MAX_REGS 96

struct x86_gdb_regset {
    struct x86_gdb_reg regs[X86_GDB_MAX_REGS];
    unsigned count;
    bool x86_64;
};

/* The register set of an architecture (SSE registers only when the machine has them) */
void x86_gdb_regset(struct x86_gdb_regset *set, bool x86_64, bool sse);
/* Its target description (target.xml) into out (NUL-terminated); the length, or 0 if it does
 * not fit */
size_t x86_gdb_target_xml(const struct x86_gdb_regset *set, char *out, size_t size);

/* A breakpoint (type 0) or watchpoint (2 write, 3 read, 4 access) gdb set */
#define X86_GDB_MAX_POINTS 128
struct x86_gdb_point {
    unsigned type;
    uint64_t address, kind;
};

enum x86_gdb_resume { X86_GDB_RESUME_NONE, X86_GDB_RESUME_CONTINUE, X86_GDB_RESUME_STEP };

/* Reverse execution's history: at most this many snapshots, one when gdb resumes the machine
 * and the last is this many cycles old */
#define X86_GDB_HISTORY 8
#define X86_GDB_HISTORY_INTERVAL 20000000u
/* ... and, while the machine runs on (a continue), one every this many cycles: the history is
 * periodic, so going back from deep in a long continue replays a short way */
#define X86_GDB_HISTORY_PERIOD 200000000u
#define X86_GDB_MAX_CPUS 64

struct x86_gdb {
    x86irq_machine *machine;
    struct x86_gdb_io io;
    struct x86_gdb_regset regs;
    uint64_t poll_cycles;
    bool no_ack;
    bool physical;          /* m/M/X addresses are physical (monitor memory physical) */
    unsigned g_cpu;         /* Hg: registers and memory */
    int c_cpu;              /* Hc: the CPU a step steps (-1: any, the last stopped) */
    unsigned stop_cpu;      /* the CPU of the last stop (gdb's current thread) */
    enum x86_gdb_resume resume;
    unsigned resume_cpu;
    bool exited;            /* the machine ended and gdb was told (W, X) */
    bool done;
    x86irq_gdb_end end;
    bool interrupted;       /* 0x03 or a packet arrived while the machine ran */
    bool packet_waiting;    /* ... a packet: handled after the stop reply */
    uint8_t input[4096];    /* bytes read and not yet parsed */
    size_t input_len, input_at;
    char last_stop[128];    /* the last stop reply, for '?' */
    struct x86_rsp_parser parser;
    char reply[X86_RSP_MAX_PACKET + 1];
    size_t reply_len;
    char frame[2 * X86_RSP_MAX_PACKET + 8];
    size_t frame_len;       /* the last framed packet, resent on '-' */
    struct x86_gdb_point points[X86_GDB_MAX_POINTS];
    unsigned point_count;
    char xml[32768];
    size_t xml_len;
    /* monitor snapshot NAME: the machine saved in memory, for monitor restore */
    struct x86_gdb_snapshot {
        char name[32];
        void *data;         /* NULL: a free slot */
        size_t size;
        uint64_t cycle;
    } snapshots[8];
    /* reverse execution (reverse.c): snapshots of the session, oldest first */
    struct x86_gdb_moment {
        void *data;
        size_t size;
        uint64_t cycle;
        uint64_t host_inputs;           /* the machine's count of host inputs then */
        uint64_t instructions[X86_GDB_MAX_CPUS]; /* each CPU's retired instructions then */
    } history[X86_GDB_HISTORY];
    unsigned history_count;
    uint64_t history_period;    /* X86_GDB_HISTORY_PERIOD (a test sets its own) */
    /* the embedder's events seen in the session: a restored one is given its function again */
    struct x86_gdb_binding {
        uint64_t id;
        x86irq_event_fn fn;
        void *opaque;
    } bindings[64];
    unsigned binding_count;
};

/* A session on io, the machine stopped */
void x86_gdb_init(struct x86_gdb *g, x86irq_machine *m, const struct x86_gdb_io *io,
                  const x86irq_gdb_options *options);
/* Serve until the session ends (g->done) */
void x86_gdb_run(struct x86_gdb *g);
/* Remove the breakpoints and watchpoints gdb set */
void x86_gdb_finish(struct x86_gdb *g);
/* Reverse execution (reverse.c): a snapshot for the history before the machine runs forward
 * (when the last is old), the history forgotten (gdb changed the machine), and going back on
 * CPU cpu: one instruction (step) or to the last breakpoint or watchpoint hit (else to the
 * beginning of the history); *reason: the stop there */
void x86_gdb_history_mark(struct x86_gdb *g, uint64_t interval);
void x86_gdb_history_forget(struct x86_gdb *g);
enum x86_gdb_reverse_end {
    X86_GDB_REVERSE_STOPPED,    /* at the point wanted */
    X86_GDB_REVERSE_BEGIN,      /* at the beginning of the history (or no history) */
    X86_GDB_REVERSE_FAILED,     /* a snapshot would not restore */
};
enum x86_gdb_reverse_end x86_gdb_reverse(struct x86_gdb *g, unsigned cpu, bool step,
                                         x86irq_stop_reason *reason);
/* Free the monitor's snapshots (monitor.c) */
void x86_gdb_free_snapshots(struct x86_gdb *g);

/* Replies: text appended to g->reply; a packet sent now (framed, kept for '-') */
void x86_gdb_reply(struct x86_gdb *g, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
bool x86_gdb_send(struct x86_gdb *g, const char *payload, size_t len);

/* `monitor TEXT` (qRcmd): the output to g (O packets); false for an unknown command */
bool x86_gdb_monitor(struct x86_gdb *g, const char *command);
/* Console output to gdb during a command (an O packet per piece) */
void x86_gdb_console(struct x86_gdb *g, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
