/* Unit tests of the embedding contract (docs/api.md, "What a callback may call"): from each
 * kind of callback the machine makes, the calls that would pull the run out from under itself
 * (run, load, destroy, costs, phase symbols, new devices) are refused with X86IRQ_ERR_STATE and
 * a message, and the run goes on as if they had not been made; the others work and their
 * effect shows. Also the smaller holes of the same contract: the port range that wrapped,
 * zero-byte copies with no buffer, EIP set from a callback, INIT after a triple fault, stale
 * error messages, running a machine with nothing in it. The guest is a few hand-assembled bytes
 * in RAM that makes every kind of callback once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "x86irq/x86irq.h"

#define GDTR_AT 0x1E00u
#define GDT_AT 0x1E80u
#define IDTR_AT 0x1F00u
#define IDT_AT 0x2000u
#define HANDLERS_AT 0x3000u
#define SCRATCH_AT 0x8000u
#define CODE_AT 0x10000u
#define ALT_AT 0x11000u     /* mov al, 0x55; out 0xF4, al: where an EIP write sends the core */
#define STACK_TOP 0x90000u
#define DEVICE_PORT 0x300u
#define LOG_PORT 0x80u
#define MMIO_AT 0xD0000000u
#define EVENT_CYCLE 1000u
#define ALT_EXIT 0x55u
#define PROLOGUE_LENGTH 19u /* lgdt, lidt, mov esp */

/* The kinds of callback, each made once by the guest program or the test */
enum kind {
    KIND_NONE,
    KIND_PORT_WRITE,
    KIND_PORT_READ,
    KIND_MMIO_WRITE,
    KIND_MMIO_READ,
    KIND_SERIAL,
    KIND_TRACE,          /* the trace hook inside a run (the phase port) */
    KIND_INTA,           /* the INTR acknowledge callback */
    KIND_EVENT,          /* a scheduled event */
    KIND_INSTRUCTION,    /* the instruction hook */
    KIND_TRACE_OUTSIDE,  /* the trace hook from x86irq_set_irq_line between runs */
    KIND_HOOK_TRACE,     /* x86irq_hook_add's kinds: the phase port's trace event */
    KIND_HOOK_INSTRUCTION, /* the first instruction after the prologue */
    KIND_HOOK_MEMORY,    /* the MMIO write */
    KIND_HOOK_PORT,      /* the port write to DEVICE_PORT */
    KIND_HOOK_INTERRUPT, /* the delivery of vector 0x40 */
    KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] = {
    "none", "port write", "port read", "MMIO write", "MMIO read", "serial output",
    "trace hook", "INTA acknowledge", "scheduled event", "instruction hook",
    "trace hook outside a run", "trace hook (hook_add)", "instruction hook (hook_add)",
    "memory hook", "port hook", "interrupt hook",
};

struct board;
typedef x86irq_status (*call_fn)(struct board *b);

struct board {
    x86irq_machine *m;
    enum kind kind;      /* the callback that makes the call */
    call_fn call;
    int fired;
    x86irq_status status;
    char message[512];
    unsigned logged;     /* writes to LOG_PORT (the NMI handler) */
    unsigned events_run; /* the allowed calls' own event */
    uint32_t fired_eip;  /* the instruction hook: where it acted */
    uint32_t next_eip;   /* ... and the instruction it saw next */
};

/* ------------------------------------------------------------------ the callbacks */

static void act(struct board *b, enum kind kind)
{
    if (b->kind != kind || b->fired || !b->call)
        return;
    b->fired = 1;
    b->status = b->call(b);
    snprintf(b->message, sizeof(b->message), "%s", x86irq_last_error(b->m));
}

static uint64_t device_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    act(opaque, KIND_PORT_READ);
    return 0;
}

static void device_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset;
    (void)size;
    (void)value;
    act(opaque, KIND_PORT_WRITE);
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    act(opaque, KIND_MMIO_READ);
    return 0;
}

static void mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset;
    (void)size;
    (void)value;
    act(opaque, KIND_MMIO_WRITE);
}

static void log_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct board *b = opaque;
    (void)offset;
    (void)size;
    (void)value;
    b->logged++;
}

static void serial(void *opaque, uint8_t byte)
{
    (void)byte;
    act(opaque, KIND_SERIAL);
}

static void trace(void *opaque, const x86irq_trace_event *event)
{
    if (event->kind == X86IRQ_TRACE_PHASE)
        act(opaque, KIND_TRACE);
    else if (event->kind == X86IRQ_TRACE_LINE)
        act(opaque, KIND_TRACE_OUTSIDE);
}

static int acknowledge(void *opaque)
{
    struct board *b = opaque;
    x86irq_set_intr(b->m, 0);
    act(b, KIND_INTA);
    return 0x40;
}

static void on_event(x86irq_machine *m, void *opaque)
{
    (void)m;
    act(opaque, KIND_EVENT);
}

static void instruction_hook(void *opaque, const x86irq_instruction_info *info)
{
    struct board *b = opaque;
    if (b->fired) {
        if (!b->next_eip)
            b->next_eip = info->eip;
        return;
    }
    /* after the prologue, when the guest's IDT and stack are there (for an NMI) */
    if (info->eip >= CODE_AT + PROLOGUE_LENGTH) {
        b->fired_eip = info->eip;
        act(b, KIND_INSTRUCTION);
    }
}

/* every x86irq_hook_add kind: the board's kind says which one acts */
static void hook(x86irq_machine *m, const x86irq_hook_event *event, void *user_data)
{
    (void)m;
    static const enum kind kinds[X86IRQ_HOOK_KIND_COUNT] = {
        [X86IRQ_HOOK_TRACE] = KIND_HOOK_TRACE, [X86IRQ_HOOK_INSTRUCTION] = KIND_HOOK_INSTRUCTION,
        [X86IRQ_HOOK_MEMORY] = KIND_HOOK_MEMORY, [X86IRQ_HOOK_PORT] = KIND_HOOK_PORT,
        [X86IRQ_HOOK_INTERRUPT] = KIND_HOOK_INTERRUPT,
    };
    act(user_data, kinds[event->kind]);
}

static void add_hook(x86irq_machine *m, x86irq_hook_kind kind, uint64_t first, uint64_t last,
                     uint32_t mask, struct board *b)
{
    x86irq_hook_filter f;
    x86irq_hook_filter_init(&f);
    f.first = first;
    f.last = last;
    if (mask)
        f.trace_mask = mask;
    assert_int_equal(x86irq_hook_add(m, kind, &f, hook, b, NULL), X86IRQ_OK);
}

/* ------------------------------------------------------------------ the machine and guest */

static void put(x86irq_machine *m, uint32_t at, const void *bytes, size_t n)
{
    assert_int_equal(x86irq_write_physical(m, at, bytes, n), X86IRQ_OK);
}

static void put_gate(x86irq_machine *m, unsigned vector, uint32_t handler)
{
    uint32_t gate[2] = { (handler & 0xFFFF) | (0x08u << 16), (handler & 0xFFFF0000u) | 0x8E00u };
    put(m, IDT_AT + 8 * vector, gate, 8);
}

static const uint8_t program[] = {
    0x0F, 0x01, 0x15, GDTR_AT & 0xFF, (GDTR_AT >> 8) & 0xFF, 0, 0, /* lgdt [GDTR_AT] */
    0x0F, 0x01, 0x1D, IDTR_AT & 0xFF, (IDTR_AT >> 8) & 0xFF, 0, 0, /* lidt [IDTR_AT] */
    0xBC, 0x00, 0x00, 0x09, 0x00,             /* mov esp, 0x90000 */
    0x66, 0xBA, 0x00, 0x03,                   /* mov dx, 0x300 */
    0xEE,                                     /* out dx, al: port write */
    0xEC,                                     /* in al, dx: port read */
    0xA3, 0x00, 0x00, 0x00, 0xD0,             /* mov [0xD0000000], eax: MMIO write */
    0xA1, 0x00, 0x00, 0x00, 0xD0,             /* mov eax, [0xD0000000]: MMIO read */
    0x66, 0xBA, 0xF8, 0x03, 0xB0, 'x', 0xEE,  /* mov dx, 0x3f8; mov al, 'x'; out dx, al */
    0x66, 0xBA, 0xE0, 0x0F, 0xB0, 0x01, 0xEE, /* mov dx, 0xfe0; mov al, 1; out dx, al: phase */
    0xFB, 0x90, 0xFA,                         /* sti; nop; cli: INTR taken (INTA) */
    0xB9, 0x88, 0x13, 0x00, 0x00,             /* mov ecx, 5000 */
    0xE2, 0xFE,                               /* loop $: time for the event */
    0xB0, 0x07,                               /* mov al, 7 */
    0xE6, 0xF4,                               /* out 0xf4, al: the end */
};
#define EXIT_INSN_AT (CODE_AT + sizeof(program) - 2)

static struct board *make_board(enum kind kind, call_fn call)
{
    struct board *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    b->kind = kind;
    b->call = call;
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    assert_int_equal(x86irq_machine_create(&c, &b->m), X86IRQ_OK);
    x86irq_machine *m = b->m;
    assert_int_equal(x86irq_add_port_device(m, DEVICE_PORT, 1, device_read, device_write, b),
                     X86IRQ_OK);
    assert_int_equal(x86irq_add_port_device(m, LOG_PORT, 1, NULL, log_write, b), X86IRQ_OK);
    assert_int_equal(x86irq_add_mmio_device(m, MMIO_AT, 0x1000, mmio_read, mmio_write, b),
                     X86IRQ_OK);
    x86irq_set_serial_output(m, serial, b);
    x86irq_set_trace_hook(m, X86IRQ_TRACE_BIT(X86IRQ_TRACE_PHASE) |
                                 X86IRQ_TRACE_BIT(X86IRQ_TRACE_LINE), trace, b);
    x86irq_set_intr_acknowledge(m, acknowledge, b);
    if (kind == KIND_INSTRUCTION)
        x86irq_set_instruction_hook(m, instruction_hook, b);
    if (kind == KIND_HOOK_TRACE)
        add_hook(m, X86IRQ_HOOK_TRACE, 0, UINT64_MAX, X86IRQ_TRACE_BIT(X86IRQ_TRACE_PHASE), b);
    if (kind == KIND_HOOK_INSTRUCTION)
        add_hook(m, X86IRQ_HOOK_INSTRUCTION, CODE_AT + PROLOGUE_LENGTH,
                 CODE_AT + PROLOGUE_LENGTH, 0, b);
    if (kind == KIND_HOOK_MEMORY)
        add_hook(m, X86IRQ_HOOK_MEMORY, MMIO_AT, MMIO_AT + 3, 0, b);
    if (kind == KIND_HOOK_PORT)
        add_hook(m, X86IRQ_HOOK_PORT, DEVICE_PORT, DEVICE_PORT, 0, b);
    if (kind == KIND_HOOK_INTERRUPT)
        add_hook(m, X86IRQ_HOOK_INTERRUPT, 0x40, 0x40, 0, b);
    assert_int_equal(x86irq_schedule_event(m, EVENT_CYCLE, on_event, b, NULL), X86IRQ_OK);

    const uint32_t gdt[6] = { 0, 0, 0x0000FFFF, 0x00CF9B00, 0x0000FFFF, 0x00CF9300 };
    put(m, GDT_AT, gdt, sizeof(gdt));
    const uint8_t gdtr[6] = { sizeof(gdt) - 1, 0, GDT_AT & 0xFF, (GDT_AT >> 8) & 0xFF, 0, 0 };
    put(m, GDTR_AT, gdtr, 6);
    const uint8_t idtr[6] = { 0xFF, 0x07, IDT_AT & 0xFF, (IDT_AT >> 8) & 0xFF, 0, 0 };
    put(m, IDTR_AT, idtr, 6);
    static const uint8_t iret[] = { 0xCF };
    static const uint8_t nmi[] = { 0xE6, LOG_PORT, 0xCF }; /* out 0x80, al; iret */
    put(m, HANDLERS_AT, iret, sizeof(iret));
    put(m, HANDLERS_AT + 0x20, nmi, sizeof(nmi));
    put_gate(m, 0x40, HANDLERS_AT);
    put_gate(m, 2, HANDLERS_AT + 0x20);
    static const uint8_t alt[] = { 0xB0, ALT_EXIT, 0xE6, 0xF4 };
    put(m, ALT_AT, alt, sizeof(alt));
    put(m, CODE_AT, program, sizeof(program));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, CODE_AT), X86IRQ_OK);
    assert_int_equal(x86irq_set_intr(m, 1), X86IRQ_OK); /* taken after the sti */
    if (kind == KIND_TRACE_OUTSIDE) {
        /* a callback between runs, from inside another public call */
        assert_int_equal(x86irq_set_irq_line(m, 3, 1), X86IRQ_OK);
        assert_int_equal(x86irq_set_irq_line(m, 3, 0), X86IRQ_OK);
    }
    return b;
}

static void free_board(struct board *b)
{
    x86irq_machine_destroy(b->m);
    free(b);
}

/* Run to the end, through any requested or breakpoint stops */
static x86irq_stop_reason run_to_end(struct board *b, x86irq_stop_reason *first)
{
    x86irq_stop_reason reason = X86IRQ_STOP_NONE;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(x86irq_run(b->m, 10000000, &reason), X86IRQ_OK);
        if (i == 0 && first)
            *first = reason;
        if (reason != X86IRQ_STOP_REQUESTED && reason != X86IRQ_STOP_BREAKPOINT)
            break;
        if (reason == X86IRQ_STOP_BREAKPOINT)
            assert_int_equal(x86irq_remove_breakpoint(b->m, (uint32_t)EXIT_INSN_AT), X86IRQ_OK);
    }
    return reason;
}

/* The instructions of the program when no callback does anything */
static uint64_t baseline_instructions(void)
{
    struct board *b = make_board(KIND_NONE, NULL);
    assert_int_equal(run_to_end(b, NULL), X86IRQ_STOP_DEBUG_EXIT);
    assert_int_equal(x86irq_exit_value(b->m), 7);
    uint64_t n = x86irq_instructions(b->m);
    assert_true(n > 5000 && n < 6000);
    free_board(b);
    return n;
}

/* ------------------------------------------------------------------ the refused calls */

static x86irq_status call_run(struct board *b)
{
    x86irq_stop_reason reason;
    return x86irq_run(b->m, 100, &reason);
}
static x86irq_status call_load_elf(struct board *b)
{
    return x86irq_load_elf(b->m, "/nonexistent/guest.elf", NULL);
}
static x86irq_status call_load_elf_memory(struct board *b)
{
    return x86irq_load_elf_memory(b->m, "hello", 5, "text", NULL);
}
static x86irq_status call_load_linux(struct board *b)
{
    return x86irq_load_linux(b->m, "/nonexistent/bzImage", NULL, NULL);
}
static x86irq_status call_load_linux_memory(struct board *b)
{
    return x86irq_load_linux_memory(b->m, "hello", 5, NULL, 0, NULL, "kernel");
}
static x86irq_status call_load_symbols(struct board *b)
{
    return x86irq_load_symbols(b->m, "/nonexistent/System.map");
}
static x86irq_status call_set_cost(struct board *b)
{
    return x86irq_set_cost(b->m, "simple", 3);
}
static x86irq_status call_set_phase_symbols(struct board *b)
{
    return x86irq_set_phase_symbols(b->m, NULL);
}
static x86irq_status call_add_port_device(struct board *b)
{
    return x86irq_add_port_device(b->m, 0x400, 1, NULL, NULL, NULL);
}
static x86irq_status call_add_mmio_device(struct board *b)
{
    return x86irq_add_mmio_device(b->m, MMIO_AT + 0x100000, 0x1000, NULL, NULL, NULL);
}
static x86irq_status call_destroy(struct board *b)
{
    /* void: the refusal shows in the message (and ASan sees any use after a free). A failure
     * first, so the message is not the destroy's by chance. */
    (void)x86irq_write_physical(b->m, 1ull << 40, "x", 1);
    x86irq_machine_destroy(b->m);
    return strstr(x86irq_last_error(b->m), "x86irq_machine_destroy") ? X86IRQ_ERR_STATE
                                                                       : X86IRQ_OK;
}

#define REFUSED(name) { call_##name, "x86irq_" #name }
static const struct refused_call {
    call_fn call;
    const char *name;
} refused_calls[] = {
    REFUSED(run), REFUSED(load_elf), REFUSED(load_elf_memory), REFUSED(load_linux),
    REFUSED(load_linux_memory), REFUSED(load_symbols), REFUSED(set_cost),
    REFUSED(set_phase_symbols), { call_add_port_device, "x86irq_add_port_device" },
    REFUSED(add_mmio_device), { call_destroy, "x86irq_machine_destroy" },
};

static void test_refused_calls(void **state)
{
    (void)state;
    uint64_t baseline = baseline_instructions();
    for (unsigned k = KIND_PORT_WRITE; k < KIND_COUNT; k++)
        for (size_t c = 0; c < sizeof(refused_calls) / sizeof(refused_calls[0]); c++) {
            const struct refused_call *rc = &refused_calls[c];
            struct board *b = make_board((enum kind)k, rc->call);
            x86irq_stop_reason reason;
            assert_int_equal(x86irq_run(b->m, 10000000, &reason), X86IRQ_OK);
            if (!b->fired || b->status != X86IRQ_ERR_STATE || !strstr(b->message, rc->name) ||
                !strstr(b->message, "callback"))
                fail_msg("%s from the %s callback: fired %d, status %s, message \"%s\"",
                         rc->name, kind_names[k], b->fired, x86irq_status_string(b->status),
                         b->message);
            /* the run went on as if the call had not been made */
            assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
            assert_int_equal(x86irq_exit_value(b->m), 7);
            assert_int_equal(x86irq_instructions(b->m), baseline);
            /* and after it the calls are allowed again */
            assert_int_equal(x86irq_set_cost(b->m, "simple", 1), X86IRQ_OK);
            free_board(b);
        }
}

/* ------------------------------------------------------------------ the allowed calls */

static x86irq_status call_set_register(struct board *b)
{
    return x86irq_set_register(b->m, X86IRQ_REG_EBX, 0xC0FFEEu);
}
static x86irq_status call_write_physical(struct board *b)
{
    return x86irq_write_physical(b->m, SCRATCH_AT, "MARK", 4);
}
static x86irq_status call_read_physical(struct board *b)
{
    uint8_t bytes[2];
    x86irq_status s = x86irq_read_physical(b->m, CODE_AT, bytes, 2);
    return s == X86IRQ_OK && memcmp(bytes, program, 2) != 0 ? X86IRQ_ERR_RANGE : s;
}
static x86irq_status call_getters(struct board *b)
{
    uint32_t esp;
    char text[64];
    x86irq_status s = x86irq_get_register(b->m, X86IRQ_REG_ESP, &esp);
    (void)x86irq_cycles(b->m);
    (void)x86irq_instructions(b->m);
    (void)x86irq_get_cpu_state(b->m, 0);
    (void)x86irq_symbolize(b->m, CODE_AT, text, sizeof(text));
    (void)x86irq_disassemble(b->m, program, sizeof(program), CODE_AT, 32, text, sizeof(text));
    return s == X86IRQ_OK && text[0] == '\0' ? X86IRQ_ERR_STATE : s;
}
static x86irq_status call_raise_nmi(struct board *b)
{
    return x86irq_raise_nmi(b->m);
}
static x86irq_status call_set_irq_line(struct board *b)
{
    x86irq_status s = x86irq_set_irq_line(b->m, 5, 1);
    return s == X86IRQ_OK ? x86irq_set_irq_line(b->m, 5, 0) : s;
}
static x86irq_status call_serial_input(struct board *b)
{
    return x86irq_serial_input(b->m, "in", 2);
}
static x86irq_status call_request_stop(struct board *b)
{
    x86irq_request_stop(b->m);
    return X86IRQ_OK;
}
static void count_event(x86irq_machine *m, void *opaque)
{
    (void)m;
    ((struct board *)opaque)->events_run++;
}
static x86irq_status call_schedule_cancel(struct board *b)
{
    uint64_t cancelled;
    x86irq_status s = x86irq_schedule_event(b->m, 0, count_event, b, NULL);
    if (s == X86IRQ_OK)
        s = x86irq_schedule_event(b->m, 0, count_event, b, &cancelled);
    return s == X86IRQ_OK ? x86irq_cancel_event(b->m, cancelled) : s;
}
static x86irq_status call_add_breakpoint(struct board *b)
{
    return x86irq_add_breakpoint(b->m, (uint32_t)EXIT_INSN_AT);
}
static x86irq_status call_setters(struct board *b)
{
    /* the void setters: replace a hook or callback by the same one */
    x86irq_set_serial_output(b->m, serial, b);
    x86irq_set_intr_acknowledge(b->m, acknowledge, b);
    x86irq_set_nesting_rules(b->m, 0);
    x86irq_set_nic_transmit(b->m, NULL, NULL);
    x86irq_set_instruction_hook(b->m, b->kind == KIND_INSTRUCTION ? instruction_hook : NULL, b);
    x86irq_set_trace_hook(b->m, X86IRQ_TRACE_BIT(X86IRQ_TRACE_PHASE) |
                                    X86IRQ_TRACE_BIT(X86IRQ_TRACE_LINE), trace, b);
    return X86IRQ_OK;
}

enum effect {
    EFFECT_NONE, EFFECT_EBX, EFFECT_MEMORY, EFFECT_NMI, EFFECT_STOP, EFFECT_EVENT,
    EFFECT_BREAKPOINT,
};
static const struct allowed_call {
    call_fn call;
    const char *name;
    enum effect effect;
    int in_run_only;     /* the effect needs a run going on (not between runs) */
} allowed_calls[] = {
    { call_set_register, "x86irq_set_register", EFFECT_EBX, 0 },
    { call_write_physical, "x86irq_write_physical", EFFECT_MEMORY, 0 },
    { call_read_physical, "x86irq_read_physical", EFFECT_NONE, 0 },
    { call_getters, "getters", EFFECT_NONE, 0 },
    { call_raise_nmi, "x86irq_raise_nmi", EFFECT_NMI, 1 },
    { call_set_irq_line, "x86irq_set_irq_line", EFFECT_NONE, 0 },
    { call_serial_input, "x86irq_serial_input", EFFECT_NONE, 0 },
    { call_request_stop, "x86irq_request_stop", EFFECT_STOP, 1 },
    { call_schedule_cancel, "x86irq_schedule_event", EFFECT_EVENT, 0 },
    { call_add_breakpoint, "x86irq_add_breakpoint", EFFECT_BREAKPOINT, 0 },
    { call_setters, "setters", EFFECT_NONE, 0 },
};

static void test_allowed_calls(void **state)
{
    (void)state;
    for (unsigned k = KIND_PORT_WRITE; k < KIND_COUNT; k++)
        for (size_t c = 0; c < sizeof(allowed_calls) / sizeof(allowed_calls[0]); c++) {
            const struct allowed_call *ac = &allowed_calls[c];
            if (ac->in_run_only && k == KIND_TRACE_OUTSIDE)
                continue;
            struct board *b = make_board((enum kind)k, ac->call);
            x86irq_stop_reason first;
            x86irq_stop_reason last = run_to_end(b, &first);
            if (!b->fired || b->status != X86IRQ_OK)
                fail_msg("%s from the %s callback: fired %d, status %s, message \"%s\"",
                         ac->name, kind_names[k], b->fired, x86irq_status_string(b->status),
                         b->message);
            if (last != X86IRQ_STOP_DEBUG_EXIT || x86irq_exit_value(b->m) != 7)
                fail_msg("%s from the %s callback: stop %s, exit %u", ac->name, kind_names[k],
                         x86irq_stop_reason_string(last), x86irq_exit_value(b->m));
            uint32_t ebx;
            char mark[4];
            switch (ac->effect) {
            case EFFECT_EBX:
                assert_int_equal(x86irq_get_register(b->m, X86IRQ_REG_EBX, &ebx), X86IRQ_OK);
                assert_int_equal(ebx, 0xC0FFEEu);
                break;
            case EFFECT_MEMORY:
                assert_int_equal(x86irq_read_physical(b->m, SCRATCH_AT, mark, 4), X86IRQ_OK);
                assert_memory_equal(mark, "MARK", 4);
                break;
            case EFFECT_NMI:
                assert_int_equal(b->logged, 1);
                break;
            case EFFECT_STOP:
                assert_int_equal(first, X86IRQ_STOP_REQUESTED);
                break;
            case EFFECT_EVENT:
                assert_int_equal(b->events_run, 1);
                break;
            case EFFECT_BREAKPOINT:
                assert_int_equal(first, X86IRQ_STOP_BREAKPOINT);
                break;
            case EFFECT_NONE:
                break;
            }
            free_board(b);
        }
}

/* ------------------------------------------------------------------ EIP from a callback */

static x86irq_status call_set_eip(struct board *b)
{
    x86irq_status s = x86irq_set_register(b->m, X86IRQ_REG_EIP, ALT_AT);
    uint32_t eip = 0;
    if (s == X86IRQ_OK)
        s = x86irq_get_register(b->m, X86IRQ_REG_EIP, &eip);
    /* it reads back at once, though the core takes it at the next boundary */
    return s == X86IRQ_OK && eip != ALT_AT ? X86IRQ_ERR_STATE : s;
}

/* From every callback, EIP set by the embedder is where the core goes on: the instruction (or
 * delivery) in progress completes and does not overwrite it. */
static void test_eip_from_callbacks(void **state)
{
    (void)state;
    for (unsigned k = KIND_PORT_WRITE; k < KIND_COUNT; k++) {
        struct board *b = make_board((enum kind)k, call_set_eip);
        x86irq_stop_reason reason;
        assert_int_equal(x86irq_run(b->m, 10000000, &reason), X86IRQ_OK);
        if (!b->fired || b->status != X86IRQ_OK || reason != X86IRQ_STOP_DEBUG_EXIT ||
            x86irq_exit_value(b->m) != ALT_EXIT)
            fail_msg("EIP from the %s callback: fired %d, status %s, stop %s, exit 0x%x",
                     kind_names[k], b->fired, x86irq_status_string(b->status),
                     x86irq_stop_reason_string(reason), x86irq_exit_value(b->m));
        if (k == KIND_INSTRUCTION) {
            /* the hooked instruction was not executed: the next one hooked is at the new EIP
             * (the prologue's three, then the two there) */
            assert_int_equal(b->fired_eip, CODE_AT + PROLOGUE_LENGTH);
            assert_int_equal(b->next_eip, ALT_AT);
            assert_int_equal(x86irq_instructions(b->m), 5);
        }
        free_board(b);
    }
}

/* ------------------------------------------------------------------ the smaller holes */

static x86irq_machine *make_plain(void)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    x86irq_machine *m = NULL;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    return m;
}

static void test_port_range_wraps(void **state)
{
    (void)state;
    x86irq_machine *m = make_plain();
    assert_int_equal(x86irq_add_port_device(m, 0x300, 0xFFFFFFFFu, NULL, NULL, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strlen(x86irq_last_error(m)) > 0);
    assert_int_equal(x86irq_add_port_device(m, 0xFFFF, 2, NULL, NULL, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_add_port_device(m, 0x300, 0, NULL, NULL, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_add_port_device(m, 0xFFFF, 1, NULL, NULL, NULL), X86IRQ_OK);
    /* the refused range claimed nothing */
    assert_int_equal(x86irq_add_port_device(m, 0x300, 1, NULL, NULL, NULL), X86IRQ_OK);
    x86irq_machine_destroy(m);
}

static void test_physical_zero_bytes(void **state)
{
    (void)state;
    x86irq_machine *m = make_plain();
    /* zero bytes, no buffer: a copy of nothing (memcpy never sees the NULL) */
    assert_int_equal(x86irq_read_physical(m, 0x1000, NULL, 0), X86IRQ_OK);
    assert_int_equal(x86irq_write_physical(m, 0x1000, NULL, 0), X86IRQ_OK);
    assert_int_equal(x86irq_read_physical(m, 2u << 20, NULL, 0), X86IRQ_OK);
    assert_int_equal(x86irq_read_physical(m, (2u << 20) + 1, NULL, 0), X86IRQ_ERR_RANGE);
    assert_non_null(strstr(x86irq_last_error(m), "read"));
    assert_int_equal(x86irq_write_physical(m, (2u << 20) + 1, NULL, 0), X86IRQ_ERR_RANGE);
    assert_int_equal(x86irq_read_physical(m, 0x1000, NULL, 4), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(x86irq_last_error(m), "buffer"));
    assert_int_equal(x86irq_write_physical(m, 0x1000, NULL, 4), X86IRQ_ERR_INVALID_ARGUMENT);
    /* a zero-byte write is not something to run */
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_ERR_STATE);
    x86irq_machine_destroy(m);
}

static void test_init_after_triple_fault(void **state)
{
    (void)state;
    x86irq_machine *m = make_plain();
    /* lidt with limit 0, then int3: #GP, #DF, shutdown */
    const uint8_t idtr[6] = { 0, 0, 0, 0, 0, 0 };
    put(m, IDTR_AT, idtr, 6);
    const uint8_t code[] = { 0x0F, 0x01, 0x1D, IDTR_AT & 0xFF, (IDTR_AT >> 8) & 0xFF, 0, 0,
                             0xCC };
    put(m, CODE_AT, code, sizeof(code));
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, CODE_AT), X86IRQ_OK);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, 100000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_SHUTDOWN);
    /* INIT cannot bring the machine back: refused as run is */
    assert_int_equal(x86irq_raise_init(m), X86IRQ_ERR_STATE);
    assert_non_null(strstr(x86irq_last_error(m), "INIT"));
    assert_int_equal(x86irq_raise_cpu_init(m, 0), X86IRQ_ERR_STATE);
    assert_int_equal(x86irq_get_cpu_state(m, 0), X86IRQ_CPU_SHUTDOWN);
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_ERR_STATE);
    x86irq_machine_destroy(m);
}

/* Every failing call writes its own message: never the previous one, never "" */
static void test_last_error_is_fresh(void **state)
{
    (void)state;
    x86irq_machine *m = make_plain();
    uint32_t v;
    unsigned cycles;
    char before[512];
#define FRESH(call, status)                                                                  \
    do {                                                                                     \
        assert_int_equal(x86irq_write_physical(m, 4u << 20, "x", 1), X86IRQ_ERR_RANGE);     \
        snprintf(before, sizeof(before), "%s", x86irq_last_error(m));                        \
        assert_int_equal((call), (status));                                                  \
        if (!x86irq_last_error(m)[0] || strcmp(x86irq_last_error(m), before) == 0)           \
            fail_msg("%s: stale or empty message \"%s\"", #call, x86irq_last_error(m));      \
    } while (0)
    FRESH(x86irq_read_physical(m, 4u << 20, &v, 4), X86IRQ_ERR_RANGE);
    FRESH(x86irq_get_register(m, X86IRQ_REG_COUNT, &v), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_get_register(m, X86IRQ_REG_EAX, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_set_register(m, X86IRQ_REG_COUNT, 0), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_get_cpu_register(m, 5, X86IRQ_REG_EAX, &v), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_get_cost(m, "no-such-class", &cycles), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_symbol_address(m, "no_such_symbol", &v), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_schedule_event(m, 0, NULL, NULL, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_serial_input(m, NULL, 3), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_nic_receive(m, NULL, 60), X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_add_port_device(m, 0x300, 0xFFFFFFFFu, NULL, NULL, NULL),
          X86IRQ_ERR_INVALID_ARGUMENT);
    FRESH(x86irq_run(m, 100, NULL), X86IRQ_ERR_STATE);
#undef FRESH
    x86irq_machine_destroy(m);
}

/* A machine with nothing loaded has nothing to run; code and registers the embedder wrote are
 * something */
static void test_run_nothing_loaded(void **state)
{
    (void)state;
    x86irq_machine *m = make_plain();
    x86irq_stop_reason reason = X86IRQ_STOP_BUDGET;
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_ERR_STATE);
    assert_non_null(strstr(x86irq_last_error(m), "nothing to run"));
    assert_int_equal(reason, X86IRQ_STOP_BUDGET); /* untouched */
    /* a failed load is not a load */
    assert_int_equal(x86irq_load_elf_memory(m, "hello", 5, "text", NULL), X86IRQ_ERR_BAD_IMAGE);
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_ERR_STATE);
    const uint8_t hlt[] = { 0xF4 };
    put(m, CODE_AT, hlt, 1);
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_OK);
    x86irq_machine_destroy(m);

    m = make_plain();
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, CODE_AT), X86IRQ_OK);
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_BUDGET);
    x86irq_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_calls),
        cmocka_unit_test(test_allowed_calls),
        cmocka_unit_test(test_eip_from_callbacks),
        cmocka_unit_test(test_port_range_wraps),
        cmocka_unit_test(test_physical_zero_bytes),
        cmocka_unit_test(test_init_after_triple_fault),
        cmocka_unit_test(test_last_error_is_fresh),
        cmocka_unit_test(test_run_nothing_loaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
