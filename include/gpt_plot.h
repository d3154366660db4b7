/* gpt_plot.h -- looking inside a GPT: where each attention head looks (lesson 07).
 *
 * After gpt_forward() of one sequence (batch 1, T tokens) the attention weights of
 * every layer and head are there to read (gpt_tap GPT_TAP_ATTN_WEIGHTS); in head h of
 * layer l, row t is the token doing the looking (query) and column s the token looked
 * at (key); each row sums to 1 and causality leaves the upper triangle empty.
 *
 *     gpt_attention a;  char err[TB_ERRLEN];
 *     if (gpt_forward(&m, ids, NULL, 1, T, NULL, err) || gpt_attention_read(&m, T, &a, err)) ...
 *     gpt_plot_attention("plots/attention.png", &a, labels, "attention", err);
 *     gpt_attention_free(&a);
 */
#ifndef TB_GPT_PLOT_H
#define TB_GPT_PLOT_H

#include "gpt.h"

typedef struct {
    int L, NH, T;          /* layers, heads, tokens */
    const float **maps;    /* [L*NH] map of layer l, head h at l*NH + h: [T,T], inside the model */
    int *argmax_last;      /* [L*NH] the key the last query attends to most (ties: the first) */
} gpt_attention;
/* Valid until the model's next forward pass. */
int  gpt_attention_read(const gpt_model *m, int T, gpt_attention *a, char *err);
void gpt_attention_free(gpt_attention *a);
/* One heatmap panel per layer (rows of the grid) and head (columns), the tokens'
 * labels[T] on both axes, colour scale 0..1. */
int  gpt_plot_attention(const char *path, const gpt_attention *a, const char *const *labels,
                        const char *title, char *err);

#endif
