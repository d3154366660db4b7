/* test_sweep.c -- the sweep planner and runner: axes parsed, the product expanded in
 * order with stable distinct folders, runs executed by a stand-in "tinybrain" (a shell
 * script that writes a summary and a checkpoint), cached on the second pass, failures
 * recorded, and the seed interval against hand-worked numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io.h"
#include "recording.h"
#include "sweep.h"
#include "tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void axes(void **state) {
    (void)state;
    sweep_axis a;
    char err[TB_ERRLEN];
    assert_int_equal(sweep_parse_axis("d-model=32,64,128", &a, err), 0);
    assert_string_equal(a.flag, "d-model");
    assert_int_equal(a.n, 3);
    assert_string_equal(a.value[2], "128");
    assert_int_equal(sweep_parse_axis("--lr=1e-3", &a, err), 0);
    assert_string_equal(a.flag, "lr");
    assert_int_equal(sweep_parse_axis("d-model", &a, err), -1);
    assert_int_equal(sweep_parse_axis("d-model=", &a, err), -1);
    assert_int_equal(sweep_parse_axis("d-model=1,,2", &a, err), -1);
}

/* A stand-in for the tinybrain binary: prints a summary whose val_loss encodes the
 * seed and d-model it was given, writes runs/gpt.ckpt; fails for d-model 99, and, like
 * train, when runs/gpt.ckpt exists and --force is not given. */
static const char *FAKE =
    "#!/bin/sh\n"
    "seed=0; d=0; force=0\n"
    "while [ $# -gt 0 ]; do case $1 in --seed) seed=$2; shift;; --d-model) d=$2; shift;; --force) force=1;; esac; shift; done\n"
    "[ \"$d\" = 99 ] && { echo 'no such width' >&2; exit 1; }\n"
    "[ -f runs/gpt.ckpt ] && [ $force = 0 ] && { echo 'already holds a run' >&2; exit 1; }\n"
    "mkdir -p runs && echo x > runs/gpt.ckpt\n"
    "echo \"{\\\"val_loss\\\": $d.$seed, \\\"floor_nats\\\": 1.5, \\\"minimal_pair_acc\\\": 0.75}\"\n";

static void plan_run_and_cache(void **state) {
    (void)state;
    char root[256], exe[300], err[TB_ERRLEN];
    snprintf(root, sizeof root, "/tmp/tb_test_sweep_%ld", (long)getpid());
    snprintf(exe, sizeof exe, "%s/fake_tinybrain", root);
    assert_int_equal(make_dirs(root, err), 0);
    assert_int_equal(write_text_file(exe, FAKE, err), 0);
    chmod(exe, 0755);
    sweep_plan p;
    memset(&p, 0, sizeof p);
    p.exe = exe;
    p.model = "gpt";
    p.root = root;
    p.data_dir = ".";
    p.n_axes = 1;
    assert_int_equal(sweep_parse_axis("d-model=16,99", &p.axis[0], err), 0);
    char *extra[2] = {"--steps", "5"};
    p.extra = extra;
    p.n_extra = 2;
    p.seeds = 3;
    p.jobs = 2;
    sweep_run *r;
    int n;
    assert_int_equal(sweep_expand(&p, &r, &n, err), 0);
    assert_int_equal(n, 6);
    assert_string_equal(r[0].value[0], "16");
    assert_int_equal(r[0].seed, 1);
    assert_int_equal(r[2].seed, 3);
    assert_string_equal(r[3].value[0], "99");
    for (int i = 0; i < n; i++) {
        assert_int_equal(r[i].cached, 0);
        for (int j = 0; j < i; j++) assert_string_not_equal(r[i].dir, r[j].dir);
    }
    assert_int_equal(sweep_execute(&p, r, n, NULL, NULL, NULL, err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].status, 0);
        assert_true(fabs(r[i].val_loss - (16 + 0.1 * (i + 1))) < 1e-12);
        assert_true(fabs(r[i].minimal_pair_acc - 0.75) < 1e-12);
    }
    for (int i = 3; i < 6; i++) {
        assert_int_equal(r[i].status, 1);
        assert_true(isnan(r[i].val_loss));
    }
    /* second pass: finished runs are cached with the same folders, failed ones are not */
    sweep_run *r2;
    int n2;
    assert_int_equal(sweep_expand(&p, &r2, &n2, err), 0);
    for (int i = 0; i < n; i++) {
        assert_string_equal(r2[i].dir, r[i].dir);
        assert_int_equal(r2[i].cached, i < 3);
    }
    /* an interrupted attempt (a checkpoint, no train.json) is trained again from scratch */
    char summary[1200];
    snprintf(summary, sizeof summary, "%s/train.json", r[0].dir);
    assert_int_equal(unlink(summary), 0);
    sweep_run *r4;
    assert_int_equal(sweep_expand(&p, &r4, &n2, err), 0);
    assert_int_equal(r4[0].cached, 0);
    assert_int_equal(sweep_execute(&p, r4, 1, NULL, NULL, NULL, err), 0);
    assert_int_equal(r4[0].status, 0);
    assert_true(fabs(r4[0].val_loss - 16.1) < 1e-12);
    free(r4);
    /* a different extra flag is a different config */
    extra[1] = "6";
    sweep_run *r3;
    assert_int_equal(sweep_expand(&p, &r3, &n2, err), 0);
    assert_string_not_equal(r3[0].dir, r[0].dir);
    free(r);
    free(r2);
    free(r3);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

static void seed_interval(void **state) {
    (void)state;
    double x[4] = {1, 2, 3, NAN}, m, lo, hi;
    sweep_mean_ci(x, 4, &m, &lo, &hi);
    /* mean 2, sd 1, n 3: half width t(0.975, 2) / sqrt(3) = 4.303 / 1.732 = 2.4843 */
    assert_true(fabs(m - 2) < 1e-12);
    assert_true(fabs(hi - 2 - 4.303 / sqrt(3.0)) < 1e-9);
    assert_true(fabs(lo - 2 + 4.303 / sqrt(3.0)) < 1e-9);
    sweep_mean_ci(x, 1, &m, &lo, &hi);
    assert_true(m == 1 && isnan(lo) && isnan(hi));
}

/* sweep_measure on a tiny untrained GPT: its pairs by phenomenon, and a "brain" that is
 * its own layer 1, so that layer's RSA is exactly 1; the untrained reference of a model
 * saved at initialisation is the model itself. */
static void measure_pairs_and_brain(void **state) {
    (void)state;
    static const char *words[] = {".", "the", "cat", "dog", "cats", "dogs", "sees", "see", "runs", "run"};
    char dir[128], ckpt[200], pairs[200], stim[200], brain[200], err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_sweep_measure_%d", (int)getpid());
    assert_int_equal(make_dirs(dir, err), 0);
    snprintf(ckpt, sizeof ckpt, "%s/g.ckpt", dir);
    snprintf(pairs, sizeof pairs, "%s/pairs.tsv", dir);
    snprintf(stim, sizeof stim, "%s/stim.txt", dir);
    snprintf(brain, sizeof brain, "%s/brain.npy", dir);
    tb_tokenizer tok;
    assert_int_equal(tok_from_list(&tok, TOK_WORD, words, 10, err), 0);
    gpt_config c;
    gpt_default_config(&c);
    c.vocab_size = 10; c.ctx = 16; c.n_layer = 2; c.n_head = 2; c.d_model = 16;
    gpt_model g;
    assert_int_equal(gpt_init(&g, &c, err), 0);
    tb_ckpt ck;
    ckpt_init(&ck, "gpt");
    assert_int_equal(gpt_to_ckpt(&g, &ck, err) || tok_save(&tok, &ck, err) || ckpt_set(&ck, "corpus", "toyworld") ||
                     ckpt_save(&ck, ckpt, err), 0);
    ckpt_free(&ck);
    gpt_free(&g);
    tok_free(&tok);
    assert_int_equal(write_text_file(pairs, "good\tbad\tattractor\tphenomenon\n"
                                            "the cat runs .\tthe cat run .\t0\tsimple\n"
                                            "the dogs run .\tthe dogs runs .\t0\tsimple\n"
                                            "the cat the dogs see runs .\tthe cat the dogs see run .\t1\trelative\n", err), 0);
    const char *lines[6] = {"the cat runs .", "the dogs run .", "the cat sees the dog .", "dogs see cats .", "the dog runs .",
                            "cats run ."};
    char text[256] = "";
    for (int i = 0; i < 6; i++) { strcat(text, lines[i]); strcat(text, "\n"); }
    assert_int_equal(write_text_file(stim, text, err), 0);
    /* the brain: the model's own layer 1 on the stimuli */
    lm_model m;
    rec_stimuli st;
    rep_set R;
    rec_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.trials = 1;
    assert_int_equal(lm_open(ckpt, &m, err), 0);
    assert_int_equal(rec_stimuli_load(stim, &m.tok, &st, err), 0);
    assert_int_equal(rec_record(&m, &st, &ro, &R, err), 0);
    int64_t shape[2] = {R.layer[1].n, R.layer[1].p};
    assert_int_equal(npy_write_f64(brain, R.layer[1].mean, 2, shape, err), 0);
    rep_free(&R);
    rec_stimuli_free(&st);
    lm_close(&m);

    sweep_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.ckpt, sizeof r.ckpt, "%s", ckpt);
    sweep_measure_opts o = {pairs, NULL, brain, stim, 1};
    assert_int_equal(sweep_measure(&o, &r, 1, err), 0);
    assert_int_equal(r.n_kinds, 2);
    assert_string_equal(r.kind[0].name, "simple");
    assert_int_equal(r.kind[0].pairs, 2);
    assert_int_equal(r.kind[1].pairs, 1);
    assert_true(isnan(r.fact_acc));                      /* no facts file */
    assert_int_equal(r.n_layers, 3);                     /* embedding + 2 blocks */
    assert_string_equal(r.layer[1], "01_block1");
    assert_true(fabs(r.rsa[1] - 1) < 1e-9);              /* the brain is this layer */
    assert_true(r.rsa[0] < 0.999 && r.rsa[2] < 0.999);
    for (int l = 0; l < 3; l++) assert_true(r.rsa_untrained[l] == r.rsa[l]); /* saved at step 0 */
    /* a failed run is skipped; stimuli that do not match the brain are an error */
    r.status = 1;
    assert_int_equal(sweep_measure(&o, &r, 1, err), 0);
    assert_int_equal(r.n_layers, 0);
    r.status = 0;
    assert_int_equal(write_text_file(stim, "the cat runs .\n", err), 0);
    assert_int_equal(sweep_measure(&o, &r, 1, err), -1);
    assert_non_null(strstr(err, "stimuli"));
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(axes),
        cmocka_unit_test(plan_run_and_cache),
        cmocka_unit_test(seed_interval),
        cmocka_unit_test(measure_pairs_and_brain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
