/* eval_tinker.h -- `eval`'s readings for the tinkerer's lab (lesson 18): skipped blocks,
 * the logit lens and the work by token category (eval_tinker.c). */
#ifndef TB_EVAL_TINKER_H
#define TB_EVAL_TINKER_H

#include "lm_eval.h"

typedef struct {
    const char *skip_list, *lens_name, *plots;
    int lens, usage;
    int *skip, n_skip;             /* parsed --skip-layers */
    lm_eval_result *lens_rows;     /* [L + 1] with --lens */
    lm_usage use;                  /* with --usage (or an MoE / sparse model) */
    int have_usage;
} tinker_eval;

/* Skip blocks, then (when asked) read the lens and the work by category; dies on bad usage. */
void tinker_run(tinker_eval *t, lm_model *m, const tb_corpus *c, long val_tokens, const char *pairs, int json);
void json_tinker(const tinker_eval *t, const lm_model *m);
void print_lens(const tinker_eval *t, const lm_model *m);
void print_usage_table(const lm_usage *u);
void tinker_free(tinker_eval *t);

#endif
