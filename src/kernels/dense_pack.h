/* dense_pack.h -- the packed-panel sgemm that dense_avx2.c, dense_avx512.c and
 * dense_neon.c share (the kernel that matters for speed; lesson 06 counts its FLOPs).
 *
 * The classic design: op(B) is copied once into NR-column panels laid out k-major,
 * op(A) into MR-row panels with alpha folded in, and the instruction set's micro-kernel
 * keeps an MR x NR block of C in registers while k runs.  Row panels are spread over
 * the thread pool; each block of C is computed whole by one task (threads.h, rule 2).
 * Cache blocking without splitting k: a task packs a block of row panels (about
 * A_BLOCK_BYTES, so it stays in L2) and runs every column panel of B over the whole
 * block before the next, so a B panel (K x NR) is read from L2 once per block instead
 * of from L3 once per MR rows (the weight-gradient products, K = B*T = 1024, were
 * 1.3-1.6x slower than OpenBLAS for it).  k is never split, so every element of C is
 * still one chain of multiply-adds over k in order: the blocking changes no bit.
 *
 * Not a header of declarations: a file includes it once, after defining MR, NR and
 * MICRO, its micro-kernel
 *     static void MICRO(int K, const float *Ap, const float *Bp, float *C, int ldc,
 *                       int rows, int cols, float beta, const float *bias);
 * which sets C[rows,cols] = beta C + sum_k Ap[k][r] Bp[k][j] (beta == 0: C is not read;
 * Ap [K][MR], Bp [K][NR] 32-byte aligned, rows <= MR, cols <= NR), or, when bias is not
 * NULL (beta is then 0), C = sum + bias[j]: a layer's bias added in the kernel's last
 * step instead of copied into C first and added with beta = 1 (the same sum, bias +
 * acc, one rounding: the same bits without a pass over C), and then calls
 * sgemm_packed().  Its last argument, rowsum (NULL or [M]), gets the sums over k of
 * op(A)'s rows added, in k order, while A is packed: for dW = dout^T x these are the
 * column sums of dout, the bias gradient, with the additions of the plain loop and
 * without a second pass over dout.  Each instruction set so gets its own copy, compiled
 * with its flags and constant panel sizes (a shared copy through a function pointer was
 * 5-8% slower).
 */
#if !defined(MR) || !defined(NR) || !defined(MICRO)
#error "define MR, NR and MICRO before including dense_pack.h"
#endif
#include "kernels_priv.h"
#include "threads.h"

#include <stdatomic.h>
#include <string.h>

/* Bytes of packed A a task keeps hot while it sweeps the column panels of B. */
#define A_BLOCK_BYTES (192 * 1024)

#if defined(PACK_AVX)
#include <immintrin.h>
/* D[k*W + j] = S[j*ls + k] for j, k < 8: the 8 x 8 transpose in registers (x86 files
 * define PACK_AVX; 24 shuffles instead of 64 scalar moves). */
static inline void tile8(const float *S, size_t ls, float *D, int W) {
    __m256 r[8], t[8];
    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(S + (size_t)j * ls);
    for (int j = 0; j < 8; j += 2) {
        t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
        t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
    }
    for (int j = 0; j < 8; j += 4) {
        r[j] = _mm256_shuffle_ps(t[j], t[j + 2], 0x44);
        r[j + 1] = _mm256_shuffle_ps(t[j], t[j + 2], 0xEE);
        r[j + 2] = _mm256_shuffle_ps(t[j + 1], t[j + 3], 0x44);
        r[j + 3] = _mm256_shuffle_ps(t[j + 1], t[j + 3], 0xEE);
    }
    for (int k = 0; k < 4; k++) {
        _mm256_storeu_ps(D + (size_t)k * W, _mm256_permute2f128_ps(r[k], r[k + 4], 0x20));
        _mm256_storeu_ps(D + (size_t)(k + 4) * W, _mm256_permute2f128_ps(r[k], r[k + 4], 0x31));
    }
}
#endif

/* Copy a w x K strip whose element (j, k) is S[j*ls + k] into D[k][W] (columns j < w,
 * zero beyond; W = NR for B panels, MR for A panels): the transposing copy, done in
 * tiles of 8 k so that both the reads (8 consecutive floats of a row) and the writes (8
 * consecutive rows of D) stay in a few cache lines; 8 x 8 tiles in registers where the
 * instruction set has them. */
static void pack_strip_t(int w, int K, const float *S, size_t ls, float *D, int W) {
    int k0 = 0;
    for (; k0 + 8 <= K; k0 += 8) {
        float *d = D + (size_t)k0 * W;
        int j = 0;
#if defined(PACK_AVX)
        for (; j + 8 <= w; j += 8) tile8(S + (size_t)j * ls + k0, ls, d + j, W);
#endif
        for (; j < w; j++) {
            const float *s = S + (size_t)j * ls + k0;
            for (int k = 0; k < 8; k++) d[k * W + j] = s[k];
        }
        for (int k = 0; k < 8; k++)
            for (int z = w; z < W; z++) d[k * W + z] = 0.0f;
    }
    for (int k = k0; k < K; k++)
        for (int j = 0; j < W; j++) D[(size_t)k * W + j] = j < w ? S[(size_t)j * ls + k] : 0.0f;
}

/* Bp[jb][k][NR] = op(B)[k, jb*NR + j], zero beyond N. */
static void pack_B(int transB, int N, int K, const float *B, int ldb, float *Bp) {
    int nb = (N + NR - 1) / NR;
    for (int jb = 0; jb < nb; jb++) {
        float *dst = Bp + (size_t)jb * K * NR;
        int j0 = jb * NR, w = N - j0 < NR ? N - j0 : NR;
        if (transB) { pack_strip_t(w, K, B + (size_t)j0 * ldb, (size_t)ldb, dst, NR); continue; }
        for (int k = 0; k < K; k++) {
            float *d = dst + (size_t)k * NR;
            const float *s = B + (size_t)k * ldb + j0;
            if (w == NR) memcpy(d, s, NR * sizeof(float));
            else for (int j = 0; j < NR; j++) d[j] = j < w ? s[j] : 0.0f;
        }
    }
}

/* rowsum[r] += Ap[k][r] over k in order, r < rows (before alpha is folded in). */
static void add_row_sums(int rows, int K, const float *Ap, float *rowsum) {
    float acc[MR];
    for (int r = 0; r < rows; r++) acc[r] = rowsum[r];
    for (int k = 0; k < K; k++)
        for (int r = 0; r < rows; r++) acc[r] += Ap[(size_t)k * MR + r];
    for (int r = 0; r < rows; r++) rowsum[r] = acc[r];
}

/* Ap[k][MR] = alpha * op(A)[i0 + r, k], zero beyond the last row; rowsum (NULL or [M])
 * += the rows' sums over k. */
static void pack_A(int transA, int rows, int K, float alpha, const float *A, int lda, int i0,
                   float *Ap, float *rowsum) {
    if (!transA) {
        pack_strip_t(rows, K, A + (size_t)i0 * lda, (size_t)lda, Ap, MR);
    } else {
        for (int k = 0; k < K; k++) {
            const float *s = A + (size_t)k * lda + i0;
            float *d = Ap + (size_t)k * MR;
            for (int r = 0; r < MR; r++) d[r] = r < rows ? s[r] : 0.0f;
        }
    }
    if (rowsum) add_row_sums(rows, K, Ap, rowsum + i0);
    if (alpha != 1.0f) /* alpha x 1 = x exactly, so the copy alone is the same numbers */
        for (size_t i = 0; i < (size_t)K * MR; i++) Ap[i] *= alpha;
}

typedef struct {
    int transA, transB, M, N, K;
    float alpha, beta;
    const float *A, *B;   /* B: for the out-of-memory path only */
    int lda, ldb;
    const float *Bp;      /* op(B) packed */
    float *C;
    int ldc;
    const float *bias;    /* [N] added to every row of C (beta == 0), or NULL */
    float *rowsum;        /* [M] += the sums over k of op(A)'s rows, or NULL */
    atomic_int packed;    /* tasks done packing their share of B (pack_then_multiply) */
} gemm_job;

/* Rows [i0, i1) of C by the scalar definition (out of memory for the packed panels);
 * with a bias, C = bias, then beta = 1: the same bits as the kernel's last step; the row
 * sums by the same loop as add_row_sums. */
static void rows_by_scalar(const gemm_job *g, const float *A, int i0, int i1) {
    float *C = g->C + (size_t)i0 * g->ldc, beta = g->beta;
    if (g->rowsum)
        for (int i = i0; i < i1; i++) {
            float acc = g->rowsum[i];
            for (int k = 0; k < g->K; k++)
                acc += g->transA ? g->A[(size_t)k * g->lda + i] : g->A[(size_t)i * g->lda + k];
            g->rowsum[i] = acc;
        }
    if (g->bias) {
        for (int i = i0; i < i1; i++) memcpy(g->C + (size_t)i * g->ldc, g->bias, (size_t)g->N * sizeof(float));
        beta = 1.0f;
    }
    sgemm_scalar(g->transA, g->transB, i1 - i0, g->N, g->K, g->alpha, A, g->lda, g->B, g->ldb, beta, C, g->ldc);
}

/* Row panels [p0, p1) of MR rows each, in blocks of `per` panels (see above). */
static void gemm_panels(const gemm_job *g, int p0, int p1) {
    int nb = (g->N + NR - 1) / NR, K = g->K;
    int per = (int)(A_BLOCK_BYTES / ((size_t)K * MR * sizeof(float)));
    if (per < 1) per = 1;
    if (per > p1 - p0) per = p1 - p0;
    float *Ap = per > 0 ? kernels_scratch(0, (size_t)per * K * MR) : NULL;
    if (!Ap) { /* out of memory: these rows by the scalar definition */
        int i0 = p0 * MR, i1 = p1 * MR < g->M ? p1 * MR : g->M;
        const float *A = g->A + (g->transA ? (size_t)i0 : (size_t)i0 * g->lda);
        if (i1 > i0) rows_by_scalar(g, A, i0, i1);
        return;
    }
    for (int pb = p0; pb < p1; pb += per) {
        int pe = pb + per < p1 ? pb + per : p1;
        for (int p = pb; p < pe; p++) {
            int i0 = p * MR, rows = g->M - i0 < MR ? g->M - i0 : MR;
            pack_A(g->transA, rows, K, g->alpha, g->A, g->lda, i0, Ap + (size_t)(p - pb) * K * MR, g->rowsum);
        }
        for (int jb = 0; jb < nb; jb++) {
            int j0 = jb * NR, cols = g->N - j0 < NR ? g->N - j0 : NR;
            const float *Bp = g->Bp + (size_t)jb * K * NR;
            for (int p = pb; p < pe; p++) {
                int i0 = p * MR, rows = g->M - i0 < MR ? g->M - i0 : MR;
                MICRO(K, Ap + (size_t)(p - pb) * K * MR, Bp, g->C + (size_t)i0 * g->ldc + j0, g->ldc, rows,
                      cols, g->beta, g->bias ? g->bias + j0 : NULL);
            }
        }
    }
}

static void gemm_task(void *ctx, int t, int nt) {
    const gemm_job *g = ctx;
    int np = (g->M + MR - 1) / MR;
    gemm_panels(g, (int)((long long)np * t / nt), (int)((long long)np * (t + 1) / nt));
}

/* One job in two phases, the tasks running at once (tb_concurrent): task t packs its
 * share of B's column panels, waits until every task has, then multiplies its row
 * panels (by all of B). */
static void pack_then_multiply(void *ctx, int t, int nt) {
    gemm_job *g = ctx;
    int nb = (g->N + NR - 1) / NR, jb0 = (int)((long long)nb * t / nt), jb1 = (int)((long long)nb * (t + 1) / nt);
    int j0 = jb0 * NR, w = (jb1 * NR < g->N ? jb1 * NR : g->N) - j0;
    const float *B = g->transB ? g->B + (size_t)j0 * g->ldb : g->B + j0;
    if (w > 0) pack_B(g->transB, w, g->K, B, g->ldb, (float *)g->Bp + (size_t)jb0 * g->K * NR);
    atomic_fetch_add(&g->packed, 1);
    tb_wait_count(&g->packed, nt);
    gemm_task(g, t, nt);
}

/* C = alpha op(A) op(B) + beta C, or + bias; rowsum += row sums of op(A) (see above).
 * When the threads can run one task each at once, B is packed by all of them and the
 * product follows in the same job (pack_then_multiply: packing B on the caller alone
 * was a serial 5-8% of a training step; packing it in a job of its own cost more in
 * hand-overs than it saved); otherwise the caller packs B, then the row panels are
 * spread over the pool. */
static void sgemm_packed(int transA, int transB, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C,
                         int ldc, const float *bias, float *rowsum) {
    if (M <= 0 || N <= 0) return;
    int nb = (N + NR - 1) / NR;
    float *Bp = K > 0 ? kernels_scratch(1, (size_t)nb * K * NR) : NULL;
    gemm_job g = {transA, transB, M, N, K, alpha, beta, A, B, lda, ldb, Bp, C, ldc, bias, rowsum, 0};
    if (!Bp) { /* K = 0 (C = beta C or bias), or out of memory */
        rows_by_scalar(&g, A, 0, M);
        return;
    }
    int np = (M + MR - 1) / MR, nt = tb_threads();
    if (2.0 * M * N * K < 2e5 || np < 2) nt = 1;   /* waking the pool costs ~10 us */
    if (nt > np) nt = np;
    if (tb_concurrent(nt)) {
        tb_parallel(nt, pack_then_multiply, &g);
        return;
    }
    pack_B(transB, N, K, B, ldb, Bp);
    if (nt == 1) gemm_panels(&g, 0, np);
    else tb_parallel(nt, gemm_task, &g);
}
