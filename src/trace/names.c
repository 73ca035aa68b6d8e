/* The names of the trace enums (x86irq_trace_kind_name, x86irq_phase_name,
 * x86irq_nesting_rule_name): one table per enum, indexed by the value, so the command line, the
 * phase-symbol parser and embedders print and parse the same words. */
#include <x86irq/x86irq.h>

static const char *const kind_names[X86IRQ_TRACE_KIND_COUNT] = {
    [X86IRQ_TRACE_LINE] = "line",
    [X86IRQ_TRACE_IRR] = "irr",
    [X86IRQ_TRACE_ACCEPT] = "accept",
    [X86IRQ_TRACE_EXCEPTION] = "exception",
    [X86IRQ_TRACE_DELIVER] = "deliver",
    [X86IRQ_TRACE_HANDLER] = "handler",
    [X86IRQ_TRACE_EOI] = "eoi",
    [X86IRQ_TRACE_IRET] = "iret",
    [X86IRQ_TRACE_DOUBLE_FAULT] = "double-fault",
    [X86IRQ_TRACE_SHUTDOWN] = "shutdown",
    [X86IRQ_TRACE_DEVICE] = "device",
    [X86IRQ_TRACE_NESTING] = "nesting",
    [X86IRQ_TRACE_PHASE] = "phase",
    [X86IRQ_TRACE_ROUTE] = "route",
    [X86IRQ_TRACE_SWITCH] = "switch",
    [X86IRQ_TRACE_NMI] = "nmi",
};

static const char *const phase_names[X86IRQ_PHASE_COUNT] = {
    [X86IRQ_PHASE_PROCESS] = "process",
    [X86IRQ_PHASE_CRITICAL] = "critical",
    [X86IRQ_PHASE_IMMEDIATE] = "immediate",
    [X86IRQ_PHASE_SOFTIRQ] = "softirq",
    [X86IRQ_PHASE_TASKLET] = "tasklet",
    [X86IRQ_PHASE_WORKQUEUE] = "workqueue",
};

static const char *const rule_names[X86IRQ_RULE_COUNT] = {
    [X86IRQ_RULE_EXCEPTION_IN_IRQ] = "exception-in-irq",
    [X86IRQ_RULE_IRQ_IN_IRQ] = "irq-in-irq",
    [X86IRQ_RULE_IRET_UNMATCHED] = "iret-unmatched",
    [X86IRQ_RULE_HLT_HANG] = "hlt-hang",
    [X86IRQ_RULE_USER_ACCESS_IN_IRQ] = "user-access-in-irq",
};

/* A new enumerator without a name leaves a NULL in its table: the unit test (test_names)
 * catches it; callers still get "unknown" rather than NULL. */
static const char *lookup(const char *const *table, unsigned count, unsigned value)
{
    return value < count && table[value] ? table[value] : "unknown";
}

const char *x86irq_trace_kind_name(x86irq_trace_kind kind)
{
    return lookup(kind_names, X86IRQ_TRACE_KIND_COUNT, (unsigned)kind);
}

const char *x86irq_phase_name(x86irq_phase phase)
{
    return lookup(phase_names, X86IRQ_PHASE_COUNT, (unsigned)phase);
}

const char *x86irq_nesting_rule_name(x86irq_nesting_rule rule)
{
    return lookup(rule_names, X86IRQ_RULE_COUNT, (unsigned)rule);
}
