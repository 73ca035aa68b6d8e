/* Unit tests of the pcap reader and writer (tools/pcap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pcap.h"

static void test_round_trip(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    uint8_t a[60], b[1514];
    memset(a, 0xAA, sizeof(a));
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)i;
    assert_true(pcap_write_header(f));
    assert_true(pcap_write_frame(f, 1500000, a, sizeof(a)));
    assert_true(pcap_write_frame(f, 2000001, b, sizeof(b)));
    rewind(f);
    bool swapped;
    const char *error = NULL;
    assert_true(pcap_read_header(f, &swapped, &error));
    assert_false(swapped);
    uint8_t frame[PCAP_MAX_FRAME];
    size_t length;
    uint64_t us;
    assert_true(pcap_read_frame(f, swapped, &us, frame, &length, &error));
    assert_int_equal(us, 1500000);
    assert_int_equal(length, 60);
    assert_memory_equal(frame, a, 60);
    assert_true(pcap_read_frame(f, swapped, &us, frame, &length, &error));
    assert_int_equal(us, 2000001);
    assert_int_equal(length, 1514);
    assert_memory_equal(frame, b, 1514);
    assert_false(pcap_read_frame(f, swapped, &us, frame, &length, &error));
    assert_null(error); /* a clean end */
    fclose(f);
}

static void test_bad_input(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    fputs("not a capture at all, really", f);
    rewind(f);
    bool swapped;
    const char *error = NULL;
    assert_false(pcap_read_header(f, &swapped, &error));
    assert_non_null(error);
    fclose(f);
    /* big-endian header, then a truncated frame */
    f = tmpfile();
    static const uint8_t header[24] = { 0xA1, 0xB2, 0xC3, 0xD4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0x40, 0, 0, 0, 0, 1 };
    static const uint8_t record[16] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100 };
    fwrite(header, 1, sizeof(header), f);
    fwrite(record, 1, sizeof(record), f);
    fwrite("short", 1, 5, f);
    rewind(f);
    assert_true(pcap_read_header(f, &swapped, &error));
    assert_true(swapped);
    uint8_t frame[PCAP_MAX_FRAME];
    size_t length;
    uint64_t us;
    assert_false(pcap_read_frame(f, swapped, &us, frame, &length, &error));
    assert_non_null(error);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
