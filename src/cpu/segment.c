/* Segment register loads and far transfers with the protected-mode checks
 * (SDM Vol. 3 5.5-5.8; Vol. 2 MOV, POP, LDS/LES/LFS/LGS/LSS, JMP, CALL, RET).
 */
#include "cpu/segment.h"

#include "cpu/mmu.h"
#include "idt/idt.h"
#include "machine/machine.h"

bool x86_protected_mode(const struct x86_cpu *cpu)
{
    return (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_FLAG_VM);
}

/* Selector error code: index and TI, RPL bits cleared (SDM Vol. 3 6.13) */
static uint32_t selector_error(uint16_t selector) { return selector & 0xFFFCu; }

uint64_t x86_read_descriptor(struct x86_cpu *cpu, uint16_t selector, uint32_t *address)
{
    uint32_t base, limit;
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
    *address = base + offset;
    return x86_read_system(cpu, base + offset, 8);
}

void x86_descriptor_to_cache(uint64_t descriptor, uint16_t selector, struct x86_segment *s)
{
    uint32_t low = (uint32_t)descriptor, high = (uint32_t)(descriptor >> 32);
    s->selector = selector;
    s->base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF000000u);
    uint32_t limit = (low & 0xFFFF) | (high & 0x000F0000u);
    s->attributes = (uint16_t)(((high >> 8) & 0xFF) | (((high >> 20) & 0xF) << 8));
    if (s->attributes & X86_SEG_ATTR_G)
        limit = (limit << 12) | 0xFFF;
    s->limit = limit;
}

/* Set the accessed bit in the descriptor in memory (SDM Vol. 3 3.4.5.1) */
static void mark_accessed(struct x86_cpu *cpu, uint64_t descriptor, uint32_t address)
{
    if (!(descriptor & (1ull << 40)))
        x86_write_system(cpu, address + 5, 1, (uint8_t)((descriptor >> 40) | 1));
}

static void update_mode(struct x86_cpu *cpu)
{
    cpu->mode = (cpu->seg[X86_SEG_CS].attributes & X86_SEG_ATTR_DB) ? X86_MODE_32 : X86_MODE_16;
    x86_request_exit(cpu);
}

void x86_set_cpl(struct x86_cpu *cpu, uint8_t cpl)
{
    if (cpu->cpl != cpl) {
        cpu->cpl = cpl;
        x86_tlb_flush(cpu); /* cached page permissions were checked for the old privilege */
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
    uint32_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    bool code_or_data = access & 0x10;
    bool code = access & 0x08;
    bool present = access & 0x80;
    if (seg == X86_SEG_SS) {
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
    if (seg == X86_SEG_SS)
        x86_request_exit(cpu);
}

void x86_far_transfer(struct x86_cpu *cpu, uint16_t selector, uint32_t offset, int kind,
                      unsigned opsize)
{
    if (opsize == 2)
        offset &= 0xFFFF;
    if (!x86_protected_mode(cpu)) {
        if (kind == X86_FAR_CALL) {
            uint32_t cs = cpu->seg[X86_SEG_CS].selector;
            uint32_t sp = cpu->gpr[X86_ESP];
            bool s32 = x86_stack32(cpu);
            uint32_t a = s32 ? sp - opsize : (uint16_t)(sp - opsize);
            uint32_t b = s32 ? sp - 2 * opsize : (uint16_t)(sp - 2 * opsize);
            x86_check_write(cpu, X86_SEG_SS, a, opsize);
            x86_check_write(cpu, X86_SEG_SS, b, opsize);
            x86_write(cpu, X86_SEG_SS, a, opsize, cs);
            x86_write(cpu, X86_SEG_SS, b, opsize, cpu->next_eip);
            x86_stack_adjust(cpu, -(int32_t)(2 * opsize));
        }
        /* real mode: EIP beyond the CS limit faults before the transfer (SDM Vol. 2 JMP) */
        if (offset > cpu->seg[X86_SEG_CS].limit && !(cpu->eflags & X86_FLAG_VM))
            x86_raise(cpu, X86_VEC_GP, 0);
        x86_load_segment(cpu, X86_SEG_CS, selector);
        cpu->next_eip = offset;
        return;
    }

    if ((selector & 0xFFFC) == 0)
        x86_raise(cpu, X86_VEC_GP, 0);
    uint32_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    uint8_t rpl = selector & 3;
    if (!(access & 0x10)) {
        /* task gates and TSS descriptors switch tasks; call gates: pending (docs/isa.md) */
        uint8_t type = access & 0x0F;
        bool task = type == 0x05 || type == 0x01 || type == 0x09 || type == 0x03 || type == 0x0B;
        if (task && kind != X86_FAR_RET) {
            x86_task_far_transfer(cpu, selector, d, kind);
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
        if (rpl > cpu->cpl)  /* return to an outer level: with call gates (docs/isa.md) */
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
    if (offset > target.limit)
        x86_raise(cpu, X86_VEC_GP, 0);
    if (kind == X86_FAR_CALL) {
        uint32_t cs = cpu->seg[X86_SEG_CS].selector;
        uint32_t sp = cpu->gpr[X86_ESP];
        bool s32 = x86_stack32(cpu);
        uint32_t a = s32 ? sp - opsize : (uint16_t)(sp - opsize);
        uint32_t b = s32 ? sp - 2 * opsize : (uint16_t)(sp - 2 * opsize);
        x86_check_write(cpu, X86_SEG_SS, a, opsize);
        x86_check_write(cpu, X86_SEG_SS, b, opsize);
        x86_write(cpu, X86_SEG_SS, a, opsize, cs);
        x86_write(cpu, X86_SEG_SS, b, opsize, cpu->next_eip);
        x86_stack_adjust(cpu, -(int32_t)(2 * opsize));
    }
    mark_accessed(cpu, d, address);
    cpu->seg[X86_SEG_CS] = target;
    x86_segment_refresh(cpu, X86_SEG_CS);
    update_mode(cpu);
    cpu->next_eip = offset;
}
