/* align_priv.h -- what the files of src/align/ share privately: the allocation idiom,
 * small vector helpers, and the hand-offs between a metric family and align_all or the
 * statistics.  The public face is include/align.h (lessons 10-12).
 *
 * The allocation idiom (every function in src/align/ that allocates follows it):
 *   1. allocate every buffer the function needs at its top with al_doubles / al_zeros /
 *      al_ints / al_floats, which never return NULL for a zero count, so NULL always means
 *      "out of memory";
 *   2. test them all in one `if`, which fails with tb_fail(err, "out of memory");
 *   3. leave through one `done:` label that frees every buffer (free(NULL) is a no-op),
 *      so the error path and the happy path release the same things.
 */
#ifndef TB_ALIGN_PRIV_H
#define TB_ALIGN_PRIV_H

#include "align.h"

#include <stddef.h>

/* ---- allocation ------------------------------------------------------------------ */
double *al_doubles(size_t count); /* malloc of count doubles (at least one) */
double *al_zeros(size_t count);   /* the same, zero-filled */
int *al_ints(size_t count);       /* malloc of count ints (at least one) */
float *al_floats(size_t count);   /* malloc of count floats (at least one) */
/* A copy of X[n,p] with each column's mean subtracted (NULL: out of memory). */
double *al_centred(const double *X, int n, int p);

/* ---- vectors ----------------------------------------------------------------------- */
double al_frob2(const double *A, size_t count);                 /* sum of squares */
double al_dot(const double *a, const double *b, size_t count);  /* sum of products */
/* Pearson r of a[i * stride_a] and b[i * stride_b], i < n; NaN if either is constant. */
double al_pearson_strided(const double *a, const double *b, int n, int stride_a, int stride_b);
/* w[min(px,py)] = the squared singular values of X^T Y (X[n,px], Y[n,py]), descending:
 * the eigenvalues of the smaller of M M^T and M^T M, M = X^T Y. */
int al_cross_sv2(const double *X, int n, int px, const double *Y, int py, double *w, char *err);
/* qsort comparator for doubles, ascending. */
int al_cmp_double(const void *a, const void *b);
/* Median of the finite entries of v[n] (NaN if none); sorts a copy in tmp[n]. */
double al_median_finite(const double *v, int n, double *tmp);
/* Percentile interval of v[m] (sorted in place): v[floor(lo (m-1))], v[ceil(hi (m-1))]
 * with lo = (1 - level) / 2, hi = 1 - lo. */
void al_percentile_interval(double *v, int m, double level, double *low, double *high);

/* ---- ranks (align_rsa.c) -------------------------------------------------------------- */
/* ord[m] = the indices of x[m] in ascending order of value (ties by index); -1 when out
 * of memory. */
int al_argsort(const double *x, long m, long *ord);
/* Average ranks r[m] (1-based) of x[m] given its order, when entry i occurs w[i] times
 * (w NULL: once each): a run of equal values shares the mean of the ranks its copies
 * occupy -- the ranks of a bootstrap resample without building it. */
void al_ranks_from_order(const double *x, const long *ord, long m, const int *w, double *r);

/* ---- Gram matrices (align_cka.c) --------------------------------------------------- */
/* H K H in place, H = I - 11^T/n; row[n] is scratch. */
void al_double_centre(double *K, int n, double *row);
/* <HKH, HLH> / (||HKH|| ||HLH||) over the sub-matrices K[idx, idx], L[idx, idx] of two
 * Gram matrices K[n,n], L[n,n], m = number of indices (a bootstrap resample).  Entries
 * (a, b), a != b, with idx[a] == idx[b] -- a stimulus paired with its own copy -- are
 * left out of the three inner products: they are diagonal entries of the original (a
 * squared norm, large in both K and L) and would count each stimulus ~2 times instead of
 * once, biasing the resampled CKA upward.  Scratch: Ks[m*m], Ls[m*m], row[m].  NaN
 * when a side is constant. */
double al_cka_sub(const double *K, const double *L, int n, const int *idx, int m, double *Ks,
                  double *Ls, double *row);

/* ---- the CCA family in one pass (align_cca.c) ------------------------------------- */
/* Mean CCA, PWCCA (weights from X) and SVCCA (keeping `keep` of each side's variance)
 * from one eigendecomposition per side. */
int al_cca_family(const double *X, int n, int px, const double *Y, int py, double keep,
                  double *cca_mean, double *pw, double *sv, char *err);

/* ---- CCA fitted on some stimuli, applied to others (align_cca.c) -------------------- */
/* Fitted on X[n,px], Y[n,py]: q = min(rank X, rank Y) canonical variates; a held-out
 * stimulus x scores (x - mx) A on X's variates and (y - my) B on Y's. */
typedef struct {
    int px, py, q;
    double *mx, *my;   /* [px], [py] training column means */
    double *A, *B;     /* [px, q], [py, q] canonical weights, paired column by column */
    double *alpha;     /* [q] PWCCA weights of the variates (X's side) */
} al_cca_model;
int al_cca_model_fit(const double *X, int n, int px, const double *Y, int py, al_cca_model *m, char *err);
void al_cca_model_free(al_cca_model *m);
/* SVCCA's reduction fitted on X[n,p]: the column means *mx[p] and the whitening
 * projection *P[p,k] onto the leading directions holding `keep` of the variance
 * (both the caller's to free). */
int al_svd_fit(const double *X, int n, int p, double keep, double **mx, double **P, int *k, char *err);

/* ---- encoding (align_encoding.c) ------------------------------------------------------ */
/* Cross-validated ridge encoding of Y[n,py] from X[n,px] (enc_opts' folds and grid):
 * per unit, r_unit[py] and (if not NULL) r2_unit[py] = R^2 = 1 - SSE/SST, each scored on
 * every fold's own stimuli and averaged over folds. */
int al_encoding_cv(const double *X, int n, int px, const double *Y, int py, const enc_opts *o, double *r_unit,
                   double *r2_unit, char *err);
/* The mean over trials of Y_trials[trials,n,py], freshly allocated (NULL: out of memory). */
double *al_trial_mean(const double *Y_trials, int trials, int n, int py);

/* ---- statistics (align_stats.c) ---------------------------------------------------- */
/* CKA permutation p: shuffle the stimuli of Ky (rows and columns) n_perm times. */
int al_cka_perm_p(const double *Kx, const double *Ky, int n, int n_perm, uint64_t seed,
                  double observed, double *p, char *err);
/* Bootstrap percentile intervals of Spearman RSA (from Da, Db; skipped when Da is NULL)
 * and linear CKA (from the column-centred Gram matrices Kx, Ky; skipped when Kx is
 * NULL) into r's _ci_ fields. */
int al_bootstrap_ci(const double *Da, const double *Db, const double *Kx, const double *Ky, int n,
                    const align_opts *o, align_result *r, char *err);

#endif
