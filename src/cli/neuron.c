/* neuron.c -- `tinybrain neuron`: one biological neuron, its voltage trace and f-I curve.
 * Lessons 02 (LIF) and 03 (Izhikevich, AdEx, Hodgkin-Huxley).  The measurements are
 * neuron.h's, the pictures snn_plot.h's; the defaults come from neuron_params.c. */
#include "cli.h"
#include "commands.h"
#include "neuron.h"
#include "snn_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *preset, *input, *plots, *name;
    char *out;                /* PLOTS/NAME: the prefix of every file */
    double I, I0, t_on, t_off, ms, dt, sigma, tau_noise, rate, w, tau_syn, i_min, i_max;
    double param[NRN_N_PARAMS];   /* nrn_param_table's parameters; NAN: not given */
    int n_inputs, fi, fi_steps, json, phase;
    long long seed;
} neuron_args;

/* "lif 2 nA, izh 10 pA, ..." (the default currents) or "lif 0.1, ..." (time steps). */
static void per_model(char *buf, size_t n, int time_steps) {
    size_t len = 0;
    for (nrn_model m = NRN_LIF; m <= NRN_HH && len < n; m++) {
        nrn_params p;
        nrn_params_default(&p, m, NULL, NULL);
        if (time_steps) len += snprintf(buf + len, n - len, "%s%s %g", m ? ", " : "", nrn_model_name(m), nrn_default_dt(m));
        else len += snprintf(buf + len, n - len, "%s%s %g %s", m ? ", " : "", nrn_model_name(m),
                             nrn_default_current(&p), nrn_current_unit(m));
    }
}

static void parse(int argc, char **argv, neuron_args *a) {
    char help_I[160], help_dt[300], per[100], help_p[NRN_N_PARAMS][120], preset[16];
    per_model(per, sizeof per, 0);
    snprintf(help_I, sizeof help_I, "amplitude (%s); noise: mean", per);
    per_model(per, sizeof per, 1);
    snprintf(help_dt, sizeof help_dt, "time step (default %s; the largest each model accepts: lif tau_m/10, "
             "izh 0.5, adex min(0.2, tau/20), hh 0.05)", per);
    cli_opt fixed[] = {
        {"model", 'c', &a->model, "lif", "", "neuron model", 0, 0, "lif|izh|adex|hh"},
        {"preset", 's', &a->preset, NULL, "", "izh: RS IB CH FS LTS TC RZ (default RS); adex: adapting tonic bursting", 0, 0, NULL},
        {"input", 'c', &a->input, "step", "", "input current shape", 0, 0, "const|step|ramp|noise|poisson"},
        {"I", 'f', &a->I, NULL, "model unit", help_I, -1e6, 1e6, NULL},
        {"I0", 'f', &a->I0, "0", "model unit", "current outside the step / at the start of the ramp / under Poisson input", -1e6, 1e6, NULL},
        {"t-on", 'f', &a->t_on, "50", "ms", "step/ramp start", 0, 1e7, NULL},
        {"t-off", 'f', &a->t_off, NULL, "ms", "step end / ramp top (default: duration - 50 ms)", 0, 1e7, NULL},
        {"ms", 'f', &a->ms, "500", "ms", "duration", 1, 1e7, NULL},
        {"dt", 'f', &a->dt, NULL, "ms", help_dt, 0, 10, NULL}, /* each model's limit: nrn_check */
        {"sigma", 'f', &a->sigma, "0.5", "model unit", "noise: standard deviation of the Ornstein-Uhlenbeck current", 0, 1e6, NULL},
        {"tau-noise", 'f', &a->tau_noise, "5", "ms", "noise: correlation time", 0, 1e5, NULL},
        {"rate", 'f', &a->rate, "10", "Hz", "poisson: rate of each input train", 0, 1e5, NULL},
        {"n-inputs", 'i', &a->n_inputs, "100", "", "poisson: number of input trains", 1, 1e6, NULL},
        {"w", 'f', &a->w, NULL, "model unit", "poisson: current jump per input spike (default I/10)", -1e6, 1e6, NULL},
        {"tau-syn", 'f', &a->tau_syn, "5", "ms", "poisson: synaptic current decay", 0, 1e4, NULL},
        {"fi", 'b', &a->fi, NULL, "", "sweep constant currents and plot the f-I curve (lif: with the formula)", 0, 0, NULL},
        {"i-min", 'f', &a->i_min, NULL, "model unit", "f-I sweep start (default 0)", -1e6, 1e6, NULL},
        {"i-max", 'f', &a->i_max, NULL, "model unit", "f-I sweep end (default 2.5 x the default current)", -1e6, 1e6, NULL},
        {"i-steps", 'i', &a->fi_steps, "26", "", "f-I sweep points", 2, 10000, NULL},
        {"seed", 'l', &a->seed, "1", "", "random seed (noise, Poisson input)", 0, 0, NULL},
        {"plots", 's', &a->plots, TB_PLOTS_DIR, "", "folder for the pictures and the spike list", 0, 0, NULL},
        {"name", 's', &a->name, "neuron", "", "file names: NAME_trace.png, NAME_spikes.tsv, NAME_fi.png", 0, 0, NULL},
        {"phase-plane", 'b', &a->phase, NULL, "", "izh, adex: also draw NAME_phase.png, the (v, u) plane with the nullclines and the trajectory", 0, 0, NULL},
        {"json", 'b', &a->json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_opt opts[NOPT(fixed) + NRN_N_PARAMS];
    memcpy(opts, fixed, sizeof fixed);
    for (int i = 0; i < NRN_N_PARAMS; i++) {   /* the model parameters, with their defaults */
        const nrn_param_info *d = &nrn_param_table[i];
        double def = nrn_param_default(d, preset, sizeof preset);
        snprintf(help_p[i], sizeof help_p[i], "%s: %s (%s%s%g)", nrn_model_name(d->model), d->meaning, preset,
                 *preset ? " " : "", def);
        opts[NOPT(fixed) + i] = (cli_opt){d->name, 'f', &a->param[i], NULL, d->unit, help_p[i], -1e6, 1e6, NULL};
        a->param[i] = NAN;
    }
    a->I = a->t_off = a->dt = a->w = a->i_min = a->i_max = NAN;
    cli_cmd cmd = {"neuron", "", "simulate one neuron: voltage trace, spikes, f-I curve",
                   "Models: lif (exact integration), izh (Izhikevich 2003 presets), adex (Brette &\n"
                   "Gerstner 2005: adapting as published; tonic and bursting from the Scholarpedia\n"
                   "AdEx article), hh (Hodgkin-Huxley squid axon, exponential Euler).  Currents are\n"
                   "in the model's unit: lif and adex nA, izh pA (the 2003 paper's I), hh uA/cm^2.\n"
                   "Writes the voltage trace with the input underneath (PNG) and the spike times (TSV);\n"
                   "--fi sweeps constant currents and plots the f-I curve (LIF: beside the formula\n"
                   "f = 1/(t_ref + tau_m ln((R I + v_rest - v_reset)/(R I + v_rest - v_th)))).",
                   "tinybrain neuron --model izh --preset CH"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    a->out = cli_strf("%s/%s", a->plots, a->name);
}

/* The neuron: the model's defaults (or preset) with the parameters the user set. */
static void make_neuron(const neuron_args *a, nrn_params *p, double *dt) {
    char err[TB_ERRLEN];
    nrn_model m;
    if (nrn_model_parse(a->model, &m, err)) cli_die(2, "--model: %s", err);
    if (nrn_params_default(p, m, a->preset, err)) cli_die(2, "--preset: %s", err);
    for (int i = 0; i < NRN_N_PARAMS; i++) {
        if (isnan(a->param[i])) continue;
        const nrn_param_info *d = &nrn_param_table[i];
        if (d->model != m) cli_die(2, "--%s applies to --model %s only", d->name, nrn_model_name(d->model));
        *nrn_param_at(p, d) = a->param[i];
    }
    if (a->phase && !nrn_has_phase_plane(p))
        cli_die(2, "--phase-plane: %s has one variable (v); the phase plane needs izh or adex", a->model);
    *dt = isnan(a->dt) ? nrn_default_dt(m) : a->dt;
    if (nrn_check(p, *dt, err)) cli_die(2, "%s", err);
}

static void make_stim(const neuron_args *a, double I, nrn_stim *st) {
    char err[TB_ERRLEN];
    memset(st, 0, sizeof *st);
    if (nrn_stim_parse(a->input, &st->kind, err)) cli_die(2, "--input: %s", err);
    st->amp = st->kind == STIM_POISSON ? (isnan(a->w) ? I / 10 : a->w) : I;
    st->base = a->I0;
    st->t_on = a->t_on;
    st->t_off = isnan(a->t_off) ? (a->ms - 50 > a->t_on ? a->ms - 50 : a->ms) : a->t_off;
    st->sigma = a->sigma;
    st->tau_noise = a->tau_noise;
    st->rate_hz = a->rate;
    st->n_inputs = a->n_inputs;
    st->tau_syn = a->tau_syn;
    if (nrn_stim_check(st, err)) cli_die(2, "%s", err);
}

static void note_picture(const tb_picture *pic) {
    if (pic->rendered) cli_note("wrote %s", pic->path);
    else cli_note("gnuplot not found: render with gnuplot %s", pic->path);
}

/* --fi: the sweep, its table, picture and JSON. */
static void run_fi(const neuron_args *a, const nrn_params *p, double dt, const char *label) {
    char err[TB_ERRLEN];
    int K = a->fi_steps, lif = p->model == NRN_LIF;
    double lo = isnan(a->i_min) ? 0 : a->i_min, hi = isnan(a->i_max) ? 2.5 * nrn_default_current(p) : a->i_max;
    if (!(hi > lo)) cli_die(2, "--i-max (%g) must exceed --i-min (%g)", hi, lo);
    double *I = malloc(K * sizeof *I), *f = malloc(K * sizeof *f), *f_lif = malloc(K * sizeof *f_lif);
    if (!I || !f || !f_lif) cli_die(1, "out of memory");
    for (int k = 0; k < K; k++) I[k] = lo + (hi - lo) * k / (K - 1);
    if (nrn_fi_curve(p, dt, a->ms, (uint64_t)a->seed, I, K, f, err)) cli_die(1, "%s", err);
    for (int k = 0; k < K; k++) f_lif[k] = lif ? lif_rate_analytic(&p->lif, I[k]) : NAN;
    const char *unit = nrn_current_unit(p->model);
    if (!a->json) {
        printf("%12s %14s%s\n", "I", "f_sim (Hz)", lif ? "   f_formula (Hz)" : "");
        for (int k = 0; k < K; k++) {
            if (lif) printf("%9.3f %s %14.2f %17.2f\n", I[k], unit, f[k], f_lif[k]);
            else printf("%9.3f %s %14.2f\n", I[k], unit, f[k]);
        }
    }
    tb_picture pic;
    if (nrn_plot_fi(a->out, p, label, dt, a->ms, I, f, K, &pic, err)) cli_die(1, "%s", err);
    note_picture(&pic);
    if (a->json) {
        json_begin();
        json_str("model", nrn_model_name(p->model));
        json_str("preset", p->preset);
        json_str("unit", unit);
        json_num_array("current", I, K);
        json_num_array("rate_hz", f, K);
        if (lif) {
            json_num_array("rate_formula_hz", f_lif, K);
            json_num("rheobase", lif_rheobase(&p->lif));
        }
        json_end();
    } else if (lif) {
        printf("rheobase     %.3f nA (R I = v_th - v_rest)\n", lif_rheobase(&p->lif));
    }
    free(I); free(f); free(f_lif);
}

static void print_trace(const neuron_args *a, const nrn_params *p, const nrn_stim *st, double dt, double I,
                        const char *label, const nrn_summary *s) {
    const char *unit = nrn_current_unit(p->model);
    if (a->json) {
        json_begin();
        json_str("model", nrn_model_name(p->model));
        json_str("preset", p->preset);
        json_str("input", a->input);
        json_str("unit", unit);
        json_num("I", I);
        json_num("dt_ms", dt);
        json_num("sim_ms", a->ms);
        json_int("spikes", s->spikes);
        json_num("rate_hz", s->rate_hz);
        json_num("first_isi_ms", s->first_isi_ms);
        json_num("last_isi_ms", s->last_isi_ms);
        json_num("adaptation", s->last_isi_ms / s->first_isi_ms);
        json_int("bursts", s->bursts);
        json_num("v_mean_mv", s->v_mean_mv);
        json_num("v_max_mv", s->v_max_mv);
        if (p->model == NRN_LIF) json_num("rate_formula_hz", lif_rate_analytic(&p->lif, I));
        json_end();
        return;
    }
    printf("neuron       %s, dt %g ms, %g ms, %s input %g %s\n", label, dt, a->ms, a->input,
           st->kind == STIM_POISSON ? st->amp : I, unit);
    printf("spikes       %d (%.2f Hz over the %s)\n", s->spikes, s->rate_hz, st->kind == STIM_STEP ? "step" : "run");
    if (s->spikes >= 2)
        printf("ISI          first %.2f ms, last %.2f ms, last/first %.2f (> 1: adaptation)\n", s->first_isi_ms,
               s->last_isi_ms, s->last_isi_ms / s->first_isi_ms);
    printf("bursts       %d (>= 2 spikes < 10 ms apart after >= 20 ms of quiet)\n", s->bursts);
    printf("membrane     mean %.2f mV, max %.2f mV\n", s->v_mean_mv, s->v_max_mv);
    if (p->model == NRN_LIF && st->kind != STIM_NOISE && st->kind != STIM_POISSON)
        printf("formula      %.2f Hz for a constant %g nA (rheobase %.3f nA)\n", lif_rate_analytic(&p->lif, I), I,
               lif_rheobase(&p->lif));
}

/* One run: the trace picture, the spike times and the summary. */
static void run_trace(const neuron_args *a, const nrn_params *p, const nrn_stim *stim, double dt, double I,
                      const char *label) {
    char err[TB_ERRLEN], title[200], path[1100];
    nrn_stim st = *stim;
    nrn_trace tr;
    if (nrn_record(p, &st, dt, a->ms, (uint64_t)a->seed, &tr, err)) cli_die(1, "%s", err);
    nrn_summary s;
    nrn_summarize(&tr, &st, a->ms, &s);
    snprintf(title, sizeof title, "%s, %s input (%g %s), %d spikes (red ticks)", label, a->input,
             st.kind == STIM_POISSON ? st.amp : I, nrn_current_unit(p->model), s.spikes);
    tb_picture pic;
    if (nrn_plot_trace(a->out, p, &tr, dt, title, &pic, err)) cli_die(1, "%s", err);
    note_picture(&pic);
    if (a->phase) {
        snprintf(title, sizeof title, "%s phase plane: %s input %g %s from %g ms (before: %g), %d spikes", label,
                 a->input, I, nrn_current_unit(p->model), st.t_on, st.base, s.spikes);
        if (nrn_plot_phase(a->out, p, &tr, dt, I, st.base, title, &pic, err)) cli_die(2, "--phase-plane: %s", err);
        note_picture(&pic);
    }
    snprintf(path, sizeof path, "%s_spikes.tsv", a->out);
    if (nrn_write_spikes(path, &tr, err)) cli_die(1, "%s", err);
    cli_note("wrote %s", path);
    print_trace(a, p, &st, dt, I, label, &s);
    nrn_trace_free(&tr);
}

int cmd_neuron(int argc, char **argv) {
    neuron_args a;
    parse(argc, argv, &a);
    nrn_params p;
    double dt;
    make_neuron(&a, &p, &dt);
    double I = isnan(a.I) ? nrn_default_current(&p) : a.I;
    nrn_stim st;
    make_stim(&a, I, &st);
    char label[64];
    snprintf(label, sizeof label, "%s%s%s", nrn_model_name(p.model), p.preset[0] ? " " : "", p.preset);
    if (a.fi) run_fi(&a, &p, dt, label);
    else run_trace(&a, &p, &st, dt, I, label);
    return 0;
}
