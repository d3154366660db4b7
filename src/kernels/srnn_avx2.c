/* srnn_avx2.c -- AVX2+FMA twins of the spiking language model's kernels (lesson 09).
 * Compiled with -mavx2 -mfma on x86-64 only; chosen at run time when the kernel table
 * is "avx2".  Scalar references: srnn_scalar.c. */
#include "kernels_priv.h"

#if defined(__x86_64__)
#include <immintrin.h>

void rows_add_avx2(float *acc, const float *W, int ld, const int *idx, int nidx, int n) {
    int j = 0;
    for (; j + 32 <= n; j += 32) {   /* four registers of the accumulator stay put */
        __m256 a0 = _mm256_loadu_ps(acc + j), a1 = _mm256_loadu_ps(acc + j + 8);
        __m256 a2 = _mm256_loadu_ps(acc + j + 16), a3 = _mm256_loadu_ps(acc + j + 24);
        for (int k = 0; k < nidx; k++) {
            const float *w = W + (size_t)idx[k] * ld + j;
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(w));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(w + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(w + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(w + 24));
        }
        _mm256_storeu_ps(acc + j, a0);
        _mm256_storeu_ps(acc + j + 8, a1);
        _mm256_storeu_ps(acc + j + 16, a2);
        _mm256_storeu_ps(acc + j + 24, a3);
    }
    for (; j + 8 <= n; j += 8) {
        __m256 a = _mm256_loadu_ps(acc + j);
        for (int k = 0; k < nidx; k++) a = _mm256_add_ps(a, _mm256_loadu_ps(W + (size_t)idx[k] * ld + j));
        _mm256_storeu_ps(acc + j, a);
    }
    for (; j < n; j++) {
        float a = acc[j];
        for (int k = 0; k < nidx; k++) a += W[(size_t)idx[k] * ld + j];
        acc[j] = a;
    }
}

void rows_acc_avx2(float *W, int ld, const int *idx, int nidx, const float *x, int n) {
    int n32 = n & ~31;
    for (int k = 0; k < nidx; k++) {
        float *w = W + (size_t)idx[k] * ld;
        int j = 0;
        for (; j < n32; j += 32) {
            _mm256_storeu_ps(w + j, _mm256_add_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j)));
            _mm256_storeu_ps(w + j + 8, _mm256_add_ps(_mm256_loadu_ps(w + j + 8), _mm256_loadu_ps(x + j + 8)));
            _mm256_storeu_ps(w + j + 16, _mm256_add_ps(_mm256_loadu_ps(w + j + 16), _mm256_loadu_ps(x + j + 16)));
            _mm256_storeu_ps(w + j + 24, _mm256_add_ps(_mm256_loadu_ps(w + j + 24), _mm256_loadu_ps(x + j + 24)));
        }
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(w + j, _mm256_add_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j)));
        for (; j < n; j++) w[j] += x[j];
    }
}

/* Horizontal sum of 8 lanes in a fixed order. */
static inline float hsum8(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* One dot product per (row i, element b): 8-lane FMA over j, then the tail.  Rows are
 * taken two at a time and elements four at a time so that each loaded W chunk serves
 * four FMAs; every (i, b) pair follows the same arithmetic whatever the blocking. */
void matvecs_avx2(float *out, const float *W, const float *x, int nb, int n) {
    int n8 = n & ~7;
    for (int i = 0; i < n; i += 2) {
        int two = i + 1 < n;
        const float *w0 = W + (size_t)i * n, *w1 = two ? w0 + n : w0;
        int b = 0;
        for (; b + 4 <= nb; b += 4) {
            const float *x0 = x + (size_t)b * n, *x1 = x0 + n, *x2 = x1 + n, *x3 = x2 + n;
            __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
            __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            for (int j = 0; j < n8; j += 8) {
                __m256 a0 = _mm256_loadu_ps(w0 + j), a1 = _mm256_loadu_ps(w1 + j);
                __m256 v0 = _mm256_loadu_ps(x0 + j), v1 = _mm256_loadu_ps(x1 + j);
                __m256 v2 = _mm256_loadu_ps(x2 + j), v3 = _mm256_loadu_ps(x3 + j);
                c00 = _mm256_fmadd_ps(a0, v0, c00); c01 = _mm256_fmadd_ps(a0, v1, c01);
                c02 = _mm256_fmadd_ps(a0, v2, c02); c03 = _mm256_fmadd_ps(a0, v3, c03);
                c10 = _mm256_fmadd_ps(a1, v0, c10); c11 = _mm256_fmadd_ps(a1, v1, c11);
                c12 = _mm256_fmadd_ps(a1, v2, c12); c13 = _mm256_fmadd_ps(a1, v3, c13);
            }
            float r[8] = {hsum8(c00), hsum8(c01), hsum8(c02), hsum8(c03),
                          hsum8(c10), hsum8(c11), hsum8(c12), hsum8(c13)};
            const float *xs[4] = {x0, x1, x2, x3};
            for (int q = 0; q < 4; q++)
                for (int j = n8; j < n; j++) { r[q] += w0[j] * xs[q][j]; r[4 + q] += w1[j] * xs[q][j]; }
            for (int q = 0; q < 4; q++) {
                out[(size_t)(b + q) * n + i] = r[q];
                if (two) out[(size_t)(b + q) * n + i + 1] = r[4 + q];
            }
        }
        for (; b < nb; b++) {
            const float *xb = x + (size_t)b * n;
            __m256 c0 = _mm256_setzero_ps(), c1 = c0;
            for (int j = 0; j < n8; j += 8) {
                __m256 v = _mm256_loadu_ps(xb + j);
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j), v, c0);
                c1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j), v, c1);
            }
            float r0 = hsum8(c0), r1 = hsum8(c1);
            for (int j = n8; j < n; j++) { r0 += w0[j] * xb[j]; r1 += w1[j] * xb[j]; }
            out[(size_t)b * n + i] = r0;
            if (two) out[(size_t)b * n + i + 1] = r1;
        }
    }
}
#else
typedef int srnn_avx2_empty; /* ISO C forbids an empty translation unit */
#endif
