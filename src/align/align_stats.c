/* align_stats.c -- is a similarity real, and how sure are we of it? (lessons 10-12)
 *
 * Permutation tests ask whether a score beats chance: under the null hypothesis the
 * stimulus labels of one side are exchangeable, so shuffling them draws from the null
 * distribution; p = (1 + #{null >= observed}) / (1 + n_perm), never 0.
 * Bootstrap intervals ask how much a score would move with other stimuli: resample the
 * n stimuli with replacement, recompute, and read the percentile interval.
 */
#include "align_priv.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- permutation tests ---------------------------------------------------------------
 * RSA: ranks of the upper-triangle entries do not change when the stimuli are relabelled
 * (the same values move around), so we rank once and only gather per permutation: O(m)
 * each. */
double rsa_permutation_p(const double *Da, const double *Db, int n, int n_perm, uint64_t seed,
                         double *observed) {
    long m = (long)n * (n - 1) / 2;
    double *va = al_doubles((size_t)m), *vb = al_doubles((size_t)m);
    double *ra = al_doubles((size_t)m), *rb = al_doubles((size_t)m);
    double *Rb = al_doubles((size_t)n * n);
    int *perm = al_ints((size_t)n);
    double p = NAN;
    if (!va || !vb || !ra || !rb || !Rb || !perm) goto done; /* out of memory: NaN */
    rdm_upper(Da, n, va);
    rdm_upper(Db, n, vb);
    rank_average(va, m, ra);
    rank_average(vb, m, rb);
    /* ranks of b back in matrix form, so a permutation is a gather */
    long k = 0;
    for (int i = 0; i < n; i++) {
        Rb[(size_t)i * n + i] = 0;
        for (int j = i + 1; j < n; j++, k++) Rb[(size_t)i * n + j] = Rb[(size_t)j * n + i] = rb[k];
    }
    /* centre ranks of a once: r = sum(ca * gb) / sqrt(sum ca^2 sum cb^2); the gathered
     * b ranks have the same mean and variance in every permutation */
    double mean = 0, ssa = 0, ssb = 0;
    for (long i = 0; i < m; i++) mean += ra[i];
    mean /= m;
    for (long i = 0; i < m; i++) { ra[i] -= mean; ssa += ra[i] * ra[i]; }
    double meanb = 0;
    for (long i = 0; i < m; i++) meanb += rb[i];
    meanb /= m;
    for (long i = 0; i < m; i++) ssb += (rb[i] - meanb) * (rb[i] - meanb);
    double denom = sqrt(ssa * ssb);
    double obs = 0;
    for (long i = 0; i < m; i++) obs += ra[i] * (rb[i] - meanb);
    obs = denom > 0 ? obs / denom : NAN;
    if (observed) *observed = obs;
    if (!(denom > 0) || n_perm < 1) goto done;
    tb_rng r;
    rng_seed(&r, seed);
    int ge = 0;
    for (int t = 0; t < n_perm; t++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        rng_shuffle_int(&r, perm, n);
        double s = 0;
        k = 0;
        for (int i = 0; i < n; i++) {
            const double *row = Rb + (size_t)perm[i] * n;
            for (int j = i + 1; j < n; j++, k++) s += ra[k] * row[perm[j]];
        }
        if (s / denom >= obs - 1e-12) ge++;
    }
    p = (1.0 + ge) / (1.0 + n_perm);
done:
    free(va); free(vb); free(ra); free(rb); free(Rb); free(perm);
    return p;
}

/* CKA: a permuted, double-centred Gram matrix is the permutation of the centred one, so
 * centre once and gather per permutation. */
int al_cka_perm_p(const double *Kx, const double *Ky, int n, int n_perm, uint64_t seed,
                  double observed, double *p, char *err) {
    size_t N = (size_t)n * n;
    double *Kc = al_doubles(N), *Lc = al_doubles(N), *row = al_doubles((size_t)n);
    int *perm = al_ints((size_t)n);
    int rc = -1;
    if (!Kc || !Lc || !row || !perm) { tb_fail(err, "out of memory"); goto done; }
    memcpy(Kc, Kx, N * sizeof(double));
    memcpy(Lc, Ky, N * sizeof(double));
    al_double_centre(Kc, n, row);
    al_double_centre(Lc, n, row);
    double den = sqrt(al_dot(Kc, Kc, N) * al_dot(Lc, Lc, N));
    tb_rng g;
    rng_stream(&g, seed, 0xC4A);
    int ge = 0;
    for (int t = 0; t < n_perm; t++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        rng_shuffle_int(&g, perm, n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            const double *kr = Kc + (size_t)i * n, *lr = Lc + (size_t)perm[i] * n;
            for (int j = 0; j < n; j++) s += kr[j] * lr[perm[j]];
        }
        if (s / den >= observed - 1e-12) ge++;
    }
    *p = (1.0 + ge) / (1.0 + n_perm);
    rc = 0;
done:
    free(Kc); free(Lc); free(row); free(perm);
    return rc;
}

/* ---- bootstrap intervals ------------------------------------------------------------- */

void al_percentile_interval(double *v, int m, double level, double *low, double *high) {
    double lo = (1 - level) / 2, hi = 1 - lo;
    qsort(v, (size_t)m, sizeof(double), al_cmp_double);
    *low = v[(int)floor(lo * (m - 1))];
    *high = v[(int)ceil(hi * (m - 1))];
}

/* Spearman RSA on a resample idx[n]: the pairs of positions holding distinct original
 * stimuli (a stimulus and its own copy have distance 0 by definition, not by data).
 * va, vb: scratch of n(n-1)/2. */
static double boot_rsa(const double *Da, const double *Db, int n, const int *idx, double *va, double *vb) {
    long m = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (idx[i] != idx[j]) {
                va[m] = Da[(size_t)idx[i] * n + idx[j]];
                vb[m] = Db[(size_t)idx[i] * n + idx[j]];
                m++;
            }
    return m > 2 ? rsa_spearman(va, vb, m) : NAN;
}

int al_bootstrap_ci(const double *Da, const double *Db, const double *Kx, const double *Ky, int n,
                    const align_opts *o, align_result *r, char *err) {
    int B = o->boot;
    long maxm = (long)n * (n - 1) / 2;
    double *rs = al_doubles((size_t)B), *cs = al_doubles((size_t)B);
    double *va = al_doubles((size_t)maxm), *vb = al_doubles((size_t)maxm);
    double *Ks = al_doubles((size_t)n * n), *Ls = al_doubles((size_t)n * n), *row = al_doubles((size_t)n);
    int *idx = al_ints((size_t)n);
    int rc = -1, nr = 0, nc = 0;
    if (!rs || !cs || !va || !vb || !Ks || !Ls || !row || !idx) { tb_fail(err, "out of memory"); goto done; }
    tb_rng g;
    rng_stream(&g, o->seed, 0xB00757);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < n; i++) idx[i] = (int)rng_below(&g, (uint32_t)n);
        double v = Da ? boot_rsa(Da, Db, n, idx, va, vb) : NAN;
        if (!isnan(v)) rs[nr++] = v;
        v = Kx ? al_cka_sub(Kx, Ky, n, idx, n, Ks, Ls, row) : NAN;
        if (!isnan(v)) cs[nc++] = v;
    }
    if (nr) al_percentile_interval(rs, nr, o->ci, &r->rsa_spearman_ci_low, &r->rsa_spearman_ci_high);
    if (nc) al_percentile_interval(cs, nc, o->ci, &r->cka_linear_ci_low, &r->cka_linear_ci_high);
    rc = 0;
done:
    free(rs); free(cs); free(va); free(vb); free(Ks); free(Ls); free(row); free(idx);
    return rc;
}
