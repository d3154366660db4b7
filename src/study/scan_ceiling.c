/* scan_ceiling.c -- the across-subject ceiling: how well can the other subjects predict
 * one subject?  Lesson 16 (and lesson 12, beside the within-subject split-half ceiling).
 *
 * Brain-Score ceils a benchmark this way (Schrimpf et al. 2021): a subject's responses
 * are predicted from other subjects' with the same cross-validated linear mapping used to
 * score models, so a model scoring at the ceiling predicts a subject as well as the other
 * subjects do.  Brain-Score also varies the number of predicting subjects and
 * extrapolates to infinitely many; here every subject is predicted from all the others,
 * which gives the ceiling for this many subjects (a lower bound on the extrapolated one).
 */
#include "scan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int scan_ceiling_across(const double *const *Y, const int *channels, int n_subjects, int n, const enc_opts *o,
                        double *per_subject, double *ceiling, char *err) {
    if (n_subjects < 2) return tb_fail(err, "an across-subject ceiling needs at least 2 subjects (got %d)", n_subjects);
    long total = 0;
    for (int s = 0; s < n_subjects; s++) {
        if (channels[s] < 1) return tb_fail(err, "subject %d has no channels", s);
        total += channels[s];
    }
    double *X = malloc((size_t)n * total * sizeof *X), *r = malloc((size_t)n_subjects * sizeof *r);
    if (!X || !r) { free(X); free(r); return tb_fail(err, "out of memory for the across-subject ceiling"); }
    int rc = 0;
    for (int s = 0; s < n_subjects && !rc; s++) {
        int px = 0;   /* the other subjects' channels side by side: X[n, px] */
        for (int q = 0; q < n_subjects; q++) {
            if (q == s) continue;
            for (int i = 0; i < n; i++)
                memcpy(X + (size_t)i * (total - channels[s]) + px, Y[q] + (size_t)i * channels[q],
                       (size_t)channels[q] * sizeof *X);
            px += channels[q];
        }
        enc_result e;
        char e2[TB_ERRLEN];
        if (encoding_fit(X, n, px, Y[s], NULL, 0, channels[s], o, &e, e2)) {
            rc = tb_fail(err, "predicting subject %d from the others: %s", s, e2);
            break;
        }
        r[s] = e.r_median;
        if (per_subject) per_subject[s] = e.r_median;
        enc_result_free(&e);
    }
    if (!rc) {
        qsort(r, (size_t)n_subjects, sizeof *r, cmp_double);
        *ceiling = n_subjects % 2 ? r[n_subjects / 2] : 0.5 * (r[n_subjects / 2 - 1] + r[n_subjects / 2]);
    }
    free(X);
    free(r);
    return rc;
}
