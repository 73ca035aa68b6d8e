/* x86irq-run's snapshots: --snapshot-at=CYCLE:FILE and --snapshot-every=CYCLES:PREFIX (the run
 * cut at those cycles, a snapshot saved at each: cutting a run changes nothing in it), with
 * --snapshot-delta the snapshots after the first saved as deltas against it; and --restore. */
#ifndef X86IRQ_TOOLS_SNAPSHOTS_H
#define X86IRQ_TOOLS_SNAPSHOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "x86irq/x86irq.h"

#define SNAPSHOTS_MAX 16

struct snapshot_point {
    uint64_t cycle;           /* the machine's cycle (absolute: a restored run goes on counting) */
    const char *path;
};

struct snapshot_plan {
    struct snapshot_point points[SNAPSHOTS_MAX]; /* --snapshot-at, in any order */
    unsigned count;
    uint64_t every;           /* --snapshot-every: at each multiple of it (0: none) ... */
    const char *prefix;       /* ... to PREFIX-CYCLE.snap, CYCLE the multiple */
    bool delta;               /* --snapshot-delta */
};

/* Parse "CYCLE:FILE" (CYCLE decimal or 0x hex) into *point; false: malformed (--snapshot-every's
 * CYCLES:PREFIX is parsed alike; its CYCLES must not be 0). */
bool snapshot_point_parse(const char *spec, struct snapshot_point *point);

/* Whether the plan saves anything */
bool snapshot_plan_any(const struct snapshot_plan *plan);

/* x86irq_run for max_cycles (from now), stopping at each cycle the plan names to save its
 * snapshot. A snapshot that cannot be written: *io_failed, the run ends there with
 * X86IRQ_ERR_IO. Points the run does not reach are reported on stderr. */
x86irq_status snapshots_run(x86irq_machine *m, struct snapshot_plan *plan, uint64_t max_cycles,
                            bool quiet, x86irq_stop_reason *reason, bool *io_failed);

#endif
