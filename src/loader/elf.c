/* ELF32 and ELF64 loading through libelf, with Multiboot v1 (see loader.h).
 *
 * Everything is checked before the first byte is copied into guest RAM: the ELF headers, each
 * PT_LOAD segment (inside the file, inside RAM, not over an MMIO window, not overlapping another
 * segment), the Multiboot header, and the room for the Multiboot info block.
 */
#include "loader/loader.h"

#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 64

struct segment {
    uint64_t file_offset;
    uint64_t file_size;
    uint64_t address;   /* physical load address */
    uint64_t memory_size;
    uint64_t virtual_address; /* where the program runs (p_vaddr) */
};

struct load_plan {
    struct segment segments[MAX_SEGMENTS];
    size_t count;
    uint64_t entry;
    bool elf64;
    bool entry_from_header; /* the Multiboot address fields gave the entry */
    bool multiboot;
    bool long_mode;         /* enter in 64-bit mode (an ELF64 file without Multiboot) */
    uint32_t multiboot_flags;
};

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

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Check a segment against RAM, devices and the segments already planned. */
static x86irq_status check_segment(const struct x86_bus *bus, const struct load_plan *plan,
                                   const struct segment *s, const char *name, char *error,
                                   size_t error_size)
{
    if (s->memory_size == 0)
        return X86IRQ_OK;
    uint64_t end = s->address + s->memory_size;
    if (end < s->address || end > bus->ram_size) {
        for (size_t i = 0; i < bus->mmio_count; i++) {
            const struct x86_io_region *r = &bus->mmio[i];
            if (s->address < r->base + r->size && r->base < end)
                return fail(error, error_size, X86IRQ_ERR_RANGE, name,
                            "segment at 0x%llx-0x%llx overlaps the %s MMIO window",
                            (unsigned long long)s->address, (unsigned long long)end - 1, r->name);
        }
        return fail(error, error_size, X86IRQ_ERR_RANGE, name,
                    "segment at 0x%llx-0x%llx lies outside RAM (%llu bytes)",
                    (unsigned long long)s->address, (unsigned long long)end - 1,
                    (unsigned long long)bus->ram_size);
    }
    for (size_t i = 0; i < plan->count; i++) {
        const struct segment *o = &plan->segments[i];
        if (o->memory_size && s->address < o->address + o->memory_size && o->address < end)
            return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                        "segments at 0x%llx and 0x%llx overlap", (unsigned long long)o->address,
                        (unsigned long long)s->address);
    }
    return X86IRQ_OK;
}

/* The Multiboot header: its offset in the file, or -1 */
static long find_multiboot_header(const uint8_t *image, size_t size)
{
    size_t limit = size < X86_MULTIBOOT_SEARCH ? size : X86_MULTIBOOT_SEARCH;
    for (size_t off = 0; off + 12 <= limit; off += 4)
        if (le32(image + off) == X86_MULTIBOOT_HEADER_MAGIC)
            return (long)off;
    return -1;
}

static x86irq_status plan_elf(Elf *elf, const uint8_t *image, size_t size,
                              const struct x86_bus *bus, const char *name,
                              struct load_plan *plan, char *error, size_t error_size)
{
    if (size < EI_NIDENT || (image[EI_CLASS] != ELFCLASS32 && image[EI_CLASS] != ELFCLASS64))
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "not a 32- or 64-bit ELF file (ELF class %u)",
                    size >= EI_NIDENT ? image[EI_CLASS] : 0u);
    if (elf_kind(elf) != ELF_K_ELF)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "not an ELF file");
    if (image[EI_DATA] != ELFDATA2LSB)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "not a little-endian ELF file");
    plan->elf64 = image[EI_CLASS] == ELFCLASS64;
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf, &eh))
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "truncated ELF header (%s)",
                    elf_errmsg(-1));
    unsigned machine = plan->elf64 ? EM_X86_64 : EM_386;
    if (eh.e_machine != machine)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "ELF machine %u is not %s", eh.e_machine,
                    plan->elf64 ? "x86-64 (EM_X86_64)" : "i386 (EM_386)");
    if (eh.e_type != ET_EXEC)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "ELF type %u is not an executable (ET_EXEC)", eh.e_type);
    size_t phnum;
    if (elf_getphdrnum(elf, &phnum) != 0)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "bad program headers (%s)",
                    elf_errmsg(-1));
    plan->entry = eh.e_entry;
    for (size_t i = 0; i < phnum; i++) {
        /* gelf_getphdr copies: program headers may sit at any (unaligned) file offset */
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph))
            return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                        "truncated program headers (%s)", elf_errmsg(-1));
        if (ph.p_type != PT_LOAD)
            continue;
        if (plan->count == MAX_SEGMENTS)
            return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                        "more than %d loadable segments", MAX_SEGMENTS);
        struct segment s = { ph.p_offset, ph.p_filesz, ph.p_paddr, ph.p_memsz, ph.p_vaddr };
        if (s.file_size > s.memory_size)
            return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                        "segment %zu: file size 0x%llx exceeds memory size 0x%llx", i,
                        (unsigned long long)s.file_size, (unsigned long long)s.memory_size);
        if (s.file_offset > size || s.file_size > size - s.file_offset)
            return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                        "segment %zu: bytes 0x%llx+0x%llx lie beyond the end of the file "
                        "(truncated?)", i, (unsigned long long)s.file_offset,
                        (unsigned long long)s.file_size);
        x86irq_status st = check_segment(bus, plan, &s, name, error, error_size);
        if (st != X86IRQ_OK)
            return st;
        plan->segments[plan->count++] = s;
    }
    if (plan->count == 0)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "no loadable (PT_LOAD) segment");
    return X86IRQ_OK;
}

/* Multiboot header with the address fields (flag 16): QEMU then loads from the header's
 * addresses rather than the ELF program headers; we do the same. */
static x86irq_status plan_multiboot_addresses(const uint8_t *image, size_t size, long header,
                                              const struct x86_bus *bus, const char *name,
                                              struct load_plan *plan, char *error,
                                              size_t error_size)
{
    if ((size_t)header + 32 > size)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "Multiboot header address fields are truncated");
    const uint8_t *h = image + header;
    uint32_t header_addr = le32(h + 12), load_addr = le32(h + 16), load_end = le32(h + 20);
    uint32_t bss_end = le32(h + 24), entry = le32(h + 28);
    if (load_addr > header_addr || (uint32_t)(header_addr - load_addr) > (uint32_t)header)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "Multiboot load_addr 0x%x is after header_addr 0x%x", load_addr, header_addr);
    uint64_t offset = (uint64_t)header - (header_addr - load_addr);
    uint64_t file_size = load_end ? (uint64_t)load_end - load_addr : size - offset;
    if (load_end && load_end < load_addr)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "Multiboot load_end_addr is below load_addr");
    if (offset + file_size > size)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "Multiboot load range goes beyond the end of the file");
    uint64_t memory_size = bss_end > load_addr + file_size ? bss_end - load_addr : file_size;
    struct segment s = { offset, file_size, load_addr, memory_size, load_addr };
    plan->count = 0;
    plan->entry_from_header = true;
    x86irq_status st = check_segment(bus, plan, &s, name, error, error_size);
    if (st != X86IRQ_OK)
        return st;
    plan->segments[plan->count++] = s;
    plan->entry = entry;
    return X86IRQ_OK;
}

/* An ELF64 file's entry. With a Multiboot header the kernel is entered in 32-bit protected
 * mode, as GRUB enters it (grub-core/loader/multiboot_elfxx.c): e_entry must be below 4 GiB and
 * inside a segment, and is moved by that segment's p_paddr - p_vaddr (a kernel linked high with
 * a low load address starts at its physical entry). Without one it is entered in 64-bit mode on
 * the loader's identity map of the first 4 GiB (X86_LOADER_PAGE_TABLES), which its segments must
 * leave alone. */
static x86irq_status plan_entry64(struct load_plan *plan, const char *name, char *error,
                                  size_t error_size)
{
    if (plan->multiboot && plan->entry_from_header)
        return X86IRQ_OK;
    if (plan->entry > 0xFFFFFFFFu)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "entry point 0x%llx is above 4 GiB (%s)", (unsigned long long)plan->entry,
                    plan->multiboot ? "a Multiboot kernel is entered in 32-bit mode"
                                    : "outside the loader's identity map");
    if (!plan->multiboot) {
        plan->long_mode = true;
        for (size_t i = 0; i < plan->count; i++) {
            const struct segment *s = &plan->segments[i];
            if (s->memory_size && s->address < X86_LOADER_PAGE_TABLES + X86_LOADER_PAGE_TABLES_SIZE &&
                X86_LOADER_PAGE_TABLES < s->address + s->memory_size)
                return fail(error, error_size, X86IRQ_ERR_RANGE, name,
                            "segment at 0x%llx overlaps the loader's page tables at 0x%x-0x%x",
                            (unsigned long long)s->address, X86_LOADER_PAGE_TABLES,
                            X86_LOADER_PAGE_TABLES + X86_LOADER_PAGE_TABLES_SIZE - 1);
        }
        return X86IRQ_OK;
    }
    for (size_t i = 0; i < plan->count; i++) {
        const struct segment *s = &plan->segments[i];
        if (s->virtual_address <= plan->entry &&
            plan->entry - s->virtual_address < s->memory_size) {
            plan->entry = plan->entry - s->virtual_address + s->address;
            return X86IRQ_OK;
        }
    }
    return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                "entry point 0x%llx is in no loadable segment", (unsigned long long)plan->entry);
}

/* ------------------------------------------------------------------ symbols */

static void read_symbols(Elf *elf, struct x86_symbol_table *table)
{
    memset(table, 0, sizeof(*table));
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB || shdr.sh_entsize == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data)
            continue;
        size_t n = shdr.sh_size / shdr.sh_entsize;
        size_t string_bytes = 0;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym))
                break;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
                continue;
            const char *s = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (s && *s && sym.st_shndx != SHN_UNDEF)
                string_bytes += strlen(s) + 1;
        }
        struct x86_symbol *symbols = calloc(n ? n : 1, sizeof(*symbols));
        char *strings = malloc(string_bytes ? string_bytes : 1);
        if (!symbols || !strings) {
            free(symbols);
            free(strings);
            return;
        }
        size_t count = 0, used = 0;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym))
                break;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
                continue;
            const char *s = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (!s || !*s || sym.st_shndx == SHN_UNDEF)
                continue;
            size_t len = strlen(s) + 1;
            if (used + len > string_bytes)
                break;
            memcpy(strings + used, s, len);
            symbols[count].address = sym.st_value;
            symbols[count].size = sym.st_size;
            symbols[count].name = strings + used;
            used += len;
            count++;
        }
        x86_symbols_sort(symbols, count);
        table->symbols = symbols;
        table->count = count;
        table->strings = strings;
        return; /* one symbol table per executable */
    }
}

/* ------------------------------------------------------------------ the Multiboot info block */

#define MBI_FLAG_MEMORY 0x001u
#define MBI_FLAG_BOOT_DEVICE 0x002u
#define MBI_FLAG_CMDLINE 0x004u
#define MBI_FLAG_MODULES 0x008u
#define MBI_FLAG_MMAP 0x040u
#define MBI_FLAG_BOOT_LOADER 0x200u
#define MBI_SIZE 88u         /* through vbe_interface_len, as QEMU writes it */
#define MMAP_ENTRY_SIZE 24u  /* size field (4) + 20 bytes */
static const char boot_loader_name[] = "libx86irq";

struct info_layout {
    const struct x86_e820_entry *map; /* the machine's memory map */
    unsigned map_count;
    uint32_t base;          /* the info block */
    uint32_t mmap;
    uint32_t cmdline;
    uint32_t loader_name;
    uint32_t end;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void write_info(struct x86_bus *bus, const struct info_layout *l, const char *name,
                       const char *cmdline)
{
    uint8_t *info = bus->ram + l->base;
    memset(info, 0, l->end - l->base);
    /* the same flags QEMU's multiboot loader sets (hw/i386/multiboot.c) */
    put32(info + 0, MBI_FLAG_MEMORY | MBI_FLAG_BOOT_DEVICE | MBI_FLAG_CMDLINE | MBI_FLAG_MODULES |
                        MBI_FLAG_MMAP | MBI_FLAG_BOOT_LOADER);
    put32(info + 4, 639);  /* mem_lower, KiB: RAM below the EBDA at 0x9FC00, as SeaBIOS reports */
    put32(info + 8, (uint32_t)((bus->ram_size >> 10) - 1024));     /* mem_upper, KiB above 1 MiB */
    put32(info + 12, 0x8000FFFFu);                                 /* boot_device: none */
    put32(info + 16, l->cmdline);
    put32(info + 20, 0);                                           /* mods_count */
    put32(info + 24, l->mmap);                                     /* mods_addr (empty) */
    put32(info + 44, l->map_count * MMAP_ENTRY_SIZE);              /* mmap_length */
    put32(info + 48, l->mmap);                                     /* mmap_addr */
    put32(info + 64, l->loader_name);
    /* the machine's map, as a PC BIOS (SeaBIOS under QEMU) reports it */
    uint8_t *e = bus->ram + l->mmap;
    for (unsigned i = 0; i < l->map_count; i++, e += MMAP_ENTRY_SIZE) {
        put32(e, 20);
        put64(e + 4, l->map[i].base);
        put64(e + 12, l->map[i].length);
        put32(e + 20, l->map[i].type);
    }
    /* the command line: the image name, then the guest's arguments (as QEMU gives the kernel
     * path, then -append) */
    char *c = (char *)bus->ram + l->cmdline;
    size_t n = strlen(name);
    memcpy(c, name, n);
    if (cmdline[0]) {
        c[n++] = ' ';
        memcpy(c + n, cmdline, strlen(cmdline));
        n += strlen(cmdline);
    }
    c[n] = '\0';
    memcpy(bus->ram + l->loader_name, boot_loader_name, sizeof(boot_loader_name));
}

/* ------------------------------------------------------------------ entry point */

x86irq_status x86_load_elf(struct x86_bus *bus, const void *image, size_t size, const char *name,
                           const char *cmdline, const struct x86_e820_entry *map,
                           unsigned map_count, struct x86_boot_state *boot,
                           struct x86_symbol_table *symbols, char *error, size_t error_size)
{
    if (!name)
        name = "(image)";
    if (!cmdline)
        cmdline = "";
    if (!image || size == 0)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "empty file");
    if (size < 4 || memcmp(image, ELFMAG, SELFMAG) != 0)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "not an ELF file (bad magic)");
    const uint8_t *bytes = image;
    if (size < EI_NIDENT || (bytes[EI_CLASS] == ELFCLASS32 && size < sizeof(Elf32_Ehdr)) ||
        (bytes[EI_CLASS] == ELFCLASS64 && size < sizeof(Elf64_Ehdr)))
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "truncated ELF header (%zu bytes)", size);
    if (elf_version(EV_CURRENT) == EV_NONE)
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "libelf is unusable");
    /* libelf may translate in place: give it a private copy */
    uint8_t *copy = malloc(size);
    if (!copy)
        return fail(error, error_size, X86IRQ_ERR_NO_MEMORY, name, "out of memory");
    memcpy(copy, image, size);
    Elf *elf = elf_memory((char *)copy, size);
    if (!elf) {
        free(copy);
        return fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                    "unreadable ELF, truncated or corrupt (%s)", elf_errmsg(-1));
    }
    struct load_plan plan;
    memset(&plan, 0, sizeof(plan));
    x86irq_status st = plan_elf(elf, copy, size, bus, name, &plan, error, error_size);

    long header = st == X86IRQ_OK ? find_multiboot_header(copy, size) : -1;
    if (st == X86IRQ_OK && header >= 0) {
        uint32_t magic = le32(copy + header), flags = le32(copy + header + 4);
        uint32_t checksum = le32(copy + header + 8);
        if ((uint32_t)(magic + flags + checksum) != 0) {
            st = fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                      "bad Multiboot header checksum at offset 0x%lx", header);
        } else if (flags & 0x0000FFF8u) {
            /* bits 0-15 are requirements; we honour 0 (module alignment: no modules), 1
             * (memory information) and 2 (video mode: ignored, as QEMU does) */
            st = fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name,
                      "Multiboot header requires features we lack (flags 0x%08x)", flags);
        } else {
            plan.multiboot = true;
            plan.multiboot_flags = flags;
            if (flags & 0x00010000u)
                st = plan_multiboot_addresses(copy, size, header, bus, name, &plan, error,
                                              error_size);
        }
    }

    if (st == X86IRQ_OK && plan.elf64)
        st = plan_entry64(&plan, name, error, error_size);

    struct info_layout layout;
    memset(&layout, 0, sizeof(layout));
    if (st == X86IRQ_OK && plan.multiboot) {
        /* the info block goes on the first page boundary after the image (as QEMU places it) */
        uint64_t top = 0;
        for (size_t i = 0; i < plan.count; i++) {
            uint64_t end = plan.segments[i].address + plan.segments[i].memory_size;
            if (end > top)
                top = end;
        }
        uint64_t base = (top + 0xFFF) & ~0xFFFull;
        if (base < 0x1000)
            base = 0x1000;
        uint64_t cmdline_bytes = strlen(name) + 1 + strlen(cmdline) + 1;
        uint64_t end = base + MBI_SIZE + map_count * MMAP_ENTRY_SIZE + cmdline_bytes +
                       sizeof(boot_loader_name);
        if (cmdline_bytes > 65536) {
            st = fail(error, error_size, X86IRQ_ERR_BAD_IMAGE, name, "command line too long");
        } else if (end > bus->ram_size) {
            st = fail(error, error_size, X86IRQ_ERR_RANGE, name,
                      "no room for the Multiboot information after the image (RAM ends at 0x%llx)",
                      (unsigned long long)bus->ram_size);
        } else {
            layout.map = map;
            layout.map_count = map_count;
            layout.base = (uint32_t)base;
            layout.mmap = layout.base + MBI_SIZE;
            layout.cmdline = layout.mmap + map_count * MMAP_ENTRY_SIZE;
            layout.loader_name = layout.cmdline + (uint32_t)cmdline_bytes;
            layout.end = layout.loader_name + (uint32_t)sizeof(boot_loader_name);
        }
    }

    if (st == X86IRQ_OK) {
        /* everything checked: copy */
        for (size_t i = 0; i < plan.count; i++) {
            const struct segment *s = &plan.segments[i];
            uint8_t *dst = bus->ram + s->address;
            memcpy(dst, copy + s->file_offset, s->file_size);
            memset(dst + s->file_size, 0, s->memory_size - s->file_size);
        }
        boot->entry = plan.entry;
        boot->long_mode = plan.long_mode;
        boot->multiboot = plan.multiboot;
        boot->multiboot_info = 0;
        if (plan.multiboot) {
            write_info(bus, &layout, name, cmdline);
            boot->multiboot_info = layout.base;
        }
        read_symbols(elf, symbols);
    }
    elf_end(elf);
    free(copy);
    return st;
}
