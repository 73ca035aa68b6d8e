/* Guest test: PCI configuration mechanism #1 as a kernel's early PCI probe uses it: CONFIG_ADDRESS
 * at 0xCF8 reads back, the host bridge at 00:00.0 is the 440FX (8086:1237, class 06/00/00),
 * an empty slot reads all ones, byte and word reads at offsets within the dword, and with the
 * enable bit clear nothing answers. */
#include "guest.h"

static inline uint32_t inl_(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw_(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint8_t inb_(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static uint32_t address(unsigned device, unsigned function, unsigned offset)
{
    return 0x80000000u | (device << 11) | (function << 8) | (offset & 0xFC);
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(8);
    outl(0xCF8, address(0, 0, 0));
    is_u32(inl_(0xCF8), 0x80000000u, "CONFIG_ADDRESS reads back");
    is_u32(inl_(0xCFC), 0x12378086u, "00:00.0 is the 440FX host bridge (8086:1237)");
    outl(0xCF8, address(0, 0, 8));
    is_u32(inl_(0xCFC) >> 8, 0x060000u, "class 06/00/00: a host bridge");
    outl(0xCF8, address(0, 0, 0));
    is_u32(inw_(0xCFE), 0x1237u, "a word read at offset 2 of the dword");
    is_u32(inb_(0xCFD), 0x80u, "a byte read at offset 1");
    outl(0xCF8, address(31, 0, 0));
    is_u32(inl_(0xCFC), 0xFFFFFFFFu, "an empty slot reads all ones");
    outl(0xCF8, address(0, 0, 0) & 0x7FFFFFFFu);
    is_u32(inl_(0xCFC), 0xFFFFFFFFu, "with the enable bit clear nothing answers");
    outl(0xCF8, address(0, 0, 0x3C));
    is_u32(inl_(0xCFC) >> 8 & 0xFF, 0, "the host bridge has no interrupt pin");
    tap_done();
}
