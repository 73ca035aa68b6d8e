/* Fuzz target for the ELF/Multiboot loader: any bytes as an image, on a fresh 16 MiB bus.
 * On success the boot state must point into RAM; on failure there must be a one-line
 * message and RAM must be untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct x86_bus bus;
    if (!x86_bus_init(&bus, 16u << 20))
        return 0;
    struct x86_boot_state boot;
    struct x86_symbol_table symbols;
    memset(&symbols, 0, sizeof(symbols));
    char error[256] = "";
    static const struct x86_e820_entry map[] = {
        { 0, 0x9FC00, X86_E820_RAM }, { 0x100000, (16u << 20) - 0x100000, X86_E820_RAM },
    };
    x86irq_status s = x86_load_elf(&bus, data, size, "fuzz", "arg", map, 2, &boot, &symbols,
                                   error, sizeof(error));
    if (s == X86IRQ_OK) {
        if (boot.multiboot && boot.multiboot_info >= bus.ram_size)
            abort();
        /* the 64-bit entry runs on the identity map of 4 GiB, and only without Multiboot */
        if (boot.long_mode && (boot.multiboot || boot.entry > 0xFFFFFFFFu))
            abort();
        for (size_t i = 0; i < symbols.count; i++)
            if (!symbols.symbols[i].name)
                abort();
        x86_symbols_lookup(&symbols, boot.entry);
        x86_symbols_free(&symbols);
    } else {
        if (error[0] == '\0' || strchr(error, '\n'))
            abort();
        for (size_t i = 0; i < bus.ram_size; i += 4096)
            if (bus.ram[i] != 0)
                abort(); /* nothing half-loaded */
    }
    x86_bus_finish(&bus);
    return 0;
}
