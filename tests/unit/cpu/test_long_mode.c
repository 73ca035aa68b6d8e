/* Unit tests of IA-32e mode (SDM Vol. 3 9.8.5, 4.5, 5.8.8, 6.14): the core enters long mode
 * through the real sequence (CR4.PAE, CR3, EFER.LME, CR0.PG, a far jump to a 64-bit code
 * segment) and then: the mode-change #GP checks, 4-level paging's faults (CR2 above 4 GiB,
 * error codes, reserved bits, NX) and large pages, delivery through 16-byte gates (IST, the
 * 16-byte alignment, the frame, the #GP/#NP cases), IRETQ, SYSCALL/SYSRET, SWAPGS, CR8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/exec.h"
#include "cpu/run.h"
#include "core_fixture.h"

/* the machine's layout */
#define CODE 0x1000u
#define HANDLER 0x1800u
#define PML4 0x10000u
#define PDPT 0x11000u
#define PD 0x12000u
#define PT 0x13000u
#define GDT 0x20000u
#define IDT 0x21000u
#define TSS 0x22000u
#define STACK 0x80000u
#define RSP0 0x90000u
#define IST1 0xA0008u /* misaligned on purpose: the frame starts at 0xA0000 */
#define RO_PAGE 0x5000u
#define NX_PAGE 0x6000u

/* selectors (GDT below) */
#define KERNEL_CS32 0x08
#define KERNEL_CS 0x18
#define KERNEL_SS 0x20
#define USER_CS32 0x28
#define USER_SS 0x30
#define USER_CS 0x38
#define TSS_SEL 0x40

struct fixture {
    struct test_core *m;
    struct x86_cpu *cpu;
};

static void put64(struct fixture *f, uint32_t at, uint64_t v)
{
    assert_int_equal(test_write_physical(f->m, at, &v, 8), X86IRQ_OK);
}
static uint64_t get64(struct fixture *f, uint32_t at)
{
    uint64_t v;
    assert_int_equal(test_read_physical(f->m, at, &v, 8), X86IRQ_OK);
    return v;
}

static int exec(struct fixture *f, uint32_t at, const uint8_t *bytes, size_t n)
{
    return test_exec_bytes(f->m, at, bytes, n);
}
#define EXEC_AT(f, at, ...) ({ const uint8_t code_[] = { __VA_ARGS__ }; exec(f, at, code_, sizeof(code_)); })
#define EXEC(f, ...) EXEC_AT(f, CODE, __VA_ARGS__)
#define R(f, r) ((f)->cpu->gpr[r])

/* a 16-byte gate: type 0xE (interrupt) or 0xF (trap), or anything else to see it refused */
static void set_gate(struct fixture *f, unsigned vector, uint16_t selector, uint64_t offset,
                     unsigned type, unsigned dpl, unsigned ist, bool present)
{
    uint64_t low = (offset & 0xFFFF) | ((uint64_t)selector << 16) | ((uint64_t)ist << 32) |
                   ((uint64_t)(type | (dpl << 5) | (present ? 0x80 : 0)) << 40) |
                   ((offset & 0xFFFF0000ull) << 32);
    put64(f, IDT + vector * 16, low);
    put64(f, IDT + vector * 16 + 8, offset >> 32);
}

/* The event the last instruction raised, delivered as the run loop would (a fault while
 * delivering it is returned: -1 when it went through) */
static int deliver(struct fixture *f)
{
    struct x86_cpu *cpu = f->cpu;
    struct x86_fault event = cpu->fault;
    if (setjmp(cpu->fault_jump) != 0)
        return cpu->fault.vector;
    x86_cpu_deliver(cpu, &event);
    return -1;
}

static void build_tables(struct fixture *f)
{
    /* identity map: 4 KiB pages for the first 2 MiB, a 2 MiB page for the next, and the
     * 1 GiB page at 1 GiB mapping physical 0 */
    put64(f, PML4, PDPT | 7);
    put64(f, PDPT, PD | 7);
    put64(f, PDPT + 8, 0x0ull | 0x87);
    put64(f, PD, PT | 7);
    put64(f, PD + 8, 0x200000ull | 0x87);
    for (uint32_t i = 0; i < 512; i++)
        put64(f, PT + 8 * i, ((uint64_t)i << 12) | 7);
    put64(f, PT + 8 * (RO_PAGE >> 12), RO_PAGE | 5);                   /* read-only */
    put64(f, PT + 8 * (NX_PAGE >> 12), NX_PAGE | 7 | (1ull << 63));    /* execute-disable */
    static const uint64_t gdt[] = {
        0,
        0x00CF9A000000FFFFull, /* 0x08 ring-0 32-bit code */
        0x00CF92000000FFFFull, /* 0x10 ring-0 data */
        0x00AF9A000000FFFFull, /* 0x18 ring-0 64-bit code */
        0x00CF92000000FFFFull, /* 0x20 ring-0 data (SYSCALL's SS) */
        0x00CFFA000000FFFFull, /* 0x28 ring-3 32-bit code (SYSRET to compatibility mode) */
        0x00CFF2000000FFFFull, /* 0x30 ring-3 data */
        0x00AFFA000000FFFFull, /* 0x38 ring-3 64-bit code */
    };
    for (unsigned i = 0; i < 8; i++)
        put64(f, GDT + 8 * i, gdt[i]);
    /* 0x40: the 64-bit TSS, 16 bytes */
    put64(f, GDT + 0x40, 0x67 | ((uint64_t)(TSS & 0xFFFF) << 16) |
                             ((uint64_t)((TSS >> 16) & 0xFF) << 32) | (0x89ull << 40));
    put64(f, GDT + 0x48, 0);
    /* 0x50: a 64-bit call gate (DPL 3) to KERNEL_CS:HANDLER, 16 bytes */
    put64(f, GDT + 0x50, (HANDLER & 0xFFFF) | ((uint64_t)KERNEL_CS << 16) | (0xECull << 40));
    put64(f, GDT + 0x58, 0);
    f->cpu->gdtr.base = GDT;
    f->cpu->gdtr.limit = 0x5F;
    f->cpu->idtr.base = IDT;
    f->cpu->idtr.limit = 256 * 16 - 1;
    put64(f, TSS + 4, RSP0);
    put64(f, TSS + 0x24, IST1);
}

/* The SDM's sequence, executed: PAE, CR3, EFER.LME, PG (compatibility mode), far jump */
static void enter_long_mode(struct fixture *f)
{
    assert_int_equal(EXEC(f, 0x0F, 0x20, 0xE0,             /* mov eax, cr4 */
                          0x83, 0xC8, 0x20,                /* or eax, PAE */
                          0x0F, 0x22, 0xE0,                /* mov cr4, eax */
                          0xB8, 0x00, 0x00, 0x01, 0x00,    /* mov eax, PML4 */
                          0x0F, 0x22, 0xD8,                /* mov cr3, eax */
                          0xB9, 0x80, 0x00, 0x00, 0xC0,    /* mov ecx, IA32_EFER */
                          0x0F, 0x32,                      /* rdmsr */
                          0x0D, 0x00, 0x01, 0x00, 0x00,    /* or eax, LME */
                          0x0F, 0x30,                      /* wrmsr */
                          0x0F, 0x20, 0xC0,                /* mov eax, cr0 */
                          0x0D, 0x00, 0x00, 0x00, 0x80,    /* or eax, PG */
                          0x0F, 0x22, 0xC0,                /* mov cr0, eax */
                          0xEA, 0x00, 0x11, 0x00, 0x00, KERNEL_CS, 0x00), /* ljmp 0x18:0x1100 */
                     -1);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = test_core_create(4u << 20, 1);
    f->cpu = f->m->cpu;
    f->cpu->gpr[X86_ESP] = STACK;
    f->cpu->cycle_limit = UINT64_MAX;
    f->cpu->exit_request = 0;
    build_tables(f);
    *state = f;
    return 0;
}

static int setup_long(void **state)
{
    setup(state);
    struct fixture *f = *state;
    enter_long_mode(f);
    assert_int_equal(EXEC(f, 0x66, 0xB8, TSS_SEL, 0x00,   /* mov ax, TSS */
                          0x0F, 0x00, 0xD8), -1);         /* ltr ax */
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_core_destroy(f->m);
    free(f);
    return 0;
}

static void test_activation(void **state)
{
    struct fixture *f = *state;
    assert_false(f->cpu->efer & X86_EFER_LMA);
    enter_long_mode(f);
    assert_true(f->cpu->efer & X86_EFER_LMA);
    assert_int_equal(f->cpu->mode, X86_MODE_64);
    assert_int_equal(f->cpu->seg[X86_SEG_CS].selector, KERNEL_CS);
    assert_int_equal(f->cpu->rip, 0x1100);
    /* LTR takes the 16-byte TSS descriptor and marks it busy */
    assert_int_equal(EXEC(f, 0x66, 0xB8, TSS_SEL, 0x00, 0x0F, 0x00, 0xD8), -1);
    assert_int_equal(f->cpu->tr.base, TSS);
    assert_int_equal(get64(f, GDT + 0x40) >> 40 & 0xF, 0xB);
    /* 64-bit code may jump anywhere canonical, above 4 GiB too (faulting there: not mapped) */
    R(f, X86_EAX) = 0x0000123400000000ull;
    assert_int_equal(EXEC(f, 0xFF, 0xE0), -1);            /* jmp rax */
    assert_int_equal(f->cpu->rip, 0x0000123400000000ull);
}

/* SDM Vol. 3 9.8.5 and Vol. 2 MOV CR / WRMSR: what may not change while IA-32e mode is on */
static void test_activation_checks(void **state)
{
    struct fixture *f = *state;
    /* PG with LME but without PAE: #GP(0), nothing changes */
    assert_true(x86_write_msr(f->cpu, 0xC0000080u, X86_EFER_LME));
    R(f, X86_EAX) = X86_CR0_PE | X86_CR0_PG;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xC0), X86_VEC_GP);
    assert_false(f->cpu->cr0 & X86_CR0_PG);
    assert_false(f->cpu->efer & X86_EFER_LMA);
    assert_true(x86_write_msr(f->cpu, 0xC0000080u, 0));
    enter_long_mode(f);
    R(f, X86_EAX) = f->cpu->cr4 & ~X86_CR4_PAE;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xE0), X86_VEC_GP);          /* mov cr4, rax */
    R(f, X86_ECX) = 0xC0000080u;
    R(f, X86_EAX) = 0;
    R(f, X86_EDX) = 0;
    assert_int_equal(EXEC(f, 0x0F, 0x30), X86_VEC_GP);                /* LME off: wrmsr */
    R(f, X86_EAX) = f->cpu->cr0 & ~X86_CR0_PG;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xC0), X86_VEC_GP);          /* PG off in 64-bit mode */
    R(f, X86_EAX) = f->cpu->cr0 | (1ull << 32);
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xC0), X86_VEC_GP);          /* CR0[63:32] reserved */
    assert_true(f->cpu->efer & X86_EFER_LMA);
    /* to compatibility mode by a far jump through memory (m16:32), and out of IA-32e mode
     * from there: PG off clears LMA */
    test_put32(f->m, 0x3000, 0x1200);
    test_put32(f->m, 0x3004, KERNEL_CS32);
    assert_int_equal(EXEC(f, 0xFF, 0x2C, 0x25, 0x00, 0x30, 0x00, 0x00), -1); /* jmp far [0x3000] */
    assert_int_equal(f->cpu->mode, X86_MODE_32);
    assert_int_equal(f->cpu->rip, 0x1200);
    assert_true(f->cpu->efer & X86_EFER_LMA);
    R(f, X86_EAX) = f->cpu->cr0 & ~X86_CR0_PG;
    assert_int_equal(EXEC(f, 0x0F, 0x22, 0xC0), -1);
    assert_false(f->cpu->efer & X86_EFER_LMA);
    assert_true(f->cpu->efer & X86_EFER_LME);
}

/* INIT from long mode: real mode with paging off, so IA-32e mode is not active any more (LME,
 * an MSR bit, is kept as INIT keeps the MSRs) */
static void test_init_leaves_long_mode(void **state)
{
    struct fixture *f = *state;
    assert_true(f->cpu->efer & X86_EFER_LMA);
    x86_cpu_init_signal(f->cpu);
    assert_false(f->cpu->efer & X86_EFER_LMA);
    assert_true(f->cpu->efer & X86_EFER_LME);
    assert_int_equal(f->cpu->mode, X86_MODE_16);
    assert_false(f->cpu->cr0 & X86_CR0_PG);
}

/* 4-level paging (SDM Vol. 3 4.5, 4.7): CR2 holds the 64-bit address, the error codes */
static void test_paging(void **state)
{
    struct fixture *f = *state;
    /* not present at the PML4 level: a read above 4 GiB */
    assert_int_equal(EXEC(f, 0x48, 0xA1, 0x00, 0x00, 0x00, 0x00, 0x34, 0x12, 0x00, 0x00),
                     X86_VEC_PF);                              /* mov rax, [0x123400000000] */
    assert_int_equal(f->cpu->cr2, 0x0000123400000000ull);
    assert_int_equal(f->cpu->fault.error_code, 0);
    /* a store to a read-only page with CR0.WP: P | W */
    f->cpu->cr0 |= X86_CR0_WP;
    assert_int_equal(EXEC(f, 0x89, 0x04, 0x25, 0x00, 0x50, 0x00, 0x00), X86_VEC_PF);
    assert_int_equal(f->cpu->fault.error_code, 3);
    assert_int_equal(f->cpu->cr2, RO_PAGE);
    /* a reserved bit (bit 13 of a 2 MiB page's PDE): P | RSVD */
    put64(f, PD + 8, 0x200000ull | 0x87 | (1u << 13));
    assert_int_equal(EXEC(f, 0x8B, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00), X86_VEC_PF);
    assert_int_equal(f->cpu->fault.error_code, 9);
    /* the 1 GiB page at 1 GiB maps physical 0 */
    test_put32(f->m, 0x4000, 0xC0FFEE);
    assert_int_equal(EXEC(f, 0x8B, 0x04, 0x25, 0x00, 0x40, 0x00, 0x40), -1); /* mov eax, [0x40004000] */
    assert_int_equal(R(f, X86_EAX), 0xC0FFEE);
    /* XD without EFER.NXE is a reserved bit; with it, a fetch there is P | I/D */
    R(f, X86_EAX) = NX_PAGE;
    assert_int_equal(EXEC(f, 0xFF, 0xE0), -1);                 /* jmp rax */
    struct x86_fault fault;
    assert_false(x86_cpu_step(f->cpu, &fault));
    assert_int_equal(fault.vector, X86_VEC_PF);
    assert_int_equal(fault.error_code, 0x09);                  /* P | RSVD */
    assert_true(x86_write_msr(f->cpu, 0xC0000080u, f->cpu->efer | X86_EFER_NXE));
    assert_false(x86_cpu_step(f->cpu, &fault));
    assert_int_equal(fault.vector, X86_VEC_PF);
    assert_int_equal(fault.error_code, 0x11);                  /* P | I/D */
    assert_int_equal(f->cpu->cr2, NX_PAGE);
}

/* Delivery through 16-byte gates (SDM Vol. 3 6.14) and IRETQ */
static void test_delivery_and_iretq(void **state)
{
    struct fixture *f = *state;
    set_gate(f, 0x80, KERNEL_CS, HANDLER, 0xE, 0, 1, true);   /* IST 1 */
    x86_set_eflags(f->cpu, X86_FLAG_IF, X86_FLAG_IF);
    assert_int_equal(EXEC(f, 0xCD, 0x80), 0x80);
    assert_int_equal(deliver(f), -1);
    /* the frame at IST1 aligned down to 16: RIP, CS, RFLAGS, RSP, SS */
    assert_int_equal(R(f, X86_ESP), 0xA0000 - 40);
    assert_int_equal(get64(f, 0xA0000 - 40), CODE + 2);
    assert_int_equal(get64(f, 0xA0000 - 32), KERNEL_CS);
    assert_true(get64(f, 0xA0000 - 24) & X86_FLAG_IF);
    assert_int_equal(get64(f, 0xA0000 - 16), STACK);
    assert_int_equal(get64(f, 0xA0000 - 8), 0x10);            /* SS, pushed with no privilege change too */
    assert_int_equal(f->cpu->rip, HANDLER);
    assert_false(f->cpu->eflags & X86_FLAG_IF);                /* an interrupt gate */
    assert_int_equal(EXEC_AT(f, HANDLER, 0x48, 0xCF), -1);    /* iretq */
    assert_int_equal(f->cpu->rip, CODE + 2);
    assert_int_equal(R(f, X86_ESP), STACK);
    assert_true(f->cpu->eflags & X86_FLAG_IF);

    /* no IST: the current stack, aligned to 16 first; a trap gate keeps IF */
    set_gate(f, 0x81, KERNEL_CS, HANDLER, 0xF, 0, 0, true);
    R(f, X86_ESP) = STACK + 8;
    assert_int_equal(EXEC(f, 0xCD, 0x81), 0x81);
    assert_int_equal(deliver(f), -1);
    assert_int_equal(R(f, X86_ESP), STACK - 40);
    assert_int_equal(get64(f, STACK - 16), STACK + 8);
    assert_true(f->cpu->eflags & X86_FLAG_IF);

    /* the refusals: a task gate, a 32-bit target, not present; IDT error codes */
    R(f, X86_ESP) = STACK;
    set_gate(f, 0x82, KERNEL_CS, HANDLER, 0x5, 0, 0, true);
    assert_int_equal(EXEC(f, 0xCD, 0x82), 0x82);
    assert_int_equal(deliver(f), X86_VEC_GP);
    assert_int_equal(f->cpu->fault.error_code, 0x82 * 8 + 2);
    set_gate(f, 0x83, KERNEL_CS32, HANDLER, 0xE, 0, 0, true);
    assert_int_equal(EXEC(f, 0xCD, 0x83), 0x83);
    assert_int_equal(deliver(f), X86_VEC_GP);
    assert_int_equal(f->cpu->fault.error_code, KERNEL_CS32);
    set_gate(f, 0x84, KERNEL_CS, HANDLER, 0xE, 0, 0, false);
    assert_int_equal(EXEC(f, 0xCD, 0x84), 0x84);
    assert_int_equal(deliver(f), X86_VEC_NP);
    assert_int_equal(f->cpu->fault.error_code, 0x84 * 8 + 2);
    assert_int_equal(R(f, X86_ESP), STACK);                    /* nothing pushed */

    /* an exception with an error code: #PF's frame has it on top */
    set_gate(f, X86_VEC_PF, KERNEL_CS, HANDLER, 0xE, 0, 0, true);
    assert_int_equal(EXEC(f, 0x48, 0xA1, 0x00, 0x00, 0x00, 0x00, 0x34, 0x12, 0x00, 0x00),
                     X86_VEC_PF);
    assert_int_equal(deliver(f), -1);
    assert_int_equal(R(f, X86_ESP), STACK - 48);
    assert_int_equal(get64(f, STACK - 48), 0);                /* the error code */
    assert_int_equal(get64(f, STACK - 40), CODE);             /* the faulting instruction */
}

/* SYSCALL / SYSRET (SDM Vol. 2) and a privilege change through a gate from ring 3 */
static void test_syscall_sysret(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    assert_true(x86_write_msr(cpu, 0xC0000080u, cpu->efer | X86_EFER_SCE));
    assert_true(x86_write_msr(cpu, 0xC0000081u, ((uint64_t)(USER_CS32 | 3) << 48) |
                                                    ((uint64_t)KERNEL_CS << 32)));
    assert_true(x86_write_msr(cpu, 0xC0000082u, 0x1A00));
    assert_true(x86_write_msr(cpu, 0xC0000084u, X86_FLAG_IF | X86_FLAG_DF));
    x86_set_eflags(cpu, X86_FLAG_IF | X86_FLAG_DF, X86_FLAG_IF | X86_FLAG_DF);
    uint32_t flags = x86_get_eflags(cpu);
    assert_int_equal(EXEC(f, 0x0F, 0x05), -1);               /* syscall */
    assert_int_equal(cpu->rip, 0x1A00);
    assert_int_equal(R(f, X86_ECX), CODE + 2);
    assert_int_equal(R(f, X86_R11), flags);
    assert_false(cpu->eflags & (X86_FLAG_IF | X86_FLAG_DF));  /* FMASK */
    assert_int_equal(cpu->seg[X86_SEG_CS].selector, KERNEL_CS);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, KERNEL_SS);
    /* a non-canonical RCX: #GP in ring 0, nothing changed */
    R(f, X86_ECX) = 0x0000800000000000ull;
    assert_int_equal(EXEC_AT(f, 0x1A00, 0x48, 0x0F, 0x07), X86_VEC_GP);
    assert_int_equal(cpu->cpl, 0);
    /* swapgs at ring 0 */
    cpu->seg[X86_SEG_GS].base = 1;
    cpu->msr.kernel_gs_base = 2;
    assert_int_equal(EXEC(f, 0x0F, 0x01, 0xF8), -1);
    assert_int_equal(cpu->seg[X86_SEG_GS].base, 2);
    assert_int_equal(cpu->msr.kernel_gs_base, 1);
    /* sysretq to ring-3 64-bit code: CS = STAR[63:48] + 16, SS = + 8, RFLAGS from R11 */
    R(f, X86_ECX) = 0x1234;
    R(f, X86_R11) = X86_FLAG_IF | 0x2;
    assert_int_equal(EXEC_AT(f, 0x1A00, 0x48, 0x0F, 0x07), -1);
    assert_int_equal(cpu->rip, 0x1234);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->seg[X86_SEG_CS].selector, USER_CS | 3);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, USER_SS | 3);
    assert_int_equal(cpu->mode, X86_MODE_64);
    assert_true(cpu->eflags & X86_FLAG_IF);
    /* ring 3: swapgs is #GP(0); int n through a DPL-0 gate is #GP(IDT); through a DPL-3 gate
     * the stack is RSP0 and SS becomes null */
    assert_int_equal(EXEC(f, 0x0F, 0x01, 0xF8), X86_VEC_GP);
    set_gate(f, 0x80, KERNEL_CS, HANDLER, 0xE, 0, 0, true);
    assert_int_equal(EXEC(f, 0xCD, 0x80), 0x80);
    assert_int_equal(deliver(f), X86_VEC_GP);
    assert_int_equal(cpu->fault.error_code, 0x80 * 8 + 2);
    set_gate(f, 0x80, KERNEL_CS, HANDLER, 0xE, 3, 0, true);
    R(f, X86_ESP) = 0x70000;
    assert_int_equal(EXEC(f, 0xCD, 0x80), 0x80);
    assert_int_equal(deliver(f), -1);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(R(f, X86_ESP), RSP0 - 40);
    assert_int_equal(get64(f, RSP0 - 8), USER_SS | 3);
    assert_int_equal(get64(f, RSP0 - 16), 0x70000);
    assert_int_equal(get64(f, RSP0 - 32), USER_CS | 3);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, 0);
    /* iretq back to ring 3 */
    assert_int_equal(EXEC_AT(f, HANDLER, 0x48, 0xCF), -1);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(R(f, X86_ESP), 0x70000);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, USER_SS | 3);
    /* syscall from ring 3, then sysret without REX.W: compatibility mode at CS = STAR[63:48] */
    assert_int_equal(EXEC(f, 0x0F, 0x05), -1);
    R(f, X86_ECX) = 0x1300;
    assert_int_equal(EXEC_AT(f, 0x1A00, 0x0F, 0x07), -1);
    assert_int_equal(cpu->mode, X86_MODE_32);
    assert_int_equal(cpu->seg[X86_SEG_CS].selector, USER_CS32 | 3);
    /* syscall outside 64-bit mode is #UD (Intel) */
    assert_int_equal(EXEC(f, 0x0F, 0x05), X86_VEC_UD);
}

/* SYSENTER / SYSEXIT in IA-32e mode (SDM Vol. 2): a 64-bit kernel CS, SYSEXIT with REX.W to
 * 64-bit code at SYSENTER_CS + 32 */
static void test_sysenter_sysexit(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    assert_true(x86_write_msr(cpu, 0x174, KERNEL_CS));
    assert_true(x86_write_msr(cpu, 0x175, 0xFFFF800000010000ull));
    assert_true(x86_write_msr(cpu, 0x176, 0x1A00));
    R(f, X86_EDX) = 0x1234;
    R(f, X86_ECX) = 0x70000;
    assert_int_equal(EXEC(f, 0x48, 0x0F, 0x35), -1);          /* sysexit64 */
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->seg[X86_SEG_CS].selector, (KERNEL_CS + 32) | 3);
    assert_int_equal(cpu->mode, X86_MODE_64);
    assert_int_equal(cpu->rip, 0x1234);
    assert_int_equal(R(f, X86_ESP), 0x70000);
    assert_int_equal(EXEC(f, 0x0F, 0x34), -1);                /* sysenter from ring 3 */
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->mode, X86_MODE_64);
    assert_int_equal(cpu->rip, 0x1A00);
    assert_int_equal(R(f, X86_ESP), 0xFFFF800000010000ull);
    R(f, X86_EDX) = 0x0000800000000000ull;                    /* not canonical: #GP */
    assert_int_equal(EXEC_AT(f, 0x1A00, 0x48, 0x0F, 0x35), X86_VEC_GP);
    assert_int_equal(cpu->cpl, 0);
}

/* A far call through a 64-bit call gate from ring 3 (SDM Vol. 3 5.8.3.1): RSP0, a null SS,
 * 8-byte pushes of SS, RSP, CS, RIP; lretq back to ring 3 */
#define CALL_GATE 0x50
static void test_call_gate(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    assert_true(x86_write_msr(cpu, 0xC0000080u, cpu->efer | X86_EFER_SCE));
    assert_true(x86_write_msr(cpu, 0xC0000081u, (uint64_t)(USER_CS32 | 3) << 48));
    R(f, X86_ECX) = 0x1300;
    R(f, X86_R11) = 0x2;
    assert_int_equal(EXEC(f, 0x48, 0x0F, 0x07), -1);          /* sysretq to ring 3 */
    assert_int_equal(cpu->cpl, 3);
    R(f, X86_ESP) = 0x70000;
    test_put32(f->m, 0x3000, 0);                               /* m16:64: offset ignored */
    test_put32(f->m, 0x3004, 0);
    test_put32(f->m, 0x3008, CALL_GATE | 3);
    assert_int_equal(EXEC_AT(f, 0x1300, 0x48, 0xFF, 0x1C, 0x25, 0x00, 0x30, 0x00, 0x00), -1);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->rip, HANDLER);
    assert_int_equal(cpu->seg[X86_SEG_CS].selector, KERNEL_CS);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, 0);
    assert_int_equal(R(f, X86_ESP), RSP0 - 32);
    assert_int_equal(get64(f, RSP0 - 8), USER_SS | 3);
    assert_int_equal(get64(f, RSP0 - 16), 0x70000);
    assert_int_equal(get64(f, RSP0 - 24), USER_CS | 3);
    assert_int_equal(get64(f, RSP0 - 32), 0x1308);
    assert_int_equal(EXEC_AT(f, HANDLER, 0x48, 0xCB), -1);    /* lretq: back to ring 3 */
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->rip, 0x1308);
    assert_int_equal(R(f, X86_ESP), 0x70000);
    /* the gate's DPL against CPL 3: a DPL-0 gate is #GP(gate) */
    put64(f, GDT + CALL_GATE, (HANDLER & 0xFFFF) | ((uint64_t)KERNEL_CS << 16) | (0x8Cull << 40));
    assert_int_equal(EXEC_AT(f, 0x1300, 0x48, 0xFF, 0x1C, 0x25, 0x00, 0x30, 0x00, 0x00),
                     X86_VEC_GP);
    assert_int_equal(cpu->fault.error_code, CALL_GATE);
}

/* Compatibility mode in IA-32e mode reaches 64-bit code through the same 16-byte call gates
 * (SDM Vol. 3 5.8.3.1): a 32-bit far call from ring 3 compatibility code lands in 64-bit ring
 * 0 with 8-byte pushes; task gates are #GP(selector): no task switches in IA-32e mode (8.7) */
static void test_call_gate_from_compat(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    assert_true(x86_write_msr(cpu, 0xC0000080u, cpu->efer | X86_EFER_SCE));
    assert_true(x86_write_msr(cpu, 0xC0000081u, (uint64_t)(USER_CS32 | 3) << 48));
    R(f, X86_ECX) = 0x1300;
    R(f, X86_R11) = 0x2;
    assert_int_equal(EXEC(f, 0x0F, 0x07), -1);                /* sysret: compatibility mode */
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->mode, X86_MODE_32);
    R(f, X86_ESP) = 0x70000;
    test_put32(f->m, 0x3000, 0);                               /* m16:32: offset ignored */
    test_put32(f->m, 0x3004, CALL_GATE | 3);
    assert_int_equal(EXEC_AT(f, 0x1300, 0xFF, 0x1D, 0x00, 0x30, 0x00, 0x00), -1);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->mode, X86_MODE_64);
    assert_int_equal(cpu->rip, HANDLER);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, 0);
    assert_int_equal(R(f, X86_ESP), RSP0 - 32);
    assert_int_equal(get64(f, RSP0 - 8), USER_SS | 3);
    assert_int_equal(get64(f, RSP0 - 16), 0x70000);
    assert_int_equal(get64(f, RSP0 - 24), USER_CS32 | 3);
    assert_int_equal(get64(f, RSP0 - 32), 0x1306);
    assert_int_equal(EXEC_AT(f, HANDLER, 0x48, 0xCB), -1);    /* lretq: back to compat ring 3 */
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->mode, X86_MODE_32);
    assert_int_equal(cpu->rip, 0x1306);
    assert_int_equal(R(f, X86_ESP), 0x70000);
    /* the return to ring 3 nulled DS, a ring-0 data segment (SDM Vol. 2 RET): through SS now */
    assert_true(cpu->seg[X86_SEG_DS].attributes & X86_SEG_ATTR_UNUSABLE);
    /* a far jump there to a 16-bit call gate (type 0x4) and a call to a task gate */
    put64(f, GDT + CALL_GATE, (HANDLER & 0xFFFF) | ((uint64_t)KERNEL_CS << 16) | (0xE4ull << 40));
    assert_int_equal(EXEC_AT(f, 0x1300, 0x36, 0xFF, 0x2D, 0x00, 0x30, 0x00, 0x00), X86_VEC_GP);
    assert_int_equal(cpu->fault.error_code, CALL_GATE);
    put64(f, GDT + CALL_GATE, ((uint64_t)TSS_SEL << 16) | (0xE5ull << 40));
    assert_int_equal(EXEC_AT(f, 0x1300, 0x36, 0xFF, 0x1D, 0x00, 0x30, 0x00, 0x00), X86_VEC_GP);
    assert_int_equal(cpu->fault.error_code, CALL_GATE);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(R(f, X86_ESP), 0x70000);
}

/* #AC(0) in 64-bit mode (SDM Vol. 3 6.15): CR0.AM, RFLAGS.AC and CPL 3, for loads, stores and
 * pushes; not at CPL 0 */
static void test_alignment_check(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    cpu->cr0 |= X86_CR0_AM;
    x86_update_alignment_check(cpu);
    R(f, X86_EBX) = 0x3001;
    assert_int_equal(EXEC(f, 0x48, 0x8B, 0x03), -1);          /* CPL 0: no check */
    assert_true(x86_write_msr(cpu, 0xC0000080u, cpu->efer | X86_EFER_SCE));
    assert_true(x86_write_msr(cpu, 0xC0000081u, (uint64_t)(USER_CS32 | 3) << 48));
    R(f, X86_ECX) = 0x1300;
    R(f, X86_R11) = 0x40002;                                  /* RFLAGS.AC */
    assert_int_equal(EXEC(f, 0x48, 0x0F, 0x07), -1);          /* sysretq to ring 3 */
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(EXEC_AT(f, 0x1300, 0x48, 0x8B, 0x03), X86_VEC_AC); /* mov rax, [rbx] */
    assert_int_equal(cpu->fault.error_code, 0);
    R(f, X86_EBX) = 0x3004;
    assert_int_equal(EXEC_AT(f, 0x1300, 0x48, 0x8B, 0x03), X86_VEC_AC); /* 8 bytes at 4 */
    assert_int_equal(EXEC_AT(f, 0x1300, 0x8B, 0x03), -1);      /* 4 bytes at 4: aligned */
    assert_int_equal(EXEC_AT(f, 0x1300, 0x89, 0x43, 0x01), X86_VEC_AC); /* mov [rbx+1], eax */
    assert_int_equal(EXEC_AT(f, 0x1300, 0x88, 0x43, 0x01), -1); /* bytes are never misaligned */
    R(f, X86_ESP) = 0x70004;
    assert_int_equal(EXEC_AT(f, 0x1300, 0x50), X86_VEC_AC);   /* push rax: RSP 8-misaligned */
    assert_int_equal(R(f, X86_ESP), 0x70004);
    R(f, X86_ESP) = 0x70008;
    assert_int_equal(EXEC_AT(f, 0x1300, 0x50), -1);
}

/* CR8 is the TPR's class (SDM Vol. 3 10.8.6.1) */
static void test_cr8(void **state)
{
    struct fixture *f = *state;
    R(f, X86_EAX) = 5;
    assert_int_equal(EXEC(f, 0x44, 0x0F, 0x22, 0xC0), -1);    /* mov cr8, rax */
    assert_int_equal(f->m->lapic->tpr, 0x50);
    f->m->lapic->tpr = 0x9C;
    assert_int_equal(EXEC(f, 0x44, 0x0F, 0x20, 0xC1), -1);    /* mov rcx, cr8 */
    assert_int_equal(R(f, X86_ECX), 9);
    R(f, X86_EAX) = 0x10;
    assert_int_equal(EXEC(f, 0x44, 0x0F, 0x22, 0xC0), X86_VEC_GP); /* bits 63:4 reserved */
    assert_int_equal(f->m->lapic->tpr, 0x9C);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_activation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activation_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_leaves_long_mode, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_and_iretq, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_syscall_sysret, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_sysenter_sysexit, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_call_gate, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_call_gate_from_compat, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_alignment_check, setup_long, teardown),
        cmocka_unit_test_setup_teardown(test_cr8, setup_long, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
