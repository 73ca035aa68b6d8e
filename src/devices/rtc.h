/* The PC's real-time clock and CMOS RAM: a Motorola MC146818A (datasheet; Intel's PIIX/ICH
 * "RTC" chapters describe the same registers) at ports 0x70 (index; bit 7 masks NMI) and 0x71
 * (data), its interrupt on ISA IRQ 8.
 *
 * The clock is deterministic: the time of day is the configured epoch (Unix seconds at cycle 0)
 * plus the machine's cycles converted at cpu_hz, never the host's time. Registers A-D, the
 * periodic (RS3-RS0 rates from 32.768 kHz), alarm and update-ended interrupts, the update
 * cycle (UIP for 244 us before each second's update, SET halting updates), BCD or binary and
 * 12- or 24-hour formats, divider control (DV2-DV0 reset/normal), the 114 bytes of NVRAM.
 * Interrupt times are exact cycles on the machine's event queue (no accumulated error).
 */
#ifndef X86IRQ_DEVICES_RTC_H
#define X86IRQ_DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/bus.h"
#include "platform/events.h"
#include "platform/irq.h"

#define X86_RTC_PORT 0x70u
#define X86_RTC_IRQ 8u
#define X86_RTC_CMOS_SIZE 128u
/* 2026-01-01 00:00:00 UTC: the default epoch (x86irq_config.rtc_epoch 0 means this) */
#define X86_RTC_DEFAULT_EPOCH 1767225600ll

struct x86_rtc {
    uint8_t cmos[X86_RTC_CMOS_SIZE]; /* registers 0x00-0x0D and NVRAM 0x0E-0x7F */
    uint8_t index;                   /* the last index written to port 0x70 (bits 6:0) */
    bool nmi_masked;                 /* port 0x70 bit 7 */
    struct x86_irq_wire irq;         /* IRQ 8 (active high, as the board sees it) */
    struct x86_event_queue *events;  /* NULL: no timed interrupts (unit tests may poll) */
    const uint64_t *cycles;          /* "now" */
    uint64_t cpu_hz;
    int64_t epoch;                   /* Unix seconds at cycle 0 */
    /* the implementation's private state follows (time base, pending event ids, ...) */

    /* 32.768 kHz crystal ticks per cycle as a reduced fraction:
     * ticks(c) = floor(c * tick_numerator / tick_denominator) */
    uint64_t tick_numerator, tick_denominator;
    /* The divider chain (rtc.c explains): update cycles at ticks first_update + 32768 j,
     * j >= 0; updates_seen of them are accounted for (applied, or skipped under SET). */
    uint64_t first_update;
    uint64_t updates_seen;
    uint64_t periodic_seen;     /* periodic edges at ticks <= this are accounted for */
    uint64_t alarm_in;          /* updates from the registers' state to the next alarm match */
    bool alarm_known;           /* alarm_in is current (cleared when the registers change) */
    int irq_level;              /* the level last given to irq */
    uint64_t event_id;          /* the pending interrupt event, 0: none */
    uint64_t event_cycle;
};

/* Power-on state: time = epoch, 24-hour BCD mode (register B 0x02), register A 0x26 (32.768
 * kHz divider, 1024 Hz periodic rate), interrupts disabled, VRT set in register D.
 * epoch 0 means X86_RTC_DEFAULT_EPOCH; cpu_hz 0 means 1e9. The divider chain starts at cycle
 * 0: the first update (epoch + 1 s) is at cycle cpu_hz. Connect irq after this call. */
void x86_rtc_init(struct x86_rtc *rtc, struct x86_event_queue *events, const uint64_t *cycles,
                  uint64_t cpu_hz, int64_t epoch);
/* Ports 0x70-0x71. */
x86irq_status x86_rtc_attach(struct x86_rtc *rtc, struct x86_bus *bus);
uint64_t x86_rtc_read(void *opaque, uint64_t offset, unsigned size);
void x86_rtc_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);
/* The NVRAM bytes a PC BIOS (SeaBIOS under QEMU) leaves: base memory (0x15-0x16), extended
 * memory (0x17-0x18, 0x30-0x31), memory above 16 MiB in 64 KiB units (0x34-0x35), above 4 GiB
 * (0x5B-0x5D), the CPU count less one (0x5F), the equipment byte (0x14), no floppy (0x10),
 * shutdown status (0x0F) 0. The century (0x32, BCD 0x20 for 20xx) is part of the clock and
 * already holds the epoch's century; this call leaves it. */
void x86_rtc_set_bios_nvram(struct x86_rtc *rtc, uint64_t ram_size, unsigned cpu_count);
/* RAM at and above this address is mapped above 4 GiB (the board's MMIO hole at 3 GiB), as
 * QEMU's pc machine splits RAM larger than its low-memory limit. */
#define X86_RTC_LOW_RAM_LIMIT 0xC0000000ull
/* The IRQ 8 output now (1: register C has an enabled flag set), e.g. for the board to restore
 * the line after HPET legacy replacement routing is switched off. */
int x86_rtc_irq_level(const struct x86_rtc *rtc);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_rtc_event(void *context, void *opaque);

#endif
