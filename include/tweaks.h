/* tweaks.h -- the tinkerer's table (`tinybrain tweaks`, lesson 18): a dense GPT against a
 * mixture of experts, a sparse MLP and the same dense GPT with a block skipped, each
 * trained with several seeds (sweep.h), each read on the three axes tinybrain owns:
 *   loss      nats per token above toyworld's exact floor, and minimal-pair accuracy;
 *   alignment the best layer's RSA with the spiking network: Spearman correlation of the
 *             two representational dissimilarity matrices (1 - Pearson r between the
 *             probe sentences' mean-pooled states; the network's rates averaged over its
 *             noisy trials), maximised over the GPT's layers (embedding .. block L).  The
 *             reference may be any checkpoint (a GPT: its last layer), and a spiking
 *             network can be measured too (its rates: one layer), so the same numbers
 *             read a continual run before and after its second language;
 *   energy    nJ per token of arithmetic at 45 nm, counting only the work that runs
 *             (work.h: experts chosen, nonzero hidden units, blocks not skipped).
 * Every number is a mean over seeds with a 95% Student-t interval (sweep_mean_ci).
 */
#ifndef TB_TWEAKS_H
#define TB_TWEAKS_H

#include "corpus.h"
#include "recording.h"

typedef struct {
    const char *name;        /* the row's label */
    const char *what;        /* one line for the table's legend */
    const char *flags[7];    /* `train` flags, NULL-terminated */
    int skip_last;           /* 1: no run of its own; the dense runs with their last block skipped */
} tk_variant;
#define TK_N_VARIANTS 5
extern const tk_variant tk_variants[TK_N_VARIANTS];

/* What every model is measured on: the corpus, its minimal pairs, the probe sentences
 * and the reference network's RDM on them. */
typedef struct {
    tb_corpus corp;
    char *pairs;             /* minimal_pairs.tsv */
    rec_stimuli stim;        /* probes_sentences.txt */
    double *snn_rdm;         /* [m] the reference's RDM, upper triangle */
    long m;
    long val_tokens;         /* validation tokens read for loss and energy (0: all) */
    int trials;              /* a spiking network's noisy trials per sentence */
    uint64_t seed;
} tk_bench;
int  tk_bench_open(tk_bench *b, const char *brain, const char *data_dir, int trials, long val_tokens, uint64_t seed,
                   char *err);
void tk_bench_free(tk_bench *b);

enum { TK_EXCESS, TK_PAIRS, TK_RSA, TK_ENERGY, TK_NSCORES };
extern const char *const tk_score_names[TK_NSCORES];   /* JSON keys */
typedef struct {
    double v[TK_NSCORES];    /* nats above the floor, pair accuracy, RSA, nJ per token (compute) */
    int best_layer;          /* where the RSA peaks */
} tk_score;

/* Open the checkpoint (either kind), bypass a GPT's last block when skip_last, measure it
 * on toyworld. */
int  tk_score_model(const tk_bench *b, const char *ckpt, int skip_last, tk_score *s, char *err);

/* Mean and 95% interval over n seeds of each score. */
typedef struct { double mean[TK_NSCORES], lo[TK_NSCORES], hi[TK_NSCORES]; int n; } tk_row;
int  tk_summarise(const tk_score *s, int n, tk_row *row, char *err);

#endif
