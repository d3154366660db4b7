/* Exercise 07, reference solution (softmax_backward_scalar in src/kernels/dense_scalar.c):
 * dz_s = p_s (dp_s - sum_j dp_j p_j). */
#include "exercise.h"

void ex_attn_softmax_backward(const float *p, const float *dp, int t, float *dz) {
    float dot = 0;
    for (int j = 0; j <= t; j++) dot += dp[j] * p[j];
    for (int s = 0; s <= t; s++) dz[s] = p[s] * (dp[s] - dot);
}
