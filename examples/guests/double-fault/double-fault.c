/* double-fault: a fault while delivering a fault. A kernel stack overflows into an unmapped
 * guard page: the push faults (#PF), and delivering that #PF must push a frame on the same
 * stack, which faults again. Page fault + page fault is a double fault (SDM Vol. 3 6.15,
 * Table 6-5): #DF, an ABORT, not restartable. Its gate is a task gate, so the processor
 * switches to a separate task with a stack of its own, the way 32-bit Linux handles #DF.
 * Then the #DF task makes a deliberate triple fault: with an empty IDT nothing can be
 * delivered, and a fault while delivering #DF shuts the processor down. The run ends there;
 * x86irq-run reports the chain of events and exits with status 125. */
#include "kernel.h"

#define STACK_REGION 0x40000000u  /* page 0: the guard page (never mapped); pages 1-2: stack */
#define STACK_TOP (STACK_REGION + 3 * 4096u)

static uint32_t page_directory[1024] __attribute__((aligned(4096)));
static uint32_t stack_table[1024] __attribute__((aligned(4096)));
static uint8_t stack_frames[2][4096] __attribute__((aligned(4096)));
static uint8_t double_fault_stack[8192] __attribute__((aligned(16)));
static volatile uint32_t depth, limit = 1000000;

/* each call takes a bit over 256 bytes of stack: 8 KiB overflow after about 30 calls */
uint32_t recurse(uint32_t n);
__attribute__((noinline)) uint32_t recurse(uint32_t n)
{
    volatile uint8_t frame[256];
    frame[0] = (uint8_t)n;
    depth = n;
    if (n >= limit)
        return frame[0];
    return recurse(n + 1) + frame[0];
}

void double_fault_main(uint32_t error_code);
void double_fault_main(uint32_t error_code)
{
    struct tss *kernel = kernel_task(), *task = handler_task();
    uint16_t tr;
    uint32_t eflags;
    __asm__ volatile("str %0\n pushf\n pop %1" : "=r"(tr), "=r"(eflags));
    printf("  #DF task: running; TR = 0x%02x (the handler task), error code %u (always 0)\n", tr,
           error_code);
    printf("  #DF task: EFLAGS.NT = %u and the back-link in our TSS = 0x%02x: this task is\n"
           "            nested in the interrupted one (TSS 0x%02x), as a CALL would nest it\n",
           (eflags >> 14) & 1, task->link, TSS_SELECTOR);
    printf("  #DF task: the interrupted task's state was saved in its TSS: EIP 0x%08x, ESP "
           "0x%08x\n", kernel->eip, kernel->esp);
    printf("  #DF task: CR2 = 0x%08x: the unmapped guard page below the kernel stack, %u calls "
           "deep\n", read_cr2(), depth);
    printf("  #DF task: an abort: the stack is gone, so nothing can be resumed. A normal gate\n"
           "            could not even push a frame; a task gate brings its own stack.\n");
    printf("double-fault: now a deliberate triple fault: an IDT of limit 0, then ud2.\n"
           "  #UD finds no gate: #GP; #GP finds no gate: #GP while delivering #GP is a\n"
           "  double fault; #DF finds no gate: a fault while delivering #DF shuts down.\n");
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) empty = { 0, 0 };
    __asm__ volatile("lidt %0\n ud2" : : "m"(empty));
    printf("double-fault: still running: WRONG\n");
    exit(1);
}

/* The task gate's task starts here with the #DF error code on its stack: the call makes it the
 * C function's argument. */
extern char double_fault_entry[];
__asm__(".text\n"
        "double_fault_entry:\n"
        "  call double_fault_main\n"
        "1: jmp 1b\n");

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    /* the first 4 MiB identity-mapped (one 4 MiB page); a two-page stack with an unmapped
     * guard page below it */
    page_directory[0] = 0x00000083;
    page_directory[STACK_REGION >> 22] = (uint32_t)stack_table | 0x3;
    stack_table[1] = (uint32_t)stack_frames[0] | 0x3;
    stack_table[2] = (uint32_t)stack_frames[1] | 0x3;
    __asm__ volatile("mov %%cr4, %%eax\n or $0x10, %%eax\n mov %%eax, %%cr4\n"
                     "mov %0, %%cr3\n"
                     "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0\n"
                     : : "r"(page_directory) : "eax", "memory");
    trap_set_task(8, (void (*)(void))double_fault_entry,
                  double_fault_stack + sizeof(double_fault_stack));
    printf("double-fault: vector 8 (#DF) is a task gate to TSS 0x%02x.\n",
           HANDLER_TSS_SELECTOR);
    printf("double-fault: recursing on an 8 KiB kernel stack at 0x%08x-0x%08x; the page\n"
           "  below it is a guard page. The overflowing push faults (#PF), and delivering that\n"
           "  #PF pushes onto the same stack: a page fault while delivering a page fault.\n",
           STACK_REGION + 4096, STACK_TOP - 1);
    __asm__ volatile("mov %%esp, %%ebx\n"
                     "mov %0, %%esp\n"
                     "push $1\n"
                     "call recurse\n"
                     "mov %%ebx, %%esp\n"
                     : : "r"(STACK_TOP) : "ebx", "eax", "ecx", "edx", "memory");
    printf("double-fault: the recursion returned: WRONG\n");
    return 1;
}
