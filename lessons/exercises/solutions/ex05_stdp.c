/* Exercise 05, reference solution (stdp_decay, stdp_pre, stdp_post in src/snn/stdp.c). */
#include "exercise.h"

static float clip(const stdp_rule *r, float w) {
    return w < r->w_min ? (float)r->w_min : w > r->w_max ? (float)r->w_max : w;
}

void ex_stdp_step(const stdp_rule *r, float *w, float *x, float *y, int n, float dx, float dy,
                  const int *pre, int post) {
    for (int i = 0; i < n; i++) x[i] *= dx;
    *y *= dy;
    for (int i = 0; i < n; i++) {
        if (!pre[i]) continue;
        float dep = (float)r->a_minus * *y;
        if (r->multiplicative) dep *= w[i] - (float)r->w_min;
        w[i] = clip(r, w[i] - dep);
        x[i] += 1.0f;
    }
    if (!post) return;
    for (int i = 0; i < n; i++) {
        float pot = (float)r->a_plus * x[i];
        if (r->multiplicative) pot *= (float)r->w_max - w[i];
        w[i] = clip(r, w[i] + pot);
    }
    *y += 1.0f;
}
