/* lm.h -- a language model of either kind, seen from the outside (lessons 08, 09, 13).
 *
 * The GPT (gpt.h) and the spiking language model (srnn.h) are different machines, but
 * every comparison in tinybrain asks them the same questions: how many nats does each
 * next token cost (validation loss against the entropy floor), and which sentence of a
 * minimal pair is more probable.  An lm_scorer answers those through one function
 * pointer, so `eval`, `train`, `train-snn`, `record`, `compare` and `energy` score
 * either kind with the same code.  Also here: opening a checkpoint of either kind
 * (lm_open: model, tokenizer and scorer in one), loading a GPT checkpoint with its
 * tokenizer, and checking that two tokenizers are the same.
 */
#ifndef TB_LM_H
#define TB_LM_H

#include "corpus.h"
#include "gpt.h"
#include "io.h"
#include "srnn.h"
#include "tokenizer.h"

/* A language model seen from the outside: per-token NLL of a token sequence whose first
 * token is left context only (nll[0] = 0, nll[i] = -ln P(ids[i] | ids[0..i-1])). */
typedef struct {
    const char *kind;        /* checkpoint kind: "gpt", "srnn" */
    void *model;
    int (*seq_nll)(void *model, const int *ids, int n, float *nll, char *err);
    /* Optional fast path for a whole stream (see gpt_stream_nll); NULL: sentence by
     * sentence through seq_nll. */
    int (*stream_nll)(void *model, const int *ids, long n, int eos, float *nll, char *err);
    int ctx;                 /* longest sequence seq_nll accepts in one piece (0: any) */
    /* The next-token logits of one sequence: logits[n-1, V], row t scores the token after
     * ids[0..t] (softmax gives the model's distribution q).  NULL: not available. */
    int (*seq_logits)(void *model, const int *ids, int n, float *logits, char *err);
} lm_scorer;

/* The GPT behind an lm_scorer. */
void gpt_scorer(lm_scorer *s, gpt_model *m);
/* The spiking language model behind an lm_scorer. */
void srnn_scorer(lm_scorer *s, srnn_model *m);

/* A trained model of either kind, opened from its checkpoint with everything the study
 * commands need.  The scorer points into the struct: open it where it stays (do not copy
 * an open lm_model). */
typedef struct {
    char kind[16];        /* checkpoint kind: "gpt" (from train) or "srnn" (from train-snn) */
    char *path;           /* the checkpoint file */
    long long step;       /* training step stored in the checkpoint (-1 if none) */
    gpt_model gpt;        /* kind "gpt" */
    srnn_model snn;       /* kind "srnn" */
    tb_tokenizer tok;
    tb_ckpt ck;           /* the container, for its other keys ("corpus", "tokens") */
    lm_scorer scorer;     /* the model behind one interface */
} lm_model;

/* Open a checkpoint of any kind that can score text (errors name the file, and the kind
 * found when it is not a language model).  To teach tinybrain a new model kind: give it
 * an lm_scorer and add a line to the table `kinds` in lm.c. */
int  lm_open(const char *path, lm_model *m, char *err);
/* The checkpoint's model at initialisation: the same configuration and seed, fresh
 * weights (what its training started from; step 0).  The untrained baseline of lesson 13. */
int  lm_open_untrained(const char *path, lm_model *m, char *err);
void lm_close(lm_model *m);

/* Load a "gpt" checkpoint: model, tokenizer and (optionally, ck != NULL) the container
 * itself for the caller's extra keys.  Errors name the file. */
int gpt_load_file(const char *path, gpt_model *m, tb_tokenizer *tok, tb_ckpt *ck, char *err);

/* The tokenizer of a checkpoint must equal the corpus's ("vocabulary differs at id 7"). */
int tok_check_same(const tb_tokenizer *a, const tb_tokenizer *b, const char *what, char *err);

/* How many validation tokens a score over at most max_tokens reads: whole sentences, so
 * max_tokens is rounded up to the next sentence end (max_tokens <= 0: all of them). */
long lm_val_tokens(const tb_corpus *c, long max_tokens);

/* Mean NLL (nats/token) of the first lm_val_tokens(c, max_tokens) validation tokens;
 * nll[c->n_val] receives per-token values (may be NULL). */
int lm_val_loss(const lm_scorer *s, const tb_corpus *c, long max_tokens, float *nll, double *mean, char *err);

/* -ln P(text) under the model, the text read after eos (its left context), summed over
 * the text's tokens.  Needs a word tokenizer with the text's words. */
int lm_sentence_nll(const lm_scorer *s, const tb_tokenizer *tok, int eos, const char *text, double *total,
                    char *err);

/* Minimal pairs: a pair is right when -ln P(good) < -ln P(bad), each sentence read after
 * "." (its left context); a tie (the same probability) counts 1/2, so a model that cannot
 * tell the two apart scores chance, 0.5, not 0.  acc[0] all pairs, acc[1] with an attractor, acc[2] without;
 * n[3] the counts.  Needs a word tokenizer with the pairs' words. */
int lm_minimal_pairs(const lm_scorer *s, const tb_tokenizer *tok, const char *path, double acc[3], int n[3],
                     char *err);

#endif
