/* Unit tests of recording and replaying the host's input (src/machine/inputs.c): an embedder's
 * session (runs of irregular lengths, NIC frames, serial bytes, line pulses and an NMI given
 * between them) recorded, then replayed on a fresh machine in other slices: the same trace
 * events, serial output and end state, on one CPU and on two; the embedder's own input refused
 * during a replay; a replay that is made to diverge says so; bad recordings refused.
 * Argument: the nic-bottom-half example guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "x86irq/x86irq.h"

static const char *nic_elf;

struct text {
    char *s;
    size_t size, capacity;
};

static void append(struct text *t, const char *s, size_t n)
{
    if (t->size + n + 1 > t->capacity) {
        t->capacity = (t->size + n + 1) * 2;
        t->s = realloc(t->s, t->capacity);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->size, s, n);
    t->size += n;
    t->s[t->size] = 0;
}

static void on_event(void *opaque, const x86irq_trace_event *e)
{
    char line[200];
    int n = snprintf(line, sizeof(line), "%llu k%u v%u eip=%llx core%u d%u %s\n",
                     (unsigned long long)e->cycle, e->kind, e->vector,
                     (unsigned long long)e->eip, e->core, e->depth, e->detail ? e->detail : "");
    append(opaque, line, (size_t)n);
}

static void on_serial(void *opaque, uint8_t byte)
{
    char c[2] = { 'S', (char)byte };
    append(opaque, c, 2);
}

static x86irq_machine *make(unsigned cpus, struct text *t)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 32u << 20;
    c.cpus = cpus;
    x86irq_machine *m = NULL;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    assert_int_equal(x86irq_load_elf(m, nic_elf, NULL), X86IRQ_OK);
    x86irq_set_trace_hook(m, X86IRQ_TRACE_ALL, on_event, t);
    x86irq_set_serial_output(m, on_serial, t);
    return m;
}

static void end_state(x86irq_machine *m, struct text *t)
{
    char line[160];
    int n = snprintf(line, sizeof(line), "end: cycles %llu instructions %llu exit %u\n",
                     (unsigned long long)x86irq_cycles(m),
                     (unsigned long long)x86irq_instructions(m), x86irq_exit_value(m));
    append(t, line, (size_t)n);
    for (int r = 0; r <= X86IRQ_REG64_RFLAGS; r++) {
        uint64_t v = 0;
        assert_int_equal(x86irq_get_cpu_register64(m, 0, (x86irq_register64)r, &v), X86IRQ_OK);
        n = snprintf(line, sizeof(line), "r%d=%llx\n", r, (unsigned long long)v);
        append(t, line, (size_t)n);
    }
}

static uint32_t next_random(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

#define SESSION_END 40000000ull

/* The embedder's session: runs of 1 to 400,000 cycles, and between them, now and then, a frame
 * for the NIC, a byte of serial input, a pulse on GSI 10, an NMI... until cycle `until`. */
static void session(x86irq_machine *m, uint32_t seed, uint64_t until)
{
    uint8_t frame[64] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01,
                          0x88, 0xB5 };
    unsigned frames = 0;
    while (x86irq_cycles(m) < until) {
        x86irq_stop_reason why;
        assert_int_equal(x86irq_run(m, 1 + next_random(&seed) % 400000, &why), X86IRQ_OK);
        if (why != X86IRQ_STOP_BUDGET && why != X86IRQ_STOP_HALTED)
            break;
        uint32_t pick = next_random(&seed) % 16;
        if (pick < 8 && frames < 200) {
            frame[14] = (uint8_t)frames++;
            (void)x86irq_nic_receive(m, frame, sizeof(frame)); /* may be dropped: the same */
        } else if (pick == 8) {
            assert_int_equal(x86irq_serial_input(m, "k", 1), X86IRQ_OK);
        } else if (pick == 9) {
            assert_int_equal(x86irq_pulse_irq_line(m, 10), X86IRQ_OK);
        } else if (pick == 10 && frames == 30) {
            assert_int_equal(x86irq_raise_nmi(m), X86IRQ_OK);
            frames++;
        }
    }
}

static void differ(const struct text *a, const struct text *b)
{
    size_t i = 0;
    while (i < a->size && i < b->size && a->s[i] == b->s[i])
        i++;
    size_t line = i;
    while (line > 0 && a->s[line - 1] != '\n')
        line--;
    fail_msg("the replay differs at byte %zu:\n  recorded: %.200s\n  replayed: %.200s", i,
             a->s + line, b->s + line);
}

static void record_and_replay(unsigned cpus, uint32_t seed, uint64_t until)
{
    struct text ta = { 0 }, tb = { 0 };
    x86irq_machine *a = make(cpus, &ta);
    assert_int_equal(x86irq_record_start(a), X86IRQ_OK);
    session(a, seed, until);
    end_state(a, &ta);
    void *rec;
    size_t size;
    assert_int_equal(x86irq_record_save(a, &rec, &size), X86IRQ_OK);
    uint64_t end = x86irq_cycles(a);
    print_message("session on %u CPU(s): %zu bytes of recording, to cycle %llu, exit %u\n", cpus,
                  size, (unsigned long long)end, x86irq_exit_value(a));

    x86irq_machine *b = make(cpus, &tb);
    assert_int_equal(x86irq_replay_start(b, rec, size), X86IRQ_OK);
    assert_true(x86irq_replay_remaining(b) > 20); /* the session gave that many */
    /* the embedder's own input is the recording's now */
    assert_int_equal(x86irq_serial_input(b, "x", 1), X86IRQ_ERR_STATE);
    assert_non_null(strstr(x86irq_last_error(b), "replayed"));
    /* three runs cut elsewhere than the session's */
    x86irq_stop_reason why;
    assert_int_equal(x86irq_run(b, until / 3 + 12345, &why), X86IRQ_OK);
    assert_int_equal(x86irq_run(b, 7, &why), X86IRQ_OK);
    assert_true(x86irq_cycles(b) < end);
    /* then to where the session ended (its last run ended at the budget) */
    for (int i = 0; i < 1000 && x86irq_cycles(b) < end; i++) {
        assert_int_equal(x86irq_run(b, end - x86irq_cycles(b), &why), X86IRQ_OK);
        if (why != X86IRQ_STOP_BUDGET && why != X86IRQ_STOP_HALTED)
            break;
    }
    assert_int_equal(x86irq_replay_remaining(b), 0);
    end_state(b, &tb);
    if (ta.size != tb.size || memcmp(ta.s, tb.s, ta.size) != 0)
        differ(&ta, &tb);
    assert_true(strstr(ta.s, "S") != NULL || ta.size > 1000);

    x86irq_free(rec);
    x86irq_machine_destroy(a);
    x86irq_machine_destroy(b);
    free(ta.s);
    free(tb.s);
}

static void test_replay_one_cpu(void **state)
{
    (void)state;
    record_and_replay(1, 1, SESSION_END);
    record_and_replay(1, 77, SESSION_END);
}

static void test_replay_two_cpus(void **state)
{
    (void)state;
    record_and_replay(2, 5, SESSION_END / 4);
}

/* An embedder event that gives input in the replay only: the machine goes elsewhere, and the
 * replay says where it expected to be */
static void extra_frame(x86irq_machine *m, void *opaque)
{
    (void)opaque;
    uint8_t frame[64] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0x00, 0x00, 0x02,
                          0x88, 0xB5 };
    (void)x86irq_nic_receive(m, frame, sizeof(frame)); /* from a callback: allowed */
}

static void test_divergence_and_bad_recordings(void **state)
{
    (void)state;
    struct text ta = { 0 }, tb = { 0 };
    x86irq_machine *a = make(1, &ta);
    assert_int_equal(x86irq_record_start(a), X86IRQ_OK);
    session(a, 9, SESSION_END);
    uint8_t *rec;
    size_t size;
    assert_int_equal(x86irq_record_save(a, (void **)&rec, &size), X86IRQ_OK);

    x86irq_machine *b = make(1, &tb);
    assert_int_equal(x86irq_schedule_event(b, 3000000, extra_frame, NULL, NULL), X86IRQ_OK);
    assert_int_equal(x86irq_replay_start(b, rec, size), X86IRQ_OK);
    x86irq_stop_reason why;
    x86irq_status s = X86IRQ_OK;
    for (int i = 0; i < 100 && s == X86IRQ_OK && x86irq_cycles(b) < SESSION_END; i++)
        s = x86irq_run(b, SESSION_END, &why);
    assert_int_equal(s, X86IRQ_ERR_STATE);
    assert_non_null(strstr(x86irq_last_error(b), "diverged"));
    assert_int_equal(x86irq_replay_stop(b), X86IRQ_OK);
    assert_int_equal(x86irq_serial_input(b, "x", 1), X86IRQ_OK); /* its own input again */

    /* bad recordings, refused with nothing changed */
    x86irq_machine *c = make(1, &tb);
    assert_int_equal(x86irq_replay_start(c, "nothing", 7), X86IRQ_ERR_BAD_RECORDING);
    assert_int_equal(x86irq_replay_start(c, rec, size - 1), X86IRQ_ERR_BAD_RECORDING);
    rec[size / 2] ^= 1;
    assert_int_equal(x86irq_replay_start(c, rec, size), X86IRQ_ERR_BAD_RECORDING);
    assert_non_null(strstr(x86irq_last_error(c), "checksum"));
    rec[size / 2] ^= 1;
    assert_int_equal(x86irq_replay_remaining(c), 0);
    x86irq_machine *two = make(2, &tb);
    assert_int_equal(x86irq_replay_start(two, rec, size), X86IRQ_ERR_BAD_RECORDING);
    assert_non_null(strstr(x86irq_last_error(two), "configured otherwise"));
    /* recording and replaying exclude each other; stop without start */
    assert_int_equal(x86irq_replay_start(a, rec, size), X86IRQ_ERR_STATE);
    assert_int_equal(x86irq_replay_stop(c), X86IRQ_ERR_STATE);
    assert_int_equal(x86irq_record_stop(a), X86IRQ_OK);
    assert_int_equal(x86irq_record_stop(a), X86IRQ_ERR_STATE);
    void *none;
    size_t none_size;
    assert_int_equal(x86irq_record_save(a, &none, &none_size), X86IRQ_ERR_STATE);

    x86irq_free(rec);
    x86irq_machine_destroy(a);
    x86irq_machine_destroy(b);
    x86irq_machine_destroy(c);
    x86irq_machine_destroy(two);
    free(ta.s);
    free(tb.s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_inputs NIC-BOTTOM-HALF.elf\n");
        return 2;
    }
    nic_elf = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_one_cpu),
        cmocka_unit_test(test_replay_two_cpus),
        cmocka_unit_test(test_divergence_and_bad_recordings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
