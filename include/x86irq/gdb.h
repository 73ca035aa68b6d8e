/* libx86irq: a GDB remote stub (the GDB Remote Serial Protocol) for a machine.
 *
 * The stub serves one debugger connection on a file descriptor the embedder has connected (a
 * TCP socket, a pipe pair's read end is not enough: the descriptor is read and written). While
 * gdb says "continue" the machine runs in slices of poll_cycles cycles and the descriptor is
 * looked at between them for gdb's interrupt (Ctrl-C). Threads are CPUs (thread N is CPU N-1),
 * addresses are linear (through the guest's page tables, as the CPU gdb selected sees them) or
 * physical after `monitor memory physical`. docs/debugging.md has the packets, the registers
 * and the monitor commands.
 */
#ifndef X86IRQ_GDB_H
#define X86IRQ_GDB_H

#include "x86irq/x86irq.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The register set gdb is told of (its target description). */
typedef enum x86irq_gdb_arch {
    X86IRQ_GDB_ARCH_AUTO = 0, /**< x86-64 for a 64-bit guest (an ELF64, a bzImage entered at
                                   its 64-bit entry), i386 otherwise */
    X86IRQ_GDB_ARCH_I386,     /**< i386: 32-bit registers; x87, and SSE when offered */
    X86IRQ_GDB_ARCH_X86_64,   /**< i386:x86-64: 64-bit registers in every mode (a 32-bit
                                   mode's registers zero-extended, as QEMU shows them) */
} x86irq_gdb_arch;

/** How the stub serves. */
typedef struct x86irq_gdb_options {
    x86irq_gdb_arch arch;
    /** cycles the machine runs between two looks at the connection (0: 1,000,000) */
    uint64_t poll_cycles;
} x86irq_gdb_options;

/** Fill *options with the defaults (AUTO, 1,000,000 cycles). */
X86IRQ_API void x86irq_gdb_options_init(x86irq_gdb_options *options);

/** How a gdb session ended. */
typedef enum x86irq_gdb_end {
    X86IRQ_GDB_DETACHED = 0,  /**< gdb detached (D): the machine is as gdb left it, without the
                                   stub's breakpoints and watchpoints; it may run on */
    X86IRQ_GDB_KILLED,        /**< gdb killed the inferior (k, vKill) */
    X86IRQ_GDB_DISCONNECTED,  /**< the connection closed (or failed) */
} x86irq_gdb_end;

/** Serve the GDB remote protocol on fd (connected, blocking or not) until gdb detaches or
 *  kills, or the connection closes; *end (may be NULL) says which. The machine is stopped when
 *  the session starts (gdb's first '?' is answered with a SIGTRAP stop on CPU 0); a final stop
 *  (debug exit, poweroff, reset, triple fault) is reported to gdb as the inferior's exit
 *  (W, X) and the session goes on until gdb closes it. Packets longer than the PacketSize the
 *  stub announces (16 KiB) are refused. X86IRQ_ERR_STATE from a callback of the machine. The
 *  fd is not closed. */
X86IRQ_API x86irq_status x86irq_gdb_serve(x86irq_machine *machine, int fd,
                                          const x86irq_gdb_options *options,
                                          x86irq_gdb_end *end);

#ifdef __cplusplus
}
#endif

#endif
