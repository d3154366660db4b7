/* test_study.c -- the study's verdicts are computed, never written: synthetic numbers where
 * each finding holds by construction must give "reproduced", numbers where it fails by
 * construction "contrary" (or "not reproduced"), and missing inputs "untestable".  Also
 * the statistics under them: the hierarchical bootstrap and the least-squares slope
 * against hand-worked values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rng.h"
#include "study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BOOT = 50, SEEDS = 3, SNAPS = 9, SETS = 100 };

static double *arr(int n) {
    double *x = calloc((size_t)n, sizeof *x);
    assert_non_null(x);
    return x;
}

/* v + noise of s.d. sd (deterministic). */
static double jit(tb_rng *g, double v, double sd) { return v + sd * rng_normal(g); }

static study_finding decide(const study_data *d, int id) {
    static const char *const ids[STUDY_N_FINDINGS] = {"S1", "S2", "S3", "S4", "S5", "S6", "S7"};
    study_finding f[STUDY_N_FINDINGS];
    study_decide(d, 7, f);
    assert_string_equal(f[id].id, ids[id]);
    assert_true(strlen(f[id].why) > 20);
    assert_non_null(strstr(f[id].why, study_verdict_name[f[id].verdict]));
    if (f[id].verdict != STUDY_UNTESTABLE) assert_true(f[id].ci_low <= f[id].ci_high);
    return f[id];
}

/* ---- S1 and S7: over training ------------------------------------------------------------- */

/* Formal competence rises early (a sigmoid around step 150), functional late (linear in
 * the step, to `facts`); alignment follows `follow` (0: formal, 1: functional, -1: minus
 * formal), lowered by `dip` at steps 10 and 30; `early` is the early snapshot.  The
 * resamples of the early rise scatter around its value on all stimuli. */
static void training(study_data *d, int follow, double facts, int early, double dip, tb_rng *g) {
    static const long long step[SNAPS] = {0, 10, 30, 100, 300, 600, 1000, 2000, 3000};
    d->boot = BOOT;
    d->t_seeds = SEEDS;
    d->t_snaps = SNAPS;
    d->t_step = malloc(sizeof step);
    memcpy(d->t_step, step, sizeof step);
    d->t_early = early;
    d->t_align = arr(SEEDS * SNAPS);
    d->t_formal = arr(SEEDS * SNAPS);
    d->t_functional = arr(SEEDS * SNAPS);
    d->t_rise_b = arr(SEEDS * BOOT);
    for (int s = 0; s < SEEDS; s++) {
        double *a = d->t_align + (size_t)s * SNAPS;
        for (int i = 0; i < SNAPS; i++) {
            double fo = 0.5 + 0.5 / (1 + exp(-(double)(step[i] - 150) / 40)), fu = 0.5 + (facts - 0.5) * step[i] / 3000.0;
            size_t k = (size_t)s * SNAPS + i;
            d->t_formal[k] = jit(g, fo, 0.005);
            d->t_functional[k] = jit(g, fu, 0.005);
            a[i] = jit(g, follow == 1 ? fu : follow == 0 ? 0.2 + 0.3 * fo : 0.6 - 0.3 * fo, 0.003);
            if (i == 1 || i == 2) a[i] -= dip;
        }
        for (int b = 0; b < BOOT; b++) d->t_rise_b[(size_t)s * BOOT + b] = jit(g, a[early] - a[0], 0.01);
    }
}

static void nolang(study_data *d, double level, tb_rng *g) {
    d->z_seeds = SEEDS;
    d->z_rsa = arr(SEEDS); d->z_rsa_lo = arr(SEEDS); d->z_rsa_hi = arr(SEEDS);
    d->z_cka_deb = arr(SEEDS); d->z_enc = arr(SEEDS);
    for (int s = 0; s < SEEDS; s++) {
        d->z_rsa[s] = jit(g, level, 0.002);
        d->z_rsa_lo[s] = d->z_rsa[s] - 0.02;
        d->z_rsa_hi[s] = d->z_rsa[s] + 0.02;
        d->z_cka_deb[s] = jit(g, level, 0.002);
        d->z_enc[s] = jit(g, level, 0.002);
    }
}

static void s1_tracks_and_rises(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 1);
    study_data d = {0};
    training(&d, 0, 1.0, 4, 0, &g);       /* tracks grammar, most of it by step 300 */
    study_finding f = decide(&d, 0);
    assert_int_equal(f.verdict, STUDY_REPRODUCED);
    assert_true(f.value > 0.9);
    assert_non_null(strstr(f.why, "rose by step 300"));
    study_data_free(&d);
    training(&d, -1, 1.0, 4, 0, &g);      /* alignment falls as grammar is learned */
    f = decide(&d, 0);
    assert_int_equal(f.verdict, STUDY_CONTRARY);
    assert_true(f.value < -0.9);
    study_data_free(&d);
    training(&d, 0, 1.0, 2, 0.05, &g);    /* tracks grammar, but dips early (step 30) */
    f = decide(&d, 0);
    assert_int_equal(f.verdict, STUDY_CONTRARY);
    assert_true(f.value > 0.5);
    assert_non_null(strstr(f.why, "fell by step 30"));
    study_data_free(&d);
    training(&d, 0, 1.0, 1, 0, &g);       /* tracks grammar, nothing yet at step 10 */
    assert_int_equal(decide(&d, 0).verdict, STUDY_NOT_REPRODUCED);
    study_data_free(&d);
    assert_int_equal(decide(&d, 0).verdict, STUDY_UNTESTABLE);
}

static void s7_formal_over_functional(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 2);
    study_data d = {0};
    training(&d, 0, 1.0, 4, 0, &g);
    nolang(&d, 0.0, &g);
    study_finding f = decide(&d, 6);
    assert_int_equal(f.verdict, STUDY_REPRODUCED);
    assert_true(f.ci_low > 0);
    study_data_free(&d);
    training(&d, 1, 1.0, 4, 0, &g);    /* alignment follows the facts instead */
    nolang(&d, 0.0, &g);
    assert_int_equal(decide(&d, 6).verdict, STUDY_CONTRARY);
    study_data_free(&d);
    training(&d, 0, 1.0, 4, 0, &g);    /* the no-language control aligns: not ~0 */
    nolang(&d, 0.3, &g);
    f = decide(&d, 6);
    assert_int_equal(f.verdict, STUDY_NOT_REPRODUCED);
    assert_non_null(strstr(f.why, "control fails"));
    study_data_free(&d);
    training(&d, 0, 0.6, 4, 0, &g);    /* the facts were never learned */
    nolang(&d, 0.0, &g);
    f = decide(&d, 6);
    assert_int_equal(f.verdict, STUDY_UNTESTABLE);
    assert_non_null(strstr(f.why, "reached only 0.6"));
    assert_true(isnan(f.value));
    study_data_free(&d);
    training(&d, 0, 1.0, 4, 0, &g);    /* no no-language population */
    assert_int_equal(decide(&d, 6).verdict, STUDY_UNTESTABLE);
    study_data_free(&d);
}

/* ---- S2: the controls ------------------------------------------------------------------- */

static void controls(study_data *d, double trained, double untrained, double scrambled, tb_rng *g) {
    d->boot = BOOT;
    d->c_seeds = SEEDS;
    double v[3] = {trained, untrained, scrambled}, **pt[3] = {&d->c_trained, &d->c_untrained, &d->c_scrambled},
           **pb[3] = {&d->c_trained_b, &d->c_untrained_b, &d->c_scrambled_b};
    for (int k = 0; k < 3; k++) {
        *pt[k] = arr(SEEDS);
        *pb[k] = arr(SEEDS * BOOT);
        for (int s = 0; s < SEEDS; s++) {
            (*pt[k])[s] = jit(g, v[k], 0.01);
            for (int b = 0; b < BOOT; b++) (*pb[k])[s * BOOT + b] = jit(g, (*pt[k])[s], 0.02);
        }
    }
}

static void s2_controls_align_less(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 3);
    study_data d = {0};
    controls(&d, 0.5, 0.3, 0.35, &g);
    study_finding f = decide(&d, 1);
    assert_int_equal(f.verdict, STUDY_REPRODUCED);
    assert_true(fabs(f.value - 0.15) < 0.03);
    study_data_free(&d);
    controls(&d, 0.4, 0.5, 0.3, &g);   /* the untrained weights align more */
    assert_int_equal(decide(&d, 1).verdict, STUDY_CONTRARY);
    study_data_free(&d);
    controls(&d, 0.4, 0.3, 0.4, &g);   /* the scrambled control aligns as well */
    assert_int_equal(decide(&d, 1).verdict, STUDY_NOT_REPRODUCED);
    free(d.c_scrambled_b);
    d.c_scrambled_b = NULL;            /* no scrambled control */
    assert_int_equal(decide(&d, 1).verdict, STUDY_UNTESTABLE);
    study_data_free(&d);
}

/* ---- S3: size at a fixed number of units ------------------------------------------------- */

static void widths(study_data *d, double slope_units, tb_rng *g) {
    static const double w[3] = {32, 64, 128};
    d->w_n = 3 * SEEDS;
    d->w_units_k = 16;
    d->w_width = arr(d->w_n); d->w_raw = arr(d->w_n); d->w_units = arr(d->w_n);
    for (int i = 0; i < d->w_n; i++) {
        d->w_width[i] = w[i / SEEDS];
        d->w_raw[i] = jit(g, 0.5 + 0.1 * log2(w[i / SEEDS] / 32), 0.005);
        d->w_units[i] = jit(g, 0.5 + slope_units * log2(w[i / SEEDS] / 32), 0.005);
    }
}

static void s3_size_at_fixed_units(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 4);
    study_data d = {0};
    widths(&d, 0.0, &g);
    study_finding f = decide(&d, 2);
    assert_int_equal(f.verdict, STUDY_REPRODUCED);
    assert_true(fabs(f.value) < 0.01);
    study_data_free(&d);
    widths(&d, 0.1, &g);               /* wider still aligns better at 16 units */
    f = decide(&d, 2);
    assert_int_equal(f.verdict, STUDY_CONTRARY);
    assert_true(fabs(f.value - 0.1) < 0.01);
    study_data_free(&d);
    widths(&d, 0.0, &g);
    for (int i = 0; i < d.w_n; i++) d.w_units[i] += 0.2 * rng_normal(&g);   /* too noisy to tell */
    assert_int_equal(decide(&d, 2).verdict, STUDY_NOT_REPRODUCED);
    for (int i = 0; i < d.w_n; i++) d.w_width[i] = 64;                      /* one width */
    assert_int_equal(decide(&d, 2).verdict, STUDY_UNTESTABLE);
    study_data_free(&d);
}

static void slope_by_hand(void **state) {
    (void)state;
    /* y = 1 + 2x + e, e = (+1, -1, -1, +1) at x = 0..3: b = 2 + sum((x-1.5) e) / 5 = 2, and
     * SSR = 4 (the e's minus their fit, which is 0), se = sqrt(4 / 2 / 5), t(2) = 4.303. */
    double x[4] = {0, 1, 2, 3}, y[4] = {2, 2, 4, 8}, b, lo, hi;
    study_slope(x, y, 4, &b, &lo, &hi);
    assert_true(fabs(b - 2) < 1e-12);
    assert_true(fabs((hi - b) - 4.303 * sqrt(0.4)) < 1e-9);
    study_slope(x, y, 2, &b, &lo, &hi);
    assert_true(isnan(b) && isnan(lo));
}

/* ---- S4: localized vs random ablations ------------------------------------------------- */

static void ablations(study_data *d, double loss, double acc, tb_rng *g) {
    d->a_seeds = SEEDS;
    d->a_sets = SETS;
    d->a_loss = arr(SEEDS); d->a_acc = arr(SEEDS);
    d->a_loss_rand = arr(SEEDS * SETS); d->a_acc_rand = arr(SEEDS * SETS);
    for (int s = 0; s < SEEDS; s++) {
        d->a_loss[s] = loss;
        d->a_acc[s] = acc;
        for (int i = 0; i < SETS; i++) {
            d->a_loss_rand[s * SETS + i] = jit(g, 2.0, 0.05);
            d->a_acc_rand[s * SETS + i] = jit(g, 0.9, 0.02);
        }
    }
}

static void s4_localized_vs_random(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 5);
    study_data d = {0};
    ablations(&d, 3.0, 0.6, &g);        /* far more harm on both measures */
    study_finding f = decide(&d, 3);
    assert_int_equal(f.verdict, STUDY_REPRODUCED);
    assert_true(f.value == 100 && f.ci_low == 100);
    study_data_free(&d);
    ablations(&d, 3.0, 0.9, &g);        /* the loss rises, the pairs do not move */
    f = decide(&d, 3);
    assert_int_equal(f.verdict, STUDY_NOT_REPRODUCED);
    assert_true(f.value > 20 && f.value < 80);
    study_data_free(&d);
    ablations(&d, 1.5, 0.99, &g);       /* less harm than every random set */
    f = decide(&d, 3);
    assert_int_equal(f.verdict, STUDY_CONTRARY);
    assert_true(f.value == 0);
    study_data_free(&d);
    assert_int_equal(decide(&d, 3).verdict, STUDY_UNTESTABLE);
}

/* ---- S5 and S6: layers ------------------------------------------------------------------- */

/* n models of 3 and 5 layers with profile p(relative depth). */
static void profiles(study_data *d, double (*p)(double), tb_rng *g) {
    int n = 4;
    d->boot = BOOT;
    d->p_n = n;
    d->p_layers = calloc((size_t)n, sizeof(int));
    d->p_score = calloc((size_t)n, sizeof(double *));
    d->p_score_b = calloc((size_t)n, sizeof(double *));
    for (int m = 0; m < n; m++) {
        int L = m % 2 ? 5 : 3;
        d->p_layers[m] = L;
        d->p_score[m] = arr(L);
        d->p_score_b[m] = arr(L * BOOT);
        for (int l = 0; l < L; l++) {
            d->p_score[m][l] = jit(g, p((double)l / (L - 1)), 0.005);
            for (int b = 0; b < BOOT; b++) d->p_score_b[m][b * L + l] = jit(g, d->p_score[m][l], 0.01);
        }
    }
}
static double hump(double x) { return 0.3 + 0.2 * sin(M_PI * x); }
static double valley(double x) { return 0.5 - 0.2 * sin(M_PI * x); }
static double falling(double x) { return 0.5 - 0.2 * x; }

static void s5_middle_layers(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 6);
    study_data d = {0};
    profiles(&d, hump, &g);
    study_finding f = decide(&d, 4);
    assert_int_equal(f.verdict, STUDY_REPRODUCED);
    assert_non_null(strstr(f.why, "relative depth 0.5"));
    study_data_free(&d);
    profiles(&d, valley, &g);
    assert_int_equal(decide(&d, 4).verdict, STUDY_CONTRARY);
    study_data_free(&d);
    profiles(&d, falling, &g);          /* the embedding is best */
    f = decide(&d, 4);
    assert_int_equal(f.verdict, STUDY_CONTRARY);
    assert_non_null(strstr(f.why, "relative depth 0.00"));
    study_data_free(&d);
    assert_int_equal(decide(&d, 4).verdict, STUDY_UNTESTABLE);
}

static void seed_pairs(study_data *d, double diag, double off, tb_rng *g) {
    int n = 3, L = 4;
    d->boot = BOOT;
    d->s_n = n;
    d->s_layers = calloc((size_t)n, sizeof(int));
    d->s_cka = calloc((size_t)n, sizeof(double *));
    d->s_cka_b = calloc((size_t)n, sizeof(double *));
    for (int m = 0; m < n; m++) {
        d->s_layers[m] = L;
        d->s_cka[m] = arr(L * L);
        d->s_cka_b[m] = arr(L * L * BOOT);
        for (int i = 0; i < L * L; i++) {
            d->s_cka[m][i] = jit(g, i / L == i % L ? diag : off, 0.01);
            for (int b = 0; b < BOOT; b++) d->s_cka_b[m][b * L * L + i] = jit(g, d->s_cka[m][i], 0.01);
        }
    }
}

static void s6_seeds_diagonal(void **state) {
    (void)state;
    tb_rng g;
    rng_seed(&g, 8);
    study_data d = {0};
    seed_pairs(&d, 0.9, 0.6, &g);
    study_finding f = decide(&d, 5);
    assert_int_equal(f.verdict, STUDY_REPRODUCED);
    assert_true(fabs(f.value - 0.3) < 0.02);
    study_data_free(&d);
    seed_pairs(&d, 0.5, 0.7, &g);
    assert_int_equal(decide(&d, 5).verdict, STUDY_CONTRARY);
    study_data_free(&d);
    seed_pairs(&d, 0.7, 0.7, &g);
    assert_int_equal(decide(&d, 5).verdict, STUDY_NOT_REPRODUCED);
    study_data_free(&d);
    assert_int_equal(decide(&d, 5).verdict, STUDY_UNTESTABLE);
}

/* ---- the hierarchical bootstrap -------------------------------------------------------- */

static void hboot_by_hand(void **state) {
    (void)state;
    /* Two units whose resamples are constant: the mean is their mean, and any draw of units
     * averages 0 or 1 of each: the interval spans [0, 1] at most, and both ends are hit. */
    double est[2] = {0, 1}, x[2 * 4] = {0, 0, 0, 0, 1, 1, 1, 1}, m, lo, hi;
    study_hboot(est, x, 2, 4, 1000, 1, &m, &lo, &hi);
    assert_true(fabs(m - 0.5) < 1e-12);
    assert_true(lo == 0 && hi == 1);
    /* one unit: the interval is the percentile interval of its resamples */
    double e1[1] = {5}, x1[100];
    for (int b = 0; b < 100; b++) x1[b] = b;
    study_hboot(e1, x1, 1, 100, 4000, 1, &m, &lo, &hi);
    assert_true(m == 5);
    assert_true(lo > 0 && lo < 6 && hi > 93 && hi < 100);
    /* NaN resamples are skipped; all NaN gives NaN */
    double xn[4] = {NAN, NAN, NAN, NAN};
    study_hboot(e1, xn, 1, 4, 100, 1, &m, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(s1_tracks_and_rises),
        cmocka_unit_test(s2_controls_align_less),
        cmocka_unit_test(s3_size_at_fixed_units),
        cmocka_unit_test(slope_by_hand),
        cmocka_unit_test(s4_localized_vs_random),
        cmocka_unit_test(s5_middle_layers),
        cmocka_unit_test(s6_seeds_diagonal),
        cmocka_unit_test(s7_formal_over_functional),
        cmocka_unit_test(hboot_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
