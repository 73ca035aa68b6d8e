/* The guests' SMP library (see smp.h). */
#include "smp.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* ------------------------------------------------------------------ the trampoline
 * Real-mode code, copied to a page below 1 MiB; every address in it is relative to CS (the
 * SIPI vector's segment, VV00), except the far jump's target, which is absolute (the temporary
 * GDT's code segment is flat). The AP's CR0 after INIT keeps CD and NW (SDM Table 9-1); they are
 * cleared with PE set, so the AP runs with caches enabled as the BSP does. EDX (the processor
 * signature after INIT), CS, the MSW, DS and SS travel in EDI, ESI and EBP to C. */
__asm__(
    ".section .rodata.smp_trampoline, \"a\"\n"
    ".code16\n"
    ".globl smp_trampoline_start, smp_trampoline_end\n"
    ".globl smp_tr_gdt, smp_tr_gdtr, smp_tr_state\n"
    "smp_trampoline_start:\n"
    "  cli\n"
    "  lock incw %cs:(smp_tr_state - smp_trampoline_start)\n"
    "  movb $" STR(SMP_TRAMPOLINE_MARK) ", %cs:(smp_tr_state + 2 - smp_trampoline_start)\n"
    "  mov %edx, %edi\n"
    "  smsw %ax\n"
    "  shl $16, %eax\n"
    "  mov %cs, %ax\n"
    "  mov %eax, %esi\n"
    "  mov %ds, %ax\n"
    "  shl $16, %eax\n"
    "  mov %ss, %ax\n"
    "  mov %eax, %ebp\n"
    "  lgdtl %cs:(smp_tr_gdtr - smp_trampoline_start)\n"
    "  mov %cr0, %eax\n"
    "  and $0x9FFFFFFF, %eax\n"          /* CD and NW off */
    "  or $1, %eax\n"                    /* PE */
    "  mov %eax, %cr0\n"
    "  ljmpl $0x08, $smp_ap_entry32\n"   /* at once after MOV CR0 (SDM 9.9.1) */
    "  .p2align 3\n"
    "smp_tr_gdt:\n"
    "  .quad 0\n"
    "  .quad 0x00CF9A000000FFFF\n"       /* 0x08: flat 32-bit code */
    "  .quad 0x00CF92000000FFFF\n"       /* 0x10: flat data */
    "smp_tr_gdtr:\n"
    "  .word 23\n"
    "  .long 0\n"                        /* the GDT's linear address: set by the copier */
    "  .p2align 2\n"
    "smp_tr_state:\n"
    "  .word 0\n"                        /* arrivals */
    "  .byte 0\n"                        /* the real-mode mark */
    "  .byte 0\n"
    "smp_trampoline_end:\n"
    ".code32\n"
    /* 32-bit: the kernel's GDT and IDT, a stack, C */
    ".text\n"
    ".globl smp_ap_entry32\n"
    "smp_ap_entry32:\n"
    "  mov $0x10, %ax\n"
    "  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n  mov %ax, %fs\n  mov %ax, %gs\n"
    "  lgdt smp_kernel_gdtr\n"
    "  ljmp $" STR(KERNEL_CS) ", $1f\n"
    "1:\n"
    "  mov $" STR(KERNEL_DS) ", %ax\n"
    "  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n  mov %ax, %fs\n  mov %ax, %gs\n"
    "  lidt smp_kernel_idtr\n"
    "  mov $1, %eax\n"
    "  lock xadd %eax, smp_next_slot\n"
    "  cmp $" STR(SMP_STACK_SLOTS) ", %eax\n"
    "  jae 2f\n"
    "  mov %eax, %ecx\n"
    "  inc %eax\n"
    "  imul $" STR(SMP_STACK_SIZE) ", %eax\n"
    "  add $smp_stacks, %eax\n"
    "  mov %eax, %esp\n"
    "  push %ebp\n"
    "  push %esi\n"
    "  push %edi\n"
    "  push %ecx\n"
    "  call smp_ap_main\n"
    "2:\n"
    "  cli\n"
    "  hlt\n"
    "  jmp 2b\n");

extern const uint8_t smp_trampoline_start[], smp_trampoline_end[];
extern const uint8_t smp_tr_gdt[], smp_tr_gdtr[], smp_tr_state[];

struct table_register { uint16_t limit; uint32_t base; } __attribute__((packed));
struct table_register smp_kernel_gdtr, smp_kernel_idtr;
volatile uint32_t smp_next_slot;
uint8_t smp_stacks[SMP_STACK_SLOTS][SMP_STACK_SIZE] __attribute__((aligned(4096)));

/* ------------------------------------------------------------------ state */
static struct smp_ap_info slots[SMP_STACK_SLOTS];
static volatile uint32_t reports;            /* lock xadd by each reporting AP */
static volatile uint32_t finished;
static uint32_t accepted_reports;            /* reports the BSP has handled */
static uint8_t cpu_apic[SMP_MAX_CPUS];
static uint8_t apic_cpu[256];                /* 0xFF: not a CPU of ours */
static int cpu_slot[SMP_MAX_CPUS];
static unsigned running = 1, cpu_count, initialised, force_broadcast;
static uint8_t madt_ids[SMP_MAX_CPUS];
static unsigned madt_count;
static struct smp_boot_stats stats;

/* ------------------------------------------------------------------ fw_cfg and the MADT */
static void fw_cfg_select(uint16_t key) { outw(0x510, key); }
static int fw_cfg_present(void)
{
    fw_cfg_select(0x0000);
    char sig[4];
    for (int i = 0; i < 4; i++)
        sig[i] = (char)inb(0x511);
    return memcmp(sig, "QEMU", 4) == 0;
}

unsigned smp_fw_cfg_cpu_count(void)
{
    if (!fw_cfg_present())
        return 0;
    fw_cfg_select(0x0005);                 /* FW_CFG_NB_CPUS, 16-bit little endian */
    unsigned lo = inb(0x511), hi = inb(0x511);
    return lo | hi << 8;
}

static uint32_t le32(const volatile uint8_t *p)
{
    return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static int checksum_ok(const volatile uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}
static const volatile uint8_t *find_rsdp(void)
{
    /* ACPI 5.2.5.1: the first KiB of the EBDA, then 0xE0000-0xFFFFF, on 16-byte boundaries */
    const volatile uint16_t *bda_ebda = (const volatile uint16_t *)(uintptr_t)0x40E;
    __asm__("" : "+r"(bda_ebda));
    uint32_t ebda = (uint32_t)*bda_ebda << 4;
    uint32_t ranges[2][2] = { { ebda, ebda + 1024 }, { 0xE0000, 0x100000 } };
    for (int r = 0; r < 2; r++) {
        if (ranges[r][0] < 0x80000 || ranges[r][0] >= 0x100000)
            continue;
        for (uint32_t a = ranges[r][0]; a < ranges[r][1]; a += 16) {
            const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)a;
            __asm__("" : "+r"(p)); /* an address, not an object gcc knows */
            if (p[0] == 'R' && p[1] == 'S' && p[2] == 'D' && p[3] == ' ' && p[4] == 'P' &&
                p[5] == 'T' && p[6] == 'R' && p[7] == ' ' && checksum_ok(p, 20))
                return p;
        }
    }
    return NULL;
}

static void read_madt(void)
{
    madt_count = 0;
    const volatile uint8_t *rsdp = find_rsdp();
    if (!rsdp)
        return;
    const volatile uint8_t *rsdt = (const volatile uint8_t *)(uintptr_t)le32(rsdp + 16);
    if (!(rsdt[0] == 'R' && rsdt[1] == 'S' && rsdt[2] == 'D' && rsdt[3] == 'T'))
        return;
    uint32_t length = le32(rsdt + 4);
    for (uint32_t i = 36; i + 4 <= length; i += 4) {
        const volatile uint8_t *t = (const volatile uint8_t *)(uintptr_t)le32(rsdt + i);
        if (!(t[0] == 'A' && t[1] == 'P' && t[2] == 'I' && t[3] == 'C'))
            continue;
        uint32_t tl = le32(t + 4);
        for (uint32_t j = 44; j + 2 <= tl && t[j + 1] >= 2; j += t[j + 1]) {
            /* type 0: processor local APIC (ACPI ID, APIC ID, flags: bit 0 enabled) */
            if (t[j] == 0 && t[j + 1] >= 8 && (le32(t + j + 4) & 1) && madt_count < SMP_MAX_CPUS)
                madt_ids[madt_count++] = t[j + 3];
        }
        return;
    }
}

unsigned smp_madt_apic_ids(uint8_t *ids, unsigned max)
{
    smp_init();
    for (unsigned i = 0; ids && i < madt_count && i < max; i++)
        ids[i] = madt_ids[i];
    return madt_count;
}

/* ------------------------------------------------------------------ where we run */
int on_libx86irq(void)
{
    uint32_t a, b, c, d;
    cpuid(0x80000000u, &a, &b, &c, &d);
    if (a < 0x80000002u)
        return 0;
    cpuid(0x80000002u, &a, &b, &c, &d);
    return a == 0x7862696C; /* "libx" */
}

int on_qemu(void) { return !on_libx86irq() && fw_cfg_present(); }

void tap_skip_all(const char *why)
{
    printf("1..0 # SKIP %s\n", why);
    exit(0);
}

/* ------------------------------------------------------------------ time: PIT channel 2
 * Mode 0 (interrupt on terminal count): OUT2 (port 0x61 bit 5) goes high when the count runs
 * out; the gate is port 0x61 bit 0, the speaker (bit 1) stays off. 1.193182 MHz. */
static void pit2_start(uint32_t ticks)
{
    if (ticks < 2)
        ticks = 2;
    if (ticks > 0xFFFF)
        ticks = 0xFFFF;
    outb(0x61, (uint8_t)(inb(0x61) & ~0x03));
    outb(0x43, 0xB0);                      /* channel 2, lobyte/hibyte, mode 0, binary */
    outb(0x42, (uint8_t)ticks);
    outb(0x42, (uint8_t)(ticks >> 8));
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
}
static int pit2_done(void) { return (inb(0x61) & 0x20) != 0; }
static uint32_t us_to_ticks(unsigned us) { return (uint32_t)(((uint64_t)us * 1193182u + 999999u) / 1000000u); }

void smp_delay_us(unsigned us)
{
    while (us) {
        unsigned chunk = us > 50000 ? 50000 : us;
        pit2_start(us_to_ticks(chunk));
        while (!pit2_done())
            cpu_relax();
        us -= chunk;
    }
}

static unsigned timeout_left;
void smp_timeout_start(unsigned ms)
{
    timeout_left = ms ? ms : 1;
    pit2_start(us_to_ticks(1000));
}
int smp_timeout_expired(void)
{
    if (!timeout_left)
        return 1;
    if (!pit2_done())
        return 0;
    if (--timeout_left == 0)
        return 1;
    pit2_start(us_to_ticks(1000));
    return 0;
}

/* ------------------------------------------------------------------ IPIs */
int ipi_wait_idle(void)
{
    for (uint32_t i = 0; i < 1000000u; i++) {
        if (!(lapic_read(LAPIC_ICR_LOW) & ICR_BUSY))
            return 1;
        cpu_relax();
    }
    return 0;
}

int ipi_send(uint8_t dest, uint32_t icr_low)
{
    uint32_t flags = irq_save();
    ipi_wait_idle();
    lapic_write(LAPIC_ICR_HIGH, (uint32_t)dest << 24);
    lapic_write(LAPIC_ICR_LOW, icr_low);
    int idle = ipi_wait_idle();
    irq_restore(flags);
    return idle;
}

/* ------------------------------------------------------------------ CPU numbers */
static void spurious(struct trap_frame *f) { (void)f; /* no EOI for a spurious vector */ }

void smp_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    memset(apic_cpu, 0xFF, sizeof apic_cpu);
    for (unsigned i = 0; i < SMP_MAX_CPUS; i++)
        cpu_slot[i] = -1;
    cpu_apic[0] = lapic_id();
    apic_cpu[cpu_apic[0]] = 0;
    read_madt();
    cpu_count = smp_fw_cfg_cpu_count();
    if (!cpu_count)
        cpu_count = madt_count ? madt_count : 1;
    if (cpu_count > SMP_MAX_CPUS)
        cpu_count = SMP_MAX_CPUS;
    __asm__ volatile("sgdt %0\n sidt %1" : "=m"(smp_kernel_gdtr), "=m"(smp_kernel_idtr));
    trap_set_handler(0xFF, spurious, 0x8E, 0);
    lapic_write(LAPIC_SVR, 0x1FF);
}

unsigned smp_cpu_count(void) { smp_init(); return cpu_count; }
unsigned smp_running(void) { return running; }
uint8_t smp_apic_id(unsigned cpu) { return cpu < SMP_MAX_CPUS ? cpu_apic[cpu] : 0xFF; }
unsigned smp_this_cpu(void)
{
    uint8_t c = apic_cpu[lapic_id()];
    return c == 0xFF ? 0 : c;
}
const struct smp_ap_info *smp_info(unsigned cpu)
{
    return cpu && cpu < SMP_MAX_CPUS && cpu_slot[cpu] >= 0 ? &slots[cpu_slot[cpu]] : NULL;
}
const struct smp_boot_stats *smp_boot_stats(void) { return &stats; }
unsigned smp_finished(void) { return finished; }
void smp_use_broadcast(int on) { force_broadcast = (unsigned)on; }

/* ------------------------------------------------------------------ the AP's C entry */
void smp_ap_main(uint32_t slot, uint32_t edx, uint32_t cs_msw, uint32_t ds_ss)
    __attribute__((noreturn, used));
void smp_ap_main(uint32_t slot, uint32_t edx, uint32_t cs_msw, uint32_t ds_ss)
{
    struct smp_ap_info *r = &slots[slot];
    uint32_t a, b, c, d;
    struct table_register gdtr, idtr;
    r->entry_edx = edx;
    r->entry_cs = (uint16_t)cs_msw;
    r->entry_msw = (uint16_t)(cs_msw >> 16);
    r->entry_ds = (uint16_t)(ds_ss >> 16);
    r->entry_ss = (uint16_t)ds_ss;
    r->slot = slot;
    r->cr0 = read_cr0();
    r->esp = read_esp();
    r->apic_id = lapic_id();
    cpuid(1, &a, &b, &c, &d);
    r->cpuid_apic_id = b >> 24;
    r->cpuid_signature = a;
    r->apic_base = rdmsr(0x1B);
    r->svr = lapic_read(LAPIC_SVR);
    r->tpr = lapic_read(LAPIC_TPR);
    r->ldr = lapic_read(LAPIC_LDR);
    r->dfr = lapic_read(LAPIC_DFR);
    r->lvt_timer = lapic_read(LAPIC_LVT_TIMER);
    r->lvt_lint0 = lapic_read(LAPIC_LVT_LINT0);
    r->lvt_lint1 = lapic_read(LAPIC_LVT_LINT1);
    __asm__ volatile("sgdt %0\n sidt %1" : "=m"(gdtr), "=m"(idtr));
    r->gdtr_base = gdtr.base;
    r->idtr_base = idtr.base;
    /* INIT left the LAPIC software-disabled (SDM 10.4.7.1): fixed interrupts need it on */
    lapic_write(LAPIC_SVR, 0x1FF);
    r->reported = 1;
    atomic_fetch_add(&reports, 1);
    while (!r->go)
        cpu_relax();
    void (*fn)(unsigned) = r->fn;
    if (fn)
        fn(r->cpu);
    atomic_fetch_add(&finished, 1);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ------------------------------------------------------------------ starting APs */
void smp_trampoline_install(uint32_t page)
{
    uint32_t n = (uint32_t)(smp_trampoline_end - smp_trampoline_start);
    uint8_t *dst = (uint8_t *)(uintptr_t)page;
    __asm__("" : "+r"(dst));
    memcpy(dst, smp_trampoline_start, n);
    uint32_t gdt = page + (uint32_t)(smp_tr_gdt - smp_trampoline_start);
    memcpy(dst + (smp_tr_gdtr - smp_trampoline_start) + 2, &gdt, 4);
    struct smp_trampoline_state *s = smp_trampoline_state(page);
    s->arrivals = 0;
    s->mark = 0;
    __asm__ volatile("wbinvd" ::: "memory"); /* the AP may start with caches off */
}

struct smp_trampoline_state *smp_trampoline_state(uint32_t page)
{
    struct smp_trampoline_state *s =
        (struct smp_trampoline_state *)(uintptr_t)(page + (uint32_t)(smp_tr_state - smp_trampoline_start));
    __asm__("" : "+r"(s));
    return s;
}

/* INIT: level-triggered assert, then de-assert, as Linux 6.1 sends them
 * (wakeup_secondary_cpu_via_init); the de-assert only resynchronises arbitration IDs and is
 * ignored by Pentium 4 and later (SDM 10.6.1). */
static void send_init_to(uint8_t dest, uint32_t shorthand)
{
    ipi_send(dest, shorthand | ICR_INIT | ICR_LEVEL | ICR_ASSERT);
    ipi_send(dest, shorthand | ICR_INIT | ICR_LEVEL);
    stats.inits++;
}

void smp_send_init(uint8_t apic_id)
{
    smp_init();
    send_init_to(apic_id, 0);
}

static void send_sipi_to(uint8_t dest, uint32_t shorthand, uint32_t page)
{
    /* Pentium erratum 3AP (as Linux does): clear the ESR before each STARTUP */
    lapic_write(LAPIC_ESR, 0);
    (void)lapic_read(LAPIC_ESR);
    ipi_send(dest, shorthand | ICR_STARTUP | ICR_ASSERT | ((page >> 12) & 0xFF));
    stats.sipis++;
}

void smp_send_sipi(uint8_t apic_id, uint32_t page)
{
    smp_init();
    send_sipi_to(apic_id, 0, page);
}

/* INIT, 10 ms, SIPI, 200 us, SIPI again if nothing arrived, 200 us (MP spec B.4; SDM 8.4.4.1) */
static void init_sipi_sipi(uint8_t dest, uint32_t shorthand, uint32_t page, unsigned expected)
{
    struct smp_trampoline_state *s = smp_trampoline_state(page);
    unsigned before = s->arrivals;
    send_init_to(dest, shorthand);
    smp_delay_us(10000);
    if (s->arrivals != before)
        stats.early_arrivals += (unsigned)(s->arrivals - before);
    send_sipi_to(dest, shorthand, page);
    smp_delay_us(200);
    if ((unsigned)(uint16_t)(s->arrivals - before) < expected) {
        send_sipi_to(dest, shorthand, page);
        stats.second_sipis++;
        smp_delay_us(200);
    }
}

/* hand the AP of a reported slot its CPU number and function */
static int release(uint32_t slot, void (*fn)(unsigned))
{
    struct smp_ap_info *r = &slots[slot];
    unsigned cpu = apic_cpu[r->apic_id];
    if (cpu == 0xFF) {
        if (running >= SMP_MAX_CPUS)
            return -1;
        cpu = running++;
        cpu_apic[cpu] = (uint8_t)r->apic_id;
        apic_cpu[r->apic_id] = (uint8_t)cpu;
    }
    cpu_slot[cpu] = (int)slot;
    r->cpu = cpu;
    r->fn = fn;
    barrier();
    r->go = 1;
    return (int)cpu;
}

/* the reported slots not handed out yet, in slot order */
static unsigned pending_slots(uint32_t *out, unsigned max)
{
    unsigned n = 0;
    uint32_t used = smp_next_slot < SMP_STACK_SLOTS ? smp_next_slot : SMP_STACK_SLOTS;
    for (uint32_t i = 0; i < used && n < max; i++)
        if (slots[i].reported && !slots[i].go)
            out[n++] = i;
    return n;
}

int smp_accept_ap(void (*fn)(unsigned), unsigned timeout_ms)
{
    smp_init();
    if (!SMP_WAIT(reports > accepted_reports, timeout_ms))
        return -1;
    uint32_t s;
    if (!pending_slots(&s, 1))
        return -1;
    accepted_reports++;
    return release(s, fn);
}

int smp_start_ap(uint8_t apic_id, uint32_t page, void (*fn)(unsigned))
{
    smp_init();
    smp_trampoline_install(page);
    init_sipi_sipi(apic_id, 0, page, 1);
    return smp_accept_ap(fn, 100);
}

unsigned smp_start_aps(void (*fn)(unsigned))
{
    smp_init();
    if (cpu_count <= 1)
        return running;
    smp_trampoline_install(SMP_TRAMPOLINE);
    unsigned want = cpu_count - 1, base = accepted_reports;
    if (!force_broadcast && madt_count == cpu_count) {
        for (unsigned i = 0; i < madt_count; i++) {
            if (madt_ids[i] == cpu_apic[0])
                continue;
            unsigned before = reports;
            init_sipi_sipi(madt_ids[i], 0, SMP_TRAMPOLINE, 1);
            SMP_WAIT(reports > before, 100);
        }
    } else {
        stats.broadcast = 1;
        init_sipi_sipi(0, ICR_OTHERS, SMP_TRAMPOLINE, want);
    }
    SMP_WAIT(reports - base >= want, 100);
    /* CPU numbers in APIC ID order */
    uint32_t got[SMP_STACK_SLOTS];
    unsigned n = pending_slots(got, SMP_STACK_SLOTS);
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && slots[got[j]].apic_id < slots[got[j - 1]].apic_id; j--) {
            uint32_t t = got[j];
            got[j] = got[j - 1];
            got[j - 1] = t;
        }
    for (unsigned i = 0; i < n; i++)
        release(got[i], fn);
    accepted_reports += n;
    stats.reported += n;
    return running;
}

/* ------------------------------------------------------------------ barrier
 * A counter and a generation: the last to arrive resets the counter, then moves the
 * generation on; the others wait for it to move. */
static volatile uint32_t barrier_count, barrier_generation;

void smp_barrier(unsigned n)
{
    uint32_t generation = barrier_generation;
    barrier();
    if (atomic_fetch_add(&barrier_count, 1) == n - 1) {
        barrier_count = 0;
        barrier();
        barrier_generation = generation + 1;
    } else {
        while (barrier_generation == generation)
            cpu_relax();
    }
}

/* ------------------------------------------------------------------ smp_call mailboxes */
static struct mailbox {
    void (*volatile fn)(unsigned cpu);
    volatile uint32_t sequence, done;
} mailboxes[SMP_MAX_CPUS];

void smp_serve(unsigned cpu)
{
    struct mailbox *m = &mailboxes[cpu];
    __asm__ volatile("sti");
    for (;;) {
        uint32_t s = m->sequence;
        if (s != m->done) {
            barrier();
            m->fn(cpu);
            barrier();
            m->done = s;
        }
        cpu_relax();
    }
}

int smp_call(unsigned cpu, void (*fn)(unsigned cpu), unsigned timeout_ms)
{
    unsigned first = cpu == SMP_ALL_APS ? 1 : cpu, last = cpu == SMP_ALL_APS ? running - 1 : cpu;
    int all = 1;
    for (unsigned c = first; c <= last && c < SMP_MAX_CPUS; c++) {
        mailboxes[c].fn = fn;
        barrier();
        mailboxes[c].sequence++;
    }
    for (unsigned c = first; c <= last && c < SMP_MAX_CPUS; c++)
        all &= SMP_WAIT(mailboxes[c].done == mailboxes[c].sequence, timeout_ms);
    return all;
}
