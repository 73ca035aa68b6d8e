/* UART 16550A (see uart16550.h). Register map, PC16550D datasheet Table II:
 * 0 RBR/THR (DLL with DLAB), 1 IER (DLM with DLAB), 2 IIR/FCR, 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR */
#include "devices/uart16550.h"

#include <stdlib.h>
#include <string.h>

#define LCR_WORD_LENGTH 0x03
#define LCR_STOP_BITS 0x04
#define LCR_PARITY 0x08
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_WRITABLE 0x1F
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_ERRORS 0x1E          /* OE, PE, FE, BI: the receiver line status interrupt */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MS 0x08
#define IER_WRITABLE 0x0F        /* bits 4-7 are always 0 on the 16550 */
#define IIR_NONE 0x01
#define IIR_RLS 0x06
#define IIR_RDA 0x04
#define IIR_TIMEOUT 0x0C
#define IIR_THRE 0x02
#define IIR_MS 0x00
#define IIR_FIFOS 0xC0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_KEPT 0xC9            /* enable, DMA mode select, RX trigger: what FCR remembers */

#define HOST_QUEUE_FIRST 4096u
#define FRACTION X86_UART_CLOCK_HALF_BITS_PER_SECOND
#define MAX_HALF_BITS 24u        /* 1 start, 8 data, parity, 2 stop */
#define MAX_DIVISOR 65536u
#define TIMEOUT_CHARACTERS 4u

/* The host connected to COM1 is a terminal that is always ready: CTS, DSR and DCD asserted,
 * no ring. */
#define HOST_MODEM_INPUTS (MSR_CTS | MSR_DSR | MSR_DCD)

static uint64_t now(const struct x86_uart *u)
{
    return u->cycles ? *u->cycles : 0;
}

static bool fifo_enabled(const struct x86_uart *u)
{
    return (u->fcr & FCR_ENABLE) != 0;
}

static unsigned rx_capacity(const struct x86_uart *u)
{
    return fifo_enabled(u) ? X86_UART_RX_FIFO : 1u;
}

/* FCR bits 7-6: the RX FIFO trigger level (datasheet Table III note) */
static unsigned rx_trigger(const struct x86_uart *u)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return levels[u->fcr >> 6];
}

/* ------------------------------------------------------------------ time on the line */

/* The frame in half bits: start, 5-8 data bits, parity, 1, 1.5 (5-bit words) or 2 stop bits
 * (datasheet LCR bits 0-3) */
static unsigned frame_half_bits(uint8_t lcr)
{
    unsigned word = 5u + (lcr & LCR_WORD_LENGTH);
    unsigned parity = (lcr & LCR_PARITY) ? 1u : 0u;
    unsigned stop_half = (lcr & LCR_STOP_BITS) ? (word == 5 ? 3u : 4u) : 2u;
    return 2u * (1u + word + parity) + stop_half;
}

uint64_t x86_uart_character_time(const struct x86_uart *u)
{
    unsigned divisor = (unsigned)u->dll | ((unsigned)u->dlm << 8);
    if (divisor == 0)
        divisor = MAX_DIVISOR; /* the 16-bit divide-by-N counter wraps */
    return (uint64_t)frame_half_bits(u->lcr) * divisor * u->cpu_hz;
}

static struct x86_uart_time time_after(struct x86_uart_time t, uint64_t numerator)
{
    uint64_t whole = numerator / FRACTION;
    uint32_t part = (uint32_t)(numerator % FRACTION);
    t.fraction += part;
    if (t.fraction >= FRACTION) {
        t.fraction -= FRACTION;
        whole++;
    }
    t.cycle = t.cycle > UINT64_MAX - whole ? UINT64_MAX : t.cycle + whole;
    return t;
}

/* the first cycle at or after t */
static uint64_t cycle_at(struct x86_uart_time t)
{
    return t.fraction && t.cycle != UINT64_MAX ? t.cycle + 1 : t.cycle;
}

/* ------------------------------------------------------------------ interrupts */

/* The highest-priority pending interrupt, IIR bits 3:0 (datasheet Table IV). The time-out
 * shares the RDA priority; bit 3 shows it whenever it is pending. */
static uint8_t pending_interrupt(const struct x86_uart *u)
{
    if ((u->ier & IER_RLS) && (u->lsr_errors & LSR_ERRORS))
        return IIR_RLS;
    if (u->ier & IER_RDA) {
        if (u->timeout_pending)
            return IIR_TIMEOUT;
        if (u->rx_count && u->rx_count >= (fifo_enabled(u) ? rx_trigger(u) : 1u))
            return IIR_RDA;
    }
    if ((u->ier & IER_THRE) && u->thr_interrupt)
        return IIR_THRE;
    if ((u->ier & IER_MS) && u->msr_deltas)
        return IIR_MS;
    return IIR_NONE;
}

static void update_irq(struct x86_uart *u)
{
    /* on a PC the INTRPT output reaches the IRQ line through the OUT2 pin; in loopback the
     * modem control outputs, OUT2 with them, are forced inactive (datasheet MCR bit 4), so the
     * line stays low though the interrupts still work inside the chip */
    bool gate = (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
    int level = gate && pending_interrupt(u) != IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        x86_irq_wire_set(&u->irq, level);
    }
}

/* ------------------------------------------------------------------ character time-out */

void x86_uart_timeout_event(void *context, void *opaque);

static void disarm_timeout(struct x86_uart *u)
{
    u->timeout_at = UINT64_MAX;
    if (u->timeout_event) {
        x86_events_cancel(u->events, u->timeout_event);
        u->timeout_event = 0;
    }
}

/* Restart the time-out timer from t (a read, or the end of a received character): with FIFOs
 * and something in the FIFO, the indication comes 4 character times later unless the FIFO is
 * read or receives meanwhile (datasheet "FIFO Interrupt Mode Operation"). */
static void restart_timeout(struct x86_uart *u, struct x86_uart_time t)
{
    if (!u->events || !fifo_enabled(u) || !u->rx_count) {
        disarm_timeout(u);
        return;
    }
    u->timeout_at = cycle_at(time_after(t, TIMEOUT_CHARACTERS * x86_uart_character_time(u)));
    if (u->timeout_event && u->timeout_event_cycle <= u->timeout_at)
        return; /* the pending event comes first and moves itself on to timeout_at */
    if (u->timeout_event)
        x86_events_cancel(u->events, u->timeout_event);
    u->timeout_event = x86_events_schedule(u->events, u->timeout_at, x86_uart_timeout_event, u);
    u->timeout_event_cycle = u->timeout_at;
}

void x86_uart_timeout_event(void *context, void *opaque)
{
    struct x86_uart *u = opaque;
    (void)context;
    u->timeout_event = 0;
    if (u->timeout_at == UINT64_MAX)
        return;
    if (u->timeout_at > u->timeout_event_cycle) { /* restarted since it was scheduled */
        u->timeout_event = x86_events_schedule(u->events, u->timeout_at, x86_uart_timeout_event, u);
        u->timeout_event_cycle = u->timeout_at;
        return;
    }
    u->timeout_at = UINT64_MAX;
    if (fifo_enabled(u) && u->rx_count)
        u->timeout_pending = true;
    update_irq(u);
}

/* ------------------------------------------------------------------ the receiver */

static void rx_push(struct x86_uart *u, uint8_t byte, struct x86_uart_time at)
{
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr_errors |= LSR_OE;
        if (!fifo_enabled(u)) /* 16450 mode: the new character replaces the unread one */
            u->rx[u->rx_head] = byte;
    } else {
        u->rx[(u->rx_head + u->rx_count) % X86_UART_RX_FIFO] = byte;
        u->rx_count++;
    }
    restart_timeout(u, at);
}

static void rx_clear(struct x86_uart *u)
{
    u->rx_count = 0;
    u->rx_head = 0;
    u->timeout_pending = false;
    disarm_timeout(u);
}

void x86_uart_receive(struct x86_uart *u, uint8_t byte)
{
    rx_push(u, byte, (struct x86_uart_time){ now(u), 0 });
    update_irq(u);
}

/* The guest's receiver is ready for the sender's next character (the flow control of
 * uart16550.h): receive interrupts enabled, RTS asserted, not in loopback, room for a byte. */
static bool receiver_ready(const struct x86_uart *u)
{
    return (u->ier & IER_RDA) && (u->mcr & MCR_RTS) && !(u->mcr & MCR_LOOP) &&
           u->rx_count < rx_capacity(u);
}

/* The receiver can store a character that has arrived: not in loopback (the serial input is
 * disconnected then) and room in the FIFO. */
static bool receiver_can_store(const struct x86_uart *u)
{
    return !(u->mcr & MCR_LOOP) && u->rx_count < rx_capacity(u);
}

static uint8_t host_pop(struct x86_uart *u)
{
    uint8_t byte = u->host[u->host_head];
    u->host_head = (u->host_head + 1) % u->host_capacity;
    if (--u->host_count == 0)
        x86_uart_finish(u); /* drained: give the memory back (a large input may be 1 MiB) */
    return byte;
}

void x86_uart_receive_event(void *context, void *opaque);

static void send_next(struct x86_uart *u, struct x86_uart_time start)
{
    u->rx_end = time_after(start, x86_uart_character_time(u));
    u->rx_event = x86_events_schedule(u->events, cycle_at(u->rx_end), x86_uart_receive_event, u);
}

/* Start the host's next character if the line is idle and the receiver is ready. Without a
 * clock, characters move in at once, as many as fit. */
static void rx_kick(struct x86_uart *u)
{
    if (u->rx_event || !u->host_count || !receiver_ready(u))
        return;
    if (!u->events) {
        while (u->host_count && receiver_ready(u))
            rx_push(u, host_pop(u), (struct x86_uart_time){ now(u), 0 });
        return;
    }
    send_next(u, (struct x86_uart_time){ now(u), 0 });
}

/* The stop bit of the character on the line has ended */
void x86_uart_receive_event(void *context, void *opaque)
{
    struct x86_uart *u = opaque;
    (void)context;
    u->rx_event = 0;
    if (u->host_count && receiver_can_store(u))
        rx_push(u, host_pop(u), u->rx_end);
    /* otherwise it stays queued: the lossless flow control resends it later */
    if (u->host_count && receiver_ready(u))
        send_next(u, u->rx_end); /* back to back */
    update_irq(u);
}

/* ------------------------------------------------------------------ the modem lines */

/* The modem status inputs: in loopback the MCR outputs, as the datasheet maps them (DTR -> DSR,
 * RTS -> CTS, OUT1 -> RI, OUT2 -> DCD); otherwise the host's terminal. */
static uint8_t modem_inputs(uint8_t mcr)
{
    if (!(mcr & MCR_LOOP))
        return HOST_MODEM_INPUTS;
    return (uint8_t)(((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0) |
                     ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0));
}

/* MSR bits 0-3 record changes of the inputs since MSR was last read: DCTS, DDSR, DDCD on any
 * change, TERI when RI goes from on to off (its pin from low to high: "trailing edge"). */
static void set_modem_inputs(struct x86_uart *u, uint8_t inputs)
{
    uint8_t changed = u->msr_inputs ^ inputs;
    if (changed & MSR_CTS)
        u->msr_deltas |= 0x01;
    if (changed & MSR_DSR)
        u->msr_deltas |= 0x02;
    if ((u->msr_inputs & MSR_RI) && !(inputs & MSR_RI))
        u->msr_deltas |= 0x04;
    if (changed & MSR_DCD)
        u->msr_deltas |= 0x08;
    u->msr_inputs = inputs;
}

/* ------------------------------------------------------------------ registers */

static uint8_t read_rbr(struct x86_uart *u)
{
    if (u->rx_count) {
        u->rbr = u->rx[u->rx_head];
        u->rx_head = (uint8_t)((u->rx_head + 1) % X86_UART_RX_FIFO);
        u->rx_count--;
        /* a read clears the time-out indication and restarts its timer */
        u->timeout_pending = false;
        restart_timeout(u, (struct x86_uart_time){ now(u), 0 });
        rx_kick(u);
    }
    return u->rbr;
}

static uint8_t read_register(struct x86_uart *u, unsigned offset)
{
    switch (offset) {
    case 0:
        return (u->lcr & LCR_DLAB) ? u->dll : read_rbr(u);
    case 1:
        return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case 2: {
        uint8_t id = pending_interrupt(u);
        /* reading IIR while it reports THRE clears that interrupt (datasheet Table IV) */
        if (id == IIR_THRE)
            u->thr_interrupt = false;
        return (uint8_t)(id | (fifo_enabled(u) ? IIR_FIFOS : 0));
    }
    case 3:
        return u->lcr;
    case 4:
        return u->mcr;
    case 5: {
        /* THRE and TEMT always: the transmitter is never busy. Bit 7 (an error in the FIFO)
         * and PE, FE, BI stay 0: the line carries no errors. */
        uint8_t v = (uint8_t)(LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0) | u->lsr_errors);
        u->lsr_errors = 0;
        return v;
    }
    case 6: {
        uint8_t v = (uint8_t)(u->msr_inputs | u->msr_deltas);
        u->msr_deltas = 0;
        return v;
    }
    case 7:
        return u->scr;
    default:
        return 0xFF;
    }
}

static void write_thr(struct x86_uart *u, uint8_t v)
{
    if (u->mcr & MCR_LOOP)
        rx_push(u, v, (struct x86_uart_time){ now(u), 0 }); /* looped back to the receiver */
    else if (u->output)
        u->output(u->output_opaque, v);
    /* transmission is instantaneous: THR is empty again at once */
    u->thr_interrupt = true;
}

static void write_fcr(struct x86_uart *u, uint8_t v)
{
    /* changing FCR0 (the FIFO mode) clears the FIFOs; the other bits are programmed only
     * together with FCR0 = 1 (datasheet FCR bit 0) */
    if ((v ^ u->fcr) & FCR_ENABLE)
        rx_clear(u);
    if (v & FCR_ENABLE) {
        u->fcr = v & FCR_KEPT;
        if (v & FCR_CLEAR_RX)
            rx_clear(u);
        /* bit 2 clears the transmit FIFO: always empty */
    } else {
        u->fcr &= (uint8_t)~FCR_ENABLE;
    }
}

static void write_register(struct x86_uart *u, unsigned offset, uint8_t v)
{
    switch (offset) {
    case 0:
        if (u->lcr & LCR_DLAB)
            u->dll = v;
        else
            write_thr(u, v);
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            uint8_t before = u->ier;
            u->ier = v & IER_WRITABLE;
            /* enabling THRE with an empty THR interrupts at once (whatever an earlier IIR
             * read cleared): Linux's THRE test in serial8250_do_startup expects it each time
             * IER.ETBEI goes from 0 to 1 */
            if ((u->ier ^ before) & IER_THRE)
                u->thr_interrupt = (u->ier & IER_THRE) != 0;
        }
        break;
    case 2:
        write_fcr(u, v);
        break;
    case 3:
        u->lcr = v;
        break;
    case 4:
        u->mcr = v & MCR_WRITABLE;
        set_modem_inputs(u, modem_inputs(u->mcr));
        break;
    default: /* LSR, MSR: writes ignored (LSR is for factory test); SCR */
        if (offset == 7)
            u->scr = v;
        break;
    }
    rx_kick(u);
}

uint64_t x86_uart_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_uart *u = opaque;
    uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint64_t at = offset + i;
        value |= (uint64_t)(at < 8 ? read_register(u, (unsigned)at) : 0xFF) << (8 * i);
    }
    update_irq(u);
    return value;
}

void x86_uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_uart *u = opaque;
    for (unsigned i = 0; i < size && i < 8; i++)
        if (offset + i < 8)
            write_register(u, (unsigned)(offset + i), (uint8_t)(value >> (8 * i)));
    update_irq(u);
}

/* ------------------------------------------------------------------ host input */

static bool host_reserve(struct x86_uart *u, size_t needed)
{
    if (needed <= u->host_capacity)
        return true;
    size_t capacity = u->host_capacity ? u->host_capacity : HOST_QUEUE_FIRST;
    while (capacity < needed)
        capacity *= 2;
    if (capacity > X86_UART_HOST_QUEUE_LIMIT)
        capacity = X86_UART_HOST_QUEUE_LIMIT;
    uint8_t *grown = malloc(capacity);
    if (!grown)
        return false;
    for (size_t i = 0; i < u->host_count; i++) /* unwrap the ring */
        grown[i] = u->host[(u->host_head + i) % u->host_capacity];
    free(u->host);
    u->host = grown;
    u->host_capacity = capacity;
    u->host_head = 0;
    return true;
}

void x86_uart_host_input(struct x86_uart *u, const uint8_t *bytes, size_t n)
{
    if (!bytes)
        n = 0;
    size_t room = X86_UART_HOST_QUEUE_LIMIT - u->host_count;
    size_t take = n < room ? n : room;
    if (take && !host_reserve(u, u->host_count + take))
        take = 0;
    for (size_t i = 0; i < take; i++)
        u->host[(u->host_head + u->host_count + i) % u->host_capacity] = bytes[i];
    u->host_count += take;
    u->host_dropped += n - take;
    rx_kick(u);
    update_irq(u);
}

size_t x86_uart_host_pending(const struct x86_uart *u)
{
    return u->host_count;
}

uint64_t x86_uart_host_dropped(const struct x86_uart *u)
{
    return u->host_dropped;
}

/* ------------------------------------------------------------------ setup */

void x86_uart_init(struct x86_uart *uart, x86irq_serial_fn output, void *opaque)
{
    memset(uart, 0, sizeof(*uart));
    uart->output = output;
    uart->output_opaque = opaque;
    uart->dll = 0x0C; /* 9600 baud, as after a BIOS */
    uart->cpu_hz = 1000000000ull;
    uart->msr_inputs = modem_inputs(0);
    uart->timeout_at = UINT64_MAX;
}

void x86_uart_set_clock(struct x86_uart *uart, struct x86_event_queue *events,
                        const uint64_t *cycles, uint64_t cpu_hz)
{
    const uint64_t limit = UINT64_MAX / ((uint64_t)TIMEOUT_CHARACTERS * MAX_HALF_BITS * MAX_DIVISOR);
    uart->events = events;
    uart->cycles = cycles;
    uart->cpu_hz = cpu_hz == 0 ? 1000000000ull : cpu_hz > limit ? limit : cpu_hz;
    rx_kick(uart);
}

void x86_uart_finish(struct x86_uart *uart)
{
    free(uart->host);
    uart->host = NULL;
    uart->host_capacity = uart->host_count = uart->host_head = 0;
}

x86irq_status x86_uart_attach(struct x86_uart *uart, struct x86_bus *bus, uint16_t base)
{
    return x86_bus_add_ports(bus, base, 8, x86_uart_read, x86_uart_write, uart, "uart16550");
}
