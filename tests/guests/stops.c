/* A guest for the CLI's stop statuses: its command line picks how it ends.
 *   halt    cli; hlt: nothing can ever wake it
 *   triple  an empty IDT, then int3: #GP, #DF, triple fault
 *   spin    loops forever (for --max-cycles)
 *   exit N  debug exit with status N
 *   reset   the keyboard controller's reset pulse (command 0xFE)
 *   portreset  port 0xCF9's RST_CPU (0x06: a hard reset, as the FADT's reset register)
 *   poweroff   ACPI S5: SLP_TYP 0 with SLP_EN in PM1a_CNT (0x604) */
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
    } else if (strstr(cmd, "portreset")) {
        outb(0xCF9, 0x06);
    } else if (strstr(cmd, "reset")) {
        outb(0x64, 0xFE);
    } else if (strstr(cmd, "poweroff")) {
        outw(0x604, 0x2000);
    } else if (strstr(cmd, "exit ")) {
        const char *p = strstr(cmd, "exit ") + 5;
        int v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        return v;
    }
    if (strstr(cmd, "reset") || strstr(cmd, "poweroff")) {
        printf("stops: still running after '%s'\n", cmd);
        return 98;
    }
    printf("stops: unknown command '%s'\n", cmd);
    return 99;
}
