/* energy.c -- `tinybrain energy CKPT...`: how much work does each model do per token,
 * and what would it cost in energy?  Lesson 15.
 *
 * Work is counted while each model reads the validation split (the same stream `eval`
 * scores), per token presented:
 *   GPT  multiply-accumulates (MACs), counted from the shapes: per position t of a
 *        sentence (t = 0 is the "." in front), every layer does 4 C^2 (Q, K, V, output
 *        projection) + 2 r C^2 (MLP) + 2 C (t + 1) (scores and the weighted sum over the
 *        t + 1 visible positions), and the head C V.  Norms and softmax are left out
 *        (a few percent).
 *   SNN  events, counted by the simulator itself (srnn_counters): neuron updates (each
 *        neuron each step: v = beta v + I, compare with theta), recurrent synaptic events
 *        (a spike x its fan-out: one addition each), input additions (the token's input
 *        column, every step) and readout events (a spike x the vocabulary).
 * Energy per operation, 45 nm CMOS at 0.9 V (Horowitz, "Computing's energy problem",
 * ISSCC 2014): 32-bit float multiply 3.7 pJ, add 0.9 pJ (a MAC 4.6 pJ); reading a 64-bit
 * word from an 8 KB SRAM 10 pJ, so about 5 pJ per 32-bit weight.  We report compute
 * only, and compute + one weight read per MAC or synaptic event (the weights do not fit
 * in registers; DRAM would cost ~100x more again).  A neuron update is a multiply and
 * two adds: 5.5 pJ.
 */
#include "cli.h"
#include "commands.h"
#include "corpus.h"
#include "lm.h"
#include "plot.h"
#include "recording.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define PJ_MULT 3.7
#define PJ_ADD 0.9
#define PJ_MAC (PJ_MULT + PJ_ADD)
#define PJ_SRAM32 5.0
#define PJ_NEURON (PJ_MULT + 2 * PJ_ADD)

typedef struct {
    char path[1024], kind[16];
    long long step;
    double val_loss, macs, syn, upd, inp, rd, spikes; /* per token */
    double e_compute, e_memory;                       /* pJ per token */
    double rate_hz;
} energy_row;

/* GPT MACs per token presented, over the sentences of the stream ids[n]: a sentence of
 * k tokens is read as "." + its k tokens, positions t = 0..k (the way eval scores it, and
 * the way the spiking network is fed), so it presents k + 1 tokens. */
static double gpt_macs_per_token(const gpt_config *g, const int *ids, long n, int eos) {
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

static void measure(const char *path, const char *data_dir, long val_tokens, energy_row *row) {
    char err[TB_ERRLEN];
    rec_model m;
    memset(row, 0, sizeof *row);
    if (rec_open(path, &m, err)) cli_die(1, "%s", err);
    snprintf(row->path, sizeof row->path, "%s", path);
    snprintf(row->kind, sizeof row->kind, "%s", m.kind);
    row->step = m.step;
    const char *corpus_name = ckpt_get(&m.ck, "corpus");
    tb_corpus corp;
    if (corpus_load(&corp, corpus_name ? corpus_name : "toyworld", data_dir, ckpt_get(&m.ck, "tokens"), err))
        cli_die(1, "%s", err);
    if (tok_check_same(&m.tok, &corp.tok, path, err)) cli_die(1, "%s", err);
    lm_scorer sc;
    int snn = !strcmp(m.kind, "srnn");
    if (snn) { srnn_scorer(&sc, &m.snn); srnn_counters_reset(&m.snn); }
    else gpt_scorer(&sc, &m.gpt);
    if (lm_val_loss(&sc, &corp, val_tokens, NULL, &row->val_loss, err)) cli_die(1, "%s", err);
    if (snn) {
        const srnn_counters *k = &m.snn.ctr;
        double T = (double)(k->tokens > 0 ? k->tokens : 1);
        row->upd = k->neuron_updates / T;
        row->syn = k->syn_events / T;
        row->inp = k->input_events / T;
        row->rd = k->readout_events / T;
        row->spikes = k->spikes / T;
        row->rate_hz = k->neuron_updates ? k->spikes / (double)k->neuron_updates / (m.snn.cfg.dt_ms / 1000.0) : 0;
        row->e_compute = row->upd * PJ_NEURON + (row->syn + row->inp + row->rd) * PJ_ADD;
        row->e_memory = row->e_compute + (row->syn + row->inp + row->rd) * PJ_SRAM32;
    } else {
        long n = corp.n_val;
        if (val_tokens > 0 && val_tokens < n) {
            n = val_tokens;
            while (n < corp.n_val && corp.val[n - 1] != corp.eos) n++;
        }
        row->macs = gpt_macs_per_token(&m.gpt.cfg, corp.val, n, corp.eos);
        row->e_compute = row->macs * PJ_MAC;
        row->e_memory = row->e_compute + row->macs * PJ_SRAM32;
    }
    corpus_free(&corp);
    rec_close(&m);
}

/* Expand run folders into their step_*.ckpt files (in step order). */
static int expand(char **args, int nargs, char ***out) {
    int n = 0;
    *out = NULL;
    for (int a = 0; a < nargs; a++) {
        char **steps = NULL;
        int ns = 1;
        if (rep_is_dir(args[a])) {
            if (rep_list_steps(args[a], &steps, &ns)) cli_die(1, "%s: cannot read the folder", args[a]);
            if (ns == 0) cli_die(1, "%s: no step_*.ckpt checkpoints in this folder", args[a]);
        }
        char **t = realloc(*out, (size_t)(n + ns) * sizeof(char *));
        if (!t) cli_die(1, "out of memory");
        *out = t;
        for (int i = 0; i < ns; i++) (*out)[n++] = steps ? steps[i] : strdup(args[a]);
        free(steps);
    }
    return n;
}

static void fmt_count(char *b, size_t n, double v) {
    if (v <= 0) snprintf(b, n, "-");
    else if (v >= 1e6) snprintf(b, n, "%.2fM", v / 1e6);
    else if (v >= 1e3) snprintf(b, n, "%.1fk", v / 1e3);
    else snprintf(b, n, "%.0f", v);
}

int cmd_energy(int argc, char **argv) {
    const char *data_dir, *plots, *name;
    long long val_tokens;
    int json;
    cli_opt opts[] = {
        {"val-tokens", 'l', &val_tokens, "20000", "tokens", "validation tokens to read (whole sentences; 0 = all)", 0, 1e9, NULL},
        {"data-dir", 's', &data_dir, TB_DATA_DIR, "", "toyworld data folder", 0, 0, NULL},
        {"plots", 's', &plots, TB_PLOTS_DIR, "", "folder for the energy-vs-loss plot", 0, 0, NULL},
        {"name", 's', &name, "energy", "", "plot file name", 0, 0, NULL},
        {"json", 'b', &json, NULL, "", "one JSON object per model", 0, 0, NULL},
    };
    cli_cmd cmd = {"energy", "CKPT [CKPT or RUN_FOLDER ...]",
                   "work and energy per token: GPT multiply-accumulates vs spiking events (Horowitz 2014, 45 nm)",
                   "Reads the validation split with each model (GPT or spiking network; a run folder means all its "
                   "step_*.ckpt) and counts the work per token: MACs for the GPT; neuron updates, synaptic events "
                   "(spikes x fan-out), input and readout additions for the spiking network. Energy per token from "
                   "45 nm figures (Horowitz, ISSCC 2014): float32 multiply 3.7 pJ, add 0.9 pJ, 32-bit SRAM read ~5 pJ; "
                   "compute only, and with one weight read per MAC or event. Plots energy against validation loss.",
                   "tinybrain energy runs/gpt.ckpt runs/snn.ckpt"};
    char *pos[64];
    int npos = cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 1, 64);
    char **paths;
    int n = expand(pos, npos, &paths);
    energy_row *rows = calloc((size_t)n, sizeof *rows);
    for (int i = 0; i < n; i++) measure(paths[i], data_dir, (long)val_tokens, &rows[i]);
    if (json) {
        for (int i = 0; i < n; i++) {
            energy_row *r = &rows[i];
            json_begin();
            json_str("checkpoint", r->path);
            json_str("kind", r->kind);
            json_int("step", r->step);
            json_num("val_loss", r->val_loss);
            if (!strcmp(r->kind, "gpt")) json_num("macs_per_token", r->macs);
            else {
                json_num("neuron_updates_per_token", r->upd);
                json_num("synaptic_events_per_token", r->syn);
                json_num("input_events_per_token", r->inp);
                json_num("readout_events_per_token", r->rd);
                json_num("spikes_per_token", r->spikes);
                json_num("mean_rate_hz", r->rate_hz);
            }
            json_num("energy_pj_per_token_compute", r->e_compute);
            json_num("energy_pj_per_token_with_weight_reads", r->e_memory);
            json_str("energy_source", "Horowitz ISSCC 2014, 45 nm: fp32 mult 3.7 pJ, add 0.9 pJ, 32-bit SRAM read ~5 pJ");
            json_end();
        }
    } else {
        printf("work per token on the validation split; energy at 45 nm (Horowitz, ISSCC 2014):\n"
               "  fp32 MAC 4.6 pJ (mult 3.7 + add 0.9), fp32 add 0.9 pJ, neuron update 5.5 pJ, 32-bit SRAM weight read ~5 pJ\n");
        int w[10] = {-26, 4, 7, 8, 9, 9, 9, 9, 10, 10};
        const char *head[10] = {"checkpoint", "kind", "step", "val_loss", "MACs", "updates", "syn_ev", "rd+in_ev",
                                "nJ_comp", "nJ_+mem"};
        cli_table_row(10, w, head);
        cli_table_rule(10, w);
        for (int i = 0; i < n; i++) {
            energy_row *r = &rows[i];
            char c[10][64];
            const char *base = strrchr(r->path, '/');
            snprintf(c[0], 64, "%s", strlen(r->path) <= 26 ? r->path : base ? base + 1 : r->path);
            snprintf(c[1], 64, "%s", !strcmp(r->kind, "gpt") ? "gpt" : "snn");
            snprintf(c[2], 64, "%lld", r->step);
            snprintf(c[3], 64, "%.4f", r->val_loss);
            fmt_count(c[4], 64, r->macs);
            fmt_count(c[5], 64, r->upd);
            fmt_count(c[6], 64, r->syn);
            fmt_count(c[7], 64, r->rd + r->inp);
            snprintf(c[8], 64, "%.2f", r->e_compute / 1000);
            snprintf(c[9], 64, "%.2f", r->e_memory / 1000);
            const char *cells[10] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]};
            cli_table_row(10, w, cells);
        }
        printf("MACs: GPT multiply-accumulates; updates: neuron updates; syn_ev: recurrent synaptic events (spikes x fan-out);\n"
               "rd+in_ev: readout (spikes x vocabulary) and input additions; nJ per token, compute only / with weight reads.\n");
    }
    /* energy vs loss: one series per kind */
    double *x[2], *y[2];
    int cnt[2] = {0, 0};
    for (int k = 0; k < 2; k++) { x[k] = malloc((size_t)n * 8); y[k] = malloc((size_t)n * 8); }
    for (int i = 0; i < n; i++) {
        int k = strcmp(rows[i].kind, "gpt") != 0;
        x[k][cnt[k]] = rows[i].e_memory / 1000;
        y[k][cnt[k]++] = rows[i].val_loss;
    }
    tb_series s[2];
    int ns = 0;
    if (cnt[0]) s[ns++] = (tb_series){"GPT (multiply-accumulates)", x[0], y[0], cnt[0], "linespoints"};
    if (cnt[1]) s[ns++] = (tb_series){"spiking network (events)", x[1], y[1], cnt[1], "linespoints"};
    tb_lineplot lp = {"Energy per token vs validation loss (45 nm estimate, with weight reads)",
                      "energy per token (nJ, log scale)", "validation loss (nats/token)", 1, 0, NAN, NAN, 0, 0};
    char err[TB_ERRLEN];
    int rendered = 0;
    if (plot_lines(plots, name, &lp, s, ns, &rendered, err)) cli_note("plot: %s", err);
    else if (!json) {
        if (rendered) cli_note("wrote %s/%s.png", plots, name);
        else cli_note("gnuplot not found: render with gnuplot %s/%s.gp", plots, name);
    }
    for (int k = 0; k < 2; k++) { free(x[k]); free(y[k]); }
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(rows);
    return 0;
}
