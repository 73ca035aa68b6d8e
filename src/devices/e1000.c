/* Intel 82540EM Gigabit Ethernet controller (see e1000.h).
 *
 * References are to the PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's
 * Manual (the 8254x SDM):
 *   3.2    receive: legacy descriptors (3.2.3), the ring (3.2.6), delay timers (3.2.7.1)
 *   3.3    transmit: legacy descriptors (3.3.3, command bits 3.3.3.1), extended data and
 *          context descriptors (3.3.5-3.3.7), the ring (3.4)
 *   5      the EEPROM: its map (5.6) and the Microwire interface (5.5)
 *   8      the PHY's MII registers (here through MDIC; IEEE 802.3 clause 22)
 *   13.4   the registers: CTRL, STATUS, EECD, EERD, MDIC, ICR, ITR (13.4.18), ICS, IMS,
 *          IMC, RCTL, TCTL, the ring registers, RDTR (13.4.30), RADV (13.4.31), RAL/RAH, MTA
 *   13.7   statistics (read-clear; 64-bit pairs clear when the high half is read, 13.7.31)
 *   13.2   the I/O BAR's IOADDR/IODATA window
 */
#include "devices/e1000.h"

#include <string.h>

/* ---- register offsets (8254x SDM Table 13-2) --------------------------------------------- */

#define REG_CTRL 0x0000
#define REG_STATUS 0x0008
#define REG_EECD 0x0010
#define REG_EERD 0x0014
#define REG_CTRL_EXT 0x0018
#define REG_MDIC 0x0020
#define REG_FCAL 0x0028
#define REG_FCAH 0x002C
#define REG_FCT 0x0030
#define REG_VET 0x0038
#define REG_ICR 0x00C0
#define REG_ITR 0x00C4
#define REG_ICS 0x00C8
#define REG_IMS 0x00D0
#define REG_IMC 0x00D8
#define REG_RCTL 0x0100
#define REG_FCTTV 0x0170
#define REG_TXCW 0x0178
#define REG_RXCW 0x0180
#define REG_TCTL 0x0400
#define REG_TIPG 0x0410
#define REG_AIFS 0x0458
#define REG_LEDCTL 0x0E00
#define REG_PBA 0x1000
#define REG_FCRTL 0x2160
#define REG_FCRTH 0x2168
#define REG_RDBAL 0x2800
#define REG_RDBAH 0x2804
#define REG_RDLEN 0x2808
#define REG_RDH 0x2810
#define REG_RDT 0x2818
#define REG_RDTR 0x2820
#define REG_RXDCTL 0x2828
#define REG_RADV 0x282C
#define REG_RSRPD 0x2C00
#define REG_TXDMAC 0x3000
#define REG_TDBAL 0x3800
#define REG_TDBAH 0x3804
#define REG_TDLEN 0x3808
#define REG_TDH 0x3810
#define REG_TDT 0x3818
#define REG_TIDV 0x3820
#define REG_TXDCTL 0x3828
#define REG_TADV 0x382C
/* statistics (13.7) */
#define REG_CRCERRS 0x4000
#define REG_ALGNERRC 0x4004
#define REG_SYMERRS 0x4008
#define REG_RXERRC 0x400C
#define REG_MPC 0x4010
#define REG_SCC 0x4014
#define REG_ECOL 0x4018
#define REG_MCC 0x401C
#define REG_LATECOL 0x4020
#define REG_COLC 0x4028
#define REG_DC 0x4030
#define REG_TNCRS 0x4034
#define REG_SEC 0x4038
#define REG_CEXTERR 0x403C
#define REG_RLEC 0x4040
#define REG_XONRXC 0x4048
#define REG_XONTXC 0x404C
#define REG_XOFFRXC 0x4050
#define REG_XOFFTXC 0x4054
#define REG_FCRUC 0x4058
#define REG_PRC64 0x405C
#define REG_PRC127 0x4060
#define REG_PRC255 0x4064
#define REG_PRC511 0x4068
#define REG_PRC1023 0x406C
#define REG_PRC1522 0x4070
#define REG_GPRC 0x4074
#define REG_BPRC 0x4078
#define REG_MPRC 0x407C
#define REG_GPTC 0x4080
#define REG_GORCL 0x4088
#define REG_GORCH 0x408C
#define REG_GOTCL 0x4090
#define REG_GOTCH 0x4094
#define REG_RNBC 0x40A0
#define REG_RUC 0x40A4
#define REG_RFC 0x40A8
#define REG_ROC 0x40AC
#define REG_RJC 0x40B0
#define REG_TORL 0x40C0
#define REG_TORH 0x40C4
#define REG_TOTL 0x40C8
#define REG_TOTH 0x40CC
#define REG_TPR 0x40D0
#define REG_TPT 0x40D4
#define REG_PTC64 0x40D8
#define REG_PTC127 0x40DC
#define REG_PTC255 0x40E0
#define REG_PTC511 0x40E4
#define REG_PTC1023 0x40E8
#define REG_PTC1522 0x40EC
#define REG_MPTC 0x40F0
#define REG_BPTC 0x40F4
#define REG_TSCTC 0x40F8
#define REG_TSCTFC 0x40FC
/* receive filtering and wake-up */
#define REG_RXCSUM 0x5000
#define REG_MTA 0x5200
#define MTA_ENTRIES 128
#define REG_RA 0x5400       /* RAL n at 0x5400 + 8n, RAH n at 0x5404 + 8n */
#define RA_ENTRIES 16
#define REG_VFTA 0x5600
#define VFTA_ENTRIES 128
#define REG_WUC 0x5800
#define REG_WUFC 0x5808
#define REG_WUS 0x5810
#define REG_MANC 0x5820

/* ---- register bits ----------------------------------------------------------------------- */

/* CTRL (13.4.1) */
#define CTRL_FULL_DUPLEX (1u << 0)               /* FD */
#define CTRL_LINK_RESET (1u << 3)                /* LRST */
#define CTRL_AUTO_SPEED_DETECTION (1u << 5)      /* ASDE */
#define CTRL_SET_LINK_UP (1u << 6)               /* SLU */
#define CTRL_INVERT_LOSS_OF_SIGNAL (1u << 7)     /* ILOS */
#define CTRL_SPEED_MASK (3u << 8)                /* SPEED */
#define CTRL_SPEED_1000 (2u << 8)
#define CTRL_FORCE_SPEED (1u << 11)              /* FRCSPD */
#define CTRL_FORCE_DUPLEX (1u << 12)             /* FRCDPLX */
#define CTRL_SOFTWARE_PINS (0x3Fu << 18)         /* SDP0/1 data, ADVD3WUC, EN_PHY_PWR_MGMT, IODIR */
#define CTRL_DEVICE_RESET (1u << 26)             /* RST, self-clearing */
#define CTRL_RECEIVE_FLOW_CONTROL (1u << 27)     /* RFCE */
#define CTRL_TRANSMIT_FLOW_CONTROL (1u << 28)    /* TFCE */
#define CTRL_VLAN_MODE (1u << 30)                /* VME */
#define CTRL_PHY_RESET (1u << 31)                /* PHY_RST */
#define CTRL_WRITABLE                                                                         \
    (CTRL_FULL_DUPLEX | CTRL_LINK_RESET | CTRL_AUTO_SPEED_DETECTION | CTRL_SET_LINK_UP |       \
     CTRL_INVERT_LOSS_OF_SIGNAL | CTRL_SPEED_MASK | CTRL_FORCE_SPEED | CTRL_FORCE_DUPLEX |     \
     CTRL_SOFTWARE_PINS | CTRL_RECEIVE_FLOW_CONTROL | CTRL_TRANSMIT_FLOW_CONTROL |             \
     CTRL_VLAN_MODE | CTRL_PHY_RESET)
/* what an EEPROM configured for an auto-negotiating copper link loads */
#define CTRL_RESET_VALUE                                                                      \
    (CTRL_FULL_DUPLEX | CTRL_AUTO_SPEED_DETECTION | CTRL_SET_LINK_UP | CTRL_SPEED_1000)

/* STATUS (13.4.2): read-only */
#define STATUS_FULL_DUPLEX (1u << 0)             /* FD */
#define STATUS_LINK_UP (1u << 1)                 /* LU */
#define STATUS_SPEED_1000 (2u << 6)              /* SPEED 10b */

/* EECD (13.4.3) */
#define EECD_CLOCK (1u << 0)                     /* SK */
#define EECD_CHIP_SELECT (1u << 1)               /* CS */
#define EECD_DATA_IN (1u << 2)                   /* DI: to the EEPROM */
#define EECD_DATA_OUT (1u << 3)                  /* DO: from the EEPROM */
#define EECD_FLASH_WRITE_MASK (3u << 4)          /* FWE */
#define EECD_FLASH_WRITE_DISABLED (1u << 4)
#define EECD_REQUEST (1u << 6)                   /* EE_REQ */
#define EECD_GRANT (1u << 7)                     /* EE_GNT */
#define EECD_PRESENT (1u << 8)                   /* EE_PRES */
#define EECD_WRITABLE (EECD_CLOCK | EECD_CHIP_SELECT | EECD_DATA_IN | EECD_FLASH_WRITE_MASK | \
                       EECD_REQUEST)

/* EERD (13.4.4), the 82540EP/EM layout */
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 4)
#define EERD_ADDRESS_SHIFT 8
#define EERD_DATA_SHIFT 16

/* MDIC (13.4.7) */
#define MDIC_DATA_MASK 0xFFFFu
#define MDIC_REGISTER_SHIFT 16
#define MDIC_PHY_ADDRESS_SHIFT 21
#define MDIC_OPCODE_SHIFT 26
#define MDIC_OPCODE_WRITE 1u
#define MDIC_OPCODE_READ 2u
#define MDIC_READY (1u << 28)
#define MDIC_INTERRUPT_ENABLE (1u << 29)
#define MDIC_ERROR (1u << 30)
#define PHY_ADDRESS_INTERNAL 1                   /* the 82540EM's internal PHY */

/* interrupt causes: ICR, ICS, IMS, IMC share the layout (13.4.17) */
#define CAUSE_TRANSMIT_DESCRIPTOR_WRITTEN_BACK (1u << 0)   /* TXDW */
#define CAUSE_TRANSMIT_QUEUE_EMPTY (1u << 1)               /* TXQE */
#define CAUSE_LINK_STATUS_CHANGE (1u << 2)                 /* LSC */
#define CAUSE_RECEIVE_DESCRIPTOR_MINIMUM (1u << 4)         /* RXDMT0 */
#define CAUSE_RECEIVER_OVERRUN (1u << 6)                   /* RXO */
#define CAUSE_RECEIVER_TIMER (1u << 7)                     /* RXT0 */
#define CAUSE_MDIO_ACCESS_COMPLETE (1u << 9)               /* MDAC */
#define CAUSE_VALID 0x0001F6DFu  /* TXDW..RXDMT0, RXO, RXT0, MDAC, RXCFG, PHYINT..SRPD */

/* ITR (13.4.18): the interval in 256 ns units */
#define ITR_INTERVAL_MASK 0xFFFFu
#define ITR_UNIT_NANOSECONDS 256u

/* RCTL (13.4.22) */
#define RCTL_ENABLE (1u << 1)                    /* EN */
#define RCTL_STORE_BAD_PACKETS (1u << 2)         /* SBP */
#define RCTL_UNICAST_PROMISCUOUS (1u << 3)       /* UPE */
#define RCTL_MULTICAST_PROMISCUOUS (1u << 4)     /* MPE */
#define RCTL_LONG_PACKETS (1u << 5)              /* LPE */
#define RCTL_LOOPBACK_SHIFT 6                    /* LBM, 2 bits */
#define RCTL_LOOPBACK_MASK (3u << RCTL_LOOPBACK_SHIFT)
#define RCTL_MINIMUM_THRESHOLD_SHIFT 8           /* RDMTS, 2 bits */
#define RCTL_MULTICAST_OFFSET_SHIFT 12           /* MO, 2 bits */
#define RCTL_BROADCAST_ACCEPT (1u << 15)         /* BAM */
#define RCTL_BUFFER_SIZE_SHIFT 16                /* BSIZE, 2 bits */
#define RCTL_VLAN_FILTER (1u << 18)              /* VFE */
#define RCTL_CANONICAL_FORM_ENABLE (1u << 19)    /* CFIEN */
#define RCTL_CANONICAL_FORM (1u << 20)           /* CFI */
#define RCTL_DISCARD_PAUSE (1u << 22)            /* DPF */
#define RCTL_PASS_MAC_CONTROL (1u << 23)         /* PMCF */
#define RCTL_BUFFER_SIZE_EXTENSION (1u << 25)    /* BSEX */
#define RCTL_STRIP_CRC (1u << 26)                /* SECRC */
#define RCTL_WRITABLE                                                                         \
    (RCTL_ENABLE | RCTL_STORE_BAD_PACKETS | RCTL_UNICAST_PROMISCUOUS |                        \
     RCTL_MULTICAST_PROMISCUOUS | RCTL_LONG_PACKETS | RCTL_LOOPBACK_MASK |                    \
     (3u << RCTL_MINIMUM_THRESHOLD_SHIFT) | (3u << RCTL_MULTICAST_OFFSET_SHIFT) |             \
     RCTL_BROADCAST_ACCEPT | (3u << RCTL_BUFFER_SIZE_SHIFT) | RCTL_VLAN_FILTER |              \
     RCTL_CANONICAL_FORM_ENABLE | RCTL_CANONICAL_FORM | RCTL_DISCARD_PAUSE |                  \
     RCTL_PASS_MAC_CONTROL | RCTL_BUFFER_SIZE_EXTENSION | RCTL_STRIP_CRC)

/* TCTL (13.4.33) */
#define TCTL_ENABLE (1u << 1)                    /* EN */
#define TCTL_PAD_SHORT_PACKETS (1u << 3)         /* PSP */
#define TCTL_WRITABLE 0x037FFFFAu                /* EN, PSP, CT, COLD, SWXOFF, RTLC, NRTU */

/* RDTR / TIDV: the delay in 1.024 us units; FPD flushes at once (13.4.30) */
#define DELAY_MASK 0xFFFFu
#define DELAY_FLUSH (1u << 31)
#define DELAY_UNIT_NANOSECONDS 1024u

/* RAH (13.5.2) */
#define RAH_ADDRESS_SELECT_MASK (3u << 16)       /* AS: 00 = destination address */
#define RAH_ADDRESS_VALID (1u << 31)             /* AV */
#define RAH_WRITABLE (0xFFFFu | RAH_ADDRESS_SELECT_MASK | RAH_ADDRESS_VALID)

/* ---- descriptors ------------------------------------------------------------------------- */

#define DESCRIPTOR_SIZE 16

/* receive descriptor (3.2.3): address 0-7, length 8-9, checksum 10-11, status 12, errors 13,
 * special 14-15 */
#define RX_STATUS_DONE (1u << 0)                 /* DD */
#define RX_STATUS_END_OF_PACKET (1u << 1)        /* EOP */
#define RX_STATUS_IGNORE_CHECKSUM (1u << 2)      /* IXSM */
#define RX_STATUS_VLAN_PACKET (1u << 3)          /* VP */

/* transmit descriptors (3.3.3 legacy; 3.3.6 context; 3.3.7 data): byte 11 is CMD / TUCMD /
 * DCMD, byte 12 STA; legacy: CSO 10, CSS 13; extended: DTYP in byte 10 bits 7:4 */
#define TX_COMMAND_END_OF_PACKET (1u << 0)       /* EOP */
#define TX_COMMAND_INSERT_FCS (1u << 1)          /* IFCS */
#define TX_COMMAND_INSERT_CHECKSUM (1u << 2)     /* IC (legacy) */
#define TX_COMMAND_SEGMENTATION (1u << 2)        /* TSE (extended) */
#define TX_COMMAND_REPORT_STATUS (1u << 3)       /* RS */
#define TX_COMMAND_REPORT_PACKET_SENT (1u << 4)  /* RPS (legacy; 82544 only, treated as RS) */
#define TX_COMMAND_EXTENSION (1u << 5)           /* DEXT */
#define TX_COMMAND_VLAN (1u << 6)                /* VLE */
#define TX_COMMAND_DELAY_INTERRUPT (1u << 7)     /* IDE */
#define TX_STATUS_DONE (1u << 0)                 /* DD */
#define TX_TYPE_CONTEXT 0x0u
#define TX_TYPE_DATA 0x1u
#define TX_OPTION_IP_CHECKSUM (1u << 0)          /* POPTS.IXSM */
#define TX_OPTION_TCP_CHECKSUM (1u << 1)         /* POPTS.TXSM */

/* ---- frames ------------------------------------------------------------------------------ */

#define ETHERNET_ADDRESS_LENGTH 6
#define ETHERNET_HEADER_LENGTH 14
#define ETHERNET_TYPE_OFFSET 12
#define ETHERNET_MINIMUM_FRAME 60                /* 64 with the FCS */
#define ETHERNET_FCS_LENGTH 4
#define ETHERNET_MAXIMUM_FRAME 1522              /* with FCS and one VLAN tag: RCTL.LPE = 0 */
#define VLAN_TAG_LENGTH 4
#define MAXIMUM_RECEIVE_DESCRIPTORS (X86_E1000_MAX_FRAME / 256 + 2) /* smallest buffers */

/* ---- the EEPROM map (5.6) ---------------------------------------------------------------- */

#define EEPROM_ETHERNET_ADDRESS 0x00             /* words 0-2 */
#define EEPROM_INITIALIZATION_CONTROL_1 0x0A
#define EEPROM_SUBSYSTEM_ID 0x0B
#define EEPROM_SUBSYSTEM_VENDOR_ID 0x0C
#define EEPROM_DEVICE_ID 0x0D
#define EEPROM_VENDOR_ID 0x0E
#define EEPROM_INITIALIZATION_CONTROL_2 0x0F
#define EEPROM_CHECKSUM 0x3F
#define EEPROM_CHECKSUM_SUM 0xBABA               /* words 0x00-0x3F add up to this */
#define EEPROM_SIGNATURE_VALID 0x4000            /* ICW1 bits 15:14 = 01b: a valid image */
#define EEPROM_ADDRESS_MASK (X86_E1000_EEPROM_WORDS - 1)

/* the Microwire protocol (5.5): start bit 1, a 2-bit opcode, 6 address bits, then 16 data bits
 * out on DO after a dummy 0 */
#define MICROWIRE_OPCODE_READ 0x2
#define MICROWIRE_OPCODE_BITS 2
#define MICROWIRE_ADDRESS_BITS 6
#define MICROWIRE_DATA_BITS 16
enum microwire_state {
    MICROWIRE_WAIT_START,
    MICROWIRE_OPCODE,
    MICROWIRE_ADDRESS,
    MICROWIRE_READING,
    MICROWIRE_IGNORING,
};

/* ---- the PHY (clause 22 registers; identity of the Marvell 88E1011 in the 82540EM) -------- */

#define PHY_CONTROL 0
#define PHY_STATUS 1
#define PHY_IDENTIFIER_1 2
#define PHY_IDENTIFIER_2 3
#define PHY_AUTONEG_ADVERTISEMENT 4
#define PHY_LINK_PARTNER_ABILITY 5
#define PHY_AUTONEG_EXPANSION 6
#define PHY_NEXT_PAGE_TRANSMIT 7
#define PHY_LINK_PARTNER_NEXT_PAGE 8
#define PHY_1000T_CONTROL 9
#define PHY_1000T_STATUS 10
#define PHY_EXTENDED_STATUS 15
#define PHY_SPECIFIC_CONTROL 16
#define PHY_SPECIFIC_STATUS 17
#define PHY_INTERRUPT_ENABLE 18
#define PHY_INTERRUPT_STATUS 19
#define PHY_EXTENDED_SPECIFIC_CONTROL 20
#define PHY_RECEIVE_ERROR_COUNTER 21
#define PHY_PAGE_ADDRESS 22
#define PHY_LED_CONTROL 24

#define PHY_CONTROL_RESET (1u << 15)
#define PHY_CONTROL_LOOPBACK (1u << 14)
/* status: 100BASE-X FD/HD, 10 Mb/s FD/HD, extended status, preamble suppression,
 * autonegotiation ability, extended capability; plus link status and autoneg complete */
#define PHY_STATUS_CAPABILITIES 0x7949u
#define PHY_STATUS_LINK (1u << 2)
#define PHY_STATUS_AUTONEG_COMPLETE (1u << 5)
/* 1000BASE-T status: local and remote receiver OK, partner 1000 FD and HD capable */
#define PHY_1000T_STATUS_LINKED 0x3C00u
/* 88E1011 specific status: 1000 Mb/s (15:14 = 10), full duplex, resolved, link (real time) */
#define PHY_SPECIFIC_STATUS_LINKED 0xAC00u

struct phy_register_info {
    uint8_t index;
    const char *name;
    uint16_t reset_value;
    uint16_t writable;      /* 0: read-only */
};

/* Registers not listed read 0 and ignore writes; the status registers are computed in
 * phy_read. Control's reset (bit 15) and restart autonegotiation (bit 9) self-clear, so they
 * are not writable storage. */
static const struct phy_register_info phy_registers[] = {
    { PHY_CONTROL, "PHY control", 0x1140, 0x7DC0 }, /* autoneg, full duplex, 1000 Mb/s */
    { PHY_STATUS, "PHY status", 0, 0 },
    { PHY_IDENTIFIER_1, "PHY identifier 1", 0x0141, 0 },
    { PHY_IDENTIFIER_2, "PHY identifier 2", 0x0C20, 0 },
    { PHY_AUTONEG_ADVERTISEMENT, "autonegotiation advertisement", 0x01E1, 0xBFFF },
    { PHY_LINK_PARTNER_ABILITY, "link partner ability", 0x41E1, 0 },
    { PHY_AUTONEG_EXPANSION, "autonegotiation expansion", 0x0001, 0 },
    { PHY_NEXT_PAGE_TRANSMIT, "next page transmit", 0x2001, 0xBFFF },
    { PHY_LINK_PARTNER_NEXT_PAGE, "link partner next page", 0, 0 },
    { PHY_1000T_CONTROL, "1000BASE-T control", 0x0300, 0xFF00 },
    { PHY_1000T_STATUS, "1000BASE-T status", 0, 0 },
    { PHY_EXTENDED_STATUS, "extended status", 0x3000, 0 },
    { PHY_SPECIFIC_CONTROL, "PHY specific control", 0x0068, 0xFFFF },
    { PHY_SPECIFIC_STATUS, "PHY specific status", 0, 0 },
    { PHY_INTERRUPT_ENABLE, "interrupt enable", 0, 0xFFFF },
    { PHY_INTERRUPT_STATUS, "interrupt status", 0, 0 },
    { PHY_EXTENDED_SPECIFIC_CONTROL, "extended PHY specific control", 0x0C60, 0xFFFF },
    { PHY_RECEIVE_ERROR_COUNTER, "receive error counter", 0, 0 },
    { PHY_PAGE_ADDRESS, "page address", 0, 0xFFFF },
    { PHY_LED_CONTROL, "LED control", 0x4100, 0xFFFF },
    /* vendor test registers software writes in errata workarounds: storage */
    { 26, "vendor 26", 0, 0xFFFF },
    { 29, "vendor 29", 0, 0xFFFF },
    { 30, "vendor 30", 0, 0xFFFF },
};

#define PHY_REGISTER_COUNT (sizeof(phy_registers) / sizeof(phy_registers[0]))

static const struct phy_register_info *find_phy_register(unsigned index)
{
    for (size_t i = 0; i < PHY_REGISTER_COUNT; i++)
        if (phy_registers[i].index == index)
            return &phy_registers[i];
    return NULL;
}

/* ---- small helpers ----------------------------------------------------------------------- */

static uint16_t load16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)load16(p) | (uint32_t)load16(p + 2) << 16;
}

static uint64_t load64(const uint8_t *p)
{
    return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

static void store16(uint8_t *p, uint16_t value)
{
    p[0] = (uint8_t)value;
    p[1] = (uint8_t)(value >> 8);
}

static uint32_t *reg(struct x86_e1000 *nic, uint32_t offset)
{
    return &nic->registers[offset / 4];
}

static uint32_t reg_value(const struct x86_e1000 *nic, uint32_t offset)
{
    return nic->registers[offset / 4];
}

static uint64_t current_cycle(const struct x86_e1000 *nic)
{
    return nic->cycles ? *nic->cycles : 0;
}

/* ceil(nanoseconds * cpu_hz / 1e9) without overflow: nanoseconds stays below 2^27 here (16-bit
 * fields in 1024 ns units) and cpu_hz is split into whole gigahertz and a remainder */
static uint64_t nanoseconds_to_cycles(const struct x86_e1000 *nic, uint64_t nanoseconds)
{
    const uint64_t per_second = 1000000000ull;
    uint64_t whole = nic->cpu_hz / per_second, rest = nic->cpu_hz % per_second;
    return nanoseconds * whole + (nanoseconds * rest + per_second - 1) / per_second;
}

/* statistics saturate (13.7: "sticks at FFFF_FFFFh") */
static void count(struct x86_e1000 *nic, uint32_t offset, uint32_t amount)
{
    uint32_t *counter = reg(nic, offset);
    *counter = *counter > UINT32_MAX - amount ? UINT32_MAX : *counter + amount;
}

static void count64(struct x86_e1000 *nic, uint32_t low_offset, uint64_t amount)
{
    uint64_t value = (uint64_t)reg_value(nic, low_offset) |
                     (uint64_t)reg_value(nic, low_offset + 4) << 32;
    value = value > UINT64_MAX - amount ? UINT64_MAX : value + amount;
    *reg(nic, low_offset) = (uint32_t)value;
    *reg(nic, low_offset + 4) = (uint32_t)(value >> 32);
}

/* the IEEE 802.3 FCS: CRC-32, reflected polynomial 0xEDB88320, complemented */
static uint32_t ethernet_crc(const uint8_t *data, size_t length)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- timers and the interrupt line ------------------------------------------------------- */

static void timer_stop(struct x86_e1000 *nic, struct x86_e1000_timer *timer)
{
    if (timer->event_id) {
        x86_events_cancel(nic->events, timer->event_id);
        timer->event_id = 0;
    }
}

/* false when there is no queue or it is out of memory: the caller acts at once instead */
static bool timer_start(struct x86_e1000 *nic, struct x86_e1000_timer *timer, uint64_t cycle,
                        x86_event_fn expired)
{
    timer_stop(nic, timer);
    if (!nic->events)
        return false;
    timer->cycle = cycle;
    timer->event_id = x86_events_schedule(nic->events, cycle, expired, nic);
    return timer->event_id != 0;
}

void x86_e1000_throttle_event(void *context, void *opaque);

/* The line is (ICR & IMS) != 0, but ITR (13.4.18) guarantees a minimum interval between
 * assertions: a request inside the interval waits for its end, where one assertion covers all
 * the causes gathered meanwhile. The interval starts when the line is asserted. */
static void update_interrupt(struct x86_e1000 *nic, uint64_t now)
{
    bool pending = (reg_value(nic, REG_ICR) & reg_value(nic, REG_IMS)) != 0;
    if (!pending) {
        if (nic->interrupt_asserted) {
            nic->interrupt_asserted = false;
            x86_pci_set_interrupt(&nic->pci, false);
        }
        return;
    }
    if (nic->interrupt_asserted)
        return;
    uint32_t interval = reg_value(nic, REG_ITR) & ITR_INTERVAL_MASK;
    if (interval && now < nic->throttle_end) {
        if (nic->throttle.event_id)
            return; /* already waiting for the interval's end */
        if (timer_start(nic, &nic->throttle, nic->throttle_end, x86_e1000_throttle_event))
            return;
    }
    nic->interrupt_asserted = true;
    nic->throttle_end = now + nanoseconds_to_cycles(nic, (uint64_t)interval * ITR_UNIT_NANOSECONDS);
    x86_pci_set_interrupt(&nic->pci, true);
}

void x86_e1000_throttle_event(void *context, void *opaque)
{
    (void)context;
    struct x86_e1000 *nic = opaque;
    nic->throttle.event_id = 0;
    update_interrupt(nic, nic->throttle.cycle);
}

static void raise_causes(struct x86_e1000 *nic, uint32_t causes, uint64_t now)
{
    *reg(nic, REG_ICR) |= causes & CAUSE_VALID;
    update_interrupt(nic, now);
}

/* RXT0 after a packet (3.2.7.1): at once when RDTR is 0; else when the packet timer (RDTR,
 * restarted by every packet) or the absolute timer (RADV, started by the first packet and
 * not restarted) runs out, whichever comes first; either expiring stops both. */
static void receive_timer_fire(struct x86_e1000 *nic, uint64_t now)
{
    timer_stop(nic, &nic->receive_packet_timer);
    timer_stop(nic, &nic->receive_absolute_timer);
    raise_causes(nic, CAUSE_RECEIVER_TIMER, now);
}

void x86_e1000_rdtr_event(void *context, void *opaque)
{
    (void)context;
    struct x86_e1000 *nic = opaque;
    nic->receive_packet_timer.event_id = 0;
    receive_timer_fire(nic, nic->receive_packet_timer.cycle);
}

void x86_e1000_radv_event(void *context, void *opaque)
{
    (void)context;
    struct x86_e1000 *nic = opaque;
    nic->receive_absolute_timer.event_id = 0;
    receive_timer_fire(nic, nic->receive_absolute_timer.cycle);
}

/* TXDW for descriptors with IDE: the same pair of timers with TIDV and TADV (3.4.1) */
static void transmit_timer_fire(struct x86_e1000 *nic, uint64_t now)
{
    timer_stop(nic, &nic->transmit_packet_timer);
    timer_stop(nic, &nic->transmit_absolute_timer);
    raise_causes(nic, CAUSE_TRANSMIT_DESCRIPTOR_WRITTEN_BACK, now);
}

void x86_e1000_tidv_event(void *context, void *opaque)
{
    (void)context;
    struct x86_e1000 *nic = opaque;
    nic->transmit_packet_timer.event_id = 0;
    transmit_timer_fire(nic, nic->transmit_packet_timer.cycle);
}

void x86_e1000_tadv_event(void *context, void *opaque)
{
    (void)context;
    struct x86_e1000 *nic = opaque;
    nic->transmit_absolute_timer.event_id = 0;
    transmit_timer_fire(nic, nic->transmit_absolute_timer.cycle);
}

/* One direction's delay timer pair */
struct delay_timers {
    uint32_t packet_register, absolute_register;
    struct x86_e1000_timer *packet, *absolute;
    x86_event_fn packet_expired, absolute_expired;
    void (*fire)(struct x86_e1000 *nic, uint64_t now);
};

/* A packet (receive) or a descriptor with IDE (transmit) arms the delay timers. */
static void arm_delay_timers(struct x86_e1000 *nic, const struct delay_timers *t, uint64_t now)
{
    uint32_t delay = reg_value(nic, t->packet_register) & DELAY_MASK;
    uint32_t absolute_delay = reg_value(nic, t->absolute_register) & DELAY_MASK;
    uint64_t packet_cycle = now + nanoseconds_to_cycles(nic, (uint64_t)delay * DELAY_UNIT_NANOSECONDS);
    if (delay == 0 || !timer_start(nic, t->packet, packet_cycle, t->packet_expired)) {
        t->fire(nic, now);
        return;
    }
    /* the absolute timer is disabled by 0 and is not restarted while it runs */
    if (absolute_delay && !t->absolute->event_id)
        timer_start(nic, t->absolute,
                    now + nanoseconds_to_cycles(nic, (uint64_t)absolute_delay * DELAY_UNIT_NANOSECONDS),
                    t->absolute_expired);
}

/* ---- the EEPROM -------------------------------------------------------------------------- */

static void build_eeprom(struct x86_e1000 *nic, const uint8_t mac[6])
{
    memset(nic->eeprom, 0, sizeof(nic->eeprom));
    for (unsigned i = 0; i < 3; i++)
        nic->eeprom[EEPROM_ETHERNET_ADDRESS + i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
    nic->eeprom[EEPROM_INITIALIZATION_CONTROL_1] = EEPROM_SIGNATURE_VALID;
    nic->eeprom[EEPROM_SUBSYSTEM_ID] = X86_E1000_SUBSYSTEM_ID;
    nic->eeprom[EEPROM_SUBSYSTEM_VENDOR_ID] = X86_E1000_SUBSYSTEM_VENDOR_ID;
    nic->eeprom[EEPROM_DEVICE_ID] = X86_E1000_DEVICE_ID;
    nic->eeprom[EEPROM_VENDOR_ID] = X86_E1000_VENDOR_ID;
    nic->eeprom[EEPROM_INITIALIZATION_CONTROL_2] = 0; /* no pause frames advertised */
    uint16_t sum = 0;
    for (unsigned i = 0; i < EEPROM_CHECKSUM; i++)
        sum = (uint16_t)(sum + nic->eeprom[i]);
    nic->eeprom[EEPROM_CHECKSUM] = (uint16_t)(EEPROM_CHECKSUM_SUM - sum);
}

static void microwire_reset(struct x86_e1000_eeprom_wire *wire)
{
    memset(wire, 0, sizeof(*wire));
    wire->state = MICROWIRE_WAIT_START;
    wire->data_out = true; /* DO floats high while the EEPROM does not drive it */
}

/* One rising edge of SK with CS high: the EEPROM samples DI, or shifts the next bit out */
static void microwire_clock(struct x86_e1000 *nic, bool data_in)
{
    struct x86_e1000_eeprom_wire *wire = &nic->eeprom_wire;
    switch (wire->state) {
    case MICROWIRE_WAIT_START:
        if (data_in) { /* leading zeros before the start bit are ignored */
            wire->state = MICROWIRE_OPCODE;
            wire->bits = 0;
            wire->shift = 0;
        }
        break;
    case MICROWIRE_OPCODE:
        wire->shift = (uint16_t)(wire->shift << 1 | data_in);
        if (++wire->bits == MICROWIRE_OPCODE_BITS) {
            wire->opcode = (uint8_t)wire->shift;
            wire->state = MICROWIRE_ADDRESS;
            wire->bits = 0;
            wire->shift = 0;
        }
        break;
    case MICROWIRE_ADDRESS:
        wire->shift = (uint16_t)(wire->shift << 1 | data_in);
        if (++wire->bits == MICROWIRE_ADDRESS_BITS) {
            wire->address = (uint8_t)wire->shift;
            if (wire->opcode == MICROWIRE_OPCODE_READ) {
                wire->state = MICROWIRE_READING;
                wire->data = nic->eeprom[wire->address & EEPROM_ADDRESS_MASK];
                wire->data_bits = MICROWIRE_DATA_BITS;
                wire->data_out = false; /* the dummy 0 that ends the address */
            } else {
                /* write, erase and the 00 group: the image is read-only here */
                wire->state = MICROWIRE_IGNORING;
            }
        }
        break;
    case MICROWIRE_READING:
        if (wire->data_bits == 0) { /* sequential read: on to the next word */
            wire->address = (uint8_t)((wire->address + 1) & EEPROM_ADDRESS_MASK);
            wire->data = nic->eeprom[wire->address];
            wire->data_bits = MICROWIRE_DATA_BITS;
        }
        wire->data_out = (wire->data & 0x8000) != 0;
        wire->data = (uint16_t)(wire->data << 1);
        wire->data_bits--;
        break;
    default:
        break;
    }
}

/* ---- the PHY ----------------------------------------------------------------------------- */

static void phy_reset(struct x86_e1000 *nic)
{
    memset(nic->phy, 0, sizeof(nic->phy));
    for (size_t i = 0; i < PHY_REGISTER_COUNT; i++)
        nic->phy[phy_registers[i].index] = phy_registers[i].reset_value;
}

static bool phy_loopback(const struct x86_e1000 *nic)
{
    return (nic->phy[PHY_CONTROL] & PHY_CONTROL_LOOPBACK) != 0;
}

static uint16_t phy_read(const struct x86_e1000 *nic, unsigned index)
{
    bool linked = nic->link_up;
    switch (index) {
    case PHY_STATUS:
        /* autonegotiation completes at once with the (imaginary) link partner */
        return (uint16_t)(PHY_STATUS_CAPABILITIES |
                          (linked ? PHY_STATUS_LINK | PHY_STATUS_AUTONEG_COMPLETE : 0));
    case PHY_1000T_STATUS:
        return linked ? PHY_1000T_STATUS_LINKED : 0;
    case PHY_SPECIFIC_STATUS:
        return linked ? PHY_SPECIFIC_STATUS_LINKED : 0;
    default:
        return find_phy_register(index) ? nic->phy[index] : 0;
    }
}

static void phy_write(struct x86_e1000 *nic, unsigned index, uint16_t value)
{
    const struct phy_register_info *info = find_phy_register(index);
    if (!info || !info->writable)
        return;
    if (index == PHY_CONTROL && (value & PHY_CONTROL_RESET)) {
        phy_reset(nic); /* back to the defaults: loopback off, autonegotiation on */
        return;
    }
    nic->phy[index] = (uint16_t)((nic->phy[index] & ~info->writable) | (value & info->writable));
}

/* ---- the register map -------------------------------------------------------------------- */

#define ACCESS_READ 0x1u
#define ACCESS_WRITE 0x2u
#define ACCESS_READ_CLEAR 0x4u    /* statistics: reading returns the count and clears it */
#define ACCESS_BITWISE 0x8u       /* a written 0 changes nothing (ICR, ICS, IMS, IMC): narrow
                                     writes leave the other bytes alone */
#define ACCESS_READ_WRITE (ACCESS_READ | ACCESS_WRITE)

struct register_info {
    uint32_t offset;            /* the first register */
    uint16_t count;             /* consecutive 32-bit registers (arrays: MTA, RAL/RAH, VFTA) */
    const char *name;           /* the manual's mnemonic */
    uint8_t access;
    uint32_t reset_value;
    uint32_t writable;          /* bits a plain write stores */
    /* side effects; NULL: plain storage. Handlers get the full 32-bit value written. */
    uint32_t (*read)(struct x86_e1000 *nic, uint32_t offset);
    void (*write)(struct x86_e1000 *nic, uint32_t offset, uint32_t value);
};

static void store(struct x86_e1000 *nic, uint32_t offset, uint32_t value, uint32_t writable)
{
    uint32_t *r = reg(nic, offset);
    *r = (*r & ~writable) | (value & writable);
}

static void transmit_process(struct x86_e1000 *nic, uint64_t now);
static void device_reset(struct x86_e1000 *nic);

static void write_ctrl(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    if (value & CTRL_DEVICE_RESET) { /* RST self-clears after resetting everything (13.4.1) */
        device_reset(nic);
        return;
    }
    uint32_t old = reg_value(nic, offset);
    store(nic, offset, value, CTRL_WRITABLE);
    if ((value & CTRL_PHY_RESET) && !(old & CTRL_PHY_RESET))
        phy_reset(nic);
}

static uint32_t read_status(struct x86_e1000 *nic, uint32_t offset)
{
    (void)offset;
    return STATUS_FULL_DUPLEX | STATUS_SPEED_1000 | (nic->link_up ? STATUS_LINK_UP : 0);
}

static uint32_t read_eecd(struct x86_e1000 *nic, uint32_t offset)
{
    uint32_t value = reg_value(nic, offset) | EECD_PRESENT;
    /* the NIC never uses the EEPROM after reset, so a request is granted at once */
    if (value & EECD_REQUEST)
        value |= EECD_GRANT;
    if (nic->eeprom_wire.data_out)
        value |= EECD_DATA_OUT;
    return value;
}

/* Software bit-bangs the Microwire pins (5.5). The 82540EM asks software to own the interface
 * through EE_REQ/EE_GNT first; as the grant is immediate, the pins are followed regardless. */
static void write_eecd(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    uint32_t old = reg_value(nic, offset);
    store(nic, offset, value, EECD_WRITABLE);
    if (!(value & EECD_CHIP_SELECT)) {
        microwire_reset(&nic->eeprom_wire); /* deselected: the command is over */
        return;
    }
    if (!(old & EECD_CHIP_SELECT))
        microwire_reset(&nic->eeprom_wire); /* CS rising: a new command starts */
    if ((value & EECD_CLOCK) && !(old & EECD_CLOCK))
        microwire_clock(nic, (value & EECD_DATA_IN) != 0);
}

/* EERD (13.4.4): a read completes at once; the address decodes 6 bits (a 64-word part) */
static void write_eerd(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    uint32_t address = (value >> EERD_ADDRESS_SHIFT) & 0xFF;
    uint32_t result = address << EERD_ADDRESS_SHIFT;
    if (value & EERD_START)
        result |= EERD_DONE |
                  (uint32_t)nic->eeprom[address & EEPROM_ADDRESS_MASK] << EERD_DATA_SHIFT;
    *reg(nic, offset) = result;
}

/* MDIC (13.4.7): the MDI access completes at once, setting READY (and MDAC if asked) */
static void write_mdic(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    unsigned index = (value >> MDIC_REGISTER_SHIFT) & 0x1F;
    unsigned phy_address = (value >> MDIC_PHY_ADDRESS_SHIFT) & 0x1F;
    unsigned opcode = (value >> MDIC_OPCODE_SHIFT) & 0x3;
    uint32_t result = value & ~(MDIC_READY | MDIC_ERROR);
    if (phy_address != PHY_ADDRESS_INTERNAL ||
        (opcode != MDIC_OPCODE_READ && opcode != MDIC_OPCODE_WRITE)) {
        result |= MDIC_ERROR; /* nothing answers at that address */
    } else if (opcode == MDIC_OPCODE_READ) {
        result = (result & ~MDIC_DATA_MASK) | phy_read(nic, index);
    } else {
        phy_write(nic, index, (uint16_t)(value & MDIC_DATA_MASK));
    }
    *reg(nic, offset) = result | MDIC_READY;
    if (value & MDIC_INTERRUPT_ENABLE)
        raise_causes(nic, CAUSE_MDIO_ACCESS_COMPLETE, current_cycle(nic));
}

/* ICR (13.4.17): reading returns the causes and clears them, which deasserts the line */
static uint32_t read_icr(struct x86_e1000 *nic, uint32_t offset)
{
    uint32_t causes = reg_value(nic, offset);
    *reg(nic, offset) = 0;
    update_interrupt(nic, current_cycle(nic));
    return causes;
}

/* writing 1s clears those causes */
static void write_icr(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    *reg(nic, offset) &= ~value;
    update_interrupt(nic, current_cycle(nic));
}

static void write_ics(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    (void)offset;
    raise_causes(nic, value, current_cycle(nic));
}

static void write_ims(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    *reg(nic, offset) |= value & CAUSE_VALID;
    update_interrupt(nic, current_cycle(nic));
}

static void write_imc(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    (void)offset;
    *reg(nic, REG_IMS) &= ~value;
    update_interrupt(nic, current_cycle(nic));
}

static void write_tctl(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    store(nic, offset, value, TCTL_WRITABLE);
    transmit_process(nic, current_cycle(nic)); /* descriptors queued while disabled go now */
}

static void write_tdt(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    store(nic, offset, value, 0xFFFF);
    transmit_process(nic, current_cycle(nic));
}

static void write_rdtr(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    store(nic, offset, value, DELAY_MASK);
    if (value & DELAY_FLUSH) /* FPD: the timer expires now (reads back 0) */
        receive_timer_fire(nic, current_cycle(nic));
}

static void write_tidv(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    store(nic, offset, value, DELAY_MASK);
    if (value & DELAY_FLUSH)
        transmit_timer_fire(nic, current_cycle(nic));
}

/* RAL n / RAH n alternate: RAH keeps the two high address bytes, AS and AV */
static void write_receive_address(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    bool high = ((offset - REG_RA) / 4) & 1;
    store(nic, offset, value, high ? RAH_WRITABLE : 0xFFFFFFFFu);
}

/* the high half of a 64-bit counter clears the pair (13.7.31) */
static uint32_t read_counter_high(struct x86_e1000 *nic, uint32_t offset)
{
    uint32_t value = reg_value(nic, offset);
    *reg(nic, offset) = 0;
    *reg(nic, offset - 4) = 0;
    return value;
}

static void write_wus(struct x86_e1000 *nic, uint32_t offset, uint32_t value)
{
    *reg(nic, offset) &= ~value; /* wake-up status bits clear by writing 1 */
}

#define PLAIN(off, mnemonic, reset, mask) \
    { off, 1, mnemonic, ACCESS_READ_WRITE, reset, mask, NULL, NULL }
#define ARRAY(off, n, mnemonic, mask) \
    { off, n, mnemonic, ACCESS_READ_WRITE, 0, mask, NULL, NULL }
#define HANDLED(off, mnemonic, access, reset, mask, reader, writer) \
    { off, 1, mnemonic, access, reset, mask, reader, writer }
#define COUNTER(off, mnemonic) \
    { off, 1, mnemonic, ACCESS_READ | ACCESS_READ_CLEAR, 0, 0, NULL, NULL }
#define COUNTER_LOW(off, mnemonic) { off, 1, mnemonic, ACCESS_READ, 0, 0, NULL, NULL }
#define COUNTER_HIGH(off, mnemonic) \
    { off, 1, mnemonic, ACCESS_READ, 0, 0, read_counter_high, NULL }

/* Sorted by offset (lookups bisect). Offsets not listed read 0 and ignore writes. */
static const struct register_info registers[] = {
    HANDLED(REG_CTRL, "CTRL", ACCESS_READ_WRITE, CTRL_RESET_VALUE, CTRL_WRITABLE, NULL, write_ctrl),
    HANDLED(REG_STATUS, "STATUS", ACCESS_READ, 0, 0, read_status, NULL),
    HANDLED(REG_EECD, "EECD", ACCESS_READ_WRITE, EECD_FLASH_WRITE_DISABLED, EECD_WRITABLE,
            read_eecd, write_eecd),
    HANDLED(REG_EERD, "EERD", ACCESS_READ_WRITE, 0, 0, NULL, write_eerd),
    PLAIN(REG_CTRL_EXT, "CTRL_EXT", 0, 0xFFFFDFFFu), /* EE_RST (bit 13) self-clears */
    HANDLED(REG_MDIC, "MDIC", ACCESS_READ_WRITE, MDIC_READY, 0, NULL, write_mdic),
    PLAIN(REG_FCAL, "FCAL", 0, 0xFFFFFFFFu),
    PLAIN(REG_FCAH, "FCAH", 0, 0xFFFF),
    PLAIN(REG_FCT, "FCT", 0, 0xFFFF),
    PLAIN(REG_VET, "VET", 0x8100, 0xFFFF),
    HANDLED(REG_ICR, "ICR", ACCESS_READ_WRITE | ACCESS_BITWISE, 0, 0, read_icr, write_icr),
    PLAIN(REG_ITR, "ITR", 0, ITR_INTERVAL_MASK),
    HANDLED(REG_ICS, "ICS", ACCESS_WRITE | ACCESS_BITWISE, 0, 0, NULL, write_ics),
    HANDLED(REG_IMS, "IMS", ACCESS_READ_WRITE | ACCESS_BITWISE, 0, 0, NULL, write_ims),
    HANDLED(REG_IMC, "IMC", ACCESS_WRITE | ACCESS_BITWISE, 0, 0, NULL, write_imc),
    PLAIN(REG_RCTL, "RCTL", 0, RCTL_WRITABLE),
    PLAIN(REG_FCTTV, "FCTTV", 0, 0xFFFF),
    PLAIN(REG_TXCW, "TXCW", 0, 0xC000FFFFu),
    HANDLED(REG_RXCW, "RXCW", ACCESS_READ, 0, 0, NULL, NULL),
    HANDLED(REG_TCTL, "TCTL", ACCESS_READ_WRITE, 0, TCTL_WRITABLE, NULL, write_tctl),
    PLAIN(REG_TIPG, "TIPG", 0, 0x3FFFFFFFu),
    PLAIN(REG_AIFS, "AIFS", 0, 0xFFFF),
    PLAIN(REG_LEDCTL, "LEDCTL", 0, 0xFFFFFFFFu),
    PLAIN(REG_PBA, "PBA", 0x0030, 0xFFFF), /* 48 KiB receive, 16 KiB transmit */
    PLAIN(REG_FCRTL, "FCRTL", 0, 0x8000FFF8u),
    PLAIN(REG_FCRTH, "FCRTH", 0, 0x0000FFF8u),
    PLAIN(REG_RDBAL, "RDBAL", 0, 0xFFFFFFF0u), /* 16-byte aligned */
    PLAIN(REG_RDBAH, "RDBAH", 0, 0xFFFFFFFFu),
    PLAIN(REG_RDLEN, "RDLEN", 0, 0x000FFF80u), /* a multiple of 128 bytes */
    PLAIN(REG_RDH, "RDH", 0, 0xFFFF),
    PLAIN(REG_RDT, "RDT", 0, 0xFFFF),
    HANDLED(REG_RDTR, "RDTR", ACCESS_READ_WRITE, 0, DELAY_MASK, NULL, write_rdtr),
    PLAIN(REG_RXDCTL, "RXDCTL", 0x00010000u, 0x013F3F3Fu),
    PLAIN(REG_RADV, "RADV", 0, DELAY_MASK),
    PLAIN(REG_RSRPD, "RSRPD", 0, 0x0FFF),
    PLAIN(REG_TXDMAC, "TXDMAC", 0, 0x1),
    PLAIN(REG_TDBAL, "TDBAL", 0, 0xFFFFFFF0u),
    PLAIN(REG_TDBAH, "TDBAH", 0, 0xFFFFFFFFu),
    PLAIN(REG_TDLEN, "TDLEN", 0, 0x000FFF80u),
    PLAIN(REG_TDH, "TDH", 0, 0xFFFF),
    HANDLED(REG_TDT, "TDT", ACCESS_READ_WRITE, 0, 0xFFFF, NULL, write_tdt),
    HANDLED(REG_TIDV, "TIDV", ACCESS_READ_WRITE, 0, DELAY_MASK, NULL, write_tidv),
    PLAIN(REG_TXDCTL, "TXDCTL", 0, 0x013F3F3Fu),
    PLAIN(REG_TADV, "TADV", 0, DELAY_MASK),
    COUNTER(REG_CRCERRS, "CRCERRS"),
    COUNTER(REG_ALGNERRC, "ALGNERRC"),
    COUNTER(REG_SYMERRS, "SYMERRS"),
    COUNTER(REG_RXERRC, "RXERRC"),
    COUNTER(REG_MPC, "MPC"),
    COUNTER(REG_SCC, "SCC"),
    COUNTER(REG_ECOL, "ECOL"),
    COUNTER(REG_MCC, "MCC"),
    COUNTER(REG_LATECOL, "LATECOL"),
    COUNTER(REG_COLC, "COLC"),
    COUNTER(REG_DC, "DC"),
    COUNTER(REG_TNCRS, "TNCRS"),
    COUNTER(REG_SEC, "SEC"),
    COUNTER(REG_CEXTERR, "CEXTERR"),
    COUNTER(REG_RLEC, "RLEC"),
    COUNTER(REG_XONRXC, "XONRXC"),
    COUNTER(REG_XONTXC, "XONTXC"),
    COUNTER(REG_XOFFRXC, "XOFFRXC"),
    COUNTER(REG_XOFFTXC, "XOFFTXC"),
    COUNTER(REG_FCRUC, "FCRUC"),
    COUNTER(REG_PRC64, "PRC64"),
    COUNTER(REG_PRC127, "PRC127"),
    COUNTER(REG_PRC255, "PRC255"),
    COUNTER(REG_PRC511, "PRC511"),
    COUNTER(REG_PRC1023, "PRC1023"),
    COUNTER(REG_PRC1522, "PRC1522"),
    COUNTER(REG_GPRC, "GPRC"),
    COUNTER(REG_BPRC, "BPRC"),
    COUNTER(REG_MPRC, "MPRC"),
    COUNTER(REG_GPTC, "GPTC"),
    COUNTER_LOW(REG_GORCL, "GORCL"),
    COUNTER_HIGH(REG_GORCH, "GORCH"),
    COUNTER_LOW(REG_GOTCL, "GOTCL"),
    COUNTER_HIGH(REG_GOTCH, "GOTCH"),
    COUNTER(REG_RNBC, "RNBC"),
    COUNTER(REG_RUC, "RUC"),
    COUNTER(REG_RFC, "RFC"),
    COUNTER(REG_ROC, "ROC"),
    COUNTER(REG_RJC, "RJC"),
    COUNTER_LOW(REG_TORL, "TORL"),
    COUNTER_HIGH(REG_TORH, "TORH"),
    COUNTER_LOW(REG_TOTL, "TOTL"),
    COUNTER_HIGH(REG_TOTH, "TOTH"),
    COUNTER(REG_TPR, "TPR"),
    COUNTER(REG_TPT, "TPT"),
    COUNTER(REG_PTC64, "PTC64"),
    COUNTER(REG_PTC127, "PTC127"),
    COUNTER(REG_PTC255, "PTC255"),
    COUNTER(REG_PTC511, "PTC511"),
    COUNTER(REG_PTC1023, "PTC1023"),
    COUNTER(REG_PTC1522, "PTC1522"),
    COUNTER(REG_MPTC, "MPTC"),
    COUNTER(REG_BPTC, "BPTC"),
    COUNTER(REG_TSCTC, "TSCTC"),
    COUNTER(REG_TSCTFC, "TSCTFC"),
    PLAIN(REG_RXCSUM, "RXCSUM", 0, 0x3FF),
    ARRAY(REG_MTA, MTA_ENTRIES, "MTA", 0xFFFFFFFFu),
    { REG_RA, 2 * RA_ENTRIES, "RAL/RAH", ACCESS_READ_WRITE, 0, 0, NULL, write_receive_address },
    ARRAY(REG_VFTA, VFTA_ENTRIES, "VFTA", 0xFFFFFFFFu),
    PLAIN(REG_WUC, "WUC", 0, 0x1F),
    PLAIN(REG_WUFC, "WUFC", 0, 0x000F00FFu),
    HANDLED(REG_WUS, "WUS", ACCESS_READ_WRITE, 0, 0, NULL, write_wus),
    PLAIN(REG_MANC, "MANC", 0, 0xFFFFFFFFu),
};

#define REGISTER_COUNT (sizeof(registers) / sizeof(registers[0]))

static const struct register_info *find_register(uint32_t offset)
{
    size_t low = 0, high = REGISTER_COUNT;
    while (low < high) {
        size_t middle = (low + high) / 2;
        const struct register_info *r = &registers[middle];
        if (offset < r->offset)
            high = middle;
        else if (offset - r->offset >= 4u * r->count)
            low = middle + 1;
        else
            return r;
    }
    return NULL;
}

const char *x86_e1000_register_name(uint32_t offset)
{
    const struct register_info *r = find_register(offset & ~3u);
    if (!r)
        return NULL;
    if (r->offset == REG_RA) /* name the half of the pair */
        return ((offset - REG_RA) / 4) & 1 ? "RAH" : "RAL";
    return r->name;
}

static uint32_t register_read(struct x86_e1000 *nic, uint32_t offset)
{
    const struct register_info *r = find_register(offset);
    if (!r || !(r->access & ACCESS_READ))
        return 0;
    uint32_t value = r->read ? r->read(nic, offset) : reg_value(nic, offset);
    if (r->access & ACCESS_READ_CLEAR)
        *reg(nic, offset) = 0;
    return value;
}

/* byte_enable: the bytes the access covers. The manual asks for 32-bit accesses (13.1);
 * narrower writes merge with the stored value, except where a 0 bit means "no change". */
static void register_write(struct x86_e1000 *nic, uint32_t offset, uint32_t value,
                           uint32_t byte_enable)
{
    const struct register_info *r = find_register(offset);
    if (!r || !(r->access & ACCESS_WRITE))
        return;
    if (r->access & ACCESS_BITWISE)
        value &= byte_enable;
    else
        value = (reg_value(nic, offset) & ~byte_enable) | (value & byte_enable);
    if (r->write)
        r->write(nic, offset, value);
    else
        store(nic, offset, value, r->writable);
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* An access may cover parts of two registers (8-byte or unaligned): split it per register */
uint64_t x86_e1000_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_e1000 *nic = opaque;
    uint64_t value = 0;
    for (unsigned done = 0; done < size;) {
        uint64_t at = offset + done;
        unsigned lane = (unsigned)(at & 3);
        unsigned chunk = 4 - lane < size - done ? 4 - lane : size - done;
        uint32_t word = 0;
        if (at < X86_E1000_REGISTER_SPACE)
            word = register_read(nic, (uint32_t)(at & ~3ull));
        value |= ((word >> (8 * lane)) & size_mask(chunk)) << (8 * done);
        done += chunk;
    }
    return value & size_mask(size);
}

void x86_e1000_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_e1000 *nic = opaque;
    for (unsigned done = 0; done < size;) {
        uint64_t at = offset + done;
        unsigned lane = (unsigned)(at & 3);
        unsigned chunk = 4 - lane < size - done ? 4 - lane : size - done;
        if (at < X86_E1000_REGISTER_SPACE) {
            uint32_t part = (uint32_t)((value >> (8 * done)) & size_mask(chunk)) << (8 * lane);
            uint32_t enable = (uint32_t)size_mask(chunk) << (8 * lane);
            register_write(nic, (uint32_t)(at & ~3ull), part, enable);
        }
        done += chunk;
    }
}

/* ---- the I/O window (13.2): IOADDR selects a register, IODATA accesses it ----------------- */

#define IO_ADDRESS 0
#define IO_DATA 4
#define IO_ADDRESS_MASK (X86_E1000_MMIO_SIZE - 1)

uint64_t x86_e1000_io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct x86_e1000 *nic = opaque;
    (void)size;
    if (offset == IO_ADDRESS)
        return nic->io_address;
    if (offset == IO_DATA)
        return x86_e1000_mmio_read(nic, nic->io_address & ~3u, 4);
    return 0; /* reserved */
}

void x86_e1000_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_e1000 *nic = opaque;
    (void)size;
    if (offset == IO_ADDRESS)
        nic->io_address = (uint32_t)value & IO_ADDRESS_MASK;
    else if (offset == IO_DATA)
        x86_e1000_mmio_write(nic, nic->io_address & ~3u, 4, (uint32_t)value);
}

/* ---- receive (3.2) ----------------------------------------------------------------------- */

static bool is_broadcast(const uint8_t *address)
{
    for (int i = 0; i < ETHERNET_ADDRESS_LENGTH; i++)
        if (address[i] != 0xFF)
            return false;
    return true;
}

/* the exact filters: RAL/RAH pairs with AV set and AS = destination address (13.5.1) */
static bool exact_match(const struct x86_e1000 *nic, const uint8_t *destination)
{
    for (unsigned i = 0; i < RA_ENTRIES; i++) {
        uint32_t low = reg_value(nic, REG_RA + 8 * i), high = reg_value(nic, REG_RA + 8 * i + 4);
        if (!(high & RAH_ADDRESS_VALID) || (high & RAH_ADDRESS_SELECT_MASK))
            continue;
        uint8_t address[ETHERNET_ADDRESS_LENGTH] = {
            (uint8_t)low, (uint8_t)(low >> 8), (uint8_t)(low >> 16), (uint8_t)(low >> 24),
            (uint8_t)high, (uint8_t)(high >> 8),
        };
        if (memcmp(address, destination, ETHERNET_ADDRESS_LENGTH) == 0)
            return true;
    }
    return false;
}

/* the imperfect filter (13.4.22 MO, 13.5.1 MTA): 12 bits of the destination address pick
 * one of 4096 bits in the multicast table; RCTL.MO picks which 12 (47:36, 46:35, 45:34 or
 * 43:32) */
static bool multicast_table_match(const struct x86_e1000 *nic, const uint8_t *destination)
{
    static const unsigned shift_for_offset[4] = { 4, 3, 2, 0 };
    unsigned offset = (reg_value(nic, REG_RCTL) >> RCTL_MULTICAST_OFFSET_SHIFT) & 3;
    unsigned bits_47_32 = destination[4] | destination[5] << 8;
    unsigned hash = (bits_47_32 >> shift_for_offset[offset]) & 0xFFF;
    return (reg_value(nic, REG_MTA + 4 * (hash >> 5)) >> (hash & 31)) & 1;
}

static bool address_accepted(const struct x86_e1000 *nic, const uint8_t *destination)
{
    uint32_t rctl = reg_value(nic, REG_RCTL);
    bool multicast = destination[0] & 1;
    if (is_broadcast(destination)) {
        /* BAM accepts broadcasts; without it they pass only through the filters */
        if (rctl & RCTL_BROADCAST_ACCEPT)
            return true;
        return exact_match(nic, destination) || multicast_table_match(nic, destination);
    }
    if (!multicast)
        return (rctl & RCTL_UNICAST_PROMISCUOUS) || exact_match(nic, destination);
    return (rctl & RCTL_MULTICAST_PROMISCUOUS) || exact_match(nic, destination) ||
           multicast_table_match(nic, destination);
}

static bool vlan_tagged(const struct x86_e1000 *nic, const uint8_t *frame, size_t length)
{
    if (length < ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH)
        return false;
    uint16_t type = (uint16_t)(frame[ETHERNET_TYPE_OFFSET] << 8 | frame[ETHERNET_TYPE_OFFSET + 1]);
    return type == (reg_value(nic, REG_VET) & 0xFFFF);
}

/* RCTL.BSIZE with BSEX (13.4.22); the reserved BSEX/00 combination is taken as 2048 */
static uint32_t receive_buffer_size(const struct x86_e1000 *nic)
{
    static const uint32_t normal[4] = { 2048, 1024, 512, 256 };
    static const uint32_t extended[4] = { 2048, 16384, 8192, 4096 };
    uint32_t rctl = reg_value(nic, REG_RCTL);
    unsigned code = (rctl >> RCTL_BUFFER_SIZE_SHIFT) & 3;
    return (rctl & RCTL_BUFFER_SIZE_EXTENSION) ? extended[code] : normal[code];
}

/* PRC64..PRC1522 / PTC64..PTC1522: 64, 65-127, 128-255, 256-511, 512-1023, 1024-1522 */
static void count_packet_size(struct x86_e1000 *nic, size_t wire_length, uint32_t first_bin)
{
    static const size_t upper[6] = { 64, 127, 255, 511, 1023, 1522 };
    if (wire_length < 64)
        return;
    for (unsigned i = 0; i < 6; i++)
        if (wire_length <= upper[i]) {
            count(nic, first_bin + 4 * i, 1);
            return;
        }
}

static void missed_packet(struct x86_e1000 *nic, uint64_t now)
{
    count(nic, REG_MPC, 1);
    raise_causes(nic, CAUSE_RECEIVER_OVERRUN, now);
}

/* A frame arrives from the wire. The frame is padded to the Ethernet minimum (as the sender's
 * MAC would) and given its FCS; the descriptors it needs are checked, every address through
 * x86_bus_ram, before anything is written, so a drop leaves the ring untouched. A frame larger
 * than one buffer spans several descriptors, EOP on the last (3.2.3); one that does not fit in
 * the free descriptors is missed (MPC, RNBC, RXO), as the FIFO would overflow. */
static bool receive_frame(struct x86_e1000 *nic, const uint8_t *frame, size_t length, uint64_t now)
{
    uint32_t rctl = reg_value(nic, REG_RCTL);
    if (!(rctl & RCTL_ENABLE)) {
        nic->drops.receiver_disabled++;
        return false;
    }
    if (!frame || length < ETHERNET_HEADER_LENGTH) {
        count(nic, REG_RUC, 1);
        nic->drops.undersize++;
        return false;
    }
    size_t padded = length < ETHERNET_MINIMUM_FRAME ? ETHERNET_MINIMUM_FRAME : length;
    size_t wire_length = padded + ETHERNET_FCS_LENGTH;
    size_t maximum = (rctl & RCTL_LONG_PACKETS) ? X86_E1000_MAX_FRAME : ETHERNET_MAXIMUM_FRAME;
    if (wire_length > maximum) {
        count(nic, REG_ROC, 1);
        nic->drops.oversize++;
        return false;
    }
    count(nic, REG_TPR, 1);
    count64(nic, REG_TORL, wire_length);

    const uint8_t *destination = frame;
    if (!address_accepted(nic, destination)) {
        nic->drops.filtered++;
        return false;
    }
    bool tagged = vlan_tagged(nic, frame, length);
    uint16_t tag_control = tagged ? (uint16_t)(frame[14] << 8 | frame[15]) : 0;
    if (tagged && (rctl & RCTL_VLAN_FILTER)) { /* VFTA: one bit per VLAN ID (13.5.3) */
        unsigned id = tag_control & 0xFFF;
        if (!((reg_value(nic, REG_VFTA + 4 * (id >> 5)) >> (id & 31)) & 1)) {
            nic->drops.filtered++;
            return false;
        }
    }
    if (!x86_pci_bus_master(&nic->pci)) {
        /* no DMA: the FIFO cannot drain, the frame is missed */
        nic->drops.no_bus_master++;
        missed_packet(nic, now);
        return false;
    }

    /* the frame as stored: data (the VLAN tag taken out with CTRL.VME), padding, FCS */
    bool strip_tag = tagged && (reg_value(nic, REG_CTRL) & CTRL_VLAN_MODE);
    uint8_t *stored = nic->receive_frame;
    memcpy(stored, frame, length);
    memset(stored + length, 0, padded - length);
    uint32_t fcs = ethernet_crc(stored, padded);
    for (int i = 0; i < ETHERNET_FCS_LENGTH; i++)
        stored[padded + (size_t)i] = (uint8_t)(fcs >> (8 * i));
    size_t stored_length = wire_length;
    if (strip_tag) {
        memmove(stored + ETHERNET_TYPE_OFFSET, stored + ETHERNET_TYPE_OFFSET + VLAN_TAG_LENGTH,
                stored_length - ETHERNET_TYPE_OFFSET - VLAN_TAG_LENGTH);
        stored_length -= VLAN_TAG_LENGTH;
    }
    if (rctl & RCTL_STRIP_CRC)
        stored_length -= ETHERNET_FCS_LENGTH;

    /* the ring (3.2.6): hardware owns the descriptors from RDH up to RDT - 1 */
    uint64_t base = (uint64_t)reg_value(nic, REG_RDBAH) << 32 | reg_value(nic, REG_RDBAL);
    uint32_t ring = reg_value(nic, REG_RDLEN) / DESCRIPTOR_SIZE;
    uint32_t head = reg_value(nic, REG_RDH), tail = reg_value(nic, REG_RDT);
    uint32_t buffer_size = receive_buffer_size(nic);
    uint32_t needed = (uint32_t)((stored_length + buffer_size - 1) / buffer_size);
    uint32_t free_descriptors = 0;
    if (ring && head < ring && tail < ring)
        free_descriptors = (tail + ring - head) % ring;
    if (free_descriptors < needed) {
        count(nic, REG_RNBC, 1);
        nic->drops.no_descriptors++;
        missed_packet(nic, now);
        return false;
    }
    uint8_t *descriptors[MAXIMUM_RECEIVE_DESCRIPTORS];
    uint8_t *buffers[MAXIMUM_RECEIVE_DESCRIPTORS];
    for (uint32_t i = 0; i < needed; i++) {
        uint64_t address = base + (uint64_t)((head + i) % ring) * DESCRIPTOR_SIZE;
        size_t done = (size_t)i * buffer_size;
        size_t chunk = stored_length - done < buffer_size ? stored_length - done : buffer_size;
        descriptors[i] = x86_bus_ram(nic->bus, address, DESCRIPTOR_SIZE);
        buffers[i] = descriptors[i] ? x86_bus_ram(nic->bus, load64(descriptors[i]), chunk) : NULL;
        if (!descriptors[i] || !buffers[i]) {
            nic->drops.receive_dma_error++;
            return false;
        }
    }
    for (uint32_t i = 0; i < needed; i++) {
        size_t done = (size_t)i * buffer_size;
        size_t chunk = stored_length - done < buffer_size ? stored_length - done : buffer_size;
        memcpy(buffers[i], stored + done, chunk);
        uint8_t *d = descriptors[i];
        bool last = i + 1 == needed;
        store16(d + 8, (uint16_t)chunk);
        store16(d + 10, 0); /* packet checksum: receive checksum offload is not modelled */
        d[12] = (uint8_t)(RX_STATUS_DONE | RX_STATUS_IGNORE_CHECKSUM |
                          (last ? RX_STATUS_END_OF_PACKET : 0) |
                          (strip_tag ? RX_STATUS_VLAN_PACKET : 0));
        d[13] = 0; /* errors */
        store16(d + 14, strip_tag ? tag_control : 0);
    }
    *reg(nic, REG_RDH) = (head + needed) % ring;

    count(nic, REG_GPRC, 1);
    nic->frames_received++;
    count64(nic, REG_GORCL, wire_length);
    if (is_broadcast(destination))
        count(nic, REG_BPRC, 1);
    else if (destination[0] & 1)
        count(nic, REG_MPRC, 1);
    count_packet_size(nic, wire_length, REG_PRC64);

    /* RXDMT0 when the free descriptors fall to RCTL.RDMTS's fraction of the ring (1/2, 1/4,
     * 1/8; the reserved code taken as 1/8) */
    unsigned threshold_code = (rctl >> RCTL_MINIMUM_THRESHOLD_SHIFT) & 3;
    uint32_t threshold = ring >> (threshold_code == 3 ? 3 : threshold_code + 1);
    uint32_t remaining = free_descriptors - needed;
    if (free_descriptors > threshold && remaining <= threshold)
        raise_causes(nic, CAUSE_RECEIVE_DESCRIPTOR_MINIMUM, now);
    const struct delay_timers timers = {
        REG_RDTR, REG_RADV, &nic->receive_packet_timer, &nic->receive_absolute_timer,
        x86_e1000_rdtr_event, x86_e1000_radv_event, receive_timer_fire,
    };
    arm_delay_timers(nic, &timers, now);
    return true;
}

bool x86_e1000_receive(struct x86_e1000 *nic, const uint8_t *frame, size_t length)
{
    if (!nic->link_up) {
        nic->drops.link_down++;
        return false;
    }
    return receive_frame(nic, frame, length, current_cycle(nic));
}

/* ---- transmit (3.3, 3.4) ----------------------------------------------------------------- */

/* Insert the 16-bit ones' complement checksum of bytes [start, end] at offset (3.3.3 CSO/CSS,
 * 3.3.6 IPCSx/TUCSx): what software left in the checksum field (a pseudo-header sum, or 0)
 * is part of the sum. end 0 means the end of the frame. Out-of-range fields insert nothing. */
static void insert_checksum(uint8_t *frame, size_t length, size_t start, size_t offset, size_t end)
{
    if (end == 0 || end >= length)
        end = length - 1;
    if (start >= length || offset + 1 >= length || start > end)
        return;
    uint32_t sum = 0;
    for (size_t i = start; i <= end; i += 2)
        sum += (uint32_t)frame[i] << 8 | (i + 1 <= end ? frame[i + 1] : 0);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    uint16_t checksum = (uint16_t)~sum;
    frame[offset] = (uint8_t)(checksum >> 8);
    frame[offset + 1] = (uint8_t)checksum;
}

static void deliver(struct x86_e1000 *nic, const uint8_t *frame, size_t length, bool with_fcs,
                    uint64_t now)
{
    size_t wire_length = length + (with_fcs ? ETHERNET_FCS_LENGTH : 0);
    count(nic, REG_TPT, 1);
    nic->frames_transmitted++;
    count64(nic, REG_TOTL, wire_length);
    if (wire_length >= 64) { /* a good packet is 64 bytes or more (13.7.30) */
        count(nic, REG_GPTC, 1);
        count64(nic, REG_GOTCL, wire_length);
    }
    if (length >= ETHERNET_ADDRESS_LENGTH) {
        if (is_broadcast(frame))
            count(nic, REG_BPTC, 1);
        else if (frame[0] & 1)
            count(nic, REG_MPTC, 1);
    }
    count_packet_size(nic, wire_length, REG_PTC64);

    /* PHY loopback (PHY control bit 14) or RCTL.LBM: the frame comes back to the receiver
     * and does not reach the wire */
    if (phy_loopback(nic) || (reg_value(nic, REG_RCTL) & RCTL_LOOPBACK_MASK)) {
        receive_frame(nic, frame, length, now);
        return;
    }
    if (!nic->link_up) {
        nic->drops.transmit_link_down++;
        return;
    }
    if (nic->transmit)
        nic->transmit(nic->transmit_opaque, frame, length, now);
}

/* The end of a frame (the EOP descriptor): offloads, VLAN tag, padding, then out. */
static void finish_frame(struct x86_e1000 *nic, const uint8_t *descriptor, bool extended,
                         uint64_t now)
{
    uint8_t command = descriptor[11];
    uint8_t *frame = nic->transmit_frame;
    size_t length = nic->transmit_length;
    bool bad = nic->transmit_frame_bad;
    nic->transmit_length = 0;
    nic->transmit_frame_bad = false;
    nic->transmit_first = true;
    if (bad || length == 0)
        return;
    if (extended && (command & TX_COMMAND_SEGMENTATION)) {
        nic->drops.transmit_unsupported++;
        return;
    }
    if (!extended && (command & TX_COMMAND_INSERT_CHECKSUM)) {
        /* IC and CSO come with EOP, CSS with the first descriptor (3.3.3) */
        insert_checksum(frame, length, nic->transmit_checksum_start, descriptor[10], 0);
    }
    if (extended) {
        uint8_t options = descriptor[13];
        const struct x86_e1000_transmit_context *c = &nic->context;
        if (options & TX_OPTION_IP_CHECKSUM)
            insert_checksum(frame, length, c->ip_start, c->ip_offset, c->ip_end);
        if (options & TX_OPTION_TCP_CHECKSUM)
            insert_checksum(frame, length, c->tcp_start, c->tcp_offset, c->tcp_end);
    }
    /* VLE with CTRL.VME: insert VET and the special field after the addresses (3.3.3); the
     * checksums above do not cover the tag */
    if ((command & TX_COMMAND_VLAN) && (reg_value(nic, REG_CTRL) & CTRL_VLAN_MODE) &&
        length >= ETHERNET_TYPE_OFFSET && length + VLAN_TAG_LENGTH <= X86_E1000_MAX_FRAME) {
        uint16_t type = (uint16_t)reg_value(nic, REG_VET);
        uint16_t special = load16(descriptor + 14);
        memmove(frame + ETHERNET_TYPE_OFFSET + VLAN_TAG_LENGTH, frame + ETHERNET_TYPE_OFFSET,
                length - ETHERNET_TYPE_OFFSET);
        frame[ETHERNET_TYPE_OFFSET] = (uint8_t)(type >> 8);
        frame[ETHERNET_TYPE_OFFSET + 1] = (uint8_t)type;
        frame[ETHERNET_TYPE_OFFSET + 2] = (uint8_t)(special >> 8);
        frame[ETHERNET_TYPE_OFFSET + 3] = (uint8_t)special;
        length += VLAN_TAG_LENGTH;
    }
    if ((reg_value(nic, REG_TCTL) & TCTL_PAD_SHORT_PACKETS) && length < ETHERNET_MINIMUM_FRAME) {
        memset(frame + length, 0, ETHERNET_MINIMUM_FRAME - length);
        length = ETHERNET_MINIMUM_FRAME;
    }
    deliver(nic, frame, length, (command & TX_COMMAND_INSERT_FCS) != 0, now);
}

static void append_data(struct x86_e1000 *nic, uint64_t address, size_t length)
{
    if (length == 0 || address == 0 || nic->transmit_frame_bad)
        return; /* null address or zero length: no data (3.3.3) */
    if (length > X86_E1000_MAX_FRAME - nic->transmit_length) {
        nic->drops.transmit_oversize++;
        nic->transmit_frame_bad = true;
        return;
    }
    const uint8_t *data = x86_bus_ram(nic->bus, address, length);
    if (!data) {
        nic->drops.transmit_dma_error++;
        nic->transmit_frame_bad = true;
        return;
    }
    memcpy(nic->transmit_frame + nic->transmit_length, data, length);
    nic->transmit_length += length;
}

/* Walk the ring from TDH to TDT (3.4): frames are assembled across descriptors up to EOP and
 * sent at once; DD is written back where RS asks; TXDW for those (delayed by TIDV/TADV when
 * all of them had IDE), TXQE when the ring is drained. A descriptor outside guest RAM stops
 * the walk there (TDH stays on it), as a master abort would. */
static void transmit_process(struct x86_e1000 *nic, uint64_t now)
{
    if (nic->transmitting || !(reg_value(nic, REG_TCTL) & TCTL_ENABLE) ||
        !x86_pci_bus_master(&nic->pci))
        return;
    uint64_t base = (uint64_t)reg_value(nic, REG_TDBAH) << 32 | reg_value(nic, REG_TDBAL);
    uint32_t ring = reg_value(nic, REG_TDLEN) / DESCRIPTOR_SIZE;
    uint32_t head = reg_value(nic, REG_TDH);
    if (ring == 0 || head >= ring || reg_value(nic, REG_TDT) >= ring)
        return;
    nic->transmitting = true;
    bool processed = false, immediate = false, delayed = false;
    while (head != reg_value(nic, REG_TDT)) {
        uint8_t *d = x86_bus_ram(nic->bus, base + (uint64_t)head * DESCRIPTOR_SIZE, DESCRIPTOR_SIZE);
        if (!d) {
            nic->drops.transmit_dma_error++;
            break;
        }
        uint8_t command = d[11];
        bool extended = (command & TX_COMMAND_EXTENSION) != 0;
        unsigned type = d[10] >> 4;
        bool report = (command & TX_COMMAND_REPORT_STATUS) ||
                      (!extended && (command & TX_COMMAND_REPORT_PACKET_SENT));
        if (extended && type == TX_TYPE_CONTEXT) {
            /* 3.3.6: the checksum context for the data descriptors that follow */
            nic->context.ip_start = d[0];
            nic->context.ip_offset = d[1];
            nic->context.ip_end = load16(d + 2);
            nic->context.tcp_start = d[4];
            nic->context.tcp_offset = d[5];
            nic->context.tcp_end = load16(d + 6);
            nic->context.segmentation = (command & TX_COMMAND_SEGMENTATION) != 0;
        } else if (!extended || type == TX_TYPE_DATA) {
            size_t length = extended ? (load32(d + 8) & 0xFFFFF) : load16(d + 8);
            if (nic->transmit_first) {
                nic->transmit_checksum_start = extended ? 0 : d[13];
                nic->transmit_first = false;
            }
            append_data(nic, load64(d), length);
            if (command & TX_COMMAND_END_OF_PACKET)
                finish_frame(nic, d, extended, now);
        }
        /* other extended types are reserved: consumed without data */
        if (report) {
            d[12] |= TX_STATUS_DONE;
            if (command & TX_COMMAND_DELAY_INTERRUPT)
                delayed = true;
            else
                immediate = true;
        }
        head = (head + 1) % ring;
        *reg(nic, REG_TDH) = head;
        processed = true;
    }
    nic->transmitting = false;
    if (!processed)
        return;
    if (immediate) {
        transmit_timer_fire(nic, now); /* also ends pending delays: one TXDW covers them */
    } else if (delayed) {
        const struct delay_timers timers = {
            REG_TIDV, REG_TADV, &nic->transmit_packet_timer, &nic->transmit_absolute_timer,
            x86_e1000_tidv_event, x86_e1000_tadv_event, transmit_timer_fire,
        };
        arm_delay_timers(nic, &timers, now);
    }
    if (head == reg_value(nic, REG_TDT))
        raise_causes(nic, CAUSE_TRANSMIT_QUEUE_EMPTY, now);
}

/* ---- PCI --------------------------------------------------------------------------------- */

static const char mmio_name[] = "e1000";
static const char io_name[] = "e1000-io";

/* BAR0 (registers) and BAR1 (the I/O window) follow the guest's BAR programming */
static void bar_moved(struct x86_pci_function *function, unsigned bar, uint64_t base)
{
    struct x86_e1000 *nic = function->owner;
    if (bar == 0) {
        if (nic->mmio_mapped)
            x86_bus_remove_mmio(nic->bus, nic, mmio_name);
        nic->mmio_mapped = false;
        nic->mmio_base = base;
        if (base) {
            nic->map_status = x86_bus_add_mmio(nic->bus, base, X86_E1000_MMIO_SIZE,
                                               x86_e1000_mmio_read, x86_e1000_mmio_write, nic,
                                               mmio_name);
            nic->mmio_mapped = nic->map_status == X86IRQ_OK;
        }
    } else if (bar == 1) {
        if (nic->io_mapped)
            x86_bus_remove_ports(nic->bus, nic, io_name);
        nic->io_mapped = false;
        nic->io_base = (uint16_t)base;
        if (base && base <= 0x10000 - X86_E1000_IO_SIZE) {
            nic->map_status = x86_bus_add_ports(nic->bus, (uint16_t)base, X86_E1000_IO_SIZE,
                                                x86_e1000_io_read, x86_e1000_io_write, nic,
                                                io_name);
            nic->io_mapped = nic->map_status == X86IRQ_OK;
        }
    }
}

static void command_changed(struct x86_pci_function *function, uint16_t old_command)
{
    struct x86_e1000 *nic = function->owner;
    /* descriptors queued while bus mastering was off can be fetched now */
    if (!(old_command & X86_PCI_COMMAND_BUS_MASTER) && x86_pci_bus_master(function))
        transmit_process(nic, current_cycle(nic));
}

static const struct x86_pci_ops e1000_pci_ops = { bar_moved, command_changed };

/* ---- reset and setup --------------------------------------------------------------------- */

static void device_reset(struct x86_e1000 *nic)
{
    timer_stop(nic, &nic->throttle);
    timer_stop(nic, &nic->receive_packet_timer);
    timer_stop(nic, &nic->receive_absolute_timer);
    timer_stop(nic, &nic->transmit_packet_timer);
    timer_stop(nic, &nic->transmit_absolute_timer);
    if (nic->interrupt_asserted) {
        nic->interrupt_asserted = false;
        x86_pci_set_interrupt(&nic->pci, false);
    }
    nic->throttle_end = 0;
    memset(nic->registers, 0, sizeof(nic->registers));
    for (size_t i = 0; i < REGISTER_COUNT; i++)
        for (unsigned j = 0; j < registers[i].count; j++)
            nic->registers[registers[i].offset / 4 + j] = registers[i].reset_value;
    /* RAL0/RAH0 load the EEPROM's Ethernet address, valid (5.6.1) */
    const uint16_t *mac = &nic->eeprom[EEPROM_ETHERNET_ADDRESS];
    *reg(nic, REG_RA) = (uint32_t)mac[0] | (uint32_t)mac[1] << 16;
    *reg(nic, REG_RA + 4) = mac[2] | RAH_ADDRESS_VALID;
    phy_reset(nic);
    microwire_reset(&nic->eeprom_wire);
    nic->transmit_length = 0;
    nic->transmit_frame_bad = false;
    nic->transmit_first = true;
    memset(&nic->context, 0, sizeof(nic->context));
    nic->io_address = 0;
}

void x86_e1000_reset(struct x86_e1000 *nic)
{
    device_reset(nic);
}

void x86_e1000_init_flags(struct x86_e1000 *nic, struct x86_bus *bus,
                          struct x86_event_queue *events, const uint64_t *cycles, uint64_t cpu_hz,
                          const uint8_t mac[6], unsigned flags)
{
    static const uint8_t default_mac[ETHERNET_ADDRESS_LENGTH] = { 0x02, 0, 0, 0, 0, 0x01 };
    memset(nic, 0, sizeof(*nic));
    nic->bus = bus;
    nic->events = events;
    nic->cycles = cycles;
    nic->cpu_hz = cpu_hz ? cpu_hz : 1000000000ull;
    nic->msi_capable = (flags & X86_E1000_MSI_CAPABLE) != 0;
    nic->link_up = true;

    /* class 02/00/00: network controller, Ethernet (PCI 3.0 Appendix D); INTA */
    x86_pci_function_init(&nic->pci, X86_E1000_VENDOR_ID, X86_E1000_DEVICE_ID, 0x02, 0x00, 0x00,
                          1, nic->msi_capable);
    /* the subsystem IDs the EEPROM carries (words 0Bh/0Ch) show in the header */
    nic->pci.config[X86_PCI_SUBSYSTEM_VENDOR] = (uint8_t)X86_E1000_SUBSYSTEM_VENDOR_ID;
    nic->pci.config[X86_PCI_SUBSYSTEM_VENDOR + 1] = (uint8_t)(X86_E1000_SUBSYSTEM_VENDOR_ID >> 8);
    nic->pci.config[X86_PCI_SUBSYSTEM_ID] = (uint8_t)X86_E1000_SUBSYSTEM_ID;
    nic->pci.config[X86_PCI_SUBSYSTEM_ID + 1] = (uint8_t)(X86_E1000_SUBSYSTEM_ID >> 8);
    x86_pci_set_bar(&nic->pci, 0, X86_E1000_MMIO_SIZE, false);
    x86_pci_set_bar(&nic->pci, 1, X86_E1000_IO_SIZE, true);
    nic->pci.ops = &e1000_pci_ops;
    nic->pci.owner = nic;

    build_eeprom(nic, mac ? mac : default_mac);
    device_reset(nic);
}

void x86_e1000_init(struct x86_e1000 *nic, struct x86_bus *bus, struct x86_event_queue *events,
                    const uint64_t *cycles, uint64_t cpu_hz, const uint8_t mac[6])
{
    x86_e1000_init_flags(nic, bus, events, cycles, cpu_hz, mac, 0);
}

void x86_e1000_set_link(struct x86_e1000 *nic, bool up)
{
    if (nic->link_up == up)
        return;
    nic->link_up = up;
    raise_causes(nic, CAUSE_LINK_STATUS_CHANGE, current_cycle(nic));
}
