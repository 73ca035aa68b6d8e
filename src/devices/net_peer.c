/* A host on the NIC's wire (see net_peer.h).
 *
 * A frame from the guest goes up a minimal IPv4 host's stack:
 *   Ethernet (IEEE 802.3 clause 3): kept when addressed to the peer's MAC or broadcast and sent
 *     from a unicast address (a group address is never a source), no longer than MTU 1500
 *     plus the header; EtherType 0x0806 (ARP) or 0x0800 (IPv4). Everything else (IPv6, VLAN
 *     tags, 802.3 length frames, multicast) is ignored. Bytes past the ARP packet or past the
 *     IPv4 total length are the sender's padding to the 60-byte minimum and are not read.
 *   ARP (RFC 826, the "packet reception" algorithm): Ethernet/IPv4 only; an existing entry for
 *     the sender is updated, a new one added when the peer is the target; a request for the
 *     peer's address is answered to the sender hardware address.
 *   IPv4 (RFC 791, RFC 1122 3.2.1): version 4, header and total lengths within the frame,
 *     header checksum verified (a bad one is dropped, as RFC 1122 3.2.1.2 requires), addressed
 *     to the peer's IP exactly (no broadcast echo, as Linux's icmp_echo_ignore_broadcasts),
 *     not a fragment (no reassembly), from a unicast source.
 *   ICMP (RFC 792, RFC 1122 3.2.2.6): checksum verified, type 8 answered by type 0.
 *
 * The echo reply is built as QEMU's slirp reflects one: addresses swapped, TOS, code, id,
 * sequence and data kept, IP options stripped (the reply carries a 20-byte header: this
 * departs from RFC 1122 3.2.2.6, which asks for record-route/timestamp options to be
 * updated and a source route reversed), DF copied from the request (the same size crossed
 * the same wire), identification from a counter, TTL 64. The Ethernet destination is the
 * requester's address in the ARP cache, or the request's Ethernet source when the cache does
 * not know it.
 *
 * Every reply shorter than 60 bytes (an ARP reply is 42) is padded with zeros to 60, the
 * Ethernet minimum without FCS, as the sender's MAC puts it on the wire.
 *
 * Time: a reply reaches the NIC reply_cycles = ceil(X86_NET_PEER_REPLY_NS * cpu_hz / 1e9)
 * cycles after its request left the NIC. Replies wait in a ring of X86_NET_PEER_QUEUE; one
 * event on the machine's queue stands for the oldest, so they leave in order. A frame whose
 * reply does not fit is answered by nothing (overflowed), a reply the NIC does not take is
 * lost (refused): both count in dropped; the wire does not retry.
 *
 * Accounting: every frame counts exactly once, in arp_replies or echo_replies (reply taken by
 * the NIC), dropped (reply lost) or ignored (no reply), once the replies in flight are out.
 */
#include "devices/net_peer.h"

#include <string.h>

#define ETHERNET_ADDRESS 6
#define ETHERNET_HEADER 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

/* ARP for Ethernet and IPv4 (RFC 826): hrd, pro, hln, pln, op, sha, spa, tha, tpa */
#define ARP_PACKET 28
#define ARP_HARDWARE_ETHERNET 1
#define ARP_REQUEST 1
#define ARP_REPLY 2

/* IPv4 (RFC 791 3.1) */
#define IPV4_HEADER 20
#define IPV4_DONT_FRAGMENT 0x4000
#define IPV4_MORE_FRAGMENTS 0x2000
#define IPV4_FRAGMENT_OFFSET 0x1FFF
#define IPV4_PROTOCOL_ICMP 1
#define REPLY_TTL 64

/* ICMP (RFC 792): type, code, checksum, identifier, sequence number */
#define ICMP_HEADER 8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

enum verdict {
    ANSWERED,       /* a reply was queued, or its loss counted in dropped */
    IGNORED,
    MALFORMED,
    BAD_CHECKSUM,
    FRAGMENT,
};

/* ---- bytes in network order ---------------------------------------------------------------- */

static uint16_t load16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void store32(uint8_t *p, uint32_t v)
{
    store16(p, (uint16_t)(v >> 16));
    store16(p + 2, (uint16_t)v);
}

/* The 16-bit ones' complement sum (RFC 1071), an odd last byte padded with zero. Data with a
 * correct checksum field sums to 0xFFFF. */
static uint16_t ones_complement_sum(const uint8_t *data, size_t length)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < length; i += 2) {
        sum += load16(data + i);
        sum = (sum & 0xFFFFu) + (sum >> 16); /* end-around carry as we go: no overflow */
    }
    if (length & 1) {
        sum += (uint32_t)data[length - 1] << 8;
        sum = (sum & 0xFFFFu) + (sum >> 16);
    }
    return (uint16_t)sum;
}

static uint16_t internet_checksum(const uint8_t *data, size_t length)
{
    return (uint16_t)~ones_complement_sum(data, length);
}

static bool is_group_address(const uint8_t *mac)
{
    return mac[0] & 1; /* the I/G bit: multicast, broadcast included */
}

static bool is_broadcast(const uint8_t *mac)
{
    static const uint8_t broadcast[ETHERNET_ADDRESS] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    return memcmp(mac, broadcast, ETHERNET_ADDRESS) == 0;
}

/* An address a host may answer (RFC 1122 3.2.1.3): not 0/8 ("this network"), not loopback,
 * not multicast, class E or the limited broadcast */
static bool is_unicast_ip(uint32_t ip)
{
    uint32_t first = ip >> 24;
    return first != 0 && first != 127 && first < 224;
}

/* ---- time ---------------------------------------------------------------------------------- */

/* ceil(nanoseconds * cpu_hz / 1e9), cpu_hz split into whole gigahertz and a remainder so that
 * nothing overflows for any cpu_hz below 2^64 / nanoseconds */
static uint64_t nanoseconds_to_cycles(uint64_t cpu_hz, uint64_t nanoseconds)
{
    const uint64_t per_second = 1000000000ull;
    uint64_t whole = cpu_hz / per_second, rest = cpu_hz % per_second;
    return nanoseconds * whole + (nanoseconds * rest + per_second - 1) / per_second;
}

static uint64_t current_cycle(const struct x86_net_peer *peer)
{
    return peer->cycles ? *peer->cycles : 0;
}

/* ---- the ARP cache ------------------------------------------------------------------------- */

static struct x86_net_peer_neighbour *neighbour_find(struct x86_net_peer *peer, uint32_t ip)
{
    for (unsigned i = 0; i < X86_NET_PEER_ARP_ENTRIES; i++)
        if (peer->neighbours[i].valid && peer->neighbours[i].ip == ip)
            return &peer->neighbours[i];
    return NULL;
}

/* RFC 826: update the sender's entry if there is one (the merge), else add it when add (the
 * peer is the target), replacing the least recently used entry when the cache is full.
 * Entries do not age. */
static void neighbour_learn(struct x86_net_peer *peer, uint32_t ip, const uint8_t *mac, bool add)
{
    struct x86_net_peer_neighbour *entry = neighbour_find(peer, ip);
    if (!entry) {
        if (!add)
            return;
        entry = &peer->neighbours[0];
        for (unsigned i = 0; i < X86_NET_PEER_ARP_ENTRIES; i++) {
            struct x86_net_peer_neighbour *candidate = &peer->neighbours[i];
            if (!candidate->valid) {
                entry = candidate;
                break;
            }
            if (candidate->used < entry->used)
                entry = candidate;
        }
        entry->valid = true;
        entry->ip = ip;
    }
    memcpy(entry->mac, mac, ETHERNET_ADDRESS);
    entry->used = ++peer->arp_clock;
}

/* ---- the replies in flight ----------------------------------------------------------------- */

static void deliver_oldest(struct x86_net_peer *peer)
{
    struct x86_net_peer_reply *reply = &peer->queue[peer->queue_head];
    int taken = peer->deliver ? peer->deliver(peer->opaque, reply->frame, reply->length) : 0;
    if (!taken) {
        peer->dropped++;
        peer->refused++;
    } else if (reply->arp) {
        peer->arp_replies++;
    } else {
        peer->echo_replies++;
    }
    peer->queue_head = (peer->queue_head + 1) % X86_NET_PEER_QUEUE;
    peer->queue_count--;
}

static void schedule_oldest(struct x86_net_peer *peer);

void x86_net_peer_reply_event(void *context, void *opaque)
{
    (void)context;
    struct x86_net_peer *peer = opaque;
    peer->event_id = 0;
    if (!peer->queue_count)
        return;
    /* a frame sent from inside deliver() joins the queue; the next event is set after */
    peer->delivering = true;
    deliver_oldest(peer);
    peer->delivering = false;
    schedule_oldest(peer);
}

/* One event stands for the oldest reply; without an event queue everything goes at once. */
static void schedule_oldest(struct x86_net_peer *peer)
{
    if (!peer->queue_count || peer->event_id || peer->delivering)
        return;
    if (!peer->events) {
        peer->delivering = true;
        while (peer->queue_count)
            deliver_oldest(peer);
        peer->delivering = false;
        return;
    }
    uint64_t cycle = peer->queue[peer->queue_head].cycle;
    peer->event_id = x86_events_schedule(peer->events, cycle, x86_net_peer_reply_event, peer);
    if (!peer->event_id) { /* out of memory: nothing would ever deliver them */
        peer->dropped += peer->queue_count;
        peer->overflowed += peer->queue_count;
        peer->queue_count = 0;
    }
}

/* The slot for a reply to a request sent at cycle, or NULL (counted) when the queue is full.
 * The reply is only queued by commit_reply. */
static struct x86_net_peer_reply *new_reply(struct x86_net_peer *peer, uint64_t cycle)
{
    if (peer->queue_count == X86_NET_PEER_QUEUE) {
        peer->dropped++;
        peer->overflowed++;
        return NULL;
    }
    struct x86_net_peer_reply *reply =
        &peer->queue[(peer->queue_head + peer->queue_count) % X86_NET_PEER_QUEUE];
    uint64_t due = cycle + peer->reply_cycles;
    if (due < cycle)
        due = UINT64_MAX;
    if (peer->queue_count) { /* requests arrive in cycle order; keep replies in it regardless */
        uint64_t last = peer->queue[(peer->queue_head + peer->queue_count - 1) %
                                    X86_NET_PEER_QUEUE].cycle;
        if (due < last)
            due = last;
    }
    reply->cycle = due;
    return reply;
}

static void commit_reply(struct x86_net_peer *peer, struct x86_net_peer_reply *reply,
                         size_t length, bool arp)
{
    if (length < X86_NET_PEER_MIN_FRAME) {
        memset(reply->frame + length, 0, X86_NET_PEER_MIN_FRAME - length);
        length = X86_NET_PEER_MIN_FRAME;
    }
    reply->length = (uint16_t)length;
    reply->arp = arp;
    peer->queue_count++;
    schedule_oldest(peer);
}

/* ---- the protocols ------------------------------------------------------------------------- */

static enum verdict arp_input(struct x86_net_peer *peer, const uint8_t *frame, size_t length,
                              uint64_t cycle)
{
    if (length < ETHERNET_HEADER + ARP_PACKET)
        return MALFORMED;
    const uint8_t *arp = frame + ETHERNET_HEADER;
    if (load16(arp) != ARP_HARDWARE_ETHERNET || load16(arp + 2) != ETHERTYPE_IPV4 ||
        arp[4] != ETHERNET_ADDRESS || arp[5] != 4)
        return IGNORED; /* "Do I have the hardware type? Do I speak the protocol?" */
    uint16_t operation = load16(arp + 6);
    const uint8_t *sender_mac = arp + 8;
    uint32_t sender_ip = load32(arp + 14);
    uint32_t target_ip = load32(arp + 24);
    if (is_group_address(sender_mac))
        return IGNORED; /* nobody to answer */
    bool for_us = target_ip == peer->ip;
    /* an ARP probe (RFC 5227) has sender 0.0.0.0: answered, not learned */
    if (is_unicast_ip(sender_ip) && sender_ip != peer->ip)
        neighbour_learn(peer, sender_ip, sender_mac, for_us);
    if (!for_us || operation != ARP_REQUEST)
        return IGNORED;

    struct x86_net_peer_reply *reply = new_reply(peer, cycle);
    if (!reply)
        return ANSWERED;
    uint8_t *out = reply->frame;
    memcpy(out, sender_mac, ETHERNET_ADDRESS);
    memcpy(out + 6, peer->mac, ETHERNET_ADDRESS);
    store16(out + 12, ETHERTYPE_ARP);
    uint8_t *answer = out + ETHERNET_HEADER;
    store16(answer, ARP_HARDWARE_ETHERNET);
    store16(answer + 2, ETHERTYPE_IPV4);
    answer[4] = ETHERNET_ADDRESS;
    answer[5] = 4;
    store16(answer + 6, ARP_REPLY);
    memcpy(answer + 8, peer->mac, ETHERNET_ADDRESS);
    store32(answer + 14, peer->ip);
    memcpy(answer + 18, sender_mac, ETHERNET_ADDRESS);
    store32(answer + 24, sender_ip);
    commit_reply(peer, reply, ETHERNET_HEADER + ARP_PACKET, true);
    return ANSWERED;
}

static enum verdict ipv4_input(struct x86_net_peer *peer, const uint8_t *frame, size_t length,
                               uint64_t cycle)
{
    const uint8_t *ip = frame + ETHERNET_HEADER;
    size_t available = length - ETHERNET_HEADER;
    if (available < IPV4_HEADER || ip[0] >> 4 != 4)
        return MALFORMED;
    size_t header = (size_t)(ip[0] & 0x0F) * 4;
    size_t total = load16(ip + 2);
    if (header < IPV4_HEADER || header > available || total < header || total > available)
        return MALFORMED;
    if (ones_complement_sum(ip, header) != 0xFFFF)
        return BAD_CHECKSUM;
    uint32_t source = load32(ip + 12);
    if (load32(ip + 16) != peer->ip)
        return IGNORED;
    uint16_t fragment = load16(ip + 6);
    if (fragment & (IPV4_MORE_FRAGMENTS | IPV4_FRAGMENT_OFFSET))
        return FRAGMENT;
    if (ip[9] != IPV4_PROTOCOL_ICMP || !is_unicast_ip(source))
        return IGNORED;
    const uint8_t *icmp = ip + header;
    size_t icmp_length = total - header;
    if (icmp_length < ICMP_HEADER)
        return MALFORMED;
    if (ones_complement_sum(icmp, icmp_length) != 0xFFFF)
        return BAD_CHECKSUM;
    if (icmp[0] != ICMP_ECHO_REQUEST)
        return IGNORED;

    struct x86_net_peer_reply *reply = new_reply(peer, cycle);
    if (!reply)
        return ANSWERED;
    uint8_t *out = reply->frame;
    struct x86_net_peer_neighbour *neighbour = neighbour_find(peer, source);
    if (neighbour) {
        neighbour->used = ++peer->arp_clock;
        memcpy(out, neighbour->mac, ETHERNET_ADDRESS);
    } else {
        memcpy(out, frame + 6, ETHERNET_ADDRESS);
    }
    memcpy(out + 6, peer->mac, ETHERNET_ADDRESS);
    store16(out + 12, ETHERTYPE_IPV4);

    uint8_t *answer = out + ETHERNET_HEADER;
    answer[0] = 0x45;                        /* version 4, 20-byte header: options stripped */
    answer[1] = ip[1];                       /* type of service */
    store16(answer + 2, (uint16_t)(IPV4_HEADER + icmp_length));
    store16(answer + 4, peer->ip_id++);
    store16(answer + 6, fragment & IPV4_DONT_FRAGMENT);
    answer[8] = REPLY_TTL;
    answer[9] = IPV4_PROTOCOL_ICMP;
    store16(answer + 10, 0);
    store32(answer + 12, peer->ip);
    store32(answer + 16, source);
    store16(answer + 10, internet_checksum(answer, IPV4_HEADER));

    uint8_t *echo = answer + IPV4_HEADER;
    memcpy(echo, icmp, icmp_length);        /* code, identifier, sequence, data */
    echo[0] = ICMP_ECHO_REPLY;
    store16(echo + 2, 0);
    store16(echo + 2, internet_checksum(echo, icmp_length));
    commit_reply(peer, reply, ETHERNET_HEADER + IPV4_HEADER + icmp_length, false);
    return ANSWERED;
}

static enum verdict ethernet_input(struct x86_net_peer *peer, const uint8_t *frame,
                                   size_t length, uint64_t cycle)
{
    if (!frame || length < ETHERNET_HEADER || length > X86_NET_PEER_MAX_FRAME)
        return MALFORMED;
    if (memcmp(frame, peer->mac, ETHERNET_ADDRESS) != 0 && !is_broadcast(frame))
        return IGNORED; /* another host's, or a multicast group the peer is not in */
    if (is_group_address(frame + ETHERNET_ADDRESS))
        return IGNORED;
    switch (load16(frame + 12)) {
    case ETHERTYPE_ARP:
        return arp_input(peer, frame, length, cycle);
    case ETHERTYPE_IPV4:
        return ipv4_input(peer, frame, length, cycle);
    default:
        return IGNORED;
    }
}

/* ---- interface ----------------------------------------------------------------------------- */

void x86_net_peer_init(struct x86_net_peer *peer, struct x86_event_queue *events,
                       const uint64_t *cycles, uint64_t cpu_hz,
                       int (*deliver)(void *opaque, const uint8_t *frame, size_t length),
                       void *opaque)
{
    static const uint8_t mac[ETHERNET_ADDRESS] = X86_NET_PEER_MAC;
    memset(peer, 0, sizeof(*peer));
    memcpy(peer->mac, mac, ETHERNET_ADDRESS);
    peer->ip = X86_NET_PEER_IP;
    peer->deliver = deliver;
    peer->opaque = opaque;
    peer->events = events;
    peer->cycles = cycles;
    peer->cpu_hz = cpu_hz ? cpu_hz : 1000000000ull;
    peer->reply_cycles = nanoseconds_to_cycles(peer->cpu_hz, X86_NET_PEER_REPLY_NS);
}

void x86_net_peer_finish(struct x86_net_peer *peer)
{
    if (peer->event_id && peer->events)
        x86_events_cancel(peer->events, peer->event_id);
    peer->event_id = 0;
    peer->queue_count = 0;
    peer->queue_head = 0;
}

void x86_net_peer_transmit(void *opaque, const uint8_t *frame, size_t length, uint64_t cycle)
{
    struct x86_net_peer *peer = opaque;
    switch (ethernet_input(peer, frame, length, cycle)) {
    case ANSWERED:
        return;
    case IGNORED:
        break;
    case MALFORMED:
        peer->malformed++;
        break;
    case BAD_CHECKSUM:
        peer->bad_checksum++;
        break;
    case FRAGMENT:
        peer->fragments++;
        break;
    }
    peer->ignored++;
}

void x86_net_peer_frame(struct x86_net_peer *peer, const uint8_t *frame, size_t length)
{
    x86_net_peer_transmit(peer, frame, length, current_cycle(peer));
}
