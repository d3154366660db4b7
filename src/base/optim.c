/* optim.c -- AdamW (Loshchilov & Hutter 2019) with warm-up + cosine schedule and
 * global-norm clipping.  Lessons 08 and 09.  See include/optim.h for the equations. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>

void adamw_default_cfg(tb_adamw_cfg *c) {
    c->lr = 1e-3;
    c->beta1 = 0.9;
    c->beta2 = 0.95;
    c->eps = 1e-8;
    c->weight_decay = 0.1;
    c->warmup_steps = 0;
    c->total_steps = 0;
    c->min_lr_frac = 0.1;
    c->clip_norm = 1.0;
}

int adamw_init(tb_adamw *o, const tb_adamw_cfg *cfg, size_t n, char *err) {
    o->cfg = *cfg;
    o->n = n;
    o->t = 0;
    o->m = calloc(n ? n : 1, sizeof(float));
    o->v = calloc(n ? n : 1, sizeof(float));
    if (!o->m || !o->v) {
        adamw_free(o);
        return tb_fail(err, "out of memory for optimizer state (%zu parameters)", n);
    }
    return 0;
}

void adamw_free(tb_adamw *o) {
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

double adamw_lr(const tb_adamw_cfg *c, long long t) {
    if (c->warmup_steps > 0 && t < c->warmup_steps)
        return c->lr * (double)(t + 1) / (double)c->warmup_steps;
    if (c->total_steps <= c->warmup_steps) return c->lr;
    double progress = (double)(t - c->warmup_steps) / (double)(c->total_steps - c->warmup_steps);
    if (progress > 1.0) progress = 1.0;
    double cosine = 0.5 * (1.0 + cos(M_PI * progress));   /* 1 -> 0 */
    return c->lr * (c->min_lr_frac + (1.0 - c->min_lr_frac) * cosine);
}

double grad_norm(const float *g, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

double adamw_step(tb_adamw *o, float *params, float *grads, const unsigned char *decay_mask) {
    const tb_adamw_cfg *c = &o->cfg;
    double norm = grad_norm(grads, o->n);
    float scale = 1.0f;
    if (c->clip_norm > 0 && norm > c->clip_norm) scale = (float)(c->clip_norm / norm);
    double lr = adamw_lr(c, o->t);
    o->t++;
    float b1 = (float)c->beta1, b2 = (float)c->beta2;
    float bc1 = (float)(1.0 - pow(c->beta1, (double)o->t));
    float bc2 = (float)(1.0 - pow(c->beta2, (double)o->t));
    float flr = (float)lr, wd = (float)c->weight_decay, eps = (float)c->eps;
    for (size_t i = 0; i < o->n; i++) {
        float g = grads[i] * scale;
        grads[i] = g;
        o->m[i] = b1 * o->m[i] + (1.0f - b1) * g;
        o->v[i] = b2 * o->v[i] + (1.0f - b2) * g * g;
        float mhat = o->m[i] / bc1, vhat = o->v[i] / bc2;
        float decay = (!decay_mask || decay_mask[i]) ? wd * params[i] : 0.0f;
        params[i] -= flr * (mhat / (sqrtf(vhat) + eps) + decay);
    }
    return norm;
}
