/* snn_setup.c -- building a network from a preset and the changes a user makes to it,
 * and what lesson 04 measures on a run (rates per population and per neuron).
 * The benchmark's numbers are in one table, snn_presets[], which snn_preset() builds
 * from and `tinybrain snn run --help` prints. */
#include "snn.h"
#include "io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the Vogels & Abbott benchmarks --------------------------------------------- */

const snn_preset_info snn_presets[SNN_N_PRESETS] = {
    /* CUBA: dv/dt = (ge + gi - (v - el)) / taum, el = -49 mV (above threshold!) */
    {.name = "cuba", .syn = SYN_CUBA, .n = 4000, .p = 0.02, .we = 60 * 0.27 / 10, .wi = 20 * 4.5 / 10,
     .tau_e = 5, .tau_i = 10, .e_l = -49, .dt = 0.1},
    /* COBA: c_m 200 pF, g_l 10 nS (taum 20 ms), el -60 mV; initial conductances as in the
     * benchmark, ge ~ N(40, 15) nS and gi ~ N(200, 120) nS (not clipped at 0) */
    {.name = "coba", .syn = SYN_COBA, .n = 4000, .p = 0.02, .we = 6, .wi = 67,
     .tau_e = 5, .tau_i = 10, .e_l = -60, .ge_mu = 40, .ge_sd = 15, .gi_mu = 200, .gi_sd = 120, .dt = 0.1},
};

const snn_preset_info *snn_preset_find(const char *name) {
    for (int i = 0; i < SNN_N_PRESETS; i++)
        if (name && !strcmp(name, snn_presets[i].name)) return &snn_presets[i];
    return NULL;
}

/* Both populations: LIF with taum 20 ms, t_ref 5 ms, threshold -50 mV, reset -60 mV,
 * v starting uniform in [reset, threshold] (v = vr + rand() (vt - vr)). */
static void benchmark_pop(snn_pop *P, const snn_preset_info *b, int inhibitory, int n) {
    nrn_params_default(&P->nrn, NRN_LIF, NULL, NULL);
    snprintf(P->name, sizeof P->name, "%s", inhibitory ? "inh" : "exc");
    P->n = n;
    P->inhibitory = inhibitory;
    P->nrn.lif.tau_m = 20;
    P->nrn.lif.t_ref = 5;
    P->nrn.lif.v_th = -50;
    P->nrn.lif.v_reset = -60;
    P->nrn.lif.v_rest = b->e_l;
    snprintf(P->nrn.preset, sizeof P->nrn.preset, "%s", b->name);
    P->v_init_lo = -60;
    P->v_init_hi = -50;
    P->g_l = 10;
    P->ge_mu = b->ge_mu;
    P->ge_sd = b->ge_sd;
    P->gi_mu = b->gi_mu;
    P->gi_sd = b->gi_sd;
}

int snn_preset(snn_config *cfg, const char *name, int n_total, int k_in, char *err) {
    memset(cfg, 0, sizeof *cfg);
    const snn_preset_info *b = snn_preset_find(name);
    if (!b) return tb_fail(err, "unknown network preset '%s' (expected cuba|coba)", name ? name : "");
    if (n_total < 5) return tb_fail(err, "network needs at least 5 neurons (got %d)", n_total);
    int ne = (int)(0.8 * n_total), ni = n_total - ne;
    cfg->dt = b->dt;
    cfg->seed = 1;
    cfg->autapses = 1; /* Brian's Synapses(P[:ne], P).connect(p=...) allows i -> i */
    cfg->tau_e = b->tau_e;
    cfg->tau_i = b->tau_i;
    cfg->n_pops = 2;
    benchmark_pop(&cfg->pops[0], b, 0, ne);
    benchmark_pop(&cfg->pops[1], b, 1, ni);
    cfg->syn = b->syn;
    cfg->syn_euler = b->syn == SYN_COBA; /* Brian integrates COBA with method='euler' (CUBA 'exact') */
    cfg->e_e = 0;
    cfg->e_i = -80;
    cfg->n_proj = 4;
    for (int s = 0; s < 2; s++)
        for (int d = 0; d < 2; d++) {
            snn_proj *q = &cfg->proj[s * 2 + d];
            q->src = s;
            q->dst = d;
            q->p = b->p;
            q->k_in = k_in > 0 ? (int)((double)k_in * cfg->pops[s].n / n_total + 0.5) : 0;
            q->w = s == 0 ? b->we : b->wi;   /* a magnitude: Dale's law gives the sign */
        }
    return 0;
}

/* ---- a preset and its changes ---------------------------------------------------- */

void snn_setup_default(snn_setup *s) {
    memset(s, 0, sizeof *s);
    s->preset = "cuba";
    s->n = 4000;
    s->dt = s->p = s->we = s->wi = s->tau_e = s->tau_i = NAN;
    s->seed = 1;
    s->model = "lif";
}

/* Population q (0 excitatory, 1 inhibitory) made of neurons of model m. */
static int set_neurons(snn_pop *P, nrn_model m, const char *preset, int q, char *err) {
    if (m == NRN_LIF) return 0;
    if (!preset && m == NRN_IZH) preset = q == 0 ? "RS" : "FS";
    if (nrn_params_default(&P->nrn, m, preset, err)) return -1;
    if (m == NRN_IZH || m == NRN_HH) { P->v_init_lo = -70; P->v_init_hi = -60; }
    if (m == NRN_ADEX) { P->v_init_lo = P->nrn.adex.e_l - 5; P->v_init_hi = P->nrn.adex.e_l; }
    return 0;
}

static int set_model(snn_config *cfg, const snn_setup *s, char *err) {
    nrn_model m;
    if (nrn_model_parse(s->model, &m, err)) return -1;
    if (m == NRN_LIF && (s->preset_e || s->preset_i))
        return tb_fail(err, "neuron presets of the populations need model izh or adex (lif has none)");
    char e2[TB_ERRLEN];
    for (int q = 0; q < 2; q++)
        if (set_neurons(&cfg->pops[q], m, q == 0 ? s->preset_e : s->preset_i, q, e2))
            return tb_fail(err, "%s population: %s", q == 0 ? "excitatory" : "inhibitory", e2);
    return 0;
}

int snn_setup_config(const snn_setup *s, snn_config *cfg, char *err) {
    if (snn_preset(cfg, s->preset, s->n, s->k_in, err)) return -1;
    if (!isnan(s->dt)) cfg->dt = s->dt;
    cfg->seed = (uint64_t)s->seed;
    if (set_model(cfg, s, err)) return -1;
    if (s->syn) {
        if (!strcmp(s->syn, "cuba")) cfg->syn = SYN_CUBA;
        else if (!strcmp(s->syn, "coba")) cfg->syn = SYN_COBA;
        else return tb_fail(err, "synapses: expected cuba|coba, got '%s'", s->syn);
    }
    for (int q = 0; q < 2; q++) {   /* Poisson background on every neuron */
        cfg->pops[q].bg_rate_hz = s->bg_rate_hz;
        cfg->pops[q].bg_n = s->bg_n;
        cfg->pops[q].bg_w = s->bg_w;
    }
    if (!isnan(s->tau_e)) cfg->tau_e = s->tau_e;
    if (!isnan(s->tau_i)) cfg->tau_i = s->tau_i;
    for (int q = 0; q < cfg->n_proj; q++) {
        snn_proj *P = &cfg->proj[q];
        if (!isnan(s->p)) P->p = s->p;
        if (P->src == 0 && !isnan(s->we)) P->w = s->we;
        if (P->src == 1 && !isnan(s->wi)) P->w = s->wi;
        P->delay_ms = s->delay_ms;
    }
    return snn_config_check(cfg, err);
}

/* ---- what a run shows ---------------------------------------------------------- */

int snn_summarize(const snn_result *r, const snn_config *cfg, snn_summary *s, char *err) {
    memset(s, 0, sizeof *s);
    for (int p = 0; p < cfg->n_pops; p++) s->n += cfg->pops[p].n;
    s->n_exc = cfg->pops[0].n;
    s->count = calloc((size_t)s->n, sizeof *s->count);
    if (!s->count) return tb_fail(err, "out of memory");
    long long spk_e = 0;
    for (long long k = 0; k < r->n_spikes; k++) {
        s->count[r->spk_idx[k]]++;
        spk_e += r->spk_idx[k] < s->n_exc;
    }
    double sec = r->sim_ms * 1e-3;
    int ni = s->n - s->n_exc;
    s->rate_hz = sec > 0 ? r->n_spikes / (s->n * sec) : 0;
    s->rate_e_hz = sec > 0 ? spk_e / (s->n_exc * sec) : 0;
    s->rate_i_hz = sec > 0 && ni > 0 ? (r->n_spikes - spk_e) / (ni * sec) : 0;
    return 0;
}

void snn_summary_free(snn_summary *s) {
    free(s->count);
    memset(s, 0, sizeof *s);
}

double snn_vrec_mean(const snn_result *r, int k) {
    double sum = 0;
    for (long t = 0; t < r->steps; t++) sum += r->vrec[(size_t)k * r->steps + t];
    return r->steps > 0 ? sum / r->steps : NAN;
}

int snn_write_spikes(const char *path, const snn_result *r, double dt, char *err) {
    tb_atomic a;
    if (atomic_begin(&a, path, err)) return -1;
    fprintf(a.f, "time_ms\tneuron\n");
    for (long long k = 0; k < r->n_spikes; k++)
        fprintf(a.f, "%.1f\t%d\n", (r->spk_step[k] + 1) * dt, r->spk_idx[k]);
    return atomic_commit(&a, err);
}
