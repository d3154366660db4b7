/* kernels.h -- the hot loops, each with a plain-C reference and SIMD twins, in one table.
 *
 * What they model, in four families (one file per family and instruction set in
 * src/kernels/, FAMILY_scalar.c beside FAMILY_avx2.c and FAMILY_neon.c):
 *   dense   the float32 algebra of the transformer (lessons 06-08) and of the spiking
 *           models' readouts: sgemm, matmul, softmax, layer/RMS norm, GELU, exp, and
 *           the AdamW update;
 *   snn     the LIF update of a spiking network's neurons (lesson 04);
 *   srnn    the event-driven sums and the dense mat-vecs of the spiking language model
 *           (lesson 09);
 *   linalg  the float64 loops under the eigensolver, the SVD and the products of the
 *           alignment metrics (lessons 10-12).
 * Every kernel exists as a scalar reference ("scalar") and as AVX2+FMA ("avx2", x86-64)
 * and NEON ("neon", aarch64) versions (on a CPU with AVX-512F the avx2 sgemm runs a
 * 512-bit micro-kernel, dense_avx512.c, that gives the AVX2 kernel's bits exactly); the neon table names the scalar definition
 * where a NEON twin would not pay (the element-wise dense kernels).  kernels_init()
 * picks one table at start-up (__builtin_cpu_supports on x86) and every model calls
 * through it, so --kernels scalar (or TINYBRAIN_KERNELS=scalar) switches all of them.
 * Which kernels give the same bits in every table and which may differ by round-off
 * is rule 3 of the determinism contract in threads.h.
 *
 * Kernels never allocate (the SIMD sgemm keeps per-thread packing buffers), never
 * print, and know nothing about models.  sgemm uses the thread pool (threads.h);
 * everything else is single-threaded and the caller splits rows over threads.
 *
 * Layout convention (llm.c): row-major flat arrays, shapes in comments.
 *   N = number of rows (B*T tokens), C = input channels, OC = output channels.
 */
#ifndef TB_KERNELS_H
#define TB_KERNELS_H

#include "tb.h"

#include <stddef.h>
#include <stdint.h>

/* ---- dense float32 algebra (lessons 06-08) ------------------------------------------ */

/* C[M,N] = alpha * op(A) op(B) + beta * C,  op(X) = X or X^T (row-major, leading
 * dimensions lda/ldb/ldc); op(A) is [M,K], op(B) is [K,N].  beta == 0: C is not read. */
typedef void tb_sgemm_fn(int transA, int transB, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta,
                         float *C, int ldc);
/* out[N,OC] = inp[N,C] @ weight[OC,C]^T + bias[OC]   (bias may be NULL) */
typedef void tb_matmul_forward_fn(float *out, const float *inp, const float *weight,
                                  const float *bias, int N, int C, int OC);
/* Accumulating (+=) gradients; any of dinp, dweight, dbias may be NULL:
 *   dinp[N,C]     += dout[N,OC] @ weight[OC,C]
 *   dweight[OC,C] += dout[N,OC]^T @ inp[N,C]
 *   dbias[OC]     += sum over rows of dout                                            */
typedef void tb_matmul_backward_fn(float *dinp, float *dweight, float *dbias,
                                   const float *dout, const float *inp, const float *weight,
                                   int N, int C, int OC);
/* Row-wise softmax of inp[rows,cols] into out (may alias), max-subtracted. */
typedef void tb_softmax_forward_fn(float *out, const float *inp, int rows, int cols);
/* dinp[rows,cols] = p * (dout - sum_j dout_j p_j)  given p = softmax output. */
typedef void tb_softmax_backward_fn(float *dinp, const float *dout, const float *p, int rows,
                                    int cols);
/* LayerNorm over the last axis: y = (x - mean) * rstd * weight + bias, eps 1e-5.
 * mean[N], rstd[N] are saved for backward (may be NULL in forward-only use). */
typedef void tb_layernorm_forward_fn(float *out, float *mean, float *rstd, const float *inp,
                                     const float *weight, const float *bias, int N, int C);
/* Accumulating (+=) into dinp[N,C], dweight[C], dbias[C] (dweight, dbias may be NULL). */
typedef void tb_layernorm_backward_fn(float *dinp, float *dweight, float *dbias,
                                      const float *dout, const float *inp, const float *weight,
                                      const float *mean, const float *rstd, int N, int C);
/* RMSNorm: y = x * rstd * weight, rstd = 1/sqrt(mean(x^2) + 1e-5). */
typedef void tb_rmsnorm_forward_fn(float *out, float *rstd, const float *inp,
                                   const float *weight, int N, int C);
typedef void tb_rmsnorm_backward_fn(float *dinp, float *dweight, const float *dout,
                                    const float *inp, const float *weight, const float *rstd,
                                    int N, int C);
/* out[i] = f(inp[i]) for i < n: GELU (tanh approximation,
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))) or exp (relative error < 2e-7 on
 * [-87, 88]). */
typedef void tb_map_fn(float *out, const float *inp, int n);
/* dinp[i] += dout[i] * gelu'(inp[i]). */
typedef void tb_gelu_backward_fn(float *dinp, const float *inp, const float *dout, int n);

/* One AdamW update of n parameters (lesson 08; optim.c derives the constants): for i < n
 *   g = grads[i] scale (stored back), m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g g,
 *   params[i] -= lr (m / bc1 / (sqrt(v / bc2) + eps) + (mask[i] ? wd params[i] : 0))
 * (mask NULL: every parameter decays).  Every operation is correctly rounded and none is
 * fused, so every table gives the scalar bits. */
typedef struct { float scale, b1, b2, bc1, bc2, lr, wd, eps; } tb_adamw_coef;
typedef void tb_adamw_fn(float *params, float *grads, float *m, float *v, const unsigned char *mask, size_t n,
                         const tb_adamw_coef *c);

/* ---- the LIF update of a spiking network (lesson 04) --------------------------------- */

/* Per-population constants of one step dt (snn.c derives them from tau_m, tau_e, ...). */
typedef struct {
    float e_l;              /* leak reversal E_L (mV) */
    float a_m, c_e, c_i;    /* CUBA exact step: a_m = exp(-dt/tau_m), c_e, c_i per synapse */
    float d_e, d_i;         /* synaptic decay per step of g_e, g_i */
    float v_th, v_reset;    /* threshold and reset (mV) */
    float n_ref;            /* refractory period in steps */
    float k, e_e, e_i;      /* COBA Euler step: k = dt/tau_m; reversals E_e, E_i (mV) */
} tb_lif_coef;
/* For i < n: if ref[i] > 0.5 the neuron is refractory (v held, ref -= 1); otherwise
 *   CUBA (exact):  v <- E_L + (v - E_L) a_m + g_e c_e + g_i c_i
 *   COBA (Euler):  v <- v + k ((E_L - v) + g_e (E_e - v) + g_i (E_i - v))
 * and if v > v_th: v <- v_reset, ref <- n_ref, and base + i is appended to spk.
 * Then g_e *= d_e, g_i *= d_i.  v, ge, gi, ref are [n]; returns the number of spikes. */
typedef int tb_lif_fn(float *v, float *ge, float *gi, float *ref, int n, const tb_lif_coef *c,
                      int32_t *spk, int32_t base);

/* ---- the spiking language model (lesson 09) ------------------------------------------ */

/* acc[j] += sum over r in idx[0..nidx) of W[r*ld + j], j < n: the event-driven form of
 * W_rec^T s for a binary s (cost ~ spikes x n, not n x n). */
typedef void tb_rows_add_fn(float *acc, const float *W, int ld, const int *idx, int nidx, int n);
/* W[r*ld + j] += x[j] for every r in idx, j < n: the sparse weight gradient
 * dW += s (x) dv (only the rows of neurons that spiked). */
typedef void tb_rows_acc_fn(float *W, int ld, const int *idx, int nidx, const float *x, int n);
/* out[b*n + i] = sum_j W[i*n + j] x[b*n + j] for b < nb, i < n: W[n,n], x[nb,n] (the
 * dense part of the backward pass, ds_{t-1} = W_rec dv_t).  Each out[b] is the same
 * whatever nb is. */
typedef void tb_matvecs_fn(float *out, const float *W, const float *x, int nb, int n);

/* ---- float64 loops of linalg.c (lessons 10-12) ---------------------------------------- */

/* y[i] += a x[i], i < n. */
typedef void tb_daxpy_fn(int n, double a, const double *x, double *y);
/* y[i] += a u[i] + b v[i], i < n (summed as y + (a u + b v)). */
typedef void tb_daxpy2_fn(int n, double a, const double *u, double b, const double *v,
                          double *y);
/* A plane rotation of two rows: (x[i], y[i]) <- (c x[i] - s y[i], s x[i] + c y[i]). */
typedef void tb_drot_fn(int n, double *x, double *y, double c, double s);
/* A chain of plane rotations down the rows of W (the eigenvector update of one QL sweep):
 * for i = k-1 down to 0, rows i and i+1 of W (row stride ldw) over columns j < ncol,
 *   (W[i][j], W[i+1][j]) <- (c[i] W[i][j] - s[i] W[i+1][j], s[i] W[i][j] + c[i] W[i+1][j]),
 * the same numbers as drot applied k times, row pair by row pair; a column at a time,
 * the row being carried down the chain stays in a register. */
typedef void tb_drot_chain_fn(int k, const double *c, const double *s, double *W, size_t ldw, int ncol);
/* r <= 4 rows of a product, summed over p in order from zero:
 *   C[q*ldc + j] = sum_{p<k} a[p*as + q*ai] B[p*ldb + j],   q < r, j < n. */
typedef void tb_dgemm4_fn(int r, int k, int n, const double *a, size_t as, size_t ai,
                          const double *B, size_t ldb, double *C, size_t ldc);
/* One block of a packed product (la_gemm_*): A's rows and B's columns copied k-major
 * into panels Ap[k][TB_DGEMM_MR] and Bp[k][TB_DGEMM_NR] (zero-padded), then
 *   C[r*ldc + j] = (first ? 0 : C[r*ldc + j]) + sum_{p<k} Ap[p*MR + r] Bp[p*NR + j]
 * for r < rows <= MR, j < cols <= NR, summed over p in order: a product split into
 * chunks of p (first = 1 for the first chunk) gives dgemm4's bits. */
#define TB_DGEMM_MR 8
#define TB_DGEMM_NR 16
typedef void tb_dgemm_tile_fn(int k, const double *Ap, const double *Bp, double *C, size_t ldc, int rows, int cols,
                              int first);

typedef struct tb_kernels {
    const char *name; /* "scalar", "avx2", "neon" */

    /* dense */
    tb_sgemm_fn *sgemm;
    tb_matmul_forward_fn *matmul_forward;
    tb_matmul_backward_fn *matmul_backward;
    tb_softmax_forward_fn *softmax_forward;
    tb_softmax_backward_fn *softmax_backward;
    tb_layernorm_forward_fn *layernorm_forward;
    tb_layernorm_backward_fn *layernorm_backward;
    tb_rmsnorm_forward_fn *rmsnorm_forward;
    tb_rmsnorm_backward_fn *rmsnorm_backward;
    tb_map_fn *gelu_forward;
    tb_gelu_backward_fn *gelu_backward;
    tb_map_fn *vexp;
    tb_adamw_fn *adamw;

    /* snn */
    tb_lif_fn *lif_cuba;
    tb_lif_fn *lif_coba;

    /* srnn */
    tb_rows_add_fn *rows_add;
    tb_rows_acc_fn *rows_acc;
    tb_matvecs_fn *matvecs;

    /* linalg */
    tb_daxpy_fn *daxpy;
    tb_daxpy2_fn *daxpy2;
    tb_drot_fn *drot;
    tb_drot_chain_fn *drot_chain;
    tb_dgemm4_fn *dgemm4;
    tb_dgemm_tile_fn *dgemm_tile;
} tb_kernels;

/* The active table.  Valid after kernels_init(); before it, the scalar table. */
extern const tb_kernels *tb_kern;

/* mode: "auto" (best the CPU supports), "scalar", "avx2", "neon".  NULL or "auto"
 * also honours the environment variable TINYBRAIN_KERNELS.  Returns 0, or -1 with
 * err set when the named set is unknown or this CPU lacks it. */
int kernels_init(const char *mode, char *err);
/* A specific table, or NULL if not compiled in or not supported by this CPU
 * (tests compare each against "scalar"). */
const tb_kernels *kernels_table(const char *name);

#endif
