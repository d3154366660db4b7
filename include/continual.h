/* continual.h -- learning one language after another, and what is forgotten (lesson 18;
 * `train --then`, `train-snn --then`).
 *
 * A continual run trains on corpus A, then on corpus B (run.h).  Three ways to train on B:
 *   fine-tuning   B's batches only: the weights drift wherever B's gradient takes them;
 *   replay        a share of every batch drawn from A's training split (--replay 0.25);
 *   EWC           elastic weight consolidation (Kirkpatrick et al., PNAS 2017): a pull back
 *                 towards the weights theta* that A ended with, each weight held as
 *                 firmly as A's loss is sensitive to it,
 *                     L = L_B + (lambda / 2) sum_i F_i (theta_i - theta*_i)^2,
 *                 F_i the diagonal of the empirical Fisher information on A: the mean over
 *                 windows w of A's training text of (d L_w / d theta_i)^2, each window's own
 *                 gradient (a batch's mean gradient would average the signs away).
 * Forgetting is read on A's validation split in nats above A's exact floor, over B's
 * training, beside B's own excess and (toyworld) A's minimal-pair accuracy.
 */
#ifndef TB_CONTINUAL_H
#define TB_CONTINUAL_H

#include "tb.h"
#include <stddef.h>

/* EWC: returns (lambda / 2) sum_i F_i (theta_i - anchor_i)^2 and adds its gradient
 * lambda F_i (theta_i - anchor_i) to grad[i] (grad may be NULL). */
double ewc_penalty(const float *theta, const float *anchor, const float *fisher, size_t n, double lambda, float *grad);
/* fisher[i] += weight * grad[i]^2 (weight = 1 / number of windows). */
void   ewc_fisher_add(float *fisher, const float *grad, size_t n, double weight);

/* The forgetting log: one point per validation of a continual run. */
typedef struct {
    double step;          /* training step (B's steps follow A's) */
    double val_a, val_b;  /* nats per token on A's and B's validation splits */
    double pairs_a;       /* A's minimal-pair accuracy (NaN: not measured) */
} cl_point;
#define CL_NCOLS 4
typedef struct { cl_point *p; int n, cap; } cl_log;
int  cl_log_push(cl_log *g, const cl_point *pt, char *err);
void cl_log_free(cl_log *g);

/* path: step val_a excess_a val_b excess_b pairs_a (floors: the two corpora's). */
int  cl_write_tsv(const cl_log *g, double floor_a, double floor_b, const char *path, char *err);
/* DIR/NAME.png: A's and B's excess over their floors by step, a line where B begins. */
int  cl_plot(const cl_log *g, double floor_a, double floor_b, double then_at, const char *dir, const char *name,
             int *rendered, char *err);

#endif
