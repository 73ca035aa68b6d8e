/* The machine's cycle-ordered event queue: devices schedule callbacks at absolute cycles.
 * Events due at the same cycle run in the order they were scheduled (a sequence number breaks
 * ties), so runs are deterministic. A binary heap; cancel is lazy (events.c says how).
 */
#ifndef X86IRQ_PLATFORM_EVENTS_H
#define X86IRQ_PLATFORM_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*x86_event_fn)(void *context, void *opaque);

struct x86_event {
    uint64_t cycle;
    uint64_t sequence;  /* scheduling order, breaks ties */
    uint64_t id;        /* the handle returned to the scheduler */
    x86_event_fn fn;
    void *opaque;
};

struct x86_event_queue {
    struct x86_event *heap;
    size_t count, capacity;
    uint64_t next_sequence;
    uint64_t *cancelled;  /* ids cancelled but still in the heap, sorted */
    size_t cancelled_count, cancelled_capacity;
    void *context;      /* passed to every callback (the machine) */
    /* called after each schedule (may be NULL): the machine cuts a running slice short when an
     * event is due before its end, whoever scheduled it */
    void (*on_schedule)(void *context, uint64_t cycle);
};

void x86_events_init(struct x86_event_queue *queue, void *context);
void x86_events_finish(struct x86_event_queue *queue);
/* Schedule fn(context, opaque) at cycle. Returns the event's id (never 0), or 0 when out of
 * memory. */
uint64_t x86_events_schedule(struct x86_event_queue *queue, uint64_t cycle, x86_event_fn fn,
                             void *opaque);
/* Cancel by id: false if no such event is pending. */
bool x86_events_cancel(struct x86_event_queue *queue, uint64_t id);
/* The cycle of the earliest pending event, or UINT64_MAX when none. */
uint64_t x86_events_next_cycle(struct x86_event_queue *queue);
/* Run every event due at or before now, in order (callbacks may schedule or cancel events;
 * new ones due by now also run). Returns the number run. */
size_t x86_events_run_due(struct x86_event_queue *queue, uint64_t now);

/* The pending events (cancelled ones left out) in the order they will run, in a new array
 * the caller frees (snapshots). false: out of memory. */
bool x86_events_list(struct x86_event_queue *queue, struct x86_event **out, size_t *count);
/* Replace the pending events by `events` (malloc'ed, `capacity` entries, `count` used: the
 * queue takes it) and the next id by next_sequence (snapshot restore). Cannot fail. */
void x86_events_replace(struct x86_event_queue *queue, struct x86_event *events, size_t count,
                        size_t capacity, uint64_t next_sequence);

#endif
