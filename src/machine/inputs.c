/* Recording and replaying the host's input (x86irq_record_start ... x86irq_replay_start).
 *
 * The machine is deterministic: what can make two runs of one guest differ is what the host
 * gives it. Input given from inside the machine's callbacks (an event, a device's port
 * handler) is the embedder's code running at a point the machine fixes, and runs again in a
 * replay; input given between runs (the embedder's loop: a frame off a socket, a key typed, a
 * line changed) comes at a point only the embedder knew. That point is where the last run
 * stopped, and a replay makes its runs stop there again:
 * - after a budget stop: a run with the same end. Where a run is cut changes nothing
 *   (docs/cycle-model.md), so the machine is where the recording's was, with any number of
 *   CPUs;
 * - after HALTED: the machine halts there again by itself;
 * - after any other stop (a request, a breakpoint, a watchpoint, a step): the CPU that
 *   stopped, at its boundary with as many instructions retired (x86_machine_run_until).
 * Each record also holds the machine's cycle and that CPU's instruction count then: a replay
 * that does not arrive there has diverged, and says so (never silently wrong).
 *
 * Format (docs/debugging.md, "Recording host input"), little-endian: "x86irqIN", u32 version,
 * u64 fingerprint of the configuration (the snapshot header's fields), u64 count; records of
 * u8 kind, u8 the last run's stop reason, u16 0, u32 core, u64 the last run's end, u64
 * cycles, u64 instructions, u64 a hash of every CPU's cycles and instructions, u32 a, u32 b,
 * u32 length, the payload; then a CRC-32 of all
 * before it. */
#include "machine/machine.h"
#include "machine/snapshot_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAGIC "x86irqIN"
#define VERSION 1u
#define HEADER 28u      /* magic, version, fingerprint, count */
#define RECORD 52u      /* a record without its payload */
#define MAX_PAYLOAD (1u << 20)

struct x86_input_record {
    uint8_t kind;              /* enum x86_input_kind */
    uint8_t after;             /* how the run before it ended (X86IRQ_STOP_*; NONE: no run) */
    uint32_t core;             /* the CPU that ran last */
    uint64_t run_end;          /* that run's end (its budget) */
    uint64_t cycles;           /* x86irq_cycles then */
    uint64_t instructions;     /* the CPU's retired instructions then */
    uint64_t cores;            /* a hash of every CPU's cycles and instructions then */
    uint32_t a, b;             /* GSI or CPU, level */
    uint32_t length;
    uint8_t *bytes;
};

struct x86_input_log {
    struct x86_input_record *records;
    size_t count, capacity;
    size_t next;               /* a replay: the next record to apply */
};

static void log_free(struct x86_input_log *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->count; i++)
        free(log->records[i].bytes);
    free(log->records);
    free(log);
}

void x86_machine_inputs_free(x86irq_machine *m)
{
    log_free(m->recording);
    log_free(m->replay);
    m->recording = m->replay = NULL;
}

/* The configuration a recording belongs to */
static uint64_t fingerprint(const x86irq_machine *m)
{
    struct x86_snapshot_header h;
    x86_snapshot_describe(m, &h);
    uint64_t fields[] = { h.ram_size, h.cpu_hz, h.cpus, h.isa, h.devices, h.linux_entry,
                          (uint64_t)h.rtc_epoch, h.quantum, h.symbols };
    return x86_snapshot_hash(X86_SNAPSHOT_HASH_INIT, fields, sizeof(fields));
}

/* Where the machine stands between runs */
static uint64_t cores_hash(const x86irq_machine *m)
{
    uint64_t h = X86_SNAPSHOT_HASH_INIT;
    for (unsigned i = 0; i < m->core_count; i++) {
        uint64_t v[2] = { m->cores[i]->cpu.cycles, m->cores[i]->cpu.instructions };
        h = x86_snapshot_hash(h, v, sizeof(v));
    }
    return h;
}

static void position(const x86irq_machine *m, struct x86_input_record *r)
{
    const struct x86_core *core = m->current ? m->current : m->cores[0];
    r->after = m->has_run ? (uint8_t)m->stop_reason : X86IRQ_STOP_NONE;
    r->core = core->cpu.index;
    r->run_end = m->has_run ? m->run_end : 0;
    r->cycles = x86irq_cycles(m);
    r->instructions = core->cpu.instructions;
    r->cores = cores_hash(m);
}

static bool same_position(const x86irq_machine *m, const struct x86_input_record *r)
{
    struct x86_input_record now;
    position(m, &now);
    return now.cycles == r->cycles && r->core < m->core_count &&
           m->cores[r->core]->cpu.instructions == r->instructions && now.cores == r->cores;
}

x86irq_status x86_machine_host_input(x86irq_machine *m, enum x86_input_kind kind, uint32_t a,
                                     uint32_t b, const void *bytes, size_t length)
{
    if (x86_machine_in_callback(m)) { /* the embedder's code at the machine's point */
        m->host_inputs++;
        return X86IRQ_OK;
    }
    if (m->replay && !m->replay_applying)
        return x86_machine_error(m, X86IRQ_ERR_STATE,
                                 "a recording is being replayed: the host's input between runs "
                                 "comes from it (x86irq_replay_stop to give your own)");
    struct x86_input_log *log = m->recording;
    if (log && !m->replay_applying) {
        if (length > MAX_PAYLOAD)
            return x86_machine_error(m, X86IRQ_ERR_INVALID_ARGUMENT,
                                     "recording: an input of %zu bytes (at most %u at once)",
                                     length, MAX_PAYLOAD);
        if (log->count == log->capacity) {
            size_t capacity = log->capacity ? log->capacity * 2 : 64;
            void *bigger = realloc(log->records, capacity * sizeof(*log->records));
            if (!bigger)
                return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the "
                                                                   "recording");
            log->records = bigger;
            log->capacity = capacity;
        }
        struct x86_input_record *r = &log->records[log->count];
        memset(r, 0, sizeof(*r));
        if (length) {
            r->bytes = malloc(length);
            if (!r->bytes)
                return x86_machine_error(m, X86IRQ_ERR_NO_MEMORY, "out of memory for the "
                                                                   "recording");
            memcpy(r->bytes, bytes, length);
        }
        r->kind = (uint8_t)kind;
        r->a = a;
        r->b = b;
        r->length = (uint32_t)length;
        position(m, r);
        log->count++;
    }
    m->host_inputs++;
    return X86IRQ_OK;
}

/* ------------------------------------------------------------------ recording */

x86irq_status x86irq_record_start(x86irq_machine *machine)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_machine_outside_callbacks(machine, "x86irq_record_start");
    if (s != X86IRQ_OK)
        return s;
    if (machine->replay)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "x86irq_record_start: a recording is being replayed");
    struct x86_input_log *log = calloc(1, sizeof(*log));
    if (!log)
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "out of memory for the "
                                                                 "recording");
    log_free(machine->recording);
    machine->recording = log;
    return X86IRQ_OK;
}

x86irq_status x86irq_record_stop(x86irq_machine *machine)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_machine_outside_callbacks(machine, "x86irq_record_stop");
    if (s != X86IRQ_OK)
        return s; /* a replay's run is using the log */
    if (!machine->recording)
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "x86irq_record_stop: not recording");
    log_free(machine->recording);
    machine->recording = NULL;
    return X86IRQ_OK;
}

static void put(struct x86_snapshot_writer *w, const void *p, size_t n) { x86_snapshot_put(w, p, n); }

x86irq_status x86irq_record_save(x86irq_machine *machine, void **data, size_t *size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!data || !size)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_record_save: no place for the recording");
    *data = NULL;
    *size = 0;
    const struct x86_input_log *log = machine->recording;
    if (!log)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "x86irq_record_save: not recording (x86irq_record_start)");
    struct x86_snapshot_writer w = { 0 };
    put(&w, MAGIC, 8);
    x86_snapshot_put_u32(&w, VERSION);
    x86_snapshot_put_u64(&w, fingerprint(machine));
    x86_snapshot_put_u64(&w, log->count);
    for (size_t i = 0; i < log->count; i++) {
        const struct x86_input_record *r = &log->records[i];
        uint8_t head[4] = { r->kind, r->after, 0, 0 };
        put(&w, head, 4);
        x86_snapshot_put_u32(&w, r->core);
        x86_snapshot_put_u64(&w, r->run_end);
        x86_snapshot_put_u64(&w, r->cycles);
        x86_snapshot_put_u64(&w, r->instructions);
        x86_snapshot_put_u64(&w, r->cores);
        x86_snapshot_put_u32(&w, r->a);
        x86_snapshot_put_u32(&w, r->b);
        x86_snapshot_put_u32(&w, r->length);
        put(&w, r->bytes, r->length);
    }
    uint32_t crc = w.failed ? 0 : (uint32_t)crc32(crc32(0, Z_NULL, 0), w.data, (uInt)w.size);
    x86_snapshot_put_u32(&w, crc);
    if (w.failed) {
        free(w.data);
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "out of memory for the "
                                                                 "recording");
    }
    *data = w.data;
    *size = w.size;
    return X86IRQ_OK;
}

/* ------------------------------------------------------------------ replaying */

static x86irq_status bad(x86irq_machine *m, const char *why)
{
    return x86_machine_error(m, X86IRQ_ERR_BAD_RECORDING, "recording: %s", why);
}

static bool kind_known(uint8_t kind)
{
    return kind >= X86_INPUT_SERIAL && kind <= X86_INPUT_INIT;
}

x86irq_status x86irq_replay_start(x86irq_machine *machine, const void *data, size_t size)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_machine_outside_callbacks(machine, "x86irq_replay_start");
    if (s != X86IRQ_OK)
        return s;
    if (machine->recording)
        return x86_machine_error(machine, X86IRQ_ERR_STATE,
                                 "x86irq_replay_start: the machine is recording");
    const uint8_t *p = data;
    if (!data || size < HEADER + 4 || memcmp(p, MAGIC, 8) != 0)
        return bad(machine, "not a recording of host input (no \"" MAGIC "\" magic)");
    struct x86_snapshot_reader r = { p, size - 4, 8, false };
    uint32_t version = x86_snapshot_get_u32(&r);
    if (version != VERSION)
        return bad(machine, "another format version");
    struct x86_snapshot_reader tail = { p + size - 4, 4, 0, false };
    if (x86_snapshot_get_u32(&tail) != (uint32_t)crc32(crc32(0, Z_NULL, 0), p, (uInt)(size - 4)))
        return bad(machine, "damaged or truncated: its checksum does not match");
    if (x86_snapshot_get_u64(&r) != fingerprint(machine))
        return bad(machine, "made on a machine configured otherwise (RAM, CPUs, clock, ISA, "
                            "devices, quantum or the guest's symbols)");
    uint64_t count = x86_snapshot_get_u64(&r);
    if (count > (size - HEADER) / RECORD)
        return bad(machine, "damaged: more records than bytes");
    struct x86_input_log *log = calloc(1, sizeof(*log));
    if (!log || !(log->records = calloc(count ? (size_t)count : 1, sizeof(*log->records)))) {
        free(log);
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "out of memory for the "
                                                                 "recording");
    }
    log->capacity = count ? (size_t)count : 1;
    const char *why = NULL;
    for (uint64_t i = 0; i < count && !why; i++) {
        struct x86_input_record *e = &log->records[log->count];
        uint8_t head[4];
        x86_snapshot_get(&r, head, 4);
        e->kind = head[0];
        e->after = head[1];
        e->core = x86_snapshot_get_u32(&r);
        e->run_end = x86_snapshot_get_u64(&r);
        e->cycles = x86_snapshot_get_u64(&r);
        e->instructions = x86_snapshot_get_u64(&r);
        e->cores = x86_snapshot_get_u64(&r);
        e->a = x86_snapshot_get_u32(&r);
        e->b = x86_snapshot_get_u32(&r);
        e->length = x86_snapshot_get_u32(&r);
        if (r.failed || e->length > r.size - r.at || e->length > MAX_PAYLOAD)
            why = "damaged: a record runs past the end";
        else if (!kind_known(e->kind) || e->after > X86IRQ_STOP_WATCHPOINT ||
                 e->core >= machine->core_count || head[2] || head[3])
            why = "damaged: a record of an unknown kind, stop or CPU";
        else if (log->count && e->cycles < log->records[log->count - 1].cycles)
            why = "damaged: records out of cycle order";
        if (why)
            break;
        if (e->length && !(e->bytes = malloc(e->length))) {
            log_free(log);
            return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "out of memory for the "
                                                                     "recording");
        }
        x86_snapshot_get(&r, e->bytes, e->length);
        log->count++;
    }
    if (!why && r.at != r.size)
        why = "damaged: bytes after the last record";
    if (why) {
        log_free(log);
        return bad(machine, why);
    }
    log_free(machine->replay);
    machine->replay = log;
    return X86IRQ_OK;
}

x86irq_status x86irq_replay_stop(x86irq_machine *machine)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status s = x86_machine_outside_callbacks(machine, "x86irq_replay_stop");
    if (s != X86IRQ_OK)
        return s; /* a replay's run is using the log */
    if (!machine->replay)
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "x86irq_replay_stop: not replaying");
    log_free(machine->replay);
    machine->replay = NULL;
    return X86IRQ_OK;
}

size_t x86irq_replay_remaining(const x86irq_machine *machine)
{
    return machine && machine->replay ? machine->replay->count - machine->replay->next : 0;
}

/* Give the machine a recorded input, through the call that took it. Its status is not
 * looked at: the recorded call failed the same way, if it did (a full queue, a dropped frame) */
static void apply(x86irq_machine *m, const struct x86_input_record *r)
{
    m->replay_applying = true;
    switch ((enum x86_input_kind)r->kind) {
    case X86_INPUT_SERIAL: (void)x86irq_serial_input(m, r->bytes, r->length); break;
    case X86_INPUT_NIC: (void)x86irq_nic_receive(m, r->bytes, r->length); break;
    case X86_INPUT_IRQ_LINE: (void)x86irq_set_irq_line(m, r->a, (int)r->b); break;
    case X86_INPUT_INTR: (void)x86irq_set_intr(m, (int)r->b); break;
    case X86_INPUT_NMI: (void)x86irq_raise_cpu_nmi(m, r->a); break;
    case X86_INPUT_INIT: (void)x86irq_raise_cpu_init(m, r->a); break;
    }
    m->replay_applying = false;
}

static x86irq_status diverged(x86irq_machine *m, const struct x86_input_record *r)
{
    return x86_machine_error(m, X86IRQ_ERR_STATE,
                             "replay diverged: input %zu was given at cycle %llu with CPU %u "
                             "at %llu instructions; the machine is at cycle %llu, CPU %u at "
                             "%llu", m->replay->next, (unsigned long long)r->cycles, r->core,
                             (unsigned long long)r->instructions,
                             (unsigned long long)x86irq_cycles(m), r->core,
                             (unsigned long long)m->cores[r->core]->cpu.instructions);
}

x86irq_status x86_machine_replay_run(x86irq_machine *m, uint64_t max_cycles,
                                     x86irq_stop_reason *reason)
{
    struct x86_input_log *log = m->replay;
    uint64_t start = x86irq_cycles(m);
    uint64_t end = start + max_cycles < start ? UINT64_MAX : start + max_cycles;
    for (;;) {
        const struct x86_input_record *r = log->next < log->count ? &log->records[log->next]
                                                                  : NULL;
        uint64_t now = x86irq_cycles(m);
        bool ran_enough = r && (r->after == X86IRQ_STOP_NONE ? !m->has_run : m->has_run);
        if (r && ran_enough && same_position(m, r)) { /* where it was given: the same state */
            apply(m, r);
            log->next++;
            continue;
        }
        if (r && (r->cycles < now || (r->after == X86IRQ_STOP_NONE && m->has_run)))
            return diverged(m, r);
        /* the next input beyond this run: run to its end */
        if (!r || (r->after == X86IRQ_STOP_BUDGET ? r->run_end > end : r->cycles > end))
            return x86_machine_run(m, end - now, reason);
        x86irq_stop_reason why = X86IRQ_STOP_NONE;
        x86irq_status s;
        if (r->after == X86IRQ_STOP_BUDGET) {
            uint64_t target = r->run_end < end ? r->run_end : end;
            if (target < now)
                return diverged(m, r);
            s = x86_machine_run(m, target - now, &why);
            if (s == X86IRQ_OK && why == X86IRQ_STOP_HALTED)
                return diverged(m, r); /* asleep for good before the input came */
            if (s != X86IRQ_OK || why != X86IRQ_STOP_BUDGET || target == end) {
                *reason = why;
                return s; /* the embedder's own stop, or its budget: the next run goes on */
            }
        } else if (r->after == X86IRQ_STOP_HALTED) {
            s = x86_machine_run(m, end - now, &why);
            if (s != X86IRQ_OK || why != X86IRQ_STOP_HALTED) {
                *reason = why;
                return s;
            }
        } else {
            s = x86_machine_run_until(m, r->core, r->instructions, end - now, &why);
            if (s != X86IRQ_OK || why != X86IRQ_STOP_STEP) {
                *reason = why;
                return s;
            }
            m->stop_reason = (x86irq_stop_reason)r->after; /* the stop it replays */
        }
        if (!same_position(m, r))
            return diverged(m, r);
    }
}
