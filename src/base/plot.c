/* plot.c -- pictures (see plot.h): colormaps, a small RGB canvas with text, labelled
 * heatmaps with a colour bar, and line plots rendered by gnuplot.
 *
 * Heatmaps (RDMs in lesson 10, attention maps in lesson 07, the category matrix in
 * lesson 01) are drawn here pixel by pixel and saved with stb_image_write; text uses
 * stb_easy_font's segment glyphs, rasterised at an integer scale.  Line plots are
 * data + script for gnuplot, so a student can open the .gp file, change it and re-run
 * it; without gnuplot the two files stay and the caller says how to render them.
 */
#include "plot.h"
#include "io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>

/* ======================================================================== */
/* colormaps                                                                */
/* ======================================================================== */
/* Anchor colours at t = 0, 1/8, ..., 1, interpolated linearly in RGB.  The viridis-
 * and magma-like tables were picked by eye to rise monotonically in lightness (the
 * property that makes them readable in grey print and for colour-blind readers). */
static const unsigned char VIRIDIS[9][3] = {
    {68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
    {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
static const unsigned char MAGMA[9][3] = {
    {0, 0, 4},       {28, 16, 68},   {79, 18, 123},  {129, 37, 129}, {181, 54, 122},
    {229, 80, 100},  {251, 135, 97}, {254, 194, 135}, {252, 253, 191}};
static const unsigned char DIVERGING[9][3] = {
    {33, 102, 172},  {67, 147, 195},  {146, 197, 222}, {209, 229, 240}, {247, 247, 247},
    {253, 219, 199}, {244, 165, 130}, {214, 96, 77},   {178, 24, 43}};

void cmap_rgb(tb_cmap map, double t, unsigned char rgb[3]) {
    if (!(t >= 0)) t = 0; /* also catches NaN */
    if (t > 1) t = 1;
    if (map == CMAP_GRAY) {
        rgb[0] = rgb[1] = rgb[2] = (unsigned char)lround(255 * t);
        return;
    }
    const unsigned char (*tab)[3] = map == CMAP_MAGMA ? MAGMA : map == CMAP_DIVERGING ? DIVERGING : VIRIDIS;
    double u = t * 8;
    int i = (int)u;
    if (i > 7) i = 7;
    double f = u - i;
    for (int c = 0; c < 3; c++) rgb[c] = (unsigned char)lround(tab[i][c] + f * (tab[i + 1][c] - tab[i][c]));
}

/* ======================================================================== */
/* canvas                                                                   */
/* ======================================================================== */
static const unsigned char BLACK[3] = {0, 0, 0}, GREY[3] = {128, 128, 128}, LIGHTGREY[3] = {200, 200, 200};

int canvas_init(tb_canvas *c, int w, int h, char *err) {
    c->w = c->h = 0;
    c->px = NULL;
    if (w <= 0 || h <= 0 || w > 20000 || h > 20000)
        return tb_fail(err, "canvas size %dx%d is out of range", w, h);
    c->px = malloc((size_t)w * h * 3);
    if (!c->px) return tb_fail(err, "out of memory for a %dx%d picture", w, h);
    memset(c->px, 255, (size_t)w * h * 3);
    c->w = w;
    c->h = h;
    return 0;
}

void canvas_free(tb_canvas *c) {
    free(c->px);
    c->px = NULL;
    c->w = c->h = 0;
}

static inline void put_px(tb_canvas *c, int x, int y, const unsigned char rgb[3]) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    unsigned char *p = c->px + ((size_t)y * c->w + x) * 3;
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
}

void canvas_rect(tb_canvas *c, int x, int y, int w, int h, const unsigned char rgb[3]) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
    for (int j = y0; j < y1; j++)
        for (int i = x0; i < x1; i++) put_px(c, i, j, rgb);
}

/* Bresenham: every pixel the ideal line passes closest to, both end points included. */
void canvas_line(tb_canvas *c, int x0, int y0, int x1, int y1, const unsigned char rgb[3]) {
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        put_px(c, x0, y0, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}

/* stb_easy_font takes printable ASCII only: anything else becomes '?'. */
static void ascii_copy(char *dst, size_t n, const char *s) {
    size_t i = 0;
    for (; s && s[i] && i + 1 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[i] = (ch >= 32 && ch < 127) || ch == '\n' ? (char)ch : '?';
    }
    dst[i] = 0;
}

int canvas_text_width(const char *s, int scale) {
    char buf[1024];
    ascii_copy(buf, sizeof buf, s);
    return stb_easy_font_width(buf) * (scale < 1 ? 1 : scale);
}

int canvas_text(tb_canvas *c, int x, int y, const char *s, int scale, int vertical,
                const unsigned char rgb[3]) {
    char buf[1024];
    ascii_copy(buf, sizeof buf, s);
    if (scale < 1) scale = 1;
    static float quads[4 * 4 * 4000]; /* 4 vertices x (x,y,z,colour) per quad */
    int nq = stb_easy_font_print(0, 0, buf, NULL, quads, (int)sizeof quads);
    for (int q = 0; q < nq; q++) {
        const float *v = quads + q * 16; /* vertices 0 and 2 are opposite corners */
        int u0 = (int)lroundf(v[0]), v0 = (int)lroundf(v[1]);
        int u1 = (int)lroundf(v[8]), v1 = (int)lroundf(v[9]);
        if (u1 < u0) { int t = u0; u0 = u1; u1 = t; }
        if (v1 < v0) { int t = v0; v0 = v1; v1 = t; }
        for (int b = v0 * scale; b < v1 * scale; b++)
            for (int a = u0 * scale; a < u1 * scale; a++) {
                /* text space (a along the line, b down) -> picture */
                if (vertical) put_px(c, x + b, y - a, rgb);
                else put_px(c, x + a, y + b, rgb);
            }
    }
    return stb_easy_font_width(buf) * scale;
}

typedef struct { unsigned char *buf; size_t n, cap; int bad; } membuf;

static void mem_write(void *ctx, void *data, int size) {
    membuf *m = ctx;
    if (m->bad || size <= 0) return;
    if (m->n + (size_t)size > m->cap) {
        size_t cap = (m->cap ? 2 * m->cap : 65536) + (size_t)size;
        unsigned char *nb = realloc(m->buf, cap);
        if (!nb) { m->bad = 1; return; }
        m->buf = nb;
        m->cap = cap;
    }
    memcpy(m->buf + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

int canvas_save_png(const tb_canvas *c, const char *path, char *err) {
    membuf m = {NULL, 0, 0, 0};
    if (!stbi_write_png_to_func(mem_write, &m, c->w, c->h, 3, c->px, c->w * 3) || m.bad) {
        free(m.buf);
        return tb_fail(err, "%s: PNG encoding failed", path);
    }
    tb_atomic a;
    if (atomic_begin(&a, path, err)) { free(m.buf); return -1; }
    int bad = fwrite(m.buf, 1, m.n, a.f) != m.n;
    free(m.buf);
    if (bad) {
        atomic_abort(&a);
        return tb_fail(err, "%s: write failed (%s)", path, strerror(errno));
    }
    return atomic_commit(&a, err);
}

/* ======================================================================== */
/* charts                                                                   */
/* ======================================================================== */
/* A round tick spacing (1, 2 or 5 times a power of ten) giving about `target` ticks. */
static double nice_step(double range, int target) {
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

int chart_px(const tb_chart *c, double x) {
    return c->x + (int)lround((x - c->x0) / (c->x1 - c->x0) * (c->w - 1));
}

int chart_py(const tb_chart *c, double y) {
    return c->y + c->h - 1 - (int)lround((y - c->y0) / (c->y1 - c->y0) * (c->h - 1));
}

/* Ticks with their numbers below the x axis and left of the y axis (with grid lines). */
static void chart_ticks(tb_canvas *cv, const tb_chart *c) {
    char buf[32];
    int nx = c->w / 60 < 2 ? 2 : c->w / 60 > 8 ? 8 : c->w / 60;   /* narrow panels: fewer, readable ticks */
    double sx = nice_step(c->x1 - c->x0, nx), sy = nice_step(c->y1 - c->y0, 4);
    for (double t = ceil(c->x0 / sx) * sx; t <= c->x1 + 1e-9 * sx; t += sx) {
        int px = chart_px(c, t);
        canvas_line(cv, px, c->y + c->h, px, c->y + c->h + 4, BLACK);
        snprintf(buf, sizeof buf, "%g", fabs(t) < 1e-9 * sx ? 0.0 : t);
        canvas_text(cv, px - canvas_text_width(buf, 1) / 2, c->y + c->h + 6, buf, 1, 0, BLACK);
    }
    for (double t = ceil(c->y0 / sy) * sy; t <= c->y1 + 1e-9 * sy; t += sy) {
        int py = chart_py(c, t);
        canvas_line(cv, c->x - 4, py, c->x, py, BLACK);
        canvas_line(cv, c->x + 1, py, c->x + c->w - 2, py, LIGHTGREY);
        snprintf(buf, sizeof buf, "%g", fabs(t) < 1e-9 * sy ? 0.0 : t);
        canvas_text(cv, c->x - 6 - canvas_text_width(buf, 1), py - 4, buf, 1, 0, BLACK);
    }
}

void chart_axes(tb_canvas *cv, const tb_chart *c, const char *xlabel, const char *ylabel,
                const char *title) {
    chart_ticks(cv, c);
    int right = c->x + c->w - 1, bottom = c->y + c->h - 1;
    canvas_line(cv, c->x, c->y, right, c->y, BLACK);
    canvas_line(cv, c->x, bottom, right, bottom, BLACK);
    canvas_line(cv, c->x, c->y, c->x, bottom, BLACK);
    canvas_line(cv, right, c->y, right, bottom, BLACK);
    if (xlabel)
        canvas_text(cv, c->x + c->w / 2 - canvas_text_width(xlabel, 1) / 2, c->y + c->h + 18, xlabel, 1, 0, BLACK);
    if (ylabel)
        canvas_text(cv, c->x - 48, c->y + c->h / 2 + canvas_text_width(ylabel, 1) / 2, ylabel, 1, 1, BLACK);
    if (title) canvas_text(cv, c->x, c->y - 14, title, 1, 0, BLACK);
}

void chart_trace(tb_canvas *cv, const tb_chart *c, const float *y, long n, double x_start,
                 double dx, const unsigned char rgb[3]) {
    int prev_lo = -1, prev_hi = -1;
    for (int col = 0; col < c->w; col++) {
        /* the samples that fall in this pixel column */
        double xa = c->x0 + (c->x1 - c->x0) * col / c->w, xb = c->x0 + (c->x1 - c->x0) * (col + 1) / c->w;
        long ka = (long)ceil((xa - x_start) / dx), kb = (long)ceil((xb - x_start) / dx);
        if (ka < 0) ka = 0;
        if (kb > n) kb = n;
        if (ka >= kb) continue;
        float lo = y[ka], hi = y[ka];
        for (long k = ka; k < kb; k++) { if (y[k] < lo) lo = y[k]; if (y[k] > hi) hi = y[k]; }
        double clo = fmax(c->y0, fmin(c->y1, lo)), chi = fmax(c->y0, fmin(c->y1, hi));
        int plo = chart_py(c, clo), phi = chart_py(c, chi);
        if (prev_lo >= 0) { /* join to the previous column */
            if (phi > prev_lo) phi = prev_lo;
            if (plo < prev_hi) plo = prev_hi;
        }
        canvas_line(cv, c->x + col, plo, c->x + col, phi, rgb);
        prev_lo = chart_py(c, clo);
        prev_hi = chart_py(c, chi);
    }
}

/* ======================================================================== */
/* heatmaps                                                                 */
/* ======================================================================== */
#define TEXT_H 8 /* glyph height at scale 1 (capitals 7 px + 1 px descender room) */

/* A short number for ticks: 3 significant digits, no trailing noise. */
static void fmt_num(char *b, size_t n, double v) {
    if (v == 0) snprintf(b, n, "0");
    else if (fabs(v) >= 1e4 || fabs(v) < 1e-3) snprintf(b, n, "%.2e", v);
    else snprintf(b, n, "%.3g", v);
}

static void data_range(const float *const *mats, int n, size_t size, double *lo, double *hi) {
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < size; i++) {
            double v = mats[k][i];
            if (!isfinite(v)) continue;
            if (v < *lo) *lo = v;
            if (v > *hi) *hi = v;
        }
    if (*lo > *hi) { *lo = 0; *hi = 1; } /* all NaN */
}

/* Longest label width (scale 1), or 0 when there are none. */
static int max_label_w(const char *const *labels, int n) {
    int w = 0;
    for (int i = 0; labels && i < n; i++)
        if (labels[i]) {
            int x = canvas_text_width(labels[i], 1);
            if (x > w) w = x;
        }
    return w;
}

/* Which labels to draw: every `step`-th so that consecutive ones are >= min_gap px apart. */
static int label_step(int cell, int min_gap) {
    int step = 1;
    while (step * cell < min_gap) step++;
    return step;
}

typedef struct {
    int rows, cols, cell;
    int panel_w, panel_h;       /* the cells */
    int left, top, right, bottom; /* margins around the whole grid */
    int gap_x, gap_y;           /* between panels */
    int rlab_w, clab_h;         /* room for row / column labels */
    int vertical_cols;          /* column labels drawn vertically */
} hm_layout;

static void layout_heatmap(hm_layout *L, int rows, int cols, int npan, int gcols, const tb_heatmap *o) {
    int grows = (npan + gcols - 1) / gcols;
    int cell = o->cell_px;
    if (cell <= 0) {
        int target = npan > 1 ? 900 / gcols : 560;
        int big = rows > cols ? rows : cols;
        cell = target / (big ? big : 1);
        if (cell < 1) cell = 1;
        if (cell > 48) cell = 48;
    }
    L->rows = rows;
    L->cols = cols;
    L->cell = cell;
    L->panel_w = cols * cell;
    L->panel_h = rows * cell;
    int rstep = label_step(cell, TEXT_H + 2);
    (void)rstep;
    L->rlab_w = o->row_labels ? max_label_w(o->row_labels, rows) : canvas_text_width("0000", 1);
    int cw = o->col_labels ? max_label_w(o->col_labels, cols) : canvas_text_width("0000", 1);
    L->vertical_cols = o->col_labels && cw + 4 > cell * label_step(cell, TEXT_H + 2);
    L->clab_h = L->vertical_cols ? cw : TEXT_H;
    L->left = 12 + (o->ylabel && *o->ylabel ? TEXT_H + 8 : 0) + L->rlab_w + 6;
    L->top = (o->title && *o->title ? 2 * TEXT_H + 14 : 10) + (npan > 1 ? TEXT_H + 6 : 0);
    L->right = 24 + 16 + 8 + canvas_text_width("-0.000", 1) + TEXT_H + 16;
    L->bottom = 8 + L->clab_h + 8 + (o->xlabel && *o->xlabel ? TEXT_H + 10 : 0);
    L->gap_x = npan > 1 ? L->rlab_w + 20 : 0;
    L->gap_y = npan > 1 ? L->clab_h + 2 * TEXT_H + 20 : 0;
    (void)grows;
}

static void draw_panel(tb_canvas *cv, int x0, int y0, const float *M, const hm_layout *L,
                       const tb_heatmap *o, double lo, double hi, int draw_rlab, int draw_clab,
                       const char *title) {
    double span = hi - lo;
    for (int i = 0; i < L->rows; i++)
        for (int j = 0; j < L->cols; j++) {
            double v = M[(size_t)i * L->cols + j];
            unsigned char rgb[3];
            if (isnan(v)) memcpy(rgb, LIGHTGREY, 3);
            else cmap_rgb(o->cmap, span > 0 ? (v - lo) / span : 0.5, rgb);
            canvas_rect(cv, x0 + j * L->cell, y0 + i * L->cell, L->cell, L->cell, rgb);
        }
    /* frame */
    canvas_line(cv, x0 - 1, y0 - 1, x0 + L->panel_w, y0 - 1, GREY);
    canvas_line(cv, x0 - 1, y0 + L->panel_h, x0 + L->panel_w, y0 + L->panel_h, GREY);
    canvas_line(cv, x0 - 1, y0 - 1, x0 - 1, y0 + L->panel_h, GREY);
    canvas_line(cv, x0 + L->panel_w, y0 - 1, x0 + L->panel_w, y0 + L->panel_h, GREY);
    if (title && *title)
        canvas_text(cv, x0 + L->panel_w / 2 - canvas_text_width(title, 1) / 2, y0 - TEXT_H - 6, title, 1, 0, BLACK);
    char num[32];
    if (draw_rlab) {
        int step = label_step(L->cell, o->row_labels ? TEXT_H + 2 : 24);
        for (int i = 0; i < L->rows; i += step) {
            const char *s = o->row_labels ? o->row_labels[i] : (snprintf(num, sizeof num, "%d", i), num);
            if (!s) continue;
            int yc = y0 + i * L->cell + L->cell / 2;
            canvas_text(cv, x0 - 6 - canvas_text_width(s, 1), yc - TEXT_H / 2 + 1, s, 1, 0, BLACK);
        }
    }
    if (draw_clab) {
        int step = label_step(L->cell, L->vertical_cols ? TEXT_H + 2 : (o->col_labels ? max_label_w(o->col_labels, L->cols) + 6 : 30));
        for (int j = 0; j < L->cols; j += step) {
            const char *s = o->col_labels ? o->col_labels[j] : (snprintf(num, sizeof num, "%d", j), num);
            if (!s) continue;
            int xc = x0 + j * L->cell + L->cell / 2;
            if (L->vertical_cols)
                canvas_text(cv, xc - TEXT_H / 2 + 1, y0 + L->panel_h + 6 + canvas_text_width(s, 1), s, 1, 1, BLACK);
            else
                canvas_text(cv, xc - canvas_text_width(s, 1) / 2, y0 + L->panel_h + 6, s, 1, 0, BLACK);
        }
    }
}

static void draw_colorbar(tb_canvas *cv, int x, int y, int h, const tb_heatmap *o, double lo, double hi) {
    const int w = 16;
    for (int k = 0; k < h; k++) {
        unsigned char rgb[3];
        cmap_rgb(o->cmap, h > 1 ? 1.0 - (double)k / (h - 1) : 0.5, rgb);
        canvas_rect(cv, x, y + k, w, 1, rgb);
    }
    canvas_line(cv, x - 1, y - 1, x + w, y - 1, GREY);
    canvas_line(cv, x - 1, y + h, x + w, y + h, GREY);
    canvas_line(cv, x - 1, y - 1, x - 1, y + h, GREY);
    canvas_line(cv, x + w, y - 1, x + w, y + h, GREY);
    char b[32];
    double vals[3] = {hi, 0.5 * (lo + hi), lo};
    int ys[3] = {y, y + h / 2, y + h - 1};
    int tw = 0;
    for (int k = 0; k < 3; k++) {
        if (k == 1 && h < 3 * TEXT_H) continue;
        fmt_num(b, sizeof b, vals[k]);
        canvas_line(cv, x + w, ys[k], x + w + 4, ys[k], BLACK);
        int t = canvas_text(cv, x + w + 7, ys[k] - TEXT_H / 2 + 1, b, 1, 0, BLACK);
        if (t > tw) tw = t;
    }
    if (o->cbar_label && *o->cbar_label) {
        int lw = canvas_text_width(o->cbar_label, 1);
        canvas_text(cv, x + w + 7 + tw + 8, y + h / 2 + lw / 2, o->cbar_label, 1, 1, BLACK);
    }
}

int plot_heatmap_grid_png(const char *path, const float *const *mats, int n, int grid_cols,
                          int rows, int cols, const char *const *titles,
                          const tb_heatmap *opt, char *err) {
    if (n < 1 || rows < 1 || cols < 1) return tb_fail(err, "%s: empty heatmap (%d panels of %dx%d)", path, n, rows, cols);
    if (grid_cols < 1) grid_cols = 1;
    if (grid_cols > n) grid_cols = n;
    int grows = (n + grid_cols - 1) / grid_cols;
    hm_layout L;
    layout_heatmap(&L, rows, cols, n, grid_cols, opt);
    double lo = opt->vmin, hi = opt->vmax;
    if (isnan(lo) || isnan(hi)) {
        double dlo, dhi;
        data_range(mats, n, (size_t)rows * cols, &dlo, &dhi);
        if (isnan(lo)) lo = dlo;
        if (isnan(hi)) hi = dhi;
    }
    if (hi < lo) { double t = lo; lo = hi; hi = t; }
    int grid_w = grid_cols * L.panel_w + (grid_cols - 1) * L.gap_x;
    int grid_h = grows * L.panel_h + (grows - 1) * L.gap_y;
    int W = L.left + grid_w + L.right, H = L.top + grid_h + L.bottom;
    int title_w = opt->title ? canvas_text_width(opt->title, 2) + 40 : 0;
    if (W < title_w) W = title_w;
    if (W < 320) W = 320;
    tb_canvas cv;
    if (canvas_init(&cv, W, H, err)) return -1;
    if (opt->title && *opt->title) canvas_text(&cv, 10, 8, opt->title, 2, 0, BLACK);
    for (int k = 0; k < n; k++) {
        int gx = k % grid_cols, gy = k / grid_cols;
        int x0 = L.left + gx * (L.panel_w + L.gap_x), y0 = L.top + gy * (L.panel_h + L.gap_y);
        int last_row = gy == grows - 1 || k + grid_cols >= n;
        draw_panel(&cv, x0, y0, mats[k], &L, opt, lo, hi, gx == 0 || n > 1, last_row || n > 1,
                   titles ? titles[k] : NULL);
    }
    if (opt->ylabel && *opt->ylabel) {
        int lw = canvas_text_width(opt->ylabel, 1);
        canvas_text(&cv, 10, L.top + grid_h / 2 + lw / 2, opt->ylabel, 1, 1, BLACK);
    }
    if (opt->xlabel && *opt->xlabel) {
        int lw = canvas_text_width(opt->xlabel, 1);
        canvas_text(&cv, L.left + grid_w / 2 - lw / 2, H - TEXT_H - 8, opt->xlabel, 1, 0, BLACK);
    }
    draw_colorbar(&cv, L.left + grid_w + 24, L.top, grid_h, opt, lo, hi);
    int rc = canvas_save_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}

int plot_heatmap_png(const char *path, const float *M, int rows, int cols,
                     const tb_heatmap *opt, char *err) {
    const float *mats[1] = {M};
    return plot_heatmap_grid_png(path, mats, 1, 1, rows, cols, NULL, opt, err);
}

/* ======================================================================== */
/* line plots through gnuplot                                               */
/* ======================================================================== */

int plot_have_gnuplot(void) {
    /* TINYBRAIN_GNUPLOT=0: never start gnuplot (no child process; for emulated test runs) */
    const char *sw = getenv("TINYBRAIN_GNUPLOT");
    if (sw && !strcmp(sw, "0")) return 0;
    const char *path = getenv("PATH");
    if (!path || !*path) return 0;
    char dir[1024];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof dir - 10) {
            memcpy(dir, path, n);
            snprintf(dir + n, sizeof dir - n, "/gnuplot");
            if (access(dir, X_OK) == 0) return 1;
        }
        path += n;
        if (*path == ':') path++;
    }
    return 0;
}

/* A gnuplot double-quoted string: backslash and quote escaped. */
static void gp_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if (*s == '\n') { fputs("\\n", f); continue; }
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *SERIES_COLOURS[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                       "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};

static int write_dat(const char *path, const tb_series *s, int ns, const tb_band *b, int nb, char *err) {
    tb_atomic a;
    if (atomic_begin(&a, path, err)) return -1;
    for (int k = 0; k < nb; k++) {   /* bands first: x lo hi */
        fprintf(a.f, "# %s\n", b[k].label ? b[k].label : "");
        for (int i = 0; i < b[k].n; i++)
            if (isfinite(b[k].lo[i]) && isfinite(b[k].hi[i]))
                fprintf(a.f, "%.9g\t%.9g\t%.9g\t%.9g\n", b[k].x ? b[k].x[i] : i, b[k].lo[i], b[k].hi[i],
                        b[k].mid && isfinite(b[k].mid[i]) ? b[k].mid[i] : NAN);
        fprintf(a.f, "\n\n");
    }
    for (int k = 0; k < ns; k++) {
        fprintf(a.f, "# %s\n", s[k].label ? s[k].label : "");
        for (int i = 0; i < s[k].n; i++) {
            double x = s[k].x ? s[k].x[i] : i, y = s[k].y[i];
            if (isfinite(x) && isfinite(y)) fprintf(a.f, "%.9g\t%.9g\n", x, y);
            else fprintf(a.f, "%.9g\tNaN\n", x);
        }
        fprintf(a.f, "\n\n");
    }
    return atomic_commit(&a, err);
}

/* 1 when every x is an integer within 0..40 (layers, positions): one tick per value. */
static int small_integer_x(const tb_series *s, int ns, const tb_band *b, int nb) {
    int any = 0;
    for (int k = 0; k < ns + nb; k++) {
        const double *x = k < ns ? s[k].x : b[k - ns].x;
        int n = k < ns ? s[k].n : b[k - ns].n;
        for (int i = 0; i < n; i++) {
            double v = x ? x[i] : i;
            if (v != floor(v) || v < 0 || v > 40) return 0;
            any = 1;
        }
    }
    return any;
}

static int write_gp(const char *gp, const char *dat, const char *png, const tb_lineplot *o,
                    const tb_series *s, int ns, const tb_band *b, int nb, char *err) {
    tb_atomic a;
    if (atomic_begin(&a, gp, err)) return -1;
    FILE *f = a.f;
    int w = o->width > 0 ? o->width : 800, h = o->height > 0 ? o->height : 500;
    fprintf(f, "# Written by tinybrain.  Render (from the folder tinybrain ran in): gnuplot %s\n", gp);
    fprintf(f, "if (!exists(\"outfile\")) outfile = ");
    gp_string(f, png);
    fprintf(f, "\nif (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
               "    set terminal pngcairo size %d,%d noenhanced font \"sans,10\"\n"
               "} else {\n    set terminal png size %d,%d noenhanced\n}\n", w, h, w, h);
    fprintf(f, "set output outfile\nset title ");
    gp_string(f, o->title ? o->title : "");
    fprintf(f, "\nset xlabel ");
    gp_string(f, o->xlabel ? o->xlabel : "");
    fprintf(f, "\nset ylabel ");
    gp_string(f, o->ylabel ? o->ylabel : "");
    fprintf(f, "\nset grid lc rgb \"#dddddd\"\nset key outside right top box opaque\n");
    if (small_integer_x(s, ns, b, nb)) fprintf(f, "set xtics 1\n");
    if (o->logx) fprintf(f, "set logscale x\n");
    if (o->logy) fprintf(f, "set logscale y\n");
    if (!isnan(o->ymin) || !isnan(o->ymax)) {
        fprintf(f, "set yrange [");
        if (!isnan(o->ymin)) fprintf(f, "%.9g", o->ymin);
        fprintf(f, ":");
        if (!isnan(o->ymax)) fprintf(f, "%.9g", o->ymax);
        fprintf(f, "]\n");
    }
    fprintf(f, "plot ");
    int first = 1;
    for (int k = 0; k < nb; k++) {   /* under the lines, in their own colours from the end */
        if (b[k].n <= 0) continue;
        fprintf(f, "%s", first ? "" : ", \\\n     ");
        first = 0;
        gp_string(f, dat);
        const char *col = SERIES_COLOURS[(9 - k % 10)];
        fprintf(f, " index %d using 1:2:3 with filledcurves fs transparent solid 0.15 noborder lc rgb \"%s\" title ", k, col);
        gp_string(f, b[k].label ? b[k].label : "");
        if (b[k].mid) {
            fprintf(f, ", \\\n     ");
            gp_string(f, dat);
            fprintf(f, " index %d using 1:4 with lines lw 2 dt 2 lc rgb \"%s\" notitle", k, col);
        }
    }
    for (int k = 0; k < ns; k++) {
        if (s[k].n <= 0) continue;
        const char *st = s[k].style ? s[k].style : "lines";
        const char *col = SERIES_COLOURS[k % 10];
        fprintf(f, "%s", first ? "" : ", \\\n     ");
        first = 0;
        gp_string(f, dat);
        fprintf(f, " index %d using 1:2 ", nb + k);
        if (!strcmp(st, "points")) fprintf(f, "with points pt 7 ps 0.6 lc rgb \"%s\"", col);
        else if (!strcmp(st, "linespoints")) fprintf(f, "with linespoints lw 2 pt 7 ps 0.6 lc rgb \"%s\"", col);
        else if (!strcmp(st, "dashed")) fprintf(f, "with lines lw 2 dt 2 lc rgb \"%s\"", col);
        else if (!strcmp(st, "steps")) fprintf(f, "with steps lw 2 lc rgb \"%s\"", col);
        else fprintf(f, "with lines lw 2 lc rgb \"%s\"", col);
        fprintf(f, " title ");
        gp_string(f, s[k].label ? s[k].label : "");
    }
    if (first) fprintf(f, "NaN notitle");
    fprintf(f, "\n");
    return atomic_commit(&a, err);
}

/* Run gnuplot on the script with outfile set to tmp; 0 when it exited cleanly. */
static int run_gnuplot(const char *gp, const char *tmp, const char *errpath, char *err) {
    char expr[1300];
    snprintf(expr, sizeof expr, "outfile='%s'", tmp);
    if (strchr(tmp, '\'')) return tb_fail(err, "%s: quote in the output path", tmp);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return tb_fail(err, "cannot start gnuplot (%s)", strerror(errno));
    if (pid == 0) {
        FILE *e = fopen(errpath, "w");
        if (e) dup2(fileno(e), 2);
        FILE *nul = fopen("/dev/null", "w");
        if (nul) dup2(fileno(nul), 1);
        execlp("gnuplot", "gnuplot", "-e", expr, gp, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return tb_fail(err, "gnuplot: wait failed");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    char line[300] = "";
    FILE *e = fopen(errpath, "r");
    if (e) {
        /* the last non-empty line of gnuplot's complaint is the informative one */
        char buf[300];
        while (fgets(buf, sizeof buf, e))
            if (strspn(buf, " \t\n^") < strlen(buf)) memcpy(line, buf, sizeof line);
        fclose(e);
    }
    line[strcspn(line, "\n")] = 0;
    return tb_fail(err, "gnuplot failed on %s%s%s", gp, *line ? ": " : "", line);
}

int plot_lines(const char *dir, const char *name, const tb_lineplot *opt,
               const tb_series *series, int n_series, int *rendered, char *err) {
    return plot_lines_bands(dir, name, opt, series, n_series, NULL, 0, rendered, err);
}

int plot_lines_bands(const char *dir, const char *name, const tb_lineplot *opt, const tb_series *series,
                     int n_series, const tb_band *bands, int n_bands, int *rendered, char *err) {
    if (rendered) *rendered = 0;
    if (make_dirs(dir, err)) return -1;
    char dat[1100], gp[1100], png[1100], tmp[1200], errp[1200];
    snprintf(dat, sizeof dat, "%s/%s.dat", dir, name);
    snprintf(gp, sizeof gp, "%s/%s.gp", dir, name);
    snprintf(png, sizeof png, "%s/%s.png", dir, name);
    if (write_dat(dat, series, n_series, bands, n_bands, err)) return -1;
    if (write_gp(gp, dat, png, opt, series, n_series, bands, n_bands, err)) return -1;
    if (!plot_have_gnuplot()) return 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.png", png, (long)getpid());
    snprintf(errp, sizeof errp, "%s.gnuplot-err.%ld", png, (long)getpid());
    int rc = run_gnuplot(gp, tmp, errp, err);
    remove(errp);
    struct stat st;
    if (rc == 0 && (stat(tmp, &st) != 0 || st.st_size == 0)) rc = tb_fail(err, "gnuplot wrote no picture for %s", gp);
    if (rc == 0 && rename(tmp, png) != 0) rc = tb_fail(err, "%s: cannot replace (%s)", png, strerror(errno));
    if (rc) { remove(tmp); return -1; }
    if (rendered) *rendered = 1;
    return 0;
}

/* ======================================================================== */
/* pictures named by a prefix                                               */
/* ======================================================================== */

/* PREFIX SUFFIX split at its last '/' into a folder ("." when there is none) and a name. */
static int split_at(const char *prefix, const char *suffix, char *dir, char *name, char *err) {
    char full[PLOT_PATHLEN];
    if (snprintf(full, sizeof full - 4, "%s%s", prefix, suffix) >= (int)sizeof full - 4)   /* room for ".png" */
        return tb_fail(err, "picture path too long (over %d characters): %.60s...", PLOT_PATHLEN - 5, prefix);
    const char *slash = strrchr(full, '/');
    if (slash) {
        snprintf(dir, PLOT_PATHLEN, "%.*s", (int)(slash - full), full);
        snprintf(name, PLOT_PATHLEN, "%s", slash + 1);
    } else {
        snprintf(dir, PLOT_PATHLEN, ".");
        snprintf(name, PLOT_PATHLEN, "%s", full);
    }
    return 0;
}

int plot_lines_at(const char *prefix, const char *suffix, const tb_lineplot *opt,
                  const tb_series *series, int n_series, tb_picture *pic, char *err) {
    char dir[PLOT_PATHLEN], name[PLOT_PATHLEN];
    if (split_at(prefix, suffix, dir, name, err)) return -1;
    if (plot_lines(dir, name, opt, series, n_series, &pic->rendered, err)) return -1;
    int len = snprintf(pic->path, sizeof pic->path, "%s/%s.%s", dir, name, pic->rendered ? "png" : "gp");
    return len < (int)sizeof pic->path ? 0 : tb_fail(err, "picture path too long: %.60s...", dir);
}

int canvas_save_at(const tb_canvas *c, const char *prefix, const char *suffix, tb_picture *pic,
                   char *err) {
    if (snprintf(pic->path, sizeof pic->path, "%s%s.png", prefix, suffix) >= (int)sizeof pic->path)
        return tb_fail(err, "picture path too long (over %d characters): %.60s...", PLOT_PATHLEN - 5, prefix);
    pic->rendered = 1;
    return canvas_save_png(c, pic->path, err);
}
