/* The guests' library (see guest.h). */
#include "guest.h"

#define COM1 0x3F8
#define DEBUG_EXIT_PORT 0xF4

void serial_putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20)) /* LSR.THRE: the transmitter holding register is empty */
        ;
    outb(COM1, (uint8_t)c);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

void exit(int status)
{
    outl(DEBUG_EXIT_PORT, (uint32_t)status);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ------------------------------------------------------------------ string functions (gcc may
 * emit calls to these even in freestanding code) */

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

char *strstr(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++)
        if (memcmp(haystack, needle, n) == 0)
            return (char *)haystack;
    return n == 0 ? (char *)haystack : NULL;
}

/* ------------------------------------------------------------------ printf */

static void put_number(unsigned long long v, unsigned base, int width, char pad, int negative,
                       int upper, int *count)
{
    char buf[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (negative)
        width--;
    if (negative && pad == '0') {
        serial_putc('-');
        (*count)++;
    }
    for (int i = n; i < width; i++, (*count)++)
        serial_putc(pad);
    if (negative && pad != '0') {
        serial_putc('-');
        (*count)++;
    }
    while (n) {
        serial_putc(buf[--n]);
        (*count)++;
    }
}

int vprintf(const char *fmt, va_list ap)
{
    int count = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            count++;
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longness = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longness++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': case 'i': {
            /* %ld takes a long: 32 bits with -m32, 64 with -m64 (the long-mode guests) */
            long long v = longness >= 2 ? va_arg(ap, long long)
                          : longness == 1 ? va_arg(ap, long) : va_arg(ap, int);
            put_number(v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, width, pad,
                       v < 0, 0, &count);
            break;
        }
        case 'u': case 'x': case 'X': {
            unsigned long long v = longness >= 2 ? va_arg(ap, unsigned long long)
                                   : longness == 1 ? va_arg(ap, unsigned long)
                                                   : va_arg(ap, unsigned int);
            put_number(v, *fmt == 'u' ? 10 : 16, width, pad, 0, *fmt == 'X', &count);
            break;
        }
        case 'p':
            serial_puts("0x");
            count += 2;
            put_number((uintptr_t)va_arg(ap, void *), 16, 2 * (int)sizeof(void *), '0', 0, 0,
                       &count);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = (int)strlen(s);
            for (int i = n; i < width; i++, count++)
                serial_putc(' ');
            serial_puts(s);
            count += n;
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            count++;
            break;
        case '%':
            serial_putc('%');
            count++;
            break;
        default:
            serial_putc('%');
            serial_putc(*fmt);
            count += 2;
            break;
        }
    }
    return count;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* ------------------------------------------------------------------ TAP */

static int tap_count, tap_failed;

void tap_plan(int count)
{
    printf("1..%d\n", count);
}

int vok(int condition, const char *skip_reason, const char *fmt, va_list ap)
{
    tap_count++;
    if (!condition)
        tap_failed++;
    printf("%s %d - ", condition ? "ok" : "not ok", tap_count);
    vprintf(fmt, ap);
    if (skip_reason)
        printf(" # SKIP %s", skip_reason);
    serial_putc('\n');
    return condition;
}

int ok(int condition, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vok(condition, NULL, fmt, ap);
    va_end(ap);
    return r;
}

int is_u32(uint32_t got, uint32_t expected, const char *what)
{
    int r = ok(got == expected, "%s", what);
    if (!r)
        printf("# %s: got 0x%08x, expected 0x%08x\n", what, got, expected);
    return r;
}

int is_u64(uint64_t got, uint64_t expected, const char *what)
{
    int r = ok(got == expected, "%s", what);
    if (!r)
        printf("# %s: got 0x%016llx, expected 0x%016llx\n", what, (unsigned long long)got,
               (unsigned long long)expected);
    return r;
}

void tap_done(void)
{
    exit(tap_failed ? 1 : 0);
}
