/* Phase and thread-switch symbols (x86irq_set_phase_symbols): a list of GLOB=PHASE and
 * GLOB=switch:NEXT:PREV entries resolved against the guest's symbols into the code-watch probes
 * of the core (events.h says what the probes do). */
#include "trace/events.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "loader/loader.h"

/* Linux's own functions, by phase (Linux 6.1, arch/x86 and kernel/): the IDT entry points of
 * device interrupts and system vectors are the critical phase; handle_irq_event (the drivers'
 * handlers of a device interrupt) and the clock event handlers the local APIC timer and the
 * HPET call (hrtimer_interrupt, tick_handle_periodic) are the immediate phase; __do_softirq
 * runs the softirqs (from irq_exit or ksoftirqd), and in later 6.1 stable kernels (Debian 12's
 * 6.1.0-57 among them) handle_softirqs does (__do_softirq became its wrapper, and the amd64
 * kernel's irq exit and ksoftirqd reach handle_softirqs without it), tasklet_action_common the
 * tasklets of both tasklet softirqs, process_one_work a work item in a kworker. What follows the handler before
 * the IRET is the interrupted context's again: a reschedule (preempt_schedule_irq) or the work
 * before a return to user mode (irqentry_exit_to_user_mode: signals, rseq, which touch user
 * memory). __switch_to_asm(prev, next) switches threads: 32-bit Linux passes them in eax and
 * edx (-mregparm=3), 64-bit Linux in rdi and rsi (the SysV ABI); the probe reads the pair of
 * the mode the core runs in when it gets there. The int3 and debug entries run in any context:
 * Linux patches its own text live with int3 (text_poke_bp: static keys, alternatives, ftrace;
 * another CPU taking the int3 may be inside an interrupt's entry, as when the TSC becomes
 * sched_clock's stable clock) and kprobes and hardware breakpoints use them too; exc_int3 and
 * exc_debug are noinstr, NMI-like, and never sleep. */
static const char linux_list[] =
    "asm_common_interrupt=critical,asm_sysvec_*=critical,handle_irq_event=immediate,"
    "hrtimer_interrupt=immediate,tick_handle_periodic=immediate,__do_softirq=softirq,"
    "handle_softirqs=softirq,"
    "tasklet_action_common*=tasklet,process_one_work=workqueue,"
    "preempt_schedule_irq=process,irqentry_exit_to_user_mode=process,"
    "__switch_to_asm=switch:edx:eax:rsi:rdi,"
    "asm_exc_int3=any-context,asm_exc_debug=any-context";

/* By enum x86_gpr: the 32-bit names, then the 64-bit ones (r8-r15 exist in 64-bit code only) */
static const char *const register_names[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp",
                                              "esi", "edi" };
static const char *const register_names64[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                                "rsi", "rdi", "r8", "r9", "r10", "r11",
                                                "r12", "r13", "r14", "r15" };

/* A register that may hold a thread's ID (not the stack or frame pointer) by its 32- or 64-bit
 * name, -1 if none */
static int register_of(const char *name, size_t length)
{
    for (unsigned i = 0; i < 16; i++) {
        if (i == X86_ESP || i == X86_EBP)
            continue;
        if (i < 8 && strlen(register_names[i]) == length &&
            strncmp(name, register_names[i], length) == 0)
            return (int)i;
        if (strlen(register_names64[i]) == length &&
            strncmp(name, register_names64[i], length) == 0)
            return (int)i;
    }
    return -1;
}

/* One entry's right-hand side into a probe template; false if malformed. A switch is
 * switch:NEXT:PREV (the same registers in every mode: 32 bits of them outside 64-bit mode, all
 * 64 in it) or switch:NEXT:PREV:NEXT64:PREV64 (a second pair for 64-bit code). */
static bool parse_action(const char *text, size_t length, struct x86_probe *probe)
{
    memset(probe, 0, sizeof(*probe));
    for (unsigned i = 0; i < X86IRQ_PHASE_COUNT; i++) {
        const char *name = x86irq_phase_name((x86irq_phase)i); /* the library's own words */
        if (strlen(name) == length && strncmp(text, name, length) == 0) {
            probe->kind = X86_PROBE_PHASE;
            probe->phase = (uint8_t)i;
            return true;
        }
    }
    if (length == 11 && strncmp(text, "any-context", 11) == 0) {
        probe->kind = X86_PROBE_ANY_CONTEXT;
        return true;
    }
    if (length < 7 || strncmp(text, "switch:", 7) != 0)
        return false;
    /* the colon-separated register names: two or four */
    const char *field = text + 7, *end = text + length;
    int registers[4];
    unsigned count = 0;
    for (;;) {
        const char *colon = memchr(field, ':', (size_t)(end - field));
        const char *stop = colon ? colon : end;
        if (count == 4)
            return false;
        registers[count] = register_of(field, (size_t)(stop - field));
        if (registers[count] < 0)
            return false;
        count++;
        if (!colon)
            break;
        field = colon + 1;
    }
    if (count != 2 && count != 4)
        return false;
    if (count == 4 && (registers[0] >= 8 || registers[1] >= 8))
        return false; /* the first pair is then 32-bit code's, which has no r8-r15 */
    probe->kind = X86_PROBE_SWITCH;
    probe->next_register = (uint8_t)registers[0];
    probe->previous_register = (uint8_t)registers[1];
    probe->next_register64 = (uint8_t)registers[count == 4 ? 2 : 0];
    probe->previous_register64 = (uint8_t)registers[count == 4 ? 3 : 1];
    return true;
}

static int compare_probes(const void *a, const void *b)
{
    const struct x86_probe *x = a, *y = b;
    return x->address < y->address ? -1 : x->address > y->address;
}

static bool fail(char *error, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *error, size_t size, const char *format, ...)
{
    if (error && size) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(error, size, format, ap);
        va_end(ap);
    }
    return false;
}

bool x86_trace_set_phase_symbols(struct x86_trace *t, const char *list, char *error,
                                 size_t error_size)
{
    struct x86_probe *probes = NULL;
    size_t count = 0, capacity = 0;
    if (list && strcmp(list, "linux") == 0)
        list = linux_list;
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t length = comma ? (size_t)(comma - p) : strlen(p);
        const char *equals = memchr(p, '=', length);
        struct x86_probe template;
        char glob[128];
        size_t glob_length = equals ? (size_t)(equals - p) : 0;
        if (!equals || glob_length == 0 || glob_length >= sizeof(glob) ||
            !parse_action(equals + 1, length - glob_length - 1, &template)) {
            free(probes);
            return fail(error, error_size,
                        "phase symbols: '%.*s' is not GLOB=PHASE (process, critical, immediate, "
                        "softirq, tasklet, workqueue) or GLOB=switch:NEXT:PREV[:NEXT64:PREV64]",
                        (int)length, p);
        }
        memcpy(glob, p, glob_length);
        glob[glob_length] = '\0';
        /* every symbol the glob names; the first entry naming an address wins */
        const struct x86_symbol_table *symbols = t->symbols;
        for (size_t i = 0; symbols && i < symbols->count; i++) {
            const struct x86_symbol *s = &symbols->symbols[i];
            if (fnmatch(glob, s->name, 0) != 0)
                continue;
            bool known = false;
            for (size_t k = 0; k < count && !known; k++)
                known = probes[k].address == s->address;
            if (known)
                continue;
            if (count == capacity) {
                capacity = capacity ? capacity * 2 : 64;
                struct x86_probe *bigger = realloc(probes, capacity * sizeof(*bigger));
                if (!bigger) {
                    free(probes);
                    return fail(error, error_size, "out of memory");
                }
                probes = bigger;
            }
            probes[count] = template;
            probes[count].address = s->address;
            count++;
        }
        p = comma ? comma + 1 : p + length;
    }
    if (list && *list && count == 0)
        return fail(error, error_size,
                    "phase symbols: no symbol matches (load the guest's symbols first: "
                    "--symbols for a kernel without them)");
    uint64_t *addresses = count ? malloc(count * sizeof(*addresses)) : NULL;
    if (count && !addresses) {
        free(probes);
        return fail(error, error_size, "out of memory");
    }
    if (count)
        qsort(probes, count, sizeof(*probes), compare_probes);
    for (size_t i = 0; i < count; i++)
        addresses[i] = probes[i].address;
    free(t->probes);
    free(t->probe_addresses);
    t->probes = probes;
    t->probe_addresses = addresses;
    t->probe_count = (unsigned)count;
    if (count)
        t->phases_known = true;
    return true;
}
