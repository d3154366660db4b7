/* neuron.c -- `tinybrain neuron`: one biological neuron, its voltage trace and f-I curve.
 * Lessons 02 (LIF) and 03 (Izhikevich, AdEx, Hodgkin-Huxley). */
#include "cli.h"
#include "commands.h"
#include "io.h"
#include "neuron.h"
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chart helpers live in src/cli/snn.c (shared with the network pictures). */
typedef struct { int x, y, w, h; double x0, x1, y0, y1; } snn_chart;
int  snn_chart_px(const snn_chart *c, double x);
int  snn_chart_py(const snn_chart *c, double y);
void snn_chart_axes(tb_canvas *cv, const snn_chart *c, const char *xlabel, const char *ylabel,
                    const char *title);
void snn_chart_trace(tb_canvas *cv, const snn_chart *c, const float *y, long n, double x_start,
                     double dx, const unsigned char rgb[3]);

static void split_prefix(const char *out, char *dir, size_t nd, char *name, size_t nn) {
    const char *slash = strrchr(out, '/');
    if (slash) { snprintf(dir, nd, "%.*s", (int)(slash - out), out); snprintf(name, nn, "%s", slash + 1); }
    else { snprintf(dir, nd, "."); snprintf(name, nn, "%s", out); }
}

static int draw_trace(const char *path, const nrn_params *p, const float *v, const float *I, long n,
                      double dt, const double *spikes, int ns, const char *title, char *err) {
    tb_canvas cv;
    if (canvas_init(&cv, 1000, 560, err)) return -1;
    float vmin = v[0], vmax = v[0], imin = I[0], imax = I[0];
    for (long k = 0; k < n; k++) {
        if (v[k] < vmin) vmin = v[k];
        if (v[k] > vmax) vmax = v[k];
        if (I[k] < imin) imin = I[k];
        if (I[k] > imax) imax = I[k];
    }
    double T = n * dt, pad = 0.05 * (vmax - vmin) + 1;
    snn_chart c1 = {80, 40, 890, 330, 0, T, vmin - pad, vmax + pad};
    static const unsigned char BLUE[3] = {20, 60, 190}, RED[3] = {210, 30, 30}, GREEN[3] = {10, 130, 60};
    snn_chart_axes(&cv, &c1, NULL, "membrane potential (mV)", title);
    snn_chart_trace(&cv, &c1, v, n, dt, dt, BLUE);
    for (int s = 0; s < ns; s++) { /* spike ticks above the trace */
        int px = snn_chart_px(&c1, spikes[s]);
        canvas_line(&cv, px, c1.y - 6, px, c1.y - 1, RED);
    }
    double ipad = 0.1 * (imax - imin) + (imax == imin ? fabs(imax) * 0.1 + 0.1 : 0);
    snn_chart c2 = {80, 420, 890, 100, 0, T, imin - ipad, imax + ipad};
    char yl[64];
    snprintf(yl, sizeof yl, "input (%s)", nrn_current_unit(p->model));
    snn_chart_axes(&cv, &c2, "time (ms)", yl, NULL);
    snn_chart_trace(&cv, &c2, I, n, 0, dt, GREEN);
    int rc = canvas_save_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}

int cmd_neuron(int argc, char **argv) {
    const char *model_s, *preset, *input_s, *out;
    double I = NAN, I0, t_on, t_off = NAN, ms, dt = NAN, sigma, tau_noise, rate, w = NAN, tau_syn;
    double tau_m = NAN, r_m = NAN, v_rest = NAN, v_th = NAN, v_reset = NAN, t_ref = NAN;
    double ia = NAN, ib = NAN, ic = NAN, id = NAN;
    double i_min = NAN, i_max = NAN;
    int n_inputs, fi, fi_steps, json;
    long long seed;
    cli_opt opts[] = {
        {"model", 'c', &model_s, "lif", "", "neuron model", 0, 0, "lif|izh|adex|hh"},
        {"preset", 's', &preset, NULL, "", "izh: RS IB CH FS LTS TC RZ (default RS); adex: adapting tonic bursting", 0, 0, NULL},
        {"input", 'c', &input_s, "step", "", "input current shape", 0, 0, "const|step|ramp|noise|poisson"},
        {"I", 'f', &I, NULL, "model unit", "amplitude (lif 2 nA, izh 10 pA, adex 1 nA, hh 10 uA/cm^2); noise: mean", -1e6, 1e6, NULL},
        {"I0", 'f', &I0, "0", "model unit", "current outside the step / at the start of the ramp / under Poisson input", -1e6, 1e6, NULL},
        {"t-on", 'f', &t_on, "50", "ms", "step/ramp start", 0, 1e7, NULL},
        {"t-off", 'f', &t_off, NULL, "ms", "step end / ramp top (default: duration - 50 ms)", 0, 1e7, NULL},
        {"ms", 'f', &ms, "500", "ms", "duration", 1, 1e7, NULL},
        {"dt", 'f', &dt, NULL, "ms", "time step (default 0.1; hh 0.01)", 0, 1, NULL},
        {"sigma", 'f', &sigma, "0.5", "model unit", "noise: standard deviation of the Ornstein-Uhlenbeck current", 0, 1e6, NULL},
        {"tau-noise", 'f', &tau_noise, "5", "ms", "noise: correlation time", 0, 1e5, NULL},
        {"rate", 'f', &rate, "10", "Hz", "poisson: rate of each input train", 0, 1e5, NULL},
        {"n-inputs", 'i', &n_inputs, "100", "", "poisson: number of input trains", 1, 1e6, NULL},
        {"w", 'f', &w, NULL, "model unit", "poisson: current jump per input spike (default I/10)", -1e6, 1e6, NULL},
        {"tau-syn", 'f', &tau_syn, "5", "ms", "poisson: synaptic current decay", 0, 1e4, NULL},
        {"tau-m", 'f', &tau_m, NULL, "ms", "lif: membrane time constant (10)", -1e6, 1e6, NULL},
        {"r-m", 'f', &r_m, NULL, "MOhm", "lif: membrane resistance (10)", -1e6, 1e6, NULL},
        {"v-rest", 'f', &v_rest, NULL, "mV", "lif: resting potential (-65)", -1e3, 1e3, NULL},
        {"v-th", 'f', &v_th, NULL, "mV", "lif: threshold (-50)", -1e3, 1e3, NULL},
        {"v-reset", 'f', &v_reset, NULL, "mV", "lif: reset (-65)", -1e3, 1e3, NULL},
        {"t-ref", 'f', &t_ref, NULL, "ms", "lif: refractory period (2)", -1e3, 1e3, NULL},
        {"a", 'f', &ia, NULL, "", "izh: a (preset)", -1e3, 1e3, NULL},
        {"b", 'f', &ib, NULL, "", "izh: b (preset)", -1e3, 1e3, NULL},
        {"c", 'f', &ic, NULL, "mV", "izh: c (preset)", -1e3, 1e3, NULL},
        {"d", 'f', &id, NULL, "", "izh: d (preset)", -1e3, 1e3, NULL},
        {"fi", 'b', &fi, NULL, "", "sweep constant currents and plot the f-I curve (lif: with the formula)", 0, 0, NULL},
        {"i-min", 'f', &i_min, NULL, "model unit", "f-I sweep start (default 0)", -1e6, 1e6, NULL},
        {"i-max", 'f', &i_max, NULL, "model unit", "f-I sweep end (default 2.5 x the default current)", -1e6, 1e6, NULL},
        {"i-steps", 'i', &fi_steps, "26", "", "f-I sweep points", 2, 10000, NULL},
        {"seed", 'l', &seed, "1", "", "random seed (noise, Poisson input)", 0, 0, NULL},
        {"out", 's', &out, "plots/neuron", "", "prefix: PREFIX_trace.png, PREFIX_spikes.tsv, PREFIX_fi.png", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"neuron", "", "simulate one neuron: voltage trace, spikes, f-I curve",
                   "Models: lif (exact integration), izh (Izhikevich 2003 presets), adex (Brette &\n"
                   "Gerstner 2005: adapting as published; tonic and bursting from the Scholarpedia\n"
                   "AdEx article), hh (Hodgkin-Huxley squid axon, exponential Euler).  Currents are\n"
                   "in the model's unit: lif and adex nA, izh pA (the 2003 paper's I), hh uA/cm^2.\n"
                   "Writes the voltage trace with the input underneath (PNG) and the spike times (TSV);\n"
                   "--fi sweeps constant currents and plots the f-I curve (LIF: beside the formula\n"
                   "f = 1/(t_ref + tau_m ln((R I + v_rest - v_reset)/(R I + v_rest - v_th)))).",
                   "tinybrain neuron --model izh --preset CH"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN];
    nrn_params p;
    nrn_model m;
    if (nrn_model_parse(model_s, &m, err)) cli_die(2, "--model: %s", err);
    if (nrn_params_default(&p, m, preset, err)) cli_die(2, "--preset: %s", err);
    if (m != NRN_LIF && !(isnan(tau_m) && isnan(r_m) && isnan(v_rest) && isnan(v_th) && isnan(v_reset) && isnan(t_ref)))
        cli_die(2, "--tau-m/--r-m/--v-rest/--v-th/--v-reset/--t-ref apply to --model lif only");
    if (m != NRN_IZH && !(isnan(ia) && isnan(ib) && isnan(ic) && isnan(id)))
        cli_die(2, "--a/--b/--c/--d apply to --model izh only");
    if (!isnan(tau_m)) p.lif.tau_m = tau_m;
    if (!isnan(r_m)) p.lif.r_m = r_m;
    if (!isnan(v_rest)) p.lif.v_rest = v_rest;
    if (!isnan(v_th)) p.lif.v_th = v_th;
    if (!isnan(v_reset)) p.lif.v_reset = v_reset;
    if (!isnan(t_ref)) p.lif.t_ref = t_ref;
    if (!isnan(ia)) p.izh.a = ia;
    if (!isnan(ib)) p.izh.b = ib;
    if (!isnan(ic)) p.izh.c = ic;
    if (!isnan(id)) p.izh.d = id;
    if (isnan(dt)) dt = m == NRN_HH ? 0.01 : (m == NRN_ADEX ? 0.05 : 0.1);
    if (nrn_check(&p, dt, err)) cli_die(2, "%s", err);
    if (isnan(I)) I = nrn_default_current(&p);
    if (isnan(t_off)) t_off = ms - 50 > t_on ? ms - 50 : ms;
    nrn_stim st = {0};
    if (nrn_stim_parse(input_s, &st.kind, err)) cli_die(2, "--input: %s", err);
    st.amp = st.kind == STIM_POISSON ? (isnan(w) ? I / 10 : w) : I;
    st.base = I0;
    st.t_on = t_on;
    st.t_off = t_off;
    st.sigma = sigma;
    st.tau_noise = tau_noise;
    st.rate_hz = rate;
    st.n_inputs = n_inputs;
    st.tau_syn = tau_syn;
    if (nrn_stim_check(&st, err)) cli_die(2, "%s", err);
    char dir[1024], name[256], path[1400];
    split_prefix(out, dir, sizeof dir, name, sizeof name);
    const char *unit = nrn_current_unit(m);
    char label[64];
    snprintf(label, sizeof label, "%s%s%s", nrn_model_name(m), p.preset[0] ? " " : "", p.preset);

    if (fi) {
        double lo = isnan(i_min) ? 0 : i_min, hi = isnan(i_max) ? 2.5 * nrn_default_current(&p) : i_max;
        if (!(hi > lo)) cli_die(2, "--i-max (%g) must exceed --i-min (%g)", hi, lo);
        int K = fi_steps;
        double *xs = malloc(K * sizeof(double)), *fs = malloc(K * sizeof(double));
        double *xa = malloc(400 * sizeof(double)), *fa = malloc(400 * sizeof(double));
        if (!xs || !fs || !xa || !fa) cli_die(1, "out of memory");
        nrn_stim c = {0};
        c.kind = STIM_CONST;
        double settle = fmin(100, ms / 5); /* rate measured after a transient */
        if (!json) printf("%12s %14s%s\n", "I", "f_sim (Hz)", m == NRN_LIF ? "   f_formula (Hz)" : "");
        for (int k = 0; k < K; k++) {
            xs[k] = lo + (hi - lo) * k / (K - 1);
            c.amp = xs[k];
            int cap = (int)(ms / dt) + 1, ns = 0;
            double *spk = malloc((size_t)cap * sizeof(double));
            if (!spk) cli_die(1, "out of memory");
            if (nrn_simulate(&p, &c, dt, ms, (uint64_t)seed, NULL, NULL, spk, cap, &ns, err)) cli_die(1, "%s", err);
            /* rate from the mean inter-spike interval after the transient */
            int first = -1, last = -1, cnt = 0;
            for (int s = 0; s < ns; s++) if (spk[s] >= settle) { if (first < 0) first = s; last = s; cnt++; }
            fs[k] = cnt >= 2 ? 1000.0 * (cnt - 1) / (spk[last] - spk[first]) : 0;
            free(spk);
            if (!json) {
                if (m == NRN_LIF) printf("%9.3f %s %14.2f %17.2f\n", xs[k], unit, fs[k], lif_rate_analytic(&p.lif, xs[k]));
                else printf("%9.3f %s %14.2f\n", xs[k], unit, fs[k]);
            }
        }
        tb_series s[2] = {{"simulated", xs, fs, K, "points"}, {NULL, NULL, NULL, 0, NULL}};
        int ns_ = 1;
        if (m == NRN_LIF) {
            for (int k = 0; k < 400; k++) { xa[k] = lo + (hi - lo) * k / 399; fa[k] = lif_rate_analytic(&p.lif, xa[k]); }
            s[1] = (tb_series){"formula 1/(t_ref + tau_m ln(...))", xa, fa, 400, "lines"};
            ns_ = 2;
        }
        char nm[300], ttl[200], xl[64];
        snprintf(nm, sizeof nm, "%s_fi", name);
        snprintf(ttl, sizeof ttl, "f-I curve: %s (dt %g ms, %g ms per point)", label, dt, ms);
        snprintf(xl, sizeof xl, "input current (%s)", unit);
        tb_lineplot lp = {ttl, xl, "firing rate (Hz)", 0, 0, 0, NAN, 0, 0};
        int rendered = 0;
        if (plot_lines(dir, nm, &lp, s, ns_, &rendered, err)) cli_die(1, "%s", err);
        if (rendered) cli_note("wrote %s/%s.png", dir, nm);
        else cli_note("gnuplot not found: render with gnuplot %s/%s.gp", dir, nm);
        if (json) {
            json_begin();
            json_str("model", nrn_model_name(m));
            json_str("preset", p.preset);
            json_str("unit", unit);
            json_num_array("current", xs, K);
            json_num_array("rate_hz", fs, K);
            if (m == NRN_LIF) {
                double *an = malloc(K * sizeof(double));
                if (!an) cli_die(1, "out of memory");
                for (int k = 0; k < K; k++) an[k] = lif_rate_analytic(&p.lif, xs[k]);
                json_num_array("rate_formula_hz", an, K);
                json_num("rheobase", lif_rheobase(&p.lif));
                free(an);
            }
            json_end();
        } else if (m == NRN_LIF) {
            printf("rheobase     %.3f nA (R I = v_th - v_rest)\n", lif_rheobase(&p.lif));
        }
        free(xs); free(fs); free(xa); free(fa);
        return 0;
    }

    long n = (long)(ms / dt + 0.5);
    float *v = malloc((size_t)n * sizeof(float)), *cur = malloc((size_t)n * sizeof(float));
    double *spk = malloc((size_t)(n + 1) * sizeof(double));
    if (!v || !cur || !spk) cli_die(1, "out of memory");
    int ns = 0;
    if (nrn_simulate(&p, &st, dt, ms, (uint64_t)seed, v, cur, spk, (int)n + 1, &ns, err)) cli_die(1, "%s", err);
    /* summary: rate, ISIs, adaptation, bursts */
    double first_isi = ns >= 2 ? spk[1] - spk[0] : NAN, last_isi = ns >= 2 ? spk[ns - 1] - spk[ns - 2] : NAN;
    double vmean = 0, vmax = -1e9;
    for (long k = 0; k < n; k++) { vmean += v[k]; if (v[k] > vmax) vmax = v[k]; }
    vmean /= n;
    int bursts = 0; /* groups of >= 2 spikes separated by < 10 ms, starting after a gap >= 20 ms */
    for (int s = 1; s < ns; s++)
        if (spk[s] - spk[s - 1] < 10 && (s == 1 || spk[s - 1] - spk[s - 2] >= 20)) bursts++;
    char title[200];
    snprintf(title, sizeof title, "%s, %s input (%g %s), %d spikes (red ticks)", label, input_s,
             st.kind == STIM_POISSON ? st.amp : I, unit, ns);
    snprintf(path, sizeof path, "%s_trace.png", out);
    if (draw_trace(path, &p, v, cur, n, dt, spk, ns, title, err)) cli_die(1, "%s", err);
    cli_note("wrote %s", path);
    snprintf(path, sizeof path, "%s_spikes.tsv", out);
    tb_atomic a;
    if (atomic_begin(&a, path, err)) cli_die(1, "%s", err);
    fprintf(a.f, "spike\ttime_ms\n");
    for (int s = 0; s < ns; s++) fprintf(a.f, "%d\t%.4f\n", s, spk[s]);
    if (atomic_commit(&a, err)) cli_die(1, "%s", err);
    cli_note("wrote %s", path);
    double window = st.kind == STIM_STEP ? st.t_off - st.t_on : ms;
    if (json) {
        json_begin();
        json_str("model", nrn_model_name(m));
        json_str("preset", p.preset);
        json_str("input", input_s);
        json_str("unit", unit);
        json_num("I", I);
        json_num("dt_ms", dt);
        json_num("sim_ms", ms);
        json_int("spikes", ns);
        json_num("rate_hz", 1000.0 * ns / window);
        json_num("first_isi_ms", first_isi);
        json_num("last_isi_ms", last_isi);
        json_num("adaptation", last_isi / first_isi);
        json_int("bursts", bursts);
        json_num("v_mean_mv", vmean);
        json_num("v_max_mv", vmax);
        if (m == NRN_LIF) json_num("rate_formula_hz", lif_rate_analytic(&p.lif, I));
        json_end();
    } else {
        printf("neuron       %s, dt %g ms, %g ms, %s input %g %s\n", label, dt, ms, input_s,
               st.kind == STIM_POISSON ? st.amp : I, unit);
        printf("spikes       %d (%.2f Hz over the %s)\n", ns, 1000.0 * ns / window,
               st.kind == STIM_STEP ? "step" : "run");
        if (ns >= 2)
            printf("ISI          first %.2f ms, last %.2f ms, last/first %.2f (> 1: adaptation)\n", first_isi,
                   last_isi, last_isi / first_isi);
        printf("bursts       %d (>= 2 spikes < 10 ms apart after >= 20 ms of quiet)\n", bursts);
        printf("membrane     mean %.2f mV, max %.2f mV\n", vmean, vmax);
        if (m == NRN_LIF && st.kind != STIM_NOISE && st.kind != STIM_POISSON)
            printf("formula      %.2f Hz for a constant %g nA (rheobase %.3f nA)\n", lif_rate_analytic(&p.lif, I), I,
                   lif_rheobase(&p.lif));
    }
    free(v); free(cur); free(spk);
    return 0;
}
