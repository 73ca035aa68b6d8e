/* Unit tests of the descriptor checks (src/cpu/segment.c, exec_system.c): segment register loads
 * into DS and SS for each descriptor type, privilege combination and presence, with the SDM's
 * vector and selector error code (SDM Vol. 2 MOV; Vol. 3 5.5-5.8, 6.13), the descriptor cache
 * and accessed bit, far jumps to (conforming) code, and lar/lsl/verr/verw/arpl, which report through ZF instead of faulting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/exec.h"
#include "cpu/run.h"
#include "cpu/segment.h"
#include "core_fixture.h"

#define CODE 0x1000u
#define GDT 0x5000u

/* The test GDT: one descriptor per case the checks tell apart. */
enum {
    SEL_CODE0 = 0x08,          /* ring 0 code, execute/read */
    SEL_DATA0 = 0x10,          /* ring 0 data, read/write, base 0x12345000, 4 GiB granular */
    SEL_CODE3 = 0x18,          /* ring 3 code, execute/read */
    SEL_DATA3 = 0x20,          /* ring 3 data, read/write */
    SEL_EXEC_ONLY = 0x28,      /* ring 0 code, execute-only */
    SEL_CONFORMING = 0x30,     /* ring 0 conforming code, readable */
    SEL_READ_ONLY = 0x38,      /* ring 0 data, read-only */
    SEL_ABSENT0 = 0x40,        /* ring 0 data, not present */
    SEL_TSS = 0x48,            /* 32-bit TSS, available (system) */
    SEL_ABSENT3 = 0x50,        /* ring 3 data, not present */
    SEL_LDT = 0x58,            /* LDT descriptor (system) */
    SEL_CALL_GATE = 0x60,      /* 32-bit call gate (system) */
    SEL_ABSENT_CODE = 0x68,    /* ring 0 code, not present */
    GDT_ENTRIES = 14,
};

/* A segment or system descriptor (SDM Vol. 3 3.4.5): flags are G, D/B, L, AVL. */
#define DESCRIPTOR(base, limit, access, flags)                                                  \
    ((uint64_t)((limit) & 0xFFFF) | (uint64_t)((base) & 0xFFFFFF) << 16 |                      \
     (uint64_t)(access) << 40 | (uint64_t)(((limit) >> 16) & 0xF) << 48 |                     \
     (uint64_t)((flags) & 0xF) << 52 | (uint64_t)((uint32_t)(base) >> 24) << 56)

static const uint64_t gdt[GDT_ENTRIES] = {
    [SEL_CODE0 >> 3] = DESCRIPTOR(0, 0xFFFFF, 0x9A, 0xC),
    [SEL_DATA0 >> 3] = DESCRIPTOR(0x12345000, 0xFFFFF, 0x92, 0xC),
    [SEL_CODE3 >> 3] = DESCRIPTOR(0, 0xFFFFF, 0xFA, 0xC),
    [SEL_DATA3 >> 3] = DESCRIPTOR(0, 0xFFFF, 0xF2, 0x4),
    [SEL_EXEC_ONLY >> 3] = DESCRIPTOR(0, 0xFFFFF, 0x98, 0xC),
    [SEL_CONFORMING >> 3] = DESCRIPTOR(0, 0xFFFFF, 0x9E, 0xC),
    [SEL_READ_ONLY >> 3] = DESCRIPTOR(0, 0xFFFFF, 0x90, 0xC),
    [SEL_ABSENT0 >> 3] = DESCRIPTOR(0, 0xFFFFF, 0x12, 0xC),
    [SEL_TSS >> 3] = DESCRIPTOR(0x7000, 0x67, 0x89, 0x0),
    [SEL_ABSENT3 >> 3] = DESCRIPTOR(0, 0xFFFFF, 0x72, 0xC),
    [SEL_LDT >> 3] = DESCRIPTOR(0x7800, 0x17, 0x82, 0x0),
    [SEL_CALL_GATE >> 3] = 0x0000EC0000081234ull, /* DPL 3, to 0x08:0x1234, no parameters */
    [SEL_ABSENT_CODE >> 3] = DESCRIPTOR(0, 0xFFFFF, 0x1A, 0xC),
};

struct fixture {
    struct test_core *m;
    struct x86_cpu *cpu;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = test_core_create(4u << 20, 1);
    f->cpu = f->m->cpu;
    assert_int_equal(test_write_physical(f->m, GDT, gdt, sizeof(gdt)), X86IRQ_OK);
    f->cpu->gdtr.base = GDT;
    f->cpu->gdtr.limit = GDT_ENTRIES * 8 - 1;
    f->cpu->ldtr.attributes = X86_SEG_ATTR_UNUSABLE; /* no LDT loaded */
    f->cpu->cr0 |= X86_CR0_PE;
    f->cpu->gpr[X86_ESP] = 0x8000;
    f->cpu->cycle_limit = UINT64_MAX;
    f->cpu->exit_request = 0;
    assert_int_equal(f->cpu->mode, X86_MODE_32); /* the boot CS is flat 32-bit code */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_core_destroy(f->m);
    free(f);
    return 0;
}

/* Execute bytes; returns -1, or the vector of the exception raised (its error code in *error). */
static int exec(struct fixture *f, const uint8_t *bytes, size_t n, uint32_t *error)
{
    assert_int_equal(test_write_physical(f->m, CODE, bytes, n), X86IRQ_OK);
    f->cpu->rip = CODE;
    while (f->cpu->rip >= CODE && f->cpu->rip < CODE + n) {
        struct x86_fault fault;
        if (!x86_cpu_step(f->cpu, &fault)) {
            if (error)
                *error = fault.error_code;
            return fault.vector;
        }
    }
    return -1;
}
#define EXEC(f, ...) ({ const uint8_t code_[] = { __VA_ARGS__ }; exec(f, code_, sizeof(code_), NULL); })

static bool zf(struct fixture *f) { return (x86_get_eflags(f->cpu) & X86_FLAG_ZF) != 0; }

/* One segment register load: which register, at which CPL, and what the SDM says happens. */
struct load_case {
    const char *what;
    unsigned seg;        /* X86_SEG_DS or X86_SEG_SS */
    uint8_t cpl;
    uint16_t selector;
    int vector;          /* -1: loads */
    uint32_t error_code;
};

static const struct load_case load_cases[] = {
    { "ring 0 data into DS", X86_SEG_DS, 0, SEL_DATA0, -1, 0 },
    { "null selector into DS (unusable, no fault)", X86_SEG_DS, 0, 0x0003, -1, 0 },
    { "null selector into SS", X86_SEG_SS, 0, 0x0000, X86_VEC_GP, 0 },
    { "index beyond the GDT limit", X86_SEG_DS, 0, GDT_ENTRIES * 8, X86_VEC_GP, GDT_ENTRIES * 8 },
    { "TI=1 with no LDT loaded", X86_SEG_DS, 0, 0x000C, X86_VEC_GP, 0x000C },
    { "a TSS (system) into DS", X86_SEG_DS, 0, SEL_TSS, X86_VEC_GP, SEL_TSS },
    { "a call gate into DS", X86_SEG_DS, 0, SEL_CALL_GATE, X86_VEC_GP, SEL_CALL_GATE },
    { "execute-only code into DS", X86_SEG_DS, 0, SEL_EXEC_ONLY, X86_VEC_GP, SEL_EXEC_ONLY },
    { "readable code into DS", X86_SEG_DS, 0, SEL_CODE0, -1, 0 },
    { "read-only data into DS", X86_SEG_DS, 0, SEL_READ_ONLY, -1, 0 },
    { "read-only data into SS", X86_SEG_SS, 0, SEL_READ_ONLY, X86_VEC_GP, SEL_READ_ONLY },
    { "code into SS", X86_SEG_SS, 0, SEL_CODE0, X86_VEC_GP, SEL_CODE0 },
    { "RPL 3 > DPL 0 into DS (error code drops RPL)", X86_SEG_DS, 0, SEL_DATA0 | 3, X86_VEC_GP,
      SEL_DATA0 },
    { "not-present data into DS: #NP", X86_SEG_DS, 0, SEL_ABSENT0, X86_VEC_NP, SEL_ABSENT0 },
    { "not-present data into SS: #SS", X86_SEG_SS, 0, SEL_ABSENT0, X86_VEC_SS, SEL_ABSENT0 },
    { "ring 3 data into SS at CPL 0 (DPL != CPL)", X86_SEG_SS, 0, SEL_DATA3, X86_VEC_GP, SEL_DATA3 },
    { "ring 0 data into DS at CPL 3", X86_SEG_DS, 3, SEL_DATA0 | 3, X86_VEC_GP, SEL_DATA0 },
    { "ring 3 data into DS at CPL 3", X86_SEG_DS, 3, SEL_DATA3 | 3, -1, 0 },
    { "ring 0 conforming readable code into DS at CPL 3", X86_SEG_DS, 3, SEL_CONFORMING | 3, -1, 0 },
    { "ring 0 ordinary readable code into DS at CPL 3", X86_SEG_DS, 3, SEL_CODE0 | 3, X86_VEC_GP,
      SEL_CODE0 },
    { "ring 3 data into SS at CPL 3", X86_SEG_SS, 3, SEL_DATA3 | 3, -1, 0 },
    { "ring 3 data into SS with RPL 0 at CPL 3", X86_SEG_SS, 3, SEL_DATA3, X86_VEC_GP, SEL_DATA3 },
    { "not-present ring 3 data into SS at CPL 3", X86_SEG_SS, 3, SEL_ABSENT3 | 3, X86_VEC_SS,
      SEL_ABSENT3 },
    { "not-present ring 3 data into DS at CPL 3", X86_SEG_DS, 3, SEL_ABSENT3 | 3, X86_VEC_NP,
      SEL_ABSENT3 },
};

static void test_segment_register_loads(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
        const struct load_case *c = &load_cases[i];
        x86_set_cpl(f->cpu, c->cpl);
        struct x86_segment before = f->cpu->seg[c->seg];
        f->cpu->gpr[X86_EAX] = c->selector;
        /* mov ds, ax / mov ss, ax */
        const uint8_t code[] = { 0x8E, c->seg == X86_SEG_SS ? 0xD0 : 0xD8 };
        uint32_t error = 0xDEAD;
        int vector = exec(f, code, sizeof(code), &error);
        print_message("%s\n", c->what);
        assert_int_equal(vector, c->vector);
        if (vector >= 0) {
            assert_int_equal(error, c->error_code);
            /* precise: the segment register is unchanged and EIP is the mov */
            assert_int_equal(f->cpu->seg[c->seg].selector, before.selector);
            assert_int_equal(f->cpu->seg[c->seg].base, before.base);
            assert_int_equal(f->cpu->rip, CODE);
        } else {
            assert_int_equal(f->cpu->seg[c->seg].selector, c->selector);
        }
    }
}

/* Far jumps straight to code segments (SDM Vol. 2 JMP, Vol. 3 5.8.1): non-conforming code needs
 * DPL = CPL and RPL <= CPL, conforming code DPL <= CPL; CPL never changes and CS.RPL becomes
 * the CPL. */
static const struct load_case far_jump_cases[] = {
    { "to ring 0 code from CPL 0", X86_SEG_CS, 0, SEL_CODE0, -1, 0 },
    { "to ring 3 code from CPL 0", X86_SEG_CS, 0, SEL_CODE3 | 3, X86_VEC_GP, SEL_CODE3 },
    { "to ring 0 code with RPL 3 from CPL 0", X86_SEG_CS, 0, SEL_CODE0 | 3, X86_VEC_GP, SEL_CODE0 },
    { "to ring 0 code from CPL 3", X86_SEG_CS, 3, SEL_CODE0, X86_VEC_GP, SEL_CODE0 },
    { "to ring 0 conforming code from CPL 3", X86_SEG_CS, 3, SEL_CONFORMING | 3, -1, 0 },
    { "to ring 3 code with RPL 0 from CPL 3", X86_SEG_CS, 3, SEL_CODE3, -1, 0 },
    { "to a data segment", X86_SEG_CS, 0, SEL_DATA0, X86_VEC_GP, SEL_DATA0 },
    { "to a not-present code segment", X86_SEG_CS, 0, SEL_ABSENT_CODE, X86_VEC_NP,
      SEL_ABSENT_CODE },
    { "to the null selector", X86_SEG_CS, 0, 0, X86_VEC_GP, 0 },
};

static void test_far_jumps(void **state)
{
    struct fixture *f = *state;
    const struct x86_segment boot_cs = f->cpu->seg[X86_SEG_CS];
    for (size_t i = 0; i < sizeof(far_jump_cases) / sizeof(far_jump_cases[0]); i++) {
        const struct load_case *c = &far_jump_cases[i];
        f->cpu->seg[X86_SEG_CS] = boot_cs;
        x86_segment_refresh(f->cpu, X86_SEG_CS);
        x86_set_cpl(f->cpu, c->cpl);
        /* jmp far selector:0x2000 */
        const uint8_t code[] = { 0xEA, 0x00, 0x20, 0x00, 0x00, (uint8_t)c->selector,
                                 (uint8_t)(c->selector >> 8) };
        uint32_t error = 0xDEAD;
        int vector = exec(f, code, sizeof(code), &error);
        print_message("far jump %s\n", c->what);
        assert_int_equal(vector, c->vector);
        if (vector >= 0) {
            assert_int_equal(error, c->error_code);
            assert_int_equal(f->cpu->rip, CODE);
            assert_int_equal(f->cpu->seg[X86_SEG_CS].selector, boot_cs.selector);
        } else {
            assert_int_equal(f->cpu->rip, 0x2000);
            assert_int_equal(f->cpu->seg[X86_SEG_CS].selector, (c->selector & ~3u) | c->cpl);
            assert_int_equal(f->cpu->cpl, c->cpl);
        }
    }
}

static void test_descriptor_cache_and_accessed_bit(void **state)
{
    struct fixture *f = *state;
    uint8_t access;
    test_read_physical(f->m, GDT + SEL_DATA0 + 5, &access, 1);
    assert_int_equal(access, 0x92);
    f->cpu->gpr[X86_EAX] = SEL_DATA0;
    assert_int_equal(EXEC(f, 0x8E, 0xE0), -1);                 /* mov fs, ax */
    const struct x86_segment *fs = &f->cpu->seg[X86_SEG_FS];
    assert_int_equal(fs->base, 0x12345000);
    assert_int_equal(fs->limit, 0xFFFFFFFFu);                  /* G=1: limit << 12 | 0xFFF */
    assert_true(fs->attributes & X86_SEG_ATTR_DB);
    test_read_physical(f->m, GDT + SEL_DATA0 + 5, &access, 1);
    assert_int_equal(access, 0x93);                            /* the accessed bit, written back */
    /* a null selector in FS: loads, but any use is #GP(0) */
    f->cpu->gpr[X86_EAX] = 0;
    assert_int_equal(EXEC(f, 0x8E, 0xE0), -1);
    uint32_t error = 0xDEAD;
    const uint8_t read_fs[] = { 0x64, 0x8B, 0x05, 0x00, 0x00, 0x00, 0x00 }; /* mov eax, fs:[0] */
    assert_int_equal(exec(f, read_fs, sizeof(read_fs), &error), X86_VEC_GP);
    assert_int_equal(error, 0);
}

/* A descriptor made into a segment cache leaves no byte of what was there before, padding
 * included: snapshots save the cache as it is, and two runs of the same guest must save the
 * same bytes (the TR and LDTR loads built theirs over stack garbage) */
static void test_descriptor_cache_has_no_stale_bytes(void **state)
{
    (void)state;
    struct x86_segment a, b;
    memset(&a, 0xA5, sizeof(a));
    memset(&b, 0x5A, sizeof(b));
    uint64_t tss = 0x00008B0012340067ull;                      /* a busy 32-bit TSS at 0x1234 */
    x86_descriptor_to_cache(tss, 0x28, &a);
    x86_descriptor_to_cache(tss, 0x28, &b);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_int_equal(a.base, 0x1234);
    assert_int_equal(a.limit, 0x67);
    assert_int_equal(a.fast_read, 0);
    assert_int_equal(a.fast_write, 0);
}

/* A reload of the same selector comes from the checked-descriptor cache; a guest store into the
 * descriptor (here: clearing P) is seen by the next load, which faults as the SDM says. */
static void test_segment_load_cache_follows_the_descriptor(void **state)
{
    struct fixture *f = *state;
    f->cpu->gpr[X86_EAX] = SEL_DATA3 | 3;
    x86_set_cpl(f->cpu, 0);
    assert_int_equal(EXEC(f, 0x8E, 0xE0), -1);                 /* mov fs, ax */
    assert_int_equal(EXEC(f, 0x8E, 0xE8), -1);                 /* mov gs, ax: cached */
    assert_int_equal(f->cpu->seg[X86_SEG_GS].selector, SEL_DATA3 | 3);
    assert_int_equal(f->cpu->seg[X86_SEG_GS].limit, 0xFFFF);
    /* the same selector at CPL 3 is checked anew (the cache is per CPL) and passes */
    x86_set_cpl(f->cpu, 3);
    assert_int_equal(EXEC(f, 0x8E, 0xE0), -1);
    x86_set_cpl(f->cpu, 0);
    /* a guest store clears the descriptor's present bit: the next load is #NP(selector) */
    uint8_t access = 0;
    test_read_physical(f->m, GDT + SEL_DATA3 + 5, &access, 1);
    if (setjmp(f->cpu->fault_jump) == 0)
        x86_write(f->cpu, X86_SEG_ES, GDT + SEL_DATA3 + 5, 1, access & 0x7F);
    else
        fail_msg("the store faulted");
    uint32_t error = 0;
    const uint8_t load_fs[] = { 0x8E, 0xE0 };
    assert_int_equal(exec(f, load_fs, sizeof(load_fs), &error), X86_VEC_NP);
    assert_int_equal(error, SEL_DATA3);
}

/* lar eax, ecx (0F 02 C1) / lsl eax, ecx (0F 03 C1): ZF and the value, or ZF=0 and EAX kept */
static void check_lar_lsl(struct fixture *f, uint8_t opcode, uint16_t selector, bool valid,
                          uint32_t value)
{
    f->cpu->gpr[X86_ECX] = selector;
    f->cpu->gpr[X86_EAX] = 0xCAFEF00D;
    assert_int_equal(EXEC(f, 0x0F, opcode, 0xC1), -1);
    assert_int_equal(zf(f), valid);
    assert_int_equal(f->cpu->gpr[X86_EAX], valid ? value : 0xCAFEF00D);
}

static void test_lar_and_lsl(void **state)
{
    struct fixture *f = *state;
    /* the mask is 00FxFF00H: bits 19:16 (limit) are undefined in the SDM; we clear them, as QEMU */
    check_lar_lsl(f, 0x02, SEL_DATA0, true, 0x00C09200);         /* G, D/B, P, DPL 0, data rw */
    check_lar_lsl(f, 0x03, SEL_DATA0, true, 0xFFFFFFFF);         /* the granular limit */
    check_lar_lsl(f, 0x02, SEL_TSS, true, 0x00008900);           /* LAR takes a TSS */
    check_lar_lsl(f, 0x03, SEL_TSS, true, 0x67);
    check_lar_lsl(f, 0x02, SEL_LDT, true, 0x00008200);
    check_lar_lsl(f, 0x02, SEL_CALL_GATE, true, 0x0000EC00);     /* LAR takes a call gate ... */
    check_lar_lsl(f, 0x03, SEL_CALL_GATE, false, 0);             /* ... LSL does not */
    check_lar_lsl(f, 0x02, 0, false, 0);                         /* null */
    check_lar_lsl(f, 0x02, GDT_ENTRIES * 8, false, 0);           /* beyond the limit */
    check_lar_lsl(f, 0x02, 0x0C, false, 0);                      /* TI=1, no LDT */
    check_lar_lsl(f, 0x02, SEL_ABSENT0, true, 0x00C01200);       /* presence is not checked */
    x86_set_cpl(f->cpu, 3);
    check_lar_lsl(f, 0x02, SEL_DATA0 | 3, false, 0);             /* DPL 0 < CPL 3 */
    check_lar_lsl(f, 0x02, SEL_DATA3 | 3, true, 0x0040F200);
    check_lar_lsl(f, 0x02, SEL_CONFORMING | 3, true, 0x00C09E00); /* conforming: no DPL check */
    check_lar_lsl(f, 0x02, SEL_CALL_GATE | 3, true, 0x0000EC00);
    x86_set_cpl(f->cpu, 0);
    check_lar_lsl(f, 0x02, SEL_DATA3 | 3, true, 0x0040F200);     /* RPL 3 <= DPL 3 */
    /* not in real mode: #UD */
    f->cpu->cr0 &= ~X86_CR0_PE;
    assert_int_equal(EXEC(f, 0x0F, 0x02, 0xC1), X86_VEC_UD);
}

/* verr cx (0F 00 E1) / verw cx (0F 00 E9) */
static bool verify(struct fixture *f, bool write, uint16_t selector)
{
    f->cpu->gpr[X86_ECX] = selector;
    assert_int_equal(EXEC(f, 0x0F, 0x00, write ? 0xE9 : 0xE1), -1);
    return zf(f);
}

static void test_verr_verw_and_arpl(void **state)
{
    struct fixture *f = *state;
    assert_true(verify(f, false, SEL_DATA0));
    assert_true(verify(f, true, SEL_DATA0));
    assert_true(verify(f, false, SEL_CODE0));      /* readable code */
    assert_false(verify(f, true, SEL_CODE0));      /* code is never writable */
    assert_false(verify(f, false, SEL_EXEC_ONLY));
    assert_true(verify(f, false, SEL_READ_ONLY));
    assert_false(verify(f, true, SEL_READ_ONLY));
    assert_false(verify(f, false, SEL_TSS));       /* system descriptors never verify */
    assert_false(verify(f, false, 0));
    x86_set_cpl(f->cpu, 3);
    assert_false(verify(f, false, SEL_DATA0 | 3));
    assert_true(verify(f, true, SEL_DATA3 | 3));
    assert_true(verify(f, false, SEL_CONFORMING | 3));
    x86_set_cpl(f->cpu, 0);
    assert_false(verify(f, true, SEL_DATA0 | 3)); /* RPL 3 > DPL 0 */

    /* arpl cx, dx (63 D1): raise the destination's RPL to the source's, ZF says it did */
    f->cpu->gpr[X86_ECX] = 0xAAAA0010;
    f->cpu->gpr[X86_EDX] = 0x0003;
    assert_int_equal(EXEC(f, 0x63, 0xD1), -1);
    assert_true(zf(f));
    assert_int_equal(f->cpu->gpr[X86_ECX], 0xAAAA0013);         /* only the low word */
    assert_int_equal(EXEC(f, 0x63, 0xD1), -1);
    assert_false(zf(f));
    assert_int_equal(f->cpu->gpr[X86_ECX], 0xAAAA0013);
    f->cpu->cr0 &= ~X86_CR0_PE;
    assert_int_equal(EXEC(f, 0x63, 0xD1), X86_VEC_UD);          /* ARPL is #UD in real mode */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segment_register_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_far_jumps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_cache_and_accessed_bit, setup, teardown),
        cmocka_unit_test(test_descriptor_cache_has_no_stale_bytes),
        cmocka_unit_test_setup_teardown(test_segment_load_cache_follows_the_descriptor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lar_and_lsl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verr_verw_and_arpl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
