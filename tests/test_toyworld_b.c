/* test_toyworld_b.c -- the second language of lesson 18 (src/corpus/toyworld_b.c): compiled
 * onto toyworld's vocabulary (same ids, its own metadata), its agreement the other way
 * round, sentences neither language can produce in the other, next-word distributions
 * that sum to 1, and a corpus generated the same way every time with an exact floor. */
#include "corpus.h"
#include "toyworld.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void shared_vocabulary(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tw_model *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_int_equal(tw_compile(a, &toyworld_grammar, err), 0);
    assert_int_equal(tw_compile_shared(b, &toyworld_b_grammar, &toyworld_grammar, err), 0);
    assert_int_equal(a->n_words, b->n_words);
    for (int i = 0; i < a->n_words; i++) assert_string_equal(a->word[i], b->word[i]);
    int see = tw_word_id(a, "see"), mib = tw_word_id(a, "mib"), fox = tw_word_id(a, "fox");
    assert_string_equal(a->number[see], "pl");   /* "the dogs see" */
    assert_string_equal(b->number[see], "sg");   /* "mib dog see" */
    assert_string_equal(a->pos[mib], "NONWORD");
    assert_string_equal(b->pos[mib], "DET");
    assert_string_equal(b->pos[fox], "UNUSED");
    assert_int_equal(b->verb_id[0][TW_SG], see);
    /* a word the vocabulary lacks is refused */
    static const tw_det odd[] = {{"zzz", 1, 1}};
    tw_grammar g = toyworld_b_grammar;
    g.dets = odd;
    g.n_dets = 1;
    assert_int_equal(tw_compile_shared(b, &g, &toyworld_grammar, err), -1);
    assert_non_null(strstr(err, "zzz"));
    free(a);
    free(b);
}

/* P(next word) over B's states sums to 1; sentences of one language are impossible in
 * the other (B opens with its own determiners; A's agreement is B's error). */
static void two_languages(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tw_model *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    tw_belief *bel = malloc(sizeof *bel);
    double *p = malloc(TW_MAX_WORDS * sizeof(double));
    assert_int_equal(tw_compile(a, &toyworld_grammar, err), 0);
    assert_int_equal(tw_compile_shared(b, &toyworld_b_grammar, &toyworld_grammar, err), 0);
    tb_rng r;
    rng_seed(&r, 7);
    for (int s = 0; s < 200; s++) {
        int w[TW_MAX_LEN];
        tw_parse ps;
        int n = tw_sample(b, &r, w, &ps);
        tw_belief_init(bel);
        for (int t = 0; t < n; t++) {
            tw_next_dist(b, bel, p);
            double sum = 0;
            for (int i = 0; i < b->n_words; i++) sum += p[i];
            assert_true(fabs(sum - 1) < 1e-12);
            assert_true(tw_observe(b, bel, w[t]) > 0);
        }
        tw_belief_init(bel);
        assert_true(tw_observe(a, bel, w[0]) == 0.0);   /* "mib", "pim", "fep": not toyworld */
    }
    /* "mib dog see mib cake ." is B; toyworld's own agreement "sees" is not */
    const char *good[] = {"mib", "dog", "see", "mib", "cake", "."}, *bad[] = {"mib", "dog", "sees"};
    tw_belief_init(bel);
    for (int t = 0; t < 6; t++) assert_true(tw_observe(b, bel, tw_word_id(b, good[t])) > 0);
    tw_belief_init(bel);
    double q = 1;
    for (int t = 0; t < 3; t++) q *= tw_observe(b, bel, tw_word_id(b, bad[t]));
    assert_true(q == 0.0);
    free(a); free(b); free(bel); free(p);
}

static void corpus_in_memory(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_corpus c1, c2, a;
    assert_int_equal(corpus_load(&c1, TOYWORLD_B_NAME, NULL, NULL, err), 0);
    assert_int_equal(corpus_load(&c2, TOYWORLD_B_NAME, NULL, "char", err), 0);   /* always words */
    assert_int_equal(corpus_load(&a, "toyworld", TB_DATA_DIR, "word", err), 0);
    assert_string_equal(c1.name, TOYWORLD_B_NAME);
    assert_true(c1.n_train == c2.n_train && c1.n_val == c2.n_val);
    assert_memory_equal(c1.train, c2.train, (size_t)c1.n_train * sizeof(int));
    assert_int_equal(c1.n_train_sentences, TOYWORLD_B_TRAIN);
    /* the same tokenizer as toyworld's */
    assert_int_equal(c1.tok.vocab_size, a.tok.vocab_size);
    for (int i = 0; i < a.tok.vocab_size; i++) assert_string_equal(c1.tok.tokens[i], a.tok.tokens[i]);
    /* the floor is the mean exact NLL of the validation tokens, below both baselines */
    double s = 0;
    for (long i = 0; i < c1.n_val; i++) s += c1.val_nll_true[i];
    assert_true(fabs(s / c1.n_val - c1.floor_nats) < 1e-6);
    assert_true(c1.floor_nats > 1.0 && c1.floor_nats < c1.bigram_nats && c1.bigram_nats < c1.unigram_nats);
    assert_true(fabs(c1.floor_nats - a.floor_nats) > 0.1);   /* its own floor */
    /* toyworld's scorer of a B sentence is B's grammar, not toyworld's */
    double total;
    assert_int_equal(toyworld_sentence_nll(&c1, c1.val, 10, &total, NULL, err), 0);
    assert_true(isfinite(total));
    corpus_free(&c1);
    corpus_free(&c2);
    corpus_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_vocabulary),
        cmocka_unit_test(two_languages),
        cmocka_unit_test(corpus_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
