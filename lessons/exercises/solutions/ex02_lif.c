/* Exercise 02, reference solution (the same update as nrn_step in src/snn/neuron.c). */
#include "exercise.h"

#include <math.h>

int ex_lif_step(const nrn_lif *p, double *v, double *ref, double I, double dt) {
    if (*ref > 0.5 * dt) { *ref -= dt; *v = p->v_reset; return 0; }
    double v_inf = p->v_rest + p->r_m * I;
    *v = v_inf + (*v - v_inf) * exp(-dt / p->tau_m);
    if (*v >= p->v_th) { *v = p->v_reset; *ref = p->t_ref; return 1; }
    return 0;
}
