/* align_control.c -- feature-count controls: compare at a fixed number of features
 * (lessons 11 and 13).
 *
 * Is layer 2 more brain-like than layer 0, or just wider?  Several metrics move with the
 * number of units alone: biased CKA of independent data sits near p / (n + p), CCA
 * climbs to 1 as p nears n, an encoding model has more to fit with.  So a comparison
 * across representations of different widths is repeated at one width K:
 *   - random unit subsets: K distinct units drawn at random, R times; each metric's
 *     mean and percentile interval over the draws (how much depends on which units);
 *   - PCA: the first K principal components (the K directions of most variance).
 */
#include "align_priv.h"
#include "linalg.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- PCA ------------------------------------------------------------------------------- */

/* Flip each column of Z[n,k] so that its largest-magnitude entry (the first on ties) is
 * positive. */
static void fix_signs(double *Z, int n, int k) {
    for (int c = 0; c < k; c++) {
        int at = 0;
        for (int i = 1; i < n; i++)
            if (fabs(Z[(size_t)i * k + c]) > fabs(Z[(size_t)at * k + c])) at = i;
        if (Z[(size_t)at * k + c] < 0)
            for (int i = 0; i < n; i++) Z[(size_t)i * k + c] = -Z[(size_t)i * k + c];
    }
}

/* Scores from the smaller eigenproblem: p <= n, Xc^T Xc = V W V^T and Z = Xc V_k; else
 * Xc Xc^T = U W U^T and Z = U_k W_k^(1/2) (the same scores, up to sign). */
int align_pca(const double *X, int n, int p, int k, double *Z, char *err) {
    int lim = p < n - 1 ? p : n - 1;
    if (k < 1 || k > lim) return tb_fail(err, "PCA: k = %d components, but %d x %d data have at most %d", k, n, p, lim);
    int feat = p <= n, q = feat ? p : n, rc = -1;
    double *Xc = al_centred(X, n, p), *G = al_doubles((size_t)q * q), *w = al_doubles((size_t)q);
    double *E = al_doubles((size_t)q * q);
    if (!Xc || !G || !w || !E) { tb_fail(err, "out of memory"); goto done; }
    if (feat) la_gemm_tn(n, p, p, Xc, Xc, G);
    else la_gram_rows(n, p, Xc, G);
    if (la_eigh(q, G, w, E, err)) goto done;
    for (int j = 0; j < q; j++) /* the leading k eigenvectors, packed: E[q, k] */
        memmove(E + (size_t)j * k, E + (size_t)j * q, (size_t)k * sizeof(double));
    if (feat) la_gemm_nn(n, p, k, Xc, E, Z);
    else
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++) Z[(size_t)i * k + c] = E[(size_t)i * k + c] * sqrt(w[c] > 0 ? w[c] : 0);
    fix_signs(Z, n, k);
    rc = 0;
done:
    free(Xc); free(G); free(w); free(E);
    return rc;
}

/* ---- random unit subsets ------------------------------------------------------------------ */

/* K distinct units of p into sel[K], ascending (perm[p] is scratch): the first K of a
 * partial Fisher-Yates shuffle. */
static void draw_units(tb_rng *g, int p, int K, int *perm, int *sel) {
    for (int u = 0; u < p; u++) perm[u] = u;
    for (int i = 0; i < K; i++) {
        int j = i + (int)rng_below(g, (uint32_t)(p - i));
        int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    memcpy(sel, perm, (size_t)K * sizeof(int));
    for (int i = 1; i < K; i++) /* insertion sort: keep the units in their order */
        for (int j = i; j > 0 && sel[j - 1] > sel[j]; j--) { int t = sel[j]; sel[j] = sel[j - 1]; sel[j - 1] = t; }
}

/* Columns sel[K] of X[rows, p] into Xs[rows, K]. */
static void gather_cols(const double *X, long rows, int p, const int *sel, int K, double *Xs) {
    for (long i = 0; i < rows; i++)
        for (int c = 0; c < K; c++) Xs[i * K + c] = X[i * p + sel[c]];
}

/* 1 if some row of Xs[n, K] is constant: its correlation distance is undefined. */
static int has_constant_row(const double *Xs, int n, int K) {
    for (int i = 0; i < n; i++) {
        int c = 1;
        while (c < K && Xs[(size_t)i * K + c] == Xs[(size_t)i * K]) c++;
        if (c == K) return 1;
    }
    return 0;
}

/* One side's subset: K random units whose every stimulus row varies (a sparse spiking
 * layer can leave a stimulus silent on a small subset; that draw is redrawn, up to
 * UNITS_TRIES times). Returns 0, or -1 when no draw worked. */
enum { UNITS_TRIES = 100 };
static int draw_side(tb_rng *g, const double *X, int n, int p, int K, int *perm, int *sel, double *Xs) {
    for (int t = 0; t < UNITS_TRIES; t++) {
        draw_units(g, p, K, perm, sel);
        gather_cols(X, n, p, sel, K, Xs);
        if (!has_constant_row(Xs, n, K)) return 0;
    }
    return -1;
}

/* Per metric over the R repeats: the mean and percentile interval of its finite values
 * (tmp[R] is scratch). */
static void summarise(const align_result *res, int R, double level, double *tmp, align_result *mean,
                      align_result *low, align_result *high) {
    *mean = *low = *high = res[0];
    for (int r = 1; r < R; r++)
        if (res[r].cca_warning) mean->cca_warning = low->cca_warning = high->cca_warning = 1;
    for (int i = 0; i < align_result_nfields(); i++) {
        int m = 0;
        double s = 0;
        for (int r = 0; r < R; r++) {
            double v = align_result_get(&res[r], i);
            if (isfinite(v)) { tmp[m++] = v; s += v; }
        }
        *align_result_field(mean, i) = m ? s / m : NAN;
        *align_result_field(low, i) = *align_result_field(high, i) = NAN;
        if (m) al_percentile_interval(tmp, m, level, align_result_field(low, i), align_result_field(high, i));
    }
}

int align_units_control(const double *X, int n, int px, const double *Y, int py, const double *Y_trials,
                        int trials, int K, int R, int which, uint64_t seed, const align_opts *o,
                        align_result *mean, align_result *low, align_result *high, char *err) {
    if (K < 1 || R < 1) return tb_fail(err, "unit subsets: need K >= 1 units and R >= 1 repeats (got %d, %d)", K, R);
    int sub_a = (which & ALIGN_UNITS_A) && px > K, sub_b = (which & ALIGN_UNITS_B) && py > K;
    int ka = sub_a ? K : px, kb = sub_b ? K : py, pm = px > py ? px : py, rc = -1;
    double *Xs = al_doubles(sub_a ? (size_t)n * K : 1), *Ys = al_doubles(sub_b ? (size_t)n * K : 1);
    double *Yts = Y_trials && sub_b ? al_doubles((size_t)trials * n * K) : NULL, *tmp = al_doubles((size_t)R);
    int *perm = al_ints((size_t)pm), *sa = al_ints((size_t)K), *sb = al_ints((size_t)K);
    align_result *res = malloc((size_t)R * sizeof *res);
    if (!Xs || !Ys || !tmp || (Y_trials && sub_b && !Yts) || !perm || !sa || !sb || !res) { tb_fail(err, "out of memory"); goto done; }
    tb_rng g;
    rng_stream(&g, seed, 0x5B5E7);
    for (int r = 0; r < R; r++) {
        if ((sub_a && draw_side(&g, X, n, px, K, perm, sa, Xs)) || (sub_b && draw_side(&g, Y, n, py, K, perm, sb, Ys))) {
            tb_fail(err, "unit subsets: %d draws of %d units all left a stimulus with a constant pattern; try a larger K", UNITS_TRIES, K);
            goto done;
        }
        if (sub_b) {
            if (Y_trials) gather_cols(Y_trials, (long)trials * n, py, sb, K, Yts);
        }
        if (align_all(sub_a ? Xs : X, n, ka, sub_b ? Ys : Y, kb, sub_b ? Yts : Y_trials, trials, o, &res[r], err))
            goto done;
    }
    summarise(res, R, o->ci, tmp, mean, low, high);
    rc = 0;
done:
    free(Xs); free(Ys); free(tmp); free(Yts); free(perm); free(sa); free(sb); free(res);
    return rc;
}
