/* The public serial input call: bytes from the host for COM1's receive line (the UART's host
 * queue and flow control: src/devices/uart16550.h). */
#include "machine/machine.h"

x86irq_status x86irq_serial_input(x86irq_machine *machine, const void *bytes, size_t length)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!bytes && length)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_serial_input: no bytes");
    if (machine->config.no_default_devices)
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "the machine has no UART");
    struct x86_uart *uart = &machine->uart;
    if (length) {
        x86irq_status s = x86_machine_host_input(machine, X86_INPUT_SERIAL, 0, 0, bytes, length);
        if (s != X86IRQ_OK)
            return s;
    }
    uint64_t dropped = x86_uart_host_dropped(uart);
    x86_uart_host_input(uart, bytes, length);
    uint64_t lost = x86_uart_host_dropped(uart) - dropped;
    if (lost)
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY,
                                 "the serial input queue is full (%u bytes): %llu of %zu bytes "
                                 "dropped", X86_UART_HOST_QUEUE_LIMIT, (unsigned long long)lost,
                                 length);
    return X86IRQ_OK;
}
