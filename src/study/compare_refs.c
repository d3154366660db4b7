/* compare_refs.c -- what every score of `compare` is read against: the baselines, the
 * bootstrap intervals, the best layer's probability of being best, variance beyond the
 * words, and the findings computed from them.  Lesson 13; see include/compare.h.
 *
 * The order of work (cmp_references):
 *   1. the references' representations: bag of words, noise, untrained GPT, untrained
 *      network, scrambled-words GPT (whatever is available)
 *   2. every metric for each, against the network, as for the GPT's layers
 *   3. one bootstrap over the stimuli, shared by every representation: intervals, p_best
 *   4. the layers beyond the words: variance partitioning and partial RSA
 *   5. the findings: paired differences with their intervals, and a verdict each
 */
#include "ablation.h"
#include "baselines.h"
#include "compare.h"
#include "corpus.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cmp_base_key[CMP_N_BASE] = {"lexical", "noise", "untrained_gpt", "untrained_snn", "scrambled_gpt"};
const char *const cmp_base_name[CMP_N_BASE] = {"bag of words", "noise (GPT-layer shape)", "untrained GPT",
                                               "GPT vs untrained SNN", "scrambled-words GPT"};

/* The references' representations while they are compared. */
typedef struct {
    rep_layer lex, noise;          /* single layers */
    rep_set ugpt, usnn, scr;       /* model sides */
    int have[CMP_N_BASE];
} refs;

static void refs_free(refs *f) {
    rep_layer_free(&f->lex);
    rep_layer_free(&f->noise);
    rep_free(&f->ugpt);
    rep_free(&f->usnn);
    rep_free(&f->scr);
}

static void not_available(cmp_baseline *b, const char *why) {
    b->available = 0;
    snprintf(b->why, sizeof b->why, "%.*s", (int)sizeof b->why - 1, why);
}

/* ---- 1. the representations ---------------------------------------------------------- */

static int load_lexical(const cmp_opts *o, int n, rep_layer *L, char *why, char *err) {
    char **lines, e[TB_ERRLEN];
    int nl, p;
    double *X;
    if (!o->stimuli || corpus_read_lines(o->stimuli, &lines, &nl, e)) {
        snprintf(why, TB_ERRLEN, "no stimulus text to count words in");
        return 0;
    }
    int rc = 0;
    if (nl != n) snprintf(why, TB_ERRLEN, "%s has %d lines for %d recorded stimuli", o->stimuli, nl, n);
    else if (base_lexical_text(lines, nl, &X, &p, NULL, e)) snprintf(why, TB_ERRLEN, "%s", e);
    else if (rep_layer_alloc(L, "lexical", o->stimuli, 1, n, p)) { free(X); rc = tb_fail(err, "out of memory"); }
    else {
        memcpy(L->mean, X, (size_t)n * p * sizeof *X);
        free(X);
        rc = 1;
    }
    corpus_free_lines(lines, nl);
    return rc;
}

static int load_noise(int n, int p, uint64_t seed, rep_layer *L, char *err) {
    if (rep_layer_alloc(L, "noise", "noise", 1, n, p)) return tb_fail(err, "out of memory");
    base_noise(L->mean, n, p, seed);
    return 0;
}

/* A model side for a reference: the given path, or the trained checkpoint's initial
 * weights (path NULL, `from` a checkpoint); 0 with why set when it cannot be had. */
static int load_model_ref(const char *path, const char *from, int snn, const cmp_opts *o, rep_set *s, char *why) {
    char e[TB_ERRLEN];
    cmp_side side;
    if (path && !*path) { snprintf(why, TB_ERRLEN, "not requested"); return 0; }
    if (!path && rep_is_dir(from)) {
        snprintf(why, TB_ERRLEN, "%s is a recording folder: give the untrained model's recording", from);
        return 0;
    }
    int rc = path ? cmp_side_load(path, snn, o, &side, e) : cmp_side_load_untrained(from, snn, o, &side, e);
    if (rc) { snprintf(why, TB_ERRLEN, "%s", e); return 0; }
    *s = side.rep;
    return 1;
}

/* ---- transforms shared by every representation ---------------------------------------- */

/* Same-words twins: a layer becomes its within-pair differences (n/2 rows). */
static int to_twin_diff(rep_layer *L, char *err) {
    int h = L->n / 2;
    double *D = malloc((size_t)h * L->p * sizeof *D);
    double *Dt = L->trial ? malloc((size_t)L->trials * h * L->p * sizeof *Dt) : NULL;
    if (!D || (L->trial && !Dt)) { free(D); free(Dt); return tb_fail(err, "out of memory"); }
    if (base_twin_diff(L->mean, L->trial, L->trials, L->n, L->p, D, Dt, err)) { free(D); free(Dt); return -1; }
    free(L->mean);
    free(L->trial);
    L->mean = D;
    L->trial = Dt;
    L->n = h;
    return 0;
}

/* Sum of squares of x[m]. */
static double sumsq(const double *x, size_t m) {
    double s = 0;
    for (size_t i = 0; i < m; i++) s += x[i] * x[i];
    return s;
}

/* 1 when some unit varies across stimuli. */
static int varies(const rep_layer *L) {
    for (int j = 0; j < L->p; j++)
        for (int i = 1; i < L->n; i++)
            if (L->mean[(size_t)i * L->p + j] != L->mean[j]) return 1;
    return 0;
}

int cmp_prepare_layer(rep_layer *L, int model_side, const cmp_opts *o, char *err) {
    if (o->twins && to_twin_diff(L, err)) return -1;
    if (model_side && o->pca > 0 && rep_layer_pca(L, o->pca, err) < 0) return -1;
    return 0;
}

/* Prepare one layer; with twins, *vanished = 1 when its pair differences are float
 * rounding only: ||D||^2 <= CMP_TWIN_VANISH ||X||^2 / 2 (a layer that pools the same
 * words at the same positions, as the mean-pooled embedding does, gives the twins of a
 * pair the same vector up to the order of the sums). */
static int prepare_one(rep_layer *L, int model_side, const cmp_opts *o, int *vanished, char *err) {
    double before = o->twins ? sumsq(L->mean, (size_t)L->n * L->p) : 0;
    if (cmp_prepare_layer(L, model_side, o, err)) return -1;
    *vanished = o->twins && sumsq(L->mean, (size_t)L->n * L->p) <= CMP_TWIN_VANISH * before / 2;
    return 0;
}

int cmp_prepare_set(rep_set *s, int model_side, const cmp_opts *o, char *note, size_t len, char *err) {
    int kept = 0;
    size_t used = 0;
    if (note && len) note[0] = 0;
    for (int l = 0; l < s->n_layers; l++) {
        int vanished;
        if (prepare_one(&s->layer[l], model_side, o, &vanished, err)) return -1;
        if (!vanished || (kept == 0 && l == s->n_layers - 1)) { s->layer[kept++] = s->layer[l]; continue; }
        if (note && used < len)
            used += (size_t)snprintf(note + used, len - used, "%s%s", used ? ", " : "left out (their twins' differences "
                                     "are float rounding: the same words at the same positions): ", s->layer[l].name);
        rep_layer_free(&s->layer[l]);
    }
    s->n_layers = kept;
    return 0;
}

/* Load and prepare every reference; r->base[b].available and .why say what came of each. */
static int load_refs(cmp_result *r, const cmp_opts *o, const char *gpt, const char *snn, refs *f, char *err) {
    int n0 = r->n_stimuli * (o->twins ? 2 : 1);   /* stimuli before the twin differences */
    char why[CMP_N_BASE][TB_ERRLEN] = {"", "", "", "", ""};
    int rc = load_lexical(o, n0, &f->lex, why[CMP_LEXICAL], err);
    if (rc < 0) return -1;
    f->have[CMP_LEXICAL] = rc;
    if (load_noise(n0, r->gpt.rep.layer[0].p, o->seed, &f->noise, err)) return -1;
    f->have[CMP_NOISE] = 1;
    f->have[CMP_UNTRAINED_GPT] = load_model_ref(o->untrained_gpt, gpt, 0, o, &f->ugpt, why[CMP_UNTRAINED_GPT]);
    f->have[CMP_UNTRAINED_SNN] = load_model_ref(o->untrained_snn, snn, 1, o, &f->usnn, why[CMP_UNTRAINED_SNN]);
    if (o->scrambled) f->have[CMP_SCRAMBLED_GPT] = load_model_ref(o->scrambled, NULL, 0, o, &f->scr, why[CMP_SCRAMBLED_GPT]);
    else snprintf(why[CMP_SCRAMBLED_GPT], TB_ERRLEN, "no --scrambled model given (train one with `tinybrain train --scramble`)");
    /* the same transforms as the layers and the network */
    if ((f->have[CMP_LEXICAL] && cmp_prepare_layer(&f->lex, 1, o, err)) || cmp_prepare_layer(&f->noise, 1, o, err) ||
        (f->have[CMP_UNTRAINED_GPT] && cmp_prepare_set(&f->ugpt, 1, o, NULL, 0, err)) ||
        (f->have[CMP_UNTRAINED_SNN] && cmp_prepare_set(&f->usnn, 0, o, NULL, 0, err)) ||
        (f->have[CMP_SCRAMBLED_GPT] && cmp_prepare_set(&f->scr, 1, o, NULL, 0, err)))
        return -1;
    if (f->have[CMP_LEXICAL] && !varies(&f->lex)) {
        f->have[CMP_LEXICAL] = 0;
        snprintf(why[CMP_LEXICAL], TB_ERRLEN, "every twin pair has the same words: the bag of words is zero by construction");
    }
    if (f->have[CMP_UNTRAINED_SNN] && (f->usnn.layer[0].p == 0 || !varies(&f->usnn.layer[0]))) {
        f->have[CMP_UNTRAINED_SNN] = 0;
        snprintf(why[CMP_UNTRAINED_SNN], TB_ERRLEN, "the untrained network fires the same on every stimulus");
    }
    for (int b = 0; b < CMP_N_BASE; b++) {
        r->base[b].available = f->have[b];
        if (!f->have[b]) not_available(&r->base[b], why[b]);
    }
    return 0;
}

/* ---- 2. every metric, against the network -------------------------------------------- */

/* The CCA family, cross-validated; NaN (with a note) where it is not identifiable. */
static int cca_family(const double *X, int n, int px, const rep_layer *B, const cmp_opts *o, align_result *res,
                      char *note, char *err) {
    cca_cv_opts co;
    cca_cv_opts_default(&co);
    co.seed = o->seed;
    cca_cv_result cv;
    if (cca_cv(X, n, px, B->mean, B->p, &co, &cv, err)) return -1;
    res->cca_mean = cv.cca_mean;
    res->svcca = cv.svcca;
    res->pwcca = cv.pwcca;
    if (!cv.identifiable && note && !*note) snprintf(note, TB_ERRLEN, "CCA family: %s", cv.reason);
    return 0;
}

int cmp_align_one(const rep_layer *A, const rep_layer *B, const cmp_opts *o, align_result *res, char *note, char *err) {
    align_opts ao;
    align_opts_default(&ao);
    ao.encoding = 1;
    ao.perm = o->perm;
    ao.seed = o->seed;
    ao.enc.seed = o->seed;
    ao.cca = 0;   /* in-sample CCA reaches 1 on noise with these shapes: cross-validated below */
    if (align_all(A->mean, A->n, A->p, B->mean, B->p, B->trial, B->trials, &ao, res, err)) return -1;
    return cca_family(A->mean, A->n, A->p, B, o, res, note, err);
}

/* Every layer of a model side against B; the best by the rank metric into *best. */
static int align_set(const rep_set *S, const rep_layer *B, const cmp_opts *o, align_result *out, int *best, char *err) {
    align_result *res = calloc((size_t)S->n_layers, sizeof *res);
    if (!res) return tb_fail(err, "out of memory");
    for (int l = 0; l < S->n_layers; l++)
        if (cmp_align_one(&S->layer[l], B, o, &res[l], NULL, err)) { free(res); return -1; }
    *best = cmp_best(res, S->n_layers, cmp_metric_index(boot_metric_name(o->rank)));
    *out = res[*best];
    free(res);
    return 0;
}

static int align_refs(cmp_result *r, const refs *f, const cmp_opts *o, int *bl, char *err) {
    const rep_layer *B = &r->snn.rep.layer[0];
    cmp_baseline *b = r->base;
    if (f->have[CMP_LEXICAL] && cmp_align_one(&f->lex, B, o, &b[CMP_LEXICAL].res, NULL, err)) return -1;
    if (cmp_align_one(&f->noise, B, o, &b[CMP_NOISE].res, NULL, err)) return -1;
    if (f->have[CMP_UNTRAINED_GPT] && align_set(&f->ugpt, B, o, &b[CMP_UNTRAINED_GPT].res, &bl[CMP_UNTRAINED_GPT], err))
        return -1;
    if (f->have[CMP_SCRAMBLED_GPT] && align_set(&f->scr, B, o, &b[CMP_SCRAMBLED_GPT].res, &bl[CMP_SCRAMBLED_GPT], err))
        return -1;
    if (f->have[CMP_UNTRAINED_SNN] &&
        align_set(&r->gpt.rep, &f->usnn.layer[0], o, &b[CMP_UNTRAINED_SNN].res, &bl[CMP_UNTRAINED_SNN], err))
        return -1;
    snprintf(b[CMP_LEXICAL].layer, sizeof b->layer, "words");
    snprintf(b[CMP_NOISE].layer, sizeof b->layer, "noise");
    if (f->have[CMP_UNTRAINED_GPT]) snprintf(b[CMP_UNTRAINED_GPT].layer, sizeof b->layer, "%s", f->ugpt.layer[bl[CMP_UNTRAINED_GPT]].name);
    if (f->have[CMP_SCRAMBLED_GPT]) snprintf(b[CMP_SCRAMBLED_GPT].layer, sizeof b->layer, "%s", f->scr.layer[bl[CMP_SCRAMBLED_GPT]].name);
    if (f->have[CMP_UNTRAINED_SNN]) snprintf(b[CMP_UNTRAINED_SNN].layer, sizeof b->layer, "%s", r->gpt.rep.layer[bl[CMP_UNTRAINED_SNN]].name);
    return 0;
}

/* ---- 3. one bootstrap for everything ----------------------------------------------------- */

static const boot_metric ci_metric[2] = {BOOT_RSA_SPEARMAN, BOOT_CKA_LINEAR};

/* The percentile interval (2.5%, 97.5%) of x[b * stride] over the resamples. */
static void percentile_ci(const double *x, int boot, int stride, double *lo, double *hi) {
    double *v = malloc((size_t)boot * sizeof *v);
    int k = 0;
    for (int b = 0; v && b < boot; b++)
        if (isfinite(x[(size_t)b * stride])) v[k++] = x[(size_t)b * stride];
    *lo = *hi = NAN;
    if (v && k >= 2) {
        *lo = abl_quantile(v, k, 0.025);
        *hi = abl_quantile(v, k, 0.975);
    }
    free(v);
}

/* Scores of one representation on every resample, for metric m, against brain B. */
static int one_scores(const rep_layer *A, const rep_layer *B, boot_metric m, const cmp_opts *o, double *out,
                      char *err) {
    const double *layers[1] = {A->mean};
    int p[1] = {A->p};
    return boot_scores(layers, p, 1, A->n, B->mean, B->p, m, RDM_CORRELATION, o->boot, o->seed, out, err);
}

static int layer_scores(cmp_result *r, const cmp_opts *o, char *err) {
    int L = r->n_layers, B = o->boot;
    const rep_layer *Y = &r->snn.rep.layer[0];
    const double **layers = malloc((size_t)L * sizeof *layers);
    int *p = malloc((size_t)L * sizeof *p);
    int rc = layers && p ? 0 : tb_fail(err, "out of memory");
    for (int l = 0; !rc && l < L; l++) { layers[l] = r->gpt.rep.layer[l].mean; p[l] = r->gpt.rep.layer[l].p; }
    for (int k = 0; k < 2 && !rc; k++) {
        r->score[k] = malloc((size_t)B * L * sizeof(double));
        rc = r->score[k] ? boot_scores(layers, p, L, Y->n, Y->mean, Y->p, ci_metric[k], RDM_CORRELATION, B, o->seed,
                                       r->score[k], err)
                         : tb_fail(err, "out of memory");
    }
    int own = !rc && o->rank != BOOT_RSA_SPEARMAN && o->rank != BOOT_CKA_LINEAR;
    if (own) {
        r->rank_score = malloc((size_t)B * L * sizeof(double));
        rc = r->rank_score ? boot_scores(layers, p, L, Y->n, Y->mean, Y->p, o->rank, RDM_CORRELATION, B, o->seed,
                                         r->rank_score, err)
                           : tb_fail(err, "out of memory");
    } else if (!rc) {
        r->rank_score = r->score[o->rank == BOOT_CKA_LINEAR];
    }
    free(layers);
    free(p);
    if (rc) return -1;
    r->p_best = malloc((size_t)L * sizeof(double));
    if (!r->p_best) return tb_fail(err, "out of memory");
    boot_p_best(r->rank_score, B, L, r->p_best);
    for (int l = 0; l < L; l++) {
        align_result *a = &r->layer[l];
        percentile_ci(r->score[0] + l, B, L, &a->rsa_spearman_ci_low, &a->rsa_spearman_ci_high);
        percentile_ci(r->score[1] + l, B, L, &a->cka_linear_ci_low, &a->cka_linear_ci_high);
    }
    return 0;
}

/* The representation a baseline's scores come from, and its brain. */
static void base_rep(const cmp_result *r, const refs *f, int b, const int *bl, const rep_layer **A, const rep_layer **Y) {
    *Y = &r->snn.rep.layer[0];
    switch (b) {
    case CMP_LEXICAL: *A = &f->lex; break;
    case CMP_NOISE: *A = &f->noise; break;
    case CMP_UNTRAINED_GPT: *A = &f->ugpt.layer[bl[b]]; break;
    case CMP_SCRAMBLED_GPT: *A = &f->scr.layer[bl[b]]; break;
    default: *A = &r->gpt.rep.layer[bl[b]]; *Y = &f->usnn.layer[0]; break;
    }
}

static int base_scores(cmp_result *r, const refs *f, const int *bl, const cmp_opts *o, char *err) {
    for (int b = 0; b < CMP_N_BASE; b++) {
        cmp_baseline *base = &r->base[b];
        if (!base->available) continue;
        const rep_layer *A, *Y;
        base_rep(r, f, b, bl, &A, &Y);
        for (int k = 0; k < 2; k++) {
            base->score[k] = malloc((size_t)o->boot * sizeof(double));
            if (!base->score[k] || one_scores(A, Y, ci_metric[k], o, base->score[k], err)) return -1;
        }
        if (o->rank == BOOT_RSA_SPEARMAN || o->rank == BOOT_CKA_LINEAR) {
            base->rank_score = base->score[o->rank == BOOT_CKA_LINEAR];
        } else {
            base->rank_score = malloc((size_t)o->boot * sizeof(double));
            if (!base->rank_score || one_scores(A, Y, o->rank, o, base->rank_score, err)) return -1;
        }
        percentile_ci(base->score[0], o->boot, 1, &base->res.rsa_spearman_ci_low, &base->res.rsa_spearman_ci_high);
        percentile_ci(base->score[1], o->boot, 1, &base->res.cka_linear_ci_low, &base->res.cka_linear_ci_high);
    }
    return 0;
}

/* ---- 4. beyond the words --------------------------------------------------------------- */

/* The correlation-distance RDM's upper triangle of a layer (malloc'd). */
static double *rdm_vector(const rep_layer *L, char *err) {
    long m = (long)L->n * (L->n - 1) / 2;
    double *D = malloc((size_t)L->n * L->n * sizeof *D), *v = malloc((size_t)m * sizeof *v);
    if (!D || !v || align_rdm(L->mean, L->n, L->p, RDM_CORRELATION, D, err)) { free(D); free(v); return NULL; }
    rdm_upper(D, L->n, v);
    free(D);
    return v;
}

/* The interval of the median of x[n] by a bootstrap over its entries (here: over the
 * network's neurons), percentile, `boot` resamples. */
static void median_ci(const double *x, int n, int boot, uint64_t seed, double ci[2]) {
    double *v = malloc((size_t)n * sizeof *v), *med = malloc((size_t)boot * sizeof *med);
    ci[0] = ci[1] = NAN;
    if (v && med && n > 1) {
        tb_rng g;
        rng_seed(&g, rng_child_seed(seed, "unit bootstrap", 0));
        for (int b = 0; b < boot; b++) {
            for (int i = 0; i < n; i++) v[i] = x[rng_below(&g, (uint32_t)n)];
            med[b] = abl_quantile(v, n, 0.5);
        }
        percentile_ci(med, boot, 1, &ci[0], &ci[1]);
    }
    free(v);
    free(med);
}

static int beyond_words(cmp_result *r, const refs *f, const cmp_opts *o, char *err) {
    int L = r->n_layers;
    r->unique_r2_over_lexical = malloc((size_t)L * sizeof(double));
    r->unique_r2_lexical = malloc((size_t)L * sizeof(double));
    r->rsa_partial_lexical = malloc((size_t)L * sizeof(double));
    if (!r->unique_r2_over_lexical || !r->unique_r2_lexical || !r->rsa_partial_lexical) return tb_fail(err, "out of memory");
    for (int l = 0; l < L; l++) r->unique_r2_over_lexical[l] = r->unique_r2_lexical[l] = r->rsa_partial_lexical[l] = NAN;
    if (!f->have[CMP_LEXICAL]) return 0;
    const rep_layer *B = &r->snn.rep.layer[0];
    long m = (long)B->n * (B->n - 1) / 2;
    double *vb = rdm_vector(B, err), *vw = vb ? rdm_vector(&f->lex, err) : NULL;
    int rc = vw ? 0 : -1;
    enc_opts eo;
    enc_opts_default(&eo);
    eo.seed = o->seed;
    for (int l = 0; !rc && l < L; l++) {
        const rep_layer *A = &r->gpt.rep.layer[l];
        varpart_result vp;
        double *va = rdm_vector(A, err);
        rc = va ? variance_partition(A->mean, A->p, f->lex.mean, f->lex.p, A->n, B->mean, B->trial, B->trials, B->p, &eo,
                                     &vp, err)
                : -1;
        if (!rc) {
            r->unique_r2_over_lexical[l] = vp.median_unique_a;
            r->unique_r2_lexical[l] = vp.median_unique_b;
            r->rsa_partial_lexical[l] = rsa_partial_spearman(va, vb, vw, m);
            if (l == r->best) median_ci(vp.unique_a, vp.py, o->boot, o->seed, r->unique_ci);
            varpart_result_free(&vp);
        }
        free(va);
    }
    free(vb);
    free(vw);
    return rc;
}

/* ---- 5. findings ------------------------------------------------------------------------- */

/* a - b on every resample: its mean-free interval, as a finding's numbers. */
static void paired(const double *sa, int stride, const double *sb, int boot, double *lo, double *hi) {
    double *d = malloc((size_t)boot * sizeof *d);
    if (!d) { *lo = *hi = NAN; return; }
    for (int b = 0; b < boot; b++) d[b] = sa[(size_t)b * stride] - sb[b];
    percentile_ci(d, boot, 1, lo, hi);
    free(d);
}

static const char *verdict_of(double lo, double hi) {
    if (isnan(lo) || isnan(hi)) return "not available";
    if (lo > 0) return "supported";
    if (hi < 0) return "contrary";
    return "not distinguishable";
}

typedef struct { const char *id, *claim, *ref, *yes, *no, *tie; } finding_words;

/* The claim each baseline tests, and what to say for each verdict. */
static const finding_words words_of[CMP_N_BASE] = {
    {"beyond_words", "the GPT aligns with the network beyond the words the sentences share", "the bag-of-words baseline",
     "the alignment is more than shared words", "the bag of words aligns better: the GPT's alignment is explained by shared words",
     "the GPT's alignment cannot be told apart from shared words"},
    {"above_noise", "the GPT aligns with the network more than noise of its shape does", "noise of the same shape",
     "the alignment is above the metric's floor for this shape", "noise scores higher than the GPT",
     "the alignment is not above the metric's floor for this shape"},
    {"training_gpt", "training makes the GPT more like the network", "the untrained GPT",
     "training raised the alignment", "the untrained GPT aligns better: training made it less like the network",
     "training did not change the alignment detectably"},
    {"training_snn", "the network's own training makes it more like the GPT", "the GPT against the untrained network",
     "the trained network is more like the GPT than the untrained one", "the untrained network is more like the GPT",
     "the network's training did not change the alignment detectably"},
    {"grammar", "the alignment needs grammar, not just words in any order", "a GPT trained on word-shuffled sentences",
     "grammar matters: the GPT trained on real sentences aligns better",
     "the scrambled-words GPT aligns better: the alignment does not come from grammar",
     "the GPT trained on real sentences cannot be told apart from one trained on shuffled words"},
};

static void finding_for_base(cmp_result *r, int b, cmp_finding *F) {
    const finding_words *w = &words_of[b];
    const cmp_baseline *base = &r->base[b];
    int m = cmp_metric_index(boot_metric_name(r->rank)), best = r->best;
    F->id = w->id;
    F->claim = w->claim;
    F->metric = boot_metric_name(r->rank);
    F->a = cmp_value(&r->layer[best], m);
    F->b = base->available ? cmp_value(&base->res, m) : NAN;
    F->diff = F->a - F->b;
    F->lo = F->hi = NAN;
    if (base->available) paired(r->rank_score + best, r->n_layers, base->rank_score, r->boot, &F->lo, &F->hi);
    F->verdict = verdict_of(F->lo, F->hi);
    char layer[256];   /* a copy: F lives inside r */
    snprintf(layer, sizeof layer, "%s", r->gpt.rep.layer[best].name);
    if (!base->available) {
        char why[TB_ERRLEN];
        snprintf(why, sizeof why, "%s", base->why);
        snprintf(F->text, sizeof F->text, "Not tested against %s: %.500s.", w->ref, why);
    } else
        snprintf(F->text, sizeof F->text, "%s %s %.3f vs %.3f for %s (difference %+.3f, 95%% interval [%+.3f, %+.3f]): %s.",
                 layer, F->metric, F->a, F->b, w->ref, F->diff, F->lo, F->hi,
                 !strcmp(F->verdict, "supported") ? w->yes : !strcmp(F->verdict, "contrary") ? w->no : w->tie);
}

/* Unique variance of the best layer over the words: the interval of the median over the
 * network's units, by a bootstrap over units. */
static void finding_unique(cmp_result *r, const cmp_opts *o, cmp_finding *F) {
    int best = r->best;
    F->id = "unique_variance";
    F->claim = "the GPT layer explains variance of the network that the words alone do not";
    F->metric = "unique_r2_over_lexical";
    F->a = r->unique_r2_over_lexical ? r->unique_r2_over_lexical[best] : NAN;
    F->b = 0;
    F->diff = F->a;
    F->lo = F->hi = NAN;
    F->verdict = "not available";
    if (isnan(F->a)) {
        snprintf(F->text, sizeof F->text, "Not tested: %.500s.", r->base[CMP_LEXICAL].why);
        return;
    }
    (void)o;
    F->lo = r->unique_ci[0];
    F->hi = r->unique_ci[1];
    F->verdict = verdict_of(F->lo, F->hi);
    snprintf(F->text, sizeof F->text,
             "%s explains a median %.4f of each neuron's variance (R^2) beyond the words (95%% interval [%.4f, %.4f]); "
             "the words explain %.4f beyond the layer: %s.",
             r->gpt.rep.layer[best].name, F->a, F->lo, F->hi, r->unique_r2_lexical[best],
             !strcmp(F->verdict, "supported") ? "the layer adds something the words do not"
             : !strcmp(F->verdict, "contrary") ? "adding the layer to the words makes predictions worse"
                                               : "no variance beyond the words is detectable");
}

static void finding_best_layer(cmp_result *r, cmp_finding *F) {
    int best = r->best;
    F->id = "best_layer";
    F->claim = "one GPT layer aligns best";
    F->metric = boot_metric_name(r->rank);
    F->a = r->p_best[best];
    F->b = F->diff = F->lo = F->hi = NAN;
    F->verdict = F->a >= 0.95 ? "supported" : "not distinguishable";
    char two[16];   /* the share as the tables print it (0.53), so the percent agrees (53%) */
    snprintf(two, sizeof two, "%.2f", F->a);
    snprintf(F->text, sizeof F->text, "%s is the best layer by %s in %.0f%% of bootstrap resamples: %s.",
             r->gpt.rep.layer[best].name, F->metric, 100 * atof(two),
             F->a >= 0.95 ? "the best layer is clear" : "the layers cannot be ranked with confidence");
}

static void findings(cmp_result *r, const cmp_opts *o) {
    static const int order[CMP_N_BASE] = {CMP_LEXICAL, CMP_UNTRAINED_GPT, CMP_UNTRAINED_SNN, CMP_SCRAMBLED_GPT, CMP_NOISE};
    r->n_findings = 0;
    for (int i = 0; i < CMP_N_BASE; i++) finding_for_base(r, order[i], &r->finding[r->n_findings++]);
    finding_unique(r, o, &r->finding[r->n_findings++]);
    finding_best_layer(r, &r->finding[r->n_findings++]);
}

/* ---- feature-count control ------------------------------------------------------------- */

/* Each model-side representation at o->units random units, o->units_repeats times. */
static int units_control(cmp_result *r, const refs *f, const int *bl, const cmp_opts *o, char *err) {
    int L = r->n_layers;
    r->units = calloc((size_t)L + CMP_N_BASE, sizeof *r->units);
    if (!r->units) return tb_fail(err, "out of memory");
    align_opts ao;
    align_opts_default(&ao);
    ao.encoding = 1;
    ao.cca = ao.procrustes = 0;
    ao.seed = o->seed;
    ao.enc.seed = o->seed;
    for (int i = 0; i < L + CMP_N_BASE; i++) {
        const rep_layer *A, *Y;
        if (i < L) { A = &r->gpt.rep.layer[i]; Y = &r->snn.rep.layer[0]; }
        else if (!r->base[i - L].available) continue;
        else base_rep(r, f, i - L, bl, &A, &Y);
        cmp_units *u = &r->units[i];
        u->k = o->units;
        u->repeats = o->units_repeats;
        if (align_units_control(A->mean, A->n, A->p, Y->mean, Y->p, Y->trial, Y->trials, o->units, o->units_repeats,
                                ALIGN_UNITS_A, o->seed, &ao, &u->mean, &u->low, &u->high, err))
            return -1;
    }
    return 0;
}

/* ---- all of it ------------------------------------------------------------------------- */

int cmp_references(cmp_result *r, const char *gpt, const char *snn, const cmp_opts *o, char *err) {
    refs f;
    memset(&f, 0, sizeof f);
    int bl[CMP_N_BASE] = {0, 0, 0, 0, 0};
    r->rank = o->rank;
    r->boot = o->boot;
    int rc = load_refs(r, o, gpt, snn, &f, err);
    if (!rc) rc = align_refs(r, &f, o, bl, err);
    if (!rc) rc = layer_scores(r, o, err);
    if (!rc) rc = base_scores(r, &f, bl, o, err);
    if (!rc) rc = beyond_words(r, &f, o, err);
    if (!rc && o->units > 0) rc = units_control(r, &f, bl, o, err);
    if (!rc) {
        findings(r, o);
        r->have_refs = 1;
    }
    refs_free(&f);
    return rc;
}

void cmp_references_free(cmp_result *r) {
    for (int b = 0; b < CMP_N_BASE; b++) {
        cmp_baseline *base = &r->base[b];
        if (base->rank_score != base->score[0] && base->rank_score != base->score[1]) free(base->rank_score);
        free(base->score[0]);
        free(base->score[1]);
    }
    if (r->rank_score != r->score[0] && r->rank_score != r->score[1]) free(r->rank_score);
    free(r->score[0]);
    free(r->score[1]);
    free(r->p_best);
    free(r->unique_r2_over_lexical);
    free(r->unique_r2_lexical);
    free(r->rsa_partial_lexical);
    free(r->units);
}
