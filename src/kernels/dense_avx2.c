/* dense_avx2.c -- the AVX2 + FMA twins of the dense kernels in dense_scalar.c.
 *
 * Compiled with -mavx2 -mfma on x86-64 only; kernels.c hands the avx2 table out only
 * after __builtin_cpu_supports says the CPU has both, so the binary still runs on
 * any x86-64.  Each function computes what its scalar twin computes (tests compare
 * them on awkward sizes); only the order of float additions differs.
 *
 * sgemm, the kernel that matters, is the packed-panel design of dense_pack.h with a
 * 6x16 micro-kernel: the block of C lives in 12 ymm registers while k runs; per k,
 * 2 loads of B, 6 broadcasts of A, 12 FMAs.
 */
#include "kernels_priv.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define MR 6
#define NR 16

/* acc[MR][NR] = Ap^T Bp over K, then C = beta C + acc (or acc + bias) on the valid
 * rows/columns. */
static void micro_6x16(int K, const float *Ap, const float *Bp, float *C, int ldc, int rows,
                       int cols, float beta, const float *bias) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
           c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
           c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
           c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m256 b0 = _mm256_load_ps(Bp + (size_t)k * NR), b1 = _mm256_load_ps(Bp + (size_t)k * NR + 8);
        const float *a = Ap + (size_t)k * MR;
        __m256 a0 = _mm256_broadcast_ss(a + 0), a1 = _mm256_broadcast_ss(a + 1);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
        c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
        __m256 a2 = _mm256_broadcast_ss(a + 2), a3 = _mm256_broadcast_ss(a + 3);
        c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21);
        c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31);
        __m256 a4 = _mm256_broadcast_ss(a + 4), a5 = _mm256_broadcast_ss(a + 5);
        c40 = _mm256_fmadd_ps(a4, b0, c40); c41 = _mm256_fmadd_ps(a4, b1, c41);
        c50 = _mm256_fmadd_ps(a5, b0, c50); c51 = _mm256_fmadd_ps(a5, b1, c51);
    }
    float acc[MR][NR] __attribute__((aligned(32)));
    _mm256_store_ps(acc[0], c00); _mm256_store_ps(acc[0] + 8, c01);
    _mm256_store_ps(acc[1], c10); _mm256_store_ps(acc[1] + 8, c11);
    _mm256_store_ps(acc[2], c20); _mm256_store_ps(acc[2] + 8, c21);
    _mm256_store_ps(acc[3], c30); _mm256_store_ps(acc[3] + 8, c31);
    _mm256_store_ps(acc[4], c40); _mm256_store_ps(acc[4] + 8, c41);
    _mm256_store_ps(acc[5], c50); _mm256_store_ps(acc[5] + 8, c51);
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        if (cols == NR) {
            __m256 x0 = _mm256_load_ps(acc[r]), x1 = _mm256_load_ps(acc[r] + 8);
            if (bias) {
                x0 = _mm256_add_ps(x0, _mm256_loadu_ps(bias));
                x1 = _mm256_add_ps(x1, _mm256_loadu_ps(bias + 8));
            }
            if (beta != 0.0f) {
                __m256 bb = _mm256_set1_ps(beta);
                x0 = _mm256_fmadd_ps(bb, _mm256_loadu_ps(c), x0);
                x1 = _mm256_fmadd_ps(bb, _mm256_loadu_ps(c + 8), x1);
            }
            _mm256_storeu_ps(c, x0);
            _mm256_storeu_ps(c + 8, x1);
        } else {
            for (int j = 0; j < cols; j++) {
                float x = bias ? acc[r][j] + bias[j] : acc[r][j];
                c[j] = beta != 0.0f ? beta * c[j] + x : x;
            }
        }
    }
}

#define PACK_AVX 1
#define MICRO micro_6x16
#include "dense_pack.h"

/* sgemm with the extras of dense_pack.h (bias, rowsum); on a CPU with AVX-512F through the
 * 512-bit twin of this kernel (dense_avx512.c): the same bits. */
void sgemm_ex_avx2(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc, const float *bias, float *rowsum) {
    if (sgemm_avx512_usable())
        sgemm_avx512(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, rowsum);
    else sgemm_packed(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, rowsum);
}

void sgemm_avx2(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    sgemm_ex_avx2(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL, NULL);
}

void matmul_forward_avx2(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int C, int OC) {
    kernels_matmul_forward_ex(sgemm_ex_avx2, out, inp, weight, bias, N, C, OC);
}

void matmul_backward_avx2(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int N, int C, int OC) {
    kernels_matmul_backward_ex(sgemm_ex_avx2, dinp, dweight, dbias, dout, inp, weight, N, C, OC);
}

/* ---- helpers ---------------------------------------------------------------------- */
static inline float hsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}
static inline float hmax(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_max_ps(lo, hi);
    lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/* exp(x) = 2^n e^r with n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2]
 * (ln 2 split in a high and a low part so r is exact), e^r by its degree-7 Taylor
 * polynomial (truncation |r|^8/8! < 6e-9 on |r| <= 0.347; the rest is float rounding
 * in the Horner steps), 2^n built in the exponent bits.
 * Inputs are clamped to [-87.3, 88.7]: below, the result is 0; above, +inf. */
static inline __m256 exp_avx2(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.72283f), lo = _mm256_set1_ps(-87.33654f);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ), over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* 2^n: n in [-126, 128]; n = 128 (x near 88.7) is split as 2^127 * 2. */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i big = _mm256_cmpgt_epi32(ni, _mm256_set1_epi32(127));
    ni = _mm256_sub_epi32(ni, _mm256_and_si256(big, _mm256_set1_epi32(1)));
    __m256 two_n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23));
    p = _mm256_mul_ps(p, two_n);
    p = _mm256_blendv_ps(p, _mm256_mul_ps(p, _mm256_set1_ps(2.0f)), _mm256_castsi256_ps(big));
    p = _mm256_blendv_ps(p, _mm256_setzero_ps(), under);
    p = _mm256_blendv_ps(p, _mm256_set1_ps(INFINITY), over);
    return p;
}

void vexp_avx2(float *out, const float *inp, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, exp_avx2(_mm256_loadu_ps(inp + i)));
    if (i < n) {
        float t[8] = {0};
        memcpy(t, inp + i, (size_t)(n - i) * sizeof(float));
        _mm256_storeu_ps(t, exp_avx2(_mm256_loadu_ps(t)));
        memcpy(out + i, t, (size_t)(n - i) * sizeof(float));
    }
}

/* ---- softmax ------------------------------------------------------------------------ */
void softmax_forward_avx2(float *out, const float *inp, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        const float *x = inp + (size_t)r * cols;
        float *p = out + (size_t)r * cols;
        __m256 vm = _mm256_set1_ps(-INFINITY);
        int j = 0;
        for (; j + 8 <= cols; j += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + j));
        float m = hmax(vm);
        for (; j < cols; j++) m = x[j] > m ? x[j] : m;
        if (m == -INFINITY) { memset(p, 0, (size_t)cols * sizeof(float)); continue; }
        __m256 mv = _mm256_set1_ps(m), vs = _mm256_setzero_ps();
        j = 0;
        for (; j + 8 <= cols; j += 8) {
            __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv));
            _mm256_storeu_ps(p + j, e);
            vs = _mm256_add_ps(vs, e);
        }
        float s = hsum(vs);
        for (; j < cols; j++) { p[j] = expf(x[j] - m); s += p[j]; }
        __m256 inv = _mm256_set1_ps(1.0f / s);
        j = 0;
        for (; j + 8 <= cols; j += 8) _mm256_storeu_ps(p + j, _mm256_mul_ps(_mm256_loadu_ps(p + j), inv));
        for (; j < cols; j++) p[j] *= 1.0f / s;
    }
}

void softmax_backward_avx2(float *dinp, const float *dout, const float *p, int rows,
                           int cols) {
    for (int r = 0; r < rows; r++) {
        const float *dy = dout + (size_t)r * cols, *pr = p + (size_t)r * cols;
        float *dx = dinp + (size_t)r * cols;
        __m256 vd = _mm256_setzero_ps();
        int j = 0;
        for (; j + 8 <= cols; j += 8) vd = _mm256_fmadd_ps(_mm256_loadu_ps(dy + j), _mm256_loadu_ps(pr + j), vd);
        float dot = hsum(vd);
        for (; j < cols; j++) dot += dy[j] * pr[j];
        __m256 dv = _mm256_set1_ps(dot);
        j = 0;
        for (; j + 8 <= cols; j += 8)
            _mm256_storeu_ps(dx + j, _mm256_mul_ps(_mm256_loadu_ps(pr + j), _mm256_sub_ps(_mm256_loadu_ps(dy + j), dv)));
        for (; j < cols; j++) dx[j] = pr[j] * (dy[j] - dot);
    }
}

/* ---- norms ------------------------------------------------------------------------------ */
#define NORM_EPS 1e-5f

static float vsum(const float *x, int n) {
    __m256 s = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(x + i));
    float t = hsum(s);
    for (; i < n; i++) t += x[i];
    return t;
}
static float vsqdev(const float *x, int n, float mu) {
    __m256 s = _mm256_setzero_ps(), m = _mm256_set1_ps(mu);
    int i = 0;
    for (; i + 8 <= n; i += 8) { __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), m); s = _mm256_fmadd_ps(d, d, s); }
    float t = hsum(s);
    for (; i < n; i++) t += (x[i] - mu) * (x[i] - mu);
    return t;
}

void layernorm_forward_avx2(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float mu = vsum(x, C) / (float)C;
        float rs = 1.0f / sqrtf(vsqdev(x, C, mu) / (float)C + NORM_EPS);
        __m256 vm = _mm256_set1_ps(mu), vr = _mm256_set1_ps(rs);
        int i = 0;
        for (; i + 8 <= C; i += 8) {
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(xh, _mm256_loadu_ps(weight + i), _mm256_loadu_ps(bias + i)));
        }
        for (; i < C; i++) y[i] = (x[i] - mu) * rs * weight[i] + bias[i];
        if (mean) mean[n] = mu;
        if (rstd) rstd[n] = rs;
    }
}

void layernorm_backward_avx2(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float mu = mean[n], rs = rstd[n];
        __m256 vm = _mm256_set1_ps(mu), vr = _mm256_set1_ps(rs);
        __m256 sg = _mm256_setzero_ps(), sgx = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= C; i += 8) {
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
            __m256 g = _mm256_mul_ps(_mm256_loadu_ps(weight + i), _mm256_loadu_ps(dy + i));
            sg = _mm256_add_ps(sg, g);
            sgx = _mm256_fmadd_ps(g, xh, sgx);
        }
        float gmean = hsum(sg), gxmean = hsum(sgx);
        for (; i < C; i++) {
            float xh = (x[i] - mu) * rs, g = weight[i] * dy[i];
            gmean += g;
            gxmean += g * xh;
        }
        gmean /= (float)C;
        gxmean /= (float)C;
        __m256 vg = _mm256_set1_ps(gmean), vgx = _mm256_set1_ps(gxmean);
        i = 0;
        for (; i + 8 <= C; i += 8) {
            __m256 d = _mm256_loadu_ps(dy + i);
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
            __m256 g = _mm256_mul_ps(_mm256_loadu_ps(weight + i), d);
            if (dbias) _mm256_storeu_ps(dbias + i, _mm256_add_ps(_mm256_loadu_ps(dbias + i), d));
            if (dweight) _mm256_storeu_ps(dweight + i, _mm256_fmadd_ps(d, xh, _mm256_loadu_ps(dweight + i)));
            __m256 t = _mm256_sub_ps(_mm256_sub_ps(g, vg), _mm256_mul_ps(xh, vgx));
            _mm256_storeu_ps(dx + i, _mm256_fmadd_ps(vr, t, _mm256_loadu_ps(dx + i)));
        }
        for (; i < C; i++) {
            float xh = (x[i] - mu) * rs, g = weight[i] * dy[i];
            if (dbias) dbias[i] += dy[i];
            if (dweight) dweight[i] += dy[i] * xh;
            dx[i] += rs * (g - gmean - xh * gxmean);
        }
    }
}

void rmsnorm_forward_avx2(float *out, float *rstd, const float *inp, const float *weight,
                          int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float rs = 1.0f / sqrtf(vsqdev(x, C, 0.0f) / (float)C + NORM_EPS);
        __m256 vr = _mm256_set1_ps(rs);
        int i = 0;
        for (; i + 8 <= C; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vr), _mm256_loadu_ps(weight + i)));
        for (; i < C; i++) y[i] = x[i] * rs * weight[i];
        if (rstd) rstd[n] = rs;
    }
}

void rmsnorm_backward_avx2(float *dinp, float *dweight, const float *dout,
                           const float *inp, const float *weight, const float *rstd,
                           int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float rs = rstd[n];
        __m256 vr = _mm256_set1_ps(rs), s = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= C; i += 8) {
            __m256 g = _mm256_mul_ps(_mm256_loadu_ps(weight + i), _mm256_loadu_ps(dy + i));
            s = _mm256_fmadd_ps(g, _mm256_mul_ps(_mm256_loadu_ps(x + i), vr), s);
        }
        float gx = hsum(s);
        for (; i < C; i++) gx += weight[i] * dy[i] * x[i] * rs;
        gx /= (float)C;
        __m256 vgx = _mm256_set1_ps(gx);
        i = 0;
        for (; i + 8 <= C; i += 8) {
            __m256 d = _mm256_loadu_ps(dy + i), xh = _mm256_mul_ps(_mm256_loadu_ps(x + i), vr);
            if (dweight) _mm256_storeu_ps(dweight + i, _mm256_fmadd_ps(d, xh, _mm256_loadu_ps(dweight + i)));
            __m256 t = _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(weight + i), d), _mm256_mul_ps(xh, vgx));
            _mm256_storeu_ps(dx + i, _mm256_fmadd_ps(vr, t, _mm256_loadu_ps(dx + i)));
        }
        for (; i < C; i++) {
            float xh = x[i] * rs;
            if (dweight) dweight[i] += dy[i] * xh;
            dx[i] += rs * (weight[i] * dy[i] - xh * gx);
        }
    }
}

/* ---- GELU ----------------------------------------------------------------------------------- */
/* tanh(u) = 1 - 2 / (exp(2u) + 1): exact identity, evaluated with exp_avx2 (u is
 * clamped to +-9, where tanh is 1 to float precision, to keep exp finite). */
static inline __m256 tanh_avx2(__m256 u) {
    u = _mm256_min_ps(_mm256_max_ps(u, _mm256_set1_ps(-9.0f)), _mm256_set1_ps(9.0f));
    __m256 e = exp_avx2(_mm256_add_ps(u, u));
    return _mm256_sub_ps(_mm256_set1_ps(1.0f),
                         _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
}

/* On a CPU with AVX-512F the whole 16s of the slice go to dense_avx512.c (the same bits). */
void gelu_forward_avx2(float *out, const float *inp, int n) {
    const __m256 s = _mm256_set1_ps(GELU_S), c = _mm256_set1_ps(GELU_C), half = _mm256_set1_ps(0.5f),
                 one = _mm256_set1_ps(1.0f);
    int i = sgemm_avx512_usable() ? gelu_forward_avx512(out, inp, n) : 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(inp + i);
        __m256 u = _mm256_mul_ps(s, _mm256_fmadd_ps(_mm256_mul_ps(c, x), _mm256_mul_ps(x, x), x));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, tanh_avx2(u))));
    }
    for (; i < n; i++) {
        float x = inp[i], u = GELU_S * (x + GELU_C * x * x * x);
        out[i] = 0.5f * x * (1.0f + tanhf(u));
    }
}

void gelu_backward_avx2(float *dinp, const float *inp, const float *dout, int n) {
    const __m256 s = _mm256_set1_ps(GELU_S), c = _mm256_set1_ps(GELU_C), c3 = _mm256_set1_ps(3.0f * GELU_C),
                 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    int i = sgemm_avx512_usable() ? gelu_backward_avx512(dinp, inp, dout, n) : 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(inp + i), x2 = _mm256_mul_ps(x, x);
        __m256 u = _mm256_mul_ps(s, _mm256_fmadd_ps(_mm256_mul_ps(c, x), x2, x));
        __m256 t = tanh_avx2(u);
        __m256 du = _mm256_mul_ps(s, _mm256_fmadd_ps(c3, x2, one));
        __m256 sech2 = _mm256_fnmadd_ps(t, t, one);
        __m256 g = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(half, x), sech2), du,
                                   _mm256_mul_ps(half, _mm256_add_ps(one, t)));
        _mm256_storeu_ps(dinp + i, _mm256_fmadd_ps(_mm256_loadu_ps(dout + i), g, _mm256_loadu_ps(dinp + i)));
    }
    for (; i < n; i++) {
        float x = inp[i], u = GELU_S * (x + GELU_C * x * x * x), t = tanhf(u);
        float du = GELU_S * (1.0f + 3.0f * GELU_C * x * x);
        dinp[i] += dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
    }
}

/* ---- AdamW ------------------------------------------------------------------------ */
/* The scalar twin's operations, 8 at a time, each correctly rounded and none fused: the
 * same bits.  mask: 8 bytes compared with 0 and widened to a lane mask. */
void adamw_avx2(float *params, float *grads, float *m, float *v, const unsigned char *mask, size_t n,
                const tb_adamw_coef *c) {
    const __m256 scale = _mm256_set1_ps(c->scale), b1 = _mm256_set1_ps(c->b1), b2 = _mm256_set1_ps(c->b2);
    const __m256 a1 = _mm256_set1_ps(1.0f - c->b1), a2 = _mm256_set1_ps(1.0f - c->b2);
    const __m256 bc1 = _mm256_set1_ps(c->bc1), bc2 = _mm256_set1_ps(c->bc2), lr = _mm256_set1_ps(c->lr);
    const __m256 wd = _mm256_set1_ps(c->wd), eps = _mm256_set1_ps(c->eps);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_mul_ps(_mm256_loadu_ps(grads + i), scale), p = _mm256_loadu_ps(params + i);
        _mm256_storeu_ps(grads + i, g);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(a1, g));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(a2, g), g));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 mhat = _mm256_div_ps(mi, bc1), vhat = _mm256_div_ps(vi, bc2);
        __m256 decay = _mm256_mul_ps(wd, p);
        if (mask) {
            __m128i b = _mm_loadl_epi64((const __m128i *)(mask + i));
            __m256i keep = _mm256_cmpgt_epi32(_mm256_cvtepu8_epi32(b), _mm256_setzero_si256());
            decay = _mm256_and_ps(decay, _mm256_castsi256_ps(keep));
        }
        __m256 step = _mm256_add_ps(_mm256_div_ps(mhat, _mm256_add_ps(_mm256_sqrt_ps(vhat), eps)), decay);
        _mm256_storeu_ps(params + i, _mm256_sub_ps(p, _mm256_mul_ps(lr, step)));
    }
    adamw_scalar(params + i, grads + i, m + i, v + i, mask ? mask + i : NULL, n - i, c);
}

#else
typedef int tb_dense_avx2_unused; /* ISO C forbids an empty translation unit */
#endif
