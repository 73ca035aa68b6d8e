/* Unit tests of the debugger's API (src/machine/debug_api.c): stepping one CPU to its next
 * instruction boundary (into a handler too), watchpoints exact to the byte, memory by linear
 * address through the page tables. Small programs written straight into guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <unistd.h>

#include "x86irq/gdb.h"
#include "gdb/gdb.h"
#include "x86irq/x86irq.h"

static x86irq_machine *make(unsigned cpus)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    c.cpus = cpus;
    x86irq_machine *m = NULL;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    return m;
}

static void put(x86irq_machine *m, uint32_t at, const uint8_t *bytes, size_t n)
{
    assert_int_equal(x86irq_write_physical(m, at, bytes, n), X86IRQ_OK);
}

static uint32_t reg(x86irq_machine *m, x86irq_register r)
{
    uint32_t v = 0;
    assert_int_equal(x86irq_get_register(m, r, &v), X86IRQ_OK);
    return v;
}

/* An IDT at 0x8000 whose vector's gate leads to handler */
static void idt_gate(x86irq_machine *m, unsigned vector, uint32_t handler)
{
    uint8_t gate[8] = { (uint8_t)handler, (uint8_t)(handler >> 8), 0x08, 0x00, 0x00, 0x8E,
                        (uint8_t)(handler >> 16), (uint8_t)(handler >> 24) };
    put(m, 0x8000 + vector * 8, gate, sizeof(gate));
    /* a GDT with flat code (0x08) and data (0x10) for the gate's selector */
    const uint32_t gdt[6] = { 0, 0, 0x0000FFFF, 0x00CF9B00, 0x0000FFFF, 0x00CF9300 };
    put(m, 0x7000, (const uint8_t *)gdt, sizeof(gdt));
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_GDTR_BASE, 0x7000), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_GDTR_LIMIT, 23), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_IDTR_BASE, 0x8000), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_IDTR_LIMIT, 0x7FF), X86IRQ_OK);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_ESP, 0x70000), X86IRQ_OK);
}
static void idt_ud(x86irq_machine *m, uint32_t handler) { idt_gate(m, 6, handler); }

static void test_step(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    /* inc eax; inc eax; ud2 -> handler: mov ebx, 5; out 0xf4, al */
    const uint8_t code[] = { 0x40, 0x40, 0x0F, 0x0B };
    const uint8_t handler[] = { 0xBB, 0x05, 0x00, 0x00, 0x00, 0xE6, 0xF4 };
    put(m, 0x10000, code, sizeof(code));
    put(m, 0x11000, handler, sizeof(handler));
    idt_ud(m, 0x11000);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    x86irq_stop_reason reason = X86IRQ_STOP_NONE;
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_STEP);
    assert_string_equal(x86irq_stop_reason_string(reason), "step");
    assert_int_equal(x86irq_stop_cpu(m), 0);
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x10001);
    assert_int_equal(reg(m, X86IRQ_REG_EAX), 1);
    assert_int_equal(x86irq_instructions(m), 1);
    /* a breakpoint where the step starts does not stop it; one where it ends is the step's */
    assert_int_equal(x86irq_add_breakpoint(m, 0x10001), X86IRQ_OK);
    assert_int_equal(x86irq_add_breakpoint(m, 0x10002), X86IRQ_OK);
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_STEP);
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x10002);
    /* the ud2 faults: the step ends at the handler's first instruction */
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_STEP);
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x11000);
    assert_int_equal(x86irq_instructions(m), 2); /* a fault retires nothing */
    uint32_t frame = 0;
    assert_int_equal(x86irq_read_physical(m, reg(m, X86IRQ_REG_ESP), &frame, 4), X86IRQ_OK);
    assert_int_equal(frame, 0x10002); /* the faulting instruction's EIP */
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reg(m, X86IRQ_REG_EBX), 5);
    /* a step that ends the machine ends with the machine's reason */
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    assert_int_equal(x86irq_step(m, 1, UINT64_MAX, &reason), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(x86irq_last_error(m), "CPU 1"));
    x86irq_machine_destroy(m);
}

/* After a step, running goes on at full speed: no stop where the step ended */
static void test_run_after_step(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    const uint8_t code[] = { 0x40, 0x40, 0x40, 0xE6, 0xF4 }; /* inc eax x3; out 0xf4, al */
    put(m, 0x10000, code, sizeof(code));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    assert_int_equal(x86irq_add_breakpoint(m, 0x10001), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x10001);
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    assert_int_equal(x86irq_exit_value(m), 3);
    x86irq_machine_destroy(m);
}

/* A halted CPU steps when an interrupt wakes it: into the handler */
static void test_step_from_hlt_with_nothing_to_wake(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    const uint8_t code[] = { 0xF4 }; /* hlt with IF = 0 */
    put(m, 0x10000, code, sizeof(code));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_step(m, 0, 100000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_HALTED);
    assert_int_equal(x86irq_get_cpu_state(m, 0), X86IRQ_CPU_HALTED);
    x86irq_machine_destroy(m);
}

static void test_watchpoints(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    const uint8_t code[] = {
        0xA3, 0x00, 0x00, 0x02, 0x00,             /* 10000: mov [0x20000], eax */
        0x8B, 0x1D, 0x04, 0x00, 0x02, 0x00,       /* 10005: mov ebx, [0x20004] */
        0x83, 0x05, 0x08, 0x00, 0x02, 0x00, 0x01, /* 1000b: add dword [0x20008], 1 */
        0xE6, 0xF4,                               /* 10012: out 0xf4, al */
    };
    put(m, 0x10000, code, sizeof(code));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EAX, 0xAABBCCDD), X86IRQ_OK);
    assert_int_equal(x86irq_add_watchpoint(m, 0x20000, 0, X86IRQ_WATCH_WRITE),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_add_watchpoint(m, UINT64_MAX, 2, X86IRQ_WATCH_WRITE),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_add_watchpoint(m, 0x20000, 4, (x86irq_watch_kind)7),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    /* a read watch on the written word is not hit by the write */
    assert_int_equal(x86irq_add_watchpoint(m, 0x20003, 1, X86IRQ_WATCH_READ), X86IRQ_OK);
    assert_int_equal(x86irq_add_watchpoint(m, 0x20002, 1, X86IRQ_WATCH_WRITE), X86IRQ_OK);
    assert_int_equal(x86irq_add_watchpoint(m, 0x20007, 1, X86IRQ_WATCH_READ), X86IRQ_OK);
    assert_int_equal(x86irq_add_watchpoint(m, 0x20009, 2, X86IRQ_WATCH_WRITE), X86IRQ_OK);
    uint64_t watch = 0, access = 0;
    x86irq_watch_kind kind = 0;
    unsigned size = 0;
    int write = -1;
    assert_int_equal(x86irq_watchpoint_hit(m, &watch, &kind, &access, &size, &write),
                     X86IRQ_ERR_STATE);
    x86irq_stop_reason reason;
    /* the write to [0x20000..3] touches byte 0x20002: the stop is after the instruction */
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_WATCHPOINT);
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x10005);
    uint32_t stored = 0;
    x86irq_read_physical(m, 0x20000, &stored, 4);
    assert_int_equal(stored, 0xAABBCCDD);
    assert_int_equal(x86irq_watchpoint_hit(m, &watch, &kind, &access, &size, &write), X86IRQ_OK);
    assert_int_equal(watch, 0x20002);
    assert_int_equal(kind, X86IRQ_WATCH_WRITE);
    assert_int_equal(access, 0x20000);
    assert_int_equal(size, 4);
    assert_int_equal(write, 1);
    /* the read of [0x20004..7] touches 0x20007 */
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_WATCHPOINT);
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x1000B);
    assert_int_equal(x86irq_watchpoint_hit(m, &watch, &kind, NULL, NULL, &write), X86IRQ_OK);
    assert_int_equal(watch, 0x20007);
    assert_int_equal(kind, X86IRQ_WATCH_READ);
    assert_int_equal(write, 0);
    /* the read-modify-write of [0x20008..b] writes 0x20009 */
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_WATCHPOINT);
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x10012);
    assert_int_equal(x86irq_watchpoint_hit(m, &watch, NULL, NULL, NULL, &write), X86IRQ_OK);
    assert_int_equal(watch, 0x20009);
    assert_int_equal(write, 1);
    /* invisible to the guest: DR6 untouched */
    assert_int_equal(reg(m, X86IRQ_REG_DR6) & 0xF, 0);
    assert_int_equal(x86irq_remove_watchpoint(m, 0x20009, 2, X86IRQ_WATCH_READ),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_remove_watchpoint(m, 0x20009, 2, X86IRQ_WATCH_WRITE), X86IRQ_OK);
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    x86irq_machine_destroy(m);
}

/* The same program runs alike with and without watchpoints that are never hit: same cycles */
static void test_watchpoints_change_no_result(void **state)
{
    (void)state;
    uint64_t cycles[2];
    for (int watched = 0; watched < 2; watched++) {
        x86irq_machine *m = make(1);
        /* mov ecx, 1000; l: mov [0x20000], ecx; loop l; out 0xf4, al */
        const uint8_t code[] = { 0xB9, 0xE8, 0x03, 0x00, 0x00, 0x89, 0x0D, 0x00, 0x00,
                                 0x02, 0x00, 0xE2, 0xF8, 0xE6, 0xF4 };
        put(m, 0x10000, code, sizeof(code));
        assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
        if (watched)
            assert_int_equal(x86irq_add_watchpoint(m, 0x30000, 4, X86IRQ_WATCH_ACCESS),
                             X86IRQ_OK);
        x86irq_stop_reason reason;
        assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
        assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
        cycles[watched] = x86irq_cycles(m);
        x86irq_machine_destroy(m);
    }
    assert_int_equal(cycles[0], cycles[1]);
}

/* The descriptor caches and MSRs by index: what the guest loaded, as it loaded it */
static void test_segments_and_msrs(void **state)
{
    (void)state;
    x86irq_machine *m = make(2);
    /* mov ecx, 0x174; mov eax, 0x1234; xor edx, edx; wrmsr (SYSENTER_CS); mov ax, 0x10;
     * mov fs, ax; out 0xf4, al */
    const uint8_t code[] = { 0xB9, 0x74, 0x01, 0x00, 0x00, 0xB8, 0x34, 0x12, 0x00, 0x00,
                             0x31, 0xD2, 0x0F, 0x30, 0x66, 0xB8, 0x10, 0x00, 0x8E, 0xE0,
                             0xE6, 0xF4 };
    put(m, 0x10000, code, sizeof(code));
    idt_gate(m, 6, 0x10000); /* a GDT at 0x7000 with flat code 0x08 and data 0x10 */
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, 100000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    uint64_t v = 0;
    assert_int_equal(x86irq_get_msr(m, 0, 0x174, &v), X86IRQ_OK);
    assert_int_equal(v, 0x1234);
    assert_int_equal(x86irq_get_msr(m, 1, 0x174, &v), X86IRQ_OK);
    assert_int_equal(v, 0); /* the other CPU's own */
    assert_int_equal(x86irq_get_msr(m, 0, 0x1B, &v), X86IRQ_OK); /* IA32_APIC_BASE: the BSP */
    assert_int_equal(v & 0xFFFFF900u, 0xFEE00900u);
    assert_int_equal(x86irq_get_msr(m, 0, 0x12345678, &v), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strstr(x86irq_last_error(m), "0x12345678") != NULL);
    assert_int_equal(x86irq_get_msr(m, 2, 0x174, &v), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_msr(m, 1, 0x174, 0x99), X86IRQ_OK);
    assert_int_equal(x86irq_get_msr(m, 1, 0x174, &v), X86IRQ_OK);
    assert_int_equal(v, 0x99);
    /* EFER with a reserved bit: refused, unchanged */
    uint64_t efer = 0;
    assert_int_equal(x86irq_get_msr(m, 0, 0xC0000080, &efer), X86IRQ_OK);
    assert_int_equal(x86irq_set_msr(m, 0, 0xC0000080, efer | (1ull << 40)),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_get_msr(m, 0, 0xC0000080, &v), X86IRQ_OK);
    assert_int_equal(v, efer);
    x86irq_segment seg = { 0 };
    assert_int_equal(x86irq_get_segment(m, 0, X86IRQ_SEG_FS, &seg), X86IRQ_ERR_INVALID_ARGUMENT);
    seg.size = sizeof(seg);
    assert_int_equal(x86irq_get_segment(m, 0, X86IRQ_SEG_FS, &seg), X86IRQ_OK);
    assert_int_equal(seg.selector, 0x10);
    assert_int_equal(seg.base, 0);
    assert_int_equal(seg.limit, 0xFFFFFFFFu);
    assert_int_equal(seg.attributes & 0xFF, 0x93);  /* present, DPL 0, data read/write, accessed */
    assert_int_equal((seg.attributes >> 8) & 0xC, 0xC); /* G, D/B */
    assert_int_equal(x86irq_get_segment(m, 0, X86IRQ_SEG_CS, &seg), X86IRQ_OK);
    assert_int_equal(seg.attributes & 0x18, 0x18); /* a code segment */
    assert_int_equal(x86irq_get_segment(m, 0, X86IRQ_SEG_TR, &seg), X86IRQ_OK);
    assert_int_equal(x86irq_get_segment(m, 0, X86IRQ_SEG_COUNT, &seg),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_get_segment(m, 0, X86IRQ_SEG_CS, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_machine_destroy(m);
}

/* The x87 and SSE registers as a debugger reads them: ST(i) from TOP, in the 80-bit format */
static void test_fpu_state(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    const uint8_t code[] = { 0xD9, 0xE8, 0xD9, 0xEB, 0xE6, 0xF4 }; /* fld1; fldpi; out 0xf4 */
    put(m, 0x10000, code, sizeof(code));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, 100000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    x86irq_fpu_state f;
    memset(&f, 0, sizeof(f));
    assert_int_equal(x86irq_get_fpu_state(m, 0, &f), X86IRQ_ERR_INVALID_ARGUMENT); /* size 0 */
    f.size = sizeof(f);
    assert_int_equal(x86irq_get_fpu_state(m, 0, &f), X86IRQ_OK);
    assert_int_equal(f.size, sizeof(f));
    assert_int_equal((f.status >> 11) & 7, 6); /* two pushes from TOP 0 */
    static const uint8_t pi[10] = { 0x35, 0xC2, 0x68, 0x21, 0xA2, 0xDA, 0x0F, 0xC9, 0x00, 0x40 };
    static const uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F };
    assert_memory_equal(f.st[0], pi, 10);
    assert_memory_equal(f.st[1], one, 10);
    assert_int_equal((f.tag >> 12) & 0xF, 0);     /* R6, R7: valid */
    assert_int_equal(f.tag & 0xFFF, 0xFFF);        /* R0-R5: empty */
    assert_int_equal(f.control, 0x0040); /* power-up, no FNINIT (SDM Vol. 3 Table 9-1) */
    assert_int_equal(f.mxcsr, 0x1F80);
    assert_int_equal(x86irq_get_fpu_state(m, 1, &f), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_get_fpu_state(m, 0, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    /* set: ST(0) and ST(1) swapped, an XMM register, MXCSR: read back as set */
    memcpy(f.st[0], one, 10);
    memcpy(f.st[1], pi, 10);
    memset(f.xmm[3], 0xAB, 16);
    f.mxcsr = 0x1FC0; /* DAZ too */
    assert_int_equal(x86irq_set_fpu_state(m, 0, &f), X86IRQ_OK);
    x86irq_fpu_state g = { .size = sizeof(g) };
    assert_int_equal(x86irq_get_fpu_state(m, 0, &g), X86IRQ_OK);
    assert_memory_equal(&g, &f, sizeof(f));
    f.mxcsr = 0x10000; /* reserved */
    assert_int_equal(x86irq_set_fpu_state(m, 0, &f), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strstr(x86irq_last_error(m), "MXCSR") != NULL);
    assert_int_equal(x86irq_get_fpu_state(m, 0, &g), X86IRQ_OK);
    assert_int_equal(g.mxcsr, 0x1FC0); /* unchanged */
    f.size = 0;
    assert_int_equal(x86irq_set_fpu_state(m, 0, &f), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_machine_destroy(m);
}

static void test_linear_memory(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    uint64_t phys = 0;
    /* paging off: the identity */
    assert_int_equal(x86irq_translate_linear(m, 0, 0x12345, &phys), X86IRQ_OK);
    assert_int_equal(phys, 0x12345);
    /* 32-bit paging: the page directory at 0x30000, a page table at 0x31000 mapping linear
     * 0x400000 and 0x401000 to physical 0x50000 and 0x60000 (not contiguous) */
    const uint32_t pde = 0x31000 | 3, pte0 = 0x50000 | 3, pte1 = 0x60000 | 1; /* 2nd read-only */
    put(m, 0x30000 + 1 * 4, (const uint8_t *)&pde, 4);
    put(m, 0x31000 + 0 * 4, (const uint8_t *)&pte0, 4);
    put(m, 0x31000 + 1 * 4, (const uint8_t *)&pte1, 4);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_CR3, 0x30000), X86IRQ_OK);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_CR0, reg(m, X86IRQ_REG_CR0) | 0x80000000u),
                     X86IRQ_OK);
    assert_int_equal(x86irq_translate_linear(m, 0, 0x400ABC, &phys), X86IRQ_OK);
    assert_int_equal(phys, 0x50ABC);
    assert_int_equal(x86irq_translate_linear(m, 0, 0x401004, &phys), X86IRQ_OK);
    assert_int_equal(phys, 0x60004);
    assert_int_equal(x86irq_translate_linear(m, 0, 0x402000, &phys), X86IRQ_ERR_RANGE);
    /* a write across the page line lands on both frames, the read-only one too */
    const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_int_equal(x86irq_write_linear(m, 0, 0x400FFC, bytes, 8), X86IRQ_OK);
    uint8_t back[8] = { 0 };
    assert_int_equal(x86irq_read_physical(m, 0x50FFC, back, 4), X86IRQ_OK);
    assert_int_equal(x86irq_read_physical(m, 0x60000, back + 4, 4), X86IRQ_OK);
    assert_memory_equal(back, bytes, 8);
    memset(back, 0, sizeof(back));
    assert_int_equal(x86irq_read_linear(m, 0, 0x400FFC, back, 8), X86IRQ_OK);
    assert_memory_equal(back, bytes, 8);
    /* one unmapped byte: nothing written */
    const uint8_t ff[8] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    assert_int_equal(x86irq_write_linear(m, 0, 0x401FFC, ff, 8), X86IRQ_ERR_RANGE);
    assert_non_null(strstr(x86irq_last_error(m), "0x402000"));
    assert_int_equal(x86irq_read_physical(m, 0x60FFC, back, 4), X86IRQ_OK);
    assert_int_equal(back[0], 0);
    assert_int_equal(x86irq_write_linear(m, 0, 0x400000, NULL, 0), X86IRQ_OK);
    assert_int_equal(x86irq_write_linear(m, 3, 0x400000, bytes, 1), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_translate_linear(m, 0, 0x400000, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_machine_destroy(m);
}

/* Code written through the linear view is decoded again (a debugger's int3) */
static void test_write_linear_keeps_code_coherent(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    const uint8_t code[] = { 0x40, 0x40, 0xE6, 0xF4 }; /* inc eax x2; out 0xf4, al */
    put(m, 0x10000, code, sizeof(code));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK); /* decoded now */
    const uint8_t dec_eax = 0x48;
    assert_int_equal(x86irq_write_linear(m, 0, 0x10001, &dec_eax, 1), X86IRQ_OK);
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    assert_int_equal(x86irq_exit_value(m), 0);
    x86irq_machine_destroy(m);
}

/* With two CPUs, a step of CPU 1 stops on CPU 1 */
static void test_step_other_cpu(void **state)
{
    (void)state;
    x86irq_machine *m = make(2);
    const uint8_t loop[] = { 0x40, 0xEB, 0xFD }; /* inc eax; jmp back */
    put(m, 0x10000, loop, sizeof(loop));
    assert_int_equal(x86irq_set_cpu_register(m, 0, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    x86irq_stop_reason reason;
    /* the application processor waits for SIPI: its step never comes, the budget ends it */
    assert_int_equal(x86irq_get_cpu_state(m, 1), X86IRQ_CPU_WAITING_FOR_SIPI);
    assert_int_equal(x86irq_step(m, 1, 100000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_BUDGET);
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_STEP);
    assert_int_equal(x86irq_stop_cpu(m), 0);
    uint32_t eip = 0;
    assert_int_equal(x86irq_get_cpu_register(m, 0, X86IRQ_REG_EIP, &eip), X86IRQ_OK);
    assert_true(eip == 0x10000 || eip == 0x10001);
    uint64_t before = x86irq_cpu_instructions(m, 0);
    assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(x86irq_cpu_instructions(m, 0), before + 1);
    x86irq_machine_destroy(m);
}

/* A loop interrupted by the local APIC's periodic timer (vector 0x31) until 30 ticks: ECX
 * counts the loop, EBX the ticks */
static x86irq_machine *ticking_machine(void)
{
    x86irq_machine *m = make(1);
    const uint8_t code[] = {
        0xC7, 0x05, 0xF0, 0x00, 0xE0, 0xFE, 0xFF, 0x01, 0x00, 0x00, /* SVR = 0x1FF */
        0xC7, 0x05, 0xE0, 0x03, 0xE0, 0xFE, 0x0B, 0x00, 0x00, 0x00, /* divide by 1 */
        0xC7, 0x05, 0x20, 0x03, 0xE0, 0xFE, 0x31, 0x00, 0x02, 0x00, /* periodic, 0x31 */
        0xC7, 0x05, 0x80, 0x03, 0xE0, 0xFE, 0x89, 0x13, 0x00, 0x00, /* initial count 5001 */
        0xFB,                                                       /* sti */
        0x41,                                                       /* l: inc ecx */
        0x83, 0xFB, 0x1E,                                           /* cmp ebx, 30 */
        0x72, 0xFA,                                                 /* jb l */
        0xE6, 0xF4,                                                 /* out 0xf4, al */
    };
    const uint8_t handler[] = {
        0x43,                                                       /* inc ebx */
        0xC7, 0x05, 0xB0, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00, /* EOI */
        0xCF,                                                       /* iret */
    };
    put(m, 0x10000, code, sizeof(code));
    put(m, 0x11000, handler, sizeof(handler));
    idt_ud(m, 0x11000);
    idt_gate(m, 0x31, 0x11000);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    return m;
}

struct outcome {
    uint64_t cycles, instructions;
    uint32_t ecx, ebx;
};

static struct outcome outcome_of(x86irq_machine *m)
{
    struct outcome o = { x86irq_cycles(m), x86irq_instructions(m), reg(m, X86IRQ_REG_ECX),
                         reg(m, X86IRQ_REG_EBX) };
    x86irq_machine_destroy(m);
    return o;
}

/* A debugger's stops change nothing on one CPU: the same cycles, instructions and state
 * whether the run is whole, cut into slices, stepped through its first thousand boundaries,
 * or stopped at every tick by a breakpoint and a watchpoint (docs/debugging.md) */
static void test_stops_change_nothing(void **state)
{
    (void)state;
    x86irq_stop_reason reason;
    x86irq_machine *m = ticking_machine();
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    struct outcome whole = outcome_of(m);
    assert_int_equal(whole.ebx, 30);
    assert_true(whole.ecx > 1000);

    m = ticking_machine();
    do
        assert_int_equal(x86irq_run(m, 997, &reason), X86IRQ_OK);
    while (reason == X86IRQ_STOP_BUDGET);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    struct outcome sliced = outcome_of(m);

    m = ticking_machine();
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(x86irq_step(m, 0, UINT64_MAX, &reason), X86IRQ_OK);
        assert_int_equal(reason, X86IRQ_STOP_STEP);
    }
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    struct outcome stepped = outcome_of(m);

    m = ticking_machine();
    assert_int_equal(x86irq_add_breakpoint(m, 0x11000), X86IRQ_OK);
    assert_int_equal(x86irq_add_watchpoint(m, 0xFEE000B0, 4, X86IRQ_WATCH_WRITE), X86IRQ_OK);
    unsigned breaks = 0, watches = 0;
    do {
        assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
        breaks += reason == X86IRQ_STOP_BREAKPOINT;
        watches += reason == X86IRQ_STOP_WATCHPOINT;
    } while (reason == X86IRQ_STOP_BREAKPOINT || reason == X86IRQ_STOP_WATCHPOINT);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    assert_int_equal(breaks, 30);
    assert_int_equal(watches, 30); /* the EOI's MMIO write, every tick */
    struct outcome stopped = outcome_of(m);

    const struct outcome *runs[] = { &sliced, &stepped, &stopped };
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(runs[i]->cycles, whole.cycles);
        assert_int_equal(runs[i]->instructions, whole.instructions);
        assert_int_equal(runs[i]->ecx, whole.ecx);
        assert_int_equal(runs[i]->ebx, whole.ebx);
    }
}

/* A whole gdb session through x86irq_gdb_serve on a socket pair: the client's packets are
 * written first and its end closed, so the session ends when they are read; what the stub
 * answered is then read back. Returns the stub's bytes (NUL-terminated, static). */
static const char *gdb_session(x86irq_machine *m, const char *const *packets, unsigned count,
                               x86irq_gdb_end *end)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (unsigned i = 0; i < count; i++) {
        unsigned sum = 0;
        for (const char *p = packets[i]; *p; p++)
            sum += (unsigned char)*p;
        char frame[256];
        int n = snprintf(frame, sizeof(frame), "$%s#%02x", packets[i], sum & 0xFF);
        assert_int_equal(write(sv[1], frame, (size_t)n), n);
    }
    shutdown(sv[1], SHUT_WR);
    x86irq_gdb_options options;
    x86irq_gdb_options_init(&options);
    assert_int_equal(x86irq_gdb_serve(m, sv[0], &options, end), X86IRQ_OK);
    close(sv[0]);
    static char replies[65536];
    size_t got = 0;
    ssize_t n;
    while (got + 1 < sizeof(replies) &&
           (n = read(sv[1], replies + got, sizeof(replies) - 1 - got)) > 0)
        got += (size_t)n;
    replies[got] = '\0';
    close(sv[1]);
    return replies;
}

static void test_gdb_serve(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    const uint8_t code[] = { 0x40, 0x40, 0x40, 0xE6, 0xF4 }; /* inc eax x3; out 0xf4, al */
    put(m, 0x10000, code, sizeof(code));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    static const char *const packets[] = { "qSupported:swbreak+", "?", "m10000,3", "Z0,10002,1",
                                           "c", "p8", "D" };
    x86irq_gdb_end end = X86IRQ_GDB_KILLED;
    const char *r = gdb_session(m, packets, 7, &end);
    assert_int_equal(end, X86IRQ_GDB_DETACHED);
    assert_non_null(strstr(r, "PacketSize=4000;qXfer:features:read+"));
    assert_non_null(strstr(r, "$T05thread:1;#"));           /* stopped before it runs */
    assert_non_null(strstr(r, "$404040#"));                 /* the code's bytes */
    assert_non_null(strstr(r, "$T05thread:1;swbreak:;#"));  /* the breakpoint */
    assert_non_null(strstr(r, "$02000100#"));               /* EIP 0x10002, little-endian */
    assert_non_null(strstr(r, "$OK#"));
    assert_int_equal(reg(m, X86IRQ_REG_EIP), 0x10002);
    /* the breakpoint gdb set went with the session */
    assert_int_equal(x86irq_remove_breakpoint(m, 0x10002), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    /* served after the end: the inferior has exited (W and the exit value) */
    static const char *const after[] = { "?" };
    r = gdb_session(m, after, 1, &end);
    assert_int_equal(end, X86IRQ_GDB_DISCONNECTED);
    assert_non_null(strstr(r, "$W03#"));
    assert_int_equal(x86irq_gdb_serve(m, -1, NULL, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_machine_destroy(m);
}

static unsigned embedder_calls;
static void embedder_event(x86irq_machine *m, void *opaque)
{
    (void)m;
    *(unsigned *)opaque += 1;
}

/* Reverse execution through the stub (bs, bc): back to the earlier breakpoint hits in the
 * ticking guest (the handler's count EBX as it was there), back one instruction, forward again
 * to the same hit; an embedder's event pending in the history's snapshot is bound again, so
 * the machine runs on to the same end as a run without a debugger */
static void test_gdb_reverse(void **state)
{
    (void)state;
    x86irq_machine *m = ticking_machine();
    uint64_t id;
    embedder_calls = 0;
    assert_int_equal(x86irq_schedule_event(m, 12000, embedder_event, &embedder_calls, &id),
                     X86IRQ_OK);
    static const char *const packets[] = { "qSupported", "Z0,11000,1", "c", "c", "c", "p3",
                                           "bc", "p3", "bc", "p3", "bs", "p8", "c", "p3",
                                           "bc", "D" };
    x86irq_gdb_end end = X86IRQ_GDB_KILLED;
    const char *r = gdb_session(m, packets, sizeof(packets) / sizeof(packets[0]), &end);
    assert_int_equal(end, X86IRQ_GDB_DETACHED);
    assert_non_null(strstr(r, "ReverseStep+;ReverseContinue+"));
    /* EBX at the third hit, then back at the second and the first */
    const char *third = strstr(r, "$02000000#");
    assert_non_null(third);
    const char *second = strstr(third, "$01000000#");
    assert_non_null(second);
    const char *first = strstr(second, "$00000000#");
    assert_non_null(first);
    /* back one instruction from the handler's first: the interrupted loop (EIP 0x1002x), then
     * forward to the first hit again (EBX 0), and from there back: the beginning */
    const char *eip = strstr(first, "000100#");              /* EIP 0x100xx, little-endian */
    assert_non_null(eip);
    assert_true(eip - first >= 3);
    assert_true(strncmp(eip - 3, "$29", 3) == 0 || strncmp(eip - 3, "$2a", 3) == 0 ||
                strncmp(eip - 3, "$2d", 3) == 0);                 /* inc ecx, cmp, jb */
    assert_non_null(strstr(eip, "$00000000#"));
    assert_non_null(strstr(r, "replaylog:begin;"));
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    assert_true(embedder_calls >= 1);
    struct outcome after = outcome_of(m);
    x86irq_machine *plain = ticking_machine();
    assert_int_equal(x86irq_schedule_event(plain, 12000, embedder_event, &embedder_calls, &id),
                     X86IRQ_OK);
    assert_int_equal(x86irq_run(plain, UINT64_MAX, &reason), X86IRQ_OK);
    struct outcome whole = outcome_of(plain);
    assert_int_equal(after.cycles, whole.cycles);
    assert_int_equal(after.instructions, whole.instructions);
    assert_int_equal(after.ebx, whole.ebx);
    assert_int_equal(after.ecx, whole.ecx);
}

/* The history is periodic: a long continue leaves a snapshot every X86_GDB_HISTORY_PERIOD
 * cycles (at most X86_GDB_HISTORY, the oldest dropped), so a reverse step from deep in it
 * restores a recent one and replays a short way */
static long no_read(void *opaque, uint8_t *buffer, size_t size, bool wait)
{
    (void)opaque, (void)buffer, (void)size, (void)wait;
    return -1;
}
static bool no_write(void *opaque, const char *bytes, size_t size)
{
    (void)opaque, (void)bytes, (void)size;
    return true;
}

static void test_gdb_history_is_periodic(void **state)
{
    (void)state;
    x86irq_machine *m = make(1);
    const uint8_t spin[] = { 0x41, 0xEB, 0xFD }; /* l: inc ecx; jmp l */
    put(m, 0x10000, spin, sizeof(spin));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, 0x10000), X86IRQ_OK);
    static struct x86_gdb g;
    struct x86_gdb_io io = { no_read, no_write, NULL };
    x86irq_gdb_options options;
    x86irq_gdb_options_init(&options);
    x86_gdb_init(&g, m, &io, &options);
    assert_int_equal(g.history_period, X86_GDB_HISTORY_PERIOD);
    const uint64_t period = 20000000; /* a tenth of the stub's, for a short test */
    g.history_period = period;
    x86_gdb_history_mark(&g, X86_GDB_HISTORY_INTERVAL); /* as a continue starts */
    assert_int_equal(g.history_count, 1);
    const uint64_t slice = 1000000;
    x86irq_stop_reason reason;
    while (x86irq_cycles(m) < 10 * period) { /* the stub's slices */
        assert_int_equal(x86irq_run(m, slice, &reason), X86IRQ_OK);
        x86_gdb_history_mark(&g, g.history_period);
    }
    assert_int_equal(g.history_count, X86_GDB_HISTORY);
    uint64_t newest = g.history[X86_GDB_HISTORY - 1].cycle;
    uint64_t oldest = g.history[0].cycle;
    assert_true(newest > 9 * period);
    assert_true(oldest >= 2 * period); /* the first ones dropped */
    for (unsigned i = 1; i < X86_GDB_HISTORY; i++)
        assert_true(g.history[i].cycle - g.history[i - 1].cycle >= period);
    /* back one instruction: from the newest snapshot, to the instruction before */
    uint64_t instructions = x86irq_cpu_instructions(m, 0);
    uint32_t ecx = 0;
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_ECX, &ecx), X86IRQ_OK);
    assert_int_equal(x86_gdb_reverse(&g, 0, true, &reason), X86_GDB_REVERSE_STOPPED);
    assert_int_equal(x86irq_cpu_instructions(m, 0), instructions - 1);
    uint32_t eip = 0, ecx_before = 0;
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_EIP, &eip), X86IRQ_OK);
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_ECX, &ecx_before), X86IRQ_OK);
    /* at the inc (it is the instruction undone: ECX one less) or at the jmp */
    assert_true(eip == 0x10000 ? ecx_before == ecx - 1 : ecx_before == ecx);
    /* replayed from a recent snapshot (the newest, or the one before when the newest is at
     * this very point) */
    assert_true(x86irq_cycles(m) > g.history[X86_GDB_HISTORY - 2].cycle);
    x86_gdb_finish(&g);
    assert_int_equal(g.history_count, 0);
    x86irq_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_run_after_step),
        cmocka_unit_test(test_step_from_hlt_with_nothing_to_wake),
        cmocka_unit_test(test_watchpoints),
        cmocka_unit_test(test_watchpoints_change_no_result),
        cmocka_unit_test(test_linear_memory),
        cmocka_unit_test(test_fpu_state),
        cmocka_unit_test(test_segments_and_msrs),
        cmocka_unit_test(test_write_linear_keeps_code_coherent),
        cmocka_unit_test(test_step_other_cpu),
        cmocka_unit_test(test_stops_change_nothing),
        cmocka_unit_test(test_gdb_serve),
        cmocka_unit_test(test_gdb_reverse),
        cmocka_unit_test(test_gdb_history_is_periodic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
