/* libx86irq: the exception table, machine-readable.
 *
 * One row per vector 0-31 (SDM Vol. 3 6.3.1, Table 6-1, and 6.15, Table 6-4): mnemonic, name,
 * class, whether an error code is pushed, and the double-fault class. The core, the tracer,
 * the CLI and docs read this one table.
 */
#ifndef X86IRQ_EXCEPTIONS_H
#define X86IRQ_EXCEPTIONS_H

#include "x86irq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum x86irq_exception_class {
    X86IRQ_CLASS_FAULT,      /**< saved EIP is the faulting instruction: restartable */
    X86IRQ_CLASS_TRAP,       /**< saved EIP is the next instruction */
    X86IRQ_CLASS_ABORT,      /**< not restartable (#DF, #MC) */
    X86IRQ_CLASS_INTERRUPT,  /**< NMI */
    X86IRQ_CLASS_RESERVED,
} x86irq_exception_class;

typedef enum x86irq_double_fault_class {
    X86IRQ_DF_BENIGN,
    X86IRQ_DF_CONTRIBUTORY,
    X86IRQ_DF_PAGE_FAULT,
} x86irq_double_fault_class;

typedef struct x86irq_exception_info {
    size_t size;                          /**< out: sizeof(x86irq_exception_info) of the library */
    const char *mnemonic;                 /**< "#GP" */
    const char *name;                     /**< "general protection" */
    x86irq_exception_class exception_class;
    int has_error_code;                   /**< non-zero: the CPU pushes an error code */
    x86irq_double_fault_class double_fault_class;
} x86irq_exception_info;

/** Fill *info for vector 0-31. X86IRQ_ERR_INVALID_ARGUMENT for other vectors or NULL. */
X86IRQ_API x86irq_status x86irq_exception_describe(unsigned vector, x86irq_exception_info *info);

#ifdef __cplusplus
}
#endif

#endif
