/* Unit tests of src/loader: good Multiboot and plain ELF32 images load right, symbols
 * resolve, and every kind of bad input is refused with a clear one-line message and RAM left
 * untouched. Images are built in memory by a small ELF writer. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loader/loader.h"


#define RAM (16u << 20)

/* a PC's memory map for the Multiboot guests */
static const struct x86_e820_entry map[] = {
    { 0, 0x9FC00, X86_E820_RAM }, { 0x9FC00, 0x400, X86_E820_RESERVED },
    { 0xE0000, 0x20000, X86_E820_RESERVED }, { 0x100000, RAM - 0x100000, X86_E820_RAM },
};
static const unsigned map_count = sizeof(map) / sizeof(map[0]);

struct image {
    uint8_t data[16384];
    size_t size;
};

struct segment_spec {
    uint32_t paddr, filesz, memsz;
    uint8_t fill;
};

/* An ELF32 i386 executable: header, program headers, segment bytes at 0x1000 + 0x1000*i,
 * an optional Multiboot header at offset 0x1000 (inside the first segment), an optional
 * symbol table (symbols "start" and "worker"). */
static void build(struct image *im, const struct segment_spec *segs, unsigned count, bool multiboot,
                  bool symbols)
{
    memset(im, 0, sizeof(*im));
    Elf32_Ehdr *eh = (Elf32_Ehdr *)im->data;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_386;
    eh->e_version = EV_CURRENT;
    eh->e_entry = segs[0].paddr + 0x40;
    eh->e_phoff = sizeof(Elf32_Ehdr);
    eh->e_ehsize = sizeof(Elf32_Ehdr);
    eh->e_phentsize = sizeof(Elf32_Phdr);
    eh->e_phnum = (Elf32_Half)count;
    Elf32_Phdr *ph = (Elf32_Phdr *)(im->data + eh->e_phoff);
    size_t end = 0;
    for (unsigned i = 0; i < count; i++) {
        ph[i].p_type = PT_LOAD;
        ph[i].p_offset = 0x1000 + 0x1000 * i;
        ph[i].p_vaddr = ph[i].p_paddr = segs[i].paddr;
        ph[i].p_filesz = segs[i].filesz;
        ph[i].p_memsz = segs[i].memsz;
        ph[i].p_flags = PF_R | PF_X;
        memset(im->data + ph[i].p_offset, segs[i].fill, segs[i].filesz < 0x1000 ? segs[i].filesz : 0x1000);
        if (ph[i].p_offset + segs[i].filesz > end)
            end = ph[i].p_offset + segs[i].filesz;
    }
    if (multiboot) {
        uint32_t mb[3] = { 0x1BADB002u, 0x3, (uint32_t)-(0x1BADB002u + 0x3) };
        memcpy(im->data + 0x1000, mb, sizeof(mb));
    }
    im->size = end < 0x3000 ? 0x3000 : end;
    if (symbols) {
        /* sections: null, .symtab, .strtab at 0x3000 */
        size_t at = 0x3000;
        const char strtab[] = "\0start\0worker\0";
        Elf32_Sym syms[3];
        memset(syms, 0, sizeof(syms));
        syms[1].st_name = 1;
        syms[1].st_value = segs[0].paddr + 0x40;
        syms[1].st_size = 0x20;
        syms[1].st_info = ELF32_ST_INFO(STB_GLOBAL, STT_FUNC);
        syms[1].st_shndx = 1;
        syms[2].st_name = 7;
        syms[2].st_value = segs[0].paddr + 0x100;
        syms[2].st_size = 0x10;
        syms[2].st_info = ELF32_ST_INFO(STB_GLOBAL, STT_FUNC);
        syms[2].st_shndx = 1;
        memcpy(im->data + at, syms, sizeof(syms));
        memcpy(im->data + at + sizeof(syms), strtab, sizeof(strtab));
        Elf32_Shdr *sh = (Elf32_Shdr *)(im->data + at + 0x100);
        memset(sh, 0, 3 * sizeof(*sh));
        sh[1].sh_type = SHT_SYMTAB;
        sh[1].sh_offset = (Elf32_Off)at;
        sh[1].sh_size = sizeof(syms);
        sh[1].sh_entsize = sizeof(Elf32_Sym);
        sh[1].sh_link = 2;
        sh[2].sh_type = SHT_STRTAB;
        sh[2].sh_offset = (Elf32_Off)(at + sizeof(syms));
        sh[2].sh_size = sizeof(strtab);
        eh->e_shoff = (Elf32_Off)(at + 0x100);
        eh->e_shentsize = sizeof(Elf32_Shdr);
        eh->e_shnum = 3;
        im->size = at + 0x100 + 3 * sizeof(Elf32_Shdr);
    }
}

/* An ELF64 x86-64 executable: one segment of 0x800 bytes (0x1000 in memory) at paddr, run at
 * vaddr, from file offset 0x1000, filled with 0xCD; an optional Multiboot header at its start;
 * a symbol "entry64" at the entry (to check that 64-bit symbol tables are read). */
static void build64(struct image *im, uint64_t paddr, uint64_t vaddr, uint64_t entry,
                    bool multiboot)
{
    memset(im, 0, sizeof(*im));
    Elf64_Ehdr *eh = (Elf64_Ehdr *)im->data;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = entry;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 1;
    Elf64_Phdr *ph = (Elf64_Phdr *)(im->data + eh->e_phoff);
    ph->p_type = PT_LOAD;
    ph->p_offset = 0x1000;
    ph->p_vaddr = vaddr;
    ph->p_paddr = paddr;
    ph->p_filesz = 0x800;
    ph->p_memsz = 0x1000;
    ph->p_flags = PF_R | PF_X;
    memset(im->data + 0x1000, 0xCD, 0x800);
    if (multiboot) {
        uint32_t mb[3] = { 0x1BADB002u, 0x3, (uint32_t)-(0x1BADB002u + 0x3) };
        memcpy(im->data + 0x1000, mb, sizeof(mb));
    }
    size_t at = 0x2000;
    const char strtab[] = "\0entry64\0";
    Elf64_Sym syms[2];
    memset(syms, 0, sizeof(syms));
    syms[1].st_name = 1;
    syms[1].st_value = entry;
    syms[1].st_size = 0x10;
    syms[1].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    syms[1].st_shndx = 1;
    memcpy(im->data + at, syms, sizeof(syms));
    memcpy(im->data + at + sizeof(syms), strtab, sizeof(strtab));
    Elf64_Shdr *sh = (Elf64_Shdr *)(im->data + at + 0x100);
    memset(sh, 0, 3 * sizeof(*sh));
    sh[1].sh_type = SHT_SYMTAB;
    sh[1].sh_offset = at;
    sh[1].sh_size = sizeof(syms);
    sh[1].sh_entsize = sizeof(Elf64_Sym);
    sh[1].sh_link = 2;
    sh[2].sh_type = SHT_STRTAB;
    sh[2].sh_offset = at + sizeof(syms);
    sh[2].sh_size = sizeof(strtab);
    eh->e_shoff = at + 0x100;
    eh->e_shentsize = sizeof(Elf64_Shdr);
    eh->e_shnum = 3;
    im->size = at + 0x100 + 3 * sizeof(Elf64_Shdr);
}

struct fixture {
    struct x86_bus bus;
    struct image image;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_true(x86_bus_init(&f->bus, RAM));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    x86_bus_finish(&f->bus);
    free(f);
    return 0;
}

static uint64_t ram_checksum(const struct x86_bus *bus)
{
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < bus->ram_size; i += 8) {
        uint64_t v;
        memcpy(&v, bus->ram + i, 8);
        h = (h ^ v) * 1099511628211ull;
    }
    return h;
}

static const struct segment_spec one_segment[] = { { 0x100000, 0x800, 0x1000, 0xAB } };

static void test_multiboot_elf_loads(void **state)
{
    struct fixture *f = *state;
    build(&f->image, one_segment, 1, true, true);
    memset(f->bus.ram + 0x100800, 0x77, 0x800); /* bss must come out zeroed */
    struct x86_boot_state boot;
    struct x86_symbol_table symbols;
    char error[256] = "";
    assert_int_equal(x86_load_elf(&f->bus, f->image.data, f->image.size, "kernel.elf", "a b",
                                  map, map_count, &boot, &symbols, error, sizeof(error)),
                     X86IRQ_OK);
    assert_true(boot.multiboot);
    assert_int_equal(boot.entry, 0x100040);
    assert_int_equal(f->bus.ram[0x100400], 0xAB);
    assert_int_equal(f->bus.ram[0x100900], 0);
    /* the info block lies after the image, and says what it must */
    assert_true(boot.multiboot_info >= 0x101000);
    uint32_t *info = (uint32_t *)(f->bus.ram + boot.multiboot_info);
    assert_int_equal(info[0] & 0x245, 0x245); /* MEM, CMDLINE, MMAP, BOOT_LOADER_NAME */
    assert_int_equal(info[1], 639);
    assert_int_equal(info[2], (RAM >> 10) - 1024);
    assert_string_equal((char *)f->bus.ram + info[4], "kernel.elf a b");
    assert_string_equal((char *)f->bus.ram + info[16], "libx86irq");
    /* symbols */
    const struct x86_symbol *s = x86_symbols_lookup(&symbols, 0x100045);
    assert_non_null(s);
    assert_string_equal(s->name, "start");
    assert_null(x86_symbols_lookup(&symbols, 0x100060)); /* past start's size, before worker */
    assert_string_equal(x86_symbols_lookup(&symbols, 0x100104)->name, "worker");
    assert_int_equal(x86_symbols_find(&symbols, "worker")->address, 0x100100);
    assert_null(x86_symbols_find(&symbols, "missing"));
    x86_symbols_free(&symbols);
}

static void test_plain_elf_loads(void **state)
{
    struct fixture *f = *state;
    const struct segment_spec segs[] = { { 0x200000, 0x100, 0x100, 0x11 }, { 0x300000, 0x10, 0x2000, 0x22 } };
    build(&f->image, segs, 2, false, false);
    struct x86_boot_state boot;
    struct x86_symbol_table symbols;
    char error[256];
    assert_int_equal(x86_load_elf(&f->bus, f->image.data, f->image.size, "plain", "", map,
                                  map_count, &boot,
                                  &symbols, error, sizeof(error)), X86IRQ_OK);
    assert_false(boot.multiboot);
    assert_int_equal(f->bus.ram[0x200000], 0x11);
    assert_int_equal(f->bus.ram[0x300000], 0x22);
    assert_int_equal(symbols.count, 0);
    x86_symbols_free(&symbols);
}

/* Load a broken image: the status, a message naming the file and mentioning `reason`, and RAM
 * exactly as before. */
static void expect_rejected(struct fixture *f, const void *image, size_t size,
                            x86irq_status status, const char *reason)
{
    uint64_t before = ram_checksum(&f->bus);
    struct x86_boot_state boot;
    struct x86_symbol_table symbols = { 0 };
    char error[256] = "";
    assert_int_equal(x86_load_elf(&f->bus, image, size, "bad.elf", "", map, map_count, &boot,
                                  &symbols, error,
                                  sizeof(error)), status);
    assert_true(strncmp(error, "bad.elf: ", 9) == 0);
    if (!strstr(error, reason))
        fail_msg("message '%s' does not mention '%s'", error, reason);
    assert_null(strchr(error, '\n'));
    assert_true(ram_checksum(&f->bus) == before);
    assert_int_equal(symbols.count, 0);
}

static void test_empty_and_foreign_files(void **state)
{
    struct fixture *f = *state;
    expect_rejected(f, "", 0, X86IRQ_ERR_BAD_IMAGE, "empty");
    expect_rejected(f, "#!/bin/sh\necho hi\n", 18, X86IRQ_ERR_BAD_IMAGE, "not an ELF");
    build(&f->image, one_segment, 1, true, false);
    expect_rejected(f, f->image.data, 30, X86IRQ_ERR_BAD_IMAGE, "truncated");
}

static void test_wrong_class_machine_type(void **state)
{
    struct fixture *f = *state;
    build(&f->image, one_segment, 1, true, false);
    f->image.data[EI_CLASS] = 3;
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "ELF class 3");
    build64(&f->image, 0x100000, 0x100000, 0x100040, true);
    ((Elf64_Ehdr *)f->image.data)->e_machine = EM_386;
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "x86-64");
    build(&f->image, one_segment, 1, true, false);
    ((Elf32_Ehdr *)f->image.data)->e_machine = EM_X86_64;
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "i386");
    build(&f->image, one_segment, 1, true, false);
    ((Elf32_Ehdr *)f->image.data)->e_type = ET_DYN;
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "executable");
    build(&f->image, one_segment, 1, true, false);
    f->image.data[EI_DATA] = ELFDATA2MSB;
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "little-endian");
}

/* ELF64 with a Multiboot header: entered in 32-bit mode as GRUB enters it, at the entry's
 * physical address (the segment's p_paddr - p_vaddr applied); an entry above 4 GiB or in no
 * segment is refused */
static void test_elf64_multiboot(void **state)
{
    struct fixture *f = *state;
    build64(&f->image, 0x100000, 0xC0100000u, 0xC0100040u, true);
    struct x86_boot_state boot;
    struct x86_symbol_table symbols;
    char error[256] = "";
    assert_int_equal(x86_load_elf(&f->bus, f->image.data, f->image.size, "k64.elf", "", map,
                                  map_count, &boot, &symbols, error, sizeof(error)), X86IRQ_OK);
    assert_true(boot.multiboot);
    assert_false(boot.long_mode);
    assert_int_equal(boot.entry, 0x100040);
    assert_int_equal(f->bus.ram[0x100400], 0xCD);
    assert_int_equal(f->bus.ram[0x100900], 0);
    assert_string_equal(x86_symbols_find(&symbols, "entry64")->name, "entry64");
    x86_symbols_free(&symbols);
    build64(&f->image, 0x100000, 0xFFFFFFFF80100000ull, 0xFFFFFFFF80100040ull, true);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "above 4 GiB");
    build64(&f->image, 0x100000, 0x100000, 0x300000, true);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "no loadable segment");
}

/* ELF64 without Multiboot: the 64-bit entry on the loader's identity map, whose page tables
 * no segment may cover */
static void test_elf64_long_mode_entry(void **state)
{
    struct fixture *f = *state;
    build64(&f->image, 0x200000, 0x200000, 0x200010, false);
    struct x86_boot_state boot;
    struct x86_symbol_table symbols;
    char error[256] = "";
    assert_int_equal(x86_load_elf(&f->bus, f->image.data, f->image.size, "k64.elf", "", map,
                                  map_count, &boot, &symbols, error, sizeof(error)), X86IRQ_OK);
    assert_false(boot.multiboot);
    assert_true(boot.long_mode);
    assert_int_equal(boot.entry, 0x200010);
    assert_int_equal(f->bus.ram[0x200000], 0xCD);
    x86_symbols_free(&symbols);
    build64(&f->image, 0x1800, 0x1800, 0x1810, false);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_RANGE, "page tables");
    build64(&f->image, 0x200000, 0x100000000ull, 0x100000010ull, false);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "identity map");
    /* a 64-bit header cut short */
    build64(&f->image, 0x200000, 0x200000, 0x200010, false);
    expect_rejected(f, f->image.data, 40, X86IRQ_ERR_BAD_IMAGE, "truncated");
}

static void test_segment_problems(void **state)
{
    struct fixture *f = *state;
    build(&f->image, one_segment, 1, true, false);
    ((Elf32_Ehdr *)f->image.data)->e_phnum = 0;
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "no loadable");

    const struct segment_spec outside[] = { { RAM - 0x100, 0x100, 0x1000, 1 } };
    build(&f->image, outside, 1, false, false);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_RANGE, "outside RAM");

    assert_int_equal(x86_bus_add_mmio(&f->bus, 0xFEC00000u, 0x1000, NULL, NULL, NULL, "ioapic"),
                     X86IRQ_OK);
    const struct segment_spec over_mmio[] = { { 0xFEC00000u, 0x10, 0x10, 1 } };
    build(&f->image, over_mmio, 1, false, false);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_RANGE, "ioapic");

    const struct segment_spec overlap[] = { { 0x100000, 0x100, 0x2000, 1 }, { 0x101000, 0x100, 0x100, 2 } };
    build(&f->image, overlap, 2, false, false);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "overlap");

    const struct segment_spec file_bigger[] = { { 0x100000, 0x200, 0x100, 1 } };
    build(&f->image, file_bigger, 1, false, false);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "exceeds memory size");

    const struct segment_spec beyond_file[] = { { 0x100000, 0x100, 0x100, 1 } };
    build(&f->image, beyond_file, 1, false, false);
    ((Elf32_Phdr *)(f->image.data + sizeof(Elf32_Ehdr)))->p_filesz = 0x10000;
    ((Elf32_Phdr *)(f->image.data + sizeof(Elf32_Ehdr)))->p_memsz = 0x10000;
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "beyond the end");
}

static void test_multiboot_header_problems(void **state)
{
    struct fixture *f = *state;
    build(&f->image, one_segment, 1, true, false);
    f->image.data[0x1008] ^= 1; /* checksum */
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "checksum");
    build(&f->image, one_segment, 1, false, false);
    uint32_t mb[3] = { 0x1BADB002u, 0x8, (uint32_t)-(0x1BADB002u + 0x8) }; /* required bit 3 */
    memcpy(f->image.data + 0x1000, mb, sizeof(mb));
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_BAD_IMAGE, "requires");
}

static void test_no_room_for_multiboot_info(void **state)
{
    struct fixture *f = *state;
    const struct segment_spec at_top[] = { { RAM - 0x1000, 0x800, 0x1000, 1 } };
    build(&f->image, at_top, 1, true, false);
    expect_rejected(f, f->image.data, f->image.size, X86IRQ_ERR_RANGE, "no room");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_multiboot_elf_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_elf_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_class_machine_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elf64_multiboot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elf64_long_mode_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiboot_header_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_room_for_multiboot_info, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
