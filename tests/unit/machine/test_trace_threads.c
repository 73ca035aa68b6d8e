/* Unit tests of the nesting tracker per guest thread and of phases (src/trace/events.c,
 * phase_symbols.c): what is in service follows thread switches (the thread marker, a switch
 * symbol), the rules use the phase when it is known, phase functions last from their entry to
 * their return (tail calls, IRET), an IRET to the next instruction is no event, and probes at
 * block entries fire in a running guest, also in the middle of straight-line code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "machine/machine.h"
#include "trace/events.h"

#define MAX_EVENTS 64

struct log {
    x86irq_trace_event e[MAX_EVENTS];
    unsigned n;
};

static void record(void *opaque, const x86irq_trace_event *e)
{
    struct log *l = opaque;
    if (l->n < MAX_EVENTS)
        l->e[l->n++] = *e;
}

static unsigned count_kind(const struct log *l, unsigned kind)
{
    unsigned n = 0;
    for (unsigned i = 0; i < l->n; i++)
        n += l->e[i].kind == kind;
    return n;
}

static const x86irq_trace_event *last_kind(const struct log *l, unsigned kind)
{
    for (unsigned i = l->n; i-- > 0;)
        if (l->e[i].kind == kind)
            return &l->e[i];
    return NULL;
}

struct fixture {
    x86irq_machine *m;
    struct log log;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    assert_int_equal(x86irq_machine_create(&c, &f->m), X86IRQ_OK);
    x86irq_set_trace_hook(f->m, X86IRQ_TRACE_ALL, record, &f->log);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    x86irq_machine_destroy(f->m);
    free(f);
    return 0;
}

#define HW X86IRQ_ORIGIN_HARDWARE
static void deliver(struct fixture *f, uint8_t vector, uint8_t origin)
{
    x86_trace_delivered(&f->m->trace, vector, origin, 0, false, 0);
}

static void test_switch_inside_an_interrupt(void **state)
{
    struct fixture *f = *state;
    deliver(f, 0x40, HW);                /* thread 0 takes a tick... */
    x86_trace_switch(&f->m->trace, 7);           /* ...whose handler switches to thread 7 */
    const x86irq_trace_event *s = last_kind(&f->log, X86IRQ_TRACE_SWITCH);
    assert_non_null(s);
    assert_int_equal(s->line, 7);
    assert_int_equal(s->error_code, 0);
    assert_int_equal(s->depth, 0);       /* thread 7 has nothing in service */
    deliver(f, 0x41, HW);                /* thread 7's own interrupt: not nested */
    assert_int_equal(count_kind(&f->log, X86IRQ_TRACE_NESTING), 0);
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_DELIVER)->depth, 1);
    x86_trace_iret(&f->m->trace, false, false);
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_IRET)->vector, 0x41);
    x86_trace_switch(&f->m->trace, 0);           /* back: the tick is still in service there */
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_SWITCH)->depth, 1);
    x86_trace_iret(&f->m->trace, false, false);
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_IRET)->vector, 0x40);
    assert_int_equal(count_kind(&f->log, X86IRQ_TRACE_NESTING), 0);
    /* without a switch, the same two interrupts nest: the rule fires */
    deliver(f, 0x40, HW);
    deliver(f, 0x41, HW);
    const x86irq_trace_event *n = last_kind(&f->log, X86IRQ_TRACE_NESTING);
    assert_non_null(n);
    assert_int_equal(n->rule, X86IRQ_RULE_IRQ_IN_IRQ);
    assert_int_equal(n->vector, 0x40);   /* the one in service */
}

static void test_phases_decide_the_rules(void **state)
{
    struct fixture *f = *state;
    deliver(f, 0x40, HW);
    x86_trace_mark_phase(&f->m->trace, X86IRQ_PHASE_SOFTIRQ);   /* deferred work with IF = 1 */
    deliver(f, 0x41, HW);
    deliver(f, 3, X86IRQ_ORIGIN_SOFTWARE);
    assert_int_equal(count_kind(&f->log, X86IRQ_TRACE_NESTING), 0);
    x86_trace_iret(&f->m->trace, false, false);
    x86_trace_iret(&f->m->trace, false, false);
    x86_trace_mark_phase(&f->m->trace, X86IRQ_PHASE_IMMEDIATE); /* the driver's handler */
    deliver(f, 0x42, HW);
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_NESTING)->rule, X86IRQ_RULE_IRQ_IN_IRQ);
    deliver(f, 14, X86IRQ_ORIGIN_EXCEPTION);
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_NESTING)->rule,
                     X86IRQ_RULE_EXCEPTION_IN_IRQ);
    /* the user-access rule watches in the interrupt's phases only */
    struct x86_cpu *cpu = x86_machine_cpu(f->m);
    assert_true(cpu->irq_user_watch);
    x86_trace_mark_phase(&f->m->trace, X86IRQ_PHASE_PROCESS);   /* a reschedule before the IRET */
    assert_false(cpu->irq_user_watch);
    x86_trace_mark_phase(&f->m->trace, X86IRQ_PHASE_TASKLET);
    assert_true(cpu->irq_user_watch);
}

/* a stack and a return address for a probe's peek: the core at a function's first instruction */
static void at_function_entry(struct fixture *f, uint32_t esp, uint32_t return_eip)
{
    struct x86_cpu *cpu = x86_machine_cpu(f->m);
    cpu->gpr[X86_ESP] = esp;
    assert_int_equal(x86irq_write_physical(f->m, esp, &return_eip, 4), X86IRQ_OK);
}

static void load_symbols(struct fixture *f, const char *text)
{
    char path[] = "/tmp/x86irq-test-symbols-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    fputs(text, out);
    fclose(out);
    assert_int_equal(x86irq_load_symbols(f->m, path), X86IRQ_OK);
    remove(path);
}

static void test_phase_functions(void **state)
{
    struct fixture *f = *state;
    load_symbols(f, "00004000 T handle_irq_event\n00004100 t e1000_intr\n00004200 T "
                    "__do_softirq\n00004300 T __switch_to_asm\n00004400 T unrelated\n");
    assert_int_equal(x86irq_set_phase_symbols(f->m, "nothing=softirq"),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_phase_symbols(f->m, "handle_irq_event=lunch"),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_phase_symbols(f->m, "x=switch:esp:eax"),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_phase_symbols(f->m, "handle_irq_event=immediate,"
                                                    "e1000*=immediate,__do_softirq=softirq,"
                                                    "__switch_to_asm=switch:edx:eax"),
                     X86IRQ_OK);
    struct x86_cpu *cpu = x86_machine_cpu(f->m);
    assert_int_equal(cpu->watch.probe_count, 4);
    /* handle_irq_event called from 0x5000, tail-calls e1000_intr, both return together */
    at_function_entry(f, 0x8000, 0x5005);
    x86_trace_code_watch(&f->m->trace, 0x4000, true);
    assert_int_equal(x86_trace_phase(&f->m->trace), X86IRQ_PHASE_IMMEDIATE);
    assert_true(cpu->watch.return_armed);
    assert_int_equal(cpu->watch.return_eip, 0x5005);
    x86_trace_code_watch(&f->m->trace, 0x4100, true);            /* jmp e1000_intr: same stack */
    assert_int_equal(x86_trace_running(&f->m->trace)->phase_depth, 2);
    cpu->gpr[X86_ESP] = 0x7FF0;                          /* not yet: deeper in the stack */
    x86_trace_code_watch(&f->m->trace, 0x5005, false);
    assert_int_equal(x86_trace_running(&f->m->trace)->phase_depth, 2);
    cpu->gpr[X86_ESP] = 0x8004;                          /* the ret: both are over */
    x86_trace_code_watch(&f->m->trace, 0x5005, false);
    assert_int_equal(x86_trace_running(&f->m->trace)->phase_depth, 0);
    assert_int_equal(x86_trace_phase(&f->m->trace), X86IRQ_PHASE_PROCESS);
    assert_false(cpu->watch.return_armed);
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_PHASE)->line, X86IRQ_PHASE_PROCESS);
    /* an interrupt's IRET ends the phase functions entered inside it */
    deliver(f, 0x40, HW);
    at_function_entry(f, 0x7000, 0x6000);
    x86_trace_code_watch(&f->m->trace, 0x4200, true);            /* __do_softirq */
    assert_int_equal(x86_trace_phase(&f->m->trace), X86IRQ_PHASE_SOFTIRQ);
    x86_trace_iret(&f->m->trace, false, false);
    assert_int_equal(x86_trace_phase(&f->m->trace), X86IRQ_PHASE_PROCESS);
    /* the switch symbol: the first thread is named by PREV (eax), the next one is EDX */
    cpu->gpr[X86_EAX] = 0xC1000000u;
    cpu->gpr[X86_EDX] = 0xC2000000u;
    x86_trace_code_watch(&f->m->trace, 0x4300, true);
    const x86irq_trace_event *s = last_kind(&f->log, X86IRQ_TRACE_SWITCH);
    assert_non_null(s);
    assert_int_equal(s->line, 0xC2000000u);
    assert_int_equal(s->error_code, 0xC1000000u);
    x86_trace_switch(&f->m->trace, 0xC1000000u);                 /* back to the named first thread */
    assert_int_equal(f->m->trace.thread_count, 2);
    /* removing them: no probes, blocks decoded anew */
    assert_int_equal(x86irq_set_phase_symbols(f->m, NULL), X86IRQ_OK);
    assert_int_equal(cpu->watch.probe_count, 0);
}

/* An exception whose gate leads to an any-context handler (Linux's int3 entry: text_poke_bp's
 * int3 taken inside another CPU's interrupt entry) is no exception-in-irq; one whose handler is
 * another is, and so is the same int3 without the list */
static void test_any_context_handlers(void **state)
{
    struct fixture *f = *state;
    load_symbols(f, "00004000 T asm_exc_int3\n00004100 T asm_exc_page_fault\n");
    assert_int_equal(x86irq_set_phase_symbols(f->m, "asm_exc_int3=any-context"), X86IRQ_OK);
    struct x86_cpu *cpu = x86_machine_cpu(f->m);
    deliver(f, 0x40, HW);
    x86_trace_mark_phase(&f->m->trace, X86IRQ_PHASE_CRITICAL); /* the interrupt's entry */
    cpu->rip = 0x4000;                                   /* where the #BP's gate led */
    deliver(f, 3, X86IRQ_ORIGIN_SOFTWARE);
    assert_int_equal(count_kind(&f->log, X86IRQ_TRACE_NESTING), 0);
    x86_trace_iret(&f->m->trace, false, false);
    cpu->rip = 0x4100;                                   /* a page fault there is a bug */
    deliver(f, 14, X86IRQ_ORIGIN_EXCEPTION);
    assert_int_equal(last_kind(&f->log, X86IRQ_TRACE_NESTING)->rule,
                     X86IRQ_RULE_EXCEPTION_IN_IRQ);
    x86_trace_iret(&f->m->trace, false, false);
    assert_int_equal(x86irq_set_phase_symbols(f->m, NULL), X86IRQ_OK);
    unsigned before = count_kind(&f->log, X86IRQ_TRACE_NESTING);
    x86_trace_mark_phase(&f->m->trace, X86IRQ_PHASE_CRITICAL);
    cpu->rip = 0x4000;
    deliver(f, 3, X86IRQ_ORIGIN_SOFTWARE);
    assert_int_equal(count_kind(&f->log, X86IRQ_TRACE_NESTING), before + 1);
}

static void test_iret_to_the_next_instruction(void **state)
{
    struct fixture *f = *state;
    deliver(f, 0x40, HW);
    unsigned irets = count_kind(&f->log, X86IRQ_TRACE_IRET);
    x86_trace_iret(&f->m->trace, false, true);   /* sync_core inside the handler */
    assert_int_equal(count_kind(&f->log, X86IRQ_TRACE_IRET), irets);
    assert_int_equal(x86_trace_running(&f->m->trace)->depth, 1);
    x86_trace_iret(&f->m->trace, false, false);
    assert_int_equal(x86_trace_running(&f->m->trace)->depth, 0);
}

/* A running guest: probes fire at block entries, also where straight-line code reaches a
 * probed address without a call (the decoder ends blocks before probed instructions). */
static void test_probes_in_a_running_guest(void **state)
{
    struct fixture *f = *state;
    /* 0x10000: mov esp, 0x9000; call 0x10100; nop; nop; (0x1000C: fallthrough) nop; hlt
     * 0x10100: ret */
    static const uint8_t code[] = {
        0xBC, 0x00, 0x90, 0x00, 0x00,             /* mov esp, 0x9000 */
        0xE8, 0xF6, 0x00, 0x00, 0x00,             /* call 0x10100 */
        0x90, 0x90,                               /* nop; nop */
        0x90,                                     /* 0x1000C: inside the straight line */
        0xF4,                                     /* hlt */
    };
    static const uint8_t ret[] = { 0xC3 };
    assert_int_equal(x86irq_write_physical(f->m, 0x10000, code, sizeof(code)), X86IRQ_OK);
    assert_int_equal(x86irq_write_physical(f->m, 0x10100, ret, 1), X86IRQ_OK);
    load_symbols(f, "00010000 T start\n0001000c t straight\n00010100 T callee\n");
    assert_int_equal(x86irq_set_phase_symbols(f->m, "callee=immediate,straight=tasklet"),
                     X86IRQ_OK);
    assert_int_equal(x86irq_set_register(f->m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(f->m, 100000, &reason), X86IRQ_OK);
    unsigned phases[8], n = 0;
    for (unsigned i = 0; i < f->log.n && n < 8; i++)
        if (f->log.e[i].kind == X86IRQ_TRACE_PHASE)
            phases[n++] = f->log.e[i].line;
    /* callee's entry, its return, then the straight line reached by falling through (a
     * "function" entered without a call lasts until its return address, here never) */
    assert_int_equal(n, 3);
    assert_int_equal(phases[0], X86IRQ_PHASE_IMMEDIATE);
    assert_int_equal(phases[1], X86IRQ_PHASE_PROCESS);
    assert_int_equal(phases[2], X86IRQ_PHASE_TASKLET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_switch_inside_an_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phases_decide_the_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phase_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_context_handlers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iret_to_the_next_instruction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probes_in_a_running_guest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
