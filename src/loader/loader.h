/* Guest loading: ELF32 and ELF64 executables through libelf, Multiboot v1, Linux bzImages, the
 * guest symbol table. */
#ifndef X86IRQ_LOADER_LOADER_H
#define X86IRQ_LOADER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/bus.h"

/* Addresses are 64-bit: a 64-bit kernel's symbols live at 0xffffffff81000000 and up; a
 * 32-bit guest's are below 4 GiB and look as they always did. */
struct x86_symbol {
    uint64_t address;
    uint64_t size;        /* 0: covers up to the next symbol */
    const char *name;     /* points into the table's strings */
};

struct x86_symbol_table {
    struct x86_symbol *symbols; /* sorted by address */
    size_t count;
    char *strings;
};

/* The symbol covering addr, or NULL. */
const struct x86_symbol *x86_symbols_lookup(const struct x86_symbol_table *t, uint64_t addr);
const struct x86_symbol *x86_symbols_find(const struct x86_symbol_table *t, const char *name);
void x86_symbols_free(struct x86_symbol_table *t);
/* "symbol+0xoff" (or "symbol") for addr in buffer, "" when no symbol covers it (t may be
 * NULL); always terminated when size > 0; returns the characters written. */
size_t x86_symbols_describe(const struct x86_symbol_table *t, uint64_t addr, char *buffer,
                            size_t size);
/* Sort by address, sized symbols first among equal addresses (what lookup expects). */
void x86_symbols_sort(struct x86_symbol *symbols, size_t count);
/* Parse a symbol list in nm's format (a System.map, /proc/kallsyms): "ADDRESS TYPE NAME" lines,
 * an optional "[module]" after the name, addresses of up to 16 hex digits (an amd64 System.map's
 * ffffffff81000000 as a 32-bit one's c1000000). Absolute, undefined and weak-undefined symbols
 * are left out; each covers up to the next. false
 * with one line in error for a malformed line, an empty list or one whose addresses are all
 * zero (kallsyms without the right to see them); *out is then empty. */
bool x86_symbols_parse_nm(const char *text, size_t length, struct x86_symbol_table *out,
                          char *error, size_t error_size);

/* A memory map entry as BIOS e820 reports it (types: 1 RAM, 2 reserved, 3 ACPI data...) */
#define X86_E820_RAM 1u
#define X86_E820_RESERVED 2u
struct x86_e820_entry {
    uint64_t base, length;
    uint32_t type;
};

/* How to enter the loaded guest */
struct x86_boot_state {
    uint64_t entry;
    bool long_mode;          /* 64-bit mode on the loader's page tables (an ELF64 file without a
                                Multiboot header); else 32-bit protected mode */
    bool multiboot;          /* EAX = 0x2BADB002, EBX = multiboot_info */
    uint32_t multiboot_info; /* physical address of the info block */
};

/* Where the 64-bit entries (an ELF64 executable, the Linux 64-bit boot protocol) find their
 * identity map of the first 4 GiB: a PML4 and a PDPT of four 1 GiB pages, in conventional
 * memory below the boot stack; images must not load over them. */
#define X86_LOADER_PAGE_TABLES 0x1000u
#define X86_LOADER_PAGE_TABLES_SIZE 0x2000u

/* Multiboot v1 (Multiboot Specification 0.6.96) */
#define X86_MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define X86_MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define X86_MULTIBOOT_SEARCH 8192u

/* Validate the whole image first, then copy; a Multiboot guest's memory map is map: on error RAM is untouched, error holds one line
 * "NAME: reason", and the status is X86IRQ_ERR_BAD_IMAGE or X86IRQ_ERR_RANGE. */
x86irq_status x86_load_elf(struct x86_bus *bus, const void *image, size_t size, const char *name,
                           const char *cmdline, const struct x86_e820_entry *map,
                           unsigned map_count, struct x86_boot_state *boot,
                           struct x86_symbol_table *symbols, char *error, size_t error_size);

/* ------------------------------------------------------------------ the Linux boot protocol */


/* What to boot: a bzImage, an optional initrd, the kernel command line. */
struct x86_linux_image {
    const void *kernel;
    size_t kernel_size;
    const void *initrd;      /* may be NULL when initrd_size is 0 */
    size_t initrd_size;
    const char *cmdline;     /* NULL: empty */
    const char *name;        /* for messages */
    bool need_entry64;       /* refuse a kernel without the 64-bit entry */
};

/* How to enter the loaded kernel (boot.rst): the 32-bit boot protocol (flat __BOOT_CS 0x10 and
 * __BOOT_DS 0x18, paging off, IF = 0, ESI = boot_params, EBP = EDI = EBX = 0) at entry32, or
 * the 64-bit one (the same selectors as 64-bit segments, paging on an identity map, RSI =
 * boot_params) at entry64 if the kernel has it. */
struct x86_linux_boot {
    uint32_t entry32;        /* code32_start: where the protected-mode kernel was put */
    uint32_t boot_params;    /* the zero page */
    uint32_t initrd;         /* where the initrd went (0: none) */
    uint16_t protocol;       /* the kernel's boot protocol version, e.g. 0x020F */
    bool has_entry64;        /* the kernel has the 64-bit entry (XLF_KERNEL_64) */
    uint32_t entry64;        /* entry32 + 0x200 */
    uint64_t runtime_start;  /* where the kernel decompresses (boot.rst, init_size) */
};

/* Does the image carry a Linux setup header (boot flag and "HdrS")? */
bool x86_is_bzimage(const void *image, size_t size);

/* Load a bzImage with the given memory map (written into boot_params as its e820 table).
 * Checks everything first: not a bzImage or a zImage, a protocol older than 2.02, a truncated
 * file, a kernel or initrd that does not fit in usable RAM, a command line longer than the
 * kernel accepts; then RAM is untouched, error holds one line "NAME: reason", and the status
 * says which kind. */
x86irq_status x86_load_linux(struct x86_bus *bus, const struct x86_linux_image *image,
                             const struct x86_e820_entry *map, unsigned map_count,
                             struct x86_linux_boot *boot, char *error, size_t error_size);

#endif
