/* Delivery and IRET in IA-32e mode (SDM Vol. 3 6.14, Vol. 2 INT n and IRET "IA-32e-MODE").
 *
 * What long mode changes: 16-byte gates (only 64-bit interrupt and trap gates: a task gate or
 * a 16/32-bit gate type is #GP), the handler's code segment must be 64-bit code (L = 1,
 * D = 0), the stack comes from the 64-bit TSS (RSP0-2 on a privilege change, IST1-7 whenever
 * the gate names one), SS becomes a null selector with RPL = new CPL on a privilege change,
 * RSP is aligned down to 16 bytes, and the frame is always SS, RSP, RFLAGS, CS, RIP (and the
 * error code), 8 bytes each. IRET in 64-bit mode always pops SS:RSP too. As in deliver.c, every
 * check and every frame slot's translation comes before anything is written or committed, so a
 * fault leaves the interrupted state for the double-fault rules.
 */
#include "idt/idt.h"

#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "cpu/segment.h"
#include "trace/events.h"

#define TSS64_RSP0 0x04u
#define TSS64_IST1 0x24u

/* The 16-byte gate of vector, from the dispatch table or decoded now (SDM Vol. 3 Figure 6-8).
 * Bits 12:8 of the gate's fourth doubleword must be 0 there (else the type is invalid). */
static struct x86_gate_entry *gate_lookup64(struct x86_cpu *cpu, uint8_t vector,
                                            uint32_t idt_error, struct x86_gate_entry *scratch)
{
    uint32_t entry = vector * 16u;
    if (entry + 15 > cpu->idtr.limit)
        x86_raise(cpu, X86_VEC_GP, idt_error);
    struct x86_gate_entry *g = &cpu->gates->gates[vector];
    if (X86_LIKELY(g->epoch == cpu->table_epoch))
        return g;
    uint64_t linear = cpu->idtr.base + entry;
    uint64_t low = x86_read_system(cpu, linear, 8);
    uint64_t high = x86_read_system(cpu, linear + 8, 8);
    uint8_t access = (uint8_t)(low >> 40);
    uint8_t type = access & 0x1F;
    if ((high >> 40) & 0x1F)
        type = 0; /* not a valid 64-bit gate */
    struct x86_gate_entry decoded = {
        .epoch = cpu->table_epoch,
        .type = type,
        .dpl = (access >> 5) & 3,
        .present = (access >> 7) & 1,
        .selector = (uint16_t)(low >> 16),
        .ist = (uint8_t)((low >> 32) & 7),
        .offset = (low & 0xFFFF) | ((low >> 32) & 0xFFFF0000u) | (high << 32),
    };
    if (!x86_table_watch(cpu, linear, 16)) {
        *scratch = decoded;
        scratch->epoch = cpu->table_epoch - 1;
        return scratch;
    }
    *g = decoded;
    return g;
}

/* The handler's code segment: code, DPL <= CPL, 64-bit (L = 1, D = 0), present (SDM Vol. 2
 * INT n: "IF IA32_EFER.LMA = 1 ... IF target code segment is not a 64-bit code segment
 * #GP(selector + EXT)") */
static const struct x86_segment *gate_target64(struct x86_cpu *cpu, struct x86_gate_entry *g,
                                               uint32_t ext)
{
    if (X86_LIKELY(g->target_epoch_ok && g->target_epoch == cpu->table_epoch))
        return &g->target;
    uint16_t selector = g->selector;
    if ((selector & 0xFFFC) == 0)
        x86_raise(cpu, X86_VEC_GP, ext);
    uint64_t descriptor_address;
    uint64_t d = x86_read_descriptor(cpu, selector, &descriptor_address);
    uint8_t cs_access = (uint8_t)(d >> 40);
    uint8_t dpl = (cs_access >> 5) & 3;
    bool long_code = ((d >> 53) & 1) && !((d >> 54) & 1);
    if ((cs_access & 0x18) != 0x18 || dpl > cpu->cpl || !long_code)
        x86_raise(cpu, X86_VEC_GP, (selector & 0xFFFCu) + ext);
    if (!(cs_access & 0x80))
        x86_raise(cpu, X86_VEC_NP, (selector & 0xFFFCu) + ext);
    x86_descriptor_to_cache(d | (1ull << 40), (uint16_t)(selector & 0xFFFC), &g->target);
    g->target_epoch = cpu->table_epoch;
    g->target_epoch_ok = g->epoch == cpu->table_epoch &&
                         x86_table_watch(cpu, descriptor_address, 8);
    return &g->target;
}

/* A stack pointer from the 64-bit TSS at offset: the TSS must reach it (#TS(TR)), and the
 * address be canonical (#SS) */
static uint64_t tss_stack_pointer(struct x86_cpu *cpu, uint32_t offset, uint32_t ext)
{
    const struct x86_segment *tr = &cpu->tr;
    if ((tr->attributes & X86_SEG_ATTR_UNUSABLE) || offset + 7 > tr->limit)
        x86_raise(cpu, X86_VEC_TS, (tr->selector & 0xFFFCu) + ext);
    uint64_t rsp = x86_read_system(cpu, tr->base + offset, 8);
    if (!x86_canonical(rsp))
        x86_raise(cpu, X86_VEC_SS, ext);
    return rsp;
}

/* Write the frame's 8-byte slots below rsp (values[0] highest) with the handler's rights: all
 * translated first, then written */
static void push_frame64(struct x86_cpu *cpu, uint64_t rsp, const uint64_t *values,
                         unsigned count, bool user, uint32_t ss_error)
{
    uint64_t phys[8][2];
    for (unsigned i = 0; i < count; i++) {
        uint64_t at = rsp - 8 * (i + 1);
        if (!x86_canonical(at) || !x86_canonical(at + 7))
            x86_raise(cpu, X86_VEC_SS, ss_error);
        phys[i][0] = x86_translate_write_cached(cpu, at, user);
        phys[i][1] = phys[i][0];
        if ((at & 0xFFF) > X86_PAGE_SIZE - 8)
            phys[i][1] = x86_translate_write_cached(cpu, (at + 7) & ~(uint64_t)0xFFF, user);
    }
    for (unsigned i = 0; i < count; i++) {
        uint64_t at = rsp - 8 * (i + 1);
        if (phys[i][1] == phys[i][0]) {
            x86_phys_write(cpu, phys[i][0], 8, values[i]);
            continue;
        }
        unsigned first = X86_PAGE_SIZE - (unsigned)(at & 0xFFF);
        for (unsigned b = 0; b < 8; b++)
            x86_phys_write(cpu, b < first ? phys[i][0] + b : phys[i][1] + (b - first), 1,
                           (values[i] >> (8 * b)) & 0xFF);
    }
}

void x86_deliver_long_mode(struct x86_cpu *cpu, uint8_t vector, enum x86_event_source source,
                           bool has_error_code, uint32_t error_code, uint64_t return_rip)
{
    bool software = source == X86_EVENT_SOFTWARE || source == X86_EVENT_INT3 ||
                    source == X86_EVENT_INTO;
    uint32_t ext = software ? 0 : 1;
    uint32_t idt_error = vector * 8u + 2 + ext;
    struct x86_gate_entry scratch;
    struct x86_gate_entry *g = gate_lookup64(cpu, vector, idt_error, &scratch);
    cpu->last_gate_type = g->type;
    if (g->type != 0x0E && g->type != 0x0F)
        x86_raise(cpu, X86_VEC_GP, idt_error); /* no task gates, no 16/32-bit gates */
    if (software && g->dpl < cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, idt_error);
    if (!g->present)
        x86_raise(cpu, X86_VEC_NP, idt_error);
    const struct x86_segment *target = gate_target64(cpu, g, ext);
    uint8_t dpl = (target->attributes & X86_SEG_ATTR_DPL) >> 5;
    bool conforming = target->attributes & 0x04;
    uint8_t new_cpl = conforming ? cpu->cpl : dpl;
    if (!x86_canonical(g->offset))
        x86_raise(cpu, X86_VEC_GP, ext);

    bool privilege_change = new_cpl < cpu->cpl;
    uint64_t rsp = cpu->gpr[X86_ESP];
    if (g->ist)
        rsp = tss_stack_pointer(cpu, TSS64_IST1 + (g->ist - 1u) * 8, ext);
    else if (privilege_change)
        rsp = tss_stack_pointer(cpu, TSS64_RSP0 + new_cpl * 8u, ext);
    rsp &= ~(uint64_t)0xF; /* SDM Vol. 3 6.14.2: the frame starts 16-byte aligned */

    uint64_t rflags = (x86_get_eflags(cpu) & ~X86_FLAG_RF) |
                      (cpu->frame_resume_flag ? X86_FLAG_RF : 0);
    uint64_t values[6] = { cpu->seg[X86_SEG_SS].selector, cpu->gpr[X86_ESP], rflags,
                           cpu->seg[X86_SEG_CS].selector, return_rip, error_code };
    unsigned count = has_error_code ? 6 : 5;
    push_frame64(cpu, rsp, values, count, new_cpl == 3, ext);

    /* committed from here on */
    if (privilege_change) {
        /* SS becomes null with RPL = the new CPL (SDM Vol. 3 6.14.4); 64-bit code may use it */
        struct x86_segment *ss = &cpu->seg[X86_SEG_SS];
        ss->selector = new_cpl;
        ss->base = 0;
        ss->limit = 0xFFFFFFFFu;
        ss->attributes = (uint16_t)(X86_SEG_ATTR_UNUSABLE | (new_cpl << 5));
        x86_segment_refresh(cpu, X86_SEG_SS);
        cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    }
    cpu->gpr[X86_ESP] = rsp - 8 * count;
    struct x86_segment *cs = &cpu->seg[X86_SEG_CS];
    *cs = *target;
    cs->selector = (uint16_t)((g->selector & 0xFFFC) | new_cpl);
    x86_segment_refresh(cpu, X86_SEG_CS);
    x86_set_cpl(cpu, new_cpl);
    x86_update_code_mode(cpu);
    uint32_t clear = X86_FLAG_TF | X86_FLAG_NT | X86_FLAG_RF | X86_FLAG_VM;
    if (g->type == 0x0E)
        clear |= X86_FLAG_IF;
    x86_set_eflags(cpu, 0, clear);
    cpu->rip = g->offset;
}

/* ------------------------------------------------------------------ IRET in 64-bit mode */

static uint64_t stack_read64(struct x86_cpu *cpu, uint64_t offset, unsigned size)
{
    uint64_t at = cpu->gpr[X86_ESP] + offset;
    if (!x86_canonical(at) || !x86_canonical(at + size - 1))
        x86_raise(cpu, X86_VEC_SS, 0);
    return x86_read_linear(cpu, at, size);
}

/* The return's code segment (SDM Vol. 2 IRET, IA-32e-MODE): code, DPL against RPL, present,
 * not L and D together */
static void iret64_code_segment(struct x86_cpu *cpu, uint16_t cs, struct x86_segment *out)
{
    if ((cs & 0xFFFC) == 0)
        x86_raise_gp0(cpu);
    uint8_t rpl = cs & 3;
    if (rpl < cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, cs & 0xFFFCu);
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, cs, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    if ((access & 0x18) != 0x18 || ((access & 0x04) ? dpl > rpl : dpl != rpl) ||
        (((d >> 53) & 1) && ((d >> 54) & 1)))
        x86_raise(cpu, X86_VEC_GP, cs & 0xFFFCu);
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, cs & 0xFFFCu);
    x86_descriptor_to_cache(d | (1ull << 40), cs, out);
}

void x86_iret_long_mode(struct x86_cpu *cpu, unsigned opsize)
{
    cpu->cycles += cpu->cost[X86_COST_IRET];
    cpu->iret_sequential = cpu->next_rip;
    if (cpu->eflags & X86_FLAG_NT)
        x86_raise_gp0(cpu); /* no task return in IA-32e mode */
    uint64_t rip = stack_read64(cpu, 0, opsize);
    uint16_t cs = (uint16_t)stack_read64(cpu, opsize, opsize);
    uint32_t flags = (uint32_t)stack_read64(cpu, 2 * opsize, opsize);
    uint64_t rsp = stack_read64(cpu, 3 * opsize, opsize);
    uint16_t ss = (uint16_t)stack_read64(cpu, 4 * opsize, opsize);
    struct x86_segment new_cs;
    iret64_code_segment(cpu, cs, &new_cs);
    uint8_t rpl = cs & 3;
    bool to_64 = new_cs.attributes & X86_SEG_ATTR_L;
    if (to_64 ? !x86_canonical(rip) : rip > new_cs.limit)
        x86_raise_gp0(cpu);
    struct x86_segment new_ss;
    if ((ss & 0xFFFC) == 0) {
        /* a null SS only for 64-bit code below ring 3 (SDM Vol. 2 IRET) */
        if (!to_64 || rpl == 3)
            x86_raise_gp0(cpu);
        new_ss = (struct x86_segment){ .selector = ss, .limit = 0xFFFFFFFFu,
                                       .attributes = (uint16_t)(X86_SEG_ATTR_UNUSABLE | (rpl << 5)) };
    } else {
        uint64_t ss_address;
        uint64_t ssd = x86_stack_segment_descriptor(cpu, ss, rpl, X86_VEC_GP, &ss_address);
        x86_descriptor_to_cache(ssd | (1ull << 40), ss, &new_ss);
    }

    /* committed from here on */
    cpu->nmi_blocked = 0; /* IRET ends NMI blocking (SDM Vol. 3 6.7.1) */
    if (cpu->nmi_latched)
        x86_request_exit(cpu);
    uint8_t old_cpl = cpu->cpl;
    uint32_t mask = X86_FLAGS_ARITH | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT | X86_FLAG_RF |
                    X86_FLAG_AC | X86_FLAG_ID;
    if (old_cpl <= ((cpu->eflags & X86_FLAG_IOPL) >> 12))
        mask |= X86_FLAG_IF;
    if (old_cpl == 0)
        mask |= X86_FLAG_IOPL | X86_FLAG_VIF | X86_FLAG_VIP;
    if (opsize == 2)
        mask &= 0xFFFF;
    cpu->seg[X86_SEG_CS] = new_cs;
    x86_segment_refresh(cpu, X86_SEG_CS);
    cpu->seg[X86_SEG_SS] = new_ss;
    x86_segment_refresh(cpu, X86_SEG_SS);
    cpu->gpr[X86_ESP] = opsize == 8 ? rsp : opsize == 4 ? (uint32_t)rsp
                                      : ((cpu->gpr[X86_ESP] & ~0xFFFFull) | (rsp & 0xFFFF));
    if (rpl != old_cpl) {
        x86_set_cpl(cpu, rpl);
        x86_null_outer_data_segments(cpu);
        cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    }
    x86_update_code_mode(cpu);
    x86_set_eflags(cpu, flags, mask);
    cpu->next_rip = rip;
    if (X86_UNLIKELY(cpu->trace->mask)) {
        uint64_t here = cpu->rip;
        cpu->rip = rip;
        x86_trace_iret(cpu->trace, rpl != old_cpl, rpl == old_cpl && rip == cpu->iret_sequential);
        cpu->rip = here;
    }
}
