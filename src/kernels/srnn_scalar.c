/* srnn_scalar.c -- the hot loops of the spiking language model (lesson 09) in plain C,
 * the definitions of their SIMD twins (srnn_avx2.c, srnn_neon.c).
 *
 *   rows_add   acc += sum of the rows W[r] of the neurons r that spiked: the event-driven
 *              form of W_rec^T s for a binary s (cost ~ spikes x N, not N x N).
 *   rows_acc   W[r] += x for the neurons r that spiked: the sparse weight gradient.
 *   matvecs    out_b = W x_b for the nb batch elements a thread owns: the dense part of
 *              the backward pass, ds_{t-1} = W_rec dv_t.
 * Every version of rows_add and rows_acc adds in the same order (bit-identical); the
 * SIMD matvecs sum each dot product in 8 lanes, so they differ from this one by
 * round-off only, and every batch element's result is the same whatever nb is. */
#include "kernels_priv.h"

void rows_add_scalar(float *acc, const float *W, int ld, const int *idx, int nidx, int n) {
    for (int k = 0; k < nidx; k++) {
        const float *w = W + (size_t)idx[k] * ld;
        for (int j = 0; j < n; j++) acc[j] += w[j];
    }
}

void matvecs_scalar(float *out, const float *W, const float *x, int nb, int n) {
    for (int b = 0; b < nb; b++) {
        const float *xb = x + (size_t)b * n;
        for (int i = 0; i < n; i++) {
            const float *w = W + (size_t)i * n;
            float s = 0.0f;
            for (int j = 0; j < n; j++) s += w[j] * xb[j];
            out[(size_t)b * n + i] = s;
        }
    }
}

void rows_acc_scalar(float *W, int ld, const int *idx, int nidx, const float *x, int n) {
    for (int k = 0; k < nidx; k++) {
        float *w = W + (size_t)idx[k] * ld;
        for (int j = 0; j < n; j++) w[j] += x[j];
    }
}
