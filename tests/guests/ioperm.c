/* Guest test: I/O and interrupt-flag privilege in ring 3 (SDM Vol. 1 19.5 "Protected-Mode I/O",
 * 19.5.2 the I/O permission bit map; Vol. 2 CLI, STI, POPF, IN, INS).
 * With CPL > IOPL, in/out/ins/outs are allowed only for ports whose bits are clear in the
 * TSS's I/O bitmap (every bit of a multi-byte access, a bitmap byte beyond the TSS limit
 * counts as set), else #GP(0) with the saved EIP at the instruction; cli and sti fault; popf
 * silently keeps IF and IOPL. A Linux-like iopl() system call (int 0x80 with EAX = level)
 * raises IOPL in the saved EFLAGS, after which ring 3 may do all of it. */
#include "kernel.h"

/* The kernel's TSS followed by a bitmap for ports 0-0x3FF and the terminating all-ones byte */
static struct {
    struct tss tss;
    uint8_t map[0x400 / 8];
    uint8_t end;
} __attribute__((packed)) mapped_task;

static volatile uint32_t gp_count, gp_error, gp_eip, resume_eip, attempt_eip;

static void on_general_protection(struct trap_frame *f)
{
    gp_count++;
    gp_error = f->error_code;
    gp_eip = f->eip;
    f->eip = resume_eip; /* skip the refused instruction */
}

static void on_iopl_call(struct trap_frame *f)
{
    f->eflags = (f->eflags & ~0x3000u) | ((f->eax & 3) << 12);
}

/* What one attempt in ring 3 did: faulted with #GP(0) at the instruction, or ran. */
enum outcome { RAN, GP_AT_INSN, GP_ELSEWHERE };
static enum outcome outcomes[16];
static uint32_t flags_seen[4];

/* setup runs first; insn is the one instruction that may fault */
#define ATTEMPT(slot, setup, insn, ...)                                                          \
    do {                                                                                         \
        uint32_t before_ = gp_count;                                                             \
        __asm__ volatile("movl $2f, %0\n movl $1f, %1\n" setup "\n2: " insn "\n1:"             \
                         : "=m"(attempt_eip), "=m"(resume_eip)__VA_ARGS__);                       \
        outcomes[slot] = gp_count == before_ ? RAN                                               \
                         : (gp_error == 0 && gp_eip == attempt_eip) ? GP_AT_INSN : GP_ELSEWHERE; \
    } while (0)

static uint32_t read_flags(void)
{
    uint32_t f;
    __asm__ volatile("pushf\n pop %0" : "=r"(f));
    return f;
}

static void set_iopl(uint32_t level) { __asm__ volatile("int $0x80" : : "a"(level) : "memory"); }

static uint8_t string_buffer[4];

static void without_bitmap(uint32_t arg)
{
    (void)arg;
    ATTEMPT(0, "", "inb $0x80, %%al", : : "eax", "memory");
    ATTEMPT(1, "", "cli", : : "memory");
    /* popf may neither clear IF nor raise IOPL here: no fault, both kept */
    __asm__ volatile("pushf\n andl $~0x200, (%%esp)\n orl $0x3000, (%%esp)\n popf" ::: "cc");
    flags_seen[0] = read_flags();
    set_iopl(3);
    ATTEMPT(2, "", "inb $0x80, %%al", : : "eax", "memory");
    ATTEMPT(3, "", "cli", : : "memory");
    flags_seen[1] = read_flags();
    ATTEMPT(4, "", "sti", : : "memory");
    flags_seen[2] = read_flags();
    set_iopl(0);
    user_return();
}

static void with_bitmap(uint32_t arg)
{
    (void)arg;
    ATTEMPT(5, "", "inb $0x80, %%al", : : "eax", "memory");              /* bit clear */
    ATTEMPT(6, "", "inb $0x81, %%al", : : "eax", "memory");              /* bit set */
    ATTEMPT(7, "", "inw $0x80, %%ax", : : "eax", "memory");              /* 0x80 clear, 0x81 set */
    ATTEMPT(8, "", "inl $0x84, %%eax", : : "eax", "memory");             /* 0x84-0x87 clear */
    ATTEMPT(9, "movw $0x8000, %%dx", "inb %%dx, %%al", : : "eax", "edx", "memory"); /* beyond */
    ATTEMPT(10, "movl %2, %%edi\n movl $1, %%ecx\n movw $0x81, %%dx", "rep insb",
            : "r"(string_buffer) : "ecx", "edx", "edi", "memory");
    ATTEMPT(11, "movl %2, %%esi\n movl $1, %%ecx\n movw $0x80, %%dx", "rep outsb",
            : "r"(string_buffer) : "ecx", "edx", "esi", "memory");
    ATTEMPT(12, "", "cli", : : "memory");                                /* the bitmap is not IOPL */
    user_return();
}

/* Point the TSS descriptor (GDT entry 5) at mapped_task and reload TR. */
static void use_mapped_task(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    uint8_t *d = (uint8_t *)gdtr.base + TSS_SELECTOR;
    uint32_t base = (uint32_t)&mapped_task, limit = sizeof(mapped_task) - 1;
    d[0] = (uint8_t)limit;
    d[1] = (uint8_t)(limit >> 8);
    d[2] = (uint8_t)base;
    d[3] = (uint8_t)(base >> 8);
    d[4] = (uint8_t)(base >> 16);
    d[5] = 0x89; /* present, 32-bit TSS, available (ltr sets busy) */
    d[6] = 0;
    d[7] = (uint8_t)(base >> 24);
    mapped_task.tss = *kernel_task();
    mapped_task.tss.iomap_base = (uint16_t)__builtin_offsetof(__typeof__(mapped_task), map);
    memset(mapped_task.map, 0xFF, sizeof(mapped_task.map));
    mapped_task.map[0x80 / 8] = (uint8_t)~0x01u & (uint8_t)~0xF0u; /* 0x80 and 0x84-0x87 */
    mapped_task.end = 0xFF;
    __asm__ volatile("ltr %w0" : : "r"(TSS_SELECTOR) : "memory");
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    tap_plan(17);
    trap_set_handler(13, on_general_protection, 0x8E, 0);
    trap_set_handler(0x80, on_iopl_call, 0x8E, 3);

    run_in_user_mode(without_bitmap, 0);
    is_u32(outcomes[0], GP_AT_INSN, "IOPL 0, no bitmap: inb from ring 3 is #GP(0) at the inb");
    is_u32(outcomes[1], GP_AT_INSN, "IOPL 0: cli from ring 3 is #GP(0)");
    is_u32(flags_seen[0] & 0x200, 0x200, "popf from ring 3 cannot clear IF (no fault)");
    is_u32(flags_seen[0] & 0x3000, 0, "popf from ring 3 cannot raise IOPL");
    is_u32(outcomes[2], RAN, "after iopl(3): inb from ring 3 runs");
    is_u32(outcomes[3], RAN, "after iopl(3): cli runs");
    is_u32(flags_seen[1] & 0x200, 0, "and cleared IF");
    is_u32(flags_seen[2] & 0x200, 0x200, "sti set it again");

    use_mapped_task();
    run_in_user_mode(with_bitmap, 0);
    is_u32(outcomes[5], RAN, "bitmap: port 0x80 allowed");
    is_u32(outcomes[6], GP_AT_INSN, "bitmap: port 0x81 refused with #GP(0)");
    is_u32(outcomes[7], GP_AT_INSN, "bitmap: a word at 0x80 needs 0x81 too");
    is_u32(outcomes[8], RAN, "bitmap: a doubleword at 0x84-0x87 allowed");
    is_u32(outcomes[9], GP_AT_INSN, "bitmap: port 0x8000, beyond the TSS limit, refused");
    is_u32(outcomes[10], GP_AT_INSN, "bitmap: rep insb from 0x81 refused");
    is_u32(outcomes[11], RAN, "bitmap: rep outsb to 0x80 allowed");
    is_u32(outcomes[12], GP_AT_INSN, "the bitmap grants ports, not cli");
    uint32_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    is_u32(tr, TSS_SELECTOR, "str: the task register");
    tap_done();
}
