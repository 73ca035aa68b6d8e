/* Unit tests of 64-bit guest addresses in symbols, phase probes and trace events: a machine
 * switches itself to IA-32e mode and runs functions at 0xffffffff80000000 and up (where a
 * 64-bit Linux kernel's text is), named by an amd64-style System.map. The probes there fire,
 * the switch rule reads RSI and RDI in full, and every event reports the full RIP and RSP;
 * x86irq_symbolize, x86irq_symbol_address and x86irq_symbol_address64 across the 4 GiB line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "machine/machine.h"
#include "trace/events.h"

#define MAX_EVENTS 128

/* the guest's layout (physical); HI + x is mapped to x for x below 2 MiB */
#define HI 0xffffffff80000000ull
#define BOOT32 0x1000u
#define LOW64 0x1100u
#define PHASE_FN 0x1200u   /* ret */
#define SWITCH_FN 0x1300u  /* ret */
#define RAISE_FN 0x1400u   /* int 0x40; ret */
#define SYNC_FN 0x1500u    /* an IRETQ to the next instruction (Linux's sync_core); ret */
#define HANDLER 0x1800u    /* iretq */
#define GDT 0x2000u
#define GDTR 0x3000u
#define IDTR 0x3010u
#define IDT 0x4000u
#define STACK 0x9000u
#define PML4 0x10000u
#define PDPT_LOW 0x11000u
#define PD 0x12000u
#define PDPT_HIGH 0x13000u
#define KERNEL_CS 0x18

/* the task pointers the switch function gets, as a 64-bit kernel's are */
#define NEXT_TASK 0xffff888000123400ull
#define PREVIOUS_TASK 0xffff888000567800ull

struct log {
    x86irq_trace_event e[MAX_EVENTS];
    unsigned n;
};

static void record(void *opaque, const x86irq_trace_event *e)
{
    struct log *l = opaque;
    if (l->n < MAX_EVENTS)
        l->e[l->n++] = *e;
}

/* the first event of kind at or after *from (advanced past it), or NULL */
static const x86irq_trace_event *next_kind(const struct log *l, unsigned kind, unsigned *from)
{
    for (unsigned i = *from; i < l->n; i++)
        if (l->e[i].kind == kind) {
            *from = i + 1;
            return &l->e[i];
        }
    return NULL;
}

struct fixture {
    x86irq_machine *m;
    struct log log;
};

static void put(struct fixture *f, uint64_t at, const void *bytes, size_t n)
{
    assert_int_equal(x86irq_write_physical(f->m, at, bytes, n), X86IRQ_OK);
}
static void put64(struct fixture *f, uint64_t at, uint64_t v) { put(f, at, &v, 8); }

/* bytes of code, assembled by hand */
struct code {
    uint8_t b[256];
    size_t n;
};
static void emit(struct code *c, const uint8_t *bytes, size_t n)
{
    assert_true(c->n + n <= sizeof(c->b));
    memcpy(c->b + c->n, bytes, n);
    c->n += n;
}
#define EMIT(c, ...) emit(c, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))
static void emit64(struct code *c, uint64_t v) { emit(c, (const uint8_t *)&v, 8); }
/* mov rax, target; call rax */
static void emit_call(struct code *c, uint64_t target)
{
    EMIT(c, 0x48, 0xB8);
    emit64(c, target);
    EMIT(c, 0xFF, 0xD0);
}

static void load_symbols(struct fixture *f, const char *text)
{
    char path[] = "/tmp/x86irq-test-symbols64-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    fputs(text, out);
    fclose(out);
    assert_int_equal(x86irq_load_symbols(f->m, path), X86IRQ_OK);
    remove(path);
}

static const char system_map[] =
    "0000000000000000 D __per_cpu_start\n"
    "0000000000001100 t low64\n"
    "ffffffff80001200 T hi_phase\n"
    "ffffffff80001300 T hi_switch\n"
    "ffffffff80001400 T hi_raise\n"
    "ffffffff80001500 T hi_sync\n"
    "ffffffff80001800 T hi_handler\n"
    "ffffffff80002000 B _end\n";

/* A machine whose guest enters IA-32e mode (the SDM's sequence, Vol. 3 9.8.5) and, in 64-bit
 * code, calls hi_phase, then hi_switch(prev = RDI, next = RSI), then hi_raise, whose int 0x40
 * goes through a 16-byte gate to hi_handler, then hi_sync; then it exits through the debug
 * port. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 4u << 20;
    assert_int_equal(x86irq_machine_create(&c, &f->m), X86IRQ_OK);
    /* page tables: the first 2 MiB identity-mapped and again at HI (PML4 511, PDPT 510) */
    put64(f, PML4, PDPT_LOW | 3);
    put64(f, PML4 + 8 * 511, PDPT_HIGH | 3);
    put64(f, PDPT_LOW, PD | 3);
    put64(f, PDPT_HIGH + 8 * 510, PD | 3);
    put64(f, PD, 0x0 | 0x83); /* a 2 MiB page */
    static const uint64_t gdt[] = {
        0,
        0x00CF9A000000FFFFull, /* 0x08 32-bit code */
        0x00CF92000000FFFFull, /* 0x10 data */
        0x00AF9A000000FFFFull, /* 0x18 64-bit code */
    };
    put(f, GDT, gdt, sizeof(gdt));
    uint8_t gdtr[6] = { sizeof(gdt) - 1, 0, GDT & 0xFF, GDT >> 8, 0, 0 };
    put(f, GDTR, gdtr, sizeof(gdtr));
    uint8_t idtr[6] = { 0xFF, 0x0F, IDT & 0xFF, IDT >> 8, 0, 0 };
    put(f, IDTR, idtr, sizeof(idtr));
    /* vector 0x40: a 64-bit interrupt gate (type 0xE, present, DPL 0) to HI + HANDLER */
    uint64_t handler = HI + HANDLER;
    put64(f, IDT + 0x40 * 16, (handler & 0xFFFF) | ((uint64_t)KERNEL_CS << 16) | (0x8Eull << 40) |
                                  ((handler & 0xFFFF0000ull) << 32));
    put64(f, IDT + 0x40 * 16 + 8, handler >> 32);

    struct code boot = { .n = 0 };
    EMIT(&boot, 0x0F, 0x01, 0x15, GDTR & 0xFF, GDTR >> 8, 0, 0,   /* lgdt [GDTR] */
         0x0F, 0x01, 0x1D, IDTR & 0xFF, IDTR >> 8, 0, 0,         /* lidt [IDTR] */
         0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x20, 0x0F, 0x22, 0xE0,   /* CR4.PAE */
         0xB8, 0x00, 0x00, 0x01, 0x00, 0x0F, 0x22, 0xD8,         /* mov cr3, PML4 */
         0xB9, 0x80, 0x00, 0x00, 0xC0, 0x0F, 0x32,               /* rdmsr IA32_EFER */
         0x0D, 0x00, 0x01, 0x00, 0x00, 0x0F, 0x30,               /* EFER.LME, wrmsr */
         0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80,         /* CR0.PG */
         0x0F, 0x22, 0xC0,
         0xEA, LOW64 & 0xFF, LOW64 >> 8, 0, 0, KERNEL_CS, 0);    /* ljmp 0x18:LOW64 */
    put(f, BOOT32, boot.b, boot.n);

    struct code low = { .n = 0 };
    EMIT(&low, 0x48, 0xC7, 0xC4, STACK & 0xFF, STACK >> 8, 0, 0); /* mov rsp, STACK */
    emit_call(&low, HI + PHASE_FN);
    EMIT(&low, 0x48, 0xBE);                                       /* mov rsi, next */
    emit64(&low, NEXT_TASK);
    EMIT(&low, 0x48, 0xBF);                                       /* mov rdi, prev */
    emit64(&low, PREVIOUS_TASK);
    emit_call(&low, HI + SWITCH_FN);
    emit_call(&low, HI + RAISE_FN);
    emit_call(&low, HI + SYNC_FN);
    EMIT(&low, 0xB0, 0x00, 0xE6, 0xF4, 0xF4);                     /* out 0xF4, 0; hlt */
    put(f, LOW64, low.b, low.n);
    put(f, PHASE_FN, (const uint8_t[]){ 0xC3 }, 1);
    put(f, SWITCH_FN, (const uint8_t[]){ 0xC3 }, 1);
    put(f, RAISE_FN, (const uint8_t[]){ 0xCD, 0x40, 0xC3 }, 3);
    put(f, HANDLER, (const uint8_t[]){ 0x48, 0xCF }, 2);          /* iretq */
    static const uint8_t sync[] = {                /* Linux's iret_to_self (x86-64) */
        0x8C, 0xD0, 0x50,                          /* mov eax, ss; push rax */
        0x54, 0x48, 0x83, 0x04, 0x24, 0x08,        /* push rsp; add qword [rsp], 8 */
        0x9C, 0x8C, 0xC8, 0x50,                    /* pushfq; mov eax, cs; push rax */
        0x48, 0x8D, 0x05, 0x03, 0x00, 0x00, 0x00,  /* lea rax, [rip + 3]: the ret */
        0x50, 0x48, 0xCF,                          /* push rax; iretq */
        0xC3,                                      /* ret */
    };
    put(f, SYNC_FN, sync, sizeof(sync));
    assert_int_equal(x86irq_set_register(f->m, X86IRQ_REG_EIP, BOOT32), X86IRQ_OK);

    load_symbols(f, system_map);
    x86irq_set_trace_hook(f->m, X86IRQ_TRACE_ALL, record, &f->log);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    x86irq_machine_destroy(f->m);
    free(f);
    return 0;
}

static void run(struct fixture *f)
{
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(f->m, 1000000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
}

/* Phase probes on 64-bit functions above 4 GiB fire at their entry and end at their return;
 * the events there carry the full RIP and its symbol */
static void test_phase_probes_above_4gib(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(x86irq_set_phase_symbols(f->m, "hi_phase=immediate,hi_raise=softirq"),
                     X86IRQ_OK);
    struct x86_cpu *cpu = x86_machine_cpu(f->m);
    assert_int_equal(cpu->watch.probe_count, 2);
    assert_int_equal(cpu->watch.probes[0], HI + PHASE_FN);
    assert_int_equal(cpu->watch.probes[1], HI + RAISE_FN);
    run(f);
    unsigned at = 0;
    const x86irq_trace_event *e = next_kind(&f->log, X86IRQ_TRACE_PHASE, &at);
    assert_non_null(e);
    assert_int_equal(e->line, X86IRQ_PHASE_IMMEDIATE);
    assert_int_equal(e->eip, HI + PHASE_FN);
    assert_string_equal(e->symbol, "hi_phase");
    assert_int_equal(e->cs, KERNEL_CS);
    /* its ret: back in the low 64-bit code, the stack just above the 8-byte return address */
    e = next_kind(&f->log, X86IRQ_TRACE_PHASE, &at);
    assert_non_null(e);
    assert_int_equal(e->line, X86IRQ_PHASE_PROCESS);
    assert_true(e->eip > LOW64 && e->eip < LOW64 + 0x40);
    assert_non_null(strstr(e->symbol, "low64+0x"));
    e = next_kind(&f->log, X86IRQ_TRACE_PHASE, &at);
    assert_non_null(e);
    assert_int_equal(e->line, X86IRQ_PHASE_SOFTIRQ);
    assert_int_equal(e->eip, HI + RAISE_FN);
    /* int 0x40 inside it: the saved RIP, the handler's RIP and RSP in full */
    e = next_kind(&f->log, X86IRQ_TRACE_EXCEPTION, &at);
    assert_non_null(e);
    assert_int_equal(e->vector, 0x40);
    assert_int_equal(e->eip, HI + RAISE_FN + 2);
    assert_string_equal(e->symbol, "hi_raise+0x2");
    e = next_kind(&f->log, X86IRQ_TRACE_DELIVER, &at);
    assert_non_null(e);
    assert_int_equal(e->eip, HI + HANDLER);
    assert_string_equal(e->symbol, "hi_handler");
    /* RSP: STACK - 8 (the call), aligned to 16, minus the 5-quadword frame */
    assert_int_equal(e->esp, ((STACK - 8) & ~0xFu) - 40);
    e = next_kind(&f->log, X86IRQ_TRACE_HANDLER, &at);
    assert_non_null(e);
    assert_int_equal(e->eip, HI + HANDLER);
    e = next_kind(&f->log, X86IRQ_TRACE_IRET, &at);
    assert_non_null(e);
    assert_int_equal(e->eip, HI + RAISE_FN + 2);
    assert_int_equal(e->depth, 0);
    /* the softirq function's return ends its phase (the IRET did not: it began outside) */
    e = next_kind(&f->log, X86IRQ_TRACE_PHASE, &at);
    assert_non_null(e);
    assert_int_equal(e->line, X86IRQ_PHASE_PROCESS);
    assert_true(e->eip > LOW64 && e->eip < LOW64 + 0x60);
    assert_null(next_kind(&f->log, X86IRQ_TRACE_PHASE, &at));
    /* hi_sync's IRETQ to the instruction after itself, above 4 GiB, returns from nothing: no
     * event, and no unmatched-IRET report */
    assert_null(next_kind(&f->log, X86IRQ_TRACE_IRET, &at));
    assert_null(next_kind(&f->log, X86IRQ_TRACE_NESTING, &(unsigned){ 0 }));
}

/* The switch rule in 64-bit code reads its 64-bit pair (Linux's __switch_to_asm: next in RSI,
 * previous in RDI) in full: task pointers above 4 GiB are thread IDs of their own */
static void test_switch_in_64bit_code(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(x86irq_set_phase_symbols(f->m, "hi_switch=switch:edx:eax:rsi:rdi"),
                     X86IRQ_OK);
    run(f);
    unsigned at = 0;
    const x86irq_trace_event *e = next_kind(&f->log, X86IRQ_TRACE_SWITCH, &at);
    assert_non_null(e);
    assert_int_equal(e->eip, HI + SWITCH_FN);
    assert_int_equal(e->thread, NEXT_TASK);
    assert_int_equal(e->previous_thread, PREVIOUS_TASK);
    assert_int_equal(e->line, (uint32_t)NEXT_TASK);        /* the low halves, as before */
    assert_int_equal(e->error_code, (uint32_t)PREVIOUS_TASK);
    assert_null(next_kind(&f->log, X86IRQ_TRACE_SWITCH, &at));
    assert_int_equal(x86_trace_running(&f->m->trace)->id, NEXT_TASK);
    assert_int_equal(f->m->trace.threads[0].id, PREVIOUS_TASK);
    /* two task pointers with the same low half are two threads */
    x86_trace_switch(&f->m->trace, NEXT_TASK + (1ull << 32));
    assert_int_equal(f->m->trace.thread_count, 2 + 1);
}

/* Without a 64-bit pair the named registers are read in full in 64-bit code; Linux's own list
 * knows both kernels' conventions; malformed pairs are refused */
static void test_switch_rule_forms(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(x86irq_set_phase_symbols(f->m, "hi_switch=switch:rsi:rdi"), X86IRQ_OK);
    run(f);
    unsigned at = 0;
    const x86irq_trace_event *e = next_kind(&f->log, X86IRQ_TRACE_SWITCH, &at);
    assert_non_null(e);
    assert_int_equal(e->thread, NEXT_TASK);
    assert_int_equal(e->previous_thread, PREVIOUS_TASK);
    static const char *const bad[] = {
        "hi_switch=switch:rsi",             /* one register */
        "hi_switch=switch:edx:eax:rsi",     /* three */
        "hi_switch=switch:edx:eax:rsi:rdi:rcx",
        "hi_switch=switch:r8:eax:rsi:rdi",  /* 32-bit code has no r8 */
        "hi_switch=switch:rsp:rdi",         /* the stack pointer names no thread */
        "hi_switch=switch:rsi:rbp",
        "hi_switch=switch:edx:eax:rsi:r16",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (x86irq_set_phase_symbols(f->m, bad[i]) != X86IRQ_ERR_INVALID_ARGUMENT)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(x86irq_set_phase_symbols(f->m, "hi_switch=switch:edx:eax:r8:r15"),
                     X86IRQ_OK);
    /* "linux" resolves __switch_to_asm with edx:eax for 32-bit code and rsi:rdi for 64-bit */
    load_symbols(f, "ffffffff81e00e40 T __switch_to_asm\nffffffff8160d9d0 T handle_irq_event\n");
    assert_int_equal(x86irq_set_phase_symbols(f->m, "linux"), X86IRQ_OK);
    const struct x86_trace *t = &f->m->trace;
    assert_int_equal(t->probe_count, 2);
    const struct x86_probe *p = &t->probes[1];
    assert_int_equal(p->address, 0xffffffff81e00e40ull);
    assert_int_equal(p->kind, X86_PROBE_SWITCH);
    assert_int_equal(p->next_register, X86_EDX);
    assert_int_equal(p->previous_register, X86_EAX);
    assert_int_equal(p->next_register64, X86_ESI);
    assert_int_equal(p->previous_register64, X86_EDI);
}

/* x86irq_symbolize and the symbol addresses across the 4 GiB line */
static void test_symbol_api_64(void **state)
{
    struct fixture *f = *state;
    char text[64];
    assert_int_equal(x86irq_symbolize(f->m, HI + PHASE_FN + 0x34, text, sizeof(text)),
                     strlen("hi_phase+0x34"));
    assert_string_equal(text, "hi_phase+0x34");
    assert_int_equal(x86irq_symbolize(f->m, 0x00007ffd00001000ull, text, sizeof(text)), 0);
    assert_string_equal(text, "");
    x86irq_symbolize(f->m, LOW64 + 3, text, sizeof(text));
    assert_string_equal(text, "low64+0x3");
    uint64_t a64 = 0;
    assert_int_equal(x86irq_symbol_address64(f->m, "hi_switch", &a64), X86IRQ_OK);
    assert_int_equal(a64, HI + SWITCH_FN);
    assert_int_equal(x86irq_symbol_address64(f->m, "low64", &a64), X86IRQ_OK);
    assert_int_equal(a64, LOW64);
    assert_int_equal(x86irq_symbol_address64(f->m, "missing", &a64), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(x86irq_last_error(f->m), "no symbol 'missing'"));
    assert_int_equal(x86irq_symbol_address64(f->m, "low64", NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_symbol_address64(NULL, "low64", &a64), X86IRQ_ERR_INVALID_ARGUMENT);
    /* the 32-bit call: fine below 4 GiB, a range error above (*addr untouched) */
    uint32_t a32 = 0;
    assert_int_equal(x86irq_symbol_address(f->m, "low64", &a32), X86IRQ_OK);
    assert_int_equal(a32, LOW64);
    a32 = 0x5A5A5A5A;
    assert_int_equal(x86irq_symbol_address(f->m, "hi_switch", &a32), X86IRQ_ERR_RANGE);
    assert_int_equal(a32, 0x5A5A5A5A);
    const char *message = x86irq_last_error(f->m);
    assert_non_null(strstr(message, "hi_switch"));
    assert_non_null(strstr(message, "0xffffffff80001300"));
    assert_non_null(strstr(message, "x86irq_symbol_address64"));
}

/* Breakpoints take the full 64-bit linear address: one at the address's low 32 bits does not
 * stop at the function above 4 GiB, one at the function does */
static void test_breakpoint_above_4gib(void **state)
{
    struct fixture *f = *state;
    uint64_t at = HI + PHASE_FN;
    assert_int_equal(x86irq_add_breakpoint(f->m, (uint32_t)at), X86IRQ_OK);
    run(f);
    teardown(state);
    setup(state);
    f = *state;
    assert_int_equal(x86irq_add_breakpoint(f->m, at), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(f->m, 1000000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_BREAKPOINT);
    uint64_t rip;
    assert_int_equal(x86irq_get_cpu_register64(f->m, 0, X86IRQ_REG64_RIP, &rip), X86IRQ_OK);
    assert_int_equal(rip, at);
    assert_int_equal(x86irq_remove_breakpoint(f->m, at), X86IRQ_OK);
    run(f);
}

/* x86irq_read_linear through the page tables in IA-32e mode, and the events' code size */
static void test_read_linear_and_code_bits(void **state)
{
    struct fixture *f = *state;
    uint8_t byte = 0;
    /* before the run paging is off: linear = physical */
    assert_int_equal(x86irq_read_linear(f->m, 0, RAISE_FN, &byte, 1), X86IRQ_OK);
    assert_int_equal(byte, 0xCD);
    assert_int_equal(x86irq_read_linear(f->m, 0, HI + RAISE_FN, &byte, 1), X86IRQ_ERR_RANGE);
    run(f);
    uint8_t code[3] = { 0 };
    assert_int_equal(x86irq_read_linear(f->m, 0, HI + RAISE_FN, code, 3), X86IRQ_OK);
    assert_int_equal(code[0], 0xCD);
    assert_int_equal(code[1], 0x40);
    byte = 0x77;
    /* the 2 MiB page ends at 0x200000: a read across it fails whole, the buffer untouched */
    assert_int_equal(x86irq_read_linear(f->m, 0, HI + 0x1FFFFF, code, 2), X86IRQ_ERR_RANGE);
    assert_int_equal(code[0], 0xCD);
    assert_non_null(strstr(x86irq_last_error(f->m), "not mapped"));
    assert_int_equal(x86irq_read_linear(f->m, 1, HI, &byte, 1), X86IRQ_ERR_INVALID_ARGUMENT);
    unsigned from = 0;
    const x86irq_trace_event *e = next_kind(&f->log, X86IRQ_TRACE_HANDLER, &from);
    assert_non_null(e);
    assert_int_equal(e->code_bits, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_phase_probes_above_4gib, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_in_64bit_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_rule_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbol_api_64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breakpoint_above_4gib, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_linear_and_code_bits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
