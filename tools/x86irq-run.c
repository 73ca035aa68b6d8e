/* x86irq-run: run a guest ELF on a libx86irq machine from the command line.
 * Options and exit statuses: docs/cli.md and --help. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <x86irq/exceptions.h>
#include <x86irq/gdb.h>
#include <x86irq/x86irq.h>

#include "color.h"
#include "console.h"
#include "files.h"
#include "gdb_server.h"
#include "observe.h"
#include "pcap.h"
#include "record.h"
#include "snapshots.h"
#include "timeline.h"

/* Exit statuses of the runner itself (the guest's debug-exit value is used otherwise). */
enum {
    EXIT_USAGE = 64,        /* bad option or value (EX_USAGE) */
    EXIT_LOAD = 65,         /* the guest could not be loaded */
    EXIT_SHUTDOWN = 125,    /* triple fault */
    EXIT_MAX_CYCLES = 124,  /* --max-cycles reached (as timeout(1)) */
    EXIT_HALTED = 123,      /* HLT with nothing that could wake the core */
    EXIT_NESTING = 122,     /* --check-nesting: a nesting rule fired */
    EXIT_CONSOLE_QUIT = CONSOLE_EXIT_QUIT, /* --console: Ctrl-A x */
    EXIT_RESET = 120,       /* the guest reset the machine (8042, port 0x92, 0xCF9) */
    EXIT_INTERNAL = 70,     /* the library reported an error while running (EX_SOFTWARE) */
    EXIT_IO = 74,           /* a file could not be read or written, a socket not made (EX_IOERR) */
};

enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct options {
    uint64_t mem;
    uint64_t max_cycles;
    uint64_t cpu_hz;
    const char *trace_path; /* NULL: no trace; "-": stderr */
    bool trace;
    const char *events_path; /* --trace-events: NULL off, "-" stderr */
    const char *perfetto_path;
    const char *timeline_path; /* --timeline=FILE.svg|FILE.html */
    bool timeline_html;
    bool timeline_window;     /* --timeline-window=FROM:TO (cycles) */
    uint64_t timeline_from, timeline_to;
    int progress;             /* --progress 1, --no-progress 0, -1: when stderr is a terminal */
    int color;                /* --color: COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER */
    const char *cost_profile;
    const char *phase_symbols;
    const char *nic_rx, *nic_tx;
    uint64_t traffic_rate, traffic_size, traffic_count;
    bool nic_msi;
    bool nic_peer;
    int64_t rtc_epoch;
    uint64_t smp, smp_quantum;
    unsigned linux_entry;     /* --linux-entry: 32 or 64, 0 the default */
    bool isa_given;
    uint32_t isa;             /* --isa: X86IRQ_ISA_* */
    bool check_nesting;
    uint32_t rules;
    bool stats;
    bool quiet;
    const char *serial_output; /* --serial-output: COM1's output to this file */
    bool qemu_exit_codes;
    const char *serial_input; /* --serial-input=FILE */
    bool console;             /* --console */
    const char *gdb;          /* --gdb=tcp::PORT */
    bool gdb_wait;            /* --gdb-wait */
    int gdb_arch;             /* --gdb-arch: x86irq_gdb_arch */
    const char *record;       /* --record=FILE: the console's input, stamped */
    const char *report;       /* --report=FILE.json: the run report, machine-readable */
    const char *replay;       /* --replay=FILE */
    struct snapshot_plan snapshots; /* --snapshot-at, --snapshot-every, --snapshot-delta */
    const char *restore;      /* --restore=FILE */
    const char *restore_base; /* --restore-base=FILE: the base of a delta --restore */
    bool no_console;          /* --no-console */
    const char *guest;
    char *cmdline;
    const char *kernel, *initrd, *append; /* --kernel: a Linux bzImage instead of an ELF */
    const char *symbols;                  /* --symbols: System.map or /proc/kallsyms */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: x86irq-run [options] GUEST.elf [-- guest command line...]\n"
            "       x86irq-run [options] --kernel=BZIMAGE [--initrd=FILE] [--append=CMDLINE]\n"
            "\n"
            "Runs an ELF guest, 32- or 64-bit (Multiboot v1 kernels as qemu -kernel runs them)\n"
            "on an emulated x86 PC. Guest output on COM1 goes to stdout.\n"
            "\n"
            "options:\n"
            "  --kernel=BZIMAGE    boot a Linux kernel (boot protocol 2.02+) as\n"
            "                      qemu-system-i386 -kernel does, instead of an ELF guest\n"
            "  --initrd=FILE       the Linux kernel's initial RAM disk\n"
            "  --append=CMDLINE    the Linux kernel's command line\n"
            "  --linux-entry=32|64 the boot protocol entry (default: 64 for an x86-64 kernel,\n"
            "                      as Firecracker boots; 32 as after qemu -kernel's setup code)\n"
            "  --isa=LIST          the instruction-set extensions offered, comma-separated:\n"
            "                      sse, sse2, sse3, ssse3, sse4.1, sse4.2, xsave; none; all\n"
            "                      (each SSE level brings the ones before it)\n"
            "  --symbols=FILE      guest symbols from a System.map or /proc/kallsyms (nm format)\n"
            "                      for traces, timelines and reports\n"
            "  --mem=SIZE          guest RAM, bytes or with a K, M or G suffix (default 128M)\n"
            "  --max-cycles=N      stop after N cycles (default: no limit)\n"
            "  --cpu-hz=HZ         modelled clock for time conversions, 1 MHz to 100 GHz\n"
            "                      (default 1000000000)\n"
            "  --trace[=FILE]      one line per instruction: cycle, EIP, symbol, disassembly\n"
            "                      (default FILE: stderr)\n"
            "  --trace-events[=FILE]  one line per interrupt event: line, IRR, acceptance,\n"
            "                      delivery, handler entry, EOI, IRET, exceptions (default stderr)\n"
            "  --perfetto=FILE     a timeline for ui.perfetto.dev / chrome://tracing (JSON)\n"
            "  --timeline=FILE.svg|FILE.html  a picture of the run's interrupts and exceptions:\n"
            "                      a band per CPU, nesting rows, phases, colours by kind; the\n"
            "                      page zooms and pans (slices under 2 px merge into density)\n"
            "  --timeline-window=FROM:TO  only cycles FROM to TO in the picture\n"
            "  --check-nesting[=RULES]  report nesting-rule violations (exception-in-irq,\n"
            "                      irq-in-irq, iret-unmatched, hlt-hang, user-access-in-irq;\n"
            "                      default all) and exit with %d when one fired\n"
            "  --cost-profile=FILE load cycle costs: lines 'class cycles' (docs/cycle-model.md)\n"
            "  --nic-rx=FILE.pcap  frames arrive at the NIC at their capture timestamps\n"
            "  --nic-tx=FILE.pcap  write the frames the NIC transmits, stamped with their cycle\n"
            "  --nic-traffic=RATE,SIZE,COUNT  COUNT frames of SIZE bytes at RATE per second of\n"
            "                      guest time, to the NIC's MAC (deterministic)\n"
            "  --smp=N             N processors (1-64; or --smp N): the BSP starts at the\n"
            "                      entry point, the others wait for INIT and SIPI\n"
            "  --smp-quantum=CYCLES  with several processors, each runs this long before the\n"
            "                      next (default 1000): an IPI is late by at most this much\n"
            "  --rtc-epoch=SECONDS the real-time clock's time at cycle 0, in seconds since 1970\n"
            "                      (default 1767225600: 2026-01-01 00:00:00 UTC)\n"
            "  --nic-peer          a host at 10.0.2.2 on the NIC's wire answers ARP and ping\n"
            "  --nic-msi           give the NIC an MSI capability (not in the real 82540EM)\n"
            "  --phase-symbols=GLOB=PHASE,...  phases from guest functions (entry to return), for\n"
            "                      guests without phase markers; GLOB=switch:NEXT:PREV a thread\n"
            "                      switch; GLOB=any-context an exception handler allowed inside\n"
            "                      interrupts; 'linux' Linux's own (with --symbols)\n"
            "  --stats             a run report on stderr after the run, with latency tables\n"
            "  --color[=WHEN]      colour the reports on stderr: auto (a terminal, and NO_COLOR\n"
            "                      unset or empty; the default), always (no WHEN), never\n"
            "  --progress          cycles, guest MIPS and interrupts per second on stderr while\n"
            "                      it runs (default: when stderr is a terminal)\n"
            "  --no-progress       never\n"
            "  --report=FILE.json  the run report as JSON (schema in docs/cli.md): stop reason,\n"
            "                      counts, per-vector latency percentiles, nesting, host time\n"
            "  --quiet             do not print the guest's serial output\n"
            "  --serial-output=FILE  the guest's serial output to FILE instead of stdout\n"
            "  --qemu-exit-codes   exit with (v << 1) | 1 for a debug-exit value v, as QEMU does\n"
            "  --serial-input=FILE the file's bytes arrive on COM1 at the line rate (deterministic)\n"
            "  --no-console        with --kernel on a terminal: do not make stdin the console\n"
            "  --record=FILE       the console's input (--console, or none), stamped with its\n"
            "                      cycle, to FILE: the session replays bit-identically\n"
            "  --replay=FILE       the recorded input instead of stdin; refused for another\n"
            "                      guest or other options; a divergence is an error\n"
            "  --snapshot-at=CYCLE:FILE  save the whole machine to FILE when it reaches CYCLE\n"
            "                      (repeatable; the run goes on, unchanged)\n"
            "  --snapshot-every=CYCLES:PREFIX  the same at each multiple of CYCLES, to\n"
            "                      PREFIX-CYCLE.snap\n"
            "  --snapshot-delta    the snapshots after the run's first hold only the RAM pages\n"
            "                      that differ from it (restore with --restore-base=FIRST)\n"
            "  --restore=FILE      start from a snapshot instead of the guest's entry (give the\n"
            "                      same guest file and options as the run that saved it)\n"
            "  --restore-base=FILE the whole snapshot a delta --restore was saved against\n"
            "  --gdb=tcp::PORT     serve gdb on 127.0.0.1:PORT (tcp:HOST:PORT for another\n"
            "                      address; PORT 0: any free one, printed): target remote\n"
            "  --gdb-wait          with --gdb: wait for gdb before the first instruction\n"
            "  --gdb-arch=i386|x86-64  the registers gdb is shown (default: x86-64 for a\n"
            "                      64-bit ELF or kernel, i386 otherwise)\n"
            "  --console           stdin to COM1 as typed (raw mode on a terminal; Ctrl-A x quits,\n"
            "                      Ctrl-A h helps); paced to the host's clock, not deterministic\n"
            "  --help              this text\n"
            "  --version           the library's version\n"
            "\n"
            "exit status: the guest's debug-exit value (port 0xF4), 0 after an ACPI power-off, or\n"
            "  %d usage error, %d load error, %d halted forever, %d --max-cycles reached,\n"
            "  %d triple-fault shutdown, %d internal error, %d a nesting rule fired,\n"
            "  %d quit from the console or killed from gdb, %d the guest reset the machine,\n"
            "  %d a file could not be read or written\n",
            EXIT_NESTING, EXIT_USAGE, EXIT_LOAD, EXIT_HALTED, EXIT_MAX_CYCLES, EXIT_SHUTDOWN,
            EXIT_INTERNAL, EXIT_NESTING, EXIT_CONSOLE_QUIT, EXIT_RESET, EXIT_IO);
}

/* --isa=LIST: names of extensions; an SSE level brings the levels before it (as CPUs have
 * them), so "sse4.2" alone is the whole SSE family */
static bool parse_isa(const char *s, uint32_t *out)
{
    static const struct {
        const char *name;
        uint32_t bits;
    } names[] = {
        { "none", 0 },
        { "sse", X86IRQ_ISA_SSE },
        { "sse2", X86IRQ_ISA_SSE2 * 2 - 1 },
        { "sse3", X86IRQ_ISA_SSE3 * 2 - 1 },
        { "ssse3", X86IRQ_ISA_SSSE3 * 2 - 1 },
        { "sse4.1", X86IRQ_ISA_SSE41 * 2 - 1 },
        { "sse4.2", X86IRQ_ISA_SSE42 * 2 - 1 },
        { "xsave", X86IRQ_ISA_XSAVE | X86IRQ_ISA_SSE },
        { "all", X86IRQ_ISA_ALL },
    };
    if (!s || !*s)
        return false;
    uint32_t isa = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        bool found = false;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !found; i++)
            if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0) {
                isa |= names[i].bits;
                found = true;
            }
        if (!found)
            return false;
        s += n;
        if (*s == ',' && *++s == '\0')
            return false;
    }
    *out = isa;
    return true;
}

static bool parse_number(const char *s, uint64_t *out, bool size_suffix)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return false;
    uint64_t multiplier = 1;
    if (size_suffix && *end) {
        switch (*end) {
        case 'k': case 'K': multiplier = 1ull << 10; break;
        case 'm': case 'M': multiplier = 1ull << 20; break;
        case 'g': case 'G': multiplier = 1ull << 30; break;
        default: return false;
        }
        end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end)
        return false;
    if (v > UINT64_MAX / multiplier)
        return false;
    *out = v * multiplier;
    return true;
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "x86irq-run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(try --help)\n");
    return EXIT_USAGE;
}

/* returns -1 when parsing succeeded, else the exit status */
static int parse(int argc, char **argv, struct options *o)
{
    o->mem = 128ull << 20;
    o->max_cycles = UINT64_MAX;
    o->cpu_hz = 1000000000ull;
    o->progress = -1;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = strchr(a, '=');
        size_t name_len = v ? (size_t)(v - a) : strlen(a);
        if (v)
            v++;
#define IS(name) (name_len == strlen(name) && strncmp(a, name, name_len) == 0)
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (a[0] != '-' || a[1] == '\0') {
            if (o->guest)
                return bad("more than one guest given: '%s' (guest arguments go after --)", a);
            o->guest = a;
        } else if (IS("--help") && !v) {
            usage(stdout);
            return 0;
        } else if (IS("--version") && !v) {
            printf("x86irq-run (libx86irq) %s\n", x86irq_version());
            return 0;
        } else if (IS("--kernel") || IS("--initrd") || IS("--append")) {
            /* QEMU's spelling "--kernel FILE" as well as "--kernel=FILE" */
            const char *value = v;
            if (!value && i + 1 < argc)
                value = argv[++i];
            if (!value || (!IS("--append") && !value[0]))
                return bad(IS("--kernel") ? "--kernel needs a bzImage file%s"
                           : IS("--initrd") ? "--initrd needs a file%s"
                                            : "--append needs a command line%s", "");
            if (IS("--kernel"))
                o->kernel = value;
            else if (IS("--initrd"))
                o->initrd = value;
            else
                o->append = value;
        } else if (IS("--mem")) {
            if (!parse_number(v, &o->mem, true) || o->mem == 0)
                return bad("--mem needs a size such as 64M or 1G, not '%s'", v ? v : "");
        } else if (IS("--max-cycles")) {
            if (!parse_number(v, &o->max_cycles, false) || o->max_cycles == 0)
                return bad("--max-cycles needs a positive number, not '%s'", v ? v : "");
        } else if (IS("--cpu-hz")) {
            if (!parse_number(v, &o->cpu_hz, false) || o->cpu_hz < X86IRQ_CPU_HZ_MIN ||
                o->cpu_hz > X86IRQ_CPU_HZ_MAX)
                return bad("--cpu-hz needs a clock from 1000000 (1 MHz) to 100000000000 "
                           "(100 GHz), not '%s'", v ? v : "");
        } else if (IS("--trace")) {
            o->trace = true;
            o->trace_path = v && *v ? v : "-";
        } else if (IS("--trace-events")) {
            o->events_path = v && *v ? v : "-";
        } else if (IS("--perfetto")) {
            if (!v || !*v)
                return bad("--perfetto needs a file name%s", "");
            o->perfetto_path = v;
        } else if (IS("--timeline")) {
            if (!v || !timeline_format(v, &o->timeline_html))
                return bad("--timeline needs a file name ending in .svg or .html, not '%s'",
                           v ? v : "");
            o->timeline_path = v;
        } else if (IS("--timeline-window")) {
            char from[32] = "", to[32] = "";
            if (!v || sscanf(v, "%31[^:]:%31s", from, to) != 2 ||
                !parse_number(from, &o->timeline_from, false) ||
                !parse_number(to, &o->timeline_to, false) || o->timeline_to <= o->timeline_from)
                return bad("--timeline-window needs FROM:TO in cycles, FROM below TO, not '%s'",
                           v ? v : "");
            o->timeline_window = true;
        } else if (IS("--progress") && !v) {
            o->progress = 1;
        } else if (IS("--no-progress") && !v) {
            o->progress = 0;
        } else if (IS("--color") || IS("--colour")) {
            if (!v || strcmp(v, "always") == 0)
                o->color = COLOR_ALWAYS;
            else if (strcmp(v, "auto") == 0)
                o->color = COLOR_AUTO;
            else if (strcmp(v, "never") == 0)
                o->color = COLOR_NEVER;
            else
                return bad("--color needs auto, always or never, not '%s'", v);
        } else if (IS("--nic-rx")) {
            if (!v || !*v)
                return bad("--nic-rx needs a pcap file%s", "");
            o->nic_rx = v;
        } else if (IS("--nic-tx")) {
            if (!v || !*v)
                return bad("--nic-tx needs a file name%s", "");
            o->nic_tx = v;
        } else if (IS("--symbols")) {
            if (!v || !*v)
                return bad("--symbols needs a System.map or kallsyms file%s", "");
            o->symbols = v;
        } else if (IS("--smp")) {
            if (!v && i + 1 < argc && argv[i + 1][0] != '-')
                v = argv[++i]; /* QEMU's spelling "-smp N" as well */
            if (!parse_number(v, &o->smp, false) || o->smp == 0 || o->smp > X86IRQ_MAX_CPUS)
                return bad("--smp needs a number of processors from 1 to 64, not '%s'",
                           v ? v : "");
        } else if (IS("--isa")) {
            if (!parse_isa(v, &o->isa))
                return bad("--isa needs a list of sse, sse2, sse3, ssse3, sse4.1, sse4.2, xsave,"
                           " none or all, not '%s'", v ? v : "");
            o->isa_given = true;
        } else if (IS("--linux-entry")) {
            if (!v || (strcmp(v, "32") != 0 && strcmp(v, "64") != 0))
                return bad("--linux-entry needs 32 or 64, not '%s'", v ? v : "");
            o->linux_entry = (unsigned)atoi(v);
        } else if (IS("--smp-quantum")) {
            if (!parse_number(v, &o->smp_quantum, false) || o->smp_quantum == 0)
                return bad("--smp-quantum needs a positive number of cycles, not '%s'",
                           v ? v : "");
        } else if (IS("--rtc-epoch")) {
            uint64_t seconds;
            if (!parse_number(v, &seconds, false) || seconds > (uint64_t)INT64_MAX)
                return bad("--rtc-epoch needs seconds since 1970-01-01 00:00:00 UTC, not '%s'",
                           v ? v : "");
            o->rtc_epoch = (int64_t)seconds;
        } else if (IS("--nic-peer") && !v) {
            o->nic_peer = true;
        } else if (IS("--nic-msi") && !v) {
            o->nic_msi = true;
        } else if (IS("--nic-traffic")) {
            char rate[32] = "", size[32] = "", count[32] = "";
            if (!v || sscanf(v, "%31[^,],%31[^,],%31s", rate, size, count) != 3 ||
                !parse_number(rate, &o->traffic_rate, false) || o->traffic_rate == 0 ||
                !parse_number(size, &o->traffic_size, false) || o->traffic_size < 14 ||
                o->traffic_size > 16384 || !parse_number(count, &o->traffic_count, false))
                return bad("--nic-traffic needs RATE,SIZE,COUNT (frames per second, 14-16384 "
                           "bytes, a count), not '%s'", v ? v : "");
        } else if (IS("--phase-symbols")) {
            if (!v || !*v)
                return bad("--phase-symbols needs GLOB=PHASE,... or 'linux'%s", "");
            o->phase_symbols = v; /* checked against the guest's symbols once it is loaded */
        } else if (IS("--cost-profile")) {
            if (!v || !*v)
                return bad("--cost-profile needs a file name%s", "");
            o->cost_profile = v;
        } else if (IS("--check-nesting")) {
            o->check_nesting = true;
            if (!observer_parse_rules(v, &o->rules))
                return bad("--check-nesting: unknown rule in '%s'", v);
        } else if (IS("--stats") && !v) {
            o->stats = true;
        } else if (IS("--serial-output")) {
            if (!v || !*v)
                return bad("--serial-output needs a file name%s", "");
            o->serial_output = v;
        } else if (IS("--quiet") && !v) {
            o->quiet = true;
        } else if (IS("--qemu-exit-codes") && !v) {
            o->qemu_exit_codes = true;
        } else if (IS("--serial-input")) {
            if (!v || !*v)
                return bad("--serial-input needs a file name%s", "");
            o->serial_input = v;
        } else if (IS("--gdb")) {
            char host[64], error[160];
            unsigned port;
            if (!gdb_server_parse(v, host, sizeof(host), &port, error, sizeof(error)))
                return bad("%s", error);
            o->gdb = v;
        } else if (IS("--gdb-wait") && !v) {
            o->gdb_wait = true;
        } else if (IS("--gdb-arch")) {
            if (v && strcmp(v, "i386") == 0)
                o->gdb_arch = X86IRQ_GDB_ARCH_I386;
            else if (v && strcmp(v, "x86-64") == 0)
                o->gdb_arch = X86IRQ_GDB_ARCH_X86_64;
            else
                return bad("--gdb-arch needs i386 or x86-64, not '%s'", v ? v : "");
        } else if (IS("--snapshot-at")) {
            struct snapshot_plan *plan = &o->snapshots;
            if (plan->count == SNAPSHOTS_MAX)
                return bad("more than %s --snapshot-at", "16");
            if (!snapshot_point_parse(v, &plan->points[plan->count]))
                return bad("--snapshot-at needs CYCLE:FILE, not '%s'", v ? v : "");
            plan->count++;
        } else if (IS("--snapshot-every")) {
            struct snapshot_point every;
            if (!snapshot_point_parse(v, &every) || every.cycle == 0)
                return bad("--snapshot-every needs CYCLES:PREFIX (CYCLES above 0), not '%s'",
                           v ? v : "");
            o->snapshots.every = every.cycle;
            o->snapshots.prefix = every.path;
        } else if (IS("--snapshot-delta") && !v) {
            o->snapshots.delta = true;
        } else if (IS("--restore") || IS("--restore-base")) {
            if (!v || !*v)
                return bad("%s needs a snapshot file", IS("--restore") ? "--restore"
                                                                        : "--restore-base");
            if (IS("--restore"))
                o->restore = v;
            else
                o->restore_base = v;
        } else if (IS("--report")) {
            if (!v || !*v)
                return bad("--report needs a file name%s", "");
            o->report = v;
        } else if (IS("--record") || IS("--replay")) {
            if (!v || !*v)
                return bad(IS("--record") ? "--record needs a file name%s"
                                          : "--replay needs a record file%s", "");
            if (IS("--record"))
                o->record = v;
            else
                o->replay = v;
        } else if (IS("--console") && !v) {
            o->console = true;
        } else if (IS("--no-console") && !v) {
            o->no_console = true;
        } else {
            return bad("unknown option '%s'", a);
        }
#undef IS
    }
    if (o->timeline_window && !o->timeline_path)
        return bad("--timeline-window needs --timeline%s", "");
    if ((o->gdb_wait || o->gdb_arch) && !o->gdb)
        return bad("--gdb-wait and --gdb-arch need --gdb%s", "");
    if (o->gdb && o->console)
        return bad("--gdb and --console cannot share the terminal%s", "");
    if (o->record && o->replay)
        return bad("--record and --replay together%s", "");
    if ((o->record || o->replay) && o->gdb)
        return bad("--record and --replay do not record a gdb session%s", "");
    if ((snapshot_plan_any(&o->snapshots) || o->restore) &&
        (o->gdb || o->console || o->record || o->replay))
        return bad("--snapshot-at, --snapshot-every and --restore run without --gdb (its "
                   "monitor snapshot and restore do it there), --console, --record or "
                   "--replay%s", "");
    if (o->snapshots.delta && !snapshot_plan_any(&o->snapshots))
        return bad("--snapshot-delta needs --snapshot-at or --snapshot-every%s", "");
    if (o->restore_base && !o->restore)
        return bad("--restore-base needs --restore%s", "");
    if (o->restore && o->nic_rx)
        return bad("--restore cannot go on with a pcap file's frames (--nic-rx)%s", "");
    if (o->replay && o->console)
        return bad("--replay takes the console's input from the recording, not --console%s", "");
    if (o->kernel) {
        if (o->guest)
            return bad("both an ELF guest ('%s') and --kernel given", o->guest);
        if (i < argc)
            return bad("a Linux kernel takes its command line from --append, not after --%s", "");
    } else if (o->initrd || o->append || o->linux_entry) {
        return bad("--initrd, --append and --linux-entry need --kernel%s", "");
    } else if (!o->guest) {
        if (i < argc)
            o->guest = argv[i++];
        else
            return bad("no guest ELF file given%s", "");
    }
    /* the rest is the guest's command line */
    size_t len = 1;
    for (int j = i; j < argc; j++)
        len += strlen(argv[j]) + 1;
    o->cmdline = calloc(1, len);
    if (!o->cmdline) {
        fprintf(stderr, "x86irq-run: out of memory\n");
        return EXIT_INTERNAL;
    }
    for (int j = i; j < argc; j++) {
        if (j > i)
            strcat(o->cmdline, " ");
        strcat(o->cmdline, argv[j]);
    }
    return -1;
}

/* --progress: a line on stderr, rewritten in place a few times a second. Host time is read
 * here only, between slices of the run: the machine never sees it. */
struct progress {
    bool on;
    bool shown;              /* a line is on the terminal now */
    bool clear_for_output;   /* stdout is a terminal too: guest output clears the line first */
    uint64_t budget;         /* --max-cycles, UINT64_MAX none */
    uint64_t start_cycles;
    double last_time;
    uint64_t last_instructions, last_interrupts;
    uint64_t interrupts;     /* counted by its own hook when there is no observer */
    struct observer *observer;
};

static void progress_clear(struct progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        p->shown = false;
    }
}

/* COM1's output: stdout, flushed for an interactive console, or --serial-output's file */
struct serial_sink {
    FILE *file;              /* NULL: stdout */
    struct progress *progress;
};

static void serial_to_stdout(void *opaque, uint8_t byte)
{
    struct serial_sink *sink = opaque;
    if (sink->file) {
        fputc(byte, sink->file);
        return;
    }
    if (sink->progress->clear_for_output)
        progress_clear(sink->progress);
    fputc(byte, stdout);
    fflush(stdout);
}

struct tracer {
    x86irq_machine *machine;
    FILE *out;
};

static void trace_instruction(void *opaque, const x86irq_instruction_info *info)
{
    struct tracer *t = opaque;
    char symbol[128], text[160];
    x86irq_symbolize(t->machine, info->linear, symbol, sizeof(symbol));
    x86irq_disassemble(t->machine, info->bytes, info->length, info->eip, info->mode_bits, text,
                       sizeof(text));
    /* 8 digits for EIP as always, all 16 for a RIP above 4 GiB */
    fprintf(t->out, "%12" PRIu64 "  %04x:%0*" PRIx64 "  %-28s  %s\n", info->cycle, info->cs,
            info->eip > UINT32_MAX ? 16 : 8, info->eip, symbol[0] ? symbol : "?", text);
}

/* The events that ended in a triple fault, oldest first, as the SDM's class table saw them */
static void print_shutdown_chain(x86irq_machine *m)
{
    x86irq_event_record chain[8];
    size_t n = x86irq_shutdown_events(m, chain, 8);
    static const char *const origins[] = { "exception", "hardware interrupt",
                                           "software interrupt", "double fault" };
    for (size_t i = 0; i < n && i < 8; i++) {
        const x86irq_event_record *r = &chain[i];
        x86irq_exception_info info;
        char name[48];
        if (x86irq_exception_describe(r->vector, &info) == X86IRQ_OK)
            snprintf(name, sizeof(name), "%s (%s)", info.mnemonic, info.name);
        else
            snprintf(name, sizeof(name), "vector %u", r->vector);
        char symbol[96];
        x86irq_symbolize(m, r->eip, symbol, sizeof(symbol));
        fprintf(stderr, "  %zu. cycle %" PRIu64 ": %s, %s at %04x:%0*" PRIx64 "%s%s%s", i + 1,
                r->cycle, name, origins[r->origin < 4 ? r->origin : 0], r->cs,
                r->eip > UINT32_MAX ? 16 : 8, r->eip,
                symbol[0] ? " <" : "", symbol, symbol[0] ? ">" : "");
        if (r->has_error_code)
            fprintf(stderr, ", error code 0x%x", r->error_code);
        fprintf(stderr, "%s\n", i + 1 < n ? (chain[i + 1].origin == X86IRQ_ORIGIN_DOUBLE_FAULT
                                                   ? ", then"
                                                   : ", and while delivering it:")
                                          : ": no handler could be reached");
    }
}

/* A cost profile: one "class cycles" (or "class = cycles") per line, '#' comments. 0 when
 * loaded; else the exit status: the file unreadable (EXIT_IO) or its text wrong (EXIT_USAGE) */
static int load_cost_profile(x86irq_machine *m, const char *path)
{
    FILE *f = open_input(path, "r");
    if (!f) {
        fprintf(stderr, "x86irq-run: %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    char line[256];
    unsigned number = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        number++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        for (char *p = line; *p; p++)
            if (*p == '=')
                *p = ' ';
        char name[64];
        unsigned long cycles;
        char extra;
        int n = sscanf(line, " %63s %lu %c", name, &cycles, &extra);
        if (n <= 0)
            continue; /* blank or comment */
        /* above 65535 before the cast: 4294967301 must not become 5 */
        if (n != 2 || cycles > 65535 || x86irq_set_cost(m, name, (unsigned)cycles) != X86IRQ_OK) {
            fprintf(stderr, "x86irq-run: %s:%u: expected 'class cycles' with a class of "
                            "docs/cycle-model.md and at most 65535 cycles\n", path, number);
            ok = false;
        }
    }
    fclose(f);
    return ok ? 0 : EXIT_USAGE;
}

/* ------------------------------------------------------------------ NIC traffic */

struct nic_feed {
    x86irq_machine *machine;
    uint64_t cpu_hz;
    /* the generator */
    uint64_t rate, size, count, sent;
    /* a pcap file */
    FILE *rx;
    bool swapped;
    uint8_t frame[PCAP_MAX_FRAME];
    size_t length;
    /* counts */
    uint64_t injected, dropped;
    FILE *tx;
    uint64_t transmitted;
};

static void inject(struct nic_feed *f, const uint8_t *frame, size_t length)
{
    f->injected++;
    if (x86irq_nic_receive(f->machine, frame, length) != X86IRQ_OK)
        f->dropped++;
}

/* generated frames: to the NIC's MAC from 52:54:00:00:00:01, EtherType 0x88B5 (local
 * experimental), a 32-bit big-endian sequence number, the 64-bit big-endian arrival cycle, then
 * a byte pattern */
static void next_generated(x86irq_machine *m, void *opaque)
{
    struct nic_feed *f = opaque;
    uint8_t frame[16384];
    static const uint8_t header[14] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
                                        0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x88, 0xB5 };
    memcpy(frame, header, sizeof(header));
    for (size_t i = 14; i < f->size; i++)
        frame[i] = (uint8_t)i;
    uint32_t n = (uint32_t)f->sent;
    if (f->size >= 18) {
        frame[14] = (uint8_t)(n >> 24); frame[15] = (uint8_t)(n >> 16);
        frame[16] = (uint8_t)(n >> 8); frame[17] = (uint8_t)n;
    }
    if (f->size >= 26) {
        /* the cycle the frame arrives at, so a guest can measure its latency with rdtsc */
        uint64_t cycle = x86irq_cycles(m);
        for (unsigned i = 0; i < 8; i++)
            frame[18 + i] = (uint8_t)(cycle >> (56 - 8 * i));
    }
    inject(f, frame, f->size);
    f->sent++;
    if (f->sent < f->count) /* from the absolute start: no drift */
        x86irq_schedule_event(m, (f->sent + 1) * f->cpu_hz / f->rate, next_generated, f, NULL);
}

/* After --restore: the generator's pending frame (an embedder event the snapshot holds) is
 * the feed's again. Frame n is due at (n + 1) * cpu_hz / rate: its cycle says which. */
static x86irq_status rebind_feed(x86irq_machine *m, struct nic_feed *f)
{
    uint64_t id, cycle;
    while (x86irq_unbound_event(m, 0, &id, &cycle) == X86IRQ_OK) {
        bool found = false;
        if (f->count && f->rate) {
            uint64_t guess = (uint64_t)((unsigned __int128)cycle * f->rate / f->cpu_hz);
            for (uint64_t n = guess > 2 ? guess - 2 : 0; n <= guess + 2 && !found; n++)
                if (n < f->count &&
                    (uint64_t)((unsigned __int128)(n + 1) * f->cpu_hz / f->rate) == cycle) {
                    f->sent = n;
                    found = true;
                }
        }
        if (!found) {
            fprintf(stderr, "x86irq-run: --restore: the snapshot has a host event pending at "
                            "cycle %llu that these options do not make (give the --nic-traffic "
                            "of the run that saved it)\n", (unsigned long long)cycle);
            return X86IRQ_ERR_INVALID_ARGUMENT;
        }
        x86irq_status s = x86irq_rebind_event(m, id, next_generated, f);
        if (s != X86IRQ_OK)
            return s;
    }
    return X86IRQ_OK;
}

static void next_captured(x86irq_machine *m, void *opaque);
static void schedule_captured(struct nic_feed *f)
{
    uint64_t us;
    const char *error;
    if (!pcap_read_frame(f->rx, f->swapped, &us, f->frame, &f->length, &error)) {
        if (error)
            fprintf(stderr, "x86irq-run: --nic-rx: %s; the rest is ignored\n", error);
        return;
    }
    uint64_t cycle = (uint64_t)((unsigned __int128)us * f->cpu_hz / 1000000u);
    x86irq_schedule_event(f->machine, cycle, next_captured, f, NULL);
}
static void next_captured(x86irq_machine *m, void *opaque)
{
    struct nic_feed *f = opaque;
    (void)m;
    if (f->length >= 14)
        inject(f, f->frame, f->length);
    schedule_captured(f);
}

static void transmitted(void *opaque, const uint8_t *frame, size_t length, uint64_t cycle)
{
    struct nic_feed *f = opaque;
    f->transmitted++;
    if (f->tx)
        pcap_write_frame(f->tx, (uint64_t)((unsigned __int128)cycle * 1000000u / f->cpu_hz), frame,
                         length);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1234567 -> "1.2M" */
static void compact(double v, char *buffer, size_t size)
{
    static const char *const suffixes[] = { "", "k", "M", "G", "T" };
    unsigned i = 0;
    while (v >= 1000.0 && i + 1 < sizeof(suffixes) / sizeof(suffixes[0])) {
        v /= 1000.0;
        i++;
    }
    snprintf(buffer, size, i ? "%.1f%s" : "%.0f%s", v, suffixes[i]);
}

static void progress_show(struct progress *p, x86irq_machine *m, double time)
{
    uint64_t cycles = x86irq_cycles(m) - p->start_cycles, insns = x86irq_instructions(m);
    uint64_t interrupts = p->observer ? observer_interrupts(p->observer) : p->interrupts;
    double dt = time - p->last_time;
    char done[16], total[16], rate[16], line[160];
    compact((double)cycles, done, sizeof(done));
    compact(dt > 0 ? (double)(interrupts - p->last_interrupts) / dt : 0.0, rate, sizeof(rate));
    int n = snprintf(line, sizeof(line), "x86irq-run: %s", done);
    if (p->budget != UINT64_MAX) {
        compact((double)p->budget, total, sizeof(total));
        n += snprintf(line + n, sizeof(line) - (size_t)n, " of %s cycles (%.0f%%)", total,
                      100.0 * (double)cycles / (double)p->budget);
    } else {
        n += snprintf(line + n, sizeof(line) - (size_t)n, " cycles");
    }
    snprintf(line + n, sizeof(line) - (size_t)n, ", %.1f guest MIPS, %s interrupts/s",
             dt > 0 ? (double)(insns - p->last_instructions) / dt / 1e6 : 0.0, rate);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->shown = true;
    p->last_time = time;
    p->last_instructions = insns;
    p->last_interrupts = interrupts;
}

/* without an observer, --progress counts deliveries itself */
static void count_interrupt(void *opaque, const x86irq_trace_event *e)
{
    struct progress *p = opaque;
    if (e->origin == X86IRQ_ORIGIN_HARDWARE || e->origin == X86IRQ_ORIGIN_NMI)
        p->interrupts++;
}

/* x86irq_run in slices of about a tenth of a second of host time, with the line updated
 * between them; where the runs are cut changes nothing in the machine (x86irq.h) */
static x86irq_status run_with_progress(x86irq_machine *m, struct progress *p, uint64_t max_cycles,
                                       x86irq_stop_reason *reason)
{
    uint64_t start = x86irq_cycles(m);
    uint64_t end = start + max_cycles < start ? UINT64_MAX : start + max_cycles;
    uint64_t slice = 1000000;
    p->start_cycles = start;
    p->last_time = now();
    p->last_instructions = x86irq_instructions(m);
    double shown = p->last_time;
    for (;;) {
        uint64_t at = x86irq_cycles(m);
        if (at >= end) {
            *reason = X86IRQ_STOP_BUDGET;
            return X86IRQ_OK;
        }
        uint64_t run = end - at < slice ? end - at : slice;
        double before = now();
        x86irq_status s = x86irq_run(m, run, reason);
        if (s != X86IRQ_OK || *reason != X86IRQ_STOP_BUDGET || at + run >= end)
            return s;
        double after = now();
        if (after - before < 0.05 && slice < (1ull << 40))
            slice *= 2;
        else if (after - before > 0.2 && slice > 10000)
            slice /= 2;
        if (after - shown >= 0.25) {
            progress_show(p, m, after);
            shown = after;
        }
    }
}

/* What a recording belongs to (--record, --replay): the guest's files and the options that
 * change what the machine does (not those that only observe it) */
static uint64_t hash_file(uint64_t h, const char *path)
{
    if (!path)
        return record_hash(h, "-", 1);
    FILE *f = open_input(path, "rb");
    if (!f)
        return record_hash(h, path, strlen(path));
    uint8_t buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), f)) > 0)
        h = record_hash(h, buffer, n);
    fclose(f);
    return h;
}

static uint64_t run_fingerprint(const struct options *o)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "mem=%llu smp=%llu quantum=%llu hz=%llu isa=%d:%u epoch=%lld entry=%u msi=%d "
             "peer=%d traffic=%llu,%llu,%llu cmdline=%s append=%s",
             (unsigned long long)o->mem, (unsigned long long)o->smp,
             (unsigned long long)o->smp_quantum, (unsigned long long)o->cpu_hz, o->isa_given,
             o->isa, (long long)o->rtc_epoch, o->linux_entry, o->nic_msi, o->nic_peer,
             (unsigned long long)o->traffic_rate, (unsigned long long)o->traffic_size,
             (unsigned long long)o->traffic_count, o->cmdline ? o->cmdline : "",
             o->append ? o->append : "");
    uint64_t h = record_hash(0, text, strlen(text));
    h = hash_file(h, o->kernel ? o->kernel : o->guest);
    h = hash_file(h, o->initrd);
    h = hash_file(h, o->nic_rx);
    h = hash_file(h, o->serial_input);
    return hash_file(h, o->cost_profile);
}

/* --report: the runner's members of the run report (docs/cli.md, "The run report"), then the
 * observer's statistics. host_seconds and guest_mips are the only members two runs of the same
 * guest and options do not share. */
static void write_report(FILE *out, x86irq_machine *m, const struct options *o,
                         struct observer *observer, x86irq_stop_reason reason, int status,
                         double seconds, const struct nic_feed *feed)
{
    char *members = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&members, &size);
    if (!f) {
        observer_report(observer, out, NULL);
        return;
    }
    uint64_t insns = x86irq_instructions(m), cycles = x86irq_cycles(m);
    fprintf(f, "\"tool\":\"x86irq-run\",\"version\":");
    observe_json_string(f, x86irq_version());
    fprintf(f, ",\"guest\":");
    observe_json_string(f, o->kernel ? o->kernel : o->guest);
    fprintf(f, ",\"stop_reason\":\"%s\",\"exit_status\":%d", x86irq_stop_reason_string(reason),
            status);
    if (reason == X86IRQ_STOP_DEBUG_EXIT)
        fprintf(f, ",\"exit_value\":%u", x86irq_exit_value(m));
    fprintf(f, ",\"instructions\":%" PRIu64 ",\"cycles\":%" PRIu64 ",\"cpu_hz\":%" PRIu64
               ",\"guest_seconds\":%.9f,\"host_seconds\":%.3f,\"guest_mips\":%.1f",
            insns, cycles, o->cpu_hz, (double)cycles / (double)o->cpu_hz, seconds,
            seconds > 0 ? (double)insns / seconds / 1e6 : 0.0);
    fprintf(f, ",\"cpus\":[");
    for (unsigned c = 0; c < x86irq_cpu_count(m); c++)
        fprintf(f, "%s{\"cpu\":%u,\"state\":\"%s\",\"cycles\":%" PRIu64 ",\"instructions\":%" PRIu64
                   "}", c ? "," : "", c, x86irq_cpu_state_string(x86irq_get_cpu_state(m, c)),
                x86irq_cpu_cycles(m, c), x86irq_cpu_instructions(m, c));
    fprintf(f, "],\"nic\":{\"frames_in\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"frames_out\":%" PRIu64,
            feed->injected, feed->dropped, feed->transmitted);
    /* the NIC's own account of every frame of the wire (the peer's replies included) */
    x86irq_nic_statistics ns = { .size = sizeof(ns) };
    if (x86irq_nic_get_statistics(m, &ns) == X86IRQ_OK)
        fprintf(f, ",\"received\":%" PRIu64 ",\"transmitted\":%" PRIu64 ",\"drops\":{"
                   "\"receiver_disabled\":%" PRIu64 ",\"link_down\":%" PRIu64
                   ",\"undersize\":%" PRIu64 ",\"oversize\":%" PRIu64 ",\"filtered\":%" PRIu64
                   ",\"no_bus_master\":%" PRIu64 ",\"no_descriptors\":%" PRIu64
                   ",\"receive_dma_error\":%" PRIu64 ",\"transmit\":%" PRIu64 "}",
                ns.received, ns.transmitted, ns.receiver_disabled, ns.link_down, ns.undersize,
                ns.oversize, ns.filtered, ns.no_bus_master, ns.no_descriptors,
                ns.receive_dma_error, ns.transmit_dropped);
    struct rusage usage;
    fprintf(f, "}");
    if (getrusage(RUSAGE_SELF, &usage) == 0) /* ru_maxrss: KiB on Linux */
        fprintf(f, ",\"host_max_rss_kib\":%ld", usage.ru_maxrss);
    fclose(f);
    observer_report(observer, out, members);
    free(members);
}

int main(int argc, char **argv)
{
    struct options o;
    memset(&o, 0, sizeof(o));
    int status = parse(argc, argv, &o);
    /* what a recording belongs to, while the command line is at hand */
    uint64_t fingerprint = status < 0 && (o.record || o.replay) ? run_fingerprint(&o) : 0;
    if (status >= 0) {
        free(o.cmdline);
        return status;
    }
    x86irq_config config;
    x86irq_config_init(&config);
    config.ram_size = o.mem;
    config.cpu_hz = o.cpu_hz;
    config.nic_msi = o.nic_msi;
    config.nic_peer = o.nic_peer;
    config.rtc_epoch = o.rtc_epoch;
    config.cpus = (unsigned)o.smp;
    config.smp_quantum = o.smp_quantum;
    config.linux_entry = o.linux_entry;
    if (o.isa_given)
        config.isa = o.isa;
    x86irq_machine *m = NULL;
    x86irq_status s = x86irq_machine_create(&config, &m);
    if (s != X86IRQ_OK) {
        fprintf(stderr, "x86irq-run: cannot create the machine: %s (RAM must be 1 MiB to 3 GiB)\n",
                x86irq_status_string(s));
        free(o.cmdline);
        return s == X86IRQ_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_INTERNAL;
    }
    int profile_status = o.cost_profile ? load_cost_profile(m, o.cost_profile) : 0;
    if (profile_status) {
        free(o.cmdline);
        x86irq_machine_destroy(m);
        return profile_status;
    }
    s = o.kernel ? x86irq_load_linux(m, o.kernel, o.initrd, o.append)
                 : x86irq_load_elf(m, o.guest, o.cmdline);
    free(o.cmdline);
    if (s != X86IRQ_OK) {
        fprintf(stderr, "x86irq-run: %s\n", x86irq_last_error(m));
        x86irq_machine_destroy(m);
        return s == X86IRQ_ERR_IO ? EXIT_IO : EXIT_LOAD;
    }
    if (o.symbols && (s = x86irq_load_symbols(m, o.symbols)) != X86IRQ_OK) {
        fprintf(stderr, "x86irq-run: %s\n", x86irq_last_error(m));
        x86irq_machine_destroy(m);
        return s == X86IRQ_ERR_IO ? EXIT_IO : EXIT_LOAD;
    }
    if (o.phase_symbols && x86irq_set_phase_symbols(m, o.phase_symbols) != X86IRQ_OK) {
        fprintf(stderr, "x86irq-run: --phase-symbols: %s\n(try --help)\n", x86irq_last_error(m));
        x86irq_machine_destroy(m);
        return EXIT_USAGE;
    }
    /* --progress: on a terminal (not one the run itself writes its traces to or takes input
     * from), or when asked; only the plain run shows it */
    bool plain_run = !o.gdb && !o.console && !o.record && !o.replay &&
                     !snapshot_plan_any(&o.snapshots) &&
                     !(o.kernel && !o.no_console && !o.serial_input && isatty(STDIN_FILENO));
    struct progress progress = { .budget = o.max_cycles };
    progress.on = plain_run &&
                  (o.progress == 1 ||
                   (o.progress == -1 && isatty(STDERR_FILENO) &&
                    !(o.trace && strcmp(o.trace_path, "-") == 0) &&
                    !(o.events_path && strcmp(o.events_path, "-") == 0)));
    progress.clear_for_output = progress.on && isatty(STDOUT_FILENO);
    struct serial_sink sink = { NULL, &progress };
    FILE *serial_file = NULL;
    if (o.serial_output) {
        serial_file = fopen(o.serial_output, "wb");
        if (!serial_file) {
            fprintf(stderr, "x86irq-run: %s: %s\n", o.serial_output, strerror(errno));
            x86irq_machine_destroy(m);
            return EXIT_IO;
        }
        sink.file = serial_file;
        x86irq_set_serial_output(m, serial_to_stdout, &sink);
    } else if (!o.quiet) {
        x86irq_set_serial_output(m, serial_to_stdout, &sink);
    }
    if (o.serial_input && !console_queue_file(m, o.serial_input)) {
        x86irq_machine_destroy(m);
        return EXIT_IO;
    }
    struct tracer tracer = { m, NULL };
    if (o.trace) {
        tracer.out = strcmp(o.trace_path, "-") == 0 ? stderr : fopen(o.trace_path, "w");
        if (!tracer.out) {
            fprintf(stderr, "x86irq-run: %s: %s\n", o.trace_path, strerror(errno));
            x86irq_machine_destroy(m);
            return EXIT_IO;
        }
        x86irq_set_instruction_hook(m, trace_instruction, &tracer);
    }

    FILE *report_file = NULL;
    if (o.report && !(report_file = fopen(o.report, "w"))) {
        fprintf(stderr, "x86irq-run: %s: %s\n", o.report, strerror(errno));
        x86irq_machine_destroy(m);
        return EXIT_IO;
    }
    /* colour for the reports on stderr: asked, or a terminal without NO_COLOR
     * (https://no-color.org: any non-empty value) */
    const char *no_color = getenv("NO_COLOR");
    bool color = o.color == COLOR_ALWAYS ||
                 (o.color == COLOR_AUTO && isatty(STDERR_FILENO) && !(no_color && *no_color));
    struct observe_options observe = { .stats = o.stats, .report = o.report != NULL,
                                       .check_nesting = o.check_nesting,
                                       .rules = o.rules, .cpu_hz = o.cpu_hz,
                                       .phase_symbols = o.phase_symbols, .color = color };
    struct timeline *timeline = NULL;
    if (o.timeline_path) {
        struct timeline_options to = { .path = o.timeline_path, .html = o.timeline_html,
                                       .cpu_hz = o.cpu_hz, .window = o.timeline_window,
                                       .from = o.timeline_from, .to = o.timeline_to,
                                       .cpus = x86irq_cpu_count(m) };
        observe.timeline = timeline = timeline_create(&to);
        if (!timeline) {
            fprintf(stderr, "x86irq-run: %s: %s\n", o.timeline_path, strerror(errno));
            x86irq_machine_destroy(m);
            return EXIT_IO;
        }
    }
    FILE *events_file = NULL, *perfetto_file = NULL;
    if (o.events_path)
        observe.events = events_file = strcmp(o.events_path, "-") == 0 ? stderr
                                                                        : fopen(o.events_path, "w");
    if (o.perfetto_path)
        observe.perfetto = perfetto_file = fopen(o.perfetto_path, "w");
    if ((o.events_path && !events_file) || (o.perfetto_path && !perfetto_file)) {
        fprintf(stderr, "x86irq-run: %s: %s\n",
                o.events_path && !events_file ? o.events_path : o.perfetto_path, strerror(errno));
        x86irq_machine_destroy(m);
        return EXIT_IO;
    }
    struct nic_feed feed = { .machine = m, .cpu_hz = o.cpu_hz, .rate = o.traffic_rate,
                             .size = o.traffic_size, .count = o.traffic_count };
    if (o.nic_rx) {
        const char *error;
        feed.rx = open_input(o.nic_rx, "rb");
        if (!feed.rx || !pcap_read_header(feed.rx, &feed.swapped, &error)) {
            fprintf(stderr, "x86irq-run: %s: %s\n", o.nic_rx, feed.rx ? error : strerror(errno));
            int unreadable = !feed.rx;
            if (feed.rx)
                fclose(feed.rx);
            x86irq_machine_destroy(m);
            return unreadable ? EXIT_IO : EXIT_USAGE;
        }
        schedule_captured(&feed);
    }
    if (o.nic_tx) {
        feed.tx = fopen(o.nic_tx, "wb");
        if (!feed.tx || !pcap_write_header(feed.tx)) {
            fprintf(stderr, "x86irq-run: %s: %s\n", o.nic_tx, strerror(errno));
            x86irq_machine_destroy(m);
            return EXIT_IO;
        }
    }
    x86irq_set_nic_transmit(m, transmitted, &feed);
    if (o.traffic_count)
        x86irq_schedule_event(m, o.cpu_hz / o.traffic_rate, next_generated, &feed, NULL);
    struct observer *observer = observer_create(m, &observe);
    progress.observer = observer;
    if (progress.on && !observer) /* (the observer counts them when there is one) */
        x86irq_set_trace_hook(m, X86IRQ_TRACE_BIT(X86IRQ_TRACE_DELIVER), count_interrupt,
                              &progress);
    /* after the observer's trace hook: setting one forgets what is in service */
    if (o.restore) {
        s = o.restore_base ? x86irq_snapshot_restore_delta_file(m, o.restore_base, o.restore)
                           : x86irq_snapshot_restore_file(m, o.restore);
        if (s != X86IRQ_OK)
            fprintf(stderr, "x86irq-run: --restore: %s\n", x86irq_last_error(m));
        else
            s = rebind_feed(m, &feed); /* says why itself */
        if (s != X86IRQ_OK) {
            observer_finish(observer, stderr);
            x86irq_machine_destroy(m);
            return s == X86IRQ_ERR_IO ? EXIT_IO
                   : s == X86IRQ_ERR_BAD_SNAPSHOT ? EXIT_LOAD : EXIT_USAGE;
        }
    }

    double start = now();
    uint64_t start_cycles = x86irq_cycles(m);
    x86irq_stop_reason reason = X86IRQ_STOP_NONE;
    bool console_quit = false;
    /* a Linux kernel run from a terminal gets the terminal as its console, as QEMU's
     * -nographic gives it (a shell on ttyS0 can be used at once) */
    if (o.kernel && !o.no_console && !o.serial_input && !o.gdb && isatty(STDIN_FILENO))
        o.console = true;
    bool gdb_killed = false;
    char gdb_error[200] = "";
    if (o.gdb) {
        char host[64];
        unsigned port = 0;
        gdb_server_parse(o.gdb, host, sizeof(host), &port, gdb_error, sizeof(gdb_error));
        s = gdb_server_run(m, host, port, o.gdb_wait, o.gdb_arch, o.max_cycles, &reason,
                           &gdb_killed,
                           gdb_error, sizeof(gdb_error));
        if (s == X86IRQ_ERR_IO) {
            fprintf(stderr, "x86irq-run: %s\n", gdb_error);
            x86irq_machine_destroy(m);
            return EXIT_IO;
        }
    } else if (o.console || o.record || o.replay) {
        struct console_record rec = { 0 };
        struct recording recorded = { 0 };
        char error[300];
        if (o.replay) {
            bool unreadable = false;
            if (!record_load(o.replay, &recorded, error, sizeof(error), &unreadable)) {
                fprintf(stderr, "x86irq-run: --replay: %s\n", error);
                x86irq_machine_destroy(m);
                return unreadable ? EXIT_IO : EXIT_USAGE;
            }
            if (recorded.fingerprint != fingerprint || recorded.slice != console_slice(o.cpu_hz)) {
                fprintf(stderr, "x86irq-run: --replay: %s was recorded with another guest or "
                                "other options (the fingerprints differ)\n", o.replay);
                record_free(&recorded);
                x86irq_machine_destroy(m);
                return EXIT_USAGE;
            }
            rec.in = &recorded;
        }
        if (o.record) {
            rec.out = fopen(o.record, "wb");
            if (!rec.out || !record_write_header(rec.out, fingerprint, console_slice(o.cpu_hz))) {
                fprintf(stderr, "x86irq-run: --record: %s: %s\n", o.record, strerror(errno));
                if (rec.out)
                    fclose(rec.out);
                x86irq_machine_destroy(m);
                return EXIT_IO;
            }
        }
        s = console_run(m, o.max_cycles, o.cpu_hz, &reason, &console_quit, &rec);
        uint8_t end[24];
        uint64_t cycles = x86irq_cycles(m), insns = x86irq_instructions(m);
        for (unsigned b = 0; b < 8; b++) {
            end[b] = (uint8_t)(cycles >> (8 * b));
            end[8 + b] = (uint8_t)(insns >> (8 * b));
        }
        for (unsigned b = 0; b < 4; b++) {
            end[16 + b] = (uint8_t)((uint32_t)reason >> (8 * b));
            end[20 + b] = (uint8_t)((uint32_t)console_quit >> (8 * b));
        }
        if (rec.out) {
            bool written = record_write(rec.out, RECORD_END, cycles, end, sizeof(end));
            if (fclose(rec.out) != 0 || !written || rec.write_failed)
                fprintf(stderr, "x86irq-run: --record: %s could not be written whole\n", o.record);
        }
        if (o.replay) {
            if (s == X86IRQ_OK && (cycles != recorded.end_cycles ||
                                   insns != recorded.end_instructions ||
                                   (uint32_t)reason != recorded.end_reason ||
                                   (uint32_t)console_quit != recorded.end_quit)) {
                snprintf(rec.error, sizeof(rec.error),
                         "the replay diverged: it ended at cycle %llu after %llu instructions, "
                         "the recording at %llu after %llu",
                         (unsigned long long)cycles, (unsigned long long)insns,
                         (unsigned long long)recorded.end_cycles,
                         (unsigned long long)recorded.end_instructions);
                s = X86IRQ_ERR_STATE;
            }
            record_free(&recorded);
            if (rec.error[0]) {
                fprintf(stderr, "x86irq-run: --replay: %s\n", rec.error);
                x86irq_machine_destroy(m);
                return EXIT_INTERNAL;
            }
        }
    } else if (snapshot_plan_any(&o.snapshots)) {
        bool io_failed;
        s = snapshots_run(m, &o.snapshots, o.max_cycles, o.quiet, &reason,
                          &io_failed);
        if (io_failed) {
            x86irq_machine_destroy(m);
            return EXIT_IO;
        }
    } else if (progress.on) {
        s = run_with_progress(m, &progress, o.max_cycles, &reason);
        progress_clear(&progress);
    } else
        s = x86irq_run(m, o.max_cycles, &reason);
    double seconds = now() - start;
    if (tracer.out && tracer.out != stderr)
        fclose(tracer.out);
    fflush(stdout);

    if (s != X86IRQ_OK) {
        fprintf(stderr, "x86irq-run: %s\n", x86irq_last_error(m));
        status = EXIT_INTERNAL;
    } else if (console_quit) {
        status = EXIT_CONSOLE_QUIT;
    } else if (gdb_killed) {
        fprintf(stderr, "x86irq-run: killed from gdb\n");
        status = EXIT_CONSOLE_QUIT;
    } else {
        switch (reason) {
        case X86IRQ_STOP_DEBUG_EXIT: {
            uint32_t v = x86irq_exit_value(m);
            status = o.qemu_exit_codes ? (int)(((v << 1) | 1) & 0xFF) : (int)(v & 0xFF);
            break;
        }
        case X86IRQ_STOP_SHUTDOWN:
            fprintf(stderr, "x86irq-run: triple fault: the processor shut down\n");
            print_shutdown_chain(m);
            status = EXIT_SHUTDOWN;
            break;
        case X86IRQ_STOP_HALTED:
            fprintf(stderr, "x86irq-run: the guest halted with nothing that could wake it\n");
            status = EXIT_HALTED;
            break;
        case X86IRQ_STOP_BUDGET:
            fprintf(stderr, "x86irq-run: --max-cycles reached\n");
            status = EXIT_MAX_CYCLES;
            break;
        case X86IRQ_STOP_POWEROFF:
            status = 0; /* ACPI S5: the guest powered the machine off */
            break;
        case X86IRQ_STOP_RESET:
            fprintf(stderr, "x86irq-run: the guest reset the machine\n");
            status = EXIT_RESET;
            break;
        default:
            status = EXIT_INTERNAL;
            break;
        }
    }
    if (o.stats) {
        uint64_t insns = x86irq_instructions(m), cycles = x86irq_cycles(m);
        uint32_t eip = 0;
        x86irq_get_register(m, X86IRQ_REG_EIP, &eip);
        /* the stop reason in green for an end the guest chose, red for a crash or a hang */
        enum color_style verdict = reason == X86IRQ_STOP_POWEROFF ||
                                   (reason == X86IRQ_STOP_DEBUG_EXIT && x86irq_exit_value(m) == 0)
                                       ? COLOR_GOOD
                                   : reason == X86IRQ_STOP_SHUTDOWN || reason == X86IRQ_STOP_HALTED
                                       ? COLOR_BAD : COLOR_WARN;
        fprintf(stderr, "%s--- x86irq-run report ---%s\n", color_on(color, COLOR_HEADING),
                color_off(color));
        fprintf(stderr, "stop reason     %s%s", color_on(color, verdict),
                x86irq_stop_reason_string(reason));
        if (reason == X86IRQ_STOP_DEBUG_EXIT)
            fprintf(stderr, " (value %u)", x86irq_exit_value(m));
        fprintf(stderr, "%s\n", color_off(color));
        fprintf(stderr, "instructions    %" PRIu64 "\n", insns);
        fprintf(stderr, "cycles          %" PRIu64 " (%.6f s at %" PRIu64 " Hz)\n", cycles,
                (double)cycles / (double)o.cpu_hz, o.cpu_hz);
        fprintf(stderr, "host time       %.3f s\n", seconds);
        fprintf(stderr, "guest MIPS      %.1f\n", seconds > 0 ? (double)insns / seconds / 1e6 : 0.0);
        fprintf(stderr, "final EIP       0x%08x\n", eip);
        if (feed.injected || feed.transmitted)
            fprintf(stderr, "NIC             %" PRIu64 " frames in (%" PRIu64 " dropped), %" PRIu64
                            " out\n", feed.injected, feed.dropped, feed.transmitted);
    }
    if (report_file) {
        int final = o.check_nesting && observer_rules_fired(observer) ? EXIT_NESTING : status;
        write_report(report_file, m, &o, observer, reason, final, seconds, &feed);
        if (fclose(report_file) != 0) {
            fprintf(stderr, "x86irq-run: %s: %s\n", o.report, strerror(errno));
            status = EXIT_IO;
        }
    }
    unsigned rules_fired = observer_finish(observer, stderr);
    if (timeline) {
        const char *guest = o.kernel ? o.kernel : o.guest, *slash = strrchr(guest, '/');
        if (!timeline_finish(timeline, slash ? slash + 1 : guest, start_cycles)) {
            fprintf(stderr, "x86irq-run: %s could not be written whole\n", o.timeline_path);
            status = EXIT_IO;
        }
    }
    if (feed.rx)
        fclose(feed.rx);
    if (feed.tx)
        fclose(feed.tx);
    if (events_file && events_file != stderr)
        fclose(events_file);
    if (perfetto_file)
        fclose(perfetto_file);
    if (o.check_nesting && rules_fired)
        status = EXIT_NESTING;
    if (serial_file)
        fclose(serial_file);
    x86irq_machine_destroy(m);
    return status;
}
