/* Guest test: self-modifying code and code written at run time execute correctly, and data
 * on the same page as code can be written freely. */
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

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    tap_plan(6);
    fn0 f = (fn0)(void *)patchable;
    is_u32(f(), 0x11111111, "the original code runs");
    *(volatile uint32_t *)(patchable + 1) = 0x22222222;
    is_u32(f(), 0x22222222, "a patched immediate takes effect at once");
    for (uint32_t i = 0; i < 1000; i++)
        *(volatile uint32_t *)(patchable + 1) = i;
    is_u32(f(), 999, "after a thousand patches the last one counts");

    static const unsigned char add_code[] = { 0x8B, 0x44, 0x24, 0x04, /* mov eax, [esp+4] */
                                              0x03, 0x44, 0x24, 0x08, /* add eax, [esp+8] */
                                              0xC3 };                 /* ret */
    memcpy(buffer, add_code, sizeof(add_code));
    uint32_t (*add)(uint32_t, uint32_t) = (uint32_t (*)(uint32_t, uint32_t))(void *)buffer;
    is_u32(add(40, 2), 42, "code copied at run time runs");
    buffer[4] = 0x2B; /* add -> sub */
    is_u32(add(40, 2), 38, "and is re-decoded when rewritten");

    uint32_t sum = 0;
    for (int i = 0; i < 100000; i++)
        sum += count_up(&code_page_counter);
    is_u32(code_page_counter, 100000, "data beside code is written and the code keeps running");
    (void)sum;
    tap_done();
}
