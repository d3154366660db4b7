/* test_rep.c -- representations loaded for alignment (rep.h): keeping fewer trials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "rep.h"

#include <math.h>
#include <string.h>

/* 3 trials x 2 stimuli x 2 units with trial t holding (t+1) * base: the mean of the first
 * k trials is (k+1)/2 * base, and k = 0 keeps the full mean without trials. */
static void make(rep_layer *L) {
    assert_int_equal(rep_layer_alloc(L, "x", "x.npy", 3, 2, 2), 0);
    const double base[4] = {1, 2, 3, 5};
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < 4; i++) L->trial[t * 4 + i] = (t + 1) * base[i];
    for (int i = 0; i < 4; i++) L->mean[i] = 2 * base[i];
}

static void keep_trials(void **state) {
    (void)state;
    char err[TB_ERRLEN];
    rep_layer L;
    make(&L);
    assert_int_equal(rep_keep_trials(&L, 2, err), 0);
    assert_int_equal(L.trials, 2);
    assert_non_null(L.trial);
    assert_true(fabs(L.mean[3] - 7.5) < 1e-12 && fabs(L.mean[0] - 1.5) < 1e-12);
    assert_int_equal(rep_keep_trials(&L, 1, err), 0);   /* one trial: 2-D, the first trial */
    assert_int_equal(L.trials, 1);
    assert_null(L.trial);
    assert_true(fabs(L.mean[3] - 5) < 1e-12);
    rep_layer_free(&L);
    make(&L);
    assert_int_equal(rep_keep_trials(&L, 0, err), 0);   /* the mean of all, no trials */
    assert_int_equal(L.trials, 1);
    assert_null(L.trial);
    assert_true(fabs(L.mean[1] - 4) < 1e-12);
    rep_layer_free(&L);
    make(&L);
    assert_int_equal(rep_keep_trials(&L, 4, err), -1);
    assert_non_null(strstr(err, "has 3 trials"));
    rep_layer_free(&L);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(keep_trials)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
