/* UART 16550A (see uart16550.h). Register map, PC16550D datasheet Table II:
 * 0 RBR/THR (DLL with DLAB), 1 IER (DLM with DLAB), 2 IIR/FCR, 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR */
#include "devices/uart16550.h"

#include <string.h>

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MS 0x08
#define IIR_NONE 0x01
#define IIR_RLS 0x06
#define IIR_RDA 0x04
#define IIR_THRE 0x02
#define IIR_MS 0x00

void x86_uart_init(struct x86_uart *uart, x86irq_serial_fn output, void *opaque)
{
    memset(uart, 0, sizeof(*uart));
    uart->lsr = LSR_THRE | LSR_TEMT;
    uart->output = output;
    uart->output_opaque = opaque;
    uart->dll = 0x0C; /* 9600 baud, as after a BIOS */
}

/* The highest-priority pending interrupt, IIR bits 3:0 (datasheet Table IV) */
static uint8_t pending_interrupt(const struct x86_uart *u)
{
    if ((u->ier & IER_RLS) && (u->lsr & LSR_OE))
        return IIR_RLS;
    if ((u->ier & IER_RDA) && (u->lsr & LSR_DR))
        return IIR_RDA;
    if ((u->ier & IER_THRE) && u->thr_interrupt)
        return IIR_THRE;
    if ((u->ier & IER_MS) && (u->msr & 0x0F))
        return IIR_MS;
    return IIR_NONE;
}

static void update_irq(struct x86_uart *u)
{
    /* on a PC the INTRPT output reaches the IRQ line through MCR.OUT2; in loopback the modem
     * outputs (OUT2 with them) are forced inactive, so the line stays low (PC16550D 8.6) */
    bool gate = (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
    int level = gate && pending_interrupt(u) != IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        if (u->irq.set_level)
            u->irq.set_level(u->irq.opaque, u->irq.line, level);
    }
}

void x86_uart_receive(struct x86_uart *u, uint8_t byte)
{
    if (u->rx_count == X86_UART_RX_FIFO) {
        u->lsr |= LSR_OE;
    } else {
        u->rx[(u->rx_head + u->rx_count) % X86_UART_RX_FIFO] = byte;
        u->rx_count++;
        u->lsr |= LSR_DR;
    }
    update_irq(u);
}

uint64_t x86_uart_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_uart *u = opaque;
    (void)size;
    uint8_t v = 0xFF;
    switch (offset) {
    case 0:
        if (u->lcr & LCR_DLAB) {
            v = u->dll;
        } else {
            v = 0;
            if (u->rx_count) {
                v = u->rx[u->rx_head];
                u->rx_head = (uint8_t)((u->rx_head + 1) % X86_UART_RX_FIFO);
                u->rx_count--;
            }
            if (!u->rx_count)
                u->lsr &= (uint8_t)~LSR_DR;
        }
        break;
    case 1:
        v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        break;
    case 2:
        v = (uint8_t)(pending_interrupt(u) | u->iir_fifo);
        /* reading IIR while it reports THRE clears that interrupt (datasheet Table IV) */
        if (pending_interrupt(u) == IIR_THRE)
            u->thr_interrupt = false;
        break;
    case 3: v = u->lcr; break;
    case 4: v = u->mcr; break;
    case 5:
        v = u->lsr;
        u->lsr &= (uint8_t)~LSR_OE; /* overrun clears on read */
        break;
    case 6:
        if (u->mcr & MCR_LOOP) /* loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
            v = (uint8_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
                          ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
        else
            v = 0xB0; /* DCD, DSR, CTS asserted: a connected terminal */
        v |= u->msr & 0x0F;
        u->msr &= 0xF0;
        break;
    case 7: v = u->scr; break;
    }
    update_irq(u);
    return v;
}

void x86_uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_uart *u = opaque;
    (void)size;
    uint8_t v = (uint8_t)value;
    switch (offset) {
    case 0:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
        } else {
            if (u->mcr & MCR_LOOP)
                x86_uart_receive(u, v); /* loopback: the byte comes back on RBR */
            else if (u->output)
                u->output(u->output_opaque, v);
            /* transmission is instantaneous: THR is empty again at once */
            u->thr_interrupt = true;
        }
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            bool thre_enabled = !(u->ier & IER_THRE) && (v & IER_THRE);
            u->ier = v & 0x0F;
            if (thre_enabled && (u->lsr & LSR_THRE))
                u->thr_interrupt = true; /* enabling THRE with an empty THR interrupts */
        }
        break;
    case 2:
        u->fcr = v;
        if (v & 0x02) { /* clear the receive FIFO */
            u->rx_count = 0;
            u->lsr &= (uint8_t)~LSR_DR;
        }
        u->iir_fifo = (v & 0x01) ? 0xC0 : 0x00;
        break;
    case 3: u->lcr = v; break;
    case 4: u->mcr = v & 0x1F; break;
    case 5: break; /* LSR is read-only (factory test writes ignored) */
    case 6: break;
    case 7: u->scr = v; break;
    }
    update_irq(u);
}

x86irq_status x86_uart_attach(struct x86_uart *uart, struct x86_bus *bus, uint16_t base)
{
    return x86_bus_add_ports(bus, base, 8, x86_uart_read, x86_uart_write, uart, "uart16550");
}
