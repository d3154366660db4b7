/* test_cli.c -- the command line's promises, checked on the binary (src/cli/ is not in
 * the library, so these run ./tinybrain): exit status 2 for bad usage, help and limits
 * that say what the program does (issue 16 #7), and eval refusing a diverged model
 * (issue 16 #5).  The binary is the one beside the test's build folder (build-asan/
 * for `make asan`), else ./tinybrain; without one the tests are skipped. */
#include "corpus.h"
#include "gpt.h"
#include "io.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char bin[1024], dir[256];

/* Run `bin ARGS` (stderr with stdout); *out gets the output (malloc'd).  Exit status.
 * TINYBRAIN_TEST_EMULATOR (e.g. qemu-aarch64-static, set by `make test-cross`) runs a
 * binary built for another architecture. */
static int run(const char *args, char **out) {
    char cmd[2048];
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

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_cli_%d", (int)getpid());
    return make_dirs(dir, err) ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    rmdir(dir);
    return 0;
}

int main(int argc, char **argv) {
    (void)argc;
    /* BUILD/tests/test_cli -> BUILD/tinybrain (make asan), else ./tinybrain */
    snprintf(bin, sizeof bin, "%s", argv[0]);
    char *slash = strrchr(bin, '/');
    if (slash) snprintf(slash, sizeof bin - (size_t)(slash - bin), "/../tinybrain");
    if (!slash || access(bin, X_OK)) snprintf(bin, sizeof bin, "%s", access("./tinybrain", X_OK) ? "" : "./tinybrain");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_errors_exit_2),
        cmocka_unit_test(help_and_limits_agree),
        cmocka_unit_test(eval_refuses_a_diverged_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
