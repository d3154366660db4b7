/* toyworld.c -- the toyworld automaton: step, sample, and the forward algorithm that
 * gives exact next-word probabilities.  Lesson 01.
 *
 * The automaton's states (tw_state) remember only what the rest of the sentence
 * depends on: where we are (type), which noun phrase is being built (role, its
 * category c and number n), the subject's category and number (sc, sn: the verb must
 * agree with them even after "near the cats" or "that the cats chase"), the verb (v:
 * which objects it takes) and the named subject (who: its home and favourite food).
 * Each state lists its outgoing transitions with integer weights; each transition
 * emits exactly one word.  The grammar is in toyworld_grammar.c, its compilation into
 * a word list in toyworld_compile.c.
 */
#include "toyworld.h"
#include "tb.h"

#include <math.h>
#include <string.h>

/* ---- states ---------------------------------------------------------------------------- */

static tw_state bare(int type) {
    tw_state s;
    memset(&s, 0, sizeof s);
    s.type = (uint8_t)type;
    return s;
}

/* A state of this type that keeps `from`'s subject (sc, sn) and named subject (who). */
static tw_state carry(int type, tw_state from) {
    tw_state s = bare(type);
    s.sc = from.sc; s.sn = from.sn; s.who = from.who;
    return s;
}

tw_state tw_start(void) { return bare(TW_START); }

static int same_state(tw_state a, tw_state b) {
    return a.type == b.type && a.role == b.role && a.c == b.c && a.n == b.n && a.sc == b.sc &&
           a.sn == b.sn && a.v == b.v && a.who == b.who;
}

/* ---- building a state's transitions ------------------------------------------------------
 * A state's choices come in parts ("a preposition", "that", "a verb"), each a list with
 * its own integer weights; mix() then gives each part its probability. */

#define TW_PARTS 4   /* kinds of choice one state mixes (after a subject: PP, "that", verb) */

typedef struct {
    tw_trans *t;
    uint64_t w[TW_MAX_TRANS];   /* weights while the parts are mixed */
    int k;                      /* transitions so far */
    int cut[TW_PARTS + 1], parts;   /* part j is t[cut[j] .. cut[j+1]) */
} tw_list;

static void list_init(tw_list *L, tw_trans *out) {
    L->t = out;
    L->k = 0;
    L->parts = 0;
    L->cut[0] = 0;
}

static void add(tw_list *L, int word, uint64_t weight, tw_state next, int kind, int item, int c, int n) {
    if (weight == 0 || L->k >= TW_MAX_TRANS) return;
    tw_trans *t = &L->t[L->k];
    L->w[L->k++] = weight;
    t->word = word; t->weight = 0; t->next = next;
    t->kind = (uint8_t)kind; t->item = (uint8_t)item; t->c = (uint8_t)c; t->n = (uint8_t)n;
}

/* Close the current part: the transitions added since the last cut (a state that asked
 * for more than TW_PARTS parts keeps adding to the last one). */
static void end_part(tw_list *L) {
    if (L->parts < TW_PARTS) L->parts++;
    L->cut[L->parts] = L->k;
}

static uint64_t gcd64(uint64_t a, uint64_t b) {
    while (b) { uint64_t t = a % b; a = b; b = t; }
    return a;
}

/* Give part j the probability p[j] / sum p (over the parts that have transitions) and
 * keep each part's inner weights:  w -> w p[j] (L / W_j),  W_j = the part's total, L = the
 * least common multiple of the W_j; then divide every weight by their greatest common
 * divisor (the same ratios in smaller numbers).  Returns the total. */
static uint64_t mix(tw_list *L, const uint64_t *p) {
    uint64_t W[TW_PARTS], lcm = 1, g = 0, total = 0;
    for (int j = 0; j < L->parts; j++) {
        W[j] = 0;
        for (int i = L->cut[j]; i < L->cut[j + 1]; i++) W[j] += L->w[i];
        if (W[j] && p[j]) lcm = lcm / gcd64(lcm, W[j]) * W[j];
    }
    for (int j = 0; j < L->parts; j++)
        for (int i = L->cut[j]; i < L->cut[j + 1]; i++) {
            L->w[i] = W[j] && p[j] ? L->w[i] * p[j] * (lcm / W[j]) : 0;
            g = gcd64(g, L->w[i]);
        }
    int k = 0;   /* drop what a zero probability removed */
    for (int i = 0; i < L->k; i++) {
        if (!L->w[i]) continue;
        L->t[k] = L->t[i];
        L->w[k] = L->w[i] / g;
        total += L->w[k];
        k++;
    }
    L->k = k;
    return total;
}

/* One part only: its weights as they are. */
static uint64_t one_part(tw_list *L) {
    static const uint64_t p1[1] = {1};
    end_part(L);
    return mix(L, p1);
}

/* ---- the pieces of a sentence ------------------------------------------------------------ */

/* A noun phrase begins: the determiner also fixes the phrase's category c (weight
 * catw[c]) and number n (through the determiner weights).  The subject starts a new
 * (sc, sn); the other roles carry `from`'s subject and name along, except the location
 * (nothing after it depends on them) and the object (only the name: its favourite food). */
static void np_begin(const tw_model *m, tw_list *L, int role, const int *catw, tw_state from) {
    const tw_grammar *g = m->g;
    for (int c = 0; c < g->n_cats; c++) {
        if (!catw[c]) continue;
        for (int n = 0; n < 2; n++)
            for (int d = 0; d < g->n_dets; d++) {
                tw_state s = role == TW_ROLE_LOC ? bare(TW_NP_DET) : carry(TW_NP_DET, from);
                if (role == TW_ROLE_OBJ) s.sc = s.sn = 0;
                if (role == TW_ROLE_SUBJ) { s.sc = (uint8_t)c; s.sn = (uint8_t)n; }
                s.role = (uint8_t)role; s.c = (uint8_t)c; s.n = (uint8_t)n;
                add(L, m->det_id[d], (uint64_t)catw[c] * (uint64_t)(n == TW_SG ? g->dets[d].w_sg : g->dets[d].w_pl),
                    s, TW_K_DET, d, c, n);
            }
    }
}

/* The state after the noun of a phrase with this role. */
static tw_state after_noun(tw_state s) {
    switch (s.role) {
    case TW_ROLE_SUBJ: return carry(TW_AFTER_SUBJ, s);
    case TW_ROLE_ATTR: return carry(TW_AFTER_ATTR, s);
    case TW_ROLE_ATTR2: case TW_ROLE_REL_OBJ: return carry(TW_VERB, s);
    case TW_ROLE_REL_SUBJ: {   /* the relative verb agrees with this noun (c, n) */
        tw_state r = carry(TW_REL_VERB, s);
        r.c = s.c; r.n = s.n;
        return r;
    }
    default: return bare(TW_END);
    }
}

/* Nouns of category c, number n, with their table weights; a named subject's object of its
 * favourite food's category is always that food. */
static void nouns_of(const tw_model *m, tw_list *L, tw_state s) {
    const tw_grammar *g = m->g;
    int fav = s.role == TW_ROLE_OBJ && s.who ? m->name_food[s.who - 1] : -1;
    if (fav >= 0 && g->nouns[fav].cat != s.c) fav = -1;
    for (int i = 0; i < g->n_nouns; i++)
        if (g->nouns[i].cat == s.c && (fav < 0 || i == fav))
            add(L, m->noun_id[i][s.n], (uint64_t)g->nouns[i].weight, after_noun(s), TW_K_NOUN, i, s.c, s.n);
}

/* The main verb: the verbs the subject category can do, in the subject's number, and the
 * home verb ("lives") if the subject can live somewhere.  One part. */
static void main_verbs(const tw_model *m, tw_list *L, tw_state s) {
    const tw_grammar *g = m->g;
    for (int v = 0; v < g->n_verbs; v++) {
        const tw_verb *vb = &g->verbs[v];
        if (!((vb->subj >> s.sc) & 1u)) continue;
        tw_state next = carry(vb->obj ? TW_OBJ : TW_INTR, s);
        next.sc = next.sn = 0;
        if (vb->obj) next.v = (uint8_t)v;
        else next.who = 0;
        add(L, m->verb_id[v][s.sn], (uint64_t)vb->weight, next, TW_K_VERB, v, s.sc, s.sn);
    }
    if (m->home_verb >= 0 && ((g->home->subj >> s.sc) & 1u)) {
        tw_state next = bare(TW_HOME_PREP);
        next.who = s.who;
        int w = s.who ? g->home->name_weight : g->home->weight;
        add(L, m->verb_id[m->home_verb][s.sn], (uint64_t)w, next, TW_K_VERB, m->home_verb, s.sc, s.sn);
    }
}

/* The attractor prepositions, equally likely, each leading to `type`. */
static void attr_preps(const tw_model *m, tw_list *L, int type, tw_state s) {
    for (int i = 0; i < m->g->n_attr_preps; i++) add(L, m->attr_prep_id[i], 1, carry(type, s), TW_K_PREP, i, 0, 0);
}

/* The categories an object relative's subject may have: those that can do a verb taking
 * the head's category sc as its object (weights of the subject table). */
static void rel_subject_cats(const tw_grammar *g, int sc, int *catw) {
    for (int c = 0; c < g->n_cats; c++) {
        catw[c] = 0;
        for (int v = 0; v < g->n_verbs && g->subj_cat_weight[c]; v++)
            if ((g->verbs[v].subj >> c) & (g->verbs[v].obj >> sc) & 1u) catw[c] = g->subj_cat_weight[c];
    }
}

/* 1 if a relative clause can follow a subject of category sc: a transitive verb it can
 * do, or a verb taking it as the object. */
static int rel_possible(const tw_grammar *g, int sc) {
    int catw[TW_MAX_CATS];
    rel_subject_cats(g, sc, catw);
    for (int c = 0; c < g->n_cats; c++)
        if (catw[c]) return 1;
    for (int v = 0; v < g->n_verbs; v++)
        if (g->verbs[v].obj && ((g->verbs[v].subj >> sc) & 1u)) return 1;
    return 0;
}

/* After the subject noun: an attractor phrase, "that" (common nouns, when a relative
 * clause about sc can be said), or the verb. */
static uint64_t after_subject(const tw_model *m, tw_list *L, tw_state s) {
    const tw_grammar *g = m->g;
    uint64_t a1 = (uint64_t)g->p_attr[0], b1 = (uint64_t)g->p_attr[1];
    int rel = !s.who && m->rel_id >= 0 && rel_possible(g, s.sc);
    uint64_t a2 = rel ? (uint64_t)g->p_rel[0] : 0, b2 = (uint64_t)g->p_rel[1];
    attr_preps(m, L, TW_ATTR, s);
    end_part(L);
    if (a2) add(L, m->rel_id, 1, carry(TW_REL, s), TW_K_REL, 0, 0, 0);
    end_part(L);
    main_verbs(m, L, s);
    end_part(L);
    uint64_t p[3] = {a1 * b2, a2 * b1, b1 * b2 - a1 * b2 - a2 * b1};   /* P(PP), P(that), P(verb) */
    return mix(L, p);
}

/* Transitive verbs a subject of category c can do whose objects include category o
 * (o < 0: any), in number n, each leading to `next` (v set for TW_REL_OBJ). */
static void rel_verbs(const tw_model *m, tw_list *L, int c, int n, int o, tw_state next) {
    const tw_grammar *g = m->g;
    for (int v = 0; v < g->n_verbs; v++) {
        const tw_verb *vb = &g->verbs[v];
        if (!vb->obj || !((vb->subj >> c) & 1u) || (o >= 0 && !((vb->obj >> o) & 1u))) continue;
        if (next.type == TW_REL_OBJ) next.v = (uint8_t)v;
        add(L, m->verb_id[v][n], (uint64_t)vb->weight, next, TW_K_VERB, v, c, n);
    }
}

/* After "that": the relative verb (subject relative, agreeing with the head) or the
 * relative clause's own subject (object relative). */
static uint64_t after_that(const tw_model *m, tw_list *L, tw_state s) {
    const tw_grammar *g = m->g;
    int catw[TW_MAX_CATS];
    rel_verbs(m, L, s.sc, s.sn, -1, carry(TW_REL_OBJ, s));
    end_part(L);
    rel_subject_cats(g, s.sc, catw);
    np_begin(m, L, TW_ROLE_REL_SUBJ, catw, s);
    end_part(L);
    uint64_t p[2] = {(uint64_t)(g->p_rel_obj[1] - g->p_rel_obj[0]), (uint64_t)g->p_rel_obj[0]};
    return mix(L, p);
}

/* The object of a verb v (its categories equally likely), for role OBJ or REL_OBJ. */
static void object_of(const tw_model *m, tw_list *L, int role, tw_state s) {
    int catw[TW_MAX_CATS] = {0};
    for (int c = 0; c < m->g->n_cats; c++) catw[c] = (int)((m->g->verbs[s.v].obj >> c) & 1u);
    np_begin(m, L, role, catw, s);
}

/* Where a noun phrase is being built: [ADJ] NOUN, P(adj) = a/b spread evenly over the
 * adjectives that fit the category. */
static uint64_t noun_phrase(const tw_model *m, tw_list *L, tw_state s) {
    const tw_grammar *g = m->g;
    if (s.type == TW_NP_DET)
        for (int i = 0; i < g->n_adjs; i++)
            if ((g->adjs[i].cats >> s.c) & 1u) {
                tw_state a = s;
                a.type = TW_NP_ADJ;
                add(L, m->adj_id[i], 1, a, TW_K_ADJ, i, s.c, s.n);
            }
    end_part(L);
    nouns_of(m, L, s);
    end_part(L);
    uint64_t p[2] = {(uint64_t)g->p_adj[0], (uint64_t)(g->p_adj[1] - g->p_adj[0])};
    return mix(L, p);
}

/* "lives" -> "in" -> "the" -> the home noun (a named subject's own; else any, singular). */
static uint64_t home_phrase(const tw_model *m, tw_list *L, tw_state s) {
    const tw_grammar *g = m->g;
    tw_state next = s;
    next.type = (uint8_t)(s.type + 1);
    if (s.type == TW_HOME_PREP) add(L, m->home_prep_id, 1, next, TW_K_PREP, 0, 0, 0);
    else if (s.type == TW_HOME_DET) add(L, m->home_det_id, 1, next, TW_K_DET, 0, g->home->cat, TW_SG);
    else
        for (int i = 0; i < g->n_nouns; i++)
            if (g->nouns[i].cat == g->home->cat && (!s.who || i == m->name_home[s.who - 1]))
                add(L, m->noun_id[i][TW_SG], (uint64_t)g->nouns[i].weight, bare(TW_END), TW_K_NOUN, i,
                    g->home->cat, TW_SG);
    return one_part(L);
}

/* The start: a named character (P = p_name) or a common noun phrase. */
static uint64_t sentence_start(const tw_model *m, tw_list *L) {
    const tw_grammar *g = m->g;
    for (int i = 0; i < g->n_names; i++) {
        tw_state s = bare(TW_AFTER_SUBJ);
        s.sc = (uint8_t)g->names[i].cat; s.sn = TW_SG; s.who = (uint8_t)(i + 1);
        add(L, m->name_id[i], (uint64_t)g->names[i].weight, s, TW_K_NAME, i, s.sc, TW_SG);
    }
    end_part(L);
    np_begin(m, L, TW_ROLE_SUBJ, g->subj_cat_weight, bare(TW_START));
    end_part(L);
    uint64_t p[2] = {(uint64_t)g->p_name[0], (uint64_t)(g->p_name[1] - g->p_name[0])};
    return mix(L, p);
}

/* After an intransitive verb: "." or a location phrase (P = a/b). */
static uint64_t after_intransitive(const tw_model *m, tw_list *L) {
    const tw_grammar *g = m->g;
    add(L, m->eos, 1, bare(TW_DONE), TW_K_EOS, 0, 0, 0);
    end_part(L);
    for (int i = 0; i < g->n_loc_preps; i++) add(L, m->loc_prep_id[i], 1, bare(TW_LOC), TW_K_PREP, i, 0, 0);
    end_part(L);
    uint64_t p[2] = {(uint64_t)(g->p_loc[1] - g->p_loc[0]), (uint64_t)g->p_loc[0]};
    return mix(L, p);
}

static uint64_t step_list(const tw_model *m, tw_state s, tw_list *L) {
    const tw_grammar *g = m->g;
    switch ((tw_type)s.type) {
    case TW_START: return sentence_start(m, L);
    case TW_NP_DET: case TW_NP_ADJ: return noun_phrase(m, L, s);
    case TW_AFTER_SUBJ: return after_subject(m, L, s);
    case TW_ATTR: np_begin(m, L, TW_ROLE_ATTR, g->attr_cat_weight, s); return one_part(L);
    case TW_AFTER_ATTR: {   /* a second attractor phrase (P = p_attr2) or the verb */
        attr_preps(m, L, TW_ATTR2, s);
        end_part(L);
        main_verbs(m, L, s);
        end_part(L);
        uint64_t p[2] = {(uint64_t)g->p_attr2[0], (uint64_t)(g->p_attr2[1] - g->p_attr2[0])};
        return mix(L, p);
    }
    case TW_ATTR2: np_begin(m, L, TW_ROLE_ATTR2, g->attr_cat_weight, s); return one_part(L);
    case TW_REL: return after_that(m, L, s);
    case TW_REL_OBJ: object_of(m, L, TW_ROLE_REL_OBJ, s); return one_part(L);
    case TW_REL_VERB: rel_verbs(m, L, s.c, s.n, s.sc, carry(TW_VERB, s)); return one_part(L);
    case TW_VERB: main_verbs(m, L, s); return one_part(L);
    case TW_OBJ: object_of(m, L, TW_ROLE_OBJ, s); return one_part(L);
    case TW_INTR: return after_intransitive(m, L);
    case TW_LOC: np_begin(m, L, TW_ROLE_LOC, g->loc_cat_weight, s); return one_part(L);
    case TW_END: add(L, m->eos, 1, bare(TW_DONE), TW_K_EOS, 0, 0, 0); return one_part(L);
    case TW_HOME_PREP: case TW_HOME_DET: case TW_HOME_NOUN: return home_phrase(m, L, s);
    case TW_DONE: break;
    }
    return 0;
}

int tw_step(const tw_model *m, tw_state s, tw_trans *out, uint64_t *total) {
    tw_list L;
    list_init(&L, out);
    *total = step_list(m, s, &L);
    for (int i = 0; i < L.k; i++) out[i].weight = L.w[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)L.w[i];
    return L.k;
}

/* ---- sampling --------------------------------------------------------------------------- */

/* Record what transition t out of state s (emitting token number pos) says about the
 * sentence. */
static void note(const tw_model *m, tw_parse *p, tw_state s, const tw_trans *t, int pos) {
    int det = t->kind == TW_K_DET, noun = t->kind == TW_K_NOUN, verb = t->kind == TW_K_VERB;
    switch ((tw_type)s.type) {
    case TW_START:
        p->subj_cat = t->c; p->subj_num = t->n;
        if (t->kind == TW_K_NAME) p->name = t->item;
        break;
    case TW_AFTER_SUBJ:
        if (t->kind == TW_K_PREP) p->has_attr = 1;
        break;
    case TW_AFTER_ATTR:
        if (t->kind == TW_K_PREP) p->has_attr = 2;
        break;
    case TW_ATTR: p->attr_cat = t->c; p->attr_num = t->n; break;
    case TW_ATTR2: p->attr2_cat = t->c; p->attr2_num = t->n; break;
    case TW_REL:
        p->rel = verb ? TW_RC_SUBJ : TW_RC_OBJ;
        if (det) { p->rel_cat = t->c; p->rel_num = t->n; }
        break;
    case TW_REL_OBJ: p->rel_cat = t->c; p->rel_num = t->n; break;
    case TW_OBJ: p->obj_cat = t->c; p->obj_num = t->n; break;
    case TW_INTR: if (t->kind == TW_K_PREP) p->has_loc = 1; break;
    case TW_HOME_NOUN: p->home_pos = pos; break;
    case TW_NP_DET: case TW_NP_ADJ:
        if (noun && s.role == TW_ROLE_SUBJ) p->subj_noun = t->item;
        if (noun && s.role == TW_ROLE_OBJ && s.who && m->g->nouns[m->name_food[s.who - 1]].cat == s.c) p->food_pos = pos;
        break;
    default: break;
    }
    if (verb && (s.type == TW_REL || s.type == TW_REL_VERB)) { p->rel_verb = t->item; p->rel_verb_pos = pos; }
    else if (verb) { p->verb = t->item; p->verb_pos = pos; }
}

int tw_sample(const tw_model *m, tb_rng *r, int *words, tw_parse *parse) {
    tw_trans tr[TW_MAX_TRANS];
    tw_parse p;
    memset(&p, 0, sizeof p);
    p.subj_noun = p.name = p.attr_cat = p.attr_num = p.attr2_cat = p.attr2_num = -1;
    p.rel_cat = p.rel_num = p.rel_verb = p.rel_verb_pos = p.verb = p.verb_pos = -1;
    p.obj_cat = p.obj_num = p.home_pos = p.food_pos = -1;
    tw_state s = tw_start();
    int n = 0;
    while (n < TW_MAX_LEN) {
        uint64_t total;
        int k = tw_step(m, s, tr, &total);
        if (k == 0) break;
        /* Integer draw: the same sentence on every platform. */
        uint64_t u = rng_below(r, (uint32_t)total), acc = 0;
        int j = 0;
        for (; j < k - 1; j++) {
            acc += tr[j].weight;
            if (u < acc) break;
        }
        const tw_trans *t = &tr[j];
        note(m, &p, s, t, n);
        words[n++] = t->word;
        s = t->next;
    }
    p.n = n;
    if (parse) *parse = p;
    return n;
}

/* ---- the forward algorithm ------------------------------------------------------------ */

void tw_belief_init(tw_belief *b) {
    b->n = 1;
    b->h[0].s = tw_start();
    b->h[0].w = 1.0;
}

void tw_next_dist(const tw_model *m, const tw_belief *b, double *p) {
    tw_trans tr[TW_MAX_TRANS];
    for (int i = 0; i < m->n_words; i++) p[i] = 0.0;
    for (int h = 0; h < b->n; h++) {
        uint64_t total;
        int k = tw_step(m, b->h[h].s, tr, &total);
        for (int j = 0; j < k; j++)
            p[tr[j].word] += b->h[h].w * ((double)tr[j].weight / (double)total);
    }
}

double tw_observe(const tw_model *m, tw_belief *b, int word) {
    tw_trans tr[TW_MAX_TRANS];
    tw_belief nb;
    nb.n = 0;
    double P = 0.0;
    for (int h = 0; h < b->n; h++) {
        uint64_t total;
        int k = tw_step(m, b->h[h].s, tr, &total);
        for (int j = 0; j < k; j++) {
            if (tr[j].word != word) continue;
            double w = b->h[h].w * ((double)tr[j].weight / (double)total);
            P += w;
            int i = 0;
            while (i < nb.n && !same_state(nb.h[i].s, tr[j].next)) i++;
            if (i == nb.n) {
                if (nb.n >= TW_MAX_HYP) { b->n = 0; return NAN; }
                nb.h[nb.n].s = tr[j].next;
                nb.h[nb.n].w = 0.0;
                nb.n++;
            }
            nb.h[i].w += w;
        }
    }
    if (!(P > 0.0)) { b->n = 0; return 0.0; }
    if (word == m->eos) { tw_belief_init(b); return P; }
    for (int i = 0; i < nb.n; i++) nb.h[i].w /= P;
    memcpy(b->h, nb.h, (size_t)nb.n * sizeof nb.h[0]);
    b->n = nb.n;
    return P;
}
