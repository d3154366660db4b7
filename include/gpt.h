/* gpt.h -- a tiny GPT-style decoder: the model a student reads in one sitting.
 * Lessons 06 (neuron, MLP, backprop), 07 (attention, the block) and 08 (training).
 *
 * The model (notation of the lessons; B batch, T positions, C = d_model, NH heads,
 * hs = C/NH, H = mlp_ratio*C hidden units, V vocabulary, L blocks):
 *
 *   x_0      = wte[tok] + pos[t]                       (learned wpe or fixed sinusoids
 *                                                       a pe[t], a = pos_scale)
 *   a_l      = attn(norm1(x_l))                        (causal multi-head self-attention)
 *   r_l      = x_l + a_l                               (residual stream)
 *   m_l      = act(norm2(r_l) fc^T + b) fcproj^T + b   (MLP, gelu|relu)
 *   x_{l+1}  = r_l + m_l
 *   (block l skipped, gpt_skip: x_{l+1} = x_l; the logit lens reads normf(x_l) W^T)
 *   logits   = normf(x_L) W^T                          (W = wte when tied, else lm_head)
 *   loss     = mean over tokens of -ln softmax(logits)[next token]
 *
 *   attn(u): q,k,v = u qkvw^T + qkvb  (split into NH heads of size hs)
 *            A[h,t,s] = softmax_s( q_t . k_s / sqrt(hs) ),  s <= t  (causal)
 *            y_t = sum_s A[h,t,s] v_s ;  a = y attprojw^T + attprojb
 *
 * Discipline (after Karpathy's llm.c): every layer is a *_forward / *_backward pair over
 * flat row-major float arrays with its shapes in a comment; all parameters live in one
 * contiguous buffer addressed by a struct of pointers (gpt_params), the gradients in a
 * twin buffer, the activations in one more.  The heavy products go through the kernel
 * table tb_kern (kernels.h); rows, heads and batch items are spread over the thread
 * pool, keeping the determinism contract (threads.h, rules 2-3).
 *
 * ---- Reading the insides (activation taps; `record`, lesson 13) -----------------------
 * After gpt_forward(m, ids, targets, B, T, ...) the caller may read:
 *   gpt_tap(m, GPT_TAP_RESID, l, &w)        l = 0: embedding output x_0; l = 1..L: x_l, the
 *                                           residual stream after block l.      [B,T,C]
 *   gpt_tap(m, GPT_TAP_ATTN_OUT, l, &w)     block l's attention output a_l (after the
 *                                           output projection), l = 0..L-1      [B,T,C]
 *   gpt_tap(m, GPT_TAP_MLP_HIDDEN, l, &w)   block l's MLP hidden units after the
 *                                           activation, l = 0..L-1              [B,T,k'H]
 *                                           (with experts: the token's k slots in turn)
 *   gpt_tap(m, GPT_TAP_ATTN_WEIGHTS, l, &w) block l's attention weights A        [B,NH,T,T]
 * `w` receives the row width (C, C, k'H or T).  The pointers stay valid until the next
 * forward pass.
 *
 * "The hidden state of layer l at the last token of a sentence": encode the sentence with
 * "." in front (the corpus convention: a sentence is read with "." as its left context),
 * ids = [".", w1, ..., wn], run gpt_forward(m, ids, NULL, 1, n+1, NULL, err), then
 *     const float *x = gpt_tap(m, GPT_TAP_RESID, l, &C) + (size_t)n * C;   // position n = wn
 * or let gpt_pooled_states() do it for every layer at once with GPT_POOL_LAST or
 * GPT_POOL_MEAN (mean over the sentence's own positions 1..n, skipping the "." context).
 *
 * ---- Ablations (the localizer, lesson 14) --------------------------------------------
 * gpt_ablate(m, GPT_ABL_RESID, l, units, n) zeroes residual-stream units of x_l (l = 0 is
 * the embedding, l = 1..L after block l) in every later forward pass; GPT_ABL_MLP zeroes
 * MLP hidden units of block l; GPT_ABL_HEAD zeroes whole attention heads of block l (their
 * y before the output projection).  Calls accumulate; gpt_ablate_clear() restores the
 * intact model.  The backward pass respects the masks (an ablated unit passes no gradient).
 *
 * ---- The tinkerer's switches (lesson 18) ---------------------------------------------
 * Mixture of experts (cfg.moe_experts = E > 0): every block's MLP becomes E expert MLPs of
 * the same size and a router (gpt_moe.c):
 *   p_n     = softmax(u_n Wr^T)               u_n = norm2(r_l) at token n, Wr [E, C]
 *   experts e_1..e_k = the k largest p_n (k = moe_top_k = 1 or 2; ties to the lower index)
 *   gates   k = 1: g_1 = p_{e1} (Switch);  k = 2: g_j = p_{ej} / (p_{e1} + p_{e2})
 *   m_n     = sum over the token's kept slots j of g_j expert_{ej}(u_n)
 *   L_aux   = moe_aux * E * sum_e f_e P_e      (load balancing, Switch Transformer eq. 4)
 *             f_e = share of the k N routing choices that picked e, P_e = mean_n p_n[e]
 * Capacity (training forwards only, m->training = 1): expert e takes at most
 * ceil(moe_capacity * k * N / E) of the N tokens of a batch, first choices before second,
 * in token order; a slot over capacity is dropped (its token skips that expert: the
 * residual stream carries it).  Scoring never drops a token, so a sentence's score does
 * not depend on what else is in its batch.  The objective is the mean cross-entropy plus
 * L_aux (m->aux_loss); mean_loss stays the cross-entropy.
 * Activation sparsity (cfg.mlp_topk = K > 0): after the activation only the K largest
 * hidden units of each token (each expert slot) are kept, the rest set to 0 (k-winners-
 * take-all); the gradient flows through the kept units only.
 * Work counters (gpt_usage_enable): per input token id, how many hidden units were
 * nonzero and which expert was chosen, over the scored positions of every forward.
 * Layer skipping (gpt_skip) and activation patching (m->patch, gpt_patch) are inference
 * tools of `eval --skip-layers/--lens` and `patch`.
 */
#ifndef TB_GPT_H
#define TB_GPT_H

#include "io.h"
#include "optim.h"
#include "rng.h"
#include "tb.h"
#include <stddef.h>
#include <stdint.h>

typedef enum { GPT_ACT_GELU = 0, GPT_ACT_RELU = 1 } gpt_act;
typedef enum { GPT_NORM_LAYER = 0, GPT_NORM_RMS = 1 } gpt_norm;
typedef enum { GPT_POS_LEARNED = 0, GPT_POS_SINUSOIDAL = 1 } gpt_pos;

/* ---- defaults and limits (the one table: gpt_default_config, gpt_check_config and
 * `tinybrain train --help`; lesson 08 uses them) ------------------------------------- */
#define GPT_DEF_CTX        32     /* T_max */
#define GPT_DEF_N_LAYER    2      /* L */
#define GPT_DEF_N_HEAD     4      /* NH */
#define GPT_DEF_D_MODEL    64     /* C */
#define GPT_DEF_MLP_RATIO  4      /* H = 4 C */
#define GPT_DEF_ACT        GPT_ACT_GELU
#define GPT_DEF_NORM       GPT_NORM_LAYER
#define GPT_DEF_POS        GPT_POS_LEARNED
#define GPT_DEF_TIED       1      /* the LM head reuses wte */
#define GPT_DEF_SEED       1
#define GPT_MAX_VOCAB      1048576
#define GPT_MAX_CTX        4096
#define GPT_MAX_LAYERS     64
#define GPT_MAX_D_MODEL    4096
#define GPT_MAX_MLP_RATIO  16
#define GPT_DEF_MOE_EXPERTS 0     /* E: 0 = the dense MLP */
#define GPT_DEF_MOE_TOP_K  1      /* k experts per token */
#define GPT_DEF_MOE_CAPACITY 1.25 /* capacity factor (training batches; 0 = no limit) */
#define GPT_DEF_MOE_AUX    0.01   /* alpha of the load-balancing loss */
#define GPT_DEF_MLP_TOPK   0      /* K hidden units kept per token (0 = all) */
#define GPT_DEF_POS_SCALE  0.0283 /* amplitude of the sinusoids: 0.02 sqrt(2), the s.d. of a learned table at init */
#define GPT_MAX_EXPERTS    64

typedef struct {
    int vocab_size;   /* V */
    int ctx;          /* T_max: longest context (positions 0..ctx-1) */
    int n_layer;      /* L */
    int n_head;       /* NH (must divide d_model) */
    int d_model;      /* C */
    int mlp_ratio;    /* H = mlp_ratio * C */
    gpt_act act;
    gpt_norm norm;
    gpt_pos pos;
    int tied;         /* 1: the LM head reuses wte */
    uint64_t seed;    /* initialisation */
    int moe_experts;  /* E experts per MLP (0: dense) */
    int moe_top_k;    /* k = 1 | 2 */
    double moe_capacity; /* capacity factor (0: no limit) */
    double moe_aux;   /* alpha, weight of L_aux */
    int mlp_topk;     /* K hidden units kept per token (0: all) */
    double pos_scale; /* amplitude of the sinusoids (sinusoidal positions only) */
} gpt_config;

/* Parameters (and, with the same layout, their gradients).  Shapes (E' = max(E, 1); with
 * experts the four MLP tensors get an expert axis after L: fcw [L, E, H, C], ...): */
#define GPT_NPARAM 18
typedef struct {
    float *wte;      /* [V, C]    token embedding (also the LM head when tied) */
    float *wpe;      /* [T, C]    learned positions (size 0 when sinusoidal) */
    float *ln1w;     /* [L, C] */
    float *ln1b;     /* [L, C]    (size 0 for rmsnorm) */
    float *qkvw;     /* [L, 3C, C] */
    float *qkvb;     /* [L, 3C] */
    float *attprojw; /* [L, C, C] */
    float *attprojb; /* [L, C] */
    float *ln2w;     /* [L, C] */
    float *ln2b;     /* [L, C]    (size 0 for rmsnorm) */
    float *fcw;      /* [L, E', H, C] */
    float *fcb;      /* [L, E', H] */
    float *fcprojw;  /* [L, E', C, H] */
    float *fcprojb;  /* [L, E', C] */
    float *lnfw;     /* [C] */
    float *lnfb;     /* [C]       (size 0 for rmsnorm) */
    float *lm_head;  /* [V, C]    (size 0 when tied) */
    float *moe_router; /* [L, E, C] Wr (size 0 when dense) */
} gpt_params;

/* Activations of one forward pass, for the current B and T (k' = k with experts, else 1). */
typedef struct {
    float *encoded;   /* [B,T,C]     x_0 */
    float *ln1;       /* [L,B,T,C] */
    float *ln1_mean;  /* [L,B,T] */
    float *ln1_rstd;  /* [L,B,T] */
    float *qkv;       /* [L,B,T,3C] */
    float *atty;      /* [L,B,T,C]   heads' outputs before the projection */
    float *att;       /* [L,B,NH,T,T] attention weights (0 above the diagonal) */
    float *attproj;   /* [L,B,T,C]   a_l */
    float *residual2; /* [L,B,T,C]   r_l */
    float *ln2;       /* [L,B,T,C] */
    float *ln2_mean;  /* [L,B,T] */
    float *ln2_rstd;  /* [L,B,T] */
    float *fch;       /* [L,B,T,k',H] MLP pre-activation (per expert slot) */
    float *fch_act;   /* [L,B,T,k',H] MLP hidden units */
    float *fcproj;    /* [L,B,T,C]   m_l */
    float *residual3; /* [L,B,T,C]   x_{l+1} */
    float *lnf;       /* [B,T,C] */
    float *lnf_mean;  /* [B,T] */
    float *lnf_rstd;  /* [B,T] */
    float *logits;    /* [B,T,V] */
    float *probs;     /* [B,T,V] */
    float *losses;    /* [B,T]       -ln p(target); 0 where target < 0 */
    float *moe_probs; /* [L,B,T,E]   router probabilities p */
    float *moe_gate;  /* [L,B,T,k]   gates g (0 for a dropped slot) */
    float *moe_y;     /* [L,B,T,k,C] each slot's expert output before its gate */
} gpt_acts;

/* Gradient scratch for the backward pass (one layer's worth, reused per block). */
typedef struct {
    float *dresidual; /* [B,T,C] running gradient of the residual stream */
    float *dln;       /* [B,T,C] */
    float *dqkv;      /* [B,T,3C] */
    float *datty;     /* [B,T,C] */
    float *datt;      /* [B,NH,T,T] */
    float *dfch;      /* [B,T,H] */
    float *dfch_act;  /* [B,T,H] */
    float *dlogits;   /* [B,T,V] */
    float *moe_x, *moe_pre, *moe_hid, *moe_dh, *moe_y;  /* [B*T*k, C|H|H|H|C] expert rows */
    float *moe_dp;    /* [B,T,E] */
} gpt_grad_acts;

/* Work counters (gpt_usage_enable), summed over the scored positions (target >= 0) of
 * every forward pass, by the token read at the position. */
typedef struct {
    double *count;    /* [V]       positions */
    double *blocks;   /* [L, V]    positions where block l ran (not skipped) */
    double *active;   /* [L, V]    nonzero MLP hidden units (all slots) */
    double *slots;    /* [L, V]    MLP slots that ran (dense: 1 per position; MoE: up to k) */
    double *expert;   /* [L, V, E] first-choice expert (MoE; NULL when dense) */
} gpt_usage;

/* Activation patching (`patch`, lesson 18): during a forward pass, the values at one site
 * are overwritten with src (e.g. a clean run's tap), after the layer computed them. */
typedef enum { GPT_PATCH_RESID, GPT_PATCH_ATTN_Y, GPT_PATCH_MLP } gpt_patch_site;
typedef struct {
    gpt_patch_site site;  /* RESID: x_l (l = 0..L); ATTN_Y: heads' outputs before the
                             projection in block l (head h = units h*hs..(h+1)*hs-1);
                             MLP: hidden units of block l (dense MLP only) */
    int layer;
    const int *pos;       /* [B] the position patched in each row (-1: none); NULL: all */
    const unsigned char *units;  /* [width] 1 = patched; NULL: every unit */
    const float *src;     /* [B, T, width] the values written */
} gpt_patch;

/* Phase marks for a profiler (bench gpt --breakdown): gpt_forward and gpt_backward
 * call on_phase(ctx, phase, layer) as each phase begins (layer -1 outside the blocks)
 * and GPT_PHASE_END when they return.  NULL (the default): nothing is called. */
typedef enum {
    GPT_PHASE_EMBED_FWD, GPT_PHASE_LAYER_FWD, GPT_PHASE_HEAD_FWD,
    GPT_PHASE_HEAD_BWD, GPT_PHASE_LAYER_BWD, GPT_PHASE_EMBED_BWD, GPT_PHASE_END
} gpt_phase;

typedef struct {
    gpt_config cfg;
    size_t param_sizes[GPT_NPARAM];
    size_t n_params;
    float *params_mem;
    gpt_params params;
    float *grads_mem;
    gpt_params grads;
    unsigned char *decay_mask;    /* [n_params] 1 for matrices (weight decay), 0 otherwise */
    float *pos_table;             /* [ctx, C] sinusoids (NULL when learned) */

    int B, T;                     /* shape of the last forward pass */
    size_t cap_bt, cap_btt;       /* what the activation buffers were sized for */
    float *acts_mem;
    gpt_acts acts;
    float *gacts_mem;
    gpt_grad_acts gacts;
    float *scratch;               /* per-task partial sums for norm backward */
    int *inputs, *targets;        /* copies of the last batch [B*T] (targets -1: none) */
    int has_targets;
    float mean_loss;              /* of the last forward with targets */
    int n_targets;

    float *abl_resid;             /* [(L+1), C] 1 = keep, 0 = ablated; NULL = intact */
    float *abl_mlp;               /* [L, H] */
    float *abl_head;              /* [L, NH] */

    int training;                 /* 1: MoE capacity applies (set by the training loop) */
    int *moe_expert;              /* [L,B,T,k] each slot's expert e (dropped: -1 - e) */
    float aux_loss;               /* L_aux of the last forward (0 when dense) */
    unsigned char *skip;          /* [L] 1 = block bypassed (gpt_skip); NULL = none */
    const gpt_patch *patch;       /* NULL: no patching */
    gpt_usage usage;              /* counters (NULL arrays: off) */

    void (*on_phase)(void *ctx, gpt_phase phase, int layer); /* see gpt_phase (NULL: none) */
    void *on_phase_ctx;
} gpt_model;

/* ---- config ---------------------------------------------------------------------- */
/* Defaults of `tinybrain train` (vocab_size left 0: set from the tokenizer). */
void gpt_default_config(gpt_config *c);
/* Checks every field; err names the bad one ("n_head 3 does not divide d_model 64"). */
int  gpt_check_config(const gpt_config *c, char *err);
const char *gpt_act_name(gpt_act a);     /* "gelu" | "relu" */
const char *gpt_norm_name(gpt_norm n);   /* "layernorm" | "rmsnorm" */
const char *gpt_pos_name(gpt_pos p);     /* "learned" | "sinusoidal" */
/* k' and E' of the shapes above (1 for a dense MLP). */
int  gpt_slots(const gpt_config *c);
int  gpt_n_experts(const gpt_config *c);
int  gpt_parse_act(const char *s, gpt_act *out);    /* 0 / -1 */
int  gpt_parse_norm(const char *s, gpt_norm *out);
int  gpt_parse_pos(const char *s, gpt_pos *out);

/* ---- the model ------------------------------------------------------------------- */
/* Allocate and initialise: weights ~ N(0, 0.02), residual projections ~ N(0, 0.02/sqrt(2L)),
 * biases 0, norm gains 1; drawn from cfg->seed.  Sinusoids are scaled by pos_scale: at
 * amplitude 1 (each component's s.d. 0.71) they swamp the N(0, 0.02) token embeddings:
 * 1200 steps on toyworld end 0.31 nats above the floor with minimal pairs at chance (a
 * learned table: 0.02); the default 0.0283 gives them the s.d. of a learned table at
 * init (lesson 18). */
int  gpt_init(gpt_model *m, const gpt_config *cfg, char *err);
void gpt_free(gpt_model *m);
/* Number of parameters (the LM head counted once when tied). */
size_t gpt_num_params(const gpt_model *m);
/* Names of the parameter tensors in gpt_params order ("wte", "wpe", ...). */
extern const char *const gpt_param_names[GPT_NPARAM];

/* Forward pass over inputs[B*T] (token ids, B rows of T <= ctx positions).  targets[B*T]
 * may be NULL (no loss) or hold the next token ids, -1 where a position is not scored.
 * *mean_loss (may be NULL) gets the mean -ln p over scored positions. */
int  gpt_forward(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                 float *mean_loss, char *err);
/* Backward pass of the last forward (which must have had targets): overwrites m->grads
 * with d(mean_loss)/d(params). */
int  gpt_backward(gpt_model *m, char *err);

/* ---- taps and ablations (see the top of this file) --------------------------------- */
typedef enum { GPT_TAP_RESID, GPT_TAP_ATTN_OUT, GPT_TAP_MLP_HIDDEN, GPT_TAP_ATTN_WEIGHTS } gpt_tap_site;
/* NULL when layer is out of range or no forward pass has run. */
const float *gpt_tap(const gpt_model *m, gpt_tap_site site, int layer, int *width);

typedef enum { GPT_POOL_MEAN = 0, GPT_POOL_LAST = 1 } gpt_pool;
/* Run ids[n] (ids[0] is left context, normally ".") and write the residual stream of
 * every layer 0..L pooled over positions 1..n-1 into out[(L+1) * C]
 * (GPT_POOL_LAST: position n-1).  n must be 2..ctx. */
int  gpt_pooled_states(gpt_model *m, const int *ids, int n, gpt_pool pool, float *out, char *err);

typedef enum { GPT_ABL_RESID, GPT_ABL_MLP, GPT_ABL_HEAD } gpt_ablate_site;
/* GPT_ABL_MLP: dense MLPs only (an expert's units are not one population). */
int  gpt_ablate(gpt_model *m, gpt_ablate_site site, int layer, const int *units, int n, char *err);
void gpt_ablate_clear(gpt_model *m);

/* Bypass blocks layers[n] (0..L-1) in every later forward (x_{l+1} = x_l); n = 0 clears.
 * The logit lens at exit layer e is gpt_skip of blocks e..L-1. */
int  gpt_skip(gpt_model *m, const int *layers, int n, char *err);
/* Start (or restart from zero) the work counters of gpt_usage; gpt_usage_off stops them. */
int  gpt_usage_enable(gpt_model *m, char *err);
void gpt_usage_off(gpt_model *m);

/* ---- scoring and sampling ---------------------------------------------------------- */
/* Per-token negative log-likelihood (nats) of ids[n]: ids[0] is left context only
 * (nll[0] = 0); nll[i] = -ln P(ids[i] | ids[0..i-1]) for i = 1..n-1.  Sequences longer
 * than the context are scored with windows overlapping by half the context. */
int  gpt_sequence_nll(gpt_model *m, const int *ids, int n, float *nll, char *err);
/* Score a whole token stream (e.g. the validation split) in batches of B windows:
 * nll[i] = -ln P(ids[i] | left context).  With eos >= 0 (sentence corpora) every sentence
 * is scored on its own with the eos before it as its left context (an eos is put in
 * front of ids[0]): the convention of the true floor and of gpt_sequence_nll on
 * [".", sentence].  With eos < 0 nll[0] = NAN and windows overlap by half the context. */
int  gpt_stream_nll(gpt_model *m, const int *ids, long n, int eos, int B, float *nll, char *err);
/* Next token after ids[n] (the last ctx tokens are used): softmax(logits / temperature)
 * restricted to the top_k most likely tokens (top_k <= 0: all); temperature 0 = argmax. */
int  gpt_sample_next(gpt_model *m, const int *ids, int n, double temperature, int top_k,
                     tb_rng *rng, int *next, char *err);

/* ---- checkpoints (kind "gpt") ------------------------------------------------------- */
/* Add the config (keys: vocab_size ctx n_layer n_head d_model mlp_ratio act norm pos
 * tied seed; then only where they apply: moe_experts moe_top_k moe_capacity moe_aux
 * with experts, mlp_topk when > 0, pos_scale with sinusoids) and one tensor per
 * parameter to c.  A checkpoint without the later keys is a dense model (and, with
 * sinusoids, amplitude 1: the table of checkpoints written before pos_scale existed). */
int  gpt_to_ckpt(const gpt_model *m, tb_ckpt *c, char *err);
/* Build a model from a checkpoint's config and tensors (validated). */
int  gpt_from_ckpt(gpt_model *m, const tb_ckpt *c, char *err);
int  gpt_config_from_ckpt(gpt_config *cfg, const tb_ckpt *c, char *err);

/* ---- layers (public so tests can check each against finite differences) ----------- */
/* out[B,T,C] = wte[inp[b,t]] + pos[t]   (pos: learned wpe[T,C] or the sinusoid table) */
void encoder_forward(float *out, const int *inp, const float *wte, const float *pos,
                     int B, int T, int C);
/* dwte[V,C] += ..., dwpe[T,C] += ... (dwpe NULL for fixed positions) */
void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp,
                      int B, int T, int C);
/* Sinusoidal positions: pe[t, 2i] = sin(t / 10000^(2i/C)), pe[t, 2i+1] = cos(...). */
void gpt_sinusoids(float *pe, int T, int C);
/* out[N,C] = norm(inp[N,C]) * w (+ b for layernorm); mean[N] unused by rmsnorm. */
void norm_forward(gpt_norm kind, float *out, float *mean, float *rstd, const float *inp,
                  const float *w, const float *b, int N, int C);
/* dinp[N,C] += ..., dw[C] += ..., db[C] += ... ; scratch: GPT_NTASKS*2*C floats. */
void norm_backward(gpt_norm kind, float *dinp, float *dw, float *db, const float *dout,
                   const float *inp, const float *w, const float *mean, const float *rstd,
                   int N, int C, float *scratch);
#define GPT_NTASKS 8
/* out[n] = act(inp[n]);  dinp[n] = act'(inp) * dout (set, not added) */
void act_forward(gpt_act kind, float *out, const float *inp, size_t n);
void act_backward(gpt_act kind, float *dinp, const float *inp, const float *dout, size_t n);
/* Keep the K largest of each row of h[rows, H] (ties to the lower index), zero the rest;
 * scratch: H floats. */
void sparse_topk_rows(float *h, size_t rows, int H, int K, float *scratch);

/* The mixture-of-experts MLP of one block (gpt_moe.c), N tokens of width C, E experts of
 * H hidden units, k slots per token. */
typedef struct {
    int N, C, H, E, k;
    gpt_act act;
    int topk;                 /* cfg.mlp_topk */
    double capacity;          /* 0: no limit (scoring) */
    double aux;               /* alpha */
    const float *wr;          /* [E, C] */
    const float *w1, *b1;     /* [E, H, C], [E, H] */
    const float *w2, *b2;     /* [E, C, H], [E, C] */
} moe_layer;
typedef struct {              /* what the forward saves for the backward */
    float *probs;             /* [N, E] */
    int *expert;              /* [N, k] (dropped: -1 - e) */
    float *gate;              /* [N, k] */
    float *pre, *hid;         /* [N, k, H] */
    float *y;                 /* [N, k, C] */
} moe_saved;
typedef struct { float *x, *pre, *hid, *dh, *y, *dp; } moe_scratch;  /* see gpt_grad_acts */
/* out[N,C] (overwritten) from u[N,C]; returns L_aux. */
double moe_forward(const moe_layer *L, float *out, const float *u, const moe_saved *s, const moe_scratch *w);
/* du[N,C] += ..., dwr, dw1, db1, dw2, db2 += ... from dout[N,C] (the gradient of the
 * cross-entropy part; L_aux's own gradient is added here). */
void moe_backward(const moe_layer *L, float *du, float *dwr, float *dw1, float *db1, float *dw2, float *db2,
                  const float *dout, const float *u, const moe_saved *s, const moe_scratch *w);

/* out[B,T,C] = causal attention of qkv[B,T,3C]; att[B,NH,T,T] saved for backward.
 * head_mask[NH] (may be NULL) multiplies each head's output. */
void attention_forward(float *out, float *att, const float *qkv, const float *head_mask,
                       int B, int T, int C, int NH);
/* dqkv[B,T,3C] = (overwritten) gradient; datt[B,NH,T,T] scratch. */
void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int B, int T, int C, int NH);
/* probs[N,V] = softmax(logits); losses[N] = -ln probs[target] (0 where target < 0). */
void crossentropy_forward(float *probs, float *losses, const float *logits, const int *targets,
                          int N, int V);
/* dlogits[N,V] = (probs - onehot(target)) * dloss (rows with target < 0 get 0). */
void crossentropy_backward(float *dlogits, const float *probs, const int *targets, float dloss,
                           int N, int V);

#endif
