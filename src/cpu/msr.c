/* Model-specific registers (SDM Vol. 4 chapter 2; Vol. 3 11.11 MTRRs, 11.12 PAT, 17.17 TSC).
 *
 * One table names every MSR the core implements and what kind of register it is; the kinds'
 * semantics (read-only constants, storage with reserved bits, memory-type fields, the TSC
 * pair) follow. An MSR not in the table, the local APIC's aside, is #GP(0) on RDMSR and WRMSR,
 * as is a write of a reserved bit; docs/isa.md lists them all.
 */
#include "cpu/cpu.h"

#include "cpu/mmu.h"

enum msr_kind {
    MSR_CONSTANT,       /* read-only: reads give `value`, writes #GP */
    MSR_STORED,         /* read/write storage, `value` the writable bits: others #GP */
    MSR_TSC,
    MSR_TSC_ADJUST,
    MSR_EFER,
    MSR_SYSENTER,       /* IA32_SYSENTER_CS/ESP/EIP: ESP and EIP canonical addresses */
    MSR_ADDRESS,        /* storage for a linear address: a non-canonical one #GP */
    MSR_SEGMENT_BASE,   /* IA32_FS_BASE, IA32_GS_BASE: the segment register's base (canonical) */
    MSR_BIOS_SIGN_ID,   /* the microcode revision: any write, reads the revision */
    MSR_MISC_ENABLE,
    MSR_MTRR_DEF_TYPE,
    MSR_MTRR_FIXED,     /* eight memory types, one per byte */
    MSR_MTRR_PHYS_BASE,
    MSR_MTRR_PHYS_MASK,
    MSR_PAT,            /* eight PAT types, one per byte */
};

/* IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2): fast strings (0), automatic thermal control (3),
 * Enhanced SpeedStep (16), limit CPUID maxval (22), xTPR disable (23), XD disable (34) are
 * writable; BTS (11) and PEBS (12) unavailable read as 1 and ignore writes */
#define MISC_FAST_STRINGS (1ull << 0)
#define MISC_BTS_UNAVAILABLE (1ull << 11)
#define MISC_PEBS_UNAVAILABLE (1ull << 12)
#define MISC_LIMIT_CPUID (1ull << 22)
#define MISC_XD_DISABLE (1ull << 34)
#define MISC_WRITABLE (MISC_FAST_STRINGS | (1ull << 3) | (1ull << 16) | MISC_LIMIT_CPUID | \
                       (1ull << 23) | MISC_XD_DISABLE)
#define MISC_READ_ONLY (MISC_BTS_UNAVAILABLE | MISC_PEBS_UNAVAILABLE)

/* IA32_ARCH_CAPABILITIES (SDM Vol. 4 Table 2-2): an interpreter neither speculates nor keeps
 * data in fill buffers, so it declares itself free of the speculative-execution and
 * data-sampling issues those bits name: RDCL_NO (0), SKIP_L1DFL_VMENTRY (3), SSB_NO (4),
 * MDS_NO (5), PSCHANGE_MC_NO (6), TAA_NO (8), SBDR_SSDP_NO (13), FBSDP_NO (14), PSDP_NO (15),
 * BHI_NO (20), PBRSB_NO (24), GDS_NO (26), RFDS_NO (27). A kernel then enables none of the
 * mitigations those would need (no page-table isolation, no buffer clearing). */
#define ARCH_CAPABILITIES_VALUE ((1ull << 0) | (1ull << 3) | (1ull << 4) | (1ull << 5) | \
                                 (1ull << 6) | (1ull << 8) | (1ull << 13) | (1ull << 14) | \
                                 (1ull << 15) | (1ull << 20) | (1ull << 24) | (1ull << 26) | \
                                 (1ull << 27))
/* IA32_MTRRCAP: 8 variable ranges, fixed ranges, write-combining; no SMRR (SDM 11.11.1) */
#define MTRRCAP_VALUE 0x508u
/* physical address bits beyond MAXPHYADDR (CPUID 0x80000008: 32 here) are reserved */
#define PHYS_ADDRESS_BITS 32
#define PHYS_ABOVE_MASK (~0ull << PHYS_ADDRESS_BITS)

struct msr_desc {
    uint32_t index;
    uint8_t kind;
    uint8_t slot;         /* the element of its array (fixed MTRRs, variable MTRRs, SYSENTER) */
    uint64_t value;       /* MSR_CONSTANT: the value; MSR_STORED: the writable bits */
    uint64_t *(*storage)(struct x86_cpu *cpu, unsigned slot); /* MSR_STORED and the arrays */
};

static uint64_t *fixed_mtrr(struct x86_cpu *cpu, unsigned slot) { return &cpu->msr.mtrr_fixed[slot]; }
static uint64_t *variable_mtrr(struct x86_cpu *cpu, unsigned slot) { return &cpu->msr.mtrr_variable[slot]; }
static uint64_t *tsc_aux(struct x86_cpu *cpu, unsigned slot) { (void)slot; return &cpu->msr.tsc_aux; }
static uint64_t *star(struct x86_cpu *cpu, unsigned slot) { (void)slot; return &cpu->msr.star; }
static uint64_t *lstar(struct x86_cpu *cpu, unsigned slot) { (void)slot; return &cpu->msr.lstar; }
static uint64_t *cstar(struct x86_cpu *cpu, unsigned slot) { (void)slot; return &cpu->msr.cstar; }
static uint64_t *fmask(struct x86_cpu *cpu, unsigned slot) { (void)slot; return &cpu->msr.fmask; }
static uint64_t *kernel_gs_base(struct x86_cpu *cpu, unsigned slot)
{
    (void)slot;
    return &cpu->msr.kernel_gs_base;
}

#define PLATFORM_INFO 0xCEu

static const struct msr_desc msr_table[] = {
    { 0x010, MSR_TSC, 0, 0, NULL },                       /* IA32_TIME_STAMP_COUNTER */
    { 0x017, MSR_CONSTANT, 0, 0, NULL },                  /* IA32_PLATFORM_ID: platform 0 */
    { 0x03B, MSR_TSC_ADJUST, 0, 0, NULL },                /* IA32_TSC_ADJUST */
    { 0x08B, MSR_BIOS_SIGN_ID, 0, 0, NULL },              /* IA32_BIOS_SIGN_ID */
    { PLATFORM_INFO, MSR_CONSTANT, 0, 0, NULL },          /* MSR_PLATFORM_INFO: see read */
    { 0x0FE, MSR_CONSTANT, 0, MTRRCAP_VALUE, NULL },      /* IA32_MTRRCAP */
    { 0x10A, MSR_CONSTANT, 0, ARCH_CAPABILITIES_VALUE, NULL }, /* IA32_ARCH_CAPABILITIES */
    { 0x174, MSR_SYSENTER, 0, 0, NULL },                  /* IA32_SYSENTER_CS */
    { 0x175, MSR_SYSENTER, 1, 0, NULL },                  /* IA32_SYSENTER_ESP */
    { 0x176, MSR_SYSENTER, 2, 0, NULL },                  /* IA32_SYSENTER_EIP */
    { 0x1A0, MSR_MISC_ENABLE, 0, 0, NULL },               /* IA32_MISC_ENABLE */
    { 0x200, MSR_MTRR_PHYS_BASE, 0, 0, variable_mtrr }, { 0x201, MSR_MTRR_PHYS_MASK, 1, 0, variable_mtrr },
    { 0x202, MSR_MTRR_PHYS_BASE, 2, 0, variable_mtrr }, { 0x203, MSR_MTRR_PHYS_MASK, 3, 0, variable_mtrr },
    { 0x204, MSR_MTRR_PHYS_BASE, 4, 0, variable_mtrr }, { 0x205, MSR_MTRR_PHYS_MASK, 5, 0, variable_mtrr },
    { 0x206, MSR_MTRR_PHYS_BASE, 6, 0, variable_mtrr }, { 0x207, MSR_MTRR_PHYS_MASK, 7, 0, variable_mtrr },
    { 0x208, MSR_MTRR_PHYS_BASE, 8, 0, variable_mtrr }, { 0x209, MSR_MTRR_PHYS_MASK, 9, 0, variable_mtrr },
    { 0x20A, MSR_MTRR_PHYS_BASE, 10, 0, variable_mtrr }, { 0x20B, MSR_MTRR_PHYS_MASK, 11, 0, variable_mtrr },
    { 0x20C, MSR_MTRR_PHYS_BASE, 12, 0, variable_mtrr }, { 0x20D, MSR_MTRR_PHYS_MASK, 13, 0, variable_mtrr },
    { 0x20E, MSR_MTRR_PHYS_BASE, 14, 0, variable_mtrr }, { 0x20F, MSR_MTRR_PHYS_MASK, 15, 0, variable_mtrr },
    { 0x250, MSR_MTRR_FIXED, 0, 0, fixed_mtrr },          /* IA32_MTRR_FIX64K_00000 */
    { 0x258, MSR_MTRR_FIXED, 1, 0, fixed_mtrr },          /* IA32_MTRR_FIX16K_80000 */
    { 0x259, MSR_MTRR_FIXED, 2, 0, fixed_mtrr },          /* IA32_MTRR_FIX16K_A0000 */
    { 0x268, MSR_MTRR_FIXED, 3, 0, fixed_mtrr },          /* IA32_MTRR_FIX4K_C0000 ... */
    { 0x269, MSR_MTRR_FIXED, 4, 0, fixed_mtrr }, { 0x26A, MSR_MTRR_FIXED, 5, 0, fixed_mtrr },
    { 0x26B, MSR_MTRR_FIXED, 6, 0, fixed_mtrr }, { 0x26C, MSR_MTRR_FIXED, 7, 0, fixed_mtrr },
    { 0x26D, MSR_MTRR_FIXED, 8, 0, fixed_mtrr }, { 0x26E, MSR_MTRR_FIXED, 9, 0, fixed_mtrr },
    { 0x26F, MSR_MTRR_FIXED, 10, 0, fixed_mtrr },         /* ... IA32_MTRR_FIX4K_F8000 */
    { 0x277, MSR_PAT, 0, 0, NULL },                       /* IA32_PAT */
    { 0x2FF, MSR_MTRR_DEF_TYPE, 0, 0, NULL },             /* IA32_MTRR_DEF_TYPE */
    { 0xC0000080u, MSR_EFER, 0, 0, NULL },                /* IA32_EFER */
    { 0xC0000081u, MSR_STORED, 0, ~0ull, star },          /* IA32_STAR: SYSCALL/SYSRET CS, SS */
    { 0xC0000082u, MSR_ADDRESS, 0, 0, lstar },            /* IA32_LSTAR: 64-bit SYSCALL's RIP */
    { 0xC0000083u, MSR_ADDRESS, 0, 0, cstar },            /* IA32_CSTAR: kept (not used by Intel) */
    { 0xC0000084u, MSR_STORED, 0, 0xFFFFFFFFu, fmask },   /* IA32_FMASK: RFLAGS bits SYSCALL clears */
    { 0xC0000100u, MSR_SEGMENT_BASE, X86_SEG_FS, 0, NULL }, /* IA32_FS_BASE */
    { 0xC0000101u, MSR_SEGMENT_BASE, X86_SEG_GS, 0, NULL }, /* IA32_GS_BASE */
    { 0xC0000102u, MSR_ADDRESS, 0, 0, kernel_gs_base },   /* IA32_KERNEL_GS_BASE */
    { 0xC0000103u, MSR_STORED, 0, 0xFFFFFFFFu, tsc_aux }, /* IA32_TSC_AUX (RDTSCP) */
};

static const struct msr_desc *find_msr(uint32_t index)
{
    /* the table is sorted by index */
    size_t lo = 0, hi = sizeof(msr_table) / sizeof(msr_table[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (msr_table[mid].index == index)
            return &msr_table[mid];
        if (msr_table[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* memory types an MTRR may hold (SDM Table 11-8): UC 0, WC 1, WT 4, WP 5, WB 6 */
static bool mtrr_type_valid(unsigned type) { return type <= 6 && type != 2 && type != 3; }
/* PAT types (SDM Table 11-10) add UC- 7 */
static bool pat_type_valid(unsigned type) { return type == 7 || mtrr_type_valid(type); }

static bool all_bytes(uint64_t value, bool (*valid)(unsigned))
{
    for (unsigned i = 0; i < 8; i++)
        if (!valid((unsigned)(value >> (8 * i)) & 0xFF))
            return false;
    return true;
}

uint64_t x86_tsc(const struct x86_cpu *cpu) { return cpu->cycles + cpu->tsc_offset; }

/* SDM Vol. 3 17.17.1: the invariant TSC is one constant-rate clock, synchronised across the
 * processors. Cores here run in quanta, so a core behind the one ahead in its round is at an
 * earlier cycle than a TSC that core already read and stored in memory: reading its own cycle
 * counter would go back in time as Linux's check_tsc_warp sees it (tests/guests/smp-tsc.c).
 * A read therefore publishes the core's cycle into the machine's clock, as a device access
 * does, and reads that clock: every read is at least every read made before it, in the one
 * order the cores' memory accesses have too, and at most a quantum ahead of the core. */
uint64_t x86_read_tsc(struct x86_cpu *cpu)
{
    x86_publish_clock(cpu);
    return *cpu->clock + cpu->tsc_offset;
}

void x86_msr_reset(struct x86_cpu *cpu)
{
    memset(&cpu->msr, 0, sizeof(cpu->msr));
    cpu->msr.misc_enable = MISC_FAST_STRINGS | MISC_READ_ONLY;
    cpu->msr.pat = 0x0007040600070406ull; /* SDM Table 11-12: the power-up PAT */
}

bool x86_read_msr(struct x86_cpu *cpu, uint32_t index, uint64_t *value)
{
    const struct msr_desc *d = find_msr(index);
    if (!d) /* IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC registers: the local APIC's */
        return cpu->platform && cpu->platform->read_msr(cpu->platform->opaque, cpu, index, value);
    switch ((enum msr_kind)d->kind) {
    case MSR_CONSTANT:
        /* MSR_PLATFORM_INFO: the maximum non-turbo ratio (bits 15:8) of the 100 MHz bus
         * clock, from the modelled core clock; no CPUID faulting, no programmable ratios */
        *value = index == PLATFORM_INFO ? (uint64_t)(cpu->msr.core_ratio & 0xFF) << 8
                                        : d->value;
        return true;
    case MSR_STORED:
        *value = *d->storage(cpu, d->slot);
        return true;
    case MSR_TSC: *value = x86_read_tsc(cpu); return true;
    case MSR_TSC_ADJUST: *value = cpu->msr.tsc_adjust; return true;
    case MSR_EFER: *value = cpu->efer; return true;
    case MSR_SYSENTER: *value = cpu->sysenter[d->slot]; return true;
    case MSR_ADDRESS: *value = *d->storage(cpu, d->slot); return true;
    case MSR_SEGMENT_BASE: *value = cpu->seg[d->slot].base; return true;
    case MSR_BIOS_SIGN_ID: *value = (uint64_t)X86_MICROCODE_REVISION << 32; return true;
    case MSR_MISC_ENABLE: *value = cpu->msr.misc_enable; return true;
    case MSR_MTRR_DEF_TYPE: *value = cpu->msr.mtrr_def_type; return true;
    case MSR_MTRR_FIXED:
    case MSR_MTRR_PHYS_BASE:
    case MSR_MTRR_PHYS_MASK: *value = *d->storage(cpu, d->slot); return true;
    case MSR_PAT: *value = cpu->msr.pat; return true;
    }
    return false;
}

bool x86_write_msr(struct x86_cpu *cpu, uint32_t index, uint64_t value)
{
    const struct msr_desc *d = find_msr(index);
    if (!d)
        return cpu->platform && cpu->platform->write_msr(cpu->platform->opaque, cpu, index, value);
    switch ((enum msr_kind)d->kind) {
    case MSR_CONSTANT:
        return false;
    case MSR_STORED:
        if (value & ~d->value)
            return false;
        *d->storage(cpu, d->slot) = value;
        return true;
    case MSR_TSC: {
        /* SDM 17.17.3: a TSC write of X - TSC also adds that to IA32_TSC_ADJUST */
        uint64_t delta = value - x86_read_tsc(cpu);
        cpu->tsc_offset += delta;
        cpu->msr.tsc_adjust += delta;
        return true;
    }
    case MSR_TSC_ADJUST:
        cpu->tsc_offset += value - cpu->msr.tsc_adjust;
        cpu->msr.tsc_adjust = value;
        return true;
    case MSR_EFER: {
        /* SCE, LME and NXE are writable; LMA is the processor's (writes leave it alone); the
         * rest is reserved, NXE too while IA32_MISC_ENABLE disables XD. LME may not change
         * while paging is on: IA-32e mode is entered and left with CR0.PG (SDM Vol. 3 9.8.5) */
        uint64_t writable = X86_EFER_SCE | X86_EFER_LME | X86_EFER_NXE;
        if ((value & ~(writable | X86_EFER_LMA)) ||
            ((value & X86_EFER_NXE) && (cpu->msr.misc_enable & MISC_XD_DISABLE)))
            return false;
        if (((value ^ cpu->efer) & X86_EFER_LME) && (cpu->cr0 & X86_CR0_PG))
            return false;
        uint64_t next = (value & writable) | (cpu->efer & X86_EFER_LMA);
        uint64_t changed = next ^ cpu->efer;
        cpu->efer = next;
        if (changed & X86_EFER_NXE) {
            x86_tlb_flush(cpu);
            x86_tables_changed(cpu);
        }
        return true;
    }
    case MSR_SYSENTER:
        if (d->slot == 0 ? (value >> 32) != 0 : !x86_canonical(value))
            return false; /* CS: 32 bits; ESP and EIP: linear addresses (SDM Vol. 4 Table 2-2) */
        cpu->sysenter[d->slot] = value;
        return true;
    case MSR_ADDRESS:
        if (!x86_canonical(value))
            return false;
        *d->storage(cpu, d->slot) = value;
        return true;
    case MSR_SEGMENT_BASE:
        if (!x86_canonical(value))
            return false;
        cpu->seg[d->slot].base = value;
        return true;
    case MSR_BIOS_SIGN_ID:
        return true; /* software writes 0 before CPUID to read the revision: nothing to do */
    case MSR_MISC_ENABLE:
        if (value & ~(MISC_WRITABLE | MISC_READ_ONLY))
            return false;
        cpu->msr.misc_enable = (value & MISC_WRITABLE) | MISC_READ_ONLY;
        return true;
    case MSR_MTRR_DEF_TYPE:
        /* type in 7:0, FE bit 10, E bit 11 (SDM 11.11.2.1) */
        if ((value & ~0xCFFull) || !mtrr_type_valid(value & 0xFF))
            return false;
        cpu->msr.mtrr_def_type = value;
        return true;
    case MSR_MTRR_FIXED:
        if (!all_bytes(value, mtrr_type_valid))
            return false;
        *d->storage(cpu, d->slot) = value;
        return true;
    case MSR_MTRR_PHYS_BASE:
        /* type in 7:0, bits 11:8 and above MAXPHYADDR reserved (SDM 11.11.2.3) */
        if ((value & (0xF00ull | PHYS_ABOVE_MASK)) || !mtrr_type_valid(value & 0xFF))
            return false;
        *d->storage(cpu, d->slot) = value;
        return true;
    case MSR_MTRR_PHYS_MASK:
        /* valid bit 11; bits 10:0 and above MAXPHYADDR reserved */
        if (value & (0x7FFull | PHYS_ABOVE_MASK))
            return false;
        *d->storage(cpu, d->slot) = value;
        return true;
    case MSR_PAT:
        if (!all_bytes(value, pat_type_valid))
            return false;
        cpu->msr.pat = value;
        return true;
    }
    return false;
}

bool x86_cpuid_limited(const struct x86_cpu *cpu)
{
    return (cpu->msr.misc_enable & MISC_LIMIT_CPUID) != 0;
}

bool x86_xd_disabled(const struct x86_cpu *cpu)
{
    return (cpu->msr.misc_enable & MISC_XD_DISABLE) != 0;
}
