/* align_encoding.c -- encoding models and noise ceilings (lesson 12).
 *
 * An encoding model asks: can a linear read-out of model features X predict each
 * recorded unit of Y on stimuli it has never seen?  Ridge regression, per unit:
 *     beta(alpha) = argmin ||y - X beta||^2 + alpha ||beta||^2
 *                 = V diag(s / (s^2 + alpha)) U^T y      with X = U diag(s) V^T.
 * Outer k-fold cross-validation (folds fixed by a seed) gives held-out predictions for
 * every stimulus; the score is Pearson r between prediction and truth, per unit, and
 * its median.  Inside each training fold, every unit's alpha is chosen on a log grid
 * by exact leave-one-out cross-validation, which the SVD makes cheap:
 *     e_i = (y_i - yhat_i) / (1 - h_ii),   h_ii = 1/n + sum_k U_ik^2 s_k^2 / (s_k^2 + alpha)
 * (the 1/n is the unpenalised intercept).
 *
 * A recording is noisy, so even the true model cannot reach r = 1.  The split-half
 * noise ceiling estimates the best achievable r: correlate the mean of one half of the
 * trials with the mean of the other half, correct for halving with Spearman-Brown,
 * rel = 2 r / (1 + r) (the reliability of the mean of all trials), average over random
 * splits.  With signal variance S and noise variance E over T trials, rel =
 * S / (S + E/T), and the noiseless true signal correlates with the trial mean at
 * sqrt(rel): so the ceiling on r is sqrt(rel), and r_ceiled = r / sqrt(rel) is 1 for a
 * perfect model.  (Dividing by rel itself, as some benchmarks do, lets a perfect model
 * score above 1.)
 */
#include "align.h"
#include "kernels.h"
#include "linalg.h"
#include "rng.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void enc_opts_default(enc_opts *o) {
    o->folds = 5;
    o->seed = 0;
    o->n_alpha = 13;
    o->alpha_min = 1e-3;
    o->alpha_max = 1e9;
    o->n_splits = 10;
}

void enc_result_free(enc_result *r) {
    free(r->r_unit);
    r->r_unit = NULL;
}

static double pearson_cols(const double *a, const double *b, int n, int stride_a, int stride_b) {
    double ma = 0, mb = 0;
    for (int i = 0; i < n; i++) { ma += a[(size_t)i * stride_a]; mb += b[(size_t)i * stride_b]; }
    ma /= n;
    mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        double x = a[(size_t)i * stride_a] - ma, y = b[(size_t)i * stride_b] - mb;
        sab += x * y; saa += x * x; sbb += y * y;
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_finite(const double *v, int n) {
    double *t = malloc((size_t)n * sizeof(double));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) t[m++] = v[i];
    double med = NAN;
    if (m) {
        qsort(t, (size_t)m, sizeof(double), cmp_d);
        med = m % 2 ? t[m / 2] : 0.5 * (t[m / 2 - 1] + t[m / 2]);
    }
    free(t);
    return med;
}

int noise_ceiling(const double *Yt, int trials, int n, int py, int n_splits, uint64_t seed,
                  double *per_unit, double *median, char *err) {
    if (trials < 2) return tb_fail(err, "a noise ceiling needs at least 2 trials (got %d)", trials);
    double *A = malloc((size_t)n * py * 8), *B = malloc((size_t)n * py * 8), *acc = calloc((size_t)py, 8);
    int *perm = malloc((size_t)trials * sizeof(int)), *cnt = calloc((size_t)py, sizeof(int));
    if (!A || !B || !acc || !perm || !cnt) { free(A); free(B); free(acc); free(perm); free(cnt); return tb_fail(err, "out of memory"); }
    tb_rng g;
    rng_stream(&g, seed, 0x5b117);
    int h = trials / 2;
    for (int s = 0; s < n_splits; s++) {
        for (int t = 0; t < trials; t++) perm[t] = t;
        rng_shuffle_int(&g, perm, trials);
        memset(A, 0, (size_t)n * py * 8);
        memset(B, 0, (size_t)n * py * 8);
        for (int t = 0; t < 2 * h; t++) {
            const double *src = Yt + (size_t)perm[t] * n * py;
            double *dst = t < h ? A : B;
            for (size_t i = 0; i < (size_t)n * py; i++) dst[i] += src[i] / h;
        }
        for (int u = 0; u < py; u++) {
            double r = pearson_cols(A + u, B + u, n, py, py);
            if (isnan(r) || r <= -1) continue;
            acc[u] += 2 * r / (1 + r); /* Spearman-Brown: the reliability of all trials */
            cnt[u]++;
        }
    }
    /* reliability rel = corr of two independent all-trial means; the true signal itself
     * would correlate with the trial mean at sqrt(rel): that is the ceiling on r */
    for (int u = 0; u < py; u++) per_unit[u] = cnt[u] ? sqrt(acc[u] / cnt[u] > 0 ? acc[u] / cnt[u] : 0) : NAN;
    *median = median_finite(per_unit, py);
    free(A); free(B); free(acc); free(perm); free(cnt);
    return 0;
}

/* One outer fold: fit on rows tr[ntr], predict rows te[nte] into P (rows of the full
 * [n, py] prediction matrix). */
static int fit_fold(const double *X, int px, const double *Y, int py, const int *tr, int ntr,
                    const int *te, int nte, const enc_opts *o, double *P, char *err) {
    int rc = -1;
    int feat = px <= ntr; /* decompose the smaller of X^T X and X X^T */
    int q = feat ? px : ntr;
    double *Xtr = malloc((size_t)ntr * px * 8), *Xte = malloc((size_t)nte * px * 8);
    double *Ytr = malloc((size_t)ntr * py * 8), *ym = calloc((size_t)py, 8), *mu = calloc((size_t)px, 8), *sd = calloc((size_t)px, 8);
    double *G = malloc((size_t)q * q * 8), *w = malloc((size_t)q * 8), *E = malloc((size_t)q * q * 8);
    double *U = NULL, *Z = NULL, *Q = NULL, *s2 = NULL, *best = NULL, *hd = NULL, *alpha_c = NULL, *Yh = NULL;
    if (!Xtr || !Xte || !Ytr || !ym || !mu || !sd || !G || !w || !E) { tb_fail(err, "out of memory"); goto done; }
    /* standardise X with training statistics only; centre Y likewise */
    for (int i = 0; i < ntr; i++)
        for (int j = 0; j < px; j++) mu[j] += X[(size_t)tr[i] * px + j] / ntr;
    for (int i = 0; i < ntr; i++)
        for (int j = 0; j < px; j++) { double d = X[(size_t)tr[i] * px + j] - mu[j]; sd[j] += d * d / ntr; }
    for (int j = 0; j < px; j++) sd[j] = sd[j] > 0 ? sqrt(sd[j]) : 1.0;
    for (int i = 0; i < ntr; i++)
        for (int j = 0; j < px; j++) Xtr[(size_t)i * px + j] = (X[(size_t)tr[i] * px + j] - mu[j]) / sd[j];
    for (int i = 0; i < nte; i++)
        for (int j = 0; j < px; j++) Xte[(size_t)i * px + j] = (X[(size_t)te[i] * px + j] - mu[j]) / sd[j];
    for (int i = 0; i < ntr; i++)
        for (int c = 0; c < py; c++) ym[c] += Y[(size_t)tr[i] * py + c] / ntr;
    for (int i = 0; i < ntr; i++)
        for (int c = 0; c < py; c++) Ytr[(size_t)i * py + c] = Y[(size_t)tr[i] * py + c] - ym[c];
    /* SVD of Xtr from the eigendecomposition of the smaller Gram matrix */
    if (feat) la_gemm_tn(ntr, px, px, Xtr, Xtr, G);
    else la_gram_rows(ntr, px, Xtr, G);
    if (la_eigh(q, G, w, E, err)) goto done;
    int r = 0;
    double tiny = (w[0] > 0 ? w[0] : 1) * 1e-12;
    while (r < q && w[r] > tiny) r++;
    U = calloc((size_t)ntr * (r ? r : 1), 8);
    Z = calloc((size_t)nte * (r ? r : 1), 8);
    Q = calloc((size_t)(r ? r : 1) * py, 8);
    s2 = malloc((size_t)(r ? r : 1) * 8);
    if (!U || !Z || !Q || !s2) { tb_fail(err, "out of memory"); goto done; }
    for (int k = 0; k < r; k++) s2[k] = w[k];
    for (int j = 0; j < q; j++) /* keep the leading r eigenvectors: E[q, r] */
        memmove(E + (size_t)j * r, E + (size_t)j * q, (size_t)r * sizeof(double));
    if (feat) { /* V = E; U = Xtr V / s; Z = Xte V */
        la_gemm_nn(ntr, px, r, Xtr, E, U);
        for (int i = 0; i < ntr; i++)
            for (int k = 0; k < r; k++) U[(size_t)i * r + k] /= sqrt(s2[k]);
        la_gemm_nn(nte, px, r, Xte, E, Z);
    } else { /* U = E; Z = Xte V = Xte Xtr^T U / s */
        memcpy(U, E, (size_t)ntr * r * sizeof(double));
        double *XX = malloc((size_t)nte * ntr * 8), *Xt = malloc((size_t)px * ntr * 8);
        if (!XX || !Xt) { free(XX); free(Xt); tb_fail(err, "out of memory"); goto done; }
        for (int b2 = 0; b2 < ntr; b2++)
            for (int j = 0; j < px; j++) Xt[(size_t)j * ntr + b2] = Xtr[(size_t)b2 * px + j];
        la_gemm_nn(nte, px, ntr, Xte, Xt, XX);
        la_gemm_nn(nte, ntr, r, XX, U, Z);
        for (int i = 0; i < nte; i++)
            for (int k = 0; k < r; k++) Z[(size_t)i * r + k] /= sqrt(s2[k]);
        free(XX);
        free(Xt);
    }
    la_gemm_tn(ntr, r, py, U, Ytr, Q); /* Q = U^T Ytr */
    /* leave-one-out error of every unit for every alpha; keep each unit's best alpha */
    best = malloc((size_t)py * 8);
    alpha_c = malloc((size_t)py * 8);
    hd = malloc((size_t)ntr * 8);
    Yh = malloc((size_t)ntr * py * 8);
    double *dq = malloc((size_t)r * py * 8 + 8);
    if (!best || !alpha_c || !hd || !Yh || !dq) { free(dq); tb_fail(err, "out of memory"); goto done; }
    /* The search over alpha is the hot loop (one ntr x r x py product per alpha), so it
     * runs in float32 through the SIMD matmul kernel: it only has to rank alphas a
     * factor of 10 apart.  The final predictions below are float64. */
    float *Uf = malloc((size_t)ntr * r * sizeof(float) + 4), *dqf = malloc((size_t)r * py * sizeof(float) + 4);
    float *Rf = malloc((size_t)ntr * py * sizeof(float) + 4);
    if (!Uf || !dqf || !Rf) { free(Uf); free(dqf); free(Rf); free(dq); tb_fail(err, "out of memory"); goto done; }
    for (size_t i = 0; i < (size_t)ntr * r; i++) Uf[i] = (float)U[i];
    for (int c = 0; c < py; c++) best[c] = INFINITY;
    for (int a = 0; a < o->n_alpha; a++) {
        double alpha = o->n_alpha > 1 ? o->alpha_min * pow(o->alpha_max / o->alpha_min, (double)a / (o->n_alpha - 1)) : o->alpha_min;
        for (int i = 0; i < ntr; i++) { /* leverages h_ii */
            double h = 1.0 / ntr;
            for (int k = 0; k < r; k++) h += U[(size_t)i * r + k] * U[(size_t)i * r + k] * s2[k] / (s2[k] + alpha);
            double den = 1 - h;
            hd[i] = 1.0 / (den > 1e-12 ? den : 1e-12);
        }
        for (int k = 0; k < r; k++)
            for (int c = 0; c < py; c++) dqf[(size_t)k * py + c] = (float)(Q[(size_t)k * py + c] * s2[k] / (s2[k] + alpha));
        for (size_t i = 0; i < (size_t)ntr * py; i++) Rf[i] = (float)Ytr[i];
        /* residuals on the training fold: R = Ytr - U dq */
        tb_kern->sgemm(0, 0, ntr, py, r, -1.0f, Uf, r, dqf, py, 1.0f, Rf, py);
        for (int c = 0; c < py; c++) Yh[c] = 0; /* Yh[0..py) accumulates LOO errors */
        for (int i = 0; i < ntr; i++) {
            const float *ri = Rf + (size_t)i * py;
            for (int c = 0; c < py; c++) { double e = ri[c] * hd[i]; Yh[c] += e * e; }
        }
        for (int c = 0; c < py; c++)
            if (Yh[c] < best[c]) { best[c] = Yh[c]; alpha_c[c] = alpha; }
    }
    free(Uf); free(dqf); free(Rf);
    free(dq);
    /* held-out predictions with each unit's alpha: Z diag(s / (s^2 + alpha)) Q */
    for (int i = 0; i < nte; i++) {
        double *pr = P + (size_t)te[i] * py;
        for (int c = 0; c < py; c++) pr[c] = ym[c];
        for (int k = 0; k < r; k++) {
            double zk = Z[(size_t)i * r + k] * sqrt(s2[k]);
            const double *qk = Q + (size_t)k * py;
            for (int c = 0; c < py; c++) pr[c] += zk * qk[c] / (s2[k] + alpha_c[c]);
        }
    }
    rc = 0;
done:
    free(Xtr); free(Xte); free(Ytr); free(ym); free(mu); free(sd); free(G); free(w); free(E);
    free(U); free(Z); free(Q); free(s2); free(best); free(hd); free(alpha_c); free(Yh);
    return rc;
}

typedef struct {
    const double *X; int px; const double *Y; int py, n;
    const int *order; const enc_opts *o; double *P;
    int *rc; char *errs;
} fold_ctx;

/* Outer fold f: test rows = shuffled positions [f n / k, (f+1) n / k). */
static void fold_task(void *ctx, int f, int nt) {
    (void)nt;
    fold_ctx *c = ctx;
    int n = c->n, ntr = 0, nte = 0;
    int *tr = malloc((size_t)n * sizeof(int)), *te = malloc((size_t)n * sizeof(int));
    char *err = c->errs + (size_t)f * TB_ERRLEN;
    if (!tr || !te) { free(tr); free(te); c->rc[f] = tb_fail(err, "out of memory"); return; }
    for (int i = 0; i < n; i++) {
        int in = i >= (int)((long long)f * n / c->o->folds) && i < (int)((long long)(f + 1) * n / c->o->folds);
        if (in) te[nte++] = c->order[i];
        else tr[ntr++] = c->order[i];
    }
    c->rc[f] = fit_fold(c->X, c->px, c->Y, c->py, tr, ntr, te, nte, c->o, c->P, err);
    free(tr);
    free(te);
}

int encoding_fit(const double *X, int n, int px, const double *Y, const double *Y_trials,
                 int trials, int py, const enc_opts *o, enc_result *out, char *err) {
    memset(out, 0, sizeof *out);
    out->noise_ceiling = out->r_ceiled = NAN;
    if (o->folds < 2) return tb_fail(err, "encoding: need at least 2 folds (got %d)", o->folds);
    if (n < 2 * o->folds) return tb_fail(err, "encoding: %d stimuli are too few for %d folds (need %d)", n, o->folds, 2 * o->folds);
    if (!Y && !Y_trials) return tb_fail(err, "encoding: no target");
    double *T = NULL;
    if (Y_trials) { /* the target is the trial mean */
        T = calloc((size_t)n * py, 8);
        if (!T) return tb_fail(err, "out of memory");
        for (int t = 0; t < trials; t++)
            for (size_t i = 0; i < (size_t)n * py; i++) T[i] += Y_trials[(size_t)t * n * py + i] / trials;
        Y = T;
    }
    for (size_t i = 0; i < (size_t)n * px; i++)
        if (!isfinite(X[i])) { free(T); return tb_fail(err, "encoding: features have a non-finite value"); }
    for (int c = 0; c < py; c++) {
        double lo = Y[c], hi = Y[c];
        for (int i = 0; i < n; i++) {
            double v = Y[(size_t)i * py + c];
            if (!isfinite(v)) { free(T); return tb_fail(err, "encoding: target unit %d has a non-finite value", c); }
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (lo == hi) { free(T); return tb_fail(err, "encoding: target unit %d is constant across stimuli", c); }
    }
    int *order = malloc((size_t)n * sizeof(int));
    double *P = malloc((size_t)n * py * 8);
    out->r_unit = malloc((size_t)py * 8);
    out->py = py;
    int rc = 0;
    if (!order || !P || !out->r_unit) { rc = tb_fail(err, "out of memory"); goto done; }
    for (int i = 0; i < n; i++) order[i] = i;
    tb_rng g;
    rng_stream(&g, o->seed, 0xF01D5);
    rng_shuffle_int(&g, order, n);
    /* the folds are independent (each writes its own rows of P): one pool task each, so
     * their eigendecompositions run side by side; products inside run serially */
    fold_ctx fc = {X, px, Y, py, n, order, o, P, calloc((size_t)o->folds, sizeof(int)),
                   calloc((size_t)o->folds, TB_ERRLEN)};
    if (!fc.rc || !fc.errs) rc = tb_fail(err, "out of memory");
    else {
        tb_parallel(o->folds, fold_task, &fc);
        for (int f = 0; f < o->folds && !rc; f++)
            if (fc.rc[f]) rc = tb_fail(err, "%s", fc.errs + (size_t)f * TB_ERRLEN);
    }
    free(fc.rc);
    free(fc.errs);
    if (!rc) {
        for (int c = 0; c < py; c++) out->r_unit[c] = pearson_cols(P + c, Y + c, n, py, py);
        out->r_median = median_finite(out->r_unit, py);
        if (Y_trials && trials >= 2) {
            double *nc = malloc((size_t)py * 8);
            rc = noise_ceiling(Y_trials, trials, n, py, o->n_splits, o->seed, nc, &out->noise_ceiling, err);
            free(nc);
            if (!rc && out->noise_ceiling > 0) out->r_ceiled = out->r_median / out->noise_ceiling;
        }
    }
done:
    free(order); free(P); free(T);
    if (rc) enc_result_free(out);
    return rc;
}
