/* libx86irq: the PC board's own devices, beside the machine's generic API (x86irq.h): the
 * network card and the marker ports through which a guest tells the tracker its phase and
 * thread (docs/devices.md, docs/guest-contract.md). x86irq.h includes this header.
 */
#ifndef X86IRQ_BOARD_H
#define X86IRQ_BOARD_H

#include "x86irq/x86irq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ the marker ports */

/** The phase marker port: a one-byte write of an x86irq_phase number (x86irq.h) enters that
 *  phase on the writing CPU's thread. */
#define X86IRQ_PHASE_PORT 0xFE0u
/** The thread marker port: a 32-bit write of an ID tells the tracker that the guest now runs
 *  the thread of that ID (any value the guest likes: a task pointer, an index). What is in
 *  service and the phase are kept per thread, so a context switch inside an interrupt handler
 *  (preemption, a scheduler tick) moves to the other thread's nesting (docs/guest-contract.md).
 *  Without markers or a switch symbol the core has one thread. */
#define X86IRQ_THREAD_PORT 0xFE4u

/* ------------------------------------------------------------------ the NIC */

/** The machine's NIC, an Intel 82540EM ("e1000") at PCI 00:03.0 with MAC 52:54:00:12:34:56,
 *  its INTA on GSI 11 (level): a frame (without FCS, 14 to 16384 bytes) arrives from the wire
 *  now. X86IRQ_OK if the NIC took it into its receive ring; X86IRQ_ERR_STATE if it dropped it
 *  (receiver off, filtered, no free descriptor, DMA outside RAM: counted in the NIC's
 *  statistics registers). To deliver frames at given cycles, call this from events. */
X86IRQ_API x86irq_status x86irq_nic_receive(x86irq_machine *machine, const void *frame,
                                            size_t length);

/** Called with every frame the NIC transmits (without FCS) and the cycle it left at. */
typedef void (*x86irq_nic_transmit_fn)(void *opaque, const uint8_t *frame, size_t length,
                                       uint64_t cycle);
X86IRQ_API void x86irq_set_nic_transmit(x86irq_machine *machine, x86irq_nic_transmit_fn fn,
                                        void *opaque);

/** What the NIC did with the frames of the wire, since the machine was created (counted by the
 *  model, not by the guest-visible statistics registers, which clear on read). Set size to
 *  sizeof(x86irq_nic_statistics) before the call: a library newer than the program fills only
 *  the fields that program knows. Every frame that arrived is received or in one drop count. */
typedef struct x86irq_nic_statistics {
    size_t size;                  /**< in: sizeof(x86irq_nic_statistics) of the caller */
    uint64_t received;            /**< taken into the receive ring (the guest sees it) */
    uint64_t transmitted;         /**< sent on the wire by the guest */
    uint64_t receiver_disabled;   /**< dropped: RCTL.EN clear (before the driver opens it) */
    uint64_t link_down;           /**< dropped: the link was down */
    uint64_t undersize;           /**< dropped: shorter than an Ethernet header (RUC) */
    uint64_t oversize;            /**< dropped: longer than RCTL.LPE allows (ROC) */
    uint64_t filtered;            /**< dropped: no address or VLAN filter took it */
    uint64_t no_bus_master;       /**< missed: PCI bus mastering off (MPC) */
    uint64_t no_descriptors;      /**< missed: too few free receive descriptors (MPC, RNBC) */
    uint64_t receive_dma_error;   /**< dropped: a descriptor or buffer outside guest RAM */
    uint64_t transmit_dropped;    /**< transmit descriptors outside RAM, oversize, TSO, link down */
} x86irq_nic_statistics;
/** Fill stats (its size field set by the caller). X86IRQ_ERR_INVALID_ARGUMENT for a NULL
 *  pointer or a size below the first version's; X86IRQ_ERR_STATE when the machine has no NIC. */
X86IRQ_API x86irq_status x86irq_nic_get_statistics(x86irq_machine *machine,
                                                   x86irq_nic_statistics *stats);

#ifdef __cplusplus
}
#endif

#endif
