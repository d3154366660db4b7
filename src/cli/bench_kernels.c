/* bench_kernels.c -- `tinybrain bench kernels`: how fast are the hot loops?
 * Lesson 06 uses it to count FLOPs: a matmul out[N,OC] = inp[N,C] W^T is 2 N C OC
 * floating-point operations (one multiply and one add per term).
 *
 * For each transformer-shaped product we time every kernel set this CPU has (scalar
 * and avx2 or neon) at 1 thread and at all threads, report the median of --reps runs
 * after one warm-up, GFLOP/s, and the speed-up over scalar at 1 thread.  The
 * backward row times both products of matmul_backward (dinp and dweight: 4 N C OC). */
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "kernels.h"
#include "threads.h"

#include <stdio.h>

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
    const bench_matmul_shape shapes[] = {{1024, 128, 512, 0}, {1024, 512, 128, 0}, {1024, 128, 128, 0}, {1024, 128, 512, 1}};
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    const char *sets[3] = {"scalar", NULL, NULL};
    int nsets = 1;
    if (kernels_table("avx2")) sets[nsets++] = "avx2";
    if (kernels_table("neon")) sets[nsets++] = "neon";
    int nthreads = cli_threads, tcounts[2] = {1, nthreads}, ntc = nthreads > 1 ? 2 : 1;
    char err[TB_ERRLEN];
    bench_matmul_bufs b;
    if (bench_matmul_bufs_init(&b, 1024 * 512, err)) cli_die(1, "%s", err);

    if (!json) {
        printf("matmul out[N,OC] = inp[N,C] W^T, median of %d runs (GFLOP/s; x = speed-up over scalar at 1 thread)\n\n", reps);
        printf("%-26s %-7s %7s %10s %9s %8s\n", "shape (N x C -> OC)", "kernels", "threads", "ms", "GFLOP/s", "x");
    } else {
        json_begin();
        json_int("threads", nthreads);
        printf(",\"rows\":[");
    }
    int first = 1;
    cli_progress_start();
    for (int si = 0; si < nshapes; si++) {
        const bench_matmul_shape *s = &shapes[si];
        double flops = (s->backward ? 4.0 : 2.0) * s->N * s->C * s->OC, base = 0;
        char label[64];
        snprintf(label, sizeof label, "%s%d x %d -> %d", s->backward ? "bwd " : "", s->N, s->C, s->OC);
        for (int ki = 0; ki < nsets; ki++) {
            const tb_kernels *k = kernels_table(sets[ki]);
            for (int ti = 0; ti < ntc; ti++) {
                tb_threads_init(tcounts[ti]);
                double sec;
                if (bench_matmul(k, s, reps, &b, &sec, err)) cli_die(1, "%s", err);
                double gf = flops / sec * 1e-9;
                if (ki == 0 && ti == 0) base = sec;
                cli_progress_clear();
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
        fflush(stdout);
        cli_progress(si + 1, nshapes, "shapes timed");
    }
    cli_progress_end();
    tb_threads_init(nthreads);
    if (json) {
        printf("]");
        json_end();
    }
    bench_matmul_bufs_free(&b);
    return 0;
}
