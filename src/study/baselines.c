/* baselines.c -- references built from the stimuli alone: bag of words, noise of a
 * given shape, twin differences.  Lessons 13-15; see include/baselines.h. */
#include "baselines.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>

int base_lexical(const int *const *ids, const int *len, int n, int eos, double **X, int *p, int **word_id,
                 char *err) {
    *X = NULL;
    *p = 0;
    if (word_id) *word_id = NULL;
    /* which token ids occur: col[id] = column + 1, 0 when absent */
    int max_id = -1;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < len[i]; t++)
            if (ids[i][t] > max_id) max_id = ids[i][t];
    if (max_id < 0) return tb_fail(err, "lexical baseline: the stimuli have no tokens");
    int *col = calloc((size_t)max_id + 1, sizeof *col);
    if (!col) return tb_fail(err, "out of memory");
    for (int i = 0; i < n; i++)
        for (int t = 0; t < len[i]; t++)
            if (ids[i][t] != eos && ids[i][t] >= 0) col[ids[i][t]] = 1;
    int cols = 0;
    for (int id = 0; id <= max_id; id++)
        if (col[id]) col[id] = ++cols;
    if (cols == 0) { free(col); return tb_fail(err, "lexical baseline: the stimuli have no words"); }

    double *A = calloc((size_t)n * cols, sizeof *A);
    int *wid = word_id ? malloc((size_t)cols * sizeof *wid) : NULL;
    if (!A || (word_id && !wid)) { free(col); free(A); free(wid); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < n; i++)   /* counts */
        for (int t = 0; t < len[i]; t++)
            if (ids[i][t] != eos && ids[i][t] >= 0) A[(size_t)i * cols + col[ids[i][t]] - 1] += 1.0;
    for (int id = 0; wid && id <= max_id; id++)
        if (col[id]) wid[col[id] - 1] = id;
    free(col);
    *X = A;
    *p = cols;
    if (word_id) *word_id = wid;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The words of lines[n] ("." excluded), each once, sorted: *w[*k] (malloc'd). */
static int distinct_words(char *const *lines, int n, char ***w, int *k, char *err) {
    int cap = 64, m = 0;
    char **all = malloc((size_t)cap * sizeof *all);
    if (!all) return tb_fail(err, "out of memory");
    for (int i = 0; i < n; i++)
        for (const char *s = lines[i]; *s;) {
            while (*s == ' ' || *s == '\t') s++;
            size_t len = strcspn(s, " \t");
            if (len && !(len == 1 && *s == '.')) {
                if (m == cap) {
                    char **g = realloc(all, (size_t)(cap *= 2) * sizeof *all);
                    if (!g) { base_free_words(all, m); return tb_fail(err, "out of memory"); }
                    all = g;
                }
                if (!(all[m] = strndup(s, len))) { base_free_words(all, m); return tb_fail(err, "out of memory"); }
                m++;
            }
            s += len;
        }
    qsort(all, (size_t)m, sizeof *all, cmp_str);
    int u = 0;
    for (int i = 0; i < m; i++) {
        if (u && !strcmp(all[u - 1], all[i])) { free(all[i]); continue; }
        all[u++] = all[i];
    }
    *w = all;
    *k = u;
    return 0;
}

int base_lexical_text(char *const *lines, int n, double **X, int *p, char ***words, char *err) {
    char **w = NULL;
    int k = 0;
    *X = NULL;
    if (distinct_words(lines, n, &w, &k, err)) return -1;
    if (k == 0) { free(w); return tb_fail(err, "lexical baseline: the stimuli have no words"); }
    double *A = calloc((size_t)n * k, sizeof *A);
    if (!A) { base_free_words(w, k); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < n; i++)   /* counts, by binary search in the sorted word list */
        for (const char *s = lines[i]; *s;) {
            while (*s == ' ' || *s == '\t') s++;
            size_t len = strcspn(s, " \t");
            char word[256];
            if (len && len < sizeof word && !(len == 1 && *s == '.')) {
                memcpy(word, s, len);
                word[len] = 0;
                const char *key = word;
                char **hit = bsearch(&key, w, (size_t)k, sizeof *w, cmp_str);
                if (hit) A[(size_t)i * k + (hit - w)] += 1.0;
            }
            s += len;
        }
    *X = A;
    *p = k;
    if (words) *words = w;
    else base_free_words(w, k);
    return 0;
}

void base_free_words(char **words, int p) {
    for (int i = 0; words && i < p; i++) free(words[i]);
    free(words);
}

void base_noise(double *X, int n, int p, uint64_t seed) {
    tb_rng r;
    rng_seed(&r, rng_child_seed(seed, "noise baseline", 0));
    for (size_t i = 0; i < (size_t)n * p; i++) X[i] = rng_normal(&r);
}

/* D[k] = X[2k] - X[2k+1] for the n/2 pairs of one n x p block. */
static void pair_diff(const double *X, int n, int p, double *D) {
    for (int k = 0; k < n / 2; k++)
        for (int j = 0; j < p; j++)
            D[(size_t)k * p + j] = X[(size_t)(2 * k) * p + j] - X[(size_t)(2 * k + 1) * p + j];
}

int base_twin_diff(const double *X, const double *Xt, int trials, int n, int p, double *D, double *Dt, char *err) {
    if (n < 2 || n % 2) return tb_fail(err, "twin differences need an even number of stimuli (pairs 2k, 2k+1), got %d", n);
    pair_diff(X, n, p, D);
    if (Xt && Dt)
        for (int t = 0; t < trials; t++)
            pair_diff(Xt + (size_t)t * n * p, n, p, Dt + (size_t)t * (n / 2) * p);
    return 0;
}
