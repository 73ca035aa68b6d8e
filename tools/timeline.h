/* --timeline=FILE.svg|FILE.html: a self-contained picture of a run's interrupts and exceptions
 * over time (docs/observability.md, "The timeline picture"). The observer feeds it the slices
 * it also writes to --perfetto; what each CPU runs is drawn as one band with a row per nesting
 * depth (and one for the phases), coloured by kind. Slices narrower than a couple of pixels are
 * merged into density marks per pixel column, so the file's size depends on the picture's
 * width and rows, not on the run's length. */
#ifndef X86IRQ_TOOLS_TIMELINE_H
#define X86IRQ_TOOLS_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

/* What a slice is (each has a colour and a legend entry; tools/timeline.c's kinds table) */
enum timeline_kind {
    TIMELINE_FAULT,          /* exceptions, by class */
    TIMELINE_TRAP,
    TIMELINE_ABORT,
    TIMELINE_SOFTWARE,       /* int n (vector 32-255) */
    TIMELINE_EXTERNAL,       /* a device's line through the IOAPIC or the 8259, an MSI */
    TIMELINE_TIMER,          /* the local APIC timer */
    TIMELINE_IPI,            /* an interrupt message from a local APIC (IPI, self-IPI) */
    TIMELINE_NMI,
    TIMELINE_CRITICAL,       /* phases: x86irq_phase 1-5 */
    TIMELINE_IMMEDIATE,
    TIMELINE_SOFTIRQ,
    TIMELINE_TASKLET,
    TIMELINE_WORKQUEUE,
    TIMELINE_KIND_COUNT
};

struct timeline_options {
    const char *path;        /* FILE.svg or FILE.html */
    bool html;               /* the SVG in a page with zoom, pan and tooltips */
    uint64_t cpu_hz;
    bool window;             /* --timeline-window=FROM:TO (cycles) */
    uint64_t from, to;
    unsigned cpus;
};

struct timeline;

/* Opens the file (NULL with errno when it cannot be created, or out of memory) */
struct timeline *timeline_create(const struct timeline_options *options);

/* A handler's slice begins on the thread (the observer's thread index) running on cpu; it nests
 * inside the thread's open slices. name: "vector 0x30 on_tick". */
void timeline_begin(struct timeline *t, unsigned thread, unsigned cpu, enum timeline_kind kind,
                    unsigned vector, const char *name, uint64_t cycle);
/* The thread's innermost open slice ends */
void timeline_end(struct timeline *t, unsigned thread, uint64_t cycle);
/* The thread's phase (x86irq_phase; 0 process: none drawn) changes */
void timeline_phase(struct timeline *t, unsigned thread, unsigned cpu, unsigned phase,
                    uint64_t cycle);
/* cpu switches from one thread to another: the old one's open slices stop being drawn on cpu,
 * the new one's are drawn from here (on this cpu, if the thread moved) */
void timeline_switch(struct timeline *t, unsigned cpu, unsigned from, unsigned to,
                     uint64_t cycle);
/* The run ended: what is open ends at its CPU's end (end[cpu], cpus of them) */
void timeline_close(struct timeline *t, const uint64_t *end, unsigned cpus);

/* Write the picture (title: the guest's name) and free everything; false when the file could
 * not be written whole. start: the run's first cycle (a restored run's is not 0). */
bool timeline_finish(struct timeline *t, const char *title, uint64_t start);

/* "FILE.svg" or "FILE.html" -> *html; false for another extension */
bool timeline_format(const char *path, bool *html);

#endif
