/* study_verdict.c -- the seven findings of the study as pure functions of its numbers
 * (see include/study.h).  Lesson 17.
 *
 * Each finding is a statistic, a 95% interval and a rule fixed in advance:
 *   an effect the paper claims (S1, S2, S4, S5, S6, S7) is "reproduced" when its interval
 *   lies on the claimed side of zero (S4: beyond the random sets' 95th percentile),
 *   "contrary" when it lies on the other side, "not reproduced" when it covers zero;
 *   a claimed absence of effect (S3) is "reproduced" when the interval lies inside a
 *   margin fixed before the run (an equivalence test), "contrary" when it excludes zero;
 *   a finding whose inputs were not measured, or whose task was never learned, is
 *   "untestable".
 * Nothing here reads a file or a model: test_study.c builds the inputs by hand.
 */
#include "ablation.h"
#include "align.h"
#include "rng.h"
#include "study.h"
#include "sweep.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const study_verdict_name[STUDY_N_VERDICTS] = {"reproduced", "not reproduced", "contrary", "untestable"};

#define REPS 2000   /* hierarchical bootstrap draws */

/* ---- the statistics ------------------------------------------------------------------- */

static double mean_finite(const double *x, int n, size_t stride) {
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[(size_t)i * stride])) { s += x[(size_t)i * stride]; k++; }
    return k ? s / k : NAN;
}

/* The 95% percentile interval of v[n] (NaN with fewer than 20 values). */
static void interval(const double *v, int n, double *lo, double *hi) {
    *lo = n >= 20 ? abl_quantile(v, n, 0.025) : NAN;
    *hi = n >= 20 ? abl_quantile(v, n, 0.975) : NAN;
}

void study_hboot(const double *est, const double *x, int n, int boot, int reps, uint64_t seed, double *mean,
                 double *lo, double *hi) {
    *mean = mean_finite(est, n, 1);
    *lo = *hi = NAN;
    double *v = x && n > 0 && boot > 0 && reps > 0 ? malloc((size_t)reps * sizeof *v) : NULL;
    if (!v) return;
    tb_rng g;
    rng_seed(&g, rng_child_seed(seed, "study bootstrap", 0));
    int m = 0;
    for (int r = 0; r < reps; r++) {
        uint32_t b = rng_below(&g, (uint32_t)boot);   /* one stimulus resample for every unit */
        double s = 0;
        int k = 0;
        for (int i = 0; i < n; i++) {
            double y = x[(size_t)rng_below(&g, (uint32_t)n) * boot + b];
            if (isfinite(y)) { s += y; k++; }
        }
        if (k) v[m++] = s / k;
    }
    interval(v, m, lo, hi);
    free(v);
}

void study_slope(const double *x, const double *y, int n, double *b, double *lo, double *hi) {
    double mx = 0, my = 0, sxx = 0, sxy = 0, ssr = 0;
    *b = *lo = *hi = NAN;
    if (n < 3) return;
    for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) { sxx += (x[i] - mx) * (x[i] - mx); sxy += (x[i] - mx) * (y[i] - my); }
    if (!(sxx > 0) || !isfinite(sxy)) return;
    *b = sxy / sxx;
    for (int i = 0; i < n; i++) {
        double e = y[i] - my - *b * (x[i] - mx);
        ssr += e * e;
    }
    double half = sweep_t975(n - 2) * sqrt(ssr / (n - 2) / sxx);
    *lo = *b - half;
    *hi = *b + half;
}

/* ---- over training: statistics of one seed's snapshots, bootstrapped over snapshots ---- */

/* A statistic of seed s's snapshots idx[n] (a resample, or all of them). */
typedef double (*snap_stat)(const study_data *d, int s, const int *idx, int n);

static double corr_on(const double *a, const double *b, const int *idx, int n) {
    double x[256], y[256];
    if (n > 256) n = 256;
    for (int i = 0; i < n; i++) { x[i] = a[idx[i]]; y[i] = b[idx[i]]; }
    return rsa_pearson(x, y, n);
}

/* S1: r(alignment, formal competence). */
static double r_formal(const study_data *d, int s, const int *idx, int n) {
    size_t o = (size_t)s * d->t_snaps;
    return corr_on(d->t_align + o, d->t_formal + o, idx, n);
}

/* S7: r(alignment, formal) - r(alignment, functional). */
static double r_formal_minus_functional(const study_data *d, int s, const int *idx, int n) {
    size_t o = (size_t)s * d->t_snaps;
    return corr_on(d->t_align + o, d->t_formal + o, idx, n) - corr_on(d->t_align + o, d->t_functional + o, idx, n);
}

/* Seeds drawn with replacement, and each drawn seed's snapshots drawn with replacement
 * (a draw with fewer than 3 distinct snapshots is drawn again: r of 2 points is +-1). */
static void snap_boot(const study_data *d, snap_stat fn, uint64_t seed, double *mean, double *lo, double *hi) {
    int S = d->t_seeds, n = d->t_snaps < 256 ? d->t_snaps : 256, all[256], idx[256];
    double *est = malloc((size_t)S * sizeof *est), *v = malloc(REPS * sizeof *v);
    *mean = *lo = *hi = NAN;
    if (!est || !v) { free(est); free(v); return; }
    for (int i = 0; i < n; i++) all[i] = i;
    for (int s = 0; s < S; s++) est[s] = fn(d, s, all, n);
    *mean = mean_finite(est, S, 1);
    tb_rng g;
    rng_seed(&g, rng_child_seed(seed, "snapshot bootstrap", 0));
    int m = 0;
    for (int r = 0; r < REPS; r++) {
        double sum = 0;
        int k = 0;
        for (int j = 0; j < S; j++) {
            int s = (int)rng_below(&g, (uint32_t)S), distinct = 0;
            for (int tries = 0; tries < 20 && distinct < 3; tries++) {
                unsigned char seen[256] = {0};
                distinct = 0;
                for (int i = 0; i < n; i++) {
                    idx[i] = (int)rng_below(&g, (uint32_t)n);
                    distinct += !seen[idx[i]];
                    seen[idx[i]] = 1;
                }
            }
            double y = distinct >= 3 ? fn(d, s, idx, n) : NAN;
            if (isfinite(y)) { sum += y; k++; }
        }
        if (k) v[m++] = sum / k;
    }
    interval(v, m, lo, hi);
    free(est);
    free(v);
}

/* ---- the findings ----------------------------------------------------------------------- */

static void say(study_finding *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
}

static int untestable(study_finding *f, const char *why) {
    f->value = f->ci_low = f->ci_high = NAN;
    f->verdict = STUDY_UNTESTABLE;
    say(f, "%s", why);
    return 0;
}

/* The usual rule for a claimed positive effect: its interval above 0, below 0, or across. */
static study_verdict sign_rule(double lo, double hi) {
    return lo > 0 ? STUDY_REPRODUCED : hi < 0 ? STUDY_CONTRARY : STUDY_NOT_REPRODUCED;
}

static int s1(const study_data *d, uint64_t seed, study_finding *f) {
    if (d->t_seeds < 1 || d->t_snaps < 4 || !d->t_align || !d->t_formal)
        return untestable(f, "untestable: fewer than 4 snapshots of the main model were measured.");
    snap_boot(d, r_formal, seed, &f->value, &f->ci_low, &f->ci_high);
    double rise = NAN, rlo = NAN, rhi = NAN;
    int e = d->t_early;
    if (e >= 1 && e < d->t_snaps && d->t_rise_b) {
        double *est = malloc((size_t)d->t_seeds * sizeof *est);
        for (int s = 0; est && s < d->t_seeds; s++)
            est[s] = d->t_align[(size_t)s * d->t_snaps + e] - d->t_align[(size_t)s * d->t_snaps];
        if (est) study_hboot(est, d->t_rise_b, d->t_seeds, d->boot, REPS, rng_child_seed(seed, "S1 rise", 0), &rise, &rlo, &rhi);
        free(est);
    }
    if (isnan(f->ci_low) || isnan(rlo))
        return untestable(f, "untestable: no interval for the correlation or for the early rise (too few snapshots, or no early snapshot).");
    study_verdict tr = sign_rule(f->ci_low, f->ci_high), er = sign_rule(rlo, rhi);
    f->verdict = tr == STUDY_CONTRARY || er == STUDY_CONTRARY ? STUDY_CONTRARY
               : tr == STUDY_REPRODUCED && er == STUDY_REPRODUCED ? STUDY_REPRODUCED : STUDY_NOT_REPRODUCED;
    say(f, "%s: across %d snapshots alignment %s minimal-pair accuracy (r = %.2f [%.2f, %.2f]) and %s by step %lld "
           "(%+.3f RSA [%+.3f, %+.3f] from step 0).",
        study_verdict_name[f->verdict], d->t_snaps,
        tr == STUDY_REPRODUCED ? "tracks" : tr == STUDY_CONTRARY ? "moves against" : "is not detectably related to",
        f->value, f->ci_low, f->ci_high,
        er == STUDY_REPRODUCED ? "rose" : er == STUDY_CONTRARY ? "fell" : "did not detectably change",
        d->t_step[e], rise, rlo, rhi);
    return 0;
}

static int s2(const study_data *d, uint64_t seed, study_finding *f) {
    int S = d->c_seeds, B = d->boot;
    if (S < 1 || !d->c_trained_b || !d->c_untrained_b || !d->c_scrambled_b)
        return untestable(f, "untestable: the trained model and both controls were not all measured.");
    double *est = malloc((size_t)S * 3 * sizeof *est), *x = malloc((size_t)S * B * 3 * sizeof *x);
    if (!est || !x) { free(est); free(x); return untestable(f, "untestable: out of memory."); }
    for (int s = 0; s < S; s++) {
        est[s] = d->c_trained[s] - fmax(d->c_untrained[s], d->c_scrambled[s]);
        est[S + s] = d->c_trained[s] - d->c_untrained[s];
        est[2 * S + s] = d->c_trained[s] - d->c_scrambled[s];
        for (int b = 0; b < B; b++) {
            size_t i = (size_t)s * B + b;
            x[i] = d->c_trained_b[i] - fmax(d->c_untrained_b[i], d->c_scrambled_b[i]);
            x[(size_t)S * B + i] = d->c_trained_b[i] - d->c_untrained_b[i];
            x[(size_t)2 * S * B + i] = d->c_trained_b[i] - d->c_scrambled_b[i];
        }
    }
    double u, ulo, uhi, c, clo, chi;
    study_hboot(est, x, S, B, REPS, rng_child_seed(seed, "S2", 0), &f->value, &f->ci_low, &f->ci_high);
    study_hboot(est + S, x + (size_t)S * B, S, B, REPS, rng_child_seed(seed, "S2", 1), &u, &ulo, &uhi);
    study_hboot(est + 2 * S, x + (size_t)2 * S * B, S, B, REPS, rng_child_seed(seed, "S2", 2), &c, &clo, &chi);
    free(est);
    free(x);
    if (isnan(f->ci_low)) return untestable(f, "untestable: no bootstrap interval (no stimulus resamples).");
    f->verdict = sign_rule(f->ci_low, f->ci_high);
    say(f, "%s: the trained GPT's best layer aligns %+.3f [%+.3f, %+.3f] RSA beyond its untrained weights and "
           "%+.3f [%+.3f, %+.3f] beyond the same seed trained on scrambled words (%d seed%s).",
        study_verdict_name[f->verdict], u, ulo, uhi, c, clo, chi, S, S > 1 ? "s" : "");
    return 0;
}

static int s3(const study_data *d, uint64_t seed, study_finding *f) {
    (void)seed;
    int n = d->w_n, distinct = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= d->w_width[j] == d->w_width[i];
        distinct += !seen;
    }
    if (n < 3 || distinct < 2) return untestable(f, "untestable: fewer than two widths (or three models) were measured.");
    double *lx = malloc((size_t)n * sizeof *lx), raw, rlo, rhi;
    if (!lx) return untestable(f, "untestable: out of memory.");
    for (int i = 0; i < n; i++) lx[i] = log2(d->w_width[i]);
    study_slope(lx, d->w_units, n, &f->value, &f->ci_low, &f->ci_high);
    study_slope(lx, d->w_raw, n, &raw, &rlo, &rhi);
    free(lx);
    if (isnan(f->ci_low)) return untestable(f, "untestable: the slope has no interval.");
    f->verdict = f->ci_low > -STUDY_S3_MARGIN && f->ci_high < STUDY_S3_MARGIN ? STUDY_REPRODUCED
               : f->ci_low > 0 || f->ci_high < 0 ? STUDY_CONTRARY : STUDY_NOT_REPRODUCED;
    say(f, "%s: at %d random units encoding r changes %+.3f [%+.3f, %+.3f] per doubling of width (%s), against "
           "%+.3f [%+.3f, %+.3f] with every unit.",
        study_verdict_name[f->verdict], d->w_units_k, f->value, f->ci_low, f->ci_high,
        f->verdict == STUDY_REPRODUCED ? "inside the no-effect margin of +-0.03"
        : f->verdict == STUDY_CONTRARY ? "size still predicts it" : "too uncertain to tell",
        raw, rlo, rhi);
    return 0;
}

/* Percentile of seed s's localized harm among its random sets idx[n] (NULL: all of them);
 * measure 0 = loss (higher is harm), 1 = accuracy (lower is harm). */
static double s4_pct(const study_data *d, int s, int measure, const int *idx, double *tmp) {
    const double *rnd = (measure ? d->a_acc_rand : d->a_loss_rand) + (size_t)s * d->a_sets;
    double local = (measure ? d->a_acc : d->a_loss)[s];
    for (int i = 0; i < d->a_sets; i++) tmp[i] = rnd[idx ? idx[i] : i];
    abl_summary q;
    if (!isfinite(local) || abl_summarize(local, tmp, d->a_sets, !measure, &q, NULL)) return NAN;
    return q.percentile;
}

/* The smaller of the two measures' mean percentiles over seeds seeds[k]; *pl, *pa each one. */
static double s4_stat(const study_data *d, const int *seeds, int k, int resample, tb_rng *g, double *pl, double *pa) {
    double sum[2] = {0, 0}, *tmp = malloc((size_t)d->a_sets * sizeof *tmp);
    int cnt[2] = {0, 0}, *idx = resample ? malloc((size_t)d->a_sets * sizeof *idx) : NULL;
    if (!tmp || (resample && !idx)) { free(tmp); free(idx); return NAN; }
    for (int j = 0; j < k; j++)
        for (int m = 0; m < 2; m++) {
            for (int i = 0; resample && i < d->a_sets; i++) idx[i] = (int)rng_below(g, (uint32_t)d->a_sets);
            double p = s4_pct(d, seeds[j], m, idx, tmp);
            if (isfinite(p)) { sum[m] += p; cnt[m]++; }
        }
    free(tmp);
    free(idx);
    *pl = cnt[0] ? sum[0] / cnt[0] : NAN;
    *pa = cnt[1] ? sum[1] / cnt[1] : NAN;
    return isnan(*pa) ? *pl : isnan(*pl) ? *pa : fmin(*pl, *pa);
}

static int s4(const study_data *d, uint64_t seed, study_finding *f) {
    int S = d->a_seeds;
    if (S < 1 || d->a_sets < 1 || !d->a_loss_rand) return untestable(f, "untestable: no ablation was measured.");
    int *all = malloc((size_t)S * sizeof *all), *pick = malloc((size_t)S * sizeof *pick);
    double *v = malloc(REPS * sizeof *v), pl = NAN, pa = NAN, ql, qa;
    if (!all || !pick || !v) { free(all); free(pick); free(v); return untestable(f, "untestable: out of memory."); }
    for (int s = 0; s < S; s++) all[s] = s;
    tb_rng g;
    rng_seed(&g, rng_child_seed(seed, "S4", 0));
    f->value = s4_stat(d, all, S, 0, &g, &pl, &pa);
    int m = 0;
    for (int r = 0; r < REPS; r++) {
        for (int s = 0; s < S; s++) pick[s] = (int)rng_below(&g, (uint32_t)S);
        double y = s4_stat(d, pick, S, 1, &g, &ql, &qa);
        if (isfinite(y)) v[m++] = y;
    }
    interval(v, m, &f->ci_low, &f->ci_high);
    free(all); free(pick); free(v);
    if (isnan(f->value)) return untestable(f, "untestable: the ablations gave no finite score.");
    double hi = isnan(pa) ? pl : fmax(pl, pa);
    f->verdict = f->value >= STUDY_S4_PCT ? STUDY_REPRODUCED : hi <= 100 - STUDY_S4_PCT ? STUDY_CONTRARY
                                                                                    : STUDY_NOT_REPRODUCED;
    say(f, "%s: the localized units do more harm than %.0f%% of %d random sets on validation loss and %.0f%% on "
           "minimal pairs (%d seed%s; %s).",
        study_verdict_name[f->verdict], pl, d->a_sets, pa, S, S > 1 ? "s" : "",
        f->verdict == STUDY_REPRODUCED ? "beyond the 95th percentile on both"
        : f->verdict == STUDY_CONTRARY ? "less harm than most random sets on both" : "not beyond the 95th percentile on both");
    return 0;
}

/* S5 on model m (resample b, or b < 0: all stimuli): best middle layer minus the better end. */
static double middle_minus_ends(const study_data *d, int m, int b) {
    int L = d->p_layers[m];
    const double *s = b < 0 ? d->p_score[m] : d->p_score_b[m] + (size_t)b * L;
    double mid = -INFINITY;
    for (int l = 1; l < L - 1; l++) mid = fmax(mid, s[l]);
    return mid - fmax(s[0], s[L - 1]);
}

/* S6 on pair m: mean diagonal CKA minus mean off-diagonal. */
static double diag_minus_off(const study_data *d, int m, int b) {
    int L = d->s_layers[m];
    const double *c = b < 0 ? d->s_cka[m] : d->s_cka_b[m] + (size_t)b * L * L;
    double dg = 0, off = 0;
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++) {
            if (i == j) dg += c[i * L + j];
            else off += c[i * L + j];
        }
    return dg / L - off / (L * (L - 1));
}

/* est[n] and x[n][boot] of a per-unit statistic, then the hierarchical bootstrap. */
static void per_unit(const study_data *d, int n, double (*fn)(const study_data *, int, int), uint64_t seed,
                     study_finding *f) {
    double *est = malloc((size_t)n * sizeof *est), *x = malloc((size_t)n * d->boot * sizeof *x);
    f->value = f->ci_low = f->ci_high = NAN;
    for (int m = 0; est && x && m < n; m++) {
        est[m] = fn(d, m, -1);
        for (int b = 0; b < d->boot; b++) x[(size_t)m * d->boot + b] = fn(d, m, b);
    }
    if (est && x) study_hboot(est, x, n, d->boot, REPS, seed, &f->value, &f->ci_low, &f->ci_high);
    free(est);
    free(x);
}

static int s5(const study_data *d, uint64_t seed, study_finding *f) {
    if (d->p_n < 1 || d->boot < 1) return untestable(f, "untestable: no model with a middle layer (depth >= 2) was measured.");
    per_unit(d, d->p_n, middle_minus_ends, rng_child_seed(seed, "S5", 0), f);
    if (isnan(f->ci_low)) return untestable(f, "untestable: no bootstrap interval.");
    double rel = 0;   /* where the best layer sits, mean over models */
    for (int m = 0; m < d->p_n; m++) {
        int L = d->p_layers[m], best = 0;
        for (int l = 1; l < L; l++)
            if (d->p_score[m][l] > d->p_score[m][best]) best = l;
        rel += (double)best / (L - 1) / d->p_n;
    }
    f->verdict = sign_rule(f->ci_low, f->ci_high);
    say(f, "%s: the best middle layer aligns %+.3f [%+.3f, %+.3f] RSA beyond the better of the embedding and the last "
           "layer (%d model%s); the best layer sits at relative depth %.2f on average.",
        study_verdict_name[f->verdict], f->value, f->ci_low, f->ci_high, d->p_n, d->p_n > 1 ? "s" : "", rel);
    return 0;
}

static int s6(const study_data *d, uint64_t seed, study_finding *f) {
    if (d->s_n < 1 || d->boot < 1) return untestable(f, "untestable: fewer than two seeds of a configuration.");
    per_unit(d, d->s_n, diag_minus_off, rng_child_seed(seed, "S6", 0), f);
    if (isnan(f->ci_low)) return untestable(f, "untestable: no bootstrap interval.");
    f->verdict = sign_rule(f->ci_low, f->ci_high);
    say(f, "%s: layer l of one seed is %+.3f [%+.3f, %+.3f] more CKA-similar to layer l of another seed than to "
           "other layers (%d seed pair%s).",
        study_verdict_name[f->verdict], f->value, f->ci_low, f->ci_high, d->s_n, d->s_n > 1 ? "s" : "");
    return 0;
}

/* The no-language population is ~0 when, for every seed, the RSA interval and the other
 * well-posed scores lie within +-STUDY_S7_ZERO. */
static int nolang_zero(const study_data *d, double *worst) {
    int ok = 1;
    *worst = 0;
    for (int s = 0; s < d->z_seeds; s++) {
        double v[4] = {d->z_rsa_lo[s], d->z_rsa_hi[s], d->z_cka_deb[s], d->z_enc[s]};
        for (int k = 0; k < 4; k++)
            if (isfinite(v[k])) {
                *worst = fmax(*worst, fabs(v[k]));
                ok &= fabs(v[k]) <= STUDY_S7_ZERO;
            }
        ok &= isfinite(v[0]) && isfinite(v[1]);
    }
    return ok;
}

static int s7(const study_data *d, uint64_t seed, study_finding *f) {
    if (d->t_seeds < 1 || d->t_snaps < 4 || !d->t_functional)
        return untestable(f, "untestable: fewer than 4 snapshots with fact recall were measured.");
    if (d->z_seeds < 1) return untestable(f, "untestable: the no-language population was not measured.");
    double facts = -INFINITY;
    for (int i = 0; i < d->t_snaps; i++) facts = fmax(facts, mean_finite(d->t_functional + i, d->t_seeds, (size_t)d->t_snaps));
    if (!(facts >= STUDY_S7_FACTS)) {
        untestable(f, "");
        say(f, "untestable: fact recall reached only %.2f (chance 0.50; needs %.2f): the facts were not learned in %lld "
               "steps, so functional competence never varied enough to be correlated with.",
            facts, STUDY_S7_FACTS, d->t_step[d->t_snaps - 1]);
        return 0;
    }
    snap_boot(d, r_formal_minus_functional, rng_child_seed(seed, "S7", 0), &f->value, &f->ci_low, &f->ci_high);
    if (isnan(f->ci_low)) return untestable(f, "untestable: no interval for the difference of correlations.");
    double worst;
    int zero = nolang_zero(d, &worst);
    study_verdict v = sign_rule(f->ci_low, f->ci_high);
    f->verdict = v == STUDY_REPRODUCED && !zero ? STUDY_NOT_REPRODUCED : v;
    say(f, "%s: alignment correlates %+.2f [%+.2f, %+.2f] more with minimal pairs than with fact recall (which reached "
           "%.2f), and the no-language population scores at most %.3f in absolute value (%s).",
        study_verdict_name[f->verdict], f->value, f->ci_low, f->ci_high, facts, worst,
        zero ? "~0, as it should" : "not ~0: the control fails");
    return 0;
}

static const struct {
    const char *id, *claim, *statistic, *rule;
    int (*fn)(const study_data *, uint64_t, study_finding *);
} findings[STUDY_N_FINDINGS] = {
    {"S1", "alignment rises early in training and tracks formal competence",
     "Pearson r across snapshots between the final best layer's RSA with the network and minimal-pair accuracy "
     "(mean over seeds); and the RSA gained from step 0 to the last snapshot within the first 10% of training",
     "reproduced when both intervals lie above 0; contrary when either lies below 0", s1},
    {"S2", "untrained and scrambled-word controls align less than the trained model",
     "best-layer RSA of the trained GPT minus the larger of its untrained (step 0) and scrambled-word controls' "
     "(paired over stimuli, mean over seeds)",
     "reproduced when the interval lies above 0; contrary when below 0", s2},
    {"S3", "model size does not predict alignment once the number of features is controlled",
     "slope of best-layer encoding r at K random units against log2(d_model), per doubling of width (least "
     "squares over widths x seeds, Student-t interval)",
     "reproduced when the interval lies within +-0.03; contrary when it excludes 0 (size still predicts)", s3},
    {"S4", "ablating the localized language units hurts language more than ablating random units",
     "percentile of the localized set's harm among random sets of its size at the same layer: the smaller of the "
     "validation-loss and minimal-pair percentiles (mean over seeds)",
     "reproduced at >= 95 (beyond the random sets' 95th percentile on both); contrary when both are <= 5", s4},
    {"S5", "middle layers align best",
     "RSA of the best middle layer (relative depth strictly between 0 and 1) minus the better of the embedding "
     "(0) and the last layer (1), mean over models",
     "reproduced when the interval lies above 0; contrary when below 0", s5},
    {"S6", "two seeds of one model correspond layer by layer",
     "mean linear CKA of layer l of one seed with layer l of another minus the mean over different layers (every "
     "seed pair of every configuration)",
     "reproduced when the interval lies above 0; contrary when below 0", s6},
    {"S7", "alignment tracks formal more than functional competence; a population without language input aligns ~0",
     "Pearson r across snapshots of alignment with minimal-pair accuracy minus with fact recall (mean over seeds); "
     "the no-language population's RSA interval, debiased CKA and encoding r",
     "reproduced when the difference lies above 0 and every no-language score is within +-0.05; contrary when the "
     "difference lies below 0; untestable when fact recall never reaches 0.75", s7},
};

void study_decide(const study_data *d, uint64_t seed, study_finding f[STUDY_N_FINDINGS]) {
    for (int i = 0; i < STUDY_N_FINDINGS; i++) {
        memset(&f[i], 0, sizeof f[i]);
        f[i].id = findings[i].id;
        f[i].claim = findings[i].claim;
        f[i].statistic = findings[i].statistic;
        f[i].rule = findings[i].rule;
        findings[i].fn(d, rng_child_seed(seed, "study finding", (uint64_t)i), &f[i]);
    }
}

void study_data_free(study_data *d) {
    double **arrays[] = {&d->t_align, &d->t_formal, &d->t_functional, &d->t_rise_b, &d->c_trained, &d->c_untrained,
                         &d->c_scrambled, &d->c_trained_b, &d->c_untrained_b, &d->c_scrambled_b, &d->w_width,
                         &d->w_raw, &d->w_units, &d->a_loss, &d->a_acc, &d->a_loss_rand, &d->a_acc_rand,
                         &d->z_rsa, &d->z_rsa_lo, &d->z_rsa_hi, &d->z_cka_deb, &d->z_enc};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) free(*arrays[i]);
    for (int m = 0; m < d->p_n; m++) { free(d->p_score[m]); free(d->p_score_b[m]); }
    for (int m = 0; m < d->s_n; m++) { free(d->s_cka[m]); free(d->s_cka_b[m]); }
    free(d->p_score); free(d->p_score_b); free(d->p_layers);
    free(d->s_cka); free(d->s_cka_b); free(d->s_layers);
    free(d->t_step);
    memset(d, 0, sizeof *d);
}
