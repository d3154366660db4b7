/* stdp.h -- pair-based spike-timing-dependent plasticity with exponential traces.
 *
 * Lesson 05 explains it.  Each synapse i has a presynaptic trace x_i and the neuron a
 * postsynaptic trace y; both decay exponentially and jump by 1 at each spike:
 *     dx_i/dt = -x_i / tau_plus  (+1 per pre spike)   dy/dt = -y / tau_minus  (+1 per post spike)
 * On a post spike every synapse is potentiated, on a pre spike depressed:
 *   additive:        w += A_plus x_i            w -= A_minus y
 *   multiplicative:  w += A_plus (w_max - w) x_i     w -= A_minus (w - w_min) y
 * and w is clipped to [w_min, w_max].  For one pair with dt = t_post - t_pre this gives
 * the classic window  dw = A_plus exp(-dt/tau_plus) (dt > 0),
 *                     dw = -A_minus exp(dt/tau_minus) (dt < 0)
 * (times (w_max - w) or (w - w_min) in the multiplicative rule).
 * A_plus, A_minus are in units of w (the multiplicative ones are fractions).
 */
#ifndef TB_STDP_H
#define TB_STDP_H

#include "tb.h"
#include <stdint.h>

typedef struct {
    double a_plus, a_minus;     /* learning rates */
    double tau_plus, tau_minus; /* ms */
    double w_min, w_max;
    int multiplicative;         /* 0 additive, 1 multiplicative (soft bounds) */
} stdp_rule;

void stdp_rule_default(stdp_rule *r);  /* additive, A+ 0.01, A- 0.0105, 20/20 ms, [0, 1] */
int  stdp_rule_check(const stdp_rule *r, double dt, char *err);
/* Analytic weight change of one pre/post pair at weight w (dt_pair = t_post - t_pre). */
double stdp_window(const stdp_rule *r, double dt_pair, double w);

/* n plastic synapses onto one neuron, with their traces. */
typedef struct {
    stdp_rule rule;
    int n;
    float *w, *x;   /* [n] weights and presynaptic traces */
    float y;        /* postsynaptic trace */
    float dx, dy;   /* per-step decay factors */
} stdp_syn;

int  stdp_syn_init(stdp_syn *s, const stdp_rule *r, int n, double w0, double dt, char *err);
void stdp_syn_free(stdp_syn *s);
void stdp_decay(stdp_syn *s);                 /* once per step, before the spikes */
void stdp_pre(stdp_syn *s, int i);            /* presynaptic spike at synapse i */
void stdp_post(stdp_syn *s);                  /* postsynaptic spike */

/* Measure the window with the trace code itself: for each dts[k] one fresh synapse at
 * weight w0 sees one pre spike and one post spike dts[k] ms apart; dw[k] = w_end - w0. */
int stdp_measure_window(const stdp_rule *r, double w0, double dt, const double *dts, int n,
                        double *dw, char *err);

/* ---- learning a repeated pattern (after Masquelier, Guyonneau & Thorpe 2008) -------
 * n_in Poisson afferents at rate_hz feed one LIF neuron (delta synapses: a spike of
 * afferent i lifts v by w_i mV; tau_m, threshold v_th above rest 0, reset 0).  Time is
 * cut into windows of pattern_ms; a fraction p_pattern of them replay the same frozen
 * spike pattern on the first n_pattern afferents (the others stay random), so the
 * pattern cannot be seen in firing rates, only in spike timing.  STDP should make the
 * neuron fire inside the pattern, earlier and earlier, and nowhere else. */
typedef struct {
    stdp_rule rule;
    int n_in, n_pattern;
    double rate_hz, pattern_ms, p_pattern;
    double tau_m, v_th, t_ref, w0, dt, t_ms;
    uint64_t seed;
} stdp_pattern_cfg;

typedef struct {
    int n_windows;            /* pattern_ms windows simulated */
    int *is_pattern;          /* [n_windows] */
    int *n_post;              /* [n_windows] post spikes in each window */
    double *latency;          /* [n_windows] first post spike after window start, ms (NAN: none) */
    int n_snap;               /* weight snapshots (every 1% of the run) */
    double *snap_t;           /* [n_snap] ms */
    double *w_pat, *w_bg;     /* [n_snap] mean weight of pattern / other afferents */
    float *w_final;           /* [n_in] */
    long long post_spikes;
} stdp_pattern_result;

void stdp_pattern_default(stdp_pattern_cfg *c);
int  stdp_pattern_run(const stdp_pattern_cfg *c, stdp_pattern_result *res, char *err);
void stdp_pattern_free(stdp_pattern_result *res);

/* ---- what lesson 05 measures (stdp_measure.c) -------------------------------------
 * The window: dw of one pair at dt_pair = -100, -98, ..., 100 ms measured through the
 * trace code (stdp_measure_window at dt STDP_WINDOW_DT), the rule's formula on a 0.5 ms
 * grid, and the time constants fitted back from the measured points (least squares of
 * ln |dw| against dt_pair on each side; NAN with fewer than 3 usable points).  The pairs
 * start at w = w0, or mid-range (w_max / 2) for the multiplicative rule. */
#define STDP_WINDOW_N 101
#define STDP_CURVE_N 401
#define STDP_WINDOW_DT 0.1
typedef struct {
    double w;                                         /* weight the pairs start from */
    double dt_pair[STDP_WINDOW_N], dw[STDP_WINDOW_N]; /* measured */
    double curve_dt[STDP_CURVE_N], curve_dw[STDP_CURVE_N]; /* stdp_window() */
    double tau_plus_fit, tau_minus_fit;               /* ms */
    double dw_plus10, dw_minus10;                     /* measured dw at +10 ms and -10 ms */
} stdp_window_result;
int stdp_window_experiment(const stdp_rule *r, double w0, stdp_window_result *out, char *err);

/* Training cut into `parts` equal stretches of windows; for each stretch q:
 * hit[q] = share of pattern windows with an output spike, fa_hz[q] = output spikes per
 * second outside the pattern windows, latency_ms[q] = mean first-spike latency of the
 * hits (NAN where a stretch has none of them). */
void stdp_pattern_progress(const stdp_pattern_result *r, double pattern_ms, int parts, double *hit,
                           double *fa_hz, double *latency_ms);

#endif
