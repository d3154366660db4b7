/* align_rsa.c -- representational dissimilarity matrices and RSA (lesson 10).
 *
 * An RDM forgets the units and keeps the geometry: entry (i, j) says how differently a
 * representation treats stimuli i and j.  Two systems with different numbers of units
 * (a GPT layer, a spiking population) can then be compared by correlating their RDMs'
 * upper triangles: Pearson, Spearman (ranks, robust to any monotone distortion of one
 * RDM) or Kendall's tau-a (the recommended choice when a model RDM has many ties, such
 * as a categorical "same category or not" RDM).
 */
#include "align.h"
#include "linalg.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int align_rdm(const double *X, int n, int p, rdm_kind kind, double *D, char *err) {
    if (n < 2 || p < 1) return tb_fail(err, "RDM needs at least 2 stimuli and 1 unit (got %d x %d)", n, p);
    double *Z = malloc((size_t)n * p * sizeof(double));
    if (!Z) return tb_fail(err, "out of memory");
    memcpy(Z, X, (size_t)n * p * sizeof(double));
    /* correlation: centre and normalise each row, then 1 - dot;  cosine: normalise only */
    if (kind != RDM_EUCLIDEAN)
        for (int i = 0; i < n; i++) {
            double *z = Z + (size_t)i * p, mu = 0, ss = 0;
            if (kind == RDM_CORRELATION) {
                for (int j = 0; j < p; j++) mu += z[j];
                mu /= p;
            }
            for (int j = 0; j < p; j++) { z[j] -= mu; ss += z[j] * z[j]; }
            if (ss <= 0) {
                free(Z);
                return tb_fail(err, "stimulus %d has a %s pattern: its %s distance is undefined", i,
                               kind == RDM_CORRELATION ? "constant" : "zero",
                               kind == RDM_CORRELATION ? "correlation" : "cosine");
            }
            double inv = 1.0 / sqrt(ss);
            for (int j = 0; j < p; j++) z[j] *= inv;
        }
    if (kind == RDM_EUCLIDEAN) { /* direct differences: no cancellation for close patterns */
        for (int i = 0; i < n; i++) {
            D[(size_t)i * n + i] = 0.0;
            const double *a = Z + (size_t)i * p;
            for (int j = i + 1; j < n; j++) {
                const double *b = Z + (size_t)j * p;
                double s = 0;
                for (int k = 0; k < p; k++) { double d = a[k] - b[k]; s += d * d; }
                D[(size_t)i * n + j] = D[(size_t)j * n + i] = sqrt(s);
            }
        }
    } else { /* 1 - dot products of the normalised rows: one (threaded) Gram matrix */
        la_gram_rows(n, p, Z, D);
        for (int i = 0; i < n; i++) {
            D[(size_t)i * n + i] = 0.0;
            for (int j = i + 1; j < n; j++) {
                double s = 1.0 - D[(size_t)i * n + j];
                if (s < 0) s = 0; /* rounding below 0 for identical patterns */
                D[(size_t)i * n + j] = D[(size_t)j * n + i] = s;
            }
        }
    }
    free(Z);
    return 0;
}

void rdm_upper(const double *D, int n, double *v) {
    long k = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) v[k++] = D[(size_t)i * n + j];
}

double rsa_pearson(const double *a, const double *b, long m) {
    double ma = 0, mb = 0;
    for (long i = 0; i < m; i++) { ma += a[i]; mb += b[i]; }
    ma /= m;
    mb /= m;
    double sab = 0, saa = 0, sbb = 0;
    for (long i = 0; i < m; i++) {
        double x = a[i] - ma, y = b[i] - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if (saa <= 0 || sbb <= 0) return NAN; /* a constant RDM correlates with nothing */
    return sab / sqrt(saa * sbb);
}

/* ---- ranks ---------------------------------------------------------------------- */
/* Sorting (value, index) records directly, rather than indices through a global key,
 * keeps the comparisons in cache (2x faster at half a million pairs) and re-entrant. */
typedef struct { double v; long i; } vi_t;
static int cmp_vi(const void *p, const void *q) {
    const vi_t *x = p, *y = q;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->i > y->i) - (x->i < y->i); /* stable: ties by index */
}

void rank_average(const double *x, long m, double *r) {
    vi_t *s = malloc((size_t)m * sizeof *s);
    if (!s) { /* out of memory: NaN ranks make every statistic NaN, never garbage */
        for (long i = 0; i < m; i++) r[i] = NAN;
        return;
    }
    for (long i = 0; i < m; i++) { s[i].v = x[i]; s[i].i = i; }
    qsort(s, (size_t)m, sizeof *s, cmp_vi);
    for (long i = 0; i < m;) {
        long j = i;
        while (j + 1 < m && s[j + 1].v == s[i].v) j++;
        double avg = 0.5 * (double)(i + j) + 1.0; /* ranks i+1 .. j+1 share their mean */
        for (long k = i; k <= j; k++) r[s[k].i] = avg;
        i = j + 1;
    }
    free(s);
}

double rsa_spearman(const double *a, const double *b, long m) {
    double *ra = malloc((size_t)m * sizeof(double)), *rb = malloc((size_t)m * sizeof(double));
    if (!ra || !rb) { free(ra); free(rb); return NAN; }
    rank_average(a, m, ra);
    rank_average(b, m, rb);
    double r = rsa_pearson(ra, rb, m);
    free(ra);
    free(rb);
    return r;
}

/* ---- Kendall's tau-a in O(m log m) -------------------------------------------------
 * Knight (1966): sort the pairs by (a, b); then the number of discordant pairs is the
 * number of swaps a merge sort needs to sort the b's.  With n0 = m(m-1)/2 pairs,
 * n1 = pairs tied in a, n2 = tied in b, n3 = tied in both:
 *     concordant - discordant = n0 - n1 - n2 + n3 - 2 * swaps,
 * and tau-a divides that by n0 (pairs tied in either count as 0). */
typedef struct { double a, b; } ab_t;
static int cmp_ab(const void *p, const void *q) {
    const ab_t *x = p, *y = q;
    if (x->a != y->a) return x->a < y->a ? -1 : 1;
    if (x->b != y->b) return x->b < y->b ? -1 : 1;
    return 0;
}

/* Sort y[lo, hi) ascending; return the number of inversions (strictly greater before). */
static double merge_count(double *y, double *tmp, long lo, long hi) {
    if (hi - lo < 2) return 0;
    long mid = lo + (hi - lo) / 2;
    double s = merge_count(y, tmp, lo, mid) + merge_count(y, tmp, mid, hi);
    long i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        if (y[j] < y[i]) { s += (double)(mid - i); tmp[k++] = y[j++]; }
        else tmp[k++] = y[i++];
    }
    while (i < mid) tmp[k++] = y[i++];
    while (j < hi) tmp[k++] = y[j++];
    memcpy(y + lo, tmp + lo, (size_t)(hi - lo) * sizeof(double));
    return s;
}

/* Pairs tied among runs of equal values in a sorted array. */
static double tied_pairs(const double *v, long m) {
    double t = 0;
    for (long i = 0; i < m;) {
        long j = i;
        while (j + 1 < m && v[j + 1] == v[i]) j++;
        double c = (double)(j - i + 1);
        t += c * (c - 1) / 2;
        i = j + 1;
    }
    return t;
}

double rsa_kendall_a(const double *a, const double *b, long m) {
    if (m < 2) return NAN;
    ab_t *p = malloc((size_t)m * sizeof *p);
    double *y = malloc((size_t)m * sizeof(double)), *tmp = malloc((size_t)m * sizeof(double));
    if (!p || !y || !tmp) { free(p); free(y); free(tmp); return NAN; }
    for (long i = 0; i < m; i++) { p[i].a = a[i]; p[i].b = b[i]; }
    qsort(p, (size_t)m, sizeof *p, cmp_ab);
    double n0 = (double)m * (m - 1) / 2, n1 = 0, n3 = 0;
    for (long i = 0; i < m;) { /* runs tied in a, and within them tied in both */
        long j = i;
        while (j + 1 < m && p[j + 1].a == p[i].a) j++;
        double c = (double)(j - i + 1);
        n1 += c * (c - 1) / 2;
        for (long k = i; k <= j;) {
            long l = k;
            while (l + 1 <= j && p[l + 1].b == p[k].b) l++;
            double d = (double)(l - k + 1);
            n3 += d * (d - 1) / 2;
            k = l + 1;
        }
        i = j + 1;
    }
    for (long i = 0; i < m; i++) y[i] = p[i].b;
    double swaps = merge_count(y, tmp, 0, m);
    double n2 = tied_pairs(y, m); /* y is now sorted */
    free(p);
    free(y);
    free(tmp);
    return (n0 - n1 - n2 + n3 - 2 * swaps) / n0;
}

/* ---- permutation test --------------------------------------------------------------
 * Under the null hypothesis the stimulus labels of one RDM are exchangeable.  Ranks of
 * the upper-triangle entries do not change when the stimuli are relabelled (the same
 * values move around), so we rank once and only gather per permutation: O(m) each. */
double rsa_permutation_p(const double *Da, const double *Db, int n, int n_perm, uint64_t seed,
                         double *observed) {
    long m = (long)n * (n - 1) / 2;
    double *va = calloc((size_t)m, sizeof(double)), *vb = calloc((size_t)m, sizeof(double));
    double *ra = malloc((size_t)m * sizeof(double)), *rb = malloc((size_t)m * sizeof(double));
    double *Rb = malloc((size_t)n * n * sizeof(double));
    int *perm = malloc((size_t)n * sizeof(int));
    double p = NAN;
    if (!va || !vb || !ra || !rb || !Rb || !perm) goto done;
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
