/* study.c -- `tinybrain study [--quick] [--out DIR] [--json]`: the seed paper's experiment
 * at toy scale, seven findings with a computed verdict each.  Lesson 17.
 *
 * The work is the library's (include/study.h): training through the sweep library
 * (cached under DIR/runs), measuring, deciding and writing DIR/report.md, DIR/report.html
 * and DIR/findings.tsv.  Here: the options, the progress lines, the table and the JSON.
 */
#include "cli.h"
#include "commands.h"
#include "study.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A progress line per stage, its clock restarted when the stage changes. */
static void progress(void *ctx, const char *stage, int done, int total) {
    const char **last = ctx;
    if (!*last || strcmp(*last, stage)) {
        cli_progress_end();
        cli_progress_start();
        *last = stage;
    }
    cli_progress(done, total, "%s", stage);
}

static void fmt_ci(char *b, size_t n, double v, double lo, double hi) {
    if (isnan(v)) snprintf(b, n, "-");
    else if (isnan(lo)) snprintf(b, n, "%.3f", v);
    else snprintf(b, n, "%.3f [%.3f, %.3f]", v, lo, hi);
}

static void print_table(const study_result *r) {
    int w[4] = {4, 16, 28, -60};
    const char *head[4] = {"id", "verdict", "statistic [95% interval]", "claim"};
    cli_table_row(4, w, head);
    cli_table_rule(4, w);
    for (int i = 0; i < STUDY_N_FINDINGS; i++) {
        const study_finding *f = &r->finding[i];
        char v[CLI_NUMLEN * 3];
        fmt_ci(v, sizeof v, f->value, f->ci_low, f->ci_high);
        const char *cells[4] = {f->id, study_verdict_name[f->verdict], v, f->claim};
        cli_table_row(4, w, cells);
    }
    printf("\n");
    for (int i = 0; i < STUDY_N_FINDINGS; i++) printf("%s %s\n", r->finding[i].id, r->finding[i].why);
    printf("\n%s study: %d GPTs and %d networks, %d of them trained now (the rest from the cache); %.0f s training, "
           "%.0f s measuring\n", r->design.quick ? "quick" : "full", r->n_gpt, r->n_snn, r->trained, r->train_s, r->measure_s);
    printf("wrote %s, %s and %s\n", r->report_html, r->report_md, r->findings_tsv);
}

static void print_json(const study_result *r) {
    json_writer *w = json_w();
    json_begin();
    jw_array(w, "findings", JW_LINES);
    for (int i = 0; i < STUDY_N_FINDINGS; i++) {
        const study_finding *f = &r->finding[i];
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "id", f->id);
        jw_str(w, "claim", f->claim);
        jw_str(w, "statistic", f->statistic);
        jw_num(w, "value", f->value);
        jw_num(w, "ci_low", f->ci_low);
        jw_num(w, "ci_high", f->ci_high);
        jw_str(w, "verdict", study_verdict_name[f->verdict]);
        jw_str(w, "rule", f->rule);
        jw_str(w, "why", f->why);
        jw_end(w);
    }
    jw_end(w);
    json_str("report", r->report_html);
    json_str("report_md", r->report_md);
    json_str("findings_tsv", r->findings_tsv);
    json_bool("quick", r->design.quick);
    json_int("gpt_models", r->n_gpt);
    json_int("networks", r->n_snn);
    json_int("trained_now", r->trained);
    json_num("train_s", r->train_s);
    json_num("measure_s", r->measure_s);
    json_end();
}

int cmd_study(int argc, char **argv) {
    const char *out, *data_dir;
    int quick, json, jobs, seeds, steps;
    long long seed;
    cli_opt opts[] = {
        {"quick", 'b', &quick, NULL, "", "the small study: 2 seeds, widths 32 and 64, 800 steps (about a minute of CPU)", 0, 0, NULL},
        {"out", 's', &out, TB_RUNS_DIR "/study", "", "DIR: runs in DIR/runs (cached), pictures in DIR/plots, the report in DIR", 0, 0, NULL},
        {"jobs", 'i', &jobs, "2", "", "training processes at once", 1, 64, NULL},
        {"seeds", 'i', &seeds, "0", "", "seeds of every configuration (0: the design's, 2 quick / 3 full)", 0, 100, NULL},
        {"steps", 'i', &steps, "0", "steps", "GPT training steps (0: the design's, 800 quick / 3000 full)", 0, 1e8, NULL},
        {"seed", 'l', &seed, "1", "", "seed of the bootstraps, trial noise and folds", 0, 9.2e18, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "one JSON object: findings (id, claim, statistic, value, ci_low, ci_high, verdict) and report", 0, 0, NULL},
    };
    cli_cmd cmd = {"study", "",
                   "the seed paper's experiment at toy scale: seven findings, each with a statistic, an interval and a computed verdict",
                   "Trains GPTs of several widths and depths (N seeds each, log-spaced snapshots), their controls (the "
                   "untrained step 0; the same seed trained on scrambled words) and one spiking network per seed, all "
                   "through the sweep library and cached under DIR/runs (a re-run trains only what changed); measures "
                   "S1-S7 (alignment over training and formal competence; controls; size at a fixed number of units; "
                   "localized vs random ablations; middle layers on relative depth; seeds layer by layer; formal vs "
                   "functional competence and a no-language population) with compare's references and bootstrap "
                   "intervals; and writes DIR/report.md, DIR/report.html (self-contained) and DIR/findings.tsv. "
                   "Training runs --jobs processes of one thread each (with this --kernels set); measuring runs on one "
                   "thread unless --threads is given. The cache is keyed by each run's flags, not by the kernel set: "
                   "compare kernel sets in another --out. "
                   "Verdicts (reproduced, not reproduced, contrary, untestable) are computed from the numbers by rules "
                   "fixed in advance (lesson 17).",
                   "tinybrain study --quick && xdg-open runs/study/report.html"};
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, NULL, 0, 0);
    /* Measuring is many small steps that a pool speeds up little and a busy machine slows
     * down a lot: one thread unless --threads says otherwise (training runs one per job). */
    if (!cli_given(argc, argv, "threads")) cli_threads = tb_threads_init(1);
    /* The training children inherit the kernel set through the environment (the cache
     * does not tell kernel sets apart: give another --out to compare them). */
    if (cli_given(argc, argv, "kernels") && setenv("TINYBRAIN_KERNELS", cli_kernels, 1))
        cli_die(1, "cannot pass --kernels to the training runs");
    study_design d;
    study_design_default(&d, quick);
    if (seeds) d.seeds = seeds;
    if (steps) study_design_steps(&d, steps);
    if (d.seeds < 2) cli_die(2, "--seeds %d: the intervals across seeds and S6 need at least 2", d.seeds);
    char exe[4096], err[TB_ERRLEN];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) cli_die(1, "cannot find the tinybrain binary (/proc/self/exe)");
    exe[len] = 0;
    const char *stage = NULL;
    study_opts o = {out, exe, data_dir, jobs, (uint64_t)seed, progress, &stage, &cli_interrupted};
    cli_catch_sigint();
    cli_log_command(out, argc, argv);
    study_result r;
    cli_progress_start();
    int rc = study_run(&d, &o, &r, err);
    cli_progress_end();
    if (rc) {
        study_result_free(&r);
        cli_die(1, "%s", err);
    }
    if (json) print_json(&r);
    else print_table(&r);
    study_result_free(&r);
    return 0;
}
