/* A plain driver for the fuzz targets, so every `meson test` (and the sanitizer build in CI)
 * exercises them without libFuzzer: each seed input as it is, then deterministic random inputs
 * and mutations of the seeds.
 * An input that takes more than SLOW_SECONDS of CPU fails the test, as libFuzzer's slow-unit
 * report would flag it in a campaign (a restored snapshot once ran 80 s of timer catch-up).
 *   fuzz-TARGET ITERATIONS [SEED_FILE...] */
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t state = 0x853C49E6748FEA9Bull;
static uint32_t next(void)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(state >> 33);
}

#define SLOW_SECONDS 10

/* one input; false (and a TAP failure) when it was slow */
static int run_one(const uint8_t *data, size_t size, const char *what, unsigned long index)
{
    clock_t start = clock();
    LLVMFuzzerTestOneInput(data, size);
    double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    if (seconds <= SLOW_SECONDS)
        return 1;
    printf("1..1\nnot ok 1 - %s %lu (%zu bytes) took %.1f s of CPU (limit %d s)\n", what, index,
           size, seconds, SLOW_SECONDS);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
    uint8_t *seeds[16];
    size_t seed_sizes[16], seed_count = 0;
    for (int i = 2; i < argc && seed_count < 16; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc(1 << 20);
        size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
        fclose(f);
        if (n) {
            seeds[seed_count] = buf;
            seed_sizes[seed_count++] = n;
        } else {
            free(buf);
        }
    }
    uint8_t *input = malloc(1 << 20);
    if (!input)
        return 1;
    /* each seed as it is first: regression inputs (crashes found by campaigns) are seeds */
    for (size_t k = 0; k < seed_count; k++) {
        memcpy(input, seeds[k], seed_sizes[k]);
        if (!run_one(input, seed_sizes[k], "seed", (unsigned long)k + 1))
            return 1;
    }
    for (unsigned long it = 0; it < iterations; it++) {
        size_t size;
        if (seed_count && it % 2) {
            /* mutate a seed: flip, overwrite or truncate */
            size_t k = next() % seed_count;
            size = seed_sizes[k];
            memcpy(input, seeds[k], size);
            unsigned edits = 1 + next() % 8;
            for (unsigned e = 0; e < edits; e++) {
                size_t at = next() % size;
                switch (next() % 4) {
                case 0: input[at] ^= (uint8_t)(1u << (next() % 8)); break;
                case 1: input[at] = (uint8_t)next(); break;
                case 2: memset(input + at, next() % 2 ? 0xFF : 0, size - at < 8 ? size - at : 8); break;
                default: size = at + 1; break;
                }
            }
        } else {
            size = next() % 96;
            for (size_t i = 0; i < size; i++)
                input[i] = (uint8_t)next();
        }
        if (!run_one(input, size, "input", it))
            return 1;
    }
    for (size_t i = 0; i < seed_count; i++)
        free(seeds[i]);
    free(input);
    printf("1..1\nok 1 - %lu inputs, no crash, every invariant held\n", iterations);
    return 0;
}
