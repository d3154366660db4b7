/* stdp_measure.c -- what lesson 05 measures: the STDP window played through the trace
 * code (with its time constants fitted back), and how the pattern experiment's output
 * neuron improves over training.  Equations in include/stdp.h. */
#include "stdp.h"

#include <math.h>

/* tau from the points on one side of the window (side +1: dt > 0, dw > 0; side -1:
 * dt < 0, dw < 0), where ln |dw| = ln A - side dt / tau is a line: least squares. */
static double fit_tau(const double *dt, const double *dw, int n, double side) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int c = 0;
    for (int k = 0; k < n; k++) {
        if (!(side * dt[k] > 0 && side * dw[k] > 0)) continue;
        double y = log(side * dw[k]);
        sx += dt[k];
        sy += y;
        sxx += dt[k] * dt[k];
        sxy += dt[k] * y;
        c++;
    }
    if (c <= 2) return NAN;
    return -side / ((c * sxy - sx * sy) / (c * sxx - sx * sx));
}

int stdp_window_experiment(const stdp_rule *r, double w0, stdp_window_result *out, char *err) {
    out->w = r->multiplicative ? 0.5 * r->w_max : w0;
    for (int k = 0; k < STDP_WINDOW_N; k++) out->dt_pair[k] = -100 + 2.0 * k;
    if (stdp_measure_window(r, out->w, STDP_WINDOW_DT, out->dt_pair, STDP_WINDOW_N, out->dw, err)) return -1;
    for (int k = 0; k < STDP_CURVE_N; k++) {
        out->curve_dt[k] = -100 + 0.5 * k;
        out->curve_dw[k] = stdp_window(r, out->curve_dt[k], out->w);
    }
    out->tau_plus_fit = fit_tau(out->dt_pair, out->dw, STDP_WINDOW_N, 1);
    out->tau_minus_fit = fit_tau(out->dt_pair, out->dw, STDP_WINDOW_N, -1);
    out->dw_plus10 = out->dw[55];    /* dt_pair[55] = +10 ms */
    out->dw_minus10 = out->dw[45];   /* dt_pair[45] = -10 ms */
    return 0;
}

void stdp_pattern_progress(const stdp_pattern_result *r, double pattern_ms, int parts, double *hit,
                           double *fa_hz, double *latency_ms) {
    for (int q = 0; q < parts; q++) {
        int a = r->n_windows * q / parts, b = r->n_windows * (q + 1) / parts;
        int n_pat = 0, n_hit = 0, n_other = 0, false_spikes = 0;
        double lat = 0;
        for (int w = a; w < b; w++) {
            if (!r->is_pattern[w]) { n_other++; false_spikes += r->n_post[w]; continue; }
            n_pat++;
            if (r->n_post[w]) { n_hit++; lat += r->latency[w]; }
        }
        hit[q] = n_pat ? (double)n_hit / n_pat : NAN;
        fa_hz[q] = n_other ? false_spikes / (n_other * pattern_ms * 1e-3) : NAN;
        latency_ms[q] = n_hit ? lat / n_hit : NAN;
    }
}
