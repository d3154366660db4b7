/* toyworld_ideal.c -- the ideal observer: the grammar's exact belief state and next-word
 * distribution after every token, and the split of a model's loss into the floor plus
 * KL(true || model).  Lesson 16 (the ideal observer as a third subject); the forward
 * algorithm it runs is lesson 01's (toyworld.c).
 *
 * A belief is a probability vector over the automaton's hidden states.  Its coordinates
 * are every state reachable from the start (tw_states_build, breadth-first), so beliefs of
 * different sentences live in one space and can be compared like recordings.
 */
#include "toyworld.h"
#include "tb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the hidden states ------------------------------------------------------------ */

static uint64_t state_key(tw_state s) {
    return (uint64_t)s.type | (uint64_t)s.role << 8 | (uint64_t)s.c << 16 | (uint64_t)s.n << 24 |
           (uint64_t)s.sc << 32 | (uint64_t)s.sn << 40 | (uint64_t)s.v << 48 | (uint64_t)s.who << 56;
}

static size_t hash_slot(uint64_t key, int cap) {
    uint64_t z = key * 0x9E3779B97F4A7C15ull;
    return (size_t)((z ^ (z >> 29)) & (uint64_t)(cap - 1));
}

int tw_states_index(const tw_states *S, tw_state s) {
    uint64_t key = state_key(s);
    for (size_t i = hash_slot(key, S->cap);; i = (i + 1) & (size_t)(S->cap - 1)) {
        int j = S->slot[i];
        if (j < 0) return -1;
        if (state_key(S->state[j]) == key) return j;
    }
}

/* Open addressing over indices into S->state; the table is kept at most half full. */
static int hash_rebuild(tw_states *S, int cap) {
    int *slot = malloc((size_t)cap * sizeof *slot);
    if (!slot) return -1;
    for (int i = 0; i < cap; i++) slot[i] = -1;
    free(S->slot);
    S->slot = slot;
    S->cap = cap;
    for (int j = 0; j < S->n; j++) {
        size_t i = hash_slot(state_key(S->state[j]), cap);
        while (slot[i] >= 0) i = (i + 1) & (size_t)(cap - 1);
        slot[i] = j;
    }
    return 0;
}

/* Append s unless present; -1 when out of memory. */
static int states_add(tw_states *S, tw_state s, int *room) {
    if (tw_states_index(S, s) >= 0) return 0;
    if (S->n == *room) {
        *room *= 2;
        tw_state *st = realloc(S->state, (size_t)*room * sizeof *st);
        if (!st) return -1;
        S->state = st;
    }
    S->state[S->n++] = s;
    if (2 * S->n > S->cap) return hash_rebuild(S, 2 * S->cap);
    size_t i = hash_slot(state_key(s), S->cap);
    while (S->slot[i] >= 0) i = (i + 1) & (size_t)(S->cap - 1);
    S->slot[i] = S->n - 1;
    return 0;
}

int tw_states_build(const tw_model *m, tw_states *S, char *err) {
    memset(S, 0, sizeof *S);
    int room = 64;
    S->state = malloc((size_t)room * sizeof *S->state);
    tw_trans *tr = malloc(TW_MAX_TRANS * sizeof *tr);
    if (!S->state || !tr || hash_rebuild(S, 128)) {
        free(tr);
        tw_states_free(S);
        return tb_fail(err, "out of memory listing the grammar's states");
    }
    S->state[S->n++] = tw_start();
    S->slot[hash_slot(state_key(S->state[0]), S->cap)] = 0;
    for (int q = 0; q < S->n; q++) {   /* breadth-first: the queue is the list itself */
        uint64_t total;
        int k = tw_step(m, S->state[q], tr, &total);
        if (total > UINT32_MAX) {   /* sampling draws 32-bit integers */
            char name[128];
            tw_state_name(m, S->state[q], name, sizeof name);
            free(tr);
            tw_states_free(S);
            return tb_fail(err, "toyworld grammar: the weights out of state %s add up to more than 2^32 "
                           "(use smaller weights or probabilities with smaller denominators)", name);
        }
        for (int j = 0; j < k; j++) {
            if (tr[j].next.type == TW_DONE) continue;
            if (states_add(S, tr[j].next, &room)) {
                free(tr);
                tw_states_free(S);
                return tb_fail(err, "out of memory listing the grammar's states");
            }
        }
    }
    free(tr);
    return 0;
}

void tw_states_free(tw_states *S) {
    free(S->state);
    free(S->slot);
    memset(S, 0, sizeof *S);
}

static const char *const type_names[] = {"start", "np_det", "np_adj", "after_subj", "attr", "verb", "obj",
                                         "intr", "loc", "end", "done", "after_attr", "attr2", "rel", "rel_obj",
                                         "rel_verb", "home_prep", "home_det", "home_noun"};
static const char *const role_names[] = {"subj", "attr", "obj", "loc", "attr2", "rel_subj", "rel_obj"};

/* 1 if a later verb still has to agree with the subject (sc, sn) held in state s. */
static int holds_subject(tw_state s) {
    switch ((tw_type)s.type) {
    case TW_AFTER_SUBJ: case TW_ATTR: case TW_VERB: case TW_AFTER_ATTR: case TW_ATTR2: case TW_REL:
    case TW_REL_VERB: case TW_REL_OBJ:
        return 1;
    case TW_NP_DET: case TW_NP_ADJ:
        return s.role != TW_ROLE_SUBJ && s.role != TW_ROLE_OBJ && s.role != TW_ROLE_LOC;
    default:
        return 0;
    }
}

/* Readable labels: "after_subj|subj:animal:sg", "np_det:rel_subj:person:pl|subj:vehicle:sg",
 * "obj|verb:eats|who:mia", "rel_verb:person:pl|subj:animal:sg", "home_noun|who:mia"... */
void tw_state_name(const tw_model *m, tw_state s, char *buf, size_t cap) {
    const tw_grammar *g = m->g;
    const char *num[2] = {"sg", "pl"};
    const char *t = s.type < sizeof type_names / sizeof *type_names ? type_names[s.type] : "?";
    char what[64] = "", subj[64] = "", who[48] = "";
    if (s.type == TW_NP_DET || s.type == TW_NP_ADJ)
        snprintf(what, sizeof what, ":%s:%s:%s", role_names[s.role % 7], g->cat_names[s.c], num[s.n & 1]);
    else if (s.type == TW_REL_VERB)
        snprintf(what, sizeof what, ":%s:%s", g->cat_names[s.c], num[s.n & 1]);
    else if (s.type == TW_OBJ || s.type == TW_REL_OBJ)
        snprintf(what, sizeof what, "|verb:%s", g->verbs[s.v].sg);
    if (holds_subject(s)) snprintf(subj, sizeof subj, "|subj:%s:%s", g->cat_names[s.sc], num[s.sn & 1]);
    if (s.who) snprintf(who, sizeof who, "|who:%s", g->names[s.who - 1].word);
    snprintf(buf, cap, "%s%s%s%s", t, what, subj, who);
}

/* ---- the observer ------------------------------------------------------------------ */

void tw_ideal_free(tw_ideal *o) {
    free(o->belief);
    free(o->next);
    free(o->logp);
    memset(o, 0, sizeof *o);
}

/* Row t of the belief matrix from the forward algorithm's hypotheses. */
static int belief_row(const tw_states *S, const tw_belief *b, double *row, char *err) {
    for (int h = 0; h < b->n; h++) {
        int j = tw_states_index(S, b->h[h].s);
        if (j < 0) return tb_fail(err, "the forward algorithm reached a state missing from the state list");
        row[j] += b->h[h].w;
    }
    return 0;
}

int tw_ideal_run(const tw_model *m, const tw_states *S, const int *ids, int n, tw_ideal *o, char *err) {
    memset(o, 0, sizeof *o);
    if (n < 1) return tb_fail(err, "empty sentence");
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= m->n_words)
            return tb_fail(err, "token %d at position %d is not a grammar word (%d words)", ids[t], t, m->n_words);
    o->n = n;
    o->n_states = S->n;
    o->n_words = m->n_words;
    o->possible = n;
    o->last_word = n > 2 && ids[n - 1] == m->eos ? n - 2 : n - 1;
    o->belief = calloc((size_t)n * S->n, sizeof(double));
    o->next = calloc((size_t)n * m->n_words, sizeof(double));
    o->logp = malloc((size_t)n * sizeof(double));
    tw_belief *b = malloc(sizeof *b);
    if (!o->belief || !o->next || !o->logp || !b) {
        free(b);
        tw_ideal_free(o);
        return tb_fail(err, "out of memory for the ideal observer");
    }
    tw_belief_init(b);
    for (int t = 0; t < n; t++) {
        if (t < o->possible) {
            /* a leading '.' is the end of the previous sentence: the context, P = 1 */
            double P = t == 0 && ids[0] == m->eos ? 1.0 : tw_observe(m, b, ids[t]);
            if (isnan(P)) {
                free(b);
                tw_ideal_free(o);
                return tb_fail(err, "more than %d hypotheses at token %d", TW_MAX_HYP, t);
            }
            if (P > 0) {
                o->logp[t] = log(P);
                if (belief_row(S, b, o->belief + (size_t)t * S->n, err)) { free(b); tw_ideal_free(o); return -1; }
                tw_next_dist(m, b, o->next + (size_t)t * m->n_words);
                continue;
            }
            o->possible = t;   /* the grammar cannot produce this token here */
        }
        o->logp[t] = -INFINITY;
    }
    free(b);
    return 0;
}

void tw_ideal_pool(const tw_ideal *o, int pool_last, double *belief, double *next) {
    int S = o->n_states, V = o->n_words, n = o->n;
    int from = n > 1 ? 1 : 0, to = n - 1;           /* token 0 is the left context */
    if (pool_last) from = to = o->last_word;
    double w = 1.0 / (to - from + 1);
    if (belief) memset(belief, 0, (size_t)S * sizeof *belief);
    if (next) memset(next, 0, (size_t)V * sizeof *next);
    for (int t = from; t <= to; t++) {
        for (int j = 0; belief && j < S; j++) belief[j] += w * o->belief[(size_t)t * S + j];
        for (int j = 0; next && j < V; j++) next[j] += w * o->next[(size_t)t * V + j];
    }
}

/* ---- the loss split ------------------------------------------------------------------ */

void tw_loss_split(const double *p, const double *q, int V, double *floor, double *kl) {
    double H = 0.0, D = 0.0;
    for (int v = 0; v < V; v++) {
        if (!(p[v] > 0)) continue;                  /* 0 ln 0 = 0 */
        H -= p[v] * log(p[v]);
        D += q[v] > 0 ? p[v] * (log(p[v]) - log(q[v])) : INFINITY;
    }
    *floor = H;
    *kl = D;
}
