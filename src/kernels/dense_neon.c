/* dense_neon.c -- the NEON (aarch64) twins of the dense kernels in dense_scalar.c.
 *
 * Every aarch64 CPU has NEON (Advanced SIMD), so no run-time check is needed.  The
 * structure follows dense_avx2.c with 4-wide float32x4_t vectors: sgemm packs
 * op(B) into 8-column panels and keeps a 4x8 block of C in 8 registers while k runs
 * (vfmaq_laneq_f32: one FMA multiplies a B vector by one lane of an A vector).  The
 * element-wise kernels (softmax, norms, GELU, exp) are left to the scalar definitions
 * (the neon table in kernels.c names them): they are a few percent of a training step,
 * and keeping one definition avoids a twin we cannot test on the x86 build machine.
 */
#include "kernels_priv.h"

#if defined(__aarch64__)
#include "threads.h"

#include <arm_neon.h>
#include <stdlib.h>
#include <string.h>

#define MR 4
#define NR 8

static void pack_B(int transB, int N, int K, const float *B, int ldb, float *Bp) {
    int nb = (N + NR - 1) / NR;
    for (int jb = 0; jb < nb; jb++) {
        float *dst = Bp + (size_t)jb * K * NR;
        int j0 = jb * NR, w = N - j0 < NR ? N - j0 : NR;
        for (int k = 0; k < K; k++) {
            float *d = dst + (size_t)k * NR;
            int j = 0;
            for (; j < w; j++) d[j] = transB ? B[(size_t)(j0 + j) * ldb + k] : B[(size_t)k * ldb + j0 + j];
            for (; j < NR; j++) d[j] = 0.0f;
        }
    }
}

static void pack_A(int transA, int rows, int K, float alpha, const float *A, int lda, int i0,
                   float *Ap) {
    for (int k = 0; k < K; k++) {
        float *d = Ap + (size_t)k * MR;
        int r = 0;
        for (; r < rows; r++)
            d[r] = alpha * (transA ? A[(size_t)k * lda + i0 + r] : A[(size_t)(i0 + r) * lda + k]);
        for (; r < MR; r++) d[r] = 0.0f;
    }
}

static void micro_4x8(int K, const float *Ap, const float *Bp, float *C, int ldc, int rows, int cols,
                      float beta) {
    float32x4_t c00 = vdupq_n_f32(0), c01 = vdupq_n_f32(0), c10 = vdupq_n_f32(0), c11 = vdupq_n_f32(0),
                c20 = vdupq_n_f32(0), c21 = vdupq_n_f32(0), c30 = vdupq_n_f32(0), c31 = vdupq_n_f32(0);
    for (int k = 0; k < K; k++) {
        float32x4_t b0 = vld1q_f32(Bp + (size_t)k * NR), b1 = vld1q_f32(Bp + (size_t)k * NR + 4);
        float32x4_t a = vld1q_f32(Ap + (size_t)k * MR);
        c00 = vfmaq_laneq_f32(c00, b0, a, 0); c01 = vfmaq_laneq_f32(c01, b1, a, 0);
        c10 = vfmaq_laneq_f32(c10, b0, a, 1); c11 = vfmaq_laneq_f32(c11, b1, a, 1);
        c20 = vfmaq_laneq_f32(c20, b0, a, 2); c21 = vfmaq_laneq_f32(c21, b1, a, 2);
        c30 = vfmaq_laneq_f32(c30, b0, a, 3); c31 = vfmaq_laneq_f32(c31, b1, a, 3);
    }
    float acc[MR][NR];
    vst1q_f32(acc[0], c00); vst1q_f32(acc[0] + 4, c01);
    vst1q_f32(acc[1], c10); vst1q_f32(acc[1] + 4, c11);
    vst1q_f32(acc[2], c20); vst1q_f32(acc[2] + 4, c21);
    vst1q_f32(acc[3], c30); vst1q_f32(acc[3] + 4, c31);
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        for (int j = 0; j < cols; j++) c[j] = beta != 0.0f ? beta * c[j] + acc[r][j] : acc[r][j];
    }
}

typedef struct {
    int transA, M, N, K;
    float alpha, beta;
    const float *A;
    int lda;
    const float *Bp;
    float *C;
    int ldc;
} gemm_job;

static void gemm_panels(const gemm_job *g, int p0, int p1) {
    float *Ap = kernels_scratch(0, (size_t)g->K * MR);
    if (!Ap) return;
    int nb = (g->N + NR - 1) / NR;
    for (int p = p0; p < p1; p++) {
        int i0 = p * MR, rows = g->M - i0 < MR ? g->M - i0 : MR;
        pack_A(g->transA, rows, g->K, g->alpha, g->A, g->lda, i0, Ap);
        for (int jb = 0; jb < nb; jb++) {
            int j0 = jb * NR, cols = g->N - j0 < NR ? g->N - j0 : NR;
            micro_4x8(g->K, Ap, g->Bp + (size_t)jb * g->K * NR, g->C + (size_t)i0 * g->ldc + j0, g->ldc,
                      rows, cols, g->beta);
        }
    }
}

static void gemm_task(void *ctx, int t, int nt) {
    const gemm_job *g = ctx;
    int np = (g->M + MR - 1) / MR;
    gemm_panels(g, (int)((long long)np * t / nt), (int)((long long)np * (t + 1) / nt));
}

void sgemm_neon(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { sgemm_scalar(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); return; }
    int nb = (N + NR - 1) / NR;
    float *Bp = kernels_scratch(1, (size_t)nb * K * NR);
    if (!Bp) { sgemm_scalar(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); return; }
    pack_B(transB, N, K, B, ldb, Bp);
    gemm_job g = {transA, M, N, K, alpha, beta, A, lda, Bp, C, ldc};
    int np = (M + MR - 1) / MR, nt = tb_threads();
    if (2.0 * M * N * K < 2e5 || np < 2) nt = 1;
    if (nt > np) nt = np;
    if (nt == 1) gemm_panels(&g, 0, np);
    else tb_parallel(nt, gemm_task, &g);
}

void matmul_forward_neon(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int C, int OC) {
    kernels_matmul_forward_via(sgemm_neon, out, inp, weight, bias, N, C, OC);
}

void matmul_backward_neon(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int N, int C, int OC) {
    kernels_matmul_backward_via(sgemm_neon, dinp, dweight, dbias, dout, inp, weight, N, C, OC);
}

#else
typedef int tb_dense_neon_unused; /* ISO C forbids an empty translation unit */
#endif
