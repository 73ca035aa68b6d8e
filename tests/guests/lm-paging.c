/* Long-mode guest test: 4-level paging (SDM Vol. 3 4.5) and its page faults (4.7). A window at
 * 0x0000123400000000 (PML4 entry 0x24, far above 4 GiB) through tables of its own: #PF error
 * codes P, W/R, U/S, RSVD and I/D with CR2 holding the full 64-bit address; CR0.WP; the XD bit
 * (reserved without EFER.NXE, 4.6.1; a fetch fault with it, at the PTE or a higher level); U/S
 * at a higher level; accessed and dirty flags (4.8); INVLPG (4.10.4); 2 MiB and 1 GiB pages
 * and their reserved bits (4.5.4, the latter only where CPUID 0x80000001 EDX.Page1GB says so:
 * otherwise PS in a PDPTE is itself reserved). */
#include "kernel64.h"

#define HI 0x0000123400000000ull
#define GIB (1ull << 30)
#define P 0x1ull
#define W 0x2ull
#define U 0x4ull
#define A 0x20ull
#define D 0x40ull
#define PS 0x80ull
#define XD (1ull << 63)
#define PF_P 0x1
#define PF_W 0x2
#define PF_U 0x4
#define PF_RSVD 0x8
#define PF_ID 0x10

static uint64_t hi_pdpt[512] __attribute__((aligned(4096)));
static uint64_t hi_pd[512] __attribute__((aligned(4096)));
static uint64_t hi_pd_super[512] __attribute__((aligned(4096)));  /* reached through U/S=0 */
static uint64_t hi_pt[512] __attribute__((aligned(4096)));
static uint64_t hi_pt_code[512] __attribute__((aligned(4096)));   /* under an XD PDE */
static uint8_t frame_a[4096] __attribute__((aligned(4096)));
static uint8_t frame_b[4096] __attribute__((aligned(4096)));
static uint8_t code_frame[4096] __attribute__((aligned(4096)));

static uint64_t phys(const void *p) { return (uint64_t)(uintptr_t)p; }
static uint64_t page(unsigned n) { return HI + 4096ull * n; }

/* one access that may fault: the fault record is cleared first */
static uint64_t read_at(uint64_t a)
{
    uint64_t v = 0;
    fault_reset();
    __asm__ volatile(CATCH("mov (%1), %0") : "+r"(v) : "r"(a) : "r11", "memory");
    return v;
}
static void write_at(uint64_t a, uint64_t v)
{
    fault_reset();
    __asm__ volatile(CATCH("mov %1, (%0)") : : "r"(a), "r"(v) : "r11", "memory");
}
static uint64_t call_at(uint64_t a)
{
    uint64_t v = 0;
    fault_reset();
    __asm__ volatile(CATCH("call *%1") : "+a"(v) : "r"(a) : "rcx", "rdx", "rsi", "rdi", "r8", "r9",
                     "r10", "r11", "memory");
    return v;
}
static int pf(uint64_t error, uint64_t cr2)
{
    return last_fault.count == 1 && last_fault.vector == 14 && last_fault.error_code == error &&
           last_fault.cr2 == cr2;
}
#define EXPECT_PF(error, address, what)                                                          \
    ok(pf(error, address), "%s: #PF error 0x%x (got vector %ld, 0x%lx, CR2 0x%lx)", what, error,   \
       (long)last_fault.vector, last_fault.error_code, last_fault.cr2)

/* SDM Vol. 3 4.7: P is 0 only when some entry's P flag was 0, so a reserved-bit fault in
 * present entries has P and RSVD; QEMU 7.2 reports RSVD alone */
#define EXPECT_RSVD(address, what)                                                               \
    sdm_ok(pf(PF_P | PF_RSVD, address), "QEMU leaves P clear in a reserved-bit #PF (0x8)",      \
           "%s: #PF error 0x9 (got vector %ld, 0x%lx, CR2 0x%lx)", what, (long)last_fault.vector, \
           last_fault.error_code, last_fault.cr2)

/* ring 3: one read or write, then back */
static volatile uint64_t user_address, user_value, user_write;
static volatile struct fault_record user_fault;
static void user_access(uint64_t arg)
{
    (void)arg;
    if (user_write)
        write_at(user_address, user_value);
    else
        user_value = read_at(user_address);
    user_fault = last_fault;
    user_return();
}
static void from_user(uint64_t a, int write)
{
    user_address = a;
    user_write = write;
    run_in_user_mode(user_access, 0);
    last_fault = user_fault;
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    catch_exceptions();
    tap_plan(31);
    uint32_t r[4];
    cpuid(0x80000008u, 0, r);
    unsigned maxphy = r[0] & 0xFF;
    uint64_t rsvd = maxphy < 52 ? 1ull << maxphy : 0; /* the lowest reserved address bit */
    int gb_pages = !!(cpuid_ext_edx() & CPUID_EXT_PAGE1GB);

    for (unsigned i = 0; i < 4096; i += 8) {
        *(uint64_t *)(frame_a + i) = 0xA000000000000000ull + i;
        *(uint64_t *)(frame_b + i) = 0xB000000000000000ull + i;
    }
    static const uint8_t code[] = { 0xB8, 0x34, 0x12, 0x00, 0x00, 0xC3 }; /* mov $0x1234, %eax; ret */
    memcpy(code_frame, code, sizeof(code));

    boot_pml4[HI >> 39 & 511] = phys(hi_pdpt) | P | W | U;
    hi_pdpt[HI >> 30 & 511] = phys(hi_pd) | P | W | U;
    hi_pdpt[(HI >> 30 & 511) + 2] = phys(hi_pd_super) | P | W;  /* U/S=0 at the PDPTE */
    hi_pd[0] = phys(hi_pt) | P | W | U;
    hi_pd[1] = phys(hi_pt_code) | P | W | U | XD;               /* XD at the PDE */
    hi_pd[2] = 0x200000 | P | W | U | PS;                       /* a 2 MiB page: 2-4 MiB */
    hi_pd[3] = 0x200000 | P | W | U | PS | (1ull << 13);        /* bits 20:13 are reserved */
    hi_pd_super[0] = phys(hi_pt) | P | W | U;
    hi_pt[0] = phys(frame_a) | P | W;           /* supervisor read/write */
    /* hi_pt[1] not present */
    hi_pt[2] = phys(frame_b) | P;               /* supervisor read-only */
    hi_pt[3] = phys(frame_a) | P | W | U;       /* user read/write */
    hi_pt[4] = phys(frame_a) | P | W | rsvd;    /* a reserved address bit */
    hi_pt[5] = phys(code_frame) | P | W | XD;   /* execute-disable */
    hi_pt[6] = phys(code_frame) | P | W;        /* executable */
    hi_pt[7] = phys(frame_b) | P | U;           /* user read-only */
    hi_pt_code[0] = phys(code_frame) | P | W | U;
    write_cr3(read_cr3());
    write_cr0(read_cr0() | CR0_WP);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_NXE);

    /* the window works; A and D (SDM Vol. 3 4.8) */
    uint64_t v = read_at(page(0) + 16);
    ok(last_fault.count == 0 && v == 0xA000000000000010ull, "read through 0x0000123400000000 (0x%lx)", v);
    ok(hi_pt[0] & A, "the read set the PTE's accessed flag");
    ok(!(hi_pt[0] & D), "but not its dirty flag");
    write_at(page(0) + 24, 0x5555);
    ok(last_fault.count == 0 && *(volatile uint64_t *)(frame_a + 24) == 0x5555,
       "a write through the window reaches the frame");
    ok(hi_pt[0] & D, "the write set the dirty flag");
    ok((hi_pd[0] & A) && (hi_pdpt[HI >> 30 & 511] & A) && (boot_pml4[HI >> 39 & 511] & A),
       "the PDE, PDPTE and PML4E accessed flags are set too");

    /* not present, write, CR0.WP (SDM Vol. 3 4.6, 4.7) */
    read_at(page(1));
    EXPECT_PF(0, page(1), "read of a not-present page");
    write_at(page(1) + 8, 1);
    EXPECT_PF(PF_W, page(1) + 8, "write to a not-present page");
    read_at(HI + (1ull << 39));
    EXPECT_PF(0, HI + (1ull << 39), "read where the PML4 entry is not present");
    write_at(page(2), 1);
    EXPECT_PF(PF_P | PF_W, page(2), "supervisor write to a read-only page with CR0.WP=1");
    write_cr0(read_cr0() & ~(uint64_t)CR0_WP);
    write_at(page(2) + 8, 0x77);
    ok(last_fault.count == 0 && *(volatile uint64_t *)(frame_b + 8) == 0x77,
       "with CR0.WP=0 the supervisor write goes through");
    write_cr0(read_cr0() | CR0_WP);

    /* user accesses (SDM Vol. 3 4.6.1) */
    from_user(page(3) + 32, 0);
    ok(last_fault.count == 0 && user_value == 0xA000000000000020ull, "ring 3 reads a user page");
    from_user(page(0), 0);
    EXPECT_PF(PF_P | PF_U, page(0), "ring-3 read of a supervisor page");
    ok(last_fault.cs == USER_CS, "the fault came from ring 3 (CS 0x%lx)", last_fault.cs);
    from_user(page(7) + 8, 1);
    EXPECT_PF(PF_P | PF_W | PF_U, page(7) + 8, "ring-3 write to a read-only user page");
    from_user(page(1), 0);
    EXPECT_PF(PF_U, page(1), "ring-3 read of a not-present page");
    from_user(HI + 2 * GIB + 3 * 4096, 0);
    EXPECT_PF(PF_P | PF_U, HI + 2 * GIB + 3 * 4096, "ring-3 read: U/S=0 in the PDPTE wins over the PTE");

    /* reserved bits (SDM Vol. 3 4.5.4) */
    if (rsvd) {
        read_at(page(4));
        EXPECT_RSVD(page(4), "a PTE with an address bit above MAXPHYADDR set");
    } else {
        skip("MAXPHYADDR is 52", "a PTE with an address bit above MAXPHYADDR set");
    }
    read_at(page(5));
    EXPECT_RSVD(page(5), "XD set while EFER.NXE=0 is a reserved bit");
    v = read_at(HI + 2 * 0x200000ull + 0x1000);
    ok(last_fault.count == 0 && v == *(volatile uint64_t *)(uintptr_t)0x201000,
       "a 2 MiB page maps 2-4 MiB");
    read_at(HI + 3 * 0x200000ull);
    EXPECT_RSVD(HI + 3 * 0x200000ull, "a 2 MiB PDE with bit 13 set: reserved");

    /* instruction fetches: I/D only where NXE (or SMEP) is on (SDM Vol. 3 4.7) */
    call_at(page(1));
    EXPECT_PF(0, page(1), "fetch from a not-present page with NXE=0: no I/D flag");
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    v = read_at(page(5));
    ok(last_fault.count == 0 && v == *(uint64_t *)code_frame, "with NXE=1 an XD page reads");
    v = call_at(page(5));
    EXPECT_PF(PF_P | PF_ID, page(5), "fetch from an XD page");
    is_u64(last_fault.rip, page(5), "the saved RIP is the fetched address");
    call_at(page(1));
    EXPECT_PF(PF_ID, page(1), "fetch from a not-present page with NXE=1: I/D");
    v = call_at(HI + 0x200000);
    EXPECT_PF(PF_P | PF_ID, HI + 0x200000, "fetch under a PDE with XD set");
    v = call_at(page(6));
    ok(last_fault.count == 0 && v == 0x1234, "code in an executable page runs (0x%lx)", v);

    /* INVLPG after changing a PTE (SDM Vol. 3 4.10.4.1) */
    read_at(page(0));
    hi_pt[0] = phys(frame_b) | P | W;
    invlpg(page(0));
    v = read_at(page(0) + 16);
    ok(v == 0xB000000000000010ull, "after INVLPG the changed PTE is used (0x%lx)", v);

    /* 1 GiB pages (SDM Vol. 3 4.5.4, Table 4-16) */
    hi_pdpt[(HI >> 30 & 511) + 1] = 0 | P | W | PS;  /* HI + 1 GiB -> physical 0 */
    hi_pdpt[(HI >> 30 & 511) + 3] = 0 | P | W | PS | (1ull << 13);
    write_cr3(read_cr3());
    if (gb_pages) {
        v = read_at(HI + GIB + phys(frame_a) + 40);
        ok(last_fault.count == 0 && v == *(uint64_t *)(frame_a + 40), "a 1 GiB page maps 0-1 GiB");
        read_at(HI + 3 * GIB);
        EXPECT_RSVD(HI + 3 * GIB, "a 1 GiB PDPTE with bit 13 set: reserved");
    } else {
        read_at(HI + GIB);
        sdm_ok(pf(PF_P | PF_RSVD, HI + GIB), "QEMU 7.2 maps a 1 GiB page whatever CPUID says",
               "no 1 GiB pages (CPUID): PS in a PDPTE is reserved, #PF 0x9 (got vector %ld, 0x%lx)",
               (long)last_fault.vector, last_fault.error_code);
        skip("no 1 GiB pages (CPUID 0x80000001 EDX bit 26 clear)",
             "a 1 GiB PDPTE with bit 13 set: reserved");
    }
    tap_done();
}
