/* toyworld_pairs.c -- the minimal pairs of data/toyworld/, BLiMP style: a sentence of the
 * grammar and a copy with one word changed that the grammar can never produce.  Lessons 01
 * and 08.
 *
 * Two files, the paper's two kinds of competence:
 *   minimal_pairs.tsv  formal (syntax): agreement with no attractor, across one or two
 *                      prepositional phrases, across a subject or an object relative clause,
 *                      and the gap of an object relative ("the car that the girl drives"
 *                      vs "... eats": the verb must take the head noun as its object);
 *   fact_pairs.tsv     functional (knowing the world): a named character's home or
 *                      favourite food swapped for another ("mia lives in the river ."),
 *                      which no rule of syntax forbids, only the facts.
 * Each pair is found by sampling sentences from the grammar until one shows what is asked
 * (rejection sampling keeps the grammar's own frequencies inside each kind).
 */
#include "corpus.h"
#include "rng.h"
#include "toyworld_priv.h"

#include <stdlib.h>
#include <string.h>

/* The syntax phenomena, in the order the pairs cycle through them. */
enum { PH_SIMPLE, PH_PP, PH_TWO_PP, PH_REL_SUBJ, PH_REL_OBJ, PH_GAP, N_PH };
static const char *const ph_name[N_PH] = {"simple", "pp_attractor", "two_attractors", "relative_subject",
                                          "relative_object", "filler_gap"};
/* Does a noun of the other number stand between the subject and its verb? */
static const int ph_attractor[N_PH] = {0, 1, 1, 1, 1, 0};

enum { FACT_HOME, FACT_FOOD, N_FACT };
static const char *const fact_name[N_FACT] = {"fact_home", "fact_food"};

typedef struct { sent good; int bad[TW_MAX_LEN]; int kind, wrong; } pair;   /* wrong: the item put into bad */

/* ---- syntax ------------------------------------------------------------------------------ */

/* 1 if the sampled sentence p shows phenomenon ph with a common-noun subject of number num
 * (and, for agreement, attractors of the other number). */
static int shows(const tw_parse *p, int ph, int num) {
    if (p->name >= 0 || p->subj_num != num) return 0;
    switch (ph) {
    case PH_SIMPLE: return !p->has_attr && p->rel == TW_RC_NONE;
    case PH_PP: return p->has_attr == 1 && p->attr_num != num;
    case PH_TWO_PP: return p->has_attr == 2 && p->attr_num != num && p->attr2_num != num;
    case PH_REL_SUBJ: return p->rel == TW_RC_SUBJ && p->rel_num != num;
    case PH_REL_OBJ: return p->rel == TW_RC_OBJ && p->rel_num != num;
    default: return p->rel == TW_RC_OBJ;
    }
}

/* 1 if verb v is wrong in the gap of p's object relative although it is a verb object
 * relatives use: its subject can do it, it takes some subject category as its object
 * ("the dog that the girl chases"), but not the head's ("the car that the girl chases"). */
static int violates(const tw_grammar *g, int head, int rel_subj, int v) {
    unsigned heads = 0;   /* the categories a relative clause can be about */
    for (int c = 0; c < g->n_cats; c++) heads |= (unsigned)(g->subj_cat_weight[c] > 0) << c;
    const tw_verb *vb = &g->verbs[v];
    return (vb->obj & heads) && ((vb->subj >> rel_subj) & 1u) && !((vb->obj >> head) & 1u);
}

static int gap_violator(const tw_grammar *g, const tw_parse *p, int v) { return violates(g, p->subj_cat, p->rel_cat, v); }

/* 1 if some head and relative subject make verb `wrong` right and `right` wrong (so the
 * couple of pair 2k can be completed). */
static int has_counterpart(const tw_grammar *g, int right, int wrong) {
    for (int h = 0; h < g->n_cats; h++)
        for (int c = 0; c < g->n_cats && g->subj_cat_weight[h]; c++)
            if (g->subj_cat_weight[c] && ((g->verbs[wrong].subj >> c) & (g->verbs[wrong].obj >> h) & 1u) &&
                violates(g, h, c, right))
                return 1;
    return 0;
}

/* The wrong verb of a filler-gap pair.  The pairs come in couples that trade verbs: pair
 * 2k draws a violator at random, pair 2k+1 must have pair 2k's wrong verb as its right one
 * and its right verb as the wrong one ("the car that the girl drives / chases", then "the
 * dog that the girl chases / drives"), so how often a verb follows "that the girl" cannot
 * decide the test: only the head can.  -1 when p does not fit. */
static int gap_wrong_verb(const tw_grammar *g, const tw_parse *p, const pair *prev, tb_rng *r) {
    if (prev) {
        int right = prev->good.p.rel_verb;
        return p->rel_verb == prev->wrong && gap_violator(g, p, right) ? right : -1;
    }
    int cand[TW_MAX_ITEMS], k = 0;
    for (int v = 0; v < g->n_verbs; v++)
        if (gap_violator(g, p, v) && has_counterpart(g, p->rel_verb, v)) cand[k++] = v;
    return k ? cand[rng_below(r, (uint32_t)k)] : -1;
}

/* Pair i (phenomenon i mod N_PH, subject number alternating): bad = good with the main
 * verb in the other number, or (filler-gap) the relative verb replaced by a wrong one. */
static int make_syntax(const tw_model *m, int i, tb_rng *r, pair *q, const pair *done) {
    int ph = i % N_PH, num = (i / N_PH) % 2;
    const tw_parse *p = &q->good.p;
    if (!shows(p, ph, num)) return 0;
    memcpy(q->bad, q->good.w, (size_t)p->n * sizeof *q->bad);
    q->kind = ph;
    if (ph != PH_GAP) {
        q->wrong = p->verb;
        q->bad[p->verb_pos] = m->verb_id[p->verb][1 - p->subj_num];
        return 1;
    }
    int v = gap_wrong_verb(m->g, p, (i / N_PH) % 2 ? &done[i - N_PH] : NULL, r);
    if (v < 0) return 0;
    q->wrong = v;
    q->bad[p->rel_verb_pos] = m->verb_id[v][p->rel_num];
    return 1;
}

/* ---- facts ------------------------------------------------------------------------------- */

/* The noun of fact `kind` about name i (a noun table index). */
static int fact_of(const tw_model *m, int kind, int i) { return kind == FACT_HOME ? m->name_home[i] : m->name_food[i]; }

/* The partner of name a for fact `kind`: the next name (cyclically) whose fact differs;
 * -1 if all share it. */
static int partner(const tw_model *m, int kind, int a) {
    int n = m->g->n_names;
    for (int d = 1; d < n; d++)
        if (fact_of(m, kind, (a + d) % n) != fact_of(m, kind, a)) return (a + d) % n;
    return -1;
}

/* Pairs come in couples that trade facts: couple k is about homes (even k) or favourite
 * foods (odd k) of name a = (k / 2) mod n_names and its partner b; pair 2k says a's fact
 * with b's as the wrong one, pair 2k+1 the other way round ("mia lives in the garden /
 * river", "leo lives in the river / garden").  How common "garden" is cannot decide the
 * test; only knowing who lives where can.  bad = good with that noun swapped, in the same
 * number. */
static int make_fact(const tw_model *m, int i, tb_rng *r, pair *q, const pair *done) {
    (void)r;
    (void)done;
    const tw_parse *p = &q->good.p;
    int k = i / 2, kind = k % N_FACT, a = (k / N_FACT) % m->g->n_names, b = partner(m, kind, a);
    int who = i % 2 ? b : a, pos = kind == FACT_HOME ? p->home_pos : p->food_pos;
    if (b < 0 || p->name != who || pos < 0) return 0;
    int num = m->noun_id[fact_of(m, kind, who)][TW_SG] == q->good.w[pos] ? TW_SG : TW_PL;
    memcpy(q->bad, q->good.w, (size_t)p->n * sizeof *q->bad);
    q->wrong = fact_of(m, kind, i % 2 ? a : b);
    q->bad[pos] = m->noun_id[q->wrong][num];
    q->kind = kind;
    return 1;
}

/* ---- finding and writing pairs ------------------------------------------------------------- */

static int same_pair(const pair *a, const pair *b) {
    int n = a->good.p.n;
    return n == b->good.p.n && !memcmp(a->good.w, b->good.w, (size_t)n * sizeof(int)) &&
           !memcmp(a->bad, b->bad, (size_t)n * sizeof(int));
}

/* Make pair i from the sentence sampled into q (0: it does not fit); done[0..i) are the
 * pairs found so far. */
typedef int (*pair_maker)(const tw_model *m, int i, tb_rng *r, pair *q, const pair *done);

/* n different pairs from one stream: sample until make(i) accepts a sentence. */
static int find_pairs(const tw_model *m, uint64_t seed, int stream, int n, pair_maker make, pair *out,
                      const char *what, char *err) {
    tb_rng r;
    rng_stream(&r, seed, (uint64_t)stream);
    for (int i = 0; i < n; i++)
        for (long tries = 0;; tries++) {
            if (tries > 4000000) return tb_fail(err, "%s: cannot find %d different pairs", what, n);
            pair *q = &out[i];
            tw_sample(m, &r, q->good.w, &q->good.p);
            if (!make(m, i, &r, q, out)) continue;
            int dup = 0;
            for (int j = 0; j < i && !dup; j++) dup = same_pair(&out[j], q);
            if (!dup) break;
        }
    return 0;
}

/* good <TAB> bad <TAB> attractor <TAB> phenomenon, one row per pair. */
static int write_pair_file(const tw_model *m, const pair *pp, int n, const char *const *kind_name,
                           const int *attractor, const char *dir, const char *name, char *err) {
    sbuf b = {0};
    sb_add(&b, "good\tbad\tattractor\tphenomenon\n");
    for (int i = 0; i < n; i++) {
        sb_sentence(&b, m, pp[i].good.w, pp[i].good.p.n);
        sb_add(&b, "\t");
        sb_sentence(&b, m, pp[i].bad, pp[i].good.p.n);
        sb_add(&b, "\t%d\t%s\n", attractor ? attractor[pp[i].kind] : 0, kind_name[pp[i].kind]);
    }
    return sb_write(&b, dir, name, err);
}

int write_minimal_pairs(const tw_model *m, uint64_t seed, int n_pairs, const char *dir, char *err) {
    pair *pp = malloc((size_t)n_pairs * sizeof *pp);
    if (!pp) return tb_fail(err, "out of memory");
    int rc = find_pairs(m, seed, STREAM_PAIRS, n_pairs, make_syntax, pp, "minimal pairs", err);
    if (!rc) rc = write_pair_file(m, pp, n_pairs, ph_name, ph_attractor, dir, "minimal_pairs.tsv", err);
    free(pp);
    return rc;
}

/* facts.tsv: every named character's home and favourite food. */
static int write_facts(const tw_model *m, const char *dir, char *err) {
    const tw_grammar *g = m->g;
    sbuf b = {0};
    sb_add(&b, "name\thome\tfood\n");
    for (int i = 0; i < g->n_names; i++)
        sb_add(&b, "%s\t%s\t%s\n", g->names[i].word, g->nouns[m->name_home[i]].sg, g->nouns[m->name_food[i]].sg);
    return sb_write(&b, dir, "facts.tsv", err);
}

int write_fact_pairs(const tw_model *m, uint64_t seed, int n_facts, const char *dir, char *err) {
    if (m->g->n_names < 2) return tb_fail(err, "fact pairs: the grammar needs two named characters");
    pair *pp = malloc((size_t)n_facts * sizeof *pp);
    if (!pp) return tb_fail(err, "out of memory");
    int rc = find_pairs(m, seed, STREAM_FACTS, n_facts, make_fact, pp, "fact pairs", err);
    if (!rc) rc = write_pair_file(m, pp, n_facts, fact_name, NULL, dir, "fact_pairs.tsv", err);
    if (!rc) rc = write_facts(m, dir, err);
    free(pp);
    return rc;
}
