/* Descriptor-table services shared by segment loads, delivery (src/idt) and task switches. */
#ifndef X86IRQ_CPU_SEGMENT_H
#define X86IRQ_CPU_SEGMENT_H

#include "cpu/cpu.h"

/* Protected mode and not virtual-8086 mode */
bool x86_protected_mode(const struct x86_cpu *cpu);
/* The 8-byte descriptor a selector names in the GDT or LDT; *address gets its linear address.
 * Raises #GP(selector) when it lies beyond the table's limit. */
uint64_t x86_read_descriptor(struct x86_cpu *cpu, uint16_t selector, uint64_t *address);
/* Fill a segment cache from a code/data descriptor */
void x86_descriptor_to_cache(uint64_t descriptor, uint16_t selector, struct x86_segment *s);
/* The descriptor of a stack segment for privilege level cpl (SDM Vol. 2 IRET, RET, CALL): a
 * null selector is bad_vector(0); RPL and DPL not cpl, or not a writable data segment,
 * bad_vector(selector) (#TS or #GP, whichever the instruction says); not present #SS(selector). */
uint64_t x86_stack_segment_descriptor(struct x86_cpu *cpu, uint16_t selector, uint8_t cpl,
                                      uint8_t bad_vector, uint64_t *address);
/* Change CPL (flushes the TLB: cached page rights depend on it) */
void x86_set_cpl(struct x86_cpu *cpu, uint8_t cpl);

#endif
