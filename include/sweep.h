/* sweep.h -- train many models: every combination of varied flags x seeds, cached.
 * Lessons 15 and 17 (`tinybrain sweep`, the seed study of `compare --seeds`).
 *
 * A sweep is a plan: the model ("gpt" runs `tinybrain train`, "snn" runs `tinybrain
 * train-snn`), axes (--vary FLAG=v1,v2,... : any flag of that command), seeds 1..N and
 * flags given to every run.  Each run is one child process of the tinybrain binary, in
 * its own folder, so runs never mix their files:
 *
 *   ROOT/MODEL_HASH/cmd.txt        the command line (HASH: 12 hex digits of the config)
 *   ROOT/MODEL_HASH/train.json     the run's --json summary (written last: its presence
 *                                  means the run finished; a sweep re-run skips it)
 *   ROOT/MODEL_HASH/train.log      the run's messages
 *   ROOT/MODEL_HASH/runs/NAME.ckpt the trained model (NAME = gpt or snn), and its logs
 *
 * The config hash covers the model, every flag and value (sorted by flag) and the seed,
 * not --threads (results do not depend on the thread count; include/threads.h), so a
 * changed config never reuses a stale run.  Up to `jobs` children run at once.
 */
#ifndef TB_SWEEP_H
#define TB_SWEEP_H

#include "gpt.h"
#include "lm_eval.h"
#include "tb.h"

#define SWEEP_MAX_AXES 8
#define SWEEP_MAX_VALUES 32
#define SWEEP_MAX_LAYERS (GPT_MAX_LAYERS + 1)   /* the embedding and every block */

typedef struct {
    char flag[64];                       /* without "--" */
    int n;
    char value[SWEEP_MAX_VALUES][64];
} sweep_axis;

typedef struct {
    const char *exe;        /* the tinybrain binary to run */
    const char *model;      /* "gpt" or "snn" */
    const char *root;       /* folder of the run folders, e.g. runs/sweep */
    const char *data_dir;   /* toyworld folder (made absolute for the children) */
    int n_axes;
    sweep_axis axis[SWEEP_MAX_AXES];
    int n_extra;            /* flags for every run, e.g. {"--steps", "300"} */
    char **extra;
    int seeds;              /* seeds 1..seeds (unless "seed" is an axis) */
    int jobs;               /* children at once */
    int threads;            /* --threads of each child */
} sweep_plan;

typedef struct {
    char dir[1024];                        /* the run folder */
    char ckpt[1100];                       /* dir/runs/NAME.ckpt */
    const char *value[SWEEP_MAX_AXES];     /* this run's value on each axis (into the plan) */
    int seed;
    int cached;                            /* 1: finished in an earlier sweep */
    int status;                            /* 0 ok, else the child's exit status (or -1) */
    /* from train.json (NAN when absent) */
    double val_loss, floor_nats, excess_nats, minimal_pair_acc, minimal_pair_acc_attractor, mean_rate_hz;
    /* from sweep_measure (0 kinds, 0 layers, NaN when not measured) */
    int n_kinds;
    lm_pair_kind kind[LM_EVAL_KINDS];      /* minimal pairs by phenomenon */
    double fact_acc;                       /* fact recall (functional competence) */
    int n_layers;                          /* layers recorded on the brain's stimuli */
    char layer[SWEEP_MAX_LAYERS][32];      /* their names ("00_embed", ..., or "rates") */
    double rsa[SWEEP_MAX_LAYERS];          /* RSA (Spearman, correlation RDMs) with the brain */
    double cka_debiased[SWEEP_MAX_LAYERS]; /* debiased linear CKA with the brain */
    double rsa_untrained[SWEEP_MAX_LAYERS];/* the reference: the same network at step 0 */
} sweep_run;

/* "d-model=32,64,128" -> an axis.  Errors: no '=', no values, too many, a value too long. */
int sweep_parse_axis(const char *arg, sweep_axis *a, char *err);

/* Every combination (axes in order, seeds last), with run folders named by the hash and
 * `cached` set for runs that finished before.  *runs malloc'd (free()). */
int sweep_expand(const sweep_plan *p, sweep_run **runs, int *n, char *err);

/* Called after each run that had to be trained finishes (done of total). */
typedef void (*sweep_progress_fn)(void *ctx, int done, int total, const sweep_run *r);

/* Train every run that is not cached, `jobs` at a time, then read every run's summary.
 * A failed run is recorded in its status (its train.log says why); the call fails only
 * when nothing could be started.  interrupted (may be NULL) is polled: when it becomes
 * nonzero no new run starts. */
int sweep_execute(const sweep_plan *p, sweep_run *runs, int n, sweep_progress_fn cb, void *ctx,
                  volatile int *interrupted, char *err);

/* ---- measuring the trained runs -------------------------------------------------------
 * After training, every finished run's checkpoint is opened and scored in this process:
 * the minimal pairs by phenomenon (formal competence), fact recall (functional
 * competence) -- both for runs trained on toyworld, whose pairs they are -- and, given a brain, alignment layer by layer: the model is recorded on the
 * brain's stimuli (mean over each stimulus's tokens; lesson 13) and each layer compared
 * with the brain's trial mean by RSA and debiased CKA; the same network untrained (its
 * configuration and seed at step 0, lm_open_untrained) is compared too, as the reference
 * the trained numbers need.  The brain is a recording folder
 * or array (its first layer: rates.npy of `record SNN`; units constant across stimuli
 * are left out).  A layer whose comparison is undefined (a spiking run with a stimulus
 * silent in every neuron) gets NaN. */
typedef struct {
    const char *pairs;     /* minimal pairs TSV (NULL: none) */
    const char *facts;     /* fact pairs TSV (NULL: none) */
    const char *brain;     /* the brain's recording (NULL: no alignment) */
    const char *stimuli;   /* the stimuli the brain was recorded on, one per line */
    uint64_t seed;         /* recording noise of spiking runs */
} sweep_measure_opts;
int sweep_measure(const sweep_measure_opts *o, sweep_run *runs, int n, char *err);

/* Mean and 95% interval (Student t over seeds) of the values x[n] (NaNs skipped); with
 * fewer than 2 values the interval is NaN. */
void sweep_mean_ci(const double *x, int n, double *mean, double *lo, double *hi);
/* The 97.5% quantile of Student's t with df degrees of freedom (the half-width of a 95%
 * interval in standard errors; NaN for df < 1; within 0.005 of exact beyond df = 20). */
double sweep_t975(int df);

#endif
