/* Guest test: SMEP and SMAP (SDM Vol. 3 4.6.1; CR4 bits 20 and 21; CPUID.7:EBX bits 7 and 20).
 * With CR4.SMEP the kernel may not execute from a user page: #PF with P and I/D, CR2 = EIP =
 * the target. With CR4.SMAP the kernel's data accesses to a user page fault (P, and W for a
 * write) unless EFLAGS.AC is set, which stac and clac control (ring 0 only: #UD at CPL 3);
 * without the bits the same accesses run. QEMU (-cpu max) agrees. */
#include "kernel.h"

#define USER_PAGE 0x40000000u
static uint32_t directory[1024] __attribute__((aligned(4096)));
static uint32_t user_table[1024] __attribute__((aligned(4096)));
static uint8_t user_frame[4096] __attribute__((aligned(4096)));

static volatile uint32_t pf_count, pf_error, pf_cr2, pf_eip, resume_eip, ud_count;

static void on_page_fault(struct trap_frame *f)
{
    pf_count++;
    pf_error = f->error_code;
    pf_cr2 = read_cr2();
    pf_eip = f->eip;
    f->eip = resume_eip;
}
static void on_invalid_opcode(struct trap_frame *f)
{
    ud_count++;
    f->eip += 3; /* clac / stac */
}

static uint32_t read_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static void write_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

/* one access that may fault; the handler resumes after it */
static uint32_t faults_of_read(void)
{
    uint32_t before = pf_count, v;
    __asm__ volatile("movl $1f, %1\n movl (%2), %0\n 1:"
                     : "=&r"(v), "=m"(resume_eip) : "r"(USER_PAGE + 8) : "memory");
    return pf_count - before;
}
static uint32_t faults_of_write(void)
{
    uint32_t before = pf_count;
    __asm__ volatile("movl $1f, %0\n movl $7, (%1)\n 1:"
                     : "=m"(resume_eip) : "r"(USER_PAGE + 12) : "memory");
    return pf_count - before;
}
static uint32_t faults_of_call(void)
{
    uint32_t before = pf_count;
    __asm__ volatile("movl $1f, %0\n movl %1, %%eax\n jmp *%%eax\n 1:"
                     : "=m"(resume_eip) : "r"(USER_PAGE) : "eax", "memory");
    return pf_count - before;
}

static void user_program(uint32_t arg)
{
    (void)arg;
    __asm__ volatile("stac" ::: "memory"); /* CPL 3: #UD */
    user_return();
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(13);
    trap_set_handler(14, on_page_fault, 0x8E, 0);
    trap_set_handler(6, on_invalid_opcode, 0x8E, 0);
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    ok((b & (1u << 7)) && (b & (1u << 20)), "CPUID.7:EBX: SMEP and SMAP");

    /* the kernel's 0-4 MiB are supervisor (its code on a user page would fault under SMEP);
     * one 4 KiB user page holds a jmp back */
    directory[0] = 0x00000083u;
    directory[USER_PAGE >> 22] = (uint32_t)user_table | 0x7;
    user_table[0] = (uint32_t)user_frame | 0x7;
    user_frame[0] = 0xFF;                                   /* jmp *resume_eip */
    user_frame[1] = 0x25;
    uint32_t resume_address = (uint32_t)&resume_eip;
    memcpy(user_frame + 2, &resume_address, 4);
    __asm__ volatile("mov %0, %%cr3\n"
                     "mov %%cr4, %%eax\n or $0x10, %%eax\n mov %%eax, %%cr4\n"
                     "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0"
                     : : "r"(directory) : "eax", "memory");

    ok(faults_of_call() == 0 && faults_of_read() == 0 && faults_of_write() == 0,
       "without SMEP and SMAP the kernel runs, reads and writes on the user page");

    write_cr4(read_cr4() | (1u << 20)); /* SMEP */
    ok(faults_of_call() == 1, "SMEP: a jump to the user page faults");
    ok(pf_error == 0x11 && pf_cr2 == USER_PAGE && pf_eip == USER_PAGE,
       "with error 0x11 (P, I/D), CR2 = saved EIP = the target (error 0x%x)", pf_error);
    is_u32(faults_of_read(), 0, "SMEP alone: data reads still run");
    write_cr4(read_cr4() & ~(1u << 20));

    write_cr4(read_cr4() | (1u << 21)); /* SMAP */
    ok(faults_of_read() == 1 && pf_error == 0x1 && pf_cr2 == USER_PAGE + 8,
       "SMAP: a read of the user page is #PF(P) (error 0x%x)", pf_error);
    ok(faults_of_write() == 1 && pf_error == 0x3 && pf_cr2 == USER_PAGE + 12,
       "a write is #PF(P, W) (error 0x%x)", pf_error);
    __asm__ volatile("stac" ::: "memory");
    ok(faults_of_read() == 0 && faults_of_write() == 0, "after stac (AC = 1) both run");
    ok(read_eflags() & 0x40000u, "stac set EFLAGS.AC");
    __asm__ volatile("clac" ::: "memory");
    is_u32(faults_of_read(), 1, "after clac the read faults again");
    is_u32(faults_of_call(), 0, "SMAP alone: the jump to the user page runs");
    write_cr4(read_cr4() & ~(1u << 21));

    /* ring 3 needs its code and stack on user pages: open 0-4 MiB to it for this part */
    directory[0] = 0x00000087u;
    __asm__ volatile("mov %0, %%cr3" : : "r"(directory) : "memory");
    run_in_user_mode(user_program, 0);
    is_u32(ud_count, 1, "stac at CPL 3 is #UD");
    is_u32(pf_count, 4, "four page faults in all");
    tap_done();
}
