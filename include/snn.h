/* snn.h -- networks of spiking neurons: populations, sparse synapses, delays, recording.
 *
 * Lesson 04 explains it.  A network is a few populations (each a block of neurons of
 * one model from neuron.h) joined by projections (random sparse connectivity stored
 * as CSR: one row of target indices per source neuron).  Dale's law: a population is
 * excitatory or inhibitory, and every synapse it makes has that sign.
 *
 * Synapses are exponential, two variables per neuron (g_e, g_i), decaying with
 * tau_e, tau_i; a presynaptic spike adds its weight w to the target's variable:
 *   CUBA (current-based):  the input current is g_e + g_i (g_i <= 0).  For LIF the
 *        variables are voltages (R I, mV) as in Brian's CUBA:
 *            tau_m dv/dt = -(v - E_L) + g_e + g_i
 *   COBA (conductance-based): the input is g_e (E_e - v) + g_i (E_i - v); for LIF
 *        g is in nS and divided by the leak conductance g_L:
 *            tau_m dv/dt = (E_L - v) + g_e/g_L (E_e - v) + g_i/g_L (E_i - v)
 *   (Izhikevich: dimensionless g, AdEx: nS, HH: mS/cm^2 -- see lesson 04.)
 *
 * One time step (dt), in Brian2's order so the presets reproduce Brian2's numbers:
 *   1. delayed spikes due now are added to g_e, g_i; Poisson background arrives;
 *   2. every neuron's state advances by dt (LIF: exact for CUBA, forward Euler for
 *      COBA, the kernel table's lif_cuba / lif_coba); g_e, g_i decay;
 *   3. neurons above threshold spike, reset and go refractory;
 *   4. each spike walks its CSR rows and adds w to its targets (event-driven: the
 *      cost is proportional to spikes x fan-out, not to the number of synapses).
 *
 * Threads: neurons are split into contiguous ranges; each thread updates its range
 * and delivers all spikes to the targets *in its range*, in spike order, so every
 * target sums its inputs in the same order whatever the thread count (threads.h,
 * rule 2; the LIF kernels give the same bits in every kernel table, rule 3).
 */
#ifndef TB_SNN_H
#define TB_SNN_H

#include "neuron.h"
#include "tb.h"
#include <stdint.h>

#define SNN_MAX_POPS 8
#define SNN_MAX_PROJ 32

typedef enum { SYN_CUBA, SYN_COBA } snn_syn;

typedef struct {
    char name[16];
    int n;                     /* neurons */
    nrn_params nrn;            /* model and its parameters */
    int inhibitory;            /* Dale's law: all its synapses are inhibitory */
    double v_init_lo, v_init_hi;   /* initial v ~ uniform [lo, hi], mV */
    double ge_mu, ge_sd, gi_mu, gi_sd; /* initial g ~ normal (mu, sd) (same units as w) */
    double bg_rate_hz;         /* Poisson background: bg_n trains per neuron at bg_rate_hz, */
    int bg_n;                  /*   each spike adds bg_w to g_e */
    double bg_w;
    double g_l;                /* LIF + COBA: leak conductance, nS (tau_m = C/g_L) */
} snn_pop;

typedef struct {
    int src, dst;      /* population indices */
    double p;          /* connection probability (used when k_in == 0) */
    int k_in;          /* > 0: fixed in-degree (each target draws k_in distinct sources) */
    double w;          /* weight >= 0 (the sign comes from the source population) */
    double delay_ms;   /* 0: arrives the next step (Brian's default); else ring buffer */
} snn_proj;

typedef struct {
    int n_pops, n_proj;
    snn_pop pops[SNN_MAX_POPS];
    snn_proj proj[SNN_MAX_PROJ];
    snn_syn syn;
    double tau_e, tau_i;   /* synaptic time constants, ms */
    double e_e, e_i;       /* COBA reversal potentials, mV */
    double dt;             /* ms */
    int syn_euler;         /* decay g with forward Euler (1 - dt/tau), as Brian's 'euler' */
    int autapses;          /* allow i -> i inside a projection from a population to itself */
    uint64_t seed;
} snn_config;

/* The Vogels & Abbott benchmarks exactly as ../shared/bench/brian_cuba.py defines them
 * ("cuba" | "coba"), scaled to n_total neurons (4000 in the benchmark; 80% E).
 * k_in > 0 replaces the 2% connectivity with a fixed in-degree (weights unchanged).
 * Both populations are LIF (tau_m 20 ms, t_ref 5 ms, threshold -50 mV, reset -60 mV);
 * what differs between the two presets is one row of snn_presets[] (snn_setup.c), the
 * numbers' one place, which `snn run --help` prints too. */
typedef struct {
    const char *name;          /* "cuba" | "coba" */
    snn_syn syn;
    int n;                     /* neurons in the benchmark */
    double p;                  /* connection probability */
    double we, wi;             /* weights, mV (CUBA) or nS (COBA); wi is a magnitude */
    double tau_e, tau_i;       /* synaptic time constants, ms */
    double e_l;                /* resting potential, mV (CUBA: -49, above threshold) */
    double ge_mu, ge_sd, gi_mu, gi_sd; /* initial conductances, nS (COBA) */
    double dt;                 /* ms */
} snn_preset_info;
#define SNN_N_PRESETS 2
extern const snn_preset_info snn_presets[SNN_N_PRESETS];
const snn_preset_info *snn_preset_find(const char *name);   /* NULL if unknown */
int snn_preset(snn_config *cfg, const char *name, int n_total, int k_in, char *err);

/* A preset and the changes a user makes to it (the knobs of `tinybrain snn run`).
 * snn_setup_default() gives the CUBA benchmark unchanged; NAN keeps the preset's value. */
typedef struct {
    const char *preset;               /* "cuba" | "coba" */
    int n, k_in;                      /* neurons (80% E); fixed in-degree (0: probability p) */
    double dt;                        /* ms */
    long long seed;
    const char *model;                /* neurons of both populations: lif | izh | adex | hh */
    const char *preset_e, *preset_i;  /* their presets (NULL: izh RS / FS, adex adapting) */
    const char *syn;                  /* "cuba" | "coba" (NULL: the preset's) */
    double p, we, wi, tau_e, tau_i;   /* as in snn_preset_info */
    double delay_ms;                  /* of every projection */
    double bg_rate_hz, bg_w;          /* Poisson background: bg_n trains per neuron */
    int bg_n;
} snn_setup;
void snn_setup_default(snn_setup *s);
/* The configuration s describes, checked (snn_config_check). */
int  snn_setup_config(const snn_setup *s, snn_config *cfg, char *err);
/* Validate a configuration (sizes, time constants, dt, weights >= 0, ...). */
int snn_config_check(const snn_config *cfg, char *err);

typedef struct snn_net snn_net;

int  snn_build(const snn_config *cfg, snn_net **out, char *err);
void snn_free(snn_net *net);
int  snn_n_neurons(const snn_net *net);
long long snn_n_synapses(const snn_net *net);
size_t snn_memory_bytes(const snn_net *net);
/* First neuron index of population p. */
int  snn_pop_start(const snn_net *net, int p);
const char *snn_kernel_name(const snn_net *net);

typedef struct {
    long steps;               /* steps simulated in this run */
    double sim_ms;
    long long n_spikes;
    int32_t *spk_step;        /* [n_spikes] step of each spike (0-based, this run) */
    int32_t *spk_idx;         /* [n_spikes] neuron index; sorted by (step, idx) */
    long long syn_events;     /* synaptic deliveries (spikes x fan-out) */
    int n_vrec;
    float *vrec;              /* [n_vrec][steps] membrane potential, mV */
} snn_result;

/* Simulate t_ms from the current state (calls continue where the last one stopped).
 * threads >= 1 (clamped to the pool's size).  record_spikes 0 keeps only counts.
 * vrec_idx[n_vrec]: neurons whose v is recorded every step (may be NULL/0). */
int  snn_run(snn_net *net, double t_ms, int threads, int record_spikes, const int *vrec_idx,
             int n_vrec, snn_result *res, char *err);
void snn_result_free(snn_result *res);
/* What lesson 04 reads off a run: population 0 is excitatory, the rest inhibitory. */
typedef struct {
    int n, n_exc;                          /* neurons, of which excitatory */
    double rate_hz, rate_e_hz, rate_i_hz;  /* mean firing rates over the run */
    int *count;                            /* [n] spikes of each neuron */
} snn_summary;
int  snn_summarize(const snn_result *r, const snn_config *cfg, snn_summary *s, char *err);
void snn_summary_free(snn_summary *s);
/* Mean membrane potential (mV) of the k-th recorded neuron over the run. */
double snn_vrec_mean(const snn_result *r, int k);
/* Every spike as TSV (columns time_ms, neuron; time at the end of its step). */
int  snn_write_spikes(const char *path, const snn_result *r, double dt, char *err);

/* Threads worth using for this network: at most one per 16k neurons (a 0.1 ms step of
 * a 4k network is ~1 us of work, less than a cross-core barrier on a busy machine). */
int  snn_auto_threads(const snn_net *net, int max_threads);

#endif
