/* Guest test: a small e1000 driver. It probes the NIC over PCI (00:03.0, 8086:100E), sizes and
 * maps BAR0, enables memory space and bus mastering, reads the MAC from the EEPROM (EERD),
 * sets up a receive ring and takes the interrupt on INTA through the IOAPIC (GSI 11, level),
 * receives the frames x86irq-run injects (--nic-traffic=10000,64,20: 20 frames of 64 bytes,
 * one every 100000 cycles) in order, and transmits one frame whose descriptor is written back.
 * meson runs it with those options, and a second time with `--nic-msi -- msi`: the driver then
 * enables the MSI capability (address 0xFEE00000, vector 0x51) and the interrupts come as
 * messages to the local APIC, INTx unused; and a third time with `-- itr`: ITR (interrupt
 * throttling, 256 us) coalesces the frames into fewer interrupts, several frames each. */
#include "kernel.h"

#define NIC_MMIO 0xFEB00000u
#define FRAMES 20
#define RING 8

enum { CTRL = 0x0000, STATUS = 0x0008, EERD = 0x0014, ICR = 0x00C0, IMS = 0x00D0, RCTL = 0x0100,
       TCTL = 0x0400, RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818,
       RDTR = 0x2820, ITR = 0x00C4, TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818,
       GPRC = 0x4074, GPTC = 0x4080 };

struct rx_descriptor { uint64_t address; uint16_t length, checksum; uint8_t status, errors; uint16_t special; } __attribute__((packed));
struct tx_descriptor { uint64_t address; uint16_t length; uint8_t cso, cmd, status, css; uint16_t special; } __attribute__((packed));

static struct rx_descriptor rx_ring[RING] __attribute__((aligned(128)));
static struct tx_descriptor tx_ring[RING] __attribute__((aligned(128)));
static uint8_t rx_buffers[RING][2048] __attribute__((aligned(16)));
static uint8_t tx_buffer[64] __attribute__((aligned(16)));
static unsigned rx_next;
static volatile unsigned received, interrupts, in_order = 1, lengths_ok = 1;

static uint32_t config_read(unsigned device, unsigned offset)
{
    outl(0xCF8, 0x80000000u | (device << 11) | (offset & 0xFC));
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)0xCFC));
    return v;
}
static void config_write(unsigned device, unsigned offset, uint32_t value)
{
    outl(0xCF8, 0x80000000u | (device << 11) | (offset & 0xFC));
    outl(0xCFC, value);
}
/* the register accesses are also compiler barriers: descriptors written before a doorbell
 * must be in memory when the NIC reads them (a driver's wmb()) */
static uint32_t nic_read(uint32_t reg)
{
    __asm__ volatile("" ::: "memory");
    return *(volatile uint32_t *)(NIC_MMIO + reg);
}
static void nic_write(uint32_t reg, uint32_t v)
{
    __asm__ volatile("" ::: "memory");
    *(volatile uint32_t *)(NIC_MMIO + reg) = v;
}
static void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)0xFEC00000u = reg;
    *(volatile uint32_t *)0xFEC00010u = v;
}

static void on_nic(struct trap_frame *f)
{
    (void)f;
    interrupts++;
    uint32_t cause = nic_read(ICR);                 /* read clears: INTA drops */
    (void)cause;
    volatile struct rx_descriptor *ring = rx_ring;  /* written by the NIC's DMA */
    while (ring[rx_next].status & 0x1) {             /* DD */
        const uint8_t *frame = rx_buffers[rx_next];
        uint32_t sequence = (uint32_t)frame[14] << 24 | (uint32_t)frame[15] << 16 |
                            (uint32_t)frame[16] << 8 | frame[17];
        if (sequence != received)
            in_order = 0;
        if (ring[rx_next].length != 64 || !(ring[rx_next].status & 0x2))
            lengths_ok = 0;
        received++;
        ring[rx_next].status = 0;
        nic_write(RDT, rx_next);                      /* give the descriptor back */
        rx_next = (rx_next + 1) % RING;
    }
    *(volatile uint32_t *)0xFEE000B0u = 0;            /* EOI */
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    kernel_init();
    int bad = (info->flags & MB_INFO_CMDLINE) && strstr((const char *)info->cmdline, " bad");
    tap_plan(13); /* both paths check 13 things */
    is_u32(config_read(3, 0), 0x100E8086u, "PCI 00:03.0 is the 82540EM (8086:100E)");
    is_u32(config_read(3, 8) >> 8, 0x020000u, "class 02/00/00: an Ethernet controller");
    is_u32(config_read(3, 0x3C) & 0xFFFF, 0x010B, "INTA, routed to line 11");
    config_write(3, 0x10, 0xFFFFFFFFu);
    is_u32(config_read(3, 0x10), 0xFFFE0000u, "BAR0 sizes to 128 KiB of memory");
    config_write(3, 0x10, NIC_MMIO);
    config_write(3, 0x04, 0x0006);                    /* memory space, bus master */
    ok(nic_read(STATUS) & 0x2, "STATUS: link up");
    uint8_t mac[6];
    for (unsigned w = 0; w < 3; w++) {
        nic_write(EERD, 1 | (w << 8));
        uint32_t v;
        while (!((v = nic_read(EERD)) & 0x10))
            ;
        mac[2 * w] = (uint8_t)(v >> 16);
        mac[2 * w + 1] = (uint8_t)(v >> 24);
    }
    ok(mac[0] == 0x52 && mac[1] == 0x54 && mac[5] == 0x56, "the MAC from the EEPROM: %02x:%02x:...:%02x",
       mac[0], mac[1], mac[5]);

    trap_set_handler(0x50, on_nic, 0x8E, 0);
    trap_set_handler(0x51, on_nic, 0x8E, 0);
    int msi = (info->flags & MB_INFO_CMDLINE) && strstr((const char *)info->cmdline, " msi");
    if (msi) {
        /* the capability list from 0x34 to the MSI capability (ID 5) */
        unsigned cap = config_read(3, 0x34) & 0xFF;
        while (cap && (config_read(3, cap) & 0xFF) != 0x05)
            cap = (config_read(3, cap) >> 8) & 0xFF;
        ok(cap != 0, "MSI capability found at 0x%02x", cap);
        config_write(3, cap + 4, 0xFEE00000u);          /* message address: APIC 0 */
        config_write(3, cap + 8, 0x0051);               /* data: fixed, edge, vector 0x51 */
        config_write(3, cap, config_read(3, cap) | 0x10000u); /* MSI enable */
    } else {
        ok(1, "INTx: line 11 through the IOAPIC");
        ioapic_write(0x10 + 2 * 11 + 1, 0);
        ioapic_write(0x10 + 2 * 11, 0xA050);           /* level, active low (PCI), vector 0x50 */
    }
    for (unsigned i = 0; i < RING; i++)
        rx_ring[i] = (struct rx_descriptor){ .address = (uint32_t)rx_buffers[i] };
    nic_write(RDBAL, (uint32_t)rx_ring);
    nic_write(RDBAH, 0);
    nic_write(RDLEN, sizeof(rx_ring));
    nic_write(RDH, 0);
    nic_write(RDT, RING - 1);
    nic_write(RDTR, 0);
    int coalesce = (info->flags & MB_INFO_CMDLINE) && strstr((const char *)info->cmdline, " itr");
    if (coalesce)
        nic_write(ITR, 1000);                          /* at most one interrupt per 256 us */
    nic_write(IMS, 0x80);                              /* RXT0 */
    if (bad) {
        /* a descriptor pointing outside RAM: the NIC must drop the frames, count them, and
         * neither write anywhere nor move on; once the driver fixes it, reception resumes */
        rx_ring[0].address = 0xF0000000u;
        nic_write(RCTL, 0x2 | 0x8000 | 0x04000000);
        __asm__ volatile("sti");
        uint64_t start = rdtsc();
        while (rdtsc() - start < 550000)          /* five frames' time */
            __asm__ volatile("pause");
        __asm__ volatile("cli");
        is_u32(received, 0, "bad descriptor: nothing received");
        is_u32(nic_read(RDH), 0, "the ring did not move past it");
        uint32_t arrived = nic_read(0x40D0), good = nic_read(GPRC); /* TPR, GPRC: read-clear */
        ok(arrived >= 4 && good == 0, "the frames arrived (TPR %u) but none was taken (GPRC %u)",
           arrived, good);
        is_u32(((volatile struct rx_descriptor *)rx_ring)[0].status, 0,
               "the bad descriptor was not written back");
        ((volatile struct rx_descriptor *)rx_ring)[0].address = (uint32_t)rx_buffers[0];
        __asm__ volatile("sti");
        for (uint32_t spin = 0; received < 10 && spin < 100000; spin++)
            __asm__ volatile("hlt");
        __asm__ volatile("cli");
        ok(received >= 10, "after the fix, reception resumed (%u frames)", received);
        ok(nic_read(STATUS) & 0x2, "and the NIC still reports its link up");
        tap_done();
    }
    nic_write(RCTL, 0x2 | 0x8000 | 0x04000000);        /* EN, BAM, SECRC; 2048-byte buffers */
    __asm__ volatile("sti");
    for (uint32_t spin = 0; received < FRAMES && spin < 100000; spin++)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    is_u32(received, FRAMES, "every injected frame was received");
    ok(in_order, "in order");
    ok(lengths_ok, "64 bytes each (FCS stripped), EOP set");
    if (coalesce) /* frames every 100 us, interrupts at most every 256 us: about 8 */
        ok(interrupts > 0 && interrupts <= FRAMES / 2, "ITR coalesced %u frames into %u interrupts",
           received, interrupts);
    else
        ok(interrupts > 0 && interrupts <= FRAMES, "through %u interrupts (%s)", interrupts,
           msi ? "MSI" : "INTA");
    is_u32(nic_read(GPRC), FRAMES, "GPRC counted them");

    /* transmit one frame */
    for (unsigned i = 0; i < 6; i++)
        tx_buffer[i] = 0xFF;
    for (unsigned i = 6; i < 12; i++)
        tx_buffer[i] = mac[i - 6];
    tx_buffer[12] = 0x88;
    tx_buffer[13] = 0xB5;
    tx_ring[0] = (struct tx_descriptor){ .address = (uint32_t)tx_buffer, .length = 64,
                                         .cmd = 0x1 | 0x2 | 0x8 };   /* EOP, IFCS, RS */
    nic_write(TDBAL, (uint32_t)tx_ring);
    nic_write(TDBAH, 0);
    nic_write(TDLEN, sizeof(tx_ring));
    nic_write(TDH, 0);
    nic_write(TDT, 0);
    nic_write(TCTL, 0x2);                              /* EN */
    nic_write(TDT, 1);
    /* the NIC wrote the descriptor by DMA: read it through a volatile pointer */
    uint8_t status = ((volatile struct tx_descriptor *)tx_ring)[0].status;
    uint32_t sent = nic_read(GPTC);                   /* read-clear: read once */
    ok((status & 0x1) && sent == 1, "a transmitted frame: DD written back (0x%x), GPTC %u",
       status, sent);
    tap_done();
}
