/* The cycle model's cost classes: the default profile and the classes' names
 * (docs/cycle-model.md explains the numbers). */
#include "cpu/cpu.h"

#include <string.h>

/* The default cycle-cost profile (docs/cycle-model.md explains the numbers). */
const uint16_t x86_default_cost_profile[X86_COST_CLASS_COUNT] = {
    [X86_COST_SIMPLE] = 1,
    [X86_COST_MEMORY] = 1,
    [X86_COST_BRANCH] = 2,
    [X86_COST_MUL] = 3,
    [X86_COST_DIV] = 24,
    [X86_COST_STRING] = 1,
    [X86_COST_IO] = 60,
    [X86_COST_SYSTEM] = 20,
    [X86_COST_SEGMENT] = 8,
    [X86_COST_X87] = 4,
    [X86_COST_DELIVERY] = 60,
    [X86_COST_PRIVILEGE] = 40,
    [X86_COST_IRET] = 40,
    [X86_COST_TASK_SWITCH] = 250,
};

/* names of enum x86_cost_class, in order: the text form of a cost profile */
static const char *const names[X86_COST_CLASS_COUNT] = {
    [X86_COST_SIMPLE] = "simple", [X86_COST_MEMORY] = "memory", [X86_COST_BRANCH] = "branch",
    [X86_COST_MUL] = "mul", [X86_COST_DIV] = "div", [X86_COST_STRING] = "string",
    [X86_COST_IO] = "io", [X86_COST_SYSTEM] = "system", [X86_COST_SEGMENT] = "segment",
    [X86_COST_X87] = "x87", [X86_COST_DELIVERY] = "delivery", [X86_COST_PRIVILEGE] = "privilege",
    [X86_COST_IRET] = "iret", [X86_COST_TASK_SWITCH] = "task-switch",
};

const char *x86_cost_class_name(unsigned index)
{
    return index < X86_COST_CLASS_COUNT ? names[index] : NULL;
}

int x86_cost_class_index(const char *name)
{
    for (unsigned i = 0; name && i < X86_COST_CLASS_COUNT; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}
