/* test_scan.c -- the virtual scanner (scan.h): the canonical HRF against hand-computed
 * gamma densities, the DCT drift basis, GLM betas recovering known amplitudes, the noise
 * generators, srnn_spikes against srnn_record, whole scans of a synthetic brain (design,
 * layout, ECoG time courses, determinism across thread counts, ceilings that fall with
 * fewer runs and lower SNR), and the across-subject ceiling on synthetic subjects; the
 * same scan at another SNR, a second session of the same sheet, the topographic layout, the
 * localizer finding a planted language region, and the study of several subjects (ceilings
 * by region and subject count, encoding scores). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scan.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the haemodynamic response --------------------------------------------------------- */

static void hrf_is_spm_canonical(void **state) {
    (void)state;
    double h[300];
    assert_int_equal(scan_hrf_length(2.0), 17);      /* t = 0, 2, ... 32 s */
    assert_int_equal(scan_hrf_length(0.125), 257);
    assert_int_equal(scan_hrf_length(0.7), 46);      /* floor(32 / 0.7) + 1 */
    scan_hrf(2.0, h);
    /* by hand: g6 = t^5 e^-t / 5!, g16 = t^15 e^-t / 15!, h = g6 - g16 / 6, then sum 1 */
    double raw[17], sum = 0;
    for (int k = 0; k < 17; k++) {
        double t = 2.0 * k;
        raw[k] = pow(t, 5) * exp(-t) / 120.0 - pow(t, 15) * exp(-t) / 1307674368000.0 / 6.0;
        sum += raw[k];
    }
    double hs = 0;
    for (int k = 0; k < 17; k++) {
        assert_true(fabs(h[k] - raw[k] / sum) < 1e-12);
        hs += h[k];
    }
    assert_true(fabs(hs - 1.0) < 1e-12);
    assert_true(h[0] == 0.0);
    assert_true(h[3] > h[2] && h[3] > h[4]);       /* the peak between 4 and 8 s */
    assert_true(h[8] < 0 && h[8] < h[7] && h[8] < h[9]);   /* the undershoot, deepest at 16 s */
    assert_true(fabs(h[3] - 0.3849) < 5e-5);       /* spm_hrf(2) to 4 decimals */
    /* the microtime version has the same shape: its peak is near 5 s */
    scan_hrf(0.125, h);
    int peak = 0;
    for (int k = 1; k < 257; k++) peak = h[k] > h[peak] ? k : peak;
    assert_true(peak * 0.125 > 4.5 && peak * 0.125 < 5.5);
}

static void dct_basis_is_orthonormal(void **state) {
    (void)state;
    assert_int_equal(scan_dct_count(100, 2.0, 128.0), 4);   /* floor(2*100*2/128) + 1 */
    assert_int_equal(scan_dct_count(10, 2.0, 1.0), 10);     /* never more columns than scans */
    int n = 100, k = 4;
    double C[400];
    scan_dct(n, k, C);
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += C[i * k + a] * C[i * k + b];
            assert_true(fabs(s - (a == b)) < 1e-12);
        }
    assert_true(fabs(C[0] - 0.1) < 1e-15);   /* 1 / sqrt(100) */
}

/* ---- the GLM ------------------------------------------------------------------------------ */

/* n_ev events, jittered onsets 6-10 s apart, durations 1.5-3.5 s. */
static int toy_design(tb_rng *g, int n_ev, double *onset, double *dur, double tr) {
    double t = 10.0;
    for (int e = 0; e < n_ev; e++) {
        onset[e] = round(t / (tr / 16)) * (tr / 16);
        dur[e] = 1.5 + 2.0 * rng_uniform(g);
        t = onset[e] + dur[e] + 4.0 + 4.0 * rng_uniform(g);
    }
    return (int)ceil((t + 20.0) / tr);
}

static void glm_recovers_known_amplitudes(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 3);
    enum { NE = 30 };
    double onset[NE], dur[NE], beta[NE], *X;
    double tr = 2.0;
    int ns = toy_design(&g, NE, onset, dur, tr), p;
    char err[TB_ERRLEN];
    assert_int_equal(scan_design(onset, dur, NE, ns, tr, 128.0, &X, &p, err), 0);
    int k = scan_dct_count(ns, tr, 128.0);
    assert_int_equal(p, NE + k);
    /* a regressor is 0 before its onset; a boxcar of b microtime bins sampled every 16th
     * bin sums to sum over its bins u of H(u mod 16), H(phi) = the HRF's samples
     * h[16 k + (16 - phi) mod 16] summed over k (the HRF sums to 1 over all 16 phases) */
    double h[300], H[16] = {0};
    scan_hrf(tr / 16, h);
    for (int m = 0; m < scan_hrf_length(tr / 16); m++) H[(16 - m % 16) % 16] += h[m];
    for (int e = 0; e < NE - 3; e++) {
        double s = 0, want = 0;
        for (int j = 0; j < ns; j++) {
            if (j * tr < onset[e]) assert_true(X[(size_t)j * p + e] == 0.0);
            s += X[(size_t)j * p + e];
        }
        for (long u = lround(onset[e] / (tr / 16)); u < lround((onset[e] + dur[e]) / (tr / 16)); u++) want += H[u % 16];
        assert_true(fabs(s - want) < 1e-12);
        assert_true(fabs(s * 16 / (dur[e] / (tr / 16)) - 1) < 0.1);   /* about 1/16 per bin */
    }
    /* y = X beta + drift (in the DCT space) + noise: two responses at once */
    double *Y = malloc((size_t)ns * 2 * sizeof *Y), *B = malloc((size_t)p * 2 * sizeof *B);
    double *e = malloc((size_t)ns * sizeof *e);
    assert_non_null(Y);
    assert_non_null(B);
    assert_non_null(e);
    for (int i = 0; i < NE; i++) beta[i] = 0.5 + 1.5 * rng_uniform(&g);
    scan_fmri_noise(&g, ns, 0.4, 0.5, 0.2, e);
    for (int j = 0; j < ns; j++) {
        double y = 3.0 + 0.5 * X[(size_t)j * p + NE + 1];   /* baseline and a slow drift */
        for (int i = 0; i < NE; i++) y += X[(size_t)j * p + i] * beta[i];
        Y[2 * j] = y;
        Y[2 * j + 1] = y + 0.02 * e[j];
    }
    assert_int_equal(scan_glm(X, ns, p, Y, 2, B, err), 0);
    double worst = 0, se = 0;
    for (int i = 0; i < NE; i++) {
        worst = fmax(worst, fabs(B[2 * i] - beta[i]));
        se += (B[2 * i + 1] - beta[i]) * (B[2 * i + 1] - beta[i]) / NE;
    }
    assert_true(worst < 1e-9);      /* noiseless: exact */
    assert_true(sqrt(se) < 0.1);    /* with noise: close (amplitudes 0.5 .. 2) */
    assert_true(sqrt(se) > 1e-4);   /* ... and the noise did reach the betas */
    /* a rank-deficient design is refused */
    for (int j = 0; j < ns; j++) X[(size_t)j * p + 1] = X[(size_t)j * p];
    assert_int_equal(scan_glm(X, ns, p, Y, 2, B, err), -1);
    assert_non_null(strstr(err, "rank deficient"));
    free(X); free(Y); free(B); free(e);
}

/* ---- noise ------------------------------------------------------------------------------- */

static double lag1(const double *x, int n) {
    double m = 0, v = 0, c = 0;
    for (int i = 0; i < n; i++) m += x[i] / n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    for (int i = 1; i < n; i++) c += (x[i] - m) * (x[i - 1] - m);
    return c / v;
}

static double variance(const double *x, int n) {
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i] / n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m) / n;
    return v;
}

static void noise_has_the_asked_structure(void **state) {
    (void)state;
    enum { N = 40000 };
    double *e = malloc(N * sizeof *e);
    assert_non_null(e);
    tb_rng g;
    rng_seed(&g, 11);
    scan_fmri_noise(&g, N, 0.4, 1.0, 0.0, e);   /* AR(1) only */
    assert_true(fabs(variance(e, N) - 1.0) < 0.05);
    assert_true(fabs(lag1(e, N) - 0.4) < 0.03);
    scan_fmri_noise(&g, N, 0.4, 0.0, 0.0, e);   /* white only */
    assert_true(fabs(lag1(e, N)) < 0.03);
    scan_fmri_noise(&g, 500, 0.4, 0.0, 1.0, e); /* drift only: unit variance, slow */
    assert_true(fabs(variance(e, 500) - 1.0) < 1e-9);
    assert_true(lag1(e, 500) > 0.9);
    scan_fmri_noise(&g, N, 0.4, 0.5, 0.2, e);   /* the default mix: lag-1 = 0.5 * 0.4 + drift */
    double l = lag1(e, N);
    assert_true(l > 0.2 && l < 0.5);
    /* 1/f: averaging 64 samples removes far less than white noise's 63/64 */
    scan_pink_noise(&g, N, 1.0, e);
    assert_true(fabs(variance(e, N) - 1.0) < 0.25);
    double means[N / 64];
    for (int b = 0; b < N / 64; b++) {
        means[b] = 0;
        for (int i = 0; i < 64; i++) means[b] += e[b * 64 + i] / 64;
    }
    double vm = variance(means, N / 64);
    assert_true(vm > 0.2 && vm < 0.8);
    free(e);
}

/* ---- the neural drive ------------------------------------------------------------------------ */

static void srnn_spikes_sum_to_srnn_record(void **state) {
    (void)state;
    srnn_config c;
    srnn_default_config(&c);
    c.vocab_size = 9;
    c.n_neurons = 48;
    c.steps_per_token = 5;
    c.w_in_std = 1.2;
    c.noise_hz = 300;
    srnn_model m;
    char err[TB_ERRLEN];
    assert_int_equal(srnn_init(&m, &c, err), 0);
    int ids[7] = {0, 3, 1, 4, 1, 5, 0}, n = 7, N = 48, K = 5;
    float *spk = malloc((size_t)n * K * N * sizeof *spk), *cnt = malloc((size_t)n * N * sizeof *cnt);
    float *spk2 = malloc((size_t)n * K * N * sizeof *spk2);
    assert_non_null(spk);
    assert_non_null(cnt);
    assert_non_null(spk2);
    long long ctr = m.ctr.steps;
    assert_int_equal(srnn_spikes(&m, ids, n, 42, -1, spk, err), 0);
    assert_true(m.ctr.steps == ctr);   /* the model is only read */
    assert_int_equal(srnn_record(&m, ids, n, 42, -1, cnt, err), 0);
    long total = 0;
    for (int t = 0; t < n; t++)
        for (int i = 0; i < N; i++) {
            float s = 0;
            for (int k = 0; k < K; k++) {
                float x = spk[((size_t)t * K + k) * N + i];
                assert_true(x == 0.0f || x == 1.0f);
                s += x;
            }
            assert_true(s == cnt[(size_t)t * N + i]);
            total += (long)s;
        }
    assert_true(total > 20);   /* the network did spike */
    assert_int_equal(srnn_spikes(&m, ids, n, 43, -1, spk2, err), 0);   /* another seed, other noise */
    assert_true(memcmp(spk, spk2, (size_t)n * K * N * sizeof *spk) != 0);
    assert_int_equal(srnn_spikes(&m, ids, n, 43, 0, spk2, err), 0);    /* noise off: still runs */
    ids[2] = 99;
    assert_int_equal(srnn_spikes(&m, ids, n, 42, -1, spk, err), -1);
    free(spk); free(cnt); free(spk2);
    srnn_free(&m);
}

/* ---- a synthetic brain ------------------------------------------------------------------------ */
/* Neuron j spikes with probability rate[token, j] per step (plus a ramp over the sentence:
 * activity builds up), from the trial's seed. */
typedef struct { int V, N, K; double *rate; } toy_brain;

static int toy_run(const scan_brain *b, const int *ids, int n, uint64_t seed, float *spikes, char *err) {
    const toy_brain *t = b->model;
    (void)err;
    tb_rng g;
    rng_seed(&g, seed);
    for (int w = 0; w < n; w++)
        for (int k = 0; k < t->K; k++)
            for (int j = 0; j < t->N; j++)
                spikes[((size_t)w * t->K + k) * t->N + j] = rng_uniform(&g) < t->rate[ids[w] * t->N + j] + 0.02 * w ? 1.0f : 0.0f;
    return 0;
}

static void toy_make(toy_brain *t, scan_brain *b, rec_stimuli *s, int n_stim) {
    t->V = 12;
    t->N = 64;
    t->K = 8;
    t->rate = malloc((size_t)t->V * t->N * sizeof *t->rate);
    assert_non_null(t->rate);
    tb_rng g;
    rng_seed(&g, 5);
    for (int i = 0; i < t->V * t->N; i++) {
        double u = rng_uniform(&g);
        t->rate[i] = 0.01 + 0.6 * u * u * u;
    }
    memset(b, 0, sizeof *b);
    b->neurons = t->N;
    b->steps_per_token = t->K;
    b->dt_ms = 1.0;
    b->run = toy_run;
    b->model = t;
    s->n = n_stim;
    s->text = calloc((size_t)n_stim, sizeof *s->text);
    s->ids = calloc((size_t)n_stim, sizeof *s->ids);
    s->len = calloc((size_t)n_stim, sizeof *s->len);
    assert_non_null(s->text);
    assert_non_null(s->ids);
    assert_non_null(s->len);
    for (int i = 0; i < n_stim; i++) {
        s->len[i] = 4 + (int)rng_below(&g, 5);
        s->ids[i] = malloc((size_t)s->len[i] * sizeof(int));
        assert_non_null(s->ids[i]);
        s->ids[i][0] = 0;   /* the '.' context */
        for (int w = 1; w < s->len[i]; w++) s->ids[i][w] = 1 + (int)rng_below(&g, (uint32_t)t->V - 1);
    }
}

static double ceiling_of(const scan_result *r, int clean) {
    double *pu = malloc((size_t)r->channels * sizeof *pu), med;
    char err[TB_ERRLEN];
    assert_non_null(pu);
    assert_int_equal(noise_ceiling(clean ? r->resp_clean : r->resp, r->trials, r->stimuli, r->channels, 10, 1, pu, &med, err), 0);
    free(pu);
    return med;
}

static void fmri_design_and_layout(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s;
    toy_make(&t, &b, &s, 30);
    scan_config c;
    scan_default_config(&c, SCAN_FMRI);
    c.channels = 10;
    scan_result r;
    char err[TB_ERRLEN];
    assert_int_equal(scan_subject(&b, &s, &c, &r, err), 0);
    assert_int_equal(r.trials, 4);
    assert_int_equal(r.stimuli, 30);
    double dt = c.tr_s / 16;
    for (int run = 0; run < r.trials; run++) {
        int seen[30] = {0};
        double prev_end = -1;
        for (int p = 0; p < 30; p++) {
            int i = r.order[run * 30 + p];
            assert_int_equal(seen[i]++, 0);   /* every stimulus once per run */
            double on = r.onset_s[run * 30 + i];
            assert_true(fabs(on / dt - round(on / dt)) < 1e-9);   /* on the microtime grid */
            assert_true(fabs(r.dur_s[i] - (s.len[i] - 1) * 0.4) < 1e-12);
            if (p == 0) assert_true(fabs(on - c.rest_s) < dt);
            else assert_true(on - prev_end > c.isi_s - c.jitter_s - dt && on - prev_end < c.isi_s + c.jitter_s + dt);
            prev_end = on + r.dur_s[i];
        }
        assert_true(r.n_scans[run] * c.tr_s >= prev_end + c.rest_s);
        for (int j = 0; j < r.max_scans; j++)
            assert_true(isnan(r.bold[((size_t)run * r.max_scans + j) * 10]) == (j >= r.n_scans[run]));
    }
    assert_true(memcmp(r.order, r.order + 30, 30 * sizeof(int)) != 0);   /* a new order each run */
    /* layout: neurons on the sheet, channels inside the covered square, Gaussian weights */
    double side = c.sheet_mm * sqrt(c.coverage), o = (c.sheet_mm - side) / 2;
    double sigma = c.channel_mm / (2 * sqrt(2 * log(2.0)));
    for (int ch = 0; ch < 10; ch++) {
        double x = r.chan_xy[2 * ch], y = r.chan_xy[2 * ch + 1], s1 = 0, s2 = 0;
        assert_true(x > o && x < o + side && y > o && y < o + side);
        for (int i = 0; i < r.neurons; i++) {
            double dx = r.neuron_xy[2 * i] - x, dy = r.neuron_xy[2 * i + 1] - y;
            double w = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
            assert_true(fabs(r.pool[(size_t)ch * r.neurons + i] - w) < 1e-12);
            s1 += w;
            s2 += w * w;
        }
        assert_true(fabs(r.chan_weight[ch] - s1) < 1e-9);
        assert_true(fabs(r.chan_neff[ch] - s1 * s1 / s2) < 1e-9);
        assert_true(r.chan_sd[ch] > 0);
    }
    for (int i = 0; i < 2 * r.neurons; i++) assert_true(r.neuron_xy[i] >= 0 && r.neuron_xy[i] < c.sheet_mm);
    assert_true(fabs(r.noise_sd - r.signal_sd / c.snr) < 1e-12);
    /* the noiseless betas are far more reliable than the measured ones */
    assert_true(ceiling_of(&r, 1) > ceiling_of(&r, 0) + 0.1);
    scan_free(&r);
    /* a bad configuration is refused with the flag's name */
    c.tr_s = 0;
    assert_int_equal(scan_subject(&b, &s, &c, &r, err), -1);
    assert_non_null(strstr(err, "--tr"));
    rec_stimuli_free(&s);
    free(t.rate);
}

static void scans_are_deterministic_across_threads(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s;
    toy_make(&t, &b, &s, 25);
    char err[TB_ERRLEN];
    for (int m = 0; m < 2; m++) {
        scan_config c;
        scan_default_config(&c, (scan_modality)m);
        c.channels = 6;
        c.trials = 3;
        scan_result r1, r2, r3;
        tb_threads_init(1);
        assert_int_equal(scan_subject(&b, &s, &c, &r1, err), 0);
        tb_threads_init(3);
        assert_int_equal(scan_subject(&b, &s, &c, &r2, err), 0);
        c.seed = 2;   /* another subject */
        assert_int_equal(scan_subject(&b, &s, &c, &r3, err), 0);
        size_t cells = (size_t)r1.trials * r1.stimuli * r1.channels;
        assert_memory_equal(r1.resp, r2.resp, cells * sizeof(double));
        assert_memory_equal(r1.resp_clean, r2.resp_clean, cells * sizeof(double));
        assert_true(memcmp(r1.resp, r3.resp, cells * sizeof(double)) != 0);
        assert_true(memcmp(r1.neuron_xy, r3.neuron_xy, (size_t)r1.neurons * 2 * sizeof(double)) != 0);
        scan_free(&r1);
        scan_free(&r2);
        scan_free(&r3);
    }
    tb_threads_init(2);
    rec_stimuli_free(&s);
    free(t.rate);
}

static void ecog_time_courses(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s;
    toy_make(&t, &b, &s, 20);
    scan_config c;
    scan_default_config(&c, SCAN_ECOG);
    c.channels = 4;
    c.win_from_ms = 4;
    scan_result r;
    char err[TB_ERRLEN];
    assert_int_equal(scan_subject(&b, &s, &c, &r, err), 0);
    int S = r.max_steps, W = r.max_tokens, C = 4, K = 8;
    assert_int_equal(W, 7);   /* the longest stimulus: 8 ids, 7 shown tokens */
    assert_int_equal(S, W * K);
    for (int tr = 0; tr < r.trials; tr++)
        for (int i = 0; i < 20; i++) {
            int steps = (s.len[i] - 1) * K;
            const float *tc = r.tc + (((size_t)tr * 20 + i) * S) * C;
            const float *tk = r.tc_token + (((size_t)tr * 20 + i) * W) * C;
            for (int ch = 0; ch < C; ch++) {
                double win = 0;
                for (int q = 4; q < steps; q++) win += tc[q * C + ch] / (steps - 4);   /* [4 ms, end) */
                assert_true(fabs(win - r.resp[((size_t)tr * 20 + i) * C + ch]) < 1e-5 * (1 + fabs(win)));
                for (int w = 0; w < W; w++) {
                    double m = 0;
                    for (int k = 0; k < K; k++) m += w * K < steps ? tc[(w * K + k) * C + ch] / K : 0;
                    if (w * K < steps) assert_true(fabs(m - tk[w * C + ch]) < 1e-5 * (1 + fabs(m)));
                    else assert_true(isnan(tk[w * C + ch]));
                }
                for (int q = steps; q < S; q++) assert_true(isnan(tc[q * C + ch]));
            }
        }
    /* the ramp in the toy brain builds up over a sentence: the noiseless drive shows it,
     * averaged over trials and stimuli the last shown token beats the first */
    double first = 0, last = 0;
    for (int tr = 0; tr < r.trials; tr++)
        for (int i = 0; i < 20; i++)
            for (int ch = 0; ch < C; ch++) {
                const float *tk = r.tc_token + (((size_t)tr * 20 + i) * W) * C;
                first += tk[ch];
                last += tk[(s.len[i] - 2) * C + ch];
            }
    assert_true(last > first);
    scan_free(&r);
    c.win_from_ms = 100;   /* after every stimulus has ended */
    assert_int_equal(scan_subject(&b, &s, &c, &r, err), -1);
    assert_non_null(strstr(err, "window"));
    rec_stimuli_free(&s);
    free(t.rate);
}

/* The within-subject ceiling rises with more runs and with a higher SNR. */
static void ceiling_follows_runs_and_snr(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s;
    toy_make(&t, &b, &s, 60);
    char err[TB_ERRLEN];
    scan_config c;
    scan_default_config(&c, SCAN_FMRI);
    c.channels = 16;
    c.snr = 1.0;
    const int runs[4] = {2, 4, 8, 16};
    const double snr[5] = {0.125, 0.25, 0.5, 1.0, 2.0};
    double prev = -1;
    for (int k = 0; k < 4; k++) {
        scan_result r;
        c.trials = runs[k];
        assert_int_equal(scan_subject(&b, &s, &c, &r, err), 0);
        double ce = ceiling_of(&r, 0);
        print_message("runs %2d: ceiling %.3f clean %.3f\n", runs[k], ce, ceiling_of(&r, 1));
        assert_true(ce > prev + 0.03);
        prev = ce;
        scan_free(&r);
    }
    c.trials = 4;
    prev = -1;
    for (int k = 0; k < 5; k++) {
        scan_result r;
        c.snr = snr[k];
        assert_int_equal(scan_subject(&b, &s, &c, &r, err), 0);
        double ce = ceiling_of(&r, 0);
        print_message("snr %.3f: ceiling %.3f\n", snr[k], ce);
        assert_true(ce > prev + 0.03);
        prev = ce;
        scan_free(&r);
    }
    rec_stimuli_free(&s);
    free(t.rate);
}

/* ---- the across-subject ceiling ------------------------------------------------------------------ */
/* Subjects share a signal Z[n, k]; channel c of subject s is z-scored (Z a_sc) + sigma e. */
static double **subjects(int S, int n, int p, int k, double sigma, int shared, uint64_t seed) {
    tb_rng g;
    rng_seed(&g, seed);
    double *Z = malloc((size_t)n * k * sizeof *Z), **Y = malloc((size_t)S * sizeof *Y);
    assert_non_null(Z);
    assert_non_null(Y);
    for (int i = 0; i < n * k; i++) Z[i] = rng_normal(&g);
    for (int s = 0; s < S; s++) {
        Y[s] = malloc((size_t)n * p * sizeof **Y);
        assert_non_null(Y[s]);
        if (!shared)
            for (int i = 0; i < n * k; i++) Z[i] = rng_normal(&g);   /* a private signal */
        for (int c = 0; c < p; c++) {
            double a[8], m = 0, v = 0;
            for (int j = 0; j < k; j++) a[j] = rng_normal(&g);
            for (int i = 0; i < n; i++) {
                double x = 0;
                for (int j = 0; j < k; j++) x += Z[i * k + j] * a[j];
                Y[s][i * p + c] = x;
                m += x / n;
            }
            for (int i = 0; i < n; i++) v += (Y[s][i * p + c] - m) * (Y[s][i * p + c] - m) / n;
            for (int i = 0; i < n; i++) Y[s][i * p + c] = (Y[s][i * p + c] - m) / sqrt(v) + sigma * rng_normal(&g);
        }
    }
    free(Z);
    return Y;
}

static void across_subject_ceiling_finds_the_shared_signal(void **state) {
    (void)state;
    enum { S = 5, NS = 200, P = 10, KS = 3 };
    int ch[S] = {P, P, P, P, P};
    enc_opts o;
    enc_opts_default(&o);
    char err[TB_ERRLEN];
    const double sig[3] = {0.1, 1.0, 2.0};
    double prev = 2, per[S];
    for (int q = 0; q < 3; q++) {
        double **Y = subjects(S, NS, P, KS, sig[q], 1, 9), ce;
        assert_int_equal(scan_ceiling_across((const double *const *)Y, ch, S, NS, &o, per, &ce, err), 0);
        /* the best any predictor can do: corr(signal, signal + noise) = 1 / sqrt(1 + sigma^2) */
        double best = 1 / sqrt(1 + sig[q] * sig[q]);
        print_message("sigma %.1f: across-subject ceiling %.3f (true signal reaches %.3f)\n", sig[q], ce, best);
        assert_true(ce < best + 0.03);
        /* noisy predictors cost more as sigma grows: close to the bound while sigma <= 1 */
        assert_true(sig[q] <= 1 ? ce > best - 0.06 : ce > 0.15);
        assert_true(ce < prev);
        prev = ce;
        for (int s = 0; s < S; s++) {
            assert_true(fabs(per[s] - ce) < 0.15);
            free(Y[s]);
        }
        free(Y);
    }
    double **Y = subjects(S, NS, P, KS, 0.5, 0, 9), ce;   /* nothing shared: nothing to predict */
    assert_int_equal(scan_ceiling_across((const double *const *)Y, ch, S, NS, &o, NULL, &ce, err), 0);
    print_message("no shared signal: %.3f\n", ce);
    assert_true(fabs(ce) < 0.15);
    assert_int_equal(scan_ceiling_across((const double *const *)Y, ch, 1, NS, &o, NULL, &ce, err), -1);
    for (int s = 0; s < S; s++) free(Y[s]);
    free(Y);
}

/* ---- another SNR, another session, the topography ----------------------------------------------- */

/* scan_rescale gives what scan_subject gives at that SNR (the same noise draws, scaled). */
static void rescale_equals_a_scan_at_that_snr(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s;
    toy_make(&t, &b, &s, 20);
    char err[TB_ERRLEN];
    for (int m = 0; m < 2; m++) {
        scan_config c;
        scan_default_config(&c, (scan_modality)m);
        c.channels = 6;
        c.trials = 3;
        c.snr = 1.0;
        scan_result r1, r2;
        assert_int_equal(scan_subject(&b, &s, &c, &r1, err), 0);
        c.snr = 0.25;
        assert_int_equal(scan_subject(&b, &s, &c, &r2, err), 0);
        size_t cells = (size_t)r1.trials * r1.stimuli * r1.channels;
        assert_memory_equal(r1.resp_clean, r2.resp_clean, cells * sizeof(double));
        double *y = malloc(cells * sizeof *y), worst = 0, scale = 0;
        assert_non_null(y);
        scan_rescale(&r1, 0.25, y);
        for (size_t i = 0; i < cells; i++) {
            worst = fmax(worst, fabs(y[i] - r2.resp[i]));
            scale = fmax(scale, fabs(r2.resp[i]));
        }
        print_message("%s: rescaled vs rescanned, max |diff| %.3g of %.3g\n", scan_modality_name(c.modality), worst, scale);
        assert_true(worst < 1e-5 * scale);   /* ECoG keeps its clean trace in float */
        free(y);
        scan_free(&r1);
        scan_free(&r2);
    }
    rec_stimuli_free(&s);
    free(t.rate);
}

/* Session 1 measures the same sheet with new design and noise; session 0 is the default. */
static void a_second_session_keeps_the_sheet(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s;
    toy_make(&t, &b, &s, 20);
    char err[TB_ERRLEN];
    scan_config c;
    scan_default_config(&c, SCAN_FMRI);
    c.channels = 9;
    c.trials = 2;
    assert_true(c.session == 0 && scan_session_seed(&c) == c.seed);
    scan_result r0, r1;
    assert_int_equal(scan_subject(&b, &s, &c, &r0, err), 0);
    c.session = 1;
    assert_true(scan_session_seed(&c) != c.seed);
    assert_int_equal(scan_subject(&b, &s, &c, &r1, err), 0);
    assert_memory_equal(r0.neuron_xy, r1.neuron_xy, (size_t)r0.neurons * 2 * sizeof(double));
    assert_memory_equal(r0.pool, r1.pool, (size_t)r0.channels * r0.neurons * sizeof(double));
    size_t cells = (size_t)r0.trials * r0.stimuli * r0.channels;
    assert_true(memcmp(r0.resp_clean, r1.resp_clean, cells * sizeof(double)) != 0);   /* new neural noise */
    assert_true(memcmp(r0.onset_s, r1.onset_s, (size_t)r0.trials * r0.stimuli * sizeof(double)) != 0);   /* new design */
    scan_free(&r0);
    scan_free(&r1);
    rec_stimuli_free(&s);
    free(t.rate);
}

static double dist_centre(const scan_result *r, int i, double L) {
    return hypot(r->neuron_xy[2 * i] - L / 2, r->neuron_xy[2 * i + 1] - L / 2);
}

/* topography 1: the higher a neuron's key, the nearer the centre; 0: the random layout. */
static void topography_orders_neurons_by_their_key(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s;
    toy_make(&t, &b, &s, 10);
    char err[TB_ERRLEN];
    double key[64];
    for (int j = 0; j < 64; j++) key[j] = sin(3.7 * j);   /* distinct values in no order */
    scan_config c;
    scan_default_config(&c, SCAN_FMRI);
    c.channels = 4;
    c.trials = 2;
    c.topography = 0;
    scan_result r0, r1, r2;
    assert_int_equal(scan_subject(&b, &s, &c, &r0, err), 0);   /* no key: random */
    b.place_key = key;
    assert_int_equal(scan_subject(&b, &s, &c, &r1, err), 0);   /* a key with topography 0: the same */
    assert_memory_equal(r0.neuron_xy, r1.neuron_xy, 64 * 2 * sizeof(double));
    c.topography = 1;
    assert_int_equal(scan_subject(&b, &s, &c, &r2, err), 0);
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 64; j++)
            if (key[i] > key[j]) assert_true(dist_centre(&r2, i, c.sheet_mm) <= dist_centre(&r2, j, c.sheet_mm));
    c.topography = 1.5;
    assert_int_equal(scan_check_config(&c, err), -1);
    assert_non_null(strstr(err, "--topography"));
    scan_free(&r0);
    scan_free(&r1);
    scan_free(&r2);
    rec_stimuli_free(&s);
    free(t.rate);
}

/* ---- the localizer ------------------------------------------------------------------------------- */

/* n stimuli of 3..6 tokens drawn from ids lo..hi (after the '.' context, id 0). */
static void toy_stimuli(rec_stimuli *s, int n, int lo, int hi, uint64_t seed) {
    tb_rng g;
    rng_seed(&g, seed);
    s->n = n;
    s->text = calloc((size_t)n, sizeof *s->text);
    s->ids = calloc((size_t)n, sizeof *s->ids);
    s->len = calloc((size_t)n, sizeof *s->len);
    assert_true(s->text && s->ids && s->len);
    for (int i = 0; i < n; i++) {
        s->len[i] = 4 + (int)rng_below(&g, 4);
        s->ids[i] = malloc((size_t)s->len[i] * sizeof(int));
        assert_non_null(s->ids[i]);
        s->ids[i][0] = 0;
        for (int w = 1; w < s->len[i]; w++) s->ids[i][w] = lo + (int)rng_below(&g, (uint32_t)(hi - lo + 1));
    }
}

/* Neurons 0..15 fire more for "sentence" words (ids 1..5) than for "control" words (6..11);
 * the rest fire alike (with some spread across neurons).  Placed by their measured
 * selectivity with topography 1, they form a region at the sheet's centre, which the
 * localizer must find; the control region must be responsive and unselective. */
static void localizer_finds_a_planted_language_region(void **state) {
    (void)state;
    toy_brain t;
    scan_brain b;
    rec_stimuli s0, sent, ctrl;
    toy_make(&t, &b, &s0, 3);
    rec_stimuli_free(&s0);
    for (int id = 0; id < t.V; id++)
        for (int j = 0; j < t.N; j++)
            t.rate[id * t.N + j] = j < 16 ? (id >= 1 && id <= 5 ? 0.35 : 0.05) : 0.05 + 0.3 * (j % 7) / 6.0;
    toy_stimuli(&sent, 40, 1, 5, 11);
    toy_stimuli(&ctrl, 40, 6, 11, 12);
    char err[TB_ERRLEN];
    double key[64], lo_sel = INFINITY, hi_other = -INFINITY;
    assert_int_equal(scan_selectivity(&b, &sent, &ctrl, 7, key, err), 0);
    for (int j = 0; j < 64; j++) {
        if (j < 16) lo_sel = fmin(lo_sel, key[j]);
        else hi_other = fmax(hi_other, key[j]);
    }
    print_message("neuron t: selective >= %.2f, the others <= %.2f\n", lo_sel, hi_other);
    assert_true(lo_sel > 10 && hi_other < 4);
    b.place_key = key;
    scan_config c;
    scan_default_config(&c, SCAN_FMRI);
    c.channels = 16;
    c.trials = 2;
    c.topography = 1;
    scan_result loc;
    scan_roi roi;
    assert_int_equal(scan_localize(&b, &sent, &ctrl, &c, 25, &loc, &roi, err), 0);
    assert_int_equal(roi.k, 4);
    assert_int_equal(loc.stimuli, 80);
    double tf = 0, tc = 0, df = 0, dc = 0, sorted[16];
    memcpy(sorted, roi.mean, sizeof sorted);
    for (int i = 0; i < 16; i++)   /* insertion sort: the median response */
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) { double x = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = x; }
    for (int q = 0; q < 4; q++) {
        int f = roi.froi[q], k = roi.control[q];
        tf += roi.t[f] / 4;
        tc += fabs(roi.t[k]) / 4;
        df += hypot(loc.chan_xy[2 * f] - 10, loc.chan_xy[2 * f + 1] - 10) / 4;
        dc += hypot(loc.chan_xy[2 * k] - 10, loc.chan_xy[2 * k + 1] - 10) / 4;
        assert_true(roi.mean[k] >= 0.5 * (sorted[7] + sorted[8]));   /* responsive */
        for (int q2 = 0; q2 < 4; q2++) assert_true(f != roi.control[q2]);   /* disjoint */
    }
    print_message("fROI: mean t %.2f, %.2f mm from the centre; control: mean |t| %.2f, %.2f mm\n", tf, df, tc, dc);
    assert_true(tf > tc + 3);
    assert_true(df < dc);
    for (int q = 1; q < 4; q++) assert_true(roi.t[roi.froi[q - 1]] >= roi.t[roi.froi[q]]);   /* best first */
    scan_free(&loc);
    scan_roi_free(&roi);
    assert_int_equal(scan_localize(&b, &sent, &ctrl, &c, 60, &loc, &roi, err), -1);   /* no room for the control */
    assert_non_null(strstr(err, "control"));
    rec_stimuli_free(&sent);
    rec_stimuli_free(&ctrl);
    free(t.rate);
}

/* ---- a study of several subjects ------------------------------------------------------------------ */

/* Subjects whose trial mean is Y[s] (shared signal + subject noise), T noisy trials each. */
static void fake_subjects(scan_subj *S, int n, double **Y, int T, int p, int NS, uint64_t seed) {
    tb_rng g;
    rng_seed(&g, seed);
    for (int s = 0; s < n; s++) {
        memset(&S[s], 0, sizeof S[s]);
        S[s].index = s;
        scan_result *r = &S[s].scan;
        r->trials = T;
        r->stimuli = NS;
        r->channels = p;
        r->resp = malloc((size_t)T * NS * p * sizeof *r->resp);
        assert_non_null(r->resp);
        for (int t = 0; t < T; t++)
            for (int i = 0; i < NS * p; i++) r->resp[(size_t)t * NS * p + i] = Y[s][i] + 0.5 * rng_normal(&g);
        for (int q = 0; q < SCAN_N_REGIONS; q++) S[s].within[q] = S[s].across[q] = NAN;
    }
}

static void group_ceilings_and_scores(void **state) {
    (void)state;
    enum { S = 5, NS = 200, P = 10, KS = 3, T = 2 };
    double **Y = subjects(S, NS, P, KS, 0.7, 1, 21), by_k[S - 1];
    scan_subj subj[S];
    fake_subjects(subj, S, Y, T, P, NS, 22);
    enc_opts o;
    enc_opts_default(&o);
    char err[TB_ERRLEN];
    assert_int_equal(scan_group_ceilings(subj, 1, &o, err), -1);
    assert_int_equal(scan_group_ceilings(subj, S, &o, err), 0);
    for (int s = 0; s < S; s++) {
        assert_true(subj[s].across[SCAN_ALL] > 0.3 && subj[s].across[SCAN_ALL] < 1);
        assert_true(isnan(subj[s].across[SCAN_FROI]));   /* no localizer, no region */
    }
    assert_int_equal(scan_ceiling_by_count(subj, S, &o, 3, by_k, err), 0);
    print_message("across-subject ceiling by subjects: 2: %.3f 3: %.3f 4: %.3f 5: %.3f\n", by_k[0], by_k[1], by_k[2], by_k[3]);
    for (int k = 1; k < S - 1; k++) assert_true(by_k[k] > by_k[k - 1]);   /* more predictors, less of their noise */
    /* a model that holds the shared signal scores well on every subject; noise does not */
    rep_set M = {2, calloc(2, sizeof(rep_layer)), 1};
    assert_non_null(M.layer);
    tb_rng g;
    rng_seed(&g, 23);
    double **Z = subjects(1, NS, KS, KS, 0.0, 1, 21);   /* the same seed: the shared signal's own channels */
    assert_int_equal(rep_layer_alloc(&M.layer[0], "signal", "signal", 1, NS, KS), 0);
    assert_int_equal(rep_layer_alloc(&M.layer[1], "noise", "noise", 1, NS, KS), 0);
    memcpy(M.layer[0].mean, Z[0], (size_t)NS * KS * sizeof(double));
    for (int i = 0; i < NS * KS; i++) M.layer[1].mean[i] = rng_normal(&g);
    scan_scores sc;
    assert_int_equal(scan_score(&M, subj, S, &o, &sc, err), 0);
    for (int s = 0; s < S; s++) {
        double good = scan_score_r(&sc, 0, s, SCAN_ALL), bad = scan_score_r(&sc, 1, s, SCAN_ALL);
        assert_true(good > 0.5 && fabs(bad) < 0.15);
        assert_true(isnan(scan_score_r(&sc, 0, s, SCAN_FROI)));
    }
    assert_true(fabs(scan_normalise(0.3, 0.6, 0.3) - 0.5) < 1e-12);
    assert_true(isnan(scan_normalise(0.3, 0.2, 0.3)) && isnan(scan_normalise(0.3, NAN, 0.3)));
    scan_scores_free(&sc);
    rep_free(&M);
    for (int s = 0; s < S; s++) { scan_subj_free(&subj[s]); free(Y[s]); }
    free(Y);
    free(Z[0]);
    free(Z);
}

int main(void) {
    tb_threads_init(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hrf_is_spm_canonical),
        cmocka_unit_test(dct_basis_is_orthonormal),
        cmocka_unit_test(glm_recovers_known_amplitudes),
        cmocka_unit_test(noise_has_the_asked_structure),
        cmocka_unit_test(srnn_spikes_sum_to_srnn_record),
        cmocka_unit_test(fmri_design_and_layout),
        cmocka_unit_test(scans_are_deterministic_across_threads),
        cmocka_unit_test(ecog_time_courses),
        cmocka_unit_test(ceiling_follows_runs_and_snr),
        cmocka_unit_test(across_subject_ceiling_finds_the_shared_signal),
        cmocka_unit_test(rescale_equals_a_scan_at_that_snr),
        cmocka_unit_test(a_second_session_keeps_the_sheet),
        cmocka_unit_test(topography_orders_neurons_by_their_key),
        cmocka_unit_test(localizer_finds_a_planted_language_region),
        cmocka_unit_test(group_ceilings_and_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
