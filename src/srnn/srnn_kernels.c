/* srnn_kernels.c -- the two hot loops of the spiking language model (lesson 09), in
 * plain C, and the choice between them and their SIMD twins (srnn_avx2.c, srnn_neon.c).
 *
 *   rows_add   acc += sum of the rows W[r] of the neurons r that spiked: the event-driven
 *              form of W_rec^T s for a binary s (cost ~ spikes x N, not N x N).
 *   rows_acc   W[r] += x for the neurons r that spiked: the sparse weight gradient.
 *   matvecs    out_b = W x_b for the nb batch elements a thread owns: the dense part of
 *              the backward pass, ds_{t-1} = W_rec dv_t.
 * Every version of rows_add and rows_acc adds in the same order (bit-identical); matvecs sums each
 * dot product in 8 lanes, so the SIMD versions differ from the scalar one by round-off
 * only, and every batch element's result is the same whatever nb is. */
#include "kernels.h"
#include "srnn_priv.h"

#include <string.h>

void srnn_rows_add_scalar(float *acc, const float *W, int ld, const int *idx, int nidx, int n) {
    for (int k = 0; k < nidx; k++) {
        const float *w = W + (size_t)idx[k] * ld;
        for (int j = 0; j < n; j++) acc[j] += w[j];
    }
}

void srnn_matvecs_scalar(float *out, const float *W, const float *x, int nb, int n) {
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

void srnn_rows_acc_scalar(float *W, int ld, const int *idx, int nidx, const float *x, int n) {
    for (int k = 0; k < nidx; k++) {
        float *w = W + (size_t)idx[k] * ld;
        for (int j = 0; j < n; j++) w[j] += x[j];
    }
}

srnn_rows_acc_fn srnn_rows_acc_impl(void) {
#if defined(__x86_64__)
    if (!strcmp(tb_kern->name, "avx2")) return srnn_rows_acc_avx2;
#endif
#if defined(__aarch64__)
    if (!strcmp(tb_kern->name, "neon")) return srnn_rows_acc_neon;
#endif
    return srnn_rows_acc_scalar;
}

srnn_rows_add_fn srnn_rows_add_impl(void) {
#if defined(__x86_64__)
    if (!strcmp(tb_kern->name, "avx2")) return srnn_rows_add_avx2;
#endif
#if defined(__aarch64__)
    if (!strcmp(tb_kern->name, "neon")) return srnn_rows_add_neon;
#endif
    return srnn_rows_add_scalar;
}

srnn_matvecs_fn srnn_matvecs_impl(void) {
#if defined(__x86_64__)
    if (!strcmp(tb_kern->name, "avx2")) return srnn_matvecs_avx2;
#endif
#if defined(__aarch64__)
    if (!strcmp(tb_kern->name, "neon")) return srnn_matvecs_neon;
#endif
    return srnn_matvecs_scalar;
}
