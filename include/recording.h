/* recording.h -- play a trained model the probe stimuli and read out its insides
 * (`record`, `compare`; lessons 13-15), and save what it did as a recording folder.
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
 * The model is opened with lm_open (lm.h).  A recording folder holds one .npy per layer
 * and manifest.json; it is what `align` and `compare` read as "the model's layers":
 *   GPT:  DIR/00_embed.npy, DIR/01_block1.npy, ...   stimuli x d_model (float32)
 *         with sites_all also DIR/attn/NN_blockL_attn.npy and DIR/mlp/NN_blockL_mlp.npy
 *   SNN:  DIR/rates.npy                              trials x stimuli x neurons (Hz)
 *         with Dale's law also DIR/subpop/rates_exc.npy and rates_inh.npy
 * The negative control: the same network with its language input cut (rec_no_language).
 */
#ifndef TB_RECORDING_H
#define TB_RECORDING_H

#include "lm.h"
#include "rep.h"

typedef struct {
    int n;
    char **text;          /* [n] the lines */
    int **ids;            /* [n] token ids, ids[i][0] = the "." left context */
    int *len;             /* [n] number of ids including the left context */
} rec_stimuli;

/* One stimulus per line, of any length ('#' comments and blank lines skipped); a .tsv
 * file uses its "sentence" column.  Every word must be in the model's vocabulary (error names line
 * and word). */
int  rec_stimuli_load(const char *path, const tb_tokenizer *tok, rec_stimuli *s, char *err);
void rec_stimuli_free(rec_stimuli *s);

typedef struct {
    int pool_last;        /* 0 = mean over tokens, 1 = last token */
    int trials;           /* SNN repetitions (the GPT always gives 1) */
    int sites_all;        /* GPT: also attention outputs and MLP hidden units */
    uint64_t seed;        /* SNN noise seeds */
    double noise_hz;      /* SNN background rate; < 0: the model's own */
    tb_progress progress; /* SNN: told after each stimulus of each trial (zero: nobody) */
} rec_opts;

/* Record: GPT -> one layer per site (resid layers first, in depth order); SNN -> one
 * layer "rates" (+ "rates_exc", "rates_inh" when the network obeys Dale's law).  Units
 * are kept even when constant (a silent neuron is data). */
int  rec_record(lm_model *m, const rec_stimuli *s, const rec_opts *o, rep_set *out, char *err);

/* The negative control (`record --no-language`): cut a spiking network off from language
 * by zeroing its input weights W_in.  Whatever the stimulus, every neuron is then driven
 * only by the recurrent network and the background Poisson noise, so a recording of it on
 * the same stimuli (same lengths, same trial seeds) is the population a brain would have
 * without language input: its alignment with any model should be ~ 0 on every metric that
 * is well posed.  The model in memory changes (not its file); the manifest of a recording
 * made after this says "language_input": false.  A GPT is refused: with no input it is a
 * deterministic constant (every stimulus gives the same state), not a noisy population. */
int  rec_no_language(lm_model *m, char *err);

/* Number of residual-stream layers in a GPT recording (the first ones in out). */
int  rec_n_resid(const lm_model *m);

/* Write the recording r of model m on the stimuli of file `stimuli` (s: as loaded) into
 * the folder dir: one float32 .npy per layer (GPT attention and MLP sites in attn/ and
 * mlp/, the network's E/I sub-populations in subpop/) and manifest.json naming the model,
 * the stimuli, the pooling, the trials and every array with its shape and dimensions. */
int  rec_save(const char *dir, const lm_model *m, const char *stimuli, const rec_stimuli *s, const rec_opts *o,
              const rep_set *r, char *err);

/* Firing rates of a spiking network's recording R (stimuli x neurons, trial mean):
 * the mean over neurons and stimuli, and how many neurons never fire. */
void rec_rate_summary(const rep_layer *R, double *mean_hz, int *silent);

#endif
