/* Exercise 05 (lesson 05): one time step of pair-based STDP with exponential traces.
 *
 * n synapses onto one neuron; x[i] is synapse i's presynaptic trace, *y the neuron's
 * postsynaptic trace, w[i] the weights.  dx = exp(-dt/tau_plus), dy = exp(-dt/tau_minus)
 * are the per-step decay factors.  pre[i] = 1 when afferent i spikes in this step, post = 1
 * when the neuron does.  In this order:
 *   1. decay:  x[i] *= dx for every i;  *y *= dy
 *   2. each presynaptic spike i depresses, then bumps its trace:
 *        w[i] -= A_minus * y          (multiplicative rule: times (w[i] - w_min))
 *        clip w[i] to [w_min, w_max];  x[i] += 1
 *   3. a postsynaptic spike potentiates every synapse, then bumps y:
 *        w[i] += A_plus * x[i]        (multiplicative rule: times (w_max - w[i]))
 *        clip w[i] to [w_min, w_max];  *y += 1
 * r->a_plus, r->a_minus, r->w_min, r->w_max, r->multiplicative hold the rule.  Work in
 * float, as the arrays are (the checker allows 1e-6 of rounding).
 *
 * Write the body, then run `make exercise-05`. */
#include "exercise.h"

void ex_stdp_step(const stdp_rule *r, float *w, float *x, float *y, int n, float dx, float dy,
                  const int *pre, int post) {
    /* your code: replace these lines */
    (void)r; (void)w; (void)x; (void)y; (void)n; (void)dx; (void)dy; (void)pre; (void)post;
}
