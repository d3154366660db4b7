/* scan_ecog.c -- the virtual ECoG grid: local population activity at the network's own
 * millisecond resolution, 1/f noise, repeats as trials, the response in a window and its
 * time course.  Lesson 16; the model is at the top of include/scan.h. */
#include "scan.h"
#include "scan_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PINK_PARTS 10   /* AR(1) time constants 1, 2, 4, ... 512 ms */

void scan_pink_noise(tb_rng *r, int n, double dt_ms, double *e) {
    memset(e, 0, (size_t)n * sizeof *e);
    double w = 1.0 / sqrt((double)PINK_PARTS);   /* equal variance per octave, unit in total */
    for (int j = 0; j < PINK_PARTS; j++) {
        double a = exp(-dt_ms / ldexp(1.0, j)), ia = sqrt(1.0 - a * a), x = rng_normal(r);
        for (int k = 0; k < n; k++) {
            if (k) x = a * x + ia * rng_normal(r);
            e[k] += w * x;
        }
    }
}

/* Samples of a stimulus lasting `steps` steps inside the window: [*q0, *q1). */
static int window_steps(const scan_config *c, double dt_ms, size_t steps, size_t *q0, size_t *q1) {
    *q0 = (size_t)ceil(c->win_from_ms / dt_ms - 1e-9);
    *q1 = c->win_to_ms > 0 ? (size_t)ceil(c->win_to_ms / dt_ms - 1e-9) : steps;
    if (*q1 > steps) *q1 = steps;
    return *q1 > *q0 ? 0 : -1;
}

/* Trial t's clean traces into out->tc (float): g = a g + (1 - a) d from each stimulus's
 * first word; the running sums for the s.d.; the window means into resp_clean. */
static int clean_trial(const scan_drive *dr, const scan_config *c, double dt_ms, int t, scan_result *out, double *sum) {
    int n = dr->n, C = dr->C, S = out->max_steps;
    double a = exp(-dt_ms / c->tau_ms), *g = calloc((size_t)C, sizeof *g);
    if (!g) return -1;
    for (int i = 0; i < n; i++) {
        size_t steps = dr->off[i + 1] - dr->off[i], q0, q1;
        float *tc = out->tc + (((size_t)t * n + i) * S) * C;
        memset(g, 0, (size_t)C * sizeof *g);
        window_steps(c, dt_ms, steps, &q0, &q1);
        double *rc = out->resp_clean + ((size_t)t * n + i) * C;
        for (size_t q = 0; q < steps; q++)
            for (int ch = 0; ch < C; ch++) {
                g[ch] = a * g[ch] + (1 - a) * dr->d[(dr->off[i] + q) * C + ch];
                tc[q * C + ch] = (float)g[ch];
                sum[ch] += g[ch];
                sum[C + ch] += g[ch] * g[ch];
                if (q >= q0 && q < q1) rc[ch] += g[ch] / (double)(q1 - q0);
            }
        for (size_t q = steps; q < (size_t)S; q++)
            for (int ch = 0; ch < C; ch++) tc[q * C + ch] = NAN;
    }
    free(g);
    return 0;
}

/* Trial t: add noise_sd x 1/f noise to every trace, then the window means (resp) and the
 * per-token means (tc_token). */
static int noisy_trial(const scan_config *c, const rec_stimuli *s, double dt_ms, int K, int t, scan_result *out) {
    int n = out->stimuli, C = out->channels, S = out->max_steps, W = out->max_tokens;
    double *e = malloc((size_t)S * sizeof *e);
    if (!e) return -1;
    for (int i = 0; i < n; i++) {
        tb_rng g;
        rng_stream(&g, scan_session_seed(c), SCAN_STREAM_NOISE((uint64_t)t * n + i));
        float *tc = out->tc + (((size_t)t * n + i) * S) * C, *tk = out->tc_token + (((size_t)t * n + i) * W) * C;
        size_t steps = (size_t)(s->len[i] - 1) * K, q0, q1;
        window_steps(c, dt_ms, steps, &q0, &q1);
        double *resp = out->resp + ((size_t)t * n + i) * C;
        for (int ch = 0; ch < C; ch++) {
            scan_pink_noise(&g, (int)steps, dt_ms, e);
            for (size_t q = 0; q < steps; q++) {
                double y = tc[q * C + ch] + out->noise_sd * e[q];
                tc[q * C + ch] = (float)y;
                if (q >= q0 && q < q1) resp[ch] += y / (double)(q1 - q0);
            }
            for (int w = 0; w < W; w++) {
                double m = 0;
                for (int k = 0; k < K && (size_t)(w * K + k) < steps; k++) m += tc[((size_t)w * K + k) * C + ch] / K;
                tk[(size_t)w * C + ch] = (size_t)w * K < steps ? (float)m : NAN;
            }
        }
    }
    free(e);
    return 0;
}

int scan_ecog_run(const scan_brain *b, const rec_stimuli *s, const scan_config *c, const double *wT, scan_result *out,
                  char *err) {
    int T = c->trials, C = c->channels, n = s->n, K = b->steps_per_token;
    double dt = b->dt_ms;
    out->max_tokens = 0;
    for (int i = 0; i < n; i++) {
        size_t q0, q1;
        if (window_steps(c, dt, (size_t)(s->len[i] - 1) * K, &q0, &q1))
            return tb_fail(err, "the window [%g, %g) ms holds no sample of stimulus %d (it lasts %g ms)", c->win_from_ms,
                           c->win_to_ms, i, (s->len[i] - 1) * K * dt);
        if (s->len[i] - 1 > out->max_tokens) out->max_tokens = s->len[i] - 1;
    }
    out->max_steps = out->max_tokens * K;
    size_t cells = (size_t)T * n * C;
    out->tc = malloc(cells * out->max_steps * sizeof *out->tc);
    out->tc_token = malloc(cells * out->max_tokens * sizeof *out->tc_token);
    double *sum = calloc(2 * (size_t)C, sizeof *sum);
    scan_drive dr;
    int rc = !out->tc || !out->tc_token || !sum ? tb_fail(err, "out of memory for the ECoG time courses")
                                                : scan_drive_alloc(&dr, s, K, C, wT, err);
    if (rc) { free(sum); return -1; }
    for (int t = 0; t < T && !rc; t++) {
        rc = scan_drive_trial(b, s, scan_session_seed(c), t, &dr, err);
        if (!rc && clean_trial(&dr, c, dt, t, out, sum)) rc = tb_fail(err, "out of memory");
    }
    double samples = (double)T * dr.off[n];
    scan_drive_free(&dr);
    if (!rc) scan_set_sd(out, sum, sum + C, samples, c->snr);
    free(sum);
    for (int t = 0; t < T && !rc; t++)
        if (noisy_trial(c, s, dt, K, t, out)) rc = tb_fail(err, "out of memory");
    return rc;
}
