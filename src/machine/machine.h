/* The machine: its cores, memory and buses, the event queue, devices, and the glue the
 * public API (include/x86irq/x86irq.h) is made of. Internal to the library.
 */
#ifndef X86IRQ_MACHINE_MACHINE_H
#define X86IRQ_MACHINE_MACHINE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "x86irq/x86irq.h"
#include "cpu/cpu.h"
#include "cpu/predecode.h"
#include "platform/bus.h"
#include "platform/events.h"
#include "loader/loader.h"
#include "devices/uart16550.h"
#include "devices/debug_exit.h"
#include "devices/fw_cfg.h"
#include "devices/testdev.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/pci.h"
#include "devices/e1000.h"
#include "devices/net_peer.h"
#include "devices/hpet.h"
#include "devices/acpi_pm.h"
#include "devices/rtc.h"
#include "devices/i8042.h"
#include "devices/system_control.h"
#include "idt/idt.h"
#include "apic/lapic.h"
#include "apic/ioapic.h"
#include "apic/apic_bus.h"
#include "cpu/platform.h"
#include "trace/events.h"

struct x86_disassembler;

/* The embedder's hooks (hooks.c): any number per kind, called in the order added */
struct x86_hook {
    x86irq_hook_handle handle;        /* 0: removed during a call, dropped after it */
    x86irq_hook_kind kind;
    x86irq_hook_filter filter;
    x86irq_hook_fn fn;
    void *user_data;
};
struct x86_hooks {
    struct x86_hook *list;
    size_t count, capacity;
    uint64_t next_handle;
    unsigned calling;                 /* hook calls under way: removals only mark */
    unsigned live[X86IRQ_HOOK_KIND_COUNT]; /* hooks of each kind */
    bool data_access;                 /* MEMORY hooks of reads or writes: the cores watch */
    struct x86_code_ranges *code;     /* INSTRUCTION and MEMORY fetch ranges, for the cores */
};

#define X86_MAX_BREAKPOINTS 64
#define X86_MAX_WATCHPOINTS 64

/* A debugger's watchpoint (x86irq_add_watchpoint): linear bytes [address, address + length) */
struct x86_watchpoint {
    uint64_t address, length;
    uint8_t kind; /* x86irq_watch_kind */
};

/* The watchpoint a stop came from, and the access that hit it */
struct x86_watch_hit {
    bool valid;
    bool write;
    uint8_t kind;
    unsigned size;
    uint64_t watch_address, access_address;
};

/* Where the boot GDT lives (in the EBDA area the Multiboot memory map reports reserved) */
#define X86_BOOT_GDT_ADDRESS 0x9FC00u

/* An event the embedder scheduled through x86irq_schedule_event() */
struct x86_external_event {
    x86irq_event_fn fn;   /* NULL: the slot is free, unless unbound */
    void *opaque;
    uint64_t id;
    bool unbound;         /* restored from a snapshot, waiting for x86irq_rebind_event */
};

/* One processor of the machine: the core and what it owns (its jump cache and IDT dispatch
 * table, its local APIC). The decoded blocks, memory and devices are the machine's. */
struct x86_core {
    struct x86_cpu cpu;               /* first: the hot state */
    struct x86_jump_entry jump_cache[X86_JUMP_CACHE_SIZE] __attribute__((aligned(64)));
    struct x86_gate_cache gates;      /* the IDT dispatch table (src/idt/deliver.c) */
    struct x86_lapic lapic;
    x86irq_machine *machine;
    bool resuming_at_breakpoint;      /* the first instruction of this run is not checked */
    bool awake;                       /* runnable when its round began (run_api.c) */
    bool ran;                         /* has executed in this round */
    /* EIP an embedder set from a callback while this core executes: the instruction in progress
     * would overwrite it, so it is applied at the next boundary (run_api.c) */
    bool eip_pending;
    uint64_t pending_eip;     /* RIP */
};

/* A LAPIC MMIO window the board maps (the running core's LAPIC answers there) */
struct x86_lapic_window {
    x86irq_machine *machine;
    uint32_t base;
};

struct x86irq_machine {
    struct x86_core *cores[X86_MAX_CORES];
    struct x86_cpu *cpus[X86_MAX_CORES]; /* &cores[i]->cpu, for the code cache and the trace */
    unsigned core_count;
    struct x86_core *current;         /* the core that runs (between runs: the last one) */
    uint64_t clock;                   /* the devices' "now" (cpu.h: x86_publish_clock) */
    uint64_t quantum;                 /* cycles each core runs before the next (N > 1) */
    uint64_t window_end;              /* where the cores' present round ends */
    bool window_at_event;             /* ... at an event's cycle (not the budget or quantum) */
    unsigned round_awake;             /* cores awake when the round began */
    bool round_open;                  /* a stop left the round unfinished: the next run goes on
                                         with it, from core round_index of pass round_pass (0
                                         the awake cores, 1 the sleeping ones) */
    unsigned round_pass, round_index;
    uint64_t run_end;                 /* the present x86irq_run's budget: where it stops */
    struct x86_platform platform;     /* what the cores reach outside themselves (board) */
    struct x86_apic_bus apic_bus;
    struct x86_lapic_window lapic_windows[X86_MAX_CORES];
    unsigned lapic_window_count;
    struct x86_code_cache code;
    struct x86_bus bus;
    struct x86_event_queue events;
    x86irq_config config;
    uint16_t cost[X86_COST_CLASS_COUNT]; /* the cycle-cost profile in use */

    struct x86_symbol_table symbols;
    bool image_64bit;                 /* the image loaded is 64-bit code (an ELF64, a bzImage
                                         entered at its 64-bit entry): gdb's default arch */
    bool loaded;                      /* an image was loaded, or the embedder wrote memory or
                                         registers: there is something to run */

    struct x86_uart uart;
    struct x86_debug_exit debug_exit;
    struct x86_fw_cfg fw_cfg;
    struct x86_ioapic ioapic;           /* chipset devices (unless no_default_devices) */
    struct x86_testdev testdev;
    struct x86_pic_pair pic;            /* the 8259A pair, its INT on LINT0 */
    struct x86_pit pit;                 /* the 8254, channel 0 on ISA IRQ0 */
    struct x86_hpet hpet;               /* the HPET at 0xFED00000 */
    struct x86_rtc rtc;                 /* the CMOS clock and NVRAM, IRQ 8 */
    struct x86_acpi_pm acpi_pm;         /* ACPI fixed hardware: PM1, PM timer, GPE0; SCI on 9 */
    struct x86_i8042 i8042;             /* the keyboard controller, IRQ 1 and 12 */
    struct x86_system_control system_control; /* ports 0x92 and 0xCF9 */
    struct x86_pci_bus pci;             /* configuration mechanism #1, the host bridge */
    struct x86_e1000 *nic;              /* the NIC at 00:03.0 (heap: it is large) */
    struct x86_net_peer *net_peer;      /* the host on its wire (config.nic_peer), or NULL */
    x86irq_nic_transmit_fn nic_transmit;
    void *nic_transmit_opaque;
    uint32_t gsi_level;                 /* the level of each platform interrupt line */
    uint32_t pci_gsi_mask;              /* lines that are PCI INTx# wires (active low) */
    uint32_t hpet_pin_level;            /* IOAPIC pins the HPET's routed timers drive */
    bool hpet_legacy;                   /* HPET legacy replacement: PIT and RTC cut off */
    int pit_irq0_level, rtc_irq8_level; /* their outputs, while cut off too */
    bool has_chipset;
    bool embedder_intr;                 /* the INTR level an embedder drives (x86irq_set_intr) */
    int lint0_level;                    /* the LAPICs' LINT0: the 8259's INT or the embedder's */
    struct x86_trace trace;             /* trace events and the nesting tracker */
    uint8_t accept_source;              /* the last INTA's answerer: 0 LAPIC, 1 8259, 2 embedder */

    x86irq_serial_fn serial_fn;
    void *serial_opaque;
    struct x86_external_event *external_events;
    size_t external_event_count;
    size_t unbound_events;            /* slots restored without a function: no run until bound */
    uint64_t breakpoints[X86_MAX_BREAKPOINTS]; /* linear addresses */
    unsigned breakpoint_count;
    struct x86_watchpoint watchpoints[X86_MAX_WATCHPOINTS];
    unsigned watchpoint_count;
    struct x86_watch_hit watch_hit;   /* of the last STOP_WATCHPOINT */
    /* x86irq_step (debug_api.c): the core that steps (-1: none), and where it started */
    int step_cpu;
    uint64_t step_instructions, step_rip, step_cs_base;
    /* x86_machine_run_until (debug_api.c): the core that stops at its first boundary with this
     * many instructions retired (-1: none); the GDB stub's reverse execution replays with it */
    int until_cpu;
    uint64_t until_instructions;
    /* what came in from the host (serial input, NIC frames, lines and NMIs from the embedder):
     * counted, never restored, so a debugger knows whether replaying from a snapshot would miss
     * some */
    uint64_t host_inputs;
    /* x86irq_record_start / x86irq_replay_start (inputs.c): the log being recorded, or the one
     * being replayed (NULL: none); replay_applying while a recorded input is given */
    struct x86_input_log *recording, *replay;
    bool replay_applying;
    bool has_run;                     /* x86irq_run has run (stop_reason is its end) */
    x86irq_intr_acknowledge_fn intr_acknowledge; /* the INTA cycle of an embedder's INTR */
    void *intr_acknowledge_opaque;
    x86irq_instruction_fn instruction_hook;
    void *instruction_hook_opaque;

    x86irq_stop_reason stop_reason;   /* of the last stop */
    int stop_cpu;                     /* the core it came from, -1: the machine's */
    x86irq_stop_reason pending_stop;  /* a stop decided inside the run (debug exit...) */
    bool finished;                    /* debug exit / shutdown: no more runs */
    bool running;                     /* inside x86irq_run (callbacks may be on the stack) */
    unsigned callback_depth;          /* inside a trace hook made outside a run */
    struct x86_core *executing;       /* the core inside x86_cpu_execute, or NULL */
    struct x86_core *hooked_core;     /* the core whose instruction hook is being called */
    x86irq_trace_fn trace_fn;         /* the embedder's trace hook (behind a trampoline) */
    void *trace_opaque;
    uint32_t trace_fn_mask;           /* the kinds it asked for */
    struct x86_hooks hooks;           /* x86irq_hook_add() */
    uint32_t exit_value;

    struct x86_disassembler *disassembler; /* Capstone handles, created on first use */

    char error[512];
};

/* The bootstrap processor's core (the one-core API, unit tests); core i's */
static inline struct x86_cpu *x86_machine_cpu(x86irq_machine *machine)
{
    return &machine->cores[0]->cpu;
}
static inline struct x86_core *x86_machine_core(x86irq_machine *machine, unsigned i)
{
    return machine->cores[i];
}

/* Record an error message (printf-style) and return status. */
x86irq_status x86_machine_error(x86irq_machine *machine, x86irq_status status,
                                const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Inside x86irq_run or one of the machine's callbacks: a call that replaces or frees what the
 * run uses (run, load, destroy, costs, devices) is refused there. */
static inline bool x86_machine_in_callback(const x86irq_machine *machine)
{
    return machine->running || machine->callback_depth;
}
/* X86IRQ_OK outside callbacks; else X86IRQ_ERR_STATE with a message naming `call`. */
x86irq_status x86_machine_outside_callbacks(x86irq_machine *machine, const char *call);

/* Read a whole file (at most 1 GiB) into a malloc'ed buffer; an error names the path. */
x86irq_status x86_machine_read_file(x86irq_machine *machine, const char *path, uint8_t **out,
                                    size_t *out_size);

/* End the run at the next instruction boundary with this reason (debug exit, shutdown...);
 * _on: a reason that comes from one core (a breakpoint, a triple fault). */
void x86_machine_stop(x86irq_machine *machine, x86irq_stop_reason reason);
void x86_machine_stop_on(x86irq_machine *machine, x86irq_stop_reason reason, unsigned cpu);
/* The per-instruction loop's check (the platform's before_instruction): breakpoints, the
 * instruction hook (run_api.c) */
bool x86_machine_before_instruction(x86irq_machine *machine, struct x86_core *core,
                                    const struct x86_insn *insn);
/* The machine's cores need their per-instruction loop (a hook, breakpoints, watchpoints or a
 * step set)? */
void x86_machine_hooks_changed(x86irq_machine *machine);
/* hooks.c: the calls from the cores and the trace into the embedder's hooks */
void x86_machine_hooks_trace(x86irq_machine *machine, const x86irq_trace_event *event);
uint32_t x86_machine_hooks_trace_mask(const x86irq_machine *machine);
void x86_machine_hooks_instruction(x86irq_machine *machine, struct x86_core *core,
                                   const x86irq_instruction_info *info);
bool x86_machine_hooks_want_instruction(const x86irq_machine *machine,
                                        const struct x86_cpu *cpu, uint64_t linear,
                                        unsigned length);
void x86_machine_hooks_memory(x86irq_machine *machine, struct x86_core *core, uint64_t linear,
                              unsigned size, bool write);
void x86_machine_hooks_port(x86irq_machine *machine, struct x86_core *core, uint16_t port,
                            unsigned size, uint32_t value, bool write);
void x86_machine_hooks_free(x86irq_machine *machine);
/* The trace's subscription: the embedder's trace hook and the hooks together (trace_api.c) */
void x86_machine_trace_subscribe(x86irq_machine *machine);
/* Host input (inputs.c): every public call that gives the machine input from the host calls
 * this first. From a callback: counted. Between runs: recorded when recording, and refused
 * (X86IRQ_ERR_STATE) while a recording is replayed, unless the replay is giving it. */
enum x86_input_kind {
    X86_INPUT_SERIAL = 1, X86_INPUT_NIC, X86_INPUT_IRQ_LINE, X86_INPUT_INTR, X86_INPUT_NMI,
    X86_INPUT_INIT,
};
x86irq_status x86_machine_host_input(x86irq_machine *m, enum x86_input_kind kind, uint32_t a,
                                     uint32_t b, const void *bytes, size_t length);
/* x86irq_run under a replay: its runs cut where the recorded inputs were given, those given */
x86irq_status x86_machine_replay_run(x86irq_machine *m, uint64_t max_cycles,
                                     x86irq_stop_reason *reason);
void x86_machine_inputs_free(x86irq_machine *m);
/* x86irq_run without the replay (run_api.c) */
x86irq_status x86_machine_run(x86irq_machine *m, uint64_t max_cycles, x86irq_stop_reason *reason);
struct x86_snapshot_header;
/* The snapshot header's description of the machine (snapshot_state.c) */
void x86_snapshot_describe(const x86irq_machine *m, struct x86_snapshot_header *h);

/* The debugger's checks (debug_api.c): a step that has reached its boundary (true: stop
 * before this instruction), a data access against the watchpoints (the platform's watch) */
bool x86_machine_step_done(x86irq_machine *machine, struct x86_core *core);
/* Run until CPU `cpu` is at its first instruction boundary with `instructions` retired (then
 * X86IRQ_STOP_STEP), or another stop, or the budget; breakpoints and watchpoints stop it as
 * they would a run, except at that boundary itself */
x86irq_status x86_machine_run_until(x86irq_machine *machine, unsigned cpu, uint64_t instructions,
                                    uint64_t max_cycles, x86irq_stop_reason *reason);
void x86_machine_watch(x86irq_machine *machine, struct x86_core *core, uint64_t linear,
                       unsigned size, bool write);

/* The event queue's on_schedule hook (run_api.c) */
void x86_machine_event_scheduled(void *context, uint64_t cycle);
/* The event that runs an embedder's x86irq_schedule_event callback (opaque: its slot) */
void x86_machine_external_event(void *context, void *opaque);

/* Schedule a device's event on the machine's queue (a running slice that would pass the
 * event's cycle ends there: the queue's on_schedule hook). */
uint64_t x86_machine_schedule(x86irq_machine *machine, uint64_t cycle, x86_event_fn fn,
                              void *opaque);

/* Interrupt routing (src/board/routing.c): LINT0 of the BSP's LAPIC from the 8259's output
 * and the embedder's INTR; the INTA cycle on the external bus. */
void x86_machine_lint0_changed(x86irq_machine *machine);
int x86_machine_extint_acknowledge(x86irq_machine *machine);
/* INIT on a core: it and its LAPIC as after INIT (the LAPIC keeps its ID and base); an AP
 * then waits for SIPI. */
void x86_machine_init_signal(x86irq_machine *machine, struct x86_core *core);
/* An interrupt line of the platform: GSI 0-15 are the ISA IRQs (8259 inputs; IOAPIC pins with
 * IRQ0 on pin 2 as the MP/ACPI tables of a PC say), 16-23 IOAPIC pins only. */
void x86_machine_set_gsi(x86irq_machine *machine, unsigned gsi, int level);
/* Another core got something at `time` (a message, an NMI, INIT): the round ends at most a
 * quantum later (run_api.c) */
void x86_machine_bound_round(x86irq_machine *machine, uint64_t time);

/* Put a PCI function on bus 0: its INTA# drives GSI gsi (level, active high as seen by the
 * IOAPIC, as a PC's PCI interrupt router delivers it), its MSI messages go to the local APIC,
 * and the interrupt line register says gsi as the firmware would have written it. */
x86irq_status x86_machine_add_pci_function(x86irq_machine *machine,
                                           struct x86_pci_function *function, unsigned gsi);


#endif
