/* srnn_priv.h -- what the files of the spiking language model (srnn.c, srnn_train.c,
 * srnn_learn.c) share privately: the one-step simulator and its helpers.
 * The public face is include/srnn.h; lesson 09 explains the model. */
#ifndef TB_SRNN_PRIV_H
#define TB_SRNN_PRIV_H

#include "neuron.h"
#include "rng.h"
#include "srnn.h"

/* Background noise as a Bernoulli process over (step, neuron) cells, p per cell; the
 * gaps between events are geometric, so the cost is one draw per background spike. */
typedef struct {
    tb_rng rng;
    double p, log1mp;   /* p == 0: off */
    long long gap;      /* cells left before the next event */
} srnn_noise;
void srnn_noise_init(srnn_noise *nz, double p, uint64_t seed, uint64_t stream);
/* Add w to acc[i] for every neuron i that receives a background spike this step. */
void srnn_noise_step(srnn_noise *nz, float *acc, int N, float w);

/* A simulation of one sequence (inference: any neuron model, hard spikes). */
typedef struct {
    const srnn_model *m;
    nrn_params np;      /* Izhikevich / AdEx parameters */
    int substeps;       /* nrn_step calls per step */
    double i_unit;      /* model current per unit of drive */
    float *v, *s, *z, *cnt, *acc;   /* [N] */
    nrn_state *ns;      /* [N] (Izhikevich / AdEx) */
    int *idx, nidx;     /* neurons that spiked in the last step */
    srnn_noise noise;
    float noise_w;
    srnn_counters ctr;
} srnn_sim;

int  srnn_sim_init(srnn_sim *S, const srnn_model *m, char *err);
void srnn_sim_free(srnn_sim *S);
/* Back to rest; noise at probability p per neuron and step (weight w) from seed. */
void srnn_sim_reset(srnn_sim *S, double noise_p, float noise_w, uint64_t seed, uint64_t stream);
/* One step with input token tok; returns the number of spikes (S->idx lists them). */
int  srnn_sim_step(srnn_sim *S, int tok);
/* K steps of token tok; feat[N] gets the readout feature, counts[N] (may be NULL) the
 * spike counts of the window. */
void srnn_sim_token(srnn_sim *S, int tok, float *feat, float *counts);
/* Free the training scratch (srnn_free calls it). */
void srnn_work_release(srnn_model *m);

/* y <- ln(max(y, 0) + floor), element-wise (the reservoir's probability readout). */
void srnn_prob_link(float *y, size_t n, double floor);
/* logits[n, V] = feat[n, N] W_out^T + b_out (through srnn_prob_link when cfg.prob_floor > 0), then nll[i] = -ln softmax(logits[i])[y[i]]. */
void srnn_readout_nll(const srnn_model *m, const float *feat, const int *y, int n, float *logits, float *nll);

#endif
