/* compare_seeds.c -- `compare --seeds N`: every score as a mean with an interval across
 * seeds, and the model-to-model reference (two seeds of the same model).  Lesson 13; see
 * include/compare.h.
 *
 *   1. train N seeds of the GPT and of the network (sweep.h; cached run folders)
 *   2. GPT seed k against network seed k, with every reference (cmp_models)
 *   3. every pair of GPT seeds layer by layer, every pair of network seeds
 *   4. the numbers gathered per seed; means and intervals on demand
 */
#include "compare.h"
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cmp_s_key[CMP_S_METRICS] = {"rsa_spearman", "cka_linear", "encoding_r_median",
                                              "unique_r2_over_lexical"};

void cmp_seeds_free(cmp_seeds *s) {
    free(s->layer);
    free(s->layer_score);
    free(s->base_score);
    free(s->gpt_pair);
    free(s->snn_pair);
    free(s->gpt_ckpt);
    free(s->snn_ckpt);
    free(s->scr_ckpt);
    memset(s, 0, sizeof *s);
}

/* ---- 1. training ------------------------------------------------------------------------- */

typedef struct { cmp_progress_fn cb; void *ctx; const char *what; } progress_ctx;

static void trained(void *ctx, int done, int total, const sweep_run *r) {
    (void)r;
    progress_ctx *p = ctx;
    if (p->cb) p->cb(p->ctx, p->what, done, total);
}

/* N seeds of one model (scramble: the GPT on word-shuffled sentences): their checkpoints
 * into ckpt[n]. */
static int train_seeds(const char *model, int scramble, const char *exe, const char *root, int n, int jobs,
                       progress_ctx *pc, char (*ckpt)[1100], char *err) {
    static char *scr[1] = {"--scramble"};
    sweep_plan p;
    memset(&p, 0, sizeof p);
    p.extra = scramble ? scr : NULL;
    p.n_extra = scramble;
    p.exe = exe;
    p.model = model;
    p.root = root;
    p.data_dir = TB_DATA_DIR;
    p.seeds = n;
    p.jobs = jobs;
    p.threads = 1;
    sweep_run *r;
    int nr;
    if (sweep_expand(&p, &r, &nr, err)) return -1;
    pc->what = scramble ? "training scrambled-words GPT seeds" : !strcmp(model, "gpt") ? "training GPT seeds"
                                                                                    : "training spiking-network seeds";
    int rc = sweep_execute(&p, r, nr, trained, pc, NULL, err);
    for (int k = 0; !rc && k < nr; k++) {
        if (r[k].status != 0)
            rc = tb_fail(err, "%s seed %d failed (exit %d): see %s/train.log", model, r[k].seed, r[k].status, r[k].dir);
        else snprintf(ckpt[k], 1100, "%s", r[k].ckpt);
    }
    free(r);
    return rc;
}

/* ---- 2. each pair, with its references ------------------------------------------------------ */

static void gather(cmp_seeds *s, int k, const cmp_result *r) {
    int L = s->n_layers;
    for (int l = 0; l < L; l++) {
        double *v = s->layer_score + ((size_t)k * L + l) * CMP_S_METRICS;
        v[CMP_S_RSA] = r->layer[l].rsa_spearman;
        v[CMP_S_CKA] = r->layer[l].cka_linear;
        v[CMP_S_ENC] = r->layer[l].encoding_r_median;
        v[CMP_S_UNIQUE] = r->unique_r2_over_lexical ? r->unique_r2_over_lexical[l] : NAN;
    }
    for (int b = 0; b < CMP_N_BASE; b++) {
        double *v = s->base_score + ((size_t)k * CMP_N_BASE + b) * CMP_S_METRICS;
        const cmp_baseline *B = &r->base[b];
        v[CMP_S_RSA] = B->available ? B->res.rsa_spearman : NAN;
        v[CMP_S_CKA] = B->available ? B->res.cka_linear : NAN;
        v[CMP_S_ENC] = B->available ? B->res.encoding_r_median : NAN;
        v[CMP_S_UNIQUE] = NAN;
    }
    static const char *const verdicts[4] = {"supported", "contrary", "not distinguishable", "not available"};
    s->n_findings = r->n_findings;
    for (int f = 0; f < r->n_findings; f++) {
        s->finding_id[f] = r->finding[f].id;   /* static strings */
        for (int v = 0; v < 4; v++) s->verdict_count[f][v] += !strcmp(r->finding[f].verdict, verdicts[v]);
    }
}

static int alloc_seeds(cmp_seeds *s, int n, int L, char *err) {
    s->n = n;
    s->n_layers = L;
    s->n_pairs = n * (n - 1) / 2;
    s->layer = calloc((size_t)L, sizeof *s->layer);
    s->layer_score = malloc((size_t)n * L * CMP_S_METRICS * sizeof(double));
    s->base_score = malloc((size_t)n * CMP_N_BASE * CMP_S_METRICS * sizeof(double));
    s->gpt_pair = malloc((size_t)s->n_pairs * L * L * 2 * sizeof(double));
    s->snn_pair = malloc((size_t)s->n_pairs * 2 * sizeof(double));
    if (!s->layer || !s->layer_score || !s->base_score || !s->gpt_pair || !s->snn_pair) return tb_fail(err, "out of memory");
    return 0;
}

/* ---- 3. model against model ------------------------------------------------------------------ */

static int rsa_cka(const rep_layer *A, const rep_layer *B, uint64_t seed, double *out, char *err) {
    align_opts ao;
    align_opts_default(&ao);
    ao.cca = ao.procrustes = 0;
    ao.seed = seed;
    align_result r;
    if (align_all(A->mean, A->n, A->p, B->mean, B->p, NULL, 0, &ao, &r, err)) return -1;
    out[0] = r.rsa_spearman;
    out[1] = r.cka_linear;
    return 0;
}

static int model_pairs(cmp_seeds *s, const cmp_opts *o, char *err) {
    int n = s->n, L = s->n_layers, rc = 0;
    cmp_side *g = calloc((size_t)n, sizeof *g), *q = calloc((size_t)n, sizeof *q);
    if (!g || !q) { free(g); free(q); return tb_fail(err, "out of memory"); }
    for (int k = 0; k < n && !rc; k++)
        rc = cmp_side_load(s->gpt_ckpt[k], 0, o, &g[k], err) || cmp_side_load(s->snn_ckpt[k], 1, o, &q[k], err);
    for (int i = 0, pr = 0; i < n && !rc; i++)
        for (int j = i + 1; j < n && !rc; j++, pr++) {
            for (int a = 0; a < L && !rc; a++)
                for (int b = 0; b < L && !rc; b++)
                    rc = rsa_cka(&g[i].rep.layer[a], &g[j].rep.layer[b], o->seed,
                                 s->gpt_pair + (((size_t)pr * L + a) * L + b) * 2, err);
            if (!rc) rc = rsa_cka(&q[i].rep.layer[0], &q[j].rep.layer[0], o->seed, s->snn_pair + (size_t)pr * 2, err);
        }
    for (int k = 0; k < n; k++) { rep_free(&g[k].rep); rep_free(&q[k].rep); }
    free(g);
    free(q);
    return rc;
}

/* ---- all of it ---------------------------------------------------------------------------------- */

int cmp_seeds_run(const cmp_opts *o, const char *exe, const char *root, int seeds, int jobs, cmp_progress_fn cb,
                  void *ctx, cmp_seeds *s, char *err) {
    memset(s, 0, sizeof *s);
    if (seeds < 2) return tb_fail(err, "--seeds %d: an interval across seeds needs at least 2", seeds);
    progress_ctx pc = {cb, ctx, ""};
    s->gpt_ckpt = calloc((size_t)seeds, sizeof *s->gpt_ckpt);
    s->snn_ckpt = calloc((size_t)seeds, sizeof *s->snn_ckpt);
    s->scr_ckpt = calloc((size_t)seeds, sizeof *s->scr_ckpt);
    int rc = s->gpt_ckpt && s->snn_ckpt && s->scr_ckpt ? 0 : tb_fail(err, "out of memory");
    if (!rc) rc = train_seeds("gpt", 0, exe, root, seeds, jobs, &pc, s->gpt_ckpt, err);
    if (!rc) rc = train_seeds("snn", 0, exe, root, seeds, jobs, &pc, s->snn_ckpt, err);
    if (!rc) rc = train_seeds("gpt", 1, exe, root, seeds, jobs, &pc, s->scr_ckpt, err);
    for (int k = 0; k < seeds && !rc; k++) {
        cmp_result r;
        cmp_opts ok = *o;
        ok.scrambled = s->scr_ckpt[k];   /* seed k's own control */
        if (cb) cb(ctx, "comparing seed pairs", k, seeds);
        if ((rc = cmp_models(s->gpt_ckpt[k], s->snn_ckpt[k], &ok, &r, err))) break;
        if (k == 0) {
            rc = alloc_seeds(s, seeds, r.n_layers, err);
            for (int l = 0; !rc && l < r.n_layers; l++) snprintf(s->layer[l], 256, "%s", r.gpt.rep.layer[l].name);
        } else if (r.n_layers != s->n_layers) {
            rc = tb_fail(err, "%s has %d layers, seed 1 has %d", s->gpt_ckpt[k], r.n_layers, s->n_layers);
        }
        if (!rc) gather(s, k, &r);
        cmp_result_free(&r);
    }
    if (cb && !rc) cb(ctx, "comparing seed pairs", seeds, seeds);
    if (!rc) rc = model_pairs(s, o, err);
    if (rc) cmp_seeds_free(s);
    return rc;
}

/* ---- 4. means and intervals ------------------------------------------------------------------- */

static void column(const double *v, int n, size_t stride, double *mean, double *lo, double *hi) {
    double *x = malloc((size_t)n * sizeof *x);
    if (!x) { *mean = *lo = *hi = NAN; return; }
    for (int k = 0; k < n; k++) x[k] = v[(size_t)k * stride];
    sweep_mean_ci(x, n, mean, lo, hi);
    free(x);
}

void cmp_seeds_layer(const cmp_seeds *s, int l, int m, double *mean, double *lo, double *hi) {
    column(s->layer_score + (size_t)l * CMP_S_METRICS + m, s->n, (size_t)s->n_layers * CMP_S_METRICS, mean, lo, hi);
}

void cmp_seeds_base(const cmp_seeds *s, int b, int m, double *mean, double *lo, double *hi) {
    column(s->base_score + (size_t)b * CMP_S_METRICS + m, s->n, (size_t)CMP_N_BASE * CMP_S_METRICS, mean, lo, hi);
}

void cmp_seeds_gpt_pair(const cmp_seeds *s, int a, int b, int q, double *mean, double *lo, double *hi) {
    size_t L = (size_t)s->n_layers;
    column(s->gpt_pair + ((size_t)a * L + b) * 2 + q, s->n_pairs, L * L * 2, mean, lo, hi);
}

void cmp_seeds_snn_pair(const cmp_seeds *s, int q, double *mean, double *lo, double *hi) {
    column(s->snn_pair + q, s->n_pairs, 2, mean, lo, hi);
}
