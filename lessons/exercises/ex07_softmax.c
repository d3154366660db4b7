/* Exercise 07 (lesson 07): the backward pass of one causal row of attention's softmax.
 *
 * Row t of the attention matrix (query position t) is
 *   p[s] = softmax_s(z[s]) = exp(z[s]) / sum_{s' <= t} exp(z[s']),   s = 0..t
 * (positions after t are masked: they get probability 0 and no gradient, so the row has
 * t + 1 entries).  Given dp[s] = dL/dp[s], write dz[s] = dL/dz[s] for s = 0..t.
 * Hint: dp[s]/dz[j] = p[s] (delta_sj - p[j]).
 *
 * Write the body, then run `make exercise-07`: it compares you with tinybrain's kernel and
 * with finite differences of L = sum(dp * softmax(z)). */
#include "exercise.h"

void ex_attn_softmax_backward(const float *p, const float *dp, int t, float *dz) {
    /* your code: replace these lines */
    (void)p; (void)dp;
    for (int s = 0; s <= t; s++) dz[s] = 0;
}
