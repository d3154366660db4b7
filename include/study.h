/* study.h -- the seed paper's experiment at toy scale, with a computed verdict per finding
 * (`tinybrain study`).  Lesson 17 ("Reproducing a paper at toy scale").
 *
 * AlKhamissi et al. (EMNLP 2025) ask how much language models resemble the human language
 * network, across training and model size.  Here the "brain" is a spiking network trained
 * on the same toyworld corpus; the study trains GPTs of several widths and depths, N seeds
 * each, with log-spaced snapshots, their controls (the step-0 weights; the same seed trained
 * on word-shuffled sentences) and one spiking network per seed, and tests seven findings:
 *
 *   S1  alignment rises early in training and tracks formal competence
 *   S2  untrained and scrambled-word controls align less than the trained model
 *   S3  size does not predict alignment once the number of features is fixed
 *   S4  ablating the localized language units hurts language more than random units
 *   S5  middle layers align best (layer profiles on relative depth 0..1)
 *   S6  two seeds of one model: layer l of one is most like layer l of the other (CKA)
 *   S7  alignment tracks formal more than functional competence; a population that hears
 *       no language aligns ~0
 *
 * The work, in four steps (one file each):
 *   study_train.c    the models, through the sweep library (sweep.h): cached run folders
 *                    under DIR/runs, so a re-run trains only what changed;
 *   study_measure.c  every number the findings need, with compare's references and
 *   study_probe.c    bootstrap resamples (compare.h, ablation.h, localize.h, ideal.h,
 *                    scan.h), into a study_data -- plus what the report shows;
 *   study_verdict.c  the findings: pure functions of a study_data (no file, no model), so a
 *                    test can feed numbers where a finding holds or fails by construction;
 *   study_report.c   DIR/report.md, DIR/report.html (self-contained, report.h), DIR/findings.tsv
 *   study_figures.c  and the pictures in DIR/plots.
 *
 * Alignment is Spearman RSA of a GPT layer with the network's firing rates (compare's rank
 * metric), except S3, which uses the encoding model's median r (the paper's linear
 * predictivity, the metric whose value grows with the number of features).  Intervals are
 * 95% percentile intervals of a hierarchical bootstrap: models (seeds) drawn with
 * replacement, and one stimulus resample shared by all of them (every model heard the same
 * stimuli, so their sampling error is shared).
 */
#ifndef TB_STUDY_H
#define TB_STUDY_H

#include "compare.h"
#include "tb.h"
#include <stdint.h>

/* ---- the verdicts ------------------------------------------------------------------ */

typedef enum { STUDY_REPRODUCED, STUDY_NOT_REPRODUCED, STUDY_CONTRARY, STUDY_UNTESTABLE, STUDY_N_VERDICTS } study_verdict;
extern const char *const study_verdict_name[STUDY_N_VERDICTS];   /* "reproduced", "not reproduced", ... */

#define STUDY_N_FINDINGS 7

/* The thresholds the verdicts use, fixed before any run (lesson 17 explains each). */
#define STUDY_EARLY_FRAC 0.10   /* S1: "early" = the last snapshot at or before 10% of training */
#define STUDY_S3_MARGIN 0.03    /* S3: |slope| below this (encoding r per doubling of width) is "no effect" */
#define STUDY_S4_PCT 95.0       /* S4: the localized set beyond this percentile of random sets */
#define STUDY_S7_FACTS 0.75     /* S7: fact recall must reach this (chance 0.5) to be correlated at all */
#define STUDY_S7_ZERO 0.05      /* S7: the no-language population's scores within +-this are "~0" */

typedef struct {
    const char *id;          /* "S1" ... "S7" */
    const char *claim;       /* the paper's claim */
    const char *statistic;   /* what is computed */
    const char *rule;        /* how the verdict follows from it */
    double value, ci_low, ci_high;   /* NaN when untestable */
    study_verdict verdict;
    char why[1024];          /* one sentence, built from the numbers */
} study_finding;

/* Every number the findings are decided on.  Arrays [a][b] are row-major; "boot" arrays
 * hold one value per stimulus resample (the same resamples everywhere: boot_scores with
 * one seed).  A finding whose inputs are missing (count 0) is untestable. */
typedef struct {
    int boot;                  /* stimulus resamples */
    /* S1, S7: the main model over training, per seed */
    int t_seeds, t_snaps;
    long long *t_step;         /* [t_snaps] training step of each snapshot */
    double *t_align;           /* [t_seeds][t_snaps] RSA of the final model's best layer with the seed's network */
    double *t_formal;          /* [t_seeds][t_snaps] minimal-pair accuracy (formal competence) */
    double *t_functional;      /* [t_seeds][t_snaps] fact recall (functional competence) */
    int t_early;               /* the early snapshot (index; < 1: none) */
    double *t_rise_b;          /* [t_seeds][boot] align(early) - align(step 0) per resample */
    /* S2: the main model's best layer and its controls' best layers, per seed */
    int c_seeds;
    double *c_trained, *c_untrained, *c_scrambled;        /* [c_seeds] on all stimuli */
    double *c_trained_b, *c_untrained_b, *c_scrambled_b;  /* [c_seeds][boot] */
    /* S3: final models of each width (one depth), best layer of each */
    int w_n;
    int w_units_k;             /* the fixed number of units */
    double *w_width;           /* [w_n] d_model */
    double *w_raw, *w_units;   /* [w_n] encoding r with every unit, and at w_units_k random units */
    /* S4: the main model per seed: val loss and minimal-pair accuracy with the localized set
     * zeroed, and with each random set of its size */
    int a_seeds, a_sets;
    double *a_loss, *a_acc;                /* [a_seeds] */
    double *a_loss_rand, *a_acc_rand;      /* [a_seeds][a_sets] */
    /* S5: final models with a middle layer; layer 0 = embedding, L = last block */
    int p_n;
    int *p_layers;             /* [p_n] layers (L + 1) */
    double **p_score;          /* [p_n] -> [L + 1] */
    double **p_score_b;        /* [p_n] -> [boot][L + 1] */
    /* S6: pairs of seeds of one configuration */
    int s_n;
    int *s_layers;             /* [s_n] layers (L + 1) */
    double **s_cka;            /* [s_n] -> [(L + 1)^2]: layer a of one seed (row) vs layer b of the other */
    double **s_cka_b;          /* [s_n] -> [boot][(L + 1)^2] */
    /* S7: the no-language population against the main model's best layer, per seed */
    int z_seeds;
    double *z_rsa, *z_rsa_lo, *z_rsa_hi;   /* [z_seeds] Spearman RSA and its bootstrap interval */
    double *z_cka_deb, *z_enc;             /* [z_seeds] debiased CKA, encoding r */
} study_data;
void study_data_free(study_data *d);

/* The seven findings from the numbers (deterministic in seed: the hierarchical bootstraps).
 * Never fails: a finding without its inputs is untestable and says which are missing. */
void study_decide(const study_data *d, uint64_t seed, study_finding f[STUDY_N_FINDINGS]);

/* The hierarchical bootstrap every interval uses: est[u] the statistic of unit u (a model,
 * a seed pair) on all stimuli, x[u * boot + b] on stimulus resample b.  *mean = the mean of
 * est; [*lo, *hi] the 95% percentile interval of the mean over `reps` draws of (units with
 * replacement, one resample b).  NaN values are skipped; all NaN gives NaN. */
void study_hboot(const double *est, const double *x, int n, int boot, int reps, uint64_t seed, double *mean,
                 double *lo, double *hi);
/* Ordinary least squares y = a + b x over n points: the slope b and its 95% interval
 * (Student t, n - 2 degrees of freedom); NaN with fewer than 3 points or one x. */
void study_slope(const double *x, const double *y, int n, double *b, double *lo, double *hi);

/* ---- the design ----------------------------------------------------------------------- */

#define STUDY_MAX_CONFIGS 8

typedef struct {
    int quick;
    int seeds;                 /* seeds of every configuration */
    int steps;                 /* GPT training steps (every configuration and control) */
    char save_at[256];         /* snapshot steps of every GPT (study_design_steps) */
    int n_widths, widths[STUDY_MAX_CONFIGS];   /* d_model values, at depth `depth` */
    int n_depths, depths[STUDY_MAX_CONFIGS];   /* layer counts, at width `width` */
    int width, depth;          /* the main model (and the scrambled control) */
    int snn_steps;             /* spiking networks' training steps */
    int units, units_repeats;  /* S3: the fixed number of units, random subsets */
    double loc_top;            /* S4: % of the last layer's units localized */
    int abl_sets;              /* S4: random sets (>= 100) */
    long abl_tokens;           /* S4: validation tokens scored per ablation */
    int boot;                  /* stimulus resamples */
    int trials;                /* spiking network: trials per stimulus */
    int scan;                  /* also scan each network (fMRI) and repeat S2 on the scans (1) */
} study_design;
/* quick: 2 seeds, widths 32 and 64 at depth 2, 800 steps (S7 cannot be tested: the facts
 * are not learned that early); full: 3 seeds, widths 32/64/128 at depth 2 and depths 2/4
 * at width 64, 3000 steps (fact recall reaches ~100%). */
void study_design_default(study_design *d, int quick);
/* Set the GPT's steps and its snapshots: 0, the log-spaced 10, 30, 100, 300, ... below half
 * the steps, 1/10 of the steps (S1's early snapshot), then 2/6 .. 5/6 of the steps (the
 * facts are learned late) and the final step, each rounded down to 10.
 * 3000 steps: 0,10,30,100,300,1000,1500,2000,2500,final; 800: 0,10,30,80,100,260,...,final. */
void study_design_steps(study_design *d, int steps);

/* ---- running it ------------------------------------------------------------------------- */

typedef void (*study_progress_fn)(void *ctx, const char *stage, int done, int total);

typedef struct {
    const char *out;           /* DIR: runs in DIR/runs, pictures in DIR/plots, the report in DIR */
    const char *exe;           /* the tinybrain binary (the training children) */
    const char *data_dir;      /* toyworld folder */
    int jobs;                  /* training processes at once */
    uint64_t seed;             /* bootstraps, trials, folds */
    study_progress_fn progress;
    void *ctx;
    volatile int *interrupted; /* polled between training runs (may be NULL) */
} study_opts;

/* One trained GPT of the study. */
typedef struct {
    int width, depth, seed, scrambled;
    int cached;                /* trained by an earlier run of the study */
    char dir[1024];            /* its sweep run folder */
    char ckpt[1100];           /* the final checkpoint */
    char snaps[1100];          /* its snapshots folder (step_*.ckpt) */
} study_model;

/* What the report shows beyond the findings: per final model, per layer. */
typedef struct {
    int model;                 /* index into study_result.gpt */
    int n_layers;              /* L + 1 */
    char (*layer)[256];
    double *rsa, *rsa_lo, *rsa_hi, *cka, *enc;   /* [n_layers] against the seed's network */
    double *enc_units, *enc_pca, *rsa_units;     /* [n_layers] at design.units units / components */
    int best;
    double val_loss, pair_acc, fact_acc;
} study_final;

/* Every score the main model's alignment is read against: RSA with the seed's network. */
enum { STUDY_REF_TRAINED, STUDY_REF_UNTRAINED, STUDY_REF_SCRAMBLED, STUDY_REF_LEXICAL, STUDY_REF_NOISE,
       STUDY_REF_NOLANG, STUDY_REF_IDEAL, STUDY_REF_SEED_GPT, STUDY_REF_SEED_SNN, STUDY_N_REFS };
extern const char *const study_ref_name[STUDY_N_REFS];   /* "trained GPT (best layer)", ... */
/* The rows of the scanner's repeat of S2 (study_result.scan_rsa). */
extern const char *const study_scan_name[4];

typedef struct {
    study_design design;
    int n_gpt;
    study_model *gpt;          /* every GPT: configurations x seeds, then the scrambled controls */
    int n_snn;
    char (*snn)[1100];         /* [seeds] the spiking networks' checkpoints */
    int trained;               /* runs trained now (the rest were cached) */
    study_data data;
    int *pair_gpt;             /* [data.s_n][2] the two GPTs (indices into gpt) of each S6 seed pair */
    study_finding finding[STUDY_N_FINDINGS];
    int n_stimuli;             /* probe sentences */
    int n_final;
    study_final *final;
    /* the references (mean over seeds, hierarchical 95% interval; the seed-to-seed rows
     * have no interval: NaN) */
    double ref[STUDY_N_REFS], ref_lo[STUDY_N_REFS], ref_hi[STUDY_N_REFS];
    double nolang_rate_hz;     /* mean firing rate of the no-language population, Hz */
    double ideal_gpt_rsa;      /* the main model's best layer against the ideal observer's best layer */
    int have_scan;
    /* against the fMRI scans of the networks: the trained model's, the untrained and the
     * scrambled control's best layers, and S2's statistic (trained - the better control) */
    double scan_rsa[4], scan_lo[4], scan_hi[4];
    double scan_ceiling;       /* the scans' within-subject (split-half) ceiling on r */
    int s4_k, s4_units;        /* S4: localized units, of the layer's */
    double train_s, measure_s, total_s;   /* wall-clock seconds */
    char report_md[1100], report_html[1100], findings_tsv[1100];
} study_result;

/* Train (cached), measure, decide, and write the report.  The CLI prints the findings. */
int  study_run(const study_design *d, const study_opts *o, study_result *r, char *err);
void study_result_free(study_result *r);

/* The steps (internal to the study files, public for the tests) */
int  study_train(const study_design *d, const study_opts *o, study_result *r, char *err);
int  study_measure(const study_opts *o, study_result *r, char *err);
int  study_write_report(const study_opts *o, study_result *r, char *err);
/* Index of the GPT (width, depth, seed, scrambled) in r->gpt, or -1. */
int  study_find(const study_result *r, int width, int depth, int seed, int scrambled);

#endif
