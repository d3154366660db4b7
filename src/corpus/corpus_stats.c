/* corpus_stats.c -- what lesson 01 looks at in a corpus beyond its entropy floor:
 * sentence lengths, word frequencies by rank (Zipf), which noun categories meet in a
 * sentence, and a sentence scored word by word under the grammar. */
#include "corpus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void corpus_sentence_lengths(const tb_corpus *c, double *mean, int *min, int *max) {
    long n = 0, len = 0, total = 0;
    *min = 0;
    *max = 0;
    for (long i = 0; i < c->n_train; i++) {
        len++;
        if (c->train[i] != c->eos) continue;
        if (n == 0 || len < *min) *min = (int)len;
        if (len > *max) *max = (int)len;
        total += len;
        n++;
        len = 0;
    }
    *mean = n ? (double)total / (double)n : NAN;
}

typedef struct { long count; int id; } rank_item;

static int by_count(const void *a, const void *b) {
    const rank_item *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return x->id - y->id;
}

int corpus_rank_frequencies(const tb_corpus *c, double *freq, int *n_seen, char *err) {
    int V = c->tok.vocab_size;
    rank_item *r = calloc((size_t)V, sizeof *r);
    if (!r) return tb_fail(err, "out of memory");
    for (int i = 0; i < V; i++) r[i].id = i;
    for (long i = 0; i < c->n_train; i++) r[c->train[i]].count++;
    qsort(r, (size_t)V, sizeof *r, by_count);
    int n = 0;
    while (n < V && r[n].count > 0) {
        freq[n] = (double)r[n].count / (double)c->n_train;
        n++;
    }
    *n_seen = n;
    free(r);
    return 0;
}

/* The noun categories in order of first appearance in the vocabulary, and each token's
 * category index (-1: not a noun or a name). */
static int noun_categories(const tb_corpus *c, tb_categories *k, int *cat_of, char *err) {
    int V = c->tok.vocab_size;
    k->names = malloc((size_t)V * sizeof *k->names);   /* at most one per token */
    if (!k->names) return tb_fail(err, "out of memory");
    k->n = 0;
    for (int i = 0; i < V; i++) {
        cat_of[i] = -1;
        if (strcmp(c->pos[i], "NOUN") && strcmp(c->pos[i], "NAME")) continue;   /* a name is a person */
        int j = 0;
        while (j < k->n && strcmp(k->names[j], c->category[i])) j++;
        if (j == k->n) k->names[k->n++] = c->category[i];
        cat_of[i] = j;
    }
    return 0;
}

/* Add one sentence's category counts cnt[] to the matrix. */
static void count_pairs(tb_categories *k, const int *cnt) {
    int nc = k->n;
    for (int a = 0; a < nc; a++)
        for (int b = 0; b < nc; b++)
            if (a == b ? cnt[a] >= 2 : (cnt[a] && cnt[b])) k->share[a * nc + b] += 1.0f;
}

int corpus_category_pairs(const tb_corpus *c, tb_categories *k, char *err) {
    memset(k, 0, sizeof *k);
    if (c->eos < 0 || !c->pos) return tb_fail(err, "%s: no word categories (not a toyworld corpus)", c->name);
    int *cat_of = malloc((size_t)c->tok.vocab_size * sizeof *cat_of), *cnt = NULL;
    if (!cat_of) return tb_fail(err, "out of memory");
    if (noun_categories(c, k, cat_of, err)) { free(cat_of); return -1; }
    int nc = k->n;
    k->share = calloc((size_t)nc * nc + 1, sizeof *k->share);
    cnt = calloc((size_t)nc + 1, sizeof *cnt);
    if (!k->share || !cnt) { free(cat_of); free(cnt); corpus_categories_free(k); return tb_fail(err, "out of memory"); }
    long n_sent = 0;
    for (long i = 0; i < c->n_train; i++) {   /* count each sentence's categories at its "." */
        int j = cat_of[c->train[i]];
        if (j >= 0) cnt[j]++;
        if (c->train[i] != c->eos) continue;
        n_sent++;
        count_pairs(k, cnt);
        memset(cnt, 0, (size_t)nc * sizeof *cnt);
    }
    for (int i = 0; i < nc * nc; i++) k->share[i] /= (float)(n_sent ? n_sent : 1);
    free(cat_of);
    free(cnt);
    return 0;
}

void corpus_categories_free(tb_categories *k) {
    free(k->names);
    free(k->share);
    memset(k, 0, sizeof *k);
}

/* ---- a sentence, word by word ------------------------------------------------------ */

/* The TOYWORLD_TOP most probable tokens of p[V] (ties by id), best first; -1 pads. */
static void top_tokens(double *p, int V, int *top, double *top_p) {
    for (int k = 0; k < TOYWORLD_TOP; k++) {
        int best = -1;
        for (int i = 0; i < V; i++)
            if (p[i] > 0 && (best < 0 || p[i] > p[best])) best = i;
        top[k] = best;
        top_p[k] = best < 0 ? 0 : p[best];
        if (best >= 0) p[best] = -1.0;
    }
}

int toyworld_score_text(const tb_corpus *c, const char *text, toyworld_score *s, char *err) {
    memset(s, 0, sizeof *s);
    if (tok_encode(&c->tok, text, &s->ids, &s->n, err)) return -1;
    int n = s->n, V = c->tok.vocab_size;
    double *p = malloc((size_t)V * sizeof *p);
    s->nll = malloc((size_t)n * sizeof *s->nll + 1);
    s->possible = malloc((size_t)n * sizeof *s->possible + 1);
    s->top = malloc((size_t)n * TOYWORLD_TOP * sizeof *s->top + 1);
    s->top_p = malloc((size_t)n * TOYWORLD_TOP * sizeof *s->top_p + 1);
    if (!p || !s->nll || !s->possible || !s->top || !s->top_p) {
        free(p);
        toyworld_score_free(s);
        return tb_fail(err, "out of memory");
    }
    if (toyworld_sentence_nll(c, s->ids, n, &s->total, s->nll, err)) { free(p); toyworld_score_free(s); return -1; }
    char e2[TB_ERRLEN];
    for (int t = 0; t < n; t++) {   /* the grammar's best guesses where token t stands */
        s->possible[t] = toyworld_next_dist(c, s->ids, t, p, e2) == 0;
        if (s->possible[t]) top_tokens(p, V, s->top + t * TOYWORLD_TOP, s->top_p + t * TOYWORLD_TOP);
    }
    free(p);
    return 0;
}

void toyworld_score_free(toyworld_score *s) {
    free(s->ids); free(s->nll); free(s->possible); free(s->top); free(s->top_p);
    memset(s, 0, sizeof *s);
}
