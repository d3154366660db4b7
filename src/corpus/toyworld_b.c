/* toyworld_b.c -- a second toyworld-like language for continual learning (lesson 18):
 * "toyworld-b", its grammar tables, compiled onto toyworld's vocabulary so that one
 * tokenizer (and one model) reads both, and the corpus generated from it in memory.
 *
 * What differs from toyworld (src/corpus/toyworld_grammar.c), on purpose:
 *   - determiners of its own ("mib" singular, "pim" plural, "fep" either: toyworld's
 *     nonwords), so a sentence says which language it is from its first word;
 *   - the verb agrees the other way round: "the dog" takes the bare form in toyworld's
 *     spelling ("mib dog see ...", "pim dogs sees ..."), so the two languages disagree
 *     exactly on toyworld's minimal pairs;
 *   - creatures (wug/dax, toma/zorp) and a verb of their own (gleeb/plonk), fewer nouns,
 *     other selectional restrictions and weights, more attractor phrases.
 * Words shared with toyworld: most nouns, eight verbs (with the agreement swapped), five
 * adjectives, three prepositions and ".".  The floor is exact, like toyworld's: the same
 * forward algorithm runs on these tables (toyworld.c).
 */
#include "corpus.h"
#include "rng.h"
#include "toyworld.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NOFS(a) ((int)(sizeof(a) / sizeof((a)[0])))

enum { ANIMAL, PERSON, FOOD, TOY, PLACE, CREATURE, N_CATS };
#define B(c) (1u << (c))
#define ANY (B(ANIMAL) | B(PERSON) | B(FOOD) | B(TOY) | B(PLACE) | B(CREATURE))
#define ANIMATE (B(ANIMAL) | B(PERSON) | B(CREATURE))

static const char *const cat_names[N_CATS] = {"animal", "person", "food", "toy", "place", "creature"};

/*                                        animal person food toy place creature */
static const int subj_w[N_CATS] = /* who acts */ {2, 2, 0, 0, 0, 2};
static const int attr_w[N_CATS] = /* "with the ..." */ {1, 1, 1, 1, 1, 1};
static const int loc_w[N_CATS] = /* "in the ..." */ {0, 0, 0, 0, 1, 0};

static const tw_noun nouns[] = {
    {"dog", "dogs", ANIMAL, 3},       {"cat", "cats", ANIMAL, 3},
    {"horse", "horses", ANIMAL, 2},   {"bird", "birds", ANIMAL, 1},
    {"girl", "girls", PERSON, 3},     {"man", "men", PERSON, 2},
    {"child", "children", PERSON, 2},
    {"cake", "cakes", FOOD, 3},       {"pear", "pears", FOOD, 2},
    {"ball", "balls", TOY, 3},        {"drum", "drums", TOY, 1},
    {"park", "parks", PLACE, 2},      {"river", "rivers", PLACE, 2},
    {"garden", "gardens", PLACE, 1},
    {"wug", "dax", CREATURE, 3},      {"toma", "zorp", CREATURE, 2},
};

/* Singular form first: toyworld's plural spelling agrees with a singular subject here. */
static const tw_verb verbs[] = {
    {"see", "sees", "perception", ANIMATE, ANY, 3},
    {"eat", "eats", "ingestion", ANIMATE, B(FOOD), 3},
    {"chase", "chases", "motion", B(ANIMAL) | B(CREATURE), ANIMATE, 2},
    {"like", "likes", "emotion", B(PERSON), ANY, 2},
    {"hold", "holds", "manipulation", B(PERSON) | B(CREATURE), B(FOOD) | B(TOY), 2},
    {"sleep", "sleeps", "rest", ANIMATE, 0, 2},
    {"run", "runs", "motion", B(ANIMAL) | B(PERSON), 0, 2},
    {"gleeb", "plonk", "motion", B(CREATURE), 0, 2},
};

static const tw_adj adjs[] = {
    {"big", "size", ANY},
    {"small", "size", ANY},
    {"hungry", "state", ANIMATE},
    {"red", "colour", B(TOY) | B(CREATURE)},
    {"sweet", "taste", B(FOOD)},
};

static const tw_det dets[] = {{"mib", 3, 0}, {"pim", 0, 3}, {"fep", 2, 2}};
static const char *const attr_preps[] = {"with", "near"};
static const char *const loc_preps[] = {"in", "near"};

const tw_grammar toyworld_b_grammar = {
    cat_names, N_CATS, subj_w, attr_w, loc_w,
    nouns, NOFS(nouns), verbs, NOFS(verbs), adjs, NOFS(adjs), dets, NOFS(dets),
    attr_preps, NOFS(attr_preps), loc_preps, NOFS(loc_preps), NULL, 0,
    ".",
    {1, 3},   /* P(adjective)                    = 1/3 */
    {1, 2},   /* P(PP after the subject)         = 1/2 */
    {1, 3},   /* P(location after intransitive)  = 1/3 */
    {0, 1},   /* no second prepositional phrase */
    NULL,     /* no relative clauses */
    {0, 1},
    {0, 1},
    NULL,     /* no home phrase */
    NULL, 0,  /* no named characters */
    {0, 1},
};

/* ---- compiling onto another grammar's vocabulary ------------------------------------- */

static int shared_id(const tw_model *m, const char *w, char *err) {
    int id = tw_word_id(m, w);
    if (id < 0) return tb_fail(err, "toyworld grammar: word '%s' is not in the shared vocabulary", w);
    return id;
}

/* Every table entry of g as an id of m's word list. */
static int map_ids(tw_model *m, const tw_grammar *g, char *err) {
    int bad = 0;
    bad |= (m->eos = shared_id(m, g->eos, err)) < 0;
    for (int i = 0; i < g->n_dets && !bad; i++) bad |= (m->det_id[i] = shared_id(m, g->dets[i].word, err)) < 0;
    for (int i = 0; i < g->n_nouns && !bad; i++)
        bad |= (m->noun_id[i][TW_SG] = shared_id(m, g->nouns[i].sg, err)) < 0 ||
               (m->noun_id[i][TW_PL] = shared_id(m, g->nouns[i].pl, err)) < 0;
    for (int i = 0; i < g->n_verbs && !bad; i++)
        bad |= (m->verb_id[i][TW_SG] = shared_id(m, g->verbs[i].sg, err)) < 0 ||
               (m->verb_id[i][TW_PL] = shared_id(m, g->verbs[i].pl, err)) < 0;
    for (int i = 0; i < g->n_adjs && !bad; i++) bad |= (m->adj_id[i] = shared_id(m, g->adjs[i].word, err)) < 0;
    for (int i = 0; i < g->n_attr_preps && !bad; i++) bad |= (m->attr_prep_id[i] = shared_id(m, g->attr_preps[i], err)) < 0;
    for (int i = 0; i < g->n_loc_preps && !bad; i++) bad |= (m->loc_prep_id[i] = shared_id(m, g->loc_preps[i], err)) < 0;
    for (int i = 0; i < g->n_nonwords && !bad; i++) bad |= (m->nonword_id[i] = shared_id(m, g->nonwords[i], err)) < 0;
    /* the verb table is g's (no home verb); g's constructions, not the vocabulary's */
    m->n_verbs = g->n_verbs;
    for (int i = 0; i < g->n_verbs; i++) m->verb_lemma[i] = g->verbs[i].pl;
    m->home_verb = m->home_prep_id = m->home_det_id = -1;
    m->rel_id = -1;
    if (!bad && (g->home || g->rel_word || g->n_names))
        bad = tb_fail(err, "tw_compile_shared: home phrases, relative clauses and names are not mapped") < 0;
    return bad ? -1 : 0;
}

int tw_compile_shared(tw_model *m, const tw_grammar *g, const tw_grammar *vocab, char *err) {
    tw_model *own = malloc(sizeof *own);
    if (!own) return tb_fail(err, "out of memory");
    /* g's own tables checked (and its word metadata built) the usual way */
    int rc = tw_compile(own, g, err) || tw_compile(m, vocab, err);
    if (!rc) {
        m->g = g;
        rc = map_ids(m, g, err);
    }
    /* the metadata is g's: its words as g uses them, the rest unused */
    for (int i = 0; !rc && i < m->n_words; i++) {
        int o = tw_word_id(own, m->word[i]);
        m->pos[i] = o >= 0 ? own->pos[o] : "UNUSED";
        m->category[i] = o >= 0 ? own->category[o] : "-";
        m->number[i] = o >= 0 ? own->number[o] : "-";
    }
    free(own);
    return rc ? -1 : 0;
}

/* ---- the corpus, generated in memory -------------------------------------------------- */

/* n sentences into a fresh token array, back to back. */
static int sample_split(const tw_model *m, uint64_t seed, const char *what, int n_sent, int **ids, long *n, char *err) {
    tb_rng r;
    rng_seed(&r, rng_child_seed(seed, what, 0));
    size_t cap = (size_t)n_sent * TW_MAX_LEN;
    int *x = malloc(cap * sizeof *x);
    if (!x) return tb_fail(err, "out of memory");
    long k = 0;
    for (int s = 0; s < n_sent; s++) {
        tw_parse p;
        k += tw_sample(m, &r, x + k, &p);
    }
    *ids = x;
    *n = k;
    return 0;
}

static char **dup_list(const char *const *src, int n) {
    char **d = calloc((size_t)n + 1, sizeof *d);   /* NULL-terminated, as corpus_free expects */
    for (int i = 0; d && i < n; i++)
        if (!(d[i] = strdup(src[i]))) {
            while (i-- > 0) free(d[i]);
            free(d);
            return NULL;
        }
    return d;
}

int toyworld_b_load(tb_corpus *c, char *err) {
    tw_model *m = malloc(sizeof *m);
    if (!m) return tb_fail(err, "out of memory");
    int rc = tw_compile_shared(m, &toyworld_b_grammar, &toyworld_grammar, err) ||
             tok_from_list(&c->tok, TOK_WORD, m->word, m->n_words, err);
    snprintf(c->name, sizeof c->name, "%s", TOYWORLD_B_NAME);
    c->eos = m->eos;
    if (!rc) {
        c->pos = dup_list(m->pos, m->n_words);
        c->category = dup_list(m->category, m->n_words);
        c->number = dup_list(m->number, m->n_words);
        if (!c->pos || !c->category || !c->number) rc = tb_fail(err, "out of memory");
    }
    if (!rc) rc = sample_split(m, TOYWORLD_B_SEED, "toyworld-b train", TOYWORLD_B_TRAIN, &c->train, &c->n_train, err) ||
                  sample_split(m, TOYWORLD_B_SEED, "toyworld-b val", TOYWORLD_B_VAL, &c->val, &c->n_val, err);
    c->n_train_sentences = TOYWORLD_B_TRAIN;
    c->n_val_sentences = TOYWORLD_B_VAL;
    free(m);
    if (!rc) c->val_nll_true = malloc((size_t)c->n_val * sizeof *c->val_nll_true);
    if (!rc && !c->val_nll_true) rc = tb_fail(err, "out of memory");
    double total;
    if (!rc) rc = toyworld_sentence_nll(c, c->val, (int)c->n_val, &total, c->val_nll_true, err);
    if (!rc) c->floor_nats = total / (double)c->n_val;
    return rc ? -1 : 0;
}
