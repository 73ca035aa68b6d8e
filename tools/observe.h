/* The CLI's observability sinks over the library's trace events: a text event log, a Perfetto
 * (Chrome trace JSON) timeline, latency statistics and the nesting checker's report. */
#ifndef X86IRQ_TOOLS_OBSERVE_H
#define X86IRQ_TOOLS_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <x86irq/x86irq.h>

#include "timeline.h"

struct observe_options {
    FILE *events;        /* --trace-events: one line per event (NULL: off) */
    FILE *perfetto;      /* --perfetto: Chrome trace JSON (NULL: off) */
    struct timeline *timeline; /* --timeline: fed the same slices (NULL: off) */
    bool stats;          /* latency tables with --stats */
    bool report;         /* --report: the statistics are kept for observer_report() */
    bool check_nesting;  /* report the nesting rules */
    uint32_t rules;      /* which rules (1 << x86irq_nesting_rule) */
    const char *phase_symbols; /* set with x86irq_set_phase_symbols (only makes an observer) */
    uint64_t cpu_hz;
    bool color;          /* ANSI colours in the statistics (--color) */
};

struct observer;

/* Subscribe to the machine's trace events as the options ask; NULL when nothing is asked (or
 * out of memory, which is reported). */
struct observer *observer_create(x86irq_machine *machine, const struct observe_options *options);
/* Close the timeline, print the statistics (to out) and the checker's summary; free. Returns the
 * number of nesting rules that fired. */
unsigned observer_finish(struct observer *observer, FILE *out);

/* --report: the run report as one JSON object (docs/cli.md, "The run report"): the schema
 * name, run_members (the runner's own members, JSON text without braces: the stop reason,
 * counts, host time), then the statistics: vectors with their class, counts and latency
 * percentiles, IOAPIC pins, phases, time by context, the nesting summary. Call before
 * observer_finish(). */
void observer_report(struct observer *observer, FILE *out, const char *run_members);

/* The interrupts (and NMIs) delivered so far, all CPUs': for --progress */
uint64_t observer_interrupts(const struct observer *observer);

/* The nesting rules that fired so far */
unsigned observer_rules_fired(const struct observer *observer);

/* s as a JSON string, quoted and escaped */
void observe_json_string(FILE *out, const char *s);

/* One event, as the machine's hook delivers them (tests feed synthetic streams through it). */
void observer_event(struct observer *observer, const x86irq_trace_event *event);

/* "exception-in-irq,irq-in-irq,..." -> a rule mask; false for an unknown name */
bool observer_parse_rules(const char *list, uint32_t *rules);

#endif
