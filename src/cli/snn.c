/* snn.c -- `tinybrain snn run|stdp`: spiking networks (lesson 04) and STDP (lesson 05).
 * The network setup and measurements are snn.h's, the STDP experiments stdp.h's, the
 * pictures snn_plot.h's; the benchmark numbers come from snn_presets[]. */
#include "bench.h"
#include "cli.h"
#include "commands.h"
#include "snn_plot.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note_picture(const tb_picture *pic) {
    if (pic->rendered) cli_note("wrote %s", pic->path);
    else cli_note("gnuplot not found: render with gnuplot %s", pic->path);
}

/* ---- snn run ------------------------------------------------------------------------ */

typedef struct {
    snn_setup su;
    const char *plots, *name, *spikes;
    char *out;   /* PLOTS/NAME: the pictures' prefix */
    double ms, raster_ms;
    int nrec, no_plots, json;
} run_args;

/* What a run took: wall seconds of building and simulating, threads, recorded neurons
 * (at most MAX_REC: --record-v's upper bound). */
enum { MAX_REC = 100 };
typedef struct { double build_s, wall_s; int threads, nrec, vidx[MAX_REC]; } run_cost;

/* "HELP (default: cuba 0.02, coba 0.02)" for the number at `field` of snn_preset_info;
 * weights get their unit (mV in CUBA, nS in COBA). */
static char *preset_help(char *buf, size_t n, const char *help, size_t field, int weight) {
    size_t len = (size_t)snprintf(buf, n, "%s (default:", help);
    for (int i = 0; i < SNN_N_PRESETS && len < n; i++) {
        const snn_preset_info *b = &snn_presets[i];
        const char *unit = !weight ? "" : b->syn == SYN_CUBA ? " mV" : " nS";
        len += (size_t)snprintf(buf + len, n - len, "%s %s %g%s", i ? "," : "", b->name,
                                *(const double *)((const char *)b + field), unit);
    }
    if (len < n) snprintf(buf + len, n - len, ")");
    return buf;
}

static void run_parse(int argc, char **argv, run_args *a) {
    snn_setup *s = &a->su;
    snn_setup_default(s);
    char h[6][200], n_def[16];
    snprintf(n_def, sizeof n_def, "%d", snn_presets[0].n);
    cli_opt opts[] = {
        {"preset", 'c', &s->preset, "cuba", "", "network: the Vogels-Abbott benchmark (cuba|coba) as Brian2's script defines it", 0, 0, "cuba|coba"},
        {"n", 'i', &s->n, n_def, "", "neurons (80% excitatory)", 5, 5e7, NULL},
        {"ms", 'f', &a->ms, "1000", "ms", "biological time to simulate", 0, 1e8, NULL},
        {"dt", 'f', &s->dt, NULL, "ms", preset_help(h[0], 200, "time step", offsetof(snn_preset_info, dt), 0), 0.001, 1, NULL},
        {"seed", 'l', &s->seed, "1", "", "random seed (connectivity, initial state, background)", 0, 0, NULL},
        {"k-in", 'i', &s->k_in, "0", "", "fixed in-degree instead of the 2% probability (0: probability)", 0, 1e6, NULL},
        {"p", 'f', &s->p, NULL, "", preset_help(h[1], 200, "connection probability", offsetof(snn_preset_info, p), 0), 0, 1, NULL},
        {"model", 'c', &s->model, "lif", "", "neuron model of both populations", 0, 0, "lif|izh|adex|hh"},
        {"preset-e", 's', &s->preset_e, NULL, "", "neuron preset of the excitatory population (izh: RS..., adex: tonic...)", 0, 0, NULL},
        {"preset-i", 's', &s->preset_i, NULL, "", "neuron preset of the inhibitory population (izh default FS)", 0, 0, NULL},
        {"syn", 's', &s->syn, NULL, "", "synapses cuba|coba (default: the preset's)", 0, 0, NULL},
        {"we", 'f', &s->we, NULL, "mV|nS", preset_help(h[2], 200, "excitatory weight", offsetof(snn_preset_info, we), 1), 0, 1e6, NULL},
        {"wi", 'f', &s->wi, NULL, "mV|nS", preset_help(h[3], 200, "inhibitory weight magnitude, Dale's law sets the sign", offsetof(snn_preset_info, wi), 1), 0, 1e6, NULL},
        {"tau-e", 'f', &s->tau_e, NULL, "ms", preset_help(h[4], 200, "excitatory synaptic time constant", offsetof(snn_preset_info, tau_e), 0), 0, 1000, NULL},
        {"tau-i", 'f', &s->tau_i, NULL, "ms", preset_help(h[5], 200, "inhibitory synaptic time constant", offsetof(snn_preset_info, tau_i), 0), 0, 1000, NULL},
        {"delay", 'f', &s->delay_ms, "0", "ms", "synaptic delay of every projection (ring buffer)", 0, 1000, NULL},
        {"bg-rate", 'f', &s->bg_rate_hz, "0", "Hz", "Poisson background: rate of each external train", 0, 1e5, NULL},
        {"bg-n", 'i', &s->bg_n, "0", "", "Poisson background: external trains per neuron", 0, 1e6, NULL},
        {"bg-w", 'f', &s->bg_w, "0", "mV|nS", "Poisson background: weight (excitatory)", 0, 1e6, NULL},
        {"record-v", 'i', &a->nrec, "3", "", "neurons whose membrane potential is recorded", 0, MAX_REC, NULL},
        {"raster-ms", 'f', &a->raster_ms, "1000", "ms", "time shown in the raster", 1, 1e8, NULL},
        {"plots", 's', &a->plots, TB_PLOTS_DIR, "", "folder for the pictures", 0, 0, NULL},
        {"name", 's', &a->name, "snn", "", "file names of the pictures: NAME_raster.png, NAME_rate, NAME_hist", 0, 0, NULL},
        {"spikes", 's', &a->spikes, NULL, "", "write every spike (time ms, neuron) to this TSV", 0, 0, NULL},
        {"no-plots", 'b', &a->no_plots, NULL, "", "skip the pictures (timing runs)", 0, 0, NULL},
        {"json", 'b', &a->json, NULL, "", "print one JSON object", 0, 0, NULL},
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
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    a->out = cli_strf("%s/%s", a->plots, a->name);
}


static void run_print(const run_args *a, const char *label, const snn_net *net, const snn_result *res,
                      const snn_summary *s, const run_cost *c) {
    const char *preset = a->su.preset, *kernels = snn_kernel_name(net);
    if (a->json) {
        json_begin();
        json_str("preset", preset);
        json_int("neurons", s->n);
        json_int("synapses", snn_n_synapses(net));
        json_int("spikes", res->n_spikes);
        json_num("mean_rate_hz", s->rate_hz);
        json_num("rate_exc_hz", s->rate_e_hz);
        json_num("rate_inh_hz", s->rate_i_hz);
        json_int("synaptic_events", res->syn_events);
        json_num("sim_ms", res->sim_ms);
        json_num("wall_s", c->wall_s);
        json_num("build_s", c->build_s);
        json_int("threads", c->threads);
        json_str("kernels", kernels);
        json_int("seed", a->su.seed);
        json_end();
        return;
    }
    double sec = res->sim_ms * 1e-3, wall = c->wall_s;
    printf("network      %s, %d neurons (%d E, %d I), %lld synapses\n", label, s->n, s->n_exc, s->n - s->n_exc,
           snn_n_synapses(net));
    printf("simulated    %.0f ms in %.3f s wall (%.3f s per biological s; build %.3f s)\n",
           res->sim_ms, wall, sec > 0 ? wall / sec : 0, c->build_s);
    printf("spikes       %lld\n", res->n_spikes);
    printf("mean rate    %.3f Hz (E %.3f Hz, I %.3f Hz)\n", s->rate_hz, s->rate_e_hz, s->rate_i_hz);
    printf("syn. events  %lld (%.3g per s of wall time)\n", res->syn_events, wall > 0 ? res->syn_events / wall : 0);
    printf("kernels      %s, %d thread%s\n", kernels, c->threads, c->threads > 1 ? "s" : "");
    for (int r = 0; r < c->nrec && res->steps > 0; r++)
        printf("neuron %-5d mean v %.2f mV, %d spikes\n", c->vidx[r], snn_vrec_mean(res, r), s->count[c->vidx[r]]);
}

/* What the table and the pictures call the network: the preset ("cuba"), or, when the
 * neurons were changed, which neurons with which synapses ("izh RS/FS neurons, cuba
 * synapses"), so a picture never names the benchmark it no longer is. */
static const char *network_label(const snn_setup *su, char *buf, size_t n) {
    if (!su->model || !strcmp(su->model, "lif")) return su->preset;
    int izh = !strcmp(su->model, "izh"), adex = !strcmp(su->model, "adex");
    const char *pe = su->preset_e ? su->preset_e : izh ? "RS" : adex ? "adapting" : NULL;
    const char *pi = su->preset_i ? su->preset_i : izh ? "FS" : adex ? "adapting" : NULL;
    const char *syn = su->syn ? su->syn : su->preset;
    if (pe && pi) snprintf(buf, n, "%s %s/%s neurons, %s synapses", su->model, pe, pi, syn);
    else snprintf(buf, n, "%s neurons, %s synapses", su->model, syn);
    return buf;
}

static int snn_run_main(int argc, char **argv) {
    run_args a;
    run_parse(argc, argv, &a);
    char err[TB_ERRLEN];
    snn_config cfg;
    if (snn_setup_config(&a.su, &cfg, err)) cli_die(2, "%s", err);
    /* build */
    run_cost c;
    double t0 = bench_now_s();
    snn_net *net;
    if (snn_build(&cfg, &net, err)) cli_die(1, "%s", err);
    c.build_s = bench_now_s() - t0;
    int N = snn_n_neurons(net);
    c.threads = snn_auto_threads(net, cli_threads);
    c.nrec = a.nrec < N ? a.nrec : N;
    for (int r = 0; r < c.nrec; r++) c.vidx[r] = (int)((long long)r * N / c.nrec);   /* spread over the net */
    char label[120];
    cli_note("%s: %d neurons, %lld synapses (%.1f MB), kernels %s, %d thread%s, simulating %g ms",
             network_label(&a.su, label, sizeof label), N, snn_n_synapses(net), snn_memory_bytes(net) / 1e6, snn_kernel_name(net),
             c.threads, c.threads > 1 ? "s" : "", a.ms);
    /* simulate and measure */
    snn_result res;
    t0 = bench_now_s();
    if (snn_run(net, a.ms, c.threads, 1, c.vidx, c.nrec, &res, err)) cli_die(1, "%s", err);
    c.wall_s = bench_now_s() - t0;
    snn_summary sum;
    if (snn_summarize(&res, &cfg, &sum, err)) cli_die(1, "%s", err);
    /* files */
    if (a.spikes) {
        if (snn_write_spikes(a.spikes, &res, cfg.dt, err)) cli_die(1, "%s", err);
        cli_note("wrote %s", a.spikes);
    }
    if (!a.no_plots && res.steps > 0) {
        tb_picture pics[SNN_RUN_PICTURES];
        if (snn_plot_run(a.out, network_label(&a.su, label, sizeof label), &cfg, &res, &sum, a.raster_ms, pics, err))
            cli_die(1, "%s", err);
        for (int k = 0; k < SNN_RUN_PICTURES; k++) note_picture(&pics[k]);
    }
    run_print(&a, network_label(&a.su, label, sizeof label), net, &res, &sum, &c);
    snn_summary_free(&sum);
    snn_result_free(&res);
    snn_free(net);
    return 0;
}

/* ---- snn stdp ----------------------------------------------------------------------- */

typedef struct {
    stdp_pattern_cfg pc;
    const char *rule, *plots, *name;
    char *out;   /* PLOTS/NAME: the pictures' prefix */
    long long seed;
    int json;
} stdp_args;

static void stdp_parse(int argc, char **argv, stdp_args *a) {
    stdp_pattern_cfg *c = &a->pc;
    stdp_pattern_default(c);
    /* the defaults as text for --help; each is a short decimal, so it reads back exactly */
    char d[12][24];
#define DEF(i, v) (snprintf(d[i], sizeof d[i], "%g", (double)(v)), d[i])
    cli_opt opts[] = {
        {"rule", 'c', &a->rule, c->rule.multiplicative ? "multiplicative" : "additive", "", "STDP variant", 0, 0, "additive|multiplicative"},
        {"a-plus", 'f', &c->rule.a_plus, DEF(0, c->rule.a_plus), "", "potentiation amplitude A+ (units of w; a fraction if multiplicative)", 0, 1, NULL},
        {"a-minus", 'f', &c->rule.a_minus, DEF(1, c->rule.a_minus), "", "depression amplitude A-", 0, 1, NULL},
        {"tau-plus", 'f', &c->rule.tau_plus, DEF(2, c->rule.tau_plus), "ms", "pre-trace time constant", 0, 1000, NULL},
        {"tau-minus", 'f', &c->rule.tau_minus, DEF(3, c->rule.tau_minus), "ms", "post-trace time constant", 0, 1000, NULL},
        {"w-max", 'f', &c->rule.w_max, DEF(4, c->rule.w_max), "mV", "upper weight bound (lower bound 0)", 0, 1000, NULL},
        {"w0", 'f', &c->w0, DEF(5, c->w0), "mV", "initial weight", 0, 1000, NULL},
        {"ms", 'f', &c->t_ms, DEF(6, c->t_ms), "ms", "training time of the pattern demo", 100, 1e8, NULL},
        {"n-in", 'i', &c->n_in, DEF(7, c->n_in), "", "afferents", 2, 1e6, NULL},
        {"n-pattern", 'i', &c->n_pattern, DEF(8, c->n_pattern), "", "afferents taking part in the repeated pattern", 1, 1e6, NULL},
        {"rate", 'f', &c->rate_hz, DEF(9, c->rate_hz), "Hz", "Poisson rate of every afferent", 0, 1000, NULL},
        {"v-th", 'f', &c->v_th, DEF(10, c->v_th), "mV", "threshold above rest of the learning LIF neuron", 0, 1e4, NULL},
        {"seed", 'l', &a->seed, DEF(11, c->seed), "", "random seed", 0, 0, NULL},
        {"plots", 's', &a->plots, TB_PLOTS_DIR, "", "folder for the pictures", 0, 0, NULL},
        {"name", 's', &a->name, "stdp", "", "file names of the pictures: NAME_window.png, ...", 0, 0, NULL},
        {"json", 'b', &a->json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
#undef DEF
    cli_cmd cmd = {"snn stdp", "", "STDP: the measured learning window, and a neuron learning a repeated pattern",
                   "Part 1 plays single pre/post spike pairs at dt = -100..100 ms through the trace\n"
                   "implementation and plots the weight change against the rule's formula.\n"
                   "Part 2 feeds one LIF neuron with Poisson afferents; in 25% of the 50 ms windows\n"
                   "the first --n-pattern of them replay one frozen spike pattern (same rates, only\n"
                   "the timing repeats).  STDP makes the neuron fire in the pattern and rarely\n"
                   "elsewhere: printed as hit rate and false alarms over training, and pictured.",
                   "tinybrain snn stdp --ms 300000"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    a->out = cli_strf("%s/%s", a->plots, a->name);
    c->rule.multiplicative = !strcmp(a->rule, "multiplicative");
    c->seed = (uint64_t)a->seed;
}

enum { PARTS = 5 };   /* training is reported in fifths */

static void stdp_print(const stdp_args *a, const stdp_window_result *win, const stdp_pattern_result *res,
                       const double *hit, const double *fa, const double *lat, double wall) {
    const stdp_pattern_cfg *c = &a->pc;
    double wp = res->w_pat[res->n_snap - 1], wb = res->w_bg[res->n_snap - 1], sim_ms = res->n_windows * c->pattern_ms;
    if (a->json) {
        json_begin();
        json_str("rule", a->rule);
        json_num("tau_plus_fit_ms", win->tau_plus_fit);
        json_num("tau_minus_fit_ms", win->tau_minus_fit);
        json_num_array("hit_rate", hit, PARTS);
        json_num_array("false_alarms_hz", fa, PARTS);
        json_num_array("latency_ms", lat, PARTS);
        json_num("w_pattern", wp);
        json_num("w_other", wb);
        json_int("post_spikes", res->post_spikes);
        json_num("sim_ms", sim_ms);
        json_num("wall_s", wall);
        json_end();
        return;
    }
    printf("window       measured tau+ %.2f ms (rule %g), tau- %.2f ms (rule %g); dw(+10 ms) %+.5f, dw(-10 ms) %+.5f\n",
           win->tau_plus_fit, c->rule.tau_plus, win->tau_minus_fit, c->rule.tau_minus, win->dw_plus10, win->dw_minus10);
    printf("pattern      %d afferents (%d in the pattern) at %g Hz, %g s of training, %lld output spikes, %.2f s wall\n",
           c->n_in, c->n_pattern, c->rate_hz, sim_ms / 1000, res->post_spikes, wall);
    printf("%-12s %10s %14s %14s\n", "training", "hit rate", "false alarms", "latency");
    for (int q = 0; q < PARTS; q++) {  /* latency: "-" when no pattern window got a spike */
        printf("%3d-%3d%%     %10.2f %11.2f Hz ", 100 * q / PARTS, 100 * (q + 1) / PARTS, hit[q], fa[q]);
        if (isnan(lat[q])) printf("%11s ms\n", "-");
        else printf("%11.1f ms\n", lat[q]);
    }
    printf("(hit rate: share of pattern windows with an output spike; latency: of the first one after\n"
           " the pattern's onset, mean over the windows that got one)\n");
    printf("weights      pattern afferents %.3f mV, others %.3f mV (started at %g)\n", wp, wb, c->w0);
}

static int snn_stdp_main(int argc, char **argv) {
    stdp_args a;
    stdp_parse(argc, argv, &a);
    char err[TB_ERRLEN];
    if (stdp_rule_check(&a.pc.rule, STDP_WINDOW_DT, err)) cli_die(2, "%s", err);
    /* 1. the window */
    stdp_window_result win;
    if (stdp_window_experiment(&a.pc.rule, a.pc.w0, &win, err)) cli_die(1, "%s", err);
    /* 2. the pattern */
    stdp_pattern_result res;
    double t0 = bench_now_s();
    if (stdp_pattern_run(&a.pc, &res, err)) cli_die(2, "%s", err);
    double wall = bench_now_s() - t0;
    double hit[PARTS], fa[PARTS], lat[PARTS];
    stdp_pattern_progress(&res, a.pc.pattern_ms, PARTS, hit, fa, lat);
    tb_picture pics[STDP_PICTURES];
    if (stdp_plot_run(a.out, a.rule, &win, &a.pc, &res, pics, err)) cli_die(1, "%s", err);
    for (int k = 0; k < STDP_PICTURES; k++) note_picture(&pics[k]);
    stdp_print(&a, &win, &res, hit, fa, lat, wall);
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
