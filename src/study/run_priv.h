/* run_priv.h -- what the two files of a training run (run.c: opening, the loop; run_files.c:
 * checkpoint, log, TSV, plots) share privately.  The public face is include/run.h. */
#ifndef TB_RUN_PRIV_H
#define TB_RUN_PRIV_H

#include "io.h"
#include "run.h"

/* What differs between the two kinds of run, as data (the behaviour: run.c). */
typedef struct {
    const char *ckpt_kind;     /* "gpt" | "srnn" */
    const char *command;       /* "train" | "train-snn" (plot titles) */
    const char *default_name;  /* RUN_GPT_NAME | RUN_SRNN_NAME */
    int ckpt_cols;             /* train_log columns in the checkpoint: step..gnorm (+ rate) */
    int has_rate;              /* the log's rate_hz column is the kind's; a validation at a
                                  step without a training row adds a row */
} run_kind_info;
extern const run_kind_info run_kinds[2];

/* Restore the optimizer (allocated for the model's parameters), data generator, step,
 * batch, spiking keys and the log (rows up to the step) from a checkpoint of the run. */
int run_load_state(tb_run *r, const tb_ckpt *c, char *err);

/* Continual runs (run.c): open the second corpus with the run's settings; and (run_files.c)
 * their checkpoint keys and tensors, written only for a continual run, and read back on
 * resume (a checkpoint without then_corpus is an ordinary run: nothing happens). */
int run_then_open(tb_run *r, const char *then, const char *data_dir, long long then_at, long long then_steps,
                  double replay, double ewc, char *err);
int run_then_to_ckpt(const tb_run *r, tb_ckpt *c, char *err);
int run_then_load(tb_run *r, const tb_ckpt *c, const char *data_dir, char *err);
/* Swap the corpora: r->corp becomes the second (phase 1). */
void run_then_swap(tb_run *r);

#endif
