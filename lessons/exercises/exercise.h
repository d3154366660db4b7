/* exercise.h -- the functions lessons ask you to write, and the checkers' helpers.
 *
 * Each lessons/exercises/exNN_*.c holds one function for you to write (lesson NN explains
 * it); `make exercise-NN` builds your file into lessons/exercises/check_NN.c, which compares
 * it with tinybrain's own implementation (and, for gradients, with finite differences) on
 * named cases and prints which case fails and by how much.  `make exercise-NN SOLUTION=1`
 * checks the reference solution in lessons/exercises/solutions/ instead. */
#ifndef TB_EXERCISE_H
#define TB_EXERCISE_H

#include "neuron.h"
#include "stdp.h"

/* 02: one step of the LIF neuron (see the lesson for the exact update). */
int ex_lif_step(const nrn_lif *p, double *v, double *ref, double I, double dt);
/* 05: one time step of pair-based STDP with traces for n synapses onto one neuron. */
void ex_stdp_step(const stdp_rule *r, float *w, float *x, float *y, int n, float dx, float dy,
                  const int *pre, int post);
/* 06: one row of layer-norm backward: dx, dw, db from x, w and dy. */
void ex_layernorm_backward(const float *x, const float *w, const float *dy, int C, float eps,
                           float *dx, float *dw, float *db);
/* 07: one causal row of attention softmax backward: dz[0..t] from p[0..t] and dp[0..t]. */
void ex_attn_softmax_backward(const float *p, const float *dp, int t, float *dz);
/* 10: Spearman correlation of a[m] and b[m] (ties get their average rank). */
double ex_spearman(const double *a, const double *b, long m);
/* 11: linear CKA of X[n, px] and Y[n, py] (rows are stimuli). */
double ex_cka_linear(const double *X, int n, int px, const double *Y, int py);

/* ---- used by the checkers (check.c) --------------------------------------------------- */
/* Compare yours[n] with want[n]: passes when every |yours - want| <= tol (NaN never passes).
 * Prints "ok   CASE" or "FAIL CASE: ... differs by D at index i (yours A, reference B)". */
int ex_compare(const char *case_name, const char *what, const double *yours, const double *want,
               long n, double tol);
/* ex_compare on floats */
int ex_comparef(const char *case_name, const char *what, const float *yours, const float *want,
                long n, double tol);
/* Final line: "exercise NN: all K cases pass" or "exercise NN: F of K cases fail"; exit status. */
int ex_finish(const char *nn, int n_cases, int n_failed);
/* Uniform numbers in [-1, 1) from a fixed seed (the checkers' cases are reproducible). */
double ex_uniform(unsigned long long *state);

#endif
