/* Unit tests of the CLI's observability sinks (tools/observe.c) on synthetic event streams:
 * percentiles on known data, the Perfetto file's framing, the phase table; with two cores,
 * latencies paired per core (never negative), the per-CPU lines and tracks, nesting per core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "observe.h"

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    return text;
}

static void event(struct observer *ob, uint64_t cycle, unsigned kind, unsigned vector,
                  unsigned origin)
{
    x86irq_trace_event e = { .cycle = cycle, .kind = kind, .vector = vector, .origin = origin,
                             .eip = 0x1000, .cs = 8 };
    observer_event(ob, &e);
}

static void test_percentiles_on_known_data(void **state)
{
    (void)state;
    x86irq_machine *m;
    assert_int_equal(x86irq_machine_create(NULL, &m), X86IRQ_OK);
    struct observe_options o = { .stats = true, .cpu_hz = 1000000000 };
    struct observer *ob = observer_create(m, &o);
    assert_non_null(ob);
    /* 100 interrupts whose handlers run 1..100 cycles from entry to IRET; acceptance to entry
     * always 60 */
    uint64_t t = 1000;
    for (unsigned i = 1; i <= 100; i++) {
        x86irq_trace_event accept = { .cycle = t, .kind = X86IRQ_TRACE_ACCEPT, .vector = 0x40,
                                      .origin = X86IRQ_ORIGIN_HARDWARE };
        observer_event(ob, &accept);
        event(ob, t + 60, X86IRQ_TRACE_DELIVER, 0x40, X86IRQ_ORIGIN_HARDWARE);
        event(ob, t + 60, X86IRQ_TRACE_HANDLER, 0x40, 0);
        event(ob, t + 60 + i, X86IRQ_TRACE_IRET, 0x40, 0);
        t += 1000;
    }
    FILE *out = tmpfile();
    assert_non_null(out);
    observer_finish(ob, out);
    char *text = slurp(out);
    /* entry->IRET: min 1, p50 50, p90 90, p99 99, max 100 */
    assert_non_null(strstr(text, "entry->IRET              1         50         90         99        100"));
    assert_non_null(strstr(text, "accept->entry           60         60         60         60         60"));
    assert_non_null(strstr(text, "100  delivered"));
    free(text);
    fclose(out);
    x86irq_machine_destroy(m);
}

static void test_perfetto_framing_and_nesting(void **state)
{
    (void)state;
    x86irq_machine *m;
    assert_int_equal(x86irq_machine_create(NULL, &m), X86IRQ_OK);
    FILE *json = tmpfile();
    struct observe_options o = { .perfetto = json, .cpu_hz = 1000000000 };
    struct observer *ob = observer_create(m, &o);
    assert_non_null(ob);
    /* an interrupt, an NMI nested in it; the outer one never returns (closed at the end) */
    event(ob, 1000, X86IRQ_TRACE_DELIVER, 0x40, X86IRQ_ORIGIN_HARDWARE);
    event(ob, 1000, X86IRQ_TRACE_HANDLER, 0x40, 0);
    event(ob, 1500, X86IRQ_TRACE_DELIVER, 2, X86IRQ_ORIGIN_NMI);
    event(ob, 1500, X86IRQ_TRACE_HANDLER, 2, 0);
    event(ob, 1700, X86IRQ_TRACE_IRET, 2, 0);
    observer_finish(ob, stderr);
    char *text = slurp(json);
    assert_true(strncmp(text, "{\"displayTimeUnit\"", 18) == 0);
    assert_non_null(strstr(text, "\n]}\n"));
    /* two B and two E: the NMI's E at 1.700 us, the outer one closed at the end */
    unsigned b = 0, e = 0;
    for (const char *p = text; (p = strstr(p, "\"ph\":\"")) != NULL; p += 6) {
        b += p[6] == 'B';
        e += p[6] == 'E';
    }
    assert_int_equal(b, 2);
    assert_int_equal(e, 2);
    assert_non_null(strstr(text, "\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":1.700"));
    assert_non_null(strstr(text, "\"ts\":1.500,\"name\":\"NMI"));
    free(text);
    fclose(json);
    x86irq_machine_destroy(m);
}

static void test_rule_lists(void **state)
{
    (void)state;
    uint32_t rules;
    assert_true(observer_parse_rules("exception-in-irq,hlt-hang", &rules));
    assert_int_equal(rules, (1u << X86IRQ_RULE_EXCEPTION_IN_IRQ) | (1u << X86IRQ_RULE_HLT_HANG));
    assert_true(observer_parse_rules(NULL, &rules));
    assert_int_equal(rules, (1u << X86IRQ_RULE_COUNT) - 1);
    assert_false(observer_parse_rules("exception-in-irq,nope", &rules));
}

/* ------------------------------------------------------------------ several cores */

static x86irq_machine *machine_with_cpus(unsigned cpus)
{
    x86irq_config config;
    x86irq_config_init(&config);
    config.cpus = cpus;
    x86irq_machine *m;
    assert_int_equal(x86irq_machine_create(&config, &m), X86IRQ_OK);
    assert_int_equal(x86irq_cpu_count(m), cpus);
    return m;
}

static void on(struct observer *ob, unsigned core, uint64_t cycle, unsigned kind, unsigned vector,
               unsigned origin, unsigned line)
{
    x86irq_trace_event e = { .cycle = cycle, .kind = kind, .vector = vector, .origin = origin,
                             .line = line, .eip = 0x1000, .cs = 8, .core = (uint8_t)core };
    observer_event(ob, &e);
}

static void on_switch(struct observer *ob, unsigned core, uint64_t cycle, uint32_t from,
                      uint32_t to)
{
    x86irq_trace_event e = { .cycle = cycle, .kind = X86IRQ_TRACE_SWITCH, .line = to,
                             .error_code = from, .eip = 0x2000, .cs = 8, .core = (uint8_t)core,
                             .thread = to, .previous_thread = from };
    observer_event(ob, &e);
}

/* No number in the text is a wrapped-around negative span (2^64 - n) */
static void assert_no_huge_numbers(const char *text)
{
    for (const char *p = text; *p; p++)
        if (*p >= '0' && *p <= '9' && (p == text || p[-1] < '0' || p[-1] > '9')) {
            unsigned long long v = strtoull(p, NULL, 10);
            assert_true(v < 1000000000000ull);
        }
}

/* The per-CPU context row of a core: its three cycle counts */
static void context_row(const char *text, unsigned cpu, unsigned long long cycles[3])
{
    const char *table = strstr(text, "--- time by context per CPU (cycles) ---\n");
    assert_non_null(table);
    const char *line = strchr(table, '\n') + 1; /* the header */
    line = strchr(line, '\n') + 1;
    for (unsigned i = 0; i < cpu; i++)
        line = strchr(line, '\n') + 1;
    unsigned c;
    double share[3];
    assert_int_equal(sscanf(line, "%u %llu %lf%% %llu %lf%% %llu %lf%%", &c, &cycles[0],
                            &share[0], &cycles[1], &share[1], &cycles[2], &share[2]), 7);
    assert_int_equal(c, cpu);
}

/* Two cores take the same vector at once, core 1's clock 5000 cycles behind core 0's, the
 * events interleaved as the rounds deliver them: each latency pairs events of one core. */
static void test_two_cores_pair_on_their_own_clock(void **state)
{
    (void)state;
    x86irq_machine *m = machine_with_cpus(2);
    FILE *events = tmpfile(), *json = tmpfile(), *out = tmpfile();
    struct observe_options o = { .stats = true, .events = events, .perfetto = json,
                                 .cpu_hz = 1000000000 };
    struct observer *ob = observer_create(m, &o);
    assert_non_null(ob);
    on(ob, 0, 10000, X86IRQ_TRACE_IRR, 0x40, 0, 0);
    on(ob, 1, 5000, X86IRQ_TRACE_IRR, 0x40, 0, 0);
    on(ob, 0, 10010, X86IRQ_TRACE_ACCEPT, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 1, 5020, X86IRQ_TRACE_ACCEPT, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 0, 10070, X86IRQ_TRACE_DELIVER, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 0, 10070, X86IRQ_TRACE_HANDLER, 0x40, 0, 0);
    on(ob, 1, 5080, X86IRQ_TRACE_DELIVER, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 1, 5080, X86IRQ_TRACE_HANDLER, 0x40, 0, 0);
    on(ob, 1, 5100, X86IRQ_TRACE_EOI, 0x40, 0, 0);
    on(ob, 0, 10100, X86IRQ_TRACE_EOI, 0x40, 0, 0);
    on(ob, 1, 5200, X86IRQ_TRACE_IRET, 0x40, 0, 0);
    on(ob, 0, 10170, X86IRQ_TRACE_IRET, 0x40, 0, 0);
    /* the runs end: core 0 at 12000, core 1 at 6000 (the machine never ran: last events) */
    on(ob, 0, 12000, X86IRQ_TRACE_LINE, 0, 0, 3);
    on(ob, 1, 6000, X86IRQ_TRACE_LINE, 0, 0, 4);
    observer_finish(ob, out);
    char *text = slurp(out);
    /* assert->accept: 10 (core 0) and 20 (core 1); accept->entry 60 on both; entry->EOI 30
     * and 20; entry->IRET 100 and 120 */
    assert_non_null(strstr(text, "assert->accept          10         10         20         20         20"));
    assert_non_null(strstr(text, "accept->entry           60         60         60         60         60"));
    assert_non_null(strstr(text, "entry->EOI              20         20         30         30         30"));
    assert_non_null(strstr(text, "entry->IRET            100        100        120        120        120"));
    assert_non_null(strstr(text, "2  delivered"));
    assert_non_null(strstr(text, "  by cpu: 0:1 1:1\n"));
    /* side by side, not nested */
    assert_non_null(strstr(text, "deepest nesting             1\n"));
    assert_null(strstr(text, "dropped"));
    /* time by context, each core on its own clock; the total sums them */
    unsigned long long c0[3], c1[3];
    context_row(text, 0, c0);
    context_row(text, 1, c1);
    assert_true(c0[0] == 12000 - 100 && c0[1] == 100 && c0[2] == 0);
    assert_true(c1[0] == 6000 - 120 && c1[1] == 120 && c1[2] == 0);
    assert_non_null(strstr(text, "interrupt context (IRQ, NMI)              220"));
    assert_no_huge_numbers(text);
    free(text);
    /* the event log names the core */
    text = slurp(events);
    assert_non_null(strstr(text, "        5000  cpu1   irr "));
    assert_non_null(strstr(text, "       10000  cpu0   irr "));
    free(text);
    /* a process per core; each handler's slice on its own core's track */
    text = slurp(json);
    assert_non_null(strstr(text, "\"pid\":1,\"tid\":1,\"ts\":0.000,\"name\":\"process_name\",\"cat\":\"\",\"args\":{\"name\":\"CPU 0\"}"));
    assert_non_null(strstr(text, "\"pid\":2,\"tid\":3,\"ts\":0.000,\"name\":\"process_name\",\"cat\":\"\",\"args\":{\"name\":\"CPU 1\"}"));
    assert_non_null(strstr(text, "{\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":10.070,"));
    assert_non_null(strstr(text, "{\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":10.170,"));
    assert_non_null(strstr(text, "{\"ph\":\"B\",\"pid\":2,\"tid\":3,\"ts\":5.080,"));
    assert_non_null(strstr(text, "{\"ph\":\"E\",\"pid\":2,\"tid\":3,\"ts\":5.200,"));
    free(text);
    fclose(events);
    fclose(json);
    fclose(out);
    x86irq_machine_destroy(m);
}

/* Nesting is per core: an interrupt on core 1 during core 0's handler is not nested in it; an
 * NMI on core 0 inside core 0's handler is. */
static void test_nesting_is_per_core(void **state)
{
    (void)state;
    x86irq_machine *m = machine_with_cpus(2);
    FILE *out = tmpfile();
    struct observe_options o = { .stats = true, .cpu_hz = 1000000000 };
    struct observer *ob = observer_create(m, &o);
    on(ob, 0, 1000, X86IRQ_TRACE_DELIVER, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 0, 1000, X86IRQ_TRACE_HANDLER, 0x40, 0, 0);
    on(ob, 1, 900, X86IRQ_TRACE_DELIVER, 0x41, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 1, 900, X86IRQ_TRACE_HANDLER, 0x41, 0, 0);
    on(ob, 1, 950, X86IRQ_TRACE_IRET, 0x41, 0, 0);
    on(ob, 1, 960, X86IRQ_TRACE_DELIVER, 0x41, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 1, 960, X86IRQ_TRACE_HANDLER, 0x41, 0, 0);
    on(ob, 1, 990, X86IRQ_TRACE_IRET, 0x41, 0, 0);
    on(ob, 0, 1100, X86IRQ_TRACE_IRET, 0x40, 0, 0);
    observer_finish(ob, out);
    char *text = slurp(out);
    assert_non_null(strstr(text, "deepest nesting             1\n"));
    /* the IRETs on core 1 closed core 1's handlers: core 0's ran 100 cycles to its IRET */
    assert_non_null(strstr(text, "entry->IRET            100        100        100        100        100"));
    assert_non_null(strstr(text, "  by cpu: 0:0 1:2\n"));
    free(text);
    fclose(out);

    out = tmpfile();
    ob = observer_create(m, &o);
    on(ob, 0, 1000, X86IRQ_TRACE_DELIVER, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 0, 1000, X86IRQ_TRACE_HANDLER, 0x40, 0, 0);
    on(ob, 1, 1010, X86IRQ_TRACE_DELIVER, 0x41, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 0, 1050, X86IRQ_TRACE_DELIVER, 2, X86IRQ_ORIGIN_NMI, 3);
    on(ob, 0, 1050, X86IRQ_TRACE_HANDLER, 2, 0, 0);
    on(ob, 0, 1070, X86IRQ_TRACE_IRET, 2, 0, 0);
    on(ob, 0, 1100, X86IRQ_TRACE_IRET, 0x40, 0, 0);
    observer_finish(ob, out);
    text = slurp(out);
    assert_non_null(strstr(text, "deepest nesting             2\n"));
    free(text);
    fclose(out);
    x86irq_machine_destroy(m);
}

/* A thread preempted inside a handler on core 0 (clock ahead) resumes on core 1 (clock behind)
 * and returns there: the spans across the two clocks are dropped, never negative; its slice
 * moves to core 1's track, each track's times only going forward. */
static void test_thread_moving_between_cores(void **state)
{
    (void)state;
    x86irq_machine *m = machine_with_cpus(2);
    FILE *json = tmpfile(), *out = tmpfile();
    struct observe_options o = { .stats = true, .perfetto = json, .cpu_hz = 1000000000 };
    struct observer *ob = observer_create(m, &o);
    on_switch(ob, 0, 19000, 0, 0xA);
    on_switch(ob, 1, 7000, 0, 0xC);
    on(ob, 0, 19990, X86IRQ_TRACE_ACCEPT, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 0, 20000, X86IRQ_TRACE_DELIVER, 0x40, X86IRQ_ORIGIN_HARDWARE, 0);
    on(ob, 0, 20000, X86IRQ_TRACE_HANDLER, 0x40, 0, 0);
    on_switch(ob, 0, 20100, 0xA, 0xB);   /* preempted in the handler */
    on_switch(ob, 1, 8000, 0xC, 0xA);    /* and resumed on core 1 */
    on(ob, 1, 8020, X86IRQ_TRACE_EOI, 0x40, 0, 0);
    on(ob, 1, 8050, X86IRQ_TRACE_IRET, 0x40, 0, 0);
    observer_finish(ob, out);
    char *text = slurp(out);
    assert_no_huge_numbers(text);
    assert_null(strstr(text, "entry->IRET "));
    assert_null(strstr(text, "entry->EOI "));
    assert_non_null(strstr(text, "accept->entry           10 "));
    assert_non_null(strstr(text, "latencies dropped           2 "));
    assert_non_null(strstr(text, "thread switches             4 (5 threads)"));
    free(text);
    text = slurp(json);
    /* thread 0xA is thread 2: tracks 5 (handlers) on core 0's process, then core 1's */
    assert_non_null(strstr(text, "{\"ph\":\"B\",\"pid\":1,\"tid\":5,\"ts\":20.000,"));
    assert_non_null(strstr(text, "{\"ph\":\"E\",\"pid\":1,\"tid\":5,\"ts\":20.100,"));
    assert_non_null(strstr(text, "{\"ph\":\"B\",\"pid\":2,\"tid\":5,\"ts\":8.000,"));
    assert_non_null(strstr(text, "{\"ph\":\"E\",\"pid\":2,\"tid\":5,\"ts\":8.050,"));
    assert_non_null(strstr(text, "\"pid\":2,\"tid\":5,\"ts\":0.000,\"name\":\"thread_name\",\"cat\":\"\",\"args\":{\"name\":\"thread 0xa\"}"));
    free(text);
    fclose(json);
    fclose(out);
    x86irq_machine_destroy(m);
}

/* --timeline's file stays small however long the run: a million slices of widths from one
 * cycle to a million (log-uniform), nested up to three deep, on two cores whose threads switch,
 * with phases: wide slices are drawn (at most one per two pixels of a row), narrow ones merge
 * into density marks. */
static void test_timeline_size_is_bounded(void **state)
{
    (void)state;
    x86irq_machine *m = machine_with_cpus(2);
    char path[] = "/tmp/test-timeline-XXXXXX.svg";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    struct timeline_options to = { .path = path, .cpu_hz = 1000000000, .cpus = 2 };
    struct timeline *t = timeline_create(&to);
    assert_non_null(t);
    struct observe_options o = { .timeline = t, .cpu_hz = 1000000000 };
    struct observer *ob = observer_create(m, &o);
    assert_non_null(ob);
    uint64_t clock[2] = { 1000, 1000 }, random = 12345;
    for (unsigned i = 0; i < 1000000; i++) {
        unsigned core = i & 1, depth = 1 + (unsigned)(random >> 40) % 3;
        for (unsigned d = 0; d < depth; d++) {
            random = random * 6364136223846793005ull + 1442695040888963407ull;
            on(ob, core, clock[core], X86IRQ_TRACE_DELIVER, 0x40 + d, X86IRQ_ORIGIN_HARDWARE, 0);
            on(ob, core, clock[core], X86IRQ_TRACE_HANDLER, 0x40 + d, 0, 0);
            clock[core] += 1 + (random >> 33) % 7;
        }
        if (i % 1000 == 0)
            on(ob, core, clock[core], X86IRQ_TRACE_PHASE, 0, 0, 1 + (unsigned)(random >> 50) % 5);
        for (unsigned d = depth; d-- > 0;) {
            random = random * 6364136223846793005ull + 1442695040888963407ull;
            /* 1 to 2^20 cycles, log-uniform */
            clock[core] += (uint64_t)1 << ((random >> 35) % 21);
            on(ob, core, clock[core], X86IRQ_TRACE_IRET, 0x40 + d, 0, 0);
        }
        if (i % 5000 == 0)
            on_switch(ob, core, clock[core], (uint32_t)(i / 5000 % 4), (uint32_t)(i / 5000 % 4 + 1));
    }
    observer_finish(ob, NULL);
    assert_true(timeline_finish(t, "synthetic", 0));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    char *text = slurp(f);
    fclose(f);
    unlink(path);
    size_t size = strlen(text);
    print_message("timeline of a million slices: %zu bytes\n", size);
    assert_true(size < 3000000);
    assert_non_null(strstr(text, "<g class=\"band\" id=\"cpu0\""));
    assert_non_null(strstr(text, "<g class=\"band\" id=\"cpu1\""));
    assert_non_null(strstr(text, "merged into density marks"));
    assert_non_null(strstr(text, "depth 3"));
    assert_non_null(strstr(text, ">phases</text>"));
    assert_non_null(strstr(text, "</svg>\n"));
    free(text);
    x86irq_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_on_known_data),
        cmocka_unit_test(test_perfetto_framing_and_nesting),
        cmocka_unit_test(test_rule_lists),
        cmocka_unit_test(test_two_cores_pair_on_their_own_clock),
        cmocka_unit_test(test_nesting_is_per_core),
        cmocka_unit_test(test_thread_moving_between_cores),
        cmocka_unit_test(test_timeline_size_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
