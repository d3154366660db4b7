/* ablation.c -- the localized set against random sets of the same size.  Lesson 14;
 * see include/ablation.h. */
#include "ablation.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int abl_random_set(int p, int k, uint64_t seed, int index, int *units, char *err) {
    if (k < 1 || k > p) return tb_fail(err, "random set of %d units out of %d", k, p);
    int *all = malloc((size_t)p * sizeof *all);
    if (!all) return tb_fail(err, "out of memory");
    for (int i = 0; i < p; i++) all[i] = i;
    tb_rng r;
    rng_seed(&r, rng_child_seed(seed, "ablation set", (uint64_t)index));
    for (int i = 0; i < k; i++) {   /* partial Fisher-Yates: the first k are the sample */
        int j = i + (int)rng_below(&r, (uint32_t)(p - i));
        int t = all[i]; all[i] = all[j]; all[j] = t;
    }
    memcpy(units, all, (size_t)k * sizeof *units);
    free(all);
    qsort(units, (size_t)k, sizeof *units, cmp_int);
    return 0;
}

double abl_quantile(const double *x, int n, double q) {
    if (n < 1) return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double h = q * (n - 1);
    int lo = (int)floor(h);
    double v = lo + 1 < n ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[n - 1];
    free(s);
    return v;
}

int abl_summarize(double local, const double *random, int n, int higher_is_harm, abl_summary *s, char *err) {
    if (n < 1) return tb_fail(err, "no random sets to compare with");
    int less = 0, ties = 0, at_least = 0;   /* random sets doing less harm / as much / at least as much */
    for (int i = 0; i < n; i++) {
        double harm_r = higher_is_harm ? random[i] : -random[i];
        double harm_l = higher_is_harm ? local : -local;
        less += harm_r < harm_l;
        ties += harm_r == harm_l;
        at_least += harm_r >= harm_l;
    }
    s->median = abl_quantile(random, n, 0.5);
    s->p05 = abl_quantile(random, n, 0.05);
    s->p95 = abl_quantile(random, n, 0.95);
    s->percentile = 100.0 * (less + 0.5 * ties) / n;
    s->p_value = (1.0 + at_least) / (1.0 + n);
    return 0;
}
