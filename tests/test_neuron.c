/* test_neuron.c -- single neuron models against formulas and known firing patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "neuron.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXS 20000

static int run(const char *model, const char *preset, double I, double ms, double dt, double *spk) {
    nrn_params p;
    nrn_model m;
    char err[TB_ERRLEN];
    assert_int_equal(nrn_model_parse(model, &m, err), 0);
    assert_int_equal(nrn_params_default(&p, m, preset, err), 0);
    nrn_stim st = {0};
    st.kind = STIM_CONST;
    st.amp = I;
    int ns = -1;
    assert_int_equal(nrn_simulate(&p, &st, dt, ms, 1, NULL, NULL, spk, MAXS, &ns, err), 0);
    return ns;
}

/* LIF: with exact integration the only error is that a threshold crossing is noticed
 * at the end of its step, so every simulated ISI is the formula's ISI rounded UP to
 * the dt grid: 0 <= ISI_sim - ISI_formula < dt (0.1 ms).  Checked on the mean ISI. */
static void lif_fi_matches_formula(void **state) {
    (void)state;
    double spk[MAXS];
    nrn_params p;
    nrn_params_default(&p, NRN_LIF, NULL, NULL);
    const double Is[] = {1.55, 1.7, 2.0, 3.0, 5.0, 10.0};
    for (size_t k = 0; k < sizeof Is / sizeof Is[0]; k++) {
        int ns = run("lif", NULL, Is[k], 2000, 0.1, spk);
        assert_true(ns >= 3);
        double isi = (spk[ns - 1] - spk[0]) / (ns - 1), isi_formula = 1000.0 / lif_rate_analytic(&p.lif, Is[k]);
        assert_true(isi - isi_formula > -1e-9);
        assert_true(isi - isi_formula < 0.1);
    }
    /* below rheobase (1.5 nA): silent, and the formula says 0 */
    assert_int_equal(run("lif", NULL, 1.45, 2000, 0.1, spk), 0);
    assert_true(lif_rate_analytic(&p.lif, 1.45) == 0);
    assert_true(fabs(lif_rheobase(&p.lif) - 1.5) < 1e-12);
    /* the textbook form: v_rest = v_reset = 0, theta = 15 mV, R I = 20 mV */
    double f = 1000.0 / (2 + 10 * log(20.0 / (20.0 - 15.0)));
    assert_true(fabs(lif_rate_analytic(&p.lif, 2.0) - f) < 1e-9);
}

static void isis(const double *spk, int ns, double *mn, double *mx) {
    *mn = 1e9; *mx = 0;
    for (int s = 1; s < ns; s++) {
        double d = spk[s] - spk[s - 1];
        if (d < *mn) *mn = d;
        if (d > *mx) *mx = d;
    }
}

/* Izhikevich 2003 presets at I = 10: bursting cells have a bimodal ISI distribution
 * (intra-burst < 10 ms, inter-burst > 20 ms), RS adapts and never bursts, FS keeps a
 * short ISI (no adaptation after the first spikes), and every preset fires. */
static void izhikevich_signatures(void **state) {
    (void)state;
    double spk[MAXS], mn, mx;
    int ns = run("izh", "CH", 10, 1000, 0.1, spk);
    isis(spk, ns, &mn, &mx);
    assert_true(mn < 5 && mx > 20); /* chattering: bursts */
    int intra = 0, inter = 0;
    for (int s = 1; s < ns; s++) { double d = spk[s] - spk[s - 1]; intra += d < 10; inter += d > 20; }
    assert_true(intra >= 2 * inter && inter >= 8);  /* many bursts of several spikes */
    ns = run("izh", "IB", 10, 1000, 0.1, spk);
    assert_true(ns > 5);
    assert_true(spk[1] - spk[0] < 5);            /* initial burst */
    assert_true(spk[ns - 1] - spk[ns - 2] > 20);  /* then regular single spikes */
    ns = run("izh", "RS", 10, 1000, 0.1, spk);
    isis(spk, ns, &mn, &mx);
    assert_true(mn > 10);                          /* never bursts */
    assert_true((spk[ns - 1] - spk[ns - 2]) / (spk[1] - spk[0]) > 1.8);   /* adapts */
    ns = run("izh", "FS", 10, 1000, 0.1, spk);
    assert_true(ns > 80);                          /* fast */
    /* after the first few spikes the ISI is constant: last / 5th within 5% */
    assert_true(fabs((spk[ns - 1] - spk[ns - 2]) / (spk[5] - spk[4]) - 1) < 0.05);
    assert_true(spk[ns - 1] - spk[ns - 2] < 10);
    const char *all[] = {"RS", "IB", "CH", "FS", "LTS", "TC", "RZ"};
    for (int k = 0; k < 7; k++) assert_true(run("izh", all[k], 10, 500, 0.1, spk) > 3);
}

/* AdEx (Brette & Gerstner 2005 parameters): tonic keeps its ISI, adapting lengthens
 * it, bursting fires groups of spikes. */
static void adex_patterns(void **state) {
    (void)state;
    double spk[MAXS], mn, mx;
    int ns = run("adex", "tonic", 1, 1000, 0.05, spk);
    assert_true(ns > 20);
    assert_true(fabs((spk[ns - 1] - spk[ns - 2]) / (spk[1] - spk[0]) - 1) < 0.15);
    ns = run("adex", "adapting", 1, 1000, 0.05, spk);
    assert_true(ns > 5);
    assert_true((spk[ns - 1] - spk[ns - 2]) / (spk[1] - spk[0]) > 2);
    ns = run("adex", "bursting", 1, 1000, 0.05, spk);
    isis(spk, ns, &mn, &mx);
    assert_true(mn < 3 && mx > 15);
}

/* HH squid axon: silent below rheobase, repetitive above, spike peak and threshold in
 * the textbook range (peak +20..+55 mV, threshold -65..-45 mV). */
static void hh_rheobase_and_shape(void **state) {
    (void)state;
    double spk[MAXS];
    assert_int_equal(run("hh", NULL, 2.0, 300, 0.01, spk), 0);
    assert_true(run("hh", NULL, 10.0, 300, 0.01, spk) >= 15);
    nrn_params p;
    nrn_params_default(&p, NRN_HH, NULL, NULL);
    nrn_stim st = {0};
    st.kind = STIM_CONST;
    st.amp = 10;
    int n = 3000, ns;
    float *v = malloc(n * sizeof(float));
    char err[TB_ERRLEN];
    assert_int_equal(nrn_simulate(&p, &st, 0.01, 30, 1, v, NULL, spk, MAXS, &ns, err), 0);
    assert_true(ns >= 1);
    float peak = -100, thr = NAN;
    for (int k = 1; k < n; k++) {
        if (v[k] > peak) peak = v[k];
        if (isnan(thr) && (v[k] - v[k - 1]) / 0.01 > 10) thr = v[k - 1]; /* dv/dt > 10 mV/ms */
    }
    assert_true(peak > 20 && peak < 55);
    assert_true(thr > -65 && thr < -45);
    free(v);
}

static void bad_parameters_rejected(void **state) {
    (void)state;
    nrn_params p;
    char err[TB_ERRLEN];
    nrn_params_default(&p, NRN_LIF, NULL, NULL);
    p.lif.tau_m = -5;
    assert_int_equal(nrn_check(&p, 0.1, err), -1);
    assert_non_null(strstr(err, "tau_m"));
    nrn_params_default(&p, NRN_HH, NULL, NULL);
    assert_int_equal(nrn_check(&p, 0.1, err), -1);
    assert_non_null(strstr(err, "too large"));
    assert_int_equal(nrn_check(&p, 0.01, err), 0);
    assert_int_equal(nrn_params_default(&p, NRN_IZH, "XX", err), -1);
    assert_non_null(strstr(err, "RS"));
    assert_int_equal(nrn_params_default(&p, NRN_LIF, "RS", err), -1);
    nrn_model m;
    assert_int_equal(nrn_model_parse("lifx", &m, err), -1);
    nrn_stim st = {0};
    st.kind = STIM_NOISE;
    st.tau_noise = -1;
    assert_int_equal(nrn_stim_check(&st, err), -1);
}

/* Same seed, same noisy trace; another seed, another trace. */
static void deterministic_noise(void **state) {
    (void)state;
    nrn_params p;
    nrn_params_default(&p, NRN_LIF, NULL, NULL);
    nrn_stim st = {0};
    st.kind = STIM_NOISE;
    st.amp = 1.6;
    st.sigma = 0.5;
    st.tau_noise = 5;
    int n = 5000, a, b, c;
    float *v1 = malloc(n * sizeof(float)), *v2 = malloc(n * sizeof(float)), *v3 = malloc(n * sizeof(float));
    char err[TB_ERRLEN];
    assert_int_equal(nrn_simulate(&p, &st, 0.1, 500, 7, v1, NULL, NULL, 0, &a, err), 0);
    assert_int_equal(nrn_simulate(&p, &st, 0.1, 500, 7, v2, NULL, NULL, 0, &b, err), 0);
    assert_int_equal(nrn_simulate(&p, &st, 0.1, 500, 8, v3, NULL, NULL, 0, &c, err), 0);
    assert_memory_equal(v1, v2, n * sizeof(float));
    assert_true(memcmp(v1, v3, n * sizeof(float)) != 0);
    assert_int_equal(a, b);
    free(v1); free(v2); free(v3);
}

/* The f-I curve of a LIF neuron: every simulated ISI is the formula's rounded up to the
 * dt grid, so f_formula >= f_sim > 1000 / (1000 / f_formula + dt); silent below
 * rheobase (1.5 nA). */
static void fi_curve_brackets_formula(void **state) {
    (void)state;
    nrn_params p;
    char err[TB_ERRLEN];
    nrn_params_default(&p, NRN_LIF, NULL, NULL);
    const double I[] = {0.5, 1.45, 1.6, 2.0, 3.0, 6.0};
    double f[6];
    assert_int_equal(nrn_fi_curve(&p, 0.1, 2000, 1, I, 6, f, err), 0);
    for (int k = 0; k < 6; k++) {
        double fa = lif_rate_analytic(&p.lif, I[k]);
        if (fa == 0) { assert_true(f[k] == 0); continue; }
        assert_true(f[k] <= fa + 1e-9);
        assert_true(f[k] > 1000.0 / (1000.0 / fa + 0.1));
    }
    /* Izhikevich RS: silent at 0, firing faster the more current (the curve rises) */
    nrn_params_default(&p, NRN_IZH, "RS", NULL);
    const double J[] = {0, 5, 10, 20};
    double g[4];
    assert_int_equal(nrn_fi_curve(&p, 0.1, 1000, 1, J, 4, g, err), 0);
    assert_true(g[0] == 0);
    assert_true(g[1] > 0 && g[2] > g[1] && g[3] > g[2]);
    assert_int_equal(nrn_fi_curve(&p, 0.1, -5, 1, J, 4, g, err), -1);
}

/* The summary of a hand-made trace: spikes at 10, 15, 50, 53, 56, 100 ms have ISIs
 * 5, 35, 3, 3, 44 and two bursts (10-15 at the start; 50-53 after 35 ms of quiet). */
static void summary_hand_worked(void **state) {
    (void)state;
    float v[4] = {-70, -60, 30, -40}, cur[4] = {0};
    double t[6] = {10, 15, 50, 53, 56, 100};
    nrn_trace tr = {4, v, cur, t, 6};
    nrn_stim st = {0};
    st.kind = STIM_STEP;
    st.t_on = 0;
    st.t_off = 200;
    nrn_summary s;
    nrn_summarize(&tr, &st, 500, &s);
    assert_int_equal(s.spikes, 6);
    assert_true(fabs(s.rate_hz - 30) < 1e-12);          /* 6 spikes in the 200 ms step */
    assert_true(fabs(s.first_isi_ms - 5) < 1e-12);
    assert_true(fabs(s.last_isi_ms - 44) < 1e-12);
    assert_int_equal(s.bursts, 2);
    assert_true(fabs(s.v_mean_mv - (-35)) < 1e-9);
    assert_true(s.v_max_mv == 30);
    st.kind = STIM_CONST;                                /* constant input: over the run */
    tr.n_spikes = 1;
    nrn_summarize(&tr, &st, 500, &s);
    assert_true(fabs(s.rate_hz - 2) < 1e-12);
    assert_true(isnan(s.first_isi_ms) && isnan(s.last_isi_ms));
    assert_int_equal(s.bursts, 0);
}

/* A recorded run keeps what nrn_simulate gives, and its spike file lists every spike. */
static void record_and_write(void **state) {
    (void)state;
    nrn_params p;
    char err[TB_ERRLEN], path[64];
    nrn_params_default(&p, NRN_LIF, NULL, NULL);
    nrn_stim st = {0};
    st.kind = STIM_CONST;
    st.amp = 2;
    nrn_trace tr;
    assert_int_equal(nrn_record(&p, &st, 0.1, 300, 1, &tr, err), 0);
    assert_int_equal(tr.n, 3000);
    double spk[MAXS];
    int ns = run("lif", NULL, 2, 300, 0.1, spk);
    assert_int_equal(tr.n_spikes, ns);
    assert_memory_equal(tr.spike_ms, spk, (size_t)ns * sizeof(double));
    assert_true(tr.i[0] == 2.0f && tr.v[tr.n - 1] < p.lif.v_th);
    snprintf(path, sizeof path, "/tmp/tb_test_neuron_%ld.tsv", (long)getpid());
    assert_int_equal(nrn_write_spikes(path, &tr, err), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF) lines += c == '\n';
    fclose(f);
    remove(path);
    assert_int_equal(lines, ns + 1);   /* header + one line per spike */
    nrn_trace_free(&tr);
    assert_null(tr.v);
}

/* The parameter table is the defaults: each entry reads the value nrn_params_default
 * puts there, and writing through it changes that field and nothing else. */
static void param_table_is_the_defaults(void **state) {
    (void)state;
    char preset[16];
    for (int i = 0; i < NRN_N_PARAMS; i++) {
        const nrn_param_info *d = &nrn_param_table[i];
        nrn_params p, q;
        nrn_params_default(&p, d->model, NULL, NULL);
        assert_true(nrn_param_default(d, preset, sizeof preset) == *nrn_param_at(&p, d));
        assert_string_equal(preset, p.preset);
        for (int j = 0; j < i; j++) assert_true(strcmp(d->name, nrn_param_table[j].name) != 0);
        q = p;
        double old = *nrn_param_at(&q, d);
        *nrn_param_at(&q, d) = old + 1;
        assert_true(memcmp(&p, &q, sizeof p) != 0);
        *nrn_param_at(&q, d) = old;
        assert_memory_equal(&p, &q, sizeof p);
    }
    nrn_params p;
    nrn_params_default(&p, NRN_LIF, NULL, NULL);
    *nrn_param_at(&p, &nrn_param_table[0]) = 25;            /* tau-m */
    assert_true(p.lif.tau_m == 25);
    assert_true(nrn_param_default(&nrn_param_table[6], NULL, 0) == 0.02);   /* izh a, RS */
    /* every model runs at its default time step */
    char err[TB_ERRLEN];
    for (nrn_model m = NRN_LIF; m <= NRN_HH; m++) {
        nrn_params_default(&p, m, NULL, NULL);
        assert_int_equal(nrn_check(&p, nrn_default_dt(m), err), 0);
    }
    assert_true(nrn_default_dt(NRN_HH) == 0.01 && nrn_default_dt(NRN_ADEX) == 0.05);
}

/* On the v-nullcline one step leaves v unchanged, on the u-nullcline u (to first order
 * in dt: the step is forward Euler); the replay reproduces nrn_record's voltage trace. */
static void phase_plane_nullclines_and_replay(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    const char *presets[2] = {"RS", "adapting"};
    for (int m = 0; m < 2; m++) {
        nrn_params p;
        assert_int_equal(nrn_params_default(&p, m ? NRN_ADEX : NRN_IZH, presets[m], err), 0);
        assert_true(nrn_has_phase_plane(&p));
        double v[3] = {-70, -60, -52}, uv[3], uu[3], I = m ? 0.5 : 5, dt = 1e-4;
        assert_int_equal(nrn_nullclines(&p, I, v, 3, uv, uu), 0);
        for (int k = 0; k < 3; k++) {
            nrn_state s = {v[k], uv[k], 0, 0, 0, 0};
            nrn_step(&p, &s, I, dt);
            assert_true(fabs(s.v - v[k]) < 1e-9);          /* dv/dt = 0 on the v-nullcline */
            nrn_state t = {v[k], uu[k], 0, 0, 0, 0};
            nrn_step(&p, &t, I, dt);
            assert_true(fabs(t.u - uu[k]) < 1e-12);        /* du/dt = 0 on the u-nullcline */
            assert_true(fabs(s.u - uv[k]) > 1e-12 || fabs(uv[k] - uu[k]) < 1e-9); /* and not both */
        }
        nrn_stim st = {0};
        st.kind = STIM_STEP;
        st.amp = m ? 1 : 10;
        st.t_on = 20;
        st.t_off = 180;
        nrn_trace tr;
        double dt0 = nrn_default_dt(p.model);
        assert_int_equal(nrn_record(&p, &st, dt0, 200, 1, &tr, err), 0);
        float *rv = malloc((size_t)tr.n * sizeof *rv), *ru = malloc((size_t)tr.n * sizeof *ru);
        unsigned char *sp = malloc((size_t)tr.n);
        assert_true(rv && ru && sp);
        assert_int_equal(nrn_replay_phase(&p, tr.i, tr.n, dt0, rv, ru, sp, err), 0);
        int resets = 0;   /* the trace shows the spike's peak where the replay has the reset */
        for (long k = 0; k < tr.n; k++) {
            resets += sp[k];
            if (!sp[k]) assert_true(rv[k] == tr.v[k]);
        }
        assert_int_equal(resets, tr.n_spikes);
        assert_true(tr.n_spikes > 0);
        free(rv); free(ru); free(sp);
        nrn_trace_free(&tr);
    }
    nrn_params lif;
    nrn_params_default(&lif, NRN_LIF, NULL, NULL);
    double v = -60, a, b;
    assert_false(nrn_has_phase_plane(&lif));
    assert_int_equal(nrn_nullclines(&lif, 1, &v, 1, &a, &b), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lif_fi_matches_formula),
        cmocka_unit_test(izhikevich_signatures),
        cmocka_unit_test(adex_patterns),
        cmocka_unit_test(hh_rheobase_and_shape),
        cmocka_unit_test(bad_parameters_rejected),
        cmocka_unit_test(deterministic_noise),
        cmocka_unit_test(fi_curve_brackets_formula),
        cmocka_unit_test(summary_hand_worked),
        cmocka_unit_test(record_and_write),
        cmocka_unit_test(param_table_is_the_defaults),
        cmocka_unit_test(phase_plane_nullclines_and_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
