/* align.c -- CKA, the CCA family, Procrustes shape distances, and align_all (lesson 11).
 *
 * What each one ignores is the lesson: CKA ignores rotations and isotropic scaling of
 * either side (it compares Gram matrices); CCA ignores every invertible linear map (so
 * with as many units as stimuli it finds perfect correlations in noise); Procrustes
 * ignores rotations and scale but is a true distance (triangle inequality), so it can
 * be averaged and clustered.
 */
#include "align.h"
#include "linalg.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *centred_copy(const double *X, int n, int p) {
    double *Z = malloc((size_t)n * p * sizeof(double));
    if (!Z) return NULL;
    memcpy(Z, X, (size_t)n * p * sizeof(double));
    la_center_columns(n, p, Z);
    return Z;
}

static double frob2(const double *A, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += A[i] * A[i];
    return s;
}

/* ======================================================================== */
/* CKA                                                                      */
/* ======================================================================== */

/* HSIC-style inner product <HKH, HLH>_F of two double-centred Gram matrices. */
static void double_centre(double *K, int n) {
    double *row = calloc((size_t)n, sizeof(double)), all = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) row[i] += K[(size_t)i * n + j];
        all += row[i];
        row[i] /= n;
    }
    all /= (double)n * n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) K[(size_t)i * n + j] += all - row[i] - row[j];
    free(row);
}

static double dotv(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

int cka_linear(const double *X, int n, int px, const double *Y, int py, double *out, char *err) {
    if (n < 2) return tb_fail(err, "CKA needs at least 2 stimuli");
    double *Xc = centred_copy(X, n, px), *Yc = centred_copy(Y, n, py);
    double num, dx, dy;
    if (!Xc || !Yc) { free(Xc); free(Yc); return tb_fail(err, "out of memory"); }
    if ((double)px * py + (double)px * px + (double)py * py <= 3.0 * n * n) {
        /* feature space: ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) */
        double *C = malloc((size_t)px * py * sizeof(double)), *Cx = malloc((size_t)px * px * sizeof(double)),
               *Cy = malloc((size_t)py * py * sizeof(double));
        la_gemm_tn(n, px, py, Xc, Yc, C);
        la_gemm_tn(n, px, px, Xc, Xc, Cx);
        la_gemm_tn(n, py, py, Yc, Yc, Cy);
        num = frob2(C, (size_t)px * py);
        dx = sqrt(frob2(Cx, (size_t)px * px));
        dy = sqrt(frob2(Cy, (size_t)py * py));
        free(C); free(Cx); free(Cy);
    } else {
        /* Gram space (n < p): the same number as tr(Kx Ky) / (||Kx|| ||Ky||), K = Z Z^T */
        double *Kx = malloc((size_t)n * n * sizeof(double)), *Ky = malloc((size_t)n * n * sizeof(double));
        la_gram_rows(n, px, Xc, Kx);
        la_gram_rows(n, py, Yc, Ky);
        num = dotv(Kx, Ky, (size_t)n * n);
        dx = sqrt(frob2(Kx, (size_t)n * n));
        dy = sqrt(frob2(Ky, (size_t)n * n));
        free(Kx); free(Ky);
    }
    free(Xc); free(Yc);
    if (!(dx > 0) || !(dy > 0)) return tb_fail(err, "CKA: one side has no variance across stimuli");
    *out = num / (dx * dy);
    return 0;
}

/* k-th smallest of v[N] (0-based) by quickselect (Hoare partition, middle pivot):
 * O(N) on average, where sorting a million squared distances would cost 10x more. */
static double select_kth(double *v, size_t N, size_t k) {
    size_t lo = 0, hi = N - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                double t = v[i]; v[i] = v[j]; v[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return v[k];
}

/* Median of v[N] (the mean of the two middle values when N is even); reorders v. */
static double median_inplace(double *v, size_t N) {
    double hi = select_kth(v, N, N / 2);
    if (N % 2) return hi;
    double lo = v[0]; /* after selection, v[0 .. N/2-1] are all <= v[N/2]: take their max */
    for (size_t i = 1; i < N / 2; i++) lo = v[i] > lo ? v[i] : lo;
    return 0.5 * (lo + hi);
}

/* Gaussian Gram matrix with the median heuristic, double-centred, into K[n,n]. */
static int rbf_gram(const double *X, int n, int p, double f, double *K, char *err) {
    double *Xc = centred_copy(X, n, p), *sq = malloc((size_t)n * n * sizeof(double));
    if (!Xc || !sq) { free(Xc); free(sq); return tb_fail(err, "out of memory"); }
    la_gram_rows(n, p, Xc, K);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double d = K[(size_t)i * n + i] + K[(size_t)j * n + j] - 2 * K[(size_t)i * n + j];
            sq[(size_t)i * n + j] = d > 0 ? d : 0;
        }
    double *tmp = malloc((size_t)n * n * sizeof(double));
    memcpy(tmp, sq, (size_t)n * n * sizeof(double));
    size_t N = (size_t)n * n;
    double med = median_inplace(tmp, N);
    free(tmp);
    free(Xc);
    if (!(med > 0)) { free(sq); return tb_fail(err, "CKA (RBF): median squared distance is 0 (most stimuli identical)"); }
    double s = 2.0 * f * f * med;
    for (size_t i = 0; i < N; i++) K[i] = exp(-sq[i] / s);
    free(sq);
    double_centre(K, n);
    return 0;
}

int cka_rbf(const double *X, int n, int px, const double *Y, int py, double f, double *out, char *err) {
    if (n < 2) return tb_fail(err, "CKA needs at least 2 stimuli");
    if (!(f > 0)) return tb_fail(err, "CKA (RBF): bandwidth factor must be > 0");
    double *K = malloc((size_t)n * n * sizeof(double)), *L = malloc((size_t)n * n * sizeof(double));
    if (!K || !L) { free(K); free(L); return tb_fail(err, "out of memory"); }
    int rc = rbf_gram(X, n, px, f, K, err) || rbf_gram(Y, n, py, f, L, err);
    if (!rc) {
        size_t N = (size_t)n * n;
        double kl = dotv(K, L, N), kk = dotv(K, K, N), ll = dotv(L, L, N);
        if (!(kk > 0) || !(ll > 0)) rc = tb_fail(err, "CKA (RBF): a kernel matrix is constant");
        else *out = kl / sqrt(kk * ll);
    }
    free(K);
    free(L);
    return rc ? -1 : 0;
}

/* Unbiased centring of a Gram matrix (Kornblith et al.'s center_gram(unbiased=True)):
 * zero the diagonal, subtract row/column means computed with n-2, zero the diagonal
 * again.  <center(K), center(L)>_F is then (n(n-3)) x the unbiased HSIC estimator. */
static void unbiased_centre(double *K, int n) {
    double *mean = calloc((size_t)n, sizeof(double)), tot = 0;
    for (int i = 0; i < n; i++) K[(size_t)i * n + i] = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) mean[j] += K[(size_t)i * n + j];
    for (int j = 0; j < n; j++) { mean[j] /= (n - 2); tot += mean[j]; }
    for (int j = 0; j < n; j++) mean[j] -= tot / (2.0 * (n - 1));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) K[(size_t)i * n + j] -= mean[i] + mean[j];
    for (int i = 0; i < n; i++) K[(size_t)i * n + i] = 0;
    free(mean);
}

int cka_linear_debiased(const double *X, int n, int px, const double *Y, int py, double *out, char *err) {
    if (n < 4) return tb_fail(err, "debiased CKA needs at least 4 stimuli (got %d)", n);
    double *Xc = centred_copy(X, n, px), *Yc = centred_copy(Y, n, py);
    double *K = malloc((size_t)n * n * sizeof(double)), *L = malloc((size_t)n * n * sizeof(double));
    if (!Xc || !Yc || !K || !L) { free(Xc); free(Yc); free(K); free(L); return tb_fail(err, "out of memory"); }
    la_gram_rows(n, px, Xc, K);
    la_gram_rows(n, py, Yc, L);
    unbiased_centre(K, n);
    unbiased_centre(L, n);
    size_t N = (size_t)n * n;
    double kl = dotv(K, L, N), kk = dotv(K, K, N), ll = dotv(L, L, N);
    free(Xc); free(Yc); free(K); free(L);
    /* the unbiased self-terms can be <= 0 for degenerate inputs: guard the root */
    if (!(kk > 0) || !(ll > 0)) return tb_fail(err, "debiased CKA: an unbiased self-similarity is <= 0 (too few or degenerate stimuli)");
    *out = kl / sqrt(kk * ll);
    return 0;
}

/* ======================================================================== */
/* CCA                                                                      */
/* ======================================================================== */

/* One side of a CCA-family comparison: the centred data Xc[n,p] and the eigen-
 * decomposition of its scatter matrix Xc^T Xc = V diag(w) V^T.  CCA (whitening) and
 * SVCCA (the leading directions) both start from it, so align_all computes it once. */
typedef struct { int n, p; double *Xc, *w, *V; } side_eig;

static void side_free(side_eig *s) {
    free(s->Xc); free(s->w); free(s->V);
    memset(s, 0, sizeof *s);
}

static int side_init(const double *X, int n, int p, side_eig *s, char *err) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->p = p;
    s->Xc = centred_copy(X, n, p);
    s->w = malloc((size_t)p * 8);
    s->V = malloc((size_t)p * p * 8);
    double *C = malloc((size_t)p * p * 8);
    if (!s->Xc || !s->w || !s->V || !C) { free(C); side_free(s); return tb_fail(err, "out of memory"); }
    la_gemm_tn(n, p, p, s->Xc, s->Xc, C);
    int rc = la_eigh(p, C, s->w, s->V, err);
    free(C);
    if (rc) side_free(s);
    return rc;
}

/* W = (C + ridge I)^(-1/2) = V diag(1/sqrt(w + ridge)) V^T; ridge = 1e-6 x mean eigenvalue. */
static int inv_sqrt(const side_eig *s, double *W, char *err) {
    int p = s->p;
    double mean = 0;
    for (int i = 0; i < p; i++) mean += s->w[i];
    mean /= p;
    double ridge = 1e-6 * (mean > 0 ? mean : 1.0);
    double *Vs = malloc((size_t)p * p * sizeof(double)), *Vt = malloc((size_t)p * p * sizeof(double));
    if (!Vs || !Vt) { free(Vs); free(Vt); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < p; i++)
        for (int k = 0; k < p; k++) {
            double ev = s->w[k] > 0 ? s->w[k] : 0;
            Vs[(size_t)i * p + k] = s->V[(size_t)i * p + k] / sqrt(ev + ridge);
            Vt[(size_t)k * p + i] = s->V[(size_t)i * p + k];
        }
    la_gemm_nn(p, p, p, Vs, Vt, W); /* (V diag) times V^T */
    free(Vs);
    free(Vt);
    return 0;
}

/* Canonical correlations rho[k] (descending, k = min(px, py)) and, if A != NULL, the
 * canonical weight vectors of X as columns of A[px,k] (Xc A are the canonical variates). */
static int cca_core(const side_eig *x, const side_eig *y, double *rho, double *A, char *err) {
    int n = x->n, px = x->p, py = y->p, k = px < py ? px : py;
    if (n < 2) return tb_fail(err, "CCA needs at least 2 stimuli");
    double *Cxy = malloc((size_t)px * py * 8), *Wx = malloc((size_t)px * px * 8), *Wy = malloc((size_t)py * py * 8);
    double *T = malloc((size_t)px * py * 8), *M = malloc((size_t)px * py * 8);
    double *G = malloc((size_t)px * px * 8), *ev = malloc((size_t)px * 8), *EV = A ? malloc((size_t)px * px * 8) : NULL;
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
    rc = 0;
done:
    free(Cxy); free(Wx); free(Wy); free(T); free(M); free(G); free(ev); free(EV);
    return rc;
}

int cca(const double *X, int n, int px, const double *Y, int py, double *rho, double *mean, char *err) {
    int k = px < py ? px : py;
    side_eig x, y;
    if (side_init(X, n, px, &x, err)) return -1;
    if (side_init(Y, n, py, &y, err)) { side_free(&x); return -1; }
    double *r = malloc((size_t)k * sizeof(double));
    int rc = r ? cca_core(&x, &y, r, NULL, err) : tb_fail(err, "out of memory");
    if (!rc) {
        double s = 0;
        for (int i = 0; i < k; i++) s += r[i];
        if (mean) *mean = s / k;
        if (rho) memcpy(rho, r, (size_t)k * sizeof(double));
    }
    free(r);
    side_free(&x);
    side_free(&y);
    return rc;
}

/* The leading directions holding `keep` of the variance, WHITENED:
 * Z = Xc V_k diag(1/sqrt(w_k)) [n, k], so that Z^T Z = I. */
static int svd_reduce(const side_eig *s, double keep, double **Z, int *k, char *err) {
    int n = s->n, p = s->p;
    double tot = 0, acc = 0;
    for (int i = 0; i < p; i++) tot += s->w[i] > 0 ? s->w[i] : 0;
    int kk = 0;
    while (kk < p && acc < keep * tot && s->w[kk] > 1e-12 * s->w[0]) { acc += s->w[kk]; kk++; }
    if (kk < 1) kk = 1;
    double *R = malloc((size_t)n * kk * 8), *Vk = malloc((size_t)p * kk * 8);
    if (!R || !Vk) { free(R); free(Vk); return tb_fail(err, "out of memory"); }
    for (int j = 0; j < p; j++)
        for (int c = 0; c < kk; c++) /* V[:, :kk] diag(1/sqrt(w)), packed */
            Vk[(size_t)j * kk + c] = s->V[(size_t)j * p + c] / sqrt(s->w[c] > 0 ? s->w[c] : 1);
    la_gemm_nn(n, p, kk, s->Xc, Vk, R);
    free(Vk);
    *Z = R;
    *k = kk;
    return 0;
}

/* SVCCA: with both sides whitened, the canonical correlations are the singular values
 * of Zx^T Zy, i.e. the square roots of the eigenvalues of its smaller Gram matrix.  The
 * same relative ridge as cca() (1e-6) shrinks them by 1/(1 + 1e-6). */
static int svcca_core(const side_eig *x, const side_eig *y, double keep, double *out, int *kx, int *ky, char *err) {
    double *Zx = NULL, *Zy = NULL;
    int ax, ay, n = x->n;
    if (svd_reduce(x, keep, &Zx, &ax, err)) return -1;
    if (svd_reduce(y, keep, &Zy, &ay, err)) { free(Zx); return -1; }
    int q = ax < ay ? ax : ay, rc = -1;
    double *M = malloc((size_t)ax * ay * 8), *G = malloc((size_t)q * q * 8), *w = malloc((size_t)q * 8);
    if (!M || !G || !w) tb_fail(err, "out of memory");
    else {
        la_gemm_tn(n, ax, ay, Zx, Zy, M);
        if (ax <= ay) la_gram_rows(ax, ay, M, G);
        else la_gemm_tn(ax, ay, ay, M, M, G);
        if (!la_eigh(q, G, w, NULL, err)) {
            double s = 0;
            for (int i = 0; i < q; i++) {
                double rho = sqrt(w[i] > 0 ? w[i] : 0) / (1.0 + 1e-6);
                s += rho > 1 ? 1 : rho;
            }
            *out = s / q;
            rc = 0;
        }
    }
    if (kx) *kx = ax;
    if (ky) *ky = ay;
    free(Zx); free(Zy); free(M); free(G); free(w);
    return rc;
}

int svcca(const double *X, int n, int px, const double *Y, int py, double keep, double *out, int *kx,
          int *ky, char *err) {
    side_eig x, y;
    if (side_init(X, n, px, &x, err)) return -1;
    if (side_init(Y, n, py, &y, err)) { side_free(&x); return -1; }
    int rc = svcca_core(&x, &y, keep, out, kx, ky, err);
    side_free(&x);
    side_free(&y);
    return rc;
}

/* PWCCA weights from X's centred data Xc[n,px], its canonical weights A[px,k] and the
 * canonical correlations rho[k]: alpha_i = sum_j |<h_i, x_j>| with h_i the orthonormalised
 * canonical variates (the QR step of Morcos et al.'s code) and x_j X's unit columns;
 * the result is sum_i alpha_i rho_i / sum_i alpha_i. */
static int pwcca_weights(const double *Xc, int n, int px, const double *A, const double *rho, int k,
                         double *out, char *err) {
    double *H = malloc((size_t)n * k * 8), *Ht = malloc((size_t)n * k * 8), *P = malloc((size_t)k * px * 8);
    if (!H || !Ht || !P) { free(H); free(Ht); free(P); return tb_fail(err, "out of memory"); }
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
    double num = 0, den = 0;
    for (int c = 0; c < k; c++) {
        double alpha = 0;
        for (int j = 0; j < px; j++) alpha += fabs(P[(size_t)c * px + j]);
        num += alpha * rho[c];
        den += alpha;
    }
    free(H); free(Ht); free(P);
    if (!(den > 0)) return tb_fail(err, "PWCCA: X has no variance");
    *out = num / den;
    return 0;
}

/* Mean CCA and PWCCA from one canonical analysis (either output may be NULL). */
static int cca_and_pwcca(const side_eig *x, const side_eig *y, double *mean, double *pw, char *err) {
    int px = x->p, k = px < y->p ? px : y->p;
    double *rho = malloc((size_t)k * 8), *A = malloc((size_t)px * k * 8);
    if (!rho || !A) { free(rho); free(A); return tb_fail(err, "out of memory"); }
    int rc = cca_core(x, y, rho, pw ? A : NULL, err);
    if (!rc && mean) {
        double s = 0;
        for (int i = 0; i < k; i++) s += rho[i];
        *mean = s / k;
    }
    if (!rc && pw) rc = pwcca_weights(x->Xc, x->n, px, A, rho, k, pw, err);
    free(rho); free(A);
    return rc;
}

/* PWCCA (Morcos et al. 2018): canonical correlations weighted by how much of X's units
 * each canonical variate accounts for.  Asymmetric: the weights come from X. */
int pwcca(const double *X, int n, int px, const double *Y, int py, double *out, char *err) {
    side_eig x, y;
    if (side_init(X, n, px, &x, err)) return -1;
    if (side_init(Y, n, py, &y, err)) { side_free(&x); return -1; }
    int rc = cca_and_pwcca(&x, &y, NULL, out, err);
    side_free(&x);
    side_free(&y);
    return rc;
}

/* ======================================================================== */
/* Procrustes                                                               */
/* ======================================================================== */

/* Nuclear norm of X^T Y from the eigenvalues of a small symmetric matrix: M M^T or
 * M^T M with M = X^T Y (p x p), or, when both widths exceed n, Kx^(1/2) Ky Kx^(1/2)
 * (n x n), whose eigenvalues are the same squared singular values. */
static int nuclear_xty(const double *X, int n, int px, const double *Y, int py, double *nuc, char *err) {
    int small = px < py ? px : py;
    double s = 0;
    int rc = 0;
    if (small <= n) {
        double *M = malloc((size_t)px * py * 8);
        la_gemm_tn(n, px, py, X, Y, M);
        int q = px <= py ? px : py;
        double *G = malloc((size_t)q * q * 8), *w = malloc((size_t)q * 8);
        if (px <= py) la_gram_rows(px, py, M, G);
        else la_gemm_tn(px, py, py, M, M, G);
        rc = la_eigh(q, G, w, NULL, err);
        for (int i = 0; !rc && i < q; i++) s += w[i] > 0 ? sqrt(w[i]) : 0;
        free(M); free(G); free(w);
    } else {
        double *Kx = malloc((size_t)n * n * 8), *Ky = malloc((size_t)n * n * 8), *w = malloc((size_t)n * 8);
        double *V = malloc((size_t)n * n * 8), *R = malloc((size_t)n * n * 8), *T = malloc((size_t)n * n * 8);
        la_gram_rows(n, px, X, Kx);
        la_gram_rows(n, py, Y, Ky);
        rc = la_eigh(n, Kx, w, V, err);
        if (!rc) {
            /* R = V sqrt(w) V^T = Kx^(1/2), as one product */
            double *Vt = malloc((size_t)n * n * 8);
            if (!Vt) { free(Kx); free(Ky); free(w); free(V); free(R); free(T); return tb_fail(err, "out of memory"); }
            for (int i = 0; i < n; i++)
                for (int k = 0; k < n; k++) {
                    T[(size_t)i * n + k] = V[(size_t)i * n + k] * sqrt(w[k] > 0 ? w[k] : 0);
                    Vt[(size_t)k * n + i] = V[(size_t)i * n + k];
                }
            la_gemm_nn(n, n, n, T, Vt, R);
            free(Vt);
            la_gemm_nn(n, n, n, R, Ky, T);
            la_gemm_nn(n, n, n, T, R, Kx);
            rc = la_eigh(n, Kx, w, NULL, err);
            for (int i = 0; !rc && i < n; i++) s += w[i] > 0 ? sqrt(w[i]) : 0;
        }
        free(Kx); free(Ky); free(w); free(V); free(R); free(T);
    }
    *nuc = s;
    return rc;
}

int procrustes(const double *X, int n, int px, const double *Y, int py, double *euclidean,
               double *angular, char *err) {
    if (n < 2) return tb_fail(err, "Procrustes needs at least 2 stimuli");
    double *Xc = centred_copy(X, n, px), *Yc = centred_copy(Y, n, py);
    if (!Xc || !Yc) { free(Xc); free(Yc); return tb_fail(err, "out of memory"); }
    double nx = sqrt(frob2(Xc, (size_t)n * px)), ny = sqrt(frob2(Yc, (size_t)n * py));
    int rc = 0;
    if (!(nx > 0) || !(ny > 0)) rc = tb_fail(err, "Procrustes: one side has no variance across stimuli");
    double nuc = 0;
    if (!rc) {
        for (size_t i = 0; i < (size_t)n * px; i++) Xc[i] /= nx;
        for (size_t i = 0; i < (size_t)n * py; i++) Yc[i] /= ny;
        rc = nuclear_xty(Xc, n, px, Yc, py, &nuc, err);
    }
    free(Xc);
    free(Yc);
    if (rc) return -1;
    if (nuc > 1) nuc = 1; /* rounding: ||X^T Y||_* <= ||X|| ||Y|| = 1 */
    *euclidean = sqrt(2.0 - 2.0 * nuc > 0 ? 2.0 - 2.0 * nuc : 0);
    *angular = acos(nuc);
    return 0;
}

/* ======================================================================== */
/* align_all                                                                */
/* ======================================================================== */

void align_opts_default(align_opts *o) {
    memset(o, 0, sizeof *o);
    o->rsa = o->cka = o->cca = o->procrustes = 1;
    o->encoding = 0;
    o->rdm = RDM_CORRELATION;
    o->rbf_f = 1.0;
    o->svcca_keep = 0.99;
    o->ci = 0.95;
    enc_opts_default(&o->enc);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Linear CKA from two (column-centred) Gram matrices restricted to the index set idx. */
static double cka_from_grams(const double *Kx, const double *Ky, int n, const int *idx, int m) {
    double *K = malloc((size_t)m * m * 8), *L = malloc((size_t)m * m * 8);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            K[(size_t)i * m + j] = Kx[(size_t)idx[i] * n + idx[j]];
            L[(size_t)i * m + j] = Ky[(size_t)idx[i] * n + idx[j]];
        }
    double_centre(K, m);
    double_centre(L, m);
    size_t N = (size_t)m * m;
    double kl = dotv(K, L, N), kk = dotv(K, K, N), ll = dotv(L, L, N);
    free(K);
    free(L);
    return kk > 0 && ll > 0 ? kl / sqrt(kk * ll) : NAN;
}

/* Bootstrap over stimuli: resample n stimuli with replacement; RSA uses the pairs of
 * distinct original stimuli, CKA the resampled Gram matrices.  Percentile intervals. */
static void bootstrap(const double *Da, const double *Db, const double *Kx, const double *Ky, int n,
                      const align_opts *o, align_result *r) {
    int B = o->boot;
    double *rs = malloc((size_t)B * 8), *cs = malloc((size_t)B * 8);
    int *idx = malloc((size_t)n * sizeof(int));
    long maxm = (long)n * (n - 1) / 2;
    double *va = malloc((size_t)maxm * 8), *vb = malloc((size_t)maxm * 8);
    tb_rng g;
    rng_stream(&g, o->seed, 0xB00757);
    int nr = 0, nc = 0;
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < n; i++) idx[i] = (int)rng_below(&g, (uint32_t)n);
        if (Da) {
            long m = 0;
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                    if (idx[i] != idx[j]) {
                        va[m] = Da[(size_t)idx[i] * n + idx[j]];
                        vb[m] = Db[(size_t)idx[i] * n + idx[j]];
                        m++;
                    }
            double v = m > 2 ? rsa_spearman(va, vb, m) : NAN;
            if (!isnan(v)) rs[nr++] = v;
        }
        if (Kx) {
            double v = cka_from_grams(Kx, Ky, n, idx, n);
            if (!isnan(v)) cs[nc++] = v;
        }
    }
    double lo = (1 - o->ci) / 2, hi = 1 - lo;
    if (nr) {
        qsort(rs, (size_t)nr, 8, cmp_d);
        r->rsa_spearman_ci_low = rs[(int)floor(lo * (nr - 1))];
        r->rsa_spearman_ci_high = rs[(int)ceil(hi * (nr - 1))];
    }
    if (nc) {
        qsort(cs, (size_t)nc, 8, cmp_d);
        r->cka_linear_ci_low = cs[(int)floor(lo * (nc - 1))];
        r->cka_linear_ci_high = cs[(int)ceil(hi * (nc - 1))];
    }
    free(rs); free(cs); free(idx); free(va); free(vb);
}

/* CKA permutation test: permute the stimuli of Y (rows and columns of its Gram matrix). */
static double cka_perm_p(const double *Kx, const double *Ky, int n, int n_perm, uint64_t seed, double observed) {
    double *Kc = malloc((size_t)n * n * 8), *Lc = malloc((size_t)n * n * 8);
    int *perm = malloc((size_t)n * sizeof(int));
    memcpy(Kc, Kx, (size_t)n * n * 8);
    memcpy(Lc, Ky, (size_t)n * n * 8);
    double_centre(Kc, n);
    double_centre(Lc, n);
    size_t N = (size_t)n * n;
    double den = sqrt(dotv(Kc, Kc, N) * dotv(Lc, Lc, N));
    tb_rng g;
    rng_stream(&g, seed, 0xC4A);
    int ge = 0;
    /* a permuted, double-centred Gram matrix is the permutation of the centred one */
    for (int t = 0; t < n_perm; t++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        rng_shuffle_int(&g, perm, n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            const double *kr = Kc + (size_t)i * n, *lr = Lc + (size_t)perm[i] * n;
            for (int j = 0; j < n; j++) s += kr[j] * lr[perm[j]];
        }
        if (s / den >= observed - 1e-12) ge++;
    }
    free(Kc); free(Lc); free(perm);
    return (1.0 + ge) / (1.0 + n_perm);
}

int align_all(const double *X, int n, int px, const double *Y, int py, const double *Y_trials,
              int trials, const align_opts *o, align_result *r, char *err) {
    double nan = NAN;
    double *fields = &r->rsa_spearman;
    size_t nf = (size_t)(&r->cka_linear_ci_high - &r->rsa_spearman) + 1;
    for (size_t i = 0; i < nf; i++) fields[i] = nan;
    r->cca_warning = 0;
    if (n < 3) return tb_fail(err, "need at least 3 stimuli to compare (got %d)", n);
    for (size_t i = 0; i < (size_t)n * px; i++)
        if (!isfinite(X[i])) return tb_fail(err, "A has a non-finite value (stimulus %zu, unit %zu)", i / px, i % px);
    for (size_t i = 0; i < (size_t)n * py; i++)
        if (!isfinite(Y[i])) return tb_fail(err, "B has a non-finite value (stimulus %zu, unit %zu)", i / py, i % py);
    double *Da = NULL, *Db = NULL, *Kx = NULL, *Ky = NULL;
    int rc = 0;
    if (o->rsa) {
        long m = (long)n * (n - 1) / 2;
        Da = malloc((size_t)n * n * 8);
        Db = malloc((size_t)n * n * 8);
        double *va = malloc((size_t)m * 8), *vb = malloc((size_t)m * 8);
        char e1[TB_ERRLEN];
        if (align_rdm(X, n, px, o->rdm, Da, e1)) { rc = tb_fail(err, "A: %s", e1); }
        else if (align_rdm(Y, n, py, o->rdm, Db, e1)) { rc = tb_fail(err, "B: %s", e1); }
        else {
            rdm_upper(Da, n, va);
            rdm_upper(Db, n, vb);
            r->rsa_pearson = rsa_pearson(va, vb, m);
            r->rsa_spearman = rsa_spearman(va, vb, m);
            r->rsa_kendall_a = rsa_kendall_a(va, vb, m);
            if (o->perm > 0) r->rsa_perm_p = rsa_permutation_p(Da, Db, n, o->perm, o->seed, NULL);
        }
        free(va);
        free(vb);
    }
    if (!rc && o->cka) {
        if (cka_linear(X, n, px, Y, py, &r->cka_linear, err) || cka_rbf(X, n, px, Y, py, o->rbf_f, &r->cka_rbf, err)) rc = -1;
        else if (n >= 4 && cka_linear_debiased(X, n, px, Y, py, &r->cka_linear_debiased, err)) r->cka_linear_debiased = NAN;
        if (!rc && (o->perm > 0 || o->boot > 0)) {
            double *Xc = centred_copy(X, n, px), *Yc = centred_copy(Y, n, py);
            Kx = malloc((size_t)n * n * 8);
            Ky = malloc((size_t)n * n * 8);
            la_gram_rows(n, px, Xc, Kx);
            la_gram_rows(n, py, Yc, Ky);
            free(Xc);
            free(Yc);
            if (o->perm > 0) r->cka_perm_p = cka_perm_p(Kx, Ky, n, o->perm, o->seed, r->cka_linear);
        }
    }
    if (!rc && o->cca) {
        r->cca_warning = (px > n / 2 || py > n / 2);
        side_eig sx, sy; /* one eigendecomposition per side serves CCA, PWCCA and SVCCA */
        if (side_init(X, n, px, &sx, err)) rc = -1;
        else if (side_init(Y, n, py, &sy, err)) { side_free(&sx); rc = -1; }
        else {
            if (cca_and_pwcca(&sx, &sy, &r->cca_mean, &r->pwcca, err) ||
                svcca_core(&sx, &sy, o->svcca_keep, &r->svcca, NULL, NULL, err))
                rc = -1;
            side_free(&sx);
            side_free(&sy);
        }
    }
    if (!rc && o->procrustes) rc = procrustes(X, n, px, Y, py, &r->procrustes_euclidean, &r->procrustes_angular, err);
    if (!rc && o->encoding) {
        enc_result e;
        if (encoding_fit(X, n, px, Y_trials ? NULL : Y, Y_trials, trials, py, &o->enc, &e, err)) rc = -1;
        else {
            r->encoding_r_median = e.r_median;
            r->encoding_r_ceiled = e.r_ceiled;
            r->noise_ceiling = e.noise_ceiling;
            enc_result_free(&e);
        }
    }
    if (!rc && o->boot > 0) bootstrap(o->rsa ? Da : NULL, Db, Kx, Ky, n, o, r);
    free(Da); free(Db); free(Kx); free(Ky);
    return rc;
}
