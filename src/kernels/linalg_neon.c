/* linalg_neon.c -- NEON twins of the float64 loops in linalg_scalar.c (lessons 10-12),
 * for aarch64.  Two doubles per instruction, with the scalar twin's multiplies and
 * adds in the same order and never fused (vmulq + vaddq, no vfmaq), so the results
 * are bit-identical to it; the tails run the scalar twin.  dgemm4 keeps a 4x4 block
 * of C in 8 registers while p runs (linalg_avx2.c also splits p into L1-sized chunks). */
#include "kernels_priv.h"

#if defined(__aarch64__)
#include <arm_neon.h>

void daxpy_neon(int n, double a, const double *x, double *y) {
    float64x2_t va = vdupq_n_f64(a);
    int i = 0;
    for (; i + 2 <= n; i += 2) vst1q_f64(y + i, vaddq_f64(vld1q_f64(y + i), vmulq_f64(va, vld1q_f64(x + i))));
    daxpy_scalar(n - i, a, x + i, y + i);
}

void daxpy2_neon(int n, double a, const double *u, double b, const double *v, double *y) {
    float64x2_t va = vdupq_n_f64(a), vb = vdupq_n_f64(b);
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        float64x2_t t = vaddq_f64(vmulq_f64(va, vld1q_f64(u + i)), vmulq_f64(vb, vld1q_f64(v + i)));
        vst1q_f64(y + i, vaddq_f64(vld1q_f64(y + i), t));
    }
    daxpy2_scalar(n - i, a, u + i, b, v + i, y + i);
}

void drot_neon(int n, double *x, double *y, double c, double s) {
    float64x2_t vc = vdupq_n_f64(c), vs = vdupq_n_f64(s);
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        float64x2_t xi = vld1q_f64(x + i), yi = vld1q_f64(y + i);
        vst1q_f64(x + i, vsubq_f64(vmulq_f64(vc, xi), vmulq_f64(vs, yi)));
        vst1q_f64(y + i, vaddq_f64(vmulq_f64(vs, xi), vmulq_f64(vc, yi)));
    }
    drot_scalar(n - i, x + i, y + i, c, s);
}

/* Columns [j, j + 8) of the chain (see drot_chain_scalar): four chains of 2 columns. */
ROT_CHAIN(static void chain_8, 4, float64x2_t, 2, vld1q_f64, vst1q_f64, vdupq_n_f64, vaddq_f64, vsubq_f64, vmulq_f64)

void drot_chain_neon(int k, const double *c, const double *s, double *W, size_t ldw, int ncol) {
    int j = 0;
    for (; j + 8 <= ncol; j += 8) chain_8(k, c, s, W + j, ldw);
    drot_chain_scalar(k, c, s, W + j, ldw, ncol - j);
}

/* C[0..4, j..j+4) = sum_p a_p B[p, j..j+4), the block in 8 registers while p runs. */
static void block_4x4(int k, const double *a, size_t as, size_t ai, const double *B, size_t ldb,
                      double *C, size_t ldc) {
    float64x2_t c00 = vdupq_n_f64(0.0), c01 = c00, c10 = c00, c11 = c00;
    float64x2_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int p = 0; p < k; p++) {
        const double *b = B + (size_t)p * ldb, *ap = a + (size_t)p * as;
        float64x2_t b0 = vld1q_f64(b), b1 = vld1q_f64(b + 2);
        float64x2_t a0 = vdupq_n_f64(ap[0]), a1 = vdupq_n_f64(ap[ai]);
        c00 = vaddq_f64(c00, vmulq_f64(a0, b0)); c01 = vaddq_f64(c01, vmulq_f64(a0, b1));
        c10 = vaddq_f64(c10, vmulq_f64(a1, b0)); c11 = vaddq_f64(c11, vmulq_f64(a1, b1));
        float64x2_t a2 = vdupq_n_f64(ap[2 * ai]), a3 = vdupq_n_f64(ap[3 * ai]);
        c20 = vaddq_f64(c20, vmulq_f64(a2, b0)); c21 = vaddq_f64(c21, vmulq_f64(a2, b1));
        c30 = vaddq_f64(c30, vmulq_f64(a3, b0)); c31 = vaddq_f64(c31, vmulq_f64(a3, b1));
    }
    vst1q_f64(C, c00); vst1q_f64(C + 2, c01);
    vst1q_f64(C + ldc, c10); vst1q_f64(C + ldc + 2, c11);
    vst1q_f64(C + 2 * ldc, c20); vst1q_f64(C + 2 * ldc + 2, c21);
    vst1q_f64(C + 3 * ldc, c30); vst1q_f64(C + 3 * ldc + 2, c31);
}

void dgemm4_neon(int r, int k, int n, const double *a, size_t as, size_t ai, const double *B,
                 size_t ldb, double *C, size_t ldc) {
    if (r < 4) { dgemm4_scalar(r, k, n, a, as, ai, B, ldb, C, ldc); return; }
    int j = 0;
    for (; j + 4 <= n; j += 4) block_4x4(k, a, as, ai, B + j, ldb, C + j, ldc);
    if (j < n) dgemm4_scalar(4, k, n - j, a, as, ai, B + j, ldb, C + j, ldc);
}
/* A 4 x 8 piece of a packed block (dgemm_tile_by_4x8) in 16 q-register accumulators. */
static void tile_4x8(int k, const double *Ap, const double *Bp, double *T, size_t ldt) {
    float64x2_t c[4][4];
    for (int q = 0; q < 4; q++)
        for (int v = 0; v < 4; v++) c[q][v] = vld1q_f64(T + (size_t)q * ldt + 2 * v);
    for (int p = 0; p < k; p++) {
        const double *a = Ap + (size_t)p * TB_DGEMM_MR, *b = Bp + (size_t)p * TB_DGEMM_NR;
        float64x2_t bv[4];
        for (int v = 0; v < 4; v++) bv[v] = vld1q_f64(b + 2 * v);
        for (int q = 0; q < 4; q++) {
            float64x2_t aq = vdupq_n_f64(a[q]);
            for (int v = 0; v < 4; v++) c[q][v] = vaddq_f64(c[q][v], vmulq_f64(aq, bv[v]));
        }
    }
    for (int q = 0; q < 4; q++)
        for (int v = 0; v < 4; v++) vst1q_f64(T + (size_t)q * ldt + 2 * v, c[q][v]);
}

void dgemm_tile_neon(int k, const double *Ap, const double *Bp, double *C, size_t ldc, int rows, int cols,
                     int first) {
    dgemm_tile_by_4x8(tile_4x8, k, Ap, Bp, C, ldc, rows, cols, first);
}
#else
typedef int tb_linalg_neon_unused; /* ISO C forbids an empty translation unit */
#endif
