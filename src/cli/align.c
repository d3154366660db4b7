/* align.c -- `tinybrain align A B`: how alike are two representations of the same
 * stimuli?  Lessons 10 (RDMs and RSA), 11 (CKA, CCA, Procrustes), 12 (encoding models).
 *
 * A is read as the model (the features), B as the brain (the targets): the encoding
 * model predicts B from A, PWCCA weights by A, and B's repeated trials (a 3-D array)
 * give the noise ceiling.  Every other metric is symmetric.  Either side may be a
 * folder of per-layer .npy files; then each layer is compared (compare.h) and the result
 * is a layer x metric table and a plot of every similarity by layer.
 * `--demo DIR` writes the synthetic data the lessons use (demo_data.h).
 */
#include "cli.h"
#include "commands.h"
#include "compare.h"
#include "demo_data.h"
#include "figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    align_opts o;
    int json, families;
    int trials_keep;   /* B: keep the first K trials (0: only the mean; -1: as loaded) */
    const char *rdm_png, *labels_path, *plots, *name;
    int pca, units, units_repeats;   /* feature-count controls (0: off) */
} run_cfg;

/* ---- printing ------------------------------------------------------------------------ */

/* The bootstrap interval of metric m, when it has one. */
static int ci_of(const align_result *r, int m, double *lo, double *hi) {
    const char *k = cmp_metrics[m].key;
    *lo = !strcmp(k, "rsa_spearman") ? r->rsa_spearman_ci_low : !strcmp(k, "cka_linear") ? r->cka_linear_ci_low : NAN;
    *hi = !strcmp(k, "rsa_spearman") ? r->rsa_spearman_ci_high : r->cka_linear_ci_high;
    return !isnan(*lo);
}

static void print_single(const align_result *r, const run_cfg *c) {
    int w[6] = {21, 8, 17, -12, -13, -60};
    const char *head[6] = {"metric", "value", "95% bootstrap CI", "kind", "range", "what it measures"};
    cli_table_row(6, w, head);
    cli_table_rule(6, w);
    for (int m = 0; m < cmp_n_metrics; m++) {
        const cmp_metric *M = &cmp_metrics[m];
        double v = cmp_value(r, m), lo, hi;
        if (isnan(v) && (!(M->family & c->families & ~CMP_STAT) || (M->family & CMP_STAT))) continue;
        char val[CLI_NUMLEN], ci[2 * CLI_NUMLEN + 8] = "";
        cli_fmt_num(val, sizeof val, v);
        if (ci_of(r, m, &lo, &hi)) snprintf(ci, sizeof ci, "[%.4f, %.4f]", lo, hi);
        const char *cells[6] = {M->key, val, ci, M->kind, M->range, M->what};
        cli_table_row(6, w, cells);
    }
}

/* One comparison's numbers as members of the open JSON object w. */
static void result_json(json_writer *w, const align_result *r, const char *a_layer, const char *b_layer) {
    if (a_layer) jw_str(w, "a_layer", a_layer);
    if (b_layer) jw_str(w, "b_layer", b_layer);
    for (int m = 0; m < cmp_n_metrics; m++) {
        double v = cmp_value(r, m), lo, hi;
        /* cka_perm_p has never been part of align's JSON; the table shows it */
        if (isnan(v) || !strcmp(cmp_metrics[m].key, "cka_perm_p")) continue;
        jw_num(w, cmp_metrics[m].key, v);
        if (ci_of(r, m, &lo, &hi)) {
            char *kl = cli_strf("%s_ci_low", cmp_metrics[m].key), *kh = cli_strf("%s_ci_high", cmp_metrics[m].key);
            jw_num(w, kl, lo);
            jw_num(w, kh, hi);
            free(kl);
            free(kh);
        }
    }
}

/* One JSON object: a single comparison's numbers, or {"comparisons": [...]} with one
 * object per pair of layers. */
/* The comparisons into the open JSON object. */
static void print_json(const cmp_pairs *p, int a_named, int b_named) {
    json_writer *w = json_w();
    if (p->n == 1) result_json(w, &p->res[0], a_named ? p->a[0]->name : NULL, b_named ? p->b[0]->name : NULL);
    else {
        jw_array(w, "comparisons", JW_COMPACT);
        for (int i = 0; i < p->n; i++) {
            jw_object(w, NULL, JW_COMPACT);
            result_json(w, &p->res[i], a_named ? p->a[i]->name : NULL, b_named ? p->b[i]->name : NULL);
            jw_end(w);
        }
        jw_end(w);
    }
}

static void describe(const char *side, const rep_set *s) {
    const rep_layer *L = &s->layer[0];
    if (s->n_layers > 1)
        cli_note("%s: %d layers, %d stimuli (first: %s, %d units)", side, s->n_layers, L->n, L->name, L->p);
    else if (L->trials > 1)
        cli_note("%s: %s, %d trials x %d stimuli x %d units", side, L->path, L->trials, L->n, L->p);
    else
        cli_note("%s: %s, %d stimuli x %d units", side, L->path, L->n, L->p);
    for (int i = 0; i < s->n_layers; i++)
        if (s->layer[i].dropped) cli_note("%s: dropped %d constant units", s->layer[i].path, s->layer[i].dropped);
    for (int i = 0; i < s->n_layers; i++)
        if (s->layer[i].dropped_nan)
            cli_note("%s: dropped %d units with a NaN or inf value (--drop-nan)", s->layer[i].path, s->layer[i].dropped_nan);
}

/* The layer x metric table (metrics with a value somewhere) and the best layer. */
static void layer_table(const cmp_pairs *p, const char *const *names) {
    int cols[CMP_N_METRICS], nc = 0, w[CMP_N_METRICS + 1], np = p->n;
    const char *head[CMP_N_METRICS + 1];
    for (int m = 0; m < cmp_n_metrics; m++) {
        int any = 0;
        for (int i = 0; i < np; i++) any |= !isnan(cmp_value(&p->res[i], m));
        if (any) cols[nc++] = m;
    }
    w[0] = 8;
    for (int i = 0; i < np; i++) w[0] = (int)strlen(names[i]) > w[0] ? (int)strlen(names[i]) : w[0];
    head[0] = "layer";
    for (int j = 0; j < nc; j++) { w[j + 1] = 8; head[j + 1] = cmp_metrics[cols[j]].head; }
    cli_table_row(nc + 1, w, head);
    cli_table_rule(nc + 1, w);
    char buf[CMP_N_METRICS][CLI_NUMLEN];
    for (int i = 0; i < np; i++) {
        const char *cells[CMP_N_METRICS + 1];
        cells[0] = names[i];
        for (int j = 0; j < nc; j++) { cli_fmt_num(buf[j], CLI_NUMLEN, cmp_value(&p->res[i], cols[j])); cells[j + 1] = buf[j]; }
        cli_table_row(nc + 1, w, cells);
    }
    printf("similarities: higher = more alike; proc_eu/proc_ang are distances (0 = same shape); _p are p-values.\n");
    int m0 = cols[0], best = cmp_best(p->res, np, m0);
    printf("best by %s (%s): %s (%.4f)\n", cmp_metrics[m0].key,
           strcmp(cmp_metrics[m0].kind, "distance") ? "largest similarity" : "smallest distance", names[best],
           cmp_value(&p->res[best], m0));
}

/* ---- the command ----------------------------------------------------------------------- */

static void rdm_png(const rep_layer *A, const rep_layer *B, const run_cfg *c) {
    char err[TB_ERRLEN], **labels = NULL, *path = cli_strf("%s/rdm_%s_vs_%s.png", c->rdm_png, A->name, B->name);
    int nl = 0;
    if (c->labels_path) {
        if (rep_read_labels(c->labels_path, &labels, &nl, err)) cli_die(1, "%s", err);
        if (nl != A->n) cli_die(1, "%s: %d labels for %d stimuli", c->labels_path, nl, A->n);
    }
    if (fig_rdm_pair(path, A, B, c->o.rdm, (const char *const *)labels, err)) cli_die(1, "%s", err);
    cli_note("wrote %s", path);
    rep_free_labels(labels, nl);
    free(path);
}

/* align_all's progress hook: one updating line on a terminal, log lines otherwise
 * (stderr, so never mixed into --json; silent with --quiet). */
static void align_progress(void *ctx, const char *stage, int done, int total) {
    (void)ctx;
    cli_progress(done, total, "%s", stage);
    if (done == total) cli_progress_end();
}

/* --pca K: every layer of a side wider than K units to its first K principal components. */
static void reduce_side(rep_set *S, const char *side, const run_cfg *c) {
    char err[TB_ERRLEN];
    int reduced = 0, trials = S->layer[0].trials;
    for (int l = 0; l < S->n_layers; l++) {
        int rc = rep_layer_pca(&S->layer[l], c->pca, err);
        if (rc < 0) cli_die(1, "%s: %s", S->layer[l].path, err);
        reduced += rc;
    }
    if (reduced && !c->json)
        cli_note("%s: %d layer%s reduced to %d principal components (--pca)%s", side, reduced, reduced > 1 ? "s" : "", c->pca,
                 trials > 1 ? "; their trials are dropped, so no noise ceiling" : "");
}

/* --units K: every pair again at K random units per side, R times: mean [2.5%, 97.5%]. */
static void units_table(const cmp_pairs *p, const char *const *names, const run_cfg *c) {
    static const char *const keys[4] = {"rsa_spearman", "cka_linear", "cka_linear_debiased", "encoding_r_median"};
    char err[TB_ERRLEN];
    if (!c->json) printf("\nfeature-count control: each side at %d random units (wider sides only), %d repeats:\n", c->units,
                         c->units_repeats);
    json_writer *w = c->json ? json_w() : NULL;   /* into the open object */
    if (w) jw_array(w, "units_control", JW_LINES);
    for (int i = 0; i < p->n; i++) {
        const rep_layer *A = p->a[i], *B = p->b[i];
        align_result m, lo, hi;
        if (align_units_control(A->mean, A->n, A->p, B->mean, B->p, B->trial, B->trials, c->units, c->units_repeats,
                                ALIGN_UNITS_A | ALIGN_UNITS_B, c->o.seed, &c->o, &m, &lo, &hi, err))
            cli_die(1, "%s", err);
        if (w) { jw_object(w, NULL, JW_COMPACT); jw_str(w, "name", names[i]); jw_int(w, "units", c->units); }
        else printf("  %-14s", names[i]);
        for (int q = 0; q < 4; q++) {
            int k = cmp_metric_index(keys[q]);
            if (w) jw_num_ci(w, keys[q], cmp_value(&m, k), cmp_value(&lo, k), cmp_value(&hi, k));
            else if (!isnan(cmp_value(&m, k)))   /* the families asked for */
                printf("  %s %.4f [%.4f, %.4f]", cmp_metrics[k].head, cmp_value(&m, k), cmp_value(&lo, k), cmp_value(&hi, k));
        }
        if (w) jw_end(w);
        else printf("\n");
    }
    if (w) jw_end(w);
}

static void run(const char *a, const char *b, int drop_constant, const run_cfg *c) {
    rep_set A, B;
    cmp_pairs p;
    char err[TB_ERRLEN];
    if (rep_load(a, drop_constant, &A, err)) cli_die(1, "%s", err);
    if (rep_load(b, drop_constant, &B, err)) cli_die(1, "%s", err);
    for (int i = 0; c->trials_keep >= 0 && i < B.n_layers; i++)   /* --trials-keep / --trial-mean */
        if (rep_keep_trials(&B.layer[i], c->trials_keep, err)) cli_die(2, "--trials-keep: %s", err);
    if (c->pca > 0) { reduce_side(&A, "A", c); reduce_side(&B, "B", c); }
    if (!c->json) { describe("A", &A); describe("B", &B); }
    if (cmp_layers(&A, &B, &c->o, &p, err)) cli_die(1, "%s", err);
    const char **names = malloc((size_t)p.n * sizeof *names);
    if (!names) cli_die(1, "out of memory");
    for (int i = 0, warned = 0; i < p.n; i++) {
        names[i] = A.n_layers > 1 ? p.a[i]->name : p.b[i]->name;
        if (c->rdm_png) rdm_png(p.a[i], p.b[i], c);
        if (p.res[i].cca_warning && !warned++ && !c->json)
            cli_note("warning: %d stimuli for %d and %d units: with this many units per stimulus CCA, SVCCA and "
                     "PWCCA find near-perfect correlations even in noise; trust debiased CKA, RSA and Procrustes",
                     p.a[i]->n, p.a[i]->p, p.b[i]->p);
    }
    if (c->json) { json_begin(); print_json(&p, A.n_layers > 1, B.n_layers > 1); }
    if (!c->json && p.n == 1) print_single(&p.res[0], c);
    if (!c->json && p.n > 1) {
        int rendered;
        layer_table(&p, names);
        if (fig_metrics_by_layer(c->plots, c->name, p.res, p.n, c->families,
                                 A.n_layers > 1 ? "layer of A (file order)" : "layer of B (file order)", &rendered, err))
            cli_note("plot: %s", err);
        else cli_note_plot(c->plots, c->name, rendered);
    }
    if (c->units > 0) units_table(&p, names, c);
    if (c->json) json_end();
    free(names);
    cmp_pairs_free(&p);
    rep_free(&A);
    rep_free(&B);
}

static void write_demo(const char *dir, uint64_t seed) {
    char err[TB_ERRLEN];
    if (demo_write(dir, seed, err)) cli_die(1, "%s", err);
    printf("wrote synthetic data to %s/ (seed %llu):\n", dir, (unsigned long long)seed);
    printf("  brain.npy          8 trials x 96 stimuli x 24 units (4 categories x 24 items, noisy)\n");
    printf("  model/layer0..5    96 x 32 each; meaning mixed in most strongly at layer 3\n");
    printf("  rotated.npy        the brain's trial mean, rotated, scaled x5 and shifted\n");
    printf("  stretched.npy      the brain's trial mean times a general (non-orthogonal) matrix\n");
    printf("  noise.npy          96 x 24 unrelated noise;  noise_wide.npy: 96 x 200 noise\n");
    printf("  loc_sentences.npy, loc_nonwords.npy   80 x 64 each, for tinybrain localize\n");
    printf("  labels.txt         one name per stimulus (for --labels)\n");
    printf("try: tinybrain align %s/model %s/brain.npy\n", dir, dir);
}

int cmd_align(int argc, char **argv) {
    const char *metric_s, *rdm_s, *demo;
    run_cfg c;
    int perm, boot, folds, drop_constant, drop_nan, trials_keep, trial_mean;
    long long seed;
    double rbf_f;
    memset(&c, 0, sizeof c);
    cli_opt opts[] = {
        {"metric", 'c', &metric_s, "all", "", "which family: all|rsa|cka|cca|procrustes|encoding", 0, 0,
         "all|rsa|cka|cca|procrustes|encoding"},
        {"rdm", 'c', &rdm_s, "correlation", "", "RDM distance: 1 - Pearson r, euclidean, or 1 - cosine", 0, 0,
         "correlation|euclidean|cosine"},
        {"perm", 'i', &perm, "0", "", "permutations for p-values (RSA and CKA); 0 = none", 0, 1000000, NULL},
        {"boot", 'i', &boot, "0", "", "bootstrap resamples over stimuli for 95% CIs; 0 = none", 0, 1000000, NULL},
        {"seed", 'l', &seed, "1", "", "seed for permutations, bootstrap and folds", 0, 9.2e18, NULL},
        {"folds", 'i', &folds, "5", "", "encoding model: outer cross-validation folds", 2, 100, NULL},
        {"rbf-width", 'f', &rbf_f, "1.0", "", "CKA RBF bandwidth factor f (sigma^2 = f^2 x median sq. distance)", 1e-6, 1e6, NULL},
        {"drop-constant", 'b', &drop_constant, NULL, "", "remove units that are constant across stimuli", 0, 0, NULL},
        {"drop-nan", 'b', &drop_nan, NULL, "", "remove units with a NaN or inf value (voxels outside a mask, dead electrodes)", 0, 0, NULL},
        {"pca", 'i', &c.pca, "0", "", "reduce every layer wider than K units to its first K principal components (0: off)", 0, 100000, NULL},
        {"units", 'i', &c.units, "0", "", "also every pair at K random units per side, repeated (feature-count control; 0: off)", 0, 100000, NULL},
        {"units-repeats", 'i', &c.units_repeats, "20", "", "random unit subsets for --units", 2, 10000, NULL},
        {"json", 'b', &c.json, NULL, "", "one JSON object on stdout (several layers: a \"comparisons\" array)", 0, 0, NULL},
        {"rdm-png", 's', &c.rdm_png, NULL, "", "folder for side-by-side RDM heatmaps", 0, 0, NULL},
        {"labels", 's', &c.labels_path, NULL, "", "stimulus names, one per line (RDM axes)", 0, 0, NULL},
        {"plots", 's', &c.plots, TB_PLOTS_DIR, "", "folder for the by-layer plot", 0, 0, NULL},
        {"name", 's', &c.name, "align_by_layer", "", "file name of the by-layer plot", 0, 0, NULL},
        {"trials-keep", 'i', &trials_keep, "0", "", "B: use only its first K trials (0: all); fewer trials, a lower noise ceiling", 0, 1000000, NULL},
        {"trial-mean", 'b', &trial_mean, NULL, "", "B: use only its trial mean (2-D data: no noise ceiling)", 0, 0, NULL},
        {"demo", 's', &demo, NULL, "", "write synthetic demo data to this folder and exit", 0, 0, NULL},
    };
    cli_cmd cmd = {"align", "A B",
                   "compare two representations of the same stimuli (RSA, CKA, CCA, Procrustes, encoding)",
                   "A and B: .npy (float32/float64; stimuli x units, or trials x stimuli x units) or TSV files, "
                   "or folders of per-layer .npy files (then: a layer x metric table and a plot by layer).\n"
                   "A is read as the model and B as the brain: the encoding model predicts B from A, and B's "
                   "trials give the noise ceiling. Every similarity is labelled as one, every distance as one.",
                   "tinybrain align --demo runs/align_demo && tinybrain align runs/align_demo/model runs/align_demo/brain.npy"};
    char *pos[2];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, 2);
    if (demo) {
        write_demo(demo, (uint64_t)seed);
        return 0;
    }
    if (npos != 2) cli_die(2, "needs two inputs A and B (or --demo DIR); see tinybrain align --help");
    align_opts_default(&c.o);
    int all = !strcmp(metric_s, "all");
    c.o.rsa = all || !strcmp(metric_s, "rsa");
    c.o.cka = all || !strcmp(metric_s, "cka");
    c.o.cca = all || !strcmp(metric_s, "cca");
    c.o.procrustes = all || !strcmp(metric_s, "procrustes");
    c.o.encoding = all || !strcmp(metric_s, "encoding");
    c.families = cmp_families(&c.o);
    c.o.rdm = !strcmp(rdm_s, "euclidean") ? RDM_EUCLIDEAN : !strcmp(rdm_s, "cosine") ? RDM_COSINE : RDM_CORRELATION;
    c.o.perm = perm;
    c.o.boot = boot;
    c.o.seed = (uint64_t)seed;
    c.o.rbf_f = rbf_f;
    c.o.enc.folds = folds;
    c.o.enc.seed = (uint64_t)seed;
    c.o.on_stage = align_progress;
    if (trial_mean && trials_keep) cli_die(2, "--trial-mean and --trials-keep: choose one");
    c.trials_keep = trial_mean ? 0 : trials_keep ? trials_keep : -1;
    cli_progress_start();
    run(pos[0], pos[1], drop_constant | (drop_nan ? REP_DROP_NAN : 0), &c);
    return 0;
}
