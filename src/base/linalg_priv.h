/* linalg_priv.h -- what linalg.c lends linalg_eigh.c (lessons 10-12): the packed
 * product with strides and accumulation.  The public face is include/linalg.h. */
#ifndef TB_LINALG_PRIV_H
#define TB_LINALG_PRIV_H

#include <stddef.h>

/* C[m, n] (row stride ldc) = (acc ? C : 0) + op(A) op(B) with op(A)[i, p] = A[p*as +
 * i*ai] and op(B)[p, j] = B[p*bs + j*bj] (one stride of each pair 1): each element one
 * sum over p in order, from C or from zero; threaded, the same bits for any count. */
void la_gemm_strided(int m, int n, int k, const double *A, size_t as, size_t ai, const double *B, size_t bs,
                     size_t bj, double *C, size_t ldc, int acc);

#endif
