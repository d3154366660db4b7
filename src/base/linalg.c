/* linalg.c -- float64 SVD, Cholesky, least squares and products (see linalg.h; the
 * eigendecomposition is linalg_eigh.c).  The alignment metrics of lessons 10-12 are all
 * built from these.  The algorithms are the classic, well-understood ones (Hestenes
 * one-sided Jacobi for the SVD, BLIS-style blocking for the products), written for
 * clarity first and then for cache-friendly loops. */
#include "linalg.h"
#include "linalg_priv.h"
#include "kernels.h"
#include "threads.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The loops that carry the O(n^3) work and can run several elements at once (plane
 * rotations, blocks of products) go through the kernel table (kernels.h: drot,
 * dgemm_tile), whose SIMD versions give the same bits as the scalar ones; the dot
 * products stay here, summed in order. */

/* ======================================================================== */
/* thin SVD by one-sided Jacobi                                             */
/* ======================================================================== */

/* G[n][m]: the n columns of an m x n matrix stored as rows (contiguous).  Rotate pairs
 * of rows until every pair is orthogonal; Vr[n][n] accumulates the rotations (rows). */
static int jacobi_columns(int m, int n, double *G, double *Vr) {
    const double tol = 1e-15;
    for (int sweep = 0; sweep < 80; sweep++) {
        int rotated = 0;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                double *gp = G + (size_t)p * m, *gq = G + (size_t)q * m;
                double a = 0, b = 0, g = 0;
                for (int i = 0; i < m; i++) {
                    a += gp[i] * gp[i];
                    b += gq[i] * gq[i];
                    g += gp[i] * gq[i];
                }
                if (g == 0.0 || fabs(g) <= tol * sqrt(a * b)) continue;
                rotated = 1;
                /* the rotation that zeroes the (p,q) entry of G G^T */
                double zeta = (b - a) / (2.0 * g);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                double c = 1.0 / sqrt(1.0 + t * t), s = c * t;
                tb_kern->drot(m, gp, gq, c, s);
                tb_kern->drot(n, Vr + (size_t)p * n, Vr + (size_t)q * n, c, s);
            }
        if (!rotated) return 0;
    }
    return -1;
}

/* Make rows [r0, k) of Q[k][m] unit vectors orthogonal to all previous rows (used for
 * the left vectors of zero singular values): Gram-Schmidt on the unit vectors e_i. */
static void complete_basis(int k, int m, double *Q, int r0) {
    int cand = 0;
    for (int r = r0; r < k; r++) {
        double *q = Q + (size_t)r * m;
        for (; cand < m; cand++) {
            memset(q, 0, (size_t)m * sizeof(double));
            q[cand] = 1.0;
            for (int pass = 0; pass < 2; pass++)
                for (int j = 0; j < r; j++) {
                    const double *o = Q + (size_t)j * m;
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += o[i] * q[i];
                    for (int i = 0; i < m; i++) q[i] -= dot * o[i];
                }
            double nn = 0;
            for (int i = 0; i < m; i++) nn += q[i] * q[i];
            if (nn > 1e-8) {
                nn = 1.0 / sqrt(nn);
                for (int i = 0; i < m; i++) q[i] *= nn;
                cand++;
                break;
            }
        }
    }
}

int la_svd(int m, int n, const double *A, double *U, double *S, double *Vt, char *err) {
    if (m < 1 || n < 1) return tb_fail(err, "svd: empty matrix (%d x %d)", m, n);
    for (size_t i = 0; i < (size_t)m * n; i++)
        if (!isfinite(A[i])) return tb_fail(err, "svd: matrix has a non-finite entry");
    /* Work on the wider orientation: columns of B = A (m >= n) or A^T (m < n). */
    int tr = m < n, rows = tr ? n : m, cols = tr ? m : n, k = cols;
    double *G = malloc((size_t)cols * rows * sizeof(double)), *Vr = calloc((size_t)cols * cols, sizeof(double));
    double *s = malloc((size_t)cols * sizeof(double));
    int *idx = malloc((size_t)cols * sizeof(int));
    double *Ur = malloc((size_t)cols * rows * sizeof(double));
    if (!G || !Vr || !s || !idx || !Ur) {
        free(G); free(Vr); free(s); free(idx); free(Ur);
        return tb_fail(err, "svd: out of memory (%d x %d)", m, n);
    }
    /* G[j][i] = B[i][j] */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double a = A[(size_t)i * n + j];
            if (!tr) G[(size_t)j * rows + i] = a;
            else G[(size_t)i * rows + j] = a;
        }
    for (int j = 0; j < cols; j++) Vr[(size_t)j * cols + j] = 1.0;
    int rc = jacobi_columns(rows, cols, G, Vr);
    if (rc) {
        free(G); free(Vr); free(s); free(idx); free(Ur);
        return tb_fail(err, "svd: Jacobi sweeps did not converge (%d x %d)", m, n);
    }
    double smax = 0;
    for (int j = 0; j < cols; j++) {
        double nn = 0;
        const double *g = G + (size_t)j * rows;
        for (int i = 0; i < rows; i++) nn += g[i] * g[i];
        s[j] = sqrt(nn);
        if (s[j] > smax) smax = s[j];
        idx[j] = j;
    }
    for (int i = 0; i < cols; i++) { /* descending order */
        int best = i;
        for (int j = i + 1; j < cols; j++)
            if (s[idx[j]] > s[idx[best]]) best = j;
        int t = idx[i]; idx[i] = idx[best]; idx[best] = t;
    }
    /* Left vectors (of B): normalised columns; zero ones completed to an orthonormal set. */
    int nonzero = 0;
    for (int r = 0; r < k; r++) {
        int j = idx[r];
        S[r] = s[j];
        double *u = Ur + (size_t)r * rows;
        const double *g = G + (size_t)j * rows;
        if (s[j] > smax * 1e-15 * rows && s[j] > 0) {
            for (int i = 0; i < rows; i++) u[i] = g[i] / s[j];
            nonzero = r + 1;
        } else {
            S[r] = s[j] > 0 ? s[j] : 0.0;
        }
    }
    complete_basis(k, rows, Ur, nonzero);
    /* B = Ub diag(S) Vb^T, with Ub = Ur^T [rows,k], Vb = rows of Vr.  A = B or B^T. */
    for (int r = 0; r < k; r++) {
        const double *ub = Ur + (size_t)r * rows, *vb = Vr + (size_t)idx[r] * cols;
        if (!tr) {
            if (U) for (int i = 0; i < m; i++) U[(size_t)i * k + r] = ub[i];
            if (Vt) memcpy(Vt + (size_t)r * n, vb, (size_t)n * sizeof(double));
        } else { /* A = Vb S Ub^T: U_A = Vb (m = cols), Vt_A = Ub^T rows */
            if (U) for (int i = 0; i < m; i++) U[(size_t)i * k + r] = vb[i];
            if (Vt) memcpy(Vt + (size_t)r * n, ub, (size_t)n * sizeof(double));
        }
    }
    free(G); free(Vr); free(s); free(idx); free(Ur);
    return 0;
}

/* ======================================================================== */
/* Cholesky and least squares                                               */
/* ======================================================================== */

int la_cholesky(int n, double *A, char *err) {
    for (int j = 0; j < n; j++) {
        double *aj = A + (size_t)j * n;
        double s = aj[j];
        for (int k = 0; k < j; k++) s -= aj[k] * aj[k];
        if (!(s > 0)) return tb_fail(err, "cholesky: matrix is not positive definite (pivot %d is %.3g)", j, s);
        double ljj = sqrt(s);
        aj[j] = ljj;
        for (int i = j + 1; i < n; i++) {
            double *ai = A + (size_t)i * n, t = ai[j];
            for (int k = 0; k < j; k++) t -= ai[k] * aj[k];
            ai[j] = t / ljj;
        }
        for (int k = j + 1; k < n; k++) aj[k] = 0.0;
    }
    return 0;
}

void la_cholesky_solve(int n, const double *L, double *B, int nrhs) {
    for (int i = 0; i < n; i++) { /* forward: L Y = B */
        double *bi = B + (size_t)i * nrhs;
        for (int k = 0; k < i; k++) {
            double l = L[(size_t)i * n + k];
            const double *bk = B + (size_t)k * nrhs;
            for (int c = 0; c < nrhs; c++) bi[c] -= l * bk[c];
        }
        double d = L[(size_t)i * n + i];
        for (int c = 0; c < nrhs; c++) bi[c] /= d;
    }
    for (int i = n - 1; i >= 0; i--) { /* backward: L^T X = Y */
        double *bi = B + (size_t)i * nrhs;
        for (int k = i + 1; k < n; k++) {
            double l = L[(size_t)k * n + i];
            const double *bk = B + (size_t)k * nrhs;
            for (int c = 0; c < nrhs; c++) bi[c] -= l * bk[c];
        }
        double d = L[(size_t)i * n + i];
        for (int c = 0; c < nrhs; c++) bi[c] /= d;
    }
}

int la_lstsq(int m, int n, const double *A, const double *B, int nrhs, double *X, double rcond,
             char *err) {
    int k = m < n ? m : n;
    double *U = malloc((size_t)m * k * sizeof(double)), *S = malloc((size_t)k * sizeof(double));
    double *Vt = malloc((size_t)k * n * sizeof(double)), *T = malloc((size_t)k * nrhs * sizeof(double));
    if (!U || !S || !Vt || !T) {
        free(U); free(S); free(Vt); free(T);
        return tb_fail(err, "lstsq: out of memory");
    }
    int rc = la_svd(m, n, A, U, S, Vt, err);
    if (rc == 0) {
        /* X = V diag(1/s) U^T B over the singular values above the cutoff */
        double cut = (rcond > 0 ? rcond : 1e-12) * S[0];
        for (int r = 0; r < k; r++)
            for (int c = 0; c < nrhs; c++) {
                double t = 0;
                if (S[r] > cut && S[r] > 0)
                    for (int i = 0; i < m; i++) t += U[(size_t)i * k + r] * B[(size_t)i * nrhs + c];
                T[(size_t)r * nrhs + c] = S[r] > cut && S[r] > 0 ? t / S[r] : 0.0;
            }
        for (int j = 0; j < n; j++)
            for (int c = 0; c < nrhs; c++) {
                double t = 0;
                for (int r = 0; r < k; r++) t += Vt[(size_t)r * n + j] * T[(size_t)r * nrhs + c];
                X[(size_t)j * nrhs + c] = t;
            }
    }
    free(U); free(S); free(Vt); free(T);
    return rc;
}

/* ======================================================================== */
/* products                                                                 */
/* ======================================================================== */

/* The products are blocked for the caches, BLIS-style.  C is cut into MC x NC blocks;
 * for each chunk of KC values of p, a block's rows of op(A) are copied into MR-row
 * panels and its columns of op(B) into NR-column panels, both k-major, and the kernel
 * table's dgemm_tile keeps an MR x NR piece of C in registers while p runs through the
 * chunk: a KC x NR panel of B stays in L1 while the panels of A stream past it from L2.
 * Every element is still one sum over p in order from zero (chunks continue the sums
 * the previous chunk stored), so the blocking, the panel sizes and the thread count
 * change no bit.  Blocks go to the pool's tasks round-robin; a task owns its blocks
 * (threads.h, rule 2). */
#define GEMM_KC 256
#define GEMM_MC 128 /* a multiple of TB_DGEMM_MR */
#define GEMM_NC 256 /* a multiple of TB_DGEMM_NR */

/* C[m, n] (row stride ldc) = op(A) op(B), op(A)[i, p] = A[p*as + i*ai] (i < m, p < k),
 * op(B)[p, j] = B[p*bs + j*bj], one of each pair of strides 1; acc: C + op(A) op(B)
 * (the sums start from C instead of zero); lower: only the blocks reaching the lower
 * triangle j <= i (a Gram matrix, mirrored by the caller). */
typedef struct {
    int m, n, k, acc, lower, nblk;
    const double *A, *B;
    size_t as, ai, bs, bj, ldc;
    double *C;
    int *blk;   /* the blocks to compute, as bi * (column blocks) + bj */
} gemm_job;

/* Copy rows p0 .. p0+kc of a row-major M (row stride ld), columns c0 .. c0+w, into
 * panels D[c / W][p][c % W] (zero-padded to whole panels): row by row, so each row's
 * run is read once, front to back. */
static inline void pack_rows(const double *M, size_t ld, int p0, int kc, int c0, int w, int W, double *D) {
    for (int p = 0; p < kc; p++) {
        const double *src = M + (size_t)(p0 + p) * ld + c0;
        for (int c = 0; c < w; c += W) {
            double *d = D + (size_t)c * kc + (size_t)p * W;
            int v = w - c < W ? w - c : W;
            for (int z = 0; z < v; z++) d[z] = src[c + z]; /* a loop: memcpy of a short run was rep movsq */
            for (int z = v; z < W; z++) d[z] = 0.0;
        }
    }
}

/* The same from a matrix stored the other way round: element (p, c) at M[c*ld + p]
 * (a transposing copy; each column c is a contiguous run over p). */
static void pack_cols(const double *M, size_t ld, int p0, int kc, int c0, int w, int W, double *D) {
    for (int c = 0; c < w; c += W) {
        double *d = D + (size_t)c * kc;
        int v = w - c < W ? w - c : W;
        if (v < W) memset(d, 0, (size_t)kc * W * sizeof(double));
        for (int z = 0; z < v; z++) {
            const double *src = M + (size_t)(c0 + c + z) * ld + p0;
            for (int p = 0; p < kc; p++) d[(size_t)p * W + z] = src[p];
        }
    }
}

/* Ap[r / MR][p][r % MR] = op(A)[i0 + r, p0 + p] for r < rows; Bp[j / NR][p][j % NR] =
 * op(B)[p0 + p, j0 + j] for j < cols.  (One of each operand's strides is 1.) */
static void pack_a(const gemm_job *g, int i0, int rows, int p0, int kc, double *Ap) {
    if (g->ai == 1) pack_rows(g->A, g->as, p0, kc, i0, rows, TB_DGEMM_MR, Ap);
    else pack_cols(g->A, g->ai, p0, kc, i0, rows, TB_DGEMM_MR, Ap);
}

static void pack_b(const gemm_job *g, int j0, int cols, int p0, int kc, double *Bp) {
    if (g->bj == 1) pack_rows(g->B, g->bs, p0, kc, j0, cols, TB_DGEMM_NR, Bp);
    else pack_cols(g->B, g->bj, p0, kc, j0, cols, TB_DGEMM_NR, Bp);
}

/* One MC x NC block of C at (i0, j0), chunk by chunk of p. */
static void gemm_block(const gemm_job *g, int i0, int j0, double *Ap, double *Bp) {
    enum { MR = TB_DGEMM_MR, NR = TB_DGEMM_NR };
    int rows = g->m - i0 < GEMM_MC ? g->m - i0 : GEMM_MC, cols = g->n - j0 < GEMM_NC ? g->n - j0 : GEMM_NC;
    if (g->lower && cols > i0 + rows - j0) cols = i0 + rows - j0; /* nothing right of the diagonal */
    for (int p0 = 0; p0 < g->k; p0 += GEMM_KC) {
        int kc = g->k - p0 < GEMM_KC ? g->k - p0 : GEMM_KC;
        pack_a(g, i0, rows, p0, kc, Ap);
        pack_b(g, j0, cols, p0, kc, Bp);
        for (int c = 0; c < cols; c += NR)
            for (int r = 0; r < rows; r += MR) {
                if (g->lower && j0 + c > i0 + r + MR - 1) continue; /* the piece is above the diagonal */
                tb_kern->dgemm_tile(kc, Ap + (size_t)r * kc, Bp + (size_t)c * kc, g->C + (size_t)(i0 + r) * g->ldc + j0 + c,
                                    g->ldc, rows - r < MR ? rows - r : MR, cols - c < NR ? cols - c : NR, p0 == 0 && !g->acc);
            }
    }
}

/* Without memory for the panels: the same sums, element by element. */
static void gemm_block_plain(const gemm_job *g, int i0, int j0) {
    int i1 = g->m - i0 < GEMM_MC ? g->m : i0 + GEMM_MC, j1 = g->n - j0 < GEMM_NC ? g->n : j0 + GEMM_NC;
    for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1 && (!g->lower || j <= i); j++) {
            double s = g->acc ? g->C[(size_t)i * g->ldc + j] : 0.0;
            for (int p = 0; p < g->k; p++) s += g->A[(size_t)p * g->as + (size_t)i * g->ai] * g->B[(size_t)p * g->bs + (size_t)j * g->bj];
            g->C[(size_t)i * g->ldc + j] = s;
        }
}

static void gemm_task(void *ctx, int t, int nt) {
    const gemm_job *g = ctx;
    int kc = g->k < GEMM_KC ? g->k : GEMM_KC, ncb = (g->n + GEMM_NC - 1) / GEMM_NC;
    double *Ap = malloc((size_t)GEMM_MC * kc * sizeof(double)), *Bp = malloc((size_t)GEMM_NC * kc * sizeof(double));
    for (int b = t; b < g->nblk; b += nt) {
        int i0 = g->blk[b] / ncb * GEMM_MC, j0 = g->blk[b] % ncb * GEMM_NC;
        if (Ap && Bp) gemm_block(g, i0, j0, Ap, Bp);
        else gemm_block_plain(g, i0, j0);
    }
    free(Ap);
    free(Bp);
}

static void run_gemm(gemm_job *g) {
    if (g->m < 1 || g->n < 1) return;
    int nrb = (g->m + GEMM_MC - 1) / GEMM_MC, ncb = (g->n + GEMM_NC - 1) / GEMM_NC;
    g->blk = malloc((size_t)nrb * ncb * sizeof(int));
    if (!g->blk) { /* out of memory: every block here, element by element */
        for (int bi = 0; bi < nrb; bi++)
            for (int bj = 0; bj < ncb; bj++) gemm_block_plain(g, bi * GEMM_MC, bj * GEMM_NC);
        return;
    }
    g->nblk = 0;
    for (int bi = 0; bi < nrb; bi++)
        for (int bj = 0; bj < ncb; bj++)
            if (!g->lower || bj * GEMM_NC < (bi + 1) * GEMM_MC) g->blk[g->nblk++] = bi * ncb + bj;
    double flops = 2.0 * g->m * g->n * g->k * (g->lower ? 0.5 : 1.0);
    int nt = flops > 1e6 ? tb_threads() : 1;
    if (nt > g->nblk) nt = g->nblk;
    if (g->k < 1) { /* empty sums: zero, or nothing to add */
        for (int i = 0; i < g->m && !g->acc; i++) memset(g->C + (size_t)i * g->ldc, 0, (size_t)g->n * sizeof(double));
    } else if (nt <= 1) {
        gemm_task(g, 0, 1);
    } else {
        tb_parallel(nt, gemm_task, g);
    }
    free(g->blk);
}

void la_gemm_strided(int m, int n, int k, const double *A, size_t as, size_t ai, const double *B, size_t bs,
                     size_t bj, double *C, size_t ldc, int acc) {
    gemm_job g = {.m = m, .n = n, .k = k, .acc = acc, .A = A, .as = as, .ai = ai, .B = B, .bs = bs, .bj = bj,
                  .C = C, .ldc = ldc};
    run_gemm(&g);
}

void la_gemm_tn(int k, int m, int n, const double *A, const double *B, double *C) {
    gemm_job g = {.m = m, .n = n, .k = k, .A = A, .as = (size_t)m, .ai = 1, .B = B, .bs = (size_t)n, .bj = 1,
                  .C = C, .ldc = (size_t)n};
    run_gemm(&g);
}

void la_gemm_nn(int m, int k, int n, const double *A, const double *B, double *C) {
    gemm_job g = {.m = m, .n = n, .k = k, .A = A, .as = 1, .ai = (size_t)k, .B = B, .bs = (size_t)n, .bj = 1,
                  .C = C, .ldc = (size_t)n};
    run_gemm(&g);
}

/* C = A A^T: the lower triangle (the blocks and pieces of C that reach it), then
 * mirrored; op(B) = A^T is read from A's rows by the packing. */
void la_gram_rows(int m, int k, const double *A, double *C) {
    gemm_job g = {.m = m, .n = m, .k = k, .lower = 1, .A = A, .as = 1, .ai = (size_t)k, .B = A, .bs = 1,
                  .bj = (size_t)k, .C = C, .ldc = (size_t)m};
    run_gemm(&g);
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) C[(size_t)i * m + j] = C[(size_t)j * m + i];
}

void la_center_columns(int n, int p, double *X) {
    if (n < 1) return;
    double *mu = calloc((size_t)p, sizeof(double));
    if (!mu) return;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) mu[j] += X[(size_t)i * p + j];
    for (int j = 0; j < p; j++) mu[j] /= n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) X[(size_t)i * p + j] -= mu[j];
    free(mu);
}
