/* The disassembler of a build without Capstone (src/trace/disasm_bytes.c, compiled into this
 * test whatever the build has): the decoder's mnemonic and the instruction's bytes, "(bad)"
 * for bytes that do not decode, and the buffer's bounds kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trace/disasm.h"

static void test_mnemonic_and_bytes(void **state)
{
    (void)state;
    struct x86_disassembler *d = NULL;
    char text[64];
    static const uint8_t mov[] = { 0x8B, 0x45, 0x08, 0x90 }; /* mov eax, [ebp+8]; nop */
    assert_int_equal(x86_disassemble(&d, mov, sizeof(mov), 0x1000, 32, text, sizeof(text)),
                     strlen("mov [8b 45 08]"));
    assert_string_equal(text, "mov [8b 45 08]");
    static const uint8_t ud2[] = { 0x0F, 0x0B };
    x86_disassemble(&d, ud2, sizeof(ud2), 0, 64, text, sizeof(text));
    assert_string_equal(text, "ud2 [0f 0b]");
    static const uint8_t rex_mov[] = { 0x48, 0x89, 0xE5 }; /* mov rbp, rsp */
    x86_disassemble(&d, rex_mov, sizeof(rex_mov), 0, 64, text, sizeof(text));
    assert_string_equal(text, "mov [48 89 e5]");
    static const uint8_t truncated[] = { 0x0F };
    x86_disassemble(&d, truncated, sizeof(truncated), 0, 32, text, sizeof(text));
    assert_string_equal(text, "(bad)");
    /* a small buffer: cut, terminated, the length written returned */
    char small[6];
    assert_int_equal(x86_disassemble(&d, mov, sizeof(mov), 0, 32, small, sizeof(small)), 5);
    assert_string_equal(small, "mov [");
    assert_int_equal(x86_disassemble(&d, NULL, 0, 0, 32, text, sizeof(text)), 0);
    assert_int_equal(x86_disassemble(&d, mov, sizeof(mov), 0, 32, NULL, 0), 0);
    x86_disassembler_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_mnemonic_and_bytes) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
