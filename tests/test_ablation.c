/* test_ablation.c -- random sets (distinct, sorted, deterministic, uniform over units),
 * quantiles against hand-worked values, percentile and p-value against a brute-force count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ablation.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void random_sets(void **state) {
    (void)state;
    int p = 64, k = 16, u[16], v[16], hits[64] = {0};
    char err[TB_ERRLEN];
    for (int s = 0; s < 2000; s++) {
        assert_int_equal(abl_random_set(p, k, 9, s, u, err), 0);
        for (int i = 0; i < k; i++) {
            assert_true(u[i] >= 0 && u[i] < p);
            if (i) assert_true(u[i] > u[i - 1]);   /* sorted, distinct */
            hits[u[i]]++;
        }
    }
    for (int i = 0; i < p; i++) assert_true(abs(hits[i] - 500) < 100);   /* 2000 x 16/64 each */
    abl_random_set(p, k, 9, 3, u, err);
    abl_random_set(p, k, 9, 3, v, err);
    assert_memory_equal(u, v, sizeof u);
    abl_random_set(p, k, 9, 4, v, err);
    assert_true(memcmp(u, v, sizeof u) != 0);
    assert_int_equal(abl_random_set(p, 65, 9, 0, u, err), -1);
}

static void quantiles_hand_worked(void **state) {
    (void)state;
    double x[5] = {3, 1, 4, 1, 5};   /* sorted 1 1 3 4 5 */
    assert_true(fabs(abl_quantile(x, 5, 0.5) - 3) < 1e-12);
    assert_true(fabs(abl_quantile(x, 5, 0.05) - 1) < 1e-12);
    assert_true(fabs(abl_quantile(x, 5, 0.95) - 4.8) < 1e-12);   /* 4 + 0.8 x (5 - 4) */
    assert_true(fabs(abl_quantile(x, 5, 0.6) - 3.4) < 1e-12);
    assert_true(x[0] == 3);   /* input untouched */
}

/* Percentile and p-value against a direct count on random data, both directions. */
static void percentile_matches_brute_force(void **state) {
    (void)state;
    tb_rng r;
    rng_seed(&r, 5);
    char err[TB_ERRLEN];
    for (int rep = 0; rep < 50; rep++) {
        int n = 1 + (int)rng_below(&r, 200);
        double *x = malloc(sizeof(double) * n);
        for (int i = 0; i < n; i++) x[i] = (double)rng_below(&r, 20);   /* many ties */
        double local = (double)rng_below(&r, 22) - 1;
        for (int dir = 0; dir < 2; dir++) {
            abl_summary s;
            assert_int_equal(abl_summarize(local, x, n, dir, &s, err), 0);
            int less = 0, eq = 0, ge = 0;
            for (int i = 0; i < n; i++) {
                int harm_less = dir ? x[i] < local : x[i] > local;
                less += harm_less;
                eq += x[i] == local;
                ge += !harm_less;
            }
            assert_true(fabs(s.percentile - 100.0 * (less + 0.5 * eq) / n) < 1e-9);
            assert_true(fabs(s.p_value - (1.0 + ge) / (1.0 + n)) < 1e-12);
        }
        free(x);
    }
    double ten[10] = {1.985, 1.99, 1.995, 1.998, 2.0, 2.0, 2.005, 2.01, 2.015, 2.021};
    abl_summary s;
    abl_summarize(2.011, ten, 10, 1, &s, err);   /* loss: worse than 8 of 10 */
    assert_true(fabs(s.percentile - 80) < 1e-9);
    assert_true(fabs(s.p_value - 3.0 / 11) < 1e-12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_sets),
        cmocka_unit_test(quantiles_hand_worked),
        cmocka_unit_test(percentile_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
