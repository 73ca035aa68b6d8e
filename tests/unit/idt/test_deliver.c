/* Unit tests of src/idt: the exception table, real-mode IVT delivery, protected-mode gates
 * (frames with and without error code, interrupt vs trap gate, privilege change through the
 * TSS, gate DPL for software interrupts, #GP/#NP with the IDT and EXT bits), IRET, and the
 * double- and triple-fault rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cpu/mmu.h"
#include "cpu/run.h"
#include "cpu/segment.h"
#include "idt/idt.h"
#include "core_fixture.h"

#define GDT 0x1000u
#define IDT 0x2000u
#define TSS 0x3000u

struct fixture {
    struct test_core *m;
    struct x86_cpu *cpu;
};

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

static void put_descriptor(struct test_core *m, uint32_t addr, uint32_t base, uint32_t limit,
                           uint8_t access, uint8_t flags)
{
    uint32_t low = (limit & 0xFFFF) | (base << 16);
    uint32_t high = ((base >> 16) & 0xFF) | ((uint32_t)access << 8) | (limit & 0xF0000) |
                    ((uint32_t)flags << 20) | (base & 0xFF000000u);
    put32(m, addr, low);
    put32(m, addr + 4, high);
}

/* gate: type 0xE (32-bit interrupt), 0xF (trap), 0x6/0x7 (16-bit) */
static void put_gate(struct test_core *m, unsigned vector, uint16_t selector, uint32_t offset,
                     uint8_t type, uint8_t dpl, bool present)
{
    uint32_t low = (offset & 0xFFFF) | ((uint32_t)selector << 16);
    uint32_t high = (offset & 0xFFFF0000u) | ((present ? 0x80u : 0) | (dpl << 5) | type) << 8;
    put32(m, IDT + vector * 8, low);
    put32(m, IDT + vector * 8 + 4, high);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = test_core_create(4u << 20, 1);
    f->cpu = f->m->cpu;
    struct x86_cpu *cpu = f->cpu;
    /* GDT: 0x08 ring-0 code, 0x10 ring-0 data, 0x1B ring-3 code, 0x23 ring-3 data, 0x28 TSS */
    put_descriptor(f->m, GDT + 0x00, 0, 0, 0, 0);
    put_descriptor(f->m, GDT + 0x08, 0, 0xFFFFF, 0x9B, 0xC);
    put_descriptor(f->m, GDT + 0x10, 0, 0xFFFFF, 0x93, 0xC);
    put_descriptor(f->m, GDT + 0x18, 0, 0xFFFFF, 0xFB, 0xC);
    put_descriptor(f->m, GDT + 0x20, 0, 0xFFFFF, 0xF3, 0xC);
    put_descriptor(f->m, GDT + 0x28, TSS, 0x67, 0x89, 0x0);
    cpu->gdtr.base = GDT;
    cpu->gdtr.limit = 0x2F;
    cpu->idtr.base = IDT;
    cpu->idtr.limit = 0x7FF;
    put32(f->m, TSS + 4, 0x90000);   /* ESP0 */
    put32(f->m, TSS + 8, 0x10);      /* SS0 */
    cpu->tr.selector = 0x28;
    cpu->tr.base = TSS;
    cpu->tr.limit = 0x67;
    cpu->tr.attributes = 0x8B;
    /* start at ring 0 on the flat segments above */
    test_set_register(f->m, X86IRQ_REG_CS, 0x08);
    test_set_register(f->m, X86IRQ_REG_SS, 0x10);
    test_set_register(f->m, X86IRQ_REG_DS, 0x10);
    cpu->gpr[X86_ESP] = 0x80000;
    cpu->rip = 0x5000;
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

/* Deliver an event as the run loop does (faults during delivery go through the double-fault
 * rules). Returns true when delivery ended without a further fault escaping. */
static void deliver(struct x86_cpu *cpu, uint8_t vector, int source, bool has_error,
                    uint32_t error_code, uint32_t return_eip)
{
    struct x86_fault ev = { vector, has_error, (uint8_t)source, error_code, return_eip, 0 };
    if (setjmp(cpu->fault_jump) != 0) {
        ev = cpu->fault;
        /* a fault during delivery: deliver it with the double-fault rules, until one succeeds */
        if (setjmp(cpu->fault_jump) != 0) {
            ev = cpu->fault;
            if (setjmp(cpu->fault_jump) != 0)
                return; /* more than three levels: the test fails on its own checks */
            x86_cpu_deliver(cpu, &ev);
            return;
        }
        x86_cpu_deliver(cpu, &ev);
        return;
    }
    cpu->delivering = 0;
    x86_cpu_deliver(cpu, &ev);
}

static void test_exception_table(void **state)
{
    (void)state;
    assert_string_equal(x86_exception_table[0].mnemonic, "#DE");
    assert_int_equal(x86_exception_table[14].double_fault_class, X86_DF_PAGE_FAULT);
    assert_int_equal(x86_exception_table[13].double_fault_class, X86_DF_CONTRIBUTORY);
    assert_int_equal(x86_exception_table[6].double_fault_class, X86_DF_BENIGN);
    /* error codes: exactly 8, 10-14, 17, 21, 29, 30 */
    for (unsigned v = 0; v < 32; v++) {
        bool expected = v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
        assert_int_equal(x86_exception_table[v].has_error_code, expected);
    }
    assert_int_equal(x86_exception_table[8].class_, X86_CLASS_ABORT);
    assert_int_equal(x86_exception_table[3].class_, X86_CLASS_TRAP);
}

static void test_same_privilege_frame_with_error_code(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 13, 0x08, 0x7000, 0xE, 0, true);
    x86_set_eflags(cpu, X86_FLAG_IF | X86_FLAG_TF, ~0u);
    deliver(cpu, 13, X86_EVENT_EXCEPTION, true, 0x1234, 0x5000);
    assert_int_equal(cpu->rip, 0x7000);
    assert_int_equal(cpu->gpr[X86_ESP], 0x80000 - 16);
    assert_int_equal(get32(f->m, 0x80000 - 16), 0x1234);       /* error code */
    assert_int_equal(get32(f->m, 0x80000 - 12), 0x5000);       /* EIP */
    assert_int_equal(get32(f->m, 0x80000 - 8), 0x08);          /* CS */
    assert_true(get32(f->m, 0x80000 - 4) & X86_FLAG_IF);       /* EFLAGS as before */
    /* interrupt gate: IF and TF cleared */
    assert_false(x86_get_eflags(cpu) & X86_FLAG_IF);
    assert_false(x86_get_eflags(cpu) & X86_FLAG_TF);
}

static void test_trap_gate_keeps_if(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 0x80, 0x08, 0x7100, 0xF, 3, true);
    x86_set_eflags(cpu, X86_FLAG_IF, ~0u);
    deliver(cpu, 0x80, X86_EVENT_SOFTWARE, false, 0, 0x5002);
    assert_int_equal(cpu->rip, 0x7100);
    assert_int_equal(cpu->gpr[X86_ESP], 0x80000 - 12);
    assert_int_equal(get32(f->m, 0x80000 - 12), 0x5002);
    assert_true(x86_get_eflags(cpu) & X86_FLAG_IF);
}

static void test_privilege_change_uses_tss_stack(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 0x80, 0x08, 0x7200, 0xF, 3, true);
    test_set_register(f->m, X86IRQ_REG_CS, 0x1B);
    test_set_register(f->m, X86IRQ_REG_SS, 0x23);
    cpu->gpr[X86_ESP] = 0x70000;
    deliver(cpu, 0x80, X86_EVENT_SOFTWARE, false, 0, 0x6000);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, 0x10);
    assert_int_equal(cpu->gpr[X86_ESP], 0x90000 - 20);
    assert_int_equal(get32(f->m, 0x90000 - 4), 0x23);     /* old SS */
    assert_int_equal(get32(f->m, 0x90000 - 8), 0x70000);  /* old ESP */
    assert_int_equal(get32(f->m, 0x90000 - 16), 0x1B);   /* old CS */
    assert_int_equal(get32(f->m, 0x90000 - 20), 0x6000); /* return EIP */
    /* IRET goes back to ring 3 with SS:ESP from the frame */
    cpu->next_rip = 0;
    if (setjmp(cpu->fault_jump) == 0)
        x86_iret(cpu, 4);
    else
        fail_msg("iret faulted with vector %u", cpu->fault.vector);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->next_rip, 0x6000);
    assert_int_equal(cpu->gpr[X86_ESP], 0x70000);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, 0x23);
}

static void test_gate_dpl_applies_to_software_only(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 0x30, 0x08, 0x7300, 0xE, 0, true);
    test_set_register(f->m, X86IRQ_REG_CS, 0x1B);
    test_set_register(f->m, X86IRQ_REG_SS, 0x23);
    put_gate(f->m, 13, 0x08, 0x7400, 0xE, 0, true);
    /* int 0x30 from ring 3 to a DPL-0 gate: #GP(0x30*8+2), no EXT */
    deliver(cpu, 0x30, X86_EVENT_SOFTWARE, false, 0, 0x6000);
    assert_int_equal(cpu->rip, 0x7400);
    assert_int_equal(get32(f->m, 0x90000 - 24), 0x30 * 8 + 2);
}

static void test_not_present_gate_gives_np_with_idt_and_ext(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 0x40, 0x08, 0x7500, 0xE, 0, false);
    put_gate(f->m, 11, 0x08, 0x7600, 0xE, 0, true);
    deliver(cpu, 0x40, X86_EVENT_HARDWARE, false, 0, 0x5000);
    assert_int_equal(cpu->rip, 0x7600);
    assert_int_equal(get32(f->m, 0x80000 - 16), 0x40 * 8 + 2 + 1);
}

static void test_contributory_pair_is_double_fault(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    /* #GP's gate is not present: #NP while delivering #GP -> #DF with error code 0 */
    put_gate(f->m, 13, 0x08, 0x7000, 0xE, 0, false);
    put_gate(f->m, 8, 0x08, 0x7800, 0xE, 0, true);
    deliver(cpu, 13, X86_EVENT_EXCEPTION, true, 0, 0x5000);
    assert_int_equal(cpu->rip, 0x7800);
    assert_int_equal(get32(f->m, 0x80000 - 16), 0);
    assert_false(cpu->shutdown);
}

static void test_benign_then_contributory_is_serial(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    /* #UD (benign) with a not-present gate: the #NP is delivered, not #DF */
    put_gate(f->m, 6, 0x08, 0x7000, 0xE, 0, false);
    put_gate(f->m, 11, 0x08, 0x7900, 0xE, 0, true);
    put_gate(f->m, 8, 0x08, 0x7800, 0xE, 0, true);
    deliver(cpu, 6, X86_EVENT_EXCEPTION, false, 0, 0x5000);
    assert_int_equal(cpu->rip, 0x7900);
}

static void test_fault_during_double_fault_is_triple_fault(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 13, 0x08, 0x7000, 0xE, 0, false);
    put_gate(f->m, 8, 0x08, 0x7800, 0xE, 0, false);
    deliver(cpu, 13, X86_EVENT_EXCEPTION, true, 0, 0x5000);
    assert_true(cpu->shutdown);
    /* the chain the embedder gets: #GP, #NP while delivering it, the #DF made of the two, and
     * #NP while delivering the #DF */
    x86irq_event_record chain[8];
    assert_int_equal(x86_cpu_shutdown_events(f->cpu, chain, 8), 4);
    assert_int_equal(chain[0].vector, 13);
    assert_int_equal(chain[1].vector, 11);
    assert_int_equal(chain[1].error_code, 13 * 8 + 2 + 1);
    assert_int_equal(chain[2].vector, 8);
    assert_int_equal(chain[2].origin, X86IRQ_ORIGIN_DOUBLE_FAULT);
    assert_int_equal(chain[3].vector, 11);
    assert_int_equal(chain[3].error_code, 8 * 8 + 2 + 1);
    assert_int_equal(chain[3].eip, 0x5000);
}

static void test_gate_cache_follows_stores_to_the_gate(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 0x30, 0x08, 0x7000, 0xE, 0, true);
    deliver(cpu, 0x30, X86_EVENT_HARDWARE, false, 0, 0x5000);
    assert_int_equal(cpu->rip, 0x7000);
    assert_int_equal(f->m->cores[0]->gates.gates[0x30].epoch, cpu->table_epoch);
    /* a guest store beside the gate (same page, other bytes) keeps the decoded gate */
    uint32_t epoch = cpu->table_epoch;
    x86_write(cpu, X86_SEG_DS, IDT + 0x31 * 8, 4, 0xDEADBEEF);
    assert_int_equal(cpu->table_epoch, epoch);
    /* a guest store into the gate's offset is seen by the next delivery */
    x86_write(cpu, X86_SEG_DS, IDT + 0x30 * 8, 2, 0x7400);
    assert_int_not_equal(cpu->table_epoch, epoch);
    cpu->gpr[X86_ESP] = 0x80000;
    deliver(cpu, 0x30, X86_EVENT_HARDWARE, false, 0, 0x5000);
    assert_int_equal(cpu->rip, 0x7400);
    /* LIDT elsewhere: the table is decoded again from the new IDT */
    epoch = cpu->table_epoch;
    put_gate(f->m, 0x30 + 0x100, 0x08, 0x7800, 0xE, 0, true); /* IDT + 0x800: a second table */
    x86_tables_changed(cpu);
    cpu->idtr.base = IDT + 0x800;
    deliver(cpu, 0x30, X86_EVENT_HARDWARE, false, 0, 0x5000);
    assert_int_equal(cpu->rip, 0x7800);
}

/* IRET keeps the checked code segment it returned to; a store into that descriptor (here:
 * clearing its present bit) is seen by the next IRET, which now raises #NP(selector). */
static int iret_vector(struct x86_cpu *cpu, uint32_t *error)
{
    cpu->next_rip = 0;
    if (setjmp(cpu->fault_jump) == 0) {
        x86_iret(cpu, 4);
        return -1;
    }
    *error = cpu->fault.error_code;
    return cpu->fault.vector;
}

static void test_iret_rechecks_a_changed_code_descriptor(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_gate(f->m, 0x30, 0x08, 0x7000, 0xE, 0, true);
    uint32_t error = 0;
    for (int round = 0; round < 2; round++) {
        cpu->gpr[X86_ESP] = 0x80000;
        deliver(cpu, 0x30, X86_EVENT_HARDWARE, false, 0, 0x5000 + round);
        assert_int_equal(iret_vector(cpu, &error), -1);
        assert_int_equal(cpu->next_rip, 0x5000 + round);
        assert_int_equal(cpu->gpr[X86_ESP], 0x80000);
    }
    assert_int_equal(f->m->cores[0]->gates.iret.selector, 0x08);
    /* a guest store clears the present bit of the code descriptor (GDT entry 1, byte 5) */
    cpu->gpr[X86_ESP] = 0x80000;
    deliver(cpu, 0x30, X86_EVENT_HARDWARE, false, 0, 0x5008);
    x86_write(cpu, X86_SEG_DS, GDT + 0x08 + 5, 1, 0x1B);
    assert_int_equal(iret_vector(cpu, &error), X86_VEC_NP);
    assert_int_equal(error, 0x08);
    assert_int_equal(cpu->gpr[X86_ESP], 0x80000 - 12); /* the frame is still there */
}

#define TSS2 0x3100u

static void test_task_gate_switches_and_iret_returns(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    put_descriptor(f->m, GDT + 0x30, TSS2, 0x67, 0x89, 0x0);
    x86_tables_changed(cpu);
    cpu->gdtr.limit = 0x37;
    put32(f->m, GDT + 0x28 + 4, get32(f->m, GDT + 0x28 + 4) | 0x200); /* current TSS busy */
    put32(f->m, TSS2 + 0x20, 0x6000);       /* EIP */
    put32(f->m, TSS2 + 0x24, 0x2);          /* EFLAGS */
    put32(f->m, TSS2 + 0x28, 0x1111);       /* EAX */
    put32(f->m, TSS2 + 0x38, 0x70000);      /* ESP */
    for (unsigned s = 0; s < 6; s++)
        put32(f->m, TSS2 + 0x48 + 4 * s, s == 1 ? 0x08 : 0x10);
    put_gate(f->m, 0x50, 0x30, 0, 0x5, 0, true);
    cpu->gpr[X86_EAX] = 0x2222;
    deliver(cpu, 0x50, X86_EVENT_SOFTWARE, false, 0, 0x5002);
    assert_int_equal(cpu->tr.selector, 0x30);
    assert_int_equal(cpu->rip, 0x6000);
    assert_int_equal(cpu->gpr[X86_EAX], 0x1111);
    assert_int_equal(cpu->gpr[X86_ESP], 0x70000);
    assert_true(x86_get_eflags(cpu) & X86_FLAG_NT);
    assert_true(cpu->cr0 & X86_CR0_TS);
    assert_int_equal(get32(f->m, TSS2) & 0xFFFF, 0x28);                 /* back-link */
    assert_int_equal((get32(f->m, GDT + 0x30 + 4) >> 8) & 0xF, 0xB);     /* new task busy */
    assert_int_equal((get32(f->m, GDT + 0x28 + 4) >> 8) & 0xF, 0xB);     /* old one stays busy */
    assert_int_equal(get32(f->m, TSS + 0x20), 0x5002);                   /* saved EIP */
    assert_int_equal(get32(f->m, TSS + 0x28), 0x2222);                   /* saved EAX */

    /* IRET with NT: back through the back-link */
    if (setjmp(cpu->fault_jump) != 0)
        fail_msg("IRET through the back-link faulted: vector %u", cpu->fault.vector);
    put32(f->m, TSS + 0x24, 0x2);   /* the old task's EFLAGS as saved */
    cpu->next_rip = 0x6001;
    x86_iret(cpu, 4);
    assert_int_equal(cpu->tr.selector, 0x28);
    assert_int_equal(cpu->next_rip, 0x5002);
    assert_int_equal(cpu->gpr[X86_EAX], 0x2222);
    assert_int_equal((get32(f->m, GDT + 0x30 + 4) >> 8) & 0xF, 0x9);     /* available again */
    assert_int_equal(get32(f->m, TSS2 + 0x20), 0x6001);                  /* where it left off */
    assert_false(get32(f->m, TSS2 + 0x24) & X86_FLAG_NT);                /* saved without NT */
}

static void test_real_mode_ivt(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *cpu = f->cpu;
    x86_cpu_reset(cpu);
    cpu->idtr.base = 0;
    cpu->idtr.limit = 0x3FF;
    x86_load_segment(cpu, X86_SEG_CS, 0x0100);
    x86_load_segment(cpu, X86_SEG_SS, 0x0200);
    cpu->gpr[X86_ESP] = 0x1000;
    put32(f->m, 0x21 * 4, 0x03000040); /* 0300:0040 */
    x86_set_eflags(cpu, X86_FLAG_IF, ~0u);
    deliver(cpu, 0x21, X86_EVENT_SOFTWARE, false, 0, 0x0123);
    assert_int_equal(cpu->seg[X86_SEG_CS].selector, 0x0300);
    assert_int_equal(cpu->seg[X86_SEG_CS].base, 0x3000);
    assert_int_equal(cpu->rip, 0x40);
    assert_int_equal(cpu->gpr[X86_ESP], 0x1000 - 6);
    uint32_t ip_cs = get32(f->m, 0x2000 + 0x1000 - 6);
    assert_int_equal(ip_cs & 0xFFFF, 0x0123);
    assert_int_equal(ip_cs >> 16, 0x0100);
    assert_false(x86_get_eflags(cpu) & X86_FLAG_IF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exception_table),
        cmocka_unit_test_setup_teardown(test_same_privilege_frame_with_error_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trap_gate_keeps_if, setup, teardown),
        cmocka_unit_test_setup_teardown(test_privilege_change_uses_tss_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_dpl_applies_to_software_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_present_gate_gives_np_with_idt_and_ext, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_contributory_pair_is_double_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_benign_then_contributory_is_serial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_during_double_fault_is_triple_fault, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_real_mode_ivt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_cache_follows_stores_to_the_gate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iret_rechecks_a_changed_code_descriptor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_task_gate_switches_and_iret_returns, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
