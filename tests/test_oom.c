/* test_oom.c -- the out-of-memory paths of the model constructors (gpt_init, srnn_init,
 * snn_build): the error names the size that did not fit.  Before, each freed the model
 * and then read the count from it, saying "0 parameters" / "0 neurons" (issue 16 #7; in
 * snn_build the read was after free).
 *
 * Each case runs in a child process whose address space is capped a little above what
 * it already uses (RLIMIT_AS), so the allocation fails on any machine.  Under
 * AddressSanitizer (make asan), which needs address space of its own for its shadow
 * memory, ASan's allocator is capped instead: it returns NULL for any block above 100 MB,
 * so the same error paths run under the sanitizer (a read after free there is found). */
#include "gpt.h"
#include "snn.h"
#include "srnn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
/* The allocator's cap (read by ASan at start-up): NULL for any block above 100 MB. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=100"; }
static int cap_memory(void) { return 0; }
#else
/* Bytes of address space this process uses now (VmSize), from /proc. */
static long long vm_size(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %lld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb * 1024;
}

/* Cap this process's address space at what it uses now + 64 MB.  0 on success. */
static int cap_memory(void) {
    struct rlimit r = {(rlim_t)(vm_size() + (64ll << 20)), (rlim_t)(vm_size() + (64ll << 20))};
    return setrlimit(RLIMIT_AS, &r);
}
#endif

/* Run make(err) in a child with its memory capped; the child's err comes back. */
static int in_small_space(int (*make)(char *err), char *err) {
    int fd[2];
    if (pipe(fd)) return -2;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        char e[TB_ERRLEN] = "";
        int rc = cap_memory() ? -2 : make(e);
        if (write(fd[1], e, strlen(e) + 1) < 0) rc = -2;
        _exit(rc == -1 ? 1 : 0);
    }
    close(fd[1]);
    ssize_t n = read(fd[0], err, TB_ERRLEN - 1);
    err[n > 0 ? n : 0] = 0;
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 1 ? -1 : 0;
}

static int big_gpt(char *err) {
    gpt_config c;
    gpt_model m;
    gpt_default_config(&c);
    c.vocab_size = 100; c.ctx = 16; c.n_layer = 16; c.n_head = 8; c.d_model = 4096; /* ~3.2e9 parameters */
    return gpt_init(&m, &c, err);
}

static int big_srnn(char *err) {
    srnn_config c;
    srnn_model m;
    srnn_default_config(&c);
    c.vocab_size = 100; c.n_neurons = 65536; /* 65536^2 recurrent weights: 17 GB */
    return srnn_init(&m, &c, err);
}

static int big_snn(char *err) {
    snn_config c;
    snn_net *n;
    if (snn_preset(&c, "cuba", 50000000, 0, err)) return -3; /* state arrays of 200 MB each */
    return snn_build(&c, &n, err);
}

static void messages_name_the_size(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    size_t params = 0;
    assert_int_equal(in_small_space(big_gpt, err), -1);
    assert_int_equal(sscanf(err, "out of memory for %zu parameters", &params), 1);
    assert_true(params > 3000000000u);
    assert_int_equal(in_small_space(big_srnn, err), -1);
    assert_string_equal(err, "out of memory for a spiking network of 65536 neurons");
    assert_int_equal(in_small_space(big_snn, err), -1);
    assert_string_equal(err, "out of memory for 50000000 neurons");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_name_the_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
