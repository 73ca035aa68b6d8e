/* The names of the trace enums (x86irq_trace_kind_name, x86irq_phase_name,
 * x86irq_nesting_rule_name): every value has a name of its own, out of range is "unknown". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <x86irq/x86irq.h>

typedef const char *(*name_fn)(unsigned value);

static const char *kind(unsigned v) { return x86irq_trace_kind_name((x86irq_trace_kind)v); }
static const char *phase(unsigned v) { return x86irq_phase_name((x86irq_phase)v); }
static const char *rule(unsigned v) { return x86irq_nesting_rule_name((x86irq_nesting_rule)v); }

/* 0..count-1: non-empty, distinct, not the out-of-range word; count and far beyond: "unknown" */
static void check_table(name_fn name, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        const char *a = name(i);
        assert_non_null(a);
        assert_true(a[0] != '\0');
        assert_string_not_equal(a, "unknown");
        for (unsigned j = 0; j < i; j++)
            assert_string_not_equal(a, name(j));
    }
    assert_string_equal(name(count), "unknown");
    assert_string_equal(name(count + 1), "unknown");
    assert_string_equal(name(0x7FFFFFFFu), "unknown");
    assert_string_equal(name(0xFFFFFFFFu), "unknown"); /* (enum)-1 */
}

static void test_trace_kinds(void **state)
{
    (void)state;
    check_table(kind, X86IRQ_TRACE_KIND_COUNT);
    /* the words the event log has always printed */
    assert_string_equal(x86irq_trace_kind_name(X86IRQ_TRACE_LINE), "line");
    assert_string_equal(x86irq_trace_kind_name(X86IRQ_TRACE_DOUBLE_FAULT), "double-fault");
    assert_string_equal(x86irq_trace_kind_name(X86IRQ_TRACE_SWITCH), "switch");
}

static void test_phases(void **state)
{
    (void)state;
    check_table(phase, X86IRQ_PHASE_COUNT);
    assert_string_equal(x86irq_phase_name(X86IRQ_PHASE_PROCESS), "process");
    assert_string_equal(x86irq_phase_name(X86IRQ_PHASE_WORKQUEUE), "workqueue");
}

static void test_nesting_rules(void **state)
{
    (void)state;
    check_table(rule, X86IRQ_RULE_COUNT);
    assert_string_equal(x86irq_nesting_rule_name(X86IRQ_RULE_EXCEPTION_IN_IRQ), "exception-in-irq");
    assert_string_equal(x86irq_nesting_rule_name(X86IRQ_RULE_USER_ACCESS_IN_IRQ),
                        "user-access-in-irq");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_kinds),
        cmocka_unit_test(test_phases),
        cmocka_unit_test(test_nesting_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
