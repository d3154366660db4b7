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

#include <stdio.h>
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

static void print_json(const cmp_result *r) {
    json_writer *w = json_w();
    const rep_layer *B = &r->snn.rep.layer[0];
    json_begin();
    json_int("stimuli", r->n_stimuli);
    json_int("gpt_step", r->gpt.step);
    json_int("snn_step", r->snn.step);
    json_int("snn_neurons", B->p);
    json_int("snn_trials", B->trials);
    json_str("best_layer", r->gpt.rep.layer[r->best].name);
    json_num("best_rsa_spearman", r->layer[r->best].rsa_spearman);
    json_num("best_cka_linear", r->layer[r->best].cka_linear);
    jw_array(w, "layers", JW_COMPACT);
    for (int l = 0; l < r->n_layers; l++) {
        jw_object(w, NULL, JW_COMPACT);
        jw_str(w, "layer", r->gpt.rep.layer[l].name);
        for (int k = 0; k < cmp_n_shown; k++)
            jw_num(w, cmp_shown[k], cmp_value(&r->layer[l], cmp_metric_index(cmp_shown[k])));
        jw_end(w);
    }
    jw_end(w);
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

static void print_table(const cmp_result *r, const char *gpt, const char *snn) {
    const rep_layer *B = &r->snn.rep.layer[0];
    printf("GPT (%s) vs spiking network (%s): %d probe sentences; SNN %d trials x %d neurons\n", gpt, snn, r->n_stimuli,
           B->trials, B->p);
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
           "enc_r predicts the network's rates from the GPT layer; ceiling = the network's own trial-to-trial limit.\n");
    printf("best-aligned GPT layer: %s (rsa_spearman %.4f, cka_linear %.4f)\n", r->gpt.rep.layer[r->best].name,
           r->layer[r->best].rsa_spearman, r->layer[r->best].cka_linear);
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
    if (c->json) print_json(&r);
    else print_table(&r, gpt, snn);
    free(plot);
    cmp_result_free(&r);
    return 0;
}

/* ---- alignment over training --------------------------------------------------------------- */

static void training_row(const cmp_snapshot *s, int side) {
    int w[5] = {6, 8, 10, 10, 10};
    char b[5][CLI_NUMLEN];
    snprintf(b[0], CLI_NUMLEN, "%s", side ? "snn" : "gpt");
    snprintf(b[1], CLI_NUMLEN, "%lld", s->step);
    snprintf(b[2], CLI_NUMLEN, "%.4f", s->rsa);
    snprintf(b[3], CLI_NUMLEN, "%.4f", s->cka);
    snprintf(b[4], CLI_NUMLEN, "%.4f", s->pair_acc);
    const char *cells[5] = {b[0], b[1], b[2], b[3], b[4]};
    cli_table_row(5, w, cells);
    fflush(stdout);
}

static void training_json(const cmp_training *t) {
    static const char *const side[2] = {"gpt", "snn"}, *const key[4] = {"steps", "cka_best", "rsa_best", "minimal_pair_acc"};
    json_begin();
    for (int s = 0; s < 2; s++) {
        double *v = malloc((size_t)(t->n[s] > 0 ? t->n[s] : 1) * 4 * sizeof(double)), *col[4];
        if (!v) cli_die(1, "out of memory");
        for (int q = 0; q < 4; q++) col[q] = v + (size_t)q * t->n[s];
        for (int i = 0; i < t->n[s]; i++) {
            const cmp_snapshot *p = &t->snap[s][i];
            col[0][i] = (double)p->step; col[1][i] = p->cka; col[2][i] = p->rsa; col[3][i] = p->pair_acc;
        }
        for (int q = 0; q < 4; q++) {
            char *k = cli_strf("%s_%s", side[s], key[q]);
            json_num_array(k, col[q], t->n[s]);
            free(k);
        }
        free(v);
    }
    json_end();
}

static int over_training(const char *gdir, const char *sdir, const cmp_cfg *c) {
    cmp_training t;
    char err[TB_ERRLEN];
    cmp_opts o = c->o;
    o.progress = (tb_progress){NULL, NULL};   /* progress by snapshot, below */
    if (cmp_training_open(gdir, sdir, &o, &t, err)) cli_die(1, "%s", err);
    if (!c->json) {
        printf("alignment over training (each snapshot vs the other model's final snapshot; %s probes)\n", c->o.stimuli);
        int w[5] = {6, 8, 10, 10, 10};
        const char *h[5] = {"model", "step", "rsa_sp", "cka", "mp_acc"};
        cli_table_row(5, w, h);
        cli_table_rule(5, w);
    }
    cli_progress_start();
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < t.n[side]; i++) {
            if (cmp_training_score(&t, side, i, &o, err)) cli_die(1, "%s", err);
            if (!c->json) training_row(&t.snap[side][i], side);
            cli_progress(side * t.n[0] + i + 1, t.n[0] + t.n[1], "snapshots");
        }
    char *path = cli_strf("%s/%s_over_training.tsv", c->out, c->name), *plot = cli_strf("%s_over_training", c->name);
    if (cmp_training_write_tsv(&t, path, err)) cli_die(1, "%s", err);
    wrote(c, path);
    int rendered, rc = fig_over_training(c->plots, plot, &t, &rendered, err);
    note_plot(rc, err, c, plot, rendered);
    if (c->json) training_json(&t);
    free(plot);
    cmp_training_free(&t);
    return 0;
}

int cmd_compare(int argc, char **argv) {
    cmp_cfg c;
    long long seed;
    int over;
    const char *pool_s;
    cli_opt opts[] = {
        {"pool", 'c', &pool_s, "mean", "", "over a sentence's tokens: mean, or the last token", 0, 0, "mean|last"},
        {"stimuli", 's', &c.o.stimuli, STIMULI, "", "probe stimuli, one per line", 0, 0, NULL},
        {"vocab", 's', &c.o.vocab, TB_DATA_DIR "/vocab.tsv", "", "word metadata (word, pos columns) for the part-of-speech model RDM", 0, 0, NULL},
        {"meta", 's', &c.o.meta, META, "", "stimulus metadata for model RDMs ('' = none)", 0, 0, NULL},
        {"pairs", 's', &c.o.pairs, TB_DATA_DIR "/minimal_pairs.tsv", "", "minimal pairs scored for --over-training", 0, 0, NULL},
        {"trials", 'i', &c.o.trials, "10", "", "spiking network: trials per stimulus (fresh background noise)", 2, 1000, NULL},
        {"perm", 'i', &c.o.perm, "200", "", "permutations for rsa_p and cka_p", 0, 100000, NULL},
        {"seed", 'l', &seed, "1", "", "seed for trial noise, permutations and folds", 0, 9.2e18, NULL},
        {"out", 's', &c.out, "runs/compare", "", "folder for the TSV tables", 0, 0, NULL},
        {"plots", 's', &c.plots, TB_PLOTS_DIR, "", "folder for the pictures", 0, 0, NULL},
        {"name", 's', &c.name, "compare", "", "file-name prefix of tables and pictures", 0, 0, NULL},
        {"over-training", 'b', &over, NULL, "", "GPT and SNN are run folders of step_*.ckpt: alignment by training step", 0, 0, NULL},
        {"json", 'b', &c.json, NULL, "", "one JSON object on stdout", 0, 0, NULL},
    };
    cli_cmd cmd = {"compare", "GPT SNN",
                   "brain meets model: every GPT layer vs the spiking network, and both vs model RDMs",
                   "GPT and SNN are checkpoints (recorded here on --stimuli) or folders written by `tinybrain "
                   "record`. Every GPT layer is compared with the network's firing rates by all of align's metrics "
                   "(the GPT as features, the network as the 'brain' whose trials give the noise ceiling), with "
                   "permutation p-values; both are compared with model RDMs of the sentences' subject category, "
                   "number, verb and object category (Kendall tau-a). --over-training takes run folders "
                   "(runs/gpt, runs/snn with step_*.ckpt) and plots alignment and minimal-pair accuracy by step.",
                   "tinybrain compare runs/gpt.ckpt runs/snn.ckpt"};
    char *pos[2];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 2, 2);
    c.o.seed = (uint64_t)seed;
    c.o.progress = cli_progress_hook("comparing");
    c.o.pool_last = !strcmp(pool_s, "last");
    if (c.o.meta && !*c.o.meta) c.o.meta = NULL;
    if (c.o.meta && cli_given(argc, argv, "stimuli") && strcmp(c.o.stimuli, STIMULI) && !cli_given(argc, argv, "meta"))
        c.o.meta = NULL; /* custom stimuli: the default metadata does not describe them */
    int rc = over ? over_training(pos[0], pos[1], &c) : compare_models(pos[0], pos[1], &c);
    cli_log_command(c.out, argc, argv);
    return rc;
}
