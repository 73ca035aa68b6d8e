/* Fuzz target for the Linux boot-protocol loader (src/loader/linux.c): any bytes as a kernel
 * image, and (when the first byte is odd) the bytes laid over the setup header of a valid
 * synthetic bzImage as byte patches, so every header field is reached. A refused image leaves RAM untouched and
 * says why in one line; an accepted one has its pieces inside RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board/board.h"
#include "loader/loader.h"

#define RAM (24u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct x86_bus bus;
    static uint8_t image[8192];
    if (!bus.ram && !x86_bus_init(&bus, RAM))
        abort();
    if (size == 0)
        return 0;
    const uint8_t *kernel = data;
    size_t kernel_size = size;
    if (data[0] & 1) {
        /* a valid protocol 2.15 bzImage with the input over its header */
        memset(image, 0x90, sizeof(image));
        memset(image + 0x1F0, 0, 0x80);
        image[0x1F1] = 4;
        image[0x1F4] = (uint8_t)(((sizeof(image) - 5 * 512) / 16) & 0xFF);
        image[0x1F5] = (uint8_t)(((sizeof(image) - 5 * 512) / 16) >> 8);
        image[0x1FE] = 0x55;
        image[0x1FF] = 0xAA;
        image[0x201] = 0x6A;
        memcpy(image + 0x202, "HdrS\x0F\x02", 6);
        image[0x211] = 1;
        image[0x216] = 0x10;
        image[0x22F] = 0x01;
        image[0x239] = 0x08;
        image[0x234] = 1;      /* relocatable, from pref_address 1 MiB */
        image[0x25A] = 0x10;
        image[0x262] = 0x20;
        /* the input as (offset, value) patches of the header, so most images stay close to
         * valid and the loader's later checks are reached */
        for (size_t i = 1; i + 1 < size && i < 33; i += 2)
            image[0x1F0 + (data[i] & 0x7F)] = data[i + 1];
        kernel = image;
        kernel_size = size > 34 ? sizeof(image) - (data[34] & 0x7F) * 32 : sizeof(image);
    }
    /* an initrd and a command line of sizes from the input */
    size_t initrd_size = size > 2 ? (size_t)data[size - 1] << 14 : 0;
    static uint8_t initrd[255u << 14];
    char cmdline[600];
    size_t cmdline_length = size > 3 ? (size_t)data[size - 2] * 2 : 0;
    memset(cmdline, 'a', cmdline_length);
    cmdline[cmdline_length] = '\0';
    struct x86_e820_entry map[X86_BOARD_MAP_MAX];
    unsigned count = x86_board_memory_map(RAM, map, X86_BOARD_MAP_MAX);
    memset(bus.ram, 0xEE, 0x30000); /* the zero page and command line area */
    struct x86_linux_image li = { kernel, kernel_size, initrd, initrd_size, cmdline, "fuzz",
                                  size > 4 && (data[size - 3] & 1) };
    struct x86_linux_boot boot;
    char error[256] = "";
    if (x86_load_linux(&bus, &li, map, count, &boot, error, sizeof(error)) != X86IRQ_OK) {
        if (!error[0] || strchr(error, '\n'))
            abort();
        for (size_t i = 0x10000; i < 0x30000; i++)
            if (bus.ram[i] != 0xEE)
                abort(); /* a refused image wrote the zero page */
    } else if (boot.entry32 < 0x100000 || boot.entry32 >= RAM || boot.runtime_start >= RAM ||
               (li.need_entry64 && !boot.has_entry64) ||
               (initrd_size && (boot.initrd < boot.entry32 || boot.initrd < boot.runtime_start ||
                                boot.initrd + initrd_size > RAM))) {
        abort();
    }
    return 0;
}
