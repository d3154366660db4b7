/* stimuli.h -- what the probe sentences mean, and the model RDMs built from it (lesson 13).
 *
 * A model RDM is the dissimilarity a hypothesis predicts: for a categorical feature
 * (subject category, subject number, verb, object category, part-of-speech pattern),
 * two sentences are at distance 0 when they share the label and 1 when they do not.
 * Comparing a representation's RDM with it asks "does this layer carry that feature?".
 * Such RDMs are mostly ties, so the comparison is Kendall tau-a (Nili et al. 2014).
 *
 * The labels come from the probe metadata that `corpus` writes beside the probes
 * (data/toyworld/probes_sentences.tsv: a header row naming the columns, one row per
 * stimulus, in the same order), and the part-of-speech pattern from the stimuli's words
 * and the vocabulary metadata (vocab.tsv, columns word and pos).
 */
#ifndef TB_STIMULI_H
#define TB_STIMULI_H

#include "tb.h"

enum { STIM_SUBJ_CAT, STIM_SUBJ_NUM, STIM_VERB, STIM_OBJ_CAT, STIM_POS_PATTERN, STIM_N_FEAT };

/* The metadata column (and JSON/TSV key) of each feature: "subj_cat", ..., "pos_pattern". */
extern const char *const stim_feat_key[STIM_N_FEAT];
/* Its name in tables: "subject category", ..., "part-of-speech pattern". */
extern const char *const stim_feat_name[STIM_N_FEAT];

typedef struct {
    int n;                          /* stimuli */
    char **label[STIM_N_FEAT];      /* label[f][i]: stimulus i's value of feature f; NULL when unknown */
} stim_meta;

/* Read the metadata columns present in a TSV of n rows after its header ('#' comments
 * and blank lines skipped); a row count other than n is an error. */
int  stim_meta_load(const char *tsv, int n, stim_meta *m, char *err);
/* Add the part-of-speech pattern of each stimulus ("DET NOUN VERB DET NOUN PUNCT"), one
 * stimulus per line of `stimuli` ('#' comments skipped), words looked up in vocab.tsv.
 * The feature stays unknown (and the call succeeds) when the vocabulary cannot be read
 * or a word is missing from it; -1 only when out of memory. */
int  stim_pos_patterns(const char *stimuli, const char *vocab, stim_meta *m, char *err);
void stim_meta_free(stim_meta *m);

/* The model RDM of feature f as a full matrix D[n, n]: 0 = same label, 1 = different. */
void stim_model_rdm(const stim_meta *m, int f, float *D);
/* Kendall tau-a between the correlation-distance RDM of X[n, p] (stimuli x units) and
 * the model RDM of feature f (which must be known). */
int  stim_tau_a(const double *X, int n, int p, const stim_meta *m, int f, double *tau, char *err);
/* The stimuli in picture order: sorted by subject category, then object category (a
 * stable sort: ties keep their order); ord[n].  Identity when the categories are unknown. */
void stim_order(const stim_meta *m, int *ord);

#endif
