/* System instructions: in/out, cli/sti, hlt, cpuid, rdtsc, rdmsr/wrmsr, descriptor-table
 * registers, LDTR/TR, lar/lsl/verr/verw/arpl, lmsw/smsw, control and debug registers, clts,
 * invlpg, cache control, and the #UD family. */
#include "cpu/exec.h"
#include "cpu/exec_handlers.h"
#include "cpu/mmu.h"
#include "cpu/segment.h"

/* ------------------------------------------------------------------ I/O */

X86_HANDLER(x86_exec_in)
{
    unsigned size = insn->opsize;
    uint16_t port = insn->operand[1] == X86_OPK_DX ? (uint16_t)x86_gpr32(cpu, X86_EDX)
                                                   : (uint16_t)(insn->imm & 0xFF);
    x86_reg_set(cpu, X86_EAX, size, x86_port_in(cpu, port, size));
}

X86_HANDLER(x86_exec_out)
{
    unsigned size = insn->opsize;
    uint16_t port = insn->operand[0] == X86_OPK_DX ? (uint16_t)x86_gpr32(cpu, X86_EDX)
                                                   : (uint16_t)(insn->imm & 0xFF);
    x86_port_out(cpu, port, size, x86_reg_get(cpu, X86_EAX, size));
}

/* ------------------------------------------------------------------ interrupt flag, halt */

/* cli/sti (SDM Vol. 2 CLI, STI): IF itself needs CPL <= IOPL in protected mode and IOPL 3 in
 * virtual-8086 mode. Below that, the virtual interrupt flag VIF stands in for it in
 * virtual-8086 mode with CR4.VME and at CPL 3 with CR4.PVI; otherwise #GP(0). */
static bool interrupt_flag_is_virtual(struct x86_cpu *cpu)
{
    if (cpu->eflags & X86_FLAG_VM) {
        if (x86_iopl(cpu) == 3)
            return false;
        if (cpu->cr4 & X86_CR4_VME)
            return true;
    } else if (!(cpu->cr0 & X86_CR0_PE) || cpu->cpl <= x86_iopl(cpu)) {
        return false;
    } else if (cpu->cpl == 3 && (cpu->cr4 & X86_CR4_PVI)) {
        return true;
    }
    x86_raise_gp0(cpu);
}

X86_HANDLER(x86_exec_cli)
{
    (void)insn;
    if (interrupt_flag_is_virtual(cpu))
        cpu->eflags &= ~X86_FLAG_VIF;
    else
        cpu->eflags &= ~X86_FLAG_IF;
}

X86_HANDLER(x86_exec_sti)
{
    (void)insn;
    if (interrupt_flag_is_virtual(cpu)) {
        /* a pending virtual interrupt: the monitor must deliver it (#GP) */
        if (cpu->eflags & X86_FLAG_VIP)
            x86_raise_gp0(cpu);
        cpu->eflags |= X86_FLAG_VIF;
        return;
    }
    if (!(cpu->eflags & X86_FLAG_IF)) {
        /* interrupts stay blocked until after the next instruction (SDM Vol. 2 STI) */
        cpu->eflags |= X86_FLAG_IF;
        cpu->interrupt_shadow = X86_SHADOW_STI;
        x86_request_exit(cpu);
    }
}

X86_HANDLER(x86_exec_hlt)
{
    (void)insn;
    x86_require_cpl0(cpu);
    x86_halt(cpu);
}

X86_HANDLER(x86_exec_nop) { (void)cpu; (void)insn; }

X86_HANDLER(x86_exec_ud)
{
    (void)insn;
    x86_raise_ud(cpu);
}

/* ------------------------------------------------------------------ identification, time */

/* CPUID feature bits, leaf 1 EDX: exactly what is implemented (docs/isa.md) */
#define CPUID_1_EDX ((1u << 0) /* FPU */ | (1u << 1) /* VME */ | (1u << 2) /* DE */ | (1u << 3) /* PSE */ | (1u << 4) /* TSC */ | \
                     (1u << 5) /* MSR */ | (1u << 6) /* PAE */ | (1u << 8) /* CX8 */ | \
                     (1u << 9) /* APIC */ | (1u << 11) /* SEP */ | (1u << 12) /* MTRR */ | \
                     (1u << 13) /* PGE */ | (1u << 15) /* CMOV */ | (1u << 16) /* PAT */ | \
                     (1u << 24) /* FXSR */)
/* leaf 1 ECX: x2APIC, TSC-deadline timer */
#define CPUID_1_ECX ((1u << 21) /* x2APIC */ | (1u << 24) /* TSC-DEADLINE */)
/* 0xA without XSAVE; 0xD, XSAVE's leaf, with it (0xB, extended topology, and 0xC then answer
 * zero: EBX = 0 says leaf 0xB is not offered, SDM Vol. 2 CPUID) */
#define CPUID_MAX_BASIC 0x0Au
#define CPUID_MAX_BASIC_XSAVE 0x0Du
#define CPUID_MAX_EXTENDED 0x80000008u

static uint32_t text4(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | ((uint32_t)(uint8_t)s[1] << 8) |
           ((uint32_t)(uint8_t)s[2] << 16) | ((uint32_t)(uint8_t)s[3] << 24);
}

X86_HANDLER(x86_exec_cpuid)
{
    (void)insn;
    static const char brand[48] = "libx86irq virtual processor";
    uint32_t leaf = x86_gpr32(cpu, X86_EAX);
    uint32_t a = 0, b = 0, c = 0, d = 0;
    /* Intel: a leaf above the maximum returns the highest basic leaf's data */
    /* IA32_MISC_ENABLE can limit the basic leaves to 2 (for old operating systems) */
    uint32_t max_basic = x86_cpuid_limited(cpu) ? 2
                       : cpu->simd & X86_SIMD_XSAVE ? CPUID_MAX_BASIC_XSAVE : CPUID_MAX_BASIC;
    if ((leaf < 0x80000000u && leaf > max_basic) || leaf > CPUID_MAX_EXTENDED)
        leaf = max_basic;
    switch (leaf) {
    case 0:
        a = max_basic;
        b = text4("Genu");
        d = text4("ineI");
        c = text4("ntel");
        break;
    case 1:
        /* one logical processor per package, 64-byte clflush line; EBX[31:24] the initial
         * APIC ID: the core's number (each core is its own package: HTT clear) */
        b = (1u << 16) | (8u << 8) | ((uint32_t)cpu->index << 24);
        a = X86_CPUID_SIGNATURE;
        c = CPUID_1_ECX | x86_cpuid_simd_ecx(cpu->simd);
        /* ECX 26 XSAVE (XSAVE/XRSTOR, XSETBV/XGETBV, XCR0), 27 OSXSAVE: CR4.OSXSAVE */
        if (cpu->simd & X86_SIMD_XSAVE)
            c |= 1u << 26;
        if (cpu->cr4 & X86_CR4_OSXSAVE)
            c |= 1u << 27;
        d = CPUID_1_EDX | x86_cpuid_simd_edx(cpu->simd);
        break;
    case 7:
        if (x86_gpr32(cpu, X86_ECX) == 0) { /* EAX 0: the only sub-leaf */
            b = (1u << 1) /* IA32_TSC_ADJUST */ | (1u << 7) /* SMEP */ | (1u << 20) /* SMAP */;
            d = 1u << 29;               /* IA32_ARCH_CAPABILITIES (msr.c) */
        }
        break;
    case 0xD:
        /* XSAVE's components (SDM Vol. 2 CPUID, Vol. 1 13.2): x87 and SSE, both in the 512-byte
         * legacy region, so the area is 512 + the 64-byte header = 576 bytes for any XCR0;
         * sub-leaf 1: XSAVEOPT (0), XSAVEC (1), XGETBV with ECX = 1 (2); no XSAVES (3) and
         * IA32_XSS is not offered (ECX, EDX 0); EBX the compacted size for XCR0 (576) */
        if (!(cpu->simd & X86_SIMD_XSAVE))
            break;
        switch (x86_gpr32(cpu, X86_ECX)) {
        case 0:
            a = X86_XCR0_SUPPORTED;
            b = c = X86_XSAVE_AREA_SIZE;
            break;
        case 1:
            a = (1u << 0) | (1u << 1) | (1u << 2);
            b = X86_XSAVE_AREA_SIZE;
            break;
        default:
            break; /* sub-leaves 0 and 1 (the legacy components) and 2-63 (not offered): 0 */
        }
        break;
    case 0x80000000u:
        a = CPUID_MAX_EXTENDED;
        break;
    case 0x80000001u:
        /* LAHF/SAHF in 64-bit mode; SYSCALL/SYSRET (64-bit mode: Intel), NX (EFER.NXE and the
         * XD bit, unless IA32_MISC_ENABLE disables it), 1 GiB pages, RDTSCP, Intel 64 */
        c = 1u << 0;
        d = (1u << 11) | (x86_xd_disabled(cpu) ? 0 : 1u << 20) | (1u << 26) | (1u << 27) |
            (1u << 29);
        break;
    case 0x80000007u:
        /* the invariant TSC (EDX 8): one constant rate in every state, HLT included (SDM Vol. 3
         * 17.17.1); Linux's X86_FEATURE_NONSTOP_TSC */
        d = 1u << 8;
        break;
    case 0x80000008u:
        a = 0x3020;                     /* 32 physical and 48 linear address bits */
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u: {
        const char *p = brand + (leaf - 0x80000002u) * 16;
        a = text4(p);
        b = text4(p + 4);
        c = text4(p + 8);
        d = text4(p + 12);
        break;
    }
    default:
        break; /* leaves 2-6 and 8-0xC (0xA: no performance monitoring), 0x80000005-6: zero */
    }
    x86_set_gpr32(cpu, X86_EAX, a);
    x86_set_gpr32(cpu, X86_EBX, b);
    x86_set_gpr32(cpu, X86_ECX, c);
    x86_set_gpr32(cpu, X86_EDX, d);
}

X86_HANDLER(x86_exec_rdtsc)
{
    (void)insn;
    if ((cpu->cr4 & X86_CR4_TSD) && cpu->cpl > 0 && x86_protected(cpu))
        x86_raise_gp0(cpu);
    uint64_t tsc = x86_read_tsc(cpu);
    x86_set_gpr32(cpu, X86_EAX, (uint32_t)tsc);
    x86_set_gpr32(cpu, X86_EDX, (uint32_t)(tsc >> 32));
}

/* rdtscp: the TSC and IA32_TSC_AUX (the kernel keeps the CPU number there) */
X86_HANDLER(x86_exec_rdtscp)
{
    x86_exec_rdtsc(cpu, insn);
    x86_set_gpr32(cpu, X86_ECX, (uint32_t)cpu->msr.tsc_aux);
}

X86_HANDLER(x86_exec_rdmsr)
{
    (void)insn;
    x86_require_cpl0(cpu);
    uint64_t v;
    if (!x86_read_msr(cpu, x86_gpr32(cpu, X86_ECX), &v))
        x86_raise_gp0(cpu);
    x86_set_gpr32(cpu, X86_EAX, (uint32_t)v);
    x86_set_gpr32(cpu, X86_EDX, (uint32_t)(v >> 32));
}

X86_HANDLER(x86_exec_wrmsr)
{
    (void)insn;
    x86_require_cpl0(cpu);
    uint64_t v = ((uint64_t)x86_gpr32(cpu, X86_EDX) << 32) | x86_gpr32(cpu, X86_EAX);
    if (!x86_write_msr(cpu, x86_gpr32(cpu, X86_ECX), v))
        x86_raise_gp0(cpu);
}

/* sysenter / sysexit: the fast system call (SDM Vol. 2 SYSENTER, SYSEXIT). The segments are
 * made flat from IA32_SYSENTER_CS, without reading the GDT: kernel CS and SS (CS + 8), user
 * CS (CS + 16) and SS (CS + 24); in IA-32e mode the kernel's CS is 64-bit code, and SYSEXIT
 * with REX.W returns to 64-bit code at CS + 32 with SS at CS + 40. No IDT, no stack frame: the
 * kernel finds the return address in (R)DX and the user stack in (R)CX by its own convention. */
static void fast_call_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector, uint8_t dpl,
                              bool code, bool long_code)
{
    x86_set_flat_segment(cpu, seg, selector, dpl, code);
    if (long_code) {
        cpu->seg[seg].attributes = (uint16_t)((cpu->seg[seg].attributes & ~X86_SEG_ATTR_DB) |
                                              X86_SEG_ATTR_L);
        x86_segment_refresh(cpu, seg);
    }
}

X86_HANDLER(x86_exec_sysenter)
{
    (void)insn;
    uint16_t cs = (uint16_t)(cpu->sysenter[0] & 0xFFFC);
    if (!(cpu->cr0 & X86_CR0_PE) || cs == 0)
        x86_raise_gp0(cpu);
    bool long_mode = cpu->efer & X86_EFER_LMA;
    x86_set_eflags(cpu, 0, X86_FLAG_VM | X86_FLAG_IF | X86_FLAG_RF);
    fast_call_segment(cpu, X86_SEG_CS, cs, 0, true, long_mode);
    fast_call_segment(cpu, X86_SEG_SS, (uint16_t)(cs + 8), 0, false, false);
    x86_set_cpl(cpu, 0);
    x86_update_code_mode(cpu);
    if (long_mode) {
        cpu->gpr[X86_ESP] = cpu->sysenter[1];
        cpu->next_rip = cpu->sysenter[2];
    } else {
        x86_set_gpr32(cpu, X86_ESP, (uint32_t)cpu->sysenter[1]);
        cpu->next_rip = (uint32_t)cpu->sysenter[2];
    }
}

X86_HANDLER(x86_exec_sysexit)
{
    uint16_t cs = (uint16_t)(cpu->sysenter[0] & 0xFFFC);
    if (!(cpu->cr0 & X86_CR0_PE) || cs == 0 || cpu->cpl != 0)
        x86_raise_gp0(cpu);
    bool to_64 = insn->mode == X86_MODE_64 && (insn->prefixes & X86_PFX_REX_W);
    uint64_t rip = to_64 ? cpu->gpr[X86_EDX] : x86_gpr32(cpu, X86_EDX);
    uint64_t rsp = to_64 ? cpu->gpr[X86_ECX] : x86_gpr32(cpu, X86_ECX);
    if (to_64 && (!x86_canonical(rip) || !x86_canonical(rsp)))
        x86_raise_gp0(cpu);
    fast_call_segment(cpu, X86_SEG_CS, (uint16_t)((cs + (to_64 ? 32 : 16)) | 3), 3, true, to_64);
    fast_call_segment(cpu, X86_SEG_SS, (uint16_t)((cs + (to_64 ? 40 : 24)) | 3), 3, false, false);
    x86_set_cpl(cpu, 3);
    x86_update_code_mode(cpu);
    cpu->gpr[X86_ESP] = rsp;
    cpu->next_rip = rip;
}

/* clac / stac: EFLAGS.AC, which lets explicit supervisor accesses reach user pages under SMAP
 * (SDM Vol. 2 CLAC, STAC): ring 0 only (#UD elsewhere, virtual-8086 mode included) */
X86_HANDLER(x86_exec_clac_stac)
{
    if ((cpu->cr0 & X86_CR0_PE) && cpu->cpl > 0)
        x86_raise_ud(cpu);
    x86_set_eflags(cpu, insn->mnemonic == X86_MN_STAC ? X86_FLAG_AC : 0, X86_FLAG_AC);
}

X86_HANDLER(x86_exec_rdpmc)
{
    (void)insn;
    x86_raise_gp0(cpu); /* CPUID leaf 0xA reports no counters: every index is invalid */
}

/* ------------------------------------------------------------------ descriptor tables */

X86_HANDLER(x86_exec_lgdt_lidt)
{
    x86_require_cpl0(cpu);
    uint32_t ea = x86_effective_address(cpu, insn);
    uint32_t limit = x86_read(cpu, insn->seg, ea, 2);
    uint32_t base = x86_read(cpu, insn->seg, insn->addrsize == 2 ? ((ea + 2) & 0xFFFF) : ea + 2, 4);
    if (insn->opsize == 2)
        base &= 0x00FFFFFFu; /* a 16-bit operand size loads 24 bits of base */
    x86_tables_changed(cpu);
    if (insn->mnemonic == X86_MN_LGDT) {
        cpu->gdtr.base = base;
        cpu->gdtr.limit = limit;
    } else {
        cpu->idtr.base = base;
        cpu->idtr.limit = limit;
    }
}

X86_HANDLER(x86_exec_sgdt_sidt)
{
    uint32_t ea = x86_effective_address(cpu, insn);
    uint32_t limit = insn->mnemonic == X86_MN_SGDT ? cpu->gdtr.limit : cpu->idtr.limit;
    uint32_t base = insn->mnemonic == X86_MN_SGDT ? cpu->gdtr.base : cpu->idtr.base;
    if (insn->opsize == 2)
        base &= 0x00FFFFFFu;
    uint32_t base_at = insn->addrsize == 2 ? ((ea + 2) & 0xFFFF) : ea + 2;
    x86_check_write(cpu, insn->seg, base_at, 4);
    x86_write(cpu, insn->seg, ea, 2, limit);
    x86_write(cpu, insn->seg, base_at, 4, base);
}

/* sldt / str / smsw: a register destination gets the value zero-extended to the operand
 * size, a memory destination 16 bits */
static void store_selector(struct x86_cpu *cpu, const struct x86_insn *insn, uint32_t value)
{
    struct x86_location d = x86_rm_location(cpu, insn);
    x86_location_write(cpu, &d, d.memory ? 2 : insn->opsize, value);
}

X86_HANDLER(x86_exec_sldt)
{
    if (!x86_protected(cpu))
        x86_raise_ud(cpu);
    store_selector(cpu, insn, cpu->ldtr.selector);
}

X86_HANDLER(x86_exec_str)
{
    if (!x86_protected(cpu))
        x86_raise_ud(cpu);
    store_selector(cpu, insn, cpu->tr.selector);
}

/* A system descriptor for LLDT and LTR: in the GDT, of one of the types wanted, present. In
 * IA-32e mode it is 16 bytes: bits 63:32 of the base follow, and the upper half's type field
 * must be 0 (SDM Vol. 3 7.2.3, 3.5.2); the base must be canonical. */
static uint64_t system_descriptor(struct x86_cpu *cpu, uint16_t selector, uint32_t types,
                                  struct x86_segment *cache, uint64_t *address)
{
    if (selector & 4)
        x86_raise(cpu, X86_VEC_GP, selector & 0xFFFCu);
    uint64_t d = x86_read_descriptor(cpu, selector, address);
    uint8_t access = (uint8_t)(d >> 40);
    if (!((types >> (access & 0x1F)) & 1))
        x86_raise(cpu, X86_VEC_GP, selector & 0xFFFCu);
    uint64_t high = 0;
    if (cpu->efer & X86_EFER_LMA) {
        if ((uint32_t)(selector & 0xFFF8) + 15 > cpu->gdtr.limit)
            x86_raise(cpu, X86_VEC_GP, selector & 0xFFFCu);
        high = x86_read_system(cpu, *address + 8, 8);
        if (((high >> 40) & 0x1F) != 0)
            x86_raise(cpu, X86_VEC_GP, selector & 0xFFFCu);
    }
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, selector & 0xFFFCu);
    x86_descriptor_to_cache(d, selector, cache);
    cache->base |= (high & 0xFFFFFFFFu) << 32;
    if (!x86_canonical(cache->base))
        x86_raise(cpu, X86_VEC_GP, selector & 0xFFFCu);
    return d;
}

void x86_load_ldtr(struct x86_cpu *cpu, uint16_t selector)
{
    x86_tables_changed(cpu); /* gates may name code segments in the LDT */
    if ((selector & 0xFFFC) == 0) {
        cpu->ldtr.selector = selector;
        cpu->ldtr.attributes = X86_SEG_ATTR_UNUSABLE;
        return;
    }
    struct x86_segment ldtr;
    uint64_t address;
    system_descriptor(cpu, selector, 1u << 0x02, &ldtr, &address);
    cpu->ldtr = ldtr;
}

void x86_load_tr(struct x86_cpu *cpu, uint16_t selector)
{
    if ((selector & 0xFFFC) == 0)
        x86_raise_gp0(cpu);
    /* an available 16- or 32-bit TSS; in IA-32e mode only the 64-bit one (type 9) */
    uint32_t types = (cpu->efer & X86_EFER_LMA) ? 1u << 0x09 : (1u << 0x01) | (1u << 0x09);
    struct x86_segment tr;
    uint64_t address;
    uint64_t d = system_descriptor(cpu, selector, types, &tr, &address);
    x86_write_system(cpu, address + 5, 1, (uint8_t)(d >> 40) | 0x02); /* mark it busy */
    tr.attributes |= 0x02;
    cpu->tr = tr;
}

X86_HANDLER(x86_exec_lldt)
{
    if (!x86_protected(cpu))
        x86_raise_ud(cpu);
    x86_require_cpl0(cpu);
    x86_load_ldtr(cpu, (uint16_t)x86_operand_read(cpu, insn, 0, 2));
}

X86_HANDLER(x86_exec_ltr)
{
    if (!x86_protected(cpu))
        x86_raise_ud(cpu);
    x86_require_cpl0(cpu);
    x86_load_tr(cpu, (uint16_t)x86_operand_read(cpu, insn, 0, 2));
}

/* lar / lsl / verr / verw: the checks that decide ZF (SDM Vol. 2 LAR) */
static bool descriptor_visible(struct x86_cpu *cpu, uint16_t selector, uint64_t *descriptor)
{
    if ((selector & 0xFFFC) == 0)
        return false;
    uint64_t base = (selector & 4) ? cpu->ldtr.base : cpu->gdtr.base;
    uint32_t limit = (selector & 4) ? cpu->ldtr.limit : cpu->gdtr.limit;
    if ((selector & 4) && (cpu->ldtr.attributes & X86_SEG_ATTR_UNUSABLE))
        return false;
    if ((uint32_t)(selector & 0xFFF8) + 7 > limit)
        return false;
    *descriptor = x86_read_system(cpu, base + (selector & 0xFFF8), 8);
    uint8_t access = (uint8_t)(*descriptor >> 40);
    uint8_t dpl = (access >> 5) & 3;
    bool conforming_code = (access & 0x18) == 0x18 && (access & 0x04);
    if (!conforming_code && (dpl < cpu->cpl || dpl < (selector & 3)))
        return false;
    return true;
}

static void set_zf(struct x86_cpu *cpu, bool zf)
{
    uint32_t f = x86_get_eflags(cpu) & X86_FLAGS_ARITH;
    x86_set_arith_flags(cpu, zf ? f | X86_FLAG_ZF : f & ~X86_FLAG_ZF);
}

bool x86_lar_lsl(struct x86_cpu *cpu, bool lar, uint16_t selector, uint32_t *value)
{
    uint64_t d = 0;
    bool ok = descriptor_visible(cpu, selector, &d);
    uint8_t access = (uint8_t)(d >> 40);
    if (ok && !(access & 0x10)) {
        /* system descriptors: LAR accepts TSS, LDT, call and task gates; LSL only TSS and LDT.
         * In IA-32e mode only the LDT, the 64-bit TSS and (LAR) the 64-bit call gate (SDM
         * Vol. 2 LAR, LSL: "IA-32e mode" tables) */
        uint8_t type = access & 0xF;
        static const uint16_t lar_types = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) |
                                          (1 << 9) | (1 << 11) | (1 << 12);
        static const uint16_t lsl_types = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);
        static const uint16_t lar_types_64 = (1 << 2) | (1 << 9) | (1 << 11) | (1 << 12);
        static const uint16_t lsl_types_64 = (1 << 2) | (1 << 9) | (1 << 11);
        bool long_mode = cpu->efer & X86_EFER_LMA;
        uint16_t types = lar ? (long_mode ? lar_types_64 : lar_types)
                             : (long_mode ? lsl_types_64 : lsl_types);
        ok = (types >> type) & 1;
    }
    if (ok) {
        if (lar) {
            *value = (uint32_t)(d >> 32) & 0x00F0FF00u;
        } else {
            struct x86_segment s;
            x86_descriptor_to_cache(d, selector, &s);
            *value = s.limit;
        }
    }
    set_zf(cpu, ok);
    return ok;
}

bool x86_verr_verw(struct x86_cpu *cpu, bool verr, uint16_t selector)
{
    uint64_t d = 0;
    bool ok = descriptor_visible(cpu, selector, &d);
    uint8_t access = (uint8_t)(d >> 40);
    if (ok) {
        bool code = (access & 0x18) == 0x18, data = (access & 0x18) == 0x10;
        ok = verr ? data || (code && (access & 0x02)) : data && (access & 0x02);
    }
    set_zf(cpu, ok);
    return ok;
}

X86_HANDLER(x86_exec_lar_lsl)
{
    if (!x86_protected(cpu))
        x86_raise_ud(cpu);
    uint32_t value;
    if (x86_lar_lsl(cpu, insn->mnemonic == X86_MN_LAR, (uint16_t)x86_operand_read(cpu, insn, 1, 2),
                    &value))
        x86_reg_set(cpu, insn->reg, insn->opsize, value);
}

X86_HANDLER(x86_exec_verr_verw)
{
    if (!x86_protected(cpu))
        x86_raise_ud(cpu);
    x86_verr_verw(cpu, insn->mnemonic == X86_MN_VERR, (uint16_t)x86_operand_read(cpu, insn, 0, 2));
}

X86_HANDLER(x86_exec_arpl)
{
    if (!x86_protected(cpu))
        x86_raise_ud(cpu);
    struct x86_location d = x86_rm_location(cpu, insn);
    uint32_t dest = x86_location_read(cpu, &d, 2);
    uint32_t src = x86_reg_get(cpu, insn->reg, 2);
    bool adjust = (dest & 3) < (src & 3);
    if (adjust)
        x86_location_write(cpu, &d, 2, (dest & ~3u) | (src & 3));
    set_zf(cpu, adjust);
}

X86_HANDLER(x86_exec_smsw)
{
    store_selector(cpu, insn, cpu->cr0 & (insn->opsize == 4 ? 0xFFFFFFFFu : 0xFFFFu));
}

X86_HANDLER(x86_exec_lmsw)
{
    x86_require_cpl0(cpu);
    uint32_t v = x86_operand_read(cpu, insn, 0, 2);
    /* PE, MP, EM, TS; lmsw cannot clear PE (SDM Vol. 2 LMSW) */
    uint32_t cr0 = (cpu->cr0 & ~0xEu) | (v & 0xF) | (cpu->cr0 & X86_CR0_PE);
    x86_write_control_register(cpu, 0, cr0);
}

/* ------------------------------------------------------------------ control and debug registers */

X86_HANDLER(x86_exec_mov_cr)
{
    x86_require_cpl0(cpu);
    if (insn->operand[0] == X86_OPK_CREG)
        x86_write_control_register(cpu, insn->reg, x86_gpr32(cpu, insn->rm & 7));
    else
        x86_set_gpr32(cpu, insn->rm & 7, x86_read_control_register(cpu, insn->reg));
}

X86_HANDLER(x86_exec_mov_dr)
{
    x86_require_cpl0(cpu);
    unsigned n = insn->reg;
    if (n == 4 || n == 5) {
        /* DR4/DR5 alias DR6/DR7 unless CR4.DE is set, when they are #UD (SDM Vol. 3 18.2.2) */
        if (cpu->cr4 & X86_CR4_DE)
            x86_raise_ud(cpu);
        n += 2;
    }
    if (n > 7)
        x86_raise_ud(cpu);
    if (cpu->dr[7] & X86_DR7_GD) {
        /* general detect: any debug-register access faults first, and GD clears so the
         * handler can use them (SDM Vol. 3 17.2.4) */
        cpu->dr[6] |= X86_DR6_BD;
        cpu->dr[7] &= ~X86_DR7_GD;
        x86_raise_debug_fault(cpu);
    }
    if (insn->operand[0] == X86_OPK_DREG) {
        uint32_t v = x86_gpr32(cpu, insn->rm & 7);
        if (n == 6)
            v = (v & 0x0000E00Fu) | 0xFFFF0FF0u; /* reserved bits read as 1 / 0 */
        else if (n == 7)
            v = (v & 0xFFFF2BFFu) | 0x00000400u;
        cpu->dr[n] = v;
        if (n == 7 || n < 4)
            x86_debug_registers_changed(cpu);
    } else {
        x86_set_gpr32(cpu, insn->rm & 7, cpu->dr[n]);
    }
}

X86_HANDLER(x86_exec_clts)
{
    (void)insn;
    x86_require_cpl0(cpu);
    cpu->cr0 &= ~X86_CR0_TS;
}

X86_HANDLER(x86_exec_invlpg)
{
    x86_require_cpl0(cpu);
    uint32_t linear = cpu->seg[insn->seg].base + x86_effective_address(cpu, insn);
    x86_tlb_flush_page(cpu, linear);
}

X86_HANDLER(x86_exec_cache_control)
{
    (void)insn;
    x86_require_cpl0(cpu); /* wbinvd / invd: no caches to write back */
}

/* x87: x87.c */
