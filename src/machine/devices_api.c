/* The public calls of devices: the embedder's own on ports and MMIO, COM1's output, the NIC. */
#include "machine/machine.h"
#include "trace/emit.h"

#include "cpu/mmu.h"

#include <stddef.h>
#include <string.h>

x86irq_status x86irq_add_port_device(x86irq_machine *machine, uint16_t base, uint32_t count,
                                     x86irq_device_read_fn read, x86irq_device_write_fn write,
                                     void *opaque)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    /* the bus may be dispatching to a device now: its tables must not move under it */
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_add_port_device");
    if (refused != X86IRQ_OK)
        return refused;
    x86irq_status s = x86_bus_add_ports(&machine->bus, base, count, read, write, opaque,
                                        "external");
    if (s != X86IRQ_OK)
        return x86_machine_error(machine, s, "ports 0x%x+%u: %s", base, count,
                                 x86irq_status_string(s));
    return X86IRQ_OK;
}

x86irq_status x86irq_add_mmio_device(x86irq_machine *machine, uint64_t base, uint64_t size,
                                     x86irq_device_read_fn read, x86irq_device_write_fn write,
                                     void *opaque)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    /* the bus may be dispatching to a device now: its tables must not move under it */
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_add_mmio_device");
    if (refused != X86IRQ_OK)
        return refused;
    x86irq_status s = x86_bus_add_mmio(&machine->bus, base, size, read, write, opaque,
                                       "external");
    if (s != X86IRQ_OK)
        return x86_machine_error(machine, s, "MMIO 0x%llx+0x%llx: %s",
                                 (unsigned long long)base, (unsigned long long)size,
                                 x86irq_status_string(s));
    /* the TLB never caches MMIO, but a stale RAM mapping cannot exist there either */
    for (unsigned i = 0; i < machine->core_count; i++)
        x86_tlb_flush(&machine->cores[i]->cpu);
    return X86IRQ_OK;
}

void x86irq_set_serial_output(x86irq_machine *machine, x86irq_serial_fn fn, void *opaque)
{
    if (!machine)
        return;
    machine->serial_fn = fn;
    machine->serial_opaque = opaque;
}

/* ------------------------------------------------------------------ the NIC */

x86irq_status x86irq_nic_receive(x86irq_machine *machine, const void *frame, size_t length)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (!frame && length)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT, "x86irq_nic_receive: no frame");
    if (!machine->nic)
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "the machine has no NIC");
    if (length < 14 || length > X86_E1000_MAX_FRAME)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "a frame of %zu bytes (14 to %u)", length, X86_E1000_MAX_FRAME);
    x86irq_status s = x86_machine_host_input(machine, X86_INPUT_NIC, 0, 0, frame, length);
    if (s != X86IRQ_OK)
        return s;
    x86_trace_device(&machine->trace, NULL, 0, (uint32_t)length, "NIC: a frame arrived");
    if (!x86_e1000_receive(machine->nic, frame, length))
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "the NIC dropped the frame");
    return X86IRQ_OK;
}

x86irq_status x86irq_nic_get_statistics(x86irq_machine *machine, x86irq_nic_statistics *stats)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    /* the first version ends with transmit_dropped; a later one adds fields after it */
    size_t first = offsetof(x86irq_nic_statistics, transmit_dropped) + sizeof(uint64_t);
    if (!stats || stats->size < first)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT,
                                 "x86irq_nic_get_statistics: no statistics or a size below %zu",
                                 first);
    if (!machine->nic)
        return x86_machine_error(machine, X86IRQ_ERR_STATE, "the machine has no NIC");
    const struct x86_e1000 *nic = machine->nic;
    const struct x86_e1000_drops *d = &nic->drops;
    x86irq_nic_statistics all = {
        .size = stats->size < sizeof(all) ? stats->size : sizeof(all),
        .received = nic->frames_received,
        .transmitted = nic->frames_transmitted,
        .receiver_disabled = d->receiver_disabled,
        .link_down = d->link_down,
        .undersize = d->undersize,
        .oversize = d->oversize,
        .filtered = d->filtered,
        .no_bus_master = d->no_bus_master,
        .no_descriptors = d->no_descriptors,
        .receive_dma_error = d->receive_dma_error,
        .transmit_dropped = d->transmit_dma_error + d->transmit_oversize +
                            d->transmit_unsupported + d->transmit_link_down,
    };
    memcpy(stats, &all, all.size);
    return X86IRQ_OK;
}

void x86irq_set_nic_transmit(x86irq_machine *machine, x86irq_nic_transmit_fn fn, void *opaque)
{
    if (!machine)
        return;
    machine->nic_transmit = fn;
    machine->nic_transmit_opaque = opaque;
}
