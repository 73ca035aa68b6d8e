/* Benchmark guest: SSE kernels a program runs (issue "SSE"): a single-precision dot product
 * (movaps, mulps, addps) and a 16-byte memcpy (movdqa loads, movdqa stores), each repeated,
 * with CR4.OSFXSR set and every exception masked. It prints the dot product's bits and the
 * copy's checksum, the same on every run and every emulator, and exits 1 if they are wrong.
 * x86irq-run needs --isa=sse2 (guests/options); QEMU's default qemu32 model has SSE2. */
#include "guest.h"

#define N 1024
#define DOT_ROUNDS 20000
#define COPY_BYTES 16384
#define COPY_ROUNDS 4000

static float xs[N] __attribute__((aligned(16))), ys[N] __attribute__((aligned(16)));
static uint8_t from[COPY_BYTES] __attribute__((aligned(16))), to[COPY_BYTES]
    __attribute__((aligned(16)));

void kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    __asm__ volatile("mov %%cr4, %%eax\n or $0x600, %%eax\n mov %%eax, %%cr4" ::: "eax");
    for (int i = 0; i < N; i++) {
        xs[i] = (float)(i % 17) * 0.25f;
        ys[i] = (float)(i % 5) - 2.0f;
    }
    for (int i = 0; i < COPY_BYTES; i++)
        from[i] = (uint8_t)(i * 7 + 3);
    static float lanes[4] __attribute__((aligned(16)));
    uint32_t total_bits = 0;
    for (uint32_t r = 0; r < DOT_ROUNDS; r++) {
        __asm__ volatile("xorps %%xmm0, %%xmm0\n"
                         "xor %%ecx, %%ecx\n"
                         "1: movaps (%1,%%ecx,4), %%xmm1\n"
                         "   mulps (%2,%%ecx,4), %%xmm1\n"
                         "   addps %%xmm1, %%xmm0\n"
                         "   add $4, %%ecx\n"
                         "   cmp %3, %%ecx\n"
                         "   jb 1b\n"
                         "movaps %%xmm0, %0"
                         : "=m"(lanes) : "r"(xs), "r"(ys), "i"(N) : "ecx", "memory", "cc");
        float dot = lanes[0] + lanes[1] + lanes[2] + lanes[3];
        uint32_t bits;
        memcpy(&bits, &dot, 4);
        total_bits = total_bits * 33 + bits + r;
    }
    for (uint32_t r = 0; r < COPY_ROUNDS; r++)
        __asm__ volatile("xor %%ecx, %%ecx\n"
                         "1: movdqa (%0,%%ecx), %%xmm2\n"
                         "   movdqa 16(%0,%%ecx), %%xmm3\n"
                         "   movdqa %%xmm2, (%1,%%ecx)\n"
                         "   movdqa %%xmm3, 16(%1,%%ecx)\n"
                         "   add $32, %%ecx\n"
                         "   cmp %2, %%ecx\n"
                         "   jb 1b"
                         : : "r"(from), "r"(to), "i"(COPY_BYTES) : "ecx", "memory", "cc");
    uint32_t checksum = 0;
    for (int i = 0; i < COPY_BYTES; i++)
        checksum = checksum * 31 + to[i];
    printf("sse: dot %08x copy %08x\n", total_bits, checksum);
    /* the dot product is 0.5 exactly (every partial sum is a multiple of 0.25) */
    exit(total_bits == 0xFAED26F0u && checksum == 0x35BBE000u ? 0 : 1);
}
