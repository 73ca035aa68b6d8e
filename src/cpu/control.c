/* Control registers, MSRs, I/O-port access rights, HLT and the reset state. */
#include "cpu/cpu.h"

#include "cpu/mmu.h"
#include "cpu/segment.h"
#include "platform/bus.h"

/* CR0 bits software can change; ET is hardwired to 1 (SDM Vol. 3 2.5). */
#define CR0_WRITABLE (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_NE | \
                      X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
/* CR4 bits we implement; setting any other raises #GP(0) as a reserved bit would, and CPUID
 * advertises exactly these (VME, DE, PSE, PAE, PGE, TSD through TSC; OSFXSR through FXSR,
 * which a processor without SSE accepts too: FXSAVE/FXRSTOR then leave the XMM area alone;
 * OSXMMEXCPT only with SSE; OSXSAVE only with XSAVE, SDM Vol. 3 2.5). */
#define CR4_SUPPORTED (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | \
                       X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_SMEP | X86_CR4_SMAP)

static void refresh_all_segments(struct x86_cpu *cpu)
{
    for (unsigned s = 0; s < X86_SEG_COUNT; s++)
        x86_segment_refresh(cpu, s);
}

/* IA-32e mode begins when paging is enabled with EFER.LME and ends when it is disabled (SDM
 * Vol. 3 9.8.5): PAE must be on, and the code running may not be 64-bit code (CS.L) nor the
 * task a 16-bit one (Vol. 2 MOV CR); leaving it is allowed only from compatibility mode */
static void change_long_mode(struct x86_cpu *cpu, uint32_t old_cr0, uint32_t new_cr0)
{
    bool enabling = !(old_cr0 & X86_CR0_PG) && (new_cr0 & X86_CR0_PG);
    bool disabling = (old_cr0 & X86_CR0_PG) && !(new_cr0 & X86_CR0_PG);
    if (enabling && (cpu->efer & X86_EFER_LME)) {
        uint8_t tss_type = cpu->tr.attributes & 0xF;
        if (!(cpu->cr4 & X86_CR4_PAE) || (cpu->seg[X86_SEG_CS].attributes & X86_SEG_ATTR_L) ||
            tss_type == 0x1 || tss_type == 0x3)
            x86_raise_gp0(cpu);
        cpu->efer |= X86_EFER_LMA;
    } else if (disabling && (cpu->efer & X86_EFER_LMA)) {
        if (cpu->mode == X86_MODE_64)
            x86_raise_gp0(cpu);
        cpu->efer &= ~(uint64_t)X86_EFER_LMA;
    }
}

void x86_write_control_register(struct x86_cpu *cpu, unsigned n, uint64_t value)
{
    /* the upper halves of CR0 and CR4 are reserved (SDM Vol. 3 2.5); CR3's bits above
     * MAXPHYADDR too (CR2 takes any address) */
    if (value >> 32 && n != 2 && n != 3)
        x86_raise_gp0(cpu);
    switch (n) {
    case 0: {
        /* SDM Vol. 2 MOV CR: #GP(0) for PG without PE, and NW without CD */
        if ((value & X86_CR0_PG) && !(value & X86_CR0_PE))
            x86_raise_gp0(cpu);
        if ((value & X86_CR0_NW) && !(value & X86_CR0_CD))
            x86_raise_gp0(cpu);
        uint32_t old = cpu->cr0;
        uint32_t next = ((uint32_t)value & CR0_WRITABLE) | X86_CR0_ET;
        uint64_t old_efer = cpu->efer;
        change_long_mode(cpu, old, next);
        if ((next & X86_CR0_PG) && !(old & X86_CR0_PG) && (cpu->cr4 & X86_CR4_PAE) &&
            !(cpu->efer & X86_EFER_LMA)) {
            /* enabling PAE paging loads the PDPTEs (SDM Vol. 3 4.4.1) */
            uint32_t saved = cpu->cr0;
            cpu->cr0 = next;
            bool ok = x86_load_pdptes(cpu);
            cpu->cr0 = saved;
            if (!ok) {
                cpu->efer = old_efer;
                x86_raise_gp0(cpu);
            }
        }
        cpu->cr0 = next;
        if ((old_efer ^ cpu->efer) & X86_EFER_LMA)
            x86_update_code_mode(cpu);
        uint32_t changed = old ^ cpu->cr0;
        if (changed & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)) {
            x86_tlb_flush(cpu);
            x86_tables_changed(cpu);
        }
        if (changed & X86_CR0_AM)
            x86_update_alignment_check(cpu);
        if (changed & X86_CR0_PE) {
            refresh_all_segments(cpu);
            if (!(cpu->cr0 & X86_CR0_PE))
                x86_set_cpl(cpu, 0);
        }
        x86_request_exit(cpu);
        break;
    }
    case 2:
        cpu->cr2 = value;
        break;
    case 3:
        if (cpu->efer & X86_EFER_LMA) {
            if (value >> 32)
                x86_raise_gp0(cpu); /* beyond MAXPHYADDR (32) */
        } else if ((cpu->cr0 & X86_CR0_PG) && (cpu->cr4 & X86_CR4_PAE)) {
            uint64_t old_cr3 = cpu->cr3;
            cpu->cr3 = value;
            if (!x86_load_pdptes(cpu)) {
                cpu->cr3 = old_cr3;
                x86_raise_gp0(cpu);
            }
        }
        cpu->cr3 = (uint32_t)value; /* bits 63:32 are 0 (checked above) or ignored */
        x86_tlb_flush_non_global(cpu);
        x86_tables_changed(cpu);
        x86_request_exit(cpu);
        break;
    case 4:
        if (value & ~(CR4_SUPPORTED | (cpu->simd & X86_SIMD_SSE ? X86_CR4_OSXMMEXCPT : 0) |
                      (cpu->simd & X86_SIMD_XSAVE ? X86_CR4_OSXSAVE : 0)))
            x86_raise_gp0(cpu);
        if ((cpu->efer & X86_EFER_LMA) && !(value & X86_CR4_PAE))
            x86_raise_gp0(cpu); /* IA-32e mode needs PAE (SDM Vol. 2 MOV CR) */
        if ((cpu->cr0 & X86_CR0_PG) && ((value ^ cpu->cr4) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE)) &&
            (value & X86_CR4_PAE) && !(cpu->efer & X86_EFER_LMA)) {
            uint32_t old_cr4 = cpu->cr4;
            cpu->cr4 = value;
            bool ok = x86_load_pdptes(cpu);
            cpu->cr4 = old_cr4;
            if (!ok)
                x86_raise_gp0(cpu);
        }
        if ((value ^ cpu->cr4) & (X86_CR4_PSE | X86_CR4_PGE | X86_CR4_PAE | X86_CR4_SMEP |
                                   X86_CR4_SMAP)) {
            x86_tlb_flush(cpu);
            x86_tables_changed(cpu);
        }
        cpu->cr4 = (uint32_t)value;
        x86_request_exit(cpu);
        break;
    default:
        x86_raise_ud(cpu); /* CR1, CR5-CR7 do not exist */
    }
}

uint64_t x86_read_control_register(struct x86_cpu *cpu, unsigned n)
{
    switch (n) {
    case 0: return cpu->cr0;
    case 2: return cpu->cr2;
    case 3: return cpu->cr3;
    case 4: return cpu->cr4;
    default: x86_raise_ud(cpu);
    }
}

void x86_halt(struct x86_cpu *cpu)
{
    cpu->halted = 1;
    x86_request_exit(cpu);
}

/* SDM Vol. 1 19.5: in protected mode with CPL > IOPL (and always in VM86), the TSS I/O
 * permission bitmap decides. */
static void check_io_permission(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
    bool vm86 = cpu->eflags & X86_FLAG_VM;
    unsigned iopl = (cpu->eflags & X86_FLAG_IOPL) >> 12;
    if (!(cpu->cr0 & X86_CR0_PE) || (!vm86 && cpu->cpl <= iopl))
        return;
    /* the I/O map base is at TSS offset 0x66; the TSS must be a 32-bit TSS reaching it */
    const struct x86_segment *tr = &cpu->tr;
    uint8_t type = tr->attributes & 0xF;
    if ((tr->attributes & X86_SEG_ATTR_UNUSABLE) || (type != 0x9 && type != 0xB) || tr->limit < 0x67)
        x86_raise_gp0(cpu);
    uint32_t map = (uint32_t)x86_read_system(cpu, tr->base + 0x66, 2);
    uint32_t byte = map + port / 8;
    if (byte + 1 > tr->limit)
        x86_raise_gp0(cpu);
    uint32_t bits = (uint32_t)x86_read_system(cpu, tr->base + byte, 2);
    uint32_t mask = ((1u << size) - 1) << (port % 8);
    if (bits & mask)
        x86_raise_gp0(cpu);
}

uint32_t x86_port_in(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
    if (X86_UNLIKELY(cpu->data_breakpoints))
        x86_debug_io_access(cpu, port, size);
    check_io_permission(cpu, port, size);
    cpu->cycles += cpu->cost[X86_COST_IO];
    x86_publish_clock(cpu);
    uint32_t value = x86_bus_port_read(cpu->bus, port, size);
    if (X86_UNLIKELY(cpu->port_hooked) && cpu->platform->port_access)
        cpu->platform->port_access(cpu->platform->opaque, cpu, port, size, value, false);
    return value;
}

void x86_port_out(struct x86_cpu *cpu, uint16_t port, unsigned size, uint32_t value)
{
    if (X86_UNLIKELY(cpu->data_breakpoints))
        x86_debug_io_access(cpu, port, size);
    check_io_permission(cpu, port, size);
    cpu->cycles += cpu->cost[X86_COST_IO];
    x86_publish_clock(cpu);
    x86_bus_port_write(cpu->bus, port, size, value);
    if (X86_UNLIKELY(cpu->port_hooked) && cpu->platform->port_access)
        cpu->platform->port_access(cpu->platform->opaque, cpu, port, size, value, true);
}

void x86_set_flat_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector, uint8_t dpl,
                          bool code)
{
    struct x86_segment *s = &cpu->seg[seg];
    s->selector = selector;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    /* present, accessed; code: execute/read; data: read/write; 32-bit, 4 KiB units */
    s->attributes = (uint16_t)((code ? 0x9B : 0x93) | ((dpl & 3) << 5) | X86_SEG_ATTR_DB |
                               X86_SEG_ATTR_G);
    x86_segment_refresh(cpu, seg);
}

void x86_cpu_reset(struct x86_cpu *cpu)
{
    /* SDM Vol. 3 9.1.1, Table 9-1: the power-up state */
    /* the fields from fault_jump on (the links to the platform) stay */
    uint32_t simd = cpu->simd; /* what the processor is, not its state */
    memset(cpu, 0, offsetof(struct x86_cpu, fault_jump));
    cpu->simd = simd;
    cpu->tlb = cpu->tlb_sets; /* CPL 0's */
    cpu->eflags = X86_FLAG_FIXED1;
    cpu->cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
    x86_set_gpr32(cpu, X86_EDX, X86_CPUID_SIGNATURE); /* EDX after reset and INIT: CPUID.1:EAX (SDM
                                              * Vol. 3 9.1.4) */
    cpu->rip = 0xFFF0;
    for (unsigned s = 0; s < X86_SEG_COUNT; s++) {
        cpu->seg[s].selector = 0;
        cpu->seg[s].base = 0;
        cpu->seg[s].limit = 0xFFFF;
        cpu->seg[s].attributes = 0x93;
    }
    cpu->seg[X86_SEG_CS].selector = 0xF000;
    cpu->seg[X86_SEG_CS].base = 0xFFFF0000u;
    cpu->seg[X86_SEG_CS].attributes = 0x9B;
    refresh_all_segments(cpu);
    cpu->gdtr.limit = cpu->idtr.limit = 0xFFFF;
    cpu->ldtr.limit = 0xFFFF;
    cpu->ldtr.attributes = 0x82;
    cpu->tr.limit = 0xFFFF;
    cpu->tr.attributes = 0x8B;
    cpu->dr[6] = 0xFFFF0FF0u;
    cpu->dr[7] = 0x00000400u;
    cpu->mode = X86_MODE_16;
    x86_fpu_init(cpu);
    cpu->fpu.control = 0x0040; /* power-up x87 state (SDM Vol. 3 Table 9-1) */
    cpu->sse.mxcsr = X86_MXCSR_RESET;
    cpu->xcr0 = 1; /* x87 only (SDM Vol. 3 Table 9-1) */
    x86_msr_reset(cpu);
    x86_tlb_flush(cpu);
    x86_tables_changed(cpu);
}

void x86_cpu_init_signal(struct x86_cpu *cpu)
{
    /* SDM Vol. 3 9.1.1, Table 9-1: INIT sets the power-up state except CR0.CD/NW, the TSC, the
     * MSRs (and the x87 state); the clock keeps running */
    uint64_t cycles = cpu->cycles, instructions = cpu->instructions, tsc_offset = cpu->tsc_offset;
    uint64_t slice_end = cpu->slice_end, efer = cpu->efer;
    struct x86_msrs msr = cpu->msr;
    uint64_t sysenter[3];
    memcpy(sysenter, cpu->sysenter, sizeof(sysenter));
    uint32_t cache_bits = cpu->cr0 & (X86_CR0_CD | X86_CR0_NW);
    uint32_t epoch = cpu->table_epoch;
    struct x86_fpu fpu = cpu->fpu;  /* INIT leaves the x87 and SSE state alone */
    struct x86_sse sse = cpu->sse;
    uint64_t xcr0 = cpu->xcr0;      /* and XCR0 (SDM Vol. 3 Table 9-1) */
    x86_cpu_reset(cpu);
    cpu->fpu = fpu;
    cpu->sse = sse;
    cpu->xcr0 = xcr0;
    cpu->cycles = cycles;
    cpu->instructions = instructions;
    cpu->tsc_offset = tsc_offset;
    cpu->slice_end = slice_end;
    cpu->efer = efer & ~(uint64_t)X86_EFER_LMA; /* paging is off: IA-32e mode is not active */
    cpu->msr = msr;
    memcpy(cpu->sysenter, sysenter, sizeof(sysenter));
    cpu->cr0 = (cpu->cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | cache_bits;
    cpu->table_epoch = epoch;   /* decoded tables from before must stay stale */
    x86_tables_changed(cpu);
    x86_request_exit(cpu);
}

void x86_cpu_startup(struct x86_cpu *cpu, uint8_t vector)
{
    /* the state INIT left, but CS:IP at the start-up page: selector vector << 8, base
     * vector << 12, IP 0 (SDM Vol. 3 8.4.4.1; what QEMU and KVM do too) */
    struct x86_segment *cs = &cpu->seg[X86_SEG_CS];
    cs->selector = (uint16_t)(vector << 8);
    cs->base = (uint32_t)vector << 12;
    cs->limit = 0xFFFF;
    cs->attributes = 0x9B;
    x86_segment_refresh(cpu, X86_SEG_CS);
    cpu->rip = 0;
    cpu->wait_for_sipi = 0;
    cpu->sipi_pending = 0;
    cpu->halted = 0;
    x86_request_exit(cpu);
}

void x86_cpu_enter_flat32(struct x86_cpu *cpu)
{
    /* The state `qemu-system-i386 -kernel` enters a Multiboot kernel in: protected mode,
     * paging off, flat 4 GiB segments (QEMU 7.2's multiboot option ROM: CS 0x08, data 0x10),
     * IF clear. The machine points GDTR at a matching GDT when it loads a guest. */
    cpu->cr0 = X86_CR0_PE | X86_CR0_ET;
    cpu->eflags = X86_FLAG_FIXED1;
    cpu->lazy.op = 0;
    x86_set_flat_segment(cpu, X86_SEG_CS, 0x08, 0, true);
    for (unsigned s = 0; s < X86_SEG_COUNT; s++)
        if (s != X86_SEG_CS)
            x86_set_flat_segment(cpu, s, 0x10, 0, false);
    cpu->gdtr.base = 0;
    cpu->gdtr.limit = 0;
    cpu->idtr.base = 0;
    cpu->idtr.limit = 0x3FF;
    cpu->ldtr.attributes = X86_SEG_ATTR_UNUSABLE;
    x86_set_cpl(cpu, 0);
    cpu->mode = X86_MODE_32;
    cpu->halted = 0;
    x86_tlb_flush(cpu);
    x86_tables_changed(cpu);
}

void x86_cpu_enter_long64(struct x86_cpu *cpu, uint64_t cr3)
{
    /* IA-32e mode as the SDM's activation sequence leaves it (Vol. 3 9.8.5): PAE, LME, then
     * PG, which sets LMA; a 64-bit CS (L = 1, D = 0) makes it 64-bit mode */
    cpu->cr4 |= X86_CR4_PAE;
    cpu->cr3 = cr3;
    cpu->efer = X86_EFER_LME | X86_EFER_LMA;
    cpu->cr0 |= X86_CR0_PG;
    struct x86_segment *cs = &cpu->seg[X86_SEG_CS];
    cs->attributes = (uint16_t)((cs->attributes & ~X86_SEG_ATTR_DB) | X86_SEG_ATTR_L);
    x86_segment_refresh(cpu, X86_SEG_CS);
    x86_update_code_mode(cpu);
    x86_tlb_flush(cpu);
    x86_tables_changed(cpu);
    x86_request_exit(cpu);
}
