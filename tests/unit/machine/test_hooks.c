/* x86irq_hook_add / x86irq_hook_remove: any number of hooks per kind beside the single-slot
 * setters, each called with what its filter asks for and nothing else, added and removed from
 * inside hooks too, refused calls from them, and runs that end in the same state and cycle
 * count with and without hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "x86irq/x86irq.h"

#define LOOPS 100
#define BODY 0x10005u     /* add dword [0x20000], 1 */
#define OUT_80 0x1000Cu   /* out 0x80, al */
#define HANDLER 0x11000u  /* the #UD handler */

/* ECX = 100; loop: add [0x20000], 1; out 0x80, al; dec ecx; jnz loop; ud2 -> #UD handler:
 * out 0xf4 (the debug exit) */
static x86irq_machine *make(void)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    x86irq_machine *m = NULL;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    static const uint8_t code[] = {
        0xB9, LOOPS, 0x00, 0x00, 0x00,            /* 10000: mov ecx, LOOPS */
        0x83, 0x05, 0x00, 0x00, 0x02, 0x00, 0x01, /* 10005: add dword [0x20000], 1 */
        0xE6, 0x80,                               /* 1000c: out 0x80, al */
        0x49,                                     /* 1000e: dec ecx */
        0x75, 0xF4,                               /* 1000f: jnz 10005 */
        0x0F, 0x0B,                               /* 10011: ud2 */
    };
    static const uint8_t handler[] = { 0xB0, 0x00, 0xE6, 0xF4 }; /* mov al, 0; out 0xf4, al */
    assert_int_equal(x86irq_write_physical(m, 0x10000, code, sizeof(code)), X86IRQ_OK);
    assert_int_equal(x86irq_write_physical(m, HANDLER, handler, sizeof(handler)), X86IRQ_OK);
    uint8_t gate[8] = { (uint8_t)HANDLER, (uint8_t)(HANDLER >> 8), 0x08, 0x00, 0x00, 0x8E,
                        (uint8_t)(HANDLER >> 16), (uint8_t)(HANDLER >> 24) };
    assert_int_equal(x86irq_write_physical(m, 0x8000 + 6 * 8, gate, sizeof(gate)), X86IRQ_OK);
    const uint32_t gdt[6] = { 0, 0, 0x0000FFFF, 0x00CF9B00, 0x0000FFFF, 0x00CF9300 };
    assert_int_equal(x86irq_write_physical(m, 0x7000, gdt, sizeof(gdt)), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_GDTR_BASE, 0x7000), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_GDTR_LIMIT, 23), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_IDTR_BASE, 0x8000), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_IDTR_LIMIT, 0x7FF), X86IRQ_OK);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_ESP, 0x70000), X86IRQ_OK);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    return m;
}

static void run_to_exit(x86irq_machine *m)
{
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, 10000000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
}

static x86irq_hook_filter range(uint64_t first, uint64_t last, uint32_t access)
{
    x86irq_hook_filter f;
    x86irq_hook_filter_init(&f);
    f.first = first;
    f.last = last;
    f.access = access;
    return f;
}

/* what a hook saw */
struct seen {
    unsigned calls;
    x86irq_hook_event last;          /* its pointers are stale after the call: */
    uint32_t vector;                 /* the last trace event's */
    uint64_t eip;
    uint8_t length, first_byte;      /* the last instruction's */
    uint64_t addresses[4 * LOOPS + 16];
    uint32_t kinds[4 * LOOPS + 16];
};

static void record(x86irq_machine *m, const x86irq_hook_event *e, void *user_data)
{
    struct seen *s = user_data;
    assert_non_null(m);
    assert_int_equal(e->size, sizeof(*e));
    if (s->calls < sizeof(s->addresses) / sizeof(s->addresses[0])) {
        s->addresses[s->calls] = e->instruction ? e->instruction->linear : e->address;
        s->kinds[s->calls] = e->trace ? e->trace->kind : e->access;
    }
    s->last = *e;
    if (e->trace) {
        s->vector = e->trace->vector;
        s->eip = e->trace->eip;
    }
    if (e->instruction) {
        s->length = e->instruction->length;
        s->first_byte = e->instruction->bytes[0];
    }
    s->calls++;
}

static void legacy_trace(void *opaque, const x86irq_trace_event *event)
{
    (void)event;
    ++*(unsigned *)opaque;
}

static void test_trace_hooks_coexist(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct seen deliveries = { 0 }, both = { 0 }, removed = { 0 };
    unsigned slot = 0;
    x86irq_hook_filter f;
    x86irq_hook_filter_init(&f);
    f.trace_mask = X86IRQ_TRACE_BIT(X86IRQ_TRACE_DELIVER);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_TRACE, &f, record, &deliveries, NULL),
                     X86IRQ_OK);
    f.trace_mask |= X86IRQ_TRACE_BIT(X86IRQ_TRACE_EXCEPTION);
    x86irq_hook_handle gone = 0;
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_TRACE, &f, record, &both, NULL), X86IRQ_OK);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_TRACE, &f, record, &removed, &gone),
                     X86IRQ_OK);
    assert_true(gone != 0);
    /* the single slot beside them, and replacing it leaves the hooks alone */
    x86irq_set_trace_hook(m, X86IRQ_TRACE_BIT(X86IRQ_TRACE_EXCEPTION), legacy_trace, &slot);
    x86irq_set_trace_hook(m, X86IRQ_TRACE_BIT(X86IRQ_TRACE_EXCEPTION), NULL, NULL);
    x86irq_set_trace_hook(m, X86IRQ_TRACE_BIT(X86IRQ_TRACE_EXCEPTION), legacy_trace, &slot);
    assert_int_equal(x86irq_hook_remove(m, gone), X86IRQ_OK);
    assert_int_equal(x86irq_hook_remove(m, gone), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strstr(x86irq_last_error(m), "no hook") != NULL);
    run_to_exit(m);
    assert_int_equal(deliveries.calls, 1);
    assert_int_equal(deliveries.kinds[0], X86IRQ_TRACE_DELIVER);
    assert_int_equal(deliveries.last.kind, X86IRQ_HOOK_TRACE);
    assert_int_equal(deliveries.vector, 6);
    assert_int_equal(both.calls, 2);
    assert_int_equal(both.kinds[0], X86IRQ_TRACE_EXCEPTION);
    assert_int_equal(both.kinds[1], X86IRQ_TRACE_DELIVER);
    assert_int_equal(removed.calls, 0);
    assert_int_equal(slot, 1);
    x86irq_machine_destroy(m);
}

static void test_instruction_hooks_by_range(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct seen out = { 0 }, handler = { 0 }, all = { 0 };
    x86irq_hook_filter f = range(OUT_80, OUT_80, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INSTRUCTION, &f, record, &out, NULL),
                     X86IRQ_OK);
    f = range(HANDLER, HANDLER + 0xFFF, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INSTRUCTION, &f, record, &handler, NULL),
                     X86IRQ_OK);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INSTRUCTION, NULL, record, &all, NULL),
                     X86IRQ_OK);
    run_to_exit(m);
    assert_int_equal(out.calls, LOOPS);
    for (unsigned i = 0; i < LOOPS; i++)
        assert_int_equal(out.addresses[i], OUT_80);
    assert_int_equal(out.length, 2);
    assert_int_equal(out.first_byte, 0xE6);
    assert_int_equal(handler.calls, 2);
    assert_int_equal(handler.addresses[0], HANDLER);
    assert_int_equal(handler.addresses[1], HANDLER + 2);
    /* every instruction: mov, 100 x 4, ud2, the handler's 2 */
    assert_int_equal(all.calls, 1 + 4 * LOOPS + 1 + 2);
    assert_int_equal(all.calls, x86irq_instructions(m) + 1); /* ud2 faulted: not retired */
    x86irq_machine_destroy(m);
}

static void test_memory_hooks(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct seen writes = { 0 }, reads = { 0 }, physical = { 0 }, fetches = { 0 }, other = { 0 };
    struct seen physical_fetches = { 0 };
    x86irq_hook_filter f = range(0x20003, 0x20010, X86IRQ_ACCESS_WRITE);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &writes, NULL),
                     X86IRQ_OK);
    f = range(0x20000, 0x20000, X86IRQ_ACCESS_READ);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &reads, NULL),
                     X86IRQ_OK);
    f = range(0x20000, 0x20003, X86IRQ_ACCESS_WRITE | X86IRQ_ACCESS_PHYSICAL);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &physical, NULL),
                     X86IRQ_OK);
    f = range(OUT_80 + 1, OUT_80 + 1, X86IRQ_ACCESS_FETCH);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &fetches, NULL),
                     X86IRQ_OK);
    f = range(OUT_80, OUT_80, X86IRQ_ACCESS_FETCH | X86IRQ_ACCESS_PHYSICAL);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &physical_fetches, NULL),
                     X86IRQ_OK);
    f = range(0x20004, 0x2FFFF, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &other, NULL),
                     X86IRQ_OK);
    run_to_exit(m);
    /* add [0x20000], 1 reads and writes the dword: the byte 0x20003 is in both */
    assert_int_equal(writes.calls, LOOPS);
    assert_int_equal(writes.last.address, 0x20000);
    assert_int_equal(writes.last.length, 4);
    assert_int_equal(writes.last.access, X86IRQ_ACCESS_WRITE);
    assert_int_equal(reads.calls, LOOPS);
    assert_int_equal(reads.last.access, X86IRQ_ACCESS_READ);
    assert_int_equal(physical.calls, LOOPS);
    assert_int_equal(physical.last.physical, 0x20000); /* paging off: the same */
    assert_int_equal(fetches.calls, LOOPS);            /* the out's second byte */
    assert_int_equal(fetches.last.access, X86IRQ_ACCESS_FETCH);
    assert_int_equal(fetches.last.address, OUT_80);
    assert_int_equal(fetches.last.length, 2);
    assert_int_equal(physical_fetches.calls, LOOPS);
    assert_int_equal(physical_fetches.last.physical, OUT_80);
    /* the #UD's frame is pushed near 0x70000, far from the range */
    assert_int_equal(other.calls, 0);
    uint32_t counter = 0;
    assert_int_equal(x86irq_read_physical(m, 0x20000, &counter, 4), X86IRQ_OK);
    assert_int_equal(counter, LOOPS);
    x86irq_machine_destroy(m);
}

static void test_port_and_interrupt_hooks(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct seen post = { 0 }, exits = { 0 }, ud = { 0 }, gp = { 0 };
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EAX, 0x5A), X86IRQ_OK);
    x86irq_hook_filter f = range(0x80, 0x80, X86IRQ_ACCESS_WRITE);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_PORT, &f, record, &post, NULL), X86IRQ_OK);
    f = range(0xF4, 0xF4, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_PORT, &f, record, &exits, NULL), X86IRQ_OK);
    f = range(6, 6, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INTERRUPT, &f, record, &ud, NULL), X86IRQ_OK);
    f = range(13, 13, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INTERRUPT, &f, record, &gp, NULL), X86IRQ_OK);
    run_to_exit(m);
    assert_int_equal(post.calls, LOOPS);
    assert_int_equal(post.last.address, 0x80);
    assert_int_equal(post.last.value, 0x5A);
    assert_int_equal(post.last.length, 1);
    assert_int_equal(post.last.access, X86IRQ_ACCESS_WRITE);
    assert_int_equal(exits.calls, 1);
    assert_int_equal(exits.last.value, 0);
    assert_int_equal(ud.calls, 2); /* detected, then delivered */
    assert_int_equal(ud.kinds[0], X86IRQ_TRACE_EXCEPTION);
    assert_int_equal(ud.kinds[1], X86IRQ_TRACE_DELIVER);
    assert_int_equal(ud.eip, HANDLER);
    assert_int_equal(gp.calls, 0);
    x86irq_machine_destroy(m);
}

/* hooks that remove themselves, add others, and try what a callback may not do */
struct juggler {
    x86irq_hook_handle self;
    unsigned calls, stop_after;
    struct seen added;
    bool added_once;
    x86irq_status run_status, load_status, remove_status;
};

static void juggle(x86irq_machine *m, const x86irq_hook_event *e, void *user_data)
{
    (void)e;
    struct juggler *j = user_data;
    j->calls++;
    if (j->calls == 1) {
        x86irq_stop_reason reason;
        j->run_status = x86irq_run(m, 100, &reason);
        j->load_status = x86irq_load_elf(m, "/nonexistent", NULL);
    }
    if (!j->added_once) {
        x86irq_hook_filter f = range(OUT_80, OUT_80, 0);
        assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INSTRUCTION, &f, record, &j->added, NULL),
                         X86IRQ_OK);
        j->added_once = true;
    }
    if (j->calls == j->stop_after)
        j->remove_status = x86irq_hook_remove(m, j->self);
}

static void test_hooks_from_hooks(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct juggler j = { .stop_after = 10 };
    x86irq_hook_filter f = range(OUT_80, OUT_80, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INSTRUCTION, &f, juggle, &j, &j.self),
                     X86IRQ_OK);
    run_to_exit(m);
    assert_int_equal(j.calls, 10);
    assert_int_equal(j.remove_status, X86IRQ_OK);
    assert_int_equal(j.run_status, X86IRQ_ERR_STATE);
    assert_int_equal(j.load_status, X86IRQ_ERR_STATE);
    /* added during the first call: not called for that instruction, then every time */
    assert_int_equal(j.added.calls, LOOPS - 1);
    x86irq_machine_destroy(m);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct seen s = { 0 };
    x86irq_hook_filter f = range(5, 4, 0);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strstr(x86irq_last_error(m), "first") != NULL);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_KIND_COUNT, NULL, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_TRACE, NULL, NULL, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    f = range(0, 0xFFFF, X86IRQ_ACCESS_FETCH);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_PORT, &f, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strstr(x86irq_last_error(m), "port") != NULL);
    f = range(0, 1, 0x100);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_MEMORY, &f, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    f = range(0, 1, 0);
    f.trace_mask = 0;
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_TRACE, &f, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    f.trace_mask = X86IRQ_TRACE_BIT(X86IRQ_TRACE_EOI);
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_INTERRUPT, &f, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    f = range(0, 1, 0);
    f.size = sizeof(f) - 1;
    assert_int_equal(x86irq_hook_add(m, X86IRQ_HOOK_PORT, &f, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strstr(x86irq_last_error(m), "size") != NULL);
    assert_int_equal(x86irq_hook_remove(m, 0), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_hook_add(NULL, X86IRQ_HOOK_PORT, NULL, record, &s, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_hook_remove(NULL, 1), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_hook_filter_init(NULL); /* harmless */
    run_to_exit(m);
    assert_int_equal(s.calls, 0);
    x86irq_machine_destroy(m);
}

static void nothing(x86irq_machine *m, const x86irq_hook_event *e, void *user_data)
{
    (void)m;
    (void)e;
    (void)user_data;
}

/* Hooks observe: the same cycles, instructions and memory with every kind added as without */
static void test_hooks_change_no_result(void **state)
{
    (void)state;
    x86irq_machine *plain = make(), *hooked = make();
    for (unsigned kind = 0; kind < X86IRQ_HOOK_KIND_COUNT; kind++)
        assert_int_equal(x86irq_hook_add(hooked, (x86irq_hook_kind)kind, NULL, nothing, NULL,
                                         NULL),
                         X86IRQ_OK);
    run_to_exit(plain);
    run_to_exit(hooked);
    assert_int_equal(x86irq_cycles(plain), x86irq_cycles(hooked));
    assert_int_equal(x86irq_instructions(plain), x86irq_instructions(hooked));
    uint8_t a[0x100], b[0x100];
    assert_int_equal(x86irq_read_physical(plain, 0x6FF00, a, sizeof(a)), X86IRQ_OK);
    assert_int_equal(x86irq_read_physical(hooked, 0x6FF00, b, sizeof(b)), X86IRQ_OK);
    assert_memory_equal(a, b, sizeof(a));
    x86irq_machine_destroy(plain);
    x86irq_machine_destroy(hooked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_hooks_coexist),
        cmocka_unit_test(test_instruction_hooks_by_range),
        cmocka_unit_test(test_memory_hooks),
        cmocka_unit_test(test_port_and_interrupt_hooks),
        cmocka_unit_test(test_hooks_from_hooks),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_hooks_change_no_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
