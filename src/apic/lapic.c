/* The local APIC (see lapic.h). SDM Vol. 3 chapter 10 throughout; sections cited where the
 * behaviour is subtle. */
#include "apic/lapic.h"

#include <string.h>

#include "cpu/cpu.h"
#include "cpu/mmu.h"
#include "platform/events.h"
#include "trace/emit.h"

/* IA32_APIC_BASE bits (SDM Vol. 3 10.4.4, Figure 10-5) */
#define APIC_BASE_BSP 0x100u
#define APIC_BASE_EXTD 0x400u
#define APIC_BASE_EN 0x800u
#define APIC_BASE_ADDRESS_MASK 0xFFFFF000ull /* 32-bit physical addresses here */

/* SVR bits */
#define SVR_ENABLE 0x100u
#define SVR_FOCUS_DISABLE 0x200u
#define SVR_EOI_BROADCAST_SUPPRESSION 0x1000u

/* LVT bits */
#define LVT_MASK 0x10000u
#define LVT_LEVEL 0x8000u
#define LVT_REMOTE_IRR 0x4000u
#define LVT_ACTIVE_LOW 0x2000u
#define LVT_TIMER_MODE_SHIFT 17
enum timer_mode { TIMER_ONE_SHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

/* ESR bits (SDM Vol. 3 10.5.3) */
#define ESR_SEND_ILLEGAL_VECTOR 0x20u
#define ESR_RECEIVE_ILLEGAL_VECTOR 0x40u
#define ESR_ILLEGAL_REGISTER 0x80u

/* Version: 0x14 (integrated APIC), max LVT entry 5 (six entries), EOI-broadcast suppression */
#define LAPIC_VERSION (0x14u | (5u << 16) | (1u << 24))

/* The bits software may write in each LVT entry (SDM Vol. 3 Figure 10-8); delivery status
 * and remote IRR are read-only. */
static const uint32_t lvt_writable[X86_LVT_COUNT] = {
    [X86_LVT_TIMER] = 0x000700FFu,       /* vector, mask, timer mode (17-18) */
    [X86_LVT_THERMAL] = 0x000107FFu,     /* vector, delivery mode, mask */
    [X86_LVT_PERFORMANCE] = 0x000107FFu,
    [X86_LVT_LINT0] = 0x0001A7FFu,       /* vector, delivery mode, polarity, trigger, mask */
    [X86_LVT_LINT1] = 0x0001A7FFu,
    [X86_LVT_ERROR] = 0x000100FFu,       /* vector, mask */
};

static struct x86_cpu *core(const struct x86_lapic *lapic) { return lapic->cpu; }
static uint64_t now(const struct x86_lapic *lapic) { return lapic->cpu->cycles; }
static bool x2apic_mode(const struct x86_lapic *lapic)
{
    return (lapic->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}
static bool software_enabled(const struct x86_lapic *lapic) { return lapic->svr & SVR_ENABLE; }

/* ------------------------------------------------------------------ 256-bit sets */

static void set_bit256(struct x86_vector_set *set, uint8_t v)
{
    set->word[v >> 5] |= 1u << (v & 31);
    set->summary |= 1u << (v >> 5);
}
static void clear_bit256(struct x86_vector_set *set, uint8_t v)
{
    set->word[v >> 5] &= ~(1u << (v & 31));
    if (!set->word[v >> 5])
        set->summary &= ~(1u << (v >> 5));
}
static bool test_bit256(const struct x86_vector_set *set, uint8_t v)
{
    return (set->word[v >> 5] >> (v & 31)) & 1;
}
/* the highest vector in the set, or -1 */
static int highest256(const struct x86_vector_set *set)
{
    if (!set->summary)
        return -1;
    int i = 31 - __builtin_clz(set->summary);
    return i * 32 + 31 - __builtin_clz(set->word[i]);
}

/* ------------------------------------------------------------------ priorities (10.8.3.1) */

static uint32_t processor_priority(const struct x86_lapic *lapic)
{
    int isrv = highest256(&lapic->isr);
    uint32_t isr_class = isrv < 0 ? 0 : ((uint32_t)isrv & 0xF0);
    return (lapic->tpr & 0xF0) >= isr_class ? (lapic->tpr & 0xFF) : isr_class;
}

/* The IRR vector the core may take now: its class above the PPR's, or -1 */
static int deliverable_vector(const struct x86_lapic *lapic)
{
    int irrv = highest256(&lapic->irr);
    if (irrv < 0)
        return -1;
    return ((uint32_t)irrv & 0xF0) > (processor_priority(lapic) & 0xF0) ? irrv : -1;
}

bool x86_lapic_intr(const struct x86_lapic *lapic)
{
    return lapic->extint_pending || lapic->extint_message || deliverable_vector(lapic) >= 0;
}

/* The core's INTR pin: the LAPIC's request, or LINT0 itself while the APIC is disabled */
static void update_intr(struct x86_lapic *lapic)
{
    struct x86_cpu *cpu = core(lapic);
    bool level = x86_lapic_enabled(lapic) ? x86_lapic_intr(lapic) : lapic->lint_level[0] != 0;
    if (level && !cpu->intr_line)
        x86_request_exit(cpu); /* sampled at the next instruction boundary */
    cpu->intr_line = level;
}

bool x86_lapic_accepts_fixed(const struct x86_lapic *lapic)
{
    return x86_lapic_enabled(lapic) && software_enabled(lapic);
}

/* APR (SDM Vol. 3 10.8.3.1, Figure 10-15): the TPR when it is at or above the classes of the
 * highest requested and above the highest in-service vector, else the highest of the three
 * classes */
uint32_t x86_lapic_arbitration_priority(const struct x86_lapic *lapic)
{
    uint32_t tpr = lapic->tpr & 0xFF;
    int isrv = highest256(&lapic->isr), irrv = highest256(&lapic->irr);
    uint32_t isr_class = isrv < 0 ? 0 : ((uint32_t)isrv & 0xF0);
    uint32_t irr_class = irrv < 0 ? 0 : ((uint32_t)irrv & 0xF0);
    if ((tpr & 0xF0) >= irr_class && (tpr & 0xF0) > isr_class)
        return tpr;
    uint32_t p = tpr & 0xF0;
    if (isr_class > p)
        p = isr_class;
    if (irr_class > p)
        p = irr_class;
    return p;
}

/* ------------------------------------------------------------------ errors (10.5.3) */

static void record_error(struct x86_lapic *lapic, uint32_t error)
{
    bool new_error = !(lapic->esr_pending & error);
    lapic->esr_pending |= error;
    uint32_t lvt = lapic->lvt[X86_LVT_ERROR];
    if (new_error && !(lvt & LVT_MASK))
        x86_lapic_accept(lapic, (uint8_t)lvt, X86_DELIVERY_FIXED, false);
}

/* ------------------------------------------------------------------ acceptance */

void x86_lapic_accept(struct x86_lapic *lapic, uint8_t vector, enum x86_delivery_mode mode,
                      bool level_triggered)
{
    struct x86_cpu *cpu = core(lapic);
    switch (mode) {
    case X86_DELIVERY_FIXED:
    case X86_DELIVERY_LOWEST: /* the bus chose this LAPIC (apic_bus.c) */
        if (vector < 16) {
            /* vectors 0-15 are illegal (SDM Vol. 3 10.5.2) */
            record_error(lapic, ESR_RECEIVE_ILLEGAL_VECTOR);
            return;
        }
        if (!software_enabled(lapic))
            return; /* a software-disabled APIC accepts only NMI, INIT, SMI, SIPI (10.4.7.2) */
        set_bit256(&lapic->irr, vector);
        if (level_triggered)
            set_bit256(&lapic->tmr, vector);
        else
            clear_bit256(&lapic->tmr, vector);
        x86_trace_irr(lapic->trace, lapic->cpu, vector, level_triggered);
        update_intr(lapic);
        break;
    case X86_DELIVERY_NMI:
        x86_trace_nmi(lapic->trace, cpu, X86_NMI_LAPIC, cpu->nmi_blocked, cpu->nmi_latched);
        cpu->nmi_latched = 1;
        cpu->halted = 0;
        x86_request_exit(cpu);
        break;
    case X86_DELIVERY_EXTINT:
        /* an ExtINT message (an IOAPIC pin in ExtINT mode): the core's INTA goes to the 8259,
         * which supplies the vector (10.6.1; the 82093AA's delivery mode 111) */
        lapic->extint_message = 1;
        update_intr(lapic);
        break;
    case X86_DELIVERY_INIT:
        /* INIT at the next instruction boundary: the core resets (an AP then waits for SIPI);
         * the LAPIC keeps its ID and base (10.4.7.3) */
        cpu->init_latched = 1;
        cpu->halted = 0;
        x86_request_exit(cpu);
        break;
    case X86_DELIVERY_STARTUP:
        /* SIPI: a core waiting for it starts in real mode at vector << 12 (8.4.4); any other
         * core ignores it (a second SIPI after the first has started it, the BSP) */
        if (cpu->wait_for_sipi) {
            cpu->sipi_vector = vector;
            cpu->sipi_pending = 1;
            x86_request_exit(cpu);
        }
        break;
    case X86_DELIVERY_SMI: /* no SMM (docs/devices.md) */
    default:
        break;
    }
}

void x86_lapic_receive(struct x86_lapic *lapic, const struct x86_apic_message *message,
                       uint64_t time)
{
    if (time <= now(lapic) || lapic->pending_count == X86_LAPIC_PENDING) {
        /* the core is there (or past it); a full queue takes the message early rather than
         * losing it */
        x86_lapic_accept(lapic, message->vector, (enum x86_delivery_mode)message->delivery_mode,
                         message->level);
        return;
    }
    unsigned i = lapic->pending_count;
    while (i > 0 && lapic->pending[i - 1].time > time) {
        lapic->pending[i] = lapic->pending[i - 1];
        i--;
    }
    lapic->pending[i] = (struct x86_apic_pending){ time, *message };
    lapic->pending_count++;
    /* the core, running or not, must stop there */
    struct x86_cpu *cpu = core(lapic);
    if (time < cpu->cycle_limit)
        cpu->cycle_limit = time;
    if (time < cpu->slice_end)
        cpu->slice_end = time;
}

uint64_t x86_lapic_deliver_due(struct x86_lapic *lapic)
{
    unsigned taken = 0;
    while (taken < lapic->pending_count && lapic->pending[taken].time <= now(lapic)) {
        const struct x86_apic_message *m = &lapic->pending[taken].message;
        taken++;
        x86_lapic_accept(lapic, m->vector, (enum x86_delivery_mode)m->delivery_mode, m->level);
    }
    if (taken) {
        memmove(lapic->pending, lapic->pending + taken,
                (lapic->pending_count - taken) * sizeof(lapic->pending[0]));
        lapic->pending_count -= taken;
    }
    return lapic->pending_count ? lapic->pending[0].time : UINT64_MAX;
}

int x86_lapic_acknowledge(struct x86_lapic *lapic)
{
    if (!x86_lapic_enabled(lapic) || lapic->extint_pending || lapic->extint_message) {
        /* the INTA cycle goes to the 8259: LINT0 is the INTR pin with the APIC disabled
         * (10.4.3), or virtual-wire mode, or an ExtINT message */
        lapic->extint_message = 0;
        int v = lapic->extint_acknowledge ? lapic->extint_acknowledge(lapic->opaque) : -1;
        update_intr(lapic);
        return v;
    }
    int v = deliverable_vector(lapic);
    if (v < 0)
        return (int)(lapic->svr & 0xFF); /* spurious: the request went away (10.9) */
    clear_bit256(&lapic->irr, (uint8_t)v);
    set_bit256(&lapic->isr, (uint8_t)v);
    update_intr(lapic);
    return v;
}

static void end_of_interrupt(struct x86_lapic *lapic)
{
    int v = highest256(&lapic->isr);
    if (v < 0)
        return;
    clear_bit256(&lapic->isr, (uint8_t)v);
    x86_trace_eoi(lapic->trace, lapic->cpu, (uint8_t)v, X86_EOI_LAPIC);
    if (test_bit256(&lapic->tmr, (uint8_t)v)) {
        clear_bit256(&lapic->tmr, (uint8_t)v);
        /* a level-triggered interrupt: the IOAPIC may deliver again (10.8.5) */
        if (!(lapic->svr & SVR_EOI_BROADCAST_SUPPRESSION))
            x86_apic_bus_eoi(lapic->apic_bus, (uint8_t)v);
        for (unsigned pin = 0; pin < 2; pin++) {
            uint32_t *lvt = &lapic->lvt[X86_LVT_LINT0 + pin];
            if ((*lvt & LVT_REMOTE_IRR) && (uint8_t)*lvt == (uint8_t)v) {
                *lvt &= ~LVT_REMOTE_IRR;
                x86_lapic_set_lint(lapic, pin, lapic->lint_level[pin]);
            }
        }
    }
    update_intr(lapic);
}

/* ------------------------------------------------------------------ destinations (10.6.2) */

bool x86_lapic_matches(const struct x86_lapic *lapic, uint32_t destination, bool logical,
                       bool x2apic_form)
{
    if (x2apic_form && x2apic_mode(lapic)) {
        if (!logical)
            return destination == 0xFFFFFFFFu || destination == lapic->id;
        uint32_t ldr = lapic->ldr;
        return (destination >> 16) == (ldr >> 16) && (destination & ldr & 0xFFFF);
    }
    destination &= 0xFF;
    if (!logical)
        return destination == 0xFF || destination == (lapic->id & 0xFF);
    uint8_t logical_id = (uint8_t)(lapic->ldr >> 24);
    if (destination == 0xFF)
        return true;
    if ((lapic->dfr >> 28) == 0xF) /* flat model */
        return (destination & logical_id) != 0;
    /* cluster model: bits 7:4 the cluster, 3:0 a member mask */
    return (destination >> 4) == (logical_id >> 4) && (destination & logical_id & 0x0F);
}

/* ------------------------------------------------------------------ LINT pins (10.5.1) */

void x86_lapic_set_lint(struct x86_lapic *lapic, unsigned pin, int level)
{
    uint8_t old = lapic->lint_level[pin];
    lapic->lint_level[pin] = level != 0;
    if (!x86_lapic_enabled(lapic)) {
        /* a disabled APIC passes LINT0 as INTR and LINT1 as NMI (10.4.3) */
        if (pin == 1 && level && !old) {
            x86_trace_nmi(lapic->trace, core(lapic), X86_NMI_LAPIC, core(lapic)->nmi_blocked,
                          core(lapic)->nmi_latched);
            core(lapic)->nmi_latched = 1;
            x86_request_exit(core(lapic));
        }
        update_intr(lapic);
        return;
    }
    uint32_t *lvt = &lapic->lvt[X86_LVT_LINT0 + pin];
    bool active = (lapic->lint_level[pin] != 0) != ((*lvt & LVT_ACTIVE_LOW) != 0);
    bool was_active = (old != 0) != ((*lvt & LVT_ACTIVE_LOW) != 0);
    enum x86_delivery_mode mode = (enum x86_delivery_mode)((*lvt >> 8) & 7);
    bool masked = *lvt & LVT_MASK;
    if (pin == 0) {
        bool extint = mode == X86_DELIVERY_EXTINT && active && !masked;
        if (extint != (lapic->extint_pending != 0)) {
            lapic->extint_pending = extint;
            update_intr(lapic);
        }
        if (mode == X86_DELIVERY_EXTINT)
            return;
    }
    if (masked || !active)
        return;
    switch (mode) {
    case X86_DELIVERY_NMI:
        if (!was_active) /* NMI through LINT is edge-sensitive (10.5.1) */
            x86_lapic_accept(lapic, 0, X86_DELIVERY_NMI, false);
        break;
    case X86_DELIVERY_FIXED:
        if (*lvt & LVT_LEVEL) {
            if (!(*lvt & LVT_REMOTE_IRR)) {
                *lvt |= LVT_REMOTE_IRR;
                x86_lapic_accept(lapic, (uint8_t)*lvt, X86_DELIVERY_FIXED, true);
            }
        } else if (!was_active) {
            x86_lapic_accept(lapic, (uint8_t)*lvt, X86_DELIVERY_FIXED, false);
        }
        break;
    default:
        break; /* SMI, INIT: not modelled */
    }
}

/* ------------------------------------------------------------------ timer (10.5.4) */

static enum timer_mode timer_mode(const struct x86_lapic *lapic)
{
    return (enum timer_mode)((lapic->lvt[X86_LVT_TIMER] >> LVT_TIMER_MODE_SHIFT) & 3);
}

static uint32_t timer_divisor(const struct x86_lapic *lapic)
{
    /* Figure 10-10: bits 0, 1, 3 select 2, 4, 8, 16, 32, 64, 128 or 1 */
    static const uint32_t divisors[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };
    uint32_t c = lapic->timer_divide_config;
    return divisors[(c & 3) | ((c >> 1) & 4)];
}

uint32_t x86_lapic_timer_current(const struct x86_lapic *lapic)
{
    if (lapic->timer_initial == 0 || timer_mode(lapic) == TIMER_TSC_DEADLINE)
        return 0;
    uint64_t ticks = (now(lapic) - lapic->timer_start) / timer_divisor(lapic);
    if (timer_mode(lapic) == TIMER_PERIODIC)
        return lapic->timer_initial - (uint32_t)(ticks % lapic->timer_initial);
    return ticks >= lapic->timer_initial ? 0 : lapic->timer_initial - (uint32_t)ticks;
}

void x86_lapic_timer_event(void *context, void *opaque);

static void timer_cancel(struct x86_lapic *lapic)
{
    if (lapic->timer_event)
        x86_events_cancel(lapic->events, lapic->timer_event);
    lapic->timer_event = 0;
}

/* Schedule the next expiry from the absolute start: periods never drift. */
static void timer_arm(struct x86_lapic *lapic)
{
    timer_cancel(lapic);
    uint64_t at;
    if (timer_mode(lapic) == TIMER_TSC_DEADLINE) {
        if (lapic->tsc_deadline == 0)
            return;
        uint64_t tsc_now = x86_tsc(core(lapic));
        at = lapic->tsc_deadline <= tsc_now ? now(lapic)
                                            : lapic->tsc_deadline - core(lapic)->tsc_offset;
    } else {
        if (lapic->timer_initial == 0)
            return;
        uint64_t period = (uint64_t)lapic->timer_initial * timer_divisor(lapic);
        uint64_t elapsed = now(lapic) - lapic->timer_start;
        if (timer_mode(lapic) == TIMER_ONE_SHOT) {
            if (elapsed >= period)
                return; /* expired already */
            at = lapic->timer_start + period;
        } else {
            at = lapic->timer_start + (elapsed / period + 1) * period;
        }
    }
    lapic->timer_event = x86_events_schedule(lapic->events, at, x86_lapic_timer_event, lapic);
}

void x86_lapic_timer_event(void *context, void *opaque)
{
    (void)context;
    struct x86_lapic *lapic = opaque;
    lapic->timer_event = 0;
    uint32_t lvt = lapic->lvt[X86_LVT_TIMER];
    x86_trace_device(lapic->trace, lapic->cpu, (uint8_t)lvt, 0, "local APIC timer");
    if (timer_mode(lapic) == TIMER_TSC_DEADLINE)
        lapic->tsc_deadline = 0; /* one expiry per write (10.5.4.1) */
    if (!(lvt & LVT_MASK))
        x86_lapic_accept(lapic, (uint8_t)lvt, X86_DELIVERY_FIXED, false);
    if (timer_mode(lapic) == TIMER_PERIODIC)
        timer_arm(lapic);
}

/* ------------------------------------------------------------------ ICR (10.6.1) */

static void send_ipi(struct x86_lapic *lapic, uint32_t low, uint32_t destination)
{
    uint8_t vector = (uint8_t)low;
    enum x86_delivery_mode mode = (enum x86_delivery_mode)((low >> 8) & 7);
    bool assert_level = low & 0x4000;
    bool level_trigger = low & 0x8000;
    if (mode == X86_DELIVERY_INIT && level_trigger && !assert_level)
        return; /* INIT level de-assert: a synchronisation message, nothing to deliver */
    if ((mode == X86_DELIVERY_FIXED || mode == X86_DELIVERY_LOWEST) && vector < 16) {
        record_error(lapic, ESR_SEND_ILLEGAL_VECTOR);
        return;
    }
    struct x86_apic_message m = {
        .destination = destination, .vector = vector, .delivery_mode = (uint8_t)mode,
        .logical = (low & 0x800) != 0, .level = level_trigger && mode <= X86_DELIVERY_LOWEST,
        .shorthand = (uint8_t)((low >> 18) & 3), .x2apic = x2apic_mode(lapic),
        .source = (int8_t)lapic->cpu->index,
    };
    x86_apic_bus_send(lapic->apic_bus, &m, now(lapic));
}

/* ------------------------------------------------------------------ registers */

/* Register indices are offset >> 4 (xAPIC) or MSR - 0x800 (x2APIC): SDM Table 10-1, 10-6 */
enum reg {
    REG_ID = 0x02, REG_VERSION = 0x03, REG_TPR = 0x08, REG_APR = 0x09, REG_PPR = 0x0A,
    REG_EOI = 0x0B, REG_RRD = 0x0C, REG_LDR = 0x0D, REG_DFR = 0x0E, REG_SVR = 0x0F,
    REG_ISR0 = 0x10, REG_TMR0 = 0x18, REG_IRR0 = 0x20, REG_ESR = 0x28, REG_ICR_LOW = 0x30,
    REG_ICR_HIGH = 0x31, REG_LVT0 = 0x32, REG_TIMER_INITIAL = 0x38, REG_TIMER_CURRENT = 0x39,
    REG_TIMER_DIVIDE = 0x3E, REG_SELF_IPI = 0x3F, REG_COUNT = 0x40
};

/* Access rules per register: readable, writable, in which mode */
#define R_XAPIC 0x01u
#define W_XAPIC 0x02u
#define R_X2APIC 0x04u
#define W_X2APIC 0x08u
#define RW_BOTH (R_XAPIC | W_XAPIC | R_X2APIC | W_X2APIC)
#define R_BOTH (R_XAPIC | R_X2APIC)
static uint8_t register_access(unsigned reg)
{
    static const uint8_t access[REG_COUNT] = {
        [REG_ID] = R_XAPIC | W_XAPIC | R_X2APIC, [REG_VERSION] = R_BOTH,
        [REG_TPR] = RW_BOTH, [REG_APR] = R_XAPIC, [REG_PPR] = R_BOTH,
        [REG_EOI] = W_XAPIC | W_X2APIC, [REG_LDR] = R_XAPIC | W_XAPIC | R_X2APIC,
        [REG_DFR] = R_XAPIC | W_XAPIC, [REG_SVR] = RW_BOTH, [REG_ESR] = RW_BOTH,
        [REG_ICR_LOW] = RW_BOTH, [REG_ICR_HIGH] = R_XAPIC | W_XAPIC,
        [REG_TIMER_INITIAL] = RW_BOTH, [REG_TIMER_CURRENT] = R_BOTH, [REG_TIMER_DIVIDE] = RW_BOTH,
        [REG_SELF_IPI] = W_X2APIC,
    };
    /* the 256-bit sets (eight registers each) and the LVT */
    if ((reg >= REG_ISR0 && reg < REG_ISR0 + 8) || (reg >= REG_TMR0 && reg < REG_TMR0 + 8) ||
        (reg >= REG_IRR0 && reg < REG_IRR0 + 8))
        return R_BOTH;
    if (reg >= REG_LVT0 && reg < REG_LVT0 + X86_LVT_COUNT)
        return RW_BOTH;
    return reg < REG_COUNT ? access[reg] : 0;
}

static uint32_t register_read(struct x86_lapic *lapic, unsigned reg)
{
    bool x2 = x2apic_mode(lapic);
    switch (reg) {
    case REG_ID: return x2 ? lapic->id : lapic->id << 24;
    case REG_VERSION: return LAPIC_VERSION;
    case REG_TPR: return lapic->tpr;
    case REG_APR: return x86_lapic_arbitration_priority(lapic); /* 10.8.3.1: what
                                                 lowest-priority arbitration compares */
    case REG_PPR: return processor_priority(lapic);
    case REG_LDR: return lapic->ldr;
    case REG_DFR: return lapic->dfr | 0x0FFFFFFFu;
    case REG_SVR: return lapic->svr;
    case REG_ESR: return lapic->esr;
    case REG_ICR_LOW: return lapic->icr_low & ~0x1000u; /* delivery status: sent at once */
    case REG_ICR_HIGH: return lapic->icr_high;
    case REG_TIMER_INITIAL: return lapic->timer_initial;
    case REG_TIMER_CURRENT: return x86_lapic_timer_current(lapic);
    case REG_TIMER_DIVIDE: return lapic->timer_divide_config;
    default:
        break;
    }
    if (reg >= REG_ISR0 && reg < REG_ISR0 + 8)
        return lapic->isr.word[reg - REG_ISR0];
    if (reg >= REG_TMR0 && reg < REG_TMR0 + 8)
        return lapic->tmr.word[reg - REG_TMR0];
    if (reg >= REG_IRR0 && reg < REG_IRR0 + 8)
        return lapic->irr.word[reg - REG_IRR0];
    if (reg >= REG_LVT0 && reg < REG_LVT0 + X86_LVT_COUNT)
        return lapic->lvt[reg - REG_LVT0];
    return 0;
}

static void write_svr(struct x86_lapic *lapic, uint32_t value)
{
    lapic->svr = value & (0xFFu | SVR_ENABLE | SVR_FOCUS_DISABLE | SVR_EOI_BROADCAST_SUPPRESSION);
    if (!software_enabled(lapic)) {
        /* software disable masks every LVT entry (10.4.7.2) */
        for (unsigned i = 0; i < X86_LVT_COUNT; i++)
            lapic->lvt[i] |= LVT_MASK;
        lapic->extint_pending = 0;
    }
    update_intr(lapic);
}

static void write_lvt(struct x86_lapic *lapic, unsigned entry, uint32_t value)
{
    uint32_t old = lapic->lvt[entry];
    uint32_t keep = old & ~lvt_writable[entry];
    value = (value & lvt_writable[entry]) | keep;
    if (!software_enabled(lapic))
        value |= LVT_MASK;
    lapic->lvt[entry] = value;
    if (entry == X86_LVT_TIMER && ((old ^ value) >> LVT_TIMER_MODE_SHIFT) & 3) {
        /* a mode change stops the timer (10.5.4.1) */
        timer_cancel(lapic);
        lapic->timer_initial = 0;
        lapic->tsc_deadline = 0;
    }
    if (entry == X86_LVT_LINT0 || entry == X86_LVT_LINT1) {
        if (!(value & LVT_LEVEL))
            lapic->lvt[entry] &= ~LVT_REMOTE_IRR;
        /* re-evaluate the pin: an unmasked ExtINT with the 8259's INT high is an INTR now */
        unsigned pin = entry - X86_LVT_LINT0;
        uint8_t level = lapic->lint_level[pin];
        lapic->lint_level[pin] = 0;
        if (pin == 0)
            lapic->extint_pending = 0;
        x86_lapic_set_lint(lapic, pin, level);
        update_intr(lapic);
    }
}

/* CR8 is the TPR's priority class (SDM Vol. 3 10.8.6.1): a write sets TPR[7:4] and clears
 * TPR[3:0], a read gives TPR[7:4] */
uint8_t x86_lapic_cr8(const struct x86_lapic *lapic)
{
    return (uint8_t)((lapic->tpr >> 4) & 0xF);
}

void x86_lapic_set_cr8(struct x86_lapic *lapic, uint8_t value)
{
    lapic->tpr = (uint32_t)(value & 0xF) << 4;
    update_intr(lapic);
}

/* false: the register does not exist or does not take writes in this mode */
static bool register_write(struct x86_lapic *lapic, unsigned reg, uint64_t value)
{
    uint32_t v = (uint32_t)value;
    switch (reg) {
    case REG_ID: lapic->id = v >> 24; return true;
    case REG_TPR: lapic->tpr = v & 0xFF; update_intr(lapic); return true;
    case REG_EOI: end_of_interrupt(lapic); return true;
    case REG_LDR: lapic->ldr = v & 0xFF000000u; return true;
    case REG_DFR: lapic->dfr = v | 0x0FFFFFFFu; return true;
    case REG_SVR: write_svr(lapic, v); return true;
    case REG_ESR:
        /* write-before-read: a write latches the errors since the last one (10.5.3) */
        lapic->esr = lapic->esr_pending;
        lapic->esr_pending = 0;
        return true;
    case REG_ICR_LOW:
        lapic->icr_low = v & 0x000CCFFFu;
        if (x2apic_mode(lapic)) {
            lapic->icr_high = (uint32_t)(value >> 32);
            send_ipi(lapic, v, lapic->icr_high);
        } else {
            send_ipi(lapic, v, lapic->icr_high >> 24);
        }
        return true;
    case REG_ICR_HIGH: lapic->icr_high = v & 0xFF000000u; return true;
    case REG_TIMER_INITIAL:
        if (timer_mode(lapic) == TIMER_TSC_DEADLINE)
            return true; /* ignored in TSC-deadline mode */
        lapic->timer_initial = v;
        lapic->timer_start = now(lapic);
        timer_arm(lapic);
        return true;
    case REG_TIMER_DIVIDE: {
        /* keep the current count continuous across a divisor change: restart from it */
        uint32_t current = x86_lapic_timer_current(lapic);
        lapic->timer_divide_config = v & 0xB;
        if (lapic->timer_initial && timer_mode(lapic) != TIMER_TSC_DEADLINE && current) {
            uint64_t done = (uint64_t)(lapic->timer_initial - current) * timer_divisor(lapic);
            lapic->timer_start = now(lapic) - done;
            timer_arm(lapic);
        }
        return true;
    }
    case REG_SELF_IPI:
        send_ipi(lapic, (v & 0xFF) | (1u << 18), 0);
        return true;
    default:
        break;
    }
    if (reg >= REG_LVT0 && reg < REG_LVT0 + X86_LVT_COUNT) {
        write_lvt(lapic, reg - REG_LVT0, v);
        return true;
    }
    return false; /* read-only registers */
}

uint64_t x86_lapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_lapic *lapic = opaque;
    unsigned reg = (unsigned)(offset >> 4);
    if (!x86_lapic_enabled(lapic) || x2apic_mode(lapic))
        return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; /* closed (10.12.1.2): open bus */
    if ((offset & 0xF) || size != 4 || !(register_access(reg) & R_XAPIC)) {
        /* registers are 32 bits at 16-byte alignment; anything else: illegal register */
        if (!(register_access(reg) & R_XAPIC))
            record_error(lapic, ESR_ILLEGAL_REGISTER);
        if (!(register_access(reg) & R_XAPIC) || (offset & 0xF) >= 4)
            return 0;
        /* a narrow read inside a register: its bytes */
        uint32_t value = register_read(lapic, reg);
        return (value >> (8 * (offset & 3))) & (size >= 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1));
    }
    return register_read(lapic, reg);
}

void x86_lapic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_lapic *lapic = opaque;
    unsigned reg = (unsigned)(offset >> 4);
    if (!x86_lapic_enabled(lapic) || x2apic_mode(lapic))
        return;
    if ((offset & 0xF) || size != 4 || !(register_access(reg) & W_XAPIC)) {
        if (!(register_access(reg) & (R_XAPIC | W_XAPIC)))
            record_error(lapic, ESR_ILLEGAL_REGISTER);
        return;
    }
    register_write(lapic, reg, (uint32_t)value);
}

/* ------------------------------------------------------------------ MSRs */

#define MSR_IA32_APIC_BASE 0x1Bu
#define MSR_IA32_TSC_DEADLINE 0x6E0u
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8FFu

bool x86_lapic_read_msr(struct x86_lapic *lapic, uint32_t msr, uint64_t *value)
{
    if (msr == MSR_IA32_APIC_BASE) {
        *value = lapic->apic_base;
        return true;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        *value = timer_mode(lapic) == TIMER_TSC_DEADLINE ? lapic->tsc_deadline : 0;
        return true;
    }
    if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !x2apic_mode(lapic))
        return false;
    unsigned reg = msr - MSR_X2APIC_FIRST;
    if (!(register_access(reg) & R_X2APIC))
        return false;
    *value = register_read(lapic, reg);
    if (reg == REG_ICR_LOW)
        *value |= (uint64_t)lapic->icr_high << 32; /* the ICR is one 64-bit MSR */
    return true;
}

static void set_apic_base(struct x86_lapic *lapic, uint64_t value);

bool x86_lapic_write_msr(struct x86_lapic *lapic, uint32_t msr, uint64_t value)
{
    if (msr == MSR_IA32_APIC_BASE) {
        /* reserved bits, and the transitions SDM Vol. 3 10.12.5 forbids, fault */
        if (value & ~(APIC_BASE_ADDRESS_MASK | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP))
            return false;
        bool en = value & APIC_BASE_EN, extd = value & APIC_BASE_EXTD;
        if (extd && !en)
            return false;
        if (x2apic_mode(lapic) && en && !extd)
            return false; /* x2APIC -> xAPIC must go through disabled */
        set_apic_base(lapic, value);
        return true;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        if (timer_mode(lapic) == TIMER_TSC_DEADLINE) {
            lapic->tsc_deadline = value;
            timer_arm(lapic);
        }
        return true; /* ignored in the other timer modes */
    }
    if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !x2apic_mode(lapic))
        return false;
    unsigned reg = msr - MSR_X2APIC_FIRST;
    if (!(register_access(reg) & W_X2APIC))
        return false;
    if (reg == REG_EOI && value != 0)
        return false; /* x2APIC EOI takes only 0 (10.12.1.2) */
    if (reg != REG_ICR_LOW && (value >> 32))
        return false; /* reserved upper half */
    return register_write(lapic, reg, value);
}

/* ------------------------------------------------------------------ reset, base */

static void reset_registers(struct x86_lapic *lapic)
{
    timer_cancel(lapic);
    lapic->tpr = 0;
    lapic->ldr = 0;
    lapic->dfr = 0xFFFFFFFFu;
    lapic->svr = 0xFF;
    lapic->icr_low = lapic->icr_high = 0;
    lapic->esr = lapic->esr_pending = 0;
    for (unsigned i = 0; i < X86_LVT_COUNT; i++)
        lapic->lvt[i] = LVT_MASK;
    memset(&lapic->irr, 0, sizeof(lapic->irr));
    memset(&lapic->isr, 0, sizeof(lapic->isr));
    memset(&lapic->tmr, 0, sizeof(lapic->tmr));
    lapic->timer_initial = 0;
    lapic->timer_divide_config = 0;
    lapic->timer_start = 0;
    lapic->tsc_deadline = 0;
    lapic->lint_remote_irr[0] = lapic->lint_remote_irr[1] = 0;
    lapic->extint_pending = 0;
    lapic->extint_message = 0;
}

static void set_apic_base(struct x86_lapic *lapic, uint64_t value)
{
    uint64_t old = lapic->apic_base;
    lapic->apic_base = value;
    if (!(value & APIC_BASE_EN) && (old & APIC_BASE_EN))
        reset_registers(lapic); /* a globally disabled APIC loses its state (10.4.3) */
    if ((value ^ old) & APIC_BASE_EXTD && (value & APIC_BASE_EXTD)) {
        /* entering x2APIC mode: the logical ID derives from the APIC ID (10.12.10.2) */
        lapic->ldr = ((lapic->id >> 4) << 16) | (1u << (lapic->id & 0xF));
    }
    if (((value ^ old) & (APIC_BASE_ADDRESS_MASK | APIC_BASE_EN | APIC_BASE_EXTD)) &&
        lapic->base_changed)
        lapic->base_changed(lapic->opaque, lapic);
    /* LINT0/LINT1 change meaning between enabled (LVT) and disabled (INTR/NMI pins) */
    lapic->extint_pending = 0;
    x86_lapic_set_lint(lapic, 0, lapic->lint_level[0]);
    update_intr(lapic);
}

void x86_lapic_init(struct x86_lapic *lapic, struct x86_cpu *cpu, uint32_t id)
{
    memset(lapic, 0, sizeof(*lapic));
    lapic->cpu = cpu;
    lapic->id = id;
    x86_lapic_reset(lapic);
}

void x86_lapic_reset(struct x86_lapic *lapic)
{
    reset_registers(lapic);
    lapic->pending_count = 0;
    lapic->apic_base = X86_LAPIC_DEFAULT_BASE | APIC_BASE_EN | (lapic->id == 0 ? APIC_BASE_BSP : 0);
}

void x86_lapic_init_signal(struct x86_lapic *lapic)
{
    reset_registers(lapic);
    update_intr(lapic);
}

void x86_lapic_virtual_wire(struct x86_lapic *lapic)
{
    write_svr(lapic, SVR_ENABLE | 0xFF);
    write_lvt(lapic, X86_LVT_LINT0, (uint32_t)X86_DELIVERY_EXTINT << 8);
    write_lvt(lapic, X86_LVT_LINT1, (uint32_t)X86_DELIVERY_NMI << 8);
}

