/* bench_kernels.c -- `tinybrain bench kernels`: how fast are the hot loops?
 * Lesson 06 uses it to count FLOPs: a matmul out[N,OC] = inp[N,C] W^T is 2 N C OC
 * floating-point operations (one multiply and one add per term).
 *
 * For each transformer-shaped product we time every kernel set this CPU has (scalar
 * and avx2 or neon) at 1 thread and at all threads, report the median of --reps runs
 * after one warm-up, GFLOP/s, and the speed-up over scalar at 1 thread.  The
 * backward row times both products of matmul_backward (dinp and dweight: 4 N C OC). */
#include "cli.h"
#include "commands.h"
#include "kernels.h"
#include "rng.h"
#include "threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct { int N, C, OC, backward; } shape;

/* Median seconds of one product at shape s with kernel table k. */
static double time_shape(const tb_kernels *k, const shape *s, int reps, float *inp, float *w,
                         float *out, float *dout, float *dinp, float *dw) {
    double *t = malloc((size_t)reps * sizeof *t);
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
        if (s->backward) k->matmul_backward(dinp, dw, NULL, dout, inp, w, s->N, s->C, s->OC);
        else k->matmul_forward(out, inp, w, NULL, s->N, s->C, s->OC);
        if (r >= 0) t[r] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double m = t[reps / 2];
    free(t);
    return m;
}

int bench_kernels_main(int argc, char **argv) {
    int reps, json;
    cli_opt opts[] = {
        {"reps", 'i', &reps, "21", "", "timed repetitions per cell (the median is reported)", 1, 100000, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object (rows as an array)", 0, 0, NULL},
    };
    cli_cmd cmd = {"bench kernels", "", "matmul GFLOP/s at the transformer's shapes: scalar vs SIMD, 1 vs N threads",
                   "Shapes are N x C -> OC of out[N,OC] = inp[N,C] W[OC,C]^T: the GPT's qkv/MLP products at\n"
                   "B*T = 1024 tokens.  FLOPs = 2 N C OC forward, 4 N C OC backward (dinp and dweight).\n"
                   "Timings are medians after one warm-up; a busy machine makes them noisy.",
                   "tinybrain bench kernels --threads 2"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    const shape shapes[] = {{1024, 128, 512, 0}, {1024, 512, 128, 0}, {1024, 128, 128, 0}, {1024, 128, 512, 1}};
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    const char *sets[3] = {"scalar", NULL, NULL};
    int nsets = 1;
    if (kernels_table("avx2")) sets[nsets++] = "avx2";
    if (kernels_table("neon")) sets[nsets++] = "neon";
    int nthreads = cli_threads, tcounts[2] = {1, nthreads}, ntc = nthreads > 1 ? 2 : 1;

    size_t maxe = 1024 * 512;
    float *inp = malloc(maxe * 4), *w = malloc(maxe * 4), *out = malloc(maxe * 4),
          *dout = malloc(maxe * 4), *dinp = malloc(maxe * 4), *dw = malloc(maxe * 4);
    if (!inp || !w || !out || !dout || !dinp || !dw) cli_die(1, "out of memory");
    tb_rng r;
    rng_seed(&r, 1);
    for (size_t i = 0; i < maxe; i++) {
        inp[i] = rng_uniformf(&r) - 0.5f;
        w[i] = rng_uniformf(&r) - 0.5f;
        dout[i] = rng_uniformf(&r) - 0.5f;
        dinp[i] = dw[i] = 0.0f;
    }

    if (!json) {
        printf("matmul out[N,OC] = inp[N,C] W^T, median of %d runs (GFLOP/s; x = speed-up over scalar at 1 thread)\n\n", reps);
        printf("%-26s %-7s %7s %10s %9s %8s\n", "shape (N x C -> OC)", "kernels", "threads", "ms", "GFLOP/s", "x");
    } else {
        json_begin();
        json_int("threads", nthreads);
        printf(",\"rows\":[");
    }
    int first = 1;
    for (int si = 0; si < nshapes; si++) {
        const shape *s = &shapes[si];
        double flops = (s->backward ? 4.0 : 2.0) * s->N * s->C * s->OC, base = 0;
        char label[64];
        snprintf(label, sizeof label, "%s%d x %d -> %d", s->backward ? "bwd " : "", s->N, s->C, s->OC);
        for (int ki = 0; ki < nsets; ki++) {
            const tb_kernels *k = kernels_table(sets[ki]);
            for (int ti = 0; ti < ntc; ti++) {
                tb_threads_init(tcounts[ti]);
                double sec = time_shape(k, s, reps, inp, w, out, dout, dinp, dw);
                double gf = flops / sec * 1e-9;
                if (ki == 0 && ti == 0) base = sec;
                if (!json)
                    printf("%-26s %-7s %7d %10.3f %9.2f %7.1fx\n", label, sets[ki], tcounts[ti], sec * 1e3, gf, base / sec);
                else {
                    printf("%s{\"shape\":\"%s\",\"kernels\":\"%s\",\"threads\":%d,\"ms\":%.4f,\"gflops\":%.3f,\"speedup\":%.3f}",
                           first ? "" : ",", label, sets[ki], tcounts[ti], sec * 1e3, gf, base / sec);
                    first = 0;
                }
            }
        }
        if (!json && si + 1 < nshapes) printf("\n");
    }
    tb_threads_init(nthreads);
    if (json) {
        printf("]");
        json_end();
    }
    free(inp); free(w); free(out); free(dout); free(dinp); free(dw);
    return 0;
}
