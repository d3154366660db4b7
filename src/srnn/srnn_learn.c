/* srnn_learn.c -- the two ways to train the spiking language model without
 * backpropagation (lesson 09): a reservoir whose readout is fitted in closed form by
 * ridge regression, and pair-based STDP on the input weights.
 *
 * Reservoir.  Run the random network over the training sentences; each token gives a
 * feature row f = [f_1 .. f_N, 1] (the last entry is the bias).  With G = sum f f^T and
 * R = sum f e_y^T (e_y the one-hot next token) the ridge solution is
 *     W = (G + lambda I') ^-1 R        (I': no penalty on the bias)
 * solved by a Cholesky factorisation in double.  The regression outputs y^ = W^T f
 * estimate P(next) (least squares onto one-hot targets estimates a conditional mean);
 * they become log-probabilities through a floor fitted (golden-section search) for the
 * least cross-entropy on the first training sentences:  logits = ln(max(y^, 0) + floor).
 *
 * STDP.  Input channel w "spikes" at every step of its token; traces
 *     x_w <- x_w e^{-dt/tau+} (+1 at a presynaptic spike)   y_i <- y_i e^{-dt/tau-} (+1 at a post spike)
 * give the pair-based rule
 *     pre spike of w:   W_in[w][i] -= A- y_i        (post before pre: depression)
 *     post spike of i:  W_in[v][i] += A+ x_v, all v (pre before post: potentiation)
 * with |W_in| <= w_max, and after each token every neuron's incoming column W_in[:, i]
 * is rescaled to its initial L2 norm (synaptic scaling, as in Diehl & Cook 2015). */
#include "kernels.h"
#include "srnn_priv.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ridge regression ----------------------------------------------------------------- */

int srnn_ridge_solve(const double *G, const double *R, int n, int m, double lambda, int no_penalty_last, double *W,
                     char *err) {
    if (n < 1 || m < 1) return tb_fail(err, "ridge: empty system (%d x %d)", n, m);
    if (!(lambda >= 0)) return tb_fail(err, "ridge: lambda %g must be >= 0", lambda);
    double *L = malloc((size_t)n * n * sizeof(double));
    if (!L) return tb_fail(err, "out of memory (ridge %d x %d)", n, n);
    /* Cholesky: A = L L^T, A = G + lambda I' (lower triangle) */
    for (int j = 0; j < n; j++) {
        double d = G[(size_t)j * n + j] + (no_penalty_last && j == n - 1 ? 0.0 : lambda);
        for (int k = 0; k < j; k++) d -= L[(size_t)j * n + k] * L[(size_t)j * n + k];
        if (!(d > 0)) {
            free(L);
            return tb_fail(err, "ridge: matrix is not positive definite at row %d (pivot %g); increase the ridge", j, d);
        }
        double ljj = sqrt(d);
        L[(size_t)j * n + j] = ljj;
        for (int i = j + 1; i < n; i++) {
            double s = G[(size_t)i * n + j];
            for (int k = 0; k < j; k++) s -= L[(size_t)i * n + k] * L[(size_t)j * n + k];
            L[(size_t)i * n + j] = s / ljj;
        }
    }
    /* forward (L u = r) then backward (L^T w = u) substitution, all columns at once */
    memcpy(W, R, (size_t)n * m * sizeof(double));
    for (int i = 0; i < n; i++) {
        double *wi = W + (size_t)i * m;
        for (int k = 0; k < i; k++) {
            double l = L[(size_t)i * n + k];
            const double *wk = W + (size_t)k * m;
            for (int c = 0; c < m; c++) wi[c] -= l * wk[c];
        }
        double inv = 1.0 / L[(size_t)i * n + i];
        for (int c = 0; c < m; c++) wi[c] *= inv;
    }
    for (int i = n - 1; i >= 0; i--) {
        double *wi = W + (size_t)i * m;
        for (int k = i + 1; k < n; k++) {
            double l = L[(size_t)k * n + i];
            const double *wk = W + (size_t)k * m;
            for (int c = 0; c < m; c++) wi[c] -= l * wk[c];
        }
        double inv = 1.0 / L[(size_t)i * n + i];
        for (int c = 0; c < m; c++) wi[c] *= inv;
    }
    free(L);
    return 0;
}

/* ---- reservoir ------------------------------------------------------------------------ */

#define RES_CHUNKS 16     /* fixed, so the sums do not depend on the thread count */
#define RES_BLOCK 256     /* feature rows per float product before adding into double */

typedef struct {
    srnn_model *m;
    const int *ids;
    const long *start;    /* sentences (or one run) */
    long n_sent;
    int eos;
    double *G, *R;        /* [RES_CHUNKS][n*n], [RES_CHUNKS][n*V] */
    srnn_counters *ctr;
    int *fail;
} res_ctx;

/* Add the rows F[rows, n] to G (via a float product of at most RES_BLOCK rows) and
 * each row's target to R. */
static void res_flush(const srnn_model *m, float *F, const int *y, int rows, float *P, double *G, double *R) {
    int n = m->N + 1, V = m->V;
    tb_kern->sgemm(1, 0, n, n, rows, 1.0f, F, n, F, n, 0.0f, P, n);
    for (size_t i = 0; i < (size_t)n * n; i++) G[i] += P[i];
    for (int r = 0; r < rows; r++) {
        const float *f = F + (size_t)r * n;
        for (int i = 0; i < n; i++) R[(size_t)i * V + y[r]] += f[i];
    }
}

static void res_task(void *vctx, int task, int ntasks) {
    res_ctx *c = vctx;
    srnn_model *m = c->m;
    int n = m->N + 1, N = m->N;
    long s0 = c->n_sent * task / ntasks, s1 = c->n_sent * (task + 1) / ntasks;
    double *G = c->G + (size_t)task * n * n, *R = c->R + (size_t)task * n * m->V;
    float *F = malloc((size_t)RES_BLOCK * n * sizeof(float)), *P = malloc((size_t)n * n * sizeof(float));
    int *y = malloc(RES_BLOCK * sizeof(int));
    srnn_sim S;
    char err[TB_ERRLEN];
    if (!F || !P || !y || srnn_sim_init(&S, m, err)) {
        c->fail[task] = 1;
        free(F); free(P); free(y);
        return;
    }
    int rows = 0;
    for (long s = s0; s < s1; s++) {
        srnn_sim_reset(&S, m->noise_p, (float)m->cfg.noise_w, m->cfg.seed, 1000 + (uint64_t)s);
        long a = c->start[s], b = c->start[s + 1];
        /* a sentence is read after the eos (its left context), like the scoring */
        int prev = c->eos >= 0 ? c->eos : c->ids[a];
        long first = c->eos >= 0 ? a : a + 1;
        for (long i = first; i < b; i++) {
            float *f = F + (size_t)rows * n;
            srnn_sim_token(&S, prev, f, NULL);
            f[N] = 1.0f;
            y[rows++] = c->ids[i];
            prev = c->ids[i];
            if (rows == RES_BLOCK) { res_flush(m, F, y, rows, P, G, R); rows = 0; }
        }
    }
    if (rows) res_flush(m, F, y, rows, P, G, R);
    c->ctr[task] = S.ctr;
    srnn_sim_free(&S);
    free(F); free(P); free(y);
}

/* Sentence boundaries of ids[n] (eos < 0: one run). */
static long *split_sentences(const int *ids, long n, int eos, long *ns) {
    long k = 0;
    if (eos >= 0)
        for (long i = 0; i < n; i++) k += ids[i] == eos || i == n - 1;
    else
        k = 1;
    long *start = malloc((size_t)(k + 1) * sizeof(long));
    if (!start) return NULL;
    start[0] = 0;
    if (eos < 0) {
        start[1] = n;
    } else {
        long j = 0;
        for (long i = 0; i < n; i++)
            if (ids[i] == eos || i == n - 1) start[++j] = i + 1;
    }
    *ns = k;
    return start;
}

/* Mean cross-entropy of P(v) = (max(y_v, 0) + floor) / sum_u (max(y_u, 0) + floor). */
static double floor_ce(const float *Y, const int *tg, long r, int V, double fl) {
    double ce = 0;
    for (long q = 0; q < r; q++) {
        const float *y = Y + (size_t)q * V;
        double z = 0;
        for (int v = 0; v < V; v++) z += (y[v] > 0 ? y[v] : 0.0) + fl;
        double pt = (y[tg[q]] > 0 ? y[tg[q]] : 0.0) + fl;
        ce += log(z) - log(pt);
    }
    return ce / r;
}

/* Fit the probability floor on the first training sentences (at most 20000 tokens):
 * golden-section search over ln(floor) in [ln 1e-7, ln 1]. */
static int fit_floor(srnn_model *m, const int *ids, const long *start, long ns, int eos, double *floor_out,
                     double *nll_out, char *err) {
    int N = m->N, V = m->V;
    long n_tok = 0, s_end = 0;
    while (s_end < ns && n_tok < 20000) { n_tok += start[s_end + 1] - start[s_end]; s_end++; }
    if (n_tok < 1) { *floor_out = 1e-3; *nll_out = NAN; return 0; }
    float *feat = malloc((size_t)n_tok * N * sizeof(float)), *Y = malloc((size_t)n_tok * V * sizeof(float));
    int *tg = malloc((size_t)n_tok * sizeof(int));
    srnn_sim S;
    if (!feat || !Y || !tg || srnn_sim_init(&S, m, err)) {
        free(feat); free(Y); free(tg);
        return err && *err ? -1 : tb_fail(err, "out of memory");
    }
    long r = 0;
    for (long s = 0; s < s_end && r < n_tok; s++) {   /* the same runs (and noise) as the fit */
        srnn_sim_reset(&S, m->noise_p, (float)m->cfg.noise_w, m->cfg.seed, 1000 + (uint64_t)s);
        long a = start[s], b = start[s + 1];
        int prev = eos >= 0 ? eos : ids[a];
        for (long i = eos >= 0 ? a : a + 1; i < b && r < n_tok; i++) {
            srnn_sim_token(&S, prev, feat + (size_t)r * N, NULL);
            tg[r++] = ids[i];
            prev = ids[i];
        }
    }
    srnn_counters_add(&m->ctr, &S.ctr);
    srnn_sim_free(&S);
    if (r < 1) { free(feat); free(Y); free(tg); *floor_out = 1e-3; *nll_out = NAN; return 0; }
    tb_kern->matmul_forward(Y, feat, m->p.w_out, m->p.b_out, (int)r, N, V);
    const double g = 0.5 * (sqrt(5.0) - 1.0);
    double lo = log(1e-7), hi = 0.0;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    double f1 = floor_ce(Y, tg, r, V, exp(x1)), f2 = floor_ce(Y, tg, r, V, exp(x2));
    for (int it = 0; it < 40; it++) {
        if (f1 < f2) { hi = x2; x2 = x1; f2 = f1; x1 = hi - g * (hi - lo); f1 = floor_ce(Y, tg, r, V, exp(x1)); }
        else { lo = x1; x1 = x2; f1 = f2; x2 = lo + g * (hi - lo); f2 = floor_ce(Y, tg, r, V, exp(x2)); }
    }
    double best = f1 < f2 ? x1 : x2;
    *floor_out = exp(best);
    *nll_out = f1 < f2 ? f1 : f2;
    free(feat); free(Y); free(tg);
    return 0;
}

int srnn_fit_reservoir(srnn_model *m, const int *ids, long n, int eos, const srnn_reservoir_opts *o, double *fit_nll,
                       char *err) {
    if (n < 2) return tb_fail(err, "reservoir: need at least 2 training tokens");
    for (long i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= m->V) return tb_fail(err, "token id %d at position %ld is outside the vocabulary", ids[i], i);
    if (o->max_tokens > 0 && o->max_tokens < n) {
        n = o->max_tokens;
        if (eos >= 0) {
            long full = n;
            while (full > 0 && ids[full - 1] != eos) full--;
            if (full > 0) n = full;
        }
    }
    long ns;
    long *start = split_sentences(ids, n, eos, &ns);
    if (!start) return tb_fail(err, "out of memory");
    int N = m->N, V = m->V, nn = N + 1;
    double *G = calloc((size_t)RES_CHUNKS * nn * nn, sizeof(double));
    double *R = calloc((size_t)RES_CHUNKS * nn * V, sizeof(double));
    double *W = malloc((size_t)nn * V * sizeof(double));
    srnn_counters ctr[RES_CHUNKS];
    int fail[RES_CHUNKS];
    memset(ctr, 0, sizeof ctr);
    memset(fail, 0, sizeof fail);
    if (!G || !R || !W) { free(start); free(G); free(R); free(W); return tb_fail(err, "out of memory (reservoir sums)"); }
    int nch = ns < RES_CHUNKS ? (int)ns : RES_CHUNKS;
    res_ctx c = {m, ids, start, ns, eos, G, R, ctr, fail};
    tb_parallel(nch, res_task, &c);
    int bad = 0;
    for (int t = 0; t < nch; t++) {
        bad |= fail[t];
        srnn_counters_add(&m->ctr, &ctr[t]);
        if (t) {
            for (size_t i = 0; i < (size_t)nn * nn; i++) G[i] += G[(size_t)t * nn * nn + i];
            for (size_t i = 0; i < (size_t)nn * V; i++) R[i] += R[(size_t)t * nn * V + i];
        }
    }
    int rc = 0;
    if (bad) rc = tb_fail(err, "out of memory running the reservoir");
    if (!rc) {
        double dmean = 0;
        for (int i = 0; i < N; i++) dmean += G[(size_t)i * nn + i];
        dmean = dmean / N > 0 ? dmean / N : 1.0;
        /* silent neurons give zero rows: the ridge keeps the system solvable */
        rc = srnn_ridge_solve(G, R, nn, V, o->ridge * dmean, 1, W, err);
    }
    if (!rc) {
        for (int v = 0; v < V; v++) {
            for (int i = 0; i < N; i++) m->p.w_out[(size_t)v * N + i] = (float)W[(size_t)i * V + v];
            m->p.b_out[v] = (float)W[(size_t)N * V + v];
        }
        double fl = 1e-3, nll = NAN;
        rc = fit_floor(m, ids, start, ns, eos, &fl, &nll, err);
        if (!rc) {
            m->cfg.prob_floor = fl;
            m->cfg.mode = SRNN_RESERVOIR;
            if (fit_nll) *fit_nll = nll;
        }
    }
    free(start); free(G); free(R); free(W);
    return rc;
}

/* ---- STDP pre-training of the input weights --------------------------------------------- */

void srnn_default_stdp_opts(srnn_stdp_opts *o) {
    o->a_plus = 0.01;
    o->a_minus = 0.0105;
    o->tau_plus = 20.0;
    o->tau_minus = 20.0;
    o->w_max = 2.0;
}

int srnn_stdp_pretrain(srnn_model *m, const int *ids, long n, const srnn_stdp_opts *o, uint64_t seed,
                       double *mean_abs_dw, char *err) {
    if (n < 1) return tb_fail(err, "STDP: no tokens");
    if (!(o->a_plus >= 0 && o->a_minus >= 0)) return tb_fail(err, "STDP amplitudes must be >= 0");
    if (!(o->tau_plus > 0 && o->tau_minus > 0)) return tb_fail(err, "STDP time constants must be > 0 ms");
    if (!(o->w_max > 0)) return tb_fail(err, "STDP w_max %g must be > 0", o->w_max);
    int N = m->N, V = m->V;
    for (long i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V) return tb_fail(err, "token id %d at position %ld is outside the vocabulary", ids[i], i);
    double *xpre = calloc((size_t)V, sizeof(double)), *ypost = calloc((size_t)N, sizeof(double));
    double *norm0 = malloc((size_t)N * sizeof(double)), *colsq = malloc((size_t)N * sizeof(double));
    float *w0 = malloc((size_t)V * N * sizeof(float));
    srnn_sim S;
    if (!xpre || !ypost || !norm0 || !colsq || !w0 || srnn_sim_init(&S, m, err)) {
        free(xpre); free(ypost); free(norm0); free(colsq); free(w0);
        return err && *err ? -1 : tb_fail(err, "out of memory");
    }
    float *W = m->p.w_in;
    memcpy(w0, W, (size_t)V * N * sizeof(float));
    for (int i = 0; i < N; i++) norm0[i] = 0;
    for (int v = 0; v < V; v++)
        for (int i = 0; i < N; i++) norm0[i] += (double)W[(size_t)v * N + i] * W[(size_t)v * N + i];
    for (int i = 0; i < N; i++) norm0[i] = sqrt(norm0[i]);
    const double dx = exp(-m->cfg.dt_ms / o->tau_plus), dy = exp(-m->cfg.dt_ms / o->tau_minus);
    const float wmax = (float)o->w_max;
    srnn_sim_reset(&S, m->noise_p, (float)m->cfg.noise_w, seed, 2000);
    for (long t = 0; t < n; t++) {
        int w = ids[t];
        for (int k = 0; k < m->K; k++) {
            for (int v = 0; v < V; v++) xpre[v] *= dx;
            for (int i = 0; i < N; i++) ypost[i] *= dy;
            float *row = W + (size_t)w * N;          /* pre spike of channel w */
            for (int i = 0; i < N; i++) {
                float x = row[i] - (float)(o->a_minus * ypost[i]);
                row[i] = x < -wmax ? -wmax : x > wmax ? wmax : x;
            }
            xpre[w] += 1.0;
            int ns = srnn_sim_step(&S, w);
            for (int q = 0; q < ns; q++) {           /* post spikes */
                int i = S.idx[q];
                ypost[i] += 1.0;
                for (int v = 0; v < V; v++) {
                    if (xpre[v] < 1e-6) continue;
                    float *p = W + (size_t)v * N + i;
                    float x = *p + (float)(o->a_plus * xpre[v]);
                    *p = x < -wmax ? -wmax : x > wmax ? wmax : x;
                }
            }
        }
        S.ctr.tokens++;
        /* synaptic scaling: every neuron's incoming column back to its initial norm */
        for (int i = 0; i < N; i++) colsq[i] = 0;
        for (int v = 0; v < V; v++)
            for (int i = 0; i < N; i++) colsq[i] += (double)W[(size_t)v * N + i] * W[(size_t)v * N + i];
        for (int i = 0; i < N; i++) {
            if (!(colsq[i] > 0)) continue;
            float sc = (float)(norm0[i] / sqrt(colsq[i]));
            for (int v = 0; v < V; v++) W[(size_t)v * N + i] *= sc;
        }
    }
    double d = 0;
    for (size_t i = 0; i < (size_t)V * N; i++) d += fabs((double)W[i] - w0[i]);
    if (mean_abs_dw) *mean_abs_dw = d / ((double)V * N);
    srnn_counters_add(&m->ctr, &S.ctr);
    srnn_sim_free(&S);
    free(xpre); free(ypost); free(norm0); free(colsq); free(w0);
    return 0;
}
