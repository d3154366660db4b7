/* compare_regions.c -- the GPT against a scan's functional ROI and its control region,
 * subject by subject.  Lesson 16; see include/compare.h.
 *
 *   1. find the subjects: the scan folder itself, or its sub-NN/ folders
 *   2. per subject and region: the region's recording and its ceiling (manifest.json)
 *   3. every GPT layer against both regions; the RSA difference on shared resamples
 */
#include "ablation.h"
#include "compare.h"
#include "io.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const region_dir[2] = {"froi", "control"};

static int has_regions(const char *dir) {
    char a[1100], b[1100];
    snprintf(a, sizeof a, "%s/froi", dir);
    snprintf(b, sizeof b, "%s/control", dir);
    return rep_is_dir(a) && rep_is_dir(b);
}

static int cmp_name(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* ---- 1. the subjects ------------------------------------------------------------------- */

/* The folders holding froi/ and control/: the scan itself, or its sub-NN folders in order. */
static int subjects_of(const char *scan, char (**dirs)[1024], int *n, char *err) {
    *n = 0;
    *dirs = NULL;
    if (has_regions(scan)) {
        if (!(*dirs = malloc(sizeof **dirs))) return tb_fail(err, "out of memory");
        snprintf((*dirs)[0], 1024, "%s", scan);
        *n = 1;
        return 0;
    }
    DIR *d = opendir(scan);
    if (!d) return tb_fail(err, "%s: cannot open the scan folder", scan);
    int cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char sub[1024];
        if (strncmp(de->d_name, "sub-", 4)) continue;
        snprintf(sub, sizeof sub, "%s/%s", scan, de->d_name);
        if (!has_regions(sub)) continue;
        if (*n == cap) {
            char(*g)[1024] = realloc(*dirs, (size_t)(cap = cap ? 2 * cap : 8) * sizeof **dirs);
            if (!g) { closedir(d); free(*dirs); *dirs = NULL; return tb_fail(err, "out of memory"); }
            *dirs = g;
        }
        snprintf((*dirs)[(*n)++], 1024, "%s", sub);
    }
    closedir(d);
    if (*n == 0) return tb_fail(err, "%s: no froi/ and control/ regions (scan with the localizer on)", scan);
    qsort(*dirs, (size_t)*n, sizeof **dirs, cmp_name);
    return 0;
}

int cmp_is_scan(const char *path) {
    char (*dirs)[1024];
    int n;
    char err[TB_ERRLEN];
    if (!rep_is_dir(path) || subjects_of(path, &dirs, &n, err)) return 0;
    free(dirs);
    return 1;
}

/* ---- 2. a region ------------------------------------------------------------------------- */

/* The number after "key": in a manifest (NaN if absent or null). */
static double manifest_number(const char *dir, const char *key) {
    char path[1200], pat[80], err[TB_ERRLEN], *text;
    size_t len;
    snprintf(path, sizeof path, "%.1100s/manifest.json", dir);
    if (read_file(path, &text, &len, err)) return NAN;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    double v = NAN;
    if (p) {
        char *end;
        v = strtod(p + strlen(pat), &end);
        if (end == p + strlen(pat)) v = NAN;
    }
    free(text);
    return v;
}

/* ---- 3. the layers against both regions ---------------------------------------------------- */

static void subject_free(cmp_region_subject *s) {
    for (int k = 0; k < 2; k++) { free(s->rsa[k]); free(s->enc[k]); }
    free(s->diff); free(s->lo); free(s->hi);
}

void cmp_regions_free(cmp_regions *r) {
    for (int i = 0; r->subject && i < r->n_subjects; i++) subject_free(&r->subject[i]);
    free(r->subject);
    free(r->layer);
    memset(r, 0, sizeof *r);
}

/* Scores of every layer of G against region k of subject dir: rsa/enc and the bootstrap
 * matrix boot[b * L + l] (RSA) for the paired difference. */
static int score_region(const rep_set *G, const char *dir, int k, const cmp_opts *o, cmp_region_subject *s,
                        double *boot, char *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, region_dir[k]);
    rep_set R;
    if (rep_load(path, 1, &R, err)) return -1;
    const rep_layer *B = &R.layer[0];
    int L = G->n_layers, rc = B->n == G->layer[0].n ? 0
        : tb_fail(err, "%s has %d stimuli, the GPT recording %d", path, B->n, G->layer[0].n);
    s->ceiling[k] = manifest_number(path, "ceiling_within");
    for (int l = 0; !rc && l < L; l++) {
        align_result a;
        rc = cmp_align_one(&G->layer[l], B, o, &a, NULL, err);
        s->rsa[k][l] = a.rsa_spearman;
        s->enc[k][l] = a.encoding_r_median;
    }
    const double **X = malloc((size_t)L * sizeof *X);
    int *p = malloc((size_t)L * sizeof *p);
    if (!rc && (!X || !p)) rc = tb_fail(err, "out of memory");
    for (int l = 0; !rc && l < L; l++) { X[l] = G->layer[l].mean; p[l] = G->layer[l].p; }
    if (!rc) rc = boot_scores(X, p, L, B->n, B->mean, B->p, BOOT_RSA_SPEARMAN, RDM_CORRELATION, o->boot, o->seed, boot, err);
    free(X);
    free(p);
    rep_free(&R);
    return rc;
}

/* The fROI - control difference per layer: the point estimate and the percentile interval
 * of the per-resample differences (the same stimuli in both). */
static void differences(cmp_region_subject *s, const double *b0, const double *b1, int L, int boot) {
    double *d = malloc((size_t)boot * sizeof *d);
    for (int l = 0; l < L; l++) {
        s->diff[l] = s->rsa[0][l] - s->rsa[1][l];
        s->lo[l] = s->hi[l] = NAN;
        if (!d) continue;
        int k = 0;
        for (int b = 0; b < boot; b++) {
            double v = b0[(size_t)b * L + l] - b1[(size_t)b * L + l];
            if (isfinite(v)) d[k++] = v;
        }
        if (k >= 2) {
            s->lo[l] = abl_quantile(d, k, 0.025);
            s->hi[l] = abl_quantile(d, k, 0.975);
        }
    }
    free(d);
}

static int one_subject(const rep_set *G, const char *dir, const cmp_opts *o, cmp_region_subject *s, char *err) {
    int L = G->n_layers;
    const char *base = strrchr(dir, '/');
    snprintf(s->name, sizeof s->name, "%s", base && !strncmp(base + 1, "sub-", 4) ? base + 1 : dir);
    for (int k = 0; k < 2; k++) {
        s->rsa[k] = malloc((size_t)L * sizeof(double));
        s->enc[k] = malloc((size_t)L * sizeof(double));
    }
    s->diff = malloc((size_t)L * sizeof(double));
    s->lo = malloc((size_t)L * sizeof(double));
    s->hi = malloc((size_t)L * sizeof(double));
    double *b0 = malloc((size_t)o->boot * L * sizeof(double)), *b1 = malloc((size_t)o->boot * L * sizeof(double));
    int rc = s->rsa[0] && s->rsa[1] && s->enc[0] && s->enc[1] && s->diff && s->lo && s->hi && b0 && b1
                 ? 0 : tb_fail(err, "out of memory");
    if (!rc) rc = score_region(G, dir, 0, o, s, b0, err) || score_region(G, dir, 1, o, s, b1, err);
    if (!rc) differences(s, b0, b1, L, o->boot);
    free(b0);
    free(b1);
    return rc;
}

int cmp_regions_run(const char *gpt, const char *scan, const cmp_opts *o, cmp_regions *out, char *err) {
    memset(out, 0, sizeof *out);
    char (*dirs)[1024];
    int n;
    if (subjects_of(scan, &dirs, &n, err)) return -1;
    cmp_side G;
    int rc = cmp_side_load(gpt, 0, o, &G, err);
    if (!rc) {
        out->n_layers = G.rep.n_layers;
        out->layer = calloc((size_t)out->n_layers, sizeof *out->layer);
        out->subject = calloc((size_t)n, sizeof *out->subject);
        rc = out->layer && out->subject ? 0 : tb_fail(err, "out of memory");
        for (int l = 0; !rc && l < out->n_layers; l++) snprintf(out->layer[l], 256, "%s", G.rep.layer[l].name);
        for (int i = 0; !rc && i < n; i++) {
            out->n_subjects = i + 1;
            rc = one_subject(&G.rep, dirs[i], o, &out->subject[i], err);
            tb_progress_tell(&o->progress, i + 1, n);
        }
        rep_free(&G.rep);
    }
    free(dirs);
    if (rc) cmp_regions_free(out);
    return rc;
}
