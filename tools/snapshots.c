/* x86irq-run's snapshots (snapshots.h) */
#include "snapshots.h"

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

x86irq_status snapshots_run(x86irq_machine *m, struct snapshot_point *points, unsigned count,
                            uint64_t max_cycles, bool quiet, x86irq_stop_reason *reason,
                            bool *io_failed)
{
    *io_failed = false;
    qsort(points, count, sizeof(*points), by_cycle);
    uint64_t start = x86irq_cycles(m);
    uint64_t end = start + max_cycles < start ? UINT64_MAX : start + max_cycles;
    unsigned next = 0;
    for (;;) {
        uint64_t now = x86irq_cycles(m);
        while (next < count && points[next].cycle <= now) {
            if (points[next].cycle < start) /* (a restored run that starts later) */
                fprintf(stderr, "x86irq-run: --snapshot-at=%llu: the run starts at cycle %llu: "
                                "saved there\n", (unsigned long long)points[next].cycle,
                        (unsigned long long)now);
            x86irq_status s = x86irq_snapshot_save_file(m, points[next].path);
            if (s != X86IRQ_OK) {
                fprintf(stderr, "x86irq-run: --snapshot-at: %s\n", x86irq_last_error(m));
                *io_failed = s == X86IRQ_ERR_IO;
                return s;
            }
            if (!quiet)
                fprintf(stderr, "x86irq-run: snapshot at cycle %llu: %s\n",
                        (unsigned long long)now, points[next].path);
            next++;
        }
        if (now >= end) {
            *reason = X86IRQ_STOP_BUDGET;
            break;
        }
        uint64_t target = next < count && points[next].cycle < end ? points[next].cycle : end;
        x86irq_status s = x86irq_run(m, target - now, reason);
        if (s != X86IRQ_OK)
            return s;
        if (*reason != X86IRQ_STOP_BUDGET || target == end)
            break;
    }
    for (; next < count; next++)
        fprintf(stderr, "x86irq-run: --snapshot-at=%llu: not taken, the run ended at cycle %llu\n",
                (unsigned long long)points[next].cycle, (unsigned long long)x86irq_cycles(m));
    return X86IRQ_OK;
}
