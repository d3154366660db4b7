/* scan_roi.c -- functional regions of interest on the virtual scanner, and the same scan
 * at another signal-to-noise ratio.  Lesson 16 (and lesson 14's localizer, on voxels).
 *
 * The fROI method (Fedorenko et al. 2010): a separate localizer session plays sentences
 * and a control condition (here their scrambled twins); per channel a Welch t asks "does
 * it respond more to sentences?"; the channels with the largest t are the subject's
 * language fROI.  The comparison of interest is then run on the main experiment's data
 * from those channels only: independent data, so the selection cannot manufacture the
 * result (no "double dipping", Kriegeskorte et al. 2009).
 *
 * The control region has as many channels as the fROI and is non-selective but
 * responsive: among the channels outside the fROI whose mean response (over both
 * localizer conditions) is at least the median channel's, those with the smallest |t|.
 * Taking the least selective channels of all would pick the worst-covered ones (a
 * barely measured voxel has t near 0 too), and a region that is merely noisier says
 * nothing about selectivity.
 */
#include "localize.h"
#include "scan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- another SNR ----------------------------------------------------------------------- */

void scan_rescale(const scan_result *r, double snr, double *out) {
    size_t n = (size_t)r->trials * r->stimuli * r->channels;
    double f = r->noise_sd > 0 ? r->signal_sd / snr / r->noise_sd : 0.0;
    for (size_t i = 0; i < n; i++) out[i] = r->resp_clean[i] + f * (r->resp[i] - r->resp_clean[i]);
}

void scan_subset(const double *x, long rows, int C, const int *idx, int k, double *out) {
    for (long i = 0; i < rows; i++)
        for (int j = 0; j < k; j++) out[i * k + j] = x[i * C + idx[j]];
}

void scan_trial_mean(const double *x, int trials, int n, int C, double *mean) {
    size_t m = (size_t)n * C;
    memset(mean, 0, m * sizeof *mean);
    for (int t = 0; t < trials; t++)
        for (size_t i = 0; i < m; i++) mean[i] += x[(size_t)t * m + i] / trials;
}

void scan_token_profile(const scan_result *r, double *profile, int *n) {
    int W = r->max_tokens, C = r->channels;
    for (int w = 0; w < W; w++) {
        double s = 0;
        long k = 0;
        n[w] = 0;
        for (int i = 0; i < r->stimuli; i++) {
            int has = 0;
            for (int t = 0; t < r->trials; t++)
                for (int c = 0; c < C; c++) {
                    float v = r->tc_token[(((size_t)t * r->stimuli + i) * W + w) * C + c];
                    if (isnan(v)) continue;
                    s += v;
                    k++;
                    has = 1;
                }
            n[w] += has;
        }
        profile[w] = k ? s / k : NAN;
    }
}

/* ---- each neuron's selectivity (the key of a topographic layout) ------------------------- */

/* X[n, N]: the spikes per step of every neuron over each stimulus's shown tokens. */
static int spike_rates(const scan_brain *b, const rec_stimuli *s, uint64_t seed, uint64_t cond, float *spk, double *X,
                       char *err) {
    int N = b->neurons, K = b->steps_per_token;
    for (int i = 0; i < s->n; i++) {
        tb_rng g;
        rng_stream(&g, seed, cond << 32 | (uint64_t)i);
        if (b->run(b, s->ids[i], s->len[i], rng_u64(&g), spk, err)) return -1;
        double *x = X + (size_t)i * N, steps = (double)(s->len[i] - 1) * K;
        memset(x, 0, (size_t)N * sizeof *x);
        for (size_t q = (size_t)K; q < (size_t)s->len[i] * K; q++)   /* token 0 is the context */
            for (int j = 0; j < N; j++) x[j] += spk[q * N + j] / steps;
    }
    return 0;
}

int scan_selectivity(const scan_brain *b, const rec_stimuli *sent, const rec_stimuli *ctrl, uint64_t seed, double *t,
                     char *err) {
    int N = b->neurons, maxlen = 0;
    for (int i = 0; i < sent->n; i++) maxlen = sent->len[i] > maxlen ? sent->len[i] : maxlen;
    for (int i = 0; i < ctrl->n; i++) maxlen = ctrl->len[i] > maxlen ? ctrl->len[i] : maxlen;
    float *spk = malloc((size_t)maxlen * b->steps_per_token * N * sizeof *spk);
    double *S = malloc((size_t)sent->n * N * sizeof *S), *C = malloc((size_t)ctrl->n * N * sizeof *C);
    int rc = !spk || !S || !C ? tb_fail(err, "out of memory for the neurons' selectivity") : 0;
    if (!rc) rc = spike_rates(b, sent, seed, 1, spk, S, err) || spike_rates(b, ctrl, seed, 2, spk, C, err);
    if (!rc) rc = localize_t(S, sent->n, C, ctrl->n, N, 0, t, err);
    free(spk); free(S); free(C);
    return rc ? -1 : 0;
}

/* ---- the localizer ---------------------------------------------------------------------- */

void scan_roi_free(scan_roi *r) {
    free(r->t);
    free(r->mean);
    free(r->froi);
    free(r->control);
    memset(r, 0, sizeof *r);
}

/* Both conditions as one stimulus list (pointers into a and b; free only the arrays). */
static int join_stimuli(const rec_stimuli *a, const rec_stimuli *b, rec_stimuli *j) {
    j->n = a->n + b->n;
    j->text = malloc((size_t)j->n * sizeof *j->text);
    j->ids = malloc((size_t)j->n * sizeof *j->ids);
    j->len = malloc((size_t)j->n * sizeof *j->len);
    if (!j->text || !j->ids || !j->len) return -1;
    for (int i = 0; i < j->n; i++) {
        const rec_stimuli *s = i < a->n ? a : b;
        int q = i < a->n ? i : i - a->n;
        j->text[i] = s->text[q];
        j->ids[i] = s->ids[q];
        j->len[i] = s->len[q];
    }
    return 0;
}

typedef struct { double key; int c; } keyed;   /* a channel and its |t| */
static int by_key(const void *x, const void *y) {
    const keyed *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key ? 1 : (a->c > b->c) - (a->c < b->c);
}

/* The control region: responsive channels outside the fROI, least selective first; then,
 * if too few, the other channels outside the fROI in the same order. */
static int pick_control(scan_roi *roi, char *err) {
    int C = roi->channels, k = roi->k;
    keyed *cand = malloc((size_t)C * sizeof *cand);
    unsigned char *in = calloc((size_t)C, 1);
    if (!cand || !in) { free(cand); free(in); return tb_fail(err, "out of memory"); }
    double med = scan_median(roi->mean, C);
    for (int j = 0; j < k; j++) in[roi->froi[j]] = 1;
    int got = 0;
    for (int pass = 0; pass < 2 && got < k; pass++) {
        int nc = 0;
        for (int c = 0; c < C; c++)
            if (!in[c] && (pass == 1 || roi->mean[c] >= med)) cand[nc++] = (keyed){fabs(roi->t[c]), c};
        qsort(cand, (size_t)nc, sizeof *cand, by_key);
        for (int q = 0; q < nc && got < k; q++) {
            roi->control[got++] = cand[q].c;
            in[cand[q].c] = 1;
        }
    }
    free(cand); free(in);
    return 0;
}

/* t, mean response and both regions from the localizer scan loc (sentences first). */
static int select_regions(const scan_result *loc, int n_sent, scan_roi *roi, char *err) {
    int C = loc->channels, n = loc->stimuli;
    double *m = malloc((size_t)n * C * sizeof *m);
    if (!m) return tb_fail(err, "out of memory");
    scan_trial_mean(loc->resp, loc->trials, n, C, m);
    int rc = localize_t(m, n_sent, m + (size_t)n_sent * C, n - n_sent, C, 0, roi->t, err);
    for (int c = 0; !rc && c < C; c++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += m[(size_t)i * C + c];
        roi->mean[c] = s / n;
    }
    free(m);
    if (rc) return -1;
    localize_top(roi->t, C, roi->k, roi->froi);
    return pick_control(roi, err);
}

int scan_localize(const scan_brain *b, const rec_stimuli *sent, const rec_stimuli *ctrl, const scan_config *c,
                  double top_pct, scan_result *loc, scan_roi *roi, char *err) {
    memset(roi, 0, sizeof *roi);
    memset(loc, 0, sizeof *loc);
    int C = c->channels, k = localize_k(top_pct, C, err);
    if (k < 0) return -1;
    if (2 * k > C) return tb_fail(err, "--froi-top %g%% takes %d of %d channels: no room left for a control region of the same size", top_pct, k, C);
    roi->channels = C;
    roi->k = k;
    roi->n_sent = sent->n;
    roi->n_ctrl = ctrl->n;
    roi->t = malloc((size_t)C * sizeof *roi->t);
    roi->mean = malloc((size_t)C * sizeof *roi->mean);
    roi->froi = malloc((size_t)k * sizeof *roi->froi);
    roi->control = malloc((size_t)k * sizeof *roi->control);
    rec_stimuli both = {0};
    int rc = !roi->t || !roi->mean || !roi->froi || !roi->control || join_stimuli(sent, ctrl, &both)
                 ? tb_fail(err, "out of memory for the localizer")
                 : 0;
    scan_config lc = *c;
    lc.session = 1;
    if (!rc) rc = scan_subject(b, &both, &lc, loc, err);
    if (!rc) rc = select_regions(loc, sent->n, roi, err);
    free(both.text); free(both.ids); free(both.len);
    if (rc) { scan_free(loc); scan_roi_free(roi); }
    return rc;
}
