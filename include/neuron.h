/* neuron.h -- single biological neuron models and the inputs we play to them.
 *
 * Lessons 02 (LIF and its f-I curve) and 03 (the neuron zoo) explain every equation here.
 * Units: time ms, voltage mV.  Each model takes its input current in its own natural
 * unit (nrn_current_unit()): LIF nA (through R_m in MOhm, so R I is in mV), Izhikevich
 * "pA" as in the 2003 paper (C = 1, so I is really mV/ms), AdEx nA, Hodgkin-Huxley
 * uA/cm^2 (membrane patch).
 *
 *  LIF        tau_m dv/dt = -(v - v_rest) + R_m I ;  v >= v_th -> spike, v = v_reset,
 *             clamped for t_ref.  Integrated exactly for piecewise-constant I.
 *  Izhikevich dv/dt = 0.04 v^2 + 5 v + 140 - u + I ;  du/dt = a (b v - u)
 *             v >= 30 -> v = c, u += d.   (Izhikevich 2003, IEEE TNN 14:1569)
 *  AdEx       C dv/dt = -g_L (v - E_L) + g_L D_T exp((v - V_T)/D_T) - w + I
 *             tau_w dw/dt = a (v - E_L) - w ;  v >= v_cut -> v = v_r, w += b
 *             (Brette & Gerstner 2005, J Neurophysiol 94:3637)
 *  HH         C dv/dt = I - g_Na m^3 h (v - E_Na) - g_K n^4 (v - E_K) - g_L (v - E_L)
 *             dx/dt = alpha_x(v) (1 - x) - beta_x(v) x   for x = m, h, n
 *             (squid giant axon, Hodgkin & Huxley 1952, modern sign, rest -65 mV)
 *             Integrated with exponential Euler (see neuron.c for why).
 */
#ifndef TB_NEURON_H
#define TB_NEURON_H

#include "tb.h"
#include <stdint.h>

typedef enum { NRN_LIF, NRN_IZH, NRN_ADEX, NRN_HH } nrn_model;

typedef struct {
    double tau_m;   /* membrane time constant, ms          (default 10)  */
    double r_m;     /* membrane resistance, MOhm           (default 10)  */
    double v_rest;  /* resting potential, mV               (default -65) */
    double v_reset; /* reset potential, mV                 (default -65) */
    double v_th;    /* threshold, mV                       (default -50) */
    double t_ref;   /* absolute refractory period, ms      (default 2)   */
} nrn_lif;

typedef struct {
    double a, b, c, d; /* the four 2003 parameters (c in mV) */
    double v_peak;     /* spike cut-off, mV (30) */
    double v0;         /* initial v, mV (-65; u starts at b v0) */
} nrn_izh;

typedef struct {
    double c_m;     /* pF  (281)      */
    double g_l;     /* nS  (30)       */
    double e_l;     /* mV  (-70.6)    */
    double v_t;     /* mV  (-50.4)    */
    double delta_t; /* mV  (2)        */
    double tau_w;   /* ms  (144)      */
    double a;       /* nS  (4)        */
    double b;       /* nA  (0.0805)   */
    double v_r;     /* reset, mV (-70.6) */
    double v_cut;   /* spike cut, mV (V_T + 5 D_T = -40.4) */
} nrn_adex;

typedef struct {
    double c_m;                /* uF/cm^2 (1) */
    double g_na, g_k, g_l;     /* mS/cm^2 (120, 36, 0.3) */
    double e_na, e_k, e_l;     /* mV (50, -77, -54.387) */
    double v_spike;            /* upward crossing counted as a spike, mV (0) */
} nrn_hh;

typedef struct {
    nrn_model model;
    char preset[16];   /* "", "RS", "tonic", ... (informational) */
    nrn_lif lif;
    nrn_izh izh;
    nrn_adex adex;
    nrn_hh hh;
} nrn_params;

/* Dynamic state: v always; u = Izhikevich u or AdEx w (nA); m, h, n for HH;
 * ref = refractory time left (ms, LIF). */
typedef struct { double v, u, m, h, n, ref; } nrn_state;

/* "lif" | "izh" | "adex" | "hh" */
int nrn_model_parse(const char *s, nrn_model *m, char *err);
const char *nrn_model_name(nrn_model m);
/* Unit of the input current this model takes ("nA", "pA", "uA/cm^2"). */
const char *nrn_current_unit(nrn_model m);

/* Default parameters of a model; preset NULL/"" -> the model's default preset.
 * Izhikevich presets: RS IB CH FS LTS TC RZ (2003 paper, Fig. 2).
 * AdEx presets: adapting (Brette & Gerstner 2005 as published), tonic, bursting
 * (the Scholarpedia AdEx article's variations of it).  LIF and HH: "" only.
 * Unknown preset -> -1 with a message listing the valid ones. */
int nrn_params_default(nrn_params *p, nrn_model m, const char *preset, char *err);
/* Comma-separated list of presets for a model (for --help). */
const char *nrn_presets(nrn_model m);
/* Input current (model units) the preset's demo uses by default. */
double nrn_default_current(const nrn_params *p);
/* Time step (ms) the model's integrator is run at by default: 0.1 (lif, izh), 0.05 (adex),
 * 0.01 (hh). */
double nrn_default_dt(nrn_model m);

/* The parameters a user may set by name (`tinybrain neuron --tau-m 20`): lif tau-m r-m
 * v-rest v-th v-reset t-ref, izh a b c d.  Their defaults are the ones
 * nrn_params_default() fills in (one table in neuron_params.c), so --help prints them:
 *     for (int i = 0; i < NRN_N_PARAMS; i++) {
 *         const nrn_param_info *d = &nrn_param_table[i];
 *         printf("--%s  %s: %s (%g %s)\n", d->name, nrn_model_name(d->model), d->meaning,
 *                nrn_param_default(d, NULL, 0), d->unit);
 *     }                                                                                */
#define NRN_N_PARAMS 10
typedef struct {
    const char *name;     /* "tau-m" */
    nrn_model model;      /* the model it belongs to */
    const char *unit;     /* "ms", "mV", "MOhm", "" */
    const char *meaning;  /* "membrane time constant" */
    size_t offset;        /* of the double inside nrn_params */
} nrn_param_info;
extern const nrn_param_info nrn_param_table[NRN_N_PARAMS];
/* The parameter d inside p (read or write it). */
double *nrn_param_at(nrn_params *p, const nrn_param_info *d);
/* Its default; preset (may be NULL) receives the default preset it comes from ("RS", ""). */
double nrn_param_default(const nrn_param_info *d, char *preset, size_t n);

/* Reject negative/zero time constants, inverted thresholds and dt too large for the
 * model's integrator ("dt 0.5 ms is too large for HH (exponential Euler needs
 * dt <= 0.05 ms)").  0 if fine. */
int nrn_check(const nrn_params *p, double dt, char *err);

/* Resting state (HH gates at their steady state for v = -65 mV). */
void nrn_init(const nrn_params *p, nrn_state *s);
/* Advance one step of dt ms with input current I (model units, held constant over
 * the step).  Returns 1 if the neuron spiked during the step. */
int nrn_step(const nrn_params *p, nrn_state *s, double I, double dt);

/* ---- the phase plane of the two-variable models (lesson 03) ------------------------
 * Izhikevich and AdEx have two variables, v and u (Izhikevich u; AdEx w, nA).  For a
 * constant input I their nullclines are the curves where one derivative vanishes:
 *   Izhikevich  dv/dt = 0:  u = 0.04 v^2 + 5 v + 140 + I        du/dt = 0:  u = b v
 *   AdEx        dv/dt = 0:  w = I + (g_L (E_L - v) + g_L D_T exp((v - V_T)/D_T)) / 1000
 *               dw/dt = 0:  w = a (v - E_L) / 1000               (nS mV = pA -> nA)
 * Where they cross the neuron can rest; a trajectory runs along them between resets. */
int nrn_has_phase_plane(const nrn_params *p);          /* 1 for izh and adex */
/* u_vnull[k], u_unull[k] at the voltages v[k] (mV) for input I; -1 for LIF and HH. */
int nrn_nullclines(const nrn_params *p, double I, const double *v, int n, double *u_vnull,
                   double *u_unull);
/* Replay the input i_trace[n] (nrn_record's) from rest with nrn_step, keeping both
 * variables after each step: v[n], u[n]; spiked[k] = 1 where step k ended in a reset. */
int nrn_replay_phase(const nrn_params *p, const float *i_trace, long n, double dt, float *v,
                     float *u, unsigned char *spiked, char *err);

/* LIF: analytic firing rate (Hz) for constant current I (nA),
 *   f = 1 / (t_ref + tau_m ln((R I + v_rest - v_reset) / (R I + v_rest - v_th)))
 * which is the textbook f = 1/(t_ref + tau_m ln(R I / (R I - V_th))) with voltages
 * referenced to v_rest = 0 and v_reset = v_rest.  0 below rheobase. */
double lif_rate_analytic(const nrn_lif *p, double I_nA);
/* LIF rheobase current, nA. */
double lif_rheobase(const nrn_lif *p);

/* ---- inputs ----------------------------------------------------------------- */
typedef enum { STIM_CONST, STIM_STEP, STIM_RAMP, STIM_NOISE, STIM_POISSON } nrn_stim_kind;

typedef struct {
    nrn_stim_kind kind;
    double amp;       /* const: I; step: I during [t_on, t_off); ramp: I at t_off;
                         noise: mean; poisson: weight of one input spike (current jump) */
    double base;      /* current outside the step / at the start of the ramp */
    double t_on, t_off; /* ms */
    double sigma;     /* noise: standard deviation of the OU current (model units) */
    double tau_noise; /* noise: OU correlation time, ms (stationary variance sigma^2) */
    double rate_hz;   /* poisson: rate of each input train, Hz */
    int n_inputs;     /* poisson: number of independent trains */
    double tau_syn;   /* poisson: exponential synaptic current decay, ms */
} nrn_stim;

/* "const" | "step" | "ramp" | "noise" | "poisson" */
int nrn_stim_parse(const char *s, nrn_stim_kind *k, char *err);
int nrn_stim_check(const nrn_stim *s, char *err);

/* Simulate one neuron for t_ms.  nsteps = (int)(t_ms/dt + 0.5).  Optional outputs
 * (may be NULL): v_trace[nsteps], i_trace[nsteps] (membrane potential after each step,
 * input current during it), spike_times (ms, at most max_spikes; *n_spikes gets the
 * total count even when it exceeds max_spikes).  Randomness (noise, Poisson) from
 * the seed.  Returns 0 or -1 with err set. */
int nrn_simulate(const nrn_params *p, const nrn_stim *stim, double dt, double t_ms,
                 uint64_t seed, float *v_trace, float *i_trace, double *spike_times,
                 int max_spikes, int *n_spikes, char *err);

/* ---- measurements (neuron_measure.c) ------------------------------------------ */
/* One recorded run: nrn_simulate() with every output kept. */
typedef struct {
    long n;             /* steps: (long)(t_ms/dt + 0.5) */
    float *v, *i;       /* [n] membrane potential after each step (mV), input during it */
    double *spike_ms;   /* [n_spikes] spike times, ms */
    int n_spikes;
} nrn_trace;
int  nrn_record(const nrn_params *p, const nrn_stim *s, double dt, double t_ms, uint64_t seed,
                nrn_trace *tr, char *err);
void nrn_trace_free(nrn_trace *tr);

/* What a voltage trace shows (lesson 03's firing patterns). */
typedef struct {
    int spikes;
    double rate_hz;                    /* spikes per second of the step (step input) or run */
    double first_isi_ms, last_isi_ms;  /* NAN with fewer than 2 spikes; last/first > 1: adaptation */
    int bursts;                        /* >= 2 spikes < 10 ms apart after >= 20 ms of quiet */
    double v_mean_mv, v_max_mv;
} nrn_summary;
void nrn_summarize(const nrn_trace *tr, const nrn_stim *s, double t_ms, nrn_summary *out);
/* The spike times as TSV (columns spike, time_ms), written atomically. */
int  nrn_write_spikes(const char *path, const nrn_trace *tr, char *err);

/* f-I curve: for each constant current I[k] (model units) a fresh run of t_ms from rest;
 * rate_hz[k] = 1000 (count - 1) / (t_last - t_first) over the spikes after a transient of
 * min(100 ms, t_ms / 5), 0 with fewer than two of them.  For LIF it approaches
 * lif_rate_analytic() from below (spikes land on the dt grid). */
int  nrn_fi_curve(const nrn_params *p, double dt, double t_ms, uint64_t seed, const double *I,
                  int n, double *rate_hz, char *err);

#endif
