/* Every instruction handler (exec_*.c), for the dispatch table in exec_table.c. */
#ifndef X86IRQ_CPU_EXEC_HANDLERS_H
#define X86IRQ_CPU_EXEC_HANDLERS_H

#include "cpu/cpu.h"

void x86_exec_aaa(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_aad(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_aam(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_aas(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_adc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_add(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_and(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_arpl(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_bound(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_bsf(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_bsr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_bswap(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_bt(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_btc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_btr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_bts(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cache_control(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_call(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_call_far(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cbw(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_clc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cld(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cli(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_clts(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cmc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cmovcc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cmp(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cmps(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cmpxchg(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cmpxchg8b(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cpuid(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_cwd(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_daa(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_das(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_dec(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_div(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_enter(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_fwait(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_hlt(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_idiv(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_imul(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_in(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_inc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_ins(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_int(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_int1(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_int3(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_into(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_invlpg(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_iret(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_jcc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_jcxz(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_jmp(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_jmp_far(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_jmp_rel32(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_lahf(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_lar_lsl(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_lea(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_leave(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_lgdt_lidt(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_lldt(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_lmsw(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_load_far_pointer(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_lods(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_loop(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_loope(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_loopne(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_ltr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mov(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mov_cr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mov_dr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mov_load32(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mov_ri32(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mov_rr32(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mov_store32(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_movs(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_movsx(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_movzx(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_mul(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_neg(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_nop(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_not(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_or(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_out(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_outs(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_pop(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_pop_r32(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_popa(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_popf(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_push(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_push_r32(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_pusha(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_pushf(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_rcl(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_rcr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_rdmsr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_rdpmc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sysenter(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sysexit(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_clac_stac(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_rdtsc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_rdtscp(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_ret(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_ret_far(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_rol(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_ror(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sahf(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_salc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sar(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sbb(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_scas(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_setcc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sgdt_sidt(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_shl(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_shld(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_shr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_shrd(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sldt(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_smsw(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_stc(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_std(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sti(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_stos(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_str(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_sub(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_test(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_ud(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_verr_verw(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_wrmsr(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_x87(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_fxsave(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_fxrstor(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_xadd(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_xchg(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_xlat(struct x86_cpu *cpu, const struct x86_insn *insn);
void x86_exec_xor(struct x86_cpu *cpu, const struct x86_insn *insn);

/* the fast register/immediate forms of exec_alu.c */
#define X86_FAST_ALU(name) \
    void x86_exec_##name##_rr32(struct x86_cpu *cpu, const struct x86_insn *insn); \
    void x86_exec_##name##_ri32(struct x86_cpu *cpu, const struct x86_insn *insn);
X86_FAST_ALU(add)
X86_FAST_ALU(sub)
X86_FAST_ALU(cmp)
X86_FAST_ALU(and)
X86_FAST_ALU(or)
X86_FAST_ALU(xor)
X86_FAST_ALU(test)
#undef X86_FAST_ALU

#endif
