/* scan_priv.h -- what the virtual scanner's files (scan.c, scan_fmri.c, scan_ecog.c)
 * share privately.  The public face and the model are in include/scan.h (lesson 16). */
#ifndef TB_SCAN_PRIV_H
#define TB_SCAN_PRIV_H

#include "scan.h"

#include <stddef.h>

/* rng stream ids of one subject seed (disjoint ranges). */
#define SCAN_STREAM_LAYOUT 1ull
#define SCAN_STREAM_DESIGN(r) (0x100ull + (uint64_t)(r))
#define SCAN_STREAM_NOISE(r) (0x10000ull + (uint64_t)(r))
#define SCAN_STREAM_NEURAL(r, i) (((uint64_t)(r) + 1) << 32 | (uint64_t)(i))

/* The channels' drive during one trial: stimulus i's simulation steps of tokens 1..len-1
 * (token 0, the '.' context, is simulated but not shown) are rows off[i]..off[i+1]-1. */
typedef struct {
    int n, C, K;
    size_t *off;       /* [n + 1] */
    double *d;         /* [off[n], C]  drive_c per step: sum of w_ci over the neurons that spiked */
    const double *wT;  /* [N, C] pooling weights, transposed (owned by scan.c) */
} scan_drive;

int  scan_drive_alloc(scan_drive *dr, const rec_stimuli *s, int K, int C, const double *wT, char *err);
void scan_drive_free(scan_drive *dr);
/* Play every stimulus once (trial t: neural noise from the subject seed, t and the
 * stimulus) and pool the spikes; stimuli are spread over the thread pool. */
int  scan_drive_trial(const scan_brain *b, const rec_stimuli *s, uint64_t seed, int t, scan_drive *dr, char *err);
/* Allocate out's per-trial arrays for the modality (the layout arrays are scan.c's). */
int  scan_fmri_run(const scan_brain *b, const rec_stimuli *s, const scan_config *c, const double *wT,
                   scan_result *out, char *err);
int  scan_ecog_run(const scan_brain *b, const rec_stimuli *s, const scan_config *c, const double *wT,
                   scan_result *out, char *err);
/* Per channel s.d. from running sums (n values): chan_sd[c], and the root mean square. */
void scan_set_sd(scan_result *out, const double *sum, const double *sum2, double n, double snr);

#endif
