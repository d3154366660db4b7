/* toyworld_priv.h -- what the files that write data/toyworld/ share privately
 * (toyworld_files.c: splits, vocabulary, probes, twins, stats; toyworld_pairs.c: the
 * minimal pairs by phenomenon and the fact-recall pairs).  The public face is
 * include/corpus.h (toyworld_write). */
#ifndef TB_TOYWORLD_PRIV_H
#define TB_TOYWORLD_PRIV_H

#include "toyworld.h"

#include <stddef.h>

/* Every file comes from its own random stream (rng_stream(seed, k)), so changing the
 * number of training sentences does not change the validation set or the probes. */
enum { STREAM_TRAIN = 1, STREAM_VAL, STREAM_PROBES, STREAM_SCRAMBLE, STREAM_NONWORDS,
       STREAM_PAIRS, STREAM_TWINS, STREAM_FACTS };

/* A growing text buffer; an allocation failure is remembered and reported at write. */
typedef struct { char *s; size_t n, cap; int oom; } sbuf;
void sb_add(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The words of w[n] separated by spaces. */
void sb_sentence(sbuf *b, const tw_model *m, const int *w, int n);
/* Write the buffer to dir/name (atomically) and empty it. */
int  sb_write(sbuf *b, const char *dir, const char *name, char *err);

/* A sampled sentence with what it is made of. */
typedef struct { int w[TW_MAX_LEN]; tw_parse p; } sent;
/* 1 if w[n] equals one of list[0..k). */
int  seen_before(const sent *list, int k, const int *w, int n);

/* minimal_pairs.tsv (n_pairs, cycling through the phenomena) and fact_pairs.tsv +
 * facts.tsv (n_facts) into dir. */
int  write_minimal_pairs(const tw_model *m, uint64_t seed, int n_pairs, const char *dir, char *err);
int  write_fact_pairs(const tw_model *m, uint64_t seed, int n_facts, const char *dir, char *err);

#endif
