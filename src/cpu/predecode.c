/* The decoded-block cache (see predecode.h). */
#include "predecode.h"

#include "cpu/cpu.h"

#include <stdlib.h>
#include <string.h>

bool x86_code_cache_init(struct x86_code_cache *cache, uint64_t ram_size)
{
    memset(cache, 0, sizeof(*cache));
    cache->page_count = (uint32_t)((ram_size + X86_PAGE_SIZE - 1) / X86_PAGE_SIZE);
    cache->pages = calloc(cache->page_count, sizeof(*cache->pages));
    return cache->pages != NULL;
}

/* A generation no core has seen: its jump-cache entries and block links from before are stale
 * (zeroed entries, generation 0, never match) */
static uint64_t next_generation(struct x86_code_cache *cache)
{
    return ++cache->last_generation;
}

void x86_cpu_renew(struct x86_cpu *cpu)
{
    cpu->generation = next_generation(cpu->code);
}

/* Blocks went: what any core's jump cache or links point to may be gone */
static void retired(struct x86_code_cache *cache)
{
    for (unsigned i = 0; i < cache->core_count; i++)
        cache->cores[i]->generation = next_generation(cache);
}

bool x86_code_cache_add_core(struct x86_code_cache *cache, struct x86_cpu *cpu)
{
    if (cache->core_count == sizeof(cache->cores) / sizeof(cache->cores[0]))
        return false;
    cpu->code_slot = cache->core_count;
    cache->cores[cache->core_count++] = cpu;
    cpu->code = cache;
    x86_cpu_renew(cpu);
    return true;
}

static void free_list(struct x86_block *b)
{
    while (b) {
        struct x86_block *next = b->next_in_page;
        free(b);
        b = next;
    }
}

void x86_code_cache_collect(struct x86_code_cache *cache)
{
    free_list(cache->retired);
    cache->retired = NULL;
}

static void retire_page(struct x86_code_cache *cache, uint32_t page_number)
{
    struct x86_code_page *page = cache->pages[page_number];
    if (!page)
        return;
    struct x86_block *b = page->blocks;
    retired(cache);
    while (b) {
        struct x86_block *next = b->next_in_page;
        b->valid = 0;
        b->next_in_page = cache->retired;
        cache->retired = b;
        b = next;
    }
    free(page);
    cache->pages[page_number] = NULL;
}

void x86_code_cache_flush(struct x86_code_cache *cache)
{
    retired(cache); /* even with nothing decoded: no core keeps an entry from before */
    for (uint32_t i = 0; i < cache->page_count; i++)
        retire_page(cache, i);
}

void x86_code_cache_finish(struct x86_code_cache *cache)
{
    if (cache->pages) {
        x86_code_cache_flush(cache);
        free(cache->pages);
    }
    x86_code_cache_collect(cache);
    memset(cache, 0, sizeof(*cache));
}

static void mark_bytes(struct x86_code_page *page, uint32_t offset, uint32_t count)
{
    for (uint32_t i = offset; i < offset + count; i++)
        page->code_bits[i / 64] |= 1ull << (i % 64);
}

static bool bytes_marked(const struct x86_code_page *page, uint32_t offset, uint32_t count)
{
    for (uint32_t i = offset; i < offset + count;) {
        uint64_t word = page->code_bits[i / 64];
        if (word == 0) {
            i = (i / 64 + 1) * 64;
            continue;
        }
        if (word & (1ull << (i % 64)))
            return true;
        i++;
    }
    return false;
}

bool x86_code_cache_insert(struct x86_code_cache *cache, struct x86_block *block)
{
    uint32_t page_number = block->phys >> 12;
    if (page_number >= cache->page_count)
        return false;
    struct x86_code_page *page = cache->pages[page_number];
    if (!page) {
        page = calloc(1, sizeof(*page));
        if (!page)
            return false;
        cache->pages[page_number] = page;
    }
    uint32_t offset = block->phys & 0xFFF;
    struct x86_block *old = page->entry[offset];
    if (old) {
        /* a block of another mode at the same address: retire it */
        struct x86_block **link = &page->blocks;
        while (*link && *link != old)
            link = &(*link)->next_in_page;
        if (*link) {
            *link = old->next_in_page;
            page->block_count--;
        }
        old->valid = 0;
        old->next_in_page = cache->retired;
        cache->retired = old;
        retired(cache);
    }
    block->next_in_page = page->blocks;
    page->blocks = block;
    page->block_count++;
    page->entry[offset] = block;
    mark_bytes(page, offset, block->byte_count);
    cache->blocks_decoded++;
    return true;
}

bool x86_code_cache_write(struct x86_code_cache *cache, uint64_t phys, uint64_t size)
{
    bool invalidated = false;
    uint64_t end = phys + size;
    while (phys < end) {
        uint64_t page_number = phys >> 12;
        uint64_t page_end = (page_number + 1) << 12;
        uint64_t chunk_end = end < page_end ? end : page_end;
        if (page_number >= cache->page_count)
            break;
        struct x86_code_page *page = cache->pages[page_number];
        uint32_t offset = (uint32_t)(phys & 0xFFF);
        uint32_t count = (uint32_t)(chunk_end - phys);
        if (page && bytes_marked(page, offset, count)) {
            /* retire the overlapping blocks, then rebuild the byte map from the survivors */
            struct x86_block **link = &page->blocks;
            while (*link) {
                struct x86_block *b = *link;
                uint32_t b_start = b->phys & 0xFFF;
                uint32_t b_end = b_start + b->byte_count;
                if (b_start < offset + count && offset < b_end) {
                    *link = b->next_in_page;
                    if (page->entry[b_start] == b)
                        page->entry[b_start] = NULL;
                    b->valid = 0;
                    b->next_in_page = cache->retired;
                    cache->retired = b;
                    retired(cache);
                    page->block_count--;
                    cache->blocks_invalidated++;
                    invalidated = true;
                } else {
                    link = &b->next_in_page;
                }
            }
            memset(page->code_bits, 0, sizeof(page->code_bits));
            for (struct x86_block *b = page->blocks; b; b = b->next_in_page)
                mark_bytes(page, b->phys & 0xFFF, b->byte_count);
            if (page->block_count == 0) {
                free(page);
                cache->pages[page_number] = NULL;
            }
        }
        phys = chunk_end;
    }
    return invalidated;
}
