/* The decoded-block cache: decoded instructions kept per guest physical page.
 *
 * A block is a straight run of decoded instructions starting at one physical address, decoded
 * in one mode (enum x86_mode); it never crosses a page. Each code page keeps a bitmap of the
 * bytes its blocks cover. A store that touches covered bytes invalidates exactly the blocks
 * it overlaps; a store to other bytes of the page (data beside code) invalidates nothing.
 * Invalidated blocks are retired, not freed, until the run loop is outside any block (the
 * store may come from an instruction of the block itself).
 */
#ifndef X86IRQ_CPU_PREDECODE_H
#define X86IRQ_CPU_PREDECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "insn.h"
#include "cpu/limits.h"

#define X86_BLOCK_MAX_INSNS 48

/* A block's memory of where execution went after it (block chaining): checked before the
 * jump cache; valid while the cache generation is unchanged. */
struct x86_block_link {
    uint64_t rip;
    uint32_t cs_base;
    uint64_t generation;
    struct x86_block *block;
};

struct x86_block {
    struct x86_block *next_in_page;  /* the page's list, or the retired list */
    struct x86_block_link links[2];  /* the last two successors, most recent first */
    uint32_t phys;                   /* physical address of the first byte */
    uint16_t byte_count;             /* bytes covered */
    uint16_t insn_count;
    uint8_t mode;                    /* enum x86_mode decoded in */
    uint8_t valid;
    uint8_t probe;                   /* its first instruction is at a code-watch probe */
    /* does it overlap a range the platform hooks (run.c)? Known for ranges_linear under
     * ranges_generation (a core's translations, unique in the machine; 0: never) */
    uint8_t ranges_hooked;
    uint64_t ranges_linear, ranges_generation;
    struct x86_insn insns[];
};

struct x86_code_page {
    uint64_t code_bits[X86_PAGE_SIZE / 64]; /* bytes covered by some valid block */
    struct x86_block *blocks;                /* valid blocks of this page */
    struct x86_block *entry[X86_PAGE_SIZE];  /* block starting at each offset (latest mode) */
    uint32_t block_count;
};

struct x86_code_cache {
    struct x86_code_page **pages;   /* per RAM page, NULL until code is decoded there */
    uint32_t page_count;
    struct x86_block *retired;      /* invalidated, freed at the next safe point */
    uint64_t blocks_decoded;        /* statistics */
    uint64_t blocks_invalidated;
    /* The cores sharing the blocks. Each has a generation (cpu->generation) that its jump
     * cache (EIP -> block) and the block links it makes carry: a new one, unique in the
     * machine, when a block is retired (every core's) or the core's translations may have
     * changed (its own: a TLB flush, CPL, the CS limit); older entries are ignored. */
    struct x86_cpu *cores[X86_MAX_CORES];
    unsigned core_count;
    uint64_t table_watchers;  /* the cores (bit = code_slot) with table bytes watched (mmu.c):
                                 a store checks only theirs, whatever the number of cores */
    uint64_t last_generation;
};

/* The run loop's jump cache: the block last found for an EIP, so a taken branch finds its
 * target without a page translation and a cache lookup (x86_cpu_execute). */
#define X86_JUMP_CACHE_SIZE 4096u
struct x86_jump_entry {
    uint64_t rip;
    uint32_t cs_base;     /* bits 31:0 (all that count outside 64-bit mode) */
    uint64_t generation;
    struct x86_block *block; /* 32 bytes: an entry never straddles a cache line */
};

bool x86_code_cache_init(struct x86_code_cache *cache, uint64_t ram_size);
/* A core shares the blocks (cpu->code is set, its generation begins); false when full. */
bool x86_code_cache_add_core(struct x86_code_cache *cache, struct x86_cpu *cpu);
void x86_code_cache_finish(struct x86_code_cache *cache);
/* Free retired blocks: only when no block is executing. */
void x86_code_cache_collect(struct x86_code_cache *cache);
/* Drop every block (after loading a new image). */
void x86_code_cache_flush(struct x86_code_cache *cache);

/* Does the page hold decoded code? (stores to it must go through x86_code_cache_write) */
static inline bool x86_code_page_has_code(const struct x86_code_cache *cache, uint32_t page)
{
    return page < cache->page_count && cache->pages[page] != NULL &&
           cache->pages[page]->block_count != 0;
}

/* A store to physical [phys, phys+size) is about to happen: invalidate the blocks whose bytes
 * it touches. Returns true if any block was invalidated. */
bool x86_code_cache_write(struct x86_code_cache *cache, uint64_t phys, uint64_t size);

/* The valid block decoded at phys in mode, or NULL. */
static inline struct x86_block *x86_code_cache_find(const struct x86_code_cache *cache,
                                                    uint32_t phys, uint8_t mode)
{
    uint32_t page = phys >> 12;
    if (page >= cache->page_count || cache->pages[page] == NULL)
        return NULL;
    struct x86_block *b = cache->pages[page]->entry[phys & 0xFFF];
    return (b != NULL && b->mode == mode) ? b : NULL;
}

/* Insert a freshly decoded block (allocated by the caller with malloc, valid = 1). Replaces a
 * block of another mode at the same address. Returns false on allocation failure. */
bool x86_code_cache_insert(struct x86_code_cache *cache, struct x86_block *block);

#endif
