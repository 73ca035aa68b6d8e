/* Motorola MC146818A real-time clock and CMOS RAM (see rtc.h).
 *
 * Time. The chip counts a 32.768 kHz crystal through a divider chain; crystal tick k happens at
 * cycle ceil(k * cpu_hz / 32768) and cycle c has seen floor(c * 32768 / cpu_hz) ticks, both
 * computed exactly (128-bit products of a reduced fraction, always from absolute counts). The
 * chain produces an update cycle every 32768 ticks, at first_update + 32768 j: at power-on
 * first_update is tick 32768 (cycle cpu_hz, the epoch's first second ends), and when the
 * divider leaves reset at tick t0 it is t0 + 16384 ("the first update cycle begins one-half
 * second later", datasheet, DV2-DV0). The periodic taps divide the same chain, so periodic
 * edges are the ticks that are multiples of the period counted from the chain's zero,
 * first_update - 32768: aligned to the second, one period after a divider release.
 *
 * Registers. The time and calendar bytes are the chip's registers as stored bytes, advanced
 * lazily: every access (and every interrupt event) first applies the update cycles that have
 * happened since the last one (sync). Advancing N updates at once is exact: the fields are
 * read as a date and time of day, N seconds are added with calendar arithmetic and the fields
 * written back. A field holding a value that is not valid in the current mode (not BCD, out of
 * range, day 30 in February, ...) is kept as written until its next increment, which takes it
 * to its first value (00, or 01 for day, month and day of week, 12 AM in 12-hour mode) and
 * carries into the next field, as an increment past its last valid value does: for counting,
 * such a field stands for its last valid value (59, 23, the month's last day, December, 99).
 * Changing DM or 24/12 converts nothing (the datasheet asks for the time to be rewritten).
 *
 * Flags. PF, AF and UF are computed on every sync from the edges and updates since the last
 * one, whether or not enabled, so polling register C works with no events at all. Events on
 * the machine's queue are kept only for an enabled flag that is clear: the next periodic edge
 * (PIE), the next update (UIE), the update at which the alarm next matches (AIE).
 */
#include "devices/rtc.h"

#include <string.h>

/* ------------------------------------------------------------------ registers */

#define REG_SECONDS 0x00u
#define REG_SECONDS_ALARM 0x01u
#define REG_MINUTES 0x02u
#define REG_MINUTES_ALARM 0x03u
#define REG_HOURS 0x04u
#define REG_HOURS_ALARM 0x05u
#define REG_DAY_OF_WEEK 0x06u
#define REG_DATE 0x07u
#define REG_MONTH 0x08u
#define REG_YEAR 0x09u
#define REG_A 0x0Au
#define REG_B 0x0Bu
#define REG_C 0x0Cu
#define REG_D 0x0Du
#define REG_CENTURY 0x32u /* the ACPI FADT's CENTURY; NVRAM to the chip, counted here */

#define A_UIP 0x80u
#define A_DIVIDER 0x70u
#define A_DIVIDER_RESET 0x60u /* DV2 DV1 = 11: the chain is held in reset */
#define A_RATE 0x0Fu
#define B_SET 0x80u
#define B_PIE 0x40u
#define B_AIE 0x20u
#define B_UIE 0x10u
#define B_DM 0x04u  /* 1: binary, 0: BCD */
#define B_24H 0x02u /* 1: 24-hour, 0: 12-hour with bit 7 of the hours = PM */
#define C_IRQF 0x80u
#define C_FLAGS 0x70u /* PF AF UF, at the bit positions of PIE AIE UIE in register B */
#define C_PF 0x40u
#define C_AF 0x20u
#define C_UF 0x10u
#define D_VRT 0x80u
#define HOUR_PM 0x80u
#define ALARM_DONT_CARE 0xC0u /* an alarm byte 11xxxxxx matches any value */

#define INDEX_MASK 0x7Fu
#define NMI_MASK_BIT 0x80u

/* ------------------------------------------------------------------ the divider chain */

#define CRYSTAL_HZ 32768u
#define TICKS_PER_UPDATE 32768u
/* UIP rises 244 us (the datasheet's tBUC) before the update: 8 crystal ticks, 244.14 us. The
 * update cycle itself (tUC, 1984 us on the chip) is taken as instantaneous: the new time, UF
 * and AF appear and UIP falls at the update's tick, as QEMU has it. */
#define UIP_TICKS 8u
#define RELEASE_TO_UPDATE_TICKS 16384u

#define NEVER UINT64_MAX

/* Ticks per periodic interrupt by RS3-RS0 (datasheet, Periodic Interrupt Rate table): 0 none,
 * 3-15 give 8192 Hz down to 2 Hz; with a 32.768 kHz time base 1 and 2 give 256 and 128 Hz
 * (the rates of 8 and 9), not 32768 and 16384 Hz. */
static const uint16_t periodic_ticks[16] = {
    0, 128, 256, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
};

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

/* floor((high:low) / divisor) with its remainder; UINT64_MAX when the quotient does not fit */
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

static uint64_t now_cycle(const struct x86_rtc *rtc)
{
    return rtc->cycles ? *rtc->cycles : 0;
}

/* crystal ticks that have happened by cycle */
static uint64_t tick_at_cycle(const struct x86_rtc *rtc, uint64_t cycle)
{
    uint64_t high, low, remainder;
    multiply_wide(cycle, rtc->tick_numerator, &high, &low);
    return divide_wide(high, low, rtc->tick_denominator, &remainder);
}

/* the first cycle at or after tick (saturates at UINT64_MAX) */
static uint64_t cycle_at_tick(const struct x86_rtc *rtc, uint64_t tick)
{
    uint64_t high, low, remainder;
    multiply_wide(tick, rtc->tick_denominator, &high, &low);
    uint64_t cycle = divide_wide(high, low, rtc->tick_numerator, &remainder);
    if (cycle == UINT64_MAX)
        return UINT64_MAX;
    return cycle + (remainder != 0);
}

static bool chain_running(const struct x86_rtc *rtc)
{
    return (rtc->cmos[REG_A] & A_DIVIDER_RESET) != A_DIVIDER_RESET;
}

/* update cycles (since first_update) at ticks <= tick */
static uint64_t updates_by(const struct x86_rtc *rtc, uint64_t tick)
{
    if (tick < rtc->first_update)
        return 0;
    return (tick - rtc->first_update) / TICKS_PER_UPDATE + 1;
}

/* the tick of the first update after tick */
static uint64_t next_update_after(const struct x86_rtc *rtc, uint64_t tick)
{
    return rtc->first_update + TICKS_PER_UPDATE * updates_by(rtc, tick);
}

/* Periodic edges, numbered from the chain's zero (first_update - 32768; every tick the chain
 * has counted is at least 16384 past it, so nothing here goes below zero). */
static uint64_t periodic_edges_by(const struct x86_rtc *rtc, uint64_t tick, unsigned period)
{
    return (tick + TICKS_PER_UPDATE - rtc->first_update) / period;
}

static uint64_t next_periodic_edge_after(const struct x86_rtc *rtc, uint64_t tick,
                                         unsigned period)
{
    return (periodic_edges_by(rtc, tick, period) + 1) * period + rtc->first_update -
           TICKS_PER_UPDATE;
}

static unsigned periodic_period(const struct x86_rtc *rtc)
{
    return periodic_ticks[rtc->cmos[REG_A] & A_RATE];
}

/* ------------------------------------------------------------------ the calendar */

/* The clock's fields, in carry order (day of week beside the date, carrying nowhere). */
enum field { F_SEC, F_MIN, F_HOUR, F_WDAY, F_MDAY, F_MON, F_YEAR, F_CENT, FIELD_COUNT };

static const uint8_t field_register[FIELD_COUNT] = {
    [F_SEC] = REG_SECONDS, [F_MIN] = REG_MINUTES, [F_HOUR] = REG_HOURS,
    [F_WDAY] = REG_DAY_OF_WEEK, [F_MDAY] = REG_DATE, [F_MON] = REG_MONTH,
    [F_YEAR] = REG_YEAR, [F_CENT] = REG_CENTURY,
};

/* valid values (hours as 0-23; the day of the month's last value depends on the month) */
static const struct { uint8_t first, last; } field_range[FIELD_COUNT] = {
    [F_SEC] = { 0, 59 }, [F_MIN] = { 0, 59 }, [F_HOUR] = { 0, 23 }, [F_WDAY] = { 1, 7 },
    [F_MDAY] = { 1, 31 }, [F_MON] = { 1, 12 }, [F_YEAR] = { 0, 99 }, [F_CENT] = { 0, 99 },
};

#define SECONDS_PER_DAY 86400u
/* The Gregorian calendar repeats every 400 years (146097 days, a whole number of weeks);
 * century and year span 10000 years, 25 of those cycles. */
#define DAYS_PER_10000_YEARS 3652425ll
#define SECONDS_PER_10000_YEARS ((uint64_t)DAYS_PER_10000_YEARS * SECONDS_PER_DAY)
#define DAYS_0000_TO_1970 719528ll

struct format {
    bool binary;
    bool hours_24;
};

static struct format current_format(const struct x86_rtc *rtc)
{
    return (struct format){ (rtc->cmos[REG_B] & B_DM) != 0, (rtc->cmos[REG_B] & B_24H) != 0 };
}

static bool decode_number(uint8_t byte, bool binary, unsigned *value)
{
    if (binary) {
        *value = byte;
        return true;
    }
    if ((byte >> 4) > 9 || (byte & 15u) > 9)
        return false;
    *value = (byte >> 4) * 10u + (byte & 15u);
    return true;
}

static uint8_t encode_number(unsigned value, bool binary)
{
    return (uint8_t)(binary ? value : ((value / 10u) << 4) | (value % 10u));
}

/* hours byte -> 0-23; 12-hour mode: 12 AM is 0, 12 PM is 12 */
static bool decode_hour(uint8_t byte, struct format format, unsigned *hour)
{
    if (format.hours_24)
        return decode_number(byte, format.binary, hour) && *hour <= 23;
    unsigned twelve;
    if (!decode_number(byte & (uint8_t)~HOUR_PM, format.binary, &twelve) || twelve < 1 ||
        twelve > 12)
        return false;
    *hour = twelve % 12u + ((byte & HOUR_PM) ? 12u : 0u);
    return true;
}

static uint8_t encode_hour(unsigned hour, struct format format)
{
    if (format.hours_24)
        return encode_number(hour, format.binary);
    unsigned twelve = hour % 12u ? hour % 12u : 12u;
    return (uint8_t)(encode_number(twelve, format.binary) | (hour >= 12 ? HOUR_PM : 0));
}

static bool leap_year(unsigned year)
{
    return (year % 4u == 0 && year % 100u != 0) || year % 400u == 0;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && leap_year(year) ? 29u : days[month - 1];
}

/* Days from 1970-01-01 to a proleptic Gregorian date, and back (H. Hinnant's algorithms) */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static void civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t shifted_month = (5 * day_of_year + 2) / 153;
    *day = (unsigned)(day_of_year - (153 * shifted_month + 2) / 5 + 1);
    *month = (unsigned)(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

/* Read the fields of reg (bytes in field order) as counting values: an invalid field counts
 * as its last valid value (valid[] says which are as written). */
static void decode_fields(const uint8_t reg[FIELD_COUNT], struct format format,
                          unsigned value[FIELD_COUNT], bool valid[FIELD_COUNT])
{
    for (unsigned f = 0; f < FIELD_COUNT; f++) {
        if (f == F_HOUR || f == F_MDAY)
            continue;
        valid[f] = decode_number(reg[f], format.binary, &value[f]) &&
                   value[f] >= field_range[f].first && value[f] <= field_range[f].last;
        if (!valid[f])
            value[f] = field_range[f].last;
    }
    valid[F_HOUR] = decode_hour(reg[F_HOUR], format, &value[F_HOUR]);
    if (!valid[F_HOUR])
        value[F_HOUR] = field_range[F_HOUR].last;
    unsigned last_day = days_in_month(value[F_CENT] * 100u + value[F_YEAR], value[F_MON]);
    valid[F_MDAY] = decode_number(reg[F_MDAY], format.binary, &value[F_MDAY]) &&
                    value[F_MDAY] >= 1 && value[F_MDAY] <= last_day;
    if (!valid[F_MDAY])
        value[F_MDAY] = last_day;
}

/* Apply n update cycles to the fields in reg (see the file comment). */
static void advance_fields(uint8_t reg[FIELD_COUNT], struct format format, uint64_t n)
{
    if (n == 0)
        return;
    unsigned value[FIELD_COUNT];
    bool valid[FIELD_COUNT];
    decode_fields(reg, format, value, valid);

    int64_t year = value[F_CENT] * 100 + value[F_YEAR];
    int64_t days = days_from_civil(year, value[F_MON], value[F_MDAY]) + DAYS_0000_TO_1970;
    uint64_t start = (uint64_t)days * SECONDS_PER_DAY +
                     value[F_HOUR] * 3600u + value[F_MIN] * 60u + value[F_SEC];
    /* whole 10000-year cycles change nothing but touch every field */
    bool whole_cycle = n >= SECONDS_PER_10000_YEARS;
    uint64_t end = start + n % SECONDS_PER_10000_YEARS;

    int64_t end_days = (int64_t)(end / SECONDS_PER_DAY);
    unsigned end_time = (unsigned)(end % SECONDS_PER_DAY);
    int64_t end_year;
    unsigned end_month, end_day;
    civil_from_days(end_days - DAYS_0000_TO_1970, &end_year, &end_month, &end_day);

    /* which fields an increment reached (an untouched invalid field keeps its byte) */
    bool touched[FIELD_COUNT];
    touched[F_SEC] = true;
    touched[F_MIN] = whole_cycle || end / 60 != start / 60;
    touched[F_HOUR] = whole_cycle || end / 3600 != start / 3600;
    touched[F_MDAY] = touched[F_WDAY] = whole_cycle || end_days != days;
    touched[F_MON] = whole_cycle || end_year * 12 + end_month != year * 12 + value[F_MON];
    touched[F_YEAR] = whole_cycle || end_year != year;
    touched[F_CENT] = whole_cycle || end_year / 100 != year / 100;

    unsigned next[FIELD_COUNT];
    next[F_SEC] = end_time % 60u;
    next[F_MIN] = end_time / 60u % 60u;
    next[F_HOUR] = end_time / 3600u;
    /* 10000-year cycles are whole weeks too, so the reduced n counts the days */
    next[F_WDAY] = (unsigned)((value[F_WDAY] - 1 + (uint64_t)(end_days - days)) % 7u) + 1u;
    next[F_MDAY] = end_day;
    next[F_MON] = end_month;
    next[F_YEAR] = (unsigned)(end_year % 100);
    next[F_CENT] = (unsigned)(end_year / 100 % 100);

    for (unsigned f = 0; f < FIELD_COUNT; f++) {
        if (!valid[f] && !touched[f])
            continue;
        reg[f] = f == F_HOUR ? encode_hour(next[f], format) : encode_number(next[f], format.binary);
    }
}

static void load_fields(const struct x86_rtc *rtc, uint8_t reg[FIELD_COUNT])
{
    for (unsigned f = 0; f < FIELD_COUNT; f++)
        reg[f] = rtc->cmos[field_register[f]];
}

static void store_fields(struct x86_rtc *rtc, const uint8_t reg[FIELD_COUNT])
{
    for (unsigned f = 0; f < FIELD_COUNT; f++)
        rtc->cmos[field_register[f]] = reg[f];
}

/* ------------------------------------------------------------------ the alarm */

/* The alarm compares the seconds, minutes and hours bytes with the alarm bytes at the end of
 * each update cycle; an alarm byte 11xxxxxx matches anything (datasheet, "Alarm"). */
static bool alarm_byte_matches(uint8_t alarm, uint8_t time)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == time;
}

static bool alarm_matches(const struct x86_rtc *rtc, const uint8_t reg[FIELD_COUNT])
{
    return alarm_byte_matches(rtc->cmos[REG_SECONDS_ALARM], reg[F_SEC]) &&
           alarm_byte_matches(rtc->cmos[REG_MINUTES_ALARM], reg[F_MIN]) &&
           alarm_byte_matches(rtc->cmos[REG_HOURS_ALARM], reg[F_HOUR]);
}

/* The number of updates (>= 1) from the registers' present state to the first one after which
 * the alarm matches, or NEVER. */
static uint64_t updates_to_alarm(const struct x86_rtc *rtc)
{
    struct format format = current_format(rtc);
    uint8_t reg[FIELD_COUNT];
    load_fields(rtc, reg);
    uint64_t count = 0;
    /* While a time field still shows an invalid byte, step: it is reached within an hour (it
     * counts as 59 or 23), and the bytes it shows until then are what the alarm compares. */
    for (;;) {
        unsigned value[FIELD_COUNT];
        bool valid[FIELD_COUNT];
        decode_fields(reg, format, value, valid);
        if (valid[F_SEC] && valid[F_MIN] && valid[F_HOUR]) {
            unsigned now = value[F_HOUR] * 3600u + value[F_MIN] * 60u + value[F_SEC];
            /* the time of day now runs through its 86400 values; find the first match */
            uint8_t alarm_sec = rtc->cmos[REG_SECONDS_ALARM];
            uint8_t alarm_min = rtc->cmos[REG_MINUTES_ALARM];
            uint8_t alarm_hour = rtc->cmos[REG_HOURS_ALARM];
            bool any_sec = (alarm_sec & ALARM_DONT_CARE) == ALARM_DONT_CARE;
            unsigned second = 0;
            if (!any_sec && (!decode_number(alarm_sec, format.binary, &second) || second > 59))
                return NEVER;
            for (unsigned day = 0; day < 2; day++) {
                for (unsigned hour = 0; hour < 24; hour++) {
                    if (!alarm_byte_matches(alarm_hour, encode_hour(hour, format)))
                        continue;
                    for (unsigned minute = 0; minute < 60; minute++) {
                        if (!alarm_byte_matches(alarm_min, encode_number(minute, format.binary)))
                            continue;
                        unsigned base = day * SECONDS_PER_DAY + hour * 3600u + minute * 60u;
                        unsigned at;
                        if (any_sec) {
                            if (base + 59 <= now)
                                continue;
                            at = base > now ? base : now + 1;
                        } else {
                            at = base + second;
                            if (at <= now)
                                continue;
                        }
                        return count + (at - now);
                    }
                }
            }
            return NEVER;
        }
        advance_fields(reg, format, 1);
        count++;
        if (alarm_matches(rtc, reg))
            return count;
    }
}

/* ------------------------------------------------------------------ flags, line, events */

/* IRQF = PF.PIE + AF.AIE + UF.UIE, and IRQ follows it (datasheet, Register C) */
static void update_irq(struct x86_rtc *rtc)
{
    int level = (rtc->cmos[REG_C] & rtc->cmos[REG_B] & C_FLAGS) != 0;
    rtc->cmos[REG_C] = (uint8_t)((rtc->cmos[REG_C] & C_FLAGS) | (level ? C_IRQF : 0));
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        x86_irq_wire_set(&rtc->irq, level);
    }
}

/* Account for the update cycles and periodic edges up to now. A held divider does neither
 * ("Holding the dividers in reset prevents interrupts from operating", datasheet); SET stops
 * the updates (the time stands still, no UF or AF) but not the chain or its periodic edges. */
static void sync(struct x86_rtc *rtc)
{
    if (!chain_running(rtc))
        return;
    uint64_t tick = tick_at_cycle(rtc, now_cycle(rtc));
    uint64_t due = updates_by(rtc, tick);
    if (due > rtc->updates_seen) {
        uint64_t pending = due - rtc->updates_seen;
        rtc->updates_seen = due;
        if (!(rtc->cmos[REG_B] & B_SET)) {
            if (!rtc->alarm_known) {
                rtc->alarm_in = updates_to_alarm(rtc);
                rtc->alarm_known = true;
            }
            if (rtc->alarm_in <= pending) {
                rtc->cmos[REG_C] |= C_AF;
                rtc->alarm_known = false;
            } else if (rtc->alarm_in != NEVER) {
                rtc->alarm_in -= pending;
            }
            uint8_t reg[FIELD_COUNT];
            load_fields(rtc, reg);
            advance_fields(reg, current_format(rtc), pending);
            store_fields(rtc, reg);
            rtc->cmos[REG_C] |= C_UF;
        }
    }
    unsigned period = periodic_period(rtc);
    if (tick > rtc->periodic_seen) {
        if (period && periodic_edges_by(rtc, tick, period) >
                          periodic_edges_by(rtc, rtc->periodic_seen, period))
            rtc->cmos[REG_C] |= C_PF;
        rtc->periodic_seen = tick;
    }
}

void x86_rtc_event(void *context, void *opaque);

/* Keep one event, at the earliest tick at which an enabled, clear flag gets set. */
static void reschedule(struct x86_rtc *rtc)
{
    uint64_t due = NEVER;
    uint8_t b = rtc->cmos[REG_B], c = rtc->cmos[REG_C];
    if (rtc->events && chain_running(rtc)) {
        if (!(b & B_SET)) {
            uint64_t next_update = rtc->first_update + TICKS_PER_UPDATE * rtc->updates_seen;
            if ((b & B_UIE) && !(c & C_UF))
                due = next_update;
            if ((b & B_AIE) && !(c & C_AF)) {
                if (!rtc->alarm_known) {
                    rtc->alarm_in = updates_to_alarm(rtc);
                    rtc->alarm_known = true;
                }
                if (rtc->alarm_in != NEVER) {
                    uint64_t at = next_update + TICKS_PER_UPDATE * (rtc->alarm_in - 1);
                    due = at < due ? at : due;
                }
            }
        }
        unsigned period = periodic_period(rtc);
        if ((b & B_PIE) && period && !(c & C_PF)) {
            uint64_t at = next_periodic_edge_after(rtc, rtc->periodic_seen, period);
            due = at < due ? at : due;
        }
    }
    uint64_t cycle = due == NEVER ? NEVER : cycle_at_tick(rtc, due);
    if (rtc->event_id && rtc->event_cycle == cycle)
        return;
    if (rtc->event_id)
        x86_events_cancel(rtc->events, rtc->event_id);
    rtc->event_id = 0;
    if (cycle != NEVER) {
        rtc->event_id = x86_events_schedule(rtc->events, cycle, x86_rtc_event, rtc);
        rtc->event_cycle = cycle;
    }
}

void x86_rtc_event(void *context, void *opaque)
{
    (void)context;
    struct x86_rtc *rtc = opaque;
    rtc->event_id = 0;
    sync(rtc);
    update_irq(rtc);
    reschedule(rtc);
}

/* ------------------------------------------------------------------ register access */

static bool update_in_progress(const struct x86_rtc *rtc)
{
    /* "Writing the SET bit ... to a one inhibits any update cycle and then clears the UIP
     * status bit"; a held divider has no update coming */
    if (!chain_running(rtc) || (rtc->cmos[REG_B] & B_SET))
        return false;
    uint64_t tick = tick_at_cycle(rtc, now_cycle(rtc));
    return next_update_after(rtc, tick) - tick <= UIP_TICKS;
}

/* The divider leaves reset: the chain counts from the first tick at or after now. */
static void release_divider(struct x86_rtc *rtc)
{
    uint64_t cycle = now_cycle(rtc);
    uint64_t tick = tick_at_cycle(rtc, cycle);
    if (cycle_at_tick(rtc, tick) < cycle)
        tick++;
    rtc->first_update = tick + RELEASE_TO_UPDATE_TICKS;
    rtc->updates_seen = 0;
    rtc->periodic_seen = tick;
}

static bool is_time_register(unsigned index)
{
    for (unsigned f = 0; f < FIELD_COUNT; f++)
        if (field_register[f] == index)
            return true;
    return false;
}

static uint8_t read_data(struct x86_rtc *rtc)
{
    unsigned index = rtc->index & INDEX_MASK;
    sync(rtc);
    uint8_t value;
    switch (index) {
    case REG_A:
        value = (uint8_t)((rtc->cmos[REG_A] & ~A_UIP) | (update_in_progress(rtc) ? A_UIP : 0));
        break;
    case REG_C:
        /* reading C returns and clears the flags, and IRQ goes inactive */
        update_irq(rtc);
        value = rtc->cmos[REG_C];
        rtc->cmos[REG_C] = 0;
        break;
    case REG_D:
        value = D_VRT; /* the battery is good; bits 6-0 read 0 */
        break;
    default:
        value = rtc->cmos[index];
        break;
    }
    update_irq(rtc);
    reschedule(rtc);
    return value;
}

static void write_data(struct x86_rtc *rtc, uint8_t value)
{
    unsigned index = rtc->index & INDEX_MASK;
    sync(rtc);
    switch (index) {
    case REG_SECONDS_ALARM:
    case REG_MINUTES_ALARM:
    case REG_HOURS_ALARM:
        rtc->cmos[index] = value;
        rtc->alarm_known = false;
        break;
    case REG_A: {
        bool was_held = !chain_running(rtc);
        rtc->cmos[REG_A] = (uint8_t)(value & ~A_UIP); /* UIP is read-only */
        if (was_held && chain_running(rtc))
            release_divider(rtc);
        break;
    }
    case REG_B:
        if (value & B_SET)
            value &= (uint8_t)~B_UIE; /* SET going high clears UIE (datasheet, UIE) */
        rtc->cmos[REG_B] = value;
        rtc->alarm_known = false; /* DM and 24/12 change what the bytes mean */
        break;
    case REG_C:
    case REG_D:
        break; /* read-only */
    default:
        rtc->cmos[index] = value;
        if (is_time_register(index))
            rtc->alarm_known = false;
        break;
    }
    update_irq(rtc);
    reschedule(rtc);
}

/* Port 0x70 reads 0xFF, as in QEMU (the index register is write-only on the PC). */
static uint8_t read_port(struct x86_rtc *rtc, uint64_t port)
{
    return port == 1 ? read_data(rtc) : 0xFF;
}

static void write_port(struct x86_rtc *rtc, uint64_t port, uint8_t value)
{
    if (port == 0) {
        rtc->index = value & INDEX_MASK;
        rtc->nmi_masked = (value & NMI_MASK_BIT) != 0;
    } else if (port == 1) {
        write_data(rtc, value);
    }
}

/* Wider accesses are byte accesses at consecutive ports, as the ISA bus splits them; bytes
 * past port 0x71 read as all ones and their writes go nowhere. */
uint64_t x86_rtc_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_rtc *rtc = opaque;
    uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint64_t port = offset + i;
        value |= (uint64_t)(port <= 1 ? read_port(rtc, port) : 0xFF) << (8 * i);
    }
    return value;
}

void x86_rtc_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_rtc *rtc = opaque;
    for (unsigned i = 0; i < size && i < 8 && offset + i <= 1; i++)
        write_port(rtc, offset + i, (uint8_t)(value >> (8 * i)));
}

int x86_rtc_irq_level(const struct x86_rtc *rtc)
{
    return rtc->irq_level;
}

/* ------------------------------------------------------------------ setup */

void x86_rtc_init(struct x86_rtc *rtc, struct x86_event_queue *events, const uint64_t *cycles,
                  uint64_t cpu_hz, int64_t epoch)
{
    memset(rtc, 0, sizeof(*rtc));
    rtc->events = events;
    rtc->cycles = cycles;
    if (cpu_hz == 0)
        cpu_hz = 1000000000ull;
    if (epoch == 0)
        epoch = X86_RTC_DEFAULT_EPOCH;
    rtc->cpu_hz = cpu_hz;
    rtc->epoch = epoch;
    uint64_t common = greatest_common_divisor(CRYSTAL_HZ, cpu_hz);
    rtc->tick_numerator = CRYSTAL_HZ / common;
    rtc->tick_denominator = cpu_hz / common;

    /* the epoch's date and time, in BCD 24-hour mode; years wrap at 10000 */
    int64_t days = epoch / (int64_t)SECONDS_PER_DAY;
    int64_t time = epoch % (int64_t)SECONDS_PER_DAY;
    if (time < 0) {
        time += SECONDS_PER_DAY;
        days--;
    }
    int64_t since_0000 = (days + DAYS_0000_TO_1970) % DAYS_PER_10000_YEARS;
    if (since_0000 < 0)
        since_0000 += DAYS_PER_10000_YEARS;
    int64_t year;
    unsigned month, day;
    civil_from_days(since_0000 - DAYS_0000_TO_1970, &year, &month, &day);
    struct format bcd = { false, true };
    uint8_t reg[FIELD_COUNT];
    reg[F_SEC] = encode_number((unsigned)(time % 60), false);
    reg[F_MIN] = encode_number((unsigned)(time / 60 % 60), false);
    reg[F_HOUR] = encode_hour((unsigned)(time / 3600), bcd);
    /* 1970-01-01 was a Thursday; the chip's day of week is 1 on Sunday */
    int64_t since_1970 = since_0000 - DAYS_0000_TO_1970;
    reg[F_WDAY] = encode_number((unsigned)(((since_1970 + 4) % 7 + 7) % 7) + 1, false);
    reg[F_MDAY] = encode_number(day, false);
    reg[F_MON] = encode_number(month, false);
    reg[F_YEAR] = encode_number((unsigned)(year % 100), false);
    reg[F_CENT] = encode_number((unsigned)(year / 100), false);
    store_fields(rtc, reg);

    rtc->cmos[REG_A] = 0x26; /* DV = 010 (32.768 kHz), RS = 0110 (1024 Hz) */
    rtc->cmos[REG_B] = B_24H;
    rtc->cmos[REG_D] = D_VRT;
    rtc->first_update = TICKS_PER_UPDATE;
}

x86irq_status x86_rtc_attach(struct x86_rtc *rtc, struct x86_bus *bus)
{
    return x86_bus_add_ports(bus, X86_RTC_PORT, 2, x86_rtc_read, x86_rtc_write, rtc, "rtc");
}

/* QEMU's pc_cmos_init: base memory in KiB (at most 640), extended memory above 1 MiB in KiB
 * (at most 0xFFFF, twice), memory between 16 MiB and 4 GiB in 64 KiB units (at most 0xFFFF),
 * memory above 4 GiB in 64 KiB units (24 bits), CPUs less one, the equipment byte with an FPU
 * and a PS/2 mouse, no floppy drives. */
void x86_rtc_set_bios_nvram(struct x86_rtc *rtc, uint64_t ram_size, unsigned cpu_count)
{
    const uint64_t kib = 1024, mib = 1024 * 1024;
    uint64_t below_4g = ram_size < X86_RTC_LOW_RAM_LIMIT ? ram_size : X86_RTC_LOW_RAM_LIMIT;
    uint64_t above_4g = ram_size - below_4g;
    uint64_t base = below_4g / kib < 640 ? below_4g / kib : 640;
    uint64_t extended = below_4g > mib ? (below_4g - mib) / kib : 0;
    uint64_t above_16m = below_4g > 16 * mib ? (below_4g - 16 * mib) / (64 * kib) : 0;
    uint64_t high = above_4g / (64 * kib);
    if (extended > 0xFFFF)
        extended = 0xFFFF;
    if (above_16m > 0xFFFF)
        above_16m = 0xFFFF;
    if (high > 0xFFFFFF)
        high = 0xFFFFFF;
    const struct { uint8_t index; uint8_t value; } bytes[] = {
        { 0x0F, 0x00 },                           /* shutdown status: normal boot */
        { 0x10, 0x00 },                           /* no floppy drives */
        { 0x14, 0x06 },                           /* equipment: FPU, PS/2 mouse */
        { 0x15, (uint8_t)base }, { 0x16, (uint8_t)(base >> 8) },
        { 0x17, (uint8_t)extended }, { 0x18, (uint8_t)(extended >> 8) },
        { 0x30, (uint8_t)extended }, { 0x31, (uint8_t)(extended >> 8) },
        { 0x34, (uint8_t)above_16m }, { 0x35, (uint8_t)(above_16m >> 8) },
        { 0x5B, (uint8_t)high }, { 0x5C, (uint8_t)(high >> 8) }, { 0x5D, (uint8_t)(high >> 16) },
        { 0x5F, (uint8_t)(cpu_count ? (cpu_count - 1 > 0xFF ? 0xFF : cpu_count - 1) : 0) },
    };
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
        rtc->cmos[bytes[i].index] = bytes[i].value;
}
