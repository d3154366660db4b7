/* align_cka.c -- centred kernel alignment: linear, Gaussian (RBF) and debiased (lesson 11).
 *
 * CKA compares the Gram matrices K = X X^T and L = Y Y^T (stimulus x stimulus
 * similarities) after double centring H K H, H = I - 11^T/n:
 *     CKA = <HKH, HLH>_F / (||HKH||_F ||HLH||_F).
 * So it ignores rotations and isotropic scaling of either side, but not a general
 * linear map (that is CCA's invariance).  With few stimuli and many units the plain
 * estimator sits well above 0 for independent data; the debiased one (unbiased HSIC,
 * Song et al. 2012) does not.
 */
#include "align_priv.h"
#include "linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* H K H in place: K_ij + mean(K) - mean(row i) - mean(row j) (K symmetric). */
void al_double_centre(double *K, int n, double *row) {
    double all = 0;
    memset(row, 0, (size_t)n * sizeof(double));
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) row[i] += K[(size_t)i * n + j];
        all += row[i];
        row[i] /= n;
    }
    all /= (double)n * n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) K[(size_t)i * n + j] += all - row[i] - row[j];
}

double al_cka_sub(const double *K, const double *L, int n, const int *idx, int m, double *Ks,
                  double *Ls, double *row) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            Ks[(size_t)i * m + j] = K[(size_t)idx[i] * n + idx[j]];
            Ls[(size_t)i * m + j] = L[(size_t)idx[i] * n + idx[j]];
        }
    al_double_centre(Ks, m, row);
    al_double_centre(Ls, m, row);
    double kl = 0, kk = 0, ll = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            if (j != i && idx[j] == idx[i]) continue; /* a stimulus paired with its own copy */
            double a = Ks[(size_t)i * m + j], b = Ls[(size_t)i * m + j];
            kl += a * b;
            kk += a * a;
            ll += b * b;
        }
    return kk > 0 && ll > 0 ? kl / sqrt(kk * ll) : NAN;
}

/* ---- linear CKA ---------------------------------------------------------------------- */

int cka_linear(const double *X, int n, int px, const double *Y, int py, double *out, char *err) {
    if (n < 2) return tb_fail(err, "CKA needs at least 2 stimuli");
    /* feature space (p x p products) when that is cheaper than Gram space (n x n) */
    int feat = (double)px * py + (double)px * px + (double)py * py <= 3.0 * n * n;
    size_t sxy = feat ? (size_t)px * py : 1, sxx = feat ? (size_t)px * px : (size_t)n * n,
           syy = feat ? (size_t)py * py : (size_t)n * n;
    double *Xc = al_centred(X, n, px), *Yc = al_centred(Y, n, py);
    double *C = al_doubles(sxy), *Cx = al_doubles(sxx), *Cy = al_doubles(syy);
    double num, dx, dy;
    int rc = -1;
    if (!Xc || !Yc || !C || !Cx || !Cy) { tb_fail(err, "out of memory"); goto done; }
    if (feat) { /* ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) */
        la_gemm_tn(n, px, py, Xc, Yc, C);
        la_gemm_tn(n, px, px, Xc, Xc, Cx);
        la_gemm_tn(n, py, py, Yc, Yc, Cy);
        num = al_frob2(C, sxy);
    } else {    /* the same number as tr(Kx Ky) / (||Kx|| ||Ky||), K = Z Z^T */
        la_gram_rows(n, px, Xc, Cx);
        la_gram_rows(n, py, Yc, Cy);
        num = al_dot(Cx, Cy, sxx);
    }
    dx = sqrt(al_frob2(Cx, sxx));
    dy = sqrt(al_frob2(Cy, syy));
    if (!(dx > 0) || !(dy > 0)) { tb_fail(err, "CKA: one side has no variance across stimuli"); goto done; }
    *out = num / (dx * dy);
    rc = 0;
done:
    free(Xc); free(Yc); free(C); free(Cx); free(Cy);
    return rc;
}

/* ---- Gaussian (RBF) CKA ------------------------------------------------------------- */

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
    size_t N = (size_t)n * n;
    double *Xc = al_centred(X, n, p), *sq = al_doubles(N), *tmp = al_doubles(N), *row = al_doubles((size_t)n);
    double med;
    int rc = -1;
    if (!Xc || !sq || !tmp || !row) { tb_fail(err, "out of memory"); goto done; }
    la_gram_rows(n, p, Xc, K);
    for (int i = 0; i < n; i++) /* squared distances from the Gram matrix */
        for (int j = 0; j < n; j++) {
            double d = K[(size_t)i * n + i] + K[(size_t)j * n + j] - 2 * K[(size_t)i * n + j];
            sq[(size_t)i * n + j] = d > 0 ? d : 0;
        }
    memcpy(tmp, sq, N * sizeof(double));
    med = median_inplace(tmp, N);
    if (!(med > 0)) { tb_fail(err, "CKA (RBF): median squared distance is 0 (most stimuli identical)"); goto done; }
    double s = 2.0 * f * f * med;
    for (size_t i = 0; i < N; i++) K[i] = exp(-sq[i] / s);
    al_double_centre(K, n, row);
    rc = 0;
done:
    free(Xc); free(sq); free(tmp); free(row);
    return rc;
}

int cka_rbf(const double *X, int n, int px, const double *Y, int py, double f, double *out, char *err) {
    if (n < 2) return tb_fail(err, "CKA needs at least 2 stimuli");
    if (!(f > 0)) return tb_fail(err, "CKA (RBF): bandwidth factor must be > 0");
    size_t N = (size_t)n * n;
    double *K = al_doubles(N), *L = al_doubles(N);
    int rc = -1;
    if (!K || !L) { tb_fail(err, "out of memory"); goto done; }
    if (rbf_gram(X, n, px, f, K, err) || rbf_gram(Y, n, py, f, L, err)) goto done;
    double kl = al_dot(K, L, N), kk = al_dot(K, K, N), ll = al_dot(L, L, N);
    if (!(kk > 0) || !(ll > 0)) { tb_fail(err, "CKA (RBF): a kernel matrix is constant"); goto done; }
    *out = kl / sqrt(kk * ll);
    rc = 0;
done:
    free(K); free(L);
    return rc;
}

/* ---- debiased linear CKA -------------------------------------------------------------- */

/* Unbiased centring of a Gram matrix (Kornblith et al.'s center_gram(unbiased=True)):
 * zero the diagonal, subtract row/column means computed with n-2, zero the diagonal
 * again.  <center(K), center(L)>_F is then (n(n-3)) x the unbiased HSIC estimator.
 * mean[n] is scratch. */
static void unbiased_centre(double *K, int n, double *mean) {
    double tot = 0;
    memset(mean, 0, (size_t)n * sizeof(double));
    for (int i = 0; i < n; i++) K[(size_t)i * n + i] = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) mean[j] += K[(size_t)i * n + j];
    for (int j = 0; j < n; j++) { mean[j] /= (n - 2); tot += mean[j]; }
    for (int j = 0; j < n; j++) mean[j] -= tot / (2.0 * (n - 1));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) K[(size_t)i * n + j] -= mean[i] + mean[j];
    for (int i = 0; i < n; i++) K[(size_t)i * n + i] = 0;
}

int cka_linear_debiased(const double *X, int n, int px, const double *Y, int py, double *out, char *err) {
    if (n < 4) return tb_fail(err, "debiased CKA needs at least 4 stimuli (got %d)", n);
    size_t N = (size_t)n * n;
    double *Xc = al_centred(X, n, px), *Yc = al_centred(Y, n, py);
    double *K = al_doubles(N), *L = al_doubles(N), *mean = al_doubles((size_t)n);
    int rc = -1;
    if (!Xc || !Yc || !K || !L || !mean) { tb_fail(err, "out of memory"); goto done; }
    la_gram_rows(n, px, Xc, K);
    la_gram_rows(n, py, Yc, L);
    unbiased_centre(K, n, mean);
    unbiased_centre(L, n, mean);
    double kl = al_dot(K, L, N), kk = al_dot(K, K, N), ll = al_dot(L, L, N);
    /* the unbiased self-terms can be <= 0 for degenerate inputs: guard the root */
    if (!(kk > 0) || !(ll > 0)) {
        tb_fail(err, "debiased CKA: an unbiased self-similarity is <= 0 (too few or degenerate stimuli)");
        goto done;
    }
    *out = kl / sqrt(kk * ll);
    rc = 0;
done:
    free(Xc); free(Yc); free(K); free(L); free(mean);
    return rc;
}
