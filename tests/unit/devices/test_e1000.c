/* Unit tests of src/devices/e1000.c: the 82540EM on a PCI bus, driven through its BARs as a
 * driver would: PCI identity and BAR registration, the EEPROM (EERD and Microwire), the PHY
 * through MDIC, the interrupt registers and line, receive rings (contents, FCS, spanning,
 * wrap-around, filters, missed packets, DMA outside RAM), transmit (descriptor chains,
 * write-back, offloads, loopback), statistics, ITR throttling and the delay timers at exact
 * cycles, reset, and bus mastering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/e1000.h"
#include "devices/pci.h"
#include "platform/bus.h"
#include "platform/events.h"

#define RAM_SIZE (1u << 20)
#define MMIO_BASE 0xFEB00000u
#define IO_BASE 0xC000u
#define PCI_DEVICE 3
#define INTX_LINE 11

/* registers (8254x SDM Table 13-2), written out here independently of the model */
#define CTRL 0x0000
#define STATUS 0x0008
#define EECD 0x0010
#define EERD 0x0014
#define MDIC 0x0020
#define ICR 0x00C0
#define ITR 0x00C4
#define ICS 0x00C8
#define IMS 0x00D0
#define IMC 0x00D8
#define RCTL 0x0100
#define TCTL 0x0400
#define RDBAL 0x2800
#define RDBAH 0x2804
#define RDLEN 0x2808
#define RDH 0x2810
#define RDT 0x2818
#define RDTR 0x2820
#define RADV 0x282C
#define TDBAL 0x3800
#define TDBAH 0x3804
#define TDLEN 0x3808
#define TDH 0x3810
#define TDT 0x3818
#define TIDV 0x3820
#define MPC 0x4010
#define GPRC 0x4074
#define BPRC 0x4078
#define GPTC 0x4080
#define GORCL 0x4088
#define GORCH 0x408C
#define GOTCL 0x4090
#define GOTCH 0x4094
#define RNBC 0x40A0
#define TPR 0x40D0
#define TPT 0x40D4
#define MTA 0x5200
#define RAL0 0x5400
#define RAH0 0x5404

#define ICR_TXDW 0x01u
#define ICR_TXQE 0x02u
#define ICR_LSC 0x04u
#define ICR_RXDMT0 0x10u
#define ICR_RXO 0x40u
#define ICR_RXT0 0x80u
#define ICR_MDAC 0x200u

#define RCTL_EN 0x2u
#define RCTL_UPE 0x8u
#define RCTL_MPE 0x10u
#define RCTL_BAM 0x8000u
#define RCTL_BSIZE_256 (3u << 16)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN 0x2u
#define TCTL_PSP 0x8u

#define RX_RING 0x10000u
#define RX_BUFFERS 0x20000u
#define RX_BUFFER_SIZE 2048u
#define TX_RING 0x40000u
#define TX_BUFFERS 0x50000u

static const uint8_t our_mac[6] = { 0x00, 0x1B, 0x21, 0x0A, 0x0B, 0x0C };

#define MAX_SENT 8
#define MAX_EDGES 16

struct rig {
    uint64_t cycles;
    struct x86_event_queue queue;
    struct x86_bus bus;
    struct x86_pci_bus pci;
    struct x86_e1000 nic;
    int irq_level;
    unsigned irq_rises;
    uint64_t rise_cycle[MAX_EDGES];
    uint8_t sent[MAX_SENT][2048];
    size_t sent_length[MAX_SENT];
    uint64_t sent_cycle[MAX_SENT];
    unsigned sent_count;
    unsigned msi_count;
    uint8_t msi_vector;
};

static void record_irq(void *opaque, int line, int level)
{
    struct rig *r = opaque;
    assert_int_equal(line, INTX_LINE);
    if (level && !r->irq_level) {
        assert_true(r->irq_rises < MAX_EDGES);
        r->rise_cycle[r->irq_rises++] = r->cycles;
    }
    r->irq_level = level;
}

static void record_msi(void *context, const struct x86_msi_message *message)
{
    struct rig *r = context;
    r->msi_count++;
    r->msi_vector = message->vector;
}

static void record_frame(void *opaque, const uint8_t *frame, size_t length, uint64_t cycle)
{
    struct rig *r = opaque;
    assert_true(r->sent_count < MAX_SENT);
    assert_true(length <= sizeof(r->sent[0]));
    memcpy(r->sent[r->sent_count], frame, length);
    r->sent_length[r->sent_count] = length;
    r->sent_cycle[r->sent_count] = cycle;
    r->sent_count++;
}

static void config_write(struct rig *r, uint8_t offset, unsigned size, uint32_t value)
{
    x86_pci_config_write(&r->pci, 0, PCI_DEVICE, 0, offset, size, value);
}

static uint32_t config_read(struct rig *r, uint8_t offset, unsigned size)
{
    return x86_pci_config_read(&r->pci, 0, PCI_DEVICE, 0, offset, size);
}

/* A NIC at 00:03.0 with BAR0 at MMIO_BASE, BAR1 at IO_BASE, memory, I/O and bus mastering on */
static struct rig *rig_create_flags(uint64_t cpu_hz, unsigned flags)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    x86_events_init(&r->queue, NULL);
    assert_true(x86_bus_init(&r->bus, RAM_SIZE));
    x86_pci_bus_init(&r->pci);
    assert_int_equal(x86_pci_bus_attach(&r->pci, &r->bus), X86IRQ_OK);
    x86_e1000_init_flags(&r->nic, &r->bus, &r->queue, &r->cycles, cpu_hz, our_mac, flags);
    r->nic.pci.device = PCI_DEVICE;
    r->nic.pci.intx = (struct x86_irq_wire){ record_irq, r, INTX_LINE };
    r->nic.pci.send_msi = record_msi;
    r->nic.pci.msi_context = r;
    r->nic.transmit = record_frame;
    r->nic.transmit_opaque = r;
    assert_int_equal(x86_pci_add_function(&r->pci, &r->nic.pci), X86IRQ_OK);
    config_write(r, 0x10, 4, MMIO_BASE);
    config_write(r, 0x14, 4, IO_BASE);
    config_write(r, 0x04, 2, X86_PCI_COMMAND_IO | X86_PCI_COMMAND_MEMORY |
                                 X86_PCI_COMMAND_BUS_MASTER);
    return r;
}

static struct rig *rig_create(uint64_t cpu_hz)
{
    return rig_create_flags(cpu_hz, 0);
}

static void rig_destroy(struct rig *r)
{
    x86_bus_finish(&r->bus);
    x86_events_finish(&r->queue);
    free(r);
}

static uint32_t rd(struct rig *r, uint32_t offset)
{
    return (uint32_t)x86_bus_mmio_read(&r->bus, MMIO_BASE + offset, 4);
}

static void wr(struct rig *r, uint32_t offset, uint32_t value)
{
    x86_bus_mmio_write(&r->bus, MMIO_BASE + offset, 4, value);
}

static void advance(struct rig *r, uint64_t cycle)
{
    r->cycles = cycle;
    x86_events_run_due(&r->queue, cycle);
}

static uint8_t *ram(struct rig *r, uint64_t address)
{
    return r->bus.ram + address;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* the test's own CRC-32 (IEEE 802.3), checked against the standard check value below */
static uint32_t crc32_ieee(const uint8_t *data, size_t length)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

/* a frame to dst from a fixed source, payload bytes seed, seed+1, ... */
static size_t make_frame(uint8_t *frame, const uint8_t dst[6], size_t length, uint8_t seed)
{
    static const uint8_t source[6] = { 0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE };
    memcpy(frame, dst, 6);
    memcpy(frame + 6, source, 6);
    frame[12] = 0x08;
    frame[13] = 0x00;
    for (size_t i = 14; i < length; i++)
        frame[i] = (uint8_t)(seed + i);
    return length;
}

/* a receive ring of `count` descriptors with 2 KiB buffers; RDH = 0, RDT = count - 1 */
static void setup_receive(struct rig *r, unsigned count, uint32_t rctl)
{
    for (unsigned i = 0; i < count; i++) {
        uint8_t *d = ram(r, RX_RING + 16 * i);
        memset(d, 0, 16);
        put64(d, RX_BUFFERS + RX_BUFFER_SIZE * i);
    }
    wr(r, RDBAL, RX_RING);
    wr(r, RDBAH, 0);
    wr(r, RDLEN, 16 * count);
    wr(r, RDH, 0);
    wr(r, RDT, count - 1);
    wr(r, RCTL, rctl);
}

static uint8_t *rx_descriptor(struct rig *r, unsigned index)
{
    return ram(r, RX_RING + 16 * index);
}

static void setup_transmit(struct rig *r, unsigned count)
{
    memset(ram(r, TX_RING), 0, 16 * count);
    wr(r, TDBAL, TX_RING);
    wr(r, TDBAH, 0);
    wr(r, TDLEN, 16 * count);
    wr(r, TDH, 0);
    wr(r, TDT, 0);
    wr(r, TCTL, TCTL_EN);
}

static void tx_legacy(struct rig *r, unsigned index, uint64_t buffer, uint16_t length,
                      uint8_t command)
{
    uint8_t *d = ram(r, TX_RING + 16 * index);
    memset(d, 0, 16);
    put64(d, buffer);
    d[8] = (uint8_t)length;
    d[9] = (uint8_t)(length >> 8);
    d[11] = command;
}

/* ---- PCI --------------------------------------------------------------------------------- */

static void test_pci_identity_and_bars(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    assert_int_equal(config_read(r, 0x00, 2), 0x8086);
    assert_int_equal(config_read(r, 0x02, 2), 0x100E);
    assert_int_equal(config_read(r, 0x08, 4) >> 8, 0x020000); /* Ethernet controller */
    assert_int_equal(config_read(r, 0x3D, 1), 1);             /* INTA */
    assert_int_equal(config_read(r, 0x2C, 2), 0x8086);
    assert_int_equal(config_read(r, 0x2E, 2), 0x001E);
    assert_false(config_read(r, 0x06, 2) & X86_PCI_STATUS_CAPABILITIES); /* no MSI */

    /* BAR sizing: 128 KiB memory, 64 bytes of I/O */
    config_write(r, 0x10, 4, 0xFFFFFFFFu);
    assert_int_equal(config_read(r, 0x10, 4), 0xFFFE0000u);
    config_write(r, 0x14, 4, 0xFFFFFFFFu);
    assert_int_equal(config_read(r, 0x14, 4), 0xFFFFFFC1u);
    assert_int_equal(config_read(r, 0x18, 4), 0); /* nothing else */
    config_write(r, 0x10, 4, MMIO_BASE);
    config_write(r, 0x14, 4, IO_BASE);

    /* BAR0 registered: STATUS reads link up, full duplex, 1000 Mb/s */
    const struct x86_io_region *region = x86_bus_find_mmio(&r->bus, MMIO_BASE + 0x1FFFF);
    assert_non_null(region);
    assert_ptr_equal(region->opaque, &r->nic);
    assert_int_equal(rd(r, STATUS), 0x83);
    assert_string_equal(x86_e1000_register_name(STATUS), "STATUS");

    /* moving BAR0 removes the old range and registers the new one */
    config_write(r, 0x10, 4, 0xFEA00000u);
    assert_null(x86_bus_find_mmio(&r->bus, MMIO_BASE));
    assert_int_equal(x86_bus_mmio_read(&r->bus, 0xFEA00000u + STATUS, 4), 0x83);
    /* memory space off: unmapped */
    config_write(r, 0x04, 2, X86_PCI_COMMAND_IO | X86_PCI_COMMAND_BUS_MASTER);
    assert_null(x86_bus_find_mmio(&r->bus, 0xFEA00000u));
    config_write(r, 0x10, 4, MMIO_BASE);
    config_write(r, 0x04, 2, 0x7);
    assert_int_equal(rd(r, STATUS), 0x83);

    /* the I/O window: IOADDR selects, IODATA accesses */
    x86_bus_port_write(&r->bus, IO_BASE, 4, IMS);
    x86_bus_port_write(&r->bus, IO_BASE + 4, 4, ICR_RXT0);
    assert_int_equal(rd(r, IMS), ICR_RXT0);
    x86_bus_port_write(&r->bus, IO_BASE, 4, STATUS);
    assert_int_equal(x86_bus_port_read(&r->bus, IO_BASE, 4), STATUS);
    assert_int_equal(x86_bus_port_read(&r->bus, IO_BASE + 4, 4), 0x83);
    /* relocating the I/O BAR releases the old ports */
    config_write(r, 0x14, 4, 0xD000);
    assert_int_equal(x86_bus_port_read(&r->bus, IO_BASE + 4, 4), 0xFFFFFFFFu);
    x86_bus_port_write(&r->bus, 0xD000, 4, STATUS);
    assert_int_equal(x86_bus_port_read(&r->bus, 0xD004, 4), 0x83);
    rig_destroy(r);
}

static void test_msi_option(void **state)
{
    (void)state;
    struct rig *r = rig_create_flags(0, X86_E1000_MSI_CAPABLE);
    assert_true(r->nic.msi_capable);
    assert_true(config_read(r, 0x06, 2) & X86_PCI_STATUS_CAPABILITIES);
    uint8_t capability = (uint8_t)config_read(r, 0x34, 1);
    assert_int_equal(config_read(r, capability, 1), 0x05); /* MSI */
    config_write(r, capability + 4, 4, 0xFEE00000u);
    config_write(r, capability + 8, 2, 0x0041);
    config_write(r, capability + 2, 2, 0x0001); /* enable */
    wr(r, IMS, ICR_LSC);
    wr(r, ICS, ICR_LSC);
    assert_int_equal(r->msi_count, 1);
    assert_int_equal(r->msi_vector, 0x41);
    assert_int_equal(r->irq_level, 0);          /* no INTx with MSI */
    wr(r, ICS, ICR_TXDW);                       /* still pending: no new message */
    assert_int_equal(r->msi_count, 1);
    (void)rd(r, ICR);
    wr(r, ICS, ICR_LSC);
    assert_int_equal(r->msi_count, 2);
    rig_destroy(r);
}

/* ---- EEPROM and PHY ---------------------------------------------------------------------- */

static uint16_t eerd_read(struct rig *r, unsigned word)
{
    wr(r, EERD, (word << 8) | 1);
    uint32_t v = rd(r, EERD);
    assert_true(v & 0x10); /* DONE */
    return (uint16_t)(v >> 16);
}

/* software's side of the Microwire protocol: CS, start bit, READ (10), 6 address bits, then
 * 16 data bits, each on a rising edge of SK */
static void eecd_clock_out(struct rig *r, unsigned bit)
{
    uint32_t base = 0x40 | 0x2 | (bit ? 0x4 : 0); /* EE_REQ, CS, DI */
    wr(r, EECD, base);
    wr(r, EECD, base | 0x1);
    wr(r, EECD, base);
}

static uint16_t microwire_read(struct rig *r, unsigned word)
{
    wr(r, EECD, 0x40);
    assert_true(rd(r, EECD) & 0x80); /* EE_GNT */
    wr(r, EECD, 0x42);
    unsigned command = (0x6u << 6) | word; /* 1, 10, address */
    for (int i = 8; i >= 0; i--)
        eecd_clock_out(r, (command >> i) & 1);
    assert_false(rd(r, EECD) & 0x8); /* the dummy 0 */
    uint16_t data = 0;
    for (int i = 0; i < 16; i++) {
        wr(r, EECD, 0x43);
        data = (uint16_t)(data << 1 | ((rd(r, EECD) >> 3) & 1));
        wr(r, EECD, 0x42);
    }
    wr(r, EECD, 0x40);
    wr(r, EECD, 0x00);
    return data;
}

static void test_eeprom(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    assert_true(rd(r, EECD) & 0x100); /* EE_PRES */
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(eerd_read(r, i), our_mac[2 * i] | our_mac[2 * i + 1] << 8);
    uint16_t sum = 0;
    for (unsigned i = 0; i < 64; i++)
        sum = (uint16_t)(sum + eerd_read(r, i));
    assert_int_equal(sum, 0xBABA);
    assert_int_equal(eerd_read(r, 0x0A) >> 14, 1);  /* signature 01b */
    assert_int_equal(eerd_read(r, 0x0B), 0x001E);   /* subsystem ID */
    assert_int_equal(eerd_read(r, 0x0C), 0x8086);   /* subsystem vendor */
    assert_int_equal(eerd_read(r, 0x0D), 0x100E);   /* device */
    assert_int_equal(eerd_read(r, 0x0E), 0x8086);   /* vendor */
    /* the bit-banged interface reads the same words */
    assert_int_equal(microwire_read(r, 1), eerd_read(r, 1));
    assert_int_equal(microwire_read(r, 0x3F), eerd_read(r, 0x3F));
    /* RAL0/RAH0 were loaded from words 0-2, valid */
    assert_int_equal(rd(r, RAL0), 0x0A211B00u);
    assert_int_equal(rd(r, RAH0), 0x80000C0Bu);
    rig_destroy(r);
}

static uint16_t mdic_read(struct rig *r, unsigned reg)
{
    wr(r, MDIC, (2u << 26) | (1u << 21) | (reg << 16));
    uint32_t v = rd(r, MDIC);
    assert_true(v & (1u << 28));  /* READY */
    assert_false(v & (1u << 30)); /* no error */
    return (uint16_t)v;
}

static void mdic_write(struct rig *r, unsigned reg, uint16_t value)
{
    wr(r, MDIC, (1u << 26) | (1u << 21) | (reg << 16) | value);
    assert_true(rd(r, MDIC) & (1u << 28));
}

static void test_phy_through_mdic(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    assert_int_equal(mdic_read(r, 2), 0x0141);
    assert_int_equal(mdic_read(r, 3), 0x0C20);
    uint16_t status = mdic_read(r, 1);
    assert_true(status & 0x0004); /* link up */
    assert_true(status & 0x0020); /* autonegotiation complete */
    assert_int_equal(mdic_read(r, 0), 0x1140);
    mdic_write(r, 0, 0x1140 | 0x4000); /* loopback */
    assert_int_equal(mdic_read(r, 0), 0x5140);
    mdic_write(r, 0, 0x8000);          /* PHY reset: defaults again */
    assert_int_equal(mdic_read(r, 0), 0x1140);
    /* another PHY address: error */
    wr(r, MDIC, (2u << 26) | (2u << 21) | (1u << 16));
    assert_true(rd(r, MDIC) & (1u << 30));
    /* the MDAC interrupt on request */
    wr(r, IMS, ICR_MDAC);
    wr(r, MDIC, (2u << 26) | (1u << 21) | (1u << 29));
    assert_int_equal(r->irq_level, 1);
    assert_int_equal(rd(r, ICR), ICR_MDAC);
    /* link down shows in the PHY and STATUS, with LSC */
    wr(r, IMS, ICR_LSC);
    x86_e1000_set_link(&r->nic, false);
    assert_false(mdic_read(r, 1) & 0x0004);
    assert_int_equal(rd(r, STATUS) & 0x2, 0);
    assert_int_equal(rd(r, ICR), ICR_LSC);
    rig_destroy(r);
}

/* ---- interrupts -------------------------------------------------------------------------- */

static void test_interrupt_registers(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    wr(r, ICS, ICR_TXDW); /* masked: a cause, no interrupt */
    assert_int_equal(r->irq_level, 0);
    wr(r, IMS, ICR_RXT0 | ICR_TXDW);
    assert_int_equal(rd(r, IMS), ICR_RXT0 | ICR_TXDW);
    assert_int_equal(r->irq_level, 1);  /* unmasking a pending cause raises the line */
    assert_true(config_read(r, 0x06, 2) & X86_PCI_STATUS_INTERRUPT);
    wr(r, ICS, ICR_LSC);
    assert_int_equal(rd(r, ICR), ICR_TXDW | ICR_LSC); /* read returns and clears */
    assert_int_equal(r->irq_level, 0);
    assert_int_equal(rd(r, ICR), 0);
    wr(r, ICS, ICR_RXT0 | ICR_LSC);
    assert_int_equal(r->irq_level, 1);
    wr(r, IMC, ICR_RXT0 | ICR_TXDW); /* masking deasserts, the causes stay */
    assert_int_equal(rd(r, IMS), 0);
    assert_int_equal(r->irq_level, 0);
    wr(r, IMS, ICR_LSC);
    assert_int_equal(r->irq_level, 1);
    wr(r, ICR, ICR_LSC); /* write 1 to clear */
    assert_int_equal(r->irq_level, 0);
    assert_int_equal(rd(r, ICR), ICR_RXT0);
    /* a byte write to IMS leaves the other bytes of the mask alone */
    x86_bus_mmio_write(&r->bus, MMIO_BASE + IMS + 1, 1, 0x02); /* MDAC */
    assert_int_equal(rd(r, IMS), ICR_LSC | ICR_MDAC);
    /* INTx disable in the command register keeps the pin low */
    config_write(r, 0x04, 2, 0x7 | X86_PCI_COMMAND_INTX_DISABLE);
    wr(r, ICS, ICR_LSC);
    assert_int_equal(r->irq_level, 0);
    config_write(r, 0x04, 2, 0x7);
    assert_int_equal(r->irq_level, 1);
    rig_destroy(r);
}

static void test_itr_throttling(void **state)
{
    (void)state;
    const uint64_t hz = 3000000000ull;
    struct rig *r = rig_create(hz);
    const uint32_t interval = 1000;                         /* 256 us */
    const uint64_t interval_cycles = interval * 256ull * 3; /* 3 cycles per ns */
    wr(r, ITR, interval);
    assert_int_equal(rd(r, ITR), interval);
    wr(r, IMS, ICR_TXDW | ICR_LSC | ICR_RXT0);
    advance(r, 1000);
    wr(r, ICS, ICR_RXT0); /* the first interrupt is not delayed */
    assert_int_equal(r->irq_rises, 1);
    assert_int_equal(r->rise_cycle[0], 1000);
    assert_int_equal(rd(r, ICR), ICR_RXT0);
    assert_int_equal(r->irq_level, 0);
    advance(r, 2000);
    wr(r, ICS, ICR_TXDW);
    advance(r, 500000);
    wr(r, ICS, ICR_LSC);
    assert_int_equal(r->irq_rises, 1); /* both inside the interval: held back */
    advance(r, 1000 + interval_cycles - 1);
    assert_int_equal(r->irq_rises, 1);
    advance(r, 1000 + interval_cycles);
    assert_int_equal(r->irq_rises, 2); /* one interrupt, at the interval's end exactly */
    assert_int_equal(r->rise_cycle[1], 1000 + interval_cycles);
    assert_int_equal(rd(r, ICR), ICR_TXDW | ICR_LSC);
    /* after a quiet interval the next cause interrupts at once */
    advance(r, 1000 + 3 * interval_cycles);
    wr(r, ICS, ICR_LSC);
    assert_int_equal(r->irq_rises, 3);
    assert_int_equal(r->rise_cycle[2], 1000 + 3 * interval_cycles);
    /* ITR 0: no throttling */
    (void)rd(r, ICR);
    wr(r, ITR, 0);
    wr(r, ICS, ICR_LSC);
    assert_int_equal(r->irq_rises, 4);
    rig_destroy(r);
}

/* ---- receive ----------------------------------------------------------------------------- */

static void test_receive_into_ring(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    assert_int_equal(crc32_ieee((const uint8_t *)"123456789", 9), 0xCBF43926u);
    setup_receive(r, 8, RCTL_EN | RCTL_BAM);
    wr(r, IMS, ICR_RXT0);
    uint8_t frame[1514];
    size_t length = make_frame(frame, our_mac, 100, 1);
    advance(r, 777);
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    uint8_t *d = rx_descriptor(r, 0);
    assert_int_equal(get16(d + 8), 104);           /* with the FCS (SECRC clear) */
    assert_int_equal(d[12], 0x07);                 /* DD, EOP, IXSM */
    assert_int_equal(d[13], 0);
    assert_memory_equal(ram(r, RX_BUFFERS), frame, length);
    uint32_t fcs = crc32_ieee(frame, length);
    const uint8_t *stored_fcs = ram(r, RX_BUFFERS + length);
    assert_int_equal(stored_fcs[0] | stored_fcs[1] << 8 | stored_fcs[2] << 16 |
                         (uint32_t)stored_fcs[3] << 24, fcs);
    assert_int_equal(rd(r, RDH), 1);
    assert_int_equal(r->irq_rises, 1);             /* RXT0 at once with RDTR 0 */
    assert_int_equal(rd(r, ICR), ICR_RXT0);

    /* a short frame is padded to 60 bytes; SECRC strips the FCS */
    wr(r, RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
    length = make_frame(frame, our_mac, 42, 9);
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    d = rx_descriptor(r, 1);
    assert_int_equal(get16(d + 8), 60);
    assert_memory_equal(ram(r, RX_BUFFERS + RX_BUFFER_SIZE), frame, length);
    assert_int_equal(*ram(r, RX_BUFFERS + RX_BUFFER_SIZE + 59), 0);
    assert_int_equal(rd(r, RDH), 2);

    /* wrap-around: RDH 6, RDT 2 gives descriptors 6, 7, 0, 1 */
    for (unsigned i = 0; i < 8; i++)
        rx_descriptor(r, i)[12] = 0;
    wr(r, RDH, 6);
    wr(r, RDT, 2);
    for (unsigned i = 0; i < 4; i++) {
        length = make_frame(frame, our_mac, 64 + i, (uint8_t)(20 + i));
        assert_true(x86_e1000_receive(&r->nic, frame, length));
    }
    assert_int_equal(rd(r, RDH), 2);
    assert_int_equal(rx_descriptor(r, 6)[12] & 1, 1);
    assert_int_equal(rx_descriptor(r, 7)[12] & 1, 1);
    assert_int_equal(rx_descriptor(r, 0)[12] & 1, 1);
    assert_int_equal(rx_descriptor(r, 1)[12] & 1, 1);
    assert_int_equal(rx_descriptor(r, 2)[12], 0);
    assert_int_equal(get16(rx_descriptor(r, 0) + 8), 66); /* the third: 66 bytes */
    length = make_frame(frame, our_mac, 66, 22);
    assert_memory_equal(ram(r, RX_BUFFERS), frame, length);
    /* the ring is full now (RDH == RDT) */
    assert_false(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(rd(r, GPRC), 6);
    rig_destroy(r);
}

static void test_receive_spans_descriptors(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_receive(r, 8, RCTL_EN | RCTL_BSIZE_256 | RCTL_SECRC);
    uint8_t frame[600];
    size_t length = make_frame(frame, our_mac, sizeof(frame), 3);
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(rd(r, RDH), 3); /* 256 + 256 + 88 */
    assert_int_equal(get16(rx_descriptor(r, 0) + 8), 256);
    assert_int_equal(get16(rx_descriptor(r, 1) + 8), 256);
    assert_int_equal(get16(rx_descriptor(r, 2) + 8), 88);
    assert_int_equal(rx_descriptor(r, 0)[12] & 3, 1); /* DD only */
    assert_int_equal(rx_descriptor(r, 1)[12] & 3, 1);
    assert_int_equal(rx_descriptor(r, 2)[12] & 3, 3); /* DD and EOP */
    assert_memory_equal(ram(r, RX_BUFFERS), frame, 256);
    assert_memory_equal(ram(r, RX_BUFFERS + RX_BUFFER_SIZE), frame + 256, 256);
    assert_memory_equal(ram(r, RX_BUFFERS + 2 * RX_BUFFER_SIZE), frame + 512, 88);
    /* too long without RCTL.LPE: dropped and counted */
    uint8_t big[1600];
    length = make_frame(big, our_mac, sizeof(big), 0);
    assert_false(x86_e1000_receive(&r->nic, big, length));
    assert_int_equal(r->nic.drops.oversize, 1);
    assert_int_equal(rd(r, 0x40AC), 1); /* ROC */
    rig_destroy(r);
}

static void test_address_filter(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    static const uint8_t other[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    static const uint8_t multicast[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB };
    uint8_t frame[64];
    setup_receive(r, 16, RCTL_EN);
    assert_true(x86_e1000_receive(&r->nic, frame, make_frame(frame, our_mac, 64, 0)));
    assert_false(x86_e1000_receive(&r->nic, frame, make_frame(frame, other, 64, 0)));
    assert_false(x86_e1000_receive(&r->nic, frame, make_frame(frame, broadcast, 64, 0)));
    assert_false(x86_e1000_receive(&r->nic, frame, make_frame(frame, multicast, 64, 0)));
    assert_int_equal(r->nic.drops.filtered, 3);
    assert_int_equal(rd(r, TPR), 4); /* counted before filtering */
    /* broadcast accept */
    wr(r, RCTL, RCTL_EN | RCTL_BAM);
    assert_true(x86_e1000_receive(&r->nic, frame, make_frame(frame, broadcast, 64, 0)));
    assert_int_equal(rd(r, BPRC), 1);
    /* a second exact filter */
    wr(r, RAL0 + 8, 0x33221100u);
    wr(r, RAH0 + 8, 0x5544u);
    assert_false(x86_e1000_receive(&r->nic, frame, make_frame(frame, other, 64, 0)));
    wr(r, RAH0 + 8, 0x80005544u); /* AV */
    assert_true(x86_e1000_receive(&r->nic, frame, make_frame(frame, other, 64, 0)));
    wr(r, RAH0 + 8, 0);
    /* unicast promiscuous */
    wr(r, RCTL, RCTL_EN | RCTL_UPE);
    assert_true(x86_e1000_receive(&r->nic, frame, make_frame(frame, other, 64, 0)));
    assert_false(x86_e1000_receive(&r->nic, frame, make_frame(frame, multicast, 64, 0)));
    /* the multicast table: MO 00 hashes address bits 47:36 */
    unsigned hash = (multicast[4] >> 4 | multicast[5] << 4) & 0xFFF;
    wr(r, MTA + 4 * (hash >> 5), 1u << (hash & 31));
    assert_true(x86_e1000_receive(&r->nic, frame, make_frame(frame, multicast, 64, 0)));
    wr(r, MTA + 4 * (hash >> 5), 0);
    /* multicast promiscuous */
    wr(r, RCTL, RCTL_EN | RCTL_MPE);
    assert_true(x86_e1000_receive(&r->nic, frame, make_frame(frame, multicast, 64, 0)));
    assert_false(x86_e1000_receive(&r->nic, frame, make_frame(frame, other, 64, 0)));
    /* receiver disabled */
    wr(r, RCTL, RCTL_BAM);
    assert_false(x86_e1000_receive(&r->nic, frame, make_frame(frame, broadcast, 64, 0)));
    assert_int_equal(r->nic.drops.receiver_disabled, 1);
    rig_destroy(r);
}

static void test_missed_packets(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_receive(r, 8, RCTL_EN);
    wr(r, RDT, 0); /* RDH == RDT: no free descriptor */
    wr(r, IMS, ICR_RXO);
    uint8_t frame[100];
    size_t length = make_frame(frame, our_mac, sizeof(frame), 0);
    assert_false(x86_e1000_receive(&r->nic, frame, length));
    assert_false(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(rd(r, MPC), 2);
    assert_int_equal(rd(r, RNBC), 2);
    assert_int_equal(r->irq_level, 1);
    assert_int_equal(rd(r, ICR), ICR_RXO);
    assert_int_equal(rd(r, RDH), 0);
    assert_int_equal(rx_descriptor(r, 0)[12], 0);
    assert_int_equal(rd(r, GPRC), 0);
    /* descriptors given back: RXDMT0 as the free count falls to half the ring (RDMTS 00) */
    wr(r, RDT, 7);
    wr(r, IMS, ICR_RXDMT0);
    for (int i = 0; i < 2; i++)
        assert_true(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(rd(r, ICR) & ICR_RXDMT0, 0); /* 5 free, threshold 4 */
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(rd(r, ICR) & ICR_RXDMT0, ICR_RXDMT0);
    rig_destroy(r);
}

static void test_receive_dma_outside_ram(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_receive(r, 8, RCTL_EN);
    put64(rx_descriptor(r, 0), RAM_SIZE - 16); /* the buffer runs off the end of RAM */
    uint8_t frame[100];
    size_t length = make_frame(frame, our_mac, sizeof(frame), 0);
    uint8_t before[16];
    memcpy(before, rx_descriptor(r, 0), 16);
    assert_false(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(r->nic.drops.receive_dma_error, 1);
    assert_memory_equal(rx_descriptor(r, 0), before, 16); /* untouched */
    assert_int_equal(rd(r, RDH), 0);
    put64(rx_descriptor(r, 0), 0xFFFFFFFFFFFFF000ull); /* wraps around */
    assert_false(x86_e1000_receive(&r->nic, frame, length));
    /* the ring itself outside RAM */
    wr(r, RDBAL, 0xFFF00000u);
    wr(r, RDBAH, 0x1);
    assert_false(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(r->nic.drops.receive_dma_error, 3);
    assert_int_equal(rd(r, GPRC), 0);
    rig_destroy(r);
}

static void test_receive_delay_timers(void **state)
{
    (void)state;
    struct rig *r = rig_create(1000000000ull); /* 1 GHz: 1.024 us = 1024 cycles */
    setup_receive(r, 16, RCTL_EN);
    wr(r, IMS, ICR_RXT0); /* RXDMT0 comes too as the ring fills: only RXT0 matters here */
    wr(r, RDTR, 100); /* 102.4 us */
    uint8_t frame[64];
    size_t length = make_frame(frame, our_mac, sizeof(frame), 0);
    advance(r, 500);
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(rd(r, ICR) & ICR_RXT0, 0);
    advance(r, 10500);
    assert_true(x86_e1000_receive(&r->nic, frame, length)); /* restarts the packet timer */
    advance(r, 10500 + 102400 - 1);
    assert_int_equal(r->irq_rises, 0);
    advance(r, 10500 + 102400);
    assert_int_equal(r->irq_rises, 1);
    assert_int_equal(r->rise_cycle[0], 10500 + 102400);
    assert_int_equal(rd(r, ICR) & ICR_RXT0, ICR_RXT0);

    /* the absolute timer (RADV) fires 153.6 us after the first packet despite the traffic */
    wr(r, RADV, 150);
    uint64_t start = 200000;
    for (uint64_t t = start; t < start + 160000; t += 50000) {
        advance(r, t);
        assert_true(x86_e1000_receive(&r->nic, frame, length));
    }
    advance(r, start + 153600 - 1);
    assert_int_equal(r->irq_rises, 1);
    advance(r, start + 153600);
    assert_int_equal(r->irq_rises, 2);
    assert_int_equal(r->rise_cycle[1], start + 153600);
    assert_int_equal(rd(r, ICR) & ICR_RXT0, ICR_RXT0);
    advance(r, start + 400000); /* the packet timer was stopped with it */
    assert_int_equal(rd(r, ICR) & ICR_RXT0, 0);

    /* FPD flushes at once */
    advance(r, 1000000);
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    wr(r, RDTR, 0x80000000u | 100);
    assert_int_equal(rd(r, RDTR), 100);
    assert_int_equal(rd(r, ICR) & ICR_RXT0, ICR_RXT0);
    rig_destroy(r);
}

/* ---- transmit ---------------------------------------------------------------------------- */

static void test_transmit_two_descriptors(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_transmit(r, 8);
    wr(r, IMS, ICR_TXDW);
    uint8_t frame[70];
    static const uint8_t destination[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    make_frame(frame, destination, sizeof(frame), 5);
    memcpy(ram(r, TX_BUFFERS), frame, 20);
    memcpy(ram(r, TX_BUFFERS + 0x1000), frame + 20, 50);
    tx_legacy(r, 0, TX_BUFFERS, 20, 0x02);                /* IFCS */
    tx_legacy(r, 1, TX_BUFFERS + 0x1000, 50, 0x0B);       /* EOP, IFCS, RS */
    advance(r, 4242);
    wr(r, TDT, 2);
    assert_int_equal(r->sent_count, 1);
    assert_int_equal(r->sent_length[0], 70);
    assert_memory_equal(r->sent[0], frame, 70);
    assert_int_equal(r->sent_cycle[0], 4242);
    assert_int_equal(rd(r, TDH), 2);
    assert_int_equal(ram(r, TX_RING)[12] & 1, 0);         /* no RS: no write-back */
    assert_int_equal(ram(r, TX_RING + 16)[12] & 1, 1);    /* DD */
    assert_int_equal(r->irq_level, 1);
    assert_int_equal(rd(r, ICR), ICR_TXDW | ICR_TXQE);
    assert_int_equal(rd(r, TPT), 1);
    assert_int_equal(rd(r, GPTC), 1);
    assert_int_equal(rd(r, GOTCL), 74);                   /* with the FCS */
    assert_int_equal(rd(r, GOTCH), 0);

    /* transmit disabled: TDT moves, nothing goes until TCTL.EN */
    wr(r, TCTL, 0);
    memcpy(ram(r, TX_BUFFERS), frame, 70);
    tx_legacy(r, 2, TX_BUFFERS, 70, 0x09);                /* EOP, RS */
    wr(r, TDT, 3);
    assert_int_equal(r->sent_count, 1);
    wr(r, TCTL, TCTL_EN);
    assert_int_equal(r->sent_count, 2);
    assert_int_equal(rd(r, TDH), 3);
    /* a short frame is padded with TCTL.PSP */
    wr(r, TCTL, TCTL_EN | TCTL_PSP);
    tx_legacy(r, 3, TX_BUFFERS, 30, 0x0B);
    wr(r, TDT, 4);
    assert_int_equal(r->sent_length[2], 60);
    /* a descriptor whose buffer lies outside RAM: the frame is dropped, the ring moves on */
    tx_legacy(r, 4, RAM_SIZE - 8, 64, 0x0B);
    wr(r, TDT, 5);
    assert_int_equal(r->sent_count, 3);
    assert_int_equal(r->nic.drops.transmit_dma_error, 1);
    assert_int_equal(rd(r, TDH), 5);
    rig_destroy(r);
}

static void test_transmit_checksum_offload(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_transmit(r, 8);
    /* an IPv4 header at 14 (20 bytes, checksum field zeroed) */
    uint8_t frame[60] = { 0 };
    static const uint8_t destination[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    make_frame(frame, destination, sizeof(frame), 0);
    static const uint8_t ip[20] = { 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0,
                                    10, 0, 0, 1, 10, 0, 0, 2 };
    memcpy(frame + 14, ip, sizeof(ip));
    memcpy(ram(r, TX_BUFFERS), frame, sizeof(frame));
    /* the IP checksum covers the header alone (IPCSE), which only the context descriptor
     * can say: a context descriptor, then one data descriptor with POPTS.IXSM */
    uint8_t *context = ram(r, TX_RING);
    memset(context, 0, 16);
    context[0] = 14;               /* IPCSS */
    context[1] = 24;               /* IPCSO */
    context[2] = 33;               /* IPCSE: the header's last byte */
    context[10] = 0x00;            /* DTYP 0 */
    context[11] = 0x20;            /* DEXT */
    uint8_t *data = ram(r, TX_RING + 16);
    memset(data, 0, 16);
    put64(data, TX_BUFFERS);
    data[8] = sizeof(frame);
    data[10] = 0x10;               /* DTYP 1 */
    data[11] = 0x20 | 0x08 | 0x01; /* DEXT, RS, EOP */
    data[13] = 0x01;               /* IXSM */
    wr(r, TDT, 2);
    assert_int_equal(r->sent_count, 1);
    /* the header with its checksum sums to 0xFFFF */
    uint32_t sum = 0;
    for (int i = 14; i < 34; i += 2)
        sum += (uint32_t)r->sent[0][i] << 8 | r->sent[0][i + 1];
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    assert_int_equal(sum, 0xFFFF);
    assert_int_equal(ram(r, TX_RING + 16)[12] & 1, 1);
    rig_destroy(r);
}

static void test_phy_loopback(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_receive(r, 8, RCTL_EN | RCTL_SECRC);
    setup_transmit(r, 8);
    mdic_write(r, 0, 0x1140 | 0x4000);
    uint8_t frame[80];
    make_frame(frame, our_mac, sizeof(frame), 7);
    memcpy(ram(r, TX_BUFFERS), frame, sizeof(frame));
    tx_legacy(r, 0, TX_BUFFERS, sizeof(frame), 0x0B);
    wr(r, TDT, 1);
    assert_int_equal(r->sent_count, 0); /* not on the wire */
    assert_int_equal(rd(r, RDH), 1);
    assert_int_equal(get16(rx_descriptor(r, 0) + 8), sizeof(frame));
    assert_memory_equal(ram(r, RX_BUFFERS), frame, sizeof(frame));
    rig_destroy(r);
}

/* ---- statistics, reset, bus mastering ---------------------------------------------------- */

static void test_statistics_read_clear(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_receive(r, 8, RCTL_EN);
    uint8_t frame[100];
    size_t length = make_frame(frame, our_mac, sizeof(frame), 0);
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(rd(r, GPRC), 2);
    assert_int_equal(rd(r, GPRC), 0); /* cleared by the read */
    assert_int_equal(rd(r, TPR), 2);
    assert_int_equal(rd(r, GORCL), 208);
    assert_int_equal(rd(r, GORCL), 208); /* the low half alone does not clear */
    assert_int_equal(rd(r, GORCH), 0);   /* the high half clears the pair */
    assert_int_equal(rd(r, GORCL), 0);
    assert_int_equal(rd(r, 0x4064), 0);  /* PRC255 read ... */
    assert_int_equal(rd(r, 0x4060), 2);  /* PRC127: 104-byte frames */
    assert_string_equal(x86_e1000_register_name(GORCH), "GORCH");
    assert_string_equal(x86_e1000_register_name(MTA + 0x1FC), "MTA");
    assert_string_equal(x86_e1000_register_name(RAH0 + 8), "RAH");
    assert_null(x86_e1000_register_name(0x0004));
    /* 8-byte access: RAL0 and RAH0 at once */
    uint64_t pair = x86_bus_mmio_read(&r->bus, MMIO_BASE + RAL0, 8);
    assert_int_equal(pair, 0x80000C0B0A211B00ull);
    rig_destroy(r);
}

static void test_reset(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_receive(r, 8, RCTL_EN | RCTL_BAM);
    wr(r, RDTR, 50);
    wr(r, IMS, ICR_LSC | ICR_RXT0);
    wr(r, RAL0, 0x12345678u);
    uint8_t frame[64];
    static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    assert_true(x86_e1000_receive(&r->nic, frame, make_frame(frame, broadcast, 64, 0)));
    assert_int_not_equal(x86_events_next_cycle(&r->queue), UINT64_MAX); /* RDTR running */
    wr(r, ICS, ICR_LSC);
    assert_int_equal(r->irq_level, 1);
    uint32_t ctrl = rd(r, CTRL);
    wr(r, CTRL, ctrl | (1u << 26)); /* RST */
    assert_int_equal(rd(r, CTRL), ctrl); /* self-cleared, defaults */
    assert_int_equal(r->irq_level, 0);
    assert_int_equal(rd(r, IMS), 0);
    assert_int_equal(rd(r, ICR), 0);
    assert_int_equal(rd(r, RCTL), 0);
    assert_int_equal(rd(r, RDLEN), 0);
    assert_int_equal(rd(r, RDTR), 0);
    assert_int_equal(rd(r, GPRC), 0);
    assert_int_equal(rd(r, RAL0), 0x0A211B00u); /* from the EEPROM again */
    assert_int_equal(x86_events_next_cycle(&r->queue), UINT64_MAX);
    advance(r, 1000000);
    assert_int_equal(rd(r, ICR), 0);
    assert_int_equal(rd(r, STATUS), 0x83);
    /* PCI configuration survives */
    assert_int_equal(config_read(r, 0x10, 4), MMIO_BASE);
    rig_destroy(r);
}

static void test_bus_master_disabled(void **state)
{
    (void)state;
    struct rig *r = rig_create(0);
    setup_receive(r, 8, RCTL_EN);
    setup_transmit(r, 8);
    config_write(r, 0x04, 2, X86_PCI_COMMAND_IO | X86_PCI_COMMAND_MEMORY);
    uint8_t frame[100];
    size_t length = make_frame(frame, our_mac, sizeof(frame), 0);
    memset(ram(r, RX_BUFFERS), 0xA5, 128);
    assert_false(x86_e1000_receive(&r->nic, frame, length));
    assert_int_equal(r->nic.drops.no_bus_master, 1);
    assert_int_equal(rd(r, MPC), 1);
    assert_int_equal(*ram(r, RX_BUFFERS), 0xA5); /* no DMA */
    assert_int_equal(rx_descriptor(r, 0)[12], 0);
    assert_int_equal(rd(r, RDH), 0);
    memcpy(ram(r, TX_BUFFERS), frame, length);
    tx_legacy(r, 0, TX_BUFFERS, (uint16_t)length, 0x0B);
    wr(r, TDT, 1);
    assert_int_equal(r->sent_count, 0);
    assert_int_equal(rd(r, TDH), 0);
    assert_int_equal(ram(r, TX_RING)[12], 0);
    /* bus mastering on: the queued descriptor goes */
    config_write(r, 0x04, 2, 0x7);
    assert_int_equal(r->sent_count, 1);
    assert_int_equal(rd(r, TDH), 1);
    assert_true(x86_e1000_receive(&r->nic, frame, length));
    rig_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pci_identity_and_bars),
        cmocka_unit_test(test_msi_option),
        cmocka_unit_test(test_eeprom),
        cmocka_unit_test(test_phy_through_mdic),
        cmocka_unit_test(test_interrupt_registers),
        cmocka_unit_test(test_itr_throttling),
        cmocka_unit_test(test_receive_into_ring),
        cmocka_unit_test(test_receive_spans_descriptors),
        cmocka_unit_test(test_address_filter),
        cmocka_unit_test(test_missed_packets),
        cmocka_unit_test(test_receive_dma_outside_ram),
        cmocka_unit_test(test_receive_delay_timers),
        cmocka_unit_test(test_transmit_two_descriptors),
        cmocka_unit_test(test_transmit_checksum_offload),
        cmocka_unit_test(test_phy_loopback),
        cmocka_unit_test(test_statistics_read_clear),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_bus_master_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
