/* 64-bit helpers for the long-mode guests: control registers, MSRs, RFLAGS, CPUID and the
 * local APIC. Everything else (COM1, printf, TAP, exit) is lib/guest.h, built with -m64. */
#ifndef GUEST64_H
#define GUEST64_H

#include "guest.h"

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u

#define EFER_SCE (1u << 0)   /* SYSCALL enable */
#define EFER_LME (1u << 8)   /* IA-32e mode enable */
#define EFER_LMA (1u << 10)  /* IA-32e mode active (read-only) */
#define EFER_NXE (1u << 11)  /* execute-disable bit enable */

#define CR0_PE (1u << 0)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)

#define RFLAGS_TF (1u << 8)
#define RFLAGS_IF (1u << 9)
#define RFLAGS_DF (1u << 10)
#define RFLAGS_OF (1u << 11)
#define RFLAGS_AC (1u << 18)

/* The first bytes of the local APIC (docs/guest-contract.md); mapped uncached by crt0_64.S */
#define LAPIC_BASE 0xFEE00000u
enum { LAPIC_ID = 0x20, LAPIC_TPR = 0x80, LAPIC_PPR = 0xA0, LAPIC_EOI = 0xB0, LAPIC_SVR = 0xF0,
       LAPIC_ISR = 0x100, LAPIC_IRR = 0x200, LAPIC_ICR_LOW = 0x300, LAPIC_ICR_HIGH = 0x310 };

/* What crt0_64.S saw while it switched to IA-32e mode (SDM Vol. 3 9.8.5) */
extern uint64_t boot_efer_before;  /* EFER at entry: LME and LMA clear */
extern uint64_t boot_efer_lme;     /* after WRMSR LME=1, paging still off: LMA clear */
extern uint64_t boot_efer_after;   /* after CR0.PG=1: LMA set */
extern uint64_t boot_cr0_before;
extern uint64_t boot_pml4[512];    /* the identity map: PML4 -> PDPT -> 4 PDs of 2 MiB pages */
extern uint64_t boot_pdpt[512];
extern uint64_t boot_pd[4 * 512];

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

#define DEFINE_CR(n)                                                                              \
    static inline uint64_t read_cr##n(void)                                                       \
    {                                                                                             \
        uint64_t v;                                                                               \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                         \
        return v;                                                                                 \
    }                                                                                             \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
DEFINE_CR(8)
#undef DEFINE_CR

static inline uint64_t read_rflags(void) { uint64_t f; __asm__ volatile("pushfq; popq %0" : "=r"(f)); return f; }
static inline uint64_t read_rsp(void) { uint64_t v; __asm__ volatile("mov %%rsp, %0" : "=r"(v)); return v; }
static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline void invlpg(uint64_t address) { __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
/* CPUID 0x80000001 EDX (SDM Vol. 2 CPUID) */
#define CPUID_EXT_SYSCALL (1u << 11)
#define CPUID_EXT_NX (1u << 20)
#define CPUID_EXT_PAGE1GB (1u << 26)
#define CPUID_EXT_LM (1u << 29)
static inline uint32_t cpuid_ext_edx(void)
{
    uint32_t r[4];
    cpuid(0x80000000u, 0, r);
    if (r[0] < 0x80000001u)
        return 0;
    cpuid(0x80000001u, 0, r);
    return r[3];
}

static inline uint32_t lapic_read(unsigned reg) { return *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg); }
static inline void lapic_write(unsigned reg, uint32_t v) { *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v; }

/* The Multiboot command line (guest arguments), or "" */
static inline const char *boot_cmdline(void)
{
    const struct multiboot_info *info = (const struct multiboot_info *)(uintptr_t)boot_info;
    if (boot_magic != MULTIBOOT_BOOTLOADER_MAGIC || !(info->flags & MB_INFO_CMDLINE))
        return "";
    return (const char *)(uintptr_t)info->cmdline;
}

#endif
