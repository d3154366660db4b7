/* Exercise 10, reference solution: average ranks by counting (O(m^2)), then Pearson.
 * tinybrain's rsa_spearman (src/align/align_rsa.c) sorts instead, in O(m log m). */
#include "exercise.h"

#include <math.h>
#include <stdlib.h>

/* rank of a[i] = 1 + (number of values below it) + (number of other equal values) / 2 */
static void ranks(const double *a, long m, double *r) {
    for (long i = 0; i < m; i++) {
        long below = 0, equal = 0;
        for (long j = 0; j < m; j++) {
            if (a[j] < a[i]) below++;
            else if (a[j] == a[i] && j != i) equal++;
        }
        r[i] = 1 + below + equal / 2.0;
    }
}

double ex_spearman(const double *a, const double *b, long m) {
    double *ra = malloc((size_t)m * sizeof *ra), *rb = malloc((size_t)m * sizeof *rb);
    double r = NAN;
    if (!ra || !rb || m < 2) goto done;
    ranks(a, m, ra);
    ranks(b, m, rb);
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (long i = 0; i < m; i++) { ma += ra[i]; mb += rb[i]; }
    ma /= m;
    mb /= m;
    for (long i = 0; i < m; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    if (saa > 0 && sbb > 0) r = sab / sqrt(saa * sbb);
done:
    free(ra);
    free(rb);
    return r;
}
