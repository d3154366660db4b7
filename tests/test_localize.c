/* test_localize.c -- the language localizer: Welch t against a hand-worked case, |x|
 * versus signed, zero-variance units (+-inf, never NaN), tie order, and k = floor(k% p). */
#include "localize.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void welch_t_hand_worked(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    /* unit 0: S = {1,2,3} (mean 2, var 1), C = {0,0,1,1} (mean .5, var 1/3):
     * t = 1.5 / sqrt(1/3 + 1/12) = 1.5 / sqrt(5/12) */
    double S[3] = {1, 2, 3}, C[4] = {0, 0, 1, 1}, t[1];
    assert_int_equal(localize_t(S, 3, C, 4, 1, 0, t, err), 0);
    assert_true(fabs(t[0] - 1.5 / sqrt(5.0 / 12)) < 1e-12);
    /* |x| by default: a unit that goes negative for sentences counts as responsive */
    double Sn[3] = {-1, -2, -3};
    assert_int_equal(localize_t(Sn, 3, C, 4, 1, 1, t, err), 0);
    assert_true(fabs(t[0] - 1.5 / sqrt(5.0 / 12)) < 1e-12);
    assert_int_equal(localize_t(Sn, 3, C, 4, 1, 0, t, err), 0);
    assert_true(fabs(t[0] + 2.5 / sqrt(5.0 / 12)) < 1e-12); /* (-2 - .5) / se */
    assert_int_equal(localize_t(S, 1, C, 4, 1, 0, t, err), -1); /* 1 stimulus */
}

static void zero_variance_gives_signed_infinity(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    /* 3 units, 2 stimuli each: constant 5 vs 3, constant 1 vs 1, constant 0 vs 2 */
    double S[6] = {5, 1, 0, 5, 1, 0}, C[6] = {3, 1, 2, 3, 1, 2}, t[3];
    assert_int_equal(localize_t(S, 2, C, 2, 3, 1, t, err), 0);
    assert_true(isinf(t[0]) && t[0] > 0);
    assert_true(t[1] == 0);
    assert_true(isinf(t[2]) && t[2] < 0);
}

static void top_k_order_ties_and_k(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    double t[6] = {1, 3, 3, INFINITY, -2, 0.5};
    int idx[4];
    localize_top(t, 6, 4, idx);
    assert_int_equal(idx[0], 3);
    assert_int_equal(idx[1], 1); /* tie 3 = 3: lower index first */
    assert_int_equal(idx[2], 2);
    assert_int_equal(idx[3], 0);
    assert_int_equal(localize_k(1, 300, err), 3);   /* floor(0.01 x 300) = 3, not 2 */
    assert_int_equal(localize_k(1, 399, err), 3);   /* floor(3.99) */
    assert_int_equal(localize_k(10, 64, err), 6);
    assert_int_equal(localize_k(1, 64, err), -1);   /* less than one unit */
    assert_int_equal(localize_k(0, 64, err), -1);
    assert_int_equal(localize_k(101, 64, err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(welch_t_hand_worked),
        cmocka_unit_test(zero_variance_gives_signed_infinity),
        cmocka_unit_test(top_k_order_ties_and_k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
