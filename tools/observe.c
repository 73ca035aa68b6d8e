/* The CLI's observability sinks (see observe.h). Everything is computed from the event stream,
 * in cycles; nothing reads host time, so two runs print the same bytes. */
#include "observe.h"

#include "color.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <x86irq/exceptions.h>

#define MAX_DEPTH 64

enum metric { ASSERT_TO_ACCEPT, ACCEPT_TO_ENTRY, ENTRY_TO_EOI, ENTRY_TO_IRET, METRIC_COUNT };
static const char *const metric_names[METRIC_COUNT] = {
    "assert->accept", "accept->entry", "entry->EOI", "entry->IRET",
};
enum context { PROCESS, INTERRUPT, EXCEPTION, CONTEXT_COUNT };
static const char *const context_names[CONTEXT_COUNT] = {
    "process context", "interrupt context (IRQ, NMI)", "exception context",
};

struct samples {
    uint64_t *v;
    size_t n, capacity;
};

struct frame {
    uint8_t vector, origin;
    uint8_t entry_cpu;       /* the core whose clock entry_cycle (and accept_cycle) is on */
    uint8_t track_cpu;       /* the core whose track holds its slice (moves with the thread) */
    uint8_t kind;            /* enum timeline_kind: what the picture colours it as */
    bool entered, eoi_done;
    uint64_t handler_eip;    /* to name its slice again when the thread moves to another core */
    uint64_t accept_cycle;   /* 0: not an interrupt, or no acceptance seen */
    uint64_t entry_cycle;
    uint64_t flow;           /* Perfetto flow id ending at the entry, 0 none */
    uint64_t flow_cycle;     /* ... and where it starts: the line's assertion */
};

/* A guest thread (the library's SWITCH events name them; one per core without them): its
 * events in service and its phase, and its tracks on the timeline (interrupts, phases). A
 * thread is not a core: Linux moves a thread preempted inside a handler to another CPU, and
 * its IRET comes there. */
struct thread {
    uint64_t id;             /* a 64-bit kernel's task pointer, or what the guest names it */
    struct frame stack[MAX_DEPTH];
    unsigned depth;          /* may exceed MAX_DEPTH: deeper frames are counted only */
    unsigned phase;
    uint8_t phase_cpu;       /* the core whose phase track holds its open phase slice */
    uint8_t left_cpu;        /* where and when it last stopped running (a SWITCH away) */
    uint64_t left_cycle;
    uint64_t named;          /* its tracks' names are in the timeline: a bit per core */
};

/* What one core has: the thread it runs, the interrupts on their way to it, its own clock.
 * Cores run in rounds, so events of different cores interleave with cycles that go back and
 * forth; each core's own events are in order. Everything paired here is paired on one core. */
#define MAX_PINS 64 /* IOAPIC pins counted (the board's IOAPIC has 24) */

struct core {
    unsigned initial;        /* the thread it ran before the guest named one */
    unsigned current;        /* threads[current] runs on it */
    uint64_t clock;          /* its latest event's cycle */
    /* interrupts on their way */
    uint64_t irr_cycle[256];
    uint64_t flow_of_vector[256];
    uint64_t flow_cycle_of_vector[256];
    int8_t irr_pin[256];     /* the IOAPIC pin whose message set the IRR bit, -1 none */
    int8_t accept_pin;       /* ... and of the interrupt being accepted */
    uint64_t last_line_cycle, last_line_flow;
    uint8_t last_line_kind;  /* a device's line or the local APIC timer (timeline_kind) */
    uint8_t irr_kind[256];   /* ... for each vector in IRR, or an IPI */
    uint8_t pending_accept_kind;
    bool line_unconsumed;
    uint64_t pending_accept_cycle;
    uint64_t pending_accept_flow, pending_accept_flow_cycle;
    bool nmi_waiting;        /* an NMI is latched, since nmi_cycle */
    uint64_t nmi_cycle;
    int pending_accept_vector;
    unsigned pending_irr;
    uint64_t last_accept_cycle;
    /* statistics */
    uint64_t count[256];
    uint64_t context_cycles[CONTEXT_COUNT];
    uint64_t context_since;
    uint64_t phase_since;
    bool started;            /* has its initial thread */
    bool named;              /* its process name is in the timeline (several cores) */
};

struct observer {
    x86irq_machine *machine;
    struct observe_options o;
    unsigned cpus;           /* x86irq_cpu_count: with more than one, the sinks name the core */
    unsigned core_span;      /* cores 0..core_span-1 have state (events may name more) */
    struct core *cores;      /* X86IRQ_MAX_CPUS of them */
    struct thread *threads;
    unsigned thread_count, thread_capacity;
    unsigned max_depth;
    /* statistics */
    uint64_t count[256];
    /* deliveries by IOAPIC pin, per core (as /proc/interrupts counts an IRQ): a vector is not
     * an IRQ, since Linux reuses vectors and gives each CPU its own vector table */
    uint64_t pin_count[MAX_PINS][X86IRQ_MAX_CPUS];
    uint64_t pin_vectors[MAX_PINS][4]; /* which vectors each pin came as */
    uint64_t vector_pins[256];         /* and which pins each vector came from */
    int8_t routed_pin[256];            /* the pin of the vector's latest message, -1 none */
    bool routed[256];                  /* the vector came from the IOAPIC or an MSI */
    uint64_t interrupts;               /* hardware interrupts and NMIs delivered */
    struct samples samples[256][METRIC_COUNT];
    uint64_t dropped;        /* spans whose ends are on two cores' clocks (a thread moved), or
                                that would be negative: not samples */
    /* phases (the guest's markers, phase symbols) */
    bool phases_seen;
    uint64_t phase_cycles[X86IRQ_PHASE_COUNT];
    uint64_t phase_entries[X86IRQ_PHASE_COUNT];
    struct samples phase_latency[X86IRQ_PHASE_COUNT]; /* the last acceptance -> phase entry */
    /* sinks */
    bool json_first;
    uint64_t next_flow;
    unsigned rules_fired;
    uint64_t switches;       /* thread switches seen */
};

static void add_sample(struct samples *s, uint64_t value)
{
    if (s->n == s->capacity) {
        size_t c = s->capacity ? s->capacity * 2 : 64;
        uint64_t *bigger = realloc(s->v, c * sizeof(*bigger));
        if (!bigger)
            return; /* statistics lose a sample rather than the run */
        s->v = bigger;
        s->capacity = c;
    }
    s->v[s->n++] = value;
}

/* A latency from one event to a later one of the same core. Both ends are on one clock by
 * construction; a span that would still be negative (clocks of two cores met somewhere) is
 * dropped and counted, never stored as a huge unsigned number. */
static void span(struct samples *s, struct observer *ob, uint64_t from, uint64_t to)
{
    if (to < from) {
        ob->dropped++;
        return;
    }
    add_sample(s, to - from);
}

static void sample(struct observer *ob, unsigned vector, enum metric m, uint64_t from,
                   uint64_t to)
{
    span(&ob->samples[vector & 0xFF][m], ob, from, to);
}

/* A new thread in process context; UINT32_MAX when out of memory */
static unsigned new_thread(struct observer *ob, uint64_t id)
{
    if (ob->thread_count == ob->thread_capacity) {
        unsigned capacity = ob->thread_capacity * 2;
        struct thread *bigger = realloc(ob->threads, capacity * sizeof(*bigger));
        if (!bigger)
            return UINT32_MAX;
        ob->threads = bigger;
        ob->thread_capacity = capacity;
    }
    memset(&ob->threads[ob->thread_count], 0, sizeof(ob->threads[0]));
    ob->threads[ob->thread_count].id = id;
    return ob->thread_count++;
}

/* The core an event names, given its initial thread the first time (as the library does:
 * an unnamed thread per core) */
static unsigned core_of(struct observer *ob, const x86irq_trace_event *e)
{
    unsigned c = e->core < X86IRQ_MAX_CPUS ? e->core : 0;
    struct core *k = &ob->cores[c];
    if (!k->started) {
        unsigned t = new_thread(ob, 0);
        k->initial = k->current = t == UINT32_MAX ? 0 : t; /* out of memory: core 0's */
        k->started = true;
        k->pending_accept_vector = -1;
        memset(k->irr_pin, -1, sizeof(k->irr_pin));
        k->accept_pin = -1;
        if (c >= ob->core_span)
            ob->core_span = c + 1;
    }
    return c;
}

/* the thread a core runs */
static struct thread *running(const struct observer *ob, unsigned cpu)
{
    return &ob->threads[ob->cores[cpu].current];
}

static enum context context_of(const struct observer *ob, unsigned cpu)
{
    const struct thread *th = running(ob, cpu);
    if (th->depth == 0)
        return PROCESS;
    const struct frame *top = &th->stack[(th->depth <= MAX_DEPTH ? th->depth : MAX_DEPTH) - 1];
    return top->origin == X86IRQ_ORIGIN_HARDWARE || top->origin == X86IRQ_ORIGIN_NMI
               ? INTERRUPT : EXCEPTION;
}

/* the time since the core's last change of context, on its own clock */
static void account_context(struct observer *ob, unsigned cpu, uint64_t cycle)
{
    struct core *k = &ob->cores[cpu];
    if (cycle > k->context_since)
        k->context_cycles[context_of(ob, cpu)] += cycle - k->context_since;
    k->context_since = cycle;
}

/* the time since the core's last phase change, to the phase of the thread it runs */
static void account_phase(struct observer *ob, unsigned cpu, uint64_t cycle)
{
    struct core *k = &ob->cores[cpu];
    if (cycle > k->phase_since)
        ob->phase_cycles[running(ob, cpu)->phase] += cycle - k->phase_since;
    k->phase_since = cycle;
}

/* ------------------------------------------------------------------ names */

/* the statistics' colours (color.h), when asked */
#define ON(style) color_on(ob->o.color, style)
#define OFF color_off(ob->o.color)

static void vector_name(unsigned vector, char *buffer, size_t size)
{
    x86irq_exception_info info;
    if (vector < 32 && x86irq_exception_describe(vector, &info) == X86IRQ_OK)
        snprintf(buffer, size, "%s", info.mnemonic);
    else
        snprintf(buffer, size, "vector 0x%02x", vector);
}

/* What a vector is: an exception's class (fault, trap, abort; the NMI an interrupt), or an
 * interrupt (32-255: external, IPI or software int n) */
static const char *vector_class(unsigned vector)
{
    static const char *const classes[] = {
        [X86IRQ_CLASS_FAULT] = "fault", [X86IRQ_CLASS_TRAP] = "trap",
        [X86IRQ_CLASS_ABORT] = "abort", [X86IRQ_CLASS_INTERRUPT] = "interrupt",
        [X86IRQ_CLASS_RESERVED] = "reserved",
    };
    x86irq_exception_info info;
    if (vector < 32 && x86irq_exception_describe(vector, &info) == X86IRQ_OK &&
        (unsigned)info.exception_class < sizeof(classes) / sizeof(classes[0]))
        return classes[info.exception_class];
    return "interrupt";
}

/* kinds, phases and rules are named by the library (x86irq_trace_kind_name...) */
static const char *const accept_sources[4] = { "local APIC", "8259", "embedder INTR", "NMI pin" };

bool observer_parse_rules(const char *list, uint32_t *rules)
{
    *rules = 0;
    if (!list || !*list) {
        *rules = (1u << X86IRQ_RULE_COUNT) - 1;
        return true;
    }
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        bool known = false;
        for (unsigned r = 0; r < X86IRQ_RULE_COUNT; r++) {
            const char *name = x86irq_nesting_rule_name((x86irq_nesting_rule)r);
            if (strlen(name) == n && strncmp(p, name, n) == 0) {
                *rules |= 1u << r;
                known = true;
            }
        }
        if (!known)
            return false;
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

/* ------------------------------------------------------------------ Perfetto JSON */

/* microseconds with three decimals, from cycles, in integers (deterministic) */
static void json_time(const struct observer *ob, uint64_t cycle, char *buffer, size_t size)
{
    unsigned __int128 ns = (unsigned __int128)cycle * 1000000000u / ob->o.cpu_hz;
    snprintf(buffer, size, "%" PRIu64 ".%03u", (uint64_t)(ns / 1000), (unsigned)(ns % 1000));
}

void observe_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, out);
    }
    fputc('"', out);
}

/* With one core everything is process 1 (the machine); with several, each core is a process
 * of its own, "CPU n", holding the tracks of the threads that ran on it */
static unsigned json_pid(const struct observer *ob, unsigned cpu)
{
    return ob->cpus > 1 ? cpu + 1 : 1;
}

/* one event object on core cpu's track tid; extra: ,"key":value pairs already formatted (may
 * be "") */
static void json_event_on(struct observer *ob, unsigned cpu, unsigned tid, const char *phase,
                          const char *name, const char *category, uint64_t cycle,
                          const char *extra)
{
    FILE *out = ob->o.perfetto;
    char ts[48];
    json_time(ob, cycle, ts, sizeof(ts));
    fputs(ob->json_first ? "\n" : ",\n", out);
    ob->json_first = false;
    fprintf(out, "{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":%s,\"name\":", phase,
            json_pid(ob, cpu), tid, ts);
    observe_json_string(out, name);
    fprintf(out, ",\"cat\":\"%s\"%s}", category, extra);
}

/* Thread i's tracks: its interrupts and exceptions (1 + 2i) and its phases (2 + 2i); thread 0
 * is the core's when the guest names no threads */
static unsigned interrupt_track(unsigned thread) { return 1 + 2 * thread; }
static unsigned phase_track(unsigned thread) { return 2 + 2 * thread; }

static void name_tracks(struct observer *ob, unsigned cpu, unsigned index)
{
    struct thread *th = &ob->threads[index];
    uint64_t bit = (uint64_t)1 << cpu;
    if ((th->named & bit) || !ob->o.perfetto)
        return;
    th->named |= bit;
    char extra[96];
    if (ob->cpus > 1) {
        struct core *k = &ob->cores[cpu];
        if (!k->named) {
            k->named = true;
            snprintf(extra, sizeof(extra), ",\"args\":{\"name\":\"CPU %u\"}", cpu);
            json_event_on(ob, cpu, interrupt_track(index), "M", "process_name", "", 0, extra);
            snprintf(extra, sizeof(extra), ",\"args\":{\"sort_index\":%u}", cpu);
            json_event_on(ob, cpu, interrupt_track(index), "M", "process_sort_index", "", 0,
                          extra);
        }
        if (th->id == 0) { /* a core's own thread, before the guest names one */
            snprintf(extra, sizeof(extra), ",\"args\":{\"name\":\"CPU %u\"}", cpu);
            json_event_on(ob, cpu, interrupt_track(index), "M", "thread_name", "", 0, extra);
            snprintf(extra, sizeof(extra), ",\"args\":{\"name\":\"CPU %u phases\"}", cpu);
            json_event_on(ob, cpu, phase_track(index), "M", "thread_name", "", 0, extra);
            return;
        }
    } else if (index == 0 && th->id == 0) {
        json_event_on(ob, cpu, interrupt_track(0), "M", "thread_name", "", 0,
                      ",\"args\":{\"name\":\"core 0\"}");
        json_event_on(ob, cpu, phase_track(0), "M", "thread_name", "", 0,
                      ",\"args\":{\"name\":\"core 0 phases\"}");
        return;
    }
    snprintf(extra, sizeof(extra), ",\"args\":{\"name\":\"thread 0x%" PRIx64 "\"}", th->id);
    json_event_on(ob, cpu, interrupt_track(index), "M", "thread_name", "", 0, extra);
    snprintf(extra, sizeof(extra), ",\"args\":{\"name\":\"thread 0x%" PRIx64 " phases\"}",
             th->id);
    json_event_on(ob, cpu, phase_track(index), "M", "thread_name", "", 0, extra);
}

/* an event on the interrupt track of the thread core cpu runs */
static void json_event(struct observer *ob, unsigned cpu, const char *phase, const char *name,
                       const char *category, uint64_t cycle, const char *extra)
{
    unsigned current = ob->cores[cpu].current;
    name_tracks(ob, cpu, current);
    json_event_on(ob, cpu, interrupt_track(current), phase, name, category, cycle, extra);
}

/* the core's counters: its IRR, what its thread has in service */
static void json_counters(struct observer *ob, unsigned cpu, uint64_t cycle)
{
    char extra[64];
    snprintf(extra, sizeof(extra), ",\"args\":{\"vectors\":%u}", ob->cores[cpu].pending_irr);
    json_event(ob, cpu, "C", "pending (IRR)", "apic", cycle, extra);
    snprintf(extra, sizeof(extra), ",\"args\":{\"depth\":%u}", running(ob, cpu)->depth);
    json_event(ob, cpu, "C", "in service", "nesting", cycle, extra);
}

/* a handler's slice begins on the track of the thread core cpu runs */
/* a handler's slice's name: "vector 0x30 on_tick" */
static void slice_name(const struct observer *ob, const struct frame *f, char *slice, size_t size)
{
    char name[32], symbol[96] = "";
    vector_name(f->vector, name, sizeof(name));
    x86irq_symbolize(ob->machine, f->handler_eip, symbol, sizeof(symbol));
    snprintf(slice, size, "%s %s", name, symbol[0] ? symbol : "");
}

static void json_handler_slice(struct observer *ob, unsigned cpu, const struct frame *f,
                               uint64_t cycle)
{
    char slice[160];
    slice_name(ob, f, slice, sizeof(slice));
    const char *category = f->origin == X86IRQ_ORIGIN_NMI ? "nmi"
        : f->origin == X86IRQ_ORIGIN_HARDWARE ? "interrupt" : "exception";
    json_event(ob, cpu, "B", slice, category, cycle, "");
}

/* The thread core cpu runs now may have stopped on another core with slices open (a handler
 * preempted, a softirq): close them on the old core's track when it left (that track's clock)
 * and open them again here, so each track's slices nest and its times only go forward. */
static void json_move_thread(struct observer *ob, unsigned cpu, uint64_t cycle)
{
    unsigned index = ob->cores[cpu].current;
    struct thread *th = &ob->threads[index];
    unsigned n = th->depth < MAX_DEPTH ? th->depth : MAX_DEPTH;
    for (unsigned i = n; i-- > 0;) {
        const struct frame *f = &th->stack[i];
        if (f->entered && f->track_cpu != cpu)
            json_event_on(ob, f->track_cpu, interrupt_track(index), "E", "", "",
                          th->left_cycle, "");
    }
    for (unsigned i = 0; i < n; i++) {
        struct frame *f = &th->stack[i];
        if (f->entered && f->track_cpu != cpu) {
            json_handler_slice(ob, cpu, f, cycle);
            f->track_cpu = (uint8_t)cpu;
        }
    }
    if (th->phase != X86IRQ_PHASE_PROCESS && th->phase_cpu != cpu) {
        json_event_on(ob, th->phase_cpu, phase_track(index), "E", "", "phase", th->left_cycle,
                      "");
        name_tracks(ob, cpu, index);
        json_event_on(ob, cpu, phase_track(index), "B",
                      x86irq_phase_name((x86irq_phase)th->phase), "phase", cycle, "");
        th->phase_cpu = (uint8_t)cpu;
    }
}

/* ------------------------------------------------------------------ the event hook */

/* What the picture colours a delivery as: an exception by its class, int n, or for an
 * interrupt where it came from (source: what its acceptance said) */
static enum timeline_kind frame_kind(const x86irq_trace_event *e, unsigned source)
{
    static const enum timeline_kind by_class[] = {
        [X86IRQ_CLASS_FAULT] = TIMELINE_FAULT, [X86IRQ_CLASS_TRAP] = TIMELINE_TRAP,
        [X86IRQ_CLASS_ABORT] = TIMELINE_ABORT, [X86IRQ_CLASS_INTERRUPT] = TIMELINE_EXTERNAL,
        [X86IRQ_CLASS_RESERVED] = TIMELINE_FAULT,
    };
    if (e->origin == X86IRQ_ORIGIN_NMI)
        return TIMELINE_NMI;
    if (e->origin == X86IRQ_ORIGIN_HARDWARE)
        return (enum timeline_kind)source;
    x86irq_exception_info info;
    if (e->vector < 32 && x86irq_exception_describe(e->vector, &info) == X86IRQ_OK &&
        (unsigned)info.exception_class < sizeof(by_class) / sizeof(by_class[0]))
        return by_class[info.exception_class];
    return TIMELINE_SOFTWARE;
}

/* The digits an address is printed with: 8 for a 32-bit one (a 32-bit guest's logs are what
 * they always were), all 16 above 4 GiB, as a 64-bit System.map writes them */
static int address_digits(uint64_t address)
{
    return address > UINT32_MAX ? 16 : 8;
}

static void describe(const struct observer *ob, const x86irq_trace_event *e, char *text,
                     size_t size)
{
    char name[32];
    vector_name(e->vector, name, sizeof(name));
    switch (e->kind) {
    case X86IRQ_TRACE_LINE:
        snprintf(text, size, "line %u %s", e->line, e->level ? "asserted" : "deasserted");
        break;
    case X86IRQ_TRACE_IRR:
        snprintf(text, size, "%s pending in IRR (%s)", name, e->level ? "level" : "edge");
        break;
    case X86IRQ_TRACE_ACCEPT:
        snprintf(text, size, "%s taken from the %s", name, accept_sources[e->line & 3]);
        break;
    case X86IRQ_TRACE_EXCEPTION:
        if (e->has_error_code)
            snprintf(text, size, "%s raised, error code 0x%x", name, e->error_code);
        else
            snprintf(text, size, "%s raised", name);
        break;
    case X86IRQ_TRACE_DELIVER: {
        static const char *const gates[16] = { [0] = "IVT", [5] = "task gate",
            [6] = "16-bit interrupt gate", [7] = "16-bit trap gate", [0xE] = "interrupt gate",
            [0xF] = "trap gate" };
        const char *gate = gates[e->gate & 0xF] ? gates[e->gate & 0xF] : "gate";
        snprintf(text, size, "%s delivered through the %s, CPL %u -> %u, stack %04x:%0*" PRIx64
                 ", depth %u", name, gate, e->from_cpl, e->cpl, e->ss, address_digits(e->esp),
                 e->esp, e->depth);
        break;
    }
    case X86IRQ_TRACE_ROUTE:
        if (e->line == 0xFFFF)
            snprintf(text, size, "MSI -> %s (%s)", name, e->level ? "level" : "edge");
        else if (e->vector)
            snprintf(text, size, "IOAPIC pin %u -> %s (%s)", e->line, name,
                     e->level ? "level" : "edge");
        else
            snprintf(text, size, "8259: IRQ %u raises INT (to LINT0)", e->line);
        break;
    case X86IRQ_TRACE_HANDLER:
        snprintf(text, size, "handler runs");
        break;
    case X86IRQ_TRACE_EOI:
        snprintf(text, size, "EOI for %s", name);
        break;
    case X86IRQ_TRACE_IRET:
        snprintf(text, size, "IRET from %s, depth %u", name, e->depth);
        break;
    case X86IRQ_TRACE_DOUBLE_FAULT:
        snprintf(text, size, "double fault: a fault while delivering %s", name);
        break;
    case X86IRQ_TRACE_SHUTDOWN:
        snprintf(text, size, "triple fault: shutdown");
        break;
    case X86IRQ_TRACE_DEVICE:
        snprintf(text, size, "%s fired", e->detail ? e->detail : "device");
        break;
    case X86IRQ_TRACE_NESTING:
        if (e->rule == X86IRQ_RULE_USER_ACCESS_IN_IRQ)
            snprintf(text, size, "%s, address 0x%08x (%s)", e->detail ? e->detail : "",
                     e->error_code, x86irq_nesting_rule_name(X86IRQ_RULE_USER_ACCESS_IN_IRQ));
        else
            snprintf(text, size, "%s (%s)", e->detail ? e->detail : "",
                     x86irq_nesting_rule_name((x86irq_nesting_rule)(e->rule % X86IRQ_RULE_COUNT)));
        break;
    case X86IRQ_TRACE_PHASE:
        snprintf(text, size, "phase: %s", x86irq_phase_name((x86irq_phase)(e->line % X86IRQ_PHASE_COUNT)));
        break;
    case X86IRQ_TRACE_SWITCH:
        snprintf(text, size, "thread 0x%" PRIx64 " -> 0x%" PRIx64 ", depth %u",
                 e->previous_thread, e->thread, e->depth);
        break;
    case X86IRQ_TRACE_NMI:
        snprintf(text, size, "NMI from the %s: %s", e->line ? "local APIC" : "NMI input",
                 e->error_code ? "lost (one is latched already)"
                 : e->level    ? "latched, blocked until the handler's IRET"
                               : "latched");
        break;
    default:
        snprintf(text, size, "?");
        break;
    }
    (void)ob;
}

/* an event's code address as a linear address: flat 32-bit and 64-bit code (CS base 0), and
 * real-mode or virtual-8086 CS:IP for 16-bit code (a 16-bit protected-mode CS with a base of
 * its own is not told apart: its disassembly may be missing) */
static uint64_t event_linear(const x86irq_trace_event *e)
{
    return e->code_bits == 16 ? ((uint64_t)e->cs << 4) + (e->eip & 0xFFFF) : e->eip;
}

static void log_event(struct observer *ob, const x86irq_trace_event *e, const char *text)
{
    /* the core's column only when there are several: a one-core log stays as it was */
    int digits = address_digits(e->eip);
    if (ob->cpus > 1)
        fprintf(ob->o.events, "%12" PRIu64 "  cpu%-2u  %-12s %04x:%0*" PRIx64 "  %-28s  %s",
                e->cycle, e->core,
                x86irq_trace_kind_name((x86irq_trace_kind)(e->kind % X86IRQ_TRACE_KIND_COUNT)),
                e->cs, digits, e->eip, e->symbol[0] ? e->symbol : "-", text);
    else
        fprintf(ob->o.events, "%12" PRIu64 "  %-12s %04x:%0*" PRIx64 "  %-28s  %s", e->cycle,
                x86irq_trace_kind_name((x86irq_trace_kind)(e->kind % X86IRQ_TRACE_KIND_COUNT)),
                e->cs, digits, e->eip, e->symbol[0] ? e->symbol : "-", text);
    if (e->kind == X86IRQ_TRACE_HANDLER || e->kind == X86IRQ_TRACE_EXCEPTION) {
        /* the instruction at EIP, read through the core's page tables and decoded in its
         * code size */
        uint8_t bytes[15];
        char disassembly[96];
        if (x86irq_read_linear(ob->machine, e->core, event_linear(e), bytes,
                               sizeof(bytes)) == X86IRQ_OK &&
            x86irq_disassemble(ob->machine, bytes, sizeof(bytes), e->eip, e->code_bits,
                               disassembly, sizeof(disassembly)))
            fprintf(ob->o.events, "  [%s]", disassembly);
    }
    fputc('\n', ob->o.events);
}

/* what the thread core cpu runs has in service */
static void print_stack(struct observer *ob, unsigned cpu, FILE *out)
{
    fprintf(out, "  in service (innermost last):");
    const struct thread *th = running(ob, cpu);
    if (th->depth == 0)
        fprintf(out, " nothing");
    for (unsigned i = 0; i < th->depth && i < MAX_DEPTH; i++) {
        char name[32];
        vector_name(th->stack[i].vector, name, sizeof(name));
        fprintf(out, " %s", name);
    }
    fputc('\n', out);
}

void observer_event(struct observer *ob, const x86irq_trace_event *e)
{
    /* the text is for the sinks that print it: --stats alone must stay cheap on storms */
    char text[160] = "";
    if (ob->o.events || ob->o.perfetto || e->kind == X86IRQ_TRACE_NESTING)
        describe(ob, e, text, sizeof(text));
    /* everything below is the state of the core the event names (IRR, EOI and timer events:
     * the LAPIC's core; the rest: the core that ran) */
    unsigned cpu = core_of(ob, e);
    struct core *k = &ob->cores[cpu];
    if (e->cycle > k->clock)
        k->clock = e->cycle;
    if (ob->o.events)
        log_event(ob, e, text);
    char symbol[96] = "", extra[96];

    switch (e->kind) {
    case X86IRQ_TRACE_ROUTE:
        /* the message goes to the cores its destination names, at once or (to a core ahead
         * in its round) at that core's next instruction: their IRR events take the pin (an
         * IRR of the vector comes from its latest message: system vectors are not pins') */
        if (e->vector) {
            ob->routed_pin[e->vector & 0xFF] = (int8_t)(e->line < MAX_PINS ? (int)e->line : -1);
            ob->routed[e->vector & 0xFF] = true;
        }
        break;
    case X86IRQ_TRACE_LINE:
    case X86IRQ_TRACE_DEVICE:
        if (e->kind == X86IRQ_TRACE_DEVICE || e->level) {
            /* per core: an IRR or an INTA pairs with a line only on the same clock */
            k->last_line_cycle = e->cycle;
            k->line_unconsumed = true;
            k->last_line_kind = e->kind == X86IRQ_TRACE_DEVICE && e->detail &&
                                strncmp(e->detail, "local APIC timer", 16) == 0
                                    ? TIMELINE_TIMER : TIMELINE_EXTERNAL;
            if (ob->o.perfetto) {
                /* the flow's arrow starts here; it is written with its end, at the handler's
                 * entry, so an assertion that never reaches a handler (a masked line, an edge
                 * on a line still pending) leaves no arrow dangling */
                k->last_line_flow = ++ob->next_flow;
                json_event(ob, cpu, "X", text, "irq", e->cycle, ",\"dur\":0.001");
            }
        }
        break;
    case X86IRQ_TRACE_NMI:
        /* the edge the core latches (a lost one changes nothing: the latched one is older) */
        if (!e->error_code && !k->nmi_waiting) {
            k->nmi_waiting = true;
            k->nmi_cycle = e->cycle;
        }
        if (ob->o.perfetto)
            json_event(ob, cpu, "X", text, "nmi", e->cycle, ",\"dur\":0.001");
        break;
    case X86IRQ_TRACE_IRR: {
        /* the line (or timer) that set it did so in this same cycle, on the IOAPIC's way */
        bool from_line = k->line_unconsumed && k->last_line_cycle == e->cycle;
        k->irr_cycle[e->vector & 0xFF] = e->cycle;
        k->flow_of_vector[e->vector & 0xFF] = from_line ? k->last_line_flow : 0;
        k->flow_cycle_of_vector[e->vector & 0xFF] = from_line ? k->last_line_cycle : 0;
        k->irr_pin[e->vector & 0xFF] = ob->routed_pin[e->vector & 0xFF];
        /* neither a line nor the IOAPIC: a message from a local APIC */
        k->irr_kind[e->vector & 0xFF] = from_line ? k->last_line_kind
                                        : ob->routed[e->vector & 0xFF] ? TIMELINE_EXTERNAL
                                                                       : TIMELINE_IPI;
        if (from_line)
            k->line_unconsumed = false;
        k->pending_irr++;
        if (ob->o.perfetto)
            json_counters(ob, cpu, e->cycle);
        break;
    }
    case X86IRQ_TRACE_ACCEPT: {
        unsigned v = e->vector & 0xFF;
        uint64_t since;
        uint64_t flow = 0, flow_cycle = 0;
        k->accept_pin = -1;
        k->pending_accept_kind = e->line == 0 ? k->irr_kind[v]
                                 : e->line == 3 ? TIMELINE_NMI : TIMELINE_EXTERNAL;
        if (e->line == 0 && k->irr_cycle[v]) {          /* from the LAPIC's IRR */
            since = k->irr_cycle[v];
            k->accept_pin = k->irr_pin[v];
            k->irr_pin[v] = -1;
            flow = k->flow_of_vector[v];
            flow_cycle = k->flow_cycle_of_vector[v];
            k->irr_cycle[v] = 0;
            if (k->pending_irr)
                k->pending_irr--;
        } else if (e->line == 3 && k->nmi_waiting) {   /* the NMI: latched since its edge */
            since = k->nmi_cycle;
            k->nmi_waiting = false;
        } else if (e->line == 1 && k->line_unconsumed) { /* the 8259: the last line raised */
            since = k->last_line_cycle;
            flow = k->last_line_flow;
            flow_cycle = k->last_line_cycle;
            k->line_unconsumed = false;
        } else {
            since = e->cycle;
        }
        sample(ob, v, ASSERT_TO_ACCEPT, since, e->cycle);
        k->pending_accept_cycle = e->cycle;
        k->last_accept_cycle = e->cycle;
        k->pending_accept_flow = flow;
        k->pending_accept_flow_cycle = flow_cycle;
        k->pending_accept_vector = (int)v;
        if (ob->o.perfetto)
            json_counters(ob, cpu, e->cycle);
        break;
    }
    case X86IRQ_TRACE_DELIVER: {
        account_context(ob, cpu, e->cycle);
        struct frame f = { .vector = (uint8_t)e->vector, .origin = e->origin,
                           .entry_cpu = (uint8_t)cpu, .track_cpu = (uint8_t)cpu };
        bool interrupt = e->origin == X86IRQ_ORIGIN_HARDWARE || e->origin == X86IRQ_ORIGIN_NMI;
        f.kind = (uint8_t)frame_kind(e, interrupt && k->pending_accept_vector == (int)e->vector
                                            ? k->pending_accept_kind : TIMELINE_EXTERNAL);
        if (interrupt)
            ob->interrupts++;
        if (interrupt && k->pending_accept_vector == (int)e->vector) {
            f.accept_cycle = k->pending_accept_cycle;
            f.flow = k->pending_accept_flow;
            f.flow_cycle = k->pending_accept_flow_cycle;
            if (k->accept_pin >= 0) {
                unsigned pin = (unsigned)k->accept_pin, v = e->vector & 0xFF;
                ob->pin_count[pin][cpu]++;
                ob->pin_vectors[pin][v / 64] |= 1ull << (v % 64);
                ob->vector_pins[v] |= 1ull << pin;
            }
        }
        k->accept_pin = -1;
        k->pending_accept_vector = -1;
        struct thread *th = running(ob, cpu);
        if (th->depth < MAX_DEPTH)
            th->stack[th->depth] = f;
        th->depth++;
        if (th->depth > ob->max_depth)
            ob->max_depth = th->depth;
        ob->count[e->vector & 0xFF]++;
        k->count[e->vector & 0xFF]++;
        break;
    }
    case X86IRQ_TRACE_HANDLER: {
        struct thread *th = running(ob, cpu);
        if (th->depth && th->depth <= MAX_DEPTH) {
            struct frame *top = &th->stack[th->depth - 1];
            top->entered = true;
            top->entry_cycle = e->cycle;
            top->entry_cpu = top->track_cpu = (uint8_t)cpu;
            top->handler_eip = e->eip;
            if (top->accept_cycle)
                sample(ob, top->vector, ACCEPT_TO_ENTRY, top->accept_cycle, e->cycle);
            if (ob->o.timeline) {
                char slice[160];
                slice_name(ob, top, slice, sizeof(slice));
                timeline_begin(ob->o.timeline, k->current, cpu, (enum timeline_kind)top->kind,
                               top->vector, slice, e->cycle);
            }
            if (ob->o.perfetto) {
                json_handler_slice(ob, cpu, top, e->cycle);
                if (top->flow) {
                    snprintf(extra, sizeof(extra), ",\"id\":%" PRIu64, top->flow);
                    json_event(ob, cpu, "s", "interrupt", "irq", top->flow_cycle, extra);
                    snprintf(extra, sizeof(extra), ",\"id\":%" PRIu64 ",\"bp\":\"e\"", top->flow);
                    json_event(ob, cpu, "f", "interrupt", "irq", e->cycle, extra);
                }
                json_counters(ob, cpu, e->cycle);
            }
        }
        break;
    }
    case X86IRQ_TRACE_EOI: {
        struct thread *th = running(ob, cpu);
        for (unsigned i = th->depth < MAX_DEPTH ? th->depth : MAX_DEPTH; i-- > 0;) {
            struct frame *f = &th->stack[i];
            if (f->vector == (uint8_t)e->vector && f->entered && !f->eoi_done) {
                f->eoi_done = true;
                /* entered on another core (the thread moved): two clocks, no latency */
                if (f->entry_cpu == cpu)
                    sample(ob, f->vector, ENTRY_TO_EOI, f->entry_cycle, e->cycle);
                else
                    ob->dropped++;
                break;
            }
        }
        if (ob->o.perfetto)
            json_event(ob, cpu, "i", text, "apic", e->cycle, ",\"s\":\"t\"");
        break;
    }
    case X86IRQ_TRACE_IRET: {
        unsigned index = k->current;
        struct thread *th = running(ob, cpu);
        if (th->depth) {
            account_context(ob, cpu, e->cycle);
            th->depth--;
            if (th->depth < MAX_DEPTH) {
                struct frame *f = &th->stack[th->depth];
                if (f->entered) {
                    if (f->entry_cpu == cpu)
                        sample(ob, f->vector, ENTRY_TO_IRET, f->entry_cycle, e->cycle);
                    else
                        ob->dropped++;
                    if (ob->o.perfetto)
                        json_event_on(ob, f->track_cpu, interrupt_track(index), "E", "", "",
                                      e->cycle, "");
                    if (ob->o.timeline)
                        timeline_end(ob->o.timeline, index, e->cycle);
                }
            }
            if (ob->o.perfetto)
                json_counters(ob, cpu, e->cycle);
        }
        break;
    }
    case X86IRQ_TRACE_NESTING:
        ob->rules_fired++;
        if (ob->o.check_nesting) {
            x86irq_symbolize(ob->machine, e->eip, symbol, sizeof(symbol));
            if (ob->cpus > 1)
                fprintf(stderr, "%sx86irq-run: nesting: %s at cycle %" PRIu64 " on CPU %u, "
                        "%04x:%0*" PRIx64 " %s%s\n", ON(COLOR_BAD), text, e->cycle, cpu, e->cs,
                        address_digits(e->eip), e->eip, symbol, OFF);
            else
                fprintf(stderr, "%sx86irq-run: nesting: %s at cycle %" PRIu64 ", %04x:%0*" PRIx64
                        " %s%s\n", ON(COLOR_BAD), text, e->cycle, e->cs, address_digits(e->eip),
                        e->eip, symbol, OFF);
            print_stack(ob, cpu, stderr);
        }
        if (ob->o.perfetto)
            json_event(ob, cpu, "i", text, "nesting", e->cycle, ",\"s\":\"t\"");
        break;
    case X86IRQ_TRACE_PHASE: {
        unsigned next = e->line % X86IRQ_PHASE_COUNT;
        struct thread *th = running(ob, cpu);
        ob->phases_seen = true;
        account_phase(ob, cpu, e->cycle);
        if (next != th->phase) {
            ob->phase_entries[next]++;
            if (next != X86IRQ_PHASE_PROCESS && k->last_accept_cycle)
                span(&ob->phase_latency[next], ob, k->last_accept_cycle, e->cycle);
            if (ob->o.perfetto) {
                /* the phases on a track of their own, one per thread */
                name_tracks(ob, cpu, k->current);
                unsigned track = phase_track(k->current);
                if (th->phase != X86IRQ_PHASE_PROCESS)
                    json_event_on(ob, th->phase_cpu, track, "E", "", "phase", e->cycle, "");
                if (next != X86IRQ_PHASE_PROCESS)
                    json_event_on(ob, cpu, track, "B", x86irq_phase_name((x86irq_phase)next),
                                  "phase", e->cycle, "");
                th->phase_cpu = (uint8_t)cpu;
            }
            if (ob->o.timeline)
                timeline_phase(ob->o.timeline, k->current, cpu, next, e->cycle);
        }
        th->phase = next;
        break;
    }
    case X86IRQ_TRACE_SWITCH: {
        /* time so far belongs to the thread that ran; a suspended thread's slices stay open
         * on its tracks until it runs again and returns */
        account_context(ob, cpu, e->cycle);
        account_phase(ob, cpu, e->cycle);
        struct thread *first = &ob->threads[k->initial];
        if (k->current == k->initial && first->id == 0 && !first->named)
            first->id = e->previous_thread; /* the core's first thread gets its name */
        unsigned i = 0;
        while (i < ob->thread_count && ob->threads[i].id != e->thread)
            i++;
        if (i == ob->thread_count && new_thread(ob, e->thread) == UINT32_MAX)
            break; /* out of memory: the threads share the running one's state */
        struct thread *left = running(ob, cpu);
        left->left_cpu = (uint8_t)cpu;
        left->left_cycle = e->cycle;
        if (ob->o.timeline)
            timeline_switch(ob->o.timeline, cpu, k->current, i, e->cycle);
        k->current = i;
        ob->switches++;
        if (ob->o.perfetto) {
            json_move_thread(ob, cpu, e->cycle);
            json_counters(ob, cpu, e->cycle);
        }
        break;
    }
    case X86IRQ_TRACE_DOUBLE_FAULT:
    case X86IRQ_TRACE_SHUTDOWN:
    case X86IRQ_TRACE_EXCEPTION:
        if (ob->o.perfetto && e->kind != X86IRQ_TRACE_EXCEPTION)
            json_event(ob, cpu, "i", text, "event", e->cycle, ",\"s\":\"t\"");
        break;
    default:
        break;
    }
}

static void on_event(void *opaque, const x86irq_trace_event *e)
{
    observer_event(opaque, e);
}

struct observer *observer_create(x86irq_machine *machine, const struct observe_options *o)
{
    if (!o->events && !o->perfetto && !o->timeline && !o->stats && !o->report &&
        !o->check_nesting && !o->phase_symbols)
        return NULL;
    struct observer *ob = calloc(1, sizeof(*ob));
    struct core *cores = calloc(X86IRQ_MAX_CPUS, sizeof(*cores));
    struct thread *threads = calloc(4, sizeof(*threads));
    if (!ob || !cores || !threads) {
        free(ob);
        free(cores);
        free(threads);
        fprintf(stderr, "x86irq-run: out of memory for the trace\n");
        return NULL;
    }
    ob->machine = machine;
    ob->o = *o;
    ob->json_first = true;
    ob->cpus = x86irq_cpu_count(machine);
    if (ob->cpus == 0 || ob->cpus > X86IRQ_MAX_CPUS)
        ob->cpus = 1;
    ob->cores = cores;
    ob->threads = threads;
    ob->thread_capacity = 4;
    /* each core's first thread, in core order (as the library numbers them) */
    for (unsigned c = 0; c < ob->cpus; c++)
        core_of(ob, &(x86irq_trace_event){ .core = (uint8_t)c });
    memset(ob->routed_pin, -1, sizeof(ob->routed_pin));
    if (ob->o.perfetto) {
        fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", ob->o.perfetto);
        if (ob->cpus == 1)
            json_event(ob, 0, "M", "process_name", "", 0,
                       ",\"args\":{\"name\":\"libx86irq machine\"}");
        else /* a process per core, "CPU n", each there from the start */
            for (unsigned c = 0; c < ob->cpus; c++)
                name_tracks(ob, c, ob->cores[c].initial);
    }
    x86irq_set_nesting_rules(machine, o->check_nesting ? o->rules : 0);
    x86irq_set_trace_hook(machine, X86IRQ_TRACE_ALL, on_event, ob);
    return ob;
}

/* ------------------------------------------------------------------ statistics */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Least-significant-digit radix sort, one pass per byte the largest sample needs: latencies are
 * small numbers of cycles, so storms of millions of samples sort in two or three passes. */
static void sort_samples(struct samples *s)
{
    uint64_t max = 0;
    for (size_t i = 0; i < s->n; i++)
        max = s->v[i] > max ? s->v[i] : max;
    uint64_t *other = s->n > 1 ? malloc(s->n * sizeof(*other)) : NULL;
    if (!other) {
        qsort(s->v, s->n, sizeof(*s->v), compare_u64);
        return;
    }
    uint64_t *from = s->v, *to = other;
    for (unsigned shift = 0; shift < 64 && (max >> shift); shift += 8) {
        size_t start[257] = { 0 };
        for (size_t i = 0; i < s->n; i++)
            start[((from[i] >> shift) & 0xFF) + 1]++;
        for (unsigned b = 0; b < 256; b++)
            start[b + 1] += start[b];
        for (size_t i = 0; i < s->n; i++)
            to[start[(from[i] >> shift) & 0xFF]++] = from[i];
        uint64_t *t = from;
        from = to;
        to = t;
    }
    if (from != s->v)
        memcpy(s->v, from, s->n * sizeof(*s->v));
    free(other);
}

static uint64_t percentile(const struct samples *s, unsigned p)
{
    size_t i = (s->n * p + 99) / 100;
    return s->v[i ? i - 1 : 0];
}

/* the deliveries of IOAPIC pin p, all CPUs' */
static uint64_t pin_total(const struct observer *ob, unsigned p)
{
    uint64_t total = 0;
    for (unsigned c = 0; c < ob->core_span; c++)
        total += ob->pin_count[p][c];
    return total;
}

/* Deliveries by IOAPIC pin, per CPU with several: the rows of /proc/interrupts */
static void print_pins(const struct observer *ob, FILE *out)
{
    bool any = false;
    for (unsigned p = 0; p < MAX_PINS; p++) {
        uint64_t total = pin_total(ob, p);
        if (!total)
            continue;
        if (!any) {
            fprintf(out, "%s--- deliveries by IOAPIC pin ---%s\n%-6s %10s", ON(COLOR_HEADING),
                    OFF, "pin", "delivered");
            for (unsigned c = 0; ob->cpus > 1 && c < ob->core_span; c++)
                fprintf(out, " %9s%u", "cpu", c);
            fprintf(out, "  vectors\n");
            any = true;
        }
        fprintf(out, "%-6u %10" PRIu64, p, total);
        for (unsigned c = 0; ob->cpus > 1 && c < ob->core_span; c++)
            fprintf(out, " %10" PRIu64, ob->pin_count[p][c]);
        fprintf(out, " ");
        for (unsigned v = 0; v < 256; v++)
            if (ob->pin_vectors[p][v / 64] >> (v % 64) & 1)
                fprintf(out, " 0x%02x", v);
        fputc('\n', out);
    }
}

static void print_stats(struct observer *ob, FILE *out)
{
    double us_per_cycle = 1e6 / (double)ob->o.cpu_hz;
    fprintf(out, "%s--- interrupts and exceptions (cycles; microseconds at %" PRIu64 " Hz) ---%s\n",
            ON(COLOR_HEADING), ob->o.cpu_hz, OFF);
    fprintf(out, "%-12s %8s  %-15s %10s %10s %10s %10s %10s\n", "vector", "count", "latency",
            "min", "p50", "p90", "p99", "max");
    for (unsigned v = 0; v < 256; v++) {
        if (!ob->count[v])
            continue;
        char name[32];
        vector_name(v, name, sizeof(name));
        if (v < 32 && v != 2) /* "#PF fault": what the saved EIP is, at a glance */
            snprintf(name + strlen(name), sizeof(name) - strlen(name), " %s", vector_class(v));
        bool first = true;
        for (unsigned m = 0; m < METRIC_COUNT; m++) {
            struct samples *s = &ob->samples[v][m];
            if (!s->n)
                continue;
            sort_samples(s);
            fprintf(out, "%s%-12s%s %8s  %-15s %10" PRIu64 " %10" PRIu64 " %10" PRIu64
                         " %10" PRIu64 " %10" PRIu64 "\n", ON(COLOR_NAME), first ? name : "", OFF,
                    "", metric_names[m], s->v[0],
                    percentile(s, 50), percentile(s, 90), percentile(s, 99), s->v[s->n - 1]);
            fprintf(out, "%-12s %8s  %-15s %10.3f %10.3f %10.3f %10.3f %10.3f  us\n", "", "", "",
                    (double)s->v[0] * us_per_cycle, (double)percentile(s, 50) * us_per_cycle,
                    (double)percentile(s, 90) * us_per_cycle,
                    (double)percentile(s, 99) * us_per_cycle,
                    (double)s->v[s->n - 1] * us_per_cycle);
            first = false;
        }
        char pin[32] = ""; /* where it came from, as /proc/interrupts names it */
        if (ob->vector_pins[v] && !(ob->vector_pins[v] & (ob->vector_pins[v] - 1)))
            snprintf(pin, sizeof(pin), "  (IOAPIC pin %d)", __builtin_ctzll(ob->vector_pins[v]));
        else if (ob->vector_pins[v])
            snprintf(pin, sizeof(pin), "  (IOAPIC pins: see below)");
        if (first)
            fprintf(out, "%s%-12s%s %8" PRIu64 "%s\n", ON(COLOR_NAME), name, OFF, ob->count[v],
                    pin);
        else
            fprintf(out, "%-12s %8" PRIu64 "  delivered%s\n", "", ob->count[v], pin);
        if (ob->cpus > 1) { /* where they ran */
            fprintf(out, "%-12s %8s  by cpu:", "", "");
            for (unsigned c = 0; c < ob->core_span; c++)
                fprintf(out, " %u:%" PRIu64, c, ob->cores[c].count[v]);
            fputc('\n', out);
        }
        /* a histogram of entry->IRET in powers of two */
        struct samples *s = &ob->samples[v][ENTRY_TO_IRET];
        if (s->n > 1) {
            unsigned buckets[64] = { 0 };
            unsigned lowest = 63, highest = 0;
            for (size_t i = 0; i < s->n; i++) {
                unsigned b = s->v[i] ? 63 - (unsigned)__builtin_clzll(s->v[i]) : 0;
                buckets[b]++;
                lowest = b < lowest ? b : lowest;
                highest = b > highest ? b : highest;
            }
            for (unsigned b = lowest; b <= highest; b++) {
                unsigned bar = (unsigned)((buckets[b] * 40 + s->n - 1) / s->n);
                fprintf(out, "%-12s   entry->IRET %10" PRIu64 "+ |%s%-40.*s%s| %u\n", "",
                        (uint64_t)1 << b, ON(COLOR_BAR), (int)bar,
                        "########################################", OFF, buckets[b]);
            }
        }
    }
    if (ob->phases_seen) {
        uint64_t all = 0;
        for (unsigned p = 0; p < X86IRQ_PHASE_COUNT; p++)
            all += ob->phase_cycles[p];
        fprintf(out, "%s--- phases (marker port 0x%x): cycles, and latency from the last "
                     "acceptance ---%s\n", ON(COLOR_HEADING), X86IRQ_PHASE_PORT, OFF);
        fprintf(out, "%-12s %8s %14s %7s %10s %10s %10s\n", "phase", "entries", "cycles", "share",
                "min", "p50", "max");
        for (unsigned p = 0; p < X86IRQ_PHASE_COUNT; p++) {
            struct samples *s = &ob->phase_latency[p];
            fprintf(out, "%-12s %8" PRIu64 " %14" PRIu64 " %6.1f%%", x86irq_phase_name((x86irq_phase)p),
                    ob->phase_entries[p], ob->phase_cycles[p],
                    all ? 100.0 * (double)ob->phase_cycles[p] / (double)all : 0.0);
            if (s->n) {
                sort_samples(s);
                fprintf(out, " %10" PRIu64 " %10" PRIu64 " %10" PRIu64, s->v[0], percentile(s, 50),
                        s->v[s->n - 1]);
            }
            fputc('\n', out);
        }
    }
    print_pins(ob, out);
    /* each core's time on its own clock; the total is their sum (CPU cycles) */
    uint64_t context_cycles[CONTEXT_COUNT] = { 0 }, total = 0;
    for (unsigned k = 0; k < ob->core_span; k++)
        for (unsigned c = 0; c < CONTEXT_COUNT; c++)
            context_cycles[c] += ob->cores[k].context_cycles[c];
    for (unsigned c = 0; c < CONTEXT_COUNT; c++)
        total += context_cycles[c];
    fprintf(out, "%s--- time by context (cycles) ---%s\n", ON(COLOR_HEADING), OFF);
    for (unsigned c = 0; c < CONTEXT_COUNT; c++)
        fprintf(out, "%-30s %14" PRIu64 "  %5.1f%%\n", context_names[c], context_cycles[c],
                total ? 100.0 * (double)context_cycles[c] / (double)total : 0.0);
    if (ob->cpus > 1) {
        fprintf(out, "%s--- time by context per CPU (cycles) ---%s\n", ON(COLOR_HEADING), OFF);
        fprintf(out, "%-5s %22s %22s %22s\n", "cpu", "process", "interrupt (IRQ, NMI)",
                "exception");
        for (unsigned k = 0; k < ob->core_span; k++) {
            const uint64_t *cycles = ob->cores[k].context_cycles;
            uint64_t all = cycles[PROCESS] + cycles[INTERRUPT] + cycles[EXCEPTION];
            fprintf(out, "%-5u", k);
            for (unsigned c = 0; c < CONTEXT_COUNT; c++)
                fprintf(out, " %14" PRIu64 " %6.1f%%", cycles[c],
                        all ? 100.0 * (double)cycles[c] / (double)all : 0.0);
            fputc('\n', out);
        }
    }
    if (ob->dropped)
        fprintf(out, "%slatencies dropped           %" PRIu64 " (ends on different clocks)%s\n",
                ON(COLOR_WARN), ob->dropped, OFF);
    fprintf(out, "deepest nesting             %u\n", ob->max_depth);
    if (ob->switches)
        fprintf(out, "thread switches             %" PRIu64 " (%u threads)\n", ob->switches,
                ob->thread_count);
}

/* Each core's time runs to its own end: the cycles it ran (or its last event, for a synthetic
 * stream). Accounting twice to the same end adds nothing. */
static void account_to_end(struct observer *ob, uint64_t *end)
{
    for (unsigned c = 0; c < ob->core_span; c++) {
        uint64_t cycles = ob->cpus > 1 ? x86irq_cpu_cycles(ob->machine, c)
                                       : x86irq_cycles(ob->machine);
        end[c] = cycles > ob->cores[c].clock ? cycles : ob->cores[c].clock;
        account_context(ob, c, end[c]);
        if (ob->phases_seen)
            account_phase(ob, c, end[c]);
    }
}

/* ------------------------------------------------------------------ the run report */

static void json_latency(FILE *out, struct samples *s)
{
    sort_samples(s);
    fprintf(out, "{\"samples\":%zu,\"min\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p90\":%" PRIu64
                 ",\"p99\":%" PRIu64 ",\"max\":%" PRIu64 "}",
            s->n, s->v[0], percentile(s, 50), percentile(s, 90), percentile(s, 99),
            s->v[s->n - 1]);
}

void observer_report(struct observer *ob, FILE *out, const char *run_members)
{
    static const char *const metric_keys[METRIC_COUNT] = {
        "assert_to_accept", "accept_to_entry", "entry_to_eoi", "entry_to_iret",
    };
    fprintf(out, "{\"schema\":\"x86irq-run-report/1\"%s%s", run_members && *run_members ? "," : "",
            run_members ? run_members : "");
    if (!ob) {
        fputs("}\n", out);
        return;
    }
    uint64_t end[X86IRQ_MAX_CPUS];
    account_to_end(ob, end);
    fputs(",\"vectors\":[", out);
    bool first = true;
    for (unsigned v = 0; v < 256; v++) {
        if (!ob->count[v])
            continue;
        char name[32];
        vector_name(v, name, sizeof(name));
        fprintf(out, "%s{\"vector\":%u,\"name\":", first ? "" : ",", v);
        observe_json_string(out, name);
        fprintf(out, ",\"class\":\"%s\",\"count\":%" PRIu64, vector_class(v), ob->count[v]);
        if (ob->cpus > 1) {
            fputs(",\"by_cpu\":[", out);
            for (unsigned c = 0; c < ob->core_span; c++)
                fprintf(out, "%s%" PRIu64, c ? "," : "", ob->cores[c].count[v]);
            fputc(']', out);
        }
        fputs(",\"ioapic_pins\":[", out);
        bool first_pin = true;
        for (unsigned p = 0; p < 64; p++)
            if (ob->vector_pins[v] >> p & 1) {
                fprintf(out, "%s%u", first_pin ? "" : ",", p);
                first_pin = false;
            }
        fputs("],\"latency_cycles\":{", out);
        bool first_metric = true;
        for (unsigned m = 0; m < METRIC_COUNT; m++) {
            struct samples *s = &ob->samples[v][m];
            if (!s->n)
                continue;
            fprintf(out, "%s\"%s\":", first_metric ? "" : ",", metric_keys[m]);
            json_latency(out, s);
            first_metric = false;
        }
        fputs("}}", out);
        first = false;
    }
    fputs("],\"ioapic_pins\":[", out);
    first = true;
    for (unsigned p = 0; p < MAX_PINS; p++) {
        uint64_t total = pin_total(ob, p);
        if (!total)
            continue;
        fprintf(out, "%s{\"pin\":%u,\"delivered\":%" PRIu64 ",\"by_cpu\":[", first ? "" : ",",
                p, total);
        for (unsigned c = 0; c < ob->core_span; c++)
            fprintf(out, "%s%" PRIu64, c ? "," : "", ob->pin_count[p][c]);
        fputs("],\"vectors\":[", out);
        bool first_vector = true;
        for (unsigned v = 0; v < 256; v++)
            if (ob->pin_vectors[p][v / 64] >> (v % 64) & 1) {
                fprintf(out, "%s%u", first_vector ? "" : ",", v);
                first_vector = false;
            }
        fputs("]}", out);
        first = false;
    }
    fputs("],\"phases\":[", out);
    for (unsigned p = 0; ob->phases_seen && p < X86IRQ_PHASE_COUNT; p++) {
        fprintf(out, "%s{\"phase\":\"%s\",\"entries\":%" PRIu64 ",\"cycles\":%" PRIu64,
                p ? "," : "", x86irq_phase_name((x86irq_phase)p), ob->phase_entries[p],
                ob->phase_cycles[p]);
        if (ob->phase_latency[p].n) {
            fputs(",\"latency_from_accept_cycles\":", out);
            json_latency(out, &ob->phase_latency[p]);
        }
        fputc('}', out);
    }
    fputs("],\"context_cycles\":[", out);
    static const char *const context_keys[CONTEXT_COUNT] = { "process", "interrupt", "exception" };
    for (unsigned k = 0; k < ob->core_span; k++) {
        fprintf(out, "%s{\"cpu\":%u", k ? "," : "", k);
        for (unsigned c = 0; c < CONTEXT_COUNT; c++)
            fprintf(out, ",\"%s\":%" PRIu64, context_keys[c], ob->cores[k].context_cycles[c]);
        fputc('}', out);
    }
    fprintf(out, "],\"nesting\":{\"checked\":%s,\"rules_fired\":%u,\"deepest\":%u},"
                 "\"thread_switches\":%" PRIu64 ",\"threads\":%u,\"latencies_dropped\":%" PRIu64
                 "}\n",
            ob->o.check_nesting ? "true" : "false", ob->rules_fired, ob->max_depth, ob->switches,
            ob->thread_count, ob->dropped);
}

uint64_t observer_interrupts(const struct observer *ob)
{
    return ob ? ob->interrupts : 0;
}

unsigned observer_rules_fired(const struct observer *ob)
{
    return ob ? ob->rules_fired : 0;
}

unsigned observer_finish(struct observer *ob, FILE *out)
{
    if (!ob)
        return 0;
    uint64_t end[X86IRQ_MAX_CPUS];
    account_to_end(ob, end);
    if (ob->o.timeline)
        timeline_close(ob->o.timeline, end, ob->core_span);
    if (ob->o.perfetto) {
        /* slices of handlers that never returned (an abort, the end of the run, a thread that
         * never ran again) close here, on the track that holds them */
        for (unsigned t = 0; t < ob->thread_count; t++) {
            const struct thread *th = &ob->threads[t];
            for (unsigned i = th->depth < MAX_DEPTH ? th->depth : MAX_DEPTH; i-- > 0;)
                if (th->stack[i].entered)
                    json_event_on(ob, th->stack[i].track_cpu, interrupt_track(t), "E", "", "",
                                  end[th->stack[i].track_cpu], "");
            if (th->phase != X86IRQ_PHASE_PROCESS)
                json_event_on(ob, th->phase_cpu, phase_track(t), "E", "", "phase",
                              end[th->phase_cpu], "");
        }
        fputs("\n]}\n", ob->o.perfetto);
    }
    if (ob->o.stats)
        print_stats(ob, out);
    if (ob->o.check_nesting)
        fprintf(stderr, "%sx86irq-run: nesting check: %u rule%s fired, deepest nesting %u%s\n",
                ON(ob->rules_fired ? COLOR_BAD : COLOR_GOOD), ob->rules_fired,
                ob->rules_fired == 1 ? "" : "s", ob->max_depth, OFF);
    unsigned fired = ob->rules_fired;
    x86irq_set_trace_hook(ob->machine, 0, NULL, NULL);
    for (unsigned v = 0; v < 256; v++)
        for (unsigned m = 0; m < METRIC_COUNT; m++)
            free(ob->samples[v][m].v);
    for (unsigned p = 0; p < X86IRQ_PHASE_COUNT; p++)
        free(ob->phase_latency[p].v);
    free(ob->threads);
    free(ob->cores);
    free(ob);
    return fired;
}
