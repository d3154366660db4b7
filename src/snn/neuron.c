/* neuron.c -- LIF, Izhikevich, AdEx and Hodgkin-Huxley single neurons (lessons 02, 03).
 *
 * Integrators, and why:
 *  - LIF is linear between spikes, so we use its exact solution over one step
 *    (v relaxes towards v_inf = v_rest + R I with factor exp(-dt/tau_m)): no
 *    stability limit, the only error is that spikes land on the dt grid.
 *  - Izhikevich and AdEx: forward Euler, as in the original papers; the fast upswing
 *    is cut at v_peak / v_cut, so a small step (<= 0.5 ms Izhikevich, <= 0.2 ms and
 *    <= tau/20 AdEx) is all it needs.
 *  - Hodgkin-Huxley: exponential Euler.  The gates are stiff (tau_m is ~0.1 ms near
 *    threshold), so forward Euler explodes unless dt << 0.05 ms.  But each gate is
 *    linear in itself for a fixed v:  dx/dt = (x_inf - x)/tau_x, so over one step
 *        x <- x_inf + (x - x_inf) exp(-dt / tau_x)
 *    is exact for frozen v and can never leave [0, 1], whatever dt.  v is linear too
 *    once the gates are fixed (C dv/dt = -G v + sum g E + I), so it gets the same
 *    treatment.  It is first-order accurate like Euler, but unconditionally stable,
 *    and costs one exp per variable: cheaper than RK4 at the same accuracy for dt
 *    0.01-0.025 ms.  We still reject dt > 0.05 ms, where the spike shape is wrong.
 */
#include "neuron.h"
#include "rng.h"

#include <math.h>
#include <string.h>

#define POS(x, name) \
    if (!((x) > 0)) return tb_fail(err, "%s must be > 0 (got %g)", name, (double)(x))

int nrn_check(const nrn_params *p, double dt, char *err) {
    if (!(dt > 0)) return tb_fail(err, "dt must be > 0 ms (got %g)", dt);
    switch (p->model) {
    case NRN_LIF: {
        const nrn_lif *l = &p->lif;
        POS(l->tau_m, "tau_m");
        POS(l->r_m, "R_m");
        if (l->t_ref < 0) return tb_fail(err, "t_ref must be >= 0 ms (got %g)", l->t_ref);
        if (!(l->v_th > l->v_reset))
            return tb_fail(err, "v_th (%g mV) must be above v_reset (%g mV)", l->v_th, l->v_reset);
        if (dt > l->tau_m / 10)
            return tb_fail(err, "dt %g ms is too large for LIF with tau_m %g ms (need dt <= tau_m/10 "
                           "for spike timing to mean anything)", dt, l->tau_m);
        return 0;
    }
    case NRN_IZH:
        POS(p->izh.a, "Izhikevich a");
        if (!(p->izh.v_peak > p->izh.c)) return tb_fail(err, "Izhikevich v_peak must exceed c");
        if (dt > 0.5)
            return tb_fail(err, "dt %g ms is too large for Izhikevich (forward Euler needs dt <= 0.5 ms)", dt);
        return 0;
    case NRN_ADEX: {
        const nrn_adex *a = &p->adex;
        POS(a->c_m, "AdEx C");
        POS(a->g_l, "AdEx g_L");
        POS(a->delta_t, "AdEx Delta_T");
        POS(a->tau_w, "AdEx tau_w");
        if (!(a->v_cut > a->v_t)) return tb_fail(err, "AdEx v_cut must be above V_T");
        double tau_m = a->c_m / a->g_l, lim = fmin(0.2, fmin(tau_m, a->tau_w) / 20);
        if (dt > lim)
            return tb_fail(err, "dt %g ms is too large for AdEx (forward Euler needs dt <= %g ms here)",
                           dt, lim);
        return 0;
    }
    default:
        POS(p->hh.c_m, "HH C_m");
        if (p->hh.g_na < 0 || p->hh.g_k < 0 || p->hh.g_l <= 0)
            return tb_fail(err, "HH conductances must be >= 0 (g_L > 0)");
        if (dt > 0.05)
            return tb_fail(err, "dt %g ms is too large for HH (exponential Euler needs dt <= 0.05 ms "
                           "to resolve the spike upstroke)", dt);
        return 0;
    }
}

/* ---- Hodgkin-Huxley rate functions (1/ms, v in mV) ---------------------------- */
/* x / (1 - exp(-x/k)) with its limit k at x = 0 */
static double vtrap(double x, double k) {
    return fabs(x / k) < 1e-6 ? k * (1 + x / k / 2) : x / (1 - exp(-x / k));
}
static double a_n(double v) { return 0.01 * vtrap(v + 55, 10); }
static double b_n(double v) { return 0.125 * exp(-(v + 65) / 80); }
static double a_m(double v) { return 0.1 * vtrap(v + 40, 10); }
static double b_m(double v) { return 4.0 * exp(-(v + 65) / 18); }
static double a_h(double v) { return 0.07 * exp(-(v + 65) / 20); }
static double b_h(double v) { return 1.0 / (1 + exp(-(v + 35) / 10)); }

void nrn_init(const nrn_params *p, nrn_state *s) {
    memset(s, 0, sizeof *s);
    switch (p->model) {
    case NRN_LIF: s->v = p->lif.v_rest; break;
    case NRN_IZH: s->v = p->izh.v0; s->u = p->izh.b * s->v; break;
    case NRN_ADEX: s->v = p->adex.e_l; s->u = 0; break;
    default: {
        double v = -65;
        s->v = v;
        s->m = a_m(v) / (a_m(v) + b_m(v));
        s->h = a_h(v) / (a_h(v) + b_h(v));
        s->n = a_n(v) / (a_n(v) + b_n(v));
    }
    }
}

/* Exponential-Euler update of one gate: x <- x_inf + (x - x_inf) exp(-dt (alpha + beta)). */
static double gate(double x, double al, double be, double dt) {
    double k = al + be, xinf = al / k;
    return xinf + (x - xinf) * exp(-dt * k);
}

int nrn_step(const nrn_params *p, nrn_state *s, double I, double dt) {
    switch (p->model) {
    case NRN_LIF: {
        const nrn_lif *l = &p->lif;
        if (s->ref > 0.5 * dt) { s->ref -= dt; s->v = l->v_reset; return 0; }
        double v_inf = l->v_rest + l->r_m * I;
        s->v = v_inf + (s->v - v_inf) * exp(-dt / l->tau_m);
        if (s->v >= l->v_th) { s->v = l->v_reset; s->ref = l->t_ref; return 1; }
        return 0;
    }
    case NRN_IZH: {
        const nrn_izh *z = &p->izh;
        double v = s->v, u = s->u;
        s->v = v + dt * (0.04 * v * v + 5 * v + 140 - u + I);
        s->u = u + dt * z->a * (z->b * v - u);
        if (s->v >= z->v_peak) { s->v = z->c; s->u += z->d; return 1; }
        return 0;
    }
    case NRN_ADEX: {
        const nrn_adex *a = &p->adex;
        double v = s->v, w = s->u; /* w in nA */
        double i_pA = a->g_l * (a->e_l - v) + a->g_l * a->delta_t * exp((v - a->v_t) / a->delta_t)
                      + 1000.0 * (I - w);
        s->v = v + dt * i_pA / a->c_m;                        /* pA / pF = mV/ms */
        s->u = w + dt * (1e-3 * a->a * (v - a->e_l) - w) / a->tau_w; /* nS mV = pA -> nA */
        if (s->v >= a->v_cut) { s->v = a->v_r; s->u += a->b; return 1; }
        return 0;
    }
    default: {
        const nrn_hh *h = &p->hh;
        double v = s->v;
        s->m = gate(s->m, a_m(v), b_m(v), dt);
        s->h = gate(s->h, a_h(v), b_h(v), dt);
        s->n = gate(s->n, a_n(v), b_n(v), dt);
        double gna = h->g_na * s->m * s->m * s->m * s->h;
        double n2 = s->n * s->n, gk = h->g_k * n2 * n2;
        double G = gna + gk + h->g_l;
        double v_inf = (gna * h->e_na + gk * h->e_k + h->g_l * h->e_l + I) / G;
        s->v = v_inf + (v - v_inf) * exp(-dt * G / h->c_m);
        return v < h->v_spike && s->v >= h->v_spike;
    }
    }
}

double lif_rheobase(const nrn_lif *p) { return (p->v_th - p->v_rest) / p->r_m; }

double lif_rate_analytic(const nrn_lif *p, double I_nA) {
    double drive = p->r_m * I_nA + p->v_rest; /* v_inf */
    if (drive <= p->v_th) return 0;
    double T = p->tau_m * log((drive - p->v_reset) / (drive - p->v_th));
    return 1000.0 / (p->t_ref + T);
}

/* ---- inputs ------------------------------------------------------------------ */
int nrn_stim_parse(const char *s, nrn_stim_kind *k, char *err) {
    static const char *names[] = {"const", "step", "ramp", "noise", "poisson"};
    for (int i = 0; i < 5; i++)
        if (s && !strcmp(s, names[i])) { *k = (nrn_stim_kind)i; return 0; }
    return tb_fail(err, "unknown input '%s' (expected const|step|ramp|noise|poisson)", s ? s : "");
}

int nrn_stim_check(const nrn_stim *s, char *err) {
    if ((s->kind == STIM_STEP || s->kind == STIM_RAMP) && !(s->t_off > s->t_on))
        return tb_fail(err, "input window: t_off (%g ms) must be after t_on (%g ms)", s->t_off, s->t_on);
    if (s->kind == STIM_NOISE) {
        if (s->sigma < 0) return tb_fail(err, "noise sigma must be >= 0 (got %g)", s->sigma);
        POS(s->tau_noise, "noise tau");
    }
    if (s->kind == STIM_POISSON) {
        if (s->rate_hz < 0) return tb_fail(err, "Poisson rate must be >= 0 Hz (got %g)", s->rate_hz);
        if (s->n_inputs < 1) return tb_fail(err, "Poisson input needs >= 1 train (got %d)", s->n_inputs);
        POS(s->tau_syn, "tau_syn");
    }
    return 0;
}

int nrn_simulate(const nrn_params *p, const nrn_stim *stim, double dt, double t_ms,
                 uint64_t seed, float *v_trace, float *i_trace, double *spike_times,
                 int max_spikes, int *n_spikes, char *err) {
    if (nrn_check(p, dt, err) || nrn_stim_check(stim, err)) return -1;
    if (!(t_ms > 0)) return tb_fail(err, "duration must be > 0 ms (got %g)", t_ms);
    long nsteps = (long)(t_ms / dt + 0.5);
    tb_rng rng;
    rng_seed(&rng, seed);
    nrn_state s;
    nrn_init(p, &s);
    double ou = stim->kind == STIM_NOISE ? rng_normal(&rng) : 0;
    double ou_a = stim->kind == STIM_NOISE ? exp(-dt / stim->tau_noise) : 0;
    double ou_b = sqrt(1 - ou_a * ou_a);
    double i_syn = 0, syn_decay = stim->kind == STIM_POISSON ? exp(-dt / stim->tau_syn) : 0;
    double lam = stim->kind == STIM_POISSON ? stim->n_inputs * stim->rate_hz * dt * 1e-3 : 0;
    int ns = 0;
    for (long k = 0; k < nsteps; k++) {
        double t = k * dt, I;
        switch (stim->kind) {
        case STIM_CONST: I = stim->amp; break;
        case STIM_STEP: I = (t >= stim->t_on && t < stim->t_off) ? stim->amp : stim->base; break;
        case STIM_RAMP:
            if (t < stim->t_on) I = stim->base;
            else if (t >= stim->t_off) I = stim->amp;
            else I = stim->base + (stim->amp - stim->base) * (t - stim->t_on) / (stim->t_off - stim->t_on);
            break;
        case STIM_NOISE:
            /* Ornstein-Uhlenbeck, exact update: x <- a x + sqrt(1 - a^2) xi, unit variance */
            I = stim->amp + stim->sigma * ou;
            ou = ou_a * ou + ou_b * rng_normal(&rng);
            break;
        default:
            /* n_inputs Poisson trains merged: count ~ Poisson(n rate dt); each spike
             * makes the synaptic current jump by amp, then it decays with tau_syn */
            i_syn = i_syn * syn_decay + stim->amp * rng_poisson(&rng, lam);
            I = stim->base + i_syn;
            break;
        }
        int spk = nrn_step(p, &s, I, dt);
        if (!isfinite(s.v))
            return tb_fail(err, "%s: membrane potential diverged at t = %.3f ms (reduce dt or the input)",
                           nrn_model_name(p->model), t);
        if (spk) {
            if (spike_times && ns < max_spikes) spike_times[ns] = (k + 1) * dt;
            ns++;
        }
        if (v_trace) v_trace[k] = (float)(spk && p->model != NRN_HH ? 30.0 : s.v);
        if (i_trace) i_trace[k] = (float)I;
    }
    if (n_spikes) *n_spikes = ns;
    return 0;
}

/* ---- the phase plane (lesson 03) ----------------------------------------------------- */

int nrn_has_phase_plane(const nrn_params *p) { return p->model == NRN_IZH || p->model == NRN_ADEX; }

int nrn_nullclines(const nrn_params *p, double I, const double *v, int n, double *u_vnull,
                   double *u_unull) {
    if (!nrn_has_phase_plane(p)) return -1;
    for (int k = 0; k < n; k++) {
        if (p->model == NRN_IZH) {
            u_vnull[k] = 0.04 * v[k] * v[k] + 5 * v[k] + 140 + I;
            u_unull[k] = p->izh.b * v[k];
        } else {
            const nrn_adex *a = &p->adex;
            u_vnull[k] = I + (a->g_l * (a->e_l - v[k]) + a->g_l * a->delta_t * exp((v[k] - a->v_t) / a->delta_t)) / 1000.0;
            u_unull[k] = 1e-3 * a->a * (v[k] - a->e_l);
        }
    }
    return 0;
}

int nrn_replay_phase(const nrn_params *p, const float *i_trace, long n, double dt, float *v,
                     float *u, unsigned char *spiked, char *err) {
    if (!nrn_has_phase_plane(p)) return tb_fail(err, "the phase plane needs a two-variable model (izh or adex)");
    nrn_state s;
    nrn_init(p, &s);
    for (long k = 0; k < n; k++) {
        spiked[k] = (unsigned char)nrn_step(p, &s, i_trace[k], dt);
        v[k] = (float)s.v;
        u[k] = (float)s.u;
    }
    return 0;
}
