/* The native side of the SIMD differential test: an x86-64 host program that loads each case's
 * XMM0-15, MXCSR, general registers and RFLAGS, runs its bytes at DIFF_SIMD_CODE_ADDRESS, and
 * records them all and the buffer. A sequence whose MXCSR unmasks an exception may stop with
 * #XM (SIGFPE here): the state at the fault (registers, XMM, MXCSR from the signal frame) and
 * the faulting instruction's offset are recorded instead.
 *   native-runner-simd CASES_FILE RESULTS_FILE */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <xmmintrin.h>

#include "differential.h"

static uint64_t in_block[17];   /* RAX..R15 (RSP skipped) then RFLAGS: popped */
static uint64_t out_block[17];  /* pushed back in the same order */
static uint8_t xmm_in[16 * 16 + 16] __attribute__((aligned(16)));  /* XMM0-15, then MXCSR */
static uint8_t xmm_out[16 * 16 + 16] __attribute__((aligned(16)));
static uint64_t saved_rsp;
static uint64_t scratch_stack[1024];

/* #XM: the state at the fault into fault_result, then back to run() */
static sigjmp_buf fault_jump;
static struct diff_simd_result *fault_result;
static void on_sigfpe(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    ucontext_t *uc = context;
    static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                   REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                   REG_R12, REG_R13, REG_R14, REG_R15 };
    struct diff_simd_result *r = fault_result;
    for (int i = 0; i < 16; i++)
        r->regs[i] = (uint64_t)uc->uc_mcontext.gregs[order[i]];
    r->rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    r->mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    memcpy(r->xmm, uc->uc_mcontext.fpregs->_xmm, sizeof(r->xmm));
    r->vector = 19;
    r->fault_offset = (uint32_t)((uint64_t)uc->uc_mcontext.gregs[REG_RIP] - DIFF_SIMD_CODE_ADDRESS);
    siglongjmp(fault_jump, 1);
}

static void emit(uint8_t **p, const void *bytes, size_t n)
{
    memcpy(*p, bytes, n);
    *p += n;
}
static void emit64(uint8_t **p, uint64_t v) { emit(p, &v, 8); }
static void emit32(uint8_t **p, uint32_t v) { emit(p, &v, 4); }

/* movdqu xmmN, [rax + 16N] (load) or [rax + 16N], xmmN (store): F3 [REX.R] 0F 6F/7F /r disp32 */
static void xmm_block(uint8_t **p, bool store)
{
    for (unsigned n = 0; n < 16; n++) {
        *(*p)++ = 0xF3;
        if (n >= 8)
            *(*p)++ = 0x44;
        *(*p)++ = 0x0F;
        *(*p)++ = store ? 0x7F : 0x6F;
        *(*p)++ = (uint8_t)(0x80 | ((n & 7) << 3)); /* mod 10, rm = rax */
        emit32(p, 16 * n);
    }
    /* ldmxcsr / stmxcsr [rax + 256]: 0F AE /2 or /3 */
    *(*p)++ = 0x0F;
    *(*p)++ = 0xAE;
    *(*p)++ = store ? 0x98 : 0x90;
    emit32(p, 256);
}

static void run(uint8_t *code, uint8_t *entry, const struct diff_simd_case *c,
                struct diff_simd_result *r, uint8_t *buffer, uint32_t seed)
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
    *p++ = 0x48; *p++ = 0xB8; emit64(&p, (uint64_t)xmm_out);          /* mov rax, xmm_out */
    xmm_block(&p, true);
    *p++ = 0x48; *p++ = 0xB8; emit64(&p, (uint64_t)&saved_rsp);       /* mov rax, &saved_rsp */
    emit(&p, "\x48\x8B\x20", 3);                                        /* mov rsp, [rax] */
    emit(&p, "\x41\x5F\x41\x5E\x41\x5D\x41\x5C\x5D\x5B\xC3", 11);       /* pop r15..rbx; ret */

    p = entry;
    emit(&p, "\x53\x55\x41\x54\x41\x55\x41\x56\x41\x57", 10);           /* push rbx..r15 */
    *p++ = 0x48; *p++ = 0xB8; emit64(&p, (uint64_t)&saved_rsp);       /* mov rax, &saved_rsp */
    emit(&p, "\x48\x89\x20", 3);                                        /* mov [rax], rsp */
    *p++ = 0x48; *p++ = 0xB8; emit64(&p, (uint64_t)xmm_in);           /* mov rax, xmm_in */
    xmm_block(&p, false);
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
    memcpy(xmm_in, c->xmm, sizeof(c->xmm));
    memcpy(xmm_in + 256, &c->mxcsr, 4);
    diff_fill_buffer(buffer, seed);
    __builtin___clear_cache((char *)code, (char *)code + 8192);
    memset(r, 0, sizeof(*r));
    fault_result = r;
    if (sigsetjmp(fault_jump, 1) == 0) {
        ((void (*)(void))entry)();
        memcpy(r->regs, out_block, sizeof(r->regs));
        r->rflags = out_block[16];
        memcpy(r->xmm, xmm_out, sizeof(r->xmm));
        memcpy(&r->mxcsr, xmm_out + 256, 4);
    }
    _mm_setcsr(0x1F80); /* the runner's own code runs under the default again */
    memcpy(r->buffer, buffer, DIFF_BUFFER_SIZE);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: native-runner-simd CASES RESULTS\n");
        return 2;
    }
    uint8_t *code = mmap((void *)(uintptr_t)DIFF_SIMD_CODE_ADDRESS, 8192,
                         PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    uint8_t *buffer = mmap((void *)DIFF_BUFFER_ADDRESS, 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (code != (uint8_t *)(uintptr_t)DIFF_SIMD_CODE_ADDRESS ||
        buffer != (uint8_t *)DIFF_BUFFER_ADDRESS) {
        fprintf(stderr, "native-runner-simd: cannot map the code or the buffer\n");
        return 3;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        fprintf(stderr, "native-runner-simd: cannot open the files\n");
        return 2;
    }
    /* #XM arrives as SIGFPE, on its own stack (the sequence's is small) */
    static uint8_t signal_stack[1 << 16];
    stack_t ss = { .ss_sp = signal_stack, .ss_size = sizeof(signal_stack) };
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigfpe;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGFPE, &sa, NULL) != 0) {
        fprintf(stderr, "native-runner-simd: cannot catch SIGFPE\n");
        return 3;
    }
    struct diff_simd_case c;
    struct diff_simd_result r;
    uint32_t seed = 0;
    while (fread(&c, sizeof(c), 1, in) == 1) {
        run(code, code + 4096, &c, &r, buffer, seed++);
        fwrite(&r, sizeof(r), 1, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
