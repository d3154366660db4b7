/* test_tweaks.c -- the tinkerer's table (src/study/tweaks.c): a tiny GPT and a tiny spiking
 * network measured the way `tweaks` measures them -- the loss and pairs are eval's, the
 * energy is energy's, a skipped last block saves exactly its share of the work, the RSA
 * is a correlation at the best layer -- and the summary over seeds by hand.  Runs from
 * the repository (data/toyworld). */
#include "io.h"
#include "lm_eval.h"
#include "tweaks.h"
#include "work.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char gpt_path[256], snn_path[256];

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_corpus c;
    if (corpus_load(&c, "toyworld", TB_DATA_DIR, "word", err)) return -1;
    snprintf(gpt_path, sizeof gpt_path, "/tmp/tb_test_tweaks_%d_gpt.ckpt", (int)getpid());
    snprintf(snn_path, sizeof snn_path, "/tmp/tb_test_tweaks_%d_snn.ckpt", (int)getpid());
    gpt_config g;
    gpt_default_config(&g);
    g.vocab_size = c.tok.vocab_size;
    g.ctx = 16;
    g.d_model = 16;
    g.n_head = 2;
    gpt_model m;
    srnn_config s;
    srnn_default_config(&s);
    s.vocab_size = c.tok.vocab_size;
    s.n_neurons = 16;
    srnn_model n;
    tb_ckpt ck;
    ckpt_init(&ck, "gpt");
    int rc = gpt_init(&m, &g, err) || gpt_to_ckpt(&m, &ck, err) || tok_save(&c.tok, &ck, err) ||
             ckpt_set(&ck, "corpus", "toyworld") || ckpt_save(&ck, gpt_path, err) || srnn_init(&n, &s, err) ||
             srnn_save_file(&n, &c.tok, snn_path, err);
    ckpt_free(&ck);
    gpt_free(&m);
    srnn_free(&n);
    corpus_free(&c);
    return rc ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(gpt_path);
    unlink(snn_path);
    return 0;
}

static void measured_like_eval_and_energy(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tk_bench b;
    assert_int_equal(tk_bench_open(&b, snn_path, TB_DATA_DIR, 2, 2000, 1, err), 0);
    assert_true(b.m == (long)b.stim.n * (b.stim.n - 1) / 2);
    tk_score whole, skipped;
    assert_int_equal(tk_score_model(&b, gpt_path, 0, &whole, err), 0);
    assert_int_equal(tk_score_model(&b, gpt_path, 1, &skipped, err), 0);
    /* eval's numbers */
    lm_model m;
    assert_int_equal(lm_open(gpt_path, &m, err), 0);
    lm_eval_result r;
    assert_int_equal(lm_evaluate(&m.scorer, &m.tok, &b.corp, 2000, b.pairs, &r, err), 0);
    assert_true(whole.v[TK_EXCESS] == r.val_loss - r.floor_nats && whole.v[TK_PAIRS] == r.pair_acc[0]);
    /* energy's: the dense GELU formula; a skipped block of two saves its 4 C^2 + 2 r C^2 and attention */
    work_row w;
    assert_int_equal(work_measure_model(&m, &b.corp, 2000, &w, err), 0);
    assert_true(fabs(whole.v[TK_ENERGY] - w.e_compute / 1000) < 1e-9);
    double per_block = (4.0 * 16 * 16 + 2 * 4.0 * 16 * 16) * PJ_MAC / 1000;   /* nJ, without attention */
    double saved = whole.v[TK_ENERGY] - skipped.v[TK_ENERGY];
    assert_true(saved > per_block && saved < per_block * 1.2);
    assert_true(whole.v[TK_RSA] >= -1 && whole.v[TK_RSA] <= 1 && whole.best_layer >= 0 && whole.best_layer <= 2);
    /* a skipped last block leaves the layers below it as they were: the best RSA cannot rise */
    assert_true(skipped.v[TK_RSA] <= whole.v[TK_RSA] || skipped.best_layer == 2);
    lm_close(&m);
    /* the spiking network measured against itself: its own RDM, RSA 1 (the same noise) */
    tk_score self;
    assert_int_equal(tk_score_model(&b, snn_path, 0, &self, err), 0);
    assert_true(fabs(self.v[TK_RSA] - 1.0) < 1e-9 && self.best_layer == 0 && self.v[TK_ENERGY] > 0);
    assert_int_equal(tk_score_model(&b, snn_path, 1, &self, err), -1);   /* no blocks to skip */
    tk_bench_free(&b);
    /* a GPT as the reference: its last layer; the same GPT's best RSA is then 1 */
    assert_int_equal(tk_bench_open(&b, gpt_path, TB_DATA_DIR, 2, 2000, 1, err), 0);
    assert_int_equal(tk_score_model(&b, gpt_path, 0, &self, err), 0);
    assert_true(fabs(self.v[TK_RSA] - 1.0) < 1e-9 && self.best_layer == 2);
    tk_bench_free(&b);
}

static void summary_over_seeds(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tk_score s[3] = {{{1, 0.5, 0.2, 10}, 0}, {{2, 0.7, 0.4, 10}, 0}, {{3, 0.9, 0.3, 10}, 0}};
    tk_row row;
    assert_int_equal(tk_summarise(s, 3, &row, err), 0);
    /* mean 2, s.d. 1, t(0.975, 2) = 4.303 (sweep.c's table): 2 +- 4.303 / sqrt(3) */
    assert_true(fabs(row.mean[TK_EXCESS] - 2) < 1e-12);
    assert_true(fabs(row.hi[TK_EXCESS] - (2 + 4.303 / sqrt(3.0))) < 1e-9);
    assert_true(row.lo[TK_ENERGY] == 10 && row.hi[TK_ENERGY] == 10);   /* no spread, no width */
    assert_int_equal(tk_summarise(s, 1, &row, err), 0);
    assert_true(row.mean[TK_PAIRS] == 0.5 && isnan(row.lo[TK_PAIRS]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(measured_like_eval_and_energy),
        cmocka_unit_test(summary_over_seeds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
