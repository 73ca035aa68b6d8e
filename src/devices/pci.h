/* PCI: configuration mechanism #1 (ports 0xCF8/0xCFC), a host bridge at 00:00.0, and the
 * generic part of a PCI function every device model shares: its 256-byte configuration space
 * with the standard header (vendor/device/class, command, status, BARs sized by writing all
 * ones, interrupt line and pin), a capability list with an MSI capability, INTx with the
 * command register's INTx-disable and the status register's interrupt status, and MSI messages
 * (address and data decoded into destination, vector, delivery mode and trigger).
 *
 * A device model (the e1000, ...) embeds a struct x86_pci_function, fills its identity and BAR
 * sizes, and is told when software moves a BAR or changes the command register; it signals its
 * interrupt condition through x86_pci_set_interrupt, which uses MSI when the guest enabled it
 * and INTx otherwise.
 */
#ifndef X86IRQ_DEVICES_PCI_H
#define X86IRQ_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/bus.h"
#include "platform/irq.h"

#define X86_PCI_MAX_FUNCTIONS 8
#define X86_PCI_BARS 6

/* configuration space offsets (PCI Local Bus Specification 3.0, 6.1) */
#define X86_PCI_VENDOR_ID 0x00
#define X86_PCI_DEVICE_ID 0x02
#define X86_PCI_COMMAND 0x04
#define X86_PCI_STATUS 0x06
#define X86_PCI_REVISION 0x08
#define X86_PCI_CLASS_PROG 0x09
#define X86_PCI_HEADER_TYPE 0x0E
#define X86_PCI_BAR0 0x10
#define X86_PCI_SUBSYSTEM_VENDOR 0x2C
#define X86_PCI_SUBSYSTEM_ID 0x2E
#define X86_PCI_CAPABILITIES 0x34
#define X86_PCI_INTERRUPT_LINE 0x3C
#define X86_PCI_INTERRUPT_PIN 0x3D

/* command and status bits */
#define X86_PCI_COMMAND_IO 0x0001
#define X86_PCI_COMMAND_MEMORY 0x0002
#define X86_PCI_COMMAND_BUS_MASTER 0x0004
#define X86_PCI_COMMAND_INTX_DISABLE 0x0400
#define X86_PCI_STATUS_INTERRUPT 0x0008
#define X86_PCI_STATUS_CAPABILITIES 0x0010

/* A decoded MSI message (SDM Vol. 3 10.11: address 0xFEExxxxx, data) */
struct x86_msi_message {
    uint8_t destination;      /* address bits 19:12 */
    bool logical;             /* address bit 2 (destination mode) */
    uint8_t vector;           /* data bits 7:0 */
    uint8_t delivery_mode;    /* data bits 10:8 */
    bool level;               /* data bit 15 (trigger mode) */
    bool assert;              /* data bit 14 */
};

struct x86_pci_function;

/* What a device model is told */
struct x86_pci_ops {
    /* BAR i now decodes at base (memory or I/O, as its type says); base 0: unmapped. The
     * device (re)registers its MMIO or port range. May be NULL. */
    void (*bar_moved)(struct x86_pci_function *function, unsigned bar, uint64_t base);
    /* the command register changed (memory/io space enable, bus master, INTx disable) */
    void (*command_changed)(struct x86_pci_function *function, uint16_t old_command);
};

struct x86_pci_function {
    uint8_t config[256];          /* the configuration space as software reads it */
    uint32_t bar_size[X86_PCI_BARS];  /* 0: not implemented; a power of two otherwise */
    bool bar_io[X86_PCI_BARS];        /* I/O space BAR (else 32-bit memory) */
    uint8_t msi_offset;           /* the MSI capability's offset, 0 if none */
    uint8_t device, function;     /* on bus 0 */
    bool intx_level;              /* the device's interrupt request before INTx disable */
    struct x86_irq_wire intx;     /* INTA# of this function (the machine routes it) */
    /* how an MSI message reaches the local APIC (the machine sets it) */
    void (*send_msi)(void *context, const struct x86_msi_message *message);
    void *msi_context;
    const struct x86_pci_ops *ops;
    void *owner;                  /* the device model owning this function */
};

struct x86_pci_bus {
    uint32_t address;             /* CONFIG_ADDRESS (0xCF8) */
    struct x86_pci_function host_bridge;
    struct x86_pci_function *functions[X86_PCI_MAX_FUNCTIONS];
    unsigned function_count;
};

/* The host bridge (00:00.0, Intel 440FX identity, as QEMU's pc machine) and the ports. */
void x86_pci_bus_init(struct x86_pci_bus *pci);
x86irq_status x86_pci_bus_attach(struct x86_pci_bus *pci, struct x86_bus *bus);
/* Add a function at 00:device.function. X86IRQ_ERR_CONFLICT if taken. */
x86irq_status x86_pci_add_function(struct x86_pci_bus *pci, struct x86_pci_function *function);

/* Prepare a function's header: identity, class (base, sub, prog-if), interrupt pin (1 = INTA,
 * 0 none), and an MSI capability (32-bit address, no per-vector masking) when with_msi. Resets
 * only the header state (config, BARs, MSI, the interrupt request); the wiring (device and
 * function numbers, intx, send_msi, msi_context, ops, owner) is left as the caller set it. */
void x86_pci_function_init(struct x86_pci_function *function, uint16_t vendor, uint16_t device_id,
                           uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                           uint8_t interrupt_pin, bool with_msi);
/* Declare BAR i: size (a power of two, at least 16 for memory, 4 for I/O) and type. */
void x86_pci_set_bar(struct x86_pci_function *function, unsigned bar, uint32_t size, bool io);
/* The current base of BAR i (0 when unmapped or its space is disabled in the command register) */
uint64_t x86_pci_bar_base(const struct x86_pci_function *function, unsigned bar);
bool x86_pci_bus_master(const struct x86_pci_function *function);

/* The device's interrupt condition: with MSI enabled, raise sends one message (an edge);
 * otherwise INTx follows the level (unless INTx disable), and the status bit reflects it. */
void x86_pci_set_interrupt(struct x86_pci_function *function, bool level);
bool x86_pci_msi_enabled(const struct x86_pci_function *function);

/* Configuration access by bus/device/function/register (for tests and the ports) */
uint32_t x86_pci_config_read(struct x86_pci_bus *pci, uint8_t bus, uint8_t device, uint8_t function,
                             uint8_t offset, unsigned size);
void x86_pci_config_write(struct x86_pci_bus *pci, uint8_t bus, uint8_t device, uint8_t function,
                          uint8_t offset, unsigned size, uint32_t value);
/* Decode an MSI address/data pair; false if the address is not an MSI address (0xFEExxxxx). */
bool x86_msi_decode(uint32_t address, uint32_t data, struct x86_msi_message *message);

#endif
