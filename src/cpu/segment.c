/* Segment register loads and far transfers with the protected-mode checks
 * (SDM Vol. 3 5.5-5.8; Vol. 2 MOV, POP, LDS/LES/LFS/LGS/LSS, JMP, CALL, RET).
 */
#include "cpu/segment.h"

#include <string.h>

#include "cpu/mmu.h"
#include "idt/idt.h"

bool x86_protected_mode(const struct x86_cpu *cpu)
{
    return (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_FLAG_VM);
}

/* Selector error code: index and TI, RPL bits cleared (SDM Vol. 3 6.13) */
static uint32_t selector_error(uint16_t selector) { return selector & 0xFFFCu; }

uint64_t x86_read_descriptor(struct x86_cpu *cpu, uint16_t selector, uint64_t *address)
{
    uint64_t base;
    uint32_t limit;
    if (selector & 4) {
        if (cpu->ldtr.attributes & X86_SEG_ATTR_UNUSABLE)
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
        base = cpu->ldtr.base;
        limit = cpu->ldtr.limit;
    } else {
        base = cpu->gdtr.base;
        limit = cpu->gdtr.limit;
    }
    uint32_t offset = selector & 0xFFF8u;
    if (offset + 7 > limit)
        x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    /* the tables' bases are 64-bit in IA-32e mode; elsewhere addresses wrap at 4 GiB */
    uint64_t at = base + offset;
    if (!(cpu->efer & X86_EFER_LMA))
        at = (uint32_t)at;
    *address = at;
    return x86_read_system(cpu, at, 8);
}

void x86_descriptor_to_cache(uint64_t descriptor, uint16_t selector, struct x86_segment *s)
{
    uint32_t low = (uint32_t)descriptor, high = (uint32_t)(descriptor >> 32);
    /* every byte, the padding too: a snapshot saves the cache as it is, and must not carry
     * what the stack held before */
    memset(s, 0, sizeof(*s));
    s->selector = selector;
    s->base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF000000u);
    uint32_t limit = (low & 0xFFFF) | (high & 0x000F0000u);
    s->attributes = (uint16_t)(((high >> 8) & 0xFF) | (((high >> 20) & 0xF) << 8));
    if (s->attributes & X86_SEG_ATTR_G)
        limit = (limit << 12) | 0xFFF;
    s->limit = limit;
}

/* Set the accessed bit in the descriptor in memory (SDM Vol. 3 3.4.5.1) */
static bool new_cpl_is_user(const struct x86_segment *ss)
{
    return ((ss->attributes & X86_SEG_ATTR_DPL) >> 5) == 3;
}

static void mark_accessed(struct x86_cpu *cpu, uint64_t descriptor, uint64_t address)
{
    if (!(descriptor & (1ull << 40)))
        x86_write_system(cpu, address + 5, 1, (uint8_t)((descriptor >> 40) | 1));
}

void x86_update_code_mode(struct x86_cpu *cpu)
{
    /* IA-32e mode: CS.L selects 64-bit mode, else compatibility mode by CS.D as in protected
     * mode (SDM Vol. 3 5.2.1); L is ignored outside IA-32e mode */
    uint16_t attributes = cpu->seg[X86_SEG_CS].attributes;
    if ((cpu->efer & X86_EFER_LMA) && (attributes & X86_SEG_ATTR_L) && x86_protected_mode(cpu))
        cpu->mode = X86_MODE_64;
    else
        cpu->mode = (attributes & X86_SEG_ATTR_DB) ? X86_MODE_32 : X86_MODE_16;
}

/* a far transfer's new mode: the fast loop looks again at the next boundary */
static void update_mode(struct x86_cpu *cpu)
{
    x86_update_code_mode(cpu);
    x86_request_exit(cpu);
}

void x86_set_cpl(struct x86_cpu *cpu, uint8_t cpl)
{
    if (cpu->cpl != cpl) {
        cpu->cpl = cpl;
        /* TLB entries were checked for one privilege: switch to the other privilege's TLB;
         * cached EIP -> block lookups checked fetch rights, so they go */
        cpu->tlb = &cpu->tlb_sets[cpl == 3 ? X86_TLB_ENTRIES : 0];
        if (cpu->code)
            x86_cpu_renew(cpu);
        x86_update_alignment_check(cpu);
    }
}

void x86_load_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector)
{
    struct x86_segment *s = &cpu->seg[seg];
    if (!x86_protected_mode(cpu)) {
        /* real and virtual-8086 mode: the base follows the selector; in real mode the limit and
         * attributes stay as they are (SDM Vol. 3 20.1.1), in VM86 they are those of real mode */
        s->selector = selector;
        s->base = (uint32_t)selector << 4;
        if (cpu->eflags & X86_FLAG_VM) {
            s->limit = 0xFFFF;
            s->attributes = 0x00F3; /* present, DPL 3, read/write data, accessed */
        }
        s->attributes &= (uint16_t)~X86_SEG_ATTR_UNUSABLE;
        x86_segment_refresh(cpu, seg);
        if (seg == X86_SEG_CS)
            update_mode(cpu);
        return;
    }
    uint8_t rpl = selector & 3;
    if ((selector & 0xFFFC) == 0) {
        if (seg == X86_SEG_SS)
            x86_raise(cpu, X86_VEC_GP, 0);
        /* a null selector loads an unusable segment; using it faults (SDM Vol. 3 5.4.1) */
        s->selector = selector;
        s->attributes = X86_SEG_ATTR_UNUSABLE;
        s->base = 0;
        s->limit = 0;
        x86_segment_refresh(cpu, seg);
        return;
    }
    bool stack = seg == X86_SEG_SS;
    struct x86_segment_load_entry *cached =
        &cpu->gates->loads[(selector >> 3) & (X86_SEGMENT_LOAD_CACHE - 1)];
    if (X86_LIKELY(cached->epoch == cpu->table_epoch && cached->selector == selector &&
                   cached->cpl == cpu->cpl && cached->stack == stack)) {
        *s = cached->segment;
        x86_segment_refresh(cpu, seg);
        if (stack)
            x86_request_exit(cpu);
        return;
    }
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    bool code_or_data = access & 0x10;
    bool code = access & 0x08;
    bool present = access & 0x80;
    if (stack) {
        /* SDM Vol. 2 MOV: SS needs a writable data segment with RPL = DPL = CPL */
        if (rpl != cpu->cpl || !code_or_data || code || !(access & 0x02) || dpl != cpu->cpl)
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
        if (!present)
            x86_raise(cpu, X86_VEC_SS, selector_error(selector));
    } else {
        if (!code_or_data || (code && !(access & 0x02)))
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
        bool conforming_code = code && (access & 0x04);
        if (!conforming_code && (rpl > dpl || cpu->cpl > dpl))
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
        if (!present)
            x86_raise(cpu, X86_VEC_NP, selector_error(selector));
    }
    mark_accessed(cpu, d, address);
    x86_descriptor_to_cache(d | (1ull << 40), selector, s);
    x86_segment_refresh(cpu, seg);
    /* keep the checked result while the descriptor's bytes stay as they are (watched, as the
     * IDT dispatch table's are); the accessed bit is set by now, so a reload writes nothing */
    if (x86_table_watch(cpu, address, 8)) {
        *cached = (struct x86_segment_load_entry){ .epoch = cpu->table_epoch,
                                                   .selector = selector, .cpl = cpu->cpl,
                                                   .stack = stack, .segment = *s };
    }
    if (stack)
        x86_request_exit(cpu);
}

uint64_t x86_stack_segment_descriptor(struct x86_cpu *cpu, uint16_t selector, uint8_t cpl,
                                      uint8_t bad_vector, uint64_t *address)
{
    if ((selector & 0xFFFC) == 0)
        x86_raise(cpu, bad_vector, 0);
    uint64_t d = x86_read_descriptor(cpu, selector, address);
    uint8_t access = (uint8_t)(d >> 40);
    if ((selector & 3) != cpl || ((access >> 5) & 3) != cpl || (access & 0x1A) != 0x12)
        x86_raise(cpu, bad_vector, selector_error(selector));
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_SS, selector_error(selector));
    return d;
}

/* The stack a privilege change to new_cpl switches to: SS:ESP from the TSS, checked as SDM Vol. 2
 * CALL ("CALL-GATE", more privilege) does: #TS(selector) for a bad SS, #SS(selector) if not
 * present. */
static void tss_stack(struct x86_cpu *cpu, uint8_t new_cpl, struct x86_segment *ss, uint32_t *esp)
{
    const struct x86_segment *tr = &cpu->tr;
    uint8_t type = tr->attributes & 0xF;
    bool tss32 = type == 0x9 || type == 0xB;
    uint32_t slot = tss32 ? 4 + new_cpl * 8u : 2 + new_cpl * 4u;
    if ((tr->attributes & X86_SEG_ATTR_UNUSABLE) || slot + (tss32 ? 7u : 3u) > tr->limit)
        x86_raise(cpu, X86_VEC_TS, selector_error(tr->selector));
    uint16_t ss_selector;
    if (tss32) {
        *esp = (uint32_t)x86_read_system(cpu, tr->base + slot, 4);
        ss_selector = (uint16_t)x86_read_system(cpu, tr->base + slot + 4, 2);
    } else {
        *esp = (uint32_t)x86_read_system(cpu, tr->base + slot, 2);
        ss_selector = (uint16_t)x86_read_system(cpu, tr->base + slot + 2, 2);
    }
    uint64_t address;
    uint64_t d = x86_stack_segment_descriptor(cpu, ss_selector, new_cpl, X86_VEC_TS, &address);
    mark_accessed(cpu, d, address);
    x86_descriptor_to_cache(d | (1ull << 40), ss_selector, ss);
}

/* A store of size bytes at SS-relative offset sp on the stack segment ss, checked (limit,
 * expand-down, page) before anything is written; returns the linear address. */
static uint32_t stack_slot(struct x86_cpu *cpu, const struct x86_segment *ss, uint32_t sp,
                           unsigned size, uint32_t fault_code)
{
    bool s32 = ss->attributes & X86_SEG_ATTR_DB;
    bool expand_down = !(ss->attributes & 0x8) && (ss->attributes & 0x4);
    uint64_t last = (uint64_t)sp + size - 1;
    bool bad = expand_down ? (sp <= ss->limit || last > (s32 ? 0xFFFFFFFFull : 0xFFFFull))
                           : last > ss->limit;
    if (bad)
        x86_raise(cpu, X86_VEC_SS, fault_code);
    uint32_t linear = ss->base + sp;
    uint64_t phys;
    bool writable;
    x86_translate(cpu, linear, X86_ACCESS_WRITE, new_cpl_is_user(ss), &phys, &writable);
    if (((linear + size - 1) & ~0xFFFu) != (linear & ~0xFFFu))
        x86_translate(cpu, linear + size - 1, X86_ACCESS_WRITE, new_cpl_is_user(ss), &phys,
                      &writable);
    return linear;
}

/* A far CALL or JMP through a call gate (SDM Vol. 3 5.8.3-5.8.5; Vol. 2 CALL, JMP). */
static void through_call_gate(struct x86_cpu *cpu, uint16_t gate_selector, uint64_t gate, int kind)
{
    uint8_t gate_access = (uint8_t)(gate >> 40);
    uint8_t gate_dpl = (gate_access >> 5) & 3;
    bool gate32 = (gate_access & 0x0F) == 0x0C;
    if (gate_dpl < cpu->cpl || gate_dpl < (gate_selector & 3))
        x86_raise(cpu, X86_VEC_GP, selector_error(gate_selector));
    if (!(gate_access & 0x80))
        x86_raise(cpu, X86_VEC_NP, selector_error(gate_selector));
    uint16_t selector = (uint16_t)(gate >> 16);
    uint32_t offset = (uint32_t)(gate & 0xFFFF);
    if (gate32)
        offset |= (uint32_t)(gate >> 32) & 0xFFFF0000u;
    unsigned parameters = (unsigned)(gate >> 32) & 0x1F;
    if ((selector & 0xFFFC) == 0)
        x86_raise(cpu, X86_VEC_GP, 0);
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    bool conforming = access & 0x04;
    if ((access & 0x18) != 0x18 || dpl > cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    if (kind == X86_FAR_JMP && !conforming && dpl != cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, selector_error(selector)); /* JMP never changes privilege */
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, selector_error(selector));
    uint8_t new_cpl = conforming ? cpu->cpl : dpl;
    struct x86_segment target;
    x86_descriptor_to_cache(d | (1ull << 40), (uint16_t)((selector & 0xFFFC) | new_cpl), &target);
    if (!gate32)
        offset &= 0xFFFF;
    if (offset > target.limit)
        x86_raise(cpu, X86_VEC_GP, 0);
    unsigned size = gate32 ? 4 : 2;

    if (kind == X86_FAR_JMP) {
        mark_accessed(cpu, d, address);
        cpu->seg[X86_SEG_CS] = target;
        x86_segment_refresh(cpu, X86_SEG_CS);
        update_mode(cpu);
        cpu->next_rip = offset;
        return;
    }
    uint32_t return_eip = x86_next_eip(cpu);
    uint16_t return_cs = cpu->seg[X86_SEG_CS].selector;
    if (new_cpl < cpu->cpl) {
        /* more privilege: the TSS's stack; the old SS:ESP and the parameters go there */
        struct x86_segment ss;
        uint32_t esp;
        tss_stack(cpu, new_cpl, &ss, &esp);
        uint32_t values[4 + 31];
        unsigned count = 0;
        values[count++] = cpu->seg[X86_SEG_SS].selector;
        values[count++] = x86_gpr32(cpu, X86_ESP);
        /* parameters: copied from the old stack, the deepest first (SDM Vol. 3 Figure 5-13) */
        for (unsigned i = parameters; i-- > 0;)
            values[count++] = x86_stack_peek(cpu, i * size, size);
        values[count++] = return_cs;
        values[count++] = return_eip;
        bool s32 = ss.attributes & X86_SEG_ATTR_DB;
        uint32_t sp = esp;
        uint32_t linear[4 + 31];
        uint32_t fault = selector_error(ss.selector);
        for (unsigned i = 0; i < count; i++) {
            sp = s32 ? sp - size : (uint16_t)(sp - size);
            linear[i] = stack_slot(cpu, &ss, sp, size, fault);
        }
        /* committed: nothing below faults */
        for (unsigned i = 0; i < count; i++)
            x86_write_system(cpu, linear[i], size, values[i]);
        mark_accessed(cpu, d, address);
        cpu->seg[X86_SEG_SS] = ss;
        x86_segment_refresh(cpu, X86_SEG_SS);
        if (s32)
            x86_set_gpr32(cpu, X86_ESP, sp);
        else
            x86_set_gpr16(cpu, X86_ESP, sp);
        cpu->seg[X86_SEG_CS] = target;
        x86_segment_refresh(cpu, X86_SEG_CS);
        x86_set_cpl(cpu, new_cpl);
        cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    } else {
        /* same privilege: CS and EIP on the current stack, in the gate's size */
        uint32_t sp = x86_gpr32(cpu, X86_ESP);
        bool s32 = x86_stack32(cpu);
        uint32_t a = s32 ? sp - size : (uint16_t)(sp - size);
        uint32_t b = s32 ? sp - 2 * size : (uint16_t)(sp - 2 * size);
        x86_check_write(cpu, X86_SEG_SS, a, size);
        x86_check_write(cpu, X86_SEG_SS, b, size);
        x86_write(cpu, X86_SEG_SS, a, size, return_cs);
        x86_write(cpu, X86_SEG_SS, b, size, return_eip);
        x86_stack_adjust(cpu, -(int32_t)(2 * size));
        mark_accessed(cpu, d, address);
        cpu->seg[X86_SEG_CS] = target;
        x86_segment_refresh(cpu, X86_SEG_CS);
    }
    update_mode(cpu);
    x86_request_exit(cpu);
    cpu->next_rip = offset;
}

void x86_far_return(struct x86_cpu *cpu, unsigned opsize, uint32_t release)
{
    /* SDM Vol. 2 RET (far): the return CS's RPL decides the privilege returned to */
    uint32_t offset = x86_stack_peek(cpu, 0, opsize);
    uint16_t selector = (uint16_t)x86_stack_peek(cpu, opsize, opsize);
    if (!x86_protected_mode(cpu) || (selector & 3) <= cpu->cpl) {
        x86_far_transfer(cpu, selector, offset, X86_FAR_RET, opsize);
        x86_stack_adjust(cpu, (int32_t)(2 * opsize + release));
        return;
    }
    /* to an outer level: CS checks, then SS:ESP from above the released parameters */
    uint8_t rpl = selector & 3;
    if ((selector & 0xFFFC) == 0)
        x86_raise(cpu, X86_VEC_GP, 0);
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    if ((access & 0x18) != 0x18 || ((access & 0x04) ? dpl > rpl : dpl != rpl))
        x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, selector_error(selector));
    struct x86_segment target;
    x86_descriptor_to_cache(d | (1ull << 40), selector, &target);
    if (opsize == 2)
        offset &= 0xFFFF;
    if (offset > target.limit)
        x86_raise(cpu, X86_VEC_GP, 0);
    uint32_t esp = x86_stack_peek(cpu, 2 * opsize + release, opsize);
    uint16_t ss_selector = (uint16_t)x86_stack_peek(cpu, 3 * opsize + release, opsize);
    uint64_t ss_address;
    uint64_t ssd = x86_stack_segment_descriptor(cpu, ss_selector, rpl, X86_VEC_GP, &ss_address);
    struct x86_segment ss;
    x86_descriptor_to_cache(ssd | (1ull << 40), ss_selector, &ss);
    /* committed */
    mark_accessed(cpu, d, address);
    mark_accessed(cpu, ssd, ss_address);
    cpu->seg[X86_SEG_CS] = target;
    x86_segment_refresh(cpu, X86_SEG_CS);
    cpu->seg[X86_SEG_SS] = ss;
    x86_segment_refresh(cpu, X86_SEG_SS);
    /* the new stack releases the parameters too (ret imm16) */
    esp += release;
    if (ss.attributes & X86_SEG_ATTR_DB)
        x86_set_gpr32(cpu, X86_ESP, esp);
    else
        x86_set_gpr16(cpu, X86_ESP, esp);
    x86_set_cpl(cpu, rpl);
    x86_null_outer_data_segments(cpu);
    update_mode(cpu);
    x86_request_exit(cpu);
    cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    cpu->next_rip = offset;
}

void x86_far_transfer(struct x86_cpu *cpu, uint16_t selector, uint32_t offset, int kind,
                      unsigned opsize)
{
    if (opsize == 2)
        offset &= 0xFFFF;
    if (!x86_protected_mode(cpu)) {
        if (kind == X86_FAR_CALL) {
            uint32_t cs = cpu->seg[X86_SEG_CS].selector;
            uint32_t sp = x86_gpr32(cpu, X86_ESP);
            bool s32 = x86_stack32(cpu);
            uint32_t a = s32 ? sp - opsize : (uint16_t)(sp - opsize);
            uint32_t b = s32 ? sp - 2 * opsize : (uint16_t)(sp - 2 * opsize);
            x86_check_write(cpu, X86_SEG_SS, a, opsize);
            x86_check_write(cpu, X86_SEG_SS, b, opsize);
            x86_write(cpu, X86_SEG_SS, a, opsize, cs);
            x86_write(cpu, X86_SEG_SS, b, opsize, x86_next_eip(cpu));
            x86_stack_adjust(cpu, -(int32_t)(2 * opsize));
        }
        /* real mode: EIP beyond the CS limit faults before the transfer (SDM Vol. 2 JMP) */
        if (offset > cpu->seg[X86_SEG_CS].limit && !(cpu->eflags & X86_FLAG_VM))
            x86_raise(cpu, X86_VEC_GP, 0);
        x86_load_segment(cpu, X86_SEG_CS, selector);
        cpu->next_rip = offset;
        return;
    }

    if ((selector & 0xFFFC) == 0)
        x86_raise(cpu, X86_VEC_GP, 0);
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    uint8_t rpl = selector & 3;
    if (!(access & 0x10) && (cpu->efer & X86_EFER_LMA) && kind != X86_FAR_RET) {
        /* compatibility mode in IA-32e mode: call gates are the 16-byte 64-bit ones, to 64-bit
         * code, and there are no task switches (SDM Vol. 3 5.8.3.1, 8.7) */
        if (x86_through_call_gate64(cpu, selector, kind))
            return;
    }
    if (!(access & 0x10)) {
        /* task gates and TSS descriptors switch tasks; call gates transfer through the gate */
        uint8_t type = access & 0x0F;
        bool task = type == 0x05 || type == 0x01 || type == 0x09 || type == 0x03 || type == 0x0B;
        if (task && kind != X86_FAR_RET) {
            x86_task_far_transfer(cpu, selector, d, kind);
            return;
        }
        if ((type == 0x04 || type == 0x0C) && kind != X86_FAR_RET) {
            through_call_gate(cpu, selector, d, kind);
            return;
        }
        x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    }
    if (!(access & 0x08))
        x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    bool conforming = access & 0x04;
    if (kind == X86_FAR_RET) {
        /* SDM Vol. 2 RET: the return selector's RPL is the privilege returned to */
        if (rpl < cpu->cpl)
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
        if (rpl > cpu->cpl)  /* an outer level: x86_far_return handles it */
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
        if (conforming ? dpl > rpl : dpl != rpl)
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    } else {
        if (conforming ? dpl > cpu->cpl : (rpl > cpu->cpl || dpl != cpu->cpl))
            x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    }
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, selector_error(selector));
    struct x86_segment target;
    x86_descriptor_to_cache(d | (1ull << 40), (uint16_t)((selector & 0xFFFC) | cpu->cpl), &target);
    /* IA-32e mode: a 64-bit code segment (L) has no limit, and L with D is reserved (SDM Vol. 3
     * 5.2.1); compatibility-mode code reaches 64-bit code this way */
    bool long_target = (cpu->efer & X86_EFER_LMA) && (target.attributes & X86_SEG_ATTR_L);
    if (long_target && (target.attributes & X86_SEG_ATTR_DB))
        x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    if (!long_target && offset > target.limit)
        x86_raise(cpu, X86_VEC_GP, 0);
    if (kind == X86_FAR_CALL) {
        uint32_t cs = cpu->seg[X86_SEG_CS].selector;
        uint32_t sp = x86_gpr32(cpu, X86_ESP);
        bool s32 = x86_stack32(cpu);
        uint32_t a = s32 ? sp - opsize : (uint16_t)(sp - opsize);
        uint32_t b = s32 ? sp - 2 * opsize : (uint16_t)(sp - 2 * opsize);
        x86_check_write(cpu, X86_SEG_SS, a, opsize);
        x86_check_write(cpu, X86_SEG_SS, b, opsize);
        x86_write(cpu, X86_SEG_SS, a, opsize, cs);
        x86_write(cpu, X86_SEG_SS, b, opsize, x86_next_eip(cpu));
        x86_stack_adjust(cpu, -(int32_t)(2 * opsize));
    }
    mark_accessed(cpu, d, address);
    cpu->seg[X86_SEG_CS] = target;
    x86_segment_refresh(cpu, X86_SEG_CS);
    update_mode(cpu);
    cpu->next_rip = offset;
}
