/* compare.h -- comparing representations layer by layer, and brain meets model
 * (`align` on folders, `compare`; lessons 10-13 and 15).
 *
 * The metrics are align's (align.h); here is what a study does with them:
 *   - the catalogue: every number of an align_result described once (key, column header,
 *     family, kind of number with its direction, range, meaning), for tables and JSON;
 *   - cmp_layers: two representations compared pair by pair (a folder's every layer
 *     against a file, or two folders layer by layer);
 *   - cmp_models: a GPT against the spiking network.  Both hear the same probe sentences;
 *     every GPT layer is compared with the network by every metric (the GPT is the
 *     "model" side A, the network the "brain" side B: the encoding model predicts spike
 *     rates from GPT features, and the network's noisy trials give the noise ceiling),
 *     with permutation p-values; both are compared with the model RDMs of stimuli.h;
 *   - cmp_training_*: every snapshot of two training runs against the other model's
 *     final snapshot, with the snapshot's minimal-pair accuracy.
 * Inputs are checkpoints (recorded here, see recording.h) or recording folders (rep.h).
 */
#ifndef TB_COMPARE_H
#define TB_COMPARE_H

#include "align.h"
#include "rep.h"
#include "stimuli.h"

/* ---- the catalogue of metrics ------------------------------------------------------ */

enum { CMP_RSA = 1, CMP_CKA = 2, CMP_CCA = 4, CMP_PROC = 8, CMP_ENC = 16, CMP_STAT = 32 };

typedef struct {
    const char *key;    /* JSON and TSV key, e.g. "rsa_spearman" */
    const char *head;   /* short column header, e.g. "rsa_sp" */
    size_t off;         /* where the value lives in an align_result */
    int family;         /* CMP_RSA ... (| CMP_STAT for p-values) */
    const char *kind;   /* "similarity", "distance", "ceiling on r", "p-value" */
    const char *range, *what;
} cmp_metric;

#define CMP_N_METRICS 16   /* every number of an align_result */
#define CMP_N_SHOWN 12     /* the ones `compare` shows */
extern const cmp_metric cmp_metrics[CMP_N_METRICS];
extern const int cmp_n_metrics;  /* CMP_N_METRICS */
/* The metrics `compare` shows for a GPT layer against the network, in table order. */
extern const char *const cmp_shown[CMP_N_SHOWN];
extern const int cmp_n_shown;    /* CMP_N_SHOWN */

double cmp_value(const align_result *r, int metric);
/* Index of the metric called key, or -1. */
int    cmp_metric_index(const char *key);
/* The families an align_opts computes (CMP_RSA | ...). */
int    cmp_families(const align_opts *o);
/* The pair that does best by metric m: largest similarity, or smallest distance. */
int    cmp_best(const align_result *res, int n, int m);

/* ---- two representations, layer by layer ------------------------------------------ */

typedef struct {
    int n;                      /* comparisons */
    const rep_layer **a, **b;   /* [n] the layers compared (pointing into A and B) */
    align_result *res;          /* [n] */
} cmp_pairs;

/* A file against a file: one comparison; a folder against a file: each layer against
 * the file; two folders: layer i against layer i (they need as many layers).  Both sides
 * must hold the same stimuli.  Free with cmp_pairs_free. */
int  cmp_layers(const rep_set *A, const rep_set *B, const align_opts *o, cmp_pairs *out, char *err);
void cmp_pairs_free(cmp_pairs *p);

/* ---- brain meets model ------------------------------------------------------------- */

typedef struct {
    const char *stimuli;  /* probe sentences, one per line (recorded on when a side is a checkpoint) */
    const char *meta;     /* their metadata TSV for the model RDMs (NULL: none) */
    const char *vocab;    /* word metadata (word, pos) for the part-of-speech model RDM */
    const char *pairs;    /* minimal pairs TSV (over training) */
    int trials;           /* spiking network: trials per stimulus (fresh background noise) */
    int perm;             /* permutations for rsa_perm_p and cka_perm_p */
    int pool_last;        /* over a sentence's tokens: 0 = mean, 1 = the last token */
    uint64_t seed;        /* trial noise, permutations and folds */
    tb_progress progress; /* told while recording a spiking network and per GPT layer */
} cmp_opts;

typedef struct {
    char kind[16];        /* "gpt" or "srnn" */
    long long step;       /* the checkpoint's training step (-1 for a recording folder) */
    int dropped;          /* spiking network: neurons left out, constant on every stimulus */
    rep_set rep;          /* GPT: every layer; spiking network: one layer, its rates */
} cmp_side;

/* Record (checkpoint) or load (folder) one side; snn = 1 for the spiking network, whose
 * silent neurons are left out (a neuron that never fires has no geometry to compare). */
int  cmp_side_load(const char *path, int snn, const cmp_opts *o, cmp_side *s, char *err);

typedef struct {
    cmp_side gpt, snn;
    int n_stimuli, n_layers;  /* n_layers: GPT layers */
    align_result *layer;      /* [n_layers] GPT layer l against the network */
    int best;                 /* the GPT layer with the largest rsa_spearman */
    int have_meta;            /* model RDMs computed (meta given) */
    stim_meta meta;           /* the stimuli's labels */
    double *tau;              /* [STIM_N_FEAT][n_layers + 1] Kendall tau-a with each model RDM;
                               * column n_layers is the network; NaN for an unknown feature */
} cmp_result;

int  cmp_models(const char *gpt, const char *snn, const cmp_opts *o, cmp_result *r, char *err);
void cmp_result_free(cmp_result *r);
/* Tau-a of feature f for GPT layer l (l = n_layers: the network). */
double cmp_tau(const cmp_result *r, int f, int l);
/* Tables: layer x metric (cmp_shown, %.6g), and model RDM x layer. */
int  cmp_write_layers_tsv(const cmp_result *r, const char *path, char *err);
int  cmp_write_tau_tsv(const cmp_result *r, const char *path, char *err);

/* ---- over training ----------------------------------------------------------------- */

typedef struct {
    long long step;
    double rsa, cka;      /* best over GPT layers of rsa_spearman and cka_linear */
    double pair_acc;      /* minimal-pair accuracy of the snapshot */
} cmp_snapshot;

typedef struct {
    int n[2];             /* snapshots: [0] the GPT's, [1] the spiking network's */
    char **path[2];       /* [n] their step_*.ckpt files, in step order */
    cmp_snapshot *snap[2];
    rep_set final[2];     /* each run's last snapshot, recorded */
} cmp_training;

/* List both runs' snapshots and record their final ones. */
int  cmp_training_open(const char *gpt_dir, const char *snn_dir, const cmp_opts *o, cmp_training *t, char *err);
/* Score snapshot i of side (0 GPT, 1 SNN) against the other side's final snapshot. */
int  cmp_training_score(cmp_training *t, int side, int i, const cmp_opts *o, char *err);
void cmp_training_free(cmp_training *t);
int  cmp_training_write_tsv(const cmp_training *t, const char *path, char *err);

#endif
