/* Unit tests of the CLI's observability sinks (tools/observe.c) on synthetic event streams:
 * percentiles on known data, the Perfetto file's framing, the phase table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_on_known_data),
        cmocka_unit_test(test_perfetto_framing_and_nesting),
        cmocka_unit_test(test_rule_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
