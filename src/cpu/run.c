/* The run loop: fetch decoded blocks, execute them through their handlers, unwind faults to
 * their delivery, apply the double-fault rules.
 *
 * Hot path: "next cached instruction -> insn->exec(cpu, insn)", leaving it only when the cycle
 * limit (the next event or the end of the budget) is reached, when something asked for an
 * exit (mode change, IF change, a store into the executing block, a device stop), or when an
 * exception unwinds to the setjmp in x86_cpu_execute().
 */
#include "cpu/run.h"

#include <stdlib.h>

#include "cpu/exec.h"
#include "cpu/exec_fast.h"
#include "cpu/mmu.h"
#include "cpu/segment.h"
#include "idt/idt.h"
#include "cpu/predecode.h"
#include "platform/bus.h"
#include "trace/emit.h"

/* ------------------------------------------------------------------ raising */

static X86_NORETURN void raise_exception(struct x86_cpu *cpu, uint8_t vector, uint32_t error_code,
                                         bool fault_class)
{
    bool has_error = vector < 32 && x86_exception_table[vector].has_error_code;
    if (has_error && cpu->event_ext && vector >= X86_VEC_TS && vector <= X86_VEC_GP)
        error_code |= 1; /* EXT: raised while delivering an external event (SDM Vol. 3 6.13) */
    cpu->fault.vector = vector;
    cpu->fault.has_error_code = has_error;
    cpu->fault.error_code = has_error ? error_code : 0;
    cpu->fault.source = X86_EVENT_EXCEPTION;
    cpu->fault.return_eip = cpu->rip;
    cpu->fault.resume_flag = fault_class;
    longjmp(cpu->fault_jump, 1);
}

void x86_raise(struct x86_cpu *cpu, uint8_t vector, uint32_t error_code)
{
    /* #DB is a fault for an instruction breakpoint, whose frame keeps RF as it is, and a trap
     * otherwise; the general-detect fault comes through x86_raise_debug_fault */
    raise_exception(cpu, vector, error_code,
                    vector < 32 && x86_exception_table[vector].class_ == X86_CLASS_FAULT);
}

void x86_raise_debug_fault(struct x86_cpu *cpu)
{
    raise_exception(cpu, X86_VEC_DB, 0, true);
}

void x86_software_interrupt(struct x86_cpu *cpu, uint8_t vector, int kind)
{
    cpu->fault.vector = vector;
    cpu->fault.has_error_code = 0;
    cpu->fault.error_code = 0;
    cpu->fault.source = (uint8_t)kind;
    cpu->fault.return_eip = cpu->next_rip; /* int n, int3, into, int1 are traps */
    cpu->fault.resume_flag = 0;
    longjmp(cpu->fault_jump, 1);
}

/* ------------------------------------------------------------------ delivery with the
 * double-fault rules (SDM Vol. 3 6.15, interrupt 8, Table 6-5) */

static bool contributory(uint8_t vector)
{
    return vector < 32 && x86_exception_table[vector].double_fault_class == X86_DF_CONTRIBUTORY;
}

static void chain_append(struct x86_cpu *cpu, const struct x86_fault *f, bool generated)
{
    if (cpu->event_chain_length >= X86_EVENT_CHAIN_MAX)
        return;
    struct x86_chain_entry *e = &cpu->event_chain[cpu->event_chain_length++];
    e->cycle = cpu->cycles;
    e->event = *f;
    e->cs = cpu->seg[X86_SEG_CS].selector;
    e->generated = generated;
}

static uint8_t trace_origin(const struct x86_fault *f)
{
    if (f->source == X86_EVENT_HARDWARE)
        return f->vector == X86_VEC_NMI ? X86IRQ_ORIGIN_NMI : X86IRQ_ORIGIN_HARDWARE;
    return f->source == X86_EVENT_EXCEPTION ? X86IRQ_ORIGIN_EXCEPTION : X86IRQ_ORIGIN_SOFTWARE;
}

void x86_cpu_deliver(struct x86_cpu *cpu, const struct x86_fault *event)
{
    struct x86_fault f = *event;
    struct x86_trace *trace = cpu->trace;
    if (!cpu->delivering)
        cpu->event_chain_length = 0;
    chain_append(cpu, &f, false);
    if (f.source != X86_EVENT_HARDWARE)
        x86_trace_exception(trace, f.vector, trace_origin(&f),
                            cpu->mode == X86_MODE_64 ? f.return_eip : (uint32_t)f.return_eip,
                            f.has_error_code, f.error_code);
    if (cpu->delivering) {
        /* a fault while delivering an earlier event */
        uint8_t first = cpu->delivering_vector;
        bool first_benign = cpu->delivering_benign;
        cpu->delivering = 0;
        cpu->event_ext = 0;
        if (!first_benign && first == X86_VEC_DF) {
            x86_trace_shutdown(trace, f.vector);
            cpu->shutdown = 1; /* triple fault: the processor enters shutdown */
            x86_request_exit(cpu);
            cpu->platform->shutdown(cpu->platform->opaque, cpu);
            return;
        }
        bool first_pf = !first_benign && first == X86_VEC_PF;
        bool first_contributory = !first_benign && contributory(first);
        if ((first_contributory && contributory(f.vector)) ||
            (first_pf && (contributory(f.vector) || f.vector == X86_VEC_PF))) {
            f.vector = X86_VEC_DF;
            f.has_error_code = 1;
            f.error_code = 0;
            f.source = X86_EVENT_EXCEPTION;
            /* #DF is an abort: the saved CS:EIP is undefined; we save the faulting EIP */
            chain_append(cpu, &f, true);
            x86_trace_double_fault(trace, first);
        }
        /* otherwise the two are handled serially: the second one is delivered */
    }
    cpu->delivering = 1;
    cpu->delivering_vector = f.vector;
    cpu->delivering_benign = f.source != X86_EVENT_EXCEPTION;
    /* RF in the frame (SDM Vol. 3 17.3.1.1): 1 for a fault-class exception (not an instruction
     * breakpoint) and for an interrupt between iterations of a rep string; 0 for a software
     * interrupt (RF was cleared when it started); otherwise EFLAGS.RF as it is */
    bool current_rf = (cpu->eflags & X86_FLAG_RF) != 0;
    switch (f.source) {
    case X86_EVENT_EXCEPTION:
        cpu->frame_resume_flag = (f.resume_flag && f.vector != X86_VEC_DF) || current_rf;
        break;
    case X86_EVENT_HARDWARE:
        cpu->frame_resume_flag = cpu->string_interrupted || current_rf;
        break;
    default:
        cpu->frame_resume_flag = 0;
    }
    uint8_t from_cpl = cpu->cpl;
    if (X86_UNLIKELY(trace->mask)) {
        /* where it came from, for the nesting report: the faulting or interrupting
         * instruction, or the interrupted one */
        trace->raising_eip = cpu->mode == X86_MODE_64 ? cpu->rip : x86_eip(cpu);
        trace->raising_cs = cpu->seg[X86_SEG_CS].selector;
    }
    x86_deliver_event(cpu, f.vector, (enum x86_event_source)f.source, f.has_error_code,
                      f.error_code, f.return_eip);
    cpu->delivering = 0;
    if (X86_UNLIKELY(trace->mask))
        x86_trace_delivered(trace, f.vector, trace_origin(&f), from_cpl, f.has_error_code,
                            f.error_code);
}

/* ------------------------------------------------------------------ fetch and decode */

static uint16_t insn_cycles(const struct x86_cpu *cpu, const struct x86_insn *insn)
{
    uint32_t c = cpu->cost[insn->cost_class];
    for (unsigned i = 0; i < 3; i++) {
        uint8_t k = insn->operand[i];
        if ((k == X86_OPK_RM && insn->mod != 3) || k == X86_OPK_MEM || k == X86_OPK_MOFFS) {
            c += cpu->cost[X86_COST_MEMORY];
            break;
        }
    }
    return (uint16_t)(c > 0xFFFF ? 0xFFFF : c);
}

/* Bytes from CS:EIP to the CS limit (at most 15 are ever needed); 64-bit mode has no limit */
static uint32_t bytes_to_limit(const struct x86_cpu *cpu)
{
    const struct x86_segment *cs = &cpu->seg[X86_SEG_CS];
    if (cpu->mode == X86_MODE_64)
        return 0x10000;
    if (x86_eip(cpu) > cs->limit)
        return 0;
    uint64_t n = (uint64_t)cs->limit - x86_eip(cpu) + 1;
    return n > 0x10000 ? 0x10000 : (uint32_t)n;
}

static X86_NORETURN void decode_fault(struct x86_cpu *cpu, enum x86_decode_status status)
{
    if (status == X86_DECODE_INVALID)
        x86_raise_ud(cpu);
    x86_raise_gp0(cpu); /* longer than 15 bytes, or beyond the CS limit */
}

/* The fetch's own checks: EIP within the CS limit, or in 64-bit mode a canonical RIP (a jump
 * to a non-canonical address faults at the jump already: SDM Vol. 1 3.3.7.1) */
static void check_fetch_address(struct x86_cpu *cpu)
{
    if (cpu->mode == X86_MODE_64 ? !x86_canonical(cpu->rip)
                                 : x86_eip(cpu) > cpu->seg[X86_SEG_CS].limit)
        x86_raise_gp0(cpu);
}

/* Decode the instruction at CS:EIP byte by byte through the MMU: for instructions that cross
 * a page or the CS limit, and for code outside RAM. Faults as the fetch would. */
void x86_cpu_decode_uncached(struct x86_cpu *cpu, struct x86_insn *insn)
{
    uint8_t bytes[15];
    uint32_t limit_bytes = bytes_to_limit(cpu);
    check_fetch_address(cpu);
    uint64_t linear = x86_code_linear(cpu, cpu->rip);
    bool user = cpu->cpl == 3;
    size_t have = 0;
    enum x86_decode_status status = X86_DECODE_TRUNCATED;
    uint64_t phys = 0;
    while (status == X86_DECODE_TRUNCATED) {
        if (have == 15 || have == limit_bytes) {
            decode_fault(cpu, have == 15 ? X86_DECODE_TOO_LONG : X86_DECODE_TRUNCATED);
        }
        /* fetch the rest of this page (or up to 15 bytes) */
        uint64_t at = linear + have;
        if (cpu->mode != X86_MODE_64)
            at = (uint32_t)at;
        else if (!x86_canonical(at))
            x86_raise_gp0(cpu); /* the instruction runs into non-canonical space */
        bool w;
        x86_translate(cpu, at, X86_ACCESS_EXECUTE, user, &phys, &w);
        size_t page_left = X86_PAGE_SIZE - (at & 0xFFF);
        size_t want = 15 - have;
        if (want > limit_bytes - have)
            want = limit_bytes - have;
        if (want > page_left)
            want = page_left;
        for (size_t i = 0; i < want; i++)
            bytes[have + i] = (uint8_t)x86_phys_read(cpu, phys + i, 1);
        have += want;
        status = x86_decode(bytes, have, (enum x86_mode)cpu->mode, insn);
    }
    if (status != X86_DECODE_OK)
        decode_fault(cpu, status);
    insn->exec = x86_exec_lookup(insn);
    insn->cycles = insn_cycles(cpu, insn);
}

/* Translate CS:EIP for execution. */
static uint64_t fetch_physical(struct x86_cpu *cpu)
{
    check_fetch_address(cpu);
    uint64_t linear = x86_code_linear(cpu, cpu->rip);
    const struct x86_tlb_entry *e = &cpu->tlb[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    /* a page the TLB has from a data access may be execute-disabled: then the walk faults */
    if (X86_LIKELY(e->read_tag == (linear & ~(uint64_t)0xFFF) && !e->no_execute))
        return ((uint64_t)e->physical_page << 12) | (linear & 0xFFF);
    uint64_t phys;
    bool w;
    x86_translate(cpu, linear, X86_ACCESS_EXECUTE, cpu->cpl == 3, &phys, &w);
    return phys;
}

/* Is there a code-watch probe at this linear address? */
static bool probed(const struct x86_cpu *cpu, uint64_t linear)
{
    size_t lo = 0, hi = cpu->watch.probe_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cpu->watch.probes[mid] == linear)
            return true;
        if (cpu->watch.probes[mid] < linear)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* A block is entered at linear: report a probe there or the watched return (the probe is
 * checked again by address: a physical page may be mapped at two linear addresses) */
static X86_ALWAYS_INLINE void block_entry_watch(struct x86_cpu *cpu, bool probe, uint64_t rip)
{
    if (X86_UNLIKELY(probe || (cpu->watch.return_armed && cpu->watch.return_eip == rip))) {
        uint64_t linear = x86_code_linear(cpu, rip);
        cpu->watch.fn(cpu->watch.opaque, linear, probe && probed(cpu, linear));
    }
}

/* Decode a new block at phys. NULL when the first instruction must be decoded uncached
 * (it crosses the page or the CS limit). Raises #UD/#GP for an undecodable first instruction.
 * A probed instruction always begins a block: the block ends before one. */
static struct x86_block *decode_block(struct x86_cpu *cpu, uint64_t phys)
{
    uint32_t page_left = X86_PAGE_SIZE - (phys & 0xFFF);
    uint32_t limit_left = bytes_to_limit(cpu);
    uint32_t avail = page_left < limit_left ? page_left : limit_left;
    const uint8_t *bytes = cpu->bus->ram + phys;
    struct x86_insn insns[X86_BLOCK_MAX_INSNS];
    unsigned count = 0;
    uint32_t offset = 0;
    uint64_t linear = x86_code_linear(cpu, cpu->rip);
    bool first_probed = cpu->watch.probe_count && probed(cpu, linear);
    while (count < X86_BLOCK_MAX_INSNS && offset < avail) {
        if (count > 0 && cpu->watch.probe_count && probed(cpu, linear + offset))
            break;
        struct x86_insn *insn = &insns[count];
        enum x86_decode_status status = x86_decode(bytes + offset, avail - offset,
                                                   (enum x86_mode)cpu->mode, insn);
        if (status != X86_DECODE_OK) {
            if (count > 0)
                break;  /* the block ends before it; it faults when reached */
            if (status == X86_DECODE_TRUNCATED)
                return NULL;
            decode_fault(cpu, status);
        }
        insn->exec = x86_exec_lookup(insn);
        insn->fast = x86_exec_fast_op(insn);
        insn->cycles = insn_cycles(cpu, insn);
        offset += insn->length;
        count++;
        if (x86_mnemonic_properties[insn->mnemonic] & X86_MNP_ENDS_BLOCK)
            break;
    }
    if (count == 0)
        return NULL;
    struct x86_block *block = malloc(sizeof(*block) + count * sizeof(struct x86_insn));
    if (!block)
        return NULL; /* executed uncached instead */
    block->next_in_page = NULL;
    memset(block->links, 0, sizeof(block->links));
    block->phys = (uint32_t)phys;
    block->byte_count = (uint16_t)offset;
    block->insn_count = (uint16_t)count;
    block->mode = cpu->mode;
    block->valid = 1;
    block->probe = first_probed;
    block->ranges_generation = 0;
    memcpy(block->insns, insns, count * sizeof(struct x86_insn));
    if (!x86_code_cache_insert(cpu->code, block)) {
        free(block);
        return NULL;
    }
    x86_tlb_protect_code(cpu, phys >> 12);
    return block;
}

/* ------------------------------------------------------------------ execution */

static X86_ALWAYS_INLINE void execute_one(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    cpu->next_rip = (cpu->rip + insn->length) & x86_ip_mask(insn->mode);
    insn->exec(cpu, insn);
    cpu->rip = cpu->next_rip;
    cpu->cycles += insn->cycles;
    cpu->instructions++;
}

/* The block at CS:EIP: from the jump cache, the decoded-block cache, or freshly decoded; NULL
 * when the instruction there must be decoded uncached. */
static X86_ALWAYS_INLINE struct x86_block *find_block(struct x86_cpu *cpu)
{
    uint64_t rip = cpu->rip;
    uint32_t cs_base = (uint32_t)cpu->seg[X86_SEG_CS].base;
    struct x86_jump_entry *jump = &cpu->jump_cache[(rip ^ (rip >> 12)) & (X86_JUMP_CACHE_SIZE - 1)];
    if (X86_LIKELY(jump->rip == rip && jump->cs_base == cs_base &&
                   jump->generation == cpu->generation && jump->block->mode == cpu->mode))
        return jump->block;
    uint64_t phys = fetch_physical(cpu);
    if (phys >= cpu->bus->ram_size)
        return NULL;
    struct x86_block *block = x86_code_cache_find(cpu->code, phys, cpu->mode);
    if (!block)
        block = decode_block(cpu, phys);
    if (block && bytes_to_limit(cpu) >= block->byte_count) {
        /* only blocks wholly inside CS are remembered: the limit is not rechecked */
        jump->rip = rip;
        jump->cs_base = cs_base;
        jump->generation = cpu->generation;
        jump->block = block;
    }
    return block;
}

/* After an instruction that began with EFLAGS.TF set: the single-step #DB, a trap (SDM Vol. 3
 * 17.3.1.4), unless MOV SS / POP SS delays it by one instruction. An instruction that faulted
 * or raised a software interrupt never gets here: its event is delivered instead, and the
 * handler runs with TF clear. Of the events at an instruction boundary this one comes first
 * (SDM Vol. 3 6.9, Table 6-2: traps of the previous instruction before NMI and INTR). */
static void single_step_trap(struct x86_cpu *cpu)
{
    if (cpu->debug_shadow) {
        cpu->debug_shadow = 0;
        return;
    }
    cpu->dr[6] |= X86_DR6_BS;
    x86_raise(cpu, X86_VEC_DB, 0);
}

/* Before an instruction, with breakpoints enabled: an instruction breakpoint at its address is
 * a fault, unless EFLAGS.RF says the last #DB handler returned here (SDM Vol. 3 17.3.1.1). */
static void check_instruction_breakpoint(struct x86_cpu *cpu)
{
    cpu->pending_breakpoints = 0;
    if (cpu->eflags & X86_FLAG_RF)
        return;
    uint8_t hit = x86_debug_instruction_breakpoints(cpu, cpu->seg[X86_SEG_CS].base + x86_eip(cpu));
    if (hit) {
        cpu->dr[6] = (cpu->dr[6] & ~0xFu) | hit;
        x86_raise(cpu, X86_VEC_DB, 0);
    }
}

/* RF is cleared at the start of each instruction, after the instruction-breakpoint check; an
 * IRET or task switch may set it again (SDM Vol. 3 17.3.1.1). The fast loop never runs with RF
 * set: IRET and task switches that load it ask for an exit, and the boundary clears it when no
 * breakpoint check needs it. */
static void start_with_resume_flag(struct x86_cpu *cpu)
{
    cpu->eflags &= ~X86_FLAG_RF;
    x86_request_exit(cpu);
}

/* After an instruction, with breakpoints enabled: data and I/O breakpoints it hit are one #DB
 * trap, with a single step's BS if TF was set. */
static void after_instruction_breakpoints(struct x86_cpu *cpu, bool step)
{
    uint8_t hit = cpu->pending_breakpoints;
    if (!hit)
        return;
    cpu->pending_breakpoints = 0;
    cpu->dr[6] = (cpu->dr[6] & ~0xFu) | hit;
    if (step && !cpu->debug_shadow)
        cpu->dr[6] |= X86_DR6_BS;
    x86_raise(cpu, X86_VEC_DB, 0);
}

/* Does code at rip, bytes long from physical phys (UINT64_MAX: not known), overlap a range
 * the platform hooks? (An unknown physical address overlaps every physical range, to be
 * sure: the hooks themselves check each instruction.) */
static bool code_hooked(const struct x86_cpu *cpu, uint64_t rip, uint64_t phys, unsigned bytes)
{
    const struct x86_code_ranges *r = cpu->code_ranges;
    uint64_t linear = x86_code_linear(cpu, rip);
    for (size_t i = 0; i < r->count; i++) {
        const struct x86_code_range *c = &r->range[i];
        if (c->physical && phys == UINT64_MAX)
            return true;
        uint64_t start = c->physical ? phys : linear;
        uint64_t end = start + bytes - 1;
        if (end < start)
            end = UINT64_MAX;
        if (start <= c->last && c->first <= end)
            return true;
    }
    return false;
}

/* code_hooked for a block entered at rip (NULL: an instruction decoded uncached), the answer
 * kept in the block for this core's translations and this address: a loop's block is
 * checked once, not at every entry. The platform renews every core's generation when its
 * ranges change. */
static bool entry_hooked(struct x86_cpu *cpu, struct x86_block *block, uint64_t rip)
{
    if (!block)
        return code_hooked(cpu, rip, UINT64_MAX, X86_MAX_INSN_LENGTH);
    uint64_t linear = x86_code_linear(cpu, rip);
    if (block->ranges_generation != cpu->generation || block->ranges_linear != linear) {
        block->ranges_hooked = code_hooked(cpu, rip, block->phys, block->byte_count);
        block->ranges_generation = cpu->generation;
        block->ranges_linear = linear;
    }
    return block->ranges_hooked;
}

/* The per-instruction loop's check: the platform's (breakpoints, the instruction hook) */
static bool before_instruction(struct x86_cpu *cpu, const struct x86_insn *insn)
{
    return cpu->platform->before_instruction(cpu->platform->opaque, cpu, insn);
}

static X86_ALWAYS_INLINE void execute_loop(struct x86_cpu *cpu, bool traced)
{
    while (cpu->cycles < cpu->cycle_limit && !cpu->exit_request) {
        struct x86_block *block = find_block(cpu);
        if (traced && X86_UNLIKELY(cpu->code_ranges || cpu->in_hooked_code)) {
            /* hooked by range: this loop for the blocks that overlap a range only */
            cpu->in_hooked_code = cpu->code_ranges && entry_hooked(cpu, block, cpu->rip);
            if (!cpu->in_hooked_code && !cpu->hooked && !(cpu->eflags & X86_FLAG_TF) &&
                !cpu->breakpoints_armed)
                return;
        }
        block_entry_watch(cpu, block ? block->probe
                                     : cpu->watch.probe_count &&
                                           probed(cpu, x86_code_linear(cpu, cpu->rip)),
                          cpu->rip);
        if (!block) {
            struct x86_insn insn;
            x86_cpu_decode_uncached(cpu, &insn);
            if (traced && (cpu->hooked | cpu->in_hooked_code) && !before_instruction(cpu, &insn))
                return;
            bool step = traced && (cpu->eflags & X86_FLAG_TF);
            cpu->debug_shadow = 0; /* only the instruction that sets it delays the trap */
            if (traced && cpu->breakpoints_armed)
                check_instruction_breakpoint(cpu);
            if (traced && (cpu->eflags & X86_FLAG_RF))
                start_with_resume_flag(cpu);
            execute_one(cpu, &insn);
            if (traced && cpu->breakpoints_armed)
                after_instruction_breakpoints(cpu, step);
            if (step)
                single_step_trap(cpu);
            continue;
        }
        const struct x86_insn *insn = block->insns;
        const struct x86_insn *end = insn + block->insn_count;
        for (;;) {
            uint64_t sequential = (cpu->rip + insn->length) & x86_ip_mask(insn->mode);
            if (traced && (cpu->hooked | cpu->in_hooked_code) && !before_instruction(cpu, insn))
                return;
            bool step = traced && (cpu->eflags & X86_FLAG_TF);
            cpu->debug_shadow = 0;
            if (traced && cpu->breakpoints_armed)
                check_instruction_breakpoint(cpu);
            if (traced && (cpu->eflags & X86_FLAG_RF))
                start_with_resume_flag(cpu);
            execute_one(cpu, insn);
            if (traced && cpu->breakpoints_armed)
                after_instruction_breakpoints(cpu, step);
            if (step)
                single_step_trap(cpu);
            if (cpu->rip != sequential)
                break;
            if (++insn == end || cpu->cycles >= cpu->cycle_limit || cpu->exit_request)
                break;
        }
    }
}

/* The fast loop: threaded dispatch with computed goto. The fast forms (fast_forms.def: the
 * hottest 32-bit moves, ALU forms, push/pop, jcc/jmp/call/ret, lea) run inline, from their
 * one definition in exec_fast.h; everything else through insn->exec. Each form ends in its own copy of the dispatch (NEXT), so the indirect
 * jumps are predicted per form; crossjumping would merge those copies again. Kept out of
 * x86_cpu_execute(): a function that calls setjmp keeps its locals in memory. */
__attribute__((noinline, optimize("no-crossjumping"))) static void execute_fast(struct x86_cpu *cpu)
{
    static const void *const forms[X86_FAST_COUNT] = {
        [X86_FAST_NONE] = &&call_handler,
#define FAST(NAME, name, mnemonic, shape) [X86_FAST_##NAME] = &&name,
#include "fast_forms.def"
#undef FAST
    };
    const struct x86_insn *insn, *end;
    uint64_t sequential;
    struct x86_block *previous = NULL;  /* the block just executed, for chaining */
    uint64_t previous_generation = 0;
    uint64_t ip_mask = 0xFFFFFFFFu;     /* 32-bit code wraps EIP at 4 GiB, 16-bit IP at 64 KiB */

#define SEQUENTIAL() \
    do { \
        sequential = (cpu->rip + insn->length) & ip_mask; \
        cpu->next_rip = sequential; \
    } while (0)
    /* retire the instruction; continue in the block while execution is sequential (the
     * retired count is added when the block is left) */
#define NEXT() \
    do { \
        cpu->rip = cpu->next_rip; \
        cpu->cycles += insn->cycles; \
        ++insn; \
        if (cpu->rip != sequential || insn == end || cpu->cycles >= cpu->cycle_limit) \
            goto leave_block; /* an exit request has set cycle_limit to 0 */ \
        SEQUENTIAL(); \
        goto *forms[insn->fast]; \
    } while (0)

next_block:
    while (cpu->cycles < cpu->cycle_limit && !cpu->exit_request) {
        struct x86_block *block = NULL;
        uint64_t rip = cpu->rip;
        uint32_t cs_base = (uint32_t)cpu->seg[X86_SEG_CS].base;
        if (previous) {
            /* chaining: where did the previous block go last time? */
            struct x86_block_link *l = previous->links;
            if (l[0].rip == rip && l[0].generation == cpu->generation &&
                l[0].cs_base == cs_base && l[0].block->mode == cpu->mode) {
                block = l[0].block;
            } else if (l[1].rip == rip && l[1].generation == cpu->generation &&
                       l[1].cs_base == cs_base && l[1].block->mode == cpu->mode) {
                block = l[1].block;
            } else {
                block = find_block(cpu);
                if (block && cpu->generation == previous_generation) {
                    l[1] = l[0];
                    l[0] = (struct x86_block_link){ rip, cs_base, cpu->generation, block };
                }
            }
        } else {
            block = find_block(cpu);
        }
        if (X86_UNLIKELY(cpu->code_ranges != NULL) && entry_hooked(cpu, block, rip)) {
            cpu->in_hooked_code = 1; /* the per-instruction loop runs it (the run loop) */
            return;
        }
        if (!block) {
            struct x86_insn single;
            previous = NULL;
            block_entry_watch(cpu, cpu->watch.probe_count && probed(cpu, x86_code_linear(cpu, rip)),
                              rip);
            x86_cpu_decode_uncached(cpu, &single);
            execute_one(cpu, &single);
            continue;
        }
        block_entry_watch(cpu, block->probe, rip);
        /* the previous block may be retired only when the generation changes: link from this
         * one only while the generation it was found in holds */
        previous = block;
        previous_generation = cpu->generation;
        insn = block->insns;
        end = insn + block->insn_count;
        ip_mask = x86_ip_mask(block->mode);
        cpu->current_block = block;
        cpu->current_block_rip = rip;
        SEQUENTIAL();
        goto *forms[insn->fast];
    }
    return;

leave_block:
    cpu->instructions += (uint64_t)(insn - cpu->current_block->insns);
    cpu->current_block = NULL;
    goto next_block;

call_handler:
    insn->exec(cpu, insn);
    NEXT();
    /* each fast form (fast_forms.def), inline, with its own copy of the dispatch */
#define FAST(NAME, name, mnemonic, shape) \
    name: \
    x86_fast_##name(cpu, insn); \
    NEXT();
#include "fast_forms.def"
#undef FAST
#undef SEQUENTIAL
#undef NEXT
}

__attribute__((noinline)) static void execute_traced(struct x86_cpu *cpu) { execute_loop(cpu, true); }

bool x86_cpu_event_deliverable(const struct x86_cpu *cpu)
{
    if (cpu->init_latched)
        return true;
    if (cpu->wait_for_sipi)
        return cpu->sipi_pending; /* NMI and INTR are held until the core starts */
    return (cpu->nmi_latched && !cpu->nmi_blocked) ||
           (cpu->intr_line && (cpu->eflags & X86_FLAG_IF));
}

/* The external events at an instruction boundary, in the SDM's priority order (Vol. 3 6.9,
 * Table 6-2). Traps of the previous instruction (single step) come first: they were raised
 * when it completed and are delivered already. Then NMI, then INTR; each delivery ends at the
 * boundary before the handler's first instruction, where the next event is considered (an NMI
 * handler entered through an interrupt gate has IF clear, so INTR waits). Faults of the next
 * instruction (fetch, decode) come last, when it executes. */
static void take_external_events(struct x86_cpu *cpu)
{
    if (cpu->init_latched) {
        /* INIT is an external hardware intervention: above traps, NMI and INTR (Table 6-2) */
        x86_cpu_init_signal(cpu);
        cpu->platform->init(cpu->platform->opaque, cpu);
        return;
    }
    if (cpu->wait_for_sipi) {
        if (cpu->sipi_pending)
            x86_cpu_startup(cpu, cpu->sipi_vector);
        return; /* waiting for SIPI: NMI and INTR stay pending (SDM Vol. 3 8.4.1) */
    }
    uint8_t shadow = cpu->interrupt_shadow;
    cpu->interrupt_shadow = 0;
    bool nmi_allowed = !(shadow & X86_SHADOW_MOV_SS);
    bool intr_allowed = shadow == 0;
    if (nmi_allowed && cpu->nmi_latched && !cpu->nmi_blocked) {
        /* SDM Vol. 3 6.7.1: further NMIs are blocked until the next IRET */
        cpu->nmi_latched = 0;
        cpu->nmi_blocked = 1;
        struct x86_fault nmi = { .vector = X86_VEC_NMI, .source = X86_EVENT_HARDWARE,
                                 .return_eip = cpu->rip };
        x86_trace_accept(cpu->trace, X86_VEC_NMI, X86_ACCEPT_NMI);
        x86_cpu_deliver(cpu, &nmi);
    }
    if (intr_allowed && cpu->intr_line && (cpu->eflags & X86_FLAG_IF)) {
        /* the INTA cycle: the interrupt controller (or the embedder) names the vector */
        int vector = cpu->platform->acknowledge(cpu->platform->opaque, cpu);
        if (vector >= 0 && vector <= 255) {
            struct x86_fault intr = { .vector = (uint8_t)vector, .source = X86_EVENT_HARDWARE,
                                      .return_eip = cpu->rip };
            x86_cpu_deliver(cpu, &intr);
        }
    }
    /* an event the shadow held back is taken after exactly one more instruction */
    if (shadow && x86_cpu_event_deliverable(cpu) && cpu->cycles + 1 < cpu->cycle_limit)
        cpu->cycle_limit = cpu->cycles + 1;
}

void x86_cpu_execute(struct x86_cpu *cpu)
{
    if (setjmp(cpu->fault_jump) != 0) {
        /* an exception unwound here: state is as before the faulting instruction (faults) or
         * after it (traps); deliver it. A fault during delivery unwinds here again. */
        if (cpu->current_block) {
            /* the fast loop counts a block's instructions when it leaves it: count those
             * before the one that raised the exception */
            const struct x86_block *b = cpu->current_block;
            uint64_t at = cpu->current_block_rip, mask = x86_ip_mask(b->mode);
            unsigned before = 0;
            while (before < b->insn_count && at != cpu->rip)
                at = (at + b->insns[before++].length) & mask;
            /* RIP is no instruction of the block: the one that raised the exception had moved
             * it first (a task switch faulting after its commit point, SDM Vol. 3 7.3). Only a
             * control transfer does, and it ends its block: the last one. Not counted, as the
             * per-instruction loop does not count an instruction that raised an exception
             * (found by fuzz_machine: the two loops gave 3 and 2). */
            if (at != cpu->rip)
                before = b->insn_count - 1;
            cpu->instructions += before;
            cpu->current_block = NULL;
        }
        struct x86_fault f = cpu->fault;
        x86_cpu_deliver(cpu, &f);
        /* and go on executing, from the handler (a fault in there unwinds here again) */
    }
    for (;;) {
        /* the slice may end here without an instruction: deliveries alone can use it (an
         * interrupt whose delivery faults at every boundary, found by fuzz_devices) */
        if (X86_UNLIKELY(cpu->cycles >= cpu->slice_end))
            return;
        /* the boundary before the next instruction: external events (a fault while delivering
         * one unwinds to the setjmp above and comes back here) */
        if (X86_UNLIKELY(cpu->interrupt_shadow | cpu->nmi_latched | cpu->intr_line |
                         cpu->init_latched | cpu->wait_for_sipi))
            take_external_events(cpu);
        cpu->string_interrupted = 0; /* the rep string resumes from here */
        if (cpu->halted)
            return; /* nothing woke the core */
        if (X86_UNLIKELY(cpu->trace->handler_pending[cpu->index])) {
            cpu->trace->handler_pending[cpu->index] = false;
            x86_trace_handler(cpu->trace);
        }
        /* single-stepping (EFLAGS.TF), hooks and breakpoints need the per-instruction loop
         * (which also clears a set RF as the next instruction starts); a change of TF or a newly
         * set RF requests an exit, so the loop is chosen again */
        bool per_instruction = cpu->hooked || (cpu->eflags & X86_FLAG_TF) ||
                               cpu->breakpoints_armed || cpu->in_hooked_code;
        if (!per_instruction && (cpu->eflags & X86_FLAG_RF))
            cpu->eflags &= ~X86_FLAG_RF; /* no breakpoint check to skip: the next instruction
                                          * would clear it as it starts, before anything reads it */
        if (per_instruction)
            execute_traced(cpu);
        else
            execute_fast(cpu);
        /* An exit request that only changed the core's state (IF, a pin, the mode, a store
         * into the executing block) goes on here, without leaving the slice: the machine's
         * loop is needed for due events, stops and HLT only. */
        if (cpu->cycles >= cpu->slice_end || cpu->halted || cpu->shutdown || cpu->stop_pending)
            return;
        cpu->exit_request = 0;
        cpu->cycle_limit = cpu->slice_end;
        x86_code_cache_collect(cpu->code); /* no block is executing here */
    }
}

bool x86_cpu_step(struct x86_cpu *cpu, struct x86_fault *raised)
{
    if (setjmp(cpu->fault_jump) != 0) {
        if (raised)
            *raised = cpu->fault;
        return false;
    }
    struct x86_insn insn;
    x86_cpu_decode_uncached(cpu, &insn);
    execute_one(cpu, &insn);
    return true;
}
