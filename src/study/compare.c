/* compare.c -- layer-by-layer comparisons, brain meets model, alignment over training
 * (see include/compare.h).  Lessons 10-13 and 15. */
#include "ablation.h"
#include "compare.h"
#include "io.h"
#include "lm.h"
#include "recording.h"
#include "rng.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the catalogue ------------------------------------------------------------------- */

#define M(key, head, family, kind, range, what) {#key, head, offsetof(align_result, key), family, kind, range, what}
const cmp_metric cmp_metrics[CMP_N_METRICS] = {
    M(rsa_spearman, "rsa_sp", CMP_RSA, "similarity", "[-1, 1]",
      "Spearman r of the two RDMs (upper triangles, tie-corrected ranks)"),
    M(rsa_kendall_a, "tau_a", CMP_RSA, "similarity", "[-1, 1]",
      "Kendall tau-a of the RDMs (tied pairs count 0; use with categorical RDMs)"),
    M(rsa_pearson, "rsa_pe", CMP_RSA, "similarity", "[-1, 1]",
      "Pearson r of the RDMs (sensitive to how distances scale, not just their order)"),
    M(cka_linear, "cka", CMP_CKA, "similarity", "[0, 1]", "linear CKA: agreement of the stimulus x stimulus Gram matrices"),
    M(cka_rbf, "cka_rbf", CMP_CKA, "similarity", "[0, 1]", "CKA with a Gaussian kernel (bandwidth = f x median distance)"),
    M(cka_linear_debiased, "cka_deb", CMP_CKA, "similarity", "~[-1, 1]",
      "linear CKA from the unbiased HSIC: about 0 for unrelated data"),
    M(cca_mean, "cca", CMP_CCA, "similarity", "[0, 1]", "mean canonical correlation (goes to 1 when units approach stimuli)"),
    M(svcca, "svcca", CMP_CCA, "similarity", "[0, 1]", "mean CCA after keeping the directions with 99% of each side's variance"),
    M(pwcca, "pwcca", CMP_CCA, "similarity", "[0, 1]", "CCA weighted by how much of A each canonical direction explains"),
    M(procrustes_euclidean, "proc_eu", CMP_PROC, "distance", "[0, 1.41]",
      "distance left after the best rotation (both sides centred, unit norm)"),
    M(procrustes_angular, "proc_ang", CMP_PROC, "distance", "[0, 1.57] rad", "angle between the shapes after the best rotation"),
    M(encoding_r_median, "enc_r", CMP_ENC, "similarity", "[-1, 1]", "median held-out r predicting B's units from A (ridge, k-fold)"),
    M(encoding_r_ceiled, "enc_ceil", CMP_ENC, "similarity", "~[0, 1]", "encoding r divided by B's noise ceiling"),
    M(noise_ceiling, "ceiling", CMP_ENC, "ceiling on r", "[0, 1]",
      "sqrt of B's split-half reliability (Spearman-Brown): the r a perfect model reaches"),
    M(rsa_perm_p, "rsa_p", CMP_RSA | CMP_STAT, "p-value", "(0, 1]", "permutation p of rsa_spearman (stimulus labels of B shuffled)"),
    M(cka_perm_p, "cka_p", CMP_CKA | CMP_STAT, "p-value", "(0, 1]", "permutation p of cka_linear"),
};
#undef M
const int cmp_n_metrics = CMP_N_METRICS;

const char *const cmp_shown[CMP_N_SHOWN] = {"rsa_spearman", "rsa_kendall_a", "cka_linear", "cka_linear_debiased",
                                 "svcca", "pwcca", "procrustes_angular", "encoding_r_median",
                                 "encoding_r_ceiled", "noise_ceiling", "rsa_perm_p", "cka_perm_p"};
const int cmp_n_shown = CMP_N_SHOWN;

double cmp_value(const align_result *r, int metric) {
    return *(const double *)((const char *)r + cmp_metrics[metric].off);
}

int cmp_metric_index(const char *key) {
    for (int m = 0; m < cmp_n_metrics; m++)
        if (!strcmp(cmp_metrics[m].key, key)) return m;
    return -1;
}

int cmp_families(const align_opts *o) {
    return (o->rsa ? CMP_RSA : 0) | (o->cka ? CMP_CKA : 0) | (o->cca ? CMP_CCA : 0) | (o->procrustes ? CMP_PROC : 0) |
           (o->encoding ? CMP_ENC : 0);
}

int cmp_best(const align_result *res, int n, int m) {
    int best = 0, dist = !strcmp(cmp_metrics[m].kind, "distance");
    for (int i = 1; i < n; i++) {
        double v = cmp_value(&res[i], m), b = cmp_value(&res[best], m);
        if (dist ? v < b : v > b) best = i;
    }
    return best;
}

/* ---- two representations, layer by layer --------------------------------------------- */

void cmp_pairs_free(cmp_pairs *p) {
    free(p->a);
    free(p->b);
    free(p->res);
    memset(p, 0, sizeof *p);
}

int cmp_layers(const rep_set *A, const rep_set *B, const align_opts *o, cmp_pairs *out, char *err) {
    memset(out, 0, sizeof *out);
    if (A->n_layers > 1 && B->n_layers > 1 && A->n_layers != B->n_layers)
        return tb_fail(err, "%s has %d layers and %s has %d: compare folders with the same layers, or one folder with a file",
                       A->layer[0].path, A->n_layers, B->layer[0].path, B->n_layers);
    int n = A->n_layers > B->n_layers ? A->n_layers : B->n_layers;
    out->a = calloc((size_t)n, sizeof *out->a);
    out->b = calloc((size_t)n, sizeof *out->b);
    out->res = calloc((size_t)n, sizeof *out->res);
    if (!out->a || !out->b || !out->res) { cmp_pairs_free(out); return tb_fail(err, "out of memory"); }
    out->n = n;
    for (int i = 0; i < n; i++) {
        const rep_layer *a = &A->layer[A->n_layers > 1 ? i : 0], *b = &B->layer[B->n_layers > 1 ? i : 0];
        out->a[i] = a;
        out->b[i] = b;
        if (a->n != b->n) {
            cmp_pairs_free(out);
            return tb_fail(err, "%s has %d stimuli but %s has %d: both sides must be recorded on the same stimuli, in the "
                                "same order", a->path, a->n, b->path, b->n);
        }
        char e[TB_ERRLEN];
        if (align_all(a->mean, a->n, a->p, b->mean, b->p, b->trial, b->trials, o, &out->res[i], e)) {
            tb_fail(err, "%s vs %s: %s", a->path, b->path, e);
            cmp_pairs_free(out);
            return -1;
        }
        tb_progress_tell(&o->progress, i + 1, n);
    }
    return 0;
}

/* ---- one side: recorded from a checkpoint, or a folder of recordings ------------------- */

/* The spiking network keeps its "rates" layer only, without neurons constant on every
 * stimulus; returns how many were left out. */
static int keep_rates(rep_set *s) {
    for (int l = 1; l < s->n_layers; l++) rep_layer_free(&s->layer[l]);
    s->n_layers = 1;
    return rep_drop_constant(&s->layer[0]);
}

/* Record an open model on o->stimuli (the GPT deterministic: 1 trial). */
static int record(lm_model *m, int snn, const cmp_opts *o, rep_set *out, char *err) {
    rec_stimuli s;
    char e[TB_ERRLEN];
    if (rec_stimuli_load(o->stimuli, &m->tok, &s, err)) return -1;
    rec_opts ro = {o->pool_last, snn ? o->trials : 1, 0, o->seed, -1, o->progress};
    int rc = rec_record(m, &s, &ro, out, e);
    if (rc) tb_fail(err, "%s: %s", m->path, e);
    rec_stimuli_free(&s);
    return rc;
}

static int open_kind(const char *path, int snn, int untrained, lm_model *m, char *err) {
    if ((untrained ? lm_open_untrained : lm_open)(path, m, err)) return -1;
    if (snn == !strcmp(m->kind, "srnn")) return 0;
    tb_fail(err, "%s: is a '%s' checkpoint; compare takes the GPT first and the spiking network ('srnn') second", path,
            m->kind);
    lm_close(m);
    return -1;
}

static int side_load(const char *path, int snn, int untrained, const cmp_opts *o, cmp_side *s, char *err) {
    memset(s, 0, sizeof *s);
    snprintf(s->kind, sizeof s->kind, "%s", snn ? "srnn" : "gpt");
    s->step = -1;
    if (rep_is_dir(path)) {
        if (untrained) return tb_fail(err, "%s: a recording folder has no untrained copy", path);
        if (rep_load(path, 1, &s->rep, err)) return -1;
    } else {
        lm_model m;
        if (open_kind(path, snn, untrained, &m, err)) return -1;
        s->step = m.step;
        int rc = record(&m, snn, o, &s->rep, err);
        lm_close(&m);
        if (rc) return -1;
    }
    if (snn) s->dropped = keep_rates(&s->rep);
    return 0;
}

int cmp_side_load(const char *path, int snn, const cmp_opts *o, cmp_side *s, char *err) {
    return side_load(path, snn, 0, o, s, err);
}

int cmp_side_load_untrained(const char *path, int snn, const cmp_opts *o, cmp_side *s, char *err) {
    return side_load(path, snn, 1, o, s, err);
}

/* ---- brain meets model ------------------------------------------------------------------- */

void cmp_opts_default(cmp_opts *o) {
    memset(o, 0, sizeof *o);
    o->stimuli = TB_DATA_DIR "/probes_sentences.txt";
    o->meta = TB_DATA_DIR "/probes_sentences.tsv";
    o->vocab = TB_DATA_DIR "/vocab.tsv";
    o->pairs = TB_DATA_DIR "/minimal_pairs.tsv";
    o->trials = 10;
    o->perm = 200;
    o->seed = 1;
    o->baselines = 1;
    o->boot = 200;
    o->rank = BOOT_RSA_SPEARMAN;
    o->units_repeats = 20;
}

void cmp_result_free(cmp_result *r) {
    cmp_references_free(r);
    rep_free(&r->gpt.rep);
    rep_free(&r->snn.rep);
    free(r->layer);
    free(r->tau);
    stim_meta_free(&r->meta);
    memset(r, 0, sizeof *r);
}

double cmp_tau(const cmp_result *r, int f, int l) { return r->tau[(size_t)f * (r->n_layers + 1) + l]; }

/* Every GPT layer against the network, with encoding models, permutation p-values and
 * the CCA family cross-validated; the best layer by the rank metric. */
static int by_layer(cmp_result *r, const cmp_opts *o, char *err) {
    const rep_layer *B = &r->snn.rep.layer[0];
    r->layer = calloc((size_t)r->n_layers, sizeof *r->layer);
    if (!r->layer) return tb_fail(err, "out of memory");
    for (int l = 0; l < r->n_layers; l++) {
        const rep_layer *A = &r->gpt.rep.layer[l];
        char e[TB_ERRLEN];
        if (cmp_align_one(A, B, o, &r->layer[l], r->cca_note, e)) return tb_fail(err, "%s vs %s: %s", A->path, B->path, e);
        tb_progress_tell(&o->progress, l + 1, r->n_layers);
    }
    r->best = cmp_best(r->layer, r->n_layers, cmp_metric_index(boot_metric_name(o->rank)));
    return 0;
}

/* Twin differences on both sides (GPT layers with nothing left are left out), PCA on
 * the GPT's (see cmp_prepare_set). */
static int prepare_sides(cmp_result *r, const cmp_opts *o, char *err) {
    if (cmp_prepare_set(&r->gpt.rep, 1, o, r->twins_note, sizeof r->twins_note, err)) return -1;
    r->n_layers = r->gpt.rep.n_layers;
    return cmp_prepare_layer(&r->snn.rep.layer[0], 0, o, err);
}

/* Tau-a of each GPT layer and of the network with each model RDM. */
static int model_rdms(cmp_result *r, const cmp_opts *o, char *err) {
    if (stim_meta_load(o->meta, r->n_stimuli, &r->meta, err)) return -1;
    if (stim_pos_patterns(o->stimuli, o->vocab, &r->meta, err)) return -1;
    int cols = r->n_layers + 1;
    r->tau = malloc((size_t)STIM_N_FEAT * cols * sizeof(double));
    if (!r->tau) return tb_fail(err, "out of memory");
    for (int f = 0; f < STIM_N_FEAT; f++)
        for (int l = 0; l < cols; l++) {
            const rep_layer *L = l < r->n_layers ? &r->gpt.rep.layer[l] : &r->snn.rep.layer[0];
            double *t = &r->tau[(size_t)f * cols + l];
            *t = NAN;
            if (r->meta.label[f] && stim_tau_a(L->mean, L->n, L->p, &r->meta, f, t, err)) return -1;
        }
    r->have_meta = 1;
    return 0;
}

int cmp_models(const char *gpt, const char *snn, const cmp_opts *o, cmp_result *r, char *err) {
    memset(r, 0, sizeof *r);
    int rc = cmp_side_load(gpt, 0, o, &r->gpt, err);
    if (!rc) rc = cmp_side_load(snn, 1, o, &r->snn, err);
    if (!rc) {
        r->n_layers = r->gpt.rep.n_layers;
        r->n_stimuli = r->snn.rep.layer[0].n;
        if (r->gpt.rep.layer[0].n != r->n_stimuli)
            rc = tb_fail(err, "%s has %d stimuli but %s has %d: record both on the same stimuli", gpt,
                         r->gpt.rep.layer[0].n, snn, r->n_stimuli);
    }
    r->twins = o->twins;
    if (!rc) rc = prepare_sides(r, o, err);
    if (!rc) {
        r->n_stimuli = r->snn.rep.layer[0].n;
        rc = by_layer(r, o, err);
    }
    if (!rc && o->meta && !o->twins) rc = model_rdms(r, o, err);
    if (!rc && o->baselines) rc = cmp_references(r, gpt, snn, o, err);
    if (rc) cmp_result_free(r);
    return rc;
}

/* ---- tables ------------------------------------------------------------------------------- */

/* Write rows x cols malloc'd cells (NULL where out of memory) as a TSV; frees them. */
static int write_cells(const char *path, int cols, const char *const *head, int rows, char **cells, char *err) {
    int rc = cells ? 0 : tb_fail(err, "out of memory");
    for (int i = 0; cells && i < rows * cols && !rc; i++)
        if (!cells[i]) rc = tb_fail(err, "out of memory");
    if (!rc) rc = tsv_write(path, cols, head, rows, (const char *const *)cells, err);
    for (int i = 0; cells && i < rows * cols; i++) free(cells[i]);
    free(cells);
    return rc;
}

int cmp_write_layers_tsv(const cmp_result *r, const char *path, char *err) {
    int cols = cmp_n_shown + 1, nl = r->n_layers;
    const char **head = malloc((size_t)cols * sizeof *head);
    char **cells = calloc((size_t)nl * cols, sizeof *cells);
    if (!head) { free(cells); return tb_fail(err, "out of memory"); }
    head[0] = "layer";
    for (int k = 0; k < cmp_n_shown; k++) head[k + 1] = cmp_shown[k];
    for (int l = 0; cells && l < nl; l++) {
        cells[l * cols] = tb_strf("%s", r->gpt.rep.layer[l].name);
        for (int k = 0; k < cmp_n_shown; k++)
            cells[l * cols + k + 1] = tb_strf("%.6g", cmp_value(&r->layer[l], cmp_metric_index(cmp_shown[k])));
    }
    int rc = write_cells(path, cols, head, nl, cells, err);
    free(head);
    return rc;
}

int cmp_write_tau_tsv(const cmp_result *r, const char *path, char *err) {
    int nl = r->n_layers, cols = nl + 2;
    const char **head = malloc((size_t)cols * sizeof *head);
    char **cells = calloc((size_t)STIM_N_FEAT * cols, sizeof *cells);
    if (!head) { free(cells); return tb_fail(err, "out of memory"); }
    head[0] = "model_rdm";
    for (int l = 0; l < nl; l++) head[l + 1] = r->gpt.rep.layer[l].name;
    head[nl + 1] = "snn";
    for (int f = 0; cells && f < STIM_N_FEAT; f++) {
        cells[f * cols] = tb_strf("%s", stim_feat_key[f]);
        for (int l = 0; l <= nl; l++) cells[f * cols + l + 1] = tb_strf("%.6g", cmp_tau(r, f, l));
    }
    int rc = write_cells(path, cols, head, STIM_N_FEAT, cells, err);
    free(head);
    return rc;
}

/* ---- over training ------------------------------------------------------------------------- */

const char *const cmp_t_key[CMP_T_METRICS] = {"rsa_spearman", "cka_linear", "encoding_r_median"};

void cmp_training_free(cmp_training *t) {
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < t->n[s]; i++) {
            free(t->path[s][i]);
            if (t->snap[s]) free(t->snap[s][i].score);
        }
        free(t->path[s]);
        free(t->snap[s]);
        rep_free(&t->final[s]);
    }
    free(t->layer_name);
    memset(t, 0, sizeof *t);
}

/* Record snapshot `path` (the spiking network: its rates without constant neurons);
 * with acc != NULL also score its minimal pairs. */
static int snapshot(const char *path, int snn, const cmp_opts *o, rep_set *r, long long *step, double *acc, char *err) {
    lm_model m;
    if (lm_open(path, &m, err)) return -1;
    *step = m.step;
    int rc = record(&m, snn, o, r, err);
    if (!rc && snn) keep_rates(r);
    if (!rc && acc) {
        double a[3];
        int cnt[3];
        rc = lm_minimal_pairs(&m.scorer, &m.tok, o->pairs, a, cnt, err);
        *acc = a[0];
        if (rc) rep_free(r);
    }
    lm_close(&m);
    return rc;
}

int cmp_training_open(const char *gpt_dir, const char *snn_dir, const cmp_opts *o, cmp_training *t, char *err) {
    static const char *const hint[2] = {"train with --save-at 0,50,200,final", "train-snn with --save-at 0,100,final"};
    const char *dir[2] = {gpt_dir, snn_dir};
    memset(t, 0, sizeof *t);
    for (int s = 0; s < 2; s++) {
        if (rep_list_steps(dir[s], &t->path[s], &t->n[s]) || t->n[s] == 0) {
            cmp_training_free(t);
            return tb_fail(err, "%s: no step_*.ckpt snapshots (%s)", dir[s], hint[s]);
        }
        t->snap[s] = calloc((size_t)t->n[s], sizeof(cmp_snapshot));
        long long step;
        if (!t->snap[s]) { cmp_training_free(t); return tb_fail(err, "out of memory"); }
        if (snapshot(t->path[s][t->n[s] - 1], s, o, &t->final[s], &step, NULL, err)) { cmp_training_free(t); return -1; }
    }
    t->n_layers = t->final[0].n_layers;
    t->layer_name = calloc((size_t)t->n_layers, sizeof *t->layer_name);
    if (!t->layer_name) { cmp_training_free(t); return tb_fail(err, "out of memory"); }
    for (int l = 0; l < t->n_layers; l++) snprintf(t->layer_name[l], 256, "%s", t->final[0].layer[l].name);
    return 0;
}

/* Every GPT layer of G against S: RSA, CKA and the encoding model into score[L * 3]. */
static int layer_scores(const rep_set *G, const rep_layer *S, const cmp_opts *o, double *score, char *err) {
    align_opts ao;
    align_opts_default(&ao);
    ao.cca = ao.procrustes = 0;
    ao.encoding = S->n >= 2 * ao.enc.folds;   /* too few stimuli for the folds: NaN */
    ao.seed = o->seed;
    ao.enc.seed = o->seed;
    for (int l = 0; l < G->n_layers; l++) {
        align_result r;
        if (align_all(G->layer[l].mean, S->n, G->layer[l].p, S->mean, S->p, S->trial, S->trials, &ao, &r, err)) return -1;
        score[l * CMP_T_METRICS + CMP_T_RSA] = r.rsa_spearman;
        score[l * CMP_T_METRICS + CMP_T_CKA] = r.cka_linear;
        score[l * CMP_T_METRICS + CMP_T_ENC] = r.encoding_r_median;
    }
    return 0;
}

int cmp_training_score(cmp_training *t, int side, int i, const cmp_opts *o, char *err) {
    rep_set R;
    cmp_snapshot *s = &t->snap[side][i];
    if (snapshot(t->path[side][i], side, o, &R, &s->step, &s->pair_acc, err)) return -1;
    if (side == 0 && R.n_layers != t->n_layers) {
        rep_free(&R);
        return tb_fail(err, "%s has %d layers, the final snapshot %d", t->path[side][i], R.n_layers, t->n_layers);
    }
    s->n_layers = t->n_layers;
    s->score = malloc((size_t)t->n_layers * CMP_T_METRICS * sizeof(double));
    int rc = s->score ? 0 : tb_fail(err, "out of memory");
    if (!rc) rc = side ? layer_scores(&t->final[0], &R.layer[0], o, s->score, err)
                       : layer_scores(&R, &t->final[1].layer[0], o, s->score, err);
    rep_free(&R);
    return rc;
}

int cmp_training_write_tsv(const cmp_training *t, const char *path, char *err) {
    int L = t->n_layers, cols = 4 + CMP_T_METRICS, rows = (t->n[0] + t->n[1]) * L, row = 0;
    const char *head[4 + CMP_T_METRICS] = {"model", "step", "gpt_layer", "minimal_pair_acc"};
    for (int q = 0; q < CMP_T_METRICS; q++) head[4 + q] = cmp_t_key[q];
    char **cells = calloc((size_t)rows * cols, sizeof *cells);
    for (int side = 0; cells && side < 2; side++)
        for (int i = 0; i < t->n[side]; i++)
            for (int l = 0; l < L; l++, row++) {
                const cmp_snapshot *s = &t->snap[side][i];
                char **c = cells + (size_t)row * cols;
                c[0] = tb_strf("%s", side ? "snn" : "gpt");
                c[1] = tb_strf("%lld", s->step);
                c[2] = tb_strf("%s", t->layer_name[l]);
                c[3] = tb_strf("%.4f", s->pair_acc);
                for (int q = 0; q < CMP_T_METRICS; q++) c[4 + q] = tb_strf("%.4f", s->score[l * CMP_T_METRICS + q]);
            }
    return write_cells(path, cols, head, rows, cells, err);
}

static double pearson(const double *x, const double *y, const int *idx, int n) {
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) { mx += x[idx[i]]; my += y[idx[i]]; }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) {
        double a = x[idx[i]] - mx, b = y[idx[i]] - my;
        sxy += a * b; sxx += a * a; syy += b * b;
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

void cmp_training_corr(const cmp_training *t, int side, int l, int q, int boot, uint64_t seed, double *r, double *lo,
                       double *hi) {
    int n = t->n[side];
    *r = *lo = *hi = NAN;
    if (n < 3) return;   /* r of two points is +-1 whatever they are */
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y), *rs = malloc((size_t)boot * sizeof *rs);
    int *idx = malloc((size_t)n * sizeof *idx);
    if (x && y && rs && idx) {
        for (int i = 0; i < n; i++) {
            x[i] = t->snap[side][i].score[l * CMP_T_METRICS + q];
            y[i] = t->snap[side][i].pair_acc;
            idx[i] = i;
        }
        *r = pearson(x, y, idx, n);
        tb_rng g;
        rng_seed(&g, rng_child_seed(seed, "snapshot bootstrap", (uint64_t)(side * 1000 + l * 10 + q)));
        int k = 0;
        for (int b = 0; n >= CMP_T_MIN_CI && b < boot; b++) {
            int distinct = 0;   /* a resample of fewer than 3 distinct snapshots says nothing */
            for (int i = 0; i < n; i++) idx[i] = (int)rng_below(&g, (uint32_t)n);
            for (int i = 0; i < n; i++) {
                int seen = 0;
                for (int j = 0; j < i && !seen; j++) seen = idx[j] == idx[i];
                distinct += !seen;
            }
            double v = distinct >= 3 ? pearson(x, y, idx, n) : NAN;
            if (!isnan(v)) rs[k++] = v;
        }
        if (k >= boot / 2) { *lo = abl_quantile(rs, k, 0.025); *hi = abl_quantile(rs, k, 0.975); }
    }
    free(x); free(y); free(rs); free(idx);
}
