/* The native side of the differential test: a 32-bit program (built with gcc -m32) that runs
 * each case's instruction bytes on the host CPU in 32-bit mode and records registers, EFLAGS
 * and the string buffer.
 *   native-runner CASES_FILE RESULTS_FILE */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "differential.h"

static uint8_t *page;
static uint32_t in_block[9];   /* EDI ESI EBP ESP EBX EDX ECX EAX EFLAGS: popad then popfd */
static uint32_t out_block[9];  /* filled by pushfd then pushad */
static uint32_t saved_esp;
static uint32_t scratch_stack[1024];

static void emit32(uint8_t **p, uint32_t v)
{
    memcpy(*p, &v, 4);
    *p += 4;
}

static void run(const struct diff_case *c, struct diff_result *r, uint8_t *buffer, uint32_t seed)
{
    uint8_t *p = page;
    *p++ = 0x60;                                 /* pushad (the host's registers) */
    *p++ = 0x89; *p++ = 0x25; emit32(&p, (uint32_t)&saved_esp);          /* mov [saved_esp], esp */
    *p++ = 0xBC; emit32(&p, (uint32_t)in_block);                         /* mov esp, in_block */
    *p++ = 0x61;                                 /* popad */
    *p++ = 0x9D;                                 /* popfd */
    *p++ = 0xBC; emit32(&p, (uint32_t)&scratch_stack[1000]);             /* mov esp, scratch */
    memcpy(p, c->code, c->code_length);
    p += c->code_length;
    *p++ = 0xBC; emit32(&p, (uint32_t)&out_block[9]);                    /* mov esp, out_end */
    *p++ = 0x9C;                                 /* pushfd */
    *p++ = 0x60;                                 /* pushad */
    *p++ = 0x8B; *p++ = 0x25; emit32(&p, (uint32_t)&saved_esp);          /* mov esp, [saved_esp] */
    *p++ = 0x61;                                 /* popad */
    *p++ = 0xC3;                                 /* ret */
    memcpy(in_block, c->regs, 32);
    in_block[8] = c->eflags;
    diff_fill_buffer(buffer, seed);
    ((void (*)(void))page)();
    /* pushad stored EDI at the lowest address: the same order as popad */
    memcpy(r->regs, out_block, 32);
    r->eflags = out_block[8];
    memcpy(r->buffer, buffer, DIFF_BUFFER_SIZE);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: native-runner CASES RESULTS\n");
        return 2;
    }
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *buffer = mmap((void *)DIFF_BUFFER_ADDRESS, 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page == MAP_FAILED || buffer != (uint8_t *)DIFF_BUFFER_ADDRESS) {
        fprintf(stderr, "native-runner: cannot map the code page or the buffer at 0x%x\n",
                DIFF_BUFFER_ADDRESS);
        return 3;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        fprintf(stderr, "native-runner: cannot open the files\n");
        return 2;
    }
    struct diff_case c;
    struct diff_result r;
    uint32_t seed = 0;
    while (fread(&c, sizeof(c), 1, in) == 1) {
        run(&c, &r, buffer, seed++);
        fwrite(&r, sizeof(r), 1, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
