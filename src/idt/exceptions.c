/* The exception table: one row per vector 0-31 (SDM Vol. 3 6.3.1 Table 6-1; double-fault
 * classes from 6.15 Table 6-4). The core, the tracer and the CLI read this one table. */
#include "idt/idt.h"
#include "x86irq/exceptions.h"

#define ROW(mn, nm, cls, err, df) { mn, nm, X86_CLASS_##cls, err, X86_DF_##df }
const struct x86_exception_info x86_exception_table[32] = {
    ROW("#DE", "divide error", FAULT, 0, CONTRIBUTORY),
    ROW("#DB", "debug", TRAP, 0, BENIGN),           /* fault or trap by condition */
    ROW("NMI", "non-maskable interrupt", INTERRUPT, 0, BENIGN),
    ROW("#BP", "breakpoint", TRAP, 0, BENIGN),
    ROW("#OF", "overflow", TRAP, 0, BENIGN),
    ROW("#BR", "BOUND range exceeded", FAULT, 0, BENIGN),
    ROW("#UD", "invalid opcode", FAULT, 0, BENIGN),
    ROW("#NM", "device not available", FAULT, 0, BENIGN),
    ROW("#DF", "double fault", ABORT, 1, BENIGN),
    ROW("#MP", "coprocessor segment overrun", ABORT, 0, BENIGN),
    ROW("#TS", "invalid TSS", FAULT, 1, CONTRIBUTORY),
    ROW("#NP", "segment not present", FAULT, 1, CONTRIBUTORY),
    ROW("#SS", "stack-segment fault", FAULT, 1, CONTRIBUTORY),
    ROW("#GP", "general protection", FAULT, 1, CONTRIBUTORY),
    ROW("#PF", "page fault", FAULT, 1, PAGE_FAULT),
    ROW("#15", "reserved", RESERVED, 0, BENIGN),
    ROW("#MF", "x87 floating-point error", FAULT, 0, BENIGN),
    ROW("#AC", "alignment check", FAULT, 1, BENIGN),
    ROW("#MC", "machine check", ABORT, 0, BENIGN),
    ROW("#XM", "SIMD floating-point", FAULT, 0, BENIGN),
    ROW("#VE", "virtualization", FAULT, 0, BENIGN),
    ROW("#CP", "control protection", FAULT, 1, CONTRIBUTORY),
    ROW("#22", "reserved", RESERVED, 0, BENIGN),
    ROW("#23", "reserved", RESERVED, 0, BENIGN),
    ROW("#24", "reserved", RESERVED, 0, BENIGN),
    ROW("#25", "reserved", RESERVED, 0, BENIGN),
    ROW("#26", "reserved", RESERVED, 0, BENIGN),
    ROW("#27", "reserved", RESERVED, 0, BENIGN),
    ROW("#HV", "hypervisor injection", FAULT, 0, BENIGN),
    ROW("#VC", "VMM communication", FAULT, 1, BENIGN),
    ROW("#SX", "security", FAULT, 1, BENIGN),
    ROW("#31", "reserved", RESERVED, 0, BENIGN),
};

x86irq_status x86irq_exception_describe(unsigned vector, x86irq_exception_info *info)
{
    if (vector >= 32 || !info)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    const struct x86_exception_info *e = &x86_exception_table[vector];
    info->size = sizeof(*info);
    info->mnemonic = e->mnemonic;
    info->name = e->name;
    info->exception_class = (x86irq_exception_class)e->class_;
    info->has_error_code = e->has_error_code;
    info->double_fault_class = (x86irq_double_fault_class)e->double_fault_class;
    return X86IRQ_OK;
}

_Static_assert((int)X86IRQ_CLASS_RESERVED == (int)X86_CLASS_RESERVED &&
                   (int)X86IRQ_CLASS_TRAP == (int)X86_CLASS_TRAP,
               "public and internal exception classes must agree");
_Static_assert((int)X86IRQ_DF_PAGE_FAULT == (int)X86_DF_PAGE_FAULT,
               "public and internal double-fault classes must agree");
