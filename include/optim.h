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

#include "tb.h"
#include <stdint.h>

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

void   adamw_default_cfg(tb_adamw_cfg *c);  /* lr 1e-3, betas .9/.95, eps 1e-8, wd 0.1 */
int    adamw_init(tb_adamw *o, const tb_adamw_cfg *cfg, size_t n, char *err);
void   adamw_free(tb_adamw *o);
/* Learning rate at step t (0-based) under warm-up + cosine. */
double adamw_lr(const tb_adamw_cfg *c, long long t);
/* Global L2 norm of g[n] (accumulated in double). */
double grad_norm(const float *g, size_t n);
/* One step: clips g in place if clip_norm > 0, updates params, returns the norm
 * before clipping.  decay_mask may be NULL (decay everything). */
double adamw_step(tb_adamw *o, float *params, float *grads, const unsigned char *decay_mask);

#endif
