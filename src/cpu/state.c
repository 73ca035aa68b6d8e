/* A core's state as the API and tests see it: registers by their public names (writes go
 * through the architectural checks), the events of a triple fault. */
#include "cpu/cpu.h"

#include <setjmp.h>
#include <string.h>

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

