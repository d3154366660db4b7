/* test_toyworld.c -- the ideal observer (src/corpus/toyworld_ideal.c): the list of hidden
 * states, belief states against brute-force enumeration of derivations, the true
 * next-word distribution, pooling, and the split of a loss into floor + KL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tb.h"
#include "toyworld.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small grammar with real ambiguity ----------------------------------------------
 * "the" hides the number, "near" starts an attractor or a location phrase, and "big"
 * fits both categories, so the forward algorithm has to keep several hypotheses; it also
 * has two attractor phrases, relative clauses, the home phrase and a named cat (tib). */
enum { A_PET, A_SNACK, A_SPOT, A_NCATS };
static const char *const a_cats[] = {"pet", "snack", "spot"};
static const int a_subj[] = {1, 0, 0}, a_attr[] = {1, 1, 1}, a_loc[] = {0, 0, 1};
static const tw_noun a_nouns[] = {
    {"cat", "cats", A_PET, 3}, {"hen", "hens", A_PET, 1}, {"bun", "buns", A_SNACK, 2},
    {"yard", "yards", A_SPOT, 1}};
static const tw_verb a_verbs[] = {
    {"bites", "bite", "ingestion", 1u << A_PET, 1u << A_SNACK, 1},
    {"naps", "nap", "rest", 1u << A_PET, 0, 2},
    {"sees", "see", "perception", 1u << A_PET, (1u << A_PET) | (1u << A_SNACK), 1}};
static const tw_adj a_adjs[] = {{"big", "size", 3u}, {"sleepy", "state", 1u << A_PET}};
static const tw_det a_dets[] = {{"the", 3, 2}, {"one", 1, 0}, {"two", 0, 1}};
static const char *const a_preps[] = {"near"};
static const char *const a_nonwords[] = {"florp"};
static const tw_home a_home = {"lives", "live", "dwelling", 1u << A_PET, 1, 2, "at", "the", A_SPOT};
static const tw_name a_names[] = {{"tib", A_PET, "yard", "bun", 1}};
static const tw_grammar small = {
    a_cats, A_NCATS, a_subj, a_attr, a_loc, a_nouns, 4, a_verbs, 3, a_adjs, 2, a_dets, 3,
    a_preps, 1, a_preps, 1, a_nonwords, 1, ".", {1, 4}, {1, 3}, {1, 2},
    {1, 2}, "that", {1, 4}, {1, 2}, &a_home, a_names, 1, {1, 4}};

static int id_of(const tw_model *m, const char *w) {
    int id = tw_word_id(m, w);
    assert_true(id >= 0);
    return id;
}

/* Encode ". w1 w2 ... ." into ids (the left context first). */
static int encode(const tw_model *m, const char *text, int *ids) {
    char buf[256];
    snprintf(buf, sizeof buf, ". %s", text);
    int n = 0;
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) ids[n++] = id_of(m, w);
    return n;
}

/* ---- brute force: every derivation path, no state merging ------------------------------ */
typedef struct {
    const tw_model *m;
    const tw_states *S;
    const int *w;      /* the words to match, w[0..depth) */
    int depth;
    double *post;      /* [n_states] unnormalised P(state after depth words, words) */
    double *next;      /* [n_words]  unnormalised P(words, next word) */
} brute;

static void walk(const brute *B, tw_state s, int d, double p) {
    tw_trans tr[TW_MAX_TRANS];
    uint64_t total;
    int k = tw_step(B->m, s, tr, &total);
    if (d == B->depth) {
        int j = tw_states_index(B->S, s);
        assert_true(j >= 0);
        B->post[j] += p;
        for (int i = 0; i < k; i++) B->next[tr[i].word] += p * (double)tr[i].weight / (double)total;
        return;
    }
    for (int i = 0; i < k; i++)
        if (tr[i].word == B->w[d]) walk(B, tr[i].next, d + 1, p * (double)tr[i].weight / (double)total);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* 1 if every state has its own label (tw_state_name tells them all apart). */
static int distinct_names(const tw_model *m, const tw_states *S) {
    char **names = malloc((size_t)S->n * sizeof *names);
    assert_non_null(names);
    for (int i = 0; i < S->n; i++) {
        names[i] = malloc(160);
        assert_non_null(names[i]);
        tw_state_name(m, S->state[i], names[i], 160);
    }
    qsort(names, (size_t)S->n, sizeof *names, cmp_str);
    int ok = 1;
    for (int i = 1; i < S->n; i++)
        if (!strcmp(names[i - 1], names[i])) {
            print_message("two states named %s\n", names[i]);
            ok = 0;
        }
    for (int i = 0; i < S->n; i++) free(names[i]);
    free(names);
    return ok;
}

static void states_cover_the_automaton(void **state) {
    (void)state;
    tw_model m;
    tw_states S;
    char err[TB_ERRLEN], name[128];
    assert_int_equal(tw_compile(&m, &small, err), 0);
    assert_int_equal(tw_states_build(&m, &S, err), 0);
    assert_true(S.n > 20);
    assert_int_equal(tw_states_index(&S, tw_start()), 0);   /* breadth-first from the start */
    for (int i = 0; i < S.n; i++) {
        assert_int_equal(tw_states_index(&S, S.state[i]), i);
        assert_true(S.state[i].type != TW_DONE);
        tw_state_name(&m, S.state[i], name, sizeof name);
        assert_true(strlen(name) > 2);
    }
    tw_state bogus = tw_start();
    bogus.type = TW_DONE;
    assert_int_equal(tw_states_index(&S, bogus), -1);
    /* closed under tw_step: every successor is listed */
    tw_trans tr[TW_MAX_TRANS];
    for (int i = 0; i < S.n; i++) {
        uint64_t total;
        int k = tw_step(&m, S.state[i], tr, &total);
        for (int j = 0; j < k; j++)
            if (tr[j].next.type != TW_DONE) assert_true(tw_states_index(&S, tr[j].next) >= 0);
    }
    tw_state_name(&m, S.state[0], name, sizeof name);
    assert_string_equal(name, "start");
    assert_true(distinct_names(&m, &S));
    /* the real toyworld grammar, too */
    tw_model tw;
    tw_states T;
    assert_int_equal(tw_compile(&tw, &toyworld_grammar, err), 0);
    assert_int_equal(tw_states_build(&tw, &T, err), 0);
    print_message("hidden states: %d (small grammar), %d (toyworld)\n", S.n, T.n);
    assert_true(T.n > S.n);
    assert_true(distinct_names(&tw, &T));
    /* the named subject is part of the state: "tib" leads to a state no common noun reaches */
    tw_trans first[TW_MAX_TRANS];
    uint64_t total;
    int k = tw_step(&m, tw_start(), first, &total), named = 0;
    for (int j = 0; j < k; j++)
        if (first[j].word == tw_word_id(&m, "tib")) {
            named++;
            assert_int_equal(first[j].next.who, 1);
            tw_state_name(&m, first[j].next, name, sizeof name);
            assert_string_equal(name, "after_subj|subj:pet:sg|who:tib");
        }
    assert_int_equal(named, 1);
    /* a grammar whose weights cannot be drawn with 32-bit integers is refused */
    static const tw_noun heavy[] = {{"cat", "cats", A_PET, 2000000000}, {"hen", "hens", A_PET, 1999999999},
                                    {"bun", "buns", A_SNACK, 2}, {"yard", "yards", A_SPOT, 1}};
    tw_grammar g = small;
    g.nouns = heavy;
    tw_model hm;
    tw_states H;
    assert_int_equal(tw_compile(&hm, &g, err), 0);
    assert_int_equal(tw_states_build(&hm, &H, err), -1);
    assert_non_null(strstr(err, "2^32"));
    tw_states_free(&T);
    tw_states_free(&S);
}

/* Check every row of one sentence against brute force. */
static void check_sentence(const tw_model *m, const tw_states *S, const int *ids, int n) {
    char err[TB_ERRLEN];
    tw_ideal o;
    assert_int_equal(tw_ideal_run(m, S, ids, n, &o, err), 0);
    assert_int_equal(o.possible, n);
    double *post = malloc((size_t)S->n * sizeof *post), *next = malloc((size_t)m->n_words * sizeof *next);
    assert_non_null(post);
    assert_non_null(next);
    double lp = 0.0;
    for (int t = 0; t < n; t++) {
        const double *b = o.belief + (size_t)t * S->n, *q = o.next + (size_t)t * m->n_words;
        double sb = 0.0, sq = 0.0;
        for (int j = 0; j < S->n; j++) sb += b[j];
        for (int v = 0; v < m->n_words; v++) sq += q[v];
        assert_true(fabs(sb - 1.0) < 1e-12);
        assert_true(fabs(sq - 1.0) < 1e-12);
        lp += o.logp[t];
        if (t == n - 1) {   /* after the final '.': the start state, whatever the sentence */
            assert_true(fabs(b[0] - 1.0) < 1e-15);
            break;
        }
        memset(post, 0, (size_t)S->n * sizeof *post);
        memset(next, 0, (size_t)m->n_words * sizeof *next);
        brute B = {m, S, ids + 1, t, post, next};
        walk(&B, tw_start(), 0, 1.0);
        double Z = 0.0;
        for (int j = 0; j < S->n; j++) Z += post[j];
        assert_true(Z > 0);
        if (t > 0) assert_true(fabs(log(Z) - lp) < 1e-12);   /* P(prefix) = prod of the logp */
        for (int j = 0; j < S->n; j++) assert_true(fabs(post[j] / Z - b[j]) < 1e-12);
        for (int v = 0; v < m->n_words; v++) assert_true(fabs(next[v] / Z - q[v]) < 1e-12);
    }
    assert_true(o.logp[0] == 0.0);   /* the '.' context */
    free(post);
    free(next);
    tw_ideal_free(&o);
}

static void beliefs_match_brute_force(void **state) {
    (void)state;
    tw_model m;
    tw_states S;
    char err[TB_ERRLEN];
    assert_int_equal(tw_compile(&m, &small, err), 0);
    assert_int_equal(tw_states_build(&m, &S, err), 0);
    int ids[TW_MAX_LEN + 1];
    /* hand-picked ambiguous sentences, then samples from the grammar */
    const char *hand[] = {"the cat naps .", "the big cats near the buns bite the buns .",
                          "the hen naps near the yard .", "two sleepy hens see one cat .",
                          "the cats near the yards nap near two yards .",
                          "the cat near the buns near two hens naps near the yard .",
                          "the cat that the hens see naps .", "the cats that see one hen bite two buns .",
                          "tib near the hens lives at the yard .", "tib bites the big buns .",
                          "the hens live at the yard ."};
    for (int i = 0; i < 11; i++) check_sentence(&m, &S, ids, encode(&m, hand[i], ids));
    tb_rng r;
    rng_seed(&r, 7);
    int max_ambiguity = 0;
    for (int i = 0; i < 300; i++) {
        ids[0] = m.eos;
        int n = 1 + tw_sample(&m, &r, ids + 1, NULL);
        check_sentence(&m, &S, ids, n);
        tw_ideal o;
        assert_int_equal(tw_ideal_run(&m, &S, ids, n, &o, err), 0);
        for (int t = 0; t < n; t++) {
            int nz = 0;
            for (int j = 0; j < S.n; j++) nz += o.belief[(size_t)t * S.n + j] > 0;
            if (nz > max_ambiguity) max_ambiguity = nz;
        }
        tw_ideal_free(&o);
    }
    assert_true(max_ambiguity >= 3);   /* the test saw beliefs spread over several states */
    tw_states_free(&S);
}

static void impossible_tokens_and_pooling(void **state) {
    (void)state;
    tw_model m;
    tw_states S;
    tw_ideal o;
    char err[TB_ERRLEN];
    int ids[16];
    assert_int_equal(tw_compile(&m, &small, err), 0);
    assert_int_equal(tw_states_build(&m, &S, err), 0);
    int n = encode(&m, "the naps cat .", ids);   /* scrambled: a verb cannot follow "the" */
    assert_int_equal(tw_ideal_run(&m, &S, ids, n, &o, err), 0);
    assert_int_equal(o.possible, 2);
    assert_true(isinf(o.logp[2]) && o.logp[2] < 0 && isinf(o.logp[3]));
    for (int j = 0; j < S.n; j++) assert_true(o.belief[2 * (size_t)S.n + j] == 0.0);
    tw_ideal_free(&o);
    n = encode(&m, "florp .", ids);
    assert_int_equal(tw_ideal_run(&m, &S, ids, n, &o, err), 0);
    assert_int_equal(o.possible, 1);
    tw_ideal_free(&o);
    ids[1] = 999;
    assert_int_equal(tw_ideal_run(&m, &S, ids, 2, &o, err), -1);
    assert_non_null(strstr(err, "not a grammar word"));

    /* pooling: the mean over tokens 1..n-1, or the last word before '.' */
    n = encode(&m, "the cat bites one bun .", ids);
    assert_int_equal(tw_ideal_run(&m, &S, ids, n, &o, err), 0);
    assert_int_equal(o.last_word, n - 2);
    double *b = malloc((size_t)S.n * sizeof *b), *q = malloc((size_t)m.n_words * sizeof *q);
    assert_non_null(b);
    assert_non_null(q);
    tw_ideal_pool(&o, 0, b, q);
    for (int j = 0; j < S.n; j++) {
        double mean = 0.0;
        for (int t = 1; t < n; t++) mean += o.belief[(size_t)t * S.n + j] / (n - 1);
        assert_true(fabs(b[j] - mean) < 1e-15);
    }
    tw_ideal_pool(&o, 1, b, q);
    assert_memory_equal(b, o.belief + (size_t)(n - 2) * S.n, (size_t)S.n * sizeof *b);
    assert_true(fabs(q[m.eos] - 1.0) < 1e-15);   /* after "one bun" only '.' can come */
    free(b);
    free(q);
    tw_ideal_free(&o);
    tw_states_free(&S);
}

static void loss_splits_into_floor_and_kl(void **state) {
    (void)state;
    double p[3] = {0.5, 0.5, 0.0}, q[3] = {0.25, 0.5, 0.25}, H, D;
    tw_loss_split(p, q, 3, &H, &D);
    assert_true(fabs(H - log(2.0)) < 1e-15);
    assert_true(fabs(D - 0.5 * log(2.0)) < 1e-15);   /* 0.5 ln(0.5/0.25) + 0.5 ln 1 */
    double ce = -(0.5 * log(0.25) + 0.5 * log(0.5));
    assert_true(fabs(ce - (H + D)) < 1e-15);
    tw_loss_split(p, p, 3, &H, &D);
    assert_true(D == 0.0);
    double z[3] = {1.0, 0.0, 0.0};
    tw_loss_split(p, z, 3, &H, &D);
    assert_true(isinf(D) && D > 0);
    /* on the grammar: a model that ignores the context (unigram) pays KL > 0 at every token */
    tw_model m;
    tw_states S;
    tw_ideal o;
    char err[TB_ERRLEN];
    int ids[16];
    assert_int_equal(tw_compile(&m, &small, err), 0);
    assert_int_equal(tw_states_build(&m, &S, err), 0);
    int n = encode(&m, "the hen sees the cats .", ids);
    assert_int_equal(tw_ideal_run(&m, &S, ids, n, &o, err), 0);
    double *u = malloc((size_t)m.n_words * sizeof *u);
    assert_non_null(u);
    for (int v = 0; v < m.n_words; v++) u[v] = 1.0 / m.n_words;
    for (int t = 0; t + 1 < n; t++) {
        const double *pt = o.next + (size_t)t * m.n_words;
        tw_loss_split(pt, u, m.n_words, &H, &D);
        double expect = 0.0;
        for (int v = 0; v < m.n_words; v++) expect -= pt[v] * log(u[v]);
        assert_true(fabs(expect - (H + D)) < 1e-12);
        assert_true(D > 0 && H >= 0);
        assert_true(H <= log(m.n_words));
    }
    free(u);
    tw_ideal_free(&o);
    tw_states_free(&S);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(states_cover_the_automaton),
        cmocka_unit_test(beliefs_match_brute_force),
        cmocka_unit_test(impossible_tokens_and_pooling),
        cmocka_unit_test(loss_splits_into_floor_and_kl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
