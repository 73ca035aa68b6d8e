/* A core's state as the API and tests see it: registers by their public names (writes go
 * through the architectural checks), the events of a triple fault. */
#include "cpu/cpu.h"

#include <setjmp.h>
#include <string.h>

#include "cpu/mmu.h"
#include "cpu/segment.h"
#include "idt/idt.h"

static const char *const register_names[X86IRQ_REG_COUNT] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
    "es", "cs", "ss", "ds", "fs", "gs", "cr0", "cr2", "cr3", "cr4",
    "dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
};

const char *x86_register_name(x86irq_register reg)
{
    return (unsigned)reg < X86IRQ_REG_COUNT ? register_names[reg] : "?";
}

static const uint8_t debug_register_number[] = { 0, 1, 2, 3, 6, 7 };

uint32_t x86_cpu_get_register(struct x86_cpu *cpu, x86irq_register reg)
{
    if (reg <= X86IRQ_REG_EDI)
        return x86_gpr32(cpu, reg);
    if (reg == X86IRQ_REG_EIP)
        return x86_eip(cpu);
    if (reg == X86IRQ_REG_EFLAGS)
        return x86_get_eflags(cpu);
    if (reg <= X86IRQ_REG_GS)
        return cpu->seg[reg - X86IRQ_REG_ES].selector;
    if (reg == X86IRQ_REG_CR0)
        return cpu->cr0;
    if (reg == X86IRQ_REG_CR2)
        return cpu->cr2;
    if (reg == X86IRQ_REG_CR3)
        return cpu->cr3;
    if (reg == X86IRQ_REG_CR4)
        return cpu->cr4;
    return cpu->dr[debug_register_number[reg - X86IRQ_REG_DR0]];
}

bool x86_cpu_set_register(struct x86_cpu *cpu, x86irq_register reg, uint32_t value)
{
    if (reg <= X86IRQ_REG_EDI) {
        x86_set_gpr32(cpu, reg, value);
    } else if (reg == X86IRQ_REG_EIP) {
        cpu->rip = value;
    } else if (reg == X86IRQ_REG_EFLAGS) {
        x86_set_eflags(cpu, value, ~0u);
    } else if (reg <= X86IRQ_REG_GS) {
        unsigned seg = reg - X86IRQ_REG_ES;
        struct x86_segment *s = &cpu->seg[seg];
        s->selector = (uint16_t)value;
        if (x86_protected_mode(cpu)) {
            s->base = 0;
            s->limit = 0xFFFFFFFFu;
            s->attributes = (uint16_t)((seg == X86_SEG_CS ? 0x9B : 0x93) | X86_SEG_ATTR_DB |
                                       X86_SEG_ATTR_G | ((value & 3) << 5));
            if (seg == X86_SEG_CS)
                x86_set_cpl(cpu, value & 3);
        } else {
            s->base = (value & 0xFFFF) << 4;
        }
        x86_segment_refresh(cpu, seg);
        if (seg == X86_SEG_CS)
            x86_update_code_mode(cpu);
    } else if (reg == X86IRQ_REG_CR0 || reg == X86IRQ_REG_CR2 || reg == X86IRQ_REG_CR3 ||
               reg == X86IRQ_REG_CR4) {
        /* the embedder's write follows the architectural checks: a bad value is refused */
        unsigned n = reg == X86IRQ_REG_CR0 ? 0 : reg == X86IRQ_REG_CR2 ? 2
                     : reg == X86IRQ_REG_CR3 ? 3 : 4;
        jmp_buf saved;
        memcpy(saved, cpu->fault_jump, sizeof(saved));
        bool ok = true;
        if (setjmp(cpu->fault_jump) == 0)
            x86_write_control_register(cpu, n, value);
        else
            ok = false;
        memcpy(cpu->fault_jump, saved, sizeof(saved));
        return ok;
    } else {
        cpu->dr[debug_register_number[reg - X86IRQ_REG_DR0]] = value;
        x86_debug_registers_changed(cpu);
    }
    return true;
}

/* ------------------------------------------------------------------ the 64-bit view */

static const char *const register64_names[X86IRQ_REG64_COUNT] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
    "cr0", "cr2", "cr3", "cr4", "cr8", "efer",
    "es_base", "cs_base", "ss_base", "ds_base", "fs_base", "gs_base", "kernel_gs_base",
    "gdtr_base", "gdtr_limit", "idtr_base", "idtr_limit", "ldtr_base", "tr_base",
};

const char *x86_register64_name(x86irq_register64 reg)
{
    return (unsigned)reg < X86IRQ_REG64_COUNT ? register64_names[reg] : "?";
}

uint64_t x86_cpu_get_register64(struct x86_cpu *cpu, x86irq_register64 reg)
{
    if (reg <= X86IRQ_REG64_R15)
        return cpu->gpr[reg];
    if (reg >= X86IRQ_REG64_ES_BASE && reg <= X86IRQ_REG64_GS_BASE)
        return cpu->seg[reg - X86IRQ_REG64_ES_BASE].base;
    const struct x86_platform *p = cpu->platform;
    switch (reg) {
    case X86IRQ_REG64_RIP: return cpu->rip;
    case X86IRQ_REG64_RFLAGS: return x86_get_eflags(cpu);
    case X86IRQ_REG64_CR0: return cpu->cr0;
    case X86IRQ_REG64_CR2: return cpu->cr2;
    case X86IRQ_REG64_CR3: return cpu->cr3;
    case X86IRQ_REG64_CR4: return cpu->cr4;
    case X86IRQ_REG64_CR8: return p && p->read_cr8 ? p->read_cr8(p->opaque, cpu) : 0;
    case X86IRQ_REG64_EFER: return cpu->efer;
    case X86IRQ_REG64_KERNEL_GS_BASE: return cpu->msr.kernel_gs_base;
    case X86IRQ_REG64_GDTR_BASE: return cpu->gdtr.base;
    case X86IRQ_REG64_GDTR_LIMIT: return cpu->gdtr.limit;
    case X86IRQ_REG64_IDTR_BASE: return cpu->idtr.base;
    case X86IRQ_REG64_IDTR_LIMIT: return cpu->idtr.limit;
    case X86IRQ_REG64_LDTR_BASE: return cpu->ldtr.base;
    case X86IRQ_REG64_TR_BASE: return cpu->tr.base;
    default: return 0;
    }
}

/* A control register write as MOV CR does it, a refusal instead of the #GP */
static bool checked_control_write(struct x86_cpu *cpu, unsigned n, uint64_t value)
{
    jmp_buf saved;
    memcpy(saved, cpu->fault_jump, sizeof(saved));
    bool ok = true;
    if (setjmp(cpu->fault_jump) == 0)
        x86_write_control_register(cpu, n, value);
    else
        ok = false;
    memcpy(cpu->fault_jump, saved, sizeof(saved));
    return ok;
}

bool x86_cpu_set_register64(struct x86_cpu *cpu, x86irq_register64 reg, uint64_t value)
{
    if (reg <= X86IRQ_REG64_R15) {
        cpu->gpr[reg] = value;
        return true;
    }
    if (reg >= X86IRQ_REG64_ES_BASE && reg <= X86IRQ_REG64_GS_BASE) {
        if (!x86_canonical(value))
            return false;
        cpu->seg[reg - X86IRQ_REG64_ES_BASE].base = value;
        x86_segment_refresh(cpu, reg - X86IRQ_REG64_ES_BASE);
        return true;
    }
    const struct x86_platform *p = cpu->platform;
    switch (reg) {
    case X86IRQ_REG64_RIP:
        cpu->rip = value;
        return true;
    case X86IRQ_REG64_RFLAGS:
        if (value >> 32)
            return false;
        x86_set_eflags(cpu, (uint32_t)value, ~0u);
        return true;
    case X86IRQ_REG64_CR0: return checked_control_write(cpu, 0, value);
    case X86IRQ_REG64_CR2: return checked_control_write(cpu, 2, value);
    case X86IRQ_REG64_CR3: return checked_control_write(cpu, 3, value);
    case X86IRQ_REG64_CR4: return checked_control_write(cpu, 4, value);
    case X86IRQ_REG64_CR8:
        if (value > 15 || !p || !p->write_cr8)
            return false;
        p->write_cr8(p->opaque, cpu, (uint8_t)value);
        return true;
    case X86IRQ_REG64_EFER: {
        /* WRMSR's rules, then the mode the new EFER gives with the present CS */
        bool ok = x86_write_msr(cpu, 0xC0000080u, value);
        x86_update_code_mode(cpu);
        return ok;
    }
    case X86IRQ_REG64_KERNEL_GS_BASE:
        if (!x86_canonical(value))
            return false;
        cpu->msr.kernel_gs_base = value;
        return true;
    case X86IRQ_REG64_GDTR_BASE:
    case X86IRQ_REG64_IDTR_BASE:
        if (!x86_canonical(value))
            return false;
        (reg == X86IRQ_REG64_GDTR_BASE ? &cpu->gdtr : &cpu->idtr)->base = value;
        x86_tables_changed(cpu);
        return true;
    case X86IRQ_REG64_GDTR_LIMIT:
    case X86IRQ_REG64_IDTR_LIMIT:
        if (value > 0xFFFF)
            return false;
        if (reg == X86IRQ_REG64_GDTR_LIMIT)
            cpu->gdtr.limit = (uint32_t)value;
        else
            cpu->idtr.limit = (uint32_t)value;
        x86_tables_changed(cpu);
        return true;
    default:
        return false; /* LDTR_BASE, TR_BASE: loaded by LLDT and LTR only */
    }
}

size_t x86_cpu_shutdown_events(const struct x86_cpu *cpu, x86irq_event_record *records,
                               size_t max)
{
    if (!cpu->shutdown)
        return 0;
    size_t count = cpu->event_chain_length;
    for (size_t i = 0; i < count && i < max && records; i++) {
        const struct x86_chain_entry *e = &cpu->event_chain[i];
        x86irq_event_record *r = &records[i];
        memset(r, 0, sizeof(*r));
        r->size = sizeof(*r);
        r->cycle = e->cycle;
        r->eip = e->event.return_eip;
        r->error_code = e->event.error_code;
        r->cs = e->cs;
        r->vector = e->event.vector;
        r->has_error_code = e->event.has_error_code;
        switch (e->event.source) {
        case X86_EVENT_EXCEPTION: r->origin = X86IRQ_ORIGIN_EXCEPTION; break;
        case X86_EVENT_HARDWARE: r->origin = X86IRQ_ORIGIN_HARDWARE; break;
        default: r->origin = X86IRQ_ORIGIN_SOFTWARE; break;
        }
        if (e->generated)
            r->origin = X86IRQ_ORIGIN_DOUBLE_FAULT;
    }
    return count;
}

