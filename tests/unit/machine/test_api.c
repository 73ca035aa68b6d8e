/* Unit tests of the public API (src/machine/machine.c): creation and configuration, errors,
 * registers, physical memory, embedder devices, events, stops, and small programs written
 * straight into guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "x86irq/x86irq.h"
#include "x86irq/exceptions.h"

static x86irq_machine *make(void)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    x86irq_machine *m = NULL;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    return m;
}

static void put_code(x86irq_machine *m, uint32_t at, const uint8_t *code, size_t n)
{
    assert_int_equal(x86irq_write_physical(m, at, code, n), X86IRQ_OK);
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EIP, at), X86IRQ_OK);
}

static void test_create_and_config(void **state)
{
    (void)state;
    x86irq_config c;
    x86irq_config_init(&c);
    assert_int_equal(c.ram_size, 128u << 20);
    assert_int_equal(c.cpu_hz, 1000000000u);
    x86irq_machine *m = NULL;
    c.ram_size = 4096;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_null(m);
    c.ram_size = 4ull << 30;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    /* the clock's bounds: 1 MHz to 100 GHz (the device-time conversions stay in 64 bits) */
    x86irq_config_init(&c);
    c.cpu_hz = X86IRQ_CPU_HZ_MIN - 1;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    c.cpu_hz = X86IRQ_CPU_HZ_MAX + 1;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    c.cpu_hz = X86IRQ_CPU_HZ_MIN;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    x86irq_machine_destroy(m);
    m = NULL;
    c.ram_size = 4096;
    assert_int_equal(x86irq_machine_create(NULL, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_machine_destroy(NULL);
    assert_string_equal(x86irq_status_string(X86IRQ_ERR_RANGE), "address range error");
    assert_string_equal(x86irq_stop_reason_string(X86IRQ_STOP_SHUTDOWN), "shutdown");
    x86irq_exception_info info;
    assert_int_equal(x86irq_exception_describe(14, &info), X86IRQ_OK);
    assert_string_equal(info.mnemonic, "#PF");
    assert_int_equal(info.exception_class, X86IRQ_CLASS_FAULT);
    assert_int_equal(x86irq_exception_describe(32, &info), X86IRQ_ERR_INVALID_ARGUMENT);
}

static void test_registers_and_memory(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    uint32_t v;
    assert_int_equal(x86irq_set_register(m, X86IRQ_REG_EBX, 0x12345678), X86IRQ_OK);
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_EBX, &v), X86IRQ_OK);
    assert_int_equal(v, 0x12345678);
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_CS, &v), X86IRQ_OK);
    assert_int_equal(v, 0x08);
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_EFLAGS, &v), X86IRQ_OK);
    assert_int_equal(v, 0x2);
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_COUNT, &v), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_string_equal(x86irq_register_name(X86IRQ_REG_CR3), "cr3");
    uint8_t buf[4] = { 1, 2, 3, 4 }, back[4];
    assert_int_equal(x86irq_write_physical(m, 0x1000, buf, 4), X86IRQ_OK);
    assert_int_equal(x86irq_read_physical(m, 0x1000, back, 4), X86IRQ_OK);
    assert_memory_equal(buf, back, 4);
    assert_int_equal(x86irq_read_physical(m, (2u << 20) - 2, back, 4), X86IRQ_ERR_RANGE);
    assert_int_equal(x86irq_write_physical(m, (2u << 20) - 2, buf, 4), X86IRQ_ERR_RANGE);
    assert_true(strlen(x86irq_last_error(m)) > 0);
    x86irq_machine_destroy(m);
}

/* The 64-bit view: every register, the architectural refusals, the 32-bit view beside it */
static void test_registers64(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    uint64_t v;
    uint32_t v32;
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_RBX, 0x1122334455667788ull),
                     X86IRQ_OK);
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_EBX, &v32), X86IRQ_OK);
    assert_int_equal(v32, 0x55667788);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_R15, ~0ull), X86IRQ_OK);
    assert_int_equal(x86irq_get_cpu_register64(m, 0, X86IRQ_REG64_R15, &v), X86IRQ_OK);
    assert_int_equal(v, ~0ull);
    assert_string_equal(x86irq_register64_name(X86IRQ_REG64_KERNEL_GS_BASE), "kernel_gs_base");
    assert_string_equal(x86irq_register64_name(X86IRQ_REG64_R8), "r8");
    /* EFER: LME with paging off; LMA is the processor's */
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_EFER, 0x500), X86IRQ_OK);
    assert_int_equal(x86irq_get_cpu_register64(m, 0, X86IRQ_REG64_EFER, &v), X86IRQ_OK);
    assert_int_equal(v, 0x100);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_EFER, 1ull << 20),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    /* CR8 is the LAPIC's TPR class */
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_CR8, 7), X86IRQ_OK);
    assert_int_equal(x86irq_get_cpu_register64(m, 0, X86IRQ_REG64_CR8, &v), X86IRQ_OK);
    assert_int_equal(v, 7);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_CR8, 16),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    /* bases canonical, limits 16-bit, LDTR and TR read-only, RFLAGS and CR4 reserved bits */
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_GS_BASE, 0xFFFF888000000000ull),
                     X86IRQ_OK);
    assert_int_equal(x86irq_get_cpu_register64(m, 0, X86IRQ_REG64_GS_BASE, &v), X86IRQ_OK);
    assert_int_equal(v, 0xFFFF888000000000ull);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_GS_BASE, 0x0000800000000000ull),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_IDTR_BASE, 0x2000), X86IRQ_OK);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_IDTR_LIMIT, 0x10000),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_TR_BASE, 0),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_RFLAGS, 1ull << 32),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_set_cpu_register64(m, 0, X86IRQ_REG64_CR4, 1ull << 30),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_true(strstr(x86irq_last_error(m), "cr4") != NULL);
    assert_int_equal(x86irq_get_cpu_register64(m, 0, X86IRQ_REG64_COUNT, &v),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_get_cpu_register64(m, 1, X86IRQ_REG64_RAX, &v),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_get_cpu_register64(m, 0, X86IRQ_REG64_RAX, NULL),
                     X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_machine_destroy(m);
}

static void test_load_errors(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    assert_int_equal(x86irq_load_elf(m, "/nonexistent/guest.elf", NULL), X86IRQ_ERR_IO);
    assert_non_null(strstr(x86irq_last_error(m), "/nonexistent/guest.elf"));
    assert_int_equal(x86irq_load_elf_memory(m, "hello", 5, "text", NULL), X86IRQ_ERR_BAD_IMAGE);
    assert_non_null(strstr(x86irq_last_error(m), "text: "));
    x86irq_machine_destroy(m);
}

struct serial_log { char text[64]; size_t n; };
static void serial(void *opaque, uint8_t byte)
{
    struct serial_log *s = opaque;
    if (s->n + 1 < sizeof(s->text))
        s->text[s->n++] = (char)byte;
}

static void test_program_prints_and_exits(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct serial_log log = { "", 0 };
    x86irq_set_serial_output(m, serial, &log);
    /* mov dx, 0x3f8; mov al, 'h'; out dx, al; mov al, 'i'; out dx, al; mov al, 7; out 0xf4, al */
    const uint8_t code[] = { 0x66, 0xBA, 0xF8, 0x03, 0xB0, 'h', 0xEE, 0xB0, 'i', 0xEE,
                             0xB0, 0x07, 0xE6, 0xF4 };
    put_code(m, 0x10000, code, sizeof(code));
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    assert_int_equal(x86irq_exit_value(m), 7);
    assert_string_equal(log.text, "hi");
    assert_int_equal(x86irq_instructions(m), 7);
    assert_true(x86irq_cycles(m) > 7);
    /* the machine has finished: running again is refused */
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_ERR_STATE);
    x86irq_machine_destroy(m);
}

/* config.isa: the extensions CPUID reports, each SSE level with the ones before it */
static uint32_t cpuid1_with_isa(uint32_t isa, uint32_t *ecx)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 2u << 20;
    c.isa = isa;
    x86irq_machine *m = NULL;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_OK);
    /* mov eax, 1; cpuid; out 0xf4, al (exit) */
    const uint8_t code[] = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0x0F, 0xA2, 0xE6, 0xF4 };
    put_code(m, 0x10000, code, sizeof(code));
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    uint32_t edx;
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_EDX, &edx), X86IRQ_OK);
    assert_int_equal(x86irq_get_register(m, X86IRQ_REG_ECX, ecx), X86IRQ_OK);
    x86irq_machine_destroy(m);
    return edx;
}

static void test_isa(void **state)
{
    (void)state;
    x86irq_config c;
    x86irq_config_init(&c);
    assert_int_equal(c.isa, X86IRQ_ISA_DEFAULT);
    uint32_t ecx;
    uint32_t edx = cpuid1_with_isa(0, &ecx);
    assert_int_equal(edx & (3u << 25), 0);
    assert_int_equal(ecx & ((1u << 0) | (1u << 9) | (1u << 19) | (1u << 20)), 0);
    edx = cpuid1_with_isa(X86IRQ_ISA_SSE | X86IRQ_ISA_SSE2, &ecx);
    assert_int_equal(edx & (3u << 25), 3u << 25);
    assert_int_equal(ecx & 1u, 0);
    edx = cpuid1_with_isa(X86IRQ_ISA_SSE42 * 2 - 1, &ecx);
    assert_int_equal(ecx & ((1u << 0) | (1u << 9) | (1u << 19) | (1u << 20)),
                     (1u << 0) | (1u << 9) | (1u << 19) | (1u << 20));
    /* a level without the ones before it, XSAVE without SSE, unknown bits */
    static const uint32_t bad[] = { X86IRQ_ISA_SSE2, X86IRQ_ISA_SSE | X86IRQ_ISA_SSE3,
                                    X86IRQ_ISA_XSAVE, 1u << 7, 1u << 31 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        x86irq_machine *m = NULL;
        c.isa = bad[i];
        assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_ERR_INVALID_ARGUMENT);
        assert_null(m);
    }
}

static void test_budget_halt_and_triple_fault(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    const uint8_t loop[] = { 0xEB, 0xFE }; /* jmp $ */
    put_code(m, 0x10000, loop, sizeof(loop));
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, 1000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_BUDGET);
    uint64_t c = x86irq_cycles(m);
    assert_true(c >= 1000 && c < 1000 + 64);
    x86irq_machine_destroy(m);

    m = make();
    const uint8_t halt[] = { 0xF4 };
    put_code(m, 0x10000, halt, sizeof(halt));
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_HALTED);
    x86irq_machine_destroy(m);

    m = make();
    /* an empty IDT: #UD cannot be delivered (#GP), nor can that (#DF): triple fault */
    const uint8_t lidt_ud2[] = { 0x0F, 0x01, 0x1D, 0x00, 0x20, 0x00, 0x00, /* lidt [0x2000] */
                                 0x0F, 0x0B };                              /* ud2 */
    const uint8_t empty_idtr[6] = { 0 };
    x86irq_write_physical(m, 0x2000, empty_idtr, sizeof(empty_idtr));
    put_code(m, 0x10000, lidt_ud2, sizeof(lidt_ud2));
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_SHUTDOWN);
    x86irq_machine_destroy(m);
}

struct doorbell { uint64_t writes, last; };
static uint64_t doorbell_read(void *opaque, uint64_t offset, unsigned size)
{
    struct doorbell *d = opaque;
    (void)size;
    return offset == 0 ? d->writes : 0xABCD;
}
static void doorbell_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct doorbell *d = opaque;
    (void)offset;
    (void)size;
    d->writes++;
    d->last = value;
}

static void test_embedder_devices(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    struct doorbell d = { 0, 0 };
    assert_int_equal(x86irq_add_mmio_device(m, 0xFE000000u, 0x1000, doorbell_read, doorbell_write, &d), X86IRQ_OK);
    assert_int_equal(x86irq_add_mmio_device(m, 0xFE000800u, 0x1000, NULL, NULL, NULL), X86IRQ_ERR_CONFLICT);
    assert_int_equal(x86irq_add_mmio_device(m, 0x1000, 0x1000, NULL, NULL, NULL), X86IRQ_ERR_RANGE);
    assert_int_equal(x86irq_add_port_device(m, 0x3F8, 1, NULL, NULL, NULL), X86IRQ_ERR_CONFLICT);
    assert_int_equal(x86irq_add_port_device(m, 0x300, 4, doorbell_read, doorbell_write, &d), X86IRQ_OK);
    /* mov dword [0xfe000000], 0x55; mov eax, [0xfe000000]; out 0x300, eax... then exit with al */
    const uint8_t code[] = { 0xC7, 0x05, 0x00, 0x00, 0x00, 0xFE, 0x55, 0x00, 0x00, 0x00,
                             0xA1, 0x00, 0x00, 0x00, 0xFE,
                             0xE7, 0xF4 };
    put_code(m, 0x10000, code, sizeof(code));
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT);
    assert_int_equal(d.last, 0x55);
    assert_int_equal(x86irq_exit_value(m), 1); /* the read returned one write */
    x86irq_machine_destroy(m);
}

struct tick { int fired; uint64_t at; };
static void on_tick(x86irq_machine *m, void *opaque)
{
    struct tick *t = opaque;
    t->fired++;
    t->at = x86irq_cycles(m);
    x86irq_request_stop(m);
}

static void test_events_and_requested_stop(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    const uint8_t loop[] = { 0xEB, 0xFE };
    put_code(m, 0x10000, loop, sizeof(loop));
    struct tick t = { 0, 0 }, never = { 0, 0 };
    uint64_t id;
    assert_int_equal(x86irq_schedule_event(m, 500, on_tick, &t, NULL), X86IRQ_OK);
    assert_int_equal(x86irq_schedule_event(m, 300, on_tick, &never, &id), X86IRQ_OK);
    assert_int_equal(x86irq_cancel_event(m, id), X86IRQ_OK);
    assert_int_equal(x86irq_cancel_event(m, id), X86IRQ_ERR_STATE);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, 100000, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_REQUESTED);
    assert_int_equal(t.fired, 1);
    assert_int_equal(never.fired, 0);
    assert_true(t.at >= 500 && t.at < 510); /* at the first boundary at or after cycle 500 */
    /* a requested stop is not final */
    assert_int_equal(x86irq_run(m, 100, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_BUDGET);
    x86irq_machine_destroy(m);
}

static void test_breakpoints(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    /* inc eax; inc eax; inc eax; out 0xf4, al */
    const uint8_t code[] = { 0x40, 0x40, 0x40, 0xE6, 0xF4 };
    put_code(m, 0x10000, code, sizeof(code));
    assert_int_equal(x86irq_add_breakpoint(m, 0x10002), X86IRQ_OK);
    assert_int_equal(x86irq_remove_breakpoint(m, 0x12345), X86IRQ_ERR_INVALID_ARGUMENT);
    x86irq_stop_reason reason;
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_BREAKPOINT);
    uint32_t eip, eax;
    x86irq_get_register(m, X86IRQ_REG_EIP, &eip);
    x86irq_get_register(m, X86IRQ_REG_EAX, &eax);
    assert_int_equal(eip, 0x10002);   /* stopped before the third inc */
    assert_int_equal(eax, 2);
    assert_int_equal(x86irq_run(m, UINT64_MAX, &reason), X86IRQ_OK);
    assert_int_equal(reason, X86IRQ_STOP_DEBUG_EXIT); /* resumes through it */
    assert_int_equal(x86irq_exit_value(m), 3);
    assert_int_equal(x86irq_remove_breakpoint(m, 0x10002), X86IRQ_OK);
    x86irq_machine_destroy(m);
}

static void test_machines_are_independent(void **state)
{
    (void)state;
    x86irq_machine *a = make(), *b = make();
    const uint8_t inc_loop[] = { 0x40, 0xEB, 0xFD }; /* inc eax; jmp back */
    put_code(a, 0x10000, inc_loop, sizeof(inc_loop));
    put_code(b, 0x10000, inc_loop, sizeof(inc_loop));
    x86irq_run(a, 3000, NULL);
    x86irq_run(b, 300, NULL);
    uint32_t ea, eb;
    x86irq_get_register(a, X86IRQ_REG_EAX, &ea);
    x86irq_get_register(b, X86IRQ_REG_EAX, &eb);
    assert_true(ea > 5 * eb);
    x86irq_machine_destroy(a);
    x86irq_machine_destroy(b);
}

/* x86irq_nic_get_statistics: the size field is checked, and a frame the NIC cannot take (its
 * receiver is off until a driver enables it) is counted under its cause */
/* the version string, number and macros agree */
static void test_version(void **state)
{
    (void)state;
    char text[32];
    snprintf(text, sizeof(text), "%u.%u.%u", X86IRQ_VERSION_MAJOR, X86IRQ_VERSION_MINOR,
             X86IRQ_VERSION_PATCH);
    assert_string_equal(x86irq_version(), text);
    assert_int_equal(x86irq_version_number(), X86IRQ_VERSION);
    assert_true(X86IRQ_MAKE_VERSION(0, 1, 0) < X86IRQ_MAKE_VERSION(0, 2, 0));
    assert_true(X86IRQ_MAKE_VERSION(0, 255, 255) < X86IRQ_MAKE_VERSION(1, 0, 0));
    assert_true(X86IRQ_VERSION >= X86IRQ_MAKE_VERSION(0, 1, 0));
}

static void test_nic_statistics(void **state)
{
    (void)state;
    x86irq_machine *m = make();
    x86irq_nic_statistics st;
    memset(&st, 0xA5, sizeof(st));
    st.size = 0;
    assert_int_equal(x86irq_nic_get_statistics(m, &st), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(x86irq_last_error(m), "size"));
    assert_int_equal(x86irq_nic_get_statistics(m, NULL), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(x86irq_nic_get_statistics(NULL, &st), X86IRQ_ERR_INVALID_ARGUMENT);
    st.size = sizeof(st);
    assert_int_equal(x86irq_nic_get_statistics(m, &st), X86IRQ_OK);
    assert_int_equal(st.size, sizeof(st));
    assert_true(st.received == 0 && st.receiver_disabled == 0 && st.transmit_dropped == 0);
    uint8_t frame[60] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1, 0x88, 0xB5 };
    assert_int_equal(x86irq_nic_receive(m, frame, sizeof(frame)), X86IRQ_ERR_STATE);
    assert_int_equal(x86irq_nic_receive(m, frame, sizeof(frame)), X86IRQ_ERR_STATE);
    assert_int_equal(x86irq_nic_get_statistics(m, &st), X86IRQ_OK);
    assert_int_equal(st.receiver_disabled, 2);
    assert_true(st.received == 0 && st.filtered == 0 && st.no_descriptors == 0);
    x86irq_machine_destroy(m);
}

/* x86irq_config's size: a caller of another version of the header. Smaller than this
 * layout, or zero (a configuration not from x86irq_config_init): refused; larger, from a newer
 * header: accepted while the members this library does not know are zero (their defaults) */
static void test_config_size(void **state)
{
    (void)state;
    x86irq_config c;
    x86irq_config_init(&c);
    assert_int_equal(c.size, sizeof(c));
    x86irq_machine *m = NULL;
    c.size = 0;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    c.size = sizeof(c) - 1;
    assert_int_equal(x86irq_machine_create(&c, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_null(m);
    struct { x86irq_config known; uint64_t newer[2]; } later;
    memset(&later, 0, sizeof(later));
    x86irq_config_init(&later.known);
    later.known.size = sizeof(later);
    later.known.ram_size = 2u << 20;
    assert_int_equal(x86irq_machine_create(&later.known, &m), X86IRQ_OK);
    x86irq_machine_destroy(m);
    m = NULL;
    later.newer[1] = 1; /* something this library cannot know how to do */
    assert_int_equal(x86irq_machine_create(&later.known, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_config),
        cmocka_unit_test(test_config_size),
        cmocka_unit_test(test_registers_and_memory),
        cmocka_unit_test(test_registers64),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_program_prints_and_exits),
        cmocka_unit_test(test_isa),
        cmocka_unit_test(test_budget_halt_and_triple_fault),
        cmocka_unit_test(test_embedder_devices),
        cmocka_unit_test(test_events_and_requested_stop),
        cmocka_unit_test(test_breakpoints),
        cmocka_unit_test(test_machines_are_independent),
        cmocka_unit_test(test_nic_statistics),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
