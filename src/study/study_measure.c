/* study_measure.c -- the study's final models: every trained GPT against its seed's
 * spiking network with compare's references (compare.h), and layer-by-layer CKA between
 * seeds.  Lesson 17; see include/study.h.
 *
 *   1. cmp_models per GPT (the main model also with its scrambled control): every layer's
 *      RSA with its bootstrap resamples, CKA and encoding r, the best layer, the
 *      untrained GPT and scrambled-words baselines                          -> S2, S5
 *   2. the feature-count control: each layer at K random units (repeated) and at its
 *      first K principal components, encoding r                              -> S3
 *   3. every pair of seeds of a configuration: linear CKA of layer a of one with layer b
 *      of the other, on all stimuli and on the shared bootstrap resamples    -> S6
 * The recordings stay in the study_ctx for study_probe.c.
 */
#include "align.h"
#include "lm_eval.h"
#include "study_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void study_tell(const study_ctx *c, const char *stage, int done, int total) {
    if (c->o->progress) c->o->progress(c->o->ctx, stage, done, total);
}

double study_best(const double *v, int n) {
    double b = -INFINITY;
    for (int l = 0; l < n; l++) b = fmax(b, v[l]);
    return n ? b : NAN;
}

int study_main(const study_result *r, int seed) {
    return study_find(r, r->design.width, r->design.depth, seed, 0);
}

/* ---- the report's table of a final model ------------------------------------------------ */

static int final_alloc(study_final *F, int L, char *err) {
    F->n_layers = L;
    F->layer = calloc((size_t)L, sizeof *F->layer);
    double **v[] = {&F->rsa, &F->rsa_lo, &F->rsa_hi, &F->cka, &F->enc, &F->enc_units, &F->enc_pca, &F->rsa_units};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        *v[i] = malloc((size_t)L * sizeof **v[i]);
        if (!*v[i]) return tb_fail(err, "out of memory");
    }
    return F->layer ? 0 : tb_fail(err, "out of memory");
}

/* Each layer at K random units (R repeats, the mean) and at its first K components:
 * encoding r (and RSA at K units) against the network Y. */
static int feature_control(const study_ctx *c, const rep_set *G, const rep_layer *Y, study_final *F, char *err) {
    int K = c->d->units, n = Y->n;
    align_opts ao;
    align_opts_default(&ao);
    ao.cka = ao.cca = ao.procrustes = 0;
    ao.encoding = 1;
    ao.seed = ao.enc.seed = c->o->seed;
    double *Z = malloc((size_t)n * K * sizeof *Z);
    int rc = Z ? 0 : tb_fail(err, "out of memory");
    for (int l = 0; !rc && l < G->n_layers; l++) {
        const rep_layer *A = &G->layer[l];
        align_result m, lo, hi, p;
        rc = align_units_control(A->mean, n, A->p, Y->mean, Y->p, Y->trial, Y->trials, K, c->d->units_repeats,
                                 ALIGN_UNITS_A, c->o->seed, &ao, &m, &lo, &hi, err);
        if (rc) break;
        F->enc_units[l] = m.encoding_r_median;
        F->rsa_units[l] = m.rsa_spearman;
        ao.rsa = 0;
        rc = align_pca(A->mean, n, A->p, K, Z, err) || align_all(Z, n, K, Y->mean, Y->p, Y->trial, Y->trials, &ao, &p, err);
        ao.rsa = 1;
        F->enc_pca[l] = rc ? NAN : p.encoding_r_median;
    }
    free(Z);
    return rc;
}

/* Validation loss, minimal pairs and fact recall of a checkpoint. */
static int evaluate(const study_ctx *c, const char *ckpt, study_final *F, char *err) {
    lm_model m;
    lm_eval_result e;
    if (lm_open(ckpt, &m, err)) return -1;
    int rc = lm_evaluate(&m.scorer, &m.tok, &c->corpus, c->d->abl_tokens, c->path.pairs, &e, err) ||
             lm_fact_recall(&m.scorer, &m.tok, c->path.facts, &e, err);
    lm_close(&m);
    F->val_loss = e.val_loss;
    F->pair_acc = e.pair_acc[0];
    F->fact_acc = e.fact_acc;
    return rc;
}

static void keep_layers(const cmp_result *res, study_final *F) {
    for (int l = 0; l < res->n_layers; l++) {
        snprintf(F->layer[l], sizeof F->layer[l], "%s", res->gpt.rep.layer[l].name);
        F->rsa[l] = res->layer[l].rsa_spearman;
        F->rsa_lo[l] = res->layer[l].rsa_spearman_ci_low;
        F->rsa_hi[l] = res->layer[l].rsa_spearman_ci_high;
        F->cka[l] = res->layer[l].cka_linear;
        F->enc[l] = res->layer[l].encoding_r_median;
    }
    F->best = res->best;
}

/* ---- the findings' numbers from one comparison ------------------------------------------- */

static double *copy(const double *x, size_t n) {
    double *y = malloc(n * sizeof *y);
    if (y) memcpy(y, x, n * sizeof *y);
    return y;
}

/* S5: the layer profile, on all stimuli and per resample (rank_score is [boot][L]). */
static int add_profile(study_data *d, const cmp_result *res, char *err) {
    int L = res->n_layers, m = d->p_n;
    if (L < 3) return 0;   /* no middle layer */
    double *s = malloc((size_t)L * sizeof *s), *sb = copy(res->rank_score, (size_t)d->boot * L);
    if (!s || !sb) { free(s); free(sb); return tb_fail(err, "out of memory"); }
    for (int l = 0; l < L; l++) s[l] = res->layer[l].rsa_spearman;
    d->p_layers[m] = L;
    d->p_score[m] = s;
    d->p_score_b[m] = sb;
    d->p_n++;
    return 0;
}

void study_set_ref(study_ctx *c, int k, int s, double est, const double *b) {
    int S = c->d->seeds, B = c->d->boot;
    c->ref_est[k * S + s] = est;
    for (int i = 0; i < B; i++) c->ref_b[((size_t)k * S + s) * B + i] = b ? b[i] : NAN;
}

/* S2: the main model's best layer and its controls' best layers (seed index s); compare's
 * baselines become the study's references. */
static void add_controls(study_ctx *c, study_data *d, int s, const cmp_result *res) {
    int B = d->boot, L = res->n_layers;
    const cmp_baseline *u = &res->base[CMP_UNTRAINED_GPT], *q = &res->base[CMP_SCRAMBLED_GPT];
    d->c_trained[s] = res->layer[res->best].rsa_spearman;
    d->c_untrained[s] = u->available ? u->res.rsa_spearman : NAN;
    d->c_scrambled[s] = q->available ? q->res.rsa_spearman : NAN;
    for (int b = 0; b < B; b++) {
        d->c_trained_b[(size_t)s * B + b] = res->rank_score[(size_t)b * L + res->best];
        d->c_untrained_b[(size_t)s * B + b] = u->available ? u->rank_score[b] : NAN;
        d->c_scrambled_b[(size_t)s * B + b] = q->available ? q->rank_score[b] : NAN;
    }
    d->c_seeds = s + 1 > d->c_seeds ? s + 1 : d->c_seeds;
    study_set_ref(c, STUDY_REF_TRAINED, s, d->c_trained[s], d->c_trained_b + (size_t)s * B);
    static const int base[4][2] = {{STUDY_REF_UNTRAINED, CMP_UNTRAINED_GPT}, {STUDY_REF_SCRAMBLED, CMP_SCRAMBLED_GPT},
                                   {STUDY_REF_LEXICAL, CMP_LEXICAL}, {STUDY_REF_NOISE, CMP_NOISE}};
    for (int k = 0; k < 4; k++) {
        const cmp_baseline *ref = &res->base[base[k][1]];
        study_set_ref(c, base[k][0], s, ref->available ? ref->res.rsa_spearman : NAN, ref->available ? ref->rank_score : NULL);
    }
}

/* S3: the best layer's encoding r with every unit and at K units. */
static void add_width(study_data *d, const study_model *m, const study_final *F) {
    d->w_width[d->w_n] = m->width;
    d->w_raw[d->w_n] = study_best(F->enc, F->n_layers);
    d->w_units[d->w_n++] = study_best(F->enc_units, F->n_layers);
}

static int alloc_data(study_data *d, int n_final, int seeds, int boot, char *err) {
    d->boot = boot;
    d->p_layers = calloc((size_t)n_final, sizeof *d->p_layers);
    d->p_score = calloc((size_t)n_final, sizeof *d->p_score);
    d->p_score_b = calloc((size_t)n_final, sizeof *d->p_score_b);
    double **v[] = {&d->w_width, &d->w_raw, &d->w_units}, **s[] = {&d->c_trained, &d->c_untrained, &d->c_scrambled},
           **b[] = {&d->c_trained_b, &d->c_untrained_b, &d->c_scrambled_b};
    int ok = d->p_layers && d->p_score && d->p_score_b;
    for (int i = 0; i < 3; i++) {
        ok &= (*v[i] = calloc((size_t)n_final, sizeof(double))) != NULL;
        ok &= (*s[i] = calloc((size_t)seeds, sizeof(double))) != NULL;
        ok &= (*b[i] = calloc((size_t)seeds * boot, sizeof(double))) != NULL;
    }
    return ok ? 0 : tb_fail(err, "out of memory");
}

/* ---- 1, 2: every final GPT ---------------------------------------------------------------- */

/* GPT i against its seed's network; keeps the recordings in c, the table in F. */
static int one_final(study_ctx *c, study_result *r, int i, study_final *F, char *err) {
    const study_model *m = &r->gpt[i];
    const study_design *d = c->d;
    int main_model = m->width == d->width && m->depth == d->depth, scr = study_find(r, m->width, m->depth, m->seed, 1);
    cmp_opts co = c->co;
    co.scrambled = main_model && scr >= 0 ? r->gpt[scr].ckpt : NULL;
    cmp_result res;
    if (cmp_models(m->ckpt, r->snn[m->seed - 1], &co, &res, err)) return -1;
    int rc = final_alloc(F, res.n_layers, err);
    r->n_stimuli = res.n_stimuli;
    if (!rc) {
        keep_layers(&res, F);
        c->best[i] = res.best;
        rc = feature_control(c, &res.gpt.rep, &res.snn.rep.layer[0], F, err) || evaluate(c, m->ckpt, F, err) ||
             add_profile(&r->data, &res, err);
    }
    if (!rc && main_model) add_controls(c, &r->data, m->seed - 1, &res);
    if (!rc && m->depth == d->depth) add_width(&r->data, m, F);
    if (!rc) {   /* the recordings move into c (cmp_result_free then frees nothing of them) */
        c->gpt[i] = res.gpt.rep;
        memset(&res.gpt.rep, 0, sizeof res.gpt.rep);
        if (c->snn[m->seed - 1].n_layers == 0) {
            c->snn[m->seed - 1] = res.snn.rep;
            memset(&res.snn.rep, 0, sizeof res.snn.rep);
        }
    }
    cmp_result_free(&res);
    return rc;
}

int study_measure_finals(study_ctx *c, study_result *r, char *err) {
    int n = 0, done = 0;
    for (int i = 0; i < r->n_gpt; i++) n += !r->gpt[i].scrambled;
    r->final = calloc((size_t)n, sizeof *r->final);
    if (!r->final || alloc_data(&r->data, n, c->d->seeds, c->d->boot, err)) return tb_fail(err, "out of memory");
    r->data.w_units_k = c->d->units;
    for (int i = 0; i < r->n_gpt; i++) {
        if (r->gpt[i].scrambled) continue;
        study_tell(c, "comparing the trained GPTs with their networks", done, n);
        study_final *F = &r->final[r->n_final++];
        F->model = i;
        if (one_final(c, r, i, F, err)) return -1;
        done++;
    }
    study_tell(c, "comparing the trained GPTs with their networks", n, n);
    return 0;
}

/* ---- 3: seeds against seeds, layer by layer ----------------------------------------------- */

/* Linear CKA of every layer of A with every layer of B: cka[a * L + b] on all stimuli and
 * cka_b[boot][a * L + b] on the shared resamples. */
static int layer_cka(const study_ctx *c, const rep_set *A, const rep_set *B, double *cka, double *cka_b, char *err) {
    int L = A->n_layers, n = A->layer[0].n, boot = c->d->boot;
    const double **X = malloc((size_t)L * sizeof *X);
    int *p = malloc((size_t)L * sizeof *p);
    double *s = malloc((size_t)boot * L * sizeof *s);
    int rc = X && p && s ? 0 : tb_fail(err, "out of memory");
    for (int a = 0; !rc && a < L; a++) { X[a] = A->layer[a].mean; p[a] = A->layer[a].p; }
    for (int b = 0; !rc && b < L; b++) {
        const rep_layer *Y = &B->layer[b];
        rc = boot_scores(X, p, L, n, Y->mean, Y->p, BOOT_CKA_LINEAR, RDM_CORRELATION, boot, c->o->seed, s, err);
        for (int a = 0; !rc && a < L; a++) {
            rc = cka_linear(X[a], n, p[a], Y->mean, Y->p, &cka[a * L + b], err);
            for (int k = 0; k < boot; k++) cka_b[(size_t)k * L * L + a * L + b] = s[(size_t)k * L + a];
        }
    }
    free(X); free(p); free(s);
    return rc;
}

int study_measure_seed_pairs(study_ctx *c, study_result *r, char *err) {
    study_data *d = &r->data;
    int max = r->n_gpt * c->d->seeds, total = 0, done = 0;
    d->s_layers = calloc((size_t)max, sizeof *d->s_layers);
    d->s_cka = calloc((size_t)max, sizeof *d->s_cka);
    d->s_cka_b = calloc((size_t)max, sizeof *d->s_cka_b);
    r->pair_gpt = calloc((size_t)max * 2, sizeof *r->pair_gpt);
    if (!d->s_layers || !d->s_cka || !d->s_cka_b || !r->pair_gpt) return tb_fail(err, "out of memory");
    for (int i = 0; i < r->n_gpt; i++)
        for (int j = i + 1; j < r->n_gpt; j++) total += !r->gpt[i].scrambled && r->gpt[i].width == r->gpt[j].width &&
                                                         r->gpt[i].depth == r->gpt[j].depth && !r->gpt[j].scrambled;
    for (int i = 0; i < r->n_gpt; i++)
        for (int j = i + 1; j < r->n_gpt; j++) {
            const study_model *a = &r->gpt[i], *b = &r->gpt[j];
            if (a->scrambled || b->scrambled || a->width != b->width || a->depth != b->depth) continue;
            study_tell(c, "seed against seed, layer by layer (CKA)", done++, total);
            int L = c->gpt[i].n_layers, m = d->s_n;
            d->s_layers[m] = L;
            r->pair_gpt[2 * m] = i;
            r->pair_gpt[2 * m + 1] = j;
            d->s_cka[m] = malloc((size_t)L * L * sizeof(double));
            d->s_cka_b[m] = malloc((size_t)d->boot * L * L * sizeof(double));
            d->s_n++;
            if (!d->s_cka[m] || !d->s_cka_b[m]) return tb_fail(err, "out of memory");
            if (layer_cka(c, &c->gpt[i], &c->gpt[j], d->s_cka[m], d->s_cka_b[m], err)) return -1;
        }
    study_tell(c, "seed against seed, layer by layer (CKA)", total, total);
    return 0;
}
