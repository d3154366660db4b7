/* check.c -- comparing an exercise with the reference; shared by every check_NN.c. */
#include "exercise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int ex_compare(const char *case_name, const char *what, const double *yours, const double *want,
               long n, double tol) {
    long worst = -1;
    double dmax = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs(yours[i] - want[i]);
        if (isnan(yours[i]) != isnan(want[i])) d = INFINITY;
        else if (isnan(want[i])) d = 0;
        if (worst < 0 || d > dmax) { worst = i; dmax = d; }
    }
    if (n == 0 || dmax <= tol) { printf("ok   %s: %s\n", case_name, what); return 0; }
    printf("FAIL %s: %s differs by %.3g at index %ld (yours %.9g, reference %.9g; tolerance %.1g)\n",
           case_name, what, dmax, worst, yours[worst], want[worst], tol);
    return 1;
}

int ex_comparef(const char *case_name, const char *what, const float *yours, const float *want,
                long n, double tol) {
    double *a = malloc((size_t)(n > 0 ? n : 1) * sizeof *a), *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    if (!a || !b) { free(a); free(b); printf("FAIL %s: out of memory\n", case_name); return 1; }
    for (long i = 0; i < n; i++) { a[i] = yours[i]; b[i] = want[i]; }
    int r = ex_compare(case_name, what, a, b, n, tol);
    free(a); free(b);
    return r;
}

int ex_finish(const char *nn, int n_cases, int n_failed) {
    if (n_failed) printf("exercise %s: %d of %d cases fail\n", nn, n_failed, n_cases);
    else printf("exercise %s: all %d cases pass\n", nn, n_cases);
    return n_failed ? 1 : 0;
}

double ex_uniform(unsigned long long *state) { /* splitmix64 */
    unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}
