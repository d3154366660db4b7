/* linalg_eigh.c -- la_eigh, the symmetric eigendecomposition (see linalg.h) under every
 * CCA, PCA, encoding model and Procrustes distance of lessons 10-12.
 *
 * Three steps, as LAPACK's dsyev takes them:
 *   1. Householder reduction to tridiagonal form, A = Q T Q^T (dsytrd): step i reflects
 *      column i onto its first sub-diagonal entry with H_i = I - tau_i v_i v_i^T, and
 *      A <- H_i A H_i.  Blocked: the reflections of a panel of NB steps are gathered as
 *      A - V W^T - W V^T (w_i = tau_i A v_i, corrected for the panel's earlier steps)
 *      and applied to the trailing matrix by one product 2 NB deep (the packed products
 *      of linalg.c).  What stays one step at a time is the matrix-vector product A v_i,
 *      which reads the trailing matrix once.
 *   2. Q = H_0 H_1 ... H_{n-2} formed explicitly, a panel at a time in the compact WY
 *      form I - V T V^T (dorgtr): products again.
 *   3. The implicit QL algorithm with Wilkinson shifts on T (EISPACK tql2), its plane
 *      rotations applied to the rows of Q^T in cache-sized column slices.
 * Values only (V == NULL) skips step 2 and the rotations: O(n^2) after step 1.
 */
#include "linalg.h"
#include "linalg_priv.h"
#include "kernels.h"
#include "threads.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The steps that are not products (the matrix-vector product of step 1, the rotations
 * of step 3) are spread over the thread pool in slices of columns; each element is
 * computed by one task with the same operations in the same order as the serial loop
 * (threads.h, rule 2), so any thread count gives the same bits.  Below EIG_PAR
 * multiply-adds a step runs on the calling thread: handing it out costs more. */
#define EIG_PAR 40000
/* Reflections per panel of steps 1 and 2. */
#define NB 32

/* Slice [a, b) of [0, len) for task t of nt, cut at multiples of 16 (SIMD blocks). */
static void eig_slice(int len, int t, int nt, int *a, int *b) {
    int blocks = (len + 15) / 16;
    *a = (int)((long long)blocks * t / nt) * 16;
    *b = (int)((long long)blocks * (t + 1) / nt) * 16;
    if (*a > len) *a = len;
    if (*b > len) *b = len;
}

static void eig_run(void (*fn)(void *, int, int), void *job, double work) {
    int nt = work >= EIG_PAR ? tb_threads() : 1;
    if (nt <= 1) fn(job, 0, 1);
    else tb_parallel(nt, fn, job);
}

static double dot(int m, const double *a, const double *b) {
    double s = 0;
    for (int q = 0; q < m; q++) s += a[q] * b[q];
    return s;
}

/* ======================================================================== */
/* 1. tridiagonalisation                                                    */
/* ======================================================================== */

typedef struct {
    int n, keep;      /* keep: the reflectors are kept for step 2 (one row of R each) */
    double *A;        /* [n, n] symmetric, both triangles kept: row i doubles as column i */
    double *R;        /* v_i in R[i*n + i+1 .. n-1] (v_i[i+1] = 1); without keep, a ring of NB rows */
    double *Wp;       /* [NB, n] the panel's w vectors, one per row, in the same columns */
    double *tau, *d, *e; /* [n]: T's diagonal d and sub-diagonal e[i] = T[i, i-1], e[0] = 0 */
    double *y, *z;    /* scratch: [n] (A v), [2 NB] */
    int s;            /* the step's first reflected row (the matrix-vector product's range) */
    const double *v;
} trd_job;

static double *refl(const trd_job *t, int i) { return t->R + (size_t)(t->keep ? i : i % NB) * t->n; }

/* The reflection H = I - tau v v^T (v[0] = 1) with H x = beta e_1 for x[m] (LAPACK's
 * dlarfg, computed on x / scale against overflow): v[m], *beta; tau = 0 (H = I) when
 * x[1..m) is zero already. */
static double reflector(int m, const double *x, double *v, double *beta) {
    double scale = 0, ss = 0;
    for (int q = 1; q < m; q++) scale += fabs(x[q]);
    v[0] = 1.0;
    for (int q = 1; q < m; q++) v[q] = 0.0;
    *beta = x[0];
    if (scale == 0) return 0.0;
    scale += fabs(x[0]);
    double alpha = x[0] / scale;
    for (int q = 1; q < m; q++) {
        double u = x[q] / scale;
        ss += u * u;
    }
    double b = -copysign(sqrt(alpha * alpha + ss), alpha), f = 1.0 / (alpha - b);
    for (int q = 1; q < m; q++) v[q] = x[q] / scale * f;
    *beta = b * scale;
    return (b - alpha) / b;
}

/* y[c] = sum_{q >= s} v[q] A[q, c] for the task's slice of columns c >= s: the trailing
 * matrix times v, row by row (A symmetric), summed over q in order. */
static void trd_symv_task(void *ctx, int task, int nt) {
    trd_job *t = ctx;
    int s = t->s, m = t->n - s, a, b;
    eig_slice(m, task, nt, &a, &b);
    if (b > a) tb_kern->dgemm4(1, m, b - a, t->v + s, 1, 0, t->A + (size_t)s * t->n + s + a, (size_t)t->n, t->y + s + a, 0);
}

/* w = tau (A v - V (W^T v) - W (V^T v)) - (tau/2) (w^T v) v on rows s.. (dlatrd): A v
 * with A as it was before the panel, corrected for the panel's first j reflections. */
static void trd_w(trd_job *t, int k, int j, const double *v, double tau, double *w) {
    int n = t->n, s = t->s, m = n - s;
    double *y = t->y, *z = t->z;
    t->v = v;
    eig_run(trd_symv_task, t, (double)m * m);
    for (int l = 0; l < j; l++) {
        const double *vl = refl(t, k + l), *wl = t->Wp + (size_t)l * n;
        z[l] = dot(m, wl + s, v + s);
        z[NB + l] = dot(m, vl + s, v + s);
    }
    for (int l = 0; l < j; l++)
        tb_kern->daxpy2(m, -z[l], refl(t, k + l) + s, -z[NB + l], t->Wp + (size_t)l * n + s, y + s);
    for (int q = s; q < n; q++) w[q] = tau * y[q];
    tb_kern->daxpy(m, -0.5 * tau * dot(m, w + s, v + s), v + s, w + s);
}

/* Step i = k + j of the panel from k: bring row i (= column i) up to date with the
 * panel's earlier reflections, take T's entries d[i] and e[i+1] from it, and find its
 * reflection v_i and the panel's w_j. */
static void trd_step(trd_job *t, int k, int j) {
    int n = t->n, i = k + j, s = i + 1;
    double *a = t->A + (size_t)i * n, *w = t->Wp + (size_t)j * n;
    for (int l = 0; l < j; l++) { /* a -= V W[i]^T + W V[i]^T on columns i.. */
        const double *vl = refl(t, k + l), *wl = t->Wp + (size_t)l * n;
        tb_kern->daxpy2(n - i, -wl[i], vl + i, -vl[i], wl + i, a + i);
    }
    t->d[i] = a[i];
    double *v = refl(t, i);
    double tau = reflector(n - s, a + s, v + s, &t->e[s]);
    t->tau[i] = tau;
    t->s = s;
    if (tau == 0) memset(w + s, 0, (size_t)(n - s) * sizeof(double)); /* H_i = I */
    else trd_w(t, k, j, v, tau, w);
}

/* A panel of jb steps from k, then the trailing matrix A[s:, s:] (s = k + jb) minus
 * V W^T + W V^T in one product: C += P^T Qm with P = -[V; W], Qm = [W; V] (their rows
 * from column s on, into PQ[4 NB, n]). */
static void trd_panel(trd_job *t, int k, int jb, double *PQ) {
    for (int j = 0; j < jb; j++) trd_step(t, k, j);
    int n = t->n, s = k + jb, m = n - s;
    if (m < 1) return;
    double *P = PQ, *Qm = PQ + (size_t)2 * jb * m;
    for (int l = 0; l < jb; l++) {
        const double *v = refl(t, k + l) + s, *w = t->Wp + (size_t)l * n + s;
        for (int q = 0; q < m; q++) {
            P[(size_t)l * m + q] = -v[q];
            P[(size_t)(jb + l) * m + q] = -w[q];
        }
        memcpy(Qm + (size_t)l * m, w, (size_t)m * sizeof(double));
        memcpy(Qm + (size_t)(jb + l) * m, v, (size_t)m * sizeof(double));
    }
    la_gemm_strided(m, m, 2 * jb, P, (size_t)m, 1, Qm, (size_t)m, 1, t->A + (size_t)s * n + s, (size_t)n, 1);
}

static void tridiagonalise(trd_job *t, double *PQ) {
    int n = t->n;
    for (int k = 0; k < n - 1; k += NB) trd_panel(t, k, n - 1 - k < NB ? n - 1 - k : NB, PQ);
    t->d[n - 1] = t->A[(size_t)n * n - 1];
    t->e[0] = 0.0;
}

/* ======================================================================== */
/* 2. Q from the reflections                                                */
/* ======================================================================== */

/* T[jb, jb] (upper triangular, row stride NB) of the compact WY form of the panel whose
 * reflectors are the rows of Vb[jb, m] (dlarft): H_0 ... H_{jb-1} = I - Vb^T T Vb. */
static void wy_factor(int jb, int m, const double *Vb, const double *tau, double *T, double *z) {
    for (int l = 0; l < jb; l++) {
        for (int i = 0; i < l; i++) z[i] = dot(m - l, Vb + (size_t)i * m + l, Vb + (size_t)l * m + l);
        for (int i = 0; i < l; i++) {
            double s = 0;
            for (int q = i; q < l; q++) s += T[i * NB + q] * z[q];
            T[i * NB + l] = -tau[l] * s;
        }
        T[l * NB + l] = tau[l];
    }
}

/* Q[n, n] = H_0 H_1 ... H_{n-2} (dorgtr), panel by panel from the last: Q <- (I - Vb^T
 * T Vb) Q on rows and columns s.. (s = the panel's first reflected row).  Scratch:
 * Vb and Wm [NB, n] each, T [NB, NB], z [NB]. */
static void form_q(const trd_job *t, double *Q, double *Vb, double *Wm, double *T, double *z) {
    int n = t->n;
    memset(Q, 0, (size_t)n * n * sizeof(double));
    for (int i = 0; i < n; i++) Q[(size_t)i * n + i] = 1.0;
    for (int k = (n - 2) / NB * NB; n >= 2 && k >= 0; k -= NB) {
        int jb = n - 1 - k < NB ? n - 1 - k : NB, s = k + 1, m = n - s;
        for (int l = 0; l < jb; l++) { /* v_{k+l} on rows s.., zero before its row k+l+1 */
            double *row = Vb + (size_t)l * m;
            memset(row, 0, (size_t)l * sizeof(double));
            memcpy(row + l, t->R + (size_t)(k + l) * n + s + l, (size_t)(m - l) * sizeof(double));
        }
        wy_factor(jb, m, Vb, t->tau + k, T, z);
        double *Qs = Q + (size_t)s * n + s;
        la_gemm_strided(jb, m, m, Vb, 1, (size_t)m, Qs, (size_t)n, 1, Wm, (size_t)m, 0); /* Wm = Vb Qs */
        for (int l = 0; l < jb; l++) { /* Wm <- -T Wm, row by row from the top (T upper) */
            double *r = Wm + (size_t)l * m, tl = -T[l * NB + l];
            for (int q = 0; q < m; q++) r[q] *= tl;
            for (int i = l + 1; i < jb; i++) tb_kern->daxpy(m, -T[l * NB + i], Wm + (size_t)i * m, r);
        }
        la_gemm_strided(m, m, jb, Vb, (size_t)m, 1, Wm, (size_t)m, 1, Qs, (size_t)n, 1); /* Qs += Vb^T Wm */
    }
}

/* ======================================================================== */
/* 3. the tridiagonal eigenproblem                                          */
/* ======================================================================== */

/* ---- the QL sweeps' rotations, applied to the eigenvectors in one go ----------------
 * The rotations of a QL sweep depend on the tridiagonal only, never on the eigenvectors,
 * so the sweeps are logged and replayed afterwards column slice by column slice: a slice
 * of ROT_COLS columns stays in L2 while every sweep passes over it, where applying each
 * sweep to all of W at once streamed the whole matrix from L3 once per sweep (~2n times).
 * Each element still sees the same rotations in the same order: the same bits.  The log
 * is replayed early when it holds ROT_CAP rotations (64 MB), which bounds its memory. */
#define ROT_COLS 32
#define ROT_CAP (4u << 20)

typedef struct {
    double *c, *s;       /* each sweep's k rotations, contiguous, in drot_chain's indexing */
    size_t nrot, caprot;
    int *first, *k;      /* per sweep: its first row and its number of rotations */
    int nsweep, capsweep;
} rot_log;

static int rot_log_add(rot_log *g, int l, int k, const double *c, const double *s) {
    if (g->nrot + (size_t)k > g->caprot) {
        size_t cap = 2 * (g->nrot + (size_t)k) + 1024;
        double *nc = realloc(g->c, cap * sizeof(double));
        if (nc) g->c = nc;
        double *ns = nc ? realloc(g->s, cap * sizeof(double)) : NULL;
        if (!ns) return -1;
        g->s = ns;
        g->caprot = cap;
    }
    if (g->nsweep == g->capsweep) {
        int cap = 2 * g->capsweep + 64;
        int *nf = realloc(g->first, (size_t)cap * sizeof(int));
        if (nf) g->first = nf;
        int *nk = nf ? realloc(g->k, (size_t)cap * sizeof(int)) : NULL;
        if (!nk) return -1;
        g->k = nk;
        g->capsweep = cap;
    }
    memcpy(g->c + g->nrot, c, (size_t)k * sizeof(double));
    memcpy(g->s + g->nrot, s, (size_t)k * sizeof(double));
    g->first[g->nsweep] = l;
    g->k[g->nsweep++] = k;
    g->nrot += (size_t)k;
    return 0;
}

typedef struct { const rot_log *g; double *W; size_t ld; int n; } replay_job;

static void replay_task(void *ctx, int t, int nt) {
    const replay_job *j = ctx;
    const rot_log *g = j->g;
    int a, b;
    eig_slice(j->n, t, nt, &a, &b);
    for (int j0 = a; j0 < b; j0 += ROT_COLS) {
        int w = b - j0 < ROT_COLS ? b - j0 : ROT_COLS;
        size_t off = 0;
        for (int q = 0; q < g->nsweep; q++) {
            tb_kern->drot_chain(g->k[q], g->c + off, g->s + off, j->W + (size_t)g->first[q] * j->ld + j0, j->ld, w);
            off += (size_t)g->k[q];
        }
    }
}

/* Apply the logged sweeps to W[n, ld] (rows = eigenvectors) and empty the log. */
static void rot_log_replay(rot_log *g, double *W, size_t ld, int n) {
    replay_job j = {g, W, ld, n};
    int nt = 3.0 * (double)g->nrot * n >= EIG_PAR ? tb_threads() : 1;
    if (g->nsweep > 0) {
        if (nt > 1) tb_parallel(nt, replay_task, &j);
        else replay_task(&j, 0, 1);
    }
    g->nrot = 0;
    g->nsweep = 0;
}

static void rot_log_free(rot_log *g) {
    free(g->c); free(g->s); free(g->first); free(g->k);
}

/* One implicit QL sweep with a Wilkinson-type shift on rows l..m of the tridiagonal
 * (d, e); *f accumulates the shifts.  Rotation i (rows i and i+1) is (cs[i], ss[i]). */
static void ql_sweep(int n, int l, int m, double *d, double *e, double *f, double *cs, double *ss) {
    double g = d[l];
    double p = (d[l + 1] - g) / (2.0 * e[l]);
    double r = hypot(p, 1.0);
    if (p < 0) r = -r;
    d[l] = e[l] / (p + r);
    d[l + 1] = e[l] * (p + r);
    double dl1 = d[l + 1], h = g - d[l];
    for (int i = l + 2; i < n; i++) d[i] -= h;
    *f += h;
    p = d[m];
    double c = 1.0, c2 = c, c3 = c, el1 = e[l + 1], s = 0.0, s2 = 0.0;
    for (int i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        g = c * e[i];
        h = c * p;
        r = hypot(p, e[i]);
        e[i + 1] = s * r;
        s = e[i] / r;
        c = p / r;
        p = c * d[i] - s * g;
        d[i + 1] = h + s * (c * g + s * d[i]);
        cs[i] = c;
        ss[i] = s;
    }
    p = -s * s2 * c3 * el1 * e[l] / dl1;
    e[l] = s * p;
    d[l] = c * p;
}

static int ql_iterate(int n, double *d, double *e, double *W, size_t ldw, double *cs, double *ss, rot_log *g);

/* Implicit QL with Wilkinson-type shifts on the tridiagonal (d, e) (EISPACK tql2).
 * W[n, ldw] holds the eigenvector matrix TRANSPOSED (row j = vector j); the sweeps'
 * rotations are logged and replayed on it in column slices (see rot_log; W may be
 * NULL: eigenvalues only).  cs, ss: n doubles of scratch each.  Returns -1 if an
 * eigenvalue fails to converge in 60 iterations. */
static int tridiagonal_ql(int n, double *d, double *e, double *W, size_t ldw, double *cs, double *ss) {
    rot_log g = {0};
    int rc = ql_iterate(n, d, e, W, ldw, cs, ss, &g);
    if (W && rc == 0) rot_log_replay(&g, W, ldw, n);
    rot_log_free(&g);
    return rc;
}

/* The QL iteration of tridiagonal_ql, logging each sweep's rotations in g. */
static int ql_iterate(int n, double *d, double *e, double *W, size_t ldw, double *cs, double *ss, rot_log *g) {
    for (int i = 1; i < n; i++) e[i - 1] = e[i];
    e[n - 1] = 0.0;
    double f = 0.0, tst1 = 0.0, eps = DBL_EPSILON;
    for (int l = 0; l < n; l++) {
        double t = fabs(d[l]) + fabs(e[l]);
        if (t > tst1) tst1 = t;
        int m = l;
        while (m < n && fabs(e[m]) > eps * tst1) m++;
        if (m == n) m = n - 1;
        for (int iter = 1; m > l; iter++) {
            if (iter > 60) return -1;
            ql_sweep(n, l, m, d, e, &f, cs, ss);
            if (W && (g->nrot >= ROT_CAP || rot_log_add(g, l, m - l, cs + l, ss + l))) {
                rot_log_replay(g, W, ldw, n); /* full, or out of memory: apply what is logged */
                if (rot_log_add(g, l, m - l, cs + l, ss + l)) return -2;
            }
            if (!(fabs(e[l]) > eps * tst1)) break;
        }
        d[l] += f;
        e[l] = 0.0;
    }
    return 0;
}

/* The row stride of the QL step's eigenvector buffer: a stride of a multiple of 4 KB
 * would put a column slice's rows in one cache set (2.4x slower at n = 512). */
static size_t ql_stride(int n) { return (size_t)n + (n % 64 == 0 ? 8 : 0); }

/* w[n] descending and, with W, the matching rows of W (stride ld) as V's columns. */
static void sort_out(int n, double *w, const double *W, size_t ld, double *V, int *idx, double *tmp) {
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = 0; i < n; i++) { /* selection sort on indices: n is small next to O(n^3) */
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (w[idx[j]] > w[idx[best]]) best = j;
        int t = idx[i]; idx[i] = idx[best]; idx[best] = t;
    }
    for (int i = 0; i < n; i++) tmp[i] = w[idx[i]];
    memcpy(w, tmp, (size_t)n * sizeof(double));
    for (int j = 0; V && j < n; j++) {
        const double *vec = W + (size_t)idx[j] * ld;
        for (int i = 0; i < n; i++) V[(size_t)i * n + j] = vec[i];
    }
}

/* The buffers of one la_eigh call, all or none. */
typedef struct { double *M, *R, *Wp, *PQ, *tau, *e, *y, *z, *W; int *idx; } eigh_bufs;

static void eigh_free(eigh_bufs *b) {
    free(b->M); free(b->R); free(b->Wp); free(b->PQ); free(b->tau); free(b->e); free(b->y); free(b->z);
    free(b->W); free(b->idx);
}

static int eigh_alloc(int n, int vectors, size_t ld, eigh_bufs *b) {
    size_t nn = (size_t)n * n, rows = vectors ? (size_t)n : NB;
    b->M = malloc(nn * sizeof(double));
    b->R = malloc(rows * n * sizeof(double));
    b->Wp = malloc((size_t)NB * n * sizeof(double));
    b->PQ = malloc((size_t)4 * NB * n * sizeof(double));
    b->tau = malloc((size_t)n * sizeof(double));
    b->e = malloc((size_t)n * sizeof(double));
    b->y = malloc(2 * (size_t)n * sizeof(double));
    b->z = malloc((size_t)(NB * NB + 2 * NB) * sizeof(double));
    b->W = vectors ? malloc((size_t)n * ld * sizeof(double)) : NULL;
    b->idx = malloc((size_t)n * sizeof(int));
    if (b->M && b->R && b->Wp && b->PQ && b->tau && b->e && b->y && b->z && b->idx && (!vectors || b->W)) return 0;
    eigh_free(b);
    return -1;
}

int la_eigh(int n, const double *A, double *w, double *V, char *err) {
    if (n < 1) return tb_fail(err, "eigh: empty matrix");
    for (size_t i = 0; i < (size_t)n * n; i++)
        if (!isfinite(A[i])) return tb_fail(err, "eigh: matrix has a non-finite entry");
    size_t ld = ql_stride(n);
    eigh_bufs b;
    if (eigh_alloc(n, V != NULL, ld, &b)) return tb_fail(err, "eigh: out of memory (n = %d)", n);
    /* symmetrise: only the average of A and A^T is used */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) b.M[(size_t)i * n + j] = 0.5 * (A[(size_t)i * n + j] + A[(size_t)j * n + i]);
    trd_job t = {.n = n, .keep = V != NULL, .A = b.M, .R = b.R, .Wp = b.Wp, .tau = b.tau, .d = w, .e = b.e,
                 .y = b.y, .z = b.z};
    tridiagonalise(&t, b.PQ);
    if (V) { /* Q into M (A is no longer needed), then its columns as the rows of W */
        form_q(&t, b.M, b.PQ, b.PQ + (size_t)NB * n, b.z, b.z + NB * NB);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) b.W[(size_t)j * ld + i] = b.M[(size_t)i * n + j];
    }
    int rc = tridiagonal_ql(n, w, b.e, b.W, ld, b.y, b.y + n);
    if (rc == 0) sort_out(n, w, b.W, ld, V, b.idx, b.tau);
    eigh_free(&b);
    if (rc == -2) return tb_fail(err, "eigh: out of memory (n = %d)", n);
    return rc ? tb_fail(err, "eigh: QL iteration did not converge (n = %d)", n) : 0;
}
