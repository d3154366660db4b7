/* align_partition.c -- variance partitioning: what one feature set predicts that another
 * does not (lessons 12-13).
 *
 * A model layer A may predict a brain's responses only because it carries what a
 * simpler feature set B (e.g. the bag of words of each sentence) carries too.  Fit three
 * cross-validated ridge encoding models of the brain Y -- from [A, B] jointly, from A
 * alone and from B alone -- and read the held-out R^2 of each unit as a Venn diagram:
 *     unique to A   = R^2(A,B) - R^2(B)
 *     unique to B   = R^2(A,B) - R^2(A)
 *     shared        = R^2(A) + R^2(B) - R^2(A,B)
 * All three models use the same folds (the same enc_opts seed), so their differences
 * are not fold-to-fold noise.  One ridge penalty serves the joint model (per unit, chosen
 * by leave-one-out as always); every feature column is standardised first, so neither
 * set dominates by scale, but a much wider set still gets more of the fit.  With finite
 * data the parts are estimates: a small negative unique share means "none detected".
 */
#include "align_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void varpart_result_free(varpart_result *r) {
    free(r->r2_joint); /* one block holds all six per-unit arrays */
    memset(r, 0, sizeof *r);
}

/* [A, B] side by side: J[n, pa + pb]. */
static void join_columns(const double *A, int pa, const double *B, int pb, int n, double *J) {
    for (int i = 0; i < n; i++) {
        memcpy(J + (size_t)i * (pa + pb), A + (size_t)i * pa, (size_t)pa * sizeof(double));
        memcpy(J + (size_t)i * (pa + pb) + pa, B + (size_t)i * pb, (size_t)pb * sizeof(double));
    }
}

/* The three shares per unit and the six medians (tmp[py] is scratch). */
static void partition(varpart_result *r, double *tmp) {
    int py = r->py;
    for (int c = 0; c < py; c++) {
        r->unique_a[c] = r->r2_joint[c] - r->r2_b[c];
        r->unique_b[c] = r->r2_joint[c] - r->r2_a[c];
        r->shared[c] = r->r2_a[c] + r->r2_b[c] - r->r2_joint[c];
    }
    r->median_r2_joint = al_median_finite(r->r2_joint, py, tmp);
    r->median_r2_a = al_median_finite(r->r2_a, py, tmp);
    r->median_r2_b = al_median_finite(r->r2_b, py, tmp);
    r->median_unique_a = al_median_finite(r->unique_a, py, tmp);
    r->median_unique_b = al_median_finite(r->unique_b, py, tmp);
    r->median_shared = al_median_finite(r->shared, py, tmp);
}

int variance_partition(const double *A, int pa, const double *B, int pb, int n, const double *Y,
                       const double *Y_trials, int trials, int py, const enc_opts *o, varpart_result *out,
                       char *err) {
    memset(out, 0, sizeof *out);
    if (!Y && !Y_trials) return tb_fail(err, "variance partition: no target");
    double *T = Y_trials ? al_trial_mean(Y_trials, trials, n, py) : NULL;
    double *J = al_doubles((size_t)n * (pa + pb)), *r = al_doubles((size_t)py), *tmp = al_doubles((size_t)py);
    double *block = out->r2_joint = al_doubles((size_t)6 * py); /* out owns it from here */
    int rc = -1;
    if ((Y_trials && !T) || !J || !r || !tmp || !block) { tb_fail(err, "out of memory"); goto done; }
    out->py = py;
    out->r2_a = block + py;
    out->r2_b = block + 2 * (size_t)py;
    out->unique_a = block + 3 * (size_t)py;
    out->unique_b = block + 4 * (size_t)py;
    out->shared = block + 5 * (size_t)py;
    if (T) Y = T;
    join_columns(A, pa, B, pb, n, J);
    if (al_encoding_cv(J, n, pa + pb, Y, py, o, r, out->r2_joint, err) ||
        al_encoding_cv(A, n, pa, Y, py, o, r, out->r2_a, err) || al_encoding_cv(B, n, pb, Y, py, o, r, out->r2_b, err))
        goto done;
    partition(out, tmp);
    rc = 0;
done:
    free(T); free(J); free(r); free(tmp);
    if (rc) varpart_result_free(out);
    return rc;
}
