/* ACPI fixed hardware: PM1a event and control blocks, the PM timer and GPE0 (see acpi_pm.h).
 *
 * Register map (ACPI 6.4 4.8.3), offsets from pm_base: 0 PM1_STS (16 bits), 2 PM1_EN (16),
 * 4 PM1_CNT (16), 6-7 reserved (read 0), 8 PM_TMR (32, 24-bit value); from gpe0_base: 0 GPE0_STS
 * (16), 2 GPE0_EN (16). An access of any size is taken byte by byte as the chipset's decoder
 * does (ACPICA uses 16-bit accesses for the PM1 registers, 32-bit ones for the timer and byte
 * accesses for GPE registers): a byte read returns that byte of its register, a byte write
 * changes only that byte. Bytes past the end of a block belong to other ports (all ones).
 *
 * The timer is a function of the cycle count, ticks(c) = floor(c * 315e6 / (88 * cpu_hz)),
 * computed exactly from the absolute count. TMR_STS is set at each toggle of bit 23, i.e. at
 * every tick that is a multiple of 2^23; it is computed when read, from the number of toggles
 * since it was last cleared. Only while TMR_EN is set (the status would raise the SCI) is an
 * event scheduled at the exact cycle of the next toggle.
 */
#include "devices/acpi_pm.h"

#include <string.h>

#define PM_BLOCK_SIZE 12u
#define GPE0_BLOCK_SIZE 4u
#define TIMER_MASK 0xFFFFFFu
#define TIMER_STATUS_SHIFT 23 /* TMR_STS: "set when the MSB (bit 23) of the timer toggles" */

/* The status bits with an enable at the same position: they (and only they) raise the SCI */
#define PM1_SCI_SOURCES \
    (X86_ACPI_PM1_TMR | X86_ACPI_PM1_GBL | X86_ACPI_PM1_PWRBTN | X86_ACPI_PM1_SLPBTN | \
     X86_ACPI_PM1_RTC)
/* Status bits this chipset implements; the others are reserved and read 0 */
#define PM1_STATUS_BITS (PM1_SCI_SOURCES | X86_ACPI_PM1_BM_STS | X86_ACPI_PM1_WAK_STS)
#define PM1_ENABLE_BITS PM1_SCI_SOURCES
/* Control bits kept as written; SCI_EN is read-only 1, GBL_RLS and SLP_EN are write-only */
#define PM1_CONTROL_STORED (X86_ACPI_PM1_BM_RLD | X86_ACPI_PM1_SLP_TYP_MASK)

/* ------------------------------------------------------------------ exact time conversion */

/* a * b as a 128-bit number in two 64-bit halves */
static void multiply_wide(uint64_t a, uint64_t b, uint64_t *high, uint64_t *low)
{
    uint64_t a_low = (uint32_t)a, a_high = a >> 32;
    uint64_t b_low = (uint32_t)b, b_high = b >> 32;
    uint64_t low_low = a_low * b_low, low_high = a_low * b_high;
    uint64_t high_low = a_high * b_low, high_high = a_high * b_high;
    uint64_t middle = (low_low >> 32) + (uint32_t)low_high + (uint32_t)high_low;
    *low = (middle << 32) | (uint32_t)low_low;
    *high = high_high + (low_high >> 32) + (high_low >> 32) + (middle >> 32);
}

/* floor((high:low) / divisor) and its remainder; UINT64_MAX when the quotient does not fit */
static uint64_t divide_wide(uint64_t high, uint64_t low, uint64_t divisor, uint64_t *remainder)
{
    if (high == 0) {
        *remainder = low % divisor;
        return low / divisor;
    }
    if (high >= divisor) {
        *remainder = 0;
        return UINT64_MAX;
    }
    /* restoring division a bit at a time; the partial remainder stays below 2 * divisor, so
     * the bit shifted out of it means "at least divisor" */
    uint64_t partial = high, quotient = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t carry = partial >> 63;
        partial = (partial << 1) | ((low >> bit) & 1u);
        quotient <<= 1;
        if (carry || partial >= divisor) {
            partial -= divisor;
            quotient |= 1;
        }
    }
    *remainder = partial;
    return quotient;
}

static uint64_t greatest_common_divisor(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

uint64_t x86_acpi_pm_tick_at_cycle(const struct x86_acpi_pm *pm, uint64_t cycle)
{
    uint64_t high, low, remainder;
    multiply_wide(cycle, pm->clock_numerator, &high, &low);
    return divide_wide(high, low, pm->clock_denominator, &remainder);
}

uint64_t x86_acpi_pm_cycle_at_tick(const struct x86_acpi_pm *pm, uint64_t tick)
{
    uint64_t high, low, remainder;
    multiply_wide(tick, pm->clock_denominator, &high, &low);
    uint64_t cycle = divide_wide(high, low, pm->clock_numerator, &remainder);
    if (cycle == UINT64_MAX)
        return UINT64_MAX;
    return cycle + (remainder != 0); /* the first cycle at or after the tick */
}

static uint64_t now_tick(const struct x86_acpi_pm *pm)
{
    return x86_acpi_pm_tick_at_cycle(pm, pm->cycles ? *pm->cycles : 0);
}

uint32_t x86_acpi_pm_timer(const struct x86_acpi_pm *pm)
{
    return (uint32_t)(now_tick(pm) & TIMER_MASK);
}

/* ------------------------------------------------------------------ status and the SCI */

static bool timer_status(const struct x86_acpi_pm *pm, uint64_t tick)
{
    return pm->timer_status_latched || (tick >> TIMER_STATUS_SHIFT) != pm->timer_period;
}

static uint16_t pm1_status_now(const struct x86_acpi_pm *pm, uint64_t tick)
{
    return (uint16_t)(pm->pm1_status | (timer_status(pm, tick) ? X86_ACPI_PM1_TMR : 0));
}

void x86_acpi_pm_timer_event(void *context, void *opaque);

/* Give sci its level and keep one event at the next bit-23 toggle while TMR_EN waits for it */
static void update(struct x86_acpi_pm *pm)
{
    uint64_t tick = now_tick(pm);
    uint16_t status = pm1_status_now(pm, tick);
    int level = ((status & pm->pm1_enable & PM1_SCI_SOURCES) != 0) ||
                ((pm->gpe0_status & pm->gpe0_enable) != 0);
    if (level != pm->sci_level) {
        pm->sci_level = level;
        x86_irq_wire_set(&pm->sci, level);
    }
    if (!pm->events)
        return;
    bool wanted = (pm->pm1_enable & X86_ACPI_PM1_TMR) && !(status & X86_ACPI_PM1_TMR);
    if (pm->event_id && (!wanted || pm->event_period != pm->timer_period)) {
        x86_events_cancel(pm->events, pm->event_id);
        pm->event_id = 0;
    }
    if (!wanted || pm->event_id)
        return;
    if (pm->timer_period >= (UINT64_MAX >> TIMER_STATUS_SHIFT))
        return; /* beyond the representable future */
    uint64_t toggle = (pm->timer_period + 1) << TIMER_STATUS_SHIFT;
    uint64_t cycle = x86_acpi_pm_cycle_at_tick(pm, toggle);
    if (cycle == UINT64_MAX)
        return;
    pm->event_period = pm->timer_period;
    pm->event_id = x86_events_schedule(pm->events, cycle, x86_acpi_pm_timer_event, pm);
}

void x86_acpi_pm_timer_event(void *context, void *opaque)
{
    (void)context;
    struct x86_acpi_pm *pm = opaque;
    pm->event_id = 0;
    /* the toggle is due: TMR_STS is set even if "now" lags the event's cycle */
    pm->timer_status_latched = true;
    update(pm);
}

void x86_acpi_pm_raise(struct x86_acpi_pm *pm, uint16_t pm1_status_bits)
{
    pm->pm1_status |= (uint16_t)(pm1_status_bits & PM1_STATUS_BITS & ~X86_ACPI_PM1_TMR);
    update(pm);
}

void x86_acpi_pm_raise_gpe(struct x86_acpi_pm *pm, unsigned gpe)
{
    if (gpe >= X86_ACPI_GPE0_COUNT)
        return;
    pm->gpe0_status |= (uint16_t)(1u << gpe);
    update(pm);
}

/* ------------------------------------------------------------------ registers as data */

/* A register's value now, and a write of value to the bytes selected by mask */
typedef uint32_t (*register_read_fn)(struct x86_acpi_pm *pm);
typedef void (*register_write_fn)(struct x86_acpi_pm *pm, uint32_t value, uint32_t mask);

struct register_desc {
    uint8_t offset, width;
    register_read_fn read;
    register_write_fn write; /* NULL: read-only */
};

static uint32_t read_pm1_status(struct x86_acpi_pm *pm)
{
    return pm1_status_now(pm, now_tick(pm));
}

/* Write-1-to-clear (4.8.3.1.1); a 1 written to TMR_STS restarts the count of toggles */
static void write_pm1_status(struct x86_acpi_pm *pm, uint32_t value, uint32_t mask)
{
    uint32_t clear = value & mask;
    pm->pm1_status &= (uint16_t)~clear;
    if (clear & X86_ACPI_PM1_TMR) {
        pm->timer_period = now_tick(pm) >> TIMER_STATUS_SHIFT;
        pm->timer_status_latched = false;
    }
}

static uint32_t read_pm1_enable(struct x86_acpi_pm *pm)
{
    return pm->pm1_enable;
}

static void write_pm1_enable(struct x86_acpi_pm *pm, uint32_t value, uint32_t mask)
{
    mask &= PM1_ENABLE_BITS;
    pm->pm1_enable = (uint16_t)((pm->pm1_enable & ~mask) | (value & mask));
}

static uint32_t read_pm1_control(struct x86_acpi_pm *pm)
{
    /* no SMI_CMD in the FADT: the machine is always in ACPI mode, SCI_EN reads 1 */
    return pm->pm1_control | X86_ACPI_PM1_SCI_EN;
}

static void write_pm1_control(struct x86_acpi_pm *pm, uint32_t value, uint32_t mask)
{
    uint32_t stored = mask & PM1_CONTROL_STORED;
    pm->pm1_control = (uint16_t)((pm->pm1_control & ~stored) | (value & stored));
    /* GBL_RLS would raise an SMI for the BIOS's global lock: there is no BIOS, it is dropped.
     * SLP_EN is handled by the caller after the SCI update (sleep() may reset the machine) */
}

static uint32_t read_timer(struct x86_acpi_pm *pm)
{
    return x86_acpi_pm_timer(pm); /* TMR_VAL_EXT clear: bits 31:24 read 0 */
}

static uint32_t read_gpe0_status(struct x86_acpi_pm *pm)
{
    return pm->gpe0_status;
}

static void write_gpe0_status(struct x86_acpi_pm *pm, uint32_t value, uint32_t mask)
{
    pm->gpe0_status &= (uint16_t)~(value & mask);
}

static uint32_t read_gpe0_enable(struct x86_acpi_pm *pm)
{
    return pm->gpe0_enable;
}

static void write_gpe0_enable(struct x86_acpi_pm *pm, uint32_t value, uint32_t mask)
{
    pm->gpe0_enable = (uint16_t)((pm->gpe0_enable & ~mask) | (value & mask));
}

#define PM1_CONTROL_OFFSET 4u

static const struct register_desc pm_registers[] = {
    { 0, 2, read_pm1_status, write_pm1_status },
    { 2, 2, read_pm1_enable, write_pm1_enable },
    { PM1_CONTROL_OFFSET, 2, read_pm1_control, write_pm1_control },
    { 8, 4, read_timer, NULL },
};

static const struct register_desc gpe0_registers[] = {
    { 0, 2, read_gpe0_status, write_gpe0_status },
    { 2, 2, read_gpe0_enable, write_gpe0_enable },
};

static const struct register_desc *find_register(const struct register_desc *table, size_t count,
                                                 uint64_t offset)
{
    for (size_t i = 0; i < count; i++)
        if (offset >= table[i].offset && offset < (uint64_t)table[i].offset + table[i].width)
            return &table[i];
    return NULL;
}

static uint64_t block_read(struct x86_acpi_pm *pm, const struct register_desc *table,
                           size_t count, uint64_t block_size, uint64_t offset, unsigned size)
{
    uint64_t result = 0;
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint64_t at = offset + i;
        uint8_t byte;
        if (at >= block_size) {
            byte = 0xFF; /* another port: unclaimed here */
        } else {
            const struct register_desc *reg = find_register(table, count, at);
            byte = reg ? (uint8_t)(reg->read(pm) >> (8 * (at - reg->offset))) : 0; /* reserved */
        }
        result |= (uint64_t)byte << (8 * i);
    }
    return result;
}

/* Gather the bytes of the access that fall in each register and write them together, so a
 * 16-bit write is one register write and a byte write changes only its byte */
static void block_write(struct x86_acpi_pm *pm, const struct register_desc *table, size_t count,
                        uint64_t block_size, uint64_t offset, unsigned size, uint64_t value)
{
    for (size_t r = 0; r < count; r++) {
        const struct register_desc *reg = &table[r];
        if (!reg->write)
            continue;
        uint32_t bits = 0, mask = 0;
        for (unsigned i = 0; i < size && i < 8; i++) {
            uint64_t at = offset + i;
            if (at >= block_size || at < reg->offset || at >= (uint64_t)reg->offset + reg->width)
                continue;
            unsigned shift = 8u * (unsigned)(at - reg->offset);
            bits |= (uint32_t)((value >> (8 * i)) & 0xFF) << shift;
            mask |= 0xFFu << shift;
        }
        if (mask)
            reg->write(pm, bits, mask);
    }
}

static uint64_t pm_block_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_acpi_pm *pm = opaque;
    return block_read(pm, pm_registers, sizeof(pm_registers) / sizeof(pm_registers[0]),
                      PM_BLOCK_SIZE, offset, size);
}

static void pm_block_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_acpi_pm *pm = opaque;
    block_write(pm, pm_registers, sizeof(pm_registers) / sizeof(pm_registers[0]), PM_BLOCK_SIZE,
                offset, size, value);
    update(pm);
    /* SLP_EN (bit 13, in the control register's second byte) starts the sleep in the state
     * SLP_TYP names (4.8.3.2.1); writing SLP_TYP alone only stores it */
    uint64_t slp_en_byte = PM1_CONTROL_OFFSET + 1;
    if (offset <= slp_en_byte && slp_en_byte < offset + size && size <= 8) {
        uint8_t byte = (uint8_t)(value >> (8 * (slp_en_byte - offset)));
        if (byte & (X86_ACPI_PM1_SLP_EN >> 8)) {
            unsigned slp_typ = (pm->pm1_control & X86_ACPI_PM1_SLP_TYP_MASK) >>
                               X86_ACPI_PM1_SLP_TYP_SHIFT;
            if (pm->sleep)
                pm->sleep(pm->opaque, slp_typ); /* last: the board may power off or reset */
        }
    }
}

static uint64_t gpe0_block_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_acpi_pm *pm = opaque;
    return block_read(pm, gpe0_registers, sizeof(gpe0_registers) / sizeof(gpe0_registers[0]),
                      GPE0_BLOCK_SIZE, offset, size);
}

static void gpe0_block_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_acpi_pm *pm = opaque;
    block_write(pm, gpe0_registers, sizeof(gpe0_registers) / sizeof(gpe0_registers[0]),
                GPE0_BLOCK_SIZE, offset, size, value);
    update(pm);
}

/* ------------------------------------------------------------------ setup */

static void power_on_registers(struct x86_acpi_pm *pm)
{
    pm->pm1_status = 0;
    pm->pm1_enable = 0;
    pm->pm1_control = 0;
    pm->gpe0_status = 0;
    pm->gpe0_enable = 0;
    pm->timer_period = now_tick(pm) >> TIMER_STATUS_SHIFT;
    pm->timer_status_latched = false;
}

void x86_acpi_pm_init(struct x86_acpi_pm *pm, struct x86_event_queue *events,
                      const uint64_t *cycles, uint64_t cpu_hz)
{
    memset(pm, 0, sizeof(*pm));
    pm->events = events;
    pm->cycles = cycles;
    if (cpu_hz == 0)
        cpu_hz = 1000000000ull;
    if (cpu_hz > UINT64_MAX / 11) /* 88 / gcd(315e6, 88) = 11 must fit in the denominator */
        cpu_hz = UINT64_MAX / 11;
    pm->cpu_hz = cpu_hz;
    /* ticks per cycle = 315e6 / (88 * cpu_hz), reduced so the products stay small */
    uint64_t numerator = X86_ACPI_PM_TIMER_NUMERATOR;
    uint64_t denominator_factor = X86_ACPI_PM_TIMER_DENOMINATOR;
    uint64_t common = greatest_common_divisor(numerator, denominator_factor);
    numerator /= common;
    denominator_factor /= common;
    common = greatest_common_divisor(numerator, cpu_hz);
    pm->clock_numerator = numerator / common;
    pm->clock_denominator = denominator_factor * (cpu_hz / common);
    power_on_registers(pm);
}

void x86_acpi_pm_reset(struct x86_acpi_pm *pm)
{
    if (pm->event_id && pm->events)
        x86_events_cancel(pm->events, pm->event_id);
    pm->event_id = 0;
    power_on_registers(pm);
    update(pm);
}

x86irq_status x86_acpi_pm_attach(struct x86_acpi_pm *pm, struct x86_bus *bus, uint16_t pm_base,
                                 uint16_t gpe0_base)
{
    x86irq_status status = x86_bus_add_ports(bus, pm_base, PM_BLOCK_SIZE, pm_block_read,
                                             pm_block_write, pm, "acpi-pm");
    if (status != X86IRQ_OK)
        return status;
    return x86_bus_add_ports(bus, gpe0_base, GPE0_BLOCK_SIZE, gpe0_block_read, gpe0_block_write,
                             pm, "acpi-gpe0");
}
