/* The Linux/x86 boot protocol (the kernel's Documentation/arch/x86/boot.rst): a bzImage's
 * setup header, the protected-mode kernel placed at its code32_start, the zero page
 * (struct boot_params) with the e820 map, the command line and the initrd, entered through the
 * 32-bit boot protocol as qemu-system-i386 -kernel does after its real-mode setup would have
 * run, or through the 64-bit one. Everything is checked before the first byte is written: on error RAM is untouched.
 */
#include "loader/loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Offsets in the image and in boot_params (boot.rst "THE REAL-MODE KERNEL HEADER" and
 * arch/x86/include/uapi/asm/bootparam.h); the setup header sits at the same offsets in both */
enum {
    HDR_SETUP_SECTS = 0x1F1,
    HDR_SYSSIZE = 0x1F4,
    HDR_VID_MODE = 0x1FA,
    HDR_BOOT_FLAG = 0x1FE,
    HDR_JUMP = 0x200,
    HDR_MAGIC = 0x202,
    HDR_VERSION = 0x206,
    HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS = 0x211,
    HDR_CODE32_START = 0x214,
    HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21C,
    HDR_HEAP_END_PTR = 0x224,
    HDR_CMD_LINE_PTR = 0x228,
    HDR_INITRD_ADDR_MAX = 0x22C,
    HDR_KERNEL_ALIGNMENT = 0x230,
    HDR_RELOCATABLE = 0x234,
    HDR_XLOADFLAGS = 0x236,
    HDR_CMDLINE_SIZE = 0x238,
    HDR_PREF_ADDRESS = 0x258,
    HDR_INIT_SIZE = 0x260,
    BP_E820_ENTRIES = 0x1E8,
    BP_E820_TABLE = 0x2D0,
    BP_E820_MAX = 128,
    BP_SIZE = 0x1000,
};

#define LOADED_HIGH 0x01u
#define CAN_USE_HEAP 0x80u
#define XLF_KERNEL_64 0x0001u

/* Where the loader puts its own pieces in low memory, as QEMU's loader does for a protocol
 * 2.02+ kernel: the zero page at 0x10000 (where the real-mode code would be), the command line
 * at 0x20000. Both lie in usable RAM below the EBDA; the kernel copies them early. */
#define ZERO_PAGE 0x10000u
#define CMDLINE_ADDRESS 0x20000u
#define CMDLINE_ROOM 0x10000u

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static x86irq_status fail(char *error, size_t size, x86irq_status status, const char *name,
                          const char *format, ...) __attribute__((format(printf, 5, 6)));
static x86irq_status fail(char *error, size_t size, x86irq_status status, const char *name,
                          const char *format, ...)
{
    if (error && size) {
        int n = snprintf(error, size, "%s: ", name);
        if (n >= 0 && (size_t)n < size) {
            va_list ap;
            va_start(ap, format);
            vsnprintf(error + n, size - (size_t)n, format, ap);
            va_end(ap);
        }
    }
    return status;
}

bool x86_is_bzimage(const void *image, size_t size)
{
    const uint8_t *k = image;
    return image && size >= 0x210 && le16(k + HDR_BOOT_FLAG) == 0xAA55 &&
           memcmp(k + HDR_MAGIC, "HdrS", 4) == 0;
}

/* The e820 ranges that are usable RAM, to place the initrd in */
static bool range_usable(const struct x86_e820_entry *map, unsigned count, uint64_t base,
                         uint64_t length)
{
    for (unsigned i = 0; i < count; i++)
        if (map[i].type == X86_E820_RAM && base >= map[i].base &&
            base + length <= map[i].base + map[i].length)
            return true;
    return false;
}

x86irq_status x86_load_linux(struct x86_bus *bus, const struct x86_linux_image *image,
                             const struct x86_e820_entry *map, unsigned map_count,
                             struct x86_linux_boot *boot, char *error, size_t error_size)
{
    const char *name = image->name ? image->name : "(kernel)";
    const uint8_t *k = image->kernel;
    size_t size = image->kernel_size;
    const char *cmdline = image->cmdline ? image->cmdline : "";

    if (!k || size == 0)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "empty file");
    if (!x86_is_bzimage(k, size))
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "not a Linux kernel image (no boot flag 0xAA55 and \"HdrS\" setup header)");
    uint16_t version = le16(k + HDR_VERSION);
    if (version < 0x0202)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "boot protocol %u.%02u is too old (2.02 or later is needed)", version >> 8,
                    version & 0xFF);
    if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "a zImage (loaded low): only bzImage kernels can be entered in 32-bit mode");
    unsigned setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (size_t)(setup_sects + 1) * 512;
    /* the setup header ends at 0x202 + the jump's displacement (boot.rst) */
    size_t header_end = 0x202 + k[HDR_JUMP + 1];
    if (setup_size >= size || header_end > setup_size || header_end > BP_SIZE)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "truncated: %zu bytes, the setup code alone is %zu", size, setup_size);
    size_t kernel_size = size - setup_size;
    uint64_t syssize = (uint64_t)le32(k + HDR_SYSSIZE) * 16;
    if (syssize > kernel_size)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "truncated: the header says %llu bytes of protected-mode kernel, the file "
                    "has %zu", (unsigned long long)syssize, kernel_size);

    /* where the protected-mode kernel goes: code32_start (1 MiB for every bzImage), as
     * QEMU and GRUB load it; a relocatable kernel moves itself from there as it needs */
    uint32_t load = le32(k + HDR_CODE32_START);
    if (load < 0x100000 || (uint64_t)load + kernel_size > bus->ram_size)
        return fail(error, error_size, X86IRQ_ERR_RANGE, name,
                    "the kernel (%zu bytes at 0x%x) does not fit in RAM (ends at 0x%llx): "
                    "give the machine more memory", kernel_size, load,
                    (unsigned long long)bus->ram_size);
    /* init_size bytes from the runtime start must be RAM: there the kernel decompresses
     * before it reads the memory map. boot.rst (protocol 2.10+): a relocatable kernel runs at
     * its load address (at least pref_address) aligned up to kernel_alignment, another at
     * pref_address; before 2.10 at the load address. */
    uint64_t runtime_start = load;
    uint64_t init_size = kernel_size;
    if (version >= 0x020A) {
        uint64_t pref = (uint64_t)le32(k + HDR_PREF_ADDRESS) |
                        (uint64_t)le32(k + HDR_PREF_ADDRESS + 4) << 32;
        uint32_t align = le32(k + HDR_KERNEL_ALIGNMENT);
        if (k[HDR_RELOCATABLE]) {
            runtime_start = load < pref ? pref : load;
            if (align && (align & (align - 1)) == 0)
                runtime_start = (runtime_start + align - 1) & ~(uint64_t)(align - 1);
        } else {
            runtime_start = pref;
        }
        init_size = le32(k + HDR_INIT_SIZE);
        if (init_size < kernel_size)
            init_size = kernel_size;
    }
    uint64_t kernel_end = runtime_start + init_size;
    if (kernel_end < (uint64_t)load + kernel_size)
        kernel_end = (uint64_t)load + kernel_size;
    if (runtime_start > bus->ram_size || init_size > bus->ram_size - runtime_start)
        return fail(error, error_size, X86IRQ_ERR_RANGE, name,
                    "the kernel needs RAM 0x%llx-0x%llx to decompress (init_size %llu bytes) "
                    "but RAM ends at 0x%llx: give the machine more memory",
                    (unsigned long long)runtime_start, (unsigned long long)(runtime_start + init_size),
                    (unsigned long long)init_size, (unsigned long long)bus->ram_size);
    if (!range_usable(map, map_count, load, kernel_size) ||
        !range_usable(map, map_count, runtime_start, init_size))
        return fail(error, error_size, X86IRQ_ERR_RANGE, name,
                    "the kernel's area 0x%llx+%llu is not usable RAM in the memory map",
                    (unsigned long long)runtime_start, (unsigned long long)init_size);
    bool has_entry64 = version >= 0x020C && (le16(k + HDR_XLOADFLAGS) & XLF_KERNEL_64);
    if (image->need_entry64 && !has_entry64)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "the 64-bit entry was asked for, but this kernel has none (not an x86-64 "
                    "kernel: no XLF_KERNEL_64 in xloadflags)");

    size_t cmdline_max = version >= 0x0206 ? le32(k + HDR_CMDLINE_SIZE) : 255;
    size_t cmdline_length = strlen(cmdline);
    if (cmdline_length > cmdline_max || cmdline_length >= CMDLINE_ROOM)
        return fail(error, error_size, X86IRQ_ERR_INVALID_ARGUMENT, name,
                    "the command line has %zu characters; this kernel accepts at most %zu",
                    cmdline_length, cmdline_max < CMDLINE_ROOM - 1 ? cmdline_max
                                                                   : (size_t)CMDLINE_ROOM - 1);
    if (bus->ram_size < CMDLINE_ADDRESS + CMDLINE_ROOM)
        return fail(error, error_size, X86IRQ_ERR_RANGE, name, "RAM is too small");

    /* the initrd: as high as the kernel allows, page aligned, in usable RAM, not over the
     * kernel's decompression area (boot.rst: "as high as possible") */
    uint32_t initrd = 0;
    if (image->initrd_size) {
        uint64_t addr_max = version >= 0x0203 ? le32(k + HDR_INITRD_ADDR_MAX) : 0x37FFFFFFu;
        uint64_t top = 0;
        for (unsigned i = 0; i < map_count; i++) {
            if (map[i].type != X86_E820_RAM)
                continue;
            uint64_t end = map[i].base + map[i].length;
            if (end > addr_max + 1)
                end = addr_max + 1;
            if (end > map[i].base && end - map[i].base >= image->initrd_size) {
                uint64_t at = (end - image->initrd_size) & ~0xFFFull;
                if (at >= map[i].base && at >= kernel_end && at > top)
                    top = at;
            }
        }
        if (top == 0)
            return fail(error, error_size, X86IRQ_ERR_RANGE, name,
                        "no room for the initrd (%zu bytes) between the kernel (ends at "
                        "0x%llx) and 0x%llx: give the machine more memory", image->initrd_size,
                        (unsigned long long)kernel_end,
                        (unsigned long long)(addr_max < bus->ram_size ? addr_max + 1
                                                                      : bus->ram_size));
        initrd = (uint32_t)top;
    }
    if (map_count > BP_E820_MAX)
        map_count = BP_E820_MAX;

    /* everything checked: write */
    uint8_t *bp = bus->ram + ZERO_PAGE;
    memset(bp, 0, BP_SIZE);
    memcpy(bp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, header_end - HDR_SETUP_SECTS);
    put16(bp + HDR_VID_MODE, 0xFFFF);          /* "normal" */
    bp[HDR_TYPE_OF_LOADER] = 0xFF;            /* no assigned boot loader ID */
    bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
    put16(bp + HDR_HEAP_END_PTR, (uint16_t)(CMDLINE_ADDRESS - ZERO_PAGE - 0x200));
    put32(bp + HDR_CMD_LINE_PTR, CMDLINE_ADDRESS);
    put32(bp + HDR_RAMDISK_IMAGE, initrd);
    put32(bp + HDR_RAMDISK_SIZE, (uint32_t)image->initrd_size);
    bp[BP_E820_ENTRIES] = (uint8_t)map_count;
    for (unsigned i = 0; i < map_count; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        put32(e, (uint32_t)map[i].base);
        put32(e + 4, (uint32_t)(map[i].base >> 32));
        put32(e + 8, (uint32_t)map[i].length);
        put32(e + 12, (uint32_t)(map[i].length >> 32));
        put32(e + 16, map[i].type);
    }
    memcpy(bus->ram + CMDLINE_ADDRESS, cmdline, cmdline_length + 1);
    memcpy(bus->ram + load, k + setup_size, kernel_size);
    if (image->initrd_size)
        memcpy(bus->ram + initrd, image->initrd, image->initrd_size);

    memset(boot, 0, sizeof(*boot));
    boot->entry32 = load;
    boot->boot_params = ZERO_PAGE;
    boot->protocol = version;
    boot->initrd = initrd;
    boot->runtime_start = runtime_start;
    if (has_entry64) {
        boot->has_entry64 = true;
        boot->entry64 = load + 0x200; /* boot.rst "64-bit BOOT PROTOCOL" */
    }
    return X86IRQ_OK;
}
