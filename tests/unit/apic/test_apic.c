/* Unit tests of src/apic on the cores fixture (four cores, their LAPICs on one APIC bus, no
 * board): the local APIC's registers, priorities, EOI, timer modes, ICR, ESR and x2APIC mode;
 * the APIC bus (every destination mode and shorthand, lowest-priority arbitration, NMI, INIT,
 * SIPI and ExtINT messages, messages stamped with a cycle a core has not reached); the
 * IOAPIC's redirection entries (edge, level with Remote IRR and the EOI broadcast, masking,
 * polarity, the EOI register, every delivery mode, logical destinations). The LAPICs are
 * driven through their MMIO callbacks and MSRs, time through the cores' cycle counters and
 * the event queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "apic/ioapic.h"
#include "apic/lapic.h"
#include "core_fixture.h"
#include "cpu/run.h"

/* xAPIC register offsets (SDM Vol. 3 Table 10-1) */
enum {
    ID = 0x20, VERSION = 0x30, TPR = 0x80, PPR = 0xA0, EOI = 0xB0, LDR = 0xD0, DFR = 0xE0,
    SVR = 0xF0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LOW = 0x300,
    ICR_HIGH = 0x310, LVT_TIMER = 0x320, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370,
    TIMER_INITIAL = 0x380, TIMER_CURRENT = 0x390, TIMER_DIVIDE = 0x3E0,
};

struct fixture {
    struct test_core *m;       /* four cores, their LAPICs on one APIC bus */
    struct x86_lapic *lapic;   /* CPU 0's */
    struct x86_ioapic ioapic;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->m = test_core_create(1u << 20, 4);
    f->lapic = f->m->lapic;
    /* software enabled, as an OS leaves it */
    for (unsigned i = 0; i < 4; i++)
        x86_lapic_mmio_write(&f->m->cores[i]->lapic, 0xF0, 4, 0x1FF);
    x86_ioapic_init(&f->ioapic, &f->m->apic_bus, &f->m->clock, &f->m->trace);
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

static struct x86_lapic *lapic_of(struct fixture *f, unsigned cpu)
{
    return &f->m->cores[cpu]->lapic;
}
static uint32_t rd_on(struct fixture *f, unsigned cpu, uint32_t offset)
{
    return (uint32_t)x86_lapic_mmio_read(lapic_of(f, cpu), offset, 4);
}
static void wr_on(struct fixture *f, unsigned cpu, uint32_t offset, uint32_t value)
{
    x86_lapic_mmio_write(lapic_of(f, cpu), offset, 4, value);
}
static uint32_t rd(struct fixture *f, uint32_t offset) { return rd_on(f, 0, offset); }
static void wr(struct fixture *f, uint32_t offset, uint32_t value) { wr_on(f, 0, offset, value); }
static bool in_set_on(struct fixture *f, unsigned cpu, uint32_t base, uint8_t vector)
{
    return (rd_on(f, cpu, base + 0x10 * (vector >> 5)) >> (vector & 31)) & 1;
}
static bool in_set(struct fixture *f, uint32_t base, uint8_t vector)
{
    return in_set_on(f, 0, base, vector);
}
/* advance every core's clock to cycle, running the events due */
static void advance(struct fixture *f, uint64_t cycle)
{
    test_core_advance(f->m, cycle);
}

static void test_power_on_and_virtual_wire(void **state)
{
    struct fixture *f = *state;
    struct x86_lapic *ap = lapic_of(f, 2);
    x86_lapic_reset(ap);
    assert_int_equal(rd_on(f, 2, ID), 2u << 24);
    assert_int_equal(rd_on(f, 2, VERSION) & 0xFF, 0x14);
    assert_int_equal((rd_on(f, 2, VERSION) >> 16) & 0xFF, 5);  /* six LVT entries */
    assert_false(rd_on(f, 2, SVR) & 0x100);                     /* software disabled */
    assert_int_equal(rd_on(f, 2, SVR) & 0xFF, 0xFF);
    assert_true(rd_on(f, 2, LVT_LINT0) & 0x10000);              /* every LVT masked */
    assert_int_equal(rd_on(f, 2, DFR), 0xFFFFFFFF);
    uint64_t base;
    assert_true(x86_lapic_read_msr(ap, 0x1B, &base));
    assert_int_equal(base, 0xFEE00800);                         /* enabled, not the BSP */
    assert_true(x86_lapic_read_msr(f->lapic, 0x1B, &base));
    assert_int_equal(base, 0xFEE00900);                         /* CPU 0: the BSP */
    /* what the firmware leaves on the BSP (SeaBIOS): virtual wire to the 8259 */
    x86_lapic_virtual_wire(f->lapic);
    assert_true(rd(f, SVR) & 0x100);
    assert_int_equal(rd(f, LVT_LINT0), 0x700);                  /* ExtINT, unmasked */
    assert_int_equal(rd(f, LVT_LINT1), 0x400);                  /* NMI */
    assert_true(rd(f, LVT_TIMER) & 0x10000);
    /* LINT0 high in ExtINT mode: INTR, and the INTA goes to the external bus */
    f->m->extint_vector = 0x20;
    x86_lapic_set_lint(f->lapic, 0, 1);
    assert_true(f->m->cpu->intr_line);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x20);
}

static void test_priority_acknowledge_and_eoi(void **state)
{
    struct fixture *f = *state;
    x86_lapic_accept(f->lapic, 0x41, X86_DELIVERY_FIXED, false);
    assert_true(in_set(f, IRR, 0x41));
    assert_true(f->m->cpu->intr_line);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x41);
    assert_false(in_set(f, IRR, 0x41));
    assert_true(in_set(f, ISR, 0x41));
    assert_int_equal(rd(f, PPR), 0x40);
    /* the same priority class waits, a higher one preempts */
    x86_lapic_accept(f->lapic, 0x45, X86_DELIVERY_FIXED, false);
    assert_false(f->m->cpu->intr_line);
    x86_lapic_accept(f->lapic, 0x61, X86_DELIVERY_FIXED, false);
    assert_true(f->m->cpu->intr_line);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x61);
    /* EOI ends the highest in service (0x61), then 0x45 may come, then EOI of 0x45 and 0x41 */
    wr(f, EOI, 0);
    assert_false(in_set(f, ISR, 0x61));
    assert_false(f->m->cpu->intr_line);      /* 0x45 is in 0x41's class, still in service */
    wr(f, EOI, 0);
    assert_true(f->m->cpu->intr_line);
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
    assert_false(f->m->cpu->intr_line);      /* class 5 is not above TPR's class 5 */
    wr(f, TPR, 0x4F);
    assert_true(f->m->cpu->intr_line);
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

/* an IPI from CPU `from`: ICR high (the destination) then low (which sends) */
static void ipi(struct fixture *f, unsigned from, uint8_t destination, uint32_t low)
{
    wr_on(f, from, ICR_HIGH, (uint32_t)destination << 24);
    wr_on(f, from, ICR_LOW, low);
}
/* which of the four CPUs have vector in IRR, as a bit mask */
static unsigned irr_mask(struct fixture *f, uint8_t vector)
{
    unsigned mask = 0;
    for (unsigned i = 0; i < 4; i++)
        mask |= (unsigned)in_set_on(f, i, IRR, vector) << i;
    return mask;
}

static void test_icr_destinations(void **state)
{
    struct fixture *f = *state;
    ipi(f, 0, 0, 0x00000050);               /* fixed, physical destination 0: itself */
    assert_int_equal(irr_mask(f, 0x50), 0x1);
    ipi(f, 0, 2, 0x00000051);               /* physical 2 */
    assert_int_equal(irr_mask(f, 0x51), 0x4);
    ipi(f, 1, 7, 0x00000052);               /* physical 7: nobody */
    assert_int_equal(irr_mask(f, 0x52), 0);
    ipi(f, 1, 0xFF, 0x00000053);            /* physical broadcast */
    assert_int_equal(irr_mask(f, 0x53), 0xF);
    /* logical, flat model: one bit per CPU in LDR */
    for (unsigned i = 0; i < 4; i++)
        wr_on(f, i, LDR, 1u << (24 + i));
    ipi(f, 3, 0x05, 0x00000854);            /* CPUs 0 and 2 */
    assert_int_equal(irr_mask(f, 0x54), 0x5);
    /* logical, cluster model: cluster 1 holds CPUs 1 (member bit 0) and 3 (bit 1) */
    for (unsigned i = 0; i < 4; i++) {
        wr_on(f, i, DFR, 0x0FFFFFFF);
        wr_on(f, i, LDR, (i & 1) ? (0x10u | (1u << (i >> 1))) << 24 : (1u << 24));
    }
    ipi(f, 0, 0x13, 0x00000855);            /* cluster 1, members 0 and 1: CPUs 1 and 3 */
    assert_int_equal(irr_mask(f, 0x55), 0xA);
    ipi(f, 0, 0x12, 0x00000856);            /* cluster 1, member 1: CPU 3 */
    assert_int_equal(irr_mask(f, 0x56), 0x8);
    /* shorthands ignore the destination field */
    ipi(f, 2, 0, 0x00040057);               /* self */
    assert_int_equal(irr_mask(f, 0x57), 0x4);
    ipi(f, 2, 0, 0x00080058);               /* all including self */
    assert_int_equal(irr_mask(f, 0x58), 0xF);
    ipi(f, 2, 0, 0x000C0059);               /* all excluding self */
    assert_int_equal(irr_mask(f, 0x59), 0xB);
    assert_false(rd(f, ICR_LOW) & 0x1000);  /* delivery status: idle, sent at its cycle */
    ipi(f, 0, 3, 0x00000400);               /* NMI to CPU 3 */
    assert_true(f->m->cpus[3]->nmi_latched);
    assert_false(f->m->cpus[0]->nmi_latched);
}

static void test_lowest_priority_arbitration(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < 4; i++)
        wr_on(f, i, LDR, 1u << (24 + i));
    /* all equal: the lowest APIC ID among those named */
    ipi(f, 0, 0x0E, 0x00000960);            /* lowest priority, logical CPUs 1-3 */
    assert_int_equal(irr_mask(f, 0x60), 0x2);
    /* CPU 1 now has 0x60 requested: its APR is class 6; CPU 2 raises its TPR to 0x30 */
    wr_on(f, 2, TPR, 0x30);
    ipi(f, 0, 0x0E, 0x00000961);
    assert_int_equal(irr_mask(f, 0x61), 0x8); /* CPU 3: priority 0 */
    ipi(f, 0, 0x06, 0x00000962);            /* CPUs 1 (class 6) and 2 (TPR 0x30) */
    assert_int_equal(irr_mask(f, 0x62), 0x4);
    /* a software-disabled LAPIC takes no part */
    wr_on(f, 3, SVR, 0xFF);
    wr_on(f, 2, TPR, 0xF0);
    ipi(f, 0, 0x0C, 0x00000963);            /* CPUs 2 and 3: 3 is disabled */
    assert_int_equal(irr_mask(f, 0x63), 0x4);
    /* the APR register reads what the arbitration compares */
    assert_int_equal(rd_on(f, 1, 0x90), 0x60);
    assert_int_equal(rd_on(f, 2, 0x90), 0xF0);
}

static void test_init_and_startup_messages(void **state)
{
    struct fixture *f = *state;
    struct x86_cpu *ap = f->m->cpus[1];
    assert_true(ap->wait_for_sipi);
    /* NMI and fixed interrupts wait while the AP waits for SIPI */
    ipi(f, 0, 1, 0x00000400);
    assert_true(ap->nmi_latched);
    assert_false(x86_cpu_event_deliverable(ap));
    ap->nmi_latched = 0;
    /* INIT (level assert), then the de-assert which delivers nothing, then SIPI */
    ipi(f, 0, 1, 0x0000C500);
    assert_true(ap->init_latched);
    ap->init_latched = 0;
    ipi(f, 0, 1, 0x00008500);
    assert_false(ap->init_latched);
    ipi(f, 0, 1, 0x00000698);               /* start-up, vector 0x98: real mode at 0x98000 */
    assert_true(ap->sipi_pending);
    assert_int_equal(ap->sipi_vector, 0x98);
    assert_true(x86_cpu_event_deliverable(ap));
    x86_cpu_startup(ap, ap->sipi_vector);
    assert_false(ap->wait_for_sipi);
    assert_false(ap->halted);
    assert_int_equal(ap->seg[X86_SEG_CS].selector, 0x9800);
    assert_int_equal(ap->seg[X86_SEG_CS].base, 0x98000);
    assert_int_equal(ap->rip, 0);
    /* a second SIPI to a running core is ignored */
    ipi(f, 0, 1, 0x00000699);
    assert_false(ap->sipi_pending);
}

static void test_messages_wait_for_their_cycle(void **state)
{
    struct fixture *f = *state;
    /* CPU 0 is ahead at cycle 5000 when it sends; CPU 1 is still at 1000 */
    f->m->cpus[0]->cycles = 5000;
    f->m->cpus[1]->cycles = 1000;
    f->m->cpus[1]->cycle_limit = UINT64_MAX;
    ipi(f, 0, 1, 0x00000070);
    assert_false(in_set_on(f, 1, IRR, 0x70));           /* not yet: CPU 1 is behind */
    assert_int_equal(f->m->cpus[1]->cycle_limit, 5000); /* its slice must end there */
    assert_int_equal(x86_lapic_deliver_due(lapic_of(f, 1)), 5000);
    f->m->cpus[1]->cycles = 5000;
    assert_int_equal(x86_lapic_deliver_due(lapic_of(f, 1)), UINT64_MAX);
    assert_true(in_set_on(f, 1, IRR, 0x70));
    /* a core already past the send cycle takes it at once */
    f->m->cpus[2]->cycles = 9000;
    ipi(f, 0, 2, 0x00000071);
    assert_true(in_set_on(f, 2, IRR, 0x71));
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

/* x2APIC destinations over the bus (SDM Vol. 3 10.12.9, 10.12.10): the 64-bit ICR MSR with a
 * 32-bit destination, physical IDs and 0xFFFFFFFF broadcast, logical cluster IDs from the
 * read-only LDR (cluster = ID[19:4], member bit = 1 << ID[3:0]) */
static bool in_irr(struct x86_lapic *l, uint8_t vector)
{
    return (l->irr.word[vector >> 5] >> (vector & 31)) & 1;
}
static unsigned irr_mask_x2(struct fixture *f, uint8_t vector)
{
    unsigned mask = 0;
    for (unsigned i = 0; i < 4; i++)
        mask |= (unsigned)in_irr(lapic_of(f, i), vector) << i;
    return mask;
}
static void x2ipi(struct fixture *f, unsigned from, uint32_t destination, uint32_t low)
{
    assert_true(x86_lapic_write_msr(lapic_of(f, from), 0x830,
                                    (uint64_t)destination << 32 | low));
}
static void test_x2apic_destinations(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t base;
        assert_true(x86_lapic_read_msr(lapic_of(f, i), 0x1B, &base));
        assert_true(x86_lapic_write_msr(lapic_of(f, i), 0x1B, base | 0xC00)); /* EN | EXTD */
        uint64_t ldr;
        assert_true(x86_lapic_read_msr(lapic_of(f, i), 0x80D, &ldr));
        assert_int_equal(ldr, 1u << i);                   /* cluster 0, member bit i */
    }
    x2ipi(f, 0, 2, 0x60);                                 /* physical 2 */
    assert_int_equal(irr_mask_x2(f, 0x60), 0x4);
    x2ipi(f, 1, 0xFF, 0x61);                              /* 0xFF is an ID, not a broadcast */
    assert_int_equal(irr_mask_x2(f, 0x61), 0);
    x2ipi(f, 1, 0xFFFFFFFFu, 0x62);                       /* the x2APIC broadcast */
    assert_int_equal(irr_mask_x2(f, 0x62), 0xF);
    x2ipi(f, 3, 0x00000006u, 0x863);                      /* logical: cluster 0, members 1, 2 */
    assert_int_equal(irr_mask_x2(f, 0x63), 0x6);
    x2ipi(f, 3, 0x00010001u, 0x864);                      /* cluster 1: nobody */
    assert_int_equal(irr_mask_x2(f, 0x64), 0);
    x2ipi(f, 2, 0, 0xC0065);                              /* all excluding self */
    assert_int_equal(irr_mask_x2(f, 0x65), 0xB);
    assert_true(x86_lapic_write_msr(lapic_of(f, 3), 0x83F, 0x66)); /* SELF IPI register */
    assert_int_equal(irr_mask_x2(f, 0x66), 0x8);
}

static void test_disabled_apic_passes_lint0_as_intr(void **state)
{
    struct fixture *f = *state;
    assert_true(x86_lapic_write_msr(f->lapic, 0x1B, 0xFEE00000u));
    x86_lapic_set_lint(f->lapic, 0, 1);
    assert_true(f->m->cpu->intr_line);
    x86_lapic_set_lint(f->lapic, 0, 0);
    assert_false(f->m->cpu->intr_line);
    x86_lapic_set_lint(f->lapic, 1, 1);
    assert_true(f->m->cpu->nmi_latched);
}

/* ------------------------------------------------------------------ IOAPIC */

static void ioapic_write(struct fixture *f, uint8_t reg, uint32_t value)
{
    x86_ioapic_write(&f->ioapic, 0x00, 4, reg);
    x86_ioapic_write(&f->ioapic, 0x10, 4, value);
}
static uint32_t ioapic_read(struct fixture *f, uint8_t reg)
{
    x86_ioapic_write(&f->ioapic, 0x00, 4, reg);
    return (uint32_t)x86_ioapic_read(&f->ioapic, 0x10, 4);
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
    x86_ioapic_set_pin(&f->ioapic, 5, 1);
    assert_true(in_set(f, IRR, 0x31));
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x31);
    wr(f, EOI, 0);
    x86_ioapic_set_pin(&f->ioapic, 5, 1);                 /* no new edge */
    assert_false(in_set(f, IRR, 0x31));
    x86_ioapic_set_pin(&f->ioapic, 5, 0);
    ioapic_write(f, 0x10 + 2 * 5, 0x10031);                  /* masked */
    x86_ioapic_set_pin(&f->ioapic, 5, 1);
    ioapic_write(f, 0x10 + 2 * 5, 0x31);                     /* an edge while masked is lost */
    assert_false(in_set(f, IRR, 0x31));
    /* active low: the edge is the line falling */
    x86_ioapic_set_pin(&f->ioapic, 7, 1);
    ioapic_write(f, 0x10 + 2 * 7, 0x2033);
    x86_ioapic_set_pin(&f->ioapic, 7, 0);
    assert_true(in_set(f, IRR, 0x33));
}

static void ioapic_eoi(void *opaque, uint8_t vector)
{
    x86_ioapic_eoi(opaque, vector);
}

static void test_ioapic_level_remote_irr(void **state)
{
    struct fixture *f = *state;
    f->m->apic_bus.eoi_broadcast = ioapic_eoi;
    f->m->apic_bus.opaque = &f->ioapic;
    ioapic_write(f, 0x10 + 2 * 9, 0x8039);                   /* pin 9: 0x39, level */
    x86_ioapic_set_pin(&f->ioapic, 9, 1);
    assert_true(in_set(f, IRR, 0x39));
    assert_true(in_set(f, TMR, 0x39));
    assert_true(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);      /* Remote IRR */
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x39);
    wr(f, EOI, 0);                                           /* broadcast: line still high */
    assert_true(in_set(f, IRR, 0x39));                       /* so it comes again */
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x39);
    x86_ioapic_set_pin(&f->ioapic, 9, 0);                    /* the device is serviced */
    wr(f, EOI, 0);
    assert_false(in_set(f, IRR, 0x39));
    assert_false(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);
    /* EOI broadcast suppression: the IOAPIC's EOI register ends it instead */
    wr(f, SVR, 0x11FF);
    x86_ioapic_set_pin(&f->ioapic, 9, 1);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x39);
    x86_ioapic_set_pin(&f->ioapic, 9, 0);
    wr(f, EOI, 0);
    assert_true(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);
    x86_ioapic_write(&f->ioapic, 0x40, 4, 0x39);
    assert_false(ioapic_read(f, 0x10 + 2 * 9) & 0x4000);
}

static void test_ioapic_destinations_and_modes(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < 4; i++)
        wr_on(f, i, LDR, 1u << (24 + i));
    /* physical destination 3 */
    ioapic_write(f, 0x10 + 2 * 4, 0x41);
    ioapic_write(f, 0x11 + 2 * 4, 3u << 24);
    x86_ioapic_set_pin(&f->ioapic, 4, 1);
    assert_int_equal(irr_mask(f, 0x41), 0x8);
    /* logical destination 0x06: CPUs 1 and 2 take a fixed interrupt */
    ioapic_write(f, 0x10 + 2 * 5, 0x842);
    ioapic_write(f, 0x11 + 2 * 5, 0x06u << 24);
    x86_ioapic_set_pin(&f->ioapic, 5, 1);
    assert_int_equal(irr_mask(f, 0x42), 0x6);
    /* lowest priority to the same set: one of them (CPU 1: equal priority, lower ID) */
    ioapic_write(f, 0x10 + 2 * 6, 0x943);
    ioapic_write(f, 0x11 + 2 * 6, 0x06u << 24);
    x86_ioapic_set_pin(&f->ioapic, 6, 1);
    assert_int_equal(irr_mask(f, 0x43), 0x2);
    /* NMI delivery: the core latches an NMI, even with IF = 0; no Remote IRR although the
     * entry says level (NMI is edge-triggered) */
    assert_false(x86_ioapic_sends_nmi_or_init(&f->ioapic));
    ioapic_write(f, 0x10 + 2 * 8, 0x8400);
    ioapic_write(f, 0x11 + 2 * 8, 2u << 24);
    assert_true(x86_ioapic_sends_nmi_or_init(&f->ioapic));
    x86_ioapic_set_pin(&f->ioapic, 8, 1);
    assert_true(f->m->cpus[2]->nmi_latched);
    assert_false(ioapic_read(f, 0x10 + 2 * 8) & 0x4000);
    /* INIT delivery */
    ioapic_write(f, 0x10 + 2 * 10, 0x500);
    ioapic_write(f, 0x11 + 2 * 10, 3u << 24);
    x86_ioapic_set_pin(&f->ioapic, 10, 1);
    assert_true(f->m->cpus[3]->init_latched);
    /* ExtINT delivery: the core's INTA goes to the external bus (the 8259) */
    f->m->extint_vector = 0x28;
    ioapic_write(f, 0x10 + 2 * 0, 0x700);
    ioapic_write(f, 0x11 + 2 * 0, 0);
    x86_ioapic_set_pin(&f->ioapic, 0, 1);
    assert_true(f->m->cpu->intr_line);
    assert_int_equal(x86_lapic_acknowledge(f->lapic), 0x28);
    assert_false(f->m->cpu->intr_line);
    /* a destination nobody has: a level entry gets no Remote IRR stuck */
    ioapic_write(f, 0x10 + 2 * 11, 0x8044);
    ioapic_write(f, 0x11 + 2 * 11, 9u << 24);
    x86_ioapic_set_pin(&f->ioapic, 11, 1);
    assert_int_equal(irr_mask(f, 0x44), 0);
    assert_false(ioapic_read(f, 0x10 + 2 * 11) & 0x4000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_on_and_virtual_wire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_acknowledge_and_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tpr_masks_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_illegal_vectors_and_esr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_one_shot_and_periodic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_tsc_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icr_destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lowest_priority_arbitration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_and_startup_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_wait_for_their_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_apic_passes_lint0_as_intr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioapic_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioapic_edge_and_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioapic_level_remote_irr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioapic_destinations_and_modes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
