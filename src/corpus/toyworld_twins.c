/* toyworld_twins.c -- same-words twins: sentences with the same bag of words and a
 * different structure.  Lesson 13 ("alignment beyond shared words").
 *
 * Two noun phrases of the same number trade places, so every word stays (the verb keeps
 * its form because the new subject has the old one's number):
 *   subject <-> object      "the dog chases a cat ."       ->  "a cat chases the dog ."
 *   subject <-> attractor   "the dog near the cat runs ."  ->  "the cat near the dog runs ."
 * A twin must itself be a toyworld sentence: the new subject must be able to do the verb
 * and the new object be something the verb takes.  The forward algorithm decides that
 * (P(twin) > 0), so this file needs no copy of the grammar's rules.
 *
 * A model that reads a sentence as a bag of words gives twins identical representations;
 * whatever separates them is structure.
 */
#include "toyworld.h"

#include <stdlib.h>
#include <string.h>

/* A noun phrase DET [ADJ] NOUN starting at w[i]: its end (one past the noun), or -1. */
static int np_end(const tw_model *m, const int *w, int n, int i) {
    if (i >= n || strcmp(m->pos[w[i]], "DET")) return -1;
    i++;
    if (i < n && !strcmp(m->pos[w[i]], "ADJ")) i++;
    if (i >= n || strcmp(m->pos[w[i]], "NOUN")) return -1;
    return i + 1;
}

/* The number of the noun phrase ending at w[end - 1] (its noun): TW_SG or TW_PL. */
static int np_number(const tw_model *m, const int *w, int end) {
    return strcmp(m->number[w[end - 1]], "pl") ? TW_SG : TW_PL;
}

/* 1 if the grammar can produce w[0..n) (a whole sentence ending in "."). */
static int grammatical(const tw_model *m, const int *w, int n) {
    tw_belief *b = malloc(sizeof *b);
    if (!b) return 0;
    tw_belief_init(b);
    int ok = 1;
    for (int i = 0; i < n && ok; i++) ok = tw_observe(m, b, w[i]) > 0.0;
    free(b);
    return ok;
}

/* twin = w with the spans [a0, a1) and [b0, b1) (a1 <= b0) exchanged. */
static void swap_spans(const int *w, int n, int a0, int a1, int b0, int b1, int *twin) {
    int k = 0;
    for (int i = 0; i < a0; i++) twin[k++] = w[i];
    for (int i = b0; i < b1; i++) twin[k++] = w[i];
    for (int i = a1; i < b0; i++) twin[k++] = w[i];
    for (int i = a0; i < a1; i++) twin[k++] = w[i];
    for (int i = b1; i < n; i++) twin[k++] = w[i];
}

int tw_twin(const tw_model *m, const int *w, int n, tw_twin_kind kind, int *twin) {
    /* subject: w[0..s1); after it either the verb or PREP + attractor NP + verb */
    int s1 = np_end(m, w, n, 0);
    if (s1 < 0 || s1 >= n) return 0;
    int a0 = -1, a1 = -1, v = s1;
    if (!strcmp(m->pos[w[s1]], "PREP")) {
        a0 = s1 + 1;
        a1 = np_end(m, w, n, a0);
        if (a1 < 0) return 0;
        v = a1;
    }
    if (v >= n || strcmp(m->pos[w[v]], "VERB")) return 0;
    int o0 = v + 1, o1 = np_end(m, w, n, o0);   /* object: right after the verb */

    int x0, x1;   /* the span that trades places with the subject */
    if (kind == TW_TWIN_SUBJ_OBJ) {
        if (o1 < 0) return 0;
        x0 = o0;
        x1 = o1;
    } else {
        if (a0 < 0) return 0;
        x0 = a0;
        x1 = a1;
    }
    if (np_number(m, w, s1) != np_number(m, w, x1)) return 0;
    if (w[s1 - 1] == w[x1 - 1]) return 0;   /* the same noun: the swap would say little */
    swap_spans(w, n, 0, s1, x0, x1, twin);
    return grammatical(m, twin, n);
}
