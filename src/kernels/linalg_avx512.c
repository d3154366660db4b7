/* linalg_avx512.c -- the 512-bit blocks of dgemm4_avx2 and drot_chain_avx2 (lessons
 * 10-12), on CPUs with AVX-512F: four rows of C by 16 columns in 8 zmm registers while p
 * runs, eight rows by 16 in 16 for the packed products, and 32 columns of a rotation chain.  Like every
 * float64 loop of the kernel tables it multiplies and adds separately, in the scalar
 * twin's order (no fused multiply-add), so it gives the scalar bits; it only doubles the
 * width.  Compiled with the baseline flags, its functions carrying the target attribute;
 * dgemm4_avx2 calls it only when dgemm_avx512_usable(). */
#include "kernels_priv.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f"))) void dgemm_block_4x16(int first, int k, const double *a, size_t as, size_t ai,
                                                          const double *B, size_t ldb, double *C, size_t ldc) {
    __m512d c[4][2];
    for (int q = 0; q < 4; q++)
        for (int h = 0; h < 2; h++)
            c[q][h] = first ? _mm512_setzero_pd() : _mm512_loadu_pd(C + (size_t)q * ldc + 8 * h);
    for (int p = 0; p < k; p++) {
        const double *b = B + (size_t)p * ldb, *ap = a + (size_t)p * as;
        __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8);
        for (int q = 0; q < 4; q++) {
            __m512d aq = _mm512_set1_pd(ap[q * ai]);
            c[q][0] = _mm512_add_pd(c[q][0], _mm512_mul_pd(aq, b0));
            c[q][1] = _mm512_add_pd(c[q][1], _mm512_mul_pd(aq, b1));
        }
    }
    for (int q = 0; q < 4; q++)
        for (int h = 0; h < 2; h++) _mm512_storeu_pd(C + (size_t)q * ldc + 8 * h, c[q][h]);
}

/* dgemm_tile_avx2's whole 8 x 16 block: 16 zmm accumulators; per p two loads of B,
 * eight broadcasts of A, 16 multiplies and 16 adds (the scalar twin's order). */
__attribute__((target("avx512f"))) void dgemm_tile_8x16(int k, const double *Ap, const double *Bp, double *C,
                                                         size_t ldc, int first) {
    __m512d c0[8], c1[8];
    for (int r = 0; r < 8; r++) {
        c0[r] = first ? _mm512_setzero_pd() : _mm512_loadu_pd(C + (size_t)r * ldc);
        c1[r] = first ? _mm512_setzero_pd() : _mm512_loadu_pd(C + (size_t)r * ldc + 8);
    }
    for (int p = 0; p < k; p++) {
        const double *a = Ap + (size_t)p * 8;
        __m512d b0 = _mm512_loadu_pd(Bp + (size_t)p * 16), b1 = _mm512_loadu_pd(Bp + (size_t)p * 16 + 8);
        for (int r = 0; r < 8; r++) {
            __m512d ar = _mm512_set1_pd(a[r]);
            c0[r] = _mm512_add_pd(c0[r], _mm512_mul_pd(ar, b0));
            c1[r] = _mm512_add_pd(c1[r], _mm512_mul_pd(ar, b1));
        }
    }
    for (int r = 0; r < 8; r++) {
        _mm512_storeu_pd(C + (size_t)r * ldc, c0[r]);
        _mm512_storeu_pd(C + (size_t)r * ldc + 8, c1[r]);
    }
}

/* drot_chain_avx2's block of 32 columns in four zmm chains (see drot_chain_scalar): the
 * chain is bound by its multiplies, so the width pays; the same bits. */
ROT_CHAIN(__attribute__((target("avx512f"))) void drot_chain_32, 4, __m512d, 8, _mm512_loadu_pd, _mm512_storeu_pd,
          _mm512_set1_pd, _mm512_add_pd, _mm512_sub_pd, _mm512_mul_pd)

int dgemm_avx512_usable(void) {
    static int usable = -1;
    if (usable < 0) {
        __builtin_cpu_init();
        usable = __builtin_cpu_supports("avx512f");
    }
    return usable && kernels_sgemm_512;
}

#else
typedef int tb_linalg_avx512_unused; /* ISO C forbids an empty translation unit */
#endif
