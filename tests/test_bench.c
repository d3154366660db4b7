/* test_bench.c -- the speed tables' machinery: medians, the reference-script reader (with
 * a stand-in script), and each workload on a small size (what it computes, never how
 * fast: timings decide no test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bench.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void clock_and_median(void **state) {
    (void)state;
    double odd[5] = {5, 1, 4, 2, 3}, even[4] = {10, 1, 3, 2}, one[1] = {7};
    assert_true(bench_median(odd, 5) == 3);
    assert_true(odd[0] == 1 && odd[4] == 5);          /* sorted in place */
    assert_true(bench_median(even, 4) == 2.5);
    assert_true(bench_median(one, 1) == 7);
    double t0 = bench_now_s(), t1 = bench_now_s();
    assert_true(t1 >= t0 && t0 > 0);
}

/* A stand-in for a peer's script: the reader takes each key's number from the last line
 * that has it, NAN for keys never printed; no keys[0] or no script is an error. */
static void reference_script_reader(void **state) {
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0) skip();
    char path[64], err[TB_ERRLEN];
    snprintf(path, sizeof path, "/tmp/tb_test_bench_%ld.py", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "import sys\n"
               "print('warming up')\n"
               "print('{\"ms_per_step\": 1.5, \"gflops\": 2}')\n"
               "print('{\"ms_per_step\": %%s, \"spike_prob\": 0.25}' %% sys.argv[2])\n");
    fclose(f);
    static const char *const keys[3] = {"ms_per_step", "gflops", "missing"};
    double v[3];
    assert_int_equal(bench_run_script(path, "--x 12.5", keys, 3, v, err), 0);
    assert_true(v[0] == 12.5 && v[1] == 2 && isnan(v[2]));
    static const char *const none[1] = {"wall_s"};
    assert_int_equal(bench_run_script(path, "--x 1", none, 1, v, err), -1);
    assert_non_null(strstr(err, "wall_s"));
    remove(path);
    assert_int_equal(bench_run_script(path, "", keys, 1, v, err), -1);
    assert_non_null(strstr(err, "not found"));
    assert_int_equal(bench_python_has("no_such_module_tb"), 0);
}

/* The timed matmul is the real product: out[0, 0] = sum_c inp[0, c] W[0, c]. */
static void matmul_workload(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    bench_matmul_bufs b;
    assert_int_equal(bench_matmul_bufs_init(&b, 64 * 32, err), 0);
    bench_matmul_shape s = {64, 32, 16, 0};
    double sec;
    assert_int_equal(bench_matmul(kernels_table("scalar"), &s, 3, &b, &sec, err), 0);
    assert_true(sec > 0);
    double want = 0;
    for (int c = 0; c < 32; c++) want += (double)b.inp[c] * b.w[c];
    assert_true(fabs(b.out[0] - want) < 1e-4);
    bench_matmul_shape big = {1024, 512, 128, 1};       /* larger than the buffers */
    assert_int_equal(bench_matmul(kernels_table("scalar"), &big, 1, &b, &sec, err), -1);
    bench_matmul_bufs_free(&b);
}

/* GPT steps on random tokens start near ln V and count FLOPs by the formula. */
static void gpt_workload(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    assert_null(bench_gpt_find("huge"));
    const bench_gpt_preset *p = bench_gpt_find("classroom");
    assert_non_null(p);
    bench_gpt_result r;
    assert_int_equal(bench_gpt_steps(p, 2, 1, &r, err), 0);
    assert_true(fabs(r.first_loss - log(p->vocab)) < 0.2);
    assert_true(r.last_loss < r.first_loss);             /* three AdamW steps on one batch */
    double BT = (double)p->batch * p->ctx;
    assert_true(r.flops == 6.0 * r.params * BT + 6.0 * p->layers * BT * p->ctx * p->dim);
    assert_true(r.ms > 0 && r.fwd_ms > 0 && r.bwd_ms > 0 && r.opt_ms > 0);
    /* the phases cover the passes: their sums are the forward and backward times (up
     * to the few microseconds between the marks and the step's own clock) */
    double f = r.embed_fwd_ms + r.head_fwd_ms, b = r.embed_bwd_ms + r.head_bwd_ms;
    assert_int_equal(r.layers, p->layers);
    for (int l = 0; l < r.layers; l++) {
        assert_true(r.layer_fwd_ms[l] > 0 && r.layer_bwd_ms[l] > 0);
        f += r.layer_fwd_ms[l];
        b += r.layer_bwd_ms[l];
    }
    assert_true(fabs(f - r.fwd_ms) < 0.05 * r.fwd_ms + 0.05 && fabs(b - r.bwd_ms) < 0.05 * r.bwd_ms + 0.05);
    assert_true(r.pool_jobs >= 0 && r.pool_wait_ms >= 0);
    bench_gpt_result_free(&r);
}

/* Spiking-LM steps: a probability of firing, a loss near ln V at the start. */
static void srnn_workload(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    bench_srnn_shape s = {8, 16, 2, 4, 2};
    bench_srnn_result r;
    assert_int_equal(bench_srnn_steps(&s, 3, 1, 1, &r, err), 0);
    assert_true(r.spike_p >= 0 && r.spike_p <= 1);
    assert_true(fabs(r.first_loss - log(8)) < 0.7);
    assert_true(r.ms > 0 && r.fwd_ms > 0);
    assert_int_equal(bench_srnn_steps(&s, 2, 0, 0, &r, err), 0);
    assert_true(isnan(r.fwd_ms));
}

/* A network run reports the rate its spikes make. */
static void network_and_align_workloads(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    bench_snn_row r;
    assert_int_equal(bench_snn_network("cuba", 500, 20, 100, 1, &r, err), 0);
    assert_true(r.synapses > 0 && r.spikes > 0 && r.events >= r.spikes);
    assert_true(fabs(r.rate_hz - r.spikes / (500 * 0.1)) < 1e-9);
    assert_int_equal(bench_snn_network("cubist", 500, 0, 100, 1, &r, err), -1);
    double *X, *Y, sec;
    assert_int_equal(bench_align_data(30, 4, &X, &Y, err), 0);
    double d = 0;   /* Y - X is the unit-variance noise */
    for (int i = 0; i < 120; i++) d += (Y[i] - X[i]) * (Y[i] - X[i]);
    assert_true(d / 120 > 0.5 && d / 120 < 1.6);
    for (int f = BENCH_RSA; f <= BENCH_RSA_PERM; f++) {
        assert_int_equal(bench_align_family(f, X, Y, 30, 4, 5, &sec, err), 0);
        assert_true(sec >= 0);
    }
    free(X);
    free(Y);
}

/* The peak: positive, at least a few GFLOP/s on any machine that runs the tests, the
 * all-threads figure per thread no more than 1.5x the one-thread figure (it cannot
 * beat one core per thread), and a pool it does not have is refused.  Under an emulator
 * (make test-cross sets TINYBRAIN_TEST_EMULATOR) the clock measures the emulator on a
 * shared host, so only "positive and finite" is asked of the figures there.  The BLAS
 * rule: a ratio is printed against every BLAS except Netlib's reference one. */
static void peak_and_blas_rule(void **state) {
    (void)state;
    bench_peak_result one, all;
    char err[TB_ERRLEN];
    int emulated = getenv("TINYBRAIN_TEST_EMULATOR") != NULL;
    assert_int_equal(bench_peak(1, &one, err), 0);
    assert_true(isfinite(one.gflops) && one.gflops > (emulated ? 0 : 1.0));
    assert_true(one.threads == 1 && one.isa && one.isa[0]);
    assert_int_equal(bench_peak(tb_threads(), &all, err), 0);
    assert_true(isfinite(all.gflops_per_core) && all.gflops_per_core > 0);
    if (!emulated) assert_true(all.gflops_per_core < 1.5 * one.gflops);
    assert_int_equal(bench_peak(tb_threads() + 1, &all, err), -1);
    assert_true(bench_blas_fair("OpenBLAS") && bench_blas_fair("MKL") && !bench_blas_fair("reference BLAS"));
    const char *kind;
    char path[256];
    assert_int_equal(bench_python_blas("no such module!", &kind, path, sizeof path, err), -1);
}

int main(void) {
    tb_threads_init(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clock_and_median),
        cmocka_unit_test(reference_script_reader),
        cmocka_unit_test(matmul_workload),
        cmocka_unit_test(gpt_workload),
        cmocka_unit_test(srnn_workload),
        cmocka_unit_test(network_and_align_workloads),
        cmocka_unit_test(peak_and_blas_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
