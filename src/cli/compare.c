/* compare.c -- `tinybrain compare GPT SNN`: brain meets model.  Lessons 13 and 15.
 *
 * Every GPT layer against the spiking network by every metric of `align`, and both
 * against model RDMs of what the probe sentences mean; --over-training GPT_DIR SNN_DIR
 * takes every step_*.ckpt of each run.  The comparison itself is compare.h; here are its
 * options, tables, JSON and file names.
 */
#include "cli.h"
#include "commands.h"
#include "compare.h"
#include "figures.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define STIMULI TB_DATA_DIR "/probes_sentences.txt"
#define META TB_DATA_DIR "/probes_sentences.tsv"

typedef struct {
    cmp_opts o;
    const char *out, *plots, *name;
    int json;
} cmp_cfg;

/* Tell where a file went (unless --json) and free its path. */
static void wrote(const cmp_cfg *c, char *path) {
    if (!c->json) cli_note("wrote %s", path);
    free(path);
}

/* A line plot's outcome: its error, or (unless --json) where it went. */
static void note_plot(int rc, const char *err, const cmp_cfg *c, const char *name, int rendered) {
    if (rc) cli_note("plot: %s", err);
    else if (!c->json) cli_note_plot(c->plots, name, rendered);
}

/* ---- one comparison of two final models -------------------------------------------------- */

/* Every number of one align_result, under its align keys. */
static void json_metrics(json_writer *w, const align_result *a) {
    for (int i = 0; i < align_result_nfields(); i++) jw_num(w, align_result_key(i), align_result_get(a, i));
}

static void json_layers(json_writer *w, const cmp_result *r) {
    jw_array(w, "layers", JW_LINES);
    for (int l = 0; l < r->n_layers; l++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "name", r->gpt.rep.layer[l].name);
        jw_str(w, "layer", r->gpt.rep.layer[l].name);
        json_metrics(w, &r->layer[l]);
        if (r->have_refs) {
            jw_num(w, "unique_r2_over_lexical", r->unique_r2_over_lexical[l]);
            jw_num(w, "unique_r2_lexical_over_layer", r->unique_r2_lexical[l]);
            jw_num(w, "rsa_spearman_partial_lexical", r->rsa_partial_lexical[l]);
            jw_num(w, "p_best", r->p_best[l]);
        }
        jw_end(w);
    }
    jw_end(w);
}

static void json_references(json_writer *w, const cmp_result *r) {
    jw_object(w, "baselines", JW_LINES);
    for (int b = 0; b < CMP_N_BASE; b++) {
        if (!r->base[b].available) continue;
        jw_object(w, cmp_base_key[b], JW_COMPACT);
        jw_str(w, "layer", r->base[b].layer);
        json_metrics(w, &r->base[b].res);
        jw_end(w);
    }
    jw_end(w);
    jw_object(w, "baselines_missing", JW_COMPACT);
    for (int b = 0; b < CMP_N_BASE; b++)
        if (!r->base[b].available) jw_str(w, cmp_base_key[b], r->base[b].why);
    jw_end(w);
    jw_object(w, "best_layer", JW_COMPACT);
    jw_str(w, "name", r->gpt.rep.layer[r->best].name);
    jw_str(w, "metric", boot_metric_name(r->rank));
    jw_num(w, "p_best", r->p_best[r->best]);
    jw_int(w, "bootstrap_resamples", r->boot);
    jw_end(w);
    jw_array(w, "findings", JW_LINES);
    for (int i = 0; i < r->n_findings; i++) {
        const cmp_finding *F = &r->finding[i];
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "id", F->id);
        jw_str(w, "claim", F->claim);
        jw_str(w, "metric", F->metric);
        jw_num(w, "value", F->a);
        jw_num(w, "reference", F->b);
        jw_num(w, "difference", F->diff);
        jw_num(w, "ci_low", F->lo);
        jw_num(w, "ci_high", F->hi);
        jw_str(w, "verdict", F->verdict);
        jw_str(w, "text", F->text);
        jw_end(w);
    }
    jw_end(w);
}

static void json_units(json_writer *w, const cmp_result *r) {
    static const char *const keys[3] = {"rsa_spearman", "cka_linear", "encoding_r_median"};
    jw_object(w, "units_control", JW_LINES);
    for (int i = 0; i < r->n_layers + CMP_N_BASE; i++) {
        const cmp_units *u = &r->units[i];
        if (!u->repeats) continue;
        jw_object(w, i < r->n_layers ? r->gpt.rep.layer[i].name : cmp_base_key[i - r->n_layers], JW_COMPACT);
        jw_int(w, "units", u->k);
        jw_int(w, "repeats", u->repeats);
        for (int q = 0; q < 3; q++) {
            int m = cmp_metric_index(keys[q]);
            char *lo = cli_strf("%s_low", keys[q]), *hi = cli_strf("%s_high", keys[q]);
            jw_num(w, keys[q], cmp_value(&u->mean, m));
            jw_num(w, lo, cmp_value(&u->low, m));
            jw_num(w, hi, cmp_value(&u->high, m));
            free(lo);
            free(hi);
        }
        jw_end(w);
    }
    jw_end(w);
}

static void print_json(const cmp_result *r) {
    json_writer *w = json_w();
    const rep_layer *B = &r->snn.rep.layer[0];
    json_begin();
    json_int("stimuli", r->n_stimuli);
    json_int("gpt_step", r->gpt.step);
    json_int("snn_step", r->snn.step);
    json_int("snn_neurons", B->p);
    json_int("snn_trials", B->trials);
    json_str("cca", *r->cca_note ? r->cca_note : "cross-validated (fit on half the stimuli, scored on the other half)");
    if (r->twins) json_str("twins_left_out", r->twins_note);
    json_layers(w, r);
    if (r->have_refs) json_references(w, r);
    else json_str("best_layer", r->gpt.rep.layer[r->best].name);
    if (r->units) json_units(w, r);
    if (r->have_meta) {
        jw_object(w, "model_rdm_tau_a", JW_COMPACT);
        for (int f = 0; f < STIM_N_FEAT; f++) {
            jw_object(w, stim_feat_key[f], JW_COMPACT);
            for (int l = 0; l <= r->n_layers; l++)
                jw_num(w, l < r->n_layers ? r->gpt.rep.layer[l].name : "snn", cmp_tau(r, f, l));
            jw_end(w);
        }
        jw_end(w);
    }
    json_end();
}

static void print_tau_table(const cmp_result *r) {
    int nl = r->n_layers, nc = nl + 2, *w = malloc((size_t)nc * sizeof(int));
    const char **head = malloc((size_t)nc * sizeof(char *)), **cells = malloc((size_t)nc * sizeof(char *));
    char *b = malloc((size_t)nc * CLI_NUMLEN);
    if (!w || !head || !cells || !b) cli_die(1, "out of memory");
    printf("\nwhat each representation encodes: Kendall tau-a with model RDMs of the sentences' meaning\n");
    w[0] = 22;
    head[0] = "model RDM";
    for (int l = 0; l <= nl; l++) { w[l + 1] = 10; head[l + 1] = l < nl ? r->gpt.rep.layer[l].name : "snn"; }
    cli_table_row(nc, w, head);
    cli_table_rule(nc, w);
    for (int f = 0; f < STIM_N_FEAT; f++) {
        cells[0] = stim_feat_name[f];
        for (int l = 0; l <= nl; l++) { cli_fmt_num(b + l * CLI_NUMLEN, CLI_NUMLEN, cmp_tau(r, f, l)); cells[l + 1] = b + l * CLI_NUMLEN; }
        cli_table_row(nc, w, cells);
    }
    free(w); free(head); free(cells); free(b);
}

/* "0.4123 [0.3811, 0.4402]" */
static void fmt_ci(char *b, size_t n, double v, double lo, double hi) {
    if (isnan(v)) snprintf(b, n, "-");
    else if (isnan(lo)) snprintf(b, n, "%.4f", v);
    else snprintf(b, n, "%.4f [%.4f, %.4f]", v, lo, hi);
}

static void reference_row(const char *name, const char *layer, const align_result *a) {
    int w[5] = {-26, -10, 26, 26, 8};
    char b[3][64];
    fmt_ci(b[0], 64, a->rsa_spearman, a->rsa_spearman_ci_low, a->rsa_spearman_ci_high);
    fmt_ci(b[1], 64, a->cka_linear, a->cka_linear_ci_low, a->cka_linear_ci_high);
    cli_fmt_num(b[2], 64, a->encoding_r_median);
    const char *cells[5] = {name, layer, b[0], b[1], b[2]};
    cli_table_row(5, w, cells);
}

static void print_references(const cmp_result *r) {
    int w[5] = {-26, -10, 26, 26, 8};
    const char *head[5] = {"", "layer", "rsa_spearman [95% CI]", "cka_linear [95% CI]", "enc_r"};
    printf("\nwhat the scores are read against (95%% intervals: %d bootstrap resamples of the stimuli):\n", r->boot);
    cli_table_row(5, w, head);
    cli_table_rule(5, w);
    char *best = cli_strf("GPT (best by %s)", boot_metric_name(r->rank));
    reference_row(best, r->gpt.rep.layer[r->best].name, &r->layer[r->best]);
    free(best);
    for (int b = 0; b < CMP_N_BASE; b++)
        if (r->base[b].available) reference_row(cmp_base_name[b], r->base[b].layer, &r->base[b].res);
    for (int b = 0; b < CMP_N_BASE; b++)
        if (!r->base[b].available) printf("  (no %s: %s)\n", cmp_base_name[b], r->base[b].why);
}

static void print_beyond_words(const cmp_result *r) {
    int w[5] = {10, 12, 12, 12, 8};
    const char *head[5] = {"GPT layer", "unique_R2", "words_R2", "partial_rsa", "p_best"};
    printf("\nbeyond the words: unique R^2 of the layer over the bag of words (and of the words over the layer),\n"
           "median over neurons; Spearman RSA with the words' RDM partialled out; bootstrap P(best by %s):\n",
           boot_metric_name(r->rank));
    cli_table_row(5, w, head);
    cli_table_rule(5, w);
    for (int l = 0; l < r->n_layers; l++) {
        char b[4][CLI_NUMLEN];
        cli_fmt_num(b[0], CLI_NUMLEN, r->unique_r2_over_lexical[l]);
        cli_fmt_num(b[1], CLI_NUMLEN, r->unique_r2_lexical[l]);
        cli_fmt_num(b[2], CLI_NUMLEN, r->rsa_partial_lexical[l]);
        snprintf(b[3], CLI_NUMLEN, "%.2f", r->p_best[l]);
        const char *cells[5] = {r->gpt.rep.layer[l].name, b[0], b[1], b[2], b[3]};
        cli_table_row(5, w, cells);
    }
}

static void print_units(const cmp_result *r) {
    const cmp_units *u0 = NULL;
    for (int i = 0; i < r->n_layers + CMP_N_BASE && !u0; i++) if (r->units[i].repeats) u0 = &r->units[i];
    if (!u0) return;
    printf("\nfeature-count control: each model side at %d random units, %d repeats (mean [2.5%%, 97.5%%]):\n", u0->k,
           u0->repeats);
    for (int i = 0; i < r->n_layers + CMP_N_BASE; i++) {
        const cmp_units *u = &r->units[i];
        if (!u->repeats) continue;
        char b[2][64];
        fmt_ci(b[0], 64, u->mean.rsa_spearman, u->low.rsa_spearman, u->high.rsa_spearman);
        fmt_ci(b[1], 64, u->mean.cka_linear, u->low.cka_linear, u->high.cka_linear);
        printf("  %-22s rsa_spearman %-26s cka_linear %s\n",
               i < r->n_layers ? r->gpt.rep.layer[i].name : cmp_base_name[i - r->n_layers], b[0], b[1]);
    }
}

static void print_findings(const cmp_result *r) {
    printf("\nfindings (computed from the numbers above; a difference counts when its 95%% interval excludes 0):\n");
    for (int i = 0; i < r->n_findings; i++) printf("  [%s] %s\n", r->finding[i].verdict, r->finding[i].text);
}

static void print_table(const cmp_result *r, const char *gpt, const char *snn) {
    const rep_layer *B = &r->snn.rep.layer[0];
    printf("GPT (%s) vs spiking network (%s): %d %s; SNN %d trials x %d neurons\n", gpt, snn, r->n_stimuli,
           r->twins ? "twin differences" : "probe sentences", B->trials, B->p);
    int w[CMP_N_SHOWN + 1];
    const char *head[CMP_N_SHOWN + 1], *cells[CMP_N_SHOWN + 1];
    char b[CMP_N_SHOWN][CLI_NUMLEN];
    w[0] = 10;
    head[0] = "GPT layer";
    for (int k = 0; k < cmp_n_shown; k++) { w[k + 1] = 8; head[k + 1] = cmp_metrics[cmp_metric_index(cmp_shown[k])].head; }
    cli_table_row(cmp_n_shown + 1, w, head);
    cli_table_rule(cmp_n_shown + 1, w);
    for (int l = 0; l < r->n_layers; l++) {
        cells[0] = r->gpt.rep.layer[l].name;
        for (int k = 0; k < cmp_n_shown; k++) {
            cli_fmt_num(b[k], CLI_NUMLEN, cmp_value(&r->layer[l], cmp_metric_index(cmp_shown[k])));
            cells[k + 1] = b[k];
        }
        cli_table_row(cmp_n_shown + 1, w, cells);
    }
    printf("all similarities (higher = more alike) except proc_ang (a distance, radians) and the p-values;\n"
           "enc_r predicts the network's rates from the GPT layer; ceiling = the network's own trial-to-trial limit;\n"
           "svcca/pwcca are cross-validated%s%s.\n", *r->cca_note ? " -- " : "", r->cca_note);
    if (!r->have_refs)
        printf("highest %s: %s (no references computed: --no-baselines)\n", boot_metric_name(r->rank),
               r->gpt.rep.layer[r->best].name);
    if (r->have_refs) {
        print_references(r);
        if (r->base[CMP_LEXICAL].available) print_beyond_words(r);
        else printf("\nbootstrap P(best by %s) of %s: %.2f\n", boot_metric_name(r->rank), r->gpt.rep.layer[r->best].name,
                    r->p_best[r->best]);
        if (r->units) print_units(r);
        print_findings(r);
    }
    if (r->have_meta) print_tau_table(r);
}

static int compare_models(const char *gpt, const char *snn, const cmp_cfg *c) {
    cmp_result r;
    char err[TB_ERRLEN];
    cli_progress_start();
    int rc = cmp_models(gpt, snn, &c->o, &r, err);
    cli_progress_end();
    if (rc) cli_die(1, "%s", err);
    if (r.snn.dropped && !c->json)
        cli_note("%s: left out %d neurons that fire the same on every stimulus (mostly silent)", snn, r.snn.dropped);
    if (*r.cca_note) cli_note("%s; left out of the findings and plots", r.cca_note);
    if (*r.twins_note) cli_note("GPT layers %s", r.twins_note);
    if (r.layer[0].ceiling_status != ENC_CEIL_OK && r.layer[0].ceiling_status != ENC_CEIL_NOT_RUN)
        cli_note("enc_ceil not defined: %s", enc_ceiling_reason(r.layer[0].ceiling_status));
    char *path = cli_strf("%s/%s.tsv", c->out, c->name), *plot = cli_strf("%s_by_layer", c->name);
    if (cmp_write_layers_tsv(&r, path, err)) cli_die(1, "%s", err);
    wrote(c, path);
    if (r.have_meta) {
        path = cli_strf("%s/%s_model_rdms.tsv", c->out, c->name);
        if (cmp_write_tau_tsv(&r, path, err)) cli_die(1, "%s", err);
        wrote(c, path);
    }
    int rendered;
    rc = fig_compare_by_layer(c->plots, plot, &r, &rendered, err);
    note_plot(rc, err, c, plot, rendered);
    path = cli_strf("%s/%s_rdms.png", c->plots, c->name);
    if (fig_compare_rdms(path, &r, err)) cli_die(1, "%s", err);
    wrote(c, path);
    if (r.have_refs) {   /* the findings alone, one per line, for summaries (make demo) */
        path = cli_strf("%s/%s_findings.txt", c->out, c->name);
        size_t cap = 1, len = 0;
        for (int i = 0; i < r.n_findings; i++) cap += strlen(r.finding[i].text) + 32;
        char *text = malloc(cap);
        if (!text) cli_die(1, "out of memory");
        text[0] = 0;
        for (int i = 0; i < r.n_findings; i++)
            len += (size_t)snprintf(text + len, cap - len, "[%s] %s\n", r.finding[i].verdict, r.finding[i].text);
        if (write_text_file(path, text, err)) cli_die(1, "%s", err);
        free(text);
        wrote(c, path);
    }
    if (c->json) print_json(&r);
    else print_table(&r, gpt, snn);
    free(plot);
    cmp_result_free(&r);
    return 0;
}

/* ---- alignment over training --------------------------------------------------------------- */

/* One snapshot: its step, minimal pairs, and every GPT layer's RSA, CKA and encoding r. */
static void training_row(const cmp_training *t, const cmp_snapshot *s, int side) {
    printf("%-5s %7lld  %7.4f ", side ? "snn" : "gpt", s->step, s->pair_acc);
    for (int l = 0; l < t->n_layers; l++)
        printf("  %7.4f %7.4f %7.4f", s->score[l * CMP_T_METRICS + CMP_T_RSA], s->score[l * CMP_T_METRICS + CMP_T_CKA],
               s->score[l * CMP_T_METRICS + CMP_T_ENC]);
    printf("\n");
    fflush(stdout);
}

static void training_head(const cmp_training *t, const cmp_cfg *c) {
    printf("alignment over training, layer by layer (each snapshot vs the other model's final snapshot; %s)\n",
           c->o.stimuli);
    printf("%-5s %7s  %7s ", "model", "step", "mp_acc");
    for (int l = 0; l < t->n_layers; l++) printf("  %-23.23s", t->layer_name[l]);
    printf("\n%-5s %7s  %7s ", "", "", "");
    for (int l = 0; l < t->n_layers; l++) printf("  %7s %7s %7s", "rsa_sp", "cka", "enc_r");
    printf("\n");
}

/* Per side, layer and metric: r with minimal-pair accuracy across the snapshots. */
static void training_corr(const cmp_training *t, const cmp_cfg *c, json_writer *w) {
    if (!w) printf("\ndo alignment and minimal-pair accuracy move together across snapshots? (Pearson r, 95%% interval "
                   "over %d bootstrap resamples of the snapshots)\n", c->o.boot);
    if (w) jw_array(w, "correlation_with_minimal_pairs", JW_LINES);
    for (int side = 0; side < 2; side++)
        for (int l = 0; l < t->n_layers; l++)
            for (int q = 0; q < CMP_T_METRICS; q++) {
                double r, lo, hi;
                cmp_training_corr(t, side, l, q, c->o.boot, c->o.seed, &r, &lo, &hi);
                if (w) {
                    jw_object(w, NULL, JW_COMPACT);
                    jw_str(w, "model", side ? "snn" : "gpt");
                    jw_str(w, "gpt_layer", t->layer_name[l]);
                    jw_str(w, "metric", cmp_t_key[q]);
                    jw_num(w, "r", r);
                    jw_num(w, "ci_low", lo);
                    jw_num(w, "ci_high", hi);
                    jw_end(w);
                } else {
                    printf("  %-4s %-10s %-18s r = %+.3f [%+.3f, %+.3f]%s\n", side ? "snn" : "gpt", t->layer_name[l],
                           cmp_t_key[q], r, lo, hi, isnan(lo) ? "  (no interval: fewer than " TB_STR(CMP_T_MIN_CI) " snapshots)"
                                                     : lo > 0 || hi < 0 ? "" : "  (interval includes 0)");
                }
            }
    if (w) jw_end(w);
}

static void training_json(const cmp_training *t, const cmp_cfg *c) {
    json_writer *w = json_w();
    json_begin();
    json_int("gpt_layers", t->n_layers);
    jw_array(w, "snapshots", JW_LINES);
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < t->n[side]; i++) {
            const cmp_snapshot *s = &t->snap[side][i];
            jw_object(w, NULL, JW_COMPACT);
            jw_str(w, "model", side ? "snn" : "gpt");
            jw_int(w, "step", s->step);
            jw_num(w, "minimal_pair_acc", s->pair_acc);
            jw_object(w, "layers", JW_COMPACT);
            for (int l = 0; l < t->n_layers; l++) {
                jw_object(w, t->layer_name[l], JW_COMPACT);
                for (int q = 0; q < CMP_T_METRICS; q++) jw_num(w, cmp_t_key[q], s->score[l * CMP_T_METRICS + q]);
                jw_end(w);
            }
            jw_end(w);
            jw_end(w);
        }
    jw_end(w);
    training_corr(t, c, w);
    json_end();
}

static int over_training(const char *gdir, const char *sdir, const cmp_cfg *c) {
    cmp_training t;
    char err[TB_ERRLEN];
    cmp_opts o = c->o;
    o.progress = (tb_progress){NULL, NULL};   /* progress by snapshot, below */
    if (cmp_training_open(gdir, sdir, &o, &t, err)) cli_die(1, "%s", err);
    if (!c->json) training_head(&t, c);
    cli_progress_start();
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < t.n[side]; i++) {
            if (cmp_training_score(&t, side, i, &o, err)) cli_die(1, "%s", err);
            if (!c->json) training_row(&t, &t.snap[side][i], side);
            cli_progress(side * t.n[0] + i + 1, t.n[0] + t.n[1], "snapshots");
        }
    cli_progress_end();
    char *path = cli_strf("%s/%s_over_training.tsv", c->out, c->name), *plot = cli_strf("%s_over_training", c->name);
    if (cmp_training_write_tsv(&t, path, err)) cli_die(1, "%s", err);
    wrote(c, path);
    int rendered, rc = fig_over_training(c->plots, plot, &t, &rendered, err);
    note_plot(rc, err, c, plot, rendered);
    if (c->json) training_json(&t, c);
    else training_corr(&t, c, NULL);
    free(plot);
    cmp_training_free(&t);
    return 0;
}

/* ---- seeds ----------------------------------------------------------------------------------- */

static void seeds_progress(void *ctx, const char *what, int done, int total) {
    (void)ctx;
    cli_progress(done, total, "%s", what);
    if (done == total) cli_progress_end();
}

/* "0.4512 [0.4301, 0.4723]" for mean and interval */
static void seeds_cell(char *b, size_t n, double m, double lo, double hi) { fmt_ci(b, n, m, lo, hi); }

static void seeds_table(const cmp_seeds *s) {
    printf("GPT seed k vs spiking-network seed k, k = 1..%d: mean [95%% interval across seeds]\n", s->n);
    printf("%-26s", "");
    for (int m = 0; m < CMP_S_METRICS; m++) printf("  %-26s", cmp_s_key[m]);
    printf("\n");
    char b[64];
    for (int l = 0; l < s->n_layers; l++) {
        printf("%-26s", s->layer[l]);
        for (int m = 0; m < CMP_S_METRICS; m++) {
            double mean, lo, hi;
            cmp_seeds_layer(s, l, m, &mean, &lo, &hi);
            seeds_cell(b, sizeof b, mean, lo, hi);
            printf("  %-26s", b);
        }
        printf("\n");
    }
    for (int k = 0; k < CMP_N_BASE; k++) {
        double mean, lo, hi;
        cmp_seeds_base(s, k, CMP_S_RSA, &mean, &lo, &hi);
        if (isnan(mean)) continue;
        printf("%-26s", cmp_base_name[k]);
        for (int m = 0; m < CMP_S_METRICS - 1; m++) {
            cmp_seeds_base(s, k, m, &mean, &lo, &hi);
            seeds_cell(b, sizeof b, mean, lo, hi);
            printf("  %-26s", b);
        }
        printf("\n");
    }
}

static void seeds_reference(const cmp_seeds *s) {
    printf("\nthe model-to-model reference (%d pairs of seeds): how alike two seeds of the same model are\n", s->n_pairs);
    char b[2][64];
    double m, lo, hi;
    for (int l = 0; l < s->n_layers; l++) {
        for (int q = 0; q < 2; q++) {
            cmp_seeds_gpt_pair(s, l, l, q, &m, &lo, &hi);
            seeds_cell(b[q], 64, m, lo, hi);
        }
        printf("  GPT %-10s vs GPT %-10s rsa_spearman %-26s cka_linear %s\n", s->layer[l], s->layer[l], b[0], b[1]);
    }
    for (int q = 0; q < 2; q++) {
        cmp_seeds_snn_pair(s, q, &m, &lo, &hi);
        seeds_cell(b[q], 64, m, lo, hi);
    }
    printf("  network vs network              rsa_spearman %-26s cka_linear %s\n", b[0], b[1]);
    double diag = 0, off = 0;
    int nd = 0, no = 0;
    for (int a = 0; a < s->n_layers; a++)
        for (int c = 0; c < s->n_layers; c++) {
            cmp_seeds_gpt_pair(s, a, c, 1, &m, &lo, &hi);
            if (a == c) { diag += m; nd++; } else { off += m; no++; }
        }
    if (no) printf("  GPT seeds, layer by layer (CKA): same layer %.4f on average, different layers %.4f\n", diag / nd, off / no);
}

static void seeds_findings(const cmp_seeds *s) {
    printf("\nfindings across seeds (verdict of each seed pair, as in `compare`):\n");
    for (int f = 0; f < s->n_findings; f++)
        printf("  %-16s supported %d, contrary %d, not distinguishable %d, not available %d (of %d)\n", s->finding_id[f],
               s->verdict_count[f][0], s->verdict_count[f][1], s->verdict_count[f][2], s->verdict_count[f][3], s->n);
}

static void seeds_json(const cmp_seeds *s) {
    json_writer *w = json_w();
    double m, lo, hi;
    json_begin();
    json_int("seeds", s->n);
    jw_array(w, "layers", JW_LINES);
    for (int l = 0; l < s->n_layers; l++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "name", s->layer[l]);
        for (int k = 0; k < CMP_S_METRICS; k++) {
            cmp_seeds_layer(s, l, k, &m, &lo, &hi);
            jw_num_ci(w, cmp_s_key[k], m, lo, hi);
        }
        jw_end(w);
    }
    jw_end(w);
    jw_object(w, "baselines", JW_LINES);
    for (int b = 0; b < CMP_N_BASE; b++) {
        cmp_seeds_base(s, b, CMP_S_RSA, &m, &lo, &hi);
        if (isnan(m)) continue;
        jw_object(w, cmp_base_key[b], JW_COMPACT);
        for (int k = 0; k < CMP_S_METRICS - 1; k++) {
            cmp_seeds_base(s, b, k, &m, &lo, &hi);
            jw_num_ci(w, cmp_s_key[k], m, lo, hi);
        }
        jw_end(w);
    }
    jw_end(w);
    jw_object(w, "model_to_model", JW_LINES);
    jw_array(w, "gpt", JW_LINES);
    for (int a = 0; a < s->n_layers; a++)
        for (int c = 0; c < s->n_layers; c++) {
            jw_object(w, NULL, JW_COMPACT);
            jw_str(w, "layer_a", s->layer[a]);
            jw_str(w, "layer_b", s->layer[c]);
            for (int q = 0; q < 2; q++) {
                cmp_seeds_gpt_pair(s, a, c, q, &m, &lo, &hi);
                jw_num_ci(w, q ? "cka_linear" : "rsa_spearman", m, lo, hi);
            }
            jw_end(w);
        }
    jw_end(w);
    jw_object(w, "snn", JW_COMPACT);
    for (int q = 0; q < 2; q++) {
        cmp_seeds_snn_pair(s, q, &m, &lo, &hi);
        jw_num_ci(w, q ? "cka_linear" : "rsa_spearman", m, lo, hi);
    }
    jw_end(w);
    jw_end(w);
    jw_array(w, "findings", JW_LINES);
    for (int f = 0; f < s->n_findings; f++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "id", s->finding_id[f]);
        jw_int(w, "supported", s->verdict_count[f][0]);
        jw_int(w, "contrary", s->verdict_count[f][1]);
        jw_int(w, "not_distinguishable", s->verdict_count[f][2]);
        jw_int(w, "not_available", s->verdict_count[f][3]);
        jw_end(w);
    }
    jw_end(w);
    json_end();
}

static int compare_seeds(const cmp_cfg *c, int seeds, int jobs, const char *root) {
    char exe[4096], err[TB_ERRLEN];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) cli_die(1, "cannot find the tinybrain binary to train seeds with (/proc/self/exe)");
    exe[len] = 0;
    cmp_seeds s;
    cli_progress_start();
    if (cmp_seeds_run(&c->o, exe, root, seeds, jobs, seeds_progress, NULL, &s, err)) cli_die(1, "%s", err);
    if (c->json) seeds_json(&s);
    else {
        seeds_table(&s);
        seeds_reference(&s);
        seeds_findings(&s);
        printf("\nthe trained models are in %s/ (cached: a second run reuses them)\n", root);
    }
    cmp_seeds_free(&s);
    return 0;
}

/* ---- a scan's regions ----------------------------------------------------------------------- */

static void regions_table(const cmp_regions *g) {
    for (int i = 0; i < g->n_subjects; i++) {
        const cmp_region_subject *s = &g->subject[i];
        printf("%s: fROI (ceiling %.3f) vs control region (ceiling %.3f)\n", s->name, s->ceiling[0], s->ceiling[1]);
        printf("  %-10s  %8s %8s  %-28s  %14s  %14s\n", "GPT layer", "rsa_fROI", "rsa_ctrl", "fROI - control [95% CI]",
               "enc_r fROI/ceil", "enc_r ctrl/ceil");
        for (int l = 0; l < g->n_layers; l++) {
            char d[64], e[2][40];
            snprintf(d, sizeof d, "%+.4f [%+.4f, %+.4f]", s->diff[l], s->lo[l], s->hi[l]);
            for (int k = 0; k < 2; k++) snprintf(e[k], sizeof e[k], "%.3f / %.2f", s->enc[k][l], s->enc[k][l] / s->ceiling[k]);
            printf("  %-10s  %8.4f %8.4f  %-28s  %14s  %14s\n", g->layer[l], s->rsa[0][l], s->rsa[1][l], d, e[0], e[1]);
        }
    }
    printf("\nfROI above control (interval above 0), by layer:");
    for (int l = 0; l < g->n_layers; l++) {
        int k = 0;
        for (int i = 0; i < g->n_subjects; i++) k += g->subject[i].lo[l] > 0;
        printf("  %s %d/%d", g->layer[l], k, g->n_subjects);
    }
    printf(" subjects\nenc_r/ceil divides by each region's own within-subject ceiling (regions differ in reliability).\n");
}

static void regions_json(const cmp_regions *g) {
    json_writer *w = json_w();
    json_begin();
    jw_array(w, "subjects", JW_LINES);
    for (int i = 0; i < g->n_subjects; i++) {
        const cmp_region_subject *s = &g->subject[i];
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "subject", s->name);
        jw_num(w, "ceiling_froi", s->ceiling[0]);
        jw_num(w, "ceiling_control", s->ceiling[1]);
        jw_array(w, "layers", JW_COMPACT);
        for (int l = 0; l < g->n_layers; l++) {
            jw_object(w, NULL, JW_COMPACT);
            jw_str(w, "name", g->layer[l]);
            jw_num(w, "rsa_spearman_froi", s->rsa[0][l]);
            jw_num(w, "rsa_spearman_control", s->rsa[1][l]);
            jw_num(w, "difference", s->diff[l]);
            jw_num(w, "ci_low", s->lo[l]);
            jw_num(w, "ci_high", s->hi[l]);
            jw_num(w, "encoding_r_froi", s->enc[0][l]);
            jw_num(w, "encoding_r_control", s->enc[1][l]);
            jw_end(w);
        }
        jw_end(w);
        jw_end(w);
    }
    jw_end(w);
    json_end();
}

static int compare_regions(const char *gpt, const char *scan, const cmp_cfg *c) {
    cmp_regions g;
    char err[TB_ERRLEN];
    cli_progress_start();
    if (cmp_regions_run(gpt, scan, &c->o, &g, err)) cli_die(1, "%s", err);
    cli_progress_end();
    if (c->json) regions_json(&g);
    else regions_table(&g);
    cmp_regions_free(&g);
    return 0;
}

/* The untrained baselines' flags: "auto" -> NULL (the checkpoint at initialisation),
 * "none" -> "" (not wanted), else a path. */
static const char *ref_path(const char *v) {
    if (!v || !*v || !strcmp(v, "auto")) return NULL;
    if (!strcmp(v, "none")) return "";
    return v;
}

int cmd_compare(int argc, char **argv) {
    cmp_cfg c;
    cmp_opts_default(&c.o);
    long long seed;
    int over, no_base, seeds, jobs;
    const char *seeds_dir;
    const char *pool_s, *rank_s, *ugpt, *usnn;
    cli_opt opts[] = {
        {"pool", 'c', &pool_s, "mean", "", "over a sentence's tokens: mean, or the last token", 0, 0, "mean|last"},
        {"stimuli", 's', &c.o.stimuli, STIMULI, "", "probe stimuli, one per line (their words are the lexical baseline)", 0, 0, NULL},
        {"vocab", 's', &c.o.vocab, TB_DATA_DIR "/vocab.tsv", "", "word metadata (word, pos columns) for the part-of-speech model RDM", 0, 0, NULL},
        {"meta", 's', &c.o.meta, META, "", "stimulus metadata for model RDMs ('' = none)", 0, 0, NULL},
        {"pairs", 's', &c.o.pairs, TB_DATA_DIR "/minimal_pairs.tsv", "", "minimal pairs scored for --over-training", 0, 0, NULL},
        {"trials", 'i', &c.o.trials, "10", "", "spiking network: trials per stimulus (fresh background noise)", 2, 1000, NULL},
        {"perm", 'i', &c.o.perm, "200", "", "permutations for rsa_p and cka_p", 0, 100000, NULL},
        {"boot", 'i', &c.o.boot, "200", "", "bootstrap resamples of the stimuli: intervals, paired differences, p_best", 20, 100000, NULL},
        {"rank-metric", 'c', &rank_s, "rsa_spearman", "", "the metric that ranks layers and decides the findings", 0, 0,
         "rsa_spearman|cka_linear|rsa_pearson|rsa_kendall_a"},
        {"untrained-gpt", 's', &ugpt, "auto", "", "untrained GPT baseline: auto (the checkpoint at initialisation), none, or a checkpoint/recording", 0, 0, NULL},
        {"untrained-snn", 's', &usnn, "auto", "", "untrained network baseline: auto, none, or a checkpoint/recording", 0, 0, NULL},
        {"scrambled", 's', &c.o.scrambled, "", "", "a GPT trained with --scramble (checkpoint or recording): the scrambled-words control", 0, 0, NULL},
        {"no-baselines", 'b', &no_base, NULL, "", "skip the baselines, intervals and findings (faster)", 0, 0, NULL},
        {"twins", 'b', &c.o.twins, NULL, "", "the stimuli are same-words twins (lines 2k, 2k+1): compare within-pair differences", 0, 0, NULL},
        {"pca", 'i', &c.o.pca, "0", "", "reduce every model-side representation to its first K principal components (0: off)", 0, 100000, NULL},
        {"units", 'i', &c.o.units, "0", "", "also score each model side at K random units (feature-count control; 0: off)", 0, 100000, NULL},
        {"units-repeats", 'i', &c.o.units_repeats, "20", "", "random unit subsets for --units", 2, 10000, NULL},
        {"seed", 'l', &seed, "1", "", "seed for trial noise, permutations, bootstrap and folds", 0, 9.2e18, NULL},
        {"out", 's', &c.out, "runs/compare", "", "folder for the TSV tables", 0, 0, NULL},
        {"plots", 's', &c.plots, TB_PLOTS_DIR, "", "folder for the pictures", 0, 0, NULL},
        {"name", 's', &c.name, "compare", "", "file-name prefix of tables and pictures", 0, 0, NULL},
        {"over-training", 'b', &over, NULL, "", "GPT and SNN are run folders of step_*.ckpt: alignment by training step", 0, 0, NULL},
        {"seeds", 'i', &seeds, "0", "", "train N seeds of each model (cached) and report every score across seeds (no GPT SNN arguments)", 0, 1000, NULL},
        {"seeds-dir", 's', &seeds_dir, TB_RUNS_DIR "/seeds", "", "folder of the seeds' run folders", 0, 0, NULL},
        {"jobs", 'i', &jobs, "2", "", "training processes at once for --seeds", 1, 64, NULL},
        {"json", 'b', &c.json, NULL, "", "one JSON object on stdout", 0, 0, NULL},
    };
    cli_cmd cmd = {"compare", "GPT SNN",
                   "brain meets model: every GPT layer vs the spiking network, read against baselines",
                   "GPT and SNN are checkpoints (recorded here on --stimuli) or folders written by `tinybrain "
                   "record`. Every GPT layer is compared with the network's firing rates by all of align's metrics "
                   "(the GPT as features, the network as the 'brain' whose trials give the noise ceiling; the CCA "
                   "family cross-validated), with permutation p-values. Every score is read against references "
                   "computed the same way: a bag-of-words baseline, noise of the layer's shape, the untrained GPT, "
                   "the untrained network and (--scrambled) a GPT trained on shuffled words, with bootstrap "
                   "intervals; variance partitioning and partial RSA against the words; the best layer's bootstrap "
                   "probability; and findings whose verdicts are computed from paired bootstrap differences. "
                   "--over-training takes run folders (runs/gpt, runs/snn with step_*.ckpt).",
                   "tinybrain compare runs/gpt.ckpt runs/snn.ckpt --scrambled runs/gpt_scrambled.ckpt"};
    char *pos[2];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 2);
    if (seeds > 0 && npos) cli_die(2, "--seeds trains its own models: give no GPT SNN arguments");
    if (!seeds && npos < 2) cli_die(2, "missing argument (usage: tinybrain compare [options] GPT SNN)");
    c.o.seed = (uint64_t)seed;
    c.o.progress = cli_progress_hook("comparing");
    c.o.pool_last = !strcmp(pool_s, "last");
    c.o.baselines = !no_base;
    c.o.rank = (boot_metric)boot_metric_from_name(rank_s);
    c.o.untrained_gpt = ref_path(ugpt);
    c.o.untrained_snn = ref_path(usnn);
    if (c.o.scrambled && !*c.o.scrambled) c.o.scrambled = NULL;
    if (seeds) {
        if (c.o.scrambled) cli_die(2, "--scrambled is one model; with --seeds the scrambled control is not used");
        return compare_seeds(&c, seeds, jobs, seeds_dir);
    }
    if (c.o.scrambled && !*c.o.scrambled) c.o.scrambled = NULL;
    if (strstr(c.o.stimuli, "twins") && !c.o.twins) {
        c.o.twins = 1;
        if (!c.json) cli_note("%s: same-words twins, so comparing within-pair differences (--twins)", c.o.stimuli);
    }
    if (c.o.meta && !*c.o.meta) c.o.meta = NULL;
    if (c.o.meta && cli_given(argc, argv, "stimuli") && strcmp(c.o.stimuli, STIMULI) && !cli_given(argc, argv, "meta"))
        c.o.meta = NULL; /* custom stimuli: the default metadata does not describe them */
    int regions = !over && cmp_is_scan(pos[1]);
    if (regions && !c.json) cli_note("%s is a scan with regions: the GPT against its fROI and its control region", pos[1]);
    int rc = over ? over_training(pos[0], pos[1], &c)
           : regions ? compare_regions(pos[0], pos[1], &c) : compare_models(pos[0], pos[1], &c);
    cli_log_command(c.out, argc, argv);
    return rc;
}
