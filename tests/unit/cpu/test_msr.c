/* Unit tests of src/cpu/msr.c and the CPUID bits that go with it: through rdmsr/wrmsr as a
 * guest executes them (#GP(0) for unknown MSRs and reserved bits), the firmware's MTRRs, the
 * TSC pair (SDM Vol. 3 17.17.3), IA32_MISC_ENABLE's effects on CPUID and EFER, RDTSCP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/exec.h"
#include "cpu/run.h"
#include "board/board.h"
#include "core_fixture.h"

#define CODE 0x1000u

struct fixture {
    struct test_core *m;
    struct x86_cpu *cpu;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = test_core_create(4u << 20, 1);
    f->cpu = f->m->cpu;
    /* the MSRs as the PC's firmware leaves them for a 2.4 GHz core (MTRRs, the ratio) */
    x86_board_firmware_cpu_state(f->cpu, 2400000000ull);
    f->cpu->cycle_limit = UINT64_MAX;
    f->cpu->exit_request = 0;
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

static int exec(struct fixture *f, const uint8_t *bytes, size_t n)
{
    return test_exec_bytes(f->m, CODE, bytes, n);
}

/* rdmsr / wrmsr as the guest runs them: -1 or the exception's vector */
static int rdmsr(struct fixture *f, uint32_t msr, uint64_t *value)
{
    static const uint8_t code[] = { 0x0F, 0x32 };
    f->cpu->gpr[X86_ECX] = msr;
    int v = exec(f, code, sizeof(code));
    *value = (uint64_t)f->cpu->gpr[X86_EDX] << 32 | f->cpu->gpr[X86_EAX];
    return v;
}

static int wrmsr(struct fixture *f, uint32_t msr, uint64_t value)
{
    static const uint8_t code[] = { 0x0F, 0x30 };
    f->cpu->gpr[X86_ECX] = msr;
    f->cpu->gpr[X86_EAX] = (uint32_t)value;
    f->cpu->gpr[X86_EDX] = (uint32_t)(value >> 32);
    return exec(f, code, sizeof(code));
}

static void cpuid(struct fixture *f, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    static const uint8_t code[] = { 0x0F, 0xA2 };
    f->cpu->gpr[X86_EAX] = leaf;
    f->cpu->gpr[X86_ECX] = sub;
    assert_int_equal(exec(f, code, sizeof(code)), -1);
    r[0] = f->cpu->gpr[X86_EAX];
    r[1] = f->cpu->gpr[X86_EBX];
    r[2] = f->cpu->gpr[X86_ECX];
    r[3] = f->cpu->gpr[X86_EDX];
}

static void test_unknown_and_read_only(void **state)
{
    struct fixture *f = *state;
    uint64_t v;
    /* MSRs Linux probes with rdmsr_safe, absent here: #GP(0) */
    static const uint32_t absent[] = { 0x3A, 0x140, 0x33, 0x48, 0x179, 0x1D9, 0xC0000085u,
                                       0xDEADBEEFu };
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        assert_int_equal(rdmsr(f, absent[i], &v), X86_VEC_GP);
        assert_int_equal(wrmsr(f, absent[i], 0), X86_VEC_GP);
    }
    /* read-only ones read their value and refuse writes */
    assert_int_equal(rdmsr(f, 0xFE, &v), -1);
    assert_int_equal(v, 0x508);                       /* 8 variable MTRRs, fixed, WC */
    assert_int_equal(wrmsr(f, 0xFE, 0x508), X86_VEC_GP);
    assert_int_equal(rdmsr(f, 0xCE, &v), -1);
    assert_int_equal(v, 24u << 8);                    /* 2.4 GHz: ratio 24 of 100 MHz */
    assert_int_equal(wrmsr(f, 0xCE, v), X86_VEC_GP);
    assert_int_equal(rdmsr(f, 0x10A, &v), -1);
    assert_true((v & 1) && (v & (1u << 5)));          /* RDCL_NO, MDS_NO */
    assert_int_equal(rdmsr(f, 0x17, &v), -1);
    assert_int_equal(v, 0);
    /* the microcode signature: write 0, cpuid, read the revision in the high half */
    assert_int_equal(wrmsr(f, 0x8B, 0), -1);
    assert_int_equal(rdmsr(f, 0x8B, &v), -1);
    assert_int_equal(v >> 32, X86_MICROCODE_REVISION);
    /* rdmsr at CPL 3 is #GP(0) whatever the MSR */
    f->cpu->cpl = 3;
    assert_int_equal(rdmsr(f, 0x10, &v), X86_VEC_GP);
    f->cpu->cpl = 0;
}

static void test_mtrrs_and_pat(void **state)
{
    struct fixture *f = *state;
    uint64_t v;
    /* as the firmware left them (SeaBIOS): enabled, fixed on, default write-back, the hole UC */
    assert_int_equal(rdmsr(f, 0x2FF, &v), -1);
    assert_int_equal(v, 0xC06);
    assert_int_equal(rdmsr(f, 0x201, &v), -1);
    assert_int_equal(v, 0xC0000800ull);
    assert_int_equal(rdmsr(f, 0x259, &v), -1);
    assert_int_equal(v, 0);
    /* memory types: 2 and 3 are reserved (SDM Table 11-8), 7 only for the PAT */
    assert_int_equal(wrmsr(f, 0x250, 0x0606060606060602ull), X86_VEC_GP);
    assert_int_equal(wrmsr(f, 0x250, 0x0706060606060606ull), X86_VEC_GP);
    assert_int_equal(wrmsr(f, 0x250, 0x0504010006060606ull), -1);
    assert_int_equal(rdmsr(f, 0x250, &v), -1);
    assert_int_equal(v, 0x0504010006060606ull);
    assert_int_equal(wrmsr(f, 0x2FF, 0x1006), X86_VEC_GP);  /* a reserved bit */
    assert_int_equal(wrmsr(f, 0x2FF, 0xC03), X86_VEC_GP);   /* type 3 */
    assert_int_equal(wrmsr(f, 0x200, 0x100000000ull), X86_VEC_GP); /* above 32 address bits */
    assert_int_equal(wrmsr(f, 0x200, 0x80000106ull), X86_VEC_GP);  /* bit 8 reserved */
    assert_int_equal(wrmsr(f, 0x201, 0xFFF00001ull), X86_VEC_GP);  /* bits 10:0 reserved */
    assert_int_equal(wrmsr(f, 0x20E, 0x80000006ull), -1);           /* the last pair */
    assert_int_equal(wrmsr(f, 0x20F, 0xF0000800ull), -1);
    assert_int_equal(rdmsr(f, 0x20F, &v), -1);
    assert_int_equal(v, 0xF0000800ull);
    /* the PAT: the power-up value, UC- allowed, 2 refused */
    assert_int_equal(rdmsr(f, 0x277, &v), -1);
    assert_int_equal(v, 0x0007040600070406ull);
    assert_int_equal(wrmsr(f, 0x277, 0x0007010600070106ull), -1);
    assert_int_equal(wrmsr(f, 0x277, 0x0002040600070406ull), X86_VEC_GP);
    assert_int_equal(rdmsr(f, 0x277, &v), -1);
    assert_int_equal(v, 0x0007010600070106ull);
}

static void test_tsc_and_adjust(void **state)
{
    struct fixture *f = *state;
    uint64_t tsc, adjust;
    f->cpu->cycles = 1000000;
    assert_int_equal(rdmsr(f, 0x10, &tsc), -1);
    assert_true(tsc >= 1000000 && tsc < 1000100);
    /* a TSC write moves IA32_TSC_ADJUST by the same amount */
    assert_int_equal(wrmsr(f, 0x10, 5000000), -1);
    assert_int_equal(rdmsr(f, 0x3B, &adjust), -1);
    assert_true(adjust > 3999000 && adjust <= 4000000);
    /* and writing IA32_TSC_ADJUST moves the TSC: set it back to 0 */
    assert_int_equal(wrmsr(f, 0x3B, 0), -1);
    assert_int_equal(x86_tsc(f->cpu), f->cpu->cycles);
    /* rdtscp: the TSC and IA32_TSC_AUX in ECX */
    assert_int_equal(wrmsr(f, 0xC0000103u, 0x12345678), -1);
    assert_int_equal(wrmsr(f, 0xC0000103u, 0x100000000ull), X86_VEC_GP); /* 32 bits */
    static const uint8_t rdtscp[] = { 0x0F, 0x01, 0xF9 };
    f->cpu->cycles = 7777777;
    assert_int_equal(exec(f, rdtscp, sizeof(rdtscp)), -1);
    assert_int_equal(f->cpu->gpr[X86_ECX], 0x12345678);
    assert_int_equal(f->cpu->gpr[X86_EAX], 7777777);
    assert_int_equal(f->cpu->gpr[X86_EDX], 0);
    /* CR4.TSD at CPL 3: #GP(0), as for rdtsc */
    f->cpu->cr4 |= X86_CR4_TSD;
    f->cpu->cpl = 3;
    assert_int_equal(exec(f, rdtscp, sizeof(rdtscp)), X86_VEC_GP);
    f->cpu->cpl = 0;
    f->cpu->cr4 &= ~X86_CR4_TSD;
}

/* The TSC is the machine's one clock (SDM Vol. 3 17.17.1): a core behind the machine's clock
 * (another core ran ahead in its quantum and read the TSC) reads that clock, never less, and a
 * core ahead of it moves it on (tests/guests/smp-tsc.c: Linux's check_tsc_warp) */
static void test_tsc_is_the_machines_clock(void **state)
{
    struct fixture *f = *state;
    static const uint8_t rdtsc[] = { 0x0F, 0x31 };
    uint64_t tsc;
    f->cpu->cycles = 1500000;
    *f->cpu->clock = 2000000; /* another core read the TSC at cycle 2000000 */
    assert_int_equal(exec(f, rdtsc, sizeof(rdtsc)), -1);
    assert_int_equal(f->cpu->gpr[X86_EAX], 2000000);
    assert_int_equal(rdmsr(f, 0x10, &tsc), -1);
    assert_int_equal(tsc, 2000000);
    assert_int_equal(x86_tsc(f->cpu), f->cpu->cycles); /* the core's own: its LAPIC's deadline */
    /* ahead of the clock: the core's cycle, which becomes the clock */
    f->cpu->cycles = 3000000;
    assert_int_equal(exec(f, rdtsc, sizeof(rdtsc)), -1);
    assert_true(f->cpu->gpr[X86_EAX] >= 3000000 && f->cpu->gpr[X86_EAX] < 3000100);
    assert_true(*f->cpu->clock >= 3000000);
    /* a TSC write sets what the next read gives, whichever clock is ahead */
    f->cpu->cycles = *f->cpu->clock - 1000;
    assert_int_equal(wrmsr(f, 0x10, 10000000), -1);
    assert_int_equal(rdmsr(f, 0x10, &tsc), -1);
    assert_true(tsc >= 10000000 && tsc < 10000100);
}

static void test_misc_enable_and_cpuid(void **state)
{
    struct fixture *f = *state;
    uint32_t r[4];
    uint64_t v;
    assert_int_equal(rdmsr(f, 0x1A0, &v), -1);
    assert_int_equal(v, 0x1801);                      /* fast strings; BTS, PEBS unavailable */
    cpuid(f, 0, 0, r);
    assert_int_equal(r[0], 0xA);
    cpuid(f, 1, 0, r);
    assert_true(r[3] & (1u << 12));                   /* MTRR */
    assert_true(r[3] & (1u << 16));                   /* PAT */
    assert_true(r[3] & (1u << 24));                   /* FXSR */
    assert_false(r[3] & (1u << 25));                  /* no SSE */
    cpuid(f, 7, 0, r);
    assert_true(r[1] & (1u << 1));                    /* IA32_TSC_ADJUST */
    assert_true(r[3] & (1u << 29));                   /* IA32_ARCH_CAPABILITIES */
    cpuid(f, 0x80000001u, 0, r);
    assert_true(r[3] & (1u << 20));                   /* NX */
    assert_true(r[3] & (1u << 27));                   /* RDTSCP */
    cpuid(f, 0x80000007u, 0, r);
    assert_int_equal(r[3], 1u << 8);                  /* the invariant TSC, nothing else */
    /* limit CPUID maxval: leaf 0 reports 2 and leaf 7 reads as leaf 2 */
    assert_int_equal(wrmsr(f, 0x1A0, 0x1801 | (1u << 22)), -1);
    cpuid(f, 0, 0, r);
    assert_int_equal(r[0], 2);
    /* XD disable: no NX in CPUID, and EFER.NXE is reserved */
    assert_int_equal(wrmsr(f, 0x1A0, 0x1801 | (1ull << 34)), -1);
    cpuid(f, 0x80000001u, 0, r);
    assert_false(r[3] & (1u << 20));
    assert_int_equal(wrmsr(f, 0xC0000080u, X86_EFER_NXE), X86_VEC_GP);
    /* read-only bits ignore writes, reserved bits fault */
    assert_int_equal(wrmsr(f, 0x1A0, 0), -1);
    assert_int_equal(rdmsr(f, 0x1A0, &v), -1);
    assert_int_equal(v, 0x1800);
    assert_int_equal(wrmsr(f, 0x1A0, 1u << 2), X86_VEC_GP);
    assert_int_equal(wrmsr(f, 0xC0000080u, X86_EFER_NXE), -1);
    assert_int_equal(wrmsr(f, 0xC0000080u, 1u << 9), X86_VEC_GP); /* reserved */
}

/* The IA-32e MSRs (SDM Vol. 4 Table 2-2, Vol. 3 9.8.5): EFER.LME changes only with paging off,
 * LMA is the processor's; the SYSCALL and segment-base MSRs hold canonical addresses */
static void test_long_mode_msrs(void **state)
{
    struct fixture *f = *state;
    uint64_t v;
    assert_int_equal(wrmsr(f, 0xC0000080u, X86_EFER_LME | X86_EFER_SCE | X86_EFER_LMA), -1);
    assert_int_equal(rdmsr(f, 0xC0000080u, &v), -1);
    assert_int_equal(v, X86_EFER_LME | X86_EFER_SCE); /* the LMA written is ignored */
    /* paging on (no tables to fetch through: the MSR write is called directly) */
    f->cpu->cr0 |= X86_CR0_PG;
    assert_false(x86_write_msr(f->cpu, 0xC0000080u, X86_EFER_SCE)); /* LME with paging on */
    assert_true(x86_write_msr(f->cpu, 0xC0000080u, X86_EFER_LME));  /* SCE may change */
    f->cpu->cr0 &= ~X86_CR0_PG;
    static const uint32_t addresses[] = { 0xC0000082u, 0xC0000083u, 0xC0000100u, 0xC0000101u,
                                          0xC0000102u, 0x175, 0x176 };
    for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
        assert_int_equal(wrmsr(f, addresses[i], 0xFFFF800000001000ull), -1);
        assert_int_equal(rdmsr(f, addresses[i], &v), -1);
        assert_int_equal(v, 0xFFFF800000001000ull);
        assert_int_equal(wrmsr(f, addresses[i], 0x0000800000000000ull), X86_VEC_GP);
    }
    assert_int_equal(f->cpu->seg[X86_SEG_FS].base, 0xFFFF800000001000ull);
    assert_int_equal(wrmsr(f, 0xC0000081u, 0x0023001000000000ull), -1); /* STAR: any value */
    assert_int_equal(wrmsr(f, 0xC0000084u, 0x47700), -1);
    assert_int_equal(wrmsr(f, 0xC0000084u, 1ull << 32), X86_VEC_GP);   /* FMASK: 32 bits */
    assert_int_equal(wrmsr(f, 0x174, 1ull << 32), X86_VEC_GP);         /* SYSENTER_CS */
}

static void test_cr4_osfxsr(void **state)
{
    struct fixture *f = *state;
    /* mov cr4, eax with OSFXSR (Linux's fpu__init_cpu_generic): accepted though there is no
     * SSE; OSXMMEXCPT is still reserved */
    static const uint8_t mov_cr4[] = { 0x0F, 0x22, 0xE0 };
    f->cpu->gpr[X86_EAX] = X86_CR4_OSFXSR | X86_CR4_PSE;
    assert_int_equal(exec(f, mov_cr4, sizeof(mov_cr4)), -1);
    assert_int_equal(f->cpu->cr4, X86_CR4_OSFXSR | X86_CR4_PSE);
    f->cpu->gpr[X86_EAX] = X86_CR4_OSFXSR | 0x400;
    assert_int_equal(exec(f, mov_cr4, sizeof(mov_cr4)), X86_VEC_GP);
    assert_int_equal(f->cpu->cr4, X86_CR4_OSFXSR | X86_CR4_PSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unknown_and_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mtrrs_and_pat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tsc_and_adjust, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tsc_is_the_machines_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misc_enable_and_cpuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_mode_msrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cr4_osfxsr, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
