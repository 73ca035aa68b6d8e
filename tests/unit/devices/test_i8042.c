/* Unit tests of src/devices/i8042.c: the keyboard controller and its keyboard through ports 0x60
 * and 0x64. The main test follows Linux 6.1's probe (drivers/input/serio/i8042.c, then atkbd.c
 * on both ports) step by step, with the bytes, status bits and interrupt edges that the
 * driver's code depends on; the helpers below are that code's logic (i8042_command's
 * parameter encoding, i8042_flush, the interrupt handler's status-then-data read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/i8042.h"
#include "platform/bus.h"

#define MAX_EDGES 256

/* status bits */
#define OBF 0x01
#define IBF 0x02
#define SYS 0x04
#define CMD 0x08
#define KEYLOCK 0x10
#define AUXB 0x20
#define TIMEOUT 0x40

/* Linux's i8042.h command encoding: (send << 12) | (receive << 8) | command */
#define CMD_CTL_RCTR 0x0120
#define CMD_CTL_WCTR 0x1060
#define CMD_CTL_TEST 0x01aa
#define CMD_AUX_DISABLE 0x00a7
#define CMD_AUX_ENABLE 0x00a8
#define CMD_AUX_TEST 0x01a9
#define CMD_AUX_LOOP 0x11d3
#define CMD_AUX_SEND 0x10d4
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

struct edge { int line, level; };

struct rig {
    struct x86_bus bus;
    struct x86_i8042 kbc;
    struct edge edges[MAX_EDGES];
    size_t edge_count;
    int level[16];
    unsigned resets;
};

static void record_irq(void *opaque, int line, int level)
{
    struct rig *r = opaque;
    assert_true(line == 1 || line == 12);
    assert_int_not_equal(r->level[line], level); /* only changes are reported */
    r->level[line] = level;
    if (r->edge_count < MAX_EDGES)
        r->edges[r->edge_count++] = (struct edge){ line, level };
}

static void count_reset(void *opaque)
{
    struct rig *r = opaque;
    r->resets++;
}

static struct rig *rig_create(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_true(x86_bus_init(&r->bus, 4096));
    x86_i8042_init(&r->kbc);
    r->kbc.kbd_irq = (struct x86_irq_wire){ record_irq, r, 1 };
    r->kbc.aux_irq = (struct x86_irq_wire){ record_irq, r, 12 };
    r->kbc.reset = count_reset;
    r->kbc.opaque = r;
    assert_int_equal(x86_i8042_attach(&r->kbc, &r->bus), X86IRQ_OK);
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_bus_finish(&r->bus);
    free(r);
}

static uint8_t status(struct rig *r)
{
    uint8_t s = (uint8_t)x86_bus_port_read(&r->bus, 0x64, 1);
    assert_int_equal(s & IBF, 0); /* commands complete at once */
    return s;
}

static uint8_t data(struct rig *r)
{
    return (uint8_t)x86_bus_port_read(&r->bus, 0x60, 1);
}

static void write_command(struct rig *r, uint8_t command)
{
    assert_int_equal(status(r) & IBF, 0); /* i8042_wait_write */
    x86_bus_port_write(&r->bus, 0x64, 1, command);
}

static void write_data(struct rig *r, uint8_t byte)
{
    assert_int_equal(status(r) & IBF, 0);
    x86_bus_port_write(&r->bus, 0x60, 1, byte);
}

/* __i8042_command: 0 on success; a missing result byte is the driver's time-out */
static int i8042_command(struct rig *r, uint8_t *param, int command)
{
    write_command(r, (uint8_t)command);
    for (int i = 0; i < ((command >> 12) & 0xf); i++)
        write_data(r, param[i]);
    for (int i = 0; i < ((command >> 8) & 0xf); i++) {
        if (!(status(r) & OBF))
            return -1; /* i8042_wait_read would time out */
        if (command == CMD_AUX_LOOP && !(status(r) & AUXB))
            return -1; /* "auxerr" */
        param[i] = data(r);
    }
    return 0;
}

/* i8042_flush: read while OBF, at most I8042_BUFFER_SIZE (16) bytes; returns the count */
static int flush(struct rig *r)
{
    int count = 0;
    while (status(r) & OBF) {
        assert_true(count < 16);
        data(r);
        count++;
    }
    return count;
}

static void expect_edge(struct rig *r, size_t index, int line, int level)
{
    assert_true(index < r->edge_count);
    assert_int_equal(r->edges[index].line, line);
    assert_int_equal(r->edges[index].level, level);
}

/* One run of i8042_interrupt for a byte that raised line: the edge came, the status is
 * expected_status, the byte expected_byte, and the read lowers the line */
static void interrupt(struct rig *r, int line, uint8_t expected_status, uint8_t expected_byte)
{
    assert_int_equal(r->level[line], 1);
    assert_int_equal(r->level[line == 1 ? 12 : 1], 0);
    size_t edges = r->edge_count;
    assert_int_equal(status(r), expected_status);
    assert_int_equal(data(r), expected_byte);
    expect_edge(r, edges, line, 0);
}

/* A keyboard command byte and its replies, each delivered by its own IRQ 1 edge */
static void kbd_exchange(struct rig *r, uint8_t byte, const uint8_t *replies, size_t count)
{
    size_t edges = r->edge_count;
    write_data(r, byte); /* i8042_kbd_write */
    for (size_t i = 0; i < count; i++) {
        expect_edge(r, edges + 2 * i, 1, 1);
        interrupt(r, 1, OBF | SYS | KEYLOCK, replies[i]);
    }
    assert_int_equal(r->edge_count, edges + 2 * count);
    assert_int_equal(status(r) & OBF, 0);
}

/* ------------------------------------------------------------------ Linux's probe */

static void test_linux_probe_sequence(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    uint8_t param, ctr[2];

    /* i8042_controller_check: nothing to flush */
    assert_int_equal(flush(r), 0);
    assert_int_equal(status(r), SYS | KEYLOCK);

    /* i8042_controller_init: two equal CTR reads, keylock off, translation on */
    assert_int_equal(i8042_command(r, &ctr[0], CMD_CTL_RCTR), 0);
    assert_int_equal(i8042_command(r, &ctr[1], CMD_CTL_RCTR), 0);
    assert_int_equal(ctr[0], 0x65);
    assert_int_equal(ctr[1], 0x65);
    uint8_t i8042_ctr = ctr[0];
    i8042_ctr |= CTR_KBDDIS;
    i8042_ctr &= (uint8_t)~CTR_KBDINT;
    assert_true(status(r) & KEYLOCK); /* no "Warning: Keylock active" */
    assert_true(i8042_ctr & CTR_XLATE); /* i8042_direct stays false */
    assert_int_equal(i8042_command(r, &i8042_ctr, CMD_CTL_WCTR), 0);
    assert_int_equal(flush(r), 0);
    /* with the BIOS's KBDINT on, each CTR result raised IRQ 1 (not yet requested by Linux) */
    assert_int_equal(r->edge_count, 4);
    for (size_t i = 0; i < 4; i++)
        expect_edge(r, i, 1, i % 2 == 0);
    size_t base = r->edge_count;

    /* i8042_check_aux: the loopback works (the byte comes back as AUX data, no IRQ 12 while
     * AUXINT is off) */
    assert_int_equal(flush(r), 0);
    param = 0x5a;
    write_command(r, 0xd3);
    write_data(r, param);
    assert_int_equal(status(r), OBF | SYS | KEYLOCK | AUXB);
    assert_int_equal(r->edge_count, base);
    assert_int_equal(data(r), 0x5a);
    param = 0x5a;
    assert_int_equal(i8042_command(r, &param, CMD_AUX_LOOP), 0);
    assert_int_equal(param, 0x5a);
    /* i8042_toggle_aux(false) then (true): the AUXDIS bit follows at once */
    assert_int_equal(i8042_command(r, &param, CMD_AUX_DISABLE), 0);
    assert_int_equal(i8042_command(r, &param, CMD_CTL_RCTR), 0);
    assert_int_equal(param, 0x74);
    assert_int_equal(i8042_command(r, &param, CMD_AUX_ENABLE), 0);
    assert_int_equal(i8042_command(r, &param, CMD_CTL_RCTR), 0);
    assert_int_equal(param, 0x54);
    /* the AUX IRQ delivery test: enable the port, loop 0xa5 without reading the result */
    i8042_ctr &= (uint8_t)~CTR_AUXDIS;
    i8042_ctr |= CTR_AUXINT;
    assert_int_equal(i8042_command(r, &i8042_ctr, CMD_CTL_WCTR), 0);
    assert_int_equal(r->edge_count, base);
    param = 0xa5;
    assert_int_equal(i8042_command(r, &param, CMD_AUX_LOOP & 0xf0ff), 0);
    expect_edge(r, base, 12, 1);
    interrupt(r, 12, OBF | SYS | KEYLOCK | AUXB, 0xa5); /* i8042_aux_test_irq completes */
    i8042_ctr |= CTR_AUXDIS;
    i8042_ctr &= (uint8_t)~CTR_AUXINT;
    assert_int_equal(i8042_command(r, &i8042_ctr, CMD_CTL_WCTR), 0);

    /* i8042_check_mux: the three loopbacks come back unchanged: not a multiplexer */
    assert_int_equal(flush(r), 0);
    static const uint8_t mux_probe[3] = { 0xf0, 0x56, 0xa4 };
    for (int i = 0; i < 3; i++) {
        param = mux_probe[i];
        assert_int_equal(i8042_command(r, &param, CMD_AUX_LOOP), 0);
        assert_int_equal(param, mux_probe[i]); /* the last equal: "return -1", no MUX */
    }

    /* i8042_setup_aux (legacy port) and i8042_setup_kbd */
    i8042_ctr &= (uint8_t)~CTR_AUXDIS;
    i8042_ctr |= CTR_AUXINT;
    assert_int_equal(i8042_command(r, &i8042_ctr, CMD_CTL_WCTR), 0);
    i8042_ctr &= (uint8_t)~CTR_KBDDIS;
    i8042_ctr |= CTR_KBDINT;
    assert_int_equal(i8042_command(r, &i8042_ctr, CMD_CTL_WCTR), 0);
    assert_int_equal(i8042_ctr, 0x47);
    assert_int_equal(r->edge_count, base + 2);

    /* atkbd_probe on serio0: GET ID, 0xfa 0xab 0x41 (0x83 translated) */
    static const uint8_t get_id[] = { 0xfa, 0xab, 0x41 };
    kbd_exchange(r, 0xf2, get_id, 3);
    assert_int_equal(r->edge_count, base + 8);
    /* atkbd_connect/atkbd_activate: reset-disable, LEDs, typematic, enable */
    static const uint8_t ack[] = { 0xfa };
    kbd_exchange(r, 0xf5, ack, 1);
    kbd_exchange(r, 0xed, ack, 1);
    kbd_exchange(r, 0x00, ack, 1);
    kbd_exchange(r, 0xf3, ack, 1);
    kbd_exchange(r, 0x00, ack, 1);
    kbd_exchange(r, 0xf4, ack, 1);
    assert_int_equal(r->kbc.kbd_leds, 0);
    assert_int_equal(r->kbc.kbd_typematic, 0);
    assert_true(r->kbc.kbd_scanning);

    /* atkbd_probe on serio1, the AUX port with nothing attached: every byte times out at once
     * with 0xfe (libps2: a NAK, one retry) on IRQ 12 with AUXB and TIMEOUT */
    static const uint8_t aux_bytes[] = { 0xf2, 0xf2, 0xed, 0xed };
    for (int i = 0; i < 4; i++) {
        size_t edges = r->edge_count;
        param = aux_bytes[i];
        assert_int_equal(i8042_command(r, &param, CMD_AUX_SEND), 0); /* i8042_aux_write */
        expect_edge(r, edges, 12, 1);
        interrupt(r, 12, OBF | SYS | KEYLOCK | AUXB | TIMEOUT, 0xfe);
        assert_int_equal(r->edge_count, edges + 2);
    }
    /* i8042_port_close on the AUX port, then i8042_interrupt(0): nothing pending */
    i8042_ctr &= (uint8_t)~CTR_AUXINT;
    assert_int_equal(i8042_command(r, &i8042_ctr, CMD_CTL_WCTR), 0);
    i8042_ctr &= (uint8_t)~CTR_AUXDIS;
    i8042_ctr |= CTR_AUXINT;
    assert_int_equal(i8042_command(r, &i8042_ctr, CMD_CTL_WCTR), 0);
    assert_int_equal(status(r) & OBF, 0);
    assert_int_equal(r->level[1], 0);
    assert_int_equal(r->level[12], 0);
    assert_int_equal(r->resets, 0);
    rig_destroy(r);
}

/* i8042_controller_selftest (i8042.reset, and on resume): 0xaa -> 0x55, sets the system flag;
 * the keyboard and AUX interface tests report no error */
static void test_self_tests(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    uint8_t param = 0x00;
    /* a CCB without the system flag clears SYS; the self test sets it again */
    assert_int_equal(i8042_command(r, &param, CMD_CTL_WCTR), 0);
    assert_int_equal(status(r) & SYS, 0);
    assert_int_equal(i8042_command(r, &param, CMD_CTL_TEST), 0);
    assert_int_equal(param, 0x55);
    assert_int_equal(status(r), SYS | KEYLOCK | CMD);
    assert_int_equal(i8042_command(r, &param, CMD_CTL_RCTR), 0);
    assert_int_equal(param, 0x04);
    assert_int_equal(i8042_command(r, &param, CMD_AUX_TEST), 0);
    assert_int_equal(param, 0x00);
    assert_int_equal(i8042_command(r, &param, 0x01ab), 0);
    assert_int_equal(param, 0x00);
    assert_int_equal(i8042_command(r, &param, 0x01c0), 0); /* input port: not inhibited */
    assert_int_equal(param & 0x80, 0x80);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ the keyboard */

static void test_keyboard_commands(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    static const uint8_t reset[] = { 0xfa, 0xaa };
    static const uint8_t ack[] = { 0xfa };
    kbd_exchange(r, 0xff, reset, 2); /* atkbd reset: ACK then BAT passed */
    static const uint8_t echo[] = { 0xee };
    kbd_exchange(r, 0xee, echo, 1);
    kbd_exchange(r, 0xfe, echo, 1); /* resend: the last byte again */
    static const uint8_t resend[] = { 0xfe };
    kbd_exchange(r, 0x01, resend, 1); /* not a command */
    /* scan code sets: query (the set number goes through translation: 2 -> 0x41), set 3 */
    static const uint8_t set_translated[] = { 0xfa, 0x41 };
    kbd_exchange(r, 0xf0, ack, 1);
    kbd_exchange(r, 0x00, set_translated, 2);
    kbd_exchange(r, 0xf0, ack, 1);
    kbd_exchange(r, 0x03, ack, 1);
    assert_int_equal(r->kbc.kbd_scancode_set, 3);
    kbd_exchange(r, 0xf0, ack, 1);
    kbd_exchange(r, 0x07, resend, 1); /* not a set: asked again */
    kbd_exchange(r, 0x01, ack, 1);
    assert_int_equal(r->kbc.kbd_scancode_set, 1);
    /* LEDs */
    kbd_exchange(r, 0xed, ack, 1);
    kbd_exchange(r, 0x07, ack, 1);
    assert_int_equal(r->kbc.kbd_leds, 7);
    /* without translation, raw replies: GET ID's 0x83, the set number */
    uint8_t ccb = 0x45 & ~CTR_XLATE;
    assert_int_equal(i8042_command(r, &ccb, CMD_CTL_WCTR), 0);
    static const uint8_t get_id_raw[] = { 0xfa, 0xab, 0x83 };
    kbd_exchange(r, 0xf2, get_id_raw, 3);
    static const uint8_t set_raw[] = { 0xfa, 0x01 };
    kbd_exchange(r, 0xf0, ack, 1);
    kbd_exchange(r, 0x00, set_raw, 2);
    /* reset restores the defaults */
    kbd_exchange(r, 0xff, reset, 2);
    assert_int_equal(r->kbc.kbd_scancode_set, 2);
    assert_int_equal(r->kbc.kbd_leds, 0);
    rig_destroy(r);
}

/* Scan codes: set 2 from the keyboard, set 1 to the host with translation, one IRQ 1 edge
 * each; the 0xf0 break prefix is swallowed and sets bit 7 */
static void test_scan_code_translation(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    static const uint8_t make_break_a[] = { 0x1c, 0xf0, 0x1c, 0x76, 0xf0, 0x76, 0x83, 0xe0, 0x75 };
    static const uint8_t translated[] = { 0x1e, 0x9e, 0x01, 0x81, 0x41, 0xe0, 0x48 };
    for (size_t i = 0; i < sizeof(make_break_a); i++)
        assert_true(x86_i8042_key(&r->kbc, make_break_a[i]));
    for (size_t i = 0; i < sizeof(translated); i++) {
        expect_edge(r, r->edge_count - 1, 1, 1);
        interrupt(r, 1, OBF | SYS | KEYLOCK, translated[i]);
    }
    assert_int_equal(status(r) & OBF, 0);
    /* without translation the bytes pass unchanged */
    uint8_t ccb = 0x05;
    assert_int_equal(i8042_command(r, &ccb, CMD_CTL_WCTR), 0);
    assert_true(x86_i8042_key(&r->kbc, 0xf0));
    assert_true(x86_i8042_key(&r->kbc, 0x1c));
    interrupt(r, 1, OBF | SYS | KEYLOCK, 0xf0);
    interrupt(r, 1, OBF | SYS | KEYLOCK, 0x1c);
    /* a disabled keyboard sends nothing; the buffer holds 16 bytes */
    static const uint8_t ack[] = { 0xfa };
    kbd_exchange(r, 0xf5, ack, 1);
    assert_false(x86_i8042_key(&r->kbc, 0x1c));
    kbd_exchange(r, 0xf4, ack, 1);
    write_command(r, 0xad); /* keyboard interface off: the bytes wait in the keyboard */
    for (int i = 0; i < 16; i++)
        assert_true(x86_i8042_key(&r->kbc, (uint8_t)(0x10 + i)));
    assert_false(x86_i8042_key(&r->kbc, 0x30));
    assert_int_equal(status(r) & OBF, 0);
    size_t edges = r->edge_count;
    write_command(r, 0xae);
    for (int i = 0; i < 16; i++) {
        expect_edge(r, edges + 2 * (size_t)i, 1, 1);
        interrupt(r, 1, OBF | SYS | KEYLOCK | CMD, (uint8_t)(0x10 + i));
    }
    assert_int_equal(status(r) & OBF, 0);
    rig_destroy(r);
}

/* Enabling the interrupt with a byte already waiting raises the line; disabling lowers it */
static void test_interrupt_enable_follows_buffer(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    uint8_t ccb = 0x64; /* no interrupts */
    assert_int_equal(i8042_command(r, &ccb, CMD_CTL_WCTR), 0);
    write_command(r, 0xd2); /* write the keyboard output buffer */
    write_data(r, 0x99);
    assert_int_equal(status(r), OBF | SYS | KEYLOCK);
    assert_int_equal(r->edge_count, 0);
    write_command(r, 0x60);
    write_data(r, 0x65);
    expect_edge(r, 0, 1, 1);
    write_command(r, 0x60);
    write_data(r, 0x64);
    expect_edge(r, 1, 1, 0);
    assert_int_equal(data(r), 0x99);
    /* an empty buffer reads the last byte again and changes nothing */
    assert_int_equal(data(r), 0x99);
    assert_int_equal(r->edge_count, 2);
    /* the aux loopback with AUXINT: IRQ 12 */
    ccb = 0x67; /* both interrupts */
    assert_int_equal(i8042_command(r, &ccb, CMD_CTL_WCTR), 0);
    write_command(r, 0xd3);
    write_data(r, 0x42);
    expect_edge(r, 2, 12, 1);
    interrupt(r, 12, OBF | SYS | KEYLOCK | AUXB, 0x42);
    /* results queue behind an unread byte, in order */
    write_command(r, 0xd2);
    write_data(r, 0x11);
    write_command(r, 0x20);
    write_command(r, 0xd3);
    write_data(r, 0x22);
    interrupt(r, 1, OBF | SYS | KEYLOCK, 0x11);
    interrupt(r, 1, OBF | SYS | KEYLOCK, 0x67);
    interrupt(r, 12, OBF | SYS | KEYLOCK | AUXB, 0x22);
    rig_destroy(r);
}

/* ------------------------------------------------------------------ resets, ports, RAM */

static void test_reset_and_output_port(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    write_command(r, 0xfe); /* Linux's BOOT_KBD reboot */
    assert_int_equal(r->resets, 1);
    unsigned expected = 1;
    for (unsigned command = 0xf0; command <= 0xff; command++) {
        write_command(r, (uint8_t)command);
        if (!(command & 1))
            expected++; /* output port bit 0 pulsed */
        assert_int_equal(r->resets, expected);
    }
    /* i8042_platform_init's A20 write keeps bit 0 high: no reset; the output port reads back
     * (bits 4-5 are the OBF lines) */
    uint8_t param = 0xdf;
    assert_int_equal(i8042_command(r, &param, 0x10d1), 0);
    assert_int_equal(r->resets, expected);
    assert_int_equal(i8042_command(r, &param, 0x01d0), 0);
    assert_int_equal(param, 0xcf);
    /* A20 off and on */
    write_command(r, 0xdd);
    assert_int_equal(i8042_command(r, &param, 0x01d0), 0);
    assert_int_equal(param, 0xcd);
    write_command(r, 0xdf);
    /* bit 0 low resets */
    param = 0xde;
    assert_int_equal(i8042_command(r, &param, 0x10d1), 0);
    assert_int_equal(r->resets, expected + 1);
    param = 0xcf;
    assert_int_equal(i8042_command(r, &param, 0x10d1), 0);
    assert_int_equal(r->resets, expected + 1);
    /* with a keyboard byte waiting and IRQ 1 enabled, D0 shows bit 4 (its result queues
     * behind that byte) */
    write_command(r, 0xd2);
    write_data(r, 0x00);
    write_command(r, 0xd0);
    assert_int_equal(data(r), 0x00);
    assert_int_equal(data(r), 0xdf);
    write_command(r, 0xd0);
    assert_int_equal(data(r), 0xcf);
    /* reset() with nothing wired */
    r->kbc.reset = NULL;
    write_command(r, 0xfe);
    assert_int_equal(r->resets, expected + 1);
    rig_destroy(r);
}

static void test_ram_and_unknown_commands(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    uint8_t param = 0x5a;
    assert_int_equal(i8042_command(r, &param, 0x1061 + 0), 0); /* RAM byte 1 */
    assert_int_equal(i8042_command(r, &param, 0x0121), 0);
    assert_int_equal(param, 0x5a);
    assert_int_equal(i8042_command(r, &param, CMD_CTL_RCTR), 0);
    assert_int_equal(param, 0x65);
    /* unknown commands produce nothing */
    static const uint8_t unknown[] = { 0x00, 0x10, 0x40, 0x80, 0xa0, 0xa1, 0xa4, 0xc1, 0xe0 };
    for (size_t i = 0; i < sizeof(unknown); i++) {
        write_command(r, unknown[i]);
        assert_int_equal(status(r) & OBF, 0);
    }
    /* a command where a data byte was expected replaces the first */
    write_command(r, 0x60);
    write_command(r, 0x20);
    assert_int_equal(data(r), 0x65);
    write_data(r, 0xf4); /* now a keyboard byte */
    assert_int_equal(data(r), 0xfa);
    /* sending to the keyboard re-enables its interface */
    param = 0x75;
    assert_int_equal(i8042_command(r, &param, CMD_CTL_WCTR), 0);
    write_data(r, 0xee);
    assert_int_equal(status(r) & OBF, OBF);
    assert_int_equal(data(r), 0xee);
    assert_int_equal(i8042_command(r, &param, CMD_CTL_RCTR), 0);
    assert_int_equal(param, 0x65);
    /* wider accesses: the other bytes are other ports */
    assert_int_equal(x86_bus_port_read(&r->bus, 0x64, 2) & 0xFF00, 0xFF00);
    x86_bus_port_write(&r->bus, 0x64, 2, 0x1220); /* low byte: read CCB */
    assert_int_equal(x86_bus_port_read(&r->bus, 0x60, 4), 0xFFFFFF65u);
    rig_destroy(r);
}

/* After a reset the controller is as at power-on, the wiring kept */
static void test_reset_state(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    write_command(r, 0xd3);
    write_data(r, 0x01);
    uint8_t ccb = 0x03;
    write_command(r, 0x60);
    write_data(r, ccb);
    assert_int_equal(r->level[12], 1);
    x86_i8042_reset(&r->kbc);
    assert_int_equal(r->level[12], 0);
    assert_int_equal(status(r), SYS | KEYLOCK);
    assert_int_equal(i8042_command(r, &ccb, CMD_CTL_RCTR), 0);
    assert_int_equal(ccb, 0x65);
    write_command(r, 0xfe);
    assert_int_equal(r->resets, 1);
    rig_destroy(r);
}

/* Random port traffic with a fixed seed: never a crash, never IBF, the wires always equal
 * "OBF from that port and its interrupt enabled", the queues within their sizes */
static void test_garbage(void **state)
{
    (void)state;
    struct rig *r = rig_create();
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    for (unsigned i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t bits = (uint32_t)(seed >> 33);
        uint16_t port = (bits & 1) ? 0x64 : 0x60;
        static const unsigned sizes[] = { 1, 1, 1, 2, 4, 1, 1, 1 };
        unsigned size = sizes[(bits >> 1) & 7];
        if (bits & 0x10)
            x86_bus_port_write(&r->bus, port, size, bits >> 8);
        else
            x86_bus_port_read(&r->bus, port, size);
        if ((bits & 0x3E0) == 0)
            x86_i8042_key(&r->kbc, (uint8_t)(bits >> 12));
        uint8_t s = (uint8_t)x86_bus_port_read(&r->bus, 0x64, 1);
        assert_int_equal(s & IBF, 0);
        uint8_t ccb = r->kbc.ram[0];
        int kbd = (s & OBF) && !(s & AUXB) && (ccb & CTR_KBDINT);
        int aux = (s & OBF) && (s & AUXB) && (ccb & CTR_AUXINT);
        assert_int_equal(r->level[1], kbd);
        assert_int_equal(r->level[12], aux);
        assert_true(r->kbc.kbd_count <= X86_I8042_QUEUE_SIZE);
        assert_true(r->kbc.controller_count <= X86_I8042_CONTROLLER_QUEUE_SIZE);
    }
    assert_true(r->resets > 0); /* the traffic did hit the reset commands */
    rig_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_probe_sequence),
        cmocka_unit_test(test_self_tests),
        cmocka_unit_test(test_keyboard_commands),
        cmocka_unit_test(test_scan_code_translation),
        cmocka_unit_test(test_interrupt_enable_follows_buffer),
        cmocka_unit_test(test_reset_and_output_port),
        cmocka_unit_test(test_ram_and_unknown_commands),
        cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
