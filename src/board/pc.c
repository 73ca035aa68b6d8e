/* The PC board's chipset: the devices at their standard places and how they are wired to
 * the interrupt controllers (docs/devices.md), the NIC and the host on its wire, the state the
 * firmware leaves them in. */
#include "board/board.h"

#include <stdlib.h>
#include <string.h>

#include "board/firmware.h"
#include "machine/machine.h"
#include "trace/emit.h"

static void serial_out(void *opaque, uint8_t byte)
{
    x86irq_machine *m = opaque;
    if (m->serial_fn)
        m->serial_fn(m->serial_opaque, byte);
}

static void debug_exit(void *opaque, uint32_t value)
{
    x86irq_machine *m = opaque;
    m->exit_value = value;
    x86_machine_stop(m, X86IRQ_STOP_DEBUG_EXIT);
}

static void pic_output_changed(void *opaque, int line, int level)
{
    x86irq_machine *m = opaque;
    (void)line;
    if (level && X86_UNLIKELY(m->trace.mask)) {
        /* the 8259 raised INT: the request is the lowest-numbered IRQ in IRR (fully nested
         * priority without rotation; the vector comes with the INTA) */
        uint16_t irr = (uint16_t)(x86_pic_irr(&m->pic, 0) | (x86_pic_irr(&m->pic, 1) << 8));
        irr &= (uint16_t)~0x0004; /* IR2 is the cascade */
        x86_trace_route_8259(&m->trace, irr ? (unsigned)__builtin_ctz(irr) : 2);
    }
    x86_machine_lint0_changed(m);
}

static void pic_eoi(void *opaque, uint8_t vector)
{
    x86irq_machine *m = opaque;
    x86_trace_eoi(&m->trace, NULL, vector, X86_EOI_8259);
}

/* The 8259s as SeaBIOS leaves them for a kernel QEMU boots: vector bases 0x08 (master) and 0x70
 * (slave), cascade on IR2, 8086 mode, every input masked but the cascade and IRQ0 (the BIOS
 * timer tick). A kernel remaps and masks them before it sets IF. */
static void firmware_program_pic(x86irq_machine *m)
{
    static const struct { uint8_t chip, port, value; } sequence[] = {
        { 0, 0, 0x11 }, { 0, 1, 0x08 }, { 0, 1, 0x04 }, { 0, 1, 0x01 },  /* ICW1-4, master */
        { 1, 0, 0x11 }, { 1, 1, 0x70 }, { 1, 1, 0x02 }, { 1, 1, 0x01 },  /* ICW1-4, slave */
        { 0, 1, 0xFA }, { 1, 1, 0xFF },                                  /* OCW1: masks */
    };
    for (size_t i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++)
        x86_pic_write(&m->pic.chip[sequence[i].chip], sequence[i].port, 1, sequence[i].value);
    /* the PCI interrupt (the NIC's INTA on IRQ 11) is level-triggered: the ELCR says so, as
     * SeaBIOS sets it for the PCI IRQs */
    x86_pic_elcr_write(&m->pic, 1, 1, 0x08);
}

static void device_line_changed(void *opaque, int line, int level)
{
    x86_machine_set_gsi(opaque, (unsigned)line, level);
}

/* The PIT's IRQ 0 and the RTC's IRQ 8 are cut off while the HPET's legacy replacement routing
 * takes those lines (IA-PC HPET 1.0a, 2.3.9.2.1) */
static void pit_irq0_changed(void *opaque, int line, int level)
{
    x86irq_machine *m = opaque;
    (void)line;
    m->pit_irq0_level = level;
    if (!m->hpet_legacy)
        x86_machine_set_gsi(m, 0, level);
}

static void rtc_irq8_changed(void *opaque, int line, int level)
{
    x86irq_machine *m = opaque;
    (void)line;
    m->rtc_irq8_level = level;
    if (!m->hpet_legacy)
        x86_machine_set_gsi(m, X86_RTC_IRQ, level);
}

static void hpet_legacy_changed(void *opaque, bool on)
{
    x86irq_machine *m = opaque;
    m->hpet_legacy = on;
    x86_machine_set_gsi(m, 0, on ? 0 : m->pit_irq0_level);
    x86_machine_set_gsi(m, 8, on ? 0 : m->rtc_irq8_level);
}

/* ACPI S5 (the \_S5 object's SLP_TYP) is soft off; the machine has no other sleep state */
static void acpi_sleep(void *opaque, unsigned slp_typ)
{
    if (slp_typ == X86_ACPI_SLP_TYP_S5)
        x86_machine_stop(opaque, X86IRQ_STOP_POWEROFF);
}

/* every reset source of the chipset ends the run; an embedder (or the CLI's --reboot) may
 * create the machine anew */
static void system_reset(void *opaque)
{
    x86_machine_stop(opaque, X86IRQ_STOP_RESET);
}

static void hpet_isa_irq(void *opaque, unsigned irq, int level)
{
    x86_machine_set_gsi(opaque, irq, level);
}

static void hpet_ioapic_pin(void *opaque, unsigned pin, int level)
{
    x86_board_set_ioapic_pin_source(opaque, pin, level);
}

/* The phase marker port (X86IRQ_PHASE_PORT): the guest names the phase of interrupt handling
 * it enters; the thread marker port (X86IRQ_THREAD_PORT): the thread it switched to. Trace
 * events and the nesting rules use both. */
static void phase_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset;
    (void)size;
    if ((value & 0xFF) < X86IRQ_PHASE_COUNT)
        x86_trace_mark_phase(&((x86irq_machine *)opaque)->trace, (uint8_t)value);
}

static void thread_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    /* a 32-bit write at the port itself; narrower or offset writes name no thread */
    if (offset == 0 && size == 4)
        x86_trace_switch(&((x86irq_machine *)opaque)->trace, (uint32_t)value);
}

static void nic_transmitted(void *opaque, const uint8_t *frame, size_t length, uint64_t cycle)
{
    x86irq_machine *m = opaque;
    if (m->net_peer)
        x86_net_peer_transmit(m->net_peer, frame, length, cycle);
    if (m->nic_transmit)
        m->nic_transmit(m->nic_transmit_opaque, frame, length, cycle);
}

/* the peer's frames reach the NIC as frames from the wire do, traced the same way */
static int peer_deliver(void *opaque, const uint8_t *frame, size_t length)
{
    return x86irq_nic_receive(opaque, frame, length) == X86IRQ_OK;
}

/* The NIC as QEMU's pc machine has it: an e1000 at 00:03.0, QEMU's default MAC, INTA routed to
 * GSI 11 (docs/devices.md) */
static bool attach_nic(x86irq_machine *m)
{
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    m->nic = calloc(1, sizeof(*m->nic));
    if (!m->nic)
        return false;
    x86_e1000_init_flags(m->nic, &m->bus, &m->events, &m->clock, m->config.cpu_hz, mac,
                         m->config.nic_msi ? X86_E1000_MSI_CAPABLE : 0);
    m->nic->pci.device = 3;
    m->nic->pci.function = 0;
    m->nic->transmit = nic_transmitted;
    m->nic->transmit_opaque = m;
    if (m->config.nic_peer) {
        m->net_peer = calloc(1, sizeof(*m->net_peer));
        if (!m->net_peer)
            return false;
        x86_net_peer_init(m->net_peer, &m->events, &m->clock, m->config.cpu_hz,
                          peer_deliver, m);
    }
    return x86_machine_add_pci_function(m, &m->nic->pci,
                                        x86_firmware_pci_gsi(m->nic->pci.device, 0)) == X86IRQ_OK;
}

static void testdev_set_line(void *context, unsigned line, int level)
{
    x86_machine_set_gsi(context, line, level);
}

x86irq_status x86_machine_add_pci_function(x86irq_machine *m, struct x86_pci_function *function,
                                           unsigned gsi)
{
    if (!m->has_chipset)
        return X86IRQ_ERR_STATE;
    function->intx = (struct x86_irq_wire){ device_line_changed, m, (int)gsi };
    function->send_msi = x86_board_send_msi;
    function->msi_context = m;
    x86irq_status s = x86_pci_add_function(&m->pci, function);
    if (s == X86IRQ_OK) {
        function->config[X86_PCI_INTERRUPT_LINE] = (uint8_t)gsi; /* as the firmware routes it */
        m->pci_gsi_mask |= 1u << gsi;  /* an INTx# wire: active low at the IOAPIC */
        x86_machine_set_gsi(m, gsi, 0);
    }
    return s;
}

/* What SeaBIOS does for the NIC under QEMU: its memory BAR at 0xFEBC0000 and its I/O BAR at
 * 0xC000 (inside the DSDT's PCI windows), memory and I/O decoding on */
static void firmware_assign_nic_bars(x86irq_machine *m)
{
    uint8_t device = m->nic->pci.device;
    x86_pci_config_write(&m->pci, 0, device, 0, 0x10, 4, 0xFEBC0000u);
    x86_pci_config_write(&m->pci, 0, device, 0, 0x14, 4, 0xC000u);
    x86_pci_config_write(&m->pci, 0, device, 0, 0x04, 2, 0x0003u);
}

/* The ACPI and MP tables describing this board (src/board/firmware.h) */
static bool firmware_tables(x86irq_machine *m)
{
    struct x86_firmware_layout layout = {
        .cpu_count = m->core_count,
        .lapic_base = 0xFEE00000u,
        .ioapic_id = (uint8_t)m->ioapic.id,
        .ioapic_base = X86_IOAPIC_BASE,
        .ioapic_pins = X86_IOAPIC_PINS,
        .pm_base = X86_ACPI_PM_BASE,
        .gpe0_base = X86_ACPI_GPE0_BASE,
        .sci_irq = X86_ACPI_SCI_IRQ,
        .reset_port = X86_RESET_CONTROL_PORT,
        .hpet_base = X86_HPET_BASE,
    };
    if (m->nic) {
        layout.pci_irqs[0].device = m->nic->pci.device;
        layout.pci_irqs[0].pin = 0;
        layout.pci_irqs[0].gsi = (uint8_t)x86_firmware_pci_gsi(m->nic->pci.device, 0);
        layout.pci_irq_count = 1;
    }
    return x86_firmware_build(m->bus.ram, m->bus.ram_size, &layout, m->error,
                              sizeof(m->error));
}

bool x86_board_create_devices(x86irq_machine *m)
{
    if (!m->config.no_default_devices) {
        x86_uart_init(&m->uart, serial_out, m);
        x86_uart_set_clock(&m->uart, &m->events, &m->clock, m->config.cpu_hz);
        x86_debug_exit_init(&m->debug_exit, debug_exit, m);
        if (x86_uart_attach(&m->uart, &m->bus, 0x3F8) != X86IRQ_OK ||
            x86_debug_exit_attach(&m->debug_exit, &m->bus, 0xF4) != X86IRQ_OK ||
            x86_bus_add_ports(&m->bus, X86IRQ_PHASE_PORT, 1, NULL, phase_write, m,
                              "phase-marker") != X86IRQ_OK ||
            x86_bus_add_ports(&m->bus, X86IRQ_THREAD_PORT, 4, NULL, thread_write, m,
                              "thread-marker") != X86IRQ_OK) {
            return false;
        }
    }
    /* the platform as the firmware leaves it (SeaBIOS under QEMU): the BSP's LAPIC in
     * virtual-wire mode (cores.c), the IOAPIC's entries masked */
    if (!m->config.no_default_devices) {
        m->has_chipset = true;
        x86_ioapic_init(&m->ioapic, &m->apic_bus, &m->clock, &m->trace);
        x86_testdev_init(&m->testdev, testdev_set_line, m);
        x86_pic_init(&m->pic);
        m->pic.output = (struct x86_irq_wire){ pic_output_changed, m, 0 };
        m->pic.on_eoi = pic_eoi;
        m->pic.eoi_opaque = m;
        x86_pit_init(&m->pit, &m->events, &m->clock, m->config.cpu_hz);
        x86_pci_bus_init(&m->pci);
        m->pit.irq0 = (struct x86_irq_wire){ pit_irq0_changed, m, 0 };
        x86_hpet_init(&m->hpet, &m->events, &m->clock, m->config.cpu_hz);
        m->hpet.opaque = m;
        m->hpet.set_isa_irq = hpet_isa_irq;
        m->hpet.set_ioapic_pin = hpet_ioapic_pin;
        m->hpet.legacy_changed = hpet_legacy_changed;
        x86_rtc_init(&m->rtc, &m->events, &m->clock, m->config.cpu_hz,
                     m->config.rtc_epoch);
        m->rtc.irq = (struct x86_irq_wire){ rtc_irq8_changed, m, X86_RTC_IRQ };
        x86_acpi_pm_init(&m->acpi_pm, &m->events, &m->clock, m->config.cpu_hz);
        m->acpi_pm.sci = (struct x86_irq_wire){ device_line_changed, m, X86_ACPI_SCI_IRQ };
        m->acpi_pm.sleep = acpi_sleep;
        m->acpi_pm.opaque = m;
        x86_i8042_init(&m->i8042);
        m->i8042.kbd_irq = (struct x86_irq_wire){ device_line_changed, m, 1 };
        m->i8042.aux_irq = (struct x86_irq_wire){ device_line_changed, m, 12 };
        m->i8042.reset = system_reset;
        m->i8042.opaque = m;
        x86_system_control_init(&m->system_control);
        m->system_control.reset = system_reset;
        m->system_control.opaque = m;
        /* COM1's interrupt is ISA IRQ4 (MCR.OUT2 gates it onto the bus, as on a PC) */
        m->uart.irq = (struct x86_irq_wire){ device_line_changed, m, 4 };
        if (x86_ioapic_attach(&m->ioapic, &m->bus) != X86IRQ_OK ||
            x86_testdev_attach(&m->testdev, &m->bus) != X86IRQ_OK ||
            x86_pic_attach(&m->pic, &m->bus) != X86IRQ_OK ||
            x86_pit_attach(&m->pit, &m->bus) != X86IRQ_OK ||
            x86_hpet_attach(&m->hpet, &m->bus) != X86IRQ_OK ||
            x86_acpi_pm_attach(&m->acpi_pm, &m->bus, X86_ACPI_PM_BASE, X86_ACPI_GPE0_BASE) !=
                X86IRQ_OK ||
            x86_i8042_attach(&m->i8042, &m->bus) != X86IRQ_OK ||
            x86_rtc_attach(&m->rtc, &m->bus) != X86IRQ_OK ||
            x86_pci_bus_attach(&m->pci, &m->bus) != X86IRQ_OK ||
            x86_system_control_attach(&m->system_control, &m->bus) != X86IRQ_OK) {
            return false;
        }
    }
    if (m->has_chipset && !attach_nic(m)) {
        return false;
    }
    if (m->has_chipset) {
        /* SeaBIOS's timer: channel 0 in mode 3 with count 65536, IRQ0 at 18.2 Hz. Programmed
         * before the 8259s, whose initialisation forgets the edge of OUT going high: as under
         * QEMU, a kernel finds no IRQ0 pending at entry, and the first tick comes after one
         * period (about 55 ms) */
        x86_pit_write(&m->pit, 3, 1, 0x36);
        x86_pit_write(&m->pit, 0, 1, 0x00);
        x86_pit_write(&m->pit, 0, 1, 0x00);
        firmware_program_pic(m);
        x86_rtc_set_bios_nvram(&m->rtc, m->config.ram_size, 1);
        firmware_assign_nic_bars(m);
        if (!firmware_tables(m))
            return false;
    }
    x86_fw_cfg_init(&m->fw_cfg, m->config.ram_size, m->core_count);
    if (x86_fw_cfg_attach(&m->fw_cfg, &m->bus, 0x510) != X86IRQ_OK) {
        return false;
    }
    return true;
}
