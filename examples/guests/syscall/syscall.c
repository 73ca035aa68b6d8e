/* syscall: a ring-3 program calls the kernel with int 0x80 through a DPL-3 trap gate. The
 * processor switches to the ring-0 stack named in the TSS (SS0:ESP0) and pushes the user's
 * SS:ESP; IRET goes back to ring 3. A ring-3 int to a DPL-0 gate gets #GP instead: the gate's
 * DPL check applies to int n. */
#include "kernel.h"

static void sys_call(struct trap_frame *f)
{
    /* eax: call number, ebx: argument */
    if (f->eax == 1) {
        printf("  kernel: write(\"%s\") from ring %u, user ESP 0x%08x, kernel ESP 0x%08x\n",
               (const char *)f->ebx, f->cs & 3, f->user_esp, read_esp());
        f->eax = (uint32_t)strlen((const char *)f->ebx);
    } else {
        f->eax = (uint32_t)-1;
    }
}

static void on_general_protection(struct trap_frame *f)
{
    printf("  kernel: #GP from ring %u, error code 0x%x = IDT entry %u (bit 1 set: the "
           "selector names an IDT gate)\n", f->cs & 3, f->error_code, f->error_code >> 3);
    printf("  kernel: ring 3 may not use a DPL-0 gate; ending the program\n");
    f->eip = (uint32_t)user_return; /* send the program back to the kernel */
}

static long user_write(const char *text)
{
    long n;
    __asm__ volatile("int $0x80" : "=a"(n) : "a"(1), "b"(text) : "memory");
    return n;
}

static void user_program(uint32_t arg)
{
    (void)arg;
    long n = user_write("hello from ring 3");
    user_write(n == 17 ? "the kernel returned the length" : "wrong length");
    __asm__ volatile("int $0x81"); /* a DPL-0 gate: #GP */
    user_write("not reached");
    user_return();
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    trap_set_handler(0x80, sys_call, 0x8F, 3);     /* trap gate, DPL 3: callable from ring 3 */
    trap_set_handler(0x81, sys_call, 0x8E, 0);     /* DPL 0: not for ring 3 */
    trap_set_handler(13, on_general_protection, 0x8E, 0);
    printf("syscall: entering ring 3 (CS 0x1B); the TSS gives the kernel stack\n");
    run_in_user_mode(user_program, 0);
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    printf("syscall: back in ring %u\n", cs & 3);
    return (cs & 3) == 0 ? 0 : 1;
}
