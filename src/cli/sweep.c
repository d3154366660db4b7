/* sweep.c -- `tinybrain sweep --vary FLAG=v1,v2 [--vary ...] --seeds N --jobs J [-- flags]`:
 * train every combination, cached, and tabulate.  Lessons 15 and 17.
 *
 * Each run is `tinybrain train` (or train-snn with --model snn) in its own folder under
 * --out (include/sweep.h).  The table has one row per configuration: the varied values,
 * and validation loss, excess over the floor and minimal pairs as a mean with a 95%
 * interval across seeds; --json adds every run.  A plot per varied flag shows the loss
 * against the flag's values with the seed interval as a band.
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

/* Runs come seeds-fastest: configuration c is runs[c * per .. c * per + per - 1]. */
static void config_stat(const sweep_run *runs, int per, int c, int k, double *m, double *lo, double *hi) {
    double x[1024];
    int n = per < 1024 ? per : 1024;
    for (int i = 0; i < n; i++) x[i] = runs[c * per + i].status == 0 ? run_value(&runs[c * per + i], k) : NAN;
    sweep_mean_ci(x, n, m, lo, hi);
}

static void progress(void *ctx, int done, int total, const sweep_run *r) {
    (void)ctx;
    if (r->status) cli_note("run failed (exit %d): %s/train.log says why", r->status, r->dir);
    cli_progress(done, total, "runs trained");
}

static void print_table(const sweep_plan *p, const sweep_run *runs, int n, int per) {
    int nk = strcmp(p->model, "snn") ? 3 : 4;
    for (int a = 0; a < p->n_axes; a++) printf("%-12s", p->axis[a].flag);
    for (int k = 0; k < nk; k++) printf("  %-26s", s_key[k]);
    printf("  runs\n");
    for (int c = 0; c < n / per; c++) {
        for (int a = 0; a < p->n_axes; a++) printf("%-12s", runs[c * per].value[a]);
        for (int k = 0; k < nk; k++) {
            double m, lo, hi;
            char b[64];
            config_stat(runs, per, c, k, &m, &lo, &hi);
            if (isnan(lo)) snprintf(b, sizeof b, "%.4f", m);
            else snprintf(b, sizeof b, "%.4f [%.4f, %.4f]", m, lo, hi);
            printf("  %-26s", b);
        }
        int ok = 0, cached = 0;
        for (int i = 0; i < per; i++) { ok += runs[c * per + i].status == 0; cached += runs[c * per + i].cached; }
        printf("  %d/%d%s\n", ok, per, cached ? " (cached)" : "");
    }
    printf("mean [95%% interval across %d seed%s]; runs in %s/\n", per, per > 1 ? "s" : "", p->root);
}

static void print_json(const sweep_plan *p, const sweep_run *runs, int n, int per) {
    json_writer *w = json_w();
    json_begin();
    json_str("model", p->model);
    jw_array(w, "runs", JW_LINES);
    for (int i = 0; i < n; i++) {
        const sweep_run *r = &runs[i];
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
        jw_end(w);
    }
    jw_end(w);
    jw_array(w, "configs", JW_LINES);
    for (int c = 0; c < n / per; c++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_object(w, "vary", JW_COMPACT);
        for (int a = 0; a < p->n_axes; a++) jw_str(w, p->axis[a].flag, runs[c * per].value[a]);
        jw_end(w);
        for (int k = 0; k < S_N; k++) {
            double m, lo, hi;
            config_stat(runs, per, c, k, &m, &lo, &hi);
            jw_num_ci(w, s_key[k], m, lo, hi);
        }
        jw_end(w);
    }
    jw_end(w);
    json_end();
}

/* One plot per varied flag: validation loss (mean over seeds and over the other flags'
 * values) against the flag's values, its seed interval as a band, and the floor. */
static void plot_axis(const sweep_plan *p, const sweep_run *runs, int n, int a, const char *plots, const char *name) {
    const sweep_axis *ax = &p->axis[a];
    double x[SWEEP_MAX_VALUES], y[SWEEP_MAX_VALUES], lo[SWEEP_MAX_VALUES], hi[SWEEP_MAX_VALUES], fl[SWEEP_MAX_VALUES];
    int numeric = 1;
    for (int v = 0; v < ax->n; v++) {
        char *end;
        x[v] = strtod(ax->value[v], &end);
        if (*end || end == ax->value[v]) numeric = 0;
    }
    for (int v = 0; v < ax->n; v++) {
        double vals[4096];
        int k = 0;
        fl[v] = NAN;
        for (int i = 0; i < n && k < 4096; i++)
            if (!strcmp(runs[i].value[a], ax->value[v]) && runs[i].status == 0) {
                vals[k++] = runs[i].val_loss;
                fl[v] = runs[i].floor_nats;
            }
        if (!numeric) x[v] = v;
        sweep_mean_ci(vals, k, &y[v], &lo[v], &hi[v]);
    }
    char *title = cli_strf("sweep over --%s: validation loss (mean over seeds%s)", ax->flag,
                           p->n_axes > 1 ? " and the other flags" : "");
    char *xl = cli_strf("--%s%s", ax->flag, numeric ? "" : " (values in order: see the table)");
    char *pname = cli_strf("%s_%s", name, ax->flag), err[TB_ERRLEN];
    tb_series s[2] = {{"validation loss", x, y, ax->n, "linespoints"}, {"true floor", x, fl, ax->n, "dashed"}};
    tb_band b[1] = {{"95% interval across seeds", x, lo, hi, ax->n, NULL}};
    tb_lineplot lp = {title, xl, "nats per token", 0, 0, NAN, NAN, 0, 0};
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

int cmd_sweep(int argc, char **argv) {
    sweep_plan p;
    memset(&p, 0, sizeof p);
    const char *model, *out, *plots, *name, *data_dir;
    int json, threads_each;
    cli_opt opts[] = {
        {"model", 'c', &model, "gpt", "", "what to train: gpt (tinybrain train) or snn (tinybrain train-snn)", 0, 0, "gpt|snn"},
        {"seeds", 'i', &p.seeds, "3", "", "seeds per configuration (1..N; ignored when seed is varied)", 1, 1000, NULL},
        {"jobs", 'i', &p.jobs, "2", "", "training processes at once", 1, 64, NULL},
        {"threads-each", 'i', &threads_each, "1", "", "--threads of each training process", 1, 256, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"out", 's', &out, TB_RUNS_DIR "/sweep", "", "folder of the run folders (cached by config)", 0, 0, NULL},
        {"plots", 's', &plots, TB_PLOTS_DIR, "", "folder for the plots", 0, 0, NULL},
        {"name", 's', &name, "sweep", "", "file-name prefix of the plots", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "one JSON object: runs (every run) and configs (seed means)", 0, 0, NULL},
    };
    cli_cmd cmd = {"sweep", "--vary FLAG=v1,v2 [--vary ...] [-- flags for every run]",
                   "train every combination of flag values x seeds (cached), one table, plots with seed intervals",
                   "Each --vary names a flag of `tinybrain train` (or train-snn with --model snn) and its values; "
                   "every combination is trained with seeds 1..--seeds, --jobs processes at once, each in its own "
                   "folder under --out named by a hash of its config: a run that finished is never trained again. "
                   "Flags after -- go to every run.",
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
    int todo = 0;
    for (int i = 0; i < n; i++) todo += !runs[i].cached;
    if (!json) cli_note("%d runs (%d cached), %d at a time", n, n - todo, p.jobs);
    cli_catch_sigint();
    cli_progress_start();
    if (sweep_execute(&p, runs, n, progress, NULL, &cli_interrupted, err)) cli_die(1, "%s", err);
    cli_progress_end();
    int per = runs[0].seed ? p.seeds : 1;   /* runs per configuration (seed 0: seed is itself varied) */
    if (json) print_json(&p, runs, n, per);
    else print_table(&p, runs, n, per);
    for (int a = 0; a < p.n_axes; a++) plot_axis(&p, runs, n, a, plots, name);
    int failed = 0;
    for (int i = 0; i < n; i++) failed += runs[i].status != 0;
    free(runs);
    free(rest);
    if (failed) cli_die(1, "%d of %d runs failed (their train.log files say why)", failed, n);
    return cli_interrupted ? 1 : 0;
}
