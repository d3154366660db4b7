/* align.c -- align_all: every metric family on one pair of representations, and the
 * helpers the families share (lessons 10-12).
 *
 * The families live one per file: align_rsa.c (RDMs, RSA), align_cka.c, align_cca.c
 * (CCA, SVCCA, PWCCA), align_procrustes.c, align_encoding.c (ridge encoding models,
 * noise ceilings) and align_stats.c (permutation tests, bootstrap intervals).  What
 * each one ignores is the lesson: RSA forgets the units, CKA ignores rotations and
 * scale, CCA any invertible linear map, Procrustes rotations and scale while staying a
 * true distance; an encoding model asks for prediction on held-out stimuli.
 */
#include "align_priv.h"
#include "linalg.h"
#include "threads.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* shared helpers (align_priv.h)                                            */
/* ======================================================================== */

double *al_doubles(size_t count) { return malloc((count ? count : 1) * sizeof(double)); }
double *al_zeros(size_t count) { return calloc(count ? count : 1, sizeof(double)); }
int *al_ints(size_t count) { return malloc((count ? count : 1) * sizeof(int)); }
float *al_floats(size_t count) { return malloc((count ? count : 1) * sizeof(float)); }

double *al_centred(const double *X, int n, int p) {
    double *Z = al_doubles((size_t)n * p);
    if (!Z) return NULL;
    memcpy(Z, X, (size_t)n * p * sizeof(double));
    la_center_columns(n, p, Z);
    return Z;
}

double al_frob2(const double *A, size_t count) {
    double s = 0;
    for (size_t i = 0; i < count; i++) s += A[i] * A[i];
    return s;
}

double al_dot(const double *a, const double *b, size_t count) {
    double s = 0;
    for (size_t i = 0; i < count; i++) s += a[i] * b[i];
    return s;
}

double al_pearson_strided(const double *a, const double *b, int n, int stride_a, int stride_b) {
    double ma = 0, mb = 0;
    for (int i = 0; i < n; i++) { ma += a[(size_t)i * stride_a]; mb += b[(size_t)i * stride_b]; }
    ma /= n;
    mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        double x = a[(size_t)i * stride_a] - ma, y = b[(size_t)i * stride_b] - mb;
        sab += x * y; saa += x * x; sbb += y * y;
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

int al_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double al_median_finite(const double *v, int n, double *tmp) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) tmp[m++] = v[i];
    if (!m) return NAN;
    qsort(tmp, (size_t)m, sizeof(double), al_cmp_double);
    return m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
}

int al_cross_sv2(const double *X, int n, int px, const double *Y, int py, double *w, char *err) {
    int q = px <= py ? px : py;
    double *M = al_doubles((size_t)px * py), *G = al_doubles((size_t)q * q);
    int rc = -1;
    if (!M || !G) { tb_fail(err, "out of memory"); goto done; }
    la_gemm_tn(n, px, py, X, Y, M);
    if (px <= py) la_gram_rows(px, py, M, G); /* M M^T */
    else la_gemm_tn(px, py, py, M, M, G);     /* M^T M */
    rc = la_eigh(q, G, w, NULL, err);
done:
    free(M); free(G);
    return rc;
}

/* ======================================================================== */
/* align_all                                                                */
/* ======================================================================== */

void align_opts_default(align_opts *o) {
    memset(o, 0, sizeof *o);
    o->progress = (tb_progress){NULL, NULL};
    o->on_stage = NULL;
    o->on_stage_ctx = NULL;
    o->rsa = o->cka = o->cca = o->procrustes = 1;
    o->encoding = 0;
    o->rdm = RDM_CORRELATION;
    o->rbf_f = 1.0;
    o->svcca_keep = 0.99;
    o->ci = 0.95;
    enc_opts_default(&o->enc);
}

/* Every number of align_result by its key (the JSON names). */
static const struct { const char *key; size_t off; } result_field[] = {
    {"rsa_spearman", offsetof(align_result, rsa_spearman)},
    {"rsa_kendall_a", offsetof(align_result, rsa_kendall_a)},
    {"rsa_pearson", offsetof(align_result, rsa_pearson)},
    {"cka_linear", offsetof(align_result, cka_linear)},
    {"cka_rbf", offsetof(align_result, cka_rbf)},
    {"cka_linear_debiased", offsetof(align_result, cka_linear_debiased)},
    {"cca_mean", offsetof(align_result, cca_mean)},
    {"svcca", offsetof(align_result, svcca)},
    {"pwcca", offsetof(align_result, pwcca)},
    {"procrustes_euclidean", offsetof(align_result, procrustes_euclidean)},
    {"procrustes_angular", offsetof(align_result, procrustes_angular)},
    {"encoding_r_median", offsetof(align_result, encoding_r_median)},
    {"encoding_r_ceiled", offsetof(align_result, encoding_r_ceiled)},
    {"noise_ceiling", offsetof(align_result, noise_ceiling)},
    {"rsa_perm_p", offsetof(align_result, rsa_perm_p)},
    {"cka_perm_p", offsetof(align_result, cka_perm_p)},
    {"rsa_spearman_ci_low", offsetof(align_result, rsa_spearman_ci_low)},
    {"rsa_spearman_ci_high", offsetof(align_result, rsa_spearman_ci_high)},
    {"cka_linear_ci_low", offsetof(align_result, cka_linear_ci_low)},
    {"cka_linear_ci_high", offsetof(align_result, cka_linear_ci_high)},
};
#define N_RESULT_FIELDS ((int)(sizeof result_field / sizeof result_field[0]))

int align_result_nfields(void) { return N_RESULT_FIELDS; }
const char *align_result_key(int i) { return i >= 0 && i < N_RESULT_FIELDS ? result_field[i].key : NULL; }
double *align_result_field(align_result *r, int i) {
    return i >= 0 && i < N_RESULT_FIELDS ? (double *)((char *)r + result_field[i].off) : NULL;
}
double align_result_get(const align_result *r, int i) {
    return i >= 0 && i < N_RESULT_FIELDS ? *(const double *)((const char *)r + result_field[i].off) : NAN;
}

static void result_reset(align_result *r) {
    for (int i = 0; i < N_RESULT_FIELDS; i++) *align_result_field(r, i) = NAN;
    r->cca_warning = 0;
    r->ceiling_status = ENC_CEIL_NOT_RUN;
}

static int check_finite(const double *X, int n, int p, const char *side, char *err) {
    for (size_t i = 0; i < (size_t)n * p; i++)
        if (!isfinite(X[i])) return tb_fail(err, "%s has a non-finite value (stimulus %zu, unit %zu)", side, i / p, i % p);
    return 0;
}

/* The three RSA correlations of two RDM upper triangles: Spearman (two sorts) on one
 * task and Pearson + Kendall (one sort) on the other; each number is computed by one
 * task, so the thread count changes no bit. */
typedef struct { const double *va, *vb; long m; align_result *r; } rsa_job;

static void rsa_task(void *ctx, int t, int nt) {
    rsa_job *j = ctx;
    if (t == 0) j->r->rsa_spearman = rsa_spearman(j->va, j->vb, j->m);
    if (t == 1 || nt == 1) {
        j->r->rsa_pearson = rsa_pearson(j->va, j->vb, j->m);
        j->r->rsa_kendall_a = rsa_kendall_a(j->va, j->vb, j->m);
    }
}

/* RSA: both RDMs into *Da, *Db (n x n, kept for the bootstrap), the three correlations
 * of their upper triangles, and the permutation p. */
static int rsa_part(const double *X, int n, int px, const double *Y, int py, const align_opts *o, double **Da,
                    double **Db, align_result *r, char *err) {
    long m = (long)n * (n - 1) / 2;
    double *va = al_doubles((size_t)m), *vb = al_doubles((size_t)m);
    char e1[TB_ERRLEN];
    int rc = -1;
    *Da = al_doubles((size_t)n * n);
    *Db = al_doubles((size_t)n * n);
    if (!va || !vb || !*Da || !*Db) { tb_fail(err, "out of memory"); goto done; }
    if (align_rdm(X, n, px, o->rdm, *Da, e1)) { tb_fail(err, "A: %s", e1); goto done; }
    if (align_rdm(Y, n, py, o->rdm, *Db, e1)) { tb_fail(err, "B: %s", e1); goto done; }
    rdm_upper(*Da, n, va);
    rdm_upper(*Db, n, vb);
    rsa_job job = {va, vb, m, r};
    tb_parallel(m >= 20000 ? 2 : 1, rsa_task, &job);
    if (o->perm > 0) r->rsa_perm_p = rsa_permutation_p(*Da, *Db, n, o->perm, o->seed, NULL);
    rc = 0;
done:
    free(va); free(vb);
    return rc;
}

/* CKA: the three estimators and, when permutations or the bootstrap ask for them, the
 * Gram matrices of the centred data into *Kx, *Ky (n x n). */
static int cka_part(const double *X, int n, int px, const double *Y, int py, const align_opts *o, double **Kx,
                    double **Ky, align_result *r, char *err) {
    char e2[TB_ERRLEN]; /* debiased CKA's failure (too few or degenerate stimuli) leaves NaN */
    double *Xc = NULL, *Yc = NULL;
    int rc = -1;
    if (cka_linear(X, n, px, Y, py, &r->cka_linear, err) || cka_rbf(X, n, px, Y, py, o->rbf_f, &r->cka_rbf, err))
        return -1;
    if (n >= 4 && cka_linear_debiased(X, n, px, Y, py, &r->cka_linear_debiased, e2)) r->cka_linear_debiased = NAN;
    if (o->perm <= 0 && o->boot <= 0) return 0;
    Xc = al_centred(X, n, px);
    Yc = al_centred(Y, n, py);
    *Kx = al_doubles((size_t)n * n);
    *Ky = al_doubles((size_t)n * n);
    if (!Xc || !Yc || !*Kx || !*Ky) { tb_fail(err, "out of memory"); goto done; }
    la_gram_rows(n, px, Xc, *Kx);
    la_gram_rows(n, py, Yc, *Ky);
    if (o->perm > 0 && al_cka_perm_p(*Kx, *Ky, n, o->perm, o->seed, r->cka_linear, &r->cka_perm_p, err)) goto done;
    rc = 0;
done:
    free(Xc); free(Yc);
    return rc;
}

/* The encoding model of Y (or of the trial mean of Y_trials) from X. */
static int encoding_part(const double *X, int n, int px, const double *Y, int py, const double *Y_trials,
                         int trials, const align_opts *o, align_result *r, char *err) {
    enc_result e;
    if (encoding_fit(X, n, px, Y_trials ? NULL : Y, Y_trials, trials, py, &o->enc, &e, err)) return -1;
    r->encoding_r_median = e.r_median;
    r->encoding_r_ceiled = e.r_ceiled;
    r->noise_ceiling = e.noise_ceiling;
    r->ceiling_status = e.ceiling_status;
    enc_result_free(&e);
    return 0;
}

/* Tell o->on_stage that `stage` starts (*done steps of total finished); 1 to go on. */
static int report(const align_opts *o, const char *stage, int *done, int total) {
    if (o->on_stage) o->on_stage(o->on_stage_ctx, stage, *done, total);
    (*done)++;
    return 1;
}

int align_all(const double *X, int n, int px, const double *Y, int py, const double *Y_trials,
              int trials, const align_opts *o, align_result *r, char *err) {
    result_reset(r);
    if (n < 3) return tb_fail(err, "need at least 3 stimuli to compare (got %d)", n);
    if (check_finite(X, n, px, "A", err) || check_finite(Y, n, py, "B", err)) return -1;
    double *Da = NULL, *Db = NULL, *Kx = NULL, *Ky = NULL;
    int rc = -1, done = 0;
    int total = !!o->rsa + !!o->cka + !!o->cca + !!o->procrustes + !!o->encoding + (o->boot > 0);
    if (o->rsa && report(o, "rsa", &done, total) && rsa_part(X, n, px, Y, py, o, &Da, &Db, r, err)) goto done;
    if (o->cka && report(o, "cka", &done, total) && cka_part(X, n, px, Y, py, o, &Kx, &Ky, r, err)) goto done;
    if (o->cca && report(o, "cca", &done, total)) {
        r->cca_warning = (px > n / 2 || py > n / 2);
        if (al_cca_family(X, n, px, Y, py, o->svcca_keep, &r->cca_mean, &r->pwcca, &r->svcca, err)) goto done;
    }
    if (o->procrustes && report(o, "procrustes", &done, total) &&
        procrustes(X, n, px, Y, py, &r->procrustes_euclidean, &r->procrustes_angular, err)) goto done;
    if (o->encoding && report(o, "encoding", &done, total) &&
        encoding_part(X, n, px, Y, py, Y_trials, trials, o, r, err)) goto done;
    if (o->boot > 0 && report(o, "bootstrap", &done, total) &&
        al_bootstrap_ci(o->rsa ? Da : NULL, Db, Kx, Ky, n, o, r, err)) goto done;
    report(o, "done", &done, total);
    rc = 0;
done:
    free(Da); free(Db); free(Kx); free(Ky);
    return rc;
}
