/* check_11.c -- your linear CKA against cka_linear (src/align/align_cka.c). */
#include "exercise.h"
#include "align.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int run_case(const char *name, const double *X, int n, int px, const double *Y, int py) {
    char err[TB_ERRLEN];
    double yours = ex_cka_linear(X, n, px, Y, py), want = NAN;
    if (cka_linear(X, n, px, Y, py, &want, err)) want = NAN;
    return ex_compare(name, "CKA", &yours, &want, 1, 1e-9);
}

int main(void) {
    enum { N = 40, PX = 12, PY = 30 };
    static double X[N * PX], Y[N * PY], Z[N * PX], W[N * PX];
    unsigned long long seed = 1;
    for (int i = 0; i < N * PX; i++) X[i] = ex_uniform(&seed);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < PY; j++) Y[i * PY + j] = X[i * PX + j % PX] * (j + 1) + 0.5 * ex_uniform(&seed);
    int n = 0, bad = 0;
    n++; bad += run_case("40 stimuli, 12 vs 30 related features", X, N, PX, Y, PY);
    n++; bad += run_case("a representation with itself (CKA must be 1)", X, N, PX, X, PX);
    for (int i = 0; i < N * PX; i++) Z[i] = 3 * X[i] + 7;
    n++; bad += run_case("scaled and shifted copy (CKA must be 1)", X, N, PX, Z, PX);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < PX; j++) Z[i * PX + j] = X[i * PX + (j + 5) % PX] * (j % 2 ? -1 : 1);
    n++; bad += run_case("permuted and sign-flipped units (CKA must be 1)", X, N, PX, Z, PX);
    for (int i = 0; i < N * PX; i++) W[i] = ex_uniform(&seed);
    n++; bad += run_case("independent noise (small, not 0)", X, N, PX, W, PX);
    n++; bad += run_case("few stimuli (n = 5)", X, 5, PX, Y, PY);
    return ex_finish("11", n, bad);
}
