/* Exercise 02 (lesson 02): one time step of the leaky integrate-and-fire neuron.
 *
 *   tau_m dv/dt = -(v - v_rest) + R_m I
 *
 * For a current I held constant over the step, the exact solution is
 *   v(t + dt) = v_inf + (v(t) - v_inf) exp(-dt / tau_m),   v_inf = v_rest + R_m I.
 * Rules of the step, in this order:
 *   1. refractory: while more than half a step of refractory time is left
 *      (*ref > dt / 2), count it down by dt, hold v at v_reset, and report no spike;
 *   2. otherwise move v with the exact update above;
 *   3. if v >= v_th: spike -- v = v_reset, *ref = t_ref, return 1;  else return 0.
 * p->tau_m, p->r_m, p->v_rest, p->v_reset, p->v_th, p->t_ref are in ms, MOhm, mV; I in nA.
 *
 * Write the body, then run `make exercise-02`. */
#include "exercise.h"

#include <math.h>

int ex_lif_step(const nrn_lif *p, double *v, double *ref, double I, double dt) {
    /* your code: replace these lines */
    (void)p; (void)v; (void)ref; (void)I; (void)dt;
    return 0;
}
