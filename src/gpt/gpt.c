/* gpt.c -- the tiny GPT as a whole: config, parameter buffer, forward and backward
 * passes through the blocks, taps, ablations, scoring, sampling and checkpoints.
 * Lessons 06-08; the layers themselves are in gpt_layers.c; include/gpt.h has the model
 * equations and the tap/ablation guide. */
#include "gpt.h"
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gpt_param_names[GPT_NPARAM] = {
    "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb", "ln2w", "ln2b",
    "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb", "lm_head"};

/* Which tensors are matrices (weight decay) rather than biases or norm gains. */
static const unsigned char param_is_matrix[GPT_NPARAM] = {1, 1, 0, 0, 1, 0, 1, 0, 0, 0,
                                                          1, 0, 1, 0, 0, 0, 1};

/* ---- config ---------------------------------------------------------------------- */

void gpt_default_config(gpt_config *c) {
    c->vocab_size = 0;
    c->ctx = GPT_DEF_CTX;
    c->n_layer = GPT_DEF_N_LAYER;
    c->n_head = GPT_DEF_N_HEAD;
    c->d_model = GPT_DEF_D_MODEL;
    c->mlp_ratio = GPT_DEF_MLP_RATIO;
    c->act = GPT_DEF_ACT;
    c->norm = GPT_DEF_NORM;
    c->pos = GPT_DEF_POS;
    c->tied = GPT_DEF_TIED;
    c->seed = GPT_DEF_SEED;
}

const char *gpt_act_name(gpt_act a) { return a == GPT_ACT_RELU ? "relu" : "gelu"; }
const char *gpt_norm_name(gpt_norm n) { return n == GPT_NORM_RMS ? "rmsnorm" : "layernorm"; }
const char *gpt_pos_name(gpt_pos p) { return p == GPT_POS_SINUSOIDAL ? "sinusoidal" : "learned"; }

int gpt_parse_act(const char *s, gpt_act *out) {
    if (!strcmp(s, "gelu")) *out = GPT_ACT_GELU;
    else if (!strcmp(s, "relu")) *out = GPT_ACT_RELU;
    else return -1;
    return 0;
}
int gpt_parse_norm(const char *s, gpt_norm *out) {
    if (!strcmp(s, "layernorm")) *out = GPT_NORM_LAYER;
    else if (!strcmp(s, "rmsnorm")) *out = GPT_NORM_RMS;
    else return -1;
    return 0;
}
int gpt_parse_pos(const char *s, gpt_pos *out) {
    if (!strcmp(s, "learned")) *out = GPT_POS_LEARNED;
    else if (!strcmp(s, "sinusoidal")) *out = GPT_POS_SINUSOIDAL;
    else return -1;
    return 0;
}

int gpt_check_config(const gpt_config *c, char *err) {
    if (c->vocab_size < 2 || c->vocab_size > GPT_MAX_VOCAB)
        return tb_fail(err, "vocab_size %d out of range 2..%d", c->vocab_size, GPT_MAX_VOCAB);
    if (c->ctx < 1 || c->ctx > GPT_MAX_CTX) return tb_fail(err, "ctx %d out of range 1..%d", c->ctx, GPT_MAX_CTX);
    if (c->n_layer < 1 || c->n_layer > GPT_MAX_LAYERS)
        return tb_fail(err, "n_layer %d out of range 1..%d", c->n_layer, GPT_MAX_LAYERS);
    if (c->d_model < 1 || c->d_model > GPT_MAX_D_MODEL)
        return tb_fail(err, "d_model %d out of range 1..%d", c->d_model, GPT_MAX_D_MODEL);
    if (c->n_head < 1 || c->d_model % c->n_head)
        return tb_fail(err, "n_head %d does not divide d_model %d", c->n_head, c->d_model);
    if (c->mlp_ratio < 1 || c->mlp_ratio > GPT_MAX_MLP_RATIO)
        return tb_fail(err, "mlp_ratio %d out of range 1..%d", c->mlp_ratio, GPT_MAX_MLP_RATIO);
    if ((unsigned)c->act > 1 || (unsigned)c->norm > 1 || (unsigned)c->pos > 1 || (unsigned)c->tied > 1)
        return tb_fail(err, "bad act/norm/pos/tied value");
    return 0;
}

/* ---- parameters ------------------------------------------------------------------- */

static void param_sizes(const gpt_config *c, size_t *s) {
    size_t V = c->vocab_size, T = c->ctx, L = c->n_layer, C = c->d_model, H = (size_t)c->mlp_ratio * C;
    int ln = c->norm == GPT_NORM_LAYER;
    s[0] = V * C;
    s[1] = c->pos == GPT_POS_LEARNED ? T * C : 0;
    s[2] = L * C;
    s[3] = ln ? L * C : 0;
    s[4] = L * 3 * C * C;
    s[5] = L * 3 * C;
    s[6] = L * C * C;
    s[7] = L * C;
    s[8] = L * C;
    s[9] = ln ? L * C : 0;
    s[10] = L * H * C;
    s[11] = L * H;
    s[12] = L * C * H;
    s[13] = L * C;
    s[14] = C;
    s[15] = ln ? C : 0;
    s[16] = c->tied ? 0 : V * C;
}

/* Point the struct's fields into one buffer (NULL for empty tensors). */
static void point_params(gpt_params *p, float *mem, const size_t *sizes) {
    float **ptr[GPT_NPARAM] = {&p->wte, &p->wpe, &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb, &p->attprojw,
                               &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw, &p->fcb, &p->fcprojw,
                               &p->fcprojb, &p->lnfw, &p->lnfb, &p->lm_head};
    for (int i = 0; i < GPT_NPARAM; i++) {
        *ptr[i] = sizes[i] ? mem : NULL;
        mem += sizes[i];
    }
}

static void fill_normal(float *x, size_t n, double sd, tb_rng *r) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(sd * rng_normal(r));
}
static void fill_const(float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

int gpt_init(gpt_model *m, const gpt_config *cfg, char *err) {
    memset(m, 0, sizeof *m);
    if (gpt_check_config(cfg, err)) return -1;
    m->cfg = *cfg;
    param_sizes(cfg, m->param_sizes);
    for (int i = 0; i < GPT_NPARAM; i++) m->n_params += m->param_sizes[i];
    m->params_mem = malloc(m->n_params * sizeof(float));
    m->grads_mem = calloc(m->n_params, sizeof(float));
    m->decay_mask = malloc(m->n_params);
    if (!m->params_mem || !m->grads_mem || !m->decay_mask) {
        size_t n = m->n_params; /* gpt_free clears it */
        gpt_free(m);
        return tb_fail(err, "out of memory for %zu parameters", n);
    }
    point_params(&m->params, m->params_mem, m->param_sizes);
    point_params(&m->grads, m->grads_mem, m->param_sizes);
    size_t off = 0;
    for (int i = 0; i < GPT_NPARAM; i++) {
        memset(m->decay_mask + off, param_is_matrix[i], m->param_sizes[i]);
        off += m->param_sizes[i];
    }
    if (cfg->pos == GPT_POS_SINUSOIDAL) {
        m->pos_table = malloc((size_t)cfg->ctx * cfg->d_model * sizeof(float));
        if (!m->pos_table) { gpt_free(m); return tb_fail(err, "out of memory"); }
        gpt_sinusoids(m->pos_table, cfg->ctx, cfg->d_model);
    }
    /* GPT-2 initialisation: N(0, 0.02); the two projections that write into the residual
     * stream are scaled down by sqrt(2L) so the stream's variance does not grow with depth. */
    tb_rng r;
    rng_seed(&r, cfg->seed);
    gpt_params *p = &m->params;
    const size_t *s = m->param_sizes;
    double resid_sd = 0.02 / sqrt(2.0 * cfg->n_layer);
    fill_normal(p->wte, s[0], 0.02, &r);
    if (s[1]) fill_normal(p->wpe, s[1], 0.02, &r);
    fill_const(p->ln1w, s[2], 1.0f);
    if (s[3]) fill_const(p->ln1b, s[3], 0.0f);
    fill_normal(p->qkvw, s[4], 0.02, &r);
    fill_const(p->qkvb, s[5], 0.0f);
    fill_normal(p->attprojw, s[6], resid_sd, &r);
    fill_const(p->attprojb, s[7], 0.0f);
    fill_const(p->ln2w, s[8], 1.0f);
    if (s[9]) fill_const(p->ln2b, s[9], 0.0f);
    fill_normal(p->fcw, s[10], 0.02, &r);
    fill_const(p->fcb, s[11], 0.0f);
    fill_normal(p->fcprojw, s[12], resid_sd, &r);
    fill_const(p->fcprojb, s[13], 0.0f);
    fill_const(p->lnfw, s[14], 1.0f);
    if (s[15]) fill_const(p->lnfb, s[15], 0.0f);
    if (s[16]) fill_normal(p->lm_head, s[16], 0.02, &r);
    return 0;
}

static void free_acts(gpt_model *m) {
    free(m->acts_mem);
    free(m->gacts_mem);
    free(m->scratch);
    free(m->inputs);
    free(m->targets);
    m->acts_mem = m->gacts_mem = m->scratch = NULL;
    m->inputs = m->targets = NULL;
    m->cap_bt = m->cap_btt = 0;
}

void gpt_free(gpt_model *m) {
    free(m->params_mem);
    free(m->grads_mem);
    free(m->decay_mask);
    free(m->pos_table);
    free_acts(m);
    free(m->abl_resid);
    free(m->abl_mlp);
    free(m->abl_head);
    memset(m, 0, sizeof *m);
}

size_t gpt_num_params(const gpt_model *m) { return m->n_params; }

/* ---- activations -------------------------------------------------------------------- */

/* Sizes of the gpt_acts fields for B, T (in struct order). */
#define GPT_NACTS 22
static void act_sizes(const gpt_config *c, size_t B, size_t T, size_t *s) {
    size_t L = c->n_layer, C = c->d_model, H = (size_t)c->mlp_ratio * C, NH = c->n_head, V = c->vocab_size;
    size_t BT = B * T;
    size_t v[GPT_NACTS] = {BT * C, L * BT * C, L * BT, L * BT, L * BT * 3 * C, L * BT * C, L * B * NH * T * T,
                           L * BT * C, L * BT * C, L * BT * C, L * BT, L * BT, L * BT * H, L * BT * H,
                           L * BT * C, L * BT * C, BT * C, BT, BT, BT * V, BT * V, BT};
    memcpy(s, v, sizeof v);
}

#define GPT_NGACTS 8
static void gact_sizes(const gpt_config *c, size_t B, size_t T, size_t *s) {
    size_t C = c->d_model, H = (size_t)c->mlp_ratio * C, NH = c->n_head, V = c->vocab_size, BT = B * T;
    size_t v[GPT_NGACTS] = {BT * C, BT * C, BT * 3 * C, BT * C, B * NH * T * T, BT * H, BT * H, BT * V};
    memcpy(s, v, sizeof v);
}

static void point_acts(gpt_model *m, int B, int T) {
    size_t s[GPT_NACTS], g[GPT_NGACTS];
    act_sizes(&m->cfg, B, T, s);
    gact_sizes(&m->cfg, B, T, g);
    float **a[GPT_NACTS] = {&m->acts.encoded, &m->acts.ln1, &m->acts.ln1_mean, &m->acts.ln1_rstd,
                            &m->acts.qkv, &m->acts.atty, &m->acts.att, &m->acts.attproj,
                            &m->acts.residual2, &m->acts.ln2, &m->acts.ln2_mean, &m->acts.ln2_rstd,
                            &m->acts.fch, &m->acts.fch_act, &m->acts.fcproj, &m->acts.residual3,
                            &m->acts.lnf, &m->acts.lnf_mean, &m->acts.lnf_rstd, &m->acts.logits,
                            &m->acts.probs, &m->acts.losses};
    float **ga[GPT_NGACTS] = {&m->gacts.dresidual, &m->gacts.dln, &m->gacts.dqkv, &m->gacts.datty,
                              &m->gacts.datt, &m->gacts.dfch, &m->gacts.dfch_act, &m->gacts.dlogits};
    float *p = m->acts_mem;
    for (int i = 0; i < GPT_NACTS; i++) { *a[i] = p; p += s[i]; }
    p = m->gacts_mem;
    for (int i = 0; i < GPT_NGACTS; i++) { *ga[i] = p; p += g[i]; }
}

/* Make the buffers big enough for B x T (they only grow). */
static int ensure_acts(gpt_model *m, int B, int T, char *err) {
    size_t bt = (size_t)B * T, btt = bt * T;
    if (bt > m->cap_bt || btt > m->cap_btt) {
        size_t nb = bt > m->cap_bt ? bt : m->cap_bt, nbtt = btt > m->cap_btt ? btt : m->cap_btt;
        /* size for the worst case of (B*T, B*T*T) seen so far: T' = nbtt / nb */
        size_t s[GPT_NACTS], g[GPT_NGACTS], total = 0, gtotal = 0;
        size_t Tq = (nbtt + nb - 1) / nb;
        act_sizes(&m->cfg, nb, 1, s);
        for (int i = 0; i < GPT_NACTS; i++) total += s[i];
        gact_sizes(&m->cfg, nb, 1, g);
        for (int i = 0; i < GPT_NGACTS; i++) gtotal += g[i];
        /* the attention maps grow with T^2: add them for the largest T */
        size_t att = (size_t)m->cfg.n_layer * m->cfg.n_head * nb * Tq, gatt = (size_t)m->cfg.n_head * nb * Tq;
        total += att;
        gtotal += gatt;
        free_acts(m);
        m->acts_mem = malloc(total * sizeof(float));
        m->gacts_mem = malloc(gtotal * sizeof(float));
        m->scratch = malloc((size_t)GPT_NTASKS * 2 * m->cfg.d_model * sizeof(float));
        m->inputs = malloc(nb * sizeof(int));
        m->targets = malloc(nb * sizeof(int));
        if (!m->acts_mem || !m->gacts_mem || !m->scratch || !m->inputs || !m->targets) {
            free_acts(m);
            return tb_fail(err, "out of memory for activations (batch %d x %d positions)", B, T);
        }
        m->cap_bt = nb;
        m->cap_btt = nb * Tq;
    }
    m->B = B;
    m->T = T;
    point_acts(m, B, T);
    return 0;
}

/* ---- forward ----------------------------------------------------------------------- */

static void mul_mask_rows(float *x, const float *mask, size_t rows, int width) {
    for (size_t r = 0; r < rows; r++)
        for (int i = 0; i < width; i++) x[r * width + i] *= mask[i];
}

/* A profiler's phase mark (gpt.h, gpt_phase). */
static void phase_mark(const gpt_model *m, gpt_phase phase, int layer) {
    if (m->on_phase) m->on_phase(m->on_phase_ctx, phase, layer);
}

int gpt_forward(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                float *mean_loss, char *err) {
    const gpt_config *c = &m->cfg;
    if (B < 1 || T < 1) return tb_fail(err, "gpt_forward: empty batch (%d x %d)", B, T);
    if (T > c->ctx) return tb_fail(err, "sequence of %d tokens is longer than the model's context %d", T, c->ctx);
    for (size_t i = 0; i < (size_t)B * T; i++) {
        if (inputs[i] < 0 || inputs[i] >= c->vocab_size)
            return tb_fail(err, "token id %d out of range 0..%d", inputs[i], c->vocab_size - 1);
        if (targets && targets[i] >= c->vocab_size)
            return tb_fail(err, "target id %d out of range 0..%d", targets[i], c->vocab_size - 1);
    }
    if (ensure_acts(m, B, T, err)) return -1;
    int L = c->n_layer, C = c->d_model, H = c->mlp_ratio * C, NH = c->n_head, V = c->vocab_size;
    size_t BT = (size_t)B * T;
    memcpy(m->inputs, inputs, BT * sizeof(int));
    m->has_targets = targets != NULL;
    if (targets) memcpy(m->targets, targets, BT * sizeof(int));
    else for (size_t i = 0; i < BT; i++) m->targets[i] = -1;

    gpt_params *p = &m->params;
    gpt_acts *a = &m->acts;
    phase_mark(m, GPT_PHASE_EMBED_FWD, -1);
    encoder_forward(a->encoded, inputs, p->wte, c->pos == GPT_POS_LEARNED ? p->wpe : m->pos_table, B, T, C);
    if (m->abl_resid) mul_mask_rows(a->encoded, m->abl_resid, BT, C);
    for (int l = 0; l < L; l++) {
        phase_mark(m, GPT_PHASE_LAYER_FWD, l);
        const float *x = l == 0 ? a->encoded : a->residual3 + (l - 1) * BT * C;
        float *ln1 = a->ln1 + l * BT * C, *qkv = a->qkv + l * BT * 3 * C, *atty = a->atty + l * BT * C;
        float *att = a->att + (size_t)l * B * NH * T * T, *attproj = a->attproj + l * BT * C;
        float *res2 = a->residual2 + l * BT * C, *ln2 = a->ln2 + l * BT * C;
        float *fch = a->fch + l * BT * H, *fch_act = a->fch_act + l * BT * H;
        float *fcproj = a->fcproj + l * BT * C, *res3 = a->residual3 + l * BT * C;
        const float *ln1b = p->ln1b ? p->ln1b + l * C : NULL, *ln2b = p->ln2b ? p->ln2b + l * C : NULL;

        norm_forward(c->norm, ln1, a->ln1_mean + l * BT, a->ln1_rstd + l * BT, x, p->ln1w + l * C, ln1b, (int)BT, C);
        tb_kern->matmul_forward(qkv, ln1, p->qkvw + (size_t)l * 3 * C * C, p->qkvb + l * 3 * C, (int)BT, C, 3 * C);
        attention_forward(atty, att, qkv, m->abl_head ? m->abl_head + l * NH : NULL, B, T, C, NH);
        tb_kern->matmul_forward(attproj, atty, p->attprojw + (size_t)l * C * C, p->attprojb + l * C, (int)BT, C, C);
        for (size_t i = 0; i < BT * C; i++) res2[i] = x[i] + attproj[i];
        norm_forward(c->norm, ln2, a->ln2_mean + l * BT, a->ln2_rstd + l * BT, res2, p->ln2w + l * C, ln2b, (int)BT, C);
        tb_kern->matmul_forward(fch, ln2, p->fcw + (size_t)l * H * C, p->fcb + l * H, (int)BT, C, H);
        act_forward(c->act, fch_act, fch, BT * H);
        if (m->abl_mlp) mul_mask_rows(fch_act, m->abl_mlp + (size_t)l * H, BT, H);
        tb_kern->matmul_forward(fcproj, fch_act, p->fcprojw + (size_t)l * C * H, p->fcprojb + l * C, (int)BT, H, C);
        for (size_t i = 0; i < BT * C; i++) res3[i] = res2[i] + fcproj[i];
        if (m->abl_resid) mul_mask_rows(res3, m->abl_resid + (size_t)(l + 1) * C, BT, C);
    }
    const float *xL = a->residual3 + (L - 1) * BT * C;
    phase_mark(m, GPT_PHASE_HEAD_FWD, -1);
    norm_forward(c->norm, a->lnf, a->lnf_mean, a->lnf_rstd, xL, p->lnfw, p->lnfb, (int)BT, C);
    tb_kern->matmul_forward(a->logits, a->lnf, c->tied ? p->wte : p->lm_head, NULL, (int)BT, C, V);
    crossentropy_forward(a->probs, a->losses, a->logits, m->targets, (int)BT, V);
    double sum = 0.0;
    int n = 0;
    for (size_t i = 0; i < BT; i++)
        if (m->targets[i] >= 0) { sum += a->losses[i]; n++; }
    m->n_targets = n;
    m->mean_loss = n ? (float)(sum / n) : 0.0f;
    if (mean_loss) *mean_loss = m->mean_loss;
    phase_mark(m, GPT_PHASE_END, -1);
    return 0;
}

/* ---- backward ---------------------------------------------------------------------- */

int gpt_backward(gpt_model *m, char *err) {
    if (!m->acts_mem || !m->has_targets || m->n_targets == 0)
        return tb_fail(err, "gpt_backward: the last forward pass had no targets");
    const gpt_config *c = &m->cfg;
    int B = m->B, T = m->T, L = c->n_layer, C = c->d_model, H = c->mlp_ratio * C, NH = c->n_head, V = c->vocab_size;
    size_t BT = (size_t)B * T;
    gpt_params *p = &m->params, *g = &m->grads;
    gpt_acts *a = &m->acts;
    gpt_grad_acts *d = &m->gacts;
    memset(m->grads_mem, 0, m->n_params * sizeof(float));

    /* loss -> logits -> final norm */
    phase_mark(m, GPT_PHASE_HEAD_BWD, -1);
    crossentropy_backward(d->dlogits, a->probs, m->targets, 1.0f / m->n_targets, (int)BT, V);
    memset(d->dln, 0, BT * C * sizeof(float));
    tb_kern->matmul_backward(d->dln, c->tied ? g->wte : g->lm_head, NULL, d->dlogits, a->lnf,
                       c->tied ? p->wte : p->lm_head, (int)BT, C, V);
    memset(d->dresidual, 0, BT * C * sizeof(float));
    norm_backward(c->norm, d->dresidual, g->lnfw, g->lnfb, d->dln, a->residual3 + (L - 1) * BT * C, p->lnfw,
                  a->lnf_mean, a->lnf_rstd, (int)BT, C, m->scratch);

    for (int l = L - 1; l >= 0; l--) {
        phase_mark(m, GPT_PHASE_LAYER_BWD, l);
        const float *x = l == 0 ? a->encoded : a->residual3 + (l - 1) * BT * C;
        const float *ln1 = a->ln1 + l * BT * C, *qkv = a->qkv + l * BT * 3 * C, *atty = a->atty + l * BT * C;
        const float *att = a->att + (size_t)l * B * NH * T * T, *res2 = a->residual2 + l * BT * C;
        const float *ln2 = a->ln2 + l * BT * C, *fch = a->fch + l * BT * H, *fch_act = a->fch_act + l * BT * H;
        float *dln2b = g->ln2b ? g->ln2b + l * C : NULL, *dln1b = g->ln1b ? g->ln1b + l * C : NULL;

        /* x_{l+1} = r + m: the residual passes dres3 straight through to r */
        if (m->abl_resid) mul_mask_rows(d->dresidual, m->abl_resid + (size_t)(l + 1) * C, BT, C);
        memset(d->dfch_act, 0, BT * H * sizeof(float));
        tb_kern->matmul_backward(d->dfch_act, g->fcprojw + (size_t)l * C * H, g->fcprojb + l * C, d->dresidual, fch_act,
                           p->fcprojw + (size_t)l * C * H, (int)BT, H, C);
        if (m->abl_mlp) mul_mask_rows(d->dfch_act, m->abl_mlp + (size_t)l * H, BT, H);
        memset(d->dfch, 0, BT * H * sizeof(float));
        act_backward(c->act, d->dfch, fch, d->dfch_act, BT * H);
        memset(d->dln, 0, BT * C * sizeof(float));
        tb_kern->matmul_backward(d->dln, g->fcw + (size_t)l * H * C, g->fcb + l * H, d->dfch, ln2, p->fcw + (size_t)l * H * C,
                           (int)BT, C, H);
        norm_backward(c->norm, d->dresidual, g->ln2w + l * C, dln2b, d->dln, res2, p->ln2w + l * C,
                      a->ln2_mean + l * BT, a->ln2_rstd + l * BT, (int)BT, C, m->scratch);
        /* r = x + a: dresidual now holds d(loss)/d(r) */
        memset(d->datty, 0, BT * C * sizeof(float));
        tb_kern->matmul_backward(d->datty, g->attprojw + (size_t)l * C * C, g->attprojb + l * C, d->dresidual, atty,
                           p->attprojw + (size_t)l * C * C, (int)BT, C, C);
        if (m->abl_head) {
            const float *hm = m->abl_head + l * NH;
            int hs = C / NH;
            for (size_t r = 0; r < BT; r++)
                for (int i = 0; i < C; i++) d->datty[r * C + i] *= hm[i / hs];
        }
        attention_backward(d->dqkv, d->datt, d->datty, qkv, att, B, T, C, NH);
        memset(d->dln, 0, BT * C * sizeof(float));
        tb_kern->matmul_backward(d->dln, g->qkvw + (size_t)l * 3 * C * C, g->qkvb + l * 3 * C, d->dqkv, ln1,
                           p->qkvw + (size_t)l * 3 * C * C, (int)BT, C, 3 * C);
        norm_backward(c->norm, d->dresidual, g->ln1w + l * C, dln1b, d->dln, x, p->ln1w + l * C,
                      a->ln1_mean + l * BT, a->ln1_rstd + l * BT, (int)BT, C, m->scratch);
        /* dresidual = d(loss)/d(x_l) */
    }
    phase_mark(m, GPT_PHASE_EMBED_BWD, -1);
    if (m->abl_resid) mul_mask_rows(d->dresidual, m->abl_resid, BT, C);
    encoder_backward(g->wte, c->pos == GPT_POS_LEARNED ? g->wpe : NULL, d->dresidual, m->inputs, B, T, C);
    phase_mark(m, GPT_PHASE_END, -1);
    return 0;
}

/* ---- taps and ablations ------------------------------------------------------------- */

const float *gpt_tap(const gpt_model *m, gpt_tap_site site, int layer, int *width) {
    if (!m->acts_mem || m->B < 1) return NULL;
    const gpt_config *c = &m->cfg;
    size_t BT = (size_t)m->B * m->T, C = c->d_model, H = (size_t)c->mlp_ratio * C;
    int L = c->n_layer;
    switch (site) {
    case GPT_TAP_RESID:
        if (layer < 0 || layer > L) return NULL;
        if (width) *width = (int)C;
        return layer == 0 ? m->acts.encoded : m->acts.residual3 + (size_t)(layer - 1) * BT * C;
    case GPT_TAP_ATTN_OUT:
        if (layer < 0 || layer >= L) return NULL;
        if (width) *width = (int)C;
        return m->acts.attproj + (size_t)layer * BT * C;
    case GPT_TAP_MLP_HIDDEN:
        if (layer < 0 || layer >= L) return NULL;
        if (width) *width = (int)H;
        return m->acts.fch_act + (size_t)layer * BT * H;
    case GPT_TAP_ATTN_WEIGHTS:
        if (layer < 0 || layer >= L) return NULL;
        if (width) *width = m->T;
        return m->acts.att + (size_t)layer * m->B * c->n_head * m->T * m->T;
    }
    return NULL;
}

int gpt_pooled_states(gpt_model *m, const int *ids, int n, gpt_pool pool, float *out, char *err) {
    if (n < 2) return tb_fail(err, "pooling needs the left context and at least one token (got %d ids)", n);
    if (gpt_forward(m, ids, NULL, 1, n, NULL, err)) return -1;
    int C = m->cfg.d_model;
    for (int l = 0; l <= m->cfg.n_layer; l++) {
        const float *x = gpt_tap(m, GPT_TAP_RESID, l, NULL);
        float *o = out + (size_t)l * C;
        if (pool == GPT_POOL_LAST) {
            memcpy(o, x + (size_t)(n - 1) * C, C * sizeof(float));
            continue;
        }
        for (int i = 0; i < C; i++) {
            double s = 0.0;
            for (int t = 1; t < n; t++) s += x[(size_t)t * C + i];
            o[i] = (float)(s / (n - 1));
        }
    }
    return 0;
}

static int ensure_mask(float **mask, size_t n, char *err) {
    if (*mask) return 0;
    *mask = malloc(n * sizeof(float));
    if (!*mask) return tb_fail(err, "out of memory for an ablation mask");
    for (size_t i = 0; i < n; i++) (*mask)[i] = 1.0f;
    return 0;
}

int gpt_ablate(gpt_model *m, gpt_ablate_site site, int layer, const int *units, int n, char *err) {
    const gpt_config *c = &m->cfg;
    int L = c->n_layer, C = c->d_model, H = c->mlp_ratio * C, NH = c->n_head;
    int width, nlayers;
    float **mask;
    const char *what;
    switch (site) {
    case GPT_ABL_RESID: width = C; nlayers = L + 1; mask = &m->abl_resid; what = "residual unit"; break;
    case GPT_ABL_MLP: width = H; nlayers = L; mask = &m->abl_mlp; what = "MLP unit"; break;
    case GPT_ABL_HEAD: width = NH; nlayers = L; mask = &m->abl_head; what = "head"; break;
    default: return tb_fail(err, "unknown ablation site %d", (int)site);
    }
    if (layer < 0 || layer >= nlayers)
        return tb_fail(err, "ablation layer %d out of range 0..%d", layer, nlayers - 1);
    for (int i = 0; i < n; i++)
        if (units[i] < 0 || units[i] >= width)
            return tb_fail(err, "%s %d out of range 0..%d", what, units[i], width - 1);
    if (ensure_mask(mask, (size_t)nlayers * width, err)) return -1;
    for (int i = 0; i < n; i++) (*mask)[(size_t)layer * width + units[i]] = 0.0f;
    return 0;
}

void gpt_ablate_clear(gpt_model *m) {
    free(m->abl_resid);
    free(m->abl_mlp);
    free(m->abl_head);
    m->abl_resid = m->abl_mlp = m->abl_head = NULL;
}

/* ---- scoring -------------------------------------------------------------------------- */

/* A window of the stream: inputs ids[start .. start+len-1], scoring the targets at stream
 * positions first..start+len (each target predicted from everything before it). */
typedef struct { long start; int len; long first; } nll_window;

/* Score windows w[0..nw-1] of `ids` in batches of B rows; each batch is as long as its
 * longest window (at most ctx). */
static int score_windows(gpt_model *m, const int *ids, const nll_window *w, int nw, int B, float *nll,
                         char *err) {
    int Tmax = m->cfg.ctx;
    int *in = malloc((size_t)B * Tmax * sizeof(int)), *tg = malloc((size_t)B * Tmax * sizeof(int));
    if (!in || !tg) { free(in); free(tg); return tb_fail(err, "out of memory"); }
    int rc = 0;
    for (int w0 = 0; w0 < nw && !rc; w0 += B) {
        int nb = nw - w0 < B ? nw - w0 : B, T = 1;
        for (int b = 0; b < nb; b++) T = w[w0 + b].len > T ? w[w0 + b].len : T;
        for (int b = 0; b < nb; b++) {
            const nll_window *x = &w[w0 + b];
            for (int t = 0; t < T; t++) {
                long pos = x->start + t;
                in[b * T + t] = t < x->len ? ids[pos] : 0;
                tg[b * T + t] = (t < x->len && pos + 1 >= x->first) ? ids[pos + 1] : -1;
            }
        }
        rc = gpt_forward(m, in, tg, nb, T, NULL, err);
        for (int b = 0; b < nb && !rc; b++) {
            const nll_window *x = &w[w0 + b];
            for (int t = 0; t < x->len; t++)
                if (tg[b * T + t] >= 0) nll[x->start + t + 1] = m->acts.losses[b * T + t];
        }
    }
    free(in);
    free(tg);
    return rc;
}

typedef struct { nll_window *w; int n, cap; } window_list;

static int push_window(window_list *l, long start, int len, long first, char *err) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        nll_window *w = realloc(l->w, (size_t)cap * sizeof *w);
        if (!w) return tb_fail(err, "out of memory");
        l->w = w;
        l->cap = cap;
    }
    l->w[l->n].start = start;
    l->w[l->n].len = len;
    l->w[l->n].first = first;
    l->n++;
    return 0;
}

/* Windows scoring positions lo+1..hi of ids (lo is left context only), each with up to
 * T inputs, consecutive windows overlapping by half a context. */
static int plan_sliding(const int *ids, long lo, long hi, int T, window_list *l, char *err) {
    (void)ids;
    long next = lo + 1;
    while (next <= hi) {
        long start = next - 1 - T / 2;
        if (start < lo) start = lo;
        long end = start + T;            /* inputs start..end-1, targets up to end */
        if (end > hi) end = hi;
        if (push_window(l, start, (int)(end - start), next, err)) return -1;
        next = end + 1;
    }
    return 0;
}

/* Plan windows so that every position 1..n-1 is scored exactly once.  eos >= 0: one
 * window per sentence, starting at the eos before it (sentences longer than the
 * context are scored in sliding windows that never reach back past that eos). */
static int plan_windows(const int *ids, long n, int eos, int T, window_list *l, char *err) {
    if (eos < 0) return plan_sliding(ids, 0, n - 1, T, l, err);
    long s = 0;   /* the eos (or first token) that opens the current sentence */
    for (long i = 1; i < n; i++) {
        if (ids[i] != eos && i != n - 1) continue;
        if (i - s <= T) {
            if (push_window(l, s, (int)(i - s), s + 1, err)) return -1;
        } else if (plan_sliding(ids, s, i, T, l, err)) {
            return -1;
        }
        s = i;
    }
    return 0;
}

static int nll_of(gpt_model *m, const int *ids, long n, int eos, int B, float *nll, char *err) {
    window_list l = {NULL, 0, 0};
    int rc = plan_windows(ids, n, eos, m->cfg.ctx, &l, err);
    if (!rc) rc = score_windows(m, ids, l.w, l.n, B, nll, err);
    free(l.w);
    return rc;
}

int gpt_sequence_nll(gpt_model *m, const int *ids, int n, float *nll, char *err) {
    if (n < 1) return tb_fail(err, "empty sequence");
    nll[0] = 0.0f;
    if (n == 1) return 0;
    return nll_of(m, ids, n, -1, 8, nll, err);
}

int gpt_stream_nll(gpt_model *m, const int *ids, long n, int eos, int B, float *nll, char *err) {
    if (n < 1) return tb_fail(err, "empty token stream");
    if (B < 1) B = 1;
    if (eos < 0) {
        nll[0] = NAN;
        return n == 1 ? 0 : nll_of(m, ids, n, -1, B, nll, err);
    }
    /* put an eos in front so the first sentence has its left context too */
    int *x = malloc((size_t)(n + 1) * sizeof(int));
    float *y = malloc((size_t)(n + 1) * sizeof(float));
    if (!x || !y) { free(x); free(y); return tb_fail(err, "out of memory"); }
    x[0] = eos;
    memcpy(x + 1, ids, (size_t)n * sizeof(int));
    int rc = nll_of(m, x, n + 1, eos, B, y, err);
    if (!rc) memcpy(nll, y + 1, (size_t)n * sizeof(float));
    free(x);
    free(y);
    return rc;
}

/* ---- sampling ------------------------------------------------------------------------- */

int gpt_sample_next(gpt_model *m, const int *ids, int n, double temperature, int top_k,
                    tb_rng *rng, int *next, char *err) {
    if (n < 1) return tb_fail(err, "sampling needs at least one context token");
    int T = n < m->cfg.ctx ? n : m->cfg.ctx, V = m->cfg.vocab_size;
    if (gpt_forward(m, ids + (n - T), NULL, 1, T, NULL, err)) return -1;
    const float *logits = m->acts.logits + (size_t)(T - 1) * V;
    if (temperature <= 0.0) {   /* greedy */
        int best = 0;
        for (int i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
        *next = best;
        return 0;
    }
    double *p = malloc((size_t)V * sizeof(double));
    if (!p) return tb_fail(err, "out of memory");
    /* keep the top_k largest logits: a logit survives if fewer than k others beat it */
    double mx = logits[0];
    for (int i = 1; i < V; i++) if (logits[i] > mx) mx = logits[i];
    double sum = 0.0;
    for (int i = 0; i < V; i++) {
        int keep = 1;
        if (top_k > 0 && top_k < V) {
            int above = 0;
            for (int j = 0; j < V && above < top_k; j++)
                if (logits[j] > logits[i] || (logits[j] == logits[i] && j < i)) above++;
            keep = above < top_k;
        }
        p[i] = keep ? exp((logits[i] - mx) / temperature) : 0.0;
        sum += p[i];
    }
    double u = rng_uniform(rng) * sum, acc = 0.0;
    int pick = V - 1;
    for (int i = 0; i < V; i++) {
        acc += p[i];
        if (u < acc && p[i] > 0) { pick = i; break; }
    }
    while (p[pick] == 0.0 && pick > 0) pick--;   /* round-off at the very end */
    free(p);
    *next = pick;
    return 0;
}

/* ---- checkpoints ---------------------------------------------------------------------- */

static void tensor_shape(const gpt_config *c, int i, int *ndim, int64_t *shape) {
    int64_t V = c->vocab_size, T = c->ctx, L = c->n_layer, C = c->d_model, H = (int64_t)c->mlp_ratio * C;
    static const int nd[GPT_NPARAM] = {2, 2, 2, 2, 3, 2, 3, 2, 2, 2, 3, 2, 3, 2, 1, 1, 2};
    int64_t s[GPT_NPARAM][3] = {{V, C}, {T, C}, {L, C}, {L, C}, {L, 3 * C, C}, {L, 3 * C}, {L, C, C}, {L, C},
                                {L, C}, {L, C}, {L, H, C}, {L, H}, {L, C, H}, {L, C}, {C}, {C}, {V, C}};
    *ndim = nd[i];
    memcpy(shape, s[i], sizeof s[i]);
}

int gpt_to_ckpt(const gpt_model *m, tb_ckpt *c, char *err) {
    const gpt_config *g = &m->cfg;
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)g->seed);
    if (ckpt_set_int(c, "vocab_size", g->vocab_size) || ckpt_set_int(c, "ctx", g->ctx) ||
        ckpt_set_int(c, "n_layer", g->n_layer) || ckpt_set_int(c, "n_head", g->n_head) ||
        ckpt_set_int(c, "d_model", g->d_model) || ckpt_set_int(c, "mlp_ratio", g->mlp_ratio) ||
        ckpt_set(c, "act", gpt_act_name(g->act)) || ckpt_set(c, "norm", gpt_norm_name(g->norm)) ||
        ckpt_set(c, "pos", gpt_pos_name(g->pos)) || ckpt_set(c, "tied", g->tied ? "1" : "0") ||
        ckpt_set(c, "seed", seed))
        return tb_fail(err, "out of memory writing the checkpoint config");
    const float *p = m->params_mem;
    for (int i = 0; i < GPT_NPARAM; i++) {
        if (m->param_sizes[i]) {
            int nd;
            int64_t shape[3];
            tensor_shape(g, i, &nd, shape);
            if (ckpt_add_tensor(c, gpt_param_names[i], p, nd, shape))
                return tb_fail(err, "out of memory adding tensor '%s'", gpt_param_names[i]);
        }
        p += m->param_sizes[i];
    }
    return 0;
}

static int get_int_key(const tb_ckpt *c, const char *key, int *out, char *err) {
    long long v;
    if (ckpt_get_int(c, key, &v, err)) return -1;
    if (v < -2147483647LL || v > 2147483647LL) return tb_fail(err, "config key '%s' out of range", key);
    *out = (int)v;
    return 0;
}

int gpt_config_from_ckpt(gpt_config *g, const tb_ckpt *c, char *err) {
    gpt_default_config(g);
    if (get_int_key(c, "vocab_size", &g->vocab_size, err) || get_int_key(c, "ctx", &g->ctx, err) ||
        get_int_key(c, "n_layer", &g->n_layer, err) || get_int_key(c, "n_head", &g->n_head, err) ||
        get_int_key(c, "d_model", &g->d_model, err) || get_int_key(c, "mlp_ratio", &g->mlp_ratio, err) ||
        get_int_key(c, "tied", &g->tied, err))
        return -1;
    const char *act = ckpt_get(c, "act"), *norm = ckpt_get(c, "norm"), *pos = ckpt_get(c, "pos");
    const char *seed = ckpt_get(c, "seed");
    if (!act || gpt_parse_act(act, &g->act)) return tb_fail(err, "config key 'act' missing or not gelu|relu");
    if (!norm || gpt_parse_norm(norm, &g->norm))
        return tb_fail(err, "config key 'norm' missing or not layernorm|rmsnorm");
    if (!pos || gpt_parse_pos(pos, &g->pos)) return tb_fail(err, "config key 'pos' missing or not learned|sinusoidal");
    if (g->tied != 0 && g->tied != 1) return tb_fail(err, "config key 'tied' must be 0 or 1");
    g->seed = seed ? strtoull(seed, NULL, 10) : 0;
    return gpt_check_config(g, err);
}

/* Every tensor the config implies is present with its shape before anything is
 * allocated: a small file claiming d_model 2048 is refused at once, not after 2 GB. */
static int check_tensors(const gpt_config *g, const tb_ckpt *c, char *err) {
    size_t sizes[GPT_NPARAM];
    param_sizes(g, sizes);
    for (int i = 0; i < GPT_NPARAM; i++) {
        int nd;
        int64_t shape[3];
        tensor_shape(g, i, &nd, shape);
        if (sizes[i] && ckpt_check_tensor(c, gpt_param_names[i], nd, shape, err)) return -1;
    }
    return 0;
}

int gpt_from_ckpt(gpt_model *m, const tb_ckpt *c, char *err) {
    gpt_config g;
    if (gpt_config_from_ckpt(&g, c, err) || check_tensors(&g, c, err) || gpt_init(m, &g, err)) return -1;
    float *p = m->params_mem;
    for (int i = 0; i < GPT_NPARAM; i++) {
        if (m->param_sizes[i]) {
            int nd;
            int64_t shape[3];
            tensor_shape(&g, i, &nd, shape);
            if (ckpt_read_tensor(c, gpt_param_names[i], p, nd, shape, err)) { gpt_free(m); return -1; }
            for (size_t k = 0; k < m->param_sizes[i]; k++)
                if (!isfinite(p[k])) {
                    gpt_free(m);
                    return tb_fail(err, "tensor '%s' holds a non-finite value", gpt_param_names[i]);
                }
        }
        p += m->param_sizes[i];
    }
    return 0;
}
