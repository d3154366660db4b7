/* test_linalg.c -- eigh, SVD, Cholesky, least squares: hand-worked matrices and the
 * identities that define them (A V = V diag(w), U S V^T = A, orthonormal factors).
 * Tolerances are multiples of n * eps * ||A|| (backward-stable algorithms). */
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

static void eigh_hand_worked(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    /* [[2,1],[1,2]]: eigenvalues 3 and 1, vectors (1,1)/sqrt2 and (1,-1)/sqrt2 */
    double A[4] = {2, 1, 1, 2}, w[2], V[4];
    assert_int_equal(la_eigh(2, A, w, V, err), 0);
    assert_true(fabs(w[0] - 3) < 1e-14 && fabs(w[1] - 1) < 1e-14);
    assert_true(fabs(fabs(V[0]) - M_SQRT1_2) < 1e-14 && fabs(V[0] - V[2]) < 1e-14); /* column 0 = (1,1)/sqrt2 */
    /* diagonal with a repeated value, 1x1, and zero */
    double D[9] = {5, 0, 0, 0, -1, 0, 0, 0, 5}, w3[3], V3[9];
    assert_int_equal(la_eigh(3, D, w3, V3, err), 0);
    assert_true(w3[0] == 5 && w3[1] == 5 && w3[2] == -1);
    double one = 7, w1, v1;
    assert_int_equal(la_eigh(1, &one, &w1, &v1, err), 0);
    assert_true(w1 == 7 && fabs(fabs(v1) - 1) < 1e-15);
    double Z[4] = {0, 0, 0, 0};
    assert_int_equal(la_eigh(2, Z, w, V, err), 0);
    assert_true(w[0] == 0 && w[1] == 0);
    double bad[1] = {NAN};
    assert_int_equal(la_eigh(1, bad, w, V, err), -1);
}

static void eigh_identities(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_rng r;
    rng_seed(&r, 1);
    int sizes[5] = {2, 3, 17, 64, 129};
    for (int s = 0; s < 5; s++) {
        int n = sizes[s];
        double *B = randm(&r, n, n), *A = malloc((size_t)n * n * 8), *w = malloc((size_t)n * 8), *V = malloc((size_t)n * n * 8);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) A[i * n + j] = B[i * n + j] + B[j * n + i];
        double norm = 0;
        for (int i = 0; i < n * n; i++) norm += A[i] * A[i];
        norm = sqrt(norm);
        assert_int_equal(la_eigh(n, A, w, V, err), 0);
        for (int j = 1; j < n; j++) assert_true(w[j] <= w[j - 1]);
        double tol = 1e-13 * n * norm;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double av = 0, vtv = 0;
                for (int k = 0; k < n; k++) { av += A[i * n + k] * V[k * n + j]; vtv += V[k * n + i] * V[k * n + j]; }
                assert_true(fabs(av - w[j] * V[i * n + j]) < tol);
                assert_true(fabs(vtv - (i == j)) < 1e-12 * n);
            }
        free(B); free(A); free(w); free(V);
    }
}

static void check_svd(int m, int n, const double *A) {
    char err[TB_ERRLEN];
    int k = m < n ? m : n;
    double *U = malloc((size_t)m * k * 8), *S = malloc((size_t)k * 8), *Vt = malloc((size_t)k * n * 8);
    assert_int_equal(la_svd(m, n, A, U, S, Vt, err), 0);
    double norm = 0;
    for (int i = 0; i < m * n; i++) norm += A[i] * A[i];
    norm = sqrt(norm) + 1e-300;
    for (int j = 1; j < k; j++) assert_true(S[j] <= S[j - 1] && S[j] >= 0);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double t = 0;
            for (int r = 0; r < k; r++) t += U[i * k + r] * S[r] * Vt[r * n + j];
            if (fabs(t - A[i * n + j]) > 1e-12 * (m + n) * norm) fail_msg("svd %dx%d: reconstruction off at %d,%d", m, n, i, j);
        }
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            double uu = 0, vv = 0;
            for (int i = 0; i < m; i++) uu += U[i * k + a] * U[i * k + b];
            for (int j = 0; j < n; j++) vv += Vt[a * n + j] * Vt[b * n + j];
            if (fabs(uu - (a == b)) > 1e-10 || fabs(vv - (a == b)) > 1e-10) fail_msg("svd %dx%d: factors not orthonormal (%d,%d)", m, n, a, b);
        }
    free(U); free(S); free(Vt);
}

static void svd_cases(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    /* hand-worked: [[3,0],[4,5]] has singular values sqrt(45) and sqrt(5) */
    double A[4] = {3, 0, 4, 5}, S[2];
    assert_int_equal(la_svd(2, 2, A, NULL, S, NULL, err), 0);
    assert_true(fabs(S[0] - sqrt(45)) < 1e-13 && fabs(S[1] - sqrt(5)) < 1e-13);
    check_svd(2, 2, A);
    tb_rng r;
    rng_seed(&r, 2);
    int shapes[][2] = {{1, 1}, {1, 5}, {5, 1}, {7, 3}, {3, 7}, {40, 17}, {17, 40}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        double *M = randm(&r, shapes[s][0], shapes[s][1]);
        check_svd(shapes[s][0], shapes[s][1], M);
        free(M);
    }
    /* rank-deficient: a rank-2 12x9 matrix; zero matrix */
    double *P = randm(&r, 12, 2), *Q = randm(&r, 2, 9), *R = malloc(12 * 9 * 8), S9[9];
    la_gemm_nn(12, 2, 9, P, Q, R);
    check_svd(12, 9, R);
    assert_int_equal(la_svd(12, 9, R, NULL, S9, NULL, err), 0);
    for (int j = 2; j < 9; j++) assert_true(S9[j] < 1e-13 * S9[0]);
    double Z[6] = {0};
    check_svd(2, 3, Z);
    /* tiny singular values are resolved relative to themselves (Jacobi's strength) */
    double T[4] = {1, 0, 0, 1e-12}, St[2];
    assert_int_equal(la_svd(2, 2, T, NULL, St, NULL, err), 0);
    assert_true(fabs(St[1] - 1e-12) < 1e-24);
    free(P); free(Q); free(R);
}

static void cholesky_and_lstsq(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    /* [[4,2],[2,3]] = L L^T with L = [[2,0],[1,sqrt2]] */
    double A[4] = {4, 2, 2, 3};
    assert_int_equal(la_cholesky(2, A, err), 0);
    assert_true(A[0] == 2 && A[1] == 0 && A[2] == 1 && fabs(A[3] - M_SQRT2) < 1e-15);
    double b[2] = {2, 1}; /* [[4,2],[2,3]] x = (2,1): x = (0.5, 0) */
    la_cholesky_solve(2, A, b, 1);
    assert_true(fabs(b[0] - 0.5) < 1e-15 && fabs(b[1]) < 1e-15);
    double N[4] = {1, 2, 2, 1};
    assert_int_equal(la_cholesky(2, N, err), -1);
    assert_non_null(strstr(err, "not positive definite"));
    /* overdetermined: fit y = 1 + 2x exactly */
    double X[8] = {1, 0, 1, 1, 1, 2, 1, 3}, y[4] = {1, 3, 5, 7}, coef[2];
    assert_int_equal(la_lstsq(4, 2, X, y, 1, coef, 1e-12, err), 0);
    assert_true(fabs(coef[0] - 1) < 1e-12 && fabs(coef[1] - 2) < 1e-12);
    /* underdetermined x1 + x2 = 2: the minimum-norm answer is (1, 1) */
    double U[2] = {1, 1}, t = 2, mn[2];
    assert_int_equal(la_lstsq(1, 2, U, &t, 1, mn, 1e-12, err), 0);
    assert_true(fabs(mn[0] - 1) < 1e-12 && fabs(mn[1] - 1) < 1e-12);
    /* rank-deficient columns (duplicate): min-norm splits the weight equally */
    double D[6] = {1, 1, 2, 2, 3, 3}, yd[3] = {2, 4, 6}, cd[2];
    assert_int_equal(la_lstsq(3, 2, D, yd, 1, cd, 1e-12, err), 0);
    assert_true(fabs(cd[0] - 1) < 1e-12 && fabs(cd[1] - 1) < 1e-12);
}

static void products(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 3);
    int k = 37, m = 23, n = 11;
    double *A = randm(&r, k, m), *B = randm(&r, k, n), *C = malloc((size_t)m * n * 8);
    la_gemm_tn(k, m, n, A, B, C);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double t = 0;
            for (int p = 0; p < k; p++) t += A[p * m + i] * B[p * n + j];
            assert_true(fabs(t - C[i * n + j]) < 1e-12);
        }
    double *G = malloc((size_t)k * k * 8);
    la_gram_rows(k, m, A, G);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            double t = 0;
            for (int p = 0; p < m; p++) t += A[i * m + p] * A[j * m + p];
            assert_true(fabs(t - G[i * k + j]) < 1e-12);
        }
    la_center_columns(k, m, A);
    for (int j = 0; j < m; j++) {
        double s = 0;
        for (int i = 0; i < k; i++) s += A[i * m + j];
        assert_true(fabs(s) < 1e-12);
    }
    free(A); free(B); free(C); free(G);
}

/* The blocked products on sizes that cut every block (k past one chunk of p, ragged
 * row and column panels): each element is exactly the sum over p in order from zero,
 * with 1 and 3 threads (threads.h, rule 2). */
static void products_blocked_exact(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 4);
    int k = 301, m = 139, n = 275;
    double *A = randm(&r, k, m), *B = randm(&r, k, n), *An = randm(&r, m, k);
    double *C = malloc((size_t)m * n * 8), *G = malloc((size_t)m * m * 8), *N = malloc((size_t)m * n * 8);
    for (int nt = 1; nt <= 3; nt += 2) {
        tb_threads_init(nt);
        la_gemm_tn(k, m, n, A, B, C);
        la_gemm_nn(m, k, n, An, B, N);
        la_gram_rows(m, k, An, G);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double t = 0, u = 0;
                for (int p = 0; p < k; p++) { t += A[p * m + i] * B[p * n + j]; u += An[i * k + p] * B[p * n + j]; }
                if (C[i * n + j] != t || N[i * n + j] != u) fail_msg("product (%d,%d) with %d threads is not the in-order sum", i, j, nt);
            }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                double t = 0;
                for (int p = 0; p < k; p++) t += An[i * k + p] * An[j * k + p];
                if (G[i * m + j] != t) fail_msg("Gram (%d,%d) with %d threads is not the in-order sum", i, j, nt);
            }
    }
    tb_threads_init(1);
    free(A); free(B); free(An); free(C); free(G); free(N);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eigh_hand_worked),
        cmocka_unit_test(eigh_identities),
        cmocka_unit_test(svd_cases),
        cmocka_unit_test(cholesky_and_lstsq),
        cmocka_unit_test(products),
        cmocka_unit_test(products_blocked_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
