/* Unit tests of the decoded-block cache (src/cpu/predecode.c): lookup by physical address and
 * mode, byte-granular invalidation (a store beside code keeps the code, a store into it drops
 * exactly the overlapping blocks), mode replacement, retiring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cpu/predecode.h"

static struct x86_block *make_block(uint32_t phys, uint16_t bytes, uint8_t mode)
{
    struct x86_block *b = calloc(1, sizeof(*b) + sizeof(struct x86_insn));
    b->phys = phys;
    b->byte_count = bytes;
    b->insn_count = 1;
    b->mode = mode;
    b->valid = 1;
    return b;
}

static void test_find_by_address_and_mode(void **state)
{
    (void)state;
    struct x86_code_cache c;
    assert_true(x86_code_cache_init(&c, 1 << 20));
    struct x86_block *b = make_block(0x2010, 12, X86_MODE_32);
    assert_true(x86_code_cache_insert(&c, b));
    assert_ptr_equal(x86_code_cache_find(&c, 0x2010, X86_MODE_32), b);
    assert_null(x86_code_cache_find(&c, 0x2010, X86_MODE_16));
    assert_null(x86_code_cache_find(&c, 0x2011, X86_MODE_32));
    assert_true(x86_code_page_has_code(&c, 2));
    assert_false(x86_code_page_has_code(&c, 3));
    /* a block of another mode at the same address replaces it */
    struct x86_block *b16 = make_block(0x2010, 8, X86_MODE_16);
    assert_true(x86_code_cache_insert(&c, b16));
    assert_ptr_equal(x86_code_cache_find(&c, 0x2010, X86_MODE_16), b16);
    assert_false(b->valid);
    x86_code_cache_finish(&c);
}

static void test_store_beside_code_keeps_it(void **state)
{
    (void)state;
    struct x86_code_cache c;
    assert_true(x86_code_cache_init(&c, 1 << 20));
    struct x86_block *b = make_block(0x3100, 0x20, X86_MODE_32);
    assert_true(x86_code_cache_insert(&c, b));
    /* just before and just after the block's bytes */
    assert_false(x86_code_cache_write(&c, 0x30FC, 4));
    assert_false(x86_code_cache_write(&c, 0x3120, 4));
    assert_false(x86_code_cache_write(&c, 0x3800, 100));
    assert_ptr_equal(x86_code_cache_find(&c, 0x3100, X86_MODE_32), b);
    assert_true(b->valid);
    x86_code_cache_finish(&c);
}

static void test_store_into_code_invalidates_only_overlapping(void **state)
{
    (void)state;
    struct x86_code_cache c;
    assert_true(x86_code_cache_init(&c, 1 << 20));
    struct x86_block *a = make_block(0x4000, 0x10, X86_MODE_32);
    struct x86_block *b = make_block(0x4100, 0x10, X86_MODE_32);
    assert_true(x86_code_cache_insert(&c, a));
    assert_true(x86_code_cache_insert(&c, b));
    /* a 4-byte store whose last byte is the first byte of b */
    assert_true(x86_code_cache_write(&c, 0x40FD, 4));
    assert_false(b->valid);
    assert_true(a->valid);
    assert_null(x86_code_cache_find(&c, 0x4100, X86_MODE_32));
    assert_ptr_equal(x86_code_cache_find(&c, 0x4000, X86_MODE_32), a);
    /* b's bytes are no longer code: a second store there invalidates nothing */
    assert_false(x86_code_cache_write(&c, 0x4104, 1));
    /* retired blocks are freed at the safe point */
    x86_code_cache_collect(&c);
    assert_null(c.retired);
    /* the last block gone: the page holds no code */
    assert_true(x86_code_cache_write(&c, 0x400F, 1));
    assert_false(x86_code_page_has_code(&c, 4));
    x86_code_cache_finish(&c);
}

static void test_store_across_pages(void **state)
{
    (void)state;
    struct x86_code_cache c;
    assert_true(x86_code_cache_init(&c, 1 << 20));
    struct x86_block *a = make_block(0x5FF0, 0x10, X86_MODE_32);
    struct x86_block *b = make_block(0x6000, 0x4, X86_MODE_32);
    assert_true(x86_code_cache_insert(&c, a));
    assert_true(x86_code_cache_insert(&c, b));
    assert_true(x86_code_cache_write(&c, 0x5FFE, 4));
    assert_false(a->valid);
    assert_false(b->valid);
    /* outside RAM: ignored */
    assert_false(x86_code_cache_write(&c, 0xFFFFF000u, 16));
    x86_code_cache_finish(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_by_address_and_mode),
        cmocka_unit_test(test_store_beside_code_keeps_it),
        cmocka_unit_test(test_store_into_code_invalidates_only_overlapping),
        cmocka_unit_test(test_store_across_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
