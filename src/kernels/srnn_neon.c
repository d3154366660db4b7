/* srnn_neon.c -- NEON twins of the spiking language model's kernels (lesson 09), for
 * aarch64; chosen at run time when the kernel table is "neon".  Scalar references:
 * srnn_scalar.c.  Same blocking idea as srnn_avx2.c with 4-lane vectors (two per
 * 8-float chunk, so each dot product is summed in 8 lanes like the AVX2 version). */
#include "kernels_priv.h"

#if defined(__aarch64__)
#include <arm_neon.h>

void rows_add_neon(float *acc, const float *W, int ld, const int *idx, int nidx, int n) {
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        float32x4_t a0 = vld1q_f32(acc + j), a1 = vld1q_f32(acc + j + 4);
        float32x4_t a2 = vld1q_f32(acc + j + 8), a3 = vld1q_f32(acc + j + 12);
        for (int k = 0; k < nidx; k++) {
            const float *w = W + (size_t)idx[k] * ld + j;
            a0 = vaddq_f32(a0, vld1q_f32(w));
            a1 = vaddq_f32(a1, vld1q_f32(w + 4));
            a2 = vaddq_f32(a2, vld1q_f32(w + 8));
            a3 = vaddq_f32(a3, vld1q_f32(w + 12));
        }
        vst1q_f32(acc + j, a0);
        vst1q_f32(acc + j + 4, a1);
        vst1q_f32(acc + j + 8, a2);
        vst1q_f32(acc + j + 12, a3);
    }
    for (; j < n; j++) {
        float a = acc[j];
        for (int k = 0; k < nidx; k++) a += W[(size_t)idx[k] * ld + j];
        acc[j] = a;
    }
}

void rows_acc_neon(float *W, int ld, const int *idx, int nidx, const float *x, int n) {
    for (int k = 0; k < nidx; k++) {
        float *w = W + (size_t)idx[k] * ld;
        int j = 0;
        for (; j + 4 <= n; j += 4) vst1q_f32(w + j, vaddq_f32(vld1q_f32(w + j), vld1q_f32(x + j)));
        for (; j < n; j++) w[j] += x[j];
    }
}

void matvecs_neon(float *out, const float *W, const float *x, int nb, int n) {
    int n8 = n & ~7;
    for (int i = 0; i < n; i++) {
        const float *w = W + (size_t)i * n;
        for (int b = 0; b < nb; b++) {
            const float *xb = x + (size_t)b * n;
            float32x4_t c0 = vdupq_n_f32(0.0f), c1 = c0;
            for (int j = 0; j < n8; j += 8) {
                c0 = vfmaq_f32(c0, vld1q_f32(w + j), vld1q_f32(xb + j));
                c1 = vfmaq_f32(c1, vld1q_f32(w + j + 4), vld1q_f32(xb + j + 4));
            }
            float r = vaddvq_f32(vaddq_f32(c0, c1));
            for (int j = n8; j < n; j++) r += w[j] * xb[j];
            out[(size_t)b * n + i] = r;
        }
    }
}
#else
typedef int srnn_neon_empty; /* ISO C forbids an empty translation unit */
#endif
