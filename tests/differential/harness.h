/* The comparers' common part (differential.c, differential64.c): hand the generated cases to a
 * native runner in a temporary file and open what it wrote back. */
#ifndef DIFFERENTIAL_HARNESS_H
#define DIFFERENTIAL_HARNESS_H

#include <stddef.h>
#include <stdio.h>

enum diff_native_status { DIFF_NATIVE_OK, DIFF_NATIVE_SKIP, DIFF_NATIVE_FAILED };

/* Write count cases of case_size bytes, run `runner CASES RESULTS`, and open the results in
 * *results (the temporary files are gone by then). SKIP: the runner exited 3, it cannot map
 * its code or buffer on this host. FAILED: printed as a TAP "Bail out!". */
enum diff_native_status diff_run_native(const char *runner, const void *cases, size_t case_size,
                                        unsigned long count, FILE **results);

#endif
