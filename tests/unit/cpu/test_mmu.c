/* Unit tests of src/cpu/mmu.c: segment checks, 32-bit paging (4 KiB and 4 MiB pages, every
 * #PF error-code bit, accessed/dirty bits, CR0.WP), the TLB, MMIO and open bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cpu/mmu.h"
#include "cpu/segment.h"
#include "core_fixture.h"

struct fixture {
    struct test_core *m;
    struct x86_cpu *cpu;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = test_core_create(16u << 20, 1);
    f->cpu = f->m->cpu;
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

/* Run fn(cpu, arg) with a fault catcher: returns -1 when it completed, else the vector. */
struct attempt { int vector; uint32_t error_code; };
typedef void (*access_fn)(struct x86_cpu *cpu, void *arg);
static struct attempt try_access(struct x86_cpu *cpu, access_fn fn, void *arg)
{
    struct attempt a = { -1, 0 };
    if (setjmp(cpu->fault_jump) == 0) {
        fn(cpu, arg);
    } else {
        a.vector = cpu->fault.vector;
        a.error_code = cpu->fault.error_code;
    }
    return a;
}

static void put32(struct test_core *m, uint32_t addr, uint32_t v)
{
    assert_int_equal(test_write_physical(m, addr, &v, 4), X86IRQ_OK);
}
static uint32_t get32(struct test_core *m, uint32_t addr)
{
    uint32_t v;
    assert_int_equal(test_read_physical(m, addr, &v, 4), X86IRQ_OK);
    return v;
}

struct rw { uint32_t offset; unsigned size; uint32_t value; unsigned seg; };
static void do_read(struct x86_cpu *cpu, void *arg)
{
    struct rw *r = arg;
    r->value = x86_read(cpu, r->seg, r->offset, r->size);
}
static void do_write(struct x86_cpu *cpu, void *arg)
{
    struct rw *r = arg;
    x86_write(cpu, r->seg, r->offset, r->size, r->value);
}

static void test_flat_access_and_open_bus(void **state)
{
    struct fixture *f = *state;
    struct rw w = { 0x1000, 4, 0xDEADBEEF, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_write, &w).vector, -1);
    assert_int_equal(get32(f->m, 0x1000), 0xDEADBEEF);
    struct rw r = { 0x1000, 2, 0, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_read, &r).vector, -1);
    assert_int_equal(r.value, 0xBEEF);
    /* a page-crossing access */
    struct rw w2 = { 0x1FFE, 4, 0x11223344, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_write, &w2).vector, -1);
    assert_int_equal(get32(f->m, 0x1FFE), 0x11223344);
    /* beyond RAM and no device: all ones, writes go nowhere */
    struct rw r2 = { 0x40000000, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_read, &r2).vector, -1);
    assert_int_equal(r2.value, 0xFFFFFFFF);
    struct rw w3 = { 0x40000000, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_write, &w3).vector, -1);
}

static void test_segment_limits(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    /* a small data segment: limit 0xFFF */
    cpu->seg[X86_SEG_ES].limit = 0xFFF;
    x86_segment_refresh(cpu, X86_SEG_ES);
    struct rw ok = { 0xFFC, 4, 0, X86_SEG_ES };
    assert_int_equal(try_access(cpu, do_read, &ok).vector, -1);
    struct rw over = { 0xFFD, 4, 0, X86_SEG_ES };
    struct attempt a = try_access(cpu, do_read, &over);
    assert_int_equal(a.vector, X86_VEC_GP);
    assert_int_equal(a.error_code, 0);
    /* the same on SS is #SS(0) */
    cpu->seg[X86_SEG_SS].limit = 0xFFF;
    x86_segment_refresh(cpu, X86_SEG_SS);
    struct rw over_ss = { 0x1000, 1, 0, X86_SEG_SS };
    assert_int_equal(try_access(cpu, do_read, &over_ss).vector, X86_VEC_SS);
    /* expand-down: offsets above the limit are valid, at or below fault */
    cpu->seg[X86_SEG_FS].attributes = 0x97 | X86_SEG_ATTR_DB; /* data, expand-down, writable */
    cpu->seg[X86_SEG_FS].limit = 0xFFF;
    x86_segment_refresh(cpu, X86_SEG_FS);
    struct rw low = { 0x800, 4, 0, X86_SEG_FS };
    assert_int_equal(try_access(cpu, do_read, &low).vector, X86_VEC_GP);
    struct rw high = { 0x1000, 4, 0, X86_SEG_FS };
    assert_int_equal(try_access(cpu, do_read, &high).vector, -1);
    /* read-only data: writes fault */
    cpu->seg[X86_SEG_GS].attributes = 0x91 | X86_SEG_ATTR_DB | X86_SEG_ATTR_G;
    x86_segment_refresh(cpu, X86_SEG_GS);
    struct rw ro = { 0x100, 4, 1, X86_SEG_GS };
    assert_int_equal(try_access(cpu, do_write, &ro).vector, X86_VEC_GP);
    /* a null (unusable) segment faults on any access */
    cpu->seg[X86_SEG_GS].attributes = X86_SEG_ATTR_UNUSABLE;
    x86_segment_refresh(cpu, X86_SEG_GS);
    struct rw null_read = { 0, 1, 0, X86_SEG_GS };
    assert_int_equal(try_access(cpu, do_read, &null_read).vector, X86_VEC_GP);
}

/* Page tables: directory at 0x10000, one table at 0x11000 mapping 0x400000-0x7FFFFF. */
#define PD 0x10000u
#define PT 0x11000u
static void setup_paging(struct fixture *f, uint32_t pde_flags, uint32_t pte_flags)
{
    struct x86_cpu *cpu = f->cpu;
    for (uint32_t i = 0; i < 1024; i++) {
        put32(f->m, PD + i * 4, 0);
        put32(f->m, PT + i * 4, 0);
    }
    put32(f->m, PD + 0 * 4, 0x00000083u | pde_flags);  /* 4 MiB identity page for 0-4 MiB */
    put32(f->m, PD + 1 * 4, PT | pde_flags);            /* table for 4-8 MiB */
    put32(f->m, PT + 5 * 4, 0x00200000u | pte_flags);   /* 0x405000 -> 0x200000 */
    cpu->cr4 |= X86_CR4_PSE;
    cpu->cr3 = PD;
    cpu->cr0 |= X86_CR0_PG;
    x86_tlb_flush(cpu);
}

static void test_page_walk_4k_and_4m(void **state)
{
    struct fixture *f = *state;
    setup_paging(f, 0x7, 0x7);
    put32(f->m, 0x200010, 0xCAFEF00D);
    struct rw r = { 0x405010, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_read, &r).vector, -1);
    assert_int_equal(r.value, 0xCAFEF00D);
    /* accessed set on PDE and PTE, dirty not yet */
    assert_true(get32(f->m, PD + 4) & 0x20);
    assert_true(get32(f->m, PT + 5 * 4) & 0x20);
    assert_false(get32(f->m, PT + 5 * 4) & 0x40);
    struct rw w = { 0x405014, 4, 0x12345678, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_write, &w).vector, -1);
    assert_true(get32(f->m, PT + 5 * 4) & 0x40);
    assert_int_equal(get32(f->m, 0x200014), 0x12345678);
    /* the 4 MiB page maps 0-4 MiB one to one */
    struct rw big = { 0x200010, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_read, &big).vector, -1);
    assert_int_equal(big.value, 0xCAFEF00D);
}

static void test_page_fault_error_codes(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    setup_paging(f, 0x7, 0x5); /* user, read-only page */
    /* not present: P=0; a write sets W */
    struct rw np = { 0x406000, 4, 0, X86_SEG_DS };
    struct attempt a = try_access(cpu, do_write, &np);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x2);
    assert_int_equal(cpu->cr2, 0x406000);
    /* supervisor write to a read-only page with CR0.WP=0 succeeds, with WP=1 faults P|W */
    struct rw w = { 0x405000, 4, 7, X86_SEG_DS };
    assert_int_equal(try_access(cpu, do_write, &w).vector, -1);
    cpu->cr0 |= X86_CR0_WP;
    x86_tlb_flush(cpu);
    a = try_access(cpu, do_write, &w);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x3);
    /* user read of a user page works; user write faults P|W|U */
    cpu->cpl = 3;
    x86_tlb_flush(cpu);
    struct rw ur = { 0x405000, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(cpu, do_read, &ur).vector, -1);
    a = try_access(cpu, do_write, &w);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x7);
    /* user access to a supervisor page: P|U */
    put32(f->m, PT + 5 * 4, 0x00200000u | 0x3);
    x86_tlb_flush(cpu);
    a = try_access(cpu, do_read, &ur);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x5);
    cpu->cpl = 0;
    /* reserved bits in a 4 MiB PDE: RSVD|P */
    put32(f->m, PD, 0x00000083u | 0x2000u);
    x86_tlb_flush(cpu);
    struct rw rs = { 0x1000, 4, 0, X86_SEG_DS };
    a = try_access(cpu, do_read, &rs);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x9);
}

static void test_tlb_caches_until_flushed(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    setup_paging(f, 0x7, 0x7);
    put32(f->m, 0x200000, 1);
    put32(f->m, 0x300000, 2);
    struct rw r = { 0x405000, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(cpu, do_read, &r).vector, -1);
    assert_int_equal(r.value, 1);
    /* remap without invalidating: the TLB still has the old translation (as hardware may) */
    put32(f->m, PT + 5 * 4, 0x00300000u | 0x67);
    assert_int_equal(try_access(cpu, do_read, &r).vector, -1);
    assert_int_equal(r.value, 1);
    x86_tlb_flush_page(cpu, 0x405000);
    assert_int_equal(try_access(cpu, do_read, &r).vector, -1);
    assert_int_equal(r.value, 2);
}

/* SDM Vol. 3 4.10.4.1: a CR3 load invalidates every TLB entry except global pages' (CR4.PGE);
 * invlpg and CR4 changes invalidate those too */
static void write_cr(struct x86_cpu *cpu, void *arg)
{
    const uint32_t *nv = arg;
    x86_write_control_register(cpu, nv[0], nv[1]);
}

static void test_global_pages_survive_cr3_loads(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    setup_paging(f, 0x7, 0x107);                        /* 0x405000: global */
    put32(f->m, PT + 6 * 4, 0x00201000u | 0x7);         /* 0x406000: not global */
    cpu->cr4 |= X86_CR4_PGE;
    put32(f->m, 0x200000, 1);
    put32(f->m, 0x201000, 2);
    put32(f->m, 0x300000, 3);
    struct rw global = { 0x405000, 4, 0, X86_SEG_DS }, local = { 0x406000, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(cpu, do_read, &global).vector, -1);
    assert_int_equal(try_access(cpu, do_read, &local).vector, -1);
    /* both now map 0x300000; reload CR3 without invlpg */
    put32(f->m, PT + 5 * 4, 0x00300000u | 0x107);
    put32(f->m, PT + 6 * 4, 0x00300000u | 0x7);
    uint32_t cr3[2] = { 3, PD };
    assert_int_equal(try_access(cpu, write_cr, cr3).vector, -1);
    assert_int_equal(try_access(cpu, do_read, &global).vector, -1);
    assert_int_equal(try_access(cpu, do_read, &local).vector, -1);
    assert_int_equal(global.value, 1);                  /* the global entry stayed */
    assert_int_equal(local.value, 3);                   /* the other was walked again */
    x86_tlb_flush_page(cpu, 0x405000);                  /* invlpg drops a global entry too */
    assert_int_equal(try_access(cpu, do_read, &global).vector, -1);
    assert_int_equal(global.value, 3);
    /* without CR4.PGE the G bit means nothing */
    put32(f->m, PT + 5 * 4, 0x00200000u | 0x107);
    uint32_t cr4[2] = { 4, cpu->cr4 & ~X86_CR4_PGE };
    assert_int_equal(try_access(cpu, write_cr, cr4).vector, -1);
    assert_int_equal(try_access(cpu, do_read, &global).vector, -1);
    assert_int_equal(global.value, 1);
    put32(f->m, PT + 5 * 4, 0x00300000u | 0x107);
    assert_int_equal(try_access(cpu, write_cr, cr3).vector, -1);
    assert_int_equal(try_access(cpu, do_read, &global).vector, -1);
    assert_int_equal(global.value, 3);
}

/* A ring change switches between the supervisor and the user TLB: a supervisor-only page the
 * kernel has cached is not open to ring 3, and invlpg and CR3 reach both TLBs. */
static void test_privilege_levels_have_their_own_tlb(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    setup_paging(f, 0x7, 0x3);                          /* 0x405000: supervisor only */
    put32(f->m, PT + 6 * 4, 0x00201000u | 0x7);         /* 0x406000: user */
    put32(f->m, 0x200000, 1);
    put32(f->m, 0x201000, 2);
    put32(f->m, 0x300000, 3);
    struct rw kernel_page = { 0x405000, 4, 0, X86_SEG_DS }, user_page = { 0x406000, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(cpu, do_read, &kernel_page).vector, -1);
    assert_int_equal(try_access(cpu, do_read, &user_page).vector, -1);
    x86_set_cpl(cpu, 3);
    struct attempt a = try_access(cpu, do_read, &kernel_page);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x5);                /* P | U: the kernel's entry was not used */
    assert_int_equal(try_access(cpu, do_read, &user_page).vector, -1);
    x86_set_cpl(cpu, 0);
    assert_int_equal(try_access(cpu, do_read, &kernel_page).vector, -1);
    assert_int_equal(kernel_page.value, 1);
    /* both TLBs hold 0x406000; after a remap and invlpg neither may keep the old frame */
    put32(f->m, PT + 6 * 4, 0x00300000u | 0x7);
    x86_tlb_flush_page(cpu, 0x406000);
    assert_int_equal(try_access(cpu, do_read, &user_page).vector, -1);
    assert_int_equal(user_page.value, 3);
    x86_set_cpl(cpu, 3);
    assert_int_equal(try_access(cpu, do_read, &user_page).vector, -1);
    assert_int_equal(user_page.value, 3);
    /* and a CR3 load empties the TLB of the other privilege too */
    x86_set_cpl(cpu, 0);
    put32(f->m, PT + 6 * 4, 0x00201000u | 0x7);
    uint32_t cr3[2] = { 3, PD };
    assert_int_equal(try_access(cpu, write_cr, cr3).vector, -1);
    x86_set_cpl(cpu, 3);
    assert_int_equal(try_access(cpu, do_read, &user_page).vector, -1);
    assert_int_equal(user_page.value, 2);
}

static void test_control_register_checks(void **state)
{
    struct fixture *f = *state;
    /* PG without PE and NW without CD are refused (#GP(0)) */
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR0, 0x80000000u),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR0, 0x20000001u),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    /* bit 15 and OSXMMEXCPT (no SSE) are reserved bits for us; OSFXSR is not: CPUID has FXSR,
     * and Linux sets it whenever FXSR is there, with SSE or without */
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR4, 0x8000),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR4, 0x400),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR4, X86_CR4_OSFXSR), X86IRQ_OK);
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR4, X86_CR4_PSE), X86IRQ_OK);
    uint32_t cr0;
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR0, 0x1), X86IRQ_OK);
    assert_int_equal(test_get_register(f->m, X86IRQ_REG_CR0, &cr0), X86IRQ_OK);
    assert_int_equal(cr0, 0x11); /* ET reads as 1 */
}

static void put64(struct test_core *m, uint32_t addr, uint64_t v)
{
    assert_int_equal(test_write_physical(m, addr, &v, 8), X86IRQ_OK);
}

struct fetch { uint32_t linear; };
static void do_fetch(struct x86_cpu *cpu, void *arg)
{
    struct fetch *fe = arg;
    uint64_t phys;
    bool writable;
    x86_translate(cpu, fe->linear, X86_ACCESS_EXECUTE, false, &phys, &writable);
}

/* SMAP: with EFLAGS.AC set explicit supervisor reads of a user page run, implicit ones (the
 * descriptor tables, the TSS) fault all the same (SDM Vol. 3 4.6.1) */
struct system_read { uint32_t linear; uint64_t value; };
static void do_system_read(struct x86_cpu *cpu, void *arg)
{
    struct system_read *r = arg;
    r->value = x86_read_system(cpu, r->linear, 8);
}

static void test_smap_checks_implicit_accesses_whatever_ac(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    setup_paging(f, 0x7, 0x7);                          /* 0x405000: a user page */
    cpu->cr4 |= X86_CR4_SMAP;
    x86_tlb_flush(cpu);
    x86_set_eflags(cpu, X86_FLAG_AC, X86_FLAG_AC);
    struct rw explicit_read = { 0x405010, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(cpu, do_read, &explicit_read).vector, -1);
    struct system_read implicit_read = { 0x405010, 0 };
    struct attempt a = try_access(cpu, do_system_read, &implicit_read);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x1);                /* P: a protection fault */
    x86_set_eflags(cpu, 0, X86_FLAG_AC);
    a = try_access(cpu, do_read, &explicit_read);
    assert_int_equal(a.vector, X86_VEC_PF);             /* AC clear: the explicit read too */
}

/* Implicit supervisor reads (gates, descriptors, the TSS) go through the supervisor TLB:
 * cached until a flush as any translation; a user page only while SMAP is off, and a CR4
 * write that sets SMAP empties it, so the next implicit read of the user page faults */
static void test_system_reads_use_the_supervisor_tlb(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    setup_paging(f, 0x7, 0x7);                          /* 0x405000 -> 0x200000, a user page */
    put32(f->m, 0x200010, 0x11111111);
    struct system_read r = { 0x405010, 0 };
    assert_int_equal(try_access(cpu, do_system_read, &r).vector, -1);
    assert_int_equal((uint32_t)r.value, 0x11111111);
    /* the PTE made not present without INVLPG: the cached translation still serves (as a
     * processor's TLB does), and the data is RAM's, not a copy */
    put32(f->m, PT + 5 * 4, 0);
    put32(f->m, 0x200010, 0x22222222);
    assert_int_equal(try_access(cpu, do_system_read, &r).vector, -1);
    assert_int_equal((uint32_t)r.value, 0x22222222);
    x86_tlb_flush_page(cpu, 0x405000);
    assert_int_equal(try_access(cpu, do_system_read, &r).vector, X86_VEC_PF);
    /* cached again, then SMAP: the CR4 write empties the TLB and the implicit read faults */
    put32(f->m, PT + 5 * 4, 0x00200000u | 0x7);
    assert_int_equal(try_access(cpu, do_system_read, &r).vector, -1);
    x86_write_control_register(cpu, 4, cpu->cr4 | X86_CR4_SMAP);
    struct attempt a = try_access(cpu, do_system_read, &r);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x1);
}

static void test_pae_paging_and_nx(void **state)
{
    struct fixture *f = *state;
    /* PDPT at 0x10000: [0] -> PD at 0x11000, [1] -> PD at 0x13000; PD[0]: a 2 MiB page at 0;
     * PD at 0x13000 [0] -> PT at 0x12000: linear 0x40001000 -> 0x300000 (XD set) */
    put64(f->m, 0x10000, 0x11000 | 1);
    put64(f->m, 0x10008, 0x13000 | 1);
    put64(f->m, 0x11000, 0x000000 | 0x83);              /* 2 MiB, present, writable */
    put64(f->m, 0x13000, 0x12000 | 0x3);
    put64(f->m, 0x12008, 0x300000 | 0x3 | (1ull << 63));
    put32(f->m, 0x300000, 0x11223344);
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR4, X86_CR4_PAE), X86IRQ_OK);
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR3, 0x10000), X86IRQ_OK);
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR0, 0x80000001u), X86IRQ_OK);
    struct rw r = { 0x40001000, 4, 0, X86_SEG_DS };
    /* without EFER.NXE bit 63 is reserved: #PF with RSVD */
    struct attempt a = try_access(f->cpu, do_read, &r);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x9);                /* P | RSVD */
    assert_true(x86_write_msr(f->cpu, 0xC0000080u, X86_EFER_NXE));
    a = try_access(f->cpu, do_read, &r);
    assert_int_equal(a.vector, -1);
    assert_int_equal(r.value, 0x11223344);
    /* an instruction fetch from an XD page: #PF with P and I/D */
    struct fetch fe = { 0x40001000 };
    a = try_access(f->cpu, do_fetch, &fe);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code, 0x11);
    assert_int_equal(f->cpu->cr2, 0x40001000);
    /* the 2 MiB identity page; a PDPTE with reserved bits refuses the CR3 load */
    struct rw low = { 0x1FF000, 4, 0, X86_SEG_DS };
    assert_int_equal(try_access(f->cpu, do_read, &low).vector, -1);
    put64(f->m, 0x20000, 0x11000 | 1 | 0x4);              /* bit 2 reserved in a PDPTE */
    assert_int_equal(test_set_register(f->m, X86IRQ_REG_CR3, 0x20000),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    /* an address bit above MAXPHYADDR (32) in a PDE: #PF RSVD */
    put64(f->m, 0x11000, 0x000000 | 0x83 | (1ull << 32));
    x86_tlb_flush(f->cpu);
    a = try_access(f->cpu, do_read, &low);
    assert_int_equal(a.vector, X86_VEC_PF);
    assert_int_equal(a.error_code & 0x8, 0x8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flat_access_and_open_bus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_walk_4k_and_4m, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_fault_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_caches_until_flushed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_global_pages_survive_cr3_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_privilege_levels_have_their_own_tlb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smap_checks_implicit_accesses_whatever_ac, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_control_register_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_reads_use_the_supervisor_tlb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pae_paging_and_nx, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
