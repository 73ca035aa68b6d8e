/* The PC board's Differentiated System Description Table (ACPI Specification 6.4, chapter 5.2.11
 * and chapter 6), compiled by iasl at build time and copied into guest RAM by x86_firmware_build
 * (src/board/acpi.c). It describes what an OS cannot find by probing: the PCI host bridge's
 * windows and INTx routing, the ISA devices behind the PCI-to-ISA bridge, the ports the
 * machine uses that no device claims, and the S5 (soft off) sleep type.
 *
 * Three integers at the start of the table are patched by x86_firmware_build with the machine's
 * layout, so that the reservations and the HPET device agree with the FADT and the HPET table:
 * HPTB (the HPET's base, 0 when the machine has none), PMBS (PM1a_EVT_BLK: the 12-byte PM block)
 * and GPBS (GPE0_BLK, 4 bytes). They must stay the first three objects, in this order, encoded
 * as DWord, Word and Word constants (their defaults are chosen so iasl encodes them so);
 * acpi.c checks the bytes before patching. Everything else is fixed: see docs/firmware.md.
 */
DefinitionBlock ("", "DSDT", 2, "X86IRQ", "LIBX86IQ", 1)
{
    Name (HPTB, 0xFED00000)
    Name (PMBS, 0x0600)
    Name (GPBS, 0xAFE0)

    /* SLP_TYPa/SLP_TYPb of S5 (chapter 7.4.2.6): PM1a_CNT.SLP_TYP 0 with SLP_EN powers off
     * (X86_ACPI_SLP_TYP_S5, src/devices/acpi_pm.h) */
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })

    /* The interrupt model the OS chose (0 PIC, 1 APIC, chapter 5.8.1). Nothing switches: the
     * _PRT below gives IOAPIC inputs (GSIs), which equal the ISA IRQs 10 and 11 the 8259s see,
     * so the routing is the same in both models. */
    Name (PICM, Zero)
    Method (_PIC, 1, NotSerialized)
    {
        PICM = Arg0
    }

    Scope (\_SB)
    {
        /* The PCI host bridge, bus 0 (chapter 6.1, PCI Firmware Specification 3.2) */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_BBN, Zero)
            Name (_UID, Zero)

            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                /* the configuration mechanism #1 ports the bridge itself decodes */
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                /* the legacy VGA window */
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                /* the PCI hole: RAM ends at 3 GiB at most (x86_firmware_build checks), the
                 * IOAPIC, HPET and local APICs are above 0xFEC00000 */
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
            })

            /* INTx routing of every device on bus 0 (chapter 6.2.13), as GSIs: each entry is
             * { address (device << 16 | 0xFFFF: any function), pin (0 INTA .. 3 INTD), source
             * Zero (no link device: the last field is a GSI), GSI }, which makes the interrupt
             * level-triggered and active low. The rule is the PIIX3's PIRQ swizzle
             * PIRQ = (device + pin - 1) mod 4 with SeaBIOS's link IRQs (PIRQA, PIRQB -> 10,
             * PIRQC, PIRQD -> 11), so a device gets the IRQ it gets under QEMU (the e1000 in
             * slot 3 INTA: 11). x86_firmware_pci_gsi() in firmware.h is the same rule, and the
             * unit tests check every entry against it. */
            Name (_PRT, Package ()
            {
                Package () { 0x0000FFFF, 0, Zero, 11 }, Package () { 0x0000FFFF, 1, Zero, 10 },
                Package () { 0x0000FFFF, 2, Zero, 10 }, Package () { 0x0000FFFF, 3, Zero, 11 },
                Package () { 0x0001FFFF, 0, Zero, 10 }, Package () { 0x0001FFFF, 1, Zero, 10 },
                Package () { 0x0001FFFF, 2, Zero, 11 }, Package () { 0x0001FFFF, 3, Zero, 11 },
                Package () { 0x0002FFFF, 0, Zero, 10 }, Package () { 0x0002FFFF, 1, Zero, 11 },
                Package () { 0x0002FFFF, 2, Zero, 11 }, Package () { 0x0002FFFF, 3, Zero, 10 },
                Package () { 0x0003FFFF, 0, Zero, 11 }, Package () { 0x0003FFFF, 1, Zero, 11 },
                Package () { 0x0003FFFF, 2, Zero, 10 }, Package () { 0x0003FFFF, 3, Zero, 10 },
                Package () { 0x0004FFFF, 0, Zero, 11 }, Package () { 0x0004FFFF, 1, Zero, 10 },
                Package () { 0x0004FFFF, 2, Zero, 10 }, Package () { 0x0004FFFF, 3, Zero, 11 },
                Package () { 0x0005FFFF, 0, Zero, 10 }, Package () { 0x0005FFFF, 1, Zero, 10 },
                Package () { 0x0005FFFF, 2, Zero, 11 }, Package () { 0x0005FFFF, 3, Zero, 11 },
                Package () { 0x0006FFFF, 0, Zero, 10 }, Package () { 0x0006FFFF, 1, Zero, 11 },
                Package () { 0x0006FFFF, 2, Zero, 11 }, Package () { 0x0006FFFF, 3, Zero, 10 },
                Package () { 0x0007FFFF, 0, Zero, 11 }, Package () { 0x0007FFFF, 1, Zero, 11 },
                Package () { 0x0007FFFF, 2, Zero, 10 }, Package () { 0x0007FFFF, 3, Zero, 10 },
                Package () { 0x0008FFFF, 0, Zero, 11 }, Package () { 0x0008FFFF, 1, Zero, 10 },
                Package () { 0x0008FFFF, 2, Zero, 10 }, Package () { 0x0008FFFF, 3, Zero, 11 },
                Package () { 0x0009FFFF, 0, Zero, 10 }, Package () { 0x0009FFFF, 1, Zero, 10 },
                Package () { 0x0009FFFF, 2, Zero, 11 }, Package () { 0x0009FFFF, 3, Zero, 11 },
                Package () { 0x000AFFFF, 0, Zero, 10 }, Package () { 0x000AFFFF, 1, Zero, 11 },
                Package () { 0x000AFFFF, 2, Zero, 11 }, Package () { 0x000AFFFF, 3, Zero, 10 },
                Package () { 0x000BFFFF, 0, Zero, 11 }, Package () { 0x000BFFFF, 1, Zero, 11 },
                Package () { 0x000BFFFF, 2, Zero, 10 }, Package () { 0x000BFFFF, 3, Zero, 10 },
                Package () { 0x000CFFFF, 0, Zero, 11 }, Package () { 0x000CFFFF, 1, Zero, 10 },
                Package () { 0x000CFFFF, 2, Zero, 10 }, Package () { 0x000CFFFF, 3, Zero, 11 },
                Package () { 0x000DFFFF, 0, Zero, 10 }, Package () { 0x000DFFFF, 1, Zero, 10 },
                Package () { 0x000DFFFF, 2, Zero, 11 }, Package () { 0x000DFFFF, 3, Zero, 11 },
                Package () { 0x000EFFFF, 0, Zero, 10 }, Package () { 0x000EFFFF, 1, Zero, 11 },
                Package () { 0x000EFFFF, 2, Zero, 11 }, Package () { 0x000EFFFF, 3, Zero, 10 },
                Package () { 0x000FFFFF, 0, Zero, 11 }, Package () { 0x000FFFFF, 1, Zero, 11 },
                Package () { 0x000FFFFF, 2, Zero, 10 }, Package () { 0x000FFFFF, 3, Zero, 10 },
                Package () { 0x0010FFFF, 0, Zero, 11 }, Package () { 0x0010FFFF, 1, Zero, 10 },
                Package () { 0x0010FFFF, 2, Zero, 10 }, Package () { 0x0010FFFF, 3, Zero, 11 },
                Package () { 0x0011FFFF, 0, Zero, 10 }, Package () { 0x0011FFFF, 1, Zero, 10 },
                Package () { 0x0011FFFF, 2, Zero, 11 }, Package () { 0x0011FFFF, 3, Zero, 11 },
                Package () { 0x0012FFFF, 0, Zero, 10 }, Package () { 0x0012FFFF, 1, Zero, 11 },
                Package () { 0x0012FFFF, 2, Zero, 11 }, Package () { 0x0012FFFF, 3, Zero, 10 },
                Package () { 0x0013FFFF, 0, Zero, 11 }, Package () { 0x0013FFFF, 1, Zero, 11 },
                Package () { 0x0013FFFF, 2, Zero, 10 }, Package () { 0x0013FFFF, 3, Zero, 10 },
                Package () { 0x0014FFFF, 0, Zero, 11 }, Package () { 0x0014FFFF, 1, Zero, 10 },
                Package () { 0x0014FFFF, 2, Zero, 10 }, Package () { 0x0014FFFF, 3, Zero, 11 },
                Package () { 0x0015FFFF, 0, Zero, 10 }, Package () { 0x0015FFFF, 1, Zero, 10 },
                Package () { 0x0015FFFF, 2, Zero, 11 }, Package () { 0x0015FFFF, 3, Zero, 11 },
                Package () { 0x0016FFFF, 0, Zero, 10 }, Package () { 0x0016FFFF, 1, Zero, 11 },
                Package () { 0x0016FFFF, 2, Zero, 11 }, Package () { 0x0016FFFF, 3, Zero, 10 },
                Package () { 0x0017FFFF, 0, Zero, 11 }, Package () { 0x0017FFFF, 1, Zero, 11 },
                Package () { 0x0017FFFF, 2, Zero, 10 }, Package () { 0x0017FFFF, 3, Zero, 10 },
                Package () { 0x0018FFFF, 0, Zero, 11 }, Package () { 0x0018FFFF, 1, Zero, 10 },
                Package () { 0x0018FFFF, 2, Zero, 10 }, Package () { 0x0018FFFF, 3, Zero, 11 },
                Package () { 0x0019FFFF, 0, Zero, 10 }, Package () { 0x0019FFFF, 1, Zero, 10 },
                Package () { 0x0019FFFF, 2, Zero, 11 }, Package () { 0x0019FFFF, 3, Zero, 11 },
                Package () { 0x001AFFFF, 0, Zero, 10 }, Package () { 0x001AFFFF, 1, Zero, 11 },
                Package () { 0x001AFFFF, 2, Zero, 11 }, Package () { 0x001AFFFF, 3, Zero, 10 },
                Package () { 0x001BFFFF, 0, Zero, 11 }, Package () { 0x001BFFFF, 1, Zero, 11 },
                Package () { 0x001BFFFF, 2, Zero, 10 }, Package () { 0x001BFFFF, 3, Zero, 10 },
                Package () { 0x001CFFFF, 0, Zero, 11 }, Package () { 0x001CFFFF, 1, Zero, 10 },
                Package () { 0x001CFFFF, 2, Zero, 10 }, Package () { 0x001CFFFF, 3, Zero, 11 },
                Package () { 0x001DFFFF, 0, Zero, 10 }, Package () { 0x001DFFFF, 1, Zero, 10 },
                Package () { 0x001DFFFF, 2, Zero, 11 }, Package () { 0x001DFFFF, 3, Zero, 11 },
                Package () { 0x001EFFFF, 0, Zero, 10 }, Package () { 0x001EFFFF, 1, Zero, 11 },
                Package () { 0x001EFFFF, 2, Zero, 11 }, Package () { 0x001EFFFF, 3, Zero, 10 },
                Package () { 0x001FFFFF, 0, Zero, 11 }, Package () { 0x001FFFFF, 1, Zero, 11 },
                Package () { 0x001FFFFF, 2, Zero, 10 }, Package () { 0x001FFFFF, 3, Zero, 10 }
            })

            /* The PCI-to-ISA bridge (device 1, function 0) and the ISA devices behind it */
            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                /* The 8042's keyboard port (data 0x60, command/status 0x64). No PS/2 mouse
                 * (PNP0F13) is listed: nothing is attached to the auxiliary port, and without
                 * an AUX device Linux's i8042 driver does not probe it. */
                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                /* COM1, the 16550A UART */
                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                /* The MC146818 RTC and CMOS RAM (the FADT's CENTURY is its byte 0x32) */
                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                /* The 8254 PIT */
                Device (TIMR)
                {
                    Name (_HID, EisaId ("PNP0100"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04)
                        IRQNoFlags () {0}
                    })
                }

                /* The two 8259A PICs and their edge/level control registers */
                Device (PIC)
                {
                    Name (_HID, EisaId ("PNP0000"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02)
                        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02)
                        IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02)
                        IRQNoFlags () {2}
                    })
                }

                /* The speaker: port B (0x61), the PIT's gate 2 and output 2 */
                Device (SPKR)
                {
                    Name (_HID, EisaId ("PNP0800"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0061, 0x0061, 0x01, 0x01)
                    })
                }

                /* The HPET (IA-PC HPET Specification 1.0a, chapter 3.2.5): present when the
                 * machine has one (HPTB patched non-zero). No interrupts are listed, as
                 * QEMU's: the OS routes the comparators through the HPET's own registers. */
                Device (HPET)
                {
                    Name (_HID, EisaId ("PNP0103"))
                    Name (_UID, Zero)
                    Method (_STA, 0, NotSerialized)
                    {
                        If (HPTB == Zero)
                        {
                            Return (Zero)
                        }
                        Return (0x0F)
                    }
                    Name (RBUF, ResourceTemplate ()
                    {
                        Memory32Fixed (ReadOnly, 0x00000000, 0x00000400, HPR)
                    })
                    Method (_CRS, 0, Serialized)
                    {
                        CreateDWordField (RBUF, \_SB.PCI0.ISA.HPET.HPR._BAS, HBAS)
                        HBAS = HPTB
                        Return (RBUF)
                    }
                }

                /* Ports the machine decodes that no device above claims, so the OS assigns
                 * them to nothing else (PNP0C02, chapter 9.12.2 of the PnP conventions). The
                 * reset register 0xCF9 is not listed: it is inside 0xCF8-0xCFF, which PCI0
                 * consumes. Linux ignores the entries below 0x100 (standard PC ports); they
                 * are listed for completeness. */
                Device (SYSR)
                {
                    Name (_HID, EisaId ("PNP0C02"))
                    Name (_UID, One)
                    Name (RBUF, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0510, 0x0510, 0x01, 0x02)   /* fw_cfg */
                        IO (Decode16, 0x0000, 0x0000, 0x01, 0x0C, PMR) /* PM1a_EVT, PM1a_CNT, PM_TMR */
                        IO (Decode16, 0x0000, 0x0000, 0x01, 0x04, GPR) /* GPE0 */
                        IO (Decode16, 0x0092, 0x0092, 0x01, 0x01)   /* port A */
                        IO (Decode16, 0x00F4, 0x00F4, 0x01, 0x01)   /* isa-debug-exit */
                        IO (Decode16, 0x0FE0, 0x0FE0, 0x01, 0x01)   /* phase marker */
                        IO (Decode16, 0x00E0, 0x00E0, 0x01, 0x04)   /* pc-testdev scratch */
                        IO (Decode16, 0x2000, 0x2000, 0x01, 0x18)   /* pc-testdev lines */
                    })
                    Method (_CRS, 0, Serialized)
                    {
                        CreateWordField (RBUF, \_SB.PCI0.ISA.SYSR.PMR._MIN, PMIN)
                        CreateWordField (RBUF, \_SB.PCI0.ISA.SYSR.PMR._MAX, PMAX)
                        CreateWordField (RBUF, \_SB.PCI0.ISA.SYSR.GPR._MIN, GMIN)
                        CreateWordField (RBUF, \_SB.PCI0.ISA.SYSR.GPR._MAX, GMAX)
                        PMIN = PMBS
                        PMAX = PMBS
                        GMIN = GPBS
                        GMAX = GPBS
                        Return (RBUF)
                    }
                }
            }
        }
    }
}
