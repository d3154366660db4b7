/* align.h -- comparing two sets of representations of the same stimuli (lessons 10-12).
 *
 * X[n, px] and Y[n, py]: rows are the n stimuli (same order on both sides), columns
 * are units (neurons, hidden dimensions).  Everything is float64.  Each function says
 * whether it returns a SIMILARITY (1 = identical up to the metric's invariances) or a
 * DISTANCE (0 = identical), because users of other toolkits keep mixing them up.
 *
 *   RDM + RSA      (Kriegeskorte 2008)    geometry of the stimuli, units forgotten
 *   CKA            (Kornblith et al. 2019) similarity of the Gram matrices
 *   CCA / SVCCA / PWCCA (Raghu 2017, Morcos 2018) best-aligned linear projections
 *   Procrustes     (Williams et al. 2021)  distance after the best rotation
 *   encoding model (Brain-Score style)     cross-validated ridge prediction of Y from X
 * and what keeps a score honest: cross-validated CCA and its identifiability rule,
 * partial RSA, variance partitioning between two feature sets, feature-count controls,
 * permutation p-values, bootstrap intervals and the bootstrap probability of a best layer.
 *
 * One source file per family under src/align/: align_rsa.c, align_cka.c, align_cca.c
 * (+ align_cca_cv.c), align_procrustes.c, align_encoding.c (+ align_partition.c),
 * align_stats.c (permutations, bootstraps, best layer), align_control.c (unit subsets,
 * PCA); align.c runs them all.  Functions that return int give 0, or -1 with a reason in err
 * (TB_ERRLEN bytes); functions that return a double give NaN when they cannot compute
 * it (a constant input, or no memory).  Results follow the determinism contract of
 * threads.h: bit-identical for any thread count.
 */
#ifndef TB_ALIGN_H
#define TB_ALIGN_H

#include "tb.h"
#include <stdint.h>

/* ---- representational dissimilarity matrices -------------------------------- */
typedef enum { RDM_CORRELATION, RDM_EUCLIDEAN, RDM_COSINE } rdm_kind;
/* D[n,n] (symmetric, zero diagonal):
 *   correlation: 1 - Pearson r between rows i and j (across units);
 *   euclidean:   ||x_i - x_j||;   cosine: 1 - cos(x_i, x_j).
 * A constant row has no correlation: error naming the row. */
int align_rdm(const double *X, int n, int p, rdm_kind kind, double *D, char *err);
/* The upper triangle (i < j, row by row) of D[n,n] into v[n(n-1)/2]. */
void rdm_upper(const double *D, int n, double *v);

/* ---- RSA: SIMILARITIES between two RDMs over their upper triangles ----------- */
double rsa_pearson(const double *a, const double *b, long m);
/* Pearson r of average ranks (ties share the mean rank). */
double rsa_spearman(const double *a, const double *b, long m);
/* (concordant - discordant) / (m(m-1)/2); pairs tied in either vector count 0.
 * O(m log m) (Knight's merge-sort count). */
double rsa_kendall_a(const double *a, const double *b, long m);
/* Average ranks (1-based) of x[m] into r[m]. */
void rank_average(const double *x, long m, double *r);
/* Partial RSA: the correlation of a and b with c partialled out of both (e.g. a model
 * RDM vs a brain RDM, controlling for a lexical RDM):
 *     r_ab.c = (r_ab - r_ac r_bc) / sqrt((1 - r_ac^2) (1 - r_bc^2)),
 * the correlation of the residuals of a and b after regressing each on c.  Pearson on
 * the values, Spearman on average ranks.  NaN when c explains a or b completely (or a
 * vector is constant). */
double rsa_partial_pearson(const double *a, const double *b, const double *c, long m);
double rsa_partial_spearman(const double *a, const double *b, const double *c, long m);

/* ---- CKA (SIMILARITIES in [0,1]; debiased can dip below 0) ---------------------- */
/* Columns are centred inside.  linear: ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F). */
int cka_linear(const double *X, int n, int px, const double *Y, int py, double *out, char *err);
/* Gaussian kernel K_ij = exp(-d_ij^2 / (2 f^2 m)), m = median of all n^2 squared
 * distances (diagonal included), f = bandwidth factor (1.0 in Kornblith et al.). */
int cka_rbf(const double *X, int n, int px, const double *Y, int py, double f, double *out, char *err);
/* Linear CKA from the unbiased HSIC estimator (Song et al. 2012): Gram diagonals set to
 * zero; needs n >= 4; near 0 for independent inputs. */
int cka_linear_debiased(const double *X, int n, int px, const double *Y, int py, double *out, char *err);

/* ---- CCA family (SIMILARITIES in [0,1]) ----------------------------------------- */
/* rho[min(px,py)] canonical correlations, descending (rho may be NULL).  Each covariance
 * gets a ridge of 1e-6 x its mean eigenvalue.  *mean = their mean. */
int cca(const double *X, int n, int px, const double *Y, int py, double *rho, double *mean, char *err);
/* SVCCA: keep each side's leading singular directions holding `keep` (0.99) of the
 * variance, then mean CCA.  *kx, *ky (may be NULL) report how many were kept. */
int svcca(const double *X, int n, int px, const double *Y, int py, double keep, double *out,
          int *kx, int *ky, char *err);
/* PWCCA (Morcos et al. 2018): canonical correlations weighted by how much of X's units
 * each canonical variate accounts for.  Asymmetric: weights come from X.  Only the
 * min(rank X, rank Y) canonical variates that exist get weight (rank <= n - 1): the
 * rest are rounding noise. */
int pwcca(const double *X, int n, int px, const double *Y, int py, double *out, char *err);

/* ---- the CCA family, cross-validated -------------------------------------------------
 * In-sample CCA finds perfect correlations in noise when units approach stimuli.  The
 * cross-validated scores fit on a random half of the stimuli and correlate the held-out
 * half's canonical variates (the fitted weights applied to unseen stimuli), both ways
 * round, over `splits` random halvings: 2 x splits folds, averaged.  Independent data
 * score ~0 (held-out correlations can be negative).  SVCCA's reduction and PWCCA's
 * weights are fitted on the training half too. */
typedef struct {
    int splits;            /* random half splits (5); each is scored both ways */
    uint64_t seed;         /* the halvings (0) */
    double svcca_keep;     /* 0.99 */
} cca_cv_opts;
void cca_cv_opts_default(cca_cv_opts *o);
typedef struct {
    int identifiable;      /* 0: the scores are NaN and reason says why */
    char reason[200];      /* "" when identifiable */
    double cca_mean, svcca, pwcca; /* held-out, averaged over folds */
} cca_cv_result;
/* The identifiability rule: CCA of X[n,px] and Y[n,py] is identifiable when each side
 * has fewer units than half the stimuli (2 max(px, py) < n); otherwise 0 and a one-line
 * reason (may be NULL) naming the side. */
int cca_identifiable(int n, int px, int py, char *reason, size_t len);
/* Not identifiable is not an error: 0 with r->identifiable = 0 and NaN scores. */
int cca_cv(const double *X, int n, int px, const double *Y, int py, const cca_cv_opts *o, cca_cv_result *r,
           char *err);

/* ---- shape metrics (DISTANCES) -------------------------------------------------- */
/* After centring and scaling each side to unit Frobenius norm, with ||.||_* the nuclear
 * norm: euclidean sqrt(2 - 2 ||X^T Y||_*) in [0, sqrt2], angular arccos(||X^T Y||_*) in
 * [0, pi/2] radians.  Any widths. */
int procrustes(const double *X, int n, int px, const double *Y, int py, double *euclidean,
               double *angular, char *err);

/* ---- encoding model (SIMILARITY: correlation of predictions) --------------------- */
typedef struct {
    int folds;              /* outer k-fold (5) */
    uint64_t seed;          /* fold assignment and split-halves (0) */
    int n_alpha;            /* ridge grid size (9: one value per decade) */
    double alpha_min, alpha_max; /* log grid (1e-3 .. 1e5) on standardised features */
    int n_splits;           /* split-half repetitions for the noise ceiling (10) */
    double min_ceiling;     /* 0.3: below it the ceiled score is not defined (see below) */
} enc_opts;
void enc_opts_default(enc_opts *o);

/* Whether r_ceiled is defined, and if not, why.  Dividing by a small ceiling multiplies
 * the score and its sampling error: a population with no reliable stimulus signal still
 * has a median ceiling of 0.02-0.29 (pure noise, 20-1000 stimuli, 2-10 trials), and
 * dividing by it made r_ceiled of -1.1 out of r = -0.12.  So below min_ceiling the
 * ceiled score is NaN and the status says so. */
typedef enum {
    ENC_CEIL_OK = 0,        /* r_ceiled = r_median / noise_ceiling */
    ENC_CEIL_NOT_RUN,       /* no encoding model was fitted */
    ENC_CEIL_NO_TRIALS,     /* fewer than 2 trials: no noise ceiling */
    ENC_CEIL_TOO_LOW        /* noise_ceiling < min_ceiling: no reliable stimulus signal */
} enc_ceiling_status;
/* One line for the user, e.g. "noise ceiling below the minimum (0.3): the recording has
 * no reliable stimulus signal to normalise by". */
const char *enc_ceiling_reason(enc_ceiling_status s);

typedef struct {
    int py;
    double *r_unit;         /* [py] held-out Pearson r per unit: r on each fold's stimuli,
                             * averaged over folds (owned) */
    double r_median;        /* median over units */
    double noise_ceiling;   /* median over units of sqrt(split-half reliability, Spearman-Brown
                             * corrected): the r a perfect model reaches; NaN without trials */
    double r_ceiled;        /* r_median / noise_ceiling; NaN unless ceiling_status is OK */
    enc_ceiling_status ceiling_status;
} enc_result;
/* Ridge regression from X[n,px] to each column of Y; Y_trials [trials,n,py] (may be NULL)
 * gives the noise ceiling, and then its trial mean is the target (Y may be NULL).
 * Per unit, the ridge strength is chosen on each training fold by exact leave-one-out
 * cross-validation (the closed form from one eigendecomposition per fold). */
int encoding_fit(const double *X, int n, int px, const double *Y, const double *Y_trials,
                 int trials, int py, const enc_opts *o, enc_result *out, char *err);
void enc_result_free(enc_result *r);
/* Per unit: rel = split-half reliability (Spearman-Brown corrected, averaged over random
 * splits) and the ceiling on r, sqrt(max(rel, 0)), into per_unit; *median over units.
 * The halves hold h = floor(trials/2) trials each; the correction goes to all the trials,
 * k = trials/h halves: rel = k r / (1 + (k - 1) r)  (k = 2 for an even count). */
int noise_ceiling(const double *Y_trials, int trials, int n, int py, int n_splits, uint64_t seed,
                  double *per_unit, double *median, char *err);

/* ---- variance partitioning (R^2 shares of two feature sets) -------------------------
 * Cross-validated ridge encoding of Y from [A, B] jointly, from A alone and from B alone
 * (same folds, enc_opts as for encoding_fit), scored per unit as held-out R^2 on each
 * fold, averaged over folds; then per unit
 *     unique_a = R^2(A,B) - R^2(B),  unique_b = R^2(A,B) - R^2(A),
 *     shared   = R^2(A) + R^2(B) - R^2(A,B),
 * and the median of each over units.  Small negative parts mean "none detected". */
typedef struct {
    int py;
    double *r2_joint, *r2_a, *r2_b;        /* [py] held-out R^2 per unit (owned) */
    double *unique_a, *unique_b, *shared;  /* [py] the partition per unit (owned) */
    double median_r2_joint, median_r2_a, median_r2_b;
    double median_unique_a, median_unique_b, median_shared;
} varpart_result;
/* A[n,pa], B[n,pb] two feature sets of the same stimuli; the target is Y[n,py] or, if
 * Y_trials [trials,n,py] is given, its trial mean. */
int variance_partition(const double *A, int pa, const double *B, int pb, int n, const double *Y,
                       const double *Y_trials, int trials, int py, const enc_opts *o, varpart_result *out,
                       char *err);
void varpart_result_free(varpart_result *r);

/* ---- everything at once ----------------------------------------------------------- */
typedef struct {
    int rsa, cka, cca, procrustes, encoding; /* which families to compute */
    rdm_kind rdm;          /* RDM_CORRELATION */
    double rbf_f;          /* 1.0 */
    double svcca_keep;     /* 0.99 */
    int perm;              /* permutations for rsa_perm_p / cka_perm_p (0: none) */
    int boot;              /* bootstrap resamples for the _ci_ companions (0: none) */
    double ci;             /* 0.95 */
    uint64_t seed;
    enc_opts enc;
    tb_progress progress;  /* cmp_layers (compare.h): told after each pair of layers */
    /* Stages (NULL: none): align_all calls on_stage(on_stage_ctx, stage, done, total)
     * before each family it computes -- stage "rsa", "cka", "cca", "procrustes",
     * "encoding" or "bootstrap", done of total steps finished -- and once with stage
     * "done" and done == total at the end.  The CLI prints it; the library never does. */
    void (*on_stage)(void *ctx, const char *stage, int done, int total);
    void *on_stage_ctx;
} align_opts;
void align_opts_default(align_opts *o);

typedef struct {
    double rsa_spearman, rsa_kendall_a, rsa_pearson;
    double cka_linear, cka_rbf, cka_linear_debiased;
    double cca_mean, svcca, pwcca;
    double procrustes_euclidean, procrustes_angular;
    double encoding_r_median, encoding_r_ceiled, noise_ceiling;
    double rsa_perm_p, cka_perm_p;
    double rsa_spearman_ci_low, rsa_spearman_ci_high, cka_linear_ci_low, cka_linear_ci_high;
    int cca_warning;       /* 1 when max(px, py) > n / 2: canonical correlations drift to 1 */
    enc_ceiling_status ceiling_status; /* why encoding_r_ceiled is NaN, if it is */
} align_result;

/* X[n,px], Y[n,py] as stimuli x units; Y_trials (optional, [trials,n,py]) is used for the
 * encoding model's noise ceiling.  Metrics not asked for are NaN. */
int align_all(const double *X, int n, int px, const double *Y, int py, const double *Y_trials,
              int trials, const align_opts *o, align_result *r, char *err);
/* The numbers of align_result by index i < align_result_nfields(), with their keys
 * ("rsa_spearman" ... "cka_linear_ci_high", the names --json prints): */
int align_result_nfields(void);
const char *align_result_key(int i);                  /* NULL out of range */
double *align_result_field(align_result *r, int i);   /* NULL out of range */
double align_result_get(const align_result *r, int i); /* NaN out of range */

/* ---- feature-count controls ------------------------------------------------------
 * A wider representation scores differently on several metrics for its width alone
 * (biased CKA of independent data grows like p / (n + p); CCA reaches 1 as p nears n).
 * Two ways to compare at a fixed number of features K:
 *   random unit subsets: align_all on K random units, R times; the mean and percentile
 *   interval (o->ci) of every metric over the repeats;
 *   PCA: each side's first K principal components (then call align_all). */
enum { ALIGN_UNITS_A = 1, ALIGN_UNITS_B = 2 }; /* which sides to subsample */
/* Sides named in `which` that have more than K units get K distinct random units per
 * repeat (Y_trials follows Y's subset); a side with <= K units is used whole. A draw
 * that leaves some stimulus constant across its units is redrawn (up to 100 times).  mean,
 * low, high: per metric over the repeats where it is finite (NaN if none); their
 * cca_warning is set if any repeat's is, their ceiling_status is the first repeat's. */
int align_units_control(const double *X, int n, int px, const double *Y, int py, const double *Y_trials,
                        int trials, int K, int R, int which, uint64_t seed, const align_opts *o,
                        align_result *mean, align_result *low, align_result *high, char *err);
/* Z[n,k]: X's scores on its first k principal components (columns centred first),
 * 1 <= k <= min(p, n - 1).  Each component's sign makes its largest-magnitude score
 * positive, so the result does not depend on the eigensolver's sign choice. */
int align_pca(const double *X, int n, int p, int k, double *Z, char *err);

/* ---- statistics ------------------------------------------------------------------ */
/* Permutation test for Spearman RSA: shuffle the stimuli of RDM b (rows and columns
 * together) n_perm times; p = (1 + #{null >= observed}) / (1 + n_perm). */
double rsa_permutation_p(const double *Da, const double *Db, int n, int n_perm, uint64_t seed,
                         double *observed);

/* Which layer is best, and how sure are we?  Every layer is scored on the same
 * bootstrap resamples of the stimuli (n drawn with replacement); p_best[l] is the
 * fraction of resamples in which layer l scores highest on the named metric (layers tied
 * best share the resample).  A "best layer" whose p_best is far from 1 is not separable
 * from the others.  The metrics that survive resampling (pairs of a stimulus with its own
 * copy are left out, as in align_all's intervals): */
typedef enum { BOOT_RSA_SPEARMAN, BOOT_RSA_KENDALL_A, BOOT_RSA_PEARSON, BOOT_CKA_LINEAR } boot_metric;
/* The metric's key as in align_result ("rsa_spearman", ..., "cka_linear"); and back
 * (-1 for a name that cannot be bootstrapped). */
const char *boot_metric_name(boot_metric m);
int boot_metric_from_name(const char *name);
/* layers[l] = X_l[n, p[l]] for l < n_layers, Y[n, py]; RDMs (RSA metrics) of kind rdm.
 * Resample b draws from its own seeded stream, so p_best is the same for any thread
 * count.  Cost per resample and layer at 240 stimuli: ~0.1 ms (Pearson, Spearman),
 * ~0.5 ms (CKA), ~10 ms (Kendall's tau-a, which needs the expanded, sorted pairs). */
int best_layer_p(const double *const *layers, const int *p, int n_layers, int n, const double *Y, int py,
                 boot_metric m, rdm_kind rdm, int n_boot, uint64_t seed, double *p_best, char *err);
/* The scores behind it, for any representations (layers, baselines): scores[b * n_layers
 * + l] is representation l's score against Y on resample b.  Resample b is the same set
 * of stimuli for every call with the same seed and n, whatever the layers and Y: scores
 * from two calls (e.g. against two different brains) are paired resample by resample,
 * so a difference's interval is the percentile interval of the per-resample differences. */
int boot_scores(const double *const *layers, const int *p, int n_layers, int n, const double *Y, int py,
                boot_metric m, rdm_kind rdm, int n_boot, uint64_t seed, double *scores, char *err);
/* p_best from such a matrix: the fraction of resamples where each is highest (ties share). */
void boot_p_best(const double *scores, int n_boot, int n_layers, double *p_best);

#endif
