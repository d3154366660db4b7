/* continual.c -- EWC and the forgetting log of a continual run (see include/continual.h).
 * Lesson 18; the run itself (switching corpora, replay) is run.c. */
#include "continual.h"
#include "io.h"
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double ewc_penalty(const float *theta, const float *anchor, const float *fisher, size_t n, double lambda, float *grad) {
    double pen = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)theta[i] - anchor[i];
        pen += fisher[i] * d * d;
        if (grad) grad[i] += (float)(lambda * fisher[i] * d);
    }
    return 0.5 * lambda * pen;
}

void ewc_fisher_add(float *fisher, const float *grad, size_t n, double weight) {
    for (size_t i = 0; i < n; i++) fisher[i] += (float)(weight * grad[i] * grad[i]);
}

int cl_log_push(cl_log *g, const cl_point *pt, char *err) {
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        cl_point *p = realloc(g->p, (size_t)cap * sizeof *p);
        if (!p) return tb_fail(err, "out of memory for the forgetting log");
        g->p = p;
        g->cap = cap;
    }
    g->p[g->n++] = *pt;
    return 0;
}

void cl_log_free(cl_log *g) {
    free(g->p);
    memset(g, 0, sizeof *g);
}

#define CELL 32
int cl_write_tsv(const cl_log *g, double floor_a, double floor_b, const char *path, char *err) {
    static const char *const hdr[6] = {"step", "val_a", "excess_a", "val_b", "excess_b", "pairs_a"};
    char *buf = malloc((size_t)(g->n ? g->n : 1) * 6 * CELL);
    const char **cells = malloc((size_t)(g->n ? g->n : 1) * 6 * sizeof *cells);
    if (!buf || !cells) { free(buf); free(cells); return tb_fail(err, "out of memory writing %s", path); }
    for (int i = 0; i < g->n; i++) {
        const cl_point *p = &g->p[i];
        double v[6] = {p->step, p->val_a, p->val_a - floor_a, p->val_b, p->val_b - floor_b, p->pairs_a};
        for (int k = 0; k < 6; k++) {
            char *b = buf + ((size_t)i * 6 + k) * CELL;
            if (isnan(v[k])) b[0] = 0;
            else snprintf(b, CELL, k ? "%.6f" : "%.0f", v[k]);
            cells[(size_t)i * 6 + k] = b;
        }
    }
    int rc = tsv_write(path, 6, hdr, g->n, cells, err);
    free(buf);
    free(cells);
    return rc;
}

int cl_plot(const cl_log *g, double floor_a, double floor_b, double then_at, const char *dir, const char *name,
            int *rendered, char *err) {
    int n = g->n;
    double *x = malloc((size_t)(n ? n : 1) * 3 * sizeof(double)), lo = INFINITY, hi = -INFINITY;
    if (!x) return tb_fail(err, "out of memory");
    double *ya = x + n, *yb = ya + n;
    for (int i = 0; i < n; i++) {
        x[i] = g->p[i].step;
        ya[i] = g->p[i].val_a - floor_a;
        yb[i] = g->p[i].val_b - floor_b;
        double m = fmin(ya[i], yb[i]), M = fmax(ya[i], yb[i]);
        if (isfinite(m)) lo = fmin(lo, m);
        if (isfinite(M)) hi = fmax(hi, M);
    }
    double vx[2] = {then_at, then_at}, vy[2] = {isfinite(lo) ? fmin(lo, 0) : 0, isfinite(hi) ? hi : 1};
    tb_series s[3] = {{"language A: nats above its floor", x, ya, n, "linespoints"},
                      {"language B: nats above its floor", x, yb, n, "linespoints"},
                      {"training switches to B", vx, vy, 2, "dashed"}};
    tb_lineplot lp = {"Continual learning: forgetting A while learning B", "training step", "nats per token above the floor",
                      0, 0, NAN, NAN, 0, 0};
    int rc = plot_lines(dir, name, &lp, s, 3, rendered, err);
    free(x);
    return rc;
}
