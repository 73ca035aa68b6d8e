/* Unit tests of src/machine: the bus (RAM, port and MMIO dispatch, open bus, overlaps) and the
 * event queue (order, ties, cancel, callbacks that schedule and cancel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "platform/bus.h"
#include "platform/events.h"

struct device_log {
    uint64_t last_offset, last_value;
    unsigned last_size, reads, writes;
};

static uint64_t device_read(void *opaque, uint64_t offset, unsigned size)
{
    struct device_log *d = opaque;
    d->reads++;
    d->last_offset = offset;
    d->last_size = size;
    return 0x1122334455667788ull;
}

static void device_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct device_log *d = opaque;
    d->writes++;
    d->last_offset = offset;
    d->last_size = size;
    d->last_value = value;
}

static void test_ports(void **state)
{
    (void)state;
    struct x86_bus bus;
    struct device_log d = { 0 };
    assert_true(x86_bus_init(&bus, 1 << 20));
    assert_int_equal(x86_bus_add_ports(&bus, 0x3F8, 8, device_read, device_write, &d, "uart"), X86IRQ_OK);
    assert_int_equal(x86_bus_add_ports(&bus, 0x3FC, 8, NULL, NULL, NULL, "clash"), X86IRQ_ERR_CONFLICT);
    assert_int_equal(x86_bus_add_ports(&bus, 0xFFFF, 2, NULL, NULL, NULL, "wrap"), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86_bus_add_ports(&bus, 0x100, 0, NULL, NULL, NULL, "empty"), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86_bus_port_read(&bus, 0x3FD, 1), 0x88);
    assert_int_equal(d.last_offset, 5);
    assert_int_equal(x86_bus_port_read(&bus, 0x3F8, 2), 0x7788);
    x86_bus_port_write(&bus, 0x3F9, 4, 0xCAFEBABE);
    assert_int_equal(d.last_offset, 1);
    assert_int_equal(d.last_size, 4);
    assert_int_equal(d.last_value, 0xCAFEBABE);
    /* unclaimed ports: all ones, writes vanish */
    assert_int_equal(x86_bus_port_read(&bus, 0x80, 1), 0xFF);
    assert_int_equal(x86_bus_port_read(&bus, 0x80, 2), 0xFFFF);
    assert_int_equal(x86_bus_port_read(&bus, 0x80, 4), 0xFFFFFFFFu);
    x86_bus_port_write(&bus, 0x80, 1, 0);
    /* a device with NULL callbacks reads all ones */
    assert_int_equal(x86_bus_add_ports(&bus, 0x60, 1, NULL, NULL, NULL, "silent"), X86IRQ_OK);
    assert_int_equal(x86_bus_port_read(&bus, 0x60, 1), 0xFF);
    x86_bus_finish(&bus);
}

static void test_mmio_and_ram(void **state)
{
    (void)state;
    struct x86_bus bus;
    struct device_log a = { 0 }, b = { 0 };
    assert_true(x86_bus_init(&bus, 1 << 20));
    assert_int_equal(x86_bus_add_mmio(&bus, 0x80000, 0x1000, NULL, NULL, NULL, "over RAM"), X86IRQ_ERR_RANGE);
    assert_int_equal(x86_bus_add_mmio(&bus, 0xFEE00000u, 0x1000, device_read, device_write, &a, "lapic"), X86IRQ_OK);
    assert_int_equal(x86_bus_add_mmio(&bus, 0xFEC00000u, 0x1000, device_read, device_write, &b, "ioapic"), X86IRQ_OK);
    assert_int_equal(x86_bus_add_mmio(&bus, 0xFEC00800u, 0x1000, NULL, NULL, NULL, "clash"), X86IRQ_ERR_CONFLICT);
    assert_int_equal(x86_bus_add_mmio(&bus, 0xFFFFF000u, 0x2000, NULL, NULL, NULL, "wrap"), X86IRQ_ERR_RANGE);
    assert_int_equal(x86_bus_mmio_read(&bus, 0xFEE00020u, 4), 0x55667788u);
    assert_int_equal(a.last_offset, 0x20);
    x86_bus_mmio_write(&bus, 0xFEC00010u, 4, 7);
    assert_int_equal(b.writes, 1);
    assert_int_equal(b.last_offset, 0x10);
    assert_int_equal(a.writes, 0);
    assert_null(x86_bus_find_mmio(&bus, 0xFEC01000u));
    assert_int_equal(x86_bus_mmio_read(&bus, 0xC0000000u, 4), 0xFFFFFFFFu);
    assert_int_equal(x86_bus_mmio_read(&bus, 0xC0000000u, 8), UINT64_MAX);
    assert_non_null(x86_bus_ram(&bus, 0, 1 << 20));
    assert_null(x86_bus_ram(&bus, 1, 1 << 20));
    assert_null(x86_bus_ram(&bus, UINT64_MAX, 2));
    x86_bus_finish(&bus);
}

struct event_log {
    int order[16];
    int count;
    struct x86_event_queue *queue;
    uint64_t victim;
};

static void record(void *context, void *opaque)
{
    struct event_log *log = context;
    log->order[log->count++] = (int)(intptr_t)opaque;
}

static void record_and_cancel(void *context, void *opaque)
{
    struct event_log *log = context;
    record(context, opaque);
    assert_true(x86_events_cancel(log->queue, log->victim));
}

static void record_and_reschedule(void *context, void *opaque)
{
    struct event_log *log = context;
    record(context, opaque);
    if ((intptr_t)opaque < 103)
        assert_true(x86_events_schedule(log->queue, 50, record_and_reschedule, (void *)((intptr_t)opaque + 1)) != 0);
}

static void test_event_order_and_ties(void **state)
{
    (void)state;
    struct event_log log = { .count = 0 };
    struct x86_event_queue q;
    x86_events_init(&q, &log);
    log.queue = &q;
    assert_int_equal(x86_events_next_cycle(&q), UINT64_MAX);
    x86_events_schedule(&q, 30, record, (void *)3);
    x86_events_schedule(&q, 10, record, (void *)1);
    x86_events_schedule(&q, 20, record, (void *)21);
    x86_events_schedule(&q, 20, record, (void *)22); /* same cycle: scheduling order */
    x86_events_schedule(&q, 20, record, (void *)23);
    assert_int_equal(x86_events_next_cycle(&q), 10);
    assert_int_equal(x86_events_run_due(&q, 5), 0);
    assert_int_equal(x86_events_run_due(&q, 20), 4);
    int want[] = { 1, 21, 22, 23 };
    assert_memory_equal(log.order, want, sizeof(want));
    assert_int_equal(x86_events_next_cycle(&q), 30);
    x86_events_finish(&q);
}

static void test_event_cancel(void **state)
{
    (void)state;
    struct event_log log = { .count = 0 };
    struct x86_event_queue q;
    x86_events_init(&q, &log);
    log.queue = &q;
    uint64_t a = x86_events_schedule(&q, 10, record, (void *)1);
    uint64_t b = x86_events_schedule(&q, 20, record, (void *)2);
    assert_true(a != 0 && b != 0 && a != b);
    assert_true(x86_events_cancel(&q, a));
    assert_false(x86_events_cancel(&q, a));   /* twice */
    assert_false(x86_events_cancel(&q, 999)); /* never scheduled */
    assert_int_equal(x86_events_next_cycle(&q), 20);
    x86_events_run_due(&q, 100);
    assert_int_equal(log.count, 1);
    assert_int_equal(log.order[0], 2);
    assert_false(x86_events_cancel(&q, b));   /* already ran */
    /* a callback cancels another event due at the same time */
    log.count = 0;
    x86_events_schedule(&q, 200, record_and_cancel, (void *)7);
    log.victim = x86_events_schedule(&q, 200, record, (void *)8);
    x86_events_run_due(&q, 200);
    assert_int_equal(log.count, 1);
    assert_int_equal(log.order[0], 7);
    /* many cancellations keep the queue small (compaction) */
    uint64_t ids[100];
    for (int i = 0; i < 100; i++)
        ids[i] = x86_events_schedule(&q, 1000 + (uint64_t)i, record, (void *)0);
    for (int i = 0; i < 100; i++)
        assert_true(x86_events_cancel(&q, ids[i]));
    assert_true(q.count < 100);
    assert_int_equal(x86_events_next_cycle(&q), UINT64_MAX);
    x86_events_finish(&q);
}

static void test_event_rescheduling_callbacks(void **state)
{
    (void)state;
    struct event_log log = { .count = 0 };
    struct x86_event_queue q;
    x86_events_init(&q, &log);
    log.queue = &q;
    x86_events_schedule(&q, 40, record_and_reschedule, (void *)100);
    /* each callback schedules another due by now: all run in one call, in order */
    assert_int_equal(x86_events_run_due(&q, 60), 4);
    int want[] = { 100, 101, 102, 103 };
    assert_memory_equal(log.order, want, sizeof(want));
    x86_events_finish(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_mmio_and_ram),
        cmocka_unit_test(test_event_order_and_ties),
        cmocka_unit_test(test_event_cancel),
        cmocka_unit_test(test_event_rescheduling_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
