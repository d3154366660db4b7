/* bench_peak.c -- the machine's measured single-precision peak (`bench peak`; lesson 06:
 * what "percent of peak" is a percent of).
 *
 * A loop of independent fused multiply-adds that never touches memory: 12 accumulators
 * (enough to cover the FMA latency on every current core), each updated as
 * acc = acc * x + y.  Run on every thread of the pool at once, the fastest of 41 short
 * runs gives the FLOP/s no real kernel can beat on this machine at its current clock.  The widest instruction set the CPU has is used (AVX-512F, else AVX2+FMA, else
 * plain C, which the compiler vectorises as it can); the functions carry target
 * attributes, so the file needs no special flags and the binary still runs anywhere. */
#include "bench.h"
#include "threads.h"

#include <stdlib.h>

#define ACCS 12

#if defined(__x86_64__)
#include <immintrin.h>

/* fma_loop_512 and fma_loop_256: the loop above with one instruction set's vectors. */
#define FMA_LOOP(name, isa, V, W, set1, fmadd, add, storeu)                     \
    __attribute__((target(isa))) static double name(long iters) {               \
        V acc[ACCS], x = set1(0.999999f), y = set1(1e-7f);                      \
        for (int a = 0; a < ACCS; a++) acc[a] = set1((float)a);                 \
        for (long i = 0; i < iters; i++)                                        \
            for (int a = 0; a < ACCS; a++) acc[a] = fmadd(acc[a], x, y);        \
        float out[W];                                                           \
        V sum = acc[0];                                                         \
        for (int a = 1; a < ACCS; a++) sum = add(sum, acc[a]);                  \
        storeu(out, sum);                                                       \
        return out[0];                                                          \
    }
FMA_LOOP(fma_loop_512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps)
FMA_LOOP(fma_loop_256, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps)
#endif

/* Plain C: 4 lanes x 12 accumulators (the compiler keeps them in vector registers). */
static double fma_loop_c(long iters) {
    float acc[ACCS][4];
    for (int a = 0; a < ACCS; a++)
        for (int l = 0; l < 4; l++) acc[a][l] = (float)(a + l);
    for (long i = 0; i < iters; i++)
        for (int a = 0; a < ACCS; a++)
            for (int l = 0; l < 4; l++) acc[a][l] = acc[a][l] * 0.999999f + 1e-7f;
    double s = 0;
    for (int a = 0; a < ACCS; a++) s += acc[a][0];
    return s;
}

typedef struct { int width; long iters; double sink[TB_MAX_THREADS]; } peak_job;

static void peak_task(void *ctx, int t, int nt) {
    (void)nt;
    peak_job *j = ctx;
#if defined(__x86_64__)
    if (j->width == 16) { j->sink[t] = fma_loop_512(j->iters); return; }
    if (j->width == 8) { j->sink[t] = fma_loop_256(j->iters); return; }
#endif
    j->sink[t] = fma_loop_c(j->iters);
}

/* Floats per FMA instruction of the widest set this CPU runs, and its name. */
static int peak_width(const char **isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) { *isa = "AVX-512F FMA"; return 16; }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { *isa = "AVX2 FMA"; return 8; }
#endif
    *isa = "plain C (compiler-vectorised)";
    return 4;
}

int bench_peak(int threads, bench_peak_result *r, char *err) {
    if (threads < 1 || threads > tb_threads()) return tb_fail(err, "peak: %d threads asked, the pool has %d", threads, tb_threads());
    peak_job j = {.width = peak_width(&r->isa)};
    double flops_per_iter = 2.0 * ACCS * j.width, sec = 1e30;
    /* size the loop to ~2 ms on one thread, then keep the fastest of 41 runs: a run the
     * scheduler did not interrupt (on a shared machine a long run always is) */
    j.iters = 10000;
    double t0 = bench_now_s();
    peak_task(&j, 0, 1);
    double dt = bench_now_s() - t0;
    if (dt > 0) j.iters = (long)(j.iters * 0.002 / dt) + 1;
    for (int k = 0; k < 41; k++) {
        t0 = bench_now_s();
        tb_parallel(threads, peak_task, &j);
        dt = bench_now_s() - t0;
        if (dt < sec) sec = dt;
    }
    r->threads = threads;
    r->gflops = flops_per_iter * (double)j.iters * threads / sec * 1e-9;
    r->gflops_per_core = r->gflops / threads;
    return 0;
}
