/* kernels_priv.h -- what the files of src/kernels/ share privately: every kernel of every
 * instruction set (kernels.c puts them in the tables; include/kernels.h documents what
 * each type computes) and the helpers the SIMD twins build on.
 *
 * A declaration such as `tb_sgemm_fn sgemm_scalar, sgemm_avx2;` declares two functions
 * of that type.  The avx2 functions exist on x86-64 only, the neon ones on aarch64 only
 * (their files are empty elsewhere); kernels.c names each only where it exists. */
#ifndef TB_KERNELS_PRIV_H
#define TB_KERNELS_PRIV_H

#include "kernels.h"

/* sgemm with two extras (dense_pack.h): bias (NULL, or [N] added to every row of C, with
 * beta 0) and rowsum (NULL, or [M] += the sums over k of op(A)'s rows).  The SIMD tables'
 * matmuls run on it (kernels_matmul_*_ex below). */
typedef void tb_sgemm_ex_fn(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                            const float *B, int ldb, float beta, float *C, int ldc, const float *bias,
                            float *rowsum);
tb_sgemm_ex_fn sgemm_ex_avx2, sgemm_ex_neon;

/* dense_scalar.c, dense_avx2.c, dense_neon.c */
tb_sgemm_fn sgemm_scalar, sgemm_avx2, sgemm_neon;
tb_matmul_forward_fn matmul_forward_scalar, matmul_forward_avx2, matmul_forward_neon;
tb_matmul_backward_fn matmul_backward_scalar, matmul_backward_avx2, matmul_backward_neon;
tb_softmax_forward_fn softmax_forward_scalar, softmax_forward_avx2;
tb_softmax_backward_fn softmax_backward_scalar, softmax_backward_avx2;
tb_layernorm_forward_fn layernorm_forward_scalar, layernorm_forward_avx2;
tb_layernorm_backward_fn layernorm_backward_scalar, layernorm_backward_avx2;
tb_rmsnorm_forward_fn rmsnorm_forward_scalar, rmsnorm_forward_avx2;
tb_rmsnorm_backward_fn rmsnorm_backward_scalar, rmsnorm_backward_avx2;
tb_map_fn gelu_forward_scalar, gelu_forward_avx2;
tb_gelu_backward_fn gelu_backward_scalar, gelu_backward_avx2;
tb_map_fn vexp_scalar, vexp_avx2;
tb_adamw_fn adamw_scalar, adamw_avx2;

/* dense_avx512.c (x86-64): the 512-bit sgemm the avx2 table runs (bias: NULL, or added
 * to every row of C with beta 0, see dense_pack.h) when
 * sgemm_avx512_usable() (the CPU has AVX-512F and kernels_sgemm_512 is 1, its
 * default; tests set it to 0 to compare the two, which give the same bits; it switches
 * the 512-bit float64 block below too). */
tb_sgemm_ex_fn sgemm_avx512;
int sgemm_avx512_usable(void);
/* The GELU kernels of dense_avx2.c on the first 16 k elements (16 k <= n), 16 lanes at a
 * time, the same bits; they return 16 k, where the avx2 kernels go on. */
int gelu_forward_avx512(float *out, const float *inp, int n);
int gelu_backward_avx512(float *dinp, const float *inp, const float *dout, int n);
/* GELU's tanh approximation: gelu(x) = x/2 (1 + tanh(GELU_S (x + GELU_C x^3))). */
#define GELU_S 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f
extern int kernels_sgemm_512;
/* linalg_avx512.c (x86-64): dgemm4_avx2's 4 x 16 block in 512-bit registers (the same
 * bits), used when dgemm_avx512_usable() (AVX-512F, and kernels_sgemm_512 as above). */
void dgemm_block_4x16(int first, int k, const double *a, size_t as, size_t ai, const double *B, size_t ldb,
                      double *C, size_t ldc);
void drot_chain_32(int k, const double *c, const double *s, double *W, size_t ldw);
/* The whole 8 x 16 block of dgemm_tile in 16 zmm registers (rows == 8, cols == 16). */
void dgemm_tile_8x16(int k, const double *Ap, const double *Bp, double *C, size_t ldc, int first);
int dgemm_avx512_usable(void);

/* snn_scalar.c, snn_avx2.c, snn_neon.c */
tb_lif_fn lif_cuba_scalar, lif_cuba_avx2, lif_cuba_neon;
tb_lif_fn lif_coba_scalar, lif_coba_avx2, lif_coba_neon;

/* srnn_scalar.c, srnn_avx2.c, srnn_neon.c */
tb_rows_add_fn rows_add_scalar, rows_add_avx2, rows_add_neon;
tb_rows_acc_fn rows_acc_scalar, rows_acc_avx2, rows_acc_neon;
tb_matvecs_fn matvecs_scalar, matvecs_avx2, matvecs_neon;

/* linalg_scalar.c, linalg_avx2.c, linalg_neon.c */
tb_daxpy_fn daxpy_scalar, daxpy_avx2, daxpy_neon;
tb_daxpy2_fn daxpy2_scalar, daxpy2_avx2, daxpy2_neon;
tb_drot_fn drot_scalar, drot_avx2, drot_neon;
tb_drot_chain_fn drot_chain_scalar, drot_chain_avx2, drot_chain_neon;
tb_dgemm4_fn dgemm4_scalar, dgemm4_avx2, dgemm4_neon;
tb_dgemm_tile_fn dgemm_tile_scalar, dgemm_tile_avx2, dgemm_tile_neon;
/* dgemm_tile from an instruction set's 4 x 8 piece: sub(k, Ap, Bp, T, ldt) continues the
 * sums T[q*ldt + j] += sum_p Ap[p*MR + q] Bp[p*NR + j], q < 4, j < 8 (the panels offset
 * to the piece).  A whole block is worked on in C itself, a ragged one in a local copy
 * (linalg_scalar.c). */
typedef void dgemm_sub_fn(int k, const double *Ap, const double *Bp, double *T, size_t ldt);
void dgemm_tile_by_4x8(dgemm_sub_fn *sub, int k, const double *Ap, const double *Bp, double *C, size_t ldc, int rows,
                       int cols, int first);

/* The column block of drot_chain for one instruction set (drot_chain_scalar is the
 * definition): V vectors of W doubles each (V chains in flight), from the vector type VT
 * and its unaligned LOAD/STORE, SET1 (broadcast), ADD, SUB and MUL.  DECL is the
 * function's storage class, attributes, return type and name. */
#define ROT_CHAIN(DECL, V, VT, W, LOAD, STORE, SET1, ADD, SUB, MUL)                           \
    DECL(int k, const double *c, const double *s, double *M, size_t ldw) {                    \
        VT carry[V];                                                                          \
        for (int v = 0; v < V; v++) carry[v] = LOAD(M + (size_t)k * ldw + W * v);             \
        for (int i = k - 1; i >= 0; i--) {                                                    \
            VT ci = SET1(c[i]), si = SET1(s[i]);                                              \
            double *mi = M + (size_t)i * ldw;                                                 \
            for (int v = 0; v < V; v++) {                                                     \
                VT x = LOAD(mi + W * v);                                                      \
                STORE(mi + ldw + W * v, ADD(MUL(si, x), MUL(ci, carry[v])));                  \
                carry[v] = SUB(MUL(ci, x), MUL(si, carry[v]));                                \
            }                                                                                 \
        }                                                                                     \
        for (int v = 0; v < V; v++) STORE(M + W * v, carry[v]);                               \
    }

/* matmul in terms of a table's own sgemm (dense_scalar.c; every dense_*.c uses it). */
void kernels_matmul_forward_via(tb_sgemm_fn *sgemm, float *out, const float *inp,
                                const float *weight, const float *bias, int N, int C, int OC);
void kernels_matmul_backward_via(tb_sgemm_fn *sgemm, float *dinp, float *dweight, float *dbias,
                                 const float *dout, const float *inp, const float *weight,
                                 int N, int C, int OC);
void kernels_matmul_forward_ex(tb_sgemm_ex_fn *sgemm, float *out, const float *inp, const float *weight,
                               const float *bias, int N, int C, int OC);
void kernels_matmul_backward_ex(tb_sgemm_ex_fn *sgemm, float *dinp, float *dweight, float *dbias,
                                const float *dout, const float *inp, const float *weight, int N, int C, int OC);

/* Per-thread packing buffers of the packed sgemm (which = 0: A panels, 1: B panels),
 * n floats, 32-byte aligned, grown on demand and kept for the thread's life (sgemm
 * runs concurrently in pool tasks); NULL when out of memory.  kernels.c frees them
 * when a thread exits. */
float *kernels_scratch(int which, size_t n);

#endif
