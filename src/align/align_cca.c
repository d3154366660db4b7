/* align_cca.c -- canonical correlation analysis, SVCCA and PWCCA (lesson 11).
 *
 * CCA finds pairs of directions a_i (in X's units) and b_i (in Y's) whose projections
 * Xc a_i and Yc b_i correlate best, each pair uncorrelated with the previous ones:
 * the canonical correlations rho_1 >= rho_2 >= ... are the singular values of
 *     M = Cxx^(-1/2) Cxy Cyy^(-1/2).
 * It ignores every invertible linear map of either side -- which is also its weakness:
 * with as many units as stimuli it finds perfect correlations in pure noise.  SVCCA
 * (Raghu et al. 2017) first keeps each side's leading singular directions; PWCCA
 * (Morcos et al. 2018) weights each correlation by how much of X the variate explains.
 */
#include "align_priv.h"
#include "linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One side of a CCA-family comparison: the centred data Xc[n,p] and the eigen-
 * decomposition of its scatter matrix Xc^T Xc = V diag(w) V^T.  CCA (whitening) and
 * SVCCA (the leading directions) both start from it, so al_cca_family computes it once.
 * rank counts the eigenvalues above RANK_TOL x the largest: at most min(p, n - 1), and
 * less when units are linear combinations of each other. */
typedef struct { int n, p, rank; double *Xc, *w, *V; } side_eig;

/* Eigenvalues of a scatter matrix below this fraction of the largest are rounding noise
 * (float64 products of a few thousand terms are good to ~1e-14 relative). */
#define RANK_TOL 1e-12

static void side_free(side_eig *s) {
    free(s->Xc); free(s->w); free(s->V);
    memset(s, 0, sizeof *s);
}

static int side_init(const double *X, int n, int p, side_eig *s, char *err) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->p = p;
    s->Xc = al_centred(X, n, p);
    s->w = al_doubles((size_t)p);
    s->V = al_doubles((size_t)p * p);
    double *C = al_doubles((size_t)p * p);
    int rc = -1;
    if (!s->Xc || !s->w || !s->V || !C) { tb_fail(err, "out of memory"); goto done; }
    la_gemm_tn(n, p, p, s->Xc, s->Xc, C);
    rc = la_eigh(p, C, s->w, s->V, err);
    while (!rc && s->rank < p && s->w[s->rank] > RANK_TOL * s->w[0]) s->rank++;
done:
    free(C);
    if (rc) side_free(s);
    return rc;
}

/* Both sides, or neither (on failure nothing is left to free). */
static int sides_init(const double *X, int n, int px, const double *Y, int py, side_eig *x, side_eig *y,
                      char *err) {
    if (side_init(X, n, px, x, err)) return -1;
    if (side_init(Y, n, py, y, err)) { side_free(x); return -1; }
    return 0;
}

/* W = (C + ridge I)^(-1/2) = V diag(1/sqrt(w + ridge)) V^T; ridge = 1e-6 x mean eigenvalue. */
static int inv_sqrt(const side_eig *s, double *W, char *err) {
    int p = s->p;
    double mean = 0;
    for (int i = 0; i < p; i++) mean += s->w[i];
    mean /= p;
    double ridge = 1e-6 * (mean > 0 ? mean : 1.0);
    double *Vs = al_doubles((size_t)p * p), *Vt = al_doubles((size_t)p * p);
    int rc = -1;
    if (!Vs || !Vt) { tb_fail(err, "out of memory"); goto done; }
    for (int i = 0; i < p; i++)
        for (int k = 0; k < p; k++) {
            double ev = s->w[k] > 0 ? s->w[k] : 0;
            Vs[(size_t)i * p + k] = s->V[(size_t)i * p + k] / sqrt(ev + ridge);
            Vt[(size_t)k * p + i] = s->V[(size_t)i * p + k];
        }
    la_gemm_nn(p, p, p, Vs, Vt, W); /* (V diag) times V^T */
    rc = 0;
done:
    free(Vs); free(Vt);
    return rc;
}

/* Canonical correlations rho[k] (descending, k = min(px, py)) and, if A != NULL, the
 * canonical weight vectors of X as columns of A[px,k] (Xc A are the canonical variates);
 * if B != NULL (needs A) too, Y's paired weights B[py,k]: with M = Wx Cxy Wy = U S V^T,
 * a = Wx u and b = Wy v = Wy^2 Cyx a / s (scaled by s, which a correlation ignores). */
static int cca_core(const side_eig *x, const side_eig *y, double *rho, double *A, double *B, char *err) {
    int n = x->n, px = x->p, py = y->p, k = px < py ? px : py;
    if (n < 2) return tb_fail(err, "CCA needs at least 2 stimuli");
    double *Cxy = al_doubles((size_t)px * py), *Wx = al_doubles((size_t)px * px), *Wy = al_doubles((size_t)py * py);
    double *T = al_doubles((size_t)px * py), *M = al_doubles((size_t)px * py);
    double *G = al_doubles((size_t)px * px), *ev = al_doubles((size_t)px), *EV = A ? al_doubles((size_t)px * px) : NULL;
    int rc = -1;
    if (!Cxy || !Wx || !Wy || !T || !M || !G || !ev || (A && !EV)) { tb_fail(err, "out of memory"); goto done; }
    la_gemm_tn(n, px, py, x->Xc, y->Xc, Cxy);
    if (inv_sqrt(x, Wx, err) || inv_sqrt(y, Wy, err)) goto done;
    /* M = Wx Cxy Wy: its singular values are the canonical correlations */
    la_gemm_nn(px, px, py, Wx, Cxy, T);
    la_gemm_nn(px, py, py, T, Wy, M);
    /* G = M M^T (px x px): eigenvalues rho^2, eigenvectors u; X's weights a = Wx u */
    la_gram_rows(px, py, M, G);
    if (la_eigh(px, G, ev, EV, err)) goto done;
    for (int i = 0; i < k; i++) {
        double r2 = ev[i] > 0 ? ev[i] : 0;
        rho[i] = sqrt(r2) > 1 ? 1 : sqrt(r2);
    }
    if (A) { /* A = Wx EV[:, :k] */
        for (int j = 0; j < px; j++) memmove(EV + (size_t)j * k, EV + (size_t)j * px, (size_t)k * sizeof(double));
        la_gemm_nn(px, px, k, Wx, EV, A);
    }
    if (A && B) { /* B = Wy (Wy (Cxy^T A)), reusing T and M as [py, k] scratch */
        la_gemm_tn(px, py, k, Cxy, A, T);
        la_gemm_nn(py, py, k, Wy, T, M);
        la_gemm_nn(py, py, k, Wy, M, B);
    }
    rc = 0;
done:
    free(Cxy); free(Wx); free(Wy); free(T); free(M); free(G); free(ev); free(EV);
    return rc;
}

/* ---- SVCCA ------------------------------------------------------------------------- */

/* The leading directions holding `keep` of the variance, as a whitening projection
 * P[p, k] = V_k diag(1/sqrt(w_k)), so that Z = Xc P has Z^T Z = I.  *P is the caller's. */
static int svd_projection(const side_eig *s, double keep, double **P, int *k, char *err) {
    int p = s->p;
    double tot = 0, acc = 0;
    for (int i = 0; i < p; i++) tot += s->w[i] > 0 ? s->w[i] : 0;
    int kk = 0;
    while (kk < p && acc < keep * tot && s->w[kk] > RANK_TOL * s->w[0]) { acc += s->w[kk]; kk++; }
    if (kk < 1) kk = 1;
    double *Vk = al_doubles((size_t)p * kk);
    if (!Vk) return tb_fail(err, "out of memory");
    for (int j = 0; j < p; j++)
        for (int c = 0; c < kk; c++) /* V[:, :kk] diag(1/sqrt(w)), packed */
            Vk[(size_t)j * kk + c] = s->V[(size_t)j * p + c] / sqrt(s->w[c] > 0 ? s->w[c] : 1);
    *P = Vk;
    *k = kk;
    return 0;
}

/* Z = Xc P [n, k], the whitened leading directions.  *Z is the caller's to free. */
static int svd_reduce(const side_eig *s, double keep, double **Z, int *k, char *err) {
    double *P = NULL, *R = NULL;
    if (svd_projection(s, keep, &P, k, err)) return -1;
    R = al_doubles((size_t)s->n * *k);
    if (!R) { free(P); return tb_fail(err, "out of memory"); }
    la_gemm_nn(s->n, s->p, *k, s->Xc, P, R);
    free(P);
    *Z = R;
    return 0;
}

/* SVCCA: with both sides whitened, the canonical correlations are the singular values
 * of Zx^T Zy, i.e. the square roots of the eigenvalues of its smaller Gram matrix.  The
 * same relative ridge as cca() (1e-6) shrinks them by 1/(1 + 1e-6). */
static int svcca_core(const side_eig *x, const side_eig *y, double keep, double *out, int *kx, int *ky, char *err) {
    double *Zx = NULL, *Zy = NULL, *w = NULL;
    int ax = 0, ay = 0, rc = -1;
    if (svd_reduce(x, keep, &Zx, &ax, err) || svd_reduce(y, keep, &Zy, &ay, err)) goto done;
    int q = ax < ay ? ax : ay;
    w = al_doubles((size_t)q);
    if (!w) { tb_fail(err, "out of memory"); goto done; }
    if (al_cross_sv2(Zx, x->n, ax, Zy, ay, w, err)) goto done;
    double s = 0;
    for (int i = 0; i < q; i++) {
        double rho = sqrt(w[i] > 0 ? w[i] : 0) / (1.0 + 1e-6);
        s += rho > 1 ? 1 : rho;
    }
    *out = s / q;
    if (kx) *kx = ax;
    if (ky) *ky = ay;
    rc = 0;
done:
    free(Zx); free(Zy); free(w);
    return rc;
}

/* ---- PWCCA ---------------------------------------------------------------------------- */

/* PWCCA weights from X's centred data Xc[n,px] and its canonical weights A[px,k]:
 * alpha_i = sum_j |<h_i, x_j>| with h_i the orthonormalised canonical variates (the QR
 * step of Morcos et al.'s code) and x_j X's unit columns, into alpha[k]. */
static int pwcca_alpha(const double *Xc, int n, int px, const double *A, int k, double *alpha, char *err) {
    double *H = al_doubles((size_t)n * k), *Ht = al_doubles((size_t)n * k), *P = al_doubles((size_t)k * px);
    int rc = -1;
    if (!H || !Ht || !P) { tb_fail(err, "out of memory"); goto done; }
    la_gemm_nn(n, px, k, Xc, A, H); /* canonical variates as columns of H[n,k] */
    for (int i = 0; i < n; i++)      /* ... stored as rows of Ht[k,n] so that each is contiguous */
        for (int c = 0; c < k; c++) Ht[(size_t)c * n + i] = H[(size_t)i * k + c];
    for (int c = 0; c < k; c++) {    /* modified Gram-Schmidt */
        double *hc = Ht + (size_t)c * n;
        for (int d = 0; d < c; d++) {
            const double *hd = Ht + (size_t)d * n;
            double s = 0;
            for (int i = 0; i < n; i++) s += hc[i] * hd[i];
            for (int i = 0; i < n; i++) hc[i] -= s * hd[i];
        }
        double nn = 0;
        for (int i = 0; i < n; i++) nn += hc[i] * hc[i];
        nn = nn > 0 ? 1.0 / sqrt(nn) : 0;
        for (int i = 0; i < n; i++) hc[i] *= nn;
    }
    la_gemm_nn(k, n, px, Ht, Xc, P); /* P[c, j] = <h_c, x_j> */
    for (int c = 0; c < k; c++) {
        alpha[c] = 0;
        for (int j = 0; j < px; j++) alpha[c] += fabs(P[(size_t)c * px + j]);
    }
    rc = 0;
done:
    free(H); free(Ht); free(P);
    return rc;
}

/* sum_i alpha_i rho_i / sum_i alpha_i. */
static int pwcca_mean(const double *alpha, const double *rho, int k, double *out, char *err) {
    double num = 0, den = 0;
    for (int c = 0; c < k; c++) {
        num += alpha[c] * rho[c];
        den += alpha[c];
    }
    if (!(den > 0)) return tb_fail(err, "PWCCA: X has no variance");
    *out = num / den;
    return 0;
}

/* Mean CCA and PWCCA from one canonical analysis (either output may be NULL).
 * Only q = min(rank X, rank Y) canonical variates exist; the others are directions of
 * rounding noise with rho ~ 0 (e.g. every variate past n - 1 when a side has more units
 * than stimuli).  Gram-Schmidt would scale them up to unit length and hand them weight,
 * so PWCCA weighs the first q only.  (The mean CCA keeps its definition: the mean of
 * all min(px, py) correlations.) */
static int cca_and_pwcca(const side_eig *x, const side_eig *y, double *mean, double *pw, char *err) {
    int px = x->p, k = px < y->p ? px : y->p, q = x->rank < y->rank ? x->rank : y->rank;
    double *rho = al_doubles((size_t)k), *A = al_doubles((size_t)px * k), *alpha = al_doubles((size_t)k);
    int rc = -1;
    if (!rho || !A || !alpha) { tb_fail(err, "out of memory"); goto done; }
    if (cca_core(x, y, rho, pw ? A : NULL, NULL, err)) goto done;
    if (mean) {
        double s = 0;
        for (int i = 0; i < k; i++) s += rho[i];
        *mean = s / k;
    }
    if (!pw) { rc = 0; goto done; }
    if (q < 1) { tb_fail(err, "PWCCA: a side has no variance"); goto done; }
    for (int j = 0; j < px; j++) /* keep the first q columns of A[px, k]: A[px, q] */
        memmove(A + (size_t)j * q, A + (size_t)j * k, (size_t)q * sizeof(double));
    if (pwcca_alpha(x->Xc, x->n, px, A, q, alpha, err) || pwcca_mean(alpha, rho, q, pw, err)) goto done;
    rc = 0;
done:
    free(rho); free(A); free(alpha);
    return rc;
}

/* ---- fitted on some stimuli, applied to others (align_cca_cv.c) ---------------------- */

void al_cca_model_free(al_cca_model *m) {
    free(m->mx); free(m->my); free(m->A); free(m->B); free(m->alpha);
    memset(m, 0, sizeof *m);
}

/* Column means of X[n,p] into mu[p]. */
static void col_means(const double *X, int n, int p, double *mu) {
    memset(mu, 0, (size_t)p * sizeof(double));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) mu[j] += X[(size_t)i * p + j];
    for (int j = 0; j < p; j++) mu[j] /= n;
}

int al_cca_model_fit(const double *X, int n, int px, const double *Y, int py, al_cca_model *m, char *err) {
    int k = px < py ? px : py, rc = -1;
    side_eig x, y;
    memset(m, 0, sizeof *m);
    if (sides_init(X, n, px, Y, py, &x, &y, err)) return -1;
    int q = x.rank < y.rank ? x.rank : y.rank;
    double *rho = al_doubles((size_t)k);
    m->px = px; m->py = py; m->q = q;
    m->mx = al_doubles((size_t)px); m->my = al_doubles((size_t)py);
    m->A = al_doubles((size_t)px * k); m->B = al_doubles((size_t)py * k); m->alpha = al_doubles((size_t)k);
    if (!rho || !m->mx || !m->my || !m->A || !m->B || !m->alpha) { tb_fail(err, "out of memory"); goto done; }
    if (q < 1) { tb_fail(err, "CCA: a side has no variance across stimuli"); goto done; }
    col_means(X, n, px, m->mx);
    col_means(Y, n, py, m->my);
    if (cca_core(&x, &y, rho, m->A, m->B, err)) goto done;
    for (int j = 0; j < px; j++) memmove(m->A + (size_t)j * q, m->A + (size_t)j * k, (size_t)q * sizeof(double));
    for (int j = 0; j < py; j++) memmove(m->B + (size_t)j * q, m->B + (size_t)j * k, (size_t)q * sizeof(double));
    if (pwcca_alpha(x.Xc, n, px, m->A, q, m->alpha, err)) goto done;
    rc = 0;
done:
    free(rho);
    side_free(&x);
    side_free(&y);
    if (rc) al_cca_model_free(m);
    return rc;
}

int al_svd_fit(const double *X, int n, int p, double keep, double **mx, double **P, int *k, char *err) {
    side_eig s;
    *mx = *P = NULL;
    if (side_init(X, n, p, &s, err)) return -1;
    int rc = -1;
    *mx = al_doubles((size_t)p);
    if (!*mx) { tb_fail(err, "out of memory"); goto done; }
    col_means(X, n, p, *mx);
    if (svd_projection(&s, keep, P, k, err)) goto done;
    rc = 0;
done:
    side_free(&s);
    if (rc) { free(*mx); *mx = NULL; }
    return rc;
}

/* ---- the public entry points ------------------------------------------------------------ */

int cca(const double *X, int n, int px, const double *Y, int py, double *rho, double *mean, char *err) {
    int k = px < py ? px : py;
    side_eig x, y;
    if (sides_init(X, n, px, Y, py, &x, &y, err)) return -1;
    double *r = al_doubles((size_t)k);
    int rc = -1;
    if (!r) { tb_fail(err, "out of memory"); goto done; }
    if (cca_core(&x, &y, r, NULL, NULL, err)) goto done;
    double s = 0;
    for (int i = 0; i < k; i++) s += r[i];
    if (mean) *mean = s / k;
    if (rho) memcpy(rho, r, (size_t)k * sizeof(double));
    rc = 0;
done:
    free(r);
    side_free(&x);
    side_free(&y);
    return rc;
}

int svcca(const double *X, int n, int px, const double *Y, int py, double keep, double *out, int *kx,
          int *ky, char *err) {
    side_eig x, y;
    if (sides_init(X, n, px, Y, py, &x, &y, err)) return -1;
    int rc = svcca_core(&x, &y, keep, out, kx, ky, err);
    side_free(&x);
    side_free(&y);
    return rc;
}

int pwcca(const double *X, int n, int px, const double *Y, int py, double *out, char *err) {
    side_eig x, y;
    if (sides_init(X, n, px, Y, py, &x, &y, err)) return -1;
    int rc = cca_and_pwcca(&x, &y, NULL, out, err);
    side_free(&x);
    side_free(&y);
    return rc;
}

int al_cca_family(const double *X, int n, int px, const double *Y, int py, double keep,
                  double *cca_mean, double *pw, double *sv, char *err) {
    side_eig x, y; /* one eigendecomposition per side serves CCA, PWCCA and SVCCA */
    if (sides_init(X, n, px, Y, py, &x, &y, err)) return -1;
    int rc = cca_and_pwcca(&x, &y, cca_mean, pw, err) || svcca_core(&x, &y, keep, sv, NULL, NULL, err) ? -1 : 0;
    side_free(&x);
    side_free(&y);
    return rc;
}
