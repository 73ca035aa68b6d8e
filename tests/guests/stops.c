/* A guest for the CLI's stop statuses: its command line picks how it ends.
 *   halt    cli; hlt: nothing can ever wake it
 *   triple  an empty IDT, then int3: #GP, #DF, triple fault
 *   spin    loops forever (for --max-cycles)
 *   exit N  debug exit with status N */
#include "guest.h"

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    const char *cmd = (const char *)info->cmdline;
    if (strstr(cmd, "halt")) {
        __asm__ volatile("cli; hlt");
    } else if (strstr(cmd, "triple")) {
        struct { uint16_t limit; uint32_t base; } __attribute__((packed)) empty = { 0, 0 };
        __asm__ volatile("lidt %0; int3" : : "m"(empty));
    } else if (strstr(cmd, "spin")) {
        for (;;)
            __asm__ volatile("pause");
    } else if (strstr(cmd, "exit ")) {
        const char *p = strstr(cmd, "exit ") + 5;
        int v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        return v;
    }
    printf("stops: unknown command '%s'\n", cmd);
    return 99;
}
