/* ideal.h -- the ideal observer as a third subject, and a model's loss measured against it.
 * Lesson 16 (`tinybrain record ideal`, `tinybrain eval --kl`).
 *
 * The toyworld grammar knows, after every prefix, exactly which of its hidden states could
 * have produced it (the belief, from the forward algorithm of toyworld.h) and what comes
 * next (the true next-word distribution p).  That is everything a perfect predictor of
 * toyworld has to represent.  Recorded like a model's layers, it lets a student separate
 * "brain-like" from "task-optimal": compare the GPT, the spiking network and its scans with
 * the ideal observer as well as with each other.
 *
 * A model's expected loss on the next token splits exactly (tw_loss_split):
 *     E_{w~p}[-ln q(w)] = H(p) + KL(p || q),
 * the floor no model can beat plus what this model q gets wrong, token by token; here
 * averaged over the validation split, by position in the sentence and by construction
 * (the verb with no attractor noun between it and its subject, with one of the same
 * number, with one of the other number; and every other token).
 */
#ifndef TB_IDEAL_H
#define TB_IDEAL_H

#include "corpus.h"
#include "lm.h"
#include "lm_eval.h"
#include "rep.h"

/* ---- the ideal observer as a recording ---------------------------------------------------
 * Four layers, stimuli x columns (1 trial: the observer is deterministic):
 *   00_belief_mean  P(hidden state | prefix), mean over the stimulus's tokens (after the '.'
 *                   context, as `record --pool mean` pools a model)
 *   01_belief_last  the same after the stimulus's last word (before its final '.')
 *   02_next_mean    P(next word | prefix), mean over the tokens
 *   03_next_last    P(next word | the whole stimulus but its final '.')
 * Columns constant over the stimuli (states no stimulus reaches, words never predicted) are
 * left out; names[l] says what each kept column is (a state name of tw_state_name, or a word). */
#define IDEAL_N_LAYERS 4
typedef struct {
    rep_set rep;
    char **names[IDEAL_N_LAYERS];   /* [rep.layer[l].p] */
    int n_states, n_words;          /* columns before the constant ones were left out */
} ideal_rec;

/* The stimuli of `path` (one per line, or a .tsv's "sentence" column), each read after "."
 * and each a sentence of the grammar (an ungrammatical one has no belief: error naming it). */
int  ideal_record(const char *path, ideal_rec *out, char *err);
void ideal_rec_free(ideal_rec *r);
/* DIR/00_belief_mean.npy ... (float32, stimuli x columns), DIR/columns.tsv (layer, column,
 * name) and DIR/manifest.json, as rec_save writes a model's recording. */
int  ideal_save(const char *dir, const char *stimuli, const ideal_rec *r, char *err);

/* ---- a model's loss against the ideal observer ----------------------------------------------- */
enum { IDEAL_VERB_PLAIN, IDEAL_VERB_SAME, IDEAL_VERB_OTHER, IDEAL_OTHER, IDEAL_N_CON };
extern const char *const ideal_con_name[IDEAL_N_CON];   /* "verb, no attractor", ... */
extern const char *const ideal_con_key[IDEAL_N_CON];    /* "verb_no_attractor", ... (JSON) */

typedef struct {
    long tokens;
    double loss;     /* mean -ln q(the token that came), nats */
    double floor;    /* mean H(p): the entropy of the true next-word distribution */
    double kl;       /* mean KL(p || q) */
} ideal_cell;

typedef struct {
    ideal_cell all;
    ideal_cell pos[LM_EVAL_POSITIONS];   /* position in the sentence (0 = the first word; the last row: 15 and later) */
    ideal_cell con[IDEAL_N_CON];
} ideal_split;

/* The first lm_val_tokens(c, max_tokens) validation tokens of the toyworld corpus c, sentence
 * by sentence after "."; s must give logits (s->seq_logits). */
int  ideal_loss_split(const lm_scorer *s, const tb_corpus *c, long max_tokens, ideal_split *out, char *err);

#endif
