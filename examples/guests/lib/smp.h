/* A small SMP library for the guests: the CPU count, starting the application processors
 * (APs) by INIT-SIPI-SIPI, per-CPU stacks, barriers, spinlocks, IPIs, and the local APIC's
 * registers. Builds on kernel.c (its GDT and IDT are shared by every CPU: call kernel_init()
 * first); written for the Intel SDM Vol. 3 (8.4 MP initialization, 10 APIC) and the MP
 * specification 1.4 (appendix B.4), so it runs on libx86irq, on QEMU and on hardware.
 *
 * Memory layout:
 *   0x8000 (SMP_TRAMPOLINE, SIPI vector 0x08)  the real-mode trampoline, copied there by
 *            smp_trampoline_install() (any 4 KiB page below 1 MiB works: smp-init uses 0x9000
 *            as well). A SIPI with vector VV starts the AP at VV00:0000 (SDM 8.4.4.1): the
 *            trampoline counts the arrival and writes SMP_TRAMPOLINE_MARK in real mode (into the
 *            page itself), loads its own flat GDT (kept in the page), sets CR0.PE and far-jumps
 *            to 32-bit code in the kernel image. The copy is about 128 bytes; its counters are
 *            at the offsets struct smp_trampoline_state describes (smp_trampoline_state()).
 *   1 MiB+   the guest image (link.ld): the 32-bit AP entry loads kernel_init's GDT and IDT
 *            (as the BSP saved them with sgdt/sidt), takes the next of SMP_STACK_SLOTS stacks
 *            of SMP_STACK_SIZE bytes (smp_stacks, in .bss, by an atomic counter: an AP started
 *            again after INIT takes a fresh one) and calls C.
 * The AP then records what it found (struct smp_ap_info), software-enables its local APIC
 * (SVR = 0x1FF), reports in (lock xadd on a shared counter) and waits until the BSP gives it
 * its CPU number and function; it runs fn(cpu) with IF = 0 and halts (cli; hlt) if fn returns.
 * APs share the IDT and its handlers (trap_set_handler), but load no TSS (kernel.c has one, and
 * its busy bit allows one TR): they stay in ring 0, where no interrupt switches stacks.
 *
 * CPU numbers: the BSP is CPU 0, the APs smp_start_aps() started are 1..N-1 in increasing
 * APIC ID order (on libx86irq and QEMU CPU k has APIC ID k; on hardware IDs may be sparse). */
#ifndef SMP_H
#define SMP_H

#include "kernel.h"

#define SMP_MAX_CPUS 16
#define SMP_TRAMPOLINE 0x8000u
#define SMP_STACK_SIZE 8192u
#define SMP_STACK_SLOTS 32u
#define SMP_TRAMPOLINE_MARK 0xA5u

#define LAPIC_BASE 0xFEE00000u
#define IOAPIC_BASE 0xFEC00000u
/* local APIC registers (SDM Vol. 3 Table 10-1) */
enum {
    LAPIC_ID = 0x20, LAPIC_VERSION = 0x30, LAPIC_TPR = 0x80, LAPIC_APR = 0x90, LAPIC_PPR = 0xA0,
    LAPIC_EOI = 0xB0, LAPIC_LDR = 0xD0, LAPIC_DFR = 0xE0, LAPIC_SVR = 0xF0, LAPIC_ISR = 0x100,
    LAPIC_TMR = 0x180, LAPIC_IRR = 0x200, LAPIC_ESR = 0x280, LAPIC_ICR_LOW = 0x300,
    LAPIC_ICR_HIGH = 0x310, LAPIC_LVT_TIMER = 0x320, LAPIC_LVT_LINT0 = 0x350,
    LAPIC_LVT_LINT1 = 0x360,
};
/* ICR low word fields (SDM Vol. 3 10.6.1, Figure 10-12) */
#define ICR_FIXED 0x000u
#define ICR_LOWEST 0x100u
#define ICR_SMI 0x200u
#define ICR_NMI 0x400u
#define ICR_INIT 0x500u
#define ICR_STARTUP 0x600u
#define ICR_LOGICAL 0x800u     /* destination mode: logical */
#define ICR_BUSY 0x1000u       /* delivery status: send pending */
#define ICR_ASSERT 0x4000u     /* level: must be 1 for all but INIT level de-assert */
#define ICR_LEVEL 0x8000u      /* trigger mode: level */
#define ICR_SELF 0x40000u      /* destination shorthands */
#define ICR_ALL 0x80000u
#define ICR_OTHERS 0xC0000u

static inline uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC_BASE + reg); }
static inline void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }
static inline void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
static inline uint8_t lapic_id(void) { return (uint8_t)(lapic_read(LAPIC_ID) >> 24); }

/* The IOAPIC's index/data pair is one shared register: one CPU at a time. */
static inline void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}
static inline uint32_t ioapic_read(uint32_t reg)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}
/* redirection entry of pin: the low word (vector, mode, ...) and the destination byte */
static inline void ioapic_route(unsigned pin, uint32_t low, uint8_t dest)
{
    ioapic_write(0x10 + 2 * pin, 0x10000);       /* masked while it changes */
    ioapic_write(0x11 + 2 * pin, (uint32_t)dest << 24);
    ioapic_write(0x10 + 2 * pin, low);
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
/* lock xadd: returns the old value */
static inline uint32_t atomic_fetch_add(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
}
static inline uint32_t atomic_xchg(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) : : "memory"); /* implicitly locked */
    return v;
}
static inline uint32_t irq_save(void)
{
    uint32_t f = read_eflags();
    __asm__ volatile("cli" ::: "memory");
    return f;
}
static inline void irq_restore(uint32_t flags)
{
    if (flags & 0x200)
        __asm__ volatile("sti" ::: "memory");
}

/* xchg spinlock (test-and-test-and-set) */
typedef struct { volatile uint32_t locked; } spinlock_t;
static inline void spin_lock(spinlock_t *l)
{
    while (atomic_xchg(&l->locked, 1))
        while (l->locked)
            cpu_relax();
}
static inline void spin_unlock(spinlock_t *l)
{
    barrier();
    l->locked = 0; /* a plain store releases under x86 ordering (SDM Vol. 3 8.2.2) */
}

/* What an AP recorded on its way in (in real mode, then before its LAPIC was enabled). */
struct smp_ap_info {
    uint32_t entry_edx;     /* EDX at the SIPI entry: the processor signature (SDM Table 9-1) */
    uint16_t entry_cs, entry_msw, entry_ds, entry_ss; /* in real mode; msw = CR0 bits 15:0 */
    uint32_t slot;          /* its stack slot */
    uint32_t apic_id;       /* LAPIC ID register bits 31:24 */
    uint32_t cpuid_apic_id; /* CPUID.1:EBX[31:24], the initial APIC ID */
    uint32_t cpuid_signature; /* CPUID.1:EAX */
    uint64_t apic_base;     /* IA32_APIC_BASE */
    uint32_t svr, tpr, ldr, dfr, lvt_timer, lvt_lint0, lvt_lint1; /* the LAPIC after INIT */
    uint32_t cr0;           /* in protected mode, before C changed anything */
    uint32_t esp;           /* its stack pointer in C */
    uint32_t gdtr_base, idtr_base;
    /* the handshake with the BSP */
    volatile uint32_t reported, go, cpu;
    void (*volatile fn)(unsigned cpu);
};

struct smp_boot_stats {
    unsigned broadcast;             /* 1: the SDM 8.4.4.1 broadcast sequence was used */
    unsigned inits, sipis;          /* IPIs sent */
    unsigned second_sipis;          /* SIPIs resent because the AP had not arrived */
    unsigned early_arrivals;        /* arrivals seen after INIT, before any SIPI (must be 0) */
    unsigned reported;              /* APs that reported in */
};

/* Trampoline counters, in the trampoline's page */
struct smp_trampoline_state {
    volatile uint16_t arrivals;     /* lock inc in real mode by every AP that ran it */
    volatile uint8_t mark;          /* SMP_TRAMPOLINE_MARK, written in real mode */
};

/* --- set up and CPU numbers --- */
/* Reads the CPU count, the BSP's APIC ID and the MADT, enables the BSP's LAPIC (SVR 0x1FF) and
 * installs a spurious-interrupt handler at 0xFF. After kernel_init(); idempotent. */
void smp_init(void);
/* fw_cfg key 0x05 (NB_CPUS) where fw_cfg exists (QEMU, libx86irq), else the MADT's count */
unsigned smp_cpu_count(void);
unsigned smp_fw_cfg_cpu_count(void);   /* 0 without fw_cfg */
/* the MADT's enabled processors' APIC IDs (ids may be NULL); 0 without an MADT */
unsigned smp_madt_apic_ids(uint8_t *ids, unsigned max);
unsigned smp_this_cpu(void);           /* from the LAPIC ID */
uint8_t smp_apic_id(unsigned cpu);
unsigned smp_running(void);            /* CPUs started so far, BSP included */
const struct smp_ap_info *smp_info(unsigned cpu); /* the AP's latest record; NULL for the BSP */
const struct smp_boot_stats *smp_boot_stats(void);
extern uint8_t smp_stacks[SMP_STACK_SLOTS][SMP_STACK_SIZE]; /* the APs' stacks, by slot */

/* --- starting the APs --- */
/* Starts every AP: targeted INIT, 10 ms, SIPI, 200 us, a second SIPI only if the AP has not
 * arrived, per AP in MADT order (MP spec B.4, as Linux does), or with broadcasts (SDM 8.4.4.1)
 * without an MADT or after smp_use_broadcast(). Returns the number of CPUs running. */
unsigned smp_start_aps(void (*fn)(unsigned cpu));
void smp_use_broadcast(int on);
/* Starts one AP with the trampoline at page: INIT, 10 ms, SIPI(s); waits for its report and
 * hands it fn. Returns its CPU number (an AP started before keeps its number) or -1. */
int smp_start_ap(uint8_t apic_id, uint32_t page, void (*fn)(unsigned cpu));
/* The pieces: copy the trampoline to page (clears its counters); INIT (level assert, then
 * de-assert as Linux sends it); one SIPI for page; wait for the next AP to report and hand it
 * fn (returns its CPU number or -1). */
void smp_trampoline_install(uint32_t page);
struct smp_trampoline_state *smp_trampoline_state(uint32_t page);
void smp_send_init(uint8_t apic_id);
void smp_send_sipi(uint8_t apic_id, uint32_t page);
int smp_accept_ap(void (*fn)(unsigned cpu), unsigned timeout_ms);
unsigned smp_finished(void);           /* APs whose fn returned */

/* --- running code on the APs --- */
/* An AP main loop (pass it to smp_start_aps): interrupts on (sti), it runs what smp_call hands
 * it and otherwise spins with pause (not hlt: a mailbox write wakes nothing). Never returns. */
void smp_serve(unsigned cpu) __attribute__((noreturn));
#define SMP_ALL_APS 0xFFFFu
/* Runs fn(cpu) on AP cpu (SMP_ALL_APS: on every AP, in parallel) in smp_serve and waits until
 * it returned (timeout_ms each). Returns 1 if it did. From the BSP. */
int smp_call(unsigned cpu, void (*fn)(unsigned cpu), unsigned timeout_ms);

/* --- synchronisation --- */
/* all n participants (the BSP included if it takes part) meet here; reusable */
void smp_barrier(unsigned n);

/* --- IPIs --- */
/* Writes ICR high (dest << 24) then ICR low with interrupts off, and waits for the delivery
 * status to read idle (SDM 10.6.1). Returns 1 if it went idle, 0 on a timeout. */
int ipi_send(uint8_t dest, uint32_t icr_low);
int ipi_wait_idle(void);

/* --- time (the BSP only: it uses PIT channel 2, gated through port 0x61) --- */
void smp_delay_us(unsigned us);
void smp_timeout_start(unsigned ms);
int smp_timeout_expired(void);
/* wait until cond holds or ms milliseconds passed; the value of cond */
#define SMP_WAIT(cond, ms)                                                                    \
    ({                                                                                        \
        int ok_;                                                                              \
        smp_timeout_start(ms);                                                                \
        while (!(ok_ = !!(cond))) {                                                           \
            if (smp_timeout_expired()) {                                                      \
                ok_ = !!(cond);                                                               \
                break;                                                                        \
            }                                                                                 \
            cpu_relax();                                                                      \
        }                                                                                     \
        ok_;                                                                                  \
    })

/* --- where we run --- */
/* QEMU: fw_cfg's "QEMU" signature and a CPU that is not libx86irq's (brand "libx86irq") */
int on_qemu(void);
int on_libx86irq(void);
/* TAP: the whole test skipped ("1..0 # SKIP why"), exit 0 */
__attribute__((noreturn)) void tap_skip_all(const char *why);

#endif
