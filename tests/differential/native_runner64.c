/* The native side of the 64-bit differential test: an x86-64 host program that runs each
 * case's bytes at DIFF64_CODE_ADDRESS in 64-bit mode and records all sixteen registers (RSP
 * aside), RFLAGS and the string buffer.
 *   native-runner64 CASES_FILE RESULTS_FILE */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "differential.h"

static uint64_t in_block[17];   /* RAX..R15 (RSP skipped) then RFLAGS: popped */
static uint64_t out_block[17];  /* pushed back in the same order */
static uint64_t saved_rsp;
static uint64_t scratch_stack[1024];

static void emit(uint8_t **p, const void *bytes, size_t n)
{
    memcpy(*p, bytes, n);
    *p += n;
}
static void emit64(uint8_t **p, uint64_t v) { emit(p, &v, 8); }

static void run(uint8_t *code, uint8_t *entry, const struct diff64_case *c,
                struct diff64_result *r, uint8_t *buffer, uint32_t seed)
{
    uint8_t *p = code;
    memcpy(p, c->code, c->code_length);
    p += c->code_length;
    *p++ = 0x48; *p++ = 0xBC; emit64(&p, (uint64_t)&out_block[17]);   /* mov rsp, out_end */
    *p++ = 0x9C;                                                        /* pushfq */
    for (int reg = 15; reg >= 0; reg--) {
        if (reg == 4)
            emit(&p, "\x48\x8D\x64\x24\xF8", 5);                        /* lea rsp, [rsp-8] */
        else if (reg >= 8)
            *p++ = 0x41, *p++ = (uint8_t)(0x50 + reg - 8);              /* push r8-r15 */
        else
            *p++ = (uint8_t)(0x50 + reg);
    }
    *p++ = 0x48; *p++ = 0xB8; emit64(&p, (uint64_t)&saved_rsp);       /* mov rax, &saved_rsp */
    emit(&p, "\x48\x8B\x20", 3);                                        /* mov rsp, [rax] */
    emit(&p, "\x41\x5F\x41\x5E\x41\x5D\x41\x5C\x5D\x5B\xC3", 11);       /* pop r15..rbx; ret */

    p = entry;
    emit(&p, "\x53\x55\x41\x54\x41\x55\x41\x56\x41\x57", 10);           /* push rbx..r15 */
    *p++ = 0x48; *p++ = 0xB8; emit64(&p, (uint64_t)&saved_rsp);       /* mov rax, &saved_rsp */
    emit(&p, "\x48\x89\x20", 3);                                        /* mov [rax], rsp */
    *p++ = 0x48; *p++ = 0xBC; emit64(&p, (uint64_t)in_block);          /* mov rsp, in_block */
    for (int reg = 0; reg < 16; reg++) {
        if (reg == 4)
            emit(&p, "\x48\x8D\x64\x24\x08", 5);                        /* lea rsp, [rsp+8] */
        else if (reg >= 8)
            *p++ = 0x41, *p++ = (uint8_t)(0x58 + reg - 8);
        else
            *p++ = (uint8_t)(0x58 + reg);
    }
    *p++ = 0x9D;                                                        /* popfq */
    *p++ = 0x48; *p++ = 0xBC; emit64(&p, (uint64_t)&scratch_stack[1000]); /* mov rsp, scratch */
    *p++ = 0xE9;                                                        /* jmp code */
    int32_t rel = (int32_t)(code - (p + 4));
    emit(&p, &rel, 4);

    memcpy(in_block, c->regs, sizeof(c->regs));
    in_block[16] = c->rflags;
    diff_fill_buffer(buffer, seed);
    __builtin___clear_cache((char *)code, (char *)code + 8192);
    ((void (*)(void))entry)();
    memcpy(r->regs, out_block, sizeof(r->regs));
    r->rflags = out_block[16];
    memcpy(r->buffer, buffer, DIFF_BUFFER_SIZE);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: native-runner64 CASES RESULTS\n");
        return 2;
    }
    uint8_t *code = mmap((void *)(uintptr_t)DIFF64_CODE_ADDRESS, 8192,
                         PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    uint8_t *buffer = mmap((void *)DIFF_BUFFER_ADDRESS, 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (code != (uint8_t *)(uintptr_t)DIFF64_CODE_ADDRESS ||
        buffer != (uint8_t *)DIFF_BUFFER_ADDRESS) {
        fprintf(stderr, "native-runner64: cannot map the code or the buffer\n");
        return 3;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        fprintf(stderr, "native-runner64: cannot open the files\n");
        return 2;
    }
    struct diff64_case c;
    struct diff64_result r;
    uint32_t seed = 0;
    while (fread(&c, sizeof(c), 1, in) == 1) {
        run(code, code + 4096, &c, &r, buffer, seed++);
        fwrite(&r, sizeof(r), 1, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
