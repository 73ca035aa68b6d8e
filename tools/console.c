/* x86irq-run's serial input (console.h). The interactive console is host-timed: where the
 * guest receives a keystroke depends on when it is typed, so such runs are not reproducible
 * (--serial-input is). */
#include "console.h"
#include "files.h"
#include "record.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define ESCAPE_KEY 0x01                 /* Ctrl-A, as QEMU's -serial mon:stdio */
#define SLICE_PER_SECOND 1000u          /* run 1 ms of guest time between looks at stdin */
#define MAX_SLEEP_NS 50000000ull        /* pacing sleeps at most 50 ms at a time */

bool console_queue_file(x86irq_machine *machine, const char *path)
{
    FILE *f = open_input(path, "rb");
    if (!f) {
        fprintf(stderr, "x86irq-run: --serial-input: %s: %s\n", path, strerror(errno));
        return false;
    }
    uint8_t buffer[65536];
    size_t n;
    bool warned = false;
    while ((n = fread(buffer, 1, sizeof(buffer), f)) > 0) {
        x86irq_status s = x86irq_serial_input(machine, buffer, n);
        if (s != X86IRQ_OK && !warned) {
            fprintf(stderr, "x86irq-run: --serial-input: %s: %s\n", path,
                    x86irq_last_error(machine));
            warned = true;
        }
    }
    bool ok = !ferror(f);
    if (!ok)
        fprintf(stderr, "x86irq-run: --serial-input: %s: %s\n", path, strerror(errno));
    fclose(f);
    return ok;
}

/* ------------------------------------------------------------------ the terminal */

/* The terminal's settings before raw mode, restored at exit, on the fatal signals and when the
 * run ends (signal handlers need them in static storage). */
static struct termios saved_termios;
static volatile sig_atomic_t raw_mode;

static void restore_terminal(void)
{
    if (raw_mode) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        raw_mode = 0;
    }
}

static void on_fatal_signal(int signal_number)
{
    restore_terminal(); /* tcsetattr is async-signal-safe */
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

/* Raw input: bytes as typed (no line editing, echo, signals from Ctrl-C/Ctrl-Z, flow control or
 * CR translation); output processing stays on, as QEMU leaves it, so a guest's "\n" still
 * starts a new line. */
static bool enter_raw_mode(void)
{
    if (tcgetattr(STDIN_FILENO, &saved_termios) != 0)
        return false;
    static bool registered;
    if (!registered) {
        atexit(restore_terminal);
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = on_fatal_signal;
        sigemptyset(&action.sa_mask);
        static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
        for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
            sigaction(fatal[i], &action, NULL);
        registered = true;
    }
    struct termios raw = saved_termios;
    raw.c_iflag &= (tcflag_t)~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw.c_lflag &= (tcflag_t)~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag = (raw.c_cflag & (tcflag_t)~(CSIZE | PARENB)) | CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0)
        return false;
    raw_mode = 1;
    return true;
}

static void print_help(void)
{
    static const char help[] =
        "\r\nx86irq-run console escapes (Ctrl-A, then):\r\n"
        "  x       quit (exit status 121)\r\n"
        "  h       this help\r\n"
        "  Ctrl-A  send Ctrl-A to the guest\r\n";
    fputs(help, stderr);
    fflush(stderr);
}

/* ------------------------------------------------------------------ the run */

struct console {
    x86irq_machine *machine;
    struct console_record *record; /* --record / --replay, or NULL */
    bool input_open;     /* stdin not at end of file */
    bool escapes;        /* stdin is a terminal: Ctrl-A escapes apply */
    bool escape_pending; /* the last byte was Ctrl-A */
    bool quit;
    bool warned;
};

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void record(struct console *c, uint8_t kind, const void *bytes, uint32_t n)
{
    struct console_record *r = c->record;
    if (r && r->out && !record_write(r->out, kind, x86irq_cycles(c->machine), bytes, n) &&
        !r->write_failed) {
        fprintf(stderr, "\r\nx86irq-run: --record: the file cannot be written\r\n");
        r->write_failed = true;
    }
}

static void forward(struct console *c, const uint8_t *bytes, size_t n)
{
    if (!n)
        return;
    record(c, RECORD_SERIAL, bytes, (uint32_t)n);
    if (x86irq_serial_input(c->machine, bytes, n) != X86IRQ_OK && !c->warned) {
        fprintf(stderr, "\r\nx86irq-run: console input: %s\r\n", x86irq_last_error(c->machine));
        c->warned = true;
    }
}

/* Wait up to timeout_ms (-1: until input) for stdin and forward what it has. */
static void poll_input(struct console *c, int timeout_ms)
{
    struct pollfd fd = { .fd = STDIN_FILENO, .events = POLLIN };
    int ready = poll(&fd, c->input_open ? 1 : 0, timeout_ms);
    if (ready <= 0 || !(fd.revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    uint8_t in[4096], out[4096];
    ssize_t got = read(STDIN_FILENO, in, sizeof(in));
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (got <= 0) {
        c->input_open = false;
        return;
    }
    size_t n = 0;
    for (ssize_t i = 0; i < got; i++) {
        uint8_t byte = in[i];
        if (c->escape_pending) {
            c->escape_pending = false;
            if (byte == 'x' || byte == 'X') {
                c->quit = true;
                break;
            }
            if (byte == 'h' || byte == 'H' || byte == '?')
                print_help();
            else if (byte == ESCAPE_KEY)
                out[n++] = byte;
            /* any other key after the escape is swallowed */
        } else if (c->escapes && byte == ESCAPE_KEY) {
            c->escape_pending = true;
        } else {
            out[n++] = byte;
        }
    }
    forward(c, out, n);
}

uint64_t console_slice(uint64_t cpu_hz)
{
    if (cpu_hz == 0)
        cpu_hz = 1000000000ull;
    return cpu_hz / SLICE_PER_SECOND ? cpu_hz / SLICE_PER_SECOND : 1;
}

/* --replay: the records due at the machine's cycle now, applied as the recording run applied
 * them (between the same slices); false when the run has passed one (it diverged) */
static bool replay_due(struct console *c)
{
    struct console_record *r = c->record;
    uint64_t now = x86irq_cycles(c->machine);
    while (r->next < r->in->count && r->in->entries[r->next].kind != RECORD_END) {
        const struct record_entry *e = &r->in->entries[r->next];
        if (e->cycle > now)
            return true;
        if (e->cycle < now) {
            snprintf(r->error, sizeof(r->error),
                     "the replay diverged: input recorded at cycle %llu, the machine is at %llu",
                     (unsigned long long)e->cycle, (unsigned long long)now);
            return false;
        }
        if (e->kind == RECORD_SERIAL)
            forward(c, e->data, e->length);
        else
            c->quit = true;
        r->next++;
    }
    return true;
}

static bool replay_pending(const struct console *c)
{
    const struct console_record *r = c->record;
    return r->next < r->in->count && r->in->entries[r->next].kind != RECORD_END;
}

x86irq_status console_run(x86irq_machine *machine, uint64_t max_cycles, uint64_t cpu_hz,
                          x86irq_stop_reason *reason, bool *quit, struct console_record *rec)
{
    struct console c = { .machine = machine, .input_open = true, .record = rec };
    bool replaying = rec && rec->in;
    *quit = false;
    if (!replaying && isatty(STDIN_FILENO))
        c.escapes = enter_raw_mode();
    if (c.escapes)
        fputs("x86irq-run: console on COM1; Ctrl-A x quits, Ctrl-A h helps\r\n", stderr);
    if (cpu_hz == 0)
        cpu_hz = 1000000000ull;
    uint64_t slice = replaying ? rec->in->slice : console_slice(cpu_hz);
    uint64_t start = x86irq_cycles(machine);
    uint64_t end = start + max_cycles < start ? UINT64_MAX : start + max_cycles;
    /* guest time since guest_origin runs no faster than host time since host_origin */
    uint64_t guest_origin = start, host_origin = host_ns();
    x86irq_status s = X86IRQ_OK;
    x86irq_stop_reason stop = X86IRQ_STOP_NONE;
    for (;;) {
        if (replaying) {
            if (!replay_due(&c)) {
                s = X86IRQ_ERR_STATE;
                break;
            }
            if (c.quit) {
                stop = X86IRQ_STOP_REQUESTED;
                *quit = true;
                break;
            }
        }
        uint64_t now = x86irq_cycles(machine);
        if (now >= end) {
            stop = X86IRQ_STOP_BUDGET;
            break;
        }
        s = x86irq_run(machine, end - now < slice ? end - now : slice, &stop);
        if (s != X86IRQ_OK)
            break;
        if (replaying) {
            /* as the recording ran: a halted machine waits for the input due now */
            if (stop == X86IRQ_STOP_BUDGET || (stop == X86IRQ_STOP_HALTED && replay_pending(&c)))
                continue;
            break;
        }
        if (stop == X86IRQ_STOP_HALTED) {
            /* nothing scheduled: with IF set, only an interrupt from input can wake it */
            uint32_t eflags = 0;
            x86irq_get_register(machine, X86IRQ_REG_EFLAGS, &eflags);
            if (!(eflags & 0x200) || !c.input_open)
                break;
            poll_input(&c, -1);
        } else if (stop != X86IRQ_STOP_BUDGET) {
            break;
        } else {
            uint64_t guest = (uint64_t)((unsigned __int128)(x86irq_cycles(machine) - guest_origin) *
                                        1000000000u / cpu_hz);
            uint64_t host = host_ns() - host_origin;
            if (host > guest) { /* slower than real time: no debt to pay back later */
                guest_origin = x86irq_cycles(machine);
                host_origin = host_ns();
                poll_input(&c, 0);
            } else {
                uint64_t ahead = guest - host; /* idle or fast: wait for the host clock */
                poll_input(&c, (int)((ahead < MAX_SLEEP_NS ? ahead : MAX_SLEEP_NS) / 1000000u));
            }
        }
        if (c.quit) {
            record(&c, RECORD_QUIT, NULL, 0);
            stop = X86IRQ_STOP_REQUESTED;
            *quit = true;
            break;
        }
    }
    restore_terminal();
    if (*quit)
        fputs("\r\nx86irq-run: quit from the console\n", stderr);
    if (reason)
        *reason = stop;
    return s;
}
