/* Unit tests of src/devices/net_peer.c: the host at 10.0.2.2 on the NIC's wire. ARP and ICMP
 * echo replies checked byte for byte (reference frames computed outside this code, by a
 * separate Python implementation of RFC 1071, and checksums re-verified here with the test's
 * own sum), delivered at exact cycles: request cycle + ceil(20000 ns * cpu_hz / 1e9).
 * Malformed frames of every length and with every header byte corrupted, each copied into a
 * buffer of exactly its length so ASan sees any read past the end. The last test wires the
 * peer to a real e1000 driven through its registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/e1000.h"
#include "devices/net_peer.h"
#include "devices/pci.h"
#include "platform/bus.h"
#include "platform/events.h"

__extension__ typedef unsigned __int128 wide;

#define MAX_DELIVERED 16

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02 };
static const uint8_t guest_ip[4] = { 10, 0, 2, 15 };

struct rig {
    uint64_t cycles;
    struct x86_event_queue queue;
    struct x86_net_peer peer;
    int accept;                     /* what deliver() returns */
    unsigned delivered;
    uint8_t frame[MAX_DELIVERED][X86_NET_PEER_MAX_FRAME];
    size_t length[MAX_DELIVERED];
    uint64_t cycle[MAX_DELIVERED];
};

static int record_delivery(void *opaque, const uint8_t *frame, size_t length)
{
    struct rig *r = opaque;
    assert_true(r->delivered < MAX_DELIVERED);
    assert_true(length <= X86_NET_PEER_MAX_FRAME);
    memcpy(r->frame[r->delivered], frame, length);
    r->length[r->delivered] = length;
    r->cycle[r->delivered] = r->cycles;
    r->delivered++;
    return r->accept;
}

static struct rig *rig_create(uint64_t cpu_hz)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->accept = 1;
    x86_events_init(&r->queue, NULL);
    x86_net_peer_init(&r->peer, &r->queue, &r->cycles, cpu_hz, record_delivery, r);
    return r;
}

static void rig_destroy(struct rig *r)
{
    x86_net_peer_finish(&r->peer);
    x86_events_finish(&r->queue);
    free(r);
}

static void advance(struct rig *r, uint64_t cycle)
{
    r->cycles = cycle;
    x86_events_run_due(&r->queue, cycle);
}

/* the frame handed to the peer from a heap buffer of exactly its length */
static void send(struct rig *r, const uint8_t *frame, size_t length)
{
    uint8_t *copy = malloc(length ? length : 1);
    assert_non_null(copy);
    if (length)
        memcpy(copy, frame, length);
    x86_net_peer_frame(&r->peer, length ? copy : NULL, length);
    free(copy);
}

/* every frame accounted once, when nothing is in flight */
static void assert_accounting(const struct rig *r, uint64_t frames)
{
    const struct x86_net_peer *p = &r->peer;
    assert_int_equal(p->arp_replies + p->echo_replies + p->ignored + p->dropped, frames);
}

/* the reply cycle from the definition, with 128-bit arithmetic */
static uint64_t reply_delay(uint64_t cpu_hz)
{
    wide product = (wide)X86_NET_PEER_REPLY_NS * cpu_hz;
    return (uint64_t)((product + 999999999u) / 1000000000u);
}

/* ---- the test's own frames and checksum ---------------------------------------------------- */

/* RFC 1071 the simple way: all 16-bit words summed in 64 bits, folded at the end */
static uint16_t fold_sum(const uint8_t *data, size_t length)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < length; i++)
        sum += (i & 1) ? data[i] : (uint64_t)data[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* An ARP request as Linux sends it: broadcast, padded with zeros to 60 bytes */
static size_t make_arp_request(uint8_t *f, const uint8_t sender_mac[6], const uint8_t sender_ip[4],
                               const uint8_t target_ip[4])
{
    memset(f, 0, 60);
    memset(f, 0xFF, 6);
    memcpy(f + 6, sender_mac, 6);
    f[12] = 0x08, f[13] = 0x06;
    f[14] = 0x00, f[15] = 0x01, f[16] = 0x08, f[17] = 0x00, f[18] = 6, f[19] = 4;
    f[20] = 0x00, f[21] = 0x01;
    memcpy(f + 22, sender_mac, 6);
    memcpy(f + 28, sender_ip, 4);
    memcpy(f + 38, target_ip, 4);
    return 60;
}

static const uint8_t peer_ip[4] = { 10, 0, 2, 2 };

/* The exact ARP reply to guest_mac/guest_ip, padded to 60 */
static const uint8_t arp_reply[60] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02, /* dst, src */
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,             /* ARP reply */
    0x52, 0x55, 0x0A, 0x00, 0x02, 0x02, 0x0A, 0x00, 0x02, 0x02,             /* sha, spa */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0A, 0x00, 0x02, 0x0F,             /* tha, tpa */
};

/* From the Python reference (ping 10.0.2.2, id 0x0A1B, seq 1, 56 bytes 0x10, 0x11, ..., DF):
 * the request and the peer's first reply (IP id 0, TTL 64). */
static const uint8_t echo_request_56[98] = {
    0x52, 0x55, 0x0A, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0x9C, 0x3E, 0x40, 0x00, 0x40, 0x01,
    0x86, 0x5A, 0x0A, 0x00, 0x02, 0x0F, 0x0A, 0x00, 0x02, 0x02, 0x08, 0x00,
    0x35, 0x0F, 0x0A, 0x1B, 0x00, 0x01, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x21,
    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D,
    0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
    0x46, 0x47,
};
static const uint8_t echo_reply_56[98] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01,
    0x22, 0x99, 0x0A, 0x00, 0x02, 0x02, 0x0A, 0x00, 0x02, 0x0F, 0x00, 0x00,
    0x3D, 0x0F, 0x0A, 0x1B, 0x00, 0x01, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x21,
    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D,
    0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
    0x46, 0x47,
};
/* The same for seq 2, 57 bytes 0xC3 + 7i (odd: the last byte is summed padded with zero),
 * DF clear in the request and so in the reply */
static const uint8_t echo_reply_57[99] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x55, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
    0x62, 0x98, 0x0A, 0x00, 0x02, 0x02, 0x0A, 0x00, 0x02, 0x0F, 0x00, 0x00,
    0x9D, 0x10, 0x0A, 0x1B, 0x00, 0x02, 0xC3, 0xCA, 0xD1, 0xD8, 0xDF, 0xE6,
    0xED, 0xF4, 0xFB, 0x02, 0x09, 0x10, 0x17, 0x1E, 0x25, 0x2C, 0x33, 0x3A,
    0x41, 0x48, 0x4F, 0x56, 0x5D, 0x64, 0x6B, 0x72, 0x79, 0x80, 0x87, 0x8E,
    0x95, 0x9C, 0xA3, 0xAA, 0xB1, 0xB8, 0xBF, 0xC6, 0xCD, 0xD4, 0xDB, 0xE2,
    0xE9, 0xF0, 0xF7, 0xFE, 0x05, 0x0C, 0x13, 0x1A, 0x21, 0x28, 0x2F, 0x36,
    0x3D, 0x44, 0x4B,
};

struct echo_spec {
    const uint8_t *eth_dst, *eth_src;
    uint8_t src_ip[4], dst_ip[4];
    size_t payload;              /* bytes of data after the 8-byte ICMP header */
    uint8_t seed, step;          /* data byte i = seed + step * i */
    unsigned seq, ip_id, flags;  /* flags: the 16-bit flags/fragment offset word */
    uint8_t type, tos, protocol;
    size_t options;              /* bytes of IP options (NOPs then EOL), a multiple of 4 */
};

static struct echo_spec default_echo(size_t payload)
{
    return (struct echo_spec){
        .eth_dst = peer_mac, .eth_src = guest_mac, .src_ip = { 10, 0, 2, 15 },
        .dst_ip = { 10, 0, 2, 2 }, .payload = payload, .seed = 0x10, .step = 1, .seq = 1,
        .ip_id = 0x9C3E, .flags = 0x4000, .type = 8, .tos = 0, .protocol = 1, .options = 0,
    };
}

/* An echo request; padded to 60 with zeros as the sender's NIC would. Returns the length. */
static size_t make_echo(uint8_t *f, const struct echo_spec *s)
{
    size_t header = 20 + s->options, icmp = 8 + s->payload;
    size_t length = 14 + header + icmp;
    memset(f, 0, length < 60 ? 60 : length);
    memcpy(f, s->eth_dst, 6);
    memcpy(f + 6, s->eth_src, 6);
    f[12] = 0x08, f[13] = 0x00;
    uint8_t *ip = f + 14;
    ip[0] = (uint8_t)(0x40 | header / 4);
    ip[1] = s->tos;
    put16(ip + 2, (unsigned)(header + icmp));
    put16(ip + 4, s->ip_id);
    put16(ip + 6, s->flags);
    ip[8] = 64;
    ip[9] = s->protocol;
    memcpy(ip + 12, s->src_ip, 4);
    memcpy(ip + 16, s->dst_ip, 4);
    for (size_t i = 0; i < s->options; i++)
        ip[20 + i] = i + 1 < s->options ? 0x01 : 0x00; /* NOP..., EOL */
    put16(ip + 10, (uint16_t)~fold_sum(ip, header));
    uint8_t *m = ip + header;
    m[0] = s->type;
    put16(m + 4, 0x0A1B);
    put16(m + 6, s->seq);
    for (size_t i = 0; i < s->payload; i++)
        m[8 + i] = (uint8_t)(s->seed + s->step * i);
    put16(m + 2, (uint16_t)~fold_sum(m, icmp));
    return length < 60 ? 60 : length;
}

/* Check a delivered echo reply against the request spec, field by field */
static void check_echo_reply(const uint8_t *f, size_t length, const struct echo_spec *s,
                             unsigned ip_id)
{
    size_t icmp = 8 + s->payload;
    size_t expected = 14 + 20 + icmp;
    assert_int_equal(length, expected < 60 ? 60 : expected);
    assert_memory_equal(f, s->eth_src, 6);
    assert_memory_equal(f + 6, peer_mac, 6);
    assert_int_equal(get16(f + 12), 0x0800);
    const uint8_t *ip = f + 14;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(ip[1], s->tos);
    assert_int_equal(get16(ip + 2), 20 + icmp);
    assert_int_equal(get16(ip + 4), ip_id);
    assert_int_equal(get16(ip + 6), s->flags & 0x4000);
    assert_int_equal(ip[8], 64);
    assert_int_equal(ip[9], 1);
    assert_int_equal(fold_sum(ip, 20), 0xFFFF);
    assert_memory_equal(ip + 12, s->dst_ip, 4);
    assert_memory_equal(ip + 16, s->src_ip, 4);
    const uint8_t *m = ip + 20;
    assert_int_equal(m[0], 0);
    assert_int_equal(m[1], 0);
    assert_int_equal(fold_sum(m, icmp), 0xFFFF);
    assert_int_equal(get16(m + 4), 0x0A1B);
    assert_int_equal(get16(m + 6), s->seq);
    for (size_t i = 0; i < s->payload; i++)
        assert_int_equal(m[8 + i], (uint8_t)(s->seed + s->step * i));
    for (size_t i = expected; i < length; i++)
        assert_int_equal(f[i], 0); /* padding */
}

/* ---- ARP ----------------------------------------------------------------------------------- */

static void check_arp_at(uint64_t cpu_hz, uint64_t start)
{
    struct rig *r = rig_create(cpu_hz);
    uint64_t delay = reply_delay(cpu_hz ? cpu_hz : 1000000000ull);
    assert_int_equal(r->peer.reply_cycles, delay);
    uint8_t request[60];
    make_arp_request(request, guest_mac, guest_ip, peer_ip);
    advance(r, start);
    send(r, request, sizeof(request));
    assert_int_equal(r->delivered, 0);
    assert_int_equal(x86_events_next_cycle(&r->queue), start + delay);
    advance(r, start + delay - 1);
    assert_int_equal(r->delivered, 0);
    advance(r, start + delay);
    assert_int_equal(r->delivered, 1);
    assert_int_equal(r->cycle[0], start + delay);
    assert_int_equal(r->length[0], 60);
    assert_memory_equal(r->frame[0], arp_reply, 60);
    assert_int_equal(r->peer.arp_replies, 1);
    assert_int_equal(r->peer.ignored, 0);
    assert_int_equal(r->peer.dropped, 0);
    /* the requester was learned */
    assert_true(r->peer.neighbours[0].valid);
    assert_int_equal(r->peer.neighbours[0].ip, 0x0A00020Fu);
    assert_memory_equal(r->peer.neighbours[0].mac, guest_mac, 6);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    rig_destroy(r);
}

static void test_arp_reply_exact(void **state)
{
    (void)state;
    check_arp_at(1000000000ull, 1000);        /* 20000 cycles */
    check_arp_at(3333333333ull, 123457);      /* 66666.67 -> 66667 */
    check_arp_at(2400000001ull, 7);           /* 48000.00002 -> 48001 */
    check_arp_at(0, 5);                       /* 0 means 1 GHz */
    struct rig *r = rig_create(3333333333ull);
    assert_int_equal(r->peer.reply_cycles, 66667);
    rig_destroy(r);
}

/* unicast requests (Linux's NUD probes), the 42-byte unpadded form, probes from 0.0.0.0 */
static void test_arp_variants(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    uint8_t request[60];
    make_arp_request(request, guest_mac, guest_ip, peer_ip);
    memcpy(request, peer_mac, 6);              /* unicast to the peer */
    send(r, request, 42);                      /* not padded */
    static const uint8_t zero_ip[4] = { 0, 0, 0, 0 };
    static const uint8_t other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x07 };
    make_arp_request(request, other_mac, zero_ip, peer_ip);
    send(r, request, 60);
    advance(r, 20000);
    assert_int_equal(r->delivered, 2);
    assert_memory_equal(r->frame[0], arp_reply, 60);
    /* the probe's reply: to the prober, target protocol address 0.0.0.0 */
    assert_memory_equal(r->frame[1], other_mac, 6);
    assert_memory_equal(r->frame[1] + 32, other_mac, 6);
    assert_memory_equal(r->frame[1] + 38, zero_ip, 4);
    assert_int_equal(r->length[1], 60);
    /* the probe was not learned */
    assert_false(r->peer.neighbours[1].valid);
    assert_int_equal(r->peer.arp_replies, 2);
    rig_destroy(r);
}

/* The RFC 826 cache: the learned MAC addresses the echo reply even when the Ethernet source
 * differs; an unknown requester is answered at its Ethernet source; LRU replacement; merge
 * updates of an existing entry from a request for someone else. */
static void test_arp_cache(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    static const uint8_t learned_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
    make_arp_request(frame, learned_mac, guest_ip, peer_ip);
    send(r, frame, 60);
    struct echo_spec s = default_echo(56);
    send(r, frame, make_echo(frame, &s));
    advance(r, 20000);
    assert_int_equal(r->delivered, 2);
    assert_memory_equal(r->frame[1], learned_mac, 6);

    /* an ARP request for another host from 10.0.2.15 updates (merges) the entry */
    static const uint8_t other_ip[4] = { 10, 0, 2, 3 };
    make_arp_request(frame, guest_mac, guest_ip, other_ip);
    send(r, frame, 60);
    assert_memory_equal(r->peer.neighbours[0].mac, guest_mac, 6);
    /* ...but does not add a stranger */
    static const uint8_t stranger_ip[4] = { 10, 0, 2, 99 };
    make_arp_request(frame, learned_mac, stranger_ip, other_ip);
    send(r, frame, 60);
    assert_false(r->peer.neighbours[1].valid);

    /* unknown 10.0.2.16: answered at the Ethernet source */
    s.src_ip[3] = 16;
    send(r, frame, make_echo(frame, &s));
    advance(r, 40000);
    assert_int_equal(r->delivered, 3);
    assert_memory_equal(r->frame[2], guest_mac, 6);

    /* five hosts through a four-entry cache: the least recently used one goes */
    for (uint8_t host = 20; host < 25; host++) {
        uint8_t mac[6] = { 0x02, 0, 0, 0, 0, host };
        uint8_t ip[4] = { 10, 0, 2, host };
        make_arp_request(frame, mac, ip, peer_ip);
        send(r, frame, 60);
    }
    unsigned found = 0;
    for (unsigned i = 0; i < X86_NET_PEER_ARP_ENTRIES; i++) {
        assert_true(r->peer.neighbours[i].valid);
        assert_true(r->peer.neighbours[i].ip >= 0x0A000215u); /* 10.0.2.15 and 10.0.2.20 gone */
        found++;
    }
    assert_int_equal(found, 4);
    advance(r, 100000);
    assert_accounting(r, 10);
    rig_destroy(r);
}

/* ---- ICMP ---------------------------------------------------------------------------------- */

static void test_echo_reply_exact(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    advance(r, 500);
    send(r, echo_request_56, sizeof(echo_request_56));
    advance(r, 20499);
    assert_int_equal(r->delivered, 0);
    advance(r, 20500);
    assert_int_equal(r->delivered, 1);
    assert_int_equal(r->length[0], sizeof(echo_reply_56));
    assert_memory_equal(r->frame[0], echo_reply_56, sizeof(echo_reply_56));
    assert_int_equal(fold_sum(r->frame[0] + 14, 20), 0xFFFF);
    assert_int_equal(fold_sum(r->frame[0] + 34, 64), 0xFFFF);

    /* odd length, DF clear; the IP id counts on (1 now) */
    struct echo_spec s = default_echo(57);
    s.seed = 0xC3, s.step = 7, s.seq = 2, s.ip_id = 0x9C3F, s.flags = 0;
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
    size_t length = make_echo(frame, &s);
    assert_int_equal(get16(frame + 36), 0x9510); /* the builder agrees with the reference */
    send(r, frame, length);
    advance(r, 40500);
    assert_int_equal(r->delivered, 2);
    assert_int_equal(r->length[1], 99);
    assert_int_equal(get16(r->frame[1] + 18), 1);
    assert_int_equal(get16(r->frame[1] + 36), 0x9D10);
    /* the reference has IP id 0: compare around the id and the header checksum */
    assert_memory_equal(r->frame[1], echo_reply_57, 18);
    assert_memory_equal(r->frame[1] + 20, echo_reply_57 + 20, 4);
    assert_memory_equal(r->frame[1] + 26, echo_reply_57 + 26, 99 - 26);
    assert_int_equal(get16(r->frame[1] + 24), 0x6298 - 1); /* id 1 lowers the checksum by 1 */
    assert_int_equal(r->peer.echo_replies, 2);
    rig_destroy(r);
}

static void test_echo_payload_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 0, 1, 55, 56, 57, 1471, 1472 };
    struct rig *r = rig_create(1000000000ull);
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct echo_spec s = default_echo(sizes[i]);
        s.seq = (unsigned)i;
        s.seed = (uint8_t)(0x5A + i);
        s.step = 3;
        s.flags = i & 1 ? 0 : 0x4000;
        s.tos = (uint8_t)(i * 4);
        size_t length = make_echo(frame, &s);
        assert_int_equal(fold_sum(frame + 34, 8 + sizes[i]), 0xFFFF);
        send(r, frame, length);
        advance(r, r->cycles + 20000);
        assert_int_equal(r->delivered, i + 1);
        check_echo_reply(r->frame[i], r->length[i], &s, (unsigned)i);
    }
    assert_int_equal(r->length[0], 60);   /* 42 bytes padded */
    assert_int_equal(r->length[6], 1514); /* 1472 bytes: a full 1500-byte datagram */
    /* 1473 bytes of data would exceed the MTU: malformed (a 1500-MTU NIC drops it) */
    struct echo_spec big = default_echo(1473);
    uint8_t *giant = malloc(1515);
    assert_non_null(giant);
    size_t length = make_echo(giant, &big);
    assert_int_equal(length, 1515);
    send(r, giant, length);
    free(giant);
    assert_int_equal(r->peer.malformed, 1);
    assert_accounting(r, 8);
    rig_destroy(r);
}

/* IP options (IHL > 5) are stripped from the reply, as QEMU's slirp does */
static void test_echo_with_options(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
    struct echo_spec s = default_echo(56);
    s.options = 8;
    size_t length = make_echo(frame, &s);
    assert_int_equal(frame[14], 0x47);
    send(r, frame, length);
    advance(r, 20000);
    assert_int_equal(r->delivered, 1);
    check_echo_reply(r->frame[0], r->length[0], &s, 0);
    assert_int_equal(r->length[0], 98);
    rig_destroy(r);
}

/* Ethernet padding after the datagram is not part of it; a frame's echo over the broadcast MAC
 * is still for the peer when the IP destination is */
static void test_echo_padding_and_broadcast_mac(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
    struct echo_spec s = default_echo(4);
    size_t length = make_echo(frame, &s); /* 46 bytes, padded to 60 */
    assert_int_equal(length, 60);
    memset(frame + 46, 0xEE, 14);         /* junk padding must not enter the checksum */
    send(r, frame, length);
    static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    s.eth_dst = broadcast;
    s.seq = 2;
    send(r, frame, make_echo(frame, &s));
    advance(r, 20000);
    assert_int_equal(r->delivered, 2);
    s.seq = 1;
    check_echo_reply(r->frame[0], r->length[0], &s, 0);
    s.seq = 2;
    check_echo_reply(r->frame[1], r->length[1], &s, 1);
    rig_destroy(r);
}

/* ---- what is ignored ----------------------------------------------------------------------- */

static void test_ignored(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
    static const uint8_t other_mac[6] = { 0x52, 0x55, 0x0A, 0x00, 0x02, 0x03 };
    static const uint8_t multicast_mac[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 };
    static const uint8_t ipv6_multicast[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x02 };
    unsigned frames = 0;

    /* ARP for 10.0.2.3 */
    static const uint8_t dns_ip[4] = { 10, 0, 2, 3 };
    send(r, frame, make_arp_request(frame, guest_mac, guest_ip, dns_ip)), frames++;
    /* an ARP reply to the peer (nothing to answer) */
    make_arp_request(frame, guest_mac, guest_ip, peer_ip);
    frame[21] = 2;
    send(r, frame, 60), frames++;
    /* ARP for another hardware or protocol type */
    make_arp_request(frame, guest_mac, guest_ip, peer_ip);
    frame[15] = 6; /* IEEE 802 */
    send(r, frame, 60), frames++;
    make_arp_request(frame, guest_mac, guest_ip, peer_ip);
    frame[16] = 0x86, frame[17] = 0xDD;
    send(r, frame, 60), frames++;
    /* an ARP request from a group address */
    make_arp_request(frame, multicast_mac, guest_ip, peer_ip);
    send(r, frame, 60), frames++;

    struct echo_spec s;
    /* echo to 10.0.2.3, to the subnet broadcast, to the limited broadcast */
    const uint8_t destinations[3][4] = { { 10, 0, 2, 3 }, { 10, 0, 2, 255 }, { 255, 255, 255, 255 } };
    for (int i = 0; i < 3; i++) {
        s = default_echo(56);
        memcpy(s.dst_ip, destinations[i], 4);
        send(r, frame, make_echo(frame, &s)), frames++;
    }
    /* to another MAC; to a multicast MAC; from a multicast MAC */
    s = default_echo(56), s.eth_dst = other_mac;
    send(r, frame, make_echo(frame, &s)), frames++;
    s = default_echo(56), s.eth_dst = multicast_mac;
    send(r, frame, make_echo(frame, &s)), frames++;
    s = default_echo(56), s.eth_src = multicast_mac;
    send(r, frame, make_echo(frame, &s)), frames++;
    /* an echo reply, a destination unreachable, UDP, TCP */
    s = default_echo(56), s.type = 0;
    send(r, frame, make_echo(frame, &s)), frames++;
    s = default_echo(56), s.type = 3;
    send(r, frame, make_echo(frame, &s)), frames++;
    s = default_echo(56), s.protocol = 17;
    send(r, frame, make_echo(frame, &s)), frames++;
    s = default_echo(56), s.protocol = 6;
    send(r, frame, make_echo(frame, &s)), frames++;
    /* from 0.0.0.0, from loopback */
    s = default_echo(56), memset(s.src_ip, 0, 4);
    send(r, frame, make_echo(frame, &s)), frames++;
    s = default_echo(56), s.src_ip[0] = 127;
    send(r, frame, make_echo(frame, &s)), frames++;
    /* IPv6 (a neighbour solicitation's frame), a VLAN-tagged echo, an 802.3 length frame */
    s = default_echo(56), s.eth_dst = ipv6_multicast;
    size_t length = make_echo(frame, &s);
    frame[12] = 0x86, frame[13] = 0xDD;
    send(r, frame, length), frames++;
    s = default_echo(56);
    length = make_echo(frame, &s);
    frame[12] = 0x86, frame[13] = 0xDD; /* IPv6 type, unicast to the peer */
    send(r, frame, length), frames++;
    uint8_t tagged[102];
    memcpy(tagged, echo_request_56, 12);
    tagged[12] = 0x81, tagged[13] = 0x00, tagged[14] = 0x00, tagged[15] = 0x05;
    memcpy(tagged + 16, echo_request_56 + 12, 86);
    send(r, tagged, sizeof(tagged)), frames++;
    memcpy(frame, echo_request_56, 98);
    frame[12] = 0x00, frame[13] = 84;
    send(r, frame, 98), frames++;

    /* fragments: MF set, a non-zero offset */
    s = default_echo(56), s.flags = 0x2000;
    send(r, frame, make_echo(frame, &s)), frames++;
    s = default_echo(56), s.flags = 0x0010;
    send(r, frame, make_echo(frame, &s)), frames++;

    advance(r, 1000000);
    assert_int_equal(r->delivered, 0);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    assert_int_equal(r->peer.ignored, frames);
    assert_int_equal(r->peer.fragments, 2);
    assert_int_equal(r->peer.malformed, 0);
    assert_int_equal(r->peer.bad_checksum, 0);
    assert_int_equal(r->peer.arp_replies + r->peer.echo_replies + r->peer.dropped, 0);
    /* nothing was learned from the ARP traffic not for the peer (none was in the table) */
    for (unsigned i = 0; i < X86_NET_PEER_ARP_ENTRIES; i++)
        assert_false(r->peer.neighbours[i].valid && r->peer.neighbours[i].ip == 0x0A000203u);
    rig_destroy(r);
}

static void test_bad_checksums_dropped(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    uint8_t frame[98];
    memcpy(frame, echo_request_56, 98);
    frame[25] ^= 0x01; /* the IP header checksum */
    send(r, frame, 98);
    memcpy(frame, echo_request_56, 98);
    frame[22] = 63;    /* TTL changed without the checksum */
    send(r, frame, 98);
    memcpy(frame, echo_request_56, 98);
    frame[37] ^= 0x80; /* the ICMP checksum */
    send(r, frame, 98);
    memcpy(frame, echo_request_56, 98);
    frame[97] ^= 0x01; /* the last data byte */
    send(r, frame, 98);
    advance(r, 100000);
    assert_int_equal(r->delivered, 0);
    assert_int_equal(r->peer.bad_checksum, 4);
    assert_int_equal(r->peer.ignored, 4);
    /* the same frame intact is answered */
    send(r, echo_request_56, 98);
    advance(r, 200000);
    assert_int_equal(r->delivered, 1);
    assert_memory_equal(r->frame[0], echo_reply_56, 98);
    rig_destroy(r);
}

/* Every prefix 0..100 of a real ARP request and a real echo request, each in a buffer of
 * exactly that length (ASan catches reads past it); then every header byte of the echo set
 * to a range of values. Nothing crashes, every frame is accounted for once, and exactly the
 * complete frames are answered. */
static void test_truncated_and_corrupted(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    uint8_t arp[100] = { 0 };
    make_arp_request(arp, guest_mac, guest_ip, peer_ip);
    uint8_t echo[100] = { 0 };
    memcpy(echo, echo_request_56, 98);
    uint64_t frames = 0;
    for (size_t length = 0; length <= 100; length++) {
        unsigned before = r->delivered;
        send(r, arp, length), frames++;
        send(r, echo, length), frames++;
        advance(r, r->cycles + 20000);
        unsigned expected = (length >= 42) + (length >= 98);
        assert_int_equal(r->delivered - before, expected);
        if (length >= 98) { /* padding past the datagram is not part of the reply */
            assert_int_equal(r->length[r->delivered - 1], 98);
            assert_memory_equal(r->frame[r->delivered - 1], echo_reply_56, 18);
            assert_memory_equal(r->frame[r->delivered - 1] + 26, echo_reply_56 + 26, 72);
        }
        r->delivered = 0;
        assert_accounting(r, frames);
    }
    /* lengths short of an Ethernet header or of the claimed datagram are malformed */
    assert_int_equal(r->peer.malformed, 14 + 14 + (42 - 14) + (98 - 14));

    uint8_t corrupt[98];
    static const uint8_t values[] = { 0x00, 0x01, 0x04, 0x05, 0x06, 0x0F, 0x40, 0x45, 0x4F,
                                      0x7F, 0x80, 0xF0, 0xFE, 0xFF };
    for (size_t offset = 0; offset < 98; offset++) {
        for (size_t v = 0; v < sizeof(values); v++) {
            memcpy(corrupt, echo_request_56, 98);
            corrupt[offset] = values[v];
            for (size_t length = offset + 1; length <= 98; length += 97 - offset ? 97 - offset : 1) {
                send(r, corrupt, length), frames++;
                advance(r, r->cycles + 20000);
                r->delivered = 0;
            }
        }
    }
    /* bad lengths in the header: total length larger than the frame or smaller than the
     * header, IHL < 5, IP versions other than 4 */
    static const struct { size_t offset; uint8_t value; } lengths[] = {
        { 16, 0x01 }, { 17, 0x55 }, { 17, 0x13 }, { 17, 0x00 }, { 14, 0x05 }, { 14, 0x44 },
        { 14, 0x40 }, { 14, 0x65 },
    };
    uint64_t malformed = r->peer.malformed;
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        memcpy(corrupt, echo_request_56, 98);
        corrupt[lengths[i].offset] = lengths[i].value;
        send(r, corrupt, 98), frames++;
    }
    assert_int_equal(r->peer.malformed - malformed, 8);
    /* IHL 15 (60 bytes) past a 60-byte frame's 46 */
    memcpy(corrupt, echo_request_56, 98);
    corrupt[14] = 0x4F;
    send(r, corrupt, 60), frames++;
    assert_int_equal(r->peer.malformed - malformed, 9);
    /* a datagram of 20 + 4 bytes: too short for an ICMP header (checksums correct) */
    memcpy(corrupt, echo_request_56, 98);
    corrupt[16] = 0, corrupt[17] = 24;
    put16(corrupt + 24, 0);
    put16(corrupt + 24, (uint16_t)~fold_sum(corrupt + 14, 20));
    send(r, corrupt, 98), frames++;
    assert_int_equal(r->peer.malformed - malformed, 10);
    advance(r, r->cycles + 20000);
    assert_accounting(r, frames);
    rig_destroy(r);
}

/* ---- timing and the queue ------------------------------------------------------------------ */

static void test_queue_order(void **state)
{
    (void)state;
    struct rig *r = rig_create(2000000000ull); /* 40000 cycles */
    uint8_t frame[X86_NET_PEER_MAX_FRAME];
    uint8_t arp[60];
    make_arp_request(arp, guest_mac, guest_ip, peer_ip);
    static const uint64_t at[5] = { 100, 100, 7000, 39000, 39000 };
    for (unsigned i = 0; i < 5; i++) {
        advance(r, at[i]);
        if (i == 2) {
            send(r, arp, 60);
            continue;
        }
        struct echo_spec s = default_echo(56 + i);
        s.seq = i;
        send(r, frame, make_echo(frame, &s));
    }
    assert_int_equal(r->peer.queue_count, 5);
    advance(r, 40099);
    assert_int_equal(r->delivered, 0);
    advance(r, 40100);
    assert_int_equal(r->delivered, 2);
    advance(r, 47000);
    assert_int_equal(r->delivered, 3);
    /* the NIC can be late to run the event: what is due goes, in order */
    advance(r, 100000);
    assert_int_equal(r->delivered, 5);
    unsigned ip_id = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (i == 2) {
            assert_memory_equal(r->frame[i], arp_reply, 60);
            continue;
        }
        struct echo_spec s = default_echo(56 + i);
        s.seq = i;
        check_echo_reply(r->frame[i], r->length[i], &s, ip_id++);
    }
    assert_int_equal(r->cycle[0], 40100);
    assert_int_equal(r->cycle[2], 47000);
    assert_int_equal(r->peer.echo_replies, 4);
    assert_int_equal(r->peer.arp_replies, 1);

    /* ten at once: eight fit, two are dropped */
    r->delivered = 0;
    for (unsigned i = 0; i < 10; i++) {
        struct echo_spec s = default_echo(8);
        s.seq = 100 + i;
        send(r, frame, make_echo(frame, &s));
    }
    assert_int_equal(r->peer.queue_count, X86_NET_PEER_QUEUE);
    assert_int_equal(r->peer.dropped, 2);
    assert_int_equal(r->peer.overflowed, 2);
    advance(r, 140000);
    assert_int_equal(r->delivered, X86_NET_PEER_QUEUE);
    for (unsigned i = 0; i < X86_NET_PEER_QUEUE; i++) {
        assert_int_equal(get16(r->frame[i] + 40), 100 + i);
        assert_int_equal(r->cycle[i], 140000);
    }
    assert_accounting(r, 15);

    /* through the NIC's transmit callback with explicit cycles: a request stamped earlier than
     * the one before still leaves after it (order is kept) */
    r->delivered = 0;
    x86_net_peer_transmit(&r->peer, echo_request_56, 98, 200000);
    x86_net_peer_transmit(&r->peer, echo_request_56, 98, 150000);
    assert_int_equal(r->peer.queue[(r->peer.queue_head + 1) % X86_NET_PEER_QUEUE].cycle, 240000);
    advance(r, 239999);
    assert_int_equal(r->delivered, 0);
    advance(r, 240000);
    assert_int_equal(r->delivered, 2);
    rig_destroy(r);
}

static void test_deliver_refused(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    r->accept = 0;
    send(r, echo_request_56, 98);
    uint8_t arp[60];
    send(r, arp, make_arp_request(arp, guest_mac, guest_ip, peer_ip));
    advance(r, 20000);
    assert_int_equal(r->delivered, 2); /* offered once each */
    assert_int_equal(r->peer.dropped, 2);
    assert_int_equal(r->peer.refused, 2);
    assert_int_equal(r->peer.echo_replies + r->peer.arp_replies, 0);
    advance(r, 1000000);
    assert_int_equal(r->delivered, 2); /* no retry */
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    /* the NIC takes the next one */
    r->accept = 1;
    send(r, echo_request_56, 98);
    advance(r, 1020000);
    assert_int_equal(r->delivered, 3);
    assert_int_equal(r->peer.echo_replies, 1);
    assert_int_equal(get16(r->frame[2] + 18), 1); /* the refused reply used IP id 0 */
    assert_accounting(r, 3);
    rig_destroy(r);
}

/* a frame sent by the guest from inside deliver() (as a NIC's loopback could) keeps order */
static int deliver_and_send(void *opaque, const uint8_t *frame, size_t length)
{
    struct rig *r = opaque;
    int taken = record_delivery(opaque, frame, length);
    if (r->delivered == 1)
        send(r, echo_request_56, 98);
    return taken;
}

static void test_reentrant_send_and_finish(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull);
    r->peer.deliver = deliver_and_send;
    send(r, echo_request_56, 98);
    advance(r, 10);
    send(r, echo_request_56, 98);
    advance(r, 20000);
    assert_int_equal(r->delivered, 1);
    advance(r, 20010);
    assert_int_equal(r->delivered, 2);
    advance(r, 39999);
    assert_int_equal(r->delivered, 2);
    advance(r, 40000); /* the one sent from deliver() at 20000 */
    assert_int_equal(r->delivered, 3);
    assert_int_equal(get16(r->frame[2] + 18), 2);

    /* finish cancels what is in flight */
    send(r, echo_request_56, 98);
    x86_net_peer_finish(&r->peer);
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    advance(r, 100000);
    assert_int_equal(r->delivered, 3);
    rig_destroy(r);
}

/* without an event queue the reply goes at once */
static void test_no_event_queue(void **state)
{
    (void)state;
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->accept = 1;
    x86_net_peer_init(&r->peer, NULL, NULL, 0, record_delivery, r);
    send(r, echo_request_56, 98);
    assert_int_equal(r->delivered, 1);
    assert_memory_equal(r->frame[0], echo_reply_56, 98);
    assert_int_equal(r->peer.queue_count, 0);
    /* and with no deliver() the reply is dropped */
    r->peer.deliver = NULL;
    send(r, echo_request_56, 98);
    assert_int_equal(r->peer.dropped, 1);
    x86_net_peer_finish(&r->peer);
    free(r);
}

/* ---- end to end: the peer on a real e1000 -------------------------------------------------- */

#define RAM_SIZE (1u << 20)
#define MMIO_BASE 0xFEB00000u
#define PCI_DEVICE 3
#define RCTL 0x0100
#define TCTL 0x0400
#define RDBAL 0x2800
#define RDLEN 0x2808
#define RDH 0x2810
#define RDT 0x2818
#define TDBAL 0x3800
#define TDLEN 0x3808
#define TDH 0x3810
#define TDT 0x3818
#define RCTL_EN 0x2u
#define RCTL_BAM 0x8000u
#define RCTL_SECRC (1u << 26)
#define TCTL_EN 0x2u
#define RX_RING 0x10000u
#define RX_BUFFERS 0x20000u
#define TX_RING 0x40000u
#define TX_BUFFERS 0x50000u

struct wire {
    uint64_t cycles;
    struct x86_event_queue queue;
    struct x86_bus bus;
    struct x86_pci_bus pci;
    struct x86_e1000 nic;
    struct x86_net_peer peer;
};

static void ignore_irq(void *opaque, int line, int level)
{
    (void)opaque, (void)line, (void)level;
}

static int to_nic(void *opaque, const uint8_t *frame, size_t length)
{
    return x86_e1000_receive(opaque, frame, length);
}

static void nic_write(struct wire *w, uint32_t offset, uint32_t value)
{
    x86_bus_mmio_write(&w->bus, MMIO_BASE + offset, 4, value);
}

static uint32_t nic_read(struct wire *w, uint32_t offset)
{
    return (uint32_t)x86_bus_mmio_read(&w->bus, MMIO_BASE + offset, 4);
}

static void put64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* the guest transmits a frame through descriptor `index` */
static void guest_transmit(struct wire *w, unsigned index, const uint8_t *frame, size_t length)
{
    uint8_t *buffer = w->bus.ram + TX_BUFFERS + 2048 * index;
    memcpy(buffer, frame, length);
    uint8_t *d = w->bus.ram + TX_RING + 16 * index;
    memset(d, 0, 16);
    put64le(d, TX_BUFFERS + 2048 * index);
    d[8] = (uint8_t)length, d[9] = (uint8_t)(length >> 8);
    d[11] = 0x0B; /* EOP | IFCS | RS */
    nic_write(w, TDT, index + 1);
}

static void test_end_to_end_e1000(void **state)
{
    (void)state;
    struct wire *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    const uint64_t hz = 2500000000ull; /* 50000 cycles */
    x86_events_init(&w->queue, NULL);
    assert_true(x86_bus_init(&w->bus, RAM_SIZE));
    x86_pci_bus_init(&w->pci);
    assert_int_equal(x86_pci_bus_attach(&w->pci, &w->bus), X86IRQ_OK);
    x86_e1000_init(&w->nic, &w->bus, &w->queue, &w->cycles, hz, guest_mac);
    w->nic.pci.device = PCI_DEVICE;
    w->nic.pci.intx = (struct x86_irq_wire){ ignore_irq, NULL, 11 };
    x86_net_peer_init(&w->peer, &w->queue, &w->cycles, hz, to_nic, &w->nic);
    w->nic.transmit = x86_net_peer_transmit;
    w->nic.transmit_opaque = &w->peer;
    assert_int_equal(x86_pci_add_function(&w->pci, &w->nic.pci), X86IRQ_OK);
    x86_pci_config_write(&w->pci, 0, PCI_DEVICE, 0, 0x10, 4, MMIO_BASE);
    x86_pci_config_write(&w->pci, 0, PCI_DEVICE, 0, 0x04, 2,
                         X86_PCI_COMMAND_MEMORY | X86_PCI_COMMAND_BUS_MASTER);

    /* the driver's rings: 8 receive descriptors with 2 KiB buffers, 8 transmit */
    for (unsigned i = 0; i < 8; i++) {
        memset(w->bus.ram + RX_RING + 16 * i, 0, 16);
        put64le(w->bus.ram + RX_RING + 16 * i, RX_BUFFERS + 2048 * i);
    }
    nic_write(w, RDBAL, RX_RING);
    nic_write(w, RDLEN, 128);
    nic_write(w, RDH, 0);
    nic_write(w, RDT, 7);
    nic_write(w, RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
    nic_write(w, TDBAL, TX_RING);
    nic_write(w, TDLEN, 128);
    nic_write(w, TDH, 0);
    nic_write(w, TDT, 0);
    nic_write(w, TCTL, TCTL_EN);

    /* ARP request at cycle 1000 */
    uint8_t arp[60];
    make_arp_request(arp, guest_mac, guest_ip, peer_ip);
    w->cycles = 1000;
    guest_transmit(w, 0, arp, sizeof(arp));
    assert_int_equal(nic_read(w, TDH), 1);
    w->cycles = 50999;
    x86_events_run_due(&w->queue, w->cycles);
    assert_int_equal(nic_read(w, RDH), 0);
    w->cycles = 51000;
    x86_events_run_due(&w->queue, w->cycles);
    assert_int_equal(nic_read(w, RDH), 1);
    const uint8_t *d = w->bus.ram + RX_RING;
    assert_int_equal(d[8] | d[9] << 8, 60);
    assert_int_equal(d[12] & 0x03, 0x03); /* DD, EOP */
    assert_memory_equal(w->bus.ram + RX_BUFFERS, arp_reply, 60);

    /* then the ping */
    w->cycles = 200000;
    guest_transmit(w, 1, echo_request_56, sizeof(echo_request_56));
    w->cycles = 250000;
    x86_events_run_due(&w->queue, w->cycles);
    assert_int_equal(nic_read(w, RDH), 2);
    d = w->bus.ram + RX_RING + 16;
    assert_int_equal(d[8] | d[9] << 8, 98);
    assert_memory_equal(w->bus.ram + RX_BUFFERS + 2048, echo_reply_56, 98);
    assert_int_equal(w->peer.arp_replies, 1);
    assert_int_equal(w->peer.echo_replies, 1);

    /* the receiver off: the NIC refuses, the peer counts it */
    nic_write(w, RCTL, 0);
    w->cycles = 300000;
    guest_transmit(w, 2, echo_request_56, sizeof(echo_request_56));
    w->cycles = 350000;
    x86_events_run_due(&w->queue, w->cycles);
    assert_int_equal(w->peer.refused, 1);

    x86_net_peer_finish(&w->peer);
    x86_bus_finish(&w->bus);
    x86_events_finish(&w->queue);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp_reply_exact),
        cmocka_unit_test(test_arp_variants),
        cmocka_unit_test(test_arp_cache),
        cmocka_unit_test(test_echo_reply_exact),
        cmocka_unit_test(test_echo_payload_sizes),
        cmocka_unit_test(test_echo_with_options),
        cmocka_unit_test(test_echo_padding_and_broadcast_mac),
        cmocka_unit_test(test_ignored),
        cmocka_unit_test(test_bad_checksums_dropped),
        cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_queue_order),
        cmocka_unit_test(test_deliver_refused),
        cmocka_unit_test(test_reentrant_send_and_finish),
        cmocka_unit_test(test_no_event_queue),
        cmocka_unit_test(test_end_to_end_e1000),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
