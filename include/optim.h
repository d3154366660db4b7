/* optim.h -- AdamW with linear warm-up, cosine decay and gradient clipping.
 * Shared by the GPT (lesson 08) and the spiking network's surrogate-gradient
 * training (lesson 09).  Parameters live in one flat buffer; `decay_mask` says
 * which entries get weight decay (matrices yes; biases, norms gains, no).
 *
 *   m <- b1 m + (1 - b1) g            v <- b2 v + (1 - b2) g^2
 *   m_hat = m / (1 - b1^t)            v_hat = v / (1 - b2^t)
 *   p <- p - lr (m_hat / (sqrt(v_hat) + eps) + wd p)     (wd only where decay_mask)
 */
#ifndef TB_OPTIM_H
#define TB_OPTIM_H

#include "io.h"
#include "tb.h"
#include <stdint.h>

/* ---- defaults (the one table: adamw_default_cfg, `train --help`, `train-snn --help`) -- */
#define ADAMW_DEF_LR          3e-3   /* peak learning rate */
#define ADAMW_DEF_BETA1       0.9
#define ADAMW_DEF_BETA2       0.95
#define ADAMW_DEF_EPS         1e-8
#define ADAMW_DEF_WD          0.1    /* weight decay (matrices only) */
#define ADAMW_DEF_WARMUP      0      /* steps of linear warm-up */
#define ADAMW_DEF_MIN_LR_FRAC 0.1    /* the cosine ends at this fraction of the peak */
#define ADAMW_DEF_CLIP        1      /* global gradient-norm clip (0: off) */

typedef struct {
    double lr;          /* peak learning rate */
    double beta1, beta2, eps, weight_decay;
    int warmup_steps;   /* linear warm-up from lr/warmup to lr */
    int total_steps;    /* cosine decay from lr to lr * min_lr_frac at total_steps */
    double min_lr_frac;
    double clip_norm;   /* global L2 gradient-norm clip; <= 0: off */
} tb_adamw_cfg;

typedef struct {
    tb_adamw_cfg cfg;
    size_t n;
    float *m, *v;       /* first and second moments, [n] */
    long long t;        /* steps taken */
} tb_adamw;

void   adamw_default_cfg(tb_adamw_cfg *c);  /* the ADAMW_DEF_* table; total_steps 0 */
int    adamw_init(tb_adamw *o, const tb_adamw_cfg *cfg, size_t n, char *err);
void   adamw_free(tb_adamw *o);
/* Learning rate at step t (0-based) under warm-up + cosine. */
double adamw_lr(const tb_adamw_cfg *c, long long t);
/* Global L2 norm of g[n] (accumulated in double). */
double grad_norm(const float *g, size_t n);
/* One step: clips g in place if clip_norm > 0, updates params, returns the norm
 * before clipping.  decay_mask may be NULL (decay everything). */
double adamw_step(tb_adamw *o, float *params, float *grads, const unsigned char *decay_mask);

/* ---- checkpoints (a training run saves both; see run.h) ------------------------ */
/* The moments and step: tensors "adam_m", "adam_v" [n] and key "adam_t".  adamw_from_ckpt
 * needs o initialised for the same n (adamw_init). */
int    adamw_to_ckpt(const tb_adamw *o, tb_ckpt *c, char *err);
int    adamw_from_ckpt(tb_adamw *o, const tb_ckpt *c, char *err);
/* The configuration: keys lr beta1 beta2 eps weight_decay warmup_steps total_steps
 * min_lr_frac clip_norm, in that order (doubles as %.17g: exact round trip). */
int    adamw_cfg_to_ckpt(const tb_adamw_cfg *cfg, tb_ckpt *c, char *err);
int    adamw_cfg_from_ckpt(tb_adamw_cfg *cfg, const tb_ckpt *c, char *err);

#endif
