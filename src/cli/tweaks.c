/* tweaks.c -- `tinybrain tweaks`: the tinkerer's table in one command (lesson 18).  Each
 * variant of include/tweaks.h is trained with --seeds seeds through the sweep library
 * (cached: a second call only measures), the spiking network to align with is trained
 * the same way unless --snn names one, and every model is measured on loss above the
 * floor, minimal pairs, RSA with the network and energy per token. */
#include "cli.h"
#include "commands.h"
#include "run.h"
#include "sweep.h"
#include "tweaks.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *root, *snn, *data_dir, *score;
    int seeds, steps, snn_steps, jobs, threads, trials, json;
    long long val_tokens, seed;
    char exe[PATH_MAX];
} tweaks_cli;

static void progress(void *ctx, int done, int total, const sweep_run *r) {
    const char *what = ctx;
    if (r->status) cli_note("%s: run %d of %d failed (see %s/train.log)", what, done, total, r->dir);
    else cli_note("%s: trained %d of %d (seed %d)", what, done, total, r->seed);
}

/* Train (or find cached) the runs of one model: `flags` plus --steps, `seeds` seeds. */
static sweep_run *train_runs(const tweaks_cli *o, const char *model, const char *name, const char *const *flags,
                             int steps, int seeds, int *n) {
    char err[TB_ERRLEN], num[32];
    snprintf(num, sizeof num, "%d", steps);
    char *extra[16];
    int ne = 0;
    extra[ne++] = "--steps";
    extra[ne++] = num;
    for (int i = 0; flags[i] && ne < 16; i++) extra[ne++] = (char *)flags[i];
    sweep_plan p;
    memset(&p, 0, sizeof p);   /* no axes: the variant's flags go to every run */
    p.exe = o->exe;
    p.model = model;
    p.root = o->root;
    p.data_dir = o->data_dir;
    p.n_extra = ne;
    p.extra = extra;
    p.seeds = seeds;
    p.jobs = o->jobs;
    p.threads = o->threads;
    sweep_run *runs;
    if (sweep_expand(&p, &runs, n, err)) cli_die(2, "%s", err);
    if (sweep_execute(&p, runs, *n, o->json ? NULL : progress, (void *)name, &cli_interrupted, err)) cli_die(1, "%s", err);
    if (cli_interrupted) cli_die(130, "interrupted: the runs that finished are kept in %s", o->root);
    for (int i = 0; i < *n; i++)
        if (runs[i].status) cli_die(1, "%s seed %d failed: see %s/train.log", name, runs[i].seed, runs[i].dir);
    return runs;
}

/* Every seed of every variant measured; rows[v] their summary. */
static void measure(const tweaks_cli *o, const tk_bench *b, tk_row *rows, tk_score *all) {
    char err[TB_ERRLEN];
    sweep_run *dense = NULL;
    int n_dense = 0;
    for (int v = 0; v < TK_N_VARIANTS; v++) {
        const tk_variant *t = &tk_variants[v];
        int n;
        sweep_run *runs = t->skip_last ? dense : train_runs(o, "gpt", t->name, t->flags, o->steps, o->seeds, &n);
        if (t->skip_last) n = n_dense;
        for (int i = 0; i < n; i++) {
            tk_score *s = &all[v * o->seeds + i];
            if (tk_score_model(b, runs[i].ckpt, t->skip_last, s, err)) cli_die(1, "%s", err);
            if (!o->json) cli_note("%s seed %d: %+.4f nats, pairs %.3f, RSA %.3f, %.1f nJ", t->name, runs[i].seed,
                                   s->v[TK_EXCESS], s->v[TK_PAIRS], s->v[TK_RSA], s->v[TK_ENERGY]);
        }
        if (tk_summarise(all + v * o->seeds, n, &rows[v], err)) cli_die(1, "%s", err);
        if (v == 0) { dense = runs; n_dense = n; }
        else if (runs != dense) free(runs);
    }
    free(dense);
}

static void cell(char *b, const tk_row *r, int k, const char *fmt) {
    char m[24], lo[24], hi[24];
    snprintf(m, sizeof m, fmt, r->mean[k]);
    if (isnan(r->lo[k])) { snprintf(b, CLI_NUMLEN, "%s", m); return; }
    snprintf(lo, sizeof lo, fmt, r->lo[k]);
    snprintf(hi, sizeof hi, fmt, r->hi[k]);
    snprintf(b, CLI_NUMLEN, "%s [%s, %s]", m, lo, hi);
}

static void print_table(const tweaks_cli *o, const tk_row *rows) {
    printf("the tinkerer's table: %d seeds x %d steps each, mean [95%% interval over seeds]\n", o->seeds, o->steps);
    int w[5] = {-10, 26, 24, 24, 24};
    const char *head[5] = {"model", "nats above floor", "minimal pairs", "RSA with the SNN", "nJ per token"};
    cli_table_row(5, w, head);
    cli_table_rule(5, w);
    const char *fmt[TK_NSCORES] = {"%.4f", "%.3f", "%.3f", "%.1f"};
    for (int v = 0; v < TK_N_VARIANTS; v++) {
        char c[TK_NSCORES][CLI_NUMLEN];
        for (int k = 0; k < TK_NSCORES; k++) cell(c[k], &rows[v], k, fmt[k]);
        const char *cells[5] = {tk_variants[v].name, c[0], c[1], c[2], c[3]};
        cli_table_row(5, w, cells);
    }
    for (int v = 0; v < TK_N_VARIANTS; v++) printf("  %-10s %s\n", tk_variants[v].name, tk_variants[v].what);
    printf("RSA: Spearman between RDMs (1 - Pearson r) on the probe sentences, best GPT layer; energy: arithmetic\n"
           "at 45 nm, only the work that runs (experts chosen, nonzero hidden units, blocks not skipped).\n");
}

static void print_json(const tweaks_cli *o, const tk_row *rows, const tk_score *all) {
    json_begin();
    json_int("seeds", o->seeds);
    json_int("steps", o->steps);
    json_writer *w = json_w();
    jw_array(w, "rows", JW_LINES);
    for (int v = 0; v < TK_N_VARIANTS; v++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "model", tk_variants[v].name);
        for (int k = 0; k < TK_NSCORES; k++) {
            char key[64];
            jw_num(w, tk_score_names[k], rows[v].mean[k]);
            snprintf(key, sizeof key, "%s_ci_low", tk_score_names[k]);
            jw_num(w, key, rows[v].lo[k]);
            snprintf(key, sizeof key, "%s_ci_high", tk_score_names[k]);
            jw_num(w, key, rows[v].hi[k]);
        }
        jw_array(w, "per_seed", JW_COMPACT);
        for (int i = 0; i < rows[v].n; i++) jw_nums(w, NULL, all[v * o->seeds + i].v, TK_NSCORES);
        jw_end(w);
        jw_end(w);
    }
    jw_end(w);
    json_end();
}

/* --score: one row per checkpoint, no training and no intervals. */
static void score_list(const tweaks_cli *o, const tk_bench *b) {
    char err[TB_ERRLEN], *list = cli_strf("%s", o->score), *save = NULL;
    if (o->json) {
        json_begin();
        jw_array(json_w(), "models", JW_LINES);
    } else {
        printf("%-40s %12s %8s %8s %9s\n", "checkpoint (on toyworld)", "above floor", "pairs", "RSA", "nJ/token");
    }
    for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        tk_score s;
        if (tk_score_model(b, p, 0, &s, err)) cli_die(1, "%s", err);
        if (!o->json) {
            printf("%-40s %+12.4f %8.3f %8.3f %9.1f\n", p, s.v[TK_EXCESS], s.v[TK_PAIRS], s.v[TK_RSA], s.v[TK_ENERGY]);
            continue;
        }
        json_writer *w = json_w();
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "checkpoint", p);
        for (int k = 0; k < TK_NSCORES; k++) jw_num(w, tk_score_names[k], s.v[k]);
        jw_int(w, "best_layer", s.best_layer);
        jw_end(w);
    }
    if (o->json) {
        jw_end(json_w());
        json_end();
    }
    free(list);
}

int cmd_tweaks(int argc, char **argv) {
    tweaks_cli o;
    cli_opt opts[] = {
        {"seeds", 'i', &o.seeds, "3", "", "seeds per variant (intervals need 2 or more)", 1, 100, NULL},
        {"steps", 'i', &o.steps, TB_STR(RUN_GPT_STEPS), "", "training steps of each GPT", 1, 1e8, NULL},
        {"brain", 's', &o.snn, "", "", "the network to align with (default: train a spiking one, --snn-steps, seed 1; a GPT: its last layer)", 0, 0, NULL},
        {"score", 's', &o.score, "", "", "only measure these checkpoints (comma-separated, either kind), e.g. before and after --then", 0, 0, NULL},
        {"snn-steps", 'i', &o.snn_steps, TB_STR(RUN_SRNN_STEPS), "", "training steps of that network", 1, 1e8, NULL},
        {"trials", 'i', &o.trials, "10", "", "the network's noisy trials per probe sentence", 1, 1000, NULL},
        {"val-tokens", 'l', &o.val_tokens, "0", "tokens", "validation tokens read for loss and energy (0: all)", 0, 1e9, NULL},
        {"root", 's', &o.root, TB_RUNS_DIR "/tweaks", "", "folder of the runs (cached: a finished run is not trained again)", 0, 0, NULL},
        {"data-dir", 's', &o.data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"jobs", 'i', &o.jobs, "2", "", "runs trained at once", 1, 256, NULL},
        {"seed", 'l', &o.seed, "1", "", "the network's trial noise", 0, 9e18, NULL},
        {"json", 'b', &o.json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"tweaks", "", "the tinkerer's table: dense vs experts vs sparse vs a skipped block, over seeds",
                   "Trains each variant with --seeds seeds (through the sweep library, one child process per run, "
                   "cached in --root) and measures every model on nats above toyworld's floor, minimal-pair "
                   "accuracy, RSA of its best layer with the spiking network on the probe sentences, and energy per "
                   "token counting only the work that runs.  Each cell: mean [95% Student-t interval over seeds].  "
                   "--score A,B,...: no training, the same four numbers for each checkpoint (a continual run before "
                   "and after its second language; a spiking network too).",
                   "tinybrain tweaks --seeds 3 --steps 600"};
    char *pos[1];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 0);
    cli_catch_sigint();
    if (!realpath("/proc/self/exe", o.exe)) snprintf(o.exe, sizeof o.exe, "%s", argv[0]);
    o.threads = 1;
    char err[TB_ERRLEN];
    const char *snn = o.snn;
    sweep_run *snn_run = NULL;
    if (!*snn && *o.score) cli_die(2, "--score: name the network to align with (--brain)");
    if (!*snn) {
        const char *none[1] = {NULL};
        int n;
        snn_run = train_runs(&o, "snn", "spiking network", none, o.snn_steps, 1, &n);
        snn = snn_run[0].ckpt;
    }
    tk_bench b;
    if (tk_bench_open(&b, snn, o.data_dir, o.trials, (long)o.val_tokens, (uint64_t)o.seed, err)) cli_die(1, "%s", err);
    if (*o.score) {
        score_list(&o, &b);
        free(snn_run);
        tk_bench_free(&b);
        return 0;
    }
    tk_row rows[TK_N_VARIANTS];
    tk_score *all = calloc((size_t)TK_N_VARIANTS * o.seeds, sizeof *all);
    if (!all) cli_die(1, "out of memory");
    measure(&o, &b, rows, all);
    if (o.json) print_json(&o, rows, all);
    else print_table(&o, rows);
    free(all);
    free(snn_run);
    tk_bench_free(&b);
    return 0;
}
