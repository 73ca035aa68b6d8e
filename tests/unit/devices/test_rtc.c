/* Unit tests of src/devices/rtc.c: the MC146818A RTC and CMOS RAM on ports 0x70-0x71, checked
 * at exact cycles. Expected times come from the definition, computed here with 128-bit
 * integers: crystal tick k (32.768 kHz) is at cycle ceil(k * cpu_hz / 32768), the update
 * cycles at power-on are at ticks 32768 j (cycle j * cpu_hz), and a divider released at tick
 * t0 makes its first update at tick t0 + 16384. Dates are computed by counting days, not with
 * the device's algorithm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/rtc.h"
#include "platform/bus.h"
#include "platform/events.h"

__extension__ typedef unsigned __int128 wide;

#define HZ_1GHZ 1000000000ull
#define HZ_2_4GHZ 2400000000ull
#define MAX_EDGES 4096

struct edge { uint64_t cycle; int level; };

struct rig {
    uint64_t cycles;
    uint64_t hz;
    struct x86_event_queue queue;
    struct x86_bus bus;
    struct x86_rtc rtc;
    struct edge edges[MAX_EDGES]; /* IRQ 8 level changes, with their cycles (the last ones) */
    size_t edge_count;
};

static void record_irq(void *opaque, int line, int level)
{
    struct rig *r = opaque;
    assert_int_equal(line, 8);
    r->edges[r->edge_count % MAX_EDGES] = (struct edge){ r->cycles, level };
    r->edge_count++;
}

static struct rig *rig_create(uint64_t hz, int64_t epoch, uint64_t start_cycle)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->cycles = start_cycle;
    r->hz = hz;
    x86_events_init(&r->queue, NULL);
    assert_true(x86_bus_init(&r->bus, 4096));
    x86_rtc_init(&r->rtc, &r->queue, &r->cycles, hz, epoch);
    assert_int_equal(x86_rtc_attach(&r->rtc, &r->bus), X86IRQ_OK);
    r->rtc.irq = (struct x86_irq_wire){ record_irq, r, 8 };
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_bus_finish(&r->bus);
    x86_events_finish(&r->queue);
    free(r);
}

/* the definition, in 128 bits */
static uint64_t cycle_of_tick(uint64_t tick, uint64_t hz)
{
    return (uint64_t)(((wide)tick * hz + 32767) / 32768);
}

static uint64_t tick_by(uint64_t cycle, uint64_t hz)
{
    return (uint64_t)((wide)cycle * 32768 / hz);
}

/* the cycle at which second s after power-on begins (update s) */
static uint64_t second_at(const struct rig *r, uint64_t s) { return cycle_of_tick(32768 * s, r->hz); }

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

static void out8(struct rig *r, uint16_t port, uint8_t value)
{
    x86_bus_port_write(&r->bus, port, 1, value);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
    return (uint8_t)x86_bus_port_read(&r->bus, port, 1);
}

static uint8_t cmos_read(struct rig *r, uint8_t index)
{
    out8(r, 0x70, index);
    return in8(r, 0x71);
}

static void cmos_write(struct rig *r, uint8_t index, uint8_t value)
{
    out8(r, 0x70, index);
    out8(r, 0x71, value);
}

static struct edge last_edge(const struct rig *r)
{
    assert_true(r->edge_count > 0);
    return r->edges[(r->edge_count - 1) % MAX_EDGES];
}

static int line(const struct rig *r)
{
    return r->edge_count ? last_edge(r).level : 0;
}

/* ------------------------------------------------------------------ independent calendar */

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m)
{
    static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Unix seconds of a UTC date (years >= 1970), by counting */
static int64_t unix_time(int64_t y, int mo, int d, int h, int mi, int s)
{
    int64_t days = 0;
    for (int64_t year = 1970; year < y; year++)
        days += leap(year) ? 366 : 365;
    for (int m = 1; m < mo; m++)
        days += month_days(y, m);
    days += d - 1;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

struct date { int year, month, day, hour, minute, second, wday; };

static uint8_t bcd(int v) { return (uint8_t)(((v / 10) << 4) | (v % 10)); }

/* the registers as BCD 24-hour bytes */
static void expect_bcd(struct rig *r, struct date d)
{
    assert_int_equal(cmos_read(r, 0x00), bcd(d.second));
    assert_int_equal(cmos_read(r, 0x02), bcd(d.minute));
    assert_int_equal(cmos_read(r, 0x04), bcd(d.hour));
    if (d.wday)
        assert_int_equal(cmos_read(r, 0x06), bcd(d.wday));
    assert_int_equal(cmos_read(r, 0x07), bcd(d.day));
    assert_int_equal(cmos_read(r, 0x08), bcd(d.month));
    assert_int_equal(cmos_read(r, 0x09), bcd(d.year % 100));
    assert_int_equal(cmos_read(r, 0x32), bcd(d.year / 100));
}

/* ------------------------------------------------------------------ time of day */

static void test_power_on_state(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0); /* 0: the default epoch, 2026-01-01 */
    assert_int_equal(r->rtc.epoch, X86_RTC_DEFAULT_EPOCH);
    assert_int_equal(unix_time(2026, 1, 1, 0, 0, 0), X86_RTC_DEFAULT_EPOCH);
    expect_bcd(r, (struct date){ 2026, 1, 1, 0, 0, 0, 5 }); /* a Thursday: 5 */
    assert_int_equal(cmos_read(r, 0x0A), 0x26);
    assert_int_equal(cmos_read(r, 0x0B), 0x02);
    assert_int_equal(cmos_read(r, 0x0C), 0x00);
    assert_int_equal(cmos_read(r, 0x0D), 0x80);
    assert_int_equal(in8(r, 0x70), 0xFF); /* the index port reads as QEMU's: 0xFF */
    assert_int_equal(r->edge_count, 0);
    rig_destroy(r);
}

/* N seconds of cycles later, at the exact cycle of the update, in BCD */
static void check_elapsed_bcd(uint64_t hz)
{
    struct rig *r = rig_create(hz, 0, 0);
    /* 40 days, 1 h 2 min 3 s: 2026-02-10 01:02:03, a Tuesday (3) */
    uint64_t n = 40 * 86400 + 3723;
    advance_to(r, second_at(r, n) - 1);
    expect_bcd(r, (struct date){ 2026, 2, 10, 1, 2, 2, 3 });
    advance_to(r, second_at(r, n));
    expect_bcd(r, (struct date){ 2026, 2, 10, 1, 2, 3, 3 });
    /* a year and a day on (2027 is not a leap year): 2027-02-11 01:02:03, a Thursday */
    advance_to(r, second_at(r, n + 366 * 86400));
    expect_bcd(r, (struct date){ 2027, 2, 11, 1, 2, 3, 5 });
    rig_destroy(r);
}

static void test_time_after_n_seconds_bcd(void **state)
{
    (void)state;
    check_elapsed_bcd(HZ_1GHZ);
    check_elapsed_bcd(HZ_2_4GHZ);
    check_elapsed_bcd(33333333);
}

static void test_epoch_is_the_time_at_cycle_zero(void **state)
{
    (void)state;
    /* created late: the clock still counts from cycle 0 */
    int64_t epoch = unix_time(2031, 7, 15, 23, 59, 58);
    struct rig *r = rig_create(HZ_1GHZ, epoch, 2500000000ull);
    expect_bcd(r, (struct date){ 2031, 7, 16, 0, 0, 0, 4 }); /* 2031-07-16 is a Wednesday */
    rig_destroy(r);
    /* before 1970: 1969-12-31 23:59:59, a Wednesday */
    r = rig_create(HZ_1GHZ, -1, 0);
    expect_bcd(r, (struct date){ 1969, 12, 31, 23, 59, 59, 4 });
    advance_to(r, HZ_1GHZ);
    expect_bcd(r, (struct date){ 1970, 1, 1, 0, 0, 0, 5 });
    rig_destroy(r);
}

static void test_time_in_binary(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    advance_to(r, 500000000); /* mid-second: the chain keeps its phase */
    cmos_write(r, 0x0B, 0x86); /* SET, binary, 24-hour */
    const uint8_t time[][2] = { { 0x00, 58 }, { 0x02, 59 }, { 0x04, 23 }, { 0x06, 3 },
                                { 0x07, 15 }, { 0x08, 7 }, { 0x09, 31 }, { 0x32, 20 } };
    for (size_t i = 0; i < sizeof(time) / sizeof(time[0]); i++)
        cmos_write(r, time[i][0], time[i][1]);
    advance_to(r, 3 * HZ_1GHZ); /* SET holds the time */
    assert_int_equal(cmos_read(r, 0x00), 58);
    cmos_write(r, 0x0B, 0x06);
    advance_to(r, 4 * HZ_1GHZ - 1);
    assert_int_equal(cmos_read(r, 0x00), 58);
    advance_to(r, 4 * HZ_1GHZ);
    assert_int_equal(cmos_read(r, 0x00), 59);
    advance_to(r, 5 * HZ_1GHZ);
    const uint8_t expected[][2] = { { 0x00, 0 }, { 0x02, 0 }, { 0x04, 0 }, { 0x06, 4 },
                                    { 0x07, 16 }, { 0x08, 7 }, { 0x09, 31 }, { 0x32, 20 } };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        assert_int_equal(cmos_read(r, expected[i][0]), expected[i][1]);
    /* 100000 s later: 1 day 3:46:40 -> 2031-07-17 03:46:40 */
    advance_to(r, 100005 * HZ_1GHZ);
    assert_int_equal(cmos_read(r, 0x00), 40);
    assert_int_equal(cmos_read(r, 0x02), 46);
    assert_int_equal(cmos_read(r, 0x04), 3);
    assert_int_equal(cmos_read(r, 0x07), 17);
    assert_int_equal(cmos_read(r, 0x06), 5);
    rig_destroy(r);
}

static void test_twelve_hour_mode(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, unix_time(2026, 3, 31, 0, 0, 0), 0);
    cmos_write(r, 0x0B, 0x80); /* SET, BCD, 12-hour */
    cmos_write(r, 0x04, 0x91); /* 11 PM */
    cmos_write(r, 0x02, 0x59);
    cmos_write(r, 0x00, 0x59);
    cmos_write(r, 0x0B, 0x00);
    advance_to(r, second_at(r, 1));
    assert_int_equal(cmos_read(r, 0x04), 0x12); /* 12 AM: bit 7 clear */
    assert_int_equal(cmos_read(r, 0x07), 0x01);
    assert_int_equal(cmos_read(r, 0x08), 0x04);
    /* 11:59:59 AM -> 12 PM (0x92) -> 12:59:59 PM -> 1 PM (0x81) */
    cmos_write(r, 0x0B, 0x80);
    cmos_write(r, 0x04, 0x11);
    cmos_write(r, 0x02, 0x59);
    cmos_write(r, 0x00, 0x59);
    cmos_write(r, 0x0B, 0x00);
    advance_to(r, second_at(r, 2));
    assert_int_equal(cmos_read(r, 0x04), 0x92);
    assert_int_equal(cmos_read(r, 0x02), 0x00);
    advance_to(r, second_at(r, 2 + 3600));
    assert_int_equal(cmos_read(r, 0x04), 0x81);
    /* the alarm hour in 12-hour form: 0x81 is 1 PM (0x01 would be 1 AM) */
    cmos_write(r, 0x05, 0x81);
    cmos_write(r, 0x03, 0x00);
    cmos_write(r, 0x01, 0x05);
    assert_int_equal(cmos_read(r, 0x0C) & 0x20, 0);
    advance_to(r, second_at(r, 2 + 3605) - 1);
    assert_int_equal(cmos_read(r, 0x0C) & 0x20, 0);
    advance_to(r, second_at(r, 2 + 3605));
    assert_int_equal(cmos_read(r, 0x0C) & 0x20, 0x20);
    rig_destroy(r);
}

struct rollover { struct date before, after; };

static void test_date_rollovers(void **state)
{
    (void)state;
    static const struct rollover cases[] = {
        { { 2026, 4, 30, 23, 59, 59, 0 }, { 2026, 5, 1, 0, 0, 0, 0 } },
        { { 2026, 12, 31, 23, 59, 59, 0 }, { 2027, 1, 1, 0, 0, 0, 0 } },
        { { 2026, 2, 28, 23, 59, 59, 0 }, { 2026, 3, 1, 0, 0, 0, 0 } },
        { { 2024, 2, 28, 23, 59, 59, 0 }, { 2024, 2, 29, 0, 0, 0, 0 } }, /* leap year */
        { { 2024, 2, 29, 23, 59, 59, 0 }, { 2024, 3, 1, 0, 0, 0, 0 } },
        { { 2099, 12, 31, 23, 59, 59, 0 }, { 2100, 1, 1, 0, 0, 0, 0 } }, /* century 20 -> 21 */
        { { 2100, 2, 28, 23, 59, 59, 0 }, { 2100, 3, 1, 0, 0, 0, 0 } },  /* 2100 is not leap */
        { { 2000, 2, 28, 23, 59, 59, 0 }, { 2000, 2, 29, 0, 0, 0, 0 } },  /* 2000 is */
        { { 9999, 12, 31, 23, 59, 59, 0 }, { 0, 1, 1, 0, 0, 0, 0 } },     /* century 99 wraps */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct date *b = &cases[i].before;
        struct rig *r = rig_create(HZ_2_4GHZ, unix_time(b->year, b->month, b->day, b->hour,
                                                        b->minute, b->second), 0);
        uint8_t wday = cmos_read(r, 0x06);
        advance_to(r, second_at(r, 1) - 1);
        expect_bcd(r, *b);
        advance_to(r, second_at(r, 1));
        expect_bcd(r, cases[i].after);
        assert_int_equal(cmos_read(r, 0x06), wday % 7 + 1);
        rig_destroy(r);
    }
    /* 2100-01-01 is a Friday (6) */
    struct rig *r = rig_create(HZ_1GHZ, unix_time(2100, 1, 1, 12, 0, 0), 0);
    assert_int_equal(cmos_read(r, 0x06), 0x06);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ writing the time */

static void test_write_time_with_set(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    advance_to(r, 10 * HZ_1GHZ + 250000000);
    cmos_write(r, 0x0B, 0x82); /* SET */
    assert_int_equal(cmos_read(r, 0x0A) & 0x80, 0);
    assert_int_equal(cmos_read(r, 0x0C), 0x50); /* the UF and PF of the last 10 s */
    cmos_write(r, 0x09, 0x30);
    cmos_write(r, 0x08, 0x06);
    cmos_write(r, 0x07, 0x30);
    cmos_write(r, 0x04, 0x23);
    cmos_write(r, 0x02, 0x59);
    cmos_write(r, 0x00, 0x50);
    /* the time stands still while SET, UIP stays clear, no UF */
    advance_to(r, 20 * HZ_1GHZ - 1000);
    assert_int_equal(cmos_read(r, 0x0A) & 0x80, 0);
    expect_bcd(r, (struct date){ 2030, 6, 30, 23, 59, 50, 0 });
    assert_int_equal(cmos_read(r, 0x0C), 0x40); /* the periodic flag goes on under SET */
    cmos_write(r, 0x0B, 0x02);
    /* the next update is the chain's next second: 20 s */
    advance_to(r, 20 * HZ_1GHZ - 1);
    expect_bcd(r, (struct date){ 2030, 6, 30, 23, 59, 50, 0 });
    advance_to(r, 20 * HZ_1GHZ);
    expect_bcd(r, (struct date){ 2030, 6, 30, 23, 59, 51, 0 });
    advance_to(r, 29 * HZ_1GHZ);
    expect_bcd(r, (struct date){ 2030, 7, 1, 0, 0, 0, 0 });
    /* UF, PF and AF (the alarm bytes are 00:00:00 since power-on), none enabled: no IRQF */
    assert_int_equal(cmos_read(r, 0x0C), 0x70);
    assert_int_equal(r->edge_count, 0);
    rig_destroy(r);
}

static void test_write_time_while_running(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    advance_to(r, 5 * HZ_1GHZ + 900000000);
    cmos_write(r, 0x02, 0x45); /* minutes, no SET: counting goes on from it */
    assert_int_equal(cmos_read(r, 0x02), 0x45);
    assert_int_equal(cmos_read(r, 0x00), 0x05);
    advance_to(r, 6 * HZ_1GHZ);
    assert_int_equal(cmos_read(r, 0x00), 0x06);
    assert_int_equal(cmos_read(r, 0x02), 0x45);
    advance_to(r, 60 * HZ_1GHZ);
    assert_int_equal(cmos_read(r, 0x00), 0x00);
    assert_int_equal(cmos_read(r, 0x02), 0x46);
    rig_destroy(r);
}

/* Values that are not valid stay as written until their field's next increment, which takes
 * them to the first value with a carry (rtc.c). */
static void test_invalid_values_count_on(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, unix_time(2026, 5, 10, 10, 30, 0), 0);
    cmos_write(r, 0x00, 0x75); /* seconds 75 */
    assert_int_equal(cmos_read(r, 0x00), 0x75);
    advance_to(r, second_at(r, 1));
    assert_int_equal(cmos_read(r, 0x00), 0x00);
    assert_int_equal(cmos_read(r, 0x02), 0x31);
    /* hours 0x99 at 10:31:00 count as 23: shown until the hour ends, then 00 and the next day */
    cmos_write(r, 0x04, 0x99);
    advance_to(r, second_at(r, 1 + 29 * 60 - 1));
    assert_int_equal(cmos_read(r, 0x04), 0x99);
    assert_int_equal(cmos_read(r, 0x02), 0x59);
    assert_int_equal(cmos_read(r, 0x07), 0x10);
    advance_to(r, second_at(r, 1 + 29 * 60));
    assert_int_equal(cmos_read(r, 0x04), 0x00);
    assert_int_equal(cmos_read(r, 0x07), 0x11);
    /* month 0x1A (not BCD) counts as December: shown until day 31 ends, then January, year+1 */
    cmos_write(r, 0x08, 0x1A);
    advance_to(r, second_at(r, 1 + 29 * 60 + 21 * 86400 - 1));
    assert_int_equal(cmos_read(r, 0x08), 0x1A);
    assert_int_equal(cmos_read(r, 0x07), 0x31);
    advance_to(r, second_at(r, 1 + 29 * 60 + 21 * 86400));
    assert_int_equal(cmos_read(r, 0x08), 0x01);
    assert_int_equal(cmos_read(r, 0x07), 0x01);
    assert_int_equal(cmos_read(r, 0x09), 0x27);
    /* changing the data mode converts nothing: BCD 0x27 read as binary is 39 */
    cmos_write(r, 0x0B, 0x06);
    assert_int_equal(cmos_read(r, 0x09), 0x27);
    rig_destroy(r);

    /* century 0xA5 counts as 99 until the year carries; day of week 9 until the day ends */
    r = rig_create(HZ_1GHZ, unix_time(2099, 12, 31, 23, 59, 58), 0);
    cmos_write(r, 0x32, 0xA5);
    cmos_write(r, 0x06, 0x09);
    advance_to(r, second_at(r, 1));
    assert_int_equal(cmos_read(r, 0x32), 0xA5);
    assert_int_equal(cmos_read(r, 0x06), 0x09);
    advance_to(r, second_at(r, 2));
    assert_int_equal(cmos_read(r, 0x32), 0x00);
    assert_int_equal(cmos_read(r, 0x09), 0x00);
    assert_int_equal(cmos_read(r, 0x08), 0x01);
    assert_int_equal(cmos_read(r, 0x06), 0x01);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ UIP */

static void check_uip_window(uint64_t hz)
{
    struct rig *r = rig_create(hz, 0, 0);
    for (uint64_t s = 1; s <= 3; s++) {
        uint64_t begin = cycle_of_tick(32768 * s - 8, hz), update = second_at(r, s);
        advance_to(r, begin - 1);
        assert_int_equal(cmos_read(r, 0x0A), 0x26);
        advance_to(r, begin);
        assert_int_equal(cmos_read(r, 0x0A), 0xA6);
        assert_int_equal(cmos_read(r, 0x00), bcd((int)s - 1));
        advance_to(r, update - 1);
        assert_int_equal(cmos_read(r, 0x0A), 0xA6);
        assert_int_equal(cmos_read(r, 0x00), bcd((int)s - 1));
        advance_to(r, update);
        assert_int_equal(cmos_read(r, 0x0A), 0x26);
        assert_int_equal(cmos_read(r, 0x00), bcd((int)s));
    }
    /* 244 us is 8 crystal ticks: 244140.625 cycles at 1 GHz */
    if (hz == HZ_1GHZ)
        assert_int_equal(second_at(r, 1) - cycle_of_tick(32768 - 8, hz), 244140);
    rig_destroy(r);
}

static void test_uip_window_exact(void **state)
{
    (void)state;
    check_uip_window(HZ_1GHZ);
    check_uip_window(HZ_2_4GHZ);
}

/* Linux 6.1 mc146818_avoid_UIP + mc146818_get_time: seconds, UIP (udelay(100) and retry if
 * set), seconds again, then the fields, century (FADT 0x32), control, UIP and seconds again;
 * up to 10 tries. Each port access costs 1 us here, as on an ISA bus. */
struct linux_reader { struct rig *r; unsigned tries; };

static uint8_t linux_cmos_read(struct linux_reader *l, uint8_t index)
{
    uint64_t us = l->r->hz / 1000000;
    advance_to(l->r, l->r->cycles + us);
    out8(l->r, 0x70, index);
    advance_to(l->r, l->r->cycles + us);
    return in8(l->r, 0x71);
}

static int bcd2bin(uint8_t v) { return (v & 15) + (v >> 4) * 10; }

static int64_t linux_get_time(struct linux_reader *l)
{
    for (l->tries = 1; l->tries <= 10; l->tries++) {
        uint8_t seconds = linux_cmos_read(l, 0x00);
        if (linux_cmos_read(l, 0x0A) & 0x80) {
            advance_to(l->r, l->r->cycles + l->r->hz / 10000); /* udelay(100) */
            continue;
        }
        if (seconds != linux_cmos_read(l, 0x00))
            continue;
        uint8_t minutes = linux_cmos_read(l, 0x02), hours = linux_cmos_read(l, 0x04);
        uint8_t day = linux_cmos_read(l, 0x07), month = linux_cmos_read(l, 0x08);
        uint8_t year = linux_cmos_read(l, 0x09), century = linux_cmos_read(l, 0x32);
        uint8_t control = linux_cmos_read(l, 0x0B);
        if (linux_cmos_read(l, 0x0A) & 0x80) {
            advance_to(l->r, l->r->cycles + l->r->hz / 10000);
            continue;
        }
        if (seconds != linux_cmos_read(l, 0x00))
            continue;
        assert_int_equal(control & 0x06, 0x02); /* BCD, 24-hour: what rtc-cmos requires */
        return unix_time(bcd2bin(century) * 100 + bcd2bin(year), bcd2bin(month), bcd2bin(day),
                         bcd2bin(hours), bcd2bin(minutes), bcd2bin(seconds));
    }
    return -1;
}

static void test_linux_read_sequence(void **state)
{
    (void)state;
    const uint64_t hzs[] = { HZ_1GHZ, HZ_2_4GHZ };
    int64_t epoch = unix_time(2026, 12, 31, 23, 59, 55);
    /* start before, inside and after the UIP window of second 5 (the new year), mid-second */
    const int64_t offsets_us[] = { -300, -245, -244, -200, -10, -1, 0, 1, 500000 };
    for (size_t h = 0; h < 2; h++) {
        for (size_t i = 0; i < sizeof(offsets_us) / sizeof(offsets_us[0]); i++) {
            struct rig *r = rig_create(hzs[h], epoch, 0);
            struct linux_reader l = { r, 0 };
            int64_t us = (int64_t)(hzs[h] / 1000000);
            advance_to(r, (uint64_t)((int64_t)second_at(r, 5) + offsets_us[i] * us));
            int64_t t = linux_get_time(&l);
            assert_true(l.tries <= 10);
            /* every field comes from the second in which the last seconds read happened */
            int64_t expected = epoch + (int64_t)(tick_by(r->cycles, r->hz) / 32768);
            assert_int_equal(t, expected);
            if (offsets_us[i] >= -245 && offsets_us[i] <= -10)
                assert_true(l.tries >= 2); /* it met UIP and waited */
            else
                assert_int_equal(l.tries, 1);
            rig_destroy(r);
        }
    }
}

/* ------------------------------------------------------------------ periodic interrupt */

/* PIE at rate rs: IRQ 8 rises at tick k * period for every k after the enable, and the handler
 * (reading C at the same cycle) lowers it. */
static void check_periodic(uint64_t hz, uint8_t rs, unsigned period_ticks, uint64_t enable_at,
                           unsigned count)
{
    struct rig *r = rig_create(hz, 0, 0);
    advance_to(r, enable_at);
    cmos_write(r, 0x0A, (uint8_t)(0x20 | rs));
    cmos_read(r, 0x0C); /* PF is set by the edges so far, enabled or not */
    cmos_write(r, 0x0B, 0x42); /* PIE */
    uint64_t k = tick_by(enable_at, hz) / period_ticks + 1;
    for (unsigned i = 0; i < count; i++, k++) {
        uint64_t expected = cycle_of_tick(k * period_ticks, hz);
        assert_int_equal(x86_events_next_cycle(&r->queue), expected);
        advance_to(r, expected - 1);
        assert_int_equal(line(r), 0);
        advance_to(r, expected);
        assert_int_equal(line(r), 1);
        assert_int_equal(last_edge(r).cycle, expected);
        assert_int_equal(cmos_read(r, 0x0C) & 0xC0, 0xC0); /* IRQF, PF */
        assert_int_equal(line(r), 0);
        assert_int_equal(cmos_read(r, 0x0C), 0x00);
    }
    assert_int_equal(r->edge_count, 2 * count);
    rig_destroy(r);
}

static void test_periodic_edges_exact(void **state)
{
    (void)state;
    check_periodic(HZ_1GHZ, 6, 32, 12345, 3000);        /* 1024 Hz: 976.5625 us */
    check_periodic(HZ_2_4GHZ, 6, 32, 777777, 3000);
    check_periodic(HZ_1GHZ, 15, 16384, 3, 8);           /* 2 Hz */
    check_periodic(HZ_2_4GHZ, 15, 16384, 1234567891, 8);
    check_periodic(HZ_1GHZ, 3, 4, 999, 5000);           /* 8192 Hz: 122.07 us */
    check_periodic(HZ_2_4GHZ, 1, 128, 5, 600);          /* RS 1: 256 Hz with 32.768 kHz */
    check_periodic(HZ_1GHZ, 2, 256, 5, 300);            /* RS 2: 128 Hz */
    check_periodic(1193182, 6, 32, 5, 200);             /* a slow CPU */
}

static void test_periodic_no_drift(void **state)
{
    (void)state;
    /* 1024 Hz for 10 s at 2.4 GHz: edge 10240 is at exactly 10 * 2.4e9 cycles */
    struct rig *r = rig_create(HZ_2_4GHZ, 0, 0);
    cmos_write(r, 0x0B, 0x42);
    uint64_t edges = 0, last = 0;
    while (r->cycles < 10 * HZ_2_4GHZ) {
        advance_to(r, x86_events_next_cycle(&r->queue));
        assert_int_equal(cmos_read(r, 0x0C) & 0x40, 0x40);
        last = r->cycles;
        edges++;
    }
    assert_int_equal(edges, 10240);
    assert_int_equal(last, 10 * HZ_2_4GHZ);
    rig_destroy(r);
}

static void test_irq_level_and_register_c(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    cmos_write(r, 0x0A, 0x2F); /* 2 Hz */
    cmos_write(r, 0x0B, 0x42);
    advance_to(r, 500000000);
    assert_int_equal(line(r), 1);
    /* level: it stays high over later periods until C is read; no events meanwhile */
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    advance_to(r, 2600000000ull);
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(line(r), 1);
    assert_int_equal(cmos_read(r, 0x0C), 0xD0); /* IRQF, PF and UF (not enabled) */
    assert_int_equal(line(r), 0);
    assert_int_equal(cmos_read(r, 0x0C), 0x00);
    assert_int_equal(x86_events_next_cycle(&r->queue), 3000000000ull);
    advance_to(r, 3000000000ull);
    assert_int_equal(line(r), 1);
    /* clearing PIE with PF set drops IRQF and the line; PF stays */
    cmos_write(r, 0x0B, 0x02);
    assert_int_equal(line(r), 0);
    cmos_write(r, 0x0B, 0x42); /* enabling with PF set raises it at once */
    assert_int_equal(line(r), 1);
    assert_int_equal(last_edge(r).cycle, 3000000000ull);
    cmos_write(r, 0x0B, 0x02);
    assert_int_equal(cmos_read(r, 0x0C), 0x50); /* PF, UF without IRQF */
    assert_int_equal(line(r), 0);
    /* C and D are read-only */
    cmos_write(r, 0x0C, 0xFF);
    cmos_write(r, 0x0D, 0x00);
    assert_int_equal(cmos_read(r, 0x0C), 0x00);
    assert_int_equal(cmos_read(r, 0x0D), 0x80);
    assert_int_equal(line(r), 0);
    assert_int_equal(x86_rtc_irq_level(&r->rtc), 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ update and alarm */

static void test_update_ended_each_second(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_2_4GHZ, 0, 0);
    cmos_write(r, 0x0A, 0x20); /* no periodic rate: PF stays clear */
    advance_to(r, 1234567);
    cmos_write(r, 0x0B, 0x12); /* UIE */
    for (uint64_t s = 1; s <= 5; s++) {
        assert_int_equal(x86_events_next_cycle(&r->queue), second_at(r, s));
        advance_to(r, second_at(r, s) - 1);
        assert_int_equal(line(r), 0);
        advance_to(r, second_at(r, s));
        assert_int_equal(line(r), 1);
        assert_int_equal(cmos_read(r, 0x00), bcd((int)s)); /* the new time is there */
        assert_int_equal(cmos_read(r, 0x0C), 0x90);
        assert_int_equal(line(r), 0);
    }
    /* SET clears UIE; with SET, no updates and no UF */
    cmos_write(r, 0x0B, 0x92);
    assert_int_equal(cmos_read(r, 0x0B), 0x82);
    advance_to(r, second_at(r, 8));
    assert_int_equal(cmos_read(r, 0x0C), 0x00);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    rig_destroy(r);
}

static void test_alarm(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, unix_time(2026, 6, 1, 8, 0, 0), 0);
    cmos_write(r, 0x0A, 0x20);
    /* 08:01:40, 100 s on */
    cmos_write(r, 0x05, 0x08);
    cmos_write(r, 0x03, 0x01);
    cmos_write(r, 0x01, 0x40);
    cmos_write(r, 0x0B, 0x22); /* AIE */
    assert_int_equal(x86_events_next_cycle(&r->queue), second_at(r, 100));
    advance_to(r, second_at(r, 100) - 1);
    assert_int_equal(line(r), 0);
    advance_to(r, second_at(r, 100));
    assert_int_equal(line(r), 1);
    assert_int_equal(r->edges[0].cycle, second_at(r, 100));
    assert_int_equal(cmos_read(r, 0x0C), 0xB0); /* IRQF, AF, UF */
    /* the next match is a day later */
    assert_int_equal(x86_events_next_cycle(&r->queue), second_at(r, 100 + 86400));
    /* seconds don't care: every second of 08:05 */
    cmos_write(r, 0x03, 0x05);
    cmos_write(r, 0x01, 0xC0);
    assert_int_equal(x86_events_next_cycle(&r->queue), second_at(r, 300));
    for (uint64_t s = 300; s < 303; s++) {
        advance_to(r, second_at(r, s));
        assert_int_equal(line(r), 1);
        assert_int_equal(cmos_read(r, 0x0C), 0xB0);
    }
    advance_to(r, second_at(r, 359));
    assert_int_equal(line(r), 1);
    assert_int_equal(cmos_read(r, 0x0C), 0xB0);
    assert_int_equal(x86_events_next_cycle(&r->queue), second_at(r, 300 + 86400));
    /* hours and minutes don't care, second 30: at :30 of every minute */
    cmos_write(r, 0x05, 0xFF);
    cmos_write(r, 0x03, 0xC3);
    cmos_write(r, 0x01, 0x30);
    assert_int_equal(x86_events_next_cycle(&r->queue), second_at(r, 390));
    advance_to(r, second_at(r, 390));
    assert_int_equal(cmos_read(r, 0x0C), 0xB0);
    assert_int_equal(x86_events_next_cycle(&r->queue), second_at(r, 450));
    /* an alarm value no time takes never fires */
    cmos_write(r, 0x01, 0x60);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    rig_destroy(r);
}

static void test_alarm_flag_polled(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, unix_time(2026, 6, 1, 23, 59, 0), 0);
    cmos_write(r, 0x0A, 0x20);
    cmos_write(r, 0x05, 0x00);
    cmos_write(r, 0x03, 0x00);
    cmos_write(r, 0x01, 0x10); /* 00:00:10 tomorrow, 70 s on */
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX); /* AIE off: no events */
    advance_to(r, second_at(r, 69));
    assert_int_equal(cmos_read(r, 0x0C), 0x10);
    advance_to(r, second_at(r, 70));
    assert_int_equal(cmos_read(r, 0x0C), 0x30); /* AF and UF, no IRQF */
    /* the match is seen even when many updates pass between reads */
    advance_to(r, second_at(r, 70 + 86400 + 5000));
    assert_int_equal(cmos_read(r, 0x0C), 0x30);
    advance_to(r, second_at(r, 70 + 2 * 86400 - 1));
    assert_int_equal(cmos_read(r, 0x0C), 0x10);
    assert_int_equal(r->edge_count, 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ divider */

static void test_divider_reset_then_half_second(void **state)
{
    (void)state;
    const uint64_t hzs[] = { HZ_1GHZ, HZ_2_4GHZ };
    for (size_t h = 0; h < 2; h++) {
        uint64_t hz = hzs[h];
        struct rig *r = rig_create(hz, unix_time(2026, 1, 1, 0, 0, 0), 0);
        cmos_write(r, 0x0A, 0x20); /* no periodic rate */
        cmos_write(r, 0x0B, 0x12); /* UIE */
        advance_to(r, 3 * hz + 123456789);
        assert_int_equal(cmos_read(r, 0x0C), 0x90);
        /* Linux's mc146818_set_time: SET, A | RTC_DIV_RESET2 (0x70), the fields, B and A back */
        cmos_write(r, 0x0B, 0x92);
        cmos_write(r, 0x0A, 0x70);
        cmos_write(r, 0x00, 0x30);
        cmos_write(r, 0x0B, 0x12); /* UIE again, SET clear: the held divider still holds */
        advance_to(r, 7 * hz);
        assert_int_equal(cmos_read(r, 0x00), 0x30); /* time stands still */
        assert_int_equal(cmos_read(r, 0x0A), 0x70); /* no UIP */
        assert_int_equal(cmos_read(r, 0x0C), 0x00); /* no UF */
        assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
        uint64_t release = 7 * hz + 1001;
        advance_to(r, release);
        cmos_write(r, 0x0A, 0x20);
        uint64_t t0 = tick_by(release, hz);
        if (cycle_of_tick(t0, hz) < release)
            t0++;
        uint64_t first = cycle_of_tick(t0 + 16384, hz);
        assert_int_equal(x86_events_next_cycle(&r->queue), first);
        advance_to(r, cycle_of_tick(t0 + 16384 - 8, hz) - 1);
        assert_int_equal(cmos_read(r, 0x0A), 0x20);
        advance_to(r, cycle_of_tick(t0 + 16384 - 8, hz));
        assert_int_equal(cmos_read(r, 0x0A), 0xA0);
        advance_to(r, first - 1);
        assert_int_equal(cmos_read(r, 0x00), 0x30);
        assert_int_equal(line(r), 0);
        advance_to(r, first);
        assert_int_equal(line(r), 1);
        assert_int_equal(last_edge(r).cycle, first);
        assert_int_equal(cmos_read(r, 0x00), 0x31);
        assert_int_equal(cmos_read(r, 0x0C), 0x90);
        uint64_t second = cycle_of_tick(t0 + 16384 + 32768, hz);
        assert_int_equal(x86_events_next_cycle(&r->queue), second);
        advance_to(r, second);
        assert_int_equal(cmos_read(r, 0x00), 0x32);
        /* periodic edges count from the release too: the first one period after it */
        cmos_write(r, 0x0B, 0x02);
        cmos_write(r, 0x0A, 0x70);
        uint64_t release2 = r->cycles + 777;
        advance_to(r, release2);
        cmos_write(r, 0x0A, 0x2A); /* 64 Hz: 512 ticks */
        assert_int_equal(cmos_read(r, 0x0C), 0x10); /* the UF of second */
        cmos_write(r, 0x0B, 0x42);
        t0 = tick_by(release2, hz);
        if (cycle_of_tick(t0, hz) < release2)
            t0++;
        assert_int_equal(x86_events_next_cycle(&r->queue), cycle_of_tick(t0 + 512, hz));
        advance_to(r, cycle_of_tick(t0 + 512, hz));
        assert_int_equal(line(r), 1);
        assert_int_equal(cmos_read(r, 0x0C), 0xC0);
        assert_int_equal(x86_events_next_cycle(&r->queue), cycle_of_tick(t0 + 1024, hz));
        rig_destroy(r);
    }
}

/* ------------------------------------------------------------------ events */

static void test_no_events_when_nothing_enabled(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    for (uint64_t ms = 0; ms < 5000; ms += 7) {
        advance_to(r, ms * 1000000);
        cmos_read(r, 0x00);
        cmos_read(r, 0x0A);
        cmos_read(r, 0x0C);
        assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    }
    /* a periodic rate and flags set, nothing enabled: nothing scheduled */
    cmos_write(r, 0x0A, 0x23);
    cmos_write(r, 0x01, 0xC0);
    cmos_write(r, 0x03, 0xC0);
    cmos_write(r, 0x05, 0xC0);
    advance_to(r, 9 * HZ_1GHZ);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    assert_int_equal(cmos_read(r, 0x0C), 0x70); /* PF AF UF all set by polling */
    /* enabling then disabling leaves nothing pending */
    cmos_write(r, 0x0B, 0x72);
    assert_true(x86_events_next_cycle(&r->queue) != UINT64_MAX);
    cmos_write(r, 0x0B, 0x02);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    assert_int_equal(r->queue.count, 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ NVRAM and ports */

static void test_nvram_round_trip(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    for (unsigned i = 0x0E; i < 0x80; i++)
        if (i != 0x32)
            cmos_write(r, (uint8_t)i, (uint8_t)(i * 37 + 11));
    advance_to(r, 3 * HZ_1GHZ);
    for (unsigned i = 0x0E; i < 0x80; i++)
        if (i != 0x32)
            assert_int_equal(cmos_read(r, (uint8_t)i), (uint8_t)(i * 37 + 11));
    /* index bit 7 is the NMI mask; the index wraps to 7 bits */
    out8(r, 0x70, 0x80 | 0x40);
    assert_true(r->rtc.nmi_masked);
    assert_int_equal(r->rtc.index, 0x40);
    assert_int_equal(in8(r, 0x71), (uint8_t)(0x40 * 37 + 11));
    out8(r, 0x70, 0x40);
    assert_false(r->rtc.nmi_masked);
    assert_int_equal(in8(r, 0x70), 0xFF);
    /* wider accesses are byte accesses at 0x70, 0x71, then nothing */
    x86_bus_port_write(&r->bus, 0x70, 2, 0x5A50);  /* index 0x50, data 0x5A */
    assert_int_equal(cmos_read(r, 0x50), 0x5A);
    assert_int_equal(x86_bus_port_read(&r->bus, 0x70, 2), 0x5AFF);
    assert_int_equal(x86_bus_port_read(&r->bus, 0x71, 4), 0xFFFFFF5A);
    assert_int_equal(x86_bus_port_read(&r->bus, 0x71, 2), 0xFF5A);
    x86_bus_port_write(&r->bus, 0x71, 4, 0x12345666); /* data 0x66; the rest goes nowhere */
    assert_int_equal(cmos_read(r, 0x50), 0x66);
    assert_int_equal(x86_rtc_read(&r->rtc, 5, 1), 0xFF);
    x86_rtc_write(&r->rtc, 5, 1, 0);
    x86_rtc_write(&r->rtc, 0, 8, UINT64_MAX);
    assert_int_equal(r->rtc.index, 0x7F);
    rig_destroy(r);
}

static void test_bios_nvram(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    cmos_write(r, 0x0F, 0x0A);
    x86_rtc_set_bios_nvram(&r->rtc, 128ull << 20, 1);
    const uint8_t small[][2] = {
        { 0x0F, 0x00 }, { 0x10, 0x00 }, { 0x14, 0x06 }, { 0x15, 0x80 }, { 0x16, 0x02 },
        { 0x17, 0xFF }, { 0x18, 0xFF }, { 0x30, 0xFF }, { 0x31, 0xFF },
        { 0x34, 0x00 }, { 0x35, 0x07 },  /* (128 - 16) MiB / 64 KiB = 1792 */
        { 0x5B, 0x00 }, { 0x5C, 0x00 }, { 0x5D, 0x00 }, { 0x5F, 0x00 }, { 0x32, 0x20 },
    };
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++)
        assert_int_equal(cmos_read(r, small[i][0]), small[i][1]);
    x86_rtc_set_bios_nvram(&r->rtc, 5ull << 30, 4);
    const uint8_t big[][2] = {
        { 0x15, 0x80 }, { 0x16, 0x02 }, { 0x17, 0xFF }, { 0x18, 0xFF }, { 0x30, 0xFF },
        { 0x31, 0xFF },
        { 0x34, 0x00 }, { 0x35, 0xBF },                   /* 3 GiB below: (3072-16) * 16 */
        { 0x5B, 0x00 }, { 0x5C, 0x80 }, { 0x5D, 0x00 },   /* 2 GiB above / 64 KiB = 0x8000 */
        { 0x5F, 0x03 }, { 0x14, 0x06 }, { 0x32, 0x20 },
    };
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
        assert_int_equal(cmos_read(r, big[i][0]), big[i][1]);
    /* a small machine: 4 MiB: extended 3072 KiB, nothing above 16 MiB */
    x86_rtc_set_bios_nvram(&r->rtc, 4ull << 20, 2);
    assert_int_equal(cmos_read(r, 0x17), 0x00);
    assert_int_equal(cmos_read(r, 0x18), 0x0C);
    assert_int_equal(cmos_read(r, 0x34), 0x00);
    assert_int_equal(cmos_read(r, 0x35), 0x00);
    assert_int_equal(cmos_read(r, 0x5F), 0x01);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ garbage */

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0, 0);
    /* every register, every value, each followed by reads of the clock and status */
    for (unsigned index = 0; index < 0x100; index++) {
        for (unsigned value = 0; value < 0x100; value++) {
            cmos_write(r, (uint8_t)index, (uint8_t)value);
            advance_to(r, r->cycles + 3331);
            cmos_read(r, 0x00);
            cmos_read(r, 0x0A);
            cmos_read(r, 0x0C);
        }
        cmos_write(r, 0x0B, 0x72); /* everything enabled for the next register's values */
        cmos_write(r, 0x0A, 0x23);
        advance_to(r, r->cycles + 1500000001ull);
        assert_true(r->queue.count <= 4);
    }
    /* random accesses of every size at both ports, with time passing */
    uint64_t seed = 12345;
    for (unsigned i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned sizes[] = { 1, 2, 4, 8 };
        unsigned size = sizes[(seed >> 20) & 3];
        uint64_t offset = (seed >> 24) & 1;
        uint64_t value = seed >> 13;
        if ((seed >> 30) & 1)
            x86_rtc_write(&r->rtc, offset, size, value);
        else
            x86_rtc_read(&r->rtc, offset, size);
        if (((seed >> 40) & 63) == 0)
            advance_to(r, r->cycles + ((seed >> 8) & 0x3FFFFFFFFull));
        else
            advance_to(r, r->cycles + ((seed >> 50) & 0xFFFF));
        assert_true(r->queue.count <= 8);
    }
    /* the clock still counts once set sanely */
    cmos_write(r, 0x0A, 0x26);
    cmos_write(r, 0x0B, 0x82);
    cmos_write(r, 0x00, 0x00);
    cmos_write(r, 0x0B, 0x02);
    assert_int_equal(cmos_read(r, 0x00), 0x00);
    advance_to(r, r->cycles + 3 * HZ_1GHZ);
    assert_int_equal(cmos_read(r, 0x00), 0x03); /* three updates in any 3 s */
    rig_destroy(r);
}

/* a far cycle: the conversions need more than 64 bits of product, and many years pass */
static void test_far_future(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_2_4GHZ, unix_time(2026, 1, 1, 0, 0, 0), 0);
    uint64_t seconds = unix_time(2126, 3, 4, 5, 6, 7) - unix_time(2026, 1, 1, 0, 0, 0);
    advance_to(r, second_at(r, seconds));
    expect_bcd(r, (struct date){ 2126, 3, 4, 5, 6, 7, 0 });
    rig_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_on_state),
        cmocka_unit_test(test_time_after_n_seconds_bcd),
        cmocka_unit_test(test_epoch_is_the_time_at_cycle_zero),
        cmocka_unit_test(test_time_in_binary),
        cmocka_unit_test(test_twelve_hour_mode),
        cmocka_unit_test(test_date_rollovers),
        cmocka_unit_test(test_write_time_with_set),
        cmocka_unit_test(test_write_time_while_running),
        cmocka_unit_test(test_invalid_values_count_on),
        cmocka_unit_test(test_uip_window_exact),
        cmocka_unit_test(test_linux_read_sequence),
        cmocka_unit_test(test_periodic_edges_exact),
        cmocka_unit_test(test_periodic_no_drift),
        cmocka_unit_test(test_irq_level_and_register_c),
        cmocka_unit_test(test_update_ended_each_second),
        cmocka_unit_test(test_alarm),
        cmocka_unit_test(test_alarm_flag_polled),
        cmocka_unit_test(test_divider_reset_then_half_second),
        cmocka_unit_test(test_no_events_when_nothing_enabled),
        cmocka_unit_test(test_nvram_round_trip),
        cmocka_unit_test(test_bios_nvram),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_far_future),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
