/* work.h -- how much work does each model do per token, and what would it cost in energy?
 * (`energy`, lesson 15.)
 *
 * Work is counted while a model reads the validation split (the stream `eval` scores),
 * per token presented:
 *   GPT  multiply-accumulates (MACs), counted from the shapes: per position t of a
 *        sentence (t = 0 is the "." in front), every layer does 4 C^2 (Q, K, V, output
 *        projection) + 2 r C^2 (MLP) + 2 C (t + 1) (scores and the weighted sum over the
 *        t + 1 visible positions), and the head C V.  Norms and softmax are left out
 *        (a few percent).  A GPT whose work depends on what it reads -- experts, zeros in
 *        its MLP (ReLU's own or a top-K MLP), skipped blocks (lesson 18) -- is counted
 *        while it reads (gpt_usage): a skipped block does nothing; an MLP slot that ran
 *        does C H MACs in its first layer and C per nonzero hidden unit in its second (a
 *        zero input is work skipped), and a router C E.  For the dense GELU model the
 *        count is the formula above.
 *   SNN  events, counted by the simulator itself (srnn_counters): neuron updates (each
 *        neuron each step: v = beta v + I, compare with theta), recurrent synaptic events
 *        (a spike x its fan-out: one addition each), input additions (the token's input
 *        column, every step) and readout events (a spike x the vocabulary).
 * Energy per operation, 45 nm CMOS at 0.9 V (Horowitz, "Computing's energy problem",
 * ISSCC 2014): 32-bit float multiply 3.7 pJ, add 0.9 pJ (a MAC 4.6 pJ); reading a 64-bit
 * word from an 8 KB SRAM 10 pJ, so about 5 pJ per 32-bit weight.  Two estimates: compute
 * only, and compute + one weight read per MAC or synaptic event (the weights do not fit
 * in registers; DRAM would cost ~100x more again).  A neuron update is a multiply and
 * two adds: 5.5 pJ.
 */
#ifndef TB_WORK_H
#define TB_WORK_H

#include "gpt.h"
#include "lm.h"
#include "srnn.h"

#define PJ_MULT 3.7                      /* fp32 multiply */
#define PJ_ADD 0.9                       /* fp32 add */
#define PJ_MAC (PJ_MULT + PJ_ADD)        /* multiply-accumulate: 4.6 */
#define PJ_SRAM32 5.0                    /* one 32-bit weight from SRAM */
#define PJ_NEURON (PJ_MULT + 2 * PJ_ADD) /* v = beta v + I, then v >= theta: 5.5 */

/* Where the figures come from, for tables and JSON. */
extern const char *const work_energy_source;

typedef struct {
    char kind[16];            /* "gpt" or "srnn" */
    long long step;           /* training step of the checkpoint (-1 if none) */
    double val_loss;          /* nats per token on the tokens read */
    double macs;              /* GPT: multiply-accumulates per token */
    double neuron_updates, syn_events, input_events, readout_events, spikes; /* SNN, per token */
    double rate_hz;           /* SNN: mean firing rate */
    double e_compute;         /* pJ per token, compute only */
    double e_memory;          /* pJ per token, with one weight read per MAC or event */
    double mlp_active_frac;   /* GPT counted while reading: share of MLP hidden units nonzero (NaN: not counted) */
    double blocks_run;        /* GPT counted while reading: blocks that ran per position (NaN: not counted) */
} work_row;

/* GPT MACs per token presented, over the sentences of the stream ids[n] (sentences end
 * in eos): a sentence of k tokens is read as "." + its k tokens, positions t = 0..k (the
 * way eval scores it, and the way the spiking network is fed), so it presents k + 1. */
double work_gpt_macs_per_token(const gpt_config *g, const int *ids, long n, int eos);
/* The same from the counters of a scoring pass over those tokens (gpt_usage). */
double work_gpt_macs_counted(const gpt_config *g, const gpt_usage *u, const int *ids, long n, int eos);
/* The GPT's energy from its MACs, and the network's per-token events and energy from
 * its counters; both fill the rest of row. */
void work_gpt_energy(work_row *row, double macs);
void work_srnn_energy(work_row *row, const srnn_counters *k, double dt_ms);

/* Open checkpoint `path` (either kind), read the first max_tokens validation tokens
 * (whole sentences; 0 = all) of its corpus from data_dir, and count its work. */
int work_measure(const char *path, const char *data_dir, long max_tokens, work_row *row, char *err);
/* The same for an open model (with whatever blocks it skips) on a loaded corpus. */
int work_measure_model(lm_model *m, const tb_corpus *corp, long max_tokens, work_row *row, char *err);

#endif
