/* gpt_plot.c -- the attention maps of a GPT and their picture (lesson 07); see
 * include/gpt_plot.h. */
#include "gpt_plot.h"
#include "plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gpt_attention_read(const gpt_model *m, int T, gpt_attention *a, char *err) {
    memset(a, 0, sizeof *a);
    a->L = m->cfg.n_layer;
    a->NH = m->cfg.n_head;
    a->T = T;
    int np = a->L * a->NH;
    a->maps = malloc((size_t)np * sizeof *a->maps);
    a->argmax_last = malloc((size_t)np * sizeof *a->argmax_last);
    if (!a->maps || !a->argmax_last) { gpt_attention_free(a); return tb_fail(err, "out of memory"); }
    for (int l = 0; l < a->L; l++) {
        const float *A = gpt_tap(m, GPT_TAP_ATTN_WEIGHTS, l, NULL);   /* [NH,T,T] of batch row 0 */
        if (!A) { gpt_attention_free(a); return tb_fail(err, "no attention weights: run a forward pass first"); }
        for (int h = 0; h < a->NH; h++) {
            const float *map = A + (size_t)h * T * T, *row = map + (size_t)(T - 1) * T;
            int best = 0;
            for (int s = 1; s < T; s++) if (row[s] > row[best]) best = s;
            a->maps[l * a->NH + h] = map;
            a->argmax_last[l * a->NH + h] = best;
        }
    }
    return 0;
}

void gpt_attention_free(gpt_attention *a) {
    free(a->maps);
    free(a->argmax_last);
    memset(a, 0, sizeof *a);
}

int gpt_plot_attention(const char *path, const gpt_attention *a, const char *const *labels,
                       const char *title, char *err) {
    int np = a->L * a->NH;
    char (*titles)[48] = malloc((size_t)np * sizeof *titles);
    const char **tp = malloc((size_t)np * sizeof *tp);
    if (!titles || !tp) { free(titles); free(tp); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < np; i++) {
        snprintf(titles[i], sizeof titles[i], "layer %d head %d", i / a->NH, i % a->NH);
        tp[i] = titles[i];
    }
    tb_heatmap hm = {title, "key (looked at)", "query (looking)", labels, labels, 0.0, 1.0, CMAP_VIRIDIS,
                     "attention weight", 0};
    int rc = plot_heatmap_grid_png(path, a->maps, np, a->NH, a->T, a->T, tp, &hm, err);
    free(titles);
    free(tp);
    return rc;
}
