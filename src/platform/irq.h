/* Interrupt wires between devices and interrupt controllers. */
#ifndef X86IRQ_PLATFORM_IRQ_H
#define X86IRQ_PLATFORM_IRQ_H

/* An interrupt line: the device calls set_level(opaque, line, level) whenever its output level
 * changes (level 0 or 1). set_level NULL: nothing connected. */
struct x86_irq_wire {
    void (*set_level)(void *opaque, int line, int level);
    void *opaque;
    int line;
};

static inline void x86_irq_wire_set(const struct x86_irq_wire *wire, int level)
{
    if (wire->set_level)
        wire->set_level(wire->opaque, wire->line, level);
}

#endif
