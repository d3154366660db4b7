/* Exercise 11 (lesson 11): linear centred kernel alignment (CKA).
 *
 * X[n, px] and Y[n, py] hold one row per stimulus (row-major: X[i * px + j]).
 *   1. centre each column of X and of Y (subtract its mean over the n stimuli);
 *   2. with the centred matrices,
 *        CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)
 *      where ||A||_F^2 is the sum of squares of A's entries.  (The same number is
 *      tr(Kx Ky) / (||Kx||_F ||Ky||_F) with the Gram matrices Kx = X X^T, Ky = Y Y^T.)
 * Work in double; return NaN when either side has no variance.
 *
 * Write the body, then run `make exercise-11`. */
#include "exercise.h"

#include <math.h>
#include <stdlib.h>

double ex_cka_linear(const double *X, int n, int px, const double *Y, int py) {
    /* your code: replace these lines */
    (void)X; (void)n; (void)px; (void)Y; (void)py;
    return 0;
}
