/* neuron_params.c -- the neuron models' names, units, presets and defaults, each written
 * once (lessons 02, 03).  nrn_params_default() builds from the tables below, and
 * `tinybrain neuron --help` prints the same numbers (through nrn_param_table), so the
 * help cannot drift from the code.  The dynamics are in neuron.c. */
#include "neuron.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int nrn_model_parse(const char *s, nrn_model *m, char *err) {
    if (!s) return tb_fail(err, "no neuron model given (lif|izh|adex|hh)");
    if (!strcmp(s, "lif")) *m = NRN_LIF;
    else if (!strcmp(s, "izh") || !strcmp(s, "izhikevich")) *m = NRN_IZH;
    else if (!strcmp(s, "adex")) *m = NRN_ADEX;
    else if (!strcmp(s, "hh")) *m = NRN_HH;
    else return tb_fail(err, "unknown neuron model '%s' (expected lif|izh|adex|hh)", s);
    return 0;
}

const char *nrn_model_name(nrn_model m) {
    switch (m) {
    case NRN_LIF: return "lif";
    case NRN_IZH: return "izh";
    case NRN_ADEX: return "adex";
    default: return "hh";
    }
}

const char *nrn_current_unit(nrn_model m) {
    switch (m) {
    case NRN_IZH: return "pA";
    case NRN_HH: return "uA/cm^2";
    default: return "nA";
    }
}

const char *nrn_presets(nrn_model m) {
    switch (m) {
    case NRN_IZH: return "RS,IB,CH,FS,LTS,TC,RZ";
    case NRN_ADEX: return "adapting,tonic,bursting";
    default: return "(none)";
    }
}

/* ---- defaults ------------------------------------------------------------------ */
static const nrn_lif LIF_DEFAULT = {
    .tau_m = 10, .r_m = 10, .v_rest = -65, .v_reset = -65, .v_th = -50, .t_ref = 2};
/* Regular spiking (RS), the 2003 paper's excitatory cell. */
static const nrn_izh IZH_DEFAULT = {.a = 0.02, .b = 0.2, .c = -65, .d = 8, .v_peak = 30, .v0 = -65};
/* Brette & Gerstner 2005, as published ("adapting"); v_cut = V_T + 5 Delta_T. */
static const nrn_adex ADEX_DEFAULT = {
    .c_m = 281, .g_l = 30, .e_l = -70.6, .v_t = -50.4, .delta_t = 2,
    .tau_w = 144, .a = 4, .b = 0.0805, .v_r = -70.6, .v_cut = -40.4};
/* The squid giant axon with the modern sign convention (rest -65 mV). */
static const nrn_hh HH_DEFAULT = {
    .c_m = 1, .g_na = 120, .g_k = 36, .g_l = 0.3, .e_na = 50, .e_k = -77, .e_l = -54.387, .v_spike = 0};

/* Izhikevich (2003) Fig. 2: a, b, c, d. */
static const struct { const char *name; double a, b, c, d; } izh_presets[] = {
    {"RS", 0.02, 0.2, -65, 8},  /* regular spiking: adapting excitatory cell */
    {"IB", 0.02, 0.2, -55, 4},  /* intrinsically bursting: a burst, then single spikes */
    {"CH", 0.02, 0.2, -50, 2},  /* chattering: repeated high-frequency bursts */
    {"FS", 0.1, 0.2, -65, 2},   /* fast spiking interneuron: no adaptation */
    {"LTS", 0.02, 0.25, -65, 2},/* low-threshold spiking interneuron */
    {"TC", 0.02, 0.25, -65, 0.05}, /* thalamo-cortical */
    {"RZ", 0.1, 0.26, -65, 2},  /* resonator */
};

static int izh_preset(nrn_params *p, const char *want, char *err) {
    for (size_t i = 0; i < sizeof izh_presets / sizeof izh_presets[0]; i++)
        if (!strcasecmp(want, izh_presets[i].name)) {
            p->izh.a = izh_presets[i].a;
            p->izh.b = izh_presets[i].b;
            p->izh.c = izh_presets[i].c;
            p->izh.d = izh_presets[i].d;
            snprintf(p->preset, sizeof p->preset, "%s", izh_presets[i].name);
            return 0;
        }
    return tb_fail(err, "unknown Izhikevich preset '%s' (expected %s)", want, nrn_presets(NRN_IZH));
}

static int adex_preset(nrn_params *p, const char *want, char *err) {
    if (!strcasecmp(want, "adapting")) {
        /* as published: tau_w 144 ms, a 4 nS, b 0.0805 nA, v_r = E_L */
    } else if (!strcasecmp(want, "tonic")) {
        /* Scholarpedia AdEx "fast spiking": no spike-triggered adaptation, a = 2 C / tau_w */
        p->adex.a = 2.0 * p->adex.c_m / p->adex.tau_w;
        p->adex.b = 0;
    } else if (!strcasecmp(want, "bursting")) {
        /* Scholarpedia AdEx "bursting": fast, strong adaptation and a high reset */
        p->adex.tau_w = 20;
        p->adex.a = 4;
        p->adex.b = 0.5;
        p->adex.v_r = p->adex.v_t + 5;
    } else {
        return tb_fail(err, "unknown AdEx preset '%s' (expected %s)", want, nrn_presets(NRN_ADEX));
    }
    snprintf(p->preset, sizeof p->preset, "%s", want);
    for (char *c = p->preset; *c; c++) *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    return 0;
}

int nrn_params_default(nrn_params *p, nrn_model m, const char *preset, char *err) {
    memset(p, 0, sizeof *p);
    p->model = m;
    p->lif = LIF_DEFAULT;
    p->izh = IZH_DEFAULT;
    p->adex = ADEX_DEFAULT;
    p->hh = HH_DEFAULT;
    int have = preset && *preset;
    switch (m) {
    case NRN_IZH: return izh_preset(p, have ? preset : "RS", err);
    case NRN_ADEX: return adex_preset(p, have ? preset : "adapting", err);
    default:
        if (have)
            return tb_fail(err, "model %s has no presets (got '%s'); set its parameters instead",
                           nrn_model_name(m), preset);
        return 0;
    }
}

double nrn_default_current(const nrn_params *p) {
    switch (p->model) {
    case NRN_LIF: return 2.0;   /* nA: 20 mV drive vs 15 mV to threshold */
    case NRN_IZH: return 10.0;  /* the 2003 paper's demo current */
    case NRN_ADEX: return 1.0;  /* nA, as in Brette & Gerstner's Fig. 2 */
    default: return 10.0;       /* uA/cm^2: repetitive firing in HH */
    }
}

double nrn_default_dt(nrn_model m) {
    switch (m) {
    case NRN_HH: return 0.01;   /* exponential Euler: resolves the upstroke (limit 0.05) */
    case NRN_ADEX: return 0.05; /* forward Euler through the exponential upswing */
    default: return 0.1;
    }
}

/* ---- parameters the command line may set ---------------------------------------- */
#define PARAM(model, field, name, unit, meaning) {name, model, unit, meaning, offsetof(nrn_params, field)}
const nrn_param_info nrn_param_table[NRN_N_PARAMS] = {
    PARAM(NRN_LIF, lif.tau_m, "tau-m", "ms", "membrane time constant"),
    PARAM(NRN_LIF, lif.r_m, "r-m", "MOhm", "membrane resistance"),
    PARAM(NRN_LIF, lif.v_rest, "v-rest", "mV", "resting potential"),
    PARAM(NRN_LIF, lif.v_th, "v-th", "mV", "threshold"),
    PARAM(NRN_LIF, lif.v_reset, "v-reset", "mV", "reset"),
    PARAM(NRN_LIF, lif.t_ref, "t-ref", "ms", "refractory period"),
    PARAM(NRN_IZH, izh.a, "a", "", "a, recovery rate"),
    PARAM(NRN_IZH, izh.b, "b", "", "b, recovery sensitivity"),
    PARAM(NRN_IZH, izh.c, "c", "mV", "c, reset"),
    PARAM(NRN_IZH, izh.d, "d", "", "d, recovery jump per spike"),
};

double *nrn_param_at(nrn_params *p, const nrn_param_info *d) {
    return (double *)((char *)p + d->offset);
}

double nrn_param_default(const nrn_param_info *d, char *preset, size_t n) {
    nrn_params p;
    nrn_params_default(&p, d->model, NULL, NULL);
    if (preset) snprintf(preset, n, "%s", p.preset);
    return *nrn_param_at(&p, d);
}
