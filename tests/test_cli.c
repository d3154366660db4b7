/* test_cli.c -- the command line's promises, checked on the binary (src/cli/ is not in
 * the library, so these run ./tinybrain): exit status 2 for bad usage, help and limits
 * that say what the program does (issue 16 #7), eval refusing a diverged model
 * (issue 16 #5), and two identical trainings writing identical files whatever --threads
 * (issue 16 #8; the determinism contract of include/threads.h).  The binary is the one beside the test's build folder (build-asan/
 * for `make asan`), else ./tinybrain; without one the tests are skipped. */
#include "corpus.h"
#include "gpt.h"
#include "io.h"

#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char bin[PATH_MAX], dir[256];

/* Run `bin ARGS` (stderr with stdout); *out gets the output (malloc'd).  Exit status.
 * TINYBRAIN_TEST_EMULATOR (e.g. qemu-aarch64-static, set by `make test-cross`) runs a
 * binary built for another architecture. */
static int run(const char *args, char **out) {
    char cmd[8192];
    const char *emu = getenv("TINYBRAIN_TEST_EMULATOR");
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", emu ? emu : "", bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    *out = malloc(cap);
    assert_non_null(*out);
    for (size_t k = 1; k && n + 1 < cap; n += k) k = fread(*out + n, 1, cap - 1 - n, p);
    (*out)[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect(const char *args, int status, const char *text) {
    char *out;
    if (!*bin) skip();
    int rc = run(args, &out);
    if (rc != status || (text && !strstr(out, text)))
        fail_msg("tinybrain %s: exit %d (want %d), output:\n%s(want: %s)", args, rc, status, out, text ? text : "-");
    free(out);
}

static void usage_errors_exit_2(void **state) {
    (void)state;
    expect("version", 0, "tinybrain 0.1.0");
    expect("version", 0, "kernels ");   /* the kernel set, which the lesson runner reads */
    expect("version --bogus", 2, "--bogus");
    expect("help", 0, "commands:");
    expect("help --bogus", 2, "--bogus");
    expect("help nosuch", 2, "nosuch");
    expect("help compare extra", 2, NULL);
    expect("help compare", 0, "--over-training");
    expect("nosuch", 2, "unknown command");
}

/* --threads: help and limit agree, and the cap is said; localize --top likewise. */
static void help_and_limits_agree(void **state) {
    (void)state;
    expect("align --help", 0, "at most 256) (default: 0) (range 0..256)");
    expect("align --demo /nonexistent/x --threads 257", 2, "[0, 256]");
    expect("localize --help", 0, "in (0, 100]");
    expect("localize a.npy b.npy --top 0", 2, "(0, 100]");
    expect("localize a.npy b.npy --top 101", 2, "(0, 100]");
}

/* A GPT whose weights blew up (as saved after a run diverged; finite, so the checkpoint
 * loads, but every loss is NaN): eval exits 1 and says so. */
static void eval_refuses_a_diverged_model(void **state) {
    (void)state;
    if (!*bin) skip();
    char err[TB_ERRLEN], path[300], args[400];
    tb_corpus c;
    if (corpus_load(&c, "toyworld", TB_DATA_DIR, "word", err)) skip(); /* run from the repository */
    gpt_config g;
    gpt_model m;
    tb_ckpt ck;
    gpt_default_config(&g);
    g.vocab_size = c.tok.vocab_size; g.ctx = 32; g.n_layer = 1; g.n_head = 2; g.d_model = 8;
    assert_int_equal(gpt_init(&m, &g, err), 0);
    for (size_t i = 0; i < m.n_params; i++) m.params_mem[i] = i % 2 ? 1e30f : -1e30f;
    ckpt_init(&ck, "gpt");
    snprintf(path, sizeof path, "%s/nan.ckpt", dir);
    assert_int_equal(gpt_to_ckpt(&m, &ck, err) || tok_save(&c.tok, &ck, err) || ckpt_set(&ck, "corpus", "toyworld") ||
                         ckpt_set(&ck, "tokens", "word") || ckpt_save(&ck, path, err), 0);
    ckpt_free(&ck);
    gpt_free(&m);
    corpus_free(&c);
    snprintf(args, sizeof args, "eval %s --val-tokens 300", path);
    expect(args, 1, "validation loss is NaN");
    snprintf(args, sizeof args, "eval %s --val-tokens 300 --json", path);
    expect(args, 1, "NaN");
    remove(path);
}

/* ---- identical runs, identical files ------------------------------------------------ */

/* The whole content of a file (malloc'd; *n bytes); NULL when it cannot be read. */
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    struct stat st;
    unsigned char *b = fstat(fileno(f), &st) == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    *n = b ? fread(b, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    return b;
}

static void same_bytes(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    if (!x || !y) fail_msg("cannot read %s or %s", a, b);
    size_t i = 0;
    while (i < na && i < nb && x[i] == y[i]) i++;
    if (na != nb || i < na) fail_msg("%s and %s differ at byte %zu (%zu and %zu bytes)", a, b, i, na, nb);
    free(x);
    free(y);
}

/* `CMD ARGS` trained from scratch twice, with --threads 1 and --threads 3, into DIR/t1
 * and DIR/t3 (run there, so the pictures stay there too); every checkpoint the two runs
 * wrote -- RUNS/NAME.ckpt and the snapshots at steps 0, 3 and 6 -- is compared byte for byte. */
static void train_twice(const char *cmd, const char *name, const char *data, const char *model) {
    char cwd[PATH_MAX], at[2][PATH_MAX], args[4096], a[PATH_MAX + 64], b[PATH_MAX + 64];
    const char *files[] = {"%s/runs/%s.ckpt", "%s/runs/%s/step_000000.ckpt", "%s/runs/%s/step_000003.ckpt",
                           "%s/runs/%s/step_000006.ckpt"};
    char err[TB_ERRLEN];
    assert_non_null(getcwd(cwd, sizeof cwd));
    for (int k = 0; k < 2; k++) {
        int threads = k ? 3 : 1;
        snprintf(at[k], sizeof at[k], "%s/%s_t%d", dir, name, threads);
        assert_int_equal(make_dirs(at[k], err), 0);
        assert_int_equal(chdir(at[k]), 0);
        snprintf(args, sizeof args, "%s --name %s --data-dir %s %s --steps 6 --save-at 0,3,final --eval-every 3 "
                 "--val-tokens 600 --threads %d --quiet", cmd, name, data, model, threads);
        expect(args, 0, NULL);
        assert_int_equal(chdir(cwd), 0);
    }
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(a, sizeof a, files[i], at[0], name);
        snprintf(b, sizeof b, files[i], at[1], name);
        same_bytes(a, b);
    }
}

static void identical_runs_identical_files(void **state) {
    (void)state;
    char data[PATH_MAX];
    if (!*bin || !realpath(TB_DATA_DIR, data)) skip();   /* run from the repository */
    train_twice("train", "g", data, "--layers 2 --d-model 16 --heads 2 --ctx 16 --batch 4");
    train_twice("train-snn", "s", data, "--neurons 40 --ctx 8 --batch 3 --steps-per-token 3");
}

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_cli_%d", (int)getpid());
    return make_dirs(dir, err) ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) ? -1 : 0;
}

int main(int argc, char **argv) {
    (void)argc;
    /* BUILD/tests/test_cli -> BUILD/tinybrain (make asan), else ./tinybrain */
    snprintf(bin, sizeof bin, "%s", argv[0]);
    char *slash = strrchr(bin, '/');
    if (slash) snprintf(slash, sizeof bin - (size_t)(slash - bin), "/../tinybrain");
    if (!slash || access(bin, X_OK)) snprintf(bin, sizeof bin, "%s", access("./tinybrain", X_OK) ? "" : "./tinybrain");
    char abs[PATH_MAX];   /* absolute: a test may run it from another folder */
    if (*bin && realpath(bin, abs)) memcpy(bin, abs, sizeof bin);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_errors_exit_2),
        cmocka_unit_test(help_and_limits_agree),
        cmocka_unit_test(eval_refuses_a_diverged_model),
        cmocka_unit_test(identical_runs_identical_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
