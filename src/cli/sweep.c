/* sweep.c -- `tinybrain sweep --vary FLAG=v1,v2 [--vary ...] --seeds N --jobs J [-- flags]`:
 * train every combination, cached, and tabulate.  Lessons 15 and 17.
 *
 * Each run is `tinybrain train` (or train-snn with --model snn) in its own folder under
 * --out (include/sweep.h).  The table has one row per configuration: the varied values,
 * and validation loss, excess over the floor and minimal pairs as a mean with a 95%
 * interval across seeds, then (sweep_measure, in the library) the minimal pairs by
 * phenomenon, fact recall and, with --brain, alignment with the brain layer by layer;
 * --json adds every run.  A plot per varied flag shows the loss against the flag's values
 * with the seed interval as a band (and with --brain the best layer's RSA).
 */
#include "cli.h"
#include "commands.h"
#include "plot.h"
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { S_VAL, S_EXCESS, S_PAIRS, S_RATE, S_N };
static const char *const s_key[S_N] = {"val_loss", "excess_nats", "minimal_pair_acc", "mean_rate_hz"};

static double run_value(const sweep_run *r, int k) {
    switch (k) {
    case S_VAL: return r->val_loss;
    case S_EXCESS: return r->excess_nats;
    case S_PAIRS: return r->minimal_pair_acc;
    default: return r->mean_rate_hz;
    }
}

/* A number of one run: its k-th training score (S_*), or (k >= S_N) a measured one. */
typedef double (*run_get)(const sweep_run *r, int k);

static double phenomenon(const sweep_run *r, int k) { return k < r->n_kinds ? r->kind[k].acc : NAN; }
static double fact(const sweep_run *r, int k) { (void)k; return r->fact_acc; }
static double layer_rsa(const sweep_run *r, int l) { return l < r->n_layers ? r->rsa[l] : NAN; }
static double layer_untrained(const sweep_run *r, int l) { return l < r->n_layers ? r->rsa_untrained[l] : NAN; }
static double layer_gain(const sweep_run *r, int l) { return l < r->n_layers ? r->rsa[l] - r->rsa_untrained[l] : NAN; }
/* The best layer's RSA: trained (k = 0) or untrained (k = 1), each its own best. */
static double best_rsa(const sweep_run *r, int k) {
    const double *v = k ? r->rsa_untrained : r->rsa;
    double b = NAN;
    for (int l = 0; l < r->n_layers; l++)
        if (!isnan(v[l]) && (isnan(b) || v[l] > b)) b = v[l];
    return b;
}
static double best_untrained(const sweep_run *r, int k) { (void)k; return best_rsa(r, 1); }

/* Mean and seed interval of get(run, k) over configuration c's runs (seeds-fastest:
 * runs[c * per .. c * per + per - 1]); failed runs are left out. */
static void config_stat(const sweep_run *runs, int per, int c, run_get get, int k, double *m, double *lo, double *hi) {
    double *x = malloc((size_t)per * sizeof *x);
    if (!x) cli_die(1, "out of memory");
    for (int i = 0; i < per; i++) x[i] = runs[c * per + i].status == 0 ? get(&runs[c * per + i], k) : NAN;
    sweep_mean_ci(x, per, m, lo, hi);
    free(x);
}

/* "0.1234 [0.1000, 0.1500]" (or just the mean with one seed) into b[64]. */
static void cell(double m, double lo, double hi, char *b) {
    if (isnan(lo)) snprintf(b, 64, "%.4f", m);
    else snprintf(b, 64, "%.4f [%.4f, %.4f]", m, lo, hi);
}

static void progress(void *ctx, int done, int total, const sweep_run *r) {
    (void)ctx;
    if (r->status) cli_note("run failed (exit %d): %s/train.log says why", r->status, r->dir);
    cli_progress(done, total, "runs trained");
}

/* The first run that was measured (the names of its phenomena and layers head the
 * columns), or NULL. */
static const sweep_run *measured(const sweep_run *runs, int n) {
    for (int i = 0; i < n; i++)
        if (runs[i].status == 0 && (runs[i].n_kinds || runs[i].n_layers)) return &runs[i];
    return NULL;
}

static void config_label(const sweep_plan *p, const sweep_run *runs, int per, int c) {
    for (int a = 0; a < p->n_axes; a++) printf("%-12s", runs[c * per].value[a]);
}

/* "  2/3 (cached)": configuration c's finished runs. */
static void runs_cell(const sweep_run *runs, int per, int c) {
    int ok = 0, cached = 0;
    for (int i = 0; i < per; i++) { ok += runs[c * per + i].status == 0; cached += runs[c * per + i].cached; }
    printf("  %d/%d%s", ok, per, cached ? " (cached)" : "");
}

/* One table: a row per configuration, a column per get(., k) for k < ncol (and, with
 * count, the runs that finished). */
static void stat_table(const sweep_plan *p, const sweep_run *runs, int n, int per, const char *const *head, int ncol,
                       run_get get, int count) {
    for (int a = 0; a < p->n_axes; a++) printf("%-12s", p->axis[a].flag);
    for (int k = 0; k < ncol; k++) printf("  %-26s", head[k]);
    printf(count ? "  runs\n" : "\n");
    for (int c = 0; c < n / per; c++) {
        config_label(p, runs, per, c);
        for (int k = 0; k < ncol; k++) {
            double m, lo, hi;
            char b[64];
            config_stat(runs, per, c, get, k, &m, &lo, &hi);
            cell(m, lo, hi, b);
            printf("  %-26s", b);
        }
        if (count) runs_cell(runs, per, c);
        printf("\n");
    }
}

static double training_score(const sweep_run *r, int k) { return run_value(r, k); }

/* Minimal pairs by phenomenon and fact recall, then alignment with the brain by layer. */
static void measured_tables(const sweep_plan *p, const sweep_run *runs, int n, int per, const char *brain) {
    const sweep_run *m = measured(runs, n);
    if (!m) return;
    if (m->n_kinds) {
        const char *head[LM_EVAL_KINDS];
        for (int k = 0; k < m->n_kinds; k++) head[k] = m->kind[k].name;
        printf("\nminimal pairs by phenomenon (chance 0.5):\n");
        stat_table(p, runs, n, per, head, m->n_kinds, phenomenon, 0);
        if (!isnan(m->fact_acc)) {
            static const char *const fh[1] = {"fact_recall"};
            printf("\nfact recall (functional competence; chance 0.5):\n");
            stat_table(p, runs, n, per, fh, 1, fact, 0);
        }
    }
    if (m->n_layers) {
        const char *head[SWEEP_MAX_LAYERS];
        for (int l = 0; l < m->n_layers; l++) head[l] = m->layer[l];
        printf("\nalignment with the brain %s by layer (RSA, Spearman r of correlation-distance RDMs):\n", brain);
        stat_table(p, runs, n, per, head, m->n_layers, layer_rsa, 0);
        printf("\nthe reference: the same networks untrained (their configuration and seed at step 0):\n");
        stat_table(p, runs, n, per, head, m->n_layers, layer_untrained, 0);
        printf("\ntrained - untrained, paired by seed (an interval that holds 0: training did not change the "
               "alignment detectably):\n");
        stat_table(p, runs, n, per, head, m->n_layers, layer_gain, 0);
        printf("(a configuration with fewer layers shows nan for the missing ones; tinybrain compare gives the other "
               "references: bag-of-words, noise, scrambled words)\n");
    }
}

static void print_table(const sweep_plan *p, const sweep_run *runs, int n, int per, const char *brain) {
    int nk = strcmp(p->model, "snn") ? 3 : 4;
    stat_table(p, runs, n, per, s_key, nk, training_score, 1);
    printf("mean [95%% interval across %d seed%s]; runs in %s/\n", per, per > 1 ? "s" : "", p->root);
    measured_tables(p, runs, n, per, brain);
}

/* A run's measured numbers: "phenomena" {name: acc}, "fact_recall", "alignment"
 * [{layer, rsa_spearman, cka_linear_debiased}]. */
static void json_measured(json_writer *w, const sweep_run *r) {
    if (r->n_kinds) {
        jw_object(w, "phenomena", JW_COMPACT);
        for (int k = 0; k < r->n_kinds; k++) jw_num(w, r->kind[k].name, r->kind[k].acc);
        jw_end(w);
    }
    jw_num(w, "fact_recall", r->fact_acc);
    if (!r->n_layers) return;
    jw_array(w, "alignment", JW_COMPACT);
    for (int l = 0; l < r->n_layers; l++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "layer", r->layer[l]);
        jw_num(w, "rsa_spearman", r->rsa[l]);
        jw_num(w, "cka_linear_debiased", r->cka_debiased[l]);
        jw_num(w, "rsa_spearman_untrained", r->rsa_untrained[l]);
        jw_end(w);
    }
    jw_end(w);
}

static void json_run(json_writer *w, const sweep_plan *p, const sweep_run *r) {
    jw_object(w, NULL, JW_COMPACT);
    jw_object(w, "vary", JW_COMPACT);
    for (int a = 0; a < p->n_axes; a++) jw_str(w, p->axis[a].flag, r->value[a]);
    jw_end(w);
    jw_int(w, "seed", r->seed);
    jw_str(w, "dir", r->dir);
    jw_str(w, "checkpoint", r->ckpt);
    jw_int(w, "status", r->status);
    jw_bool(w, "cached", r->cached);
    for (int k = 0; k < S_N; k++) jw_num(w, s_key[k], run_value(r, k));
    json_measured(w, r);
    jw_end(w);
}

/* A configuration's seed means with their intervals (the best layer's RSA with --brain). */
static void json_config(json_writer *w, const sweep_plan *p, const sweep_run *runs, int per, int c) {
    double m, lo, hi;
    jw_object(w, NULL, JW_COMPACT);
    jw_object(w, "vary", JW_COMPACT);
    for (int a = 0; a < p->n_axes; a++) jw_str(w, p->axis[a].flag, runs[c * per].value[a]);
    jw_end(w);
    for (int k = 0; k < S_N; k++) {
        config_stat(runs, per, c, training_score, k, &m, &lo, &hi);
        jw_num_ci(w, s_key[k], m, lo, hi);
    }
    config_stat(runs, per, c, fact, 0, &m, &lo, &hi);
    jw_num_ci(w, "fact_recall", m, lo, hi);
    config_stat(runs, per, c, best_rsa, 0, &m, &lo, &hi);
    jw_num_ci(w, "best_layer_rsa", m, lo, hi);
    jw_end(w);
}

static void print_json(const sweep_plan *p, const sweep_run *runs, int n, int per) {
    json_writer *w = json_w();
    json_begin();
    json_str("model", p->model);
    jw_array(w, "runs", JW_LINES);
    for (int i = 0; i < n; i++) json_run(w, p, &runs[i]);
    jw_end(w);
    jw_array(w, "configs", JW_LINES);
    for (int c = 0; c < n / per; c++) json_config(w, p, runs, per, c);
    jw_end(w);
    json_end();
}

/* Along axis a: x[v] (the value, or its index when not a number) and the mean and seed
 * interval of get(run, 0) over the runs with value v (over seeds and the other flags'
 * values); returns 1 when every value is a number. */
static int axis_stat(const sweep_plan *p, const sweep_run *runs, int n, int a, run_get get, double *x, double *y,
                     double *lo, double *hi) {
    const sweep_axis *ax = &p->axis[a];
    int numeric = 1;
    double *vals = malloc((size_t)n * sizeof *vals);
    if (!vals) cli_die(1, "out of memory");
    for (int v = 0; v < ax->n; v++) {
        char *end;
        x[v] = strtod(ax->value[v], &end);
        if (*end || end == ax->value[v]) numeric = 0;
    }
    for (int v = 0; v < ax->n; v++) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(runs[i].value[a], ax->value[v]) && runs[i].status == 0) vals[k++] = get(&runs[i], 0);
        if (!numeric) x[v] = v;
        sweep_mean_ci(vals, k, &y[v], &lo[v], &hi[v]);
    }
    free(vals);
    return numeric;
}

static double val_loss(const sweep_run *r, int k) { (void)k; return r->val_loss; }
static double floor_of(const sweep_run *r, int k) { (void)k; return r->floor_nats; }

/* One plot per varied flag: the validation loss (or, brain = 1, the best layer's RSA
 * with the brain) against the flag's values, its seed interval as a band, and its
 * reference as a dashed line (the floor; the untrained networks' best layer). */
static void plot_axis(const sweep_plan *p, const sweep_run *runs, int n, int a, const char *plots, const char *name,
                      int brain) {
    const sweep_axis *ax = &p->axis[a];
    double x[SWEEP_MAX_VALUES], y[SWEEP_MAX_VALUES], lo[SWEEP_MAX_VALUES], hi[SWEEP_MAX_VALUES], fl[SWEEP_MAX_VALUES];
    double f_lo[SWEEP_MAX_VALUES], f_hi[SWEEP_MAX_VALUES];
    int numeric = axis_stat(p, runs, n, a, brain ? best_rsa : val_loss, x, y, lo, hi);
    axis_stat(p, runs, n, a, brain ? best_untrained : floor_of, x, fl, f_lo, f_hi);   /* the reference line */
    char *title = cli_strf("sweep over --%s: %s (mean over seeds%s)", ax->flag,
                           brain ? "the best layer's RSA with the brain" : "validation loss",
                           p->n_axes > 1 ? " and the other flags" : "");
    char *xl = cli_strf("--%s%s", ax->flag, numeric ? "" : " (values in order: see the table)");
    char *pname = cli_strf("%s_%s%s", name, ax->flag, brain ? "_brain" : ""), err[TB_ERRLEN];
    tb_series s[2] = {{brain ? "best layer's RSA (Spearman r)" : "validation loss", x, y, ax->n, "linespoints"},
                      {brain ? "untrained, best layer (the reference)" : "true floor", x, fl, ax->n, "dashed"}};
    tb_band b[1] = {{"95% interval across seeds", x, lo, hi, ax->n, NULL}};
    tb_lineplot lp = {title, xl, brain ? "Spearman r of the RDMs" : "nats per token", 0, 0, NAN, NAN, 0, 0};
    int rendered;
    if (plot_lines_bands(plots, pname, &lp, s, isnan(fl[0]) ? 1 : 2, b, 1, &rendered, err)) cli_note("plot: %s", err);
    else cli_note_plot(plots, pname, rendered);
    free(title);
    free(xl);
    free(pname);
}

/* Take every --vary out of argv (cli_parse sees the rest); flags after "--" go to each run. */
static int split_args(int argc, char **argv, sweep_plan *p, char **rest, int *nrest) {
    int k = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            p->extra = argv + i + 1;
            p->n_extra = argc - i - 1;
            break;
        }
        const char *v = NULL;
        if (!strcmp(argv[i], "--vary") && i + 1 < argc) v = argv[++i];
        else if (!strncmp(argv[i], "--vary=", 7)) v = argv[i] + 7;
        if (v) {
            char err[TB_ERRLEN];
            if (p->n_axes == SWEEP_MAX_AXES) cli_die(2, "--vary: at most %d flags", SWEEP_MAX_AXES);
            if (sweep_parse_axis(v, &p->axis[p->n_axes++], err)) cli_die(2, "%s", err);
            continue;
        }
        rest[k++] = argv[i];
    }
    *nrest = k;
    return 0;
}

/* The library scores every finished run (pairs, facts, the brain). */
static void measure(const char *data_dir, const char *brain, const char *stimuli, uint64_t seed, int json,
                    sweep_run *runs, int n) {
    char *pairs = cli_strf("%s/minimal_pairs.tsv", data_dir), *facts = cli_strf("%s/fact_pairs.tsv", data_dir);
    char *stim = stimuli ? cli_strf("%s", stimuli) : cli_strf("%s/probes_sentences.txt", data_dir), err[TB_ERRLEN];
    sweep_measure_opts o = {access(pairs, R_OK) == 0 ? pairs : NULL, access(facts, R_OK) == 0 ? facts : NULL, brain, stim,
                            seed};
    if (!json) cli_note("scoring %d runs: minimal pairs, fact recall%s", n, brain ? ", alignment with the brain" : "");
    if (sweep_measure(&o, runs, n, err)) cli_die(1, "%s", err);
    free(pairs);
    free(facts);
    free(stim);
}

int cmd_sweep(int argc, char **argv) {
    sweep_plan p;
    memset(&p, 0, sizeof p);
    const char *model, *out, *plots, *name, *data_dir, *brain, *stimuli;
    int json, threads_each;
    long long seed;
    cli_opt opts[] = {
        {"model", 'c', &model, "gpt", "", "what to train: gpt (tinybrain train) or snn (tinybrain train-snn)", 0, 0, "gpt|snn"},
        {"seeds", 'i', &p.seeds, "3", "", "seeds per configuration (1..N; ignored when seed is varied)", 1, 1000, NULL},
        {"jobs", 'i', &p.jobs, "2", "", "training processes at once", 1, 64, NULL},
        {"threads-each", 'i', &threads_each, "1", "", "--threads of each training process", 1, 256, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"out", 's', &out, TB_RUNS_DIR "/sweep", "", "folder of the run folders (cached by config)", 0, 0, NULL},
        {"plots", 's', &plots, TB_PLOTS_DIR, "", "folder for the plots", 0, 0, NULL},
        {"name", 's', &name, "sweep", "", "file-name prefix of the plots", 0, 0, NULL},
        {"brain", 's', &brain, NULL, "", "a brain recording (e.g. runs/rec/snn): alignment of every run with it, layer by layer", 0, 0, NULL},
        {"stimuli", 's', &stimuli, NULL, "", "the stimuli the brain was recorded on (default: DATA_DIR/probes_sentences.txt)", 0, 0, NULL},
        {"seed", 'l', &seed, "1", "", "recording noise of spiking runs (with --brain)", 0, 9.2e18, NULL},
        {"json", 'b', &json, NULL, "", "one JSON object: runs (every run) and configs (seed means)", 0, 0, NULL},
    };
    cli_cmd cmd = {"sweep", "--vary FLAG=v1,v2 [--vary ...] [-- flags for every run]",
                   "train every combination of flag values x seeds (cached), one table, plots with seed intervals",
                   "Each --vary names a flag of `tinybrain train` (or train-snn with --model snn) and its values; "
                   "every combination is trained with seeds 1..--seeds, --jobs processes at once, each in its own "
                   "folder under --out named by a hash of its config: a run that finished is never trained again. "
                   "Flags after -- go to every run. Every finished run is then scored on the minimal pairs by "
                   "phenomenon and on fact recall and, with --brain, recorded on the brain's stimuli and compared "
                   "with it layer by layer (RSA and debiased CKA).",
                   "tinybrain sweep --vary d-model=32,64 --seeds 3 --jobs 2 -- --steps 600"};
    char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
    int nrest;
    if (!rest) cli_die(1, "out of memory");
    split_args(argc, argv, &p, rest, &nrest);
    cli_parse(&cmd, opts, NOPT(opts), nrest, rest, NULL, 0, 0);
    if (p.n_axes == 0 && p.seeds < 2) cli_die(2, "nothing to sweep: give --vary FLAG=v1,v2 or --seeds N >= 2");
    char exe[4096], err[TB_ERRLEN];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) cli_die(1, "cannot find the tinybrain binary (/proc/self/exe)");
    exe[len] = 0;
    p.exe = exe;
    p.model = model;
    p.root = out;
    p.data_dir = data_dir;
    p.threads = threads_each;
    sweep_run *runs;
    int n;
    if (sweep_expand(&p, &runs, &n, err)) cli_die(2, "%s", err);
    int to_train = 0;
    for (int i = 0; i < n; i++) to_train += !runs[i].cached;
    if (!json) cli_note("%d runs (%d cached), %d at a time", n, n - to_train, p.jobs);
    cli_catch_sigint();
    cli_progress_start();
    if (sweep_execute(&p, runs, n, progress, NULL, &cli_interrupted, err)) cli_die(1, "%s", err);
    cli_progress_end();
    measure(data_dir, brain, stimuli, (uint64_t)seed, json, runs, n);
    int per = runs[0].seed ? p.seeds : 1;   /* runs per configuration (seed 0: seed is itself varied) */
    if (json) print_json(&p, runs, n, per);
    else print_table(&p, runs, n, per, brain);
    for (int a = 0; a < p.n_axes; a++) {
        plot_axis(&p, runs, n, a, plots, name, 0);
        if (brain) plot_axis(&p, runs, n, a, plots, name, 1);
    }
    int failed = 0;
    for (int i = 0; i < n; i++) failed += runs[i].status != 0;
    free(runs);
    free(rest);
    if (failed) cli_die(1, "%d of %d runs failed (their train.log files say why)", failed, n);
    return cli_interrupted ? 1 : 0;
}
