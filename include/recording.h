/* recording.h -- play a trained model the probe stimuli and read out its insides
 * (`record`, `compare`, `energy`; lessons 13-15).
 *
 * A stimulus is one line of text (a sentence, a scrambled word list, a nonword string),
 * read after the sentence-end token "." as its left context, exactly as the models were
 * trained and are scored.  What is recorded:
 *   GPT   the residual stream after the embedding and after every block, pooled over the
 *         stimulus's tokens (mean, or the last token): one stimuli x d_model array per
 *         layer ("00_embed", "01_block1", ...); optionally (--sites all) each block's
 *         attention output and MLP hidden units the same way.  Deterministic: 1 trial.
 *   SNN   every neuron's firing rate (Hz) over the stimulus's token windows (mean over
 *         tokens, or the last token's window), on `trials` repetitions with fresh
 *         Poisson background noise: trials x stimuli x neurons, like a brain recording.
 */
#ifndef TB_RECORDING_H
#define TB_RECORDING_H

#include "gpt.h"
#include "io.h"
#include "rep.h"
#include "srnn.h"
#include "tokenizer.h"

typedef struct {
    char kind[16];        /* "gpt" or "srnn" */
    char path[1024];
    long long step;       /* training step stored in the checkpoint (-1 if none) */
    gpt_model gpt;
    srnn_model snn;
    tb_tokenizer tok;
    tb_ckpt ck;
} rec_model;

/* Open a checkpoint of either kind (errors name the file and the kind found). */
int  rec_open(const char *path, rec_model *m, char *err);
void rec_close(rec_model *m);

typedef struct {
    int n;
    char **text;          /* [n] the lines */
    int **ids;            /* [n] token ids, ids[i][0] = the "." left context */
    int *len;             /* [n] number of ids including the left context */
} rec_stimuli;

/* One stimulus per line ('#' comments and blank lines skipped); a .tsv file uses its
 * "sentence" column.  Every word must be in the model's vocabulary (error names line
 * and word). */
int  rec_stimuli_load(const char *path, const tb_tokenizer *tok, rec_stimuli *s, char *err);
void rec_stimuli_free(rec_stimuli *s);

typedef struct {
    int pool_last;        /* 0 = mean over tokens, 1 = last token */
    int trials;           /* SNN repetitions (the GPT always gives 1) */
    int sites_all;        /* GPT: also attention outputs and MLP hidden units */
    uint64_t seed;        /* SNN noise seeds */
    double noise_hz;      /* SNN background rate; < 0: the model's own */
} rec_opts;

/* Record: GPT -> one layer per site (resid layers first, in depth order); SNN -> one
 * layer "rates" (+ "rates_exc", "rates_inh" when the network obeys Dale's law).  Units
 * are kept even when constant (a silent neuron is data). */
int  rec_record(rec_model *m, const rec_stimuli *s, const rec_opts *o, rep_set *out, char *err);

/* Number of residual-stream layers in a GPT recording (the first ones in out). */
int  rec_n_resid(const rec_model *m);

#endif
