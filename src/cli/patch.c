/* patch.c -- `tinybrain patch CKPT`: activation patching on the agreement minimal pairs.
 * Lesson 18.  The method and its numbers are include/patch.h; here are the options, the
 * tables, the JSON and the pictures' names. */
#include "cli.h"
#include "commands.h"
#include "figures.h"
#include "patch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *data_dir, *units_file, *name;
    int max_pairs, no_mlp, units_layer, groups, n_random, json;
    long long seed;
} patch_cli;

/* A row of shares: "0.812" each, "-" for NaN. */
static void print_row(const char *label, const double *x, int n) {
    printf("  %-10s", label);
    for (int i = 0; i < n; i++) {
        if (isnan(x[i])) printf(" %8s", "-");
        else printf(" %8.3f", x[i]);
    }
    printf("\n");
}

static void print_roles_header(const char *first) {
    printf("  %-10s", first);
    for (int k = 0; k < PATCH_NROLES; k++) printf(" %8s", patch_role_names[k]);
    printf("\n");
}

static void print_localizer(const patch_vs_localizer *v, const char *what) {
    printf("\nthe localizer's %d %s against patching:\n", v->k, what);
    printf("  patching the localizer's set restores %.3f; %d random sets of %d: %.3f +- %.3f (s.d.)\n", v->restored,
           v->n_random, v->k, v->random_mean, v->random_sd);
    printf("  of the %d units that restore most on their own, %d are the localizer's (chance %.1f)\n", v->k, v->overlap,
           v->overlap_chance);
}

static void json_localizer(const patch_vs_localizer *v) {
    json_writer *w = json_w();
    jw_object(w, "localizer", JW_LINES);
    jw_int(w, "k", v->k);
    jw_num(w, "restored", v->restored);
    jw_num(w, "random_mean", v->random_mean);
    jw_num(w, "random_sd", v->random_sd);
    jw_int(w, "n_random", v->n_random);
    long long top[4096];
    for (int i = 0; i < v->k && i < 4096; i++) top[i] = v->top[i];
    jw_ints(w, "top_patch_units", top, v->k < 4096 ? v->k : 4096);
    jw_int(w, "overlap", v->overlap);
    jw_num(w, "overlap_chance", v->overlap_chance);
    jw_end(w);
}

/* The members both kinds start with. */
static void json_head(const lm_model *m, const patch_pairs *p, int pairs, double ld_clean, double ld_corrupt) {
    json_begin();
    json_str("checkpoint", m->path);
    json_str("kind", m->kind);
    json_int("pairs", pairs);
    json_int("pairs_skipped", p->skipped);
    json_str("skipped_phenomena", p->skipped_kinds);
    json_num("logit_diff_clean", ld_clean);
    json_num("logit_diff_corrupt", ld_corrupt);
}

/* A matrix as rows of numbers. */
static void json_matrix(const char *key, const double *M, int rows, int cols) {
    json_writer *w = json_w();
    jw_array(w, key, JW_LINES);
    for (int r = 0; r < rows; r++) jw_nums(w, NULL, M + (size_t)r * cols, cols);
    jw_end(w);
}

static void json_roles(void) {
    json_writer *w = json_w();
    jw_array(w, "positions", JW_COMPACT);
    for (int k = 0; k < PATCH_NROLES; k++) jw_str(w, NULL, patch_role_names[k]);
    jw_end(w);
}

/* The localizer's unit file: its units, and the per-unit scores they are ranked against. */
static int read_units(const patch_cli *o, int n_units, int **units) {
    char err[TB_ERRLEN];
    int k;
    if (lm_read_units(o->units_file, n_units, units, &k, err)) cli_die(1, "%s", err);
    return k;
}

static void run_gpt(const patch_cli *o, lm_model *m, const patch_pairs *p) {
    char err[TB_ERRLEN];
    gpt_model *g = &m->gpt;
    int L = g->cfg.n_layer, layer = *o->units_file ? (o->units_layer < 0 ? L : o->units_layer) : -1;
    if (layer > L) cli_die(2, "--units-layer %d: the model has layers 0..%d", layer, L);
    if (g->cfg.moe_experts && !o->no_mlp && !o->json) cli_note("MLP units are not patched in a mixture of experts");
    patch_gpt_result r;
    if (patch_gpt(g, p, !o->no_mlp, layer, &r, err)) cli_die(1, "%s: %s", m->path, err);
    patch_vs_localizer v = {0};
    int *units = NULL, k = layer >= 0 ? read_units(o, g->cfg.d_model, &units) : 0;
    if (k && patch_localizer_gpt(g, p, layer, r.units, units, k, o->n_random, (uint64_t)o->seed, &v, err))
        cli_die(1, "%s", err);
    if (o->json) {
        json_head(m, p, r.n_pairs, r.ld_clean, r.ld_corrupt);
        json_roles();
        json_matrix("residual", r.residual, L + 1, PATCH_NROLES);
        json_matrix("residual_attractor", r.residual_attr, L + 1, PATCH_NROLES);
        json_matrix("heads", r.heads, L, r.NH);
        if (r.mlp) json_matrix("mlp", r.mlp, L, r.H);
        if (r.units) json_num_array("residual_units", r.units, r.C);
        if (k) json_localizer(&v);
        json_end();
    } else {
        printf("%s: %d minimal pairs (%d with an attractor); logit difference right - wrong verb: clean %+.3f, "
               "subject swapped %+.3f\n\nshare restored by patching the residual stream (layer x position):\n",
               m->path, r.n_pairs, r.n_attractor, r.ld_clean, r.ld_corrupt);
        print_roles_header("layer");
        char lab[32];
        for (int l = 0; l <= L; l++) {
            snprintf(lab, sizeof lab, l ? "block %d" : "embed", l);
            print_row(lab, r.residual + l * PATCH_NROLES, PATCH_NROLES);
        }
        printf("\neach head's output, all positions (block x head):\n");
        for (int l = 0; l < L; l++) {
            snprintf(lab, sizeof lab, "block %d", l + 1);
            print_row(lab, r.heads + l * r.NH, r.NH);
        }
        for (int l = 0; r.mlp && l < L; l++) {
            int best = 0;
            for (int u = 1; u < r.H; u++) if (r.mlp[(size_t)l * r.H + u] > r.mlp[(size_t)l * r.H + best]) best = u;
            printf("MLP of block %d: unit %d restores most on its own (%.3f)\n", l + 1, best, r.mlp[(size_t)l * r.H + best]);
        }
        if (k) print_localizer(&v, "residual units");
    }
    if (fig_patch_gpt(TB_PLOTS_DIR, o->name, &r, err)) cli_note("plot: %s", err);
    else if (!o->json) cli_note("wrote %s/%s_residual.png and %s/%s_heads.png", TB_PLOTS_DIR, o->name, TB_PLOTS_DIR, o->name);
    free(units);
    patch_vs_localizer_free(&v);
    patch_gpt_free(&r);
}

static void run_snn(const patch_cli *o, lm_model *m, const patch_pairs *p) {
    char err[TB_ERRLEN];
    const srnn_model *s = &m->snn;
    int per_neuron = *o->units_file != 0;
    patch_snn_result r;
    if (patch_snn(s, p, o->groups, per_neuron, &r, err)) cli_die(1, "%s: %s", m->path, err);
    patch_vs_localizer v = {0};
    int *units = NULL, k = per_neuron ? read_units(o, s->N, &units) : 0;
    if (k && patch_localizer_snn(s, p, r.neurons, units, k, o->n_random, (uint64_t)o->seed, &v, err)) cli_die(1, "%s", err);
    if (o->json) {
        json_head(m, p, r.n_pairs, r.ld_clean, r.ld_corrupt);
        json_int("neurons_per_group", r.N / r.groups);
        json_roles();
        json_matrix("groups", r.group_role, r.groups + 1, PATCH_NROLES);
        if (r.neurons) json_num_array("neurons", r.neurons, r.N);
        if (k) json_localizer(&v);
        json_end();
    } else {
        printf("%s: %d minimal pairs; logit difference right - wrong verb: clean %+.3f, subject swapped %+.3f\n\n"
               "share restored by patching a group of %d neurons after the token at each position:\n",
               m->path, r.n_pairs, r.ld_clean, r.ld_corrupt, r.N / r.groups);
        print_roles_header("neurons");
        char lab[32];
        for (int g = 0; g <= r.groups; g++) {
            if (g < r.groups) snprintf(lab, sizeof lab, "%d-%d", (int)((long)g * r.N / r.groups), (int)((long)(g + 1) * r.N / r.groups) - 1);
            else snprintf(lab, sizeof lab, "all");
            print_row(lab, r.group_role + (size_t)g * PATCH_NROLES, PATCH_NROLES);
        }
        if (k) print_localizer(&v, "neurons");
    }
    if (fig_patch_snn(TB_PLOTS_DIR, o->name, &r, err)) cli_note("plot: %s", err);
    else if (!o->json) cli_note("wrote %s/%s_groups.png", TB_PLOTS_DIR, o->name);
    free(units);
    patch_vs_localizer_free(&v);
    patch_snn_free(&r);
}

int cmd_patch(int argc, char **argv) {
    patch_cli o;
    cli_opt opts[] = {
        {"data-dir", 's', &o.data_dir, TB_DATA_DIR, "", "toyworld data folder (its minimal_pairs.tsv)", 0, 0, NULL},
        {"pairs", 'i', &o.max_pairs, "0", "", "use the first N minimal pairs (0: all)", 0, 1e6, NULL},
        {"no-mlp", 'b', &o.no_mlp, NULL, "", "GPT: skip patching each MLP hidden unit (the slowest part)", 0, 0, NULL},
        {"units", 's', &o.units_file, "", "", "the localizer's units (localize --units-out): compare them with patching", 0, 0, NULL},
        {"units-layer", 'i', &o.units_layer, "-1", "", "GPT: the residual layer those units are from (-1: the last)", -1, 1000, NULL},
        {"groups", 'i', &o.groups, "8", "", "spiking network: neuron groups (consecutive indices)", 1, 65536, NULL},
        {"random", 'i', &o.n_random, "20", "", "random unit sets patched for comparison with --units", 0, 10000, NULL},
        {"seed", 'l', &o.seed, "1", "", "seed of the random unit sets", 0, 9e18, NULL},
        {"name", 's', &o.name, "patch", "", "pictures: plots/NAME_residual.png, NAME_heads.png (NAME_groups.png)", 0, 0, NULL},
        {"json", 'b', &o.json, NULL, "", "print one JSON object", 0, 0, NULL},
    };
    cli_cmd cmd = {"patch", "CKPT", "activation patching on the agreement minimal pairs (GPT or spiking network)",
                   "Each minimal pair's grammatical sentence up to its verb is the clean prefix; the corrupted prefix "
                   "has the subject in the other number, so the other verb form is right there.  Activations of the "
                   "clean run are copied into the corrupted one, one site at a time, and the share of the logit "
                   "difference (right - wrong verb, where the verb is predicted) they restore is reported, pooled "
                   "over pairs.  GPT sites: the residual stream of each layer at each position (aligned by role: "
                   "'.', det, adj, subject, prep, det2, adj2, last noun), each head's output, each MLP hidden unit. "
                   "Spiking network: the state of groups of neurons after each position's token.  --units compares "
                   "the localizer's units (localize --units-out) with the units patching ranks highest.",
                   "tinybrain patch runs/gpt.ckpt --json"};
    char *pos[1], err[TB_ERRLEN];
    cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 1, 1);
    lm_model m;
    if (lm_open(pos[0], &m, err)) cli_die(1, "%s", err);
    tb_corpus corp;
    if (corpus_load(&corp, "toyworld", o.data_dir, "word", err)) cli_die(1, "%s", err);
    if (tok_check_same(&m.tok, &corp.tok, m.path, err)) cli_die(1, "%s (patching reads toyworld's minimal pairs)", err);
    char *path = cli_strf("%s/minimal_pairs.tsv", o.data_dir);
    patch_pairs p;
    if (patch_pairs_load(path, &corp, o.max_pairs, &p, err)) cli_die(1, "%s", err);
    if (p.skipped && !o.json)
        cli_note("left out %d pairs whose prefix has a word patching cannot place (%s): it patches the det, adj, "
                 "subject, prep and noun positions", p.skipped, p.skipped_kinds);
    if (!strcmp(m.kind, "gpt")) run_gpt(&o, &m, &p);
    else run_snn(&o, &m, &p);
    patch_pairs_free(&p);
    free(path);
    corpus_free(&corp);
    lm_close(&m);
    return 0;
}
