/* lm_eval.h -- how good is a trained language model?  (`eval`, lesson 08; ablations,
 * lesson 14.)
 *
 * The validation split is scored sentence by sentence, each sentence read after "." (the
 * convention of the true floor), through an lm_scorer (lm.h), so either model kind is
 * measured the same way:
 *   - the validation loss against the true entropy floor over exactly the tokens scored;
 *   - the loss by position in the sentence (0 = the first word after "."), model and floor;
 *   - minimal-pair accuracy (a pair is right when the grammatical sentence is more probable),
 *     with and without an attractor noun in between, and by phenomenon (the pairs file's
 *     fourth column: simple, pp_attractor, two_attractors, relative_subject,
 *     relative_object, filler_gap): formal competence;
 *   - fact recall (lm_fact_recall): the same test on pairs that differ in a named
 *     character's home or favourite food (fact_pairs.tsv): functional competence, scored
 *     apart from syntax.
 * Also here: the units an ablation zeroes, from `localize --out` or drawn at random.
 */
#ifndef TB_LM_EVAL_H
#define TB_LM_EVAL_H

#include "lm.h"

/* Rows of the position table: positions 0..14 one by one, 15 and later together. */
#define LM_EVAL_POSITIONS 16
/* Kinds of pair (phenomena) one file may hold; a file with more is an error. */
#define LM_EVAL_KINDS 16

/* The pairs of one phenomenon (or one kind of fact) and how many the model got right. */
typedef struct { char name[32]; int pairs; double acc; } lm_pair_kind;

typedef struct {
    long n_scored;                        /* validation tokens scored (whole sentences) */
    double val_loss;                      /* nats per token */
    double floor_nats;                    /* the true floor over the same tokens; NaN if unknown */
    int n_pos;                            /* rows of the position table; 0 without sentence ends */
    long pos_tokens[LM_EVAL_POSITIONS];   /* tokens scored at each position */
    double pos_loss[LM_EVAL_POSITIONS];   /* mean NLL there (NaN where no tokens) */
    double pos_floor[LM_EVAL_POSITIONS];  /* the floor there (NaN where unknown) */
    int pairs[3];                         /* minimal pairs scored: all, with attractor, without */
    double pair_acc[3];                   /* their accuracy (NaN when none) */
    int n_kinds;                          /* phenomena in the pairs file */
    lm_pair_kind kind[LM_EVAL_KINDS];     /* accuracy by phenomenon, in order of first appearance */
    int facts;                            /* fact-recall pairs scored (0: none) */
    double fact_acc;                      /* their accuracy (NaN when none) */
    int n_fact_kinds;
    lm_pair_kind fact_kind[LM_EVAL_KINDS];   /* by kind of fact (fact_home, fact_food) */
} lm_eval_result;

/* Score the first lm_val_tokens(c, max_tokens) validation tokens of c, and the minimal
 * pairs of pairs_tsv (NULL: none; needs a word tokenizer).  A validation loss that is not
 * finite is an error: a model whose weights diverged has nothing to report. */
int lm_evaluate(const lm_scorer *s, const tb_tokenizer *tok, const tb_corpus *c, long max_tokens,
                const char *pairs_tsv, lm_eval_result *r, char *err);

/* The syntax pairs of pairs_tsv alone (no validation loss): r->pair_acc, r->pairs and
 * the accuracy by phenomenon, r->kind (the rest of r is untouched). */
int lm_pairs_by_kind(const lm_scorer *s, const tb_tokenizer *tok, const char *pairs_tsv, lm_eval_result *r, char *err);

/* Fact recall: score the pairs of facts_tsv (good, bad, attractor, phenomenon; e.g.
 * data/toyworld/fact_pairs.tsv) like minimal pairs, into r->facts, r->fact_acc and
 * r->fact_kind (r as lm_evaluate left it; the rest is untouched). */
int lm_fact_recall(const lm_scorer *s, const tb_tokenizer *tok, const char *facts_tsv, lm_eval_result *r, char *err);

/* Unit indices in 0..n_units-1, one per line ('#' comments and blank lines skipped), as
 * `localize --out` writes them; at most n_units are kept.  *units malloc'd. */
int lm_read_units(const char *path, int n_units, int **units, int *n, char *err);
/* k distinct units of 0..n_units-1 drawn with seed (a partial Fisher-Yates shuffle): the
 * control for a targeted ablation.  *units malloc'd [k]. */
int lm_random_units(int n_units, int k, uint64_t seed, int **units, char *err);

/* ---- the tinkerer's readings (lesson 18) -------------------------------------------- */

/* The logit lens: for exit layer e = 0..L (0: the embedding), the GPT read out through
 * the final norm and head after block e -- blocks e..L-1 bypassed on the residual stream
 * (gpt_skip), on top of the caller's skip[n_skip] -- and scored like lm_evaluate into
 * rows[e] (rows[L+1]).  The caller's skip set is in place again afterwards. */
int lm_lens(gpt_model *m, const lm_scorer *s, const tb_tokenizer *tok, const tb_corpus *c, long max_tokens,
            const char *pairs_tsv, const int *skip, int n_skip, lm_eval_result *rows, char *err);

/* Work by token category while the GPT reads the validation split (gpt_usage): which
 * expert each position chose first and how many MLP hidden units were nonzero.  The
 * category of a position is the part of speech of the token read there (toyworld's
 * vocab.tsv; "all" for text corpora). */
typedef struct {
    int L, E, n_cat;        /* blocks, experts (0: dense), categories */
    const char **cat;       /* [n_cat] names (point into the corpus) */
    double positions;       /* positions scored */
    double *tokens;         /* [n_cat] positions of each category */
    double *active;         /* [L, n_cat] share of the block's k' H hidden units that were nonzero */
    double *expert;         /* [L, n_cat, E] share of the category's positions whose first choice was e */
    double *blocks;         /* [L] share of positions at which block l ran (skipped: 0) */
    double mean_active;     /* share of hidden units nonzero over every block that ran */
} lm_usage;
int  lm_usage_measure(gpt_model *m, const lm_scorer *s, const tb_corpus *c, long max_tokens, lm_usage *u, char *err);
void lm_usage_free(lm_usage *u);

#endif
