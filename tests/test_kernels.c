/* test_kernels.c -- every kernel of every table (kernels.h): the scalar definitions
 * against a double-precision reference or a hand-worked case, and every SIMD twin
 * against its scalar definition, on awkward sizes (1, 7, 17, 63, 129, 1000).  The twins
 * that promise the scalar bits (LIF, rows_add, rows_acc, the float64 loops) are compared
 * bit for bit; the others within the tolerance below.
 *
 * Tolerances: a float32 sum of K terms carries a relative rounding error of at most
 * about K * 2^-24 of the sum of |terms| (and typically sqrt(K) * 2^-24).  We compare
 * |got - want| <= 1e-5 * (sum of |terms|) + 1e-6, i.e. ~170 ulps of the magnitude
 * budget: loose enough for any summation order (blocked, vector, threaded), tight
 * enough that a wrong index or a missing term (an error of order one term) fails.
 */
#include "kernels.h"
#include "../src/kernels/kernels_priv.h" /* kernels_sgemm_512 */
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

static const int SIZES[] = {1, 7, 17, 63, 129, 1000};
#define NSIZES 6

static float *randv(tb_rng *r, size_t n, float scale) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = scale * (2.0f * rng_uniformf(r) - 1.0f);
    return x;
}

/* The SIMD tables this machine can run (the scalar one first). */
static int tables(const tb_kernels **t) {
    int n = 0;
    t[n++] = kernels_table("scalar");
    if (kernels_table("avx2")) t[n++] = kernels_table("avx2");
    if (kernels_table("neon")) t[n++] = kernels_table("neon");
    return n;
}

/* sgemm against a double reference, all transposes, alpha/beta, ld > width. */
static void check_sgemm(const tb_kernels *k, int tA, int tB, int M, int N, int Kd, float alpha,
                        float beta, tb_rng *r) {
    int lda = (tA ? M : Kd) + 3, ldb = (tB ? Kd : N) + 2, ldc = N + 5;
    int arows = tA ? Kd : M, brows = tB ? N : Kd;
    float *A = randv(r, (size_t)arows * lda, 1), *B = randv(r, (size_t)brows * ldb, 1);
    float *C = randv(r, (size_t)M * ldc, 1), *C0 = malloc((size_t)M * ldc * sizeof(float));
    memcpy(C0, C, (size_t)M * ldc * sizeof(float));
    k->sgemm(tA, tB, M, N, Kd, alpha, A, lda, B, ldb, beta, C, ldc);
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0, mag = 0;
            for (int p = 0; p < Kd; p++) {
                double a = tA ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                double b = tB ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                s += a * b;
                mag += fabs(a * b);
            }
            double want = alpha * s + (beta != 0 ? beta * C0[(size_t)i * ldc + j] : 0);
            double tol = 1e-5 * (fabs(alpha) * mag + fabs(beta * C0[(size_t)i * ldc + j])) + 1e-6;
            double got = C[(size_t)i * ldc + j];
            if (fabs(got - want) > tol)
                fail_msg("%s sgemm tA=%d tB=%d %dx%dx%d C[%d,%d] = %.7g, want %.7g", k->name, tA, tB, M, N, Kd, i, j, got, want);
        }
        /* padding beyond N untouched */
        for (int j = N; j < ldc; j++) assert_true(C[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j]);
    }
    free(A); free(B); free(C); free(C0);
}

static void sgemm_all_tables(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 1);
    const tb_kernels *t[3];
    int nt = tables(t);
    const int dims[][3] = {{1, 1, 1}, {7, 17, 63}, {17, 7, 1}, {63, 129, 17}, {129, 63, 7}, {6, 16, 5}, {13, 33, 129}};
    for (int ti = 0; ti < nt; ti++)
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
            for (int tA = 0; tA < 2; tA++)
                for (int tB = 0; tB < 2; tB++) {
                    check_sgemm(t[ti], tA, tB, dims[d][0], dims[d][1], dims[d][2], 1.0f, 0.0f, &r);
                    check_sgemm(t[ti], tA, tB, dims[d][0], dims[d][1], dims[d][2], -0.5f, 1.0f, &r);
                    check_sgemm(t[ti], tA, tB, dims[d][0], dims[d][1], dims[d][2], 2.0f, 0.25f, &r);
                }
    /* K = 0: C = beta C */
    for (int ti = 0; ti < nt; ti++) check_sgemm(t[ti], 0, 0, 5, 9, 0, 1.0f, 0.5f, &r);
}

/* A big product through the thread pool: 1, 2 and 3 threads give the same numbers as
 * the reference (within round-off), and with a fixed thread count bit-identical runs. */
static void sgemm_threads(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 2);
    const tb_kernels *t[3];
    int nt = tables(t);
    for (int ti = 0; ti < nt; ti++)
        for (int th = 1; th <= 3; th++) {
            tb_threads_init(th);
            check_sgemm(t[ti], 0, 1, 200, 130, 70, 1.0f, 0.0f, &r);
            check_sgemm(t[ti], 1, 0, 129, 70, 200, 1.0f, 1.0f, &r);
        }
    int M = 256, N = 96, Kd = 128;
    float *A = randv(&r, (size_t)M * Kd, 1), *B = randv(&r, (size_t)Kd * N, 1);
    float *C1 = malloc((size_t)M * N * 4), *C2 = malloc((size_t)M * N * 4);
    for (int ti = 0; ti < nt; ti++) {
        tb_threads_init(2);
        t[ti]->sgemm(0, 0, M, N, Kd, 1, A, Kd, B, N, 0, C1, N);
        t[ti]->sgemm(0, 0, M, N, Kd, 1, A, Kd, B, N, 0, C2, N);
        assert_memory_equal(C1, C2, (size_t)M * N * 4);
        /* panels are split by rows, so each C element is summed the same way at any count */
        tb_threads_init(1);
        t[ti]->sgemm(0, 0, M, N, Kd, 1, A, Kd, B, N, 0, C2, N);
        assert_memory_equal(C1, C2, (size_t)M * N * 4);
    }
    tb_threads_init(2);
    free(A); free(B); free(C1); free(C2);
}

/* The avx2 table's sgemm runs a 512-bit micro-kernel on CPUs with AVX-512F
 * (dense_avx512.c): it must give the AVX2 kernel's bits exactly, for every transpose,
 * alpha, beta (0, 1 and 0.5: fused and unfused epilogues) and awkward sizes. */
static void sgemm_512_same_bits(void **state) {
    (void)state;
    const tb_kernels *k = kernels_table("avx2");
    if (!k) skip();
    tb_rng r;
    rng_seed(&r, 13);
    const int dims[][3] = {{1, 1, 1}, {7, 17, 63}, {13, 40, 129}, {64, 48, 33}, {130, 100, 1024}};
    const float betas[3] = {0.0f, 1.0f, 0.5f};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (int tr = 0; tr < 4; tr++)
            for (int b = 0; b < 3; b++) {
                int M = dims[d][0], N = dims[d][1], K = dims[d][2], tA = tr & 1, tB = tr >> 1;
                int lda = (tA ? M : K) + 1, ldb = (tB ? K : N) + 3, ldc = N + 2;
                float *A = randv(&r, (size_t)(tA ? K : M) * lda, 1), *B = randv(&r, (size_t)(tB ? N : K) * ldb, 1);
                float *C0 = randv(&r, (size_t)M * ldc, 1), *C[2];
                for (int w = 0; w < 2; w++) {
                    C[w] = malloc((size_t)M * ldc * 4);
                    memcpy(C[w], C0, (size_t)M * ldc * 4);
                    kernels_sgemm_512 = w;
                    k->sgemm(tA, tB, M, N, K, 0.75f, A, lda, B, ldb, betas[b], C[w], ldc);
                }
                kernels_sgemm_512 = 1;
                if (memcmp(C[0], C[1], (size_t)M * ldc * 4))
                    fail_msg("512-bit sgemm differs from AVX2 at %dx%dx%d tA=%d tB=%d beta=%g", M, N, K, tA, tB, betas[b]);
                free(A); free(B); free(C0); free(C[0]); free(C[1]);
            }
}

/* The SIMD tables' matmuls add the bias in the product's last step and sum the bias
 * gradient while dout is packed (dense_pack.h): the same bits as copying the bias into
 * every row and summing dout's columns in a loop (kernels_matmul_*_via), on awkward
 * shapes, at 1 and 3 threads, with the 512-bit kernel on and off. */
static void matmul_folds_same_bits(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 14);
    const tb_kernels *t[3];
    int nt = tables(t);
    const int shp[][3] = {{1, 1, 1}, {7, 17, 63}, {63, 7, 17}, {129, 63, 40}, {300, 33, 129}};
    for (int ti = 1; ti < nt; ti++)
        for (size_t s = 0; s < sizeof shp / sizeof shp[0]; s++)
            for (int w = 0; w < 2; w++)
                for (int th = 1; th <= 3; th += 2) {
                    int N = shp[s][0], C = shp[s][1], OC = shp[s][2];
                    kernels_sgemm_512 = w;
                    tb_threads_init(th);
                    float *inp = randv(&r, (size_t)N * C, 1), *wt = randv(&r, (size_t)OC * C, 1);
                    float *b = randv(&r, OC, 1), *dout = randv(&r, (size_t)N * OC, 1);
                    float *o[2], *dinp[2], *dw[2], *db[2];
                    float *dinp0 = randv(&r, (size_t)N * C, 1), *dw0 = randv(&r, (size_t)OC * C, 1),
                          *db0 = randv(&r, OC, 1);
                    for (int v = 0; v < 2; v++) {
                        o[v] = malloc((size_t)N * OC * 4);
                        dinp[v] = malloc((size_t)N * C * 4);
                        dw[v] = malloc((size_t)OC * C * 4);
                        db[v] = malloc((size_t)OC * 4);
                        memcpy(dinp[v], dinp0, (size_t)N * C * 4);
                        memcpy(dw[v], dw0, (size_t)OC * C * 4);
                        memcpy(db[v], db0, (size_t)OC * 4);
                    }
                    t[ti]->matmul_forward(o[0], inp, wt, b, N, C, OC);
                    kernels_matmul_forward_via(t[ti]->sgemm, o[1], inp, wt, b, N, C, OC);
                    t[ti]->matmul_backward(dinp[0], dw[0], db[0], dout, inp, wt, N, C, OC);
                    kernels_matmul_backward_via(t[ti]->sgemm, dinp[1], dw[1], db[1], dout, inp, wt, N, C, OC);
                    if (memcmp(o[0], o[1], (size_t)N * OC * 4) || memcmp(dinp[0], dinp[1], (size_t)N * C * 4) ||
                        memcmp(dw[0], dw[1], (size_t)OC * C * 4) || memcmp(db[0], db[1], (size_t)OC * 4))
                        fail_msg("%s matmul with folded bias differs at N %d C %d OC %d (512-bit %d, %d threads)",
                                 t[ti]->name, N, C, OC, w, th);
                    free(inp); free(wt); free(b); free(dout); free(dinp0); free(dw0); free(db0);
                    for (int v = 0; v < 2; v++) { free(o[v]); free(dinp[v]); free(dw[v]); free(db[v]); }
                }
    kernels_sgemm_512 = 1;
    tb_threads_init(2);
}

/* matmul_forward/backward against their definitions in double. */
static void matmul_forward_backward(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 3);
    const tb_kernels *t[3];
    int nt = tables(t);
    const int shp[][3] = {{1, 1, 1}, {7, 17, 63}, {63, 7, 17}, {129, 63, 7}, {17, 129, 33}};
    for (int ti = 0; ti < nt; ti++)
        for (size_t s = 0; s < sizeof shp / sizeof shp[0]; s++) {
            int N = shp[s][0], C = shp[s][1], OC = shp[s][2];
            float *inp = randv(&r, (size_t)N * C, 1), *w = randv(&r, (size_t)OC * C, 1), *b = randv(&r, OC, 1);
            float *out = malloc((size_t)N * OC * 4), *dout = randv(&r, (size_t)N * OC, 1);
            float *dinp = randv(&r, (size_t)N * C, 1), *dw = randv(&r, (size_t)OC * C, 1), *db = randv(&r, OC, 1);
            float *dinp0 = malloc((size_t)N * C * 4), *dw0 = malloc((size_t)OC * C * 4), *db0 = malloc((size_t)OC * 4);
            memcpy(dinp0, dinp, (size_t)N * C * 4);
            memcpy(dw0, dw, (size_t)OC * C * 4);
            memcpy(db0, db, (size_t)OC * 4);
            t[ti]->matmul_forward(out, inp, w, b, N, C, OC);
            for (int n = 0; n < N; n++)
                for (int o = 0; o < OC; o++) {
                    double s2 = b[o], mag = fabs(b[o]);
                    for (int c = 0; c < C; c++) { s2 += (double)inp[n * C + c] * w[o * C + c]; mag += fabs((double)inp[n * C + c] * w[o * C + c]); }
                    assert_true(fabs(out[n * OC + o] - s2) <= 1e-5 * mag + 1e-6);
                }
            t[ti]->matmul_backward(dinp, dw, db, dout, inp, w, N, C, OC);
            for (int n = 0; n < N; n++)
                for (int c = 0; c < C; c++) {
                    double s2 = dinp0[n * C + c], mag = fabs(s2);
                    for (int o = 0; o < OC; o++) { s2 += (double)dout[n * OC + o] * w[o * C + c]; mag += fabs((double)dout[n * OC + o] * w[o * C + c]); }
                    assert_true(fabs(dinp[n * C + c] - s2) <= 1e-5 * mag + 1e-6);
                }
            for (int o = 0; o < OC; o++) {
                double sb = db0[o], mb = fabs(sb);
                for (int n = 0; n < N; n++) { sb += dout[n * OC + o]; mb += fabs(dout[n * OC + o]); }
                assert_true(fabs(db[o] - sb) <= 1e-5 * mb + 1e-6);
                for (int c = 0; c < C; c++) {
                    double s2 = dw0[o * C + c], mag = fabs(s2);
                    for (int n = 0; n < N; n++) { s2 += (double)dout[n * OC + o] * inp[n * C + c]; mag += fabs((double)dout[n * OC + o] * inp[n * C + c]); }
                    assert_true(fabs(dw[o * C + c] - s2) <= 1e-5 * mag + 1e-6);
                }
            }
            /* NULL gradients are skipped */
            t[ti]->matmul_backward(NULL, NULL, db, dout, inp, w, N, C, OC);
            free(inp); free(w); free(b); free(out); free(dout); free(dinp); free(dw); free(db);
            free(dinp0); free(dw0); free(db0);
        }
}

/* vexp: relative error against double exp on [-87, 88] and the edges. */
static void vexp_accuracy(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);
    int n = 200001;
    float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
    for (int i = 0; i < n; i++) x[i] = -87.0f + 175.0f * (float)i / (float)(n - 1);
    for (int ti = 0; ti < nt; ti++) {
        t[ti]->vexp(y, x, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double want = exp((double)x[i]), rel = fabs(y[i] - want) / want;
            if (rel > worst) worst = rel;
        }
        /* 2e-7 is under 2 ulps of float32 (ulp/2 = 6e-8 relative). */
        if (worst >= 2e-7) fail_msg("%s vexp worst relative error %.3g", t[ti]->name, worst);
        float e[4] = {-200.0f, 0.0f, 1.0f, 100.0f}, o[4];
        t[ti]->vexp(o, e, 4);
        assert_true(o[0] == 0.0f);
        assert_true(o[1] == 1.0f);
        assert_true(fabsf(o[2] - 2.7182817f) < 1e-6f);
        assert_true(isinf(o[3]));
    }
    free(x);
    free(y);
}

/* Element-wise kernels: SIMD twin vs scalar on every awkward size. */
static void elementwise_twins(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 4);
    const tb_kernels *t[3], *S = kernels_table("scalar");
    int nt = tables(t);
    for (int ti = 1; ti < nt; ti++)
        for (int si = 0; si < NSIZES; si++) {
            int n = SIZES[si];
            float *x = randv(&r, n, 6), *dy = randv(&r, n, 1);
            float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
            S->gelu_forward(a, x, n);
            t[ti]->gelu_forward(b, x, n);
            for (int i = 0; i < n; i++) assert_true(fabsf(a[i] - b[i]) <= 2e-6f * (1 + fabsf(a[i])));
            memset(a, 0, (size_t)n * 4);
            memset(b, 0, (size_t)n * 4);
            S->gelu_backward(a, x, dy, n);
            t[ti]->gelu_backward(b, x, dy, n);
            for (int i = 0; i < n; i++) assert_true(fabsf(a[i] - b[i]) <= 4e-6f * (1 + fabsf(a[i])));
            free(x); free(dy); free(a); free(b);
        }
}

/* On a CPU with AVX-512F the avx2 table's GELU runs 16 lanes at a time (dense_avx512.c):
 * the same bits as its 8-lane loop, on every size from 1 to 70 (whole 16s, an 8 and a
 * scalar tail) and on the edges of its clamps (|u| > 9, exp's limits, +-0, inf). */
static void gelu_512_same_bits(void **state) {
    (void)state;
    const tb_kernels *k = kernels_table("avx2");
    if (!k) skip();
    tb_rng r;
    rng_seed(&r, 15);
    enum { NMAX = 70 };
    float x[NMAX], dy[NMAX], y[2][NMAX], dx[2][NMAX];
    for (int n = 1; n <= NMAX; n++) {
        for (int i = 0; i < n; i++) { x[i] = 8.0f * (2.0f * rng_uniformf(&r) - 1.0f); dy[i] = rng_uniformf(&r) - 0.5f; }
        const float edge[] = {0.0f, -0.0f, 12.0f, -12.0f, 100.0f, -100.0f, INFINITY, -INFINITY, 3.5f, -1e-8f};
        if (n == NMAX) memcpy(x, edge, sizeof edge);
        for (int w = 0; w < 2; w++) {
            kernels_sgemm_512 = w;
            k->gelu_forward(y[w], x, n);
            for (int i = 0; i < n; i++) dx[w][i] = 0.25f;
            k->gelu_backward(dx[w], x, dy, n);
        }
        kernels_sgemm_512 = 1;
        if (memcmp(y[0], y[1], (size_t)n * 4) || memcmp(dx[0], dx[1], (size_t)n * 4))
            fail_msg("512-bit GELU differs from AVX2 at n = %d", n);
    }
}

/* Row kernels (softmax, layernorm, rmsnorm): twin vs scalar, rows x cols awkward. */
static void row_kernel_twins(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 5);
    const tb_kernels *t[3], *S = kernels_table("scalar");
    int nt = tables(t);
    for (int ti = 1; ti < nt; ti++)
        for (int si = 0; si < NSIZES; si++) {
            int rows = 3, C = SIZES[si], n = rows * C;
            float *x = randv(&r, n, 4), *dy = randv(&r, n, 1), *w = randv(&r, C, 1), *b = randv(&r, C, 1);
            float *o1 = malloc((size_t)n * 4), *o2 = malloc((size_t)n * 4);
            float m1[3], m2[3], r1[3], r2[3];
            S->softmax_forward(o1, x, rows, C);
            t[ti]->softmax_forward(o2, x, rows, C);
            for (int i = 0; i < n; i++) assert_true(fabsf(o1[i] - o2[i]) <= 1e-6f + 1e-5f * o1[i]);
            float *g1 = calloc((size_t)n, 4), *g2 = calloc((size_t)n, 4);
            S->softmax_backward(g1, dy, o1, rows, C);
            t[ti]->softmax_backward(g2, dy, o1, rows, C);
            for (int i = 0; i < n; i++) assert_true(fabsf(g1[i] - g2[i]) <= 1e-6f);
            S->layernorm_forward(o1, m1, r1, x, w, b, rows, C);
            t[ti]->layernorm_forward(o2, m2, r2, x, w, b, rows, C);
            for (int i = 0; i < n; i++) assert_true(fabsf(o1[i] - o2[i]) <= 1e-4f * (1 + fabsf(o1[i])));
            float *dw1 = calloc((size_t)C, 4), *dw2 = calloc((size_t)C, 4), *db1 = calloc((size_t)C, 4), *db2 = calloc((size_t)C, 4);
            memset(g1, 0, (size_t)n * 4);
            memset(g2, 0, (size_t)n * 4);
            S->layernorm_backward(g1, dw1, db1, dy, x, w, m1, r1, rows, C);
            t[ti]->layernorm_backward(g2, dw2, db2, dy, x, w, m1, r1, rows, C);
            for (int i = 0; i < n; i++) assert_true(fabsf(g1[i] - g2[i]) <= 1e-4f * (1 + fabsf(g1[i])));
            for (int i = 0; i < C; i++) assert_true(fabsf(dw1[i] - dw2[i]) <= 1e-5f * (1 + fabsf(dw1[i])) && fabsf(db1[i] - db2[i]) <= 1e-6f);
            S->rmsnorm_forward(o1, r1, x, w, rows, C);
            t[ti]->rmsnorm_forward(o2, r2, x, w, rows, C);
            for (int i = 0; i < n; i++) assert_true(fabsf(o1[i] - o2[i]) <= 1e-4f * (1 + fabsf(o1[i])));
            memset(g1, 0, (size_t)n * 4);
            memset(g2, 0, (size_t)n * 4);
            memset(dw1, 0, (size_t)C * 4);
            memset(dw2, 0, (size_t)C * 4);
            S->rmsnorm_backward(g1, dw1, dy, x, w, r1, rows, C);
            t[ti]->rmsnorm_backward(g2, dw2, dy, x, w, r1, rows, C);
            for (int i = 0; i < n; i++) assert_true(fabsf(g1[i] - g2[i]) <= 1e-4f * (1 + fabsf(g1[i])));
            for (int i = 0; i < C; i++) assert_true(fabsf(dw1[i] - dw2[i]) <= 1e-5f * (1 + fabsf(dw1[i])));
            free(x); free(dy); free(w); free(b); free(o1); free(o2); free(g1); free(g2);
            free(dw1); free(dw2); free(db1); free(db2);
        }
}

/* Scalar definitions against their math: softmax sums to 1 and survives -inf and
 * large inputs; norm and GELU backward passes against centred finite differences in
 * double of a loss L = sum(dy * f(x)). */
static double ln_loss(const float *x, const float *w, const float *b, const float *dy, int C, int rms) {
    const tb_kernels *S = kernels_table("scalar");
    float *y = malloc((size_t)C * 4), m, rs;
    if (rms) S->rmsnorm_forward(y, &rs, x, w, 1, C);
    else S->layernorm_forward(y, &m, &rs, x, w, b, 1, C);
    double L = 0;
    for (int i = 0; i < C; i++) L += (double)dy[i] * y[i];
    free(y);
    return L;
}

static void scalar_math(void **state) {
    (void)state;
    const tb_kernels *S = kernels_table("scalar");
    float x[5] = {1000.0f, 999.0f, -INFINITY, 0.0f, 1000.0f}, p[5];
    S->softmax_forward(p, x, 1, 5);
    double s = 0;
    for (int i = 0; i < 5; i++) s += p[i];
    assert_true(fabs(s - 1) < 1e-6);
    assert_true(p[2] == 0.0f && fabsf(p[0] - p[4]) == 0.0f);
    assert_true(fabsf(p[0] / p[1] - expf(1.0f)) < 1e-4f); /* e^1000 / e^999 = e */
    float allinf[3] = {-INFINITY, -INFINITY, -INFINITY};
    S->softmax_forward(p, allinf, 1, 3);
    assert_true(p[0] == 0 && p[1] == 0 && p[2] == 0);

    tb_rng r;
    rng_seed(&r, 6);
    for (int rms = 0; rms < 2; rms++) {
        int C = 17;
        float *xx = randv(&r, C, 2), *w = randv(&r, C, 1), *b = randv(&r, C, 1), *dy = randv(&r, C, 1);
        float *y = malloc(C * 4), *dx = calloc(C, 4), *dw = calloc(C, 4), *db = calloc(C, 4), m, rs;
        if (rms) {
            S->rmsnorm_forward(y, &rs, xx, w, 1, C);
            S->rmsnorm_backward(dx, dw, dy, xx, w, &rs, 1, C);
        } else {
            S->layernorm_forward(y, &m, &rs, xx, w, b, 1, C);
            S->layernorm_backward(dx, dw, db, dy, xx, w, &m, &rs, 1, C);
        }
        for (int i = 0; i < C; i++) {
            /* h = 1e-2: the float32 loss has ~1e-7 relative noise, so the centred
             * difference is good to ~1e-5 absolute plus O(h^2) curvature ~1e-4. */
            float h = 1e-2f, keep = xx[i];
            xx[i] = keep + h;
            double lp = ln_loss(xx, w, b, dy, C, rms);
            xx[i] = keep - h;
            double lm = ln_loss(xx, w, b, dy, C, rms);
            xx[i] = keep;
            double fd = (lp - lm) / (2 * h);
            if (fabs(fd - dx[i]) > 1e-3 * (1 + fabs(fd))) fail_msg("%s dx[%d] = %g, finite difference %g", rms ? "rmsnorm" : "layernorm", i, dx[i], fd);
        }
        free(xx); free(w); free(b); free(dy); free(y); free(dx); free(dw); free(db);
    }
    /* GELU: known values and derivative by finite differences */
    float gx[4] = {0.0f, 1.0f, -1.0f, 3.0f}, gy[4];
    S->gelu_forward(gy, gx, 4);
    assert_true(gy[0] == 0.0f);
    assert_true(fabsf(gy[1] - 0.8411920f) < 1e-6f); /* 0.5 (1 + tanh(0.7978846 * 1.044715)) */
    assert_true(fabsf(gy[2] + 0.1588080f) < 1e-6f);
    for (int i = 0; i < 4; i++) {
        float one = 1.0f, d = 0.0f, h = 1e-3f, xp = gx[i] + h, xm = gx[i] - h, yp, ym;
        S->gelu_backward(&d, &gx[i], &one, 1);
        S->gelu_forward(&yp, &xp, 1);
        S->gelu_forward(&ym, &xm, 1);
        assert_true(fabsf(d - (yp - ym) / (2 * h)) < 2e-3f);
    }
}

/* ---- snn: the LIF network update ---------------------------------------------------- */

/* E_L -65, a_m 0.9, c_e 0.5, c_i 0.25, d_e 0.8, d_i 0.5, threshold -50, reset -70,
 * 3 refractory steps; COBA: k 0.1, E_e 0, E_i -80 (mV). */
static const tb_lif_coef LIF_C = {-65, 0.9f, 0.5f, 0.25f, 0.8f, 0.5f, -50, -70, 3, 0.1f, 0, -80};

/* One step by hand for each branch: integrate, spike and reset, refractory, and
 * ref = 0.5 (not refractory: the test is ref > 0.5). */
static void lif_hand_worked(void **state) {
    (void)state;
    const tb_kernels *S = kernels_table("scalar");
    float v[4] = {-60, -51, -70, -65}, ge[4] = {2, 20, 100, 0}, gi[4] = {-4, 0, 0, 0};
    float ref[4] = {0, 0, 2, 0.5f};
    int32_t spk[4];
    int ns = S->lif_cuba(v, ge, gi, ref, 4, &LIF_C, spk, 10);
    /* n0: -65 + 5*0.9 + 2*0.5 - 4*0.25 = -60.5;  n1: -65 + 14*0.9 + 20*0.5 = -42.4 > -50 */
    assert_int_equal(ns, 1);
    assert_int_equal(spk[0], 11);
    assert_true(fabsf(v[0] + 60.5f) < 1e-5f && ref[0] == 0);
    assert_true(v[1] == -70 && ref[1] == 3);
    assert_true(v[2] == -70 && ref[2] == 1);             /* held; one step less to wait */
    assert_true(v[3] == -65 && ref[3] == 0.5f);
    assert_true(fabsf(ge[0] - 1.6f) < 1e-6f && gi[0] == -2 && fabsf(ge[2] - 80) < 1e-4f);
    float w[2] = {-60, -51}, he[2] = {1, 2}, hi[2] = {0.5f, 0}, rf[2] = {0, 0};
    ns = S->lif_coba(w, he, hi, rf, 2, &LIF_C, spk, 0);
    /* n0: -60 + 0.1 (-5 + 1*60 + 0.5*(-20)) = -55.5;  n1: -51 + 0.1 (-14 + 2*51) = -42.2 */
    assert_int_equal(ns, 1);
    assert_int_equal(spk[0], 1);
    assert_true(fabsf(w[0] + 55.5f) < 1e-5f && w[1] == -70 && rf[1] == 3);
}

/* Every SIMD twin gives the scalar bits (same operations in the same order), spikes and
 * refractory counters included, over 20 steps. */
static void lif_twins(void **state) {
    (void)state;
    const tb_kernels *t[3], *S = kernels_table("scalar");
    int nt = tables(t);
    tb_lif_coef c = {-49, 0.995012f, 0.0049377f, 0.0049688f, 0.980199f, 0.99005f, -50, -60, 50,
                     0.005f, 0, -80};
    for (int ti = 1; ti < nt; ti++)
        for (int coba = 0; coba < 2; coba++)
            for (int si = 0; si < NSIZES; si++) {
                int n = SIZES[si];
                tb_rng r;
                rng_seed(&r, 42 + n);
                float *x[2][4];    /* v, g_e, g_i, ref for the scalar (0) and SIMD (1) runs */
                int32_t *spk[2];
                for (int k = 0; k < 2; k++) {
                    for (int q = 0; q < 4; q++) x[k][q] = malloc((size_t)n * sizeof(float));
                    spk[k] = malloc((size_t)n * sizeof(int32_t));
                }
                for (int i = 0; i < n; i++) {
                    x[0][0][i] = -60 + 10.5f * rng_uniformf(&r);          /* some above v_th */
                    x[0][1][i] = 3 * rng_uniformf(&r);
                    x[0][2][i] = (coba ? 5 : -5) * rng_uniformf(&r);
                    x[0][3][i] = rng_uniformf(&r) < 0.3f ? (float)rng_below(&r, 50) : 0;
                }
                for (int q = 0; q < 4; q++) memcpy(x[1][q], x[0][q], (size_t)n * sizeof(float));
                tb_lif_fn *f0 = coba ? S->lif_coba : S->lif_cuba, *f1 = coba ? t[ti]->lif_coba : t[ti]->lif_cuba;
                for (int step = 0; step < 20; step++) {
                    int n0 = f0(x[0][0], x[0][1], x[0][2], x[0][3], n, &c, spk[0], 5);
                    int n1 = f1(x[1][0], x[1][1], x[1][2], x[1][3], n, &c, spk[1], 5);
                    assert_int_equal(n0, n1);
                    assert_memory_equal(spk[0], spk[1], (size_t)n0 * sizeof(int32_t));
                    for (int q = 0; q < 4; q++) assert_memory_equal(x[0][q], x[1][q], (size_t)n * sizeof(float));
                }
                for (int k = 0; k < 2; k++) { for (int q = 0; q < 4; q++) free(x[k][q]); free(spk[k]); }
            }
}

/* ---- srnn: event-driven sums and batched mat-vecs ------------------------------------ */

/* The scalar definitions against their math; every twin: rows_add and rows_acc give the
 * scalar bits, matvecs agrees to round-off and gives each batch element the same bits
 * alone as in a block. */
static void srnn_twins(void **state) {
    (void)state;
    const tb_kernels *t[3], *S = kernels_table("scalar");
    int nt = tables(t);
    tb_rng r;
    rng_seed(&r, 8);
    for (int si = 0; si < NSIZES; si++) {
        int n = SIZES[si], nb = 5, nidx = 0;
        float *W = randv(&r, (size_t)n * n, 1), *x = randv(&r, (size_t)nb * n, 1);
        float *acc = randv(&r, n, 1), *a1 = malloc((size_t)n * 4), *a2 = malloc((size_t)n * 4);
        float *o1 = malloc((size_t)nb * n * 4), *o2 = malloc((size_t)nb * n * 4), *o3 = malloc((size_t)nb * n * 4);
        float *G1 = malloc((size_t)n * n * 4), *G2 = malloc((size_t)n * n * 4);
        int *idx = malloc((size_t)n * sizeof(int));
        for (int i = 0; i < n; i++)
            if (rng_uniform(&r) < 0.3 || i == n - 1) idx[nidx++] = i;
        memcpy(a1, acc, (size_t)n * 4);
        S->rows_add(a1, W, n, idx, nidx, n);
        memcpy(G1, W, (size_t)n * n * 4);
        S->rows_acc(G1, n, idx, nidx, x, n);
        S->matvecs(o1, W, x, nb, n);
        for (int j = 0; j < n; j++) {   /* the listed rows, added in list order */
            float want = acc[j];
            for (int k = 0; k < nidx; k++) want += W[(size_t)idx[k] * n + j];
            assert_true(a1[j] == want);
            for (int k = 0; k < nidx; k++) assert_true(G1[(size_t)idx[k] * n + j] == W[(size_t)idx[k] * n + j] + x[j]);
        }
        for (int b = 0; b < nb; b++)    /* against a double dot product */
            for (int i = 0; i < n; i++) {
                double s = 0, mag = 0;
                for (int j = 0; j < n; j++) {
                    double p = (double)W[(size_t)i * n + j] * x[(size_t)b * n + j];
                    s += p;
                    mag += fabs(p);
                }
                assert_true(fabs(o1[(size_t)b * n + i] - s) <= 1e-5 * mag + 1e-6);
            }
        for (int ti = 1; ti < nt; ti++) {
            memcpy(a2, acc, (size_t)n * 4);
            t[ti]->rows_add(a2, W, n, idx, nidx, n);
            assert_memory_equal(a1, a2, (size_t)n * 4);
            memcpy(G2, W, (size_t)n * n * 4);
            t[ti]->rows_acc(G2, n, idx, nidx, x, n);
            assert_memory_equal(G1, G2, (size_t)n * n * 4);
            t[ti]->matvecs(o2, W, x, nb, n);
            for (int b = 0; b < nb; b++) t[ti]->matvecs(o3 + (size_t)b * n, W, x + (size_t)b * n, 1, n);
            assert_memory_equal(o2, o3, (size_t)nb * n * 4);
            for (size_t i = 0; i < (size_t)nb * n; i++) {
                double mag = 0;
                size_t b = i / n, row = i % n;
                for (int j = 0; j < n; j++) mag += fabs((double)W[row * n + j] * x[b * n + j]);
                if (fabs(o1[i] - o2[i]) > 1e-5 * mag + 1e-6) fail_msg("%s matvecs n=%d [%zu]: %g vs %g", t[ti]->name, n, i, o2[i], o1[i]);
            }
        }
        free(W); free(x); free(acc); free(a1); free(a2); free(o1); free(o2); free(o3);
        free(G1); free(G2); free(idx);
    }
}

/* adamw: the scalar one against the formula (the same expression, so exactly), every
 * twin the scalar bits, with and without a decay mask, on awkward lengths. */
static void adamw_check(const tb_kernels *k, const float *const *src, float *const *ref, int n,
                        const unsigned char *mask, const tb_adamw_coef *c) {
    float *b[4];
    for (int a = 0; a < 4; a++) {
        b[a] = malloc((size_t)n * 4);
        memcpy(b[a], src[a], (size_t)n * 4);
    }
    k->adamw(b[0], b[1], b[2], b[3], mask, (size_t)n, c);
    for (int a = 0; a < 4; a++) {
        if (ref[a] && memcmp(ref[a], b[a], (size_t)n * 4)) fail_msg("%s adamw n=%d differs from scalar", k->name, n);
        free(b[a]);
    }
}

static void adamw_twins(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);
    tb_rng r;
    rng_seed(&r, 14);
    tb_adamw_coef c = {0.7f, 0.9f, 0.999f, 0.19f, 0.002f, 1e-3f, 0.1f, 1e-8f};
    for (int si = 0; si < NSIZES; si++)
        for (int masked = 0; masked < 2; masked++) {
            int n = SIZES[si];
            float *src[4], *ref[4];
            for (int a = 0; a < 4; a++) src[a] = randv(&r, (size_t)n, 1);
            unsigned char *mask = malloc((size_t)n);
            for (int i = 0; i < n; i++) { src[3][i] = fabsf(src[3][i]); mask[i] = (unsigned char)(rng_below(&r, 3) ? 1 : 0); }
            const unsigned char *mk = masked ? mask : NULL;
            for (int i = 0; i < n; i++) { /* the formula, element by element */
                float g = src[1][i] * c.scale, m = c.b1 * src[2][i] + (1.0f - c.b1) * g;
                float v = c.b2 * src[3][i] + (1.0f - c.b2) * g * g;
                float decay = (!mk || mk[i]) ? c.wd * src[0][i] : 0.0f;
                float want[4] = {src[0][i] - c.lr * (m / c.bc1 / (sqrtf(v / c.bc2) + c.eps) + decay), g, m, v};
                for (int a = 0; a < 4; a++) {
                    if (i == 0) ref[a] = malloc((size_t)n * 4);
                    ref[a][i] = want[a];
                }
            }
            for (int ti = 0; ti < nt; ti++) adamw_check(t[ti], (const float *const *)src, ref, n, mk, &c);
            for (int a = 0; a < 4; a++) { free(src[a]); free(ref[a]); }
            free(mask);
        }
}

/* ---- linalg: float64 loops ------------------------------------------------------------ */

static double *randd(tb_rng *r, size_t n) {
    double *x = malloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) x[i] = rng_normal(r);
    return x;
}

/* daxpy, daxpy2, drot: the scalar definitions against their formulas (same expression,
 * so exactly), every twin against the scalar bits. */
static void linalg_vector_twins(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);   /* t[0] is the scalar table */
    tb_rng r;
    rng_seed(&r, 9);
    for (int si = 0; si < NSIZES; si++) {
        int n = SIZES[si];
        double a = rng_normal(&r), b = rng_normal(&r), c = cos(0.3), s = sin(0.3);
        double *x = randd(&r, n), *u = randd(&r, n), *y0 = randd(&r, n), *z0 = randd(&r, n);
        double *y[2], *z[2];  /* [0]: the scalar result, [1]: a twin's */
        for (int k = 0; k < 2; k++) { y[k] = malloc((size_t)n * 8); z[k] = malloc((size_t)n * 8); }
        for (int ti = 0; ti < nt; ti++) {
            int k = ti > 0;
            memcpy(y[k], y0, (size_t)n * 8);
            t[ti]->daxpy(n, a, x, y[k]);
            if (k) assert_memory_equal(y[0], y[1], (size_t)n * 8);
            else for (int i = 0; i < n; i++) assert_true(y[0][i] == y0[i] + a * x[i]);
        }
        for (int ti = 0; ti < nt; ti++) {
            int k = ti > 0;
            memcpy(y[k], y0, (size_t)n * 8);
            t[ti]->daxpy2(n, a, x, b, u, y[k]);
            if (k) assert_memory_equal(y[0], y[1], (size_t)n * 8);
            else for (int i = 0; i < n; i++) assert_true(y[0][i] == y0[i] + (a * x[i] + b * u[i]));
        }
        for (int ti = 0; ti < nt; ti++) {
            int k = ti > 0;
            memcpy(y[k], y0, (size_t)n * 8);
            memcpy(z[k], z0, (size_t)n * 8);
            t[ti]->drot(n, y[k], z[k], c, s);
            if (k) {
                assert_memory_equal(y[0], y[1], (size_t)n * 8);
                assert_memory_equal(z[0], z[1], (size_t)n * 8);
            } else {
                for (int i = 0; i < n; i++)
                    assert_true(y[0][i] == c * y0[i] - s * z0[i] && z[0][i] == s * y0[i] + c * z0[i]);
            }
        }
        free(x); free(u); free(y0); free(z0);
        for (int k = 0; k < 2; k++) { free(y[k]); free(z[k]); }
    }
}

/* drot_chain: the scalar one equals drot applied rotation by rotation (k = rows - 1
 * down to 0), every twin the scalar bits, on awkward column counts and a row stride
 * wider than the columns (the column beyond is untouched). */
static void linalg_drot_chain_twins(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);
    tb_rng r;
    rng_seed(&r, 12);
    const int ks[] = {1, 2, 7, 30}, ns[] = {1, 3, 7, 17, 63, 129};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
            int k = ks[ki], n = ns[ni];
            size_t ld = (size_t)n + 1, size = (size_t)(k + 1) * ld;
            double *c = randd(&r, (size_t)k), *s = randd(&r, (size_t)k), *W0 = randd(&r, size);
            double *ref = malloc(size * 8), *got = malloc(size * 8);
            for (int i = 0; i < k; i++) { double h = hypot(c[i], s[i]); c[i] /= h; s[i] /= h; }
            memcpy(ref, W0, size * 8);
            for (int i = k - 1; i >= 0; i--) t[0]->drot(n, ref + (size_t)i * ld, ref + (size_t)(i + 1) * ld, c[i], s[i]);
            for (int ti = 0; ti < nt; ti++) {
                memcpy(got, W0, size * 8);
                t[ti]->drot_chain(k, c, s, got, ld, n);
                if (memcmp(ref, got, size * 8)) fail_msg("%s drot_chain k=%d n=%d differs from drot", t[ti]->name, k, n);
            }
            free(c); free(s); free(W0); free(ref); free(got);
        }
}

/* dgemm4 for 1..4 rows, both layouts of A (a_p(q) = A[p*m + q] as in A^T B, and
 * A[q*k + p] as in A B), awkward k and n, ldc > n: the scalar one equals the sum in p
 * order from zero, every twin the scalar bits, and columns beyond n are untouched. */
static void linalg_dgemm4_twins(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);
    tb_rng r;
    rng_seed(&r, 10);
    const int ks[] = {1, 7, 63, 129, 300}, ns[] = {1, 3, 7, 17, 63, 129};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
            for (int rows = 1; rows <= 4; rows++)
                for (int tr = 0; tr < 2; tr++) {
                    int k = ks[ki], n = ns[ni], m = 6;   /* A holds 6 rows; we take `rows` */
                    size_t as = tr ? 1 : (size_t)m, ai = tr ? (size_t)k : 1, ldb = (size_t)n + 2, ldc = (size_t)n + 3;
                    double *A = randd(&r, (size_t)m * k), *B = randd(&r, (size_t)k * ldb);
                    double *C[2] = {randd(&r, 4 * ldc), malloc(4 * ldc * 8)}, *C0 = malloc(4 * ldc * 8);
                    memcpy(C0, C[0], 4 * ldc * 8);
                    memcpy(C[1], C0, 4 * ldc * 8);
                    t[0]->dgemm4(rows, k, n, A, as, ai, B, ldb, C[0], ldc);
                    for (int q = 0; q < 4; q++)
                        for (size_t j = 0; j < ldc; j++) {
                            double want = C0[q * ldc + j];
                            if (q < rows && j < (size_t)n) {
                                want = 0;
                                for (int p = 0; p < k; p++) want += A[p * as + q * ai] * B[p * ldb + j];
                            }
                            if (C[0][q * ldc + j] != want) fail_msg("scalar dgemm4 r=%d k=%d n=%d C[%d,%zu]", rows, k, n, q, j);
                        }
                    for (int ti = 1; ti < nt; ti++) {
                        memcpy(C[1], C0, 4 * ldc * 8);
                        t[ti]->dgemm4(rows, k, n, A, as, ai, B, ldb, C[1], ldc);
                        if (memcmp(C[0], C[1], 4 * ldc * 8))
                            fail_msg("%s dgemm4 r=%d k=%d n=%d tr=%d differs from scalar", t[ti]->name, rows, k, n, tr);
                    }
                    free(A); free(B); free(C[0]); free(C[1]); free(C0);
                }
}

/* dgemm_tile: ragged and whole blocks, first and continuing chunks: the scalar one
 * equals the sum in p order (from zero, or from C), every twin the scalar bits (the avx2
 * table with and without its 512-bit block), and C beyond rows x cols is untouched. */
static void tile_check(const tb_kernels *t, int k, int rows, int cols, int first, const double *Ap, const double *Bp,
                       const double *C0, const double *want, size_t ldc) {
    double *C = malloc(TB_DGEMM_MR * ldc * 8);
    memcpy(C, C0, TB_DGEMM_MR * ldc * 8);
    t->dgemm_tile(k, Ap, Bp, C, ldc, rows, cols, first);
    if (memcmp(C, want, TB_DGEMM_MR * ldc * 8))
        fail_msg("%s dgemm_tile k=%d %dx%d first=%d (512-bit %d) differs", t->name, k, rows, cols, first, kernels_sgemm_512);
    free(C);
}

static void linalg_dgemm_tile_twins(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);
    tb_rng r;
    rng_seed(&r, 13);
    enum { MR = TB_DGEMM_MR, NR = TB_DGEMM_NR };
    const int ks[] = {1, 7, 300}, rs[] = {1, 3, 7, MR}, cs[] = {1, 5, 15, NR};
    size_t ldc = NR + 3;
    for (size_t ki = 0; ki < 3; ki++)
        for (size_t ri = 0; ri < 4; ri++)
            for (size_t ci = 0; ci < 4; ci++)
                for (int first = 0; first < 2; first++) {
                    int k = ks[ki], rows = rs[ri], cols = cs[ci];
                    double *Ap = randd(&r, (size_t)k * MR), *Bp = randd(&r, (size_t)k * NR);
                    double *C0 = randd(&r, MR * ldc), *want = malloc(MR * ldc * 8);
                    memcpy(want, C0, MR * ldc * 8);
                    for (int q = 0; q < rows; q++)
                        for (int j = 0; j < cols; j++) {
                            double c = first ? 0.0 : C0[q * ldc + j];
                            for (int p = 0; p < k; p++) c += Ap[p * MR + q] * Bp[p * NR + j];
                            want[q * ldc + j] = c;
                        }
                    for (int ti = 0; ti < nt; ti++)
                        for (int w512 = 1; w512 >= 0; w512--) {
                            kernels_sgemm_512 = w512;
                            tile_check(t[ti], k, rows, cols, first, Ap, Bp, C0, want, ldc);
                        }
                    kernels_sgemm_512 = 1;
                    free(Ap); free(Bp); free(C0); free(want);
                }
}

/* The whole of linalg.c through every table: eigh, svd and the products give the same
 * bits whichever table is active (rule 3 of the determinism contract, threads.h). */
static void linalg_same_bits_in_every_table(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);
    char err[TB_ERRLEN];
    tb_rng r;
    rng_seed(&r, 11);
    int n = 67, m = 130;
    double *X = randd(&r, (size_t)m * n), *A = malloc((size_t)n * n * 8);
    la_gemm_tn(m, n, n, X, X, A);  /* symmetric positive semi-definite */
    double *out[3];
    size_t len = (size_t)n * n * 3 + (size_t)n * 2 + (size_t)m * n + (size_t)m * m;
    for (int ti = 0; ti < nt; ti++) {
        assert_int_equal(kernels_init(t[ti]->name, err), 0);
        double *o = out[ti] = calloc(len, 8);
        assert_int_equal(la_eigh(n, A, o, o + n, err), 0);
        o += n + (size_t)n * n;
        assert_int_equal(la_svd(m, n, X, o, o + (size_t)m * n, o + (size_t)m * n + n, err), 0);
        o += (size_t)m * n + n + (size_t)n * n;
        la_gemm_nn(n, m, n, X, X, o);         /* X[0..n*m) read as [n,m] @ [m,n] */
        o += (size_t)n * n;
        la_gram_rows(m, n, X, o);
        if (ti) assert_memory_equal(out[0], out[ti], len * 8);
    }
    assert_int_equal(kernels_init("auto", err), 0);
    for (int ti = 0; ti < nt; ti++) free(out[ti]);
    free(X); free(A);
}

/* Every table names every kernel. */
static void tables_complete(void **state) {
    (void)state;
    const tb_kernels *t[3];
    int nt = tables(t);
    for (int ti = 0; ti < nt; ti++) {
        const tb_kernels *k = t[ti];
        assert_non_null(k->name);
        assert_true(k->sgemm && k->matmul_forward && k->matmul_backward);
        assert_true(k->softmax_forward && k->softmax_backward);
        assert_true(k->layernorm_forward && k->layernorm_backward);
        assert_true(k->rmsnorm_forward && k->rmsnorm_backward);
        assert_true(k->gelu_forward && k->gelu_backward && k->vexp && k->adamw);
        assert_true(k->lif_cuba && k->lif_coba);
        assert_true(k->rows_add && k->rows_acc && k->matvecs);
        assert_true(k->daxpy && k->daxpy2 && k->drot && k->drot_chain && k->dgemm4 && k->dgemm_tile);
    }
}

static void dispatch(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    assert_int_equal(kernels_init("bogus", err), -1);
    assert_non_null(strstr(err, "unknown kernel set 'bogus'"));
    assert_int_equal(kernels_init("scalar", err), 0);
    assert_ptr_equal(tb_kern, kernels_table("scalar"));
    setenv("TINYBRAIN_KERNELS", "scalar", 1);
    assert_int_equal(kernels_init("auto", err), 0);
    assert_string_equal(tb_kern->name, "scalar");
    unsetenv("TINYBRAIN_KERNELS");
    assert_int_equal(kernels_init(NULL, err), 0);
#if defined(__x86_64__)
    if (kernels_table("avx2")) assert_string_equal(tb_kern->name, "avx2");
    assert_null(kernels_table("neon"));
    assert_int_equal(kernels_init("neon", err), -1);
    assert_non_null(strstr(err, "not available"));
#elif defined(__aarch64__)
    assert_string_equal(tb_kern->name, "neon");
#endif
}

int main(void) {
    tb_threads_init(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgemm_all_tables),
        cmocka_unit_test(sgemm_threads),
        cmocka_unit_test(sgemm_512_same_bits),
        cmocka_unit_test(matmul_folds_same_bits),
        cmocka_unit_test(matmul_forward_backward),
        cmocka_unit_test(vexp_accuracy),
        cmocka_unit_test(elementwise_twins),
        cmocka_unit_test(gelu_512_same_bits),
        cmocka_unit_test(row_kernel_twins),
        cmocka_unit_test(adamw_twins),
        cmocka_unit_test(scalar_math),
        cmocka_unit_test(lif_hand_worked),
        cmocka_unit_test(lif_twins),
        cmocka_unit_test(srnn_twins),
        cmocka_unit_test(linalg_vector_twins),
        cmocka_unit_test(linalg_drot_chain_twins),
        cmocka_unit_test(linalg_dgemm4_twins),
        cmocka_unit_test(linalg_dgemm_tile_twins),
        cmocka_unit_test(linalg_same_bits_in_every_table),
        cmocka_unit_test(tables_complete),
        cmocka_unit_test(dispatch),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tb_threads_shutdown();
    return rc;
}
