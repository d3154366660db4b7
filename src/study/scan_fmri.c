/* scan_fmri.c -- the virtual fMRI scanner: the canonical haemodynamic response, an
 * event-related design, BOLD with white + AR(1) + drift noise, and the GLM that turns
 * each run into one beta per stimulus.  Lesson 16; the model is at the top of
 * include/scan.h.  The conventions follow SPM (spm_hrf, spm_dctmtx, the microtime grid
 * of 16 bins per TR) so that a student can check a number against SPM's. */
#include "linalg.h"
#include "scan.h"
#include "scan_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MICRO 16          /* microtime bins per TR (SPM's fMRI_T) */
#define HRF_LENGTH_S 32.0 /* the HRF is sampled up to 32 s */

/* ---- the haemodynamic response ------------------------------------------------------- */

int scan_hrf_length(double dt_s) { return (int)floor(HRF_LENGTH_S / dt_s + 1e-9) + 1; }

/* Gamma density with shape a and scale 1 s at t >= 0. */
static double gamma_pdf(double t, double a) { return t > 0 ? exp((a - 1) * log(t) - t - lgamma(a)) : 0.0; }

void scan_hrf(double dt_s, double *h) {
    int n = scan_hrf_length(dt_s);
    double sum = 0;
    for (int k = 0; k < n; k++) {
        double t = k * dt_s;
        h[k] = gamma_pdf(t, 6.0) - gamma_pdf(t, 16.0) / 6.0;   /* peak ~5 s, undershoot ~15 s */
        sum += h[k];
    }
    for (int k = 0; k < n; k++) h[k] /= sum;
}

/* ---- drift regressors and the design --------------------------------------------------- */

int scan_dct_count(int n_scans, double tr_s, double cutoff_s) {
    int k = (int)floor(2.0 * n_scans * tr_s / cutoff_s) + 1;
    return k < n_scans ? k : n_scans;
}

void scan_dct(int n_scans, int k, double *C) {
    for (int i = 0; i < n_scans; i++)
        for (int j = 0; j < k; j++)
            C[(size_t)i * k + j] = j == 0 ? 1.0 / sqrt(n_scans)
                                          : sqrt(2.0 / n_scans) * cos(M_PI * (2 * i + 1) * j / (2.0 * n_scans));
}

/* x[j] = sum over microtime bins u in [u0, u1) of h[MICRO j - u]: a boxcar convolved with
 * the HRF and sampled at the scans (column stride ld). */
static void boxcar_column(long u0, long u1, const double *h, int nh, int n_scans, double *x, int ld) {
    for (int j = 0; j < n_scans; j++) x[(size_t)j * ld] = 0.0;
    long j0 = u0 / MICRO, j1 = (u1 - 1 + nh - 1) / MICRO;
    for (long j = j0; j <= j1 && j < n_scans; j++) {
        double s = 0;
        for (long u = u0; u < u1; u++) {
            long m = MICRO * j - u;
            if (m >= 0 && m < nh) s += h[m];
        }
        x[(size_t)j * ld] = s;
    }
}

int scan_design(const double *onset_s, const double *dur_s, int n_events, int n_scans, double tr_s,
                double hp_cutoff_s, double **X, int *cols, char *err) {
    double dt = tr_s / MICRO;
    int nh = scan_hrf_length(dt), k = scan_dct_count(n_scans, tr_s, hp_cutoff_s), p = n_events + k;
    double *h = malloc((size_t)nh * sizeof *h), *D = malloc((size_t)n_scans * k * sizeof *D);
    *X = malloc((size_t)n_scans * p * sizeof **X);
    if (!h || !D || !*X) {
        free(h); free(D); free(*X);
        *X = NULL;
        return tb_fail(err, "out of memory for a design of %d scans x %d regressors", n_scans, p);
    }
    scan_hrf(dt, h);
    for (int e = 0; e < n_events; e++) {
        long u0 = lround(onset_s[e] / dt), u1 = lround((onset_s[e] + dur_s[e]) / dt);
        boxcar_column(u0, u1 > u0 ? u1 : u0 + 1, h, nh, n_scans, *X + e, p);
    }
    scan_dct(n_scans, k, D);
    for (int i = 0; i < n_scans; i++) memcpy(*X + (size_t)i * p + n_events, D + (size_t)i * k, (size_t)k * sizeof *D);
    free(h);
    free(D);
    *cols = p;
    return 0;
}

int scan_glm(const double *X, int n, int p, const double *Y, int m, double *B, char *err) {
    if (n < p) return tb_fail(err, "the GLM has %d regressors but only %d scans", p, n);
    double *G = malloc((size_t)p * p * sizeof *G);
    if (!G) return tb_fail(err, "out of memory for the GLM");
    la_gemm_tn(n, p, p, X, X, G);   /* X^T X */
    la_gemm_tn(n, p, m, X, Y, B);   /* X^T Y */
    char e[TB_ERRLEN];
    if (la_cholesky(p, G, e)) {
        free(G);
        return tb_fail(err, "the design is rank deficient (some regressors are linear combinations of others): %s", e);
    }
    la_cholesky_solve(p, G, B, m);
    free(G);
    return 0;
}

/* ---- noise ------------------------------------------------------------------------------ */

void scan_fmri_noise(tb_rng *r, int n, double ar, double frac_ar, double frac_drift, double *e) {
    /* the drift first: a random walk, centred and scaled to unit variance over the run */
    double walk = 0, sum = 0, sum2 = 0;
    for (int k = 0; k < n; k++) {
        walk += rng_normal(r);
        e[k] = walk;
        sum += walk;
        sum2 += walk * walk;
    }
    double mean = sum / n, var = sum2 / n - mean * mean, sd = var > 0 ? sqrt(var) : 1.0;
    double fw = sqrt(fmax(0.0, 1.0 - frac_ar - frac_drift)), fa = sqrt(frac_ar), fd = sqrt(frac_drift);
    double a = rng_normal(r), ia = sqrt(1.0 - ar * ar);   /* AR(1), stationary from the start */
    for (int k = 0; k < n; k++) {
        if (k) a = ar * a + ia * rng_normal(r);
        e[k] = fd * (e[k] - mean) / sd + fw * rng_normal(r) + fa * a;
    }
}

/* ---- the experiment -------------------------------------------------------------------- */

/* Every run: a new order, onsets on the microtime grid, and the number of scans. */
static int plan_runs(const rec_stimuli *s, const scan_config *c, scan_result *out, char *err) {
    int T = c->trials, n = s->n;
    out->n_scans = malloc((size_t)T * sizeof *out->n_scans);
    out->order = malloc((size_t)T * n * sizeof *out->order);
    out->onset_s = malloc((size_t)T * n * sizeof *out->onset_s);
    out->dur_s = malloc((size_t)n * sizeof *out->dur_s);
    if (!out->n_scans || !out->order || !out->onset_s || !out->dur_s) return tb_fail(err, "out of memory");
    double dt = c->tr_s / MICRO;
    for (int i = 0; i < n; i++) out->dur_s[i] = (s->len[i] - 1) * c->word_ms / 1000.0;
    out->max_scans = 0;
    for (int r = 0; r < T; r++) {
        tb_rng g;
        rng_stream(&g, scan_session_seed(c), SCAN_STREAM_DESIGN(r));
        int *order = out->order + (size_t)r * n;
        for (int p = 0; p < n; p++) order[p] = p;
        rng_shuffle_int(&g, order, n);
        double t = c->rest_s, end = 0;
        for (int p = 0; p < n; p++) {
            int i = order[p];
            double onset = round(t / dt) * dt;
            out->onset_s[(size_t)r * n + i] = onset;
            end = onset + out->dur_s[i];
            t = end + c->isi_s + c->jitter_s * (2.0 * rng_uniform(&g) - 1.0);
        }
        double ns = ceil((end + c->rest_s) / c->tr_s);
        if (ns > 1e6) return tb_fail(err, "a run of %.0f scans is too long (fewer stimuli or a shorter --isi)", ns);
        out->n_scans[r] = (int)ns;
        if (out->n_scans[r] > out->max_scans) out->max_scans = out->n_scans[r];
    }
    return 0;
}

/* The noiseless BOLD of run r, y[n_scans, C]: the drive placed on the microtime grid (a
 * token's K steps spread over word_ms), convolved with h and sampled at every scan. */
static int bold_run(const scan_drive *dr, const scan_config *c, const scan_result *out, int r, const double *h,
                    int nh, double *y, char *err) {
    int ns = out->n_scans[r], C = dr->C, n = dr->n;
    size_t n_micro = (size_t)ns * MICRO;
    double dt = c->tr_s / MICRO, step_s = c->word_ms / 1000.0 / dr->K;
    double *u = calloc(n_micro * C, sizeof *u);
    if (!u) return tb_fail(err, "out of memory for a run of %d scans", ns);
    for (int i = 0; i < n; i++) {
        double onset = out->onset_s[(size_t)r * n + i];
        for (size_t q = 0; q < dr->off[i + 1] - dr->off[i]; q++) {
            size_t bin = (size_t)floor((onset + (q + 0.5) * step_s) / dt);
            const double *d = dr->d + (dr->off[i] + q) * C;
            for (int ch = 0; bin < n_micro && ch < C; ch++) u[bin * C + ch] += d[ch];
        }
    }
    for (int j = 0; j < ns; j++) {
        double *yj = y + (size_t)j * C;
        memset(yj, 0, (size_t)C * sizeof *yj);
        for (int m = 0; m < nh && m <= MICRO * j; m++) {
            const double *um = u + ((size_t)MICRO * j - m) * C;
            for (int ch = 0; ch < C; ch++) yj[ch] += h[m] * um[ch];
        }
    }
    free(u);
    return 0;
}

/* Run r's GLM on the noiseless BOLD and on BOLD + noise side by side (2C responses):
 * betas into resp_clean and resp, the noisy series into bold. */
static int glm_run(const scan_config *c, scan_result *out, int r, const double *clean, char *err) {
    int ns = out->n_scans[r], C = out->channels, n = out->stimuli, p;
    double *X = NULL;
    if (scan_design(out->onset_s + (size_t)r * n, out->dur_s, n, ns, c->tr_s, c->hp_cutoff_s, &X, &p, err)) return -1;
    double *Y = malloc((size_t)ns * 2 * C * sizeof *Y), *e = malloc((size_t)ns * sizeof *e);
    double *B = malloc((size_t)p * 2 * C * sizeof *B);
    if (!Y || !e || !B) { free(X); free(Y); free(e); free(B); return tb_fail(err, "out of memory for the GLM"); }
    tb_rng g;
    rng_stream(&g, scan_session_seed(c), SCAN_STREAM_NOISE(r));
    for (int ch = 0; ch < C; ch++) {
        scan_fmri_noise(&g, ns, c->ar, c->frac_ar, c->frac_drift, e);
        for (int j = 0; j < ns; j++) {
            double y = clean[(size_t)j * C + ch];
            Y[(size_t)j * 2 * C + ch] = y;
            Y[(size_t)j * 2 * C + C + ch] = y + out->noise_sd * e[j];
        }
    }
    int rc = scan_glm(X, ns, p, Y, 2 * C, B, err);
    for (int i = 0; !rc && i < n; i++)
        for (int ch = 0; ch < C; ch++) {
            out->resp_clean[((size_t)r * n + i) * C + ch] = B[(size_t)i * 2 * C + ch];
            out->resp[((size_t)r * n + i) * C + ch] = B[(size_t)i * 2 * C + C + ch];
        }
    float *bold = out->bold + (size_t)r * out->max_scans * C;
    for (int j = 0; j < out->max_scans; j++)
        for (int ch = 0; ch < C; ch++) bold[(size_t)j * C + ch] = j < ns ? (float)Y[(size_t)j * 2 * C + C + ch] : NAN;
    free(X); free(Y); free(e); free(B);
    return rc;
}

int scan_fmri_run(const scan_brain *b, const rec_stimuli *s, const scan_config *c, const double *wT, scan_result *out,
                  char *err) {
    if (plan_runs(s, c, out, err)) return -1;
    int T = c->trials, C = c->channels, nh = scan_hrf_length(c->tr_s / MICRO);
    size_t per_run = (size_t)out->max_scans * C;
    double *h = malloc((size_t)nh * sizeof *h), *clean = malloc(T * per_run * sizeof *clean);
    double *sum = calloc(2 * (size_t)C, sizeof *sum);
    out->bold = malloc(T * per_run * sizeof *out->bold);
    scan_drive dr;
    int rc = !h || !clean || !sum || !out->bold ? tb_fail(err, "out of memory for %d runs of %d scans", T, out->max_scans)
                                                : scan_drive_alloc(&dr, s, b->steps_per_token, C, wT, err);
    if (rc) { free(h); free(clean); free(sum); return -1; }
    scan_hrf(c->tr_s / MICRO, h);
    long total = 0;
    for (int r = 0; r < T && !rc; r++) {   /* the noiseless BOLD of every run */
        rc = scan_drive_trial(b, s, scan_session_seed(c), r, &dr, err) || bold_run(&dr, c, out, r, h, nh, clean + r * per_run, err);
        for (size_t k = 0; !rc && k < (size_t)out->n_scans[r] * C; k++) {
            double y = clean[r * per_run + k];
            sum[k % C] += y;
            sum[C + k % C] += y * y;
        }
        total += out->n_scans[r];
    }
    scan_drive_free(&dr);
    if (!rc) scan_set_sd(out, sum, sum + C, (double)total, c->snr);
    for (int r = 0; r < T && !rc; r++) rc = glm_run(c, out, r, clean + r * per_run, err);
    free(h); free(clean); free(sum);
    return rc ? -1 : 0;
}
