/* align_cca_cv.c -- cross-validated CCA, SVCCA and PWCCA, and when CCA can be trusted at
 * all (lesson 11).
 *
 * In-sample CCA is an optimiser: it finds the directions of X and Y that correlate
 * best on these stimuli, and with many units it finds them in noise (with as many units
 * as stimuli every canonical correlation is 1).  The honest score asks whether those
 * directions hold on stimuli they were not fitted on: split the stimuli in two halves,
 * fit on one, project the other half onto the fitted canonical weights and correlate
 * the projections; then swap the halves.  Averaged over 2 x splits folds.  Independent
 * data score ~0, a shared signal scores high.
 * When a side has at least half as many units as stimuli, the fitting half itself has
 * no more stimuli than units: the fit is exhausted by noise and nothing is left to
 * generalise, so the comparison is reported as not identifiable, with the reason,
 * instead of a number.
 */
#include "align_priv.h"
#include "linalg.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cca_cv_opts_default(cca_cv_opts *o) {
    o->splits = 5;
    o->seed = 0;
    o->svcca_keep = 0.99;
}

int cca_identifiable(int n, int px, int py, char *reason, size_t len) {
    int wide = px > py ? px : py;
    if (2 * (long)wide < n) {
        if (reason && len) reason[0] = 0;
        return 1;
    }
    if (reason && len)
        snprintf(reason, len,
                 "not identifiable: %s has %d units for %d stimuli (CCA needs fewer units than half the "
                 "stimuli on each side: it is fitted on half)", px >= py ? "A" : "B", wide, n);
    return 0;
}

/* Rows rows[m] of X[., p] into Xs[m, p]. */
static void gather_rows(const double *X, int p, const int *rows, int m, double *Xs) {
    for (int i = 0; i < m; i++) memcpy(Xs + (size_t)i * p, X + (size_t)rows[i] * p, (size_t)p * sizeof(double));
}

/* Z[m, k] = (X - 1 mu^T) P for X[m, p], P[p, k].  Xc[m, p] is scratch. */
static void project(const double *X, int m, int p, const double *mu, const double *P, int k, double *Xc, double *Z) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < p; j++) Xc[(size_t)i * p + j] = X[(size_t)i * p + j] - mu[j];
    la_gemm_nn(m, p, k, Xc, P, Z);
}

/* Fit CCA on (Xtr, Ytr), score (Xte, Yte): the held-out correlation of each pair of
 * canonical variates; *mean over the q pairs and, if pw != NULL, *pw weighted by the
 * PWCCA weights of the fit. */
static int fit_and_score(const double *Xtr, const double *Ytr, int ntr, const double *Xte, const double *Yte,
                         int nte, int px, int py, double *mean, double *pw, char *err) {
    al_cca_model m;
    if (al_cca_model_fit(Xtr, ntr, px, Ytr, py, &m, err)) return -1;
    int q = m.q, rc = -1;
    double *Xc = al_doubles((size_t)nte * px), *Yc = al_doubles((size_t)nte * py);
    double *U = al_doubles((size_t)nte * q), *V = al_doubles((size_t)nte * q);
    if (!Xc || !Yc || !U || !V) { tb_fail(err, "out of memory"); goto done; }
    project(Xte, nte, px, m.mx, m.A, q, Xc, U);
    project(Yte, nte, py, m.my, m.B, q, Yc, V);
    double s = 0, num = 0, den = 0;
    for (int c = 0; c < q; c++) {
        double r = al_pearson_strided(U + c, V + c, nte, q, q);
        if (!isfinite(r)) r = 0; /* a variate constant on the held-out half carries nothing */
        s += r;
        num += m.alpha[c] * r;
        den += m.alpha[c];
    }
    *mean = s / q;
    if (pw) *pw = den > 0 ? num / den : NAN;
    rc = 0;
done:
    al_cca_model_free(&m);
    free(Xc); free(Yc); free(U); free(V);
    return rc;
}

/* SVCCA's reduction of one side fitted on the training rows and applied to both:
 * Rtr[ntr, k], Rte[nte, k] (the caller's to free). */
static int reduce_side(const double *Xtr, int ntr, const double *Xte, int nte, int p, double keep, double **Rtr,
                       double **Rte, int *k, char *err) {
    double *mx = NULL, *P = NULL, *Xc = al_doubles((size_t)(ntr > nte ? ntr : nte) * p);
    int rc = -1;
    *Rtr = *Rte = NULL;
    if (!Xc) { tb_fail(err, "out of memory"); goto done; }
    if (al_svd_fit(Xtr, ntr, p, keep, &mx, &P, k, err)) goto done;
    *Rtr = al_doubles((size_t)ntr * *k);
    *Rte = al_doubles((size_t)nte * *k);
    if (!*Rtr || !*Rte) { tb_fail(err, "out of memory"); goto done; }
    project(Xtr, ntr, p, mx, P, *k, Xc, *Rtr);
    project(Xte, nte, p, mx, P, *k, Xc, *Rte);
    rc = 0;
done:
    free(Xc); free(mx); free(P);
    if (rc) { free(*Rtr); free(*Rte); *Rtr = *Rte = NULL; }
    return rc;
}

/* One fold: fit on rows tr[ntr], score rows te[nte]; s[0..2] = CCA, SVCCA, PWCCA. */
static int cv_fold(const double *X, int px, const double *Y, int py, const int *tr, int ntr, const int *te,
                   int nte, double keep, double s[3], char *err) {
    double *Xtr = al_doubles((size_t)ntr * px), *Ytr = al_doubles((size_t)ntr * py);
    double *Xte = al_doubles((size_t)nte * px), *Yte = al_doubles((size_t)nte * py);
    double *Rxtr = NULL, *Rxte = NULL, *Rytr = NULL, *Ryte = NULL;
    int kx = 0, ky = 0, rc = -1;
    if (!Xtr || !Ytr || !Xte || !Yte) { tb_fail(err, "out of memory"); goto done; }
    gather_rows(X, px, tr, ntr, Xtr);
    gather_rows(Y, py, tr, ntr, Ytr);
    gather_rows(X, px, te, nte, Xte);
    gather_rows(Y, py, te, nte, Yte);
    if (fit_and_score(Xtr, Ytr, ntr, Xte, Yte, nte, px, py, &s[0], &s[2], err)) goto done;
    if (reduce_side(Xtr, ntr, Xte, nte, px, keep, &Rxtr, &Rxte, &kx, err) ||
        reduce_side(Ytr, ntr, Yte, nte, py, keep, &Rytr, &Ryte, &ky, err))
        goto done;
    if (fit_and_score(Rxtr, Rytr, ntr, Rxte, Ryte, nte, kx, ky, &s[1], NULL, err)) goto done;
    rc = 0;
done:
    free(Xtr); free(Ytr); free(Xte); free(Yte);
    free(Rxtr); free(Rxte); free(Rytr); free(Ryte);
    return rc;
}

int cca_cv(const double *X, int n, int px, const double *Y, int py, const cca_cv_opts *o, cca_cv_result *r,
           char *err) {
    r->cca_mean = r->svcca = r->pwcca = NAN;
    r->identifiable = cca_identifiable(n, px, py, r->reason, sizeof r->reason);
    if (!r->identifiable) return 0;
    if (n < 6) return tb_fail(err, "cross-validated CCA needs at least 6 stimuli (got %d)", n);
    if (o->splits < 1) return tb_fail(err, "cross-validated CCA needs at least 1 split (got %d)", o->splits);
    int *order = al_ints((size_t)n), h = n / 2, rc = -1, folds = 0;
    double sum[3] = {0, 0, 0}, s[3];
    if (!order) return tb_fail(err, "out of memory");
    tb_rng g;
    rng_stream(&g, o->seed, 0xCC4CF);
    for (int sp = 0; sp < o->splits; sp++) {
        for (int i = 0; i < n; i++) order[i] = i;
        rng_shuffle_int(&g, order, n);
        /* fit on the first half, score the second; then the other way round */
        if (cv_fold(X, px, Y, py, order, h, order + h, n - h, o->svcca_keep, s, err)) goto done;
        for (int j = 0; j < 3; j++) sum[j] += s[j];
        if (cv_fold(X, px, Y, py, order + h, n - h, order, h, o->svcca_keep, s, err)) goto done;
        for (int j = 0; j < 3; j++) sum[j] += s[j];
        folds += 2;
    }
    r->cca_mean = sum[0] / folds;
    r->svcca = sum[1] / folds;
    r->pwcca = sum[2] / folds;
    rc = 0;
done:
    free(order);
    return rc;
}
