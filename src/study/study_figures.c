/* study_figures.c -- the study's pictures, one per finding, every axis labelled with its
 * unit.  Lesson 17; see include/study.h.
 *
 *   study_training     S1, S7: alignment, minimal pairs and fact recall by training step
 *   study_references   S2: the main model's alignment beside every reference (canvas)
 *   study_width        S3: encoding r by width, with every unit, at K units, at K components
 *   study_ablation_*   S4: the random sets' harm as a histogram, the localized set's as a line
 *   study_depth        S5: alignment by relative depth, one line per configuration
 *   study_seeds        S6: linear CKA of two seeds, layer by layer (heatmap)
 * Line plots go through gnuplot (plot.h; without it their script stays for later); the
 * reference chart and the heatmap are drawn here.
 */
#include "io.h"
#include "plot.h"
#include "study_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pic_set(study_pic *p, const char *dir, const char *name, int png_ok, const char *caption) {
    snprintf(p->path, sizeof p->path, "%s/%s.png", dir, name);
    p->script[0] = 0;   /* the gnuplot script to render it later, when gnuplot was missing */
    if (!png_ok) snprintf(p->script, sizeof p->script, "%s/%s.gp", dir, name);
    snprintf(p->caption, sizeof p->caption, "%s", caption);
    p->ok = png_ok;
}

/* mean, min and max over k values (NaN skipped) */
static void spread(const double *x, int k, size_t stride, double *mean, double *lo, double *hi) {
    double s = 0;
    int n = 0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < k; i++) {
        double v = x[(size_t)i * stride];
        if (!isfinite(v)) continue;
        s += v;
        n++;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
    if (!n) *mean = *lo = *hi = NAN;
    else *mean = s / n;
}

/* ---- S1, S7: over training ------------------------------------------------------------------- */

static int fig_training(const char *dir, const study_result *r, study_pic *pic, char *err) {
    const study_data *d = &r->data;
    int n = d->t_snaps, S = d->t_seeds;
    double *v = malloc((size_t)n * 10 * sizeof *v);
    if (!v) return tb_fail(err, "out of memory");
    double *x = v, *m[3] = {v + n, v + 2 * n, v + 3 * n}, *lo[3] = {v + 4 * n, v + 5 * n, v + 6 * n},
           *hi[3] = {v + 7 * n, v + 8 * n, v + 9 * n};
    const double *src[3] = {d->t_align, d->t_formal, d->t_functional};
    for (int i = 0; i < n; i++) {
        x[i] = (double)d->t_step[i] + 1;
        for (int k = 0; k < 3; k++) spread(src[k] + i, S, (size_t)n, &m[k][i], &lo[k][i], &hi[k][i]);
    }
    tb_series s[3] = {{"alignment (RSA)", x, m[0], n, "linespoints"}, {"minimal pairs (formal)", x, m[1], n, "linespoints"},
                      {"fact recall (functional)", x, m[2], n, "linespoints"}};
    tb_band b[3] = {{"range across seeds", x, lo[0], hi[0], n, NULL}, {"", x, lo[1], hi[1], n, NULL},
                    {"", x, lo[2], hi[2], n, NULL}};
    char title[200];
    snprintf(title, sizeof title, "S1, S7: the main model over training (mean of %d seeds)", S);
    tb_lineplot lp = {title, "training step + 1 (log scale)", "RSA (Spearman r) / accuracy (fraction of pairs right)",
                      1, 0, 0, 1, 900, 520};
    int rendered;
    int rc = plot_lines_bands(dir, "study_training", &lp, s, 3, b, 3, &rendered, err);
    pic_set(pic, dir, "study_training", !rc && rendered,
            "S1 and S7: the main model's alignment with its network (RSA of the layer that is best at the end), "
            "its minimal-pair accuracy and its fact recall at every snapshot; bands: the range across seeds.");
    free(v);
    return rc;
}

/* ---- S2: the references (a dot and its interval per row, drawn on a canvas) ------------------ */

static const unsigned char INK[3] = {0, 0, 0}, DOT[3] = {31, 90, 160}, GRID[3] = {200, 200, 200};

static void forest_axis(tb_canvas *cv, const tb_chart *c, const char *xlabel) {
    double range = c->x1 - c->x0, step = range <= 0.5 ? 0.05 : range <= 1.2 ? 0.1 : 0.2;
    for (double t = ceil(c->x0 / step - 1e-9) * step; t <= c->x1 + 1e-9; t += step) {
        int px = chart_px(c, t);
        char b[32];
        snprintf(b, sizeof b, "%.2f", fabs(t) < 1e-12 ? 0.0 : t);
        canvas_line(cv, px, c->y, px, c->y + c->h, fabs(t) < 1e-12 ? INK : GRID);
        canvas_text(cv, px - canvas_text_width(b, 1) / 2, c->y + c->h + 6, b, 1, 0, INK);
    }
    canvas_line(cv, c->x, c->y + c->h, c->x + c->w, c->y + c->h, INK);
    canvas_text(cv, c->x + c->w / 2 - canvas_text_width(xlabel, 1) / 2, c->y + c->h + 24, xlabel, 1, 0, INK);
}

static int forest(const char *path, const char *title, const char *xlabel, const char *const *label, const double *v,
                  const double *lo, const double *hi, int n, char *err) {
    double x0 = 0, x1 = 0;
    for (int i = 0; i < n; i++) {
        double a = isfinite(lo[i]) ? lo[i] : v[i], b = isfinite(hi[i]) ? hi[i] : v[i];
        if (isfinite(a)) x0 = fmin(x0, a);
        if (isfinite(b)) x1 = fmax(x1, b);
    }
    x0 = floor(x0 * 10 - 0.5) / 10;
    x1 = ceil(x1 * 10 + 0.5) / 10;
    tb_canvas cv;
    int row = 26, top = 40, H = top + n * row + 60;
    if (canvas_init(&cv, 960, H, err)) return -1;
    tb_chart c = {330, top, 600, n * row, x0, x1, 0, n};
    canvas_text(&cv, 10, 12, title, 1, 0, INK);
    forest_axis(&cv, &c, xlabel);
    for (int i = 0; i < n; i++) {
        int y = top + i * row + row / 2;
        canvas_text(&cv, 10, y - 4, label[i], 1, 0, INK);
        if (!isfinite(v[i])) { canvas_text(&cv, c.x + 4, y - 4, "not measured", 1, 0, GRID); continue; }
        if (isfinite(lo[i]) && isfinite(hi[i])) {
            int a = chart_px(&c, lo[i]), b = chart_px(&c, hi[i]);
            canvas_line(&cv, a, y, b, y, DOT);
            canvas_line(&cv, a, y - 5, a, y + 5, DOT);
            canvas_line(&cv, b, y - 5, b, y + 5, DOT);
        }
        canvas_rect(&cv, chart_px(&c, v[i]) - 4, y - 4, 9, 9, DOT);
    }
    int rc = canvas_save_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}

static int fig_references(const char *dir, const study_result *r, study_pic *pic, char *err) {
    const char *label[STUDY_N_REFS + 4];
    double v[STUDY_N_REFS + 4], lo[STUDY_N_REFS + 4], hi[STUDY_N_REFS + 4];
    int n = 0;
    for (int k = 0; k < STUDY_N_REFS; k++, n++) {
        label[n] = study_ref_name[k];
        v[n] = r->ref[k];
        lo[n] = r->ref_lo[k];
        hi[n] = r->ref_hi[k];
    }
    for (int k = 0; r->have_scan && k < 4; k++, n++) {
        label[n] = study_scan_name[k];
        v[n] = r->scan_rsa[k];
        lo[n] = r->scan_lo[k];
        hi[n] = r->scan_hi[k];
    }
    char path[1200], title[200];
    snprintf(path, sizeof path, "%s/study_references.png", dir);
    snprintf(title, sizeof title, "S2: the main model and what it is read against (mean of %d seeds, 95%% intervals)",
             r->design.seeds);
    int rc = forest(path, title, "RSA with the network's firing rates (Spearman r; the scans: with the fMRI betas)",
                    label, v, lo, hi, n, err);
    pic_set(pic, dir, "study_references", !rc,
            "S2: RSA with the network of the trained GPT's best layer and of every reference (dots: mean over seeds; "
            "bars: 95% hierarchical bootstrap intervals; the seed-to-seed rows have none), then the same models "
            "against the virtual scanner's fMRI of the networks.");
    return rc;
}

/* ---- S3: width --------------------------------------------------------------------------- */

/* The distinct values of x[n] in ascending order into u; returns how many. */
static int distinct(const double *x, int n, double *u) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        int j = 0;
        while (j < k && u[j] != x[i]) j++;
        if (j < k) continue;
        for (j = k++; j > 0 && u[j - 1] > x[i]; j--) u[j] = u[j - 1];
        u[j] = x[i];
    }
    return k;
}

/* Final i's best layer on measure q: 0 every unit, 1 K random units, 2 K components. */
static double width_value(const study_final *F, int q) {
    const double *src[3] = {F->enc, F->enc_units, F->enc_pca};
    return study_best(src[q], F->n_layers);
}

static int fig_width(const char *dir, const study_result *r, study_pic *pic, char *err) {
    int n = r->n_final, nw = 0;
    double *v = malloc((size_t)n * 13 * sizeof *v);   /* w, val, x, then m, lo, hi of each measure */
    if (!v) return tb_fail(err, "out of memory");
    double *w = v, *val = v + n, *x = v + 2 * n, *m[3], *lo[3], *hi[3];
    for (int q = 0; q < 3; q++) { m[q] = v + (size_t)(3 + q) * n; lo[q] = v + (size_t)(6 + q) * n; hi[q] = v + (size_t)(9 + q) * n; }
    for (int i = 0; i < n; i++)
        if (r->gpt[r->final[i].model].depth == r->design.depth) w[nw++] = r->gpt[r->final[i].model].width;
    int k = distinct(w, nw, w);
    for (int j = 0; j < k; j++) {
        x[j] = w[j];
        for (int q = 0; q < 3; q++) {
            int cnt = 0;
            for (int i = 0; i < n; i++) {
                const study_model *g = &r->gpt[r->final[i].model];
                if (g->depth == r->design.depth && g->width == w[j]) val[cnt++] = width_value(&r->final[i], q);
            }
            spread(val, cnt, 1, &m[q][j], &lo[q][j], &hi[q][j]);
        }
    }
    char l1[80], l2[80];
    snprintf(l1, sizeof l1, "%d random units", r->design.units);
    snprintf(l2, sizeof l2, "%d principal components", r->design.units);
    tb_series s[3] = {{"every unit", x, m[0], k, "linespoints"}, {l1, x, m[1], k, "linespoints"},
                      {l2, x, m[2], k, "linespoints"}};
    tb_band b[3] = {{"range across seeds", x, lo[0], hi[0], k, NULL}, {"", x, lo[1], hi[1], k, NULL},
                    {"", x, lo[2], hi[2], k, NULL}};
    tb_lineplot lp = {"S3: alignment by width, with and without a fixed number of features (best layer)",
                      "d_model (units per layer)", "encoding r (median over neurons, held out)", 0, 0, NAN, NAN,
                      900, 520};
    int rendered, rc = plot_lines_bands(dir, "study_width", &lp, s, 3, b, 3, &rendered, err);
    pic_set(pic, dir, "study_width", !rc && rendered,
            "S3: the best layer's encoding r (cross-validated ridge from the layer to the network's neurons, median "
            "over neurons) by width: with every unit, at a fixed number of random units, and at as many principal "
            "components; bands: the range across seeds.");
    free(v);
    return rc;
}

/* ---- S4: the localized set against the random sets (seed 1) -------------------------------- */

static int fig_ablation(const char *dir, const study_result *r, int measure, study_pic *pic, char *err) {
    const study_data *d = &r->data;
    enum { BINS = 20 };
    const double *rnd = measure ? d->a_acc_rand : d->a_loss_rand;
    double local = measure ? d->a_acc[0] : d->a_loss[0], lo = local, hi = local, x[BINS + 1], y[BINS + 1] = {0};
    for (int i = 0; i < d->a_sets; i++) { lo = fmin(lo, rnd[i]); hi = fmax(hi, rnd[i]); }
    double w = hi > lo ? (hi - lo) / BINS : 1;
    for (int b = 0; b <= BINS; b++) x[b] = lo + b * w;
    for (int i = 0; i < d->a_sets; i++) y[(int)fmin(BINS - 1, floor((rnd[i] - lo) / w))] += 1;
    y[BINS] = y[BINS - 1];
    double top = 0;
    for (int b = 0; b < BINS; b++) top = fmax(top, y[b]);
    double lx[2] = {local, local}, ly[2] = {0, top + 1};
    char name[64], title[200], xl[120], cap[600];
    snprintf(name, sizeof name, "study_ablation_%s", measure ? "pairs" : "loss");
    snprintf(title, sizeof title, "S4: %d localized units vs %d random sets of %d (seed 1, last layer of %d units)",
             r->s4_k, d->a_sets, r->s4_k, r->s4_units);
    snprintf(xl, sizeof xl, "%s with the units zeroed", measure ? "minimal-pair accuracy (fraction right)"
                                                                : "validation loss (nats per token)");
    tb_series s[2] = {{"random sets", x, y, BINS + 1, "steps"}, {"the localized set", lx, ly, 2, "lines"}};
    tb_lineplot lp = {title, xl, "random sets (count per bin)", 0, 0, 0, NAN, 900, 460};
    int rendered, rc = plot_lines(dir, name, &lp, s, 2, &rendered, err);
    snprintf(cap, sizeof cap, "S4: %s after zeroing the localized units (line) and after zeroing each of %d random "
             "sets of as many units of the same layer (histogram), main model, seed 1.",
             measure ? "minimal-pair accuracy" : "validation loss", d->a_sets);
    pic_set(pic, dir, name, !rc && rendered, cap);
    return rc;
}

/* ---- S5: alignment by relative depth ------------------------------------------------------------ */

static int same_config(const study_result *r, int i, int j) {
    const study_model *a = &r->gpt[r->final[i].model], *b = &r->gpt[r->final[j].model];
    return a->width == b->width && a->depth == b->depth;
}

/* Configuration k's line (its first final model is f): x, mean, lo, hi over seeds in p[4][L]. */
static void depth_line(const study_result *r, int f, double *p, double *v) {
    int L = r->final[f].n_layers;
    for (int l = 0; l < L; l++) {
        int cnt = 0;
        for (int i = 0; i < r->n_final; i++)
            if (same_config(r, i, f)) v[cnt++] = r->final[i].rsa[l];
        p[l] = (double)l / (L - 1);
        spread(v, cnt, 1, &p[L + l], &p[2 * L + l], &p[3 * L + l]);
    }
}

static int fig_depth(const char *dir, const study_result *r, study_pic *pic, char *err) {
    int n = r->n_final, nc = 0, *first = malloc((size_t)n * sizeof *first);   /* each configuration's first model */
    size_t cells = 0;
    for (int i = 0; first && i < n; i++) {
        int j = 0;
        while (j < i && !same_config(r, i, j)) j++;
        if (j == i) { first[nc++] = i; cells += (size_t)r->final[i].n_layers; }
    }
    double *v = malloc((4 * cells + (size_t)n) * sizeof *v), *p = v ? v + n : NULL;
    tb_series *s = malloc((size_t)nc * sizeof *s);
    tb_band *b = malloc((size_t)nc * sizeof *b);
    char (*label)[64] = malloc((size_t)nc * sizeof *label);
    int rc = first && v && s && b && label ? 0 : tb_fail(err, "out of memory");
    for (int k = 0; !rc && k < nc; k++) {
        const study_model *g = &r->gpt[r->final[first[k]].model];
        int L = r->final[first[k]].n_layers;
        depth_line(r, first[k], p, v);
        snprintf(label[k], sizeof label[k], "d_model %d, %d blocks", g->width, g->depth);
        s[k] = (tb_series){label[k], p, p + L, L, "linespoints"};
        b[k] = (tb_band){k ? "" : "range across seeds", p, p + 2 * L, p + 3 * L, L, NULL};
        p += 4 * L;
    }
    tb_lineplot lp = {"S5: alignment by relative depth (mean over seeds)",
                      "relative depth (0 = embedding, 1 = last block)", "RSA with the network (Spearman r)", 0, 0, NAN,
                      NAN, 900, 520};
    int rendered = 0;
    if (!rc) rc = plot_lines_bands(dir, "study_depth", &lp, s, nc, b, nc, &rendered, err);
    pic_set(pic, dir, "study_depth", !rc && rendered,
            "S5: every layer's RSA with the network on a common axis of relative depth, one line per configuration "
            "(width and depth); bands: the range across seeds.");
    free(first); free(v); free(s); free(b); free(label);
    return rc;
}

/* ---- S6: two seeds, layer by layer --------------------------------------------------------------- */

static int fig_seeds(const char *dir, const study_result *r, study_pic *pic, char *err) {
    const study_data *d = &r->data;
    int best = 0;
    for (int m = 1; m < d->s_n; m++)
        if (d->s_layers[m] > d->s_layers[best]) best = m;
    int L = d->s_layers[best];
    const study_model *a = &r->gpt[r->pair_gpt[2 * best]], *b = &r->gpt[r->pair_gpt[2 * best + 1]];
    const study_final *F = NULL;
    for (int i = 0; i < r->n_final && !F; i++)
        if (r->final[i].model == r->pair_gpt[2 * best]) F = &r->final[i];
    float *M = malloc((size_t)L * L * sizeof *M);
    const char **names = malloc((size_t)L * sizeof *names);
    if (!M || !names || !F) { free(M); free(names); return tb_fail(err, "out of memory"); }
    for (int i = 0; i < L * L; i++) M[i] = (float)d->s_cka[best][i];
    for (int l = 0; l < L; l++) names[l] = F->layer[l];
    char path[1200], title[200], xl[80], yl[80];
    snprintf(path, sizeof path, "%s/study_seeds.png", dir);
    snprintf(title, sizeof title, "S6: %d x %d blocks, seed %d vs %d", a->width, a->depth, a->seed, b->seed);
    snprintf(xl, sizeof xl, "layer of seed %d", b->seed);
    snprintf(yl, sizeof yl, "layer of seed %d", a->seed);
    tb_heatmap o = {title, xl, yl, names, names, 0, 1, CMAP_VIRIDIS, "linear CKA", 64};
    int rc = plot_heatmap_png(path, M, L, L, &o, err);
    pic_set(pic, dir, "study_seeds", !rc,
            "S6: linear CKA between every layer of one seed and every layer of another seed of the same configuration "
            "(the deepest one measured); a bright diagonal means layer l corresponds to layer l.");
    free(M);
    free(names);
    return rc;
}

int study_figures(const char *dir, const study_result *r, study_pic pic[STUDY_N_PICS], char *err) {
    memset(pic, 0, STUDY_N_PICS * sizeof *pic);
    if (make_dirs(dir, err)) return -1;
    const study_data *d = &r->data;
    char e[TB_ERRLEN];
    int rc = 0;
    /* a picture that cannot be drawn (no data, no gnuplot) is left out and the page says so */
    if (d->t_snaps > 0 && fig_training(dir, r, &pic[STUDY_PIC_TRAINING], e)) rc = tb_fail(err, "%s", e);
    if (fig_references(dir, r, &pic[STUDY_PIC_REFERENCES], e)) rc = tb_fail(err, "%s", e);
    if (d->w_n > 0 && fig_width(dir, r, &pic[STUDY_PIC_WIDTH], e)) rc = tb_fail(err, "%s", e);
    if (d->a_seeds > 0 && fig_ablation(dir, r, 0, &pic[STUDY_PIC_ABL_LOSS], e)) rc = tb_fail(err, "%s", e);
    if (d->a_seeds > 0 && fig_ablation(dir, r, 1, &pic[STUDY_PIC_ABL_PAIRS], e)) rc = tb_fail(err, "%s", e);
    if (r->n_final > 0 && fig_depth(dir, r, &pic[STUDY_PIC_DEPTH], e)) rc = tb_fail(err, "%s", e);
    if (d->s_n > 0 && fig_seeds(dir, r, &pic[STUDY_PIC_SEEDS], e)) rc = tb_fail(err, "%s", e);
    return rc;
}
