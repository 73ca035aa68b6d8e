/* What the freestanding programs of the libx86irq Linux kit (examples/linux/threads.c,
 * vdso.c) share: system calls (int $0x80 on i386, syscall on x86-64) and the few string
 * helpers their one line of output needs. No libc: gcc -nostdlib -ffreestanding
 * (scripts/get-linux.sh). */
#ifndef X86IRQ_KIT_FREESTANDING_H
#define X86IRQ_KIT_FREESTANDING_H

#ifdef __x86_64__
/* x86-64: the syscall instruction (RCX and R11 are the return address and RFLAGS) */
#define SYS_write 1
static inline long sys1(long n, long a)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a) : "rcx", "r11", "memory");
    return r;
}

static inline long sys3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
#else
#define SYS_write 4
static inline long sys1(long n, long a)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(n), "b"(a) : "memory");
    return r;
}

static inline long sys3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}
#endif

static inline unsigned long len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static inline char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static inline char *put_int(char *p, long v)
{
    char d[12];
    int n = 0;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = d[--n];
    return p;
}

static inline void say(const char *s) { sys3(SYS_write, 1, (long)s, (long)len(s)); }

#endif
