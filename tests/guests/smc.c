/* Guest test: self-modifying code and code written at run time execute correctly, and data
 * on the same page as code can be written freely; with paging off and on. */
#include "guest.h"

/* a function whose immediate we patch: mov eax, imm32; ret */
__attribute__((aligned(16))) static unsigned char patchable[16] = { 0xB8, 0x11, 0x11, 0x11, 0x11, 0xC3 };
/* code copied at run time into a buffer */
static unsigned char buffer[64] __attribute__((aligned(16)));

typedef uint32_t (*fn0)(void);

/* a counter that lives right beside the code of count_up (same page) */
__attribute__((noinline, section(".text.smc"))) static uint32_t count_up(uint32_t *counter)
{
    return ++*counter;
}
__attribute__((section(".text.smc_data"))) static uint32_t code_page_counter;

/* The six checks; run with paging off and on (stores then go through the TLB's checked path) */
static void checks(const char *how)
{
    static const unsigned char original[5] = { 0xB8, 0x11, 0x11, 0x11, 0x11 };
    for (unsigned i = 0; i < sizeof(original); i++)
        ((volatile unsigned char *)patchable)[i] = original[i];
    code_page_counter = 0;
    fn0 f = (fn0)(void *)patchable;
    ok(f() == 0x11111111, "%s: the original code runs", how);
    *(volatile uint32_t *)(patchable + 1) = 0x22222222;
    ok(f() == 0x22222222, "%s: a patched immediate takes effect at once", how);
    for (uint32_t i = 0; i < 1000; i++)
        *(volatile uint32_t *)(patchable + 1) = i;
    ok(f() == 999, "%s: after a thousand patches the last one counts", how);

    static const unsigned char add_code[] = { 0x8B, 0x44, 0x24, 0x04, /* mov eax, [esp+4] */
                                              0x03, 0x44, 0x24, 0x08, /* add eax, [esp+8] */
                                              0xC3 };                 /* ret */
    memcpy(buffer, add_code, sizeof(add_code));
    uint32_t (*add)(uint32_t, uint32_t) = (uint32_t (*)(uint32_t, uint32_t))(void *)buffer;
    ok(add(40, 2) == 42, "%s: code copied at run time runs", how);
    ((volatile unsigned char *)buffer)[4] = 0x2B; /* add -> sub */
    ok(add(40, 2) == 38, "%s: and is re-decoded when rewritten", how);

    uint32_t sum = 0;
    for (int i = 0; i < 100000; i++)
        sum += count_up(&code_page_counter);
    ok(code_page_counter == 100000, "%s: data beside code is written and the code keeps running",
       how);
    (void)sum;
}

static uint32_t directory[1024] __attribute__((aligned(4096)));

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(12);
    checks("paging off");
    for (uint32_t i = 0; i < 4; i++)
        directory[i] = (i << 22) | 0x83; /* 16 MiB identity-mapped with 4 MiB pages */
    __asm__ volatile("mov %0, %%cr3\n"
                     "mov %%cr4, %%eax\n or $0x10, %%eax\n mov %%eax, %%cr4\n"
                     "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0"
                     : : "r"(directory) : "eax", "memory");
    checks("paging on");
    tap_done();
}
