/* Data movement: mov (all forms), movzx/movsx, lea, push/pop (registers, memory, immediates,
 * segment registers), pusha/popa, pushf/popf, enter/leave, xlat, lds/les/lfs/lgs/lss. */
#include <string.h>

#include "cpu/exec.h"
#include "cpu/exec_handlers.h"

X86_HANDLER(x86_exec_mov)
{
    unsigned size = insn->opsize;
    if (insn->operand[0] == X86_OPK_SREG) {
        /* mov Sreg, r/m16 (SDM Vol. 2 MOV): CS cannot be loaded; SS blocks interrupts for one
         * instruction */
        if (insn->reg == X86_SEG_CS)
            x86_raise_ud(cpu);
        uint16_t selector = (uint16_t)x86_operand_read(cpu, insn, 1, 2);
        x86_load_segment(cpu, insn->reg, selector);
        if (insn->reg == X86_SEG_SS) {
            cpu->interrupt_shadow = X86_SHADOW_MOV_SS;
            cpu->debug_shadow = 1; /* a single-step trap waits for the next instruction too */
            x86_request_exit(cpu);
        }
        return;
    }
    if (insn->operand[1] == X86_OPK_SREG) {
        uint32_t selector = cpu->seg[insn->reg].selector;
        struct x86_location d = x86_rm_location(cpu, insn);
        /* a memory destination always gets 16 bits; a register gets the selector zero-extended
         * with a 32-bit operand size */
        x86_location_write(cpu, &d, d.memory ? 2 : size, selector);
        return;
    }
    uint32_t v = x86_operand_read(cpu, insn, 1, size);
    struct x86_location d = x86_operand_location(cpu, insn, 0);
    x86_location_write(cpu, &d, size, v);
}

X86_HANDLER(x86_exec_movzx)
{
    unsigned source_size = insn->opcode == 0xB6 ? 1 : 2;
    uint32_t v = x86_operand_read(cpu, insn, 1, source_size);
    x86_reg_set(cpu, insn->reg, insn->opsize, v);
}

X86_HANDLER(x86_exec_movsx)
{
    unsigned source_size = insn->opcode == 0xBE ? 1 : 2;
    uint32_t v = (uint32_t)x86_sign_extend(x86_operand_read(cpu, insn, 1, source_size), source_size);
    x86_reg_set(cpu, insn->reg, insn->opsize, v);
}

X86_HANDLER(x86_exec_lea)
{
    x86_reg_set(cpu, insn->reg, insn->opsize, x86_effective_address(cpu, insn));
}

X86_HANDLER(x86_exec_xlat)
{
    uint32_t base = insn->addrsize == 2 ? (x86_gpr32(cpu, X86_EBX) & 0xFFFF) : x86_gpr32(cpu, X86_EBX);
    uint32_t offset = base + (x86_gpr32(cpu, X86_EAX) & 0xFF);
    if (insn->addrsize == 2)
        offset &= 0xFFFF;
    x86_reg_set(cpu, X86_EAX, 1, x86_read(cpu, insn->seg, offset, 1));
}

/* ------------------------------------------------------------------ stack */

/* the stack pointer after moving by delta, with SS.B's width */
static uint32_t stack_offset(const struct x86_cpu *cpu, int32_t delta)
{
    uint32_t sp = x86_gpr32(cpu, X86_ESP) + (uint32_t)delta;
    return x86_stack32(cpu) ? sp : (sp & 0xFFFF);
}

X86_HANDLER(x86_exec_push)
{
    unsigned size = insn->opsize;
    if (insn->operand[0] == X86_OPK_SREG) {
        /* a 32-bit push of a segment register moves ESP by 4 but writes only 16 bits, as
         * current Intel processors do */
        uint32_t at = stack_offset(cpu, -(int32_t)size);
        x86_write(cpu, X86_SEG_SS, at, 2, cpu->seg[insn->reg].selector);
        x86_stack_adjust(cpu, -(int32_t)size);
        return;
    }
    uint32_t v = x86_operand_read(cpu, insn, 0, size); /* push esp pushes the old value */
    x86_push(cpu, size, v);
}

X86_HANDLER(x86_exec_pop)
{
    unsigned size = insn->opsize;
    uint32_t v = x86_stack_peek(cpu, 0, size);
    if (insn->operand[0] == X86_OPK_SREG) {
        if (insn->reg == X86_SEG_CS)
            x86_raise_ud(cpu);
        x86_load_segment(cpu, insn->reg, (uint16_t)v);
        x86_stack_adjust(cpu, (int32_t)size);
        if (insn->reg == X86_SEG_SS) {
            cpu->interrupt_shadow = X86_SHADOW_MOV_SS;
            cpu->debug_shadow = 1; /* a single-step trap waits for the next instruction too */
            x86_request_exit(cpu);
        }
        return;
    }
    if (insn->operand[0] == X86_OPK_REG || insn->mod == 3) {
        x86_stack_adjust(cpu, (int32_t)size);
        x86_reg_set(cpu, insn->operand[0] == X86_OPK_REG ? insn->reg : insn->rm, size, v);
        return;
    }
    /* pop to memory: an ESP-based address is computed with ESP after the pop
     * (SDM Vol. 2 POP), but ESP changes only once the store has succeeded */
    uint32_t saved = x86_gpr32(cpu, X86_ESP);
    x86_stack_adjust(cpu, (int32_t)size);
    uint32_t ea = x86_effective_address(cpu, insn);
    uint32_t popped = x86_gpr32(cpu, X86_ESP);
    x86_set_gpr32(cpu, X86_ESP, saved);
    x86_write(cpu, insn->seg, ea, size, v);
    x86_set_gpr32(cpu, X86_ESP, popped);
}

/* The host bytes of a 32-byte stack block when one TLB entry maps it for the access, else
 * NULL (the generic path then does the checks one by one). */
static uint8_t *stack_block(struct x86_cpu *cpu, uint32_t offset, bool write)
{
    const struct x86_segment *ss = &cpu->seg[X86_SEG_SS];
    if (!(write ? ss->fast_write : ss->fast_read) || offset > (write ? ss->write_limit : ss->read_limit) - 31 ||
        (write ? ss->write_limit : ss->read_limit) < 31)
        return NULL;
    uint32_t linear = ss->base + offset;
    const struct x86_tlb_entry *e = &cpu->tlb[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    uint32_t tag = write ? e->write_tag : e->read_tag;
    if (tag != (linear & ~0xFFFu) || (linear & 0xFFF) > 0x1000 - 32)
        return NULL;
    return (uint8_t *)(e->host_minus_linear + linear);
}

X86_HANDLER(x86_exec_pusha)
{
    unsigned size = insn->opsize;
    if (size == 4 && x86_stack32(cpu)) {
        /* the common case, one block of 32 bytes in one page: EDI lowest, EAX highest */
        uint8_t *host = stack_block(cpu, x86_gpr32(cpu, X86_ESP) - 32, true);
        if (host) {
            uint32_t block[8];
            for (unsigned r = 0; r < 8; r++)
                block[7 - r] = x86_gpr32(cpu, r); /* ESP as it was before the instruction */
            memcpy(host, block, sizeof(block));
            x86_set_gpr32(cpu, X86_ESP, x86_gpr32(cpu, X86_ESP) - 32);
            return;
        }
    }
    uint32_t lowest = stack_offset(cpu, -(int32_t)(8 * size));
    uint32_t highest = stack_offset(cpu, -(int32_t)size);
    x86_check_write(cpu, X86_SEG_SS, lowest, size);
    x86_check_write(cpu, X86_SEG_SS, highest, size);
    uint32_t original_esp = x86_gpr32(cpu, X86_ESP);
    for (unsigned r = 0; r < 8; r++) {
        uint32_t v = r == X86_ESP ? original_esp : x86_gpr32(cpu, r);
        x86_write(cpu, X86_SEG_SS, stack_offset(cpu, -(int32_t)((r + 1) * size)), size, v);
    }
    x86_stack_adjust(cpu, -(int32_t)(8 * size));
}

X86_HANDLER(x86_exec_popa)
{
    unsigned size = insn->opsize;
    if (size == 4 && x86_stack32(cpu)) {
        uint8_t *host = stack_block(cpu, x86_gpr32(cpu, X86_ESP), false);
        if (host) {
            uint32_t block[8];
            memcpy(block, host, sizeof(block));
            for (unsigned r = 0; r < 8; r++)
                if (r != X86_ESP)
                    x86_set_gpr32(cpu, r, block[7 - r]);
            x86_set_gpr32(cpu, X86_ESP, x86_gpr32(cpu, X86_ESP) + 32);
            return;
        }
    }
    uint32_t v[8];
    for (unsigned r = 0; r < 8; r++)
        v[7 - r] = x86_stack_peek(cpu, r * size, size);
    for (unsigned r = 0; r < 8; r++)
        if (r != X86_ESP)
            x86_reg_set(cpu, r, size, v[r]);
    x86_stack_adjust(cpu, (int32_t)(8 * size));
}

/* Virtual-8086 mode below IOPL 3 with CR4.VME, 16-bit operand size: pushf, popf and iret see
 * VIF in place of IF (SDM Vol. 3 20.3, Vol. 2 PUSHF, POPF, IRET); anything else there is
 * #GP(0) for the monitor. */
static bool vme_flags(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    if (!(cpu->eflags & X86_FLAG_VM) || x86_iopl(cpu) == 3)
        return false;
    if ((cpu->cr4 & X86_CR4_VME) && insn->opsize == 2)
        return true;
    x86_raise_gp0(cpu);
}

X86_HANDLER(x86_exec_pushf)
{
    /* the image has VM and RF clear (SDM Vol. 2 PUSHF) */
    uint32_t f = x86_get_eflags(cpu) & ~(X86_FLAG_VM | X86_FLAG_RF);
    if (vme_flags(cpu, insn)) {
        /* IF shows VIF, IOPL shows 3 */
        f = (f & ~X86_FLAG_IF) | X86_FLAG_IOPL | ((cpu->eflags & X86_FLAG_VIF) ? X86_FLAG_IF : 0);
    }
    x86_push(cpu, insn->opsize, f);
}

void x86_load_virtual_flags(struct x86_cpu *cpu, uint32_t value)
{
    /* a pending virtual interrupt about to be enabled, or TF: the monitor's business */
    if (((cpu->eflags & X86_FLAG_VIP) && (value & X86_FLAG_IF)) || (value & X86_FLAG_TF))
        x86_raise_gp0(cpu);
    uint32_t vif = (value & X86_FLAG_IF) ? X86_FLAG_VIF : 0;
    x86_set_eflags(cpu, value, 0xFFFFu & ~(X86_FLAG_IF | X86_FLAG_IOPL) & ~(uint32_t)0x8028);
    x86_set_eflags(cpu, vif, X86_FLAG_VIF);
}

X86_HANDLER(x86_exec_popf)
{
    unsigned size = insn->opsize;
    bool vm86 = cpu->eflags & X86_FLAG_VM;
    if (vme_flags(cpu, insn)) {
        uint32_t value = x86_stack_peek(cpu, 0, 2);
        x86_load_virtual_flags(cpu, value); /* may #GP: nothing popped yet */
        x86_stack_adjust(cpu, 2);
        x86_set_eflags(cpu, 0, X86_FLAG_RF);
        x86_request_exit(cpu);
        return;
    }
    uint32_t v = x86_stack_peek(cpu, 0, size);
    /* which flags POPF may change (SDM Vol. 2 POPF): never VM, VIP, VIF; IOPL only at CPL 0;
     * IF only when CPL <= IOPL; RF is cleared */
    uint32_t mask = X86_FLAGS_ARITH | X86_FLAG_TF | X86_FLAG_DF | X86_FLAG_NT | X86_FLAG_AC |
                    X86_FLAG_ID | X86_FLAG_IF | X86_FLAG_IOPL;
    if (x86_protected(cpu) || vm86) {
        if (vm86 || cpu->cpl > 0)
            mask &= ~X86_FLAG_IOPL;
        if (!vm86 && cpu->cpl > x86_iopl(cpu))
            mask &= ~X86_FLAG_IF;
    }
    if (size == 2)
        mask &= 0xFFFF;
    x86_stack_adjust(cpu, (int32_t)size);
    x86_set_eflags(cpu, v, mask);
    x86_set_eflags(cpu, 0, X86_FLAG_RF);
    x86_request_exit(cpu);
}

X86_HANDLER(x86_exec_enter)
{
    unsigned size = insn->opsize;
    uint32_t frame_size = (uint32_t)insn->imm & 0xFFFF;
    unsigned level = insn->imm2 % 32;
    bool s32 = x86_stack32(cpu);
    uint32_t ebp = x86_gpr32(cpu, X86_EBP);
    /* gather what is pushed, then check the stack, then write (precise) */
    uint32_t values[33];
    unsigned count = 0;
    values[count++] = x86_reg_get(cpu, X86_EBP, size);
    uint32_t frame_temp = stack_offset(cpu, -(int32_t)size);
    for (unsigned i = 1; i < level; i++) {
        uint32_t at = ebp - i * size;
        values[count++] = x86_read(cpu, X86_SEG_SS, s32 ? at : (at & 0xFFFF), size);
    }
    if (level > 0)
        values[count++] = frame_temp;
    uint32_t lowest = stack_offset(cpu, -(int32_t)(count * size));
    x86_check_write(cpu, X86_SEG_SS, lowest, size);
    x86_check_write(cpu, X86_SEG_SS, frame_temp, size);
    for (unsigned i = 0; i < count; i++)
        x86_write(cpu, X86_SEG_SS, stack_offset(cpu, -(int32_t)((i + 1) * size)), size, values[i]);
    uint32_t new_esp = stack_offset(cpu, -(int32_t)(count * size)) - frame_size;
    if (s32) {
        x86_set_gpr32(cpu, X86_ESP, new_esp);
    } else {
        x86_reg_set(cpu, X86_ESP, 2, new_esp);
    }
    /* the stack size, not the operand size, picks EBP or BP (SDM Vol. 2 ENTER) */
    if (s32)
        x86_set_gpr32(cpu, X86_EBP, frame_temp);
    else
        x86_reg_set(cpu, X86_EBP, 2, frame_temp);
}

X86_HANDLER(x86_exec_leave)
{
    unsigned size = insn->opsize;
    bool s32 = x86_stack32(cpu);
    uint32_t sp = s32 ? x86_gpr32(cpu, X86_EBP) : (x86_gpr32(cpu, X86_EBP) & 0xFFFF);
    uint32_t v = x86_read(cpu, X86_SEG_SS, sp, size);
    if (s32)
        x86_set_gpr32(cpu, X86_ESP, sp + size);
    else
        x86_reg_set(cpu, X86_ESP, 2, sp + size);
    x86_reg_set(cpu, X86_EBP, size, v);
}

/* lds / les / lfs / lgs / lss: a far pointer from memory (offset, then selector) */
X86_HANDLER(x86_exec_load_far_pointer)
{
    static const uint8_t seg_of[X86_MN_COUNT] = {
        [X86_MN_LDS] = X86_SEG_DS, [X86_MN_LES] = X86_SEG_ES, [X86_MN_LFS] = X86_SEG_FS,
        [X86_MN_LGS] = X86_SEG_GS, [X86_MN_LSS] = X86_SEG_SS,
    };
    unsigned size = insn->opsize;
    uint32_t ea = x86_effective_address(cpu, insn);
    uint32_t offset = x86_read(cpu, insn->seg, ea, size);
    uint16_t selector = (uint16_t)x86_read(cpu, insn->seg, insn->addrsize == 2 ? ((ea + size) & 0xFFFF) : ea + size, 2);
    unsigned seg = seg_of[insn->mnemonic];
    x86_load_segment(cpu, seg, selector);
    x86_reg_set(cpu, insn->reg, size, offset); /* lss makes no interrupt shadow */
}
