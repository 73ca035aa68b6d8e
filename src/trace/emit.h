/* Typed trace emitters: one call per stage of an interrupt's way, each named for its kind and
 * taking only what that kind carries. Nobody subscribed costs the one mask test inlined here;
 * the event is built and reported out of line (events.c). The running core fills cycle, CS,
 * EIP and CPL unless an emitter names the core (_on: a LAPIC's event while another runs). */
#ifndef X86IRQ_TRACE_EMIT_H
#define X86IRQ_TRACE_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/events.h"

#if defined(__GNUC__)
#define X86_TRACE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define X86_TRACE_UNLIKELY(x) (x)
#endif

/* The sources an ACCEPT names (the event's line) */
enum x86_accept_source { X86_ACCEPT_LAPIC = 0, X86_ACCEPT_8259 = 1, X86_ACCEPT_EMBEDDER = 2,
                         X86_ACCEPT_NMI = 3 };
/* Who ended an interrupt (an EOI's line) */
enum x86_eoi_source { X86_EOI_LAPIC = 0, X86_EOI_8259 = 1 };
/* The line of a ROUTE event that came as an MSI */
#define X86_ROUTE_MSI 0xFFFFu

static inline void x86_trace_send(struct x86_trace *t, struct x86_cpu *on,
                                  x86irq_trace_event e)
{
    if (on)
        x86_trace_emit_on(t, on, &e);
    else
        x86_trace_emit(t, &e);
}

/* A platform interrupt line (a GSI) changed level */
static inline void x86_trace_line(struct x86_trace *t, unsigned gsi, bool level)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){ .kind = X86IRQ_TRACE_LINE, .line = gsi,
                                                      .level = level });
}
/* The IOAPIC sent pin's entry as vector */
static inline void x86_trace_route_pin(struct x86_trace *t, unsigned pin, uint8_t vector,
                                       bool level)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){ .kind = X86IRQ_TRACE_ROUTE, .line = pin,
                                                      .vector = vector, .level = level });
}
/* A PCI function's MSI reached the APIC bus */
static inline void x86_trace_route_msi(struct x86_trace *t, uint8_t vector, bool level)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){ .kind = X86IRQ_TRACE_ROUTE,
                                                      .line = X86_ROUTE_MSI, .vector = vector,
                                                      .level = level });
}
/* The 8259 raised its INT for irq (the vector comes with the INTA) */
static inline void x86_trace_route_8259(struct x86_trace *t, unsigned irq)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){ .kind = X86IRQ_TRACE_ROUTE, .line = irq,
                                                      .level = 1 });
}
/* A LAPIC latched vector in IRR */
static inline void x86_trace_irr(struct x86_trace *t, struct x86_cpu *on, uint8_t vector,
                                 bool level)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, on, (x86irq_trace_event){ .kind = X86IRQ_TRACE_IRR, .vector = vector,
                                                    .level = level });
}
/* Where an NMI came from (an NMI event's line) */
enum x86_nmi_source { X86_NMI_INPUT = 0, X86_NMI_LAPIC = 1 };
/* An NMI reached core `on`, before it latches it: blocked (a handler in service: it waits for
 * the IRET), lost (one is latched already) */
static inline void x86_trace_nmi(struct x86_trace *t, struct x86_cpu *on,
                                 enum x86_nmi_source source, bool blocked, bool lost)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, on, (x86irq_trace_event){ .kind = X86IRQ_TRACE_NMI, .vector = 2,
                                                    .line = source, .level = blocked,
                                                    .error_code = lost,
                                                    .origin = X86IRQ_ORIGIN_NMI });
}
/* The running core took an interrupt (an INTA or the NMI) */
static inline void x86_trace_accept(struct x86_trace *t, uint8_t vector,
                                    enum x86_accept_source source)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){
            .kind = X86IRQ_TRACE_ACCEPT, .vector = vector, .line = source,
            .origin = source == X86_ACCEPT_NMI ? X86IRQ_ORIGIN_NMI : X86IRQ_ORIGIN_HARDWARE });
}
/* The running core detected an exception (or executed int n): origin x86irq_event_origin */
static inline void x86_trace_exception(struct x86_trace *t, uint8_t vector, uint8_t origin,
                                       uint64_t eip, bool has_error_code, uint32_t error_code)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){
            .kind = X86IRQ_TRACE_EXCEPTION, .vector = vector, .origin = origin, .eip = eip,
            .has_error_code = has_error_code, .error_code = error_code });
}
/* Two faults made a #DF (first: the first one's vector); a triple fault shut the core down */
static inline void x86_trace_double_fault(struct x86_trace *t, uint8_t first)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){ .kind = X86IRQ_TRACE_DOUBLE_FAULT,
                                                      .vector = first });
}
static inline void x86_trace_shutdown(struct x86_trace *t, uint8_t vector)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){ .kind = X86IRQ_TRACE_SHUTDOWN,
                                                      .vector = vector });
}
/* The handler's first instruction is next */
static inline void x86_trace_handler(struct x86_trace *t)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, NULL, (x86irq_trace_event){ .kind = X86IRQ_TRACE_HANDLER });
}
/* An EOI for vector (on: the LAPIC's core, NULL: the running one) */
static inline void x86_trace_eoi(struct x86_trace *t, struct x86_cpu *on, uint8_t vector,
                                 enum x86_eoi_source source)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, on, (x86irq_trace_event){ .kind = X86IRQ_TRACE_EOI, .vector = vector,
                                                    .line = source });
}
/* A device's timed event or input (detail: static text naming it) */
static inline void x86_trace_device(struct x86_trace *t, struct x86_cpu *on, uint8_t vector,
                                    uint32_t line, const char *detail)
{
    if (X86_TRACE_UNLIKELY(t->mask))
        x86_trace_send(t, on, (x86irq_trace_event){ .kind = X86IRQ_TRACE_DEVICE,
                                                    .vector = vector, .line = line,
                                                    .detail = detail });
}

#endif
