/* test_corpus.c -- the toyworld grammar engine, the entropy floor, the baselines, the
 * committed data/toyworld files and corpus_load's errors.  Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "corpus_plot.h"
#include "io.h"
#include "toyworld.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a tiny grammar: every sentence can be enumerated -------------------------------- */
enum { T_ANIMAL, T_FOOD, T_PLACE, T_NCATS };
static const char *const t_cats[] = {"animal", "food", "place"};
static const int t_subj[] = {1, 0, 0}, t_attr[] = {2, 1, 0}, t_loc[] = {0, 0, 1};
static const tw_noun t_nouns[] = {
    {"dog", "dogs", T_ANIMAL, 2}, {"cat", "cats", T_ANIMAL, 1}, {"cake", "cakes", T_FOOD, 1},
    {"park", "parks", T_PLACE, 1}};
static const tw_verb t_verbs[] = {
    {"eats", "eat", "ingestion", 1u << T_ANIMAL, 1u << T_FOOD, 2},
    {"sleeps", "sleep", "rest", 1u << T_ANIMAL, 0, 1}};
static const tw_adj t_adjs[] = {{"big", "size", 7u}, {"hungry", "state", 1u << T_ANIMAL}};
static const tw_det t_dets[] = {{"the", 2, 1}, {"a", 1, 0}, {"some", 0, 2}};
static const char *const t_attr_preps[] = {"near"};
static const char *const t_loc_preps[] = {"near"};   /* also an attractor preposition */
static const char *const t_nonwords[] = {"blick", "dax"};
static const tw_grammar tiny = {
    t_cats, T_NCATS, t_subj, t_attr, t_loc, t_nouns, 4, t_verbs, 2, t_adjs, 2, t_dets, 3,
    t_attr_preps, 1, t_loc_preps, 1, t_nonwords, 2, ".", {1, 3}, {2, 5}, {1, 2},
    {0, 1}, NULL, {0, 1}, {0, 1}, NULL, NULL, 0, {0, 1}};

/* ---- a tiny world: every construction of the real grammar, in a handful of words ------------
 * Two attractor phrases, both relative clauses, the home phrase ("in" is also the location
 * preposition), and two named animals whose home and favourite food the automaton must
 * carry from the name to the end of the sentence. */
static const char *const w_cats[] = {"animal", "food", "place"};
static const int w_subj[] = {1, 0, 0}, w_attr[] = {1, 1, 0}, w_loc[] = {0, 0, 1};
static const tw_noun w_nouns[] = {
    {"dog", "dogs", T_ANIMAL, 1}, {"cake", "cakes", T_FOOD, 2}, {"pie", "pies", T_FOOD, 1},
    {"park", "parks", T_PLACE, 1}, {"yard", "yards", T_PLACE, 2}};
static const tw_verb w_verbs[] = {
    {"eats", "eat", "ingestion", 1u << T_ANIMAL, 1u << T_FOOD, 2},
    {"sees", "see", "perception", 1u << T_ANIMAL, 1u << T_ANIMAL, 1},
    {"naps", "nap", "rest", 1u << T_ANIMAL, 0, 1}};
static const tw_det w_dets[] = {{"the", 1, 1}};
static const char *const w_attr_preps[] = {"near"};
static const char *const w_loc_preps[] = {"in"};
static const tw_home w_home = {"lives", "live", "dwelling", 1u << T_ANIMAL, 1, 3, "in", "the", T_PLACE};
static const tw_name w_names[] = {{"rex", T_ANIMAL, "yard", "pie", 1}, {"kit", T_ANIMAL, "park", "cake", 2}};
static const tw_grammar tiny_world = {
    w_cats, T_NCATS, w_subj, w_attr, w_loc, w_nouns, 5, w_verbs, 3, NULL, 0, w_dets, 1,
    w_attr_preps, 1, w_loc_preps, 1, t_nonwords, 2, ".", {0, 1}, {1, 3}, {1, 2},
    {1, 2}, "that", {1, 3}, {1, 2}, &w_home, w_names, 2, {1, 3}};

/* Brute force: walk every derivation, add its probability to its word string. */
#define MAXSENT 20000
typedef struct { int w[TW_MAX_LEN]; int n; double p; } bsent;
static bsent *bs;
static int nbs;

static void enumerate(const tw_model *m, tw_state s, int *w, int n, double p) {
    tw_trans tr[TW_MAX_TRANS];
    uint64_t total;
    int k = tw_step(m, s, tr, &total);
    if (k == 0) {   /* sentence complete */
        for (int i = 0; i < nbs; i++)
            if (bs[i].n == n && !memcmp(bs[i].w, w, (size_t)n * sizeof *w)) { bs[i].p += p; return; }
        assert_true(nbs < MAXSENT);
        memcpy(bs[nbs].w, w, (size_t)n * sizeof *w);
        bs[nbs].n = n;
        bs[nbs].p = p;
        nbs++;
        return;
    }
    assert_true(n < TW_MAX_LEN);
    for (int j = 0; j < k; j++) {
        w[n] = tr[j].word;
        enumerate(m, tr[j].next, w, n + 1, p * (double)tr[j].weight / (double)total);
    }
}

/* Every sentence of g by brute force against the forward algorithm: probabilities sum to
 * 1, every conditional P(next | prefix) (on a subset of prefixes) and every sentence's
 * probability agree, and so do the entropies.  Returns the number of sentences. */
static int engine_matches_brute_force(const tw_grammar *g, const char *name) {
    tw_model m;
    char err[TB_ERRLEN];
    assert_int_equal(tw_compile(&m, g, err), 0);
    bs = malloc(MAXSENT * sizeof *bs);
    assert_non_null(bs);
    nbs = 0;
    int w[TW_MAX_LEN];
    enumerate(&m, tw_start(), w, 0, 1.0);
    assert_true(nbs > 500);   /* big enough to be a real test */
    print_message("%s: %d sentences\n", name, nbs);
    double sum = 0.0, H_bf = 0.0, H_fw = 0.0;
    for (int i = 0; i < nbs; i++) {
        sum += bs[i].p;
        H_bf -= bs[i].p * log(bs[i].p);
    }
    assert_true(fabs(sum - 1.0) < 1e-12);
    tw_belief *b = malloc(sizeof *b);
    double *p = malloc((size_t)m.n_words * sizeof *p);
    assert_non_null(b);
    assert_non_null(p);
    for (int i = 0; i < nbs; i++) {
        /* The forward algorithm, word by word, against the brute-force conditional
         * P(next = v | prefix) = P_bf(prefix v ...) / P_bf(prefix ...). */
        tw_belief_init(b);
        double nll = 0.0;
        for (int t = 0; t < bs[i].n; t++) {
            tw_next_dist(&m, b, p);
            double ps = 0.0, pre = 0.0;
            for (int v = 0; v < m.n_words; v++) ps += p[v];
            assert_true(fabs(ps - 1.0) < 1e-12);
            if (i % 37 == 0) {   /* full conditional check on a subset (it is O(nbs^2)) */
                double *cond = calloc((size_t)m.n_words, sizeof *cond);
                for (int j = 0; j < nbs; j++)
                    if (bs[j].n > t && !memcmp(bs[j].w, bs[i].w, (size_t)t * sizeof(int))) {
                        pre += bs[j].p;
                        cond[bs[j].w[t]] += bs[j].p;
                    }
                for (int v = 0; v < m.n_words; v++) assert_true(fabs(cond[v] / pre - p[v]) < 1e-12);
                free(cond);
            }
            double pt = tw_observe(&m, b, bs[i].w[t]);
            assert_true(pt > 0.0);
            assert_true(fabs(pt - p[bs[i].w[t]]) < 1e-15);
            nll -= log(pt);
        }
        assert_true(fabs(exp(-nll) - bs[i].p) < 1e-12 * bs[i].p + 1e-300);
        H_fw += bs[i].p * nll;
    }
    assert_true(fabs(H_fw - H_bf) < 1e-12);
    /* Impossible continuations get probability 0. */
    tw_belief_init(b);
    assert_true(tw_observe(&m, b, tw_word_id(&m, "the")) > 0);
    assert_true(tw_observe(&m, b, tw_word_id(&m, "cake")) == 0.0);   /* food is never a subject */
    free(b);
    free(p);
    free(bs);
    return nbs;
}

/* P(sentence) under g by the forward algorithm (0: impossible). */
static double sentence_p(const tw_model *m, const char *text) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    tw_belief b;
    tw_belief_init(&b);
    double P = 1.0;
    for (char *t = strtok(buf, " "); t && P > 0; t = strtok(NULL, " ")) {
        int id = tw_word_id(m, t);
        assert_true(id >= 0);
        P *= tw_observe(m, &b, id);
    }
    return P;
}

static void tiny_engine_matches_brute_force(void **state) {
    (void)state;
    engine_matches_brute_force(&tiny, "tiny grammar");
    int n = engine_matches_brute_force(&tiny_world, "tiny world");
    /* It covers every construction, and the facts are the only way some words can go. */
    const char *has[] = {"the dog near the pies near the dog naps .", "the dog that sees the dogs naps .",
                         "the dogs that the dog sees nap .", "rex lives in the yard .",
                         "kit near the cakes eats the cakes .", "the dogs live in the park ."};
    const char *never[] = {"rex lives in the park .", "kit eats the pie .", "the dogs that the dog sees naps .",
                           "the dog that the dogs eat naps .", "rex that sees the dog naps .",
                           "the dog near the pie near the dog near the dog naps ."};
    tw_model m;
    char err[TB_ERRLEN];
    assert_int_equal(tw_compile(&m, &tiny_world, err), 0);
    for (int i = 0; i < 6; i++) {
        if (!(sentence_p(&m, has[i]) > 0)) fail_msg("'%s' should be a tiny-world sentence", has[i]);
        if (sentence_p(&m, never[i]) != 0) fail_msg("'%s' should be impossible", never[i]);
    }
    /* P(rex) = 1/3 * 1/3 (names weigh 1 and 2); after "rex lives in the", "yard" is certain */
    assert_true(fabs(sentence_p(&m, "rex") - 1.0 / 9) < 1e-15);
    assert_true(fabs(sentence_p(&m, "rex lives in the yard") - sentence_p(&m, "rex lives in the")) < 1e-15);
    assert_true(n < MAXSENT);
}

static void bad_grammars_are_rejected(void **state) {
    (void)state;
    tw_model m;
    char err[TB_ERRLEN];
    tw_grammar g = tiny;
    static const int subj_food[] = {1, 1, 0};   /* food subjects but no verb for them */
    g.subj_cat_weight = subj_food;
    assert_int_equal(tw_compile(&m, &g, err), -1);
    assert_non_null(strstr(err, "food"));
    g = tiny;
    g.p_adj[0] = 4;   /* 4/3 is not a probability */
    assert_int_equal(tw_compile(&m, &g, err), -1);
    static const char *const dup_nw[] = {"blick", "dog"};
    g = tiny;
    g.nonwords = dup_nw;
    assert_int_equal(tw_compile(&m, &g, err), -1);
    assert_non_null(strstr(err, "dog"));
    /* the world's facts must be sayable */
    static const tw_name bad_home[] = {{"rex", T_ANIMAL, "pie", "pie", 1}};   /* a pie is no place */
    static const tw_name bad_food[] = {{"rex", T_ANIMAL, "yard", "dog", 1}};
    static const tw_name no_noun[] = {{"rex", T_ANIMAL, "yard", "bread", 1}};
    g = tiny_world;
    assert_int_equal(tw_compile(&m, &g, err), 0);
    g.names = bad_home;
    g.n_names = 1;
    assert_int_equal(tw_compile(&m, &g, err), -1);
    assert_non_null(strstr(err, "rex's home 'pie'"));
    g.names = bad_food;
    assert_int_equal(tw_compile(&m, &g, err), 0);   /* sees takes animals: a dog is a fine favourite */
    g.names = no_noun;
    assert_int_equal(tw_compile(&m, &g, err), -1);
    assert_non_null(strstr(err, "bread"));
    g = tiny_world;
    g.p_rel[0] = 3;   /* P(PP) + P(relative) = 1/3 + 3/3 > 1 */
    g.p_rel[1] = 3;
    assert_int_equal(tw_compile(&m, &g, err), -1);
    assert_non_null(strstr(err, "relative"));
    g = tiny_world;
    g.rel_word = NULL;
    assert_int_equal(tw_compile(&m, &g, err), -1);
}

/* The sampler's labels agree with the words: the main verb agrees with the subject, the
 * relative verb with its own subject, a name's home and food are its facts, and the
 * relative clause starts with "that".  seen[] counts the constructions: 0 two attractors,
 * 1 subject relatives, 2 object relatives, 3 names, 4 homes named, 5 foods named, 6 one
 * attractor, 7 the home verb after a common noun. */
static void check_parse(const tw_model *m, const int *w, int n, const tw_parse *ps, int *seen) {
    const tw_grammar *g = m->g;
    assert_int_equal(ps->n, n);
    assert_int_equal(w[ps->verb_pos], m->verb_id[ps->verb][ps->subj_num]);
    if (ps->rel == TW_RC_SUBJ) assert_int_equal(w[ps->rel_verb_pos], m->verb_id[ps->rel_verb][ps->subj_num]);
    if (ps->rel == TW_RC_OBJ) {
        assert_int_equal(w[ps->rel_verb_pos], m->verb_id[ps->rel_verb][ps->rel_num]);
        assert_true((g->verbs[ps->rel_verb].obj >> ps->subj_cat) & 1u);   /* the gap is the head */
    }
    /* "that" right before a subject relative's verb, before DET [ADJ] NOUN in an object relative */
    if (ps->rel == TW_RC_SUBJ) assert_int_equal(w[ps->rel_verb_pos - 1], m->rel_id);
    if (ps->rel == TW_RC_OBJ) assert_true(w[ps->rel_verb_pos - 3] == m->rel_id || w[ps->rel_verb_pos - 4] == m->rel_id);
    if (ps->rel == TW_RC_NONE) assert_int_equal(ps->rel_verb_pos, -1);
    if (ps->name >= 0) {
        assert_int_equal(w[0], m->name_id[ps->name]);
        assert_int_equal(ps->subj_num, TW_SG);
        assert_int_equal(ps->rel, TW_RC_NONE);
        if (ps->home_pos >= 0) assert_int_equal(w[ps->home_pos], m->noun_id[m->name_home[ps->name]][TW_SG]);
        if (ps->food_pos >= 0) {
            int f = m->name_food[ps->name];
            assert_true(w[ps->food_pos] == m->noun_id[f][0] || w[ps->food_pos] == m->noun_id[f][1]);
        }
    } else {
        assert_true(ps->home_pos < 0 || ps->verb == m->home_verb);
        assert_int_equal(ps->food_pos, -1);
    }
    seen[0] += ps->has_attr == 2;
    seen[1] += ps->rel == TW_RC_SUBJ;
    seen[2] += ps->rel == TW_RC_OBJ;
    seen[3] += ps->name >= 0;
    seen[4] += ps->name >= 0 && ps->home_pos >= 0;
    seen[5] += ps->food_pos >= 0;
    seen[6] += ps->has_attr == 1;
    seen[7] += ps->name < 0 && ps->verb == m->home_verb;
}

/* The real grammar: next-word distributions sum to 1 along sampled sentences, every
 * sampled word has P > 0, and the sampler's parse labels agree with the words. */
static void real_grammar_distributions(void **state) {
    (void)state;
    tw_model m;
    char err[TB_ERRLEN];
    assert_int_equal(tw_compile(&m, &toyworld_grammar, err), 0);
    assert_true(m.n_words - toyworld_grammar.n_nonwords >= 60);
    assert_true(m.n_words - toyworld_grammar.n_nonwords <= 140);
    tw_belief *b = malloc(sizeof *b);
    double *p = malloc((size_t)m.n_words * sizeof *p);
    tb_rng r;
    rng_seed(&r, 7);
    int lmin = 99, lmax = 0, seen[8] = {0};
    for (int s = 0; s < 600; s++) {
        int w[TW_MAX_LEN];
        tw_parse ps;
        int n = tw_sample(&m, &r, w, &ps);
        assert_int_equal(w[n - 1], m.eos);
        if (n < lmin) lmin = n;
        if (n > lmax) lmax = n;
        check_parse(&m, w, n, &ps, seen);
        tw_belief_init(b);
        for (int t = 0; t < n; t++) {
            tw_next_dist(&m, b, p);
            double sum = 0.0;
            for (int v = 0; v < m.n_words; v++) sum += p[v];
            assert_true(fabs(sum - 1.0) < 1e-12);
            for (int k = 0; k < toyworld_grammar.n_nonwords; k++)
                assert_true(p[m.nonword_id[k]] == 0.0);
            assert_true(tw_observe(&m, b, w[t]) > 0.0);
        }
    }
    assert_true(lmin >= 3);   /* "tom runs ." */
    assert_true(lmax <= 18);
    for (int k = 0; k < 8; k++) assert_true(seen[k] > 0);   /* every construction turned up */
    free(b);
    free(p);
}

/* ---- files ------------------------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len) {
    char *d = NULL, err[TB_ERRLEN];
    if (read_file(path, &d, len, err)) return NULL;
    return d;
}

static const char *const FILES[] = {"train.txt", "val.txt", "vocab.tsv", "probes_sentences.txt",
                                    "probes_sentences.tsv", "probes_scrambled.txt",
                                    "probes_nonwords.txt", "probes_twins.txt", "probes_twins.tsv",
                                    "minimal_pairs.tsv", "fact_pairs.tsv", "facts.tsv", "stats.json"};
#define NFILES (int)(sizeof FILES / sizeof FILES[0])

static void tmpdir(char *buf, size_t n, const char *tag) {
    snprintf(buf, n, "/tmp/tb_test_corpus_%ld_%s", (long)getpid(), tag);
}

static void rmdir_files(const char *dir) {
    char p[1200];
    for (int i = 0; i < NFILES; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, FILES[i]);
        remove(p);
    }
    rmdir(dir);
}

static int same_file(const char *a, const char *b) {
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

/* The guide's "bit for bit" promise: the committed data/toyworld is what the default
 * seed produces, byte for byte. */
static void committed_data_regenerates_bit_for_bit(void **state) {
    (void)state;
    char dir[256], err[TB_ERRLEN], a[1200], b[1200];
    tmpdir(dir, sizeof dir, "regen");
    assert_int_equal(toyworld_write(dir, 1, NULL, err), 0);
    for (int i = 0; i < NFILES; i++) {
        snprintf(a, sizeof a, "%s/%s", dir, FILES[i]);
        snprintf(b, sizeof b, "%s/%s", TB_DATA_DIR, FILES[i]);
        if (!same_file(a, b)) fail_msg("%s differs from a fresh `tinybrain corpus` (seed 1)", b);
    }
    rmdir_files(dir);
}

static void seeds_are_deterministic(void **state) {
    (void)state;
    char d1[256], d2[256], d3[256], err[TB_ERRLEN], a[1200], b[1200];
    tb_toyworld_opts o;
    toyworld_default_opts(&o);
    o.n_train_sentences = 500;
    o.n_val_sentences = 100;
    o.n_probe_sentences = 60;
    o.n_minimal_pairs = 40;
    o.n_fact_pairs = 20;
    tmpdir(d1, sizeof d1, "s1");
    tmpdir(d2, sizeof d2, "s2");
    tmpdir(d3, sizeof d3, "s3");
    assert_int_equal(toyworld_write(d1, 5, &o, err), 0);
    assert_int_equal(toyworld_write(d2, 5, &o, err), 0);
    assert_int_equal(toyworld_write(d3, 6, &o, err), 0);
    for (int i = 0; i < NFILES; i++) {
        snprintf(a, sizeof a, "%s/%s", d1, FILES[i]);
        snprintf(b, sizeof b, "%s/%s", d2, FILES[i]);
        assert_true(same_file(a, b));
    }
    snprintf(a, sizeof a, "%s/train.txt", d1);
    snprintf(b, sizeof b, "%s/train.txt", d3);
    assert_false(same_file(a, b));
    /* More training sentences leave val and the probes unchanged (separate streams). */
    o.n_train_sentences = 800;
    assert_int_equal(toyworld_write(d3, 5, &o, err), 0);
    const char *same[] = {"val.txt", "probes_sentences.txt", "minimal_pairs.tsv", "fact_pairs.tsv"};
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "%s/%s", d1, same[i]);
        snprintf(b, sizeof b, "%s/%s", d3, same[i]);
        assert_true(same_file(a, b));
    }
    /* Bad options. */
    o.n_train_sentences = 0;
    assert_int_equal(toyworld_write(d3, 5, &o, err), -1);
    rmdir_files(d1);
    rmdir_files(d2);
    rmdir_files(d3);
}

/* ---- the committed corpus: floor, baselines, stimuli ----------------------------------- */

static void floor_below_bigram_below_unigram(void **state) {
    (void)state;
    tb_corpus c;
    char err[TB_ERRLEN];
    if (corpus_load(&c, NULL, TB_DATA_DIR, "word", err)) fail_msg("%s", err);
    assert_true(c.n_train_sentences == 20000 && c.n_val_sentences == 2000);
    assert_true(c.floor_nats > 0.5);
    assert_true(c.floor_nats < c.bigram_nats - 0.2);   /* memory beyond one word matters */
    assert_true(c.bigram_nats < c.unigram_nats);
    assert_true(c.unigram_nats < log((double)c.tok.vocab_size));
    /* The per-token floor terms average to the floor. */
    double s = 0.0;
    for (long i = 0; i < c.n_val; i++) {
        assert_true(isfinite(c.val_nll_true[i]) && c.val_nll_true[i] >= 0.0f);
        s += c.val_nll_true[i];
    }
    assert_true(fabs(s / c.n_val - c.floor_nats) < 1e-5);
    /* stats.json carries the same numbers. */
    size_t len;
    char *js = slurp(TB_DATA_DIR "/stats.json", &len), want[64];
    assert_non_null(js);
    snprintf(want, sizeof want, "\"floor_nats\": %.6f", c.floor_nats);
    assert_non_null(strstr(js, want));
    snprintf(want, sizeof want, "\"bigram_nats\": %.6f", c.bigram_nats);
    assert_non_null(strstr(js, want));
    free(js);
    /* Word metadata. */
    int eos = tok_id(&c.tok, ".");
    assert_int_equal(c.eos, eos);
    int dogs = tok_id(&c.tok, "dogs"), chases = tok_id(&c.tok, "chases");
    assert_string_equal(c.pos[dogs], "NOUN");
    assert_string_equal(c.category[dogs], "animal");
    assert_string_equal(c.number[dogs], "pl");
    assert_string_equal(c.number[chases], "sg");
    int nonwords = 0;
    for (int i = 0; i < c.tok.vocab_size; i++) nonwords += !strcmp(c.pos[i], "NONWORD");
    assert_true(nonwords >= 16);
    /* The first token of a sentence is predicted from "a sentence begins" only: a
     * determiner, or (P = 1/4) a named character. */
    double *p = malloc((size_t)c.tok.vocab_size * sizeof *p);
    assert_int_equal(toyworld_next_dist(&c, NULL, 0, p, err), 0);
    double first = 0.0, named = 0.0;
    for (int i = 0; i < c.tok.vocab_size; i++) {
        if (!(p[i] > 0)) continue;
        if (strcmp(c.pos[i], "NAME")) assert_string_equal(c.pos[i], "DET");
        else named += p[i];
        first += p[i];
    }
    assert_true(fabs(first - 1.0) < 1e-12);
    assert_true(fabs(named - 0.25) < 1e-12);
    /* An impossible prefix is an error, not a distribution. */
    int bad[2] = {tok_id(&c.tok, "the"), tok_id(&c.tok, "runs")};
    assert_int_equal(toyworld_next_dist(&c, bad, 2, p, err), -1);
    assert_non_null(strstr(err, "runs"));
    free(p);
    corpus_free(&c);
}

static int *encode(const tb_corpus *c, const char *s, int *n) {
    int *ids;
    char err[TB_ERRLEN];
    if (tok_encode(&c->tok, s, &ids, n, err)) fail_msg("%s", err);
    return ids;
}

/* Every pair: the good sentence is possible, the bad one differs in exactly one word and
 * is impossible under the grammar.  Returns the number of pairs; counts[k] the pairs whose
 * phenomenon is names[k], *with_attr those with attractor 1. */
static int check_pairs(const tb_corpus *c, const char *path, const char *const *names, int n_names, int *counts,
                       int *with_attr, const char *swap_kind, int *swaps) {
    char err[TB_ERRLEN];
    tb_minpair *mp;
    int n;
    assert_int_equal(corpus_read_minimal_pairs(path, &mp, &n, err), 0);
    *with_attr = 0;
    for (int i = 0; i < n; i++) {
        int ng, nb;
        int *g = encode(c, mp[i].good, &ng), *b = encode(c, mp[i].bad, &nb);
        double tg, tb;
        assert_int_equal(ng, nb);
        assert_int_equal(toyworld_sentence_nll(c, g, ng, &tg, NULL, err), 0);
        assert_int_equal(toyworld_sentence_nll(c, b, nb, &tb, NULL, err), 0);
        assert_true(isfinite(tg));
        if (!isinf(tb)) fail_msg("'%s' should be impossible", mp[i].bad);
        int diff = 0;
        for (int k = 0; k < ng; k++)
            if (g[k] != b[k]) {
                diff++;
                if (!strncmp(mp[i].phenomenon, swap_kind, strlen(swap_kind))) swaps[g[k] * c->tok.vocab_size + b[k]]++;
            }
        assert_int_equal(diff, 1);
        *with_attr += mp[i].attractor;
        int k = 0;
        while (k < n_names && strcmp(names[k], mp[i].phenomenon)) k++;
        if (k == n_names) fail_msg("unknown phenomenon '%s'", mp[i].phenomenon);
        counts[k]++;
        free(g);
        free(b);
    }
    corpus_free_minimal_pairs(mp, n);
    return n;
}

static void minimal_pairs_and_probes(void **state) {
    (void)state;
    tb_corpus c;
    char err[TB_ERRLEN];
    if (corpus_load(&c, NULL, TB_DATA_DIR, "word", err)) fail_msg("%s", err);
    static const char *const ph[] = {"simple", "pp_attractor", "two_attractors", "relative_subject",
                                     "relative_object", "filler_gap"};
    static const char *const facts[] = {"fact_home", "fact_food"};
    int by_ph[6] = {0}, fcnt[2] = {0}, with_attr, V = c.tok.vocab_size;
    int *gap = calloc((size_t)V * V, sizeof *gap), *swap = calloc((size_t)V * V, sizeof *swap);
    assert_non_null(gap);
    assert_non_null(swap);
    int n = check_pairs(&c, TB_DATA_DIR "/minimal_pairs.tsv", ph, 6, by_ph, &with_attr, "filler_gap", gap);
    assert_int_equal(n, 480);
    for (int k = 0; k < 6; k++) assert_int_equal(by_ph[k], 80);
    assert_int_equal(with_attr, 4 * 80);   /* all but simple and filler_gap */
    n = check_pairs(&c, TB_DATA_DIR "/fact_pairs.tsv", facts, 2, fcnt, &with_attr, "fact_", swap);
    assert_int_equal(n, 160);
    assert_int_equal(fcnt[0], 80);
    assert_int_equal(with_attr, 0);
    /* Counterbalanced: a verb (noun) that is right against another in one pair is wrong
     * against it in another, as often; compared by lemma ("drives"/"drive" alike). */
    tw_model *m = malloc(sizeof *m);
    int *lemma = malloc((size_t)V * sizeof *lemma);
    assert_true(m && lemma);
    assert_int_equal(tw_compile(m, &toyworld_grammar, err), 0);
    for (int w = 0; w < V; w++) lemma[w] = w;
    for (int v = 0; v < m->n_verbs; v++) lemma[m->verb_id[v][1]] = m->verb_id[v][0];
    for (int i = 0; i < toyworld_grammar.n_nouns; i++) lemma[m->noun_id[i][1]] = m->noun_id[i][0];
    int *by_lemma[2] = {calloc((size_t)V * V, sizeof(int)), calloc((size_t)V * V, sizeof(int))};
    assert_true(by_lemma[0] && by_lemma[1]);
    for (int x = 0; x < V * V; x++) {
        by_lemma[0][lemma[x / V] * V + lemma[x % V]] += gap[x];
        by_lemma[1][lemma[x / V] * V + lemma[x % V]] += swap[x];
    }
    int traded = 0;
    for (int x = 0; x < V; x++)
        for (int y = 0; y < V; y++)
            for (int k = 0; k < 2; k++) {
                assert_int_equal(by_lemma[k][x * V + y], by_lemma[k][y * V + x]);
                traded += by_lemma[k][x * V + y];
            }
    assert_int_equal(traded, 80 + 160);
    free(by_lemma[0]);
    free(by_lemma[1]);
    free(lemma);
    free(m);
    free(gap);
    free(swap);
    /* a file of the old three columns still reads: the phenomenon comes from the attractor column */
    char path[128];
    snprintf(path, sizeof path, "/tmp/tb_test_corpus_%ld_pairs.tsv", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("good\tbad\tattractor\nthe dog runs .\tthe dog run .\t0\nthe dog near the cats runs .\tthe dog near the cats run .\t1\n", f);
    fclose(f);
    tb_minpair *mp;
    assert_int_equal(corpus_read_minimal_pairs(path, &mp, &n, err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(mp[0].phenomenon, "simple");
    assert_string_equal(mp[1].phenomenon, "pp_attractor");
    corpus_free_minimal_pairs(mp, n);
    remove(path);

    char **sent, **scr, **nw;
    int ns, nsc, nnw;
    assert_int_equal(corpus_read_lines(TB_DATA_DIR "/probes_sentences.txt", &sent, &ns, err), 0);
    assert_int_equal(corpus_read_lines(TB_DATA_DIR "/probes_scrambled.txt", &scr, &nsc, err), 0);
    assert_int_equal(corpus_read_lines(TB_DATA_DIR "/probes_nonwords.txt", &nw, &nnw, err), 0);
    assert_true(ns >= 240);
    assert_int_equal(nsc, ns);
    assert_int_equal(nnw, ns);
    int per_cat[8] = {0};
    for (int i = 0; i < ns; i++) {
        int n1, n2, n3;
        int *a = encode(&c, sent[i], &n1), *b = encode(&c, scr[i], &n2), *x = encode(&c, nw[i], &n3);
        double t;
        assert_int_equal(toyworld_sentence_nll(&c, a, n1, &t, NULL, err), 0);
        assert_true(isfinite(t));
        assert_int_equal(n1, n2);
        assert_int_equal(n1, n3);
        /* scrambled: same multiset of words */
        int cnt[512] = {0};
        for (int k = 0; k < n1; k++) { cnt[a[k]]++; cnt[b[k]]--; }
        for (int k = 0; k < c.tok.vocab_size; k++) assert_int_equal(cnt[k], 0);
        for (int k = 0; k < n3 - 1; k++) assert_string_equal(c.pos[x[k]], "NONWORD");
        assert_int_equal(x[n3 - 1], c.eos);
        /* Which subject category: the first noun or name. */
        for (int k = 0; k < n1; k++)
            if (!strcmp(c.pos[a[k]], "NOUN") || !strcmp(c.pos[a[k]], "NAME")) {
                if (!strcmp(c.category[a[k]], "animal")) per_cat[0]++;
                else if (!strcmp(c.category[a[k]], "person")) per_cat[1]++;
                else if (!strcmp(c.category[a[k]], "vehicle")) per_cat[2]++;
                else per_cat[3]++;
                break;
            }
        free(a); free(b); free(x);
    }
    assert_int_equal(per_cat[0], ns / 3);
    assert_int_equal(per_cat[1], ns / 3);
    assert_int_equal(per_cat[2], ns / 3);
    assert_int_equal(per_cat[3], 0);
    corpus_free_lines(sent, ns);
    corpus_free_lines(scr, nsc);
    corpus_free_lines(nw, nnw);
    corpus_free(&c);
}

/* Same-words twins: each pair has the same multiset of words in a different order, both
 * are toyworld sentences, and the swapped phrases kept their number (the verb's form).
 * A hand-built case checks each kind of swap word by word. */
static void twins_same_words_different_structure(void **state) {
    (void)state;
    tb_corpus c;
    char err[TB_ERRLEN];
    if (corpus_load(&c, NULL, TB_DATA_DIR, "word", err)) fail_msg("%s", err);
    char **tw;
    int n, kinds[2] = {0, 0};
    assert_int_equal(corpus_read_lines(TB_DATA_DIR "/probes_twins.txt", &tw, &n, err), 0);
    assert_int_equal(n, 240);
    for (int i = 0; i < n; i += 2) {
        int na, nb;
        int *a = encode(&c, tw[i], &na), *b = encode(&c, tw[i + 1], &nb);
        double ta, tb;
        assert_int_equal(na, nb);
        assert_int_equal(toyworld_sentence_nll(&c, a, na, &ta, NULL, err), 0);
        assert_int_equal(toyworld_sentence_nll(&c, b, nb, &tb, NULL, err), 0);
        assert_true(isfinite(ta) && isfinite(tb));
        int cnt[512] = {0}, moved = 0;
        for (int k = 0; k < na; k++) { cnt[a[k]]++; cnt[b[k]]--; moved += a[k] != b[k]; }
        for (int k = 0; k < c.tok.vocab_size; k++) assert_int_equal(cnt[k], 0);
        assert_true(moved >= 2);
        kinds[(i / 2) % 2]++;
        /* only the structures a twin understands: no name, no relative clause, one PP at most */
        int preps_before_verb = 0;
        for (int k = 0; k < na && strcmp(c.pos[a[k]], "VERB"); k++) {
            assert_string_not_equal(c.pos[a[k]], "NAME");
            assert_string_not_equal(c.pos[a[k]], "COMP");
            preps_before_verb += !strcmp(c.pos[a[k]], "PREP");
        }
        assert_true(preps_before_verb <= 1);
        free(a);
        free(b);
    }
    assert_int_equal(kinds[0], 60);
    assert_int_equal(kinds[1], 60);
    corpus_free_lines(tw, n);

    tw_model *m = malloc(sizeof *m);
    assert_non_null(m);
    assert_int_equal(tw_compile(m, &toyworld_grammar, err), 0);
    const char *so[] = {"the", "dog", "chases", "a", "cat", "."}, *so_t[] = {"a", "cat", "chases", "the", "dog", "."};
    const char *sa[] = {"the", "big", "dog", "near", "a", "girl", "runs", "."};
    const char *sa_t[] = {"a", "girl", "near", "the", "big", "dog", "runs", "."};
    int w[12], t[12];
    for (int k = 0; k < 6; k++) w[k] = tw_word_id(m, so[k]);
    assert_int_equal(tw_twin(m, w, 6, TW_TWIN_SUBJ_OBJ, t), 1);
    for (int k = 0; k < 6; k++) assert_int_equal(t[k], tw_word_id(m, so_t[k]));
    assert_int_equal(tw_twin(m, w, 6, TW_TWIN_SUBJ_ATTR, t), 0);   /* no attractor */
    for (int k = 0; k < 8; k++) w[k] = tw_word_id(m, sa[k]);
    assert_int_equal(tw_twin(m, w, 8, TW_TWIN_SUBJ_ATTR, t), 1);
    for (int k = 0; k < 8; k++) assert_int_equal(t[k], tw_word_id(m, sa_t[k]));
    assert_int_equal(tw_twin(m, w, 8, TW_TWIN_SUBJ_OBJ, t), 0);    /* intransitive */
    /* numbers differ: "the dog chases the cats" has no same-words twin */
    const char *num[] = {"the", "dog", "chases", "the", "cats", "."};
    for (int k = 0; k < 6; k++) w[k] = tw_word_id(m, num[k]);
    assert_int_equal(tw_twin(m, w, 6, TW_TWIN_SUBJ_OBJ, t), 0);
    /* the new subject cannot do the verb: "the girl drives a car" -> "a car drives the girl" */
    const char *sel[] = {"the", "girl", "drives", "a", "car", "."};
    for (int k = 0; k < 6; k++) w[k] = tw_word_id(m, sel[k]);
    assert_int_equal(tw_twin(m, w, 6, TW_TWIN_SUBJ_OBJ, t), 0);
    /* structures a twin does not understand: two attractors, a relative clause, a name */
    const char *beyond[] = {"the dog near a cat near the girl runs .", "the dog that chases a cat sees the girl .",
                            "mia chases the cat ."};
    for (int i = 0; i < 3; i++) {
        int k = 0;
        char buf[128];
        snprintf(buf, sizeof buf, "%s", beyond[i]);
        for (char *x = strtok(buf, " "); x; x = strtok(NULL, " ")) w[k++] = tw_word_id(m, x);
        assert_true(k <= 10);
        assert_int_equal(tw_twin(m, w, k, TW_TWIN_SUBJ_OBJ, t), 0);
        assert_int_equal(tw_twin(m, w, k, TW_TWIN_SUBJ_ATTR, t), 0);
    }
    free(m);
    corpus_free(&c);
}

/* The scrambled-corpus control: every training sentence keeps its words (as a multiset),
 * its length and its final ".", most change order, validation is untouched, and the same
 * seed gives the same text. */
static void scrambled_training_sentences(void **state) {
    (void)state;
    tb_corpus a, b;
    char err[TB_ERRLEN];
    if (corpus_load(&a, NULL, TB_DATA_DIR, "word", err)) fail_msg("%s", err);
    if (corpus_load(&b, NULL, TB_DATA_DIR, "word", err)) fail_msg("%s", err);
    int *orig = malloc((size_t)a.n_train * sizeof *orig);
    assert_non_null(orig);
    memcpy(orig, a.train, (size_t)a.n_train * sizeof *orig);
    assert_int_equal(corpus_scramble_train(&a, 3, err), 0);
    assert_int_equal(corpus_scramble_train(&b, 3, err), 0);
    assert_memory_equal(a.train, b.train, (size_t)a.n_train * sizeof *orig);
    long start = 0, sentences = 0, changed = 0;
    for (long i = 0; i < a.n_train; i++) {
        assert_int_equal(a.train[i] == a.eos, orig[i] == a.eos);   /* "." stays put */
        if (orig[i] != a.eos) continue;
        int cnt[512] = {0}, diff = 0;
        for (long k = start; k < i; k++) { cnt[orig[k]]++; cnt[a.train[k]]--; diff |= orig[k] != a.train[k]; }
        for (int k = 0; k < a.tok.vocab_size; k++) assert_int_equal(cnt[k], 0);
        sentences++;
        changed += diff;
        start = i + 1;
    }
    assert_int_equal(sentences, a.n_train_sentences);
    assert_true(changed > sentences * 9 / 10);
    assert_memory_equal(a.val, b.val, (size_t)a.n_val * sizeof(int));
    free(orig);
    corpus_free(&a);
    corpus_free(&b);
}

/* ---- baselines on a hand-worked stream -------------------------------------------------- */
static void baselines_hand_worked(void **state) {
    (void)state;
    /* train "0 1 0 1 0 1 0 1 0 1" (V = 3), val "0 1": unigram add-one: P(0) = 6/13,
     * P(1) = 6/13 -> val NLL = ln(13/6).  Bigram: the held-out tail is perfectly
     * predictable, so lambda -> 0.999; P(0 | 1) = 0.999 + 0.001 * 6/13 for val[0]
     * (context = train's last token 1), P(1 | 0) the same. */
    int tr[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, va[2] = {0, 1};
    double u, b, l;
    char err[TB_ERRLEN];
    assert_int_equal(corpus_baselines(tr, 10, va, 2, 3, -1, &u, &b, &l, err), 0);
    assert_true(fabs(u - log(13.0 / 6.0)) < 1e-12);
    assert_true(fabs(l - 0.999) < 1e-12);
    assert_true(fabs(b + log(0.999 + 0.001 * 6.0 / 13.0)) < 1e-12);
    assert_int_equal(corpus_baselines(tr, 1, va, 2, 3, -1, &u, &b, &l, err), -1);
}

/* ---- loading errors and text corpora ---------------------------------------------------- */

static void write_bytes(const char *path, const char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_str(const char *path, const char *s) { write_bytes(path, s, strlen(s)); }

static void load_errors_and_text_corpora(void **state) {
    (void)state;
    tb_corpus c;
    char err[TB_ERRLEN], path[600], dir[256];
    assert_int_equal(corpus_load(&c, "/nonexistent/book.txt", NULL, "char", err), -1);
    assert_non_null(strstr(err, "/nonexistent/book.txt"));
    assert_int_equal(corpus_load(&c, NULL, "/nonexistent/tw", NULL, err), -1);
    assert_non_null(strstr(err, "/nonexistent/tw"));
    snprintf(path, sizeof path, "/tmp/tb_test_corpus_%ld.txt", (long)getpid());
    write_str(path, "");
    assert_int_equal(corpus_load(&c, path, NULL, "char", err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "empty"));
    write_bytes(path, "abc\0def ghi jkl mno", 19);
    assert_int_equal(corpus_load(&c, path, NULL, "word", err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "NUL"));
    write_str(path, "tiny");
    assert_int_equal(corpus_load(&c, path, NULL, "char", err), -1);
    assert_non_null(strstr(err, path));
    /* A real text: 100 bytes -> 90 train, 10 val, baselines finite, no floor. */
    char text[101];
    for (int i = 0; i < 100; i++) text[i] = "the cat sat on the mat\n"[i % 23];
    text[100] = 0;
    write_bytes(path, text, 100);
    assert_int_equal(corpus_load(&c, path, NULL, "char", err), 0);
    assert_int_equal(c.n_train, 90);
    assert_int_equal(c.n_val, 10);
    assert_true(isnan(c.floor_nats));
    assert_null(c.val_nll_true);
    assert_true(c.bigram_nats < c.unigram_nats);
    corpus_free(&c);
    assert_int_equal(corpus_load(&c, path, NULL, "word", err), 0);
    assert_int_equal(c.n_train + c.n_val, 26);
    assert_int_equal(c.n_train, 23);
    corpus_free(&c);
    remove(path);
    /* A toyworld folder whose val.txt has an ungrammatical line. */
    tmpdir(dir, sizeof dir, "bad");
    tb_toyworld_opts o;
    toyworld_default_opts(&o);
    o.n_train_sentences = 50;
    o.n_val_sentences = 5;
    o.n_probe_sentences = 6;
    o.n_minimal_pairs = 2;
    o.n_fact_pairs = 2;
    assert_int_equal(toyworld_write(dir, 3, &o, err), 0);
    assert_int_equal(corpus_load(&c, NULL, dir, NULL, err), 0);
    corpus_free(&c);
    snprintf(path, sizeof path, "%s/val.txt", dir);
    write_str(path, "the dog runs .\nthe dogs runs .\n");
    assert_int_equal(corpus_load(&c, NULL, dir, NULL, err), -1);
    assert_non_null(strstr(err, "line 2"));
    write_str(path, "the dog runs\n");
    assert_int_equal(corpus_load(&c, NULL, dir, NULL, err), -1);
    assert_non_null(strstr(err, "val.txt"));
    write_str(path, "the wug runs .\n");   /* nonword: in the vocab, not in the grammar */
    assert_int_equal(corpus_load(&c, NULL, dir, NULL, err), -1);
    write_str(path, "the zebra runs .\n");
    assert_int_equal(corpus_load(&c, NULL, dir, NULL, err), -1);
    assert_non_null(strstr(err, "zebra"));
    snprintf(path, sizeof path, "%s/vocab.tsv", dir);
    write_str(path, "id\tword\tpos\tcategory\tnumber\n0\t.\tPUNCT\n");
    assert_int_equal(corpus_load(&c, NULL, dir, NULL, err), -1);
    assert_non_null(strstr(err, "vocab.tsv"));
    rmdir_files(dir);
}

/* ---- looking at a corpus: lengths, ranks, categories, scores, pictures ------------------- */

/* A hand-made corpus: train "1 2 0 | 3 0 | 1 3 1 0" with eos 0 (sentences of 3, 2 and 4
 * tokens); nouns 1 (animal) and 3 (food), 2 a verb. */
static void hand_corpus(tb_corpus *c, int *train, char **pos, char **cat) {
    static const int stream[9] = {1, 2, 0, 3, 0, 1, 3, 1, 0};
    memset(c, 0, sizeof *c);
    memcpy(train, stream, sizeof stream);
    snprintf(c->name, sizeof c->name, "hand");
    c->train = train;
    c->n_train = 9;
    c->eos = 0;
    c->tok.vocab_size = 4;
    c->pos = pos;
    c->category = cat;
}

static void lengths_ranks_categories(void **state) {
    (void)state;
    char err[TB_ERRLEN], *pos[4] = {"PUNCT", "NOUN", "VERB", "NOUN"}, *cat[4] = {"", "animal", "", "food"};
    int train[9];
    tb_corpus c;
    hand_corpus(&c, train, pos, cat);
    double mean, f[4];
    int mn, mx, n;
    corpus_sentence_lengths(&c, &mean, &mn, &mx);
    assert_true(mean == 3.0 && mn == 2 && mx == 4);
    /* counts: 1 x3, 0 x3, 3 x2, 2 x1; ties by id, so 0 comes before 1 */
    assert_int_equal(corpus_rank_frequencies(&c, f, &n, err), 0);
    assert_int_equal(n, 4);
    assert_true(f[0] == 3 / 9.0 && f[1] == 3 / 9.0 && f[2] == 2 / 9.0 && f[3] == 1 / 9.0);
    /* sentence 1: animal; 2: food; 3: animal twice and food */
    tb_categories k;
    assert_int_equal(corpus_category_pairs(&c, &k, err), 0);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.names[0], "animal");
    assert_string_equal(k.names[1], "food");
    assert_true(fabsf(k.share[0] - 1 / 3.0f) < 1e-7f);   /* two animals: sentence 3 */
    assert_true(fabsf(k.share[1] - 1 / 3.0f) < 1e-7f);   /* animal and food: sentence 3 */
    assert_true(k.share[1] == k.share[2] && k.share[3] == 0);
    corpus_categories_free(&k);
    c.eos = -1;                                          /* not toyworld: no categories */
    assert_int_equal(corpus_category_pairs(&c, &k, err), -1);
    corpus_sentence_lengths(&c, &mean, &mn, &mx);
    assert_true(isnan(mean));
}

/* A sentence scored word by word: the terms add up to the total, each token's
 * probability is at most the grammar's best guess there, and the guesses come in
 * decreasing order; an ungrammatical sentence scores +inf from its first bad word. */
static void score_and_tour(void **state) {
    (void)state;
    tb_corpus c;
    char err[TB_ERRLEN];
    if (corpus_load(&c, NULL, TB_DATA_DIR, "word", err)) fail_msg("%s", err);
    toyworld_score s;
    assert_int_equal(toyworld_score_text(&c, "the dog near the cats chases the ball .", &s, err), 0);
    assert_int_equal(s.n, 9);
    double sum = 0;
    for (int t = 0; t < s.n; t++) {
        const double *p = s.top_p + t * TOYWORLD_TOP;
        sum += s.nll[t];
        assert_true(s.possible[t]);
        assert_true(exp(-(double)s.nll[t]) <= p[0] * (1 + 1e-6));   /* nll is a float */
        for (int j = 1; j < TOYWORLD_TOP; j++) assert_true(p[j] <= p[j - 1]);
    }
    assert_true(isfinite(s.total) && fabs(sum - s.total) < 1e-4);
    assert_int_equal(s.top[8 * TOYWORLD_TOP], tok_id(&c.tok, "."));   /* after "the ball" comes "." */
    toyworld_score_free(&s);
    assert_int_equal(toyworld_score_text(&c, "the dog near the cats chase the ball .", &s, err), 0);
    assert_true(isinf(s.total) && isinf(s.nll[5]) && !s.possible[6]);
    toyworld_score_free(&s);
    assert_int_equal(toyworld_score_text(&c, "the qqqqx", &s, err), -1);
    /* the tour's pictures */
    char dir[64];
    tb_picture pic;
    tmpdir(dir, sizeof dir, "tour");
    assert_int_equal(corpus_plot_zipf(&c, dir, &pic, err), 0);
    assert_int_equal(access(pic.path, F_OK), 0);
    assert_int_equal(corpus_plot_categories(&c, dir, &pic, err), 0);
    assert_int_equal(access(pic.path, F_OK), 0);
    assert_non_null(strstr(pic.path, "corpus_categories.png"));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    corpus_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_engine_matches_brute_force),
        cmocka_unit_test(bad_grammars_are_rejected),
        cmocka_unit_test(real_grammar_distributions),
        cmocka_unit_test(baselines_hand_worked),
        cmocka_unit_test(committed_data_regenerates_bit_for_bit),
        cmocka_unit_test(seeds_are_deterministic),
        cmocka_unit_test(floor_below_bigram_below_unigram),
        cmocka_unit_test(minimal_pairs_and_probes),
        cmocka_unit_test(twins_same_words_different_structure),
        cmocka_unit_test(scrambled_training_sentences),
        cmocka_unit_test(load_errors_and_text_corpora),
        cmocka_unit_test(lengths_ranks_categories),
        cmocka_unit_test(score_and_tour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
