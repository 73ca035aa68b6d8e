/* UART 16550A (National Semiconductor PC16550D datasheet): the PC's COM ports.
 * Transmitted bytes go to an output callback at once; the interrupt condition (IIR) is kept up
 * to date so an IRQ wire can be connected by the interrupt controllers. */
#ifndef X86IRQ_DEVICES_UART16550_H
#define X86IRQ_DEVICES_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"


#define X86_UART_RX_FIFO 16

struct x86_uart {
    uint8_t ier, iir_fifo, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t dll, dlm;
    uint8_t rx[X86_UART_RX_FIFO];
    uint8_t rx_head, rx_count;
    bool thr_interrupt;       /* THRE interrupt pending (cleared by reading IIR or writing THR) */
    int irq_level;
    struct x86_irq_wire irq;  /* set_level may be NULL: no interrupt controller connected */
    x86irq_serial_fn output;
    void *output_opaque;
};

void x86_uart_init(struct x86_uart *uart, x86irq_serial_fn output, void *opaque);
x86irq_status x86_uart_attach(struct x86_uart *uart, struct x86_bus *bus, uint16_t base);
/* Register access (offset 0-7), as the port callbacks do */
uint64_t x86_uart_read(void *opaque, uint64_t offset, unsigned size);
void x86_uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);
/* Host -> guest: a received byte (dropped with an overrun when the FIFO is full) */
void x86_uart_receive(struct x86_uart *uart, uint8_t byte);

#endif
