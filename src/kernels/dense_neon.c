/* dense_neon.c -- the NEON (aarch64) twins of the dense kernels in dense_scalar.c.
 *
 * Every aarch64 CPU has NEON (Advanced SIMD), so no run-time check is needed.  sgemm
 * is the packed-panel design of dense_pack.h with a 4x8 micro-kernel: the block of C
 * lives in 8 float32x4_t registers while k runs (vfmaq_laneq_f32: one FMA multiplies a
 * B vector by one lane of an A vector).  The element-wise kernels (softmax, norms,
 * GELU, exp) are left to the scalar definitions (the neon table in kernels.c names
 * them): they are a few percent of a training step, and keeping one definition avoids
 * a twin we cannot test on the x86 build machine.
 */
#include "kernels_priv.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define MR 4
#define NR 8

static void micro_4x8(int K, const float *Ap, const float *Bp, float *C, int ldc, int rows, int cols,
                      float beta, const float *bias) {
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
        for (int j = 0; j < cols; j++) {
            float x = bias ? acc[r][j] + bias[j] : acc[r][j];
            c[j] = beta != 0.0f ? beta * c[j] + x : x;
        }
    }
}

#define MICRO micro_4x8
#include "dense_pack.h"

void sgemm_ex_neon(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc, const float *bias, float *rowsum) {
    sgemm_packed(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, rowsum);
}

void sgemm_neon(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    sgemm_packed(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL, NULL);
}

void matmul_forward_neon(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int C, int OC) {
    kernels_matmul_forward_ex(sgemm_ex_neon, out, inp, weight, bias, N, C, OC);
}

void matmul_backward_neon(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int N, int C, int OC) {
    kernels_matmul_backward_ex(sgemm_ex_neon, dinp, dweight, dbias, dout, inp, weight, N, C, OC);
}

#else
typedef int tb_dense_neon_unused; /* ISO C forbids an empty translation unit */
#endif
