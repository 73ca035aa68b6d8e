/* gdb's `monitor` commands (qRcmd): the interrupt state gdb cannot see by itself, printed as
 * console output. A table of commands; docs/debugging.md lists them. */
#include "gdb/gdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t reg64(struct x86_gdb *g, unsigned cpu, x86irq_register64 r)
{
    uint64_t v = 0;
    x86irq_get_cpu_register64(g->machine, cpu, r, &v);
    return v;
}

/* an optional number argument; false when present and malformed */
static bool number(const char *arg, uint64_t *value)
{
    if (!arg || !*arg)
        return true;
    char *end;
    unsigned long long v = strtoull(arg, &end, 0);
    while (*end == ' ')
        end++;
    if (end == arg || *end)
        return false;
    *value = v;
    return true;
}

static void mon_help(struct x86_gdb *g, const char *arg);

static void mon_cycles(struct x86_gdb *g, const char *arg)
{
    (void)arg;
    x86irq_machine *m = g->machine;
    x86_gdb_console(g, "machine: cycle %llu, %llu instructions\n",
                    (unsigned long long)x86irq_cycles(m),
                    (unsigned long long)x86irq_instructions(m));
    for (unsigned i = 0; i < x86irq_cpu_count(m); i++)
        x86_gdb_console(g, "CPU %u: cycle %llu, %llu instructions, %s\n", i,
                        (unsigned long long)x86irq_cpu_cycles(m, i),
                        (unsigned long long)x86irq_cpu_instructions(m, i),
                        x86irq_cpu_state_string(x86irq_get_cpu_state(m, i)));
}

static const char *mode_name(const struct x86_cpu *c)
{
    if (!(c->cr0 & X86_CR0_PE))
        return "real mode";
    if (c->eflags & X86_FLAG_VM)
        return "virtual-8086 mode";
    if (c->mode == X86_MODE_64)
        return "64-bit mode";
    return c->efer & X86_EFER_LMA ? "compatibility mode" : "protected mode";
}

static void mon_cpus(struct x86_gdb *g, const char *arg)
{
    (void)arg;
    x86irq_machine *m = g->machine;
    for (unsigned i = 0; i < x86irq_cpu_count(m); i++) {
        const struct x86_cpu *c = &m->cores[i]->cpu;
        uint64_t rip = reg64(g, i, X86IRQ_REG64_RIP);
        uint64_t linear = c->mode == X86_MODE_64 ? rip : c->seg[X86_SEG_CS].base + rip;
        char symbol[128];
        x86irq_symbolize(m, linear, symbol, sizeof(symbol));
        x86_gdb_console(g, "CPU %u%s: %s, %s, CPL %u, IF=%u, CS:RIP %04x:%llx%s%s%s\n", i,
                        i == g->g_cpu ? " (gdb's)" : "",
                        x86irq_cpu_state_string(x86irq_get_cpu_state(m, i)), mode_name(c),
                        c->cpl, (c->eflags & X86_FLAG_IF) ? 1 : 0, c->seg[X86_SEG_CS].selector,
                        (unsigned long long)rip, symbol[0] ? " <" : "", symbol,
                        symbol[0] ? ">" : "");
    }
}

/* one IDT (or IVT) entry of gdb's CPU; false when it is beyond the limit */
static bool idt_entry(struct x86_gdb *g, unsigned vector, bool only_present)
{
    x86irq_machine *m = g->machine;
    const struct x86_cpu *c = &m->cores[g->g_cpu]->cpu;
    uint64_t base = reg64(g, g->g_cpu, X86IRQ_REG64_IDTR_BASE);
    uint64_t limit = reg64(g, g->g_cpu, X86IRQ_REG64_IDTR_LIMIT);
    bool real = !(c->cr0 & X86_CR0_PE);
    bool long_mode = (c->efer & X86_EFER_LMA) != 0;
    unsigned size = real ? 4 : long_mode ? 16 : 8;
    if ((uint64_t)vector * size + size - 1 > limit)
        return false;
    uint8_t e[16];
    if (x86irq_read_linear(m, g->g_cpu, base + (uint64_t)vector * size, e, size) != X86IRQ_OK) {
        x86_gdb_console(g, "%3u: not readable at 0x%llx\n", vector,
                        (unsigned long long)(base + (uint64_t)vector * size));
        return true;
    }
    if (real) {
        x86_gdb_console(g, "%3u: %04x:%04x\n", vector, e[2] | e[3] << 8, e[0] | e[1] << 8);
        return true;
    }
    unsigned type = e[5] & 0xF, dpl = (e[5] >> 5) & 3, present = e[5] >> 7;
    unsigned selector = e[2] | e[3] << 8;
    uint64_t offset = (uint64_t)(e[0] | e[1] << 8) | (uint64_t)(e[6] | e[7] << 8) << 16;
    if (long_mode)
        offset |= (uint64_t)(e[8] | e[9] << 8 | e[10] << 16 | (uint32_t)e[11] << 24) << 32;
    if (!present) {
        if (!only_present)
            x86_gdb_console(g, "%3u: not present\n", vector);
        return true;
    }
    static const char *const types[16] = {
        [0x5] = "task gate", [0x6] = "16-bit interrupt gate", [0x7] = "16-bit trap gate",
        [0xE] = "interrupt gate", [0xF] = "trap gate",
    };
    const char *name = types[type] && (!long_mode || type >= 0xE) ? types[type] : NULL;
    if (!name) {
        x86_gdb_console(g, "%3u: type %u is not a gate (#GP on delivery)\n", vector, type);
        return true;
    }
    if (type == 0x5) {
        x86_gdb_console(g, "%3u: task gate, TSS selector %04x, DPL %u\n", vector, selector, dpl);
        return true;
    }
    char symbol[128]; /* the offset as a linear address: a flat code segment's, as kernels use */
    x86irq_symbolize(m, offset, symbol, sizeof(symbol));
    char ist[16] = "";
    if (long_mode && (e[4] & 7))
        snprintf(ist, sizeof(ist), ", IST %u", e[4] & 7);
    x86_gdb_console(g, "%3u: %s %04x:%llx, DPL %u%s%s%s%s\n", vector, name, selector,
                    (unsigned long long)offset, dpl, ist, symbol[0] ? " <" : "", symbol,
                    symbol[0] ? ">" : "");
    return true;
}

static void mon_idt(struct x86_gdb *g, const char *arg)
{
    uint64_t vector = 256;
    if (!number(arg, &vector) || (arg && *arg && vector > 255)) {
        x86_gdb_console(g, "idt [VECTOR]: a vector is 0-255\n");
        return;
    }
    x86_gdb_console(g, "IDT of CPU %u: base 0x%llx, limit 0x%llx\n", g->g_cpu,
                    (unsigned long long)reg64(g, g->g_cpu, X86IRQ_REG64_IDTR_BASE),
                    (unsigned long long)reg64(g, g->g_cpu, X86IRQ_REG64_IDTR_LIMIT));
    if (vector < 256) {
        if (!idt_entry(g, (unsigned)vector, false))
            x86_gdb_console(g, "%3u: beyond the IDT's limit (#GP on delivery)\n",
                            (unsigned)vector);
        return;
    }
    for (unsigned v = 0; v < 256 && idt_entry(g, v, true); v++) {
    }
}

static void vector_list(char *out, size_t size, const struct x86_vector_set *set)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned v = 0; v < 256; v++)
        if ((set->word[v / 32] >> (v % 32)) & 1) {
            int k = snprintf(out + n, size - n, "%s%u", n ? " " : "", v);
            if (k < 0 || (size_t)k >= size - n)
                break;
            n += (size_t)k;
        }
    if (!n)
        snprintf(out, size, "-");
}

static void mon_lapic(struct x86_gdb *g, const char *arg)
{
    uint64_t cpu = g->g_cpu;
    x86irq_machine *m = g->machine;
    if (!number(arg, &cpu) || cpu >= x86irq_cpu_count(m)) {
        x86_gdb_console(g, "lapic [CPU]: CPU 0-%u\n", x86irq_cpu_count(m) - 1);
        return;
    }
    const struct x86_lapic *l = &m->cores[cpu]->lapic;
    char irr[1024], isr[1024], tmr[1024];
    vector_list(irr, sizeof(irr), &l->irr);
    vector_list(isr, sizeof(isr), &l->isr);
    vector_list(tmr, sizeof(tmr), &l->tmr);
    bool x2apic = (l->apic_base & (1u << 10)) != 0;
    x86_gdb_console(g, "LAPIC of CPU %u: ID %u, %s, %s, software %s (SVR 0x%03x)\n",
                    (unsigned)cpu, l->id, (l->apic_base & (1u << 11)) ? "enabled" : "disabled",
                    x2apic ? "x2APIC mode" : "xAPIC mode",
                    (l->svr & 0x100) ? "enabled" : "disabled", l->svr);
    if (!x2apic)
        x86_gdb_console(g, "  base 0x%llx\n", (unsigned long long)(l->apic_base & ~0xFFFull));
    x86_gdb_console(g, "  TPR 0x%02x, LDR 0x%08x, ESR 0x%x\n", l->tpr, l->ldr, l->esr);
    x86_gdb_console(g, "  IRR: %s\n  ISR: %s\n  TMR: %s\n", irr, isr, tmr);
    static const char *const lvt_names[X86_LVT_COUNT] = { "timer", "thermal", "perf", "LINT0",
                                                          "LINT1", "error" };
    static const char *const modes[8] = { "fixed", "lowest", "SMI", "reserved",
                                          "NMI", "INIT", "reserved", "ExtINT" };
    static const char *const timer_modes[4] = { "one-shot", "periodic", "TSC-deadline",
                                                "reserved" };
    for (unsigned i = 0; i < X86_LVT_COUNT; i++) {
        uint32_t v = l->lvt[i];
        x86_gdb_console(g, "  LVT %-7s 0x%05x: vector %u, %s%s%s%s\n", lvt_names[i], v,
                        v & 0xFF, i == X86_LVT_TIMER ? timer_modes[(v >> 17) & 3]
                                                     : modes[(v >> 8) & 7],
                        (v & (1u << 16)) ? ", masked" : "",
                        (i == X86_LVT_LINT0 || i == X86_LVT_LINT1) && (v & (1u << 15))
                            ? ", level"
                            : "",
                        (v & (1u << 12)) ? ", send pending" : "");
    }
    x86_gdb_console(g, "  timer: initial count %u, divide config 0x%x, TSC deadline %llu, %s\n",
                    l->timer_initial, l->timer_divide_config,
                    (unsigned long long)l->tsc_deadline,
                    l->timer_event ? "armed" : "not armed");
    x86_gdb_console(g, "  messages on their way: %u\n", l->pending_count);
}

static void mon_ioapic(struct x86_gdb *g, const char *arg)
{
    (void)arg;
    x86irq_machine *m = g->machine;
    if (!m->has_chipset) {
        x86_gdb_console(g, "this machine has no IOAPIC\n");
        return;
    }
    const struct x86_ioapic *io = &m->ioapic;
    static const char *const modes[8] = { "fixed", "lowest", "SMI", "reserved",
                                          "NMI", "INIT", "reserved", "ExtINT" };
    x86_gdb_console(g, "IOAPIC ID %u at 0xfec00000\n", io->id);
    for (unsigned pin = 0; pin < X86_IOAPIC_PINS; pin++) {
        uint64_t r = io->redirection[pin];
        x86_gdb_console(g, "  pin %2u: vector %3u, %-8s %s dest 0x%02x, %s, active %s%s%s, "
                           "line %s\n",
                        pin, (unsigned)(r & 0xFF), modes[(r >> 8) & 7],
                        (r & (1u << 11)) ? "logical " : "physical", (unsigned)(r >> 56),
                        (r & (1u << 15)) ? "level" : "edge", (r & (1u << 13)) ? "low" : "high",
                        (r & (1u << 16)) ? ", masked" : "",
                        (r & (1u << 14)) ? ", remote IRR" : "",
                        ((io->line_level >> pin) & 1) ? "high" : "low");
    }
}

static int by_cycle(const void *a, const void *b)
{
    const struct x86_event *x = a, *y = b;
    if (x->cycle != y->cycle)
        return x->cycle < y->cycle ? -1 : 1;
    return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

static void mon_events(struct x86_gdb *g, const char *arg)
{
    (void)arg;
    x86irq_machine *m = g->machine;
    const struct x86_event_queue *q = &m->events;
    size_t n = q->count;
    struct x86_event *copy = n ? malloc(n * sizeof(*copy)) : NULL;
    if (n && !copy) {
        x86_gdb_console(g, "out of memory\n");
        return;
    }
    if (n)
        memcpy(copy, q->heap, n * sizeof(*copy));
    qsort(copy, n, sizeof(*copy), by_cycle);
    uint64_t now = x86irq_cycles(m);
    x86_gdb_console(g, "machine cycle %llu; %zu events scheduled (cancelled ones included)\n",
                    (unsigned long long)now, n);
    for (size_t i = 0; i < n && i < 32; i++)
        x86_gdb_console(g, "  cycle %llu (in %lld)\n", (unsigned long long)copy[i].cycle,
                        (long long)(copy[i].cycle - now));
    if (n > 32)
        x86_gdb_console(g, "  ... and %zu more\n", n - 32);
    free(copy);
    for (unsigned i = 0; i < x86irq_cpu_count(m); i++) {
        const struct x86_cpu *c = &m->cores[i]->cpu;
        x86_gdb_console(g, "CPU %u: INTR %s, NMI %s%s, INIT %s\n", i,
                        c->intr_line ? "asserted" : "low",
                        c->nmi_latched ? "latched" : "none",
                        c->nmi_blocked ? " (blocked until IRET)" : "",
                        c->init_latched ? "latched" : "none");
    }
}

static void mon_memory(struct x86_gdb *g, const char *arg)
{
    if (arg && strcmp(arg, "physical") == 0)
        g->physical = true;
    else if (arg && strcmp(arg, "linear") == 0)
        g->physical = false;
    else if (arg && *arg) {
        x86_gdb_console(g, "memory [physical|linear]\n");
        return;
    }
    x86_gdb_console(g, "gdb's addresses are %s\n",
                    g->physical ? "physical" : "linear (through CPU's page tables)");
}

static void mon_phys(struct x86_gdb *g, const char *arg)
{
    char text[128];
    snprintf(text, sizeof(text), "%s", arg ? arg : "");
    char *length_text = strchr(text, ' ');
    if (length_text)
        *length_text++ = '\0';
    uint64_t address = UINT64_MAX, length = 64;
    if (!text[0] || !number(text, &address) || !number(length_text, &length) || length > 4096) {
        x86_gdb_console(g, "phys ADDRESS [LENGTH]: up to 4096 bytes of physical memory\n");
        return;
    }
    for (uint64_t at = 0; at < length; at += 16) {
        uint8_t line[16];
        size_t n = length - at < 16 ? (size_t)(length - at) : 16;
        if (x86irq_read_physical(g->machine, address + at, line, n) != X86IRQ_OK) {
            x86_gdb_console(g, "%s\n", x86irq_last_error(g->machine));
            return;
        }
        char hex[64] = "";
        for (size_t i = 0; i < n; i++)
            snprintf(hex + 3 * i, sizeof(hex) - 3 * i, " %02x", line[i]);
        x86_gdb_console(g, "%016llx:%s\n", (unsigned long long)(address + at), hex);
    }
}

/* monitor snapshot [NAME] / restore [NAME]: in memory only (the stub writes no host file) */
static struct x86_gdb_snapshot *snapshot_slot(struct x86_gdb *g, const char *name, bool make)
{
    struct x86_gdb_snapshot *free_slot = NULL;
    for (size_t i = 0; i < sizeof(g->snapshots) / sizeof(g->snapshots[0]); i++) {
        struct x86_gdb_snapshot *s = &g->snapshots[i];
        if (s->data && strcmp(s->name, name) == 0)
            return s;
        if (!s->data && !free_slot)
            free_slot = s;
    }
    return make ? free_slot : NULL;
}

static void mon_snapshot(struct x86_gdb *g, const char *arg)
{
    const char *name = arg ? arg : "default";
    if (strlen(name) >= sizeof(g->snapshots[0].name)) {
        x86_gdb_console(g, "snapshot [NAME]: a name of at most %zu characters\n",
                        sizeof(g->snapshots[0].name) - 1);
        return;
    }
    struct x86_gdb_snapshot *slot = snapshot_slot(g, name, true);
    if (!slot) {
        x86_gdb_console(g, "snapshot: all %zu slots are taken (monitor snapshots lists them)\n",
                        sizeof(g->snapshots) / sizeof(g->snapshots[0]));
        return;
    }
    void *data;
    size_t size;
    if (x86irq_snapshot_save(g->machine, &data, &size) != X86IRQ_OK) {
        x86_gdb_console(g, "snapshot: %s\n", x86irq_last_error(g->machine));
        return;
    }
    x86irq_snapshot_free(slot->data);
    snprintf(slot->name, sizeof(slot->name), "%s", name);
    slot->data = data;
    slot->size = size;
    slot->cycle = x86irq_cycles(g->machine);
    x86_gdb_console(g, "snapshot %s: cycle %llu, %zu bytes\n", name,
                    (unsigned long long)slot->cycle, size);
}

static void mon_restore(struct x86_gdb *g, const char *arg)
{
    const char *name = arg ? arg : "default";
    struct x86_gdb_snapshot *slot = snapshot_slot(g, name, false);
    if (!slot) {
        x86_gdb_console(g, "restore: no snapshot named %s (monitor snapshot %s takes one)\n",
                        name, name);
        return;
    }
    if (x86irq_snapshot_restore(g->machine, slot->data, slot->size) != X86IRQ_OK) {
        x86_gdb_console(g, "restore: %s\n", x86irq_last_error(g->machine));
        return;
    }
    g->exited = false;
    x86_gdb_history_forget(g); /* another past: the history's snapshots are not of it */
    x86_gdb_console(g, "restored %s: cycle %llu (gdb's breakpoints kept; its cached registers "
                       "are old: maintenance flush register-cache)\n", name,
                    (unsigned long long)slot->cycle);
}

static void mon_snapshots(struct x86_gdb *g, const char *arg)
{
    (void)arg;
    bool any = false;
    for (size_t i = 0; i < sizeof(g->snapshots) / sizeof(g->snapshots[0]); i++)
        if (g->snapshots[i].data) {
            x86_gdb_console(g, "%-16s cycle %llu, %zu bytes\n", g->snapshots[i].name,
                            (unsigned long long)g->snapshots[i].cycle, g->snapshots[i].size);
            any = true;
        }
    if (!any)
        x86_gdb_console(g, "no snapshots (monitor snapshot [NAME] takes one)\n");
}

void x86_gdb_free_snapshots(struct x86_gdb *g)
{
    for (size_t i = 0; i < sizeof(g->snapshots) / sizeof(g->snapshots[0]); i++) {
        x86irq_snapshot_free(g->snapshots[i].data);
        g->snapshots[i].data = NULL;
    }
}

static const struct {
    const char *name;
    void (*fn)(struct x86_gdb *g, const char *arg);
    const char *help;
} commands[] = {
    { "help", mon_help, "this list" },
    { "cpus", mon_cpus, "every CPU: state, mode, CPL, IF, CS:RIP and its symbol" },
    { "cycles", mon_cycles, "the machine's cycle count, each CPU's cycles and instructions" },
    { "idt", mon_idt, "[VECTOR]: the present gates of gdb's CPU's IDT (or one entry)" },
    { "lapic", mon_lapic, "[CPU]: a local APIC: IRR, ISR, TMR, TPR, the LVT, the timer" },
    { "ioapic", mon_ioapic, "the IOAPIC's redirection table and its lines' levels" },
    { "events", mon_events, "the event queue by cycle, each CPU's pending INTR/NMI/INIT" },
    { "memory", mon_memory, "[physical|linear]: how gdb's addresses are taken" },
    { "phys", mon_phys, "ADDRESS [LENGTH]: a hex dump of physical memory" },
    { "snapshot", mon_snapshot, "[NAME]: save the whole machine in memory (default: default)" },
    { "restore", mon_restore, "[NAME]: back to that snapshot (breakpoints stay)" },
    { "snapshots", mon_snapshots, "the snapshots taken, by name and cycle" },
};

static void mon_help(struct x86_gdb *g, const char *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        x86_gdb_console(g, "monitor %-9s %s\n", commands[i].name, commands[i].help);
}

bool x86_gdb_monitor(struct x86_gdb *g, const char *command)
{
    while (*command == ' ')
        command++;
    size_t k = strcspn(command, " ");
    const char *arg = command + k;
    while (*arg == ' ')
        arg++;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strlen(commands[i].name) == k && strncmp(command, commands[i].name, k) == 0) {
            commands[i].fn(g, *arg ? arg : NULL);
            return true;
        }
    return false;
}
