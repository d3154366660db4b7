/* corpus_plot.h -- the pictures of the corpus tour (lesson 01), drawn by
 * `tinybrain corpus --stats` into a folder (plots/ by default).  Each reports the file
 * it wrote in a tb_picture (plot.h); nothing here prints. */
#ifndef TB_CORPUS_PLOT_H
#define TB_CORPUS_PLOT_H

#include "corpus.h"
#include "plot.h"

/* DIR/corpus_zipf: relative frequency of the training tokens against their rank
 * (log-log), beside Zipf's frequency ~ 1/rank. */
int corpus_plot_zipf(const tb_corpus *c, const char *dir, tb_picture *pic, char *err);
/* DIR/corpus_categories.png: which noun categories meet in a sentence
 * (corpus_category_pairs) as a heatmap.  Toyworld only. */
int corpus_plot_categories(const tb_corpus *c, const char *dir, tb_picture *pic, char *err);

#endif
