/* The core's run loop (run.c). */
#ifndef X86IRQ_CPU_RUN_H
#define X86IRQ_CPU_RUN_H

#include <stdbool.h>

#include "x86irq/x86irq.h"
#include "cpu/cpu.h"

/* Execute until cpu->cycle_limit or an exit request; exceptions are delivered. */
void x86_cpu_execute(struct x86_cpu *cpu);
/* Execute exactly one instruction at CS:EIP, for tests: an exception it raises (or a software
 * interrupt) is NOT delivered; it is returned in *raised with false, state precise. */
bool x86_cpu_step(struct x86_cpu *cpu, struct x86_fault *raised);
/* Deliver an event with the double-fault rules (SDM Vol. 3 6.15). */
void x86_cpu_deliver(struct x86_cpu *cpu, const struct x86_fault *event);
/* Would an NMI or INTR be taken at the next boundary (shadows aside)? Wakes HLT. */
bool x86_cpu_event_deliverable(const struct x86_cpu *cpu);
/* Decode the instruction at CS:EIP through the MMU, without the block cache. */
void x86_cpu_decode_uncached(struct x86_cpu *cpu, struct x86_insn *insn);

#endif
