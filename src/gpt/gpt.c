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
    "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb", "lm_head", "moe_router"};

/* Which tensors are matrices (weight decay) rather than biases or norm gains. */
static const unsigned char param_is_matrix[GPT_NPARAM] = {1, 1, 0, 0, 1, 0, 1, 0, 0, 0,
                                                          1, 0, 1, 0, 0, 0, 1, 1};

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
    c->moe_experts = GPT_DEF_MOE_EXPERTS;
    c->moe_top_k = GPT_DEF_MOE_TOP_K;
    c->moe_capacity = GPT_DEF_MOE_CAPACITY;
    c->moe_aux = GPT_DEF_MOE_AUX;
    c->mlp_topk = GPT_DEF_MLP_TOPK;
    c->pos_scale = GPT_DEF_POS_SCALE;
}

int gpt_slots(const gpt_config *c) { return c->moe_experts > 0 ? c->moe_top_k : 1; }
int gpt_n_experts(const gpt_config *c) { return c->moe_experts > 0 ? c->moe_experts : 1; }

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

/* The switches of lesson 18. */
static int check_tinker(const gpt_config *c, char *err) {
    if (c->moe_experts < 0 || c->moe_experts == 1 || c->moe_experts > GPT_MAX_EXPERTS)
        return tb_fail(err, "moe_experts %d: use 0 (dense) or 2..%d", c->moe_experts, GPT_MAX_EXPERTS);
    if (c->moe_top_k < 1 || c->moe_top_k > 2 || (c->moe_experts && c->moe_top_k > c->moe_experts))
        return tb_fail(err, "moe_top_k %d: must be 1 or 2 (and at most the number of experts)", c->moe_top_k);
    if (!(c->moe_capacity >= 0 && c->moe_capacity <= 1000))
        return tb_fail(err, "moe_capacity %g: must be 0 (no limit) or a factor up to 1000", c->moe_capacity);
    if (!(c->moe_aux >= 0 && c->moe_aux <= 100)) return tb_fail(err, "moe_aux %g: must be in 0..100", c->moe_aux);
    if (c->mlp_topk < 0 || c->mlp_topk > c->mlp_ratio * c->d_model)
        return tb_fail(err, "mlp_topk %d: must be 0 (all) .. the %d hidden units", c->mlp_topk, c->mlp_ratio * c->d_model);
    if (!(c->pos_scale > 0 && c->pos_scale <= 100)) return tb_fail(err, "pos_scale %g: must be in (0, 100]", c->pos_scale);
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
    return check_tinker(c, err);
}

/* ---- parameters ------------------------------------------------------------------- */

static void param_sizes(const gpt_config *c, size_t *s) {
    size_t V = c->vocab_size, T = c->ctx, L = c->n_layer, C = c->d_model, H = (size_t)c->mlp_ratio * C;
    size_t E = (size_t)gpt_n_experts(c), LE = L * E;
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
    s[10] = LE * H * C;
    s[11] = LE * H;
    s[12] = LE * C * H;
    s[13] = LE * C;
    s[14] = C;
    s[15] = ln ? C : 0;
    s[16] = c->tied ? 0 : V * C;
    s[17] = c->moe_experts ? L * c->moe_experts * C : 0;
}

/* Point the struct's fields into one buffer (NULL for empty tensors). */
static void point_params(gpt_params *p, float *mem, const size_t *sizes) {
    float **ptr[GPT_NPARAM] = {&p->wte, &p->wpe, &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb, &p->attprojw,
                               &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw, &p->fcb, &p->fcprojw,
                               &p->fcprojb, &p->lnfw, &p->lnfb, &p->lm_head, &p->moe_router};
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
        for (size_t i = 0; i < (size_t)cfg->ctx * cfg->d_model; i++) m->pos_table[i] *= (float)cfg->pos_scale;
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
    if (s[17]) fill_normal(p->moe_router, s[17], 0.02, &r);   /* drawn last: dense models draw as before */
    return 0;
}

static void free_acts(gpt_model *m) {
    free(m->acts_mem);
    free(m->gacts_mem);
    free(m->scratch);
    free(m->inputs);
    free(m->targets);
    free(m->moe_expert);
    m->acts_mem = m->gacts_mem = m->scratch = NULL;
    m->inputs = m->targets = m->moe_expert = NULL;
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
    free(m->skip);
    gpt_usage_off(m);
    memset(m, 0, sizeof *m);
}

size_t gpt_num_params(const gpt_model *m) { return m->n_params; }

/* ---- activations -------------------------------------------------------------------- */

/* Sizes of the gpt_acts fields for B, T (in struct order). */
#define GPT_NACTS 25
static void act_sizes(const gpt_config *c, size_t B, size_t T, size_t *s) {
    size_t L = c->n_layer, C = c->d_model, H = (size_t)c->mlp_ratio * C, NH = c->n_head, V = c->vocab_size;
    size_t BT = B * T, K = (size_t)gpt_slots(c), E = (size_t)c->moe_experts, k = E ? K : 0;
    size_t v[GPT_NACTS] = {BT * C, L * BT * C, L * BT, L * BT, L * BT * 3 * C, L * BT * C, L * B * NH * T * T,
                           L * BT * C, L * BT * C, L * BT * C, L * BT, L * BT, L * BT * K * H, L * BT * K * H,
                           L * BT * C, L * BT * C, BT * C, BT, BT, BT * V, BT * V, BT,
                           L * BT * E, L * BT * k, L * BT * k * C};
    memcpy(s, v, sizeof v);
}

#define GPT_NGACTS 14
static void gact_sizes(const gpt_config *c, size_t B, size_t T, size_t *s) {
    size_t C = c->d_model, H = (size_t)c->mlp_ratio * C, NH = c->n_head, V = c->vocab_size, BT = B * T;
    size_t E = (size_t)c->moe_experts, S = E ? BT * (size_t)c->moe_top_k : 0;
    size_t v[GPT_NGACTS] = {BT * C, BT * C, BT * 3 * C, BT * C, B * NH * T * T, BT * H, BT * H, BT * V,
                            S * C, S * H, S * H, S * H, S * C, BT * E};
    memcpy(s, v, sizeof v);
}

static void point_acts(gpt_model *m, int B, int T) {
    size_t s[GPT_NACTS], g[GPT_NGACTS];
    act_sizes(&m->cfg, B, T, s);
    gact_sizes(&m->cfg, B, T, g);
    gpt_acts *a = &m->acts;
    gpt_grad_acts *d = &m->gacts;
    float **pa[GPT_NACTS] = {&a->encoded, &a->ln1, &a->ln1_mean, &a->ln1_rstd, &a->qkv, &a->atty, &a->att,
                             &a->attproj, &a->residual2, &a->ln2, &a->ln2_mean, &a->ln2_rstd, &a->fch,
                             &a->fch_act, &a->fcproj, &a->residual3, &a->lnf, &a->lnf_mean, &a->lnf_rstd,
                             &a->logits, &a->probs, &a->losses, &a->moe_probs, &a->moe_gate, &a->moe_y};
    float **pg[GPT_NGACTS] = {&d->dresidual, &d->dln, &d->dqkv, &d->datty, &d->datt, &d->dfch, &d->dfch_act,
                              &d->dlogits, &d->moe_x, &d->moe_pre, &d->moe_hid, &d->moe_dh, &d->moe_y,
                              &d->moe_dp};
    float *p = m->acts_mem;
    for (int i = 0; i < GPT_NACTS; i++) { *pa[i] = p; p += s[i]; }
    p = m->gacts_mem;
    for (int i = 0; i < GPT_NGACTS; i++) { *pg[i] = p; p += g[i]; }
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
        size_t n_slots = m->cfg.moe_experts ? (size_t)m->cfg.n_layer * nb * m->cfg.moe_top_k : 0;
        free_acts(m);
        m->acts_mem = malloc(total * sizeof(float));
        m->gacts_mem = malloc(gtotal * sizeof(float));
        m->scratch = malloc((size_t)GPT_NTASKS * 2 * m->cfg.d_model * sizeof(float));
        m->inputs = malloc(nb * sizeof(int));
        m->targets = malloc(nb * sizeof(int));
        m->moe_expert = n_slots ? malloc(n_slots * sizeof(int)) : NULL;
        if (!m->acts_mem || !m->gacts_mem || !m->scratch || !m->inputs || !m->targets || (n_slots && !m->moe_expert)) {
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

/* ---- one block's tensors ------------------------------------------------------------ */

/* Block l's parameters (or gradients: the same offsets in the twin buffer). */
typedef struct {
    float *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb, *ln2w, *ln2b;
    float *fcw, *fcb, *fcprojw, *fcprojb, *router;   /* fc*: expert 0 of the layer */
} block_params;

static void block_params_of(const gpt_config *c, const gpt_params *p, int l, block_params *b) {
    size_t C = c->d_model, H = (size_t)c->mlp_ratio * C, E = (size_t)gpt_n_experts(c);
    b->ln1w = p->ln1w + l * C;
    b->ln1b = p->ln1b ? p->ln1b + l * C : NULL;
    b->qkvw = p->qkvw + (size_t)l * 3 * C * C;
    b->qkvb = p->qkvb + (size_t)l * 3 * C;
    b->attprojw = p->attprojw + (size_t)l * C * C;
    b->attprojb = p->attprojb + l * C;
    b->ln2w = p->ln2w + l * C;
    b->ln2b = p->ln2b ? p->ln2b + l * C : NULL;
    b->fcw = p->fcw + (size_t)l * E * H * C;
    b->fcb = p->fcb + (size_t)l * E * H;
    b->fcprojw = p->fcprojw + (size_t)l * E * C * H;
    b->fcprojb = p->fcprojb + (size_t)l * E * C;
    b->router = p->moe_router ? p->moe_router + (size_t)l * E * C : NULL;
}

/* Block l's activations. */
typedef struct {
    const float *x;   /* x_l, the stream entering the block */
    float *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *att, *attproj, *res2;
    float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_act, *fcproj, *res3;
} block_acts;

static void block_acts_of(const gpt_model *m, int l, block_acts *b) {
    const gpt_acts *a = &m->acts;
    size_t BT = (size_t)m->B * m->T, C = m->cfg.d_model, KH = (size_t)gpt_slots(&m->cfg) * m->cfg.mlp_ratio * C;
    b->x = l == 0 ? a->encoded : a->residual3 + (l - 1) * BT * C;
    b->ln1 = a->ln1 + l * BT * C;
    b->ln1_mean = a->ln1_mean + l * BT;
    b->ln1_rstd = a->ln1_rstd + l * BT;
    b->qkv = a->qkv + l * BT * 3 * C;
    b->atty = a->atty + l * BT * C;
    b->att = a->att + (size_t)l * m->B * m->cfg.n_head * m->T * m->T;
    b->attproj = a->attproj + l * BT * C;
    b->res2 = a->residual2 + l * BT * C;
    b->ln2 = a->ln2 + l * BT * C;
    b->ln2_mean = a->ln2_mean + l * BT;
    b->ln2_rstd = a->ln2_rstd + l * BT;
    b->fch = a->fch + l * BT * KH;
    b->fch_act = a->fch_act + l * BT * KH;
    b->fcproj = a->fcproj + l * BT * C;
    b->res3 = a->residual3 + l * BT * C;
}

/* The mixture of experts of block l, on parameters p (or their gradients). */
static void moe_view(gpt_model *m, int l, const block_params *p, moe_layer *L, moe_saved *s, moe_scratch *w) {
    const gpt_config *c = &m->cfg;
    size_t BT = (size_t)m->B * m->T, k = c->moe_top_k, E = c->moe_experts, C = c->d_model;
    block_acts a;
    block_acts_of(m, l, &a);
    *L = (moe_layer){(int)BT, c->d_model, c->mlp_ratio * c->d_model, c->moe_experts, c->moe_top_k, c->act,
                     c->mlp_topk, m->training ? c->moe_capacity : 0.0, c->moe_aux, p->router, p->fcw, p->fcb,
                     p->fcprojw, p->fcprojb};
    *s = (moe_saved){m->acts.moe_probs + l * BT * E, m->moe_expert + l * BT * k, m->acts.moe_gate + l * BT * k,
                     a.fch, a.fch_act, m->acts.moe_y + l * BT * k * C};
    const gpt_grad_acts *d = &m->gacts;
    *w = (moe_scratch){d->moe_x, d->moe_pre, d->moe_hid, d->moe_dh, d->moe_y, d->moe_dp};
}

/* ---- forward ----------------------------------------------------------------------- */

static void mul_mask_rows(float *x, const float *mask, size_t rows, int width) {
    for (size_t r = 0; r < rows; r++)
        for (int i = 0; i < width; i++) x[r * width + i] *= mask[i];
}

/* Overwrite the patched values of (site, layer) in x[B,T,width] (gpt_patch). */
static void apply_patch(const gpt_model *m, gpt_patch_site site, int layer, float *x, int width) {
    const gpt_patch *p = m->patch;
    if (!p || p->site != site || p->layer != layer) return;
    for (int b = 0; b < m->B; b++)
        for (int t = 0; t < m->T; t++) {
            if (p->pos && p->pos[b] != t) continue;
            size_t o = ((size_t)b * m->T + t) * width;
            for (int i = 0; i < width; i++)
                if (!p->units || p->units[i]) x[o + i] = p->src[o + i];
        }
}

/* The residual stream x_l (l = 0: the embedding) after its ablation mask and patch. */
static void finish_resid(gpt_model *m, int l, float *x) {
    size_t BT = (size_t)m->B * m->T;
    int C = m->cfg.d_model;
    if (m->abl_resid) mul_mask_rows(x, m->abl_resid + (size_t)l * C, BT, C);
    apply_patch(m, GPT_PATCH_RESID, l, x, C);
}

/* r_l = x_l + attn(norm1(x_l)) */
static void attn_forward(gpt_model *m, int l, const block_acts *a, const block_params *p) {
    const gpt_config *c = &m->cfg;
    int C = c->d_model, NH = c->n_head, BT = m->B * m->T;
    norm_forward(c->norm, a->ln1, a->ln1_mean, a->ln1_rstd, a->x, p->ln1w, p->ln1b, BT, C);
    tb_kern->matmul_forward(a->qkv, a->ln1, p->qkvw, p->qkvb, BT, C, 3 * C);
    attention_forward(a->atty, a->att, a->qkv, m->abl_head ? m->abl_head + l * NH : NULL, m->B, m->T, C, NH);
    apply_patch(m, GPT_PATCH_ATTN_Y, l, a->atty, C);
    tb_kern->matmul_forward(a->attproj, a->atty, p->attprojw, p->attprojb, BT, C, C);
    for (size_t i = 0; i < (size_t)BT * C; i++) a->res2[i] = a->x[i] + a->attproj[i];
}

/* Positions, nonzero hidden units and expert choices of block l (gpt_usage). */
static void usage_add(gpt_model *m, int l, const block_acts *a) {
    const gpt_config *c = &m->cfg;
    int V = c->vocab_size, k = gpt_slots(c), E = c->moe_experts;
    size_t KH = (size_t)k * c->mlp_ratio * c->d_model, BT = (size_t)m->B * m->T;
    gpt_usage *u = &m->usage;
    for (size_t i = 0; i < BT; i++) {
        if (m->targets[i] < 0) continue;
        size_t v = (size_t)l * V + m->inputs[i];
        const float *h = a->fch_act + i * KH;
        long nz = 0;
        for (size_t j = 0; j < KH; j++) nz += h[j] != 0.0f;
        u->blocks[v] += 1;
        u->active[v] += (double)nz;
        if (!E) { u->slots[v] += 1; continue; }
        const int *ex = m->moe_expert + ((size_t)l * BT + i) * k;
        for (int j = 0; j < k; j++) u->slots[v] += ex[j] >= 0;
        u->expert[v * E + (ex[0] >= 0 ? ex[0] : -1 - ex[0])] += 1;
    }
}

/* x_{l+1} = r_l + mlp(norm2(r_l)), dense or mixture of experts */
static void mlp_forward(gpt_model *m, int l, const block_acts *a, const block_params *p) {
    const gpt_config *c = &m->cfg;
    int C = c->d_model, H = c->mlp_ratio * C, BT = m->B * m->T;
    norm_forward(c->norm, a->ln2, a->ln2_mean, a->ln2_rstd, a->res2, p->ln2w, p->ln2b, BT, C);
    if (c->moe_experts) {
        moe_layer L;
        moe_saved s;
        moe_scratch w;
        moe_view(m, l, p, &L, &s, &w);
        m->aux_loss += (float)moe_forward(&L, a->fcproj, a->ln2, &s, &w);
    } else {
        tb_kern->matmul_forward(a->fch, a->ln2, p->fcw, p->fcb, BT, C, H);
        act_forward(c->act, a->fch_act, a->fch, (size_t)BT * H);
        if (c->mlp_topk) sparse_topk_rows(a->fch_act, BT, H, c->mlp_topk, m->gacts.dfch);
        if (m->abl_mlp) mul_mask_rows(a->fch_act, m->abl_mlp + (size_t)l * H, BT, H);
        apply_patch(m, GPT_PATCH_MLP, l, a->fch_act, H);
        tb_kern->matmul_forward(a->fcproj, a->fch_act, p->fcprojw, p->fcprojb, BT, H, C);
    }
    if (m->usage.count) usage_add(m, l, a);
    for (size_t i = 0; i < (size_t)BT * C; i++) a->res3[i] = a->res2[i] + a->fcproj[i];
}

/* A skipped block: x_{l+1} = x_l; its own activations read as zero through the taps. */
static void skip_forward(gpt_model *m, const block_acts *a) {
    const gpt_config *c = &m->cfg;
    size_t BT = (size_t)m->B * m->T, C = c->d_model, KH = (size_t)gpt_slots(c) * c->mlp_ratio * C;
    memcpy(a->res2, a->x, BT * C * sizeof(float));
    memcpy(a->res3, a->x, BT * C * sizeof(float));
    memset(a->atty, 0, BT * C * sizeof(float));
    memset(a->attproj, 0, BT * C * sizeof(float));
    memset(a->att, 0, BT * m->T * c->n_head * sizeof(float));
    memset(a->fch_act, 0, BT * KH * sizeof(float));
    memset(a->fcproj, 0, BT * C * sizeof(float));
}

/* A profiler's phase mark (gpt.h, gpt_phase). */
static void phase_mark(const gpt_model *m, gpt_phase phase, int layer) {
    if (m->on_phase) m->on_phase(m->on_phase_ctx, phase, layer);
}

static int check_batch(const gpt_model *m, const int *inputs, const int *targets, int B, int T, char *err) {
    const gpt_config *c = &m->cfg;
    if (B < 1 || T < 1) return tb_fail(err, "gpt_forward: empty batch (%d x %d)", B, T);
    if (T > c->ctx) return tb_fail(err, "sequence of %d tokens is longer than the model's context %d", T, c->ctx);
    for (size_t i = 0; i < (size_t)B * T; i++) {
        if (inputs[i] < 0 || inputs[i] >= c->vocab_size)
            return tb_fail(err, "token id %d out of range 0..%d", inputs[i], c->vocab_size - 1);
        if (targets && targets[i] >= c->vocab_size)
            return tb_fail(err, "target id %d out of range 0..%d", targets[i], c->vocab_size - 1);
    }
    return 0;
}

/* Final norm, head, cross-entropy and the mean loss over scored positions. */
static void head_forward(gpt_model *m) {
    const gpt_config *c = &m->cfg;
    gpt_params *p = &m->params;
    gpt_acts *a = &m->acts;
    int C = c->d_model, V = c->vocab_size, L = c->n_layer;
    size_t BT = (size_t)m->B * m->T;
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
}

int gpt_forward(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                float *mean_loss, char *err) {
    const gpt_config *c = &m->cfg;
    if (check_batch(m, inputs, targets, B, T, err) || ensure_acts(m, B, T, err)) return -1;
    size_t BT = (size_t)B * T;
    memcpy(m->inputs, inputs, BT * sizeof(int));
    m->has_targets = targets != NULL;
    if (targets) memcpy(m->targets, targets, BT * sizeof(int));
    else for (size_t i = 0; i < BT; i++) m->targets[i] = -1;
    if (m->usage.count)
        for (size_t i = 0; i < BT; i++) m->usage.count[inputs[i]] += m->targets[i] >= 0;

    gpt_params *p = &m->params;
    phase_mark(m, GPT_PHASE_EMBED_FWD, -1);
    encoder_forward(m->acts.encoded, inputs, p->wte, c->pos == GPT_POS_LEARNED ? p->wpe : m->pos_table, B, T, c->d_model);
    finish_resid(m, 0, m->acts.encoded);
    m->aux_loss = 0.0f;
    for (int l = 0; l < c->n_layer; l++) {
        block_acts a;
        block_params w;
        phase_mark(m, GPT_PHASE_LAYER_FWD, l);
        block_acts_of(m, l, &a);
        block_params_of(c, p, l, &w);
        if (m->skip && m->skip[l]) skip_forward(m, &a);
        else {
            attn_forward(m, l, &a, &w);
            mlp_forward(m, l, &a, &w);
        }
        finish_resid(m, l + 1, a.res3);
    }
    head_forward(m);
    if (mean_loss) *mean_loss = m->mean_loss;
    phase_mark(m, GPT_PHASE_END, -1);
    return 0;
}

/* ---- backward ---------------------------------------------------------------------- */

/* A linear layer's backward with dinp[N,C] set rather than added to: dinp = dout weight
 * (beta 0: no pass zeroing dinp first), dweight += dout^T inp, dbias += column sums.
 * The numbers are those of zeroing dinp and calling matmul_backward, but for the sign of
 * an exact zero (a sum that rounds to -0 is no longer turned into +0 by adding the
 * zeroed dinp), which every later sum treats alike: the golden outputs are unchanged. */
static void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, int N, int C, int OC) {
    tb_kern->sgemm(0, 0, N, C, OC, 1.0f, dout, OC, weight, C, 0.0f, dinp, C);
    tb_kern->matmul_backward(NULL, dweight, dbias, dout, inp, weight, N, C, OC);
}

/* dresidual: d/d(x_{l+1}) in, d/d(r_l) out (the residual passes it through; the MLP adds). */
static void mlp_backward(gpt_model *m, int l, const block_acts *a, const block_params *p, const block_params *g) {
    const gpt_config *c = &m->cfg;
    int C = c->d_model, H = c->mlp_ratio * C, BT = m->B * m->T;
    gpt_grad_acts *d = &m->gacts;
    if (c->moe_experts) {
        memset(d->dln, 0, (size_t)BT * C * sizeof(float));
        moe_layer L;
        moe_saved s;
        moe_scratch w;
        moe_view(m, l, p, &L, &s, &w);
        moe_backward(&L, d->dln, g->router, g->fcw, g->fcb, g->fcprojw, g->fcprojb, d->dresidual, a->ln2, &s, &w);
    } else {
        linear_backward(d->dfch_act, g->fcprojw, g->fcprojb, d->dresidual, a->fch_act, p->fcprojw, BT, H, C);
        if (m->abl_mlp) mul_mask_rows(d->dfch_act, m->abl_mlp + (size_t)l * H, BT, H);
        if (c->mlp_topk)   /* a unit the top-K zeroed passes no gradient */
            for (size_t i = 0; i < (size_t)BT * H; i++) if (a->fch_act[i] == 0.0f) d->dfch_act[i] = 0.0f;
        act_backward(c->act, d->dfch, a->fch, d->dfch_act, (size_t)BT * H);
        linear_backward(d->dln, g->fcw, g->fcb, d->dfch, a->ln2, p->fcw, BT, C, H);
    }
    norm_backward(c->norm, d->dresidual, g->ln2w, g->ln2b, d->dln, a->res2, p->ln2w, a->ln2_mean, a->ln2_rstd, BT, C,
                  m->scratch);
}

/* dresidual: d/d(r_l) in, d/d(x_l) out. */
static void attn_backward(gpt_model *m, int l, const block_acts *a, const block_params *p, const block_params *g) {
    const gpt_config *c = &m->cfg;
    int C = c->d_model, NH = c->n_head, BT = m->B * m->T;
    gpt_grad_acts *d = &m->gacts;
    linear_backward(d->datty, g->attprojw, g->attprojb, d->dresidual, a->atty, p->attprojw, BT, C, C);
    if (m->abl_head) {
        const float *hm = m->abl_head + l * NH;
        int hs = C / NH;
        for (size_t r = 0; r < (size_t)BT; r++)
            for (int i = 0; i < C; i++) d->datty[r * C + i] *= hm[i / hs];
    }
    attention_backward(d->dqkv, d->datt, d->datty, a->qkv, a->att, m->B, m->T, C, NH);
    linear_backward(d->dln, g->qkvw, g->qkvb, d->dqkv, a->ln1, p->qkvw, BT, C, 3 * C);
    norm_backward(c->norm, d->dresidual, g->ln1w, g->ln1b, d->dln, a->x, p->ln1w, a->ln1_mean, a->ln1_rstd, BT, C,
                  m->scratch);
}

int gpt_backward(gpt_model *m, char *err) {
    if (!m->acts_mem || !m->has_targets || m->n_targets == 0)
        return tb_fail(err, "gpt_backward: the last forward pass had no targets");
    const gpt_config *c = &m->cfg;
    int B = m->B, T = m->T, L = c->n_layer, C = c->d_model, V = c->vocab_size;
    size_t BT = (size_t)B * T;
    gpt_params *p = &m->params, *g = &m->grads;
    gpt_acts *a = &m->acts;
    gpt_grad_acts *d = &m->gacts;
    memset(m->grads_mem, 0, m->n_params * sizeof(float));

    /* loss -> logits -> final norm */
    phase_mark(m, GPT_PHASE_HEAD_BWD, -1);
    crossentropy_backward(d->dlogits, a->probs, m->targets, 1.0f / m->n_targets, (int)BT, V);
    linear_backward(d->dln, c->tied ? g->wte : g->lm_head, NULL, d->dlogits, a->lnf, c->tied ? p->wte : p->lm_head,
                    (int)BT, C, V);
    memset(d->dresidual, 0, BT * C * sizeof(float));
    norm_backward(c->norm, d->dresidual, g->lnfw, g->lnfb, d->dln, a->residual3 + (L - 1) * BT * C, p->lnfw,
                  a->lnf_mean, a->lnf_rstd, (int)BT, C, m->scratch);

    for (int l = L - 1; l >= 0; l--) {
        block_acts ba;
        block_params bp, bg;
        phase_mark(m, GPT_PHASE_LAYER_BWD, l);
        block_acts_of(m, l, &ba);
        block_params_of(c, p, l, &bp);
        block_params_of(c, g, l, &bg);
        if (m->abl_resid) mul_mask_rows(d->dresidual, m->abl_resid + (size_t)(l + 1) * C, BT, C);
        if (m->skip && m->skip[l]) continue;   /* x_{l+1} = x_l */
        mlp_backward(m, l, &ba, &bp, &bg);
        attn_backward(m, l, &ba, &bp, &bg);
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
    size_t BT = (size_t)m->B * m->T, C = c->d_model, H = (size_t)gpt_slots(c) * c->mlp_ratio * C;
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
    case GPT_ABL_MLP:
        if (c->moe_experts) return tb_fail(err, "MLP-unit ablation needs a dense MLP (this model has %d experts)", c->moe_experts);
        width = H; nlayers = L; mask = &m->abl_mlp; what = "MLP unit"; break;
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

int gpt_skip(gpt_model *m, const int *layers, int n, char *err) {
    int L = m->cfg.n_layer;
    for (int i = 0; i < n; i++)
        if (layers[i] < 0 || layers[i] >= L) return tb_fail(err, "skipped block %d out of range 0..%d", layers[i], L - 1);
    free(m->skip);
    m->skip = NULL;
    if (n == 0) return 0;
    m->skip = calloc((size_t)L, 1);
    if (!m->skip) return tb_fail(err, "out of memory");
    for (int i = 0; i < n; i++) m->skip[layers[i]] = 1;
    return 0;
}

void gpt_usage_off(gpt_model *m) {
    gpt_usage *u = &m->usage;
    free(u->count);
    free(u->blocks);
    free(u->active);
    free(u->slots);
    free(u->expert);
    memset(u, 0, sizeof *u);
}

int gpt_usage_enable(gpt_model *m, char *err) {
    gpt_usage_off(m);
    size_t V = m->cfg.vocab_size, LV = (size_t)m->cfg.n_layer * V, E = m->cfg.moe_experts;
    gpt_usage *u = &m->usage;
    u->count = calloc(V, sizeof(double));
    u->blocks = calloc(LV, sizeof(double));
    u->active = calloc(LV, sizeof(double));
    u->slots = calloc(LV, sizeof(double));
    u->expert = E ? calloc(LV * E, sizeof(double)) : NULL;
    if (!u->count || !u->blocks || !u->active || !u->slots || (E && !u->expert)) {
        gpt_usage_off(m);
        return tb_fail(err, "out of memory for the work counters");
    }
    return 0;
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
    int64_t E = c->moe_experts;
    static const int nd[GPT_NPARAM] = {2, 2, 2, 2, 3, 2, 3, 2, 2, 2, 3, 2, 3, 2, 1, 1, 2, 3};
    int64_t s[GPT_NPARAM][4] = {{V, C}, {T, C}, {L, C}, {L, C}, {L, 3 * C, C}, {L, 3 * C}, {L, C, C}, {L, C},
                                {L, C}, {L, C}, {L, H, C}, {L, H}, {L, C, H}, {L, C}, {C}, {C}, {V, C}, {L, E, C}};
    *ndim = nd[i];
    memcpy(shape, s[i], sizeof s[i]);
    if (E && i >= 10 && i <= 13) {   /* the MLP tensors get an expert axis after L */
        memmove(shape + 2, shape + 1, 2 * sizeof *shape);
        shape[1] = E;
        (*ndim)++;
    }
}

/* The switches of lesson 18, written only where they apply (a dense model with learned
 * positions has none, and its checkpoint is what it always was). */
static int tinker_to_ckpt(const gpt_config *g, tb_ckpt *c) {
    int rc = 0;
    if (g->moe_experts)
        rc = ckpt_set_int(c, "moe_experts", g->moe_experts) || ckpt_set_int(c, "moe_top_k", g->moe_top_k) ||
             ckpt_set_double(c, "moe_capacity", g->moe_capacity) || ckpt_set_double(c, "moe_aux", g->moe_aux);
    if (!rc && g->mlp_topk) rc = ckpt_set_int(c, "mlp_topk", g->mlp_topk);
    if (!rc && g->pos == GPT_POS_SINUSOIDAL) rc = ckpt_set_double(c, "pos_scale", g->pos_scale);
    return rc;
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
        ckpt_set(c, "seed", seed) || tinker_to_ckpt(g, c))
        return tb_fail(err, "out of memory writing the checkpoint config");
    const float *p = m->params_mem;
    for (int i = 0; i < GPT_NPARAM; i++) {
        if (m->param_sizes[i]) {
            int nd;
            int64_t shape[4];
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

/* Absent keys keep the dense default; sinusoids without pos_scale are the amplitude-1
 * table of the checkpoints written before the key existed. */
static int tinker_from_ckpt(gpt_config *g, const tb_ckpt *c, char *err) {
    g->pos_scale = 1.0;
    if (ckpt_get(c, "moe_experts") &&
        (get_int_key(c, "moe_experts", &g->moe_experts, err) || get_int_key(c, "moe_top_k", &g->moe_top_k, err) ||
         ckpt_get_double(c, "moe_capacity", &g->moe_capacity, err) || ckpt_get_double(c, "moe_aux", &g->moe_aux, err)))
        return -1;
    if (ckpt_get(c, "mlp_topk") && get_int_key(c, "mlp_topk", &g->mlp_topk, err)) return -1;
    if (ckpt_get(c, "pos_scale") && ckpt_get_double(c, "pos_scale", &g->pos_scale, err)) return -1;
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
    if (tinker_from_ckpt(g, c, err)) return -1;
    return gpt_check_config(g, err);
}

/* Every tensor the config implies is present with its shape before anything is
 * allocated: a small file claiming d_model 2048 is refused at once, not after 2 GB. */
static int check_tensors(const gpt_config *g, const tb_ckpt *c, char *err) {
    size_t sizes[GPT_NPARAM];
    param_sizes(g, sizes);
    for (int i = 0; i < GPT_NPARAM; i++) {
        int nd;
        int64_t shape[4];
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
            int64_t shape[4];
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
