/* Unit tests of src/apic: the local APIC's registers, priorities, EOI, timer modes, ICR, ESR
 * and x2APIC mode; the IOAPIC's redirection entries (edge, level with Remote IRR, masking,
 * polarity, the EOI register). The LAPIC is driven through its MMIO callbacks and MSRs, time
 * through the machine's cycle counter and event queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "apic/ioapic.h"
#include "apic/lapic.h"
#include "machine/machine.h"

/* xAPIC register offsets (SDM Vol. 3 Table 10-1) */
enum {
    ID = 0x20, VERSION = 0x30, TPR = 0x80, PPR = 0xA0, EOI = 0xB0, LDR = 0xD0, DFR = 0xE0,
    SVR = 0xF0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LOW = 0x300,
    ICR_HIGH = 0x310, LVT_TIMER = 0x320, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370,
    TIMER_INITIAL = 0x380, TIMER_CURRENT = 0x390, TIMER_DIVIDE = 0x3E0,
};

struct fixture {
    x86irq_machine *m;
    struct x86_lapic *lapic;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_int_equal(x86irq_machine_create(NULL, &f->m), X86IRQ_OK);
    f->lapic = &f->m->lapic;
    /* the 8259s' INT (ExtINT on LINT0) would take precedence: mask them, as an OS does */
    x86_pic_write(&f->m->pic.chip[0], 1, 1, 0xFF);
    x86_pic_write(&f->m->pic.chip[1], 1, 1, 0xFF);
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

static uint32_t rd(struct fixture *f, uint32_t offset)
{
    return (uint32_t)x86_lapic_mmio_read(f->lapic, offset, 4);
}
static void wr(struct fixture *f, uint32_t offset, uint32_t value)
{
    x86_lapic_mmio_write(f->lapic, offset, 4, value);
}
static bool in_set(struct fixture *f, uint32_t base, uint8_t vector)
{
    return (rd(f, base + 0x10 * (vector >> 5)) >> (vector & 31)) & 1;
}
/* advance the clock to cycle, running the events due */
static void advance(struct fixture *f, uint64_t cycle)
{
    f->m->cpu.cycles = cycle;
    x86_events_run_due(&f->m->events, cycle);
}

static void test_state_after_firmware(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd(f, ID), 0);
    assert_int_equal(rd(f, VERSION) & 0xFF, 0x14);
    assert_int_equal((rd(f, VERSION) >> 16) & 0xFF, 5);       /* six LVT entries */
    assert_true(rd(f, SVR) & 0x100);                           /* software enabled */
    assert_int_equal(rd(f, LVT_LINT0), 0x700);                 /* ExtINT, unmasked */
    assert_int_equal(rd(f, LVT_LINT1), 0x400);                 /* NMI */
    assert_true(rd(f, LVT_TIMER) & 0x10000);                   /* masked */
    assert_int_equal(rd(f, DFR), 0xFFFFFFFF);
    uint64_t base;
    assert_true(x86_lapic_read_msr(f->lapic, 0x1B, &base));
    assert_int_equal(base, 0xFEE00900);
    /* through the machine's bus too */
    uint32_t version;
    assert_int_equal(x86irq_read_physical(f->m, 0xFEE00030, &version, 4), X86IRQ_ERR_RANGE);
    assert_int_equal(x86_bus_mmio_read(&f->m->bus, 0xFEE00030, 4), rd(f, VERSION));
}

static void test_priority_acknowledge_and_eoi(void **state)
{
    struct fixture *f = *state;
    x86_lapic_accept(f->lapic, 0x41, X86_DELIVERY_FIXED, false);
    assert_true(in_set(f, IRR, 0x41));
    assert_true(f->m->cpu.intr_line);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x41);
    assert_false(in_set(f, IRR, 0x41));
    assert_true(in_set(f, ISR, 0x41));
    assert_int_equal(rd(f, PPR), 0x40);
    /* the same priority class waits, a higher one preempts */
    x86_lapic_accept(f->lapic, 0x45, X86_DELIVERY_FIXED, false);
    assert_false(f->m->cpu.intr_line);
    x86_lapic_accept(f->lapic, 0x61, X86_DELIVERY_FIXED, false);
    assert_true(f->m->cpu.intr_line);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x61);
    /* EOI ends the highest in service (0x61), then 0x45 may come, then EOI of 0x45 and 0x41 */
    wr(f, EOI, 0);
    assert_false(in_set(f, ISR, 0x61));
    assert_false(f->m->cpu.intr_line);      /* 0x45 is in 0x41's class, still in service */
    wr(f, EOI, 0);
    assert_true(f->m->cpu.intr_line);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x45);
    wr(f, EOI, 0);
    assert_int_equal(rd(f, PPR), 0);
}

static void test_tpr_masks_classes(void **state)
{
    struct fixture *f = *state;
    wr(f, TPR, 0x50);
    assert_int_equal(rd(f, PPR), 0x50);
    x86_lapic_accept(f->lapic, 0x55, X86_DELIVERY_FIXED, false);
    assert_false(f->m->cpu.intr_line);      /* class 5 is not above TPR's class 5 */
    wr(f, TPR, 0x4F);
    assert_true(f->m->cpu.intr_line);
    /* a TPR raised between INTR and INTA: the spurious vector (SDM Vol. 3 10.9) */
    wr(f, TPR, 0x60);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0xFF);
    assert_true(in_set(f, IRR, 0x55));      /* still pending */
}

static void test_illegal_vectors_and_esr(void **state)
{
    struct fixture *f = *state;
    x86_lapic_accept(f->lapic, 0x05, X86_DELIVERY_FIXED, false);
    assert_false(in_set(f, IRR, 0x05));
    assert_int_equal(rd(f, ESR), 0);        /* write-before-read: nothing latched yet */
    wr(f, ESR, 0);
    assert_int_equal(rd(f, ESR), 0x40);     /* received illegal vector */
    wr(f, ESR, 0);
    assert_int_equal(rd(f, ESR), 0);
    /* with the error LVT unmasked an error interrupts */
    wr(f, LVT_ERROR, 0xFE);
    wr(f, ICR_LOW, 0x00040003);             /* self IPI, vector 3: send illegal vector */
    assert_true(in_set(f, IRR, 0xFE));
    wr(f, ESR, 0);
    assert_int_equal(rd(f, ESR), 0x20);
}

static void test_timer_one_shot_and_periodic(void **state)
{
    struct fixture *f = *state;
    wr(f, TIMER_DIVIDE, 0xB);               /* divide by 1 */
    wr(f, LVT_TIMER, 0x30);                 /* one-shot, vector 0x30 */
    advance(f, 100);
    wr(f, TIMER_INITIAL, 1000);
    advance(f, 350);
    assert_int_equal(rd(f, TIMER_CURRENT), 750);
    advance(f, 1099);
    assert_false(in_set(f, IRR, 0x30));
    advance(f, 1100);
    assert_true(in_set(f, IRR, 0x30));
    assert_int_equal(rd(f, TIMER_CURRENT), 0);
    x86_lapic_acknowledge(f->lapic);
    wr(f, EOI, 0);

    /* periodic, divide by 16: every 16 * 100 cycles from the start, without drift */
    wr(f, TIMER_DIVIDE, 0x3);
    wr(f, LVT_TIMER, 0x20031);
    advance(f, 2000);
    wr(f, TIMER_INITIAL, 100);
    for (unsigned n = 1; n <= 5; n++) {
        advance(f, 2000 + n * 1600 - 1);
        assert_false(in_set(f, IRR, 0x31));
        advance(f, 2000 + n * 1600);
        assert_true(in_set(f, IRR, 0x31));
        assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x31);
        wr(f, EOI, 0);
    }
    advance(f, 2000 + 5 * 1600 + 16 * 30);
    assert_int_equal(rd(f, TIMER_CURRENT), 70);
    wr(f, TIMER_INITIAL, 0);                /* stops it */
    advance(f, 100000);
    assert_false(in_set(f, IRR, 0x31));
}

static void test_timer_tsc_deadline(void **state)
{
    struct fixture *f = *state;
    wr(f, LVT_TIMER, 0x40032);              /* TSC-deadline mode, vector 0x32 */
    advance(f, 500);
    assert_true(x86_lapic_write_msr(f->lapic, 0x6E0, 5000));
    uint64_t v;
    assert_true(x86_lapic_read_msr(f->lapic, 0x6E0, &v));
    assert_int_equal(v, 5000);
    advance(f, 4999);
    assert_false(in_set(f, IRR, 0x32));
    advance(f, 5000);
    assert_true(in_set(f, IRR, 0x32));
    assert_true(x86_lapic_read_msr(f->lapic, 0x6E0, &v));
    assert_int_equal(v, 0);                 /* disarmed after it fired */
    wr(f, TIMER_INITIAL, 123);              /* ignored in this mode */
    assert_int_equal(rd(f, TIMER_INITIAL), 0);
}

static void test_icr_destinations(void **state)
{
    struct fixture *f = *state;
    wr(f, ICR_HIGH, 0x00000000);
    wr(f, ICR_LOW, 0x00000050);             /* fixed, physical destination 0: us */
    assert_true(in_set(f, IRR, 0x50));
    wr(f, ICR_HIGH, 0x01000000);
    wr(f, ICR_LOW, 0x00000051);             /* physical 1: nobody */
    assert_false(in_set(f, IRR, 0x51));
    wr(f, LDR, 0x02000000);
    wr(f, ICR_LOW, 0x00000852);             /* logical, flat: 0x01 & 0x02 = none */
    assert_false(in_set(f, IRR, 0x52));
    wr(f, ICR_HIGH, 0x03000000);
    wr(f, ICR_LOW, 0x00000853);             /* logical 0x03 includes us */
    assert_true(in_set(f, IRR, 0x53));
    wr(f, ICR_LOW, 0x000C0054);             /* all excluding self */
    assert_false(in_set(f, IRR, 0x54));
    wr(f, ICR_LOW, 0x00080055);             /* all including self */
    assert_true(in_set(f, IRR, 0x55));
    assert_false(rd(f, ICR_LOW) & 0x1000);  /* delivery status: idle */
    wr(f, ICR_LOW, 0x00040400);             /* NMI to self */
    assert_true(f->m->cpu.nmi_latched);
}

static void test_x2apic_mode(void **state)
{
    struct fixture *f = *state;
    assert_false(x86_lapic_write_msr(f->lapic, 0x1B, 0xFEE00000u | 0x400)); /* EXTD without EN */
    assert_true(x86_lapic_write_msr(f->lapic, 0x1B, 0xFEE00000u | 0xD00));  /* x2APIC */
    assert_int_equal(x86_lapic_mmio_read(f->lapic, VERSION, 4), 0xFFFFFFFFu); /* no MMIO */
    uint64_t v;
    assert_true(x86_lapic_read_msr(f->lapic, 0x803, &v));
    assert_int_equal(v & 0xFF, 0x14);
    assert_true(x86_lapic_read_msr(f->lapic, 0x80D, &v));
    assert_int_equal(v, 0x00000001);                          /* cluster 0, bit 0 */
    assert_true(x86_lapic_write_msr(f->lapic, 0x83F, 0x66));  /* SELF IPI */
    assert_true(f->lapic->irr.word[0x66 >> 5] & (1u << (0x66 & 31)));
    assert_false(x86_lapic_write_msr(f->lapic, 0x80B, 1));   /* EOI takes only 0 */
    assert_false(x86_lapic_write_msr(f->lapic, 0x80E, 0));   /* DFR does not exist */
    assert_false(x86_lapic_read_msr(f->lapic, 0x80B, &v));   /* EOI is write-only */
    assert_false(x86_lapic_write_msr(f->lapic, 0x1B, 0xFEE00000u | 0x900)); /* back to xAPIC */
    assert_true(x86_lapic_write_msr(f->lapic, 0x1B, 0xFEE00000u));        /* disable */
    assert_true(x86_lapic_write_msr(f->lapic, 0x1B, 0xFEE00000u | 0x900)); /* xAPIC again */
    assert_true(rd(f, LVT_LINT0) & 0x10000);                  /* state reset: masked */
}

static void test_disabled_apic_passes_lint0_as_intr(void **state)
{
    struct fixture *f = *state;
    assert_true(x86_lapic_write_msr(f->lapic, 0x1B, 0xFEE00000u));
    x86_lapic_set_lint(f->lapic, 0, 1);
    assert_true(f->m->cpu.intr_line);
    x86_lapic_set_lint(f->lapic, 0, 0);
    assert_false(f->m->cpu.intr_line);
    x86_lapic_set_lint(f->lapic, 1, 1);
    assert_true(f->m->cpu.nmi_latched);
}

/* ------------------------------------------------------------------ IOAPIC */

static void ioapic_write(struct fixture *f, uint8_t reg, uint32_t value)
{
    x86_ioapic_write(&f->m->ioapic, 0x00, 4, reg);
    x86_ioapic_write(&f->m->ioapic, 0x10, 4, value);
}
static uint32_t ioapic_read(struct fixture *f, uint8_t reg)
{
    x86_ioapic_write(&f->m->ioapic, 0x00, 4, reg);
    return (uint32_t)x86_ioapic_read(&f->m->ioapic, 0x10, 4);
}

static void test_ioapic_registers(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ioapic_read(f, 0x01), 0x00170020);      /* 24 entries, version 0x20 */
    assert_int_equal(ioapic_read(f, 0x10), 0x00010000);      /* masked at reset */
    ioapic_write(f, 0x10, 0xFFFFFFFF);
    assert_int_equal(ioapic_read(f, 0x10), 0x0001AFFF);      /* status and Remote IRR RO */
    ioapic_write(f, 0x11, 0xFFFFFFFF);
    assert_int_equal(ioapic_read(f, 0x11), 0xFF000000);
    ioapic_write(f, 0x00, 0x0A000000);
    assert_int_equal(ioapic_read(f, 0x00), 0x0A000000);
}

static void test_ioapic_edge_and_mask(void **state)
{
    struct fixture *f = *state;
    ioapic_write(f, 0x10 + 2 * 5, 0x31);                     /* pin 5: vector 0x31, edge */
    ioapic_write(f, 0x11 + 2 * 5, 0x00000000);
    x86_ioapic_set_pin(&f->m->ioapic, 5, 1);
    assert_true(in_set(f, IRR, 0x31));
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x31);
    wr(f, EOI, 0);
    x86_ioapic_set_pin(&f->m->ioapic, 5, 1);                 /* no new edge */
    assert_false(in_set(f, IRR, 0x31));
    x86_ioapic_set_pin(&f->m->ioapic, 5, 0);
    ioapic_write(f, 0x10 + 2 * 5, 0x10031);                  /* masked */
    x86_ioapic_set_pin(&f->m->ioapic, 5, 1);
    ioapic_write(f, 0x10 + 2 * 5, 0x31);                     /* an edge while masked is lost */
    assert_false(in_set(f, IRR, 0x31));
    /* active low: the edge is the line falling */
    x86_ioapic_set_pin(&f->m->ioapic, 7, 1);
    ioapic_write(f, 0x10 + 2 * 7, 0x2033);
    x86_ioapic_set_pin(&f->m->ioapic, 7, 0);
    assert_true(in_set(f, IRR, 0x33));
}

static void test_ioapic_level_remote_irr(void **state)
{
    struct fixture *f = *state;
    ioapic_write(f, 0x10 + 2 * 9, 0x8039);                   /* pin 9: 0x39, level */
    x86_machine_set_gsi(f->m, 9, 1);
    assert_true(in_set(f, IRR, 0x39));
    assert_true(in_set(f, TMR, 0x39));
    assert_true(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);      /* Remote IRR */
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x39);
    wr(f, EOI, 0);                                           /* broadcast: line still high */
    assert_true(in_set(f, IRR, 0x39));                       /* so it comes again */
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x39);
    x86_machine_set_gsi(f->m, 9, 0);                         /* the device is serviced */
    wr(f, EOI, 0);
    assert_false(in_set(f, IRR, 0x39));
    assert_false(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);
    /* EOI broadcast suppression: the IOAPIC's EOI register ends it instead */
    wr(f, SVR, 0x11FF);
    x86_machine_set_gsi(f->m, 9, 1);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x39);
    x86_machine_set_gsi(f->m, 9, 0);
    wr(f, EOI, 0);
    assert_true(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);
    x86_ioapic_write(&f->m->ioapic, 0x40, 4, 0x39);
    assert_false(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);
}

static void test_irq0_is_on_pin_2(void **state)
{
    struct fixture *f = *state;
    ioapic_write(f, 0x10 + 2 * 2, 0x30);
    x86_pit_write(&f->m->pit, 3, 1, 0x30);   /* channel 0 to mode 0: the PIT's OUT goes low */
    assert_int_equal(x86irq_pulse_irq_line(f->m, 0), X86IRQ_OK);
    assert_true(in_set(f, IRR, 0x30));
    assert_int_equal(x86irq_set_irq_line(f->m, 24, 1), X86IRQ_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_after_firmware, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_acknowledge_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tpr_masks_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_illegal_vectors_and_esr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_one_shot_and_periodic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_tsc_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icr_destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_apic_passes_lint0_as_intr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioapic_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioapic_edge_and_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioapic_level_remote_irr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq0_is_on_pin_2, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
