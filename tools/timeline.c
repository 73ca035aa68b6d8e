/* The timeline picture (timeline.h). Slices are drawn per CPU: what the running thread has in
 * service, one row per depth, and its phase on a row of its own. Segments (a slice, or the part
 * of it a CPU ran before its thread was switched out) go to a temporary file as they end, so
 * memory stays small however long the run; the picture is made from that file at the end, when
 * the run's length (the time axis) is known. Everything is computed from cycles: two runs
 * give the same bytes. */
#include "timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64      /* as the observer's: deeper slices are counted, not drawn */
#define MAX_CPUS 64

/* the picture's geometry, in SVG user units (pixels at 100%) */
enum {
    WIDTH = 1200,
    PLOT_X = 120,         /* the labels' column on the left */
    PLOT_W = 1050,        /* one density column per unit */
    TOP = 56,             /* below the title */
    BAND_HEADER = 16,
    ROW_H = 14,
    ROW_GAP = 2,
    BAND_GAP = 10,
    AXIS_H = 36,
    LEGEND_ROW = 18,
};
/* A slice narrower than this is merged into its row's density marks: a row's slices do not
 * overlap, so it has fewer than PLOT_W / MIN_PX slices drawn on their own */
#define MIN_PX 2.0

/* kinds -> class name, legend label, colour */
static const struct {
    const char *key, *label, *colour;
} kinds[TIMELINE_KIND_COUNT] = {
    [TIMELINE_FAULT] = { "fault", "exception: fault", "#8c564b" },
    [TIMELINE_TRAP] = { "trap", "exception: trap", "#bcbd22" },
    [TIMELINE_ABORT] = { "abort", "exception: abort", "#000000" },
    [TIMELINE_SOFTWARE] = { "software", "software int n", "#7f7f7f" },
    [TIMELINE_EXTERNAL] = { "external", "external interrupt (line, MSI)", "#1f77b4" },
    [TIMELINE_TIMER] = { "timer", "local APIC timer", "#e6ab02" },
    [TIMELINE_IPI] = { "ipi", "IPI", "#17becf" },
    [TIMELINE_NMI] = { "nmi", "NMI", "#e377c2" },
    [TIMELINE_CRITICAL] = { "critical", "phase: critical", "#d62728" },
    [TIMELINE_IMMEDIATE] = { "immediate", "phase: immediate", "#ff7f0e" },
    [TIMELINE_SOFTIRQ] = { "softirq", "phase: softirq", "#2ca02c" },
    [TIMELINE_TASKLET] = { "tasklet", "phase: tasklet", "#98df8a" },
    [TIMELINE_WORKQUEUE] = { "workqueue", "phase: workqueue", "#9467bd" },
};
/* density marks: how busy a column is -> opacity, in four steps (so runs of columns merge) */
static const double density_opacity[4] = { 0.45, 0.6, 0.8, 1.0 };

/* one segment, as written to the temporary file */
struct segment {
    uint64_t start, end;
    uint32_t name;
    uint8_t cpu, row, kind, vector; /* row 0: phases; 1 + d: depth d */
};

struct open_slice {
    uint64_t start;          /* of its current segment */
    uint32_t name;
    uint8_t kind, vector;
};

struct thread {
    struct open_slice stack[MAX_DEPTH];
    unsigned depth;
    bool running;            /* its segments are open on cpu */
    uint8_t cpu;
    uint8_t phase;
    uint64_t phase_start;
};

struct timeline {
    struct timeline_options o;
    FILE *out, *segments;
    struct thread *threads;
    unsigned thread_count;
    /* interned slice names */
    char **names;
    uint32_t name_count, name_capacity;
    uint32_t *slots;         /* open addressing: name index + 1, 0 empty */
    uint32_t slot_count;
    /* what was seen */
    unsigned cpu_span;
    unsigned depth[MAX_CPUS]; /* the deepest row used per CPU */
    bool phases;
    uint32_t kinds_used;
    uint64_t segment_count, last;
    bool failed;             /* a write to the temporary file failed */
};

bool timeline_format(const char *path, bool *html)
{
    size_t n = path ? strlen(path) : 0;
    if (n > 4 && strcmp(path + n - 4, ".svg") == 0) {
        *html = false;
        return true;
    }
    if (n > 5 && strcmp(path + n - 5, ".html") == 0) {
        *html = true;
        return true;
    }
    return false;
}

struct timeline *timeline_create(const struct timeline_options *o)
{
    struct timeline *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->o = *o;
    t->out = fopen(o->path, "w");
    int error = errno;
    t->segments = t->out ? tmpfile() : NULL;
    if (!t->segments) {
        if (t->out) {
            error = errno;
            fclose(t->out);
        }
        free(t);
        errno = error;
        return NULL;
    }
    t->cpu_span = o->cpus < MAX_CPUS ? o->cpus : MAX_CPUS;
    return t;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* the name's index; 0 (the first name, "") when out of memory */
static uint32_t intern(struct timeline *t, const char *name)
{
    if (t->name_count * 2 >= t->slot_count) {
        uint32_t count = t->slot_count ? t->slot_count * 2 : 256;
        uint32_t *slots = calloc(count, sizeof(*slots));
        if (!slots)
            return 0;
        for (uint32_t i = 0; i < t->name_count; i++) {
            uint32_t s = hash(t->names[i]) & (count - 1);
            while (slots[s])
                s = (s + 1) & (count - 1);
            slots[s] = i + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->slot_count = count;
    }
    uint32_t s = hash(name) & (t->slot_count - 1);
    for (; t->slots[s]; s = (s + 1) & (t->slot_count - 1))
        if (strcmp(t->names[t->slots[s] - 1], name) == 0)
            return t->slots[s] - 1;
    if (t->name_count == t->name_capacity) {
        uint32_t capacity = t->name_capacity ? t->name_capacity * 2 : 64;
        char **bigger = realloc(t->names, capacity * sizeof(*bigger));
        if (!bigger)
            return 0;
        t->names = bigger;
        t->name_capacity = capacity;
    }
    char *copy = strdup(name);
    if (!copy)
        return 0;
    t->names[t->name_count] = copy;
    t->slots[s] = t->name_count + 1;
    return t->name_count++;
}

/* thread index's state, NULL when out of memory */
static struct thread *thread_at(struct timeline *t, unsigned index)
{
    if (index >= t->thread_count) {
        unsigned count = index + 1 > t->thread_count * 2 ? index + 1 : t->thread_count * 2;
        struct thread *bigger = realloc(t->threads, count * sizeof(*bigger));
        if (!bigger)
            return NULL;
        memset(bigger + t->thread_count, 0, (count - t->thread_count) * sizeof(*bigger));
        t->threads = bigger;
        t->thread_count = count;
    }
    return &t->threads[index];
}

static void emit(struct timeline *t, unsigned cpu, unsigned row, unsigned kind, unsigned vector,
                 uint32_t name, uint64_t start, uint64_t end)
{
    if (end <= start || cpu >= MAX_CPUS)
        return;
    struct segment s = { .start = start, .end = end, .name = name, .cpu = (uint8_t)cpu,
                         .row = (uint8_t)row, .kind = (uint8_t)kind, .vector = (uint8_t)vector };
    if (fwrite(&s, sizeof(s), 1, t->segments) != 1)
        t->failed = true;
    t->segment_count++;
    if (cpu >= t->cpu_span)
        t->cpu_span = cpu + 1;
    if (row == 0)
        t->phases = true;
    else if (row > t->depth[cpu])
        t->depth[cpu] = row;
    t->kinds_used |= 1u << kind;
    if (end > t->last)
        t->last = end;
}

static unsigned phase_kind(unsigned phase)
{
    return TIMELINE_CRITICAL + phase - 1;
}

/* the thread stops being drawn where it runs: its open segments end here */
static void suspend(struct timeline *t, struct thread *th, uint64_t cycle)
{
    if (!th->running)
        return;
    unsigned n = th->depth < MAX_DEPTH ? th->depth : MAX_DEPTH;
    for (unsigned i = 0; i < n; i++)
        emit(t, th->cpu, 1 + i, th->stack[i].kind, th->stack[i].vector, th->stack[i].name,
             th->stack[i].start, cycle);
    if (th->phase)
        emit(t, th->cpu, 0, phase_kind(th->phase), 0, 0, th->phase_start, cycle);
    th->running = false;
}

/* ... and is drawn on cpu from here */
static void resume(struct thread *th, unsigned cpu, uint64_t cycle)
{
    unsigned n = th->depth < MAX_DEPTH ? th->depth : MAX_DEPTH;
    for (unsigned i = 0; i < n; i++)
        th->stack[i].start = cycle;
    th->phase_start = cycle;
    th->running = true;
    th->cpu = (uint8_t)cpu;
}

static void run_on(struct timeline *t, struct thread *th, unsigned cpu, uint64_t cycle)
{
    if (th->running && th->cpu == cpu)
        return;
    suspend(t, th, cycle);
    resume(th, cpu, cycle);
}

void timeline_begin(struct timeline *t, unsigned thread, unsigned cpu, enum timeline_kind kind,
                    unsigned vector, const char *name, uint64_t cycle)
{
    struct thread *th = thread_at(t, thread);
    if (!th)
        return;
    run_on(t, th, cpu, cycle);
    if (th->depth < MAX_DEPTH)
        th->stack[th->depth] = (struct open_slice){ .start = cycle, .name = intern(t, name),
                                                    .kind = (uint8_t)kind,
                                                    .vector = (uint8_t)vector };
    th->depth++;
}

void timeline_end(struct timeline *t, unsigned thread, uint64_t cycle)
{
    struct thread *th = thread_at(t, thread);
    if (!th || !th->depth)
        return;
    th->depth--;
    if (th->depth < MAX_DEPTH && th->running) {
        const struct open_slice *s = &th->stack[th->depth];
        emit(t, th->cpu, 1 + th->depth, s->kind, s->vector, s->name, s->start, cycle);
    }
}

void timeline_phase(struct timeline *t, unsigned thread, unsigned cpu, unsigned phase,
                    uint64_t cycle)
{
    struct thread *th = thread_at(t, thread);
    if (!th || phase > TIMELINE_WORKQUEUE - TIMELINE_CRITICAL + 1) /* 0 process, 1-5 */
        return;
    run_on(t, th, cpu, cycle);
    if (th->phase)
        emit(t, cpu, 0, phase_kind(th->phase), 0, 0, th->phase_start, cycle);
    th->phase = (uint8_t)phase;
    th->phase_start = cycle;
}

void timeline_switch(struct timeline *t, unsigned cpu, unsigned from, unsigned to,
                     uint64_t cycle)
{
    /* both first: thread_at may move the array */
    if (!thread_at(t, from > to ? from : to))
        return;
    struct thread *left = &t->threads[from], *next = &t->threads[to];
    if (left->running && left->cpu == cpu)
        suspend(t, left, cycle);
    run_on(t, next, cpu, cycle);
}

void timeline_close(struct timeline *t, const uint64_t *end, unsigned cpus)
{
    uint64_t last = t->last;
    for (unsigned c = 0; c < cpus; c++)
        last = end[c] > last ? end[c] : last;
    for (unsigned i = 0; i < t->thread_count; i++) {
        struct thread *th = &t->threads[i];
        if (th->running)
            suspend(t, th, th->cpu < cpus ? end[th->cpu] : last);
    }
    if (last > t->last)
        t->last = last;
}

/* ------------------------------------------------------------------ text */

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20)
                fputc(*s, out);
        }
    }
}

/* microseconds from cycles with three decimals, trailing zeros dropped (integers only) */
static void us_text(const struct timeline *t, uint64_t cycles, char *buffer, size_t size)
{
    unsigned __int128 ns = (unsigned __int128)cycles * 1000000000u / t->o.cpu_hz;
    unsigned frac = (unsigned)(ns % 1000);
    if (frac == 0)
        snprintf(buffer, size, "%" PRIu64, (uint64_t)(ns / 1000));
    else if (frac % 100 == 0)
        snprintf(buffer, size, "%" PRIu64 ".%u", (uint64_t)(ns / 1000), frac / 100);
    else if (frac % 10 == 0)
        snprintf(buffer, size, "%" PRIu64 ".%02u", (uint64_t)(ns / 1000), frac / 10);
    else
        snprintf(buffer, size, "%" PRIu64 ".%03u", (uint64_t)(ns / 1000), frac);
}

/* a tick's cycle count: 2500000 -> "2.5M" */
static void cycles_text(uint64_t v, char *buffer, size_t size)
{
    static const struct { uint64_t unit; const char *suffix; } units[] = {
        { 1000000000000ull, "T" }, { 1000000000ull, "G" }, { 1000000ull, "M" }, { 1000ull, "k" },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t u = units[i].unit;
        if (v >= u) {
            uint64_t whole = v / u, rest = v % u;
            /* up to three decimals when they are exact, else the plain number */
            if (rest == 0)
                snprintf(buffer, size, "%" PRIu64 "%s", whole, units[i].suffix);
            else if (rest % (u / 10) == 0)
                snprintf(buffer, size, "%" PRIu64 ".%" PRIu64 "%s", whole, rest / (u / 10),
                         units[i].suffix);
            else if (u >= 100 && rest % (u / 100) == 0)
                snprintf(buffer, size, "%" PRIu64 ".%02" PRIu64 "%s", whole, rest / (u / 100),
                         units[i].suffix);
            else
                break;
            return;
        }
    }
    snprintf(buffer, size, "%" PRIu64, v);
}

/* ------------------------------------------------------------------ the picture */

struct bin {
    float busy;                     /* the column's share covered, 0-1 */
    float by_kind[TIMELINE_KIND_COUNT];
    uint32_t count;                 /* slices starting in it */
    uint32_t name;                  /* the slice that covers most of it, for its tooltip */
    float name_share;
};

struct layout {
    uint64_t from, to;
    double scale;                   /* units per cycle */
    unsigned rows[MAX_CPUS];        /* rows per CPU band */
    unsigned first_row[MAX_CPUS];   /* its first row's index among all rows */
    unsigned row_total;
    double band_y[MAX_CPUS];
    double axis_y, height;
    bool phase_row;
};

static double row_y(const struct layout *l, unsigned cpu, unsigned row)
{
    /* the phase row first when there is one, then depth 1, 2... */
    unsigned index = l->phase_row ? row : row - 1;
    return l->band_y[cpu] + BAND_HEADER + index * (ROW_H + ROW_GAP);
}

static void plan(const struct timeline *t, uint64_t start, struct layout *l)
{
    memset(l, 0, sizeof(*l));
    l->from = t->o.window ? t->o.from : start;
    l->to = t->o.window ? t->o.to : t->last;
    if (l->to <= l->from)
        l->to = l->from + 1;
    l->scale = (double)PLOT_W / (double)(l->to - l->from);
    l->phase_row = t->phases;
    double y = TOP;
    for (unsigned c = 0; c < t->cpu_span; c++) {
        l->rows[c] = (t->phases ? 1 : 0) + (t->depth[c] ? t->depth[c] : 1);
        l->first_row[c] = l->row_total;
        l->row_total += l->rows[c];
        l->band_y[c] = y;
        y += BAND_HEADER + l->rows[c] * (ROW_H + ROW_GAP) + BAND_GAP;
    }
    l->axis_y = y;
    unsigned legend_lines = 1 + TIMELINE_KIND_COUNT / 5;
    l->height = y + AXIS_H + legend_lines * LEGEND_ROW + 12;
}

static unsigned row_index(const struct layout *l, unsigned cpu, unsigned row)
{
    return l->first_row[cpu] + (l->phase_row ? row : row - 1);
}

static const char *slice_label(const struct timeline *t, const struct segment *s)
{
    if (s->row == 0)
        return kinds[s->kind].key; /* a phase's name */
    return s->name < t->name_count ? t->names[s->name] : "";
}

/* a slice's tooltip: name, kind, vector, start and duration */
static void tooltip(FILE *out, const struct timeline *t, const struct segment *s)
{
    char start[48], duration[48];
    us_text(t, s->start, start, sizeof(start));
    us_text(t, s->end - s->start, duration, sizeof(duration));
    fputs("<title>", out);
    xml_text(out, slice_label(t, s));
    fprintf(out, "\n%s", kinds[s->kind].label);
    if (s->row)
        fprintf(out, ", vector 0x%02x", s->vector);
    fprintf(out, "\nstart %" PRIu64 " cycles (%s \xc2\xb5s)\nduration %" PRIu64
                 " cycles (%s \xc2\xb5s)</title>", s->start, start, s->end - s->start, duration);
}

/* One pass over the segments: the wide ones as rectangles (into wide), the narrow ones into
 * their row's density bins. Returns the number merged. */
static uint64_t sort_segments(struct timeline *t, const struct layout *l, struct bin *bins,
                              FILE *wide, uint64_t *drawn)
{
    double *last_x = calloc(l->row_total ? l->row_total : 1, sizeof(*last_x));
    uint64_t merged = 0;
    struct segment s;
    rewind(t->segments);
    while (last_x && fread(&s, sizeof(s), 1, t->segments) == 1) {
        if (s.end <= l->from || s.start >= l->to || s.cpu >= t->cpu_span)
            continue;
        unsigned r = row_index(l, s.cpu, s.row);
        double x0 = (double)((s.start > l->from ? s.start : l->from) - l->from) * l->scale;
        double x1 = (double)((s.end < l->to ? s.end : l->to) - l->from) * l->scale;
        if (x1 - x0 >= MIN_PX && x0 >= last_x[r]) {
            fprintf(wide, "<rect class=\"k-%s\" x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" "
                          "height=\"%d\">", kinds[s.kind].key, x0, row_y(l, s.cpu, s.row),
                    x1 - x0, ROW_H);
            tooltip(wide, t, &s);
            fputs("</rect>\n", wide);
            last_x[r] = x1;
            (*drawn)++;
            continue;
        }
        merged++;
        struct bin *row = &bins[(size_t)r * PLOT_W];
        unsigned first = (unsigned)x0, end = (unsigned)x1 + 1;
        first = first < PLOT_W ? first : PLOT_W - 1;
        end = end < PLOT_W ? end : PLOT_W;
        row[first].count++;
        for (unsigned c = first; c < end; c++) {
            double lo = x0 > c ? x0 : c, hi = x1 < c + 1 ? x1 : c + 1;
            float share = hi > lo ? (float)(hi - lo) : 0.0f;
            row[c].busy += share;
            row[c].by_kind[s.kind] += share;
            if (share > row[c].name_share || !row[c].name_share) {
                row[c].name = s.row ? s.name : UINT32_MAX - s.kind; /* a phase: its kind */
                row[c].name_share = share > 0.0f ? share : 1e-6f;
            }
            if (share == 0.0f && c == first) /* a slice too short to cover anything shows */
                row[c].by_kind[s.kind] += 1e-6f;
        }
    }
    free(last_x);
    return merged;
}

static unsigned bin_kind(const struct bin *b)
{
    unsigned best = 0;
    for (unsigned k = 1; k < TIMELINE_KIND_COUNT; k++)
        if (b->by_kind[k] > b->by_kind[best])
            best = k;
    return best;
}

static unsigned bin_level(const struct bin *b)
{
    return b->busy >= 0.75f ? 3 : b->busy >= 0.4f ? 2 : b->busy >= 0.15f ? 1 : 0;
}

/* a row's density marks: runs of columns of the same kind and level as one rectangle */
static void draw_density(FILE *out, const struct timeline *t, const struct layout *l,
                         const struct bin *row, double y)
{
    for (unsigned c = 0; c < PLOT_W;) {
        const struct bin *b = &row[c];
        if (!b->count && b->busy <= 0.0f) {
            c++;
            continue;
        }
        unsigned kind = bin_kind(b), level = bin_level(b), end = c + 1;
        uint64_t count = b->count;
        double busy = b->busy;
        while (end < PLOT_W && (row[end].count || row[end].busy > 0.0f) &&
               bin_kind(&row[end]) == kind && bin_level(&row[end]) == level) {
            count += row[end].count;
            busy += row[end].busy;
            end++;
        }
        uint64_t from = l->from + (uint64_t)((double)c / l->scale);
        uint64_t to = l->from + (uint64_t)((double)end / l->scale);
        char a[48], z[48];
        us_text(t, from, a, sizeof(a));
        us_text(t, to, z, sizeof(z));
        fprintf(out, "<rect class=\"k-%s d%u\" x=\"%u\" y=\"%.0f\" width=\"%u\" height=\"%d\">"
                     "<title>%" PRIu64 " short slices merged (%s), %.0f%% busy, mostly ",
                kinds[kind].key, level, c, y, end - c, ROW_H, count, kinds[kind].label,
                100.0 * busy / (end - c));
        /* the name of what covers most of the run's first column */
        if (b->name >= UINT32_MAX - TIMELINE_KIND_COUNT)
            xml_text(out, kinds[UINT32_MAX - b->name].key);
        else
            xml_text(out, b->name < t->name_count ? t->names[b->name] : "");
        fprintf(out, "\ncycles %" PRIu64 "-%" PRIu64 " (%s-%s \xc2\xb5s)</title></rect>\n", from,
                to, a, z);
        c = end;
    }
}

/* the time axis' ticks, 1-2-5 steps, about eight of them (the page's script redraws them
 * when zoomed) */
static void draw_ticks(FILE *out, const struct timeline *t, const struct layout *l)
{
    uint64_t span = l->to - l->from, raw = span / 8 ? span / 8 : 1, step = 1;
    while (step < raw) {
        if (step * 2 >= raw) { step *= 2; break; }
        if (step * 5 >= raw) { step *= 5; break; }
        step *= 10;
    }
    fputs("<g id=\"axis\">", out);
    for (uint64_t v = (l->from + step - 1) / step * step; v <= l->to; v += step) {
        double x = PLOT_X + (double)(v - l->from) * l->scale;
        char c[48], u[48];
        cycles_text(v, c, sizeof(c));
        us_text(t, v, u, sizeof(u));
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" y2=\"%.0f\" class=\"tick\"/>"
                     "<text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>"
                     "<text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\" class=\"us\">%s \xc2\xb5s"
                     "</text>\n", x, l->axis_y, x, l->axis_y + 5, x, l->axis_y + 16, c, x,
                l->axis_y + 28, u);
        if (v > UINT64_MAX - step)
            break;
    }
    fputs("</g>\n", out);
}

static void draw_legend(FILE *out, const struct timeline *t, const struct layout *l,
                        bool density)
{
    double x = PLOT_X, y = l->axis_y + AXIS_H + 4;
    fprintf(out, "<g id=\"legend\"><text x=\"10\" y=\"%.0f\" font-weight=\"bold\">legend</text>",
            y + 10);
    for (unsigned k = 0; k < TIMELINE_KIND_COUNT + (density ? 1 : 0); k++) {
        if (k < TIMELINE_KIND_COUNT && !(t->kinds_used >> k & 1))
            continue;
        const char *label = k < TIMELINE_KIND_COUNT ? kinds[k].label
                                                     : "lighter: slices under 2 px merged";
        double w = 30 + 5.2 * (double)strlen(label);
        if (x + w > WIDTH - 10) {
            x = PLOT_X;
            y += LEGEND_ROW;
        }
        if (k < TIMELINE_KIND_COUNT)
            fprintf(out, "<rect class=\"k-%s\" x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\"/>",
                    kinds[k].key, x, y);
        else
            fprintf(out, "<rect class=\"k-%s d0\" x=\"%.0f\" y=\"%.0f\" width=\"12\" "
                         "height=\"12\"/>", kinds[TIMELINE_EXTERNAL].key, x, y);
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\">%s</text>", x + 16, y + 10, label);
        x += w;
    }
    fputs("</g>\n", out);
}

static void svg(FILE *out, struct timeline *t, const struct layout *l, const char *title)
{
    struct bin *bins = calloc((size_t)(l->row_total ? l->row_total : 1) * PLOT_W, sizeof(*bins));
    char *wide_text = NULL;
    size_t wide_size = 0;
    FILE *wide = open_memstream(&wide_text, &wide_size);
    uint64_t drawn = 0, merged = 0;
    if (bins && wide)
        merged = sort_segments(t, l, bins, wide, &drawn);
    else
        t->failed = true;
    if (wide)
        fclose(wide);

    double height = l->height;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
                 "viewBox=\"0 0 %d %.0f\" font-family=\"sans-serif\" font-size=\"11\" "
                 "data-from=\"%" PRIu64 "\" data-to=\"%" PRIu64 "\" data-hz=\"%" PRIu64 "\" "
                 "data-plot-x=\"%d\" data-plot-w=\"%d\" data-axis-y=\"%.0f\">\n",
            WIDTH, height, WIDTH, height, l->from, l->to, t->o.cpu_hz, PLOT_X, PLOT_W, l->axis_y);
    fputs("<style>\n", out);
    for (unsigned k = 0; k < TIMELINE_KIND_COUNT; k++)
        fprintf(out, ".k-%s{fill:%s}\n", kinds[k].key, kinds[k].colour);
    for (unsigned d = 0; d < 4; d++)
        fprintf(out, ".d%u{fill-opacity:%.2f}\n", d, density_opacity[d]);
    fputs(".row{fill:#f2f2f2}.row.odd{fill:#e8e8e8}.tick{stroke:#444}.us{fill:#666}"
          ".frame{fill:none;stroke:#999}\n</style>\n", out);
    fprintf(out, "<rect width=\"%d\" height=\"%.0f\" fill=\"#ffffff\"/>\n", WIDTH, height);

    /* the title: the guest, its CPUs and cycles */
    char span[48], window_from[48], window_to[48];
    us_text(t, t->last, span, sizeof(span));
    fputs("<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">", out);
    xml_text(out, title && *title ? title : "x86irq-run");
    fprintf(out, " \xe2\x80\x94 %u CPU%s, %" PRIu64 " cycles (%s \xc2\xb5s at %" PRIu64
                 " Hz)</text>\n", t->cpu_span, t->cpu_span == 1 ? "" : "s", t->last, span,
            t->o.cpu_hz);
    us_text(t, l->from, window_from, sizeof(window_from));
    us_text(t, l->to, window_to, sizeof(window_to));
    fprintf(out, "<text x=\"10\" y=\"40\" fill=\"#444\">cycles %" PRIu64 "-%" PRIu64
                 " (%s-%s \xc2\xb5s): %" PRIu64 " slices drawn, %" PRIu64
                 " narrower than %.0f px merged into density marks; one row per nesting depth"
                 "%s</text>\n", l->from, l->to, window_from, window_to, drawn, merged, MIN_PX,
            l->phase_row ? ", the phases above" : "");

    /* a band per CPU: its label and its rows' backgrounds */
    for (unsigned c = 0; c < t->cpu_span; c++) {
        fprintf(out, "<g class=\"band\" id=\"cpu%u\" data-cpu=\"%u\">"
                     "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">CPU %u</text>",
                c, c, l->band_y[c] + 12, c);
        for (unsigned r = 0; r < l->rows[c]; r++) {
            unsigned row = l->phase_row ? r : r + 1;
            double y = row_y(l, c, row);
            fprintf(out, "<rect class=\"row%s\" x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\"/>",
                    r % 2 ? " odd" : "", PLOT_X, y, PLOT_W, ROW_H);
            if (row == 0)
                fprintf(out, "<text x=\"24\" y=\"%.0f\">phases</text>", y + 11);
            else
                fprintf(out, "<text x=\"24\" y=\"%.0f\">depth %u</text>", y + 11, row);
        }
        fputs("</g>\n", out);
    }

    /* the slices, in the plot's coordinates (the page's script zooms this group) */
    fprintf(out, "<defs><clipPath id=\"plot-clip\"><rect x=\"%d\" y=\"0\" width=\"%d\" "
                 "height=\"%.0f\"/></clipPath></defs>\n<g id=\"plot\" clip-path=\"url(#plot-clip)\">"
                 "<g id=\"zoom\" transform=\"translate(%d,0)\">\n", PLOT_X, PLOT_W, height, PLOT_X);
    for (unsigned c = 0; bins && c < t->cpu_span; c++)
        for (unsigned r = 0; r < l->rows[c]; r++) {
            unsigned row = l->phase_row ? r : r + 1;
            draw_density(out, t, l, &bins[(size_t)(l->first_row[c] + r) * PLOT_W],
                         row_y(l, c, row));
        }
    if (wide_text)
        fwrite(wide_text, 1, wide_size, out);
    fputs("</g></g>\n", out);
    fprintf(out, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" class=\"tick\"/>\n", PLOT_X,
            l->axis_y, PLOT_X + PLOT_W, l->axis_y);
    fprintf(out, "<text x=\"10\" y=\"%.0f\">cycles</text><text x=\"10\" y=\"%.0f\" "
                 "class=\"us\">time</text>\n", l->axis_y + 16, l->axis_y + 28);
    draw_ticks(out, t, l);
    draw_legend(out, t, l, merged > 0);
    fputs("</svg>\n", out);
    free(wide_text);
    free(bins);
}

/* The page around the SVG: zoom with the wheel, pan by dragging, tooltips on hover; no
 * external resources */
static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>";
static const char page_style[] =
    "</title>\n<style>\n"
    "body{font-family:sans-serif;margin:8px;background:#fff}\n"
    "#help{color:#555;font-size:12px;margin:0 0 4px 0}\n"
    "svg{user-select:none;cursor:grab;width:100%;height:auto}\n"
    "#tip{position:fixed;display:none;white-space:pre;background:#ffffe0;border:1px solid #888;"
    "padding:4px 6px;font-size:12px;pointer-events:none}\n"
    "</style></head><body>\n"
    "<p id=\"help\">wheel: zoom the time axis \xc2\xb7 drag: pan \xc2\xb7 double-click: the "
    "whole window \xc2\xb7 hover: a slice's name, vector, start and duration</p>\n";
static const char page_script[] =
    "<div id=\"tip\"></div>\n<script>\n"
    "(function () {\n"
    "  var svg = document.querySelector('svg'), zoom = document.getElementById('zoom');\n"
    "  var axis = document.getElementById('axis'), tip = document.getElementById('tip');\n"
    "  var d = svg.dataset, X = +d.plotX, W = +d.plotW, from = +d.from, to = +d.to;\n"
    "  var hz = +d.hz, ay = +d.axisY, k = 1, t = 0, drag = null;\n"
    "  var NS = 'http://www.w3.org/2000/svg';\n"
    "  zoom.querySelectorAll('title').forEach(function (e) {\n"
    "    e.parentNode.setAttribute('data-tip', e.textContent); e.remove(); });\n"
    "  function point(ev) { var p = svg.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY;\n"
    "    return p.matrixTransform(svg.getScreenCTM().inverse()); }\n"
    "  function si(v) { var u = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];\n"
    "    for (var i = 0; i < u.length; i++) if (v >= u[i][0])\n"
    "      return +(v / u[i][0]).toFixed(3) + u[i][1];\n"
    "    return String(Math.round(v)); }\n"
    "  function add(tag, attrs, text) { var e = document.createElementNS(NS, tag);\n"
    "    for (var a in attrs) e.setAttribute(a, attrs[a]);\n"
    "    if (text) e.textContent = text; axis.appendChild(e); }\n"
    "  function ticks() {\n"
    "    var a = from + (-t / k) * (to - from) / W, b = from + ((W - t) / k) * (to - from) / W;\n"
    "    var raw = Math.max((b - a) / 8, 1), p = Math.pow(10, Math.floor(Math.log10(raw)));\n"
    "    var step = [1, 2, 5, 10].map(function (m) { return m * p; })\n"
    "      .filter(function (s) { return s >= raw; })[0];\n"
    "    step = Math.max(Math.round(step), 1);\n"
    "    while (axis.firstChild) axis.removeChild(axis.firstChild);\n"
    "    for (var v = Math.ceil(a / step) * step; v <= b; v += step) {\n"
    "      var x = X + (v - a) * W / (b - a);\n"
    "      add('line', {x1: x, y1: ay, x2: x, y2: ay + 5, 'class': 'tick'});\n"
    "      add('text', {x: x, y: ay + 16, 'text-anchor': 'middle'}, si(v));\n"
    "      add('text', {x: x, y: ay + 28, 'text-anchor': 'middle', 'class': 'us'},\n"
    "          +(v * 1e6 / hz).toFixed(3) + ' \\u00b5s'); } }\n"
    "  function apply() { t = Math.min(0, Math.max(t, W - W * k));\n"
    "    zoom.setAttribute('transform', 'translate(' + (X + t) + ',0) scale(' + k + ',1)');\n"
    "    ticks(); }\n"
    "  svg.addEventListener('wheel', function (ev) { var p = point(ev);\n"
    "    if (p.x < X || p.x > X + W) return; ev.preventDefault();\n"
    "    var u = (p.x - X - t) / k, n = Math.min(Math.max(k * Math.exp(-ev.deltaY * 0.002), 1),"
    " 1e7);\n"
    "    t = p.x - X - u * n; k = n; apply(); }, {passive: false});\n"
    "  svg.addEventListener('mousedown', function (ev) { drag = point(ev).x; });\n"
    "  window.addEventListener('mouseup', function () { drag = null; });\n"
    "  svg.addEventListener('dblclick', function () { k = 1; t = 0; apply(); });\n"
    "  svg.addEventListener('mousemove', function (ev) {\n"
    "    if (drag !== null) { var x = point(ev).x; t += x - drag; drag = x; apply(); }\n"
    "    var s = ev.target.getAttribute && ev.target.getAttribute('data-tip');\n"
    "    if (s) { tip.textContent = s; tip.style.display = 'block';\n"
    "      tip.style.left = (ev.clientX + 14) + 'px'; tip.style.top = (ev.clientY + 14) + 'px'; }\n"
    "    else tip.style.display = 'none'; });\n"
    "  svg.addEventListener('mouseleave', function () { tip.style.display = 'none'; });\n"
    "})();\n</script>\n</body></html>\n";

bool timeline_finish(struct timeline *t, const char *title, uint64_t start)
{
    if (!t)
        return true;
    struct layout l;
    plan(t, start, &l);
    FILE *out = t->out;
    if (t->o.html) {
        fputs(page_head, out);
        xml_text(out, title && *title ? title : "x86irq-run");
        fputs(" \xe2\x80\x94 x86irq-run timeline", out);
        fputs(page_style, out);
    } else {
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    }
    svg(out, t, &l, title);
    if (t->o.html)
        fputs(page_script, out);
    bool ok = !t->failed && !ferror(out);
    ok = fclose(out) == 0 && ok;
    fclose(t->segments);
    for (uint32_t i = 0; i < t->name_count; i++)
        free(t->names[i]);
    free(t->names);
    free(t->slots);
    free(t->threads);
    free(t);
    return ok;
}
