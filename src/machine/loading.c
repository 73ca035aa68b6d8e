/* The public API of loading: ELF and Multiboot guests, Linux bzImages, the symbol table. */
#include "machine/machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "board/board.h"

/* A new guest is in memory: its symbols (NULL: none) replace the old ones, decoded code and
 * the machine's stop state are forgotten. */
static void loaded(x86irq_machine *machine, struct x86_symbol_table *symbols)
{
    x86_symbols_free(&machine->symbols);
    if (symbols)
        machine->symbols = *symbols;
    memset(machine->trace.symbol_cache, 0, sizeof(machine->trace.symbol_cache));
    x86_code_cache_flush(&machine->code);
    x86_code_cache_collect(&machine->code);
    machine->loaded = true;
    machine->finished = false;
    machine->stop_reason = X86IRQ_STOP_NONE;
    machine->round_open = false; /* a new guest starts with a new round */
    machine->error[0] = '\0';
}

x86irq_status x86irq_load_elf_memory(x86irq_machine *machine, const void *image, size_t size,
                                     const char *name, const char *cmdline)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_load_elf_memory");
    if (refused != X86IRQ_OK)
        return refused;
    if (!image && size)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT, "no image");
    if (!name)
        name = "(memory)";
    struct x86_boot_state boot;
    struct x86_symbol_table symbols;
    memset(&boot, 0, sizeof(boot));
    memset(&symbols, 0, sizeof(symbols));
    struct x86_e820_entry map[X86_BOARD_MAP_MAX];
    unsigned count = x86_board_memory_map(machine->bus.ram_size, map, X86_BOARD_MAP_MAX);
    x86irq_status status = x86_load_elf(&machine->bus, image, size, name, cmdline ? cmdline : "",
                                        map, count, &boot, &symbols, machine->error,
                                        sizeof(machine->error));
    if (status != X86IRQ_OK)
        return status;
    loaded(machine, &symbols);
    machine->image_64bit = size > 4 && ((const uint8_t *)image)[4] == 2; /* ELFCLASS64 */
    if (boot.long_mode)
        x86_board_enter_elf64(machine, boot.entry);
    else
        x86_board_enter_multiboot(machine, boot.entry, boot.multiboot ? boot.multiboot_info : 0,
                                  boot.multiboot);
    return X86IRQ_OK;
}

/* Read a whole file (at most 1 GiB) into a malloc'ed buffer. */
x86irq_status x86_machine_read_file(x86irq_machine *machine, const char *path, uint8_t **out,
                                    size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return x86_machine_error(machine, X86IRQ_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) { /* fopen lets a directory in */
        fclose(f);
        return x86_machine_error(machine, X86IRQ_ERR_IO, "%s: %s", path, strerror(EISDIR));
    }
    size_t capacity = 1 << 16, size = 0;
    uint8_t *data = malloc(capacity);
    x86irq_status status = X86IRQ_OK;
    while (data) {
        size_t n = fread(data + size, 1, capacity - size, f);
        size += n;
        if (n == 0)
            break;
        if (size == capacity) {
            if (capacity >= (1ull << 30)) {
                status = x86_machine_error(machine, X86IRQ_ERR_BAD_IMAGE,
                                           "%s: larger than 1 GiB", path);
                break;
            }
            uint8_t *bigger = realloc(data, capacity * 2);
            if (!bigger) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
    }
    bool read_error = ferror(f);
    int read_errno = errno;
    fclose(f);
    if (!data)
        return x86_machine_error(machine, X86IRQ_ERR_NO_MEMORY, "%s: out of memory", path);
    if (status == X86IRQ_OK && read_error)
        status = x86_machine_error(machine, X86IRQ_ERR_IO, "%s: %s", path,
                                   read_errno ? strerror(read_errno) : "read error");
    if (status != X86IRQ_OK) {
        free(data);
        return status;
    }
    *out = data;
    *out_size = size;
    return X86IRQ_OK;
}

x86irq_status x86irq_load_elf(x86irq_machine *machine, const char *path, const char *cmdline)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_load_elf");
    if (refused != X86IRQ_OK)
        return refused;
    if (!path)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT, "no file name");
    uint8_t *data;
    size_t size;
    x86irq_status status = x86_machine_read_file(machine, path, &data, &size);
    if (status != X86IRQ_OK)
        return status;
    status = x86irq_load_elf_memory(machine, data, size, path, cmdline);
    free(data);
    return status;
}

x86irq_status x86irq_load_linux_memory(x86irq_machine *machine, const void *kernel,
                                       size_t kernel_size, const void *initrd,
                                       size_t initrd_size, const char *cmdline,
                                       const char *name)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_load_linux_memory");
    if (refused != X86IRQ_OK)
        return refused;
    if ((!kernel && kernel_size) || (!initrd && initrd_size))
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT, "no image");
    struct x86_e820_entry map[X86_BOARD_MAP_MAX];
    unsigned count = x86_board_memory_map(machine->bus.ram_size, map, X86_BOARD_MAP_MAX);
    struct x86_linux_image image = { kernel, kernel_size, initrd, initrd_size, cmdline,
                                     name ? name : "(kernel)",
                                     machine->config.linux_entry == 64 };
    struct x86_linux_boot boot;
    x86irq_status status = x86_load_linux(&machine->bus, &image, map, count, &boot,
                                          machine->error, sizeof(machine->error));
    if (status != X86IRQ_OK)
        return status;
    loaded(machine, NULL);
    machine->image_64bit = boot.has_entry64 && machine->config.linux_entry != 32;
    if (boot.has_entry64 && machine->config.linux_entry != 32)
        x86_board_enter_linux64(machine, &boot);
    else
        x86_board_enter_linux32(machine, &boot);
    return X86IRQ_OK;
}

x86irq_status x86irq_load_linux(x86irq_machine *machine, const char *kernel_path,
                                const char *initrd_path, const char *cmdline)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_load_linux");
    if (refused != X86IRQ_OK)
        return refused;
    if (!kernel_path)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT, "no kernel file name");
    uint8_t *kernel = NULL, *initrd = NULL;
    size_t kernel_size = 0, initrd_size = 0;
    x86irq_status status = x86_machine_read_file(machine, kernel_path, &kernel, &kernel_size);
    if (status == X86IRQ_OK && initrd_path)
        status = x86_machine_read_file(machine, initrd_path, &initrd, &initrd_size);
    if (status == X86IRQ_OK)
        status = x86irq_load_linux_memory(machine, kernel, kernel_size, initrd, initrd_size,
                                          cmdline, kernel_path);
    free(kernel);
    free(initrd);
    return status;
}

size_t x86irq_symbolize(const x86irq_machine *machine, uint64_t addr, char *buffer, size_t size)
{
    return x86_symbols_describe(machine ? &machine->symbols : NULL, addr, buffer, size);
}

/* The named symbol, or NULL with the machine's error set (call: the public name asked) */
static const struct x86_symbol *find_symbol(const x86irq_machine *machine, const char *name,
                                            const void *addr, const char *call)
{
    if (!name || !addr) {
        x86_machine_error((x86irq_machine *)machine, X86IRQ_ERR_INVALID_ARGUMENT,
                          "%s: no %s", call, !name ? "name" : "result pointer");
        return NULL;
    }
    const struct x86_symbol *s = x86_symbols_find(&machine->symbols, name);
    if (!s)
        x86_machine_error((x86irq_machine *)machine, X86IRQ_ERR_INVALID_ARGUMENT,
                          "no symbol '%s'", name);
    return s;
}

x86irq_status x86irq_symbol_address(const x86irq_machine *machine, const char *name,
                                    uint32_t *addr)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    const struct x86_symbol *s = find_symbol(machine, name, addr, "x86irq_symbol_address");
    if (!s)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    /* a 64-bit kernel's symbol cut to 32 bits would name some other address */
    if (s->address > UINT32_MAX)
        return x86_machine_error((x86irq_machine *)machine, X86IRQ_ERR_RANGE,
                                 "symbol '%s' is at 0x%llx, above 4 GiB: use "
                                 "x86irq_symbol_address64", name, (unsigned long long)s->address);
    *addr = (uint32_t)s->address;
    return X86IRQ_OK;
}

x86irq_status x86irq_symbol_address64(const x86irq_machine *machine, const char *name,
                                      uint64_t *addr)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    const struct x86_symbol *s = find_symbol(machine, name, addr, "x86irq_symbol_address64");
    if (!s)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    *addr = s->address;
    return X86IRQ_OK;
}

x86irq_status x86irq_load_symbols(x86irq_machine *machine, const char *path)
{
    if (!machine)
        return X86IRQ_ERR_INVALID_ARGUMENT;
    x86irq_status refused = x86_machine_outside_callbacks(machine, "x86irq_load_symbols");
    if (refused != X86IRQ_OK)
        return refused;
    if (!path)
        return x86_machine_error(machine, X86IRQ_ERR_INVALID_ARGUMENT, "no file name");
    uint8_t *data;
    size_t size;
    x86irq_status status = x86_machine_read_file(machine, path, &data, &size);
    if (status != X86IRQ_OK)
        return status;
    struct x86_symbol_table table;
    char error[256];
    bool ok = x86_symbols_parse_nm((const char *)data, size, &table, error, sizeof(error));
    free(data);
    if (!ok)
        return x86_machine_error(machine, X86IRQ_ERR_BAD_IMAGE, "%s: %s", path, error);
    x86_symbols_free(&machine->symbols);
    machine->symbols = table;
    memset(machine->trace.symbol_cache, 0, sizeof(machine->trace.symbol_cache));
    return X86IRQ_OK;
}
