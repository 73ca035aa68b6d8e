/* Delivery of exceptions and interrupts, and IRET.
 *
 * Real mode: the IVT (SDM Vol. 3 20.1.4). Protected mode: interrupt and trap gates, 16- and
 * 32-bit, with a stack switch through the TSS on a privilege change (SDM Vol. 3 6.12). Every
 * check happens before anything is pushed, and the frame is written before CS, EIP, SS, ESP
 * and EFLAGS change, so a fault during delivery leaves the interrupted state intact for the
 * double-fault logic of the run loop.
 */
#include "idt/idt.h"

#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "cpu/segment.h"
#include "trace/events.h"

/* ------------------------------------------------------------------ stack writes */

/* A stack being built for a frame: its segment cache and the stack pointer, not committed. */
struct frame_stack {
    struct x86_segment ss;
    uint32_t sp;
    bool user;          /* accesses with user rights (the handler runs at CPL 3) */
    uint32_t fault_code; /* #SS error code if it does not fit */
};

static uint32_t frame_push_address(struct x86_cpu *cpu, struct frame_stack *st, unsigned size)
{
    bool s32 = st->ss.attributes & X86_SEG_ATTR_DB;
    uint32_t sp = s32 ? st->sp - size : (uint16_t)(st->sp - size);
    bool protected_mode = x86_protected_mode(cpu);
    bool expand_down = protected_mode && !(st->ss.attributes & 0x8) && (st->ss.attributes & 0x4);
    uint64_t last = (uint64_t)sp + size - 1;
    bool bad = expand_down ? (sp <= st->ss.limit || last > (s32 ? 0xFFFFFFFFull : 0xFFFFull))
                           : last > st->ss.limit;
    if (bad)
        x86_raise(cpu, X86_VEC_SS, st->fault_code);
    st->sp = s32 ? sp : ((st->sp & 0xFFFF0000u) | sp);
    return st->ss.base + sp;
}

static void probe_write(struct x86_cpu *cpu, uint32_t linear, unsigned size, bool user)
{
    uint64_t phys;
    bool w;
    x86_translate(cpu, linear, X86_ACCESS_WRITE, user, &phys, &w);
    if (((linear + size - 1) & ~0xFFFu) != (linear & ~0xFFFu))
        x86_translate(cpu, linear + size - 1, X86_ACCESS_WRITE, user, &phys, &w);
}

static void write_virtual(struct x86_cpu *cpu, uint32_t linear, unsigned size, uint32_t value,
                          bool user)
{
    uint64_t phys;
    bool w;
    if ((linear & 0xFFF) + size <= X86_PAGE_SIZE) {
        x86_translate(cpu, linear, X86_ACCESS_WRITE, user, &phys, &w);
        x86_phys_write(cpu, phys, size, value);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        x86_translate(cpu, linear + i, X86_ACCESS_WRITE, user, &phys, &w);
        x86_phys_write(cpu, phys, 1, (value >> (8 * i)) & 0xFF);
    }
}

/* The host address of a stack slot when the TLB holds a store mapping for it, else NULL. The
 * frame is written with the handler's rights (SDM Vol. 3 6.12.1: the new stack is the inner
 * level's), so the lookup uses the TLB of the handler's privilege class: on a call from ring 3
 * that is the kernel's TLB, where the kernel stack lives. */
static uint8_t *tlb_store_pointer(struct x86_cpu *cpu, const struct frame_stack *st,
                                  uint32_t linear, unsigned size)
{
    const struct x86_tlb_entry *set = &cpu->tlb_sets[st->user ? X86_TLB_ENTRIES : 0];
    const struct x86_tlb_entry *e = &set[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    if (e->write_tag == (linear & ~0xFFFu) && (linear & 0xFFF) <= X86_PAGE_SIZE - size)
        return (uint8_t *)(e->host_minus_linear + linear);
    return NULL;
}

/* Push the values (first pushed first) on st: all addresses checked before any is written. */
/* The longest frame: from virtual-8086 mode GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP and an
 * error code */
#define X86_FRAME_MAX 10

static void push_frame(struct x86_cpu *cpu, struct frame_stack *st, const uint32_t *values,
                       unsigned count, unsigned size)
{
    /* the common case: a 32-bit expand-up stack with room, the whole frame in one page the TLB
     * can store to: one limit check, one probe, straight writes */
    uint32_t total = count * size;
    uint16_t kind = st->ss.attributes & (X86_SEG_ATTR_DB | 0xC);
    if (X86_LIKELY(kind == X86_SEG_ATTR_DB && st->sp >= total && st->sp - 1 <= st->ss.limit)) {
        uint32_t low = st->ss.base + st->sp - total;
        uint8_t *host = tlb_store_pointer(cpu, st, low, total);
        if (X86_LIKELY(host && total <= 4 * X86_FRAME_MAX)) {
            for (unsigned i = 0; i < count; i++) {
                uint8_t *slot = host + (count - 1 - i) * size;
                if (size == 4)
                    memcpy(slot, &values[i], 4);
                else
                    memcpy(slot, &(uint16_t){ (uint16_t)values[i] }, 2);
            }
            st->sp -= total;
            return;
        }
    }
    uint32_t linear[X86_FRAME_MAX];
    uint8_t *host[X86_FRAME_MAX];
    for (unsigned i = 0; i < count; i++) {
        linear[i] = frame_push_address(cpu, st, size);
        host[i] = tlb_store_pointer(cpu, st, linear[i], size);
        if (!host[i])
            probe_write(cpu, linear[i], size, st->user);
    }
    for (unsigned i = 0; i < count; i++) {
        if (host[i] && size == 4)
            memcpy(host[i], &values[i], 4);
        else if (host[i])
            memcpy(host[i], &(uint16_t){ (uint16_t)values[i] }, 2);
        else
            write_virtual(cpu, linear[i], size, values[i], st->user);
    }
}

/* ------------------------------------------------------------------ real mode */

static void deliver_real_mode(struct x86_cpu *cpu, uint8_t vector, uint32_t return_eip)
{
    cpu->last_gate_type = 0;
    uint32_t entry = vector * 4u;
    if (entry + 3 > cpu->idtr.limit)
        x86_raise(cpu, X86_VEC_GP, 0);
    uint32_t vector_address = (uint32_t)x86_read_system(cpu, cpu->idtr.base + entry, 4);
    struct frame_stack st = { .ss = cpu->seg[X86_SEG_SS], .sp = x86_gpr32(cpu, X86_ESP), .user = false,
                              .fault_code = 0 };
    uint32_t frame[3] = { x86_get_eflags(cpu) & 0xFFFF, cpu->seg[X86_SEG_CS].selector,
                          return_eip & 0xFFFF };
    push_frame(cpu, &st, frame, 3, 2);
    x86_set_gpr32(cpu, X86_ESP, st.sp);
    x86_set_eflags(cpu, 0, X86_FLAG_IF | X86_FLAG_TF | X86_FLAG_AC | X86_FLAG_RF);
    x86_load_segment(cpu, X86_SEG_CS, (uint16_t)(vector_address >> 16));
    cpu->rip = vector_address & 0xFFFF;
}

/* ------------------------------------------------------------------ protected mode */

/* The gate for vector, from the dispatch table or decoded now (SDM Vol. 3 6.11, Figure 6-2).
 * Raises #GP when the vector lies beyond the IDT limit. */
static const struct x86_gate_entry *gate_lookup(struct x86_cpu *cpu, uint8_t vector,
                                                uint32_t idt_error, struct x86_gate_entry *scratch)
{
    uint32_t entry = vector * 8u;
    if (entry + 7 > cpu->idtr.limit)
        x86_raise(cpu, X86_VEC_GP, idt_error);
    struct x86_gate_entry *g = &cpu->gates->gates[vector];
    if (X86_LIKELY(g->epoch == cpu->table_epoch))
        return g;
    uint32_t linear = cpu->idtr.base + entry;
    uint64_t gate = x86_read_system(cpu, linear, 8);
    uint8_t access = (uint8_t)(gate >> 40);
    uint8_t type = access & 0x1F;
    bool gate32 = type == 0x0E || type == 0x0F;
    struct x86_gate_entry decoded = {
        .epoch = cpu->table_epoch,
        .type = type,
        .dpl = (access >> 5) & 3,
        .present = (access >> 7) & 1,
        .selector = (uint16_t)(gate >> 16),
        .offset = (uint32_t)(gate & 0xFFFF) | (gate32 ? (uint32_t)(gate >> 32) & 0xFFFF0000u : 0),
    };
    if (!x86_table_watch(cpu, linear, 8)) {
        *scratch = decoded; /* not cacheable (split over pages, MMIO, watch list full) */
        scratch->epoch = cpu->table_epoch - 1;
        return scratch;
    }
    *g = decoded;
    return g;
}

/* The handler's code segment named by the gate, checked as SDM Vol. 2 INT n does, and kept in
 * the entry when it passes (the checks that depend on CPL are the caller's). */
static const struct x86_segment *gate_target(struct x86_cpu *cpu, struct x86_gate_entry *g,
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
    if ((cs_access & 0x18) != 0x18 || dpl > cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, (selector & 0xFFFCu) + ext);
    if (!(cs_access & 0x80))
        x86_raise(cpu, X86_VEC_NP, (selector & 0xFFFCu) + ext);
    x86_descriptor_to_cache(d | (1ull << 40), (uint16_t)(selector & 0xFFFC), &g->target);
    g->target_epoch = cpu->table_epoch;
    g->target_epoch_ok = g->epoch == cpu->table_epoch &&
                         x86_table_watch(cpu, descriptor_address, 8);
    return &g->target;
}

/* The SS descriptor of the ring stack for new_cpl: selector from the TSS, checked as SDM Vol. 2
 * INT n does (#TS, #SS), cached per CPL while the descriptor is unchanged. */
static void ring_stack_segment(struct x86_cpu *cpu, uint16_t selector, uint8_t new_cpl,
                               uint32_t ext, struct x86_segment *ss)
{
    struct x86_stack_entry *e = &cpu->gates->stacks[new_cpl];
    if (X86_LIKELY(e->epoch == cpu->table_epoch && e->selector == selector)) {
        *ss = e->ss;
        return;
    }
    (void)ext; /* x86_raise adds EXT to #TS/#SS while an external event is delivered */
    uint64_t ss_address;
    uint64_t ssd = x86_stack_segment_descriptor(cpu, selector, new_cpl, X86_VEC_TS, &ss_address);
    x86_descriptor_to_cache(ssd | (1ull << 40), selector, ss);
    if (x86_table_watch(cpu, ss_address, 8)) {
        e->epoch = cpu->table_epoch;
        e->selector = selector;
        e->ss = *ss;
    }
}

static void deliver_protected_mode(struct x86_cpu *cpu, uint8_t vector,
                                   enum x86_event_source source, bool has_error_code,
                                   uint32_t error_code, uint32_t return_eip)
{
    bool software = source == X86_EVENT_SOFTWARE || source == X86_EVENT_INT3 ||
                    source == X86_EVENT_INTO;
    uint32_t ext = software ? 0 : 1;
    uint32_t idt_error = vector * 8u + 2 + ext; /* IDT bit set (SDM Vol. 3 6.13) */
    struct x86_gate_entry scratch;
    struct x86_gate_entry *g = (struct x86_gate_entry *)gate_lookup(cpu, vector, idt_error,
                                                                    &scratch);
    bool gate32, interrupt_gate;
    cpu->last_gate_type = g->type;
    switch (g->type) {
    case 0x06: gate32 = false; interrupt_gate = true; break;
    case 0x07: gate32 = false; interrupt_gate = false; break;
    case 0x0E: gate32 = true; interrupt_gate = true; break;
    case 0x0F: gate32 = true; interrupt_gate = false; break;
    case 0x05: gate32 = false; interrupt_gate = false; break; /* task gate */
    default:
        x86_raise(cpu, X86_VEC_GP, idt_error);
    }
    /* SDM Vol. 3 6.12.1.1: the DPL check applies to int n, int3 and into only */
    if (software && g->dpl < cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, idt_error);
    if (!g->present)
        x86_raise(cpu, X86_VEC_NP, idt_error);
    if (g->type == 0x05) {
        /* SDM Vol. 3 6.12.2: the handler is a task; the error code goes on its stack. The
         * interrupted task's saved EFLAGS carries RF as a frame would. */
        cpu->eflags = (cpu->eflags & ~X86_FLAG_RF) | (cpu->frame_resume_flag ? X86_FLAG_RF : 0);
        x86_task_switch(cpu, g->selector, X86_TASK_SWITCH_INTERRUPT, return_eip,
                        has_error_code, error_code);
        return;
    }
    uint32_t offset = gate32 ? g->offset : (g->offset & 0xFFFF);
    uint16_t selector = g->selector;
    const struct x86_segment *target = gate_target(cpu, g, ext);
    uint8_t dpl = (target->attributes & X86_SEG_ATTR_DPL) >> 5;
    if (dpl > cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, (selector & 0xFFFCu) + ext);
    bool conforming = target->attributes & 0x04;
    bool from_vm86 = cpu->eflags & X86_FLAG_VM;
    /* from virtual-8086 mode the handler must be ring-0, non-conforming code (SDM Vol. 2 INT n,
     * INTERRUPT-FROM-VIRTUAL-8086-MODE) */
    if (from_vm86 && (dpl != 0 || conforming))
        x86_raise(cpu, X86_VEC_GP, (selector & 0xFFFCu) + ext);
    uint8_t new_cpl = conforming ? cpu->cpl : dpl;
    struct x86_segment new_cs = *target;
    new_cs.selector = (uint16_t)((selector & 0xFFFC) | new_cpl);
    if (offset > new_cs.limit)
        x86_raise(cpu, X86_VEC_GP, ext);

    unsigned size = gate32 ? 4 : 2;
    uint32_t eflags = (x86_get_eflags(cpu) & ~X86_FLAG_RF) |
                      (cpu->frame_resume_flag ? X86_FLAG_RF : 0);
    uint32_t values[X86_FRAME_MAX];
    unsigned count = 0;
    struct frame_stack st;
    bool privilege_change = new_cpl < cpu->cpl;
    uint16_t new_ss_selector = 0;
    if (privilege_change) {
        /* SDM Vol. 3 6.12.1: the new stack comes from the TSS for the handler's privilege */
        const struct x86_segment *tr = &cpu->tr;
        uint8_t tss_type = tr->attributes & 0xF;
        bool tss32 = tss_type == 0x9 || tss_type == 0xB;
        uint32_t slot = tss32 ? 4 + new_cpl * 8u : 2 + new_cpl * 4u;
        uint32_t slot_size = tss32 ? 8 : 4;
        if ((tr->attributes & X86_SEG_ATTR_UNUSABLE) || slot + slot_size - 1 > tr->limit)
            x86_raise(cpu, X86_VEC_TS, (tr->selector & 0xFFFCu) + ext);
        uint32_t new_sp;
        if (tss32) {
            new_sp = (uint32_t)x86_read_system(cpu, tr->base + slot, 4);
            new_ss_selector = (uint16_t)x86_read_system(cpu, tr->base + slot + 4, 2);
        } else {
            new_sp = (uint32_t)x86_read_system(cpu, tr->base + slot, 2);
            new_ss_selector = (uint16_t)x86_read_system(cpu, tr->base + slot + 2, 2);
        }
        ring_stack_segment(cpu, new_ss_selector, new_cpl, ext, &st.ss);
        st.sp = new_sp;
        st.fault_code = (new_ss_selector & 0xFFFCu) + ext;
        if (from_vm86) {
            /* the real-mode selectors, which the handler may not use as they are */
            values[count++] = cpu->seg[X86_SEG_GS].selector;
            values[count++] = cpu->seg[X86_SEG_FS].selector;
            values[count++] = cpu->seg[X86_SEG_DS].selector;
            values[count++] = cpu->seg[X86_SEG_ES].selector;
        }
        values[count++] = cpu->seg[X86_SEG_SS].selector;
        values[count++] = x86_gpr32(cpu, X86_ESP);
    } else {
        st.ss = cpu->seg[X86_SEG_SS];
        st.sp = x86_gpr32(cpu, X86_ESP);
        st.fault_code = ext;
    }
    st.user = new_cpl == 3;
    values[count++] = eflags;
    values[count++] = cpu->seg[X86_SEG_CS].selector;
    values[count++] = return_eip;
    if (has_error_code)
        values[count++] = error_code;
    push_frame(cpu, &st, values, count, size);

    /* committed from here on: nothing below can fault */
    if (privilege_change) {
        cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
        cpu->seg[X86_SEG_SS] = st.ss;
        x86_segment_refresh(cpu, X86_SEG_SS);
    }
    if (from_vm86) {
        static const unsigned data_segments[] = { X86_SEG_ES, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS };
        for (unsigned i = 0; i < 4; i++) {
            struct x86_segment *s = &cpu->seg[data_segments[i]];
            s->selector = 0;
            s->base = 0;
            s->limit = 0;
            s->attributes = X86_SEG_ATTR_UNUSABLE;
            x86_segment_refresh(cpu, data_segments[i]);
        }
    }
    if (st.ss.attributes & X86_SEG_ATTR_DB)
        x86_set_gpr32(cpu, X86_ESP, st.sp);
    else
        x86_set_gpr16(cpu, X86_ESP, st.sp);
    cpu->seg[X86_SEG_CS] = new_cs;
    x86_segment_refresh(cpu, X86_SEG_CS);
    x86_set_cpl(cpu, new_cpl);
    x86_update_code_mode(cpu);
    uint32_t clear = X86_FLAG_TF | X86_FLAG_NT | X86_FLAG_RF | X86_FLAG_VM;
    if (interrupt_gate)
        clear |= X86_FLAG_IF;
    x86_set_eflags(cpu, 0, clear);
    cpu->rip = gate32 ? offset : (offset & 0xFFFF);
}

void x86_deliver_event(struct x86_cpu *cpu, uint8_t vector, enum x86_event_source source,
                       bool has_error_code, uint32_t error_code, uint64_t return_eip)
{
    cpu->event_ext = source == X86_EVENT_EXCEPTION || source == X86_EVENT_HARDWARE;
    cpu->cycles += cpu->cost[X86_COST_DELIVERY];
    if (cpu->efer & X86_EFER_LMA)
        x86_deliver_long_mode(cpu, vector, source, has_error_code, error_code, return_eip);
    else if (cpu->cr0 & X86_CR0_PE) /* protected mode, virtual-8086 mode included */
        deliver_protected_mode(cpu, vector, source, has_error_code, error_code,
                               (uint32_t)return_eip);
    else
        deliver_real_mode(cpu, vector, (uint32_t)return_eip);
    cpu->event_ext = 0;
    cpu->halted = 0;
    /* no exit request: the run loop finds the handler's block under the new CS and mode, and
     * IF can only have been cleared */
}

/* ------------------------------------------------------------------ IRET */

void x86_null_outer_data_segments(struct x86_cpu *cpu)
{
    /* SDM Vol. 2 IRET: data segment registers the new (outer) CPL may not use become null */
    static const unsigned segs[] = { X86_SEG_ES, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS };
    for (unsigned i = 0; i < 4; i++) {
        struct x86_segment *s = &cpu->seg[segs[i]];
        uint16_t a = s->attributes;
        bool data_or_nonconforming = !(a & 0x8) || !(a & 0x4);
        if (!(a & X86_SEG_ATTR_UNUSABLE) && data_or_nonconforming &&
            ((a & X86_SEG_ATTR_DPL) >> 5) < cpu->cpl) {
            s->selector = 0;
            s->attributes = X86_SEG_ATTR_UNUSABLE;
            x86_segment_refresh(cpu, segs[i]);
        }
    }
}

/* IRET is traced with the core at the return address (EIP is updated after the handler) */
static void trace_iret(struct x86_cpu *cpu, uint32_t return_eip, bool outer)
{
    uint32_t eip = x86_eip(cpu);
    /* an IRET to the instruction after itself serializes: Linux's 32-bit sync_core() builds a
     * frame for it */
    bool to_next = !outer && return_eip == cpu->iret_sequential;
    cpu->rip = return_eip;
    x86_trace_iret(cpu->trace, outer, to_next);
    cpu->rip = eip;
}

/* The code segment a protected-mode IRET returns to, checked as SDM Vol. 2 IRET does
 * (RETURN-TO-SAME-PRIVILEGE-LEVEL and -OUTER: code, DPL against RPL, present), from the
 * one-entry cache while its descriptor bytes are unchanged. */
static const struct x86_segment *iret_code_segment(struct x86_cpu *cpu, uint16_t cs)
{
    struct x86_return_entry *e = &cpu->gates->iret;
    if (X86_LIKELY(e->epoch == cpu->table_epoch && e->selector == cs))
        return &e->cs;
    uint8_t rpl = cs & 3;
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, cs, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    if ((access & 0x18) != 0x18)
        x86_raise(cpu, X86_VEC_GP, cs & 0xFFFCu);
    if ((access & 0x04) ? dpl > rpl : dpl != rpl)
        x86_raise(cpu, X86_VEC_GP, cs & 0xFFFCu);
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, cs & 0xFFFCu);
    x86_descriptor_to_cache(d | (1ull << 40), cs, &e->cs);
    /* not cacheable (watch list full, descriptor split over pages): valid for this IRET only */
    e->epoch = x86_table_watch(cpu, address, 8) ? cpu->table_epoch : cpu->table_epoch - 1;
    e->selector = cs;
    return &e->cs;
}

/* IRET at CPL 0 with VM set in the popped EFLAGS (SDM Vol. 2 IRET, RETURN-TO-VIRTUAL-8086-MODE):
 * the frame goes on with ESP, SS, ES, DS, FS, GS, all loaded as real-mode selectors; CPL 3. */
static void iret_to_vm86(struct x86_cpu *cpu, uint32_t eip, uint16_t cs, uint32_t flags)
{
    uint32_t frame[6];
    for (unsigned i = 0; i < 6; i++)
        frame[i] = x86_stack_peek(cpu, 12 + 4 * i, 4); /* all read before anything changes */
    x86_set_eflags(cpu, flags, 0x3FFFFFu & ~(uint32_t)0x8028);
    static const unsigned segments[] = { X86_SEG_SS, X86_SEG_ES, X86_SEG_DS, X86_SEG_FS,
                                         X86_SEG_GS };
    for (unsigned i = 0; i < 5; i++)
        x86_load_segment(cpu, segments[i], (uint16_t)frame[1 + i]);
    x86_load_segment(cpu, X86_SEG_CS, cs);
    x86_set_gpr32(cpu, X86_ESP, frame[0]);
    x86_set_cpl(cpu, 3);
    cpu->mode = X86_MODE_16;
    cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    cpu->next_rip = eip & 0xFFFF;
    if (X86_UNLIKELY(cpu->trace->mask))
        trace_iret(cpu, eip & 0xFFFF, true);
}

void x86_iret(struct x86_cpu *cpu, unsigned opsize)
{
    if (cpu->efer & X86_EFER_LMA) {
        /* IA-32e mode: 64-bit mode's IRET pops SS:RSP always; compatibility mode's is the
         * protected-mode one, without task returns (SDM Vol. 2 IRET) */
        if (cpu->mode == X86_MODE_64) {
            x86_iret_long_mode(cpu, opsize);
            return;
        }
        if (cpu->eflags & X86_FLAG_NT)
            x86_raise_gp0(cpu);
    }
    /* a change of IF or TF requests an exit through x86_set_eflags; CS and the mode are
     * picked up by the next block lookup */
    cpu->cycles += cpu->cost[X86_COST_IRET];
    cpu->iret_sequential = x86_next_eip(cpu); /* the instruction after it (the loop set it) */
    /* IRET ends NMI blocking (SDM Vol. 3 6.7.1): any IRET, also one that returns from an
     * exception handler nested in the NMI handler */
    cpu->nmi_blocked = 0;
    if (cpu->nmi_latched)
        x86_request_exit(cpu);
    uint32_t eip = x86_stack_peek(cpu, 0, opsize);
    uint16_t cs = (uint16_t)x86_stack_peek(cpu, opsize, opsize);
    uint32_t flags = x86_stack_peek(cpu, 2 * opsize, opsize);
    uint32_t arith = X86_FLAGS_ARITH | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT;

    if (!x86_protected_mode(cpu)) {
        /* real mode: everything but VM, VIP, VIF (SDM Vol. 2 IRET, real-address mode); in
         * virtual-8086 mode (IOPL 3, checked by the instruction) IOPL stays too */
        uint32_t mask = opsize == 4 ? (0x3FFFFFu & ~(X86_FLAG_VM | X86_FLAG_VIP | X86_FLAG_VIF))
                                    : 0xFFFFu;
        mask &= ~(uint32_t)0x8028; /* reserved bits 3, 5, 15 */
        if (cpu->eflags & X86_FLAG_VM)
            mask &= ~X86_FLAG_IOPL;
        /* virtual-8086 mode below IOPL 3 only with CR4.VME (the instruction checked): IF goes
         * to VIF, and that may #GP, so it comes first (the far transfer there cannot fault) */
        bool virtual_flags = (cpu->eflags & X86_FLAG_VM) && x86_iopl(cpu) < 3;
        if (virtual_flags)
            x86_load_virtual_flags(cpu, flags);
        x86_far_transfer(cpu, cs, eip, X86_FAR_JMP, opsize);
        x86_stack_adjust(cpu, (int32_t)(3 * opsize));
        if (!virtual_flags)
            x86_set_eflags(cpu, flags, mask);
        if (X86_UNLIKELY(cpu->trace->mask))
            trace_iret(cpu, x86_next_eip(cpu), false);
        return;
    }
    if (cpu->eflags & X86_FLAG_NT) {
        x86_task_return(cpu); /* return from a nested task through the back-link */
        if (X86_UNLIKELY(cpu->trace->mask))
            x86_trace_iret(cpu->trace, false, false);
        return;
    }
    if (opsize == 4 && (flags & X86_FLAG_VM) && cpu->cpl == 0) {
        iret_to_vm86(cpu, eip, cs, flags);
        return;
    }

    uint8_t rpl = cs & 3;
    if ((cs & 0xFFFC) == 0)
        x86_raise_gp0(cpu);
    if (rpl < cpu->cpl)
        x86_raise(cpu, X86_VEC_GP, cs & 0xFFFCu);
    struct x86_segment new_cs = *iret_code_segment(cpu, cs);
    if (opsize == 2)
        eip &= 0xFFFF;
    if (eip > new_cs.limit)
        x86_raise_gp0(cpu);

    uint8_t old_cpl = cpu->cpl;
    uint32_t mask = arith | X86_FLAG_RF | X86_FLAG_AC | X86_FLAG_ID;
    unsigned iopl = (cpu->eflags & X86_FLAG_IOPL) >> 12;
    if (old_cpl <= iopl)
        mask |= X86_FLAG_IF;
    if (old_cpl == 0)
        mask |= X86_FLAG_IOPL | X86_FLAG_VIF | X86_FLAG_VIP;
    if (opsize == 2)
        mask &= 0xFFFF;

    if (rpl == old_cpl) {
        cpu->seg[X86_SEG_CS] = new_cs;
        x86_segment_refresh(cpu, X86_SEG_CS);
        x86_stack_adjust(cpu, (int32_t)(3 * opsize));
    } else {
        /* return to an outer level: SS:ESP come from the frame (SDM Vol. 2 IRET) */
        uint32_t esp = x86_stack_peek(cpu, 3 * opsize, opsize);
        uint16_t ss = (uint16_t)x86_stack_peek(cpu, 4 * opsize, opsize);
        uint64_t ss_address;
        uint64_t ssd = x86_stack_segment_descriptor(cpu, ss, rpl, X86_VEC_GP, &ss_address);
        struct x86_segment new_ss;
        x86_descriptor_to_cache(ssd | (1ull << 40), ss, &new_ss);
        cpu->seg[X86_SEG_CS] = new_cs;
        x86_segment_refresh(cpu, X86_SEG_CS);
        cpu->seg[X86_SEG_SS] = new_ss;
        x86_segment_refresh(cpu, X86_SEG_SS);
        if (new_ss.attributes & X86_SEG_ATTR_DB)
            x86_set_gpr32(cpu, X86_ESP, esp);
        else
            x86_set_gpr16(cpu, X86_ESP, esp);
        x86_set_cpl(cpu, rpl);
        x86_null_outer_data_segments(cpu);
        cpu->cycles += cpu->cost[X86_COST_PRIVILEGE];
    }
    x86_update_code_mode(cpu);
    x86_set_eflags(cpu, flags, mask);
    cpu->next_rip = eip;
    if (X86_UNLIKELY(cpu->trace->mask))
        trace_iret(cpu, eip, rpl != old_cpl);
}
