/* compare.c -- layer-by-layer comparisons, brain meets model, alignment over training
 * (see include/compare.h).  Lessons 10-13 and 15. */
#include "compare.h"
#include "io.h"
#include "lm.h"
#include "recording.h"

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

static int open_kind(const char *path, int snn, lm_model *m, char *err) {
    if (lm_open(path, m, err)) return -1;
    if (snn == !strcmp(m->kind, "srnn")) return 0;
    tb_fail(err, "%s: is a '%s' checkpoint; compare takes the GPT first and the spiking network ('srnn') second", path,
            m->kind);
    lm_close(m);
    return -1;
}

int cmp_side_load(const char *path, int snn, const cmp_opts *o, cmp_side *s, char *err) {
    memset(s, 0, sizeof *s);
    snprintf(s->kind, sizeof s->kind, "%s", snn ? "srnn" : "gpt");
    s->step = -1;
    if (rep_is_dir(path)) {
        if (rep_load(path, 1, &s->rep, err)) return -1;
    } else {
        lm_model m;
        if (open_kind(path, snn, &m, err)) return -1;
        s->step = m.step;
        int rc = record(&m, snn, o, &s->rep, err);
        lm_close(&m);
        if (rc) return -1;
    }
    if (snn) s->dropped = keep_rates(&s->rep);
    return 0;
}

/* ---- brain meets model ------------------------------------------------------------------- */

void cmp_result_free(cmp_result *r) {
    rep_free(&r->gpt.rep);
    rep_free(&r->snn.rep);
    free(r->layer);
    free(r->tau);
    stim_meta_free(&r->meta);
    memset(r, 0, sizeof *r);
}

double cmp_tau(const cmp_result *r, int f, int l) { return r->tau[(size_t)f * (r->n_layers + 1) + l]; }

/* Every GPT layer against the network, with encoding models and permutation p-values. */
static int by_layer(cmp_result *r, const cmp_opts *o, char *err) {
    align_opts ao;
    align_opts_default(&ao);
    ao.encoding = 1;
    ao.perm = o->perm;
    ao.seed = o->seed;
    ao.enc.seed = o->seed;
    ao.progress = o->progress;
    cmp_pairs p;
    if (cmp_layers(&r->gpt.rep, &r->snn.rep, &ao, &p, err)) return -1;
    r->layer = p.res; /* keep the results, drop the rest */
    p.res = NULL;
    cmp_pairs_free(&p);
    r->best = cmp_best(r->layer, r->n_layers, cmp_metric_index("rsa_spearman"));
    return 0;
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
    if (!rc) rc = by_layer(r, o, err);
    if (!rc && o->meta) rc = model_rdms(r, o, err);
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

void cmp_training_free(cmp_training *t) {
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < t->n[s]; i++) free(t->path[s][i]);
        free(t->path[s]);
        free(t->snap[s]);
        rep_free(&t->final[s]);
    }
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
    return 0;
}

/* Best (max over the GPT's layers) rsa_spearman and cka_linear between G and S. */
static int best_pair(const rep_set *G, const rep_layer *S, const cmp_opts *o, cmp_snapshot *snap, char *err) {
    align_opts ao;
    align_opts_default(&ao);
    ao.cca = ao.procrustes = 0;
    ao.seed = o->seed;
    snap->rsa = snap->cka = -INFINITY;
    for (int l = 0; l < G->n_layers; l++) {
        align_result r;
        if (align_all(G->layer[l].mean, S->n, G->layer[l].p, S->mean, S->p, NULL, 0, &ao, &r, err)) return -1;
        snap->rsa = r.rsa_spearman > snap->rsa ? r.rsa_spearman : snap->rsa;
        snap->cka = r.cka_linear > snap->cka ? r.cka_linear : snap->cka;
    }
    return 0;
}

int cmp_training_score(cmp_training *t, int side, int i, const cmp_opts *o, char *err) {
    rep_set R;
    cmp_snapshot *s = &t->snap[side][i];
    if (snapshot(t->path[side][i], side, o, &R, &s->step, &s->pair_acc, err)) return -1;
    int rc = side ? best_pair(&t->final[0], &R.layer[0], o, s, err) : best_pair(&R, &t->final[1].layer[0], o, s, err);
    rep_free(&R);
    return rc;
}

int cmp_training_write_tsv(const cmp_training *t, const char *path, char *err) {
    static const char *const head[5] = {"model", "step", "rsa_spearman_best", "cka_linear_best", "minimal_pair_acc"};
    int rows = t->n[0] + t->n[1], row = 0;
    char **cells = calloc((size_t)rows * 5, sizeof *cells);
    for (int side = 0; cells && side < 2; side++)
        for (int i = 0; i < t->n[side]; i++, row++) {
            const cmp_snapshot *s = &t->snap[side][i];
            cells[row * 5] = tb_strf("%s", side ? "snn" : "gpt");
            cells[row * 5 + 1] = tb_strf("%lld", s->step);
            cells[row * 5 + 2] = tb_strf("%.4f", s->rsa);
            cells[row * 5 + 3] = tb_strf("%.4f", s->cka);
            cells[row * 5 + 4] = tb_strf("%.4f", s->pair_acc);
        }
    return write_cells(path, 5, head, rows, cells, err);
}
