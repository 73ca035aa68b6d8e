/* Fuzz target for the devices (issue "Reliability"): a random device program run by the guest,
 * through the public API only. Each 6-byte record of the input becomes a few instructions: a
 * port write or read of 1, 2 or 4 bytes to one of the PC's device ports, an MMIO write or read
 * in the LAPIC, IOAPIC, HPET or e1000 window, a pulse of a pc-testdev interrupt line, or a
 * window with interrupts enabled. Interrupt handlers send the EOIs and return; exceptions stop
 * the guest (cli; hlt). With e1000 ring registers pointing anywhere, the NIC's DMA must stay
 * inside RAM. Properties: no crash, a defined stop, and the same program gives the same
 * machine twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <x86irq/x86irq.h>

#define RAM (16u << 20)
#define BUDGET 200000u
#define IDT 0x2000u
#define HANDLER 0x4000u
#define FAULT 0x4100u
#define CODE 0x100000u
#define MAX_RECORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the ports of the PC's devices (docs/guest-contract.md) */
static const uint16_t ports[] = {
    0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1,                 /* 8259 pair, ELCR */
    0x40, 0x41, 0x42, 0x43, 0x61,                         /* PIT, port B */
    0x70, 0x71,                                           /* RTC */
    0x60, 0x64,                                           /* i8042 */
    0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, /* COM1 */
    0x510, 0x511,                                         /* fw_cfg */
    0xCF8, 0xCFC, 0xCFD, 0xCFE, 0xCFF,                    /* PCI configuration */
    0xE0, 0xE4, 0x2000, 0x2005, 0x200A, 0x200B,           /* pc-testdev */
    0x600, 0x604, 0x608, 0x620, 0x624,                    /* ACPI PM, GPE0 */
    0xC000, 0xC004,                                       /* e1000's I/O BAR */
    0x92,                                                 /* port A (reset: ends the run) */
};
static const uint32_t windows[] = { 0xFEE00000u, 0xFEC00000u, 0xFED00000u, 0xFEBC0000u,
                                    0xFF000000u /* pc-testdev iomem */ };

static uint8_t *emit(uint8_t *p, const void *bytes, size_t n)
{
    memcpy(p, bytes, n);
    return p + n;
}
static uint8_t *emit32(uint8_t *p, uint8_t opcode, uint32_t v)
{
    *p++ = opcode;
    for (int i = 0; i < 4; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

struct outcome {
    uint64_t cycles, instructions;
    x86irq_stop_reason reason;
    uint32_t eip, eflags;
};

static struct outcome run_once(const uint8_t *data, size_t size)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    x86irq_config c;
    x86irq_config_init(&c);
    c.ram_size = RAM;
    c.nic_peer = size && (data[0] & 1);
    x86irq_machine *m = NULL;
    if (x86irq_machine_create(&c, &m) != X86IRQ_OK)
        abort();
    static uint8_t low[0x5000];
    memset(low, 0, sizeof(low));
    /* the boot GDT the machine starts with has flat code at 0x08 (docs/guest-contract.md);
     * vectors 0-31 stop the guest, the others EOI to the LAPIC and both 8259s and return */
    for (unsigned v = 0; v < 256; v++) {
        uint32_t h = v < 32 ? FAULT : HANDLER;
        uint8_t *g = low + IDT + 8 * v;
        g[0] = (uint8_t)h; g[1] = (uint8_t)(h >> 8); g[2] = 0x08; g[3] = 0;
        g[4] = 0; g[5] = 0x8E; g[6] = 0; g[7] = 0;
    }
    static const uint8_t handler[] = {
        0x50,                                     /* push eax */
        0xC7, 0x05, 0xB0, 0x00, 0xE0, 0xFE, 0, 0, 0, 0, /* mov dword [0xFEE000B0], 0 */
        0xB0, 0x20, 0xE6, 0xA0, 0xE6, 0x20,       /* mov al, 0x20; out 0xA0, al; out 0x20, al */
        0x58, 0xCF,                               /* pop eax; iret */
    };
    memcpy(low + HANDLER, handler, sizeof(handler));
    low[FAULT] = 0xFA;
    low[FAULT + 1] = 0xF4;
    low[0x800] = 0xFF; low[0x801] = 0x07; /* the IDTR image: limit 0x7FF, base IDT */
    low[0x802] = (uint8_t)IDT; low[0x803] = (uint8_t)(IDT >> 8);
    if (x86irq_write_physical(m, 0, low, sizeof(low)) != X86IRQ_OK)
        abort();

    static uint8_t code[MAX_RECORDS * 24 + 64];
    uint8_t *p = code;
    p = emit(p, (const uint8_t[]){ 0x0F, 0x01, 0x1D, 0x00, 0x08, 0x00, 0x00 }, 7); /* lidt */
    p = emit32(p, 0xBC, 0x90000);                                            /* mov esp */
    for (size_t at = 1; at + 6 <= size && (size_t)(p - code) < sizeof(code) - 32; at += 6) {
        uint8_t op = data[at], target = data[at + 1];
        uint32_t value = (uint32_t)data[at + 2] | (uint32_t)data[at + 3] << 8 |
                         (uint32_t)data[at + 4] << 16 | (uint32_t)data[at + 5] << 24;
        uint16_t port = ports[target % (sizeof(ports) / sizeof(ports[0]))];
        uint32_t address = windows[target % 5] + (value >> 20 & 0xFFC);
        switch (op % 8) {
        case 0: case 1: case 2: /* out: 1, 2 or 4 bytes */
            p = emit32(p, 0xBA, port);
            p = emit32(p, 0xB8, value);
            if (op % 8 == 1)
                *p++ = 0x66;
            *p++ = op % 8 == 0 ? 0xEE : 0xEF;
            break;
        case 3: /* in */
            p = emit32(p, 0xBA, port);
            if (op & 8)
                *p++ = 0x66;
            *p++ = op & 16 ? 0xED : 0xEC;
            break;
        case 4: /* MMIO write */
            p = emit32(p, 0xB8, value);
            p = emit32(p, 0xA3, address);
            break;
        case 5: /* MMIO read */
            p = emit32(p, 0xA1, address);
            break;
        case 6: /* a pc-testdev line pulse: GSI from the value */
            p = emit32(p, 0xBA, 0x2000 + (value % 24));
            p = emit(p, (const uint8_t[]){ 0xB0, 0x01, 0xEE, 0xB0, 0x00, 0xEE }, 6);
            break;
        default: /* interrupts on for a while */
            p = emit(p, (const uint8_t[]){ 0xFB, 0x90, 0x90, 0x90, 0xF3, 0x90, 0xFA }, 7);
            break;
        }
    }
    p = emit(p, (const uint8_t[]){ 0xFB, 0xF4, 0xFA, 0xF4 }, 4); /* sti; hlt; cli; hlt */
    if (x86irq_write_physical(m, CODE, code, (size_t)(p - code)) != X86IRQ_OK ||
        x86irq_set_register(m, X86IRQ_REG_EIP, CODE) != X86IRQ_OK)
        abort();
    if (x86irq_run(m, BUDGET, &o.reason) != X86IRQ_OK)
        abort();
    o.cycles = x86irq_cycles(m);
    o.instructions = x86irq_instructions(m);
    if (x86irq_get_register(m, X86IRQ_REG_EIP, &o.eip) != X86IRQ_OK ||
        x86irq_get_register(m, X86IRQ_REG_EFLAGS, &o.eflags) != X86IRQ_OK)
        abort();
    x86irq_machine_destroy(m);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome a = run_once(data, size);
    struct outcome b = run_once(data, size);
    if (memcmp(&a, &b, sizeof(a)) != 0)
        abort();
    return 0;
}
