/* scan_save.c -- a scan as a recording folder that `align`, `compare` and `localize` read
 * like `record`'s, with everything a lab would keep beside it (the layout of the folder is
 * in include/scan.h).  Lesson 16. */
#include "json.h"
#include "scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *main_name(scan_modality m) { return m == SCAN_FMRI ? "fmri_betas" : "ecog_window"; }

#define CEILING_CONVENTION                                                                                           \
    "on r. within: split-half reliability over trials, Spearman-Brown corrected, square-rooted, median over "         \
    "channels; across: each subject predicted from the others by cross-validated ridge, median r over its channels "  \
    "(Brain-Score's ceiling without the extrapolation to infinitely many subjects). Normalised score = raw r / "      \
    "ceiling (Brain-Score also clips it to [0, 1]; we do not)"

/* ---- arrays ---------------------------------------------------------------------------- */

typedef struct {
    const char *dir;
    json_writer *w;   /* the manifest's "arrays" list */
    char *err;
    int rc;
} saver;

/* DIR/FILE as float32 with the given shape, listed in the manifest with its dims. */
static void put_f32(saver *sv, const char *file, const float *x, int ndim, const int64_t *shape, const char *dims) {
    if (sv->rc) return;
    char *path = tb_strf("%s/%s", sv->dir, file);
    sv->rc = path ? npy_write_f32(path, x, ndim, shape, sv->err) : tb_fail(sv->err, "out of memory");
    free(path);
    if (sv->rc || !sv->w) return;
    long long sh[8];
    for (int d = 0; d < ndim; d++) sh[d] = shape[d];
    jw_object(sv->w, NULL, JW_COMPACT);
    jw_str(sv->w, "file", file);
    jw_ints(sv->w, "shape", sh, ndim);
    jw_str(sv->w, "dims", dims);
    jw_end(sv->w);
}

/* The same for doubles (converted). */
static void put_f64(saver *sv, const char *file, const double *x, int ndim, const int64_t *shape, const char *dims) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
    float *f = sv->rc ? NULL : malloc((n ? n : 1) * sizeof *f);
    if (!sv->rc && !f) sv->rc = tb_fail(sv->err, "out of memory");
    for (size_t i = 0; f && i < n; i++) f[i] = (float)x[i];
    if (f) put_f32(sv, file, f, ndim, shape, dims);
    free(f);
}

static void put_text(saver *sv, const char *file, const char *text) {
    if (sv->rc) return;
    char *path = tb_strf("%s/%s", sv->dir, file);
    sv->rc = path && text ? write_text_file(path, text, sv->err) : tb_fail(sv->err, "out of memory");
    free(path);
}

/* ---- the manifest ---------------------------------------------------------------------- */

static void params_json(json_writer *w, const scan_config *c, const scan_plan *p) {
    jw_object(w, "params", JW_LINES);
    jw_int(w, "seed", (long long)c->seed);
    jw_int(w, "study_seed", (long long)p->cfg.seed);
    jw_num(w, "sheet_mm", c->sheet_mm);
    jw_num(w, c->modality == SCAN_FMRI ? "voxel_mm" : "electrode_mm", c->channel_mm);
    jw_num(w, "coverage", c->coverage);
    jw_num(w, "topography", c->topography);
    jw_num(w, "snr", c->snr);
    jw_num(w, "noise_hz", p->noise_hz);
    if (c->modality == SCAN_FMRI) {
        jw_num(w, "tr_s", c->tr_s);
        jw_num(w, "word_ms", c->word_ms);
        jw_num(w, "isi_s", c->isi_s);
        jw_num(w, "jitter_s", c->jitter_s);
        jw_num(w, "rest_s", c->rest_s);
        jw_num(w, "ar", c->ar);
        jw_num(w, "frac_ar", c->frac_ar);
        jw_num(w, "frac_drift", c->frac_drift);
        jw_num(w, "hp_cutoff_s", c->hp_cutoff_s);
    } else {
        jw_num(w, "tau_ms", c->tau_ms);
        jw_num(w, "window_from_ms", c->win_from_ms);
        jw_num(w, "window_to_ms", c->win_to_ms);
    }
    jw_int(w, "loc_runs", p->localize ? p->loc_runs : 0);
    jw_num(w, "froi_top_pct", p->froi_top);
    jw_end(w);
}

static void head_json(json_writer *w, const scan_result *r, const scan_config *c, const char *kind, int subjects) {
    int fmri = c->modality == SCAN_FMRI;
    jw_str(w, "kind", kind);
    jw_str(w, "modality", scan_modality_name(c->modality));
    jw_int(w, "subjects", subjects);
    jw_int(w, "trials", r->trials);
    jw_str(w, "trials_are", fmri ? "runs" : "repeats");
    jw_int(w, "stimuli", r->stimuli);
    jw_str(w, "units", fmri ? "GLM beta of each stimulus per run (a.u.)" : "mean local population activity in the window (a.u.)");
}

static void ceiling_json(json_writer *w, const scan_subj *s) {
    jw_object(w, "ceiling", JW_LINES);
    const double *v[2] = {s->within, s->across};
    for (int q = 0; q < 2; q++) {
        jw_object(w, q ? "across" : "within", JW_COMPACT);
        for (int g = 0; g < SCAN_N_REGIONS; g++) jw_num(w, scan_region_name[g], v[q][g]);
        jw_end(w);
    }
    jw_str(w, "convention", CEILING_CONVENTION);
    jw_end(w);
}

static void localizer_json(json_writer *w, const scan_subj *s, const scan_plan *p) {
    if (!s->have_loc) return;
    long long *idx = malloc((size_t)s->roi.k * sizeof *idx);
    if (!idx) { jw_null(w, "localizer"); return; }
    jw_object(w, "localizer", JW_LINES);
    jw_str(w, "sentences", p->loc_sent);
    jw_str(w, "control", p->loc_ctrl);
    jw_int(w, "runs", s->loc.trials);
    jw_str(w, "contrast", "Welch t of the trial-mean response across stimuli, sentences > control (signed)");
    jw_int(w, "k", s->roi.k);
    for (int q = 0; q < 2; q++) {
        for (int j = 0; j < s->roi.k; j++) idx[j] = (q ? s->roi.control : s->roi.froi)[j];
        jw_ints(w, q ? "control" : "froi", idx, s->roi.k);
    }
    jw_end(w);
    free(idx);
}

/* ---- the folder ------------------------------------------------------------------------ */

/* Write w's finished text as DIR/FILE. */
static void put_json(saver *sv, const char *file, json_writer *w) {
    char *path = tb_strf("%s/%s", sv->dir, file);
    if (!sv->rc) sv->rc = path ? jw_save(w, path, sv->err) : tb_fail(sv->err, "out of memory");
    free(path);
}

/* A region's folder: the main array on its channels, and a manifest saying which. */
static void put_region(saver *sv, const scan_subj *s, int g, int subjects) {
    const scan_result *r = &s->scan;
    const int *idx = g == SCAN_FROI ? s->roi.froi : s->roi.control;
    int k = s->roi.k;
    long rows = (long)r->trials * r->stimuli;
    double *x = malloc((size_t)rows * k * sizeof *x);
    long long *li = malloc((size_t)k * sizeof *li);
    char *file = tb_strf("%s/%s.npy", scan_region_name[g], main_name(r->modality));
    char *mfile = tb_strf("%s/manifest.json", scan_region_name[g]);
    if (!sv->rc && (!x || !li || !file || !mfile)) sv->rc = tb_fail(sv->err, "out of memory");
    json_writer w;
    jw_init(&w);
    jw_object(&w, NULL, JW_LINES);
    head_json(&w, r, &s->cfg, "scan region", subjects);
    jw_str(&w, "region", scan_region_name[g]);
    jw_int(&w, "channels", k);
    for (int j = 0; li && j < k; j++) li[j] = idx[j];
    if (li) jw_ints(&w, "channel_index", li, k);
    jw_num(&w, "ceiling_within", s->within[g]);
    jw_num(&w, "ceiling_across", s->across[g]);
    jw_array(&w, "arrays", JW_LINES);
    if (!sv->rc) {
        scan_subset(r->resp, rows, r->channels, idx, k, x);
        int64_t shape[3] = {r->trials, r->stimuli, k};
        saver sub = {sv->dir, &w, sv->err, 0};
        put_f64(&sub, file, x, 3, shape, "trials x stimuli x channels");
        sv->rc = sub.rc;
    }
    jw_end(&w);
    jw_end(&w);
    put_json(sv, mfile, &w);
    jw_free(&w);
    free(x); free(li); free(file); free(mfile);
}

/* froi.txt / control.txt: the region's channels, one per line (localize --units-out's format). */
static void put_index(saver *sv, const scan_subj *s, int g) {
    const int *idx = g == SCAN_FROI ? s->roi.froi : s->roi.control;
    char *text = g == SCAN_FROI ? tb_strf("# froi channels of %s (localizer: the top %d of %d by t, sentences > control), "
                                          "best first\n", s->model, s->roi.k, s->roi.channels)
                                  : tb_strf("# control channels of %s (%d of %d: responsive, the least selective by |t| "
                                            "outside the fROI)\n", s->model, s->roi.k, s->roi.channels);
    for (int j = 0; text && j < s->roi.k; j++) {
        char *t = tb_strf("%s%d\n", text, idx[j]);
        free(text);
        text = t;
    }
    char *file = tb_strf("%s.txt", scan_region_name[g]);
    put_text(sv, file, text);
    free(text);
    free(file);
}

/* DIR/FILE as a TSV of rows x cols malloc'd cells (NULL where memory ran out); frees them. */
static void put_cells(saver *sv, const char *file, int cols, const char *const *head, int rows, char **cells) {
    int ok = cells != NULL;
    for (int i = 0; ok && i < rows * cols; i++) ok = cells[i] != NULL;
    char *path = tb_strf("%s/%s", sv->dir, file);
    if (!sv->rc) sv->rc = ok && path ? tsv_write(path, cols, head, rows, (const char *const *)cells, sv->err)
                                     : tb_fail(sv->err, "out of memory");
    for (int i = 0; cells && i < rows * cols; i++) free(cells[i]);
    free(cells);
    free(path);
}

/* channels.tsv: one row per channel. */
static void put_channels(saver *sv, const scan_subj *s) {
    const scan_result *r = &s->scan;
    int C = r->channels, cols = 8;
    static const char *const head[8] = {"channel", "x_mm", "y_mm", "pooled_weight", "neurons_eff", "signal_sd",
                                        "loc_t", "region"};
    char **cells = calloc((size_t)C * cols, sizeof *cells);
    for (int c = 0; cells && c < C; c++) {
        const char *reg = "-";
        for (int j = 0; s->have_loc && j < s->roi.k; j++) {
            if (s->roi.froi[j] == c) reg = "froi";
            if (s->roi.control[j] == c) reg = "control";
        }
        char **row = cells + (size_t)c * cols;
        row[0] = tb_strf("%d", c);
        row[1] = tb_strf("%.3f", r->chan_xy[2 * c]);
        row[2] = tb_strf("%.3f", r->chan_xy[2 * c + 1]);
        row[3] = tb_strf("%.4g", r->chan_weight[c]);
        row[4] = tb_strf("%.4g", r->chan_neff[c]);
        row[5] = tb_strf("%.4g", r->chan_sd[c]);
        row[6] = s->have_loc ? tb_strf("%.4f", s->roi.t[c]) : tb_strf("-");
        row[7] = tb_strf("%s", reg);
    }
    put_cells(sv, "channels.tsv", cols, head, C, cells);
}

/* design.tsv (fMRI): every stimulus's onset in every run. */
static void put_design(saver *sv, const scan_result *r) {
    int n = r->stimuli, rows = r->trials * n, cols = 5;
    static const char *const head[5] = {"run", "position", "stimulus", "onset_s", "duration_s"};
    char **cells = calloc((size_t)rows * cols, sizeof *cells);
    for (int t = 0; cells && t < r->trials; t++)
        for (int q = 0; q < n; q++) {
            int i = r->order[(size_t)t * n + q];
            char **row = cells + ((size_t)t * n + q) * cols;
            row[0] = tb_strf("%d", t);
            row[1] = tb_strf("%d", q);
            row[2] = tb_strf("%d", i);
            row[3] = tb_strf("%.4f", r->onset_s[(size_t)t * n + i]);
            row[4] = tb_strf("%.4f", r->dur_s[i]);
        }
    put_cells(sv, "design.tsv", cols, head, rows, cells);
}

/* What the modality keeps beside the response: the BOLD series, or the time courses. */
static void put_series(saver *sv, const scan_result *r) {
    int T = r->trials, n = r->stimuli, C = r->channels;
    if (r->modality == SCAN_FMRI) {
        int64_t shape[3] = {T, r->max_scans, C};
        put_f32(sv, "bold/bold.npy", r->bold, 3, shape, "runs x scans x voxels (NaN past a run's end)");
        put_design(sv, r);
        return;
    }
    int64_t tok[4] = {T, n, r->max_tokens, C}, step[3] = {n, r->max_steps, C};
    put_f32(sv, "timecourse/token.npy", r->tc_token, 4, tok, "repeats x stimuli x tokens x electrodes (NaN past the end)");
    size_t m = (size_t)n * r->max_steps * C;
    float *mean = sv->rc ? NULL : calloc(m ? m : 1, sizeof *mean);
    if (!sv->rc && !mean) sv->rc = tb_fail(sv->err, "out of memory");
    for (int t = 0; mean && t < T; t++)
        for (size_t i = 0; i < m; i++) mean[i] += r->tc[(size_t)t * m + i] / T;
    if (mean) put_f32(sv, "timecourse/step_mean.npy", mean, 3, step, "stimuli x steps x electrodes (mean over repeats)");
    free(mean);
}

static void put_layout(saver *sv, const scan_result *r) {
    int64_t cxy[2] = {r->channels, 2}, nxy[2] = {r->neurons, 2}, pool[2] = {r->channels, r->neurons};
    put_f64(sv, "layout/channel_xy.npy", r->chan_xy, 2, cxy, "channels x (x, y) mm");
    put_f64(sv, "layout/neuron_xy.npy", r->neuron_xy, 2, nxy, "neurons x (x, y) mm");
    put_f64(sv, "layout/pool.npy", r->pool, 2, pool, "channels x neurons (pooling weights)");
}

/* The localizer session's responses by condition, the index files and the region folders. */
static void put_localizer(saver *sv, const scan_subj *s, int subjects) {
    const scan_result *L = &s->loc;
    int C = L->channels, ns = s->roi.n_sent, nc = s->roi.n_ctrl;
    size_t per = (size_t)C;
    double *a = malloc((size_t)L->trials * ns * per * sizeof *a), *b = malloc((size_t)L->trials * nc * per * sizeof *b);
    if (!sv->rc && (!a || !b)) sv->rc = tb_fail(sv->err, "out of memory");
    for (int t = 0; a && b && t < L->trials; t++) {
        const double *src = L->resp + (size_t)t * L->stimuli * per;
        memcpy(a + (size_t)t * ns * per, src, (size_t)ns * per * sizeof *a);
        memcpy(b + (size_t)t * nc * per, src + (size_t)ns * per, (size_t)nc * per * sizeof *b);
    }
    int64_t sa[3] = {L->trials, ns, C}, sb[3] = {L->trials, nc, C};
    if (a && b) {
        put_f64(sv, "localizer/sentences.npy", a, 3, sa, "trials x sentences x channels (localizer session)");
        put_f64(sv, "localizer/control.npy", b, 3, sb, "trials x control stimuli x channels (localizer session)");
    }
    free(a);
    free(b);
    for (int g = SCAN_FROI; g <= SCAN_CONTROL; g++) {
        put_index(sv, s, g);
        put_region(sv, s, g, subjects);
    }
}

/* Arrays an earlier scan left in the folder would be read as more layers: the other
 * modality's (keep = this one's), or both (keep < 0: the folder of a group, which holds
 * subject folders only). */
static void remove_stale(const char *dir, int keep) {
    static const char *const sub[4] = {"", "clean/", "froi/", "control/"};
    for (int m = SCAN_FMRI; m <= SCAN_ECOG; m++)
        for (int q = 0; q < 4 && m != keep; q++) {
            char *path = tb_strf("%s/%s%s.npy", dir, sub[q], main_name((scan_modality)m));
            if (path) unlink(path);
            free(path);
        }
}

int scan_save_subject(const char *dir, const scan_subj *s, const scan_plan *p, int subjects, char *err) {
    const scan_result *r = &s->scan;
    int fmri = r->modality == SCAN_FMRI;
    json_writer w;
    jw_init(&w);
    jw_object(&w, NULL, JW_LINES);
    head_json(&w, r, &s->cfg, "scan", subjects);
    jw_str(&w, "stimuli_file", p->stimuli);
    jw_int(&w, "channels", r->channels);
    jw_str(&w, "channels_are", fmri ? "voxels" : "electrodes");
    jw_str(&w, "model", s->model);
    jw_int(&w, "subject", s->index + 1);
    jw_int(&w, "neurons", r->neurons);
    jw_num(&w, "signal_sd", r->signal_sd);
    jw_num(&w, "noise_sd", r->noise_sd);
    params_json(&w, &s->cfg, p);
    ceiling_json(&w, s);
    localizer_json(&w, s, p);
    jw_array(&w, "arrays", JW_LINES);
    remove_stale(dir, (int)r->modality);
    saver sv = {dir, &w, err, 0};
    int64_t shape[3] = {r->trials, r->stimuli, r->channels};
    char *file = tb_strf("%s.npy", main_name(r->modality)), *clean = tb_strf("clean/%s.npy", main_name(r->modality));
    if (!file || !clean) sv.rc = tb_fail(err, "out of memory");
    else {
        put_f64(&sv, file, r->resp, 3, shape, "trials x stimuli x channels");
        put_f64(&sv, clean, r->resp_clean, 3, shape, "trials x stimuli x channels (no measurement noise)");
    }
    free(file);
    free(clean);
    put_series(&sv, r);
    put_layout(&sv, r);
    if (s->have_loc) put_localizer(&sv, s, subjects);
    put_channels(&sv, s);
    jw_end(&w);
    jw_end(&w);
    put_json(&sv, "manifest.json", &w);
    jw_free(&w);
    return sv.rc;
}

/* ---- the group ------------------------------------------------------------------------- */

void scan_ceilings_json(json_writer *w, const scan_subj *S, int n, const double *by_k) {
    double *v = malloc((size_t)n * sizeof *v);
    if (!v) { jw_null(w, "ceiling"); return; }
    jw_object(w, "ceiling", JW_LINES);
    for (int q = 0; q < 2; q++) {
        jw_object(w, q ? "across" : "within", JW_LINES);
        for (int g = 0; g < SCAN_N_REGIONS; g++) {
            for (int s = 0; s < n; s++) v[s] = q ? S[s].across[g] : S[s].within[g];
            jw_nums(w, scan_region_name[g], v, n);
        }
        for (int g = 0; g < SCAN_N_REGIONS; g++) {
            for (int s = 0; s < n; s++) v[s] = q ? S[s].across[g] : S[s].within[g];
            char key[32];
            snprintf(key, sizeof key, "%s_median", scan_region_name[g]);
            jw_num(w, key, scan_median(v, n));
        }
        jw_end(w);
    }
    if (by_k) {
        long long *k = malloc((size_t)n * sizeof *k);
        for (int j = 0; k && j < n - 1; j++) k[j] = j + 2;
        jw_object(w, "across_by_subjects", JW_COMPACT);
        if (k) jw_ints(w, "subjects", k, n - 1);
        jw_nums(w, "ceiling", by_k, n - 1);
        jw_end(w);
        free(k);
    }
    jw_str(w, "convention", CEILING_CONVENTION);
    jw_end(w);
    free(v);
}

int scan_save_group(const char *dir, const scan_subj *S, int n, const scan_plan *p, const double *by_k, char *err) {
    json_writer w;
    jw_init(&w);
    jw_object(&w, NULL, JW_LINES);
    head_json(&w, &S[0].scan, &S[0].cfg, "scan group", n);
    jw_int(&w, "channels", S[0].scan.channels);
    jw_array(&w, "subject_dirs", JW_COMPACT);
    for (int s = 0; s < n; s++) {
        char name[32];
        snprintf(name, sizeof name, "sub-%02d", s + 1);
        jw_str(&w, NULL, name);
    }
    jw_end(&w);
    jw_array(&w, "models", JW_LINES);
    for (int s = 0; s < n; s++) jw_str(&w, NULL, S[s].model);
    jw_end(&w);
    params_json(&w, &p->cfg, p);
    scan_ceilings_json(&w, S, n, by_k);
    jw_end(&w);
    remove_stale(dir, -1);
    saver sv = {dir, NULL, err, 0};
    static const char *const head[5] = {"subject", "model", "region", "ceiling_within", "ceiling_across"};
    char **cells = calloc((size_t)n * SCAN_N_REGIONS * 5, sizeof *cells);
    for (int s = 0; cells && s < n; s++)
        for (int g = 0; g < SCAN_N_REGIONS; g++) {
            char **row = cells + ((size_t)s * SCAN_N_REGIONS + g) * 5;
            row[0] = tb_strf("sub-%02d", s + 1);
            row[1] = tb_strf("%s", S[s].model);
            row[2] = tb_strf("%s", scan_region_name[g]);
            row[3] = tb_strf("%.4f", S[s].within[g]);
            row[4] = tb_strf("%.4f", S[s].across[g]);
        }
    put_cells(&sv, "ceilings.tsv", 5, head, n * SCAN_N_REGIONS, cells);
    put_json(&sv, "manifest.json", &w);
    jw_free(&w);
    return sv.rc;
}
