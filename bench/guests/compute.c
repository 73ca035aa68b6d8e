/* Benchmark guest: an integer loop with loads, stores, branches and calls, about 1e9
 * instructions, printing a checksum. bench/run.sh reports guest MIPS from x86irq-run --stats.
 * The work is deterministic: the checksum is the same on every run and every emulator. */
#include "guest.h"

#define TABLE_SIZE 4096
static uint32_t table[TABLE_SIZE];

/* a call that is not inlined, so the loop has call/ret pairs */
__attribute__((noinline)) static uint32_t mix(uint32_t x, uint32_t y)
{
    x ^= y + 0x9E3779B9u + (x << 6) + (x >> 2);
    return x;
}

void kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    uint32_t rounds = 15000; /* about 1e9 instructions */
    for (uint32_t i = 0; i < TABLE_SIZE; i++)
        table[i] = i * 2654435761u;
    uint32_t checksum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < TABLE_SIZE; i++) {
            uint32_t v = table[i];
            if (v & 1)
                v = mix(v, r);
            else
                v += checksum;
            table[(i + 1) & (TABLE_SIZE - 1)] ^= v;
            checksum += v;
        }
    }
    printf("compute: checksum %08x\n", checksum);
    exit(0);
}
