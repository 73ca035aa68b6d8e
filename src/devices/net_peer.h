/* A host on the NIC's wire, as QEMU's user-mode network has one at 10.0.2.2: it answers ARP
 * requests for its address and ICMP echo requests to it, deterministically (each reply leaves
 * a fixed number of cycles after the request was transmitted). Everything else it ignores
 * (counted). It is an endpoint, not a router: no DHCP, DNS or TCP.
 */
#ifndef X86IRQ_DEVICES_NET_PEER_H
#define X86IRQ_DEVICES_NET_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/events.h"

#define X86_NET_PEER_IP 0x0A000202u          /* 10.0.2.2 */
#define X86_NET_PEER_MAC { 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02 }
#define X86_NET_PEER_REPLY_NS 20000u          /* 20 us from request to reply */

#define X86_NET_PEER_ARP_ENTRIES 4           /* the peer's ARP cache */
#define X86_NET_PEER_QUEUE 8                 /* replies in flight at most */
#define X86_NET_PEER_MAX_FRAME 1514          /* MTU 1500 plus the Ethernet header, no FCS */
#define X86_NET_PEER_MIN_FRAME 60            /* the Ethernet minimum without FCS */

/* An ARP cache entry (RFC 826): who has an IPv4 address */
struct x86_net_peer_neighbour {
    bool valid;
    uint32_t ip;                     /* host order */
    uint8_t mac[6];
    uint64_t used;                   /* last learned or looked up (LRU replacement) */
};

/* A reply on its way to the NIC */
struct x86_net_peer_reply {
    uint64_t cycle;                  /* when it reaches the NIC */
    bool arp;                        /* ARP reply (else ICMP echo reply), for the statistics */
    uint16_t length;
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
};

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

    /* why frames were ignored (each also counts in ignored) and replies dropped (each also
     * counts in dropped) */
    uint64_t malformed;              /* truncated, bad lengths, wrong IP version, oversize */
    uint64_t bad_checksum;           /* IPv4 header or ICMP checksum wrong */
    uint64_t fragments;              /* IPv4 fragments (no reassembly) */
    uint64_t overflowed;             /* reply lost: queue full (or no memory for the event) */
    uint64_t refused;                /* reply lost: deliver() returned 0 */

    uint64_t reply_cycles;           /* X86_NET_PEER_REPLY_NS in cycles */
    uint16_t ip_id;                  /* the next echo reply's IPv4 identification */
    uint64_t arp_clock;              /* LRU stamp source */
    struct x86_net_peer_neighbour neighbours[X86_NET_PEER_ARP_ENTRIES];

    struct x86_net_peer_reply queue[X86_NET_PEER_QUEUE];  /* a ring, oldest at queue_head */
    unsigned queue_head, queue_count;
    uint64_t event_id;               /* the event delivering the oldest reply; 0: none */
    bool delivering;                 /* guards the immediate delivery without an event queue */
};

/* Address 10.0.2.2 / X86_NET_PEER_MAC (the fields may be changed afterwards), an empty ARP
 * cache and queue. cpu_hz 0 means 1 GHz. Without an event queue (events NULL) replies are
 * delivered at once. Allocates nothing. */
void x86_net_peer_init(struct x86_net_peer *peer, struct x86_event_queue *events,
                       const uint64_t *cycles, uint64_t cpu_hz,
                       int (*deliver)(void *opaque, const uint8_t *frame, size_t length),
                       void *opaque);
/* Cancels the pending event and forgets the replies in flight (not counted). */
void x86_net_peer_finish(struct x86_net_peer *peer);
/* A frame the guest transmitted (without FCS), at the current cycle. */
void x86_net_peer_frame(struct x86_net_peer *peer, const uint8_t *frame, size_t length);
/* The same at a given cycle, shaped as struct x86_e1000's transmit callback (opaque: the
 * peer), so the NIC can be wired to the peer directly. */
void x86_net_peer_transmit(void *opaque, const uint8_t *frame, size_t length, uint64_t cycle);

/* Its event callbacks, named so a snapshot can name them (src/machine/snapshot_state.c) */
void x86_net_peer_reply_event(void *context, void *opaque);

#endif
