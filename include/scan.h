/* scan.h -- the virtual scanner: measure a spiking network the way a lab measures a brain.
 * Lesson 16 ("The virtual scanner").
 *
 * The network's neurons lie on a square cortical sheet (side sheet_mm), each subject with
 * its own random layout (from the subject seed).  A channel (an fMRI voxel or an ECoG
 * electrode) pools the neurons around its centre with a Gaussian kernel of full width at
 * half maximum channel_mm:
 *     drive_c(t) = sum_i w_ci s_i(t),   w_ci = exp(-|x_i - x_c|^2 / (2 sigma^2)),
 *     sigma = channel_mm / (2 sqrt(2 ln 2)),
 * where s_i(t) is neuron i's spike train (srnn_spikes).  The neurons lie uniformly at
 * random, or (topography t > 0) by a key per neuron: each gets the score
 * t z(key_i) + sqrt(1 - t^2) u_i (u_i standard normal) and the neurons, by score, take the
 * drawn positions ordered by distance from the sheet's centre.  With the key = each
 * neuron's sentence selectivity (scan_anatomy), t = 1 builds a compact language region in
 * the middle of the sheet, t = 0 scatters the selective neurons.  The channel centres form
 * a grid spanning a centred square holding `coverage` of the sheet's area: neurons outside
 * it are barely measured (partial coverage).
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
 * same scan for any thread count.  The sheet comes from the subject seed itself; the
 * design and the noise from the session's seed (scan_session_seed), so a second session
 * (the localizer) measures the same voxels with independent noise.  The neural noise of
 * each trial is the network's own Poisson background (scan_brain.noise_hz), seeded per
 * subject, session, trial and stimulus.
 */
#ifndef TB_SCAN_H
#define TB_SCAN_H

#include "align.h"
#include "json.h"
#include "recording.h"
#include "srnn.h"
#include "tb.h"
#include <stdint.h>

typedef enum { SCAN_FMRI = 0, SCAN_ECOG = 1 } scan_modality;

typedef struct {
    scan_modality modality;
    uint64_t seed;          /* the subject: layout, design, noise                default 1 */
    uint64_t session;       /* 0: the main experiment; k > 0: another session of the same
                               subject (same sheet; new design, neural and measurement
                               noise: the localizer is session 1)                 default 0 */
    /* sheet and channels */
    double sheet_mm;        /* side of the square sheet, mm                      default 20 */
    int channels;           /* voxels | electrodes                               default 32 | 16 */
    double channel_mm;      /* FWHM of a channel's pooling kernel, mm            default 3 | 4 */
    double coverage;        /* share of the sheet's area the channel grid spans  default 0.6 */
    double topography;      /* 0: neurons at random on the sheet; 1: placed by the brain's
                               place_key, the highest nearest the sheet's centre (a compact
                               "language region"); in between: a blend           default 0.8 */
    int trials;             /* fMRI runs | ECoG repeats                          default 4 | 8 */
    double snr;             /* s.d. of the noiseless signal / s.d. of the noise  default 0.8 */
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
/* The seed of the design, neural and measurement noise of c's session: c->seed for session
 * 0, else rng_child_seed(c->seed, "session", session). */
uint64_t scan_session_seed(const scan_config *c);
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
    const double *place_key;   /* [neurons] where each neuron goes with topography > 0 (NULL: random) */
} scan_brain;
/* Each neuron's selectivity: one presentation of every stimulus of sent and ctrl (neural
 * noise from seed), the spike count per neuron and stimulus, and the Welch t per neuron,
 * sentences > control (signed; localize_t).  t[neurons]. */
int  scan_selectivity(const scan_brain *b, const rec_stimuli *sent, const rec_stimuli *ctrl, uint64_t seed, double *t,
                      char *err);
/* The subject's anatomy: with c->topography > 0, *key (malloc'd [neurons]) = the neurons'
 * selectivity for sent over ctrl (scan_selectivity, neural noise from c's seed), to put in
 * b->place_key before scan_subject; else *key = NULL. */
int  scan_anatomy(const scan_brain *b, const rec_stimuli *sent, const rec_stimuli *ctrl, const scan_config *c, double **key,
                  char *err);
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

/* ---- the same scan at another SNR; channel subsets ------------------------------------- */
/* r's scan with the same noise draws at signal-to-noise ratio snr: the GLM betas and the
 * ECoG window means are linear in the noise, so
 *     out = resp_clean + (noise_sd' / noise_sd) (resp - resp_clean),  noise_sd' = signal_sd / snr
 * is exactly what scan_subject gives at that SNR.  out[trials, stimuli, channels]. */
void scan_rescale(const scan_result *r, double snr, double *out);
/* out[rows, k] = x[rows, C] restricted to the columns idx[k]. */
void scan_subset(const double *x, long rows, int C, const int *idx, int k, double *out);
/* mean[n, C] = the mean over trials of x[trials, n, C]. */
void scan_trial_mean(const double *x, int trials, int n, int C, double *mean);

/* ECoG: the mean over repeats, stimuli and electrodes of the activity during the w-th shown
 * token (tc_token), profile[max_tokens]; n[w] = the stimuli that have a w-th token.  The
 * build-up over a sentence, if the network has one. */
void scan_token_profile(const scan_result *r, double *profile, int *n);

/* ---- functional regions of interest (src/study/scan_roi.c) ------------------------------ */
typedef struct {
    int channels;          /* C */
    int n_sent, n_ctrl;    /* localizer stimuli per condition */
    double *t;             /* [C] Welch t of the trial-mean response, sentences > control (signed) */
    double *mean;          /* [C] mean response over both conditions */
    int k;                 /* channels per region: floor(top% x C) */
    int *froi;             /* [k] the language fROI: the k largest t, best first */
    int *control;          /* [k] responsive (mean >= the median channel's) and least selective
                              (smallest |t|) channels outside the fROI */
} scan_roi;
/* The localizer: a second session (c with session 1; c->trials runs) playing sent and ctrl
 * (sentences and their scrambled twins) in one event-related design; loc gets its scan
 * (sentences first, then the controls), roi the t map and both regions.  top_pct <= 50. */
int  scan_localize(const scan_brain *b, const rec_stimuli *sent, const rec_stimuli *ctrl, const scan_config *c,
                   double top_pct, scan_result *loc, scan_roi *roi, char *err);
void scan_roi_free(scan_roi *r);

/* ---- subjects: a study of several scanned networks (src/study/scan_group.c) ------------- */
enum { SCAN_ALL = 0, SCAN_FROI = 1, SCAN_CONTROL = 2, SCAN_N_REGIONS = 3 };
extern const char *const scan_region_name[SCAN_N_REGIONS];   /* "all" "froi" "control" */

typedef struct {
    scan_config cfg;          /* the modality's settings; cfg.seed is the study's seed */
    const char *stimuli;      /* the main experiment's stimuli (one per line) */
    const char *loc_sent;     /* the localizer's sentences and control stimuli (also the key of the */
    const char *loc_ctrl;     /*   topographic layout: each neuron's sentence selectivity on them)  */
    int localize;             /* run the localizer session (fROI and control region) */
    int loc_runs;             /* localizer runs (or repeats) */
    double froi_top;          /* fROI size, % of the channels */
    double noise_hz;          /* the network's background noise (< 0: its own) */
} scan_plan;

typedef struct {
    char *model;              /* the checkpoint scanned */
    int index;                /* 0-based subject number */
    scan_config cfg;          /* the plan's, with this subject's seed */
    scan_result scan;         /* the main experiment */
    int have_loc;
    scan_result loc;          /* the localizer session */
    scan_roi roi;
    double within[SCAN_N_REGIONS];   /* split-half ceiling on r (median over the region's channels) */
    double across[SCAN_N_REGIONS];   /* across-subject ceiling on r (NaN with one subject) */
} scan_subj;

/* The median of the finite values of x[n] (NaN if there are none). */
double scan_median(const double *x, int n);
/* Subject i's seed: rng_child_seed(seed, "subject", i). */
uint64_t scan_subject_seed(uint64_t seed, int i);
/* A checkpoint of a spiking network: PATH itself, or in a folder PATH/runs/snn.ckpt (a
 * sweep's run folder) or the last PATH/step_*.ckpt (a run's snapshots).  *ckpt malloc'd. */
int  scan_find_ckpt(const char *path, char **ckpt, char *err);
/* Open the checkpoint, scan the plan's stimuli (and the localizer) as subject i, and the
 * within-subject ceilings.  Free with scan_subj_free. */
int  scan_run_subject(const char *ckpt, const scan_plan *p, int i, scan_subj *out, char *err);
void scan_subj_free(scan_subj *s);
/* A region's responses, [trials, stimuli, k] malloc'd into *out (SCAN_ALL: every channel;
 * the others need the localizer). */
int  scan_region(const scan_subj *s, int region, double **out, int *k, char *err);
/* Every subject's across-subject ceiling, region by region (scan_ceiling_across on the
 * trial means; S[i].across).  Needs 2 or more subjects. */
int  scan_group_ceilings(scan_subj *S, int n, const enc_opts *o, char *err);
/* The across-subject ceiling (all channels) with k = 2..n subjects: for each k, the mean
 * over subsets of k subjects (all of them, or 12 drawn with seed when there are more) of
 * the subset's ceiling.  by_k[n - 1], by_k[k - 2] for k subjects. */
int  scan_ceiling_by_count(const scan_subj *S, int n, const enc_opts *o, uint64_t seed, double *by_k, char *err);

/* ---- a model's scores on the scans, raw and ceiling-normalised ----------------------------
 * Encoding r (cross-validated ridge from a model layer to every channel of a region, median
 * over channels; encoding_fit), then normalised two ways:
 *     r / within   (the subject's own split-half ceiling)
 *     r / across   (the other subjects' prediction of it: Brain-Score's convention)
 * A ceiling below o->min_ceiling leaves the normalised score NaN (align.h). */
typedef struct {
    int layers, subjects;
    double *r;                /* [layers, subjects, SCAN_N_REGIONS] raw median r (NaN: no region) */
} scan_scores;
int  scan_score(const rep_set *model, const scan_subj *S, int n, const enc_opts *o, scan_scores *out, char *err);
void scan_scores_free(scan_scores *s);
double scan_score_r(const scan_scores *s, int layer, int subject, int region);
/* Ceiling-normalised: r / ceiling, or NaN when the ceiling is below min_ceiling or NaN. */
double scan_normalise(double r, double ceiling, double min_ceiling);

/* ---- the true code against its measurements (src/study/scan_truth.c) -----------------------
 * Every model layer against one network measured several ways, by every metric of align_all:
 *   row 0            the network's firing rates (rate_trials trials; silent neurons left out)
 *   row 1            fMRI without measurement noise (pooling, HRF and GLM only)
 *   rows 2..1+n_snr  fMRI at each SNR (one scan, rescaled: the same noise draws)
 *   last row         ECoG at ecog_snr
 * The scans use the plan's settings for its modality (defaults for the other) and the
 * first subject's seed. */
typedef struct {
    const double *fmri_snr;
    int n_snr;
    double ecog_snr;
    int rate_trials;
    align_opts ao;
} scan_truth_opts;
typedef struct {
    int n_meas, n_layers;
    char (*name)[64];          /* [n_meas] "rates (240 neurons, unmeasured)", "fMRI, SNR 0.6", ... */
    int *units, *trials;       /* [n_meas] neurons or channels; trials */
    align_result *res;         /* [n_meas, n_layers] */
} scan_truth;
int  scan_truth_run(const rep_set *model, const char *ckpt, const scan_plan *p, const scan_truth_opts *o,
                    scan_truth *t, char *err);
void scan_truth_free(scan_truth *t);
const align_result *scan_truth_at(const scan_truth *t, int m, int l);
/* The picture: one panel per metric (similarities and distances, not p-values), the model's
 * layers along x, one line per measurement.  PNG at path. */
int  scan_truth_figure(const char *path, const scan_truth *t, const rep_set *model, char *err);
/* The table: measurement, units, trials, layer, then every metric (%.6g). */
int  scan_truth_write_tsv(const char *path, const scan_truth *t, const rep_set *model, char *err);

/* ---- the recording folder (src/study/scan_save.c) ----------------------------------------
 * One subject, DIR (or DIR/sub-NN with several):
 *   fmri_betas.npy | ecog_window.npy   trials x stimuli x channels: what align, compare and
 *                                      localize read (the folder's only top-level array)
 *   manifest.json                      modality, subjects, trials, stimuli, channels, every
 *                                      parameter, the ceilings, every file with its dims
 *   channels.tsv                       per channel: centre, pooled neurons, noiseless s.d.,
 *                                      localizer t, region
 *   froi/, control/                    recording folders of the same scan on the region's
 *                                      channels (compare GPT_REC DIR/froi); froi.txt and
 *                                      control.txt list the channels (localize --out format)
 *   localizer/sentences.npy, control.npy  the localizer session (localize reads these)
 *   clean/...npy                       the response without measurement noise
 *   fmri: bold/bold.npy (runs x scans x voxels, NaN past a run's end), design.tsv
 *   ecog: timecourse/token.npy (repeats x stimuli x tokens x electrodes, NaN past the end),
 *         timecourse/step_mean.npy (stimuli x steps x electrodes, mean over repeats)
 *   layout/channel_xy.npy, neuron_xy.npy (mm), pool.npy (channels x neurons)
 * Several subjects: DIR/manifest.json (the group: subjects, ceilings both ways side by
 * side, the across-subject ceiling by subject count) and DIR/ceilings.tsv. */
int  scan_save_subject(const char *dir, const scan_subj *s, const scan_plan *p, int subjects, char *err);
int  scan_save_group(const char *dir, const scan_subj *S, int n, const scan_plan *p, const double *by_k,
                     char *err);
/* The member "ceiling" of a JSON object: per region every subject's within and across
 * ceilings and their medians, the across-subject ceiling by subject count (by_k may be
 * NULL), and the convention. */
void scan_ceilings_json(json_writer *w, const scan_subj *S, int n, const double *by_k);

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
