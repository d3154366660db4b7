/* scan_truth.c -- the true code against its measurements.  Lesson 16.
 *
 * tinybrain owns the brain it scans, so it can do what no lab can: compare a model with
 * the network's own firing rates (every neuron, only the network's trial-to-trial noise)
 * and with the same network measured by the scanner (voxels pooling thousands of neurons
 * through a slow haemodynamic response, at several SNRs; an ECoG grid), on the same
 * stimuli, by every metric.  What changes from one row to the next is measurement alone.
 *
 * fMRI at several SNRs is one scan rescaled (scan_rescale: the same noise draws, so the
 * rows differ by the noise level only); "fMRI, no noise" is that scan's noiseless betas,
 * which isolates the blur (pooling + HRF + GLM) from the noise.
 */
#include "lm.h"
#include "scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scan_truth_free(scan_truth *t) {
    free(t->name);
    free(t->units);
    free(t->trials);
    free(t->res);
    memset(t, 0, sizeof *t);
}

/* One measurement Y_trials[trials, n, p] against every model layer: row m of t->res. */
static int measure_row(scan_truth *t, int m, const char *name, const rep_set *model, const double *Yt, int trials, int p,
                       const align_opts *ao, char *err) {
    int n = model->layer[0].n;
    snprintf(t->name[m], sizeof t->name[m], "%s", name);
    t->units[m] = p;
    t->trials[m] = trials;
    double *Y = malloc((size_t)n * p * sizeof *Y);
    if (!Y) return tb_fail(err, "out of memory");
    scan_trial_mean(Yt, trials, n, p, Y);
    int rc = 0;
    for (int l = 0; l < t->n_layers && !rc; l++) {
        const rep_layer *L = &model->layer[l];
        char e[TB_ERRLEN];
        if (align_all(L->mean, n, L->p, Y, p, Yt, trials, ao, &t->res[(size_t)m * t->n_layers + l], e))
            rc = tb_fail(err, "%s vs %s: %s", L->name, name, e);
    }
    free(Y);
    return rc;
}

/* The network's own rates (the true code), silent neurons left out. */
static int rates_row(scan_truth *t, lm_model *m, const rec_stimuli *s, const rep_set *model, const scan_plan *p,
                     const scan_truth_opts *o, char *err) {
    rec_opts ro = {0, o->rate_trials, 0, scan_subject_seed(p->cfg.seed, 0), p->noise_hz, {NULL, NULL}};
    rep_set R;
    if (rec_record(m, s, &ro, &R, err)) return -1;
    rep_layer *L = &R.layer[0];
    rep_drop_constant(L);
    char name[64];
    snprintf(name, sizeof name, "rates (%d neurons, unmeasured)", L->p);
    int rc = measure_row(t, 0, name, model, L->trial ? L->trial : L->mean, L->trials, L->p, &o->ao, err);
    rep_free(&R);
    return rc;
}

/* The config of modality mod: the plan's when it is that modality, else the defaults;
 * the first subject's seed either way. */
static scan_config truth_config(const scan_plan *p, scan_modality mod, double snr) {
    scan_config c;
    if (p->cfg.modality == mod) c = p->cfg;
    else {
        scan_default_config(&c, mod);
        c.snr = snr;
    }
    c.seed = scan_subject_seed(p->cfg.seed, 0);
    return c;
}

/* One scan of the first subject with c, its anatomy as `scan` lays it out. */
static int scan_one(scan_brain *b, const rec_stimuli *s, const scan_plan *p, const tb_tokenizer *tok, const scan_config *c,
                    scan_result *r, char *err) {
    rec_stimuli ls = {0}, lc = {0};
    double *key = NULL;
    int rc = c->topography > 0 && (rec_stimuli_load(p->loc_sent, tok, &ls, err) || rec_stimuli_load(p->loc_ctrl, tok, &lc, err));
    if (!rc) rc = scan_anatomy(b, &ls, &lc, c, &key, err);
    b->place_key = key;
    if (!rc) rc = scan_subject(b, s, c, r, err);
    b->place_key = NULL;
    free(key);
    rec_stimuli_free(&ls);
    rec_stimuli_free(&lc);
    return rc ? -1 : 0;
}

/* fMRI without noise and at every SNR (one scan, rescaled), then ECoG. */
static int scan_rows(scan_truth *t, scan_brain *b, const tb_tokenizer *tok, const rec_stimuli *s, const rep_set *model,
                     const scan_plan *p, const scan_truth_opts *o, char *err) {
    scan_config fc = truth_config(p, SCAN_FMRI, 1.0), ec = truth_config(p, SCAN_ECOG, o->ecog_snr);
    scan_result r;
    if (scan_one(b, s, p, tok, &fc, &r, err)) return -1;
    size_t cells = (size_t)r.trials * r.stimuli * r.channels;
    double *y = malloc(cells * sizeof *y);
    char name[64];
    int rc = y ? 0 : tb_fail(err, "out of memory"), m = 1;
    snprintf(name, sizeof name, "fMRI, no noise (%d voxels)", r.channels);
    if (!rc) rc = measure_row(t, m++, name, model, r.resp_clean, r.trials, r.channels, &o->ao, err);
    for (int k = 0; k < o->n_snr && !rc; k++) {
        scan_rescale(&r, o->fmri_snr[k], y);
        snprintf(name, sizeof name, "fMRI, SNR %g", o->fmri_snr[k]);
        rc = measure_row(t, m++, name, model, y, r.trials, r.channels, &o->ao, err);
    }
    free(y);
    scan_free(&r);
    if (!rc) rc = scan_one(b, s, p, tok, &ec, &r, err);
    if (rc) return -1;
    snprintf(name, sizeof name, "ECoG, SNR %g (%d electrodes)", ec.snr, r.channels);
    rc = measure_row(t, m, name, model, r.resp, r.trials, r.channels, &o->ao, err);
    scan_free(&r);
    return rc;
}

int scan_truth_run(const rep_set *model, const char *ckpt, const scan_plan *p, const scan_truth_opts *o, scan_truth *t,
                   char *err) {
    memset(t, 0, sizeof *t);
    t->n_meas = 3 + o->n_snr;
    t->n_layers = model->n_layers;
    t->name = calloc((size_t)t->n_meas, sizeof *t->name);
    t->units = calloc((size_t)t->n_meas, sizeof *t->units);
    t->trials = calloc((size_t)t->n_meas, sizeof *t->trials);
    t->res = calloc((size_t)t->n_meas * t->n_layers, sizeof *t->res);
    if (!t->name || !t->units || !t->trials || !t->res) { scan_truth_free(t); return tb_fail(err, "out of memory"); }
    lm_model m;
    if (lm_open(ckpt, &m, err)) { scan_truth_free(t); return -1; }
    rec_stimuli s = {0};
    char e[TB_ERRLEN];
    int rc = strcmp(m.kind, "srnn") ? tb_fail(err, "%s: is a '%s' checkpoint; the true code is a spiking network's", ckpt, m.kind)
                                    : rec_stimuli_load(p->stimuli, &m.tok, &s, err);
    if (!rc && s.n != model->layer[0].n)
        rc = tb_fail(err, "%s has %d stimuli but %s holds %d: record the model on the same stimuli", model->layer[0].path,
                     model->layer[0].n, p->stimuli, s.n);
    if (!rc && rates_row(t, &m, &s, model, p, o, e)) rc = tb_fail(err, "%s: %s", ckpt, e);
    scan_brain b;
    scan_brain_srnn(&b, &m.snn, p->noise_hz);
    if (!rc && scan_rows(t, &b, &m.tok, &s, model, p, o, e)) rc = tb_fail(err, "%s: %s", ckpt, e);
    rec_stimuli_free(&s);
    lm_close(&m);
    if (rc) scan_truth_free(t);
    return rc;
}

const align_result *scan_truth_at(const scan_truth *t, int m, int l) { return &t->res[(size_t)m * t->n_layers + l]; }
