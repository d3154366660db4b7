/* Exercise 06 (lesson 06): the backward pass of layer normalisation, for one row.
 *
 * Forward (C features, eps = 1e-5 in the model):
 *   mu = mean(x),  rstd = 1 / sqrt(mean((x - mu)^2) + eps),  xhat = (x - mu) rstd,
 *   y  = xhat * w + b
 * Given dy = dL/dy, write
 *   db[i] = dL/db[i],   dw[i] = dL/dw[i],   dx[i] = dL/dx[i]
 * (this row's contributions; the model adds them up over rows).  Hint: with g = w * dy,
 *   dx = rstd (g - mean(g) - xhat mean(g xhat)) -- derive it before you use it: mu and rstd
 *   both depend on every x[i].
 *
 * Write the body, then run `make exercise-06`: it compares you with tinybrain's kernel and
 * with finite differences of L = sum(dy * y). */
#include "exercise.h"

#include <math.h>

void ex_layernorm_backward(const float *x, const float *w, const float *dy, int C, float eps,
                           float *dx, float *dw, float *db) {
    /* your code: replace these lines */
    (void)x; (void)w; (void)dy; (void)eps;
    for (int i = 0; i < C; i++) dx[i] = dw[i] = db[i] = 0;
}
