/* Unit tests of src/devices/hpet.c: the HPET at MMIO 0xFED00000, checked at exact cycles.
 * Expected times come from the definition, computed here with 128-bit integers: with the
 * counter started at cycle S, it reads base + floor((c - S) * 1e8 / hz) at cycle c, and tick
 * k (the counter becoming base + k) falls at the first cycle at or after S + k * hz / 1e8.
 * A comparator matches on the tick at which the counter arrives at its value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/hpet.h"
#include "platform/bus.h"
#include "platform/events.h"

__extension__ typedef unsigned __int128 wide;

#define HZ_1GHZ 1000000000ull
#define TICKS_PER_SECOND 100000000ull
#define MAX_LOG 8192

/* registers */
#define CAP 0x000
#define PERIOD 0x004
#define CFG 0x010
#define STATUS 0x020
#define COUNTER 0x0F0
#define TN_CFG(n) (0x100 + 0x20 * (n))
#define TN_CMP(n) (0x108 + 0x20 * (n))
#define TN_ROUTE(n) (0x110 + 0x20 * (n))
#define CFG_ENABLE 0x1u
#define CFG_LEGACY 0x2u
#define TN_LEVEL 0x002u
#define TN_ENABLE 0x004u
#define TN_PERIODIC 0x008u
#define TN_PERIODIC_CAP 0x010u
#define TN_64BIT_CAP 0x020u
#define TN_SETVAL 0x040u
#define TN_32BIT 0x100u
#define TN_ROUTE_SHIFT 9
#define TN_FSB 0x4000u
#define TN_FSB_CAP 0x8000u

enum line_kind { IOAPIC, ISA, LEGACY };

struct line_event {
    uint64_t cycle;
    enum line_kind kind;
    unsigned line;
    int level;
};

struct rig {
    uint64_t cycles;
    uint64_t hz;
    struct x86_event_queue queue;
    struct x86_bus bus;
    struct x86_hpet hpet;
    struct line_event log[MAX_LOG];
    size_t count;
};

static void record(struct rig *r, enum line_kind kind, unsigned line, int level)
{
    assert_true(r->count < MAX_LOG);
    r->log[r->count++] = (struct line_event){ r->cycles, kind, line, level };
}

static void record_ioapic(void *opaque, unsigned pin, int level)
{
    record(opaque, IOAPIC, pin, level);
}

static void record_isa(void *opaque, unsigned irq, int level)
{
    record(opaque, ISA, irq, level);
}

static void record_legacy(void *opaque, bool on)
{
    record(opaque, LEGACY, 0, on);
}

static struct rig *rig_create(uint64_t hz, uint64_t start_cycle)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->cycles = start_cycle;
    r->hz = hz;
    x86_events_init(&r->queue, NULL);
    assert_true(x86_bus_init(&r->bus, 4096));
    x86_hpet_init(&r->hpet, &r->queue, &r->cycles, hz);
    r->hpet.opaque = r;
    r->hpet.set_ioapic_pin = record_ioapic;
    r->hpet.set_isa_irq = record_isa;
    r->hpet.legacy_changed = record_legacy;
    assert_int_equal(x86_hpet_attach(&r->hpet, &r->bus), X86IRQ_OK);
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_bus_finish(&r->bus);
    x86_events_finish(&r->queue);
    free(r);
}

/* the definition, in 128 bits */
static uint64_t ticks_by(uint64_t elapsed_cycles, uint64_t hz)
{
    return (uint64_t)((wide)elapsed_cycles * TICKS_PER_SECOND / hz);
}

static uint64_t cycle_of_tick(uint64_t start, uint64_t tick, uint64_t hz)
{
    return start + (uint64_t)(((wide)tick * hz + TICKS_PER_SECOND - 1) / TICKS_PER_SECOND);
}

/* run the machine's events up to cycle, each at its own cycle */
static void advance_to(struct rig *r, uint64_t cycle)
{
    assert_true(cycle >= r->cycles);
    for (;;) {
        uint64_t next = x86_events_next_cycle(&r->queue);
        if (next > cycle)
            break;
        if (next > r->cycles)
            r->cycles = next;
        x86_events_run_due(&r->queue, r->cycles);
    }
    r->cycles = cycle;
}

static uint32_t rd32(struct rig *r, uint32_t offset)
{
    return (uint32_t)x86_bus_mmio_read(&r->bus, X86_HPET_BASE + offset, 4);
}

static uint64_t rd64(struct rig *r, uint32_t offset)
{
    return x86_bus_mmio_read(&r->bus, X86_HPET_BASE + offset, 8);
}

static void wr32(struct rig *r, uint32_t offset, uint32_t value)
{
    x86_bus_mmio_write(&r->bus, X86_HPET_BASE + offset, 4, value);
}

static void wr64(struct rig *r, uint32_t offset, uint64_t value)
{
    x86_bus_mmio_write(&r->bus, X86_HPET_BASE + offset, 8, value);
}

static bool no_events(struct rig *r)
{
    return x86_events_next_cycle(&r->queue) == UINT64_MAX;
}

static void expect_pulse(const struct rig *r, size_t at, uint64_t cycle, enum line_kind kind,
                         unsigned line)
{
    assert_true(r->count >= at + 2);
    assert_int_equal(r->log[at].cycle, cycle);
    assert_int_equal(r->log[at].kind, kind);
    assert_int_equal(r->log[at].line, line);
    assert_int_equal(r->log[at].level, 1);
    assert_int_equal(r->log[at + 1].cycle, cycle);
    assert_int_equal(r->log[at + 1].kind, kind);
    assert_int_equal(r->log[at + 1].line, line);
    assert_int_equal(r->log[at + 1].level, 0);
}

static void expect_event(const struct rig *r, size_t at, uint64_t cycle, enum line_kind kind,
                         unsigned line, int level)
{
    assert_true(r->count > at);
    assert_int_equal(r->log[at].cycle, cycle);
    assert_int_equal(r->log[at].kind, kind);
    assert_int_equal(r->log[at].line, line);
    assert_int_equal(r->log[at].level, level);
}

/* start the counter now; returns the start cycle */
static uint64_t start_counter(struct rig *r)
{
    wr32(r, CFG, rd32(r, CFG) | CFG_ENABLE);
    return r->cycles;
}

static uint32_t route(unsigned pin)
{
    return pin << TN_ROUTE_SHIFT;
}

/* ------------------------------------------------------------------ registers */

static void test_capabilities(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    /* REV_ID 1, NUM_TIM_CAP 2, COUNT_SIZE_CAP, LEG_RT_CAP, vendor 8086, 10^7 fs */
    assert_int_equal(rd64(r, CAP), 0x009896808086A201ull);
    assert_int_equal(rd32(r, CAP), 0x8086A201u);
    assert_int_equal(rd32(r, PERIOD), 10000000u);
    wr64(r, CAP, 0);
    wr32(r, PERIOD, 1);
    assert_int_equal(rd64(r, CAP), 0x009896808086A201ull);
    assert_int_equal(rd64(r, CFG), 0);
    assert_int_equal(rd64(r, STATUS), 0);
    assert_int_equal(rd64(r, COUNTER), 0);
    /* timer 0: periodic-capable, 64-bit; 1 and 2: 64-bit; pins 2, 8, 16-23; no FSB */
    assert_int_equal(rd64(r, TN_CFG(0)), 0x00FF010400000030ull);
    assert_int_equal(rd64(r, TN_CFG(1)), 0x00FF010400000020ull);
    assert_int_equal(rd64(r, TN_CFG(2)), 0x00FF010400000020ull);
    for (unsigned n = 0; n < 3; n++) {
        assert_int_equal(rd64(r, TN_CMP(n)), UINT64_MAX);
        assert_int_equal(rd64(r, TN_ROUTE(n)), 0);
        wr64(r, TN_ROUTE(n), 0xFEE00000000000AAull);
        assert_int_equal(rd64(r, TN_ROUTE(n)), 0);
        /* capability bits are read-only, FSB enable stays 0 */
        wr64(r, TN_CFG(n), ~0ull);
        uint64_t cfg = rd64(r, TN_CFG(n));
        assert_int_equal(cfg >> 32, 0x00FF0104u);
        assert_int_equal(cfg & (TN_FSB | TN_FSB_CAP), 0);
        assert_int_equal(cfg & TN_64BIT_CAP, TN_64BIT_CAP);
        assert_int_equal(!!(cfg & TN_PERIODIC_CAP), n == 0);
        assert_int_equal(!!(cfg & TN_PERIODIC), n == 0); /* Tn_TYPE_CNF only where capable */
        wr64(r, TN_CFG(n), 0);
    }
    /* the reserved bits of the general configuration read 0 */
    wr64(r, CFG, ~0ull & ~(uint64_t)CFG_ENABLE);
    assert_int_equal(rd64(r, CFG), CFG_LEGACY);
    /* Linux's sanitising read-modify-write leaves no unknown bits */
    for (unsigned n = 0; n < 3; n++) {
        uint32_t cfg = rd32(r, TN_CFG(n));
        cfg &= ~(TN_ENABLE | TN_LEVEL | TN_FSB);
        wr32(r, TN_CFG(n), cfg);
        cfg &= ~(TN_PERIODIC | TN_PERIODIC_CAP | TN_64BIT_CAP | TN_32BIT | (0x1Fu << 9) |
                 TN_FSB | TN_FSB_CAP);
        assert_int_equal(cfg, 0);
    }
    rig_destroy(r);
}

/* ------------------------------------------------------------------ the main counter */

static void check_counter(uint64_t hz)
{
    struct rig *r = rig_create(hz, 12345);
    advance_to(r, 99999999);
    assert_int_equal(rd64(r, COUNTER), 0); /* halted at power-on */
    uint64_t start = start_counter(r);
    static const uint64_t offsets[] = { 0, 1, 9, 10, 11, 24, 25, 26, 279, 280, 281,
                                        1000003, 123456789, 10000000000ull, 98765432101ull };
    for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        advance_to(r, start + offsets[i]);
        uint64_t expected = ticks_by(offsets[i], hz);
        assert_int_equal(rd64(r, COUNTER), expected);
        assert_int_equal(rd32(r, COUNTER), (uint32_t)expected);
        assert_int_equal(rd32(r, COUNTER + 4), (uint32_t)(expected >> 32));
        assert_int_equal(x86_hpet_counter(&r->hpet), expected);
        /* one cycle before each tick still shows the previous count */
        uint64_t tick = expected + 1;
        uint64_t at = cycle_of_tick(start, tick, hz);
        assert_int_equal(ticks_by(at - 1 - start, hz), expected);
        assert_true(ticks_by(at - start, hz) >= tick);
    }
    /* far ahead, where the products need 128 bits */
    if (hz >= TICKS_PER_SECOND) {
        static const uint64_t far[] = { 1ull << 40, (1ull << 62) + 12345, 3ull << 62 };
        for (unsigned i = 0; i < 3; i++) {
            struct rig *f = rig_create(hz, 0);
            uint64_t s = start_counter(f);
            f->cycles = s + far[i];
            assert_int_equal(x86_hpet_counter(&f->hpet), ticks_by(far[i], hz));
            rig_destroy(f);
        }
    }
    /* halted: frozen; started again: counts on from the held value */
    wr32(r, CFG, 0);
    uint64_t held = ticks_by(r->cycles - start, hz);
    assert_int_equal(rd64(r, COUNTER), held);
    advance_to(r, r->cycles + 5000000000ull);
    assert_int_equal(rd64(r, COUNTER), held);
    uint64_t restart = start_counter(r);
    for (uint64_t d = 0; d < 4000; d += 37) {
        advance_to(r, restart + d);
        assert_int_equal(rd64(r, COUNTER), held + ticks_by(d, hz));
    }
    assert_true(no_events(r));
    rig_destroy(r);
}

static void test_counter_frozen_and_exact(void **state)
{
    (void)state;
    check_counter(HZ_1GHZ);
    check_counter(2500000000ull);
    check_counter(3579545ull);   /* slower than the counter: several ticks a cycle */
    check_counter(3579545000ull);
    check_counter(2999999999ull);
    check_counter(100000000ull); /* one tick a cycle */
}

static void test_counter_write(void **state)
{
    (void)state;
    struct rig *r = rig_create(2500000000ull, 7);
    wr64(r, COUNTER, 0x123456789ABCDEF0ull);
    assert_int_equal(rd64(r, COUNTER), 0x123456789ABCDEF0ull);
    wr32(r, COUNTER, 0xFFFFFFF0u);
    assert_int_equal(rd64(r, COUNTER), 0x12345678FFFFFFF0ull);
    wr32(r, COUNTER + 4, 0x00000001u);
    assert_int_equal(rd64(r, COUNTER), 0x00000001FFFFFFF0ull);
    /* Linux's hpet_reset_counter: two 32-bit zero writes */
    wr32(r, COUNTER, 0);
    wr32(r, COUNTER + 4, 0);
    assert_int_equal(rd64(r, COUNTER), 0);
    wr64(r, COUNTER, 0xFFFFFFFFFFFFFFF0ull);
    uint64_t start = start_counter(r);
    /* the 64-bit counter wraps */
    advance_to(r, start + 100);
    assert_int_equal(rd64(r, COUNTER), 0xFFFFFFFFFFFFFFF0ull + 4);
    advance_to(r, start + 1000);
    assert_int_equal(rd64(r, COUNTER), 24); /* 40 ticks from 2^64 - 16 */
    /* a write while running takes effect at once and counting continues from it */
    advance_to(r, start + 1001);
    uint64_t at = r->cycles;
    wr64(r, COUNTER, 5000);
    assert_int_equal(rd64(r, COUNTER), 5000);
    advance_to(r, at + 2500);
    assert_int_equal(rd64(r, COUNTER), 5000 + ticks_by(at + 2500 - start, r->hz) -
                                           ticks_by(at - start, r->hz));
    rig_destroy(r);
}

/* ------------------------------------------------------------------ one-shot matches */

static void test_oneshot_exact_cycle(void **state)
{
    (void)state;
    static const uint64_t clocks[] = { HZ_1GHZ, 2500000000ull, 3579545ull, 2999999999ull };
    for (unsigned h = 0; h < sizeof(clocks) / sizeof(clocks[0]); h++) {
        uint64_t hz = clocks[h];
        struct rig *r = rig_create(hz, 1000);
        uint64_t start = start_counter(r);
        advance_to(r, start + 777777);
        uint64_t now = rd64(r, COUNTER);
        uint64_t target = now + 12345;
        wr32(r, TN_CFG(2), TN_ENABLE | route(20));
        wr64(r, TN_CMP(2), target);
        uint64_t fire = cycle_of_tick(start, target, hz);
        assert_int_equal(x86_events_next_cycle(&r->queue), fire);
        advance_to(r, fire - 1);
        assert_int_equal(r->count, 0);
        assert_true(rd64(r, COUNTER) < target);
        advance_to(r, fire);
        assert_int_equal(r->count, 2);
        expect_pulse(r, 0, fire, IOAPIC, 20);
        assert_true(rd64(r, COUNTER) >= target);
        assert_int_equal(rd64(r, COUNTER), ticks_by(fire - start, hz));
        /* edge mode leaves the status bit alone; 64-bit one-shot: never again */
        assert_int_equal(rd32(r, STATUS), 0);
        assert_int_equal(rd64(r, TN_CMP(2)), target);
        assert_true(no_events(r));
        advance_to(r, fire + 10000000000ull);
        assert_int_equal(r->count, 2);
        rig_destroy(r);
    }
}

/* An equality comparator: one behind (or at) the counter waits for a wrap */
static void test_comparator_behind_counter(void **state)
{
    (void)state;
    uint64_t hz = HZ_1GHZ;
    struct rig *r = rig_create(hz, 0);
    wr64(r, COUNTER, 0x100000010ull);
    uint64_t start = start_counter(r);
    /* 64 bits: behind by 11 means 2^64 - 11 ticks away, no event */
    wr32(r, TN_CFG(1), TN_ENABLE | route(8));
    wr64(r, TN_CMP(1), 0x100000005ull);
    assert_true(no_events(r));
    /* equal to the counter: also a full wrap away */
    wr64(r, TN_CMP(1), rd64(r, COUNTER));
    assert_true(no_events(r));
    /* 32-bit mode: the low halves match after 2^32 - 11 ticks */
    wr32(r, TN_CFG(1), TN_ENABLE | TN_32BIT | route(8));
    assert_int_equal(rd64(r, TN_CMP(1)), 0x00000010u); /* upper half dropped */
    wr64(r, TN_CMP(1), 0xABCD000000000005ull);
    assert_int_equal(rd64(r, TN_CMP(1)), 5); /* the upper half of a 32-bit comparator is 0 */
    wr32(r, TN_CMP(1) + 4, 0x1234);
    assert_int_equal(rd64(r, TN_CMP(1)), 5);
    uint64_t first = (1ull << 32) - 11;
    uint64_t fire = cycle_of_tick(start, first, hz);
    assert_int_equal(x86_events_next_cycle(&r->queue), fire);
    advance_to(r, fire);
    assert_int_equal(r->count, 2);
    expect_pulse(r, 0, fire, IOAPIC, 8);
    assert_int_equal(rd64(r, COUNTER), 0x200000005ull);
    /* a 32-bit one-shot matches again each time the low half comes round */
    uint64_t again = cycle_of_tick(start, first + (1ull << 32), hz);
    assert_int_equal(x86_events_next_cycle(&r->queue), again);
    advance_to(r, again);
    assert_int_equal(r->count, 4);
    expect_pulse(r, 2, again, IOAPIC, 8);
    rig_destroy(r);
}

/* Linux's hpet_clkevt_set_state_oneshot and hpet_clkevt_set_next_event, repeated from the
 * interrupt as the clockevents core does, including its "missed it" check */
static void test_linux_oneshot_sequence(void **state)
{
    (void)state;
    uint64_t hz = 2999999999ull;
    struct rig *r = rig_create(hz, 31);
    wr32(r, CFG, rd32(r, CFG) | CFG_LEGACY);
    uint64_t start = start_counter(r);
    uint32_t cfg = rd32(r, TN_CFG(0));
    cfg &= ~TN_PERIODIC;
    cfg |= TN_ENABLE | TN_32BIT;
    wr32(r, TN_CFG(0), cfg);
    assert_int_equal(r->count, 1); /* legacy_changed(true) only */
    uint64_t deltas[] = { 192, 1000, 400000, 77777, 12345678, 250 };
    for (unsigned i = 0; i < 6; i++) {
        advance_to(r, r->cycles + 1234);
        uint32_t cnt = rd32(r, COUNTER) + (uint32_t)deltas[i];
        wr32(r, TN_CMP(0), cnt);
        int32_t res = (int32_t)(cnt - rd32(r, COUNTER));
        assert_true(res >= 128);
        /* counter value cnt is reached at tick cnt (the counter started at 0) */
        uint64_t fire = cycle_of_tick(start, cnt, hz);
        size_t before = r->count;
        advance_to(r, fire);
        assert_int_equal(r->count, before + 2);
        expect_pulse(r, before, fire, ISA, 0);
    }
    /* programmed too late (the counter already there): missed until the 32-bit wrap */
    uint32_t cnt = rd32(r, COUNTER);
    wr32(r, TN_CMP(0), cnt);
    assert_true((int32_t)(cnt - rd32(r, COUNTER)) < 128); /* Linux would return -ETIME */
    size_t before = r->count;
    advance_to(r, r->cycles + 30 * hz); /* 30 s: less than 2^32 ticks (42.9 s) */
    assert_int_equal(r->count, before);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ periodic */

/* Linux's hpet_clkevt_set_state_periodic on timer 0 in legacy mode: the counter halted, the
 * comparator written with TN_SETVAL (now + delta), then delta alone (the period), the counter
 * started. Edges follow at exactly every delta ticks, over many periods. */
static void check_linux_periodic(uint64_t hz, uint64_t delta, unsigned periods)
{
    struct rig *r = rig_create(hz, 555);
    /* hpet_enable: sanitise, restart the counter, legacy replacement */
    uint32_t cfg = rd32(r, CFG);
    wr32(r, CFG, cfg & ~(CFG_ENABLE | CFG_LEGACY));
    wr32(r, CFG, rd32(r, CFG) & ~CFG_ENABLE);
    wr32(r, COUNTER, 0);
    wr32(r, COUNTER + 4, 0);
    start_counter(r);
    advance_to(r, r->cycles + 200000);
    wr32(r, CFG, rd32(r, CFG) | CFG_LEGACY);
    assert_int_equal(r->count, 1);
    expect_event(r, 0, r->cycles, LEGACY, 0, 1);
    /* set_state_periodic */
    advance_to(r, r->cycles + 99999);
    wr32(r, CFG, rd32(r, CFG) & ~CFG_ENABLE);
    uint32_t now = rd32(r, COUNTER);
    uint32_t cmp = now + (uint32_t)delta;
    cfg = rd32(r, TN_CFG(0));
    cfg |= TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT;
    wr32(r, TN_CFG(0), cfg);
    wr32(r, TN_CMP(0), cmp);
    assert_int_equal(rd32(r, TN_CFG(0)) & TN_SETVAL, 0); /* cleared by the write */
    advance_to(r, r->cycles + 1000);                     /* udelay(1) */
    wr32(r, TN_CMP(0), (uint32_t)delta);
    assert_int_equal(rd32(r, TN_CMP(0)), cmp); /* the second write set the period only */
    uint64_t start = start_counter(r);
    for (unsigned k = 1; k <= periods; k++) {
        uint64_t fire = cycle_of_tick(start, k * delta, hz);
        assert_int_equal(x86_events_next_cycle(&r->queue), fire);
        advance_to(r, fire);
        assert_int_equal(r->count, 1 + 2 * k);
        expect_pulse(r, 1 + 2 * (k - 1), fire, ISA, 0);
        if (k % 97 == 0) /* the comparator has advanced by the period each time */
            assert_int_equal(rd32(r, TN_CMP(0)), (uint32_t)(cmp + k * delta));
    }
    rig_destroy(r);
}

static void test_linux_periodic(void **state)
{
    (void)state;
    check_linux_periodic(HZ_1GHZ, 400000, 300);      /* HZ=250 */
    check_linux_periodic(2999999999ull, 400000, 300);
    check_linux_periodic(3579545ull, 1000003, 200);
    check_linux_periodic(2500000000ull, 333, 1000);  /* a rate that does not divide evenly */
}

/* Periodic, 32-bit: the comparator wraps through 0 and matching continues */
static void test_periodic_32bit_wrap(void **state)
{
    (void)state;
    uint64_t hz = 100000000ull; /* a tick a cycle: cycles are ticks */
    struct rig *r = rig_create(hz, 0);
    wr64(r, COUNTER, 0xFFFFF000ull);
    wr32(r, TN_CFG(0), TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT | route(2));
    wr32(r, TN_CMP(0), 0xFFFFF800u);
    wr32(r, TN_CMP(0), 0x1000u);
    uint64_t start = start_counter(r);
    uint64_t match = 0x800;
    for (unsigned k = 0; k < 5; k++, match += 0x1000) {
        advance_to(r, start + match);
        expect_pulse(r, 2 * k, start + match, IOAPIC, 2);
        assert_int_equal(rd64(r, TN_CMP(0)), (uint32_t)(0xFFFFF800u + (k + 1) * 0x1000u));
    }
    assert_int_equal(rd64(r, TN_CMP(0)), 0x00004800u);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ level mode */

static void test_level_mode(void **state)
{
    (void)state;
    uint64_t hz = HZ_1GHZ;
    struct rig *r = rig_create(hz, 0);
    uint64_t start = start_counter(r);
    wr32(r, TN_CFG(2), TN_ENABLE | TN_LEVEL | route(16));
    wr64(r, TN_CMP(2), 5000);
    uint64_t fire = cycle_of_tick(start, 5000, hz);
    advance_to(r, fire);
    assert_int_equal(r->count, 1);
    expect_event(r, 0, fire, IOAPIC, 16, 1);
    assert_int_equal(rd32(r, STATUS), 1u << 2);
    assert_true(no_events(r));
    /* writing 0 does nothing; 1 clears the bit and releases the line */
    advance_to(r, fire + 100);
    wr32(r, STATUS, 0);
    assert_int_equal(rd32(r, STATUS), 1u << 2);
    assert_int_equal(r->count, 1);
    wr32(r, STATUS, 1u << 2);
    assert_int_equal(rd32(r, STATUS), 0);
    assert_int_equal(r->count, 2);
    expect_event(r, 1, fire + 100, IOAPIC, 16, 0);

    /* periodic level on timer 0 (pin 2): while the status is set no events run; after the
     * clear the next match in the sequence raises the line again */
    struct rig *p = rig_create(hz, 0);
    wr32(p, TN_CFG(0), TN_ENABLE | TN_LEVEL | TN_PERIODIC | TN_SETVAL | route(2));
    wr64(p, TN_CMP(0), 1000);
    wr64(p, TN_CMP(0), 1000);
    uint64_t s = start_counter(p);
    advance_to(p, cycle_of_tick(s, 1000, hz));
    assert_int_equal(p->count, 1);
    expect_event(p, 0, cycle_of_tick(s, 1000, hz), IOAPIC, 2, 1);
    assert_true(no_events(p));
    advance_to(p, cycle_of_tick(s, 3500, hz));
    assert_int_equal(rd64(p, TN_CMP(0)), 4000); /* it kept matching: 1000, 2000, 3000 */
    wr32(p, STATUS, 1);
    assert_int_equal(p->count, 2);
    expect_event(p, 1, cycle_of_tick(s, 3500, hz), IOAPIC, 2, 0);
    assert_int_equal(x86_events_next_cycle(&p->queue), cycle_of_tick(s, 4000, hz));
    advance_to(p, cycle_of_tick(s, 4000, hz));
    assert_int_equal(p->count, 3);
    expect_event(p, 2, cycle_of_tick(s, 4000, hz), IOAPIC, 2, 1);
    /* the line follows Tn_INT_ENB_CNF and ENABLE_CNF; the status stays */
    wr32(p, TN_CFG(0), TN_LEVEL | TN_PERIODIC | route(2));
    expect_event(p, 3, p->cycles, IOAPIC, 2, 0);
    wr32(p, TN_CFG(0), TN_ENABLE | TN_LEVEL | TN_PERIODIC | route(2));
    expect_event(p, 4, p->cycles, IOAPIC, 2, 1);
    wr32(p, CFG, 0);
    expect_event(p, 5, p->cycles, IOAPIC, 2, 0);
    assert_int_equal(rd32(p, STATUS), 1);
    assert_int_equal(p->count, 6);
    rig_destroy(p);
    rig_destroy(r);
}

/* A level timer with its interrupt disabled still sets its status bit, computed when read */
static void test_level_status_without_interrupt(void **state)
{
    (void)state;
    uint64_t hz = 2500000000ull;
    struct rig *r = rig_create(hz, 0);
    uint64_t start = start_counter(r);
    wr32(r, TN_CFG(1), TN_LEVEL | route(23));
    wr64(r, TN_CMP(1), 777);
    assert_true(no_events(r));
    uint64_t fire = cycle_of_tick(start, 777, hz);
    advance_to(r, fire - 1);
    assert_int_equal(rd32(r, STATUS), 0);
    advance_to(r, fire);
    assert_int_equal(rd32(r, STATUS), 2);
    assert_int_equal(r->count, 0);
    /* enabling the interrupt now raises the line: the status is active */
    advance_to(r, fire + 50);
    wr32(r, TN_CFG(1), TN_ENABLE | TN_LEVEL | route(23));
    assert_int_equal(r->count, 1);
    expect_event(r, 0, fire + 50, IOAPIC, 23, 1);
    /* edge mode does not set status bits */
    wr32(r, STATUS, 2);
    wr32(r, TN_CFG(2), route(16));
    wr64(r, TN_CMP(2), rd64(r, COUNTER) + 10);
    advance_to(r, r->cycles + 1000);
    assert_int_equal(rd32(r, STATUS), 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ routing */

static void test_legacy_routing(void **state)
{
    (void)state;
    uint64_t hz = HZ_1GHZ;
    struct rig *r = rig_create(hz, 0);
    wr32(r, CFG, CFG_LEGACY);
    expect_event(r, 0, 0, LEGACY, 0, 1);
    wr32(r, CFG, CFG_LEGACY); /* no change, no call */
    assert_int_equal(r->count, 1);
    /* timers 0 and 1 ignore their routes (20, 21); timer 2 uses its own (22) */
    wr32(r, TN_CFG(0), TN_ENABLE | route(20));
    wr32(r, TN_CFG(1), TN_ENABLE | route(21));
    wr32(r, TN_CFG(2), TN_ENABLE | route(22));
    wr64(r, TN_CMP(0), 100);
    wr64(r, TN_CMP(1), 200);
    wr64(r, TN_CMP(2), 300);
    uint64_t start = start_counter(r);
    advance_to(r, cycle_of_tick(start, 1000, hz));
    assert_int_equal(r->count, 7);
    expect_pulse(r, 1, cycle_of_tick(start, 100, hz), ISA, 0);
    expect_pulse(r, 3, cycle_of_tick(start, 200, hz), ISA, 8);
    expect_pulse(r, 5, cycle_of_tick(start, 300, hz), IOAPIC, 22);
    /* off: legacy_changed(false), timer 0 back on its route */
    wr32(r, CFG, CFG_ENABLE);
    expect_event(r, 7, r->cycles, LEGACY, 0, 0);
    wr64(r, TN_CMP(0), 2000);
    advance_to(r, cycle_of_tick(start, 2000, hz));
    expect_pulse(r, 8, cycle_of_tick(start, 2000, hz), IOAPIC, 20);
    /* a level timer holding its line moves with the routing: released first */
    wr32(r, TN_CFG(0), TN_ENABLE | TN_LEVEL | route(20));
    wr64(r, TN_CMP(0), 2500);
    advance_to(r, cycle_of_tick(start, 2500, hz));
    expect_event(r, 10, cycle_of_tick(start, 2500, hz), IOAPIC, 20, 1);
    wr32(r, CFG, CFG_ENABLE | CFG_LEGACY);
    assert_int_equal(r->count, 14);
    expect_event(r, 11, r->cycles, LEGACY, 0, 1);
    expect_event(r, 12, r->cycles, IOAPIC, 20, 0);
    expect_event(r, 13, r->cycles, ISA, 0, 1);
    wr32(r, CFG, CFG_ENABLE);
    assert_int_equal(r->count, 17);
    expect_event(r, 14, r->cycles, ISA, 0, 0);
    expect_event(r, 15, r->cycles, IOAPIC, 20, 1);
    expect_event(r, 16, r->cycles, LEGACY, 0, 0);
    rig_destroy(r);
}

static void test_ioapic_routing(void **state)
{
    (void)state;
    uint64_t hz = HZ_1GHZ;
    struct rig *r = rig_create(hz, 0);
    uint64_t start = start_counter(r);
    /* route 0 (power-on) is not offered: the timer drives nothing, no events */
    wr32(r, TN_CFG(2), TN_ENABLE);
    wr64(r, TN_CMP(2), 100);
    assert_true(no_events(r));
    /* unsupported routes are not taken (the read-back differs, spec 2.3.8) */
    for (unsigned pin = 0; pin < 32; pin++) {
        wr32(r, TN_CFG(2), TN_ENABLE | route(17));
        wr32(r, TN_CFG(2), TN_ENABLE | route(pin));
        bool offered = pin == 2 || pin == 8 || (pin >= 16 && pin <= 23);
        assert_int_equal((rd32(r, TN_CFG(2)) >> TN_ROUTE_SHIFT) & 31, offered ? pin : 17);
    }
    /* every offered pin gets the timer's pulse */
    static const unsigned pins[] = { 2, 8, 16, 17, 18, 19, 20, 21, 22, 23 };
    for (unsigned i = 0; i < 10; i++) {
        wr32(r, TN_CFG(2), TN_ENABLE | route(pins[i]));
        uint64_t target = rd64(r, COUNTER) + 50;
        wr64(r, TN_CMP(2), target);
        size_t before = r->count;
        advance_to(r, cycle_of_tick(start, target, hz));
        assert_int_equal(r->count, before + 2);
        expect_pulse(r, before, cycle_of_tick(start, target, hz), IOAPIC, pins[i]);
    }
    /* two level timers on one pin are OR-ed: the line drops when both are cleared */
    wr32(r, TN_CFG(1), TN_ENABLE | TN_LEVEL | route(19));
    wr32(r, TN_CFG(2), TN_ENABLE | TN_LEVEL | route(19));
    uint64_t now = rd64(r, COUNTER);
    wr64(r, TN_CMP(1), now + 10);
    wr64(r, TN_CMP(2), now + 20);
    size_t before = r->count;
    advance_to(r, cycle_of_tick(start, now + 30, hz));
    assert_int_equal(r->count, before + 1);
    expect_event(r, before, cycle_of_tick(start, now + 10, hz), IOAPIC, 19, 1);
    wr32(r, STATUS, 2);
    assert_int_equal(r->count, before + 1);
    wr32(r, STATUS, 4);
    assert_int_equal(r->count, before + 2);
    expect_event(r, before + 1, r->cycles, IOAPIC, 19, 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ reprogramming */

static void test_reprogramming_cancels_event(void **state)
{
    (void)state;
    uint64_t hz = 2500000000ull;
    struct rig *r = rig_create(hz, 0);
    uint64_t start = start_counter(r);
    wr32(r, TN_CFG(2), TN_ENABLE | route(18));
    wr64(r, TN_CMP(2), 10000);
    advance_to(r, cycle_of_tick(start, 5000, hz));
    wr64(r, TN_CMP(2), 20000); /* later */
    advance_to(r, cycle_of_tick(start, 15000, hz));
    assert_int_equal(r->count, 0);
    wr64(r, TN_CMP(2), 16000); /* earlier than the pending one */
    advance_to(r, cycle_of_tick(start, 30000, hz));
    assert_int_equal(r->count, 2);
    expect_pulse(r, 0, cycle_of_tick(start, 16000, hz), IOAPIC, 18);
    /* disabling the interrupt before the match: nothing, and nothing pending */
    wr64(r, TN_CMP(2), 40000);
    wr32(r, TN_CFG(2), route(18));
    assert_true(no_events(r));
    advance_to(r, cycle_of_tick(start, 50000, hz));
    assert_int_equal(r->count, 2);
    /* a 32-bit half write moves the match too */
    wr32(r, TN_CFG(2), TN_ENABLE | route(18));
    wr64(r, TN_CMP(2), 0x100000000ull + 60000);
    assert_true(no_events(r) == false);
    wr32(r, TN_CMP(2) + 4, 0);
    assert_int_equal(x86_events_next_cycle(&r->queue), cycle_of_tick(start, 60000, hz));
    /* a counter write moves it as well */
    wr64(r, COUNTER, 59000);
    uint64_t at = r->cycles;
    uint64_t base_tick = ticks_by(at - start, hz);
    assert_int_equal(x86_events_next_cycle(&r->queue),
                     cycle_of_tick(start, base_tick + 1000, hz));
    advance_to(r, cycle_of_tick(start, base_tick + 1000, hz));
    expect_pulse(r, 2, cycle_of_tick(start, base_tick + 1000, hz), IOAPIC, 18);
    assert_int_equal(r->count, 4);
    rig_destroy(r);
}

static void test_halt_stops_events(void **state)
{
    (void)state;
    uint64_t hz = HZ_1GHZ;
    struct rig *r = rig_create(hz, 0);
    uint64_t start = start_counter(r);
    wr32(r, TN_CFG(0), TN_ENABLE | TN_PERIODIC | TN_SETVAL | route(2));
    wr64(r, TN_CMP(0), 1000);
    wr64(r, TN_CMP(0), 1000);
    advance_to(r, cycle_of_tick(start, 2500, hz));
    assert_int_equal(r->count, 4);
    wr32(r, CFG, 0);
    assert_true(no_events(r));
    uint64_t held = rd64(r, COUNTER);
    assert_int_equal(held, 2500);
    advance_to(r, r->cycles + 1000000);
    assert_int_equal(r->count, 4);
    assert_int_equal(rd64(r, COUNTER), held);
    assert_int_equal(rd64(r, TN_CMP(0)), 3000);
    /* started again: 500 ticks to the next match */
    uint64_t restart = start_counter(r);
    assert_int_equal(x86_events_next_cycle(&r->queue), cycle_of_tick(restart, 500, hz));
    advance_to(r, cycle_of_tick(restart, 1500, hz));
    assert_int_equal(r->count, 8);
    expect_pulse(r, 4, cycle_of_tick(restart, 500, hz), IOAPIC, 2);
    expect_pulse(r, 6, cycle_of_tick(restart, 1500, hz), IOAPIC, 2);
    rig_destroy(r);
}

static void test_idle_has_no_events(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    assert_true(no_events(r));
    start_counter(r);
    assert_true(no_events(r));
    for (unsigned n = 0; n < 3; n++) {
        wr32(r, TN_CFG(n), TN_LEVEL | TN_32BIT | route(16)); /* interrupt disabled */
        wr32(r, TN_CMP(n), 1000);
    }
    assert_true(no_events(r));
    wr32(r, TN_CFG(2), TN_ENABLE | TN_32BIT | route(16));
    assert_false(no_events(r));
    wr32(r, CFG, 0); /* halted */
    assert_true(no_events(r));
    advance_to(r, 10000000000ull);
    assert_int_equal(r->count, 0);
    rig_destroy(r);
}

/* An access at a cycle past a pending match, before its event runs, delivers it once */
static void test_access_past_pending_match(void **state)
{
    (void)state;
    uint64_t hz = HZ_1GHZ;
    struct rig *r = rig_create(hz, 0);
    uint64_t start = start_counter(r);
    wr32(r, TN_CFG(2), TN_ENABLE | route(21));
    wr64(r, TN_CMP(2), 100);
    r->cycles = cycle_of_tick(start, 150, hz); /* the CPU ran on; the queue has not yet */
    assert_int_equal(rd64(r, COUNTER), 150);
    assert_int_equal(r->count, 2);
    expect_pulse(r, 0, r->cycles, IOAPIC, 21);
    x86_events_run_due(&r->queue, r->cycles);
    assert_int_equal(r->count, 2);
    assert_true(no_events(r));
    rig_destroy(r);
}

/* ------------------------------------------------------------------ access sizes */

static void test_access_sizes(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    struct x86_hpet *h = &r->hpet;
    /* bytes, words and unaligned dwords read 0 and write nothing */
    for (unsigned size = 1; size <= 2; size++)
        for (uint64_t offset = 0; offset < 8; offset++)
            assert_int_equal(x86_hpet_read(h, offset, size), 0);
    assert_int_equal(x86_hpet_read(h, 2, 4), 0);
    assert_int_equal(x86_hpet_read(h, 0x101, 4), 0);
    x86_hpet_write(h, 0x010, 1, CFG_LEGACY);
    x86_hpet_write(h, 0x010, 2, CFG_LEGACY);
    x86_hpet_write(h, 0x012, 4, CFG_LEGACY);
    x86_hpet_write(h, 0x108, 3, 0);
    assert_int_equal(x86_hpet_read(h, 0x010, 4), 0);
    assert_int_equal(x86_hpet_read(h, 0x108, 8), UINT64_MAX);
    /* a 64-bit access at a 4-byte boundary is two halves of neighbouring registers */
    assert_int_equal(x86_hpet_read(h, 0x004, 8), 10000000u);
    assert_int_equal(x86_hpet_read(h, 0x10C, 8), 0xFFFFFFFFu);
    x86_hpet_write(h, 0x10C, 8, 0xAAAAAAAA11111111ull); /* cmp high, then FSB route low */
    assert_int_equal(x86_hpet_read(h, 0x108, 8), 0x11111111FFFFFFFFull);
    x86_hpet_write(h, 0x0EC, 8, 0x1234567800000000ull); /* reserved, then counter low */
    assert_int_equal(x86_hpet_read(h, 0x0F0, 8), 0x12345678u);
    /* reserved space and the timers that do not exist read 0 */
    for (uint64_t offset = 0x160; offset < X86_HPET_SIZE; offset += 4) {
        x86_hpet_write(h, offset, 4, 0xFFFFFFFFu);
        assert_int_equal(x86_hpet_read(h, offset, 4), 0);
    }
    static const uint64_t reserved[] = { 0x008, 0x018, 0x028, 0x0E8, 0x118, 0x138, 0x158 };
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(x86_hpet_read(h, reserved[i], 8), 0);
    assert_int_equal(x86_hpet_read(h, X86_HPET_SIZE, 4), 0);
    assert_int_equal(x86_hpet_read(h, UINT64_MAX - 3, 4), 0);
    x86_hpet_write(h, UINT64_MAX - 7, 8, ~0ull);
    /* the bus passes the MMIO window's accesses */
    assert_int_equal(x86_bus_mmio_read(&r->bus, X86_HPET_BASE, 4), 0x8086A201u);
    rig_destroy(r);
}

/* Every offset, size and value at random (fixed seed): nothing crashes, the capabilities
 * stay, at most one event per timer is pending, and every line alternates 1, 0, 1, ... */
struct fuzz_rig {
    uint64_t cycles;
    int line_level[2][32];
    unsigned calls;
};

static void fuzz_line(struct fuzz_rig *f, unsigned kind, unsigned line, int level)
{
    assert_true(level == 0 || level == 1);
    if (kind == 1)
        assert_true(line == 0 || line == 8);
    else
        assert_true(line == 2 || line == 8 || (line >= 16 && line <= 23));
    assert_int_not_equal(f->line_level[kind][line], level);
    f->line_level[kind][line] = level;
    f->calls++;
}

static void fuzz_ioapic(void *opaque, unsigned pin, int level)
{
    fuzz_line(opaque, 0, pin, level);
}

static void fuzz_isa(void *opaque, unsigned irq, int level)
{
    fuzz_line(opaque, 1, irq, level);
}

static uint64_t next_random(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = *seed;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 32);
}

static void test_fuzz(void **state)
{
    (void)state;
    static const uint64_t clocks[] = { HZ_1GHZ, 3579545ull, 2999999999ull };
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    uint64_t seed = 0x48504554u; /* "HPET" */
    for (unsigned h = 0; h < 3; h++) {
        struct fuzz_rig f;
        memset(&f, 0, sizeof(f));
        struct x86_event_queue queue;
        x86_events_init(&queue, NULL);
        struct x86_hpet hpet;
        x86_hpet_init(&hpet, &queue, &f.cycles, clocks[h]);
        hpet.opaque = &f;
        hpet.set_ioapic_pin = fuzz_ioapic;
        hpet.set_isa_irq = fuzz_isa;
        for (unsigned i = 0; i < 100000; i++) {
            uint64_t rnd = next_random(&seed);
            uint64_t offset, value = next_random(&seed);
            unsigned size;
            if (rnd % 4 == 0) {
                /* garbage: any offset (some past the window), any size, any value */
                offset = (rnd >> 8) % 0x480;
                size = sizes[(rnd >> 20) & 3];
            } else {
                /* a plausible register access, to reach the timers' paths */
                static const uint64_t targets[] = { CFG, STATUS, COUNTER, TN_CFG(0), TN_CMP(0),
                                                    TN_CFG(1), TN_CMP(1), TN_CFG(2), TN_CMP(2) };
                unsigned which = (unsigned)((rnd >> 8) % 9);
                offset = targets[which] + ((rnd >> 16) & 1 ? 4 : 0);
                size = (rnd >> 17) & 1 ? 8 : 4;
                if (size == 8)
                    offset &= ~7ull;
                if (offset == CFG)
                    value &= 3;
                else if (offset == STATUS)
                    value &= 7;
                else if (which >= 3 && which % 2 == 1) /* a timer's configuration */
                    value &= 0x3F7Eu;
                else if (which >= 4 || offset == COUNTER) /* a count near the counter */
                    value = x86_hpet_counter(&hpet) + value % 3000;
            }
            if ((rnd >> 24) & 3)
                x86_hpet_write(&hpet, offset, size, value);
            else
                (void)x86_hpet_read(&hpet, offset, size);
            /* time passes, events run at their cycles */
            uint64_t target = f.cycles + next_random(&seed) % 20000;
            for (;;) {
                uint64_t next = x86_events_next_cycle(&queue);
                if (next > target)
                    break;
                if (next > f.cycles)
                    f.cycles = next;
                x86_events_run_due(&queue, f.cycles);
            }
            f.cycles = target;
            assert_true(queue.count - queue.cancelled_count <= X86_HPET_TIMERS);
        }
        assert_int_equal(x86_hpet_read(&hpet, 0, 8), 0x009896808086A201ull);
        assert_true(f.calls > 1000); /* the interrupt paths were reached */
        x86_events_finish(&queue);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_counter_frozen_and_exact),
        cmocka_unit_test(test_counter_write),
        cmocka_unit_test(test_oneshot_exact_cycle),
        cmocka_unit_test(test_comparator_behind_counter),
        cmocka_unit_test(test_linux_oneshot_sequence),
        cmocka_unit_test(test_linux_periodic),
        cmocka_unit_test(test_periodic_32bit_wrap),
        cmocka_unit_test(test_level_mode),
        cmocka_unit_test(test_level_status_without_interrupt),
        cmocka_unit_test(test_legacy_routing),
        cmocka_unit_test(test_ioapic_routing),
        cmocka_unit_test(test_reprogramming_cancels_event),
        cmocka_unit_test(test_halt_stops_events),
        cmocka_unit_test(test_idle_has_no_events),
        cmocka_unit_test(test_access_past_pending_match),
        cmocka_unit_test(test_access_sizes),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
