/* Guest test: the entry state and the Multiboot information, checked from inside the guest as
 * qemu-system-i386 -kernel would give them (run with --mem=64M and the argument
 * "loader-test-arg"). */
#include "guest.h"

static inline uint16_t read_selector_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_selector_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t read_selector_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    tap_plan(18);
    is_u32(boot_magic, MULTIBOOT_BOOTLOADER_MAGIC, "EAX holds the Multiboot magic");
    is_u32(magic, MULTIBOOT_BOOTLOADER_MAGIC, "kmain got the magic");
    ok(boot_info != 0 && boot_info < 64u * 1024 * 1024, "EBX points into RAM (0x%08x)", boot_info);
    uint32_t want = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_BOOT_LOADER_NAME;
    ok((info->flags & want) == want, "info flags have memory, cmdline, mmap, loader name (0x%x)",
       info->flags);
    is_u32(info->mem_lower, 639, "mem_lower is 639 KiB (below the EBDA)");
    /* firmware may keep a little RAM at the top for itself (SeaBIOS under QEMU keeps 128 KiB;
     * libx86irq has no firmware and keeps none) */
    ok(info->mem_upper <= 63 * 1024 && info->mem_upper >= 63 * 1024 - 256,
       "mem_upper is the RAM above 1 MiB in KiB, 64 MiB RAM (%u)", info->mem_upper);

    /* the memory map: RAM below 640 KiB and from 1 MiB to the end, the BIOS areas reserved */
    uint64_t available = 0, high_start = 0, high_length = 0;
    int entries = 0, well_formed = 1;
    for (uint32_t p = info->mmap_addr; p < info->mmap_addr + info->mmap_length;) {
        const struct multiboot_mmap_entry *e = (const struct multiboot_mmap_entry *)p;
        if (e->size < 20)
            well_formed = 0;
        if (e->type == 1) {
            available += e->length;
            if (e->base >= 0x100000) {
                high_start = e->base;
                high_length = e->length;
            }
        }
        entries++;
        p += e->size + 4;
    }
    ok(well_formed && entries >= 3, "memory map has %d well-formed entries", entries);
    is_u64(high_start, 0x100000, "RAM above 1 MiB starts at 1 MiB");
    is_u64(high_length, (uint64_t)info->mem_upper * 1024, "and is as long as mem_upper says");
    is_u64(available, 0x9FC00ull + (uint64_t)info->mem_upper * 1024,
           "available RAM is 639 KiB + mem_upper");

    const char *cmdline = (const char *)info->cmdline;
    ok(strstr(cmdline, "loader-test-arg") != NULL, "command line has the argument: '%s'", cmdline);
    ok(strstr(cmdline, "loader.elf") != NULL, "command line starts with the image name");
    ok(strlen((const char *)info->boot_loader_name) > 0, "boot loader name: %s",
       (const char *)info->boot_loader_name);

    uint32_t cr0 = read_cr0();
    ok((cr0 & 1) && !(cr0 & 0x80000000u), "protected mode, paging off (CR0 0x%08x)", cr0);
    ok(!(read_eflags() & 0x200), "interrupts disabled at entry");
    is_u32(read_selector_cs(), 0x08, "CS is QEMU's flat code selector 0x08");
    ok(read_selector_ds() == 0x10 && read_selector_ss() == 0x10, "DS and SS are 0x10");
    /* QEMU 7.2's Multiboot option ROM leaves SeaBIOS's stack: a push before the guest's own
     * stack is set up lands in conventional memory */
    is_u32(boot_esp, 0x6F08, "ESP is QEMU's 0x6f08 at entry");
    tap_done();
}
