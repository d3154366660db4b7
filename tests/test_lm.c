/* test_lm.c -- a language model seen from the outside (src/study/lm.c, lm_eval.c): opening
 * either checkpoint kind, the tokens a capped score reads, and eval's numbers worked by
 * hand with a scorer whose cost of a token is its id; a diverged model (NaN loss) is an
 * error (issue 16 #5); accuracy by phenomenon and fact recall; the units of an ablation. */
#include "io.h"
#include "lm_eval.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_lm_%d", (int)getpid());
    return make_dirs(dir, err) ? -1 : 0;
}

static char *file(const char *name) {
    static char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* A scorer whose NLL of token i is its id (0 for the left context), or NaN everywhere. */
static int id_cost(void *model, const int *ids, int n, float *nll, char *err) {
    (void)err;
    for (int i = 0; i < n; i++) nll[i] = model ? NAN : i ? (float)ids[i] : 0.0f;
    return 0;
}

static const char *words[] = {".", "a", "b", "c"};

/* val = "a b ." "c ." "a b b ." (eos = 0); the floor costs 0.5 a token, 0.25 at the eos. */
static void toy_corpus(tb_corpus *c) {
    static const int val[9] = {1, 2, 0, 3, 0, 1, 2, 2, 0};
    char err[TB_ERRLEN];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "toy");
    assert_int_equal(tok_from_list(&c->tok, TOK_WORD, words, 4, err), 0);
    c->n_val = 9;
    c->val = malloc(sizeof val);
    c->val_nll_true = malloc(9 * sizeof(float));
    assert_non_null(c->val);
    assert_non_null(c->val_nll_true);
    memcpy(c->val, val, sizeof val);
    for (int i = 0; i < 9; i++) c->val_nll_true[i] = val[i] ? 0.5f : 0.25f;
    c->eos = 0;
    c->floor_nats = (6 * 0.5 + 3 * 0.25) / 9;
}

static void evaluation_worked_by_hand(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_corpus c;
    toy_corpus(&c);
    lm_scorer s = {"toy", NULL, id_cost, NULL, 0, NULL};
    /* pairs: "a ." (cost 1) beats "c ." (3); "c c ." (6) loses to "b ." (2) */
    assert_int_equal(write_text_file(file("pairs.tsv"), "good\tbad\tattractor\na .\tc .\t1\nc c .\tb .\t0\n", err), 0);
    lm_eval_result r;
    assert_int_equal(lm_evaluate(&s, &c.tok, &c, 0, file("pairs.tsv"), &r, err), 0);
    assert_int_equal(r.n_scored, 9);
    assert_true(fabs(r.val_loss - 11.0 / 9) < 1e-12);
    assert_true(fabs(r.floor_nats - c.floor_nats) < 1e-12);
    /* positions: 0 -> {1, 3, 1}, 1 -> {2, 0, 2}, 2 -> {0, 2}, 3 -> {0} */
    assert_int_equal(r.n_pos, 4);
    assert_int_equal(r.pos_tokens[0], 3);
    assert_int_equal(r.pos_tokens[1], 3);
    assert_int_equal(r.pos_tokens[2], 2);
    assert_int_equal(r.pos_tokens[3], 1);
    assert_true(fabs(r.pos_loss[0] - 5.0 / 3) < 1e-12 && fabs(r.pos_loss[1] - 4.0 / 3) < 1e-12);
    assert_true(r.pos_loss[2] == 1.0 && r.pos_loss[3] == 0.0 && isnan(r.pos_loss[4]));
    assert_true(fabs(r.pos_floor[1] - (0.5 + 0.25 + 0.5) / 3) < 1e-7 && r.pos_floor[3] == 0.25f);
    assert_int_equal(r.pairs[0], 2);
    assert_int_equal(r.pairs[1], 1);
    assert_true(r.pair_acc[0] == 0.5 && r.pair_acc[1] == 1.0 && r.pair_acc[2] == 0.0);
    /* ties count one half: "b ." vs "b ." and "a a ." (2) vs "b ." (2) cost the same, and
     * "a ." beats "c ."; a model that cannot tell pairs apart scores chance, 0.5, not 0 */
    assert_int_equal(write_text_file(file("pairs.tsv"), "good\tbad\tattractor\nb .\tb .\t1\na a .\tb .\t0\na .\tc .\t0\n",
                                     err), 0);
    assert_int_equal(lm_evaluate(&s, &c.tok, &c, 0, file("pairs.tsv"), &r, err), 0);
    assert_true(r.pair_acc[1] == 0.5 && r.pair_acc[2] == 0.75 && fabs(r.pair_acc[0] - 2.0 / 3) < 1e-12);
    assert_int_equal(write_text_file(file("pairs.tsv"), "good\tbad\tattractor\na .\tc .\t1\nc c .\tb .\t0\n", err), 0);
    /* at most 4 tokens: whole sentences, so 5 ("a b ." "c ."), and the floor over those */
    assert_int_equal(lm_val_tokens(&c, 4), 5);
    assert_int_equal(lm_val_tokens(&c, 0), 9);
    assert_int_equal(lm_evaluate(&s, &c.tok, &c, 4, NULL, &r, err), 0);
    assert_int_equal(r.n_scored, 5);
    assert_true(fabs(r.val_loss - 6.0 / 5) < 1e-12);
    assert_true(fabs(r.floor_nats - (3 * 0.5 + 2 * 0.25) / 5) < 1e-7);
    assert_int_equal(r.pairs[0], 0);
    assert_true(isnan(r.pair_acc[0]));
    corpus_free(&c);
}

/* Accuracy by phenomenon (the pairs file's fourth column) and fact recall, by hand with
 * the id-cost scorer: a pair is right when its good sentence costs less. */
static void phenomena_and_fact_recall(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_corpus c;
    toy_corpus(&c);
    lm_scorer s = {"toy", NULL, id_cost, NULL, 0, NULL};
    assert_int_equal(write_text_file(file("pairs.tsv"), "good\tbad\tattractor\tphenomenon\n"
                                     "a .\tc .\t1\tagree\nc c .\tb .\t1\tagree\nb .\tc .\t0\tgap\n", err), 0);
    assert_int_equal(write_text_file(file("facts.tsv"), "good\tbad\tattractor\tphenomenon\n"
                                     "a b .\ta c .\t0\tfact_home\nc .\ta .\t0\tfact_food\na .\tb .\t0\tfact_food\n", err), 0);
    lm_eval_result r;
    assert_int_equal(lm_evaluate(&s, &c.tok, &c, 0, file("pairs.tsv"), &r, err), 0);
    assert_true(r.pairs[0] == 3 && r.pairs[1] == 2 && r.pairs[2] == 1);
    assert_true(fabs(r.pair_acc[0] - 2.0 / 3) < 1e-12 && r.pair_acc[1] == 0.5 && r.pair_acc[2] == 1.0);
    assert_int_equal(r.n_kinds, 2);
    assert_string_equal(r.kind[0].name, "agree");
    assert_true(r.kind[0].pairs == 2 && r.kind[0].acc == 0.5);
    assert_string_equal(r.kind[1].name, "gap");
    assert_true(r.kind[1].pairs == 1 && r.kind[1].acc == 1.0);
    assert_int_equal(r.facts, 0);   /* facts are scored apart */
    assert_true(isnan(r.fact_acc));
    assert_int_equal(lm_fact_recall(&s, &c.tok, file("facts.tsv"), &r, err), 0);
    assert_int_equal(r.facts, 3);
    assert_true(fabs(r.fact_acc - 2.0 / 3) < 1e-12);
    assert_int_equal(r.n_fact_kinds, 2);
    assert_true(!strcmp(r.fact_kind[0].name, "fact_home") && r.fact_kind[0].acc == 1.0);
    assert_true(!strcmp(r.fact_kind[1].name, "fact_food") && r.fact_kind[1].acc == 0.5 && r.fact_kind[1].pairs == 2);
    assert_true(r.pair_acc[0] > 0.6 && r.n_kinds == 2);   /* the syntax scores stay */
    /* more kinds than a result holds is an error, not a silent truncation */
    char text[2048] = "good\tbad\tattractor\tphenomenon\n";
    for (int k = 0; k <= LM_EVAL_KINDS; k++) snprintf(text + strlen(text), sizeof text - strlen(text), "a .\tb .\t0\tkind%d\n", k);
    assert_int_equal(write_text_file(file("pairs.tsv"), text, err), 0);
    assert_int_equal(lm_evaluate(&s, &c.tok, &c, 0, file("pairs.tsv"), &r, err), -1);
    assert_non_null(strstr(err, "kind16"));
    corpus_free(&c);
}

/* Weights that diverged give NaN for every token: eval must refuse, not print "nan". */
static void nan_loss_is_an_error(void **state) {
    (void)state;
    char err[TB_ERRLEN] = "";
    tb_corpus c;
    toy_corpus(&c);
    int nan_model;
    lm_scorer s = {"toy", &nan_model, id_cost, NULL, 0, NULL};
    lm_eval_result r;
    assert_int_equal(lm_evaluate(&s, &c.tok, &c, 0, NULL, &r, err), -1);
    assert_non_null(strstr(err, "NaN"));
    corpus_free(&c);
}

static void ablation_units(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    int *u, n;
    assert_int_equal(write_text_file(file("units.txt"), "# from localize\n5\n\n0\r\n63\n", err), 0);
    assert_int_equal(lm_read_units(file("units.txt"), 64, &u, &n, err), 0);
    assert_int_equal(n, 3);
    assert_true(u[0] == 5 && u[1] == 0 && u[2] == 63);
    free(u);
    assert_int_equal(lm_read_units(file("units.txt"), 10, &u, &n, err), -1); /* 63 is not a unit of 10 */
    assert_non_null(strstr(err, "0..9"));
    assert_int_equal(write_text_file(file("units.txt"), "# nothing\n", err), 0);
    assert_int_equal(lm_read_units(file("units.txt"), 64, &u, &n, err), -1);
    /* random units: distinct, in range, the same for the same seed, different for another */
    int *a, *b, *d;
    assert_int_equal(lm_random_units(64, 16, 7, &a, err), 0);
    assert_int_equal(lm_random_units(64, 16, 7, &b, err), 0);
    assert_int_equal(lm_random_units(64, 16, 8, &d, err), 0);
    assert_memory_equal(a, b, 16 * sizeof(int));
    assert_true(memcmp(a, d, 16 * sizeof(int)) != 0);
    int seen[64] = {0};
    for (int i = 0; i < 16; i++) {
        assert_true(a[i] >= 0 && a[i] < 64);
        assert_int_equal(seen[a[i]]++, 0);
    }
    free(a); free(b); free(d);
    assert_int_equal(lm_random_units(8, 9, 1, &a, err), -1);
    /* all of them: a permutation */
    assert_int_equal(lm_random_units(5, 5, 3, &a, err), 0);
    int sum = 0;
    for (int i = 0; i < 5; i++) sum += 1 << a[i];
    assert_int_equal(sum, 31);
    free(a);
}

static void open_either_kind(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_tokenizer tok;
    assert_int_equal(tok_from_list(&tok, TOK_WORD, words, 4, err), 0);
    gpt_config gc;
    gpt_default_config(&gc);
    gc.vocab_size = 4; gc.ctx = 8; gc.n_layer = 1; gc.n_head = 2; gc.d_model = 8;
    gpt_model g;
    tb_ckpt ck;
    assert_int_equal(gpt_init(&g, &gc, err), 0);
    for (size_t i = 0; i < g.n_params; i++) g.params_mem[i] += 0.25f;   /* "trained" */
    ckpt_init(&ck, "gpt");
    assert_int_equal(gpt_to_ckpt(&g, &ck, err), 0);
    assert_int_equal(tok_save(&tok, &ck, err), 0);
    assert_int_equal(ckpt_set_int(&ck, "step", 12), 0);
    assert_int_equal(ckpt_save(&ck, file("g.ckpt"), err), 0);
    ckpt_free(&ck);
    gpt_free(&g);
    srnn_config sc;
    srnn_default_config(&sc);
    sc.vocab_size = 4; sc.n_neurons = 16;
    srnn_model s;
    assert_int_equal(srnn_init(&s, &sc, err), 0);
    assert_int_equal(srnn_save_file(&s, &tok, file("s.ckpt"), err), 0);
    srnn_free(&s);
    lm_model m;
    assert_int_equal(lm_open(file("g.ckpt"), &m, err), 0);
    assert_string_equal(m.kind, "gpt");
    assert_true(m.step == 12 && m.tok.vocab_size == 4 && m.scorer.model == &m.gpt && m.scorer.ctx == 8);
    assert_string_equal(m.path, file("g.ckpt"));
    lm_close(&m);
    assert_int_equal(lm_open(file("s.ckpt"), &m, err), 0);
    assert_string_equal(m.kind, "srnn");
    assert_true(m.scorer.model == &m.snn && m.snn.N == 16);
    lm_close(&m);
    /* the untrained copy: the same config and seed, fresh weights, step 0 */
    assert_int_equal(lm_open_untrained(file("g.ckpt"), &m, err), 0);
    gpt_model g0;
    assert_int_equal(gpt_init(&g0, &gc, err), 0);
    assert_true(m.step == 0 && m.gpt.n_params == g0.n_params);
    assert_memory_equal(m.gpt.params_mem, g0.params_mem, g0.n_params * sizeof(float));
    assert_true(m.scorer.model == &m.gpt);
    gpt_free(&g0);
    lm_close(&m);
    ckpt_init(&ck, "notes");
    assert_int_equal(ckpt_save(&ck, file("n.ckpt"), err), 0);
    ckpt_free(&ck);
    assert_int_equal(lm_open(file("n.ckpt"), &m, err), -1);
    assert_non_null(strstr(err, "'notes'"));
    assert_non_null(strstr(err, "n.ckpt"));
    tok_free(&tok);
}

static int teardown(void **state) {
    (void)state;
    const char *names[] = {"pairs.tsv", "facts.tsv", "units.txt", "g.ckpt", "s.ckpt", "n.ckpt"};
    for (int i = 0; i < 6; i++) remove(file(names[i]));
    rmdir(dir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evaluation_worked_by_hand),
        cmocka_unit_test(phenomena_and_fact_recall),
        cmocka_unit_test(nan_loss_is_an_error),
        cmocka_unit_test(ablation_units),
        cmocka_unit_test(open_either_kind),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
