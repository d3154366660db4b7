/* Exercise 06, reference solution (layernorm_backward_scalar in src/kernels/dense_scalar.c). */
#include "exercise.h"

#include <math.h>

void ex_layernorm_backward(const float *x, const float *w, const float *dy, int C, float eps,
                           float *dx, float *dw, float *db) {
    float mu = 0, var = 0;
    for (int i = 0; i < C; i++) mu += x[i];
    mu /= (float)C;
    for (int i = 0; i < C; i++) var += (x[i] - mu) * (x[i] - mu);
    float rstd = 1.0f / sqrtf(var / (float)C + eps);
    float gmean = 0, gxmean = 0;
    for (int i = 0; i < C; i++) {
        float xh = (x[i] - mu) * rstd, g = w[i] * dy[i];
        gmean += g;
        gxmean += g * xh;
    }
    gmean /= (float)C;
    gxmean /= (float)C;
    for (int i = 0; i < C; i++) {
        float xh = (x[i] - mu) * rstd;
        db[i] = dy[i];
        dw[i] = dy[i] * xh;
        dx[i] = rstd * (w[i] * dy[i] - gmean - xh * gxmean);
    }
}
