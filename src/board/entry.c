/* What the firmware leaves before a kernel runs: the memory map, the BIOS data area, the boot
 * GDT and the registers of each boot protocol. */
#include "board/board.h"

#include <string.h>

#include "machine/machine.h"

unsigned x86_board_memory_map(uint64_t ram_size, struct x86_e820_entry *map, unsigned max)
{
    const struct x86_e820_entry entries[] = {
        { 0x00000, 0x9FC00, X86_E820_RAM },
        { 0x9FC00, 0x00400, X86_E820_RESERVED },   /* the EBDA */
        { 0xE0000, 0x20000, X86_E820_RESERVED },   /* BIOS area: the firmware tables */
        { 0x100000, ram_size - 0x100000, X86_E820_RAM },
        { 0xFFFC0000u, 0x40000, X86_E820_RESERVED }, /* the BIOS ROM below 4 GiB */
    };
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(entries) / sizeof(entries[0]) && n < max; i++)
        map[n++] = entries[i];
    return n;
}

void x86_board_firmware_cpu_state(struct x86_cpu *cpu, uint64_t cpu_hz)
{
    /* SDM Vol. 3 11.11: memory types in each byte, 6 write-back, 0 uncacheable */
    static const struct { uint32_t msr; uint64_t value; } mtrrs[] = {
        { 0x250, 0x0606060606060606ull },  /* 0-512 KiB WB */
        { 0x258, 0x0606060606060606ull },  /* 512-640 KiB WB */
        { 0x259, 0 },                      /* 640-768 KiB: the video window, UC */
        { 0x268, 0x0606060606060606ull }, { 0x269, 0x0606060606060606ull },
        { 0x26A, 0x0606060606060606ull }, { 0x26B, 0x0606060606060606ull },
        { 0x26C, 0x0606060606060606ull }, { 0x26D, 0x0606060606060606ull },
        { 0x26E, 0x0606060606060606ull }, { 0x26F, 0x0606060606060606ull }, /* 768 KiB-1 MiB */
        { 0x200, 0xC0000000ull },          /* PHYSBASE0: 0xC0000000, UC */
        { 0x201, 0xC0000800ull },          /* PHYSMASK0: 1 GiB, valid: the MMIO hole */
        { 0x2FF, 0xC06 },                  /* enabled, fixed ranges enabled, default WB */
    };
    for (size_t i = 0; i < sizeof(mtrrs) / sizeof(mtrrs[0]); i++)
        x86_write_msr(cpu, mtrrs[i].msr, mtrrs[i].value);
    cpu->msr.core_ratio = (uint32_t)(cpu_hz / 100000000u);
}

/* The BIOS data area as the BIOS leaves it (IBM PC/AT technical reference; what Linux reads
 * of it): COM1 at 0x3F8, 639 KiB of base memory, the EBDA's segment. */
static void write_bios_data_area(uint8_t *ram)
{
    static const struct { uint16_t offset, value; } bda[] = {
        { 0x400, 0x3F8 },   /* COM1's I/O port */
        { 0x40E, 0x9FC0 },  /* the EBDA's segment (Linux: get_bios_ebda) */
        { 0x413, 639 },     /* base memory in KiB */
    };
    for (size_t i = 0; i < sizeof(bda) / sizeof(bda[0]); i++) {
        ram[bda[i].offset] = (uint8_t)bda[i].value;
        ram[bda[i].offset + 1] = (uint8_t)(bda[i].value >> 8);
    }
    ram[0x9FC00] = 1; /* the EBDA's first byte: its size in KiB */
}

/* Load a boot GDT into the EBDA area (reserved in the memory map) and enter flat 32-bit
 * protected mode with these selectors. */
static void enter_flat32(x86irq_machine *m, const uint8_t *gdt, size_t gdt_size, uint16_t cs,
                         uint16_t ds, uint64_t entry)
{
    struct x86_cpu *cpu = x86_machine_cpu(m);
    write_bios_data_area(m->bus.ram);
    memcpy(m->bus.ram + X86_BOOT_GDT_ADDRESS, gdt, gdt_size);
    x86_cpu_enter_flat32(cpu);
    cpu->gdtr.base = X86_BOOT_GDT_ADDRESS;
    cpu->gdtr.limit = (uint32_t)gdt_size - 1;
    x86_set_flat_segment(cpu, X86_SEG_CS, cs, 0, true);
    for (unsigned s = 0; s < X86_SEG_COUNT; s++)
        if (s != X86_SEG_CS)
            x86_set_flat_segment(cpu, s, ds, 0, false);
    memset(cpu->gpr, 0, sizeof(cpu->gpr));
    /* the stack QEMU 7.2's option ROMs leave (SeaBIOS's, in conventional memory): a guest that
     * pushes before it sets up its own stack finds RAM there */
    x86_set_gpr32(cpu, X86_ESP, X86_BOOT_STACK);
    cpu->rip = entry;
}

#define FLAT_CODE 0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0  /* base 0, 4 GiB, 32-bit, accessed */
#define CODE64 0xFF, 0xFF, 0, 0, 0, 0x9B, 0xAF, 0     /* 64-bit (L = 1, D = 0), accessed */
#define FLAT_DATA 0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0
#define NULL_DESCRIPTOR 0, 0, 0, 0, 0, 0, 0, 0

void x86_board_enter_multiboot(x86irq_machine *m, uint64_t entry, uint32_t info, bool multiboot)
{
    /* QEMU's Multiboot option ROM leaves GDTR on its own GDT with flat code at 0x08 and flat
     * data at 0x10; guests written for QEMU may load those selectors without an lgdt */
    static const uint8_t gdt[] = { NULL_DESCRIPTOR, FLAT_CODE, FLAT_DATA };
    enter_flat32(m, gdt, sizeof(gdt), 0x08, 0x10, entry);
    if (multiboot) {
        x86_set_gpr32(x86_machine_cpu(m), X86_EAX, X86_MULTIBOOT_BOOTLOADER_MAGIC); /* Multiboot 0.6.96 3.2 */
        x86_set_gpr32(x86_machine_cpu(m), X86_EBX, info);
    }
}

void x86_board_enter_linux32(x86irq_machine *m, const struct x86_linux_boot *boot)
{
    /* boot.rst, 32-bit boot protocol: __BOOT_CS = 0x10, __BOOT_DS = 0x18, both flat */
    static const uint8_t gdt[] = { NULL_DESCRIPTOR, NULL_DESCRIPTOR, FLAT_CODE, FLAT_DATA };
    enter_flat32(m, gdt, sizeof(gdt), 0x10, 0x18, boot->entry32);
    x86_set_gpr32(x86_machine_cpu(m), X86_ESI, boot->boot_params);
}

/* The identity map of the first 4 GiB the 64-bit entries run on (loader.h): PML4[0] -> the PDPT,
 * whose four entries are 1 GiB pages (SDM Vol. 3 4.5, CPUID.80000001H:EDX.Page1GB), present,
 * writable, supervisor, accessed and dirty; the top GiB (the IOAPIC, the local APIC, the BIOS
 * ROM, the PCI hole) uncached (PCD, PWT). */
static void write_identity_map(uint8_t *ram)
{
    enum { P = 0x1, RW = 0x2, PWT = 0x8, PCD = 0x10, A = 0x20, D = 0x40, PS = 0x80 };
    uint8_t *pml4 = ram + X86_LOADER_PAGE_TABLES, *pdpt = pml4 + 0x1000;
    memset(pml4, 0, X86_LOADER_PAGE_TABLES_SIZE);
    uint64_t entry = (X86_LOADER_PAGE_TABLES + 0x1000) | P | RW | A;
    memcpy(pml4, &entry, 8);
    for (uint64_t i = 0; i < 4; i++) {
        entry = (i << 30) | P | RW | A | D | PS | (i == 3 ? PCD | PWT : 0);
        memcpy(pdpt + 8 * i, &entry, 8);
    }
}

static void enter_long64(x86irq_machine *m, const uint8_t *gdt, size_t gdt_size, uint16_t cs,
                         uint16_t ds, uint64_t entry)
{
    enter_flat32(m, gdt, gdt_size, cs, ds, entry);
    write_identity_map(m->bus.ram);
    x86_cpu_enter_long64(x86_machine_cpu(m), X86_LOADER_PAGE_TABLES);
}

void x86_board_enter_elf64(x86irq_machine *m, uint64_t entry)
{
    /* the Multiboot GDT's layout with a 64-bit code segment at 0x08 */
    static const uint8_t gdt[] = { NULL_DESCRIPTOR, CODE64, FLAT_DATA };
    enter_long64(m, gdt, sizeof(gdt), 0x08, 0x10, entry);
}

void x86_board_enter_linux64(x86irq_machine *m, const struct x86_linux_boot *boot)
{
    /* boot.rst, 64-bit boot protocol: 64-bit mode, paging on with the kernel, the zero page and
     * the command line identity-mapped, __BOOT_CS (0x10) and __BOOT_DS (0x18) flat, IF = 0,
     * RSI = the zero page; entered at the 64-bit entry, 0x200 after the 32-bit one */
    static const uint8_t gdt[] = { NULL_DESCRIPTOR, NULL_DESCRIPTOR, CODE64, FLAT_DATA };
    enter_long64(m, gdt, sizeof(gdt), 0x10, 0x18, boot->entry64);
    struct x86_cpu *cpu = x86_machine_cpu(m);
    cpu->gpr[X86_ESI] = boot->boot_params;
}
