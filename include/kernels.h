/* kernels.h -- the hot loops, each with a plain-C reference and SIMD twins.
 *
 * What they model: the dense algebra of a transformer (lessons 06-08) and the
 * per-neuron state updates of a spiking network (lessons 02-04).  Every kernel
 * exists as a scalar reference ("scalar") and as AVX2+FMA ("avx2", x86-64) and
 * NEON ("neon", aarch64) versions.  kernels_init() picks one table at start-up
 * (__builtin_cpu_supports on x86); --kernels scalar or TINYBRAIN_KERNELS=scalar
 * forces the reference.  Kernels never allocate more than a per-call scratch on
 * the stack, never print, and know nothing about models.  The big products use
 * the thread pool (threads.h); everything else is single-threaded and the caller
 * parallelises over rows if it wants to.
 *
 * Layout convention (llm.c): row-major flat float arrays, shapes in comments.
 *   N  = number of rows (B*T tokens), C = input channels, OC = output channels.
 */
#ifndef TB_KERNELS_H
#define TB_KERNELS_H

#include "tb.h"

typedef struct tb_kernels {
    const char *name; /* "scalar", "avx2", "neon" */

    /* C[M,N] = alpha * op(A) op(B) + beta * C,  op(X) = X or X^T (row-major,
     * leading dimensions lda/ldb/ldc).  beta == 0 means C is not read. */
    void (*sgemm)(int transA, int transB, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta,
                  float *C, int ldc);

    /* out[N,OC] = inp[N,C] @ weight[OC,C]^T + bias[OC]   (bias may be NULL) */
    void (*matmul_forward)(float *out, const float *inp, const float *weight,
                           const float *bias, int N, int C, int OC);
    /* Accumulating (+=) gradients; any of dinp, dweight, dbias may be NULL:
     *   dinp[N,C]     += dout[N,OC] @ weight[OC,C]
     *   dweight[OC,C] += dout[N,OC]^T @ inp[N,C]
     *   dbias[OC]     += sum over rows of dout                                  */
    void (*matmul_backward)(float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int OC);

    /* Row-wise softmax of inp[rows,cols] into out (may alias), max-subtracted. */
    void (*softmax_forward)(float *out, const float *inp, int rows, int cols);
    /* dinp[rows,cols] = p * (dout - sum_j dout_j p_j)  given p = softmax output. */
    void (*softmax_backward)(float *dinp, const float *dout, const float *p, int rows, int cols);

    /* LayerNorm over the last axis: y = (x - mean) * rstd * weight + bias, eps 1e-5.
     * mean[N], rstd[N] are saved for backward (may be NULL in forward-only use). */
    void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int N, int C);
    /* Accumulating (+=) into dinp[N,C], dweight[C], dbias[C]. */
    void (*layernorm_backward)(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const float *mean,
                               const float *rstd, int N, int C);
    /* RMSNorm: y = x * rstd * weight, rstd = 1/sqrt(mean(x^2) + 1e-5). */
    void (*rmsnorm_forward)(float *out, float *rstd, const float *inp, const float *weight,
                            int N, int C);
    void (*rmsnorm_backward)(float *dinp, float *dweight, const float *dout, const float *inp,
                             const float *weight, const float *rstd, int N, int C);

    /* GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    void (*gelu_forward)(float *out, const float *inp, int n);
    void (*gelu_backward)(float *dinp, const float *inp, const float *dout, int n); /* += */

    /* out[i] = exp(inp[i]); relative error < 2e-7 (float32) on [-87, 88]. */
    void (*vexp)(float *out, const float *inp, int n);

    /* Leaky integrate-and-fire step for n neurons (exact exponential decay):
     *   v <- v_rest + (v - v_rest) * decay + i_syn * gain     (only when refrac <= 0)
     *   spike if v >= v_th: v <- v_reset, refrac <- t_ref_steps
     * refrac counts down by 1 each step.  Writes spike[i] = 0/1 and returns the
     * number of spikes.  All constants are per-population scalars. */
    int (*lif_step)(float *v, float *refrac, unsigned char *spike, const float *i_syn,
                    int n, float v_rest, float v_reset, float v_th, float decay,
                    float gain, float t_ref_steps);
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
