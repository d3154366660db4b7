/* scan.c -- the virtual scanner's common part: configuration, the brain being measured,
 * the subject's cortical sheet and channel pooling, and the neural drive of a trial.
 * Lesson 16; the model is described at the top of include/scan.h.  The modalities live
 * in scan_fmri.c and scan_ecog.c, the across-subject ceiling in scan_ceiling.c. */
#include "scan.h"
#include "scan_priv.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------------------- */

void scan_default_config(scan_config *c, scan_modality m) {
    int fmri = m == SCAN_FMRI;
    *c = (scan_config){
        .modality = m, .seed = 1,
        .sheet_mm = 20.0, .coverage = 0.6, .topography = 0.8,
        .channels = fmri ? 32 : 16, .channel_mm = fmri ? 3.0 : 4.0,
        .trials = fmri ? 4 : 8,
        /* with the default spiking network: a within-subject ceiling near 0.78 on r for
         * either modality, and an across-subject fMRI ceiling near 0.35 with 4 subjects,
         * Brain-Score's Pereira2018 ceiling (lesson 16 measures both and says why) */
        .snr = 0.8,
        .tr_s = 2.0, .word_ms = 400.0, .isi_s = 4.0, .jitter_s = 2.0, .rest_s = 16.0,
        .ar = 0.4, .frac_ar = 0.5, .frac_drift = 0.2, .hp_cutoff_s = 128.0,
        .tau_ms = 4.0, .win_from_ms = 0.0, .win_to_ms = 0.0,
    };
}

uint64_t scan_session_seed(const scan_config *c) {
    return c->session ? rng_child_seed(c->seed, "session", c->session) : c->seed;
}

static const char *const modality_names[] = {"fmri", "ecog"};

const char *scan_modality_name(scan_modality m) { return (unsigned)m < 2 ? modality_names[m] : "?"; }

int scan_parse_modality(const char *s, scan_modality *out) {
    for (int i = 0; s && i < 2; i++)
        if (!strcmp(s, modality_names[i])) { *out = (scan_modality)i; return 0; }
    return -1;
}

/* lo < x <= hi (open_lo) or lo <= x <= hi, and finite. */
static int in_range(double x, double lo, double hi, int open_lo) {
    return isfinite(x) && (open_lo ? x > lo : x >= lo) && x <= hi;
}

int scan_check_config(const scan_config *c, char *err) {
    if (c->modality != SCAN_FMRI && c->modality != SCAN_ECOG) return tb_fail(err, "unknown modality %d", (int)c->modality);
    if (!in_range(c->sheet_mm, 0, 1000, 1)) return tb_fail(err, "--sheet %g mm: must be in (0, 1000]", c->sheet_mm);
    if (c->channels < 1 || c->channels > 100000) return tb_fail(err, "--channels %d: must be 1..100000", c->channels);
    if (!in_range(c->channel_mm, 0, 1000, 1)) return tb_fail(err, "--channel-mm %g mm: must be in (0, 1000]", c->channel_mm);
    if (!in_range(c->coverage, 0, 1, 1)) return tb_fail(err, "--coverage %g: must be in (0, 1]", c->coverage);
    if (!in_range(c->topography, 0, 1, 0)) return tb_fail(err, "--topography %g: must be in [0, 1]", c->topography);
    if (c->trials < 2 || c->trials > 1000) return tb_fail(err, "--runs/--repeats %d: must be 2..1000 (a ceiling needs 2)", c->trials);
    if (!in_range(c->snr, 0, 1e6, 1)) return tb_fail(err, "--snr %g: must be > 0", c->snr);
    if (c->modality == SCAN_FMRI) {
        if (!in_range(c->tr_s, 0, 20, 1)) return tb_fail(err, "--tr %g s: must be in (0, 20]", c->tr_s);
        if (!in_range(c->word_ms, 0, 1e5, 1)) return tb_fail(err, "--word-ms %g ms: must be > 0", c->word_ms);
        if (!in_range(c->isi_s, 0, 1e4, 0)) return tb_fail(err, "--isi %g s: must be >= 0", c->isi_s);
        if (!in_range(c->jitter_s, 0, c->isi_s, 0)) return tb_fail(err, "--jitter %g s: must be in [0, isi]", c->jitter_s);
        if (!in_range(c->rest_s, 0, 1e4, 0)) return tb_fail(err, "--rest %g s: must be >= 0", c->rest_s);
        if (!in_range(c->ar, 0, 0.99, 0)) return tb_fail(err, "--ar %g: must be in [0, 0.99]", c->ar);
        if (!in_range(c->frac_ar, 0, 1, 0) || !in_range(c->frac_drift, 0, 1, 0) || c->frac_ar + c->frac_drift > 1)
            return tb_fail(err, "--frac-ar %g and --frac-drift %g: shares in [0, 1] summing to at most 1", c->frac_ar, c->frac_drift);
        if (!in_range(c->hp_cutoff_s, 0, 1e6, 1)) return tb_fail(err, "--hp-cutoff %g s: must be > 0", c->hp_cutoff_s);
    } else {
        if (!in_range(c->tau_ms, 0, 1e4, 1)) return tb_fail(err, "--tau %g ms: must be > 0", c->tau_ms);
        if (!in_range(c->win_from_ms, 0, 1e7, 0)) return tb_fail(err, "--window-from %g ms: must be >= 0", c->win_from_ms);
        if (c->win_to_ms > 0 && c->win_to_ms <= c->win_from_ms)
            return tb_fail(err, "--window-to %g ms: must be after --window-from %g ms (or 0: the stimulus's end)", c->win_to_ms, c->win_from_ms);
    }
    return 0;
}

/* ---- the brain ------------------------------------------------------------------------ */

static int srnn_brain_run(const scan_brain *b, const int *ids, int n, uint64_t seed, float *spikes, char *err) {
    return srnn_spikes(b->model, ids, n, seed, b->noise_hz, spikes, err);
}

void scan_brain_srnn(scan_brain *b, const srnn_model *m, double noise_hz) {
    memset(b, 0, sizeof *b);
    b->neurons = m->N;
    b->steps_per_token = m->K;
    b->dt_ms = m->cfg.dt_ms;
    b->run = srnn_brain_run;
    b->model = m;
    b->noise_hz = noise_hz;
}

/* ---- the sheet and the channels -------------------------------------------------------- */

typedef struct { double v; int i; } ranked;
static int by_v_desc(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    return x->v > y->v ? -1 : x->v < y->v ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* Topography: the neurons, by score t z(key) + sqrt(1 - t^2) u, take the drawn positions
 * by distance from the centre (the highest score the nearest). */
static int place_by_key(const double *key, double topo, double L, tb_rng *g, scan_result *r) {
    int N = r->neurons;
    ranked *by_score = malloc((size_t)N * sizeof *by_score), *by_dist = malloc((size_t)N * sizeof *by_dist);
    double *xy = malloc(2 * (size_t)N * sizeof *xy);
    if (!by_score || !by_dist || !xy) { free(by_score); free(by_dist); free(xy); return -1; }
    double m = 0, v = 0, t = topo > 1 ? 1 : topo;
    for (int i = 0; i < N; i++) m += key[i] / N;
    for (int i = 0; i < N; i++) v += (key[i] - m) * (key[i] - m) / N;
    double sd = v > 0 ? sqrt(v) : 1;
    for (int i = 0; i < N; i++) {
        double dx = r->neuron_xy[2 * i] - L / 2, dy = r->neuron_xy[2 * i + 1] - L / 2;
        by_score[i] = (ranked){t * (key[i] - m) / sd + sqrt(1 - t * t) * rng_normal(g), i};
        by_dist[i] = (ranked){-(dx * dx + dy * dy), i};   /* nearest first under a descending sort */
    }
    qsort(by_score, (size_t)N, sizeof *by_score, by_v_desc);
    qsort(by_dist, (size_t)N, sizeof *by_dist, by_v_desc);
    memcpy(xy, r->neuron_xy, 2 * (size_t)N * sizeof *xy);
    for (int j = 0; j < N; j++) {
        r->neuron_xy[2 * by_score[j].i] = xy[2 * by_dist[j].i];
        r->neuron_xy[2 * by_score[j].i + 1] = xy[2 * by_dist[j].i + 1];
    }
    free(by_score); free(by_dist); free(xy);
    return 0;
}

/* Neurons uniform on the sheet; channel centres on a grid over the covered square;
 * Gaussian pooling weights and their summaries.  wT[N, C] gets the weights transposed. */
static int lay_out(const scan_config *c, const double *key, scan_result *r, double *wT) {
    int N = r->neurons, C = r->channels;
    double L = c->sheet_mm, side = L * sqrt(c->coverage), o = (L - side) / 2;
    tb_rng g;
    rng_stream(&g, c->seed, SCAN_STREAM_LAYOUT);
    for (int i = 0; i < 2 * N; i++) r->neuron_xy[i] = L * rng_uniform(&g);
    if (key && c->topography > 0 && place_by_key(key, c->topography, L, &g, r)) return -1;
    int gx = (int)ceil(sqrt((double)C)), gy = (C + gx - 1) / gx;
    double sigma = c->channel_mm / (2.0 * sqrt(2.0 * log(2.0)));
    for (int ch = 0; ch < C; ch++) {
        double cx = o + (ch % gx + 0.5) * side / gx, cy = o + (ch / gx + 0.5) * side / gy;
        r->chan_xy[2 * ch] = cx;
        r->chan_xy[2 * ch + 1] = cy;
        double s1 = 0, s2 = 0;
        for (int i = 0; i < N; i++) {
            double dx = r->neuron_xy[2 * i] - cx, dy = r->neuron_xy[2 * i + 1] - cy;
            double w = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
            r->pool[(size_t)ch * N + i] = w;
            wT[(size_t)i * C + ch] = w;
            s1 += w;
            s2 += w * w;
        }
        r->chan_weight[ch] = s1;
        r->chan_neff[ch] = s2 > 0 ? s1 * s1 / s2 : 0;
    }
    return 0;
}

void scan_set_sd(scan_result *out, const double *sum, const double *sum2, double n, double snr) {
    double ms = 0;
    for (int c = 0; c < out->channels; c++) {
        double mean = sum[c] / n, var = sum2[c] / n - mean * mean;
        out->chan_sd[c] = var > 0 ? sqrt(var) : 0;
        ms += out->chan_sd[c] * out->chan_sd[c] / out->channels;
    }
    out->signal_sd = sqrt(ms);
    out->noise_sd = out->signal_sd / snr;
}

/* ---- the neural drive of one trial -------------------------------------------------------- */

int scan_drive_alloc(scan_drive *dr, const rec_stimuli *s, int K, int C, const double *wT, char *err) {
    memset(dr, 0, sizeof *dr);
    dr->n = s->n;
    dr->C = C;
    dr->K = K;
    dr->wT = wT;
    dr->off = malloc((size_t)(s->n + 1) * sizeof *dr->off);
    if (!dr->off) return tb_fail(err, "out of memory");
    dr->off[0] = 0;
    for (int i = 0; i < s->n; i++) dr->off[i + 1] = dr->off[i] + (size_t)(s->len[i] - 1) * K;
    dr->d = malloc((dr->off[s->n] ? dr->off[s->n] : 1) * (size_t)C * sizeof *dr->d);
    if (!dr->d) { scan_drive_free(dr); return tb_fail(err, "out of memory for the drive of %d stimuli", s->n); }
    return 0;
}

void scan_drive_free(scan_drive *dr) {
    free(dr->off);
    free(dr->d);
    memset(dr, 0, sizeof *dr);
}

typedef struct {
    const scan_brain *b;
    const rec_stimuli *s;
    scan_drive *dr;
    uint64_t seed;
    int trial, maxlen;
    int *fail;
    char (*errs)[TB_ERRLEN];
} drive_ctx;

/* Stimuli task*n/ntasks .. : simulate, then drive[step, c] = sum over spiking i of wT[i, c]. */
static void drive_task(void *vctx, int task, int ntasks) {
    drive_ctx *x = vctx;
    const scan_brain *b = x->b;
    int N = b->neurons, K = b->steps_per_token, C = x->dr->C, n = x->s->n;
    float *spk = malloc((size_t)x->maxlen * K * N * sizeof *spk);
    if (!spk) { x->fail[task] = 1; snprintf(x->errs[task], TB_ERRLEN, "out of memory"); return; }
    for (int i = n * task / ntasks; i < n * (task + 1) / ntasks; i++) {
        tb_rng g;
        rng_stream(&g, x->seed, SCAN_STREAM_NEURAL(x->trial, i));
        if (b->run(b, x->s->ids[i], x->s->len[i], rng_u64(&g), spk, x->errs[task])) { x->fail[task] = 1; break; }
        double *d = x->dr->d + x->dr->off[i] * C;
        size_t steps = x->dr->off[i + 1] - x->dr->off[i];
        memset(d, 0, steps * C * sizeof *d);
        for (size_t q = 0; q < steps; q++) {
            const float *row = spk + (q + (size_t)K) * N;   /* skip token 0's K steps */
            for (int j = 0; j < N; j++)
                if (row[j] != 0.0f)
                    for (int c = 0; c < C; c++) d[q * C + c] += row[j] * x->dr->wT[(size_t)j * C + c];
        }
    }
    free(spk);
}

int scan_drive_trial(const scan_brain *b, const rec_stimuli *s, uint64_t seed, int t, scan_drive *dr, char *err) {
    int maxlen = 0;
    for (int i = 0; i < s->n; i++) maxlen = s->len[i] > maxlen ? s->len[i] : maxlen;
    int nt = tb_threads() * 4;
    if (nt > s->n) nt = s->n;
    int *fail = calloc((size_t)nt, sizeof *fail);
    char (*errs)[TB_ERRLEN] = calloc((size_t)nt, sizeof *errs);
    if (!fail || !errs) { free(fail); free(errs); return tb_fail(err, "out of memory"); }
    drive_ctx x = {b, s, dr, seed, t, maxlen, fail, errs};
    tb_parallel(nt, drive_task, &x);
    int rc = 0;
    for (int k = 0; k < nt && !rc; k++)
        if (fail[k]) rc = tb_fail(err, "%s", errs[k]);
    free(fail);
    free(errs);
    return rc;
}

/* ---- one subject ------------------------------------------------------------------------ */

void scan_free(scan_result *r) {
    free(r->resp);
    free(r->resp_clean);
    free(r->chan_xy);
    free(r->chan_weight);
    free(r->chan_neff);
    free(r->chan_sd);
    free(r->pool);
    free(r->neuron_xy);
    free(r->n_scans);
    free(r->order);
    free(r->onset_s);
    free(r->dur_s);
    free(r->bold);
    free(r->tc_token);
    free(r->tc);
    memset(r, 0, sizeof *r);
}

static int check_inputs(const scan_brain *b, const rec_stimuli *s, char *err) {
    if (!b->run || b->neurons < 1 || b->steps_per_token < 1 || !(b->dt_ms > 0))
        return tb_fail(err, "the brain to scan is not set up (neurons %d, steps per token %d, dt %g ms)", b->neurons,
                       b->steps_per_token, b->dt_ms);
    if (s->n < 3) return tb_fail(err, "%d stimuli; a scan needs at least 3", s->n);
    for (int i = 0; i < s->n; i++)
        if (s->len[i] < 2) return tb_fail(err, "stimulus %d has no token after its context", i);
    return 0;
}

int scan_subject(const scan_brain *b, const rec_stimuli *s, const scan_config *c, scan_result *out, char *err) {
    memset(out, 0, sizeof *out);
    if (scan_check_config(c, err) || check_inputs(b, s, err)) return -1;
    int N = b->neurons, C = c->channels, T = c->trials, n = s->n;
    out->modality = c->modality;
    out->trials = T;
    out->stimuli = n;
    out->channels = C;
    out->neurons = N;
    size_t resp = (size_t)T * n * C;
    out->resp = calloc(resp, sizeof(double));
    out->resp_clean = calloc(resp, sizeof(double));
    out->chan_xy = calloc(2 * (size_t)C, sizeof(double));
    out->chan_weight = calloc((size_t)C, sizeof(double));
    out->chan_neff = calloc((size_t)C, sizeof(double));
    out->chan_sd = calloc((size_t)C, sizeof(double));
    out->pool = calloc((size_t)C * N, sizeof(double));
    out->neuron_xy = calloc(2 * (size_t)N, sizeof(double));
    double *wT = malloc((size_t)N * C * sizeof *wT);
    if (!out->resp || !out->resp_clean || !out->chan_xy || !out->chan_weight || !out->chan_neff || !out->chan_sd ||
        !out->pool || !out->neuron_xy || !wT) {
        free(wT);
        scan_free(out);
        return tb_fail(err, "out of memory for a scan of %d stimuli x %d channels", n, C);
    }
    if (lay_out(c, b->place_key, out, wT)) {
        free(wT);
        scan_free(out);
        return tb_fail(err, "out of memory for the layout of %d neurons", N);
    }
    int rc = c->modality == SCAN_FMRI ? scan_fmri_run(b, s, c, wT, out, err) : scan_ecog_run(b, s, c, wT, out, err);
    free(wT);
    if (rc) scan_free(out);
    return rc;
}
