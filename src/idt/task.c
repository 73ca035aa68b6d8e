/* Hardware task switching (SDM Vol. 3 chapter 7): through a task gate in the IDT, a far JMP or
 * CALL to a TSS descriptor or a task gate, and IRET with NT set (the back-link).
 *
 * The switch follows SDM Vol. 3 7.3: every check that can fail in the old task's context
 * (the new TSS descriptor, its limit and busy bit, the paging of both TSSs) happens before
 * anything is written; then the old task's state is saved, busy bits, NT and the back-link are
 * updated and TR is loaded; the new task's segment registers are loaded last, and a fault there
 * is raised in the context of the new task (SDM Vol. 3 7.3, Table 7-1).
 *
 * The TSS formats are data: one layout table for the 32-bit TSS and one for the 16-bit TSS.
 */
#include "idt/idt.h"

#include "cpu/mmu.h"
#include "cpu/segment.h"

/* Where each field lives in a TSS (SDM Vol. 3 7.2.1 Figure 7-2; 7.6 Figure 7-11 for 16-bit).
 * An offset of 0xFF: the format has no such field. */
struct tss_layout {
    uint8_t width;            /* bytes per register field: 4 or 2 */
    uint8_t minimum_limit;    /* the TSS limit must be at least this (#TS otherwise) */
    uint8_t eip, eflags, cr3, ldt;
    uint8_t gpr[8];           /* EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI */
    uint8_t seg[X86_SEG_COUNT]; /* ES, CS, SS, DS, FS, GS */
    uint8_t dynamic_first, dynamic_last; /* the fields a switch writes in the old TSS */
};

#define TSS_NONE 0xFF

static const struct tss_layout tss32_layout = {
    .width = 4, .minimum_limit = 0x67,
    .eip = 0x20, .eflags = 0x24, .cr3 = 0x1C, .ldt = 0x60,
    .gpr = { 0x28, 0x2C, 0x30, 0x34, 0x38, 0x3C, 0x40, 0x44 },
    .seg = { 0x48, 0x4C, 0x50, 0x54, 0x58, 0x5C },
    .dynamic_first = 0x20, .dynamic_last = 0x5F,
};

static const struct tss_layout tss16_layout = {
    .width = 2, .minimum_limit = 0x2B,
    .eip = 0x0E, .eflags = 0x10, .cr3 = TSS_NONE, .ldt = 0x2A,
    .gpr = { 0x12, 0x14, 0x16, 0x18, 0x1A, 0x1C, 0x1E, 0x20 },
    .seg = { 0x22, 0x24, 0x26, 0x28, TSS_NONE, TSS_NONE },
    .dynamic_first = 0x0E, .dynamic_last = 0x29,
};

/* TSS descriptor types (SDM Vol. 3 3.5, Table 3-2): bit 1 is busy, bit 3 the 32-bit format */
#define TSS_TYPE_MASK 0x15u   /* the type bits that do not change with busy or width, plus S */
#define TSS_TYPE_ANY  0x01u
#define TSS_BUSY      0x02u
#define TSS_32BIT     0x08u

static const struct tss_layout *layout_of(uint8_t access)
{
    return (access & TSS_32BIT) ? &tss32_layout : &tss16_layout;
}

static uint32_t selector_error(uint16_t selector) { return selector & 0xFFFCu; }

/* The state a switch loads, read in full before anything is committed */
struct task_state {
    uint32_t eip, eflags, cr3;
    uint32_t gpr[8];
    uint16_t seg[X86_SEG_COUNT];
    uint16_t ldt;
};

static void read_task_state(struct x86_cpu *cpu, uint32_t base, const struct tss_layout *l,
                            struct task_state *s)
{
    s->eip = (uint32_t)x86_read_system(cpu, base + l->eip, l->width);
    s->eflags = (uint32_t)x86_read_system(cpu, base + l->eflags, l->width);
    s->cr3 = l->cr3 == TSS_NONE ? cpu->cr3 : (uint32_t)x86_read_system(cpu, base + l->cr3, 4);
    for (unsigned i = 0; i < 8; i++)
        s->gpr[i] = (uint32_t)x86_read_system(cpu, base + l->gpr[i], l->width);
    for (unsigned i = 0; i < X86_SEG_COUNT; i++)
        s->seg[i] = l->seg[i] == TSS_NONE ? cpu->seg[i].selector
                                          : (uint16_t)x86_read_system(cpu, base + l->seg[i], 2);
    s->ldt = (uint16_t)x86_read_system(cpu, base + l->ldt, 2);
}

/* Make sure the pages of [linear, linear+size) can be written by a supervisor access before
 * the switch commits (SDM Vol. 3 7.3 step 5: both TSSs must be paged in). */
static void probe_system_write(struct x86_cpu *cpu, uint32_t linear, uint32_t size)
{
    uint64_t phys;
    bool writable;
    for (uint32_t page = linear & ~0xFFFu; page <= ((linear + size - 1) & ~0xFFFu);
         page += X86_PAGE_SIZE) {
        uint32_t at = page < linear ? linear : page;
        x86_translate(cpu, at, X86_ACCESS_WRITE, false, &phys, &writable);
        if (page == ((linear + size - 1) & ~0xFFFu))
            break; /* the last page (also stops a wrap at 4 GiB) */
    }
}

static void set_busy(struct x86_cpu *cpu, uint16_t selector, bool busy)
{
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    access = busy ? (uint8_t)(access | TSS_BUSY) : (uint8_t)(access & ~TSS_BUSY);
    x86_write_system(cpu, address + 5, 1, access);
}

/* Load one segment register of the new task with the task-switch checks: the faults are #TS
 * with the selector, #NP for a data or code segment not present, #SS for a stack segment not
 * present (SDM Vol. 3 7.3 Table 7-1, conditions 11-14). */
static void load_task_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector)
{
    struct x86_segment *s = &cpu->seg[seg];
    uint32_t error = selector_error(selector);
    if ((selector & 0xFFFC) == 0) {
        if (seg == X86_SEG_CS || seg == X86_SEG_SS)
            x86_raise(cpu, X86_VEC_TS, error);
        s->selector = selector;
        s->attributes = X86_SEG_ATTR_UNUSABLE;
        s->base = 0;
        s->limit = 0;
        x86_segment_refresh(cpu, seg);
        return;
    }
    /* a selector beyond its table is a #TS here, not the #GP of an ordinary load */
    uint32_t table_limit = (selector & 4) ? cpu->ldtr.limit : cpu->gdtr.limit;
    if (((selector & 4) && (cpu->ldtr.attributes & X86_SEG_ATTR_UNUSABLE)) ||
        (selector & 0xFFF8u) + 7u > table_limit)
        x86_raise(cpu, X86_VEC_TS, error);
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    uint8_t dpl = (access >> 5) & 3;
    uint8_t rpl = selector & 3;
    bool code_or_data = access & 0x10;
    bool code = access & 0x08;
    bool conforming = code && (access & 0x04);
    bool present = access & 0x80;
    uint8_t fault_if_absent = X86_VEC_NP;
    switch (seg) {
    case X86_SEG_CS:
        /* CPL is the CS selector's RPL; a non-conforming segment needs DPL = RPL */
        if (!code_or_data || !code || (conforming ? dpl > rpl : dpl != rpl))
            x86_raise(cpu, X86_VEC_TS, error);
        break;
    case X86_SEG_SS:
        if (!code_or_data || code || !(access & 0x02) || dpl != cpu->cpl || rpl != cpu->cpl)
            x86_raise(cpu, X86_VEC_TS, error);
        fault_if_absent = X86_VEC_SS;
        break;
    default:
        if (!code_or_data || (code && !(access & 0x02)) ||
            (!conforming && (dpl < cpu->cpl || dpl < rpl)))
            x86_raise(cpu, X86_VEC_TS, error);
        break;
    }
    if (!present)
        x86_raise(cpu, fault_if_absent, error);
    if (!(access & 0x01))
        x86_write_system(cpu, address + 5, 1, access | 0x01); /* accessed */
    x86_descriptor_to_cache(d | (1ull << 40), selector, s);
    x86_segment_refresh(cpu, seg);
}

static void load_task_ldt(struct x86_cpu *cpu, uint16_t selector)
{
    uint32_t error = selector_error(selector);
    if ((selector & 0xFFFC) == 0) {
        cpu->ldtr.selector = selector;
        cpu->ldtr.attributes = X86_SEG_ATTR_UNUSABLE;
        cpu->ldtr.base = 0;
        cpu->ldtr.limit = 0;
        return;
    }
    if ((selector & 4) || (selector & 0xFFF8u) + 7u > cpu->gdtr.limit)
        x86_raise(cpu, X86_VEC_TS, error);
    uint64_t address;
    uint64_t d = x86_read_descriptor(cpu, selector, &address);
    uint8_t access = (uint8_t)(d >> 40);
    if ((access & 0x1F) != 0x02)
        x86_raise(cpu, X86_VEC_TS, error);
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_TS, error); /* Table 7-1: an LDT not present is #TS */
    x86_descriptor_to_cache(d, selector, &cpu->ldtr);
}

void x86_task_switch(struct x86_cpu *cpu, uint16_t selector, enum x86_task_switch_reason reason,
                     uint32_t return_eip, bool has_error_code, uint32_t error_code)
{
    uint32_t error = selector_error(selector);
    /* the new TSS descriptor: in the GDT, a TSS, available (busy for IRET), present */
    bool iret = reason == X86_TASK_SWITCH_IRET;
    uint8_t bad_vector = iret ? X86_VEC_TS : X86_VEC_GP;
    if ((selector & 4) || (selector & 0xFFF8u) + 7u > cpu->gdtr.limit)
        x86_raise(cpu, bad_vector, error);
    uint64_t descriptor_address;
    uint64_t d = x86_read_descriptor(cpu, selector, &descriptor_address);
    uint8_t access = (uint8_t)(d >> 40);
    if ((access & TSS_TYPE_MASK) != TSS_TYPE_ANY)
        x86_raise(cpu, bad_vector, error);
    bool busy = access & TSS_BUSY;
    if (iret ? !busy : busy)
        x86_raise(cpu, bad_vector, error);
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, error);
    struct x86_segment new_tr;
    x86_descriptor_to_cache(d, selector, &new_tr);
    const struct tss_layout *new_layout = layout_of(access);
    if (new_tr.limit < new_layout->minimum_limit)
        x86_raise(cpu, X86_VEC_TS, error);

    const struct x86_segment *old_tr = &cpu->tr;
    uint8_t old_type = old_tr->attributes & 0x1F;
    if ((old_tr->attributes & X86_SEG_ATTR_UNUSABLE) || (old_type & TSS_TYPE_MASK) != TSS_TYPE_ANY)
        x86_raise(cpu, X86_VEC_TS, selector_error(old_tr->selector)); /* no current task */
    const struct tss_layout *old_layout = layout_of((uint8_t)old_type);
    if (old_tr->limit < old_layout->minimum_limit)
        x86_raise(cpu, X86_VEC_TS, selector_error(old_tr->selector));

    /* read the whole new state, and make sure the old TSS can take the saved state: after
     * this point nothing faults in the old task's context */
    struct task_state next;
    read_task_state(cpu, new_tr.base, new_layout, &next);
    probe_system_write(cpu, old_tr->base + old_layout->dynamic_first,
                       (uint32_t)(old_layout->dynamic_last - old_layout->dynamic_first + 1));
    if (!iret)
        probe_system_write(cpu, new_tr.base, 2);

    cpu->cycles += cpu->cost[X86_COST_TASK_SWITCH];
    /* SDM Vol. 3 7.3 steps 6-8: the old task's busy bit, its saved NT, its state */
    uint16_t old_selector = old_tr->selector;
    uint32_t old_base = old_tr->base;
    if (reason == X86_TASK_SWITCH_JMP || iret)
        set_busy(cpu, old_selector, false);
    uint32_t saved_eflags = x86_get_eflags(cpu);
    if (iret)
        saved_eflags &= ~X86_FLAG_NT;
    unsigned w = old_layout->width;
    x86_write_system(cpu, old_base + old_layout->eip, w, return_eip);
    x86_write_system(cpu, old_base + old_layout->eflags, w, saved_eflags);
    for (unsigned i = 0; i < 8; i++)
        x86_write_system(cpu, old_base + old_layout->gpr[i], w, x86_gpr32(cpu, i));
    for (unsigned i = 0; i < X86_SEG_COUNT; i++)
        if (old_layout->seg[i] != TSS_NONE)
            x86_write_system(cpu, old_base + old_layout->seg[i], 2, cpu->seg[i].selector);

    /* steps 9-11: NT and the back-link for a nested task, the new busy bit, TR, CR0.TS */
    bool nested = reason == X86_TASK_SWITCH_CALL || reason == X86_TASK_SWITCH_INTERRUPT;
    if (nested) {
        next.eflags |= X86_FLAG_NT;
        x86_write_system(cpu, new_tr.base, 2, old_selector);
    }
    if (!iret)
        set_busy(cpu, selector, true);
    x86_descriptor_to_cache(d | ((uint64_t)TSS_BUSY << 40), selector, &cpu->tr);
    cpu->cr0 |= X86_CR0_TS;

    /* step 12: the new task's registers; from here faults belong to the new task */
    x86_tables_changed(cpu); /* a new LDT, perhaps a new address space */
    if ((cpu->cr0 & X86_CR0_PG) && new_layout->cr3 != TSS_NONE) {
        cpu->cr3 = next.cr3;
        x86_tlb_flush_non_global(cpu); /* as a CR3 load: global pages stay */
        if ((cpu->cr4 & X86_CR4_PAE) && !x86_load_pdptes(cpu))
            x86_raise_gp0(cpu); /* in the new task's context */
    }
    uint32_t keep_high = new_layout->width == 2 ? 0xFFFF0000u : 0;
    for (unsigned i = 0; i < 8; i++) {
        if (new_layout->width == 2)
            x86_set_gpr16(cpu, i, next.gpr[i]); /* a 16-bit TSS: the upper bits stay */
        else
            x86_set_gpr32(cpu, i, next.gpr[i]);
    }
    x86_set_eflags(cpu, next.eflags | (saved_eflags & keep_high), 0xFFFFFFFFu);
    cpu->rip = next.eip;
    cpu->next_rip = next.eip;
    /* the selectors first, then the descriptors, in the SDM's order (LDTR, CS, SS, DS...) */
    for (unsigned i = 0; i < X86_SEG_COUNT; i++)
        cpu->seg[i].selector = next.seg[i];
    /* a virtual-8086 task (VM in its EFLAGS, 32-bit TSS only) runs at CPL 3 with real-mode
     * selectors, which are not checked (SDM Vol. 3 20.2.5) */
    bool vm86 = cpu->eflags & X86_FLAG_VM;
    x86_set_cpl(cpu, vm86 ? 3 : next.seg[X86_SEG_CS] & 3);
    load_task_ldt(cpu, next.ldt);
    static const uint8_t load_order[X86_SEG_COUNT] = { X86_SEG_CS, X86_SEG_SS, X86_SEG_DS,
                                                       X86_SEG_ES, X86_SEG_FS, X86_SEG_GS };
    for (unsigned i = 0; i < X86_SEG_COUNT; i++) {
        if (vm86)
            x86_load_segment(cpu, load_order[i], next.seg[load_order[i]]);
        else
            load_task_segment(cpu, load_order[i], next.seg[load_order[i]]);
    }
    x86_update_code_mode(cpu);
    x86_request_exit(cpu);

    /* step 13: an exception's error code goes on the new task's stack */
    uint32_t ext = cpu->event_ext ? 1 : 0;
    if (has_error_code)
        x86_push(cpu, new_layout->width, error_code);
    if (x86_eip(cpu) > cpu->seg[X86_SEG_CS].limit)
        x86_raise(cpu, X86_VEC_GP, ext);
}

void x86_task_return(struct x86_cpu *cpu)
{
    /* IRET with NT set: back to the task named by the current TSS's back-link (SDM Vol. 2
     * IRET, "TASK-RETURN") */
    if (cpu->tr.attributes & X86_SEG_ATTR_UNUSABLE)
        x86_raise(cpu, X86_VEC_TS, 0);
    uint16_t link = (uint16_t)x86_read_system(cpu, cpu->tr.base, 2);
    x86_task_switch(cpu, link, X86_TASK_SWITCH_IRET, x86_next_eip(cpu), false, 0);
}

void x86_task_far_transfer(struct x86_cpu *cpu, uint16_t selector, uint64_t descriptor, int kind)
{
    /* far JMP or CALL to a TSS descriptor, or to a task gate naming one (SDM Vol. 2 JMP,
     * CALL: "TASK-GATE", "TASK-STATE-SEGMENT") */
    uint8_t access = (uint8_t)(descriptor >> 40);
    uint8_t dpl = (access >> 5) & 3;
    uint8_t rpl = selector & 3;
    if (dpl < cpu->cpl || dpl < rpl)
        x86_raise(cpu, X86_VEC_GP, selector_error(selector));
    if (!(access & 0x80))
        x86_raise(cpu, X86_VEC_NP, selector_error(selector));
    uint16_t tss = selector;
    if ((access & 0x1F) == 0x05)
        tss = (uint16_t)(descriptor >> 16); /* the task gate's TSS selector */
    enum x86_task_switch_reason reason = kind == X86_FAR_CALL ? X86_TASK_SWITCH_CALL
                                                              : X86_TASK_SWITCH_JMP;
    x86_task_switch(cpu, tss, reason, x86_next_eip(cpu), false, 0);
}
