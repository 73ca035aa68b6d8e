/* Guest test: alignment checking (#AC, SDM Vol. 3 6.15 interrupt 17): with CR0.AM set, a ring-3
 * program that sets EFLAGS.AC faults on a misaligned data access with #AC(0), a fault: the
 * handler sees the faulting instruction, clears AC in the saved EFLAGS and the access runs
 * again, now unchecked. Aligned accesses, ring 0 accesses and AC clear never fault. QEMU (TCG)
 * does not implement alignment checking: the expectations are the SDM's. */
#include "kernel.h"

static volatile uint32_t ac_count, ac_error, ac_eip, ac_cs;
static uint8_t buffer[16] __attribute__((aligned(16)));
static volatile uint32_t loaded_aligned, loaded_misaligned, ring0_misaligned;

static void on_alignment_check(struct trap_frame *f)
{
    ac_count++;
    ac_error = f->error_code;
    ac_eip = f->eip;
    ac_cs = f->cs;
    f->eflags &= ~0x40000u; /* clear AC: the access re-executes unchecked */
}

extern char misaligned_load[];

static void user_program(uint32_t arg)
{
    (void)arg;
    __asm__ volatile("pushf\n orl $0x40000, (%%esp)\n popf" ::: "memory"); /* EFLAGS.AC */
    loaded_aligned = *(volatile uint32_t *)(buffer + 4);
    uint32_t v;
    __asm__ volatile("misaligned_load: movl (%1), %0" : "=r"(v) : "r"(buffer + 1) : "memory");
    loaded_misaligned = v;
    user_return();
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(7);
    for (unsigned i = 0; i < sizeof(buffer); i++)
        buffer[i] = (uint8_t)i;
    trap_set_handler(17, on_alignment_check, 0x8E, 0);
    __asm__ volatile("mov %%cr0, %%eax\n or $0x40000, %%eax\n mov %%eax, %%cr0" ::: "eax"); /* AM */
    /* ring 0 with AC set: no check */
    __asm__ volatile("pushf\n orl $0x40000, (%%esp)\n popf" ::: "memory");
    ring0_misaligned = *(volatile uint32_t *)(buffer + 3);
    __asm__ volatile("pushf\n andl $~0x40000, (%%esp)\n popf" ::: "memory");
    is_u32(ac_count, 0, "CPL 0: a misaligned load does not fault");
    run_in_user_mode(user_program, 0);
    is_u32(ac_count, 1, "CPL 3 with AM and AC: one #AC");
    is_u32(ac_error, 0, "#AC pushes error code 0");
    is_u32(ac_eip, (uint32_t)misaligned_load, "#AC is a fault: the saved EIP is the load");
    is_u32(ac_cs, USER_CS, "raised in ring 3");
    is_u32(loaded_misaligned, 0x04030201, "after the handler cleared AC the load ran");
    is_u32(loaded_aligned, 0x07060504, "the aligned load never faulted");
    tap_done();
}
