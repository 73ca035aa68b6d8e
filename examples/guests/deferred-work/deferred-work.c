/* deferred-work: Linux's three phases of interrupt handling on a device interrupt, in a small
 * kernel that does what Linux does (the seed notes' vocabulary):
 *
 *   critical   the generic entry: which vector, which handler, acknowledge the interrupt
 *              controller; IF = 0.
 *   immediate  the device driver's handler: read the device, then defer the rest: raise a
 *              softirq, schedule a tasklet, queue a work item. IF = 0 still.
 *   deferred   on the way out (irq_exit), with IF = 1 again: the pending softirqs run, among
 *              them the tasklet softirq that runs the tasklets, all in interrupt context (no
 *              process, no sleeping); the work items run later in process context, in a
 *              kernel thread (here: the main loop), where sleeping is allowed.
 *
 * The "device" is the local APIC timer ticking every 200000 cycles. Every fourth softirq takes
 * longer than a tick, so the next interrupt arrives while it runs with IF = 1: the interrupt
 * preempts the softirq (allowed), runs its critical and immediate phases, and returns without
 * running softirqs again (they do not nest). The kernel names each phase on the phase marker
 * port (0xFE0): x86irq-run --stats shows the cycles spent in each, --perfetto draws them on a
 * track of their own, and --check-nesting accepts the nested interrupt because it came during
 * a softirq. */
#include "kernel.h"

#define LAPIC_BASE 0xFEE00000u
#define PERIOD 200000u
#define TICKS 12u

enum phase { PROCESS, CRITICAL, IMMEDIATE, SOFTIRQ, TASKLET, WORKQUEUE };
static volatile int current_phase;
static void enter_phase(int p)
{
    current_phase = p;
    outb(0xFE0, (uint8_t)p); /* the phase marker port */
}
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }
static inline uint32_t eflags_now(void) { return read_eflags(); }

/* ------------------------------------------------------------------ deferred-work machinery */

#define SAMPLE_SOFTIRQ 0
#define TASKLET_SOFTIRQ 1
static volatile uint32_t softirq_pending;
static volatile int in_softirq;

struct tasklet { void (*fn)(void); volatile int scheduled; };
struct work { void (*fn)(uint32_t); uint32_t arg; volatile int queued; };

static void raise_softirq(unsigned nr) { softirq_pending |= 1u << nr; }
static void tasklet_schedule(struct tasklet *t)
{
    t->scheduled = 1;
    raise_softirq(TASKLET_SOFTIRQ);
}
#define WORK_QUEUE 16
static struct work queue[WORK_QUEUE];
static volatile unsigned queue_head, queue_tail;
static void queue_work(void (*fn)(uint32_t), uint32_t arg)
{
    if (queue_tail - queue_head < WORK_QUEUE)
        queue[queue_tail++ % WORK_QUEUE] = (struct work){ fn, arg, 1 };
}

/* ------------------------------------------------------------------ the "driver" */

static volatile uint32_t samples_read, samples_processed, nested_in_softirq, tasklet_runs;
static volatile uint32_t if_in_immediate = 1, if_in_softirq = 0, work_runs;
static struct tasklet log_tasklet;

static void log_tasklet_fn(void)
{
    tasklet_runs++;
}

static void print_work(uint32_t n)
{
    /* process context: a kernel thread may print, allocate, sleep */
    printf("  work item (process context, IF = %u): sample %u processed\n",
           (eflags_now() >> 9) & 1, n);
    work_runs++;
}

static void device_handler(void)
{
    enter_phase(IMMEDIATE);
    if_in_immediate &= ((eflags_now() >> 9) & 1) == 0;
    samples_read++;                         /* "read the device": quick, IF = 0 */
    raise_softirq(SAMPLE_SOFTIRQ);          /* the bulk of the work: later */
    tasklet_schedule(&log_tasklet);
    queue_work(print_work, samples_read);
}

static void run_softirqs(void)
{
    in_softirq = 1;
    enter_phase(SOFTIRQ);
    __asm__ volatile("sti");                /* deferred: interrupts are enabled again */
    if_in_softirq = (eflags_now() >> 9) & 1;
    while (softirq_pending) {
        uint32_t pending = softirq_pending;
        softirq_pending = 0;
        if (pending & (1u << SAMPLE_SOFTIRQ)) {
            samples_processed++;
            /* every fourth one is slow: longer than a tick, so an interrupt arrives now */
            uint32_t budget = samples_processed % 4 == 0 ? PERIOD + PERIOD / 2 : PERIOD / 10;
            uint64_t start = rdtsc();
            while (rdtsc() - start < budget)
                ;
        }
        if (pending & (1u << TASKLET_SOFTIRQ) && log_tasklet.scheduled) {
            log_tasklet.scheduled = 0;
            enter_phase(TASKLET);
            log_tasklet.fn();
            enter_phase(SOFTIRQ);
        }
    }
    __asm__ volatile("cli");
    in_softirq = 0;
}

/* the generic interrupt entry, as do_IRQ / irq_exit */
static void do_irq(struct trap_frame *f)
{
    (void)f;
    int interrupted = current_phase;
    enter_phase(CRITICAL);
    if (in_softirq)
        nested_in_softirq++;
    lapic_write(0xB0, 0);                   /* acknowledge the controller (EOI, edge) */
    device_handler();
    enter_phase(CRITICAL);
    if (!in_softirq && softirq_pending)     /* irq_exit: softirqs, unless they are running */
        run_softirqs();
    enter_phase(interrupted);
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    (void)info;
    kernel_init();
    log_tasklet.fn = log_tasklet_fn;
    trap_set_handler(0x40, do_irq, 0x8E, 0);
    printf("deferred-work: a device interrupt every %u cycles (the local APIC timer)\n", PERIOD);
    lapic_write(0xF0, 0x1FF);
    lapic_write(0x3E0, 0xB);
    lapic_write(0x320, 0x20040);
    lapic_write(0x380, PERIOD);
    enter_phase(PROCESS);
    __asm__ volatile("sti");
    /* the kernel thread that runs work items (a workqueue worker), idle in HLT otherwise */
    while (samples_read < TICKS || queue_head != queue_tail) {
        if (queue_head == queue_tail) {
            __asm__ volatile("hlt");
            continue;
        }
        struct work w = queue[queue_head % WORK_QUEUE];
        queue_head++;
        enter_phase(WORKQUEUE);
        w.fn(w.arg);
        enter_phase(PROCESS);
        if (samples_read >= TICKS)
            lapic_write(0x380, 0);          /* enough: stop the device */
    }
    __asm__ volatile("cli");
    lapic_write(0x380, 0);
    printf("deferred-work: %u interrupts; critical and immediate phases ran with IF = 0: %s\n",
           samples_read, if_in_immediate ? "yes" : "NO");
    printf("deferred-work: %u softirq rounds with IF = %u, %u tasklet runs (interrupt context)\n",
           samples_processed, if_in_softirq, tasklet_runs);
    printf("deferred-work: %u interrupts arrived while a softirq ran and preempted it\n",
           nested_in_softirq);
    printf("deferred-work: %u work items ran in process context\n", work_runs);
    return if_in_immediate && if_in_softirq && nested_in_softirq > 0 && work_runs == samples_read
               ? 0 : 1;
}
