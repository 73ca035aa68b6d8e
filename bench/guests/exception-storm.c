/* Benchmark guest: an exception storm. int 0x80 through a trap gate and ud2 faults whose
 * handler advances the saved EIP past the ud2; prints how many events were delivered.
 * bench/run.sh divides by host time: delivered events per second. */
#include "kernel.h"

static volatile uint32_t syscalls, faults;

static void on_syscall(struct trap_frame *f) { (void)f; syscalls++; }
static void on_invalid_opcode(struct trap_frame *f)
{
    faults++;
    f->eip += 2; /* skip the ud2: a fault's saved EIP is the faulting instruction */
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_handler(0x80, on_syscall, 0x8F, 3);
    trap_set_handler(6, on_invalid_opcode, 0x8E, 0);
    for (uint32_t i = 0; i < 1000000; i++) {
        __asm__ volatile("int $0x80");
        __asm__ volatile("ud2");
    }
    printf("exception-storm: events %u (int 0x80 %u, #UD %u)\n", syscalls + faults, syscalls, faults);
    return syscalls == 1000000 && faults == 1000000 ? 0 : 1;
}
