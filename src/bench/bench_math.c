/* bench_math.c -- timed matrix products (`bench kernels`, lesson 06) and alignment
 * metrics (`bench align`, lessons 10-12); see include/bench.h. */
#include "align.h"
#include "bench.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>

/* ---- matmul ---------------------------------------------------------------------- */

int bench_matmul_bufs_init(bench_matmul_bufs *b, size_t max_elems, char *err) {
    memset(b, 0, sizeof *b);
    b->size = max_elems;
    float **all[6] = {&b->inp, &b->w, &b->out, &b->dout, &b->dinp, &b->dw};
    for (int k = 0; k < 6; k++)
        if (!(*all[k] = malloc(max_elems * sizeof(float)))) { bench_matmul_bufs_free(b); return tb_fail(err, "out of memory"); }
    tb_rng r;
    rng_seed(&r, 1);
    for (size_t i = 0; i < max_elems; i++) {
        b->inp[i] = rng_uniformf(&r) - 0.5f;
        b->w[i] = rng_uniformf(&r) - 0.5f;
        b->dout[i] = rng_uniformf(&r) - 0.5f;
        b->dinp[i] = b->dw[i] = 0.0f;
    }
    return 0;
}

void bench_matmul_bufs_free(bench_matmul_bufs *b) {
    free(b->inp); free(b->w); free(b->out); free(b->dout); free(b->dinp); free(b->dw);
    memset(b, 0, sizeof *b);
}

int bench_matmul(const tb_kernels *k, const bench_matmul_shape *s, int reps, bench_matmul_bufs *b,
                 double *sec, char *err) {
    size_t need = (size_t)s->N * (size_t)(s->C > s->OC ? s->C : s->OC);
    if ((size_t)s->C * s->OC > need) need = (size_t)s->C * s->OC;
    if (need > b->size) return tb_fail(err, "matmul %d x %d -> %d needs buffers of %zu floats (have %zu)",
                                       s->N, s->C, s->OC, need, b->size);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) return tb_fail(err, "out of memory");
    for (int r = -1; r < reps; r++) {   /* r = -1: the warm-up */
        double t0 = bench_now_s();
        if (s->backward) k->matmul_backward(b->dinp, b->dw, NULL, b->dout, b->inp, b->w, s->N, s->C, s->OC);
        else k->matmul_forward(b->out, b->inp, b->w, NULL, s->N, s->C, s->OC);
        if (r >= 0) t[r] = bench_now_s() - t0;
    }
    *sec = bench_median(t, reps);
    free(t);
    return 0;
}

/* ---- alignment metrics ---------------------------------------------------------------- */

int bench_align_data(int n, int p, double **X, double **Y, char *err) {
    size_t np = (size_t)n * p;
    *X = malloc(np * sizeof **X);
    *Y = malloc(np * sizeof **Y);
    if (!*X || !*Y) {
        free(*X); free(*Y);
        *X = *Y = NULL;
        return tb_fail(err, "out of memory at n = %d, p = %d", n, p);
    }
    tb_rng g;
    rng_seed(&g, 7);
    for (size_t i = 0; i < np; i++) (*X)[i] = rng_normal(&g);
    for (size_t i = 0; i < np; i++) (*Y)[i] = (*X)[i] + rng_normal(&g);
    return 0;
}

int bench_align_family(bench_family fam, const double *X, const double *Y, int n, int p, int perms,
                       double *sec, char *err) {
    align_opts o;
    align_result r;
    align_opts_default(&o);
    o.rsa = fam == BENCH_RSA || fam == BENCH_RSA_PERM;
    o.cka = fam == BENCH_CKA;
    o.cca = fam == BENCH_CCA;
    o.procrustes = fam == BENCH_PROCRUSTES;
    o.encoding = fam == BENCH_ENCODING;
    o.perm = fam == BENCH_RSA_PERM ? perms : 0;
    double t0 = bench_now_s();
    if (align_all(X, n, p, Y, p, NULL, 0, &o, &r, err)) return -1;
    *sec = bench_now_s() - t0;
    return 0;
}
