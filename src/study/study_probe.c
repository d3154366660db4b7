/* study_probe.c -- the study's main model probed three more ways: over training, with its
 * localized units ablated, and against every reference a score is read against.  Lesson
 * 17; see include/study.h.
 *
 *   training    every snapshot (log-spaced --save-at) of each seed: RSA of the final best
 *               layer with the seed's network (and its bootstrap resamples), minimal-pair
 *               accuracy and fact recall                                   -> S1, S7
 *   ablation    the localizer (sentences > their scrambled twins, last layer, top %) and
 *               abl_control_run: the localized set zeroed, then >= 100 random sets of its
 *               size, validation loss and minimal pairs                     -> S4
 *   references  the no-language population (the network with its input cut: noise only)
 *                                                                           -> S7
 *               the ideal observer, two seeds of each model, and the scanner (fMRI of each
 *               network: the trained model and its controls against the scans)
 */
#include "ablation.h"
#include "align.h"
#include "ideal.h"
#include "localize.h"
#include "localizer.h"
#include "rng.h"
#include "recording.h"
#include "scan.h"
#include "study_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RSA of A with Y on all stimuli, and (b != NULL) on the shared resamples b[boot]. */
static int rsa_with(const study_ctx *c, const rep_layer *A, const rep_layer *Y, double *rsa, double *b, char *err) {
    align_opts ao;
    align_opts_default(&ao);
    ao.cka = ao.cca = ao.procrustes = 0;
    ao.seed = c->o->seed;
    align_result res;
    if (align_all(A->mean, A->n, A->p, Y->mean, Y->p, NULL, 0, &ao, &res, err)) return -1;
    *rsa = res.rsa_spearman;
    const double *X[1] = {A->mean};
    int p[1] = {A->p};
    return b ? boot_scores(X, p, 1, A->n, Y->mean, Y->p, BOOT_RSA_SPEARMAN, RDM_CORRELATION, c->d->boot, c->o->seed, b, err)
             : 0;
}

/* ---- over training (S1, S7) ----------------------------------------------------------------- */

/* Snapshot `path` of a GPT: RSA of `layer` with Y (and its resamples), minimal pairs and
 * fact recall. */
static int snapshot(const study_ctx *c, const char *path, int layer, const rep_layer *Y, long long *step, double *align,
                    double *align_b, double *formal, double *functional, char *err) {
    cmp_side s;
    if (cmp_side_load(path, 0, &c->co, &s, err)) return -1;
    *step = s.step;
    int rc = layer < s.rep.n_layers ? rsa_with(c, &s.rep.layer[layer], Y, align, align_b, err)
                                    : tb_fail(err, "%s has %d layers, the final model more", path, s.rep.n_layers);
    rep_free(&s.rep);
    lm_model m;
    if (rc || lm_open(path, &m, err)) return -1;
    double acc[3];
    int n[3];
    lm_eval_result e;
    memset(&e, 0, sizeof e);
    rc = lm_minimal_pairs(&m.scorer, &m.tok, c->path.pairs, acc, n, err) ||
         lm_fact_recall(&m.scorer, &m.tok, c->path.facts, &e, err);
    lm_close(&m);
    *formal = acc[0];
    *functional = e.fact_acc;
    return rc;
}

/* The snapshot files of every main seed (the same steps for all); t_snaps set. */
static int list_snapshots(const study_result *r, char ****paths, int *n, char *err) {
    int S = r->design.seeds;
    *paths = calloc((size_t)S, sizeof **paths);
    if (!*paths) return tb_fail(err, "out of memory");
    for (int s = 0; s < S; s++) {
        const study_model *m = &r->gpt[study_main(r, s + 1)];
        int k;
        if (rep_list_steps(m->snaps, &(*paths)[s], &k) || k < 1) return tb_fail(err, "%s: no step_*.ckpt snapshots", m->snaps);
        if (s && k != *n) return tb_fail(err, "%s has %d snapshots, seed 1 has %d", m->snaps, k, *n);
        *n = k;
    }
    return 0;
}

static void free_snapshots(char ***paths, int S, int n) {
    for (int s = 0; paths && s < S; s++) {
        for (int i = 0; paths[s] && i < n; i++) free(paths[s][i]);
        free(paths[s]);
    }
    free(paths);
}

/* The early snapshot: the last one after step 0 within the first STUDY_EARLY_FRAC of training. */
static int early_snapshot(const study_data *d, int steps) {
    int e = 0;
    for (int i = 1; i < d->t_snaps; i++)
        if (d->t_step[i] > 0 && d->t_step[i] <= STUDY_EARLY_FRAC * steps) e = i;
    return e;
}

int study_measure_training(study_ctx *c, study_result *r, char *err) {
    study_data *d = &r->data;
    int S = c->d->seeds, n = 0, B = d->boot, rc;
    char ***paths = NULL;
    if ((rc = list_snapshots(r, &paths, &n, err))) { free_snapshots(paths, S, n); return rc; }
    d->t_seeds = S;
    d->t_snaps = n;
    d->t_step = calloc((size_t)n, sizeof *d->t_step);
    d->t_align = malloc((size_t)S * n * sizeof(double));
    d->t_formal = malloc((size_t)S * n * sizeof(double));
    d->t_functional = malloc((size_t)S * n * sizeof(double));
    d->t_rise_b = malloc((size_t)S * B * sizeof(double));
    double *ab = malloc((size_t)n * B * sizeof *ab);
    if (!d->t_step || !d->t_align || !d->t_formal || !d->t_functional || !d->t_rise_b || !ab) rc = tb_fail(err, "out of memory");
    for (int s = 0; !rc && s < S; s++) {
        int g = study_main(r, s + 1);
        for (int i = 0; !rc && i < n; i++) {
            study_tell(c, "the main model over training", s * n + i, S * n);
            size_t k = (size_t)s * n + i;
            rc = snapshot(c, paths[s][i], c->best[g], &c->snn[s].layer[0], &d->t_step[i], &d->t_align[k],
                          ab + (size_t)i * B, &d->t_formal[k], &d->t_functional[k], err);
        }
        d->t_early = early_snapshot(d, c->d->steps);
        for (int b = 0; !rc && b < B; b++) d->t_rise_b[(size_t)s * B + b] = ab[(size_t)d->t_early * B + b] - ab[b];
    }
    study_tell(c, "the main model over training", S * n, S * n);
    free(ab);
    free_snapshots(paths, S, n);
    return rc;
}

/* ---- the localized units against random units (S4) ------------------------------------------ */

/* The top loc_top% units of the last layer by Welch t, sentences > scrambled twins. */
static int localize_units(const study_ctx *c, const char *ckpt, int **idx, int *k, int *p, char *err) {
    loc_opts lo;
    loc_opts_default(&lo);
    lo.sentences = c->path.stimuli;
    lo.control = c->path.control;
    rep_layer S, C;
    char name[256];
    if (loc_record(ckpt, &lo, &S, &C, name, err)) return -1;
    *p = S.p;
    double *t = malloc((size_t)S.p * sizeof *t);
    int rc = t ? 0 : tb_fail(err, "out of memory");
    if (!rc) rc = localize_t(S.mean, S.n, C.mean, C.n, S.p, 1, t, err);
    if (!rc && (*k = localize_k(c->d->loc_top, S.p, err)) < 0) rc = -1;
    if (!rc && !(*idx = malloc((size_t)*k * sizeof **idx))) rc = tb_fail(err, "out of memory");
    if (!rc) localize_top(t, S.p, *k, *idx);
    free(t);
    rep_layer_free(&S);
    rep_layer_free(&C);
    return rc;
}

static int ablate_seed(study_ctx *c, study_result *r, int s, char *err) {
    study_data *d = &r->data;
    const study_model *g = &r->gpt[study_main(r, s + 1)];
    int *idx = NULL, k, p, sets = c->d->abl_sets;
    if (localize_units(c, g->ckpt, &idx, &k, &p, err)) return -1;
    lm_model m;
    abl_control a;
    int rc = lm_open(g->ckpt, &m, err);
    if (!rc) {
        rc = abl_control_run(&m.gpt, m.gpt.cfg.n_layer, idx, k, sets, rng_child_seed(c->o->seed, "ablation", (uint64_t)s),
                             &m.scorer, &m.tok, &c->corpus, c->d->abl_tokens, c->path.pairs, NULL, NULL, &a, err);
        lm_close(&m);
    }
    free(idx);
    if (rc) return -1;
    d->a_loss[s] = a.local.val_loss;
    d->a_acc[s] = a.local.pair_acc[0];
    memcpy(d->a_loss_rand + (size_t)s * sets, a.random_loss, (size_t)sets * sizeof(double));
    memcpy(d->a_acc_rand + (size_t)s * sets, a.random_acc, (size_t)sets * sizeof(double));
    abl_control_free(&a);
    r->s4_k = k;
    r->s4_units = p;
    return 0;
}

int study_measure_ablation(study_ctx *c, study_result *r, char *err) {
    study_data *d = &r->data;
    int S = c->d->seeds, sets = c->d->abl_sets;
    d->a_loss = calloc((size_t)S, sizeof(double));
    d->a_acc = calloc((size_t)S, sizeof(double));
    d->a_loss_rand = calloc((size_t)S * sets, sizeof(double));
    d->a_acc_rand = calloc((size_t)S * sets, sizeof(double));
    if (!d->a_loss || !d->a_acc || !d->a_loss_rand || !d->a_acc_rand) return tb_fail(err, "out of memory");
    d->a_sets = sets;
    for (int s = 0; s < S; s++) {
        study_tell(c, "ablating the localized units and random sets", s, S);
        if (ablate_seed(c, r, s, err)) return -1;
        d->a_seeds = s + 1;
    }
    study_tell(c, "ablating the localized units and random sets", S, S);
    return 0;
}
