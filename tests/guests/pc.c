/* Guest test: the PC a kernel finds, from inside: the ACPI tables (RSDP, RSDT, MADT, FADT,
 * HPET) and the MP floating pointer where an OS searches, the BIOS data area, the ACPI PM
 * timer's rate, the HPET in legacy replacement mode (timer 0 on IOAPIC pin 2, the PIT cut off),
 * the RTC's periodic interrupt on pin 8 and its date, the 8042's self test, PIT channel 2 on
 * port 0x61; then the ACPI S5 power-off ends the run (exit status 0, no debug exit). Runs on
 * QEMU too (qemu-system-i386 -kernel pc.elf -serial stdio: the same ports and tables), where
 * timing is the host's: the counts then get wider bounds and the date is not checked. */
#include "kernel.h"

#define IOAPIC_BASE 0xFEC00000u
#define LAPIC_BASE 0xFEE00000u
#define HPET_BASE 0xFED00000u

static void ioapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)IOAPIC_BASE = reg;
    *(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}
static void route(unsigned pin, uint32_t low)
{
    ioapic_write(0x11 + 2 * pin, 0);
    ioapic_write(0x10 + 2 * pin, low);
}
static void eoi(void) { *(volatile uint32_t *)(LAPIC_BASE + 0xB0) = 0; }
static uint64_t hpet_read(uint32_t reg)
{
    volatile uint32_t *p = (volatile uint32_t *)(HPET_BASE + reg);
    uint32_t lo = p[0], hi = p[1];
    return (uint64_t)hi << 32 | lo;
}
static void hpet_write32(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(HPET_BASE + reg) = v; }

static int on_qemu(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000002u));
    return a != 0x7862696C; /* "libx" */
}

static uint8_t checksum(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* the first structure with this signature on a 16-byte boundary in [from, to) */
static const uint8_t *scan(uint32_t from, uint32_t to, const char *signature, unsigned length)
{
    for (uint32_t p = from; p < to; p += 16)
        if (memcmp((const void *)p, signature, length) == 0)
            return (const uint8_t *)p;
    return NULL;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static const uint8_t *find_table(const uint8_t *rsdt, const char *signature)
{
    uint32_t length = le32(rsdt + 4);
    for (uint32_t i = 36; i + 4 <= length; i += 4) {
        const uint8_t *t = (const uint8_t *)le32(rsdt + i);
        if (memcmp(t, signature, 4) == 0)
            return t;
    }
    return NULL;
}

static volatile unsigned hpet_ticks, rtc_ticks;
static void on_hpet(struct trap_frame *f) { (void)f; hpet_ticks++; eoi(); }
static void on_rtc(struct trap_frame *f)
{
    (void)f;
    outb(0x70, 0x0C);
    (void)inb(0x71); /* reading register C ends the interrupt */
    rtc_ticks++;
    eoi();
}

static uint8_t cmos(uint8_t index)
{
    outb(0x70, index);
    return inb(0x71);
}

/* wait until the HPET counter (100 MHz here, as in QEMU) has advanced by ticks */
static void hpet_wait(uint64_t ticks)
{
    uint64_t start = hpet_read(0xF0);
    while (hpet_read(0xF0) - start < ticks)
        __asm__ volatile("pause");
}

int kmain(void)
{
    kernel_init();
    tap_plan(21);
    int qemu = on_qemu();

    /* ACPI: the RSDP in the BIOS area, its checksum, the RSDT's tables */
    const uint8_t *rsdp = scan(0xE0000, 0x100000, "RSD PTR ", 8);
    ok(rsdp && checksum(rsdp, 20) == 0, "ACPI: the RSDP in 0xE0000-0xFFFFF, checksum right");
    const uint8_t *rsdt = rsdp ? (const uint8_t *)le32(rsdp + 16) : NULL;
    ok(rsdt && memcmp(rsdt, "RSDT", 4) == 0 && checksum(rsdt, le32(rsdt + 4)) == 0,
       "ACPI: the RSDT");
    const uint8_t *madt = rsdt ? find_table(rsdt, "APIC") : NULL;
    int lapics = 0, ioapic_ok = 0, irq0_override = 0;
    if (madt) {
        for (uint32_t i = 44; i + 2 <= le32(madt + 4); i += madt[i + 1]) {
            const uint8_t *e = madt + i;
            if (e[0] == 0 && (le32(e + 4) & 1))
                lapics++;
            if (e[0] == 1 && le32(e + 4) == IOAPIC_BASE && le32(e + 8) == 0)
                ioapic_ok = 1;
            if (e[0] == 2 && e[3] == 0 && le32(e + 4) == 2)
                irq0_override = 1;
            if (e[1] == 0)
                break;
        }
    }
    ok(madt && le32(madt + 36) == LAPIC_BASE && lapics == 1 && ioapic_ok,
       "MADT: the local APIC at 0x%x, one processor, the IOAPIC at 0xfec00000, GSI base 0",
       madt ? le32(madt + 36) : 0);
    ok(irq0_override, "MADT: ISA IRQ 0 is GSI 2 (interrupt source override)");
    const uint8_t *fadt = rsdt ? find_table(rsdt, "FACP") : NULL;
    uint32_t pm_timer = fadt ? le32(fadt + 76) : 0, pm1a_control = fadt ? le32(fadt + 64) : 0;
    ok(fadt && pm_timer == 0x608 && pm1a_control == 0x604 && fadt[46] == 9,
       "FADT: PM timer at 0x%x, PM1a control at 0x%x, SCI on IRQ %u", pm_timer, pm1a_control,
       fadt ? fadt[46] : 0);
    const uint8_t *hpet_table = rsdt ? find_table(rsdt, "HPET") : NULL;
    ok(hpet_table && le32(hpet_table + 44) == HPET_BASE, "ACPI: the HPET table names 0xfed00000");
    ok(scan(0xF0000, 0x100000, "_MP_", 4) != NULL, "MP: the floating pointer in 0xF0000-0xFFFFF");
    const volatile uint8_t *bda = (const volatile uint8_t *)(uintptr_t)0x400;
    __asm__("" : "+r"(bda)); /* an address, not an object gcc knows the size of */
    ok((bda[0] | bda[1] << 8) == 0x3F8 && (bda[0x13] | bda[0x14] << 8) == 639,
       "the BIOS data area: COM1 at 0x3f8, 639 KiB of base memory");

    /* the ACPI PM timer: 3.579545 MHz against the HPET's 100 MHz, over 10 ms */
    uint32_t pm0 = inl(0x608) & 0xFFFFFF;
    hpet_write32(0x10, 1);             /* the HPET counter runs */
    hpet_wait(1000000);
    uint32_t pm_ticks = ((inl(0x608) & 0xFFFFFF) - pm0) & 0xFFFFFF;
    ok(pm_ticks > 35400 && pm_ticks < (qemu ? 37500 : 36200),
       "the PM timer runs at 3.58 MHz: %u ticks in 10 ms of HPET time", pm_ticks);

    /* the HPET: capabilities, then legacy replacement with timer 0 periodic at 1 kHz */
    uint64_t caps = hpet_read(0);
    ok((caps & 0xFFFF0000u) == 0x80860000u && (caps >> 32) == 10000000u && (caps & 0x8000),
       "HPET: Intel, 10 ns per tick, legacy replacement capable (0x%x%08x)",
       (uint32_t)(caps >> 32), (uint32_t)caps);
    trap_set_handler(0x50, on_hpet, 0x8E, 0);
    trap_set_handler(0x51, on_rtc, 0x8E, 0);
    outb(0x21, 0xFF);                  /* the 8259s stay masked: the IOAPIC routes */
    outb(0xA1, 0xFF);
    /* the PIT at 4 kHz on ISA IRQ 0 as well: in legacy mode it must not come through */
    outb(0x43, 0x34);
    outb(0x40, 298 & 0xFF);
    outb(0x40, 298 >> 8);
    route(2, 0x50);                    /* edge, vector 0x50 */
    hpet_write32(0x10, 0);             /* halt, legacy mode, then the timer */
    hpet_write32(0x100, 0x14C);        /* timer 0: interrupts on, periodic, set the value,
                                        * 32-bit mode (as Linux programs it) */
    hpet_write32(0x108, 100000);       /* the first at 1 ms ... */
    hpet_write32(0x108, 100000);       /* ... and every 1 ms */
    *(volatile uint32_t *)(HPET_BASE + 0xF0) = 0;
    *(volatile uint32_t *)(HPET_BASE + 0xF4) = 0;
    hpet_write32(0x10, 3);             /* ENABLE_CNF | LEG_RT_CNF */
    __asm__ volatile("sti");
    hpet_wait(20 * 100000 + 50000);    /* 20.5 ms */
    __asm__ volatile("cli");
    unsigned ticks = hpet_ticks;
    ok(qemu ? ticks >= 15 && ticks <= 25 : ticks == 20,
       "HPET legacy replacement: timer 0 on pin 2, 20 ticks in 20.5 ms, the PIT cut off (%u)",
       ticks);
    hpet_write32(0x100, 0);
    hpet_write32(0x10, 1);             /* legacy mode off: the PIT is back on IRQ 0 */
    hpet_ticks = 0;
    __asm__ volatile("sti");
    hpet_wait(1000000);                /* 10 ms of the PIT at 4 kHz */
    __asm__ volatile("cli");
    ok(hpet_ticks > 30, "legacy mode off: the PIT's IRQ 0 reaches pin 2 again (%u in 10 ms)",
       hpet_ticks);
    route(2, 0x10050);                 /* masked */

    /* the RTC: the date from the configured epoch, the periodic interrupt at 1024 Hz */
    while (cmos(0x0A) & 0x80)
        ;                              /* not during an update (UIP) */
    uint8_t year = cmos(9), month = cmos(8), day = cmos(7), century = cmos(0x32);
    ok(qemu || (year == 0x26 && month == 0x01 && day == 0x01 && century == 0x20),
       "RTC: 20%02x-%02x-%02x in BCD, century byte 0x%02x (the default epoch 2026-01-01)",
       year, month, day, century);
    route(8, 0x51);
    outb(0x70, 0x0A);
    outb(0x71, 0x26);                  /* 32.768 kHz, rate 6: 1024 Hz */
    outb(0x70, 0x0B);
    outb(0x71, (uint8_t)(cmos(0x0B) | 0x40)); /* PIE */
    (void)cmos(0x0C);
    __asm__ volatile("sti");
    hpet_wait(2000000);                /* 20 ms */
    __asm__ volatile("cli");
    outb(0x70, 0x0B);
    outb(0x71, (uint8_t)(cmos(0x0B) & ~0x40));
    /* 20.48 periods, and one more if the flag was up when PIE was set (the line rose then,
     * and the IOAPIC latched the edge while IF was 0) */
    ok(qemu ? rtc_ticks >= 15 && rtc_ticks <= 25 : rtc_ticks >= 20 && rtc_ticks <= 22,
       "RTC periodic interrupt on pin 8: %u in 20 ms at 1024 Hz", rtc_ticks);

    /* the 8042: controller self test */
    while (inb(0x64) & 2)
        ;
    while (inb(0x64) & 1)
        (void)inb(0x60);
    outb(0x64, 0xAA);
    while (!(inb(0x64) & 1))
        ;
    uint8_t self_test = inb(0x60);
    ok(self_test == 0x55, "8042: self test answers 0x55 (0x%02x)", self_test);

    /* PIT channel 2 behind port 0x61: gate on, mode 0, OUT (bit 5) rises at the count */
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xB0);
    outb(0x42, 100);
    outb(0x42, 0);
    int low_first = !(inb(0x61) & 0x20);
    uint64_t start = hpet_read(0xF0);
    while (!(inb(0x61) & 0x20) && hpet_read(0xF0) - start < 1000000)
        ;
    uint64_t elapsed = hpet_read(0xF0) - start;
    ok(low_first && elapsed < 1000000 && elapsed > 7000,
       "port 0x61: channel 2's OUT low, then high after 100 PIT clocks (%u HPET ticks)",
       (uint32_t)elapsed);

    /* pc-testdev's 64 KiB of memory behind MMIO at 0xFF000000, as on QEMU */
    volatile uint32_t *iomem = (volatile uint32_t *)0xFF000000u;
    volatile uint8_t *iomem8 = (volatile uint8_t *)0xFF000000u;
    int zero = iomem[0] == 0 && iomem[0x3FFF] == 0;
    iomem[0] = 0x11223344u;
    iomem8[1] = 0xAA;
    *(volatile uint16_t *)(0xFF000000u + 0xFFFE) = 0xBEEF;
    ok(zero && iomem[0] == 0x1122AA44u && iomem[0x3FFF] == 0xBEEF0000u,
       "pc-testdev iomem: zero at first, then bytes, words and dwords read back");
    static uint32_t from[16], back[16];
    for (unsigned i = 0; i < 16; i++)
        from[i] = 0x9E3779B9u * (i + 1);
    uint32_t *src = from, *dst = (uint32_t *)(0xFF000000u + 0x100);
    uint32_t n = 16;
    __asm__ volatile("cld; rep movsl" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
    src = (uint32_t *)(0xFF000000u + 0x100), dst = back, n = 16;
    __asm__ volatile("rep movsl" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
    ok(memcmp(from, back, sizeof(from)) == 0, "pc-testdev iomem: rep movsd into the window and back");
    iomem[0x80] = 40;
    __asm__ volatile("addl $2, %0" : "+m"(*(volatile uint32_t *)(0xFF000000u + 0x200)));
    uint32_t swapped = 7;
    __asm__ volatile("xchgl %0, %1" : "+r"(swapped), "+m"(*(volatile uint32_t *)(0xFF000000u + 0x200)));
    ok(swapped == 42 && iomem[0x80] == 7,
       "pc-testdev iomem: add and xchg read, modify and write the window");
    static uint8_t page[4096] __attribute__((aligned(4096)));
    for (unsigned i = 0; i < sizeof(page); i++)
        page[i] = (uint8_t)(i * 7);
    outl(0xE4, (uint32_t)(uintptr_t)page);
    int same = 1;
    for (unsigned i = 0; i < sizeof(page); i++)
        same &= page[i] == (uint8_t)(i * 7);
    ok(same && iomem[0] == 0x1122AA44u, "pc-testdev port 0xE4: flushing a page leaves it as it was");

    /* ACPI S5: SLP_TYP 0 (\_S5) with SLP_EN in PM1a_CNT powers off: the run ends here */
    ok(1, "powering off through ACPI S5 (the run ends with status 0)");
    outw((uint16_t)pm1a_control, 0x2000);
    ok(0, "still running after S5");
    return 1;
}
