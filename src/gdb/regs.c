/* The registers gdb sees, one table per architecture, and the target description (target.xml)
 * made from the same table: the order of a row is its gdb register number and its place in
 * the g packet. The names and the features are gdb's own (the XML files of gdb/features/i386): the core
 * feature with the x87 registers, the SSE feature, 64-bit FS/GS bases; the control, debug and
 * descriptor-table registers in a feature of ours, which gdb shows as it is ("info registers
 * cr0", "p/x $cr3"). General registers, RIP, RFLAGS, control registers and bases are read and
 * written through the public register API, with its architectural refusals; the x87 and SSE
 * state directly. */
#include "gdb/gdb.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ accessors */

static void put_le(uint8_t *out, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le(const uint8_t *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)in[i] << (8 * i);
    return v;
}

/* a 64-bit-view register shown as 32 bits (i386) or 64 (x86-64): arg = reg | width << 8 */
static void get64(x86irq_machine *m, unsigned cpu, unsigned arg, uint8_t *out)
{
    uint64_t v = 0;
    x86irq_get_cpu_register64(m, cpu, (x86irq_register64)(arg & 0xFF), &v);
    put_le(out, v, arg >> 8);
}
static bool set64(x86irq_machine *m, unsigned cpu, unsigned arg, const uint8_t *in)
{
    x86irq_register64 reg = (x86irq_register64)(arg & 0xFF);
    uint64_t v = get_le(in, arg >> 8), old = 0;
    x86irq_get_cpu_register64(m, cpu, reg, &old);
    if ((arg >> 8) == 4)
        v |= old & ~0xFFFFFFFFull; /* i386's view of a register: its low half */
    return v == old || x86irq_set_cpu_register64(m, cpu, reg, v) == X86IRQ_OK;
}

/* a register of the 32-bit view (segment selectors, debug registers), shown as 32 bits */
static void get32(x86irq_machine *m, unsigned cpu, unsigned arg, uint8_t *out)
{
    uint32_t v = 0;
    x86irq_get_cpu_register(m, cpu, (x86irq_register)arg, &v);
    put_le(out, v, 4);
}
static bool set32(x86irq_machine *m, unsigned cpu, unsigned arg, const uint8_t *in)
{
    uint32_t v = (uint32_t)get_le(in, 4), old = 0;
    x86irq_get_cpu_register(m, cpu, (x86irq_register)arg, &old);
    return v == old || x86irq_set_cpu_register(m, cpu, (x86irq_register)arg, v) == X86IRQ_OK;
}

static struct x86_cpu *cpu_of(x86irq_machine *m, unsigned cpu)
{
    return &m->cores[cpu]->cpu;
}

/* ST(i): physical register (TOP + i) mod 8, the 80-bit format the host's long double holds
 * (src/cpu/x87.c) */
static unsigned st_physical(const struct x86_cpu *c, unsigned i)
{
    return (((c->fpu.status >> 11) & 7) + i) & 7;
}
static void get_st(x86irq_machine *m, unsigned cpu, unsigned i, uint8_t *out)
{
    const struct x86_cpu *c = cpu_of(m, cpu);
    memset(out, 0, 10);
    memcpy(out, &c->fpu.st[st_physical(c, i)], sizeof(long double) < 10 ? sizeof(long double) : 10);
}
static bool set_st(x86irq_machine *m, unsigned cpu, unsigned i, const uint8_t *in)
{
    struct x86_cpu *c = cpu_of(m, cpu);
    unsigned r = st_physical(c, i);
    long double v = 0;
    memcpy(&v, in, sizeof(long double) < 10 ? sizeof(long double) : 10);
    c->fpu.st[r] = v;
    /* the tag of a register written: valid, zero or special (SDM Vol. 1 8.1.7) */
    unsigned exponent = (unsigned)get_le(in + 8, 2) & 0x7FFF;
    uint64_t mantissa = get_le(in, 8);
    unsigned tag = exponent == 0x7FFF || (exponent && !(mantissa >> 63)) ? 2
                   : !exponent ? (mantissa ? 2 : 1)
                               : 0;
    c->fpu.tag = (uint16_t)((c->fpu.tag & ~(3u << (2 * r))) | tag << (2 * r));
    return true;
}

/* the x87 control registers: fctrl, fstat, ftag (the full tag word), and the last
 * instruction's pointers, which the model does not keep (read as 0, as FXSAVE's image has) */
enum { FCTRL, FSTAT, FTAG, FZERO };
static void get_fpu(x86irq_machine *m, unsigned cpu, unsigned which, uint8_t *out)
{
    const struct x86_cpu *c = cpu_of(m, cpu);
    uint32_t v = which == FCTRL ? c->fpu.control
                 : which == FSTAT ? c->fpu.status
                 : which == FTAG ? c->fpu.tag
                                 : 0;
    put_le(out, v, 4);
}
static bool set_fpu(x86irq_machine *m, unsigned cpu, unsigned which, const uint8_t *in)
{
    struct x86_cpu *c = cpu_of(m, cpu);
    uint32_t v = (uint32_t)get_le(in, 4);
    if (which == FZERO)
        return v == 0;
    if (v > 0xFFFF)
        return false;
    if (which == FCTRL)
        c->fpu.control = (uint16_t)v;
    else if (which == FSTAT)
        c->fpu.status = (uint16_t)v;
    else
        c->fpu.tag = (uint16_t)v;
    return true;
}

static void get_xmm(x86irq_machine *m, unsigned cpu, unsigned i, uint8_t *out)
{
    memcpy(out, cpu_of(m, cpu)->sse.xmm[i].b, 16);
}
static bool set_xmm(x86irq_machine *m, unsigned cpu, unsigned i, const uint8_t *in)
{
    memcpy(cpu_of(m, cpu)->sse.xmm[i].b, in, 16);
    return true;
}
static void get_mxcsr(x86irq_machine *m, unsigned cpu, unsigned arg, uint8_t *out)
{
    (void)arg;
    put_le(out, cpu_of(m, cpu)->sse.mxcsr, 4);
}
static bool set_mxcsr(x86irq_machine *m, unsigned cpu, unsigned arg, const uint8_t *in)
{
    (void)arg;
    uint32_t v = (uint32_t)get_le(in, 4);
    if (v & ~X86_MXCSR_MASK)
        return false; /* what LDMXCSR would #GP on */
    cpu_of(m, cpu)->sse.mxcsr = v;
    return true;
}

/* ------------------------------------------------------------------ the tables */

#define R64(name, reg, bits, feature, type, group)                                       \
    { name, bits, feature, type, group, get64, set64, (unsigned)(reg) | ((bits) / 8) << 8 }
#define R32(name, reg, feature, type, group) \
    { name, 32, feature, type, group, get32, set32, (unsigned)(reg) }
#define ST(i) { "st" #i, 80, X86_GDB_CORE, "i387_ext", NULL, get_st, set_st, i }
#define FPU(name, which) { name, 32, X86_GDB_CORE, "int", "float", get_fpu, set_fpu, which }
#define XMM(i) { "xmm" #i, 128, X86_GDB_SSE, "vec128", NULL, get_xmm, set_xmm, i }
#define X87_ROWS                                                                               \
    ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7), FPU("fctrl", FCTRL),               \
        FPU("fstat", FSTAT), FPU("ftag", FTAG), FPU("fiseg", FZERO), FPU("fioff", FZERO),     \
        FPU("foseg", FZERO), FPU("fooff", FZERO), FPU("fop", FZERO)
#define SEGMENT_ROWS                                                                           \
    R32("cs", X86IRQ_REG_CS, X86_GDB_CORE, "int32", NULL),                                     \
        R32("ss", X86IRQ_REG_SS, X86_GDB_CORE, "int32", NULL),                                 \
        R32("ds", X86IRQ_REG_DS, X86_GDB_CORE, "int32", NULL),                                 \
        R32("es", X86IRQ_REG_ES, X86_GDB_CORE, "int32", NULL),                                 \
        R32("fs", X86IRQ_REG_FS, X86_GDB_CORE, "int32", NULL),                                 \
        R32("gs", X86IRQ_REG_GS, X86_GDB_CORE, "int32", NULL)
#define MXCSR_ROW { "mxcsr", 32, X86_GDB_SSE, "i386_mxcsr", "vector", get_mxcsr, set_mxcsr, 0 }
/* the system registers: control, descriptor tables, debug */
#define SYSTEM_ROWS(bits)                                                                      \
    R64("cr0", X86IRQ_REG64_CR0, bits, X86_GDB_SYSTEM, "int", "system"),                       \
        R64("cr2", X86IRQ_REG64_CR2, bits, X86_GDB_SYSTEM, "int", "system"),                   \
        R64("cr3", X86IRQ_REG64_CR3, bits, X86_GDB_SYSTEM, "int", "system"),                   \
        R64("cr4", X86IRQ_REG64_CR4, bits, X86_GDB_SYSTEM, "int", "system"),                   \
        R64("cr8", X86IRQ_REG64_CR8, bits, X86_GDB_SYSTEM, "int", "system"),                   \
        R64("efer", X86IRQ_REG64_EFER, 64, X86_GDB_SYSTEM, "int", "system"),                   \
        R64("gdtr_base", X86IRQ_REG64_GDTR_BASE, bits, X86_GDB_SYSTEM, "data_ptr", "system"),  \
        R64("gdtr_limit", X86IRQ_REG64_GDTR_LIMIT, 32, X86_GDB_SYSTEM, "int", "system"),       \
        R64("idtr_base", X86IRQ_REG64_IDTR_BASE, bits, X86_GDB_SYSTEM, "data_ptr", "system"),  \
        R64("idtr_limit", X86IRQ_REG64_IDTR_LIMIT, 32, X86_GDB_SYSTEM, "int", "system"),       \
        R64("ldtr_base", X86IRQ_REG64_LDTR_BASE, bits, X86_GDB_SYSTEM, "data_ptr", "system"),  \
        R64("tr_base", X86IRQ_REG64_TR_BASE, bits, X86_GDB_SYSTEM, "data_ptr", "system"),      \
        R32("dr0", X86IRQ_REG_DR0, X86_GDB_SYSTEM, "int", "system"),                           \
        R32("dr1", X86IRQ_REG_DR1, X86_GDB_SYSTEM, "int", "system"),                           \
        R32("dr2", X86IRQ_REG_DR2, X86_GDB_SYSTEM, "int", "system"),                           \
        R32("dr3", X86IRQ_REG_DR3, X86_GDB_SYSTEM, "int", "system"),                           \
        R32("dr6", X86IRQ_REG_DR6, X86_GDB_SYSTEM, "int", "system"),                           \
        R32("dr7", X86IRQ_REG_DR7, X86_GDB_SYSTEM, "int", "system")

static const struct x86_gdb_reg i386_regs[] = {
    R64("eax", X86IRQ_REG64_RAX, 32, X86_GDB_CORE, "int32", NULL),
    R64("ecx", X86IRQ_REG64_RCX, 32, X86_GDB_CORE, "int32", NULL),
    R64("edx", X86IRQ_REG64_RDX, 32, X86_GDB_CORE, "int32", NULL),
    R64("ebx", X86IRQ_REG64_RBX, 32, X86_GDB_CORE, "int32", NULL),
    R64("esp", X86IRQ_REG64_RSP, 32, X86_GDB_CORE, "data_ptr", NULL),
    R64("ebp", X86IRQ_REG64_RBP, 32, X86_GDB_CORE, "data_ptr", NULL),
    R64("esi", X86IRQ_REG64_RSI, 32, X86_GDB_CORE, "int32", NULL),
    R64("edi", X86IRQ_REG64_RDI, 32, X86_GDB_CORE, "int32", NULL),
    R64("eip", X86IRQ_REG64_RIP, 32, X86_GDB_CORE, "code_ptr", NULL),
    R64("eflags", X86IRQ_REG64_RFLAGS, 32, X86_GDB_CORE, "i386_eflags", NULL),
    SEGMENT_ROWS,
    X87_ROWS,
    XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
    MXCSR_ROW,
    SYSTEM_ROWS(32),
};

static const struct x86_gdb_reg x86_64_regs[] = {
    R64("rax", X86IRQ_REG64_RAX, 64, X86_GDB_CORE, "int64", NULL),
    R64("rbx", X86IRQ_REG64_RBX, 64, X86_GDB_CORE, "int64", NULL),
    R64("rcx", X86IRQ_REG64_RCX, 64, X86_GDB_CORE, "int64", NULL),
    R64("rdx", X86IRQ_REG64_RDX, 64, X86_GDB_CORE, "int64", NULL),
    R64("rsi", X86IRQ_REG64_RSI, 64, X86_GDB_CORE, "int64", NULL),
    R64("rdi", X86IRQ_REG64_RDI, 64, X86_GDB_CORE, "int64", NULL),
    R64("rbp", X86IRQ_REG64_RBP, 64, X86_GDB_CORE, "data_ptr", NULL),
    R64("rsp", X86IRQ_REG64_RSP, 64, X86_GDB_CORE, "data_ptr", NULL),
    R64("r8", X86IRQ_REG64_R8, 64, X86_GDB_CORE, "int64", NULL),
    R64("r9", X86IRQ_REG64_R9, 64, X86_GDB_CORE, "int64", NULL),
    R64("r10", X86IRQ_REG64_R10, 64, X86_GDB_CORE, "int64", NULL),
    R64("r11", X86IRQ_REG64_R11, 64, X86_GDB_CORE, "int64", NULL),
    R64("r12", X86IRQ_REG64_R12, 64, X86_GDB_CORE, "int64", NULL),
    R64("r13", X86IRQ_REG64_R13, 64, X86_GDB_CORE, "int64", NULL),
    R64("r14", X86IRQ_REG64_R14, 64, X86_GDB_CORE, "int64", NULL),
    R64("r15", X86IRQ_REG64_R15, 64, X86_GDB_CORE, "int64", NULL),
    R64("rip", X86IRQ_REG64_RIP, 64, X86_GDB_CORE, "code_ptr", NULL),
    R64("eflags", X86IRQ_REG64_RFLAGS, 32, X86_GDB_CORE, "i386_eflags", NULL),
    SEGMENT_ROWS,
    X87_ROWS,
    XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
    XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
    MXCSR_ROW,
    R64("fs_base", X86IRQ_REG64_FS_BASE, 64, X86_GDB_SEGMENTS, "int", NULL),
    R64("gs_base", X86IRQ_REG64_GS_BASE, 64, X86_GDB_SEGMENTS, "int", NULL),
    R64("k_gs_base", X86IRQ_REG64_KERNEL_GS_BASE, 64, X86_GDB_SYSTEM, "int", "system"),
    SYSTEM_ROWS(64),
};

void x86_gdb_regset(struct x86_gdb_regset *set, bool x86_64, bool sse)
{
    const struct x86_gdb_reg *table = x86_64 ? x86_64_regs : i386_regs;
    unsigned n = x86_64 ? sizeof(x86_64_regs) / sizeof(x86_64_regs[0])
                        : sizeof(i386_regs) / sizeof(i386_regs[0]);
    _Static_assert(sizeof(x86_64_regs) / sizeof(x86_64_regs[0]) <= X86_GDB_MAX_REGS &&
                       sizeof(i386_regs) / sizeof(i386_regs[0]) <= X86_GDB_MAX_REGS,
                   "room for every register");
    set->x86_64 = x86_64;
    set->count = 0;
    for (unsigned i = 0; i < n; i++) /* a machine without SSE: the table without those rows */
        if (sse || table[i].feature != X86_GDB_SSE)
            set->regs[set->count++] = table[i];
}

/* ------------------------------------------------------------------ target.xml */

static const char *const feature_names[X86_GDB_FEATURE_COUNT] = {
    [X86_GDB_CORE] = "org.gnu.gdb.i386.core",
    [X86_GDB_SSE] = "org.gnu.gdb.i386.sse",
    [X86_GDB_SEGMENTS] = "org.gnu.gdb.i386.segments",
    [X86_GDB_SYSTEM] = "org.x86irq.gdb.system",
};

/* the types the core and SSE features use (gdb/features/i386/32bit-core.xml, 32bit-sse.xml) */
static const char core_types[] =
    "<flags id=\"i386_eflags\" size=\"4\">"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
    "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
    "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
    "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
    "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
    "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
    "<field name=\"ID\" start=\"21\" end=\"21\"/></flags>";
static const char sse_types[] =
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
    "<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
    "<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
    "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>"
    "</union>"
    "<flags id=\"i386_mxcsr\" size=\"4\">"
    "<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
    "<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>"
    "<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>"
    "<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
    "<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>"
    "<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>"
    "<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/>"
    "</flags>";

size_t x86_gdb_target_xml(const struct x86_gdb_regset *set, char *out, size_t size)
{
    size_t n = 0;
#define EMIT(...)                                                                   \
    do {                                                                            \
        int k = snprintf(out + n, n < size ? size - n : 0, __VA_ARGS__);            \
        if (k < 0 || (n += (size_t)k) >= size)                                      \
            return 0;                                                               \
    } while (0)
    EMIT("<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
         "<target version=\"1.0\"><architecture>%s</architecture>",
         set->x86_64 ? "i386:x86-64" : "i386");
    for (unsigned f = 0; f < X86_GDB_FEATURE_COUNT; f++) {
        bool any = false;
        for (unsigned r = 0; r < set->count; r++)
            any |= set->regs[r].feature == f;
        if (!any)
            continue;
        EMIT("<feature name=\"%s\">%s", feature_names[f],
             f == X86_GDB_CORE ? core_types : f == X86_GDB_SSE ? sse_types : "");
        for (unsigned r = 0; r < set->count; r++) {
            const struct x86_gdb_reg *g = &set->regs[r];
            if (g->feature != f)
                continue;
            EMIT("<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"%s%s%s/>", g->name,
                 g->bits, g->type, r, g->group ? " group=\"" : "", g->group ? g->group : "",
                 g->group ? "\"" : "");
        }
        EMIT("</feature>");
    }
    EMIT("</target>");
#undef EMIT
    return n;
}
