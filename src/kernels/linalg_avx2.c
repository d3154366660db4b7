/* linalg_avx2.c -- AVX2 twins of the float64 loops in linalg_scalar.c (lessons 10-12).
 * Compiled with -mavx2 -mfma on x86-64 only, chosen with the rest of the avx2 table.
 * Four doubles per instruction, with the scalar twin's multiplies and adds in the same
 * order and never fused (no _mm256_fmadd_pd here), so the results are bit-identical
 * to it; the tails run the scalar twin. */
#include "kernels_priv.h"

#if defined(__x86_64__)
#include <immintrin.h>

void daxpy_avx2(int n, double a, const double *x, double *y) {
    __m256d va = _mm256_set1_pd(a);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(y + i, _mm256_add_pd(_mm256_loadu_pd(y + i), _mm256_mul_pd(va, _mm256_loadu_pd(x + i))));
    daxpy_scalar(n - i, a, x + i, y + i);
}

void daxpy2_avx2(int n, double a, const double *u, double b, const double *v, double *y) {
    __m256d va = _mm256_set1_pd(a), vb = _mm256_set1_pd(b);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d t = _mm256_add_pd(_mm256_mul_pd(va, _mm256_loadu_pd(u + i)), _mm256_mul_pd(vb, _mm256_loadu_pd(v + i)));
        _mm256_storeu_pd(y + i, _mm256_add_pd(_mm256_loadu_pd(y + i), t));
    }
    daxpy2_scalar(n - i, a, u + i, b, v + i, y + i);
}

void drot_avx2(int n, double *x, double *y, double c, double s) {
    __m256d vc = _mm256_set1_pd(c), vs = _mm256_set1_pd(s);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d xi = _mm256_loadu_pd(x + i), yi = _mm256_loadu_pd(y + i);
        _mm256_storeu_pd(x + i, _mm256_sub_pd(_mm256_mul_pd(vc, xi), _mm256_mul_pd(vs, yi)));
        _mm256_storeu_pd(y + i, _mm256_add_pd(_mm256_mul_pd(vs, xi), _mm256_mul_pd(vc, yi)));
    }
    drot_scalar(n - i, x + i, y + i, c, s);
}

/* Columns [j, j + 16) and [j, j + 4) of the chain (see drot_chain_scalar). */
ROT_CHAIN(static void chain_4, 4, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_add_pd,
          _mm256_sub_pd, _mm256_mul_pd)
ROT_CHAIN(static void chain_1, 1, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_add_pd,
          _mm256_sub_pd, _mm256_mul_pd)

void drot_chain_avx2(int k, const double *c, const double *s, double *W, size_t ldw, int ncol) {
    int j = 0;
    if (dgemm_avx512_usable())
        for (; j + 32 <= ncol; j += 32) drot_chain_32(k, c, s, W + j, ldw);
    for (; j + 16 <= ncol; j += 16) chain_4(k, c, s, W + j, ldw);
    for (; j + 4 <= ncol; j += 4) chain_1(k, c, s, W + j, ldw);
    drot_chain_scalar(k, c, s, W + j, ldw, ncol - j);
}

/* Rows of B a block of C runs through at a time: the four a_p of KC rows and the KC
 * rows of its B panel stay in L1 while the next block of C reuses them. */
#define KC 128

/* C[0..4, 0..8) = C0 + sum_{p<k} a_p B[p, 0..8), C0 = 0 (first) or C's own values: the
 * 4x8 block stays in 8 registers while p runs. */
static void block_4x8(int first, int k, const double *a, size_t as, size_t ai, const double *B,
                      size_t ldb, double *C, size_t ldc) {
    __m256d c00, c01, c10, c11, c20, c21, c30, c31;
    if (first) {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_pd();
    } else {
        c00 = _mm256_loadu_pd(C); c01 = _mm256_loadu_pd(C + 4);
        c10 = _mm256_loadu_pd(C + ldc); c11 = _mm256_loadu_pd(C + ldc + 4);
        c20 = _mm256_loadu_pd(C + 2 * ldc); c21 = _mm256_loadu_pd(C + 2 * ldc + 4);
        c30 = _mm256_loadu_pd(C + 3 * ldc); c31 = _mm256_loadu_pd(C + 3 * ldc + 4);
    }
    for (int p = 0; p < k; p++) {
        const double *b = B + (size_t)p * ldb, *ap = a + (size_t)p * as;
        __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
        __m256d a0 = _mm256_broadcast_sd(ap), a1 = _mm256_broadcast_sd(ap + ai);
        c00 = _mm256_add_pd(c00, _mm256_mul_pd(a0, b0)); c01 = _mm256_add_pd(c01, _mm256_mul_pd(a0, b1));
        c10 = _mm256_add_pd(c10, _mm256_mul_pd(a1, b0)); c11 = _mm256_add_pd(c11, _mm256_mul_pd(a1, b1));
        __m256d a2 = _mm256_broadcast_sd(ap + 2 * ai), a3 = _mm256_broadcast_sd(ap + 3 * ai);
        c20 = _mm256_add_pd(c20, _mm256_mul_pd(a2, b0)); c21 = _mm256_add_pd(c21, _mm256_mul_pd(a2, b1));
        c30 = _mm256_add_pd(c30, _mm256_mul_pd(a3, b0)); c31 = _mm256_add_pd(c31, _mm256_mul_pd(a3, b1));
    }
    _mm256_storeu_pd(C, c00); _mm256_storeu_pd(C + 4, c01);
    _mm256_storeu_pd(C + ldc, c10); _mm256_storeu_pd(C + ldc + 4, c11);
    _mm256_storeu_pd(C + 2 * ldc, c20); _mm256_storeu_pd(C + 2 * ldc + 4, c21);
    _mm256_storeu_pd(C + 3 * ldc, c30); _mm256_storeu_pd(C + 3 * ldc + 4, c31);
}

/* The same for the last n % 8 columns, one at a time. */
static void block_4x1(int first, int k, const double *a, size_t as, size_t ai, const double *B,
                      size_t ldb, double *C, size_t ldc) {
    for (int q = 0; q < 4; q++) {
        double c = first ? 0.0 : C[q * ldc];
        for (int p = 0; p < k; p++) c += a[p * as + q * ai] * B[p * ldb];
        C[q * ldc] = c;
    }
}

/* One row: C[0, 0..4V) = C0 + sum_{p<k} a_p B[p, 0..4V) in V registers (the symmetric
 * matrix-vector products of la_eigh). */
#define ROW_BLOCK(V)                                                                          \
    static void block_1x##V(int first, int k, const double *a, size_t as, const double *B,   \
                            size_t ldb, double *C) {                                          \
        __m256d acc[V / 4];                                                                   \
        for (int v = 0; v < V / 4; v++) acc[v] = first ? _mm256_setzero_pd() : _mm256_loadu_pd(C + 4 * v); \
        for (int p = 0; p < k; p++) {                                                         \
            __m256d ap = _mm256_broadcast_sd(a + (size_t)p * as);                             \
            const double *b = B + (size_t)p * ldb;                                            \
            for (int v = 0; v < V / 4; v++)                                                   \
                acc[v] = _mm256_add_pd(acc[v], _mm256_mul_pd(ap, _mm256_loadu_pd(b + 4 * v)));  \
        }                                                                                     \
        for (int v = 0; v < V / 4; v++) _mm256_storeu_pd(C + 4 * v, acc[v]);                  \
    }
ROW_BLOCK(16)
ROW_BLOCK(4)

/* Every element of C starts at zero and adds a_p b_p for p = 0, 1, ... as in the scalar
 * twin (which also does the ragged blocks of 2 or 3 rows); p runs in chunks of KC rows,
 * each chunk continuing the sums the previous one stored. */
void dgemm4_avx2(int r, int k, int n, const double *a, size_t as, size_t ai, const double *B,
                 size_t ldb, double *C, size_t ldc) {
    if ((r != 4 && r != 1) || k <= 0) { dgemm4_scalar(r, k, n, a, as, ai, B, ldb, C, ldc); return; }
    int wide = dgemm_avx512_usable(); /* 4 x 16 blocks in 512-bit registers: the same bits */
    for (int p0 = 0; p0 < k; p0 += KC) {
        int kc = k - p0 < KC ? k - p0 : KC, j = 0;
        const double *ap = a + (size_t)p0 * as, *bp = B + (size_t)p0 * ldb;
        if (r == 1) {
            for (; j + 16 <= n; j += 16) block_1x16(p0 == 0, kc, ap, as, bp + j, ldb, C + j);
            for (; j + 4 <= n; j += 4) block_1x4(p0 == 0, kc, ap, as, bp + j, ldb, C + j);
            for (; j < n; j++) {
                double c = p0 == 0 ? 0.0 : C[j];
                for (int p = 0; p < kc; p++) c += ap[p * as] * bp[p * ldb + j];
                C[j] = c;
            }
            continue;
        }
        if (wide)
            for (; j + 16 <= n; j += 16) dgemm_block_4x16(p0 == 0, kc, ap, as, ai, bp + j, ldb, C + j, ldc);
        for (; j + 8 <= n; j += 8) block_4x8(p0 == 0, kc, ap, as, ai, bp + j, ldb, C + j, ldc);
        for (; j < n; j++) block_4x1(p0 == 0, kc, ap, as, ai, bp + j, ldb, C + j, ldc);
    }
}
/* A 4 x 8 piece of a packed block (dgemm_tile_by_4x8) in 8 ymm accumulators. */
static void tile_4x8(int k, const double *Ap, const double *Bp, double *T, size_t ldt) {
    __m256d c[4][2];
    for (int q = 0; q < 4; q++) {
        c[q][0] = _mm256_loadu_pd(T + (size_t)q * ldt);
        c[q][1] = _mm256_loadu_pd(T + (size_t)q * ldt + 4);
    }
    for (int p = 0; p < k; p++) {
        const double *a = Ap + (size_t)p * TB_DGEMM_MR;
        __m256d b0 = _mm256_loadu_pd(Bp + (size_t)p * TB_DGEMM_NR), b1 = _mm256_loadu_pd(Bp + (size_t)p * TB_DGEMM_NR + 4);
        for (int q = 0; q < 4; q++) {
            __m256d aq = _mm256_broadcast_sd(a + q);
            c[q][0] = _mm256_add_pd(c[q][0], _mm256_mul_pd(aq, b0));
            c[q][1] = _mm256_add_pd(c[q][1], _mm256_mul_pd(aq, b1));
        }
    }
    for (int q = 0; q < 4; q++) {
        _mm256_storeu_pd(T + (size_t)q * ldt, c[q][0]);
        _mm256_storeu_pd(T + (size_t)q * ldt + 4, c[q][1]);
    }
}

/* A whole block in 512-bit registers where the CPU has them, else in 4 x 8 pieces. */
void dgemm_tile_avx2(int k, const double *Ap, const double *Bp, double *C, size_t ldc, int rows, int cols,
                     int first) {
    if (rows == TB_DGEMM_MR && cols == TB_DGEMM_NR && dgemm_avx512_usable()) dgemm_tile_8x16(k, Ap, Bp, C, ldc, first);
    else dgemm_tile_by_4x8(tile_4x8, k, Ap, Bp, C, ldc, rows, cols, first);
}
#else
typedef int tb_linalg_avx2_unused; /* ISO C forbids an empty translation unit */
#endif
