/* The oracle side of the conformance test: Capstone alone in this translation unit (its
 * x86.h declares names that clash with the core's). */
#include <capstone/capstone.h>
#include <stdio.h>

#include "capstone_oracle.h"

struct oracle {
    csh handle[3];
};

struct oracle *oracle_open(void)
{
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    struct oracle *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    for (int i = 0; i < 3; i++)
        if (cs_open(CS_ARCH_X86, modes[i], &o->handle[i]) != CS_ERR_OK) {
            oracle_close(o);
            return NULL;
        }
    return o;
}

void oracle_close(struct oracle *o)
{
    if (!o)
        return;
    for (int i = 0; i < 3; i++)
        if (o->handle[i])
            cs_close(&o->handle[i]);
    free(o);
}

int oracle_length(struct oracle *o, const uint8_t *bytes, size_t size, int mode, char *text,
                  size_t text_size)
{
    cs_insn *insn;
    if (cs_disasm(o->handle[mode], bytes, size, 0, 1, &insn) != 1) {
        if (text_size)
            snprintf(text, text_size, "(invalid)");
        return -1;
    }
    int length = insn->size;
    if (text_size)
        snprintf(text, text_size, "%s %s", insn->mnemonic, insn->op_str);
    cs_free(insn, 1);
    return length;
}
