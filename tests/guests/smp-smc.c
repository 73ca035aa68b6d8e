/* Guest test smp-smc: cross-modifying code (SDM Vol. 3 8.1.3). A function in RAM returns a
 * constant; AP 1 calls it in a loop (its decoded/prefetched copy is warm), the BSP rewrites it
 * and signals; AP 1, after a serializing CPUID, must run the new code. The SDM's protocol is
 * kept: the executing processor waits on a flag while the modifying one stores the code
 * ("Memory_Flag"), then serializes before executing it; code modified while another processor
 * executes it has unpredictable results on hardware (errata: "unsynchronized cross-modifying
 * code"), so that is not tried. 50 rounds: 40 change the immediate of mov $imm32, %eax; ret,
 * 10 the instructions themselves (xor/add, mov/not, different lengths). The BSP also calls
 * the new code itself after each store (self-modifying code, 8.1.3: a jump/call suffices).
 * Needs 2 CPUs (-smp 2; other APs halt).
 * QEMU 7.2: agrees on everything checked here. */
#include "smp.h"

#define PLAN 5
#define ROUNDS 50u

/* a page of its own: the flags AP 1 writes all the time are data, not code */
static uint8_t code[4096] __attribute__((aligned(4096)));
typedef uint32_t (*code_fn)(void);
static volatile uint32_t park_request, park_ack, go_flag, results[ROUNDS], expected_now;
static volatile uint32_t calls, wrong_in_loop, done;

static uint32_t call_code(void) { return ((code_fn)(uintptr_t)code)(); }

/* code for round r returning v */
static void write_code(unsigned r, uint32_t v)
{
    uint8_t buf[16];
    unsigned len;
    if (r % 5 != 4) {                       /* mov $v, %eax; ret */
        buf[0] = 0xB8;
        memcpy(buf + 1, &v, 4);
        buf[5] = 0xC3;
        len = 6;
    } else if (r % 10 == 4) {               /* xor %eax, %eax; add $v, %eax; ret */
        buf[0] = 0x31; buf[1] = 0xC0; buf[2] = 0x05;
        memcpy(buf + 3, &v, 4);
        buf[7] = 0xC3;
        len = 8;
    } else {                                /* mov $~v, %eax; not %eax; nop; ret */
        uint32_t nv = ~v;
        buf[0] = 0xB8;
        memcpy(buf + 1, &nv, 4);
        buf[5] = 0xF7; buf[6] = 0xD0; buf[7] = 0x90; buf[8] = 0xC3;
        len = 9;
    }
    volatile uint8_t *dst = code;
    for (unsigned i = 0; i < len; i++)      /* stored as data, byte by byte */
        dst[i] = buf[i];
}
static uint32_t value_of(unsigned r) { return 0x5A000000u + r * 0x10101u; }

static void ap_main(unsigned cpu)
{
    if (cpu != 1)
        return;                             /* other APs (-smp 4) halt */
    uint32_t a, b, c, d;
    for (unsigned r = 0; r < ROUNDS; r++) {
        uint32_t want = expected_now;
        while (park_request != r + 1) {     /* the code is stable: call it in a loop */
            if (call_code() != want)
                wrong_in_loop++;
            calls++;
        }
        park_ack = r + 1;                   /* not executing it any more */
        while (go_flag != r + 1)            /* SDM 8.1.3: WHILE (Memory_Flag != 1) wait */
            cpu_relax();
        cpuid(0, &a, &b, &c, &d);           /* serializing, then execute the new code */
        results[r] = call_code();
    }
    done = 1;
}

int kmain(void)
{
    kernel_init();
    smp_init();
    if (smp_cpu_count() < 2)
        tap_skip_all("needs 2 CPUs");
    tap_plan(PLAN);
    write_code(0, 0x11111111u);
    expected_now = 0x11111111u;
    uint32_t first = call_code();
    smp_start_aps(ap_main);

    unsigned bsp_good = 0, loop_calls_ok = 1;
    for (unsigned r = 0; r < ROUNDS; r++) {
        uint32_t before = calls;
        SMP_WAIT(calls >= before + 20, 50); /* AP 1 ran the current code a while */
        if (calls < before + 20)
            loop_calls_ok = 0;
        park_request = r + 1;
        SMP_WAIT(park_ack == r + 1, 50);
        write_code(r, value_of(r));
        bsp_good += call_code() == value_of(r);
        expected_now = value_of(r);
        barrier();
        go_flag = r + 1;                    /* Memory_Flag := 1 */
        if (r + 1 == ROUNDS)
            SMP_WAIT(done, 50);
    }
    unsigned good = 0, first_bad = ROUNDS;
    for (unsigned r = 0; r < ROUNDS; r++) {
        if (results[r] == value_of(r))
            good++;
        else if (first_bad == ROUNDS)
            first_bad = r;
    }
    ok(first == 0x11111111u && done, "the function in RAM returns 0x%x; AP 1 finished its %u rounds", first, ROUNDS);
    ok(loop_calls_ok, "AP 1 called the code in a loop between rewrites (%u calls)", calls);
    ok(good == ROUNDS, "after each rewrite, the signal and CPUID, AP 1 ran the new code: %u of %u rounds%s",
       good, ROUNDS, good == ROUNDS ? "" : " (see the first wrong one below)");
    if (first_bad < ROUNDS)
        printf("# round %u: AP 1 got 0x%x, expected 0x%x\n", first_bad, results[first_bad], value_of(first_bad));
    ok(wrong_in_loop == 0, "while the code was stable AP 1 always got its value (%u wrong)", wrong_in_loop);
    ok(bsp_good == ROUNDS, "the BSP ran each version right after storing it: %u of %u", bsp_good, ROUNDS);
    tap_done();
}
