/* localizer.h -- the language localizer as an experiment (lesson 14): play a model
 * sentences and a control condition, take one layer's units, and say which contrast was
 * used.  The statistics are localize.h's; this is the part that records and names.
 *
 * The default control is the sentences' scrambled twins (data/toyworld/probes_scrambled
 * .txt: the same trained words in a shuffled order).  Nonword strings
 * (probes_nonwords.txt) are the classic control, but in a model their words were never
 * trained, so "sentences > nonwords" mostly finds units that tell trained embeddings
 * from untrained ones; scrambled twins hold the words fixed and vary only the order.
 */
#ifndef TB_LOCALIZER_H
#define TB_LOCALIZER_H

#include "rep.h"

typedef struct {
    const char *sentences;   /* one stimulus per line (default DATA/probes_sentences.txt) */
    const char *control;     /* the control stimuli (default DATA/probes_scrambled.txt) */
    int layer;               /* residual-stream layer (0 = embedding; -1: the last) */
    int pool_last;           /* 0: mean over a stimulus's tokens, 1: its last token */
} loc_opts;
void loc_opts_default(loc_opts *o);

/* Record both conditions from a GPT checkpoint at the chosen residual layer into S and C
 * (stimuli x units); layer_name (256 bytes) receives the layer's name. */
int loc_record(const char *ckpt, const loc_opts *o, rep_layer *S, rep_layer *C, char *layer_name, char *err);

/* The contrast in words, from the stimulus files (or, for arrays inside recording
 * folders, from their manifest.json): "sentences vs scrambled word lists (the same
 * words)", "sentences vs nonword strings", or the two file names. */
void loc_contrast(const char *sent_path, const char *ctrl_path, char *buf, size_t n);

#endif
