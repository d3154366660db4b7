/* dense_avx512.c -- the 512-bit micro-kernel behind the avx2 table's sgemm, on CPUs
 * that have AVX-512F (lesson 06: the same product, twice the width).
 *
 * It computes exactly what dense_avx2.c's 6x16 kernel computes: every element of C is
 * one chain of fused multiply-adds over k in order, from zero, with alpha folded into
 * the packed A, and beta C added with a fused multiply-add on the columns an AVX2
 * 16-column panel would hold whole and with a multiply and an add on the rest.  So the
 * avx2 table gives the same bits whether or not it runs this (kernels.h); it is 1.5-2x
 * faster where the CPU executes 512-bit FMAs at full width.  The file is compiled with
 * the baseline flags; its functions carry the target attribute, and sgemm_avx2 calls
 * it only after __builtin_cpu_supports("avx512f").  8 x 32 block: 16 zmm accumulators,
 * per k 2 loads of B, 8 broadcasts of A, 16 FMAs. */
#include "kernels_priv.h"

#if defined(__x86_64__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
#endif
#include <immintrin.h>

#define MR 8
#define NR 32

/* C[r, j] = beta C + acc for j < n (n <= 16): fused when the 16 columns are whole. */
static void store_half(float *c, __m512 acc, int n, float beta) {
    if (n == 16) {
        if (beta != 0.0f) acc = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_loadu_ps(c), acc);
        _mm512_storeu_ps(c, acc);
        return;
    }
    float t[16];
    _mm512_storeu_ps(t, acc);
    for (int j = 0; j < n; j++) c[j] = beta != 0.0f ? beta * c[j] + t[j] : t[j];
}

static void micro_8x32(int K, const float *Ap, const float *Bp, float *C, int ldc, int rows, int cols,
                       float beta) {
    __m512 c0[MR], c1[MR];
    for (int r = 0; r < MR; r++) c0[r] = c1[r] = _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m512 b0 = _mm512_loadu_ps(Bp + (size_t)k * NR), b1 = _mm512_loadu_ps(Bp + (size_t)k * NR + 16);
        const float *a = Ap + (size_t)k * MR;
        for (int r = 0; r < MR; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);
        }
    }
    int n0 = cols < 16 ? cols : 16, n1 = cols - 16;
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        store_half(c, c0[r], n0, beta);
        if (n1 > 0) store_half(c + 16, c1[r], n1, beta);
    }
}

#define PACK_AVX 1
#define MICRO micro_8x32
#include "dense_pack.h"

void sgemm_avx512(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc) {
    sgemm_packed(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

int sgemm_avx512_usable(void) {
    static int usable = -1;
    if (usable < 0) {
        __builtin_cpu_init();
        usable = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    }
    return usable && kernels_sgemm_512;
}

#else
typedef int tb_dense_avx512_unused; /* ISO C forbids an empty translation unit */
#endif
