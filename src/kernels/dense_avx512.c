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
#include <math.h>

#define MR 8
#define NR 32

/* C[r, j] = beta C + acc (or acc + bias) for j < n (n <= 16): fused when the 16 columns
 * are whole. */
static void store_half(float *c, __m512 acc, int n, float beta, const float *bias) {
    if (n == 16) {
        if (bias) acc = _mm512_add_ps(acc, _mm512_loadu_ps(bias));
        if (beta != 0.0f) acc = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_loadu_ps(c), acc);
        _mm512_storeu_ps(c, acc);
        return;
    }
    float t[16];
    _mm512_storeu_ps(t, acc);
    for (int j = 0; j < n; j++) {
        float x = bias ? t[j] + bias[j] : t[j];
        c[j] = beta != 0.0f ? beta * c[j] + x : x;
    }
}

static void micro_8x32(int K, const float *Ap, const float *Bp, float *C, int ldc, int rows, int cols,
                       float beta, const float *bias) {
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
        store_half(c, c0[r], n0, beta, bias);
        if (n1 > 0) store_half(c + 16, c1[r], n1, beta, bias ? bias + 16 : NULL);
    }
}

#define PACK_AVX 1
#define MICRO micro_8x32
#include "dense_pack.h"

void sgemm_avx512(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc, const float *bias, float *rowsum) {
    sgemm_packed(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, rowsum);
}


/* ---- GELU, 16 at a time ------------------------------------------------------------
 * exp_avx2, tanh_avx2 and the GELU kernels of dense_avx2.c lane for lane: the same
 * operations in the same order on each element (compare masks instead of blend
 * vectors), so the same bits; dense_avx2.c runs these on the whole 16s of a slice and
 * finishes the rest itself. */
static inline __m512 exp_512(__m512 x) {
    const __m512 hi = _mm512_set1_ps(88.72283f), lo = _mm512_set1_ps(-87.33654f);
    __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), over = _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i ni = _mm512_cvtps_epi32(n);
    __mmask16 big = _mm512_cmpgt_epi32_mask(ni, _mm512_set1_epi32(127));
    ni = _mm512_mask_sub_epi32(ni, big, ni, _mm512_set1_epi32(1));
    __m512 two_n = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(ni, _mm512_set1_epi32(127)), 23));
    p = _mm512_mul_ps(p, two_n);
    p = _mm512_mask_mul_ps(p, big, p, _mm512_set1_ps(2.0f));
    p = _mm512_mask_mov_ps(p, under, _mm512_setzero_ps());
    p = _mm512_mask_mov_ps(p, over, _mm512_set1_ps(INFINITY));
    return p;
}

static inline __m512 tanh_512(__m512 u) {
    u = _mm512_min_ps(_mm512_max_ps(u, _mm512_set1_ps(-9.0f)), _mm512_set1_ps(9.0f));
    __m512 e = exp_512(_mm512_add_ps(u, u));
    return _mm512_sub_ps(_mm512_set1_ps(1.0f),
                         _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
}

int gelu_forward_avx512(float *out, const float *inp, int n) {
    const __m512 s = _mm512_set1_ps(GELU_S), c = _mm512_set1_ps(GELU_C), half = _mm512_set1_ps(0.5f),
                 one = _mm512_set1_ps(1.0f);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(inp + i);
        __m512 u = _mm512_mul_ps(s, _mm512_fmadd_ps(_mm512_mul_ps(c, x), _mm512_mul_ps(x, x), x));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(half, x), _mm512_add_ps(one, tanh_512(u))));
    }
    return i;
}

int gelu_backward_avx512(float *dinp, const float *inp, const float *dout, int n) {
    const __m512 s = _mm512_set1_ps(GELU_S), c = _mm512_set1_ps(GELU_C), c3 = _mm512_set1_ps(3.0f * GELU_C),
                 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(inp + i), x2 = _mm512_mul_ps(x, x);
        __m512 u = _mm512_mul_ps(s, _mm512_fmadd_ps(_mm512_mul_ps(c, x), x2, x));
        __m512 t = tanh_512(u);
        __m512 du = _mm512_mul_ps(s, _mm512_fmadd_ps(c3, x2, one));
        __m512 sech2 = _mm512_fnmadd_ps(t, t, one);
        __m512 g = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(half, x), sech2), du,
                                   _mm512_mul_ps(half, _mm512_add_ps(one, t)));
        _mm512_storeu_ps(dinp + i, _mm512_fmadd_ps(_mm512_loadu_ps(dout + i), g, _mm512_loadu_ps(dinp + i)));
    }
    return i;
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
