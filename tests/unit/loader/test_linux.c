/* Unit tests of src/loader/linux.c (the Linux/x86 boot protocol, Documentation/arch/x86/
 * boot.rst) and of the nm-format symbol parser (32- and 64-bit System.maps): a synthetic
 * bzImage built in memory loads with every zero-page field as the protocol says, every bad
 * input is refused with one line and RAM untouched, and the public API enters the kernel in
 * the 32-bit boot protocol's state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "board/board.h"
#include "loader/loader.h"
#include "machine/machine.h"
#include "cpu/mmu.h"

#define RAM (64u << 20)
#define SETUP_SECTS 4
#define KERNEL_BYTES 8192

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }

struct bzimage {
    uint8_t data[(SETUP_SECTS + 1) * 512 + KERNEL_BYTES];
    size_t size;
};

/* A bzImage of protocol `version`: setup sectors, then KERNEL_BYTES of protected-mode kernel
 * (bytes 0x5A with the offset in the first word) */
static void build(struct bzimage *b, uint16_t version)
{
    memset(b, 0, sizeof(*b));
    uint8_t *k = b->data;
    k[0x1F1] = SETUP_SECTS;
    wr32(k + 0x1F4, KERNEL_BYTES / 16);       /* syssize */
    wr16(k + 0x1FE, 0xAA55);
    k[0x200] = 0xEB;                          /* jmp short */
    k[0x201] = 0x6A;                          /* the header ends at 0x26C */
    memcpy(k + 0x202, "HdrS", 4);
    wr16(k + 0x206, version);
    k[0x211] = 0x01;                          /* LOADED_HIGH */
    wr32(k + 0x214, 0x100000);                /* code32_start */
    wr32(k + 0x22C, 0x37FFFFFF);              /* initrd_addr_max */
    wr32(k + 0x238, 2047);                    /* cmdline_size */
    wr32(k + 0x230, 0x1000);                  /* kernel_alignment */
    k[0x234] = 1;                             /* relocatable_kernel */
    wr32(k + 0x258, 0x100000);                /* pref_address: the runtime start is 1 MiB */
    wr32(k + 0x260, 0x400000);                /* init_size: 4 MiB */
    k[0x1EF] = 0xFF;                          /* the sentinel a boot loader must not copy */
    uint8_t *kernel = k + (SETUP_SECTS + 1) * 512;
    memset(kernel, 0x5A, KERNEL_BYTES);
    wr32(kernel, 0x12345678);
    b->size = sizeof(b->data);
}

static struct x86_bus *make_bus(void)
{
    struct x86_bus *bus = calloc(1, sizeof(*bus));
    assert_non_null(bus);
    assert_true(x86_bus_init(bus, RAM));
    memset(bus->ram, 0xCC, RAM);
    return bus;
}

static void free_bus(struct x86_bus *bus)
{
    x86_bus_finish(bus);
    free(bus);
}

static bool ram_untouched(const struct x86_bus *bus)
{
    for (size_t i = 0; i < RAM; i += 4096)
        if (bus->ram[i] != 0xCC || bus->ram[i + 4095] != 0xCC)
            return false;
    return true;
}

static x86irq_status load(struct x86_bus *bus, const struct bzimage *b, const void *initrd,
                          size_t initrd_size, const char *cmdline, struct x86_linux_boot *boot,
                          char *error, size_t error_size)
{
    struct x86_e820_entry map[X86_BOARD_MAP_MAX];
    unsigned count = x86_board_memory_map(RAM, map, X86_BOARD_MAP_MAX);
    struct x86_linux_image image = { b->data, b->size, initrd, initrd_size, cmdline, "vmlinuz",
                                     false };
    return x86_load_linux(bus, &image, map, count, boot, error, error_size);
}

static void test_zero_page(void **state)
{
    (void)state;
    struct bzimage *b = malloc(sizeof(*b));
    build(b, 0x020F);
    struct x86_bus *bus = make_bus();
    static uint8_t initrd[10000];
    memset(initrd, 0x17, sizeof(initrd));
    struct x86_linux_boot boot;
    char error[200] = "";
    assert_int_equal(load(bus, b, initrd, sizeof(initrd), "console=ttyS0 quiet", &boot, error,
                          sizeof(error)), X86IRQ_OK);
    const uint8_t *bp = bus->ram + boot.boot_params;
    assert_int_equal(boot.boot_params, 0x10000);
    assert_int_equal(boot.entry32, 0x100000);
    assert_int_equal(boot.protocol, 0x020F);
    assert_false(boot.has_entry64);
    /* the setup header is copied (boot flag, magic, version), the sentinel is not */
    assert_int_equal(rd16(bp + 0x1FE), 0xAA55);
    assert_memory_equal(bp + 0x202, "HdrS", 4);
    assert_int_equal(rd16(bp + 0x206), 0x020F);
    assert_int_equal(bp[0x1EF], 0);
    /* what the loader writes */
    assert_int_equal(bp[0x210], 0xFF);                     /* type_of_loader: no ID */
    assert_int_equal(bp[0x211], 0x81);                     /* LOADED_HIGH | CAN_USE_HEAP */
    assert_int_equal(rd16(bp + 0x224), 0xFE00);            /* heap_end_ptr */
    assert_int_equal(rd16(bp + 0x1FA), 0xFFFF);            /* vid_mode: normal */
    assert_int_equal(rd32(bp + 0x228), 0x20000);           /* cmd_line_ptr */
    assert_string_equal((const char *)bus->ram + 0x20000, "console=ttyS0 quiet");
    assert_int_equal(rd32(bp + 0x21C), sizeof(initrd));    /* ramdisk_size */
    uint32_t initrd_at = rd32(bp + 0x218);
    assert_int_equal(initrd_at, boot.initrd);
    /* as high as possible in RAM, page aligned */
    assert_int_equal(initrd_at % 4096, 0);
    assert_true(initrd_at + sizeof(initrd) <= RAM);
    assert_true(initrd_at + sizeof(initrd) > RAM - 4096 - sizeof(initrd));
    assert_memory_equal(bus->ram + initrd_at, initrd, sizeof(initrd));
    /* the e820 map */
    struct x86_e820_entry map[X86_BOARD_MAP_MAX];
    unsigned count = x86_board_memory_map(RAM, map, X86_BOARD_MAP_MAX);
    assert_int_equal(bp[0x1E8], count);
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *e = bp + 0x2D0 + 20 * i;
        assert_int_equal(rd32(e) | (uint64_t)rd32(e + 4) << 32, map[i].base);
        assert_int_equal(rd32(e + 8) | (uint64_t)rd32(e + 12) << 32, map[i].length);
        assert_int_equal(rd32(e + 16), map[i].type);
    }
    /* the protected-mode kernel at code32_start */
    assert_int_equal(rd32(bus->ram + 0x100000), 0x12345678);
    assert_int_equal(bus->ram[0x100000 + KERNEL_BYTES - 1], 0x5A);
    free_bus(bus);
    free(b);
}

static void test_initrd_addr_max_and_64bit_entry(void **state)
{
    (void)state;
    struct bzimage *b = malloc(sizeof(*b));
    build(b, 0x020C);
    wr32(b->data + 0x22C, 0x01FFFFFF);        /* initrd below 32 MiB */
    wr16(b->data + 0x236, 0x0001);            /* XLF_KERNEL_64 */
    struct x86_bus *bus = make_bus();
    static uint8_t initrd[5000];
    struct x86_linux_boot boot;
    char error[200];
    assert_int_equal(load(bus, b, initrd, sizeof(initrd), NULL, &boot, error, sizeof(error)),
                     X86IRQ_OK);
    assert_true(boot.initrd + sizeof(initrd) <= 0x02000000u);
    assert_true(boot.initrd >= 0x02000000u - 2 * 4096);
    assert_true(boot.has_entry64);
    assert_int_equal(boot.entry64, 0x100200);
    assert_int_equal(bus->ram[0x20000], 0); /* no command line: empty */
    free_bus(bus);
    free(b);
}

/* boot.rst's runtime start: a relocatable kernel at its load address raised to pref_address and
 * aligned to kernel_alignment, another at pref_address; the initrd goes above its init_size */
static void test_runtime_start(void **state)
{
    (void)state;
    struct bzimage *b = malloc(sizeof(*b));
    build(b, 0x020F);
    wr32(b->data + 0x258, 0x1000000);          /* pref_address 16 MiB, as Debian's kernels */
    wr32(b->data + 0x230, 0x200000);           /* kernel_alignment 2 MiB */
    wr32(b->data + 0x22C, 0x017FFFFF);         /* initrd below 24 MiB */
    struct x86_bus *bus = make_bus();
    static uint8_t initrd[5000];
    struct x86_linux_boot boot;
    char error[200] = "";
    assert_int_equal(load(bus, b, initrd, sizeof(initrd), NULL, &boot, error, sizeof(error)),
                     X86IRQ_OK);
    assert_int_equal(boot.runtime_start, 0x1000000);
    assert_int_equal(boot.entry32, 0x100000);  /* still loaded at code32_start */
    assert_true(boot.initrd >= 0x1400000 && boot.initrd + sizeof(initrd) <= 0x1800000);
    /* a load address above pref_address, aligned up */
    wr32(b->data + 0x258, 0x100000);
    wr32(b->data + 0x214, 0x180000);
    assert_int_equal(load(bus, b, NULL, 0, NULL, &boot, error, sizeof(error)), X86IRQ_OK);
    assert_int_equal(boot.runtime_start, 0x200000);
    /* not relocatable: pref_address */
    b->data[0x234] = 0;
    wr32(b->data + 0x258, 0x800000);
    assert_int_equal(load(bus, b, NULL, 0, NULL, &boot, error, sizeof(error)), X86IRQ_OK);
    assert_int_equal(boot.runtime_start, 0x800000);
    free_bus(bus);
    free(b);
}

/* The 64-bit boot protocol (boot.rst): config.linux_entry chooses; an x86-64 kernel is entered
 * at code32_start + 0x200 in 64-bit mode with the zero page in RSI and an identity map */
static void test_entry64_state(void **state)
{
    (void)state;
    struct bzimage *b = malloc(sizeof(*b));
    build(b, 0x020F);
    x86irq_config config;
    x86irq_config_init(&config);
    config.ram_size = RAM;
    x86irq_machine *m;
    /* a 32-bit kernel refuses the 64-bit entry, with nothing loaded */
    config.linux_entry = 64;
    assert_int_equal(x86irq_machine_create(&config, &m), X86IRQ_OK);
    assert_int_equal(x86irq_load_linux_memory(m, b->data, b->size, NULL, 0, NULL, "vmlinuz"),
                     X86IRQ_ERR_BAD_IMAGE);
    assert_non_null(strstr(x86irq_last_error(m), "vmlinuz: the 64-bit entry was asked for"));
    /* an x86-64 kernel: the default (and 64) takes the 64-bit entry */
    wr16(b->data + 0x236, 0x0001);             /* XLF_KERNEL_64 */
    assert_int_equal(x86irq_load_linux_memory(m, b->data, b->size, NULL, 0, "quiet", "vmlinuz"),
                     X86IRQ_OK);
    struct x86_cpu *cpu = x86_machine_cpu(m);
    assert_int_equal(cpu->mode, X86_MODE_64);
    assert_int_equal(cpu->rip, 0x100200);
    assert_int_equal(cpu->gpr[X86_ESI], 0x10000);
    assert_int_equal(cpu->seg[X86_SEG_CS].selector, 0x10);
    assert_int_equal(cpu->seg[X86_SEG_DS].selector, 0x18);
    assert_int_equal(cpu->seg[X86_SEG_SS].selector, 0x18);
    assert_true(cpu->efer & X86_EFER_LMA);
    assert_true(cpu->cr0 & X86_CR0_PG);
    assert_true(cpu->cr4 & X86_CR4_PAE);
    assert_int_equal(cpu->eflags & 0x200, 0);
    /* the GDT's __BOOT_CS is a 64-bit code segment; the page tables map the kernel, the zero
     * page and the command line to themselves */
    uint8_t gdt[32];
    assert_int_equal(x86irq_read_physical(m, cpu->gdtr.base, gdt, sizeof(gdt)), X86IRQ_OK);
    static const uint8_t code64[8] = { 0xFF, 0xFF, 0, 0, 0, 0x9B, 0xAF, 0 };
    assert_memory_equal(gdt + 0x10, code64, 8);
    static const uint64_t linear[] = { 0x100200, 0x10000 + 0x228, 0x20000, 0x3FFFFF8 };
    for (size_t i = 0; i < sizeof(linear) / sizeof(linear[0]); i++) {
        uint64_t via_paging = 0, direct = 0;
        assert_true(x86_peek(cpu, linear[i], 8, &via_paging));
        assert_int_equal(x86irq_read_physical(m, linear[i], &direct, 8), X86IRQ_OK);
        assert_int_equal(via_paging, direct);
    }
    assert_int_equal(memcmp(m->bus.ram + 0x20000, "quiet", 6), 0);
    uint64_t v;
    assert_false(x86_peek(cpu, 0x100000000ull, 8, &v)); /* only the first 4 GiB */
    /* the 32-bit entry when asked for */
    x86irq_machine_destroy(m);
    config.linux_entry = 32;
    assert_int_equal(x86irq_machine_create(&config, &m), X86IRQ_OK);
    assert_int_equal(x86irq_load_linux_memory(m, b->data, b->size, NULL, 0, NULL, "vmlinuz"),
                     X86IRQ_OK);
    cpu = x86_machine_cpu(m);
    assert_int_equal(cpu->mode, X86_MODE_32);
    assert_int_equal(cpu->rip, 0x100000);
    x86irq_machine_destroy(m);
    config.linux_entry = 48;
    assert_int_equal(x86irq_machine_create(&config, &m), X86IRQ_ERR_INVALID_ARGUMENT);
    free(b);
}

struct bad_case {
    const char *what;
    void (*mutate)(struct bzimage *b);
    size_t initrd_size;
    size_t cmdline_length;
    x86irq_status status;
    const char *message;
};

static void not_bzimage(struct bzimage *b) { memcpy(b->data + 0x202, "ELF!", 4); }
static void no_boot_flag(struct bzimage *b) { wr16(b->data + 0x1FE, 0); }
static void old_protocol(struct bzimage *b) { wr16(b->data + 0x206, 0x0201); }
static void zimage(struct bzimage *b) { b->data[0x211] = 0; }
static void truncated(struct bzimage *b) { b->size = (SETUP_SECTS + 1) * 512 + 100; }
static void setup_only(struct bzimage *b) { b->size = 0x300; }
static void huge_syssize(struct bzimage *b) { wr32(b->data + 0x1F4, 0x10000000); }
static void huge_init_size(struct bzimage *b) { wr32(b->data + 0x260, 0x7FF00000); }
static void low_load(struct bzimage *b) { wr32(b->data + 0x214, 0x8000); }
static void small_cmdline(struct bzimage *b) { wr32(b->data + 0x238, 16); }
static void protocol_205(struct bzimage *b) { wr16(b->data + 0x206, 0x0205); }
static void nothing(struct bzimage *b) { (void)b; }
/* a relocatable kernel preferring 48 MiB decompresses at 48-52 MiB: no room above it for an
 * initrd of 13 MiB (RAM is 64 MiB), though 1-4 MiB after the loaded kernel would hold it */
static void high_runtime(struct bzimage *b) { wr32(b->data + 0x258, 0x3000000); }
/* not relocatable: runs at pref_address whatever the load address, here beyond RAM */
static void fixed_beyond_ram(struct bzimage *b)
{
    b->data[0x234] = 0;
    wr32(b->data + 0x258, 0x3E00000);
}

static void test_bad_images(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        { "no HdrS", not_bzimage, 0, 0, X86IRQ_ERR_BAD_IMAGE, "not a Linux kernel image" },
        { "no boot flag", no_boot_flag, 0, 0, X86IRQ_ERR_BAD_IMAGE, "not a Linux kernel image" },
        { "protocol 2.01", old_protocol, 0, 0, X86IRQ_ERR_BAD_IMAGE, "too old" },
        { "zImage", zimage, 0, 0, X86IRQ_ERR_BAD_IMAGE, "zImage" },
        { "truncated", truncated, 0, 0, X86IRQ_ERR_BAD_IMAGE, "truncated" },
        { "setup only", setup_only, 0, 0, X86IRQ_ERR_BAD_IMAGE, "truncated" },
        { "syssize past the end", huge_syssize, 0, 0, X86IRQ_ERR_BAD_IMAGE, "truncated" },
        { "kernel too big", huge_init_size, 0, 0, X86IRQ_ERR_RANGE, "more memory" },
        { "loaded below 1 MiB", low_load, 0, 0, X86IRQ_ERR_RANGE, "RAM" },
        { "initrd too big", nothing, RAM - (4u << 20), 0, X86IRQ_ERR_RANGE, "initrd" },
        { "initrd over the runtime area", high_runtime, 13u << 20, 0, X86IRQ_ERR_RANGE,
          "initrd" },
        { "runtime start beyond RAM", fixed_beyond_ram, 0, 0, X86IRQ_ERR_RANGE,
          "RAM 0x3e00000-0x4200000" },
        { "command line too long", small_cmdline, 0, 17, X86IRQ_ERR_INVALID_ARGUMENT,
          "at most 16" },
        { "protocol 2.05: 255 characters", protocol_205, 0, 256, X86IRQ_ERR_INVALID_ARGUMENT,
          "at most 255" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bzimage *b = malloc(sizeof(*b));
        build(b, 0x020F);
        cases[i].mutate(b);
        struct x86_bus *bus = make_bus();
        uint8_t *initrd = cases[i].initrd_size ? calloc(1, cases[i].initrd_size) : NULL;
        char *cmdline = calloc(1, cases[i].cmdline_length + 1);
        memset(cmdline, 'x', cases[i].cmdline_length);
        struct x86_linux_boot boot;
        char error[300] = "";
        x86irq_status s = load(bus, b, initrd, cases[i].initrd_size, cmdline, &boot, error,
                               sizeof(error));
        if (s != cases[i].status || !strstr(error, cases[i].message) ||
            strncmp(error, "vmlinuz: ", 9) != 0 || strchr(error, '\n'))
            fail_msg("%s: status %d, message '%s'", cases[i].what, s, error);
        if (!ram_untouched(bus))
            fail_msg("%s: RAM was written", cases[i].what);
        free(cmdline);
        free(initrd);
        free_bus(bus);
        free(b);
    }
}

/* what x86irq_load_linux_memory leaves in the core: boot.rst's 32-bit boot protocol */
static void test_entry_state(void **state)
{
    (void)state;
    struct bzimage *b = malloc(sizeof(*b));
    build(b, 0x020F);
    x86irq_config config;
    x86irq_config_init(&config);
    config.ram_size = RAM;
    x86irq_machine *m;
    assert_int_equal(x86irq_machine_create(&config, &m), X86IRQ_OK);
    assert_int_equal(x86irq_load_linux_memory(m, b->data, b->size, NULL, 0, "root=/dev/ram0",
                                              "vmlinuz"), X86IRQ_OK);
    static const struct { x86irq_register reg; uint32_t value; } expect[] = {
        { X86IRQ_REG_EIP, 0x100000 }, { X86IRQ_REG_ESI, 0x10000 }, { X86IRQ_REG_EBP, 0 },
        { X86IRQ_REG_EDI, 0 }, { X86IRQ_REG_EBX, 0 }, { X86IRQ_REG_CS, 0x10 },
        { X86IRQ_REG_DS, 0x18 }, { X86IRQ_REG_ES, 0x18 }, { X86IRQ_REG_SS, 0x18 },
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        uint32_t v;
        assert_int_equal(x86irq_get_register(m, expect[i].reg, &v), X86IRQ_OK);
        if (v != expect[i].value)
            fail_msg("%s = 0x%x, expected 0x%x", x86irq_register_name(expect[i].reg), v,
                     expect[i].value);
    }
    uint32_t cr0, eflags;
    x86irq_get_register(m, X86IRQ_REG_CR0, &cr0);
    x86irq_get_register(m, X86IRQ_REG_EFLAGS, &eflags);
    assert_int_equal(cr0 & 0x80000001u, 1); /* protected mode, paging off */
    assert_int_equal(eflags & 0x200, 0);     /* interrupts off */
    /* the GDT has flat __BOOT_CS (0x10) and __BOOT_DS (0x18) */
    struct x86_cpu *cpu = x86_machine_cpu(m);
    uint8_t gdt[32];
    assert_int_equal(x86irq_read_physical(m, cpu->gdtr.base, gdt, sizeof(gdt)), X86IRQ_OK);
    assert_true(cpu->gdtr.limit >= 0x1F);
    static const uint8_t code[8] = { 0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0 };
    static const uint8_t data[8] = { 0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0 };
    assert_memory_equal(gdt + 0x10, code, 8);
    assert_memory_equal(gdt + 0x18, data, 8);
    /* not a bzImage through the API: refused, the last error names the file */
    static const uint8_t junk[4096];
    assert_int_equal(x86irq_load_linux_memory(m, junk, sizeof(junk), NULL, 0, NULL, "junk.bin"),
                     X86IRQ_ERR_BAD_IMAGE);
    assert_non_null(strstr(x86irq_last_error(m), "junk.bin: not a Linux kernel image"));
    assert_int_equal(x86irq_load_linux(m, "/nonexistent/bzImage", NULL, NULL), X86IRQ_ERR_IO);
    x86irq_machine_destroy(m);
    free(b);
}

static void test_nm_symbols(void **state)
{
    (void)state;
    static const char text[] =
        "c1000000 T startup_32\n"
        "c1000000 T _text\n"
        "c1000100 t helper\r\n"
        "00000000 A absolute_zero\n"
        "         U undefined_thing\n"
        "d088c010 t e1000_fix_features\t[e1000]\n"
        "ffffffff81000000 T too_wide\n"
        "\n";
    struct x86_symbol_table t;
    char error[200];
    /* the undefined line has no address: refused */
    assert_false(x86_symbols_parse_nm(text, strlen(text), &t, error, sizeof(error)));
    assert_non_null(strstr(error, "line 5"));
    const char *good = strstr(text, "d088c010");
    static char fixed[512];
    size_t head = (size_t)(strstr(text, "         U") - text);
    memcpy(fixed, text, head);
    strcpy(fixed + head, good);
    assert_true(x86_symbols_parse_nm(fixed, strlen(fixed), &t, error, sizeof(error)));
    assert_int_equal(t.count, 5); /* the absolute one is left out, the 64-bit one kept */
    const struct x86_symbol *s = x86_symbols_lookup(&t, 0xc1000050);
    assert_non_null(s);
    assert_true(strcmp(s->name, "startup_32") == 0 || strcmp(s->name, "_text") == 0);
    s = x86_symbols_lookup(&t, 0xc1000104);
    assert_string_equal(s->name, "helper"); /* the \r is not part of the name */
    s = x86_symbols_lookup(&t, 0xd088c020);
    assert_string_equal(s->name, "e1000_fix_features");
    assert_null(x86_symbols_lookup(&t, 0xb0000000));
    assert_non_null(x86_symbols_find(&t, "helper"));
    /* the 32-bit map's last symbol still covers the rest of the 4 GiB, and no more */
    assert_string_equal(x86_symbols_lookup(&t, 0xfffff000)->name, "e1000_fix_features");
    assert_null(x86_symbols_lookup(&t, 0x100000000ull));
    assert_int_equal(x86_symbols_find(&t, "too_wide")->address, 0xffffffff81000000ull);
    char described[64];
    assert_int_equal(x86_symbols_describe(&t, 0xc1000104, described, sizeof(described)), 10);
    assert_string_equal(described, "helper+0x4");
    x86_symbols_free(&t);

    static const char zeros[] = "00000000 T a\n00000000 t b\n";
    assert_false(x86_symbols_parse_nm(zeros, strlen(zeros), &t, error, sizeof(error)));
    assert_non_null(strstr(error, "kptr_restrict"));
    assert_false(x86_symbols_parse_nm("", 0, &t, error, sizeof(error)));
    assert_false(x86_symbols_parse_nm("hello world\n", 12, &t, error, sizeof(error)));
    assert_false(x86_symbols_parse_nm("c1000000 T\n", 11, &t, error, sizeof(error)));
    assert_int_equal(t.count, 0);
}

/* An amd64 System.map (Linux 6.1's layout): the zero-based per-CPU symbols, then the kernel's
 * text at 0xffffffff81000000 and up; absolute symbols among them. */
static void test_nm_symbols_amd64(void **state)
{
    (void)state;
    static const char text[] =
        "0000000000000000 D __per_cpu_start\n"
        "0000000000001000 D cpu_debug_store\n"
        "000000000002c000 D __per_cpu_end\n"
        "0000000001000000 A phys_startup_64\n"
        "ffffffff81000000 T _text\n"
        "ffffffff81000000 T startup_64\n"
        "ffffffff81000070 T secondary_startup_64\n"
        "ffffffff81e00e40 T __switch_to_asm\n"
        "ffffffff81e01000 T asm_common_interrupt\n"
        "ffffffff8160d9d0 T handle_irq_event\n"
        "ffffffff83000000 B _end\n";
    struct x86_symbol_table t;
    char error[200];
    assert_true(x86_symbols_parse_nm(text, strlen(text), &t, error, sizeof(error)));
    assert_int_equal(t.count, 10); /* all but the absolute one */
    /* sorted by address across the 4 GiB line */
    for (size_t i = 1; i < t.count; i++)
        assert_true(t.symbols[i - 1].address <= t.symbols[i].address);
    assert_int_equal(x86_symbols_find(&t, "__switch_to_asm")->address, 0xffffffff81e00e40ull);
    assert_int_equal(x86_symbols_find(&t, "handle_irq_event")->address, 0xffffffff8160d9d0ull);
    const struct x86_symbol *s = x86_symbols_lookup(&t, 0xffffffff81000075ull);
    assert_non_null(s);
    assert_string_equal(s->name, "secondary_startup_64");
    s = x86_symbols_lookup(&t, 0xffffffff81000010ull);
    assert_true(strcmp(s->name, "startup_64") == 0 || strcmp(s->name, "_text") == 0);
    assert_string_equal(x86_symbols_lookup(&t, 0xffffffff81e00e41ull)->name, "__switch_to_asm");
    assert_string_equal(x86_symbols_lookup(&t, 0x1008)->name, "cpu_debug_store");
    /* below the line: per-CPU offsets; the gap to the text (user space, the canonical hole)
     * belongs to no symbol, nor does what lies just below the text */
    assert_string_equal(x86_symbols_lookup(&t, 0x2c010)->name, "__per_cpu_end");
    assert_null(x86_symbols_lookup(&t, 0x100000000ull));
    assert_null(x86_symbols_lookup(&t, 0x00007ffd12345678ull));
    assert_null(x86_symbols_lookup(&t, 0xffffffff80ffffffull));
    char buffer[64];
    assert_int_equal(x86_symbols_describe(&t, 0xffffffff81e01234ull, buffer, sizeof(buffer)),
                     strlen("asm_common_interrupt+0x234"));
    assert_string_equal(buffer, "asm_common_interrupt+0x234");
    x86_symbols_describe(&t, 0xffffffff83000000ull, buffer, sizeof(buffer));
    assert_string_equal(buffer, "_end");
    assert_int_equal(x86_symbols_describe(&t, 0x00007ffd12345678ull, buffer, sizeof(buffer)), 0);
    assert_string_equal(buffer, "");
    x86_symbols_free(&t);
    /* an offset wider than 32 bits is printed in full (the last symbol covers the rest) */
    static const char above[] = "0000000100000000 T above_the_line\n";
    assert_true(x86_symbols_parse_nm(above, strlen(above), &t, error, sizeof(error)));
    x86_symbols_describe(&t, 0x300000010ull, buffer, sizeof(buffer));
    assert_string_equal(buffer, "above_the_line+0x200000010");
    x86_symbols_free(&t);
    /* a kallsyms read without the right to see addresses, 64-bit zeros: refused as before */
    static const char zeros[] = "0000000000000000 T _text\n0000000000000000 t helper\n";
    assert_false(x86_symbols_parse_nm(zeros, strlen(zeros), &t, error, sizeof(error)));
    assert_non_null(strstr(error, "kptr_restrict"));
    /* more than 16 digits is no address */
    assert_false(x86_symbols_parse_nm("1ffffffff81000000 T x\n", 22, &t, error, sizeof(error)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_page),
        cmocka_unit_test(test_initrd_addr_max_and_64bit_entry),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_entry_state),
        cmocka_unit_test(test_runtime_start),
        cmocka_unit_test(test_entry64_state),
        cmocka_unit_test(test_nm_symbols),
        cmocka_unit_test(test_nm_symbols_amd64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
