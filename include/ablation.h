/* ablation.h -- is a localized set of units special?  Lesson 14.
 *
 * Silencing the units a localizer picked and watching the loss rise says nothing alone:
 * silencing ANY set of that size raises the loss a little.  The localized set is
 * compared with many random sets of the same size at the same layer (Fedorenko-style
 * controls in AlKhamissi et al. 2025), and reported as a position in that distribution:
 *
 *   harm           how much worse the model gets: loss (higher = more harm), or an
 *                  accuracy (lower = more harm)
 *   percentile     % of random sets that did LESS harm than the localized set (ties half)
 *   p_value        one-sided: (1 + #{random sets with at least as much harm}) / (1 + N),
 *                  the chance of a random set doing as much harm as the localized one
 */
#ifndef TB_ABLATION_H
#define TB_ABLATION_H

#include "lm_eval.h"
#include "tb.h"
#include <stdint.h>

/* Random set `index` of k distinct units out of p, sorted ascending, into units[k]
 * (deterministic in seed and index). */
int abl_random_set(int p, int k, uint64_t seed, int index, int *units, char *err);

typedef struct {
    double median, p05, p95;   /* of the random sets' values (linear-interpolated quantiles) */
    double percentile;         /* 0..100, see above */
    double p_value;            /* one-sided, see above */
} abl_summary;

/* local: the localized set's value; random[n]: the random sets' values; higher_is_harm
 * = 1 for a loss, 0 for an accuracy. */
int abl_summarize(double local, const double *random, int n, int higher_is_harm, abl_summary *s, char *err);

/* The q-quantile (0..1) of x[n] with linear interpolation between order statistics
 * (numpy's default); x is not modified. */
double abl_quantile(const double *x, int n, double q);

/* The whole control for a GPT: the localized units[k] of residual layer `layer` zeroed,
 * then n_sets random sets of k units of the same layer (set i: abl_random_set(C, k,
 * seed, i)), each scored by lm_evaluate on the first max_tokens validation tokens and the
 * minimal pairs; the model is left intact.  progress (may be NULL) after each set. */
typedef struct {
    lm_eval_result local;          /* the localized set */
    int n_sets, k;
    double *random_loss;           /* [n_sets] val loss with each random set */
    double *random_acc;            /* [n_sets] minimal-pair accuracy with each */
    abl_summary loss, acc;         /* the localized set against them */
} abl_control;
int  abl_control_run(gpt_model *m, int layer, const int *units, int k, int n_sets, uint64_t seed, const lm_scorer *s,
                     const tb_tokenizer *tok, const tb_corpus *c, long max_tokens, const char *pairs,
                     void (*progress)(void *ctx, int done, int total), void *ctx, abl_control *out, char *err);
void abl_control_free(abl_control *a);

#endif
