/* work.c -- work counts and the 45 nm energy model (see include/work.h).  Lesson 15. */
#include "work.h"
#include "lm.h"

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

int work_measure(const char *path, const char *data_dir, long max_tokens, work_row *row, char *err) {
    lm_model m;
    tb_corpus corp;
    memset(row, 0, sizeof *row);
    if (lm_open(path, &m, err)) return -1;
    snprintf(row->kind, sizeof row->kind, "%s", m.kind);
    row->step = m.step;
    const char *corpus_name = ckpt_get(&m.ck, "corpus");
    if (corpus_load(&corp, corpus_name ? corpus_name : "toyworld", data_dir, ckpt_get(&m.ck, "tokens"), err)) {
        lm_close(&m);
        return -1;
    }
    int snn = !strcmp(m.kind, "srnn");
    if (snn) srnn_counters_reset(&m.snn);
    int rc = tok_check_same(&m.tok, &corp.tok, path, err);
    if (!rc) rc = lm_val_loss(&m.scorer, &corp, max_tokens, NULL, &row->val_loss, err);
    if (!rc && snn) work_srnn_energy(row, &m.snn.ctr, m.snn.cfg.dt_ms);
    if (!rc && !snn)
        work_gpt_energy(row, work_gpt_macs_per_token(&m.gpt.cfg, corp.val, lm_val_tokens(&corp, max_tokens), corp.eos));
    corpus_free(&corp);
    lm_close(&m);
    return rc;
}
