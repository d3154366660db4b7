/* test_fuzz_repro.c -- every fuzz seed and every crash reproducer, replayed as a unit test.
 *
 * tests/fuzz/corpus/TARGET/ holds the seeds of `make fuzz`; tests/fuzz/repro/TARGET/ the
 * inputs that once crashed a reader (each fixed, each kept).  Every file goes to the
 * same harness function the fuzzer calls (tests/fuzz/harness.h), which must return a
 * result or a one-line error: a crash, an ASan/UBSan report (`make asan`) or a broken
 * promise fails the test named after the target, and its teardown names the file.
 * The CLI parser exits on bad usage, so each of its inputs runs in a child process
 * that must end with status 0 (parsed, or --help) or 2 (usage error). */
#include "fuzz/harness.c"
#include "fuzz/harness_cli.c"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>

static const char *current; /* the file being replayed, for the teardown's message */

/* A broken promise aborts: say which file before the process ends. */
static void on_abort(int sig) {
    static const char msg[] = "fuzz replay aborted at: ";
    if (current) {
        ssize_t rc = write(2, msg, sizeof msg - 1);
        rc = write(2, current, strlen(current));
        rc = write(2, "\n", 1);
        (void)rc;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir (sorted; none if the folder does not exist). */
static int list_files(const char *dir, char ***out) {
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = realloc(*out, (size_t)cap * sizeof **out);
            assert_non_null(*out);
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        (*out)[n] = malloc(len);
        assert_non_null((*out)[n]);
        snprintf((*out)[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n > 1) qsort(*out, (size_t)n, sizeof **out, cmp_names);
    return n;
}

/* The CLI input in a child with stdout/stderr silenced: its exit status. */
static int cli_child(const uint8_t *data, size_t n) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) { dup2(null, 1); dup2(null, 2); }
        fuzz_cli(data, n);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Replay corpus/TARGET and repro/TARGET; returns how many files. */
static int replay(const char *target, void (*run)(const uint8_t *, size_t)) {
    int total = 0;
    for (int k = 0; k < 2; k++) {
        char dir[256], err[TB_ERRLEN];
        snprintf(dir, sizeof dir, "tests/fuzz/%s/%s", k ? "repro" : "corpus", target);
        char **files;
        int n = list_files(dir, &files);
        for (int i = 0; i < n; i++) {
            char *data;
            size_t len;
            current = files[i];
            assert_int_equal(read_file(files[i], &data, &len, err), 0);
            if (run) run((const uint8_t *)data, len);
            else {
                int st = cli_child((const uint8_t *)data, len);
                if (st != 0 && st != 2) fail_msg("%s: the CLI parser ended with status %d", files[i], st);
            }
            free(data);
            free(files[i]);
        }
        free(files);
        total += n;
    }
    current = NULL;
    return total;
}

static void replay_target(void **state) {
    const fuzz_target *t = *state;
    int n = replay(t->name, t->run);
    if (n == 0) fail_msg("tests/fuzz/corpus/%s/ has no seeds (run from the repository root)", t->name);
}

static void replay_cli(void **state) {
    (void)state;
    if (replay("cli", NULL) == 0) fail_msg("tests/fuzz/corpus/cli/ has no seeds");
}

static int name_the_file(void **state) {
    (void)state;
    if (current) print_message("fuzz replay stopped at %s\n", current);
    current = NULL;
    return 0;
}

int main(void) {
    signal(SIGABRT, on_abort);
    int nt = 0;
    while (fuzz_targets[nt].name) nt++;
    struct CMUnitTest *tests = calloc((size_t)nt + 1, sizeof *tests);
    if (!tests) return 1;
    for (int i = 0; i < nt; i++) {
        tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
            replay_target, NULL, name_the_file, (void *)&fuzz_targets[i]);
        tests[i].name = fuzz_targets[i].name;
    }
    tests[nt] = (struct CMUnitTest)cmocka_unit_test_teardown(replay_cli, name_the_file);
    tests[nt].name = "cli";
    int rc = _cmocka_run_group_tests("fuzz_repro", tests, (size_t)nt + 1, NULL, NULL);
    free(tests);
    return rc;
}
