/* 64-bit mode: the system instructions (docs/isa.md, "64-bit mode: what executes").
 *
 * What 64-bit mode changes for them (SDM Vol. 2, each instruction's "64-Bit Mode" notes):
 * control and debug registers are 64 bits wide and CR8 is the TPR; LGDT/LIDT take a 64-bit
 * base; system descriptors (LDT, TSS, call gates) are 16 bytes; SYSCALL/SYSRET and SWAPGS
 * exist; far transfers may land in 64-bit or compatibility-mode code; PUSHF/POPF default to
 * 64 bits. As everywhere, everything that can fault is read and checked before anything is
 * committed.
 */
#include "cpu/exec64.h"
#include "cpu/exec_handlers.h"

#include "cpu/mmu.h"
#include "cpu/segment.h"
#include "idt/idt.h"

/* ------------------------------------------------------------------ control and debug registers */

X86_HANDLER(x86_exec64_mov_cr)
{
    x86_require_cpl0(cpu);
    bool to_cr = insn->operand[0] == X86_OPK_CREG;
    if (insn->reg == 8) {
        /* CR8 = TPR[7:4]; bits 63:4 are reserved (SDM Vol. 3 10.8.6.1, Vol. 2 MOV CR) */
        const struct x86_platform *p = cpu->platform;
        if (to_cr) {
            if (cpu->gpr[insn->rm] >> 4)
                x86_raise_gp0(cpu);
            if (p && p->write_cr8)
                p->write_cr8(p->opaque, cpu, (uint8_t)cpu->gpr[insn->rm]);
        } else {
            cpu->gpr[insn->rm] = p && p->read_cr8 ? p->read_cr8(p->opaque, cpu) : 0;
        }
        return;
    }
    if (insn->reg > 8)
        x86_raise_ud(cpu);
    if (to_cr)
        x86_write_control_register(cpu, insn->reg, cpu->gpr[insn->rm]);
    else
        cpu->gpr[insn->rm] = x86_read_control_register(cpu, insn->reg);
}

X86_HANDLER(x86_exec64_mov_dr)
{
    x86_require_cpl0(cpu);
    unsigned n = insn->reg;
    if (n == 4 || n == 5) {
        if (cpu->cr4 & X86_CR4_DE)
            x86_raise_ud(cpu);
        n += 2; /* aliases of DR6 and DR7 without CR4.DE (SDM Vol. 3 18.2.2) */
    }
    if (n > 7)
        x86_raise_ud(cpu);
    if (cpu->dr[7] & X86_DR7_GD) {
        cpu->dr[6] |= X86_DR6_BD;
        cpu->dr[7] &= ~X86_DR7_GD;
        x86_raise_debug_fault(cpu);
    }
    if (insn->operand[0] != X86_OPK_DREG) {
        cpu->gpr[insn->rm] = cpu->dr[n];
        return;
    }
    uint64_t v = cpu->gpr[insn->rm];
    if (n >= 6 && (v >> 32))
        x86_raise_gp0(cpu); /* DR6 and DR7's upper halves are reserved */
    if (n == 6)
        v = (v & 0x0000E00Fu) | 0xFFFF0FF0u;
    else if (n == 7)
        v = (v & 0xFFFF2BFFu) | 0x00000400u;
    cpu->dr[n] = v;
    if (n == 7 || n < 4)
        x86_debug_registers_changed(cpu);
}

X86_HANDLER(x86_exec64_invlpg)
{
    x86_require_cpl0(cpu);
    uint64_t address = effective_address(cpu, insn);
    if (insn->seg == X86_SEG_FS || insn->seg == X86_SEG_GS)
        address += cpu->seg[insn->seg].base;
    if (x86_canonical(address)) /* a non-canonical address has nothing to invalidate */
        x86_tlb_flush_page(cpu, address);
}

/* ------------------------------------------------------------------ descriptor tables */

/* lgdt / lidt m16&64: the base is 64 bits whatever the operand size and must be canonical */
X86_HANDLER(x86_exec64_lgdt_lidt)
{
    x86_require_cpl0(cpu);
    u64 ea = effective_address(cpu, insn);
    uint32_t limit = (uint32_t)mread(cpu, insn->seg, ea, 2);
    u64 base = mread(cpu, insn->seg, ea + 2, 8);
    if (!x86_canonical(base))
        x86_raise_gp0(cpu);
    x86_tables_changed(cpu);
    if (insn->mnemonic == X86_MN_LGDT) {
        cpu->gdtr.base = base;
        cpu->gdtr.limit = limit;
    } else {
        cpu->idtr.base = base;
        cpu->idtr.limit = limit;
    }
}

X86_HANDLER(x86_exec64_sgdt_sidt)
{
    bool gdt = insn->mnemonic == X86_MN_SGDT;
    u64 ea = effective_address(cpu, insn);
    u64 base = gdt ? cpu->gdtr.base : cpu->idtr.base;
    uint32_t limit = gdt ? cpu->gdtr.limit : cpu->idtr.limit;
    /* both stores are checked before either is made */
    u64 low = linear(cpu, insn->seg, ea, 2, true), high = linear(cpu, insn->seg, ea + 2, 8, true);
    uint64_t phys;
    bool w;
    x86_translate(cpu, low, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
    x86_translate(cpu, high + 7, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
    x86_write_linear(cpu, low, 2, limit);
    x86_write_linear(cpu, high, 8, base);
}

/* lldt / ltr r/m16 (the descriptors are 16 bytes in IA-32e mode: x86_load_ldtr, x86_load_tr) */
X86_HANDLER(x86_exec64_lldt_ltr)
{
    x86_require_cpl0(cpu);
    uint16_t selector = (uint16_t)oread(cpu, insn, 0, 2);
    if (insn->mnemonic == X86_MN_LLDT)
        x86_load_ldtr(cpu, selector);
    else
        x86_load_tr(cpu, selector);
}

/* sldt / str / smsw: a register gets the value zero-extended to the operand size, memory 16 bits */
X86_HANDLER(x86_exec64_store_system)
{
    uint32_t value = insn->mnemonic == X86_MN_SLDT ? cpu->ldtr.selector
                   : insn->mnemonic == X86_MN_STR ? cpu->tr.selector
                   : cpu->cr0 & 0xFFFF;
    if (insn->mnemonic == X86_MN_SMSW && insn->mod == 3)
        value = cpu->cr0; /* smsw r32/r64: the low 32 bits of CR0 (SDM Vol. 2 SMSW) */
    struct loc d = rm_loc(cpu, insn);
    lwrite(cpu, insn, &d, d.memory ? 2 : insn->opsize, value);
}

/* lar / lsl r, r/m16 and verr / verw r/m16: the selector from a 64-bit operand */
X86_HANDLER(x86_exec64_lar_lsl)
{
    uint32_t value;
    if (x86_lar_lsl(cpu, insn->mnemonic == X86_MN_LAR, (uint16_t)oread(cpu, insn, 1, 2), &value))
        rset(cpu, insn, insn->reg, insn->opsize, value); /* zero-extended */
}

X86_HANDLER(x86_exec64_verr_verw)
{
    x86_verr_verw(cpu, insn->mnemonic == X86_MN_VERR, (uint16_t)oread(cpu, insn, 0, 2));
}

/* ------------------------------------------------------------------ segment registers */

/* A segment load in 64-bit mode: as in protected mode, but SS may be null below ring 3 (RPL =
 * CPL), which interrupts and SYSRET rely on (SDM Vol. 2 MOV, POP: "64-bit mode") */
void x86_exec64_load_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector)
{
    if (seg == X86_SEG_SS && (selector & 0xFFFC) == 0) {
        if (cpu->cpl == 3 || (selector & 3) != cpu->cpl)
            x86_raise_gp0(cpu);
        struct x86_segment *ss = &cpu->seg[X86_SEG_SS];
        *ss = (struct x86_segment){ .selector = selector, .limit = 0xFFFFFFFFu,
                                    .attributes = (uint16_t)(X86_SEG_ATTR_UNUSABLE |
                                                             (cpu->cpl << 5)) };
        x86_segment_refresh(cpu, X86_SEG_SS);
        cpu->interrupt_shadow |= X86_SHADOW_MOV_SS;
        return;
    }
    x86_load_segment(cpu, seg, selector);
}

X86_HANDLER(x86_exec64_mov_sreg)
{
    if (insn->reg == X86_SEG_CS)
        x86_raise_ud(cpu);
    x86_exec64_load_segment(cpu, insn->reg, (uint16_t)oread(cpu, insn, 1, 2));
}

X86_HANDLER(x86_exec64_pop_sreg)
{
    unsigned size = insn->opsize == 2 ? 2 : 8;
    uint16_t selector = (uint16_t)peek(cpu, 0, size);
    x86_exec64_load_segment(cpu, insn->reg, selector);
    cpu->gpr[X86_ESP] += size;
}

/* lmsw r/m16: PE, MP, EM and TS; PE cannot be cleared (SDM Vol. 2 LMSW) */
X86_HANDLER(x86_exec64_lmsw)
{
    x86_require_cpl0(cpu);
    uint32_t v = (uint32_t)oread(cpu, insn, 0, 2);
    uint32_t cr0 = (cpu->cr0 & ~0xEu) | (v & 0xF) | (cpu->cr0 & X86_CR0_PE);
    x86_write_control_register(cpu, 0, cr0);
}

/* swapgs: GS's base and IA32_KERNEL_GS_BASE trade places (SDM Vol. 2 SWAPGS) */
X86_HANDLER(x86_exec64_swapgs)
{
    (void)insn;
    x86_require_cpl0(cpu);
    uint64_t base = cpu->seg[X86_SEG_GS].base;
    cpu->seg[X86_SEG_GS].base = cpu->msr.kernel_gs_base;
    cpu->msr.kernel_gs_base = base;
}

/* ------------------------------------------------------------------ flags */

X86_HANDLER(x86_exec64_pushf)
{
    /* the image has VM and RF clear (SDM Vol. 2 PUSHF); 64 bits, or 16 with 66 */
    unsigned size = insn->opsize == 2 ? 2 : 8;
    push(cpu, size, x86_get_eflags(cpu) & ~(X86_FLAG_VM | X86_FLAG_RF));
}

X86_HANDLER(x86_exec64_popf)
{
    unsigned size = insn->opsize == 2 ? 2 : 8;
    uint32_t v = (uint32_t)peek(cpu, 0, size);
    uint32_t mask = X86_FLAGS_ARITH | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT | X86_FLAG_AC |
                    X86_FLAG_ID | X86_FLAG_IF | X86_FLAG_IOPL;
    if (cpu->cpl > 0)
        mask &= ~X86_FLAG_IOPL;
    if (cpu->cpl > x86_iopl(cpu))
        mask &= ~X86_FLAG_IF;
    if (size == 2)
        mask &= 0xFFFF;
    cpu->gpr[X86_ESP] += size;
    x86_set_eflags(cpu, v, mask);
    x86_set_eflags(cpu, 0, X86_FLAG_RF);
    x86_request_exit(cpu); /* IF or TF may have changed */
}

/* ------------------------------------------------------------------ SYSCALL / SYSRET */

/* SYSCALL and SYSRET make flat segments from IA32_STAR without reading the GDT (SDM Vol. 2
 * SYSCALL, SYSRET): a 64-bit ring-0 code segment at STAR[47:32] and its stack segment 8 above;
 * for the return, STAR[63:48] + 16 (64-bit code) or STAR[63:48] (compatibility mode), and the
 * stack at STAR[63:48] + 8, all at ring 3. */
static void flat_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector, uint8_t dpl,
                         bool code, bool long_code)
{
    x86_set_flat_segment(cpu, seg, selector, dpl, code);
    if (long_code) {
        cpu->seg[seg].attributes = (uint16_t)((cpu->seg[seg].attributes & ~X86_SEG_ATTR_DB) |
                                              X86_SEG_ATTR_L);
        x86_segment_refresh(cpu, seg);
    }
}

X86_HANDLER(x86_exec64_syscall)
{
    (void)insn;
    if (!(cpu->efer & X86_EFER_SCE))
        x86_raise_ud(cpu);
    uint16_t cs = (uint16_t)((cpu->msr.star >> 32) & 0xFFFC);
    cpu->gpr[X86_ECX] = cpu->next_rip;
    cpu->gpr[X86_R11] = x86_get_eflags(cpu) & ~X86_FLAG_RF;
    x86_set_eflags(cpu, 0, (uint32_t)cpu->msr.fmask | X86_FLAG_RF);
    flat_segment(cpu, X86_SEG_CS, cs, 0, true, true);
    flat_segment(cpu, X86_SEG_SS, (uint16_t)(cs + 8), 0, false, false);
    x86_set_cpl(cpu, 0);
    x86_update_code_mode(cpu);
    cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    cpu->next_rip = cpu->msr.lstar;
}

X86_HANDLER(x86_exec64_sysret)
{
    if (!(cpu->efer & X86_EFER_SCE))
        x86_raise_ud(cpu);
    x86_require_cpl0(cpu);
    bool to_64 = insn->prefixes & X86_PFX_REX_W;
    uint64_t rip = to_64 ? cpu->gpr[X86_ECX] : (uint32_t)cpu->gpr[X86_ECX];
    /* a non-canonical RCX is #GP(0) in ring 0 (Intel; AMD faults after the switch) */
    if (!x86_canonical(rip))
        x86_raise_gp0(cpu);
    uint16_t base = (uint16_t)(cpu->msr.star >> 48);
    uint16_t cs = (uint16_t)((to_64 ? base + 16 : base) | 3);
    /* RFLAGS from R11: RF and VM cleared, bit 1 set (SDM Vol. 2 SYSRET) */
    uint32_t flags = (uint32_t)cpu->gpr[X86_R11];
    flat_segment(cpu, X86_SEG_CS, cs, 3, true, to_64);
    flat_segment(cpu, X86_SEG_SS, (uint16_t)((base + 8) | 3), 3, false, false);
    x86_set_cpl(cpu, 3);
    x86_set_eflags(cpu, flags, 0x3C7FD7u);
    x86_set_eflags(cpu, 0, X86_FLAG_RF | X86_FLAG_VM);
    x86_update_code_mode(cpu);
    cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    cpu->next_rip = rip;
}

/* ------------------------------------------------------------------ cmpxchg16b */

/* cmpxchg8b m64 / cmpxchg16b m128 (REX.W: 16-byte aligned, else #GP(0)) */
X86_HANDLER(x86_exec64_cmpxchg8b)
{
    if (insn->mod == 3)
        x86_raise_ud(cpu);
    u64 ea = effective_address(cpu, insn);
    uint32_t f = x86_get_eflags(cpu) & X86_FLAGS_ARITH;
    if (!(insn->prefixes & X86_PFX_REX_W)) {
        u64 old = mread(cpu, insn->seg, ea, 8);
        u64 expected = ((u64)(uint32_t)cpu->gpr[X86_EDX] << 32) | (uint32_t)cpu->gpr[X86_EAX];
        if (old == expected) {
            mwrite(cpu, insn->seg, ea, 8,
                   ((u64)(uint32_t)cpu->gpr[X86_ECX] << 32) | (uint32_t)cpu->gpr[X86_EBX]);
            f |= X86_FLAG_ZF;
        } else {
            mwrite(cpu, insn->seg, ea, 8, old); /* the processor always writes (SDM) */
            cpu->gpr[X86_EAX] = (uint32_t)old;
            cpu->gpr[X86_EDX] = (uint32_t)(old >> 32);
            f &= ~X86_FLAG_ZF;
        }
        x86_set_arith_flags(cpu, f);
        return;
    }
    u64 at = linear(cpu, insn->seg, ea, 16, true);
    if (at & 15)
        x86_raise_gp0(cpu);
    u64 lo = x86_read_linear(cpu, at, 8), hi = x86_read_linear(cpu, at + 8, 8);
    bool equal = lo == cpu->gpr[X86_EAX] && hi == cpu->gpr[X86_EDX];
    uint64_t phys;
    bool w;
    x86_translate(cpu, at, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
    if (equal) {
        x86_write_linear(cpu, at, 8, cpu->gpr[X86_EBX]);
        x86_write_linear(cpu, at + 8, 8, cpu->gpr[X86_ECX]);
        f |= X86_FLAG_ZF;
    } else {
        x86_write_linear(cpu, at, 8, lo);
        x86_write_linear(cpu, at + 8, 8, hi);
        cpu->gpr[X86_EAX] = lo;
        cpu->gpr[X86_EDX] = hi;
        f &= ~X86_FLAG_ZF;
    }
    x86_set_arith_flags(cpu, f);
}

/* ------------------------------------------------------------------ far transfers */

/* The code segment of a far JMP, CALL or RET in 64-bit mode (SDM Vol. 2 JMP, CALL, RET: the
 * protected-mode checks, plus L with D reserved): 64-bit code takes a canonical offset, a
 * compatibility-mode segment one within its limit (call gates: x86_through_call_gate64). */
static void far_target(struct x86_cpu *cpu, uint16_t selector, u64 offset, int kind,
                       uint8_t new_cpl, struct x86_segment *target, uint64_t *descriptor,
                       uint64_t *address)
{
    if ((selector & 0xFFFC) == 0)
        x86_raise_gp0(cpu);
    uint64_t d = x86_read_descriptor(cpu, selector, address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3, rpl = selector & 3;
    bool conforming = access & 0x04;
    bool bad = (access & 0x18) != 0x18 || (((d >> 53) & 1) && ((d >> 54) & 1));
    if (kind == X86_FAR_RET)
        bad = bad || (conforming ? dpl > rpl : dpl != rpl);
    else
        bad = bad || (conforming ? dpl > cpu->cpl : (rpl > cpu->cpl || dpl != cpu->cpl));
    if (bad)
        x86_raise(cpu, X86_VEC_GP, selector & 0xFFFCu);
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, selector & 0xFFFCu);
    x86_descriptor_to_cache(d | (1ull << 40), (uint16_t)((selector & 0xFFFC) | new_cpl), target);
    if ((target->attributes & X86_SEG_ATTR_L) ? !x86_canonical(offset) : offset > target->limit)
        x86_raise_gp0(cpu);
    *descriptor = d;
}

static void enter_code_segment(struct x86_cpu *cpu, const struct x86_segment *target,
                               uint64_t descriptor, uint64_t address, u64 offset)
{
    if (!(descriptor & (1ull << 40)))
        x86_write_system(cpu, address + 5, 1, (uint8_t)((descriptor >> 40) | 1)); /* accessed */
    cpu->seg[X86_SEG_CS] = *target;
    x86_segment_refresh(cpu, X86_SEG_CS);
    x86_update_code_mode(cpu);
    cpu->next_rip = offset;
}

/* the far pointer m16:16, m16:32 or m16:64 (REX.W) of jmp/call far: offset first */
static u64 far_pointer(struct x86_cpu *cpu, const struct x86_insn *insn, uint16_t *selector)
{
    if (insn->mod == 3)
        x86_raise_ud(cpu);
    unsigned size = insn->opsize;
    u64 ea = effective_address(cpu, insn);
    u64 offset = mread(cpu, insn->seg, ea, size);
    *selector = (uint16_t)mread(cpu, insn->seg, ea + size, 2);
    return offset;
}

/* A far JMP or CALL through a 64-bit call gate (SDM Vol. 3 5.8.3.1, Vol. 2 CALL "IA-32e
 * mode"): a 16-byte gate (type 0xC; the upper half's type field 0), DPL >= CPL and RPL, present;
 * its target a 64-bit code segment (#GP(selector)) at a canonical offset. A CALL to a more
 * privileged non-conforming segment switches to RSP0-2 of the 64-bit TSS with a null SS of the
 * new CPL and pushes the old SS:RSP first; no parameters are copied in IA-32e mode. A JMP never
 * changes privilege. The pushes are 8 bytes each. True when the selector named a gate (the
 * transfer is done), false for a code segment. */
bool x86_through_call_gate64(struct x86_cpu *cpu, uint16_t gate_selector, int kind)
{
    if ((gate_selector & 0xFFFC) == 0)
        return false; /* far_target's #GP(0) */
    uint64_t gate_address;
    uint64_t low = x86_read_descriptor(cpu, gate_selector, &gate_address);
    uint8_t access = (uint8_t)(low >> 40);
    if (access & 0x10)
        return false; /* a code or data segment: far_target decides */
    uint16_t gerr = gate_selector & 0xFFFCu;
    if ((access & 0x1F) != 0x0C)
        x86_raise(cpu, X86_VEC_GP, gerr); /* no task switches, no other system type */
    uint8_t gate_dpl = (access >> 5) & 3;
    if (gate_dpl < cpu->cpl || gate_dpl < (gate_selector & 3))
        x86_raise(cpu, X86_VEC_GP, gerr);
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, gerr);
    uint32_t table_limit = (gate_selector & 4) ? cpu->ldtr.limit : cpu->gdtr.limit;
    if ((uint32_t)(gate_selector & 0xFFF8) + 15 > table_limit)
        x86_raise(cpu, X86_VEC_GP, gerr);
    uint64_t high = x86_read_system(cpu, gate_address + 8, 8);
    if ((high >> 40) & 0x1F)
        x86_raise(cpu, X86_VEC_GP, gerr);
    uint16_t selector = (uint16_t)(low >> 16);
    u64 offset = (low & 0xFFFF) | ((low >> 32) & 0xFFFF0000u) | (high << 32);
    if ((selector & 0xFFFC) == 0)
        x86_raise_gp0(cpu);
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t cs_access = (uint8_t)(d >> 40);
    uint8_t dpl = (cs_access >> 5) & 3;
    bool conforming = cs_access & 0x04;
    bool long_code = ((d >> 53) & 1) && !((d >> 54) & 1);
    uint16_t serr = selector & 0xFFFCu;
    if ((cs_access & 0x18) != 0x18 || !long_code || dpl > cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, serr);
    if (kind == X86_FAR_JMP && !conforming && dpl != cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, serr);
    if (!(cs_access & 0x80))
        x86_raise(cpu, X86_VEC_NP, serr);
    if (!x86_canonical(offset))
        x86_raise_gp0(cpu);
    uint8_t new_cpl = conforming ? cpu->cpl : dpl;
    struct x86_segment target;
    x86_descriptor_to_cache(d | (1ull << 40), (uint16_t)(serr | new_cpl), &target);
    if (kind == X86_FAR_JMP) {
        enter_code_segment(cpu, &target, d, address, offset);
        return true;
    }
    u64 values[4];
    unsigned count = 0;
    u64 rsp = cpu->gpr[X86_ESP];
    bool inner = new_cpl < cpu->cpl;
    if (inner) {
        const struct x86_segment *tr = &cpu->tr;
        uint32_t slot = 4 + new_cpl * 8u;
        if ((tr->attributes & X86_SEG_ATTR_UNUSABLE) || slot + 7 > tr->limit)
            x86_raise(cpu, X86_VEC_TS, tr->selector & 0xFFFCu);
        u64 new_rsp = x86_read_system(cpu, tr->base + slot, 8);
        if (!x86_canonical(new_rsp))
            x86_raise(cpu, X86_VEC_SS, 0);
        values[count++] = cpu->seg[X86_SEG_SS].selector;
        values[count++] = rsp;
        rsp = new_rsp;
    }
    values[count++] = cpu->seg[X86_SEG_CS].selector;
    values[count++] = cpu->next_rip;
    /* from compatibility mode at the same privilege the stack is still SS:ESP (SS's base; in
     * 64-bit mode and on the inner stack there is none) */
    u64 stack_base = 0;
    if (!inner && cpu->mode != X86_MODE_64) {
        rsp = (uint32_t)rsp;
        stack_base = cpu->seg[X86_SEG_SS].base;
    }
    /* the stores, with the new privilege's rights, checked before any is made */
    uint64_t phys;
    bool w;
    for (unsigned i = 0; i < count; i++) {
        u64 at = stack_base + rsp - 8 * (i + 1);
        if (!x86_canonical(at) || !x86_canonical(at + 7))
            x86_raise(cpu, X86_VEC_SS, 0);
        x86_translate(cpu, at, X86_ACCESS_WRITE, new_cpl == 3, &phys, &w);
        x86_translate(cpu, at + 7, X86_ACCESS_WRITE, new_cpl == 3, &phys, &w);
    }
    for (unsigned i = 0; i < count; i++) {
        u64 at = stack_base + rsp - 8 * (i + 1);
        for (unsigned b = 0; b < 8; b++) {
            /* by bytes only where the slot crosses a page */
            if (b == 0 || ((at + b) & 0xFFF) == 0)
                x86_translate(cpu, at + b, X86_ACCESS_WRITE, new_cpl == 3, &phys, &w);
            else
                phys++;
            if (b == 0 && (at & 0xFFF) <= X86_PAGE_SIZE - 8) {
                x86_phys_write(cpu, phys, 8, values[i]);
                break;
            }
            x86_phys_write(cpu, phys, 1, (values[i] >> (8 * b)) & 0xFF);
        }
    }
    if (inner) {
        struct x86_segment *ss = &cpu->seg[X86_SEG_SS];
        *ss = (struct x86_segment){ .selector = new_cpl, .limit = 0xFFFFFFFFu,
                                    .attributes = (uint16_t)(X86_SEG_ATTR_UNUSABLE | (new_cpl << 5)) };
        x86_segment_refresh(cpu, X86_SEG_SS);
        x86_set_cpl(cpu, new_cpl);
        cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    }
    cpu->gpr[X86_ESP] = rsp - 8 * count;
    enter_code_segment(cpu, &target, d, address, offset);
    x86_request_exit(cpu);
    return true;
}

X86_HANDLER(x86_exec64_jmp_far)
{
    uint16_t selector;
    u64 offset = far_pointer(cpu, insn, &selector);
    if (x86_through_call_gate64(cpu, selector, X86_FAR_JMP))
        return;
    struct x86_segment target;
    uint64_t d, address;
    far_target(cpu, selector, offset, X86_FAR_JMP, cpu->cpl, &target, &d, &address);
    enter_code_segment(cpu, &target, d, address, offset);
}

X86_HANDLER(x86_exec64_call_far)
{
    uint16_t selector;
    u64 offset = far_pointer(cpu, insn, &selector);
    if (x86_through_call_gate64(cpu, selector, X86_FAR_CALL))
        return;
    struct x86_segment target;
    uint64_t d, address;
    far_target(cpu, selector, offset, X86_FAR_CALL, cpu->cpl, &target, &d, &address);
    /* the return CS:RIP in the operand size, both stores checked before either is made */
    unsigned size = insn->opsize;
    u64 rsp = cpu->gpr[X86_ESP];
    u64 cs_at = linear(cpu, X86_SEG_SS, rsp - size, size, true);
    u64 rip_at = linear(cpu, X86_SEG_SS, rsp - 2 * size, size, true);
    uint64_t phys;
    bool w;
    x86_translate(cpu, cs_at, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
    x86_translate(cpu, rip_at, X86_ACCESS_WRITE, cpu->cpl == 3, &phys, &w);
    x86_write_linear(cpu, cs_at, size, cpu->seg[X86_SEG_CS].selector);
    x86_write_linear(cpu, rip_at, size, cpu->next_rip);
    cpu->gpr[X86_ESP] = rsp - 2 * size;
    enter_code_segment(cpu, &target, d, address, offset);
}

/* lret / lretq [imm16]: to the same privilege, or to an outer one with SS:RSP from the stack */
X86_HANDLER(x86_exec64_ret_far)
{
    unsigned size = insn->opsize;
    u64 release = insn->operand[0] == X86_OPK_IMM ? (insn->imm & 0xFFFF) : 0;
    u64 offset = peek(cpu, 0, size);
    uint16_t selector = (uint16_t)peek(cpu, size, size);
    uint8_t rpl = selector & 3;
    if (rpl < cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, selector & 0xFFFCu);
    struct x86_segment target;
    uint64_t d, address;
    far_target(cpu, selector, offset, X86_FAR_RET, rpl, &target, &d, &address);
    if (rpl == cpu->cpl) {
        enter_code_segment(cpu, &target, d, address, offset);
        cpu->gpr[X86_ESP] += 2 * size + release;
        return;
    }
    /* an outer level: SS:RSP above the released bytes; a null SS only for 64-bit code below
     * ring 3 (SDM Vol. 2 RET) */
    u64 rsp = peek(cpu, 2 * size + release, size);
    uint16_t ss_selector = (uint16_t)peek(cpu, 3 * size + release, size);
    struct x86_segment ss;
    if ((ss_selector & 0xFFFC) == 0) {
        if (!(target.attributes & X86_SEG_ATTR_L) || rpl == 3)
            x86_raise_gp0(cpu);
        ss = (struct x86_segment){ .selector = ss_selector, .limit = 0xFFFFFFFFu,
                                   .attributes = (uint16_t)(X86_SEG_ATTR_UNUSABLE | (rpl << 5)) };
    } else {
        uint64_t ss_address;
        uint64_t ssd = x86_stack_segment_descriptor(cpu, ss_selector, rpl, X86_VEC_GP,
                                                    &ss_address);
        x86_descriptor_to_cache(ssd | (1ull << 40), ss_selector, &ss);
    }
    enter_code_segment(cpu, &target, d, address, offset);
    cpu->seg[X86_SEG_SS] = ss;
    x86_segment_refresh(cpu, X86_SEG_SS);
    cpu->gpr[X86_ESP] = (size == 8 ? rsp : (uint32_t)rsp) + release;
    x86_set_cpl(cpu, rpl);
    x86_null_outer_data_segments(cpu);
    x86_request_exit(cpu);
    cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
}
