/* toyworld_compile.c -- check the toyworld grammar's tables and compile them into a word
 * list (the vocabulary, in id order).  Lesson 01; the automaton that runs on the result
 * is in toyworld.c, the tables themselves in toyworld_grammar.c.
 *
 * Every check names the table entry it rejects, so a student who edits the grammar gets
 * "verb 'drives' takes objects of a category with no nouns", not a corpus that is
 * silently wrong.
 */
#include "toyworld.h"
#include "tb.h"

#include <string.h>

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

/* ---- checking the tables --------------------------------------------------------------- */

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

static int noun_index(const tw_grammar *g, const char *w) {
    for (int i = 0; w && i < g->n_nouns; i++)
        if (!strcmp(g->nouns[i].sg, w)) return i;
    return -1;
}

/* 1 if some verb the category c can do takes objects of category o. */
static int can_act_on(const tw_grammar *g, int c, int o) {
    for (int v = 0; v < g->n_verbs; v++)
        if ((g->verbs[v].subj >> c) & (g->verbs[v].obj >> o) & 1u) return 1;
    return 0;
}

static int check_sizes(const tw_grammar *g, char *err) {
    if (g->n_cats < 1 || g->n_cats > TW_MAX_CATS)
        return tb_fail(err, "toyworld grammar: %d categories (1..%d allowed)", g->n_cats,
                       TW_MAX_CATS);
    int sizes[] = {g->n_nouns, g->n_verbs, g->n_adjs, g->n_dets, g->n_attr_preps,
                   g->n_loc_preps, g->n_nonwords, g->n_names};
    for (int i = 0; i < 8; i++)
        if (sizes[i] < 0 || sizes[i] > TW_MAX_ITEMS)
            return tb_fail(err, "toyworld grammar: a table has %d entries (max %d)", sizes[i],
                           TW_MAX_ITEMS);
    if (g->n_nouns < 1 || g->n_verbs < 1 || g->n_dets < 1)
        return tb_fail(err, "toyworld grammar: needs nouns, verbs and determiners");
    if (check_prob(g->p_adj, "adjective", err) || check_prob(g->p_attr, "attractor PP", err) ||
        check_prob(g->p_loc, "location PP", err) || check_prob(g->p_attr2, "second PP", err) ||
        check_prob(g->p_rel, "relative clause", err) ||
        check_prob(g->p_rel_obj, "object relative", err) || check_prob(g->p_name, "name", err))
        return -1;
    /* P(PP) + P(relative clause) <= 1 after a subject */
    if ((long)g->p_attr[0] * g->p_rel[1] + (long)g->p_rel[0] * g->p_attr[1] >
        (long)g->p_attr[1] * g->p_rel[1])
        return tb_fail(err, "toyworld grammar: P(attractor PP) + P(relative clause) > 1");
    if (g->p_rel[0] > 0 && !g->rel_word)
        return tb_fail(err, "toyworld grammar: relative clauses need a word (\"that\")");
    if (g->p_name[0] > 0 && g->n_names < 1)
        return tb_fail(err, "toyworld grammar: P(name) > 0 but no names");
    return 0;
}

static int check_dets(const tw_grammar *g, char *err) {
    int wsg = 0, wpl = 0;
    for (int i = 0; i < g->n_dets; i++) {
        if (g->dets[i].w_sg < 0 || g->dets[i].w_pl < 0)
            return tb_fail(err, "toyworld grammar: determiner '%s' has a negative weight",
                           g->dets[i].word);
        wsg += g->dets[i].w_sg; wpl += g->dets[i].w_pl;
    }
    if (wsg <= 0 || wpl <= 0)
        return tb_fail(err, "toyworld grammar: need a determiner for singular and for plural");
    return 0;
}

static int check_categories(const tw_grammar *g, char *err) {
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
            if (((vb->obj >> c) & 1u) && (c >= g->n_cats || !cat_has_nouns(g, c)))
                return tb_fail(err, "toyworld grammar: verb '%s' takes objects of a "
                               "category with no nouns", vb->sg);
        if (!vb->obj && g->p_loc[0] > 0 && (sum_loc <= 0 || g->n_loc_preps < 1))
            return tb_fail(err, "toyworld grammar: location PPs need prepositions and categories");
    }
    return 0;
}

/* The home phrase, and every named character's facts: a home of the home category (and
 * able to live there), a favourite food it can act on (else the facts are never said). */
static int check_world(const tw_grammar *g, char *err) {
    const tw_home *h = g->home;
    if (h) {
        if (h->weight <= 0 || h->name_weight <= 0 || !h->subj || h->cat < 0 || h->cat >= g->n_cats ||
            !cat_has_nouns(g, h->cat))
            return tb_fail(err, "toyworld grammar: the home phrase '%s' needs a weight, residents and a "
                           "category with nouns", h->sg);
        int d = 0;
        while (d < g->n_dets && (!h->det || strcmp(g->dets[d].word, h->det))) d++;
        if (d == g->n_dets || g->dets[d].w_sg <= 0)
            return tb_fail(err, "toyworld grammar: the home phrase's determiner must be a singular determiner");
    }
    for (int i = 0; i < g->n_names; i++) {
        const tw_name *nm = &g->names[i];
        int home = noun_index(g, nm->home), food = noun_index(g, nm->food);
        if (nm->weight <= 0 || nm->cat < 0 || nm->cat >= g->n_cats)
            return tb_fail(err, "toyworld grammar: name '%s' has a bad category or weight", nm->word);
        if (home < 0 || !h || g->nouns[home].cat != h->cat || !((h->subj >> nm->cat) & 1u))
            return tb_fail(err, "toyworld grammar: %s's home '%s' is not a place it can live in",
                           nm->word, nm->home ? nm->home : "(none)");
        if (food < 0 || !can_act_on(g, nm->cat, g->nouns[food].cat))
            return tb_fail(err, "toyworld grammar: %s's favourite '%s' is not a noun it can act on",
                           nm->word, nm->food ? nm->food : "(none)");
    }
    return 0;
}

/* ---- the word list --------------------------------------------------------------------- */

static int add_content_words(tw_model *m, const tw_grammar *g, char *err) {
    for (int i = 0; i < g->n_nouns; i++) {
        const tw_noun *nn = &g->nouns[i];
        const char *cat = g->cat_names[nn->cat];
        if ((m->noun_id[i][TW_SG] = add_word(m, nn->sg, "NOUN", cat, "sg", 0, err)) < 0 ||
            (m->noun_id[i][TW_PL] = add_word(m, nn->pl, "NOUN", cat, "pl", 0, err)) < 0)
            return -1;
    }
    for (int i = 0; i < g->n_verbs; i++) {
        const tw_verb *v = &g->verbs[i];
        m->verb_lemma[i] = v->pl;
        if ((m->verb_id[i][TW_SG] = add_word(m, v->sg, "VERB", v->cls, "sg", 0, err)) < 0 ||
            (m->verb_id[i][TW_PL] = add_word(m, v->pl, "VERB", v->cls, "pl", 0, err)) < 0)
            return -1;
    }
    m->n_verbs = g->n_verbs;
    m->home_verb = m->home_prep_id = m->home_det_id = -1;
    if (g->home) {   /* the home verb is one more row of verb_id */
        int v = m->home_verb = m->n_verbs++;
        m->verb_lemma[v] = g->home->pl;
        if ((m->verb_id[v][TW_SG] = add_word(m, g->home->sg, "VERB", g->home->cls, "sg", 0, err)) < 0 ||
            (m->verb_id[v][TW_PL] = add_word(m, g->home->pl, "VERB", g->home->cls, "pl", 0, err)) < 0)
            return -1;
    }
    for (int i = 0; i < g->n_adjs; i++)
        if ((m->adj_id[i] = add_word(m, g->adjs[i].word, "ADJ", g->adjs[i].cls, "-", 0, err)) < 0)
            return -1;
    return 0;
}

static int add_function_words(tw_model *m, const tw_grammar *g, char *err) {
    for (int i = 0; i < g->n_attr_preps; i++)
        if ((m->attr_prep_id[i] = add_word(m, g->attr_preps[i], "PREP", "relation", "-", 1, err)) < 0)
            return -1;
    for (int i = 0; i < g->n_loc_preps; i++)
        if ((m->loc_prep_id[i] = add_word(m, g->loc_preps[i], "PREP", "relation", "-", 1, err)) < 0)
            return -1;
    if (g->home) {
        if ((m->home_prep_id = add_word(m, g->home->prep, "PREP", "relation", "-", 1, err)) < 0) return -1;
        m->home_det_id = tw_word_id(m, g->home->det);
    }
    m->rel_id = -1;
    if (g->rel_word && (m->rel_id = add_word(m, g->rel_word, "COMP", "function", "-", 0, err)) < 0)
        return -1;
    return 0;
}

static int add_names(tw_model *m, const tw_grammar *g, char *err) {
    for (int i = 0; i < g->n_names; i++) {
        const tw_name *nm = &g->names[i];
        if ((m->name_id[i] = add_word(m, nm->word, "NAME", g->cat_names[nm->cat], "sg", 0, err)) < 0)
            return -1;
        m->name_home[i] = noun_index(g, nm->home);
        m->name_food[i] = noun_index(g, nm->food);
    }
    for (int i = 0; i < g->n_nonwords; i++)
        if ((m->nonword_id[i] = add_word(m, g->nonwords[i], "NONWORD", "nonword", "-", 0, err)) < 0)
            return -1;
    return 0;
}

int tw_compile(tw_model *m, const tw_grammar *g, char *err) {
    memset(m, 0, sizeof *m);
    m->g = g;
    if (check_sizes(g, err) || check_dets(g, err) || check_categories(g, err) || check_world(g, err))
        return -1;
    if ((m->eos = add_word(m, g->eos, "PUNCT", "end", "-", 0, err)) < 0) return -1;
    for (int i = 0; i < g->n_dets; i++) {
        const tw_det *d = &g->dets[i];
        const char *num = d->w_sg && d->w_pl ? "-" : d->w_sg ? "sg" : "pl";
        if ((m->det_id[i] = add_word(m, d->word, "DET", "function", num, 0, err)) < 0) return -1;
    }
    if (add_content_words(m, g, err) || add_function_words(m, g, err) || add_names(m, g, err)) return -1;
    return 0;
}
