/* PCI configuration mechanism #1, the host bridge and the generic PCI function (see pci.h).
 *
 * References are to the PCI Local Bus Specification, Revision 3.0:
 *   3.2.2.3.2  configuration mechanism #1 (CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at 0xCFC)
 *   6.1        configuration space organization (the type 0 header)
 *   6.2.1      device identification (vendor, device, revision, class, header type)
 *   6.2.2      device control (the command register)
 *   6.2.3      device status (the status register)
 *   6.2.4      miscellaneous registers (cache line size, latency timer, interrupt line and pin)
 *   6.2.5      base addresses (BAR layout and the sizing procedure)
 *   6.7        capabilities list
 *   6.8.1      the MSI capability structure
 * and to the Intel SDM Vol. 3, 10.11, for the MSI address and data formats.
 */
#include "devices/pci.h"

#include <string.h>

/* CONFIG_ADDRESS (3.2.2.3.2): bit 31 enable, 30:24 reserved, 23:16 bus, 15:11 device,
 * 10:8 function, 7:2 register; bits 1:0 read as 0 (type 0 translation is implied) */
#define CONFIG_ADDRESS_PORT 0xCF8
#define CONFIG_PORT_COUNT 8
#define CONFIG_DATA_OFFSET 4        /* 0xCFC relative to 0xCF8 */
#define CONFIG_ADDRESS_ENABLE 0x80000000u
#define CONFIG_ADDRESS_IMPLEMENTED 0x80FFFFFCu

#define PCI_DEVICES_PER_BUS 32
#define PCI_FUNCTIONS_PER_DEVICE 8
#define PCI_CONFIG_SIZE 256

/* header registers pci.h does not name (6.1) */
#define CACHE_LINE_SIZE 0x0C
#define LATENCY_TIMER 0x0D
#define BAR_LAST_BYTE (X86_PCI_BAR0 + 4 * X86_PCI_BARS - 1)
#define HEADER_TYPE_MULTI_FUNCTION 0x80

/* command bits software may change (6.2.2): I/O space, memory space, bus master, parity error
 * response (bit 6), SERR# enable (bit 8), interrupt disable (bit 10). The rest are hardwired
 * to 0: no special cycles, no memory write and invalidate, no VGA snooping, no fast
 * back-to-back. */
#define COMMAND_PARITY_ERROR_RESPONSE 0x0040
#define COMMAND_SERR_ENABLE 0x0100
#define COMMAND_WRITABLE                                                                      \
    (X86_PCI_COMMAND_IO | X86_PCI_COMMAND_MEMORY | X86_PCI_COMMAND_BUS_MASTER |               \
     COMMAND_PARITY_ERROR_RESPONSE | COMMAND_SERR_ENABLE | X86_PCI_COMMAND_INTX_DISABLE)

/* status error bits, write 1 to clear (6.2.3): master data parity error (8), signaled target
 * abort (11), received target abort (12), received master abort (13), signaled system error
 * (14), detected parity error (15). Interrupt status, capabilities list, 66 MHz, fast
 * back-to-back and DEVSEL timing are read-only. */
#define STATUS_WRITE_ONE_TO_CLEAR 0xF900

/* BAR low bits (6.2.5.1): bit 0 space indicator; for memory, bits 2:1 type (00: 32-bit
 * anywhere) and bit 3 prefetchable, all 0 here */
#define BAR_IO_SPACE 0x1u
#define BAR_IO_FLAGS 0x3u
#define BAR_MEMORY_FLAGS 0xFu

/* the MSI capability (6.8.1): ID, next pointer, message control, a 32-bit message address and
 * a 16-bit message data (no 64-bit address, no per-vector masking: 10 bytes) */
#define MSI_CAPABILITY_OFFSET 0x40
#define MSI_CAPABILITY_ID 0x05
#define MSI_CONTROL 2
#define MSI_ADDRESS 4
#define MSI_DATA 8
#define MSI_CAPABILITY_SIZE 10
#define MSI_CONTROL_ENABLE 0x0001

/* the MSI address and data formats (SDM Vol. 3, 10.11.1 and 10.11.2) */
#define MSI_ADDRESS_MASK 0xFFF00000u
#define MSI_ADDRESS_BASE 0xFEE00000u
#define MSI_ADDRESS_DESTINATION_SHIFT 12
#define MSI_ADDRESS_DESTINATION_MODE 0x4u
#define MSI_DATA_DELIVERY_SHIFT 8
#define MSI_DATA_DELIVERY_MASK 0x7u
#define MSI_DATA_ASSERT 0x4000u
#define MSI_DATA_TRIGGER_LEVEL 0x8000u

/* the 440FX host bridge's identity (Intel 82441FX PMC data sheet) */
#define HOST_BRIDGE_VENDOR 0x8086
#define HOST_BRIDGE_DEVICE 0x1237
#define CLASS_BRIDGE 0x06
#define SUBCLASS_HOST_BRIDGE 0x00

#define INTERRUPT_LINE_UNKNOWN 0xFF

/* little-endian access to the configuration space (6.1: the space is little-endian) */
static uint16_t config_get16(const struct x86_pci_function *function, unsigned offset)
{
    return (uint16_t)(function->config[offset] | function->config[offset + 1] << 8);
}

static uint32_t config_get32(const struct x86_pci_function *function, unsigned offset)
{
    return (uint32_t)config_get16(function, offset) |
           (uint32_t)config_get16(function, offset + 2) << 16;
}

static void config_put16(struct x86_pci_function *function, unsigned offset, uint16_t value)
{
    function->config[offset] = (uint8_t)value;
    function->config[offset + 1] = (uint8_t)(value >> 8);
}

static void config_put32(struct x86_pci_function *function, unsigned offset, uint32_t value)
{
    config_put16(function, offset, (uint16_t)value);
    config_put16(function, offset + 2, (uint16_t)(value >> 16));
}

static uint16_t command_of(const struct x86_pci_function *function)
{
    return config_get16(function, X86_PCI_COMMAND);
}

static bool is_power_of_two(uint32_t value)
{
    return value != 0 && (value & (value - 1)) == 0;
}

/* ---- the function's header ---------------------------------------------------------------- */

void x86_pci_function_init(struct x86_pci_function *function, uint16_t vendor, uint16_t device_id,
                           uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                           uint8_t interrupt_pin, bool with_msi)
{
    /* only the header state is reset: the wiring (device/function numbers, intx, send_msi,
     * ops, device) belongs to the caller and may be filled before or after this call */
    memset(function->config, 0, sizeof(function->config));
    memset(function->bar_size, 0, sizeof(function->bar_size));
    memset(function->bar_io, 0, sizeof(function->bar_io));
    function->msi_offset = 0;
    function->intx_level = false;

    config_put16(function, X86_PCI_VENDOR_ID, vendor);
    config_put16(function, X86_PCI_DEVICE_ID, device_id);
    function->config[X86_PCI_REVISION] = 0;
    function->config[X86_PCI_CLASS_PROG] = prog_if;
    function->config[X86_PCI_CLASS_PROG + 1] = subclass;
    function->config[X86_PCI_CLASS_PROG + 2] = class_code;
    function->config[X86_PCI_HEADER_TYPE] = 0x00; /* type 0, single function until a sibling */
    function->config[X86_PCI_INTERRUPT_PIN] = interrupt_pin;
    /* 6.2.4: the line is written by configuration software; 0xFF means "unknown or not
     * connected" on x86 until then */
    function->config[X86_PCI_INTERRUPT_LINE] = INTERRUPT_LINE_UNKNOWN;

    if (with_msi) {
        /* 6.7: the capabilities list bit in status says 0x34 holds the first capability */
        config_put16(function, X86_PCI_STATUS, X86_PCI_STATUS_CAPABILITIES);
        function->config[X86_PCI_CAPABILITIES] = MSI_CAPABILITY_OFFSET;
        function->msi_offset = MSI_CAPABILITY_OFFSET;
        function->config[MSI_CAPABILITY_OFFSET] = MSI_CAPABILITY_ID;
        function->config[MSI_CAPABILITY_OFFSET + 1] = 0; /* end of the list */
        /* message control 0: disabled, one message capable (MMC 000), one enabled (MME 000),
         * 32-bit address only (bit 7 clear), no per-vector masking (bit 8 clear) */
        config_put16(function, MSI_CAPABILITY_OFFSET + MSI_CONTROL, 0);
    }
}

void x86_pci_set_bar(struct x86_pci_function *function, unsigned bar, uint32_t size, bool io)
{
    if (bar >= X86_PCI_BARS)
        return;
    /* 6.2.5.1: memory BARs claim at least 16 bytes, I/O BARs at least 4; the size is what the
     * hardwired-zero low bits encode, so it must be a power of two */
    uint32_t minimum = io ? 4 : 16;
    if (!is_power_of_two(size) || size < minimum) {
        function->bar_size[bar] = 0;
        function->bar_io[bar] = false;
        config_put32(function, X86_PCI_BAR0 + 4 * bar, 0); /* unimplemented: reads 0 */
        return;
    }
    function->bar_size[bar] = size;
    function->bar_io[bar] = io;
    config_put32(function, X86_PCI_BAR0 + 4 * bar, io ? BAR_IO_SPACE : 0);
}

uint64_t x86_pci_bar_base(const struct x86_pci_function *function, unsigned bar)
{
    if (bar >= X86_PCI_BARS || function->bar_size[bar] == 0)
        return 0;
    /* 6.2.2: with its space disabled in the command register the function decodes nothing */
    uint16_t space = function->bar_io[bar] ? X86_PCI_COMMAND_IO : X86_PCI_COMMAND_MEMORY;
    if (!(command_of(function) & space))
        return 0;
    uint32_t flags = function->bar_io[bar] ? BAR_IO_FLAGS : BAR_MEMORY_FLAGS;
    return config_get32(function, X86_PCI_BAR0 + 4 * bar) & ~flags;
}

bool x86_pci_bus_master(const struct x86_pci_function *function)
{
    return (command_of(function) & X86_PCI_COMMAND_BUS_MASTER) != 0;
}

bool x86_pci_msi_enabled(const struct x86_pci_function *function)
{
    if (!function->msi_offset)
        return false;
    return (config_get16(function, function->msi_offset + MSI_CONTROL) & MSI_CONTROL_ENABLE) != 0;
}

/* ---- INTx and MSI ------------------------------------------------------------------------- */

/* What INTA# carries: the status register's interrupt status gated by interrupt disable
 * (6.2.2 bit 10, 6.2.3 bit 3) */
static bool intx_output(const struct x86_pci_function *function)
{
    return (config_get16(function, X86_PCI_STATUS) & X86_PCI_STATUS_INTERRUPT) &&
           !(command_of(function) & X86_PCI_COMMAND_INTX_DISABLE);
}

/* Bring status bit 3 and the INTx wire in line with the device's request, the command
 * register and MSI enable. A function with MSI enabled must not use INTx (6.8.1.3), so its
 * pending request shows neither on the pin nor in the status bit; if software disables MSI
 * again while the request stands, INTx takes it over, as the condition is a level. */
static void update_intx(struct x86_pci_function *function, bool old_output)
{
    uint16_t status = config_get16(function, X86_PCI_STATUS);
    if (function->intx_level && !x86_pci_msi_enabled(function))
        status |= X86_PCI_STATUS_INTERRUPT;
    else
        status &= (uint16_t)~X86_PCI_STATUS_INTERRUPT;
    config_put16(function, X86_PCI_STATUS, status);
    bool output = intx_output(function);
    if (output != old_output)
        x86_irq_wire_set(&function->intx, output ? 1 : 0);
}

bool x86_msi_decode(uint32_t address, uint32_t data, struct x86_msi_message *message)
{
    /* SDM Vol. 3 10.11.1: an MSI is a memory write to 0xFEExxxxx */
    if ((address & MSI_ADDRESS_MASK) != MSI_ADDRESS_BASE)
        return false;
    message->destination = (uint8_t)(address >> MSI_ADDRESS_DESTINATION_SHIFT);
    message->logical = (address & MSI_ADDRESS_DESTINATION_MODE) != 0;
    /* 10.11.2: vector 7:0, delivery mode 10:8, level (assert) 14, trigger mode 15 */
    message->vector = (uint8_t)data;
    message->delivery_mode = (uint8_t)((data >> MSI_DATA_DELIVERY_SHIFT) & MSI_DATA_DELIVERY_MASK);
    message->assert = (data & MSI_DATA_ASSERT) != 0;
    message->level = (data & MSI_DATA_TRIGGER_LEVEL) != 0;
    return true;
}

static void send_msi(struct x86_pci_function *function)
{
    uint32_t address = config_get32(function, function->msi_offset + MSI_ADDRESS);
    uint32_t data = config_get16(function, function->msi_offset + MSI_DATA);
    struct x86_msi_message message;
    /* a message address outside the APIC range is a memory write nothing answers: dropped */
    if (!x86_msi_decode(address, data, &message))
        return;
    if (function->send_msi)
        function->send_msi(function->msi_context, &message);
}

void x86_pci_set_interrupt(struct x86_pci_function *function, bool level)
{
    bool old_output = intx_output(function);
    bool rising = level && !function->intx_level;
    function->intx_level = level;
    if (x86_pci_msi_enabled(function)) {
        /* 6.8: MSI is edge-like, one message per new interrupt condition */
        if (rising)
            send_msi(function);
    }
    update_intx(function, old_output);
}

/* ---- configuration writes ----------------------------------------------------------------- */

/* How software may change the byte at offset: bits it can set freely (writable) and bits a 1
 * clears (write_one_to_clear). BARs are merged whole here and masked afterwards. */
static void byte_write_masks(const struct x86_pci_function *function, unsigned offset,
                             uint8_t *writable, uint8_t *write_one_to_clear)
{
    *writable = 0;
    *write_one_to_clear = 0;
    switch (offset) {
    case X86_PCI_COMMAND:
    case X86_PCI_COMMAND + 1:
        *writable = (uint8_t)(COMMAND_WRITABLE >> (8 * (offset - X86_PCI_COMMAND)));
        return;
    case X86_PCI_STATUS:
    case X86_PCI_STATUS + 1:
        *write_one_to_clear = (uint8_t)(STATUS_WRITE_ONE_TO_CLEAR >> (8 * (offset - X86_PCI_STATUS)));
        return;
    case CACHE_LINE_SIZE:
    case LATENCY_TIMER:
    case X86_PCI_INTERRUPT_LINE:
        /* 6.2.4: plain read/write registers for configuration software */
        *writable = 0xFF;
        return;
    default:
        break;
    }
    if (offset >= X86_PCI_BAR0 && offset <= BAR_LAST_BYTE) {
        if (function->bar_size[(offset - X86_PCI_BAR0) / 4])
            *writable = 0xFF;
        return;
    }
    if (function->msi_offset && offset >= function->msi_offset &&
        offset < (unsigned)function->msi_offset + MSI_CAPABILITY_SIZE) {
        unsigned field = offset - function->msi_offset;
        if (field == MSI_CONTROL)
            *writable = MSI_CONTROL_ENABLE; /* multiple message enable stays 000: one vector */
        else if (field == MSI_ADDRESS)
            *writable = 0xFC; /* 6.8.1.4: address bits 1:0 are reserved, read as 0 */
        else if (field > MSI_ADDRESS && field < MSI_DATA + 2)
            *writable = 0xFF; /* address 31:8 and the 16-bit message data */
    }
}

/* Re-apply a BAR's hardwired bits after software merged bytes into it (6.2.5.1): the bits below
 * the size read 0 and the type bits stay, so writing all ones reads back the size mask. */
static void mask_bar(struct x86_pci_function *function, unsigned bar)
{
    uint32_t size = function->bar_size[bar];
    if (!size)
        return;
    unsigned offset = X86_PCI_BAR0 + 4 * bar;
    uint32_t value = config_get32(function, offset) & ~(size - 1);
    if (function->bar_io[bar])
        value |= BAR_IO_SPACE;
    else
        value &= ~BAR_MEMORY_FLAGS; /* 32-bit, not prefetchable */
    config_put32(function, offset, value);
}

static void function_write(struct x86_pci_function *function, unsigned offset, unsigned size,
                           uint32_t value)
{
    uint64_t old_base[X86_PCI_BARS];
    for (unsigned bar = 0; bar < X86_PCI_BARS; bar++)
        old_base[bar] = x86_pci_bar_base(function, bar);
    uint16_t old_command = command_of(function);
    bool old_output = intx_output(function);

    bool bar_touched[X86_PCI_BARS] = { false };
    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++) {
        unsigned at = offset + i;
        uint8_t byte = (uint8_t)(value >> (8 * i));
        uint8_t writable, write_one_to_clear;
        byte_write_masks(function, at, &writable, &write_one_to_clear);
        uint8_t current = function->config[at];
        current = (uint8_t)((current & ~writable) | (byte & writable));
        current = (uint8_t)(current & ~(byte & write_one_to_clear));
        function->config[at] = current;
        if (at >= X86_PCI_BAR0 && at <= BAR_LAST_BYTE)
            bar_touched[(at - X86_PCI_BAR0) / 4] = true;
    }
    for (unsigned bar = 0; bar < X86_PCI_BARS; bar++)
        if (bar_touched[bar])
            mask_bar(function, bar);

    /* MSI enable may have changed: INTx gives way to MSI or takes the request back */
    update_intx(function, old_output);

    const struct x86_pci_ops *ops = function->ops;
    for (unsigned bar = 0; bar < X86_PCI_BARS; bar++) {
        uint64_t base = x86_pci_bar_base(function, bar);
        if (base != old_base[bar] && ops && ops->bar_moved)
            ops->bar_moved(function, bar, base);
    }
    if (command_of(function) != old_command && ops && ops->command_changed)
        ops->command_changed(function, old_command);
}

/* ---- the bus ------------------------------------------------------------------------------ */

static struct x86_pci_function *find_function(struct x86_pci_bus *pci, uint8_t device,
                                              uint8_t function)
{
    if (device == pci->host_bridge.device && function == pci->host_bridge.function)
        return &pci->host_bridge;
    for (unsigned i = 0; i < pci->function_count; i++)
        if (pci->functions[i]->device == device && pci->functions[i]->function == function)
            return pci->functions[i];
    return NULL;
}

void x86_pci_bus_init(struct x86_pci_bus *pci)
{
    memset(pci, 0, sizeof(*pci));
    x86_pci_function_init(&pci->host_bridge, HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE, CLASS_BRIDGE,
                          SUBCLASS_HOST_BRIDGE, 0x00, 0, false);
    pci->host_bridge.device = 0;
    pci->host_bridge.function = 0;
}

x86irq_status x86_pci_add_function(struct x86_pci_bus *pci, struct x86_pci_function *function)
{
    if (!function || function->device >= PCI_DEVICES_PER_BUS ||
        function->function >= PCI_FUNCTIONS_PER_DEVICE)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    if (find_function(pci, function->device, function->function))
        return X86IRQ_ERR_CONFLICT;
    if (pci->function_count >= X86_PCI_MAX_FUNCTIONS)
        return X86IRQ_ERR_NO_MEMORY; /* the fixed table is full */
    pci->functions[pci->function_count++] = function;
    /* 6.2.1: software probes functions 1-7 only when function 0's header type has bit 7 set */
    struct x86_pci_function *first = find_function(pci, function->device, 0);
    if (first && first != function)
        first->config[X86_PCI_HEADER_TYPE] |= HEADER_TYPE_MULTI_FUNCTION;
    if (function->function == 0)
        for (unsigned sibling = 1; sibling < PCI_FUNCTIONS_PER_DEVICE; sibling++)
            if (find_function(pci, function->device, (uint8_t)sibling))
                function->config[X86_PCI_HEADER_TYPE] |= HEADER_TYPE_MULTI_FUNCTION;
    return X86IRQ_OK;
}

static uint32_t all_ones(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

uint32_t x86_pci_config_read(struct x86_pci_bus *pci, uint8_t bus, uint8_t device, uint8_t function,
                             uint8_t offset, unsigned size)
{
    if (size > 4)
        size = 4;
    /* 3.2.2.3.2: only bus 0 exists (no PCI-to-PCI bridges); a configuration read nobody
     * claims ends in a master abort, which returns all ones */
    struct x86_pci_function *target = bus == 0 ? find_function(pci, device, function) : NULL;
    if (!target)
        return all_ones(size);
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned at = (unsigned)offset + i;
        uint8_t byte = at < PCI_CONFIG_SIZE ? target->config[at] : 0xFF;
        value |= (uint32_t)byte << (8 * i);
    }
    return value;
}

void x86_pci_config_write(struct x86_pci_bus *pci, uint8_t bus, uint8_t device, uint8_t function,
                          uint8_t offset, unsigned size, uint32_t value)
{
    if (size > 4)
        size = 4;
    struct x86_pci_function *target = bus == 0 ? find_function(pci, device, function) : NULL;
    if (target)
        function_write(target, offset, size, value);
}

/* ---- the ports 0xCF8-0xCFF (3.2.2.3.2) ---------------------------------------------------- */

static uint64_t config_port_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_pci_bus *pci = opaque;
    if (offset < CONFIG_DATA_OFFSET) {
        /* only a dword access at 0xCF8 is CONFIG_ADDRESS; byte and word accesses there are
         * ordinary I/O nothing claims */
        if (offset == 0 && size == 4)
            return pci->address;
        return all_ones(size);
    }
    /* with the enable bit clear, CONFIG_DATA is an ordinary port too */
    if (!(pci->address & CONFIG_ADDRESS_ENABLE))
        return all_ones(size);
    unsigned lane = (unsigned)offset - CONFIG_DATA_OFFSET;
    /* bytes past 0xCFF belong to other ports, unclaimed: all ones */
    unsigned inside = size < 4 - lane ? size : 4 - lane;
    uint32_t value = x86_pci_config_read(pci, (uint8_t)(pci->address >> 16),
                                         (uint8_t)((pci->address >> 11) & 0x1F),
                                         (uint8_t)((pci->address >> 8) & 0x7),
                                         (uint8_t)((pci->address & 0xFC) + lane), inside);
    if (inside < size)
        value |= all_ones(size) & ~all_ones(inside);
    return value;
}

static void config_port_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_pci_bus *pci = opaque;
    if (offset < CONFIG_DATA_OFFSET) {
        if (offset == 0 && size == 4)
            pci->address = (uint32_t)value & CONFIG_ADDRESS_IMPLEMENTED;
        return;
    }
    if (!(pci->address & CONFIG_ADDRESS_ENABLE))
        return;
    unsigned lane = (unsigned)offset - CONFIG_DATA_OFFSET;
    unsigned inside = size < 4 - lane ? size : 4 - lane;
    x86_pci_config_write(pci, (uint8_t)(pci->address >> 16),
                         (uint8_t)((pci->address >> 11) & 0x1F),
                         (uint8_t)((pci->address >> 8) & 0x7),
                         (uint8_t)((pci->address & 0xFC) + lane), inside, (uint32_t)value);
}

/* CONFIG_DATA on its own range: 0xCF9 between the two is the chipset's reset control
 * register (src/devices/system_control.c), and 0xCFA-0xCFB are nobody's */
static uint64_t config_data_read(void *opaque, uint64_t offset, unsigned size)
{
    return config_port_read(opaque, offset + CONFIG_DATA_OFFSET, size);
}

static void config_data_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    config_port_write(opaque, offset + CONFIG_DATA_OFFSET, size, value);
}

x86irq_status x86_pci_bus_attach(struct x86_pci_bus *pci, struct x86_bus *bus)
{
    /* an access goes to the range of its first port: a dword at 0xCF8 is CONFIG_ADDRESS */
    x86irq_status s = x86_bus_add_ports(bus, CONFIG_ADDRESS_PORT, 1, config_port_read,
                                        config_port_write, pci, "pci-config-address");
    if (s != X86IRQ_OK)
        return s;
    return x86_bus_add_ports(bus, CONFIG_ADDRESS_PORT + CONFIG_DATA_OFFSET,
                             CONFIG_PORT_COUNT - CONFIG_DATA_OFFSET, config_data_read,
                             config_data_write, pci, "pci-config-data");
}
