/* ANSI colours for the runner's text reports (--color=auto|always|never, NO_COLOR). A style is
 * a prefix and "\033[0m" after; with colour off both are "", so the text is the same bytes
 * with the escapes taken out. */
#ifndef X86IRQ_TOOLS_COLOR_H
#define X86IRQ_TOOLS_COLOR_H

#include <stdbool.h>

enum color_style {
    COLOR_HEADING,  /* "--- ... ---" */
    COLOR_NAME,     /* a vector's or a phase's name */
    COLOR_GOOD,     /* a clean result */
    COLOR_BAD,      /* a rule fired, a triple fault */
    COLOR_WARN,     /* a budget reached, dropped samples */
    COLOR_BAR,      /* histogram bars */
    COLOR_STYLE_COUNT
};

static inline const char *color_on(bool color, enum color_style style)
{
    static const char *const sgr[COLOR_STYLE_COUNT] = {
        [COLOR_HEADING] = "\033[1;36m", [COLOR_NAME] = "\033[1m", [COLOR_GOOD] = "\033[32m",
        [COLOR_BAD] = "\033[1;31m", [COLOR_WARN] = "\033[33m", [COLOR_BAR] = "\033[34m",
    };
    return color && (unsigned)style < COLOR_STYLE_COUNT ? sgr[style] : "";
}

static inline const char *color_off(bool color)
{
    return color ? "\033[0m" : "";
}

#endif
