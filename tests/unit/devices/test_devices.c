/* Unit tests of src/devices: UART 16550 registers (THR/RBR, IER, IIR priorities, FCR, LCR and
 * the divisor latch, MCR loopback, LSR, MSR, SCR), isa-debug-exit, fw_cfg items. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/debug_exit.h"
#include "devices/fw_cfg.h"
#include "devices/uart16550.h"

struct sink { char text[32]; size_t n; int irq_level, irq_changes; };
static void out(void *opaque, uint8_t byte)
{
    struct sink *s = opaque;
    s->text[s->n++] = (char)byte;
}
static void irq(void *opaque, int line, int level)
{
    struct sink *s = opaque;
    assert_int_equal(line, 4);
    s->irq_level = level;
    s->irq_changes++;
}

#define RD(reg) ((uint8_t)x86_uart_read(&u, reg, 1))
#define WR(reg, v) x86_uart_write(&u, reg, 1, v)

static void test_uart_transmit_and_lsr(void **state)
{
    (void)state;
    struct sink s = { "", 0, 0, 0 };
    struct x86_uart u;
    x86_uart_init(&u, out, &s);
    assert_int_equal(RD(5) & 0x60, 0x60); /* THRE and TEMT when idle */
    WR(0, 'o');
    WR(0, 'k');
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.text, "ok", 2);
    assert_int_equal(RD(5) & 0x60, 0x60);
    WR(7, 0x5A);
    assert_int_equal(RD(7), 0x5A); /* scratch */
}

static void test_uart_divisor_latch(void **state)
{
    (void)state;
    struct sink s = { "", 0, 0, 0 };
    struct x86_uart u;
    x86_uart_init(&u, out, &s);
    WR(3, 0x83);          /* DLAB, 8N1 */
    WR(0, 0x01);          /* 115200 baud */
    WR(1, 0x00);
    assert_int_equal(RD(0), 0x01);
    assert_int_equal(RD(1), 0x00);
    assert_int_equal(s.n, 0); /* no byte sent through the latch */
    WR(3, 0x03);
    assert_int_equal(RD(3), 0x03);
    WR(1, 0x0F);
    assert_int_equal(RD(1), 0x0F); /* IER again */
}

static void test_uart_loopback_and_receive(void **state)
{
    (void)state;
    struct sink s = { "", 0, 0, 0 };
    struct x86_uart u;
    x86_uart_init(&u, out, &s);
    WR(4, 0x10 | 0x03);   /* loopback, DTR, RTS */
    WR(0, 'x');
    assert_int_equal(s.n, 0);          /* not transmitted */
    assert_true(RD(5) & 0x01);         /* DR */
    assert_int_equal(RD(0), 'x');
    assert_false(RD(5) & 0x01);
    assert_int_equal(RD(6) & 0x30, 0x30); /* DTR->DSR, RTS->CTS */
    WR(4, 0);
    for (int i = 0; i < 17; i++)
        x86_uart_receive(&u, (uint8_t)('a' + i));
    assert_true(RD(5) & 0x02);         /* overrun on the 17th byte */
    assert_false(RD(5) & 0x02);        /* cleared by reading LSR */
    assert_int_equal(RD(0), 'a');
    WR(2, 0x03);                       /* FIFO enable + clear receive FIFO */
    assert_false(RD(5) & 0x01);
    assert_int_equal(RD(2) & 0xC0, 0xC0); /* FIFOs enabled shows in IIR */
}

static void test_uart_interrupts(void **state)
{
    (void)state;
    struct sink s = { "", 0, 0, 0 };
    struct x86_uart u;
    x86_uart_init(&u, out, &s);
    u.irq = (struct x86_irq_wire){ irq, &s, 4 };
    assert_int_equal(RD(2) & 0x0F, 0x01); /* nothing pending */
    WR(1, 0x02);                          /* enable THRE: the empty THR interrupts at once */
    assert_int_equal(RD(2) & 0x0F, 0x02);
    assert_int_equal(s.irq_level, 0);     /* ... but MCR.OUT2 keeps it off the IRQ line */
    WR(4, 0x08);                          /* OUT2 */
    WR(1, 0x00);
    WR(1, 0x02);
    assert_int_equal(s.irq_level, 1);
    assert_int_equal(RD(2) & 0x0F, 0x02);
    assert_int_equal(RD(2) & 0x0F, 0x01); /* reading IIR cleared it */
    assert_int_equal(s.irq_level, 0);
    WR(1, 0x03);                          /* + received data */
    x86_uart_receive(&u, 'r');
    assert_int_equal(RD(2) & 0x0F, 0x04); /* RDA outranks THRE */
    assert_int_equal(s.irq_level, 1);
    (void)RD(0);
    assert_int_equal(s.irq_level, 0);
    x86_uart_receive(&u, 's');
    assert_int_equal(s.irq_level, 1);
    WR(4, 0x18);                          /* loopback: the modem outputs, OUT2 too, inactive */
    assert_int_equal(s.irq_level, 0);
}

struct exit_log { int calls; uint32_t value; };
static void on_exit_value(void *context, uint32_t value)
{
    struct exit_log *e = context;
    e->calls++;
    e->value = value;
}

static void test_debug_exit(void **state)
{
    (void)state;
    struct exit_log e = { 0, 0 };
    struct x86_debug_exit d;
    x86_debug_exit_init(&d, on_exit_value, &e);
    struct x86_bus bus;
    assert_true(x86_bus_init(&bus, 1 << 20));
    assert_int_equal(x86_debug_exit_attach(&d, &bus, 0xF4), X86IRQ_OK);
    x86_bus_port_write(&bus, 0xF4, 1, 0x42);
    assert_int_equal(e.calls, 1);
    assert_int_equal(e.value, 0x42);
    x86_bus_port_write(&bus, 0xF4, 4, 0x12345678);
    assert_int_equal(e.value, 0x12345678);
    x86_bus_port_write(&bus, 0xF4, 2, 0xBEEF);
    assert_int_equal(e.value, 0xBEEF);
    assert_int_equal(x86_bus_port_read(&bus, 0xF4, 1), 0xFF);
    x86_bus_finish(&bus);
}

static void select_item(struct x86_fw_cfg *f, uint16_t key) { x86_fw_cfg_write(f, 0, 2, key); }
static uint8_t data_byte(struct x86_fw_cfg *f) { return (uint8_t)x86_fw_cfg_read(f, 1, 1); }

static void test_fw_cfg(void **state)
{
    (void)state;
    struct x86_fw_cfg f;
    x86_fw_cfg_init(&f, 256ull << 20, 1);
    select_item(&f, X86_FW_CFG_SIGNATURE);
    char sig[5] = { 0 };
    for (int i = 0; i < 4; i++)
        sig[i] = (char)data_byte(&f);
    assert_string_equal(sig, "QEMU");
    assert_int_equal(data_byte(&f), 0); /* past the end */
    select_item(&f, X86_FW_CFG_RAM_SIZE);
    uint64_t ram = 0;
    for (int i = 0; i < 8; i++)
        ram |= (uint64_t)data_byte(&f) << (8 * i);
    assert_int_equal(ram, 256ull << 20);
    select_item(&f, X86_FW_CFG_NB_CPUS);
    assert_int_equal(x86_fw_cfg_read(&f, 1, 2), 1); /* a wide read gets consecutive bytes */
    select_item(&f, X86_FW_CFG_ID);
    assert_int_equal(data_byte(&f) & 1, 1);
    select_item(&f, X86_FW_CFG_FILE_DIR);
    uint32_t files = 0;
    for (int i = 0; i < 4; i++)
        files = (files << 8) | data_byte(&f);
    assert_int_equal(files, 0);
    select_item(&f, 0x1234);
    assert_int_equal(data_byte(&f), 0);
    select_item(&f, X86_FW_CFG_SIGNATURE);
    assert_int_equal(data_byte(&f), 'Q'); /* selecting again rewinds */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uart_transmit_and_lsr),
        cmocka_unit_test(test_uart_divisor_latch),
        cmocka_unit_test(test_uart_loopback_and_receive),
        cmocka_unit_test(test_uart_interrupts),
        cmocka_unit_test(test_debug_exit),
        cmocka_unit_test(test_fw_cfg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
