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
#include "kernels.h"
#include "linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One side of a CCA-family comparison: the centred data Xc[n,p] as its thin SVD
 *     Xc = U diag(s) V^T,   U[n, rank], s2 = s^2 descending, V[p, rank] (if asked for),
 * which CCA (whitening), SVCCA (the leading directions) and PWCCA all start from, so
 * al_cca_family computes it once.  Two routes to it, whichever matrix is smaller:
 *   p <= n  the scatter matrix Xc^T Xc [p,p] = V diag(s2) V^T, then U = Xc V / s;
 *   p >  n  the Gram matrix Xc Xc^T [n,n] = U diag(s2) U^T (the stimulus-space or
 *           kernel form: 20,000 channels x 100 stimuli need a 100 x 100 matrix, not a
 *           20,000 x 20,000 one), then V = Xc^T U / s.
 * rank counts the eigenvalues above RANK_TOL x the largest: at most min(p, n - 1).  tot
 * is the sum of all eigenvalues (the total variance) and mean_ev = tot / p the mean
 * eigenvalue of the scatter matrix, whichever route found them. */
typedef struct { int n, p, rank; double *Xc, *U, *s2, *V; double tot, mean_ev; } side_eig;

/* Eigenvalues of a scatter matrix below this fraction of the largest are rounding noise
 * (float64 products of a few thousand terms are good to ~1e-14 relative). */
#define RANK_TOL 1e-12

static void side_free(side_eig *s) {
    free(s->Xc); free(s->U); free(s->s2); free(s->V);
    memset(s, 0, sizeof *s);
}

/* Columns c < r of B[rows, ld] into A[rows, r], each multiplied by f[c] (f NULL: 1). */
static void take_columns(const double *B, int rows, int ld, int r, const double *f, double *A) {
    for (int i = 0; i < rows; i++)
        for (int c = 0; c < r; c++) A[(size_t)i * r + c] = B[(size_t)i * ld + c] * (f ? f[c] : 1.0);
}

/* The thin SVD of s->Xc from the eigendecomposition E[m,m], w[m] of its scatter (m = p)
 * or Gram (m = n) matrix; want_v: also V. */
static int side_vectors(side_eig *s, int m, const double *w, const double *E, int want_v, char *err) {
    int n = s->n, p = s->p, r = 0;
    for (int i = 0; i < m; i++) s->tot += w[i] > 0 ? w[i] : 0;
    s->mean_ev = s->tot / p;
    while (r < m && w[r] > RANK_TOL * w[0]) r++;
    s->rank = r;
    double *inv = al_doubles((size_t)r), *T = al_doubles((size_t)m * r);
    s->s2 = al_doubles((size_t)r);
    s->U = al_doubles((size_t)n * r);
    s->V = want_v ? al_doubles((size_t)p * r) : NULL;
    int rc = -1;
    if (!inv || !T || !s->s2 || !s->U || (want_v && !s->V)) { tb_fail(err, "out of memory"); goto done; }
    for (int c = 0; c < r; c++) { s->s2[c] = w[c]; inv[c] = 1.0 / sqrt(w[c]); }
    if (m == p) {             /* scatter: V = E[:, :r], U = Xc V / s */
        take_columns(E, p, p, r, NULL, T);
        if (want_v) memcpy(s->V, T, (size_t)p * r * sizeof(double));
        take_columns(E, p, p, r, inv, T);
        la_gemm_nn(n, p, r, s->Xc, T, s->U);
    } else {                  /* Gram: U = E[:, :r], V = Xc^T U / s */
        take_columns(E, n, n, r, NULL, s->U);
        take_columns(E, n, n, r, inv, T);
        if (want_v) la_gemm_tn(n, p, r, s->Xc, T, s->V);
    }
    rc = 0;
done:
    free(inv); free(T);
    return rc;
}

static int side_init(const double *X, int n, int p, int want_v, side_eig *s, char *err) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->p = p;
    int m = p <= n ? p : n; /* the smaller of the scatter and the Gram matrix */
    s->Xc = al_centred(X, n, p);
    double *C = al_doubles((size_t)m * m), *w = al_doubles((size_t)m), *E = al_doubles((size_t)m * m);
    int rc = -1;
    if (!s->Xc || !C || !w || !E) { tb_fail(err, "out of memory"); goto done; }
    if (m == p) la_gemm_tn(n, p, p, s->Xc, s->Xc, C);
    else la_gram_rows(n, p, s->Xc, C);
    if (la_eigh(m, C, w, E, err) || side_vectors(s, m, w, E, want_v, err)) goto done;
    rc = 0;
done:
    free(C); free(w); free(E);
    if (rc) side_free(s);
    return rc;
}

/* Both sides, or neither (on failure nothing is left to free). */
static int sides_init(const double *X, int n, int px, const double *Y, int py, int want_v, side_eig *x,
                      side_eig *y, char *err) {
    if (side_init(X, n, px, want_v, x, err)) return -1;
    if (side_init(Y, n, py, want_v, y, err)) { side_free(x); return -1; }
    return 0;
}

/* The whitening of a side with its ridge (1e-6 x the mean eigenvalue of its scatter):
 * (Xc^T Xc + ridge I)^(-1/2) Xc^T = V diag(dw) U^T with dw = s / sqrt(s2 + ridge); and
 * dinv = 1 / sqrt(s2 + ridge) for the weights on the units (may be NULL). */
static void side_whiten(const side_eig *s, double *dw, double *dinv) {
    double ridge = 1e-6 * (s->mean_ev > 0 ? s->mean_ev : 1.0);
    for (int c = 0; c < s->rank; c++) {
        double d = 1.0 / sqrt(s->s2[c] + ridge);
        dw[c] = sqrt(s->s2[c]) * d;
        if (dinv) dinv[c] = d;
    }
}

/* The canonical correlations are the singular values of
 *     M = Wx Cxy Wy = Vx diag(dwx) (Ux^T Uy) diag(dwy) Vy^T,
 * i.e. of the small rx x ry matrix Ms = diag(dwx) Ux^T Uy diag(dwy): rho[k]
 * (descending, k = min(px, py), the ones past min(rx, ry) exactly 0).  If P != NULL,
 * Ms's left singular vectors P[rx, rx] (columns; X's canonical variates are
 * Ux diag(dwx) P); if Ms_out != NULL, Ms itself (rx x ry, the caller's). */
static int cca_core(const side_eig *x, const side_eig *y, double *rho, double *P, double **Ms_out, char *err) {
    int n = x->n, rx = x->rank, ry = y->rank, k = x->p < y->p ? x->p : y->p, q = rx < ry ? rx : ry;
    if (n < 2) return tb_fail(err, "CCA needs at least 2 stimuli");
    double *Ms = al_doubles((size_t)rx * ry), *G = al_doubles((size_t)rx * rx), *ev = al_doubles((size_t)rx);
    double *dx = al_doubles((size_t)rx), *dy = al_doubles((size_t)ry);
    int rc = -1;
    if (!Ms || !G || !ev || !dx || !dy) { tb_fail(err, "out of memory"); goto done; }
    for (int i = 0; i < k; i++) rho[i] = 0;
    if (q < 1) { rc = 0; goto done; }
    side_whiten(x, dx, NULL);
    side_whiten(y, dy, NULL);
    la_gemm_tn(n, rx, ry, x->U, y->U, Ms);
    for (int i = 0; i < rx; i++)
        for (int j = 0; j < ry; j++) Ms[(size_t)i * ry + j] *= dx[i] * dy[j];
    la_gram_rows(rx, ry, Ms, G); /* Ms Ms^T: eigenvalues rho^2 */
    if (la_eigh(rx, G, ev, P, err)) goto done;
    for (int i = 0; i < q; i++) {
        double r2 = ev[i] > 0 ? ev[i] : 0;
        rho[i] = sqrt(r2) > 1 ? 1 : sqrt(r2);
    }
    if (Ms_out) { *Ms_out = Ms; Ms = NULL; }
    rc = 0;
done:
    free(Ms); free(G); free(ev); free(dx); free(dy);
    return rc;
}

/* ---- SVCCA ------------------------------------------------------------------------- */

/* How many leading directions hold `keep` of the variance (at least 1, at most rank). */
static int svd_keep(const side_eig *s, double keep) {
    double acc = 0;
    int kk = 0;
    while (kk < s->rank && acc < keep * s->tot) acc += s->s2[kk++];
    return kk;
}

/* SVCCA: the whitened leading directions of a side are Xc V_k diag(1/s_k) = U_k, so the
 * canonical correlations are the singular values of Ux_k^T Uy_k, i.e. the square roots
 * of the eigenvalues of its smaller Gram matrix.  The same relative ridge as cca()
 * (1e-6) shrinks them by 1/(1 + 1e-6). */
static int svcca_core(const side_eig *x, const side_eig *y, double keep, double *out, int *kx, int *ky, char *err) {
    int ax = svd_keep(x, keep), ay = svd_keep(y, keep), n = x->n, q = ax < ay ? ax : ay;
    double *Zx = al_doubles((size_t)n * ax), *Zy = al_doubles((size_t)n * ay), *w = al_doubles((size_t)q);
    int rc = -1;
    if (!Zx || !Zy || !w) { tb_fail(err, "out of memory"); goto done; }
    double sum = 0;
    if (q > 0) {
        take_columns(x->U, n, x->rank, ax, NULL, Zx);
        take_columns(y->U, n, y->rank, ay, NULL, Zy);
        if (al_cross_sv2(Zx, n, ax, Zy, ay, w, err)) goto done;
        for (int i = 0; i < q; i++) {
            double rho = sqrt(w[i] > 0 ? w[i] : 0) / (1.0 + 1e-6);
            sum += rho > 1 ? 1 : rho;
        }
    }
    *out = q > 0 ? sum / q : 0; /* a side without variance has no directions to compare */
    if (kx) *kx = ax;
    if (ky) *ky = ay;
    rc = 0;
done:
    free(Zx); free(Zy); free(w);
    return rc;
}

/* ---- PWCCA ---------------------------------------------------------------------------- */

/* Orthonormalise the columns of H[n,k] in place (the QR step of Morcos et al.'s code),
 * with Ht[k,n] holding the finished columns as rows: classical Gram-Schmidt applied
 * twice per column ("CGS2", as stable as the modified form), so that both projections
 * are matrix-vector products through the kernel table (h[n] is scratch, s[k] too). */
static void orthonormalise(double *H, double *Ht, int n, int k, double *h, double *s) {
    for (int c = 0; c < k; c++) {
        for (int i = 0; i < n; i++) h[i] = H[(size_t)i * k + c];
        for (int pass = 0; pass < 2 && c > 0; pass++) {
            tb_kern->dgemm4(1, n, c, h, 1, 0, H, (size_t)k, s, 0);  /* s = H[:, <c]^T h */
            for (int d = 0; d < c; d++) s[d] = -s[d];
            for (int d = 0; d < c; d++) tb_kern->daxpy(n, s[d], Ht + (size_t)d * n, h); /* h -= H[:, <c] s */
        }
        double nn = 0;
        for (int i = 0; i < n; i++) nn += h[i] * h[i];
        nn = nn > 0 ? 1.0 / sqrt(nn) : 0;
        for (int i = 0; i < n; i++) {
            h[i] *= nn;
            H[(size_t)i * k + c] = h[i];
        }
        memcpy(Ht + (size_t)c * n, h, (size_t)n * sizeof(double));
    }
}

/* PWCCA weights from X's centred data Xc[n,px] and its canonical variates H[n,k]
 * (overwritten): alpha_i = sum_j |<h_i, x_j>| with h_i the orthonormalised canonical
 * variates and x_j X's unit columns, into alpha[k]. */
static int pwcca_alpha(const double *Xc, int n, int px, double *H, int k, double *alpha, char *err) {
    double *Ht = al_doubles((size_t)n * k), *P = al_doubles((size_t)k * px);
    double *h = al_doubles((size_t)n), *s = al_doubles((size_t)k);
    int rc = -1;
    if (!Ht || !P || !h || !s) { tb_fail(err, "out of memory"); goto done; }
    orthonormalise(H, Ht, n, k, h, s);
    la_gemm_nn(k, n, px, Ht, Xc, P); /* P[c, j] = <h_c, x_j> */
    for (int c = 0; c < k; c++) {
        alpha[c] = 0;
        for (int j = 0; j < px; j++) alpha[c] += fabs(P[(size_t)c * px + j]);
    }
    rc = 0;
done:
    free(Ht); free(P); free(h); free(s);
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

/* X's first q canonical variates H[n,q] = Ux diag(dwx) P[:, :q] and their PWCCA
 * weights alpha[q]. */
static int variates_alpha(const side_eig *x, const double *P, int q, double *alpha, char *err) {
    int n = x->n, rx = x->rank;
    double *dw = al_doubles((size_t)rx), *Pd = al_doubles((size_t)rx * q), *H = al_doubles((size_t)n * q);
    int rc = -1;
    if (!dw || !Pd || !H) { tb_fail(err, "out of memory"); goto done; }
    side_whiten(x, dw, NULL);
    take_columns(P, rx, rx, q, NULL, Pd);
    for (int i = 0; i < rx; i++)
        for (int c = 0; c < q; c++) Pd[(size_t)i * q + c] *= dw[i];
    la_gemm_nn(n, rx, q, x->U, Pd, H);
    rc = pwcca_alpha(x->Xc, n, x->p, H, q, alpha, err);
done:
    free(dw); free(Pd); free(H);
    return rc;
}

/* Mean CCA and PWCCA from one canonical analysis (either output may be NULL).
 * Only q = min(rank X, rank Y) canonical variates exist; the others have rho = 0 (e.g.
 * every variate past n - 1 when a side has more units than stimuli), so PWCCA weighs
 * the first q only.  (The mean CCA keeps its definition: the mean of all min(px, py)
 * correlations.) */
static int cca_and_pwcca(const side_eig *x, const side_eig *y, double *mean, double *pw, char *err) {
    int k = x->p < y->p ? x->p : y->p, rx = x->rank, q = rx < y->rank ? rx : y->rank;
    double *rho = al_doubles((size_t)k), *P = pw ? al_doubles((size_t)rx * rx) : NULL, *alpha = al_doubles((size_t)k);
    int rc = -1;
    if (!rho || (pw && !P) || !alpha) { tb_fail(err, "out of memory"); goto done; }
    if (cca_core(x, y, rho, q > 0 ? P : NULL, NULL, err)) goto done;
    if (mean) {
        double s = 0;
        for (int i = 0; i < k; i++) s += rho[i];
        *mean = s / k;
    }
    if (!pw) { rc = 0; goto done; }
    if (q < 1) { tb_fail(err, "PWCCA: a side has no variance"); goto done; }
    if (variates_alpha(x, P, q, alpha, err) || pwcca_mean(alpha, rho, q, pw, err)) goto done;
    rc = 0;
done:
    free(rho); free(P); free(alpha);
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

/* Weights on a side's units for coefficients C[r, q] on its whitened directions:
 * W[p, q] = V diag(dinv) C (Xc W = U diag(dw) C, the variates). */
static int unit_weights(const side_eig *s, const double *C, int q, double *W, char *err) {
    int r = s->rank;
    double *dw = al_doubles((size_t)r), *dinv = al_doubles((size_t)r), *Cd = al_doubles((size_t)r * q);
    if (!dw || !dinv || !Cd) { free(dw); free(dinv); free(Cd); return tb_fail(err, "out of memory"); }
    side_whiten(s, dw, dinv);
    for (int i = 0; i < r; i++)
        for (int c = 0; c < q; c++) Cd[(size_t)i * q + c] = C[(size_t)i * q + c] * dinv[i];
    la_gemm_nn(s->p, r, q, s->V, Cd, W);
    free(dw); free(dinv); free(Cd);
    return 0;
}

/* A = Vx diag(dinv_x) P_q and B = Vy diag(dinv_y) Ms^T P_q (Y's paired weights, scaled
 * by rho, which a correlation ignores); alpha from X's variates. */
static int model_weights(const side_eig *x, const side_eig *y, const double *P, const double *Ms, al_cca_model *m,
                         char *err) {
    int q = m->q, rx = x->rank, ry = y->rank, rc = -1;
    double *Pq = al_doubles((size_t)rx * q), *Qm = al_doubles((size_t)ry * q);
    if (!Pq || !Qm) { tb_fail(err, "out of memory"); goto done; }
    take_columns(P, rx, rx, q, NULL, Pq);
    la_gemm_tn(rx, ry, q, Ms, Pq, Qm);
    if (unit_weights(x, Pq, q, m->A, err) || unit_weights(y, Qm, q, m->B, err)) goto done;
    rc = variates_alpha(x, P, q, m->alpha, err);
done:
    free(Pq); free(Qm);
    return rc;
}

int al_cca_model_fit(const double *X, int n, int px, const double *Y, int py, al_cca_model *m, char *err) {
    int k = px < py ? px : py, rc = -1;
    side_eig x, y;
    memset(m, 0, sizeof *m);
    if (sides_init(X, n, px, Y, py, 1, &x, &y, err)) return -1;
    int q = x.rank < y.rank ? x.rank : y.rank;
    double *rho = al_doubles((size_t)k), *P = al_doubles((size_t)x.rank * x.rank), *Ms = NULL;
    m->px = px; m->py = py; m->q = q;
    m->mx = al_doubles((size_t)px); m->my = al_doubles((size_t)py);
    m->A = al_doubles((size_t)px * q); m->B = al_doubles((size_t)py * q); m->alpha = al_doubles((size_t)q);
    if (!rho || !P || !m->mx || !m->my || !m->A || !m->B || !m->alpha) { tb_fail(err, "out of memory"); goto done; }
    if (q < 1) { tb_fail(err, "CCA: a side has no variance across stimuli"); goto done; }
    col_means(X, n, px, m->mx);
    col_means(Y, n, py, m->my);
    if (cca_core(&x, &y, rho, P, &Ms, err) || model_weights(&x, &y, P, Ms, m, err)) goto done;
    rc = 0;
done:
    free(rho); free(P); free(Ms);
    side_free(&x);
    side_free(&y);
    if (rc) al_cca_model_free(m);
    return rc;
}

int al_svd_fit(const double *X, int n, int p, double keep, double **mx, double **P, int *k, char *err) {
    side_eig s;
    *mx = *P = NULL;
    if (side_init(X, n, p, 1, &s, err)) return -1;
    int rc = -1, kk = svd_keep(&s, keep);
    *mx = al_doubles((size_t)p);
    double *inv = al_doubles((size_t)(kk > 0 ? kk : 1));
    *P = al_doubles((size_t)p * (kk > 0 ? kk : 1));
    if (!*mx || !inv || !*P) { tb_fail(err, "out of memory"); goto done; }
    if (kk < 1) { tb_fail(err, "SVCCA: a side has no variance across stimuli"); goto done; }
    col_means(X, n, p, *mx);
    for (int c = 0; c < kk; c++) inv[c] = 1.0 / sqrt(s.s2[c]);
    take_columns(s.V, p, s.rank, kk, inv, *P); /* V_k diag(1/s_k): Z = Xc P has Z^T Z = I */
    *k = kk;
    rc = 0;
done:
    free(inv);
    side_free(&s);
    if (rc) { free(*mx); free(*P); *mx = *P = NULL; }
    return rc;
}

/* ---- the public entry points ------------------------------------------------------------ */

int cca(const double *X, int n, int px, const double *Y, int py, double *rho, double *mean, char *err) {
    int k = px < py ? px : py;
    side_eig x, y;
    if (sides_init(X, n, px, Y, py, 0, &x, &y, err)) return -1;
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
    if (sides_init(X, n, px, Y, py, 0, &x, &y, err)) return -1;
    int rc = svcca_core(&x, &y, keep, out, kx, ky, err);
    side_free(&x);
    side_free(&y);
    return rc;
}

int pwcca(const double *X, int n, int px, const double *Y, int py, double *out, char *err) {
    side_eig x, y;
    if (sides_init(X, n, px, Y, py, 0, &x, &y, err)) return -1;
    int rc = cca_and_pwcca(&x, &y, NULL, out, err);
    side_free(&x);
    side_free(&y);
    return rc;
}

int al_cca_family(const double *X, int n, int px, const double *Y, int py, double keep,
                  double *cca_mean, double *pw, double *sv, char *err) {
    side_eig x, y; /* one eigendecomposition per side serves CCA, PWCCA and SVCCA */
    if (sides_init(X, n, px, Y, py, 0, &x, &y, err)) return -1;
    int rc = cca_and_pwcca(&x, &y, cca_mean, pw, err) || svcca_core(&x, &y, keep, sv, NULL, NULL, err) ? -1 : 0;
    side_free(&x);
    side_free(&y);
    return rc;
}
