/* Sizes and limits that several layers size their tables by. */
#ifndef X86IRQ_CPU_LIMITS_H
#define X86IRQ_CPU_LIMITS_H

/* cores a machine may have (x86irq_config.cpus): APIC IDs 0..X86_MAX_CORES-1 */
#define X86_MAX_CORES 64 /* at most 64: a uint64_t holds a bit per core (predecode.h) */

/* the architecture's small page (SDM Vol. 3 4.3) */
#define X86_PAGE_SIZE 4096u

#endif
