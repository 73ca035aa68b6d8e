/* The GDB remote stub's session: packets in, replies out, and the machine run between them
 * (gdb's manual, "Remote Protocol"). All-stop mode: when one CPU stops every CPU stops; thread
 * N is CPU N-1. Resuming runs the machine in slices of poll_cycles and looks at the connection
 * between them, for gdb's interrupt. The commands are a table of packet prefixes. */
#include "gdb/gdb.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------ replies */

void x86_gdb_reply(struct x86_gdb *g, const char *format, ...)
{
    size_t room = sizeof(g->reply) - g->reply_len;
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(g->reply + g->reply_len, room, format, ap);
    va_end(ap);
    if (n > 0)
        g->reply_len += (size_t)n < room ? (size_t)n : room - 1;
}

static void reply_bytes(struct x86_gdb *g, const char *bytes, size_t n)
{
    size_t room = sizeof(g->reply) - 1 - g->reply_len;
    if (n > room)
        n = room;
    memcpy(g->reply + g->reply_len, bytes, n);
    g->reply_len += n;
    g->reply[g->reply_len] = '\0';
}

static bool io_write(struct x86_gdb *g, const char *bytes, size_t n)
{
    if (g->done)
        return false;
    if (!g->io.write(g->io.opaque, bytes, n)) {
        g->done = true;
        g->end = X86IRQ_GDB_DISCONNECTED;
        return false;
    }
    return true;
}

bool x86_gdb_send(struct x86_gdb *g, const char *payload, size_t len)
{
    if (len > X86_RSP_MAX_PACKET)
        len = X86_RSP_MAX_PACKET;
    g->frame_len = x86_rsp_frame(g->frame, payload, len);
    return io_write(g, g->frame, g->frame_len);
}

void x86_gdb_console(struct x86_gdb *g, const char *format, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(text, sizeof(text), format, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
    char packet[1 + 2 * sizeof(text)];
    packet[0] = 'O';
    x86_rsp_bytes_to_hex((const uint8_t *)text, len, packet + 1);
    x86_gdb_send(g, packet, 1 + 2 * len);
}

/* ------------------------------------------------------------------ helpers */

/* a thread id: -1 all, 0 any, N: CPU N-1; false if malformed or no such CPU */
static bool parse_thread(const struct x86_gdb *g, const char *s, int *cpu)
{
    if (s[0] == '-' && s[1] == '1' && s[2] == '\0') {
        *cpu = -1;
        return true;
    }
    uint64_t v;
    const char *p = s;
    if (!x86_rsp_parse_hex(&p, &v) || *p != '\0')
        return false;
    if (v == 0) {
        *cpu = (int)g->stop_cpu;
        return true;
    }
    if (v > x86irq_cpu_count(g->machine))
        return false;
    *cpu = (int)v - 1;
    return true;
}

/* "ADDR,LEN" at *s (advanced past it) */
static bool parse_range(const char **s, uint64_t *addr, uint64_t *len)
{
    return x86_rsp_parse_hex(s, addr) && *(*s)++ == ',' && x86_rsp_parse_hex(s, len);
}

static x86irq_status read_memory(struct x86_gdb *g, uint64_t addr, uint8_t *out, size_t n)
{
    return g->physical ? x86irq_read_physical(g->machine, addr, out, n)
                       : x86irq_read_linear(g->machine, g->g_cpu, addr, out, n);
}
static x86irq_status write_memory(struct x86_gdb *g, uint64_t addr, const uint8_t *in, size_t n)
{
    x86_gdb_history_forget(g); /* a replay would not write it */
    return g->physical ? x86irq_write_physical(g->machine, addr, in, n)
                       : x86irq_write_linear(g->machine, g->g_cpu, addr, in, n);
}

static const char *cpu_state_text(x86irq_machine *m, unsigned cpu)
{
    return x86irq_cpu_state_string(x86irq_get_cpu_state(m, cpu));
}

/* ------------------------------------------------------------------ stop replies */

static void set_stop(struct x86_gdb *g, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void set_stop(struct x86_gdb *g, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(g->last_stop, sizeof(g->last_stop), format, ap);
    va_end(ap);
}

/* What a stop says to gdb, in g->last_stop (with a line of console output when `say`); the CPU
 * it came from becomes gdb's current thread */
static void describe_stop(struct x86_gdb *g, x86irq_stop_reason reason, bool say)
{
    x86irq_machine *m = g->machine;
    int cpu = x86irq_stop_cpu(m);
    if (cpu < 0)
        cpu = m->current ? (int)m->current->cpu.index : 0;
    g->stop_cpu = (unsigned)cpu;
    g->g_cpu = (unsigned)cpu;
    unsigned thread = (unsigned)cpu + 1;
    switch (reason) {
    case X86IRQ_STOP_BREAKPOINT:
        set_stop(g, "T05thread:%x;swbreak:;", thread);
        break;
    case X86IRQ_STOP_WATCHPOINT: {
        uint64_t address = 0;
        x86irq_watch_kind kind = X86IRQ_WATCH_WRITE;
        x86irq_watchpoint_hit(m, &address, &kind, NULL, NULL, NULL);
        const char *what = kind == X86IRQ_WATCH_WRITE  ? "watch"
                           : kind == X86IRQ_WATCH_READ ? "rwatch"
                                                       : "awatch";
        set_stop(g, "T05thread:%x;%s:%llx;", thread, what, (unsigned long long)address);
        break;
    }
    case X86IRQ_STOP_REQUESTED:
        set_stop(g, "T02thread:%x;", thread); /* SIGINT: gdb's interrupt */
        break;
    case X86IRQ_STOP_HALTED:
        if (say)
            x86_gdb_console(g, "x86irq: every CPU is halted and nothing can wake one\n");
        set_stop(g, "T05thread:%x;", thread);
        break;
    case X86IRQ_STOP_DEBUG_EXIT:
        g->exited = true;
        set_stop(g, "W%02x", (unsigned)(x86irq_exit_value(m) & 0xFF));
        break;
    case X86IRQ_STOP_POWEROFF:
    case X86IRQ_STOP_RESET:
        g->exited = true;
        if (say)
            x86_gdb_console(g, "x86irq: the guest %s\n",
                            reason == X86IRQ_STOP_POWEROFF ? "powered off" : "reset the machine");
        set_stop(g, "W00");
        break;
    case X86IRQ_STOP_SHUTDOWN:
        g->exited = true;
        if (say)
            x86_gdb_console(g, "x86irq: CPU %d shut down (triple fault)\n", cpu);
        set_stop(g, "X0b"); /* as a process killed by SIGSEGV */
        break;
    default:
        set_stop(g, "T05thread:%x;", thread);
        break;
    }
}

static void stop_reply(struct x86_gdb *g, x86irq_stop_reason reason)
{
    describe_stop(g, reason, true);
    x86_gdb_send(g, g->last_stop, strlen(g->last_stop));
}

/* ------------------------------------------------------------------ running */

/* Look at the connection without waiting: gdb's interrupt, or a packet (which also stops the
 * machine, and is handled after the stop reply); bytes after it wait in g->input */
static void look_at_connection(struct x86_gdb *g)
{
    for (;;) {
        if (g->input_at == g->input_len) {
            long n = g->io.read(g->io.opaque, g->input, sizeof(g->input), false);
            if (n < 0) {
                g->done = true;
                g->end = X86IRQ_GDB_DISCONNECTED;
                return;
            }
            if (n == 0)
                return;
            g->input_len = (size_t)n;
            g->input_at = 0;
        }
        while (g->input_at < g->input_len) {
            enum x86_rsp_event e = x86_rsp_feed(&g->parser, g->input[g->input_at++]);
            if (e == X86_RSP_INTERRUPT)
                g->interrupted = true;
            else if (e == X86_RSP_PACKET) {
                g->interrupted = true;
                g->packet_waiting = true;
                return;
            }
        }
    }
}

static void resume(struct x86_gdb *g)
{
    x86irq_machine *m = g->machine;
    g->interrupted = false;
    if (g->exited) { /* the machine has ended: say so again */
        x86_gdb_send(g, g->last_stop, strlen(g->last_stop));
        return;
    }
    x86_gdb_history_mark(g, X86_GDB_HISTORY_INTERVAL);
    for (;;) {
        x86irq_stop_reason reason = X86IRQ_STOP_NONE;
        x86irq_status s = g->resume == X86_GDB_RESUME_STEP
                              ? x86irq_step(m, g->resume_cpu, g->poll_cycles, &reason)
                              : x86irq_run(m, g->poll_cycles, &reason);
        if (s != X86IRQ_OK) {
            x86_gdb_console(g, "x86irq: %s\n", x86irq_last_error(m));
            stop_reply(g, X86IRQ_STOP_NONE);
            return;
        }
        if (reason != X86IRQ_STOP_BUDGET) {
            stop_reply(g, reason);
            break;
        }
        look_at_connection(g);
        if (g->done)
            return;
        if (g->interrupted) {
            stop_reply(g, X86IRQ_STOP_REQUESTED);
            break;
        }
        if (g->resume == X86_GDB_RESUME_CONTINUE)
            x86_gdb_history_mark(g, g->history_period);
    }
}

/* ------------------------------------------------------------------ the commands */

typedef void (*command_fn)(struct x86_gdb *g, const char *args, size_t len);

static void cmd_stop_reason(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "%s", g->last_stop);
}

static void cmd_supported(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+;"
                     "vContSupported+;ReverseStep+;ReverseContinue+",
                  X86_RSP_MAX_PACKET);
}

static void cmd_features(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    static const char annex[] = "target.xml:";
    uint64_t offset, length;
    if (strncmp(a, annex, sizeof(annex) - 1) != 0) {
        x86_gdb_reply(g, "E00");
        return;
    }
    const char *s = a + sizeof(annex) - 1;
    if (!parse_range(&s, &offset, &length)) {
        x86_gdb_reply(g, "E01");
        return;
    }
    if (offset >= g->xml_len) {
        x86_gdb_reply(g, "l");
        return;
    }
    size_t chunk = g->xml_len - (size_t)offset;
    if (chunk > length)
        chunk = (size_t)length;
    if (chunk > X86_RSP_MAX_PACKET / 2) /* escapes may double it */
        chunk = X86_RSP_MAX_PACKET / 2;
    x86_gdb_reply(g, "%c", offset + chunk < g->xml_len ? 'm' : 'l');
    reply_bytes(g, g->xml + offset, chunk);
}

static void cmd_attached(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "1"); /* attached to an existing process: kill is not the default */
}

static void cmd_current_thread(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "QC%x", g->stop_cpu + 1);
}

static void cmd_first_thread(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "m");
    for (unsigned i = 0; i < x86irq_cpu_count(g->machine); i++)
        x86_gdb_reply(g, "%s%x", i ? "," : "", i + 1);
}

static void cmd_next_thread(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "l");
}

static void cmd_thread_info(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    int cpu;
    if (!parse_thread(g, a, &cpu) || cpu < 0) {
        x86_gdb_reply(g, "E01");
        return;
    }
    char text[96];
    int len = snprintf(text, sizeof(text), "CPU %d, %s", cpu, cpu_state_text(g->machine, (unsigned)cpu));
    char hex[2 * sizeof(text) + 1];
    x86_rsp_bytes_to_hex((const uint8_t *)text, (size_t)len, hex);
    x86_gdb_reply(g, "%s", hex);
}

static void cmd_monitor(struct x86_gdb *g, const char *a, size_t n)
{
    char command[X86_RSP_MAX_PACKET / 2 + 1];
    if (n % 2 || n / 2 >= sizeof(command) ||
        !x86_rsp_hex_to_bytes(a, n, (uint8_t *)command)) {
        x86_gdb_reply(g, "E01");
        return;
    }
    command[n / 2] = '\0';
    if (strlen(command) != n / 2) { /* a NUL inside */
        x86_gdb_reply(g, "E01");
        return;
    }
    if (!x86_gdb_monitor(g, command))
        x86_gdb_console(g, "unknown monitor command \"%s\": \"monitor help\" lists them\n",
                        command);
    x86_gdb_reply(g, "OK");
}

static void cmd_symbol(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "OK");
}

static void cmd_no_ack(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "OK"); /* acknowledged with '+' still; none from the next packet on */
    g->no_ack = true;
}

static void cmd_phys_mode(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    if ((a[0] != '0' && a[0] != '1') || a[1]) {
        x86_gdb_reply(g, "E22");
        return;
    }
    g->physical = a[0] == '1'; /* QEMU's Qqemu.PhyMemMode, for the same gdb scripts */
    x86_gdb_reply(g, "OK");
}

static void cmd_vcont_query(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "vCont;c;C;s;S");
}

/* vCont;ACTION[:THREAD];...: a step of one thread wins over continues (the others run in
 * their rounds meanwhile: all-stop, the machine is one) */
static void cmd_vcont(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    enum x86_gdb_resume what = X86_GDB_RESUME_NONE;
    unsigned step_cpu = g->stop_cpu;
    const char *s = a;
    while (*s) {
        char action = *s++;
        if (action == 'C' || action == 'S') { /* a signal: none can be delivered; ignored */
            uint64_t signal;
            if (!x86_rsp_parse_hex(&s, &signal)) {
                x86_gdb_reply(g, "E01");
                return;
            }
            action = (char)(action - 'A' + 'a');
        }
        if (action != 'c' && action != 's') {
            x86_gdb_reply(g, "E01");
            return;
        }
        int cpu = -1;
        if (*s == ':') {
            char thread[24];
            size_t k = 0;
            s++;
            while (*s && *s != ';' && k + 1 < sizeof(thread))
                thread[k++] = *s++;
            thread[k] = '\0';
            if (!parse_thread(g, thread, &cpu)) {
                x86_gdb_reply(g, "E01");
                return;
            }
        }
        if (action == 's' && what != X86_GDB_RESUME_STEP) {
            what = X86_GDB_RESUME_STEP;
            step_cpu = cpu < 0 ? g->stop_cpu : (unsigned)cpu;
        } else if (action == 'c' && what == X86_GDB_RESUME_NONE) {
            what = X86_GDB_RESUME_CONTINUE;
        }
        if (*s == ';')
            s++;
        else if (*s) {
            x86_gdb_reply(g, "E01");
            return;
        }
    }
    if (what == X86_GDB_RESUME_NONE) {
        x86_gdb_reply(g, "E01");
        return;
    }
    g->resume = what;
    g->resume_cpu = step_cpu;
}

static void cmd_kill(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    g->done = true;
    g->end = X86IRQ_GDB_KILLED;
}

static void cmd_vkill(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "OK");
    g->done = true;
    g->end = X86IRQ_GDB_KILLED;
}

static void cmd_detach(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    x86_gdb_reply(g, "OK");
    g->done = true;
    g->end = X86IRQ_GDB_DETACHED;
}

static void cmd_set_thread(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    int cpu;
    if ((a[0] != 'g' && a[0] != 'c') || !parse_thread(g, a + 1, &cpu)) {
        x86_gdb_reply(g, "E01");
        return;
    }
    if (a[0] == 'g')
        g->g_cpu = cpu < 0 ? g->stop_cpu : (unsigned)cpu;
    else
        g->c_cpu = cpu;
    x86_gdb_reply(g, "OK");
}

static void cmd_thread_alive(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    int cpu;
    x86_gdb_reply(g, parse_thread(g, a, &cpu) && cpu >= 0 ? "OK" : "E01");
}

/* register r of gdb's CPU, in hex, appended to the reply */
static void reply_register(struct x86_gdb *g, unsigned r)
{
    const struct x86_gdb_reg *reg = &g->regs.regs[r];
    uint8_t value[16];
    char hex[33];
    reg->get(g->machine, g->g_cpu, reg->arg, value);
    x86_rsp_bytes_to_hex(value, reg->bits / 8u, hex);
    x86_gdb_reply(g, "%s", hex);
}

static void cmd_read_registers(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    for (unsigned r = 0; r < g->regs.count; r++)
        reply_register(g, r);
}

static bool set_register(struct x86_gdb *g, unsigned r, const char *hex, size_t len)
{
    const struct x86_gdb_reg *reg = &g->regs.regs[r];
    uint8_t value[16];
    if (len != 2u * (reg->bits / 8u) || !x86_rsp_hex_to_bytes(hex, len, value))
        return false;
    uint8_t now[16];
    reg->get(g->machine, g->g_cpu, reg->arg, now);
    if (memcmp(now, value, reg->bits / 8u) != 0)
        x86_gdb_history_forget(g); /* a replay would not write it */
    return reg->set(g->machine, g->g_cpu, reg->arg, value);
}

static void cmd_write_registers(struct x86_gdb *g, const char *a, size_t n)
{
    bool ok = true;
    size_t at = 0;
    for (unsigned r = 0; r < g->regs.count && at < n; r++) {
        size_t len = 2u * (g->regs.regs[r].bits / 8u);
        if (at + len > n) {
            ok = false;
            break;
        }
        ok &= set_register(g, r, a + at, len); /* unchanged values are not written again */
        at += len;
    }
    x86_gdb_reply(g, ok && at == n ? "OK" : "E22");
}

static void cmd_read_register(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    uint64_t r;
    const char *s = a;
    if (!x86_rsp_parse_hex(&s, &r) || *s || r >= g->regs.count) {
        x86_gdb_reply(g, "E45");
        return;
    }
    reply_register(g, (unsigned)r);
}

static void cmd_write_register(struct x86_gdb *g, const char *a, size_t n)
{
    uint64_t r;
    const char *s = a;
    if (!x86_rsp_parse_hex(&s, &r) || *s != '=' || r >= g->regs.count) {
        x86_gdb_reply(g, "E45");
        return;
    }
    s++;
    x86_gdb_reply(g, set_register(g, (unsigned)r, s, n - (size_t)(s - a)) ? "OK" : "E22");
}

static void cmd_read_memory(struct x86_gdb *g, const char *a, size_t n)
{
    (void)n;
    uint64_t addr, len;
    const char *s = a;
    if (!parse_range(&s, &addr, &len) || *s) {
        x86_gdb_reply(g, "E01");
        return;
    }
    uint8_t bytes[X86_RSP_MAX_PACKET / 2];
    if (len > sizeof(bytes))
        len = sizeof(bytes);
    /* page by page: what can be read before the first unmapped page (a partial read) */
    size_t done = 0;
    while (done < len) {
        size_t chunk = 0x1000 - (size_t)((addr + done) & 0xFFF);
        if (chunk > len - done)
            chunk = (size_t)(len - done);
        if (read_memory(g, addr + done, bytes + done, chunk) != X86IRQ_OK)
            break;
        done += chunk;
    }
    if (done == 0 && len) {
        x86_gdb_reply(g, "E14"); /* EFAULT */
        return;
    }
    char hex[X86_RSP_MAX_PACKET + 1];
    x86_rsp_bytes_to_hex(bytes, done, hex);
    x86_gdb_reply(g, "%s", hex);
}

static void write_memory_reply(struct x86_gdb *g, uint64_t addr, const uint8_t *bytes, size_t len)
{
    x86_gdb_reply(g, write_memory(g, addr, bytes, len) == X86IRQ_OK ? "OK" : "E14");
}

static void cmd_write_memory(struct x86_gdb *g, const char *a, size_t n)
{
    uint64_t addr, len;
    const char *s = a;
    uint8_t bytes[X86_RSP_MAX_PACKET / 2];
    if (!parse_range(&s, &addr, &len) || *s++ != ':' || len > sizeof(bytes) ||
        (size_t)(n - (size_t)(s - a)) != 2 * len || !x86_rsp_hex_to_bytes(s, 2 * len, bytes)) {
        x86_gdb_reply(g, "E01");
        return;
    }
    write_memory_reply(g, addr, bytes, (size_t)len);
}

static void cmd_write_binary(struct x86_gdb *g, const char *a, size_t n)
{
    uint64_t addr, len;
    const char *s = a;
    if (!parse_range(&s, &addr, &len) || *s++ != ':') {
        x86_gdb_reply(g, "E01");
        return;
    }
    /* the data is escaped in the parser's buffer: undo it there */
    char *data = g->parser.payload + (s - g->parser.payload);
    size_t got = x86_rsp_unescape(data, n - (size_t)(s - a));
    if (got != len) {
        x86_gdb_reply(g, "E01");
        return;
    }
    write_memory_reply(g, addr, (const uint8_t *)data, got);
}

/* The points gdb set, removed with the session (the embedder's own stay) */
static void track_point(struct x86_gdb *g, unsigned type, uint64_t addr, uint64_t kind,
                        bool insert)
{
    if (type <= 1)
        kind = 0, type = 0; /* Z0 and Z1 are one breakpoint */
    for (unsigned i = 0; i < g->point_count; i++)
        if (g->points[i].type == type && g->points[i].address == addr &&
            g->points[i].kind == kind) {
            if (!insert)
                g->points[i] = g->points[--g->point_count];
            return;
        }
    if (insert && g->point_count < X86_GDB_MAX_POINTS)
        g->points[g->point_count++] = (struct x86_gdb_point){ type, addr, kind };
}

/* Z/z TYPE,ADDR,KIND: 0 and 1 breakpoints (the machine's: neither writes guest memory), 2
 * write, 3 read and 4 access watchpoints of KIND bytes */
static void cmd_point(struct x86_gdb *g, const char *a, size_t n, bool insert)
{
    (void)n;
    uint64_t type, addr, kind;
    const char *s = a;
    if (!x86_rsp_parse_hex(&s, &type) || *s++ != ',' || !parse_range(&s, &addr, &kind) ||
        (*s && *s != ';')) {
        x86_gdb_reply(g, "E01");
        return;
    }
    x86irq_machine *m = g->machine;
    x86irq_status st;
    if (type <= 1) {
        st = insert ? x86irq_add_breakpoint(m, addr) : x86irq_remove_breakpoint(m, addr);
    } else if (type <= 4) {
        static const x86irq_watch_kind kinds[] = { X86IRQ_WATCH_WRITE, X86IRQ_WATCH_READ,
                                                   X86IRQ_WATCH_ACCESS };
        x86irq_watch_kind k = kinds[type - 2];
        st = insert ? x86irq_add_watchpoint(m, addr, kind, k)
                    : x86irq_remove_watchpoint(m, addr, kind, k);
    } else {
        return; /* unsupported: the empty reply */
    }
    if (st == X86IRQ_OK)
        track_point(g, (unsigned)type, addr, kind, insert);
    x86_gdb_reply(g, st == X86IRQ_OK ? "OK" : "E22");
}
static void cmd_insert(struct x86_gdb *g, const char *a, size_t n) { cmd_point(g, a, n, true); }
static void cmd_remove(struct x86_gdb *g, const char *a, size_t n) { cmd_point(g, a, n, false); }

/* c [ADDR], s [ADDR] and C/S SIG[;ADDR]: resume, at ADDR if given */
static void resume_at(struct x86_gdb *g, const char *a, bool step, bool signal)
{
    const char *s = a;
    if (signal) {
        uint64_t sig;
        if (!x86_rsp_parse_hex(&s, &sig)) {
            x86_gdb_reply(g, "E01");
            return;
        }
        if (*s == ';')
            s++;
    }
    if (*s) {
        uint64_t addr;
        if (!x86_rsp_parse_hex(&s, &addr) || *s ||
            x86irq_set_cpu_register64(g->machine, g->stop_cpu, X86IRQ_REG64_RIP, addr) !=
                X86IRQ_OK) {
            x86_gdb_reply(g, "E01");
            return;
        }
        x86_gdb_history_forget(g);
    }
    g->resume = step ? X86_GDB_RESUME_STEP : X86_GDB_RESUME_CONTINUE;
    g->resume_cpu = g->c_cpu >= 0 ? (unsigned)g->c_cpu : g->stop_cpu;
}
static void cmd_continue(struct x86_gdb *g, const char *a, size_t n) { (void)n; resume_at(g, a, false, false); }
static void cmd_step(struct x86_gdb *g, const char *a, size_t n) { (void)n; resume_at(g, a, true, false); }
static void cmd_continue_signal(struct x86_gdb *g, const char *a, size_t n) { (void)n; resume_at(g, a, false, true); }
static void cmd_step_signal(struct x86_gdb *g, const char *a, size_t n) { (void)n; resume_at(g, a, true, true); }

/* bs and bc: back one instruction of the current CPU, or to the last breakpoint or watchpoint
 * hit (reverse.c); at the beginning of the history, gdb is told so (replaylog:begin) */
static void reverse(struct x86_gdb *g, bool step)
{
    unsigned cpu = step && g->c_cpu >= 0 ? (unsigned)g->c_cpu : g->stop_cpu;
    x86irq_stop_reason reason;
    enum x86_gdb_reverse_end end = x86_gdb_reverse(g, cpu, step, &reason);
    if (end == X86_GDB_REVERSE_FAILED) {
        x86_gdb_console(g, "x86irq: reverse execution: %s\n", x86irq_last_error(g->machine));
        x86_gdb_reply(g, "E01");
        return;
    }
    g->exited = false; /* back before an end, if it had ended */
    if (end == X86_GDB_REVERSE_BEGIN) {
        describe_stop(g, X86IRQ_STOP_STEP, false);
        g->stop_cpu = g->g_cpu = cpu;
        set_stop(g, "T05thread:%x;replaylog:begin;", cpu + 1);
    } else {
        describe_stop(g, reason, false);
    }
    x86_gdb_reply(g, "%s", g->last_stop);
}
static void cmd_reverse_step(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    reverse(g, true);
}
static void cmd_reverse_continue(struct x86_gdb *g, const char *a, size_t n)
{
    (void)a, (void)n;
    reverse(g, false);
}

/* Packets by prefix, the longer first where one is the start of another */
static const struct {
    const char *prefix;
    command_fn fn;
} commands[] = {
    { "qSupported", cmd_supported },
    { "qXfer:features:read:", cmd_features },
    { "qAttached", cmd_attached },
    { "qfThreadInfo", cmd_first_thread },
    { "qsThreadInfo", cmd_next_thread },
    { "qThreadExtraInfo,", cmd_thread_info },
    { "qRcmd,", cmd_monitor },
    { "qSymbol", cmd_symbol },
    { "qC", cmd_current_thread },
    { "QStartNoAckMode", cmd_no_ack },
    { "Qqemu.PhyMemMode:", cmd_phys_mode },
    { "vCont?", cmd_vcont_query },
    { "vCont;", cmd_vcont },
    { "vKill", cmd_vkill },
    { "?", cmd_stop_reason },
    { "H", cmd_set_thread },
    { "T", cmd_thread_alive },
    { "g", cmd_read_registers },
    { "G", cmd_write_registers },
    { "p", cmd_read_register },
    { "P", cmd_write_register },
    { "m", cmd_read_memory },
    { "M", cmd_write_memory },
    { "X", cmd_write_binary },
    { "bs", cmd_reverse_step },
    { "bc", cmd_reverse_continue },
    { "Z", cmd_insert },
    { "z", cmd_remove },
    { "c", cmd_continue },
    { "s", cmd_step },
    { "C", cmd_continue_signal },
    { "S", cmd_step_signal },
    { "D", cmd_detach },
    { "k", cmd_kill },
};

static void handle_packet(struct x86_gdb *g)
{
    const char *p = g->parser.payload;
    size_t len = g->parser.length;
    g->reply_len = 0;
    g->reply[0] = '\0';
    g->resume = X86_GDB_RESUME_NONE;
    bool known = false;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !known; i++) {
        size_t k = strlen(commands[i].prefix);
        /* one-letter commands take arguments; the q/Q/v names are whole words */
        if (len >= k && memcmp(p, commands[i].prefix, k) == 0 &&
            (k == 1 || commands[i].prefix[k - 1] == ':' || commands[i].prefix[k - 1] == ',' ||
             commands[i].prefix[k - 1] == ';' || len == k || p[k] == ':' || p[k] == ';' ||
             p[k] == ',')) {
            known = true;
            commands[i].fn(g, p + k, len - k);
        }
    }
    if (g->resume != X86_GDB_RESUME_NONE) {
        resume(g); /* its reply is the stop reply */
        return;
    }
    if (g->done && g->end == X86IRQ_GDB_KILLED && !g->reply_len)
        return; /* k has no reply */
    x86_gdb_send(g, g->reply, g->reply_len); /* unknown packets: the empty reply */
}

/* ------------------------------------------------------------------ the session */

void x86_gdb_init(struct x86_gdb *g, x86irq_machine *m, const struct x86_gdb_io *io,
                  const x86irq_gdb_options *options)
{
    memset(g, 0, sizeof(*g));
    g->machine = m;
    g->io = *io;
    g->poll_cycles = options && options->poll_cycles ? options->poll_cycles : 1000000;
    g->history_period = X86_GDB_HISTORY_PERIOD;
    x86irq_gdb_arch arch = options ? options->arch : X86IRQ_GDB_ARCH_AUTO;
    bool x86_64 = arch == X86IRQ_GDB_ARCH_X86_64 ||
                  (arch == X86IRQ_GDB_ARCH_AUTO && m->image_64bit);
    x86_gdb_regset(&g->regs, x86_64, (m->config.isa & X86IRQ_ISA_SSE) != 0);
    g->xml_len = x86_gdb_target_xml(&g->regs, g->xml, sizeof(g->xml));
    g->c_cpu = -1;
    x86_rsp_init(&g->parser);
    set_stop(g, "T05thread:1;");
    if (m->finished) /* served after its end: gdb's '?' is told the inferior has exited */
        describe_stop(g, m->stop_reason, false);
}

void x86_gdb_run(struct x86_gdb *g)
{
    while (!g->done) {
        if (g->packet_waiting) { /* one that stopped the machine: its turn now */
            g->packet_waiting = false;
            if (!g->no_ack)
                io_write(g, "+", 1);
            handle_packet(g);
            continue;
        }
        if (g->input_at == g->input_len) {
            long n = g->io.read(g->io.opaque, g->input, sizeof(g->input), true);
            if (n <= 0) {
                g->done = true;
                g->end = X86IRQ_GDB_DISCONNECTED;
                break;
            }
            g->input_len = (size_t)n;
            g->input_at = 0;
        }
        switch (x86_rsp_feed(&g->parser, g->input[g->input_at++])) {
        case X86_RSP_PACKET:
            if (!g->no_ack)
                io_write(g, "+", 1);
            handle_packet(g);
            break;
        case X86_RSP_BAD_PACKET:
            if (!g->no_ack)
                io_write(g, "-", 1);
            break;
        case X86_RSP_NACK:
            if (g->frame_len && !g->no_ack)
                io_write(g, g->frame, g->frame_len);
            break;
        default: /* acks, and an interrupt while stopped: nothing to do */
            break;
        }
    }
}

void x86_gdb_finish(struct x86_gdb *g)
{
    static const x86irq_watch_kind kinds[] = { X86IRQ_WATCH_WRITE, X86IRQ_WATCH_READ,
                                               X86IRQ_WATCH_ACCESS };
    for (unsigned i = 0; i < g->point_count; i++) {
        const struct x86_gdb_point *p = &g->points[i];
        if (p->type == 0)
            x86irq_remove_breakpoint(g->machine, p->address);
        else
            x86irq_remove_watchpoint(g->machine, p->address, p->kind, kinds[p->type - 2]);
    }
    g->point_count = 0;
    x86_gdb_free_snapshots(g);
    x86_gdb_history_forget(g);
}

/* ------------------------------------------------------------------ on a file descriptor */

static long fd_read(void *opaque, uint8_t *buffer, size_t size, bool wait)
{
    int fd = *(int *)opaque;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, wait ? -1 : 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0; /* nothing now */
        ssize_t n = read(fd, buffer, size);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n == 0)
            return -1; /* the other end closed */
        return (long)n;
    }
}

static bool fd_write(void *opaque, const char *bytes, size_t size)
{
    int fd = *(int *)opaque;
    while (size) {
        /* send: no SIGPIPE for the embedder's process when gdb has gone */
        ssize_t n = send(fd, bytes, size, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, bytes, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            poll(&p, 1, -1);
            continue;
        }
        if (n <= 0)
            return false;
        bytes += n;
        size -= (size_t)n;
    }
    return true;
}

void x86irq_gdb_options_init(x86irq_gdb_options *options)
{
    if (!options)
        return;
    memset(options, 0, sizeof(*options));
    options->arch = X86IRQ_GDB_ARCH_AUTO;
    options->poll_cycles = 1000000;
}

x86irq_status x86irq_gdb_serve(x86irq_machine *machine, int fd, const x86irq_gdb_options *options,
                               x86irq_gdb_end *end)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_gdb_serve");
    if (refused != X86IRQ_OK)
        return refused;
    if (fd < 0)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_gdb_serve: no connection (fd %d)", fd);
    if (options && (unsigned)options->arch > X86IRQ_GDB_ARCH_X86_64)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_gdb_serve: architecture %d unknown", (int)options->arch);
    struct x86_gdb *g = malloc(sizeof(*g));
    if (!g)
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "out of memory for the stub");
    int descriptor = fd;
    struct x86_gdb_io io = { fd_read, fd_write, &descriptor };
    x86_gdb_init(g, machine, &io, options);
    x86_gdb_run(g);
    x86_gdb_finish(g);
    if (end)
        *end = g->end;
    free(g);
    return X86IRQ_OK;
}
