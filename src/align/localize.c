/* localize.c -- the language localizer: Welch t per unit, top-k selection (lesson 14).
 * See localize.h for the statistic and the conventions. */
#include "localize.h"

#include <math.h>
#include <stdlib.h>

/* Mean and unbiased variance of column u of X[n, p], on |x| if use_abs. */
static void col_stats(const double *X, int n, int p, int u, int use_abs, double *mean, double *var) {
    double m = 0, s = 0;
    for (int i = 0; i < n; i++) m += use_abs ? fabs(X[(size_t)i * p + u]) : X[(size_t)i * p + u];
    m /= n;
    for (int i = 0; i < n; i++) {
        double d = (use_abs ? fabs(X[(size_t)i * p + u]) : X[(size_t)i * p + u]) - m;
        s += d * d;
    }
    *mean = m;
    *var = n > 1 ? s / (n - 1) : 0;
}

int localize_t(const double *S, int n_s, const double *C, int n_c, int p, int use_abs, double *t,
               char *err) {
    if (n_s < 2 || n_c < 2) return tb_fail(err, "the localizer needs at least 2 stimuli per condition (got %d and %d)", n_s, n_c);
    if (p < 1) return tb_fail(err, "the localizer needs at least one unit");
    for (int u = 0; u < p; u++) {
        double ms, vs, mc, vc;
        col_stats(S, n_s, p, u, use_abs, &ms, &vs);
        col_stats(C, n_c, p, u, use_abs, &mc, &vc);
        double se2 = vs / n_s + vc / n_c, diff = ms - mc;
        if (se2 > 0) t[u] = diff / sqrt(se2);
        else t[u] = diff > 0 ? INFINITY : diff < 0 ? -INFINITY : 0.0;
    }
    return 0;
}

/* Sorting (t, unit) records rather than indices through a global key keeps the
 * selection re-entrant (two localizers may run at once on the thread pool). */
typedef struct { double t; int u; } t_unit;
static int by_t_desc(const void *a, const void *b) {
    const t_unit *x = a, *y = b;
    if (x->t > y->t) return -1;
    if (x->t < y->t) return 1;
    return (x->u > y->u) - (x->u < y->u); /* ties: lower index first */
}

/* Out of memory: the same order by repeated scans, O(k p k) but allocation-free. */
static void top_by_scans(const double *t, int p, int k, int *idx) {
    for (int r = 0; r < k; r++) {
        int best = -1;
        for (int u = 0; u < p; u++) {
            int used = 0;
            for (int q = 0; q < r; q++) used |= idx[q] == u;
            if (!used && (best < 0 || t[u] > t[best])) best = u;
        }
        idx[r] = best;
    }
}

void localize_top(const double *t, int p, int k, int *idx) {
    t_unit *all = malloc((size_t)(p > 0 ? p : 1) * sizeof *all);
    if (!all) {
        top_by_scans(t, p, k, idx);
        return;
    }
    for (int u = 0; u < p; u++) { all[u].t = t[u]; all[u].u = u; }
    qsort(all, (size_t)p, sizeof *all, by_t_desc);
    for (int r = 0; r < k; r++) idx[r] = all[r].u;
    free(all);
}

int localize_k(double percent, int p, char *err) {
    if (!(percent > 0) || percent > 100) return tb_fail(err, "--top must be a percentage in (0, 100] (got %g)", percent);
    int k = (int)floor(percent / 100.0 * p + 1e-9);
    if (k < 1) return tb_fail(err, "top %g%% of %d units is less than one unit; use --top %g or more", percent, p, ceil(10000.0 / p) / 100);
    return k;
}
