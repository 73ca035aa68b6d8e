/* Intel 8259A programmable interrupt controller, as the PC/AT wires a pair of them: the master at
 * ports 0x20-0x21 with the slave's INT output on its IR2, the slave at 0xA0-0xA1 (ISA IRQ 8-15),
 * and the EISA/PIIX edge/level control registers (ELCR) at 0x4D0-0x4D1.
 *
 * Modelled from the Intel 8259A datasheet (order number 231468): the ICW1-ICW4 initialisation
 * sequence, OCW1-OCW3, priority resolution with rotation, fully nested, special fully nested
 * (master) and special mask modes, edge and level triggering, the cascade, automatic EOI, the
 * poll command and the default (spurious) IR7.
 *
 * The interrupt acknowledge is one atomic call (x86_pic_acknowledge): both INTA pulses of the
 * 8086-mode sequence happen at once, so the IRR "freeze" between them needs no modelling. The
 * MCS-80/85 CALL sequence is not modelled: the vector is formed the 8086 way in either uPM mode.
 */
#ifndef X86IRQ_DEVICES_PIC8259_H
#define X86IRQ_DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/bus.h"
#include "platform/irq.h"

#define X86_PIC_MASTER 0
#define X86_PIC_SLAVE 1
#define X86_PIC_CASCADE_IRQ 2          /* the master IR input the PC/AT wires to the slave's INT */
#define X86_PIC_MASTER_PORT 0x20
#define X86_PIC_SLAVE_PORT 0xA0
#define X86_PIC_ELCR_PORT 0x4D0

/* One 8259A. Fields are the chip's registers; read them through x86_pic_* or the ports. */
struct x86_pic_chip {
    uint8_t input;            /* IR pin levels as last driven */
    uint8_t edge_latch;       /* edge sense latches: set by a rising edge, cleared by the ISR bit
                                 being set (acknowledge) and by ICW1 */
    uint8_t isr;              /* in-service register */
    uint8_t imr;              /* interrupt mask register (OCW1) */
    uint8_t icw1, icw2, icw3, icw4;
    uint8_t lowest_priority;  /* the IR with the lowest priority: 7 unless rotated (OCW2) */
    uint8_t init_step;        /* next initialisation word expected on the data port, 0 = none */
    bool read_isr;            /* OCW3 RR/RIS: the command port reads ISR (else IRR) */
    bool poll;                /* OCW3 P: the next read is a poll acknowledge */
    bool special_mask;        /* OCW3 ESMM/SMM */
    bool rotate_in_auto_eoi;  /* OCW2 R SL EOI = 100 */
    uint8_t index;            /* X86_PIC_MASTER or X86_PIC_SLAVE: the chip finds its pair */
};

/* The master/slave pair. Set output after x86_pic_init (init clears it), as for the UART. */
struct x86_pic_pair {
    struct x86_pic_chip chip[2];  /* [X86_PIC_MASTER], [X86_PIC_SLAVE] */
    uint8_t elcr[2];              /* ELCR1 (IRQ 0-7), ELCR2 (IRQ 8-15): 1 = level-triggered */
    struct x86_irq_wire output;   /* the master's INT pin: to the CPU's INTR / LAPIC LINT0 */
    bool output_level;            /* the level last sent on output */
    bool ir2_driven;              /* IRQ 2 driven directly through x86_pic_set_irq */
    /* called with the vector an EOI command ended (may be NULL; set after x86_pic_init) */
    void (*on_eoi)(void *opaque, uint8_t vector);
    void *eoi_opaque;
};

/* Power-on state. The datasheet leaves the chip undefined until ICW1; we choose every input
 * masked, vector base 0, edge triggering, so nothing reaches the CPU before software
 * initialises the pair. */
void x86_pic_init(struct x86_pic_pair *pic);
/* Register ports 0x20-0x21, 0xA0-0xA1 and the ELCR 0x4D0-0x4D1. Stops at the first failure
 * (the bus's status); ranges already registered stay registered. */
x86irq_status x86_pic_attach(struct x86_pic_pair *pic, struct x86_bus *bus);

/* Drive ISA IRQ 0-15 (level 0 or nonzero); others are ignored. IRQ 2 is the master's IR2 pin,
 * which on the PC/AT only the slave's INT drives: a level set here is ORed with it (the bus's
 * IRQ2-to-IRQ9 redirection is the board's job, not the PIC's). */
void x86_pic_set_irq(struct x86_pic_pair *pic, unsigned irq, int level);
/* The INTA cycle: the vector (0-255) and the IRR/ISR updates, the cascade's vector coming from
 * the slave. A request that went away gives the default IR7 with no ISR bit set: master vector
 * base+7, or, when the master accepted IR2 but the slave has nothing, slave base+7 with the
 * master's ISR bit 2 set. A cascade address no slave answers reads the floating bus, 0xFF. */
int x86_pic_acknowledge(struct x86_pic_pair *pic);
/* The master's INT output level. */
bool x86_pic_output(const struct x86_pic_pair *pic);
/* The interrupt request register of one chip (as an OCW3 IRR read returns it). */
uint8_t x86_pic_irr(const struct x86_pic_pair *pic, unsigned chip);

/* Port callbacks of one chip (offset 0 = command port A0=0, 1 = data port A0=1); opaque is
 * &pair->chip[X86_PIC_MASTER] or &pair->chip[X86_PIC_SLAVE]. Wider accesses are split into
 * byte cycles on consecutive offsets, as the ISA bus does for an 8-bit device. */
uint64_t x86_pic_read(void *opaque, uint64_t offset, unsigned size);
void x86_pic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);
/* ELCR callbacks (offset 0 = 0x4D0, 1 = 0x4D1); opaque is the pair. */
uint64_t x86_pic_elcr_read(void *opaque, uint64_t offset, unsigned size);
void x86_pic_elcr_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

#endif
