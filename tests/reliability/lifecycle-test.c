/* A machine created, loaded, run a little and destroyed 10,000 times leaves the process's
 * memory flat (issue "Reliability"): the resident set after the last round is within a small
 * margin of what it was after the first few hundred (the allocator's own caches settle there).
 * Measured from /proc/self/statm; skipped under AddressSanitizer, whose quarantine holds freed
 * memory on purpose (LeakSanitizer covers leaks there). TAP on stdout.
 *   lifecycle-test GUEST.elf [ROUNDS] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <x86irq/x86irq.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define WARM_UP 500
#define MARGIN_KIB 2048        /* what the rounds may add to the resident set, in all */
#define SIZE_MARGIN_KIB 16384  /* ... and to the address space (one RAM block is 16 MiB) */

#ifndef UNDER_ASAN
/* the process's address space and resident set, in KiB: a leak of memory nobody touched (a
 * guest's RAM block) shows only in the first */
static int memory_kib(long *size, long *resident)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    int got = fscanf(f, "%ld %ld", size, resident);
    fclose(f);
    long kib = sysconf(_SC_PAGESIZE) / 1024;
    *size *= kib;
    *resident *= kib;
    return got == 2;
}

static int round_trip(const char *guest, unsigned cpus)
{
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = 16u << 20; /* the guest needs little; the RAM block is one allocation anyway */
    c.cpus = cpus;
    x86irq_machine *m = NULL;
    if (x86irq_machine_create(&c, &m) != X86IRQ_OK)
        return 0;
    x86irq_stop_reason reason;
    int good = x86irq_load_elf(m, guest, NULL) == X86IRQ_OK &&
               x86irq_run(m, 200000, &reason) == X86IRQ_OK && x86irq_instructions(m) > 0;
    x86irq_machine_destroy(m);
    return good;
}
#endif

int main(int argc, char **argv)
{
#ifdef UNDER_ASAN
    (void)argc;
    (void)argv;
    printf("1..0 # SKIP under AddressSanitizer (its quarantine keeps freed memory)\n");
    return 0;
#else
    if (argc < 2) {
        printf("1..0 # SKIP no guest given\n");
        return 0;
    }
    unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 10000;
    printf("1..3\n");
    unsigned bad = 0;
    long warm_size = 0, warm = 0, end_size = 0, end = 0;
    int measured = 1;
    for (unsigned i = 0; i < rounds; i++) {
        bad += !round_trip(argv[1], i % 2 ? 2 : 1); /* one and two CPUs, alternately */
        if (i + 1 == WARM_UP)
            measured &= memory_kib(&warm_size, &warm);
    }
    measured &= memory_kib(&end_size, &end);
    printf("%s 1 - %u machines created, loaded, run and destroyed (%u failed)\n",
           bad ? "not ok" : "ok", rounds, bad);
    int flat = measured && end - warm <= MARGIN_KIB;
    printf("%s 2 - the resident set stays flat: %ld KiB after %u rounds, %ld KiB after %u "
           "(margin %d KiB)\n", flat ? "ok" : "not ok", warm, WARM_UP, end, rounds, MARGIN_KIB);
    int flat_size = measured && end_size - warm_size <= SIZE_MARGIN_KIB;
    printf("%s 3 - the address space stays flat: %ld KiB after %u rounds, %ld KiB after %u "
           "(margin %d KiB)\n", flat_size ? "ok" : "not ok", warm_size, WARM_UP, end_size,
           rounds, SIZE_MARGIN_KIB);
    return bad || !flat || !flat_size;
#endif
}
