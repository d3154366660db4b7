/* toyworld.c -- the toyworld automaton: compile the grammar tables, step, sample, and
 * the forward algorithm that gives exact next-word probabilities.  Lesson 01.
 *
 * The automaton's states (tw_state) remember only what the rest of the sentence
 * depends on: where we are (type), which noun phrase is being built (role, its
 * category c and number n), the subject's category and number (sc, sn: the verb must
 * agree with them even after "near the cats"), and the verb (v: which objects it takes).
 * Each state lists its outgoing transitions with integer weights; each transition
 * emits exactly one word.  The grammar is in src/toyworld_grammar.c.
 */
#include "toyworld.h"
#include "tb.h"

#include <math.h>
#include <string.h>

/* ---- compiling the tables into a word list ----------------------------------------- */

int tw_word_id(const tw_model *m, const char *w) {
    for (int i = 0; i < m->n_words; i++)
        if (!strcmp(m->word[i], w)) return i;
    return -1;
}

static int add_word(tw_model *m, const char *w, const char *pos, const char *cat,
                    const char *num, int allow_dup, char *err) {
    if (!w || !*w) return tb_fail(err, "toyworld grammar: empty word in the %s table", pos);
    for (const char *p = w; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            return tb_fail(err, "toyworld grammar: word '%s' contains whitespace", w);
    int id = tw_word_id(m, w);
    if (id >= 0) {
        if (allow_dup && !strcmp(m->pos[id], pos)) return id;
        return tb_fail(err, "toyworld grammar: word '%s' appears twice", w);
    }
    if (m->n_words >= TW_MAX_WORDS)
        return tb_fail(err, "toyworld grammar: more than %d words", TW_MAX_WORDS);
    id = m->n_words++;
    m->word[id] = w; m->pos[id] = pos; m->category[id] = cat; m->number[id] = num;
    return id;
}

static int check_prob(const int p[2], const char *what, char *err) {
    if (p[1] <= 0 || p[0] < 0 || p[0] > p[1])
        return tb_fail(err, "toyworld grammar: P(%s) = %d/%d is not a probability", what,
                       p[0], p[1]);
    return 0;
}

static int cat_has_nouns(const tw_grammar *g, int c) {
    for (int i = 0; i < g->n_nouns; i++)
        if (g->nouns[i].cat == c) return 1;
    return 0;
}

static int check_tables(const tw_grammar *g, char *err) {
    if (g->n_cats < 1 || g->n_cats > TW_MAX_CATS)
        return tb_fail(err, "toyworld grammar: %d categories (1..%d allowed)", g->n_cats,
                       TW_MAX_CATS);
    int sizes[] = {g->n_nouns, g->n_verbs, g->n_adjs, g->n_dets, g->n_attr_preps,
                   g->n_loc_preps, g->n_nonwords};
    for (int i = 0; i < 7; i++)
        if (sizes[i] < 0 || sizes[i] > TW_MAX_ITEMS)
            return tb_fail(err, "toyworld grammar: a table has %d entries (max %d)", sizes[i],
                           TW_MAX_ITEMS);
    if (g->n_nouns < 1 || g->n_verbs < 1 || g->n_dets < 1)
        return tb_fail(err, "toyworld grammar: needs nouns, verbs and determiners");
    if (check_prob(g->p_adj, "adjective", err) || check_prob(g->p_attr, "attractor PP", err) ||
        check_prob(g->p_loc, "location PP", err))
        return -1;
    int wsg = 0, wpl = 0;
    for (int i = 0; i < g->n_dets; i++) {
        if (g->dets[i].w_sg < 0 || g->dets[i].w_pl < 0)
            return tb_fail(err, "toyworld grammar: determiner '%s' has a negative weight",
                           g->dets[i].word);
        wsg += g->dets[i].w_sg; wpl += g->dets[i].w_pl;
    }
    if (wsg <= 0 || wpl <= 0)
        return tb_fail(err, "toyworld grammar: need a determiner for singular and for plural");
    for (int i = 0; i < g->n_nouns; i++)
        if (g->nouns[i].cat < 0 || g->nouns[i].cat >= g->n_cats || g->nouns[i].weight <= 0)
            return tb_fail(err, "toyworld grammar: noun '%s' has a bad category or weight",
                           g->nouns[i].sg);
    int sum_subj = 0, sum_attr = 0, sum_loc = 0;
    for (int c = 0; c < g->n_cats; c++) {
        int ws = g->subj_cat_weight[c], wa = g->attr_cat_weight[c], wl = g->loc_cat_weight[c];
        if (ws < 0 || wa < 0 || wl < 0)
            return tb_fail(err, "toyworld grammar: negative weight for category '%s'",
                           g->cat_names[c]);
        sum_subj += ws; sum_attr += wa; sum_loc += wl;
        if ((ws || wa || wl) && !cat_has_nouns(g, c))
            return tb_fail(err, "toyworld grammar: category '%s' is used but has no nouns",
                           g->cat_names[c]);
        if (ws) {
            int any = 0;
            for (int v = 0; v < g->n_verbs; v++) any |= (g->verbs[v].subj >> c) & 1u;
            if (!any)
                return tb_fail(err, "toyworld grammar: subject category '%s' has no verb",
                               g->cat_names[c]);
        }
    }
    if (sum_subj <= 0) return tb_fail(err, "toyworld grammar: no subject category");
    if (g->p_attr[0] > 0 && (sum_attr <= 0 || g->n_attr_preps < 1))
        return tb_fail(err, "toyworld grammar: attractor PPs need prepositions and categories");
    for (int v = 0; v < g->n_verbs; v++) {
        const tw_verb *vb = &g->verbs[v];
        if (vb->weight <= 0)
            return tb_fail(err, "toyworld grammar: verb '%s' has weight %d", vb->sg, vb->weight);
        for (int c = 0; c < TW_MAX_CATS; c++)
            if ((vb->obj >> c) & 1u) {
                if (c >= g->n_cats || !cat_has_nouns(g, c))
                    return tb_fail(err, "toyworld grammar: verb '%s' takes objects of a "
                                   "category with no nouns", vb->sg);
            }
        if (!vb->obj && g->p_loc[0] > 0 && (sum_loc <= 0 || g->n_loc_preps < 1))
            return tb_fail(err, "toyworld grammar: location PPs need prepositions and categories");
    }
    return 0;
}

int tw_compile(tw_model *m, const tw_grammar *g, char *err) {
    memset(m, 0, sizeof *m);
    m->g = g;
    if (check_tables(g, err)) return -1;
    if ((m->eos = add_word(m, g->eos, "PUNCT", "end", "-", 0, err)) < 0) return -1;
    for (int i = 0; i < g->n_dets; i++) {
        const tw_det *d = &g->dets[i];
        const char *num = d->w_sg && d->w_pl ? "-" : d->w_sg ? "sg" : "pl";
        if ((m->det_id[i] = add_word(m, d->word, "DET", "function", num, 0, err)) < 0) return -1;
    }
    for (int i = 0; i < g->n_nouns; i++) {
        const tw_noun *nn = &g->nouns[i];
        const char *cat = g->cat_names[nn->cat];
        if ((m->noun_id[i][TW_SG] = add_word(m, nn->sg, "NOUN", cat, "sg", 0, err)) < 0 ||
            (m->noun_id[i][TW_PL] = add_word(m, nn->pl, "NOUN", cat, "pl", 0, err)) < 0)
            return -1;
    }
    for (int i = 0; i < g->n_verbs; i++) {
        const tw_verb *v = &g->verbs[i];
        if ((m->verb_id[i][TW_SG] = add_word(m, v->sg, "VERB", v->cls, "sg", 0, err)) < 0 ||
            (m->verb_id[i][TW_PL] = add_word(m, v->pl, "VERB", v->cls, "pl", 0, err)) < 0)
            return -1;
    }
    for (int i = 0; i < g->n_adjs; i++)
        if ((m->adj_id[i] = add_word(m, g->adjs[i].word, "ADJ", g->adjs[i].cls, "-", 0, err)) < 0)
            return -1;
    for (int i = 0; i < g->n_attr_preps; i++)
        if ((m->attr_prep_id[i] = add_word(m, g->attr_preps[i], "PREP", "relation", "-", 1,
                                           err)) < 0)
            return -1;
    for (int i = 0; i < g->n_loc_preps; i++)
        if ((m->loc_prep_id[i] = add_word(m, g->loc_preps[i], "PREP", "relation", "-", 1,
                                          err)) < 0)
            return -1;
    for (int i = 0; i < g->n_nonwords; i++)
        if ((m->nonword_id[i] = add_word(m, g->nonwords[i], "NONWORD", "nonword", "-", 0,
                                         err)) < 0)
            return -1;
    return 0;
}

/* ---- the automaton ------------------------------------------------------------------- */

static tw_state mk(int type, int role, int c, int n, int sc, int sn, int v) {
    tw_state s;
    s.type = (uint8_t)type; s.role = (uint8_t)role;
    s.c = (uint8_t)c; s.n = (uint8_t)n; s.sc = (uint8_t)sc; s.sn = (uint8_t)sn;
    s.v = (uint8_t)v;
    return s;
}

tw_state tw_start(void) { return mk(TW_START, 0, 0, 0, 0, 0, 0); }

static int same_state(tw_state a, tw_state b) {
    return a.type == b.type && a.role == b.role && a.c == b.c && a.n == b.n && a.sc == b.sc &&
           a.sn == b.sn && a.v == b.v;
}

static void add(tw_trans *out, int *k, int word, uint64_t weight, tw_state next, int kind,
                int item, int c, int n) {
    if (weight == 0 || *k >= TW_MAX_TRANS) return;
    tw_trans *t = &out[(*k)++];
    t->word = word; t->weight = (uint32_t)weight; t->next = next;
    t->kind = (uint8_t)kind; t->item = (uint8_t)item; t->c = (uint8_t)c; t->n = (uint8_t)n;
}

/* A noun phrase begins: the determiner also fixes the phrase's category c (weight
 * catw[c]) and number n (through the determiner weights). */
static void np_begin(const tw_model *m, tw_trans *out, int *k, int role, const int *catw,
                     int sc, int sn) {
    const tw_grammar *g = m->g;
    for (int c = 0; c < g->n_cats; c++) {
        if (!catw[c]) continue;
        for (int n = 0; n < 2; n++)
            for (int d = 0; d < g->n_dets; d++) {
                int wd = n == TW_SG ? g->dets[d].w_sg : g->dets[d].w_pl;
                int s_c = role == TW_ROLE_SUBJ ? c : sc, s_n = role == TW_ROLE_SUBJ ? n : sn;
                if (role == TW_ROLE_OBJ || role == TW_ROLE_LOC) s_c = s_n = 0;
                add(out, k, m->det_id[d], (uint64_t)catw[c] * (uint64_t)wd,
                    mk(TW_NP_DET, role, c, n, s_c, s_n, 0), TW_K_DET, d, c, n);
            }
    }
}

/* The state after the noun of a phrase with this role. */
static tw_state after_noun(tw_state s) {
    switch (s.role) {
    case TW_ROLE_SUBJ: return mk(TW_AFTER_SUBJ, 0, 0, 0, s.sc, s.sn, 0);
    case TW_ROLE_ATTR: return mk(TW_VERB, 0, 0, 0, s.sc, s.sn, 0);
    default: return mk(TW_END, 0, 0, 0, 0, 0, 0);
    }
}

/* Nouns of category c, number n; each weighted by its table weight times `scale`. */
static void nouns_of(const tw_model *m, tw_trans *out, int *k, tw_state s, uint64_t scale) {
    const tw_grammar *g = m->g;
    for (int i = 0; i < g->n_nouns; i++)
        if (g->nouns[i].cat == s.c)
            add(out, k, m->noun_id[i][s.n], scale * (uint64_t)g->nouns[i].weight, after_noun(s),
                TW_K_NOUN, i, s.c, s.n);
}

static uint64_t noun_weight_sum(const tw_grammar *g, int c) {
    uint64_t w = 0;
    for (int i = 0; i < g->n_nouns; i++)
        if (g->nouns[i].cat == c) w += (uint64_t)g->nouns[i].weight;
    return w;
}

/* Verbs the subject category sc can do, in the number sn, weight x scale. */
static void verbs_of(const tw_model *m, tw_trans *out, int *k, int sc, int sn, uint64_t scale) {
    const tw_grammar *g = m->g;
    for (int v = 0; v < g->n_verbs; v++) {
        const tw_verb *vb = &g->verbs[v];
        if (!((vb->subj >> sc) & 1u)) continue;
        tw_state next = vb->obj ? mk(TW_OBJ, 0, 0, 0, 0, 0, v) : mk(TW_INTR, 0, 0, 0, 0, 0, 0);
        add(out, k, m->verb_id[v][sn], scale * (uint64_t)vb->weight, next, TW_K_VERB, v, sc, sn);
    }
}

static uint64_t verb_weight_sum(const tw_grammar *g, int sc) {
    uint64_t w = 0;
    for (int v = 0; v < g->n_verbs; v++)
        if ((g->verbs[v].subj >> sc) & 1u) w += (uint64_t)g->verbs[v].weight;
    return w;
}

int tw_step(const tw_model *m, tw_state s, tw_trans *out, uint64_t *total) {
    const tw_grammar *g = m->g;
    int k = 0;
    switch ((tw_type)s.type) {
    case TW_START:   /* NP_subj: category from subj_cat_weight */
        np_begin(m, out, &k, TW_ROLE_SUBJ, g->subj_cat_weight, 0, 0);
        break;
    case TW_NP_DET: {  /* [ADJ] NOUN: P(adj) = a/b, spread evenly over fitting adjectives */
        uint64_t a = (uint64_t)g->p_adj[0], b = (uint64_t)g->p_adj[1];
        uint64_t K = 0, W = noun_weight_sum(g, s.c);
        for (int i = 0; i < g->n_adjs; i++) K += (g->adjs[i].cats >> s.c) & 1u;
        if (K == 0 || a == 0) { nouns_of(m, out, &k, s, 1); break; }
        for (int i = 0; i < g->n_adjs; i++)
            if ((g->adjs[i].cats >> s.c) & 1u)   /* a/b * 1/K  =  a*W / (b*K*W) */
                add(out, &k, m->adj_id[i], a * W,
                    mk(TW_NP_ADJ, s.role, s.c, s.n, s.sc, s.sn, 0), TW_K_ADJ, i, s.c, s.n);
        nouns_of(m, out, &k, s, (b - a) * K);    /* (b-a)/b * w_i/W */
        break;
    }
    case TW_NP_ADJ:
        nouns_of(m, out, &k, s, 1);
        break;
    case TW_AFTER_SUBJ: {  /* PREP (P = a/b, prepositions equally likely) or the verb */
        uint64_t a = (uint64_t)g->p_attr[0], b = (uint64_t)g->p_attr[1];
        uint64_t P = (uint64_t)g->n_attr_preps, W = verb_weight_sum(g, s.sc);
        if (a == 0 || P == 0) { verbs_of(m, out, &k, s.sc, s.sn, 1); break; }
        for (int i = 0; i < g->n_attr_preps; i++)
            add(out, &k, m->attr_prep_id[i], a * W, mk(TW_ATTR, 0, 0, 0, s.sc, s.sn, 0),
                TW_K_PREP, i, 0, 0);
        verbs_of(m, out, &k, s.sc, s.sn, (b - a) * P);
        break;
    }
    case TW_ATTR:
        np_begin(m, out, &k, TW_ROLE_ATTR, g->attr_cat_weight, s.sc, s.sn);
        break;
    case TW_VERB:
        verbs_of(m, out, &k, s.sc, s.sn, 1);
        break;
    case TW_OBJ: {  /* object category: any the verb accepts, equally likely */
        int catw[TW_MAX_CATS] = {0};
        for (int c = 0; c < g->n_cats; c++) catw[c] = (int)((g->verbs[s.v].obj >> c) & 1u);
        np_begin(m, out, &k, TW_ROLE_OBJ, catw, 0, 0);
        break;
    }
    case TW_INTR: {  /* "." or a location phrase (P = a/b) */
        uint64_t a = (uint64_t)g->p_loc[0], b = (uint64_t)g->p_loc[1];
        uint64_t P = (uint64_t)g->n_loc_preps;
        if (a == 0 || P == 0) {
            add(out, &k, m->eos, 1, mk(TW_DONE, 0, 0, 0, 0, 0, 0), TW_K_EOS, 0, 0, 0);
            break;
        }
        add(out, &k, m->eos, (b - a) * P, mk(TW_DONE, 0, 0, 0, 0, 0, 0), TW_K_EOS, 0, 0, 0);
        for (int i = 0; i < g->n_loc_preps; i++)
            add(out, &k, m->loc_prep_id[i], a, mk(TW_LOC, 0, 0, 0, 0, 0, 0), TW_K_PREP, i, 0, 0);
        break;
    }
    case TW_LOC:
        np_begin(m, out, &k, TW_ROLE_LOC, g->loc_cat_weight, 0, 0);
        break;
    case TW_END:
        add(out, &k, m->eos, 1, mk(TW_DONE, 0, 0, 0, 0, 0, 0), TW_K_EOS, 0, 0, 0);
        break;
    case TW_DONE:
        break;
    }
    uint64_t t = 0;
    for (int i = 0; i < k; i++) t += out[i].weight;
    *total = t;
    return k;
}

/* ---- sampling --------------------------------------------------------------------------- */

int tw_sample(const tw_model *m, tb_rng *r, int *words, tw_parse *parse) {
    tw_trans tr[TW_MAX_TRANS];
    tw_parse p;
    memset(&p, 0, sizeof p);
    p.attr_cat = p.attr_num = p.obj_cat = p.obj_num = p.verb = p.verb_pos = -1;
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
        switch ((tw_type)s.type) {
        case TW_START: p.subj_cat = t->c; p.subj_num = t->n; break;
        case TW_ATTR: p.attr_cat = t->c; p.attr_num = t->n; break;
        case TW_OBJ: p.obj_cat = t->c; p.obj_num = t->n; break;
        case TW_AFTER_SUBJ: if (t->kind == TW_K_PREP) p.has_attr = 1; break;
        case TW_INTR: if (t->kind == TW_K_PREP) p.has_loc = 1; break;
        default: break;
        }
        if (t->kind == TW_K_VERB) { p.verb = t->item; p.verb_pos = n; }
        if (t->kind == TW_K_NOUN && s.role == TW_ROLE_SUBJ)
            p.subj_noun = t->item;
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
