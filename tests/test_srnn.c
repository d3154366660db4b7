/* test_srnn.c -- the spiking language model (lesson 09): the surrogate gradient against
 * finite differences of the smoothed network (in double), the event-driven forward pass
 * against its dense twin, the ridge readout against a direct least-squares solve,
 * determinism across runs and thread counts, scoring vs recording consistency, STDP,
 * checkpoints and bad inputs (its kernels against their scalar twins: test_kernels.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kernels.h"
#include "run.h"
#include "srnn.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The library's defaults, without background noise (tests that want it set it). */
static void small_config(srnn_config *c, int V, int N, int K) {
    srnn_default_config(c);
    c->noise_hz = 0;
    c->vocab_size = V;
    c->n_neurons = N;
    c->steps_per_token = K;
}

static void random_tokens(int *x, int n, int V, uint64_t seed) {
    tb_rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) x[i] = (int)rng_below(&r, (uint32_t)V);
}

/* ---- the smoothed network in double: the reference for the gradient check ------------- */

typedef struct {
    const srnn_model *m;
    const int *x, *y;
    int B, T;
    srnn_train_opts o;
} ref_problem;

/* Loss (ce + L_rate) of the network whose spike is sigma(x) = 1/slope + x/(1+slope|x|),
 * with every parameter taken from p (double copy of the flat parameter buffer). */
static double ref_loss(const ref_problem *P, const double *p) {
    const srnn_model *m = P->m;
    int V = m->V, N = m->N, Kk = m->K, B = P->B, T = P->T, TK = T * Kk;
    const double *w_in = p, *w_rec = p + (size_t)V * N, *w_out = w_rec + (size_t)N * N, *b_out = w_out + (size_t)V * N;
    double beta = m->beta, th = m->theta, sl = m->slope, a = m->trace_a;
    double *W = malloc((size_t)N * N * sizeof(double));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double w = w_rec[i * N + j];
            if (m->cfg.dale) w = srnn_is_inhibitory(m, i) ? -fabs(w) : fabs(w);
            if (m->mask) w *= m->mask[i * N + j];
            W[i * N + j] = w;
        }
    double *v = calloc(N, sizeof(double)), *s = calloc(N, sizeof(double)), *sn = calloc(N, sizeof(double));
    double *z = calloc(N, sizeof(double)), *cnt = calloc(N, sizeof(double)), *rate = calloc(N, sizeof(double));
    double *f = calloc(N, sizeof(double));
    double ce = 0;
    for (int b = 0; b < B; b++) {
        memset(v, 0, N * sizeof(double));
        memset(s, 0, N * sizeof(double));
        memset(z, 0, N * sizeof(double));
        for (int t = 0; t < T; t++) {
            memset(cnt, 0, N * sizeof(double));
            for (int k = 0; k < Kk; k++) {
                for (int j = 0; j < N; j++) {
                    double in = w_in[P->x[b * T + t] * N + j];
                    for (int i = 0; i < N; i++) in += W[i * N + j] * s[i];
                    v[j] = beta * v[j] + in - th * s[j];
                    double d = v[j] - th;
                    sn[j] = 1.0 / sl + d / (1.0 + sl * fabs(d));
                }
                for (int j = 0; j < N; j++) {
                    s[j] = sn[j];
                    cnt[j] += s[j];
                    z[j] = a * z[j] + s[j];
                    rate[j] += s[j];
                }
            }
            for (int j = 0; j < N; j++) f[j] = m->cfg.readout == SRNN_TRACE ? z[j] : cnt[j];
            double mx = -1e300, lg[64];
            for (int u = 0; u < V; u++) {
                double l = b_out[u];
                for (int j = 0; j < N; j++) l += w_out[u * N + j] * f[j];
                lg[u] = l;
                mx = l > mx ? l : mx;
            }
            double se = 0;
            for (int u = 0; u < V; u++) se += exp(lg[u] - mx);
            ce += log(se) + mx - lg[P->y[b * T + t]];
        }
    }
    ce /= (double)B * T;
    double rl = 0, hz = 1000.0 / m->cfg.dt_ms;
    for (int j = 0; j < N; j++) {
        double R = rate[j] / ((double)B * TK) * hz;
        double e = (R > P->o.rate_hi_hz ? R - P->o.rate_hi_hz : 0) - (R < P->o.rate_lo_hz ? P->o.rate_lo_hz - R : 0);
        rl += (e / 10) * (e / 10);
    }
    free(W); free(v); free(s); free(sn); free(z); free(cnt); free(rate); free(f);
    return ce + P->o.rate_lambda * rl / N;
}

static void gradient_check(int readout, int dale, double p_conn) {
    char err[TB_ERRLEN];
    srnn_config c;
    small_config(&c, 5, 7, 3);
    c.slope = 2.0;   /* sigma then runs from 0 to 1 like a spike */
    c.readout = readout;
    c.dale = dale;
    c.p_conn = p_conn;
    c.w_in_std = 0.8;
    c.seed = 11;
    srnn_model m;
    assert_int_equal(srnn_init(&m, &c, err), 0);
    m.smooth = 1;
    tb_rng r;
    rng_seed(&r, 5);
    for (size_t i = 0; i < (size_t)m.V * m.N + m.V; i++) m.p.w_out[i] = (float)(0.3 * rng_normal(&r));
    int B = 2, T = 4, x[8], y[8];
    random_tokens(x, B * T, m.V, 1);
    random_tokens(y, B * T, m.V, 2);
    srnn_train_opts o = {0.5, 0.0, 300.0};   /* smooth rates are ~ 500 Hz: the penalty is active */
    srnn_batch_stats st;
    assert_int_equal(srnn_forward_backward(&m, x, y, B, T, &o, 1, 1, &st, err), 0);
    ref_problem P = {&m, x, y, B, T, o};
    double *p = malloc(m.n_params * sizeof(double));
    for (size_t i = 0; i < m.n_params; i++) p[i] = m.params_mem[i];
    double L = ref_loss(&P, p);
    /* the float forward agrees with the double reference */
    assert_true(fabs(st.ce + st.rate_loss - L) < 1e-4 * (1 + fabs(L)));
    int checked = 0;
    double worst = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        if (m.mask && i >= (size_t)m.V * m.N && i < (size_t)m.V * m.N + (size_t)m.N * m.N &&
            m.mask[i - (size_t)m.V * m.N] == 0.0f) {
            assert_true(m.grads_mem[i] == 0.0f);   /* absent synapses get no gradient */
            continue;
        }
        double h = 1e-5, keep = p[i];
        p[i] = keep + h;
        double lp = ref_loss(&P, p);
        p[i] = keep - h;
        double lm = ref_loss(&P, p);
        p[i] = keep;
        double fd = (lp - lm) / (2 * h), g = m.grads_mem[i];
        double d = fabs(g - fd) / (2e-4 + 1e-2 * fabs(fd));
        worst = d > worst ? d : worst;
        if (d > 1) fprintf(stderr, "param %zu: surrogate backward %.6g, finite difference %.6g\n", i, g, fd);
        assert_true(d <= 1);
        checked++;
    }
    assert_true(checked > 100);
    free(p);
    srnn_free(&m);
}

static void grad_count_dense(void **s) { (void)s; gradient_check(SRNN_COUNT, 0, 1.0); }
static void grad_trace_dale_sparse(void **s) { (void)s; gradient_check(SRNN_TRACE, 1, 0.6); }

/* ---- event-driven vs dense, determinism, threads ------------------------------------- */

static void run_fb(int dense, srnn_config *c, float *grads, srnn_batch_stats *st) {
    char err[TB_ERRLEN];
    srnn_model m;
    assert_int_equal(srnn_init(&m, c, err), 0);
    m.dense = dense;
    tb_rng r;
    rng_seed(&r, 9);
    for (size_t i = 0; i < (size_t)m.V * m.N; i++) m.p.w_out[i] = (float)(0.1 * rng_normal(&r));
    int B = 5, T = 6, x[30], y[30];
    random_tokens(x, B * T, m.V, 3);
    random_tokens(y, B * T, m.V, 4);
    srnn_train_opts o;
    srnn_default_train_opts(&o);
    assert_int_equal(srnn_forward_backward(&m, x, y, B, T, &o, 77, 1, st, err), 0);
    memcpy(grads, m.grads_mem, m.n_params * sizeof(float));
    srnn_free(&m);
}

static void fb_config(srnn_config *c) {
    small_config(c, 11, 40, 4);
    c->noise_hz = 200;   /* seeded background noise: still deterministic */
    c->dale = 1;
    c->p_conn = 0.5;
}
#define FB_NP (2 * 11 * 40 + 40 * 40 + 11)
/* Computed by main() with a 1-thread pool before the pool grows to 2 threads. */
static float g_one_thread[FB_NP];
static srnn_batch_stats s_one_thread;

static void event_vs_dense_and_threads(void **state) {
    (void)state;
    srnn_config c;
    fb_config(&c);
    size_t np = FB_NP;
    float *g1 = malloc(np * 4), *g2 = malloc(np * 4), *g4 = malloc(np * 4);
    srnn_batch_stats s1, s2, s4;
    if (!getenv("TINYBRAIN_THREADS")) assert_true(tb_threads() == 2); /* capped under qemu */
    run_fb(0, &c, g1, &s1);
    run_fb(1, &c, g2, &s2);
    run_fb(0, &c, g4, &s4);
    assert_true(s1.spikes > 0);
    /* hard spikes: adding rows of spiking neurons == the full product, bit for bit */
    assert_true(s1.ce == s2.ce && s1.spikes == s2.spikes);
    assert_memory_equal(g1, g2, np * 4);
    /* thread count (1 vs 2) and repetition do not change anything */
    assert_true(s1.ce == s_one_thread.ce);
    assert_memory_equal(g1, g_one_thread, np * 4);
    assert_memory_equal(g1, g4, np * 4);
    free(g1); free(g2); free(g4);
}

/* ---- ridge ------------------------------------------------------------------------------ */

/* Least squares by Householder QR of F[n, p] (an independent method), Y[n, q] -> X[p, q]. */
static void qr_lstsq(double *F, double *Y, int n, int p, int q, double *X) {
    for (int k = 0; k < p; k++) {
        double nrm = 0;
        for (int i = k; i < n; i++) nrm += F[i * p + k] * F[i * p + k];
        nrm = sqrt(nrm);
        double alpha = F[k * p + k] > 0 ? -nrm : nrm;
        double *u = calloc(n, sizeof(double));
        for (int i = k; i < n; i++) u[i] = F[i * p + k];
        u[k] -= alpha;
        double un = 0;
        for (int i = k; i < n; i++) un += u[i] * u[i];
        for (int j = k; j < p; j++) {
            double d = 0;
            for (int i = k; i < n; i++) d += u[i] * F[i * p + j];
            for (int i = k; i < n; i++) F[i * p + j] -= 2 * u[i] * d / un;
        }
        for (int j = 0; j < q; j++) {
            double d = 0;
            for (int i = k; i < n; i++) d += u[i] * Y[i * q + j];
            for (int i = k; i < n; i++) Y[i * q + j] -= 2 * u[i] * d / un;
        }
        free(u);
    }
    for (int j = 0; j < q; j++)
        for (int k = p - 1; k >= 0; k--) {
            double s = Y[k * q + j];
            for (int l = k + 1; l < p; l++) s -= F[k * p + l] * X[l * q + j];
            X[k * q + j] = s / F[k * p + k];
        }
}

static void ridge_vs_lstsq(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    int n = 300, p = 6, q = 3;
    double *F = malloc(n * p * 8), *Y = malloc(n * q * 8), *G = calloc(p * p, 8), *R = calloc(p * q, 8);
    double *W = malloc(p * q * 8), *X = malloc(p * q * 8), *F2 = malloc(n * p * 8), *Y2 = malloc(n * q * 8);
    tb_rng r;
    rng_seed(&r, 8);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p - 1; j++) F[i * p + j] = rng_normal(&r) + 0.5 * j;
        F[i * p + p - 1] = 1.0;   /* bias column */
        for (int c = 0; c < q; c++) Y[i * q + c] = rng_normal(&r) + F[i * p + c] * (c + 1);
    }
    for (int i = 0; i < n; i++)
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) G[a * p + b] += F[i * p + a] * F[i * p + b];
            for (int c = 0; c < q; c++) R[a * q + c] += F[i * p + a] * Y[i * q + c];
        }
    memcpy(F2, F, n * p * 8);
    memcpy(Y2, Y, n * q * 8);
    qr_lstsq(F2, Y2, n, p, q, X);
    assert_int_equal(srnn_ridge_solve(G, R, p, q, 0.0, 1, W, err), 0);
    for (int i = 0; i < p * q; i++) assert_true(fabs(W[i] - X[i]) < 1e-9 * (1 + fabs(X[i])));
    /* with a penalty: (G + lambda I') W = R, bias unpenalised */
    double lam = 25.0;
    assert_int_equal(srnn_ridge_solve(G, R, p, q, lam, 1, W, err), 0);
    for (int a = 0; a < p; a++)
        for (int c = 0; c < q; c++) {
            double s = (a == p - 1 ? 0 : lam) * W[a * q + c];
            for (int b = 0; b < p; b++) s += G[a * p + b] * W[b * q + c];
            assert_true(fabs(s - R[a * q + c]) < 1e-8 * (1 + fabs(R[a * q + c])));
        }
    /* a singular system without a penalty is refused with a message */
    double Z[4] = {1, 1, 1, 1}, rz[2] = {1, 1}, wz[2];
    assert_int_equal(srnn_ridge_solve(Z, rz, 2, 1, 0.0, 0, wz, err), -1);
    assert_non_null(strstr(err, "positive definite"));
    free(F); free(Y); free(G); free(R); free(W); free(X); free(F2); free(Y2);
}

/* A tiny language: sentences "0 a b" where b = a + 3 (mod 6), tokens 1..6 for a, so the
 * next token after a is predictable only from the previous token. */
static long toy_stream(int *ids, long n, uint64_t seed) {
    tb_rng r;
    rng_seed(&r, seed);
    long i = 0;
    while (i + 3 <= n) {
        int a = 1 + (int)rng_below(&r, 6);
        ids[i++] = a;
        ids[i++] = 7 + (a + 3) % 6;
        ids[i++] = 0;
    }
    return i;
}

static void reservoir_learns(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    for (int nm = 0; nm < 3; nm++) {
        srnn_config c;
        small_config(&c, 13, 64, 6);
        c.neuron = (srnn_neuron)nm;
        c.mode = SRNN_RESERVOIR;
        c.w_in_std = nm == 0 ? 1.0 : 1.5;
        srnn_model m;
        assert_int_equal(srnn_init(&m, &c, err), 0);
        int ids[3000];
        long n = toy_stream(ids, 3000, 1);
        srnn_reservoir_opts o = {1e-3, 0};
        double fit;
        assert_int_equal(srnn_fit_reservoir(&m, ids, n, 0, &o, &fit, err), 0);
        int val[300];
        long nv = toy_stream(val, 300, 2);
        float nll[300];
        assert_int_equal(srnn_stream_nll(&m, val, nv, 0, nll, err), 0);
        double s = 0;
        for (long i = 0; i < nv; i++) s += nll[i];
        s /= nv;
        /* uniform guessing costs ln 13 = 2.56; the grammar's entropy is ln 6 / 3 = 0.6 */
        assert_true(s < 1.6);
        assert_true(fit < 1.6);
        srnn_free(&m);
    }
}

/* The reservoir's readout equals the least-squares solution of the augmented system
 * [F; sqrt(lambda) I'] W = [Y; 0] built here from recorded spike counts, F = [counts, 1]. */
static void reservoir_readout_vs_lstsq(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    srnn_config c;
    small_config(&c, 13, 24, 4);
    c.w_in_std = 1.0;
    srnn_model m;
    assert_int_equal(srnn_init(&m, &c, err), 0);
    int ids[600];
    long n = toy_stream(ids, 600, 9);
    double ridge = 1e-2;
    srnn_reservoir_opts o = {ridge, 0};
    assert_int_equal(srnn_fit_reservoir(&m, ids, n, 0, &o, NULL, err), 0);
    int N = m.N, V = m.V, p = N + 1;
    long rows = n;   /* one feature row per token: each token is predicted from its prefix */
    double *F = calloc((size_t)(rows + p) * p, 8), *Y = calloc((size_t)(rows + p) * V, 8), *X = malloc((size_t)p * V * 8);
    float *cnt = malloc(4 * (size_t)N * 4);
    long r = 0;
    for (long s = 0; s < n; s += 3) {   /* sentences "a b 0", each read after "0" */
        int seq[3] = {0, ids[s], ids[s + 1]};
        assert_int_equal(srnn_record(&m, seq, 3, 1, 0.0, cnt, err), 0);
        for (int k = 0; k < 3; k++, r++) {
            for (int i = 0; i < N; i++) F[r * p + i] = cnt[k * N + i];
            F[r * p + N] = 1.0;
            Y[r * V + ids[s + k]] = 1.0;
        }
    }
    assert_int_equal(r, rows);
    double dmean = 0;
    for (long q = 0; q < rows; q++)
        for (int i = 0; i < N; i++) dmean += F[q * p + i] * F[q * p + i];
    dmean /= N;
    for (int i = 0; i < N; i++) F[(rows + i) * p + i] = sqrt(ridge * dmean);   /* no row for the bias */
    qr_lstsq(F, Y, (int)(rows + N), p, V, X);   /* (the bias row of the padding stays 0) */
    double wmax = 0, dmax = 0;
    for (int v = 0; v < V; v++)
        for (int i = 0; i <= N; i++) {
            double w = i < N ? m.p.w_out[v * N + i] : m.p.b_out[v];
            wmax = fabs(X[i * V + v]) > wmax ? fabs(X[i * V + v]) : wmax;
            dmax = fabs(w - X[i * V + v]) > dmax ? fabs(w - X[i * V + v]) : dmax;
        }
    assert_true(wmax > 0.01);
    assert_true(dmax < 1e-4 * wmax);
    assert_true(m.cfg.prob_floor > 0 && m.cfg.mode == SRNN_RESERVOIR);
    free(F); free(Y); free(X); free(cnt);
    srnn_free(&m);
}

/* ---- BPTT learns the toy language ---------------------------------------------------- */

static void bptt_learns(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    srnn_config c;
    small_config(&c, 13, 64, 4);
    srnn_model m;
    assert_int_equal(srnn_init(&m, &c, err), 0);
    tb_adamw_cfg oc;
    adamw_default_cfg(&oc);
    oc.lr = 1e-2;
    oc.weight_decay = 0;
    tb_adamw opt;
    assert_int_equal(adamw_init(&opt, &oc, m.n_params, err), 0);
    int ids[4000];
    long n = toy_stream(ids, 4000, 3);
    int B = 8, T = 12, x[96], y[96];
    tb_rng r;
    rng_seed(&r, 4);
    srnn_train_opts o;
    srnn_default_train_opts(&o);
    double first = 0, last = 0;
    for (int s = 0; s < 150; s++) {
        run_draw_batch(ids, n, 0, &r, x, y, B, T);   /* windows start at a "0" (the eos) */
        srnn_batch_stats bs;
        assert_int_equal(srnn_forward_backward(&m, x, y, B, T, &o, (uint64_t)s, 1, &bs, err), 0);
        adamw_step(&opt, m.params_mem, m.grads_mem, m.decay_mask);
        srnn_refresh(&m);
        if (s < 10) first += bs.ce / 10;
        if (s >= 140) last += bs.ce / 10;
    }
    /* from ~ln 13 = 2.56 towards the entropy 0.6 */
    assert_true(first > 2.0);
    assert_true(last < 1.2);
    adamw_free(&opt);
    srnn_free(&m);
}

/* ---- scoring, recording, counters ---------------------------------------------------- */

static void scoring_and_recording(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    srnn_config c;
    small_config(&c, 13, 48, 5);
    c.noise_hz = 100;
    c.dale = 1;
    srnn_model m;
    assert_int_equal(srnn_init(&m, &c, err), 0);
    tb_rng r;
    rng_seed(&r, 2);
    for (size_t i = 0; i < (size_t)m.V * m.N; i++) m.p.w_out[i] = (float)(0.2 * rng_normal(&r));
    int ids[30];
    long n = toy_stream(ids, 30, 5);
    float a[30], b[30];
    assert_int_equal(srnn_stream_nll(&m, ids, n, 0, a, err), 0);
    assert_int_equal(srnn_stream_nll(&m, ids, n, 0, b, err), 0);
    assert_memory_equal(a, b, n * sizeof(float));   /* deterministic despite the noise */
    /* sentence by sentence == the stream */
    for (long s = 0; s < n; s += 3) {
        int seq[4] = {0, ids[s], ids[s + 1], ids[s + 2]};
        float q[4];
        assert_int_equal(srnn_sequence_nll(&m, seq, 4, q, err), 0);
        assert_true(q[0] == 0.0f);
        assert_memory_equal(q + 1, a + s, 3 * sizeof(float));
    }
    /* recording: same seed same counts, other seed other counts, noise off identical */
    int N = m.N;
    float *c1 = malloc(n * N * 4), *c2 = malloc(n * N * 4), *c3 = malloc(n * N * 4);
    srnn_counters_reset(&m);
    assert_int_equal(srnn_record(&m, ids, (int)n, 1, -1, c1, err), 0);
    double tot = 0;
    for (long i = 0; i < n * N; i++) { tot += c1[i]; assert_true(c1[i] >= 0 && c1[i] <= m.K); }
    assert_true(m.ctr.spikes == (long long)tot);
    assert_true(m.ctr.neuron_updates == (long long)n * m.K * N);
    assert_true(m.ctr.tokens == n);
    assert_true(m.ctr.readout_events == (long long)tot * m.V);
    assert_true(m.ctr.syn_events > 0 && m.ctr.syn_events <= (long long)tot * N);
    assert_int_equal(srnn_record(&m, ids, (int)n, 1, -1, c2, err), 0);
    assert_memory_equal(c1, c2, n * N * 4);
    assert_int_equal(srnn_record(&m, ids, (int)n, 2, -1, c3, err), 0);
    assert_true(memcmp(c1, c3, n * N * 4) != 0);
    assert_int_equal(srnn_record(&m, ids, (int)n, 1, 0.0, c1, err), 0);
    assert_int_equal(srnn_record(&m, ids, (int)n, 2, 0.0, c2, err), 0);
    assert_memory_equal(c1, c2, n * N * 4);
    /* E/I membership: 80/20 */
    int inh = 0;
    for (int i = 0; i < N; i++) inh += srnn_is_inhibitory(&m, i);
    assert_int_equal(inh, N - (int)lround(N * 0.8));
    assert_true(fabs(srnn_hz_per_count(&m) - 1000.0 / 5) < 1e-9);
    free(c1); free(c2); free(c3);
    srnn_free(&m);
}

static void neuron_models_spike(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    for (int nm = 1; nm < 3; nm++) {
        srnn_config c;
        small_config(&c, 3, 20, 20);
        c.neuron = (srnn_neuron)nm;
        c.w_in_std = 0;
        srnn_model m;
        assert_int_equal(srnn_init(&m, &c, err), 0);
        for (int i = 0; i < m.N; i++) { m.p.w_in[i] = 0.0f; m.p.w_in[m.N + i] = 1.0f; }
        memset(m.p.w_rec, 0, (size_t)m.N * m.N * 4);
        srnn_refresh(&m);
        int quiet[4] = {0, 0, 0, 0}, loud[4] = {1, 1, 1, 1};
        float cq[80], cl[80];
        assert_int_equal(srnn_record(&m, quiet, 4, 1, 0, cq, err), 0);
        assert_int_equal(srnn_record(&m, loud, 4, 1, 0, cl, err), 0);
        double sq = 0, sl = 0;
        for (int i = 0; i < 80; i++) { sq += cq[i]; sl += cl[i]; }
        assert_true(sq == 0);     /* no drive, no spikes */
        assert_true(sl >= 80);    /* a drive of one threshold unit per step makes them fire */
        /* BPTT is refused with a clear message */
        int x[2] = {1, 1}, y[2] = {1, 1};
        assert_int_equal(srnn_forward_backward(&m, x, y, 1, 2, NULL, 1, 1, NULL, err), -1);
        assert_non_null(strstr(err, "LIF"));
        srnn_free(&m);
    }
}

/* ---- STDP -------------------------------------------------------------------------------- */

static void stdp_changes_inputs(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    srnn_config c;
    small_config(&c, 13, 32, 8);
    c.w_in_std = 1.0;
    srnn_model m;
    assert_int_equal(srnn_init(&m, &c, err), 0);
    int V = m.V, N = m.N;
    double *n0 = calloc(N, 8), *n1 = calloc(N, 8);
    for (int v = 0; v < V; v++)
        for (int i = 0; i < N; i++) n0[i] += (double)m.p.w_in[v * N + i] * m.p.w_in[v * N + i];
    int ids[600];
    long n = toy_stream(ids, 600, 7);
    srnn_stdp_opts o;
    srnn_default_stdp_opts(&o);
    double dw;
    assert_int_equal(srnn_stdp_pretrain(&m, ids, n, &o, 1, &dw, err), 0);
    assert_true(dw > 1e-3);
    for (int v = 0; v < V; v++)
        for (int i = 0; i < N; i++) n1[i] += (double)m.p.w_in[v * N + i] * m.p.w_in[v * N + i];
    for (int i = 0; i < N; i++) assert_true(fabs(sqrt(n1[i]) - sqrt(n0[i])) < 1e-4 * sqrt(n0[i]) + 1e-6);
    o.tau_plus = 0;
    assert_int_equal(srnn_stdp_pretrain(&m, ids, n, &o, 1, &dw, err), -1);
    assert_non_null(strstr(err, "time constants"));
    free(n0); free(n1);
    srnn_free(&m);
}

/* ---- checkpoints ------------------------------------------------------------------------ */

static void save_load_round_trip(void **state) {
    (void)state;
    char err[TB_ERRLEN], path[256];
    snprintf(path, sizeof path, "/tmp/tb_test_srnn_%d.ckpt", (int)getpid());
    srnn_config c;
    small_config(&c, 4, 10, 3);
    c.dale = 1;
    c.p_conn = 0.5;
    c.readout = SRNN_TRACE;
    c.noise_hz = 30;
    c.seed = 123456789012345ULL;
    srnn_model m, m2;
    assert_int_equal(srnn_init(&m, &c, err), 0);
    for (int v = 0; v < 4; v++) m.p.b_out[v] = 0.25f * v;
    const char *words[4] = {".", "a", "b", "c"};
    tb_tokenizer tok, tok2;
    assert_int_equal(tok_from_list(&tok, TOK_WORD, words, 4, err), 0);
    assert_int_equal(srnn_save_file(&m, &tok, path, err), 0);
    assert_int_equal(srnn_load_file(path, &m2, &tok2, NULL, err), 0);
    assert_true(m2.cfg.seed == c.seed && m2.cfg.dale == 1 && m2.cfg.readout == SRNN_TRACE && m2.cfg.p_conn == 0.5);
    assert_true(m2.cfg.tau_m_ms == c.tau_m_ms && m2.cfg.noise_hz == 30);
    assert_memory_equal(m.params_mem, m2.params_mem, m.n_params * 4);
    assert_memory_equal(m.mask, m2.mask, 100 * 4);
    assert_memory_equal(m.w_eff, m2.w_eff, 100 * 4);
    assert_int_equal(tok2.vocab_size, 4);
    int ids[5] = {0, 1, 2, 3, 0};
    float a[5], b[5];
    assert_int_equal(srnn_sequence_nll(&m, ids, 5, a, err), 0);
    assert_int_equal(srnn_sequence_nll(&m2, ids, 5, b, err), 0);
    assert_memory_equal(a, b, sizeof a);
    /* a GPT-kind file is refused; a missing file names itself */
    tb_ckpt ck;
    ckpt_init(&ck, "gpt");
    assert_int_equal(ckpt_save(&ck, path, err), 0);
    ckpt_free(&ck);
    srnn_model m3;
    assert_int_equal(srnn_load_file(path, &m3, NULL, NULL, err), -1);
    assert_non_null(strstr(err, "gpt"));
    unlink(path);
    assert_int_equal(srnn_load_file(path, &m3, NULL, NULL, err), -1);
    assert_non_null(strstr(err, path));
    tok_free(&tok);
    tok_free(&tok2);
    srnn_free(&m);
    srnn_free(&m2);
}

/* ---- bad inputs ------------------------------------------------------------------------- */

static void bad_inputs(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    srnn_config c;
    small_config(&c, 5, 8, 2);
    srnn_model m;
    c.n_neurons = 1;
    assert_int_equal(srnn_init(&m, &c, err), -1);
    assert_non_null(strstr(err, "--neurons 1"));
    small_config(&c, 5, 8, 2);
    c.p_conn = 0;
    assert_int_equal(srnn_check_config(&c, err), -1);
    assert_non_null(strstr(err, "--p-conn"));
    small_config(&c, 5, 8, 2);
    c.tau_m_ms = -1;
    assert_int_equal(srnn_check_config(&c, err), -1);
    assert_non_null(strstr(err, "--tau-m"));
    small_config(&c, 5, 8, 2);
    assert_int_equal(srnn_init(&m, &c, err), 0);
    int x[2] = {1, 9}, y[2] = {1, 1};
    assert_int_equal(srnn_forward_backward(&m, x, y, 1, 2, NULL, 1, 1, NULL, err), -1);
    assert_non_null(strstr(err, "out of range"));
    float nll[2];
    assert_int_equal(srnn_sequence_nll(&m, x, 2, nll, err), -1);
    assert_non_null(strstr(err, "vocabulary"));
    srnn_neuron nn;
    assert_int_equal(srnn_parse_neuron("hh", &nn), -1);
    srnn_free(&m);
}

int main(void) {
    char err[TB_ERRLEN];
    if (kernels_init("auto", err)) { fprintf(stderr, "%s\n", err); return 1; }
    /* The 1-thread reference first: the pool is resized only once, before any job ran. */
    tb_threads_init(1);
    srnn_config c;
    fb_config(&c);
    run_fb(0, &c, g_one_thread, &s_one_thread);
    tb_threads_init(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grad_count_dense),
        cmocka_unit_test(grad_trace_dale_sparse),
        cmocka_unit_test(event_vs_dense_and_threads),
        cmocka_unit_test(ridge_vs_lstsq),
        cmocka_unit_test(reservoir_learns),
        cmocka_unit_test(reservoir_readout_vs_lstsq),
        cmocka_unit_test(bptt_learns),
        cmocka_unit_test(scoring_and_recording),
        cmocka_unit_test(neuron_models_spike),
        cmocka_unit_test(stdp_changes_inputs),
        cmocka_unit_test(save_load_round_trip),
        cmocka_unit_test(bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
