/* A host on the NIC's wire, as QEMU's user-mode network has one at 10.0.2.2: it answers ARP
 * requests for its address and ICMP echo requests to it, deterministically (each reply leaves
 * a fixed number of cycles after the request was transmitted). Everything else it ignores
 * (counted). It is an endpoint, not a router: no DHCP, DNS or TCP.
 */
#ifndef X86IRQ_DEVICES_NET_PEER_H
#define X86IRQ_DEVICES_NET_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "machine/events.h"

#define X86_NET_PEER_IP 0x0A000202u          /* 10.0.2.2 */
#define X86_NET_PEER_MAC { 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02 }
#define X86_NET_PEER_REPLY_NS 20000u          /* 20 us from request to reply */

struct x86_net_peer {
    uint8_t mac[6];
    uint32_t ip;                     /* host order */
    /* hand a frame to the guest's NIC (returns whether the NIC took it) */
    int (*deliver)(void *opaque, const uint8_t *frame, size_t length);
    void *opaque;
    struct x86_event_queue *events;
    const uint64_t *cycles;
    uint64_t cpu_hz;
    /* statistics */
    uint64_t arp_replies, echo_replies, ignored, dropped;
    /* the implementation's private state follows (the queue of replies in flight) */
};

void x86_net_peer_init(struct x86_net_peer *peer, struct x86_event_queue *events,
                       const uint64_t *cycles, uint64_t cpu_hz,
                       int (*deliver)(void *opaque, const uint8_t *frame, size_t length),
                       void *opaque);
void x86_net_peer_finish(struct x86_net_peer *peer);
/* A frame the guest transmitted (without FCS), at the current cycle. */
void x86_net_peer_frame(struct x86_net_peer *peer, const uint8_t *frame, size_t length);

#endif
