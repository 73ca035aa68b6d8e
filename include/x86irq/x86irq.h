/* libx86irq: an x86 interrupt-architecture emulator.
 *
 * Public API. Everything is reached through an opaque machine handle; there is no global
 * mutable state, so any number of machines may live in one process (one thread per machine).
 * Every call that can fail returns an x86irq_status; x86irq_last_error() then gives a readable
 * message. The library never prints, never exits and never aborts.
 *
 * Callbacks (device read/write, events, the instruction and trace hooks, serial output, INTA,
 * NIC transmit) may call anything on the machine but the calls that would pull the run out
 * from under them: x86irq_run, x86irq_load_*, x86irq_machine_destroy, x86irq_set_cost,
 * x86irq_set_phase_symbols, x86irq_add_port_device and x86irq_add_mmio_device are refused there
 * with X86IRQ_ERR_STATE (destroy, being void, does nothing). docs/api.md, "What a callback may
 * call", has the whole table.
 */
#ifndef X86IRQ_X86IRQ_H
#define X86IRQ_X86IRQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(X86IRQ_BUILDING) && defined(__GNUC__)
#define X86IRQ_API __attribute__((visibility("default")))
#else
#define X86IRQ_API
#endif

#define X86IRQ_VERSION_MAJOR 0
#define X86IRQ_VERSION_MINOR 1
#define X86IRQ_VERSION_PATCH 0

/** A version as one number that compares as versions do: major in bits 23-16, minor in 15-8,
 *  patch in 7-0 (so X86IRQ_VERSION >= X86IRQ_MAKE_VERSION(0, 1, 0) asks "0.1.0 or later"). */
#define X86IRQ_MAKE_VERSION(major, minor, patch) \
    ((unsigned)(major) << 16 | (unsigned)(minor) << 8 | (unsigned)(patch))
/** The version of these headers; x86irq_version_number() is the loaded library's. */
#define X86IRQ_VERSION \
    X86IRQ_MAKE_VERSION(X86IRQ_VERSION_MAJOR, X86IRQ_VERSION_MINOR, X86IRQ_VERSION_PATCH)

/** The library's version string, "MAJOR.MINOR.PATCH". */
X86IRQ_API const char *x86irq_version(void);
/** The library's version as X86IRQ_MAKE_VERSION makes it: a program built against newer
 *  headers can check at run time that the library it loaded is at least that new. */
X86IRQ_API unsigned x86irq_version_number(void);

/** Status of every fallible call. X86IRQ_OK is zero. */
typedef enum x86irq_status {
    X86IRQ_OK = 0,
    X86IRQ_ERR_INVALID_ARGUMENT, /**< a NULL handle, an out-of-range value, a bad option */
    X86IRQ_ERR_NO_MEMORY,        /**< host allocation failed */
    X86IRQ_ERR_IO,               /**< a file could not be opened or read */
    X86IRQ_ERR_BAD_IMAGE,        /**< not a loadable guest: foreign, truncated or malformed ELF */
    X86IRQ_ERR_RANGE,            /**< an address range outside guest RAM or overlapping a device;
                                      an address too wide for the call (a 64-bit one asked for
                                      as 32 bits) */
    X86IRQ_ERR_CONFLICT,         /**< a device range overlaps one already registered */
    X86IRQ_ERR_STATE,            /**< the call is not allowed in the machine's present state */
    X86IRQ_ERR_BAD_SNAPSHOT,     /**< not a snapshot of this library build, damaged, truncated,
                                      or of a machine configured otherwise */
    X86IRQ_ERR_BAD_RECORDING,    /**< not a recording of host input, damaged, or of a machine
                                      configured otherwise */
} x86irq_status;

/** A short, static description of a status code ("invalid argument", ...). */
X86IRQ_API const char *x86irq_status_string(x86irq_status status);

/** Machine configuration. Initialise with x86irq_config_init(), then change what you need.
 *  The size member is what makes a program built against another version of the header work
 *  with this library: members past the caller's size take their defaults, and a newer
 *  caller's members this library does not know must be zero (else the creation is refused:
 *  the program asks for something this library cannot do). */
typedef struct x86irq_config {
    /** sizeof(x86irq_config) of the caller (x86irq_config_init sets it); smaller than the
     *  first versioned layout's (this one): X86IRQ_ERR_INVALID_ARGUMENT */
    size_t size;
    /** Guest RAM in bytes, from physical address 0. Default 128 MiB. Minimum 1 MiB, maximum
     *  3 GiB (RAM must end below the MMIO hole at 0xC0000000). */
    uint64_t ram_size;
    /** The modelled core clock in Hz, used to convert device time (PIT, serial, timestamps)
     *  to cycles. Default 1 000 000 000 (1 GHz: one cycle is one nanosecond). From
     *  X86IRQ_CPU_HZ_MIN to X86IRQ_CPU_HZ_MAX (1 MHz to 100 GHz): a slower clock makes a few
     *  device ticks (the PIT's 1.193182 MHz) share one cycle and a guest's timed loops crawl;
     *  a faster one could overflow the 64-bit conversions of device time to cycles. */
    uint64_t cpu_hz;
    /** Non-zero: the UART and the debug-exit device are not created (the embedder supplies
     *  its own devices at those ports). Default 0. */
    int no_default_devices;
    /** Non-zero: the NIC (e1000 at PCI 00:03.0) offers an MSI capability, which the real
     *  82540EM does not have (docs/devices.md). Default 0. */
    int nic_msi;
    /** Non-zero: a host on the NIC's wire at 10.0.2.2 (MAC 52:55:0a:00:02:02, as QEMU's
     *  user-mode network gateway) answers ARP requests and ICMP echo requests, each reply
     *  20 us after the request (docs/devices.md). Default 0. */
    int nic_peer;
    /** The real-time clock's time at cycle 0, in seconds since 1970-01-01 00:00:00 UTC (the
     *  guest's clock is this plus its cycles: never the host's time). 0: 2026-01-01 00:00:00
     *  UTC. Default 0. */
    int64_t rtc_epoch;
    /** Processors (cores): 1 to X86IRQ_MAX_CPUS, APIC IDs 0..cpus-1; 0 means 1. CPU 0 (the
     *  bootstrap processor) starts at the loaded entry point; the others (application
     *  processors) wait for INIT and a start-up IPI, as after a PC's reset (docs/api.md). The
     *  firmware tables list them all. Default 1. */
    unsigned cpus;
    /** With several CPUs: the cycles each runs before the next one runs, in CPU order
     *  (docs/cycle-model.md: an interrupt message to another CPU is late by at most this).
     *  0: the default, 1000 cycles. Ignored with one CPU. */
    uint64_t smp_quantum;
    /** Which boot protocol entry x86irq_load_linux takes (boot.rst): 32, the 32-bit entry
     *  (code32_start: protected mode, paging off, where qemu -kernel's real-mode setup ends
     *  too); 64, the 64-bit entry (code32_start + 0x200: 64-bit mode on the loader's identity
     *  map, as Firecracker and Cloud Hypervisor boot), for an x86-64 kernel (XLF_KERNEL_64)
     *  only; 0, the default: 64 for an x86-64 kernel, 32 for another. */
    unsigned linux_entry;
    /** The instruction-set extensions beyond the x87 that every processor offers: a mask of
     *  X86IRQ_ISA_* bits, reported by CPUID exactly (an instruction of an extension not
     *  offered is #UD). Each SSE level needs the ones before it (SSE2 needs SSE...), XSAVE
     *  needs SSE; another mask is X86IRQ_ERR_INVALID_ARGUMENT. Default X86IRQ_ISA_DEFAULT
     *  (docs/isa.md says what each extension implements). */
    uint32_t isa;
} x86irq_config;

/** Instruction-set extensions (x86irq_config.isa) */
#define X86IRQ_ISA_SSE (1u << 0)
#define X86IRQ_ISA_SSE2 (1u << 1)
#define X86IRQ_ISA_SSE3 (1u << 2)
#define X86IRQ_ISA_SSSE3 (1u << 3)
#define X86IRQ_ISA_SSE41 (1u << 4)
#define X86IRQ_ISA_SSE42 (1u << 5) /**< with POPCNT */
#define X86IRQ_ISA_XSAVE (1u << 6) /**< XSAVE/XRSTOR, XGETBV/XSETBV, CPUID leaf 0xD */
/** Every extension the library implements */
#define X86IRQ_ISA_ALL 0x7Fu
/** What x86irq_config_init() chooses: the extensions complete enough to offer by default */
#define X86IRQ_ISA_DEFAULT X86IRQ_ISA_ALL

/** The most processors a machine can have. */
#define X86IRQ_MAX_CPUS 64

/** The bounds of x86irq_config.cpu_hz */
#define X86IRQ_CPU_HZ_MIN 1000000ull
#define X86IRQ_CPU_HZ_MAX 100000000000ull

/** Fill *config with the documented defaults. */
X86IRQ_API void x86irq_config_init(x86irq_config *config);

/** An emulated machine: its processors, memory, buses and devices. Opaque. */
typedef struct x86irq_machine x86irq_machine;

/** Create a machine. *out is set only on success. config may be NULL for the defaults. */
X86IRQ_API x86irq_status x86irq_machine_create(const x86irq_config *config, x86irq_machine **out);

/** Destroy a machine and everything it owns. NULL is a no-op. From a callback of the machine
 *  it does nothing (the machine is in use on the stack): x86irq_last_error() then says so. */
X86IRQ_API void x86irq_machine_destroy(x86irq_machine *machine);

/** The message of the machine's last error ("" if none). Every failing call on a machine sets
 *  its own (a NULL machine: "no machine"). Valid until the next call on it. */
X86IRQ_API const char *x86irq_last_error(const x86irq_machine *machine);

/* ------------------------------------------------------------------ loading */

/** Load an ELF guest from a file. A Multiboot v1 kernel (header in the first 8 KiB) is
 *  entered as `qemu-system-i386 -kernel` enters it (an ELF64 one as GRUB enters it: at its
 *  entry point's physical address, which must be below 4 GiB); another ELF32 executable is
 *  entered at its entry point in the same flat 32-bit protected mode, without the Multiboot
 *  registers; another ELF64 executable in 64-bit mode on an identity map of the first 4 GiB
 *  (docs/guest-contract.md).
 *  cmdline (may be NULL) becomes the Multiboot command line. On error nothing is loaded: guest
 *  memory and registers are as before the call. Every load (x86irq_load_elf, _elf_memory,
 *  _linux, _linux_memory, x86irq_load_symbols) is refused from a callback of the machine:
 *  X86IRQ_ERR_STATE. */
X86IRQ_API x86irq_status x86irq_load_elf(x86irq_machine *machine, const char *path,
                                         const char *cmdline);

/** As x86irq_load_elf(), from an image in host memory; name is used in messages. */
X86IRQ_API x86irq_status x86irq_load_elf_memory(x86irq_machine *machine, const void *image,
                                                size_t size, const char *name,
                                                const char *cmdline);

/** Load a Linux kernel (a bzImage, boot protocol 2.02 or later) with an optional initrd
 *  (initrd_path NULL: none) and command line (NULL: empty), as `qemu-system-i386 -kernel
 *  bzImage -initrd initrd -append cmdline` does: the protected-mode kernel at its code32_start
 *  (1 MiB), the zero page (boot_params, with the machine's e820 memory map) at 0x10000, the
 *  command line at 0x20000, the initrd page-aligned as high as the kernel allows; entered
 *  through the 32-bit or the 64-bit boot protocol as config.linux_entry says
 *  (docs/guest-contract.md). Refused, with nothing loaded: not a bzImage
 *  (X86IRQ_ERR_BAD_IMAGE), a protocol before 2.02 or a truncated file (BAD_IMAGE), the 64-bit
 *  entry asked of a kernel without one (BAD_IMAGE), a kernel or initrd that does not fit in
 *  RAM (X86IRQ_ERR_RANGE), a command line longer than the kernel accepts
 *  (X86IRQ_ERR_INVALID_ARGUMENT). */
X86IRQ_API x86irq_status x86irq_load_linux(x86irq_machine *machine, const char *kernel_path,
                                           const char *initrd_path, const char *cmdline);

/** As x86irq_load_linux(), from images in host memory; name is used in messages. */
X86IRQ_API x86irq_status x86irq_load_linux_memory(x86irq_machine *machine, const void *kernel,
                                                  size_t kernel_size, const void *initrd,
                                                  size_t initrd_size, const char *cmdline,
                                                  const char *name);

/** Replace the machine's symbols (those of the loaded ELF, if any) with a list in nm's format:
 *  a System.map or /proc/kallsyms ("ADDRESS TYPE NAME [MODULE]" lines, 32- or 64-bit
 *  addresses: an amd64 System.map's ffffffff81000000 too), for a kernel whose image has no
 *  symbol table (a bzImage). Used by traces, timelines and the nesting report.
 *  A malformed file, or a kallsyms whose addresses are all 0 (read without the right to see
 *  them): X86IRQ_ERR_BAD_IMAGE, and the symbols stay as they were. */
X86IRQ_API x86irq_status x86irq_load_symbols(x86irq_machine *machine, const char *path);

/** Describe the guest address addr (a linear address: EIP, or RIP in IA-32e mode) as
 *  "symbol+0xoff" (or "symbol") from the machine's symbols (the ELF's or
 *  x86irq_load_symbols'). A symbol without a size covers up to the next one, but not across
 *  the 4 GiB line. Returns 0 and writes "" when no symbol covers addr. Always NUL-terminates
 *  when size > 0; returns the number of characters written. */
X86IRQ_API size_t x86irq_symbolize(const x86irq_machine *machine, uint64_t addr, char *buffer,
                                   size_t size);

/** The address of the named symbol in *addr; X86IRQ_ERR_INVALID_ARGUMENT if unknown,
 *  X86IRQ_ERR_RANGE (*addr unchanged) if it is above 4 GiB (a 64-bit kernel's: use
 *  x86irq_symbol_address64). */
X86IRQ_API x86irq_status x86irq_symbol_address(const x86irq_machine *machine, const char *name,
                                               uint32_t *addr);
/** The address of the named symbol in *addr, 32- or 64-bit; X86IRQ_ERR_INVALID_ARGUMENT if
 *  unknown. */
X86IRQ_API x86irq_status x86irq_symbol_address64(const x86irq_machine *machine,
                                                 const char *name, uint64_t *addr);

/* ------------------------------------------------------------------ running */

/** Why x86irq_run() returned. */
typedef enum x86irq_stop_reason {
    X86IRQ_STOP_NONE = 0,     /**< not run yet */
    X86IRQ_STOP_BUDGET,       /**< the cycle budget given to x86irq_run() was used */
    X86IRQ_STOP_DEBUG_EXIT,   /**< the guest wrote its status to the debug-exit port (0xF4) */
    X86IRQ_STOP_SHUTDOWN,     /**< triple fault: a CPU shut down (x86irq_stop_cpu says
                                   which) */
    X86IRQ_STOP_HALTED,       /**< every CPU in HLT (or waiting for SIPI) with no event
                                   scheduled and no NMI/INTR deliverable: nothing in the
                                   machine can wake one (x86irq_raise_nmi or x86irq_set_intr
                                   can, then run again) */
    X86IRQ_STOP_REQUESTED,    /**< x86irq_request_stop() was called (e.g. from a callback) */
    X86IRQ_STOP_BREAKPOINT,   /**< the next instruction is at a breakpoint (not yet executed) */
    X86IRQ_STOP_POWEROFF,     /**< the guest entered ACPI S5 (SLP_EN with \_S5's SLP_TYP in
                                   PM1a_CNT): soft off */
    X86IRQ_STOP_RESET,        /**< the guest reset the system (8042 command 0xFE or its output
                                   port, port 0x92 bit 0, 0xCF9 RST_CPU, the FADT's reset
                                   register); the machine does not restart by itself */
    X86IRQ_STOP_STEP,         /**< x86irq_step(): the CPU reached its next instruction
                                   boundary (not yet executed) */
    X86IRQ_STOP_WATCHPOINT,   /**< a data access hit a watchpoint (x86irq_add_watchpoint); the
                                   instruction that made it has completed (or faulted and its
                                   event was delivered) */
} x86irq_stop_reason;

/** A short name of a stop reason ("debug-exit", ...). */
X86IRQ_API const char *x86irq_stop_reason_string(x86irq_stop_reason reason);

/** Run for at most max_cycles cycles (UINT64_MAX: no limit). The reason is stored in *reason
 *  (may be NULL). Where runs are cut changes nothing: with several CPUs the budget (or a
 *  breakpoint, a step, a request) stops the CPU that reaches it inside its round of the
 *  machine's schedule, and the next run goes on with that round (docs/cycle-model.md). After DEBUG_EXIT, SHUTDOWN, POWEROFF or RESET the machine stays stopped:
 *  further calls return X86IRQ_ERR_STATE. X86IRQ_ERR_STATE too, with nothing done: from a
 *  callback of the machine, and with nothing to run (no image loaded, and the embedder wrote
 *  neither memory nor registers). */
X86IRQ_API x86irq_status x86irq_run(x86irq_machine *machine, uint64_t max_cycles,
                                    x86irq_stop_reason *reason);

/** Ask a running machine to return from x86irq_run() at the next instruction boundary. Safe
 *  to call from any callback the machine makes; between runs it does nothing. */
X86IRQ_API void x86irq_request_stop(x86irq_machine *machine);

/** Stop before executing the instruction at linear address `address` (any mode; the full
 *  64-bit address in 64-bit mode, where 0xffffffff81000000 and 0x81000000 differ). Running
 *  again executes it and stops there the next time it is reached. At most 64 breakpoints;
 *  while any is set the machine runs the per-instruction (slower) loop. */
X86IRQ_API x86irq_status x86irq_add_breakpoint(x86irq_machine *machine, uint64_t address);
/** Remove a breakpoint; X86IRQ_ERR_INVALID_ARGUMENT if none is set there. */
X86IRQ_API x86irq_status x86irq_remove_breakpoint(x86irq_machine *machine, uint64_t address);

/** Run the machine until CPU `cpu` reaches its next instruction boundary: it has executed
 *  one instruction, or an event (an interrupt, an exception) has been delivered to it, and it
 *  stops before the instruction it would execute next: X86IRQ_STOP_STEP in *reason (may be
 *  NULL). The other CPUs run meanwhile as they would (in their rounds); a CPU in HLT steps when
 *  something wakes it. Any other stop (a breakpoint, a watchpoint, the budget max_cycles, a
 *  final stop) ends the step early with its own reason. After a stop before an instruction
 *  (STEP, BREAKPOINT) the next run executes that instruction first, without stopping there
 *  again. X86IRQ_ERR_INVALID_ARGUMENT for a CPU that does not exist; otherwise as x86irq_run(). */
X86IRQ_API x86irq_status x86irq_step(x86irq_machine *machine, unsigned cpu, uint64_t max_cycles,
                                     x86irq_stop_reason *reason);

/** What a watchpoint watches (x86irq_add_watchpoint). */
typedef enum x86irq_watch_kind {
    X86IRQ_WATCH_WRITE = 1,   /**< data writes */
    X86IRQ_WATCH_READ = 2,    /**< data reads */
    X86IRQ_WATCH_ACCESS = 3,  /**< both */
} x86irq_watch_kind;

/** Stop (X86IRQ_STOP_WATCHPOINT) after the instruction whose data access of the kind given
 *  touches any of the length bytes at linear address `address`, on any CPU: exact to the byte
 *  (not aligned ranges as the debug registers'), invisible to the guest (DR6 and DR7 are its
 *  own). Accesses are the instruction's operands, string and stack accesses, as the debug
 *  registers see them; the processor's implicit accesses (descriptor tables, the IDT, the
 *  page tables, an event's stack frame) are not watched. A read-modify-write instruction's
 *  access is a write (as the debug registers see it). At most 64 watchpoints (X86IRQ_ERR_NO_MEMORY); length 0 or a range
 *  that wraps: X86IRQ_ERR_INVALID_ARGUMENT; the same range and kind again: X86IRQ_OK. While any
 *  is set, data accesses take a checked (slower) path. */
X86IRQ_API x86irq_status x86irq_add_watchpoint(x86irq_machine *machine, uint64_t address,
                                               uint64_t length, x86irq_watch_kind kind);
/** Remove a watchpoint of that range and kind; X86IRQ_ERR_INVALID_ARGUMENT if there is none. */
X86IRQ_API x86irq_status x86irq_remove_watchpoint(x86irq_machine *machine, uint64_t address,
                                                  uint64_t length, x86irq_watch_kind kind);
/** After X86IRQ_STOP_WATCHPOINT: the watchpoint that was hit (its address and kind) and the
 *  access's own address, size and direction (*write: 1 for a write). X86IRQ_ERR_STATE when the
 *  last stop was not a watchpoint's. Any pointer may be NULL. */
X86IRQ_API x86irq_status x86irq_watchpoint_hit(const x86irq_machine *machine,
                                               uint64_t *watch_address, x86irq_watch_kind *kind,
                                               uint64_t *access_address, unsigned *access_size,
                                               int *write);

/** The reason of the last stop. */
X86IRQ_API x86irq_stop_reason x86irq_stop_reason_of(const x86irq_machine *machine);

/** The CPU the last stop came from (a breakpoint it reached, its triple fault), or -1 when the
 *  stop is the machine's (the budget, a request, a device, every CPU halted). */
X86IRQ_API int x86irq_stop_cpu(const x86irq_machine *machine);

/** Where an event came from. */
typedef enum x86irq_event_origin {
    X86IRQ_ORIGIN_EXCEPTION = 0, /**< detected by the processor (fault, trap, abort) */
    X86IRQ_ORIGIN_HARDWARE,      /**< an interrupt from the INTR or NMI pin */
    X86IRQ_ORIGIN_SOFTWARE,      /**< int n, int3, into, int1 */
    X86IRQ_ORIGIN_DOUBLE_FAULT,  /**< a #DF the processor made of two faults (SDM Vol. 3 6.15) */
    X86IRQ_ORIGIN_NMI,           /**< the NMI pin (in trace events) */
} x86irq_event_origin;

/** One event of a delivery: its vector, where it was raised and what it pushes. */
typedef struct x86irq_event_record {
    size_t size;             /**< out: sizeof(x86irq_event_record) of the library (an array's
                                  stride is fixed by the soname: docs/api.md, "Versions") */
    uint64_t cycle;          /**< when it was raised */
    uint64_t eip;            /**< the EIP (RIP in 64-bit mode) it saves: the faulting or the
                                  next instruction */
    uint32_t error_code;     /**< valid when has_error_code */
    uint16_t cs;             /**< CS selector when it was raised */
    uint8_t vector;
    uint8_t has_error_code;
    uint8_t origin;          /**< x86irq_event_origin */
} x86irq_event_record;

/** After a SHUTDOWN stop: the chain of events that ended in the triple fault, oldest first
 *  (the first event, each fault raised while delivering it, the #DF made of them, the fault
 *  while delivering the #DF). Copies at most max records; returns how many the chain has
 *  (0 when the machine did not shut down). */
X86IRQ_API size_t x86irq_shutdown_events(const x86irq_machine *machine,
                                         x86irq_event_record *records, size_t max);

/** The value the guest wrote to the debug-exit port (valid after X86IRQ_STOP_DEBUG_EXIT). */
X86IRQ_API uint32_t x86irq_exit_value(const x86irq_machine *machine);

/** Cycles elapsed since the machine was created: the machine's clock (with several CPUs, the
 *  furthest any CPU has run; each CPU's own counter, which its RDTSC reads, is
 *  x86irq_cpu_cycles). */
X86IRQ_API uint64_t x86irq_cycles(const x86irq_machine *machine);

/** Instructions retired since the machine was created, by all its CPUs. */
X86IRQ_API uint64_t x86irq_instructions(const x86irq_machine *machine);

/* ------------------------------------------------------------------ processors */

/** The number of CPUs (x86irq_config.cpus). */
X86IRQ_API unsigned x86irq_cpu_count(const x86irq_machine *machine);

/** What a CPU is doing between runs. */
typedef enum x86irq_cpu_state {
    X86IRQ_CPU_RUNNING = 0,        /**< executing instructions */
    X86IRQ_CPU_HALTED,             /**< in HLT until an interrupt */
    X86IRQ_CPU_WAITING_FOR_SIPI,   /**< an application processor after INIT (SDM Vol. 3 8.4) */
    X86IRQ_CPU_SHUTDOWN,           /**< shut down by a triple fault */
} x86irq_cpu_state;

/** A CPU's state; an index out of range reads as X86IRQ_CPU_SHUTDOWN. */
X86IRQ_API x86irq_cpu_state x86irq_get_cpu_state(const x86irq_machine *machine, unsigned cpu);
/** A short name of a CPU state ("running", "halted", "wait-for-sipi", "shutdown"). */
X86IRQ_API const char *x86irq_cpu_state_string(x86irq_cpu_state state);

/** A CPU's own cycle counter (its TSC runs from it) and instructions retired; 0 for an index
 *  out of range. */
X86IRQ_API uint64_t x86irq_cpu_cycles(const x86irq_machine *machine, unsigned cpu);
X86IRQ_API uint64_t x86irq_cpu_instructions(const x86irq_machine *machine, unsigned cpu);

/* ------------------------------------------------------------------ registers and memory */

/** Registers readable and writable through x86irq_get_register()/x86irq_set_register(). */
typedef enum x86irq_register {
    X86IRQ_REG_EAX, X86IRQ_REG_ECX, X86IRQ_REG_EDX, X86IRQ_REG_EBX,
    X86IRQ_REG_ESP, X86IRQ_REG_EBP, X86IRQ_REG_ESI, X86IRQ_REG_EDI,
    X86IRQ_REG_EIP, X86IRQ_REG_EFLAGS,
    /* Segment selectors. Writing one in protected mode loads a flat descriptor cache
     * (base 0, limit 4 GiB) for the embedder's convenience; the guest's own loads are checked. */
    X86IRQ_REG_ES, X86IRQ_REG_CS, X86IRQ_REG_SS, X86IRQ_REG_DS, X86IRQ_REG_FS, X86IRQ_REG_GS,
    X86IRQ_REG_CR0, X86IRQ_REG_CR2, X86IRQ_REG_CR3, X86IRQ_REG_CR4,
    X86IRQ_REG_DR0, X86IRQ_REG_DR1, X86IRQ_REG_DR2, X86IRQ_REG_DR3,
    X86IRQ_REG_DR6, X86IRQ_REG_DR7,
    X86IRQ_REG_COUNT
} x86irq_register;

/** The name of a register ("eax", "cr0", ...). */
X86IRQ_API const char *x86irq_register_name(x86irq_register reg);

/** CPU 0's registers (the bootstrap processor). Allowed from callbacks. A write there takes
 *  effect at once, with one exception: EIP written while the CPU is inside an instruction or
 *  an event delivery (a device callback, INTA, the trace hook, serial output) is set at the
 *  next instruction boundary, when what is in progress has completed (an event it raised is
 *  delivered first), and reads back at once. From the instruction hook the new EIP applies
 *  at once: the instruction the hook was called for is not executed, and the hook is called
 *  for the one at the new CS:EIP. An instruction in progress writes its own results after the
 *  callback returns (an IN's destination, the stack pointer of a push). */
X86IRQ_API x86irq_status x86irq_get_register(const x86irq_machine *machine, x86irq_register reg,
                                             uint32_t *value);
X86IRQ_API x86irq_status x86irq_set_register(x86irq_machine *machine, x86irq_register reg,
                                             uint32_t value);
/** The registers of CPU `cpu` (0 to x86irq_cpu_count() - 1; else X86IRQ_ERR_INVALID_ARGUMENT). */
X86IRQ_API x86irq_status x86irq_get_cpu_register(const x86irq_machine *machine, unsigned cpu,
                                                 x86irq_register reg, uint32_t *value);
X86IRQ_API x86irq_status x86irq_set_cpu_register(x86irq_machine *machine, unsigned cpu,
                                                 x86irq_register reg, uint32_t value);

/** The 64-bit view of a processor's state (IA-32e mode, and what stands behind the 32-bit
 *  view in every mode): RAX-R15, RIP, RFLAGS, the control registers with CR8 (the local APIC's
 *  task priority class), IA32_EFER, the segment bases (FS, GS and KERNEL_GS 64-bit), the
 *  descriptor-table registers. Outside 64-bit mode the upper halves of the general registers
 *  and RIP are 0 (docs/isa.md). */
typedef enum x86irq_register64 {
    X86IRQ_REG64_RAX, X86IRQ_REG64_RCX, X86IRQ_REG64_RDX, X86IRQ_REG64_RBX,
    X86IRQ_REG64_RSP, X86IRQ_REG64_RBP, X86IRQ_REG64_RSI, X86IRQ_REG64_RDI,
    X86IRQ_REG64_R8, X86IRQ_REG64_R9, X86IRQ_REG64_R10, X86IRQ_REG64_R11,
    X86IRQ_REG64_R12, X86IRQ_REG64_R13, X86IRQ_REG64_R14, X86IRQ_REG64_R15,
    X86IRQ_REG64_RIP, X86IRQ_REG64_RFLAGS,
    X86IRQ_REG64_CR0, X86IRQ_REG64_CR2, X86IRQ_REG64_CR3, X86IRQ_REG64_CR4, X86IRQ_REG64_CR8,
    X86IRQ_REG64_EFER,
    X86IRQ_REG64_ES_BASE, X86IRQ_REG64_CS_BASE, X86IRQ_REG64_SS_BASE, X86IRQ_REG64_DS_BASE,
    X86IRQ_REG64_FS_BASE, X86IRQ_REG64_GS_BASE, X86IRQ_REG64_KERNEL_GS_BASE,
    X86IRQ_REG64_GDTR_BASE, X86IRQ_REG64_GDTR_LIMIT, X86IRQ_REG64_IDTR_BASE,
    X86IRQ_REG64_IDTR_LIMIT, X86IRQ_REG64_LDTR_BASE, X86IRQ_REG64_TR_BASE,
    X86IRQ_REG64_COUNT
} x86irq_register64;

/** The name of a 64-bit register ("rax", "efer", "gs_base", ...). */
X86IRQ_API const char *x86irq_register64_name(x86irq_register64 reg);

/** CPU `cpu`'s registers by their 64-bit names, with the rules of x86irq_get_cpu_register()
 *  (RIP as EIP, from callbacks too). A write is refused (X86IRQ_ERR_INVALID_ARGUMENT, nothing
 *  changed) when the architecture would fault on it: reserved bits of a control register, of
 *  RFLAGS or EFER (EFER.LME while paging is on; LMA is read-only), CR8 above 15, a
 *  non-canonical segment or table base, a table limit above 0xFFFF; LDTR_BASE and TR_BASE
 *  are read-only (LLDT and LTR load them). */
X86IRQ_API x86irq_status x86irq_get_cpu_register64(const x86irq_machine *machine, unsigned cpu,
                                                   x86irq_register64 reg, uint64_t *value);
X86IRQ_API x86irq_status x86irq_set_cpu_register64(x86irq_machine *machine, unsigned cpu,
                                                   x86irq_register64 reg, uint64_t value);

/** Copy guest physical memory. Only RAM is accessed (no device side effects); a range
 *  reaching outside RAM fails with X86IRQ_ERR_RANGE and copies nothing. size 0 copies nothing
 *  (buffer may then be NULL) and succeeds for an address up to the end of RAM. */
X86IRQ_API x86irq_status x86irq_read_physical(const x86irq_machine *machine, uint64_t address,
                                              void *buffer, size_t size);
/** Copy guest memory by linear address as CPU cpu sees it now: through its page tables (any
 *  paging mode, 64-bit addresses in IA-32e mode) with supervisor rights, without faults and
 *  without setting accessed bits. Only RAM is read. A byte unmapped or outside RAM:
 *  X86IRQ_ERR_RANGE, the buffer untouched. For observers and debuggers (the CLI's event log
 *  disassembles handlers this way). */
X86IRQ_API x86irq_status x86irq_read_linear(const x86irq_machine *machine, unsigned cpu,
                                            uint64_t address, void *buffer, size_t size);
/** Writes keep the decoded-instruction cache coherent (code written here is re-decoded). */
X86IRQ_API x86irq_status x86irq_write_physical(x86irq_machine *machine, uint64_t address,
                                               const void *buffer, size_t size);
/** Write guest memory by linear address as CPU cpu sees it now, translated as
 *  x86irq_read_linear() translates (supervisor rights: a read-only page is written too, as a
 *  debugger's breakpoint would be), through x86irq_write_physical() page by page. Every page
 *  is checked first: a byte unmapped or outside RAM gives X86IRQ_ERR_RANGE, nothing written. */
X86IRQ_API x86irq_status x86irq_write_linear(x86irq_machine *machine, unsigned cpu,
                                             uint64_t address, const void *buffer, size_t size);
/** The physical address of a linear one on CPU cpu now (its page tables, any paging mode; the
 *  identity without paging), without faults or accessed bits: X86IRQ_ERR_RANGE when it is not
 *  mapped. */
X86IRQ_API x86irq_status x86irq_translate_linear(const x86irq_machine *machine, unsigned cpu,
                                                 uint64_t linear, uint64_t *physical);

/** A segment register's descriptor cache as the CPU holds it (SDM Vol. 3 3.4.3): what it
 *  uses, which may differ from the descriptor table's bytes since they were loaded. */
typedef struct x86irq_segment {
    size_t size;          /**< in: sizeof(x86irq_segment) of the caller */
    uint64_t base;        /**< 64 bits for FS, GS, LDTR and TR in IA-32e mode */
    uint32_t limit;       /**< the byte limit, granularity applied */
    uint16_t selector;
    uint16_t attributes;  /**< descriptor bits 40-47 in bits 0-7 (type, S, DPL, P) and 52-55 in
                               8-11 (AVL, L, D/B, G) */
} x86irq_segment;

/** Which descriptor cache: the six segment registers in their encoding order, then LDTR, TR */
typedef enum x86irq_segment_register {
    X86IRQ_SEG_ES = 0, X86IRQ_SEG_CS, X86IRQ_SEG_SS, X86IRQ_SEG_DS, X86IRQ_SEG_FS,
    X86IRQ_SEG_GS, X86IRQ_SEG_LDTR, X86IRQ_SEG_TR, X86IRQ_SEG_COUNT
} x86irq_segment_register;

/** CPU cpu's descriptor cache of seg (out->size set by the caller). A CPU or seg out of range,
 *  a size below this first version's: X86IRQ_ERR_INVALID_ARGUMENT. */
X86IRQ_API x86irq_status x86irq_get_segment(const x86irq_machine *machine, unsigned cpu,
                                            x86irq_segment_register seg, x86irq_segment *out);

/** An MSR of CPU cpu by index, as rdmsr at CPL 0 reads it (the local APIC's too); an MSR the
 *  model does not have: X86IRQ_ERR_INVALID_ARGUMENT (rdmsr would raise #GP(0)). */
X86IRQ_API x86irq_status x86irq_get_msr(x86irq_machine *machine, unsigned cpu, uint32_t index,
                                        uint64_t *value);
/** Write an MSR as wrmsr at CPL 0 would (its side effects: EFER's mode bits, the APIC base);
 *  a value wrmsr refuses with #GP(0), or an unknown MSR: X86IRQ_ERR_INVALID_ARGUMENT, nothing
 *  changed. Between runs or from a scheduled event only: from other callbacks an instruction
 *  is half done (X86IRQ_ERR_STATE). */
X86IRQ_API x86irq_status x86irq_set_msr(x86irq_machine *machine, unsigned cpu, uint32_t index,
                                        uint64_t value);

/** A CPU's x87 and SSE registers (SDM Vol. 1 8.1, 10.2). Set size before the call. */
typedef struct x86irq_fpu_state {
    size_t size;              /**< in: sizeof(x86irq_fpu_state) of the caller */
    uint16_t control;         /**< FCW */
    uint16_t status;          /**< FSW, TOP in bits 13:11 */
    uint16_t tag;             /**< the full tag word: 2 bits per physical register R0-R7 */
    uint8_t st[8][10];        /**< ST(0)..ST(7) (from TOP, not R0-R7), 80-bit extended format,
                                   little-endian */
    uint32_t mxcsr;
    uint8_t xmm[16][16];      /**< XMM0-XMM15, little-endian (8-15 exist in 64-bit mode only:
                                   they hold what 64-bit code left there) */
} x86irq_fpu_state;

/** Fill state with CPU cpu's x87 and SSE registers. A NULL state or a size below this first
 *  version's: X86IRQ_ERR_INVALID_ARGUMENT. */
X86IRQ_API x86irq_status x86irq_get_fpu_state(const x86irq_machine *machine, unsigned cpu,
                                              x86irq_fpu_state *state);
/** Set CPU cpu's x87 and SSE registers from state (as FXRSTOR would: ST(i) from the given
 *  TOP). An MXCSR with reserved bits set (FXRSTOR: #GP) or a size below this first
 *  version's: X86IRQ_ERR_INVALID_ARGUMENT, nothing changed. Between runs or from a scheduled
 *  event only (X86IRQ_ERR_STATE inside an instruction or a delivery). */
X86IRQ_API x86irq_status x86irq_set_fpu_state(x86irq_machine *machine, unsigned cpu,
                                              const x86irq_fpu_state *state);

/* ------------------------------------------------------------------ devices of the embedder */

/** Read callback of an embedder's device: offset is from the start of the registered range,
 *  size is 1, 2, 4 or 8 bytes. Return the value (only the low size*8 bits are used). */
typedef uint64_t (*x86irq_device_read_fn)(void *opaque, uint64_t offset, unsigned size);
/** Write callback of an embedder's device. */
typedef void (*x86irq_device_write_fn)(void *opaque, uint64_t offset, unsigned size,
                                       uint64_t value);

/** Register a device on count I/O ports from base. Either callback may be NULL (reads then
 *  give all ones, writes are dropped). Overlapping an existing range: X86IRQ_ERR_CONFLICT;
 *  count 0 or a range past port 0xFFFF: X86IRQ_ERR_INVALID_ARGUMENT. Between runs only
 *  (X86IRQ_ERR_STATE from a callback), as x86irq_add_mmio_device. */
X86IRQ_API x86irq_status x86irq_add_port_device(x86irq_machine *machine, uint16_t base,
                                                uint32_t count, x86irq_device_read_fn read,
                                                x86irq_device_write_fn write, void *opaque);

/** Register a device on a physical MMIO range. It must not overlap RAM or another device. */
X86IRQ_API x86irq_status x86irq_add_mmio_device(x86irq_machine *machine, uint64_t base,
                                                uint64_t size, x86irq_device_read_fn read,
                                                x86irq_device_write_fn write, void *opaque);

/** Called with every byte the guest transmits on COM1. Default: bytes are dropped. */
typedef void (*x86irq_serial_fn)(void *opaque, uint8_t byte);
X86IRQ_API void x86irq_set_serial_output(x86irq_machine *machine, x86irq_serial_fn fn,
                                         void *opaque);

/** Bytes from the host for COM1's receive line. They are queued (up to 1 MiB waiting) and
 *  arrive one per character time at the line rate the guest programmed (LCR, divisor), with
 *  lossless RTS/CTS-like flow control: a character is sent only while the guest's receiver is
 *  ready (IER receive interrupt and MCR RTS set, not in loopback, room in the RX FIFO), so
 *  nothing is consumed before the guest enables reception and nothing overruns
 *  (docs/devices.md). May be called between runs or from callbacks. X86IRQ_ERR_NO_MEMORY when
 *  the queue could not take every byte (those that fit are queued, the rest dropped);
 *  X86IRQ_ERR_STATE when the machine has no UART (no_default_devices). */
X86IRQ_API x86irq_status x86irq_serial_input(x86irq_machine *machine, const void *bytes,
                                             size_t length);

/* ------------------------------------------------------------------ interrupt pins */

/** The INTA cycle: called when the core takes INTR (at an instruction boundary with IF = 1,
 *  outside the STI and MOV SS shadows). Return the vector, 0-255; or -1 when there is nothing
 *  to deliver any more (nothing is delivered; the core goes on). May change the INTR level. */
typedef int (*x86irq_intr_acknowledge_fn)(void *opaque);

/** The acknowledge callback of an embedder that drives INTR itself. NULL unsets. */
X86IRQ_API void x86irq_set_intr_acknowledge(x86irq_machine *machine,
                                            x86irq_intr_acknowledge_fn fn, void *opaque);

/** Set the level of the INTR pin (non-zero: asserted). A level input: it is taken at every
 *  boundary where IF = 1 while it stays asserted, so the acknowledge callback (required:
 *  X86IRQ_ERR_STATE without one) or the device should lower it. Wakes a core halted with
 *  IF = 1. Safe to call from any callback of the machine. */
X86IRQ_API x86irq_status x86irq_set_intr(x86irq_machine *machine, int level);

/** An edge on the NMI pin. The NMI (vector 2) is taken at the next instruction boundary even
 *  with IF = 0; while an NMI handler runs (until the next IRET) one more NMI is remembered and
 *  further ones are lost, as on the processor (SDM Vol. 3 6.7.1). Wakes a halted core. To raise
 *  one at a given cycle, call this from an event (x86irq_schedule_event). */
X86IRQ_API x86irq_status x86irq_raise_nmi(x86irq_machine *machine);
/** As x86irq_raise_nmi(), on the NMI input of CPU `cpu` (x86irq_raise_nmi is CPU 0's). */
X86IRQ_API x86irq_status x86irq_raise_cpu_nmi(x86irq_machine *machine, unsigned cpu);

/** Set the level of a platform interrupt line (non-zero: asserted), as a device would. GSI
 *  0-15 are the ISA IRQs: inputs of the 8259 pair and of the IOAPIC (IRQ0 on IOAPIC pin 2, as
 *  a PC's interrupt-source override says); 16-23 are IOAPIC pins only. What the guest sees
 *  depends on how it programmed the controllers (edge or level, masks, vectors). */
X86IRQ_API x86irq_status x86irq_set_irq_line(x86irq_machine *machine, unsigned gsi, int level);
/** An edge: raise the line and lower it again (for edge-triggered inputs). */
X86IRQ_API x86irq_status x86irq_pulse_irq_line(x86irq_machine *machine, unsigned gsi);

/** The INIT signal, taken at the next instruction boundary before any other event (at once
 *  when called between runs; from a callback during a run, at the boundary after it): the core
 *  returns to its power-up state (real mode, CS:IP = F000:FFF0), keeping what INIT keeps (the
 *  cycle counter and TSC, CR0.CD/NW, MSRs; SDM Vol. 3 Table 9-1), and the local APIC is reset
 *  but for its ID and base. There is no firmware at the reset vector: an embedder sets the
 *  registers it wants (x86irq_set_register) before it runs again. After a final stop
 *  (x86irq_run: DEBUG_EXIT, SHUTDOWN, POWEROFF, RESET) X86IRQ_ERR_STATE: INIT does not restart
 *  the machine; loading a guest does. */
X86IRQ_API x86irq_status x86irq_raise_init(x86irq_machine *machine);
/** As x86irq_raise_init(), on CPU `cpu` (x86irq_raise_init is CPU 0's): an application
 *  processor then waits for a start-up IPI. */
X86IRQ_API x86irq_status x86irq_raise_cpu_init(x86irq_machine *machine, unsigned cpu);

/* ------------------------------------------------------------------ time */

/** A timed callback on the machine's cycle clock. */
typedef void (*x86irq_event_fn)(x86irq_machine *machine, void *opaque);

/** Run fn at absolute cycle `cycle` (at the first instruction boundary at or after it; a cycle
 *  in the past runs at the next boundary). Events at the same cycle run in the order they were
 *  scheduled. *id (may be NULL) receives a handle for x86irq_cancel_event(). */
X86IRQ_API x86irq_status x86irq_schedule_event(x86irq_machine *machine, uint64_t cycle,
                                               x86irq_event_fn fn, void *opaque, uint64_t *id);

/** Cancel a scheduled event. An id that already ran or was cancelled: X86IRQ_ERR_STATE. */
X86IRQ_API x86irq_status x86irq_cancel_event(x86irq_machine *machine, uint64_t id);

/* ------------------------------------------------------------------ snapshots */

/** Save the whole machine (every core, every device, the pending events with their cycles,
 *  RAM compressed) into a new buffer: *data (free it with x86irq_snapshot_free), *size bytes.
 *  The format (docs/debugging.md, "Snapshot format") is versioned and checksummed; it holds
 *  this build's state layout, so it restores with the same library version. Not from a
 *  callback (X86IRQ_ERR_STATE). The debugger's breakpoints, watchpoints and hooks are not part
 *  of the machine and are not saved. */
X86IRQ_API x86irq_status x86irq_snapshot_save(x86irq_machine *machine, void **data,
                                              size_t *size);
/** The same, into a file (X86IRQ_ERR_IO when it cannot be written). */
X86IRQ_API x86irq_status x86irq_snapshot_save_file(x86irq_machine *machine, const char *path);
/** Free a buffer from x86irq_snapshot_save (NULL: nothing). */
X86IRQ_API void x86irq_snapshot_free(void *data);
/** Put the machine back in the state a snapshot holds. The machine must be configured as the
 *  one that saved it (RAM, CPUs, clock, ISA, devices), and, when it has symbols, have the same
 *  symbols; a foreign, damaged or truncated snapshot or another configuration is
 *  X86IRQ_ERR_BAD_SNAPSHOT with a message, and the machine is left as it was. Kept from the
 *  machine: breakpoints, watchpoints, hooks, the serial and NIC callbacks, symbols. Events the
 *  embedder had scheduled (x86irq_schedule_event) are pending again at their cycles but have
 *  no function until x86irq_rebind_event gives them one; x86irq_run refuses to run until then
 *  (X86IRQ_ERR_STATE). The embedder's own events pending before the restore are dropped. */
X86IRQ_API x86irq_status x86irq_snapshot_restore(x86irq_machine *machine, const void *data,
                                                 size_t size);
/** The same, from a file (X86IRQ_ERR_IO when it cannot be read). */
X86IRQ_API x86irq_status x86irq_snapshot_restore_file(x86irq_machine *machine,
                                                      const char *path);
/** A delta snapshot: the machine as x86irq_snapshot_save saves it, but with only the 4 KiB
 *  pages of RAM that differ from those of base (base_size bytes), a whole snapshot of a
 *  machine configured as this one (typically saved earlier in the same run). The delta names
 *  its base by checksums and restores only with it. A base that is not a whole snapshot of
 *  this configuration: X86IRQ_ERR_BAD_SNAPSHOT. */
X86IRQ_API x86irq_status x86irq_snapshot_save_delta(x86irq_machine *machine, const void *base,
                                                    size_t base_size, void **data, size_t *size);
/** The same, with the base read from base_path and the delta written to path. */
X86IRQ_API x86irq_status x86irq_snapshot_save_delta_file(x86irq_machine *machine,
                                                         const char *base_path,
                                                         const char *path);
/** Restore a delta snapshot over its base (a whole snapshot restores as with
 *  x86irq_snapshot_restore, the base unused). A delta given to x86irq_snapshot_restore, or
 *  with another base: X86IRQ_ERR_BAD_SNAPSHOT, the machine left as it was. */
X86IRQ_API x86irq_status x86irq_snapshot_restore_delta(x86irq_machine *machine,
                                                       const void *base, size_t base_size,
                                                       const void *data, size_t size);
/** The same, from files. */
X86IRQ_API x86irq_status x86irq_snapshot_restore_delta_file(x86irq_machine *machine,
                                                            const char *base_path,
                                                            const char *path);
/* ------------------------------------------------------------------ recording host input */

/** Record the host's input to the machine given between runs, each with where the machine
 *  stood (its cycle, the CPU that ran last and its retired instructions, how the last run
 *  ended): x86irq_serial_input, x86irq_nic_receive, x86irq_set_irq_line (and pulse),
 *  x86irq_set_intr, x86irq_raise_nmi/_cpu_nmi, x86irq_raise_init/_cpu_init. Input given from
 *  the machine's callbacks (events, device handlers) is the embedder's code running at a point
 *  the machine fixes: it is not recorded, and must be given again by the same code in a
 *  replay. Writes to memory and registers between runs are not recorded. Starting again
 *  starts an empty recording. Not while replaying (X86IRQ_ERR_STATE). */
X86IRQ_API x86irq_status x86irq_record_start(x86irq_machine *machine);
/** The recording so far, into a new buffer (free it with x86irq_free): the format is in
 *  docs/debugging.md ("Recording host input"). X86IRQ_ERR_STATE when not recording. */
X86IRQ_API x86irq_status x86irq_record_save(x86irq_machine *machine, void **data,
                                            size_t *size);
/** Stop recording and forget the recording. */
X86IRQ_API x86irq_status x86irq_record_stop(x86irq_machine *machine);
/** Replay a recording on a machine configured and loaded as the recording one was when it
 *  started recording: x86irq_run then stops where each input was given and gives it, exactly
 *  (the runs may be cut anywhere; one x86irq_run can replay a whole session). Meanwhile the
 *  embedder's own input between runs is X86IRQ_ERR_STATE, and so is x86irq_step. A replay
 *  that does not reach a recorded input's point (another guest, other callbacks) ends its run
 *  with X86IRQ_ERR_STATE and a message with both points. A foreign, damaged or mismatched
 *  recording: X86IRQ_ERR_BAD_RECORDING, nothing changed. */
X86IRQ_API x86irq_status x86irq_replay_start(x86irq_machine *machine, const void *data,
                                             size_t size);
/** The recorded inputs not given yet (0 when not replaying). */
X86IRQ_API size_t x86irq_replay_remaining(const x86irq_machine *machine);
/** End the replay (the embedder gives input again). */
X86IRQ_API x86irq_status x86irq_replay_stop(x86irq_machine *machine);
/** Free a buffer the library returned (a snapshot, a recording). NULL: nothing. */
X86IRQ_API void x86irq_free(void *data);

/** The index-th (from 0) embedder event a restore left without a function: its id and cycle
 *  (either may be NULL). X86IRQ_ERR_RANGE past the last one. */
X86IRQ_API x86irq_status x86irq_unbound_event(const x86irq_machine *machine, size_t index,
                                              uint64_t *id, uint64_t *cycle);
/** Give a restored embedder event its function and user data; it runs at its cycle, in its
 *  place among events of the same cycle. An id that is not an unbound event: X86IRQ_ERR_STATE. */
X86IRQ_API x86irq_status x86irq_rebind_event(x86irq_machine *machine, uint64_t id,
                                             x86irq_event_fn fn, void *opaque);

/* ------------------------------------------------------------------ tracing */

/** What an instruction hook sees: the instruction about to execute. */
typedef struct x86irq_instruction_info {
    size_t size;             /**< sizeof(x86irq_instruction_info) of the library: members past
                                  the caller's own sizeof are newer than the caller */
    uint64_t cycle;          /**< the cycle count before it executes */
    uint64_t eip;            /**< its offset in CS: EIP, or RIP in IA-32e mode's 64-bit code */
    uint64_t linear;         /**< its linear address (RIP itself in 64-bit code) */
    uint16_t cs;             /**< CS selector */
    uint8_t length;          /**< its length in bytes */
    uint8_t mode_bits;       /**< 16, 32 or 64: the default operand size it was decoded with */
    uint8_t bytes[15];       /**< its bytes */
    uint8_t cpu;             /**< the CPU that executes it */
} x86irq_instruction_info;

/** Called before every instruction while set (slow: the fast path is off). NULL unsets. */
typedef void (*x86irq_instruction_fn)(void *opaque, const x86irq_instruction_info *info);
X86IRQ_API void x86irq_set_instruction_hook(x86irq_machine *machine, x86irq_instruction_fn fn,
                                            void *opaque);

/* ------------------------------------------------------------------ the cycle model */

/** The cycle-cost classes of the model (docs/cycle-model.md): how many, and their names
 *  ("simple", "memory", "branch", ..., "delivery", "privilege", "iret", "task-switch"). */
X86IRQ_API unsigned x86irq_cost_class_count(void);
X86IRQ_API const char *x86irq_cost_class_name(unsigned index);
/** Set (or read) the cycles of a class by name. Between runs only (X86IRQ_ERR_STATE from a
 *  callback); decoded instructions are dropped so the new costs apply. Unknown name or a cost above
 *  65535: X86IRQ_ERR_INVALID_ARGUMENT. */
X86IRQ_API x86irq_status x86irq_set_cost(x86irq_machine *machine, const char *class_name,
                                         unsigned cycles);
X86IRQ_API x86irq_status x86irq_get_cost(const x86irq_machine *machine, const char *class_name,
                                         unsigned *cycles);

/* ------------------------------------------------------------------ interrupt trace events */

/** What happened (one bit each in a subscription mask: X86IRQ_TRACE_BIT(kind)). */
typedef enum x86irq_trace_kind {
    X86IRQ_TRACE_LINE = 0,     /**< an interrupt line changed level (line, level) */
    X86IRQ_TRACE_IRR,          /**< the local APIC latched a vector in IRR (vector, level) */
    X86IRQ_TRACE_ACCEPT,       /**< the core took an interrupt: INTA (vector from the LAPIC,
                                    the 8259 or the embedder) or an NMI */
    X86IRQ_TRACE_EXCEPTION,    /**< the core detected an exception or executed int n (vector,
                                    error code, origin) */
    X86IRQ_TRACE_DELIVER,      /**< delivery through the IDT/IVT completed: the handler's
                                    CS:EIP, the privilege levels before and after */
    X86IRQ_TRACE_HANDLER,      /**< the first instruction of the handler is about to run */
    X86IRQ_TRACE_EOI,          /**< an EOI (vector; line 0 the local APIC, 1 the 8259) */
    X86IRQ_TRACE_IRET,         /**< IRET completed: back at CS:EIP */
    X86IRQ_TRACE_DOUBLE_FAULT, /**< two faults made a #DF */
    X86IRQ_TRACE_SHUTDOWN,     /**< a triple fault shut the core down */
    X86IRQ_TRACE_DEVICE,       /**< a device's timed event (the local APIC timer fired...) */
    X86IRQ_TRACE_NESTING,      /**< a nesting rule fired (rule, detail) */
    X86IRQ_TRACE_PHASE,        /**< the guest entered a phase (line: x86irq_phase) through
                                    the phase marker port */
    X86IRQ_TRACE_ROUTE,        /**< a controller routed a line: the IOAPIC sent pin `line`
                                    as `vector` (level: level-triggered), the 8259 raised
                                    its INT for IRQ `line` (vector 0: known at INTA), or a PCI
                                    function's MSI reached the LAPIC (`line` 0xFFFF) */
    X86IRQ_TRACE_SWITCH,       /**< the guest switched threads (`line`: the thread it runs now,
                                    `error_code`: the one before; depth: what the new thread
                                    has in service): the thread marker port or a switch symbol */
    X86IRQ_TRACE_NMI,          /**< an NMI reached a core and is latched until it is taken
                                    (`line`: 0 its NMI input, x86irq_raise_nmi; 1 its local
                                    APIC: LINT1, an NMI message, an IOAPIC entry in NMI mode;
                                    `level` 1: NMIs are blocked by a handler in service, so it
                                    waits for the IRET; `error_code` 1: lost, one is latched
                                    already; SDM Vol. 3 6.7.1) */
    X86IRQ_TRACE_KIND_COUNT
} x86irq_trace_kind;

#define X86IRQ_TRACE_BIT(kind) (1u << (kind))
#define X86IRQ_TRACE_ALL ((1u << X86IRQ_TRACE_KIND_COUNT) - 1)

/** The name of a trace kind as the command line's event log prints it ("line", "irr",
 *  "accept", "exception", "deliver", "handler", "eoi", "iret", "double-fault", "shutdown",
 *  "device", "nesting", "phase", "route", "switch", "nmi"); "unknown" for a value out of range
 *  (never NULL: the result can go straight to printf). */
X86IRQ_API const char *x86irq_trace_kind_name(x86irq_trace_kind kind);

/** Nesting rules (the seed notes' rules for Linux, SDM for the rest). */
typedef enum x86irq_nesting_rule {
    X86IRQ_RULE_EXCEPTION_IN_IRQ = 0, /**< an exception while a hardware interrupt is serviced */
    X86IRQ_RULE_IRQ_IN_IRQ,           /**< a hardware interrupt nested in another */
    X86IRQ_RULE_IRET_UNMATCHED,       /**< IRET with nothing in service (not the classic IRET
                                           to an outer privilege level that enters user mode) */
    X86IRQ_RULE_HLT_HANG,             /**< HLT with IF = 0 and nothing that can raise an NMI */
    X86IRQ_RULE_USER_ACCESS_IN_IRQ,   /**< a supervisor data access to a user page (paging on,
                                           U/S set at every level) while a hardware interrupt or
                                           an NMI is in service; the event's error_code holds the
                                           linear address. Reported once per interrupt. */
    X86IRQ_RULE_COUNT
} x86irq_nesting_rule;

/** The name of a nesting rule as --check-nesting=RULES spells it ("exception-in-irq",
 *  "irq-in-irq", "iret-unmatched", "hlt-hang", "user-access-in-irq"); "unknown" for a value out
 *  of range (never NULL). */
X86IRQ_API const char *x86irq_nesting_rule_name(x86irq_nesting_rule rule);

/** The phases of interrupt handling a guest may mark by writing the number (one byte) to the
 *  phase marker port, 0xFE0 (docs/guest-contract.md): Linux's critical, immediate and deferred
 *  phases of the seed notes. */
typedef enum x86irq_phase {
    X86IRQ_PHASE_PROCESS = 0,  /**< process context (a task, the idle loop) */
    X86IRQ_PHASE_CRITICAL,     /**< the generic entry: identify, acknowledge; IF = 0 */
    X86IRQ_PHASE_IMMEDIATE,    /**< the device driver's handler */
    X86IRQ_PHASE_SOFTIRQ,      /**< deferred, interrupt context, IF = 1 */
    X86IRQ_PHASE_TASKLET,      /**< deferred, interrupt context (run by a softirq) */
    X86IRQ_PHASE_WORKQUEUE,    /**< deferred, process context (a kernel thread) */
    X86IRQ_PHASE_COUNT
} x86irq_phase;
/** The name of a phase as phase-symbol lists (x86irq_set_phase_symbols) and the statistics
 *  spell it ("process", "critical", "immediate", "softirq", "tasklet", "workqueue"); "unknown"
 *  for a value out of range (never NULL). */
X86IRQ_API const char *x86irq_phase_name(x86irq_phase phase);

/** Phases and thread switches from the guest's own functions, for guests without markers (a
 *  Linux kernel with --symbols): a comma-separated list of GLOB=PHASE entries, PHASE one of
 *  process, critical, immediate, softirq, tasklet, workqueue: while a function whose name
 *  matches GLOB (fnmatch) runs, from its entry until it returns (a block begins at its return
 *  address with the stack just above it), the thread is in that phase; inner matches nest.
 *  GLOB=switch:NEXT:PREV marks a thread-switch function whose registers NEXT and PREV (eax,
 *  ecx, edx, ebx, esi, edi, or rax, rcx, rdx, rbx, rsi, rdi, r8-r15) hold the next and the
 *  previous thread's IDs at its entry: their low 32 bits outside 64-bit mode, all 64 bits in
 *  64-bit mode (a 64-bit kernel's task pointers). GLOB=switch:NEXT:PREV:NEXT64:PREV64 gives
 *  64-bit code a pair of its own (the mode is the core's when it reaches the function).
 *  GLOB=any-context names an exception handler the kernel runs safely in any context: an
 *  exception whose gate leads there is not an exception-in-irq. The word "linux" stands for
 *  Linux's own list (docs/observability.md): the IRQ entry points critical, handle_irq_event
 *  and the local APIC timer's handler immediate, __do_softirq softirq, tasklet_action_common
 *  tasklet, process_one_work workqueue, __switch_to_asm (32-bit: next in edx, previous in
 *  eax; 64-bit: next in rsi, previous in rdi, as switch:edx:eax:rsi:rdi), and the int3 and
 *  debug entries any-context (text patching, kprobes). Probes are linear addresses, 64-bit ones included. Resolved
 *  against the symbols loaded now (x86irq_load_symbols, the ELF's); NULL or "" removes them.
 *  A malformed list, or a list no symbol matches: X86IRQ_ERR_INVALID_ARGUMENT. Costs a check
 *  at each decoded block's entry while set. Between runs only (X86IRQ_ERR_STATE from a
 *  callback). */
X86IRQ_API x86irq_status x86irq_set_phase_symbols(x86irq_machine *machine, const char *list);

/** One trace event. Fields that do not apply to a kind are 0. */
typedef struct x86irq_trace_event {
    size_t size;              /**< sizeof(x86irq_trace_event) of the library: members past the
                                   caller's own sizeof are newer than the caller */
    uint64_t cycle;
    uint32_t kind;            /**< x86irq_trace_kind */
    uint32_t vector;          /**< the vector (IRR, ACCEPT, EXCEPTION, DELIVER, EOI...) */
    uint64_t eip;             /**< the core's EIP, or RIP in IA-32e mode's 64-bit code
                                   (DELIVER, HANDLER: the handler; IRET: the return address;
                                   EXCEPTION: the saved EIP) */
    uint16_t cs;
    uint8_t origin;           /**< x86irq_event_origin of the event being delivered */
    uint8_t cpl;              /**< CPL after the event */
    uint8_t from_cpl;         /**< DELIVER: CPL before */
    uint8_t depth;            /**< events in service after this one (the nesting stack) */
    uint8_t has_error_code;
    uint8_t level;            /**< LINE: the new level; IRR: level-triggered; NMI: blocked */
    uint32_t line;            /**< LINE: the GSI; ACCEPT: 0 LAPIC, 1 8259, 2 embedder, 3 NMI;
                                   SWITCH: the new thread's ID (its low 32 bits: thread);
                                   NMI: 0 the NMI input, 1 the local APIC */
    uint32_t error_code;      /**< SWITCH: the previous thread's ID (low 32 bits); NMI: 1
                                   lost */
    uint32_t rule;            /**< NESTING: x86irq_nesting_rule */
    uint64_t esp;             /**< DELIVER: the handler's stack pointer after the frame (ESP,
                                   or RSP in IA-32e mode's 64-bit code) */
    uint16_t ss;              /**< DELIVER: the handler's stack segment */
    uint8_t gate;             /**< DELIVER: the gate type (0x5 task, 0x6/0x7 16-bit interrupt/
                                   trap, 0xE/0xF 32-bit interrupt/trap; 0 the real-mode IVT) */
    uint8_t core;             /**< the core (0: one core) */
    uint8_t code_bits;        /**< 16, 32 or 64: the core's code size when the event was made
                                   (how to disassemble at eip) */
    char symbol[64];          /**< the guest symbol+offset of EIP from the ELF ("" if none) */
    const char *detail;       /**< NESTING: what happened, DEVICE: which device (static text) */
    uint64_t thread;          /**< SWITCH: the new thread's ID in full (a 64-bit kernel's
                                   task pointer from a switch symbol) */
    uint64_t previous_thread; /**< SWITCH: the previous thread's ID in full */
} x86irq_trace_event;

typedef void (*x86irq_trace_fn)(void *opaque, const x86irq_trace_event *event);

/** Subscribe to the kinds in mask (X86IRQ_TRACE_BIT...); NULL or mask 0 unsubscribes. With no
 *  subscriber nothing is formatted or recorded (one test of the mask at each site). */
X86IRQ_API void x86irq_set_trace_hook(x86irq_machine *machine, uint32_t mask,
                                      x86irq_trace_fn fn, void *opaque);
/* ------------------------------------------------------------------ hooks */

/** What a hook listens to. Any number of hooks of each kind may be added; each is called in
 *  the order it was added. x86irq_set_trace_hook() and x86irq_set_instruction_hook() are
 *  single slots beside them (each call replaces that slot's previous function only). */
typedef enum x86irq_hook_kind {
    X86IRQ_HOOK_TRACE = 0,   /**< trace events whose kind is in filter.trace_mask */
    X86IRQ_HOOK_INSTRUCTION, /**< instructions about to execute whose linear address is in
                                  [first, last]; blocks of code outside every such range run in
                                  the fast loop */
    X86IRQ_HOOK_MEMORY,      /**< data accesses (reads, writes) and instruction fetches that
                                  touch [first, last], by linear or physical address */
    X86IRQ_HOOK_PORT,        /**< port I/O (in, out, ins, outs) to ports in [first, last] */
    X86IRQ_HOOK_INTERRUPT,   /**< exceptions and interrupts with a vector in [first, last]: the
                                  trace's EXCEPTION, ACCEPT and DELIVER events */
    X86IRQ_HOOK_KIND_COUNT
} x86irq_hook_kind;

/** Accesses (filter.access, event access): MEMORY kinds read, write, fetch; PORT in, out. */
#define X86IRQ_ACCESS_READ 1u
#define X86IRQ_ACCESS_WRITE 2u
#define X86IRQ_ACCESS_FETCH 4u
/** MEMORY: first and last are physical addresses (default: linear) */
#define X86IRQ_ACCESS_PHYSICAL 8u

typedef struct x86irq_hook_filter {
    size_t size;          /**< sizeof(x86irq_hook_filter) of the caller */
    uint64_t first, last; /**< the range, inclusive: addresses, ports or vectors */
    uint32_t trace_mask;  /**< TRACE: X86IRQ_TRACE_BIT()s; INTERRUPT: which of EXCEPTION,
                               ACCEPT, DELIVER */
    uint32_t access;      /**< MEMORY, PORT: X86IRQ_ACCESS_* (0 means every kind) */
} x86irq_hook_filter;

/** A filter that takes everything: the whole range, every trace kind, every access. */
X86IRQ_API void x86irq_hook_filter_init(x86irq_hook_filter *filter);

/** What a hook is called with. Pointers are valid during the call only. */
typedef struct x86irq_hook_event {
    size_t size;                                   /**< sizeof(x86irq_hook_event) */
    uint32_t kind;                                 /**< x86irq_hook_kind */
    uint32_t cpu;                                  /**< the CPU it happened on */
    uint64_t cycle;                                /**< that CPU's cycle count */
    const x86irq_trace_event *trace;               /**< TRACE, INTERRUPT; else NULL */
    const x86irq_instruction_info *instruction;    /**< INSTRUCTION, a MEMORY fetch; else NULL */
    uint64_t address;    /**< MEMORY: the linear address; PORT: the port */
    uint64_t physical;   /**< MEMORY: the physical address of its first byte (UINT64_MAX when
                              the access will fault: it is not mapped) */
    uint32_t access;     /**< MEMORY, PORT: one X86IRQ_ACCESS_ READ, WRITE or FETCH */
    uint32_t length;     /**< MEMORY, PORT: bytes */
    uint64_t value;      /**< PORT: the value read or written */
} x86irq_hook_event;

/** A hook: the machine first, the user data last, as every hook. What it may call is the
 *  contract of every callback (docs/api.md): registers, memory, lines, stop requests, adding
 *  and removing hooks (itself too) yes; run, load, restore, destroy: X86IRQ_ERR_STATE. An
 *  instruction hook may set EIP (the instruction is then not executed, as with
 *  x86irq_set_instruction_hook). MEMORY hooks are called before the access, from inside the
 *  instruction (a write's bytes are not in memory yet; a faulting access calls them too);
 *  PORT hooks after it. */
typedef void (*x86irq_hook_fn)(x86irq_machine *machine, const x86irq_hook_event *event,
                               void *user_data);
typedef uint64_t x86irq_hook_handle;

/** Add a hook of kind with filter (NULL: x86irq_hook_filter_init()'s, everything); *handle
 *  (optional) names it for x86irq_hook_remove(), never 0 and never reused. A bad kind, a
 *  range with first > last, an unknown access bit, a NULL fn: X86IRQ_ERR_INVALID_ARGUMENT. */
X86IRQ_API x86irq_status x86irq_hook_add(x86irq_machine *machine, x86irq_hook_kind kind,
                                         const x86irq_hook_filter *filter, x86irq_hook_fn fn,
                                         void *user_data, x86irq_hook_handle *handle);
/** Remove a hook; from inside a hook too (it is not called again). An unknown handle:
 *  X86IRQ_ERR_INVALID_ARGUMENT. */
X86IRQ_API x86irq_status x86irq_hook_remove(x86irq_machine *machine, x86irq_hook_handle handle);

/** Which nesting rules report X86IRQ_TRACE_NESTING events (a mask of 1 << rule; default all). */
X86IRQ_API void x86irq_set_nesting_rules(x86irq_machine *machine, uint32_t rules);
/** The deepest nesting of events in service seen so far. */
X86IRQ_API unsigned x86irq_nesting_max_depth(const x86irq_machine *machine);

/** Disassemble one instruction (Capstone, Intel syntax) into buffer, e.g. "mov eax, 1".
 *  address: where it is (EIP, or RIP in 64-bit code), for the targets of relative branches.
 *  Returns the number of characters written; writes "(bad)" for bytes that do not decode. */
X86IRQ_API size_t x86irq_disassemble(x86irq_machine *machine, const uint8_t *bytes,
                                     size_t length, uint64_t address, unsigned mode_bits,
                                     char *buffer, size_t size);

#ifdef __cplusplus
}
#endif

/* the board's own devices (the NIC, the phase and thread ports): their own header, included
 * here so that one include gives the whole API */
#include "x86irq/board.h"

#endif
