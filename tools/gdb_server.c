/* x86irq-run --gdb: see gdb_server.h. */
#include "gdb_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <x86irq/gdb.h>

bool gdb_server_parse(const char *spec, char *host, size_t host_size, unsigned *port,
                      char *error, size_t error_size)
{
    const char *s = spec ? spec : "";
    if (strncmp(s, "tcp:", 4) == 0)
        s += 4;
    const char *colon = strrchr(s, ':');
    const char *port_text = colon ? colon + 1 : s;
    size_t host_len = colon ? (size_t)(colon - s) : 0;
    if (host_len >= host_size) {
        snprintf(error, error_size, "--gdb: host name too long");
        return false;
    }
    snprintf(host, host_size, "%.*s", (int)host_len, s);
    if (!host[0])
        snprintf(host, host_size, "127.0.0.1"); /* local only unless told */
    char *end;
    unsigned long p = strtoul(port_text, &end, 10);
    if (!port_text[0] || *end || p > 65535) {
        snprintf(error, error_size,
                 "--gdb needs tcp::PORT or tcp:HOST:PORT (a port 0-65535), not '%s'",
                 spec ? spec : "");
        return false;
    }
    struct in_addr address;
    if (inet_pton(AF_INET, host, &address) != 1) {
        snprintf(error, error_size, "--gdb: '%s' is not an IPv4 address", host);
        return false;
    }
    *port = (unsigned)p;
    return true;
}

static int listen_on(const char *host, unsigned port, unsigned *bound, char *error,
                     size_t error_size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(error, error_size, "--gdb: socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    socklen_t len = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        snprintf(error, error_size, "--gdb: %s:%u: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* A connection waiting (or, with wait, the next one); -1 if none */
static int take_connection(int listener, bool wait)
{
    struct pollfd p = { .fd = listener, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, wait ? -1 : 0);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return -1;
    int fd = accept(listener, NULL, NULL);
    if (fd >= 0) {
        int one = 1; /* gdb's packets are small and answered at once */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

static bool final_stop(x86irq_stop_reason r)
{
    return r == X86IRQ_STOP_DEBUG_EXIT || r == X86IRQ_STOP_SHUTDOWN ||
           r == X86IRQ_STOP_POWEROFF || r == X86IRQ_STOP_RESET;
}

x86irq_status gdb_server_run(x86irq_machine *m, const char *host, unsigned port, bool wait,
                             int arch, uint64_t max_cycles, x86irq_stop_reason *reason, bool *killed,
                             char *error, size_t error_size)
{
    *killed = false;
    unsigned bound = 0;
    int listener = listen_on(host, port, &bound, error, error_size);
    if (listener < 0)
        return X86IRQ_ERR_IO;
    fprintf(stderr, "x86irq-run: gdb can connect to %s:%u (target remote %s:%u)%s\n", host,
            bound, host, bound, wait ? "; waiting for it before the first instruction" : "");
    uint64_t start = x86irq_cycles(m);
    uint64_t end = start + max_cycles < start ? UINT64_MAX : start + max_cycles;
    x86irq_stop_reason stop = X86IRQ_STOP_NONE;
    x86irq_status status = X86IRQ_OK;
    bool first = true;
    for (;;) {
        int fd = take_connection(listener, wait && first);
        first = false;
        if (fd >= 0) {
            x86irq_gdb_options options;
            x86irq_gdb_options_init(&options);
            options.arch = (x86irq_gdb_arch)arch;
            x86irq_gdb_end how = X86IRQ_GDB_DISCONNECTED;
            status = x86irq_gdb_serve(m, fd, &options, &how);
            close(fd);
            if (status != X86IRQ_OK)
                break;
            stop = x86irq_stop_reason_of(m);
            if (how == X86IRQ_GDB_KILLED) {
                *killed = true;
                break;
            }
            if (final_stop(stop))
                break; /* gdb saw the end; detached or gone, the run is over */
            continue;  /* the guest runs on; gdb may come back */
        }
        uint64_t now = x86irq_cycles(m);
        if (now >= end) {
            stop = X86IRQ_STOP_BUDGET;
            break;
        }
        /* slices of a million cycles, the listening socket looked at between them */
        uint64_t slice = end - now < 1000000 ? end - now : 1000000;
        status = x86irq_run(m, slice, &stop);
        if (status != X86IRQ_OK || (stop != X86IRQ_STOP_BUDGET && stop != X86IRQ_STOP_NONE))
            break;
    }
    close(listener);
    *reason = stop;
    return status;
}
