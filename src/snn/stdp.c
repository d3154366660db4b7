/* stdp.c -- pair-based STDP with exponential traces, its measured window, and the
 * repeated-pattern learning demo (lesson 05).  Equations in include/stdp.h. */
#include "stdp.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void stdp_rule_default(stdp_rule *r) {
    *r = (stdp_rule){0.01, 0.0105, 20, 20, 0, 1, 0};
}

int stdp_rule_check(const stdp_rule *r, double dt, char *err) {
    if (!(r->tau_plus > 0) || !(r->tau_minus > 0))
        return tb_fail(err, "STDP time constants must be > 0 ms (tau+ %g, tau- %g)", r->tau_plus, r->tau_minus);
    if (r->a_plus < 0 || r->a_minus < 0)
        return tb_fail(err, "STDP amplitudes must be >= 0 (A+ %g, A- %g)", r->a_plus, r->a_minus);
    if (r->multiplicative && (r->a_plus > 1 || r->a_minus > 1))
        return tb_fail(err, "multiplicative STDP amplitudes are fractions in [0, 1]");
    if (!(r->w_max > r->w_min)) return tb_fail(err, "STDP needs w_max > w_min (%g, %g)", r->w_max, r->w_min);
    if (!(dt > 0) || dt > fmin(r->tau_plus, r->tau_minus) / 5)
        return tb_fail(err, "dt %g ms is too large for STDP traces (need 0 < dt <= tau/5)", dt);
    return 0;
}

double stdp_window(const stdp_rule *r, double d, double w) {
    if (d > 0) return r->a_plus * exp(-d / r->tau_plus) * (r->multiplicative ? r->w_max - w : 1);
    if (d < 0) return -r->a_minus * exp(d / r->tau_minus) * (r->multiplicative ? w - r->w_min : 1);
    return 0;
}

int stdp_syn_init(stdp_syn *s, const stdp_rule *r, int n, double w0, double dt, char *err) {
    memset(s, 0, sizeof *s);
    if (stdp_rule_check(r, dt, err)) return -1;
    if (n < 1) return tb_fail(err, "STDP needs at least one synapse");
    s->rule = *r;
    s->n = n;
    s->w = malloc((size_t)n * sizeof(float));
    s->x = calloc((size_t)n, sizeof(float));
    if (!s->w || !s->x) { stdp_syn_free(s); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < n; i++) s->w[i] = (float)w0;
    s->dx = (float)exp(-dt / r->tau_plus);
    s->dy = (float)exp(-dt / r->tau_minus);
    return 0;
}

void stdp_syn_free(stdp_syn *s) { free(s->w); free(s->x); memset(s, 0, sizeof *s); }

void stdp_decay(stdp_syn *s) {
    for (int i = 0; i < s->n; i++) s->x[i] *= s->dx;
    s->y *= s->dy;
}

static float clip(const stdp_rule *r, float w) {
    return w < r->w_min ? (float)r->w_min : w > r->w_max ? (float)r->w_max : w;
}

void stdp_pre(stdp_syn *s, int i) {
    const stdp_rule *r = &s->rule;
    float dep = (float)r->a_minus * s->y;
    if (r->multiplicative) dep *= s->w[i] - (float)r->w_min;
    s->w[i] = clip(r, s->w[i] - dep);
    s->x[i] += 1.0f;
}

void stdp_post(stdp_syn *s) {
    const stdp_rule *r = &s->rule;
    float ap = (float)r->a_plus;
    for (int i = 0; i < s->n; i++) {
        float pot = ap * s->x[i];
        if (r->multiplicative) pot *= (float)r->w_max - s->w[i];
        s->w[i] = clip(r, s->w[i] + pot);
    }
    s->y += 1.0f;
}

int stdp_measure_window(const stdp_rule *r, double w0, double dt, const double *dts, int n,
                        double *dw, char *err) {
    for (int k = 0; k < n; k++) {
        stdp_syn s;
        if (stdp_syn_init(&s, r, 1, w0, dt, err)) return -1;
        long pre = (long)floor(10 * fmax(r->tau_plus, r->tau_minus) / dt), post = pre + lround(dts[k] / dt);
        long end = (pre > post ? pre : post) + 1;
        for (long t = 0; t <= end; t++) {
            stdp_decay(&s);
            if (t == pre) stdp_pre(&s, 0);
            if (t == post) stdp_post(&s);
        }
        dw[k] = s.w[0] - w0;
        stdp_syn_free(&s);
    }
    return 0;
}

void stdp_pattern_default(stdp_pattern_cfg *c) {
    stdp_rule_default(&c->rule);
    c->rule.a_minus = 0.0115; /* depression slightly stronger: unstructured input loses */
    c->n_in = 500;
    c->n_pattern = 250;
    c->rate_hz = 20;
    c->pattern_ms = 50;
    c->p_pattern = 0.25;
    c->tau_m = 10;
    c->v_th = 30;
    c->t_ref = 2;
    c->w0 = 0.3;
    c->dt = 0.5;
    c->t_ms = 300000;
    c->seed = 1;
}

void stdp_pattern_free(stdp_pattern_result *r) {
    free(r->is_pattern); free(r->n_post); free(r->latency);
    free(r->snap_t); free(r->w_pat); free(r->w_bg); free(r->w_final);
    memset(r, 0, sizeof *r);
}

/* Draw the afferents in [a, b) that spike in one step: count ~ Poisson(m p), then
 * which ones uniformly (a rare duplicate is merged: p is tiny). */
static int draw_spikes(tb_rng *rng, int a, int b, double p, int *out) {
    int k = rng_poisson(rng, (b - a) * p), n = 0;
    for (int j = 0; j < k; j++) out[n++] = a + (int)rng_below(rng, (uint32_t)(b - a));
    return n;
}

static int check_pattern_cfg(const stdp_pattern_cfg *c, char *err) {
    if (c->n_in < 2 || c->n_pattern < 1 || c->n_pattern > c->n_in)
        return tb_fail(err, "pattern demo needs 1 <= n_pattern <= n_in (got %d of %d)", c->n_pattern, c->n_in);
    if (!(c->rate_hz > 0) || !(c->pattern_ms > 0) || !(c->tau_m > 0) || !(c->v_th > 0) || c->t_ref < 0 ||
        !(c->p_pattern >= 0 && c->p_pattern <= 1) || !(c->t_ms > 0))
        return tb_fail(err, "pattern demo: rate, window, tau_m, threshold and duration must be > 0, "
                       "p_pattern in [0, 1]");
    if (c->dt > c->tau_m / 10) return tb_fail(err, "dt %g ms is too large for tau_m %g ms", c->dt, c->tau_m);
    return 0;
}

/* The result's arrays: per window (nwin) and 101 weight snapshots. */
static int alloc_pattern_result(stdp_pattern_result *res, int nwin, int n_in) {
    res->n_windows = nwin;
    res->is_pattern = calloc((size_t)nwin, sizeof(int));
    res->n_post = calloc((size_t)nwin, sizeof(int));
    res->latency = malloc((size_t)nwin * sizeof(double));
    res->n_snap = 101;
    res->snap_t = malloc(101 * sizeof(double));
    res->w_pat = malloc(101 * sizeof(double));
    res->w_bg = malloc(101 * sizeof(double));
    res->w_final = malloc((size_t)n_in * sizeof(float));
    return res->is_pattern && res->n_post && res->latency && res->snap_t && res->w_pat && res->w_bg && res->w_final
               ? 0 : -1;
}

/* Snapshot k at time t_ms: mean weight of the pattern afferents and of the others. */
static void weight_snapshot(stdp_pattern_result *res, int k, double t_ms, const stdp_syn *s,
                            const stdp_pattern_cfg *c) {
    double sp = 0, sb = 0;
    for (int i = 0; i < c->n_in; i++) *(i < c->n_pattern ? &sp : &sb) += s->w[i];
    res->snap_t[k] = t_ms;
    res->w_pat[k] = sp / c->n_pattern;
    res->w_bg[k] = c->n_in > c->n_pattern ? sb / (c->n_in - c->n_pattern) : NAN;
}

/* The frozen pattern: for each step t of the W-step window, the pattern afferents that
 * fire are pat[start[t] .. start[t+1]). */
typedef struct { int *start, *pat, n; } frozen_pattern;

static int freeze_pattern(frozen_pattern *f, int W, const stdp_pattern_cfg *c, double p, tb_rng *rng, int *buf) {
    int cap = (int)(c->n_pattern * p * W * 2) + 64;
    f->n = 0;
    f->start = calloc((size_t)W + 1, sizeof(int));
    f->pat = malloc((size_t)cap * sizeof(int));
    if (!f->start || !f->pat) return -1;
    for (int t = 0; t < W; t++) {
        f->start[t] = f->n;
        int k = draw_spikes(rng, 0, c->n_pattern, p, buf);
        for (int j = 0; j < k && f->n < cap; j++) f->pat[f->n++] = buf[j];
    }
    f->start[W] = f->n;
    return 0;
}

int stdp_pattern_run(const stdp_pattern_cfg *c, stdp_pattern_result *res, char *err) {
    memset(res, 0, sizeof *res);
    if (check_pattern_cfg(c, err)) return -1;
    stdp_syn s;
    if (stdp_syn_init(&s, &c->rule, c->n_in, c->w0, c->dt, err)) return -1;
    tb_rng rng;
    rng_seed(&rng, c->seed);
    double p = c->rate_hz * c->dt * 1e-3;
    int W = (int)lround(c->pattern_ms / c->dt);
    if (W < 1) W = 1;
    int nwin = (int)(c->t_ms / c->pattern_ms);
    if (nwin < 1) nwin = 1;
    frozen_pattern f = {0};
    int *buf = malloc((size_t)(c->n_in + 64) * sizeof(int));
    if (!buf || alloc_pattern_result(res, nwin, c->n_in) || freeze_pattern(&f, W, c, p, &rng, buf)) {
        free(f.start); free(f.pat); free(buf); stdp_syn_free(&s); stdp_pattern_free(res);
        return tb_fail(err, "out of memory");
    }
    double decay = exp(-c->dt / c->tau_m), v = 0, ref = 0;
    int snap = 0;
    long total = (long)nwin * W;
    for (int win = 0; win < nwin; win++) {
        int is_pat = rng_uniform(&rng) < c->p_pattern;   /* this window: the pattern, or noise */
        res->is_pattern[win] = is_pat;
        res->latency[win] = NAN;
        for (int t = 0; t < W; t++) {
            long step = (long)win * W + t;
            if (snap < 101 && step >= total * snap / 100) { weight_snapshot(res, snap, step * c->dt, &s, c); snap++; }
            stdp_decay(&s);
            int k = 0;   /* afferents firing now: the pattern's (then noise on the others), or noise */
            if (is_pat) {
                for (int j = f.start[t]; j < f.start[t + 1]; j++) buf[k++] = f.pat[j];
                k += draw_spikes(&rng, c->n_pattern, c->n_in, p, buf + k);
            } else {
                k = draw_spikes(&rng, 0, c->n_in, p, buf);
            }
            double in = 0;
            for (int j = 0; j < k; j++) { in += s.w[buf[j]]; stdp_pre(&s, buf[j]); }
            if (ref > 0.5 * c->dt) { ref -= c->dt; continue; }
            v = v * decay + in;
            if (v >= c->v_th) {   /* the post-synaptic neuron fires */
                v = 0;
                ref = c->t_ref;
                stdp_post(&s);
                res->post_spikes++;
                if (res->n_post[win]++ == 0) res->latency[win] = (t + 1) * c->dt;
            }
        }
    }
    for (; snap < 101; snap++) weight_snapshot(res, snap, total * c->dt, &s, c);
    memcpy(res->w_final, s.w, (size_t)c->n_in * sizeof(float));
    free(f.start); free(f.pat); free(buf);
    stdp_syn_free(&s);
    return 0;
}
