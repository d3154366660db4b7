/* Exercise 10 (lesson 10): the Spearman correlation RSA uses to compare two RDMs.
 *
 * a[m], b[m] are the upper triangles of two RDMs (m stimulus pairs).  Spearman's rho is
 * Pearson's correlation of their ranks:
 *   1. rank a: the smallest value gets rank 1, the next rank 2, ...; values that tie share
 *      the average of the ranks they occupy (1, 2, 2, 3 -> ranks 1, 2.5, 2.5, 4);
 *   2. rank b the same way;
 *   3. return the Pearson correlation of the two rank vectors,
 *        r = sum (ra - mean ra)(rb - mean rb) / sqrt(sum (ra - mean ra)^2 sum (rb - mean rb)^2)
 *      (NaN when either side is constant).
 * An O(m^2) ranking is fine here (m <= 300 in the checker); qsort is faster.
 *
 * Write the body, then run `make exercise-10`. */
#include "exercise.h"

#include <math.h>
#include <stdlib.h>

double ex_spearman(const double *a, const double *b, long m) {
    /* your code: replace these lines */
    (void)a; (void)b; (void)m;
    return 0;
}
