/* scan_truth.c -- `tinybrain scan CKPT --compare-truth GPT_REC` (the network's true code
 * beside its scans, by every metric) and `tinybrain scan --print-hrf --tr T` (the SPM
 * canonical HRF).  Lesson 16; the comparison itself is scan_truth_run (include/scan.h). */
#include "cli.h"
#include "commands.h"
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the canonical HRF ------------------------------------------------------------------------ */

int scan_print_hrf(double tr, int json) {
    int n = scan_hrf_length(tr);
    double *h = malloc((size_t)n * sizeof *h);
    if (!h) cli_die(1, "out of memory");
    scan_hrf(tr, h);
    if (json) {
        json_begin();
        json_num("tr", tr);
        json_num_array("hrf", h, n);
        json_end();
    } else {
        printf("SPM canonical HRF (gamma(6) - gamma(16)/6, sum 1) every %g s:\n", tr);
        int w[2] = {8, 12};
        const char *head[2] = {"t_s", "h"};
        cli_table_row(2, w, head);
        cli_table_rule(2, w);
        for (int k = 0; k < n; k++) {
            char a[CLI_NUMLEN], b[CLI_NUMLEN];
            snprintf(a, sizeof a, "%g", k * tr);
            snprintf(b, sizeof b, "%.6f", h[k]);
            const char *cells[2] = {a, b};
            cli_table_row(2, w, cells);
        }
    }
    free(h);
    return 0;
}

/* ---- the true code against its measurements ---------------------------------------------------- */

/* "0.2,0.6,1.6" -> snr[*n] (malloc'd); every value > 0. */
static double *parse_snrs(const char *list, int *n) {
    *n = 1;
    for (const char *p = list; *p; p++) *n += *p == ',';
    double *v = malloc((size_t)*n * sizeof *v);
    if (!v) cli_die(1, "out of memory");
    const char *p = list;
    for (int i = 0; i < *n; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !(v[i] > 0) || !isfinite(v[i]))
            cli_die(2, "--truth-snr '%s': expected positive numbers separated by commas", list);
        p = *end ? end + 1 : end;
    }
    return v;
}

/* The metrics in the tables: compare's, without the p-values. */
static int table_metrics(int *m) {
    int n = 0;
    for (int k = 0; k < cmp_n_shown; k++) {
        int i = cmp_metric_index(cmp_shown[k]);
        if (!(cmp_metrics[i].family & CMP_STAT)) m[n++] = i;
    }
    return n;
}

static void print_measurement(const scan_truth *t, int k, const rep_set *M) {
    int m[CMP_N_SHOWN], nm = table_metrics(m), w[CMP_N_SHOWN + 1];
    const char *head[CMP_N_SHOWN + 1], *cells[CMP_N_SHOWN + 1];
    char b[CMP_N_SHOWN][CLI_NUMLEN];
    printf("\n%s, %d trials\n", t->name[k], t->trials[k]);
    w[0] = -10;
    head[0] = "layer";
    for (int i = 0; i < nm; i++) { w[i + 1] = 8; head[i + 1] = cmp_metrics[m[i]].head; }
    cli_table_row(nm + 1, w, head);
    cli_table_rule(nm + 1, w);
    for (int l = 0; l < t->n_layers; l++) {
        cells[0] = M->layer[l].name;
        for (int i = 0; i < nm; i++) {
            cli_fmt_num(b[i], CLI_NUMLEN, cmp_value(scan_truth_at(t, k, l), m[i]));
            cells[i + 1] = b[i];
        }
        cli_table_row(nm + 1, w, cells);
    }
}

/* Metric by measurement: which layer comes out best. */
static void print_ranking(const scan_truth *t, const rep_set *M) {
    int m[CMP_N_SHOWN], nm = table_metrics(m), nc = t->n_meas + 1;
    int *w = malloc((size_t)nc * sizeof *w);
    const char **cells = malloc((size_t)nc * sizeof *cells);
    char(*lab)[16] = malloc((size_t)nc * sizeof *lab);
    if (!w || !cells || !lab) cli_die(1, "out of memory");
    printf("\nthe best layer by each metric, measurement by measurement (columns in the order above):\n");
    w[0] = -10;
    cells[0] = "metric";
    for (int k = 0; k < t->n_meas; k++) {
        w[k + 1] = 10;
        snprintf(lab[k], sizeof lab[k], "%d", k);
        cells[k + 1] = lab[k];
    }
    cli_table_row(nc, w, cells);
    cli_table_rule(nc, w);
    align_result *row = malloc((size_t)t->n_layers * sizeof *row);
    if (!row) cli_die(1, "out of memory");
    for (int i = 0; i < nm; i++) {
        if (cmp_metrics[m[i]].family == CMP_ENC && !strcmp(cmp_metrics[m[i]].key, "noise_ceiling")) continue;
        cells[0] = cmp_metrics[m[i]].head;
        for (int k = 0; k < t->n_meas; k++) {
            for (int l = 0; l < t->n_layers; l++) row[l] = *scan_truth_at(t, k, l);
            cells[k + 1] = M->layer[cmp_best(row, t->n_layers, m[i])].name;
        }
        cli_table_row(nc, w, cells);
    }
    free(row); free(w); free(cells); free(lab);
}

static void truth_json(const scan_truth *t, const rep_set *M) {
    json_writer *w = json_w();
    json_begin();
    json_int("layers", t->n_layers);
    jw_array(w, "measurements", JW_LINES);
    for (int k = 0; k < t->n_meas; k++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "name", t->name[k]);
        jw_int(w, "units", t->units[k]);
        jw_int(w, "trials", t->trials[k]);
        jw_array(w, "layers", JW_COMPACT);
        for (int l = 0; l < t->n_layers; l++) {
            jw_object(w, NULL, JW_COMPACT);
            jw_str(w, "layer", M->layer[l].name);
            for (int i = 0; i < cmp_n_metrics; i++)
                if (!(cmp_metrics[i].family & CMP_STAT)) jw_num(w, cmp_metrics[i].key, cmp_value(scan_truth_at(t, k, l), i));
            jw_end(w);
        }
        jw_end(w);
        jw_end(w);
    }
    jw_end(w);
    json_end();
}

int scan_truth_cmd(const scan_args *a, const scan_plan *p, int npos, char **pos) {
    if (npos != 1) cli_die(2, "--compare-truth measures one network: give its checkpoint (e.g. runs/snn.ckpt)");
    char err[TB_ERRLEN], *ckpt;
    if (scan_find_ckpt(pos[0], &ckpt, err)) cli_die(1, "%s", err);
    rep_set M;
    if (rep_load(a->truth, 1, &M, err)) cli_die(1, "%s", err);
    scan_truth_opts o;
    memset(&o, 0, sizeof o);
    o.fmri_snr = parse_snrs(a->truth_snr, &o.n_snr);
    scan_config e;
    scan_default_config(&e, SCAN_ECOG);
    o.ecog_snr = e.snr;
    o.rate_trials = 10;
    align_opts_default(&o.ao);
    o.ao.encoding = 1;
    o.ao.seed = o.ao.enc.seed = (uint64_t)a->seed;
    scan_truth t;
    if (scan_truth_run(&M, ckpt, p, &o, &t, err)) cli_die(1, "%s", err);
    char *png = cli_strf("%s/%s.png", a->plots, a->name), *tsv = cli_strf("%s/%s.tsv", a->out ? a->out : TB_RUNS_DIR, a->name);
    if (scan_truth_figure(png, &t, &M, err) || scan_truth_write_tsv(tsv, &t, &M, err)) cli_die(1, "%s", err);
    if (a->json) truth_json(&t, &M);
    else {
        printf("%s against the network %s, unmeasured and measured (measurement %d..%d below)\n", a->truth, ckpt, 0, t.n_meas - 1);
        for (int k = 0; k < t.n_meas; k++) print_measurement(&t, k, &M);
        print_ranking(&t, &M);
        cli_note("wrote %s", tsv);
        cli_note("wrote %s", png);
    }
    scan_truth_free(&t);
    rep_free(&M);
    free((void *)o.fmri_snr);
    free(ckpt); free(png); free(tsv);
    return 0;
}
