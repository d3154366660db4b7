/* align_stats.c -- is a similarity real, and how sure are we of it? (lessons 10-12)
 *
 * Permutation tests ask whether a score beats chance: under the null hypothesis the
 * stimulus labels of one side are exchangeable, so shuffling them draws from the null
 * distribution; p = (1 + #{null >= observed}) / (1 + n_perm), never 0.
 * Bootstrap intervals ask how much a score would move with other stimuli: resample the
 * n stimuli with replacement, recompute, and read the percentile interval.
 */
#include "align_priv.h"
#include "linalg.h"
#include "rng.h"
#include "threads.h"

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

/* The upper-triangle entries of D[n,n] on a resample idx[n], over the pairs of
 * positions holding distinct original stimuli (a stimulus and its own copy have
 * distance 0 by definition, not by data), into v; returns their number. */
static long gather_pairs(const double *D, int n, const int *idx, double *v) {
    long m = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (idx[i] != idx[j]) v[m++] = D[(size_t)idx[i] * n + idx[j]];
    return m;
}

/* Spearman RSA on a resample idx[n]; va, vb: scratch of n(n-1)/2. */
static double boot_rsa(const double *Da, const double *Db, int n, const int *idx, double *va, double *vb) {
    long m = gather_pairs(Da, n, idx, va);
    gather_pairs(Db, n, idx, vb);
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

/* ---- which layer is best? ------------------------------------------------------------ */

static const char *const boot_metric_names[] = {"rsa_spearman", "rsa_kendall_a", "rsa_pearson", "cka_linear"};

const char *boot_metric_name(boot_metric m) {
    return m >= 0 && m <= BOOT_CKA_LINEAR ? boot_metric_names[m] : "?";
}

int boot_metric_from_name(const char *name) {
    for (int m = 0; m <= BOOT_CKA_LINEAR; m++)
        if (!strcmp(name, boot_metric_names[m])) return m;
    return -1;
}

/* What every resample needs.  RSA metrics: each side's RDM upper triangle v[m0] (and,
 * for Spearman, its sort order), so that a resample is just a count per original pair
 * (pairs of a stimulus with its own copy get none) and a layer's score an O(m0) pass.
 * CKA: each side's Gram matrix of the centred data.  score: where each resample's scores
 * go. */
typedef struct {
    int L, n, n_boot;
    long m0;           /* n(n-1)/2 */
    boot_metric m;
    uint64_t seed;
    double **v, *vy;   /* [L][m0], [m0] RDM upper triangles (RSA) */
    long **ord, *ordy; /* their orders (Spearman) */
    double **K, *KY;   /* [L][n*n], [n*n] Gram matrices (CKA) */
    double *score;     /* [n_boot, L]: layer l's score on resample b */
    int *rc;           /* [tasks] */
} best_ctx;

/* Per-task scratch. */
typedef struct {
    int *idx, *cnt;          /* [n] the resample; [m0] copies of each original pair */
    double *ra, *rb;         /* [m0] ranks of a layer and of Y (Spearman) */
    double *va, *vb;         /* [m0] gathered pairs (Kendall) */
    double *Ks, *Ls, *row;   /* [n*n], [n*n], [n] (CKA) */
} best_scratch;

/* Pearson r over entries weighted by w (a resample's copies of each pair). */
static double weighted_pearson(const double *a, const double *b, const int *w, long m) {
    double W = 0, ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (long k = 0; k < m; k++) { W += w[k]; ma += w[k] * a[k]; mb += w[k] * b[k]; }
    if (!(W > 2)) return NAN;
    ma /= W;
    mb /= W;
    for (long k = 0; k < m; k++) {
        double x = a[k] - ma, y = b[k] - mb;
        sab += w[k] * x * y; saa += w[k] * x * x; sbb += w[k] * y * y;
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

/* Upper-triangle entries of the n-pair list, each repeated cnt times, into v; their number. */
static long expand_pairs(const double *u, const int *cnt, long m0, double *v) {
    long m = 0;
    for (long k = 0; k < m0; k++)
        for (int c = 0; c < cnt[k]; c++) v[m++] = u[k];
    return m;
}

/* Layer l's score on the current resample (x->idx, x->cnt, and Y's ranks in x->rb). */
static double best_score(const best_ctx *c, int l, best_scratch *x) {
    switch (c->m) {
    case BOOT_CKA_LINEAR: return al_cka_sub(c->K[l], c->KY, c->n, x->idx, c->n, x->Ks, x->Ls, x->row);
    case BOOT_RSA_PEARSON: return weighted_pearson(c->v[l], c->vy, x->cnt, c->m0);
    case BOOT_RSA_SPEARMAN:
        al_ranks_from_order(c->v[l], c->ord[l], c->m0, x->cnt, x->ra);
        return weighted_pearson(x->ra, x->rb, x->cnt, c->m0);
    case BOOT_RSA_KENDALL_A: { /* pairs of copies are ties: tau-a needs the expanded vectors */
        long m = expand_pairs(c->v[l], x->cnt, c->m0, x->va);
        expand_pairs(c->vy, x->cnt, c->m0, x->vb);
        return m > 2 ? rsa_kendall_a(x->va, x->vb, m) : NAN;
    }
    }
    return NAN;
}

/* Resample b: its own generator stream, so the verdicts do not depend on which task
 * (thread) draws it. */
static void best_resample(const best_ctx *c, int b, best_scratch *x) {
    int n = c->n;
    tb_rng g;
    rng_stream(&g, c->seed, 0xBE57000000ull + (uint64_t)b);
    for (int i = 0; i < n; i++) x->idx[i] = (int)rng_below(&g, (uint32_t)n);
    if (c->m != BOOT_CKA_LINEAR) { /* copies of each original pair (a < b), as in rdm_upper */
        memset(x->cnt, 0, (size_t)c->m0 * sizeof(int));
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                long lo = x->idx[i] < x->idx[j] ? x->idx[i] : x->idx[j], hi = x->idx[i] + x->idx[j] - lo;
                if (lo != hi) x->cnt[lo * n - lo * (lo + 1) / 2 + (hi - lo - 1)]++;
            }
    }
    if (c->m == BOOT_RSA_SPEARMAN) al_ranks_from_order(c->vy, c->ordy, c->m0, x->cnt, x->rb);
    for (int l = 0; l < c->L; l++) c->score[(size_t)b * c->L + l] = best_score(c, l, x);
}

static void best_task(void *ctx, int t, int nt) {
    best_ctx *c = ctx;
    int n = c->n, cka = c->m == BOOT_CKA_LINEAR, ken = c->m == BOOT_RSA_KENDALL_A;
    size_t m0 = cka ? 1 : (size_t)c->m0, nn = cka ? (size_t)n * n : 1, mk = ken ? m0 : 1;
    best_scratch x = {al_ints((size_t)n), al_ints(m0), al_doubles(m0), al_doubles(m0),
                      al_doubles(mk), al_doubles(mk), al_doubles(nn), al_doubles(nn), al_doubles((size_t)n)};
    c->rc[t] = -1;
    if (!x.idx || !x.cnt || !x.ra || !x.rb || !x.va || !x.vb || !x.Ks || !x.Ls || !x.row) goto done;
    for (int b = (int)((long long)t * c->n_boot / nt); b < (int)((long long)(t + 1) * c->n_boot / nt); b++)
        best_resample(c, b, &x);
    c->rc[t] = 0;
done:
    free(x.idx); free(x.cnt); free(x.ra); free(x.rb);
    free(x.va); free(x.vb); free(x.Ks); free(x.Ls); free(x.row);
}

/* One side X[n,p], prepared for the metric: the Gram matrix of its centred columns
 * (*K, CKA) or its RDM's upper triangle (*v) and, for Spearman, its order (*ord). */
static int best_side(const double *X, int n, int p, const best_ctx *c, rdm_kind rdm, double **v, long **ord,
                     double **K, char *err) {
    double *D = NULL, *Xc = NULL;
    int rc = -1;
    if (c->m == BOOT_CKA_LINEAR) {
        Xc = al_centred(X, n, p);
        *K = al_doubles((size_t)n * n);
        if (!Xc || !*K) { tb_fail(err, "out of memory"); goto done; }
        la_gram_rows(n, p, Xc, *K);
        rc = 0;
        goto done;
    }
    D = al_doubles((size_t)n * n);
    *v = al_doubles((size_t)c->m0);
    *ord = c->m == BOOT_RSA_SPEARMAN ? malloc((size_t)c->m0 * sizeof **ord) : NULL;
    if (!D || !*v || (c->m == BOOT_RSA_SPEARMAN && !*ord)) { tb_fail(err, "out of memory"); goto done; }
    if (align_rdm(X, n, p, rdm, D, err)) goto done;
    rdm_upper(D, n, *v);
    if (*ord && al_argsort(*v, c->m0, *ord)) { tb_fail(err, "out of memory"); goto done; }
    rc = 0;
done:
    free(D); free(Xc);
    return rc;
}

/* Everything best_side allocated for the layers and for Y. */
static void best_ctx_free(best_ctx *c) {
    for (int l = 0; l < c->L; l++) {
        if (c->v) free(c->v[l]);
        if (c->ord) free(c->ord[l]);
        if (c->K) free(c->K[l]);
    }
    free(c->v); free(c->ord); free(c->K);
    free(c->vy); free(c->ordy); free(c->KY); free(c->rc);
}

int boot_scores(const double *const *layers, const int *p, int n_layers, int n, const double *Y, int py,
                boot_metric m, rdm_kind rdm, int n_boot, uint64_t seed, double *scores, char *err) {
    if (m < 0 || m > BOOT_CKA_LINEAR) return tb_fail(err, "bootstrap: unknown metric %d", (int)m);
    if (n_layers < 1 || n_boot < 1 || n < 4)
        return tb_fail(err, "bootstrap: need at least 1 layer, 1 resample and 4 stimuli (got %d, %d, %d)", n_layers, n_boot, n);
    int tasks = tb_threads(), rc = -1;
    best_ctx c = {.L = n_layers, .n = n, .n_boot = n_boot, .m0 = (long)n * (n - 1) / 2, .m = m, .seed = seed,
                  .score = scores};
    c.v = calloc((size_t)n_layers, sizeof *c.v);
    c.ord = calloc((size_t)n_layers, sizeof *c.ord);
    c.K = calloc((size_t)n_layers, sizeof *c.K);
    c.rc = al_ints((size_t)tasks);
    if (!c.v || !c.ord || !c.K || !c.rc) { tb_fail(err, "out of memory"); goto done; }
    if (best_side(Y, n, py, &c, rdm, &c.vy, &c.ordy, &c.KY, err)) goto done;
    for (int l = 0; l < n_layers; l++)
        if (best_side(layers[l], n, p[l], &c, rdm, &c.v[l], &c.ord[l], &c.K[l], err)) goto done;
    tb_parallel(tasks, best_task, &c);
    for (int t = 0; t < tasks; t++)
        if (c.rc[t]) { tb_fail(err, "out of memory"); goto done; }
    rc = 0;
done:
    best_ctx_free(&c);
    return rc;
}

void boot_p_best(const double *scores, int n_boot, int n_layers, double *p_best) {
    for (int l = 0; l < n_layers; l++) p_best[l] = 0;
    for (int b = 0; b < n_boot; b++) {   /* summed in resample order: the same for any thread count */
        const double *s = scores + (size_t)b * n_layers;
        double best = -INFINITY;
        int ties = 0;
        for (int l = 0; l < n_layers; l++)
            if (s[l] > best) best = s[l];
        for (int l = 0; l < n_layers; l++) ties += s[l] == best;
        for (int l = 0; l < n_layers && ties; l++)
            if (s[l] == best) p_best[l] += 1.0 / ties;
    }
    for (int l = 0; l < n_layers; l++) p_best[l] /= n_boot;
}

int best_layer_p(const double *const *layers, const int *p, int n_layers, int n, const double *Y, int py,
                 boot_metric m, rdm_kind rdm, int n_boot, uint64_t seed, double *p_best, char *err) {
    if (n_layers < 1 || n_boot < 1) return tb_fail(err, "best layer: need at least 1 layer and 1 resample");
    double *scores = al_doubles((size_t)n_boot * n_layers);
    if (!scores) return tb_fail(err, "out of memory");
    int rc = boot_scores(layers, p, n_layers, n, Y, py, m, rdm, n_boot, seed, scores, err);
    if (!rc) boot_p_best(scores, n_boot, n_layers, p_best);
    free(scores);
    return rc;
}
