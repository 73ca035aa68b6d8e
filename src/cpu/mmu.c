/* Memory management: segment checks, linear -> physical translation (32-bit paging with 4 KiB
 * and 4 MiB pages), the software TLB of host pointers, physical access to RAM and MMIO, and
 * the coherence of decoded code with stores.
 *
 * The inline fast paths live in cpu.h; everything here is the slow path, taken on a TLB miss,
 * a page-crossing access, MMIO, a store to a page that holds decoded code, or an access that
 * needs the full segment checks.
 */
#include "cpu/mmu.h"

#include <string.h>
#include "trace/events.h"

#include "cpu/predecode.h"
#include "idt/idt.h"
#include "platform/bus.h"

/* ------------------------------------------------------------------ segments */

static X86_NORETURN void segment_fault(struct x86_cpu *cpu, unsigned seg)
{
    /* SDM Vol. 3 6.15: limit and type violations give #SS(0) for stack references, else #GP(0) */
    x86_raise(cpu, seg == X86_SEG_SS ? X86_VEC_SS : X86_VEC_GP, 0);
}

uint64_t x86_linear_slow(struct x86_cpu *cpu, unsigned seg, uint32_t offset, unsigned size,
                         enum x86_access access)
{
    const struct x86_segment *s = &cpu->seg[seg];
    uint16_t attr = s->attributes;
    bool protected_mode = (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_FLAG_VM);

    if (protected_mode) {
        if (attr & X86_SEG_ATTR_UNUSABLE)
            segment_fault(cpu, seg);
        bool code = (attr & 0x8) != 0;
        if (access == X86_ACCESS_WRITE && (code || !(attr & 0x2)))
            segment_fault(cpu, seg);        /* code, or read-only data */
        if (access == X86_ACCESS_READ && code && !(attr & 0x2))
            segment_fault(cpu, seg);        /* execute-only code */
    }
    uint64_t last = (uint64_t)offset + size - 1;
    bool expand_down = protected_mode && !(attr & 0x8) && (attr & 0x4);
    if (expand_down) {
        /* SDM Vol. 3 5.3: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (B flag) */
        uint64_t upper = (attr & X86_SEG_ATTR_DB) ? 0xFFFFFFFFull : 0xFFFFull;
        if (offset <= s->limit || last > upper)
            segment_fault(cpu, seg);
    } else if (last > s->limit) {
        segment_fault(cpu, seg);
    }
    uint32_t linear = (uint32_t)(s->base + offset);
    if (X86_UNLIKELY(cpu->alignment_check | cpu->data_breakpoints))
        x86_checked_access(cpu, linear, size, access == X86_ACCESS_WRITE);
    return linear;
}

void x86_checked_access(struct x86_cpu *cpu, uint64_t linear, unsigned size, bool write)
{
    if (cpu->alignment_check && size > 1) {
        /* #AC(0) for a misaligned data access at CPL 3 (SDM Vol. 3 6.15, Table 6-7): words on
         * 2-byte, doublewords on 4-byte, quadwords and wider on 8-byte boundaries; in 64-bit
         * mode as elsewhere */
        unsigned alignment = size >= 8 ? 8 : size >= 4 ? 4 : 2;
        if (linear & (alignment - 1))
            x86_raise(cpu, X86_VEC_AC, 0);
    }
    if (cpu->data_breakpoints)
        x86_debug_data_access(cpu, linear, size, write);
}

void x86_update_alignment_check(struct x86_cpu *cpu)
{
    uint8_t on = (cpu->cr0 & X86_CR0_AM) && (cpu->eflags & X86_FLAG_AC) && cpu->cpl == 3;
    if (on == cpu->alignment_check)
        return;
    cpu->alignment_check = on;
    for (unsigned s = 0; s < X86_SEG_COUNT; s++)
        x86_segment_refresh(cpu, s); /* the fast paths skip the check: off while it is on */
}

void x86_segment_refresh(struct x86_cpu *cpu, unsigned seg)
{
    struct x86_segment *s = &cpu->seg[seg];
    uint16_t attr = s->attributes;
    bool protected_mode = (cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_FLAG_VM);
    bool usable = !(attr & X86_SEG_ATTR_UNUSABLE) || !protected_mode;
    bool code = (attr & 0x8) != 0;
    bool expand_down = protected_mode && !code && (attr & 0x4);
    s->read_limit = s->limit;
    s->write_limit = s->limit;
    bool checked = cpu->alignment_check || cpu->data_breakpoints;
    s->fast_read = usable && !expand_down && !checked && (!protected_mode || !code || (attr & 0x2));
    s->fast_write = usable && !expand_down && !checked &&
                    (!protected_mode || (!code && (attr & 0x2)));
    /* jump-cache entries and block links record the CS base; they assume the CS limit they
     * were made under, so a different limit makes them stale */
    if (seg == X86_SEG_CS && cpu->code && cpu->jump_cs_limit != s->limit) {
        cpu->jump_cs_limit = s->limit;
        x86_cpu_renew(cpu);
    }
}

/* ------------------------------------------------------------------ TLB */

void x86_tlb_flush(struct x86_cpu *cpu)
{
    if (cpu->code)
        x86_cpu_renew(cpu); /* cached EIP -> block translations too */
    for (unsigned i = 0; i < 2 * X86_TLB_ENTRIES; i++) {
        cpu->tlb_sets[i].read_tag = X86_TLB_INVALID;
        cpu->tlb_sets[i].write_tag = X86_TLB_INVALID;
        cpu->tlb_sets[i].checked_write_tag = X86_TLB_INVALID;
    }
}

void x86_tlb_flush_non_global(struct x86_cpu *cpu)
{
    if (cpu->code)
        x86_cpu_renew(cpu);
    for (unsigned i = 0; i < 2 * X86_TLB_ENTRIES; i++) {
        if (!cpu->tlb_sets[i].global) {
            cpu->tlb_sets[i].read_tag = X86_TLB_INVALID;
            cpu->tlb_sets[i].write_tag = X86_TLB_INVALID;
            cpu->tlb_sets[i].checked_write_tag = X86_TLB_INVALID;
        }
    }
}

void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t linear)
{
    x86_tables_changed(cpu); /* the tables may be mapped through this page */
    x86_cpu_renew(cpu);
    for (unsigned set = 0; set < 2; set++) {
        struct x86_tlb_entry *e =
            &cpu->tlb_sets[set * X86_TLB_ENTRIES + ((linear >> 12) & (X86_TLB_ENTRIES - 1))];
        uint64_t tag = linear & ~(uint64_t)0xFFF;
        if (e->read_tag == tag || e->write_tag == tag || e->checked_write_tag == tag) {
            e->read_tag = X86_TLB_INVALID;
            e->write_tag = X86_TLB_INVALID;
            e->checked_write_tag = X86_TLB_INVALID;
        }
    }
}

/* ------------------------------------------------------------------ watched table bytes */

void x86_tables_changed(struct x86_cpu *cpu)
{
    if (++cpu->table_epoch == 0) {
        /* after 2^32 changes: forget every entry rather than let an old one match */
        if (cpu->gates)
            memset(cpu->gates, 0, sizeof(*cpu->gates));
        cpu->table_epoch = 1;
    }
    cpu->table_watch_count = 0; /* pages stay write-protected in the TLB until refilled */
    if (cpu->code)
        cpu->code->table_watchers &= ~(1ull << cpu->code_slot);
}

static bool table_watched(const struct x86_cpu *cpu, uint64_t phys, unsigned size)
{
    for (uint32_t i = 0; i < cpu->table_watch_count; i++)
        if (phys < cpu->table_watch[i].end && phys + size > cpu->table_watch[i].start)
            return true;
    return false;
}

static bool page_watched(const struct x86_cpu *cpu, uint32_t page)
{
    return cpu->table_watch_count && table_watched(cpu, (uint64_t)page << 12, X86_PAGE_SIZE);
}

bool x86_table_watch(struct x86_cpu *cpu, uint64_t linear, unsigned size)
{
    if ((linear & 0xFFF) + size > X86_PAGE_SIZE || cpu->table_watch_count == X86_TABLE_WATCH_MAX)
        return false;
    uint64_t phys;
    bool writable;
    /* the caller has just read these bytes with the same rights: this cannot fault */
    x86_translate(cpu, linear, X86_ACCESS_READ | X86_ACCESS_IMPLICIT, false, &phys, &writable);
    if ((uint64_t)phys + size > cpu->bus->ram_size)
        return false; /* tables in MMIO are not cached: a device may change them */
    if (!table_watched(cpu, phys, size)) {
        cpu->table_watch[cpu->table_watch_count].start = phys;
        cpu->table_watch[cpu->table_watch_count].end = phys + size;
        cpu->table_watch_count++;
        cpu->code->table_watchers |= 1ull << cpu->code_slot;
    }
    x86_tlb_protect_code(cpu, phys >> 12); /* every core's stores there take the slow path */
    return true;
}

void x86_tlb_protect_page(struct x86_cpu *cpu, uint32_t physical_page)
{
    for (unsigned i = 0; i < 2 * X86_TLB_ENTRIES; i++)
        if (cpu->tlb_sets[i].physical_page == physical_page)
            cpu->tlb_sets[i].write_tag = X86_TLB_INVALID;
}

void x86_tlb_protect_code(struct x86_cpu *cpu, uint32_t physical_page)
{
    /* every core's stores to a page with decoded code must see it: the code is shared */
    const struct x86_code_cache *code = cpu->code;
    for (unsigned i = 0; i < code->core_count; i++)
        x86_tlb_protect_page(code->cores[i], physical_page);
}

/* ------------------------------------------------------------------ paging */

static uint32_t read_phys32(struct x86_cpu *cpu, uint32_t phys)
{
    return (uint32_t)x86_phys_read(cpu, phys, 4);
}

static void write_phys32(struct x86_cpu *cpu, uint32_t phys, uint32_t value)
{
    x86_phys_write(cpu, phys, 4, value);
}

#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u
#define PTE_G 0x100u

#define PF_P 0x01u
#define PF_W 0x02u
#define PF_U 0x04u
#define PF_RSVD 0x08u

static X86_NORETURN void page_fault(struct x86_cpu *cpu, uint64_t linear, uint32_t error)
{
    cpu->cr2 = linear;  /* SDM Vol. 3 4.7: CR2 holds the linear address that faulted */
    x86_raise(cpu, X86_VEC_PF, error);
}

/* ------------------------------------------------------------------ PAE paging (SDM Vol. 3 4.4) */

#define PF_ID 0x10u
#define PAE_XD (1ull << 63)
/* MAXPHYADDR is 32 here (CPUID 0x80000008): address bits 62:32 of entries are reserved, and
 * bit 63 (XD) too unless EFER.NXE */
#define PAE_RESERVED_HIGH 0x7FFFFFFF00000000ull
#define PDPTE_RESERVED (PAE_RESERVED_HIGH | PAE_XD | 0x1E6ull) /* bits 1, 2, 5-8 and 63:32 */
#define PAE_FRAME 0xFFFFF000ull

/* SMEP and SMAP (SDM Vol. 3 4.6.1): a supervisor-mode access to a user page (U/S at every
 * level) faults for an instruction fetch with CR4.SMEP, and for data with CR4.SMAP when it is
 * implicit or EFLAGS.AC is clear. */
static void check_supervisor_access_to_user_page(struct x86_cpu *cpu, uint64_t linear,
                                                 enum x86_access access, bool implicit,
                                                 uint32_t error)
{
    if (access == X86_ACCESS_EXECUTE) {
        if (cpu->cr4 & X86_CR4_SMEP)
            page_fault(cpu, linear, error | PF_P);
    } else if ((cpu->cr4 & X86_CR4_SMAP) && (implicit || !(cpu->eflags & X86_FLAG_AC))) {
        page_fault(cpu, linear, error | PF_P);
    }
}

/* What a walk found: the entry that maps the page (the PTE, or the PDE of a large page), where
 * it is, the frame, and the rights all the levels grant together */
struct walk {
    uint32_t entry;          /* its low 32 bits: P, R/W, U/S, A, D, G */
    uint64_t entry_address;
    uint64_t frame;
    bool rw, us, no_execute;
};

/* The end of both walks: the rights (SDM Vol. 3 4.6: user accesses need U/S at every level,
 * writes need R/W for user and for supervisor with CR0.WP; SMEP, SMAP, execute-disable), then
 * the accessed and dirty bits in the mapping entry (4.8), then what the TLB fill takes */
static bool finish_walk(struct x86_cpu *cpu, uint64_t linear, enum x86_access access, bool user,
                        bool implicit, uint32_t error, const struct walk *w, uint64_t *phys,
                        bool *writable)
{
    bool write = access == X86_ACCESS_WRITE;
    if (user && !w->us)
        page_fault(cpu, linear, error | PF_P);
    if (!user && w->us)
        check_supervisor_access_to_user_page(cpu, linear, access, implicit, error);
    bool may_write = w->rw || (!user && !(cpu->cr0 & X86_CR0_WP));
    if (write && !may_write)
        page_fault(cpu, linear, error | PF_P);
    if (w->no_execute && access == X86_ACCESS_EXECUTE)
        page_fault(cpu, linear, error | PF_P);
    uint32_t updated = w->entry | PTE_A | (write ? PTE_D : 0);
    if (updated != w->entry)
        x86_phys_write(cpu, w->entry_address, 4, updated);
    /* G counts in the entry that maps the page */
    cpu->walk_global = (cpu->cr4 & X86_CR4_PGE) && (w->entry & PTE_G);
    cpu->walk_user = w->us;
    cpu->walk_no_execute = w->no_execute;
    *phys = w->frame | (linear & 0xFFF);
    /* the store path may be cached only once the dirty bit is set */
    *writable = may_write && (updated & PTE_D);
    return true;
}

static uint64_t read_phys64(struct x86_cpu *cpu, uint64_t phys)
{
    return x86_phys_read(cpu, phys, 8);
}

bool x86_load_pdptes(struct x86_cpu *cpu)
{
    /* SDM Vol. 3 4.4.1: the four PDPTEs are read when CR3 is loaded in PAE paging (and when
     * paging or PAE is enabled); a present one with reserved bits set is #GP(0) there */
    uint32_t base = cpu->cr3 & 0xFFFFFFE0u;
    uint64_t entries[4];
    for (unsigned i = 0; i < 4; i++) {
        entries[i] = read_phys64(cpu, base + 8 * i);
        if ((entries[i] & PTE_P) && (entries[i] & PDPTE_RESERVED))
            return false;
    }
    memcpy(cpu->pdpte, entries, sizeof(entries));
    return true;
}

static bool translate_pae(struct x86_cpu *cpu, uint64_t linear, enum x86_access access, bool user,
                          bool implicit, uint64_t *phys, bool *writable)
{
    bool write = access == X86_ACCESS_WRITE;
    bool nx = cpu->efer & X86_EFER_NXE;
    bool report_fetch = nx || (cpu->cr4 & X86_CR4_SMEP); /* I/D (SDM Vol. 3 4.7) */
    uint32_t error = (write ? PF_W : 0) | (user ? PF_U : 0) |
                     (report_fetch && access == X86_ACCESS_EXECUTE ? PF_ID : 0);
    uint64_t reserved = PAE_RESERVED_HIGH | (nx ? 0 : PAE_XD);
    uint64_t pdpte = cpu->pdpte[linear >> 30];
    if (!(pdpte & PTE_P))
        page_fault(cpu, linear, error);
    uint32_t pde_address = (uint32_t)(pdpte & PAE_FRAME) + ((linear >> 21) & 0x1FF) * 8;
    uint64_t pde = read_phys64(cpu, pde_address);
    if (!(pde & PTE_P))
        page_fault(cpu, linear, error);
    struct walk w;
    uint64_t xd;
    if (pde & PDE_PS) {
        /* a 2 MiB page: bits 20:13 reserved (no PAT here) */
        if (pde & (reserved | 0x1FE000ull))
            page_fault(cpu, linear, error | PF_P | PF_RSVD);
        w = (struct walk){ .entry = (uint32_t)pde, .entry_address = pde_address,
                           .frame = (uint32_t)(pde & 0xFFE00000ull) | (linear & 0x001FF000u),
                           .rw = pde & PTE_RW, .us = pde & PTE_US };
        xd = pde & PAE_XD;
    } else {
        if (pde & reserved)
            page_fault(cpu, linear, error | PF_P | PF_RSVD);
        uint32_t entry_address = (uint32_t)(pde & PAE_FRAME) + ((linear >> 12) & 0x1FF) * 8;
        uint64_t entry = read_phys64(cpu, entry_address);
        if (!(entry & PTE_P))
            page_fault(cpu, linear, error);
        if (entry & reserved)
            page_fault(cpu, linear, error | PF_P | PF_RSVD);
        w = (struct walk){ .entry = (uint32_t)entry, .entry_address = entry_address,
                           .frame = (uint32_t)(entry & PAE_FRAME),
                           .rw = pde & entry & PTE_RW, .us = pde & entry & PTE_US };
        xd = (pde | entry) & PAE_XD;
        if (!(pde & PTE_A))
            x86_phys_write(cpu, pde_address, 4, (uint32_t)pde | PTE_A);
    }
    w.no_execute = nx && xd; /* execute-disable (SDM Vol. 3 4.6) */
    return finish_walk(cpu, linear, access, user, implicit, error, &w, phys, writable);
}

/* ------------------------------------------------------------------ 4-level paging (SDM Vol. 3 4.5) */

/* IA-32e mode: PML4 -> PDPT -> PD -> PT, 9 bits a level, 1 GiB pages in the PDPT and 2 MiB
 * pages in the PD. Bits 51:MAXPHYADDR of every entry are reserved, as are XD without
 * EFER.NXE, PS in a PML4E and the low frame bits of large pages (bits 29:13 and 20:13, PAT
 * aside: bit 12 is PAT there and allowed). Bits 62:52 are ignored (no protection keys). R/W
 * and U/S must allow the access at every level; XD at any level forbids fetches (4.6). The
 * accessed bit is set in every entry the walk uses (4.8). Linear addresses are canonical here
 * (the callers check that). */
#define LONG_RESERVED 0x000FFFFF00000000ull /* MAXPHYADDR 32 (CPUID 0x80000008) */
#define LONG_FRAME 0x000FFFFFFFFFF000ull

static bool translate_long(struct x86_cpu *cpu, uint64_t linear, enum x86_access access,
                           bool user, bool implicit, uint64_t *phys, bool *writable)
{
    bool write = access == X86_ACCESS_WRITE;
    bool nx = cpu->efer & X86_EFER_NXE;
    uint32_t error = (write ? PF_W : 0) | (user ? PF_U : 0) |
                     ((nx || (cpu->cr4 & X86_CR4_SMEP)) && access == X86_ACCESS_EXECUTE ? PF_ID : 0);
    uint64_t reserved = LONG_RESERVED | (nx ? 0 : PAE_XD);
    uint64_t table = cpu->cr3 & LONG_FRAME;
    bool rw = true, us = true;
    uint64_t xd = 0;
    /* level 3: PML4E, 2: PDPTE, 1: PDE, 0: PTE */
    for (int level = 3;; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t address = table + ((linear >> shift) & 0x1FF) * 8;
        uint64_t entry = read_phys64(cpu, address);
        if (!(entry & PTE_P))
            page_fault(cpu, linear, error);
        bool large = level > 0 && (entry & PDE_PS);
        uint64_t bad = reserved;
        if (level == 3 && (entry & PDE_PS))
            bad |= PDE_PS;                                  /* no 512 GiB pages */
        if (large)
            bad |= ((1ull << shift) - 1) & ~0x1FFFull;     /* frame bits below the page size */
        if (entry & bad)
            page_fault(cpu, linear, error | PF_P | PF_RSVD);
        rw = rw && (entry & PTE_RW);
        us = us && (entry & PTE_US);
        xd |= entry & PAE_XD;
        if (level == 0 || large) {
            uint64_t offset_mask = (1ull << shift) - 1;
            struct walk w = { .entry = (uint32_t)entry, .entry_address = address,
                              .frame = (entry & LONG_FRAME & ~offset_mask) |
                                       (linear & offset_mask & ~0xFFFull),
                              .rw = rw, .us = us, .no_execute = nx && xd };
            return finish_walk(cpu, linear, access, user, implicit, error, &w, phys, writable);
        }
        if (!(entry & PTE_A))
            x86_phys_write(cpu, address, 4, (uint32_t)entry | PTE_A);
        table = entry & LONG_FRAME;
    }
}

bool x86_translate(struct x86_cpu *cpu, uint64_t linear, enum x86_access access, bool user,
                   uint64_t *phys, bool *writable)
{
    bool implicit = access & X86_ACCESS_IMPLICIT;
    access = (enum x86_access)(access & ~X86_ACCESS_IMPLICIT);
    if (!(cpu->cr0 & X86_CR0_PG)) {
        cpu->walk_global = 0;
        cpu->walk_user = 0;
        cpu->walk_no_execute = 0;
        *phys = linear;
        *writable = true;
        return true;
    }
    if (cpu->efer & X86_EFER_LMA)
        return translate_long(cpu, linear, access, user, implicit, phys, writable);
    if (cpu->cr4 & X86_CR4_PAE)
        return translate_pae(cpu, linear, access, user, implicit, phys, writable);
    bool write = access == X86_ACCESS_WRITE;
    uint32_t error = (write ? PF_W : 0) | (user ? PF_U : 0) |
                     ((cpu->cr4 & X86_CR4_SMEP) && access == X86_ACCESS_EXECUTE ? PF_ID : 0);
    uint32_t pde_address = (cpu->cr3 & 0xFFFFF000u) + ((linear >> 22) << 2);
    uint32_t pde = read_phys32(cpu, pde_address);
    if (!(pde & PTE_P))
        page_fault(cpu, linear, error);

    struct walk w;
    if ((pde & PDE_PS) && (cpu->cr4 & X86_CR4_PSE)) {
        /* 4 MiB page. Without PSE-36, bits 21:13 are reserved (SDM Vol. 3 4.3, Table 4-5) */
        if (pde & 0x003FE000u)
            page_fault(cpu, linear, error | PF_P | PF_RSVD);
        w = (struct walk){ .entry = pde, .entry_address = pde_address,
                           .frame = (pde & 0xFFC00000u) | (linear & 0x003FF000u),
                           .rw = pde & PTE_RW, .us = pde & PTE_US };
    } else {
        uint32_t entry_address = (pde & 0xFFFFF000u) + (((linear >> 12) & 0x3FF) << 2);
        uint32_t entry = read_phys32(cpu, entry_address);
        if (!(entry & PTE_P))
            page_fault(cpu, linear, error);
        w = (struct walk){ .entry = entry, .entry_address = entry_address,
                           .frame = entry & 0xFFFFF000u,
                           .rw = pde & entry & PTE_RW, .us = pde & entry & PTE_US };
        if (!(pde & PTE_A))
            write_phys32(cpu, pde_address, pde | PTE_A);
    }
    return finish_walk(cpu, linear, access, user, implicit, error, &w, phys, writable);
}

static bool user_access(const struct x86_cpu *cpu)
{
    return cpu->cpl == 3;
}

/* ------------------------------------------------------------------ physical access */

/* fixed-size copies (a variable-size memcpy is a library call) */
static inline uint64_t ram_load(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v = 0; memcpy(&v, p, size < 8 ? size : 8); return v; }
    }
}

static inline void ram_store(uint8_t *p, unsigned size, uint64_t value)
{
    switch (size) {
    case 1: *p = (uint8_t)value; break;
    case 2: { uint16_t v = (uint16_t)value; memcpy(p, &v, 2); break; }
    case 4: { uint32_t v = (uint32_t)value; memcpy(p, &v, 4); break; }
    default: memcpy(p, &value, size < 8 ? size : 8); break;
    }
}

uint64_t x86_phys_read(struct x86_cpu *cpu, uint64_t phys, unsigned size)
{
    struct x86_bus *bus = cpu->bus;
    if (phys + size <= bus->ram_size)
        return ram_load(bus->ram + phys, size);
    if (phys < bus->ram_size) {  /* straddles the end of RAM */
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= x86_phys_read(cpu, phys + i, 1) << (8 * i);
        return v;
    }
    x86_publish_clock(cpu);
    return x86_bus_mmio_read(bus, phys, size);
}

void x86_phys_write(struct x86_cpu *cpu, uint64_t phys, unsigned size, uint64_t value)
{
    struct x86_bus *bus = cpu->bus;
    struct x86_code_cache *code = cpu->code;
    if (phys + size <= bus->ram_size) {
        if (x86_code_page_has_code(code, (uint32_t)(phys >> 12)) ||
            x86_code_page_has_code(code, (uint32_t)((phys + size - 1) >> 12))) {
            if (x86_code_cache_write(code, phys, size))
                x86_request_exit(cpu); /* the executing block may be gone */
        }
        /* a store into a gate or descriptor some core decoded (the cores share the tables
         * Linux sets up once: each core's dispatch table must see another core's store) */
        for (uint64_t w = code->table_watchers; w; w &= w - 1) {
            struct x86_cpu *c = code->cores[__builtin_ctzll(w)];
            if (table_watched(c, phys, size))
                x86_tables_changed(c);
        }
        ram_store(bus->ram + phys, size, value);
        return;
    }
    if (phys < bus->ram_size) {
        for (unsigned i = 0; i < size; i++)
            x86_phys_write(cpu, phys + i, 1, value >> (8 * i));
        return;
    }
    x86_publish_clock(cpu);
    x86_bus_mmio_write(bus, phys, size, value);
}

/* Is the page watched by any core (table bytes decoded there)? */
static bool page_watched_by_any(const struct x86_cpu *cpu, uint32_t page)
{
    const struct x86_code_cache *code = cpu->code;
    for (uint64_t w = code->table_watchers; w; w &= w - 1)
        if (page_watched(code->cores[__builtin_ctzll(w)], page))
            return true;
    return false;
}

static void tlb_fill_set(struct x86_cpu *cpu, struct x86_tlb_entry *set, uint64_t linear,
                         uint64_t phys, bool writable)
{
    uint32_t page = phys >> 12;
    if ((uint64_t)(phys & ~(uint64_t)0xFFF) + X86_PAGE_SIZE > cpu->bus->ram_size)
        return; /* MMIO and open bus are never cached */
    struct x86_tlb_entry *e = &set[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    e->read_tag = linear & ~(uint64_t)0xFFF;
    bool protected_page = x86_code_page_has_code(cpu->code, page) ||
                          page_watched_by_any(cpu, page);
    e->write_tag = (writable && !protected_page) ? (linear & ~(uint64_t)0xFFF) : X86_TLB_INVALID;
    e->checked_write_tag = writable ? (linear & ~(uint64_t)0xFFF) : X86_TLB_INVALID;
    e->physical_page = page;
    e->global = cpu->walk_global;
    e->no_execute = cpu->walk_no_execute;
    e->host_minus_linear = (uintptr_t)(cpu->bus->ram + (phys & ~(uint64_t)0xFFF)) - (linear & ~(uint64_t)0xFFF);
}

static void tlb_fill(struct x86_cpu *cpu, uint64_t linear, uint64_t phys, bool writable)
{
    tlb_fill_set(cpu, cpu->tlb, linear, phys, writable);
}

static void report_user_access(struct x86_cpu *cpu, uint64_t linear)
{
    if (!cpu->irq_user_reported) {
        cpu->irq_user_reported = 1;
        x86_trace_user_access(cpu->trace, linear);
    }
}

/* After a walk: whether the translation must stay out of the TLB. A supervisor TLB entry for a
 * user page would skip SMEP's and SMAP's checks (fetches find their pages through the TLB too,
 * and SMAP depends on EFLAGS.AC at each access), and the user-access-in-irq rule must see every
 * such access while it watches (it reports the first). */
/* the rule for the supervisor TLB (CPL 0-2's): the last walk's page may enter it */
static bool supervisor_cacheable(const struct x86_cpu *cpu)
{
    return !cpu->walk_user ||
           !(cpu->irq_user_watch || (cpu->cr4 & (X86_CR4_SMEP | X86_CR4_SMAP)));
}
static bool keep_out_of_tlb(struct x86_cpu *cpu, uint64_t linear)
{
    if (!cpu->walk_user || cpu->cpl == 3)
        return false;
    if (X86_UNLIKELY(cpu->irq_user_watch))
        report_user_access(cpu, linear);
    return !supervisor_cacheable(cpu);
}

uint64_t x86_translate_write_cached(struct x86_cpu *cpu, uint64_t linear, bool user)
{
    struct x86_tlb_entry *set = &cpu->tlb_sets[user ? X86_TLB_ENTRIES : 0];
    const struct x86_tlb_entry *e = &set[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    if (e->checked_write_tag == (linear & ~(uint64_t)0xFFF))
        return ((uint64_t)e->physical_page << 12) | (linear & 0xFFF);
    uint64_t phys;
    bool writable;
    x86_translate(cpu, linear, X86_ACCESS_WRITE, user, &phys, &writable);
    if (user || supervisor_cacheable(cpu))
        tlb_fill_set(cpu, set, linear, phys, writable);
    return phys;
}

uint64_t x86_read_slow(struct x86_cpu *cpu, uint64_t linear, unsigned size)
{
    if ((linear & 0xFFF) + size > X86_PAGE_SIZE) {
        /* crosses a page: translate both pages first, so a fault on the second reads nothing */
        uint32_t first = X86_PAGE_SIZE - (linear & 0xFFF);
        uint64_t phys0, phys1;
        bool w;
        x86_translate(cpu, linear, X86_ACCESS_READ, user_access(cpu), &phys0, &w);
        x86_translate(cpu, linear + first, X86_ACCESS_READ, user_access(cpu), &phys1, &w);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            uint64_t p = i < first ? (uint64_t)phys0 + i : (uint64_t)phys1 + (i - first);
            v |= x86_phys_read(cpu, p, 1) << (8 * i);
        }
        return v;
    }
    uint64_t phys;
    bool writable;
    x86_translate(cpu, linear, X86_ACCESS_READ, user_access(cpu), &phys, &writable);
    if (!keep_out_of_tlb(cpu, linear))
        tlb_fill(cpu, linear, phys, writable);
    return x86_phys_read(cpu, phys, size);
}

void x86_write_slow(struct x86_cpu *cpu, uint64_t linear, unsigned size, uint64_t value)
{
    /* a writable page that holds code or watched bytes: no walk, but the checked store */
    const struct x86_tlb_entry *e = &cpu->tlb[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    if (e->checked_write_tag == (linear & ~(uint64_t)0xFFF) && (linear & 0xFFF) + size <= X86_PAGE_SIZE) {
        x86_phys_write(cpu, ((uint64_t)e->physical_page << 12) | (linear & 0xFFF), size, value);
        return;
    }
    if ((linear & 0xFFF) + size > X86_PAGE_SIZE) {
        uint32_t first = X86_PAGE_SIZE - (linear & 0xFFF);
        uint64_t phys0, phys1;
        bool w;
        x86_translate(cpu, linear, X86_ACCESS_WRITE, user_access(cpu), &phys0, &w);
        x86_translate(cpu, linear + first, X86_ACCESS_WRITE, user_access(cpu), &phys1, &w);
        for (unsigned i = 0; i < size; i++) {
            uint64_t p = i < first ? (uint64_t)phys0 + i : (uint64_t)phys1 + (i - first);
            x86_phys_write(cpu, p, 1, value >> (8 * i));
        }
        return;
    }
    uint64_t phys;
    bool writable;
    x86_translate(cpu, linear, X86_ACCESS_WRITE, user_access(cpu), &phys, &writable);
    if (!keep_out_of_tlb(cpu, linear))
        tlb_fill(cpu, linear, phys, writable);
    x86_phys_write(cpu, phys, size, value);
}

void x86_check_write(struct x86_cpu *cpu, unsigned seg, uint32_t offset, unsigned size)
{
    x86_check_write_linear(cpu, x86_linear(cpu, seg, offset, size, X86_ACCESS_WRITE), size);
}

void x86_check_write_linear(struct x86_cpu *cpu, uint64_t linear, unsigned size)
{
    const struct x86_tlb_entry *e = &cpu->tlb[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
    uint64_t last = linear + size - 1;
    uint64_t phys;
    bool w;
    if (!(e->write_tag == (linear & ~(uint64_t)0xFFF) && (linear & 0xFFF) <= X86_PAGE_SIZE - size))
        x86_translate(cpu, linear, X86_ACCESS_WRITE, user_access(cpu), &phys, &w);
    /* the next page from its first byte, as the store itself (x86_write_slow) and QEMU report
     * a split access's fault: CR2 is that byte's address */
    if ((last & ~(uint64_t)0xFFF) != (linear & ~(uint64_t)0xFFF))
        x86_translate(cpu, last & ~(uint64_t)0xFFF, X86_ACCESS_WRITE, user_access(cpu), &phys, &w);
}

/* ------------------------------------------------------------------ system-table access */

uint64_t x86_read_system(struct x86_cpu *cpu, uint64_t linear, unsigned size)
{
    /* descriptor tables and the TSS are read with supervisor rights at any CPL (SDM Vol. 3
     * 4.6, implicit supervisor-mode accesses); one translation per page touched */
    uint64_t phys;
    bool w;
    if ((linear & 0xFFF) + size <= X86_PAGE_SIZE) {
        /* the supervisor TLB (CPL 0-2's) holds only translations a supervisor may read: with
         * SMAP, user pages stay out of it (keep_out_of_tlb), and CR4.SMAP changes empty it.
         * A hit saves the walk that every gate, descriptor and TSS read would take (four
         * levels in IA-32e mode). */
        const struct x86_tlb_entry *e = &cpu->tlb_sets[(linear >> 12) & (X86_TLB_ENTRIES - 1)];
        if (e->read_tag == (linear & ~(uint64_t)0xFFF)) {
            const uint8_t *host = (const uint8_t *)(uintptr_t)(e->host_minus_linear + linear);
            uint64_t v = 0;
            memcpy(&v, host, size); /* little-endian host */
            return v;
        }
        x86_translate(cpu, linear, X86_ACCESS_READ | X86_ACCESS_IMPLICIT, false, &phys, &w);
        /* into the supervisor TLB, as a supervisor's explicit read would go (a user page only
         * without SMEP, SMAP and the user-access rule's watch: keep_out_of_tlb's rule) */
        if (supervisor_cacheable(cpu))
            tlb_fill_set(cpu, cpu->tlb_sets, linear, phys, w);
        return x86_phys_read(cpu, phys, size);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        if (i == 0 || ((linear + i) & 0xFFF) == 0)
            x86_translate(cpu, linear + i, X86_ACCESS_READ | X86_ACCESS_IMPLICIT, false, &phys,
                          &w);
        else
            phys++;
        v |= x86_phys_read(cpu, phys, 1) << (8 * i);
    }
    return v;
}

void x86_write_system(struct x86_cpu *cpu, uint64_t linear, unsigned size, uint64_t value)
{
    uint64_t phys;
    bool w;
    if ((linear & 0xFFF) + size <= X86_PAGE_SIZE) {
        x86_translate(cpu, linear, X86_ACCESS_WRITE | X86_ACCESS_IMPLICIT, false, &phys, &w);
        x86_phys_write(cpu, phys, size, value);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        if (i == 0 || ((linear + i) & 0xFFF) == 0)
            x86_translate(cpu, linear + i, X86_ACCESS_WRITE | X86_ACCESS_IMPLICIT, false, &phys,
                          &w);
        else
            phys++;
        x86_phys_write(cpu, phys, 1, value >> (8 * i));
    }
}

/* ------------------------------------------------------------------ observers' reads */

/* A page walk without side effects or faults (x86_peek): the translation the walk would make,
 * the rights not checked */
bool x86_peek_translate(const struct x86_cpu *cpu, uint64_t linear, uint64_t *phys)
{
    const struct x86_bus *bus = cpu->bus;
    if (!(cpu->cr0 & X86_CR0_PG)) {
        *phys = linear;
        return true;
    }
    if (cpu->efer & X86_EFER_LMA) {
        uint64_t table = cpu->cr3 & LONG_FRAME;
        for (int level = 3;; level--) {
            unsigned shift = 12 + 9 * (unsigned)level;
            const uint8_t *p = x86_bus_ram(bus, table + ((linear >> shift) & 0x1FF) * 8, 8);
            uint64_t entry;
            if (!p || (memcpy(&entry, p, 8), !(entry & PTE_P)))
                return false;
            if (level == 0 || (level < 3 && (entry & PDE_PS))) {
                uint64_t offset_mask = (1ull << shift) - 1;
                *phys = (entry & LONG_FRAME & ~offset_mask) | (linear & offset_mask);
                return true;
            }
            table = entry & LONG_FRAME;
        }
    }
    if (cpu->cr4 & X86_CR4_PAE) {
        uint64_t pdpte = cpu->pdpte[linear >> 30];
        const uint8_t *p = (pdpte & PTE_P)
            ? x86_bus_ram(bus, (pdpte & PAE_FRAME) + ((linear >> 21) & 0x1FF) * 8, 8) : NULL;
        uint64_t pde;
        if (!p || (memcpy(&pde, p, 8), !(pde & PTE_P)))
            return false;
        if (pde & PDE_PS) {
            *phys = (pde & 0xFFE00000ull) | (linear & 0x1FFFFFu);
            return true;
        }
        p = x86_bus_ram(bus, (pde & PAE_FRAME) + ((linear >> 12) & 0x1FF) * 8, 8);
        uint64_t pte;
        if (!p || (memcpy(&pte, p, 8), !(pte & PTE_P)))
            return false;
        *phys = (pte & PAE_FRAME) | (linear & 0xFFF);
        return true;
    }
    const uint8_t *p = x86_bus_ram(bus, (cpu->cr3 & 0xFFFFF000u) + ((linear >> 22) << 2), 4);
    uint32_t pde;
    if (!p || (memcpy(&pde, p, 4), !(pde & PTE_P)))
        return false;
    if ((pde & PDE_PS) && (cpu->cr4 & X86_CR4_PSE)) {
        *phys = (pde & 0xFFC00000u) | (linear & 0x3FFFFFu);
        return true;
    }
    p = x86_bus_ram(bus, (pde & 0xFFFFF000u) + (((linear >> 12) & 0x3FF) << 2), 4);
    uint32_t pte;
    if (!p || (memcpy(&pte, p, 4), !(pte & PTE_P)))
        return false;
    *phys = (pte & 0xFFFFF000u) | (linear & 0xFFF);
    return true;
}

bool x86_peek(struct x86_cpu *cpu, uint64_t linear, unsigned size, uint64_t *value)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t phys;
        const uint8_t *p;
        if (!x86_peek_translate(cpu, linear + i, &phys) ||
            !(p = x86_bus_ram(cpu->bus, phys, 1)))
            return false;
        v |= (uint64_t)*p << (8 * i);
    }
    *value = v;
    return true;
}
