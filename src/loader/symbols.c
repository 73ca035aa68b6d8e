/* Guest symbol tables: lookup by address and name, and the nm format (a System.map or
 * /proc/kallsyms: "ADDRESS TYPE NAME [MODULE]" per line) besides the ELF symbol tables. */
#include "loader/loader.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_symbols(const void *a, const void *b)
{
    const struct x86_symbol *x = a, *y = b;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    /* sized symbols first, so lookups prefer them */
    return (y->size != 0) - (x->size != 0);
}

void x86_symbols_sort(struct x86_symbol *symbols, size_t count)
{
    qsort(symbols, count, sizeof(*symbols), compare_symbols);
}

const struct x86_symbol *x86_symbols_lookup(const struct x86_symbol_table *t, uint64_t addr)
{
    if (!t || t->count == 0)
        return NULL;
    /* the last symbol whose address <= addr */
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->symbols[mid].address <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    size_t i = lo - 1;
    /* among symbols at that address, the first (sized) one */
    while (i > 0 && t->symbols[i - 1].address == t->symbols[i].address)
        i--;
    const struct x86_symbol *s = &t->symbols[i];
    if (s->size)
        return addr - s->address < s->size ? s : NULL;
    /* unsized: covers up to the next symbol, but never across the 4 GiB line. Below it a
     * 64-bit kernel has only its zero-based per-CPU symbols, above them user space and its
     * text at the top: "__per_cpu_end+0x7ffd..." would name nothing. A 32-bit guest's
     * addresses are all below the line, so its lookups are as they were. */
    if (s->address <= UINT32_MAX && addr > UINT32_MAX)
        return NULL;
    return s;
}

const struct x86_symbol *x86_symbols_find(const struct x86_symbol_table *t, const char *name)
{
    if (!t || !name)
        return NULL;
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->symbols[i].name, name) == 0)
            return &t->symbols[i];
    return NULL;
}

void x86_symbols_free(struct x86_symbol_table *t)
{
    if (!t)
        return;
    free(t->symbols);
    free(t->strings);
    memset(t, 0, sizeof(*t));
}

size_t x86_symbols_describe(const struct x86_symbol_table *t, uint64_t addr, char *buffer,
                            size_t size)
{
    if (!buffer || size == 0)
        return 0;
    buffer[0] = '\0';
    const struct x86_symbol *s = x86_symbols_lookup(t, addr);
    if (!s)
        return 0;
    int n = addr == s->address ? snprintf(buffer, size, "%s", s->name)
                               : snprintf(buffer, size, "%s+0x%" PRIx64, s->name,
                                          addr - s->address);
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

/* ------------------------------------------------------------------ the nm format */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool symbol_error(char *error, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static bool symbol_error(char *error, size_t size, const char *format, ...)
{
    if (error && size) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(error, size, format, ap);
        va_end(ap);
    }
    return false;
}

/* One line: an address (hex, at most 16 digits), blanks, a type letter, blanks, a name up to
 * the next blank; what follows (a kallsyms "[module]") is ignored. false for a line that is not
 * of this shape. */
static bool parse_line(const char *p, const char *end, uint64_t *address, char *type,
                       const char **name, size_t *name_length)
{
    uint64_t a = 0;
    unsigned digits = 0;
    while (p < end && hex_digit(*p) >= 0) {
        if (++digits > 16)
            return false;
        a = a << 4 | (uint64_t)hex_digit(*p++);
    }
    if (digits == 0 || p == end || (*p != ' ' && *p != '\t'))
        return false;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return false;
    *type = *p++;
    if (p == end || (*p != ' ' && *p != '\t'))
        return false;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *n = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
        p++;
    if (p == n)
        return false;
    *address = a;
    *name = n;
    *name_length = (size_t)(p - n);
    return true;
}

/* Absolute and undefined symbols name no code or data of the guest. Every address is kept,
 * 64-bit ones too (a 64-bit kernel's text is at 0xffffffff81000000). */
static bool names_guest_code(char type)
{
    return type != 'a' && type != 'A' && type != 'U' && type != 'w' && type != 'W' &&
           type != 'v' && type != 'V';
}

bool x86_symbols_parse_nm(const char *text, size_t length, struct x86_symbol_table *out,
                          char *error, size_t error_size)
{
    memset(out, 0, sizeof(*out));
    /* first pass: count and check */
    size_t lines = 0, count = 0, string_bytes = 0, nonzero = 0, line_number = 0;
    const char *end = text + length;
    for (const char *p = text; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        line_number++;
        if (eol > p && !(eol - p == 1 && *p == '\r')) {
            uint64_t address;
            char type;
            const char *name;
            size_t name_length;
            if (!parse_line(p, eol, &address, &type, &name, &name_length))
                return symbol_error(error, error_size,
                                    "line %zu is not \"ADDRESS TYPE NAME\" (a System.map or "
                                    "/proc/kallsyms)", line_number);
            if (memchr(name, '\0', name_length))
                return symbol_error(error, error_size, "line %zu: a NUL byte in the name",
                                    line_number);
            lines++;
            if (names_guest_code(type)) {
                count++;
                string_bytes += name_length + 1;
                nonzero += address != 0;
            }
        }
        p = eol + 1;
    }
    if (lines == 0)
        return symbol_error(error, error_size, "no symbols");
    if (count > 0 && nonzero == 0)
        return symbol_error(error, error_size,
                            "every address is 0 (a /proc/kallsyms read without the right to see "
                            "addresses: kernel.kptr_restrict)");
    struct x86_symbol *symbols = calloc(count ? count : 1, sizeof(*symbols));
    char *strings = malloc(string_bytes ? string_bytes : 1);
    if (!symbols || !strings) {
        free(symbols);
        free(strings);
        return symbol_error(error, error_size, "out of memory");
    }
    size_t n = 0, used = 0;
    for (const char *p = text; p < end && n < count;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        uint64_t address;
        char type;
        const char *name;
        size_t name_length;
        if (eol > p && parse_line(p, eol, &address, &type, &name, &name_length) &&
            names_guest_code(type)) {
            memcpy(strings + used, name, name_length);
            strings[used + name_length] = '\0';
            symbols[n].address = address;
            symbols[n].size = 0; /* nm gives no sizes: each covers up to the next */
            symbols[n].name = strings + used;
            used += name_length + 1;
            n++;
        }
        p = eol + 1;
    }
    x86_symbols_sort(symbols, n);
    out->symbols = symbols;
    out->count = n;
    out->strings = strings;
    return true;
}
