/* bench.h -- the machinery behind `tinybrain bench ...`: how fast are we, and how do we
 * compare with the tools a lab would use?  Lessons 04 (networks), 06 (FLOPs), 08 (GPT
 * steps), 09 (spiking-LM steps) and 10-12 (metric costs) quote the tables.
 *
 * Timings never decide a test (they depend on the machine and its load); they are
 * for reading.  Here: a monotonic clock, the median of repeated timings, the workloads
 * each table times, and the reference scripts of our peers in ../shared/bench/ (PyTorch
 * for the transformer and the spiking LM, Brian2 for the CUBA/COBA networks),
 * run with /usr/bin/python3 and read from their one-line JSON.  Nothing here prints.
 *
 *     bench_gpt_result r;  char err[TB_ERRLEN];
 *     if (bench_gpt_steps(bench_gpt_find("classroom"), 30, 5, &r, err) == 0)
 *         printf("%.2f ms per step\n", r.ms);
 */
#ifndef TB_BENCH_H
#define TB_BENCH_H

#include "kernels.h"
#include "tb.h"
#include <stddef.h>

/* Seconds on a monotonic clock (differences only). */
double bench_now_s(void);
/* Median of x[n], n >= 1 (x is sorted in place). */
double bench_median(double *x, int n);

/* ---- the machine's measured peak (bench_peak.c) -------------------------------------
 * Single-precision FMA throughput with no memory traffic, on `threads` threads of the
 * pool at once (1 <= threads <= tb_threads()), with the widest instruction set the CPU
 * has, the fastest of 41 runs of ~2 ms: the ceiling every "% of peak" in bench gpt
 * refers to. */
typedef struct {
    const char *isa;          /* "AVX-512F FMA", "AVX2 FMA", "plain C (compiler-vectorised)" */
    int threads;
    double gflops;            /* all threads together */
    double gflops_per_core;
} bench_peak_result;
int bench_peak(int threads, bench_peak_result *r, char *err);

/* ---- reference scripts -------------------------------------------------------------
 * 1 if /usr/bin/python3 can import `module` ("torch", "brian2"); Debian packages them
 * as python3-torch and python3-brian.  They are never a dependency of tinybrain. */
int bench_python_has(const char *module);
/* Run /usr/bin/python3 SCRIPT ARGS (its stderr discarded) and read the numbers after
 * "KEY": for each keys[k] from the last output line that has it (vals[k] NAN when none
 * has).  0 when keys[0] was found; -1 with err when the script is missing, could not
 * run or printed no keys[0]. */
int bench_run_script(const char *script, const char *args, const char *const *keys, int nkeys,
                     double *vals, char *err);
/* Which BLAS /usr/bin/python3 loads with `module` ("torch", "numpy"): the shared
 * libraries with "blas" in their name in the process's memory map, classified into
 * *kind: "OpenBLAS", "MKL", "BLIS", "reference BLAS" (Netlib's, 2-3 GFLOP/s: a ratio
 * against it measures nothing) or "unknown"; path[len] names the library.  -1 with err
 * when python3 or the module cannot be loaded. */
int bench_python_blas(const char *module, const char **kind, char *path, size_t len, char *err);
/* 1 when kind is one a speed ratio may be printed against (not the reference BLAS). */
int bench_blas_fair(const char *kind);
/* The peers' wrappers below (bench_torch_gpt, bench_torch_srnn, bench_brian) run one
 * setting each; -1 with err (e.g. "python3 cannot import torch") when it could not run. */

/* ---- GPT training step (bench_models.c) --------------------------------------------
 * The model of ../shared/bench/torch_gpt.py: learned token and position embeddings,
 * pre-LayerNorm blocks (causal MHA with biased qkv and output projections, 4x MLP with
 * tanh-GELU), final LayerNorm, untied LM head, AdamW as PyTorch's defaults (lr 1e-3,
 * betas 0.9/0.999, no weight decay, no clipping), cross-entropy on one fixed batch of
 * random tokens.  One step = forward + backward + AdamW update.
 *     FLOPs/step = 6 params B T + 6 L B T^2 C
 * (2 flops per multiply-add x (forward + 2 backward products); the second term is the
 * attention scores and their weighted sum, counted over the full T x T square). */
typedef struct { const char *name; int vocab, ctx, layers, heads, dim, batch; } bench_gpt_preset;
#define BENCH_GPT_PRESETS 2
extern const bench_gpt_preset bench_gpt_presets[BENCH_GPT_PRESETS];   /* classroom, small */
const bench_gpt_preset *bench_gpt_find(const char *name);            /* NULL if unknown */
typedef struct {
    size_t params;
    double ms;                       /* median ms per step over the timed steps */
    double fwd_ms, bwd_ms, opt_ms;   /* mean ms of forward, backward, AdamW */
    double flops;                    /* per step, the formula above */
    float first_loss, last_loss;     /* of the first (warm-up) and the last step */
    /* Where a step's time goes (mean ms per timed step, from gpt.h's phase marks): */
    int layers;
    double embed_fwd_ms, head_fwd_ms, head_bwd_ms, embed_bwd_ms; /* embeddings; final norm + LM head + loss */
    double *layer_fwd_ms, *layer_bwd_ms;  /* [layers], owned: bench_gpt_result_free */
    double pool_jobs;                /* parallel regions handed to the pool per step */
    double pool_wait_ms;             /* the caller waiting for the workers after its own share */
} bench_gpt_result;
int bench_gpt_steps(const bench_gpt_preset *p, int steps, int warmup, bench_gpt_result *r, char *err);
void bench_gpt_result_free(bench_gpt_result *r);
/* torch_gpt.py at the same shape (every size passed explicitly): its ms per step and GFLOP/s. */
int bench_torch_gpt(const char *script, const bench_gpt_preset *p, int threads, int steps, int warmup, double *ms,
                    double *gflops, char *err);

/* bench/align_numpy.py at n x p (--repeat, BLAS threads): numpy's seconds for the RSA,
 * CKA and encoding families, sec[3] in that order. */
int bench_numpy_align(const char *script, int n, int p, int repeat, int threads, double sec[3], char *err);

/* ---- spiking language model training step (bench_models.c) -------------------------
 * The configuration of ../shared/bench/torch_srnn.py: LIF neurons (beta 0.9, threshold
 * 1, soft reset), w_in ~ N(0, 0.5), w_rec ~ N(0, 1/sqrt(N)), a readout initialised like
 * PyTorch's nn.Linear, spike-count readout, fast-sigmoid surrogate, cross-entropy,
 * Adam (lr 1e-3, betas 0.9/0.999, no weight decay, no clipping), no rate regulariser,
 * one fixed batch of random tokens.  spike_p is the firing probability per neuron and
 * step: the sparsity the event-driven forward pass exploits. */
typedef struct { int vocab, neurons, steps_per_token, ctx, batch; } bench_srnn_shape;
typedef struct {
    double ms;        /* median ms per step (forward + backward + Adam) */
    double fwd_ms;    /* median ms of a forward pass alone (NAN unless asked for) */
    double spike_p;
    double first_loss, last_loss;
} bench_srnn_result;
int bench_srnn_steps(const bench_srnn_shape *s, int steps, int warmup, int forward_alone,
                     bench_srnn_result *r, char *err);
/* torch_srnn.py at shape s: its ms per step and spike probability (NAN if not printed). */
int bench_torch_srnn(const char *script, const bench_srnn_shape *s, int threads, double *ms, double *spike_p,
                     char *err);

/* ---- spiking network (bench_models.c) ----------------------------------------------
 * The snn_preset() network `preset` of n neurons (k_in > 0: fixed in-degree), built,
 * then simulated for ms without recording spikes, on snn_auto_threads(max_threads). */
typedef struct {
    double wall_s;          /* simulation only */
    double rate_hz;         /* mean firing rate */
    long long spikes, events, synapses;
    size_t bytes;           /* network state */
} bench_snn_row;
int bench_snn_network(const char *preset, int n, int k_in, double ms, int max_threads, bench_snn_row *r,
                      char *err);
/* brian_cuba.py, C++ standalone: wall seconds and mean rate of model cuba|coba over sec s. */
int bench_brian(const char *script, const char *model, double sec, double *wall_s, double *rate_hz, char *err);

/* ---- matmul kernels (bench_math.c) --------------------------------------------------
 * out[N,OC] = inp[N,C] W[OC,C]^T: 2 N C OC flops forward, 4 N C OC backward (dinp and
 * dweight).  The buffers hold the largest shape, filled with U(-0.5, 0.5) from seed 1. */
typedef struct { int N, C, OC, backward; } bench_matmul_shape;
typedef struct { size_t size; float *inp, *w, *out, *dout, *dinp, *dw; } bench_matmul_bufs;
int  bench_matmul_bufs_init(bench_matmul_bufs *b, size_t max_elems, char *err);
void bench_matmul_bufs_free(bench_matmul_bufs *b);
/* Median seconds of `reps` runs of shape s with kernel table k, after one warm-up. */
int  bench_matmul(const tb_kernels *k, const bench_matmul_shape *s, int reps, bench_matmul_bufs *b,
                  double *sec, char *err);

/* ---- alignment metrics (bench_math.c) ----------------------------------------------
 * X[n,p] ~ N(0,1) and Y = X + N(0,1) noise, from seed 7. */
int bench_align_data(int n, int p, double **X, double **Y, char *err);
/* Seconds of one align_all() call computing one family, as `align --metric all` runs
 * them; BENCH_RSA_PERM adds perms RSA permutations to RSA. */
typedef enum { BENCH_RSA, BENCH_CKA, BENCH_CCA, BENCH_PROCRUSTES, BENCH_ENCODING, BENCH_RSA_PERM } bench_family;
int bench_align_family(bench_family fam, const double *X, const double *Y, int n, int p, int perms,
                       double *sec, char *err);

#endif
