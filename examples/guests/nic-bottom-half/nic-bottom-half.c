/* nic-bottom-half: "a network card generates an interrupt to signal that a packet has arrived",
 * handled the way Linux handles it, in a small kernel with the same shape:
 *
 *   critical   the entry stub saves the registers with interrupts off, do_irq finds the IRQ
 *              and acknowledges the local APIC;
 *   immediate  the e1000 handler reads ICR (which acknowledges the NIC) and raises NET_RX;
 *   deferred   on IRQ exit, with IF = 1, the softirqs run: NET_RX takes the frames off the
 *              receive ring and answers each with a transmitted reply, then schedules a
 *              tasklet (statistics) and queues work; at most MAX_RESTART rounds, the rest goes
 *              to ksoftirqd, a kernel thread; the work items run in kworker, another kernel
 *              thread. The threads share the core under a round-robin scheduler driven by the
 *              local APIC timer.
 *
 * Each phase is named on the phase marker port, so x86irq-run --stats and --perfetto show the
 * same phases from outside that the guest measures from inside with rdtsc.
 * Run it with traffic: x86irq-run --nic-traffic=20000,64,40 nic-bottom-half.elf [-- itr]
 * ("itr" sets interrupt throttling: fewer interrupts, more frames each, higher latency); any
 * rate, size and count: it answers frames until they stop coming (5 ms without one), and the
 * NIC's statistics say which frames it could not take. */
#include "kernel.h"

#define NIC_MMIO 0xFEB00000u
#define RING 16
#define FIRST_FRAME_WAIT 20000000ull /* 20 ms: traffic that is coming has begun by then */
#define QUIET 5000000ull             /* 5 ms without a frame: the traffic is over */
#define MAX_RESTART 2
#define TICK 200000u       /* scheduler tick, cycles */

enum phase { PROCESS, CRITICAL, IMMEDIATE, SOFTIRQ, TASKLET, WORKQUEUE };
static volatile int phase_now;
static void enter_phase(int p) { phase_now = p; outb(0xFE0, (uint8_t)p); }

/* ------------------------------------------------------------------ hardware access */

static uint32_t config_read(unsigned device, unsigned offset)
{
    outl(0xCF8, 0x80000000u | (device << 11) | (offset & 0xFC));
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)0xCFC));
    return v;
}
static void config_write(unsigned device, unsigned offset, uint32_t value)
{
    outl(0xCF8, 0x80000000u | (device << 11) | (offset & 0xFC));
    outl(0xCFC, value);
}
static uint32_t nic_read(uint32_t reg)
{
    __asm__ volatile("" ::: "memory");
    return *(volatile uint32_t *)(NIC_MMIO + reg);
}
static void nic_write(uint32_t reg, uint32_t v)
{
    __asm__ volatile("" ::: "memory"); /* descriptors before doorbells (wmb) */
    *(volatile uint32_t *)(NIC_MMIO + reg) = v;
}
static void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(0xFEE00000u + reg) = v; }
static void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)0xFEC00000u = reg;
    *(volatile uint32_t *)0xFEC00010u = v;
}

/* ------------------------------------------------------------------ threads and scheduler */

struct thread {
    const char *name;
    uint32_t esp;            /* saved stack pointer while not running */
    volatile int runnable;
    uint8_t stack[8192] __attribute__((aligned(16)));
};
static struct thread threads[3]; /* 0: the boot thread (idle), 1: ksoftirqd, 2: kworker */
static int current;
static volatile uint32_t context_switches;

/* switch_to: save callee-saved registers and ESP, load the next thread's */
void switch_to(uint32_t *save_esp, uint32_t next_esp);
__asm__(".text\n"
        "switch_to:\n"
        "  mov 4(%esp), %eax\n  mov 8(%esp), %edx\n"
        "  push %ebp\n  push %ebx\n  push %esi\n  push %edi\n"
        "  mov %esp, (%eax)\n"
        "  mov %edx, %esp\n"
        "  pop %edi\n  pop %esi\n  pop %ebx\n  pop %ebp\n"
        "  ret\n"
        "thread_start:\n"               /* a new thread begins with interrupts on */
        "  sti\n"
        "  call *%ebx\n"
        "1: hlt\n  jmp 1b\n");
extern char thread_start[];

static void thread_create(int i, const char *name, void (*fn)(void))
{
    struct thread *t = &threads[i];
    t->name = name;
    uint32_t *sp = (uint32_t *)(t->stack + sizeof(t->stack));
    *--sp = (uint32_t)thread_start;    /* switch_to's ret */
    *--sp = 0;                          /* ebp */
    *--sp = (uint32_t)fn;               /* ebx: the function thread_start calls */
    *--sp = 0;                          /* esi */
    *--sp = 0;                          /* edi */
    t->esp = (uint32_t)sp;
    t->runnable = 0;
}

/* round robin among the runnable threads; the boot thread (idle) is always runnable */
static void schedule(void)
{
    int next = current;
    for (int i = 1; i <= 3; i++) {
        int candidate = (current + i) % 3;
        if (candidate == 0 || threads[candidate].runnable) {
            next = candidate;
            break;
        }
    }
    if (next == current)
        return;
    int previous = current;
    current = next;
    context_switches++;
    /* the thread marker port: what is in service belongs to a thread, and this switch may
     * happen inside an interrupt handler (the tick), whose IRET then comes in another thread */
    outl(0xFE4, (uint32_t)next);
    switch_to(&threads[previous].esp, threads[next].esp);
}

/* ------------------------------------------------------------------ deferred work */

#define NET_RX_SOFTIRQ 0
#define TASKLET_SOFTIRQ 1
static volatile uint32_t softirq_pending;
static volatile int in_softirq;
static volatile int tasklet_scheduled;
static volatile uint32_t work_queued, work_done, ksoftirqd_rounds, deferred_to_thread;

static volatile uint64_t irq_entry_tsc;
static uint64_t latency_sum[6];
static uint32_t latency_count[6];
static void note_latency(int p)
{
    latency_sum[p] += rdtsc() - irq_entry_tsc;
    latency_count[p]++;
}

/* ------------------------------------------------------------------ the driver */

struct rx_descriptor { uint64_t address; uint16_t length, checksum; uint8_t status, errors; uint16_t special; } __attribute__((packed));
struct tx_descriptor { uint64_t address; uint16_t length; uint8_t cso, cmd, status, css; uint16_t special; } __attribute__((packed));
static struct rx_descriptor rx_ring[RING] __attribute__((aligned(128)));
static struct tx_descriptor tx_ring[RING] __attribute__((aligned(128)));
static uint8_t rx_buffers[RING][2048] __attribute__((aligned(16)));
static uint8_t tx_buffers[RING][64] __attribute__((aligned(16)));
static unsigned rx_next, tx_next;
static uint8_t mac[6];
static volatile uint32_t received, replied, interrupts, tasklet_frames;
static volatile uint64_t last_frame_tsc; /* when NET_RX took the latest frame */
static uint64_t frame_latency_sum, frame_latency_max;

/* NET_RX: take frames off the ring (at most a budget per round) and answer each */
static int net_rx_action(void)
{
    volatile struct rx_descriptor *ring = rx_ring;
    int budget = 4;
    while (budget && (ring[rx_next].status & 0x1)) {
        const uint8_t *frame = rx_buffers[rx_next];
        uint64_t arrived = 0; /* x86irq-run's generator writes the arrival cycle here */
        for (unsigned i = 0; i < 8; i++)
            arrived = arrived << 8 | frame[18 + i];
        uint64_t now = rdtsc();
        if (arrived && arrived <= now) {
            frame_latency_sum += now - arrived;
            frame_latency_max = now - arrived > frame_latency_max ? now - arrived : frame_latency_max;
        }
        uint8_t *reply = tx_buffers[tx_next];
        memcpy(reply, frame + 6, 6);             /* back to the sender */
        memcpy(reply + 6, mac, 6);
        memcpy(reply + 12, frame + 12, 6);       /* EtherType and the sequence number */
        tx_ring[tx_next] = (struct tx_descriptor){ .address = (uint32_t)reply, .length = 64,
                                                   .cmd = 0x1 | 0x2 | 0x8 };
        tx_next = (tx_next + 1) % RING;
        nic_write(0x3818, tx_next);              /* TDT: send it */
        ring[rx_next].status = 0;
        nic_write(0x2818, rx_next);              /* RDT: the descriptor back to the NIC */
        rx_next = (rx_next + 1) % RING;
        received++;
        last_frame_tsc = now;
        replied++;
        budget--;
    }
    return (ring[rx_next].status & 0x1) != 0;   /* more waiting */
}

static void do_softirqs(void)
{
    int restarts = 0;
    in_softirq = 1;
    enter_phase(SOFTIRQ);
    note_latency(SOFTIRQ);
    __asm__ volatile("sti");
    while (softirq_pending) {
        uint32_t pending = softirq_pending;
        softirq_pending = 0;
        if (pending & (1u << NET_RX_SOFTIRQ)) {
            if (net_rx_action())
                softirq_pending |= 1u << NET_RX_SOFTIRQ;
            tasklet_scheduled = 1;
            softirq_pending |= 1u << TASKLET_SOFTIRQ;
        }
        if ((pending & (1u << TASKLET_SOFTIRQ)) && tasklet_scheduled) {
            tasklet_scheduled = 0;
            enter_phase(TASKLET);
            note_latency(TASKLET);
            tasklet_frames = received;           /* "statistics" */
            work_queued++;
            threads[2].runnable = 1;             /* queue_work: wake kworker */
            enter_phase(SOFTIRQ);
        }
        if (softirq_pending && ++restarts >= MAX_RESTART) {
            deferred_to_thread++;
            threads[1].runnable = 1;             /* too much: ksoftirqd takes over */
            break;
        }
    }
    __asm__ volatile("cli");
    in_softirq = 0;
}

static void e1000_interrupt(void)
{
    enter_phase(IMMEDIATE);
    note_latency(IMMEDIATE);
    uint32_t cause = nic_read(0x00C0);           /* ICR: read clears, INTA drops */
    if (cause & 0x80)
        softirq_pending |= 1u << NET_RX_SOFTIRQ;
}

/* the generic entry: both the NIC (0x50) and the scheduler tick (0x40) come here */
static void do_irq(struct trap_frame *f)
{
    int interrupted = phase_now;
    irq_entry_tsc = rdtsc();
    enter_phase(CRITICAL);
    note_latency(CRITICAL);
    if (f->vector == 0x50) {
        /* the NIC's line is level-triggered: end the interrupt only once the device has been
         * acknowledged (Linux's "fasteoi" flow); an EOI before the ICR read would let the
         * IOAPIC deliver the still-asserted line a second time */
        interrupts++;
        e1000_interrupt();
        enter_phase(CRITICAL);
        lapic_write(0xB0, 0);
    } else {
        lapic_write(0xB0, 0);                    /* the tick is edge-triggered: EOI at once */
    }
    if (!in_softirq && softirq_pending)          /* irq_exit */
        do_softirqs();
    enter_phase(interrupted);
    if (f->vector == 0x40 && !in_softirq)        /* the tick: time to share the core */
        schedule();
}

static void ksoftirqd(void)
{
    for (;;) {
        enter_phase(SOFTIRQ);
        ksoftirqd_rounds++;
        __asm__ volatile("cli");
        if (!in_softirq)
            do_softirqs();
        threads[1].runnable = softirq_pending != 0;
        enter_phase(PROCESS);
        __asm__ volatile("sti\n hlt");           /* until the next tick reschedules */
    }
}

static void kworker(void)
{
    for (;;) {
        while (work_done < work_queued) {
            enter_phase(WORKQUEUE);
            note_latency(WORKQUEUE);
            work_done++;                         /* process context: could sleep, allocate */
            enter_phase(PROCESS);
        }
        threads[2].runnable = 0;
        __asm__ volatile("sti\n hlt");
    }
}

int kmain(uint32_t magic, const struct multiboot_info *info)
{
    (void)magic;
    kernel_init();
    int itr = (info->flags & MB_INFO_CMDLINE) && strstr((const char *)info->cmdline, " itr");
    if (config_read(3, 0) != 0x100E8086u) {
        printf("nic-bottom-half: no e1000 at 00:03.0\n");
        return 1;
    }
    config_write(3, 0x10, NIC_MMIO);
    config_write(3, 0x04, 0x0006);
    for (unsigned w = 0; w < 3; w++) {
        nic_write(0x0014, 1 | (w << 8));         /* EERD */
        uint32_t v;
        while (!((v = nic_read(0x0014)) & 0x10))
            ;
        mac[2 * w] = (uint8_t)(v >> 16);
        mac[2 * w + 1] = (uint8_t)(v >> 24);
    }
    thread_create(1, "ksoftirqd", ksoftirqd);
    thread_create(2, "kworker", kworker);
    threads[0].name = "idle";
    trap_set_handler(0x40, do_irq, 0x8E, 0);
    trap_set_handler(0x50, do_irq, 0x8E, 0);
    ioapic_write(0x10 + 2 * 11 + 1, 0);
    ioapic_write(0x10 + 2 * 11, 0xA050);         /* the NIC's INTA#: level, active low, vector 0x50 */
    for (unsigned i = 0; i < RING; i++)
        rx_ring[i] = (struct rx_descriptor){ .address = (uint32_t)rx_buffers[i] };
    nic_write(0x2800, (uint32_t)rx_ring);
    nic_write(0x2808, sizeof(rx_ring));
    nic_write(0x2818, RING - 1);
    nic_write(0x3800, (uint32_t)tx_ring);
    nic_write(0x3808, sizeof(tx_ring));
    nic_write(0x0400, 0x2);                      /* TCTL.EN */
    if (itr)
        nic_write(0x00C4, 2000);                 /* ITR: at most one interrupt per 512 us */
    nic_write(0x00D0, 0x80);                     /* IMS: RXT0 */
    nic_write(0x0100, 0x2 | 0x8000 | 0x04000000); /* RCTL: EN, BAM, SECRC */
    lapic_write(0xF0, 0x1FF);
    lapic_write(0x3E0, 0xB);
    lapic_write(0x320, 0x20040);                 /* the scheduler tick */
    lapic_write(0x380, TICK);
    printf("nic-bottom-half: %02x:%02x:%02x:%02x:%02x:%02x up, %s\n", mac[0], mac[1], mac[2],
           mac[3], mac[4], mac[5], itr ? "ITR 512 us" : "no interrupt throttling");
    enter_phase(PROCESS);
    __asm__ volatile("sti");
    uint64_t start = rdtsc();
    for (;;) {
        __asm__ volatile("hlt");                 /* the idle thread: a tick or a frame wakes it */
        uint64_t now = rdtsc();
        if (!received && now - start > FIRST_FRAME_WAIT)
            break;
        if (received && replied == received && work_done == work_queued &&
            now - last_frame_tsc > QUIET)
            break;                               /* the traffic is over, and all its work */
    }
    __asm__ volatile("cli");
    lapic_write(0x380, 0);
    if (!received) {
        printf("nic-bottom-half: no frame arrived in 20 ms: give the NIC traffic, as in\n"
               "  x86irq-run --nic-traffic=20000,64,40 nic-bottom-half.elf\n"
               "  (20000 frames a second of guest time, 64 bytes each, 40 of them)\n");
        return 2;
    }
    /* the NIC's own counts (read-clear, 82540EM 13.7): what it took and what it could not */
    uint32_t good = nic_read(0x4074), missed = nic_read(0x4010);
    printf("nic-bottom-half: %u frames received and answered in %u interrupts (%u.%u frames "
           "per interrupt)\n", received, interrupts, interrupts ? received / interrupts : 0,
           interrupts ? (10 * received / interrupts) % 10 : 0);
    printf("nic-bottom-half: a frame waited on average %u cycles (at most %u) from its arrival "
           "to NET_RX\n", received ? (uint32_t)(frame_latency_sum / received) : 0,
           (uint32_t)frame_latency_max);
    printf("nic-bottom-half: softirq work went to ksoftirqd %u times (%u rounds there); %u work "
           "items in kworker; %u context switches\n", deferred_to_thread, ksoftirqd_rounds,
           work_done, context_switches);
    static const char *const names[6] = { "", "critical", "immediate", "softirq", "tasklet",
                                          "workqueue" };
    for (int p = CRITICAL; p <= WORKQUEUE; p++)
        if (latency_count[p])
            printf("  %s: entered %u times, on average %u cycles after the latest interrupt's entry\n",
                   names[p], latency_count[p], (uint32_t)(latency_sum[p] / latency_count[p]));
    printf("nic-bottom-half: the NIC took %u good frames (GPRC)", good);
    if (missed)
        printf("; %u more found its receive ring full (MPC): they came faster than NET_RX gave "
               "the %u descriptors back, and a real NIC drops them too", missed, RING);
    printf("\n");
    return replied == received && work_done == work_queued ? 0 : 1;
}
