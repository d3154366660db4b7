/* srnn.c -- the recurrent spiking language model: config, weights, the one-step
 * simulator, scoring, recording and checkpoints.  Lesson 09; the equations are at the
 * top of include/srnn.h.  Training lives in srnn_train.c (BPTT) and srnn_learn.c
 * (reservoir, STDP). */
#include "srnn.h"
#include "kernels.h"
#include "srnn_priv.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- config ---------------------------------------------------------------------- */

void srnn_default_config(srnn_config *c) {
    memset(c, 0, sizeof *c);
    c->n_neurons = SRNN_DEF_NEURONS;
    c->steps_per_token = SRNN_DEF_STEPS_PER_TOKEN;
    c->dt_ms = SRNN_DEF_DT_MS;
    c->tau_m_ms = SRNN_DEF_TAU_M_MS;
    c->theta = SRNN_DEF_THETA;
    c->slope = SRNN_DEF_SLOPE;
    c->neuron = SRNN_DEF_NEURON;
    c->readout = SRNN_DEF_READOUT;
    c->tau_trace_ms = SRNN_DEF_TAU_TRACE_MS;
    c->dale = SRNN_DEF_DALE;
    c->frac_inh = SRNN_DEF_FRAC_INH;
    c->p_conn = SRNN_DEF_P_CONN;
    c->w_in_std = SRNN_DEF_W_IN_STD;
    c->w_rec_gain = SRNN_DEF_W_REC_GAIN;
    c->noise_hz = SRNN_DEF_NOISE_HZ;
    c->noise_w = SRNN_DEF_NOISE_W;
    c->mode = SRNN_DEF_MODE;
    c->seed = SRNN_DEF_SEED;
}

int srnn_check_config(const srnn_config *c, char *err) {
    if (c->vocab_size < 2 || c->vocab_size > SRNN_MAX_VOCAB)
        return tb_fail(err, "vocab_size %d: must be 2..%d", c->vocab_size, SRNN_MAX_VOCAB);
    if (c->n_neurons < 2 || c->n_neurons > SRNN_MAX_NEURONS)
        return tb_fail(err, "--neurons %d: must be 2..%d", c->n_neurons, SRNN_MAX_NEURONS);
    if (c->steps_per_token < 1 || c->steps_per_token > SRNN_MAX_STEPS_PER_TOKEN)
        return tb_fail(err, "--steps-per-token %d: must be 1..%d", c->steps_per_token, SRNN_MAX_STEPS_PER_TOKEN);
    if (!(c->dt_ms > 0 && c->dt_ms <= 10)) return tb_fail(err, "--dt %g ms: must be in (0, 10]", c->dt_ms);
    if (!(c->tau_m_ms > 0 && c->tau_m_ms < 1e6)) return tb_fail(err, "--tau-m %g ms: must be > 0", c->tau_m_ms);
    if (!(c->theta > 0 && c->theta < 1e6)) return tb_fail(err, "--theta %g: must be > 0", c->theta);
    if (!(c->slope > 0 && c->slope < 1e6)) return tb_fail(err, "--slope %g: must be > 0", c->slope);
    if (c->neuron < SRNN_LIF || c->neuron > SRNN_ADEX) return tb_fail(err, "unknown neuron model %d", (int)c->neuron);
    if (c->readout < SRNN_COUNT || c->readout > SRNN_TRACE) return tb_fail(err, "unknown readout %d", (int)c->readout);
    if (!(c->tau_trace_ms > 0 && c->tau_trace_ms < 1e6)) return tb_fail(err, "--tau-trace %g ms: must be > 0", c->tau_trace_ms);
    if (!(c->frac_inh >= 0 && c->frac_inh < 1)) return tb_fail(err, "--frac-inh %g: must be in [0, 1)", c->frac_inh);
    if (!(c->p_conn > 0 && c->p_conn <= 1)) return tb_fail(err, "--p-conn %g: must be in (0, 1]", c->p_conn);
    if (!(c->w_in_std >= 0 && c->w_in_std < 1e3)) return tb_fail(err, "--w-in-std %g: must be >= 0", c->w_in_std);
    if (!(c->w_rec_gain >= 0 && c->w_rec_gain < 1e3)) return tb_fail(err, "--w-rec-gain %g: must be >= 0", c->w_rec_gain);
    if (!(c->noise_hz >= 0 && c->noise_hz * c->dt_ms / 1000.0 < 20))
        return tb_fail(err, "--noise-hz %g: must be >= 0 (and below 20 events per step)", c->noise_hz);
    if (!isfinite(c->noise_w)) return tb_fail(err, "--noise-w %g: must be finite", c->noise_w);
    if (!(c->prob_floor >= 0 && c->prob_floor < 1e6)) return tb_fail(err, "prob_floor %g: must be >= 0", c->prob_floor);
    if (c->mode < SRNN_BPTT || c->mode > SRNN_RESERVOIR) return tb_fail(err, "unknown learning mode %d", (int)c->mode);
    return 0;
}

static const char *const neuron_names[] = {"lif", "izh", "adex"};
static const char *const mode_names[] = {"bptt", "reservoir"};
static const char *const readout_names[] = {"count", "trace"};

const char *srnn_neuron_name(srnn_neuron n) { return (unsigned)n < 3 ? neuron_names[n] : "?"; }
const char *srnn_mode_name(srnn_mode m) { return (unsigned)m < 2 ? mode_names[m] : "?"; }
const char *srnn_readout_name(srnn_readout r) { return (unsigned)r < 2 ? readout_names[r] : "?"; }

static int parse_name(const char *s, const char *const *names, int n) {
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}
int srnn_parse_neuron(const char *s, srnn_neuron *out) {
    int i = parse_name(s, neuron_names, 3);
    if (i < 0) return -1;
    *out = (srnn_neuron)i;
    return 0;
}
int srnn_parse_mode(const char *s, srnn_mode *out) {
    int i = parse_name(s, mode_names, 2);
    if (i < 0) return -1;
    *out = (srnn_mode)i;
    return 0;
}
int srnn_parse_readout(const char *s, srnn_readout *out) {
    int i = parse_name(s, readout_names, 2);
    if (i < 0) return -1;
    *out = (srnn_readout)i;
    return 0;
}

/* ---- the model ------------------------------------------------------------------- */

static void set_pointers(srnn_model *m) {
    size_t V = (size_t)m->V, N = (size_t)m->N;
    float *bufs[2] = {m->params_mem, m->grads_mem};
    srnn_params *ps[2] = {&m->p, &m->g};
    for (int k = 0; k < 2; k++) {
        float *q = bufs[k];
        ps[k]->w_in = q;  q += V * N;
        ps[k]->w_rec = q; q += N * N;
        ps[k]->w_out = q; q += V * N;
        ps[k]->b_out = q;
    }
}

/* Allocate everything for cfg without drawing weights. */
static int alloc_model(srnn_model *m, const srnn_config *cfg, char *err) {
    memset(m, 0, sizeof *m);
    if (srnn_check_config(cfg, err)) return -1;
    m->cfg = *cfg;
    m->V = cfg->vocab_size;
    m->N = cfg->n_neurons;
    m->K = cfg->steps_per_token;
    size_t V = (size_t)m->V, N = (size_t)m->N;
    m->n_params = 2 * V * N + N * N + V;
    m->params_mem = calloc(m->n_params, sizeof(float));
    m->grads_mem = calloc(m->n_params, sizeof(float));
    m->decay_mask = malloc(m->n_params);
    m->w_eff = calloc(N * N, sizeof(float));
    m->fanout = calloc(N, sizeof(int));
    if (cfg->p_conn < 1) m->mask = calloc(N * N, sizeof(float));
    if (!m->params_mem || !m->grads_mem || !m->decay_mask || !m->w_eff || !m->fanout || (cfg->p_conn < 1 && !m->mask)) {
        int neurons = m->N; /* srnn_free clears it */
        srnn_free(m);
        return tb_fail(err, "out of memory for a spiking network of %d neurons", neurons);
    }
    set_pointers(m);
    memset(m->decay_mask, 1, m->n_params - V);
    memset(m->decay_mask + m->n_params - V, 0, V);   /* no decay on the readout bias */
    m->n_exc = cfg->dale ? (int)lround(m->N * (1.0 - cfg->frac_inh)) : m->N;
    if (cfg->dale && (m->n_exc < 1 || m->n_exc > m->N)) m->n_exc = m->N;
    m->beta = (float)exp(-cfg->dt_ms / cfg->tau_m_ms);
    m->theta = (float)cfg->theta;
    m->slope = (float)cfg->slope;
    m->trace_a = (float)exp(-cfg->dt_ms / cfg->tau_trace_ms);
    m->noise_p = cfg->noise_hz > 0 ? 1.0 - exp(-cfg->noise_hz * cfg->dt_ms / 1000.0) : 0.0;
    m->eval_seed = rng_child_seed(cfg->seed, "scoring noise", 0);
    return 0;
}

int srnn_init(srnn_model *m, const srnn_config *cfg, char *err) {
    if (alloc_model(m, cfg, err)) return -1;
    int V = m->V, N = m->N;
    tb_rng r;
    rng_stream(&r, cfg->seed, 101);
    for (size_t i = 0; i < (size_t)V * N; i++) m->p.w_in[i] = (float)(cfg->w_in_std * rng_normal(&r));
    rng_stream(&r, cfg->seed, 102);
    double sd = cfg->w_rec_gain / sqrt(N * cfg->p_conn);
    /* With Dale's law the weights are |W_raw| * sign(pre); inhibitory rows are drawn
     * (N_E / N_I) times stronger so that excitation and inhibition balance on average. */
    double g_inh = cfg->dale && m->n_exc < N ? (double)m->n_exc / (N - m->n_exc) : 1.0;
    for (int i = 0; i < N; i++) {
        double s = srnn_is_inhibitory(m, i) ? sd * g_inh : sd;
        for (int j = 0; j < N; j++) m->p.w_rec[(size_t)i * N + j] = (float)(s * rng_normal(&r));
    }
    if (m->mask) {
        rng_stream(&r, cfg->seed, 103);
        for (size_t i = 0; i < (size_t)N * N; i++) m->mask[i] = rng_uniform(&r) < cfg->p_conn ? 1.0f : 0.0f;
    }
    srnn_refresh(m);
    return 0;
}

void srnn_free(srnn_model *m) {
    free(m->params_mem);
    free(m->grads_mem);
    free(m->decay_mask);
    free(m->mask);
    free(m->w_eff);
    free(m->fanout);
    srnn_work_release(m);
    memset(m, 0, sizeof *m);
}

int srnn_is_inhibitory(const srnn_model *m, int i) { return m->cfg.dale && i >= m->n_exc; }

void srnn_refresh(srnn_model *m) {
    int N = m->N;
    for (int i = 0; i < N; i++) {
        const float *w = m->p.w_rec + (size_t)i * N;
        const float *mk = m->mask ? m->mask + (size_t)i * N : NULL;
        float *e = m->w_eff + (size_t)i * N;
        int dale = m->cfg.dale, inh = srnn_is_inhibitory(m, i), nz = 0;
        for (int j = 0; j < N; j++) {
            float x = dale ? (inh ? -fabsf(w[j]) : fabsf(w[j])) : w[j];
            if (mk) x *= mk[j];
            e[j] = x;
            nz += x != 0.0f;
        }
        m->fanout[i] = nz;
    }
}

double srnn_hz_per_count(const srnn_model *m) { return 1000.0 / (m->K * m->cfg.dt_ms); }

void srnn_counters_reset(srnn_model *m) { memset(&m->ctr, 0, sizeof m->ctr); }

void srnn_counters_add(srnn_counters *a, const srnn_counters *b) {
    a->tokens += b->tokens;
    a->steps += b->steps;
    a->neuron_updates += b->neuron_updates;
    a->spikes += b->spikes;
    a->syn_events += b->syn_events;
    a->readout_events += b->readout_events;
    a->input_events += b->input_events;
}

/* ---- background noise ------------------------------------------------------------ */

static long long geometric(srnn_noise *nz) {
    /* number of failures before the next success of a Bernoulli(p) process */
    double u = 1.0 - rng_uniform(&nz->rng);   /* (0, 1] */
    double g = floor(log(u) / nz->log1mp);
    return g > 4e18 ? (long long)4e18 : (long long)g;
}

void srnn_noise_init(srnn_noise *nz, double p, uint64_t seed, uint64_t stream) {
    memset(nz, 0, sizeof *nz);
    nz->p = p;
    if (p <= 0) return;
    rng_stream(&nz->rng, seed, stream);
    nz->log1mp = p >= 1 ? -1e300 : log1p(-p);
    nz->gap = p >= 1 ? 0 : geometric(nz);
}

void srnn_noise_step(srnn_noise *nz, float *acc, int N, float w) {
    if (nz->p <= 0) return;
    while (nz->gap < N) {
        acc[nz->gap] += w;
        nz->gap += 1 + (nz->p >= 1 ? 0 : geometric(nz));
    }
    nz->gap -= N;
}

/* ---- the one-step simulator (inference) ------------------------------------------- */

int srnn_sim_init(srnn_sim *S, const srnn_model *m, char *err) {
    memset(S, 0, sizeof *S);
    S->m = m;
    int N = m->N;
    S->v = calloc((size_t)5 * N, sizeof(float));
    S->idx = malloc((size_t)N * sizeof(int));
    if (!S->v || !S->idx) { srnn_sim_free(S); return tb_fail(err, "out of memory"); }
    S->s = S->v + N;
    S->z = S->s + N;
    S->cnt = S->z + N;
    S->acc = S->cnt + N;
    if (m->cfg.neuron != SRNN_LIF) {
        nrn_model nm = m->cfg.neuron == SRNN_IZH ? NRN_IZH : NRN_ADEX;
        if (nrn_params_default(&S->np, nm, NULL, err)) { srnn_sim_free(S); return -1; }
        S->i_unit = nm == NRN_IZH ? 20.0 : 20.0 * S->np.adex.c_m / 1000.0;   /* pA (C = 1) | nA */
        S->substeps = 1;
        char e2[TB_ERRLEN];
        while (S->substeps < 1024 && nrn_check(&S->np, m->cfg.dt_ms / S->substeps, e2)) S->substeps *= 2;
        if (nrn_check(&S->np, m->cfg.dt_ms / S->substeps, e2)) { srnn_sim_free(S); return tb_fail(err, "%s", e2); }
        S->ns = malloc((size_t)N * sizeof(nrn_state));
        if (!S->ns) { srnn_sim_free(S); return tb_fail(err, "out of memory"); }
    }
    return 0;
}

void srnn_sim_free(srnn_sim *S) {
    free(S->v);
    free(S->idx);
    free(S->ns);
    memset(S, 0, sizeof *S);
}

void srnn_sim_reset(srnn_sim *S, double noise_p, float noise_w, uint64_t seed, uint64_t stream) {
    int N = S->m->N;
    memset(S->v, 0, (size_t)4 * N * sizeof(float));
    S->nidx = 0;
    if (S->ns)
        for (int i = 0; i < N; i++) nrn_init(&S->np, &S->ns[i]);
    srnn_noise_init(&S->noise, noise_p, seed, stream);
    S->noise_w = noise_w;
}

int srnn_sim_step(srnn_sim *S, int tok) {
    const srnn_model *m = S->m;
    int N = m->N;
    float *acc = S->acc;
    /* drive = x (the token's row of W_in) + W_eff^T s_{t-1} (event-driven) + noise */
    memcpy(acc, m->p.w_in + (size_t)tok * N, (size_t)N * sizeof(float));
    if (S->nidx) tb_kern->rows_add(acc, m->w_eff, N, S->idx, S->nidx, N);
    srnn_noise_step(&S->noise, acc, N, S->noise_w);
    int ns = 0;
    if (!S->ns) {
        const float beta = m->beta, th = m->theta;
        float *v = S->v, *s = S->s;
        for (int i = 0; i < N; i++) {
            float vi = beta * v[i] + acc[i] - th * s[i];   /* soft reset by the last spike */
            v[i] = vi;
            s[i] = vi > th ? 1.0f : 0.0f;
        }
    } else {
        double dt = m->cfg.dt_ms / S->substeps;
        for (int i = 0; i < N; i++) {
            double I = acc[i] * S->i_unit;
            int spk = 0;
            for (int q = 0; q < S->substeps; q++) spk |= nrn_step(&S->np, &S->ns[i], I, dt);
            S->v[i] = (float)S->ns[i].v;
            S->s[i] = spk ? 1.0f : 0.0f;
        }
    }
    long long syn = 0;
    for (int i = 0; i < N; i++)
        if (S->s[i] != 0.0f) { S->idx[ns++] = i; syn += m->fanout[i]; }
    S->nidx = ns;
    S->ctr.steps++;
    S->ctr.neuron_updates += N;
    S->ctr.input_events += N;
    S->ctr.spikes += ns;
    S->ctr.syn_events += syn;
    S->ctr.readout_events += (long long)ns * m->V;
    return ns;
}

void srnn_sim_token(srnn_sim *S, int tok, float *feat, float *counts) {
    const srnn_model *m = S->m;
    int N = m->N;
    const float a = m->trace_a;
    memset(S->cnt, 0, (size_t)N * sizeof(float));
    for (int k = 0; k < m->K; k++) {
        srnn_sim_step(S, tok);
        for (int i = 0; i < N; i++) {
            S->cnt[i] += S->s[i];
            S->z[i] = a * S->z[i] + S->s[i];
        }
    }
    S->ctr.tokens++;
    if (feat) memcpy(feat, m->cfg.readout == SRNN_TRACE ? S->z : S->cnt, (size_t)N * sizeof(float));
    if (counts) memcpy(counts, S->cnt, (size_t)N * sizeof(float));
}

/* ---- scoring ----------------------------------------------------------------------- */

void srnn_prob_link(float *y, size_t n, double floor) {
    for (size_t i = 0; i < n; i++) y[i] = (float)log((y[i] > 0 ? y[i] : 0.0) + floor);
}

void srnn_readout_nll(const srnn_model *m, const float *feat, const int *y, int n, float *logits, float *nll) {
    int V = m->V;
    tb_kern->matmul_forward(logits, feat, m->p.w_out, m->p.b_out, n, m->N, V);
    if (m->cfg.prob_floor > 0) srnn_prob_link(logits, (size_t)n * V, m->cfg.prob_floor);
    for (int r = 0; r < n; r++) {
        const float *l = logits + (size_t)r * V;
        float mx = l[0];
        for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
        double s = 0;
        for (int v = 0; v < V; v++) s += exp((double)(l[v] - mx));
        nll[r] = (float)(log(s) + mx - l[y[r]]);
    }
}

/* Score one sequence with a ready simulator, SCORE_CHUNK tokens at a time (the state
 * carries over), so the scratch feat[SCORE_CHUNK*N], logits[SCORE_CHUNK*V] is bounded
 * however long the sequence. */
#define SCORE_CHUNK 256
static void score_one(srnn_sim *S, const int *ids, int n, float *nll, float *feat, float *logits) {
    const srnn_model *m = S->m;
    srnn_sim_reset(S, m->noise_p, (float)m->cfg.noise_w, m->eval_seed, 0);
    nll[0] = 0.0f;
    for (int a = 0; a < n - 1; a += SCORE_CHUNK) {
        int len = n - 1 - a < SCORE_CHUNK ? n - 1 - a : SCORE_CHUNK;
        for (int i = 0; i < len; i++) srnn_sim_token(S, ids[a + i], feat + (size_t)i * m->N, NULL);
        srnn_readout_nll(m, feat, ids + a + 1, len, logits, nll + a + 1);
    }
}

static int check_ids(const srnn_model *m, const int *ids, long n, char *err) {
    for (long i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= m->V) return tb_fail(err, "token id %d at position %ld is outside the vocabulary (%d)", ids[i], i, m->V);
    return 0;
}

int srnn_sequence_nll(srnn_model *m, const int *ids, int n, float *nll, char *err) {
    if (n < 1) return tb_fail(err, "empty sequence");
    if (check_ids(m, ids, n, err)) return -1;
    srnn_sim S;
    if (srnn_sim_init(&S, m, err)) return -1;
    float *feat = malloc((size_t)SCORE_CHUNK * m->N * sizeof(float));
    float *logits = malloc((size_t)SCORE_CHUNK * m->V * sizeof(float));
    if (!feat || !logits) { free(feat); free(logits); srnn_sim_free(&S); return tb_fail(err, "out of memory"); }
    score_one(&S, ids, n, nll, feat, logits);
    srnn_counters_add(&m->ctr, &S.ctr);
    free(feat);
    free(logits);
    srnn_sim_free(&S);
    return 0;
}

int srnn_sequence_logits(srnn_model *m, const int *ids, int n, float *logits, char *err) {
    if (n < 2) return tb_fail(err, "a sequence of %d token(s) has no next token to predict", n);
    if (check_ids(m, ids, n, err)) return -1;
    srnn_sim S;
    if (srnn_sim_init(&S, m, err)) return -1;
    float *feat = malloc((size_t)SCORE_CHUNK * m->N * sizeof(float));
    if (!feat) { srnn_sim_free(&S); return tb_fail(err, "out of memory"); }
    srnn_sim_reset(&S, m->noise_p, (float)m->cfg.noise_w, m->eval_seed, 0);   /* as score_one */
    for (int a = 0; a < n - 1; a += SCORE_CHUNK) {
        int len = n - 1 - a < SCORE_CHUNK ? n - 1 - a : SCORE_CHUNK;
        float *l = logits + (size_t)a * m->V;
        for (int i = 0; i < len; i++) srnn_sim_token(&S, ids[a + i], feat + (size_t)i * m->N, NULL);
        tb_kern->matmul_forward(l, feat, m->p.w_out, m->p.b_out, len, m->N, m->V);
        if (m->cfg.prob_floor > 0) srnn_prob_link(l, (size_t)len * m->V, m->cfg.prob_floor);
    }
    srnn_counters_add(&m->ctr, &S.ctr);
    free(feat);
    srnn_sim_free(&S);
    return 0;
}

typedef struct {
    srnn_model *m;
    const int *ids;
    const long *start;   /* sentence s covers ids[start[s] .. start[s+1]-1] */
    long n_sent;
    int eos, maxlen;
    float *nll;
    srnn_counters *ctr;  /* [ntasks] */
    int *fail;
} stream_ctx;

static void stream_task(void *vctx, int task, int ntasks) {
    stream_ctx *c = vctx;
    const srnn_model *m = c->m;
    long s0 = c->n_sent * task / ntasks, s1 = c->n_sent * (task + 1) / ntasks;
    srnn_sim S;
    char err[TB_ERRLEN];
    size_t L = (size_t)c->maxlen + 1;
    int *buf = malloc(L * sizeof(int));
    float *out = malloc(L * sizeof(float)), *feat = malloc((size_t)SCORE_CHUNK * m->N * sizeof(float));
    float *logits = malloc((size_t)SCORE_CHUNK * m->V * sizeof(float));
    if (!buf || !out || !feat || !logits || srnn_sim_init(&S, m, err)) {
        c->fail[task] = 1;
        free(buf); free(out); free(feat); free(logits);
        return;
    }
    for (long s = s0; s < s1; s++) {
        long a = c->start[s], len = c->start[s + 1] - a;
        buf[0] = c->eos;
        memcpy(buf + 1, c->ids + a, (size_t)len * sizeof(int));
        score_one(&S, buf, (int)len + 1, out, feat, logits);
        memcpy(c->nll + a, out + 1, (size_t)len * sizeof(float));
    }
    c->ctr[task] = S.ctr;
    srnn_sim_free(&S);
    free(buf); free(out); free(feat); free(logits);
}

int srnn_stream_nll(srnn_model *m, const int *ids, long n, int eos, float *nll, char *err) {
    if (n < 1) return tb_fail(err, "empty stream");
    if (check_ids(m, ids, n, err)) return -1;
    if (eos < 0) {   /* one continuous run (text corpora) */
        if (n > 2000000000L) return tb_fail(err, "stream too long (%ld tokens)", n);
        int rc = srnn_sequence_nll(m, ids, (int)n, nll, err);
        if (!rc) nll[0] = NAN;
        return rc;
    }
    if (eos >= m->V) return tb_fail(err, "eos id %d is outside the vocabulary", eos);
    long ns = 0;
    for (long i = 0; i < n; i++) ns += ids[i] == eos || i == n - 1;
    long *start = malloc((size_t)(ns + 1) * sizeof(long));
    if (!start) return tb_fail(err, "out of memory");
    long k = 0, maxlen = 1;
    start[0] = 0;
    for (long i = 0; i < n; i++)
        if (ids[i] == eos || i == n - 1) {
            start[++k] = i + 1;
            if (start[k] - start[k - 1] > maxlen) maxlen = start[k] - start[k - 1];
        }
    if (maxlen > 1000000) { free(start); return tb_fail(err, "a sentence of %ld tokens is too long", maxlen); }
    int nt = tb_threads() * 4;
    if (nt > ns) nt = (int)ns;
    srnn_counters *ctr = calloc((size_t)nt, sizeof *ctr);
    int *fail = calloc((size_t)nt, sizeof(int));
    if (!ctr || !fail) { free(start); free(ctr); free(fail); return tb_fail(err, "out of memory"); }
    stream_ctx c = {m, ids, start, ns, eos, (int)maxlen, nll, ctr, fail};
    tb_parallel(nt, stream_task, &c);
    int bad = 0;
    for (int t = 0; t < nt; t++) {
        bad |= fail[t];
        srnn_counters_add(&m->ctr, &ctr[t]);
    }
    free(start); free(ctr); free(fail);
    return bad ? tb_fail(err, "out of memory scoring the stream") : 0;
}

/* The checks srnn_record and srnn_spikes share; *p = background spike probability per
 * neuron and step at noise_hz (< 0: the model's own). */
static int record_setup(const srnn_model *m, const int *ids, int n, double noise_hz, double *p, char *err) {
    if (n < 1) return tb_fail(err, "empty sequence");
    if (check_ids(m, ids, n, err)) return -1;
    *p = noise_hz < 0 ? m->noise_p : noise_hz > 0 ? 1.0 - exp(-noise_hz * m->cfg.dt_ms / 1000.0) : 0.0;
    if (!(*p >= 0 && *p <= 1)) return tb_fail(err, "noise rate %g Hz is out of range", noise_hz);
    return 0;
}

int srnn_record(srnn_model *m, const int *ids, int n, uint64_t noise_seed, double noise_hz, float *counts, char *err) {
    double p = 0;
    if (record_setup(m, ids, n, noise_hz, &p, err)) return -1;
    srnn_sim S;
    if (srnn_sim_init(&S, m, err)) return -1;
    srnn_sim_reset(&S, p, (float)m->cfg.noise_w, noise_seed, 7);
    for (int i = 0; i < n; i++) srnn_sim_token(&S, ids[i], NULL, counts + (size_t)i * m->N);
    srnn_counters_add(&m->ctr, &S.ctr);
    srnn_sim_free(&S);
    return 0;
}

int srnn_spikes(const srnn_model *m, const int *ids, int n, uint64_t noise_seed, double noise_hz, float *spikes,
                char *err) {
    double p = 0;
    if (record_setup(m, ids, n, noise_hz, &p, err)) return -1;
    srnn_sim S;
    if (srnn_sim_init(&S, m, err)) return -1;
    srnn_sim_reset(&S, p, (float)m->cfg.noise_w, noise_seed, 7);   /* srnn_record's stream */
    size_t N = (size_t)m->N;
    for (int t = 0; t < n; t++)
        for (int k = 0; k < m->K; k++) {
            srnn_sim_step(&S, ids[t]);
            memcpy(spikes + ((size_t)t * m->K + k) * N, S.s, N * sizeof(float));
        }
    srnn_sim_free(&S);
    return 0;
}

/* ---- checkpoints ------------------------------------------------------------------- */

int srnn_to_ckpt(const srnn_model *m, tb_ckpt *c, char *err) {
    const srnn_config *g = &m->cfg;
    int rc = ckpt_set_int(c, "vocab_size", g->vocab_size) || ckpt_set_int(c, "n_neurons", g->n_neurons) ||
             ckpt_set_int(c, "steps_per_token", g->steps_per_token) || ckpt_set_double(c, "dt_ms", g->dt_ms) ||
             ckpt_set_double(c, "tau_m_ms", g->tau_m_ms) || ckpt_set_double(c, "theta", g->theta) ||
             ckpt_set_double(c, "slope", g->slope) || ckpt_set(c, "neuron", srnn_neuron_name(g->neuron)) ||
             ckpt_set(c, "readout", srnn_readout_name(g->readout)) || ckpt_set_double(c, "tau_trace_ms", g->tau_trace_ms) ||
             ckpt_set_int(c, "dale", g->dale) || ckpt_set_double(c, "frac_inh", g->frac_inh) ||
             ckpt_set_double(c, "p_conn", g->p_conn) || ckpt_set_double(c, "w_in_std", g->w_in_std) ||
             ckpt_set_double(c, "w_rec_gain", g->w_rec_gain) || ckpt_set_double(c, "noise_hz", g->noise_hz) ||
             ckpt_set_double(c, "noise_w", g->noise_w) || ckpt_set(c, "mode", srnn_mode_name(g->mode)) ||
             ckpt_set_double(c, "prob_floor", g->prob_floor);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)g->seed);
    rc = rc || ckpt_set(c, "seed", seed);
    int64_t vn[2] = {m->V, m->N}, nn[2] = {m->N, m->N}, v1[1] = {m->V};
    rc = rc || ckpt_add_tensor(c, "w_in", m->p.w_in, 2, vn) || ckpt_add_tensor(c, "w_rec", m->p.w_rec, 2, nn) ||
         ckpt_add_tensor(c, "w_out", m->p.w_out, 2, vn) || ckpt_add_tensor(c, "b_out", m->p.b_out, 1, v1);
    if (!rc && m->mask) rc = ckpt_add_tensor(c, "mask", m->mask, 2, nn);
    return rc ? tb_fail(err, "out of memory building the srnn checkpoint") : 0;
}

static int get_choice(const tb_ckpt *c, const char *key, int (*parse)(const char *, void *), void *out, char *err) {
    const char *v = ckpt_get(c, key);
    if (!v) return tb_fail(err, "config key '%s' missing", key);
    if (parse(v, out)) return tb_fail(err, "config key '%s' has an unknown value '%s'", key, v);
    return 0;
}
static int parse_neuron_v(const char *s, void *o) { return srnn_parse_neuron(s, o); }
static int parse_mode_v(const char *s, void *o) { return srnn_parse_mode(s, o); }
static int parse_readout_v(const char *s, void *o) { return srnn_parse_readout(s, o); }

/* Every tensor the config implies is present with its shape before anything is
 * allocated: a small file claiming 65536 neurons is refused at once. */
static int check_tensors(const srnn_config *g, const tb_ckpt *c, char *err) {
    int64_t V = g->vocab_size, N = g->n_neurons, vn[2] = {V, N}, nn[2] = {N, N}, v1[1] = {V};
    return ckpt_check_tensor(c, "w_in", 2, vn, err) || ckpt_check_tensor(c, "w_rec", 2, nn, err) ||
           ckpt_check_tensor(c, "w_out", 2, vn, err) || ckpt_check_tensor(c, "b_out", 1, v1, err) ||
           (g->p_conn < 1 && ckpt_check_tensor(c, "mask", 2, nn, err)) ? -1 : 0;
}

int srnn_from_ckpt(srnn_model *m, const tb_ckpt *c, char *err) {
    srnn_config g;
    srnn_default_config(&g);
    long long V, N, Kt, dale;
    if (ckpt_get_int(c, "vocab_size", &V, err) || ckpt_get_int(c, "n_neurons", &N, err) ||
        ckpt_get_int(c, "steps_per_token", &Kt, err) || ckpt_get_double(c, "dt_ms", &g.dt_ms, err) ||
        ckpt_get_double(c, "tau_m_ms", &g.tau_m_ms, err) || ckpt_get_double(c, "theta", &g.theta, err) ||
        ckpt_get_double(c, "slope", &g.slope, err) || get_choice(c, "neuron", parse_neuron_v, &g.neuron, err) ||
        get_choice(c, "readout", parse_readout_v, &g.readout, err) ||
        ckpt_get_double(c, "tau_trace_ms", &g.tau_trace_ms, err) || ckpt_get_int(c, "dale", &dale, err) ||
        ckpt_get_double(c, "frac_inh", &g.frac_inh, err) || ckpt_get_double(c, "p_conn", &g.p_conn, err) ||
        ckpt_get_double(c, "w_in_std", &g.w_in_std, err) || ckpt_get_double(c, "w_rec_gain", &g.w_rec_gain, err) ||
        ckpt_get_double(c, "noise_hz", &g.noise_hz, err) || ckpt_get_double(c, "noise_w", &g.noise_w, err) ||
        get_choice(c, "mode", parse_mode_v, &g.mode, err) || ckpt_get_double(c, "prob_floor", &g.prob_floor, err))
        return -1;
    const char *sd = ckpt_get(c, "seed");
    if (!sd) return tb_fail(err, "config key 'seed' missing");
    char *end;
    g.seed = strtoull(sd, &end, 10);
    if (*end || !*sd) return tb_fail(err, "config key 'seed' is not an unsigned integer");
    if (V < 2 || V > SRNN_MAX_VOCAB || N < 2 || N > SRNN_MAX_NEURONS || Kt < 1 || Kt > SRNN_MAX_STEPS_PER_TOKEN ||
        (dale != 0 && dale != 1))
        return tb_fail(err, "config out of range (vocab_size %lld, n_neurons %lld, steps_per_token %lld, dale %lld)", V, N, Kt, dale);
    g.vocab_size = (int)V;
    g.n_neurons = (int)N;
    g.steps_per_token = (int)Kt;
    g.dale = (int)dale;
    if (srnn_check_config(&g, err) || check_tensors(&g, c, err) || alloc_model(m, &g, err)) return -1;
    int64_t vn[2] = {V, N}, nn[2] = {N, N}, v1[1] = {V};
    if (ckpt_read_tensor(c, "w_in", m->p.w_in, 2, vn, err) || ckpt_read_tensor(c, "w_rec", m->p.w_rec, 2, nn, err) ||
        ckpt_read_tensor(c, "w_out", m->p.w_out, 2, vn, err) || ckpt_read_tensor(c, "b_out", m->p.b_out, 1, v1, err) ||
        (m->mask && ckpt_read_tensor(c, "mask", m->mask, 2, nn, err))) {
        srnn_free(m);
        return -1;
    }
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params_mem[i])) {
            srnn_free(m);
            return tb_fail(err, "parameter %zu is not finite", i);
        }
    if (m->mask)
        for (size_t i = 0; i < (size_t)N * N; i++)
            if (m->mask[i] != 0.0f && m->mask[i] != 1.0f) {
                srnn_free(m);
                return tb_fail(err, "tensor 'mask' holds a value other than 0/1");
            }
    srnn_refresh(m);
    return 0;
}

int srnn_save_file(const srnn_model *m, const tb_tokenizer *tok, const char *path, char *err) {
    tb_ckpt c;
    ckpt_init(&c, "srnn");
    int rc = srnn_to_ckpt(m, &c, err) || (tok && tok_save(tok, &c, err)) || ckpt_save(&c, path, err);
    ckpt_free(&c);
    return rc ? -1 : 0;
}

int srnn_load_file(const char *path, srnn_model *m, tb_tokenizer *tok, tb_ckpt *ck, char *err) {
    tb_ckpt local, *c = ck ? ck : &local;
    char e[TB_ERRLEN];
    if (ckpt_load(c, path, "srnn", err)) return -1;
    if (srnn_from_ckpt(m, c, e)) {
        ckpt_free(c);
        return tb_fail(err, "%s: %s", path, e);
    }
    if (tok) {
        if (tok_load(tok, c, e)) {
            srnn_free(m);
            ckpt_free(c);
            return tb_fail(err, "%s: %s", path, e);
        }
        if (tok->vocab_size != m->V) {
            tok_free(tok);
            srnn_free(m);
            ckpt_free(c);
            return tb_fail(err, "%s: tokenizer has %d tokens but the model %d", path, tok->vocab_size, m->V);
        }
    }
    if (!ck) ckpt_free(c);
    return 0;
}
