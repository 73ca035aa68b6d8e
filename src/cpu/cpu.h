/* The core: architectural state and the services instruction handlers use.
 *
 * Ownership inside src/cpu:
 *   decode.c, opcodes.def      decoder (pure)
 *   exec_*.c, flags.c          instruction handlers and EFLAGS (lazy arithmetic flags)
 *   mmu.c                      segment checks, linear -> physical, software TLB, memory access
 *   segment.c, control.c       segment register loads, control registers, mode changes
 *   run.c, predecode.c         the run loop, the decoded-block cache, self-modifying code
 * Faults are raised with x86_raise(), which unwinds to the run loop (longjmp): handlers read and
 * check everything that can fault before they commit any architectural state, so a fault
 * leaves the machine as it was before the instruction (SDM Vol. 3 6.5, precise faults).
 */
#ifndef X86IRQ_CPU_CPU_H
#define X86IRQ_CPU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "insn.h"
#include "x86irq/x86irq.h"
#include "cpu/platform.h"

struct x86_bus;
struct x86_code_cache;
struct x86_jump_entry;
struct x86_gate_cache;
struct x86_trace;
struct x86_platform;

#if defined(__GNUC__)
#define X86_LIKELY(x) __builtin_expect(!!(x), 1)
#define X86_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define X86_NORETURN __attribute__((noreturn))
#define X86_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define X86_LIKELY(x) (x)
#define X86_UNLIKELY(x) (x)
#define X86_NORETURN _Noreturn
#define X86_ALWAYS_INLINE inline
#endif

/* The general-purpose registers RAX..R15 (SDM Vol. 1 3.4.1.1): the first eight by their
 * legacy names; R8-R15 exist in the register file but only 64-bit code can name them. */
enum x86_gpr {
    X86_EAX = 0, X86_ECX, X86_EDX, X86_EBX, X86_ESP, X86_EBP, X86_ESI, X86_EDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};
#define X86_GPR_COUNT 16

/* EFLAGS bits (SDM Vol. 1 3.4.3) */
#define X86_FLAG_CF   0x00000001u
#define X86_FLAG_FIXED1 0x00000002u /* bit 1 always reads 1 */
#define X86_FLAG_PF   0x00000004u
#define X86_FLAG_AF   0x00000010u
#define X86_FLAG_ZF   0x00000040u
#define X86_FLAG_SF   0x00000080u
#define X86_FLAG_TF   0x00000100u
#define X86_FLAG_IF   0x00000200u
#define X86_FLAG_DF   0x00000400u
#define X86_FLAG_OF   0x00000800u
#define X86_FLAG_IOPL 0x00003000u
#define X86_FLAG_NT   0x00004000u
#define X86_FLAG_RF   0x00010000u
#define X86_FLAG_VM   0x00020000u
#define X86_FLAG_AC   0x00040000u
#define X86_FLAG_VIF  0x00080000u
#define X86_FLAG_VIP  0x00100000u
#define X86_FLAG_ID   0x00200000u
#define X86_FLAGS_ARITH (X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF | X86_FLAG_OF)

/* CR0 / CR4 bits */
#define X86_CR0_PE 0x00000001u
#define X86_CR0_MP 0x00000002u
#define X86_CR0_EM 0x00000004u
#define X86_CR0_TS 0x00000008u
#define X86_CR0_ET 0x00000010u
#define X86_CR0_NE 0x00000020u
#define X86_CR0_WP 0x00010000u
#define X86_CR0_AM 0x00040000u
#define X86_CR0_NW 0x20000000u
#define X86_CR0_CD 0x40000000u
#define X86_CR0_PG 0x80000000u
#define X86_CR4_VME 0x0001u
#define X86_CR4_PVI 0x0002u
#define X86_CR4_TSD 0x0004u
#define X86_CR4_DE  0x0008u
#define X86_CR4_PSE 0x0010u
#define X86_CR4_PAE 0x0020u
#define X86_CR4_PGE 0x0080u
#define X86_CR4_OSFXSR 0x0200u
#define X86_CR4_OSXMMEXCPT 0x0400u
#define X86_CR4_OSXSAVE 0x00040000u /* XSAVE and XCR0 enabled (only when XSAVE is offered) */
#define X86_CR4_SMEP 0x00100000u
#define X86_CR4_SMAP 0x00200000u
/* IA32_EFER (SDM Vol. 3 2.2.1): SYSCALL enable, IA-32e enable and active, execute-disable */
#define X86_EFER_SCE 0x0001u
#define X86_EFER_LME 0x0100u
#define X86_EFER_LMA 0x0400u
#define X86_EFER_NXE 0x0800u
#define X86_CR4_PCIDE 0x00020000u
#define X86_CR4_FSGSBASE 0x00010000u

/* interrupt_shadow: STI blocks INTR for one instruction; MOV SS / POP SS block INTR and NMI
 * (SDM Vol. 2 STI, MOV; Vol. 3 6.8.3) */
#define X86_SHADOW_STI 1u
#define X86_SHADOW_MOV_SS 2u

/* DR6 status bits (SDM Vol. 3 17.2.3) */
#define X86_DR6_BS 0x00004000u  /* single step */
#define X86_DR6_BD 0x00002000u  /* a debug register access with DR7.GD set */
#define X86_DR7_GD 0x00002000u

/* Exception vectors (SDM Vol. 3 6.3.1) */
enum x86_vector {
    X86_VEC_DE = 0, X86_VEC_DB = 1, X86_VEC_NMI = 2, X86_VEC_BP = 3, X86_VEC_OF = 4,
    X86_VEC_BR = 5, X86_VEC_UD = 6, X86_VEC_NM = 7, X86_VEC_DF = 8, X86_VEC_TS = 10,
    X86_VEC_NP = 11, X86_VEC_SS = 12, X86_VEC_GP = 13, X86_VEC_PF = 14, X86_VEC_MF = 16,
    X86_VEC_AC = 17, X86_VEC_MC = 18, X86_VEC_XM = 19,
};

/* A segment register with its hidden descriptor cache (SDM Vol. 3 3.4.3). */
struct x86_segment {
    uint64_t base;        /* 64 bits for FS and GS in 64-bit mode; elsewhere bits 31:0 count */
    uint32_t limit;       /* effective byte limit (granularity applied) */
    uint16_t selector;
    uint16_t attributes;  /* descriptor bits 40-47 in 0-7 (type, S, DPL, P) and 52-55 in 8-11
                             (AVL, L, D/B, G) */
    /* Fast-path checks, derived from the above by x86_segment_refresh(): an access of size s
     * at offset o takes the fast path when o <= read_limit - (s-1) (or write_limit); anything
     * else (expand-down, not readable/writable, unusable, wrap) goes to the checked slow path. */
    uint32_t read_limit;
    uint32_t write_limit;
    uint8_t fast_read;
    uint8_t fast_write;
};

/* descriptor attribute bits as kept in x86_segment.attributes */
#define X86_SEG_ATTR_TYPE   0x000Fu
#define X86_SEG_ATTR_S      0x0010u   /* code/data (1) vs system (0) */
#define X86_SEG_ATTR_DPL    0x0060u
#define X86_SEG_ATTR_P      0x0080u
#define X86_SEG_ATTR_AVL    0x0100u
#define X86_SEG_ATTR_L      0x0200u
#define X86_SEG_ATTR_DB     0x0400u
#define X86_SEG_ATTR_G      0x0800u
#define X86_SEG_ATTR_UNUSABLE 0x8000u /* a null selector was loaded (protected mode) */

/* Software TLB: linear page -> host pointer. Tags are page-aligned linear addresses; an
 * invalid entry holds X86_TLB_INVALID (never page-aligned, so it never matches). A page that
 * holds decoded code keeps its read tag but not its write tag, so stores to it take the slow
 * path, which invalidates only the decoded instructions the store touches. */
#define X86_TLB_BITS 8
#define X86_TLB_ENTRIES (1u << X86_TLB_BITS)
#define X86_TLB_INVALID 1u
struct x86_tlb_entry {
    uint64_t read_tag;
    uint64_t write_tag;
    /* stores may go to this page, but each is checked against decoded code and watched table
     * bytes (the page holds some): the slow path skips the walk, not the check */
    uint64_t checked_write_tag;
    uintptr_t host_minus_linear; /* host address = this + linear */
    uint32_t physical_page;
    uint8_t global;              /* a global page (G with CR4.PGE): kept across CR3 writes */
    uint8_t no_execute;          /* XD with EFER.NXE: fetches must walk and fault */
};

/* The lazy arithmetic flags: the last flag-setting operation's inputs and result; the six
 * arithmetic flags are computed from them only when read (flags.c owns the encoding). */
struct x86_lazy_flags {
    uint64_t result;  /* 64-bit for 64-bit operands; 8-, 16- and 32-bit ones zero-extended */
    uint64_t src1;
    uint64_t src2;
    uint32_t aux;     /* operation-specific (carry-in, shift count, ...) */
    uint8_t op;       /* flags.c's operation code; 0 = flags are in cpu->eflags as they are */
    uint8_t size;     /* operand size in bytes */
};

/* An event raised inside an instruction (x86_raise, x86_software_interrupt), carried to the
 * run loop, which delivers it. */
struct x86_fault {
    uint8_t vector;
    uint8_t has_error_code;
    uint8_t source;         /* enum x86_event_source (src/idt/idt.h) */
    uint32_t error_code;
    uint64_t return_eip;    /* the faulting instruction's RIP (faults) or the next one's (traps) */
    uint8_t resume_flag;    /* a fault-class exception: RF = 1 in the frame (SDM Vol. 3 17.3.1.1) */
};

#define X86_EVENT_CHAIN_MAX 8
#define X86_TABLE_WATCH_MAX 16

struct x86_cost_profile;
struct x86_block;

/* The x87 FPU's state (x87.c): physical registers R0-R7, TOP in the status word */
struct x86_fpu {
    long double st[8];
    uint16_t control, status, tag;
    /* this instruction so far (cleared as each starts): */
    uint8_t stack_fault;   /* it read an empty register: its results are indefinite */
    uint8_t denormal_load; /* a denormal m32/m64 operand: DE, unless a higher exception wins */
    uint8_t nan_operand;   /* an operand was a NaN: no denormal exception then */
};

/* The SSE state (SDM Vol. 1 10.2): XMM0-XMM15 (8 outside 64-bit mode) and MXCSR; power-up
 * +0.0 and 0x1F80, INIT leaves both (Vol. 3 Table 9-1). Elements are little-endian lanes. */
union x86_xmm {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    float s[4];
    double d64[2];
};
struct x86_sse {
    union x86_xmm xmm[16];
    uint32_t mxcsr;
};
#define X86_MXCSR_RESET 0x1F80u
/* MXCSR's writable bits: flags 5:0, DAZ (6), masks 12:7, RC 14:13, FZ (15); the rest #GP on
 * LDMXCSR/FXRSTOR (MXCSR_MASK in the FXSAVE image) */
#define X86_MXCSR_MASK 0xFFFFu
/* XSAVE (SDM Vol. 1 ch. 13): the XCR0 bits offered (x87, SSE; AVX and later are not), and the
 * area's size for them: the 512-byte legacy region and the 64-byte XSAVE header */
#define X86_XCR0_X87 1u
#define X86_XCR0_SSE 2u
#define X86_XCR0_SUPPORTED (X86_XCR0_X87 | X86_XCR0_SSE)
#define X86_XSAVE_AREA_SIZE 576u

/* The SIMD extensions the processor offers (cpu->simd): CPUID reports exactly these, and an
 * instruction of one it does not offer is #UD. The machine's config.isa chooses them
 * (X86IRQ_ISA_DEFAULT: the families implemented completely; docs/isa.md, "SSE"). */
enum x86_simd_feature {
    X86_SIMD_SSE = 1u << 0,
    X86_SIMD_SSE2 = 1u << 1,
    X86_SIMD_SSE3 = 1u << 2,
    X86_SIMD_SSSE3 = 1u << 3,
    X86_SIMD_SSE41 = 1u << 4,
    X86_SIMD_SSE42 = 1u << 5,
    X86_SIMD_XSAVE = 1u << 6,
};
/* the same bits as the public X86IRQ_ISA_* (machine.c checks it) */
#define X86_SIMD_ALL 0x7Fu
/* CPUID.1's bits for them: EDX 25 SSE, 26 SSE2; ECX 0 SSE3, 9 SSSE3, 19 SSE4.1, 20 SSE4.2 */
static inline uint32_t x86_cpuid_simd_edx(uint32_t simd)
{
    return (simd & X86_SIMD_SSE ? 1u << 25 : 0) | (simd & X86_SIMD_SSE2 ? 1u << 26 : 0);
}
static inline uint32_t x86_cpuid_simd_ecx(uint32_t simd)
{
    return (simd & X86_SIMD_SSE3 ? 1u << 0 : 0) | (simd & X86_SIMD_SSSE3 ? 1u << 9 : 0) |
           (simd & X86_SIMD_SSE41 ? 1u << 19 : 0) | (simd & X86_SIMD_SSE42 ? 1u << 20 : 0) |
           (simd & X86_SIMD_SSE42 ? 1u << 23 : 0); /* POPCNT comes with SSE4.2 */
}

/* MSRs kept as storage (msr.c); INIT leaves them as they are (SDM Vol. 3 Table 9-1) */
struct x86_msrs {
    uint64_t tsc_adjust;        /* IA32_TSC_ADJUST */
    uint64_t misc_enable;       /* IA32_MISC_ENABLE */
    uint64_t mtrr_def_type;     /* IA32_MTRR_DEF_TYPE */
    uint64_t mtrr_fixed[11];    /* FIX64K_00000, FIX16K_80000/A0000, FIX4K_C0000..F8000 */
    uint64_t mtrr_variable[16]; /* PHYSBASE0, PHYSMASK0, ... PHYSMASK7 */
    uint64_t pat;               /* IA32_PAT */
    uint64_t tsc_aux;           /* IA32_TSC_AUX: RDTSCP's ECX */
    /* SYSCALL/SYSRET (SDM Vol. 3 5.8.8): IA32_STAR, IA32_LSTAR, IA32_CSTAR, IA32_FMASK */
    uint64_t star, lstar, cstar, fmask;
    uint64_t kernel_gs_base;    /* IA32_KERNEL_GS_BASE: what SWAPGS exchanges with GS's base */
    uint32_t core_ratio;        /* MSR_PLATFORM_INFO's ratio: core clock / 100 MHz */
};
/* IA32_BIOS_SIGN_ID's microcode revision (there is no microcode to update) */
#define X86_MICROCODE_REVISION 1u

struct x86_cpu {
    /* hot state first */
    /* The register file is 64-bit (docs/architecture.md): RAX..R15 and RIP. 16- and 32-bit
     * code reads the low halves (x86_gpr32, x86_eip); a 32-bit write zero-extends into bits
     * 63:32 and an 8- or 16-bit write keeps the bits above it (docs/isa.md, SDM Vol. 1
     * 3.4.1.1), so outside 64-bit mode the upper halves stay zero and are never seen. */
    uint64_t gpr[X86_GPR_COUNT];
    uint64_t rip;           /* the executing instruction's RIP until it completes */
    uint64_t next_rip;      /* RIP of the next instruction; branches write here */
    uint32_t eflags;        /* all of EFLAGS except the arithmetic flags while lazy.op != 0 */
    struct x86_lazy_flags lazy;
    uint64_t cycles;        /* the cycle counter (RDTSC) */
    uint64_t cycle_limit;   /* leave the fast path when cycles reach this */
    uint64_t slice_end;     /* the cycle the machine's slice ends at (next event, budget) */
    uint64_t instructions;  /* retired instructions */
    volatile uint32_t exit_request; /* non-zero: leave the fast path at the next boundary */

    struct x86_segment seg[X86_SEG_COUNT];
    struct x86_segment ldtr;
    struct x86_segment tr;
    struct { uint64_t base; uint32_t limit; } gdtr, idtr;
    uint32_t cr0, cr4;
    uint64_t cr2, cr3;      /* 64-bit: a long-mode fault address, a 4-level table base */
    uint64_t dr[8];         /* DR0-DR3 hold linear addresses (64-bit in IA-32e mode) */
    uint64_t efer;
    uint64_t sysenter[3];   /* IA32_SYSENTER_CS, _ESP, _EIP (MSRs 0x174-0x176) */
    uint64_t pdpte[4];      /* PAE: the page-directory-pointer entries loaded with CR3 */
    uint64_t tsc_offset;    /* IA32_TIME_STAMP_COUNTER writes: TSC = cycles + offset */
    struct x86_msrs msr;    /* the MSRs that are plain storage (msr.c) */
    uint8_t cpl;
    uint8_t mode;           /* enum x86_mode of the code segment (decode default) */
    uint8_t halted;
    uint8_t interrupt_shadow; /* X86_SHADOW_*: events blocked until after the next instruction */
    uint8_t debug_shadow;   /* MOV SS / POP SS: debug traps wait one instruction (SDM Vol. 3 6.8.3) */
    uint8_t string_interrupted; /* a rep string stopped between iterations for this boundary */
    uint8_t frame_resume_flag;  /* RF in the EFLAGS image of the event being delivered */
    uint8_t event_ext;      /* delivering an external event: error codes get EXT (bit 0) */
    uint8_t delivering;     /* an event is being delivered (double-fault detection) */
    uint8_t delivering_vector;
    uint8_t delivering_benign; /* the event being delivered counts as benign (int n, INTR) */
    uint8_t shutdown;       /* triple fault: the core stopped */
    /* the pins (SDM Vol. 3 6.3.1, 6.7.1): INTR is a level sampled at instruction boundaries
     * when IF = 1; NMI is an edge, latched once while an NMI handler runs (blocked until the
     * next IRET) */
    uint8_t intr_line;
    uint8_t nmi_latched;
    uint8_t nmi_blocked;
    uint8_t init_latched;   /* INIT pending: taken first at the next boundary */
    /* Wait-for-SIPI (SDM Vol. 3 8.4.1): an AP after INIT sleeps (halted is set too) and only
     * INIT or a start-up IPI ends it: NMI and INTR are held. sipi_pending: a SIPI with
     * sipi_vector arrived; the core starts at the next boundary (x86_cpu_startup). */
    uint8_t wait_for_sipi;
    uint8_t sipi_pending;
    uint8_t sipi_vector;
    uint8_t last_gate_type; /* the gate the last delivery went through (0: real-mode IVT) */
    uint8_t alignment_check; /* CR0.AM, EFLAGS.AC and CPL 3: data accesses are checked (#AC) */
    uint8_t breakpoints_armed;  /* a DR7 enable is set: the per-instruction loop runs */
    /* data accesses are checked: bit 0, a DR7 data or I/O breakpoint is enabled; bit 1, the
     * platform watches data accesses (a debugger's watchpoints, platform.h) */
    uint8_t data_breakpoints;
    uint8_t pending_breakpoints; /* B0-B3 hit by data accesses of the current instruction */
    /* the events of the delivery in progress (the first, those raised while delivering it,
     * a generated #DF), oldest first: what a triple fault reports */
    uint8_t event_chain_length;
    struct x86_chain_entry {
        uint64_t cycle;
        struct x86_fault event;
        uint16_t cs;
        uint8_t generated; /* a #DF the processor made of two faults */
    } event_chain[X86_EVENT_CHAIN_MAX];

    /* Two TLBs: one filled and used at CPL 3, one at CPL 0-2 (a supervisor fill may allow
     * what a user access may not). tlb points at the current privilege's, so a ring change
     * switches TLBs instead of emptying one; flushes and invalidations cover both. */
    struct x86_tlb_entry tlb_sets[2 * X86_TLB_ENTRIES];
    struct x86_tlb_entry *tlb;
    uint8_t walk_global;   /* the last page walk ended in a global entry (for the TLB fill) */
    uint8_t walk_user;     /* the last page walk allowed user access (U/S at every level) */
    uint8_t walk_no_execute; /* the last page walk found the page execute-disabled */
    /* the user-access-in-irq rule is watching: an interrupt is in service and the rule is on;
     * user pages are then not cached in the TLB, so each supervisor access to one is seen */
    uint8_t irq_user_watch;
    uint8_t irq_user_reported;
    struct x86_fpu fpu;
    struct x86_sse sse;
    uint32_t simd;         /* enum x86_simd_feature: the SIMD extensions offered */
    /* XCR0, the state components XSAVE manages (SDM Vol. 1 13.3): bit 0 x87 (always set), bit 1
     * SSE; 1 at power-up and reset, unchanged by INIT (Vol. 3 Table 9-1) */
    uint64_t xcr0;

    /* Decoded descriptor-table state (the IDT gate cache of src/idt) is valid while its epoch
     * equals table_epoch. The epoch moves on LGDT/LIDT/LLDT, a change of paging, a task switch,
     * and a store into a watched physical range: the bytes the decoded state was read from. */
    uint32_t table_epoch;
    uint32_t table_watch_count;
    struct { uint32_t start, end; } table_watch[X86_TABLE_WATCH_MAX]; /* physical [start, end) */

    /* the fast loop's block in progress: instructions retired in it are counted when it is
     * left, or from here when an exception unwinds out of it */
    const struct x86_block *current_block;
    uint64_t current_block_rip;

    /* fault unwinding */
    jmp_buf fault_jump;
    struct x86_fault fault;

    uint64_t iret_sequential; /* the RIP after the IRET being executed (for the trace) */

    /* Code watch (run.c): a callback at block entries for the trace's phase and thread-switch
     * symbols. A probed address always starts a decoded block (block->probe is set then);
     * the innermost phase function's return is watched by its address. Addresses are 64-bit:
     * a 64-bit kernel's functions are at 0xffffffff81000000 and up. */
    struct x86_code_watch {
        const uint64_t *probes;   /* sorted linear addresses; NULL when none */
        uint32_t probe_count;
        uint64_t return_eip;      /* RIP (EIP outside 64-bit mode) */
        uint8_t return_armed;     /* report a block entry at return_eip */
        void (*fn)(void *opaque, uint64_t linear, bool probe);
        void *opaque;
    } watch;

    const uint16_t *cost;   /* cycles per enum x86_cost_class (the machine's profile) */

    /* Outside the core (the board fills these in; a reset keeps them). The core reaches the
     * machine through them only: src/cpu never includes the board's headers. */
    struct x86_bus *bus;              /* RAM, ports, MMIO */
    uint64_t *clock;                  /* the machine's "now" for devices: the core publishes
                                         its cycles there before a port or MMIO access */
    struct x86_code_cache *code;      /* decoded blocks, shared by the machine's cores */
    struct x86_jump_entry *jump_cache; /* X86_JUMP_CACHE_SIZE entries: this core's own */
    struct x86_gate_cache *gates;     /* this core's IDT dispatch table (src/idt) */
    struct x86_trace *trace;
    const struct x86_platform *platform;
    unsigned index;                   /* the core's number (its APIC ID) */
    unsigned code_slot;               /* its place in code->cores (a bit of table_watchers) */
    /* jump-cache entries and block links made under another generation are stale: renewed on
     * TLB flushes, CPL and CS-limit changes (this core's translations) and when decoded blocks
     * go (every core's) */
    uint64_t generation;
    uint32_t jump_cs_limit;           /* the CS limit this generation's jump entries assume */
    uint8_t hooked;                   /* the platform sees every instruction (per-instruction loop) */
    uint8_t stop_pending;             /* the machine stops: leave at the next boundary */
    /* Code the platform hooks by range (instruction and fetch hooks): a block that overlaps
     * one runs in the per-instruction loop (in_hooked_code), the others in the fast loop.
     * NULL: none. */
    const struct x86_code_ranges *code_ranges;
    uint8_t in_hooked_code;
    uint8_t port_hooked;              /* the platform sees every port access (platform.h) */
};

struct x86_code_ranges {
    size_t count;
    struct x86_code_range {
        uint64_t first, last;         /* inclusive */
        uint8_t physical;             /* physical addresses (else linear) */
    } range[];
};

/* ---------------------------------------------------------------- registers */

/* 32- and 16-bit views of the register file and the instruction pointer, for code outside
 * 64-bit mode: reads take the low half; a 32-bit write zero-extends (as in 64-bit mode, SDM
 * Vol. 1 3.4.1.1), a 16-bit write keeps bits 63:16. */
static X86_ALWAYS_INLINE uint32_t x86_gpr32(const struct x86_cpu *cpu, unsigned reg)
{
    return (uint32_t)cpu->gpr[reg];
}
static X86_ALWAYS_INLINE void x86_set_gpr32(struct x86_cpu *cpu, unsigned reg, uint32_t value)
{
    cpu->gpr[reg] = value;
}
static X86_ALWAYS_INLINE uint16_t x86_gpr16(const struct x86_cpu *cpu, unsigned reg)
{
    return (uint16_t)cpu->gpr[reg];
}
static X86_ALWAYS_INLINE void x86_set_gpr16(struct x86_cpu *cpu, unsigned reg, uint32_t value)
{
    cpu->gpr[reg] = (cpu->gpr[reg] & ~(uint64_t)0xFFFF) | (value & 0xFFFF);
}
/* EIP and the next instruction's EIP: outside 64-bit mode RIP's upper half is zero */
static X86_ALWAYS_INLINE uint32_t x86_eip(const struct x86_cpu *cpu)
{
    return (uint32_t)cpu->rip;
}
static X86_ALWAYS_INLINE uint32_t x86_next_eip(const struct x86_cpu *cpu)
{
    return (uint32_t)cpu->next_rip;
}

/* The linear address of instruction pointer ip in the present code segment: RIP itself in
 * 64-bit mode (CS's base is 0 there), else CS.base + EIP, wrapping at 4 GiB */
static X86_ALWAYS_INLINE uint64_t x86_code_linear(const struct x86_cpu *cpu, uint64_t ip)
{
    if (cpu->mode == 2 /* X86_MODE_64 */)
        return ip;
    return (uint32_t)(cpu->seg[X86_SEG_CS].base + (uint32_t)ip);
}

/* The instruction pointer wraps by the code's size: IP at 64 KiB in 16-bit code, EIP at
 * 4 GiB in 32-bit code; RIP is 64 bits in 64-bit mode. RIP + length is masked with this. */
static X86_ALWAYS_INLINE uint64_t x86_ip_mask(unsigned mode)
{
    static const uint64_t masks[3] = { 0xFFFFu, 0xFFFFFFFFu, ~(uint64_t)0 };
    return masks[mode];
}

/* A canonical 48-bit linear address: bits 63:47 all equal (SDM Vol. 1 3.3.7.1) */
static X86_ALWAYS_INLINE bool x86_canonical(uint64_t address)
{
    return (uint64_t)((int64_t)(address << 16) >> 16) == address;
}

/* Byte registers without REX: 0-3 = AL CL DL BL, 4-7 = AH CH DH BH. */
static X86_ALWAYS_INLINE uint32_t x86_reg_get(const struct x86_cpu *cpu, unsigned reg,
                                              unsigned size)
{
    switch (size) {
    case 1:
        return reg < 4 ? (uint32_t)(cpu->gpr[reg] & 0xFF)
                       : (uint32_t)((cpu->gpr[reg - 4] >> 8) & 0xFF);
    case 2:
        return (uint32_t)(cpu->gpr[reg] & 0xFFFF);
    default:
        return (uint32_t)cpu->gpr[reg];
    }
}

/* Size 4 zero-extends into bits 63:32; sizes 1 and 2 keep every other bit. */
static X86_ALWAYS_INLINE void x86_reg_set(struct x86_cpu *cpu, unsigned reg, unsigned size,
                                          uint32_t value)
{
    switch (size) {
    case 1:
        if (reg < 4)
            cpu->gpr[reg] = (cpu->gpr[reg] & ~(uint64_t)0xFF) | (value & 0xFF);
        else
            cpu->gpr[reg - 4] = (cpu->gpr[reg - 4] & ~(uint64_t)0xFF00) | ((value & 0xFF) << 8);
        break;
    case 2:
        x86_set_gpr16(cpu, reg, value);
        break;
    default:
        x86_set_gpr32(cpu, reg, value);
        break;
    }
}

/* Effective address (offset within insn->seg) of a ModRM memory operand. */
static X86_ALWAYS_INLINE uint32_t x86_effective_address(const struct x86_cpu *cpu,
                                                        const struct x86_insn *insn)
{
    uint32_t ea = (uint32_t)insn->disp;
    if (insn->base != X86_REG_NONE)
        ea += x86_gpr32(cpu, insn->base);
    if (insn->index != X86_REG_NONE)
        ea += x86_gpr32(cpu, insn->index) << insn->scale;
    if (insn->addrsize == 2)
        ea &= 0xFFFF;
    return ea;
}

/* ---------------------------------------------------------------- faults */

/* Raise an exception detected while executing the current instruction: unwinds to the run
 * loop, which delivers it with the saved EIP of the instruction (faults) or the next
 * instruction (traps, see x86_raise_trap). error_code is used only for vectors that push one. */
X86_NORETURN void x86_raise(struct x86_cpu *cpu, uint8_t vector, uint32_t error_code);
/* #DB as a fault-class exception that is not an instruction breakpoint (DR7.GD): RF = 1 in the
 * frame, as for every other fault. */
X86_NORETURN void x86_raise_debug_fault(struct x86_cpu *cpu);
static inline X86_NORETURN void x86_raise_gp0(struct x86_cpu *cpu) { x86_raise(cpu, X86_VEC_GP, 0); }
static inline X86_NORETURN void x86_raise_ud(struct x86_cpu *cpu) { x86_raise(cpu, X86_VEC_UD, 0); }

/* A software interrupt (int n, int3, into, int1): delivered as a trap, return address
 * next_eip. kind: enum x86_event_source (src/idt). Does not return. */
X86_NORETURN void x86_software_interrupt(struct x86_cpu *cpu, uint8_t vector, int kind);

/* IRET with the instruction's operand size (src/idt). Writes next_eip. */
void x86_iret(struct x86_cpu *cpu, unsigned opsize);

/* ---------------------------------------------------------------- memory (mmu.c) */

enum x86_access { X86_ACCESS_READ = 0, X86_ACCESS_WRITE = 1, X86_ACCESS_EXECUTE = 2 };
/* or'ed into the access for x86_translate: an implicit supervisor-mode access (descriptor
 * tables, the TSS: SDM Vol. 3 4.6), which SMAP checks whatever EFLAGS.AC says */
#define X86_ACCESS_IMPLICIT 4u

/* Slow paths: full segment checks, page walk, MMIO, code-write tracking. */
uint64_t x86_linear_slow(struct x86_cpu *cpu, unsigned seg, uint32_t offset, unsigned size,
                         enum x86_access access);
uint64_t x86_read_slow(struct x86_cpu *cpu, uint64_t linear, unsigned size);
void x86_write_slow(struct x86_cpu *cpu, uint64_t linear, unsigned size, uint64_t value);
void x86_tlb_flush(struct x86_cpu *cpu);
/* A CR3 load: every entry but the global pages' (SDM Vol. 3 4.10.4.1) */
void x86_tlb_flush_non_global(struct x86_cpu *cpu);

/* segment:offset -> linear address, with the segment's limit and type checks, outside 64-bit
 * mode: the address wraps at 4 GiB (only bits 31:0 of a base count there) */
static X86_ALWAYS_INLINE uint64_t x86_linear(struct x86_cpu *cpu, unsigned seg, uint32_t offset,
                                             unsigned size, enum x86_access access)
{
    const struct x86_segment *s = &cpu->seg[seg];
    if (access == X86_ACCESS_WRITE) {
        if (X86_LIKELY(s->fast_write && offset <= s->write_limit - (size - 1) &&
                       s->write_limit >= size - 1))
            return (uint32_t)(s->base + offset);
    } else {
        if (X86_LIKELY(s->fast_read && offset <= s->read_limit - (size - 1) &&
                       s->read_limit >= size - 1))
            return (uint32_t)(s->base + offset);
    }
    return x86_linear_slow(cpu, seg, offset, size, access);
}

static X86_ALWAYS_INLINE uint64_t x86_read_linear(struct x86_cpu *cpu, uint64_t linear,
                                                  unsigned size)
{
    const struct x86_tlb_entry *e = &cpu->tlb[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    if (X86_LIKELY(e->read_tag == (linear & ~(uint64_t)0xFFF) && (linear & 0xFFF) <= 0x1000 - size)) {
        const uint8_t *p = (const uint8_t *)(e->host_minus_linear + linear);
        switch (size) {
        case 1: return *p;
        case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
        case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
        default: { uint64_t v; memcpy(&v, p, 8); return v; }
        }
    }
    return x86_read_slow(cpu, linear, size);
}

static X86_ALWAYS_INLINE void x86_write_linear(struct x86_cpu *cpu, uint64_t linear,
                                               unsigned size, uint64_t value)
{
    const struct x86_tlb_entry *e = &cpu->tlb[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    if (X86_LIKELY(e->write_tag == (linear & ~(uint64_t)0xFFF) && (linear & 0xFFF) <= 0x1000 - size)) {
        uint8_t *p = (uint8_t *)(e->host_minus_linear + linear);
        switch (size) {
        case 1: *p = (uint8_t)value; return;
        case 2: { uint16_t v = (uint16_t)value; memcpy(p, &v, 2); return; }
        case 4: { uint32_t v = (uint32_t)value; memcpy(p, &v, 4); return; }
        default: memcpy(p, &value, 8); return;
        }
    }
    x86_write_slow(cpu, linear, size, value);
}

/* The accessors handlers use: segment register + offset, size 1, 2, 4 or 8 bytes. */
static X86_ALWAYS_INLINE uint32_t x86_read(struct x86_cpu *cpu, unsigned seg, uint32_t offset,
                                           unsigned size)
{
    return (uint32_t)x86_read_linear(cpu, x86_linear(cpu, seg, offset, size, X86_ACCESS_READ), size);
}
static X86_ALWAYS_INLINE uint64_t x86_read64(struct x86_cpu *cpu, unsigned seg, uint32_t offset)
{
    return x86_read_linear(cpu, x86_linear(cpu, seg, offset, 8, X86_ACCESS_READ), 8);
}
static X86_ALWAYS_INLINE void x86_write(struct x86_cpu *cpu, unsigned seg, uint32_t offset,
                                        unsigned size, uint64_t value)
{
    x86_write_linear(cpu, x86_linear(cpu, seg, offset, size, X86_ACCESS_WRITE), size, value);
}
/* Check that a write would succeed (segment and page), without writing: for instructions that
 * must not commit anything before a later store is known to succeed. */
void x86_check_write(struct x86_cpu *cpu, unsigned seg, uint32_t offset, unsigned size);
/* The same for size bytes (up to a page) at a linear address */
void x86_check_write_linear(struct x86_cpu *cpu, uint64_t linear, unsigned size);

/* Stack: (E)SP-relative with SS.B deciding 16- or 32-bit stack pointer arithmetic. */
static X86_ALWAYS_INLINE bool x86_stack32(const struct x86_cpu *cpu)
{
    return (cpu->seg[X86_SEG_SS].attributes & X86_SEG_ATTR_DB) != 0;
}
/* Push size bytes: the store happens before ESP is committed, so a fault leaves ESP intact. */
static X86_ALWAYS_INLINE void x86_push(struct x86_cpu *cpu, unsigned size, uint32_t value)
{
    if (x86_stack32(cpu)) {
        uint32_t sp = x86_gpr32(cpu, X86_ESP) - size;
        x86_write(cpu, X86_SEG_SS, sp, size, value);
        x86_set_gpr32(cpu, X86_ESP, sp);
    } else {
        uint16_t sp = (uint16_t)(x86_gpr32(cpu, X86_ESP) - size);
        x86_write(cpu, X86_SEG_SS, sp, size, value);
        x86_set_gpr16(cpu, X86_ESP, sp);
    }
}
/* Read the value `depth` bytes above the stack top, without popping. */
static X86_ALWAYS_INLINE uint32_t x86_stack_peek(struct x86_cpu *cpu, uint32_t depth, unsigned size)
{
    if (x86_stack32(cpu))
        return x86_read(cpu, X86_SEG_SS, x86_gpr32(cpu, X86_ESP) + depth, size);
    return x86_read(cpu, X86_SEG_SS, (uint16_t)(x86_gpr32(cpu, X86_ESP) + depth), size);
}
static X86_ALWAYS_INLINE void x86_stack_adjust(struct x86_cpu *cpu, int32_t delta)
{
    if (x86_stack32(cpu))
        x86_set_gpr32(cpu, X86_ESP, x86_gpr32(cpu, X86_ESP) + (uint32_t)delta);
    else
        x86_set_gpr16(cpu, X86_ESP, x86_gpr32(cpu, X86_ESP) + (uint32_t)delta);
}
static X86_ALWAYS_INLINE uint32_t x86_pop(struct x86_cpu *cpu, unsigned size)
{
    uint32_t v = x86_stack_peek(cpu, 0, size);
    x86_stack_adjust(cpu, (int32_t)size);
    return v;
}

/* ---------------------------------------------------------------- I/O ports */

/* in/out with the I/O privilege checks (IOPL, TSS bitmap) */
uint32_t x86_port_in(struct x86_cpu *cpu, uint16_t port, unsigned size);
void x86_port_out(struct x86_cpu *cpu, uint16_t port, unsigned size, uint32_t value);

/* ---------------------------------------------------------------- EFLAGS (flags.c) */

/* The whole EFLAGS register, arithmetic flags computed. */
uint32_t x86_get_eflags(struct x86_cpu *cpu);
/* Set the bits of mask from value (all of EFLAGS when mask is ~0); bit 1 stays set and the
 * reserved bits clear. Privilege rules (IOPL, IF) are the caller's: this only stores. */
void x86_set_eflags(struct x86_cpu *cpu, uint32_t value, uint32_t mask);
/* Condition code 0-15 (O NO B AE E NE BE A S NS P NP L GE LE G) is true? */
bool x86_condition(struct x86_cpu *cpu, unsigned cond);

/* ---------------------------------------------------------------- system (segment.c, control.c) */

/* Load a segment register as mov/pop/lds do (real mode: base = selector << 4; protected mode:
 * descriptor load with the SDM's checks, raising #GP/#SS/#NP with the selector). */
void x86_load_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector);
/* Far transfer to selector:offset for jmp far / call far / ret far: checks the target (SDM
 * Vol. 3 5.8), then for X86_FAR_CALL pushes the return CS:EIP (next_eip) with opsize (2 or 4)
 * bytes each, then loads CS and sets next_eip. For X86_FAR_RET the caller has only PEEKED the
 * return address: it pops (and applies ret's imm16) after this returns, so a fault here leaves
 * ESP untouched. */
void x86_far_transfer(struct x86_cpu *cpu, uint16_t selector, uint32_t offset, int kind,
                      unsigned opsize);
enum x86_far_kind { X86_FAR_JMP, X86_FAR_CALL, X86_FAR_RET };
/* A far JMP or CALL in IA-32e mode (64-bit or compatibility mode) through the selector if it
 * names a 64-bit call gate (exec64_system.c, SDM Vol. 3 5.8.3.1): true when done; false for a
 * code segment, which the caller transfers to; any other system descriptor is #GP(selector). */
bool x86_through_call_gate64(struct x86_cpu *cpu, uint16_t gate_selector, int kind);
/* ret far (imm16 = release): to the same level, or to an outer one with SS:ESP from the stack
 * (SDM Vol. 2 RET). Pops as it goes; a fault leaves the stack untouched. */
void x86_far_return(struct x86_cpu *cpu, unsigned opsize, uint32_t release);
/* LAR/LSL and VERR/VERW (exec_system.c): ZF set and true when the selector passes (LAR's
 * access rights or LSL's limit in *value) */
bool x86_lar_lsl(struct x86_cpu *cpu, bool lar, uint16_t selector, uint32_t *value);
bool x86_verr_verw(struct x86_cpu *cpu, bool verr, uint16_t selector);
/* LLDT and LTR's loads (exec_system.c): 16-byte descriptors in IA-32e mode */
void x86_load_ldtr(struct x86_cpu *cpu, uint16_t selector);
void x86_load_tr(struct x86_cpu *cpu, uint16_t selector);
/* Data segment registers the (new, outer) CPL may not use become null (SDM Vol. 2 IRET, RET) */
void x86_null_outer_data_segments(struct x86_cpu *cpu);
/* Debug registers (debug.c): DR7 changed; a data or I/O access to check; the instruction
 * breakpoints matching a linear address (a mask of B0-B3). */
void x86_debug_registers_changed(struct x86_cpu *cpu);
void x86_debug_data_access(struct x86_cpu *cpu, uint64_t linear, unsigned size, bool write);
/* The checks of a data access when alignment checking or data breakpoints are on (mmu.c):
 * #AC(0) for a misaligned access at CPL 3 with CR0.AM and EFLAGS.AC, then the breakpoints. */
void x86_checked_access(struct x86_cpu *cpu, uint64_t linear, unsigned size, bool write);
void x86_debug_io_access(struct x86_cpu *cpu, uint16_t port, unsigned size);
uint8_t x86_debug_instruction_breakpoints(const struct x86_cpu *cpu, uint64_t linear);
/* The platform's watch on this core's data accesses (a debugger's watchpoints) on or off */
void x86_debug_platform_watch(struct x86_cpu *cpu, bool on);
/* PAE: load the four PDPTEs from CR3 (mmu.c); false when one has reserved bits (#GP(0)). */
bool x86_load_pdptes(struct x86_cpu *cpu);
/* Re-evaluate alignment checking (CR0.AM && EFLAGS.AC && CPL 3) after any of the three
 * changed; while it is on, data accesses take the checked path (SDM Vol. 3 6.15, #AC). */
void x86_update_alignment_check(struct x86_cpu *cpu);
/* Recompute derived fast-path fields of a segment register after its cache changed. */
void x86_segment_refresh(struct x86_cpu *cpu, unsigned seg);
/* mov to CRn with the reserved-bit checks (#GP(0)), mode changes, TLB flushes */
void x86_write_control_register(struct x86_cpu *cpu, unsigned n, uint64_t value);
uint64_t x86_read_control_register(struct x86_cpu *cpu, unsigned n);
/* rdmsr / wrmsr (msr.c): false if the MSR is unknown or the value reserved (the caller raises
 * #GP(0)) */
bool x86_read_msr(struct x86_cpu *cpu, uint32_t msr, uint64_t *value);
bool x86_write_msr(struct x86_cpu *cpu, uint32_t msr, uint64_t value);
/* The MSRs' power-up values */
void x86_msr_reset(struct x86_cpu *cpu);
/* The time-stamp counter at this core's own cycle (the local APIC's TSC-deadline arithmetic) */
uint64_t x86_tsc(const struct x86_cpu *cpu);
/* The time-stamp counter as RDTSC, RDTSCP and RDMSR read it: the machine's one clock, so no
 * read is below one another core made before it (msr.c; docs/cycle-model.md) */
uint64_t x86_read_tsc(struct x86_cpu *cpu);
/* IA32_MISC_ENABLE's "limit CPUID maxval" and "XD bit disable" */
bool x86_cpuid_limited(const struct x86_cpu *cpu);
bool x86_xd_disabled(const struct x86_cpu *cpu);
/* hlt: the core sleeps until an event is deliverable */
void x86_halt(struct x86_cpu *cpu);
/* The processor signature (CPUID.1:EAX): family 6, model 15, stepping 1 */
#define X86_CPUID_SIGNATURE 0x000006F1u

/* Registers by their public names (state.c): a write is refused (false) when the architecture
 * would fault on it (a control register's reserved bits...) */
const char *x86_register_name(x86irq_register reg);
uint32_t x86_cpu_get_register(struct x86_cpu *cpu, x86irq_register reg);
bool x86_cpu_set_register(struct x86_cpu *cpu, x86irq_register reg, uint32_t value);
/* The 64-bit view (x86irq_register64): the same rules */
const char *x86_register64_name(x86irq_register64 reg);
uint64_t x86_cpu_get_register64(struct x86_cpu *cpu, x86irq_register64 reg);
bool x86_cpu_set_register64(struct x86_cpu *cpu, x86irq_register64 reg, uint64_t value);
/* After a triple fault: the events that led to it, oldest first (x86irq_shutdown_events) */
size_t x86_cpu_shutdown_events(const struct x86_cpu *cpu, x86irq_event_record *records,
                               size_t max);
/* The cycle model (cost.c): the default profile, the classes' names */
extern const uint16_t x86_default_cost_profile[X86_COST_CLASS_COUNT];
const char *x86_cost_class_name(unsigned index);
int x86_cost_class_index(const char *name);

/* A start-up IPI ends wait-for-SIPI: real mode at vector << 12 (CS = vector << 8, IP = 0; SDM
 * Vol. 3 8.4.4, 10.6.1) */
void x86_cpu_startup(struct x86_cpu *cpu, uint8_t vector);
/* A new generation for this core's jump cache and block links (predecode.c) */
void x86_cpu_renew(struct x86_cpu *cpu);

/* Before a port or MMIO access: the devices' "now" is this core's cycle. With several cores
 * the machine's clock never goes back (a core behind the others in its quantum sees the
 * latest time any core reached: docs/cycle-model.md). */
static inline void x86_publish_clock(struct x86_cpu *cpu)
{
    if (cpu->cycles > *cpu->clock)
        *cpu->clock = cpu->cycles;
}

/* Ask the run loop to re-examine state after this instruction (mode, IF, block end). The
 * cycle limit drops to 0 as well, so the hot loop needs only its one cycle comparison. */
static inline void x86_request_exit(struct x86_cpu *cpu)
{
    cpu->exit_request = 1;
    cpu->cycle_limit = 0;
}

/* Reset to the power-on state (SDM Vol. 3 9.1.1). */
void x86_cpu_reset(struct x86_cpu *cpu);
/* A flat 4 GiB 32-bit segment (present, accessed; code execute/read or data read/write). */
void x86_set_flat_segment(struct x86_cpu *cpu, unsigned seg, uint16_t selector, uint8_t dpl,
                          bool code);
/* FNINIT's state of the x87 FPU (x87.c) */
void x86_fpu_init(struct x86_cpu *cpu);
/* The INIT signal: the power-up state, keeping what INIT keeps (SDM Vol. 3 Table 9-1). */
void x86_cpu_init_signal(struct x86_cpu *cpu);
/* The Multiboot entry state: flat 32-bit protected mode, paging off, IF = 0, CPL 0. */
void x86_cpu_enter_flat32(struct x86_cpu *cpu);
/* From the flat state of x86_cpu_enter_flat32 (its segments reloaded as the caller likes): 64-bit
 * mode at CPL 0, paging on CR3's 4-level tables (PAE, EFER.LME and LMA, CR0.PG), CS made a
 * 64-bit segment: the 64-bit boot protocols. */
void x86_cpu_enter_long64(struct x86_cpu *cpu, uint64_t cr3);
/* The decoding mode from CS and EFER.LMA (segment.c), after CS or EFER changed (the caller
 * requests an exit where the fast loop must notice at once) */
void x86_update_code_mode(struct x86_cpu *cpu);
/* The decoding mode of the present code segment */
static inline enum x86_mode x86_code_mode(const struct x86_cpu *cpu) { return (enum x86_mode)cpu->mode; }

#endif
