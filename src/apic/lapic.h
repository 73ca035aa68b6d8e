/* The local APIC of a core (SDM Vol. 3 chapter 10): xAPIC registers at MMIO 0xFEE00000
 * (relocatable through IA32_APIC_BASE; the board maps the window to the accessing core's
 * LAPIC) and x2APIC through the MSRs 0x800-0x8FF; IRR, ISR and TMR as 256-bit sets; TPR, APR,
 * PPR; EOI with the broadcast to the IOAPIC; the LVT; the timer in one-shot, periodic and
 * TSC-deadline modes, exact in cycles; the ICR, whose IPIs go out on the APIC bus
 * (apic_bus.h) with every delivery mode; the ESR.
 *
 * The LAPIC drives its core's INTR line: a fixed interrupt in IRR whose priority class is
 * above PPR, or an ExtINT request (LINT0 with the 8259's output in virtual-wire mode, or an
 * ExtINT message). When it is disabled in IA32_APIC_BASE, LINT0 is the INTR pin and LINT1 the
 * NMI pin (SDM Vol. 3 10.4.3). NMI, INIT and SIPI messages act on the core itself.
 */
#ifndef X86IRQ_APIC_LAPIC_H
#define X86IRQ_APIC_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "x86irq/x86irq.h"
#include "apic/apic_bus.h"

struct x86_cpu;
struct x86_event_queue;
struct x86_trace;

#define X86_LAPIC_DEFAULT_BASE 0xFEE00000u

/* LVT entries, in register order 0x320-0x370 (SDM Vol. 3 Figure 10-8) */
enum x86_lapic_lvt { X86_LVT_TIMER, X86_LVT_THERMAL, X86_LVT_PERFORMANCE, X86_LVT_LINT0,
                     X86_LVT_LINT1, X86_LVT_ERROR, X86_LVT_COUNT };

/* Delivery modes (ICR, LVT, IOAPIC redirection entries share the encoding) */
enum x86_delivery_mode { X86_DELIVERY_FIXED = 0, X86_DELIVERY_LOWEST = 1, X86_DELIVERY_SMI = 2,
                         X86_DELIVERY_NMI = 4, X86_DELIVERY_INIT = 5, X86_DELIVERY_STARTUP = 6,
                         X86_DELIVERY_EXTINT = 7 };

/* A 256-bit vector set (IRR, ISR, TMR) with a summary of its non-empty words, so the highest
 * vector is two bit scans */
struct x86_vector_set {
    uint32_t word[8];
    uint32_t summary;
};

/* messages for a core still behind their send cycle (apic_bus.h) */
#define X86_LAPIC_PENDING 32
struct x86_apic_pending {
    uint64_t time;
    struct x86_apic_message message;
};

struct x86_lapic {
    /* its core and what it reaches (set by x86_lapic_init and the board) */
    struct x86_cpu *cpu;
    struct x86_apic_bus *apic_bus;
    struct x86_event_queue *events;
    struct x86_trace *trace;
    /* the INTA cycle on the external bus: the 8259's vector (or the embedder's), -1 none */
    int (*extint_acknowledge)(void *opaque);
    /* IA32_APIC_BASE moved or closed the MMIO window (the board maps it) */
    void (*base_changed)(void *opaque, struct x86_lapic *lapic);
    void *opaque;

    uint64_t apic_base;       /* IA32_APIC_BASE: base address, EN (bit 11), EXTD (bit 10), BSP */
    uint32_t id;              /* the APIC ID (xAPIC: bits 31:24 of the register) */
    uint32_t tpr, ldr, dfr, svr, icr_low, icr_high;
    uint32_t esr_pending;     /* errors since the last ESR write */
    uint32_t esr;             /* what ESR reads: latched by the last write */
    uint32_t lvt[X86_LVT_COUNT];
    struct x86_vector_set irr, isr, tmr;
    /* timer */
    uint32_t timer_initial, timer_divide_config;
    uint64_t timer_start;     /* cycle at which the current count equalled timer_initial */
    uint64_t timer_event;     /* pending event id, 0 if none */
    uint64_t tsc_deadline;
    /* the LINT pins' levels (LINT0: the 8259's output and the embedder's INTR) */
    uint8_t lint_level[2];
    uint8_t lint_remote_irr[2]; /* a level-triggered fixed LINT interrupt in service */
    uint8_t extint_pending;     /* LINT0 in ExtINT mode is asserted */
    uint8_t extint_message;     /* an ExtINT message (from the IOAPIC) waits for its INTA */
    struct x86_apic_pending pending[X86_LAPIC_PENDING]; /* by time, then arrival */
    unsigned pending_count;
};

/* The LAPIC of cpu, APIC ID id (0 is the bootstrap processor's), in its power-on state. The
 * board then sets apic_bus, events, trace and the callbacks. */
void x86_lapic_init(struct x86_lapic *lapic, struct x86_cpu *cpu, uint32_t id);
/* Power-on / reset state (SDM Vol. 3 10.4.7.1), at the default base, enabled, software-disabled
 * (SVR bit 8 clear), every LVT entry masked; BSP set in IA32_APIC_BASE for APIC ID 0. */
void x86_lapic_reset(struct x86_lapic *lapic);
/* INIT: the registers as at power-up, keeping the APIC ID and IA32_APIC_BASE (10.4.7.3). */
void x86_lapic_init_signal(struct x86_lapic *lapic);
/* The register state a PC BIOS leaves for the OS (as SeaBIOS under QEMU does): software
 * enabled, LINT0 ExtINT (virtual wire to the 8259), LINT1 NMI. */
void x86_lapic_virtual_wire(struct x86_lapic *lapic);

/* An interrupt for this LAPIC (an LVT entry, or a message the bus resolved to it): vector,
 * delivery mode, level-triggered or not. */
void x86_lapic_accept(struct x86_lapic *lapic, uint8_t vector, enum x86_delivery_mode mode,
                      bool level_triggered);
/* A message from the bus sent at cycle time: taken now if the core is there (or past it),
 * else kept until the core gets there (x86_lapic_deliver_due). */
void x86_lapic_receive(struct x86_lapic *lapic, const struct x86_apic_message *message,
                       uint64_t time);
/* Take the kept messages whose time the core has reached; returns the time of the next kept
 * one (UINT64_MAX: none): the core's slice must end there. */
uint64_t x86_lapic_deliver_due(struct x86_lapic *lapic);
/* Does a destination (physical or logical) name this LAPIC? x2apic_form: a 32-bit x2APIC
 * destination (else the 8-bit xAPIC form). */
bool x86_lapic_matches(const struct x86_lapic *lapic, uint32_t destination, bool logical,
                       bool x2apic_form);
/* The arbitration priority (APR) that lowest-priority arbitration compares (SDM Vol. 3
 * 10.6.2.4, 10.8.3.1) */
uint32_t x86_lapic_arbitration_priority(const struct x86_lapic *lapic);
/* A LINT pin's level changed. */
void x86_lapic_set_lint(struct x86_lapic *lapic, unsigned pin, int level);

/* INTR as the LAPIC drives it, and the INTA cycle: the vector moved from IRR to ISR, an ExtINT
 * vector from the 8259 (or the embedder), or the spurious vector (SDM Vol. 3 10.9); with the
 * APIC disabled, LINT0's INTA goes straight to the 8259. -1: nothing to take any more. */
bool x86_lapic_intr(const struct x86_lapic *lapic);
int x86_lapic_acknowledge(struct x86_lapic *lapic);
/* Would the LAPIC take a fixed or lowest-priority interrupt now (globally and software
 * enabled)? Lowest-priority arbitration leaves out those that would not. */
bool x86_lapic_accepts_fixed(const struct x86_lapic *lapic);
/* Globally enabled (IA32_APIC_BASE.EN)? */
static inline bool x86_lapic_enabled(const struct x86_lapic *lapic)
{
    return (lapic->apic_base >> 11) & 1;
}
/* The MMIO window's base while it is open (enabled, xAPIC mode: EN set, EXTD clear), else 0;
 * inline: every LAPIC register access asks it */
static inline uint32_t x86_lapic_window(const struct x86_lapic *lapic)
{
    if ((lapic->apic_base & 0xC00u) != 0x800u)
        return 0;
    return (uint32_t)(lapic->apic_base & 0xFFFFF000u); /* 32-bit physical addresses here */
}

/* MSRs: IA32_APIC_BASE (0x1B), IA32_TSC_DEADLINE (0x6E0), x2APIC 0x800-0x8FF. false: not an
 * APIC MSR or not accessible now (the caller raises #GP(0)). */
bool x86_lapic_read_msr(struct x86_lapic *lapic, uint32_t msr, uint64_t *value);
/* CR8 in 64-bit mode: the TPR's priority class */
uint8_t x86_lapic_cr8(const struct x86_lapic *lapic);
void x86_lapic_set_cr8(struct x86_lapic *lapic, uint8_t value);
bool x86_lapic_write_msr(struct x86_lapic *lapic, uint32_t msr, uint64_t value);

/* xAPIC MMIO callbacks (offset from the base) */
uint64_t x86_lapic_mmio_read(void *opaque, uint64_t offset, unsigned size);
void x86_lapic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

/* The timer's current count at the present cycle */
uint32_t x86_lapic_timer_current(const struct x86_lapic *lapic);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_lapic_timer_event(void *context, void *opaque);

#endif
