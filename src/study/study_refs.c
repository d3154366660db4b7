/* study_refs.c -- what the study's scores are read against, beyond compare's baselines.
 * Lesson 17; see include/study.h.
 *
 *   no-language   each network with its input weights zeroed (rec_no_language): noise
 *                 only, recorded on the same stimuli with the same trial seeds; its RSA
 *                 (with a bootstrap interval), debiased CKA and encoding r against the main
 *                 model's best layer should all be ~0                           -> S7
 *   ideal         the grammar's ideal observer (ideal.h) against the network, and against
 *                 the main model's best layer: what a task-optimal code scores
 *   two seeds     the main model's seeds against each other (best layers), the networks
 *                 against each other: the model-to-model reference
 *   scanner       each network measured by the virtual fMRI scanner (scan.h, defaults); the
 *                 trained model and both controls against the scans: S2 again, through a
 *                 realistic measurement
 */
#include "align.h"
#include "ideal.h"
#include "recording.h"
#include "rng.h"
#include "scan.h"
#include "study_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RSA of A with Y (align_all, RSA only). */
static double rsa(const study_ctx *c, const rep_layer *A, const rep_layer *Y, char *err) {
    align_opts ao;
    align_opts_default(&ao);
    ao.cka = ao.cca = ao.procrustes = 0;
    ao.seed = c->o->seed;
    align_result res;
    return align_all(A->mean, A->n, A->p, Y->mean, Y->p, NULL, 0, &ao, &res, err) ? NAN : res.rsa_spearman;
}

/* The best layer of R against Y: *v on all stimuli, b[boot] on the shared resamples. */
static int best_of(const study_ctx *c, const rep_set *R, const rep_layer *Y, double *v, double *b, char *err) {
    int L = R->n_layers, B = c->d->boot, best = 0;
    if (L < 1) return tb_fail(err, "no layers to compare");
    const double **X = malloc((size_t)L * sizeof *X);
    int *p = malloc((size_t)L * sizeof *p);
    double *s = malloc((size_t)B * L * sizeof *s);
    if (!X || !p || !s) { free(X); free(p); free(s); return tb_fail(err, "out of memory"); }
    for (int l = 0; l < L; l++) { X[l] = R->layer[l].mean; p[l] = R->layer[l].p; }
    int rc = boot_scores(X, p, L, Y->n, Y->mean, Y->p, BOOT_RSA_SPEARMAN, RDM_CORRELATION, B, c->o->seed, s, err);
    *v = -INFINITY;
    for (int l = 0; !rc && l < L; l++) {
        double x = rsa(c, &R->layer[l], Y, err);
        if (isnan(x)) rc = -1;
        else if (x > *v) { *v = x; best = l; }
    }
    for (int k = 0; !rc && k < B; k++) b[k] = s[(size_t)k * L + best];
    free(X); free(p); free(s);
    return rc;
}

/* ---- the no-language population ---------------------------------------------------------- */

static int record_nolang(const study_ctx *c, const char *ckpt, rep_set *out, double *rate, char *err) {
    lm_model m;
    rec_stimuli s;
    if (lm_open(ckpt, &m, err)) return -1;
    int rc = rec_no_language(&m, err) || rec_stimuli_load(c->path.stimuli, &m.tok, &s, err);
    if (!rc) {
        rec_opts ro = {0, c->d->trials, 0, c->o->seed, -1, {NULL, NULL}};
        rc = rec_record(&m, &s, &ro, out, err);
        rec_stimuli_free(&s);
    }
    lm_close(&m);
    if (rc) return -1;
    int silent;
    for (int l = 1; l < out->n_layers; l++) rep_layer_free(&out->layer[l]);   /* the rates only */
    out->n_layers = 1;
    rec_rate_summary(&out->layer[0], rate, &silent);
    rep_drop_constant(&out->layer[0]);
    return 0;
}

static int nolang(study_ctx *c, study_result *r, char *err) {
    study_data *d = &r->data;
    int S = c->d->seeds, B = d->boot;
    double **v[] = {&d->z_rsa, &d->z_rsa_lo, &d->z_rsa_hi, &d->z_cka_deb, &d->z_enc}, *b = malloc((size_t)B * sizeof *b);
    for (int i = 0; i < 5; i++) *v[i] = calloc((size_t)S, sizeof(double));
    if (!b || !d->z_rsa || !d->z_rsa_lo || !d->z_rsa_hi || !d->z_cka_deb || !d->z_enc) { free(b); return tb_fail(err, "out of memory"); }
    r->nolang_rate_hz = 0;
    int rc = 0;
    for (int s = 0; !rc && s < S; s++) {
        int g = study_main(r, s + 1);
        const rep_layer *A = &c->gpt[g].layer[c->best[g]];
        rep_set z;
        double rate, mean;
        if ((rc = record_nolang(c, r->snn[s], &z, &rate, err))) break;
        align_result res;
        const double *X[1] = {A->mean};
        int p[1] = {A->p};
        rc = cmp_align_one(A, &z.layer[0], &c->co, &res, NULL, err) ||
             boot_scores(X, p, 1, A->n, z.layer[0].mean, z.layer[0].p, BOOT_RSA_SPEARMAN, RDM_CORRELATION, B, c->o->seed, b, err);
        if (!rc) {
            d->z_rsa[s] = res.rsa_spearman;
            study_hboot(&res.rsa_spearman, b, 1, B, 4 * B, c->o->seed, &mean, &d->z_rsa_lo[s], &d->z_rsa_hi[s]);
            d->z_cka_deb[s] = res.cka_linear_debiased;
            d->z_enc[s] = res.encoding_r_median;
            d->z_seeds = s + 1;
            r->nolang_rate_hz += rate / S;
            study_set_ref(c, STUDY_REF_NOLANG, s, res.rsa_spearman, b);
        }
        rep_free(&z);
    }
    free(b);
    return rc;
}

/* ---- the ideal observer and the model-to-model reference ------------------------------------ */

static int ideal_and_seeds(study_ctx *c, study_result *r, char *err) {
    int S = c->d->seeds, pairs = 0;
    double *b = malloc((size_t)c->d->boot * sizeof *b), v;
    ideal_rec ir;
    if (!b || ideal_record(c->path.stimuli, &ir, err)) { free(b); return b ? -1 : tb_fail(err, "out of memory"); }
    int rc = 0;
    r->ideal_gpt_rsa = r->ref[STUDY_REF_SEED_GPT] = r->ref[STUDY_REF_SEED_SNN] = 0;
    for (int s = 0; !rc && s < S; s++) {
        int g = study_main(r, s + 1);
        const rep_layer *A = &c->gpt[g].layer[c->best[g]];
        double best = -INFINITY;
        rc = best_of(c, &ir.rep, &c->snn[s].layer[0], &v, b, err);
        if (!rc) study_set_ref(c, STUDY_REF_IDEAL, s, v, b);
        for (int l = 0; l < IDEAL_N_LAYERS; l++) best = fmax(best, rsa(c, A, &ir.rep.layer[l], err));
        r->ideal_gpt_rsa += best / S;
        for (int t = s + 1; t < S; t++, pairs++) {
            int h = study_main(r, t + 1);
            r->ref[STUDY_REF_SEED_GPT] += rsa(c, A, &c->gpt[h].layer[c->best[h]], err);
            r->ref[STUDY_REF_SEED_SNN] += rsa(c, &c->snn[s].layer[0], &c->snn[t].layer[0], err);
        }
    }
    r->ref[STUDY_REF_SEED_GPT] = pairs ? r->ref[STUDY_REF_SEED_GPT] / pairs : NAN;
    r->ref[STUDY_REF_SEED_SNN] = pairs ? r->ref[STUDY_REF_SEED_SNN] / pairs : NAN;
    ideal_rec_free(&ir);
    free(b);
    return rc;
}

/* ---- the scanner ------------------------------------------------------------------------------ */

/* Network s scanned (fMRI, default settings, no localizer) as a recording layer. */
static int scan_network(const study_ctx *c, const char *ckpt, int s, rep_layer *Y, double *ceiling, char *err) {
    scan_plan p;
    memset(&p, 0, sizeof p);
    scan_default_config(&p.cfg, SCAN_FMRI);
    p.cfg.seed = c->o->seed;
    p.stimuli = c->path.stimuli;
    p.loc_sent = c->path.stimuli;
    p.loc_ctrl = c->path.control;
    p.loc_runs = 2;
    p.froi_top = 25;
    p.noise_hz = -1;
    scan_subj sub;
    if (scan_run_subject(ckpt, &p, s, &sub, err)) return -1;
    const scan_result *q = &sub.scan;
    int rc = rep_layer_alloc(Y, "fmri", ckpt, q->trials, q->stimuli, q->channels) ? tb_fail(err, "out of memory") : 0;
    if (!rc) {
        size_t per = (size_t)q->stimuli * q->channels;
        for (size_t i = 0; i < (size_t)q->trials * per; i++) Y->trial[i] = q->resp[i];
        scan_trial_mean(q->resp, q->trials, q->stimuli, q->channels, Y->mean);
        rep_drop_constant(Y);
        *ceiling = sub.within[SCAN_ALL];
    }
    scan_subj_free(&sub);
    return rc;
}

/* The main model (k = 0), its untrained weights (1) and its scrambled control (2), seed s. */
static int control_side(const study_ctx *c, const study_result *r, int s, int k, rep_set *out, int *own, char *err) {
    int g = study_main(r, s + 1), q = study_find(r, c->d->width, c->d->depth, s + 1, 1);
    cmp_side side;
    *own = k > 0;
    if (k == 0) { *out = c->gpt[g]; return 0; }
    if (k == 2 && q < 0) return tb_fail(err, "no scrambled control for seed %d", s + 1);
    if ((k == 1 ? cmp_side_load_untrained(r->gpt[g].ckpt, 0, &c->co, &side, err)
                : cmp_side_load(r->gpt[q].ckpt, 0, &c->co, &side, err)))
        return -1;
    *out = side.rep;
    return 0;
}

static int scanner(study_ctx *c, study_result *r, char *err) {
    int S = c->d->seeds, B = c->d->boot, rc = 0;
    double *est = calloc((size_t)4 * S, sizeof *est), *x = calloc((size_t)4 * S * B, sizeof *x);
    if (!est || !x) { free(est); free(x); return tb_fail(err, "out of memory"); }
    r->scan_ceiling = 0;
    for (int s = 0; !rc && s < S; s++) {
        rep_layer Y;
        double ceil;
        study_tell(c, "scanning the networks (fMRI) and comparing", s, S);
        if ((rc = scan_network(c, r->snn[s], s, &Y, &ceil, err))) break;
        r->scan_ceiling += ceil / S;
        for (int k = 0; !rc && k < 3; k++) {
            rep_set R;
            int own;
            rc = control_side(c, r, s, k, &R, &own, err) ||
                 best_of(c, &R, &Y, &est[k * S + s], x + ((size_t)k * S + s) * B, err);
            if (own) rep_free(&R);
        }
        est[3 * S + s] = est[s] - fmax(est[S + s], est[2 * S + s]);
        for (int b = 0; b < B; b++)
            x[((size_t)3 * S + s) * B + b] = x[(size_t)s * B + b] - fmax(x[((size_t)S + s) * B + b], x[((size_t)2 * S + s) * B + b]);
        rep_layer_free(&Y);
    }
    for (int k = 0; !rc && k < 4; k++)
        study_hboot(est + k * S, x + (size_t)k * S * B, S, B, 2000, rng_child_seed(c->o->seed, "scan", (uint64_t)k),
                    &r->scan_rsa[k], &r->scan_lo[k], &r->scan_hi[k]);
    r->have_scan = !rc;
    study_tell(c, "scanning the networks (fMRI) and comparing", S, S);
    free(est);
    free(x);
    return rc;
}

int study_measure_references(study_ctx *c, study_result *r, char *err) {
    study_tell(c, "the no-language population, the ideal observer, two seeds", 0, 1);
    if (nolang(c, r, err) || ideal_and_seeds(c, r, err)) return -1;
    study_tell(c, "the no-language population, the ideal observer, two seeds", 1, 1);
    return c->d->scan ? scanner(c, r, err) : 0;
}
