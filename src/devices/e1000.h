/* Intel 82540EM Gigabit Ethernet controller ("e1000", PCI 8086:100E), modelled from the
 * PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual (the 8254x
 * SDM): the register set of section 13, the descriptor rings of section 3, the Microwire
 * EEPROM of section 5 and the internal PHY's MII registers (IEEE 802.3 clause 22 plus the
 * Marvell 88E1011 identity the 82540EM's PHY reports).
 *
 * The "wire" is the host: x86_e1000_receive hands the NIC a frame as it arrives, and the
 * transmit callback gets every frame the NIC sends, stamped with the CPU cycle it left at.
 * Frames on the host side carry no FCS (the Ethernet CRC): the receive path appends one when
 * RCTL.SECRC asks to keep it, and the transmit path drops the one the NIC would insert.
 *
 * The PCI function: class 02/00/00 (Ethernet controller), INTA, BAR0 = 128 KiB of memory
 * (the registers), BAR1 = 64 bytes of I/O (IOADDR/IODATA, an indirect window onto the same
 * registers, 8254x SDM 13.2). The real 82540EM has no MSI capability; X86_E1000_MSI_CAPABLE
 * adds one (for experiments with MSI delivery), nothing else changes.
 *
 * Time: the delay timers (RDTR, RADV, TIDV, TADV) and interrupt throttling (ITR) are events
 * on the machine's queue at exact cycles: a duration of n nanoseconds is ceil(n * cpu_hz /
 * 1e9) cycles. Without an event queue the delays and throttling collapse to "at once".
 *
 * Modelled besides the basics: transmit checksum insertion (legacy IC/CSO/CSS; context
 * descriptors with IXSM/TXSM), VLAN tag insertion (VLE) and stripping (CTRL.VME) and VLAN
 * filtering (RCTL.VFE with VFTA), the exact (16 RAL/RAH) and hashed (MTA, RCTL.MO) address
 * filters, the Microwire EEPROM as well as EERD, PHY and MAC loopback, link changes (LSC).
 *
 * Not modelled: TCP segmentation offload (a TSE frame is dropped and counted), receive
 * checksum offload (descriptors carry IXSM, "ignore checksum indications", and a zero packet
 * checksum), flow control (the XON/XOFF registers are storage), wake-up and manageability,
 * the flash and expansion ROM BARs, the packet buffer memory, EEPROM writes (the Microwire
 * part ignores WRITE/ERASE), collisions and half duplex (the link is 1000 Mb/s full duplex),
 * the small receive packet detect and transmit descriptor low-threshold interrupts, and the
 * latching of the PHY's link status bit.
 */
#ifndef X86IRQ_DEVICES_E1000_H
#define X86IRQ_DEVICES_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/pci.h"
#include "platform/bus.h"
#include "platform/events.h"

#define X86_E1000_VENDOR_ID 0x8086
#define X86_E1000_DEVICE_ID 0x100E           /* 82540EM, desktop (8254x SDM Table 5-1) */
#define X86_E1000_SUBSYSTEM_VENDOR_ID 0x8086
#define X86_E1000_SUBSYSTEM_ID 0x001E        /* Intel PRO/1000 MT Desktop Adapter */

#define X86_E1000_MMIO_SIZE 0x20000u         /* BAR0: 128 KiB register space */
#define X86_E1000_IO_SIZE 64u                /* BAR1: IOADDR, IODATA and reserved */
#define X86_E1000_REGISTER_SPACE 0x6000u     /* modelled registers lie below this offset */
#define X86_E1000_EEPROM_WORDS 64            /* a 1 Kbit Microwire EEPROM (EECD.EE_SIZE = 0) */
#define X86_E1000_PHY_REGISTERS 32
#define X86_E1000_MAX_FRAME 16384            /* buffer for one frame, either direction */

/* x86_e1000_init_flags: create the function with an MSI capability (not in the real part) */
#define X86_E1000_MSI_CAPABLE 0x1u

/* Why frames were dropped, beyond what the statistics registers say (model diagnostics; not
 * guest visible, never cleared by the guest) */
struct x86_e1000_drops {
    uint64_t receiver_disabled;   /* RCTL.EN clear */
    uint64_t link_down;           /* the link is down (x86_e1000_set_link) */
    uint64_t undersize;           /* shorter than an Ethernet header (also RUC) */
    uint64_t oversize;            /* longer than RCTL.LPE allows (also ROC) */
    uint64_t filtered;            /* no address filter accepted it */
    uint64_t no_bus_master;       /* PCI bus mastering off: no DMA (also MPC) */
    uint64_t no_descriptors;      /* too few free receive descriptors (also MPC, RNBC, RXO) */
    uint64_t receive_dma_error;   /* a descriptor or buffer outside guest RAM */
    uint64_t transmit_dma_error;  /* a transmit descriptor or buffer outside guest RAM */
    uint64_t transmit_oversize;   /* a transmitted frame longer than X86_E1000_MAX_FRAME */
    uint64_t transmit_unsupported;/* TCP segmentation requested (not modelled) */
    uint64_t transmit_link_down;  /* sent while the link was down */
};

/* The Microwire EEPROM's serial interface as software drives it through EECD (8254x SDM 5.5) */
struct x86_e1000_eeprom_wire {
    uint8_t state;       /* waiting for the start bit, opcode, address, reading, ignoring */
    uint8_t bits;        /* bits shifted in for the current field */
    uint16_t shift;      /* the field being shifted in */
    uint8_t opcode;
    uint8_t address;
    uint16_t data;       /* the word being shifted out, MSB first */
    uint8_t data_bits;   /* bits of data left */
    bool data_out;       /* the DO pin */
};

/* A delay timer of the NIC (RDTR, RADV, TIDV, TADV), an event on the machine's queue */
struct x86_e1000_timer {
    uint64_t event_id;   /* 0: not running */
    uint64_t cycle;      /* when it expires */
};

/* The checksum context of extended transmit descriptors (8254x SDM 3.3.6) */
struct x86_e1000_transmit_context {
    uint8_t ip_start, ip_offset;      /* IPCSS, IPCSO */
    uint16_t ip_end;                  /* IPCSE (0: to the end) */
    uint8_t tcp_start, tcp_offset;    /* TUCSS, TUCSO */
    uint16_t tcp_end;                 /* TUCSE (0: to the end) */
    bool segmentation;                /* TUCMD.TSE */
};

struct x86_e1000 {
    struct x86_pci_function pci;      /* first: the PCI function software sees */
    struct x86_bus *bus;              /* DMA into guest RAM, BAR registration */
    struct x86_event_queue *events;   /* may be NULL: no delays, no throttling */
    const uint64_t *cycles;           /* the CPU's cycle counter: "now" (NULL reads as 0) */
    uint64_t cpu_hz;                  /* cycles per second */
    bool msi_capable;

    /* NIC -> host: every transmitted frame (without FCS), at the cycle it is sent */
    void (*transmit)(void *opaque, const uint8_t *frame, size_t length, uint64_t cycle);
    void *transmit_opaque;

    /* registers below X86_E1000_REGISTER_SPACE, indexed by offset / 4 */
    uint32_t registers[X86_E1000_REGISTER_SPACE / 4];
    uint16_t eeprom[X86_E1000_EEPROM_WORDS];
    uint16_t phy[X86_E1000_PHY_REGISTERS];
    struct x86_e1000_eeprom_wire eeprom_wire;
    bool link_up;

    /* the interrupt output and ITR throttling */
    bool interrupt_asserted;
    uint64_t throttle_end;            /* no new interrupt before this cycle */
    struct x86_e1000_timer throttle;  /* re-evaluates the line when throttling ends */
    struct x86_e1000_timer receive_packet_timer;    /* RDTR */
    struct x86_e1000_timer receive_absolute_timer;  /* RADV */
    struct x86_e1000_timer transmit_packet_timer;   /* TIDV */
    struct x86_e1000_timer transmit_absolute_timer; /* TADV */

    /* transmit: the frame being assembled across descriptors */
    uint8_t transmit_frame[X86_E1000_MAX_FRAME];
    size_t transmit_length;
    bool transmit_frame_bad;          /* a buffer was unreachable or the frame overflowed */
    uint8_t transmit_checksum_start;  /* legacy CSS, from the frame's first descriptor */
    bool transmit_first;              /* the next data descriptor starts a frame */
    bool transmitting;                /* guards the ring walk against re-entry */
    struct x86_e1000_transmit_context context;

    /* receive: the frame as stored (data, padding, FCS) */
    uint8_t receive_frame[X86_E1000_MAX_FRAME + 64];

    /* BAR registration */
    bool mmio_mapped, io_mapped;
    uint64_t mmio_base;
    uint16_t io_base;
    x86irq_status map_status;         /* the last bus registration's result */
    uint32_t io_address;              /* IOADDR: the register IODATA reaches */

    struct x86_e1000_drops drops;
    /* frames the NIC took into its receive ring and sent on the wire (model diagnostics like
     * drops: the statistics registers clear on read, so the host cannot use them) */
    uint64_t frames_received, frames_transmitted;
};

/* Initialize (power-on state: registers at their reset values, RAL0/RAH0 from the EEPROM).
 * mac may be NULL (02:00:00:00:00:01); cpu_hz 0 means 1 GHz. The caller attaches the
 * function to a PCI bus (x86_pci_add_function) and wires nic->pci.intx / send_msi. */
void x86_e1000_init(struct x86_e1000 *nic, struct x86_bus *bus, struct x86_event_queue *events,
                    const uint64_t *cycles, uint64_t cpu_hz, const uint8_t mac[6]);
/* The same with X86_E1000_* flags */
void x86_e1000_init_flags(struct x86_e1000 *nic, struct x86_bus *bus,
                          struct x86_event_queue *events, const uint64_t *cycles, uint64_t cpu_hz,
                          const uint8_t mac[6], unsigned flags);

/* A software reset, as CTRL.RST does (8254x SDM 13.4.1): registers, PHY and pending events
 * back to their reset state; the PCI configuration space is not touched. */
void x86_e1000_reset(struct x86_e1000 *nic);

/* host -> wire -> NIC: a frame (no FCS) arrives now; false if dropped (why is counted in the
 * statistics registers and in nic->drops) */
bool x86_e1000_receive(struct x86_e1000 *nic, const uint8_t *frame, size_t length);

/* The cable: link changes set ICR.LSC and show in STATUS.LU and the PHY status */
void x86_e1000_set_link(struct x86_e1000 *nic, bool up);

/* BAR0 register access (offset within the 128 KiB), as the MMIO callbacks do */
uint64_t x86_e1000_mmio_read(void *opaque, uint64_t offset, unsigned size);
void x86_e1000_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);
/* BAR1: IOADDR (offset 0) and IODATA (offset 4) */
uint64_t x86_e1000_io_read(void *opaque, uint64_t offset, unsigned size);
void x86_e1000_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);

/* The manual's mnemonic of the register at offset ("CTRL", "RAL", "MTA", ...), or NULL */
const char *x86_e1000_register_name(uint32_t offset);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_e1000_throttle_event(void *context, void *opaque);
void x86_e1000_rdtr_event(void *context, void *opaque);
void x86_e1000_radv_event(void *context, void *opaque);
void x86_e1000_tidv_event(void *context, void *opaque);
void x86_e1000_tadv_event(void *context, void *opaque);

#endif
