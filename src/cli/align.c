/* align.c -- `tinybrain align A B`: how alike are two representations of the same
 * stimuli?  Lessons 10 (RDMs and RSA), 11 (CKA, CCA, Procrustes), 12 (encoding models).
 *
 * A is read as the model (the features), B as the brain (the targets): the encoding
 * model predicts B from A, PWCCA weights by A, and B's repeated trials (a 3-D array)
 * give the noise ceiling.  Every other metric is symmetric.  Either side may be a
 * folder of per-layer .npy files; then each layer is compared and the result is a
 * layer x metric table and a plot of every similarity by layer.
 * `--demo DIR` writes synthetic data the lessons use (see write_demo below).
 */
#include "align.h"
#include "cli.h"
#include "commands.h"
#include "io.h"
#include "linalg.h"
#include "plot.h"
#include "rep.h"
#include "rng.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_RSA = 1, F_CKA = 2, F_CCA = 4, F_PROC = 8, F_ENC = 16, F_STAT = 32 };

/* Every number align prints: its JSON key, where it lives, what kind of number it is
 * (direction is always explicit), its range and a one-line meaning. */
static const struct {
    const char *key, *head;  /* JSON key, short column header for the layer table */
    size_t off;
    int family, in_json;
    const char *kind, *range, *what;
} metric[] = {
    {"rsa_spearman", "rsa_sp", offsetof(align_result, rsa_spearman), F_RSA, 1, "similarity", "[-1, 1]",
     "Spearman r of the two RDMs (upper triangles, tie-corrected ranks)"},
    {"rsa_kendall_a", "tau_a", offsetof(align_result, rsa_kendall_a), F_RSA, 1, "similarity", "[-1, 1]",
     "Kendall tau-a of the RDMs (tied pairs count 0; use with categorical RDMs)"},
    {"rsa_pearson", "rsa_pe", offsetof(align_result, rsa_pearson), F_RSA, 1, "similarity", "[-1, 1]",
     "Pearson r of the RDMs (sensitive to how distances scale, not just their order)"},
    {"cka_linear", "cka", offsetof(align_result, cka_linear), F_CKA, 1, "similarity", "[0, 1]",
     "linear CKA: agreement of the stimulus x stimulus Gram matrices"},
    {"cka_rbf", "cka_rbf", offsetof(align_result, cka_rbf), F_CKA, 1, "similarity", "[0, 1]",
     "CKA with a Gaussian kernel (bandwidth = f x median distance)"},
    {"cka_linear_debiased", "cka_deb", offsetof(align_result, cka_linear_debiased), F_CKA, 1, "similarity", "~[-1, 1]",
     "linear CKA from the unbiased HSIC: about 0 for unrelated data"},
    {"cca_mean", "cca", offsetof(align_result, cca_mean), F_CCA, 1, "similarity", "[0, 1]",
     "mean canonical correlation (goes to 1 when units approach stimuli)"},
    {"svcca", "svcca", offsetof(align_result, svcca), F_CCA, 1, "similarity", "[0, 1]",
     "mean CCA after keeping the directions with 99% of each side's variance"},
    {"pwcca", "pwcca", offsetof(align_result, pwcca), F_CCA, 1, "similarity", "[0, 1]",
     "CCA weighted by how much of A each canonical direction explains"},
    {"procrustes_euclidean", "proc_eu", offsetof(align_result, procrustes_euclidean), F_PROC, 1, "distance", "[0, 1.41]",
     "distance left after the best rotation (both sides centred, unit norm)"},
    {"procrustes_angular", "proc_ang", offsetof(align_result, procrustes_angular), F_PROC, 1, "distance", "[0, 1.57] rad",
     "angle between the shapes after the best rotation"},
    {"encoding_r_median", "enc_r", offsetof(align_result, encoding_r_median), F_ENC, 1, "similarity", "[-1, 1]",
     "median held-out r predicting B's units from A (ridge, k-fold)"},
    {"encoding_r_ceiled", "enc_ceil", offsetof(align_result, encoding_r_ceiled), F_ENC, 1, "similarity", "~[0, 1]",
     "encoding r divided by B's noise ceiling"},
    {"noise_ceiling", "ceiling", offsetof(align_result, noise_ceiling), F_ENC, 1, "ceiling on r", "[0, 1]",
     "sqrt of B's split-half reliability (Spearman-Brown): the r a perfect model reaches"},
    {"rsa_perm_p", "rsa_p", offsetof(align_result, rsa_perm_p), F_RSA | F_STAT, 1, "p-value", "(0, 1]",
     "permutation p of rsa_spearman (stimulus labels of B shuffled)"},
    {"cka_perm_p", "cka_p", offsetof(align_result, cka_perm_p), F_CKA | F_STAT, 0, "p-value", "(0, 1]",
     "permutation p of cka_linear"},
};
#define N_METRIC ((int)(sizeof metric / sizeof metric[0]))

static double field(const align_result *r, int m) { return *(const double *)((const char *)r + metric[m].off); }

typedef struct {
    align_opts o;
    int json, families;
    const char *rdm_png, *labels_path, *plots, *name;
} run_cfg;

/* ---- printing ------------------------------------------------------------------------ */

static void print_single(const align_result *r, const run_cfg *c) {
    int w[6] = {21, 8, 17, -12, -13, -60};
    const char *head[6] = {"metric", "value", "95% bootstrap CI", "kind", "range", "what it measures"};
    cli_table_row(6, w, head);
    cli_table_rule(6, w);
    for (int m = 0; m < N_METRIC; m++) {
        double v = field(r, m);
        if (isnan(v) && !(metric[m].family & c->families & ~F_STAT)) continue;
        if ((metric[m].family & F_STAT) && isnan(v)) continue;
        char val[32], ci[48] = "";
        cli_fmt_num(val, sizeof val, v);
        if (!strcmp(metric[m].key, "rsa_spearman") && !isnan(r->rsa_spearman_ci_low))
            snprintf(ci, sizeof ci, "[%.4f, %.4f]", r->rsa_spearman_ci_low, r->rsa_spearman_ci_high);
        if (!strcmp(metric[m].key, "cka_linear") && !isnan(r->cka_linear_ci_low))
            snprintf(ci, sizeof ci, "[%.4f, %.4f]", r->cka_linear_ci_low, r->cka_linear_ci_high);
        const char *cells[6] = {metric[m].key, val, ci, metric[m].kind, metric[m].range, metric[m].what};
        cli_table_row(6, w, cells);
    }
}

static void print_json(const align_result *r, const char *a_layer, const char *b_layer) {
    json_begin();
    if (a_layer) json_str("a_layer", a_layer);
    if (b_layer) json_str("b_layer", b_layer);
    for (int m = 0; m < N_METRIC; m++) {
        double v = field(r, m);
        if (!metric[m].in_json || isnan(v)) continue;
        json_num(metric[m].key, v);
        if (!strcmp(metric[m].key, "rsa_spearman") && !isnan(r->rsa_spearman_ci_low)) {
            json_num("rsa_spearman_ci_low", r->rsa_spearman_ci_low);
            json_num("rsa_spearman_ci_high", r->rsa_spearman_ci_high);
        }
        if (!strcmp(metric[m].key, "cka_linear") && !isnan(r->cka_linear_ci_low)) {
            json_num("cka_linear_ci_low", r->cka_linear_ci_low);
            json_num("cka_linear_ci_high", r->cka_linear_ci_high);
        }
    }
    json_end();
}

/* ---- RDM pictures -------------------------------------------------------------------- */

static const char *rdm_unit(rdm_kind k) {
    return k == RDM_CORRELATION ? "1 - Pearson r" : k == RDM_COSINE ? "1 - cosine" : "euclidean distance";
}

static void write_rdm_png(const rep_layer *A, const rep_layer *B, const run_cfg *c) {
    char err[TB_ERRLEN], path[1400];
    int n = A->n;
    double *Da = malloc((size_t)n * n * 8), *Db = malloc((size_t)n * n * 8);
    float *fa = malloc((size_t)n * n * sizeof(float)), *fb = malloc((size_t)n * n * sizeof(float));
    if (!Da || !Db || !fa || !fb) cli_die(1, "out of memory");
    if (align_rdm(A->mean, n, A->p, c->o.rdm, Da, err)) cli_die(1, "%s: %s", A->path, err);
    if (align_rdm(B->mean, n, B->p, c->o.rdm, Db, err)) cli_die(1, "%s: %s", B->path, err);
    /* each RDM on its own scale: rank-based RSA only cares about the order */
    double ma = 0, mb = 0;
    for (int i = 0; i < n * n; i++) { ma = Da[i] > ma ? Da[i] : ma; mb = Db[i] > mb ? Db[i] : mb; }
    for (int i = 0; i < n * n; i++) {
        fa[i] = (float)(ma > 0 ? Da[i] / ma : 0);
        fb[i] = (float)(mb > 0 ? Db[i] / mb : 0);
    }
    char **labels = NULL;
    int nl = 0;
    if (c->labels_path) {
        if (rep_read_labels(c->labels_path, &labels, &nl, err)) cli_die(1, "%s", err);
        if (nl != n) cli_die(1, "%s: %d labels for %d stimuli", c->labels_path, nl, n);
    }
    char ta[300], tb[300], title[700], unit[96];
    snprintf(ta, sizeof ta, "A: %s (%d units)", A->name, A->p);
    snprintf(tb, sizeof tb, "B: %s (%d units)", B->name, B->p);
    snprintf(title, sizeof title, "RDMs, %s", rdm_unit(c->o.rdm));
    snprintf(unit, sizeof unit, "%s / its max", rdm_unit(c->o.rdm));
    const float *mats[2] = {fa, fb};
    const char *titles[2] = {ta, tb};
    tb_heatmap h = {title, "stimulus", "stimulus", (const char *const *)labels, (const char *const *)labels,
                    0.0, 1.0, CMAP_VIRIDIS, unit, 0};
    if (make_dirs(c->rdm_png, err)) cli_die(1, "%s", err);
    snprintf(path, sizeof path, "%s/rdm_%s_vs_%s.png", c->rdm_png, A->name, B->name);
    if (plot_heatmap_grid_png(path, mats, 2, 2, n, n, titles, &h, err)) cli_die(1, "%s", err);
    cli_note("wrote %s", path);
    if (labels) rep_free_labels(labels, nl);
    free(Da); free(Db); free(fa); free(fb);
}

/* ---- one comparison ------------------------------------------------------------------ */

static void compare_pair(const rep_layer *A, const rep_layer *B, const run_cfg *c, align_result *r) {
    char err[TB_ERRLEN];
    if (A->n != B->n)
        cli_die(1, "%s has %d stimuli but %s has %d: both sides must be recorded on the same stimuli, in the same order",
                A->path, A->n, B->path, B->n);
    if (align_all(A->mean, A->n, A->p, B->mean, B->p, B->trial, B->trials, &c->o, r, err))
        cli_die(1, "%s vs %s: %s", A->path, B->path, err);
    if (c->rdm_png) write_rdm_png(A, B, c);
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
}

/* ---- many comparisons: the layer x metric table and the by-layer plot ---------------- */

static void layer_table(int np, const char *const *names, const align_result *res) {
    int cols[N_METRIC], nc = 0;
    for (int m = 0; m < N_METRIC; m++) {
        int any = 0;
        for (int i = 0; i < np; i++) any |= !isnan(field(&res[i], m));
        if (any) cols[nc++] = m;
    }
    int w[N_METRIC + 1];
    const char *head[N_METRIC + 1];
    w[0] = 8;
    for (int i = 0; i < np; i++) w[0] = (int)strlen(names[i]) > w[0] ? (int)strlen(names[i]) : w[0];
    head[0] = "layer";
    for (int j = 0; j < nc; j++) { w[j + 1] = 8; head[j + 1] = metric[cols[j]].head; }
    cli_table_row(nc + 1, w, head);
    cli_table_rule(nc + 1, w);
    char buf[N_METRIC][32];
    for (int i = 0; i < np; i++) {
        const char *cells[N_METRIC + 1];
        cells[0] = names[i];
        for (int j = 0; j < nc; j++) { cli_fmt_num(buf[j], 32, field(&res[i], cols[j])); cells[j + 1] = buf[j]; }
        cli_table_row(nc + 1, w, cells);
    }
    printf("similarities: higher = more alike; proc_eu/proc_ang are distances (0 = same shape); _p are p-values.\n");
    /* best layer by the first similarity shown */
    int m0 = cols[0], best = 0, dist = !strcmp(metric[m0].kind, "distance");
    for (int i = 1; i < np; i++)
        if (dist ? field(&res[i], m0) < field(&res[best], m0) : field(&res[i], m0) > field(&res[best], m0)) best = i;
    printf("best by %s (%s): %s (%.4f)\n", metric[m0].key, dist ? "smallest distance" : "largest similarity",
           names[best], field(&res[best], m0));
}

static void layer_plot(int np, const align_result *res, const run_cfg *c, const char *xlabel) {
    tb_series s[N_METRIC];
    double *x = malloc((size_t)np * 8), *y = malloc((size_t)np * N_METRIC * 8);
    int ns = 0, any_sim = 0;
    for (int i = 0; i < np; i++) x[i] = i;
    for (int m = 0; m < N_METRIC; m++)
        if (!strcmp(metric[m].kind, "similarity") && (metric[m].family & c->families)) any_sim = 1;
    /* similarities (higher = more alike) if there are any, else the distances */
    const char *kind = any_sim ? "similarity" : "distance";
    for (int m = 0; m < N_METRIC; m++) {
        if (strcmp(metric[m].kind, kind) || metric[m].family & F_STAT) continue;
        int any = 0;
        for (int i = 0; i < np; i++) any |= !isnan(field(&res[i], m));
        if (!any) continue;
        double *ym = y + (size_t)ns * np;
        for (int i = 0; i < np; i++) ym[i] = field(&res[i], m);
        s[ns] = (tb_series){metric[m].key, x, ym, np, "linespoints"};
        ns++;
    }
    tb_lineplot lp = {any_sim ? "Alignment by layer (similarities: higher = more alike)"
                              : "Alignment by layer (distances: lower = more alike)",
                      xlabel, any_sim ? "similarity" : "distance (0 = same shape)", 0, 0, NAN, NAN, 0, 0};
    char err[TB_ERRLEN];
    int rendered = 0;
    if (plot_lines(c->plots, c->name, &lp, s, ns, &rendered, err)) cli_note("plot: %s", err);
    else if (rendered) cli_note("wrote %s/%s.png", c->plots, c->name);
    else cli_note("gnuplot not found: render with gnuplot %s/%s.gp", c->plots, c->name);
    free(x);
    free(y);
}

/* ---- the synthetic demo data ----------------------------------------------------------- */

static void save2(const char *dir, const char *name, const double *X, int n, int p) {
    char path[1200], err[TB_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    float *f = malloc((size_t)n * p * sizeof(float));
    for (size_t i = 0; i < (size_t)n * p; i++) f[i] = (float)X[i];
    int64_t shape[2] = {n, p};
    if (npy_write_f32(path, f, 2, shape, err)) cli_die(1, "%s", err);
    free(f);
}

/* A small world the lessons can reason about: 96 stimuli in 4 categories (24 each), a
 * latent meaning z (category centre + item detail).  The "brain" is a noisy recording
 * of tanh(z W) over 8 trials; a 6-layer "model" mixes the same meaning with features
 * that ignore it, most strongly aligned in its middle layers; plus a rotated copy, a
 * linearly stretched copy, unrelated noise and a too-wide noise array (for CCA's trap),
 * and activations to sentences vs nonwords with 6 planted language-selective units. */
static void write_demo(const char *dir, uint64_t seed) {
    enum { N = 96, D = 6, P = 24, H = 32, T = 8, C = 4 };
    static const char *cats[C] = {"animal", "food", "tool", "place"};
    char err[TB_ERRLEN], path[1200], model_dir[1100];
    snprintf(model_dir, sizeof model_dir, "%s/model", dir);
    if (make_dirs(model_dir, err)) cli_die(1, "%s", err);
    tb_rng g;
    rng_seed(&g, seed);
    double centre[C][D], z[N][D];
    for (int k = 0; k < C; k++)
        for (int d = 0; d < D; d++) centre[k][d] = 1.5 * rng_normal(&g);
    for (int i = 0; i < N; i++)
        for (int d = 0; d < D; d++) z[i][d] = centre[i / (N / C)][d] + 0.6 * rng_normal(&g);
    /* brain: tanh(z Wb) + trial noise */
    double *Wb = malloc(D * P * 8), *clean = malloc(N * P * 8), *trials = malloc((size_t)T * N * P * 8);
    for (int i = 0; i < D * P; i++) Wb[i] = rng_normal(&g) / sqrt(D);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < P; j++) {
            double s = 0;
            for (int d = 0; d < D; d++) s += z[i][d] * Wb[d * P + j];
            clean[i * P + j] = tanh(s);
        }
    for (int t = 0; t < T; t++)
        for (int i = 0; i < N * P; i++) trials[(size_t)t * N * P + i] = clean[i] + 1.2 * rng_normal(&g);
    float *f = malloc((size_t)T * N * P * sizeof(float));
    for (int i = 0; i < T * N * P; i++) f[i] = (float)trials[i];
    int64_t sh3[3] = {T, N, P};
    snprintf(path, sizeof path, "%s/brain.npy", dir);
    if (npy_write_f32(path, f, 3, sh3, err)) cli_die(1, "%s", err);
    free(f);
    double *bm = calloc(N * P, 8);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < N * P; i++) bm[i] += trials[(size_t)t * N * P + i] / T;
    /* model layers: a_l relu(z W_l) + (1 - a_l) relu(e W'_l), e = item identity */
    static const double a_l[6] = {0.05, 0.3, 0.7, 0.9, 0.6, 0.35};
    double e[N][16];
    for (int i = 0; i < N; i++)
        for (int d = 0; d < 16; d++) e[i][d] = rng_normal(&g);
    double *L = malloc(N * H * 8);
    for (int l = 0; l < 6; l++) {
        double *W1 = malloc(D * H * 8), *W2 = malloc(16 * H * 8);
        for (int i = 0; i < D * H; i++) W1[i] = rng_normal(&g) / sqrt(D);
        for (int i = 0; i < 16 * H; i++) W2[i] = rng_normal(&g) / 4.0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < H; j++) {
                double s1 = 0, s2 = 0;
                for (int d = 0; d < D; d++) s1 += z[i][d] * W1[d * H + j];
                for (int d = 0; d < 16; d++) s2 += e[i][d] * W2[d * H + j];
                L[i * H + j] = a_l[l] * (s1 > 0 ? s1 : 0.05 * s1) + (1 - a_l[l]) * (s2 > 0 ? s2 : 0.05 * s2);
            }
        char name[64];
        snprintf(name, sizeof name, "model/layer%d.npy", l);
        save2(dir, name, L, N, H);
        free(W1); free(W2);
    }
    /* rotated: brain mean x orthogonal Q x 5 (+ an offset);  stretched: x a general matrix */
    double *G = malloc(P * P * 8), *U = malloc(P * P * 8), *S = malloc(P * 8), *Vt = malloc(P * P * 8), *Q = malloc(P * P * 8);
    for (int i = 0; i < P * P; i++) G[i] = rng_normal(&g);
    if (la_svd(P, P, G, U, S, Vt, err)) cli_die(1, "%s", err);
    la_gemm_nn(P, P, P, U, Vt, Q);
    double *R = malloc(N * P * 8);
    la_gemm_nn(N, P, P, bm, Q, R);
    for (int i = 0; i < N * P; i++) R[i] = 5 * R[i] + 1;
    save2(dir, "rotated.npy", R, N, P);
    for (int i = 0; i < P * P; i++) G[i] = (i % (P + 1) == 0 ? 1.0 : 0.0) + 0.8 * rng_normal(&g);
    for (int i = 0; i < P; i++) G[i * P + i] *= i < 3 ? 6 : 1; /* stretch three directions */
    la_gemm_nn(N, P, P, bm, G, R);
    save2(dir, "stretched.npy", R, N, P);
    for (int i = 0; i < N * P; i++) R[i] = rng_normal(&g);
    save2(dir, "noise.npy", R, N, P);
    double *Wd = malloc((size_t)N * 200 * 8);
    for (int i = 0; i < N * 200; i++) Wd[i] = rng_normal(&g);
    save2(dir, "noise_wide.npy", Wd, N, 200);
    /* localizer: 80 sentences and 80 nonword strings x 64 units, units 5, 12, 20, 33,
     * 41, 58 respond more (in magnitude) to sentences */
    static const int lang[6] = {5, 12, 20, 33, 41, 58};
    double *Ls = malloc(80 * 64 * 8), *Ln = malloc(80 * 64 * 8);
    for (int i = 0; i < 80 * 64; i++) { Ls[i] = rng_normal(&g); Ln[i] = rng_normal(&g); }
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < 80; i++) Ls[i * 64 + lang[k]] += (k % 2 ? -1 : 1) * (1.0 + 0.3 * k);
    save2(dir, "loc_sentences.npy", Ls, 80, 64);
    save2(dir, "loc_nonwords.npy", Ln, 80, 64);
    /* labels */
    char *lab = malloc(N * 32), *q = lab;
    for (int i = 0; i < N; i++) q += sprintf(q, "%s%d\n", cats[i / (N / C)], i % (N / C) + 1);
    snprintf(path, sizeof path, "%s/labels.txt", dir);
    if (write_text_file(path, lab, err)) cli_die(1, "%s", err);
    free(lab); free(Wb); free(clean); free(trials); free(bm); free(L); free(G); free(U); free(S); free(Vt);
    free(Q); free(R); free(Wd); free(Ls); free(Ln);
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

/* ---- the command ----------------------------------------------------------------------- */

int cmd_align(int argc, char **argv) {
    const char *metric_s, *rdm_s, *demo;
    run_cfg c;
    int perm, boot, folds;
    long long seed;
    double rbf_f;
    int drop_constant;
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
        {"json", 'b', &c.json, NULL, "", "one JSON object per comparison on stdout", 0, 0, NULL},
        {"rdm-png", 's', &c.rdm_png, NULL, "", "folder for side-by-side RDM heatmaps", 0, 0, NULL},
        {"labels", 's', &c.labels_path, NULL, "", "stimulus names, one per line (RDM axes)", 0, 0, NULL},
        {"plots", 's', &c.plots, TB_PLOTS_DIR, "", "folder for the by-layer plot", 0, 0, NULL},
        {"name", 's', &c.name, "align_by_layer", "", "file name of the by-layer plot", 0, 0, NULL},
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
    c.families = (c.o.rsa ? F_RSA : 0) | (c.o.cka ? F_CKA : 0) | (c.o.cca ? F_CCA : 0) |
                 (c.o.procrustes ? F_PROC : 0) | (c.o.encoding ? F_ENC : 0);
    c.o.rdm = !strcmp(rdm_s, "euclidean") ? RDM_EUCLIDEAN : !strcmp(rdm_s, "cosine") ? RDM_COSINE : RDM_CORRELATION;
    c.o.perm = perm;
    c.o.boot = boot;
    c.o.seed = (uint64_t)seed;
    c.o.rbf_f = rbf_f;
    c.o.enc.folds = folds;
    c.o.enc.seed = (uint64_t)seed;

    rep_set A, B;
    char err[TB_ERRLEN];
    if (rep_load(pos[0], drop_constant, &A, err)) cli_die(1, "%s", err);
    if (rep_load(pos[1], drop_constant, &B, err)) cli_die(1, "%s", err);
    if (!c.json) { describe("A", &A); describe("B", &B); }

    /* which pairs: one-to-one, layers of one side against the other, or matched layers */
    int np, paired = A.n_layers > 1 && B.n_layers > 1;
    if (paired && A.n_layers != B.n_layers)
        cli_die(1, "%s has %d layers and %s has %d: compare folders with the same layers, or one folder with a file",
                pos[0], A.n_layers, pos[1], B.n_layers);
    np = A.n_layers > B.n_layers ? A.n_layers : B.n_layers;
    align_result *res = calloc((size_t)np, sizeof *res);
    const char **names = calloc((size_t)np, sizeof *names);
    int warned = 0;
    for (int i = 0; i < np; i++) {
        const rep_layer *a = &A.layer[A.n_layers > 1 ? i : 0], *b = &B.layer[B.n_layers > 1 ? i : 0];
        names[i] = A.n_layers > 1 ? a->name : b->name;
        compare_pair(a, b, &c, &res[i]);
        if (res[i].cca_warning && !warned && !c.json) {
            cli_note("warning: %d stimuli for %d and %d units: with this many units per stimulus CCA, SVCCA and "
                     "PWCCA find near-perfect correlations even in noise; trust debiased CKA, RSA and Procrustes",
                     a->n, a->p, b->p);
            warned = 1;
        }
        if (c.json) print_json(&res[i], A.n_layers > 1 ? a->name : NULL, B.n_layers > 1 ? b->name : NULL);
    }
    if (!c.json) {
        if (np == 1) print_single(&res[0], &c);
        else {
            layer_table(np, names, res);
            layer_plot(np, res, &c, A.n_layers > 1 ? "layer of A (file order)" : "layer of B (file order)");
        }
    }
    free(res);
    free(names);
    rep_free(&A);
    rep_free(&B);
    return 0;
}
