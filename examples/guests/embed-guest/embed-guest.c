/* The guest of examples/embed: rings the host's "doorbell" MMIO device five times, reads back
 * how many rings it counted, and exits 0 if the host saw them all. */
#include "guest.h"

#define DOORBELL ((volatile uint32_t *)0xFE000000u)

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    for (uint32_t i = 1; i <= 5; i++) {
        DOORBELL[0] = i * 100;                 /* ring, with a value */
        for (volatile int spin = 0; spin < 2000; spin++)
            ;                                  /* some work between rings */
    }
    uint32_t rings = DOORBELL[1];              /* the device's ring counter */
    printf("embed-guest: the doorbell counted %u rings\n", rings);
    return rings == 5 ? 0 : 1;
}
