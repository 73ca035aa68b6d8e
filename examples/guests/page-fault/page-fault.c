/* page-fault: demand paging. The kernel maps only what it needs; touching an unmapped page
 * raises #PF (a fault) with CR2 = the address and an error code saying why; the handler maps
 * a page there and returns, and the faulting instruction runs again and succeeds. */
#include "kernel.h"

#define DEMAND_BASE 0x40000000u  /* 1 GiB: nothing mapped there at first */
static uint32_t page_directory[1024] __attribute__((aligned(4096)));
static uint32_t demand_table[1024] __attribute__((aligned(4096)));
static uint8_t frames[8][4096] __attribute__((aligned(4096)));
static int faults, frames_used;

static void on_page_fault(struct trap_frame *f)
{
    uint32_t address = read_cr2();
    faults++;
    printf("  #PF: CR2 0x%08x, error code 0x%x (%s, %s, %s), EIP 0x%08x\n", address,
           f->error_code, f->error_code & 1 ? "protection" : "not present",
           f->error_code & 2 ? "write" : "read", f->error_code & 4 ? "user" : "supervisor",
           f->eip);
    if (address - DEMAND_BASE >= 1024 * 4096u || frames_used == 8) {
        printf("  #PF: outside the demand region: giving up\n");
        exit(2);
    }
    uint32_t frame = (uint32_t)frames[frames_used++];
    demand_table[(address - DEMAND_BASE) >> 12] = frame | 0x3; /* present, writable */
    printf("  #PF: mapped 0x%08x -> frame 0x%08x; returning restarts the instruction\n",
           address & ~0xFFFu, frame);
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_handler(14, on_page_fault, 0x8E, 0);
    /* identity-map the first 4 MiB with one 4 MiB page (CR4.PSE); a page table for the
     * demand region, all entries not present */
    page_directory[0] = 0x00000083;                               /* present, writable, 4 MiB */
    page_directory[DEMAND_BASE >> 22] = (uint32_t)demand_table | 0x3;
    __asm__ volatile("mov %%cr4, %%eax\n or $0x10, %%eax\n mov %%eax, %%cr4\n"
                     "mov %0, %%cr3\n"
                     "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0\n"
                     : : "r"(page_directory) : "eax", "memory");
    printf("page-fault: paging on; 0x%08x-0x%08x is not mapped yet\n", DEMAND_BASE,
           DEMAND_BASE + 0x3FFFFF);
    volatile uint32_t *p = (volatile uint32_t *)DEMAND_BASE;
    p[0] = 0x1234;               /* write fault on page 0 */
    uint32_t v = p[1024 + 5];    /* read fault on page 1 */
    p[1024 + 6] = v + p[0];      /* page 1 is mapped now: no fault */
    printf("page-fault: %d faults, memory holds 0x%x and 0x%x\n", faults, p[0], p[1024 + 6]);
    return faults == 2 && p[0] == 0x1234 && p[1024 + 6] == 0x1234 ? 0 : 1;
}
