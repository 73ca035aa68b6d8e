/* x86irq-run --gdb: a listening TCP socket for gdb, and the run around the library's stub
 * (x86irq_gdb_serve): gdb may connect before the first instruction (--gdb-wait) or while the
 * guest runs, detach and connect again; docs/debugging.md. */
#ifndef X86IRQ_TOOLS_GDB_SERVER_H
#define X86IRQ_TOOLS_GDB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <x86irq/x86irq.h>

/* Parse --gdb's value: tcp::PORT, tcp:HOST:PORT, :PORT or PORT (HOST defaults to 127.0.0.1;
 * PORT 0 lets the system choose). false with a message in error. */
bool gdb_server_parse(const char *spec, char *host, size_t host_size, unsigned *port,
                      char *error, size_t error_size);

/* Run the machine (at most max_cycles, UINT64_MAX no limit) with gdb served on host:port;
 * wait: no instruction before gdb connects; arch: an x86irq_gdb_arch. Prints where it listens on stderr. *killed: gdb
 * killed the guest. Returns the last x86irq_run's status; X86IRQ_ERR_IO when the socket could
 * not be made (the message in error). */
x86irq_status gdb_server_run(x86irq_machine *machine, const char *host, unsigned port,
                             bool wait, int arch, uint64_t max_cycles, x86irq_stop_reason *reason,
                             bool *killed, char *error, size_t error_size);

#endif
