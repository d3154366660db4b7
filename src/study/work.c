/* work.c -- work counts and the 45 nm energy model (see include/work.h).  Lesson 15. */
#include "work.h"
#include "lm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const work_energy_source =
    "Horowitz ISSCC 2014, 45 nm: fp32 mult 3.7 pJ, add 0.9 pJ, 32-bit SRAM read ~5 pJ";

double work_gpt_macs_per_token(const gpt_config *g, const int *ids, long n, int eos) {
    double C = g->d_model, r = g->mlp_ratio, L = g->n_layer, V = g->vocab_size, ctx = g->ctx;
    double per_pos = L * (4 * C * C + 2 * r * C * C) + C * V, tot = 0, presented = 0;
    for (long start = 0; start < n;) {
        long end = start;
        while (end < n && ids[end] != eos) end++;
        long k = (end < n ? end + 1 : end) - start; /* the sentence's tokens, its "." included */
        for (long t = 0; t <= k; t++) /* scores + weighted sum over the visible positions */
            tot += per_pos + L * 2 * C * (t + 1 < ctx ? t + 1 : ctx);
        presented += k + 1;
        start += k;
    }
    return presented > 0 ? tot / presented : 0;
}

/* What the counters say block l does per scored position: whether it ran, and its MLP
 * MACs -- per slot that ran, C H for the first layer, and C per nonzero hidden unit for the
 * second (a zero input is work skipped), plus C E for the router. */
static void counted_blocks(const gpt_config *g, const gpt_usage *u, double *blocks, double *mlp) {
    double C = g->d_model, H = (double)g->mlp_ratio * C, E = g->moe_experts, pos = 0;
    int V = g->vocab_size, L = g->n_layer;
    *blocks = *mlp = 0;
    for (int v = 0; v < V; v++) pos += u->count[v];
    if (pos <= 0) return;
    for (size_t i = 0; i < (size_t)L * V; i++) {
        *blocks += u->blocks[i] / pos;
        *mlp += (u->slots[i] * C * H + u->active[i] * C + u->blocks[i] * C * E) / pos;
    }
}

double work_gpt_macs_counted(const gpt_config *g, const gpt_usage *u, const int *ids, long n, int eos) {
    double C = g->d_model, V = g->vocab_size, ctx = g->ctx, blocks, mlp;
    counted_blocks(g, u, &blocks, &mlp);
    double per_pos = blocks * 4 * C * C + mlp + C * V, tot = 0, presented = 0;
    for (long start = 0; start < n;) {
        long end = start;
        while (end < n && ids[end] != eos) end++;
        long k = (end < n ? end + 1 : end) - start;
        for (long t = 0; t <= k; t++) tot += per_pos + blocks * 2 * C * (t + 1 < ctx ? t + 1 : ctx);
        presented += k + 1;
        start += k;
    }
    return presented > 0 ? tot / presented : 0;
}

void work_gpt_energy(work_row *row, double macs) {
    row->macs = macs;
    row->e_compute = macs * PJ_MAC;
    row->e_memory = row->e_compute + macs * PJ_SRAM32;
}

void work_srnn_energy(work_row *row, const srnn_counters *k, double dt_ms) {
    double T = (double)(k->tokens > 0 ? k->tokens : 1);
    row->neuron_updates = k->neuron_updates / T;
    row->syn_events = k->syn_events / T;
    row->input_events = k->input_events / T;
    row->readout_events = k->readout_events / T;
    row->spikes = k->spikes / T;
    row->rate_hz = k->neuron_updates ? k->spikes / (double)k->neuron_updates / (dt_ms / 1000.0) : 0;
    double adds = row->syn_events + row->input_events + row->readout_events;
    row->e_compute = row->neuron_updates * PJ_NEURON + adds * PJ_ADD;
    row->e_memory = row->e_compute + adds * PJ_SRAM32;
}

/* A GPT whose work depends on its input: experts, zeros in the MLP, skipped blocks. */
static int gpt_counted(const gpt_model *g) {
    const gpt_config *c = &g->cfg;
    return c->moe_experts || c->mlp_topk || c->act == GPT_ACT_RELU || g->skip;
}

int work_measure_model(lm_model *m, const tb_corpus *corp, long max_tokens, work_row *row, char *err) {
    memset(row, 0, sizeof *row);
    snprintf(row->kind, sizeof row->kind, "%s", m->kind);
    row->step = m->step;
    row->mlp_active_frac = row->blocks_run = NAN;
    int snn = !strcmp(m->kind, "srnn"), counted = !snn && gpt_counted(&m->gpt);
    if (snn) srnn_counters_reset(&m->snn);
    if (counted && gpt_usage_enable(&m->gpt, err)) return -1;
    int rc = tok_check_same(&m->tok, &corp->tok, m->path, err);
    if (!rc) rc = lm_val_loss(&m->scorer, corp, max_tokens, NULL, &row->val_loss, err);
    long n = lm_val_tokens(corp, max_tokens);
    if (!rc && snn) work_srnn_energy(row, &m->snn.ctr, m->snn.cfg.dt_ms);
    if (!rc && !snn && !counted) work_gpt_energy(row, work_gpt_macs_per_token(&m->gpt.cfg, corp->val, n, corp->eos));
    if (!rc && counted) {
        const gpt_config *g = &m->gpt.cfg;
        double blocks, mlp, act = 0, ran = 0;
        work_gpt_energy(row, work_gpt_macs_counted(g, &m->gpt.usage, corp->val, n, corp->eos));
        counted_blocks(g, &m->gpt.usage, &blocks, &mlp);
        for (size_t i = 0; i < (size_t)g->n_layer * g->vocab_size; i++) {
            act += m->gpt.usage.active[i];
            ran += m->gpt.usage.slots[i];
        }
        row->blocks_run = blocks;
        row->mlp_active_frac = ran > 0 ? act / (ran * g->mlp_ratio * g->d_model) : NAN;
    }
    if (counted) gpt_usage_off(&m->gpt);
    return rc;
}

int work_measure(const char *path, const char *data_dir, long max_tokens, work_row *row, char *err) {
    lm_model m;
    tb_corpus corp;
    memset(row, 0, sizeof *row);
    if (lm_open(path, &m, err)) return -1;
    const char *corpus_name = ckpt_get(&m.ck, "corpus");
    if (corpus_load(&corp, corpus_name ? corpus_name : "toyworld", data_dir, ckpt_get(&m.ck, "tokens"), err)) {
        lm_close(&m);
        return -1;
    }
    int rc = work_measure_model(&m, &corp, max_tokens, row, err);
    corpus_free(&corp);
    lm_close(&m);
    return rc;
}
