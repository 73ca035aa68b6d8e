/* The cycle-ordered event queue (see events.h).
 *
 * A binary min-heap on (cycle, sequence). Cancel is lazy: the id goes into a small sorted set
 * of cancelled ids and the entry is dropped when it reaches the top. Memory stays bounded: a
 * cancelled entry leaves the heap no later than its cycle is reached, and when cancelled
 * entries outnumber live ones the heap is compacted. Ids are never reused.
 */
#include "platform/events.h"

#include <stdlib.h>
#include <string.h>

void x86_events_init(struct x86_event_queue *queue, void *context)
{
    memset(queue, 0, sizeof(*queue));
    queue->context = context;
    queue->next_sequence = 1;
}

void x86_events_finish(struct x86_event_queue *queue)
{
    free(queue->heap);
    free(queue->cancelled);
    memset(queue, 0, sizeof(*queue));
}

static bool earlier(const struct x86_event *a, const struct x86_event *b)
{
    return a->cycle != b->cycle ? a->cycle < b->cycle : a->sequence < b->sequence;
}

static void sift_up(struct x86_event *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&h[i], &h[parent]))
            break;
        struct x86_event t = h[i];
        h[i] = h[parent];
        h[parent] = t;
        i = parent;
    }
}

static void sift_down(struct x86_event *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && earlier(&h[l], &h[m]))
            m = l;
        if (r < n && earlier(&h[r], &h[m]))
            m = r;
        if (m == i)
            break;
        struct x86_event t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void pop_top(struct x86_event_queue *q)
{
    q->heap[0] = q->heap[--q->count];
    sift_down(q->heap, q->count, 0);
}

/* cancelled ids: a sorted array, binary searched */
static size_t cancelled_position(const struct x86_event_queue *q, uint64_t id)
{
    size_t lo = 0, hi = q->cancelled_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (q->cancelled[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool take_cancelled(struct x86_event_queue *q, uint64_t id)
{
    size_t at = cancelled_position(q, id);
    if (at == q->cancelled_count || q->cancelled[at] != id)
        return false;
    memmove(&q->cancelled[at], &q->cancelled[at + 1],
            (q->cancelled_count - at - 1) * sizeof(*q->cancelled));
    q->cancelled_count--;
    return true;
}

/* drop cancelled entries from the top so heap[0] is live */
static void skip_cancelled(struct x86_event_queue *q)
{
    while (q->count && q->cancelled_count && take_cancelled(q, q->heap[0].id))
        pop_top(q);
}

static void compact(struct x86_event_queue *q)
{
    size_t kept = 0;
    for (size_t i = 0; i < q->count; i++)
        if (!take_cancelled(q, q->heap[i].id))
            q->heap[kept++] = q->heap[i];
    q->count = kept;
    for (size_t i = kept / 2 + 1; i-- > 0;)
        sift_down(q->heap, q->count, i);
}

uint64_t x86_events_schedule(struct x86_event_queue *queue, uint64_t cycle, x86_event_fn fn,
                             void *opaque)
{
    if (queue->count == queue->capacity) {
        size_t n = queue->capacity ? queue->capacity * 2 : 16;
        struct x86_event *bigger = realloc(queue->heap, n * sizeof(*bigger));
        if (!bigger)
            return 0;
        queue->heap = bigger;
        queue->capacity = n;
    }
    uint64_t id = queue->next_sequence++;
    queue->heap[queue->count] = (struct x86_event){ cycle, id, id, fn, opaque };
    sift_up(queue->heap, queue->count);
    queue->count++;
    if (queue->on_schedule)
        queue->on_schedule(queue->context, cycle);
    return id;
}

bool x86_events_cancel(struct x86_event_queue *queue, uint64_t id)
{
    /* is it pending? (ids are unique; a linear scan keeps the heap free of back-pointers) */
    bool pending = false;
    for (size_t i = 0; i < queue->count && !pending; i++)
        pending = queue->heap[i].id == id;
    if (!pending)
        return false;
    size_t at = cancelled_position(queue, id);
    if (at < queue->cancelled_count && queue->cancelled[at] == id)
        return false; /* already cancelled */
    if (queue->cancelled_count == queue->cancelled_capacity) {
        size_t n = queue->cancelled_capacity ? queue->cancelled_capacity * 2 : 8;
        uint64_t *bigger = realloc(queue->cancelled, n * sizeof(*bigger));
        if (!bigger)
            return false;
        queue->cancelled = bigger;
        queue->cancelled_capacity = n;
    }
    memmove(&queue->cancelled[at + 1], &queue->cancelled[at],
            (queue->cancelled_count - at) * sizeof(*queue->cancelled));
    queue->cancelled[at] = id;
    queue->cancelled_count++;
    if (queue->cancelled_count * 2 > queue->count)
        compact(queue);
    else
        skip_cancelled(queue);
    return true;
}

uint64_t x86_events_next_cycle(struct x86_event_queue *queue)
{
    skip_cancelled(queue);
    return queue->count ? queue->heap[0].cycle : UINT64_MAX;
}

size_t x86_events_run_due(struct x86_event_queue *queue, uint64_t now)
{
    size_t ran = 0;
    for (;;) {
        skip_cancelled(queue);
        if (queue->count == 0 || queue->heap[0].cycle > now)
            break;
        struct x86_event e = queue->heap[0];
        pop_top(queue);
        e.fn(queue->context, e.opaque);
        ran++;
    }
    return ran;
}

static int compare_events(const void *a, const void *b)
{
    return earlier(a, b) ? -1 : earlier(b, a) ? 1 : 0;
}

bool x86_events_list(struct x86_event_queue *queue, struct x86_event **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    struct x86_event *list = malloc((queue->count ? queue->count : 1) * sizeof(*list));
    if (!list)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < queue->count; i++) {
        size_t at = cancelled_position(queue, queue->heap[i].id);
        if (!(at < queue->cancelled_count && queue->cancelled[at] == queue->heap[i].id))
            list[n++] = queue->heap[i];
    }
    qsort(list, n, sizeof(*list), compare_events);
    *out = list;
    *count = n;
    return true;
}

void x86_events_replace(struct x86_event_queue *queue, struct x86_event *events, size_t count,
                        size_t capacity, uint64_t next_sequence)
{
    free(queue->heap);
    free(queue->cancelled);
    queue->heap = events;
    queue->count = count;
    queue->capacity = capacity;
    queue->cancelled = NULL;
    queue->cancelled_count = queue->cancelled_capacity = 0;
    queue->next_sequence = next_sequence;
    /* sorted by (cycle, sequence) is already a min-heap; sift anyway, for any order */
    for (size_t i = count / 2 + 1; i-- > 0;)
        sift_down(queue->heap, queue->count, i);
}
