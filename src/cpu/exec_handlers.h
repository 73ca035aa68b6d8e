/* Every general instruction handler (exec_*.c), declared from the instruction database
 * (mnemonics.def) for the dispatch table in exec_table.c. A handler several mnemonics share
 * (ud, load_far_pointer...) is declared once per row; C allows the repeats. */
#ifndef X86IRQ_CPU_EXEC_HANDLERS_H
#define X86IRQ_CPU_EXEC_HANDLERS_H

#include "cpu/cpu.h"

#define X(name, text, handler, properties) \
    void x86_exec_##handler(struct x86_cpu *cpu, const struct x86_insn *insn);
#include "mnemonics.def"
#undef X

#endif
