/* baselines.h -- what an alignment score must be read against (lessons 13-15).
 *
 * A score of "GPT layer 2 vs the spiking network" means little alone: two models that
 * both read the same words will share structure even if neither understands a thing.
 * These are the references `compare` puts beside every score, built from the stimuli
 * alone (no model):
 *
 *   lexical    each stimulus as the counts of its words (every token except "."), one
 *              column per word that occurs in the stimuli: the bag-of-words floor.  A
 *              model that pools its states over a sentence's tokens is close to this by
 *              construction; alignment that does not beat it is explained by shared words.
 *   noise      Gaussian noise of a given shape: the metric's floor for that shape (CKA
 *              and CCA of unrelated data are not 0 when units are many and stimuli few).
 *   twins      for a probe set of same-words twins (probes_twins.txt: lines 2k and 2k+1
 *              have the same words in a different structure), the within-pair
 *              differences x(2k) - x(2k+1): the lexical features' differences are exactly
 *              zero, so whatever two representations share on the differences is structure.
 *
 * The model-based references (untrained models, a GPT trained on scrambled sentences,
 * two seeds of the same model) are recordings like any other; see compare.h.
 */
#ifndef TB_BASELINES_H
#define TB_BASELINES_H

#include "tb.h"
#include <stdint.h>

/* Bag of words.  ids[i][0..len[i]) are stimulus i's token ids (a leading or trailing
 * `eos` is not a word and is skipped).  Out: X[n, p] counts (malloc'd, row-major), p the
 * number of distinct words over all stimuli, word_id[p] (malloc'd, may be NULL) the token
 * id of each column in increasing id order.  Errors: no words at all. */
int base_lexical(const int *const *ids, const int *len, int n, int eos, double **X, int *p, int **word_id,
                 char *err);

/* The same from text: lines[n] split at spaces, every word but "." a column, columns in
 * alphabetical order (words[p], malloc'd strings, may be NULL).  What `compare` uses, so
 * a recording folder needs no tokenizer. */
int base_lexical_text(char *const *lines, int n, double **X, int *p, char ***words, char *err);
void base_free_words(char **words, int p);

/* X[n, p] filled with independent N(0, 1) draws from the seed. */
void base_noise(double *X, int n, int p, uint64_t seed);

/* Twin differences: D[n/2, p] with row k = X[2k] - X[2k+1] (n even; rows are stimuli).
 * For 3-D data (trials > 1, Xt[trials, n, p]) the same per trial into Dt[trials, n/2, p]
 * (Xt/Dt may be NULL). */
int base_twin_diff(const double *X, const double *Xt, int trials, int n, int p, double *D, double *Dt, char *err);

#endif
