/* N machines in N threads of one process give the same results as the same runs one after
 * another (issue "Reliability"): the library has no global mutable state, so threads share
 * nothing but the read-only tables. Each run's digest covers the guest's serial output, every
 * trace event (cycle, kind, vector, EIP, CPU...), the stop reason and the instruction and cycle
 * counts of every CPU. TAP on stdout. Run it in a ThreadSanitizer build too (docs/api.md):
 *   meson setup build-tsan -Db_sanitize=thread && meson test -C build-tsan --suite reliability
 *   threads-test GUEST.elf[:CPUS]...  */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <x86irq/x86irq.h>

#define THREADS 8
#define MAX_GUESTS 16
#define MAX_CYCLES 400000000ull

struct guest {
    const char *path;
    unsigned cpus;
};

struct digest {
    uint64_t hash;
    uint64_t events, serial_bytes;
    x86irq_stop_reason reason;
    x86irq_status status;
};

/* FNV-1a */
static void mix(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= 0x100000001B3ull;
    }
}
static void mix64(uint64_t *h, uint64_t v) { mix(h, &v, sizeof(v)); }

static void on_serial(void *opaque, uint8_t byte)
{
    struct digest *d = opaque;
    mix(&d->hash, &byte, 1);
    d->serial_bytes++;
}

static void on_event(void *opaque, const x86irq_trace_event *e)
{
    struct digest *d = opaque;
    mix64(&d->hash, e->cycle);
    mix64(&d->hash, (uint64_t)e->kind << 32 | e->vector);
    mix64(&d->hash, e->eip);
    mix64(&d->hash, e->cs);
    mix64(&d->hash, (uint64_t)e->core << 24 | (uint64_t)e->depth << 16 | e->origin);
    mix64(&d->hash, (uint64_t)e->line << 32 | e->error_code);
    d->events++;
}

static struct digest run_guest(const struct guest *g)
{
    struct digest d = { .hash = 0xCBF29CE484222325ull };
    x86irq_config c;
    x86irq_config_init(&c);
    c.cpus = g->cpus;
    x86irq_machine *m = NULL;
    d.status = x86irq_machine_create(&c, &m);
    if (d.status != X86IRQ_OK)
        return d;
    x86irq_set_serial_output(m, on_serial, &d);
    x86irq_set_trace_hook(m, ~0u, on_event, &d);
    d.status = x86irq_load_elf(m, g->path, NULL);
    if (d.status == X86IRQ_OK)
        d.status = x86irq_run(m, MAX_CYCLES, &d.reason);
    for (unsigned i = 0; i < x86irq_cpu_count(m); i++) {
        mix64(&d.hash, x86irq_cpu_cycles(m, i));
        mix64(&d.hash, x86irq_cpu_instructions(m, i));
    }
    mix64(&d.hash, (uint64_t)d.reason);
    x86irq_machine_destroy(m);
    return d;
}

static struct guest guests[MAX_GUESTS];
static unsigned guest_count;

struct job {
    pthread_t thread;
    unsigned guest;
    struct digest result;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    j->result = run_guest(&guests[j->guest]);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc && guest_count < MAX_GUESTS; i++) {
        struct guest *g = &guests[guest_count++];
        char *colon = strrchr(argv[i], ':');
        g->cpus = 1;
        if (colon && colon[1] >= '1' && colon[1] <= '9') {
            g->cpus = (unsigned)strtoul(colon + 1, NULL, 10);
            *colon = 0;
        }
        g->path = argv[i];
    }
    if (guest_count == 0) {
        printf("1..0 # SKIP no guests given\n");
        return 0;
    }
    printf("1..%u\n", guest_count + 1);
    struct digest sequential[MAX_GUESTS];
    int failed = 0, n = 0;
    for (unsigned i = 0; i < guest_count; i++) {
        sequential[i] = run_guest(&guests[i]);
        int good = sequential[i].status == X86IRQ_OK && sequential[i].events > 0;
        printf("%s %d - %s on %u CPU(s) alone: %llu trace events, %llu serial bytes, digest %016llx\n",
               good ? "ok" : "not ok", ++n, guests[i].path, guests[i].cpus,
               (unsigned long long)sequential[i].events,
               (unsigned long long)sequential[i].serial_bytes,
               (unsigned long long)sequential[i].hash);
        failed |= !good;
    }
    /* every guest in parallel, several times over: THREADS threads at once */
    struct job jobs[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        jobs[t].guest = t % guest_count;
        if (pthread_create(&jobs[t].thread, NULL, worker, &jobs[t]) != 0) {
            printf("not ok %d - pthread_create\n", ++n);
            return 1;
        }
    }
    unsigned differ = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_join(jobs[t].thread, NULL);
        const struct digest *a = &jobs[t].result, *b = &sequential[jobs[t].guest];
        if (a->hash != b->hash || a->events != b->events || a->status != b->status) {
            differ++;
            printf("# thread %u (%s): digest %016llx, alone %016llx\n", t,
                   guests[jobs[t].guest].path, (unsigned long long)a->hash,
                   (unsigned long long)b->hash);
        }
    }
    printf("%s %d - %d machines in %d threads at once give the same digests as alone (%u differ)\n",
           differ ? "not ok" : "ok", ++n, THREADS, THREADS, differ);
    failed |= differ != 0;
    return failed;
}
