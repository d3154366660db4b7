/* study_priv.h -- what the study's measuring files share (study_measure.c, study_probe.c).
 * Not a public header: the study's public face is include/study.h. */
#ifndef TB_STUDY_PRIV_H
#define TB_STUDY_PRIV_H

#include "corpus.h"
#include "study.h"

typedef struct {
    char stimuli[1100], meta[1100], vocab[1100], pairs[1100], facts[1100], control[1100];
} study_paths;

/* The measuring session: options, and what the steps hand each other. */
typedef struct {
    const study_opts *o;
    const study_design *d;
    study_paths path;
    cmp_opts co;          /* every comparison's options (no permutations; design.boot resamples) */
    rep_set *gpt;         /* [r->n_gpt] each final GPT's recording (empty for the scrambled ones) */
    int *best;            /* [r->n_gpt] its best layer by RSA with its seed's network (-1: none) */
    rep_set *snn;         /* [seeds] the networks' firing rates (silent neurons left out) */
    double *ref_est;      /* [STUDY_N_REFS][seeds] each reference's RSA on all stimuli */
    double *ref_b;        /* [STUDY_N_REFS][seeds][boot] and on the shared resamples */
    tb_corpus corpus;     /* toyworld, for the ablations' validation loss */
    int have_corpus;
} study_ctx;

/* study_measure.c: every final GPT against its seed's network with compare's references
 * (S2, S3, S5 and the report's tables), then layer-by-layer CKA between seeds (S6). */
int study_measure_finals(study_ctx *c, study_result *r, char *err);
int study_measure_seed_pairs(study_ctx *c, study_result *r, char *err);
/* study_probe.c: the main model over training (S1, S7), its localized units ablated (S4),
 * the no-language population (S7) and the other references (ideal observer, two seeds,
 * the scanner). */
int study_measure_training(study_ctx *c, study_result *r, char *err);
int study_measure_ablation(study_ctx *c, study_result *r, char *err);
int study_measure_references(study_ctx *c, study_result *r, char *err);

/* Reference k of seed s: its RSA on all stimuli and (b != NULL) its resamples. */
void study_set_ref(study_ctx *c, int k, int s, double est, const double *b);
/* study_figures.c: the pictures into dir (each with its caption; ok = 0 when it could not
 * be drawn, e.g. gnuplot is missing: then script names the gnuplot script to render). */
enum { STUDY_PIC_TRAINING, STUDY_PIC_REFERENCES, STUDY_PIC_WIDTH, STUDY_PIC_ABL_LOSS, STUDY_PIC_ABL_PAIRS,
       STUDY_PIC_DEPTH, STUDY_PIC_SEEDS, STUDY_N_PICS };
typedef struct { char path[1200], script[1200], caption[600]; int ok; } study_pic;
int study_figures(const char *dir, const study_result *r, study_pic pic[STUDY_N_PICS], char *err);

/* The largest of v[n] (a model's best layer on a per-layer score); NaN when n is 0. */
double study_best(const double *v, int n);
/* Tell the progress hook (if any). */
void study_tell(const study_ctx *c, const char *stage, int done, int total);
/* The main model's seed s (1-based) in r->gpt, and its network's index. */
int  study_main(const study_result *r, int seed);

#endif
