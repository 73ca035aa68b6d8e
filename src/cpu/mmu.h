/* Memory management services beyond the inline fast paths of cpu.h (mmu.c). */
#ifndef X86IRQ_CPU_MMU_H
#define X86IRQ_CPU_MMU_H

#include "cpu/cpu.h"
#include "cpu/limits.h"

/* Linear -> physical for an access; raises #PF (with CR2) when the access is not allowed.
 * user: the access is made with user rights (CPL 3, not an implicit supervisor access).
 * *writable says whether stores to the page may be cached in the TLB. */
bool x86_translate(struct x86_cpu *cpu, uint64_t linear, enum x86_access access, bool user,
                   uint64_t *phys, bool *writable);
/* A write translation through the TLB of the rights given (user: CPL 3's, else CPL 0-2's),
 * walking and filling it on a miss: for the stores an event's delivery makes with the
 * handler's rights (the frame), which are not the current CPL's */
uint64_t x86_translate_write_cached(struct x86_cpu *cpu, uint64_t linear, bool user);
/* Physical access: RAM (keeping decoded code coherent), MMIO, or open bus. */
uint64_t x86_phys_read(struct x86_cpu *cpu, uint64_t phys, unsigned size);
void x86_phys_write(struct x86_cpu *cpu, uint64_t phys, unsigned size, uint64_t value);
/* Implicit supervisor accesses to descriptor tables, the TSS and the IDT, by linear address. */
uint64_t x86_read_system(struct x86_cpu *cpu, uint64_t linear, unsigned size);
void x86_write_system(struct x86_cpu *cpu, uint64_t linear, unsigned size, uint64_t value);
void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t linear);
/* Decoded descriptor-table state is stale from now on (see cpu->table_epoch). */
void x86_tables_changed(struct x86_cpu *cpu);
/* Watch the size bytes at linear (a supervisor read, no fault: false when unmapped, split
 * over two pages, or the watch list is full): a store there calls x86_tables_changed(). */
bool x86_table_watch(struct x86_cpu *cpu, uint64_t linear, unsigned size);
/* Read size bytes at linear as a supervisor read, for the observers: no fault, no accessed or
 * dirty bits set, no effect on the machine. false when unmapped (or in MMIO). */
bool x86_peek(struct x86_cpu *cpu, uint64_t linear, unsigned size, uint64_t *value);
/* The physical address of a linear one as x86_peek() finds it (supervisor, no fault, no
 * accessed bits); false when unmapped. */
bool x86_peek_translate(const struct x86_cpu *cpu, uint64_t linear, uint64_t *phys);
/* Stores to this physical page must take the slow path from now on (it holds code): in every
 * core's TLB (they share the decoded code); x86_tlb_protect_page only in this core's. */
void x86_tlb_protect_code(struct x86_cpu *cpu, uint32_t physical_page);
void x86_tlb_protect_page(struct x86_cpu *cpu, uint32_t physical_page);

#endif
