/* What a core reaches outside itself, filled in by the board (src/board): the calls a core
 * makes to the rest of the machine. The memory and buses, the decoded code the cores share,
 * the trace and the core's own caches are pointers in struct x86_cpu (cpu.h). */
#ifndef X86IRQ_CPU_PLATFORM_H
#define X86IRQ_CPU_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

struct x86_cpu;
struct x86_insn;

struct x86_platform {
    void *opaque;
    /* The INTA cycle: the vector of the external interrupt the core takes now (its local
     * APIC's, or the 8259's through LINT0), or -1 when there is none any more. */
    int (*acknowledge)(void *opaque, struct x86_cpu *cpu);
    /* MSRs outside the core (its local APIC's: IA32_APIC_BASE, TSC_DEADLINE, x2APIC): false
     * for an unknown MSR or a reserved value (the core raises #GP(0)). */
    bool (*read_msr)(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t *value);
    bool (*write_msr)(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t value);
    /* CR8, the task-priority register's class (its local APIC's TPR[7:4], SDM Vol. 3
     * 10.8.6.1): 64-bit mode's mov to and from CR8 */
    uint8_t (*read_cr8)(void *opaque, struct x86_cpu *cpu);
    void (*write_cr8)(void *opaque, struct x86_cpu *cpu, uint8_t value);
    /* INIT was taken at a boundary: the core has reset itself; the rest of the processor (its
     * local APIC) follows. */
    void (*init)(void *opaque, struct x86_cpu *cpu);
    /* A triple fault shut the core down. */
    void (*shutdown)(void *opaque, struct x86_cpu *cpu);
    /* The per-instruction loop's check before each instruction while cpu->hooked (breakpoints,
     * the instruction hook): false stops the run before the instruction. */
    bool (*before_instruction)(void *opaque, struct x86_cpu *cpu, const struct x86_insn *insn);
    /* A data access of size bytes at a linear address, while x86_debug_platform_watch() is on
     * (a debugger's watchpoints): made before the access, from inside the instruction. May be
     * NULL. */
    void (*watch)(void *opaque, struct x86_cpu *cpu, uint64_t linear, unsigned size, bool write);
    /* A port access, after it, while cpu->port_hooked (the embedder's port hooks). May be
     * NULL. */
    void (*port_access)(void *opaque, struct x86_cpu *cpu, uint16_t port, unsigned size,
                        uint32_t value, bool write);
};

#endif
