/* sweep_measure.c -- what a sweep's trained runs can do, beyond their training summary
 * (include/sweep.h): minimal pairs by phenomenon, fact recall, and alignment with a brain
 * layer by layer.  Lessons 15 and 17. */
#include "align.h"
#include "recording.h"
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The brain: its first layer, constant units left out. */
static int load_brain(const char *path, rep_set *B, char *err) {
    if (rep_load(path, 1, B, err)) return -1;
    if (B->n_layers < 1) { rep_free(B); return tb_fail(err, "%s: no layer to compare with", path); }
    return 0;
}

/* RSA and debiased CKA of every layer of A with the brain layer Y, into rsa[n_layers]
 * and cka[n_layers] (either may be NULL). */
static void align_layers(const rep_set *A, int n_layers, const rep_layer *Y, double *rsa, double *cka) {
    align_opts o;
    align_opts_default(&o);
    o.cca = o.procrustes = 0;
    for (int l = 0; l < n_layers; l++) {
        rep_layer *X = &A->layer[l];
        align_result res;
        char err[TB_ERRLEN];
        rep_drop_constant(X);   /* a silent neuron has nothing to compare */
        int bad = align_all(X->mean, X->n, X->p, Y->mean, Y->p, NULL, 0, &o, &res, err) != 0;
        if (rsa) rsa[l] = bad ? NAN : res.rsa_spearman;
        if (cka) cka[l] = bad ? NAN : res.cka_linear_debiased;
    }
}

/* Record model m on the stimuli and compare every layer (GPT: the residual stream) with
 * Y: the layer names and count into r (names = 1), the scores into rsa and cka. */
static int brain_side(lm_model *m, const sweep_measure_opts *o, const rep_layer *Y, sweep_run *r, int names,
                      double *rsa, double *cka, char *err) {
    rec_stimuli s;
    rep_set A;
    rec_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.trials = 1;
    ro.seed = o->seed;
    ro.noise_hz = -1;
    if (rec_stimuli_load(o->stimuli, &m->tok, &s, err)) return -1;
    if (s.n != Y->n) {
        rec_stimuli_free(&s);
        return tb_fail(err, "%s has %d stimuli but the brain %s has %d: give the stimuli it was recorded on", o->stimuli,
                       s.n, o->brain, Y->n);
    }
    int rc = rec_record(m, &s, &ro, &A, err);
    rec_stimuli_free(&s);
    if (rc) return -1;
    int L = strcmp(m->kind, "gpt") ? A.n_layers : rec_n_resid(m);
    if (L > SWEEP_MAX_LAYERS) L = SWEEP_MAX_LAYERS;
    if (names) {
        r->n_layers = L;
        for (int l = 0; l < L; l++) snprintf(r->layer[l], sizeof r->layer[l], "%.31s", A.layer[l].name);
    }
    align_layers(&A, L, Y, rsa, cka);
    rep_free(&A);
    return 0;
}

/* The trained network and, as its reference, the same one untrained. */
static int brain_both(const sweep_measure_opts *o, lm_model *m, const rep_layer *Y, sweep_run *r, char *err) {
    if (brain_side(m, o, Y, r, 1, r->rsa, r->cka_debiased, err)) return -1;
    lm_model u;
    if (lm_open_untrained(r->ckpt, &u, err)) return -1;
    int rc = brain_side(&u, o, Y, r, 0, r->rsa_untrained, NULL, err);
    lm_close(&u);
    return rc;
}

/* One run: open its checkpoint, score the pairs and facts, and align it. */
static int measure_run(const sweep_measure_opts *o, const rep_layer *Y, sweep_run *r, char *err) {
    lm_model m;
    lm_eval_result e;
    memset(&e, 0, sizeof e);
    e.fact_acc = NAN;
    if (lm_open(r->ckpt, &m, err)) return -1;
    const char *corpus = ckpt_get(&m.ck, "corpus");
    int toyworld = corpus && !strcmp(corpus, "toyworld");   /* the pairs are toyworld's */
    int rc = (toyworld && o->pairs && lm_pairs_by_kind(&m.scorer, &m.tok, o->pairs, &e, err)) ||
             (toyworld && o->facts && lm_fact_recall(&m.scorer, &m.tok, o->facts, &e, err)) ||
             (Y && brain_both(o, &m, Y, r, err));
    lm_close(&m);
    if (rc) return -1;
    r->n_kinds = e.n_kinds;
    memcpy(r->kind, e.kind, sizeof r->kind);
    r->fact_acc = e.fact_acc;
    return 0;
}

int sweep_measure(const sweep_measure_opts *o, sweep_run *runs, int n, char *err) {
    rep_set B;
    if (o->brain && load_brain(o->brain, &B, err)) return -1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        sweep_run *r = &runs[i];
        r->n_kinds = r->n_layers = 0;
        r->fact_acc = NAN;
        if (r->status != 0) continue;
        char why[TB_ERRLEN];
        if (measure_run(o, o->brain ? &B.layer[0] : NULL, r, why)) rc = tb_fail(err, "%s: %s", r->ckpt, why);
    }
    if (o->brain) rep_free(&B);
    return rc;
}
