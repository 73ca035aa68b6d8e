/* Guest loading: ELF32 executables through libelf, Multiboot v1, the guest symbol table. */
#ifndef X86IRQ_LOADER_LOADER_H
#define X86IRQ_LOADER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/bus.h"

struct x86_symbol {
    uint32_t address;
    uint32_t size;        /* 0: covers up to the next symbol */
    const char *name;     /* points into the table's strings */
};

struct x86_symbol_table {
    struct x86_symbol *symbols; /* sorted by address */
    size_t count;
    char *strings;
};

/* The symbol covering addr, or NULL. */
const struct x86_symbol *x86_symbols_lookup(const struct x86_symbol_table *t, uint32_t addr);
const struct x86_symbol *x86_symbols_find(const struct x86_symbol_table *t, const char *name);
void x86_symbols_free(struct x86_symbol_table *t);

/* How to enter the loaded guest */
struct x86_boot_state {
    uint32_t entry;
    bool multiboot;          /* EAX = 0x2BADB002, EBX = multiboot_info */
    uint32_t multiboot_info; /* physical address of the info block */
};

/* Multiboot v1 (Multiboot Specification 0.6.96) */
#define X86_MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define X86_MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define X86_MULTIBOOT_SEARCH 8192u

/* Validate the whole image first, then copy: on error RAM is untouched, error holds one line
 * "NAME: reason", and the status is X86IRQ_ERR_BAD_IMAGE or X86IRQ_ERR_RANGE. */
x86irq_status x86_load_elf(struct x86_bus *bus, const void *image, size_t size, const char *name,
                           const char *cmdline, struct x86_boot_state *boot,
                           struct x86_symbol_table *symbols, char *error, size_t error_size);

#endif
