/* dense_scalar.c -- the scalar reference of the dense float32 kernels (see kernels.h).
 *
 * What they model: the dense algebra of the transformer (lessons 06-08: matmul,
 * softmax, layer/RMS norm, GELU, exp).  These plain-C versions are the *definition*:
 * their SIMD twins (dense_avx2.c, dense_neon.c) are tested against them.
 *
 * The one kernel that matters for speed is sgemm.  Even the scalar one is written with
 * care (row panels of C spread over the thread pool, a k-i-j loop order so the inner
 * loop streams through contiguous rows of B and C), because it is both the "before"
 * number in `tinybrain bench kernels` and the fallback on CPUs without AVX2/NEON.
 */
#include "kernels_priv.h"
#include "threads.h"

#include <math.h>
#include <string.h>

/* ---- sgemm ----------------------------------------------------------------- */
/* C[M,N] = alpha op(A)[M,K] op(B)[K,N] + beta C.  op(A)[i,k] = transA ? A[k*lda+i] : A[i*lda+k]. */

typedef struct {
    int transA, transB, M, N, K;
    float alpha, beta;
    const float *A, *B;
    int lda, ldb, ldc;
    float *C;
} gemm_args;

/* Rows [i0, i1) of C.  For each row: scale by beta, then add alpha a_ik * B[k,:] for
 * every k (k-i-j order: the inner loop is contiguous in B and C when B is not
 * transposed; with transB we take dot products of contiguous rows instead). */
static void gemm_rows(const gemm_args *g, int i0, int i1) {
    for (int i = i0; i < i1; i++) {
        float *c = g->C + (size_t)i * g->ldc;
        if (g->beta == 0.0f) memset(c, 0, (size_t)g->N * sizeof(float));
        else if (g->beta != 1.0f)
            for (int j = 0; j < g->N; j++) c[j] *= g->beta;
        if (!g->transB) {
            for (int k = 0; k < g->K; k++) {
                float a = g->transA ? g->A[(size_t)k * g->lda + i] : g->A[(size_t)i * g->lda + k];
                a *= g->alpha;
                const float *b = g->B + (size_t)k * g->ldb;
                for (int j = 0; j < g->N; j++) c[j] += a * b[j];
            }
        } else {
            for (int j = 0; j < g->N; j++) {
                const float *b = g->B + (size_t)j * g->ldb; /* op(B)[k,j] = B[j*ldb+k] */
                float s = 0.0f;
                if (!g->transA) {
                    const float *a = g->A + (size_t)i * g->lda;
                    for (int k = 0; k < g->K; k++) s += a[k] * b[k];
                } else {
                    for (int k = 0; k < g->K; k++) s += g->A[(size_t)k * g->lda + i] * b[k];
                }
                c[j] += g->alpha * s;
            }
        }
    }
}

static void gemm_task(void *ctx, int t, int nt) {
    const gemm_args *g = ctx;
    gemm_rows(g, (int)((long long)g->M * t / nt), (int)((long long)g->M * (t + 1) / nt));
}

/* Small products run on the calling thread: waking the pool costs ~10 us. */
static int gemm_tasks(int M, int N, int K) {
    double flops = 2.0 * M * N * K;
    int nt = tb_threads();
    if (flops < 2e5 || M < 2) return 1;
    return nt < M ? nt : M;
}

void sgemm_scalar(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    gemm_args g = {transA, transB, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C};
    int nt = gemm_tasks(M, N, K);
    if (nt == 1) gemm_rows(&g, 0, M);
    else tb_parallel(nt, gemm_task, &g);
}

/* out[N,OC] = inp[N,C] @ weight[OC,C]^T + bias[OC]  (through the given sgemm) */
void kernels_matmul_forward_via(tb_sgemm_fn *sgemm, float *out, const float *inp,
                                const float *weight, const float *bias, int N, int C, int OC) {
    if (bias)
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * OC, bias, (size_t)OC * sizeof(float));
    sgemm(0, 1, N, OC, C, 1.0f, inp, C, weight, C, bias ? 1.0f : 0.0f, out, OC);
}

/* sums[OC] += the column sums of x[N,OC] (a bias gradient), row after row. */
static void column_sums(float *sums, const float *x, int N, int OC) {
    for (int n = 0; n < N; n++) {
        const float *d = x + (size_t)n * OC;
        for (int o = 0; o < OC; o++) sums[o] += d[o];
    }
}

/* dinp[N,C] += dout[N,OC] @ weight[OC,C];  dweight[OC,C] += dout^T @ inp;  dbias += colsum */
void kernels_matmul_backward_via(tb_sgemm_fn *sgemm, float *dinp, float *dweight, float *dbias,
                                 const float *dout, const float *inp, const float *weight,
                                 int N, int C, int OC) {
    if (dinp) sgemm(0, 0, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
    if (dweight) sgemm(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
    if (dbias) column_sums(dbias, dout, N, OC);
}

/* The same two through a SIMD table's extended sgemm: the bias added in the product's
 * last step, the bias gradient summed while dout is packed (dense_pack.h); the same
 * numbers as the two above. */
void kernels_matmul_forward_ex(tb_sgemm_ex_fn *sgemm, float *out, const float *inp, const float *weight,
                               const float *bias, int N, int C, int OC) {
    sgemm(0, 1, N, OC, C, 1.0f, inp, C, weight, C, 0.0f, out, OC, bias, NULL);
}

void kernels_matmul_backward_ex(tb_sgemm_ex_fn *sgemm, float *dinp, float *dweight, float *dbias,
                                const float *dout, const float *inp, const float *weight, int N, int C, int OC) {
    if (dinp) sgemm(0, 0, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C, NULL, NULL);
    if (dweight) sgemm(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C, NULL, dbias);
    else if (dbias) column_sums(dbias, dout, N, OC);
}

void matmul_forward_scalar(float *out, const float *inp, const float *weight, const float *bias,
                           int N, int C, int OC) {
    kernels_matmul_forward_via(sgemm_scalar, out, inp, weight, bias, N, C, OC);
}

void matmul_backward_scalar(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, int N, int C, int OC) {
    kernels_matmul_backward_via(sgemm_scalar, dinp, dweight, dbias, dout, inp, weight, N, C, OC);
}

/* ---- softmax ----------------------------------------------------------------- */
/* p_j = exp(x_j - max) / sum_k exp(x_k - max).  A row of all -inf gives all zeros. */
void softmax_forward_scalar(float *out, const float *inp, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        const float *x = inp + (size_t)r * cols;
        float *p = out + (size_t)r * cols;
        float m = -INFINITY;
        for (int j = 0; j < cols; j++) m = x[j] > m ? x[j] : m;
        if (m == -INFINITY) { memset(p, 0, (size_t)cols * sizeof(float)); continue; }
        float s = 0.0f;
        for (int j = 0; j < cols; j++) { p[j] = expf(x[j] - m); s += p[j]; }
        float inv = 1.0f / s;
        for (int j = 0; j < cols; j++) p[j] *= inv;
    }
}

/* dx_j = p_j (dy_j - sum_k dy_k p_k) */
void softmax_backward_scalar(float *dinp, const float *dout, const float *p, int rows,
                             int cols) {
    for (int r = 0; r < rows; r++) {
        const float *dy = dout + (size_t)r * cols, *pr = p + (size_t)r * cols;
        float *dx = dinp + (size_t)r * cols;
        float dot = 0.0f;
        for (int j = 0; j < cols; j++) dot += dy[j] * pr[j];
        for (int j = 0; j < cols; j++) dx[j] = pr[j] * (dy[j] - dot);
    }
}

/* ---- layernorm / rmsnorm ------------------------------------------------------ */
#define NORM_EPS 1e-5f

/* y = (x - mu) * rstd * w + b,  mu = mean(x),  rstd = 1/sqrt(var(x) + eps) */
void layernorm_forward_scalar(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float mu = 0.0f;
        for (int i = 0; i < C; i++) mu += x[i];
        mu /= (float)C;
        float var = 0.0f;
        for (int i = 0; i < C; i++) { float d = x[i] - mu; var += d * d; }
        var /= (float)C;
        float rs = 1.0f / sqrtf(var + NORM_EPS);
        for (int i = 0; i < C; i++) y[i] = (x[i] - mu) * rs * weight[i] + bias[i];
        if (mean) mean[n] = mu;
        if (rstd) rstd[n] = rs;
    }
}

/* With xhat = (x - mu) rstd and g = w * dy:
 *   dx = rstd (g - mean(g) - xhat mean(g xhat)),  dw += dy xhat,  db += dy */
void layernorm_backward_scalar(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float mu = mean[n], rs = rstd[n];
        float gmean = 0.0f, gxmean = 0.0f;
        for (int i = 0; i < C; i++) {
            float xh = (x[i] - mu) * rs, g = weight[i] * dy[i];
            gmean += g;
            gxmean += g * xh;
        }
        gmean /= (float)C;
        gxmean /= (float)C;
        for (int i = 0; i < C; i++) {
            float xh = (x[i] - mu) * rs, g = weight[i] * dy[i];
            if (dbias) dbias[i] += dy[i];
            if (dweight) dweight[i] += dy[i] * xh;
            dx[i] += rs * (g - gmean - xh * gxmean);
        }
    }
}

/* y = x * rstd * w,  rstd = 1/sqrt(mean(x^2) + eps) */
void rmsnorm_forward_scalar(float *out, float *rstd, const float *inp, const float *weight,
                            int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float ss = 0.0f;
        for (int i = 0; i < C; i++) ss += x[i] * x[i];
        float rs = 1.0f / sqrtf(ss / (float)C + NORM_EPS);
        for (int i = 0; i < C; i++) y[i] = x[i] * rs * weight[i];
        if (rstd) rstd[n] = rs;
    }
}

/* xhat = x rstd, g = w dy:  dx = rstd (g - xhat mean(g xhat)),  dw += dy xhat */
void rmsnorm_backward_scalar(float *dinp, float *dweight, const float *dout,
                             const float *inp, const float *weight, const float *rstd,
                             int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float rs = rstd[n], gx = 0.0f;
        for (int i = 0; i < C; i++) gx += weight[i] * dy[i] * x[i] * rs;
        gx /= (float)C;
        for (int i = 0; i < C; i++) {
            float xh = x[i] * rs;
            if (dweight) dweight[i] += dy[i] * xh;
            dx[i] += rs * (weight[i] * dy[i] - xh * gx);
        }
    }
}

/* ---- GELU (tanh approximation) ------------------------------------------------ */
/* GELU_S = sqrt(2/pi) and GELU_C: kernels_priv.h */
/* gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3) */
void gelu_forward_scalar(float *out, const float *inp, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i], u = GELU_S * (x + GELU_C * x * x * x);
        out[i] = 0.5f * x * (1.0f + tanhf(u));
    }
}

/* d gelu/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2),  t = tanh(u) */
void gelu_backward_scalar(float *dinp, const float *inp, const float *dout, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i], u = GELU_S * (x + GELU_C * x * x * x), t = tanhf(u);
        float du = GELU_S * (1.0f + 3.0f * GELU_C * x * x);
        dinp[i] += dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
    }
}

void vexp_scalar(float *out, const float *inp, int n) {
    for (int i = 0; i < n; i++) out[i] = expf(inp[i]);
}

/* ---- AdamW ------------------------------------------------------------------------ */
void adamw_scalar(float *params, float *grads, float *m, float *v, const unsigned char *mask, size_t n,
                  const tb_adamw_coef *c) {
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] * c->scale;
        grads[i] = g;
        m[i] = c->b1 * m[i] + (1.0f - c->b1) * g;
        v[i] = c->b2 * v[i] + (1.0f - c->b2) * g * g;
        float mhat = m[i] / c->bc1, vhat = v[i] / c->bc2;
        float decay = (!mask || mask[i]) ? c->wd * params[i] : 0.0f;
        params[i] -= c->lr * (mhat / (sqrtf(vhat) + c->eps) + decay);
    }
}
