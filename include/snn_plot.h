/* snn_plot.h -- pictures of neurons, networks and plasticity (lessons 02-05).
 *
 * Each function draws the pictures of one experiment under a file prefix (prefix
 * "plots/lif" gives plots/lif_trace.png, ...) and reports every file it wrote in a
 * tb_picture (plot.h) for the caller to tell the user.  Canvas pictures (traces,
 * rasters) are drawn by us; line plots go through gnuplot.  Nothing here prints.
 *
 *     nrn_trace tr;  tb_picture pic;  char err[TB_ERRLEN];
 *     if (nrn_record(&p, &stim, 0.1, 500, 1, &tr, err) ||
 *         nrn_plot_trace("plots/lif", &p, &tr, 0.1, "LIF, step input", &pic, err)) ...
 */
#ifndef TB_SNN_PLOT_H
#define TB_SNN_PLOT_H

#include "neuron.h"
#include "plot.h"
#include "snn.h"
#include "stdp.h"

/* PREFIX_trace.png: the membrane potential with spike ticks above it, and the input
 * current underneath (lessons 02, 03). */
int nrn_plot_trace(const char *prefix, const nrn_params *p, const nrn_trace *tr, double dt,
                   const char *title, tb_picture *pic, char *err);

/* PREFIX_fi: the f-I curve rate_hz[k] at I[k] (model units) from nrn_fi_curve(), with
 * the LIF formula beside it when p is a LIF.  label names the neuron ("izh RS"); dt
 * and t_ms are quoted in the title. */
int nrn_plot_fi(const char *prefix, const nrn_params *p, const char *label, double dt, double t_ms,
                const double *I, const double *rate_hz, int n, tb_picture *pic, char *err);

/* PREFIX_phase.png: the (v, u) phase plane of a two-variable model (Izhikevich, AdEx;
 * lesson 03): the trajectory of the recorded run (replayed from tr->i), the v- and
 * u-nullclines for the input I_on (the step's current) and, paler, the v-nullcline for
 * I_off (the current before the step), and a mark at every reset.  -1 for LIF and HH. */
int nrn_plot_phase(const char *prefix, const nrn_params *p, const nrn_trace *tr, double dt,
                   double I_on, double I_off, const char *title, tb_picture *pic, char *err);

/* The three pictures of a network run (lesson 04):
 *   PREFIX_raster.png  400 neurons (E and I in proportion) over the first raster_ms,
 *                      with the population rate underneath;
 *   PREFIX_rate        excitatory and inhibitory population rates in 5 ms bins;
 *   PREFIX_hist        histogram of single-neuron rates (1 Hz bins).
 * name labels the network in the titles ("cuba"). */
#define SNN_RUN_PICTURES 3
int snn_plot_run(const char *prefix, const char *name, const snn_config *cfg, const snn_result *res,
                 const snn_summary *sum, double raster_ms, tb_picture pics[SNN_RUN_PICTURES], char *err);

/* The three pictures of the STDP experiment (lesson 05):
 *   PREFIX_window        the measured window beside the rule's formula;
 *   PREFIX_weights       mean weight of pattern and other afferents over training;
 *   PREFIX_learning.png  latency of the first output spike in each pattern window, and
 *                        the final weight of every afferent.
 * rule_name ("additive") labels the window. */
#define STDP_PICTURES 3
int stdp_plot_run(const char *prefix, const char *rule_name, const stdp_window_result *win,
                  const stdp_pattern_cfg *pc, const stdp_pattern_result *res,
                  tb_picture pics[STDP_PICTURES], char *err);

#endif
