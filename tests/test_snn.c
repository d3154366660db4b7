/* test_snn.c -- spiking networks and STDP: benchmark rates, determinism across kernels
 * and thread counts, delays, connectivity, bad configs (the LIF kernels against their
 * scalar twins: test_kernels.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io.h"
#include "kernels.h"
#include "rng.h"
#include "snn_plot.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    double h[5], fa[5], lat[5];   /* the last fifth, as stdp_pattern_progress counts it */
    stdp_pattern_progress(&r, c.pattern_ms, 5, h, fa, lat);
    assert_true(fabs(h[4] - (double)hit / np) < 1e-12);
    assert_true(h[4] > h[0]);
    assert_true(lat[4] > 0 && lat[4] < c.pattern_ms);
    stdp_pattern_free(&r);
}

/* stdp_pattern_progress on 8 hand-made windows of 50 ms cut in two halves:
 * half 1: pattern windows 0 (1 spike at 30 ms) and 2 (none); others 1 (2 spikes), 3 (0);
 * half 2: pattern windows 4 (10 ms) and 6 (20 ms); others 5, 7 (no spikes). */
static void stdp_progress_hand_worked(void **state) {
    (void)state;
    int is_pat[8] = {1, 0, 1, 0, 1, 0, 1, 0}, n_post[8] = {1, 2, 0, 0, 1, 0, 3, 0};
    double latency[8] = {30, 5, NAN, NAN, 10, NAN, 20, NAN};
    stdp_pattern_result r = {0};
    r.n_windows = 8;
    r.is_pattern = is_pat;
    r.n_post = n_post;
    r.latency = latency;
    double hit[8], fa[8], lat[8];
    stdp_pattern_progress(&r, 50, 2, hit, fa, lat);
    assert_true(hit[0] == 0.5 && hit[1] == 1.0);
    assert_true(fabs(fa[0] - 2 / (2 * 0.05)) < 1e-12);   /* 2 spikes in 0.1 s outside the pattern */
    assert_true(fa[1] == 0);
    assert_true(lat[0] == 30 && lat[1] == 15);
    stdp_pattern_progress(&r, 50, 8, hit, fa, lat);    /* stretches of one window */
    assert_true(isnan(fa[0]) && isnan(hit[1]) && isnan(lat[2]));
}

/* The measured window gives back the rule's time constants (fitted from dw on the
 * 2 ms grid, each point within one 0.1 ms step of the formula). */
static void stdp_window_fit(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    stdp_rule r;
    stdp_rule_default(&r);
    r.tau_minus = 30;
    stdp_window_result w;
    assert_int_equal(stdp_window_experiment(&r, 0.3, &w, err), 0);
    assert_true(w.w == 0.3);
    assert_true(w.dt_pair[0] == -100 && w.dt_pair[STDP_WINDOW_N - 1] == 100 && w.dt_pair[55] == 10);
    assert_true(fabs(w.tau_plus_fit - 20) < 0.05);
    assert_true(fabs(w.tau_minus_fit - 30) < 0.05);
    assert_true(fabs(w.dw_plus10 - r.a_plus * exp(-10 / 20.0)) < 1e-6);
    assert_true(fabs(w.dw_minus10 + r.a_minus * exp(-10 / 30.0)) < 1e-6);
    assert_true(w.curve_dw[200] == 0 && w.curve_dt[STDP_CURVE_N - 1] == 100);
    r.multiplicative = 1;   /* measured mid-range */
    assert_int_equal(stdp_window_experiment(&r, 0.3, &w, err), 0);
    assert_true(w.w == 0.5 * r.w_max);
    r.a_plus = 0;           /* no potentiation: nothing to fit on that side */
    assert_int_equal(stdp_window_experiment(&r, 0.3, &w, err), 0);
    assert_true(isnan(w.tau_plus_fit) && !isnan(w.tau_minus_fit));
}

/* The preset table is what snn_preset builds from. */
static void preset_table(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snn_config c;
    for (int i = 0; i < SNN_N_PRESETS; i++) {
        const snn_preset_info *b = &snn_presets[i];
        assert_ptr_equal(snn_preset_find(b->name), b);
        assert_int_equal(snn_preset(&c, b->name, b->n, 0, err), 0);
        assert_int_equal(c.pops[0].n + c.pops[1].n, b->n);
        assert_int_equal(c.syn, b->syn);
        assert_true(c.tau_e == b->tau_e && c.tau_i == b->tau_i && c.dt == b->dt);
        assert_true(c.pops[0].nrn.lif.v_rest == b->e_l && c.pops[1].gi_mu == b->gi_mu);
        for (int q = 0; q < c.n_proj; q++) {
            assert_true(c.proj[q].p == b->p);
            assert_true(c.proj[q].w == (c.proj[q].src == 0 ? b->we : b->wi));
        }
    }
    assert_null(snn_preset_find("cubax"));
    assert_true(fabs(snn_presets[0].we - 1.62) < 1e-12);   /* Brian's 60 * 0.27 / 10 mV */
}

/* A setup changes exactly what it names; bad names are errors that say what is wrong. */
static void setup_changes(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    snn_setup s;
    snn_config c, ref;
    snn_setup_default(&s);
    assert_int_equal(snn_setup_config(&s, &c, err), 0);
    assert_int_equal(snn_preset(&ref, "cuba", 4000, 0, err), 0);
    assert_memory_equal(&c, &ref, sizeof c);                 /* the default is the benchmark */
    s.preset = "coba";
    s.n = 1000;
    s.model = "izh";
    s.preset_e = "CH";
    s.we = 3;
    s.p = 0.05;
    s.delay_ms = 1.5;
    s.bg_rate_hz = 10;
    s.bg_n = 4;
    s.syn = "cuba";
    s.seed = 9;
    assert_int_equal(snn_setup_config(&s, &c, err), 0);
    assert_true(c.pops[0].nrn.model == NRN_IZH && !strcmp(c.pops[0].nrn.preset, "CH"));
    assert_string_equal(c.pops[1].nrn.preset, "FS");         /* izh inhibitory default */
    assert_true(c.pops[0].v_init_lo == -70 && c.syn == SYN_CUBA && c.seed == 9);
    assert_true(c.pops[1].bg_n == 4 && c.pops[1].bg_rate_hz == 10);
    for (int q = 0; q < c.n_proj; q++) {
        assert_true(c.proj[q].p == 0.05 && c.proj[q].delay_ms == 1.5);
        assert_true(c.proj[q].w == (c.proj[q].src == 0 ? 3 : snn_presets[1].wi));
    }
    snn_setup_default(&s);
    s.preset_i = "FS";                                        /* lif has no presets */
    assert_int_equal(snn_setup_config(&s, &c, err), -1);
    snn_setup_default(&s);
    s.syn = "cobra";
    assert_int_equal(snn_setup_config(&s, &c, err), -1);
    assert_non_null(strstr(err, "cobra"));
    s.syn = NULL;
    s.model = "izh";
    s.preset_e = "XX";
    assert_int_equal(snn_setup_config(&s, &c, err), -1);
    assert_non_null(strstr(err, "excitatory"));
}

/* The summary of a run counts every spike once; the rates agree with the counts. */
static void run_summary(void **state) {
    (void)state;
    char err[TB_ERRLEN], dir[64], prefix[96], path[128];
    snn_config c;
    snn_net *net;
    assert_int_equal(snn_preset(&c, "cuba", 1000, 0, err), 0);
    assert_int_equal(snn_build(&c, &net, err), 0);
    int vidx[2] = {0, 999};
    snn_result r;
    assert_int_equal(snn_run(net, 200, 1, 1, vidx, 2, &r, err), 0);
    snn_summary s;
    assert_int_equal(snn_summarize(&r, &c, &s, err), 0);
    long long total = 0, exc = 0;
    for (int i = 0; i < s.n; i++) { total += s.count[i]; if (i < s.n_exc) exc += s.count[i]; }
    assert_true(total == r.n_spikes && total > 0);
    assert_int_equal(s.n_exc, 800);
    assert_true(fabs(s.rate_hz - total / (1000 * 0.2)) < 1e-9);
    assert_true(fabs(s.rate_e_hz - exc / (800 * 0.2)) < 1e-9);
    assert_true(fabs(s.rate_e_hz * 800 + s.rate_i_hz * 200 - s.rate_hz * 1000) < 1e-6);
    double mv = 0;
    for (long k = 0; k < r.steps; k++) mv += r.vrec[r.steps + k];
    assert_true(fabs(snn_vrec_mean(&r, 1) - mv / r.steps) < 1e-9);
    /* the spike file and the three pictures */
    snprintf(dir, sizeof dir, "/tmp/tb_test_snn_%ld", (long)getpid());
    assert_int_equal(make_dirs(dir, err), 0);
    snprintf(path, sizeof path, "%s/spikes.tsv", dir);
    assert_int_equal(snn_write_spikes(path, &r, c.dt, err), 0);
    char *text;
    size_t len;
    assert_int_equal(read_file(path, &text, &len, err), 0);
    long lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    assert_int_equal(lines, r.n_spikes + 1);
    free(text);
    snprintf(prefix, sizeof prefix, "%s/net", dir);
    tb_picture pics[SNN_RUN_PICTURES];
    assert_int_equal(snn_plot_run(prefix, "cuba", &c, &r, &s, 100, pics, err), 0);
    snprintf(path, sizeof path, "%s/net_raster.png", dir);
    assert_string_equal(pics[0].path, path);
    for (int k = 0; k < SNN_RUN_PICTURES; k++) assert_int_equal(access(pics[k].path, F_OK), 0);
    snn_summary_free(&s);
    snn_result_free(&r);
    snn_free(net);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

/* Width and height of a PNG from its IHDR chunk. */
static void png_size(const char *path, int *w, int *h) {
    char err[TB_ERRLEN], *b;
    size_t n;
    assert_int_equal(read_file(path, &b, &n, err), 0);
    assert_true(n > 24 && !memcmp(b, "\x89PNG", 4));
    const unsigned char *u = (const unsigned char *)b;
    *w = (int)((unsigned)u[16] << 24 | u[17] << 16 | u[18] << 8 | u[19]);
    *h = (int)((unsigned)u[20] << 24 | u[21] << 16 | u[22] << 8 | u[23]);
    free(b);
}

/* The neuron and STDP pictures land under their prefix, at their sizes; the LIF f-I
 * plot carries the formula as a second series. */
static void neuron_and_stdp_pictures(void **state) {
    (void)state;
    char err[TB_ERRLEN], dir[64], prefix[96], path[128];
    snprintf(dir, sizeof dir, "/tmp/tb_test_snn_pics_%ld", (long)getpid());
    assert_int_equal(make_dirs(dir, err), 0);
    snprintf(prefix, sizeof prefix, "%s/lif", dir);
    nrn_params p;
    nrn_params_default(&p, NRN_LIF, NULL, NULL);
    nrn_stim st = {0};
    st.kind = STIM_STEP;
    st.amp = 2;
    st.t_on = 20;
    st.t_off = 80;
    nrn_trace tr;
    tb_picture pic;
    int w, h;
    assert_int_equal(nrn_record(&p, &st, 0.1, 100, 1, &tr, err), 0);
    assert_int_equal(nrn_plot_trace(prefix, &p, &tr, 0.1, "LIF", &pic, err), 0);
    png_size(pic.path, &w, &h);
    assert_true(w == 1000 && h == 560);
    double I[3] = {1, 2, 3}, f[3] = {0, 63, 120};
    assert_int_equal(nrn_plot_fi(prefix, &p, "lif", 0.1, 500, I, f, 3, &pic, err), 0);
    snprintf(path, sizeof path, "%s/lif_fi.dat", dir);
    char *text;
    size_t len;
    assert_int_equal(read_file(path, &text, &len, err), 0);
    assert_non_null(strstr(text, "# simulated"));
    assert_non_null(strstr(text, "# formula"));
    free(text);
    nrn_trace_free(&tr);
    /* STDP: the measured window and a two-window, two-snapshot pattern run */
    stdp_pattern_cfg c;
    stdp_pattern_default(&c);
    c.n_in = 4;
    c.n_pattern = 2;
    stdp_window_result win;
    assert_int_equal(stdp_window_experiment(&c.rule, c.w0, &win, err), 0);
    int is_pat[2] = {1, 0}, n_post[2] = {1, 0};
    double lat[2] = {12, NAN}, snap_t[2] = {0, 100}, w_pat[2] = {0.3, 0.6}, w_bg[2] = {0.3, 0.1};
    float w_final[4] = {0.9f, 0.8f, 0.1f, 0};
    stdp_pattern_result r = {2, is_pat, n_post, lat, 2, snap_t, w_pat, w_bg, w_final, 1};
    tb_picture pics[STDP_PICTURES];
    snprintf(prefix, sizeof prefix, "%s/stdp", dir);
    assert_int_equal(stdp_plot_run(prefix, "additive", &win, &c, &r, pics, err), 0);
    for (int k = 0; k < STDP_PICTURES; k++) assert_int_equal(access(pics[k].path, F_OK), 0);
    snprintf(path, sizeof path, "%s/stdp_learning.png", dir);
    png_size(path, &w, &h);
    assert_true(w == 1000 && h == 560);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
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
        cmocka_unit_test(stdp_progress_hand_worked),
        cmocka_unit_test(stdp_window_fit),
        cmocka_unit_test(preset_table),
        cmocka_unit_test(setup_changes),
        cmocka_unit_test(run_summary),
        cmocka_unit_test(neuron_and_stdp_pictures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
