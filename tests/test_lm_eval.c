/* test_lm_eval.c -- the tinkerer's readings of src/study/lm_eval.c (lesson 18): the logit
 * lens against hand-made skip sets, and the work by token category against the model's
 * own counters, on a tiny GPT and a toy corpus with parts of speech. */
#include "lm_eval.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *words[] = {".", "a", "b", "c", "d", "e", "f"};
static const char *pos_of[] = {"PUNCT", "DET", "NOUN", "NOUN", "VERB", "VERB", "DET"};

/* val: "a b d ." "f c e ." "a c d d ." (eos = 0), every token costing 1 nat under the floor. */
static void toy_corpus(tb_corpus *c) {
    static const int val[13] = {1, 2, 4, 0, 6, 3, 5, 0, 1, 3, 4, 4, 0};
    char err[TB_ERRLEN];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "toy");
    assert_int_equal(tok_from_list(&c->tok, TOK_WORD, words, 7, err), 0);
    c->n_val = 13;
    c->val = malloc(sizeof val);
    c->val_nll_true = malloc(13 * sizeof(float));
    c->pos = calloc(8, sizeof(char *));
    assert_true(c->val && c->val_nll_true && c->pos);
    memcpy(c->val, val, sizeof val);
    for (int i = 0; i < 13; i++) c->val_nll_true[i] = 1.0f;
    for (int v = 0; v < 7; v++) c->pos[v] = (char *)pos_of[v];
    c->eos = 0;
    c->floor_nats = 1.0;
}

static void free_corpus(tb_corpus *c) {
    tok_free(&c->tok);
    free(c->val);
    free(c->val_nll_true);
    free(c->pos);
}

static void tiny_gpt(gpt_model *m, int experts, gpt_act act, float scale) {
    char err[TB_ERRLEN];
    gpt_config c;
    gpt_default_config(&c);
    c.vocab_size = 7;
    c.ctx = 8;
    c.n_layer = 3;
    c.n_head = 2;
    c.d_model = 8;
    c.mlp_ratio = 2;
    c.moe_experts = experts;
    c.act = act;
    c.seed = 5;
    assert_int_equal(gpt_init(m, &c, err), 0);
    for (size_t i = 0; i < m->n_params; i++) m->params_mem[i] *= scale;   /* decided, varied answers */
}

/* Exit layer e is the model with blocks e..L-1 bypassed (plus the caller's own), and the
 * caller's skip set is back in place afterwards. */
static void lens_is_skipping(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_corpus c;
    toy_corpus(&c);
    gpt_model m;
    tiny_gpt(&m, 0, GPT_ACT_GELU, 20.0f);
    lm_scorer s;
    gpt_scorer(&s, &m);
    int own = 0;
    assert_int_equal(gpt_skip(&m, &own, 1, err), 0);
    lm_eval_result rows[4], r;
    assert_int_equal(lm_lens(&m, &s, &c.tok, &c, 0, NULL, &own, 1, rows, err), 0);
    assert_true(m.skip && m.skip[0] == 1 && m.skip[1] == 0 && m.skip[2] == 0);
    assert_int_equal(lm_evaluate(&s, &c.tok, &c, 0, NULL, &r, err), 0);
    assert_true(rows[3].val_loss == r.val_loss);   /* exit after the last block: the model */
    int sk[3] = {0, 1, 2};
    for (int e = 0; e < 3; e++) {
        /* blocks e..2 and block 0 */
        int n = 0, list[3];
        list[n++] = 0;
        for (int l = e; l < 3; l++) if (l) list[n++] = sk[l];
        assert_int_equal(gpt_skip(&m, list, n, err), 0);
        assert_int_equal(lm_evaluate(&s, &c.tok, &c, 0, NULL, &r, err), 0);
        if (rows[e].val_loss != r.val_loss) fail_msg("exit %d: lens %.6f, skipped %.6f", e, rows[e].val_loss, r.val_loss);
    }
    assert_true(rows[0].val_loss == rows[1].val_loss);   /* block 0 is skipped anyway */
    assert_true(rows[1].val_loss != rows[2].val_loss);
    gpt_free(&m);
    free_corpus(&c);
}

/* Positions by category, active units and expert shares, from the model's own counters. */
static void usage_by_category(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_corpus c;
    toy_corpus(&c);
    for (int kind = 0; kind < 3; kind++) {
        gpt_model m;
        tiny_gpt(&m, kind == 2 ? 3 : 0, kind == 1 ? GPT_ACT_RELU : GPT_ACT_GELU, 3.0f);
        lm_scorer s;
        gpt_scorer(&s, &m);
        lm_usage u;
        assert_int_equal(lm_usage_measure(&m, &s, &c, 0, &u, err), 0);
        assert_null(m.usage.count);   /* the counters are off again */
        /* categories in vocabulary order: PUNCT DET NOUN VERB; every input position counted
         * once ("." before each sentence included, the last token of each not an input) */
        assert_int_equal(u.n_cat, 4);
        assert_string_equal(u.cat[2], "NOUN");
        double want[4] = {3, 3, 3, 4};
        for (int k = 0; k < 4; k++) assert_true(u.tokens[k] == want[k]);
        assert_true(u.positions == 13);
        for (int l = 0; l < 3; l++) {
            assert_true(u.blocks[l] == 1.0);
            for (int k = 0; k < 4; k++) {
                double a = u.active[l * 4 + k];
                if (kind == 1) assert_true(a > 0 && a < 0.9);   /* ReLU zeroes about half */
                else assert_true(a == 1.0);   /* GELU is 0 only far below 0 (underflow) */
                double sum = 0;
                for (int e = 0; kind == 2 && e < 3; e++) sum += u.expert[(l * 4 + k) * 3 + e];
                if (kind == 2) assert_true(fabs(sum - 1.0) < 1e-12);
            }
        }
        lm_usage_free(&u);
        gpt_free(&m);
    }
    free_corpus(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lens_is_skipping),
        cmocka_unit_test(usage_by_category),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
