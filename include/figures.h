/* figures.h -- the study's pictures, drawn from the results of the study modules (lessons
 * 08, 10-15).  Each figure is one call; the commands only choose where it goes.
 *
 * Line plots go through plot_lines (plot.h): DIR/NAME.dat and DIR/NAME.gp always, and
 * DIR/NAME.png when gnuplot is installed (*rendered = 1; otherwise the caller tells the
 * user to run gnuplot on the script).  Heatmaps are PNGs we draw ourselves (PATH).
 */
#ifndef TB_FIGURES_H
#define TB_FIGURES_H

#include "compare.h"
#include "lm_eval.h"
#include "patch.h"
#include "work.h"

/* eval: the loss by position in the sentence, with the true floor when it is known;
 * `what` names the model and data in the title ("runs/gpt.ckpt, toyworld validation"). */
int fig_position_loss(const char *dir, const char *name, const char *what, const lm_eval_result *r, int *rendered,
                      char *err);
/* eval: the model's excess over the floor by position (model - floor), where the model
 * and the floor overlap too closely to see it; *drawn = 0 when the floor is unknown. */
int fig_position_excess(const char *dir, const char *name, const char *what, const lm_eval_result *r, int *drawn,
                        int *rendered, char *err);

/* localize: every unit's Welch t[p], the selected units idx[k] (k >= 1) and the threshold;
 * the title names the contrast. */
int fig_localizer_t(const char *dir, const char *name, const char *contrast, const double *t, int p, const int *idx, int k,
                    int *rendered, char *err);

/* align on folders: every metric of `families` (cmp_families) by comparison i = 0..n-1;
 * the similarities when there are any, otherwise the distances. */
int fig_metrics_by_layer(const char *dir, const char *name, const align_result *res, int n, int families,
                         const char *xlabel, int *rendered, char *err);
/* align --rdm-png: the RDMs of A and B side by side, each scaled by its own maximum
 * (rank-based RSA only cares about the order); labels[n] name the stimuli (may be NULL). */
int fig_rdm_pair(const char *path, const rep_layer *A, const rep_layer *B, rdm_kind kind, const char *const *labels,
                 char *err);

/* compare: the main similarities of each GPT layer against the network. */
int fig_compare_by_layer(const char *dir, const char *name, const cmp_result *r, int *rendered, char *err);
/* compare: RDMs of the best GPT layer, of the network and (with metadata) of the
 * subject-category model, stimuli sorted by subject then object category. */
int fig_compare_rdms(const char *path, const cmp_result *r, char *err);
/* compare --over-training: alignment and minimal-pair accuracy by training step. */
int fig_over_training(const char *dir, const char *name, const cmp_training *t, int *rendered, char *err);

/* energy: energy per token (with weight reads) against validation loss, per model kind. */
int fig_energy(const char *dir, const char *name, const work_row *rows, int n, int *rendered, char *err);

/* eval --lens: validation loss by exit layer (rows[n], n = L + 1) against the true floor
 * (rows' floor_nats, when known) and the bigram baseline (NaN: none). */
int fig_lens(const char *dir, const char *name, const lm_eval_result *rows, int n, double bigram, int *rendered,
             char *err);

/* patch: DIR/NAME_residual.png (layer x position role) and DIR/NAME_heads.png (block x
 * head) of the GPT; DIR/NAME_groups.png (neuron group x position role) of the network. */
int fig_patch_gpt(const char *dir, const char *name, const patch_gpt_result *r, char *err);
int fig_patch_snn(const char *dir, const char *name, const patch_snn_result *r, char *err);

#endif
