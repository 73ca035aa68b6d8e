/* The debug registers' breakpoints (SDM Vol. 3 17.2-17.3): DR0-DR3 addresses, DR7 enables,
 * conditions (instruction execution, data writes, data reads and writes, I/O with CR4.DE) and
 * lengths, DR6 status. Instruction breakpoints are faults checked before an instruction (not
 * while EFLAGS.RF is set); data and I/O breakpoints are traps taken after the instruction that
 * hit them, together with a single-step trap in one #DB. While any breakpoint is enabled the
 * core runs its per-instruction loop, and data accesses take the checked path. */
#include "cpu/cpu.h"
#include "cpu/platform.h"


enum { RW_EXECUTE = 0, RW_WRITE = 1, RW_IO = 2, RW_READ_WRITE = 3 };

static bool enabled(const struct x86_cpu *cpu, unsigned i) { return (cpu->dr[7] >> (2 * i)) & 3; }
static unsigned condition(const struct x86_cpu *cpu, unsigned i)
{
    return (cpu->dr[7] >> (16 + 4 * i)) & 3;
}
/* LEN: 00 one byte, 01 two, 11 four, 10 eight (SDM Vol. 3 17.2.5) */
static uint32_t length(const struct x86_cpu *cpu, unsigned i)
{
    static const uint32_t lengths[4] = { 1, 2, 8, 4 };
    return lengths[(cpu->dr[7] >> (18 + 4 * i)) & 3];
}

/* cpu->data_breakpoints' bits: who checks data accesses */
enum { DATA_DR7 = 1, DATA_PLATFORM = 2 };

static void set_data_checks(struct x86_cpu *cpu, uint8_t checks)
{
    bool changed = checks != cpu->data_breakpoints;
    cpu->data_breakpoints = checks;
    if (changed)
        for (unsigned s = 0; s < X86_SEG_COUNT; s++)
            x86_segment_refresh(cpu, s); /* data accesses must reach the check */
    x86_request_exit(cpu);               /* the run loop chooses the per-instruction loop */
}

void x86_debug_registers_changed(struct x86_cpu *cpu)
{
    uint8_t armed = 0, data = 0;
    for (unsigned i = 0; i < 4; i++)
        if (enabled(cpu, i)) {
            armed = 1;
            if (condition(cpu, i) != RW_EXECUTE)
                data = 1;
        }
    cpu->breakpoints_armed = armed;
    set_data_checks(cpu, (uint8_t)((cpu->data_breakpoints & DATA_PLATFORM) | data));
}

void x86_debug_platform_watch(struct x86_cpu *cpu, bool on)
{
    set_data_checks(cpu, (uint8_t)((cpu->data_breakpoints & DATA_DR7) | (on ? DATA_PLATFORM : 0)));
}

/* the breakpoints an access of size bytes at address hits (aligned ranges, 17.2.5) */
static uint8_t hits(const struct x86_cpu *cpu, uint64_t address, unsigned size, bool io,
                    bool write)
{
    uint8_t mask = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (!enabled(cpu, i))
            continue;
        unsigned c = condition(cpu, i);
        bool wanted = io ? c == RW_IO && (cpu->cr4 & X86_CR4_DE)
                         : (c == RW_READ_WRITE || (c == RW_WRITE && write));
        if (!wanted)
            continue;
        uint64_t len = length(cpu, i);
        uint64_t start = cpu->dr[i] & ~(len - 1);
        if (address <= start + len - 1 && start <= address + size - 1)
            mask |= (uint8_t)(1u << i);
    }
    return mask;
}

void x86_debug_data_access(struct x86_cpu *cpu, uint64_t linear, unsigned size, bool write)
{
    if (cpu->data_breakpoints & DATA_DR7)
        cpu->pending_breakpoints |= hits(cpu, linear, size, false, write);
    if ((cpu->data_breakpoints & DATA_PLATFORM) && cpu->platform->watch)
        cpu->platform->watch(cpu->platform->opaque, cpu, linear, size, write);
}

void x86_debug_io_access(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
    if (cpu->data_breakpoints & DATA_DR7)
        cpu->pending_breakpoints |= hits(cpu, port, size, true, true);
}

uint8_t x86_debug_instruction_breakpoints(const struct x86_cpu *cpu, uint64_t linear)
{
    uint8_t mask = 0;
    for (unsigned i = 0; i < 4; i++)
        if (enabled(cpu, i) && condition(cpu, i) == RW_EXECUTE && cpu->dr[i] == linear)
            mask |= (uint8_t)(1u << i);
    return mask;
}
