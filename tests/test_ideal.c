/* test_ideal.c -- the ideal observer as a recording and the loss split (ideal.h): the
 * recorded columns are the forward algorithm's pooled beliefs and next-word distributions,
 * an ungrammatical stimulus is refused, a model that predicts with the grammar's own p has
 * KL 0 and one that predicts uniformly has KL = ln V - H(p) token by token, every token is
 * counted once by position and once by construction (one verb per sentence); and the
 * scorers' logits (lm_scorer.seq_logits, which the split needs) agree with their NLLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ideal.h"
#include "io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void write_lines(const char *path, const char *text) {
    char err[TB_ERRLEN];
    assert_int_equal(write_text_file(path, text, err), 0);
}

static void recording_is_the_forward_algorithm(void **state) {
    (void)state;
    char path[300], err[TB_ERRLEN];
    snprintf(path, sizeof path, "%s/stim.txt", dir);
    write_lines(path, "the dog near the cats runs .\na cat eats the cakes .\nthe cat sleeps .\nthe dogs chase a cat .\n");
    ideal_rec r;
    if (ideal_record(path, &r, err)) {
        if (strstr(err, "not in the vocabulary") || strstr(err, "unknown")) skip();   /* a grammar without these words */
        fail_msg("%s", err);
    }
    assert_int_equal(r.rep.n_layers, IDEAL_N_LAYERS);
    assert_int_equal(r.rep.layer[0].n, 4);
    /* stimulus 2 ("the cat sleeps ."), pooled by hand from tw_ideal_run */
    tw_model m;
    tw_states S;
    assert_int_equal(tw_compile(&m, &toyworld_grammar, err), 0);
    assert_int_equal(tw_states_build(&m, &S, err), 0);
    int ids[5] = {m.eos, tw_word_id(&m, "the"), tw_word_id(&m, "cat"), tw_word_id(&m, "sleeps"), m.eos};
    tw_ideal o;
    assert_int_equal(tw_ideal_run(&m, &S, ids, 5, &o, err), 0);
    double *bm = malloc((size_t)S.n * sizeof *bm), *nm = malloc((size_t)m.n_words * sizeof *nm);
    assert_true(bm && nm);
    tw_ideal_pool(&o, 0, bm, nm);
    for (int l = 0; l < IDEAL_N_LAYERS; l += 2)   /* the mean layers: every kept column by its name */
        for (int j = 0; j < r.rep.layer[l].p; j++) {
            double want = NAN;
            for (int q = 0; l == 0 && q < S.n; q++) {
                char buf[128];
                tw_state_name(&m, S.state[q], buf, sizeof buf);
                if (!strcmp(buf, r.names[l][j])) want = bm[q];
            }
            if (l == 2) want = nm[tw_word_id(&m, r.names[l][j])];
            assert_true(fabs(r.rep.layer[l].mean[(size_t)2 * r.rep.layer[l].p + j] - want) < 1e-12);
        }
    double sum = 0;   /* the kept next-word columns of a stimulus hold at most all the mass */
    for (int j = 0; j < r.rep.layer[2].p; j++) sum += r.rep.layer[2].mean[(size_t)2 * r.rep.layer[2].p + j];
    assert_true(sum <= 1 + 1e-9 && sum > 0.5);
    snprintf(path, sizeof path, "%s/rec", dir);
    assert_int_equal(ideal_save(path, "stim.txt", &r, err), 0);
    rep_set back;
    assert_int_equal(rep_load(path, 0, &back, err), 0);   /* no constant column left */
    assert_int_equal(back.n_layers, IDEAL_N_LAYERS);
    assert_int_equal(back.layer[2].p, r.rep.layer[2].p);
    rep_free(&back);
    ideal_rec_free(&r);
    tw_ideal_free(&o);
    tw_states_free(&S);
    free(bm);
    free(nm);
    snprintf(path, sizeof path, "%s/bad.txt", dir);
    write_lines(path, "the dog near the cats runs .\nruns the dog .\nthe cat sleeps .\n");
    assert_int_equal(ideal_record(path, &r, err), -1);
    assert_non_null(strstr(err, "not a sentence of the grammar"));
}

/* ---- the loss split with made-up models ------------------------------------------------------ */

typedef struct { tw_model m; tw_states S; int uniform; } fake_model;

/* logits = ln p (the grammar's own distribution) or 0 (uniform). */
static int fake_logits(void *vm, const int *ids, int n, float *logits, char *err) {
    fake_model *f = vm;
    int V = f->m.n_words;
    if (f->uniform) { memset(logits, 0, (size_t)(n - 1) * V * sizeof *logits); return 0; }
    tw_ideal o;
    if (tw_ideal_run(&f->m, &f->S, ids, n, &o, err)) return -1;
    for (size_t i = 0; i < (size_t)(n - 1) * V; i++) logits[i] = (float)log(o.next[i]);
    tw_ideal_free(&o);
    return 0;
}

static void loss_split_of_made_up_models(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_corpus c;
    if (corpus_load(&c, "toyworld", TB_DATA_DIR, "word", err)) skip();   /* not run from the repository */
    fake_model f;
    assert_int_equal(corpus_grammar(&c, &f.m, err), 0);
    assert_int_equal(tw_states_build(&f.m, &f.S, err), 0);
    lm_scorer s = {.kind = "fake", .model = &f, .seq_logits = fake_logits};
    ideal_split a, b;
    f.uniform = 0;
    assert_int_equal(ideal_loss_split(&s, &c, 3000, &a, err), 0);
    f.uniform = 1;
    assert_int_equal(ideal_loss_split(&s, &c, 3000, &b, err), 0);
    print_message("grammar's own q: loss %.4f floor %.4f KL %.2g; uniform q: KL %.4f = ln V - floor = %.4f\n", a.all.loss,
                  a.all.floor, a.all.kl, b.all.kl, log(f.m.n_words) - b.all.floor);
    assert_true(fabs(a.all.kl) < 1e-5);
    assert_true(fabs(a.all.floor - b.all.floor) < 1e-12);
    assert_true(fabs(b.all.kl - (log(f.m.n_words) - b.all.floor)) < 1e-9);
    assert_true(fabs(b.all.loss - log(f.m.n_words)) < 1e-9);
    /* the loss of the tokens that came is the true floor in expectation: close over 3000 tokens */
    assert_true(fabs(a.all.loss - a.all.floor) < 0.05);
    long by_pos = 0, by_con = 0;
    for (int k = 0; k < LM_EVAL_POSITIONS; k++) by_pos += a.pos[k].tokens;
    for (int k = 0; k < IDEAL_N_CON; k++) by_con += a.con[k].tokens;
    long sentences = a.pos[0].tokens, verbs = a.con[IDEAL_VERB_PLAIN].tokens + a.con[IDEAL_VERB_SAME].tokens +
                                                  a.con[IDEAL_VERB_OTHER].tokens;
    assert_int_equal(by_pos, a.all.tokens);
    assert_int_equal(by_con, a.all.tokens);
    assert_int_equal(verbs, sentences);   /* one verb per sentence */
    assert_true(a.con[IDEAL_VERB_SAME].tokens > 0 && a.con[IDEAL_VERB_OTHER].tokens > 0);
    s.seq_logits = NULL;
    assert_int_equal(ideal_loss_split(&s, &c, 3000, &a, err), -1);
    tw_states_free(&f.S);
    corpus_free(&c);
}

/* ---- the scorers' logits agree with their NLLs ----------------------------------------------------- */

static void check_logits(const lm_scorer *s, const int *ids, int n, int V) {
    char err[TB_ERRLEN];
    float *nll = malloc((size_t)n * sizeof *nll), *lg = malloc((size_t)(n - 1) * V * sizeof *lg);
    assert_true(nll && lg);
    assert_int_equal(s->seq_nll(s->model, ids, n, nll, err), 0);
    assert_int_equal(s->seq_logits(s->model, ids, n, lg, err), 0);
    for (int t = 0; t + 1 < n; t++) {
        const float *l = lg + (size_t)t * V;
        double mx = l[0], z = 0;
        for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
        for (int v = 0; v < V; v++) z += exp(l[v] - mx);
        double want = log(z) + mx - l[ids[t + 1]];
        assert_true(fabs(want - nll[t + 1]) < 1e-4 * (1 + want));
    }
    free(nll);
    free(lg);
}

static void scorer_logits_match_nll(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    int ids[9] = {0, 3, 5, 2, 7, 1, 4, 6, 0};
    gpt_config gc;
    gpt_default_config(&gc);
    gc.vocab_size = 9; gc.ctx = 16; gc.n_layer = 1; gc.n_head = 2; gc.d_model = 16;
    gpt_model g;
    assert_int_equal(gpt_init(&g, &gc, err), 0);
    lm_scorer s;
    gpt_scorer(&s, &g);
    check_logits(&s, ids, 9, 9);
    assert_int_equal(s.seq_logits(s.model, ids, 1, NULL, err), -1);
    gpt_free(&g);
    srnn_config sc;
    srnn_default_config(&sc);
    sc.vocab_size = 9;
    sc.n_neurons = 20;
    srnn_model m;
    assert_int_equal(srnn_init(&m, &sc, err), 0);
    srnn_scorer(&s, &m);
    check_logits(&s, ids, 9, 9);
    srnn_free(&m);
}

static int setup(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snprintf(dir, sizeof dir, "/tmp/tb_test_ideal_%d", (int)getpid());
    return make_dirs(dir, err) ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recording_is_the_forward_algorithm),
        cmocka_unit_test(loss_split_of_made_up_models),
        cmocka_unit_test(scorer_logits_match_nll),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
