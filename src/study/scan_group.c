/* scan_group.c -- a scanning study: several spiking networks ("subjects") scanned with the
 * same plan, their ceilings both ways, and a model's scores on them, raw and normalised.
 * Lesson 16 (and lesson 12's across-subject ceiling).
 *
 * Two ceilings answer two questions:
 *   within  how well does one half of a subject's runs predict the other half?  The
 *           split-half reliability, Spearman-Brown corrected, on r (noise_ceiling): it
 *           counts measurement and trial-to-trial noise only.
 *   across  how well do the other subjects predict this one?  A cross-validated ridge map
 *           from their channels to its channels (scan_ceiling_across), the way Brain-Score
 *           ceils a benchmark: it also counts what makes subjects differ (another network,
 *           another sheet).  It grows with the number of predicting subjects, which is why
 *           Brain-Score extrapolates it to infinitely many (scan_ceiling_by_count shows the
 *           growth; we do not extrapolate).
 * Scores are encoding r, normalised as r / ceiling (Brain-Score's ceiling_normalize
 * divides the same way and clips the result to [0, 1]; we do not clip, so a score above 1
 * shows a ceiling that is too low).
 */
#include "lm.h"
#include "rng.h"
#include "scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const scan_region_name[SCAN_N_REGIONS] = {"all", "froi", "control"};

uint64_t scan_subject_seed(uint64_t seed, int i) { return rng_child_seed(seed, "subject", (uint64_t)i); }

double scan_median(const double *x, int n) {
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return NAN;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) {   /* insertion into sorted order */
            int j = k++;
            for (; j > 0 && v[j - 1] > x[i]; j--) v[j] = v[j - 1];
            v[j] = x[i];
        }
    double m = k == 0 ? NAN : k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
    free(v);
    return m;
}

/* ---- finding a subject's checkpoint ------------------------------------------------------ */

int scan_find_ckpt(const char *path, char **ckpt, char *err) {
    *ckpt = NULL;
    if (!rep_is_dir(path)) {
        if (access(path, R_OK)) return tb_fail(err, "%s: no such checkpoint or run folder", path);
        *ckpt = tb_strf("%s", path);
        return *ckpt ? 0 : tb_fail(err, "out of memory");
    }
    char *sweep = tb_strf("%s/runs/snn.ckpt", path);
    if (!sweep) return tb_fail(err, "out of memory");
    if (!access(sweep, R_OK)) { *ckpt = sweep; return 0; }
    free(sweep);
    char **steps;
    int n;
    if (rep_list_steps(path, &steps, &n)) return tb_fail(err, "%s: cannot read the folder", path);
    if (n == 0) return tb_fail(err, "%s: a folder without runs/snn.ckpt or step_*.ckpt", path);
    *ckpt = steps[n - 1];
    for (int i = 0; i < n - 1; i++) free(steps[i]);
    free(steps);
    return 0;
}

/* ---- one subject -------------------------------------------------------------------------- */

void scan_subj_free(scan_subj *s) {
    free(s->model);
    scan_free(&s->scan);
    scan_free(&s->loc);
    scan_roi_free(&s->roi);
    memset(s, 0, sizeof *s);
}

int scan_region(const scan_subj *s, int region, double **out, int *k, char *err) {
    const scan_result *r = &s->scan;
    if (region != SCAN_ALL && !s->have_loc)
        return tb_fail(err, "the %s region needs the localizer", scan_region_name[region]);
    const int *idx = region == SCAN_FROI ? s->roi.froi : s->roi.control;
    *k = region == SCAN_ALL ? r->channels : s->roi.k;
    long rows = (long)r->trials * r->stimuli;
    *out = malloc((size_t)rows * *k * sizeof **out);
    if (!*out) return tb_fail(err, "out of memory");
    if (region == SCAN_ALL) memcpy(*out, r->resp, (size_t)rows * *k * sizeof **out);
    else scan_subset(r->resp, rows, r->channels, idx, *k, *out);
    return 0;
}

/* The split-half ceiling of every region the subject has. */
static int within_ceilings(scan_subj *s, char *err) {
    for (int g = 0; g < SCAN_N_REGIONS; g++) {
        s->within[g] = s->across[g] = NAN;
        if (g != SCAN_ALL && !s->have_loc) continue;
        double *x, *per;
        int k;
        if (scan_region(s, g, &x, &k, err)) return -1;
        per = malloc((size_t)k * sizeof *per);
        int rc = per ? noise_ceiling(x, s->scan.trials, s->scan.stimuli, k, 10, s->cfg.seed, per, &s->within[g], err)
                     : tb_fail(err, "out of memory");
        free(x);
        free(per);
        if (rc) return -1;
    }
    return 0;
}

int scan_anatomy(const scan_brain *b, const rec_stimuli *sent, const rec_stimuli *ctrl, const scan_config *c, double **key,
                 char *err) {
    *key = NULL;
    if (!(c->topography > 0)) return 0;
    if (!(*key = malloc((size_t)b->neurons * sizeof **key))) return tb_fail(err, "out of memory");
    if (!scan_selectivity(b, sent, ctrl, rng_child_seed(c->seed, "anatomy", 0), *key, err)) return 0;
    free(*key);
    *key = NULL;
    return -1;
}

/* Scan the opened network: the main experiment, then the localizer session. */
static int scan_network(const srnn_model *net, const tb_tokenizer *tok, const scan_plan *p, scan_subj *out, char *err) {
    rec_stimuli s = {0}, ls = {0}, lc = {0};
    if (rec_stimuli_load(p->stimuli, tok, &s, err)) return -1;
    int need = p->localize || out->cfg.topography > 0;
    int rc = need && (rec_stimuli_load(p->loc_sent, tok, &ls, err) || rec_stimuli_load(p->loc_ctrl, tok, &lc, err));
    scan_brain b;
    scan_brain_srnn(&b, net, p->noise_hz);
    double *key = NULL;
    if (!rc) rc = scan_anatomy(&b, &ls, &lc, &out->cfg, &key, err);
    b.place_key = key;
    if (!rc) rc = scan_subject(&b, &s, &out->cfg, &out->scan, err);
    if (!rc && p->localize) {
        scan_config lcfg = out->cfg;
        lcfg.trials = p->loc_runs;
        rc = scan_localize(&b, &ls, &lc, &lcfg, p->froi_top, &out->loc, &out->roi, err);
        out->have_loc = !rc;
    }
    free(key);
    rec_stimuli_free(&s);
    rec_stimuli_free(&ls);
    rec_stimuli_free(&lc);
    return rc ? -1 : 0;
}

int scan_run_subject(const char *ckpt, const scan_plan *p, int i, scan_subj *out, char *err) {
    memset(out, 0, sizeof *out);
    out->index = i;
    out->cfg = p->cfg;
    out->cfg.seed = scan_subject_seed(p->cfg.seed, i);
    if (!(out->model = tb_strf("%s", ckpt))) return tb_fail(err, "out of memory");
    lm_model m;
    char e[TB_ERRLEN];
    if (lm_open(ckpt, &m, err)) { scan_subj_free(out); return -1; }
    int rc = strcmp(m.kind, "srnn") ? tb_fail(err, "%s: is a '%s' checkpoint; the scanner measures a spiking network "
                                                   "(from train-snn)", ckpt, m.kind)
                                    : scan_network(&m.snn, &m.tok, p, out, e) ? tb_fail(err, "%s: %s", ckpt, e) : 0;
    lm_close(&m);
    if (!rc) rc = within_ceilings(out, err);
    if (rc) scan_subj_free(out);
    return rc;
}

/* ---- across subjects ----------------------------------------------------------------------- */

/* Y[s] = the trial mean of subject s's region (n x ch[s]); free with free_means. */
static int region_means(const scan_subj *S, int n, int g, double **Y, int *ch, char *err) {
    for (int s = 0; s < n; s++) Y[s] = NULL;
    for (int s = 0; s < n; s++) {
        const scan_result *r = &S[s].scan;
        if (r->stimuli != S[0].scan.stimuli)
            return tb_fail(err, "subject %d saw %d stimuli but subject 1 saw %d", s + 1, r->stimuli, S[0].scan.stimuli);
        double *x;
        if (scan_region(&S[s], g, &x, &ch[s], err)) return -1;
        Y[s] = malloc((size_t)r->stimuli * ch[s] * sizeof *Y[s]);
        if (Y[s]) scan_trial_mean(x, r->trials, r->stimuli, ch[s], Y[s]);
        free(x);
        if (!Y[s]) return tb_fail(err, "out of memory");
    }
    return 0;
}

static void free_means(double **Y, int n) {
    for (int s = 0; s < n; s++) free(Y[s]);
}

int scan_group_ceilings(scan_subj *S, int n, const enc_opts *o, char *err) {
    if (n < 2) return tb_fail(err, "an across-subject ceiling needs at least 2 subjects (got %d)", n);
    double **Y = malloc((size_t)n * sizeof *Y), *per = malloc((size_t)n * sizeof *per), ce;
    int *ch = malloc((size_t)n * sizeof *ch), rc = !Y || !per || !ch ? tb_fail(err, "out of memory") : 0;
    int have_loc = 1;
    for (int s = 0; s < n; s++) have_loc &= S[s].have_loc;
    for (int g = 0; g < SCAN_N_REGIONS && !rc; g++) {
        if (g != SCAN_ALL && !have_loc) continue;
        rc = region_means(S, n, g, Y, ch, err) ||
             scan_ceiling_across((const double *const *)Y, ch, n, S[0].scan.stimuli, o, per, &ce, err);
        for (int s = 0; !rc && s < n; s++) S[s].across[g] = per[s];
        free_means(Y, n);
    }
    free(Y); free(per); free(ch);
    return rc;
}

/* How many k-subsets of n there are, capped at cap + 1. */
static long choose_capped(int n, int k, long cap) {
    double c = 1;
    for (int j = 1; j <= k; j++) c = c * (n - k + j) / j;
    return c > cap ? cap + 1 : (long)(c + 0.5);
}

/* The next k-subset of 0..n-1 in lexicographic order (idx ascending); 0 after the last. */
static int next_subset(int *idx, int k, int n) {
    int j = k - 1;
    while (j >= 0 && idx[j] == n - k + j) j--;
    if (j < 0) return 0;
    idx[j]++;
    for (int q = j + 1; q < k; q++) idx[q] = idx[q - 1] + 1;
    return 1;
}

#define SCAN_MAX_SUBSETS 12

/* The mean over subsets of k subjects of their ceiling; Y, ch: every subject's means. */
static int ceiling_k(double **Y, const int *ch, int n, int k, int n_stim, const enc_opts *o, uint64_t seed, double *out,
                     char *err) {
    int *idx = malloc((size_t)n * sizeof *idx), *cs = malloc((size_t)k * sizeof *cs);
    const double **Ys = malloc((size_t)k * sizeof *Ys);
    if (!idx || !cs || !Ys) { free(idx); free(cs); free(Ys); return tb_fail(err, "out of memory"); }
    int all = choose_capped(n, k, SCAN_MAX_SUBSETS) <= SCAN_MAX_SUBSETS, rc = 0, used = 0;
    double sum = 0;
    tb_rng g;
    rng_stream(&g, seed, (uint64_t)k);
    for (int q = 0; q < k; q++) idx[q] = q;
    for (int more = 1; more && !rc && used < SCAN_MAX_SUBSETS; used++) {
        if (!all) {   /* a random k-subset: the first k of a shuffle */
            for (int q = 0; q < n; q++) idx[q] = q;
            rng_shuffle_int(&g, idx, n);
        }
        for (int q = 0; q < k; q++) { Ys[q] = Y[idx[q]]; cs[q] = ch[idx[q]]; }
        double ce;
        rc = scan_ceiling_across(Ys, cs, k, n_stim, o, NULL, &ce, err);
        sum += ce;
        if (all) more = next_subset(idx, k, n);
    }
    *out = sum / used;
    free(idx); free(cs); free(Ys);
    return rc;
}

int scan_ceiling_by_count(const scan_subj *S, int n, const enc_opts *o, uint64_t seed, double *by_k, char *err) {
    if (n < 2) return tb_fail(err, "the ceiling by subject count needs at least 2 subjects (got %d)", n);
    double **Y = malloc((size_t)n * sizeof *Y);
    int *ch = malloc((size_t)n * sizeof *ch), rc = !Y || !ch ? tb_fail(err, "out of memory") : 0;
    if (!rc) rc = region_means(S, n, SCAN_ALL, Y, ch, err);
    for (int k = 2; k <= n && !rc; k++) rc = ceiling_k(Y, ch, n, k, S[0].scan.stimuli, o, seed, &by_k[k - 2], err);
    if (Y) free_means(Y, n);
    free(Y);
    free(ch);
    return rc;
}

/* ---- scores ---------------------------------------------------------------------------------- */

void scan_scores_free(scan_scores *s) {
    free(s->r);
    memset(s, 0, sizeof *s);
}

double scan_score_r(const scan_scores *s, int layer, int subject, int region) {
    return s->r[((size_t)layer * s->subjects + subject) * SCAN_N_REGIONS + region];
}

double scan_normalise(double r, double ceiling, double min_ceiling) {
    return isfinite(ceiling) && ceiling >= min_ceiling ? r / ceiling : NAN;
}

/* Encoding r from layer L to subject s's region g (NaN when the region is missing). */
static int score_one(const rep_layer *L, const scan_subj *s, int g, const enc_opts *o, double *r, char *err) {
    *r = NAN;
    if (g != SCAN_ALL && !s->have_loc) return 0;
    double *x;
    int k;
    if (scan_region(s, g, &x, &k, err)) return -1;
    enc_result e;
    char e2[TB_ERRLEN];
    int rc = encoding_fit(L->mean, L->n, L->p, NULL, x, s->scan.trials, k, o, &e, e2);
    free(x);
    if (rc) return tb_fail(err, "%s vs subject %d (%s): %s", L->name, s->index + 1, scan_region_name[g], e2);
    *r = e.r_median;
    enc_result_free(&e);
    return 0;
}

int scan_score(const rep_set *model, const scan_subj *S, int n, const enc_opts *o, scan_scores *out, char *err) {
    memset(out, 0, sizeof *out);
    for (int l = 0; l < model->n_layers; l++)
        if (model->layer[l].n != S[0].scan.stimuli)
            return tb_fail(err, "%s has %d stimuli but the scans have %d: record the model on the scan's stimuli",
                           model->layer[l].path, model->layer[l].n, S[0].scan.stimuli);
    out->layers = model->n_layers;
    out->subjects = n;
    out->r = malloc((size_t)out->layers * n * SCAN_N_REGIONS * sizeof *out->r);
    if (!out->r) return tb_fail(err, "out of memory");
    int rc = 0;
    for (int l = 0; l < out->layers && !rc; l++)
        for (int s = 0; s < n && !rc; s++)
            for (int g = 0; g < SCAN_N_REGIONS && !rc; g++)
                rc = score_one(&model->layer[l], &S[s], g, o, &out->r[((size_t)l * n + s) * SCAN_N_REGIONS + g], err);
    if (rc) scan_scores_free(out);
    return rc;
}
