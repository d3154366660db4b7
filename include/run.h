/* run.h -- one training run of either model kind: its state, its files, its loop.
 * Lessons 08 (`tinybrain train`, the GPT) and 09 (`tinybrain train-snn`, the spiking LM).
 *
 * A run is everything needed to continue exactly where it stopped: the model, the AdamW
 * moments and schedule, the data generator, the step, the loss log.  Its files:
 *   runs/NAME.ckpt               the last good state (saved at every validation and when
 *                                stopped); the model's checkpoint plus the keys below
 *   runs/NAME/step_NNNNNN.ckpt   snapshots at the --save-at steps (same content)
 *   runs/NAME.tsv                the loss log, one row per step (columns below)
 *   runs/NAME.lock               the run's owner: a second writer is refused
 *   plots/NAME_loss.png          train and validation loss against the floor and bigram
 *   plots/NAME_rate.png          spiking runs: mean firing rate against the regulariser's band
 *
 * The loop, one call per step (run_advance):
 *   1. snapshots asked for at this step are saved (before its training step);
 *   2. every eval_every steps, at the last step and when asked to stop: validation, then
 *      runs/NAME.ckpt and runs/NAME.tsv are written ("the last good checkpoint");
 *   3. one training step: B windows of T+1 tokens drawn at random from the training
 *      split (spiking runs on a sentence corpus start each window at an eos, the way
 *      sentences are scored), forward, backward, one AdamW step; a reservoir run's one
 *      "step" is the ridge fit of its readout.
 * A loss, validation loss, gradient norm or weight that is NaN or infinite stops the
 * run (run_advance fails naming which and where, and the last good checkpoint); no
 * checkpoint is ever written from such weights.
 *
 * Resuming (run_open with o.resume) continues bit for bit: the same steps follow as if
 * the run had never stopped (same thread count and kernels; threads.h).
 *
 * Checkpoint keys added to the model's and tokenizer's (in this order; the bytes are a contract:
 * tests/golden.sh):  AdamW moments (adam_m, adam_v, adam_t; optim.h), data_rng0..3,
 * step, batch, [spiking: ctx, train_seed], corpus, tokens, name, the AdamW settings
 * (optim.h), [spiking: rate_lambda, rate_lo_hz, rate_hi_hz], and the tensor train_log
 * [rows, 5] (step lr train val gnorm; spiking: 6, + rate), -1 for "none".  No wall-clock
 * time: identical runs give identical files (timings live in runs/NAME.tsv).
 * A continual run (--then) adds then_corpus then_at then_steps replay ewc, the tensor
 * forget_log [points, 4] (step val_a val_b pairs_a) and, once B has begun with EWC,
 * ewc_anchor and ewc_fisher [n_params]; an ordinary run's file has none of them.
 *
 * Continual learning (lesson 18, include/continual.h): with o.then_corpus the run trains
 * `steps` steps on `corpus` (A), then `then_steps` more on then_corpus (B, same tokenizer):
 * at step `steps`, after its validation and snapshots, EWC's Fisher information is
 * estimated on A (with ewc > 0), the corpora swap places (r->corp is always the one being
 * trained on, r->corp_other the other) and AdamW starts afresh (zero moments, warm-up and
 * cosine over then_steps).  While on B a share `replay` of every batch comes from A.
 * Every validation also scores the other corpus and A's minimal pairs (toyworld) into
 * r->forget; runs/NAME_forgetting.tsv and plots/NAME_forgetting.png show it.
 *
 * Usage (`tinybrain train` is this plus options and printing), inside a function:
 *     run_opts o;
 *     run_default_opts(&o, RUN_GPT);
 *     o.steps = 600;
 *     tb_run r;
 *     char err[TB_ERRLEN];
 *     if (run_check_opts(&o, err) || run_open(&r, &o, err)) return -1;
 *     int st;
 *     while ((st = run_advance(&r, 0, err)) == RUN_STEPPED)
 *         printf("step %lld: train loss %.3f\n", r.step, r.last_train);
 *     int rc = st == RUN_DONE ? run_write_tsv(&r, err) : -1;
 *     run_free(&r);
 *     return rc;
 */
#ifndef TB_RUN_H
#define TB_RUN_H

#include "continual.h"
#include "corpus.h"
#include "gpt.h"
#include "lm.h"
#include "optim.h"
#include "rng.h"
#include "srnn.h"
#include "tb.h"

typedef enum { RUN_GPT = 0, RUN_SRNN = 1 } run_kind;

/* ---- training defaults (the one table: run_default_opts, `train --help` and
 * `train-snn --help`; AdamW's own table is in optim.h) ------------------------------- */
#define RUN_GPT_NAME        "gpt"
#define RUN_GPT_STEPS       1200
#define RUN_GPT_BATCH       32      /* sequences of GPT_DEF_CTX tokens */
#define RUN_GPT_WARMUP      50      /* steps */
#define RUN_GPT_WD          ADAMW_DEF_WD
#define RUN_SRNN_NAME       "snn"
#define RUN_SRNN_STEPS      600
#define RUN_SRNN_BATCH      16      /* windows */
#define RUN_SRNN_CTX        32      /* tokens per window */
#define RUN_SRNN_WARMUP     20
#define RUN_SRNN_WD         0
#define RUN_CORPUS          "toyworld"
#define RUN_TOKENS          "word"
#define RUN_EVAL_EVERY      200     /* steps */
#define RUN_VAL_TOKENS      0       /* 0: the whole validation split */
#define RUN_STDP_TOKENS     0
#define RUN_RESERVOIR_TOKENS 0      /* 0: all training tokens */
#define RUN_THEN_STEPS      0       /* continual: steps on the second corpus (0: as many as --steps) */
#define RUN_REPLAY          0       /* share of each batch replayed from the first corpus */
#define RUN_EWC             0       /* EWC lambda (0: off) */
#define RUN_EWC_WINDOWS     64      /* windows of the first corpus for the Fisher estimate */
#define RUN_MAX_BATCH       4096
#define RUN_MAX_CTX         100000  /* spiking windows (the GPT's limit is GPT_MAX_CTX) */

/* ---- options ------------------------------------------------------------------------- */
typedef struct run_opts {
    run_kind kind;
    const char *resume;        /* a checkpoint to continue ("" or NULL: a new run) */
    /* Resuming, NULL name/corpus take the checkpoint's; the model, optimizer and batch
     * always come from it (steps too, unless run_set_steps changes them). */
    const char *name;          /* run name: RUNS/NAME.ckpt ... (plain, no '/') */
    const char *runs_dir;      /* RUNS, the folder of the run's files (NULL or "": runs) */
    int force;                 /* replace a run already saved as RUNS/NAME.ckpt */
    const char *corpus;        /* "toyworld" or a text file */
    const char *tokens;        /* text files: "word" | "char" */
    const char *data_dir;      /* the toyworld folder */
    const char *save_at;       /* snapshot steps, e.g. "0,50,200,final" ("" : none) */
    int steps;                 /* optimizer steps (a reservoir run takes 1) */
    int batch;                 /* B */
    int ctx;                   /* spiking: T tokens per window (the GPT's is gpt.ctx) */
    int eval_every;            /* validate and save every this many steps */
    long val_tokens;           /* validate on the first N tokens (0: all) */
    uint64_t seed;             /* initialisation, data order (spiking: and noise) */
    int scramble;              /* 1: train on the training sentences with their words shuffled
                                * (the "random sequences" control; corpus_scramble_train) */
    tb_adamw_cfg adamw;        /* total_steps is set from steps */
    gpt_config gpt;            /* RUN_GPT: the model (vocab_size and seed are set) */
    srnn_config srnn;          /* RUN_SRNN: the model (likewise) */
    srnn_train_opts rate;      /* RUN_SRNN: the rate regulariser */
    srnn_reservoir_opts reservoir;  /* RUN_SRNN, reservoir mode */
    const char *then_corpus;   /* continual learning: then train on this corpus ("" or NULL: no) */
    int then_steps;            /* steps on it (0: as many as steps) */
    double replay;             /* share of each batch from the first corpus while on the second */
    double ewc;                /* EWC lambda while on the second (0: off) */
} run_opts;

/* The defaults of a kind: the tables of gpt.h or srnn.h, optim.h and this file. */
void run_default_opts(run_opts *o, run_kind kind);
/* Usage errors, found before any work ("--save-at: ...", "n_head 3 does not divide
 * d_model 64", "--rate-lo 60 Hz is above --rate-hi 50 Hz"); a resumed run checks only
 * its name and snapshots here.  Suits exit status 2. */
int  run_check_opts(const run_opts *o, char *err);

/* ---- the loss log ----------------------------------------------------------------- */
/* One row per training step (spiking runs also log a validation at a step without a
 * training row, e.g. step 0); NaN: no value.  The TSV has every column of the kind
 * (the GPT's has no rate_hz); wall_s is seconds since the run began, summed over its
 * sessions (read back from the earlier runs/NAME.tsv when resumed). */
enum { RUN_STEP, RUN_LR, RUN_TRAIN, RUN_VAL, RUN_GNORM, RUN_RATE, RUN_WALL, RUN_NCOLS };
extern const char *const run_col_names[RUN_NCOLS];   /* "step" ... "rate_hz" "wall_s" */
typedef struct {
    double *row;               /* [n, RUN_NCOLS] */
    int n, cap;
} run_log;
#define RUN_LOG(g, i, c) ((g)->row[(size_t)(i) * RUN_NCOLS + (c)])
int  run_log_push(run_log *g, const double row[RUN_NCOLS], char *err);
void run_log_free(run_log *g);
/* Fill the wall_s of g's rows from the rows of the TSV at `path` with the same step;
 * rows without a match (or a missing file: returns 0) keep theirs.  -1 on a bad file. */
int  run_log_read_wall(run_log *g, const char *path, char *err);

/* ---- the run ---------------------------------------------------------------------- */
typedef struct tb_run {
    run_kind kind;
    gpt_model gpt;             /* RUN_GPT */
    srnn_model srnn;           /* RUN_SRNN */
    tb_adamw opt;              /* zero for a reservoir (no optimizer) */
    srnn_train_opts rate;
    srnn_reservoir_opts reservoir;
    lm_scorer sc;              /* validation; points into this struct (do not copy a run) */
    tb_corpus corp;
    tb_rng data;               /* draws the batch windows */
    uint64_t seed;
    int scramble;              /* the training words are shuffled within sentences */
    uint64_t scramble_seed;
    long long step, steps;     /* optimizer steps taken / to take */
    int batch, ctx;            /* B windows of T tokens */
    int eval_every;
    long val_tokens;
    long long *save_at;        /* [n_save] snapshot steps, -1: the final one */
    int n_save;
    char *name, *corpus_name, *tokens;
    char *runs_dir;                           /* RUNS (runs unless --runs-dir) */
    char *path_ckpt, *path_tsv, *dir_steps;   /* RUNS/NAME.ckpt, RUNS/NAME.tsv, RUNS/NAME */
    run_log log;
    /* what the loop has seen (NaN: not yet) */
    double last_train, last_val, ema;   /* ema: train loss smoothed over ~20 steps */
    double last_rate, val_rate;         /* spiking: Hz in the last batch / validation */
    double tokens_seen;                 /* training tokens read in this session */
    long long good_step;                /* the last good checkpoint (-1: none yet) */
    char *good_path;
    int resumed;
    int n_stale;               /* stale temporary files removed when the run opened */
    char note[TB_ERRLEN];      /* a warning from the last run_advance ("" : none) */
    /* continual learning (then_name NULL: an ordinary run) */
    char *then_name;           /* the second corpus */
    long long then_at;         /* the step at which it takes over */
    int phase;                 /* 0: on the first corpus, 1: on the second */
    tb_corpus corp_other;      /* the corpus not being trained on */
    double replay, ewc;
    float *ewc_anchor, *ewc_fisher;   /* [n_params] once the second corpus began with EWC */
    cl_log forget;             /* one point per validation */
    char *data_dir;
    /* private */
    int *x, *y;                /* [B, T] batch scratch */
    int have_corpus;
    int lock_fd;
    double t0, wall0;
} tb_run;

/* Open a new run or resume one: take runs/NAME.lock (refused while another process holds
 * it: "run 'gpt' is in use by process 1234 ..."), refuse to replace a run already saved as
 * runs/NAME.ckpt unless o->force (resuming may replace the checkpoint it resumes), remove
 * temporary files that killed runs of this name left (only those whose process is gone),
 * load the corpus, build or load the model and optimizer.  On failure nothing is left to
 * free. */
int  run_open(tb_run *r, const run_opts *o, char *err);
/* Resumed runs: change the number of steps (and the end of the cosine) to `steps`;
 * before the checkpoint's step is an error. */
int  run_set_steps(tb_run *r, long long steps, char *err);
/* Releases the lock. */
void run_free(tb_run *r);
/* Spiking runs: STDP on the input weights over the first n training tokens (before
 * step 0).  *used gets the tokens read, *mean_abs_dw the mean |change| of W_in. */
int  run_stdp(tb_run *r, long n, long *used, double *mean_abs_dw, char *err);

enum { RUN_FAILED = -1, RUN_DONE = 0, RUN_STEPPED = 1, RUN_STOPPED = 2 };
/* One turn of the loop above.  stop != 0 (Ctrl-C): validate and save at this step, then
 * RUN_STOPPED.  RUN_DONE at the last step, RUN_STEPPED after a training step, RUN_FAILED
 * with err on an error or divergence ("train loss became NaN at step 38: stopped; the last
 * good checkpoint is runs/gpt.ckpt (step 200)"). */
int  run_advance(tb_run *r, int stop, char *err);
/* Seconds since the run was opened (this session). */
double run_elapsed(const tb_run *r);
/* The model's weights, [*n] (either kind). */
const float *run_params(const tb_run *r, size_t *n);

/* ---- files -------------------------------------------------------------------------- */
/* The run's checkpoint (model, tokenizer, the keys above); refuses non-finite weights. */
int  run_save(const tb_run *r, const char *path, char *err);
int  run_write_tsv(const tb_run *r, char *err);
/* plots/NAME_loss.{dat,gp} (+ .png when gnuplot is there: *rendered = 1); nothing with fewer
 * than two logged steps (a 0-step run). */
int  run_plot_loss(const tb_run *r, int *rendered, char *err);
/* plots/NAME_rate.*: spiking runs with at least two training steps (*drawn = 0 otherwise). */
int  run_plot_rate(const tb_run *r, int *drawn, int *rendered, char *err);

/* A continual run's forgetting log: runs/NAME_forgetting.tsv and plots/NAME_forgetting.*
 * (*rendered = 1 with the PNG); nothing for an ordinary run. */
int  run_write_forgetting(const tb_run *r, int *rendered, char *err);

/* B windows of T+1 consecutive tokens of ids[n] at random offsets from rng:
 * x[b,t] = ids[s_b + t], y[b,t] = ids[s_b + t + 1].  eos >= 0: each start moves forward
 * to the next eos (if one comes before the end).  Needs n >= T + 2. */
void run_draw_batch(const int *ids, long n, int eos, tb_rng *rng, int *x, int *y, int B, int T);

#endif
