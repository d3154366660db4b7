/* dense_pack.h -- the packed-panel sgemm that dense_avx2.c and dense_neon.c share (the
 * kernel that matters for speed; lesson 06 counts its FLOPs).
 *
 * The classic design: op(B) is copied once into NR-column panels laid out k-major,
 * op(A) into MR-row panels with alpha folded in, and the instruction set's micro-kernel
 * keeps an MR x NR block of C in registers while k runs.  Row panels are spread over
 * the thread pool; each block of C is computed whole by one task (threads.h, rule 2).
 *
 * Not a header of declarations: a file includes it once, after defining MR, NR and
 * MICRO, its micro-kernel
 *     static void MICRO(int K, const float *Ap, const float *Bp, float *C, int ldc,
 *                       int rows, int cols, float beta);
 * which sets C[rows,cols] = beta C + sum_k Ap[k][r] Bp[k][j] (beta == 0: C is not read;
 * Ap [K][MR], Bp [K][NR] 32-byte aligned, rows <= MR, cols <= NR), and then calls
 * sgemm_packed().  Each instruction set so gets its own copy, compiled with its flags
 * and constant panel sizes (a shared copy through a function pointer was 5-8% slower).
 */
#if !defined(MR) || !defined(NR) || !defined(MICRO)
#error "define MR, NR and MICRO before including dense_pack.h"
#endif
#include "kernels_priv.h"
#include "threads.h"

/* Bp[jb][k][NR] = op(B)[k, jb*NR + j], zero beyond N. */
static void pack_B(int transB, int N, int K, const float *B, int ldb, float *Bp) {
    int nb = (N + NR - 1) / NR;
    for (int jb = 0; jb < nb; jb++) {
        float *dst = Bp + (size_t)jb * K * NR;
        int j0 = jb * NR, w = N - j0 < NR ? N - j0 : NR;
        for (int k = 0; k < K; k++) {
            float *d = dst + (size_t)k * NR;
            int j = 0;
            if (!transB) {
                const float *s = B + (size_t)k * ldb + j0;
                for (; j < w; j++) d[j] = s[j];
            } else {
                for (; j < w; j++) d[j] = B[(size_t)(j0 + j) * ldb + k];
            }
            for (; j < NR; j++) d[j] = 0.0f;
        }
    }
}

/* Ap[k][MR] = alpha * op(A)[i0 + r, k], zero beyond the last row. */
static void pack_A(int transA, int rows, int K, float alpha, const float *A, int lda, int i0,
                   float *Ap) {
    for (int k = 0; k < K; k++) {
        float *d = Ap + (size_t)k * MR;
        int r = 0;
        for (; r < rows; r++)
            d[r] = alpha * (transA ? A[(size_t)k * lda + i0 + r] : A[(size_t)(i0 + r) * lda + k]);
        for (; r < MR; r++) d[r] = 0.0f;
    }
}

typedef struct {
    int transA, transB, M, N, K;
    float alpha, beta;
    const float *A, *B;   /* B: for the out-of-memory path only */
    int lda, ldb;
    const float *Bp;      /* op(B) packed */
    float *C;
    int ldc;
} gemm_job;

/* Row panels [p0, p1) of MR rows each. */
static void gemm_panels(const gemm_job *g, int p0, int p1) {
    int nb = (g->N + NR - 1) / NR;
    float *Ap = kernels_scratch(0, (size_t)g->K * MR);
    if (!Ap) { /* out of memory: these rows by the scalar definition */
        int i0 = p0 * MR, i1 = p1 * MR < g->M ? p1 * MR : g->M;
        const float *A = g->A + (g->transA ? (size_t)i0 : (size_t)i0 * g->lda);
        sgemm_scalar(g->transA, g->transB, i1 - i0, g->N, g->K, g->alpha, A, g->lda, g->B, g->ldb,
                     g->beta, g->C + (size_t)i0 * g->ldc, g->ldc);
        return;
    }
    for (int p = p0; p < p1; p++) {
        int i0 = p * MR, rows = g->M - i0 < MR ? g->M - i0 : MR;
        pack_A(g->transA, rows, g->K, g->alpha, g->A, g->lda, i0, Ap);
        for (int jb = 0; jb < nb; jb++) {
            int j0 = jb * NR, cols = g->N - j0 < NR ? g->N - j0 : NR;
            MICRO(g->K, Ap, g->Bp + (size_t)jb * g->K * NR, g->C + (size_t)i0 * g->ldc + j0, g->ldc,
                  rows, cols, g->beta);
        }
    }
}

static void gemm_task(void *ctx, int t, int nt) {
    const gemm_job *g = ctx;
    int np = (g->M + MR - 1) / MR;
    gemm_panels(g, (int)((long long)np * t / nt), (int)((long long)np * (t + 1) / nt));
}

static void sgemm_packed(int transA, int transB, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta, float *C,
                         int ldc) {
    if (M <= 0 || N <= 0) return;
    int nb = (N + NR - 1) / NR;
    float *Bp = K > 0 ? kernels_scratch(1, (size_t)nb * K * NR) : NULL;
    if (!Bp) { /* K = 0 (C = beta C), or out of memory */
        sgemm_scalar(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    pack_B(transB, N, K, B, ldb, Bp);
    gemm_job g = {transA, transB, M, N, K, alpha, beta, A, B, lda, ldb, Bp, C, ldc};
    int np = (M + MR - 1) / MR, nt = tb_threads();
    if (2.0 * M * N * K < 2e5 || np < 2) nt = 1;   /* waking the pool costs ~10 us */
    if (nt > np) nt = np;
    if (nt == 1) gemm_panels(&g, 0, np);
    else tb_parallel(nt, gemm_task, &g);
}
