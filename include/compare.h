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
    const char *stimuli;  /* probe sentences, one per line (recorded on when a side is a checkpoint;
                           * their words make the lexical baseline) */
    const char *meta;     /* their metadata TSV for the model RDMs (NULL: none) */
    const char *vocab;    /* word metadata (word, pos) for the part-of-speech model RDM */
    const char *pairs;    /* minimal pairs TSV (over training) */
    int trials;           /* spiking network: trials per stimulus (fresh background noise) */
    int perm;             /* permutations for rsa_perm_p and cka_perm_p */
    int pool_last;        /* over a sentence's tokens: 0 = mean, 1 = the last token */
    uint64_t seed;        /* trial noise, permutations and folds */
    /* the references (lesson 13): */
    int baselines;        /* 1: compute the baselines, intervals and findings (cmp_opts_default) */
    const char *untrained_gpt;  /* NULL: the GPT checkpoint's initial weights; or a checkpoint/recording */
    const char *untrained_snn;  /* NULL: the spiking checkpoint's initial weights; or a checkpoint/recording */
    const char *scrambled;      /* a GPT trained with --scramble (checkpoint or recording); NULL: none */
    int boot;             /* bootstrap resamples of the stimuli for intervals and p_best (200) */
    boot_metric rank;     /* the metric that ranks layers and decides findings (rsa_spearman) */
    int pca;              /* > 0: every model-side representation reduced to K principal components */
    int twins;            /* the stimuli are same-words twins (2k, 2k+1): compare pair differences */
    int units, units_repeats;   /* > 0: also each model side at `units` random units, repeated */
    tb_progress progress; /* told while recording a spiking network and per GPT layer */
} cmp_opts;
void cmp_opts_default(cmp_opts *o);

typedef struct {
    char kind[16];        /* "gpt" or "srnn" */
    long long step;       /* the checkpoint's training step (-1 for a recording folder) */
    int dropped;          /* spiking network: neurons left out, constant on every stimulus */
    rep_set rep;          /* GPT: every layer; spiking network: one layer, its rates */
} cmp_side;

/* Record (checkpoint) or load (folder) one side; snn = 1 for the spiking network, whose
 * silent neurons are left out (a neuron that never fires has no geometry to compare). */
int  cmp_side_load(const char *path, int snn, const cmp_opts *o, cmp_side *s, char *err);
/* The same for the checkpoint's model at initialisation (lm_open_untrained). */
int  cmp_side_load_untrained(const char *path, int snn, const cmp_opts *o, cmp_side *s, char *err);

/* ---- references: what every score is read against -----------------------------------
 *   lexical        the bag of words of each stimulus (baselines.h) against the network
 *   noise          Gaussian noise of the first GPT layer's shape against the network
 *   untrained_gpt  the GPT at initialisation (its best layer) against the network
 *   untrained_snn  the trained GPT (its best layer) against the network at initialisation
 *   scrambled_gpt  a GPT trained on word-shuffled sentences (its best layer) against the network
 * "Best layer" is by the rank metric on all stimuli, for the baselines' layers as for the
 * GPT's.  Intervals: percentiles of `boot` bootstrap resamples of the stimuli, the same
 * resamples for every representation, so differences are paired resample by resample. */
enum { CMP_LEXICAL, CMP_NOISE, CMP_UNTRAINED_GPT, CMP_UNTRAINED_SNN, CMP_SCRAMBLED_GPT, CMP_N_BASE };
extern const char *const cmp_base_key[CMP_N_BASE];    /* "lexical", "noise", "untrained_gpt", ... */
extern const char *const cmp_base_name[CMP_N_BASE];   /* "bag of words", ... (tables) */

typedef struct {
    int available;         /* 0: not computed; why says so */
    char why[TB_ERRLEN];
    char layer[256];       /* model baselines: the layer reported */
    align_result res;      /* every metric (the _ci_ fields: bootstrap intervals) */
    double *score[2];      /* [boot] resample scores of rsa_spearman, cka_linear (owned) */
    double *rank_score;    /* [boot] of the rank metric (points to score[] or owned) */
} cmp_baseline;

/* A finding: a claim tested by a paired bootstrap difference, with a computed verdict. */
typedef struct {
    const char *id;        /* "beyond_words", "training_gpt", "training_snn", "grammar", "above_noise",
                            * "unique_variance", "best_layer" */
    const char *claim;     /* what would be true if the models resembled each other beyond chance */
    const char *metric;    /* the number compared */
    double a, b;           /* the GPT's best layer, and the reference */
    double diff, lo, hi;   /* a - b with its 95% interval (best_layer: p_best, lo = hi = NaN) */
    const char *verdict;   /* "supported", "contrary", "not distinguishable", "not available" */
    char text[1024];       /* one sentence built from the numbers */
} cmp_finding;
#define CMP_MAX_FINDINGS 8

/* Feature-count control (--units K): a representation at K random units, R times. */
typedef struct {
    int k, repeats;
    align_result mean, low, high;
} cmp_units;

typedef struct {
    cmp_side gpt, snn;
    int n_stimuli, n_layers;  /* n_layers: GPT layers */
    align_result *layer;      /* [n_layers] GPT layer l against the network */
    int best;                 /* the GPT layer with the largest rsa_spearman */
    int have_meta;            /* model RDMs computed (meta given) */
    stim_meta meta;           /* the stimuli's labels */
    double *tau;              /* [STIM_N_FEAT][n_layers + 1] Kendall tau-a with each model RDM;
                               * column n_layers is the network; NaN for an unknown feature */
    int twins;                /* the rows are twin differences (o->twins) */
    /* the references (when o->baselines): */
    int have_refs;
    boot_metric rank;         /* the metric that ranks (best is by it) */
    int boot;                 /* resamples */
    double *p_best;           /* [n_layers] bootstrap probability of being the best layer */
    double *score[2];         /* [boot * n_layers] rsa_spearman, cka_linear per resample and layer */
    double *rank_score;       /* [boot * n_layers] the rank metric's (points to score[] or owned) */
    cmp_baseline base[CMP_N_BASE];
    double *unique_r2_over_lexical;  /* [n_layers] median unique R^2 of the layer over the words */
    double *unique_r2_lexical;       /* [n_layers] median unique R^2 of the words over the layer */
    double *rsa_partial_lexical;     /* [n_layers] Spearman RSA with the lexical RDM partialled out */
    double unique_ci[2];             /* the best layer's unique R^2: interval over the network's units */
    char cca_note[TB_ERRLEN];       /* why the CCA family is NaN, or how it was computed */
    char twins_note[TB_ERRLEN];     /* twins: the GPT layers left out, and why ("" if none) */
    int n_findings;
    cmp_finding finding[CMP_MAX_FINDINGS];
    cmp_units *units;         /* [n_layers + CMP_N_BASE] with o->units (NULL otherwise) */
} cmp_result;

/* Both sides, every GPT layer against the network, the model RDMs and (o->baselines) the
 * references and findings. */
int  cmp_models(const char *gpt, const char *snn, const cmp_opts *o, cmp_result *r, char *err);
void cmp_result_free(cmp_result *r);
/* The references alone, on a result whose sides and layers are in place (cmp_models
 * calls it); gpt/snn: the paths the sides came from (their untrained copies). */
int  cmp_references(cmp_result *r, const char *gpt, const char *snn, const cmp_opts *o, char *err);
void cmp_references_free(cmp_result *r);
/* One representation against the brain B: every align metric, with the CCA family
 * cross-validated (NaN, and a note when note != NULL, where it is not identifiable). */
int  cmp_align_one(const rep_layer *A, const rep_layer *B, const cmp_opts *o, align_result *res, char *note, char *err);
/* The transforms every representation gets before comparison: twin differences
 * (o->twins) and, on the model side, PCA to o->pca components. */
int  cmp_prepare_layer(rep_layer *L, int model_side, const cmp_opts *o, char *err);
/* The same for every layer of s; with twins, a layer whose pair differences vanish up to
 * float rounding (sum of squares at most CMP_TWIN_VANISH of the layer's before the
 * differences, per pair) has nothing to compare and is left out, named in note[len]
 * (may be NULL).  A set keeps at least its last layer. */
#define CMP_TWIN_VANISH 1e-10
int  cmp_prepare_set(rep_set *s, int model_side, const cmp_opts *o, char *note, size_t len, char *err);
/* Tau-a of feature f for GPT layer l (l = n_layers: the network). */
double cmp_tau(const cmp_result *r, int f, int l);
/* Tables: layer x metric (cmp_shown, %.6g), and model RDM x layer. */
int  cmp_write_layers_tsv(const cmp_result *r, const char *path, char *err);
int  cmp_write_tau_tsv(const cmp_result *r, const char *path, char *err);

/* ---- over training -----------------------------------------------------------------
 * Every snapshot of each run against the other run's final snapshot, layer by layer (not
 * the best of the layers, which favours noisy snapshots), by RSA, CKA and the encoding
 * model, with the snapshot's minimal-pair accuracy; then, per layer and metric, how
 * alignment and accuracy move together across the snapshots: Pearson r with a bootstrap
 * interval over snapshots (few snapshots give wide intervals, and they say so). */
enum { CMP_T_RSA, CMP_T_CKA, CMP_T_ENC, CMP_T_METRICS };
extern const char *const cmp_t_key[CMP_T_METRICS];   /* "rsa_spearman", "cka_linear", "encoding_r_median" */

typedef struct {
    long long step;
    int n_layers;             /* GPT layers compared */
    double *score;            /* [n_layers * CMP_T_METRICS]: layer l, metric q at l * CMP_T_METRICS + q */
    double pair_acc;          /* minimal-pair accuracy of the snapshot */
} cmp_snapshot;

typedef struct {
    int n[2];             /* snapshots: [0] the GPT's, [1] the spiking network's */
    char **path[2];       /* [n] their step_*.ckpt files, in step order */
    cmp_snapshot *snap[2];
    rep_set final[2];     /* each run's last snapshot, recorded */
    int n_layers;         /* GPT layers */
    char (*layer_name)[256];
} cmp_training;

/* List both runs' snapshots and record their final ones. */
int  cmp_training_open(const char *gpt_dir, const char *snn_dir, const cmp_opts *o, cmp_training *t, char *err);
/* Score snapshot i of side (0 GPT, 1 SNN) against the other side's final snapshot. */
int  cmp_training_score(cmp_training *t, int side, int i, const cmp_opts *o, char *err);
void cmp_training_free(cmp_training *t);
int  cmp_training_write_tsv(const cmp_training *t, const char *path, char *err);
/* Across side's snapshots: Pearson r of layer l's metric q with minimal-pair accuracy
 * (NaN with fewer than 3 snapshots or a constant series), and its 95% interval from
 * `boot` resamples of the snapshots (NaN with fewer than CMP_T_MIN_CI snapshots: a
 * bootstrap of 3 or 4 points gives intervals that mean nothing; resamples with fewer
 * than 3 distinct snapshots are skipped). */
#define CMP_T_MIN_CI 6
void cmp_training_corr(const cmp_training *t, int side, int l, int q, int boot, uint64_t seed, double *r, double *lo,
                       double *hi);

/* ---- seeds (compare --seeds N) ------------------------------------------------------
 * One trained pair says little: two seeds of the same model already differ.  N seeds of
 * each model are trained (sweep.h: cached run folders under `root`), GPT seed k is
 * compared with network seed k with every reference, and every score is reported as a
 * mean with a 95% interval across seeds (Student t).  Each GPT seed has its own
 * scrambled-words control (the same seed trained with --scramble).  Beside it the model-to-model
 * reference: how alike two seeds of the GPT are (layer a of one vs layer b of the other)
 * and two seeds of the network -- what a cross-model score should be read against. */
enum { CMP_S_RSA, CMP_S_CKA, CMP_S_ENC, CMP_S_UNIQUE, CMP_S_METRICS };
extern const char *const cmp_s_key[CMP_S_METRICS];   /* "rsa_spearman", "cka_linear", "encoding_r_median",
                                                      * "unique_r2_over_lexical" */
typedef struct {
    int n, n_layers;                 /* seeds; GPT layers */
    char (*layer)[256];              /* [n_layers] */
    double *layer_score;             /* [n][n_layers][CMP_S_METRICS] */
    double *base_score;              /* [n][CMP_N_BASE][CMP_S_METRICS] (NaN: not available) */
    int n_findings;
    const char *finding_id[CMP_MAX_FINDINGS];
    int verdict_count[CMP_MAX_FINDINGS][4];  /* supported, contrary, not distinguishable, not available */
    int n_pairs;                     /* n (n - 1) / 2 */
    double *gpt_pair;                /* [n_pairs][n_layers][n_layers][2]: rsa, cka of layer a vs layer b */
    double *snn_pair;                /* [n_pairs][2] */
    char (*gpt_ckpt)[1100], (*snn_ckpt)[1100];   /* [n] the trained checkpoints */
    char (*scr_ckpt)[1100];          /* [n] GPT seeds trained on word-shuffled sentences (--scramble) */
} cmp_seeds;

typedef void (*cmp_progress_fn)(void *ctx, const char *what, int done, int total);

/* Train what is not cached (exe: the tinybrain binary, jobs children at once), compare,
 * and gather.  seeds >= 2. */
int  cmp_seeds_run(const cmp_opts *o, const char *exe, const char *root, int seeds, int jobs, cmp_progress_fn cb,
                   void *ctx, cmp_seeds *s, char *err);
void cmp_seeds_free(cmp_seeds *s);
/* Mean and 95% interval across seeds of layer l's metric m (or of baseline b's, b >= 0). */
void cmp_seeds_layer(const cmp_seeds *s, int l, int m, double *mean, double *lo, double *hi);
void cmp_seeds_base(const cmp_seeds *s, int b, int m, double *mean, double *lo, double *hi);
/* Over seed pairs: layer a of one GPT seed vs layer b of another (q: 0 RSA, 1 CKA), and
 * network vs network. */
void cmp_seeds_gpt_pair(const cmp_seeds *s, int a, int b, int q, double *mean, double *lo, double *hi);
void cmp_seeds_snn_pair(const cmp_seeds *s, int q, double *mean, double *lo, double *hi);

/* ---- brain regions of a scan (compare GPT SCAN; lesson 16) ----------------------------
 * A scan folder (`tinybrain scan`) holds a functional ROI (froi/: the voxels the
 * localizer picked) and a control region of the same size (control/); a group scan holds
 * one sub-NN/ folder of each per subject.  Every GPT layer is scored against both regions
 * of each subject (RSA, and the encoding model raw and divided by the region's own
 * within-subject ceiling), with the fROI - control difference in RSA and its paired
 * bootstrap interval over stimuli. */
typedef struct {
    char name[256];             /* "sub-01", or the scan folder */
    double ceiling[2];          /* froi, control: within-subject ceiling on r (NaN if unknown) */
    double *rsa[2], *enc[2];    /* [n_layers] froi, control */
    double *diff, *lo, *hi;     /* [n_layers] rsa(froi) - rsa(control) and its 95% interval */
} cmp_region_subject;

typedef struct {
    int n_subjects, n_layers;
    char (*layer)[256];         /* [n_layers] GPT layer names */
    cmp_region_subject *subject;
} cmp_regions;

/* 1 when path is a scan folder with regions: froi/ and control/, or sub-NN folders with them. */
int  cmp_is_scan(const char *path);
int  cmp_regions_run(const char *gpt, const char *scan, const cmp_opts *o, cmp_regions *out, char *err);
void cmp_regions_free(cmp_regions *r);

#endif
