/* scan.c -- `tinybrain scan CKPT|RUN_FOLDER... --out DIR`: the virtual scanner.  Lesson 16.
 *
 * Scans trained spiking networks the way a lab scans people (fMRI or ECoG; the model is in
 * include/scan.h), each network a subject with its own cortical sheet; runs the localizer
 * and picks each subject's fROI and a control region; prints the ceilings both ways and,
 * with --score, a model's scores raw and ceiling-normalised; writes recording folders that
 * align, compare and localize read.  Subjects that were not given are trained (a sweep of
 * train-snn over seeds, cached under --subjects-dir).  --print-hrf prints the canonical
 * HRF; --compare-truth sets the network's true code beside its scans (scan_truth.c).
 */
#include "cli.h"
#include "commands.h"
#include "scan.h"
#include "sweep.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SUBJECTS 64   /* --subjects' range, and so the most checkpoints a scan takes */

/* The numeric defaults shown by --help, printed from the library's table (scan_default_config). */
enum { D_SHEET, D_COVERAGE, D_TOPO, D_SNR, D_VOXELS, D_VOXEL_MM, D_RUNS, D_TR, D_WORD, D_ISI, D_JITTER, D_REST, D_AR,
       D_FRAC_AR, D_FRAC_DRIFT, D_HP, D_ELECTRODES, D_ELECTRODE_MM, D_REPEATS, D_TAU, D_WIN_FROM, D_WIN_TO, D_COUNT };

static void default_texts(char **d) {
    scan_config f, e;
    scan_default_config(&f, SCAN_FMRI);
    scan_default_config(&e, SCAN_ECOG);
    const double v[D_COUNT] = {f.sheet_mm, f.coverage, f.topography, f.snr, f.channels, f.channel_mm, f.trials, f.tr_s, f.word_ms,
                               f.isi_s, f.jitter_s, f.rest_s, f.ar, f.frac_ar, f.frac_drift, f.hp_cutoff_s, e.channels,
                               e.channel_mm, e.trials, e.tau_ms, e.win_from_ms, e.win_to_ms};
    for (int i = 0; i < D_COUNT; i++) d[i] = cli_strf("%g", v[i]);
}

static int parse(scan_args *a, char **d, int argc, char **argv, char **pos) {
    cli_opt opts[] = {
        {"modality", 'c', &a->modality, "fmri", "", "what the lab measures", 0, 0, "fmri|ecog"},
        {"out", 's', &a->out, NULL, "", "the recording folder to write (one sub-NN folder per subject when there are several)", 0, 0, NULL},
        {"subjects", 'i', &a->subjects, "0", "", "networks to scan (0: one per checkpoint given); the ones not given are trained", 0, MAX_SUBJECTS, NULL},
        {"subjects-dir", 's', &a->subjects_dir, TB_RUNS_DIR "/subjects", "", "where the subjects not given are trained (train-snn, their seeds = their numbers; cached)", 0, 0, NULL},
        {"jobs", 'i', &a->jobs, "1", "", "training runs at once", 1, 64, NULL},
        {"data-dir", 's', &a->data_dir, TB_DATA_DIR, "", "toyworld data folder (for training subjects)", 0, 0, NULL},
        {"stimuli", 's', &a->stimuli, TB_DATA_DIR "/probes_sentences.txt", "", "the main experiment's stimuli, one per line", 0, 0, NULL},
        {"seed", 'l', &a->seed, "1", "", "the study: subject i's sheet, design and noise come from child seeds of it", 0, 9.2e18, NULL},
        {"noise-hz", 'f', &a->noise_hz, "-1", "Hz", "the network's background noise (-1: its own)", -1, 1e5, NULL},
        {"sheet-mm", 'f', &a->cfg.sheet_mm, d[D_SHEET], "mm", "side of the square cortical sheet the neurons lie on", 0, 0, NULL},
        {"coverage", 'f', &a->cfg.coverage, d[D_COVERAGE], "", "share of the sheet's area the channel grid spans (partial coverage)", 0, 0, NULL},
        {"topography", 'f', &a->cfg.topography, d[D_TOPO], "", "0: neurons at random on the sheet; 1: the most sentence-selective ones clustered at its centre", 0, 0, NULL},
        {"snr", 'f', &a->cfg.snr, d[D_SNR], "", "signal-to-noise ratio: s.d. of the noiseless response / s.d. of the noise (per TR or per ms)", 0, 0, NULL},
        {"voxels", 'i', &a->voxels, d[D_VOXELS], "", "fMRI: voxels (a grid over the covered square)", 1, 100000, NULL},
        {"voxel-mm", 'f', &a->voxel_mm, d[D_VOXEL_MM], "mm", "fMRI: FWHM of a voxel's Gaussian pooling kernel", 0, 0, NULL},
        {"runs", 'i', &a->runs, d[D_RUNS], "", "fMRI: runs (the trials; each run shows every stimulus once, in a new order)", 2, 1000, NULL},
        {"tr", 'f', &a->cfg.tr_s, d[D_TR], "s", "fMRI: repetition time (one volume every TR)", 0, 0, NULL},
        {"word-ms", 'f', &a->cfg.word_ms, d[D_WORD], "ms", "fMRI: on-screen time of one word (a stimulus lasts its words x this)", 0, 0, NULL},
        {"isi", 'f', &a->cfg.isi_s, d[D_ISI], "s", "fMRI: mean blank between stimuli (SOA = duration + blank)", 0, 0, NULL},
        {"jitter", 'f', &a->cfg.jitter_s, d[D_JITTER], "s", "fMRI: the blank is isi +- jitter (uniform)", 0, 0, NULL},
        {"rest", 'f', &a->cfg.rest_s, d[D_REST], "s", "fMRI: rest before the first and after the last stimulus", 0, 0, NULL},
        {"ar", 'f', &a->cfg.ar, d[D_AR], "", "fMRI: AR(1) coefficient of the noise (per TR)", 0, 0, NULL},
        {"frac-ar", 'f', &a->cfg.frac_ar, d[D_FRAC_AR], "", "fMRI: share of the noise variance that is AR(1)", 0, 0, NULL},
        {"frac-drift", 'f', &a->cfg.frac_drift, d[D_FRAC_DRIFT], "", "fMRI: share that is slow drift (the rest is white)", 0, 0, NULL},
        {"hp-cutoff", 'f', &a->cfg.hp_cutoff_s, d[D_HP], "s", "fMRI: high-pass filter (DCT drift regressors with longer periods)", 0, 0, NULL},
        {"electrodes", 'i', &a->electrodes, d[D_ELECTRODES], "", "ECoG: electrodes (a grid over the covered square)", 1, 100000, NULL},
        {"electrode-mm", 'f', &a->electrode_mm, d[D_ELECTRODE_MM], "mm", "ECoG: FWHM of an electrode's pooling kernel", 0, 0, NULL},
        {"repeats", 'i', &a->repeats, d[D_REPEATS], "", "ECoG: repeats of every stimulus (the trials)", 2, 1000, NULL},
        {"tau", 'f', &a->cfg.tau_ms, d[D_TAU], "ms", "ECoG: low-pass time constant of the population activity", 0, 0, NULL},
        {"window-from", 'f', &a->cfg.win_from_ms, d[D_WIN_FROM], "ms", "ECoG: response window start, after the first word's onset", 0, 0, NULL},
        {"window-to", 'f', &a->cfg.win_to_ms, d[D_WIN_TO], "ms", "ECoG: response window end (0: the stimulus's end)", 0, 0, NULL},
        {"loc-sentences", 's', &a->loc_sent, TB_DATA_DIR "/probes_sentences.txt", "", "localizer: sentences", 0, 0, NULL},
        {"loc-control", 's', &a->loc_ctrl, TB_DATA_DIR "/probes_scrambled.txt", "", "localizer: the control condition (their scrambled twins)", 0, 0, NULL},
        {"loc-runs", 'i', &a->loc_runs, "2", "", "localizer: runs (repeats for ECoG) of its own session", 2, 1000, NULL},
        {"froi-top", 'f', &a->froi_top, "25", "%", "fROI: the channels with the largest localizer t; the control region is as large", 0, 0, NULL},
        {"no-localizer", 'b', &a->no_loc, NULL, "", "skip the localizer (no fROI or control region)", 0, 0, NULL},
        {"score", 's', &a->score, NULL, "", "a model's recording (folder or .npy, e.g. runs/rec/gpt): encoding r per layer, raw and ceiling-normalised", 0, 0, NULL},
        {"compare-truth", 's', &a->truth, NULL, "", "a model's recording: every metric on the network's true rates and on its scans (one subject)", 0, 0, NULL},
        {"truth-snr", 's', &a->truth_snr, "0.2,0.8,3.2", "", "--compare-truth: the fMRI SNRs", 0, 0, NULL},
        {"plots", 's', &a->plots, TB_PLOTS_DIR, "", "--compare-truth: folder for the picture", 0, 0, NULL},
        {"name", 's', &a->name, "scan_truth", "", "--compare-truth: file name of the picture and the table", 0, 0, NULL},
        {"print-hrf", 'b', &a->print_hrf, NULL, "", "print the SPM canonical HRF sampled every --tr seconds and exit", 0, 0, NULL},
        {"json", 'b', &a->json, NULL, "", "one JSON object on stdout", 0, 0, NULL},
    };
    cli_cmd cmd = {"scan", "[CKPT|RUN_FOLDER ...]",
                   "the virtual scanner: measure spiking networks like brains (fMRI or ECoG), subjects, fROIs, ceilings",
                   "Each CKPT (a train-snn checkpoint, a sweep run folder, or a run folder of step_*.ckpt) is one subject "
                   "with its own sheet of neurons. fMRI: Gaussian voxels, an event-related design, the SPM canonical HRF, "
                   "AR(1) + drift noise and a GLM beta per stimulus and run; ECoG: electrodes at the network's millisecond "
                   "resolution with 1/f noise, a window mean per repeat and the per-token time course. A localizer session "
                   "(sentences vs scrambled) picks each subject's fROI and a control region. DIR is a recording folder "
                   "(trials x stimuli x channels .npy + manifest.json) for align, compare and localize; the ceilings are "
                   "printed both ways: within-subject (split-half) and across-subject (the others predict each one).",
                   "tinybrain scan runs/snn.ckpt --subjects 4 --out runs/scan --score runs/rec/gpt"};
    return cli_parse(&cmd, opts, NOPT(opts), argc, argv, pos, 0, MAX_SUBJECTS);
}

/* ---- the plan ------------------------------------------------------------------------------ */

/* A flag of the other modality is a usage error, not silently ignored. */
static void check_modality_flags(int argc, char **argv, scan_modality m) {
    static const char *const fmri_only[] = {"voxels", "voxel-mm", "runs", "tr", "word-ms", "isi", "jitter", "rest",
                                            "ar", "frac-ar", "frac-drift", "hp-cutoff"};
    static const char *const ecog_only[] = {"electrodes", "electrode-mm", "repeats", "tau", "window-from", "window-to"};
    int nf = (int)(sizeof fmri_only / sizeof *fmri_only), ne = (int)(sizeof ecog_only / sizeof *ecog_only);
    for (int i = 0; i < (m == SCAN_FMRI ? ne : nf); i++) {
        const char *f = m == SCAN_FMRI ? ecog_only[i] : fmri_only[i];
        if (cli_given(argc, argv, f))
            cli_die(2, "--%s is an %s setting (this scan is --modality %s)", f, m == SCAN_FMRI ? "ECoG" : "fMRI",
                    scan_modality_name(m));
    }
}

static void build_plan(const scan_args *a, int argc, char **argv, scan_plan *p) {
    scan_modality m = SCAN_FMRI;
    scan_parse_modality(a->modality, &m);
    check_modality_flags(argc, argv, m);
    scan_config c = a->cfg;
    int fmri = m == SCAN_FMRI;
    c.modality = m;
    c.seed = (uint64_t)a->seed;
    c.session = 0;
    c.channels = fmri ? a->voxels : a->electrodes;
    c.channel_mm = fmri ? a->voxel_mm : a->electrode_mm;
    c.trials = fmri ? a->runs : a->repeats;
    char err[TB_ERRLEN];
    if (scan_check_config(&c, err)) cli_die(2, "%s", err);
    if (!(a->froi_top > 0 && a->froi_top <= 50))
        cli_die(2, "--froi-top %g%%: must be in (0, 50] (the control region is as large as the fROI)", a->froi_top);
    *p = (scan_plan){c, a->stimuli, a->loc_sent, a->loc_ctrl, !a->no_loc, a->loc_runs, a->froi_top, a->noise_hz};
}

/* ---- the subjects -------------------------------------------------------------------------- */

static void train_progress(void *ctx, int done, int total, const sweep_run *r) {
    (void)ctx;
    if (r->status) cli_note("subject with seed %d: training failed (see %s/train.log)", r->seed, r->dir);
    else cli_note("trained %d of %d: seed %d -> %s", done, total, r->seed, r->ckpt);
}

/* Subjects given..n-1: the sweep's runs with seeds given+1..n (trained unless cached). */
static void train_missing(const scan_args *a, int given, int n, char **ck) {
    char exe[PATH_MAX], err[TB_ERRLEN];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) exe[len] = 0;
    else if (!access("./tinybrain", X_OK)) snprintf(exe, sizeof exe, "./tinybrain");
    else cli_die(1, "cannot find the tinybrain binary to train the missing subjects with");
    sweep_plan sp = {.exe = exe, .model = "snn", .root = a->subjects_dir, .data_dir = a->data_dir, .seeds = n,
                      .jobs = a->jobs, .threads = cli_threads / a->jobs > 0 ? cli_threads / a->jobs : 1};
    sweep_run *runs;
    int nr, to_train = 0;
    if (sweep_expand(&sp, &runs, &nr, err)) cli_die(1, "%s", err);
    for (int i = given; i < n; i++) to_train += !runs[i].cached;
    if (to_train) cli_note("training %d subject(s) with train-snn (seeds %d..%d; cached in %s/)", to_train, given + 1, n, a->subjects_dir);
    cli_catch_sigint();
    if (sweep_execute(&sp, runs + given, n - given, train_progress, NULL, &cli_interrupted, err)) cli_die(1, "%s", err);
    for (int i = given; i < n; i++) {
        if (runs[i].status || access(runs[i].ckpt, R_OK))
            cli_die(1, "subject %d (train-snn seed %d) was not trained: see %s/train.log", i + 1, runs[i].seed, runs[i].dir);
        ck[i] = cli_strf("%s", runs[i].ckpt);
    }
    free(runs);
}

static char **find_subjects(const scan_args *a, int npos, char **pos, int *n) {
    *n = a->subjects ? a->subjects : npos;
    if (*n == 0) cli_die(2, "give a spiking network's checkpoint (e.g. runs/snn.ckpt), or --subjects N to train N of them");
    if (*n < npos) cli_die(2, "--subjects %d, but %d checkpoints were given", *n, npos);
    char **ck = calloc((size_t)*n, sizeof *ck), err[TB_ERRLEN];
    if (!ck) cli_die(1, "out of memory");
    for (int i = 0; i < npos; i++)
        if (scan_find_ckpt(pos[i], &ck[i], err)) cli_die(1, "%s", err);
    if (*n > npos) train_missing(a, npos, *n, ck);
    return ck;
}

static scan_subj *run_subjects(char **ck, int n, const scan_plan *p) {
    scan_subj *S = calloc((size_t)n, sizeof *S);
    char err[TB_ERRLEN];
    if (!S) cli_die(1, "out of memory");
    cli_progress_start();
    for (int s = 0; s < n; s++) {
        if (scan_run_subject(ck[s], p, s, &S[s], err)) cli_die(1, "%s", err);
        cli_progress(s + 1, n, "scanned subject %d of %d (%s)", s + 1, n, ck[s]);
    }
    cli_progress_end();
    return S;
}

static void save(const char *out, scan_subj *S, int n, const scan_plan *p, const double *by_k) {
    char err[TB_ERRLEN];
    if (n == 1 && scan_save_subject(out, &S[0], p, 1, err)) cli_die(1, "%s", err);
    for (int s = 0; n > 1 && s < n; s++) {
        char *dir = cli_strf("%s/sub-%02d", out, s + 1);
        if (scan_save_subject(dir, &S[s], p, n, err)) cli_die(1, "%s", err);
        free(dir);
    }
    if (n > 1 && scan_save_group(out, S, n, p, by_k, err)) cli_die(1, "%s", err);
}

/* ---- what it printed ------------------------------------------------------------------------ */

static void print_setup(const scan_plan *p, const scan_subj *S, int n) {
    const scan_config *c = &p->cfg;
    const scan_result *r = &S[0].scan;
    if (c->modality == SCAN_FMRI)
        printf("fMRI of %d subject%s: %d voxels (FWHM %g mm) over %g%% of a %g mm sheet, %d runs, TR %g s, SNR %g; "
               "%d stimuli (%s)\n", n, n > 1 ? "s" : "", c->channels, c->channel_mm, 100 * c->coverage, c->sheet_mm, c->trials,
               c->tr_s, c->snr, r->stimuli, p->stimuli);
    else
        printf("ECoG of %d subject%s: %d electrodes (FWHM %g mm) over %g%% of a %g mm sheet, %d repeats, SNR %g; "
               "%d stimuli (%s)\n", n, n > 1 ? "s" : "", c->channels, c->channel_mm, 100 * c->coverage, c->sheet_mm,
               c->trials, c->snr, r->stimuli, p->stimuli);
    if (S[0].have_loc)
        printf("localizer: %d sentences vs %d controls, %d %s of its own; fROI = the top %g%% = %d channels by t, "
               "control region = %d responsive, least selective ones\n", S[0].roi.n_sent, S[0].roi.n_ctrl, S[0].loc.trials,
               c->modality == SCAN_FMRI ? "runs" : "repeats", p->froi_top, S[0].roi.k, S[0].roi.k);
}

/* ECoG: the build-up over a sentence, subject 1, token by token. */
static void print_profile(const scan_result *r) {
    double *p = malloc((size_t)r->max_tokens * sizeof *p);
    int *n = malloc((size_t)r->max_tokens * sizeof *n);
    if (!p || !n) cli_die(1, "out of memory");
    scan_token_profile(r, p, n);
    printf("\nECoG activity by token (sub-01; mean over repeats, stimuli and electrodes; a.u.):\n");
    int w[3] = {6, 8, 10};
    const char *h[3] = {"token", "stimuli", "activity"};
    cli_table_row(3, w, h);
    cli_table_rule(3, w);
    for (int t = 0; t < r->max_tokens; t++) {
        char a[CLI_NUMLEN], b[CLI_NUMLEN], c[CLI_NUMLEN];
        snprintf(a, sizeof a, "%d", t + 1);
        snprintf(b, sizeof b, "%d", n[t]);
        cli_fmt_num(c, sizeof c, p[t]);
        const char *cells[3] = {a, b, c};
        cli_table_row(3, w, cells);
    }
    free(p);
    free(n);
}

/* One row: a name, then within and across for every region. */
static void ceiling_row(const char *name, const double *within, const double *across) {
    int w[7] = {10, 8, 8, 8, 9, 8, 8};
    char b[6][CLI_NUMLEN];
    const char *cells[7] = {name};
    for (int g = 0; g < SCAN_N_REGIONS; g++) {
        cli_fmt_num(b[g], CLI_NUMLEN, within[g]);
        cli_fmt_num(b[3 + g], CLI_NUMLEN, across[g]);
        cells[1 + g] = b[g];
        cells[4 + g] = b[3 + g];
    }
    cli_table_row(7, w, cells);
}

static void print_ceilings(const scan_subj *S, int n, const double *by_k) {
    if (n > 1)
        printf("\nceilings on r: within = split-half over trials (Spearman-Brown); across = predicted from the other %d "
               "subject%s (ridge)\n", n - 1, n == 2 ? "" : "s");
    else printf("\nceilings on r: within = split-half over trials (Spearman-Brown); across = from other subjects (none here)\n");
    int w[7] = {10, 8, 8, 8, 9, 8, 8};
    const char *h[7] = {"subject", "within", "w_froi", "w_ctrl", "across", "a_froi", "a_ctrl"};
    cli_table_row(7, w, h);
    cli_table_rule(7, w);
    double *col = malloc((size_t)n * sizeof *col), med[2][SCAN_N_REGIONS];
    if (!col) cli_die(1, "out of memory");
    for (int s = 0; s < n; s++) {
        char name[16];
        snprintf(name, sizeof name, "sub-%02d", s + 1);
        ceiling_row(name, S[s].within, S[s].across);
    }
    for (int q = 0; q < 2; q++)
        for (int g = 0; g < SCAN_N_REGIONS; g++) {
            for (int s = 0; s < n; s++) col[s] = q ? S[s].across[g] : S[s].within[g];
            med[q][g] = scan_median(col, n);
        }
    if (n > 1) ceiling_row("median", med[0], med[1]);
    free(col);
    if (n == 1) printf("(an across-subject ceiling needs --subjects 2 or more)\n");
    if (by_k) {
        printf("across-subject ceiling (all channels) by number of subjects:");
        for (int k = 2; k <= n; k++) printf("  %d: %.3f", k, by_k[k - 2]);
        printf("\n");
    }
}

/* Median over subjects of r, r / within and r / across for one layer and region; a
 * normalised score undefined for any subject is undefined for the group (a median over the
 * subjects with the higher ceilings would be a selected number). */
static void score_medians(const scan_scores *sc, const scan_subj *S, int l, int g, double min_ceiling, double out[3]) {
    int n = sc->subjects;
    double *v = malloc(3 * (size_t)n * sizeof *v);
    if (!v) cli_die(1, "out of memory");
    for (int s = 0; s < n; s++) {
        double r = scan_score_r(sc, l, s, g);
        v[s] = r;
        v[n + s] = scan_normalise(r, S[s].within[g], min_ceiling);
        v[2 * n + s] = scan_normalise(r, S[s].across[g], min_ceiling);
    }
    for (int q = 0; q < 3; q++) {
        out[q] = scan_median(v + (size_t)q * n, n);
        for (int s = 0; s < n; s++)
            if (isnan(v[(size_t)q * n + s])) out[q] = NAN;
    }
    free(v);
}

static void print_scores(const char *path, const rep_set *M, const scan_scores *sc, const scan_subj *S, double min_ceiling) {
    printf("\n%s on the scans: encoding r (ridge from the layer; median over a region's channels, then over %d "
           "subject%s)\n", path, sc->subjects, sc->subjects > 1 ? "s" : "");
    int w[5] = {-8, -12, 8, 9, 9};
    const char *h[5] = {"region", "layer", "raw_r", "r/within", "r/across"};
    cli_table_row(5, w, h);
    cli_table_rule(5, w);
    for (int g = 0; g < SCAN_N_REGIONS; g++)
        for (int l = 0; l < sc->layers; l++) {
            double m[3];
            score_medians(sc, S, l, g, min_ceiling, m);
            if (isnan(m[0])) continue;   /* no such region */
            char b[3][CLI_NUMLEN];
            for (int q = 0; q < 3; q++) cli_fmt_num(b[q], CLI_NUMLEN, m[q]);
            const char *cells[5] = {scan_region_name[g], M->layer[l].name, b[0], b[1], b[2]};
            cli_table_row(5, w, cells);
        }
    printf("normalised = raw r / ceiling, per subject (Brain-Score's convention; it also clips to [0, 1], we do not);\n"
           "'-' = no such ceiling for some subject (across needs 2 subjects), or one below %g: no reliable signal to\n"
           "divide by (per subject: runs/scan/.../sub-NN/manifest.json and ceilings.tsv)\n", min_ceiling);
}

static void json_scores(const rep_set *M, const scan_scores *sc, const scan_subj *S, double min_ceiling) {
    json_writer *w = json_w();
    jw_array(w, "scores", JW_LINES);
    for (int g = 0; g < SCAN_N_REGIONS; g++)
        for (int l = 0; l < sc->layers; l++) {
            double m[3];
            score_medians(sc, S, l, g, min_ceiling, m);
            if (isnan(m[0])) continue;
            jw_object(w, NULL, JW_COMPACT);
            jw_str(w, "region", scan_region_name[g]);
            jw_str(w, "layer", M->layer[l].name);
            jw_num(w, "r", m[0]);
            jw_num(w, "r_over_within", m[1]);
            jw_num(w, "r_over_across", m[2]);
            jw_end(w);
        }
    jw_end(w);
}

static void print_json(const scan_args *a, const scan_subj *S, int n, const double *by_k, const rep_set *M,
                       const scan_scores *sc, double min_ceiling) {
    const scan_result *r = &S[0].scan;
    json_begin();
    json_str("modality", scan_modality_name(r->modality));
    json_int("subjects", n);
    json_int("trials", r->trials);
    json_int("stimuli", r->stimuli);
    json_int("channels", r->channels);
    json_int("froi_channels", S[0].have_loc ? S[0].roi.k : 0);
    json_str("out", a->out);
    scan_ceilings_json(json_w(), S, n, by_k);
    if (sc) json_scores(M, sc, S, min_ceiling);
    json_str("convention", "ceilings on r; normalised = raw r / ceiling (not clipped)");
    json_end();
}

/* ---- the command ------------------------------------------------------------------------------ */

static void scan_subjects(const scan_args *a, const scan_plan *p, int npos, char **pos) {
    if (!a->out) cli_die(2, "--out DIR is required (the recording folder)");
    int n;
    char **ck = find_subjects(a, npos, pos, &n), err[TB_ERRLEN];
    scan_subj *S = run_subjects(ck, n, p);
    enc_opts o;
    enc_opts_default(&o);
    o.seed = (uint64_t)a->seed;
    double *by_k = n >= 3 ? malloc((size_t)(n - 1) * sizeof *by_k) : NULL;
    if (n >= 3 && !by_k) cli_die(1, "out of memory");
    if (n > 1 && scan_group_ceilings(S, n, &o, err)) cli_die(1, "%s", err);
    if (by_k && scan_ceiling_by_count(S, n, &o, (uint64_t)a->seed, by_k, err)) cli_die(1, "%s", err);
    save(a->out, S, n, p, by_k);
    rep_set M;
    scan_scores sc;
    if (a->score && (rep_load(a->score, 1, &M, err) || scan_score(&M, S, n, &o, &sc, err))) cli_die(1, "%s", err);
    if (a->json) print_json(a, S, n, by_k, &M, a->score ? &sc : NULL, o.min_ceiling);
    else {
        print_setup(p, S, n);
        print_ceilings(S, n, by_k);
        if (p->cfg.modality == SCAN_ECOG) print_profile(&S[0].scan);
        if (a->score) print_scores(a->score, &M, &sc, S, o.min_ceiling);
        printf("\nwrote %s/ (%s): trials x stimuli x channels;\n  e.g. tinybrain compare GPT_REC %s%s%s\n", a->out,
               n > 1 ? "one sub-NN folder per subject, manifest.json, ceilings.tsv"
                     : p->localize ? "manifest.json, froi/, control/, localizer/" : "manifest.json",
               a->out, n > 1 ? "/sub-01" : "", p->localize ? "/froi" : "");
    }
    if (a->score) { scan_scores_free(&sc); rep_free(&M); }
    for (int s = 0; s < n; s++) { scan_subj_free(&S[s]); free(ck[s]); }
    free(S); free(ck); free(by_k);
}

int cmd_scan(int argc, char **argv) {
    scan_args a;
    memset(&a, 0, sizeof a);
    char *d[D_COUNT], *pos[MAX_SUBJECTS];
    default_texts(d);
    int npos = parse(&a, d, argc, argv, pos);
    scan_modality m;
    if (scan_parse_modality(a.modality, &m)) cli_die(2, "--modality %s: fmri or ecog", a.modality);
    int rc;
    if (a.print_hrf) {
        if (!(a.cfg.tr_s > 0 && a.cfg.tr_s <= 20)) cli_die(2, "--tr %g s: must be in (0, 20]", a.cfg.tr_s);
        rc = scan_print_hrf(a.cfg.tr_s, a.json);
    } else {
        scan_plan p;
        build_plan(&a, argc, argv, &p);
        if (a.truth) rc = scan_truth_cmd(&a, &p, npos, pos);
        else { scan_subjects(&a, &p, npos, pos); rc = 0; }
    }
    for (int i = 0; i < D_COUNT; i++) free(d[i]);
    return rc;
}
