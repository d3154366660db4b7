/* test_align.c -- the alignment metrics: hand-worked cases, the invariances that
 * define each metric, closed-form cross-checks written independently of src/align*.c,
 * chance levels on independent data, and the statistics (permutation, bootstrap,
 * noise ceiling) against their expected behaviour.
 *
 * Tolerances: 1e-12 for quantities computed by the same arithmetic in two orders;
 * 1e-9 where an eigendecomposition or SVD sits in between (backward-stable, n*eps*cond);
 * 1e-5 for CCA, whose ridge (1e-6 x mean eigenvalue) biases correlations by about that;
 * Monte Carlo checks use several standard errors (stated at each one). */
#include "align.h"
#include "linalg.h"
#include "rng.h"
#include "threads.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static double *randm(tb_rng *r, int m, int n) {
    double *a = malloc((size_t)m * n * sizeof(double));
    for (int i = 0; i < m * n; i++) a[i] = rng_normal(r);
    return a;
}

/* A random orthogonal matrix Q[p,p] from the SVD of a Gaussian matrix (Q = U Vt). */
static double *rand_orth(tb_rng *r, int p) {
    double *G = randm(r, p, p), *U = malloc((size_t)p * p * 8), *S = malloc((size_t)p * 8),
           *Vt = malloc((size_t)p * p * 8), *Q = malloc((size_t)p * p * 8);
    char err[TB_ERRLEN];
    assert_int_equal(la_svd(p, p, G, U, S, Vt, err), 0);
    la_gemm_nn(p, p, p, U, Vt, Q);
    free(G); free(U); free(S); free(Vt);
    return Q;
}

static double *matmul(const double *A, int m, int k, const double *B, int n) {
    double *C = malloc((size_t)m * n * 8);
    la_gemm_nn(m, k, n, A, B, C);
    return C;
}

static double pearson(const double *a, const double *b, int n) {
    double ma = 0, mb = 0, s = 0, sa = 0, sb = 0;
    for (int i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
    ma /= n; mb /= n;
    for (int i = 0; i < n; i++) {
        s += (a[i] - ma) * (b[i] - mb); sa += (a[i] - ma) * (a[i] - ma); sb += (b[i] - mb) * (b[i] - mb);
    }
    return s / sqrt(sa * sb);
}

/* ---- RDMs and RSA ------------------------------------------------------------ */

static void rdm_hand_worked(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    double X[9] = {1, 2, 3, 3, 2, 1, 2, 4, 6}, D[9];
    assert_int_equal(align_rdm(X, 3, 3, RDM_CORRELATION, D, err), 0);
    assert_true(fabs(D[1] - 2.0) < 1e-12);  /* rows 0,1 perfectly anti-correlated */
    assert_true(fabs(D[2] - 0.0) < 1e-12);  /* row 2 = 2 x row 0 */
    assert_true(D[0] == 0 && D[4] == 0 && D[1] == D[3]);
    assert_int_equal(align_rdm(X, 3, 3, RDM_EUCLIDEAN, D, err), 0);
    assert_true(fabs(D[1] - sqrt(8.0)) < 1e-12 && fabs(D[2] - sqrt(14.0)) < 1e-12);
    assert_int_equal(align_rdm(X, 3, 3, RDM_COSINE, D, err), 0);
    assert_true(fabs(D[1] - (1 - 10.0 / 14)) < 1e-12 && fabs(D[2]) < 1e-12);
    double v[3];
    rdm_upper(D, 3, v);
    assert_true(v[0] == D[1] && v[1] == D[2] && v[2] == D[5]);
    /* a constant row has no correlation distance: named error */
    double C[6] = {1, 1, 1, 0, 1, 2};
    assert_int_equal(align_rdm(C, 2, 3, RDM_CORRELATION, D, err), -1);
    assert_non_null(strstr(err, "0"));
}

static void spearman_ties_hand_worked(void **state) {
    (void)state;
    /* ranks of a: 1, 2.5, 2.5, 4; of b: 1, 3, 2, 4; Pearson of the ranks = 4.5/sqrt(22.5) */
    double a[4] = {1, 2, 2, 3}, b[4] = {1, 3, 2, 4}, r[4];
    rank_average(a, 4, r);
    assert_true(r[0] == 1 && r[1] == 2.5 && r[2] == 2.5 && r[3] == 4);
    assert_true(fabs(rsa_spearman(a, b, 4) - 4.5 / sqrt(22.5)) < 1e-12);
    assert_true(fabs(rsa_pearson(a, b, 4) - pearson(a, b, 4)) < 1e-12);
    /* tau-a: a={1,2,3}, b={1,3,2}: 2 concordant, 1 discordant, 3 pairs -> 1/3 */
    double c[3] = {1, 2, 3}, d[3] = {1, 3, 2};
    assert_true(fabs(rsa_kendall_a(c, d, 3) - 1.0 / 3) < 1e-15);
    /* ties count 0 in tau-a: a={1,1,2}, b={1,2,3}: pair (0,1) tied in a; others concordant */
    double e[3] = {1, 1, 2};
    assert_true(fabs(rsa_kendall_a(e, c, 3) - 2.0 / 3) < 1e-15);
}

/* O(m^2) reference for tau-a. */
static double tau_a_brute(const double *a, const double *b, long m) {
    double s = 0;
    for (long i = 0; i < m; i++)
        for (long j = i + 1; j < m; j++) {
            double x = a[i] - a[j], y = b[i] - b[j];
            s += (x > 0 ? 1 : x < 0 ? -1 : 0) * (y > 0 ? 1 : y < 0 ? -1 : 0);
        }
    return s / ((double)m * (m - 1) / 2);
}

static void kendall_matches_brute_force_with_ties(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 11);
    for (int trial = 0; trial < 20; trial++) {
        long m = 1 + (long)rng_below(&g, 700);
        int levels = 1 + (int)rng_below(&g, 6); /* heavy ties, like categorical model RDMs */
        double *a = malloc((size_t)m * 8), *b = malloc((size_t)m * 8);
        for (long i = 0; i < m; i++) {
            a[i] = (double)rng_below(&g, (uint32_t)levels);
            b[i] = trial % 2 ? rng_normal(&g) : a[i] + (double)rng_below(&g, 3);
        }
        double fast = rsa_kendall_a(a, b, m), slow = m > 1 ? tau_a_brute(a, b, m) : 0;
        if (m > 1) assert_true(fabs(fast - slow) < 1e-12);
        free(a);
        free(b);
    }
}

static void spearman_invariant_to_monotone_transform(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 3);
    double *X = randm(&g, 30, 8), *Y = randm(&g, 30, 5), Da[900], Db[900];
    char err[TB_ERRLEN];
    for (int i = 0; i < 30 * 5; i++) Y[i] = 0.3 * Y[i] + X[(i / 5) * 8 + i % 5];
    assert_int_equal(align_rdm(X, 30, 8, RDM_CORRELATION, Da, err), 0);
    assert_int_equal(align_rdm(Y, 30, 5, RDM_CORRELATION, Db, err), 0);
    long m = 30 * 29 / 2;
    double va[435], vb[435], vt[435];
    rdm_upper(Da, 30, va);
    rdm_upper(Db, 30, vb);
    for (long i = 0; i < m; i++) vt[i] = exp(3 * vb[i]) + vb[i] * vb[i] * vb[i];
    double s1 = rsa_spearman(va, vb, m), s2 = rsa_spearman(va, vt, m);
    assert_true(s1 > 0.2); /* related by construction */
    assert_true(fabs(s1 - s2) < 1e-12);
    assert_true(fabs(rsa_kendall_a(va, vb, m) - rsa_kendall_a(va, vt, m)) < 1e-12);
    assert_true(fabs(rsa_pearson(va, vb, m) - rsa_pearson(va, vt, m)) > 1e-3); /* Pearson is not */
    free(X);
    free(Y);
}

/* Partial RSA, hand-worked.  Pearson: with 1 = (1,1,1,1), c = (1,1,-1,-1),
 * d = (1,-1,1,-1), e = (1,-1,-1,1) (mutually orthogonal, all orthogonal to 1):
 * a = c + d, b = c + d + e give r_ab = 8/sqrt(96), r_ac = 1/sqrt2, r_bc = 1/sqrt3, and
 * the residuals after c are d and d + e, so r_ab.c = 4 / sqrt(4 * 8) = 1/sqrt2.  With
 * b = c + e the residuals d, e are orthogonal: r_ab = 1/2 but r_ab.c = 0.
 * Spearman: a = (1,2,3,4,5), b = (1,3,2,5,4), c = (2,1,3,5,4) have rank correlations
 * 1 - 6 sum d^2 / (m(m^2-1)) = 0.8 (ab), 0.8 (ac), 0.7 (bc), so
 * r_ab.c = (0.8 - 0.56) / sqrt(0.36 * 0.51) = 0.560112. */
static void partial_rsa_hand_worked(void **state) {
    (void)state;
    double c[4] = {1, 1, -1, -1}, d[4] = {1, -1, 1, -1}, e[4] = {1, -1, -1, 1}, a[4], b[4], b2[4];
    for (int i = 0; i < 4; i++) { a[i] = c[i] + d[i]; b[i] = c[i] + d[i] + e[i]; b2[i] = c[i] + e[i]; }
    assert_true(fabs(rsa_pearson(a, b, 4) - 8 / sqrt(96.0)) < 1e-12);
    assert_true(fabs(rsa_partial_pearson(a, b, c, 4) - 1 / sqrt(2.0)) < 1e-12);
    assert_true(fabs(rsa_pearson(a, b2, 4) - 0.5) < 1e-12);
    assert_true(fabs(rsa_partial_pearson(a, b2, c, 4)) < 1e-12);
    assert_true(isnan(rsa_partial_pearson(a, b, a, 4))); /* c explains a completely */
    double sa[5] = {1, 2, 3, 4, 5}, sb[5] = {1, 3, 2, 5, 4}, sc[5] = {2, 1, 3, 5, 4};
    double expect = (0.8 - 0.8 * 0.7) / sqrt(0.36 * 0.51);
    assert_true(fabs(expect - 0.560112) < 1e-6);
    assert_true(fabs(rsa_partial_spearman(sa, sb, sc, 5) - expect) < 1e-12);
    /* ranks: any monotone transform of each vector leaves it unchanged; Pearson moves */
    double ta[5], tb[5], tc[5];
    for (int i = 0; i < 5; i++) { ta[i] = exp(sa[i]); tb[i] = sb[i] * sb[i] * sb[i]; tc[i] = log(sc[i]); }
    assert_true(fabs(rsa_partial_spearman(ta, tb, tc, 5) - expect) < 1e-12);
    assert_true(fabs(rsa_partial_pearson(ta, tb, tc, 5) - expect) > 1e-3);
}

/* ---- CKA ------------------------------------------------------------------------ */

/* Independent reference: centre the Gram matrices with H = I - 11^T/n as explicit products. */
static double cka_reference(const double *K0, const double *L0, int n) {
    double *H = calloc((size_t)n * n, 8), *T = malloc((size_t)n * n * 8), *K = malloc((size_t)n * n * 8),
           *L = malloc((size_t)n * n * 8);
    assert_true(H && T && K && L);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) H[i * n + j] = (i == j) - 1.0 / n;
    la_gemm_nn(n, n, n, H, K0, T);
    la_gemm_nn(n, n, n, T, H, K);
    la_gemm_nn(n, n, n, H, L0, T);
    la_gemm_nn(n, n, n, T, H, L);
    double kl = 0, kk = 0, ll = 0;
    for (int i = 0; i < n * n; i++) { kl += K[i] * L[i]; kk += K[i] * K[i]; ll += L[i] * L[i]; }
    free(H); free(T); free(K); free(L);
    return kl / sqrt(kk * ll);
}

static void cka_linear_closed_forms(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    /* one column each: linear CKA = Pearson r squared */
    double x[5] = {1, 2, 3, 4, 10}, y[5] = {2, 1, 4, 3, 7}, v;
    assert_int_equal(cka_linear(x, 5, 1, y, 1, &v, err), 0);
    double r = pearson(x, y, 5);
    assert_true(fabs(v - r * r) < 1e-12);
    /* feature-space (n > p) and Gram-space (n < p) formulas against explicit H K H */
    tb_rng g;
    rng_seed(&g, 5);
    int shapes[2][3] = {{40, 6, 9}, {7, 30, 25}};
    for (int s = 0; s < 2; s++) {
        int n = shapes[s][0], px = shapes[s][1], py = shapes[s][2];
        double *X = randm(&g, n, px), *Y = randm(&g, n, py);
        double *K = malloc((size_t)n * n * 8), *L = malloc((size_t)n * n * 8);
        la_gram_rows(n, px, X, K);
        la_gram_rows(n, py, Y, L);
        assert_int_equal(cka_linear(X, n, px, Y, py, &v, err), 0);
        assert_true(fabs(v - cka_reference(K, L, n)) < 1e-12);
        free(X); free(Y); free(K); free(L);
    }
}

static void cka_invariances(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 8);
    int n = 50, p = 12;
    double *X = randm(&g, n, p), *N = randm(&g, n, p), *Q = rand_orth(&g, p);
    double *Y = malloc((size_t)n * p * 8);
    for (int i = 0; i < n * p; i++) Y[i] = X[i] + 0.7 * N[i];
    double *YQ = matmul(Y, n, p, Q, p);
    for (int i = 0; i < n * p; i++) YQ[i] = 3.5 * YQ[i] + 2.0; /* rotate, scale, shift */
    double a, b, c, d, e, f;
    assert_int_equal(cka_linear(X, n, p, X, p, &a, err), 0);
    assert_true(fabs(a - 1) < 1e-12);
    assert_int_equal(cka_rbf(X, n, p, X, p, 1.0, &a, err), 0);
    assert_true(fabs(a - 1) < 1e-12);
    assert_int_equal(cka_linear_debiased(X, n, p, X, p, &a, err), 0);
    assert_true(fabs(a - 1) < 1e-12);
    assert_int_equal(cka_linear(X, n, p, Y, p, &a, err), 0);
    assert_int_equal(cka_linear(X, n, p, YQ, p, &b, err), 0);
    assert_int_equal(cka_rbf(X, n, p, Y, p, 1.0, &c, err), 0);
    assert_int_equal(cka_rbf(X, n, p, YQ, p, 1.0, &d, err), 0);
    assert_int_equal(cka_linear_debiased(X, n, p, Y, p, &e, err), 0);
    assert_int_equal(cka_linear_debiased(X, n, p, YQ, p, &f, err), 0);
    assert_true(a > 0.3 && a < 0.95);
    assert_true(fabs(a - b) < 1e-12 && fabs(c - d) < 1e-12 && fabs(e - f) < 1e-12);
    /* symmetric in its arguments */
    assert_int_equal(cka_linear(Y, n, p, X, p, &b, err), 0);
    assert_true(fabs(a - b) < 1e-12);
    /* NOT invariant to a general (non-orthogonal) linear map: that is CCA's job */
    double *S = randm(&g, p, p);
    for (int i = 0; i < p; i++) S[i * p + i] += (i < 3 ? 8 : 0);
    double *YS = matmul(Y, n, p, S, p);
    assert_int_equal(cka_linear(X, n, p, YS, p, &b, err), 0);
    assert_true(fabs(a - b) > 1e-3);
    free(X); free(N); free(Q); free(Y); free(YQ); free(S); free(YS);
}

/* RBF reference: median of all n^2 squared distances (diagonal included), bandwidth f. */
static void cka_rbf_reference_bandwidth(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 21);
    int n = 9, px = 3, py = 4;
    double *X = randm(&g, n, px), *Y = randm(&g, n, py), v, f = 0.5;
    double *M[2] = {X, Y};
    int P[2] = {px, py};
    double *K[2];
    for (int s = 0; s < 2; s++) {
        double sq[81], tmp[81];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double d = 0;
                for (int k = 0; k < P[s]; k++) d += pow(M[s][i * P[s] + k] - M[s][j * P[s] + k], 2);
                sq[i * n + j] = tmp[i * n + j] = d;
            }
        /* 81 values: the median is the 41st smallest (selection sort is fine at this size) */
        for (int i = 0; i < 41; i++)
            for (int j = i + 1; j < 81; j++)
                if (tmp[j] < tmp[i]) { double t = tmp[i]; tmp[i] = tmp[j]; tmp[j] = t; }
        double med = tmp[40];
        K[s] = malloc(81 * 8);
        for (int i = 0; i < 81; i++) K[s][i] = exp(-sq[i] / (2 * f * f * med));
    }
    assert_int_equal(cka_rbf(X, n, px, Y, py, f, &v, err), 0);
    assert_true(fabs(v - cka_reference(K[0], K[1], n)) < 1e-12);
    assert_int_equal(cka_rbf(X, n, px, Y, py, 0.0, &v, err), -1);
    free(X); free(Y); free(K[0]); free(K[1]);
}

/* Song et al. 2012 unbiased HSIC, written from the paper's formula. */
static double hsic_u(const double *K0, const double *L0, int n) {
    double *K = malloc((size_t)n * n * 8), *L = malloc((size_t)n * n * 8);
    memcpy(K, K0, (size_t)n * n * 8);
    memcpy(L, L0, (size_t)n * n * 8);
    for (int i = 0; i < n; i++) K[i * n + i] = L[i * n + i] = 0;
    double tr = 0, sk = 0, sl = 0, kl1 = 0;
    for (int i = 0; i < n * n; i++) { tr += K[i] * L[i]; sk += K[i]; sl += L[i]; }
    for (int i = 0; i < n; i++) { /* 1^T K L 1 = sum_i (K 1)_i (L 1)_i */
        double a = 0, b = 0;
        for (int j = 0; j < n; j++) { a += K[i * n + j]; b += L[i * n + j]; }
        kl1 += a * b;
    }
    free(K);
    free(L);
    return (tr + sk * sl / ((n - 1.0) * (n - 2.0)) - 2.0 / (n - 2.0) * kl1) / (n * (n - 3.0));
}

static void cka_debiased_matches_song_and_is_near_zero_for_noise(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 4);
    int n = 30, px = 7, py = 40;
    double *X = randm(&g, n, px), *Y = randm(&g, n, py), v;
    double *K = malloc((size_t)n * n * 8), *L = malloc((size_t)n * n * 8);
    la_center_columns(n, px, X);
    la_center_columns(n, py, Y);
    la_gram_rows(n, px, X, K);
    la_gram_rows(n, py, Y, L);
    double ref = hsic_u(K, L, n) / sqrt(hsic_u(K, K, n) * hsic_u(L, L, n));
    assert_int_equal(cka_linear_debiased(X, n, px, Y, py, &v, err), 0);
    assert_true(fabs(v - ref) < 1e-12);
    free(X); free(Y); free(K); free(L);
    /* independent inputs, n=200, p=50: biased linear CKA sits far above 0 (~p/(n+p)),
     * the debiased one within a few hundredths of it (its sd here is ~0.01) */
    n = 200;
    X = randm(&g, n, 50);
    Y = randm(&g, n, 50);
    double biased;
    assert_int_equal(cka_linear(X, n, 50, Y, 50, &biased, err), 0);
    assert_int_equal(cka_linear_debiased(X, n, 50, Y, 50, &v, err), 0);
    assert_true(biased > 0.15);
    assert_true(fabs(v) < 0.04);
    assert_int_equal(cka_linear_debiased(X, 3, 50, Y, 50, &v, err), -1); /* n < 4 */
    free(X); free(Y);
}

/* ---- CCA family ------------------------------------------------------------------ */

static void cca_hand_worked_and_invariant(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    double x[6] = {1, 2, 3, 4, 5, 9}, y[6] = {3, 1, 4, 1, 5, 9}, m, rho[8];
    assert_int_equal(cca(x, 6, 1, y, 1, rho, &m, err), 0);
    assert_true(fabs(m - fabs(pearson(x, y, 6))) < 1e-5);
    for (int i = 0; i < 6; i++) y[i] = -y[i]; /* a sign flip is an invertible map */
    assert_int_equal(cca(x, 6, 1, y, 1, rho, &m, err), 0);
    assert_true(fabs(m - fabs(pearson(x, y, 6))) < 1e-5);
    double pw;
    assert_int_equal(pwcca(x, 6, 1, y, 1, &pw, err), 0);
    assert_true(fabs(pw - m) < 1e-12);

    tb_rng g;
    rng_seed(&g, 9);
    int n = 200, p = 6;
    double *X = randm(&g, n, p), *N = randm(&g, n, p), *Y = malloc((size_t)n * p * 8);
    for (int i = 0; i < n * p; i++) Y[i] = X[i] + N[i] * (1 + i % p); /* graded noise */
    double *A = randm(&g, p, p); /* invertible and well conditioned, so the ridge bias stays ~1e-6 */
    for (int i = 0; i < p; i++) A[i * p + i] += 4;
    double *YA = matmul(Y, n, p, A, p), r1[6], r2[6], m1, m2;
    assert_int_equal(cca(X, n, p, Y, p, r1, &m1, err), 0);
    assert_int_equal(cca(X, n, p, YA, p, r2, &m2, err), 0);
    /* the ridge (1e-6 x mean eigenvalue) breaks exact invariance by about ridge x cond(C),
     * cond ~ 40 here: 1e-4 */
    for (int i = 0; i < p; i++) assert_true(fabs(r1[i] - r2[i]) < 1e-4);
    for (int i = 1; i < p; i++) assert_true(r1[i] <= r1[i - 1] + 1e-12); /* descending */
    assert_true(r1[0] > 0.6 && r1[p - 1] < r1[0]);
    assert_int_equal(cca(X, n, p, X, p, r2, &m2, err), 0);
    assert_true(fabs(m2 - 1) < 1e-5);
    assert_int_equal(pwcca(X, n, p, X, p, &m2, err), 0);
    assert_true(fabs(m2 - 1) < 1e-5);
    /* PWCCA weights by X's variance: it lies within the range of the correlations */
    assert_int_equal(pwcca(X, n, p, Y, p, &m2, err), 0);
    assert_true(m2 >= r1[p - 1] - 1e-9 && m2 <= r1[0] + 1e-9);
    free(X); free(N); free(Y); free(A); free(YA);
}

static void cca_when_p_approaches_n_goes_to_one(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 10);
    int n = 20, p = 40; /* more units than stimuli, independent noise */
    double *X = randm(&g, n, p), *Y = randm(&g, n, p), m;
    assert_int_equal(cca(X, n, p, Y, p, NULL, &m, err), 0);
    assert_true(isfinite(m));
    /* the first n-1 canonical correlations of independent noise are ~1 */
    double rho[40];
    assert_int_equal(cca(X, n, p, Y, p, rho, &m, err), 0);
    assert_true(rho[0] > 0.99 && rho[n - 2] > 0.9);
    align_opts o;
    align_result r;
    align_opts_default(&o);
    assert_int_equal(align_all(X, n, p, Y, p, NULL, 0, &o, &r, err), 0);
    assert_int_equal(r.cca_warning, 1);
    free(X); free(Y);
}

/* PWCCA must give the null canonical variates (rounding noise, rho ~ 0) no weight.
 * 20 x 100 vs 20 x 80: both centred sides span the same 19-dimensional space, so the 19
 * canonical correlations that exist are all 1 and PWCCA is 1 (the old weighting gave
 * 0.243).  And with n > p: X = Z W has 10 units but rank 5, Y = [Z, noise] -- the 5
 * variates that exist are Z's, all correlated 1. */
static void pwcca_ignores_null_canonical_variates(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 22);
    double *X = randm(&g, 20, 100), *Y = randm(&g, 20, 80), pw;
    assert_int_equal(pwcca(X, 20, 100, Y, 80, &pw, err), 0);
    assert_true(fabs(pw - 1) < 1e-4); /* the ridge shrinks each rho by ~1e-6 */
    free(X); free(Y);
    int n = 60, k = 5;
    double *Z = randm(&g, n, k), *W = randm(&g, k, 10), *N = randm(&g, n, k);
    double *XZ = matmul(Z, n, k, W, 10), *YZ = malloc((size_t)n * 2 * k * 8);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) { YZ[i * 2 * k + j] = Z[i * k + j]; YZ[i * 2 * k + k + j] = N[i * k + j]; }
    assert_int_equal(pwcca(XZ, n, 10, YZ, 2 * k, &pw, err), 0);
    assert_true(fabs(pw - 1) < 1e-4);
    free(Z); free(W); free(N); free(XZ); free(YZ);
}

static void svcca_keeps_the_signal_subspace(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 12);
    int n = 100, p = 20, k = 3;
    /* X = Z W (rank 3) + tiny noise; Y = another embedding of the same Z */
    double *Z = randm(&g, n, k), *W1 = randm(&g, k, p), *W2 = randm(&g, k, p + 5);
    double *X = matmul(Z, n, k, W1, p), *Y = matmul(Z, n, k, W2, p + 5);
    for (int i = 0; i < n * p; i++) X[i] += 1e-4 * rng_normal(&g);
    double v;
    int kx, ky;
    assert_int_equal(svcca(X, n, p, Y, p + 5, 0.99, &v, &kx, &ky, err), 0);
    assert_true(kx <= k && ky <= k && kx >= 1);
    assert_true(v > 0.999);
    free(Z); free(W1); free(W2); free(X); free(Y);
}

/* Cross-validated CCA: independent noise scores ~0 held out even where in-sample CCA
 * is large (120 stimuli, 40 vs 30 units: in-sample mean ~0.6); a shared 8-dimensional
 * signal scores high.  Held-out correlations of noise have sd ~1/sqrt(60) per variate;
 * averaged over >= 8 variates and 10 folds the mean stays within ~0.03 of 0.  Results do
 * not depend on the thread count. */
/* More channels than stimuli: the CCA family goes through the stimulus-space (Gram)
 * form.  Repeating every unit of X[40,15] 4 times (60 units > 40 stimuli) and of
 * Y[40,12] 4 times adds no direction, so the first 12 canonical correlations, SVCCA and
 * PWCCA (whose weights all double) are those of the feature-space form on the
 * originals, and the other 36 correlations are exactly 0 (the ridge is 1e-6 of the
 * mean eigenvalue either way; the eigenvalues double, so tolerance 1e-5).  A side with
 * 20,000 channels and 30 stimuli finishes in a blink (no 20,000 x 20,000 matrix). */
static double *repeat_columns(const double *X, int n, int p, int times) {
    double *R = malloc((size_t)n * p * times * sizeof(double));
    for (int i = 0; i < n; i++)
        for (int t = 0; t < times; t++) memcpy(R + ((size_t)i * times + t) * p, X + (size_t)i * p, (size_t)p * 8);
    return R;
}

static void cca_gram_form_matches_feature_form(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 41);
    int n = 40, px = 15, py = 12;
    double *X = randm(&r, n, px), *Y = randm(&r, n, py), *N = randm(&r, n, py);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < py; j++) Y[(size_t)i * py + j] = X[(size_t)i * px + j] + 2 * N[(size_t)i * py + j];
    double *X4 = repeat_columns(X, n, px, 4), *Y4 = repeat_columns(Y, n, py, 4);
    double rho[12], rho4[48], m, m4, sv, sv4, pw, pw4;
    char err[TB_ERRLEN];
    assert_int_equal(cca(X, n, px, Y, py, rho, &m, err), 0);
    assert_int_equal(cca(X4, n, 4 * px, Y4, 4 * py, rho4, &m4, err), 0);
    for (int i = 0; i < 12; i++) assert_true(fabs(rho[i] - rho4[i]) < 1e-5);
    for (int i = 12; i < 48; i++) assert_true(rho4[i] == 0.0);
    assert_true(fabs(m4 - m / 4) < 1e-5);
    assert_int_equal(svcca(X, n, px, Y, py, 0.99, &sv, NULL, NULL, err), 0);
    assert_int_equal(svcca(X4, n, 4 * px, Y4, 4 * py, 0.99, &sv4, NULL, NULL, err), 0);
    assert_true(fabs(sv - sv4) < 1e-9);
    assert_int_equal(pwcca(X, n, px, Y, py, &pw, err), 0);
    assert_int_equal(pwcca(X4, n, 4 * px, Y4, 4 * py, &pw4, err), 0);
    assert_true(fabs(pw - pw4) < 1e-5 && pw > 0.3);
    int wide = 20000, nw = 30;
    double *W = randm(&r, nw, wide), *V = randm(&r, nw, wide);
    align_opts o;
    align_result res;
    align_opts_default(&o);
    o.rsa = o.cka = o.procrustes = 0;
    assert_int_equal(align_all(W, nw, wide, V, wide, NULL, 0, &o, &res, err), 0);
    assert_true(fabs(res.cca_mean - 29.0 / wide) < 1e-6); /* n - 1 correlations of ~1 */
    assert_true(res.svcca > 0.9 && res.pwcca > 0.9 && res.cca_warning == 1);
    free(X); free(Y); free(N); free(X4); free(Y4); free(W); free(V);
}

static void cca_cv_noise_near_zero_signal_high(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 24);
    int n = 120, px = 40, py = 30;
    double *X = randm(&g, n, px), *Y = randm(&g, n, py), in;
    cca_cv_opts o;
    cca_cv_result r, r3;
    cca_cv_opts_default(&o);
    assert_int_equal(cca(X, n, px, Y, py, NULL, &in, err), 0);
    assert_true(in > 0.5);
    assert_int_equal(cca_cv(X, n, px, Y, py, &o, &r, err), 0);
    assert_int_equal(r.identifiable, 1);
    assert_true(fabs(r.cca_mean) < 0.06 && fabs(r.svcca) < 0.06 && fabs(r.pwcca) < 0.06);
    tb_threads_init(3);
    assert_int_equal(cca_cv(X, n, px, Y, py, &o, &r3, err), 0);
    tb_threads_init(1);
    assert_true(r.cca_mean == r3.cca_mean && r.svcca == r3.svcca && r.pwcca == r3.pwcca);
    free(X); free(Y);
    /* shared signal: X = Z A + noise, Y = Z B + noise, Z 8-dimensional, 8 units each */
    n = 400;
    double *Z = randm(&g, n, 8), *A = randm(&g, 8, 8), *B = randm(&g, 8, 8);
    for (int i = 0; i < 8; i++) { A[i * 8 + i] += 3; B[i * 8 + i] += 3; } /* well conditioned */
    X = matmul(Z, n, 8, A, 8);
    Y = matmul(Z, n, 8, B, 8);
    for (int i = 0; i < n * 8; i++) { X[i] += 0.3 * rng_normal(&g); Y[i] += 0.3 * rng_normal(&g); }
    assert_int_equal(cca_cv(X, n, 8, Y, 8, &o, &r, err), 0);
    assert_true(r.cca_mean > 0.8 && r.svcca > 0.8 && r.pwcca > 0.8);
    assert_true(r.cca_mean <= 1 && r.pwcca <= 1);
    free(Z); free(A); free(B); free(X); free(Y);
}

/* The identifiability rule: units of either side >= half the stimuli -> not identifiable,
 * NaN scores, a reason naming the side; not an error. */
static void cca_identifiability_rule(void **state) {
    (void)state;
    char reason[200], err[TB_ERRLEN];
    assert_int_equal(cca_identifiable(240, 64, 256, reason, sizeof reason), 0);
    assert_non_null(strstr(reason, "B has 256 units for 240 stimuli"));
    assert_int_equal(cca_identifiable(20, 10, 3, reason, sizeof reason), 0);
    assert_non_null(strstr(reason, "A has 10"));
    assert_int_equal(cca_identifiable(20, 9, 9, reason, sizeof reason), 1);
    assert_int_equal(reason[0], 0);
    tb_rng g;
    rng_seed(&g, 26);
    double *X = randm(&g, 20, 10), *Y = randm(&g, 20, 4);
    cca_cv_opts o;
    cca_cv_result r;
    cca_cv_opts_default(&o);
    assert_int_equal(cca_cv(X, 20, 10, Y, 4, &o, &r, err), 0);
    assert_true(!r.identifiable && isnan(r.cca_mean) && isnan(r.svcca) && isnan(r.pwcca));
    assert_non_null(strstr(r.reason, "not identifiable"));
    free(X); free(Y);
}

/* ---- Procrustes -------------------------------------------------------------------- */

static void procrustes_hand_worked_and_invariant(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    double x[5] = {1, 2, 3, 4, 10}, y[5] = {2, 1, 4, 3, 7}, e, a;
    assert_int_equal(procrustes(x, 5, 1, y, 1, &e, &a, err), 0);
    double r = fabs(pearson(x, y, 5));
    assert_true(fabs(e - sqrt(2 - 2 * r)) < 1e-12 && fabs(a - acos(r)) < 1e-12);

    tb_rng g;
    rng_seed(&g, 14);
    int n = 30, p = 8;
    double *X = randm(&g, n, p), *Q = rand_orth(&g, p);
    double *XQ = matmul(X, n, p, Q, p);
    for (int i = 0; i < n * p; i++) XQ[i] = 0.1 * XQ[i] - 4;
    assert_int_equal(procrustes(X, n, p, XQ, p, &e, &a, err), 0);
    assert_true(e < 1e-6 && a < 1e-6); /* sqrt amplifies rounding: 1e-12 -> 1e-6 */
    /* different widths: padding with a zero column changes nothing */
    double *Xp = calloc((size_t)n * (p + 1), 8);
    for (int i = 0; i < n; i++) memcpy(Xp + i * (p + 1), X + i * p, p * 8);
    assert_int_equal(procrustes(X, n, p, Xp, p + 1, &e, &a, err), 0);
    assert_true(e < 1e-6);
    /* n < p on both sides (Gram-space path) against the nuclear norm from an SVD */
    int m = 6, q = 15;
    double *A = randm(&g, m, q), *B = randm(&g, m, q + 3);
    assert_int_equal(procrustes(A, m, q, B, q + 3, &e, &a, err), 0);
    la_center_columns(m, q, A);
    la_center_columns(m, q + 3, B);
    double na = 0, nb = 0;
    for (int i = 0; i < m * q; i++) na += A[i] * A[i];
    for (int i = 0; i < m * (q + 3); i++) nb += B[i] * B[i];
    double *M = malloc((size_t)q * (q + 3) * 8), S[15];
    la_gemm_tn(m, q, q + 3, A, B, M);
    assert_int_equal(la_svd(q, q + 3, M, NULL, S, NULL, err), 0);
    double nuc = 0;
    for (int i = 0; i < q; i++) nuc += S[i];
    nuc /= sqrt(na * nb);
    assert_true(fabs(a - acos(nuc)) < 1e-9);
    assert_true(fabs(e - sqrt(2 - 2 * nuc)) < 1e-9);
    free(X); free(Q); free(XQ); free(Xp); free(A); free(B); free(M);
}

/* Procrustes is a metric: the triangle inequality holds for the angular distance. */
static void procrustes_triangle_inequality(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 15);
    for (int t = 0; t < 20; t++) {
        double *A = randm(&g, 12, 4), *B = randm(&g, 12, 5), *C = randm(&g, 12, 3), e, ab, bc, ac;
        assert_int_equal(procrustes(A, 12, 4, B, 5, &e, &ab, err), 0);
        assert_int_equal(procrustes(B, 12, 5, C, 3, &e, &bc, err), 0);
        assert_int_equal(procrustes(A, 12, 4, C, 3, &e, &ac, err), 0);
        assert_true(ac <= ab + bc + 1e-12);
        free(A); free(B); free(C);
    }
}

/* ---- encoding models and noise ceilings ---------------------------------------------- */

static void encoding_recovers_a_linear_map(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 16);
    int n = 200, px = 10, py = 6;
    double *X = randm(&g, n, px), *B = randm(&g, px, py), *Y = matmul(X, n, px, B, py);
    enc_opts o;
    enc_opts_default(&o);
    enc_result r;
    assert_int_equal(encoding_fit(X, n, px, Y, NULL, 0, py, &o, &r, err), 0);
    assert_true(r.r_median > 0.999);
    assert_true(isnan(r.noise_ceiling) && isnan(r.r_ceiled));
    enc_result_free(&r);
    /* independent target: held-out r near 0 (sd ~ 1/sqrt(n) = 0.07 per unit; median of 6) */
    double *N = randm(&g, n, py);
    assert_int_equal(encoding_fit(X, n, px, N, NULL, 0, py, &o, &r, err), 0);
    assert_true(fabs(r.r_median) < 0.15);
    enc_result_free(&r);
    /* more features than stimuli: ridge keeps it finite */
    double *W = randm(&g, 40, 300), *Yw = randm(&g, 40, 3);
    assert_int_equal(encoding_fit(W, 40, 300, Yw, NULL, 0, 3, &o, &r, err), 0);
    assert_true(isfinite(r.r_median));
    enc_result_free(&r);
    /* folds out of range */
    o.folds = 1;
    assert_int_equal(encoding_fit(X, n, px, Y, NULL, 0, py, &o, &r, err), -1);
    free(X); free(B); free(Y); free(N); free(W); free(Yw);
}

/* Independent data: held-out r must be centred on 0.  Scoring the pooled out-of-fold
 * predictions gave a median r of about -0.1 at 300 x 256 vs 300 x 48 (each fold predicts
 * around its training mean, which sits opposite its held-out values).  Per-fold r is
 * symmetric about 0; the median over 48 units of a 5-fold mean has sd ~0.012, so three
 * draws must each land within 0.03. */
static void encoding_is_unbiased_under_the_null(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    int n = 300, px = 256, py = 48;
    for (int rep = 0; rep < 3; rep++) {
        tb_rng g;
        rng_seed(&g, 100 + (uint64_t)rep);
        double *X = randm(&g, n, px), *Y = randm(&g, n, py);
        enc_opts o;
        enc_opts_default(&o);
        o.seed = (uint64_t)rep;
        enc_result r;
        assert_int_equal(encoding_fit(X, n, px, Y, NULL, 0, py, &o, &r, err), 0);
        assert_true(fabs(r.r_median) < 0.03);
        enc_result_free(&r);
        free(X);
        free(Y);
    }
}

/* Y_trials = signal (variance S) + trial noise (variance E), T trials: the split-half
 * correlation is S / (S + 2E/T) and its Spearman-Brown correction S / (S + E/T); the
 * ceiling on r is the square root of that. */
static void noise_ceiling_matches_analytic_reliability(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 17);
    int T = 8, n = 400, py = 40;
    double S = 1, E = 4;
    double *sig = randm(&g, n, py), *Yt = malloc((size_t)T * n * py * 8);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < n * py; i++) Yt[(size_t)t * n * py + i] = sqrt(S) * sig[i] + sqrt(E) * rng_normal(&g);
    double med, *pu = malloc((size_t)py * 8);
    assert_int_equal(noise_ceiling(Yt, T, n, py, 10, 1, pu, &med, err), 0);
    double expect = sqrt(S / (S + E / T)); /* sqrt(2/3) = 0.816 */
    /* per-unit sd ~0.02 at n=400; the median of 40 units is well inside 0.03 */
    assert_true(fabs(med - expect) < 0.03);
    /* an encoding model given the true signal as features: ceiled r ~ 1 */
    enc_opts o;
    enc_opts_default(&o);
    enc_result r;
    double *X = malloc((size_t)n * 5 * 8), *Y5 = malloc((size_t)T * n * 5 * 8);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 5; j++) {
            X[i * 5 + j] = sig[i * py + j];
            for (int t = 0; t < T; t++) Y5[((size_t)t * n + i) * 5 + j] = Yt[((size_t)t * n + i) * py + j];
        }
    assert_int_equal(encoding_fit(X, n, 5, NULL, Y5, T, 5, &o, &r, err), 0);
    /* expected raw r = sqrt(S/(S + E/T)) = 0.816 per unit, so the ceiled r of this perfect
     * model is 1 (within the two estimates' sampling error, ~0.03 each) */
    assert_true(fabs(r.r_median - expect) < 0.06);
    assert_true(fabs(r.r_ceiled - 1) < 0.07);
    assert_true(fabs(r.r_ceiled - r.r_median / r.noise_ceiling) < 1e-12);
    enc_result_free(&r);
    assert_int_equal(noise_ceiling(Yt, 1, n, py, 10, 1, pu, &med, err), -1); /* 1 trial */
    /* an odd count: halves of 1 trial each, corrected to all 3 (not to 2): sqrt(1/(1 + 4/3)) = 0.655,
     * where a correction to 2 trials would give sqrt(1/3) = 0.577 */
    assert_int_equal(noise_ceiling(Yt, 3, n, py, 10, 1, pu, &med, err), 0);
    print_message("3 trials: ceiling %.3f (analytic %.3f)\n", med, sqrt(S / (S + E / 3)));
    assert_true(fabs(med - sqrt(S / (S + E / 3))) < 0.04);
    free(sig); free(Yt); free(pu); free(X); free(Y5);
}

/* A population with no reliable stimulus signal (every trial independent noise) still
 * has a small median ceiling (0 to 0.17 over ten draws here); dividing by it turned a small
 * r into a large ceiled score.  Below min_ceiling the ceiled score is NaN, with the
 * reason in the status; a reliable population keeps its ceiled score. */
static void ceiled_score_undefined_below_the_minimum_ceiling(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 25); /* a draw whose median ceiling is 0.17: the old code divided by it */
    int T = 4, n = 240, px = 16, py = 64;
    double *X = randm(&g, n, px), *Yt = randm(&g, T * n, py);
    enc_opts o;
    enc_opts_default(&o);
    enc_result r;
    assert_int_equal(encoding_fit(X, n, px, NULL, Yt, T, py, &o, &r, err), 0);
    assert_true(r.noise_ceiling > 0 && r.noise_ceiling < o.min_ceiling);
    assert_true(isnan(r.r_ceiled));
    assert_int_equal(r.ceiling_status, ENC_CEIL_TOO_LOW);
    assert_non_null(strstr(enc_ceiling_reason(r.ceiling_status), "no reliable stimulus signal"));
    enc_result_free(&r);
    /* the same through align_all */
    align_opts ao;
    align_result ar;
    align_opts_default(&ao);
    ao.rsa = ao.cka = ao.cca = ao.procrustes = 0;
    ao.encoding = 1;
    assert_int_equal(align_all(X, n, px, Yt, py, Yt, T, &ao, &ar, err), 0);
    assert_true(isnan(ar.encoding_r_ceiled) && ar.ceiling_status == ENC_CEIL_TOO_LOW);
    /* a reliable population: signal shared by the trials, the ceiling defined */
    double *sig = randm(&g, n, py);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < n * py; i++) Yt[(size_t)t * n * py + i] += 2 * sig[i];
    assert_int_equal(encoding_fit(X, n, px, NULL, Yt, T, py, &o, &r, err), 0);
    assert_int_equal(r.ceiling_status, ENC_CEIL_OK);
    assert_true(r.noise_ceiling > 0.9 && isfinite(r.r_ceiled));
    enc_result_free(&r);
    /* without trials: no ceiling */
    assert_int_equal(encoding_fit(X, n, px, sig, NULL, 0, py, &o, &r, err), 0);
    assert_int_equal(r.ceiling_status, ENC_CEIL_NO_TRIALS);
    enc_result_free(&r);
    align_opts_default(&ao);
    assert_int_equal(align_all(X, n, px, sig, py, NULL, 0, &ao, &ar, err), 0);
    assert_int_equal(ar.ceiling_status, ENC_CEIL_NOT_RUN);
    free(X); free(Yt); free(sig);
}

/* Variance partitioning against known shares.  Per unit
 *     y = sqrt(.3) C w_c + sqrt(.2) Ua w_a + sqrt(.1) Ub w_b + sqrt(.4) noise,
 * C, Ua, Ub independent standard normal (n x 3 each), w unit vectors; A = [C, Ua],
 * B = [C, Ub].  So R^2(A,B) = .6, R^2(A) = .5, R^2(B) = .4: unique to A .2, unique to
 * B .1, shared .3.  At n = 600 the held-out estimates lose ~p/n ~ 0.01-0.02 to the fit;
 * the medians over 20 units must land within 0.04. */
static void variance_partition_recovers_known_shares(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 27);
    int n = 600, py = 20;
    double *C = randm(&g, n, 3), *Ua = randm(&g, n, 3), *Ub = randm(&g, n, 3), *W = randm(&g, 9, py);
    double *A = malloc((size_t)n * 6 * 8), *B = malloc((size_t)n * 6 * 8), *Y = malloc((size_t)n * py * 8);
    for (int c = 0; c < py; c++) /* unit-length weights within each block of three */
        for (int blk = 0; blk < 3; blk++) {
            double nn = 0;
            for (int k = 0; k < 3; k++) nn += W[(blk * 3 + k) * py + c] * W[(blk * 3 + k) * py + c];
            for (int k = 0; k < 3; k++) W[(blk * 3 + k) * py + c] /= sqrt(nn);
        }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            A[i * 6 + k] = B[i * 6 + k] = C[i * 3 + k];
            A[i * 6 + 3 + k] = Ua[i * 3 + k];
            B[i * 6 + 3 + k] = Ub[i * 3 + k];
        }
        for (int c = 0; c < py; c++) {
            double sc = 0, sa = 0, sb = 0;
            for (int k = 0; k < 3; k++) {
                sc += C[i * 3 + k] * W[k * py + c];
                sa += Ua[i * 3 + k] * W[(3 + k) * py + c];
                sb += Ub[i * 3 + k] * W[(6 + k) * py + c];
            }
            Y[i * py + c] = sqrt(.3) * sc + sqrt(.2) * sa + sqrt(.1) * sb + sqrt(.4) * rng_normal(&g);
        }
    }
    enc_opts o;
    enc_opts_default(&o);
    varpart_result r;
    assert_int_equal(variance_partition(A, 6, B, 6, n, Y, NULL, 0, py, &o, &r, err), 0);
    assert_true(fabs(r.median_r2_joint - 0.6) < 0.04);
    assert_true(fabs(r.median_r2_a - 0.5) < 0.04 && fabs(r.median_r2_b - 0.4) < 0.04);
    assert_true(fabs(r.median_unique_a - 0.2) < 0.04);
    assert_true(fabs(r.median_unique_b - 0.1) < 0.04);
    assert_true(fabs(r.median_shared - 0.3) < 0.04);
    for (int c = 0; c < py; c++) /* the identities hold unit by unit */
        assert_true(fabs(r.unique_a[c] + r.unique_b[c] + r.shared[c] - r.r2_joint[c]) < 1e-12);
    varpart_result_free(&r);
    free(C); free(Ua); free(Ub); free(W); free(A); free(B); free(Y);
}

/* ---- statistics ------------------------------------------------------------------- */

static void permutation_p_is_uniform_under_the_null(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 18);
    int n = 10, reps = 300, below = 0;
    double sum = 0, Da[100], Db[100];
    for (int t = 0; t < reps; t++) {
        double *X = randm(&g, n, 4), *Y = randm(&g, n, 4);
        assert_int_equal(align_rdm(X, n, 4, RDM_EUCLIDEAN, Da, err), 0);
        assert_int_equal(align_rdm(Y, n, 4, RDM_EUCLIDEAN, Db, err), 0);
        double p = rsa_permutation_p(Da, Db, n, 99, (uint64_t)t, NULL);
        assert_true(p >= 0.01 && p <= 1);
        sum += p;
        below += p <= 0.1;
        free(X);
        free(Y);
    }
    /* uniform: mean 0.5 (se 0.017), P(p <= 0.1) = 0.1 (se 0.017) -- 4 se bands */
    assert_true(fabs(sum / reps - 0.5) < 0.07);
    assert_true(fabs(below / (double)reps - 0.1) < 0.07);
    /* a strong relation: no permutation beats it, p = 1 / (1 + n_perm) */
    double *X = randm(&g, 30, 4), D1[900], D2[900], obs;
    assert_int_equal(align_rdm(X, 30, 4, RDM_EUCLIDEAN, D1, err), 0);
    assert_int_equal(align_rdm(X, 30, 4, RDM_EUCLIDEAN, D2, err), 0);
    assert_true(fabs(rsa_permutation_p(D1, D2, 30, 199, 1, &obs) - 1.0 / 200) < 1e-15);
    assert_true(fabs(obs - 1) < 1e-12);
    free(X);
}

static void align_all_identical_and_related(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 19);
    int n = 60, p = 10;
    double *X = randm(&g, n, p);
    align_opts o;
    align_result r, r2;
    align_opts_default(&o);
    o.encoding = 1;
    o.perm = 50;
    o.boot = 50;
    assert_int_equal(align_all(X, n, p, X, p, NULL, 0, &o, &r, err), 0);
    assert_true(fabs(r.rsa_spearman - 1) < 1e-12 && fabs(r.rsa_kendall_a - 1) < 1e-12);
    assert_true(fabs(r.rsa_pearson - 1) < 1e-12 && fabs(r.cka_linear - 1) < 1e-12);
    assert_true(fabs(r.cka_rbf - 1) < 1e-12 && fabs(r.cka_linear_debiased - 1) < 1e-12);
    assert_true(fabs(r.cca_mean - 1) < 1e-5 && fabs(r.svcca - 1) < 1e-5 && fabs(r.pwcca - 1) < 1e-5);
    assert_true(r.procrustes_euclidean < 1e-6 && r.procrustes_angular < 1e-6);
    assert_true(r.encoding_r_median > 0.999 && isnan(r.noise_ceiling));
    assert_true(fabs(r.rsa_perm_p - 1.0 / 51) < 1e-15 && fabs(r.cka_perm_p - 1.0 / 51) < 1e-15);
    assert_true(r.rsa_spearman_ci_low <= 1 && r.rsa_spearman_ci_high <= 1 + 1e-12);
    assert_int_equal(r.cca_warning, 0);
    /* related data: the bootstrap interval brackets the estimate; same seed, same numbers */
    double *Y = randm(&g, n, p);
    for (int i = 0; i < n * p; i++) Y[i] += X[i];
    assert_int_equal(align_all(X, n, p, Y, p, NULL, 0, &o, &r, err), 0);
    assert_int_equal(align_all(X, n, p, Y, p, NULL, 0, &o, &r2, err), 0);
    for (int i = 0; i < align_result_nfields(); i++) { /* field by field: the struct has padding */
        double a = align_result_get(&r, i), b = align_result_get(&r2, i);
        assert_true(a == b || (isnan(a) && isnan(b)));
    }
    assert_true(r.rsa_spearman_ci_low <= r.rsa_spearman && r.rsa_spearman <= r.rsa_spearman_ci_high);
    assert_true(r.cka_linear_ci_low <= r.cka_linear && r.cka_linear <= r.cka_linear_ci_high);
    assert_true(r.rsa_spearman_ci_high - r.rsa_spearman_ci_low > 0.01);
    /* metrics not asked for are NaN */
    align_opts_default(&o);
    o.cca = o.procrustes = 0;
    assert_int_equal(align_all(X, n, p, Y, p, NULL, 0, &o, &r, err), 0);
    assert_true(isnan(r.cca_mean) && isnan(r.procrustes_angular) && isnan(r.rsa_perm_p) && !isnan(r.cka_rbf));
    free(X);
    free(Y);
}

/* The CKA bootstrap interval must cover the estimate.  Resampling with replacement puts
 * copies of a stimulus side by side, and the Gram entry of a stimulus with its own copy
 * is a squared norm, large in both sides: kept, it raised every resampled CKA (weak
 * shared signal, 240 stimuli, 64 vs 256 units: estimate ~0.33, old interval ~[0.35,
 * 0.43], above it).  With those pairs dropped the estimate sits inside, near the middle. */
static void cka_bootstrap_interval_covers_the_estimate(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    int n = 240, px = 64, py = 256, k = 8;
    for (int rep = 0; rep < 3; rep++) {
        tb_rng g;
        rng_seed(&g, 40 + (uint64_t)rep);
        double *Z = randm(&g, n, k), *A = randm(&g, k, px), *B = randm(&g, k, py);
        double *X = matmul(Z, n, k, A, px), *Y = matmul(Z, n, k, B, py);
        for (int i = 0; i < n * px; i++) X[i] = 0.2 * X[i] + rng_normal(&g);
        for (int i = 0; i < n * py; i++) Y[i] = 0.2 * Y[i] + 2 * rng_normal(&g);
        align_opts o;
        align_result r;
        align_opts_default(&o);
        o.rsa = o.cca = o.procrustes = 0;
        o.boot = 200;
        o.seed = (uint64_t)rep;
        assert_int_equal(align_all(X, n, px, Y, py, NULL, 0, &o, &r, err), 0);
        assert_true(r.cka_linear_ci_low < r.cka_linear && r.cka_linear < r.cka_linear_ci_high);
        /* near the middle: within the central 80% of the interval */
        double w = r.cka_linear_ci_high - r.cka_linear_ci_low;
        assert_true(r.cka_linear > r.cka_linear_ci_low + 0.1 * w && r.cka_linear < r.cka_linear_ci_high - 0.1 * w);
        free(Z); free(A); free(B); free(X); free(Y);
    }
}

/* Best layer by bootstrap: a clearly better layer wins nearly every resample; two layers
 * of the same quality split them; identical layers share each win exactly; p_best sums
 * to 1 and is the same for any thread count. */
static void best_layer_probability(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 28);
    int n = 80, p = 12;
    double *Y = randm(&g, n, p), *L[4];
    for (int l = 0; l < 4; l++) {
        L[l] = randm(&g, n, p);
        double noise = l == 0 ? 0.3 : 1.5; /* 0 best, 1 and 2 alike, 3 unrelated */
        for (int i = 0; l < 3 && i < n * p; i++) L[l][i] = Y[i] + noise * L[l][i];
    }
    const double *layers[4] = {L[0], L[1], L[2], L[3]};
    int widths[4] = {p, p, p, p};
    double pb[4], pb3[4];
    for (int m = 0; m <= BOOT_CKA_LINEAR; m++) {
        assert_int_equal(boot_metric_from_name(boot_metric_name((boot_metric)m)), m);
        assert_int_equal(best_layer_p(layers, widths, 4, n, Y, p, (boot_metric)m, RDM_CORRELATION, 100, 5, pb, err), 0);
        assert_true(pb[0] > 0.95 && fabs(pb[0] + pb[1] + pb[2] + pb[3] - 1) < 1e-12);
        /* without layer 0: layers 1 and 2 are alike, so neither wins every resample */
        assert_int_equal(best_layer_p(layers + 1, widths, 3, n, Y, p, (boot_metric)m, RDM_CORRELATION, 200, 5, pb, err), 0);
        assert_true(pb[0] > 0.1 && pb[1] > 0.1 && pb[2] < 0.02);
        tb_threads_init(3);
        assert_int_equal(best_layer_p(layers + 1, widths, 3, n, Y, p, (boot_metric)m, RDM_CORRELATION, 200, 5, pb3, err), 0);
        tb_threads_init(1);
        assert_memory_equal(pb, pb3, sizeof(double) * 3);
    }
    assert_int_equal(boot_metric_from_name("pwcca"), -1);
    /* identical layers tie in every resample: 0.5 each */
    const double *twins[2] = {L[1], L[1]};
    assert_int_equal(best_layer_p(twins, widths, 2, n, Y, p, BOOT_CKA_LINEAR, RDM_CORRELATION, 50, 1, pb, err), 0);
    assert_true(pb[0] == 0.5 && pb[1] == 0.5);
    /* the score matrix behind it: resample b is the same stimuli in every call with the
     * same seed, so a layer scored against Y and Y scored against the layer agree
     * resample by resample (RSA and CKA are symmetric), and p_best from the matrix is
     * best_layer_p's */
    double *S1 = malloc(sizeof(double) * 60 * 2), *S2 = malloc(sizeof(double) * 60);
    assert_int_equal(boot_scores(layers, widths, 2, n, Y, p, BOOT_RSA_SPEARMAN, RDM_CORRELATION, 60, 9, S1, err), 0);
    assert_int_equal(boot_scores((const double *const *)&Y, widths, 1, n, L[0], p, BOOT_RSA_SPEARMAN, RDM_CORRELATION, 60, 9,
                                 S2, err), 0);
    for (int b = 0; b < 60; b++) assert_true(fabs(S1[b * 2] - S2[b]) < 1e-12);
    boot_p_best(S1, 60, 2, pb3);
    assert_int_equal(best_layer_p(layers, widths, 2, n, Y, p, BOOT_RSA_SPEARMAN, RDM_CORRELATION, 60, 9, pb, err), 0);
    assert_memory_equal(pb, pb3, sizeof(double) * 2);
    free(S1);
    free(S2);
    for (int l = 0; l < 4; l++) free(L[l]);
    free(Y);
}

/* PCA: the scores' column norms are X's singular values (centred), the columns are
 * uncorrelated, and k = rank keeps everything (linear CKA with X is 1), by either route
 * (p <= n through X^T X, p > n through X X^T). */
static void pca_scores(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 29);
    int shapes[2][2] = {{50, 8}, {12, 40}};
    for (int s = 0; s < 2; s++) {
        int n = shapes[s][0], p = shapes[s][1], k = 5;
        double *X = randm(&g, n, p), *Z = malloc((size_t)n * k * 8), *Xc = malloc((size_t)n * p * 8), S[40], v;
        memcpy(Xc, X, (size_t)n * p * 8);
        la_center_columns(n, p, Xc);
        assert_int_equal(la_svd(n, p, Xc, NULL, S, NULL, err), 0);
        assert_int_equal(align_pca(X, n, p, k, Z, err), 0);
        for (int a = 0; a < k; a++) {
            double na = 0, mx = 0;
            for (int i = 0; i < n; i++) {
                na += Z[i * k + a] * Z[i * k + a];
                if (fabs(Z[i * k + a]) > fabs(mx)) mx = Z[i * k + a];
            }
            assert_true(fabs(sqrt(na) - S[a]) < 1e-9 * S[0]);
            assert_true(mx > 0); /* sign convention */
            for (int b = 0; b < a; b++) {
                double d = 0;
                for (int i = 0; i < n; i++) d += Z[i * k + a] * Z[i * k + b];
                assert_true(fabs(d) < 1e-9 * S[0] * S[0]);
            }
        }
        free(Z);
        /* a rank-3 side keeps everything in 3 components */
        double *W = randm(&g, 3, p), *X3 = matmul(X, n, 3, W, p);
        Z = malloc((size_t)n * 3 * 8);
        assert_int_equal(align_pca(X3, n, p, 3, Z, err), 0);
        assert_int_equal(cka_linear(X3, n, p, Z, 3, &v, err), 0);
        assert_true(fabs(v - 1) < 1e-9);
        assert_int_equal(align_pca(X, n, p, n, Z, err), -1); /* k > n - 1 */
        free(X); free(Z); free(Xc); free(W); free(X3);
    }
}

/* Random unit subsets.  Known answer: every unit of X a multiple of one vector z, so any
 * subset has the same Euclidean RDM (up to scale) and Gram matrix (up to scale): RSA and
 * CKA of every draw equal the full comparison, the interval has zero width.  Width
 * confound: biased CKA of independent noise falls from ~p/(n+p) at 64 units to ~8/(n+8)
 * with 8-unit subsets.  Results do not depend on the thread count. */
static void unit_subsets_control(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 30);
    int n = 60, p = 20, py = 7;
    double *z = randm(&g, n, 1), *X = malloc((size_t)n * p * 8), *Y = randm(&g, n, py);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) X[i * p + j] = (j + 1) * z[i];
    for (int i = 0; i < n * py; i++) Y[i] += z[i / py];
    align_opts o;
    align_result full, mean, lo, hi;
    align_opts_default(&o);
    o.rdm = RDM_EUCLIDEAN;
    o.cca = o.procrustes = 0;
    assert_int_equal(align_all(X, n, p, Y, py, NULL, 0, &o, &full, err), 0);
    assert_int_equal(align_units_control(X, n, p, Y, py, NULL, 0, 5, 10, ALIGN_UNITS_A, 1, &o, &mean, &lo, &hi, err), 0);
    assert_true(fabs(mean.rsa_spearman - full.rsa_spearman) < 1e-12 && fabs(mean.cka_linear - full.cka_linear) < 1e-12);
    assert_true(hi.cka_linear - lo.cka_linear < 1e-12 && hi.rsa_spearman - lo.rsa_spearman < 1e-12);
    assert_true(isnan(mean.cca_mean)); /* not asked for: NaN as in align_all */
    free(z); free(X); free(Y);
    n = 100;
    X = randm(&g, n, 64);
    Y = randm(&g, n, 64);
    o.rdm = RDM_CORRELATION;
    assert_int_equal(align_all(X, n, 64, Y, 64, NULL, 0, &o, &full, err), 0);
    assert_int_equal(align_units_control(X, n, 64, Y, 64, NULL, 0, 8, 20, ALIGN_UNITS_A | ALIGN_UNITS_B, 2, &o, &mean, &lo, &hi, err), 0);
    assert_true(full.cka_linear > 0.3 && mean.cka_linear < 0.2); /* ~0.39 vs ~0.1 */
    assert_true(lo.cka_linear <= mean.cka_linear && mean.cka_linear <= hi.cka_linear && hi.cka_linear > lo.cka_linear);
    align_result m3, l3, h3;
    tb_threads_init(3);
    assert_int_equal(align_units_control(X, n, 64, Y, 64, NULL, 0, 8, 20, ALIGN_UNITS_A | ALIGN_UNITS_B, 2, &o, &m3, &l3, &h3, err), 0);
    tb_threads_init(1);
    for (int i = 0; i < align_result_nfields(); i++) {
        double a = align_result_get(&mean, i), b = align_result_get(&m3, i);
        assert_true(a == b || (isnan(a) && isnan(b)));
    }
    assert_string_equal(align_result_key(3), "cka_linear");
    assert_null(align_result_key(align_result_nfields()));
    assert_int_equal(align_units_control(X, n, 64, Y, 64, NULL, 0, 0, 20, ALIGN_UNITS_A, 2, &o, &m3, &l3, &h3, err), -1);
    /* sparse like spiking rates: stimulus 0 is silent on all but 4 of 64 units; a subset
     * that misses all 4 leaves it constant and is redrawn, so every repeat succeeds */
    for (int u = 4; u < 64; u++) Y[u] = 0;
    assert_int_equal(align_units_control(X, n, 64, Y, 64, NULL, 0, 8, 20, ALIGN_UNITS_B, 2, &o, &m3, &l3, &h3, err), 0);
    assert_true(isfinite(m3.rsa_spearman) && isfinite(l3.rsa_spearman));
    /* silent on every unit: no subset can vary, a clear error */
    Y[0] = Y[1] = Y[2] = Y[3] = 0;
    assert_int_equal(align_units_control(X, n, 64, Y, 64, NULL, 0, 8, 20, ALIGN_UNITS_B, 2, &o, &m3, &l3, &h3, err), -1);
    assert_non_null(strstr(err, "constant pattern"));
    free(X); free(Y);
}

static void align_all_rank_deficient_and_bad_input(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng g;
    rng_seed(&g, 20);
    int n = 10, p = 50;
    /* rank 2 inside 50 units, fewer stimuli than units */
    double *Z = randm(&g, n, 2), *W = randm(&g, 2, p), *X = matmul(Z, n, 2, W, p), *Y = randm(&g, n, 7);
    align_opts o;
    align_result r;
    align_opts_default(&o);
    o.encoding = 1;
    o.enc.folds = 5;
    assert_int_equal(align_all(X, n, p, Y, 7, NULL, 0, &o, &r, err), 0);
    for (int i = 0; i < 12; i++) assert_true(isfinite(align_result_get(&r, i))); /* up to encoding_r_median */
    assert_string_equal(align_result_key(11), "encoding_r_median");
    X[17] = NAN;
    assert_int_equal(align_all(X, n, p, Y, 7, NULL, 0, &o, &r, err), -1);
    assert_non_null(strstr(err, "non-finite"));
    assert_int_equal(align_all(Y, 2, 7, Y, 7, NULL, 0, &o, &r, err), -1);
    free(Z); free(W); free(X); free(Y);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rdm_hand_worked),
        cmocka_unit_test(spearman_ties_hand_worked),
        cmocka_unit_test(kendall_matches_brute_force_with_ties),
        cmocka_unit_test(spearman_invariant_to_monotone_transform),
        cmocka_unit_test(partial_rsa_hand_worked),
        cmocka_unit_test(cka_linear_closed_forms),
        cmocka_unit_test(cka_invariances),
        cmocka_unit_test(cka_rbf_reference_bandwidth),
        cmocka_unit_test(cka_debiased_matches_song_and_is_near_zero_for_noise),
        cmocka_unit_test(cca_hand_worked_and_invariant),
        cmocka_unit_test(cca_when_p_approaches_n_goes_to_one),
        cmocka_unit_test(pwcca_ignores_null_canonical_variates),
        cmocka_unit_test(svcca_keeps_the_signal_subspace),
        cmocka_unit_test(cca_gram_form_matches_feature_form),
        cmocka_unit_test(cca_cv_noise_near_zero_signal_high),
        cmocka_unit_test(cca_identifiability_rule),
        cmocka_unit_test(procrustes_hand_worked_and_invariant),
        cmocka_unit_test(procrustes_triangle_inequality),
        cmocka_unit_test(encoding_recovers_a_linear_map),
        cmocka_unit_test(encoding_is_unbiased_under_the_null),
        cmocka_unit_test(noise_ceiling_matches_analytic_reliability),
        cmocka_unit_test(ceiled_score_undefined_below_the_minimum_ceiling),
        cmocka_unit_test(variance_partition_recovers_known_shares),
        cmocka_unit_test(permutation_p_is_uniform_under_the_null),
        cmocka_unit_test(align_all_identical_and_related),
        cmocka_unit_test(cka_bootstrap_interval_covers_the_estimate),
        cmocka_unit_test(best_layer_probability),
        cmocka_unit_test(pca_scores),
        cmocka_unit_test(unit_subsets_control),
        cmocka_unit_test(align_all_rank_deficient_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
