/* srnn.h -- a recurrent spiking network that learns language.  Lesson 09.
 *
 * The model (notation of lesson 09; V vocabulary, N neurons, K simulation steps per
 * token, dt ms per step; one token after another, the state is never reset inside a
 * sequence):
 *
 *   input     token w is presented for K steps as the current x = W_in[w]  (a row of
 *             W_in[V,N]: multiplying a one-hot vector by a matrix is a gather)
 *   neurons   discrete-time LIF with soft reset (like snnTorch / the PyTorch reference
 *             ../shared/bench/torch_srnn.py), in units of the threshold theta:
 *                 v_t = beta v_{t-1} + x_t + W_rec^T s_{t-1} - theta s_{t-1} + n_t
 *                 s_t = H(v_t - theta)                     (H = Heaviside step)
 *             beta = exp(-dt / tau_m); n_t is optional Poisson background input: each
 *             neuron receives a background spike with probability p = 1 - exp(-r dt)
 *             per step (r in Hz), which adds noise_w to v.
 *   synapses  W_rec[pre, post] (row = presynaptic neuron).  With --dale the first
 *             round(N (1 - frac_inh)) neurons are excitatory, the rest inhibitory, and
 *             the effective weight is W_eff = |W_raw| * sign(pre); sparse recurrence keeps
 *             a fixed random mask with connection probability p_conn.
 *   readout   per token, a feature f_i per neuron: its spike count in the token's K
 *             steps ("count"), or an exponentially filtered spike train z read at the
 *             window's last step ("trace": z_t = a z_{t-1} + s_t, a = exp(-dt/tau_trace));
 *                 logits = W_out f + b_out,  P(next) = softmax(logits)
 *   loss      mean cross-entropy of the next token, plus the firing-rate regulariser
 *                 L_rate = lambda * mean_i [ (relu(R_i - R_hi) + relu(R_lo - R_i)) / 10 Hz ]^2
 *             over each neuron's rate R_i (Hz) in the batch, keeping rates in [R_lo, R_hi].
 *
 * Learning (srnn_config.mode):
 *   BPTT       surrogate-gradient backpropagation through time: in the backward pass
 *              dH/dv is replaced by the fast sigmoid 1 / (slope |v - theta| + 1)^2, which
 *              is the exact derivative of the smooth step sigma(x) = x / (1 + slope |x|);
 *              the gradient also flows through the soft reset (as in the reference).
 *              AdamW from optim.h updates W_in, W_rec, W_out, b_out.  LIF only.
 *   reservoir  W_in and W_rec stay random; the readout is fitted in closed form by ridge
 *              regression onto one-hot next tokens (Cholesky in double).  Its outputs
 *              estimate P(next), so they are turned into log-probabilities with a floor
 *              fitted on the first training sentences: logits = ln(max(y^, 0) + floor).
 *              LIF, Izhikevich and AdEx neurons.
 *   STDP       (optional, before either) pair-based STDP on W_in with exponential traces;
 *              the K steps of token w count as K presynaptic spikes of input channel w.
 *
 * Neuron models: LIF is the trainable one.  Izhikevich (RS) and AdEx (adapting) neurons
 * (neuron.h, integrated with nrn_step) can be simulated, recorded and used as reservoirs:
 * the dimensionless drive d (threshold units) becomes the model's current d * I_unit with
 * I_unit = 20 "pA" (Izhikevich, C = 1: 20 mV per ms) and 5.62 nA (AdEx: 20 mV over C = 281
 * pF in 1 ms) -- one unit of drive for one step moves a resting cell about to threshold.
 *
 * Speed (lesson 09, `tinybrain bench snn-train`): spikes are sparse, so the forward
 * pass is event-driven (W_rec^T s = the sum of the rows of the neurons that spiked) and
 * the weight gradient dW_rec += s_{t-1} (x) dv_t touches only those rows; the dense part
 * of the backward, ds_{t-1} = W_rec dv_t, runs as a small matrix product over the batch
 * elements a thread owns (the kernel table's rows_add, rows_acc, matvecs).  The batch
 * is split over the thread pool; gradients are reduced in batch order (threads.h,
 * rule 2).
 */
#ifndef TB_SRNN_H
#define TB_SRNN_H

#include "io.h"
#include "optim.h"
#include "rng.h"
#include "tb.h"
#include "tokenizer.h"
#include <stdint.h>

typedef enum { SRNN_LIF = 0, SRNN_IZH = 1, SRNN_ADEX = 2 } srnn_neuron;
typedef enum { SRNN_BPTT = 0, SRNN_RESERVOIR = 1 } srnn_mode;
typedef enum { SRNN_COUNT = 0, SRNN_TRACE = 1 } srnn_readout;

/* ---- defaults and limits (the one table: srnn_default_config, srnn_check_config,
 * srnn_default_train_opts and `tinybrain train-snn --help`; lesson 09 uses them) ---- */
#define SRNN_DEF_NEURONS          256
#define SRNN_DEF_STEPS_PER_TOKEN  8       /* K */
#define SRNN_DEF_DT_MS            1
#define SRNN_DEF_TAU_M_MS         9.49    /* beta = exp(-dt / tau_m) = 0.9 */
#define SRNN_DEF_THETA            1
#define SRNN_DEF_SLOPE            10
#define SRNN_DEF_NEURON           SRNN_LIF
#define SRNN_DEF_READOUT          SRNN_COUNT
#define SRNN_DEF_TAU_TRACE_MS     20
#define SRNN_DEF_DALE             0
#define SRNN_DEF_FRAC_INH         0.2
#define SRNN_DEF_P_CONN           1       /* dense */
#define SRNN_DEF_W_IN_STD         0.5
#define SRNN_DEF_W_REC_GAIN       1
#define SRNN_DEF_NOISE_HZ         20      /* Poisson background input per neuron */
#define SRNN_DEF_NOISE_W          0.5
#define SRNN_DEF_MODE             SRNN_BPTT
#define SRNN_DEF_SEED             1
#define SRNN_DEF_RATE_LAMBDA      1       /* the rate regulariser (srnn_train_opts) */
#define SRNN_DEF_RATE_LO_HZ       1
#define SRNN_DEF_RATE_HI_HZ       50
#define SRNN_DEF_RIDGE            1e-3    /* the reservoir's ridge penalty */
#define SRNN_MAX_VOCAB            1000000
#define SRNN_MAX_NEURONS          65536
#define SRNN_MAX_STEPS_PER_TOKEN  1000

typedef struct {
    int vocab_size;        /* V (0: set from the tokenizer) */
    int n_neurons;         /* N */
    int steps_per_token;   /* K */
    double dt_ms;          /* simulation step, ms */
    double tau_m_ms;       /* membrane time constant, ms; beta = exp(-dt/tau_m) */
    double theta;          /* threshold (dimensionless) */
    double slope;          /* surrogate slope */
    srnn_neuron neuron;
    srnn_readout readout;
    double tau_trace_ms;   /* trace readout time constant, ms */
    int dale;              /* 1: sign-constrained E/I weights */
    double frac_inh;       /* fraction of inhibitory neurons */
    double p_conn;         /* recurrent connection probability (1: dense) */
    double w_in_std;       /* W_in ~ N(0, w_in_std) */
    double w_rec_gain;     /* W_rec ~ N(0, gain / sqrt(N p_conn)) */
    double noise_hz;       /* Poisson background rate per neuron, Hz (0: off) */
    double noise_w;        /* jump of v per background spike */
    srnn_mode mode;        /* how it was trained (informational) */
    double prob_floor;     /* 0: logits = W_out f + b_out (softmax readout).  > 0 (the
                              reservoir's calibrated readout): the linear map estimates
                              probabilities, logits = ln(max(W_out f + b_out, 0) + prob_floor) */
    uint64_t seed;         /* initialisation */
} srnn_config;

/* Parameters: one flat buffer (and a twin for gradients) with the layout below. */
typedef struct {
    float *w_in;   /* [V, N]  input current of each token */
    float *w_rec;  /* [N, N]  [pre, post]; raw weights (see Dale's law above) */
    float *w_out;  /* [V, N]  readout */
    float *b_out;  /* [V] */
} srnn_params;

/* Work counters for the energy estimate (lesson 15).  Every simulated step adds to
 * them; srnn_counters_reset() zeroes them. */
typedef struct {
    long long tokens;          /* tokens presented */
    long long steps;           /* simulation steps (tokens x K) */
    long long neuron_updates;  /* steps x N */
    long long spikes;          /* recurrent-neuron spikes */
    long long syn_events;      /* recurrent synaptic events: each spike x its fan-out (nonzero W_eff row) */
    long long readout_events;  /* readout synaptic events: spikes x V (count) -- the readout sees every spike */
    long long input_events;    /* input current additions: steps x N (the token's column is dense) */
} srnn_counters;

typedef struct {
    srnn_config cfg;
    int V, N, K;
    int n_exc;                 /* neurons 0..n_exc-1 excitatory, the rest inhibitory */
    size_t n_params;
    float *params_mem, *grads_mem;
    srnn_params p, g;
    unsigned char *decay_mask; /* [n_params] 1 for the weight matrices */
    float *mask;               /* [N, N] 1 = synapse exists (NULL: dense) */
    float *w_eff;              /* [N, N] effective recurrent weights (refreshed by srnn_refresh) */
    int *fanout;               /* [N] nonzero entries of each W_eff row */
    float beta, theta, slope, trace_a;
    double noise_p;            /* background spike probability per neuron per step */
    uint64_t eval_seed;        /* noise seed used by the scoring calls */
    int smooth;                /* tests only: s = sigma(v - theta) instead of H (dense path) */
    int dense;                 /* tests only: force the dense forward/backward path */
    srnn_counters ctr;
    void *work;                /* training scratch (private) */
} srnn_model;

/* ---- config ---------------------------------------------------------------------- */
void srnn_default_config(srnn_config *c);
/* Every field checked; err names the bad one ("--neurons 0: must be >= 2"). */
int  srnn_check_config(const srnn_config *c, char *err);
const char *srnn_neuron_name(srnn_neuron n);     /* "lif" | "izh" | "adex" */
const char *srnn_mode_name(srnn_mode m);         /* "bptt" | "reservoir" */
const char *srnn_readout_name(srnn_readout r);   /* "count" | "trace" */
int  srnn_parse_neuron(const char *s, srnn_neuron *out);  /* 0 / -1 */
int  srnn_parse_mode(const char *s, srnn_mode *out);
int  srnn_parse_readout(const char *s, srnn_readout *out);

/* ---- the model ------------------------------------------------------------------- */
/* Allocate and draw the initial weights from cfg->seed (readout starts at 0). */
int  srnn_init(srnn_model *m, const srnn_config *cfg, char *err);
void srnn_free(srnn_model *m);
/* Recompute w_eff (Dale's law, mask) and fan-outs after the raw weights changed
 * (training calls it; call it after editing m->p by hand). */
void srnn_refresh(srnn_model *m);
/* 1 if neuron i is inhibitory (only meaningful with Dale's law; 0 otherwise). */
int  srnn_is_inhibitory(const srnn_model *m, int i);
/* Spike count in a token's window -> rate in Hz: rate = count * srnn_hz_per_count(m). */
double srnn_hz_per_count(const srnn_model *m);
void srnn_counters_reset(srnn_model *m);
/* a += b, field by field. */
void srnn_counters_add(srnn_counters *a, const srnn_counters *b);

/* ---- BPTT training (LIF) ----------------------------------------------------------- */
typedef struct {
    double rate_lambda;    /* strength of the rate regulariser */
    double rate_lo_hz;     /* band of allowed rates, Hz */
    double rate_hi_hz;
} srnn_train_opts;
void srnn_default_train_opts(srnn_train_opts *o);

typedef struct {
    double ce;             /* mean cross-entropy, nats/token */
    double rate_loss;      /* L_rate */
    double mean_rate_hz;   /* over neurons, steps and batch */
    long long spikes;
} srnn_batch_stats;

/* Forward over inputs[B*T] (B windows of T tokens, each from rest; noise drawn from
 * noise_seed when cfg.noise_hz > 0) and, when targets != NULL, the loss; with
 * backward != 0 also the backward pass: m->grads_mem = d(ce + L_rate)/d(params). */
int  srnn_forward_backward(srnn_model *m, const int *inputs, const int *targets, int B, int T,
                           const srnn_train_opts *o, uint64_t noise_seed, int backward,
                           srnn_batch_stats *st, char *err);

/* ---- reservoir and STDP ------------------------------------------------------------- */
/* Solve (G + lambda I') W = R in double by Cholesky, G [n,n] symmetric positive
 * semi-definite, R [n,m]; I' is the identity except for the last row/column when
 * no_penalty_last (the bias).  W [n,m] out.  Fails on a non-positive pivot. */
int  srnn_ridge_solve(const double *G, const double *R, int n, int m, double lambda,
                      int no_penalty_last, double *W, char *err);

typedef struct {
    double ridge;          /* lambda, relative to mean(diag G) (SRNN_DEF_RIDGE) */
    long max_tokens;       /* fit on at most this many train tokens (0: all) */
} srnn_reservoir_opts;
/* Fit W_out, b_out by ridge regression on the features of ids[n] (sentences separated
 * by eos, each run from rest after an eos; eos < 0: one continuous run), then
 * cfg.prob_floor (see srnn_config).  *fit_nll gets the training NLL after calibration (may be NULL). */
int  srnn_fit_reservoir(srnn_model *m, const int *ids, long n, int eos, const srnn_reservoir_opts *o,
                        double *fit_nll, char *err);

typedef struct {
    double a_plus, a_minus;      /* amplitudes (weight units)    default 0.01, 0.0105 */
    double tau_plus, tau_minus;  /* ms                           default 20, 20 */
    double w_max;                /* |W_in| clipped to this        default 2 */
} srnn_stdp_opts;
void srnn_default_stdp_opts(srnn_stdp_opts *o);
/* Pair-based STDP on W_in while the network runs over ids[n] (continuously; noise from
 * seed).  After each token every neuron's incoming W_in column is rescaled to its
 * initial L2 norm (synaptic scaling keeps the neurons from saturating).  *mean_abs_dw
 * gets the mean |change| of W_in (may be NULL). */
int  srnn_stdp_pretrain(srnn_model *m, const int *ids, long n, const srnn_stdp_opts *o, uint64_t seed,
                        double *mean_abs_dw, char *err);

/* ---- scoring and recording --------------------------------------------------------- */
/* Per-token NLL (nats) of ids[n]: ids[0] is left context only (nll[0] = 0),
 * nll[i] = -ln P(ids[i] | ids[0..i-1]), the network starting from rest.  Deterministic:
 * background noise (if the model has any) comes from m->eval_seed. */
int  srnn_sequence_nll(srnn_model *m, const int *ids, int n, float *nll, char *err);
/* The readout's logits behind srnn_sequence_nll: logits[n-1, V], row t scores the token
 * after ids[0..t] (softmax(row t)[ids[t+1]] = exp(-nll[t+1])).  The ideal observer's loss
 * split needs the whole distribution, not only the probability of the token that came. */
int  srnn_sequence_logits(srnn_model *m, const int *ids, int n, float *logits, char *err);
/* A whole stream: with eos >= 0 every sentence is scored on its own with the eos in
 * front (like srnn_sequence_nll on [eos, sentence]); sentences are spread over the
 * thread pool.  eos < 0: one continuous run, nll[0] = NAN. */
int  srnn_stream_nll(srnn_model *m, const int *ids, long n, int eos, float *nll, char *err);
/* Run ids[n] from rest and write every neuron's spike count in every token's window:
 * counts[n, N] (multiply by srnn_hz_per_count for Hz).  Background noise at noise_hz
 * (< 0: the model's own rate and weight) drawn from noise_seed: repeated trials with
 * different seeds differ.  Adds to m->ctr. */
int  srnn_record(srnn_model *m, const int *ids, int n, uint64_t noise_seed, double noise_hz, float *counts,
                 char *err);
/* The spike trains behind srnn_record (the virtual scanner's neural drive, scan.h):
 * spikes[n*K, N], row t*K + k = which neurons spiked (1) or not (0) at step k of token t
 * (one step = dt_ms).  The same seed and noise give the same spikes as srnn_record, whose
 * counts are these rows summed over each token's K steps.  The model is only read (no
 * counters), so calls may run in parallel. */
int  srnn_spikes(const srnn_model *m, const int *ids, int n, uint64_t noise_seed, double noise_hz, float *spikes,
                 char *err);

/* ---- activation patching (lesson 18, `patch`; srnn_patch.c) ----------------------------
 * The state of the network after a token: per neuron its membrane potential, its spike
 * in the last step, its readout trace and its spike count in the token's window
 * (srnn_state_size floats: v[N] | s[N] | z[N] | counts[N]). */
size_t srnn_state_size(const srnn_model *m);
/* Run ids[n] from rest with the scoring noise (the same background for every call), and
 * when src and mask are given, after token t (every t when pos < 0, else t == pos) give
 * the neurons in mask[N] the state src[t] holds.  states[n, srnn_state_size] (may be
 * NULL) receives the state after each token; logits[V] the readout after the last one.
 * LIF networks only; the model is only read. */
int  srnn_patch_run(const srnn_model *m, const int *ids, int n, const float *src, const unsigned char *mask,
                    int pos, float *states, float *logits, char *err);

/* ---- checkpoints (kind "srnn") -------------------------------------------------------- */
/* Config keys: vocab_size n_neurons steps_per_token dt_ms tau_m_ms theta slope neuron
 * readout tau_trace_ms dale frac_inh p_conn w_in_std w_rec_gain noise_hz noise_w mode
 * seed; tensors w_in w_rec w_out b_out (+ mask when sparse). */
int  srnn_to_ckpt(const srnn_model *m, tb_ckpt *c, char *err);
int  srnn_from_ckpt(srnn_model *m, const tb_ckpt *c, char *err);
/* Model + tokenizer in one file (atomic). */
int  srnn_save_file(const srnn_model *m, const tb_tokenizer *tok, const char *path, char *err);
/* Load an "srnn" checkpoint; tok and ck may be NULL (ck: keep the container for extra
 * keys; the caller frees it).  Errors name the file. */
int  srnn_load_file(const char *path, srnn_model *m, tb_tokenizer *tok, tb_ckpt *ck, char *err);

#endif
