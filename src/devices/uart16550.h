/* UART 16550A (National Semiconductor PC16550D datasheet): the PC's COM ports.
 *
 * Transmission is instant: a byte written to THR goes to the output callback at once, so THR
 * and the transmitter are always empty (LSR THRE and TEMT read 1) and the THRE interrupt is
 * pending again right after each write. Reception is timed: the receiver takes one character
 * per character time (start, data, parity and stop bits from LCR at 115200 / divisor baud;
 * 10 bits with 8N1), converted to cycles exactly from cpu_hz, as events on the machine's queue:
 *
 *   character time = half_bits * divisor * cpu_hz / 230400 cycles
 *
 * (half_bits: the frame in half bits, so 1.5 stop bits are exact). Positions on the line are
 * kept as a cycle plus a remainder in 1/230400 cycle, so a stream of characters does not drift;
 * an event is due at the first cycle at or after its exact time.
 *
 * Host input (x86_uart_host_input) waits in a host-side queue (grown as needed, bounded at
 * X86_UART_HOST_QUEUE_LIMIT bytes, the rest counted as dropped) and is sent one character at a
 * time with lossless RTS/CTS-like flow control: a character starts only while the guest's
 * receiver is "ready" (IER.ERBFI and MCR.RTS set, MCR.LOOP clear, room in the RX FIFO, or in
 * the holding register without FIFOs) and enters the FIFO when its stop bit has been received
 * (held back, not lost, if there is no room then). So input is not consumed before the guest
 * enables receive interrupts, and a slow reader stalls the stream instead of overrunning.
 *
 * The interrupt condition (IIR) is kept up to date on every access and event; it drives the
 * IRQ wire through MCR.OUT2 as a PC wires the INTRPT output.
 */
#ifndef X86IRQ_DEVICES_UART16550_H
#define X86IRQ_DEVICES_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/bus.h"
#include "platform/events.h"
#include "platform/irq.h"

#define X86_UART_RX_FIFO 16
#define X86_UART_HOST_QUEUE_LIMIT (1u << 20)   /* host bytes waiting: 1 MiB */
#define X86_UART_CLOCK_HALF_BITS_PER_SECOND 230400u /* 2 * 115200: the UART's 1.8432 MHz / 16 */

/* A point on the receive line: cycle + fraction / 230400 */
struct x86_uart_time {
    uint64_t cycle;
    uint32_t fraction;
};

struct x86_uart {
    struct x86_irq_wire irq;  /* set_level may be NULL: no interrupt controller connected */
    x86irq_serial_fn output;
    void *output_opaque;

    /* private state follows */
    struct x86_event_queue *events;  /* NULL: no clock (host input moves in on accesses, no
                                        character time-out) */
    const uint64_t *cycles;          /* "now" */
    uint64_t cpu_hz;

    /* registers (PC16550D Table II) */
    uint8_t ier, lcr, mcr, scr;
    uint8_t dll, dlm;
    uint8_t fcr;              /* FIFO enable, DMA mode, RX trigger (bits 0, 3, 6-7) */
    uint8_t lsr_errors;       /* LSR OE, PE, FE, BI: cleared by reading LSR */
    uint8_t msr_inputs;       /* MSR bits 4-7: CTS, DSR, RI, DCD as the chip sees them */
    uint8_t msr_deltas;       /* MSR bits 0-3: DCTS, DDSR, TERI, DDCD: cleared by reading MSR */
    int irq_level;            /* the level last given to irq */

    /* the receiver FIFO (a single holding register without FIFOs) */
    uint8_t rx[X86_UART_RX_FIFO];
    uint8_t rx_head, rx_count;
    uint8_t rbr;              /* the last byte read: RBR keeps it while empty */
    bool timeout_pending;     /* character time-out indication (IIR 0xCC) */
    uint64_t timeout_at;      /* cycle the time-out is due, UINT64_MAX: not armed */
    uint64_t timeout_event;   /* its event id (0: none), due at timeout_event_cycle */
    uint64_t timeout_event_cycle;

    /* the transmitter */
    bool thr_interrupt;       /* THRE interrupt pending (cleared by reading IIR or writing THR) */

    /* the host side of the line */
    uint8_t *host;            /* ring buffer of host bytes not yet sent */
    size_t host_capacity, host_head, host_count;
    uint64_t host_dropped;    /* bytes refused: over the limit or out of memory */
    uint64_t rx_event;        /* the character on the line, 0: none */
    struct x86_uart_time rx_end; /* when its stop bit ends */
};

/* Power-on state (PC16550D Table II "Reset"), divisor 12 (9600 baud) as a BIOS leaves it. No
 * clock: call x86_uart_set_clock to time reception. */
void x86_uart_init(struct x86_uart *uart, x86irq_serial_fn output, void *opaque);
/* Connect the machine's event queue, cycle counter and clock (cpu_hz 0: 1 GHz; clamped to
 * UINT64_MAX / (4 * 24 * 65536), about 2.9 THz, so four frames' time fits in 64 bits). Call
 * once, after x86_uart_init and before the guest runs. */
void x86_uart_set_clock(struct x86_uart *uart, struct x86_event_queue *events,
                        const uint64_t *cycles, uint64_t cpu_hz);
/* Free the host queue, dropping what it still holds (it is also freed whenever it drains); the
 * events in the machine's queue are the queue's. */
void x86_uart_finish(struct x86_uart *uart);
x86irq_status x86_uart_attach(struct x86_uart *uart, struct x86_bus *bus, uint16_t base);

/* Register access (offset 0-7), as the port callbacks do. Wider accesses are split into byte
 * accesses at consecutive offsets; bytes past offset 7 read as all ones. */
uint64_t x86_uart_read(void *opaque, uint64_t offset, unsigned size);
void x86_uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

/* A character completely received now, whatever the flow control (loopback uses it): into the
 * FIFO, or an overrun (LSR OE) when it is full: with FIFOs the new byte is lost, without them
 * it overwrites the holding register (datasheet, LSR bit 1). */
void x86_uart_receive(struct x86_uart *uart, uint8_t byte);

/* Host -> guest: queue bytes for the line (see above). Bytes over the queue limit are dropped
 * and counted. */
void x86_uart_host_input(struct x86_uart *uart, const uint8_t *bytes, size_t n);
/* Host bytes still waiting (not yet in the RX FIFO), and those dropped so far. */
size_t x86_uart_host_pending(const struct x86_uart *uart);
uint64_t x86_uart_host_dropped(const struct x86_uart *uart);

/* One character's time on the line now (LCR and divisor) as a fraction: the numerator over
 * X86_UART_CLOCK_HALF_BITS_PER_SECOND cycles. */
uint64_t x86_uart_character_time(const struct x86_uart *uart);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_uart_timeout_event(void *context, void *opaque);
void x86_uart_receive_event(void *context, void *opaque);

#endif
