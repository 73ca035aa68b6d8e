/* Reverse execution for the GDB stub (gdb's reverse-stepi and reverse-continue, packets bs and
 * bc): the machine is deterministic, so going back is restoring a snapshot taken earlier in the
 * session and replaying forward to the wanted point. The stub keeps a short history of
 * snapshots, one when gdb resumes the machine and the last is X86_GDB_HISTORY_INTERVAL cycles
 * old or more, and one every X86_GDB_HISTORY_PERIOD cycles of a continue. A position is a CPU's retired instruction count at one of its instruction
 * boundaries (x86_machine_run_until stops there). What the replay cannot reproduce ends the
 * history: input from the host since a snapshot (the machine counts it) makes that snapshot
 * unusable, and gdb's own writes to memory or registers forget the history. */
#include "gdb/gdb.h"

#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void drop(struct x86_gdb *g, unsigned i)
{
    x86irq_snapshot_free(g->history[i].data);
    memmove(&g->history[i], &g->history[i + 1],
            (g->history_count - i - 1) * sizeof(g->history[0]));
    g->history_count--;
}

void x86_gdb_history_forget(struct x86_gdb *g)
{
    while (g->history_count)
        drop(g, g->history_count - 1);
}

/* Remember the functions of the embedder's pending events (by id): a snapshot restores them
 * unbound, and the replay needs them (an embedder's device, x86irq-run's traffic) */
static void learn_bindings(struct x86_gdb *g)
{
    const x86irq_machine *m = g->machine;
    for (size_t e = 0; e < m->external_event_count; e++) {
        const struct x86_external_event *x = &m->external_events[e];
        if (!x->fn || x->unbound)
            continue;
        unsigned i = 0;
        while (i < g->binding_count && g->bindings[i].id != x->id)
            i++;
        if (i == g->binding_count) {
            if (g->binding_count == COUNT(g->bindings)) { /* the oldest goes */
                memmove(&g->bindings[0], &g->bindings[1],
                        (COUNT(g->bindings) - 1) * sizeof(g->bindings[0]));
                g->binding_count--;
                i = g->binding_count;
            }
            g->binding_count++;
        }
        g->bindings[i] = (struct x86_gdb_binding){ x->id, x->fn, x->opaque };
    }
}

void x86_gdb_history_mark(struct x86_gdb *g, uint64_t interval)
{
    learn_bindings(g);
    x86irq_machine *m = g->machine;
    uint64_t now = x86irq_cycles(m);
    /* a usable snapshot at or before now and recent enough: none needed. Snapshots after now
     * (the machine was taken back) stay: the machine replays to the same states. */
    for (unsigned i = 0; i < g->history_count; i++) {
        const struct x86_gdb_moment *h = &g->history[i];
        if (h->host_inputs == m->host_inputs && h->cycle <= now &&
            now - h->cycle < interval)
            return;
    }
    struct x86_gdb_moment h;
    memset(&h, 0, sizeof(h));
    if (x86irq_snapshot_save(m, &h.data, &h.size) != X86IRQ_OK)
        return; /* no history here: reverse execution says where it begins */
    h.cycle = now;
    h.host_inputs = m->host_inputs;
    for (unsigned c = 0; c < m->core_count && c < COUNT(h.instructions); c++)
        h.instructions[c] = x86irq_cpu_instructions(m, c);
    /* snapshots from before an input are of no use any more */
    for (unsigned i = g->history_count; i-- > 0;)
        if (g->history[i].host_inputs != m->host_inputs)
            drop(g, i);
    if (g->history_count == COUNT(g->history))
        drop(g, 0);
    /* in cycle order */
    unsigned at = g->history_count;
    while (at > 0 && g->history[at - 1].cycle > now)
        at--;
    memmove(&g->history[at + 1], &g->history[at], (g->history_count - at) * sizeof(h));
    g->history[at] = h;
    g->history_count++;
}

/* gdb's breakpoints and watchpoints out of the machine (a reverse step replays past them) or
 * back in */
static void points(struct x86_gdb *g, bool insert)
{
    static const x86irq_watch_kind kinds[] = { X86IRQ_WATCH_WRITE, X86IRQ_WATCH_READ,
                                               X86IRQ_WATCH_ACCESS };
    for (unsigned i = 0; i < g->point_count; i++) {
        const struct x86_gdb_point *p = &g->points[i];
        if (p->type == 0)
            (void)(insert ? x86irq_add_breakpoint(g->machine, p->address)
                          : x86irq_remove_breakpoint(g->machine, p->address));
        else
            (void)(insert ? x86irq_add_watchpoint(g->machine, p->address, p->kind,
                                                  kinds[p->type - 2])
                          : x86irq_remove_watchpoint(g->machine, p->address, p->kind,
                                                     kinds[p->type - 2]));
    }
}

/* the newest usable snapshot before position `before` of CPU cpu, searching below `below`
 * (an index); -1 if none */
static int earlier(const struct x86_gdb *g, unsigned cpu, uint64_t before, int below)
{
    for (int i = below - 1; i >= 0; i--) {
        const struct x86_gdb_moment *h = &g->history[i];
        if (h->host_inputs == g->machine->host_inputs && h->instructions[cpu] < before)
            return i;
    }
    return -1;
}

static bool restore(struct x86_gdb *g, int i)
{
    x86irq_machine *m = g->machine;
    learn_bindings(g);
    if (x86irq_snapshot_restore(m, g->history[i].data, g->history[i].size) != X86IRQ_OK)
        return false;
    uint64_t id;
    while (x86irq_unbound_event(m, 0, &id, NULL) == X86IRQ_OK) {
        unsigned b = 0;
        while (b < g->binding_count && g->bindings[b].id != id)
            b++;
        if (b == g->binding_count) {
            x86_machine_error(m, X86IRQ_ERR_STATE,
                              "the embedder's event %llu, pending in the snapshot, is not known "
                              "to the session", (unsigned long long)id);
            return false;
        }
        if (x86irq_rebind_event(m, id, g->bindings[b].fn, g->bindings[b].opaque) != X86IRQ_OK)
            return false;
    }
    return true;
}

/* Replay from the restored snapshot to CPU cpu's position `to`, stopping at each breakpoint or
 * watchpoint hit on the way: the number of hits, the reason of the last in *reason (stop_at:
 * stop at that hit instead, 0 for none); *failed when the machine refused to run */
static unsigned replay(struct x86_gdb *g, unsigned cpu, uint64_t to, uint64_t budget,
                       unsigned stop_at, x86irq_stop_reason *reason, bool *failed)
{
    unsigned hits = 0;
    for (;;) {
        x86irq_stop_reason r = X86IRQ_STOP_NONE;
        if (x86_machine_run_until(g->machine, cpu, to, budget, &r) != X86IRQ_OK) {
            *failed = true;
            return hits;
        }
        if (r != X86IRQ_STOP_BREAKPOINT && r != X86IRQ_STOP_WATCHPOINT)
            return hits; /* at the position (or the machine stopped on its own) */
        if (x86irq_cpu_instructions(g->machine, cpu) >= to)
            return hits; /* the stop gdb is at now (a watchpoint reports after the access) */
        hits++;
        *reason = r;
        if (hits == stop_at)
            return hits;
    }
}

enum x86_gdb_reverse_end x86_gdb_reverse(struct x86_gdb *g, unsigned cpu, bool step,
                                         x86irq_stop_reason *reason)
{
    x86irq_machine *m = g->machine;
    if (cpu >= m->core_count || cpu >= COUNT(g->history[0].instructions))
        return X86_GDB_REVERSE_FAILED;
    uint64_t position = x86irq_cpu_instructions(m, cpu);
    /* the budget of a replay: from the oldest snapshot to now, and some */
    uint64_t budget = g->history_count ? x86irq_cycles(m) - g->history[0].cycle + 1000000
                                       : 0;
    *reason = X86IRQ_STOP_STEP;
    if (step) {
        int i = earlier(g, cpu, position, (int)g->history_count);
        if (i < 0)
            return X86_GDB_REVERSE_BEGIN;
        if (!restore(g, i))
            return X86_GDB_REVERSE_FAILED;
        points(g, false);
        x86irq_stop_reason r;
        bool failed = false;
        replay(g, cpu, position - 1, budget, 0, &r, &failed);
        points(g, true);
        return failed ? X86_GDB_REVERSE_FAILED : X86_GDB_REVERSE_STOPPED;
    }
    /* continue backwards: the last hit between the newest snapshot before here and here; if
     * none, between the one before it and that one, and so on */
    for (int i = earlier(g, cpu, position, (int)g->history_count); i >= 0;
         i = earlier(g, cpu, position, i)) {
        if (!restore(g, i))
            return X86_GDB_REVERSE_FAILED;
        x86irq_stop_reason last = X86IRQ_STOP_NONE;
        bool failed = false;
        unsigned hits = replay(g, cpu, position, budget, 0, &last, &failed);
        if (failed)
            return X86_GDB_REVERSE_FAILED;
        if (hits) {
            if (!restore(g, i))
                return X86_GDB_REVERSE_FAILED;
            replay(g, cpu, position, budget, hits, reason, &failed);
            return failed ? X86_GDB_REVERSE_FAILED : X86_GDB_REVERSE_STOPPED;
        }
        position = g->history[i].instructions[cpu];
        if (earlier(g, cpu, position, i) < 0) {
            /* no hit since the oldest: there, at the beginning of the history */
            if (!restore(g, i))
                return X86_GDB_REVERSE_FAILED;
            return X86_GDB_REVERSE_BEGIN;
        }
    }
    return X86_GDB_REVERSE_BEGIN;
}
