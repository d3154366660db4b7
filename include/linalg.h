/* linalg.h -- the float64 linear algebra the alignment metrics stand on (lessons 10-12).
 *
 * Row-major matrices, caller-owned buffers, 0 / -1 with a one-line err.  Written for
 * the sizes of a teaching lab (up to a few thousand rows, a few hundred columns):
 *   la_eigh   symmetric eigendecomposition: Householder reduction to tridiagonal form,
 *             then the implicit QL algorithm with Wilkinson shifts (the EISPACK
 *             tred2/tql2 pair) -- O(n^3), backward stable;
 *   la_svd    thin SVD by one-sided Jacobi rotations (Hestenes): orthogonalise the
 *             columns of A pairwise until all are orthogonal; accurate even for tiny
 *             singular values (unlike eigh of A^T A, which squares the condition number);
 *   la_cholesky / la_cholesky_solve   for symmetric positive definite systems;
 *   la_lstsq  minimum-norm least squares through the SVD (rank-deficient safe).
 */
#ifndef TB_LINALG_H
#define TB_LINALG_H

#include "tb.h"

/* A[n,n] symmetric = V diag(w) V^T.  w[n] DESCENDING; V[n,n] holds the eigenvectors as
 * columns (V[i*n + j] = component i of vector j).  V may be NULL (values only). */
int la_eigh(int n, const double *A, double *w, double *V, char *err);

/* Thin SVD A[m,n] = U[m,k] diag(S[k]) Vt[k,n], k = min(m,n), S descending >= 0.
 * U and/or Vt may be NULL. */
int la_svd(int m, int n, const double *A, double *U, double *S, double *Vt, char *err);

/* In place: the lower triangle of A[n,n] becomes L with A = L L^T (upper part zeroed).
 * -1 when A is not positive definite. */
int la_cholesky(int n, double *A, char *err);
/* Solve (L L^T) X = B; B[n,nrhs] is overwritten by X. */
void la_cholesky_solve(int n, const double *L, double *B, int nrhs);

/* X[n,nrhs] minimising ||A X - B||_F with the smallest norm; singular values below
 * rcond * S_max are treated as zero.  A[m,n], B[m,nrhs]. */
int la_lstsq(int m, int n, const double *A, const double *B, int nrhs, double *X, double rcond,
             char *err);

/* C[m,n] = A^T B with A[k,m], B[k,n]  (cross-products of columns; threaded over rows). */
void la_gemm_tn(int k, int m, int n, const double *A, const double *B, double *C);
/* C[m,n] = A B with A[m,k], B[k,n]. */
void la_gemm_nn(int m, int k, int n, const double *A, const double *B, double *C);
/* C[m,m] = A A^T with A[m,k] (Gram matrix of the rows). */
void la_gram_rows(int m, int k, const double *A, double *C);

/* Subtract each column's mean from X[n,p]. */
void la_center_columns(int n, int p, double *X);

#endif
