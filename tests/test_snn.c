/* test_snn.c -- spiking networks and STDP: benchmark rates, determinism across kernels
 * and thread counts, delays, connectivity, bad configs (the LIF kernels against their
 * scalar twins: test_kernels.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kernels.h"
#include "rng.h"
#include "snn.h"
#include "stdp.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static snn_net *build(const char *preset, int n, int k_in, uint64_t seed) {
    snn_config c;
    snn_net *net;
    char err[TB_ERRLEN];
    assert_int_equal(snn_preset(&c, preset, n, k_in, err), 0);
    c.seed = seed;
    assert_int_equal(snn_build(&c, &net, err), 0);
    return net;
}

/* Mean rates near Brian2's (5.56 Hz CUBA, 19.8 Hz COBA over 10 s).  The test runs
 * shorter (CUBA 2 s, COBA 1 s) and three seeds: the rate of one short realisation
 * fluctuates by a few percent (we measured 5.70 Hz over 10 s at seed 1), so 10%
 * -- the target the issue sets -- is the tolerance. */
static void benchmark_rates(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    for (uint64_t seed = 1; seed <= 3; seed++) {
        snn_net *net = build("cuba", 4000, 0, seed);
        snn_result r;
        assert_int_equal(snn_run(net, 2000, 1, 0, NULL, 0, &r, err), 0);
        double rate = r.n_spikes / (4000 * 2.0);
        assert_true(fabs(rate - 5.56) < 0.556);
        assert_true(r.syn_events > 70LL * r.n_spikes && r.syn_events < 90LL * r.n_spikes); /* ~80 targets */
        snn_result_free(&r);
        snn_free(net);
        net = build("coba", 4000, 0, seed);
        assert_int_equal(snn_run(net, 1000, 1, 0, NULL, 0, &r, err), 0);
        rate = r.n_spikes / (4000 * 1.0);
        assert_true(fabs(rate - 19.8) < 1.98);
        snn_result_free(&r);
        snn_free(net);
    }
}

static void run_spikes(const char *preset, int threads, snn_result *r) {
    char err[TB_ERRLEN];
    snn_net *net = build(preset, 4000, 0, 5);
    int idx[2] = {3, 3999};
    assert_int_equal(snn_run(net, 300, threads, 1, idx, 2, r, err), 0);
    snn_free(net);
}

static void same_result(const snn_result *a, const snn_result *b) {
    assert_int_equal(a->n_spikes, b->n_spikes);
    assert_int_equal(a->syn_events, b->syn_events);
    assert_memory_equal(a->spk_idx, b->spk_idx, a->n_spikes * sizeof(int32_t));
    assert_memory_equal(a->spk_step, b->spk_step, a->n_spikes * sizeof(int32_t));
    assert_memory_equal(a->vrec, b->vrec, 2 * a->steps * sizeof(float));
}

/* Same seed => identical spikes and voltages, for 1 and 2 threads and for the scalar
 * and SIMD kernels (the promise made in snn.h). */
static void deterministic_across_threads_and_kernels(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    tb_threads_init(2);
    const char *presets[] = {"cuba", "coba"};
    for (int p = 0; p < 2; p++) {
        snn_result a, b, c, d;
        assert_int_equal(kernels_init("scalar", err), 0);
        run_spikes(presets[p], 1, &a);
        assert_int_equal(kernels_init("auto", err), 0);
        run_spikes(presets[p], 1, &b);
        run_spikes(presets[p], 2, &c);
        run_spikes(presets[p], 2, &d);
        assert_true(a.n_spikes > 100);
        same_result(&a, &b);
        same_result(&b, &c);
        same_result(&c, &d);
        snn_result_free(&a); snn_result_free(&b); snn_result_free(&c); snn_result_free(&d);
    }
    /* another seed gives another network */
    snn_net *n1 = build("cuba", 4000, 0, 1), *n2 = build("cuba", 4000, 0, 2);
    snn_result r1, r2;
    assert_int_equal(snn_run(n1, 200, 1, 0, NULL, 0, &r1, err), 0);
    assert_int_equal(snn_run(n2, 200, 1, 0, NULL, 0, &r2, err), 0);
    assert_true(r1.n_spikes != r2.n_spikes || r1.syn_events != r2.syn_events);
    snn_free(n1); snn_free(n2);
}

/* Fixed in-degree: exactly k synapses per target (E: 80% of k, I: 20%). */
static void fixed_in_degree(void **state) {
    (void)state;
    snn_net *net = build("cuba", 1000, 50, 1);
    assert_int_equal(snn_n_synapses(net), 1000LL * 50);
    snn_free(net);
}

/* A delay of d ms: the target's membrane starts to move exactly d ms later than with
 * no delay.  Source: one LIF whose rest is above threshold; target: one silent LIF. */
static void delay_shifts_arrival(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    long first[2];
    for (int k = 0; k < 2; k++) {
        snn_config c;
        assert_int_equal(snn_preset(&c, "cuba", 5, 0, err), 0);
        c.n_pops = 2;
        c.pops[0].n = 1; c.pops[1].n = 1;
        c.pops[1].inhibitory = 0;
        c.pops[0].nrn.lif.v_rest = -40;
        c.pops[1].nrn.lif.v_rest = -70;
        for (int p = 0; p < 2; p++) c.pops[p].v_init_lo = c.pops[p].v_init_hi = -70;
        c.n_proj = 1;
        c.proj[0] = (snn_proj){0, 1, 1.0, 0, 5.0, k ? 2.0 : 0.0};
        snn_net *net;
        assert_int_equal(snn_build(&c, &net, err), 0);
        int idx[2] = {0, 1};
        snn_result r;
        assert_int_equal(snn_run(net, 50, 1, 1, idx, 2, &r, err), 0);
        assert_true(r.n_spikes >= 1);
        long spike = r.spk_step[0];
        first[k] = -1;
        for (long s = 0; s < r.steps; s++)
            if (r.vrec[r.steps + s] > -70 + 1e-3) { first[k] = s - spike; break; }
        snn_result_free(&r);
        snn_free(net);
    }
    assert_int_equal(first[0], 1);          /* delivered in the spike's step, felt in the next update */
    assert_int_equal(first[1] - first[0], 20); /* 2 ms = 20 steps later */
}

static void bad_configs_rejected(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snn_config c;
    assert_int_equal(snn_preset(&c, "cubax", 4000, 0, err), -1);
    assert_non_null(strstr(err, "cuba|coba"));
    assert_int_equal(snn_preset(&c, "cuba", 4000, 0, err), 0);
    c.tau_e = -5;
    assert_int_equal(snn_config_check(&c, err), -1);
    assert_non_null(strstr(err, "tau_e"));
    assert_int_equal(snn_preset(&c, "cuba", 4000, 0, err), 0);
    c.dt = 5;
    assert_int_equal(snn_config_check(&c, err), -1);
    assert_int_equal(snn_preset(&c, "cuba", 4000, 0, err), 0);
    c.proj[0].w = -1;
    assert_int_equal(snn_config_check(&c, err), -1);
    assert_non_null(strstr(err, "Dale"));
    assert_int_equal(snn_preset(&c, "cuba", 4000, 0, err), 0);
    c.pops[0].nrn.lif.tau_m = -20;
    assert_int_equal(snn_config_check(&c, err), -1);
}

/* STDP window: the trace code reproduces A+ exp(-dt/tau+) and -A- exp(dt/tau-) (sign
 * and time constant) to float precision on the dt grid. */
static void stdp_window_shape(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    stdp_rule r;
    stdp_rule_default(&r);
    double dts[6] = {-40, -20, -5, 5, 20, 40}, dw[6];
    assert_int_equal(stdp_measure_window(&r, 0.5, 0.1, dts, 6, dw, err), 0);
    for (int k = 0; k < 6; k++) {
        assert_true(dts[k] > 0 ? dw[k] > 0 : dw[k] < 0);
        assert_true(fabs(dw[k] - stdp_window(&r, dts[k], 0.5)) < 1e-6);
    }
    /* time constant: the ratio at 20 and 40 ms is exp(-20/tau) */
    assert_true(fabs(-20 / log(dw[5] / dw[4]) - r.tau_plus) < 0.01);
    assert_true(fabs(-20 / log(dw[0] / dw[1]) - r.tau_minus) < 0.01);
    r.multiplicative = 1;
    assert_int_equal(stdp_measure_window(&r, 0.25, 0.1, dts, 6, dw, err), 0);
    assert_true(fabs(dw[3] - 0.01 * 0.75 * exp(-5 / 20.0)) < 1e-6);
    assert_true(fabs(dw[2] + 0.0105 * 0.25 * exp(-5 / 20.0)) < 1e-6);
    r.tau_plus = -1;
    assert_int_equal(stdp_rule_check(&r, 0.1, err), -1);
}

/* The demo neuron learns the pattern: after training, pattern afferents are much
 * stronger than the others and the neuron fires in most pattern windows. */
static void stdp_learns_pattern(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    stdp_pattern_cfg c;
    stdp_pattern_default(&c);
    stdp_pattern_result r;
    assert_int_equal(stdp_pattern_run(&c, &r, err), 0);
    assert_true(r.w_pat[r.n_snap - 1] > 3 * r.w_bg[r.n_snap - 1]);
    assert_true(fabs(r.w_pat[0] - r.w_bg[0]) < 1e-9);  /* no head start */
    int a = r.n_windows * 4 / 5, np = 0, hit = 0;
    for (int w = a; w < r.n_windows; w++) if (r.is_pattern[w]) { np++; hit += r.n_post[w] > 0; }
    assert_true(hit > 0.8 * np);
    stdp_pattern_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(benchmark_rates),
        cmocka_unit_test(deterministic_across_threads_and_kernels),
        cmocka_unit_test(fixed_in_degree),
        cmocka_unit_test(delay_shifts_arrival),
        cmocka_unit_test(bad_configs_rejected),
        cmocka_unit_test(stdp_window_shape),
        cmocka_unit_test(stdp_learns_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
