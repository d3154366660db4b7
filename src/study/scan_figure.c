/* scan_figure.c -- the picture and the table of the true code against its measurements
 * (scan_truth, src/study/scan_truth.c).  Lesson 16.
 *
 * One small panel per metric of the catalogue (compare.h), the model's layers along x, one
 * line per measurement, so a student sees at a glance which metrics measurement lowers,
 * which it leaves alone, and whether the best layer stays the best. */
#include "compare.h"
#include "plot.h"
#include "scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PANEL_W 250
#define PANEL_H 170
#define PANEL_COLS 5

/* The metrics drawn: everything but the p-values. */
static int drawn_metrics(int *m) {
    int n = 0;
    for (int i = 0; i < cmp_n_metrics; i++)
        if (!(cmp_metrics[i].family & CMP_STAT)) m[n++] = i;
    return n;
}

/* Measurement k's colour: the rates black, the scans along a colormap. */
static void meas_rgb(int k, int n, unsigned char rgb[3]) {
    if (k == 0) { rgb[0] = rgb[1] = rgb[2] = 20; return; }
    cmap_rgb(CMAP_VIRIDIS, 0.9 * (k - 1) / (n > 2 ? n - 2 : 1), rgb);
}

/* The finite range of metric mi over every measurement and layer (0 included). */
static void metric_range(const scan_truth *t, int mi, double *lo, double *hi) {
    *lo = 0;
    *hi = 0;
    for (int k = 0; k < t->n_meas; k++)
        for (int l = 0; l < t->n_layers; l++) {
            double v = cmp_value(scan_truth_at(t, k, l), mi);
            if (!isfinite(v)) continue;
            if (v < *lo) *lo = v;
            if (v > *hi) *hi = v;
        }
    if (*hi - *lo < 1e-9) *hi = *lo + 1;
    *hi += 0.05 * (*hi - *lo);
}

static void panel(tb_canvas *cv, const scan_truth *t, int mi, int x, int y) {
    double lo, hi;
    metric_range(t, mi, &lo, &hi);
    tb_chart c = {x + 50, y + 24, PANEL_W - 70, PANEL_H - 60, -0.25, t->n_layers - 0.75, lo, hi};
    char title[96];
    snprintf(title, sizeof title, "%s%s", cmp_metrics[mi].key, strcmp(cmp_metrics[mi].kind, "distance") ? "" : " (distance)");
    chart_axes(cv, &c, "layer", NULL, title);
    for (int k = 0; k < t->n_meas; k++) {
        unsigned char rgb[3];
        meas_rgb(k, t->n_meas, rgb);
        int px = -1, py = -1;
        for (int l = 0; l < t->n_layers; l++) {
            double v = cmp_value(scan_truth_at(t, k, l), mi);
            if (!isfinite(v)) { px = -1; continue; }
            int qx = chart_px(&c, l), qy = chart_py(&c, v);
            canvas_rect(cv, qx - 2, qy - 2, 5, 5, rgb);
            if (px >= 0) canvas_line(cv, px, py, qx, qy, rgb);
            px = qx;
            py = qy;
        }
    }
}

static void legend(tb_canvas *cv, const scan_truth *t, int x, int y) {
    static const unsigned char black[3] = {0, 0, 0};
    canvas_text(cv, x, y + 10, "measurement:", 1, 0, black);
    for (int k = 0; k < t->n_meas; k++) {
        unsigned char rgb[3];
        meas_rgb(k, t->n_meas, rgb);
        canvas_rect(cv, x, y + 30 + 16 * k, 18, 6, rgb);
        canvas_text(cv, x + 24, y + 28 + 16 * k, t->name[k], 1, 0, black);
    }
}

int scan_truth_figure(const char *path, const scan_truth *t, const rep_set *model, char *err) {
    int m[CMP_N_METRICS], nm = drawn_metrics(m), slots = nm + 1;
    int rows = (slots + PANEL_COLS - 1) / PANEL_COLS;
    tb_canvas cv;
    if (canvas_init(&cv, PANEL_COLS * PANEL_W + 20, rows * PANEL_H + 50, err)) return -1;
    static const unsigned char black[3] = {0, 0, 0};
    char head[400];
    snprintf(head, sizeof head, "the true code vs its measurements: every metric, %d model layers (x: 0 = %s)", t->n_layers,
             model->layer[0].name);
    canvas_text(&cv, 10, 8, head, 1, 0, black);
    for (int i = 0; i < nm; i++) panel(&cv, t, m[i], 10 + (i % PANEL_COLS) * PANEL_W, 30 + (i / PANEL_COLS) * PANEL_H);
    legend(&cv, t, 10 + (nm % PANEL_COLS) * PANEL_W, 30 + (nm / PANEL_COLS) * PANEL_H);
    int rc = canvas_save_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}

int scan_truth_write_tsv(const char *path, const scan_truth *t, const rep_set *model, char *err) {
    int cols = 4 + cmp_n_metrics, rows = t->n_meas * t->n_layers;
    const char **head = malloc((size_t)cols * sizeof *head);
    char **cells = calloc((size_t)rows * cols, sizeof *cells);
    int rc = head && cells ? 0 : tb_fail(err, "out of memory");
    if (head) {
        head[0] = "measurement"; head[1] = "units"; head[2] = "trials"; head[3] = "layer";
        for (int i = 0; i < cmp_n_metrics; i++) head[4 + i] = cmp_metrics[i].key;
    }
    for (int k = 0; !rc && k < t->n_meas; k++)
        for (int l = 0; l < t->n_layers; l++) {
            char **row = cells + ((size_t)k * t->n_layers + l) * cols;
            row[0] = tb_strf("%s", t->name[k]);
            row[1] = tb_strf("%d", t->units[k]);
            row[2] = tb_strf("%d", t->trials[k]);
            row[3] = tb_strf("%s", model->layer[l].name);
            for (int i = 0; i < cmp_n_metrics; i++) row[4 + i] = tb_strf("%.6g", cmp_value(scan_truth_at(t, k, l), i));
        }
    for (int i = 0; !rc && i < rows * cols; i++)
        if (!cells[i]) rc = tb_fail(err, "out of memory");
    if (!rc) rc = tsv_write(path, cols, head, rows, (const char *const *)cells, err);
    for (int i = 0; cells && i < rows * cols; i++) free(cells[i]);
    free(cells);
    free(head);
    return rc;
}
