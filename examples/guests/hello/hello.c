/* hello: the Quick start's guest. Prints a greeting, the memory size and command line the
 * loader passed in the Multiboot information, and exits with status 0. */
#include "guest.h"

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    printf("Hello from a guest on libx86irq!\n");
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        printf("not started by a Multiboot loader (EAX = 0x%08x)\n", magic);
        return 1;
    }
    if (info->flags & MB_INFO_MEMORY)
        printf("memory: %u KiB below 1 MiB, %u MiB in all\n", info->mem_lower,
               (info->mem_upper + 1024) / 1024);
    if (info->flags & MB_INFO_BOOT_LOADER_NAME)
        printf("boot loader: %s\n", (const char *)info->boot_loader_name);
    if (info->flags & MB_INFO_CMDLINE)
        printf("command line: %s\n", (const char *)info->cmdline);
    uint64_t t = rdtsc();
    printf("time stamp counter: %llu cycles since power-on\n", (unsigned long long)t);
    return 0;
}
