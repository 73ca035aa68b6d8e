/* x86irq-run's snapshots (snapshots.h) */
#include "snapshots.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool snapshot_point_parse(const char *spec, struct snapshot_point *point)
{
    if (!spec)
        return false;
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return false;
    char *end;
    unsigned long long cycle = strtoull(spec, &end, 0);
    if (end != colon || spec[0] == '-')
        return false;
    point->cycle = cycle;
    point->path = colon + 1;
    return true;
}

static int by_cycle(const void *a, const void *b)
{
    const struct snapshot_point *x = a, *y = b;
    return x->cycle < y->cycle ? -1 : x->cycle > y->cycle;
}

bool snapshot_plan_any(const struct snapshot_plan *plan)
{
    return plan->count || plan->every;
}

/* Save to path: whole, or a delta against the run's first snapshot (*base, kept) */
static x86irq_status save(x86irq_machine *m, const struct snapshot_plan *plan, const char *path,
                          void **base, size_t *base_size)
{
    if (!plan->delta)
        return x86irq_snapshot_save_file(m, path);
    void *data;
    size_t size;
    x86irq_status s = *base ? x86irq_snapshot_save_delta(m, *base, *base_size, &data, &size)
                            : x86irq_snapshot_save(m, &data, &size);
    if (s != X86IRQ_OK)
        return s;
    FILE *f = fopen(path, "wb");
    bool written = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0)
        written = false;
    if (!written) {
        fprintf(stderr, "x86irq-run: --snapshot: %s: %s\n", path, strerror(errno));
        x86irq_snapshot_free(data);
        return X86IRQ_ERR_IO;
    }
    if (*base) {
        x86irq_snapshot_free(data);
    } else {
        *base = data;
        *base_size = size;
    }
    return X86IRQ_OK;
}

x86irq_status snapshots_run(x86irq_machine *m, struct snapshot_plan *plan, uint64_t max_cycles,
                            bool quiet, x86irq_stop_reason *reason, bool *io_failed)
{
    *io_failed = false;
    struct snapshot_point *points = plan->points;
    unsigned count = plan->count;
    qsort(points, count, sizeof(*points), by_cycle);
    uint64_t start = x86irq_cycles(m);
    uint64_t end = start + max_cycles < start ? UINT64_MAX : start + max_cycles;
    /* the next multiple of every at or after start */
    uint64_t periodic = UINT64_MAX;
    if (plan->every && start / plan->every < UINT64_MAX / plan->every)
        periodic = (start + plan->every - 1) / plan->every * plan->every;
    void *base = NULL;
    size_t base_size = 0;
    x86irq_status status = X86IRQ_OK;
    unsigned next = 0;
    for (;;) {
        uint64_t now = x86irq_cycles(m);
        for (;;) {
            char name[4096];
            const char *path;
            if (next < count && points[next].cycle <= now) {
                if (points[next].cycle < start) /* (a restored run that starts later) */
                    fprintf(stderr, "x86irq-run: --snapshot-at=%llu: the run starts at cycle "
                                    "%llu: saved there\n",
                            (unsigned long long)points[next].cycle, (unsigned long long)now);
                path = points[next++].path;
            } else if (periodic <= now) {
                snprintf(name, sizeof(name), "%s-%llu.snap", plan->prefix,
                         (unsigned long long)periodic);
                path = name;
                periodic = periodic > UINT64_MAX - plan->every ? UINT64_MAX
                                                               : periodic + plan->every;
            } else {
                break;
            }
            bool delta = plan->delta && base;
            x86irq_status s = save(m, plan, path, &base, &base_size);
            if (s != X86IRQ_OK) {
                if (s != X86IRQ_ERR_IO || !plan->delta)
                    fprintf(stderr, "x86irq-run: --snapshot: %s\n", x86irq_last_error(m));
                *io_failed = s == X86IRQ_ERR_IO;
                x86irq_snapshot_free(base);
                return s;
            }
            if (!quiet)
                fprintf(stderr, "x86irq-run: snapshot at cycle %llu: %s%s\n",
                        (unsigned long long)now, path, delta ? " (a delta)" : "");
        }
        if (now >= end) {
            *reason = X86IRQ_STOP_BUDGET;
            break;
        }
        uint64_t target = next < count && points[next].cycle < end ? points[next].cycle : end;
        if (periodic < target)
            target = periodic;
        status = x86irq_run(m, target - now, reason);
        if (status != X86IRQ_OK || *reason != X86IRQ_STOP_BUDGET || target == end)
            break;
    }
    x86irq_snapshot_free(base);
    if (status != X86IRQ_OK)
        return status;
    for (; next < count; next++)
        fprintf(stderr, "x86irq-run: --snapshot-at=%llu: not taken, the run ended at cycle %llu\n",
                (unsigned long long)points[next].cycle, (unsigned long long)x86irq_cycles(m));
    return X86IRQ_OK;
}
