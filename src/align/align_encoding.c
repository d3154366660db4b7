/* align_encoding.c -- encoding models and noise ceilings (lesson 12).
 *
 * An encoding model asks: can a linear read-out of model features X predict each
 * recorded unit of Y on stimuli it has never seen?  Ridge regression, per unit:
 *     beta(alpha) = argmin ||y - X beta||^2 + alpha ||beta||^2
 *                 = V diag(s / (s^2 + alpha)) U^T y      with X = U diag(s) V^T.
 * Outer k-fold cross-validation (folds fixed by a seed) gives held-out predictions for
 * every stimulus; the score is Pearson r between prediction and truth on each fold's
 * own stimuli, averaged over folds, per unit, and its median over units.  (Pooling the
 * folds' predictions first would bias r negative under the null: each fold predicts
 * around its training mean, and a fold's training mean is off the opposite way from
 * its held-out values -- independent data scored a median r of -0.1.)  Inside each
 * training fold, every unit's alpha is chosen on a log grid by exact leave-one-out
 * cross-validation, which the SVD makes cheap:
 *     e_i = (y_i - yhat_i) / (1 - h_ii),   h_ii = 1/n + sum_k U_ik^2 s_k^2 / (s_k^2 + alpha)
 * (the 1/n is the unpenalised intercept).  The grid stops at 1e5: the search runs in
 * float32, and past that the shrunken fit s^2 / (s^2 + alpha) changes the residuals by
 * less than float32 can resolve, so larger alphas would be ranked by rounding.
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
#include "align_priv.h"
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
    o->n_alpha = 9;
    o->alpha_min = 1e-3;
    o->alpha_max = 1e5;
    o->n_splits = 10;
    o->min_ceiling = 0.3;
}

const char *enc_ceiling_reason(enc_ceiling_status s) {
    switch (s) {
    case ENC_CEIL_OK: return "the ceiled score is defined";
    case ENC_CEIL_NOT_RUN: return "no encoding model was fitted";
    case ENC_CEIL_NO_TRIALS: return "fewer than 2 trials: no noise ceiling to normalise by";
    case ENC_CEIL_TOO_LOW:
        return "noise ceiling below the minimum: the recording has no reliable stimulus signal to normalise by";
    }
    return "unknown ceiling status";
}

void enc_result_free(enc_result *r) {
    free(r->r_unit);
    r->r_unit = NULL;
}

/* ======================================================================== */
/* noise ceiling                                                            */
/* ======================================================================== */

/* A[n,py] += the mean of trials perm[from .. from+h) of Yt[trials,n,py]. */
static void half_mean(const double *Yt, int n, int py, const int *perm, int from, int h, double *A) {
    memset(A, 0, (size_t)n * py * sizeof(double));
    for (int t = from; t < from + h; t++) {
        const double *src = Yt + (size_t)perm[t] * n * py;
        for (size_t i = 0; i < (size_t)n * py; i++) A[i] += src[i] / h;
    }
}

int noise_ceiling(const double *Yt, int trials, int n, int py, int n_splits, uint64_t seed,
                  double *per_unit, double *median, char *err) {
    if (trials < 2) return tb_fail(err, "a noise ceiling needs at least 2 trials (got %d)", trials);
    double *A = al_doubles((size_t)n * py), *B = al_doubles((size_t)n * py), *acc = al_zeros((size_t)py);
    double *tmp = al_doubles((size_t)py);
    int *perm = al_ints((size_t)trials), *cnt = al_ints((size_t)py);
    int rc = -1;
    if (!A || !B || !acc || !tmp || !perm || !cnt) { tb_fail(err, "out of memory"); goto done; }
    memset(cnt, 0, (size_t)py * sizeof(int));
    tb_rng g;
    rng_stream(&g, seed, 0x5b117);
    int h = trials / 2;
    double k = (double)trials / h;   /* all the trials are k halves (k = 2, or a little more for odd trials) */
    for (int s = 0; s < n_splits; s++) {
        for (int t = 0; t < trials; t++) perm[t] = t;
        rng_shuffle_int(&g, perm, trials);
        half_mean(Yt, n, py, perm, 0, h, A);
        half_mean(Yt, n, py, perm, h, h, B);
        for (int u = 0; u < py; u++) {
            double r = al_pearson_strided(A + u, B + u, n, py, py);
            if (isnan(r) || 1 + (k - 1) * r <= 0) continue;
            acc[u] += k * r / (1 + (k - 1) * r); /* Spearman-Brown: the reliability of all trials */
            cnt[u]++;
        }
    }
    /* reliability rel = corr of two independent all-trial means; the true signal itself
     * would correlate with the trial mean at sqrt(rel): that is the ceiling on r */
    for (int u = 0; u < py; u++) per_unit[u] = cnt[u] ? sqrt(acc[u] / cnt[u] > 0 ? acc[u] / cnt[u] : 0) : NAN;
    *median = al_median_finite(per_unit, py, tmp);
    rc = 0;
done:
    free(A); free(B); free(acc); free(tmp); free(perm); free(cnt);
    return rc;
}

/* ======================================================================== */
/* ridge regression on one outer fold                                       */
/* ======================================================================== */

/* One outer fold's ridge problem in the SVD basis of its standardised training
 * features, Xtr = U diag(s) V^T (the r directions with s^2 > 1e-12 s_max^2). */
typedef struct {
    int ntr, nte, px, py, r;
    double *Xtr;   /* [ntr, px] training features, standardised with training statistics */
    double *Xte;   /* [nte, px] test features, the same transform */
    double *Ytr;   /* [ntr, py] training targets, centred */
    double *ym;    /* [py]      training mean of each target unit */
    double *U;     /* [ntr, r]  left singular vectors */
    double *Z;     /* [nte, r]  test rows in the singular basis, Xte V / s */
    double *Q;     /* [r, py]   U^T Ytr */
    double *s2;    /* [r]       squared singular values */
    double *alpha; /* [py]      each unit's ridge strength (leave-one-out choice) */
} ridge_fold;

static void ridge_fold_free(ridge_fold *f) {
    free(f->Xtr); free(f->Xte); free(f->Ytr); free(f->ym);
    free(f->U); free(f->Z); free(f->Q); free(f->s2); free(f->alpha);
    memset(f, 0, sizeof *f);
}

/* Gather rows tr / te of X and Y into the fold: X standardised and Y centred with the
 * training rows' statistics only (mu[px], sd[px] are scratch). */
static void fold_data(ridge_fold *f, const double *X, const double *Y, const int *tr, const int *te,
                      double *mu, double *sd) {
    int ntr = f->ntr, nte = f->nte, px = f->px, py = f->py;
    memset(mu, 0, (size_t)px * sizeof(double));
    memset(sd, 0, (size_t)px * sizeof(double));
    memset(f->ym, 0, (size_t)py * sizeof(double));
    for (int i = 0; i < ntr; i++)
        for (int j = 0; j < px; j++) mu[j] += X[(size_t)tr[i] * px + j] / ntr;
    for (int i = 0; i < ntr; i++)
        for (int j = 0; j < px; j++) { double d = X[(size_t)tr[i] * px + j] - mu[j]; sd[j] += d * d / ntr; }
    for (int j = 0; j < px; j++) sd[j] = sd[j] > 0 ? sqrt(sd[j]) : 1.0;
    for (int i = 0; i < ntr; i++)
        for (int j = 0; j < px; j++) f->Xtr[(size_t)i * px + j] = (X[(size_t)tr[i] * px + j] - mu[j]) / sd[j];
    for (int i = 0; i < nte; i++)
        for (int j = 0; j < px; j++) f->Xte[(size_t)i * px + j] = (X[(size_t)te[i] * px + j] - mu[j]) / sd[j];
    for (int i = 0; i < ntr; i++)
        for (int c = 0; c < py; c++) f->ym[c] += Y[(size_t)tr[i] * py + c] / ntr;
    for (int i = 0; i < ntr; i++)
        for (int c = 0; c < py; c++) f->Ytr[(size_t)i * py + c] = Y[(size_t)tr[i] * py + c] - f->ym[c];
}

/* U, Z (scaled by 1/s), s2 and r from E[q, r], the leading eigenvectors of the smaller
 * Gram matrix (q = px: X^T X, whose eigenvectors are V; q = ntr: X X^T, whose are U). */
static int fold_basis_from(ridge_fold *f, const double *E, int feat, char *err) {
    int ntr = f->ntr, nte = f->nte, px = f->px, r = f->r;
    double *XX = NULL, *Xt = NULL;
    int rc = -1;
    if (feat) { /* V = E; U = Xtr V / s; Z = Xte V */
        la_gemm_nn(ntr, px, r, f->Xtr, E, f->U);
        for (int i = 0; i < ntr; i++)
            for (int k = 0; k < r; k++) f->U[(size_t)i * r + k] /= sqrt(f->s2[k]);
        la_gemm_nn(nte, px, r, f->Xte, E, f->Z);
        return 0;
    }
    /* U = E; Z = Xte V = Xte Xtr^T U / s */
    XX = al_doubles((size_t)nte * ntr);
    Xt = al_doubles((size_t)px * ntr);
    if (!XX || !Xt) { tb_fail(err, "out of memory"); goto done; }
    memcpy(f->U, E, (size_t)ntr * r * sizeof(double));
    for (int b = 0; b < ntr; b++)
        for (int j = 0; j < px; j++) Xt[(size_t)j * ntr + b] = f->Xtr[(size_t)b * px + j];
    la_gemm_nn(nte, px, ntr, f->Xte, Xt, XX);
    la_gemm_nn(nte, ntr, r, XX, f->U, f->Z);
    for (int i = 0; i < nte; i++)
        for (int k = 0; k < r; k++) f->Z[(size_t)i * r + k] /= sqrt(f->s2[k]);
    rc = 0;
done:
    free(XX); free(Xt);
    return rc;
}

/* The SVD of Xtr from the eigendecomposition of the smaller of X^T X and X X^T, then
 * Q = U^T Ytr. */
static int fold_basis(ridge_fold *f, char *err) {
    int ntr = f->ntr, nte = f->nte, px = f->px, py = f->py;
    int feat = px <= ntr, q = feat ? px : ntr;
    double *G = al_doubles((size_t)q * q), *w = al_doubles((size_t)q), *E = al_doubles((size_t)q * q);
    int rc = -1;
    if (!G || !w || !E) { tb_fail(err, "out of memory"); goto done; }
    if (feat) la_gemm_tn(ntr, px, px, f->Xtr, f->Xtr, G);
    else la_gram_rows(ntr, px, f->Xtr, G);
    if (la_eigh(q, G, w, E, err)) goto done;
    int r = 0;
    double tiny = (w[0] > 0 ? w[0] : 1) * 1e-12;
    while (r < q && w[r] > tiny) r++;
    f->r = r;
    f->U = al_zeros((size_t)ntr * r);
    f->Z = al_zeros((size_t)nte * r);
    f->Q = al_zeros((size_t)r * py);
    f->s2 = al_doubles((size_t)r);
    if (!f->U || !f->Z || !f->Q || !f->s2) { tb_fail(err, "out of memory"); goto done; }
    for (int k = 0; k < r; k++) f->s2[k] = w[k];
    for (int j = 0; j < q; j++) /* keep the leading r eigenvectors: E[q, r] */
        memmove(E + (size_t)j * r, E + (size_t)j * q, (size_t)r * sizeof(double));
    if (fold_basis_from(f, E, feat, err)) goto done;
    la_gemm_tn(ntr, r, py, f->U, f->Ytr, f->Q); /* Q = U^T Ytr */
    rc = 0;
done:
    free(G); free(w); free(E);
    return rc;
}

/* The a-th value of the log-spaced ridge grid. */
static double grid_alpha(const enc_opts *o, int a) {
    return o->n_alpha > 1 ? o->alpha_min * pow(o->alpha_max / o->alpha_min, (double)a / (o->n_alpha - 1))
                          : o->alpha_min;
}

/* hd[i] = 1 / (1 - h_ii): the leave-one-out inflation of residual i at ridge alpha. */
static void loo_inflation(const ridge_fold *f, double alpha, double *hd) {
    int r = f->r;
    for (int i = 0; i < f->ntr; i++) {
        double h = 1.0 / f->ntr;
        for (int k = 0; k < r; k++) h += f->U[(size_t)i * r + k] * f->U[(size_t)i * r + k] * f->s2[k] / (f->s2[k] + alpha);
        double den = 1 - h;
        hd[i] = 1.0 / (den > 1e-12 ? den : 1e-12);
    }
}

/* Each unit's alpha: the grid value with the smallest leave-one-out error on the
 * training fold.  The search is the hot loop (one ntr x r x py product per alpha), so
 * it runs in float32 through the SIMD matmul kernel: it only has to rank alphas a
 * factor of 10 apart.  The final predictions are float64. */
static int choose_alpha(ridge_fold *f, const enc_opts *o, char *err) {
    int ntr = f->ntr, r = f->r, py = f->py;
    double *best = al_doubles((size_t)py), *loo = al_doubles((size_t)py), *hd = al_doubles((size_t)ntr);
    float *Uf = al_floats((size_t)ntr * r), *dqf = al_floats((size_t)r * py), *Rf = al_floats((size_t)ntr * py);
    int rc = -1;
    if (!best || !loo || !hd || !Uf || !dqf || !Rf) { tb_fail(err, "out of memory"); goto done; }
    for (size_t i = 0; i < (size_t)ntr * r; i++) Uf[i] = (float)f->U[i];
    for (int c = 0; c < py; c++) { best[c] = INFINITY; f->alpha[c] = grid_alpha(o, 0); }
    for (int a = 0; a < o->n_alpha; a++) {
        double alpha = grid_alpha(o, a);
        loo_inflation(f, alpha, hd);
        for (int k = 0; k < r; k++)
            for (int c = 0; c < py; c++) dqf[(size_t)k * py + c] = (float)(f->Q[(size_t)k * py + c] * f->s2[k] / (f->s2[k] + alpha));
        for (size_t i = 0; i < (size_t)ntr * py; i++) Rf[i] = (float)f->Ytr[i];
        /* residuals on the training fold: R = Ytr - U dq */
        tb_kern->sgemm(0, 0, ntr, py, r, -1.0f, Uf, r, dqf, py, 1.0f, Rf, py);
        for (int c = 0; c < py; c++) loo[c] = 0;
        for (int i = 0; i < ntr; i++) {
            const float *ri = Rf + (size_t)i * py;
            for (int c = 0; c < py; c++) { double e = ri[c] * hd[i]; loo[c] += e * e; }
        }
        for (int c = 0; c < py; c++)
            if (loo[c] < best[c]) { best[c] = loo[c]; f->alpha[c] = alpha; }
    }
    rc = 0;
done:
    free(best); free(loo); free(hd); free(Uf); free(dqf); free(Rf);
    return rc;
}

/* Held-out predictions with each unit's alpha into rows te of P[n, py]:
 * ym + Z F with F[k, c] = s_k Q[k, c] / (s_k^2 + alpha_c): one product (the division
 * per test row, component and unit was a fifth of the encoding's time). */
static int fold_predict(const ridge_fold *f, const int *te, double *P, char *err) {
    int r = f->r, py = f->py, nte = f->nte;
    double *F = al_doubles((size_t)r * py), *Pt = al_doubles((size_t)nte * py);
    if (!F || !Pt) { free(F); free(Pt); return tb_fail(err, "out of memory"); }
    for (int k = 0; k < r; k++) {
        double sk = sqrt(f->s2[k]);
        const double *qk = f->Q + (size_t)k * py;
        for (int c = 0; c < py; c++) F[(size_t)k * py + c] = sk * qk[c] / (f->s2[k] + f->alpha[c]);
    }
    la_gemm_nn(nte, r, py, f->Z, F, Pt);
    for (int i = 0; i < nte; i++) {
        double *pr = P + (size_t)te[i] * py;
        for (int c = 0; c < py; c++) pr[c] = f->ym[c] + Pt[(size_t)i * py + c];
    }
    free(F);
    free(Pt);
    return 0;
}

/* One outer fold: fit on rows tr[ntr], predict rows te[nte] into P (rows of the full
 * [n, py] prediction matrix). */
static int fit_fold(const double *X, int px, const double *Y, int py, const int *tr, int ntr,
                    const int *te, int nte, const enc_opts *o, double *P, char *err) {
    ridge_fold f = {.ntr = ntr, .nte = nte, .px = px, .py = py};
    f.Xtr = al_doubles((size_t)ntr * px);
    f.Xte = al_doubles((size_t)nte * px);
    f.Ytr = al_doubles((size_t)ntr * py);
    f.ym = al_doubles((size_t)py);
    f.alpha = al_doubles((size_t)py);
    double *mu = al_doubles((size_t)px), *sd = al_doubles((size_t)px);
    int rc = -1;
    if (!f.Xtr || !f.Xte || !f.Ytr || !f.ym || !f.alpha || !mu || !sd) { tb_fail(err, "out of memory"); goto done; }
    fold_data(&f, X, Y, tr, te, mu, sd);
    if (fold_basis(&f, err) || choose_alpha(&f, o, err) || fold_predict(&f, te, P, err)) goto done;
    rc = 0;
done:
    ridge_fold_free(&f);
    free(mu); free(sd);
    return rc;
}

/* ======================================================================== */
/* cross-validated encoding                                                 */
/* ======================================================================== */

typedef struct {
    const double *X; int px; const double *Y; int py, n;
    const int *order; const enc_opts *o; double *P;
    int *rc; char *errs;
} fold_ctx;

/* Fold f of k over n shuffled positions starts at f n / k (and ends where f + 1 starts). */
static int fold_start(int f, int n, int k) { return (int)((long long)f * n / k); }

/* Outer fold f: test rows = shuffled positions [fold_start(f), fold_start(f + 1)). */
static void fold_task(void *ctx, int f, int nt) {
    (void)nt;
    fold_ctx *c = ctx;
    int n = c->n, ntr = 0, nte = 0;
    int *tr = al_ints((size_t)n), *te = al_ints((size_t)n);
    char *err = c->errs + (size_t)f * TB_ERRLEN;
    c->rc[f] = -1;
    if (!tr || !te) { tb_fail(err, "out of memory"); goto done; }
    for (int i = 0; i < n; i++) {
        int in = i >= fold_start(f, n, c->o->folds) && i < fold_start(f + 1, n, c->o->folds);
        if (in) te[nte++] = c->order[i];
        else tr[ntr++] = c->order[i];
    }
    c->rc[f] = fit_fold(c->X, c->px, c->Y, c->py, tr, ntr, te, nte, c->o, c->P, err);
done:
    free(tr); free(te);
}

/* Every feature finite; every target column finite and not constant across stimuli. */
static int check_targets(const double *X, int n, int px, const double *Y, int py, char *err) {
    for (size_t i = 0; i < (size_t)n * px; i++)
        if (!isfinite(X[i])) return tb_fail(err, "encoding: features have a non-finite value");
    for (int c = 0; c < py; c++) {
        double lo = Y[c], hi = Y[c];
        for (int i = 0; i < n; i++) {
            double v = Y[(size_t)i * py + c];
            if (!isfinite(v)) return tb_fail(err, "encoding: target unit %d has a non-finite value", c);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (lo == hi) return tb_fail(err, "encoding: target unit %d is constant across stimuli", c);
    }
    return 0;
}

/* R^2 = 1 - SSE / SST of predictions p against truth y (m rows, stride st), SST about
 * y's own mean; NaN when y is constant. */
static double fold_r2(const double *p, const double *y, int m, int st) {
    double my = 0, sse = 0, sst = 0;
    for (int i = 0; i < m; i++) my += y[(size_t)i * st];
    my /= m;
    for (int i = 0; i < m; i++) {
        double e = y[(size_t)i * st] - p[(size_t)i * st], d = y[(size_t)i * st] - my;
        sse += e * e;
        sst += d * d;
    }
    return sst > 0 ? 1 - sse / sst : NAN;
}

/* Out-of-fold predictions P[n, py] of Y from X: the stimuli shuffled by the seed into
 * order[n], then cut into o->folds contiguous runs (fold_start).  The folds are
 * independent (each writes its own rows of P): one pool task each, so their
 * eigendecompositions run side by side; products inside run serially. */
static int cv_predict(const double *X, int n, int px, const double *Y, int py, const enc_opts *o, double *P,
                      int *order, char *err) {
    int *rcs = al_ints((size_t)o->folds);
    char *errs = calloc((size_t)o->folds, TB_ERRLEN);
    int rc = -1;
    if (!rcs || !errs) { tb_fail(err, "out of memory"); goto done; }
    for (int i = 0; i < n; i++) order[i] = i;
    tb_rng g;
    rng_stream(&g, o->seed, 0xF01D5);
    rng_shuffle_int(&g, order, n);
    fold_ctx fc = {X, px, Y, py, n, order, o, P, rcs, errs};
    tb_parallel(o->folds, fold_task, &fc);
    for (int f = 0; f < o->folds; f++)
        if (rcs[f]) { tb_fail(err, "%s", errs + (size_t)f * TB_ERRLEN); goto done; }
    rc = 0;
done:
    free(rcs); free(errs);
    return rc;
}

/* Per unit, the mean over folds of Pearson r (r_unit[py]) and, if r2_unit is not NULL,
 * of R^2 = 1 - SSE / SST (SST about the fold's own mean) between the held-out
 * predictions P and the truth Y, each fold scored on its own rows.  Folds where r is
 * undefined (a constant prediction) are left out of that unit's mean. */
static int score_folds(const double *P, const double *Y, int n, int py, const int *order, int folds,
                       double *r_unit, double *r2_unit, char *err) {
    double *Pf = al_doubles((size_t)n * py), *Yf = al_doubles((size_t)n * py);
    int *cnt = al_ints((size_t)py), rc = -1;
    if (!Pf || !Yf || !cnt) { tb_fail(err, "out of memory"); goto done; }
    for (int c = 0; c < py; c++) { r_unit[c] = 0; cnt[c] = 0; if (r2_unit) r2_unit[c] = 0; }
    for (int f = 0; f < folds; f++) {
        int lo = fold_start(f, n, folds), m = fold_start(f + 1, n, folds) - lo;
        for (int i = 0; i < m; i++) { /* the fold's rows, gathered */
            memcpy(Pf + (size_t)i * py, P + (size_t)order[lo + i] * py, (size_t)py * sizeof(double));
            memcpy(Yf + (size_t)i * py, Y + (size_t)order[lo + i] * py, (size_t)py * sizeof(double));
        }
        for (int c = 0; c < py; c++) {
            double r = al_pearson_strided(Pf + c, Yf + c, m, py, py);
            if (!isfinite(r)) continue;
            r_unit[c] += r;
            cnt[c]++;
        }
        for (int c = 0; r2_unit && c < py; c++) r2_unit[c] += fold_r2(Pf + c, Yf + c, m, py) / folds;
    }
    for (int c = 0; c < py; c++) r_unit[c] = cnt[c] ? r_unit[c] / cnt[c] : NAN;
    rc = 0;
done:
    free(Pf); free(Yf); free(cnt);
    return rc;
}

int al_encoding_cv(const double *X, int n, int px, const double *Y, int py, const enc_opts *o, double *r_unit,
                   double *r2_unit, char *err) {
    if (o->folds < 2) return tb_fail(err, "encoding: need at least 2 folds (got %d)", o->folds);
    if (n < 2 * o->folds) return tb_fail(err, "encoding: %d stimuli are too few for %d folds (need %d)", n, o->folds, 2 * o->folds);
    double *P = al_doubles((size_t)n * py);
    int *order = al_ints((size_t)n), rc = -1;
    if (!P || !order) { tb_fail(err, "out of memory"); goto done; }
    if (check_targets(X, n, px, Y, py, err) || cv_predict(X, n, px, Y, py, o, P, order, err)) goto done;
    if (score_folds(P, Y, n, py, order, o->folds, r_unit, r2_unit, err)) goto done;
    rc = 0;
done:
    free(P); free(order);
    return rc;
}

double *al_trial_mean(const double *Y_trials, int trials, int n, int py) {
    double *T = al_zeros((size_t)n * py);
    if (!T) return NULL;
    for (int t = 0; t < trials; t++)
        for (size_t i = 0; i < (size_t)n * py; i++) T[i] += Y_trials[(size_t)t * n * py + i] / trials;
    return T;
}

int encoding_fit(const double *X, int n, int px, const double *Y, const double *Y_trials,
                 int trials, int py, const enc_opts *o, enc_result *out, char *err) {
    memset(out, 0, sizeof *out);
    out->noise_ceiling = out->r_ceiled = NAN;
    out->ceiling_status = ENC_CEIL_NO_TRIALS;
    if (!Y && !Y_trials) return tb_fail(err, "encoding: no target");
    double *T = Y_trials ? al_trial_mean(Y_trials, trials, n, py) : NULL; /* the target: the trial mean */
    double *nc = al_doubles((size_t)py), *tmp = al_doubles((size_t)py);
    out->r_unit = al_doubles((size_t)py);
    out->py = py;
    int rc = -1;
    if ((Y_trials && !T) || !nc || !tmp || !out->r_unit) { tb_fail(err, "out of memory"); goto done; }
    if (al_encoding_cv(X, n, px, T ? T : Y, py, o, out->r_unit, NULL, err)) goto done;
    out->r_median = al_median_finite(out->r_unit, py, tmp);
    if (Y_trials && trials >= 2) {
        if (noise_ceiling(Y_trials, trials, n, py, o->n_splits, o->seed, nc, &out->noise_ceiling, err)) goto done;
        out->ceiling_status = out->noise_ceiling >= o->min_ceiling && out->noise_ceiling > 0 ? ENC_CEIL_OK : ENC_CEIL_TOO_LOW;
        if (out->ceiling_status == ENC_CEIL_OK) out->r_ceiled = out->r_median / out->noise_ceiling;
    }
    rc = 0;
done:
    free(T); free(nc); free(tmp);
    if (rc) enc_result_free(out);
    return rc;
}
