/* scan.h -- the virtual scanner: measure a spiking network the way a lab measures a brain.
 * Lesson 16 ("The virtual scanner").
 *
 * The network's neurons lie on a square cortical sheet (side sheet_mm), each subject with
 * its own random layout (from the subject seed).  A channel (an fMRI voxel or an ECoG
 * electrode) pools the neurons around its centre with a Gaussian kernel of full width at
 * half maximum channel_mm:
 *     drive_c(t) = sum_i w_ci s_i(t),   w_ci = exp(-|x_i - x_c|^2 / (2 sigma^2)),
 *     sigma = channel_mm / (2 sqrt(2 ln 2)),
 * where s_i(t) is neuron i's spike train (srnn_spikes).  The channel centres form a grid
 * spanning a centred square holding `coverage` of the sheet's area: neurons outside it
 * are barely measured (partial coverage).
 *
 * fMRI (SCAN_FMRI), one run per trial:
 *   design   the stimuli in a new random order each run; a stimulus lasts its tokens x
 *            word_ms (the network's K steps of a token are played out over word_ms of
 *            scanner time); then a blank drawn uniformly in isi_s +- jitter_s; rest_s of
 *            rest before the first stimulus and after the last.  Times live on SPM's
 *            microtime grid, dt = TR/16.
 *   BOLD     y_c(t) = (h * drive_c)(t), sampled at t = 0, TR, 2TR, ... with h the SPM
 *            canonical haemodynamic response (scan_hrf) on the microtime grid.
 *   noise    e = noise_sd (sqrt(1 - f_ar - f_drift) white + sqrt(f_ar) AR(1) + sqrt(f_drift)
 *            drift), each part of unit variance; AR(1): a_k = ar a_{k-1} + sqrt(1 - ar^2) z_k;
 *            drift: a random walk scaled to unit variance over the run.  One noise level
 *            for every voxel:  noise_sd = signal_sd / snr, where signal_sd is the root mean
 *            square over voxels of each voxel's noiseless s.d. over all runs -- so a poorly
 *            covered voxel has a poor SNR, as in a real scanner.
 *   GLM      per run, ordinary least squares on X = [one regressor per stimulus (a boxcar
 *            over the stimulus convolved with h) | DCT drift regressors with periods
 *            above hp_cutoff_s (SPM's high-pass filter, constant included)]:
 *            beta = (X^T X)^-1 X^T y.  The betas are the response; the runs are the trials.
 *
 * ECoG (SCAN_ECOG), one repeat per trial, in the network's own time (one sample per
 * simulation step, dt_ms = 1 ms by default):
 *   signal   local population activity: drive_c low-passed, g_t = a g_{t-1} + (1 - a) d_t,
 *            a = exp(-dt / tau_ms), from the first word's onset;
 *   noise    1/f ("pink") noise: the sum of ten AR(1) processes of equal variance with time
 *            constants 1, 2, 4, ... 512 ms (equal power per octave), noise_sd = signal_sd / snr;
 *   response the mean over a window [win_from_ms, win_to_ms) after the first word's onset
 *            (win_to_ms <= 0: to the stimulus's end); the time course is kept per step and
 *            per token (the mean over each token's K steps), so the build-up over a
 *            sentence can be seen.
 *
 * Everything is drawn from the subject seed through rng streams: the same seed gives the
 * same scan for any thread count.  The neural noise of each trial is the network's own
 * Poisson background (scan_brain.noise_hz), seeded per subject, trial and stimulus.
 */
#ifndef TB_SCAN_H
#define TB_SCAN_H

#include "align.h"
#include "recording.h"
#include "srnn.h"
#include "tb.h"
#include <stdint.h>

typedef enum { SCAN_FMRI = 0, SCAN_ECOG = 1 } scan_modality;

typedef struct {
    scan_modality modality;
    uint64_t seed;          /* the subject: layout, design, noise                default 1 */
    /* sheet and channels */
    double sheet_mm;        /* side of the square sheet, mm                      default 20 */
    int channels;           /* voxels | electrodes                               default 32 | 16 */
    double channel_mm;      /* FWHM of a channel's pooling kernel, mm            default 3 | 4 */
    double coverage;        /* share of the sheet's area the channel grid spans  default 0.6 */
    int trials;             /* fMRI runs | ECoG repeats                          default 4 | 10 */
    double snr;             /* s.d. of the noiseless signal / s.d. of the noise  default 0.4 | 0.3 */
    /* fMRI */
    double tr_s;            /* repetition time, s                                default 2 */
    double word_ms;         /* on-screen time of one token, ms                   default 400 */
    double isi_s;           /* mean blank between stimuli, s                     default 4 */
    double jitter_s;        /* the blank is isi_s +- jitter_s (uniform), s       default 2 */
    double rest_s;          /* rest before the first / after the last stimulus, s default 16 */
    double ar;              /* AR(1) coefficient of the noise per TR             default 0.4 */
    double frac_ar;         /* share of the noise variance that is AR(1)         default 0.5 */
    double frac_drift;      /* share that is slow drift                          default 0.2 */
    double hp_cutoff_s;     /* DCT drift regressors: periods above this, s       default 128 */
    /* ECoG */
    double tau_ms;          /* low-pass of the population activity, ms           default 4 */
    double win_from_ms;     /* response window after the first word's onset, ms  default 0 */
    double win_to_ms;       /*   ... its end (<= 0: the stimulus's end), ms       default 0 */
} scan_config;

/* Defaults for a modality (see the table above). */
void scan_default_config(scan_config *c, scan_modality m);
/* Every field checked; err names the flag ("--tr 0 s: must be in (0, 20]"). */
int  scan_check_config(const scan_config *c, char *err);
const char *scan_modality_name(scan_modality m);            /* "fmri" | "ecog" */
int  scan_parse_modality(const char *s, scan_modality *out); /* 0 / -1 */

/* What the scanner measures: something that spikes.  run() fills spikes[n*K, N] (0/1 per
 * neuron and simulation step; row t*K + k = step k of token t) for ids[n] with noise
 * seed `seed`; it must be callable from several threads at once. */
typedef struct scan_brain {
    int neurons;            /* N */
    int steps_per_token;    /* K */
    double dt_ms;           /* one simulation step, ms */
    int (*run)(const struct scan_brain *b, const int *ids, int n, uint64_t seed, float *spikes, char *err);
    const void *model;      /* what run() simulates */
    double noise_hz;        /* background noise passed to the model (< 0: the model's own) */
} scan_brain;
/* The spiking language model as a brain (run = srnn_spikes). */
void scan_brain_srnn(scan_brain *b, const srnn_model *m, double noise_hz);

/* A scan of one subject.  Token 0 of each stimulus is its left context ('.'): it is
 * simulated but not shown (the stimulus begins with token 1). */
typedef struct {
    scan_modality modality;
    int trials, stimuli, channels, neurons;
    double *resp;           /* [trials, stimuli, channels] fMRI betas | ECoG window means */
    double *resp_clean;     /* [trials, stimuli, channels] the same without measurement noise
                               (the neural noise of each trial is kept) */
    /* per channel */
    double *chan_xy;        /* [channels, 2] centre on the sheet, mm */
    double *chan_weight;    /* [channels] sum of the pooling weights */
    double *chan_neff;      /* [channels] neurons effectively pooled, (sum w)^2 / sum w^2 */
    double *chan_sd;        /* [channels] s.d. of the noiseless signal */
    double *pool;           /* [channels, neurons] pooling weights w_ci */
    double *neuron_xy;      /* [neurons, 2] the subject's layout, mm */
    double signal_sd;       /* root mean square of chan_sd */
    double noise_sd;        /* = signal_sd / snr, the same in every channel */
    /* fMRI */
    int max_scans;          /* volumes of the longest run */
    int *n_scans;           /* [trials] volumes per run */
    int *order;             /* [trials, stimuli] the stimulus shown at each position of a run */
    double *onset_s;        /* [trials, stimuli] onset of stimulus i in run r, s */
    double *dur_s;          /* [stimuli] duration, s */
    float *bold;            /* [trials, max_scans, channels] the measured time series (NaN past a run's end) */
    /* ECoG */
    int max_tokens, max_steps;
    float *tc_token;        /* [trials, stimuli, max_tokens, channels] mean over each token (NaN past the end) */
    float *tc;              /* [trials, stimuli, max_steps, channels] every step (NaN past the end) */
} scan_result;

/* Scan one subject: play every stimulus of s (token ids as rec_stimuli_load gives them)
 * to the brain cfg->trials times and measure it with cfg's modality.  out is filled
 * (free with scan_free). */
int  scan_subject(const scan_brain *b, const rec_stimuli *s, const scan_config *cfg, scan_result *out, char *err);
void scan_free(scan_result *r);

/* The across-subject ceiling (as Brain-Score ceils a benchmark, without its extrapolation
 * to infinitely many subjects): every subject in turn is the target; a cross-validated
 * ridge encoding model (encoding_fit) predicts its trial-mean responses from the other
 * subjects' channels side by side.  Y[s] is subject s's [n, channels[s]] trial mean (the
 * same n stimuli in the same order for all).  per_subject[s] = median r over s's channels
 * (may be NULL); *ceiling = the median over subjects.  Needs 2 or more subjects. */
int  scan_ceiling_across(const double *const *Y, const int *channels, int n_subjects, int n,
                         const enc_opts *o, double *per_subject, double *ceiling, char *err);

/* ---- building blocks (public for the tests and the lessons) ------------------------- */
/* The SPM canonical HRF sampled every dt_s from t = 0 to 32 s (floor(32/dt) + 1 values):
 *   h(t) = g(t; 6) - g(t; 16) / 6,   g(t; a) = t^(a-1) e^(-t) / Gamma(a)  (t in s),
 * normalised to sum 1 -- spm_hrf(dt) with its default parameters.  h[scan_hrf_length(dt)]. */
int  scan_hrf_length(double dt_s);
void scan_hrf(double dt_s, double *h);
/* The DCT drift basis of SPM's high-pass filter: k = floor(2 n TR / cutoff) + 1 columns
 * (constant first), C[n, k] with C[i, 0] = 1/sqrt(n), C[i, j] = sqrt(2/n) cos(pi (2i+1) j / (2n)). */
int  scan_dct_count(int n_scans, double tr_s, double cutoff_s);
void scan_dct(int n_scans, int k, double *C);
/* The design matrix of one run, X[n_scans, n_events + k_dct] (malloc'd into *X): event e
 * is a boxcar from onset_s[e] lasting dur_s[e] on the microtime grid (TR/16), convolved
 * with the HRF and sampled at t = j TR; then the DCT columns.  *cols = n_events + k_dct. */
int  scan_design(const double *onset_s, const double *dur_s, int n_events, int n_scans, double tr_s,
                 double hp_cutoff_s, double **X, int *cols, char *err);
/* Ordinary least squares for several responses: B[p, m] = (X^T X)^-1 X^T Y with X[n, p],
 * Y[n, m] (Cholesky in double; fails when X is rank deficient). */
int  scan_glm(const double *X, int n, int p, const double *Y, int m, double *B, char *err);
/* Unit-variance fMRI noise e[n] (see the header comment: white + AR(1) + drift). */
void scan_fmri_noise(tb_rng *r, int n, double ar, double frac_ar, double frac_drift, double *e);
/* Unit-variance 1/f noise e[n] sampled every dt_ms (ten AR(1) processes of equal variance,
 * time constants 1, 2, 4, ... 512 ms). */
void scan_pink_noise(tb_rng *r, int n, double dt_ms, double *e);

#endif
