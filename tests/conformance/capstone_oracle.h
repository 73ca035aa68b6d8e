#ifndef CAPSTONE_ORACLE_H
#define CAPSTONE_ORACLE_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
struct oracle;
struct oracle *oracle_open(void);
void oracle_close(struct oracle *o);
/* Capstone's length of the first instruction, or -1 if it does not decode. mode: 0, 1, 2 for
 * 16-, 32-, 64-bit. */
int oracle_length(struct oracle *o, const uint8_t *bytes, size_t size, int mode, char *text,
                  size_t text_size);
#endif
