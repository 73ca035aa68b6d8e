/* Fuzz target for the whole machine (issue "Reliability"): random code under random state, one
 * or two CPUs, through the public API only. The input picks the options (two CPUs, paging,
 * ring 3, damaged descriptors, IA-32e mode), overwrites some GDT descriptors, IDT gates and
 * page-directory entries of a sane protected-mode (or long-mode) set-up, and the rest is the
 * code, run after a fixed prologue that loads those tables (and enters long mode by the SDM's
 * sequence: then the code runs as 64-bit code, through 16-byte gates). Properties: every call returns a defined status, the run
 * stays within its budget (plus one instruction), and the same input gives the same machine
 * twice (cycles, instructions, stop reason, every register), the second time with a hook of
 * every kind added (x86irq_hook_add), their ranges from the input's last bytes: hooks observe
 * and change nothing, whichever blocks they make the cores run one instruction at a time. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <x86irq/x86irq.h>

#define RAM (16u << 20)
#define BUDGET 20000u
#define GDT 0x1000u
#define IDT 0x2000u
#define PAGE_DIR 0x3000u
#define HANDLER 0x4000u
#define PROLOGUE 0x7000u
#define TABLES 0x0800u   /* the GDTR and IDTR images */
#define CODE 0x100000u
#define PML4 0x5000u     /* long mode: PML4 -> PDPT with one 1 GiB identity page */
#define PDPT 0x6000u
#define IDT64 0x9000u    /* long mode: 256 16-byte gates */
#define LOW 0xA000u
#define LONG_MODE 0x40   /* the option bit */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

struct outcome {
    uint64_t cycles, instructions;
    x86irq_stop_reason reason;
    uint32_t regs[X86IRQ_REG_COUNT];
};

static void observe(x86irq_machine *m, const x86irq_hook_event *event, void *user_data)
{
    (void)m;
    if (event->size != sizeof(*event) || event->kind >= X86IRQ_HOOK_KIND_COUNT)
        abort();
    ++*(uint64_t *)user_data;
}

/* a hook of every kind, the ranges around the code and the tables chosen by the input */
static void add_hooks(x86irq_machine *m, const uint8_t *data, size_t size, uint64_t *calls)
{
    uint8_t a = size > 1 ? data[size - 1] : 0, b = size > 2 ? data[size - 2] : 0;
    static const uint64_t bases[4] = { CODE, PROLOGUE, HANDLER, 0x90000 - 0x100 };
    for (unsigned kind = 0; kind < X86IRQ_HOOK_KIND_COUNT; kind++) {
        x86irq_hook_filter f;
        x86irq_hook_filter_init(&f);
        if (kind == X86IRQ_HOOK_INSTRUCTION || kind == X86IRQ_HOOK_MEMORY) {
            f.first = bases[(a >> (2 * (kind & 1))) & 3] + (b & 0x3F);
            f.last = f.first + (b >> 6) * 64;
            if (kind == X86IRQ_HOOK_MEMORY)
                f.access = (a >> 4) & 0xF;
        } else if (kind == X86IRQ_HOOK_PORT || kind == X86IRQ_HOOK_INTERRUPT) {
            f.first = b & 0x1F;
            f.last = f.first + a;
        }
        if (x86irq_hook_add(m, (x86irq_hook_kind)kind, &f, observe, calls, NULL) != X86IRQ_OK)
            abort();
    }
}

static struct outcome run_once(const uint8_t *data, size_t size, bool hooked)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    uint8_t options = size ? data[0] : 0;
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = RAM;
    c.cpus = options & 1 ? 2 : 1;
    x86irq_machine *m = NULL;
    if (x86irq_machine_create(&c, &m) != X86IRQ_OK)
        abort();
    static uint8_t low[LOW];
    memset(low, 0, sizeof(low));
    /* the GDT: null, flat code and data for rings 0 and 3, 64-bit ring-0 code (0x28) */
    static const uint64_t gdt[] = { 0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull,
                                    0x00CFFA000000FFFFull, 0x00CFF2000000FFFFull,
                                    0x00AF9A000000FFFFull };
    bool long_mode = options & LONG_MODE;
    memcpy(low + GDT, gdt, sizeof(gdt));
    /* every vector: a 32-bit interrupt gate (DPL 3) to a handler that gives up (cli; hlt) */
    for (unsigned v = 0; v < 256; v++) {
        uint8_t *g = low + IDT + 8 * v;
        g[0] = (uint8_t)HANDLER; g[1] = (uint8_t)(HANDLER >> 8); g[2] = 0x08; g[3] = 0;
        g[4] = 0; g[5] = 0xEE; g[6] = 0; g[7] = 0;
    }
    /* long mode: the same handler through 64-bit interrupt gates (DPL 3) on CS 0x28 */
    for (unsigned v = 0; v < 256; v++) {
        uint8_t *g = low + IDT64 + 16 * v;
        g[0] = (uint8_t)HANDLER; g[1] = (uint8_t)(HANDLER >> 8); g[2] = 0x28; g[3] = 0;
        g[4] = 0; g[5] = 0xEE;
    }
    put32(low + PML4, PDPT | 7);
    put32(low + PDPT, 0x87); /* a 1 GiB page at 0: all of RAM */
    low[HANDLER] = 0xFA;     /* cli */
    low[HANDLER + 1] = 0xF4; /* hlt */
    /* 4 MiB identity pages for the RAM */
    for (unsigned i = 0; i < RAM >> 22; i++)
        put32(low + PAGE_DIR + 4 * i, (i << 22) | 0x87);
    /* the input's edits: up to 8 (what, index, value) triples */
    size_t at = 1;
    for (unsigned e = 0; e < 8 && at + 3 <= size && (options & 0x10); e++, at += 3) {
        uint8_t what = data[at], index = data[at + 1], value = data[at + 2];
        switch (what & 3) {
        case 0: low[GDT + (index % 48)] ^= value; break;         /* a descriptor byte */
        case 1: /* a gate byte */
            if (long_mode)
                low[IDT64 + (index * 16 + (what >> 2) % 16)] ^= value;
            else
                low[IDT + (index * 8 + (what >> 2) % 8)] ^= value;
            break;
        case 2: low[PAGE_DIR + 4 * (index % 4)] ^= value; break; /* PDE flags */
        default: low[HANDLER + (index % 2)] = value; break;      /* the handler */
        }
    }
    /* the GDTR and IDTR images, and the prologue */
    uint8_t *t = low + TABLES;
    t[0] = 47; t[1] = 0; put32(t + 2, GDT);
    t[8] = 0xFF; t[9] = 0x07; put32(t + 10, IDT);
    t[16] = 0xFF; t[17] = 0x0F; put32(t + 18, IDT64); /* lidt's m16&64 in 64-bit mode */
    static const uint8_t prologue[] = {
        0x0F, 0x01, 0x15, 0x00, 0x08, 0x00, 0x00,       /* lgdt [0x800] */
        0x0F, 0x01, 0x1D, 0x08, 0x08, 0x00, 0x00,       /* lidt [0x808] */
        0xEA, 0x15, 0x70, 0x00, 0x00, 0x08, 0x00,       /* jmp 0x08:0x7015 */
        0x66, 0xB8, 0x10, 0x00,                         /* mov ax, 0x10 */
        0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0,             /* mov ds, es, ss */
        0xBC, 0x00, 0x00, 0x09, 0x00,                   /* mov esp, 0x90000 */
    };
    memcpy(low + PROLOGUE, prologue, sizeof(prologue));
    size_t p = PROLOGUE + sizeof(prologue);
    if (long_mode) { /* PAE, CR3, EFER.LME, PG, then 64-bit code: SDM Vol. 3 9.8.5 */
        static const uint8_t to_long[] = {
            0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x20, 0x0F, 0x22, 0xE0, /* cr4 |= PAE */
            0xB8, 0x00, 0x50, 0x00, 0x00, 0x0F, 0x22, 0xD8,       /* mov cr3, PML4 */
            0xB9, 0x80, 0x00, 0x00, 0xC0, 0x0F, 0x32,             /* rdmsr IA32_EFER */
            0x0D, 0x00, 0x01, 0x00, 0x00, 0x0F, 0x30,             /* | LME; wrmsr */
            0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80, 0x0F, 0x22, 0xC0, /* cr0 |= PG */
            0xEA, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00,             /* jmp 0x28:next */
        };
        memcpy(low + p, to_long, sizeof(to_long));
        p += sizeof(to_long);
        put32(low + p - 6, (uint32_t)p);
        static const uint8_t idt64[] = { 0x0F, 0x01, 0x1C, 0x25, 0x10, 0x08, 0x00, 0x00 };
        memcpy(low + p, idt64, sizeof(idt64)); /* lidt [0x810] */
        p += sizeof(idt64);
        options &= ~6; /* no 32-bit paging, no IRET to ring 3 */
    }
    if (options & 2) { /* paging: CR3, CR4.PSE, CR0.PG */
        static const uint8_t paging[] = {
            0xB8, 0x00, 0x30, 0x00, 0x00, 0x0F, 0x22, 0xD8, /* mov eax, 0x3000; mov cr3, eax */
            0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x10, 0x0F, 0x22, 0xE0, /* cr4 |= PSE */
            0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80, 0x0F, 0x22, 0xC0, /* cr0 |= PG */
        };
        memcpy(low + p, paging, sizeof(paging));
        p += sizeof(paging);
    }
    if (options & 4) { /* to ring 3 through IRET: SS, ESP, EFLAGS, CS, EIP */
        static const uint8_t to_user[] = {
            0x6A, 0x23, 0x68, 0x00, 0x00, 0x08, 0x00, 0x68, 0x02, 0x02, 0x00, 0x00,
            0x6A, 0x1B, 0x68, 0x00, 0x00, 0x10, 0x00, 0xCF,
        };
        memcpy(low + p, to_user, sizeof(to_user));
        p += sizeof(to_user);
    } else {
        low[p] = 0xE9; /* jmp CODE */
        put32(low + p + 1, CODE - (uint32_t)(p + 5));
        p += 5;
    }
    if (x86irq_write_physical(m, 0, low, sizeof(low)) != X86IRQ_OK)
        abort();
    /* the code: the rest of the input, then zeros (add [eax], al) */
    if (at < size && x86irq_write_physical(m, CODE, data + at, size - at) != X86IRQ_OK)
        abort();
    if (x86irq_set_register(m, X86IRQ_REG_EIP, PROLOGUE) != X86IRQ_OK)
        abort();
    uint64_t calls = 0;
    if (hooked)
        add_hooks(m, data, size, &calls);
    x86irq_status s = x86irq_run(m, BUDGET, &o.reason);
    if (s != X86IRQ_OK)
        abort();
    o.cycles = x86irq_cycles(m);
    o.instructions = x86irq_instructions(m);
    /* a stop at the budget may overrun it by one instruction's cost (a string iteration, a
     * delivery, a task switch: at most a few hundred cycles) */
    if (o.reason == X86IRQ_STOP_BUDGET && o.cycles > BUDGET + 4096)
        abort();
    for (unsigned r = 0; r < X86IRQ_REG_COUNT; r++)
        if (x86irq_get_register(m, (x86irq_register)r, &o.regs[r]) != X86IRQ_OK)
            abort();
    /* a second run: either more of the same or a refusal with a message */
    x86irq_stop_reason again;
    s = x86irq_run(m, 1000, &again);
    if (s != X86IRQ_OK && (s != X86IRQ_ERR_STATE || !x86irq_last_error(m)[0]))
        abort();
    x86irq_machine_destroy(m);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome a = run_once(data, size, false);
    struct outcome b = run_once(data, size, true);
    if (memcmp(&a, &b, sizeof(a)) != 0)
        abort(); /* the same input, another machine (or the hooks changed what it did) */
    return 0;
}
