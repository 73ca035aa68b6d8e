/* x86irq-run's files: an input file opened for reading is a file (a directory is refused with
 * "Is a directory", which fopen alone lets through until the first read). */
#ifndef X86IRQ_TOOLS_FILES_H
#define X86IRQ_TOOLS_FILES_H

#include <stdio.h>

/* fopen(path, mode) for reading; NULL with errno set (EISDIR for a directory) */
FILE *open_input(const char *path, const char *mode);

#endif
