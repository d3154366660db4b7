/* bench_models.c -- timed training steps of the GPT and of the spiking language model,
 * and timed runs of a spiking network: the workloads of `bench gpt`, `bench snn-train`
 * and `bench snn` (see include/bench.h for what each one reproduces). */
#include "bench.h"
#include "gpt.h"
#include "rng.h"
#include "snn.h"
#include "srnn.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Adam(W) as PyTorch's defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay,
 * no clipping, no schedule. */
static int pytorch_adam(tb_adamw *opt, size_t n_params, char *err) {
    tb_adamw_cfg oc;
    adamw_default_cfg(&oc);
    oc.lr = 1e-3;
    oc.beta2 = 0.999;
    oc.weight_decay = 0;
    oc.clip_norm = 0;
    oc.warmup_steps = 0;
    oc.total_steps = 0;
    return adamw_init(opt, &oc, n_params, err);
}

/* ---- GPT ----------------------------------------------------------------------------- */

const bench_gpt_preset bench_gpt_presets[BENCH_GPT_PRESETS] = {
    {"classroom", 64, 64, 4, 4, 128, 16},
    {"small", 256, 128, 6, 6, 192, 8},
};

const bench_gpt_preset *bench_gpt_find(const char *name) {
    for (int i = 0; i < BENCH_GPT_PRESETS; i++)
        if (name && !strcmp(name, bench_gpt_presets[i].name)) return &bench_gpt_presets[i];
    return NULL;
}

/* The model of torch_gpt.py at preset p, and its optimizer. */
static int gpt_setup(const bench_gpt_preset *p, gpt_model *m, tb_adamw *opt, char *err) {
    gpt_config c;
    gpt_default_config(&c);
    c.vocab_size = p->vocab;
    c.ctx = p->ctx;
    c.n_layer = p->layers;
    c.n_head = p->heads;
    c.d_model = p->dim;
    c.mlp_ratio = 4;
    c.act = GPT_ACT_GELU;
    c.norm = GPT_NORM_LAYER;
    c.pos = GPT_POS_LEARNED;
    c.tied = 0;
    c.seed = 1;
    if (gpt_init(m, &c, err)) return -1;
    if (pytorch_adam(opt, m->n_params, err)) { gpt_free(m); return -1; }
    return 0;
}

/* One fixed batch of random inputs and targets. */
static void random_tokens(int *x, int *y, int n, int vocab) {
    tb_rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < n; i++) { x[i] = (int)rng_below(&r, (uint32_t)vocab); y[i] = (int)rng_below(&r, (uint32_t)vocab); }
}

/* The phase clock: on each mark, the time since the last one goes to the phase that
 * was running.  Slots: embed fwd, L layers fwd, head fwd, head bwd, L layers bwd,
 * embed bwd (-1: between passes). */
typedef struct { int L, slot; double t_last, *acc; } phase_clock;

static void on_phase(void *ctx, gpt_phase ph, int layer) {
    phase_clock *c = ctx;
    double now = bench_now_s();
    if (c->slot >= 0) c->acc[c->slot] += now - c->t_last;
    c->t_last = now;
    int L = c->L;
    c->slot = ph == GPT_PHASE_EMBED_FWD ? 0 : ph == GPT_PHASE_LAYER_FWD ? 1 + layer : ph == GPT_PHASE_HEAD_FWD ? L + 1
            : ph == GPT_PHASE_HEAD_BWD ? L + 2 : ph == GPT_PHASE_LAYER_BWD ? L + 3 + layer
            : ph == GPT_PHASE_EMBED_BWD ? 2 * L + 3 : -1;
}

/* Mean ms per step of each phase into r (acc in seconds over `steps` steps). */
static int phase_results(const phase_clock *c, int steps, bench_gpt_result *r, char *err) {
    int L = c->L;
    r->layers = L;
    r->layer_fwd_ms = malloc((size_t)L * sizeof(double));
    r->layer_bwd_ms = malloc((size_t)L * sizeof(double));
    if (!r->layer_fwd_ms || !r->layer_bwd_ms) return tb_fail(err, "out of memory");
    double k = 1e3 / steps;
    r->embed_fwd_ms = k * c->acc[0];
    r->head_fwd_ms = k * c->acc[L + 1];
    r->head_bwd_ms = k * c->acc[L + 2];
    r->embed_bwd_ms = k * c->acc[2 * L + 3];
    for (int l = 0; l < L; l++) {
        r->layer_fwd_ms[l] = k * c->acc[1 + l];
        r->layer_bwd_ms[l] = k * c->acc[L + 3 + l];
    }
    long jobs;
    double wait;
    tb_threads_profile_read(&jobs, &wait);
    r->pool_jobs = (double)jobs / steps;
    r->pool_wait_ms = k * wait;
    return 0;
}

void bench_gpt_result_free(bench_gpt_result *r) {
    free(r->layer_fwd_ms);
    free(r->layer_bwd_ms);
    r->layer_fwd_ms = r->layer_bwd_ms = NULL;
}

int bench_gpt_steps(const bench_gpt_preset *p, int steps, int warmup, bench_gpt_result *r, char *err) {
    gpt_model m;
    tb_adamw opt;
    memset(r, 0, sizeof *r);
    if (gpt_setup(p, &m, &opt, err)) return -1;
    int B = p->batch, T = p->ctx, rc = 0;
    int *x = malloc((size_t)B * T * sizeof *x), *y = malloc((size_t)B * T * sizeof *y);
    double *ms = malloc((size_t)steps * sizeof *ms), *acc = calloc(2 * (size_t)p->layers + 4, sizeof(double));
    phase_clock clock = {p->layers, -1, 0, acc};
    if (!x || !y || !ms || !acc) { rc = tb_fail(err, "out of memory"); goto done; }
    random_tokens(x, y, B * T, p->vocab);
    m.on_phase = on_phase;
    m.on_phase_ctx = &clock;
    double fwd = 0, bwd = 0, op = 0;
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) { /* the phases and the pool are counted over the timed steps */
            memset(acc, 0, (2 * (size_t)p->layers + 4) * sizeof(double));
            tb_threads_profile(1);
        }
        /* forward, backward, AdamW, each timed */
        double t0 = bench_now_s();
        float loss;
        if (gpt_forward(&m, x, y, B, T, &loss, err)) { rc = -1; goto done; }
        double t1 = bench_now_s();
        if (gpt_backward(&m, err)) { rc = -1; goto done; }
        double t2 = bench_now_s();
        adamw_step(&opt, m.params_mem, m.grads_mem, m.decay_mask);
        double t3 = bench_now_s();
        if (s == 0) r->first_loss = loss;
        r->last_loss = loss;
        if (s < warmup) continue;
        ms[s - warmup] = (t3 - t0) * 1e3;
        fwd += t1 - t0;
        bwd += t2 - t1;
        op += t3 - t2;
    }
    r->params = m.n_params;
    r->ms = bench_median(ms, steps);
    r->fwd_ms = 1e3 * fwd / steps;
    r->bwd_ms = 1e3 * bwd / steps;
    r->opt_ms = 1e3 * op / steps;
    double tokens = (double)B * T;
    r->flops = 6.0 * m.n_params * tokens + 6.0 * p->layers * tokens * T * p->dim;
    tb_threads_profile(0);
    rc = phase_results(&clock, steps, r, err);
done:
    tb_threads_profile(0);
    free(x); free(y); free(ms); free(acc);
    adamw_free(&opt);
    gpt_free(&m);
    return rc;
}

/* ---- spiking language model ------------------------------------------------------------ */

/* The model of torch_srnn.py, and its optimizer. */
static int srnn_setup(const bench_srnn_shape *s, srnn_model *m, tb_adamw *opt, char *err) {
    srnn_config c;
    srnn_default_config(&c);
    c.vocab_size = s->vocab;
    c.n_neurons = s->neurons;
    c.steps_per_token = s->steps_per_token;
    c.noise_hz = 0;   /* the PyTorch reference has no background input */
    c.seed = 1;
    if (srnn_init(m, &c, err)) return -1;
    /* the readout starts like PyTorch's nn.Linear: weights and bias ~ U(-1/sqrt(N), 1/sqrt(N)) */
    tb_rng ri;
    rng_stream(&ri, 1, 104);
    double bound = 1.0 / sqrt((double)s->neurons);
    for (size_t i = 0; i < (size_t)s->vocab * s->neurons + s->vocab; i++)
        m->p.w_out[i] = (float)(bound * (2 * rng_uniform(&ri) - 1));
    if (pytorch_adam(opt, m->n_params, err)) { srnn_free(m); return -1; }
    return 0;
}

/* One fixed batch of random tokens, as the reference: a stream of T + 1 per window,
 * inputs its first T, targets its last T. */
static void random_windows(int *x, int *y, int B, int T, int vocab) {
    tb_rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < B * (T + 1); i++) {
        int tok = (int)rng_below(&r, (uint32_t)vocab);
        int b = i / (T + 1), t = i % (T + 1);
        if (t < T) x[b * T + t] = tok;
        if (t > 0) y[b * T + t - 1] = tok;
    }
}

int bench_srnn_steps(const bench_srnn_shape *s, int steps, int warmup, int forward_alone,
                     bench_srnn_result *r, char *err) {
    srnn_model m;
    tb_adamw opt;
    if (srnn_setup(s, &m, &opt, err)) return -1;
    int B = s->batch, T = s->ctx, rc = 0;
    srnn_train_opts to = {0, 0, 1e9};   /* no rate regulariser */
    int *x = malloc((size_t)B * T * sizeof *x), *y = malloc((size_t)B * T * sizeof *y);
    double *times = malloc((size_t)steps * sizeof *times), *ftimes = malloc((size_t)steps * sizeof *ftimes);
    if (!x || !y || !times || !ftimes) { rc = tb_fail(err, "out of memory"); goto done; }
    random_windows(x, y, B, T, s->vocab);
    double spikes = 0, cells = 0;
    for (int k = 0; k < steps + warmup; k++) {
        srnn_batch_stats st;
        double t0 = bench_now_s(), t_fwd = 0;
        if (forward_alone) {   /* a forward pass first, timed on its own */
            if (srnn_forward_backward(&m, x, y, B, T, &to, (uint64_t)k, 0, &st, err)) { rc = -1; goto done; }
            t_fwd = bench_now_s() - t0;
            t0 = bench_now_s();
        }
        if (srnn_forward_backward(&m, x, y, B, T, &to, (uint64_t)k, 1, &st, err)) { rc = -1; goto done; }
        adamw_step(&opt, m.params_mem, m.grads_mem, m.decay_mask);
        srnn_refresh(&m);
        double t = bench_now_s() - t0;
        if (k == 0) r->first_loss = st.ce;
        r->last_loss = st.ce;
        if (k < warmup) continue;
        times[k - warmup] = t;
        ftimes[k - warmup] = t_fwd;
        spikes += st.spikes;
        cells += (double)B * T * s->steps_per_token * s->neurons;
    }
    r->ms = 1e3 * bench_median(times, steps);
    r->fwd_ms = forward_alone ? 1e3 * bench_median(ftimes, steps) : NAN;
    r->spike_p = cells > 0 ? spikes / cells : NAN;
done:
    free(x); free(y); free(times); free(ftimes);
    adamw_free(&opt);
    srnn_free(&m);
    return rc;
}

/* ---- spiking network ----------------------------------------------------------------- */

int bench_snn_network(const char *preset, int n, int k_in, double ms, int max_threads, bench_snn_row *r,
                      char *err) {
    snn_config cfg;
    snn_net *net;
    if (snn_preset(&cfg, preset, n, k_in, err) || snn_build(&cfg, &net, err)) return -1;
    snn_result res;
    double t0 = bench_now_s();
    if (snn_run(net, ms, snn_auto_threads(net, max_threads), 0, NULL, 0, &res, err)) { snn_free(net); return -1; }
    r->wall_s = bench_now_s() - t0;
    r->spikes = res.n_spikes;
    r->events = res.syn_events;
    r->rate_hz = res.n_spikes / (n * ms * 1e-3);
    r->synapses = snn_n_synapses(net);
    r->bytes = snn_memory_bytes(net);
    snn_result_free(&res);
    snn_free(net);
    return 0;
}
