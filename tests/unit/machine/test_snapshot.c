/* Unit tests of snapshots (src/machine/snapshot_state.c, snapshot_format.c): the round trip
 * (run to a cycle, save, go on; restore in another machine and go on: the same trace events,
 * serial output and end state), that a restore keeps no pointer of the machine that saved it,
 * that saving what was restored gives the same bytes, embedder events rebound after a restore,
 * and bad snapshots refused with the machine left as it was.
 * Arguments: the timer and nic-bottom-half example guests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "x86irq/x86irq.h"
#include "machine/machine.h"

static const char *timer_elf, *nic_elf;

/* What a run shows from outside: its trace events and serial output, as text */
struct record {
    char *text;
    size_t size, capacity;
};

static void append(struct record *r, const char *s, size_t n)
{
    if (r->size + n + 1 > r->capacity) {
        r->capacity = (r->size + n + 1) * 2;
        r->text = realloc(r->text, r->capacity);
        assert_non_null(r->text);
    }
    memcpy(r->text + r->size, s, n);
    r->size += n;
    r->text[r->size] = 0;
}

static void on_event(void *opaque, const x86irq_trace_event *e)
{
    char line[400];
    int n = snprintf(line, sizeof(line),
                     "%llu k%u v%u eip=%llx cs=%x o%u cpl%u/%u d%u ec%u/%x lvl%u line%u rule%u "
                     "esp=%llx ss=%x g%x core%u bits%u %s %s t%llx/%llx\n",
                     (unsigned long long)e->cycle, e->kind, e->vector,
                     (unsigned long long)e->eip, e->cs, e->origin, e->cpl, e->from_cpl, e->depth,
                     e->has_error_code, e->error_code, e->level, e->line, e->rule,
                     (unsigned long long)e->esp, e->ss, e->gate, e->core, e->code_bits,
                     e->symbol, e->detail ? e->detail : "", (unsigned long long)e->thread,
                     (unsigned long long)e->previous_thread);
    append(opaque, line, (size_t)n);
}

static void on_serial(void *opaque, uint8_t byte)
{
    char c = (char)byte;
    append(opaque, "S", 1);
    append(opaque, &c, 1);
}

static void observe(x86irq_machine *m, struct record *r)
{
    x86irq_set_trace_hook(m, X86IRQ_TRACE_ALL, on_event, r);
    x86irq_set_serial_output(m, on_serial, r);
}

static x86irq_machine *make(const char *elf, unsigned cpus, int nic_peer)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 32u << 20;
    c.cpus = cpus;
    c.nic_peer = nic_peer;
    x86irq_machine *m = NULL;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    assert_int_equal(x86irq_load_elf(m, elf, NULL), X86IRQ_OK);
    return m;
}

/* Run until the guest stops by itself (or the budget ends); the stop reason */
static x86irq_stop_reason run_out(x86irq_machine *m, uint64_t budget)
{
    x86irq_stop_reason why = X86IRQ_STOP_NONE;
    assert_int_equal(x86irq_run(m, budget, &why), X86IRQ_OK);
    return why;
}

/* The end state, as text: every core's registers, the cycle and instruction counts */
static void end_state(x86irq_machine *m, unsigned cpus, struct record *r)
{
    char line[128];
    for (unsigned cpu = 0; cpu < cpus; cpu++)
        for (int reg = 0; reg <= X86IRQ_REG64_RFLAGS; reg++) {
            uint64_t v = 0;
            assert_int_equal(x86irq_get_cpu_register64(m, cpu, (x86irq_register64)reg, &v),
                             X86IRQ_OK);
            int n = snprintf(line, sizeof(line), "cpu%u r%d=%llx\n", cpu, reg,
                             (unsigned long long)v);
            append(r, line, (size_t)n);
        }
    int n = snprintf(line, sizeof(line), "cycles %llu instructions %llu exit %u\n",
                     (unsigned long long)x86irq_cycles(m),
                     (unsigned long long)x86irq_instructions(m), x86irq_exit_value(m));
    append(r, line, (size_t)n);
}

/* ------------------------------------------------------------------ NIC traffic */

struct feed {
    uint64_t every, sent, count;
};

static void next_frame(x86irq_machine *m, void *opaque)
{
    struct feed *f = opaque;
    uint8_t frame[64] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01,
                          0x88, 0xB5 };
    frame[14] = (uint8_t)f->sent;
    x86irq_nic_receive(m, frame, sizeof(frame));
    if (++f->sent < f->count)
        assert_int_equal(x86irq_schedule_event(m, (f->sent + 1) * f->every, next_frame, f, NULL),
                         X86IRQ_OK);
}

/* ------------------------------------------------------------------ the round trip */

/* Run `elf` to cycle `at`, save, go on to the end; restore into a fresh machine and go on:
 * both halves must show the same. With a feed: NIC frames from the embedder, rebound. With
 * base_at (below at): a whole snapshot there and, at `at`, a delta against it, restored with
 * it. */
static void round_trip(const char *elf, unsigned cpus, uint64_t base_at, uint64_t at,
                       uint64_t budget, struct feed *feed)
{
    x86irq_machine *a = make(elf, cpus, 0);
    /* one listener from the start: setting a trace hook forgets what is in service */
    struct record all_a = { 0 }, after_a = { 0 }, after_b = { 0 };
    struct feed feed_a = feed ? *feed : (struct feed){ 0 }, feed_b;
    if (feed)
        assert_int_equal(x86irq_schedule_event(a, feed_a.every, next_frame, &feed_a, NULL),
                         X86IRQ_OK);
    observe(a, &all_a);
    void *base = NULL, *snap;
    size_t base_size = 0, size;
    if (base_at) {
        assert_int_equal(run_out(a, base_at), X86IRQ_STOP_BUDGET);
        assert_int_equal(x86irq_snapshot_save(a, &base, &base_size), X86IRQ_OK);
        at -= base_at;
    }
    assert_int_equal(run_out(a, at), X86IRQ_STOP_BUDGET);
    if (base) {
        assert_int_equal(x86irq_snapshot_save_delta(a, base, base_size, &snap, &size),
                         X86IRQ_OK);
        assert_true(size < base_size); /* the guest changed few pages */
    } else {
        assert_int_equal(x86irq_snapshot_save(a, &snap, &size), X86IRQ_OK);
    }
    uint64_t saved_at = x86irq_cycles(a);
    size_t mark = all_a.size;
    feed_b = feed_a;
    x86irq_stop_reason why_a = run_out(a, budget);
    end_state(a, cpus, &all_a);
    append(&after_a, all_a.text + mark, all_a.size - mark);

    x86irq_machine *b = make(elf, cpus, 0);
    observe(b, &after_b);
    if (base)
        assert_int_equal(x86irq_snapshot_restore_delta(b, base, base_size, snap, size),
                         X86IRQ_OK);
    else
        assert_int_equal(x86irq_snapshot_restore(b, snap, size), X86IRQ_OK);
    assert_int_equal(x86irq_cycles(b), saved_at);
    if (feed && feed_b.sent < feed_b.count) {
        uint64_t id = 0, cycle = 0;
        assert_int_equal(x86irq_unbound_event(b, 0, &id, &cycle), X86IRQ_OK);
        assert_int_equal(cycle, (feed_b.sent + 1) * feed_b.every);
        assert_int_equal(x86irq_unbound_event(b, 1, NULL, NULL), X86IRQ_ERR_RANGE);
        /* unbound, the machine does not run */
        x86irq_stop_reason why;
        assert_int_equal(x86irq_run(b, 1000, &why), X86IRQ_ERR_STATE);
        assert_non_null(strstr(x86irq_last_error(b), "x86irq_rebind_event"));
        assert_int_equal(x86irq_rebind_event(b, id + 1000, next_frame, &feed_b), X86IRQ_ERR_STATE);
        assert_int_equal(x86irq_rebind_event(b, id, next_frame, &feed_b), X86IRQ_OK);
    }
    x86irq_stop_reason why_b = run_out(b, budget);
    end_state(b, cpus, &after_b);

    assert_int_equal(why_a, why_b);
    assert_true(after_a.size > 0);
    if (after_a.size != after_b.size || memcmp(after_a.text, after_b.text, after_a.size)) {
        /* where they part, for the log */
        size_t i = 0;
        while (i < after_a.size && i < after_b.size && after_a.text[i] == after_b.text[i])
            i++;
        size_t line = i;
        while (line > 0 && after_a.text[line - 1] != '\n')
            line--;
        fail_msg("the restored run differs at byte %zu:\n  went on: %.300s\n  restored: %.300s",
                 i, after_a.text + line, after_b.text + line);
    }
    assert_string_equal(after_a.text, after_b.text);
    if (feed)
        assert_int_equal(feed_a.sent, feed_b.sent);

    x86irq_snapshot_free(snap);
    x86irq_snapshot_free(base);
    x86irq_machine_destroy(a);
    x86irq_machine_destroy(b);
    free(all_a.text);
    free(after_a.text);
    free(after_b.text);
}

static void test_round_trip_timer(void **state)
{
    (void)state;
    /* mid-run: its LAPIC timer armed, the 8259 and the UART busy */
    round_trip(timer_elf, 1, 0, 9000000, 2000000000, NULL);
}

static void test_round_trip_early_and_two_cpus(void **state)
{
    (void)state;
    round_trip(timer_elf, 1, 0, 1, 2000000000, NULL);
    round_trip(timer_elf, 2, 0, 12345677, 2000000000, NULL); /* an AP waiting for SIPI */
}

static void test_round_trip_nic(void **state)
{
    (void)state;
    struct feed feed = { 100000, 0, 40 };
    round_trip(nic_elf, 1, 0, 2000033, 3000000000, &feed);
}

/* ------------------------------------------------------------------ no pointer survives */

/* Every 8-byte word of what b holds must not point into a: a pointer a restore kept from the
 * snapshot's machine would (a missing entry in the kept lists). */
static bool inside(uint64_t v, const void *base, size_t size)
{
    return v >= (uintptr_t)base && v - (uintptr_t)base < size;
}

static void no_pointer_into(const void *part, size_t size, const x86irq_machine *a)
{
    const uint8_t *p = part;
    for (size_t at = 0; at + 8 <= size; at += 8) {
        uint64_t v;
        memcpy(&v, p + at, 8);
        bool bad = inside(v, a, sizeof(*a)) || inside(v, a->bus.ram, a->bus.ram_size) ||
                   (a->nic && inside(v, a->nic, sizeof(*a->nic))) ||
                   (a->net_peer && inside(v, a->net_peer, sizeof(*a->net_peer))) ||
                   inside(v, a->events.heap, a->events.capacity * sizeof(*a->events.heap)) ||
                   inside(v, a->trace.threads,
                          a->trace.thread_capacity * sizeof(*a->trace.threads));
        for (unsigned i = 0; i < a->core_count; i++)
            bad = bad || inside(v, a->cores[i], sizeof(*a->cores[i]));
        if (bad)
            fail_msg("a pointer of the saving machine at offset %zu of a restored part", at);
    }
}

static void test_no_pointer_survives(void **state)
{
    (void)state;
    x86irq_machine *a = make(nic_elf, 2, 1), *b = make(nic_elf, 2, 1);
    struct feed feed = { 100000, 0, 10 };
    assert_int_equal(x86irq_schedule_event(a, feed.every, next_frame, &feed, NULL), X86IRQ_OK);
    assert_int_equal(run_out(a, 700001), X86IRQ_STOP_BUDGET);
    void *snap;
    size_t size;
    assert_int_equal(x86irq_snapshot_save(a, &snap, &size), X86IRQ_OK);
    assert_int_equal(x86irq_snapshot_restore(b, snap, size), X86IRQ_OK);
    no_pointer_into(b, sizeof(*b), a);
    for (unsigned i = 0; i < b->core_count; i++)
        no_pointer_into(b->cores[i], sizeof(*b->cores[i]), a);
    no_pointer_into(b->nic, sizeof(*b->nic), a);
    no_pointer_into(b->net_peer, sizeof(*b->net_peer), a);
    for (size_t i = 0; i < b->events.count; i++)
        no_pointer_into(&b->events.heap[i], sizeof(b->events.heap[i]), a);

    /* what was restored saves as the same bytes */
    void *again;
    size_t again_size;
    assert_int_equal(x86irq_snapshot_save(b, &again, &again_size), X86IRQ_OK);
    assert_int_equal(again_size, size);
    assert_memory_equal(again, snap, size);
    x86irq_snapshot_free(again);
    /* and saving twice without running too */
    assert_int_equal(x86irq_snapshot_save(a, &again, &again_size), X86IRQ_OK);
    assert_int_equal(again_size, size);
    assert_memory_equal(again, snap, size);
    x86irq_snapshot_free(again);
    x86irq_snapshot_free(snap);
    x86irq_machine_destroy(a);
    x86irq_machine_destroy(b);
}

/* Delta snapshots: the round trip (timer; two CPUs; NIC traffic rebound), and a delta refused
 * without its base or with another, the machine left as it was */
static void test_delta(void **state)
{
    (void)state;
    round_trip(timer_elf, 1, 3000000, 9000000, 2000000000, NULL);
    round_trip(timer_elf, 2, 1, 12345677, 2000000000, NULL);
    struct feed feed = { 100000, 0, 40 };
    round_trip(nic_elf, 1, 1000000, 2000033, 3000000000, &feed);
}

/* ------------------------------------------------------------------ bad snapshots */

static void refused(x86irq_machine *m, const void *data, size_t size, const char *message)
{
    void *before, *after;
    size_t before_size, after_size;
    assert_int_equal(x86irq_snapshot_save(m, &before, &before_size), X86IRQ_OK);
    assert_int_equal(x86irq_snapshot_restore(m, data, size), X86IRQ_ERR_BAD_SNAPSHOT);
    if (!strstr(x86irq_last_error(m), message))
        fail_msg("\"%s\" does not say \"%s\"", x86irq_last_error(m), message);
    /* the machine is as it was */
    assert_int_equal(x86irq_snapshot_save(m, &after, &after_size), X86IRQ_OK);
    assert_int_equal(before_size, after_size);
    assert_memory_equal(before, after, before_size);
    x86irq_snapshot_free(before);
    x86irq_snapshot_free(after);
}

static void test_bad_snapshots(void **state)
{
    (void)state;
    x86irq_machine *a = make(timer_elf, 1, 0), *b = make(timer_elf, 1, 0);
    assert_int_equal(run_out(a, 5000000), X86IRQ_STOP_BUDGET);
    assert_int_equal(run_out(b, 2000000), X86IRQ_STOP_BUDGET);
    uint8_t *snap;
    size_t size;
    assert_int_equal(x86irq_snapshot_save(a, (void **)&snap, &size), X86IRQ_OK);
    uint8_t *copy = malloc(size);
    assert_non_null(copy);

    refused(b, "hello", 5, "not an x86irq snapshot");
    refused(b, NULL, 0, "not an x86irq snapshot");
    refused(b, snap, 100, "truncated");
    refused(b, snap, size - 1, "truncated");
    memcpy(copy, snap, size);
    copy[size / 2] ^= 0x20;
    refused(b, copy, size, "checksum");
    memcpy(copy, snap, size);
    copy[60] ^= 1; /* the RAM size in the header */
    refused(b, copy, size, "checksum");
    memcpy(copy, snap, size);
    copy[8] = 9; /* a later version */
    refused(b, copy, size, "version 9");

    /* another configuration */
    x86irq_machine *two = make(timer_elf, 2, 0);
    refused(two, snap, size, "CPUs");
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 16u << 20;
    x86irq_machine *small = NULL;
    assert_int_equal(x86irq_machine_create(&c, &small), X86IRQ_OK);
    refused(small, snap, size, "RAM size");
    /* other symbols (another guest) */
    x86irq_machine *other = make(nic_elf, 1, 0);
    refused(other, snap, size, "symbols");

    /* a delta: not without its base, not with another; files */
    void *delta, *other_base;
    size_t delta_size, other_size;
    assert_int_equal(x86irq_snapshot_save(b, &other_base, &other_size), X86IRQ_OK);
    assert_int_equal(run_out(a, 1000000), X86IRQ_STOP_BUDGET);
    assert_int_equal(x86irq_snapshot_save_delta(a, snap, size, &delta, &delta_size), X86IRQ_OK);
    refused(b, delta, delta_size, "it is a delta");
    assert_int_equal(x86irq_snapshot_restore_delta(b, other_base, other_size, delta, delta_size),
                     X86IRQ_ERR_BAD_SNAPSHOT);
    assert_non_null(strstr(x86irq_last_error(b), "another base"));
    assert_int_equal(x86irq_snapshot_restore_delta(b, delta, delta_size, delta, delta_size),
                     X86IRQ_ERR_BAD_SNAPSHOT);
    assert_non_null(strstr(x86irq_last_error(b), "a delta itself"));
    x86irq_snapshot_free(delta);
    assert_int_equal(x86irq_snapshot_save_delta(a, "junk", 4, &delta, &delta_size),
                     X86IRQ_ERR_BAD_SNAPSHOT);
    assert_null(delta);
    assert_int_equal(x86irq_snapshot_save_delta(two, snap, size, &delta, &delta_size),
                     X86IRQ_ERR_BAD_SNAPSHOT); /* a base of another configuration */
    assert_non_null(strstr(x86irq_last_error(two), "CPUs"));
    const char *base_path = "test-snapshot-base.x86snap", *delta_path = "test-snapshot.delta";
    FILE *f = fopen(base_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(snap, 1, size, f), size);
    fclose(f);
    assert_int_equal(x86irq_snapshot_save_delta_file(a, base_path, delta_path), X86IRQ_OK);
    assert_int_equal(x86irq_snapshot_restore_file(b, delta_path), X86IRQ_ERR_BAD_SNAPSHOT);
    assert_int_equal(x86irq_snapshot_restore_delta_file(b, base_path, delta_path), X86IRQ_OK);
    assert_int_equal(x86irq_cycles(b), x86irq_cycles(a));
    assert_int_equal(x86irq_snapshot_restore_delta_file(b, "/nonexistent", delta_path),
                     X86IRQ_ERR_IO);
    remove(base_path);
    remove(delta_path);
    x86irq_snapshot_free(other_base);

    /* from a file; a missing one is an I/O error */
    const char *path = "test-snapshot.x86snap";
    assert_int_equal(x86irq_snapshot_save_file(a, path), X86IRQ_OK);
    assert_int_equal(x86irq_snapshot_restore_file(b, path), X86IRQ_OK);
    assert_int_equal(x86irq_cycles(b), x86irq_cycles(a));
    remove(path);
    assert_int_equal(x86irq_snapshot_restore_file(b, path), X86IRQ_ERR_IO);
    assert_int_equal(x86irq_snapshot_save_file(a, "/nonexistent/dir/x"), X86IRQ_ERR_IO);

    free(copy);
    x86irq_snapshot_free(snap);
    x86irq_machine_destroy(a);
    x86irq_machine_destroy(b);
    x86irq_machine_destroy(two);
    x86irq_machine_destroy(small);
    x86irq_machine_destroy(other);
}

/* Refused inside a callback, like the other calls that replace what a run uses */
static void save_in_event(x86irq_machine *m, void *opaque)
{
    void *data;
    size_t size;
    *(x86irq_status *)opaque = x86irq_snapshot_save(m, &data, &size);
}

static void test_not_in_callbacks(void **state)
{
    (void)state;
    x86irq_machine *m = make(timer_elf, 1, 0);
    x86irq_status s = X86IRQ_OK;
    assert_int_equal(x86irq_schedule_event(m, 1000, save_in_event, &s, NULL), X86IRQ_OK);
    run_out(m, 10000);
    assert_int_equal(s, X86IRQ_ERR_STATE);
    x86irq_machine_destroy(m);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_snapshot TIMER.elf NIC-BOTTOM-HALF.elf\n");
        return 2;
    }
    timer_elf = argv[1];
    nic_elf = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_timer),
        cmocka_unit_test(test_round_trip_early_and_two_cpus),
        cmocka_unit_test(test_round_trip_nic),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_no_pointer_survives),
        cmocka_unit_test(test_bad_snapshots),
        cmocka_unit_test(test_not_in_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
