/* corpus_plot.c -- the corpus tour's pictures (lesson 01): Zipf's law in the training
 * tokens, and the noun categories that meet in a sentence.  See include/corpus_plot.h. */
#include "corpus_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int corpus_plot_zipf(const tb_corpus *c, const char *dir, tb_picture *pic, char *err) {
    int V = c->tok.vocab_size, n = 0, rc = -1;
    double *x = malloc((size_t)V * sizeof *x), *y = malloc((size_t)V * sizeof *y);
    double *yz = malloc((size_t)V * sizeof *yz);
    if (!x || !y || !yz) { tb_fail(err, "out of memory"); goto done; }
    if (corpus_rank_frequencies(c, y, &n, err)) goto done;
    for (int i = 0; i < n; i++) {
        x[i] = i + 1;
        yz[i] = y[0] / (i + 1);
    }
    tb_series s[2] = {{"training tokens", x, y, n, "linespoints"},
                      {"Zipf: frequency ~ 1/rank", x, yz, n, "dashed"}};
    char title[300];
    snprintf(title, sizeof title, "Word frequencies in %s (train, %ld tokens)", c->name, c->n_train);
    tb_lineplot lp = {title, "rank (1 = most frequent token)", "relative frequency", 1, 1, NAN, NAN, 0, 0};
    rc = plot_lines_at(dir, "/corpus_zipf", &lp, s, 2, pic, err);
done:
    free(x); free(y); free(yz);
    return rc;
}

int corpus_plot_categories(const tb_corpus *c, const char *dir, tb_picture *pic, char *err) {
    tb_categories k;
    if (corpus_category_pairs(c, &k, err)) return -1;
    if (k.n == 0) { corpus_categories_free(&k); return tb_fail(err, "%s: no nouns in the vocabulary", c->name); }
    tb_heatmap h = {"Noun categories that meet in a sentence (toyworld train)", "category", "category",
                    k.names, k.names, 0.0, NAN, CMAP_VIRIDIS, "share of training sentences", 0};
    int rc = 0;
    if (snprintf(pic->path, sizeof pic->path, "%s/corpus_categories.png", dir) >= (int)sizeof pic->path)
        rc = tb_fail(err, "%s: path too long", dir);
    pic->rendered = 1;
    if (!rc) rc = plot_heatmap_png(pic->path, k.share, k.n, k.n, &h, err);
    corpus_categories_free(&k);
    return rc;
}
