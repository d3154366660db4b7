/* check_02.c -- your LIF step against nrn_step (src/snn/neuron.c), step by step. */
#include "exercise.h"

#include <stdio.h>
#include <string.h>

#define STEPS 2000

/* Run both for STEPS steps of constant current I; compare v traces and spike counts. */
static int run_case(const char *name, const nrn_lif *lif, double I, double dt, double v0) {
    nrn_params p;
    char err[TB_ERRLEN];
    if (nrn_params_default(&p, NRN_LIF, "", err)) { printf("FAIL %s: %s\n", name, err); return 1; }
    p.lif = *lif;
    nrn_state s;
    nrn_init(&p, &s);
    s.v = v0;
    double v = v0, ref = 0, vy[STEPS], vr[STEPS], ny = 0, nr = 0;
    for (int k = 0; k < STEPS; k++) {
        ny += ex_lif_step(lif, &v, &ref, I, dt);
        nr += nrn_step(&p, &s, I, dt);
        vy[k] = v;
        vr[k] = s.v;
    }
    if (ex_compare(name, "number of spikes", &ny, &nr, 1, 0)) return 1;
    return ex_compare(name, "membrane potential v (mV) over the steps", vy, vr, STEPS, 1e-9);
}

int main(void) {
    nrn_params d;
    char err[TB_ERRLEN];
    if (nrn_params_default(&d, NRN_LIF, "", err)) { printf("%s\n", err); return 1; }
    nrn_lif slow = d.lif, norefr = d.lif;
    slow.tau_m = 30;
    norefr.t_ref = 0;
    int n = 0, bad = 0;
    n++; bad += run_case("rest (I = 0 nA, v0 = -65 mV)", &d.lif, 0.0, 0.1, d.lif.v_rest);
    n++; bad += run_case("decay from v0 = -55 mV (I = 0)", &d.lif, 0.0, 0.1, -55);
    n++; bad += run_case("below rheobase (I = 1.4 nA)", &d.lif, 1.4, 0.1, d.lif.v_rest);
    n++; bad += run_case("tonic firing (I = 2 nA, dt 0.1 ms)", &d.lif, 2.0, 0.1, d.lif.v_rest);
    n++; bad += run_case("strong drive, refractory matters (I = 10 nA)", &d.lif, 10.0, 0.1, d.lif.v_rest);
    n++; bad += run_case("coarse step (I = 3 nA, dt 1 ms)", &d.lif, 3.0, 1.0, d.lif.v_rest);
    n++; bad += run_case("tau_m 30 ms (I = 2 nA)", &slow, 2.0, 0.1, d.lif.v_rest);
    n++; bad += run_case("no refractory period (I = 5 nA)", &norefr, 5.0, 0.1, d.lif.v_rest);
    return ex_finish("02", n, bad);
}
