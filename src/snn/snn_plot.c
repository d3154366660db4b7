/* snn_plot.c -- the pictures of lessons 02-05: voltage traces and f-I curves of one
 * neuron, rasters and rates of a network, the STDP window and pattern learning.
 * The charts (axes, traces) are plot.h's; see include/snn_plot.h for the files. */
#include "snn_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const unsigned char BLACK[3] = {0, 0, 0}, RED[3] = {200, 30, 30}, BLUE[3] = {30, 60, 200};

/* ---- one neuron ------------------------------------------------------------------ */

static void range_f(const float *x, long n, float *lo, float *hi) {
    *lo = *hi = x[0];
    for (long k = 0; k < n; k++) {
        if (x[k] < *lo) *lo = x[k];
        if (x[k] > *hi) *hi = x[k];
    }
}

int nrn_plot_trace(const char *prefix, const nrn_params *p, const nrn_trace *tr, double dt,
                   const char *title, tb_picture *pic, char *err) {
    static const unsigned char V_BLUE[3] = {20, 60, 190}, TICK_RED[3] = {210, 30, 30}, GREEN[3] = {10, 130, 60};
    tb_canvas cv;
    if (canvas_init(&cv, 1000, 560, err)) return -1;
    float vmin, vmax, imin, imax;
    range_f(tr->v, tr->n, &vmin, &vmax);
    range_f(tr->i, tr->n, &imin, &imax);
    /* membrane potential, with a tick above it for every spike */
    double T = tr->n * dt, pad = 0.05 * (vmax - vmin) + 1;
    tb_chart c1 = {80, 40, 890, 330, 0, T, vmin - pad, vmax + pad};
    chart_axes(&cv, &c1, NULL, "membrane potential (mV)", title);
    chart_trace(&cv, &c1, tr->v, tr->n, dt, dt, V_BLUE);
    for (int s = 0; s < tr->n_spikes; s++) {
        int px = chart_px(&c1, tr->spike_ms[s]);
        canvas_line(&cv, px, c1.y - 6, px, c1.y - 1, TICK_RED);
    }
    /* the input current underneath */
    double ipad = 0.1 * (imax - imin) + (imax == imin ? fabs(imax) * 0.1 + 0.1 : 0);
    tb_chart c2 = {80, 420, 890, 100, 0, T, imin - ipad, imax + ipad};
    char ylabel[64];
    snprintf(ylabel, sizeof ylabel, "input (%s)", nrn_current_unit(p->model));
    chart_axes(&cv, &c2, "time (ms)", ylabel, NULL);
    chart_trace(&cv, &c2, tr->i, tr->n, 0, dt, GREEN);
    int rc = canvas_save_at(&cv, prefix, "_trace", pic, err);
    canvas_free(&cv);
    return rc;
}

int nrn_plot_fi(const char *prefix, const nrn_params *p, const char *label, double dt, double t_ms,
                const double *I, const double *rate_hz, int n, tb_picture *pic, char *err) {
    enum { NF = 400 };   /* points of the formula's curve */
    double lo = I[0], hi = I[n - 1], xf[NF], ff[NF];
    tb_series s[2] = {{"simulated", I, rate_hz, n, "points"}, {NULL, NULL, NULL, 0, NULL}};
    int ns = 1;
    if (p->model == NRN_LIF) {
        for (int k = 0; k < NF; k++) {
            xf[k] = lo + (hi - lo) * k / (NF - 1);
            ff[k] = lif_rate_analytic(&p->lif, xf[k]);
        }
        s[ns++] = (tb_series){"formula 1/(t_ref + tau_m ln(...))", xf, ff, NF, "lines"};
    }
    char title[200], xlabel[64];
    snprintf(title, sizeof title, "f-I curve: %s (dt %g ms, %g ms per point)", label, dt, t_ms);
    snprintf(xlabel, sizeof xlabel, "input current (%s)", nrn_current_unit(p->model));
    tb_lineplot lp = {title, xlabel, "firing rate (Hz)", 0, 0, 0, NAN, 0, 0};
    return plot_lines_at(prefix, "_fi", &lp, s, ns, pic, err);
}

/* ---- the phase plane ----------------------------------------------------------------- */

/* A curve u(v) sampled at n voltages, drawn as a polyline; points outside the chart's u
 * range are left out (the nullclines run far off it). */
static void draw_curve(tb_canvas *cv, const tb_chart *c, const double *v, const double *u, int n,
                       const unsigned char rgb[3]) {
    for (int k = 1; k < n; k++) {
        if (u[k - 1] < c->y0 || u[k - 1] > c->y1 || u[k] < c->y0 || u[k] > c->y1) continue;
        canvas_line(cv, chart_px(c, v[k - 1]), chart_py(c, u[k - 1]), chart_px(c, v[k]), chart_py(c, u[k]), rgb);
    }
}

/* The chart's ranges: v from below the lowest point to the spike cut-off, u around the
 * trajectory. */
static tb_chart phase_chart(const nrn_params *p, const float *v, const float *u, long n) {
    float vlo, vhi, ulo, uhi;
    range_f(v, n, &vlo, &vhi);
    range_f(u, n, &ulo, &uhi);
    double vtop = p->model == NRN_IZH ? p->izh.v_peak : p->adex.v_cut;
    double du = uhi - ulo > 0 ? uhi - ulo : fabs(uhi) + 1;
    return (tb_chart){90, 40, 860, 560, vlo - 5, vtop + 2, ulo - 0.35 * du, uhi + 0.35 * du};
}

/* Legend lines in the top-left corner of the chart. */
static void phase_legend(tb_canvas *cv, const tb_chart *c, const char *const *text,
                         const unsigned char (*rgb)[3], int n) {
    static const unsigned char WHITE[3] = {255, 255, 255};
    canvas_rect(cv, c->x + 4, c->y + 4, 290, 16 * n + 8, WHITE);
    for (int i = 0; i < n; i++) {
        canvas_rect(cv, c->x + 12, c->y + 14 + 16 * i, 18, 3, rgb[i]);
        canvas_text(cv, c->x + 36, c->y + 9 + 16 * i, text[i], 1, 0, BLACK);
    }
}

static void draw_phase(tb_canvas *cv, const tb_chart *c, const nrn_params *p, const float *v,
                       const float *u, const unsigned char *spiked, long n, double I_on, double I_off,
                       double *vs, double *a, double *b, int nv) {
    static const unsigned char PALE[3] = {150, 170, 235}, GREEN[3] = {10, 140, 60}, GREY[3] = {120, 120, 120};
    for (int k = 0; k < nv; k++) vs[k] = c->x0 + (c->x1 - c->x0) * k / (nv - 1);
    nrn_nullclines(p, I_off, vs, nv, a, b);
    draw_curve(cv, c, vs, a, nv, PALE);
    nrn_nullclines(p, I_on, vs, nv, a, b);
    draw_curve(cv, c, vs, a, nv, BLUE);
    draw_curve(cv, c, vs, b, nv, GREEN);
    for (long k = 1; k < n; k++) {
        if (spiked[k]) { canvas_rect(cv, chart_px(c, v[k]) - 2, chart_py(c, u[k]) - 2, 5, 5, GREY); continue; }
        canvas_line(cv, chart_px(c, v[k - 1]), chart_py(c, u[k - 1]), chart_px(c, v[k]), chart_py(c, u[k]), RED);
    }
    char on[80], off[80];
    const char *unit = nrn_current_unit(p->model);
    snprintf(on, sizeof on, "dv/dt = 0 at I = %g %s", I_on, unit);
    snprintf(off, sizeof off, "dv/dt = 0 at I = %g %s (before the step)", I_off, unit);
    const char *text[5] = {on, off, p->model == NRN_IZH ? "du/dt = 0" : "dw/dt = 0", "trajectory",
                           "reset (v = c, u += d)"};
    if (p->model == NRN_ADEX) text[4] = "reset (v = V_r, w += b)";
    const unsigned char legend_rgb[5][3] = {{30, 60, 200}, {150, 170, 235}, {10, 140, 60}, {200, 30, 30}, {120, 120, 120}};
    phase_legend(cv, c, text, legend_rgb, 5);
}

int nrn_plot_phase(const char *prefix, const nrn_params *p, const nrn_trace *tr, double dt,
                   double I_on, double I_off, const char *title, tb_picture *pic, char *err) {
    enum { NV = 600 };
    if (!nrn_has_phase_plane(p)) return tb_fail(err, "the phase plane needs a two-variable model (izh or adex)");
    if (tr->n < 2) return tb_fail(err, "the phase plane needs at least 2 steps");
    float *v = malloc((size_t)tr->n * sizeof *v), *u = malloc((size_t)tr->n * sizeof *u);
    unsigned char *spiked = malloc((size_t)tr->n);
    double *vs = malloc(NV * sizeof *vs), *a = malloc(NV * sizeof *a), *b = malloc(NV * sizeof *b);
    tb_canvas cv = {0, 0, NULL};
    int rc = -1;
    if (!v || !u || !spiked || !vs || !a || !b) { tb_fail(err, "out of memory"); goto done; }
    if (nrn_replay_phase(p, tr->i, tr->n, dt, v, u, spiked, err) || canvas_init(&cv, 1000, 660, err)) goto done;
    tb_chart c = phase_chart(p, v, u, tr->n);
    chart_axes(&cv, &c, "membrane potential v (mV)",
               p->model == NRN_IZH ? "recovery u (mV/ms)" : "adaptation current w (nA)", title);
    draw_phase(&cv, &c, p, v, u, spiked, tr->n, I_on, I_off, vs, a, b, NV);
    rc = canvas_save_at(&cv, prefix, "_phase", pic, err);
done:
    canvas_free(&cv);
    free(v); free(u); free(spiked); free(vs); free(a); free(b);
    return rc;
}

/* ---- a network ------------------------------------------------------------------- */

/* Dots for n_show neurons (the same share of each population) over the first t_show ms,
 * and the population rate of all neurons underneath. */
static int draw_raster(tb_canvas *cv, const char *name, const snn_config *cfg, const snn_result *r,
                       const snn_summary *sum, double t_show, int n_show, char *err) {
    int ne = sum->n_exc, N = sum->n;
    if (n_show > N) n_show = N;
    int show_e = cfg->n_pops > 1 ? (int)((double)n_show * ne / N) : n_show;
    tb_chart c = {70, 30, 900, 430, 0, t_show, 0, n_show};
    char title[300];
    snprintf(title, sizeof title, "%s: %d of %d neurons, first %g ms, mean %.1f Hz (red: excitatory, blue: inhibitory)",
             name, n_show, N, t_show, sum->rate_hz);
    chart_axes(cv, &c, "time (ms)", "neuron", title);
    long bins = c.w;
    double *rate = calloc((size_t)bins, sizeof *rate);
    float *rf = malloc((size_t)bins * sizeof *rf);
    if (!rate || !rf) { free(rate); free(rf); return tb_fail(err, "out of memory"); }
    for (long long k = 0; k < r->n_spikes; k++) {
        double t = r->spk_step[k] * cfg->dt;
        if (t >= t_show) break;
        int i = r->spk_idx[k], row = -1, inh = i >= ne;
        if (!inh && i < show_e) row = i;
        else if (inh && i - ne < n_show - show_e) row = show_e + (i - ne);
        rate[(long)(t / t_show * bins)] += 1;
        if (row < 0) continue;
        canvas_rect(cv, chart_px(&c, t), chart_py(&c, row + 0.5) - 1, 2, 2, inh ? BLUE : RED);
    }
    double bin_ms = t_show / bins, mx = 1;
    for (long b = 0; b < bins; b++) {
        rate[b] = rate[b] / N / (bin_ms * 1e-3);
        if (rate[b] > mx) mx = rate[b];
    }
    for (long b = 0; b < bins; b++) rf[b] = (float)rate[b];
    tb_chart c2 = {70, 500, 900, 80, 0, t_show, 0, mx * 1.1};
    chart_axes(cv, &c2, "time (ms)", "rate (Hz)", "population rate (all neurons)");
    chart_trace(cv, &c2, rf, bins, bin_ms / 2, bin_ms, BLACK);
    free(rate);
    free(rf);
    return 0;
}

static int plot_raster(const char *prefix, const char *name, const snn_config *cfg, const snn_result *r,
                       const snn_summary *sum, double t_show, tb_picture *pic, char *err) {
    tb_canvas cv;
    if (canvas_init(&cv, 1000, 620, err)) return -1;
    int rc = draw_raster(&cv, name, cfg, r, sum, t_show, 400, err);
    if (!rc) rc = canvas_save_at(&cv, prefix, "_raster", pic, err);
    canvas_free(&cv);
    return rc;
}

/* Two series over x[n], excitatory and inhibitory, as one line plot PREFIX SUFFIX. */
static int plot_e_i(const char *prefix, const char *suffix, const tb_lineplot *lp, const double *x, const double *e,
                    const double *i, int n, const char *style, tb_picture *pic, char *err) {
    tb_series s[2] = {{"excitatory", x, e, n, style}, {"inhibitory", x, i, n, style}};
    return plot_lines_at(prefix, suffix, lp, s, 2, pic, err);
}

/* Excitatory and inhibitory population rates in 5 ms bins over the whole run. */
static int plot_rates(const char *prefix, const char *name, const snn_config *cfg, const snn_result *r,
                      const snn_summary *sum, tb_picture *pic, char *err) {
    double bin = 5;
    int nb = (int)ceil(r->sim_ms / bin), ne = sum->n_exc, ni = sum->n - sum->n_exc;
    double *x = calloc((size_t)nb, sizeof *x), *re = calloc((size_t)nb, sizeof *re), *ri = calloc((size_t)nb, sizeof *ri);
    int rc = -1;
    if (!x || !re || !ri) { tb_fail(err, "out of memory"); goto done; }
    for (long long k = 0; k < r->n_spikes; k++) {
        int b = (int)(r->spk_step[k] * cfg->dt / bin);
        if (b >= nb) b = nb - 1;
        if (r->spk_idx[k] < ne) re[b] += 1; else ri[b] += 1;
    }
    for (int b = 0; b < nb; b++) { x[b] = (b + 0.5) * bin; re[b] /= ne * bin * 1e-3; ri[b] /= ni * bin * 1e-3; }
    char title[200];
    snprintf(title, sizeof title, "%s population rate (5 ms bins), mean %.2f Hz", name, sum->rate_hz);
    tb_lineplot lp = {title, "time (ms)", "rate (Hz)", 0, 0, 0, NAN, 0, 0};
    rc = plot_e_i(prefix, "_rate", &lp, x, re, ri, nb, "lines", pic, err);
done:
    free(x); free(re); free(ri);
    return rc;
}

/* Histogram of single-neuron rates, 1 Hz bins, excitatory and inhibitory apart. */
static int plot_rate_hist(const char *prefix, const char *name, const snn_result *r, const snn_summary *sum,
                          tb_picture *pic, char *err) {
    double sec = r->sim_ms * 1e-3, mx = 0;
    for (int i = 0; i < sum->n; i++) if (sum->count[i] / sec > mx) mx = sum->count[i] / sec;
    int hb = (int)ceil(mx) + 1, rc = -1;
    double *hx = calloc((size_t)hb, sizeof *hx), *he = calloc((size_t)hb, sizeof *he), *hi = calloc((size_t)hb, sizeof *hi);
    if (!hx || !he || !hi) { tb_fail(err, "out of memory"); goto done; }
    for (int i = 0; i < sum->n; i++) {
        int b = (int)(sum->count[i] / sec);
        if (b >= hb) b = hb - 1;
        if (i < sum->n_exc) he[b] += 1; else hi[b] += 1;
    }
    for (int b = 0; b < hb; b++) hx[b] = b;
    char title[200];
    snprintf(title, sizeof title, "%s: firing rates of single neurons over %g ms", name, r->sim_ms);
    tb_lineplot lp = {title, "rate (Hz, 1 Hz bins)", "neurons", 0, 0, 0, NAN, 0, 0};
    rc = plot_e_i(prefix, "_hist", &lp, hx, he, hi, hb, "steps", pic, err);
done:
    free(hx); free(he); free(hi);
    return rc;
}

int snn_plot_run(const char *prefix, const char *name, const snn_config *cfg, const snn_result *res,
                 const snn_summary *sum, double raster_ms, tb_picture pics[SNN_RUN_PICTURES], char *err) {
    if (res->steps <= 0) return tb_fail(err, "nothing to draw: the run has no steps");
    if (plot_raster(prefix, name, cfg, res, sum, fmin(raster_ms, res->sim_ms), &pics[0], err)) return -1;
    if (plot_rates(prefix, name, cfg, res, sum, &pics[1], err)) return -1;
    return plot_rate_hist(prefix, name, res, sum, &pics[2], err);
}

/* ---- STDP ------------------------------------------------------------------------ */

static int plot_window(const char *prefix, const char *rule_name, const stdp_window_result *w, tb_picture *pic,
                       char *err) {
    tb_series s[2] = {{"measured (one pair through the trace code)", w->dt_pair, w->dw, STDP_WINDOW_N, "points"},
                      {"rule: A+ exp(-dt/tau+), -A- exp(dt/tau-)", w->curve_dt, w->curve_dw, STDP_CURVE_N, "lines"}};
    char title[200];
    snprintf(title, sizeof title, "STDP window (%s, w = %g)", rule_name, w->w);
    tb_lineplot lp = {title, "t_post - t_pre (ms)", "weight change", 0, 0, NAN, NAN, 0, 0};
    return plot_lines_at(prefix, "_window", &lp, s, 2, pic, err);
}

static int plot_weights(const char *prefix, const stdp_pattern_result *r, tb_picture *pic, char *err) {
    double *t_s = malloc((size_t)r->n_snap * sizeof *t_s);
    if (!t_s) return tb_fail(err, "out of memory");
    for (int k = 0; k < r->n_snap; k++) t_s[k] = r->snap_t[k] / 1000;
    tb_series s[2] = {{"pattern afferents", t_s, r->w_pat, r->n_snap, "lines"},
                      {"other afferents", t_s, r->w_bg, r->n_snap, "lines"}};
    tb_lineplot lp = {"STDP learns the repeated pattern: mean weight", "training time (s)", "mean weight (mV)",
                      0, 0, 0, NAN, 0, 0};
    int rc = plot_lines_at(prefix, "_weights", &lp, s, 2, pic, err);
    free(t_s);
    return rc;
}

/* Latency of the first output spike in every pattern window that got one; the final
 * weight of every afferent (pattern afferents first). */
static int plot_learning(const char *prefix, const stdp_pattern_cfg *pc, const stdp_pattern_result *r,
                         tb_picture *pic, char *err) {
    tb_canvas cv;
    if (canvas_init(&cv, 1000, 560, err)) return -1;
    double T = r->n_windows * pc->pattern_ms / 1000;
    tb_chart c1 = {70, 30, 900, 200, 0, T, 0, pc->pattern_ms};
    chart_axes(&cv, &c1, "training time (s)", "latency (ms)",
               "first output spike after pattern onset (dots: pattern windows that got a spike)");
    for (int w = 0; w < r->n_windows; w++)
        if (r->is_pattern[w] && r->n_post[w])
            canvas_rect(&cv, chart_px(&c1, w * pc->pattern_ms / 1000), chart_py(&c1, r->latency[w]) - 1, 2, 2, RED);
    tb_chart c2 = {70, 300, 900, 200, 0, pc->n_in, 0, pc->rule.w_max};
    chart_axes(&cv, &c2, "afferent (pattern afferents first)", "final weight (mV)",
               "weights after training (red: in the pattern, blue: not)");
    for (int i = 0; i < pc->n_in; i++)
        canvas_rect(&cv, chart_px(&c2, i + 0.5), chart_py(&c2, r->w_final[i]) - 1, 2, 2,
                    i < pc->n_pattern ? RED : BLUE);
    int rc = canvas_save_at(&cv, prefix, "_learning", pic, err);
    canvas_free(&cv);
    return rc;
}

int stdp_plot_run(const char *prefix, const char *rule_name, const stdp_window_result *win,
                  const stdp_pattern_cfg *pc, const stdp_pattern_result *res,
                  tb_picture pics[STDP_PICTURES], char *err) {
    if (plot_window(prefix, rule_name, win, &pics[0], err)) return -1;
    if (plot_weights(prefix, res, &pics[1], err)) return -1;
    return plot_learning(prefix, pc, res, &pics[2], err);
}
