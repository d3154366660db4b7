/* snn.c -- `tinybrain snn run|stdp`: spiking networks (lesson 04) and STDP (lesson 05).
 * Also the small chart helpers (axes, traces, rasters on a tb_canvas) that
 * `tinybrain neuron` shares: snn_chart_* below. */
#include "cli.h"
#include "commands.h"
#include "io.h"
#include "plot.h"
#include "snn.h"
#include "stdp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- charts on a canvas ------------------------------------------------------------ */

typedef struct { int x, y, w, h; double x0, x1, y0, y1; } snn_chart;

static const unsigned char BLACK[3] = {0, 0, 0}, GREY[3] = {200, 200, 200};

static double nice_step(double range, int target) {
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

int snn_chart_px(const snn_chart *c, double x) { return c->x + (int)lround((x - c->x0) / (c->x1 - c->x0) * (c->w - 1)); }
int snn_chart_py(const snn_chart *c, double y) { return c->y + c->h - 1 - (int)lround((y - c->y0) / (c->y1 - c->y0) * (c->h - 1)); }

/* Frame, ticks with numbers, axis labels and title. */
void snn_chart_axes(tb_canvas *cv, const snn_chart *c, const char *xlabel, const char *ylabel,
                    const char *title) {
    char buf[32];
    double sx = nice_step(c->x1 - c->x0, 8), sy = nice_step(c->y1 - c->y0, 4);
    for (double t = ceil(c->x0 / sx) * sx; t <= c->x1 + 1e-9 * sx; t += sx) {
        int px = snn_chart_px(c, t);
        canvas_line(cv, px, c->y + c->h, px, c->y + c->h + 4, BLACK);
        snprintf(buf, sizeof buf, "%g", fabs(t) < 1e-9 * sx ? 0.0 : t);
        canvas_text(cv, px - canvas_text_width(buf, 1) / 2, c->y + c->h + 6, buf, 1, 0, BLACK);
    }
    for (double t = ceil(c->y0 / sy) * sy; t <= c->y1 + 1e-9 * sy; t += sy) {
        int py = snn_chart_py(c, t);
        canvas_line(cv, c->x - 4, py, c->x, py, BLACK);
        canvas_line(cv, c->x + 1, py, c->x + c->w - 2, py, GREY);
        snprintf(buf, sizeof buf, "%g", fabs(t) < 1e-9 * sy ? 0.0 : t);
        canvas_text(cv, c->x - 6 - canvas_text_width(buf, 1), py - 4, buf, 1, 0, BLACK);
    }
    canvas_line(cv, c->x, c->y, c->x + c->w - 1, c->y, BLACK);
    canvas_line(cv, c->x, c->y + c->h - 1, c->x + c->w - 1, c->y + c->h - 1, BLACK);
    canvas_line(cv, c->x, c->y, c->x, c->y + c->h - 1, BLACK);
    canvas_line(cv, c->x + c->w - 1, c->y, c->x + c->w - 1, c->y + c->h - 1, BLACK);
    if (xlabel) canvas_text(cv, c->x + c->w / 2 - canvas_text_width(xlabel, 1) / 2, c->y + c->h + 18, xlabel, 1, 0, BLACK);
    if (ylabel) canvas_text(cv, c->x - 48, c->y + c->h / 2 + canvas_text_width(ylabel, 1) / 2, ylabel, 1, 1, BLACK);
    if (title) canvas_text(cv, c->x, c->y - 14, title, 1, 0, BLACK);
}

/* A sampled trace y[k] at x = x_start + k dx, drawn as one min-max bar per pixel column
 * (so a 100k-sample trace keeps its spikes). */
void snn_chart_trace(tb_canvas *cv, const snn_chart *c, const float *y, long n, double x_start,
                     double dx, const unsigned char rgb[3]) {
    int prev_lo = -1, prev_hi = -1;
    for (int col = 0; col < c->w; col++) {
        double xa = c->x0 + (c->x1 - c->x0) * col / c->w, xb = c->x0 + (c->x1 - c->x0) * (col + 1) / c->w;
        long ka = (long)ceil((xa - x_start) / dx), kb = (long)ceil((xb - x_start) / dx);
        if (ka < 0) ka = 0;
        if (kb > n) kb = n;
        if (ka >= kb) continue;
        float lo = y[ka], hi = y[ka];
        for (long k = ka; k < kb; k++) { if (y[k] < lo) lo = y[k]; if (y[k] > hi) hi = y[k]; }
        double clo = fmax(c->y0, fmin(c->y1, lo)), chi = fmax(c->y0, fmin(c->y1, hi));
        int plo = snn_chart_py(c, clo), phi = snn_chart_py(c, chi);
        if (prev_lo >= 0) { /* join to the previous column */
            if (phi > prev_lo) phi = prev_lo;
            if (plo < prev_hi) plo = prev_hi;
        }
        canvas_line(cv, c->x + col, plo, c->x + col, phi, rgb);
        prev_lo = snn_chart_py(c, clo);
        prev_hi = snn_chart_py(c, chi);
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* ---- snn run ------------------------------------------------------------------------ */

static int draw_raster(const char *path, const snn_result *r, const snn_net *net, const snn_config *cfg,
                       double t_show, int n_show, char *err) {
    tb_canvas cv;
    if (canvas_init(&cv, 1000, 620, err)) return -1;
    int ne = cfg->pops[0].n, N = snn_n_neurons(net);
    if (n_show > N) n_show = N;
    /* show n_show neurons: the same fraction of each population */
    int show_e = cfg->n_pops > 1 ? (int)((double)n_show * ne / N) : n_show;
    snn_chart c = {70, 30, 900, 430, 0, t_show, 0, n_show};
    char title[160];
    snprintf(title, sizeof title, "%s network: %d of %d neurons, first %g ms (red: excitatory, blue: inhibitory)",
             cfg->syn == SYN_CUBA ? "CUBA" : "COBA", n_show, N, t_show);
    snn_chart_axes(&cv, &c, "time (ms)", "neuron", title);
    static const unsigned char RED[3] = {200, 30, 30}, BLUE[3] = {30, 60, 200};
    long bins = c.w;
    double *rate = calloc((size_t)bins, sizeof(double));
    for (long long k = 0; k < r->n_spikes; k++) {
        double t = r->spk_step[k] * cfg->dt;
        if (t >= t_show) break;
        int i = r->spk_idx[k], row = -1, inh = i >= ne;
        if (!inh && i < show_e) row = i;
        else if (inh && i - ne < n_show - show_e) row = show_e + (i - ne);
        if (rate) rate[(long)(t / t_show * bins)] += 1;
        if (row < 0) continue;
        int px = snn_chart_px(&c, t), py = snn_chart_py(&c, row + 0.5);
        canvas_rect(&cv, px, py - 1, 2, 2, inh ? BLUE : RED);
    }
    /* population rate underneath */
    if (rate) {
        double bin_ms = t_show / bins, mx = 1;
        float *rf = malloc((size_t)bins * sizeof(float));
        for (long b = 0; b < bins; b++) { rate[b] = rate[b] / N / (bin_ms * 1e-3); if (rate[b] > mx) mx = rate[b]; }
        if (rf) {
            for (long b = 0; b < bins; b++) rf[b] = (float)rate[b];
            snn_chart c2 = {70, 500, 900, 80, 0, t_show, 0, mx * 1.1};
            snn_chart_axes(&cv, &c2, "time (ms)", "rate (Hz)", "population rate (all neurons)");
            snn_chart_trace(&cv, &c2, rf, bins, bin_ms / 2, bin_ms, BLACK);
            free(rf);
        }
        free(rate);
    }
    int rc = canvas_save_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}

static void note_render(int rendered, const char *dir, const char *name) {
    if (rendered) cli_note("wrote %s/%s.png", dir, name);
    else cli_note("gnuplot not found: render with gnuplot %s/%s.gp", dir, name);
}

static int snn_run_main(int argc, char **argv) {
    const char *preset, *model, *pe, *pi, *syn, *out, *spikes_path;
    int n, k_in, json, no_plots, nrec;
    long long seed;
    double ms, dt, we = NAN, wi = NAN, p = NAN, tau_e = NAN, tau_i = NAN, delay, bg_rate, bg_w, raster_ms;
    int bg_n;
    cli_opt opts[] = {
        {"preset", 'c', &preset, "cuba", "", "network: the Vogels-Abbott benchmark (cuba|coba) as Brian2's script defines it", 0, 0, "cuba|coba"},
        {"n", 'i', &n, "4000", "", "neurons (80% excitatory)", 5, 5e7, NULL},
        {"ms", 'f', &ms, "1000", "ms", "biological time to simulate", 0, 1e8, NULL},
        {"dt", 'f', &dt, "0.1", "ms", "time step", 0.001, 1, NULL},
        {"seed", 'l', &seed, "1", "", "random seed (connectivity, initial state, background)", 0, 0, NULL},
        {"k-in", 'i', &k_in, "0", "", "fixed in-degree instead of the 2% probability (0: probability)", 0, 1e6, NULL},
        {"p", 'f', &p, NULL, "", "connection probability (default: the preset's 0.02)", 0, 1, NULL},
        {"model", 'c', &model, "lif", "", "neuron model of both populations", 0, 0, "lif|izh|adex|hh"},
        {"preset-e", 's', &pe, NULL, "", "neuron preset of the excitatory population (izh: RS..., adex: tonic...)", 0, 0, NULL},
        {"preset-i", 's', &pi, NULL, "", "neuron preset of the inhibitory population (izh default FS)", 0, 0, NULL},
        {"syn", 's', &syn, NULL, "", "synapses cuba|coba (default: the preset's)", 0, 0, NULL},
        {"we", 'f', &we, NULL, "mV|nS", "excitatory weight (default: preset; CUBA LIF mV, COBA nS)", 0, 1e6, NULL},
        {"wi", 'f', &wi, NULL, "mV|nS", "inhibitory weight magnitude (Dale's law sets the sign)", 0, 1e6, NULL},
        {"tau-e", 'f', &tau_e, NULL, "ms", "excitatory synaptic time constant (default 5)", 0, 1000, NULL},
        {"tau-i", 'f', &tau_i, NULL, "ms", "inhibitory synaptic time constant (default 10)", 0, 1000, NULL},
        {"delay", 'f', &delay, "0", "ms", "synaptic delay of every projection (ring buffer)", 0, 1000, NULL},
        {"bg-rate", 'f', &bg_rate, "0", "Hz", "Poisson background: rate of each external train", 0, 1e5, NULL},
        {"bg-n", 'i', &bg_n, "0", "", "Poisson background: external trains per neuron", 0, 1e6, NULL},
        {"bg-w", 'f', &bg_w, "0", "mV|nS", "Poisson background: weight (excitatory)", 0, 1e6, NULL},
        {"record-v", 'i', &nrec, "3", "", "neurons whose membrane potential is recorded", 0, 100, NULL},
        {"raster-ms", 'f', &raster_ms, "1000", "ms", "time shown in the raster", 1, 1e8, NULL},
        {"out", 's', &out, "plots/snn", "", "prefix of the pictures (PREFIX_raster.png, _rate, _hist)", 0, 0, NULL},
        {"spikes", 's', &spikes_path, NULL, "", "write every spike (time ms, neuron) to this TSV", 0, 0, NULL},
        {"no-plots", 'b', &no_plots, NULL, "", "skip the pictures (timing runs)", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"snn run", "", "simulate a spiking network (CUBA/COBA benchmark or your own E/I network)",
                   "Simulates an excitatory and an inhibitory population (80/20) with sparse random\n"
                   "connectivity and exponential synapses, exactly as ../shared/bench/brian_cuba.py\n"
                   "defines the Vogels & Abbott (2005) benchmarks.  Prints spikes, mean rate, synaptic\n"
                   "events and wall time (simulation only); draws a raster with the population rate,\n"
                   "the rate over the whole run and a histogram of single-neuron rates.\n"
                   "Threads: at most --threads, and one per 16k neurons (smaller networks run\n"
                   "faster on one core); results are identical for any thread count.",
                   "tinybrain snn run --preset coba --ms 1000"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN];
    snn_config cfg;
    if (snn_preset(&cfg, preset, n, k_in, err)) cli_die(2, "%s", err);
    cfg.dt = dt;
    cfg.seed = (uint64_t)seed;
    nrn_model m;
    if (nrn_model_parse(model, &m, err)) cli_die(2, "--model: %s", err);
    if (syn) {
        if (!strcmp(syn, "cuba")) cfg.syn = SYN_CUBA;
        else if (!strcmp(syn, "coba")) cfg.syn = SYN_COBA;
        else cli_die(2, "--syn: expected cuba|coba, got '%s'", syn);
    }
    for (int q = 0; q < 2; q++) {
        snn_pop *P = &cfg.pops[q];
        if (m != NRN_LIF) {
            const char *pr = q == 0 ? pe : pi;
            if (!pr && m == NRN_IZH) pr = q == 0 ? "RS" : "FS";
            if (nrn_params_default(&P->nrn, m, pr, err)) cli_die(2, "--preset-%c: %s", q ? 'i' : 'e', err);
            if (m == NRN_IZH || m == NRN_HH) { P->v_init_lo = -70; P->v_init_hi = -60; }
            if (m == NRN_ADEX) { P->v_init_lo = P->nrn.adex.e_l - 5; P->v_init_hi = P->nrn.adex.e_l; }
        } else if (pe || pi) {
            cli_die(2, "--preset-e/--preset-i need --model izh or adex");
        }
        P->bg_rate_hz = bg_rate;
        P->bg_n = bg_n;
        P->bg_w = bg_w;
    }
    if (!isnan(tau_e)) cfg.tau_e = tau_e;
    if (!isnan(tau_i)) cfg.tau_i = tau_i;
    for (int q = 0; q < cfg.n_proj; q++) {
        if (!isnan(p)) cfg.proj[q].p = p;
        if (cfg.proj[q].src == 0 && !isnan(we)) cfg.proj[q].w = we;
        if (cfg.proj[q].src == 1 && !isnan(wi)) cfg.proj[q].w = wi;
        cfg.proj[q].delay_ms = delay;
    }
    if (snn_config_check(&cfg, err)) cli_die(2, "%s", err);

    double t0 = now_s();
    snn_net *net;
    if (snn_build(&cfg, &net, err)) cli_die(1, "%s", err);
    double build_s = now_s() - t0;
    int N = snn_n_neurons(net), vidx[100], nth = snn_auto_threads(net, cli_threads);
    if (nrec > N) nrec = N;
    for (int r = 0; r < nrec; r++) vidx[r] = (int)((long long)r * N / (nrec ? nrec : 1));
    cli_note("%s: %d neurons, %lld synapses (%.1f MB), kernels %s, %d thread%s, simulating %g ms",
             preset, N, snn_n_synapses(net), snn_memory_bytes(net) / 1e6, snn_kernel_name(net),
             nth, nth > 1 ? "s" : "", ms);
    snn_result res;
    t0 = now_s();
    if (snn_run(net, ms, nth, 1, vidx, nrec, &res, err)) cli_die(1, "%s", err);
    double wall = now_s() - t0;

    int ne = cfg.pops[0].n, ni = N - ne;
    long long spk_e = 0;
    int *count = calloc((size_t)N, sizeof(int));
    if (!count) cli_die(1, "out of memory");
    for (long long k = 0; k < res.n_spikes; k++) { count[res.spk_idx[k]]++; spk_e += res.spk_idx[k] < ne; }
    double sec = res.sim_ms * 1e-3, rate = sec > 0 ? res.n_spikes / (N * sec) : 0;
    double rate_e = sec > 0 ? spk_e / (ne * sec) : 0, rate_i = sec > 0 ? (res.n_spikes - spk_e) / (ni * sec) : 0;

    if (spikes_path) {
        tb_atomic a;
        if (atomic_begin(&a, spikes_path, err)) cli_die(1, "%s", err);
        fprintf(a.f, "time_ms\tneuron\n");
        for (long long k = 0; k < res.n_spikes; k++)
            fprintf(a.f, "%.1f\t%d\n", (res.spk_step[k] + 1) * cfg.dt, res.spk_idx[k]);
        if (atomic_commit(&a, err)) cli_die(1, "%s", err);
        cli_note("wrote %s", spikes_path);
    }
    if (!no_plots && res.steps > 0) {
        char path[1100], dir[1024], name[256];
        snprintf(path, sizeof path, "%s_raster.png", out);
        if (draw_raster(path, &res, net, &cfg, fmin(raster_ms, res.sim_ms), 400, err)) cli_die(1, "%s", err);
        cli_note("wrote %s", path);
        const char *slash = strrchr(out, '/');
        if (slash) { snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out); snprintf(name, sizeof name, "%s", slash + 1); }
        else { snprintf(dir, sizeof dir, "."); snprintf(name, sizeof name, "%s", out); }
        /* population rate (E and I) in 5 ms bins over the whole run */
        double bin = 5;
        int nb = (int)ceil(res.sim_ms / bin);
        double *x = calloc((size_t)nb, sizeof(double)), *re = calloc((size_t)nb, sizeof(double)), *ri = calloc((size_t)nb, sizeof(double));
        if (!x || !re || !ri) cli_die(1, "out of memory");
        for (long long k = 0; k < res.n_spikes; k++) {
            int b = (int)(res.spk_step[k] * cfg.dt / bin);
            if (b >= nb) b = nb - 1;
            if (res.spk_idx[k] < ne) re[b] += 1; else ri[b] += 1;
        }
        for (int b = 0; b < nb; b++) { x[b] = (b + 0.5) * bin; re[b] /= ne * bin * 1e-3; ri[b] /= ni * bin * 1e-3; }
        tb_series s2[2] = {{"excitatory", x, re, nb, "lines"}, {"inhibitory", x, ri, nb, "lines"}};
        char nm[300], ttl[200];
        snprintf(nm, sizeof nm, "%s_rate", name);
        snprintf(ttl, sizeof ttl, "%s population rate (5 ms bins), mean %.2f Hz", preset, rate);
        tb_lineplot lp = {ttl, "time (ms)", "rate (Hz)", 0, 0, 0, NAN, 0, 0};
        int rendered = 0;
        if (plot_lines(dir, nm, &lp, s2, 2, &rendered, err)) cli_die(1, "%s", err);
        note_render(rendered, dir, nm);
        /* histogram of single-neuron rates, 1 Hz bins */
        double mx = 0;
        for (int i = 0; i < N; i++) if (count[i] / sec > mx) mx = count[i] / sec;
        int hb = (int)ceil(mx) + 1;
        double *hx = calloc((size_t)hb, sizeof(double)), *he = calloc((size_t)hb, sizeof(double)), *hi = calloc((size_t)hb, sizeof(double));
        if (!hx || !he || !hi) cli_die(1, "out of memory");
        for (int i = 0; i < N; i++) {
            int b = (int)(count[i] / sec);
            if (b >= hb) b = hb - 1;
            if (i < ne) he[b] += 1; else hi[b] += 1;
        }
        for (int b = 0; b < hb; b++) hx[b] = b;
        tb_series s3[2] = {{"excitatory", hx, he, hb, "steps"}, {"inhibitory", hx, hi, hb, "steps"}};
        snprintf(nm, sizeof nm, "%s_hist", name);
        snprintf(ttl, sizeof ttl, "%s: firing rates of single neurons over %g ms", preset, res.sim_ms);
        tb_lineplot lh = {ttl, "rate (Hz, 1 Hz bins)", "neurons", 0, 0, 0, NAN, 0, 0};
        if (plot_lines(dir, nm, &lh, s3, 2, &rendered, err)) cli_die(1, "%s", err);
        note_render(rendered, dir, nm);
        free(x); free(re); free(ri); free(hx); free(he); free(hi);
    }
    if (json) {
        json_begin();
        json_str("preset", preset);
        json_int("neurons", N);
        json_int("synapses", snn_n_synapses(net));
        json_int("spikes", res.n_spikes);
        json_num("mean_rate_hz", rate);
        json_num("rate_exc_hz", rate_e);
        json_num("rate_inh_hz", rate_i);
        json_int("synaptic_events", res.syn_events);
        json_num("sim_ms", res.sim_ms);
        json_num("wall_s", wall);
        json_num("build_s", build_s);
        json_int("threads", nth);
        json_str("kernels", snn_kernel_name(net));
        json_int("seed", seed);
        json_end();
    } else {
        printf("network      %s, %d neurons (%d E, %d I), %lld synapses\n", preset, N, ne, ni, snn_n_synapses(net));
        printf("simulated    %.0f ms in %.3f s wall (%.3f s per biological s; build %.3f s)\n",
               res.sim_ms, wall, sec > 0 ? wall / sec : 0, build_s);
        printf("spikes       %lld\n", res.n_spikes);
        printf("mean rate    %.3f Hz (E %.3f Hz, I %.3f Hz)\n", rate, rate_e, rate_i);
        printf("syn. events  %lld (%.3g per s of wall time)\n", res.syn_events, wall > 0 ? res.syn_events / wall : 0);
        printf("kernels      %s, %d thread%s\n", snn_kernel_name(net), nth, nth > 1 ? "s" : "");
        for (int r = 0; r < nrec && res.steps > 0; r++) {
            double mv = 0;
            for (long k = 0; k < res.steps; k++) mv += res.vrec[(size_t)r * res.steps + k];
            printf("neuron %-5d mean v %.2f mV, %d spikes\n", vidx[r], mv / res.steps, count[vidx[r]]);
        }
    }
    free(count);
    snn_result_free(&res);
    snn_free(net);
    return 0;
}

/* ---- snn stdp ----------------------------------------------------------------------- */

static int snn_stdp_main(int argc, char **argv) {
    const char *rule_s, *out;
    double ap, am, tp, tm, wmax, ms, rate, vth, w0;
    int n_in, n_pat, json;
    long long seed;
    stdp_pattern_cfg pc;
    stdp_pattern_default(&pc);
    cli_opt opts[] = {
        {"rule", 'c', &rule_s, "additive", "", "STDP variant", 0, 0, "additive|multiplicative"},
        {"a-plus", 'f', &ap, "0.01", "", "potentiation amplitude A+ (units of w; a fraction if multiplicative)", 0, 1, NULL},
        {"a-minus", 'f', &am, "0.0115", "", "depression amplitude A-", 0, 1, NULL},
        {"tau-plus", 'f', &tp, "20", "ms", "pre-trace time constant", 0, 1000, NULL},
        {"tau-minus", 'f', &tm, "20", "ms", "post-trace time constant", 0, 1000, NULL},
        {"w-max", 'f', &wmax, "1", "mV", "upper weight bound (lower bound 0)", 0, 1000, NULL},
        {"w0", 'f', &w0, "0.3", "mV", "initial weight", 0, 1000, NULL},
        {"ms", 'f', &ms, "300000", "ms", "training time of the pattern demo", 100, 1e8, NULL},
        {"n-in", 'i', &n_in, "500", "", "afferents", 2, 1e6, NULL},
        {"n-pattern", 'i', &n_pat, "250", "", "afferents taking part in the repeated pattern", 1, 1e6, NULL},
        {"rate", 'f', &rate, "20", "Hz", "Poisson rate of every afferent", 0, 1000, NULL},
        {"v-th", 'f', &vth, "30", "mV", "threshold above rest of the learning LIF neuron", 0, 1e4, NULL},
        {"seed", 'l', &seed, "1", "", "random seed", 0, 0, NULL},
        {"out", 's', &out, "plots/stdp", "", "prefix of the pictures", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"snn stdp", "", "STDP: the measured learning window, and a neuron learning a repeated pattern",
                   "Part 1 plays single pre/post spike pairs at dt = -100..100 ms through the trace\n"
                   "implementation and plots the weight change against the rule's formula.\n"
                   "Part 2 feeds one LIF neuron with Poisson afferents; in 25% of the 50 ms windows\n"
                   "the first --n-pattern of them replay one frozen spike pattern (same rates, only\n"
                   "the timing repeats).  STDP makes the neuron fire in the pattern and rarely\n"
                   "elsewhere: printed as hit rate and false alarms over training, and pictured.",
                   "tinybrain snn stdp --ms 300000"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    char err[TB_ERRLEN];
    stdp_rule r = {ap, am, tp, tm, 0, wmax, !strcmp(rule_s, "multiplicative")};
    if (stdp_rule_check(&r, 0.1, err)) cli_die(2, "%s", err);
    char dir[1024], name[256], nm[300];
    const char *slash = strrchr(out, '/');
    if (slash) { snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out); snprintf(name, sizeof name, "%s", slash + 1); }
    else { snprintf(dir, sizeof dir, "."); snprintf(name, sizeof name, "%s", out); }

    /* 1. the window */
    enum { NW = 101 };
    double dts[NW], dw[NW], curve_x[401], curve_y[401];
    double wref = r.multiplicative ? 0.5 * wmax : w0;
    for (int k = 0; k < NW; k++) dts[k] = -100 + 2.0 * k;
    if (stdp_measure_window(&r, wref, 0.1, dts, NW, dw, err)) cli_die(1, "%s", err);
    for (int k = 0; k < 401; k++) {
        curve_x[k] = -100 + 0.5 * k;
        curve_y[k] = stdp_window(&r, curve_x[k], wref);
    }
    /* fit the time constants back from the measured points (log-linear, |dt| >= 2 ms) */
    double fit_p = NAN, fit_m = NAN;
    {
        double sx = 0, sy = 0, sxx = 0, sxy = 0; int c = 0;
        for (int k = 0; k < NW; k++) if (dts[k] > 0 && dw[k] > 0) { double y = log(dw[k]); sx += dts[k]; sy += y; sxx += dts[k] * dts[k]; sxy += dts[k] * y; c++; }
        if (c > 2) fit_p = -1 / ((c * sxy - sx * sy) / (c * sxx - sx * sx));
        sx = sy = sxx = sxy = 0; c = 0;
        for (int k = 0; k < NW; k++) if (dts[k] < 0 && dw[k] < 0) { double y = log(-dw[k]); sx += dts[k]; sy += y; sxx += dts[k] * dts[k]; sxy += dts[k] * y; c++; }
        if (c > 2) fit_m = 1 / ((c * sxy - sx * sy) / (c * sxx - sx * sx));
    }
    tb_series sw[2] = {{"measured (one pair through the trace code)", dts, dw, NW, "points"},
                       {"rule: A+ exp(-dt/tau+), -A- exp(dt/tau-)", curve_x, curve_y, 401, "lines"}};
    char ttl[200];
    snprintf(ttl, sizeof ttl, "STDP window (%s, w = %g)", rule_s, wref);
    tb_lineplot lw = {ttl, "t_post - t_pre (ms)", "weight change", 0, 0, NAN, NAN, 0, 0};
    int rendered = 0;
    snprintf(nm, sizeof nm, "%s_window", name);
    if (plot_lines(dir, nm, &lw, sw, 2, &rendered, err)) cli_die(1, "%s", err);
    note_render(rendered, dir, nm);

    /* 2. the pattern */
    pc.rule = r;
    pc.t_ms = ms;
    pc.n_in = n_in;
    pc.n_pattern = n_pat;
    pc.rate_hz = rate;
    pc.v_th = vth;
    pc.w0 = w0;
    pc.seed = (uint64_t)seed;
    stdp_pattern_result res;
    double t0 = now_s();
    if (stdp_pattern_run(&pc, &res, err)) cli_die(2, "%s", err);
    double wall = now_s() - t0;
    int parts = 5;
    double hit[5], fa[5], lat[5];
    for (int q = 0; q < parts; q++) {
        int a = res.n_windows * q / parts, b = res.n_windows * (q + 1) / parts, npat = 0, h = 0, nb = 0, f = 0, nl = 0;
        double l = 0;
        for (int w = a; w < b; w++) {
            if (res.is_pattern[w]) { npat++; if (res.n_post[w]) { h++; l += res.latency[w]; nl++; } }
            else { nb++; f += res.n_post[w]; }
        }
        hit[q] = npat ? (double)h / npat : NAN;
        fa[q] = nb ? f / (nb * pc.pattern_ms * 1e-3) : NAN;
        lat[q] = nl ? l / nl : NAN;
    }
    /* pictures: mean weights over time; final weight of every afferent */
    snprintf(nm, sizeof nm, "%s_weights", name);
    tb_series sx2[2] = {{"pattern afferents", res.snap_t, res.w_pat, res.n_snap, "lines"},
                        {"other afferents", res.snap_t, res.w_bg, res.n_snap, "lines"}};
    double *tsec = malloc((size_t)res.n_snap * sizeof(double));
    if (!tsec) cli_die(1, "out of memory");
    for (int k = 0; k < res.n_snap; k++) tsec[k] = res.snap_t[k] / 1000;
    sx2[0].x = sx2[1].x = tsec;
    tb_lineplot lx = {"STDP learns the repeated pattern: mean weight", "training time (s)", "mean weight (mV)", 0, 0, 0, NAN, 0, 0};
    if (plot_lines(dir, nm, &lx, sx2, 2, &rendered, err)) cli_die(1, "%s", err);
    note_render(rendered, dir, nm);
    /* latency and spikes per window over training, as a canvas picture */
    {
        tb_canvas cv;
        if (canvas_init(&cv, 1000, 560, err)) cli_die(1, "%s", err);
        double T = res.n_windows * pc.pattern_ms / 1000;
        snn_chart c1 = {70, 30, 900, 200, 0, T, 0, pc.pattern_ms};
        snn_chart_axes(&cv, &c1, "training time (s)", "latency (ms)",
                       "first output spike after pattern onset (dots: pattern windows that got a spike)");
        static const unsigned char RED[3] = {200, 30, 30}, BLUE[3] = {30, 60, 200};
        for (int w = 0; w < res.n_windows; w++)
            if (res.is_pattern[w] && res.n_post[w])
                canvas_rect(&cv, snn_chart_px(&c1, w * pc.pattern_ms / 1000), snn_chart_py(&c1, res.latency[w]) - 1, 2, 2, RED);
        snn_chart c2 = {70, 300, 900, 200, 0, n_in, 0, wmax};
        snn_chart_axes(&cv, &c2, "afferent (pattern afferents first)", "final weight (mV)",
                       "weights after training (red: in the pattern, blue: not)");
        for (int i = 0; i < n_in; i++)
            canvas_rect(&cv, snn_chart_px(&c2, i + 0.5), snn_chart_py(&c2, res.w_final[i]) - 1, 2, 2, i < n_pat ? RED : BLUE);
        char path[1100];
        snprintf(path, sizeof path, "%s_learning.png", out);
        if (canvas_save_png(&cv, path, err)) cli_die(1, "%s", err);
        canvas_free(&cv);
        cli_note("wrote %s", path);
    }
    double wp = res.w_pat[res.n_snap - 1], wb = res.w_bg[res.n_snap - 1];
    if (json) {
        json_begin();
        json_str("rule", rule_s);
        json_num("tau_plus_fit_ms", fit_p);
        json_num("tau_minus_fit_ms", fit_m);
        json_num_array("hit_rate", hit, parts);
        json_num_array("false_alarms_hz", fa, parts);
        json_num_array("latency_ms", lat, parts);
        json_num("w_pattern", wp);
        json_num("w_other", wb);
        json_int("post_spikes", res.post_spikes);
        json_num("sim_ms", res.n_windows * pc.pattern_ms);
        json_num("wall_s", wall);
        json_end();
    } else {
        printf("window       measured tau+ %.2f ms (rule %g), tau- %.2f ms (rule %g); dw(+10 ms) %+.5f, dw(-10 ms) %+.5f\n",
               fit_p, tp, fit_m, tm, dw[55], dw[45]);
        printf("pattern      %d afferents (%d in the pattern) at %g Hz, %g s of training, %lld output spikes, %.2f s wall\n",
               n_in, n_pat, rate, res.n_windows * pc.pattern_ms / 1000, res.post_spikes, wall);
        printf("%-12s %10s %14s %14s\n", "training", "hit rate", "false alarms", "latency");
        for (int q = 0; q < parts; q++)
            printf("%3d-%3d%%     %10.2f %11.2f Hz %11.1f ms\n", 100 * q / parts, 100 * (q + 1) / parts, hit[q], fa[q], lat[q]);
        printf("weights      pattern afferents %.3f mV, others %.3f mV (started at %g)\n", wp, wb, w0);
    }
    free(tsec);
    stdp_pattern_free(&res);
    return 0;
}

int cmd_snn(int argc, char **argv) {
    cli_cmd_name = "snn";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: tinybrain snn run|stdp [options]   (tinybrain snn run --help)\n\n"
                   "  run    simulate a spiking network (CUBA/COBA benchmarks, E/I populations)\n"
                   "  stdp   spike-timing-dependent plasticity: window and pattern learning\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run")) return snn_run_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "stdp")) return snn_stdp_main(argc - 1, argv + 1);
    cli_die(2, "unknown subcommand '%s' (expected run|stdp)", argv[1]);
}
