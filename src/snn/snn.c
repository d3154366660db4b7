/* snn.c -- spiking networks: CSR connectivity, exponential synapses, delays, threads.
 * The model and the order of one step are described in include/snn.h; lesson 04
 * walks through them with the CUBA and COBA benchmarks.
 */
#include "snn.h"
#include "kernels.h"
#include "rng.h"
#include "threads.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 256 /* neurons per background-noise stream; thread ranges start on blocks */

int snn_config_check(const snn_config *c, char *err) {
    if (c->n_pops < 1 || c->n_pops > SNN_MAX_POPS)
        return tb_fail(err, "network needs 1..%d populations (got %d)", SNN_MAX_POPS, c->n_pops);
    if (c->n_proj < 0 || c->n_proj > SNN_MAX_PROJ)
        return tb_fail(err, "network has %d projections (max %d)", c->n_proj, SNN_MAX_PROJ);
    if (!(c->dt > 0) || c->dt > 1) return tb_fail(err, "dt must be in (0, 1] ms (got %g)", c->dt);
    if (!(c->tau_e > 0) || !(c->tau_i > 0))
        return tb_fail(err, "synaptic time constants must be > 0 ms (tau_e %g, tau_i %g)", c->tau_e, c->tau_i);
    if (c->syn_euler && (c->dt >= c->tau_e || c->dt >= c->tau_i))
        return tb_fail(err, "dt %g ms is too large for Euler synapses (need dt < tau_e, tau_i)", c->dt);
    long long total = 0;
    char e2[TB_ERRLEN];
    for (int p = 0; p < c->n_pops; p++) {
        const snn_pop *P = &c->pops[p];
        if (P->n < 1) return tb_fail(err, "population '%s' has %d neurons", P->name, P->n);
        total += P->n;
        if (nrn_check(&P->nrn, c->dt, e2)) return tb_fail(err, "population '%s': %s", P->name, e2);
        if (P->v_init_hi < P->v_init_lo)
            return tb_fail(err, "population '%s': initial v range is inverted", P->name);
        if (P->bg_rate_hz < 0 || P->bg_n < 0 || P->bg_w < 0)
            return tb_fail(err, "population '%s': background rate, count and weight must be >= 0", P->name);
        if (P->nrn.model == NRN_LIF && c->syn == SYN_COBA && !(P->g_l > 0))
            return tb_fail(err, "population '%s': COBA LIF needs g_L > 0 nS", P->name);
    }
    if (total > 100000000) return tb_fail(err, "network too large (%lld neurons)", total);
    for (int q = 0; q < c->n_proj; q++) {
        const snn_proj *J = &c->proj[q];
        if (J->src < 0 || J->src >= c->n_pops || J->dst < 0 || J->dst >= c->n_pops)
            return tb_fail(err, "projection %d: population index out of range", q);
        if (J->k_in <= 0 && !(J->p >= 0 && J->p <= 1))
            return tb_fail(err, "projection %d: probability %g not in [0, 1]", q, J->p);
        int nsrc = c->pops[J->src].n - (J->src == J->dst && !c->autapses);
        if (J->k_in > nsrc)
            return tb_fail(err, "projection %s->%s: in-degree %d exceeds the %d possible sources",
                           c->pops[J->src].name, c->pops[J->dst].name, J->k_in, nsrc);
        if (!(J->w >= 0))
            return tb_fail(err, "projection %s->%s: weight %g < 0 (Dale's law: give magnitudes; the "
                           "source population sets the sign)", c->pops[J->src].name, c->pops[J->dst].name, J->w);
        if (J->delay_ms < 0 || J->delay_ms > 1000)
            return tb_fail(err, "projection %d: delay %g ms not in [0, 1000]", q, J->delay_ms);
    }
    return 0;
}

/* ---- the network ---------------------------------------------------------------- */

typedef struct {
    int32_t *row;   /* [nsrc + 1] */
    int32_t *col;   /* [nnz] global target index, ascending within a row */
    int src0, nsrc;
    float w;        /* signed, in the target's synaptic units */
    int exc;        /* 1: adds to g_e, 0: to g_i */
    int delay;      /* steps */
} csr_t;

struct snn_net {
    snn_config cfg;
    int N;
    int start[SNN_MAX_POPS + 1];
    float *v, *ge, *gi, *ref, *u, *m, *h, *n;
    csr_t proj[SNN_MAX_PROJ];
    int out[SNN_MAX_POPS][SNN_MAX_PROJ], n_out[SNN_MAX_POPS];
    int ring_len;            /* 0: no delays */
    float *ring_e, *ring_i;  /* [ring_len][N] */
    long t;                  /* steps done so far */
    tb_lif_coef coef[SNN_MAX_POPS];
    float de, di;            /* synaptic decay per step */
    float unit[SNN_MAX_POPS];/* COBA current unit factor for non-LIF models */
    const tb_kernels *kern;  /* the kernel table when the network was built */
    tb_rng *bg;              /* one stream per BLOCK neurons */
    int n_blocks;
};

int snn_n_neurons(const snn_net *n) { return n->N; }
int snn_pop_start(const snn_net *n, int p) { return n->start[p]; }
const char *snn_kernel_name(const snn_net *n) { return n->kern->name; }
long long snn_n_synapses(const snn_net *n) {
    long long s = 0;
    for (int q = 0; q < n->cfg.n_proj; q++) s += n->proj[q].row[n->proj[q].nsrc];
    return s;
}
size_t snn_memory_bytes(const snn_net *n) {
    size_t b = (size_t)n->N * sizeof(float) * 4;
    if (n->u) b += (size_t)n->N * sizeof(float);
    if (n->m) b += (size_t)n->N * sizeof(float) * 3;
    for (int q = 0; q < n->cfg.n_proj; q++)
        b += ((size_t)n->proj[q].nsrc + 1 + (size_t)n->proj[q].row[n->proj[q].nsrc]) * sizeof(int32_t);
    b += (size_t)n->ring_len * n->N * 2 * sizeof(float);
    return b;
}

void snn_free(snn_net *n) {
    if (!n) return;
    free(n->v); free(n->ge); free(n->gi); free(n->ref); free(n->u);
    free(n->m); free(n->h); free(n->n);
    for (int q = 0; q < SNN_MAX_PROJ; q++) { free(n->proj[q].row); free(n->proj[q].col); }
    free(n->ring_e); free(n->ring_i); free(n->bg);
    free(n);
}

/* Fixed probability: for each source, targets by geometric skipping (each pair
 * independently with probability p), so rows come out sorted. */
static int build_fixed_p(csr_t *c, int ndst, int dst0, double p, int self, tb_rng *r, char *err) {
    size_t cap = (size_t)((double)c->nsrc * ndst * p * 1.05) + 16, nnz = 0;
    c->col = malloc(cap * sizeof(int32_t));
    c->row = malloc(((size_t)c->nsrc + 1) * sizeof(int32_t));
    if (!c->col || !c->row) return tb_fail(err, "out of memory for synapses");
    double lq = p < 1 ? log1p(-p) : 0;
    for (int i = 0; i < c->nsrc; i++) {
        c->row[i] = (int32_t)nnz;
        if (p <= 0) continue;
        for (long j = -1;;) {
            if (p >= 1) j++;
            else j += 1 + (long)floor(log1p(-rng_uniform(r)) / lq);
            if (j >= ndst) break;
            if (self && j == i) continue;
            if (nnz == cap) {
                cap = cap * 3 / 2 + 16;
                int32_t *nc = realloc(c->col, cap * sizeof(int32_t));
                if (!nc) return tb_fail(err, "out of memory for synapses");
                c->col = nc;
            }
            if (nnz >= 2147483647u) return tb_fail(err, "too many synapses in one projection");
            c->col[nnz++] = (int32_t)(dst0 + j);
        }
    }
    c->row[c->nsrc] = (int32_t)nnz;
    return 0;
}

/* Fixed in-degree: each target draws k distinct sources; then transpose to CSR by
 * source (iterating targets in order keeps every row sorted). */
static int build_fixed_k(csr_t *c, int ndst, int dst0, int k, int self, tb_rng *r, char *err) {
    size_t nnz = (size_t)ndst * k;
    if (nnz >= 2147483647u) return tb_fail(err, "too many synapses in one projection");
    int32_t *src = malloc(nnz * sizeof(int32_t) + 1);
    unsigned char *mark = calloc((size_t)c->nsrc, 1);
    c->row = calloc((size_t)c->nsrc + 1, sizeof(int32_t));
    c->col = malloc(nnz * sizeof(int32_t) + 1);
    if (!src || !mark || !c->row || !c->col) { free(src); free(mark); return tb_fail(err, "out of memory for synapses"); }
    for (int j = 0; j < ndst; j++) {
        int32_t *s = src + (size_t)j * k;
        if (self && j < c->nsrc) mark[j] = 1; /* no autapse */
        for (int a = 0; a < k; a++) {
            uint32_t x;
            do x = rng_below(r, (uint32_t)c->nsrc); while (mark[x]);
            mark[x] = 1;
            s[a] = (int32_t)x;
        }
        for (int a = 0; a < k; a++) mark[s[a]] = 0;
        if (self && j < c->nsrc) mark[j] = 0;
    }
    for (size_t e = 0; e < nnz; e++) c->row[src[e] + 1]++;
    for (int i = 0; i < c->nsrc; i++) c->row[i + 1] += c->row[i];
    int32_t *fill = malloc(((size_t)c->nsrc + 1) * sizeof(int32_t));
    if (!fill) { free(src); free(mark); return tb_fail(err, "out of memory for synapses"); }
    memcpy(fill, c->row, ((size_t)c->nsrc + 1) * sizeof(int32_t));
    for (int j = 0; j < ndst; j++)
        for (int a = 0; a < k; a++) c->col[fill[src[(size_t)j * k + a]]++] = dst0 + j;
    free(fill); free(src); free(mark);
    return 0;
}

/* CUBA exact coefficient of a synaptic variable with time constant tau_s in the
 * LIF update over one step:  tau_s/(tau_s - tau_m) (exp(-dt/tau_s) - exp(-dt/tau_m)). */
static double cuba_coef(double tau_s, double tau_m, double dt) {
    if (fabs(tau_s - tau_m) < 1e-9) return dt / tau_m * exp(-dt / tau_m);
    return tau_s / (tau_s - tau_m) * (exp(-dt / tau_s) - exp(-dt / tau_m));
}

/* The state arrays of n->N neurons (u only with Izhikevich/AdEx, m, h, n only with HH)
 * and one background-noise stream per block of neurons. */
static int alloc_state(snn_net *n, char *err) {
    const snn_config *c = &n->cfg;
    int any_uw = 0, any_hh = 0;
    for (int p = 0; p < c->n_pops; p++) {
        n->start[p + 1] = n->start[p] + c->pops[p].n;
        nrn_model m = c->pops[p].nrn.model;
        any_uw |= m == NRN_IZH || m == NRN_ADEX;
        any_hh |= m == NRN_HH;
    }
    n->N = n->start[c->n_pops];
    size_t N = (size_t)n->N;
    n->v = malloc(N * sizeof(float));
    n->ge = calloc(N, sizeof(float));
    n->gi = calloc(N, sizeof(float));
    n->ref = calloc(N, sizeof(float));
    if (any_uw) n->u = calloc(N, sizeof(float));
    if (any_hh) { n->m = calloc(N, sizeof(float)); n->h = calloc(N, sizeof(float)); n->n = calloc(N, sizeof(float)); }
    n->n_blocks = (n->N + BLOCK - 1) / BLOCK;
    n->bg = malloc((size_t)n->n_blocks * sizeof(tb_rng));
    if (!n->v || !n->ge || !n->gi || !n->ref || (any_uw && !n->u) || (any_hh && (!n->m || !n->h || !n->n)) || !n->bg)
        return tb_fail(err, "out of memory for %d neurons", n->N);
    for (int b = 0; b < n->n_blocks; b++) rng_stream(&n->bg[b], c->seed, 1000 + (uint64_t)b);
    return 0;
}

/* The LIF update's constants of population p (kernels.h, tb_lif_coef). */
static void lif_coefs(snn_net *n, int p, const nrn_lif *l) {
    const snn_config *c = &n->cfg;
    double dt = c->dt;
    tb_lif_coef *k = &n->coef[p];
    k->e_l = (float)l->v_rest;
    k->a_m = (float)exp(-dt / l->tau_m);
    k->c_e = (float)cuba_coef(c->tau_e, l->tau_m, dt);
    k->c_i = (float)cuba_coef(c->tau_i, l->tau_m, dt);
    k->d_e = n->de;
    k->d_i = n->di;
    k->v_th = (float)l->v_th;
    k->v_reset = (float)l->v_reset;
    k->n_ref = (float)floor(l->t_ref / dt + 0.5);
    k->k = (float)(dt / l->tau_m);
    k->e_e = (float)c->e_e;
    k->e_i = (float)c->e_i;
}

/* Population p's initial state (random v and conductances from ri) and constants. */
static void init_population(snn_net *n, int p, tb_rng *ri) {
    const snn_config *c = &n->cfg;
    const snn_pop *P = &c->pops[p];
    const nrn_params *np = &P->nrn;
    /* LIF + COBA: conductances are stored divided by g_L (dimensionless) */
    double gscale = (np->model == NRN_LIF && c->syn == SYN_COBA) ? 1.0 / P->g_l : 1.0;
    n->unit[p] = np->model == NRN_ADEX ? 1e-3f : 1.0f; /* nS mV = pA -> nA */
    for (int i = n->start[p]; i < n->start[p + 1]; i++) {
        n->v[i] = (float)(P->v_init_lo + rng_uniform(ri) * (P->v_init_hi - P->v_init_lo));
        if (P->ge_mu != 0 || P->ge_sd != 0) n->ge[i] = (float)((P->ge_mu + P->ge_sd * rng_normal(ri)) * gscale);
        if (P->gi_mu != 0 || P->gi_sd != 0) {
            double g = (P->gi_mu + P->gi_sd * rng_normal(ri)) * gscale;
            n->gi[i] = (float)(c->syn == SYN_CUBA ? -g : g);
        }
        nrn_state s;
        nrn_init(np, &s);
        if (np->model == NRN_IZH) n->u[i] = (float)(np->izh.b * n->v[i]);
        if (np->model == NRN_HH) { n->m[i] = (float)s.m; n->h[i] = (float)s.h; n->n[i] = (float)s.n; }
    }
    if (np->model == NRN_LIF) lif_coefs(n, p, &np->lif);
}

/* Every projection's synapses (drawn from one stream, in projection order), weights and
 * delays, and the delay ring buffer the longest delay needs. */
static int build_projections(snn_net *n, char *err) {
    const snn_config *c = &n->cfg;
    tb_rng rc;
    rng_stream(&rc, c->seed, 1);
    int maxdelay = 0;
    for (int q = 0; q < c->n_proj; q++) {
        const snn_proj *J = &c->proj[q];
        csr_t *cs = &n->proj[q];
        const snn_pop *S = &c->pops[J->src], *D = &c->pops[J->dst];
        cs->src0 = n->start[J->src];
        cs->nsrc = S->n;
        int self = J->src == J->dst && !c->autapses;
        int rc_ = J->k_in > 0 ? build_fixed_k(cs, D->n, n->start[J->dst], J->k_in, self, &rc, err)
                              : build_fixed_p(cs, D->n, n->start[J->dst], J->p, self, &rc, err);
        if (rc_) return -1;
        double w = J->w;
        if (D->nrn.model == NRN_LIF && c->syn == SYN_COBA) w /= D->g_l;
        cs->exc = !S->inhibitory;
        cs->w = (float)(S->inhibitory && c->syn == SYN_CUBA ? -w : w);
        cs->delay = (int)floor(J->delay_ms / c->dt + 0.5);
        if (cs->delay > maxdelay) maxdelay = cs->delay;
        n->out[J->src][n->n_out[J->src]++] = q;
    }
    if (maxdelay > 0) {
        n->ring_len = maxdelay + 2;
        n->ring_e = calloc((size_t)n->ring_len * n->N, sizeof(float));
        n->ring_i = calloc((size_t)n->ring_len * n->N, sizeof(float));
        if (!n->ring_e || !n->ring_i) return tb_fail(err, "out of memory for the delay ring buffer");
    }
    return 0;
}

int snn_build(const snn_config *cfg, snn_net **out, char *err) {
    *out = NULL;
    if (snn_config_check(cfg, err)) return -1;
    snn_net *n = calloc(1, sizeof *n);
    if (!n) return tb_fail(err, "out of memory");
    n->cfg = *cfg;
    const snn_config *c = &n->cfg;
    if (alloc_state(n, err)) { snn_free(n); return -1; }

    n->kern = tb_kern; /* the LIF update follows the global kernel choice (--kernels) */
    double dt = c->dt;
    n->de = (float)(c->syn_euler ? 1 - dt / c->tau_e : exp(-dt / c->tau_e));
    n->di = (float)(c->syn_euler ? 1 - dt / c->tau_i : exp(-dt / c->tau_i));

    tb_rng ri;   /* initial state, population after population */
    rng_stream(&ri, cfg->seed, 2);
    for (int p = 0; p < c->n_pops; p++) init_population(n, p, &ri);

    if (build_projections(n, err)) { snn_free(n); return -1; }
    *out = n;
    return 0;
}

/* ---- running ------------------------------------------------------------------------ */

typedef struct { atomic_int count, sense; int n; } spin_barrier;

static void barrier_wait(spin_barrier *b, int *local) {
    *local = !*local;
    if (atomic_fetch_add(&b->count, 1) == b->n - 1) {
        atomic_store(&b->count, 0);
        atomic_store(&b->sense, *local);
    } else {
        int spins = 0;
        while (atomic_load_explicit(&b->sense, memory_order_acquire) != *local)
            if (++spins > 2000) sched_yield(); /* the machine may be shared: do not burn it */
    }
}

typedef struct {
    int32_t *step, *idx;
    long long n, cap;
    int oom;
} spike_log;

#define MAXT 64
typedef struct {
    snn_net *net;
    int T;
    long steps;
    int record;
    const int *vrec_idx;
    int n_vrec;
    float *vrec;
    int lo[MAXT + 1];
    int32_t *spk[2][MAXT];
    int nspk[2][MAXT];
    spike_log log[MAXT];
    long long events[MAXT], count[MAXT];
    spin_barrier bar;
} run_ctx;

static void log_push(spike_log *L, int32_t step, const int32_t *idx, int n) {
    if (L->n + n > L->cap) {
        long long cap = L->cap * 2 + n + 4096;
        int32_t *s = realloc(L->step, (size_t)cap * sizeof(int32_t));
        if (s) L->step = s;
        int32_t *x = realloc(L->idx, (size_t)cap * sizeof(int32_t));
        if (x) L->idx = x;
        if (!s || !x) { L->oom = 1; return; }
        L->cap = cap;
    }
    for (int i = 0; i < n; i++) { L->step[L->n + i] = step; L->idx[L->n + i] = idx[i]; }
    L->n += n;
}

/* Any model other than LIF: the generic single-neuron step of neuron.c. */
static int update_generic(snn_net *net, int p, int a, int b, int32_t *spk) {
    const snn_config *c = &net->cfg;
    const nrn_params *np = &c->pops[p].nrn;
    double dt = c->dt;
    int ns = 0;
    for (int i = a; i < b; i++) {
        nrn_state s = {net->v[i], net->u ? net->u[i] : 0, net->m ? net->m[i] : 0,
                       net->h ? net->h[i] : 0, net->n ? net->n[i] : 0, 0};
        double I = c->syn == SYN_CUBA ? (double)net->ge[i] + net->gi[i]
                 : net->unit[p] * ((double)net->ge[i] * (c->e_e - s.v) + (double)net->gi[i] * (c->e_i - s.v));
        int sp = nrn_step(np, &s, I, dt);
        net->v[i] = (float)s.v;
        if (net->u) net->u[i] = (float)s.u;
        if (net->m) { net->m[i] = (float)s.m; net->h[i] = (float)s.h; net->n[i] = (float)s.n; }
        net->ge[i] *= net->de;
        net->gi[i] *= net->di;
        if (sp) spk[ns++] = i;
    }
    return ns;
}

static const int32_t *lower_bound(const int32_t *a, const int32_t *e, int32_t x) {
    while (a < e) {
        const int32_t *m = a + (e - a) / 2;
        if (*m < x) a = m + 1; else e = m;
    }
    return a;
}

static void run_task(void *vctx, int t, int T) {
    run_ctx *x = vctx;
    snn_net *net = x->net;
    const snn_config *c = &net->cfg;
    int lo = x->lo[t], hi = x->lo[t + 1], local = 0;
    (void)T;
    float *ge = net->ge, *gi = net->gi;
    double lam[SNN_MAX_POPS];
    for (int p = 0; p < c->n_pops; p++)
        lam[p] = c->pops[p].bg_n * c->pops[p].bg_rate_hz * c->dt * 1e-3;
    long long events = 0, count = 0;
    for (long s = 0; s < x->steps; s++) {
        long gt = net->t + s;
        int par = (int)(s & 1);
        /* 1. delayed input due now, Poisson background */
        if (net->ring_len) {
            size_t off = (size_t)(gt % net->ring_len) * net->N;
            float *re = net->ring_e + off, *ri = net->ring_i + off;
            for (int i = lo; i < hi; i++) {
                ge[i] += re[i]; gi[i] += ri[i];
                re[i] = 0; ri[i] = 0;
            }
        }
        for (int p = 0; p < c->n_pops; p++) {
            if (lam[p] <= 0 || c->pops[p].bg_w <= 0) continue;
            int a = lo > net->start[p] ? lo : net->start[p], b = hi < net->start[p + 1] ? hi : net->start[p + 1];
            float w = (float)(c->pops[p].bg_w /
                              (c->pops[p].nrn.model == NRN_LIF && c->syn == SYN_COBA ? c->pops[p].g_l : 1));
            for (int i = a; i < b; i++) {
                int k = rng_poisson(&net->bg[i / BLOCK], lam[p]);
                if (k) ge[i] += w * (float)k;
            }
        }
        /* 2-3. state update, threshold, reset */
        int32_t *spk = x->spk[par][t];
        int ns = 0;
        for (int p = 0; p < c->n_pops; p++) {
            int a = lo > net->start[p] ? lo : net->start[p], b = hi < net->start[p + 1] ? hi : net->start[p + 1];
            if (a >= b) continue;
            if (c->pops[p].nrn.model == NRN_LIF) {
                tb_lif_fn *f = c->syn == SYN_CUBA ? net->kern->lif_cuba : net->kern->lif_coba;
                ns += f(net->v + a, ge + a, gi + a, net->ref + a, b - a, &net->coef[p], spk + ns, a);
            } else {
                ns += update_generic(net, p, a, b, spk + ns);
            }
        }
        x->nspk[par][t] = ns;
        count += ns;
        for (int r = 0; r < x->n_vrec; r++) {
            int i = x->vrec_idx[r];
            if (i >= lo && i < hi) x->vrec[(size_t)r * x->steps + s] = net->v[i];
        }
        if (x->record && ns) log_push(&x->log[t], (int32_t)s, spk, ns);
        if (x->T > 1) barrier_wait(&x->bar, &local);
        /* 4. deliver every spike to the targets in [lo, hi), in spike order */
        for (int u = 0; u < x->T; u++) {
            const int32_t *sp = x->spk[par][u];
            int nu = x->nspk[par][u];
            for (int e = 0; e < nu; e++) {
                int i = sp[e], p = 0;
                while (i >= net->start[p + 1]) p++;
                for (int o = 0; o < net->n_out[p]; o++) {
                    const csr_t *cs = &net->proj[net->out[p][o]];
                    const int32_t *k0 = cs->col + cs->row[i - cs->src0], *k1 = cs->col + cs->row[i - cs->src0 + 1];
                    if (x->T > 1) { k0 = lower_bound(k0, k1, lo); k1 = lower_bound(k0, k1, hi); }
                    float w = cs->w;
                    float *g = cs->exc ? ge : gi;
                    if (cs->delay) g = (cs->exc ? net->ring_e : net->ring_i) +
                                       (size_t)((gt + 1 + cs->delay) % net->ring_len) * net->N;
                    for (const int32_t *k = k0; k < k1; k++) g[*k] += w;
                    events += k1 - k0;
                }
            }
        }
    }
    x->events[t] = events;
    x->count[t] = count;
}

int snn_run(snn_net *net, double t_ms, int threads, int record_spikes, const int *vrec_idx,
            int n_vrec, snn_result *res, char *err) {
    memset(res, 0, sizeof *res);
    if (!(t_ms >= 0)) return tb_fail(err, "duration must be >= 0 ms (got %g)", t_ms);
    for (int r = 0; r < n_vrec; r++)
        if (vrec_idx[r] < 0 || vrec_idx[r] >= net->N)
            return tb_fail(err, "recorded neuron %d out of range [0, %d)", vrec_idx[r], net->N);
    long steps = (long)(t_ms / net->cfg.dt + 0.5);
    if (steps > 2147483647L) return tb_fail(err, "too many steps (%ld)", steps);
    run_ctx *x = calloc(1, sizeof *x);
    if (!x) return tb_fail(err, "out of memory");
    int T = threads < 1 ? 1 : threads;
    if (T > tb_threads()) T = tb_threads();
    if (T > MAXT) T = MAXT;
    if (T > net->n_blocks) T = net->n_blocks;
    x->net = net; x->T = T; x->steps = steps; x->record = record_spikes;
    x->vrec_idx = vrec_idx; x->n_vrec = n_vrec;
    x->bar.n = T;
    atomic_init(&x->bar.count, 0);
    atomic_init(&x->bar.sense, 0);
    int fail = 0;
    if (n_vrec > 0) {
        x->vrec = malloc((size_t)n_vrec * (size_t)(steps ? steps : 1) * sizeof(float));
        fail |= !x->vrec;
    }
    for (int t = 0; t <= T; t++) x->lo[t] = (int)((long long)net->n_blocks * t / T) * BLOCK;
    x->lo[T] = net->N;
    for (int t = 0; t < T; t++)
        for (int q = 0; q < 2; q++) {
            x->spk[q][t] = malloc(((size_t)(x->lo[t + 1] - x->lo[t]) + 1) * sizeof(int32_t));
            fail |= !x->spk[q][t];
        }
    if (!fail) {
        if (T > 1) tb_parallel(T, run_task, x);
        else run_task(x, 0, 1);
    }
    long long total = 0;
    for (int t = 0; t < T; t++) {
        fail |= x->log[t].oom;
        total += x->log[t].n;
        res->syn_events += x->events[t];
        res->n_spikes += x->count[t];
    }
    if (!fail && record_spikes) {
        res->spk_step = malloc((size_t)total * sizeof(int32_t) + 1);
        res->spk_idx = malloc((size_t)total * sizeof(int32_t) + 1);
        fail |= !res->spk_step || !res->spk_idx;
        /* merge: step by step, threads in range order == ascending neuron index */
        long long cur[MAXT] = {0}, o = 0;
        for (long s = 0; !fail && s < steps && o < total; s++)
            for (int t = 0; t < T; t++) {
                spike_log *L = &x->log[t];
                while (cur[t] < L->n && L->step[cur[t]] == s) {
                    res->spk_step[o] = (int32_t)s;
                    res->spk_idx[o++] = L->idx[cur[t]++];
                }
            }
    }
    for (int t = 0; t < T; t++) {
        free(x->spk[0][t]); free(x->spk[1][t]);
        free(x->log[t].step); free(x->log[t].idx);
    }
    res->vrec = x->vrec;
    res->n_vrec = n_vrec;
    free(x);
    if (fail) { snn_result_free(res); return tb_fail(err, "out of memory while recording"); }
    net->t += steps;
    res->steps = steps;
    res->sim_ms = steps * net->cfg.dt;
    return 0;
}

int snn_auto_threads(const snn_net *net, int max_threads) {
    int t = 1 + net->N / 16384;
    return t < max_threads ? t : (max_threads < 1 ? 1 : max_threads);
}

void snn_result_free(snn_result *r) {
    free(r->spk_step); free(r->spk_idx); free(r->vrec);
    memset(r, 0, sizeof *r);
}
