/* check_10.c -- your Spearman correlation against rsa_spearman (src/align/align_rsa.c). */
#include "exercise.h"
#include "align.h"

#include <math.h>
#include <stdio.h>

#define MMAX 300

static int run_case(const char *name, const double *a, const double *b, long m) {
    double yours = ex_spearman(a, b, m), want = rsa_spearman(a, b, m);
    return ex_compare(name, "rho", &yours, &want, 1, 1e-12);
}

int main(void) {
    double a[MMAX], b[MMAX], c[MMAX];
    unsigned long long seed = 1;
    int n = 0, bad = 0;
    for (int i = 0; i < MMAX; i++) {
        a[i] = ex_uniform(&seed);
        b[i] = a[i] + 0.7 * ex_uniform(&seed);
    }
    n++; bad += run_case("300 pairs, correlated, no ties", a, b, MMAX);
    for (int i = 0; i < MMAX; i++) c[i] = exp(5 * a[i]);
    n++; bad += run_case("a monotone transform of itself (rho must be 1)", a, c, MMAX);
    for (int i = 0; i < MMAX; i++) c[i] = -a[i] * a[i] * a[i];
    n++; bad += run_case("a decreasing transform (rho must be -1)", a, c, MMAX);
    for (int i = 0; i < MMAX; i++) { a[i] = floor(4 * ex_uniform(&seed)); b[i] = a[i] + floor(3 * ex_uniform(&seed)); }
    n++; bad += run_case("many ties (values in 8 levels)", a, b, MMAX);
    double t1[4] = {1, 2, 2, 3}, t2[4] = {4, 1, 3, 2};
    n++; bad += run_case("the lesson's 1, 2, 2, 3 against 4, 1, 3, 2", t1, t2, 4);
    double s1[3] = {0.1, 0.5, 0.9}, s2[3] = {0.3, 0.2, 0.8};
    n++; bad += run_case("three pairs", s1, s2, 3);
    return ex_finish("10", n, bad);
}
