/* Benchmark guest: the exception storm in IA-32e mode (examples/guests/lib64), the counterpart
 * of exception-storm.c. int 0x80 through a DPL-3 64-bit trap gate and ud2 faults through an
 * interrupt gate, both handled by lib64's C dispatcher (a 12-byte stub, trap_common saving the
 * 15 general registers, trap_dispatch, the C handler, IRETQ); the #UD handler advances the
 * saved RIP past the ud2. Same counts as the 32-bit storm (a million of each). The guest checks
 * both counts and exits 1 when they are off. bench/run.sh divides the events by host time. */
#include "kernel64.h"

#define ROUNDS 1000000u

static volatile uint64_t syscalls, faults;

static void on_syscall(struct trap_frame *f) { (void)f; syscalls++; }
static void on_invalid_opcode(struct trap_frame *f)
{
    faults++;
    f->rip += 2; /* skip the ud2: a fault's saved RIP is the faulting instruction */
}

int kmain(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_handler(0x80, on_syscall, GATE_TRAP, 3, 0);
    trap_set_handler(6, on_invalid_opcode, GATE_INTERRUPT, 0, 0);
    for (uint32_t i = 0; i < ROUNDS; i++) {
        __asm__ volatile("int $0x80" ::: "memory");
        __asm__ volatile("ud2" ::: "memory");
    }
    printf("exception-storm64: events %lu (int 0x80 %lu, #UD %lu)\n", syscalls + faults,
           syscalls, faults);
    return syscalls == ROUNDS && faults == ROUNDS ? 0 : 1;
}
