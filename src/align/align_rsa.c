/* align_rsa.c -- representational dissimilarity matrices and RSA (lesson 10).
 *
 * An RDM forgets the units and keeps the geometry: entry (i, j) says how differently a
 * representation treats stimuli i and j.  Two systems with different numbers of units
 * (a GPT layer, a spiking population) can then be compared by correlating their RDMs'
 * upper triangles: Pearson, Spearman (ranks, robust to any monotone distortion of one
 * RDM) or Kendall's tau-a (the recommended choice when a model RDM has many ties, such
 * as a categorical "same category or not" RDM).
 */
#include "align_priv.h"
#include "linalg.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Row i of Z[n,p] centred (correlation only) and scaled to unit length; -1 with an
 * error naming the row when it has no length left. */
static int unit_rows(double *Z, int n, int p, rdm_kind kind, char *err) {
    for (int i = 0; i < n; i++) {
        double *z = Z + (size_t)i * p, mu = 0, ss = 0;
        if (kind == RDM_CORRELATION) {
            for (int j = 0; j < p; j++) mu += z[j];
            mu /= p;
        }
        for (int j = 0; j < p; j++) { z[j] -= mu; ss += z[j] * z[j]; }
        if (ss <= 0)
            return tb_fail(err, "stimulus %d has a %s pattern: its %s distance is undefined", i,
                           kind == RDM_CORRELATION ? "constant" : "zero",
                           kind == RDM_CORRELATION ? "correlation" : "cosine");
        double inv = 1.0 / sqrt(ss);
        for (int j = 0; j < p; j++) z[j] *= inv;
    }
    return 0;
}

/* Euclidean distances by direct differences: no cancellation for close patterns. */
static void euclidean_rdm(const double *X, int n, int p, double *D) {
    for (int i = 0; i < n; i++) {
        D[(size_t)i * n + i] = 0.0;
        const double *a = X + (size_t)i * p;
        for (int j = i + 1; j < n; j++) {
            const double *b = X + (size_t)j * p;
            double s = 0;
            for (int k = 0; k < p; k++) { double d = a[k] - b[k]; s += d * d; }
            D[(size_t)i * n + j] = D[(size_t)j * n + i] = sqrt(s);
        }
    }
}

int align_rdm(const double *X, int n, int p, rdm_kind kind, double *D, char *err) {
    if (n < 2 || p < 1) return tb_fail(err, "RDM needs at least 2 stimuli and 1 unit (got %d x %d)", n, p);
    if (kind == RDM_EUCLIDEAN) {
        euclidean_rdm(X, n, p, D);
        return 0;
    }
    /* correlation and cosine: 1 - dot products of the unit rows (one threaded Gram matrix) */
    double *Z = al_doubles((size_t)n * p);
    int rc = -1;
    if (!Z) { tb_fail(err, "out of memory"); goto done; }
    memcpy(Z, X, (size_t)n * p * sizeof(double));
    if (unit_rows(Z, n, p, kind, err)) goto done;
    la_gram_rows(n, p, Z, D);
    for (int i = 0; i < n; i++) {
        D[(size_t)i * n + i] = 0.0;
        for (int j = i + 1; j < n; j++) {
            double s = 1.0 - D[(size_t)i * n + j];
            if (s < 0) s = 0; /* rounding below 0 for identical patterns */
            D[(size_t)i * n + j] = D[(size_t)j * n + i] = s;
        }
    }
    rc = 0;
done:
    free(Z);
    return rc;
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

/* ---- sorting --------------------------------------------------------------------- */
/* RSA sorts half a million distances three times at n = 1000 (two rank transforms and
 * Kendall's pairs), so the sorts are LSD radix sorts on 64-bit keys that order like the
 * doubles: a stable pass per byte (bytes every key shares are skipped), 8 passes for a
 * value, 16 for a pair.  Stability keeps ties in index order, so argsort is the order
 * of (value, index) as before; -0 is keyed as +0, since the two compare equal. */
static uint64_t order_key(double x) {
    uint64_t u;
    if (x == 0) x = 0; /* -0 -> +0 */
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

typedef struct { uint64_t k; long i; } rkey_t;

/* Stable sort of s[m] by k (tmp: m records of scratch); the result is left in s. */
static void radix_sort(rkey_t *s, rkey_t *tmp, long m) {
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (long i = 0; i < m; i++) count[((s[i].k >> shift) & 255) + 1]++;
        if (count[((s[0].k >> shift) & 255) + 1] == (size_t)m) continue; /* one digit: no move */
        for (int d = 0; d < 256; d++) count[d + 1] += count[d];
        for (long i = 0; i < m; i++) tmp[count[(s[i].k >> shift) & 255]++] = s[i];
        memcpy(s, tmp, (size_t)m * sizeof *s);
    }
}

int al_argsort(const double *x, long m, long *ord) {
    rkey_t *s = malloc((size_t)(m > 0 ? m : 1) * sizeof *s), *tmp = malloc((size_t)(m > 0 ? m : 1) * sizeof *tmp);
    if (!s || !tmp) { free(s); free(tmp); return -1; }
    for (long i = 0; i < m; i++) { s[i].k = order_key(x[i]); s[i].i = i; }
    if (m > 0) radix_sort(s, tmp, m);
    for (long i = 0; i < m; i++) ord[i] = s[i].i;
    free(s);
    free(tmp);
    return 0;
}

void al_ranks_from_order(const double *x, const long *ord, long m, const int *w, double *r) {
    double before = 0; /* copies ranked below the current run of equal values */
    for (long i = 0; i < m;) {
        long j = i;
        double g = w ? w[ord[i]] : 1;
        while (j + 1 < m && x[ord[j + 1]] == x[ord[i]]) { j++; g += w ? w[ord[j]] : 1; }
        double avg = before + 0.5 * (g + 1); /* ranks before+1 .. before+g share their mean */
        for (long k = i; k <= j; k++) r[ord[k]] = avg;
        before += g;
        i = j + 1;
    }
}

void rank_average(const double *x, long m, double *r) {
    long *ord = malloc((size_t)(m > 0 ? m : 1) * sizeof *ord);
    if (!ord || al_argsort(x, m, ord)) { /* out of memory: NaN ranks make every statistic NaN, never garbage */
        for (long i = 0; i < m; i++) r[i] = NAN;
    } else {
        al_ranks_from_order(x, ord, m, NULL, r);
    }
    free(ord);
}

double rsa_spearman(const double *a, const double *b, long m) {
    double *ra = al_doubles((size_t)m), *rb = al_doubles((size_t)m);
    if (!ra || !rb) { free(ra); free(rb); return NAN; }
    rank_average(a, m, ra);
    rank_average(b, m, rb);
    double r = rsa_pearson(ra, rb, m);
    free(ra);
    free(rb);
    return r;
}

/* ---- partial correlation ------------------------------------------------------------- */

double rsa_partial_pearson(const double *a, const double *b, const double *c, long m) {
    double rab = rsa_pearson(a, b, m), rac = rsa_pearson(a, c, m), rbc = rsa_pearson(b, c, m);
    double den = (1 - rac * rac) * (1 - rbc * rbc);
    if (!(den > 0)) return NAN; /* c explains a or b completely (or a correlation is NaN) */
    double r = (rab - rac * rbc) / sqrt(den);
    return r > 1 ? 1 : r < -1 ? -1 : r; /* rounding */
}

double rsa_partial_spearman(const double *a, const double *b, const double *c, long m) {
    double *ra = al_doubles((size_t)m), *rb = al_doubles((size_t)m), *rc = al_doubles((size_t)m);
    double r = NAN;
    if (!ra || !rb || !rc) goto done; /* out of memory: NaN */
    rank_average(a, m, ra);
    rank_average(b, m, rb);
    rank_average(c, m, rc);
    r = rsa_partial_pearson(ra, rb, rc, m);
done:
    free(ra); free(rb); free(rc);
    return r;
}

/* ---- Kendall's tau-a in O(m log m) -------------------------------------------------
 * Knight (1966): sort the pairs by (a, b); then the number of discordant pairs is the
 * number of swaps a merge sort needs to sort the b's.  With n0 = m(m-1)/2 pairs,
 * n1 = pairs tied in a, n2 = tied in b, n3 = tied in both:
 *     concordant - discordant = n0 - n1 - n2 + n3 - 2 * swaps,
 * and tau-a divides that by n0 (pairs tied in either count as 0). */
typedef struct { double a, b; } ab_t;

/* The pairs in (a, b) order: a stable sort by b, then by a. */
static int sort_ab(ab_t *p, long m) {
    rkey_t *s = malloc((size_t)m * sizeof *s), *tmp = malloc((size_t)m * sizeof *tmp);
    ab_t *q = malloc((size_t)m * sizeof *q);
    if (!s || !tmp || !q) { free(s); free(tmp); free(q); return -1; }
    for (long i = 0; i < m; i++) { s[i].k = order_key(p[i].b); s[i].i = i; }
    radix_sort(s, tmp, m);
    for (long i = 0; i < m; i++) { s[i].k = order_key(p[s[i].i].a); }
    radix_sort(s, tmp, m);
    for (long i = 0; i < m; i++) q[i] = p[s[i].i];
    memcpy(p, q, (size_t)m * sizeof *p);
    free(s); free(tmp); free(q);
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
    double *y = al_doubles((size_t)m), *tmp = al_doubles((size_t)m);
    if (!p || !y || !tmp) { free(p); free(y); free(tmp); return NAN; }
    for (long i = 0; i < m; i++) { p[i].a = a[i]; p[i].b = b[i]; }
    if (sort_ab(p, m)) { free(p); free(y); free(tmp); return NAN; }
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
