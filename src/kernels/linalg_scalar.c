/* linalg_scalar.c -- the float64 loops under linalg.c (lessons 10-12) in plain C: the
 * definitions of linalg_avx2.c and linalg_neon.c.
 *
 *   daxpy, daxpy2   column updates of the Householder tridiagonalisation (la_eigh)
 *   drot            the plane rotations of the one-sided Jacobi SVD (la_svd)
 *   drot_chain      one QL sweep's chain of rotations on the eigenvectors (la_eigh)
 *   dgemm4          four rows of C = A^T B, A B, or the matrix-vector products of la_eigh
 *   dgemm_tile      an 8 x 16 block of C from packed panels (the products la_gemm_*, la_gram_rows)
 *
 * None of them reassociates a sum: every element is computed with the same multiplies
 * and adds in the same order in every version (and the build keeps multiply and add
 * separate, -ffp-contract=off), so the SIMD twins give exactly these bits.  What they
 * gain is width: 2 (SSE2/NEON) or 4 (AVX2) elements per instruction, and dgemm4_avx2
 * keeps its block of C in registers while p runs.
 */
#include "kernels_priv.h"

#include <string.h>

void daxpy_scalar(int n, double a, const double *x, double *y) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void daxpy2_scalar(int n, double a, const double *u, double b, const double *v, double *y) {
    for (int i = 0; i < n; i++) y[i] += a * u[i] + b * v[i];
}

void drot_scalar(int n, double *x, double *y, double c, double s) {
    for (int i = 0; i < n; i++) {
        double xi = x[i], yi = y[i];
        x[i] = c * xi - s * yi;
        y[i] = s * xi + c * yi;
    }
}

/* Column by column: the row moving down the chain is `carry` (row i+1 as rotation i+1
 * left it), so each element is read and written once per sweep instead of twice. */
void drot_chain_scalar(int k, const double *c, const double *s, double *W, size_t ldw, int ncol) {
    for (int j = 0; j < ncol; j++) {
        double carry = W[(size_t)k * ldw + j];
        for (int i = k - 1; i >= 0; i--) {
            double wi = W[(size_t)i * ldw + j];
            W[(size_t)(i + 1) * ldw + j] = s[i] * wi + c[i] * carry;
            carry = c[i] * wi - s[i] * carry;
        }
        W[j] = carry;
    }
}

/* Four rows of C share each streamed row of B, which quarters the memory traffic; the
 * j loops are plain multiply-adds that the compiler vectorises. */
void dgemm4_scalar(int r, int k, int n, const double *a, size_t as, size_t ai, const double *B,
                   size_t ldb, double *C, size_t ldc) {
    for (int q = 0; q < r; q++) memset(C + (size_t)q * ldc, 0, (size_t)n * sizeof(double));
    for (int p = 0; p < k; p++) {
        const double *b = B + (size_t)p * ldb, *ap = a + (size_t)p * as;
        if (r == 4) {
            double a0 = ap[0], a1 = ap[ai], a2 = ap[2 * ai], a3 = ap[3 * ai];
            double *c0 = C, *c1 = C + ldc, *c2 = C + 2 * ldc, *c3 = C + 3 * ldc;
            for (int j = 0; j < n; j++) {
                double bj = b[j];
                c0[j] += a0 * bj; c1[j] += a1 * bj; c2[j] += a2 * bj; c3[j] += a3 * bj;
            }
        } else { /* the ragged last block */
            for (int q = 0; q < r; q++) daxpy_scalar(n, ap[q * ai], b, C + (size_t)q * ldc);
        }
    }
}

/* The block's sums in a local array while p runs (the j loop vectorises); only the
 * rows x cols corner is read from and written to C. */
void dgemm_tile_scalar(int k, const double *Ap, const double *Bp, double *C, size_t ldc, int rows, int cols,
                       int first) {
    enum { MR = TB_DGEMM_MR, NR = TB_DGEMM_NR };
    double acc[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) acc[r][j] = first || r >= rows || j >= cols ? 0.0 : C[(size_t)r * ldc + j];
    for (int p = 0; p < k; p++) {
        const double *a = Ap + (size_t)p * MR, *b = Bp + (size_t)p * NR;
        for (int r = 0; r < MR; r++) {
            double ar = a[r];
            for (int j = 0; j < NR; j++) acc[r][j] += ar * b[j];
        }
    }
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) C[(size_t)r * ldc + j] = acc[r][j];
}

void dgemm_tile_by_4x8(dgemm_sub_fn *sub, int k, const double *Ap, const double *Bp, double *C, size_t ldc, int rows,
                       int cols, int first) {
    enum { MR = TB_DGEMM_MR, NR = TB_DGEMM_NR };
    int whole = rows == MR && cols == NR;
    double buf[MR * NR], *T = whole ? C : buf;
    size_t ldt = whole ? ldc : NR;
    if (!whole || first)
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                T[(size_t)r * ldt + j] = first || r >= rows || j >= cols ? 0.0 : C[(size_t)r * ldc + j];
    for (int r0 = 0; r0 < MR; r0 += 4)
        for (int c0 = 0; c0 < NR; c0 += 8) sub(k, Ap + r0, Bp + c0, T + (size_t)r0 * ldt + c0, ldt);
    if (!whole)
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) C[(size_t)r * ldc + j] = buf[r * NR + j];
}
