/* See harness.h. */
#include "harness.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum diff_native_status diff_run_native(const char *runner, const void *cases, size_t case_size,
                                        unsigned long count, FILE **results)
{
    char cases_path[] = "/tmp/x86irq-diff-cases-XXXXXX";
    char results_path[] = "/tmp/x86irq-diff-results-XXXXXX";
    int cfd = mkstemp(cases_path), rfd = mkstemp(results_path);
    if (cfd < 0 || rfd < 0) {
        printf("Bail out! cannot make temporary files\n");
        return DIFF_NATIVE_FAILED;
    }
    close(rfd);
    FILE *cf = fdopen(cfd, "wb");
    if (!cf || fwrite(cases, case_size, count, cf) != count || fclose(cf) != 0) {
        printf("Bail out! cannot write the cases\n");
        unlink(cases_path);
        unlink(results_path);
        return DIFF_NATIVE_FAILED;
    }
    pid_t pid = fork();
    if (pid == 0) {
        execl(runner, runner, cases_path, results_path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    *results = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? fopen(results_path, "rb") : NULL;
    unlink(cases_path);
    unlink(results_path); /* an open file stays readable */
    if (*results)
        return DIFF_NATIVE_OK;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
        return DIFF_NATIVE_SKIP;
    printf("Bail out! the native runner failed (status 0x%x)\n", status);
    return DIFF_NATIVE_FAILED;
}
