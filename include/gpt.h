/* gpt.h -- a tiny GPT-style decoder: the model a student reads in one sitting.
 * Lessons 06 (neuron, MLP, backprop), 07 (attention, the block) and 08 (training).
 *
 * The model (notation of the lessons; B batch, T positions, C = d_model, NH heads,
 * hs = C/NH, H = mlp_ratio*C hidden units, V vocabulary, L blocks):
 *
 *   x_0      = wte[tok] + pos[t]                       (learned wpe or fixed sinusoids)
 *   a_l      = attn(norm1(x_l))                        (causal multi-head self-attention)
 *   r_l      = x_l + a_l                               (residual stream)
 *   m_l      = act(norm2(r_l) fc^T + b) fcproj^T + b   (MLP, gelu|relu)
 *   x_{l+1}  = r_l + m_l
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
 *                                           activation, l = 0..L-1              [B,T,H]
 *   gpt_tap(m, GPT_TAP_ATTN_WEIGHTS, l, &w) block l's attention weights A        [B,NH,T,T]
 * `w` receives the row width (C, C, H or T).  The pointers stay valid until the next
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
} gpt_config;

/* Parameters (and, with the same layout, their gradients).  Shapes: */
#define GPT_NPARAM 17
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
    float *fcw;      /* [L, H, C] */
    float *fcb;      /* [L, H] */
    float *fcprojw;  /* [L, C, H] */
    float *fcprojb;  /* [L, C] */
    float *lnfw;     /* [C] */
    float *lnfb;     /* [C]       (size 0 for rmsnorm) */
    float *lm_head;  /* [V, C]    (size 0 when tied) */
} gpt_params;

/* Activations of one forward pass, for the current B and T. */
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
    float *fch;       /* [L,B,T,H]   MLP pre-activation */
    float *fch_act;   /* [L,B,T,H]   MLP hidden units */
    float *fcproj;    /* [L,B,T,C]   m_l */
    float *residual3; /* [L,B,T,C]   x_{l+1} */
    float *lnf;       /* [B,T,C] */
    float *lnf_mean;  /* [B,T] */
    float *lnf_rstd;  /* [B,T] */
    float *logits;    /* [B,T,V] */
    float *probs;     /* [B,T,V] */
    float *losses;    /* [B,T]       -ln p(target); 0 where target < 0 */
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
} gpt_grad_acts;

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
int  gpt_parse_act(const char *s, gpt_act *out);    /* 0 / -1 */
int  gpt_parse_norm(const char *s, gpt_norm *out);
int  gpt_parse_pos(const char *s, gpt_pos *out);

/* ---- the model ------------------------------------------------------------------- */
/* Allocate and initialise: weights ~ N(0, 0.02), residual projections ~ N(0, 0.02/sqrt(2L)),
 * biases 0, norm gains 1; drawn from cfg->seed. */
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
int  gpt_ablate(gpt_model *m, gpt_ablate_site site, int layer, const int *units, int n, char *err);
void gpt_ablate_clear(gpt_model *m);

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
 * tied seed) and one tensor per parameter to c. */
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
/* out[n] = act(inp[n]);  dinp[n] += act'(inp) * dout */
void act_forward(gpt_act kind, float *out, const float *inp, size_t n);
void act_backward(gpt_act kind, float *dinp, const float *inp, const float *dout, size_t n);
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
