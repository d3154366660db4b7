/* test_baselines.c -- the references of lesson 13: the bag-of-words matrix against a
 * hand-built count matrix, noise moments and determinism, twin differences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "baselines.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Three stimuli with ids (eos = 0): ". 5 7 5 .", ". 7 9", ". 2 .": words 2, 5, 7, 9. */
static void lexical_hand_built(void **state) {
    (void)state;
    int s0[] = {0, 5, 7, 5, 0}, s1[] = {0, 7, 9}, s2[] = {0, 2, 0};
    const int *ids[3] = {s0, s1, s2};
    int len[3] = {5, 3, 3};
    double *X;
    int p, *wid;
    char err[TB_ERRLEN];
    assert_int_equal(base_lexical(ids, len, 3, 0, &X, &p, &wid, err), 0);
    assert_int_equal(p, 4);
    int want_id[4] = {2, 5, 7, 9};
    double want[3][4] = {{0, 2, 1, 0}, {0, 0, 1, 1}, {1, 0, 0, 0}};
    for (int j = 0; j < 4; j++) assert_int_equal(wid[j], want_id[j]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) assert_true(X[i * 4 + j] == want[i][j]);
    free(X);
    free(wid);
    /* only sentence ends: no words, a clear error */
    int e[] = {0, 0};
    const int *ide[1] = {e};
    int le[1] = {2};
    assert_int_equal(base_lexical(ide, le, 1, 0, &X, &p, NULL, err), -1);
    assert_non_null(strstr(err, "no words"));
}

/* From text: "the dog ." "the the cat" "cats ." -> columns cat cats dog the. */
static void lexical_from_text(void **state) {
    (void)state;
    char l0[] = "the dog .", l1[] = "the  the\tcat", l2[] = "cats .";
    char *lines[3] = {l0, l1, l2}, **w;
    double *X;
    int p;
    char err[TB_ERRLEN];
    assert_int_equal(base_lexical_text(lines, 3, &X, &p, &w, err), 0);
    assert_int_equal(p, 4);
    const char *want_w[4] = {"cat", "cats", "dog", "the"};
    double want[3][4] = {{0, 0, 1, 1}, {1, 0, 0, 2}, {0, 1, 0, 0}};
    for (int j = 0; j < 4; j++) assert_string_equal(w[j], want_w[j]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) assert_true(X[i * 4 + j] == want[i][j]);
    free(X);
    base_free_words(w, p);
    char dot[] = ". .";
    char *only[1] = {dot};
    assert_int_equal(base_lexical_text(only, 1, &X, &p, NULL, err), -1);
}

static void noise_is_seeded_standard_normal(void **state) {
    (void)state;
    int n = 200, p = 50;
    double *a = malloc(sizeof(double) * n * p), *b = malloc(sizeof(double) * n * p);
    base_noise(a, n, p, 4);
    base_noise(b, n, p, 4);
    assert_memory_equal(a, b, sizeof(double) * n * p);
    double m = 0, v = 0;
    for (int i = 0; i < n * p; i++) m += a[i];
    m /= n * p;
    for (int i = 0; i < n * p; i++) v += (a[i] - m) * (a[i] - m);
    v /= n * p - 1;
    assert_true(fabs(m) < 0.05 && fabs(v - 1) < 0.05);
    base_noise(b, n, p, 5);
    assert_true(a[0] != b[0]);
    free(a);
    free(b);
}

static void twin_differences(void **state) {
    (void)state;
    double X[4 * 2] = {1, 2, 4, 8, 0, 1, 3, -1};
    double Xt[2 * 4 * 2] = {1, 2, 4, 8, 0, 1, 3, -1, 2, 2, 2, 2, 5, 5, 1, 1};
    double D[2 * 2], Dt[2 * 2 * 2];
    char err[TB_ERRLEN];
    assert_int_equal(base_twin_diff(X, Xt, 2, 4, 2, D, Dt, err), 0);
    double want[4] = {-3, -6, -3, 2}, want_t[8] = {-3, -6, -3, 2, 0, 0, 4, 4};
    for (int i = 0; i < 4; i++) assert_true(D[i] == want[i]);
    for (int i = 0; i < 8; i++) assert_true(Dt[i] == want_t[i]);
    assert_int_equal(base_twin_diff(X, NULL, 1, 3, 2, D, NULL, err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lexical_hand_built),
        cmocka_unit_test(lexical_from_text),
        cmocka_unit_test(noise_is_seeded_standard_normal),
        cmocka_unit_test(twin_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
