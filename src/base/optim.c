/* optim.c -- AdamW (Loshchilov & Hutter 2019) with warm-up + cosine schedule and
 * global-norm clipping.  Lessons 08 and 09.  See include/optim.h for the equations. */
#include "optim.h"
#include "kernels.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>

void adamw_default_cfg(tb_adamw_cfg *c) {
    c->lr = ADAMW_DEF_LR;
    c->beta1 = ADAMW_DEF_BETA1;
    c->beta2 = ADAMW_DEF_BETA2;
    c->eps = ADAMW_DEF_EPS;
    c->weight_decay = ADAMW_DEF_WD;
    c->warmup_steps = ADAMW_DEF_WARMUP;
    c->total_steps = 0;
    c->min_lr_frac = ADAMW_DEF_MIN_LR_FRAC;
    c->clip_norm = ADAMW_DEF_CLIP;
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

/* One step's constants and arrays, for the element-wise update in slices. */
typedef struct {
    tb_adamw *o;
    float *params, *grads;
    const unsigned char *decay_mask;
    tb_adamw_coef c;
} adam_job;

/* Elements [a, b) through the kernel table's adamw (kernels.h: the same bits in every
 * table): each element's update depends on nothing else, so slicing the array over the
 * thread pool changes no bit (threads.h, rule 2). */
static void adam_task(void *ctx, int t, int nt) {
    const adam_job *j = ctx;
    tb_adamw *o = j->o;
    size_t a = o->n * (size_t)t / (size_t)nt, b = o->n * (size_t)(t + 1) / (size_t)nt;
    tb_kern->adamw(j->params + a, j->grads + a, o->m + a, o->v + a, j->decay_mask ? j->decay_mask + a : NULL, b - a,
                   &j->c);
}

double adamw_step(tb_adamw *o, float *params, float *grads, const unsigned char *decay_mask) {
    const tb_adamw_cfg *c = &o->cfg;
    double norm = grad_norm(grads, o->n);
    float scale = 1.0f;
    if (c->clip_norm > 0 && norm > c->clip_norm) scale = (float)(c->clip_norm / norm);
    double lr = adamw_lr(c, o->t);
    o->t++;
    adam_job j = {o, params, grads, decay_mask,
                  {scale, (float)c->beta1, (float)c->beta2, (float)(1.0 - pow(c->beta1, (double)o->t)),
                   (float)(1.0 - pow(c->beta2, (double)o->t)), (float)lr, (float)c->weight_decay, (float)c->eps}};
    int nt = o->n >= 65536 ? tb_threads() : 1;
    if (nt > 1) tb_parallel(nt, adam_task, &j);
    else adam_task(&j, 0, 1);
    return norm;
}

/* ---- checkpoints -------------------------------------------------------------------- */

int adamw_to_ckpt(const tb_adamw *o, tb_ckpt *c, char *err) {
    int64_t n = (int64_t)o->n;
    if (ckpt_add_tensor(c, "adam_m", o->m, 1, &n) || ckpt_add_tensor(c, "adam_v", o->v, 1, &n) ||
        ckpt_set_int(c, "adam_t", o->t))
        return tb_fail(err, "out of memory adding the optimizer state");
    return 0;
}

int adamw_from_ckpt(tb_adamw *o, const tb_ckpt *c, char *err) {
    int64_t n = (int64_t)o->n;
    long long t;
    if (ckpt_read_tensor(c, "adam_m", o->m, 1, &n, err) || ckpt_read_tensor(c, "adam_v", o->v, 1, &n, err) ||
        ckpt_get_int(c, "adam_t", &t, err))
        return -1;
    if (t < 0) return tb_fail(err, "config key 'adam_t' is negative");
    o->t = t;
    return 0;
}

int adamw_cfg_to_ckpt(const tb_adamw_cfg *o, tb_ckpt *c, char *err) {
    if (ckpt_set_double(c, "lr", o->lr) || ckpt_set_double(c, "beta1", o->beta1) ||
        ckpt_set_double(c, "beta2", o->beta2) || ckpt_set_double(c, "eps", o->eps) ||
        ckpt_set_double(c, "weight_decay", o->weight_decay) || ckpt_set_int(c, "warmup_steps", o->warmup_steps) ||
        ckpt_set_int(c, "total_steps", o->total_steps) || ckpt_set_double(c, "min_lr_frac", o->min_lr_frac) ||
        ckpt_set_double(c, "clip_norm", o->clip_norm))
        return tb_fail(err, "out of memory adding the optimizer settings");
    return 0;
}

int adamw_cfg_from_ckpt(tb_adamw_cfg *o, const tb_ckpt *c, char *err) {
    long long ws, ts;
    adamw_default_cfg(o);
    if (ckpt_get_double(c, "lr", &o->lr, err) || ckpt_get_double(c, "beta1", &o->beta1, err) ||
        ckpt_get_double(c, "beta2", &o->beta2, err) || ckpt_get_double(c, "eps", &o->eps, err) ||
        ckpt_get_double(c, "weight_decay", &o->weight_decay, err) || ckpt_get_int(c, "warmup_steps", &ws, err) ||
        ckpt_get_int(c, "total_steps", &ts, err) || ckpt_get_double(c, "min_lr_frac", &o->min_lr_frac, err) ||
        ckpt_get_double(c, "clip_norm", &o->clip_norm, err))
        return -1;
    if (ws < 0 || ts < 0 || ws > 1000000000 || ts > 1000000000)
        return tb_fail(err, "optimizer schedule out of range (warmup_steps %lld, total_steps %lld)", ws, ts);
    o->warmup_steps = (int)ws;
    o->total_steps = (int)ts;
    return 0;
}
