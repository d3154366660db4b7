/* neuron_measure.c -- what lessons 02 and 03 measure on one neuron: a recorded run with
 * its summary (rate, inter-spike intervals, adaptation, bursts) and the f-I curve. */
#include "neuron.h"
#include "io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nrn_record(const nrn_params *p, const nrn_stim *s, double dt, double t_ms, uint64_t seed,
               nrn_trace *tr, char *err) {
    memset(tr, 0, sizeof *tr);
    if (!(dt > 0) || !(t_ms > 0)) return tb_fail(err, "dt and the duration must be > 0 ms (got %g, %g)", dt, t_ms);
    tr->n = (long)(t_ms / dt + 0.5);
    tr->v = malloc((size_t)tr->n * sizeof *tr->v);
    tr->i = malloc((size_t)tr->n * sizeof *tr->i);
    tr->spike_ms = malloc((size_t)(tr->n + 1) * sizeof *tr->spike_ms);   /* at most one per step */
    if (!tr->v || !tr->i || !tr->spike_ms) { nrn_trace_free(tr); return tb_fail(err, "out of memory"); }
    if (nrn_simulate(p, s, dt, t_ms, seed, tr->v, tr->i, tr->spike_ms, (int)tr->n + 1, &tr->n_spikes, err)) {
        nrn_trace_free(tr);
        return -1;
    }
    return 0;
}

void nrn_trace_free(nrn_trace *tr) {
    free(tr->v);
    free(tr->i);
    free(tr->spike_ms);
    memset(tr, 0, sizeof *tr);
}

void nrn_summarize(const nrn_trace *tr, const nrn_stim *s, double t_ms, nrn_summary *out) {
    const double *t = tr->spike_ms;
    int ns = tr->n_spikes;
    double window = s->kind == STIM_STEP ? s->t_off - s->t_on : t_ms;
    out->spikes = ns;
    out->rate_hz = 1000.0 * ns / window;
    out->first_isi_ms = ns >= 2 ? t[1] - t[0] : NAN;
    out->last_isi_ms = ns >= 2 ? t[ns - 1] - t[ns - 2] : NAN;
    /* bursts: >= 2 spikes under 10 ms apart, after >= 20 ms of quiet (or at the start) */
    out->bursts = 0;
    for (int k = 1; k < ns; k++)
        if (t[k] - t[k - 1] < 10 && (k == 1 || t[k - 1] - t[k - 2] >= 20)) out->bursts++;
    double sum = 0, vmax = -1e9;
    for (long k = 0; k < tr->n; k++) {
        sum += tr->v[k];
        if (tr->v[k] > vmax) vmax = tr->v[k];
    }
    out->v_mean_mv = sum / tr->n;
    out->v_max_mv = vmax;
}

int nrn_write_spikes(const char *path, const nrn_trace *tr, char *err) {
    tb_atomic a;
    if (atomic_begin(&a, path, err)) return -1;
    fprintf(a.f, "spike\ttime_ms\n");
    for (int k = 0; k < tr->n_spikes; k++) fprintf(a.f, "%d\t%.4f\n", k, tr->spike_ms[k]);
    return atomic_commit(&a, err);
}

/* Rate (Hz) from the mean inter-spike interval of the spikes at or after settle_ms. */
static double settled_rate(const double *t, int ns, double settle_ms) {
    int first = -1, last = -1, count = 0;
    for (int k = 0; k < ns; k++)
        if (t[k] >= settle_ms) {
            if (first < 0) first = k;
            last = k;
            count++;
        }
    return count >= 2 ? 1000.0 * (count - 1) / (t[last] - t[first]) : 0;
}

int nrn_fi_curve(const nrn_params *p, double dt, double t_ms, uint64_t seed, const double *I, int n,
                 double *rate_hz, char *err) {
    if (!(dt > 0) || !(t_ms > 0)) return tb_fail(err, "dt and the duration must be > 0 ms (got %g, %g)", dt, t_ms);
    int cap = (int)(t_ms / dt) + 1;
    double *spk = malloc((size_t)cap * sizeof *spk);
    if (!spk) return tb_fail(err, "out of memory");
    nrn_stim c = {0};
    c.kind = STIM_CONST;
    double settle = fmin(100, t_ms / 5);   /* the rate is measured after a transient */
    for (int k = 0; k < n; k++) {
        c.amp = I[k];
        int ns = 0;
        if (nrn_simulate(p, &c, dt, t_ms, seed, NULL, NULL, spk, cap, &ns, err)) { free(spk); return -1; }
        rate_hz[k] = settled_rate(spk, ns < cap ? ns : cap, settle);
    }
    free(spk);
    return 0;
}
