/* linalg.c -- float64 eigendecomposition, SVD, Cholesky, least squares (see linalg.h).
 * The alignment metrics of lessons 10-12 are all built from these.  The algorithms are
 * the classic, well-understood ones (Householder + QL for eigh, Hestenes one-sided
 * Jacobi for the SVD), written for clarity first and then for cache-friendly loops. */
#include "linalg.h"
#include "kernels.h"
#include "threads.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The loops that carry the O(n^3) work and can run several elements at once (column
 * updates, plane rotations, four-row products) go through the kernel table (kernels.h:
 * daxpy, daxpy2, drot, dgemm4), whose SIMD versions give the same bits as the scalar
 * ones; the dot products stay here, summed in order. */

/* ======================================================================== */
/* symmetric eigendecomposition                                             */
/* ======================================================================== */

/* The O(n^3) loops of la_eigh are spread over the thread pool in slices of rows or
 * columns.  Each element is computed by one task with the same operations in the same
 * order as the serial loop (threads.h, rule 2), so any thread count gives the same bits;
 * below EIG_PAR elements a step runs on the calling thread: a step is a few hundred
 * microseconds at most, and on a machine shared with other work a worker that is not
 * running when the step is handed out costs more than the step. */
#define EIG_PAR 250000

typedef struct {
    int n, i;              /* matrix order; active block rows/columns [0, i) */
    double *M;             /* the n x n matrix being worked on */
    double *d, *e, *u, *g; /* the step's vectors (see the loops that use them) */
} eig_job;

/* Slice [a, b) of [0, len) for task t of nt, cut at multiples of 16 (SIMD blocks). */
static void eig_slice(int len, int t, int nt, int *a, int *b) {
    int blocks = (len + 15) / 16;
    *a = (int)((long long)blocks * t / nt) * 16;
    *b = (int)((long long)blocks * (t + 1) / nt) * 16;
    if (*a > len) *a = len;
    if (*b > len) *b = len;
}

static void eig_run(void (*fn)(void *, int, int), eig_job *j, double work) {
    int nt = work >= EIG_PAR ? tb_threads() : 1;
    if (nt <= 1) fn(j, 0, 1);
    else tb_parallel(nt, fn, j);
}

/* e[k] = sum_{j<i} A[k,j] d[j] for k < i (A symmetric, stored whole: column j = row j),
 * summed over j in order from zero. */
static void symv_task(void *ctx, int t, int nt) {
    eig_job *j = ctx;
    int a, b;
    eig_slice(j->i, t, nt, &a, &b);
    if (b > a) tb_kern->dgemm4(1, j->i, b - a, j->d, 1, 0, j->M + a, (size_t)j->n, j->e + a, 0);
}

/* The rank-2 update A[.., c] += -d[c] e - e[c] d on the columns c < i (whole columns, so
 * A stays symmetric: the two products of a mirrored pair are the same two numbers). */
static void syr2_task(void *ctx, int t, int nt) {
    eig_job *j = ctx;
    int a, b;
    eig_slice(j->i, t, nt, &a, &b);
    for (int c = a; c < b; c++) tb_kern->daxpy2(j->i, -j->d[c], j->e, -j->e[c], j->d, j->M + (size_t)c * j->n);
}

/* One step of the accumulation on the row-major R (R[k*n + j] = element (k, j)): for
 * the columns c <= i of this task, g[c] = sum_{k<=i} u[k] R[k,c] (in order from zero),
 * then R[k, c] += (-g[c]) d[k]. */
static void accum_task(void *ctx, int t, int nt) {
    eig_job *j = ctx;
    int a, b, n = j->n, w = j->i + 1;
    eig_slice(w, t, nt, &a, &b);
    if (b <= a) return;
    tb_kern->dgemm4(1, w, b - a, j->u, 1, 0, j->M + a, (size_t)n, j->g + a, 0);
    for (int c = a; c < b; c++) j->g[c] = -j->g[c];
    for (int k = 0; k < w; k++) tb_kern->daxpy(b - a, j->d[k], j->g + a, j->M + (size_t)k * n + a);
}

static void transpose_square(int n, double *M) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double t = M[(size_t)i * n + j];
            M[(size_t)i * n + j] = M[(size_t)j * n + i];
            M[(size_t)j * n + i] = t;
        }
}

/* Multiply the reflections stored by the reduction (u of step i in column i above the
 * diagonal, h in d[i]) into the orthogonal matrix, as tred2's second half, with the
 * buffer transposed so that both of its loops run along contiguous rows. */
static void accumulate_reflections(int n, double *V, double *d, double *scratch) {
#define RM(k, j) V[(size_t)(k) * n + (j)]
    eig_job job = {.n = n, .M = V, .d = d, .u = scratch, .g = scratch + n};
    transpose_square(n, V);
    for (int i = 0; i < n - 1; i++) {
        RM(n - 1, i) = RM(i, i);
        RM(i, i) = 1.0;
        double h = d[i + 1];
        if (h != 0.0) {
            for (int k = 0; k <= i; k++) {
                job.u[k] = RM(k, i + 1);
                d[k] = job.u[k] / h;
            }
            job.i = i;
            eig_run(accum_task, &job, 2.0 * (i + 1) * (i + 1));
        }
        for (int k = 0; k <= i; k++) RM(k, i + 1) = 0.0;
    }
    for (int j = 0; j < n; j++) {
        d[j] = RM(n - 1, j);
        RM(n - 1, j) = 0.0;
    }
    RM(n - 1, n - 1) = 1.0;
    transpose_square(n, V);
#undef RM
}

/* Householder reduction of the symmetric V[n,n] (overwritten) to tridiagonal form: on
 * return d[] is the diagonal, e[1..n-1] the sub-diagonal, and (accumulate != 0) V the
 * orthogonal matrix that did it (A = V T V^T), column j of it stored as row j of the
 * buffer: the layout the QL step wants.  Each step i zeroes row i left of the
 * sub-diagonal with the reflection P = I - u u^T / h; the active block is kept whole
 * (both triangles), so the matrix-vector product and the rank-2 update run down
 * contiguous columns.  AT(i, j) = V[j*n + i] is element (i, j) in the notation of the
 * EISPACK tred2 this follows, and every number is the one tred2 computes. */
static void tridiagonalise(int n, double *V, double *d, double *e, int accumulate, double *scratch) {
#define AT(i, j) V[(size_t)(j) * n + (i)]
    eig_job job = {.n = n, .M = V, .d = d, .e = e};
    for (int j = 0; j < n; j++) d[j] = AT(n - 1, j);
    for (int i = n - 1; i > 0; i--) {
        double scale = 0.0, h = 0.0;
        for (int k = 0; k < i; k++) scale += fabs(d[k]);
        if (scale == 0.0) {
            e[i] = d[i - 1];
            for (int j = 0; j < i; j++) {
                d[j] = AT(i - 1, j);
                AT(i, j) = 0.0;
                AT(j, i) = 0.0;
            }
        } else {
            for (int k = 0; k < i; k++) {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            double f = d[i - 1], g = sqrt(h);
            if (f > 0) g = -g;
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for (int j = 0; j < i; j++) AT(j, i) = d[j]; /* u, kept for the accumulation */
            job.i = i;
            eig_run(symv_task, &job, (double)i * i);     /* e = A u */
            f = 0.0;
            for (int j = 0; j < i; j++) {
                e[j] /= h;
                f += e[j] * d[j];
            }
            double hh = f / (h + h);
            tb_kern->daxpy(i, -hh, d, e);                /* e -= hh d */
            eig_run(syr2_task, &job, (double)i * i);     /* A -= d e^T + e d^T */
            for (int j = 0; j < i; j++) {
                d[j] = AT(i - 1, j);
                AT(i, j) = 0.0;
            }
        }
        d[i] = h;
    }
#undef AT
    if (accumulate) accumulate_reflections(n, V, d, scratch);
    else for (int j = 0; j < n; j++) d[j] = V[(size_t)j * n + j];
    e[0] = 0.0;
}

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

int la_eigh(int n, const double *A, double *w, double *V, char *err) {
    if (n < 1) return tb_fail(err, "eigh: empty matrix");
    for (size_t i = 0; i < (size_t)n * n; i++)
        if (!isfinite(A[i])) return tb_fail(err, "eigh: matrix has a non-finite entry");
    size_t ld = ql_stride(n);
    double *Q = malloc((size_t)n * n * sizeof(double)), *e = malloc((size_t)n * sizeof(double));
    double *scratch = malloc(2 * (size_t)n * sizeof(double)), *W = V ? malloc((size_t)n * ld * sizeof(double)) : NULL;
    int *idx = malloc((size_t)n * sizeof(int));
    if (!Q || !e || !scratch || !idx || (V && !W)) {
        free(Q); free(e); free(scratch); free(idx); free(W);
        return tb_fail(err, "eigh: out of memory (n = %d)", n);
    }
    /* symmetrise: only the average of A and A^T is used */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) Q[(size_t)i * n + j] = 0.5 * (A[(size_t)i * n + j] + A[(size_t)j * n + i]);
    tridiagonalise(n, Q, w, e, V != NULL, scratch); /* Q's row j is now column j of the reduction */
    for (int j = 0; W && j < n; j++) memcpy(W + (size_t)j * ld, Q + (size_t)j * n, (size_t)n * sizeof(double));
    int rc = tridiagonal_ql(n, w, e, W, ld, scratch, scratch + n);
    if (rc == 0) {
        /* sort descending (selection sort on indices: n is small next to the O(n^3) above) */
        for (int i = 0; i < n; i++) idx[i] = i;
        for (int i = 0; i < n; i++) {
            int best = i;
            for (int j = i + 1; j < n; j++)
                if (w[idx[j]] > w[idx[best]]) best = j;
            int t = idx[i]; idx[i] = idx[best]; idx[best] = t;
        }
        for (int i = 0; i < n; i++) e[i] = w[idx[i]];
        memcpy(w, e, (size_t)n * sizeof(double));
        if (V)
            for (int j = 0; j < n; j++) {
                const double *vec = W + (size_t)idx[j] * ld;
                for (int i = 0; i < n; i++) V[(size_t)i * n + j] = vec[i];
            }
    }
    free(Q); free(e); free(scratch); free(idx); free(W);
    if (rc == -2) return tb_fail(err, "eigh: out of memory (n = %d)", n);
    return rc ? tb_fail(err, "eigh: QL iteration did not converge (n = %d)", n) : 0;
}

/* ======================================================================== */
/* thin SVD by one-sided Jacobi                                             */
/* ======================================================================== */

/* G[n][m]: the n columns of an m x n matrix stored as rows (contiguous).  Rotate pairs
 * of rows until every pair is orthogonal; Vr[n][n] accumulates the rotations (rows). */
static int jacobi_columns(int m, int n, double *G, double *Vr) {
    const double tol = 1e-15;
    for (int sweep = 0; sweep < 80; sweep++) {
        int rotated = 0;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                double *gp = G + (size_t)p * m, *gq = G + (size_t)q * m;
                double a = 0, b = 0, g = 0;
                for (int i = 0; i < m; i++) {
                    a += gp[i] * gp[i];
                    b += gq[i] * gq[i];
                    g += gp[i] * gq[i];
                }
                if (g == 0.0 || fabs(g) <= tol * sqrt(a * b)) continue;
                rotated = 1;
                /* the rotation that zeroes the (p,q) entry of G G^T */
                double zeta = (b - a) / (2.0 * g);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                double c = 1.0 / sqrt(1.0 + t * t), s = c * t;
                tb_kern->drot(m, gp, gq, c, s);
                tb_kern->drot(n, Vr + (size_t)p * n, Vr + (size_t)q * n, c, s);
            }
        if (!rotated) return 0;
    }
    return -1;
}

/* Make rows [r0, k) of Q[k][m] unit vectors orthogonal to all previous rows (used for
 * the left vectors of zero singular values): Gram-Schmidt on the unit vectors e_i. */
static void complete_basis(int k, int m, double *Q, int r0) {
    int cand = 0;
    for (int r = r0; r < k; r++) {
        double *q = Q + (size_t)r * m;
        for (; cand < m; cand++) {
            memset(q, 0, (size_t)m * sizeof(double));
            q[cand] = 1.0;
            for (int pass = 0; pass < 2; pass++)
                for (int j = 0; j < r; j++) {
                    const double *o = Q + (size_t)j * m;
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += o[i] * q[i];
                    for (int i = 0; i < m; i++) q[i] -= dot * o[i];
                }
            double nn = 0;
            for (int i = 0; i < m; i++) nn += q[i] * q[i];
            if (nn > 1e-8) {
                nn = 1.0 / sqrt(nn);
                for (int i = 0; i < m; i++) q[i] *= nn;
                cand++;
                break;
            }
        }
    }
}

int la_svd(int m, int n, const double *A, double *U, double *S, double *Vt, char *err) {
    if (m < 1 || n < 1) return tb_fail(err, "svd: empty matrix (%d x %d)", m, n);
    for (size_t i = 0; i < (size_t)m * n; i++)
        if (!isfinite(A[i])) return tb_fail(err, "svd: matrix has a non-finite entry");
    /* Work on the wider orientation: columns of B = A (m >= n) or A^T (m < n). */
    int tr = m < n, rows = tr ? n : m, cols = tr ? m : n, k = cols;
    double *G = malloc((size_t)cols * rows * sizeof(double)), *Vr = calloc((size_t)cols * cols, sizeof(double));
    double *s = malloc((size_t)cols * sizeof(double));
    int *idx = malloc((size_t)cols * sizeof(int));
    double *Ur = malloc((size_t)cols * rows * sizeof(double));
    if (!G || !Vr || !s || !idx || !Ur) {
        free(G); free(Vr); free(s); free(idx); free(Ur);
        return tb_fail(err, "svd: out of memory (%d x %d)", m, n);
    }
    /* G[j][i] = B[i][j] */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double a = A[(size_t)i * n + j];
            if (!tr) G[(size_t)j * rows + i] = a;
            else G[(size_t)i * rows + j] = a;
        }
    for (int j = 0; j < cols; j++) Vr[(size_t)j * cols + j] = 1.0;
    int rc = jacobi_columns(rows, cols, G, Vr);
    if (rc) {
        free(G); free(Vr); free(s); free(idx); free(Ur);
        return tb_fail(err, "svd: Jacobi sweeps did not converge (%d x %d)", m, n);
    }
    double smax = 0;
    for (int j = 0; j < cols; j++) {
        double nn = 0;
        const double *g = G + (size_t)j * rows;
        for (int i = 0; i < rows; i++) nn += g[i] * g[i];
        s[j] = sqrt(nn);
        if (s[j] > smax) smax = s[j];
        idx[j] = j;
    }
    for (int i = 0; i < cols; i++) { /* descending order */
        int best = i;
        for (int j = i + 1; j < cols; j++)
            if (s[idx[j]] > s[idx[best]]) best = j;
        int t = idx[i]; idx[i] = idx[best]; idx[best] = t;
    }
    /* Left vectors (of B): normalised columns; zero ones completed to an orthonormal set. */
    int nonzero = 0;
    for (int r = 0; r < k; r++) {
        int j = idx[r];
        S[r] = s[j];
        double *u = Ur + (size_t)r * rows;
        const double *g = G + (size_t)j * rows;
        if (s[j] > smax * 1e-15 * rows && s[j] > 0) {
            for (int i = 0; i < rows; i++) u[i] = g[i] / s[j];
            nonzero = r + 1;
        } else {
            S[r] = s[j] > 0 ? s[j] : 0.0;
        }
    }
    complete_basis(k, rows, Ur, nonzero);
    /* B = Ub diag(S) Vb^T, with Ub = Ur^T [rows,k], Vb = rows of Vr.  A = B or B^T. */
    for (int r = 0; r < k; r++) {
        const double *ub = Ur + (size_t)r * rows, *vb = Vr + (size_t)idx[r] * cols;
        if (!tr) {
            if (U) for (int i = 0; i < m; i++) U[(size_t)i * k + r] = ub[i];
            if (Vt) memcpy(Vt + (size_t)r * n, vb, (size_t)n * sizeof(double));
        } else { /* A = Vb S Ub^T: U_A = Vb (m = cols), Vt_A = Ub^T rows */
            if (U) for (int i = 0; i < m; i++) U[(size_t)i * k + r] = vb[i];
            if (Vt) memcpy(Vt + (size_t)r * n, ub, (size_t)n * sizeof(double));
        }
    }
    free(G); free(Vr); free(s); free(idx); free(Ur);
    return 0;
}

/* ======================================================================== */
/* Cholesky and least squares                                               */
/* ======================================================================== */

int la_cholesky(int n, double *A, char *err) {
    for (int j = 0; j < n; j++) {
        double *aj = A + (size_t)j * n;
        double s = aj[j];
        for (int k = 0; k < j; k++) s -= aj[k] * aj[k];
        if (!(s > 0)) return tb_fail(err, "cholesky: matrix is not positive definite (pivot %d is %.3g)", j, s);
        double ljj = sqrt(s);
        aj[j] = ljj;
        for (int i = j + 1; i < n; i++) {
            double *ai = A + (size_t)i * n, t = ai[j];
            for (int k = 0; k < j; k++) t -= ai[k] * aj[k];
            ai[j] = t / ljj;
        }
        for (int k = j + 1; k < n; k++) aj[k] = 0.0;
    }
    return 0;
}

void la_cholesky_solve(int n, const double *L, double *B, int nrhs) {
    for (int i = 0; i < n; i++) { /* forward: L Y = B */
        double *bi = B + (size_t)i * nrhs;
        for (int k = 0; k < i; k++) {
            double l = L[(size_t)i * n + k];
            const double *bk = B + (size_t)k * nrhs;
            for (int c = 0; c < nrhs; c++) bi[c] -= l * bk[c];
        }
        double d = L[(size_t)i * n + i];
        for (int c = 0; c < nrhs; c++) bi[c] /= d;
    }
    for (int i = n - 1; i >= 0; i--) { /* backward: L^T X = Y */
        double *bi = B + (size_t)i * nrhs;
        for (int k = i + 1; k < n; k++) {
            double l = L[(size_t)k * n + i];
            const double *bk = B + (size_t)k * nrhs;
            for (int c = 0; c < nrhs; c++) bi[c] -= l * bk[c];
        }
        double d = L[(size_t)i * n + i];
        for (int c = 0; c < nrhs; c++) bi[c] /= d;
    }
}

int la_lstsq(int m, int n, const double *A, const double *B, int nrhs, double *X, double rcond,
             char *err) {
    int k = m < n ? m : n;
    double *U = malloc((size_t)m * k * sizeof(double)), *S = malloc((size_t)k * sizeof(double));
    double *Vt = malloc((size_t)k * n * sizeof(double)), *T = malloc((size_t)k * nrhs * sizeof(double));
    if (!U || !S || !Vt || !T) {
        free(U); free(S); free(Vt); free(T);
        return tb_fail(err, "lstsq: out of memory");
    }
    int rc = la_svd(m, n, A, U, S, Vt, err);
    if (rc == 0) {
        /* X = V diag(1/s) U^T B over the singular values above the cutoff */
        double cut = (rcond > 0 ? rcond : 1e-12) * S[0];
        for (int r = 0; r < k; r++)
            for (int c = 0; c < nrhs; c++) {
                double t = 0;
                if (S[r] > cut && S[r] > 0)
                    for (int i = 0; i < m; i++) t += U[(size_t)i * k + r] * B[(size_t)i * nrhs + c];
                T[(size_t)r * nrhs + c] = S[r] > cut && S[r] > 0 ? t / S[r] : 0.0;
            }
        for (int j = 0; j < n; j++)
            for (int c = 0; c < nrhs; c++) {
                double t = 0;
                for (int r = 0; r < k; r++) t += Vt[(size_t)r * n + j] * T[(size_t)r * nrhs + c];
                X[(size_t)j * nrhs + c] = t;
            }
    }
    free(U); free(S); free(Vt); free(T);
    return rc;
}

/* ======================================================================== */
/* products                                                                 */
/* ======================================================================== */

/* The products are blocked for the caches, BLIS-style.  C is cut into MC x NC blocks;
 * for each chunk of KC values of p, a block's rows of op(A) are copied into MR-row
 * panels and its columns of op(B) into NR-column panels, both k-major, and the kernel
 * table's dgemm_tile keeps an MR x NR piece of C in registers while p runs through the
 * chunk: a KC x NR panel of B stays in L1 while the panels of A stream past it from L2.
 * Every element is still one sum over p in order from zero (chunks continue the sums
 * the previous chunk stored), so the blocking, the panel sizes and the thread count
 * change no bit.  Blocks go to the pool's tasks round-robin; a task owns its blocks
 * (threads.h, rule 2). */
#define GEMM_KC 256
#define GEMM_MC 128 /* a multiple of TB_DGEMM_MR */
#define GEMM_NC 256 /* a multiple of TB_DGEMM_NR */

/* C[m, n] (row stride ldc) = op(A) op(B), op(A)[i, p] = A[p*as + i*ai] (i < m, p < k),
 * op(B)[p, j] = B[p*bs + j*bj], one of each pair of strides 1; lower: only the blocks reaching the lower triangle
 * j <= i (a Gram matrix, mirrored by the caller). */
typedef struct {
    int m, n, k, lower, nblk;
    const double *A, *B;
    size_t as, ai, bs, bj, ldc;
    double *C;
    int *blk;   /* the blocks to compute, as bi * (column blocks) + bj */
} gemm_job;

/* Copy rows p0 .. p0+kc of a row-major M (row stride ld), columns c0 .. c0+w, into
 * panels D[c / W][p][c % W] (zero-padded to whole panels): row by row, so each row's
 * run is read once, front to back. */
static inline void pack_rows(const double *M, size_t ld, int p0, int kc, int c0, int w, int W, double *D) {
    for (int p = 0; p < kc; p++) {
        const double *src = M + (size_t)(p0 + p) * ld + c0;
        for (int c = 0; c < w; c += W) {
            double *d = D + (size_t)c * kc + (size_t)p * W;
            int v = w - c < W ? w - c : W;
            for (int z = 0; z < v; z++) d[z] = src[c + z]; /* a loop: memcpy of a short run was rep movsq */
            for (int z = v; z < W; z++) d[z] = 0.0;
        }
    }
}

/* The same from a matrix stored the other way round: element (p, c) at M[c*ld + p]
 * (a transposing copy; each column c is a contiguous run over p). */
static void pack_cols(const double *M, size_t ld, int p0, int kc, int c0, int w, int W, double *D) {
    for (int c = 0; c < w; c += W) {
        double *d = D + (size_t)c * kc;
        int v = w - c < W ? w - c : W;
        if (v < W) memset(d, 0, (size_t)kc * W * sizeof(double));
        for (int z = 0; z < v; z++) {
            const double *src = M + (size_t)(c0 + c + z) * ld + p0;
            for (int p = 0; p < kc; p++) d[(size_t)p * W + z] = src[p];
        }
    }
}

/* Ap[r / MR][p][r % MR] = op(A)[i0 + r, p0 + p] for r < rows; Bp[j / NR][p][j % NR] =
 * op(B)[p0 + p, j0 + j] for j < cols.  (One of each operand's strides is 1.) */
static void pack_a(const gemm_job *g, int i0, int rows, int p0, int kc, double *Ap) {
    if (g->ai == 1) pack_rows(g->A, g->as, p0, kc, i0, rows, TB_DGEMM_MR, Ap);
    else pack_cols(g->A, g->ai, p0, kc, i0, rows, TB_DGEMM_MR, Ap);
}

static void pack_b(const gemm_job *g, int j0, int cols, int p0, int kc, double *Bp) {
    if (g->bj == 1) pack_rows(g->B, g->bs, p0, kc, j0, cols, TB_DGEMM_NR, Bp);
    else pack_cols(g->B, g->bj, p0, kc, j0, cols, TB_DGEMM_NR, Bp);
}

/* One MC x NC block of C at (i0, j0), chunk by chunk of p. */
static void gemm_block(const gemm_job *g, int i0, int j0, double *Ap, double *Bp) {
    enum { MR = TB_DGEMM_MR, NR = TB_DGEMM_NR };
    int rows = g->m - i0 < GEMM_MC ? g->m - i0 : GEMM_MC, cols = g->n - j0 < GEMM_NC ? g->n - j0 : GEMM_NC;
    if (g->lower && cols > i0 + rows - j0) cols = i0 + rows - j0; /* nothing right of the diagonal */
    for (int p0 = 0; p0 < g->k; p0 += GEMM_KC) {
        int kc = g->k - p0 < GEMM_KC ? g->k - p0 : GEMM_KC;
        pack_a(g, i0, rows, p0, kc, Ap);
        pack_b(g, j0, cols, p0, kc, Bp);
        for (int c = 0; c < cols; c += NR)
            for (int r = 0; r < rows; r += MR) {
                if (g->lower && j0 + c > i0 + r + MR - 1) continue; /* the piece is above the diagonal */
                tb_kern->dgemm_tile(kc, Ap + (size_t)r * kc, Bp + (size_t)c * kc, g->C + (size_t)(i0 + r) * g->ldc + j0 + c,
                                    g->ldc, rows - r < MR ? rows - r : MR, cols - c < NR ? cols - c : NR, p0 == 0);
            }
    }
}

/* Without memory for the panels: the same sums, element by element. */
static void gemm_block_plain(const gemm_job *g, int i0, int j0) {
    int i1 = g->m - i0 < GEMM_MC ? g->m : i0 + GEMM_MC, j1 = g->n - j0 < GEMM_NC ? g->n : j0 + GEMM_NC;
    for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1 && (!g->lower || j <= i); j++) {
            double s = 0;
            for (int p = 0; p < g->k; p++) s += g->A[(size_t)p * g->as + (size_t)i * g->ai] * g->B[(size_t)p * g->bs + (size_t)j * g->bj];
            g->C[(size_t)i * g->ldc + j] = s;
        }
}

static void gemm_task(void *ctx, int t, int nt) {
    const gemm_job *g = ctx;
    int kc = g->k < GEMM_KC ? g->k : GEMM_KC, ncb = (g->n + GEMM_NC - 1) / GEMM_NC;
    double *Ap = malloc((size_t)GEMM_MC * kc * sizeof(double)), *Bp = malloc((size_t)GEMM_NC * kc * sizeof(double));
    for (int b = t; b < g->nblk; b += nt) {
        int i0 = g->blk[b] / ncb * GEMM_MC, j0 = g->blk[b] % ncb * GEMM_NC;
        if (Ap && Bp) gemm_block(g, i0, j0, Ap, Bp);
        else gemm_block_plain(g, i0, j0);
    }
    free(Ap);
    free(Bp);
}

static void run_gemm(gemm_job *g) {
    if (g->m < 1 || g->n < 1) return;
    int nrb = (g->m + GEMM_MC - 1) / GEMM_MC, ncb = (g->n + GEMM_NC - 1) / GEMM_NC;
    g->blk = malloc((size_t)nrb * ncb * sizeof(int));
    if (!g->blk) { /* out of memory: every block here, element by element */
        for (int bi = 0; bi < nrb; bi++)
            for (int bj = 0; bj < ncb; bj++) gemm_block_plain(g, bi * GEMM_MC, bj * GEMM_NC);
        return;
    }
    g->nblk = 0;
    for (int bi = 0; bi < nrb; bi++)
        for (int bj = 0; bj < ncb; bj++)
            if (!g->lower || bj * GEMM_NC < (bi + 1) * GEMM_MC) g->blk[g->nblk++] = bi * ncb + bj;
    double flops = 2.0 * g->m * g->n * g->k * (g->lower ? 0.5 : 1.0);
    int nt = flops > 1e6 ? tb_threads() : 1;
    if (nt > g->nblk) nt = g->nblk;
    if (g->k < 1) /* empty sums */
        for (int i = 0; i < g->m; i++) memset(g->C + (size_t)i * g->ldc, 0, (size_t)g->n * sizeof(double));
    else if (nt <= 1) gemm_task(g, 0, 1);
    else tb_parallel(nt, gemm_task, g);
    free(g->blk);
}

void la_gemm_tn(int k, int m, int n, const double *A, const double *B, double *C) {
    gemm_job g = {.m = m, .n = n, .k = k, .A = A, .as = (size_t)m, .ai = 1, .B = B, .bs = (size_t)n, .bj = 1,
                  .C = C, .ldc = (size_t)n};
    run_gemm(&g);
}

void la_gemm_nn(int m, int k, int n, const double *A, const double *B, double *C) {
    gemm_job g = {.m = m, .n = n, .k = k, .A = A, .as = 1, .ai = (size_t)k, .B = B, .bs = (size_t)n, .bj = 1,
                  .C = C, .ldc = (size_t)n};
    run_gemm(&g);
}

/* C = A A^T: the lower triangle (the blocks and pieces of C that reach it), then
 * mirrored; op(B) = A^T is read from A's rows by the packing. */
void la_gram_rows(int m, int k, const double *A, double *C) {
    gemm_job g = {.m = m, .n = m, .k = k, .lower = 1, .A = A, .as = 1, .ai = (size_t)k, .B = A, .bs = 1,
                  .bj = (size_t)k, .C = C, .ldc = (size_t)m};
    run_gemm(&g);
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) C[(size_t)i * m + j] = C[(size_t)j * m + i];
}

void la_center_columns(int n, int p, double *X) {
    if (n < 1) return;
    double *mu = calloc((size_t)p, sizeof(double));
    if (!mu) return;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) mu[j] += X[(size_t)i * p + j];
    for (int j = 0; j < p; j++) mu[j] /= n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) X[(size_t)i * p + j] -= mu[j];
    free(mu);
}
