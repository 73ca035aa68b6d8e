/* Unit tests of src/devices/acpi_pm.c: the PM1a blocks, the PM timer and GPE0 through the port
 * bus, checked at exact cycles. Expected values come from the definition, computed here with
 * 128-bit integers: the timer has seen floor(c * 315e6 / (88 * cpu_hz)) ticks by cycle c, and
 * tick k happens at cycle ceil(k * 88 * cpu_hz / 315e6). TMR_STS is set at every tick that is
 * a multiple of 2^23 (bit 23 toggles). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "platform/bus.h"
#include "platform/events.h"

__extension__ typedef unsigned __int128 wide;

#define PM 0x600u
#define GPE 0xAFE0u
#define PM1_STS (PM + 0)
#define PM1_EN (PM + 2)
#define PM1_CNT (PM + 4)
#define PM_TMR (PM + 8)
#define MAX_EDGES 64
#define MAX_SLEEPS 16
#define TOGGLE (1ull << 23)

struct edge { uint64_t cycle; int level; };

struct rig {
    uint64_t cycles;
    uint64_t hz;
    struct x86_event_queue queue;
    struct x86_bus bus;
    struct x86_acpi_pm pm;
    struct edge edges[MAX_EDGES];
    size_t edge_count;
    unsigned sleeps[MAX_SLEEPS];
    size_t sleep_count;
};

static void record_sci(void *opaque, int line, int level)
{
    struct rig *r = opaque;
    assert_int_equal(line, 9);
    assert_true(r->edge_count < MAX_EDGES);
    r->edges[r->edge_count++] = (struct edge){ r->cycles, level };
}

static void record_sleep(void *opaque, unsigned slp_typ)
{
    struct rig *r = opaque;
    assert_true(r->sleep_count < MAX_SLEEPS);
    r->sleeps[r->sleep_count++] = slp_typ;
}

static struct rig *rig_create(uint64_t hz, uint64_t start_cycle)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->cycles = start_cycle;
    r->hz = hz;
    x86_events_init(&r->queue, NULL);
    assert_true(x86_bus_init(&r->bus, 4096));
    x86_acpi_pm_init(&r->pm, &r->queue, &r->cycles, hz);
    r->pm.sci = (struct x86_irq_wire){ record_sci, r, 9 };
    r->pm.sleep = record_sleep;
    r->pm.opaque = r;
    assert_int_equal(x86_acpi_pm_attach(&r->pm, &r->bus, PM, GPE), X86IRQ_OK);
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_bus_finish(&r->bus);
    x86_events_finish(&r->queue);
    free(r);
}

static uint64_t ticks_by(uint64_t cycle, uint64_t hz)
{
    return (uint64_t)((wide)cycle * 315000000u / ((wide)88 * hz));
}

static uint64_t cycle_of_tick(uint64_t tick, uint64_t hz)
{
    wide scaled = (wide)tick * 88 * hz;
    return (uint64_t)((scaled + 315000000u - 1) / 315000000u);
}

static uint64_t at(const struct rig *r, uint64_t tick) { return cycle_of_tick(tick, r->hz); }

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

static uint32_t in(struct rig *r, uint16_t port, unsigned size)
{
    return x86_bus_port_read(&r->bus, port, size);
}

static void out(struct rig *r, uint16_t port, unsigned size, uint32_t value)
{
    x86_bus_port_write(&r->bus, port, size, value);
}

static uint32_t timer_at(struct rig *r, uint64_t cycle)
{
    advance_to(r, cycle);
    return in(r, PM_TMR, 4);
}

/* ------------------------------------------------------------------ the timer */

static void check_timer_values(uint64_t hz, uint64_t start)
{
    struct rig *r = rig_create(hz, start);
    uint64_t cycle = start;
    /* steps of assorted sizes, some below one tick, some across many wraps */
    static const uint64_t steps[] = { 0, 1, 2, 3, 279, 280, 281, 999, 123457, 10000019,
                                      4686000000ull, 1ull << 36, 77777777777ull };
    for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        cycle += steps[i];
        uint32_t expected = (uint32_t)(ticks_by(cycle, hz) & 0xFFFFFF);
        assert_int_equal(timer_at(r, cycle), expected);
        assert_int_equal(x86_acpi_pm_timer(&r->pm), expected);
        assert_int_equal(x86_acpi_pm_tick_at_cycle(&r->pm, cycle), ticks_by(cycle, hz));
        /* narrower reads give the register's bytes */
        assert_int_equal(in(r, PM_TMR, 2), expected & 0xFFFF);
        assert_int_equal(in(r, PM_TMR + 1, 1), (expected >> 8) & 0xFF);
        assert_int_equal(in(r, PM_TMR + 2, 2), expected >> 16); /* bits 31:24 read 0 */
        assert_int_equal(in(r, PM_TMR + 3, 1), 0);
    }
    /* the first cycle of a tick and the one before it */
    for (uint64_t tick = ticks_by(cycle, hz) + 1; tick < ticks_by(cycle, hz) + 40; tick += 7) {
        uint64_t first = at(r, tick);
        assert_int_equal(x86_acpi_pm_cycle_at_tick(&r->pm, tick), first);
        /* (a CPU slower than the timer sees several ticks in one cycle) */
        assert_true(ticks_by(first - 1, hz) < tick && ticks_by(first, hz) >= tick);
        assert_int_equal(timer_at(r, first - 1), ticks_by(first - 1, hz) & 0xFFFFFF);
        assert_int_equal(timer_at(r, first), ticks_by(first, hz) & 0xFFFFFF);
    }
    rig_destroy(r);
}

static void test_timer_value_exact(void **state)
{
    (void)state;
    check_timer_values(1000000000ull, 0);
    check_timer_values(2400000000ull, 17);
    check_timer_values(3000000007ull, 5);  /* a prime: no common factor with the clock */
    check_timer_values(1000000ull, 3);     /* a CPU slower than the timer: several ticks a cycle */
    check_timer_values(1000000000ull, (1ull << 62) + 11); /* products beyond 64 bits */
}

/* The 24-bit counter wraps to 0 at tick 2^24, 4.69 s after cycle 0 */
static void test_timer_wraps_at_24_bits(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 0);
    uint64_t wrap = at(r, 1ull << 24);
    assert_int_equal(wrap, 4686968280ull); /* ceil(2^24 * 88e9 / 315e6) */
    assert_int_equal(timer_at(r, wrap - 1), 0xFFFFFF);
    assert_int_equal(timer_at(r, wrap), 0);
    uint64_t second = at(r, 2ull << 24);
    assert_int_equal(timer_at(r, second - 1), 0xFFFFFF);
    assert_int_equal(timer_at(r, second), 0);
    /* a second's worth of ticks: 3,579,545 (315e6 / 88 rounded down) */
    assert_int_equal(x86_acpi_pm_tick_at_cycle(&r->pm, 1000000000ull), 3579545u);
    rig_destroy(r);
}

/* Linux's verify_pmtmr_rate/monotonicity checks read the timer in a loop: every read is at or
 * after the previous one modulo 2^24, and the count over an interval is the exact difference */
static void test_timer_monotonic_reads(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 4686000000ull);
    uint32_t previous = in(r, PM_TMR, 4);
    uint64_t total = 0;
    for (unsigned i = 0; i < 20000; i++) {
        advance_to(r, r->cycles + 97);
        uint32_t value = in(r, PM_TMR, 4);
        uint32_t delta = (value - previous) & 0xFFFFFF;
        assert_true(delta <= 1); /* 97 cycles are less than one tick (279.4 cycles) */
        total += delta;
        previous = value;
    }
    assert_int_equal(total, ticks_by(r->cycles, r->hz) - ticks_by(4686000000ull, r->hz));
    rig_destroy(r);
}

/* ------------------------------------------------------------------ TMR_STS and the SCI */

static void test_tmr_sts_timing(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 0);
    uint64_t toggle1 = at(r, TOGGLE), toggle2 = at(r, 2 * TOGGLE), toggle3 = at(r, 3 * TOGGLE);
    advance_to(r, toggle1 - 1);
    assert_int_equal(in(r, PM1_STS, 2), 0);
    advance_to(r, toggle1);
    assert_int_equal(in(r, PM1_STS, 2), 0x0001);
    /* stays set past later toggles until cleared */
    advance_to(r, toggle2 + 5);
    assert_int_equal(in(r, PM1_STS, 2), 0x0001);
    /* writing 0 does not clear; writing 1 does */
    out(r, PM1_STS, 2, 0x0000);
    assert_int_equal(in(r, PM1_STS, 2), 0x0001);
    out(r, PM1_STS, 2, 0x0001);
    assert_int_equal(in(r, PM1_STS, 2), 0x0000);
    advance_to(r, toggle3 - 1);
    assert_int_equal(in(r, PM1_STS, 2), 0x0000);
    advance_to(r, toggle3);
    assert_int_equal(in(r, PM1_STS, 2), 0x0001);
    /* no SCI without TMR_EN, and no event was needed */
    assert_int_equal(r->edge_count, 0);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    rig_destroy(r);
}

static void check_timer_sci(uint64_t hz, uint64_t start)
{
    struct rig *r = rig_create(hz, start);
    uint64_t base = ticks_by(start, hz) / TOGGLE; /* toggles before the start don't count */
    out(r, PM1_EN, 2, 0x0001);
    assert_int_equal(r->edge_count, 0);
    uint64_t rise1 = at(r, (base + 1) * TOGGLE);
    assert_int_equal(x86_events_next_cycle(&r->queue), rise1);
    advance_to(r, rise1 + 1000);
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].cycle, rise1);
    assert_int_equal(r->edges[0].level, 1);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX); /* level until cleared */
    /* the handler clears TMR_STS: the line falls at that cycle, the next toggle is scheduled */
    uint64_t cleared = r->cycles;
    out(r, PM1_STS, 2, 0x0001);
    assert_int_equal(r->edge_count, 2);
    assert_int_equal(r->edges[1].cycle, cleared);
    assert_int_equal(r->edges[1].level, 0);
    uint64_t rise2 = at(r, (base + 2) * TOGGLE);
    assert_int_equal(x86_events_next_cycle(&r->queue), rise2);
    advance_to(r, rise2);
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[2].cycle, rise2);
    assert_int_equal(r->edges[2].level, 1);
    /* TMR_EN off: the line falls though TMR_STS stays; nothing is scheduled */
    out(r, PM1_EN, 2, 0x0000);
    assert_int_equal(r->edge_count, 4);
    assert_int_equal(r->edges[3].level, 0);
    assert_int_equal(in(r, PM1_STS, 2), 0x0001);
    out(r, PM1_STS, 2, 0x0001);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    advance_to(r, at(r, (base + 4) * TOGGLE));
    assert_int_equal(r->edge_count, 4);
    /* TMR_EN set while TMR_STS is already set: the SCI at once */
    out(r, PM1_EN, 2, 0x0001);
    assert_int_equal(r->edge_count, 5);
    assert_int_equal(r->edges[4].cycle, r->cycles);
    assert_int_equal(r->edges[4].level, 1);
    rig_destroy(r);
}

static void test_tmr_en_sci_exact(void **state)
{
    (void)state;
    check_timer_sci(1000000000ull, 0);
    check_timer_sci(2400000000ull, 123456789);
    check_timer_sci(1000000ull, 7);
    check_timer_sci(1000000000ull, (1ull << 62) + 5);
}

/* An access at the very cycle of the toggle, before the event runs, sees TMR_STS set and the
 * line follows at once; the stale event is dropped */
static void test_access_at_toggle_cycle(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 0);
    out(r, PM1_EN, 2, 0x0001);
    uint64_t rise = at(r, TOGGLE);
    r->cycles = rise; /* the CPU reaches the cycle; the queue has not run yet */
    assert_int_equal(in(r, PM1_STS, 2), 0x0001);
    out(r, PM1_EN, 2, 0x0001); /* any write updates the line */
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].cycle, rise);
    x86_events_run_due(&r->queue, rise);
    assert_int_equal(r->edge_count, 1);
    /* an event run late still sets the status it was due for */
    out(r, PM1_STS, 2, 0x0001);
    uint64_t rise2 = at(r, 2 * TOGGLE);
    assert_int_equal(x86_events_next_cycle(&r->queue), rise2);
    r->cycles = rise2 + 12345;
    x86_events_run_due(&r->queue, r->cycles);
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[2].level, 1);
    assert_int_equal(in(r, PM1_STS, 2), 0x0001);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ PM1 status and enable */

static void test_pm1_status_write_one_to_clear(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 1000);
    x86_acpi_pm_raise(&r->pm, 0xFFFF);
    /* the implemented bits only; TMR_STS is the timer's, not the board's */
    assert_int_equal(in(r, PM1_STS, 2), 0x8730);
    assert_int_equal(r->edge_count, 0); /* nothing enabled */
    /* a byte write clears only the 1 bits of its byte */
    out(r, PM1_STS + 1, 1, 0x01); /* PWRBTN_STS */
    assert_int_equal(in(r, PM1_STS, 2), 0x8630);
    out(r, PM1_STS, 1, 0x20); /* GBL_STS */
    assert_int_equal(in(r, PM1_STS, 2), 0x8610);
    out(r, PM1_STS, 2, 0x0000);
    assert_int_equal(in(r, PM1_STS, 2), 0x8610);
    out(r, PM1_STS, 2, 0x8010); /* WAK_STS, BM_STS */
    assert_int_equal(in(r, PM1_STS, 2), 0x0600);
    out(r, PM1_STS, 2, 0xFFFF);
    assert_int_equal(in(r, PM1_STS, 2), 0x0000);
    rig_destroy(r);
}

static void test_pm1_enable_and_sci(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 1000);
    out(r, PM1_EN, 2, 0xFFFF);
    assert_int_equal(in(r, PM1_EN, 2), 0x0721); /* TMR, GBL, PWRBTN, SLPBTN, RTC */
    out(r, PM1_EN, 2, 0x0000);
    /* the power button: status first, then enable raises the SCI */
    x86_acpi_pm_raise(&r->pm, X86_ACPI_PM1_PWRBTN);
    assert_int_equal(r->edge_count, 0);
    out(r, PM1_EN + 1, 1, 0x01); /* byte access to PWRBTN_EN */
    assert_int_equal(in(r, PM1_EN, 2), 0x0100);
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].level, 1);
    /* WAK_STS and BM_STS have no enable: no second source */
    x86_acpi_pm_raise(&r->pm, X86_ACPI_PM1_WAK_STS | X86_ACPI_PM1_BM_STS);
    out(r, PM1_STS, 2, X86_ACPI_PM1_PWRBTN);
    assert_int_equal(r->edge_count, 2);
    assert_int_equal(r->edges[1].level, 0);
    /* a 32-bit access at PM1_EVT: status in the low half, enable in the high half */
    x86_acpi_pm_raise(&r->pm, X86_ACPI_PM1_RTC);
    assert_int_equal(in(r, PM, 4), 0x01008410u);
    out(r, PM, 4, 0x04008410u); /* clears those statuses, enables RTC only */
    assert_int_equal(in(r, PM, 4), 0x04000000u);
    assert_int_equal(r->edge_count, 2);
    x86_acpi_pm_raise(&r->pm, X86_ACPI_PM1_RTC);
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[2].level, 1);
    /* a reset drops everything */
    x86_acpi_pm_reset(&r->pm);
    assert_int_equal(in(r, PM, 4), 0);
    assert_int_equal(r->edge_count, 4);
    assert_int_equal(r->edges[3].level, 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ PM1 control */

static void test_pm1_control(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 0);
    assert_int_equal(in(r, PM1_CNT, 2), 0x0001); /* SCI_EN: always ACPI mode */
    out(r, PM1_CNT, 2, 0x0000);
    assert_int_equal(in(r, PM1_CNT, 2), 0x0001);
    /* BM_RLD and SLP_TYP are stored; GBL_RLS, reserved bits: read 0 */
    out(r, PM1_CNT, 2, 0xDFFE); /* all but SCI_EN and SLP_EN */
    assert_int_equal(in(r, PM1_CNT, 2), 0x1C03);
    assert_int_equal(r->sleep_count, 0); /* SLP_TYP without SLP_EN */
    out(r, PM1_CNT, 2, 0x0002);
    assert_int_equal(in(r, PM1_CNT, 2), 0x0003);
    assert_int_equal(in(r, PM1_CNT + 1, 1), 0x00);
    assert_int_equal(in(r, PM1_CNT, 1), 0x03);
    /* the gap at +6: reserved, reads 0, writes ignored */
    out(r, PM + 6, 2, 0xFFFF);
    assert_int_equal(in(r, PM + 6, 2), 0x0000);
    assert_int_equal(in(r, PM1_CNT, 4), 0x00000003u);
    assert_int_equal(r->sleep_count, 0);
    rig_destroy(r);
}

/* ACPICA's acpi_hw_legacy_sleep: read PM1_CNT, clear SLP_TYP and SLP_EN, write SLP_TYP, then
 * write SLP_TYP | SLP_EN: one sleep() with that type, for each type */
static void test_sleep_sequence(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 0);
    for (unsigned type = 0; type < 8; type++) {
        uint16_t control = (uint16_t)in(r, PM1_CNT, 2);
        control &= (uint16_t)~(0x1C00 | 0x2000);
        control |= (uint16_t)(type << 10);
        out(r, PM1_CNT, 2, control);
        assert_int_equal(r->sleep_count, type);
        control |= 0x2000;
        out(r, PM1_CNT, 2, control);
        assert_int_equal(r->sleep_count, type + 1);
        assert_int_equal(r->sleeps[type], type);
        /* SLP_EN is write-only */
        assert_int_equal(in(r, PM1_CNT, 2), 0x0001 | (type << 10));
    }
    /* a byte write of the high half carries SLP_TYP and SLP_EN together */
    out(r, PM1_CNT + 1, 1, 0x20 | (5 << 2));
    assert_int_equal(r->sleep_count, 9);
    assert_int_equal(r->sleeps[8], 5);
    /* a byte write of the low half cannot sleep */
    out(r, PM1_CNT, 1, 0xFF);
    assert_int_equal(r->sleep_count, 9);
    /* S5 as the DSDT names it */
    out(r, PM1_CNT, 2, (X86_ACPI_SLP_TYP_S5 << 10) | 0x2000);
    assert_int_equal(r->sleep_count, 10);
    assert_int_equal(r->sleeps[9], X86_ACPI_SLP_TYP_S5);
    /* a 32-bit write from +2 reaches PM1_CNT's second byte too */
    out(r, PM1_EN, 4, 0x24000000u | (3u << 26));
    assert_int_equal(r->sleep_count, 11);
    assert_int_equal(r->sleeps[10], 3);
    rig_destroy(r);
}

static void test_sleep_unwired(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 0);
    r->pm.sleep = NULL;
    out(r, PM1_CNT, 2, 0x2000); /* no crash */
    assert_int_equal(in(r, PM1_CNT, 2), 0x0001);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ GPE0 */

static void test_gpe0(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 0);
    assert_int_equal(in(r, GPE, 4), 0);
    /* ACPICA programs GPE registers a byte at a time: status at +0, +1, enable at +2, +3 */
    out(r, GPE + 2, 1, 0xA5);
    out(r, GPE + 3, 1, 0x3C);
    assert_int_equal(in(r, GPE + 2, 2), 0x3CA5);
    assert_int_equal(in(r, GPE + 3, 1), 0x3C);
    assert_int_equal(r->edge_count, 0);
    /* nothing raises a GPE by itself; the board can */
    x86_acpi_pm_raise_gpe(&r->pm, 1); /* not enabled */
    x86_acpi_pm_raise_gpe(&r->pm, 16); /* out of range: ignored */
    assert_int_equal(in(r, GPE, 2), 0x0002);
    assert_int_equal(r->edge_count, 0);
    x86_acpi_pm_raise_gpe(&r->pm, 10); /* enabled (0x3C00 has bit 10) */
    assert_int_equal(in(r, GPE, 2), 0x0402);
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].level, 1);
    /* write 1 to clear, byte-wise */
    out(r, GPE, 1, 0x02);
    assert_int_equal(in(r, GPE, 2), 0x0400);
    assert_int_equal(r->edge_count, 1);
    out(r, GPE + 1, 1, 0x04);
    assert_int_equal(in(r, GPE, 2), 0x0000);
    assert_int_equal(r->edge_count, 2);
    assert_int_equal(r->edges[1].level, 0);
    /* acpi_hw_disable_all_gpes / acpi_hw_clear_all_gpes */
    out(r, GPE + 2, 1, 0x00);
    out(r, GPE + 3, 1, 0x00);
    out(r, GPE, 1, 0xFF);
    out(r, GPE + 1, 1, 0xFF);
    assert_int_equal(in(r, GPE, 4), 0);
    /* a dword write from +0 writes both halves; bytes past the block are other ports */
    out(r, GPE, 4, 0x12340000u);
    assert_int_equal(in(r, GPE, 4), 0x12340000u);
    assert_int_equal(in(r, GPE + 2, 4), 0xFFFF1234u);
    rig_destroy(r);
}

/* Odd sizes and offsets: reads past the PM block are all ones, timer writes are ignored */
static void test_odd_accesses(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull, 3000000000ull);
    uint32_t value = (uint32_t)(ticks_by(r->cycles, r->hz) & 0xFFFFFF);
    assert_int_equal(in(r, PM + 10, 4), 0xFFFF0000u | (value >> 16));
    assert_int_equal(in(r, PM + 11, 2), 0xFF00u);
    out(r, PM_TMR, 4, 0);
    assert_int_equal(in(r, PM_TMR, 4), value);
    out(r, PM + 11, 4, 0xFFFFFFFFu);
    assert_int_equal(in(r, PM_TMR, 4), value);
    /* the ports before and after belong to nobody */
    assert_int_equal(in(r, PM + 12, 1), 0xFF);
    assert_int_equal(in(r, GPE + 4, 1), 0xFF);
    /* a word read across PM1_STS and PM1_EN */
    x86_acpi_pm_raise(&r->pm, X86_ACPI_PM1_PWRBTN);
    out(r, PM1_EN, 2, X86_ACPI_PM1_SLPBTN);
    assert_int_equal(in(r, PM1_STS + 1, 2), 0x0001 | (0x00 << 8));
    assert_int_equal(in(r, PM1_STS + 1, 4), 0x00020001u | ((uint32_t)0x01 << 24)); /* +4 byte */
    rig_destroy(r);
}

/* Without an event queue the status is still computed when read */
static void test_no_event_queue(void **state)
{
    (void)state;
    uint64_t cycles = 0;
    struct x86_acpi_pm pm;
    x86_acpi_pm_init(&pm, NULL, &cycles, 0); /* 0: 1 GHz */
    assert_int_equal(pm.cpu_hz, 1000000000ull);
    struct x86_bus bus;
    assert_true(x86_bus_init(&bus, 4096));
    assert_int_equal(x86_acpi_pm_attach(&pm, &bus, PM, GPE), X86IRQ_OK);
    x86_bus_port_write(&bus, PM1_EN, 2, 1);
    cycles = cycle_of_tick(TOGGLE, 1000000000ull);
    assert_int_equal(x86_bus_port_read(&bus, PM1_STS, 2), 1);
    assert_int_equal(x86_acpi_pm_attach(&pm, &bus, PM, GPE), X86IRQ_ERR_CONFLICT);
    x86_bus_finish(&bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_value_exact),
        cmocka_unit_test(test_timer_wraps_at_24_bits),
        cmocka_unit_test(test_timer_monotonic_reads),
        cmocka_unit_test(test_tmr_sts_timing),
        cmocka_unit_test(test_tmr_en_sci_exact),
        cmocka_unit_test(test_access_at_toggle_cycle),
        cmocka_unit_test(test_pm1_status_write_one_to_clear),
        cmocka_unit_test(test_pm1_enable_and_sci),
        cmocka_unit_test(test_pm1_control),
        cmocka_unit_test(test_sleep_sequence),
        cmocka_unit_test(test_sleep_unwired),
        cmocka_unit_test(test_gpe0),
        cmocka_unit_test(test_odd_accesses),
        cmocka_unit_test(test_no_event_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
