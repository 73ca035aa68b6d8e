/* Control flow: jmp, call, ret (near and far), jcc, jcxz, loop, software interrupts, iret,
 * bound; and the string instructions with their repeat prefixes. */
#include "cpu/exec.h"
#include "cpu/mmu.h"
#include "cpu/exec_handlers.h"
#include "idt/idt.h"

/* A near branch: the target must lie within CS (SDM Vol. 2 JMP: #GP(0) beyond the limit),
 * checked before anything else is committed. */
static X86_ALWAYS_INLINE void near_branch(struct x86_cpu *cpu, const struct x86_insn *insn,
                                          uint32_t target)
{
    if (insn->opsize == 2)
        target &= 0xFFFF;
    if (X86_UNLIKELY(target > cpu->seg[X86_SEG_CS].limit))
        x86_raise_gp0(cpu);
    cpu->next_rip = target;
}

X86_HANDLER(x86_exec_jmp)
{
    uint32_t target = insn->operand[0] == X86_OPK_REL ? x86_next_eip(cpu) + (uint32_t)insn->imm
                                                      : x86_operand_read(cpu, insn, 0, insn->opsize);
    near_branch(cpu, insn, target);
}

X86_HANDLER(x86_exec_call)
{
    unsigned size = insn->opsize;
    uint32_t target = insn->operand[0] == X86_OPK_REL ? x86_next_eip(cpu) + (uint32_t)insn->imm
                                                      : x86_operand_read(cpu, insn, 0, size);
    if (size == 2)
        target &= 0xFFFF;
    if (X86_UNLIKELY(target > cpu->seg[X86_SEG_CS].limit))
        x86_raise_gp0(cpu);
    x86_push(cpu, size, x86_next_eip(cpu));
    cpu->next_rip = target;
}

X86_HANDLER(x86_exec_ret)
{
    unsigned size = insn->opsize;
    uint32_t target = x86_stack_peek(cpu, 0, size);
    near_branch(cpu, insn, target);
    uint32_t release = insn->operand[0] == X86_OPK_IMM ? (uint32_t)insn->imm & 0xFFFF : 0;
    x86_stack_adjust(cpu, (int32_t)(size + release));
}

X86_HANDLER(x86_exec_jcc)
{
    if (x86_condition_fast(cpu, insn->cond))
        near_branch(cpu, insn, x86_next_eip(cpu) + (uint32_t)insn->imm);
}

static uint32_t count_register(const struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return insn->addrsize == 2 ? (x86_gpr32(cpu, X86_ECX) & 0xFFFF) : x86_gpr32(cpu, X86_ECX);
}

X86_HANDLER(x86_exec_jcxz)
{
    if (count_register(cpu, insn) == 0)
        near_branch(cpu, insn, x86_next_eip(cpu) + (uint32_t)insn->imm);
}

static X86_ALWAYS_INLINE void loop(struct x86_cpu *cpu, const struct x86_insn *insn, int zf_rule)
{
    uint32_t count = count_register(cpu, insn) - 1;
    bool taken = (insn->addrsize == 2 ? (count & 0xFFFF) : count) != 0;
    if (zf_rule) {
        bool zf = x86_get_eflags(cpu) & X86_FLAG_ZF;
        taken = taken && (zf_rule > 0 ? zf : !zf);
    }
    uint32_t target = (x86_next_eip(cpu) + (uint32_t)insn->imm) & (insn->opsize == 2 ? 0xFFFF : ~0u);
    if (taken && target > cpu->seg[X86_SEG_CS].limit)
        x86_raise_gp0(cpu);
    x86_reg_set(cpu, X86_ECX, insn->addrsize == 2 ? 2 : 4, count); /* no flags change */
    if (taken)
        cpu->next_rip = target;
}

X86_HANDLER(x86_exec_loop) { loop(cpu, insn, 0); }
X86_HANDLER(x86_exec_loope) { loop(cpu, insn, 1); }
X86_HANDLER(x86_exec_loopne) { loop(cpu, insn, -1); }

/* ------------------------------------------------------------------ far transfers */

static void far_pointer_operand(struct x86_cpu *cpu, const struct x86_insn *insn,
                                uint16_t *selector, uint32_t *offset)
{
    unsigned size = insn->opsize;
    if (insn->operand[0] == X86_OPK_FARPTR) {
        *offset = (uint32_t)insn->imm;
        *selector = insn->imm2;
        return;
    }
    uint32_t ea = x86_effective_address(cpu, insn);
    *offset = x86_read(cpu, insn->seg, ea, size);
    *selector = (uint16_t)x86_read(cpu, insn->seg, insn->addrsize == 2 ? ((ea + size) & 0xFFFF)
                                                                      : ea + size, 2);
}

X86_HANDLER(x86_exec_jmp_far)
{
    uint16_t selector;
    uint32_t offset;
    far_pointer_operand(cpu, insn, &selector, &offset);
    x86_far_transfer(cpu, selector, offset, X86_FAR_JMP, insn->opsize);
}

X86_HANDLER(x86_exec_call_far)
{
    uint16_t selector;
    uint32_t offset;
    far_pointer_operand(cpu, insn, &selector, &offset);
    x86_far_transfer(cpu, selector, offset, X86_FAR_CALL, insn->opsize);
}

X86_HANDLER(x86_exec_ret_far)
{
    uint32_t release = insn->operand[0] == X86_OPK_IMM ? (uint32_t)insn->imm & 0xFFFF : 0;
    x86_far_return(cpu, insn->opsize, release);
}

/* ------------------------------------------------------------------ interrupts */

X86_HANDLER(x86_exec_int3)
{
    (void)insn;
    x86_software_interrupt(cpu, X86_VEC_BP, X86_EVENT_INT3);
}

/* int n in virtual-8086 mode with CR4.VME: the TSS's interrupt redirection bitmap (the 32 bytes
 * below the I/O map base) decides. A clear bit sends the interrupt to the 8086 program's own
 * handler through the IVT at linear 0, as real mode would, with VIF standing in for IF below
 * IOPL 3 (SDM Vol. 3 20.3.3, Table 20-2, methods 5 and 6). */
static bool redirected_to_8086_handler(struct x86_cpu *cpu, uint8_t vector)
{
    const struct x86_segment *tr = &cpu->tr;
    uint32_t map = (uint32_t)x86_read_system(cpu, tr->base + 0x66, 2);
    uint32_t byte = map - 32 + vector / 8;
    if (map < 32 || byte > tr->limit)
        x86_raise_gp0(cpu);
    return !((x86_read_system(cpu, tr->base + byte, 1) >> (vector % 8)) & 1);
}

static void interrupt_through_the_ivt(struct x86_cpu *cpu, uint8_t vector)
{
    /* the IVT entry (IP, CS) at linear 4 * vector, read with the program's rights */
    uint32_t entry = (uint32_t)x86_read_linear(cpu, vector * 4u, 4);
    bool virtual_if = x86_iopl(cpu) < 3;
    uint32_t flags = x86_get_eflags(cpu) & 0xFFFF;
    if (virtual_if)
        flags = (flags & ~X86_FLAG_IF) | X86_FLAG_IOPL |
                ((cpu->eflags & X86_FLAG_VIF) ? X86_FLAG_IF : 0);
    /* all three pushes fit, or nothing changes */
    uint16_t sp = (uint16_t)x86_gpr32(cpu, X86_ESP);
    x86_check_write(cpu, X86_SEG_SS, (uint16_t)(sp - 2), 2);
    x86_check_write(cpu, X86_SEG_SS, (uint16_t)(sp - 6), 2);
    x86_push(cpu, 2, flags);
    x86_push(cpu, 2, cpu->seg[X86_SEG_CS].selector);
    x86_push(cpu, 2, x86_next_eip(cpu) & 0xFFFF);
    x86_set_eflags(cpu, 0, X86_FLAG_TF | (virtual_if ? X86_FLAG_VIF : X86_FLAG_IF));
    x86_load_segment(cpu, X86_SEG_CS, (uint16_t)(entry >> 16));
    cpu->next_rip = entry & 0xFFFF;
}

X86_HANDLER(x86_exec_int)
{
    uint8_t vector = (uint8_t)insn->imm;
    if (cpu->eflags & X86_FLAG_VM) {
        if ((cpu->cr4 & X86_CR4_VME) && redirected_to_8086_handler(cpu, vector)) {
            interrupt_through_the_ivt(cpu, vector);
            return;
        }
        /* through the IDT to the monitor's handler: needs IOPL 3 (SDM Vol. 3 20.3.3) */
        if (x86_iopl(cpu) < 3)
            x86_raise_gp0(cpu);
    }
    x86_software_interrupt(cpu, vector, X86_EVENT_SOFTWARE);
}

X86_HANDLER(x86_exec_into)
{
    (void)insn;
    if (x86_get_eflags(cpu) & X86_FLAG_OF)
        x86_software_interrupt(cpu, X86_VEC_OF, X86_EVENT_INTO);
}

X86_HANDLER(x86_exec_int1)
{
    (void)insn;
    x86_software_interrupt(cpu, X86_VEC_DB, X86_EVENT_INT1);
}

X86_HANDLER(x86_exec_iret)
{
    /* in virtual-8086 mode below IOPL 3 the monitor emulates IRET (#GP), but for a 16-bit IRET
     * with CR4.VME, which returns from the 8086 program's own handler (x86_iret: IF to VIF) */
    if ((cpu->eflags & X86_FLAG_VM) && x86_iopl(cpu) < 3 &&
        (!(cpu->cr4 & X86_CR4_VME) || insn->opsize != 2))
        x86_raise_gp0(cpu);
    x86_iret(cpu, insn->opsize);
}

X86_HANDLER(x86_exec_bound)
{
    unsigned size = insn->opsize;
    uint32_t ea = x86_effective_address(cpu, insn);
    int32_t index = x86_sign_extend(x86_reg_get(cpu, insn->reg, size), size);
    int32_t lower = x86_sign_extend(x86_read(cpu, insn->seg, ea, size), size);
    uint32_t upper_at = insn->addrsize == 2 ? ((ea + size) & 0xFFFF) : ea + size;
    int32_t upper = x86_sign_extend(x86_read(cpu, insn->seg, upper_at, size), size);
    if (index < lower || index > upper)
        x86_raise(cpu, X86_VEC_BR, 0);
}

/* ------------------------------------------------------------------ strings */

enum string_op { STR_MOVS, STR_STOS, STR_LODS, STR_CMPS, STR_SCAS, STR_INS, STR_OUTS };

static X86_ALWAYS_INLINE uint32_t index_register(const struct x86_cpu *cpu, unsigned reg,
                                                 unsigned addrsize)
{
    return addrsize == 2 ? (x86_gpr32(cpu, reg) & 0xFFFF) : x86_gpr32(cpu, reg);
}

static X86_ALWAYS_INLINE void advance(struct x86_cpu *cpu, unsigned reg, unsigned addrsize,
                                      int32_t delta)
{
    if (addrsize == 2)
        x86_reg_set(cpu, reg, 2, x86_gpr32(cpu, reg) + (uint32_t)delta);
    else
        x86_set_gpr32(cpu, reg, x86_gpr32(cpu, reg) + (uint32_t)delta);
}

/* One iteration; every register it changes is committed before the next can fault. */
static X86_ALWAYS_INLINE void string_step(struct x86_cpu *cpu, const struct x86_insn *insn,
                                          enum string_op op, unsigned size, int32_t delta)
{
    unsigned as = insn->addrsize;
    uint32_t si = index_register(cpu, X86_ESI, as), di = index_register(cpu, X86_EDI, as);
    switch (op) {
    case STR_MOVS: {
        uint32_t v = x86_read(cpu, insn->seg, si, size);
        x86_write(cpu, X86_SEG_ES, di, size, v);
        advance(cpu, X86_ESI, as, delta);
        advance(cpu, X86_EDI, as, delta);
        break;
    }
    case STR_STOS:
        x86_write(cpu, X86_SEG_ES, di, size, x86_reg_get(cpu, X86_EAX, size));
        advance(cpu, X86_EDI, as, delta);
        break;
    case STR_LODS:
        x86_reg_set(cpu, X86_EAX, size, x86_read(cpu, insn->seg, si, size));
        advance(cpu, X86_ESI, as, delta);
        break;
    case STR_CMPS: {
        uint32_t a = x86_read(cpu, insn->seg, si, size);
        uint32_t b = x86_read(cpu, X86_SEG_ES, di, size);
        advance(cpu, X86_ESI, as, delta);
        advance(cpu, X86_EDI, as, delta);
        x86_set_lazy(cpu, LAZY_SUB, size, a, b, (a - b) & x86_size_mask(size));
        break;
    }
    case STR_SCAS: {
        uint32_t a = x86_reg_get(cpu, X86_EAX, size);
        uint32_t b = x86_read(cpu, X86_SEG_ES, di, size);
        advance(cpu, X86_EDI, as, delta);
        x86_set_lazy(cpu, LAZY_SUB, size, a, b, (a - b) & x86_size_mask(size));
        break;
    }
    case STR_INS: {
        uint16_t port = (uint16_t)x86_gpr32(cpu, X86_EDX);
        x86_check_write(cpu, X86_SEG_ES, di, size); /* before the port read's side effects */
        uint32_t v = x86_port_in(cpu, port, size);
        x86_write(cpu, X86_SEG_ES, di, size, v);
        advance(cpu, X86_EDI, as, delta);
        break;
    }
    default: { /* OUTS */
        uint32_t v = x86_read(cpu, insn->seg, si, size);
        x86_port_out(cpu, (uint16_t)x86_gpr32(cpu, X86_EDX), size, v);
        advance(cpu, X86_ESI, as, delta);
        break;
    }
    }
}

static X86_ALWAYS_INLINE void string_op(struct x86_cpu *cpu, const struct x86_insn *insn,
                                        enum string_op op)
{
    unsigned size = insn->opsize;
    int32_t delta = (cpu->eflags & X86_FLAG_DF) ? -(int32_t)size : (int32_t)size;
    uint16_t rep = insn->prefixes & (X86_PFX_REP | X86_PFX_REPNE);
    if (!rep) {
        string_step(cpu, insn, op, size, delta);
        cpu->cycles += cpu->cost[X86_COST_STRING];
        return;
    }
    bool conditional = op == STR_CMPS || op == STR_SCAS;
    unsigned as = insn->addrsize;
    for (;;) {
        if (index_register(cpu, X86_ECX, as) == 0)
            return;
        string_step(cpu, insn, op, size, delta);
        advance(cpu, X86_ECX, as, -1);
        cpu->cycles += cpu->cost[X86_COST_STRING];
        if (conditional) {
            bool zf = x86_condition(cpu, 4);
            if ((insn->prefixes & X86_PFX_REP) ? !zf : zf)
                return; /* repe stops on a difference, repne on a match */
        }
        if (index_register(cpu, X86_ECX, as) == 0)
            return;
        if (cpu->cycles >= cpu->cycle_limit || cpu->exit_request) {
            /* interruptible: resume this instruction at the next boundary (SDM Vol. 1 7.3.9.2).
             * The cut is free: the instruction's own cost and its retirement, which the caller
             * adds now, are counted once, when it completes. An exit request that is not the
             * guest's (a decoded block gone, the per-instruction loop clearing RF, a stop) cuts
             * it too, and it must not be seen in the cycles: the same guest then takes the same
             * time with any code cache, trace hook or snapshot restore. */
            cpu->next_rip = x86_eip(cpu);
            cpu->string_interrupted = 1;
            cpu->cycles -= insn->cycles;
            cpu->instructions--;
            return;
        }
    }
}

X86_HANDLER(x86_exec_movs) { string_op(cpu, insn, STR_MOVS); }
X86_HANDLER(x86_exec_stos) { string_op(cpu, insn, STR_STOS); }
X86_HANDLER(x86_exec_lods) { string_op(cpu, insn, STR_LODS); }
X86_HANDLER(x86_exec_cmps) { string_op(cpu, insn, STR_CMPS); }
X86_HANDLER(x86_exec_scas) { string_op(cpu, insn, STR_SCAS); }
X86_HANDLER(x86_exec_ins) { string_op(cpu, insn, STR_INS); }
X86_HANDLER(x86_exec_outs) { string_op(cpu, insn, STR_OUTS); }
