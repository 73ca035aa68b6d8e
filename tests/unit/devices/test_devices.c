/* Unit tests of src/devices: isa-debug-exit, fw_cfg items (the UART: test_uart.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/debug_exit.h"
#include "devices/fw_cfg.h"

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
        cmocka_unit_test(test_debug_exit),
        cmocka_unit_test(test_fw_cfg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
