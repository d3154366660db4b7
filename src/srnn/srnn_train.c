/* srnn_train.c -- surrogate-gradient backpropagation through time for the spiking
 * language model (LIF neurons).  Lesson 09; the model is described in include/srnn.h.
 *
 * Shapes (B windows, T tokens each, K steps per token, TK = T*K steps, N neurons,
 * V vocabulary).  Forward, per window b (all from rest, v_{-1} = s_{-1} = 0):
 *   v[b,t]  = beta v[b,t-1] + W_in[x_b(t)] + W_eff^T s[b,t-1] - theta s[b,t-1] + n[b,t]   [TK,N]
 *   s[b,t]  = H(v[b,t] - theta)                                                           [TK,N]
 *   f[b,u]  = sum_k s[b,uK+k]  (count)   or  z at step uK+K-1, z_t = a z_{t-1} + s_t      [T,N]
 *   logits  = f W_out^T + b_out                                                           [B*T,V]
 * Backward, per window, from the last step to the first (dv_{TK} = 0):
 *   ds_t = df contribution + dL_rate/ds + W_eff dv_{t+1} - theta dv_{t+1}
 *   dv_t = ds_t * 1/(slope |v_t - theta| + 1)^2 + beta dv_{t+1}
 *   dW_eff += s_{t-1} (x) dv_t       dW_in[x(t)] += dv_t
 * The products with W_eff are the costly part: forward, only the rows of the neurons
 * that spiked are added (event-driven); backward, dW_eff touches only those rows and
 * W_eff dv runs for all of a thread's windows at once (tb_kern->matvecs).  Each window's
 * gradient goes to its own buffer; they are summed in window order, so the result is
 * the same bit for bit whatever the number of threads. */
#include "kernels.h"
#include "srnn_priv.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void srnn_default_train_opts(srnn_train_opts *o) {
    o->rate_lambda = SRNN_DEF_RATE_LAMBDA;
    o->rate_lo_hz = SRNN_DEF_RATE_LO_HZ;
    o->rate_hi_hz = SRNN_DEF_RATE_HI_HZ;
}

typedef struct {
    int B, T;                  /* capacity */
    float *v, *s;              /* [B, TK, N] */
    float *feat, *dfeat;       /* [B*T, N] */
    float *logits;             /* [B*T, V] (probabilities after the loss) */
    float *dxin;               /* [B*T, N] sum over the token's steps of dv */
    float *dW;                 /* [B, N, N] per-window dW_eff */
    float *spk;                /* [B, N] spikes per neuron */
    float *reg;                /* [N] dL_rate / ds */
    float *dvn, *dsr, *dz;     /* [B, N] backward carries */
    long long *syn;            /* [B] synaptic events */
    float *fscr;               /* [B, 3N] forward scratch: current, trace, count */
    int *fidx;                 /* [B, N] neurons that spiked in the last step */
} srnn_work;

static void work_free(srnn_work *w) {
    if (!w) return;
    free(w->v); free(w->s); free(w->feat); free(w->dfeat); free(w->logits); free(w->dxin);
    free(w->dW); free(w->spk); free(w->reg); free(w->dvn); free(w->dsr); free(w->dz); free(w->syn);
    free(w->fscr); free(w->fidx);
    memset(w, 0, sizeof *w);
}

static int work_get(srnn_model *m, int B, int T, srnn_work **out, char *err) {
    srnn_work *w = m->work;
    if (w && w->B >= B && w->T == T) { *out = w; return 0; }
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w) return tb_fail(err, "out of memory");
        m->work = w;
    }
    work_free(w);
    size_t N = (size_t)m->N, V = (size_t)m->V, TK = (size_t)T * m->K, b = (size_t)B;
    w->v = malloc(b * TK * N * sizeof(float));
    w->s = malloc(b * TK * N * sizeof(float));
    w->feat = malloc(b * T * N * sizeof(float));
    w->dfeat = malloc(b * T * N * sizeof(float));
    w->logits = malloc(b * T * V * sizeof(float));
    w->dxin = malloc(b * T * N * sizeof(float));
    w->dW = malloc(b * N * N * sizeof(float));
    w->spk = malloc(b * N * sizeof(float));
    w->reg = malloc(N * sizeof(float));
    w->dvn = malloc(b * N * sizeof(float));
    w->dsr = malloc(b * N * sizeof(float));
    w->dz = malloc(b * N * sizeof(float));
    w->syn = malloc(b * sizeof(long long));
    w->fscr = malloc(b * 3 * N * sizeof(float));
    w->fidx = malloc(b * N * sizeof(int));
    if (!w->v || !w->s || !w->feat || !w->dfeat || !w->logits || !w->dxin || !w->dW || !w->spk || !w->reg ||
        !w->dvn || !w->dsr || !w->dz || !w->syn || !w->fscr || !w->fidx) {
        work_free(w);
        return tb_fail(err, "out of memory for training buffers (batch %d, ctx %d, %d neurons)", B, T, m->N);
    }
    w->B = B;
    w->T = T;
    *out = w;
    return 0;
}

typedef struct {
    srnn_model *m;
    srnn_work *w;
    const int *x;
    int B, T, nt;
    uint64_t noise_seed;
} fb_ctx;

/* The smooth step used by the gradient test: sigma(x) = 1/slope + x / (1 + slope |x|),
 * whose derivative is exactly the surrogate 1 / (slope |x| + 1)^2. */
static inline float smooth_step(float x, float slope) { return 1.0f / slope + x / (1.0f + slope * fabsf(x)); }

/* Forward pass of window b.  v[TK,N], s[TK,N], feat[T,N]. */
static void forward_window(fb_ctx *c, int b) {
    srnn_model *m = c->m;
    srnn_work *w = c->w;
    const int N = m->N, Kk = m->K, T = c->T, TK = T * Kk;
    const float beta = m->beta, th = m->theta, a = m->trace_a, nw = (float)m->cfg.noise_w;
    float *V = w->v + (size_t)b * TK * N, *S = w->s + (size_t)b * TK * N, *F = w->feat + (size_t)b * T * N;
    float *spk = w->spk + (size_t)b * N;
    int *idx = w->fidx + (size_t)b * N, nidx = 0;
    float *acc = w->fscr + (size_t)b * 3 * N, *z = acc + N, *cnt = z + N;
    memset(z, 0, (size_t)N * sizeof(float));
    tb_rows_add_fn *rows_add = tb_kern->rows_add;
    srnn_noise nz;
    srnn_noise_init(&nz, m->noise_p, c->noise_seed, (uint64_t)b);
    memset(spk, 0, (size_t)N * sizeof(float));
    long long syn = 0;
    int dense = m->dense || m->smooth;
    for (int t = 0; t < T; t++) {
        memset(cnt, 0, (size_t)N * sizeof(float));
        const float *xin = m->p.w_in + (size_t)c->x[b * T + t] * N;
        for (int k = 0; k < Kk; k++) {
            int tau = t * Kk + k;
            const float *sp = tau ? S + (size_t)(tau - 1) * N : NULL, *vp = tau ? V + (size_t)(tau - 1) * N : NULL;
            memcpy(acc, xin, (size_t)N * sizeof(float));
            if (sp && dense) {          /* reference twin: W_eff^T s as a full product */
                for (int i = 0; i < N; i++) {
                    const float si = sp[i], *wr = m->w_eff + (size_t)i * N;
                    for (int j = 0; j < N; j++) acc[j] += si * wr[j];
                }
            } else if (nidx) {
                rows_add(acc, m->w_eff, N, idx, nidx, N);
            }
            srnn_noise_step(&nz, acc, N, nw);
            float *vt = V + (size_t)tau * N, *st = S + (size_t)tau * N;
            if (m->smooth) {
                for (int i = 0; i < N; i++) {
                    float vi = vp ? acc[i] + beta * vp[i] - th * sp[i] : acc[i];
                    vt[i] = vi;
                    st[i] = smooth_step(vi - th, m->slope);
                }
            } else if (vp) {   /* branch-free, so the compiler vectorises it */
                for (int i = 0; i < N; i++) {
                    float vi = acc[i] + beta * vp[i] - th * sp[i];
                    vt[i] = vi;
                    st[i] = vi > th ? 1.0f : 0.0f;
                }
            } else {
                for (int i = 0; i < N; i++) {
                    vt[i] = acc[i];
                    st[i] = acc[i] > th ? 1.0f : 0.0f;
                }
            }
            for (int i = 0; i < N; i++) {
                cnt[i] += st[i];
                z[i] = a * z[i] + st[i];
                spk[i] += st[i];
            }
            nidx = 0;
            for (int i = 0; i < N; i++) {   /* the spike list, without a branch per neuron */
                idx[nidx] = i;
                nidx += st[i] != 0.0f;
            }
            for (int q = 0; q < nidx; q++) syn += m->fanout[idx[q]];
        }
        memcpy(F + (size_t)t * N, m->cfg.readout == SRNN_TRACE ? z : cnt, (size_t)N * sizeof(float));
    }
    w->syn[b] = syn;
}

static void forward_task(void *vctx, int task, int ntasks) {
    fb_ctx *c = vctx;
    int b0 = c->B * task / ntasks, b1 = c->B * (task + 1) / ntasks;
    for (int b = b0; b < b1; b++) forward_window(c, b);
}

/* Backward pass for the windows [b0, b1) in lockstep (so that W_eff dv is one small
 * matrix product per step for all of them). */
static void backward_task(void *vctx, int task, int ntasks) {
    fb_ctx *c = vctx;
    srnn_model *m = c->m;
    srnn_work *w = c->w;
    const int N = m->N, Kk = m->K, T = c->T, TK = T * Kk;
    const int b0 = c->B * task / ntasks, b1 = c->B * (task + 1) / ntasks, nb = b1 - b0;
    if (nb <= 0) return;
    const float beta = m->beta, th = m->theta, slope = m->slope, a = m->trace_a;
    const int trace = m->cfg.readout == SRNN_TRACE, dense = m->dense || m->smooth;
    float *dvn = w->dvn + (size_t)b0 * N, *dsr = w->dsr + (size_t)b0 * N, *dz = w->dz + (size_t)b0 * N;
    tb_matvecs_fn *matvecs = tb_kern->matvecs;
    tb_rows_acc_fn *rows_acc = tb_kern->rows_acc;
    int *idx = w->fidx + (size_t)b0 * N;   /* the forward's spike-list scratch is free now */
    memset(dvn, 0, (size_t)nb * N * sizeof(float));
    memset(dz, 0, (size_t)nb * N * sizeof(float));
    memset(w->dW + (size_t)b0 * N * N, 0, (size_t)nb * N * N * sizeof(float));
    memset(w->dxin + (size_t)b0 * T * N, 0, (size_t)nb * T * N * sizeof(float));
    for (int tau = TK - 1; tau >= 0; tau--) {
        const int t = tau / Kk, k = tau % Kk, last = tau == TK - 1;
        if (!last) matvecs(dsr, m->w_eff, dvn, nb, N);   /* dsr_b = W_eff dv_{t+1} */
        for (int q = 0; q < nb; q++) {
            const int b = b0 + q;
            const float *vt = w->v + ((size_t)b * TK + tau) * N;
            const float *sp = tau ? w->s + ((size_t)b * TK + tau - 1) * N : NULL;
            const float *df = w->dfeat + ((size_t)b * T + t) * N;
            float *dv = dvn + (size_t)q * N, *dr = dsr + (size_t)q * N, *zz = dz + (size_t)q * N;
            float *dx = w->dxin + ((size_t)b * T + t) * N;
            float *dW = w->dW + (size_t)b * N * N;
            if (trace) {   /* dL/dz_t = a dL/dz_{t+1} + df at the window's last step */
                const float add = k == Kk - 1 ? 1.0f : 0.0f;
                for (int i = 0; i < N; i++) zz[i] = a * zz[i] + add * df[i];
                df = zz;
            }
            const float *reg = w->reg;
            if (last) {
                for (int i = 0; i < N; i++) {
                    float x = slope * fabsf(vt[i] - th) + 1.0f;
                    float dvi = (df[i] + reg[i]) / (x * x);
                    dv[i] = dvi;
                    dx[i] += dvi;
                }
            } else {
                for (int i = 0; i < N; i++) {
                    float x = slope * fabsf(vt[i] - th) + 1.0f;
                    float ds = df[i] + reg[i] + dr[i] - th * dv[i];
                    float dvi = ds / (x * x) + beta * dv[i];
                    dv[i] = dvi;
                    dx[i] += dvi;
                }
            }
            if (!sp) continue;
            if (dense) {
                for (int i = 0; i < N; i++) {
                    const float si = sp[i];
                    float *row = dW + (size_t)i * N;
                    for (int j = 0; j < N; j++) row[j] += si * dv[j];
                }
            } else {
                int nidx = 0;
                for (int i = 0; i < N; i++) {
                    idx[nidx] = i;
                    nidx += sp[i] != 0.0f;
                }
                rows_acc(dW, N, idx, nidx, dv, N);
            }
        }
    }
}

/* dW_rec (raw) = sum over windows of dW_eff, in window order, through Dale's law and
 * the mask; rows split over tasks. */
static void reduce_task(void *vctx, int task, int ntasks) {
    fb_ctx *c = vctx;
    srnn_model *m = c->m;
    const int N = m->N;
    int r0 = N * task / ntasks, r1 = N * (task + 1) / ntasks;
    for (int i = r0; i < r1; i++) {
        float *g = m->g.w_rec + (size_t)i * N;
        memcpy(g, c->w->dW + (size_t)i * N, (size_t)N * sizeof(float));
        for (int b = 1; b < c->B; b++) {
            const float *d = c->w->dW + ((size_t)b * N + i) * N;
            for (int j = 0; j < N; j++) g[j] += d[j];
        }
        const float *wr = m->p.w_rec + (size_t)i * N;
        const float *mk = m->mask ? m->mask + (size_t)i * N : NULL;
        if (m->cfg.dale) {   /* W_eff = sign(pre) |W_raw|: dW_raw = dW_eff sign(pre) sign(W_raw) */
            float sg = srnn_is_inhibitory(m, i) ? -1.0f : 1.0f;
            for (int j = 0; j < N; j++) g[j] *= sg * (wr[j] < 0 ? -1.0f : 1.0f);
        }
        if (mk)
            for (int j = 0; j < N; j++) g[j] *= mk[j];
    }
}

static int check_fb_args(const srnn_model *m, const int *x, const int *y, int B, int T, int backward, char *err) {
    if (B < 1 || T < 1) return tb_fail(err, "batch %d x ctx %d: both must be >= 1", B, T);
    if (backward && !y) return tb_fail(err, "the backward pass needs targets");
    if (backward && m->cfg.prob_floor > 0)
        return tb_fail(err, "this model has the reservoir's probability readout; BPTT trains the softmax readout");
    if (backward && m->cfg.neuron != SRNN_LIF)
        return tb_fail(err, "surrogate-gradient training needs LIF neurons (%s neurons: use --mode reservoir)",
                       srnn_neuron_name(m->cfg.neuron));
    for (long i = 0; i < (long)B * T; i++)
        if (x[i] < 0 || x[i] >= m->V || (y && (y[i] < 0 || y[i] >= m->V)))
            return tb_fail(err, "token id out of range at batch position %ld", i);
    return 0;
}

/* Each neuron's firing rate R over the batch, the regulariser lambda/N sum (e/10)^2 on
 * its distance e from [rate_lo, rate_hi] (returned), its gradient in w->reg, and the
 * total spike count in *total. */
static double rate_regulariser(const srnn_model *m, srnn_work *w, int B, int TK, const srnn_train_opts *o,
                               double *total) {
    const int N = m->N;
    double hz = 1000.0 / m->cfg.dt_ms, rl = 0;
    *total = 0;
    for (int i = 0; i < N; i++) {
        double si = 0;
        for (int b = 0; b < B; b++) si += w->spk[(size_t)b * N + i];
        *total += si;
        double R = si / ((double)B * TK) * hz;
        double e = (R > o->rate_hi_hz ? R - o->rate_hi_hz : 0) - (R < o->rate_lo_hz ? o->rate_lo_hz - R : 0);
        rl += (e / 10.0) * (e / 10.0);
        /* d/ds of lambda/N (e/10)^2 with dR/ds = hz / (B TK) */
        w->reg[i] = (float)(o->rate_lambda * 2.0 * e / 100.0 / N * hz / ((double)B * TK));
    }
    return o->rate_lambda * rl / N;
}

/* The energy counters of one batch (lesson 15). */
static void count_events(srnn_model *m, const srnn_work *w, int B, int T, double total) {
    long long syn = 0, TK = (long long)T * m->K;
    for (int b = 0; b < B; b++) syn += w->syn[b];
    m->ctr.tokens += (long long)B * T;
    m->ctr.steps += B * TK;
    m->ctr.neuron_updates += B * TK * m->N;
    m->ctr.input_events += B * TK * m->N;
    m->ctr.spikes += (long long)total;
    m->ctr.syn_events += syn;
    m->ctr.readout_events += (long long)total * m->V;
}

/* logits = feat W_out^T + b_out, then softmax in place; returns the mean cross-entropy
 * against y (in double). */
static double readout_ce(const srnn_model *m, srnn_work *w, const int *y, int BT) {
    const int N = m->N, V = m->V;
    double ce = 0;
    tb_kern->matmul_forward(w->logits, w->feat, m->p.w_out, m->p.b_out, BT, N, V);
    if (m->cfg.prob_floor > 0) srnn_prob_link(w->logits, (size_t)BT * V, m->cfg.prob_floor);
    for (int r = 0; r < BT; r++) {
        float *l = w->logits + (size_t)r * V;
        float mx = l[0];
        for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
        double s = 0;
        for (int v = 0; v < V; v++) s += exp((double)(l[v] - mx));
        ce += log(s) + mx - l[y[r]];
        for (int v = 0; v < V; v++) l[v] = (float)(exp((double)(l[v] - mx)) / s);
    }
    return ce / BT;
}

/* The backward pass from the softmax probabilities in w->logits: the readout, BPTT
 * through every window (backward_task), dW_rec (reduce_task), and the input gather. */
static void backward_all(srnn_model *m, srnn_work *w, fb_ctx *c, const int *x, const int *y, int BT) {
    const int N = m->N, V = m->V;
    for (int r = 0; r < BT; r++) {   /* dlogits = (p - onehot) / BT, in place */
        float *l = w->logits + (size_t)r * V;
        l[y[r]] -= 1.0f;
        for (int v = 0; v < V; v++) l[v] /= (float)BT;
    }
    memset(m->grads_mem, 0, m->n_params * sizeof(float));
    memset(w->dfeat, 0, (size_t)BT * N * sizeof(float));
    tb_kern->matmul_backward(w->dfeat, m->g.w_out, m->g.b_out, w->logits, w->feat, m->p.w_out, BT, N, V);
    tb_parallel(c->nt, backward_task, c);
    tb_parallel(c->nt, reduce_task, c);
    for (int r = 0; r < BT; r++) {   /* the gather's backward: a scatter-add, in batch order */
        float *g = m->g.w_in + (size_t)x[r] * N;
        const float *d = w->dxin + (size_t)r * N;
        for (int i = 0; i < N; i++) g[i] += d[i];
    }
}

int srnn_forward_backward(srnn_model *m, const int *x, const int *y, int B, int T, const srnn_train_opts *o,
                          uint64_t noise_seed, int backward, srnn_batch_stats *st, char *err) {
    if (check_fb_args(m, x, y, B, T, backward, err)) return -1;
    srnn_work *w = NULL;
    if (work_get(m, B, T, &w, err)) return -1;
    srnn_train_opts dflt;
    if (!o) { srnn_default_train_opts(&dflt); o = &dflt; }
    const int TK = T * m->K, BT = B * T;
    int nt = tb_threads() < B ? tb_threads() : B;
    fb_ctx c = {m, w, x, B, T, nt, noise_seed};
    tb_parallel(nt, forward_task, &c);

    double total, rate_loss = rate_regulariser(m, w, B, TK, o, &total);
    count_events(m, w, B, T, total);
    double ce = y ? readout_ce(m, w, y, BT) : 0;
    if (st) {
        st->ce = y ? ce : NAN;
        st->rate_loss = rate_loss;
        st->mean_rate_hz = total / ((double)B * TK * m->N) * (1000.0 / m->cfg.dt_ms);
        st->spikes = (long long)total;
    }
    if (backward) backward_all(m, w, &c, x, y, BT);
    return 0;
}

void srnn_work_release(srnn_model *m) {
    if (m->work) work_free(m->work);
    free(m->work);
    m->work = NULL;
}
