/* Unit tests of src/devices/pit8254.c: the 8254 timer on ports 0x40-0x43 and 0x61, checked at
 * exact cycles. Expected times come from the definition, computed here with 128-bit integers
 * independently of the device's reduced fractions: PIT edge k is at cycle
 * ceil(k * 88 * cpu_hz / 105e6) and cycle c has seen floor(c * 105e6 / (88 * cpu_hz)) edges.
 * A count written at cycle c is loaded into the counting element at edge L = edges(c) + 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pit8254.h"
#include "platform/bus.h"
#include "platform/events.h"

__extension__ typedef unsigned __int128 wide;

#define HZ_1GHZ 1000000000ull
#define MAX_EDGES 8192

struct edge { uint64_t cycle; int level; };

struct rig {
    uint64_t cycles;
    uint64_t hz;
    struct x86_event_queue queue;
    struct x86_bus bus;
    struct x86_pit pit;
    struct edge edges[MAX_EDGES]; /* IRQ0 level changes, with the cycle they happened at */
    size_t edge_count;
};

static void record_irq(void *opaque, int line, int level)
{
    struct rig *r = opaque;
    assert_int_equal(line, 0);
    assert_true(r->edge_count < MAX_EDGES);
    r->edges[r->edge_count++] = (struct edge){ r->cycles, level };
}

static struct rig *rig_create(uint64_t hz, uint64_t start_cycle)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->cycles = start_cycle;
    r->hz = hz;
    x86_events_init(&r->queue, NULL);
    assert_true(x86_bus_init(&r->bus, 4096));
    x86_pit_init(&r->pit, &r->queue, &r->cycles, hz);
    assert_int_equal(x86_pit_attach(&r->pit, &r->bus), X86IRQ_OK);
    r->pit.irq0 = (struct x86_irq_wire){ record_irq, r, 0 };
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_bus_finish(&r->bus);
    x86_events_finish(&r->queue);
    free(r);
}

/* the definition, in 128 bits */
static uint64_t edges_by(uint64_t cycle, uint64_t hz)
{
    return (uint64_t)((wide)cycle * 105000000u / ((wide)88 * hz));
}

static uint64_t cycle_of_edge(uint64_t tick, uint64_t hz)
{
    wide scaled = (wide)tick * 88 * hz;
    return (uint64_t)((scaled + 105000000u - 1) / 105000000u);
}

static uint64_t at(const struct rig *r, uint64_t tick) { return cycle_of_edge(tick, r->hz); }

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

/* a two-byte count, both bytes at the current cycle; returns L, the edge that loads it */
static uint64_t write_count(struct rig *r, unsigned channel, uint16_t count)
{
    out8(r, (uint16_t)(0x40 + channel), (uint8_t)count);
    out8(r, (uint16_t)(0x40 + channel), (uint8_t)(count >> 8));
    return edges_by(r->cycles, r->hz) + 1;
}

static uint16_t read_count(struct rig *r, unsigned channel)
{
    uint8_t low = in8(r, (uint16_t)(0x40 + channel));
    uint8_t high = in8(r, (uint16_t)(0x40 + channel));
    return (uint16_t)(low | (high << 8));
}

/* the count and port 0x61 bit 5 at edge tick (at the first cycle of that edge) */
static uint16_t count_at(struct rig *r, unsigned channel, uint64_t tick)
{
    advance_to(r, at(r, tick));
    return read_count(r, channel);
}

static int out2_at(struct rig *r, uint64_t tick)
{
    advance_to(r, at(r, tick));
    return (in8(r, 0x61) >> 5) & 1;
}

static uint8_t status_of(struct rig *r, unsigned channel)
{
    out8(r, 0x43, (uint8_t)(0xC0 | 0x20 | (0x02 << channel))); /* read-back: status only */
    return in8(r, (uint16_t)(0x40 + channel));
}

/* ------------------------------------------------------------------ periodic IRQ0 */

/* Mode 2 on channel 0: OUT low for the one clock at which the CE reaches 1, so IRQ0 falls at
 * L + kN - 1 and rises at L + kN, for every k, at the exact cycles of those edges. */
static void check_rate_generator(uint64_t hz, uint64_t start, uint16_t count, unsigned periods)
{
    struct rig *r = rig_create(hz, start);
    out8(r, 0x43, 0x34); /* counter 0, LSB then MSB, mode 2, binary */
    assert_int_equal(r->edge_count, 1); /* OUT high after the control word */
    assert_int_equal(r->edges[0].cycle, start);
    assert_int_equal(r->edges[0].level, 1);
    advance_to(r, start + 7777);
    uint64_t load = write_count(r, 0, count);
    uint64_t n = count ? count : 65536;
    uint64_t end = at(r, load + periods * n);
    advance_to(r, end);
    /* every edge due by end, in order (several may share a cycle when the CPU is slower
     * than the PIT) */
    size_t seen = 1;
    uint64_t k = 1;
    for (;; k++) {
        uint64_t fall = at(r, load + k * n - 1), rise = at(r, load + k * n);
        if (fall > end)
            break;
        assert_true(seen < r->edge_count);
        assert_int_equal(r->edges[seen].level, 0);
        assert_int_equal(r->edges[seen].cycle, fall);
        seen++;
        if (rise > end)
            break;
        assert_true(seen < r->edge_count);
        assert_int_equal(r->edges[seen].level, 1);
        assert_int_equal(r->edges[seen].cycle, rise);
        seen++;
    }
    assert_true(k >= periods);
    assert_int_equal(r->edge_count, seen);
    rig_destroy(r);
}

static void test_mode2_periodic_irq0_1ghz(void **state)
{
    (void)state;
    check_rate_generator(HZ_1GHZ, 12345, 1193, 2000);
    /* no drift: 1000 periods of 1193 clocks are 1000 * 1193 * 88e9 / 105e6 =
     * 999,847,619.05 cycles, whatever the phase of the first edge */
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x34);
    uint64_t load = write_count(r, 0, 1193);
    advance_to(r, at(r, load + 1001 * 1193ull));
    uint64_t first = r->edges[2].cycle, thousandth = r->edges[2 * 1001].cycle;
    assert_true(thousandth - first == 999847619u || thousandth - first == 999847620u);
    rig_destroy(r);
}

static void test_mode2_other_clocks(void **state)
{
    (void)state;
    check_rate_generator(3000000000ull, 999, 1193, 1000);
    check_rate_generator(1193182, 5, 1193, 1000);  /* a CPU barely faster than the PIT */
    check_rate_generator(1193182, 5, 2, 1000);     /* the shortest legal period */
    check_rate_generator(33333333, 0, 11932, 300);
    /* far into the run: the conversions need more than 64 bits of product */
    check_rate_generator(HZ_1GHZ, (1ull << 62) + 3, 1193, 500);
    check_rate_generator(3000000000ull, UINT64_MAX / 2, 100, 500);
    /* a CPU slower than the PIT: a one-clock low pulse can begin and end within one cycle,
     * and IRQ0 still sees both edges */
    check_rate_generator(1000000, 0, 2, 1000);
    check_rate_generator(1000000, 77, 1193, 100);
}

/* Mode 3 on channel 0: high for ceil(N/2) clocks from each reload, low for floor(N/2) */
static void check_square_wave(uint64_t hz, uint16_t count, unsigned periods)
{
    struct rig *r = rig_create(hz, 100);
    out8(r, 0x43, 0x36); /* counter 0, LSB then MSB, mode 3 */
    uint64_t load = write_count(r, 0, count);
    uint64_t n = count ? count : 65536, high = n - n / 2;
    advance_to(r, at(r, load + periods * n + 1) - 1);
    assert_true(at(r, load + periods * n + 1) > at(r, load + periods * n));
    assert_int_equal(r->edge_count, 1 + 2 * (size_t)periods);
    for (unsigned k = 0; k < periods; k++) {
        const struct edge *fall = &r->edges[2 * k + 1], *rise = &r->edges[2 * k + 2];
        assert_int_equal(fall->level, 0);
        assert_int_equal(fall->cycle, at(r, load + k * n + high));
        assert_int_equal(rise->level, 1);
        assert_int_equal(rise->cycle, at(r, load + (k + 1) * n));
    }
    rig_destroy(r);
}

static void test_mode3_square_wave_irq0(void **state)
{
    (void)state;
    check_square_wave(HZ_1GHZ, 1193, 2000); /* odd: 597 clocks high, 596 low */
    check_square_wave(HZ_1GHZ, 1000, 1000); /* even: 500 and 500 */
    check_square_wave(3000000000ull, 0, 20); /* 0 is 65536 */
    check_square_wave(1193182, 3, 1000);     /* odd and tiny: 2 high, 1 low */
}

/* Mode 3 counts: even counts step N, N-2, ..., 2 in each half; odd counts load N-1, reach 0
 * at the end of the high half and 2 at the end of the low half (datasheet "Mode 3") */
static void test_mode3_count_sequence(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x36);
    uint64_t load = write_count(r, 0, 7);
    static const uint16_t odd[] = { 6, 4, 2, 0, 6, 4, 2, 6, 4, 2, 0, 6 };
    for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        assert_int_equal(count_at(r, 0, load + i), odd[i]);
    out8(r, 0x43, 0x36);
    load = write_count(r, 0, 6);
    static const uint16_t even[] = { 6, 4, 2, 6, 4, 2, 6 };
    for (unsigned i = 0; i < sizeof(even) / sizeof(even[0]); i++)
        assert_int_equal(count_at(r, 0, load + i), even[i]);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ one-shots */

static void test_mode0_terminal_count(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 1000);
    out8(r, 0x43, 0x30); /* counter 0, LSB then MSB, mode 0: OUT low, as it already is */
    assert_int_equal(r->edge_count, 0);
    advance_to(r, 5000);
    uint64_t load = write_count(r, 0, 100);
    /* before the load the CE still holds its old content and null count is set */
    advance_to(r, at(r, load) - 1);
    assert_int_equal(read_count(r, 0), 0);
    assert_int_equal(status_of(r, 0) & 0xC0, 0x40);
    assert_int_equal(count_at(r, 0, load), 100);
    assert_int_equal(status_of(r, 0) & 0xC0, 0x00);
    assert_int_equal(count_at(r, 0, load + 36), 64);
    advance_to(r, at(r, load + 100) - 1);
    assert_int_equal(read_count(r, 0), 1);
    assert_int_equal(r->edge_count, 0);
    /* OUT rises when the CE reaches 0: N + 1 clocks after the count was written */
    assert_int_equal(count_at(r, 0, load + 100), 0);
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].cycle, at(r, load + 100));
    assert_int_equal(r->edges[0].level, 1);
    assert_int_equal(status_of(r, 0) & 0x80, 0x80);
    /* the CE goes on counting (wrapping) and OUT stays high */
    assert_int_equal(count_at(r, 0, load + 101), 0xFFFF);
    assert_int_equal(count_at(r, 0, load + 100 + 65536), 0);
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    /* a new count sets OUT low again at once */
    load = write_count(r, 0, 10);
    assert_int_equal(r->edge_count, 2);
    assert_int_equal(r->edges[1].level, 0);
    advance_to(r, at(r, load + 20));
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[2].cycle, at(r, load + 10));
    rig_destroy(r);
}

static void test_mode0_two_byte_write_stops_counting(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x30);
    uint64_t load = write_count(r, 0, 50);
    advance_to(r, at(r, load + 60));
    assert_int_equal(r->edge_count, 1); /* high at load + 50 */
    out8(r, 0x40, 0x20);                /* first byte: counting stops, OUT low at once */
    assert_int_equal(r->edge_count, 2);
    assert_int_equal(r->edges[1].cycle, r->cycles);
    uint16_t frozen = read_count(r, 0);
    advance_to(r, at(r, load + 5000));
    assert_int_equal(read_count(r, 0), frozen);
    out8(r, 0x40, 0x00);                /* second byte: count 0x0020 loads on the next clock */
    load = edges_by(r->cycles, r->hz) + 1;
    advance_to(r, at(r, load + 40));
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[2].cycle, at(r, load + 32));
    rig_destroy(r);
}

/* Mode 0 on channel 2: GATE low (port 0x61 bit 0) holds the count and postpones OUT */
static void test_mode0_gate_pauses(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0xB0); /* counter 2, LSB then MSB, mode 0 */
    uint64_t load = write_count(r, 2, 100);
    assert_int_equal(count_at(r, 2, load + 500), 100); /* loaded, GATE low: not counting */
    assert_int_equal(in8(r, 0x61) & 0x20, 0);
    out8(r, 0x61, 0x01);
    uint64_t resume = edges_by(r->cycles, r->hz);
    assert_int_equal(count_at(r, 2, resume + 30), 70);
    out8(r, 0x61, 0x00);
    assert_int_equal(count_at(r, 2, resume + 3000), 70);
    assert_int_equal(out2_at(r, resume + 3001), 0);
    out8(r, 0x61, 0x01);
    resume = edges_by(r->cycles, r->hz);
    assert_int_equal(out2_at(r, resume + 69), 0);
    assert_int_equal(read_count(r, 2), 1);
    assert_int_equal(out2_at(r, resume + 70), 1);
    assert_int_equal(read_count(r, 2), 0);
    rig_destroy(r);
}

/* Mode 1: a GATE rising edge loads the count on the next clock; OUT low for N clocks;
 * retriggering restarts the count and stretches the pulse */
static void test_mode1_gate_triggered_one_shot(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0xB2); /* counter 2, LSB then MSB, mode 1 */
    write_count(r, 2, 50);
    assert_int_equal(out2_at(r, 1000), 1); /* OUT high: waiting for a trigger */
    assert_int_equal(status_of(r, 2) & 0x40, 0x40); /* null count until the trigger loads */
    advance_to(r, 1000000);
    out8(r, 0x61, 0x01);
    uint64_t trigger = edges_by(r->cycles, r->hz);
    assert_int_equal((in8(r, 0x61) >> 5) & 1, 1); /* not before the next clock */
    assert_int_equal(out2_at(r, trigger + 1), 0);
    assert_int_equal(read_count(r, 2), 50);
    assert_int_equal(status_of(r, 2) & 0x40, 0);
    assert_int_equal(out2_at(r, trigger + 50), 0);
    assert_int_equal(read_count(r, 2), 1);
    assert_int_equal(out2_at(r, trigger + 51), 1);
    assert_int_equal(read_count(r, 2), 0);
    /* GATE level does not matter in mode 1, only rising edges */
    out8(r, 0x61, 0x00);
    out8(r, 0x61, 0x01);
    trigger = edges_by(r->cycles, r->hz);
    advance_to(r, at(r, trigger + 20));
    out8(r, 0x61, 0x00);
    assert_int_equal(out2_at(r, trigger + 30), 0);
    out8(r, 0x61, 0x01); /* retrigger mid-pulse */
    uint64_t retrigger = edges_by(r->cycles, r->hz);
    assert_int_equal(out2_at(r, trigger + 51), 0);
    assert_int_equal(out2_at(r, retrigger + 50), 0);
    assert_int_equal(out2_at(r, retrigger + 51), 1);
    rig_destroy(r);
}

/* Mode 5: a GATE rising edge starts the count; OUT strobes low one clock at N+1 clocks */
static void test_mode5_gate_triggered_strobe(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0xBA); /* counter 2, LSB then MSB, mode 5 */
    write_count(r, 2, 30);
    advance_to(r, 50000);
    out8(r, 0x61, 0x01);
    uint64_t trigger = edges_by(r->cycles, r->hz);
    for (uint64_t t = trigger + 1; t < trigger + 40; t++)
        assert_int_equal(out2_at(r, t), t == trigger + 31 ? 0 : 1);
    assert_int_equal(out2_at(r, trigger + 31 + 65536), 1); /* one strobe per trigger */
    rig_destroy(r);
}

/* Mode 4 on channel 0: OUT strobes low for one clock N+1 clocks after the count is written */
static void test_mode4_software_strobe(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x38); /* counter 0, LSB then MSB, mode 4 */
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].level, 1);
    advance_to(r, 3333);
    uint64_t load = write_count(r, 0, 40);
    advance_to(r, at(r, load + 3 * 65536));
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[1].cycle, at(r, load + 40));
    assert_int_equal(r->edges[1].level, 0);
    assert_int_equal(r->edges[2].cycle, at(r, load + 41));
    assert_int_equal(r->edges[2].level, 1);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ reading */

static void test_counter_latch(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x34);
    uint64_t load = write_count(r, 0, 10000);
    advance_to(r, at(r, load + 1234));
    out8(r, 0x43, 0x00); /* latch counter 0 */
    advance_to(r, at(r, load + 2000));
    out8(r, 0x43, 0x00); /* a second latch before the first is read is ignored */
    assert_int_equal(in8(r, 0x40), (10000 - 1234) & 0xFF);
    advance_to(r, at(r, load + 3000));
    assert_int_equal(in8(r, 0x40), (10000 - 1234) >> 8);
    /* read out: the next reads follow the CE again */
    assert_int_equal(read_count(r, 0), 10000 - 3000);
    rig_destroy(r);
}

static void test_byte_access_and_flip_flops(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    /* counter 2 with GATE low, mode 0: the count loads and holds, so reads are steady */
    out8(r, 0x43, 0xB0);
    uint64_t load = write_count(r, 2, 0x1234);
    advance_to(r, at(r, load));
    assert_int_equal(in8(r, 0x42), 0x34);
    assert_int_equal(in8(r, 0x42), 0x12);
    assert_int_equal(in8(r, 0x42), 0x34);
    /* reads and writes have separate flip-flops: read LSB, write LSB, read MSB, write MSB */
    out8(r, 0x42, 0x78);
    assert_int_equal(in8(r, 0x42), 0x12);
    out8(r, 0x42, 0x56);
    advance_to(r, at(r, load + 2));
    assert_int_equal(read_count(r, 2), 0x5678);
    /* a control word resets both flip-flops */
    (void)in8(r, 0x42);
    out8(r, 0x42, 0x11);
    out8(r, 0x43, 0xB0);
    load = write_count(r, 2, 0xABCD);
    advance_to(r, at(r, load));
    assert_int_equal(read_count(r, 2), 0xABCD);
    /* LSB only: writes set the low byte (high 0), reads give the low byte */
    out8(r, 0x43, 0x90);
    out8(r, 0x42, 0x56);
    advance_to(r, at(r, load + 2));
    assert_int_equal(in8(r, 0x42), 0x56);
    assert_int_equal(in8(r, 0x42), 0x56);
    /* MSB only */
    out8(r, 0x43, 0xA0);
    out8(r, 0x42, 0x56);
    advance_to(r, at(r, load + 4));
    assert_int_equal(in8(r, 0x42), 0x56);
    assert_int_equal(in8(r, 0x43), 0xFF); /* the control register cannot be read */
    /* a 16-bit access reaches two consecutive ports, as on the ISA bus */
    x86_bus_port_write(&r->bus, 0x42, 2, 0x9977);
    assert_int_equal(x86_bus_port_read(&r->bus, 0x42, 2) >> 8, 0xFF);
    rig_destroy(r);
}

static void test_read_back(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0xB0);
    /* status: OUT 0, null count 1, RW 3, mode 0, binary */
    assert_int_equal(status_of(r, 2), 0x70);
    uint64_t load = write_count(r, 2, 0x10);
    assert_int_equal(status_of(r, 2), 0x70); /* not in the CE before the next clock */
    advance_to(r, at(r, load));
    assert_int_equal(status_of(r, 2), 0x30);
    /* count and status of counters 0 and 2: status first, then the count */
    out8(r, 0x43, 0x34);
    uint64_t load0 = write_count(r, 0, 500);
    advance_to(r, at(r, load0 + 100));
    out8(r, 0x43, 0xC0 | 0x08 | 0x02);
    advance_to(r, at(r, load0 + 200));
    assert_int_equal(in8(r, 0x40), 0xB4); /* OUT high, mode 2 */
    assert_int_equal(read_count(r, 0), 400);
    assert_int_equal(read_count(r, 0), 300); /* released */
    assert_int_equal(in8(r, 0x42), 0x30);
    assert_int_equal(read_count(r, 2), 0x10);
    /* a second status latch before the first is read is ignored */
    out8(r, 0x43, 0xE0 | 0x08);
    out8(r, 0x42, 0x20); /* first byte of a new count: null count */
    out8(r, 0x43, 0xE0 | 0x08);
    assert_int_equal(in8(r, 0x42), 0x30);
    assert_int_equal(status_of(r, 2), 0x70);
    out8(r, 0x43, 0xE0 | 0x08);
    out8(r, 0x43, 0xB2); /* a control word clears a latched status */
    out8(r, 0x43, 0xE0 | 0x08);
    assert_int_equal(in8(r, 0x42), 0xF2); /* mode 1: OUT high, null count */
    /* modes 6 and 7 read back as written and behave as 2 and 3 */
    out8(r, 0x43, 0x3C); /* counter 0, mode 6 */
    assert_int_equal(status_of(r, 0), 0xFC);
    load0 = write_count(r, 0, 4);
    size_t before = r->edge_count;
    advance_to(r, at(r, load0 + 8));
    assert_int_equal(r->edge_count, before + 4);
    assert_int_equal(r->edges[before].cycle, at(r, load0 + 3));
    rig_destroy(r);
}

/* ------------------------------------------------------------------ counts */

static void test_bcd_counting(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x61, 0x01);
    out8(r, 0x43, 0xB5); /* counter 2, mode 2, BCD */
    uint64_t load = write_count(r, 2, 0x0100);
    assert_int_equal(count_at(r, 2, load), 0x0100);
    assert_int_equal(count_at(r, 2, load + 1), 0x0099);
    assert_int_equal(count_at(r, 2, load + 50), 0x0050);
    assert_int_equal(count_at(r, 2, load + 99), 0x0001);
    assert_int_equal(out2_at(r, load + 99), 0);
    assert_int_equal(count_at(r, 2, load + 100), 0x0100);
    assert_int_equal(out2_at(r, load + 100), 1);
    assert_int_equal(status_of(r, 2), 0xB5); /* OUT high, RW 3, mode 2, BCD */
    /* BCD 0 is 10000 */
    out8(r, 0x43, 0xB1); /* mode 0, BCD */
    load = write_count(r, 2, 0);
    assert_int_equal(count_at(r, 2, load), 0x0000);
    assert_int_equal(count_at(r, 2, load + 1), 0x9999);
    assert_int_equal(count_at(r, 2, load + 1234), 0x8766);
    assert_int_equal(out2_at(r, load + 9999), 0);
    assert_int_equal(out2_at(r, load + 10000), 1);
    assert_int_equal(count_at(r, 2, load + 10001), 0x9999);
    rig_destroy(r);
}

static void test_count_zero_is_65536(void **state)
{
    (void)state;
    check_rate_generator(HZ_1GHZ, 0, 0, 3);
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x30);
    uint64_t load = write_count(r, 0, 0);
    assert_int_equal(count_at(r, 0, load), 0);
    assert_int_equal(count_at(r, 0, load + 1), 0xFFFF);
    advance_to(r, at(r, load + 70000));
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].cycle, at(r, load + 65536));
    rig_destroy(r);
}

/* ------------------------------------------------------------------ GATE in modes 2 and 3 */

static void test_mode2_gate(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x61, 0x01);
    out8(r, 0x43, 0xB4); /* counter 2, mode 2 */
    uint64_t load = write_count(r, 2, 10);
    assert_int_equal(out2_at(r, load + 9), 0);
    out8(r, 0x61, 0x00); /* GATE low during the low clock: OUT high at once */
    assert_int_equal((in8(r, 0x61) >> 5) & 1, 1);
    assert_int_equal(count_at(r, 2, load + 500), 1); /* counting stopped */
    out8(r, 0x61, 0x01); /* rising GATE reloads on the next clock */
    uint64_t trigger = edges_by(r->cycles, r->hz);
    assert_int_equal(count_at(r, 2, trigger + 1), 10);
    assert_int_equal(out2_at(r, trigger + 9), 1);
    assert_int_equal(out2_at(r, trigger + 10), 0);
    assert_int_equal(out2_at(r, trigger + 11), 1);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ port 0x61 */

static void test_port61(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    assert_int_equal(in8(r, 0x61) & 0xEF, 0x00);
    out8(r, 0x61, 0xFF);
    assert_int_equal(in8(r, 0x61) & 0xCF, 0x0F); /* bits 0-3 kept, 6-7 read 0 */
    out8(r, 0x61, 0x03);                         /* GATE 2 and the speaker on */
    /* channel 2 as the speaker: mode 3, count 100, bit 5 follows its OUT */
    out8(r, 0x43, 0xB6);
    uint64_t load = write_count(r, 2, 100);
    for (uint64_t t = load; t < load + 300; t += 7)
        assert_int_equal(out2_at(r, t), (t - load) % 100 < 50);
    assert_int_equal(in8(r, 0x61) & 0x0F, 0x03);
    /* bit 4: the refresh request toggles every 18 PIT clocks (15.085 us) */
    for (uint64_t t = 1000; t < 1100; t++) {
        advance_to(r, at(r, t));
        assert_int_equal((in8(r, 0x61) >> 4) & 1, (t / 18) & 1);
        advance_to(r, at(r, t + 1) - 1);
        assert_int_equal((in8(r, 0x61) >> 4) & 1, (t / 18) & 1);
    }
    uint64_t half_period = at(r, 2 * 18) - at(r, 18);
    assert_true(half_period == 15085 || half_period == 15086);
    /* channel 2 OUT never reaches IRQ0 */
    assert_int_equal(r->edge_count, 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ reprogramming */

static void test_reprogramming_cancels_event(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x30);
    uint64_t load = write_count(r, 0, 1000);
    assert_int_equal(x86_events_next_cycle(&r->queue), at(r, load + 1000));
    advance_to(r, at(r, load + 500));
    uint64_t reload = write_count(r, 0, 5000);
    assert_int_equal(x86_events_next_cycle(&r->queue), at(r, reload + 5000));
    advance_to(r, at(r, load + 1000) + 10);
    assert_int_equal(r->edge_count, 0); /* nothing at the old terminal count */
    advance_to(r, at(r, reload + 5000));
    assert_int_equal(r->edge_count, 1);
    assert_int_equal(r->edges[0].cycle, at(r, reload + 5000));
    /* a control word mid-period: mode 2 then mode 0 again leaves no stale edge */
    out8(r, 0x43, 0x34);
    load = write_count(r, 0, 300);
    advance_to(r, at(r, load + 100));
    out8(r, 0x43, 0x30); /* OUT low now, nothing until a count */
    size_t edges = r->edge_count;
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    advance_to(r, at(r, load + 1000));
    assert_int_equal(r->edge_count, edges);
    assert_int_equal(r->edges[edges - 1].level, 0);
    rig_destroy(r);
}

/* Modes 2 and 3: a count written while counting waits for the end of the period (mode 2) or
 * half-cycle (mode 3) */
static void test_new_count_at_cycle_end(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x34);
    uint64_t load = write_count(r, 0, 100);
    advance_to(r, at(r, load + 30));
    write_count(r, 0, 40);
    assert_int_equal(status_of(r, 0) & 0x40, 0x40);
    advance_to(r, at(r, load + 100 + 40) + 1);
    /* edges: control word high, low at L+99, high at L+100, then period 40 */
    assert_int_equal(r->edge_count, 5);
    assert_int_equal(r->edges[1].cycle, at(r, load + 99));
    assert_int_equal(r->edges[2].cycle, at(r, load + 100));
    assert_int_equal(r->edges[3].cycle, at(r, load + 139));
    assert_int_equal(r->edges[4].cycle, at(r, load + 140));
    assert_int_equal(status_of(r, 0) & 0x40, 0);

    struct rig *s = rig_create(HZ_1GHZ, 0);
    out8(s, 0x43, 0x36);
    load = write_count(s, 0, 1000);
    advance_to(s, at(s, load + 200));
    write_count(s, 0, 400);
    advance_to(s, at(s, load + 1500) + 1);
    /* the high half of 1000 ends at L+500; the new count goes on with a low half of 200 */
    static const uint64_t expected[] = { 500, 700, 900, 1100, 1300, 1500 };
    assert_int_equal(s->edge_count, 7);
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(s->edges[i + 1].cycle, at(s, load + expected[i]));
        assert_int_equal(s->edges[i + 1].level, i % 2 ? 1 : 0);
    }
    rig_destroy(s);
    rig_destroy(r);
}

/* GATE of channel 0 (tied high on a PC, but an input of the chip): in mode 3, low stops the
 * square wave with OUT high and cancels the pending IRQ0 edge; rising restarts it */
static void test_channel0_gate_and_irq0(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x36);
    uint64_t load = write_count(r, 0, 100);
    advance_to(r, at(r, load + 60)); /* low half */
    assert_int_equal(r->edge_count, 2);
    assert_false(x86_pit_output(&r->pit, 0));
    x86_pit_set_gate(&r->pit, 0, false);
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[2].cycle, r->cycles);
    assert_int_equal(r->edges[2].level, 1);
    assert_true(x86_pit_output(&r->pit, 0));
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    advance_to(r, at(r, load + 1000));
    x86_pit_set_gate(&r->pit, 0, true);
    uint64_t trigger = edges_by(r->cycles, r->hz);
    advance_to(r, at(r, trigger + 1 + 100));
    assert_int_equal(r->edge_count, 5);
    assert_int_equal(r->edges[3].cycle, at(r, trigger + 1 + 50));
    assert_int_equal(r->edges[4].cycle, at(r, trigger + 1 + 100));
    rig_destroy(r);
}

/* Mode 3 on channel 2: GATE low holds OUT high; port 0x61 bit 5 shows it */
static void test_mode3_gate_on_channel2(void **state)
{
    (void)state;
    struct rig *r = rig_create(3000000000ull, 0);
    out8(r, 0x61, 0x01);
    out8(r, 0x43, 0xB6);
    uint64_t load = write_count(r, 2, 9); /* 5 high, 4 low */
    assert_int_equal(out2_at(r, load + 4), 1);
    assert_int_equal(out2_at(r, load + 5), 0);
    out8(r, 0x61, 0x00);
    assert_int_equal((in8(r, 0x61) >> 5) & 1, 1);
    assert_int_equal(out2_at(r, load + 100), 1);
    out8(r, 0x61, 0x01);
    uint64_t trigger = edges_by(r->cycles, r->hz);
    assert_int_equal(count_at(r, 2, trigger + 1), 8); /* odd counts load N-1 */
    assert_int_equal(out2_at(r, trigger + 5), 1);
    assert_int_equal(out2_at(r, trigger + 6), 0);
    assert_int_equal(out2_at(r, trigger + 10), 1);
    rig_destroy(r);
}

/* A port read that lands past a pending IRQ0 event (the CPU overshooting the event's cycle)
 * does not move the counter: the event still delivers its edges when it runs. */
static void test_read_past_pending_event(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x34);
    uint64_t load = write_count(r, 0, 100);
    advance_to(r, at(r, load + 30));
    write_count(r, 0, 40); /* loads at the end of the period, L + 100 */
    r->cycles = at(r, load + 120); /* without running the events due */
    assert_int_equal(read_count(r, 0), 20);
    assert_int_equal(status_of(r, 0) & 0x40, 0);
    x86_events_run_due(&r->queue, r->cycles);
    assert_int_equal(r->edge_count, 3);
    assert_int_equal(r->edges[1].level, 0);
    assert_int_equal(r->edges[2].level, 1);
    assert_int_equal(x86_events_next_cycle(&r->queue), at(r, load + 139));
    rig_destroy(r);
}

/* An event run far later than its edge (a restored snapshot whose clock is a year ahead, found
 * by the snapshot fuzzer: 2 billion events, 80 s, for one run): the changes in between happen
 * at one instant and are given at once, OUT ending at its level now, with one pulse when it
 * would end where it is, and the next event after now. */
static void check_late_event(uint64_t late_by, int level_now, size_t edges)
{
    struct rig *r = rig_create(HZ_1GHZ, 0);
    out8(r, 0x43, 0x36); /* mode 3: 500 clocks high, 500 low */
    uint64_t load = write_count(r, 0, 1000);
    r->cycles = at(r, load + late_by);
    x86_events_run_due(&r->queue, r->cycles);
    assert_int_equal(r->edge_count, edges);
    for (size_t i = 1; i < edges; i++)
        assert_int_equal(r->edges[i].level, (int)(i & 1) ? 0 : 1);
    assert_int_equal(r->edges[edges - 1].level, level_now);
    assert_int_equal(r->pit.irq0_level, level_now);
    uint64_t half = (late_by / 500 + 1) * 500; /* the next change after now */
    assert_int_equal(x86_events_next_cycle(&r->queue), at(r, load + half));
    rig_destroy(r);
}

static void test_late_event_given_at_once(void **state)
{
    (void)state;
    check_late_event(1000000000100ull, 1, 3); /* in a high half: high, low, high */
    check_late_event(1000000000600ull, 0, 4); /* in a low half: high, low, a pulse high, low */
    check_late_event(700, 0, 2);             /* one change late: as it was */
    check_late_event(1200, 1, 3);            /* two: the fall, then high now */
}

/* The conversions themselves, against the definition */
static void test_time_conversion(void **state)
{
    (void)state;
    static const uint64_t clocks[] = { HZ_1GHZ, 3000000000ull, 1193182, 1, 4772727, 999999937 };
    static const uint64_t cycles[] = { 0, 1, 837, 838, 839, 1000000, 123456789012345ull,
                                       1ull << 62, UINT64_MAX - 1, UINT64_MAX };
    for (unsigned h = 0; h < sizeof(clocks) / sizeof(clocks[0]); h++) {
        uint64_t zero = 0;
        struct x86_pit pit;
        x86_pit_init(&pit, NULL, &zero, clocks[h]);
        for (unsigned c = 0; c < sizeof(cycles) / sizeof(cycles[0]); c++) {
            uint64_t tick = x86_pit_tick_at_cycle(&pit, cycles[c]);
            wide exact_tick = (wide)cycles[c] * 105000000u / ((wide)88 * clocks[h]);
            if (exact_tick > UINT64_MAX) {
                assert_int_equal(tick, UINT64_MAX); /* saturates */
                continue;
            }
            assert_int_equal(tick, (uint64_t)exact_tick);
            uint64_t first = x86_pit_cycle_at_tick(&pit, tick);
            wide exact = ((wide)tick * 88 * clocks[h] + 105000000u - 1) / 105000000u;
            if (exact > UINT64_MAX)
                assert_int_equal(first, UINT64_MAX);
            else
                assert_int_equal(first, (uint64_t)exact);
            assert_true(first <= cycles[c]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_conversion),
        cmocka_unit_test(test_mode2_periodic_irq0_1ghz),
        cmocka_unit_test(test_mode2_other_clocks),
        cmocka_unit_test(test_mode3_square_wave_irq0),
        cmocka_unit_test(test_mode3_count_sequence),
        cmocka_unit_test(test_mode0_terminal_count),
        cmocka_unit_test(test_mode0_two_byte_write_stops_counting),
        cmocka_unit_test(test_mode0_gate_pauses),
        cmocka_unit_test(test_mode1_gate_triggered_one_shot),
        cmocka_unit_test(test_mode5_gate_triggered_strobe),
        cmocka_unit_test(test_mode4_software_strobe),
        cmocka_unit_test(test_counter_latch),
        cmocka_unit_test(test_byte_access_and_flip_flops),
        cmocka_unit_test(test_read_back),
        cmocka_unit_test(test_bcd_counting),
        cmocka_unit_test(test_count_zero_is_65536),
        cmocka_unit_test(test_mode2_gate),
        cmocka_unit_test(test_port61),
        cmocka_unit_test(test_reprogramming_cancels_event),
        cmocka_unit_test(test_new_count_at_cycle_end),
        cmocka_unit_test(test_channel0_gate_and_irq0),
        cmocka_unit_test(test_mode3_gate_on_channel2),
        cmocka_unit_test(test_read_past_pending_event),
        cmocka_unit_test(test_late_event_given_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
