/* Unit tests of src/devices/uart16550.c: the 16550A's registers, FIFOs, trigger levels, the
 * character time-out at exact cycles, overruns, loopback and the modem status lines, the IRQ
 * line through OUT2, Linux 6.1's 8250 driver sequences (autoconfig, the THRE and TX-enable
 * tests of serial8250_do_startup, the interrupt-driven TX path, the console's polling) and
 * host input at the line rate with lossless flow control.
 *
 * Expected times come from the definition, computed here in 128 bits: a character of H half
 * bits at divisor D takes H * D * cpu_hz / 230400 cycles; an event is due at the first cycle at
 * or after its exact time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/uart16550.h"
#include "platform/events.h"

__extension__ typedef unsigned __int128 wide;

#define HZ 1000000000ull
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5,
       MSR = 6, SCR = 7 };

struct rig {
    uint64_t cycles;
    uint64_t hz;
    struct x86_event_queue queue;
    struct x86_uart u;
    uint8_t out[4096];
    size_t out_count;
    int level;
    unsigned rises, changes;
};

static void output(void *opaque, uint8_t byte)
{
    struct rig *r = opaque;
    assert_true(r->out_count < sizeof(r->out));
    r->out[r->out_count++] = byte;
}

static void irq_wire(void *opaque, int line, int level)
{
    struct rig *r = opaque;
    assert_int_equal(line, 4);
    assert_int_not_equal(level, r->level); /* only changes are reported */
    r->level = level;
    r->changes++;
    if (level)
        r->rises++;
}

static struct rig *rig_create(uint64_t hz)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->hz = hz;
    x86_events_init(&r->queue, NULL);
    x86_uart_init(&r->u, output, r);
    x86_uart_set_clock(&r->u, &r->queue, &r->cycles, hz);
    r->u.irq = (struct x86_irq_wire){ irq_wire, r, 4 };
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_uart_finish(&r->u);
    x86_events_finish(&r->queue);
    free(r);
}

static uint8_t rd(struct rig *r, unsigned reg) { return (uint8_t)x86_uart_read(&r->u, reg, 1); }
static void wr(struct rig *r, unsigned reg, uint8_t v) { x86_uart_write(&r->u, reg, 1, v); }

/* run the events up to cycle, each at its own cycle */
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

/* the first cycle at or after start + units * hz / 230400, units = characters * half bits *
 * divisor */
static uint64_t after(uint64_t start, uint64_t units, uint64_t hz)
{
    wide scaled = (wide)units * hz;
    return start + (uint64_t)((scaled + 230400 - 1) / 230400);
}

/* the divisor latch, the frame, the FIFO control, as serial8250_do_set_termios programs them */
static void program_line(struct rig *r, uint16_t divisor, uint8_t lcr, uint8_t fcr)
{
    wr(r, LCR, (uint8_t)(lcr | 0x80));
    wr(r, DLL, (uint8_t)divisor);
    wr(r, DLM, (uint8_t)(divisor >> 8));
    wr(r, LCR, lcr);
    if (fcr & 1)
        wr(r, FCR, 0x01);
    wr(r, FCR, fcr);
}

/* ------------------------------------------------------------------ registers */

static void test_reset_state(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    assert_int_equal(rd(r, IER), 0x00);
    assert_int_equal(rd(r, IIR), 0x01);
    assert_int_equal(rd(r, LCR), 0x00);
    assert_int_equal(rd(r, MCR), 0x00);
    assert_int_equal(rd(r, LSR), 0x60);
    assert_int_equal(rd(r, MSR), 0xB0); /* a connected terminal: DCD, DSR, CTS; no deltas */
    wr(r, LCR, 0x80);
    assert_int_equal(rd(r, DLL), 0x0C); /* 9600 baud */
    assert_int_equal(rd(r, DLM), 0x00);
    assert_int_equal(r->level, 0);
    rig_destroy(r);
}

static void test_transmit_and_scratch(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, THR, 'o');
    wr(r, THR, 'k');
    assert_int_equal(r->out_count, 2);
    assert_memory_equal(r->out, "ok", 2);
    assert_int_equal(rd(r, LSR), 0x60); /* THRE and TEMT at once: transmission is instant */
    wr(r, SCR, 0x5A);
    assert_int_equal(rd(r, SCR), 0x5A);
    wr(r, SCR, 0xA5);
    assert_int_equal(rd(r, SCR), 0xA5);
    rig_destroy(r);
}

static void test_divisor_latch_and_dlab(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, IER, 0x05);
    wr(r, LCR, 0x83);
    wr(r, DLL, 0x01);
    wr(r, DLM, 0x02);
    assert_int_equal(rd(r, DLL), 0x01);
    assert_int_equal(rd(r, DLM), 0x02);
    assert_int_equal(r->out_count, 0);   /* nothing sent through the latch */
    assert_int_equal(rd(r, IIR), 0x01);  /* offset 2 is IIR whatever DLAB says */
    assert_int_equal(rd(r, LCR), 0x83);
    wr(r, LCR, 0x03);
    assert_int_equal(rd(r, IER), 0x05);  /* IER kept under the latch */
    wr(r, IER, 0xFF);
    assert_int_equal(rd(r, IER), 0x0F);  /* bits 4-7 are always 0 */
    wr(r, MCR, 0xFF);
    assert_int_equal(rd(r, MCR), 0x1F);  /* bits 5-7 too */
    rig_destroy(r);
}

static void test_wide_and_bad_accesses(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    x86_uart_write(&r->u, 6, 2, 0x4211);  /* MSR (ignored), SCR = 0x42 */
    assert_int_equal(rd(r, SCR), 0x42);
    assert_int_equal(rd(r, MSR), 0xB0);
    assert_int_equal(x86_uart_read(&r->u, 7, 2), 0xFF42); /* past offset 7: all ones */
    assert_int_equal(x86_uart_read(&r->u, 9, 1), 0xFF);
    x86_uart_write(&r->u, 9, 1, 0x12);   /* ignored */
    x86_uart_write(&r->u, 5, 1, 0x00);   /* LSR writes are ignored */
    assert_int_equal(rd(r, LSR), 0x60);
    x86_uart_write(&r->u, 3, 4, 0x03);   /* LCR 3, MCR 0, LSR, MSR */
    assert_int_equal(x86_uart_read(&r->u, 3, 2), 0x0003);
    assert_int_equal(x86_uart_read(&r->u, 0, 0), 0);
    assert_int_equal(r->out_count, 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ receiving */

static void test_fifo_trigger_levels(void **state)
{
    (void)state;
    static const struct { uint8_t fcr; unsigned level; } cases[] = {
        { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xC1, 14 },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct rig *r = rig_create(HZ);
        wr(r, FCR, cases[c].fcr);
        wr(r, MCR, 0x08);            /* OUT2 */
        wr(r, IER, 0x01);
        for (unsigned i = 1; i <= cases[c].level; i++) {
            x86_uart_receive(&r->u, (uint8_t)i);
            assert_int_equal(rd(r, LSR) & 0x01, 0x01);
            if (i < cases[c].level) {
                assert_int_equal(rd(r, IIR), 0xC1); /* below the trigger: nothing yet */
                assert_int_equal(r->level, 0);
            }
        }
        assert_int_equal(rd(r, IIR), 0xC4);  /* at the trigger: received data available */
        assert_int_equal(r->level, 1);
        assert_int_equal(rd(r, RBR), 1);     /* below it again: the interrupt goes */
        assert_int_equal(rd(r, IIR), 0xC1);
        assert_int_equal(r->level, 0);
        x86_uart_receive(&r->u, 0x77);       /* and comes back at the level */
        assert_int_equal(rd(r, IIR), 0xC4);
        for (unsigned i = 2; i <= cases[c].level; i++)
            assert_int_equal(rd(r, RBR), i);
        assert_int_equal(rd(r, RBR), 0x77);
        assert_int_equal(rd(r, LSR) & 0x01, 0);
        assert_int_equal(rd(r, RBR), 0x77);  /* empty: RBR keeps the last byte */
        rig_destroy(r);
    }
}

static void test_fifo_overrun(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, FCR, 0xC1);
    wr(r, IER, 0x05);
    for (int i = 0; i < 17; i++)
        x86_uart_receive(&r->u, (uint8_t)('a' + i));
    assert_int_equal(rd(r, IIR), 0xC6);          /* the line status interrupt comes first */
    assert_int_equal(rd(r, LSR), 0x63);          /* DR, OE; bit 7 stays 0 (no PE/FE/BI) */
    assert_int_equal(rd(r, LSR), 0x61);          /* OE is cleared by reading LSR */
    assert_int_equal(rd(r, IIR), 0xC4);          /* then the data */
    for (int i = 0; i < 16; i++)                 /* the 17th byte was lost, the FIFO kept */
        assert_int_equal(rd(r, RBR), 'a' + i);
    assert_int_equal(rd(r, LSR), 0x60);
    rig_destroy(r);
}

static void test_holding_register_without_fifos(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, IER, 0x01);
    x86_uart_receive(&r->u, 'x');
    assert_int_equal(rd(r, IIR), 0x04);          /* no FIFO bits; RDA with one byte */
    x86_uart_receive(&r->u, 'y');                /* overrun: it replaces the unread byte */
    assert_int_equal(rd(r, LSR), 0x63);
    assert_int_equal(rd(r, RBR), 'y');
    assert_int_equal(rd(r, LSR), 0x60);
    advance_to(r, 100000000);                    /* no time-out without FIFOs */
    x86_uart_receive(&r->u, 'z');
    advance_to(r, 200000000);
    assert_int_equal(rd(r, IIR), 0x04);
    rig_destroy(r);
}

static void test_fifo_control(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, FCR, 0x81);                            /* enable, trigger 8 */
    assert_int_equal(rd(r, IIR), 0xC1);
    for (int i = 0; i < 5; i++)
        x86_uart_receive(&r->u, (uint8_t)i);
    wr(r, FCR, 0x83);                            /* clear the RX FIFO */
    assert_int_equal(rd(r, LSR) & 0x01, 0);
    x86_uart_receive(&r->u, 9);
    wr(r, FCR, 0x00);                            /* leaving FIFO mode clears it too */
    assert_int_equal(rd(r, LSR) & 0x01, 0);
    assert_int_equal(rd(r, IIR), 0x01);
    wr(r, FCR, 0x40);                            /* bits 1-7 need FCR0: nothing programmed */
    assert_int_equal(rd(r, IIR), 0x01);
    wr(r, FCR, 0x01);                            /* enable again: trigger 1 from this write */
    wr(r, IER, 0x01);
    x86_uart_receive(&r->u, 1);
    assert_int_equal(rd(r, IIR), 0xC4);
    rig_destroy(r);
}

/* the time-out at exact cycles: 4 character times after the last character or read */
static void test_character_timeout(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    program_line(r, 1, 0x03, 0x81);              /* 115200 8N1, FIFO trigger 8 */
    wr(r, MCR, 0x08);
    wr(r, IER, 0x01);
    advance_to(r, 1000);
    x86_uart_receive(&r->u, 'a');
    uint64_t due = after(1000, 4 * 20 * 1, HZ);  /* 4 characters of 20 half bits */
    assert_int_equal(due, 1000 + 347223);        /* 347222.2 cycles, rounded up */
    advance_to(r, due - 1);
    assert_int_equal(rd(r, IIR), 0xC1);
    assert_int_equal(r->level, 0);
    advance_to(r, due);
    assert_int_equal(r->level, 1);
    assert_int_equal(rd(r, IIR), 0xCC);          /* the time-out indication */
    x86_uart_receive(&r->u, 'b');                /* a new character does not clear it */
    assert_int_equal(rd(r, IIR), 0xCC);
    assert_int_equal(rd(r, RBR), 'a');           /* a read does, and restarts the timer */
    assert_int_equal(rd(r, IIR), 0xC1);
    assert_int_equal(r->level, 0);
    uint64_t read_at = r->cycles;
    advance_to(r, read_at + 200000);             /* a read before the deadline restarts it */
    assert_int_equal(rd(r, LSR) & 0x01, 1);
    x86_uart_receive(&r->u, 'c');
    uint64_t restarted = r->cycles;
    advance_to(r, after(restarted, 80, HZ) - 1);
    assert_int_equal(rd(r, IIR), 0xC1);
    advance_to(r, after(restarted, 80, HZ));
    assert_int_equal(rd(r, IIR), 0xCC);
    assert_int_equal(rd(r, RBR), 'b');
    assert_int_equal(rd(r, RBR), 'c');
    advance_to(r, r->cycles + 10000000);         /* empty: no time-out */
    assert_int_equal(rd(r, IIR), 0xC1);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    rig_destroy(r);
}

/* the character time follows LCR (word length, parity, 1, 1.5 or 2 stop bits) and the divisor,
 * exactly, at a clock that does not divide evenly */
static void test_character_time_formats(void **state)
{
    (void)state;
    static const struct { uint8_t lcr; unsigned half_bits; uint16_t divisor; } cases[] = {
        { 0x03, 20, 1 },      /* 8N1: 10 bits */
        { 0x00, 14, 3 },      /* 5N1 */
        { 0x04, 15, 12 },     /* 5N1.5 */
        { 0x1F, 24, 7 },      /* 8E2 */
        { 0x0A, 20, 65535 },  /* 7O1 */
        { 0x03, 20, 0 },      /* divisor 0 counts as 65536 */
    };
    const uint64_t hz = 999999937ull; /* a prime */
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct rig *r = rig_create(hz);
        program_line(r, cases[c].divisor, cases[c].lcr, 0x81);
        uint64_t divisor = cases[c].divisor ? cases[c].divisor : 65536;
        assert_int_equal(x86_uart_character_time(&r->u), cases[c].half_bits * divisor * hz);
        wr(r, IER, 0x01);
        advance_to(r, 12345);
        x86_uart_receive(&r->u, 1);
        uint64_t due = after(12345, 4ull * cases[c].half_bits * divisor, hz);
        advance_to(r, due - 1);
        assert_int_equal(rd(r, IIR) & 0x0F, 0x01);
        advance_to(r, due);
        assert_int_equal(rd(r, IIR) & 0x0F, 0x0C);
        rig_destroy(r);
    }
}

/* ------------------------------------------------------------------ the modem lines */

static void test_loopback_and_modem_status(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    /* the mapping DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD, one bit at a time */
    static const struct { uint8_t mcr, msr; } map[] = {
        { 0x10, 0x00 }, { 0x11, 0x20 }, { 0x12, 0x10 }, { 0x14, 0x40 }, { 0x18, 0x80 },
        { 0x1A, 0x90 }, { 0x1F, 0xF0 },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        wr(r, MCR, map[i].mcr);
        assert_int_equal(rd(r, MSR) & 0xF0, map[i].msr);
    }
    (void)rd(r, MSR);
    /* deltas: DCTS, DDSR, DDCD on any change; TERI only when RI goes off */
    wr(r, MCR, 0x10);
    assert_int_equal(rd(r, MSR), 0x0F);      /* from 0xF0: every line fell, RI too */
    wr(r, MCR, 0x12);
    assert_int_equal(rd(r, MSR), 0x11);      /* CTS, DCTS */
    assert_int_equal(rd(r, MSR), 0x10);      /* reading cleared DCTS */
    wr(r, MCR, 0x13);
    assert_int_equal(rd(r, MSR), 0x32);      /* DSR, DDSR */
    wr(r, MCR, 0x17);
    assert_int_equal(rd(r, MSR), 0x70);      /* RI on: no TERI */
    wr(r, MCR, 0x13);
    assert_int_equal(rd(r, MSR), 0x34);      /* RI off: TERI */
    wr(r, MCR, 0x1B);
    assert_int_equal(rd(r, MSR), 0xB8);      /* DCD, DDCD */
    wr(r, MCR, 0x10);
    assert_int_equal(rd(r, MSR), 0x0B);      /* all three fell */
    /* the modem status interrupt: IER.EDSSI and a delta; reading MSR clears it */
    wr(r, IER, 0x08);
    assert_int_equal(rd(r, IIR), 0x01);
    wr(r, MCR, 0x12);
    assert_int_equal(rd(r, IIR), 0x00);
    (void)rd(r, MSR);
    assert_int_equal(rd(r, IIR), 0x01);
    /* looped bytes come back on RBR, nothing goes out; LSR and the FIFO as usual */
    wr(r, FCR, 0x07);
    wr(r, THR, 'x');
    wr(r, THR, 'y');
    assert_int_equal(r->out_count, 0);
    assert_int_equal(rd(r, LSR), 0x61);
    assert_int_equal(rd(r, RBR), 'x');
    assert_int_equal(rd(r, RBR), 'y');
    /* leaving loopback: the terminal's lines again, with their deltas */
    wr(r, MCR, 0x00);
    assert_int_equal(rd(r, MSR), 0xB0 | 0x0A);  /* DSR and DCD changed; CTS was on (RTS) */
    wr(r, THR, 'z');
    assert_int_equal(r->out_count, 1);
    assert_int_equal(r->out[0], 'z');
    rig_destroy(r);
}

/* ------------------------------------------------------------------ interrupts and IRQ 4 */

static void test_interrupt_priority(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, FCR, 0x01);
    wr(r, IER, 0x0F);
    assert_int_equal(rd(r, IIR), 0xC2);       /* THRE, from enabling it with THR empty */
    assert_int_equal(rd(r, IIR), 0xC1);       /* read while THRE: cleared */
    wr(r, MCR, 0x10);                         /* loopback: modem deltas */
    assert_int_equal(rd(r, IIR), 0xC0);       /* modem status, the lowest */
    wr(r, THR, 'a');                          /* THRE again, and a looped byte */
    assert_int_equal(rd(r, IIR), 0xC4);       /* received data outranks THRE */
    for (int i = 0; i < 16; i++)
        wr(r, THR, 'b');                      /* overruns the FIFO */
    assert_int_equal(rd(r, IIR), 0xC6);       /* line status: the highest */
    (void)rd(r, LSR);
    assert_int_equal(rd(r, IIR), 0xC4);
    while (rd(r, LSR) & 0x01)
        (void)rd(r, RBR);
    assert_int_equal(rd(r, IIR), 0xC2);
    assert_int_equal(rd(r, IIR), 0xC0);
    (void)rd(r, MSR);
    assert_int_equal(rd(r, IIR), 0xC1);
    rig_destroy(r);
}

static void test_irq_line_and_out2(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, IER, 0x02);                         /* THRE pending at once ... */
    assert_int_equal(rd(r, IIR) & 0x0F, 0x02);
    assert_int_equal(r->level, 0);            /* ... but without OUT2 not on the bus */
    wr(r, IER, 0x00);
    wr(r, MCR, 0x08);
    wr(r, IER, 0x02);
    assert_int_equal(r->level, 1);
    assert_int_equal(rd(r, IIR) & 0x0F, 0x02);
    assert_int_equal(r->level, 0);            /* the IIR read cleared it */
    wr(r, IER, 0x01);
    x86_uart_receive(&r->u, 'r');
    assert_int_equal(r->level, 1);
    wr(r, MCR, 0x00);                         /* OUT2 off: the line drops, the source stays */
    assert_int_equal(r->level, 0);
    assert_int_equal(rd(r, IIR) & 0x0F, 0x04);
    wr(r, MCR, 0x08);
    assert_int_equal(r->level, 1);
    wr(r, MCR, 0x18);                         /* loopback forces the OUT2 pin inactive */
    assert_int_equal(r->level, 0);
    wr(r, MCR, 0x08);
    assert_int_equal(r->level, 1);
    (void)rd(r, RBR);
    assert_int_equal(r->level, 0);
    assert_int_equal(r->rises, 4);
    assert_int_equal(r->changes, 8);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ Linux's 8250 driver */

/* autoconfig() and autoconfig_16550a() of drivers/tty/serial/8250/8250_port.c, step by step,
 * with the values that decide the type */
static void test_linux_autoconfig(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, MCR, 0x03); /* whatever the console left */
    /* the IER test: IER reads back 0 and 0x0F in its low nibble */
    uint8_t scratch = rd(r, IER);
    wr(r, IER, 0);
    uint8_t scratch2 = rd(r, IER) & 0x0F;
    wr(r, IER, 0x0F);
    uint8_t scratch3 = rd(r, IER) & 0x0F;
    wr(r, IER, scratch);
    assert_int_equal(scratch2, 0);
    assert_int_equal(scratch3, 0x0F);
    uint8_t save_mcr = rd(r, MCR), save_lcr = rd(r, LCR);
    /* the loopback test (skipped with UPF_SKIP_TEST, run otherwise) */
    wr(r, MCR, 0x10 | 0x0A);
    uint8_t status1 = rd(r, MSR) & 0xF0;
    wr(r, MCR, save_mcr);
    assert_int_equal(status1, 0x90);
    /* EFR cleared through LCR 0xBF (a write to FCR here), then the FIFO probe */
    wr(r, LCR, 0xBF);
    wr(r, 2, 0);
    wr(r, LCR, 0);
    wr(r, FCR, 0x01);
    scratch = rd(r, IIR) >> 6;
    assert_int_equal(scratch, 3);  /* 0: 8250/16450, 1: unknown, 2: 16550, 3: 16550A */
    /* autoconfig_16550a: no EFR under LCR 0x80 or 0xBF (offset 2 reads IIR, never 0) */
    wr(r, LCR, 0x80);
    assert_int_not_equal(rd(r, 2), 0);
    wr(r, LCR, 0xBF);
    assert_int_not_equal(rd(r, 2), 0);
    /* not a National SuperIO: EXCR1 (offset 2 under LCR 0xE0) does not follow MCR.LOOP */
    wr(r, LCR, 0);
    status1 = rd(r, MCR);
    wr(r, LCR, 0xE0);
    uint8_t status2 = rd(r, 2);
    assert_int_equal((status2 ^ status1) & 0x10, 0);
    wr(r, LCR, 0);
    wr(r, MCR, status1 ^ 0x10);
    wr(r, LCR, 0xE0);
    status2 = rd(r, 2);
    wr(r, LCR, 0);
    wr(r, MCR, status1);
    assert_int_equal((status2 ^ status1) & 0x10, 0);
    /* not a TI16750: IIR bit 5 (64-byte FIFO) stays 0 with and without DLAB */
    wr(r, LCR, 0);
    wr(r, FCR, 0x01 | 0x20);
    status1 = rd(r, IIR) >> 5;
    wr(r, FCR, 0x01);
    wr(r, LCR, 0x80);
    wr(r, FCR, 0x01 | 0x20);
    status2 = rd(r, IIR) >> 5;
    wr(r, FCR, 0x01);
    wr(r, LCR, 0);
    assert_int_equal(status1, 6);
    assert_int_equal(status2, 6); /* a 16750 gives 7 */
    /* not an XScale: IER bit 6 (UUE) does not stick */
    uint8_t iersave = rd(r, IER);
    wr(r, IER, iersave & (uint8_t)~0x40);
    assert_int_equal(rd(r, IER) & 0x40, 0);
    wr(r, IER, iersave | 0x40);
    assert_int_equal(rd(r, IER) & 0x40, 0);
    wr(r, IER, iersave);
    /* size_fifo(): 256 bytes looped back at divisor 1, count what arrived: 16, not 64 (U6) */
    uint8_t old_lcr = rd(r, LCR);
    wr(r, LCR, 0);
    uint8_t old_fcr = rd(r, FCR); /* reads IIR, as the driver does */
    uint8_t old_mcr = rd(r, MCR);
    wr(r, FCR, 0x07);
    wr(r, MCR, 0x10);
    wr(r, LCR, 0x80);
    uint16_t old_dl = (uint16_t)(rd(r, DLL) | rd(r, DLM) << 8);
    wr(r, DLL, 1);
    wr(r, DLM, 0);
    wr(r, LCR, 0x03);
    for (int count = 0; count < 256; count++)
        wr(r, THR, (uint8_t)count);
    advance_to(r, r->cycles + 20000000); /* mdelay(20) */
    int count = 0;
    for (; (rd(r, LSR) & 0x01) && count < 256; count++)
        assert_int_equal(rd(r, RBR), count);
    assert_int_equal(count, 16);
    wr(r, FCR, old_fcr);
    wr(r, MCR, old_mcr);
    wr(r, LCR, 0x80);
    wr(r, DLL, (uint8_t)old_dl);
    wr(r, DLM, (uint8_t)(old_dl >> 8));
    wr(r, LCR, old_lcr);
    assert_int_equal(old_dl, 0x000C);
    assert_int_equal(r->out_count, 0); /* the loopback sent nothing to the host */
    /* the reset at the end of autoconfig */
    wr(r, LCR, save_lcr);
    wr(r, MCR, save_mcr);
    wr(r, FCR, 0x01);
    wr(r, FCR, 0x07);
    wr(r, FCR, 0x00);
    (void)rd(r, RBR);
    wr(r, IER, 0);
    assert_int_equal(rd(r, IIR), 0x01);
    assert_int_equal(rd(r, LSR), 0x60);
    /* with the FIFOs off the chip looks like a 16450 (IIR bits 7-6 = 0), which the scratch
     * test of autoconfig_8250 would then accept */
    wr(r, SCR, 0xA5);
    assert_int_equal(rd(r, SCR), 0xA5);
    wr(r, SCR, 0x5A);
    assert_int_equal(rd(r, SCR), 0x5A);
    assert_int_equal(r->level, 0);
    rig_destroy(r);
}

/* serial8250_do_startup: the THRE test (UART_BUG_THRE), the TX-enable test (UART_BUG_TXEN),
 * then set_termios, the interrupt-driven TX path and the console's polled writes */
static void test_linux_startup_and_transmit(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    wr(r, MCR, 0x01);                        /* the console's DTR */
    wr(r, FCR, 0x01);                        /* serial8250_clear_fifos */
    wr(r, FCR, 0x07);
    wr(r, FCR, 0x00);
    (void)rd(r, LSR);
    (void)rd(r, RBR);
    (void)rd(r, IIR);
    (void)rd(r, MSR);
    assert_int_not_equal(rd(r, LSR), 0xFF);  /* the "LSR safety check" */
    /* the THRE test */
    assert_true(rd(r, LSR) & 0x20);           /* wait_for_xmitr(THRE) */
    wr(r, IER, 0x02);
    uint8_t iir1 = rd(r, IIR);
    wr(r, IER, 0);
    wr(r, IER, 0x02);
    uint8_t iir = rd(r, IIR);
    wr(r, IER, 0);
    assert_int_equal(iir1, 0x02);            /* THRE shows ... */
    assert_int_equal(iir, 0x02);             /* ... and is reasserted: no UART_BUG_THRE */
    assert_int_equal(r->level, 0);           /* OUT2 still off */
    /* the UART initialised: 8N1, DTR RTS OUT2 */
    wr(r, LCR, 0x03);
    wr(r, MCR, 0x0B);
    /* the TX-enable test: TEMT with no interrupt would mean UART_BUG_TXEN */
    wr(r, IER, 0x02);
    assert_int_equal(r->level, 1);
    uint8_t lsr = rd(r, LSR);
    iir = rd(r, IIR);
    wr(r, IER, 0);
    assert_false((lsr & 0x40) && (iir & 0x01));
    assert_int_equal(r->level, 0);
    (void)rd(r, LSR);
    (void)rd(r, RBR);
    (void)rd(r, IIR);
    (void)rd(r, MSR);
    /* set_termios: 115200, FIFO trigger 8, receive interrupts */
    wr(r, IER, 0x05);
    program_line(r, 1, 0x03, 0x81);
    assert_int_equal(rd(r, IIR), 0xC1);
    /* a write: start_tx sets IER.THRI; each interrupt loads up to 16 bytes (tx_loadsz) */
    const char *text = "a line longer than sixteen bytes\r\n";
    size_t length = strlen(text), sent = 0;
    unsigned interrupts = 0;
    unsigned rises = r->rises;
    wr(r, IER, 0x07);
    while (r->level) {
        interrupts++;
        uint8_t id = rd(r, IIR);             /* serial8250_default_handle_irq */
        assert_int_equal(id, 0xC2);
        uint8_t status = rd(r, LSR);
        assert_true(status & 0x20);
        for (int count = 16; count > 0 && sent < length; count--)
            wr(r, THR, (uint8_t)text[sent++]);
        if (sent == length)
            wr(r, IER, 0x05);                /* __stop_tx */
        assert_true(interrupts < 10);
    }
    /* every batch of THR writes raises the line again: a new edge for the IOAPIC */
    assert_int_equal(interrupts, 3);
    assert_int_equal(r->rises - rises, 4);
    assert_int_equal(r->out_count, length);
    assert_memory_equal(r->out, text, length);
    /* serial8250_console_write: IER 0, poll THRE before each byte, BOTH_EMPTY at the end */
    uint8_t ier = rd(r, IER);
    wr(r, IER, 0);
    for (const char *p = "ok\n"; *p; p++) {
        assert_true(rd(r, LSR) & 0x20);      /* the first poll succeeds: no 10 ms waits */
        wr(r, THR, (uint8_t)*p);
    }
    assert_int_equal(rd(r, LSR) & 0x60, 0x60);
    wr(r, IER, ier);
    assert_int_equal(r->out_count, length + 3);
    assert_int_equal(r->level, 0);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ host input */

/* what Linux leaves when the tty is open: 115200 8N1, FIFO trigger 8, RX interrupts, DTR RTS
 * OUT2 */
static void open_like_linux(struct rig *r)
{
    program_line(r, 1, 0x03, 0x81);
    wr(r, MCR, 0x0B);
    wr(r, IER, 0x05);
}

static void test_host_input_at_the_line_rate(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    open_like_linux(r);
    advance_to(r, 500);
    x86_uart_host_input(&r->u, (const uint8_t *)"hello\n", 6);
    assert_int_equal(x86_uart_host_pending(&r->u), 6);
    for (unsigned k = 1; k <= 6; k++) {
        uint64_t due = after(500, 20ull * k, HZ); /* back to back: k characters */
        advance_to(r, due - 1);
        assert_int_equal(x86_uart_host_pending(&r->u), 6 - (k - 1));
        assert_int_equal(r->u.rx_count, k - 1);
        advance_to(r, due);
        assert_int_equal(x86_uart_host_pending(&r->u), 6 - k);
        assert_int_equal(rd(r, LSR), 0x61);
    }
    /* 6 bytes, below the trigger: the time-out, 4 characters after the last stop bit */
    assert_int_equal(rd(r, IIR), 0xC1);
    uint64_t due = after(500, 20 * 10, HZ);
    advance_to(r, due - 1);
    assert_int_equal(r->level, 0);
    advance_to(r, due);
    assert_int_equal(r->level, 1);
    assert_int_equal(rd(r, IIR), 0xCC);
    char got[7] = { 0 };
    for (int i = 0; rd(r, LSR) & 0x01; i++)
        got[i] = (char)rd(r, RBR);
    assert_string_equal(got, "hello\n");
    assert_int_equal(r->level, 0);
    assert_int_equal(x86_uart_host_dropped(&r->u), 0);
    rig_destroy(r);
}

static void test_host_input_waits_for_the_receiver(void **state)
{
    (void)state;
    struct rig *r = rig_create(HZ);
    program_line(r, 1, 0x03, 0x81);
    x86_uart_host_input(&r->u, (const uint8_t *)"abc", 3);
    advance_to(r, 10000000);                 /* IER.ERBFI clear: nothing is sent */
    assert_int_equal(x86_uart_host_pending(&r->u), 3);
    assert_int_equal(rd(r, LSR), 0x60);
    wr(r, IER, 0x01);                        /* RTS clear: still nothing */
    advance_to(r, 20000000);
    assert_int_equal(x86_uart_host_pending(&r->u), 3);
    wr(r, MCR, 0x1B);                        /* loopback: the input is disconnected */
    advance_to(r, 30000000);
    assert_int_equal(x86_uart_host_pending(&r->u), 3);
    wr(r, MCR, 0x0B);                        /* ready: the first character takes one frame */
    uint64_t ready = r->cycles;
    advance_to(r, after(ready, 20, HZ) - 1);
    assert_int_equal(rd(r, LSR) & 0x01, 0);
    advance_to(r, after(ready, 20, HZ));
    assert_int_equal(rd(r, LSR) & 0x01, 1);
    /* receive interrupts off mid-stream: the character on the line still arrives, then the
     * sender waits */
    advance_to(r, after(ready, 30, HZ));
    wr(r, IER, 0x00);
    advance_to(r, after(ready, 40, HZ));
    assert_int_equal(r->u.rx_count, 2);
    advance_to(r, after(ready, 400, HZ));
    assert_int_equal(r->u.rx_count, 2);
    assert_int_equal(x86_uart_host_pending(&r->u), 1);
    assert_int_equal(rd(r, RBR), 'a');
    assert_int_equal(rd(r, RBR), 'b');
    wr(r, IER, 0x01);
    uint64_t again = r->cycles;
    advance_to(r, after(again, 20, HZ));
    assert_int_equal(rd(r, RBR), 'c');
    assert_int_equal(x86_uart_host_pending(&r->u), 0);
    rig_destroy(r);
}

/* 1000 bytes through a guest-like reader: it takes the interrupt some time after the line
 * rises and empties the FIFO, as serial8250_rx_chars does. Nothing may be lost or overrun,
 * and the stream can never be faster than the line. */
static void run_reader(uint64_t latency, unsigned max_per_interrupt)
{
    struct rig *r = rig_create(HZ);
    open_like_linux(r);
    uint8_t input[1000], got[1000];
    for (size_t i = 0; i < sizeof(input); i++)
        input[i] = (uint8_t)(i * 7 + (i >> 8));
    x86_uart_host_input(&r->u, input, sizeof(input));
    size_t count = 0;
    uint64_t handler_at = UINT64_MAX;
    unsigned guard = 0;
    while (count < sizeof(input)) {
        assert_true(++guard < 100000);
        uint64_t next = x86_events_next_cycle(&r->queue);
        if (r->level && handler_at == UINT64_MAX)
            handler_at = r->cycles + latency;
        uint64_t to = next < handler_at ? next : handler_at;
        assert_true(to != UINT64_MAX);
        advance_to(r, to > r->cycles ? to : r->cycles);
        if (r->cycles >= handler_at) {
            handler_at = UINT64_MAX;
            uint8_t id = rd(r, IIR);
            assert_true(id == 0xC4 || id == 0xCC);
            unsigned taken = 0;
            uint8_t lsr;
            while (((lsr = rd(r, LSR)) & 0x01) && taken < max_per_interrupt) {
                assert_int_equal(lsr & 0x02, 0); /* never an overrun */
                got[count++] = rd(r, RBR);
                taken++;
            }
        }
        assert_true(r->u.rx_count <= X86_UART_RX_FIFO);
    }
    assert_memory_equal(got, input, sizeof(input));
    assert_true(r->cycles >= after(0, 20ull * 1000, HZ)); /* not faster than the line */
    assert_int_equal(x86_uart_host_pending(&r->u), 0);
    assert_int_equal(x86_uart_host_dropped(&r->u), 0);
    rig_destroy(r);
}

static void test_host_input_lossless_with_a_slow_reader(void **state)
{
    (void)state;
    run_reader(2000, 16);                    /* a prompt handler */
    run_reader(5000000, 16);                 /* 5 ms late each time: the FIFO fills, waits */
    run_reader(3000000, 1);                  /* one byte per late interrupt */
}

/* the host queue without a clock (bytes move in as room allows), its growth across the ring's
 * wrap, the 1 MiB bound and the drop count */
static void test_host_queue(void **state)
{
    (void)state;
    struct x86_uart u;
    x86_uart_init(&u, NULL, NULL);
    x86_uart_write(&u, FCR, 1, 0x01);
    x86_uart_write(&u, MCR, 1, 0x02);
    x86_uart_write(&u, IER, 1, 0x01);
    static uint8_t data[12000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    size_t fed = 3000, read = 0;
    x86_uart_host_input(&u, data, fed);
    assert_int_equal(x86_uart_host_pending(&u), fed - 16); /* 16 went into the FIFO at once */
    while (read < sizeof(data)) {
        assert_int_equal((uint8_t)x86_uart_read(&u, RBR, 1), data[read]);
        read++;
        if (read % 1000 == 0 && fed < sizeof(data)) { /* more while the ring has wrapped */
            x86_uart_host_input(&u, data + fed, 3000);
            fed += 3000;
        }
    }
    assert_int_equal(x86_uart_host_pending(&u), 0);
    assert_int_equal(x86_uart_read(&u, LSR, 1) & 0x01, 0);
    x86_uart_write(&u, IER, 1, 0x00);
    uint8_t *big = calloc(1, X86_UART_HOST_QUEUE_LIMIT + 10);
    assert_non_null(big);
    x86_uart_host_input(&u, big, X86_UART_HOST_QUEUE_LIMIT + 10);
    assert_int_equal(x86_uart_host_pending(&u), X86_UART_HOST_QUEUE_LIMIT);
    assert_int_equal(x86_uart_host_dropped(&u), 10);
    x86_uart_host_input(&u, big, 5);
    assert_int_equal(x86_uart_host_dropped(&u), 15);
    x86_uart_host_input(&u, NULL, 0);
    assert_int_equal(x86_uart_host_dropped(&u), 15);
    free(big);
    x86_uart_finish(&u);
    x86_uart_finish(&u); /* twice is harmless */
    assert_int_equal(x86_uart_host_pending(&u), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_transmit_and_scratch),
        cmocka_unit_test(test_divisor_latch_and_dlab),
        cmocka_unit_test(test_wide_and_bad_accesses),
        cmocka_unit_test(test_fifo_trigger_levels),
        cmocka_unit_test(test_fifo_overrun),
        cmocka_unit_test(test_holding_register_without_fifos),
        cmocka_unit_test(test_fifo_control),
        cmocka_unit_test(test_character_timeout),
        cmocka_unit_test(test_character_time_formats),
        cmocka_unit_test(test_loopback_and_modem_status),
        cmocka_unit_test(test_interrupt_priority),
        cmocka_unit_test(test_irq_line_and_out2),
        cmocka_unit_test(test_linux_autoconfig),
        cmocka_unit_test(test_linux_startup_and_transmit),
        cmocka_unit_test(test_host_input_at_the_line_rate),
        cmocka_unit_test(test_host_input_waits_for_the_receiver),
        cmocka_unit_test(test_host_input_lossless_with_a_slow_reader),
        cmocka_unit_test(test_host_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
